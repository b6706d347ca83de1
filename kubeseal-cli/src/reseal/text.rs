//! Files as sequences of document texts, and the smallest sound edit of one
//! document.
//!
//! A YAML stream is cut at its `---` marker lines (at column 0 a marker always ends a
//! document, even inside a block scalar, so cutting lines is exact); a JSON file at
//! the ends of its top-level values. Concatenating the pieces gives the file back
//! byte for byte, so untouched documents stay exactly as they were.
//!
//! A changed SealedSecret is first edited in place: each old ciphertext (a long
//! random base64 string, so it occurs once) is replaced by the new one and the
//! fingerprint annotation is updated or inserted, on the top-level metadata and in
//! `spec.template.metadata`. The edited text is parsed again
//! and must equal the intended object; if it does not, the document is rendered
//! anew (leading comments and the marker line kept). Either way the result is
//! verified before it is used.

use serde::Deserialize as _;
use serde_json::Value;

/// The format of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    /// A YAML stream.
    Yaml,
    /// JSON values back to back.
    Json,
}

/// The format of a file's text: JSON if it starts with `{` or `[`.
pub fn detect(text: &str) -> FileFormat {
    match text.trim_start().chars().next() {
        Some('{' | '[') => FileFormat::Json,
        _ => FileFormat::Yaml,
    }
}

/// Whether a line is a YAML document marker (`---` alone or followed by a space).
fn is_marker(line: &str) -> bool {
    line.strip_prefix("---")
        .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t', '\n', '\r']))
}

/// Cuts a YAML stream into document texts (each starts at its marker line; text
/// before the first marker is a piece of its own).
pub fn split_yaml(text: &str) -> Vec<&str> {
    let mut pieces = Vec::new();
    let mut start = 0;
    let mut pos = 0;
    for line in text.split_inclusive('\n') {
        if is_marker(line) && pos > start {
            pieces.push(&text[start..pos]);
            start = pos;
        }
        pos += line.len();
    }
    if pos > start || pieces.is_empty() {
        pieces.push(&text[start..]);
    }
    pieces
}

/// Cuts a JSON text into its top-level values (each with the whitespace before it;
/// trailing whitespace is a last piece).
pub fn split_json(text: &str) -> Result<Vec<&str>, serde_json::Error> {
    let mut pieces = Vec::new();
    let mut stream = serde_json::Deserializer::from_str(text).into_iter::<serde::de::IgnoredAny>();
    let mut start = 0;
    while let Some(item) = stream.next() {
        item?;
        let end = stream.byte_offset();
        pieces.push(&text[start..end]);
        start = end;
    }
    if start < text.len() {
        pieces.push(&text[start..]);
    }
    Ok(pieces)
}

/// Parses one piece: `None` for a piece with no document (comments, whitespace).
pub fn parse_piece(piece: &str, format: FileFormat) -> Result<Option<Value>, String> {
    match format {
        FileFormat::Json => {
            if piece.trim().is_empty() {
                return Ok(None);
            }
            serde_json::from_str(piece)
                .map(Some)
                .map_err(|e| e.to_string())
        }
        FileFormat::Yaml => {
            let mut docs = serde_yaml_ng::Deserializer::from_str(piece)
                .map(Value::deserialize)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| e.to_string())?;
            match docs.len() {
                0 => Ok(None),
                1 => Ok(docs.pop().filter(|v| !v.is_null())),
                n => Err(format!("{n} documents where one was expected")),
            }
        }
    }
}

/// What to change in one document.
pub struct Edit<'a> {
    /// (old ciphertext, new ciphertext) pairs.
    pub replacements: Vec<(&'a str, &'a str)>,
    /// The annotation to set, on the top-level metadata and in the template.
    pub annotation_key: &'a str,
    /// Its current values on each changed SealedSecret of the document (one for a
    /// plain document, several for a `List`).
    pub annotation_old: Vec<OldAnnotation<'a>>,
    /// Its new value.
    pub annotation_new: &'a str,
}

