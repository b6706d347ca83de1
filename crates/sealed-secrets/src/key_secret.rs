//! Private keys from the files users have: PEM key files, and the controller's key
//! Secrets (one Secret, several documents, or a `v1` List, as
//! `kubectl get secret -l sealedsecrets.bitnami.com/sealed-secrets-key -o yaml` writes).

use sealed_secrets_core::{KeyError, PrivateKey};
use serde_json::Value;

use crate::documents::{self, DocumentError};
use crate::secret::decode_base64;

/// Key of the private key PEM inside a key Secret (`kubernetes.io/tls`).
pub const TLS_KEY: &str = "tls.key";
/// Key of the certificate PEM inside a key Secret.
pub const TLS_CRT: &str = "tls.crt";

/// Why a key file gave no keys.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyFileError {
    /// A PEM private key that could not be read.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// Neither PEM nor YAML/JSON.
    #[error(transparent)]
    Document(#[from] DocumentError),
    /// A Secret without `tls.key`.
    #[error("secret {0:?} must contain a 'tls.key' key")]
    MissingTlsKey(String),
    /// `tls.key` is not base64.
    #[error("secret {0:?}: data[\"tls.key\"] is not valid base64")]
    InvalidBase64(String),
    /// The file holds no Secret and no PEM key.
    #[error("no private key found: expected a PEM private key, a key Secret or a List of them")]
    Empty,
}

/// Every private key in a file's bytes.
pub fn private_keys(bytes: &[u8]) -> Result<Vec<PrivateKey>, KeyFileError> {
    if bytes.windows(11).any(|w| w == b"-----BEGIN ") {
        return Ok(PrivateKey::all_from_pem(bytes)?);
    }
    let mut keys = Vec::new();
    for doc in documents::parse(bytes)? {
        collect(&doc, &mut keys)?;
    }
    if keys.is_empty() {
        return Err(KeyFileError::Empty);
    }
    Ok(keys)
}

fn collect(doc: &Value, keys: &mut Vec<PrivateKey>) -> Result<(), KeyFileError> {
    if let Some(items) = doc.get("items").and_then(Value::as_array) {
        for item in items {
            collect(item, keys)?;
        }
        return Ok(());
    }
    let name = doc
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    let encoded = doc
        .get("data")
        .and_then(|d| d.get(TLS_KEY))
        .and_then(Value::as_str)
        .ok_or_else(|| KeyFileError::MissingTlsKey(name.clone()))?;
    let pem = decode_base64(encoded).ok_or(KeyFileError::InvalidBase64(name))?;
    keys.push(PrivateKey::from_pem(&pem)?);
    Ok(())
}
