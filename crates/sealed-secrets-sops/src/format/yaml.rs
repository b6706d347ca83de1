//! YAML: a stream of mappings, read through an event parser that reports comments
//! (so comments survive and can be encrypted, as sops does), written by our own block
//! emitter in sops's layout (indent 4, sequences indented under their key, literal
//! blocks for multi-line strings, quotes only where a plain scalar would change type).
//!
//! Like sops: aliases are expanded, tags dropped (`!!binary` decoded), scalars typed
//! as go-yaml v3 types them ([`super::resolve`]).

use std::collections::HashMap;

use base64::Engine;
use granit_parser::{Event, Parser, Placement, ScalarStyle, Span, Tag};

use super::FormatError;
use super::resolve::{Resolved, is_old_bool, resolve_plain};
use crate::tree::{Branch, Item, Node, Scalar, Tree};

/// sops's default YAML indentation.
pub const DEFAULT_INDENT: usize = 4;

/// How much alias expansion a file may cause, in units of about a byte (each node
/// counts 32 plus the length of its text).
/// Every alias is expanded into a copy, so ten aliases of ten aliases of … (a
/// "billion laughs" file of a few hundred bytes) would otherwise take gigabytes.
pub const MAX_ALIAS_EXPANSION: usize = 64 << 20;

/// The approximate memory a node takes: a fixed cost per node plus its text.
fn weight(node: &Node) -> usize {
    const NODE: usize = 32;
    NODE + match node {
        Node::Scalar(Scalar::Str(s) | Scalar::Time(s)) | Node::Comment(s) => s.len(),
        Node::Scalar(Scalar::Bytes(b)) => b.len(),
        Node::Scalar(_) | Node::Null => 0,
        Node::Seq(items) => items.iter().map(weight).fold(0, usize::saturating_add),
        Node::Map(items) => items
            .iter()
            .map(|i| match i {
                Item::Pair(k, v) => k.len().saturating_add(weight(v)),
                Item::Comment(c) => NODE + c.len(),
            })
            .fold(0, usize::saturating_add),
    }
}

enum Frame {
    Map {
        items: Vec<Item>,
        key: Option<String>,
        col: usize,
        anchor: usize,
    },
    Seq {
        items: Vec<Node>,
        col: usize,
        anchor: usize,
    },
}

impl Frame {
    fn col(&self) -> usize {
        match self {
            Frame::Map { col, .. } | Frame::Seq { col, .. } => *col,
        }
    }

    fn push_comment(&mut self, text: String) {
        match self {
            Frame::Map { items, .. } => items.push(Item::Comment(text)),
            Frame::Seq { items, .. } => items.push(Node::Comment(text)),
        }
    }
}

struct Pending {
    text: String,
    col: usize,
    right: bool,
}

fn err(line: usize, msg: impl Into<String>) -> FormatError {
    FormatError::Yaml(format!("line {line}: {}", msg.into()))
}

fn scalar_node(
    value: &str,
    style: ScalarStyle,
    tag: Option<&Tag>,
    line: usize,
) -> Result<Node, FormatError> {
    if let Some(tag) = tag {
        match tag.core_suffix() {
            Some("str") => return Ok(Node::Scalar(Scalar::Str(value.to_owned()))),
            Some("binary") => {
                let compact: String = value.chars().filter(|c| !c.is_whitespace()).collect();
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(compact)
                    .map_err(|_| err(line, "!!binary value is not base64"))?;
                return Ok(Node::Scalar(match String::from_utf8(bytes) {
                    Ok(s) => Scalar::Str(s),
                    Err(e) => Scalar::Bytes(e.into_bytes()),
                }));
            }
            Some("null") => return Ok(Node::Null),
            _ => {}
        }
    }
    if style != ScalarStyle::Plain {
        return Ok(Node::Scalar(Scalar::Str(value.to_owned())));
    }
    match resolve_plain(value) {
        Resolved::Null => Ok(Node::Null),
        Resolved::Scalar(s) => Ok(Node::Scalar(s)),
        Resolved::OutOfRange => Err(err(
            line,
            "integer does not fit in 64 bits (sops refuses unsigned 64-bit values); quote it",
        )),
    }
}

