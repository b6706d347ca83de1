//! SealedSecret → Secret, as upstream's `Unseal` builds it: template metadata with
//! the SealedSecret's own name and namespace, decrypted values, rendered
//! `template.data`, and an owner reference unless the template opts out.

use std::collections::BTreeSet;
use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use sealed_secrets_core::{Attempt, Fingerprint, KeyRing, Scope};
use serde::Serialize;
use serde::ser::SerializeMap;
use zeroize::Zeroizing;

use crate::annotations;
use crate::secret::{InputSecret, SecretData, decode_base64};
use crate::template;
use crate::v1alpha1::SealedSecret;

/// How to treat the deprecated whole-Secret `spec.data`.
#[derive(Debug, Clone, Copy)]
pub struct UnsealOptions {
    /// Upstream's `--accept-deprecated-v1-data`, on by default.
    pub accept_deprecated_v1_data: bool,
}

impl Default for UnsealOptions {
    fn default() -> Self {
        UnsealOptions {
            accept_deprecated_v1_data: true,
        }
    }
}

/// The Secret a SealedSecret describes. `Debug` never shows a value.
#[derive(Debug, Clone, Default)]
pub struct UnsealedSecret {
    /// Metadata (template's, with name and namespace forced).
    pub metadata: ObjectMeta,
    /// `type`.
    pub type_: Option<String>,
    /// `immutable`.
    pub immutable: Option<bool>,
    /// Decrypted and rendered values.
    pub data: SecretData,
}

impl Serialize for UnsealedSecret {
    /// A `v1` Secret in Go's field order, values base64-encoded.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        struct Data<'a>(&'a SecretData);
        impl Serialize for Data<'_> {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let mut map = s.serialize_map(Some(self.0.0.len()))?;
                for (k, v) in &self.0.0 {
                    map.serialize_entry(k, &*Zeroizing::new(STANDARD.encode(&v[..])))?;
                }
                map.end()
            }
        }
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("kind", "Secret")?;
        map.serialize_entry("apiVersion", "v1")?;
        map.serialize_entry("metadata", &self.metadata)?;
        if let Some(immutable) = self.immutable {
            map.serialize_entry("immutable", &immutable)?;
        }
        if !self.data.0.is_empty() {
            map.serialize_entry("data", &Data(&self.data))?;
        }
        if let Some(t) = &self.type_ {
            map.serialize_entry("type", t)?;
        }
        map.end()
    }
}

/// What went wrong with one item.
#[derive(Debug, Clone, PartialEq, Eq)]
enum ItemFailure {
    NoKey,
    InvalidBase64,
    Template(String),
}

impl fmt::Display for ItemFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ItemFailure::NoKey => f.write_str(sealed_secrets_core::hybrid::NO_KEY_COULD_DECRYPT),
            ItemFailure::InvalidBase64 => f.write_str("invalid base64 in encryptedData"),
            ItemFailure::Template(e) => f.write_str(e),
        }
    }
}

/// Why a SealedSecret could not be unsealed. Failures of several items are grouped
/// like upstream's: `no key could decrypt secret (foo, bar)`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UnsealSecretError {
    /// Some items failed; nothing is produced.
    #[error("{}", group(.0))]
    Items(Vec<(String, String)>),
    /// `spec.data` used while not accepted.
    #[error("using deprecated 'data' field, use 'encryptedData' or flip the feature flag")]
    DeprecatedDataRefused,
    /// `spec.data` and `spec.encryptedData` together.
    #[error(
        "cannot use the field 'encryptedData' and the deprecated field 'data' at the same time"
    )]
    DataAndEncryptedData,
    /// `spec.data` opened but is not a Secret.
    #[error("deprecated 'data' field does not hold a Secret: {0}")]
    DeprecatedDataInvalid(String),
}

impl UnsealSecretError {
    fn items(failures: Vec<(String, ItemFailure)>) -> Self {
        UnsealSecretError::Items(
            failures
                .into_iter()
                .map(|(k, f)| (k, f.to_string()))
                .collect(),
        )
    }

    /// Keys whose values no key could decrypt.
    pub fn undecryptable_keys(&self) -> Vec<&str> {
        match self {
            UnsealSecretError::Items(items) => items
                .iter()
                .filter(|(_, m)| m == sealed_secrets_core::hybrid::NO_KEY_COULD_DECRYPT)
                .map(|(k, _)| k.as_str())
                .collect(),
            _ => Vec::new(),
        }
    }
}

/// Joins item failures: one line per distinct message, the keys in brackets.
fn group(items: &[(String, String)]) -> String {
    let mut by_message: Vec<(&str, Vec<&str>)> = Vec::new();
    for (key, message) in items {
        match by_message.iter_mut().find(|(m, _)| m == message) {
            Some((_, keys)) => keys.push(key),
            None => by_message.push((message, vec![key])),
        }
    }
    by_message
        .iter()
        .map(|(m, keys)| format!("{m} ({})", keys.join(", ")))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The OAEP label a SealedSecret's values must carry: scope from its top-level
/// annotations, with its own name and namespace (never the template's).
pub fn label_of(ss: &SealedSecret) -> Vec<u8> {
    scope_of(ss).label(
        ss.metadata.namespace.as_deref().unwrap_or_default(),
        ss.metadata.name.as_deref().unwrap_or_default(),
    )
}

/// The scope a SealedSecret is unsealed with.
pub fn scope_of(ss: &SealedSecret) -> Scope {
    annotations::scope_of(ss.metadata.annotations.as_ref())
}

/// What an unseal spent, success or not: what a controller counts and reports.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UnsealCost {
    /// RSA-OAEP private-key operations performed.
    pub rsa_operations: u64,
    /// Fingerprints of the keys that opened at least one value.
    pub keys_used: BTreeSet<Fingerprint>,
}

