//! A plain Kubernetes `Secret` as read from a user's file, with its values decoded
//! and held in zeroizing buffers.

use std::collections::BTreeMap;
use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde_json::Value;
use zeroize::Zeroizing;

/// Secret values by key. `Debug` never shows a value.
#[derive(Default, Clone, PartialEq, Eq)]
pub struct SecretData(pub BTreeMap<String, Zeroizing<Vec<u8>>>);

impl fmt::Debug for SecretData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(
                self.0
                    .iter()
                    .map(|(k, v)| (k, format!("<redacted, {} bytes>", v.len()))),
            )
            .finish()
    }
}

/// A Secret read from input: metadata, type, immutability and decoded values
/// (`stringData` merged over `data`, as the API server and upstream kubeseal do).
#[derive(Debug, Clone, Default)]
pub struct InputSecret {
    /// The Secret's metadata as written.
    pub metadata: ObjectMeta,
    /// `type`.
    pub type_: Option<String>,
    /// `immutable`.
    pub immutable: Option<bool>,
    /// Decoded values.
    pub data: SecretData,
}

/// Why a document is not a usable Secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SecretError {
    /// The document is not a mapping.
    #[error("input is not a Kubernetes object (expected a mapping with kind: Secret)")]
    NotAnObject,
    /// The document is some other kind.
    #[error("input is a {kind}, not a Secret{hint}")]
    WrongKind {
        /// The document's `kind`.
        kind: String,
        /// Advice for the usual mix-ups.
        hint: &'static str,
    },
    /// `data` or `stringData` is not a map of strings.
    #[error("{field} must be a map of strings (key {key:?} is not a string)")]
    NotAString {
        /// `data` or `stringData`.
        field: &'static str,
        /// The offending key.
        key: String,
    },
    /// `data` or `stringData` is not a map.
    #[error("{field} must be a map of strings")]
    NotAMap {
        /// `data` or `stringData`.
        field: &'static str,
    },
    /// A `data` value is not standard base64.
    #[error(
        "invalid base64 in data[{key:?}]: values under data must be base64-encoded (use stringData for plain text)"
    )]
    InvalidBase64 {
        /// The offending key.
        key: String,
    },
    /// `metadata`, `type` or `immutable` has the wrong shape.
    #[error("invalid {field}: {message}")]
    InvalidField {
        /// The field.
        field: &'static str,
        /// What serde said.
        message: String,
    },
}

/// Decodes a base64 value the way Go's `encoding/json` decodes `[]byte`: standard
/// alphabet with padding; CR and LF are ignored.
pub fn decode_base64(text: &str) -> Option<Zeroizing<Vec<u8>>> {
    let cleaned: Zeroizing<String> =
        Zeroizing::new(text.chars().filter(|c| *c != '\n' && *c != '\r').collect());
    STANDARD.decode(cleaned.as_bytes()).ok().map(Zeroizing::new)
}

fn string_map<'v>(
    object: &'v serde_json::Map<String, Value>,
    field: &'static str,
) -> Result<Vec<(&'v String, &'v str)>, SecretError> {
    match object.get(field) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Object(m)) => m
            .iter()
            .map(|(k, v)| match v {
                Value::String(s) => Ok((k, s.as_str())),
                _ => Err(SecretError::NotAString {
                    field,
                    key: k.clone(),
                }),
            })
            .collect(),
        Some(_) => Err(SecretError::NotAMap { field }),
    }
}

fn field<T: serde::de::DeserializeOwned + Default>(
    object: &serde_json::Map<String, Value>,
    name: &'static str,
) -> Result<T, SecretError> {
    match object.get(name) {
        None | Some(Value::Null) => Ok(T::default()),
        Some(v) => serde_json::from_value(v.clone()).map_err(|e| SecretError::InvalidField {
            field: name,
            message: e.to_string(),
        }),
    }
}