/// The parser's events with comments moved to their place in the source: the parser
/// may report a comment only after later tokens (look-ahead), and which collection a
/// comment belongs to (so its AAD) depends on where it stands.
fn events_in_source_order(text: &str) -> Result<Vec<(Event<'_>, Span)>, FormatError> {
    let mut nodes = Vec::new();
    let mut comments = Vec::new();
    for next in Parser::new_from_str(text) {
        let (event, span) = next.map_err(|e| FormatError::Yaml(e.to_string()))?;
        if matches!(event, Event::Comment(..)) {
            comments.push((event, span));
        } else {
            nodes.push((event, span));
        }
    }
    comments.sort_by_key(|(_, s)| s.start.index());
    let mut comments = comments.into_iter().peekable();
    let mut out = Vec::with_capacity(nodes.len() + comments.len());
    for (event, span) in nodes {
        // Comments go before the first event that starts after them; the stream end
        // takes whatever is left.
        let at_end = matches!(event, Event::StreamEnd | Event::DocumentEnd);
        while let Some((_, c)) = comments.peek() {
            if c.start.index() < span.start.index()
                || (at_end && c.start.index() <= span.start.index())
            {
                out.push(comments.next().expect("peeked"));
            } else {
                break;
            }
        }
        out.push((event, span));
    }
    Ok(out)
}