/// The annotation's current value in its two places on one SealedSecret, `None`
/// where it is missing.
#[derive(Debug, Clone, Copy)]
pub struct OldAnnotation<'a> {
    /// On the top-level `metadata`.
    pub top: Option<&'a str>,
    /// In `spec.template.metadata`.
    pub template: Option<&'a str>,
}

/// Where the annotation map sits: the top-level metadata, the template's.
const TOP_METADATA: &[&str] = &["metadata"];
const TEMPLATE_METADATA: &[&str] = &["spec", "template", "metadata"];

/// The new text of `piece` whose parsed value must become `want`.
pub fn edit_piece(
    piece: &str,
    format: FileFormat,
    edit: &Edit<'_>,
    want: &Value,
) -> Result<String, String> {
    if let Some(text) = surgical(piece, format, edit)
        && parse_piece(&text, format).ok().flatten().as_ref() == Some(want)
    {
        return Ok(text);
    }
    let text = rerender(piece, format, want)?;
    match parse_piece(&text, format) {
        Ok(Some(v)) if &v == want => Ok(text),
        _ => Err("internal error: the re-rendered document does not read back the same".into()),
    }
}

fn replace_once(text: &str, old: &str, new: &str) -> Option<String> {
    let mut found = text.match_indices(old);
    let (at, _) = found.next()?;
    if found.next().is_some() {
        return None;
    }
    Some(format!("{}{new}{}", &text[..at], &text[at + old.len()..]))
}

fn surgical(piece: &str, format: FileFormat, edit: &Edit<'_>) -> Option<String> {
    let mut text = piece.to_owned();
    for (old, new) in &edit.replacements {
        if old != new {
            text = replace_once(&text, old, new)?;
        }
    }
    // Replace the old value on every line that holds the annotation key; the longest
    // first, as one list can begin with another.
    let mut olds: Vec<&str> = edit
        .annotation_old
        .iter()
        .flat_map(|o| [o.top, o.template])
        .flatten()
        .collect();
    olds.sort_by_key(|o| std::cmp::Reverse(o.len()));
    if !olds.is_empty() {
        let mut out = String::with_capacity(text.len());
        for line in text.split_inclusive('\n') {
            let Some(at) = line.find(edit.annotation_key) else {
                out.push_str(line);
                continue;
            };
            let after = at + edit.annotation_key.len();
            match olds
                .iter()
                .find_map(|old| line[after..].find(old).map(|i| (after + i, old.len())))
            {
                Some((i, len)) => {
                    out.push_str(&line[..i]);
                    out.push_str(edit.annotation_new);
                    out.push_str(&line[i + len..]);
                }
                None => out.push_str(line),
            }
        }
        text = out;
    }
    // Insert where it is missing; only in a plain document (in a `List` the places are
    // nested under `items`: rendered anew instead).
    let missing: Vec<&[&str]> = match edit.annotation_old.as_slice() {
        [one] => [(one.top, TOP_METADATA), (one.template, TEMPLATE_METADATA)]
            .into_iter()
            .filter(|(old, _)| old.is_none())
            .map(|(_, path)| path)
            .collect(),
        many if many.iter().all(|o| o.top.is_some() && o.template.is_some()) => Vec::new(),
        _ => return None,
    };
    for path in missing {
        text = match format {
            FileFormat::Yaml => insert_yaml(&text, edit, path)?,
            FileFormat::Json => insert_json(&text, edit, path)?,
        };
    }
    Some(text)
}

