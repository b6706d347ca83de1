//! Backups of the controller's key Secrets as one age-encrypted file.
//!
//! Upstream's answer to "back up the keys" is a plain YAML of private keys. Here the
//! Secrets are cleaned (no uid, resourceVersion, managedFields, …; type
//! `kubernetes.io/tls`; the key label kept) and written as a `v1` `List` in JSON,
//! encrypted to age recipients. `age -d` alone gives back a List `kubectl apply`
//! accepts; `restore` does the same and checks every item.
//!
//! Functions take and return Secret objects as `serde_json::Value`, so the source
//! (a file today, the cluster later) is the caller's business.

use serde_json::{Map, Value, json};
use zeroize::Zeroizing;

use crate::age::{self, AgeError, Identities, Recipient};

/// The label on the controller's key Secrets (compat string).
pub const KEY_LABEL: &str = "sealedsecrets.bitnami.com/sealed-secrets-key";
/// The label value of a key in use.
pub const KEY_LABEL_ACTIVE: &str = "active";
/// The Secret type of key Secrets.
pub const TLS_SECRET_TYPE: &str = "kubernetes.io/tls";
/// The first line of a binary age file.
pub const AGE_BINARY_HEADER: &[u8] = b"age-encryption.org/v1\n";
/// The first line of an armored age file.
pub const AGE_ARMOR_HEADER: &[u8] = b"-----BEGIN AGE ENCRYPTED FILE-----";

/// Why a backup could not be written or read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BackupError {
    /// An object that is not a usable key Secret.
    #[error("{what}: {why}")]
    NotAKeySecret {
        /// Which object (`Secret kube-system/x`, `item 2`).
        what: String,
        /// What is missing.
        why: String,
    },
    /// No key Secret in the input.
    #[error(
        "no key Secrets in the input: expected Secrets with data tls.crt and tls.key (kubectl get secret -n kube-system -l {KEY_LABEL} -o yaml)"
    )]
    Empty,
    /// age failed.
    #[error(transparent)]
    Age(#[from] AgeError),
    /// No identity opened the backup.
    #[error(
        "none of the given age identities can decrypt this backup ({0}); use the identity whose recipient the backup was made for"
    )]
    WrongIdentity(String),
    /// The decrypted content is not a List of Secrets.
    #[error("the decrypted backup is not a List of key Secrets: {0}")]
    BadContent(String),
}

/// Whether `bytes` is an age file (binary or armored).
pub fn is_age_file(bytes: &[u8]) -> bool {
    let trimmed = bytes.trim_ascii_start();
    trimmed.starts_with(AGE_BINARY_HEADER) || trimmed.starts_with(AGE_ARMOR_HEADER)
}

/// Every Secret in the documents (a `List`'s items are expanded).
pub fn flatten_lists(docs: &[Value]) -> Vec<Value> {
    let mut out = Vec::new();
    for d in docs {
        match d.get("items").and_then(Value::as_array) {
            Some(items) if d.get("kind").and_then(Value::as_str) != Some("Secret") => {
                out.extend(flatten_lists(items));
            }
            _ => out.push(d.clone()),
        }
    }
    out
}

fn describe(secret: &Value, index: usize) -> String {
    let name = secret.pointer("/metadata/name").and_then(Value::as_str);
    let ns = secret
        .pointer("/metadata/namespace")
        .and_then(Value::as_str);
    match (ns, name) {
        (Some(ns), Some(n)) => format!("Secret {ns}/{n}"),
        (None, Some(n)) => format!("Secret {n}"),
        _ => format!("item {}", index + 1),
    }
}

/// A key Secret as it should be restored: name, namespace, labels (with the key
/// label), annotations without `last-applied-configuration`, type
/// `kubernetes.io/tls`, and its data; no server-set fields.
pub fn clean_key_secret(secret: &Value, index: usize) -> Result<Value, BackupError> {
    let what = describe(secret, index);
    let bad = |why: &str| BackupError::NotAKeySecret {
        what: what.clone(),
        why: why.to_owned(),
    };
    if secret.get("kind").and_then(Value::as_str) != Some("Secret") {
        return Err(bad("not a Secret (kind must be Secret)"));
    }
    let name = secret
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
        .ok_or_else(|| bad("metadata.name is missing"))?;
    let data = secret
        .get("data")
        .and_then(Value::as_object)
        .ok_or_else(|| bad("data is missing"))?;
    for k in ["tls.crt", "tls.key"] {
        if !data.get(k).is_some_and(Value::is_string) {
            return Err(bad(&format!("data[{k:?}] is missing")));
        }
    }
    let mut metadata = Map::new();
    metadata.insert("name".into(), json!(name));
    if let Some(ns) = secret.pointer("/metadata/namespace") {
        metadata.insert("namespace".into(), ns.clone());
    }
    let mut labels = secret
        .pointer("/metadata/labels")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    labels
        .entry(KEY_LABEL)
        .or_insert_with(|| json!(KEY_LABEL_ACTIVE));
    metadata.insert("labels".into(), Value::Object(labels));
    if let Some(annotations) = secret
        .pointer("/metadata/annotations")
        .and_then(Value::as_object)
    {
        let kept: Map<String, Value> = annotations
            .iter()
            .filter(|(k, _)| *k != "kubectl.kubernetes.io/last-applied-configuration")
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if !kept.is_empty() {
            metadata.insert("annotations".into(), Value::Object(kept));
        }
    }
    Ok(json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": metadata,
        "type": TLS_SECRET_TYPE,
        "data": data,
    }))
}