/// Parses a YAML stream into a tree: one branch per document.
pub fn parse(text: &str) -> Result<Tree, FormatError> {
    let mut tree = Tree::default();
    let mut stack: Vec<Frame> = Vec::new();
    let mut pending: Vec<Pending> = Vec::new();
    // Anchored nodes with their weights; and the weight of all alias copies so far.
    let mut anchors: HashMap<usize, (Node, usize)> = HashMap::new();
    let mut expanded: usize = 0;
    let mut root: Option<Branch> = None;

    for (event, span) in events_in_source_order(text)? {
        let line = span.start.line();
        let col = span.start.col();
        let mut done: Option<(Node, usize)> = None;
        // A finished collection: pending comments come after it, not before.
        let mut closed = false;
        match event {
            Event::StreamStart | Event::StreamEnd | Event::Anchor(..) => {}
            Event::DocumentStart(..) => {
                root = None;
                anchors.clear();
            }
            Event::DocumentEnd => {
                let mut branch = root.take().unwrap_or_default();
                branch.extend(pending.drain(..).map(|p| Item::Comment(p.text)));
                tree.branches.push(branch);
            }
            Event::Comment(text, placement) => pending.push(Pending {
                text: text.into_owned(),
                col,
                right: placement == Placement::Right,
            }),
            Event::Scalar(value, style, anchor, tag) => {
                let node = scalar_node(&value, style, tag.as_deref(), line)?;
                done = Some((node, anchor));
            }
            Event::Alias(id) => {
                let (node, w) = anchors.get(&id).ok_or_else(|| err(line, "unknown alias"))?;
                expanded = expanded.saturating_add(*w);
                if expanded > MAX_ALIAS_EXPANSION {
                    return Err(err(
                        line,
                        format!(
                            "aliases expand to more than {} MiB of data (an alias bomb?)",
                            MAX_ALIAS_EXPANSION >> 20
                        ),
                    ));
                }
                done = Some((node.clone(), 0));
            }
            Event::UnresolvedAlias(_) => return Err(err(line, "unknown alias")),
            Event::MappingStart(_, anchor, _) | Event::SequenceStart(_, anchor, _) => {
                let is_map = matches!(event, Event::MappingStart(..));
                match stack.last_mut() {
                    None => {
                        if !is_map {
                            return Err(err(
                                line,
                                "the top level of a document must be a mapping, not a sequence",
                            ));
                        }
                    }
                    Some(Frame::Map { key: None, .. }) => {
                        return Err(err(
                            line,
                            "complex (non-scalar) mapping keys are not supported",
                        ));
                    }
                    Some(parent) => {
                        // Comments less indented than the new collection, and a trailing
                        // comment of the previous sequence element, stay in the parent.
                        let parent_is_seq = matches!(parent, Frame::Seq { .. });
                        let (outer, inner): (Vec<_>, Vec<_>) = pending
                            .drain(..)
                            .partition(|p| p.col < col || (p.right && parent_is_seq));
                        for p in outer {
                            parent.push_comment(p.text);
                        }
                        pending = inner;
                    }
                }
                let mut frame = if is_map {
                    Frame::Map {
                        items: Vec::new(),
                        key: None,
                        col,
                        anchor,
                    }
                } else {
                    Frame::Seq {
                        items: Vec::new(),
                        col,
                        anchor,
                    }
                };
                for p in pending.drain(..) {
                    frame.push_comment(p.text);
                }
                stack.push(frame);
            }
            Event::MappingEnd | Event::SequenceEnd => {
                closed = true;
                let mut frame = stack
                    .pop()
                    .ok_or_else(|| err(line, "unbalanced collection"))?;
                let fcol = frame.col();
                let keep = pending
                    .iter()
                    .position(|p| !(p.right || p.col >= fcol))
                    .unwrap_or(pending.len());
                for p in pending.drain(..keep) {
                    frame.push_comment(p.text);
                }
                done = Some(match frame {
                    Frame::Map { items, anchor, .. } => (Node::Map(items), anchor),
                    Frame::Seq { items, anchor, .. } => (Node::Seq(items), anchor),
                });
            }
            // Presentation-only events of later parser versions.
            _ => {}
        }
        let Some((node, anchor)) = done else { continue };
        if anchor != 0 {
            let w = weight(&node);
            anchors.insert(anchor, (node.clone(), w));
        }
        match stack.last_mut() {
            None => match node {
                Node::Map(items) => root = Some(items),
                Node::Null => root = Some(Vec::new()),
                _ => {
                    return Err(err(line, "the top level of a document must be a mapping"));
                }
            },
            Some(Frame::Map { items, key, .. }) => match key.take() {
                None => {
                    let Node::Scalar(Scalar::Str(k)) = node else {
                        return Err(err(
                            line,
                            "mapping keys must be strings (quote numeric or boolean keys)",
                        ));
                    };
                    if k == "<<" {
                        return Err(err(line, "YAML merge keys (<<) are not supported"));
                    }
                    if items
                        .iter()
                        .any(|i| matches!(i, Item::Pair(x, _) if *x == k))
                    {
                        return Err(err(line, format!("duplicate key {k:?}")));
                    }
                    for p in pending.drain(..) {
                        items.push(Item::Comment(p.text));
                    }
                    *key = Some(k);
                }
                Some(k) => items.push(Item::Pair(k, node)),
            },
            Some(Frame::Seq { items, .. }) => {
                if !closed {
                    for p in pending.drain(..) {
                        items.push(Node::Comment(p.text));
                    }
                }
                items.push(node);
            }
        }
    }
    Ok(tree)
}

/// Writes a tree as a YAML stream (documents separated by `---`).
pub fn emit(tree: &Tree, indent: usize) -> String {
    let indent = indent.clamp(2, 9);
    let mut out = String::new();
    for (i, branch) in tree.branches.iter().enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        if branch.is_empty() {
            out.push_str("{}\n");
        } else if !branch.iter().any(|i| matches!(i, Item::Pair(..))) {
            // Comments alone do not make a document when read back: keep the mapping.
            emit_items(branch, 0, indent, &mut out);
            out.push_str("{}\n");
        } else {
            emit_items(branch, 0, indent, &mut out);
        }
    }
    out
}

fn spaces(out: &mut String, n: usize) {
    out.extend(std::iter::repeat_n(' ', n));
}

