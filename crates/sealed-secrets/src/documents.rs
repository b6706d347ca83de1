//! Reading YAML or JSON documents (one or many) and writing objects the way Go
//! kubeseal does: JSON pretty-printed with two spaces; YAML with sorted keys, every
//! document preceded by `---`.

use std::cell::Cell;
use std::fmt;
use std::str::FromStr;

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
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
    /// Collections nested deeper than [`MAX_DEPTH`].
    #[error(
        "invalid {format}: nested more than {MAX_DEPTH} levels deep ({detail}): a Kubernetes object is never that deep"
    )]
    TooDeep {
        /// JSON or YAML.
        format: &'static str,
        /// Where, as the parser said.
        detail: String,
    },
    /// YAML aliases expand the input far beyond its own size ("billion laughs").
    #[error(
        "invalid YAML: its aliases expand {input} bytes of input beyond {limit} values and bytes (an alias bomb?): write the documents without anchors and aliases"
    )]
    AliasExpansion {
        /// Size of the input in bytes.
        input: usize,
        /// The budget that was exceeded.
        limit: usize,
    },
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
            .map_err(|e| json_error(e.to_string()))?,
        Format::Yaml => {
            check_yaml_depth(text)?;
            let budget = Budget::for_input(text.len());
            let docs = serde_yaml_ng::Deserializer::from_str(text)
                .map(|doc| ValueSeed(&budget).deserialize(doc))
                .collect::<Result<Vec<_>, _>>();
            match docs {
                Ok(docs) => docs,
                // serde_yaml_ng's own limit on alias jumps catches the deep bombs.
                Err(e)
                    if budget.exceeded.get()
                        || e.to_string().starts_with("repetition limit exceeded") =>
                {
                    return Err(DocumentError::AliasExpansion {
                        input: text.len(),
                        limit: budget.limit,
                    });
                }
                Err(e) => return Err(yaml_error(e.to_string())),
            }
        }
    };
    Ok(docs
        .into_iter()
        .filter(|d| !matches!(d, Value::Null) && !matches!(d, Value::Object(m) if m.is_empty()))
        .collect())
}

/// Deepest nesting of collections accepted, as serde_json and serde_yaml_ng stop
/// at 128 levels themselves.
pub const MAX_DEPTH: usize = 128;

fn json_error(message: String) -> DocumentError {
    parse_error("JSON", message, DocumentError::Json)
}

fn yaml_error(message: String) -> DocumentError {
    parse_error("YAML", message, DocumentError::Yaml)
}

/// Both parsers report their depth limit as "recursion limit exceeded <where>".
fn parse_error(
    format: &'static str,
    message: String,
    other: fn(String) -> DocumentError,
) -> DocumentError {
    match message.strip_prefix("recursion limit exceeded ") {
        Some(at) => DocumentError::TooDeep {
            format,
            detail: at.to_owned(),
        },
        None => other(message),
    }
}

/// Flow brackets a text may hold when granit-parser cannot vouch for its depth: few
/// enough that libyaml's per-token walk over them stays cheap.
const UNCHECKED_FLOW_OPENERS: usize = 2 * MAX_DEPTH;

