//! dotenv, exactly as sops reads it: lines split on `\n`, empty lines dropped,
//! `#` at column 0 is a comment, otherwise `key=value` split at the first `=`
//! (the key is not trimmed; no quotes, no `export`), `\n` in a value is a newline.

use super::FormatError;
use crate::tree::{Item, Node, Scalar, Tree, format_float};

/// Parses dotenv text into one branch of string values and comments.
pub fn parse(text: &str) -> Result<Tree, FormatError> {
    let mut items = Vec::new();
    for (i, line) in text.split('\n').enumerate() {
        if line.is_empty() {
            continue;
        }
        if let Some(c) = line.strip_prefix('#') {
            items.push(Item::Comment(c.to_owned()));
            continue;
        }
        let Some((k, v)) = line.split_once('=') else {
            return Err(FormatError::Dotenv(format!(
                "line {}: invalid dotenv input line (expected KEY=VALUE or # comment)",
                i + 1
            )));
        };
        items.push(Item::Pair(
            k.to_owned(),
            Node::Scalar(Scalar::Str(v.replace("\\n", "\n"))),
        ));
    }
    Ok(Tree {
        branches: vec![items],
    })
}

/// sops's `ValToString`.
pub fn value_text(node: &Node) -> String {
    match node {
        Node::Scalar(Scalar::Str(s) | Scalar::Time(s)) => s.clone(),
        Node::Scalar(Scalar::Bytes(b)) => String::from_utf8_lossy(b).into_owned(),
        Node::Scalar(Scalar::Int(i)) => i.to_string(),
        Node::Scalar(Scalar::Float(f)) => format_float(*f),
        Node::Scalar(Scalar::Bool(b)) => b.to_string(),
        _ => String::new(),
    }
}

/// Writes `key=value` lines and `#comment` lines, then `extra` pairs (metadata).
pub fn emit(tree: &Tree, extra: &[(String, String)]) -> Result<String, FormatError> {
    let mut out = String::new();
    let empty = Vec::new();
    for item in tree.branches.first().unwrap_or(&empty) {
        match item {
            Item::Comment(c) => {
                out.push('#');
                out.push_str(&c.replace('\n', "\\n"));
            }
            Item::Pair(k, v) => {
                if matches!(v, Node::Map(_) | Node::Seq(_)) {
                    return Err(FormatError::Dotenv(format!(
                        "cannot write nested value {k:?} as dotenv"
                    )));
                }
                out.push_str(k);
                out.push('=');
                out.push_str(&value_text(v).replace('\n', "\\n"));
            }
        }
        out.push('\n');
    }
    for (k, v) in extra {
        out.push_str(k);
        out.push('=');
        out.push_str(&v.replace('\n', "\\n"));
        out.push('\n');
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sops_rules() {
        let t = parse("A=1\n\n#c\nB=x\\ny\nC =a=b\r\n").unwrap();
        assert_eq!(
            t.branches[0],
            vec![
                Item::Pair("A".into(), Node::Scalar(Scalar::Str("1".into()))),
                Item::Comment("c".into()),
                Item::Pair("B".into(), Node::Scalar(Scalar::Str("x\ny".into()))),
                Item::Pair("C ".into(), Node::Scalar(Scalar::Str("a=b\r".into()))),
            ]
        );
        assert_eq!(emit(&t, &[]).unwrap(), "A=1\n#c\nB=x\\ny\nC =a=b\r\n");
        assert!(parse("novalue\n").is_err());
    }
}