fn emit_items(items: &[Item], col: usize, indent: usize, out: &mut String) {
    // Comments ending a mapping right after a nested block would be read by go-yaml
    // (so sops) as that block's foot comments, with the inner key path as their AAD:
    // write them above the mapping's last key instead (same mapping, same AAD).
    let tail = items
        .iter()
        .rev()
        .take_while(|i| matches!(i, Item::Comment(_)))
        .count();
    let split = items.len() - tail;
    let hoist = tail > 0
        && match items[..split].last() {
            Some(Item::Pair(_, Node::Map(m))) => !m.is_empty(),
            Some(Item::Pair(_, Node::Seq(l))) => !l.is_empty(),
            _ => false,
        };
    let reordered: Vec<&Item>;
    let order: &mut dyn Iterator<Item = &Item> = if hoist {
        let (body, comments) = items.split_at(split);
        let (last, head) = body.split_last().expect("a pair precedes the comments");
        reordered = head
            .iter()
            .chain(comments)
            .chain(std::iter::once(last))
            .collect();
        &mut reordered.iter().copied()
    } else {
        &mut items.iter()
    };
    for item in order {
        match item {
            Item::Comment(c) => {
                spaces(out, col);
                out.push('#');
                out.push_str(c);
                out.push('\n');
            }
            Item::Pair(k, v) => {
                spaces(out, col);
                let key = key_text(k);
                // YAML limits implicit keys to 1024 characters: longer ones are
                // written as explicit keys (`? key` then `: value`).
                if key.chars().count() > 1000 {
                    out.push_str("? ");
                    out.push_str(&key);
                    out.push('\n');
                    spaces(out, col);
                } else {
                    out.push_str(&key);
                }
                out.push(':');
                match v {
                    Node::Map(items) if !items.is_empty() => {
                        out.push('\n');
                        emit_items(items, col + indent, indent, out);
                    }
                    Node::Seq(list) if !list.is_empty() => {
                        out.push('\n');
                        emit_seq(list, col + indent, indent, out);
                    }
                    other => {
                        out.push(' ');
                        out.push_str(&inline_text(other, col + indent));
                        out.push('\n');
                    }
                }
            }
        }
    }
}

fn emit_seq(list: &[Node], col: usize, indent: usize, out: &mut String) {
    for node in list {
        match node {
            Node::Comment(c) => {
                spaces(out, col);
                out.push('#');
                out.push_str(c);
                out.push('\n');
            }
            Node::Map(items) if !items.is_empty() => {
                let mut inner = String::new();
                emit_items(items, col + 2, indent, &mut inner);
                spaces(out, col);
                if inner[col + 2..].starts_with('#') {
                    // A comment written first (a leading one, or one hoisted above the
                    // only key) must stay inside the mapping: start it on its own line.
                    out.push_str("-\n");
                    out.push_str(&inner);
                } else {
                    out.push_str("- ");
                    out.push_str(&inner[col + 2..]);
                }
            }
            Node::Seq(inner) if !inner.is_empty() => {
                spaces(out, col);
                out.push_str("-\n");
                emit_seq(inner, col + 2, indent, out);
            }
            other => {
                spaces(out, col);
                out.push_str("- ");
                out.push_str(&inline_text(other, col + indent));
                out.push('\n');
            }
        }
    }
}

fn inline_text(node: &Node, block_col: usize) -> String {
    match node {
        Node::Null | Node::Comment(_) => "null".to_owned(),
        Node::Map(_) => "{}".to_owned(),
        Node::Seq(_) => "[]".to_owned(),
        Node::Scalar(s) => scalar_text(s, block_col),
    }
}