/// libyaml (under serde_yaml_ng) walks every open flow level at every token, so deep
/// flow nesting costs tokens × depth: 40,000 `[` take seconds and a 2 MiB body of
/// them most of an hour, before serde_yaml_ng's own depth limit is reached. granit-parser
/// scans in linear time, so it measures the depth first. Where granit-parser finds the
/// text invalid (the two parsers disagree on a few corners of YAML), serde_yaml_ng
/// still decides, but only over a text with few brackets.
fn check_yaml_depth(text: &str) -> Result<(), DocumentError> {
    let options = granit_parser::options! {
        bom_inside_document_as_content: true,
        block_scalar_eof_without_line_feed: true,
        flow_nesting_limit: MAX_DEPTH + 1,
        block_nesting_limit: MAX_DEPTH + 1,
    };
    let mut parser = granit_parser::Parser::new_from_str_with_options(text, options);
    let mut depth = 0usize;
    while let Some(event) = parser.next_event() {
        let detail = match event {
            Ok((
                granit_parser::Event::SequenceStart(..) | granit_parser::Event::MappingStart(..),
                span,
            )) => {
                depth += 1;
                if depth <= MAX_DEPTH {
                    continue;
                }
                format!(
                    "at line {} column {}",
                    span.start.line(),
                    span.start.col() + 1
                )
            }
            Ok((granit_parser::Event::SequenceEnd | granit_parser::Event::MappingEnd, _)) => {
                depth = depth.saturating_sub(1);
                continue;
            }
            Ok(_) => continue,
            Err(e) if matches!(e.kind(), granit_parser::ErrorKind::RecursionLimitExceeded) => {
                format!(
                    "at line {} column {}",
                    e.marker().line(),
                    e.marker().col() + 1
                )
            }
            Err(e) => {
                let openers = text.bytes().filter(|b| matches!(b, b'[' | b'{')).count();
                if openers <= UNCHECKED_FLOW_OPENERS {
                    return Ok(());
                }
                return Err(DocumentError::Yaml(e.to_string()));
            }
        };
        return Err(DocumentError::TooDeep {
            format: "YAML",
            detail,
        });
    }
    Ok(())
}

/// What YAML documents may expand to: every value counts 1, a string (keys
/// included) also its length. Without aliases a document stays well within twice its
/// text (each value takes at least a byte of it, a string its own bytes); aliases
/// repeat what they point at, and serde_yaml_ng's own repetition limit (alias jumps
/// per event) does not stop one large anchor referenced many times, which grows with
/// the square of the input. The allowance keeps ordinary small anchors working.
struct Budget {
    limit: usize,
    left: Cell<usize>,
    exceeded: Cell<bool>,
}

/// Room for aliases beyond twice the input: far more than anchors in real
/// manifests repeat, far less than memory.
const ALIAS_ALLOWANCE: usize = 256 * 1024;

impl Budget {
    fn for_input(len: usize) -> Self {
        let limit = len.saturating_mul(2).saturating_add(ALIAS_ALLOWANCE);
        Budget {
            limit,
            left: Cell::new(limit),
            exceeded: Cell::new(false),
        }
    }

    fn spend<E: serde::de::Error>(&self, cost: usize) -> Result<(), E> {
        match self.left.get().checked_sub(cost) {
            Some(left) => {
                self.left.set(left);
                Ok(())
            }
            None => {
                self.exceeded.set(true);
                Err(E::custom("alias expansion limit exceeded"))
            }
        }
    }
}

/// Deserializes a [`Value`] as serde_json's own impl does, spending the budget.
struct ValueSeed<'b>(&'b Budget);