impl UnsealCost {
    fn add(&mut self, attempt: &Attempt<'_>) {
        self.rsa_operations += attempt.rsa_operations;
        if let Ok((_, key)) = &attempt.result {
            self.keys_used.insert(key.fingerprint().clone());
        }
    }
}

/// Unseals `ss` with `keys`, hinted keys ([`annotations::key_hints`]) first.
pub fn unseal(
    ss: &SealedSecret,
    keys: &KeyRing,
    options: UnsealOptions,
) -> Result<UnsealedSecret, UnsealSecretError> {
    unseal_measured(ss, keys, options, &mut UnsealCost::default())
}

/// [`unseal`], adding what it spent to `cost` whether it succeeds or not.
pub fn unseal_measured(
    ss: &SealedSecret,
    keys: &KeyRing,
    options: UnsealOptions,
    cost: &mut UnsealCost,
) -> Result<UnsealedSecret, UnsealSecretError> {
    let label = label_of(ss);
    let hints = annotations::key_hints(ss);

    let mut secret = match &ss.spec.data {
        Some(blob) => unseal_v1(ss, keys, options, &label, &hints, blob, cost)?,
        None => UnsealedSecret {
            metadata: ss.spec.template.metadata.clone(),
            type_: ss.spec.template.type_.clone(),
            immutable: ss.spec.template.immutable,
            data: SecretData::default(),
        },
    };

    let mut failures = Vec::new();
    for (key, text) in &ss.spec.encrypted_data {
        let Some(sealed) = decode_base64(text) else {
            failures.push((key.clone(), ItemFailure::InvalidBase64));
            continue;
        };
        let attempt = keys.attempt(&hints, &label, &sealed);
        cost.add(&attempt);
        match attempt.result {
            Ok((plain, _)) => {
                secret.data.0.insert(key.clone(), plain);
            }
            Err(_) => failures.push((key.clone(), ItemFailure::NoKey)),
        }
    }
    if !failures.is_empty() {
        return Err(UnsealSecretError::items(failures));
    }

    if let Some(templates) = &ss.spec.template.data {
        let context = secret.data.0.clone();
        for (key, source) in templates {
            match template::render(key, source, &context) {
                Ok(rendered) => {
                    secret.data.0.insert(key.clone(), rendered);
                }
                Err(e) => failures.push((key.clone(), ItemFailure::Template(e.to_string()))),
            }
        }
        if !failures.is_empty() {
            return Err(UnsealSecretError::items(failures));
        }
    }

    secret.metadata.name = ss.metadata.name.clone();
    secret.metadata.namespace = ss.metadata.namespace.clone();
    let skip_owner = annotations::is_true(
        ss.spec.template.metadata.annotations.as_ref(),
        annotations::SKIP_SET_OWNER_REFERENCES,
    );
    secret.metadata.owner_references = (!skip_owner).then(|| vec![owner_reference(ss)]);
    Ok(secret)
}

fn unseal_v1(
    ss: &SealedSecret,
    keys: &KeyRing,
    options: UnsealOptions,
    label: &[u8],
    hints: &[Fingerprint],
    blob: &str,
    cost: &mut UnsealCost,
) -> Result<UnsealedSecret, UnsealSecretError> {
    if !options.accept_deprecated_v1_data {
        return Err(UnsealSecretError::DeprecatedDataRefused);
    }
    if !ss.spec.encrypted_data.is_empty() {
        return Err(UnsealSecretError::DataAndEncryptedData);
    }
    let sealed = decode_base64(blob).ok_or_else(|| {
        UnsealSecretError::items(vec![("data".into(), ItemFailure::InvalidBase64)])
    })?;
    let attempt = keys.attempt(hints, label, &sealed);
    cost.add(&attempt);
    let (json, _) = attempt
        .result
        .map_err(|_| UnsealSecretError::items(vec![("data".into(), ItemFailure::NoKey)]))?;
    let doc: serde_json::Value = serde_json::from_slice(&json)
        .map_err(|e| UnsealSecretError::DeprecatedDataInvalid(e.to_string()))?;
    let input = InputSecret::from_value(&doc)
        .map_err(|e| UnsealSecretError::DeprecatedDataInvalid(e.to_string()))?;
    Ok(UnsealedSecret {
        metadata: input.metadata,
        type_: input.type_,
        immutable: input.immutable,
        data: input.data,
    })
}

/// The owner reference upstream sets: controller, no `blockOwnerDeletion`.
pub fn owner_reference(ss: &SealedSecret) -> OwnerReference {
    OwnerReference {
        api_version: "bitnami.com/v1alpha1".into(),
        kind: "SealedSecret".into(),
        name: ss.metadata.name.clone().unwrap_or_default(),
        uid: ss.metadata.uid.clone().unwrap_or_default(),
        controller: Some(true),
        block_owner_deletion: None,
    }
}