/// A scalar as YAML text; `block_col` is the indentation of literal block content.
pub fn scalar_text(s: &Scalar, block_col: usize) -> String {
    match s {
        Scalar::Str(v) => string_text(v, block_col),
        Scalar::Bytes(b) => string_text(&String::from_utf8_lossy(b), block_col),
        Scalar::Int(i) => i.to_string(),
        Scalar::Bool(b) => b.to_string(),
        Scalar::Float(f) => {
            if f.is_nan() {
                ".nan".to_owned()
            } else if f.is_infinite() {
                if *f > 0.0 { ".inf" } else { "-.inf" }.to_owned()
            } else {
                // Debug keeps a `.0` or an exponent, so the text reads back as a float.
                format!("{f:?}")
            }
        }
        Scalar::Time(t) => {
            if matches!(resolve_plain(t), Resolved::Scalar(Scalar::Time(_))) {
                t.clone()
            } else {
                double_quoted(t)
            }
        }
    }
}

fn key_text(k: &str) -> String {
    if plain_ok(k) {
        k.to_owned()
    } else {
        double_quoted(k)
    }
}

fn string_text(v: &str, block_col: usize) -> String {
    if plain_ok(v) {
        v.to_owned()
    } else if let Some(block) = literal_block(v, block_col) {
        block
    } else {
        double_quoted(v)
    }
}

fn is_unsafe_char(c: char) -> bool {
    (c.is_control() && c != '\t') || matches!(c, '\u{85}' | '\u{2028}' | '\u{2029}' | '\u{feff}')
}

/// Whether `v` can be written unquoted and read back as the same string.
fn plain_ok(v: &str) -> bool {
    let Some(first) = v.chars().next() else {
        return false;
    };
    if "-?:,[]{}#&*!|>'\"%@`".contains(first) || first.is_whitespace() {
        return false;
    }
    if v.ends_with(char::is_whitespace) || v.ends_with(':') || v.starts_with("...") {
        return false;
    }
    if v.contains(": ") || v.contains(":\t") || v.contains(" #") || v.contains("\t#") {
        return false;
    }
    if v.chars().any(|c| is_unsafe_char(c) || c == '\t') {
        return false;
    }
    !is_old_bool(v) && resolve_plain(v) == Resolved::Scalar(Scalar::Str(v.to_owned()))
}

fn literal_block(v: &str, col: usize) -> Option<String> {
    if !v.contains('\n') || v.chars().any(|c| c != '\n' && is_unsafe_char(c)) {
        return None;
    }
    let body = v.trim_end_matches('\n');
    // A block's indentation is read from its first non-empty line: if that starts
    // with a space or tab, it would be read as indentation (the value changes, or
    // the file does not parse). Such values are written double-quoted.
    let first = body.split('\n').find(|l| !l.is_empty());
    if first.is_none_or(|l| l.starts_with([' ', '\t'])) {
        return None;
    }
    let trailing = v.len() - body.len();
    let mut out = String::from(match trailing {
        0 => "|-",
        1 => "|",
        _ => "|+",
    });
    out.push('\n');
    for line in body.split('\n') {
        if !line.is_empty() {
            out.extend(std::iter::repeat_n(' ', col));
            out.push_str(line);
        }
        out.push('\n');
    }
    for _ in 1..trailing {
        out.push('\n');
    }
    // The caller adds the final line break.
    out.pop();
    Some(out)
}