impl<'de> DeserializeSeed<'de> for ValueSeed<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ValueSeed<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<Value, E> {
        self.0.spend(1)?;
        Ok(Value::Bool(v))
    }

    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Value, E> {
        self.0.spend(1)?;
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Value, E> {
        self.0.spend(1)?;
        Ok(Value::Number(v.into()))
    }

    fn visit_i128<E: serde::de::Error>(self, v: i128) -> Result<Value, E> {
        self.0.spend(1)?;
        serde_json::Number::deserialize(serde::de::value::I128Deserializer::<E>::new(v))
            .map(Value::Number)
    }

    fn visit_u128<E: serde::de::Error>(self, v: u128) -> Result<Value, E> {
        self.0.spend(1)?;
        serde_json::Number::deserialize(serde::de::value::U128Deserializer::<E>::new(v))
            .map(Value::Number)
    }

    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Value, E> {
        self.0.spend(1)?;
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Value, E> {
        self.0.spend(v.len().saturating_add(1))?;
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Value, E> {
        self.0.spend(v.len().saturating_add(1))?;
        Ok(Value::String(v))
    }

    fn visit_none<E: serde::de::Error>(self) -> Result<Value, E> {
        self.0.spend(1)?;
        Ok(Value::Null)
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<Value, E> {
        self.0.spend(1)?;
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        self.deserialize(deserializer)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        self.0.spend(1)?;
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(ValueSeed(self.0))? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        self.0.spend(1)?;
        let mut object = serde_json::Map::new();
        while let Some(key) = map.next_key::<String>()? {
            self.0.spend(key.len().saturating_add(1))?;
            let value = map.next_value_seed(ValueSeed(self.0))?;
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
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

    /// `levels` nested anchors, each a list of ten aliases of the one before.
    fn billion_laughs(levels: usize) -> String {
        let mut text = String::from("a0: &a0 [\"lol\"]\n");
        for i in 1..=levels {
            let refs = vec![format!("*a{}", i - 1); 10].join(", ");
            text.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
        }
        text
    }

    #[test]
    fn alias_bombs_are_refused() {
        // Deep: 10^9 values from a kilobyte.
        let err = parse(billion_laughs(9).as_bytes()).unwrap_err();
        assert!(matches!(err, DocumentError::AliasExpansion { .. }), "{err}");
        assert!(err.to_string().contains("alias bomb"), "{err}");
        // Wide: one large anchor referenced many times passes serde_yaml_ng's own
        // limit (alias jumps per event) but grows with the square of the input.
        let items = vec!["x"; 20_000].join(",");
        let refs = vec!["*big"; 20_000].join(",");
        let wide = format!("big: &big [{items}]\nrefs: [{refs}]\n");
        let err = parse(wide.as_bytes()).unwrap_err();
        assert!(matches!(err, DocumentError::AliasExpansion { .. }), "{err}");
    }

    #[test]
    fn ordinary_aliases_and_alias_free_documents_fit_the_budget() {
        assert_eq!(
            parse(billion_laughs(2).as_bytes()).unwrap()[0]["a2"][9][9][0],
            "lol"
        );
        let shared = "labels: &l {app: web, tier: front}\na: *l\nb: *l\n";
        assert_eq!(parse(shared.as_bytes()).unwrap()[0]["b"]["tier"], "front");
        // The densest alias-free shapes: short keys with implicit nulls, one-byte
        // scalars, empty flow collections.
        let keys: Vec<String> = (0..50_000).map(|i| format!("{i:x}")).collect();
        let flow_map = format!("m: {{{}}}", keys.join(","));
        assert_eq!(
            parse(flow_map.as_bytes()).unwrap()[0]["m"]
                .as_object()
                .unwrap()
                .len(),
            50_000
        );
        let ones = format!("l: [{}]", vec!["1"; 100_000].join(","));
        assert_eq!(
            parse(ones.as_bytes()).unwrap()[0]["l"]
                .as_array()
                .unwrap()
                .len(),
            100_000
        );
        let empties = format!("- {}", vec!["[]"; 50_000].join("\n- "));
        assert_eq!(
            parse(empties.as_bytes()).unwrap()[0]
                .as_array()
                .unwrap()
                .len(),
            50_000
        );
    }

    #[test]
    fn deep_nesting_is_refused_in_words() {
        let deep = "[".repeat(100_000) + &"]".repeat(100_000);
        let err = parse(deep.as_bytes()).unwrap_err().to_string();
        assert!(
            err.starts_with("invalid JSON: nested more than 128 levels deep"),
            "{err}"
        );
        let deep = format!("a: {}{}", "[".repeat(100_000), "]".repeat(100_000));
        let err = parse(deep.as_bytes()).unwrap_err().to_string();
        assert!(
            err.starts_with("invalid YAML: nested more than 128 levels deep"),
            "{err}"
        );
        let deep = "- ".repeat(10_000) + "x";
        let err = parse(deep.as_bytes()).unwrap_err().to_string();
        assert!(
            err.starts_with("invalid YAML: nested more than 128 levels deep"),
            "{err}"
        );
        // A BOM inside the stream (libyaml reads it as content) does not end the check.
        let deep = format!(
            "a: 1\n\u{feff}b: {}{}",
            "[".repeat(10_000),
            "]".repeat(10_000)
        );
        let err = parse(deep.as_bytes()).unwrap_err().to_string();
        assert!(
            err.starts_with("invalid YAML: nested more than 128 levels deep"),
            "{err}"
        );
        // 128 levels still parse.
        let ok = format!("a: {}1{}", "[".repeat(127), "]".repeat(127));
        assert!(parse(ok.as_bytes()).is_ok());
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
}
