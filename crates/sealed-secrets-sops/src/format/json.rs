//! JSON: one object, key order kept; written as sops writes it (Go `json.Marshal`
//! escaping, `": "`, tab indentation by default, final newline).

use std::fmt;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};

use super::FormatError;
use crate::tree::{Item, Node, Scalar, Tree, format_float};

struct NodeVisitor;

struct JsonNode(Node);

impl<'de> serde::Deserialize<'de> for JsonNode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(NodeVisitor).map(JsonNode)
    }
}

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Node, E> {
        Ok(Node::Scalar(Scalar::Bool(v)))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Node, E> {
        Ok(Node::Scalar(Scalar::Int(v)))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Node, E> {
        // sops 3.13.2: int if it fits int64, else float64.
        Ok(Node::Scalar(match i64::try_from(v) {
            Ok(i) => Scalar::Int(i),
            Err(_) => Scalar::Float(v as f64),
        }))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Node, E> {
        Ok(Node::Scalar(Scalar::Float(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Node, E> {
        Ok(Node::Scalar(Scalar::Str(v.to_owned())))
    }
    fn visit_string<E>(self, v: String) -> Result<Node, E> {
        Ok(Node::Scalar(Scalar::Str(v)))
    }
    fn visit_unit<E>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }
    fn visit_none<E>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut out = Vec::new();
        while let Some(JsonNode(n)) = seq.next_element()? {
            out.push(n);
        }
        Ok(Node::Seq(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut out = Vec::new();
        while let Some(k) = map.next_key::<String>()? {
            let JsonNode(v) = map.next_value()?;
            if out.iter().any(|i| matches!(i, Item::Pair(x, _) if *x == k)) {
                return Err(de::Error::custom(format!("duplicate key {k:?}")));
            }
            out.push(Item::Pair(k, v));
        }
        Ok(Node::Map(out))
    }
}

/// Parses one JSON object.
pub fn parse(text: &str) -> Result<Tree, FormatError> {
    let JsonNode(node) =
        serde_json::from_str(text).map_err(|e| FormatError::Json(e.to_string()))?;
    match node {
        Node::Map(items) => Ok(Tree {
            branches: vec![items],
        }),
        _ => Err(FormatError::Json(
            "the top level must be an object".to_owned(),
        )),
    }
}

/// Writes the first branch as JSON. `indent`: `None` = tab (sops's default),
/// `Some(0)` = one line, `Some(n)` = n spaces.
pub fn emit(tree: &Tree, indent: Option<usize>) -> String {
    let unit = match indent {
        None => "\t".to_owned(),
        Some(n) => " ".repeat(n),
    };
    let one_line = indent == Some(0);
    let mut out = String::new();
    let empty = Vec::new();
    let branch = tree.branches.first().unwrap_or(&empty);
    emit_map(branch, 0, &unit, one_line, &mut out);
    out.push('\n');
    out
}

fn newline(out: &mut String, depth: usize, unit: &str, one_line: bool) {
    if !one_line {
        out.push('\n');
        for _ in 0..depth {
            out.push_str(unit);
        }
    }
}

fn emit_map(items: &[Item], depth: usize, unit: &str, one_line: bool, out: &mut String) {
    let pairs: Vec<_> = items
        .iter()
        .filter_map(|i| match i {
            Item::Pair(k, v) => Some((k, v)),
            Item::Comment(_) => None,
        })
        .collect();
    if pairs.is_empty() {
        out.push_str("{}");
        return;
    }
    out.push('{');
    for (n, (k, v)) in pairs.iter().enumerate() {
        if n > 0 {
            out.push(',');
            if one_line {
                out.push(' ');
            }
        }
        newline(out, depth + 1, unit, one_line);
        out.push_str(&quote(k));
        out.push_str(": ");
        emit_node(v, depth + 1, unit, one_line, out);
    }
    newline(out, depth, unit, one_line);
    out.push('}');
}

fn emit_node(node: &Node, depth: usize, unit: &str, one_line: bool, out: &mut String) {
    match node {
        Node::Map(items) => emit_map(items, depth, unit, one_line, out),
        Node::Seq(list) => {
            let list: Vec<_> = list
                .iter()
                .filter(|n| !matches!(n, Node::Comment(_)))
                .collect();
            if list.is_empty() {
                out.push_str("[]");
                return;
            }
            out.push('[');
            for (n, v) in list.iter().enumerate() {
                if n > 0 {
                    out.push(',');
                    if one_line {
                        out.push(' ');
                    }
                }
                newline(out, depth + 1, unit, one_line);
                emit_node(v, depth + 1, unit, one_line, out);
            }
            newline(out, depth, unit, one_line);
            out.push(']');
        }
        Node::Null | Node::Comment(_) => out.push_str("null"),
        Node::Scalar(s) => out.push_str(&scalar_text(s)),
    }
}

/// A scalar as Go's `json.Marshal` writes it.
pub fn scalar_text(s: &Scalar) -> String {
    match s {
        Scalar::Str(v) | Scalar::Time(v) => quote(v),
        Scalar::Bytes(b) => quote(&String::from_utf8_lossy(b)),
        Scalar::Int(i) => i.to_string(),
        Scalar::Bool(b) => b.to_string(),
        Scalar::Float(f) => go_json_float(*f),
    }
}

/// Go's float encoding: `'f'` format between 1e-6 and 1e21, else `'e'` with at
/// least two exponent digits removed (`1e+21`, `1e-07` → `1e-7`).
fn go_json_float(f: f64) -> String {
    let a = f.abs();
    if a == 0.0 || (1e-6..1e21).contains(&a) || !f.is_finite() {
        return format_float(f);
    }
    let e = format!("{f:e}");
    match e.split_once('e') {
        Some((m, exp)) if !exp.starts_with('-') => format!("{m}e+{exp}"),
        _ => e,
    }
}

/// A JSON string with Go's escaping (`<`, `>`, `&`, U+2028, U+2029 as `\u…`).
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", u32::from(c)));
            }
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sops_layout() {
        let t = parse(r#"{"a": "x<y>&", "n": 1, "f": 1.5, "b": true, "z": null, "o": {"l": [1, "s", {"q": 2}], "e": {}, "ea": []}, "s": ""}"#).unwrap();
        let want = "{\n\t\"a\": \"x\\u003cy\\u003e\\u0026\",\n\t\"n\": 1,\n\t\"f\": 1.5,\n\t\"b\": true,\n\t\"z\": null,\n\t\"o\": {\n\t\t\"l\": [\n\t\t\t1,\n\t\t\t\"s\",\n\t\t\t{\n\t\t\t\t\"q\": 2\n\t\t\t}\n\t\t],\n\t\t\"e\": {},\n\t\t\"ea\": []\n\t},\n\t\"s\": \"\"\n}\n";
        assert_eq!(emit(&t, None), want);
        assert_eq!(parse(&emit(&t, Some(2))).unwrap(), t);
        assert_eq!(parse(&emit(&t, Some(0))).unwrap(), t);
    }

    #[test]
    fn floats_and_errors() {
        assert_eq!(go_json_float(1e21), "1e+21");
        assert_eq!(go_json_float(1e-7), "1e-7");
        assert_eq!(go_json_float(2.0), "2");
        assert!(parse("[1]").is_err());
        assert!(parse("{\"a\": 1, \"a\": 2}").is_err());
        assert!(parse("{").is_err());
    }

    /// serde_json's depth limit (128) keeps the tree shallow: no stack overflow when
    /// it is walked or dropped.
    #[test]
    fn deep_nesting_is_an_error() {
        let deep = format!("{{\"a\": {}1{}}}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(parse(&deep).is_err());
    }

    /// Found by the sops property test: serde_json's default float parse can be one
    /// ULP off, so a value changed on encrypt (the crate enables `float_roundtrip`).
    #[test]
    fn floats_are_read_exactly() {
        for f in [
            -1.809068284168535e167_f64,
            2.2250738585072014e-308,
            0.1,
            1.7976931348623157e308,
        ] {
            let t = parse(&format!("{{\"f\": {}}}", go_json_float(f))).unwrap();
            let Item::Pair(_, Node::Scalar(Scalar::Float(back))) = &t.branches[0][0] else {
                panic!("a float")
            };
            assert_eq!(back.to_bits(), f.to_bits(), "{f:e}");
        }
    }
}