fn indent_of(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

fn is_content(line: &str) -> bool {
    let t = line.trim();
    !t.is_empty() && !t.starts_with('#')
}

/// Whether `line` is `key:` at `indent` opening a block (nothing after the colon but
/// a comment).
fn opens_block(line: &str, indent: usize, key: &str) -> bool {
    indent_of(line) == indent
        && line[indent..]
            .strip_prefix(key)
            .and_then(|rest| rest.strip_prefix(':'))
            .is_some_and(|rest| {
                let rest = rest.trim();
                rest.is_empty() || rest.starts_with('#')
            })
}

/// The block `key:` at `indent` among `lines[from..to]`: the index of its line, the
/// end of its block, and the indent of its first child.
fn find_block(
    lines: &[&str],
    (from, to): (usize, usize),
    indent: usize,
    key: &str,
) -> Option<(usize, usize, usize)> {
    let at = (from..to).find(|&i| opens_block(lines[i], indent, key))?;
    let end = (at + 1..to)
        .find(|&i| is_content(lines[i]) && indent_of(lines[i]) <= indent)
        .unwrap_or(to);
    let child = (at + 1..end).find(|&i| is_content(lines[i]))?;
    Some((at, end, indent_of(lines[child])))
}

/// Inserts the annotation into the block-style YAML mapping at `path` (each key a
/// block of the one before, the first at column 0).
fn insert_yaml(text: &str, edit: &Edit<'_>, path: &[&str]) -> Option<String> {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let (mut range, mut indent, mut step) = ((0, lines.len()), 0, None);
    let mut meta = 0;
    for key in path {
        let (at, end, child) = find_block(&lines, range, indent, key)?;
        if child <= indent {
            return None;
        }
        // The file's indentation step, for a new `annotations:` block.
        step.get_or_insert(child - indent);
        (range, indent, meta) = ((at + 1, end), child, at);
    }
    let step = step?;
    // Keep the file's line endings.
    let eol = if lines[meta].ends_with("\r\n") {
        "\r\n"
    } else {
        "\n"
    };
    let entry = |n: usize| {
        format!(
            "{}{}: {}{eol}",
            " ".repeat(n),
            edit.annotation_key,
            edit.annotation_new
        )
    };
    let (at, new_lines) = match find_block(&lines, range, indent, "annotations") {
        Some((ann, _, inner)) if inner > indent => (ann + 1, entry(inner)),
        Some(_) => return None,
        None if lines[range.0..range.1]
            .iter()
            .any(|l| l.trim_start().starts_with("annotations:")) =>
        {
            // A flow-style `annotations: {...}`: leave it to re-rendering.
            return None;
        }
        None => (
            range.0,
            format!(
                "{}annotations:{eol}{}",
                " ".repeat(indent),
                entry(indent + step)
            ),
        ),
    };
    let mut out = String::with_capacity(text.len() + new_lines.len());
    for line in &lines[..at] {
        out.push_str(line);
    }
    out.push_str(&new_lines);
    for line in &lines[at..] {
        out.push_str(line);
    }
    Some(out)
}

/// The end (exclusive) of the JSON value starting at `start`.
fn json_value_end(text: &str, start: usize) -> Option<usize> {
    let mut stream =
        serde_json::Deserializer::from_str(&text[start..]).into_iter::<serde::de::IgnoredAny>();
    stream.next()?.ok()?;
    Some(start + stream.byte_offset())
}

/// The offset of the `{` of the object at `path` (each key searched inside the object
/// found for the one before).
fn json_object_at(text: &str, path: &[&str]) -> Option<usize> {
    let (mut from, mut to) = (0, text.len());
    let mut open = None;
    for key in path {
        let name = format!("\"{key}\"");
        let at = from + text[from..to].find(&name)?;
        let brace = at + name.len() + text[at + name.len()..to].find('{')?;
        // Only `"key": {` (whitespace and the colon between).
        if text[at + name.len()..brace].trim() != ":" {
            return None;
        }
        (from, to) = (brace + 1, json_value_end(text, brace)?);
        open = Some(brace);
    }
    open
}

/// Inserts the annotation into the JSON object at `path`.
fn insert_json(text: &str, edit: &Edit<'_>, path: &[&str]) -> Option<String> {
    let open = json_object_at(text, path)?;
    let close = json_value_end(text, open)?;
    let ws_len = text[open + 1..].len() - text[open + 1..].trim_start().len();
    let ws = &text[open + 1..open + 1 + ws_len];
    let entry = format!("\"{}\": \"{}\"", edit.annotation_key, edit.annotation_new);
    let inner = if ws.contains('\n') {
        format!("{ws}  ")
    } else {
        " ".to_owned()
    };
    // Existing annotations inside this metadata object: add to them.
    let body_start = open + 1 + ws_len;
    if text[body_start..].starts_with('}') {
        return None;
    }
    if let Some(rel) = text[open..close].find("\"annotations\"") {
        let ann = open + rel;
        let ann_open = ann + text[ann..close].find('{')?;
        let aws_len = text[ann_open + 1..].len() - text[ann_open + 1..].trim_start().len();
        let aws = &text[ann_open + 1..ann_open + 1 + aws_len];
        let at = ann_open + 1 + aws_len;
        if let Some(out) = (!text[at..].starts_with('}'))
            .then(|| format!("{}{entry},{aws}{}", &text[..at], &text[at..]))
        {
            return Some(out);
        }
    }
    Some(format!(
        "{}\"annotations\": {{{inner}{entry}{ws}}},{ws}{}",
        &text[..body_start],
        &text[body_start..]
    ))
}

/// Renders `want` in place of `piece`, keeping its marker line and the comment and
/// blank lines around the document.
fn rerender(piece: &str, format: FileFormat, want: &Value) -> Result<String, String> {
    match format {
        FileFormat::Json => {
            let lead = &piece[..piece.len() - piece.trim_start().len()];
            let body = serde_json::to_string_pretty(want).map_err(|e| e.to_string())?;
            Ok(format!("{lead}{body}"))
        }
        FileFormat::Yaml => {
            let lines: Vec<&str> = piece.split_inclusive('\n').collect();
            let mut head = String::new();
            let mut first = 0;
            for (i, line) in lines.iter().enumerate() {
                let t = line.trim();
                let keep = if i == 0 && is_marker(line) {
                    let rest = t.trim_start_matches('-').trim_start();
                    rest.is_empty() || rest.starts_with('#')
                } else {
                    t.is_empty() || t.starts_with('#')
                };
                if !keep {
                    break;
                }
                head.push_str(line);
                first = i + 1;
            }
            if first == 0 && lines.first().is_some_and(|l| is_marker(l)) {
                head.push_str("---\n");
            }
            if !head.is_empty() && !head.ends_with('\n') {
                head.push('\n');
            }
            let mut tail_start = lines.len();
            while tail_start > first {
                let t = lines[tail_start - 1].trim();
                if t.is_empty() || t.starts_with('#') {
                    tail_start -= 1;
                } else {
                    break;
                }
            }
            let body = serde_yaml_ng::to_string(want).map_err(|e| e.to_string())?;
            let mut out = head;
            out.push_str(&body);
            for line in &lines[tail_start..] {
                out.push_str(line);
            }
            if !piece.ends_with('\n') && out.ends_with('\n') && tail_start == lines.len() {
                out.pop();
            }
            Ok(out)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn yaml_pieces_concatenate_to_the_input() {
        let text = "# head\na: 1\n---\n# c\nb: 2\n--- # x\nc: 3\n----\nd\n---";
        let pieces = split_yaml(text);
        assert_eq!(pieces.concat(), text);
        assert_eq!(pieces.len(), 4);
        assert_eq!(pieces[1], "---\n# c\nb: 2\n");
        assert_eq!(pieces[3], "---");
        assert_eq!(split_yaml(""), [""]);
    }

    #[test]
    fn json_pieces_concatenate_to_the_input() {
        let text = "{\"a\": 1}\n\n  {\"b\": [2]}\n";
        let pieces = split_json(text).unwrap();
        assert_eq!(pieces.concat(), text);
        assert_eq!(pieces, ["{\"a\": 1}", "\n\n  {\"b\": [2]}", "\n"]);
        assert!(split_json("{\"a\": ").is_err());
    }

    fn edit<'a>(top: Option<&'a str>, template: Option<&'a str>) -> Edit<'a> {
        Edit {
            replacements: vec![("OLDCIPHER", "NEWCIPHER")],
            annotation_key: "x.io/fp",
            annotation_old: vec![OldAnnotation { top, template }],
            annotation_new: "SHA256:new",
        }
    }

    /// The intended object: `extra` annotations on top of the new fingerprint, per place.
    fn want(top_extra: Value, template_extra: Value) -> Value {
        let with_fp = |extra: Value| {
            let mut a = extra;
            a["x.io/fp"] = json!("SHA256:new");
            a
        };
        json!({"kind": "SealedSecret",
            "metadata": {"name": "a", "annotations": with_fp(top_extra)},
            "spec": {"encryptedData": {"k": "NEWCIPHER"},
                     "template": {"metadata": {"name": "a", "annotations": with_fp(template_extra)}}}})
    }

    #[test]
    fn yaml_edit_keeps_comments_and_inserts_the_annotation_in_both_places() {
        let piece = "---\n# leading\nkind: SealedSecret\nmetadata:\n  name: a # trailing\nspec:\n  encryptedData:\n    k: OLDCIPHER # note\n  template: # kept\n    metadata:\n      name: a\n";
        let out = edit_piece(
            piece,
            FileFormat::Yaml,
            &edit(None, None),
            &want(json!({}), json!({})),
        )
        .unwrap();
        assert_eq!(
            out,
            "---\n# leading\nkind: SealedSecret\nmetadata:\n  annotations:\n    x.io/fp: SHA256:new\n  name: a # trailing\nspec:\n  encryptedData:\n    k: NEWCIPHER # note\n  template: # kept\n    metadata:\n      annotations:\n        x.io/fp: SHA256:new\n      name: a\n"
        );
    }

    #[test]
    fn yaml_edit_replaces_both_copies_in_place() {
        let piece = "kind: SealedSecret\nmetadata:\n    annotations:\n        x.io/fp: SHA256:old\n    name: a\nspec:\n    encryptedData:\n        k: 'OLDCIPHER'\n    template:\n        metadata:\n            annotations:\n                x.io/fp: SHA256:old\n            name: a\n";
        let out = edit_piece(
            piece,
            FileFormat::Yaml,
            &edit(Some("SHA256:old"), Some("SHA256:old")),
            &want(json!({}), json!({})),
        )
        .unwrap();
        assert_eq!(
            out,
            piece
                .replace("OLDCIPHER", "NEWCIPHER")
                .replace("SHA256:old", "SHA256:new")
        );
    }

    #[test]
    fn yaml_edit_adds_the_template_copy_to_a_top_level_only_document() {
        // What kubeseal wrote before the annotation went into the template too.
        let piece = "kind: SealedSecret\nmetadata:\n  annotations:\n    x.io/fp: SHA256:old\n  name: a\nspec:\n  template:\n    metadata:\n      annotations:\n        team: ops\n      name: a\n  encryptedData:\n    k: OLDCIPHER\n";
        let out = edit_piece(
            piece,
            FileFormat::Yaml,
            &edit(Some("SHA256:old"), None),
            &want(json!({}), json!({"team": "ops"})),
        )
        .unwrap();
        assert_eq!(
            out,
            "kind: SealedSecret\nmetadata:\n  annotations:\n    x.io/fp: SHA256:new\n  name: a\nspec:\n  template:\n    metadata:\n      annotations:\n        x.io/fp: SHA256:new\n        team: ops\n      name: a\n  encryptedData:\n    k: NEWCIPHER\n"
        );
    }

    #[test]
    fn yaml_edit_restores_the_top_level_copy_upstream_rotate_dropped() {
        let piece = "kind: SealedSecret\nmetadata:\n  annotations:\n    sealedsecrets.bitnami.com/namespace-wide: \"true\"\n  name: a\nspec:\n  encryptedData:\n    k: OLDCIPHER\n  template:\n    metadata:\n      annotations:\n        x.io/fp: SHA256:old\n      name: a\n";
        let out = edit_piece(
            piece,
            FileFormat::Yaml,
            &edit(None, Some("SHA256:old")),
            &want(
                json!({"sealedsecrets.bitnami.com/namespace-wide": "true"}),
                json!({}),
            ),
        )
        .unwrap();
        assert_eq!(
            out,
            "kind: SealedSecret\nmetadata:\n  annotations:\n    x.io/fp: SHA256:new\n    sealedsecrets.bitnami.com/namespace-wide: \"true\"\n  name: a\nspec:\n  encryptedData:\n    k: NEWCIPHER\n  template:\n    metadata:\n      annotations:\n        x.io/fp: SHA256:new\n      name: a\n"
        );
    }

    #[test]
    fn crlf_files_keep_crlf() {
        let piece = "kind: SealedSecret\r\nmetadata:\r\n  name: a\r\nspec:\r\n  encryptedData:\r\n    k: OLDCIPHER\r\n  template:\r\n    metadata:\r\n      name: a\r\n";
        let out = edit_piece(
            piece,
            FileFormat::Yaml,
            &edit(None, None),
            &want(json!({}), json!({})),
        )
        .unwrap();
        assert_eq!(
            out.matches('\n').count(),
            out.matches("\r\n").count(),
            "{out:?}"
        );
        assert!(out.contains("NEWCIPHER"));
        assert_eq!(out.matches("x.io/fp: SHA256:new\r\n").count(), 2, "{out:?}");
    }

    #[test]
    fn yaml_falls_back_to_rendering_and_keeps_comments_around() {
        // A folded ciphertext cannot be replaced in place.
        let piece = "--- # top\n# lead\nkind: SealedSecret\nmetadata: {name: a}\nspec:\n  encryptedData:\n    k: OLD\n      CIPHER\n  template: {metadata: {name: a}}\n# after\n";
        let want = want(json!({}), json!({}));
        let out = edit_piece(piece, FileFormat::Yaml, &edit(None, None), &want).unwrap();
        assert!(
            out.starts_with("--- # top\n# lead\nkind: SealedSecret\n"),
            "{out}"
        );
        assert!(out.ends_with("# after\n"), "{out}");
        assert_eq!(parse_piece(&out, FileFormat::Yaml).unwrap().unwrap(), want);
    }

    #[test]
    fn json_edit_inserts_the_annotation_in_both_places() {
        let piece = "\n{\n  \"kind\": \"SealedSecret\",\n  \"metadata\": {\n    \"name\": \"a\"\n  },\n  \"spec\": {\n    \"template\": {\n      \"metadata\": {\n        \"name\": \"a\"\n      }\n    },\n    \"encryptedData\": {\"k\": \"OLDCIPHER\"}\n  }\n}";
        let out = edit_piece(
            piece,
            FileFormat::Json,
            &edit(None, None),
            &want(json!({}), json!({})),
        )
        .unwrap();
        assert!(out.contains("\"metadata\": {\n    \"annotations\": {\n      \"x.io/fp\": \"SHA256:new\"\n    },\n    \"name\": \"a\""), "{out}");
        assert!(out.contains("\"metadata\": {\n        \"annotations\": {\n          \"x.io/fp\": \"SHA256:new\"\n        },\n        \"name\": \"a\""), "{out}");
        assert!(
            out.find("\"template\"") < out.find("\"encryptedData\""),
            "edited in place, not rendered anew (which sorts the keys): {out}"
        );

        // Existing template annotations are added to; the top-level object gets its own
        // map rather than the template's (which comes later in the text).
        let piece2 = piece.replace(
            "        \"name\": \"a\"",
            "        \"annotations\": {\n          \"o\": \"p\"\n        },\n        \"name\": \"a\"",
        );
        let out = edit_piece(
            &piece2,
            FileFormat::Json,
            &edit(None, None),
            &want(json!({}), json!({"o": "p"})),
        )
        .unwrap();
        assert!(
            out.contains("\"x.io/fp\": \"SHA256:new\",\n          \"o\": \"p\""),
            "{out}"
        );
        assert!(out.contains("\"metadata\": {\n    \"annotations\": {\n      \"x.io/fp\": \"SHA256:new\"\n    },\n    \"name\": \"a\""), "{out}");
    }
}
