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
//! fingerprint annotation is updated or inserted. The edited text is parsed again
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
    /// The annotation to set.
    pub annotation_key: &'a str,
    /// Its current value on each changed SealedSecret of the document (one for a
    /// plain document, several for a `List`), `None` where it is missing.
    pub annotation_old: Vec<Option<&'a str>>,
    /// Its new value.
    pub annotation_new: &'a str,
}

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
    match edit.annotation_old.as_slice() {
        [None] => match format {
            FileFormat::Yaml => insert_yaml(&text, edit),
            FileFormat::Json => insert_json(&text, edit),
        },
        olds if olds.iter().all(Option::is_some) => {
            // Replace the old value on every line that holds the annotation key.
            let olds: Vec<&str> = olds.iter().flatten().copied().collect();
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
            Some(out)
        }
        _ => None,
    }
}

fn indent_of(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

fn is_content(line: &str) -> bool {
    let t = line.trim();
    !t.is_empty() && !t.starts_with('#')
}

/// Inserts the annotation under the top-level `metadata:` of a block-style YAML
/// document.
fn insert_yaml(text: &str, edit: &Edit<'_>) -> Option<String> {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let meta = lines.iter().position(|l| l.trim_end() == "metadata:")?;
    let child = lines[meta + 1..].iter().find(|l| is_content(l))?;
    let indent = indent_of(child);
    if indent == 0 {
        return None;
    }
    let entry = |n: usize| {
        format!(
            "{}{}: {}\n",
            " ".repeat(n),
            edit.annotation_key,
            edit.annotation_new
        )
    };
    let mut at = meta + 1;
    let mut insert = None;
    while at < lines.len() {
        let line = lines[at];
        if is_content(line) {
            if indent_of(line) < indent {
                break;
            }
            if indent_of(line) == indent
                && line.trim_end() == format!("{}annotations:", " ".repeat(indent))
            {
                let inner = lines[at + 1..].iter().find(|l| is_content(l))?;
                let inner_indent = indent_of(inner);
                if inner_indent <= indent {
                    return None;
                }
                insert = Some((at + 1, entry(inner_indent)));
                break;
            }
        }
        at += 1;
    }
    let (at, new_lines) = insert.unwrap_or_else(|| {
        (
            meta + 1,
            format!("{}annotations:\n{}", " ".repeat(indent), entry(indent * 2)),
        )
    });
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

/// Inserts the annotation into the first `"metadata": {` object of a JSON value.
fn insert_json(text: &str, edit: &Edit<'_>) -> Option<String> {
    let meta = text.find("\"metadata\"")?;
    let open = meta + text[meta..].find('{')?;
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
    if let Some(rel) = text[open..].find("\"annotations\"") {
        let ann = open + rel;
        let ann_open = ann + text[ann..].find('{')?;
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

    fn edit<'a>(old: Option<&'a str>) -> Edit<'a> {
        Edit {
            replacements: vec![("OLDCIPHER", "NEWCIPHER")],
            annotation_key: "x.io/fp",
            annotation_old: vec![old],
            annotation_new: "SHA256:new",
        }
    }

    #[test]
    fn yaml_edit_keeps_comments_and_inserts_annotation() {
        let piece = "---\n# leading\nkind: SealedSecret\nmetadata:\n  name: a # trailing\nspec:\n  encryptedData:\n    k: OLDCIPHER # note\n";
        let want = json!({"kind": "SealedSecret", "metadata": {"name": "a", "annotations": {"x.io/fp": "SHA256:new"}}, "spec": {"encryptedData": {"k": "NEWCIPHER"}}});
        let out = edit_piece(piece, FileFormat::Yaml, &edit(None), &want).unwrap();
        assert_eq!(
            out,
            "---\n# leading\nkind: SealedSecret\nmetadata:\n  annotations:\n    x.io/fp: SHA256:new\n  name: a # trailing\nspec:\n  encryptedData:\n    k: NEWCIPHER # note\n"
        );
        let piece = "kind: SealedSecret\nmetadata:\n    annotations:\n        x.io/fp: SHA256:old\n    name: a\nspec:\n    encryptedData:\n        k: 'OLDCIPHER'\n";
        let out = edit_piece(piece, FileFormat::Yaml, &edit(Some("SHA256:old")), &want).unwrap();
        assert_eq!(
            out,
            piece
                .replace("OLDCIPHER", "NEWCIPHER")
                .replace("SHA256:old", "SHA256:new")
        );
    }

    #[test]
    fn yaml_falls_back_to_rendering_and_keeps_comments_around() {
        // A folded ciphertext cannot be replaced in place.
        let piece = "--- # top\n# lead\nkind: SealedSecret\nmetadata: {name: a}\nspec:\n  encryptedData:\n    k: OLD\n      CIPHER\n# after\n";
        let want = json!({"kind": "SealedSecret", "metadata": {"name": "a", "annotations": {"x.io/fp": "SHA256:new"}}, "spec": {"encryptedData": {"k": "NEWCIPHER"}}});
        let out = edit_piece(piece, FileFormat::Yaml, &edit(None), &want).unwrap();
        assert!(
            out.starts_with("--- # top\n# lead\nkind: SealedSecret\n"),
            "{out}"
        );
        assert!(out.ends_with("# after\n"), "{out}");
        assert_eq!(parse_piece(&out, FileFormat::Yaml).unwrap().unwrap(), want);
    }

    #[test]
    fn json_edit_inserts_annotation() {
        let piece = "\n{\n  \"kind\": \"SealedSecret\",\n  \"metadata\": {\n    \"name\": \"a\"\n  },\n  \"spec\": {\"encryptedData\": {\"k\": \"OLDCIPHER\"}}\n}";
        let want = json!({"kind": "SealedSecret", "metadata": {"name": "a", "annotations": {"x.io/fp": "SHA256:new"}}, "spec": {"encryptedData": {"k": "NEWCIPHER"}}});
        let out = edit_piece(piece, FileFormat::Json, &edit(None), &want).unwrap();
        assert!(out.contains("\"metadata\": {\n    \"annotations\": {\n      \"x.io/fp\": \"SHA256:new\"\n    },\n    \"name\": \"a\""), "{out}");
        let piece2 = piece.replace(
            "\"name\": \"a\"",
            "\"annotations\": {\n      \"o\": \"p\"\n    },\n    \"name\": \"a\"",
        );
        let mut want2 = want.clone();
        want2["metadata"]["annotations"]["o"] = json!("p");
        let out = edit_piece(&piece2, FileFormat::Json, &edit(None), &want2).unwrap();
        assert!(
            out.contains("\"x.io/fp\": \"SHA256:new\",\n      \"o\": \"p\""),
            "{out}"
        );
    }
}