fn double_quoted(v: &str) -> String {
    let mut out = String::with_capacity(v.len() + 2);
    out.push('"');
    for c in v.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\0' => out.push_str("\\0"),
            c if is_unsafe_char(c) => {
                let n = u32::from(c);
                if n <= 0xFFFF {
                    out.push_str(&format!("\\u{n:04X}"));
                } else {
                    out.push_str(&format!("\\U{n:08X}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> Node {
        Node::Scalar(Scalar::Str(v.into()))
    }

    #[test]
    fn types_comments_and_order() {
        let t = parse(
            "# top\nb: 1\na: \"1\"\nc:\n    # in c\n    d: [x, 2.50, TRUE]\n    e: null\n    # foot c\n# before f\nf: |\n    l1\n    l2\n",
        )
        .unwrap();
        assert_eq!(
            t.branches,
            vec![vec![
                Item::Comment(" top".into()),
                Item::Pair("b".into(), Node::Scalar(Scalar::Int(1))),
                Item::Pair("a".into(), s("1")),
                Item::Pair(
                    "c".into(),
                    Node::Map(vec![
                        Item::Comment(" in c".into()),
                        Item::Pair(
                            "d".into(),
                            Node::Seq(vec![
                                s("x"),
                                Node::Scalar(Scalar::Float(2.5)),
                                Node::Scalar(Scalar::Bool(true))
                            ])
                        ),
                        Item::Pair("e".into(), Node::Null),
                        Item::Comment(" foot c".into()),
                    ])
                ),
                Item::Comment(" before f".into()),
                Item::Pair("f".into(), s("l1\nl2\n")),
            ]]
        );
    }

    #[test]
    fn emit_parse_round_trip() {
        let text = "# top\nb: 1\na: \"1\"\n\"y\": \"yes\"\nc:\n    # in c\n    d:\n        - x\n        # seq comment\n        - 2.5\n        - true\n        - k: v\n          k2: \"\"\n        -\n          - nested\n    e: null\n    f: |\n        l1\n        l2\n    g: |-\n        no\n        newline\n    h: \" lead\"\n    i: 2024-01-01T00:00:00Z\n    j: \"2024-01-01\"\n    k: {}\n    l: []\n    m: \"a: b\"\n    \"n\": ENC[AES256_GCM,data:abc=,iv:x,tag:y,type:str]\n---\nsecond: doc\n";
        let t = parse(text).unwrap();
        assert_eq!(emit(&t, 4), text);
        assert_eq!(parse(&emit(&t, 2)).unwrap(), t);
    }

    #[test]
    fn aliases_are_expanded_and_bad_input_refused() {
        let t = parse("a: &x {b: 1}\nc: *x\n").unwrap();
        assert_eq!(
            t.branches[0][1],
            Item::Pair(
                "c".into(),
                Node::Map(vec![Item::Pair("b".into(), Node::Scalar(Scalar::Int(1)))])
            )
        );
        for bad in [
            "- a\n",
            "1: x\n",
            "a: 1\na: 2\n",
            "a: [\n",
            "<<: {a: 1}\n",
            "a: 18446744073709551615\n",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        assert_eq!(parse("").unwrap().branches.len(), 0);
        assert_eq!(parse("---\n").unwrap().branches, vec![Vec::<Item>::new()]);
    }

    /// Deep nesting is refused by the event parser's nesting limits rather than
    /// building a tree deep enough to overflow the stack when it is walked or dropped.
    #[test]
    fn deep_nesting_is_an_error() {
        let flow = format!("a: {}1{}", "[".repeat(100_000), "]".repeat(100_000));
        let mut block = String::new();
        for i in 0..2_000 {
            block.push_str(&" ".repeat(i));
            block.push_str("k:\n");
        }
        for text in [flow, block] {
            assert!(parse(&text).is_err());
        }
    }

    /// Found by the `sops_file` fuzz target (minimised: `"#\n!"`): a document of only
    /// comments and an empty root was written as the comments alone, which read back
    /// as no document at all.
    #[test]
    fn comment_only_documents_survive_write_and_read() {
        for text in ["#\n!", "# c\n~\n", "a: 1\n---\n# only\n", "# x\n{}\n"] {
            let t = parse(text).unwrap();
            let written = emit(&t, 4);
            assert_eq!(parse(&written).unwrap(), t, "{text:?} → {written:?}");
            assert_eq!(emit(&parse(&written).unwrap(), 4), written);
        }
    }

    /// Found by the `sops_file` fuzz target: a key over 1024 characters was written
    /// as an implicit key, which YAML does not allow (our own output did not parse).
    #[test]
    fn long_keys_are_written_as_explicit_keys() {
        let long = "k".repeat(2_000);
        let quoted = format!("{}: x", "\t".repeat(600));
        let t = Tree {
            branches: vec![vec![
                Item::Pair(long.clone(), s("v")),
                Item::Pair(
                    quoted.clone(),
                    Node::Map(vec![Item::Pair(long.clone(), s("w"))]),
                ),
                Item::Pair(
                    "l".into(),
                    Node::Seq(vec![Node::Map(vec![Item::Pair(long, s("u"))])]),
                ),
            ]],
        };
        let written = emit(&t, 4);
        assert_eq!(parse(&written).unwrap(), t);
        assert_eq!(emit(&parse(&written).unwrap(), 4), written);
    }

    /// An alias bomb of a few hundred bytes (each level ten aliases of the one
    /// before, nine levels: 10^9 leaves) is refused instead of expanded into gigabytes;
    /// moderate alias use still expands.
    #[test]
    fn alias_bombs_are_refused() {
        let mut bomb = String::from("l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..9 {
            let refs = vec![format!("*l{}", i - 1); 10].join(", ");
            bomb.push_str(&format!("l{i}: &l{i} [{refs}]\n"));
        }
        let e = parse(&bomb).unwrap_err().to_string();
        assert!(e.contains("aliases expand to more than 64 MiB"), "{e}");

        let mut fine = String::from("l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..4 {
            let refs = vec![format!("*l{}", i - 1); 10].join(", ");
            fine.push_str(&format!("l{i}: &l{i} [{refs}]\n"));
        }
        let t = parse(&fine).unwrap();
        let Item::Pair(_, Node::Seq(l3)) = &t.branches[0][3] else {
            panic!("l3 is a sequence")
        };
        assert_eq!(l3.len(), 10);
    }

    #[test]
    fn quoting_keeps_types() {
        for v in [
            "",
            "1",
            "true",
            "null",
            "y",
            "no",
            "1.5",
            "-x",
            "a #b",
            "a:",
            "tab\there",
            "x\r\ny",
            " lead\nx",
            "2024-01-01",
            "#c",
            "ümlaut: x",
            "\u{7}",
        ] {
            let t = Tree {
                branches: vec![vec![Item::Pair("k".into(), s(v))]],
            };
            assert_eq!(parse(&emit(&t, 4)).unwrap(), t, "{v:?}");
        }
    }

    /// Found by the sops property test (`tests/properties.rs`): a multi-line value
    /// whose first non-empty line starts with a space was written as a literal block,
    /// and read back as `""` (or, in a nested sequence, not at all).
    #[test]
    fn multi_line_values_with_leading_blank_lines_keep_their_spaces() {
        for v in ["\n ", "\n\ta", "\n \na", "\n\n  x\ny\n", "a\n ", "\nb\n c"] {
            for node in [s(v), Node::Seq(vec![Node::Seq(vec![s(v)])])] {
                let t = Tree {
                    branches: vec![vec![Item::Pair("k".into(), node)]],
                };
                assert_eq!(parse(&emit(&t, 4)).unwrap(), t, "{v:?}");
            }
        }
    }

    #[test]
    fn a_comment_ending_a_mapping_in_a_sequence_stays_in_that_mapping() {
        // Found by the sops_file fuzz target: the comment, hoisted above the mapping's
        // only key, was written on the item's `- ` line and read back as the
        // sequence's.
        let tree = parse("u:\n- t:\n  -\n  #").unwrap();
        let again = parse(&emit(&tree, 4)).unwrap();
        // Above the key (the writer's deliberate move, same mapping, same AAD), but
        // inside the mapping, not before it in the sequence.
        assert_eq!(
            again.branches,
            vec![vec![Item::Pair(
                "u".into(),
                Node::Seq(vec![Node::Map(vec![
                    Item::Comment(String::new()),
                    Item::Pair("t".into(), Node::Seq(vec![Node::Null])),
                ])])
            )]]
        );
        // And it is stable from there on.
        assert_eq!(parse(&emit(&again, 4)).unwrap().branches, again.branches);
    }
}