impl InputSecret {
    /// Reads a Secret from a parsed YAML/JSON document. A missing `kind` is accepted
    /// (upstream does not check it); any other kind is refused.
    pub fn from_value(doc: &Value) -> Result<Self, SecretError> {
        let object = doc.as_object().ok_or(SecretError::NotAnObject)?;
        match object.get("kind").and_then(Value::as_str) {
            None | Some("Secret") => {}
            Some(kind) => {
                return Err(SecretError::WrongKind {
                    kind: kind.to_owned(),
                    hint: match kind {
                        "SealedSecret" => {
                            ": it is sealed already (use --recovery-unseal to open it, --re-encrypt to re-seal it)"
                        }
                        "List" => ": give the Secrets as separate documents",
                        _ => "",
                    },
                });
            }
        }
        let mut data = BTreeMap::new();
        for (k, v) in string_map(object, "data")? {
            let decoded =
                decode_base64(v).ok_or_else(|| SecretError::InvalidBase64 { key: k.clone() })?;
            data.insert(k.clone(), decoded);
        }
        for (k, v) in string_map(object, "stringData")? {
            data.insert(k.clone(), Zeroizing::new(v.as_bytes().to_vec()));
        }
        Ok(InputSecret {
            metadata: field(object, "metadata")?,
            type_: field(object, "type")?,
            immutable: field(object, "immutable")?,
            data: SecretData(data),
        })
    }

    /// Whether a document is empty in the sense upstream skips it (an empty `---`).
    pub fn is_blank_document(doc: &Value) -> bool {
        match doc {
            Value::Null => true,
            Value::Object(m) => m.is_empty(),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn string_data_wins_over_data() {
        let doc = json!({"kind": "Secret", "metadata": {"name": "s"},
            "data": {"a": "Zm9v", "b": "YmFy"}, "stringData": {"a": "override"}});
        let s = InputSecret::from_value(&doc).unwrap();
        assert_eq!(&s.data.0["a"][..], b"override");
        assert_eq!(&s.data.0["b"][..], b"bar");
    }

    #[test]
    fn invalid_base64_names_the_key_not_the_value() {
        let doc = json!({"data": {"password": "not base64!"}});
        let err = InputSecret::from_value(&doc).unwrap_err().to_string();
        assert!(err.contains("data[\"password\"]"), "{err}");
        assert!(!err.contains("not base64!"), "{err}");
    }

    #[test]
    fn go_style_base64_with_newlines_is_accepted() {
        let doc = json!({"data": {"k": "Zm9v\nYmFy"}});
        assert_eq!(
            &InputSecret::from_value(&doc).unwrap().data.0["k"][..],
            b"foobar"
        );
    }

    #[test]
    fn other_kinds_are_refused_with_a_hint() {
        let err = InputSecret::from_value(&json!({"kind": "SealedSecret"})).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("input is a SealedSecret, not a Secret: it is sealed already")
        );
        let err = InputSecret::from_value(&json!({"kind": "ConfigMap"})).unwrap_err();
        assert_eq!(err.to_string(), "input is a ConfigMap, not a Secret");
        assert!(matches!(
            InputSecret::from_value(&json!([1])),
            Err(SecretError::NotAnObject)
        ));
    }

    #[test]
    fn non_string_values_are_refused() {
        let err = InputSecret::from_value(&json!({"stringData": {"port": 5432}})).unwrap_err();
        assert_eq!(
            err.to_string(),
            "stringData must be a map of strings (key \"port\" is not a string)"
        );
        let err = InputSecret::from_value(&json!({"data": "x"})).unwrap_err();
        assert_eq!(err.to_string(), "data must be a map of strings");
    }

    #[test]
    fn debug_redacts_values() {
        let s = InputSecret::from_value(&json!({"stringData": {"k": "hunter2"}})).unwrap();
        let shown = format!("{s:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("<redacted, 7 bytes>"), "{shown}");
    }
}
