//! Reading YAML or JSON documents (one or many) and writing objects the way Go
//! kubeseal does: JSON pretty-printed with two spaces; YAML with sorted keys, every
//! document preceded by `---`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Output format (`-o`/`--format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// Go kubeseal's default.
    #[default]
    Json,
    /// YAML.
    Yaml,
}

/// A `--format` value other than json or yaml.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unsupported output format: {0}")]
pub struct ParseFormatError(pub String);

impl FromStr for Format {
    type Err = ParseFormatError;

    /// Case-insensitive; empty means JSON, as upstream.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "" | "json" => Ok(Format::Json),
            "yaml" => Ok(Format::Yaml),
            _ => Err(ParseFormatError(s.to_owned())),
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Json => "json",
            Format::Yaml => "yaml",
        })
    }
}

/// Why input documents could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DocumentError {
    /// Not UTF-8.
    #[error("input is not valid UTF-8")]
    NotUtf8,
    /// JSON syntax error.
    #[error("invalid JSON: {0}")]
    Json(String),
    /// YAML syntax error.
    #[error("invalid YAML: {0}")]
    Yaml(String),
}

/// The format a text is written in: JSON if it starts with `{` or `[`.
pub fn detect(text: &str) -> Format {
    match text.trim_start().chars().next() {
        Some('{' | '[') => Format::Json,
        _ => Format::Yaml,
    }
}

/// Every document in `bytes`: a YAML stream (`---` separated) or JSON values back to
/// back. Empty documents (a bare `---`, `{}`) are left out, as upstream skips them.
pub fn parse(bytes: &[u8]) -> Result<Vec<Value>, DocumentError> {
    let text = std::str::from_utf8(bytes).map_err(|_| DocumentError::NotUtf8)?;
    let docs = match detect(text) {
        Format::Json => serde_json::Deserializer::from_str(text)
            .into_iter::<Value>()
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| DocumentError::Json(e.to_string()))?,
        Format::Yaml => {
            check_yaml_nesting(text)?;
            serde_yaml_ng::Deserializer::from_str(text)
                .map(Value::deserialize)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| DocumentError::Yaml(e.to_string()))?
        }
    };
    Ok(docs
        .into_iter()
        .filter(|d| !matches!(d, Value::Null) && !matches!(d, Value::Object(m) if m.is_empty()))
        .collect())
}

/// Refuses YAML nested more than 255 collections deep, in linear time.
///
/// serde_yaml_ng's scanner (libyaml) spends time proportional to the flow nesting
/// depth on every token, and applies its own depth limit only after scanning the
/// whole document: 2 MiB of `a: [[[[…` (the controller's request body limit) would
/// take hours. granit-parser stops at 255 nested collections; only that verdict is
/// taken from it, any other error is left to serde_yaml_ng as before.
fn check_yaml_nesting(text: &str) -> Result<(), DocumentError> {
    for event in granit_parser::Parser::new_from_str(text) {
        match event {
            Ok(_) => {}
            Err(e) if matches!(e.kind(), granit_parser::ErrorKind::RecursionLimitExceeded) => {
                return Err(DocumentError::Yaml(format!(
                    "collections nested too deeply: {e}"
                )));
            }
            Err(_) => return Ok(()),
        }
    }
    Ok(())
}

/// One object as JSON: two-space indent, fields in the type's order, then `\n`.
pub fn to_json<T: Serialize>(object: &T) -> Result<String, serde_json::Error> {
    let mut text = serde_json::to_string_pretty(object)?;
    text.push('\n');
    Ok(text)
}

/// One object as a YAML document: `---\n`, then keys sorted (as Go's JSON→YAML
/// conversion sorts them).
pub fn to_yaml<T: Serialize>(object: &T) -> Result<String, serde_json::Error> {
    // serde_json's Map is a BTreeMap here, so this round trip sorts every level.
    let sorted = serde_json::to_value(object)?;
    let body = serde_yaml_ng::to_string(&sorted).map_err(serde::ser::Error::custom)?;
    Ok(format!("---\n{body}"))
}

/// One object in `format`.
pub fn render<T: Serialize>(object: &T, format: Format) -> Result<String, serde_json::Error> {
    match format {
        Format::Json => to_json(object),
        Format::Yaml => to_yaml(object),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn format_parsing_matches_upstream() {
        assert_eq!("".parse::<Format>(), Ok(Format::Json));
        assert_eq!("JSON".parse::<Format>(), Ok(Format::Json));
        assert_eq!("Yaml".parse::<Format>(), Ok(Format::Yaml));
        assert_eq!(
            "xml".parse::<Format>().unwrap_err().to_string(),
            "unsupported output format: xml"
        );
    }

    #[test]
    fn multi_document_yaml_and_json() {
        let yaml = b"---\na: 1\n---\n---\nb: 2\n";
        assert_eq!(parse(yaml).unwrap(), [json!({"a": 1}), json!({"b": 2})]);
        let stream = b"{\"a\": 1}\n{\"b\": 2}\n";
        assert_eq!(parse(stream).unwrap(), [json!({"a": 1}), json!({"b": 2})]);
        assert!(parse(b"").unwrap().is_empty());
    }

    #[test]
    fn syntax_errors_say_which_format() {
        assert!(matches!(parse(b"{\"a\": "), Err(DocumentError::Json(_))));
        assert!(matches!(parse(b"a: [1"), Err(DocumentError::Yaml(_))));
        assert!(matches!(parse(&[0xff, 0xfe]), Err(DocumentError::NotUtf8)));
    }

    #[test]
    fn yaml_output_starts_with_separator_and_sorts_keys() {
        let v = json!({"kind": "X", "apiVersion": "v", "metadata": {"name": "n"}});
        let out = to_yaml(&v).unwrap();
        assert_eq!(out, "---\napiVersion: v\nkind: X\nmetadata:\n  name: n\n");
        assert!(!out.trim_end().ends_with("---"));
    }

    #[test]
    fn json_output_is_two_space_pretty_with_newline() {
        assert_eq!(
            to_json(&json!({"a": [1]})).unwrap(),
            "{\n  \"a\": [\n    1\n  ]\n}\n"
        );
    }

    /// Deeply nested input is an error from the parsers' depth limits, not a stack
    /// overflow (the fuzz targets keep inputs short, so this is checked here). Before
    /// the nesting check, the first input took about 25 s (a 2 MiB one hours): the
    /// YAML scanner's work grows with the nesting depth on every token.
    #[test]
    fn deep_nesting_is_an_error() {
        let flow = format!("a: {}", "[".repeat(2 << 20));
        let e = parse(flow.as_bytes()).unwrap_err().to_string();
        assert!(e.contains("nested too deeply"), "{e}");
        for text in [
            flow,
            format!("{}1{}", "[".repeat(100_000), "]".repeat(100_000)),
            format!("a: {}1{}", "{b: ".repeat(10_000), "}".repeat(10_000)),
        ] {
            assert!(parse(text.as_bytes()).is_err());
        }
    }
}