/// Cleans every key Secret of the input (documents, Lists).
pub fn clean_key_secrets(docs: &[Value]) -> Result<Vec<Value>, BackupError> {
    let secrets: Vec<Value> = flatten_lists(docs)
        .iter()
        .enumerate()
        .map(|(i, s)| clean_key_secret(s, i))
        .collect::<Result<_, _>>()?;
    if secrets.is_empty() {
        return Err(BackupError::Empty);
    }
    Ok(secrets)
}

/// Encrypts the key Secrets to `recipients` as one age file (armored or binary).
pub fn seal_backup(
    secrets: &[Value],
    recipients: &[String],
    armor: bool,
) -> Result<Vec<u8>, BackupError> {
    let secrets = clean_key_secrets(secrets)?;
    let parsed: Vec<Recipient> = recipients
        .iter()
        .map(|r| r.parse())
        .collect::<Result<_, _>>()?;
    let list = json!({"apiVersion": "v1", "kind": "List", "items": secrets});
    let mut plain =
        Zeroizing::new(serde_json::to_vec_pretty(&list).expect("a JSON value always serialises"));
    plain.push(b'\n');
    Ok(age::encrypt_to(&parsed, &plain, armor)?)
}

/// Decrypts a backup and returns its key Secrets (checked and cleaned).
pub fn open_backup(file: &[u8], identities: &Identities) -> Result<Vec<Value>, BackupError> {
    let plain = age::decrypt_with(identities, file)?.ok_or_else(|| {
        BackupError::WrongIdentity(if identities.sources.is_empty() {
            "no identities loaded".to_owned()
        } else {
            identities.sources.join(", ")
        })
    })?;
    let list: Value =
        serde_json::from_slice(&plain).map_err(|e| BackupError::BadContent(e.to_string()))?;
    clean_key_secrets(std::slice::from_ref(&list))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(name: &str) -> Value {
        json!({
            "apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
            "metadata": {
                "name": name, "namespace": "kube-system", "uid": "u", "resourceVersion": "1",
                "creationTimestamp": "2024-01-01T00:00:00Z", "managedFields": [],
                "labels": {KEY_LABEL: "active"},
                "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}"}
            },
            "data": {"tls.crt": "Y2VydA==", "tls.key": "a2V5"}
        })
    }

    #[test]
    fn compat_strings() {
        assert_eq!(KEY_LABEL, "sealedsecrets.bitnami.com/sealed-secrets-key");
        assert_eq!(TLS_SECRET_TYPE, "kubernetes.io/tls");
    }

    #[test]
    fn round_trip_cleans_and_checks() {
        let (sk, pk) = age::generate_identity();
        let list = json!({"apiVersion": "v1", "kind": "List", "items": [secret("a"), secret("b")]});
        for armor in [true, false] {
            let file = seal_backup(
                std::slice::from_ref(&list),
                std::slice::from_ref(&pk),
                armor,
            )
            .unwrap();
            assert!(is_age_file(&file));
            assert_eq!(armor, file.starts_with(AGE_ARMOR_HEADER));
            assert!(!file.windows(4).any(|w| w == b"a2V5"));
            let mut ids = Identities::new();
            ids.add_text(&sk, "test").unwrap();
            let back = open_backup(&file, &ids).unwrap();
            assert_eq!(back.len(), 2);
            assert_eq!(back[0]["metadata"].get("uid"), None);
            assert_eq!(back[0]["metadata"]["labels"][KEY_LABEL], "active");
            assert_eq!(back[0]["metadata"].get("annotations"), None);
            assert_eq!(back[1]["data"]["tls.key"], "a2V5");
            let (other, _) = age::generate_identity();
            let mut wrong = Identities::new();
            wrong.add_text(&other, "wrong").unwrap();
            assert!(matches!(
                open_backup(&file, &wrong),
                Err(BackupError::WrongIdentity(_))
            ));
        }
    }

    #[test]
    fn bad_input_is_refused() {
        let mut s = secret("a");
        s["data"].as_object_mut().unwrap().remove("tls.key");
        assert!(clean_key_secrets(&[s]).is_err());
        assert!(matches!(clean_key_secrets(&[]), Err(BackupError::Empty)));
        assert!(
            clean_key_secrets(&[json!({"kind": "ConfigMap", "metadata": {"name": "x"}})]).is_err()
        );
    }
}
