//! Secret → SealedSecret, as upstream `kubeseal` builds it (`readSecrets` and
//! `NewSealedSecret`): every value sealed on its own, the input's metadata kept as
//! the template, scope from the input's annotations.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use rand_core::CryptoRng;
use sealed_secrets_core::{PublicKey, Scope, SealError, hybrid};

use crate::annotations;
use crate::names;
use crate::secret::InputSecret;
use crate::v1alpha1::{SealedSecret, SealedSecretSpec, SecretTemplateSpec};

/// What the command line says about the Secrets being sealed.
#[derive(Debug, Clone, Default)]
pub struct SealOptions {
    /// `--scope`, when given. Unlike upstream, an explicit `--scope strict` also
    /// removes a scope annotation found on the input (upstream cannot override one).
    pub scope: Option<Scope>,
    /// The namespace to use when the Secret has none (`-n`, else the kubeconfig
    /// context's, else `default`).
    pub default_namespace: String,
    /// Whether the namespace came from an explicit `-n`: then a Secret in another
    /// namespace is an error rather than silently moved.
    pub namespace_is_explicit: bool,
    /// `--allow-empty-data`.
    pub allow_empty_data: bool,
    /// Name and namespace forced by `--merge-into` (those of the target file).
    pub name_override: Option<String>,
    /// See [`SealOptions::name_override`].
    pub namespace_override: Option<String>,
}

/// Why a Secret could not be sealed. Texts follow upstream's where it has one.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SealSecretError {
    /// Neither `data` nor `stringData` has a value.
    #[error(
        "secret.data is empty in input Secret, assuming this is an error and aborting. To work with empty data, --allow-empty-data can be used"
    )]
    EmptyData,
    /// No `metadata.name`.
    #[error("missing metadata.name in input Secret")]
    MissingName,
    /// The Secret's namespace differs from an explicit `-n`.
    #[error(
        "namespace mismatch: input secret is in namespace {input:?} but {flag:?} was specified"
    )]
    NamespaceMismatch {
        /// The Secret's namespace.
        input: String,
        /// The `-n` value.
        flag: String,
    },
    /// A namespaced scope with no namespace.
    #[error("secret must declare a namespace")]
    MissingNamespace,
    /// `--raw` without `--namespace` for a namespaced scope.
    #[error("must provide the --namespace flag with --raw and --scope {0}")]
    RawNeedsNamespace(Scope),
    /// `--raw` strict without `--name`.
    #[error("must provide the --name flag with --raw and --scope strict")]
    RawNeedsName,
    /// A name the API server would refuse, so the SealedSecret could never be applied.
    #[error(
        "invalid name {0:?}: a Secret name must be a lowercase RFC 1123 subdomain (a-z, 0-9, '-' and '.', starting and ending with a letter or digit, at most 253 characters)"
    )]
    InvalidName(String),
    /// A namespace the API server would refuse.
    #[error(
        "invalid namespace {0:?}: a namespace must be a lowercase RFC 1123 label (a-z, 0-9 and '-', starting and ending with a letter or digit, at most 63 characters)"
    )]
    InvalidNamespace(String),
    /// The crypto failed.
    #[error(transparent)]
    Seal(#[from] SealError),
}

/// A name or namespace shortened for an error message (it may be anything the
/// input held, megabytes included).
fn shown(text: &str) -> String {
    const MAX: usize = 80;
    match text.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

/// Whether the API server would accept `name` and `namespace` (either may be empty:
/// not checked). Sealing does not refuse such names, as upstream does not (reading an
/// existing SealedSecret must never fail on its name); kubeseal warns with this.
pub fn check_names(name: &str, namespace: &str) -> Result<(), SealSecretError> {
    if !name.is_empty() {
        check_name(name)?;
    }
    if !namespace.is_empty() {
        check_namespace(namespace)?;
    }
    Ok(())
}

fn check_name(name: &str) -> Result<(), SealSecretError> {
    if names::is_dns1123_subdomain(name) {
        Ok(())
    } else {
        Err(SealSecretError::InvalidName(shown(name)))
    }
}

fn check_namespace(namespace: &str) -> Result<(), SealSecretError> {
    if names::is_dns1123_label(namespace) {
        Ok(())
    } else {
        Err(SealSecretError::InvalidNamespace(shown(namespace)))
    }
}

/// Seals one Secret to `key`.
pub fn seal_secret<R: CryptoRng + ?Sized>(
    rng: &mut R,
    key: &PublicKey,
    mut secret: InputSecret,
    options: &SealOptions,
) -> Result<SealedSecret, SealSecretError> {
    if secret.data.0.is_empty() && !options.allow_empty_data {
        return Err(SealSecretError::EmptyData);
    }
    let meta = &mut secret.metadata;
    if let Some(name) = &options.name_override {
        meta.name = Some(name.clone());
    }
    let name = meta
        .name
        .clone()
        .filter(|n| !n.is_empty())
        .ok_or(SealSecretError::MissingName)?;
    if let Some(ns) = &options.namespace_override {
        meta.namespace = Some(ns.clone());
    }
    if let Some(scope) = options.scope {
        annotations::set_scope(meta.annotations.get_or_insert_default(), scope);
    }
    let scope = annotations::scope_of(meta.annotations.as_ref());
    if scope != Scope::ClusterWide {
        match meta.namespace.as_deref() {
            Some(ns) if !ns.is_empty() => {
                if options.namespace_is_explicit && ns != options.default_namespace {
                    return Err(SealSecretError::NamespaceMismatch {
                        input: ns.to_owned(),
                        flag: options.default_namespace.clone(),
                    });
                }
            }
            _ => meta.namespace = Some(options.default_namespace.clone()),
        }
    }
    let namespace = meta.namespace.clone().unwrap_or_default();
    if scope != Scope::ClusterWide && namespace.is_empty() {
        return Err(SealSecretError::MissingNamespace);
    }

    let label = scope.label(&namespace, &name);
    let mut encrypted_data = BTreeMap::new();
    for (k, v) in &secret.data.0 {
        let sealed = hybrid::seal(rng, key, &label, v)?;
        encrypted_data.insert(k.clone(), STANDARD.encode(sealed));
    }

    let mut top_annotations = BTreeMap::new();
    annotations::set_scope(&mut top_annotations, scope);

    let mut sealed = SealedSecret {
        metadata: ObjectMeta {
            name: Some(name),
            namespace: Some(namespace).filter(|n| !n.is_empty()),
            annotations: Some(top_annotations),
            ..ObjectMeta::default()
        },
        spec: SealedSecretSpec {
            template: SecretTemplateSpec {
                metadata: template_metadata(secret.metadata),
                type_: secret.type_,
                immutable: secret.immutable,
                data: None,
            },
            data: None,
            encrypted_data,
        },
        status: None,
    };
    // In both places: a plain Secret's top-level metadata then equals its template's,
    // as in Go kubeseal's output, and upstream's /v1/rotate leaves the template alone.
    // This also replaces any copy the input carried (a Secret read back from a cluster
    // has the one of its own SealedSecret). The values are sealed already: the label
    // depends on name, namespace and scope only.
    annotations::set_fingerprints(&mut sealed, std::slice::from_ref(key.fingerprint()));
    Ok(sealed)
}

/// The input's metadata minus what the server owns, the owner references and the
/// last-applied annotations (which can hold the plaintext: upstream issue #227).
fn template_metadata(mut meta: ObjectMeta) -> ObjectMeta {
    meta.self_link = None;
    meta.uid = None;
    meta.resource_version = None;
    meta.generation = None;
    meta.creation_timestamp = None;
    meta.deletion_timestamp = None;
    meta.deletion_grace_period_seconds = None;
    meta.owner_references = None;
    if let Some(a) = meta.annotations.as_mut() {
        a.remove(annotations::KUBECTL_LAST_APPLIED);
        a.remove(annotations::KUBECFG_LAST_APPLIED);
    }
    if meta.annotations.as_ref().is_some_and(BTreeMap::is_empty) {
        meta.annotations = None;
    }
    meta
}

/// Seals one raw value (`kubeseal --raw`): base64 of the sealed bytes.
pub fn seal_raw<R: CryptoRng + ?Sized>(
    rng: &mut R,
    key: &PublicKey,
    scope: Scope,
    namespace: &str,
    name: &str,
    value: &[u8],
) -> Result<String, SealSecretError> {
    if scope != Scope::ClusterWide && namespace.is_empty() {
        return Err(SealSecretError::RawNeedsNamespace(scope));
    }
    if scope == Scope::Strict && name.is_empty() {
        return Err(SealSecretError::RawNeedsName);
    }
    let sealed = hybrid::seal(rng, key, &scope.label(namespace, name), value)?;
    Ok(STANDARD.encode(sealed))
}

/// Merges a freshly sealed object into an existing one (`--merge-into`): sealed
/// values, template labels, annotations and data from `new` win; the key
/// fingerprints of both are kept. When `existing` records no keys (sealed by Go
/// kubeseal, or rotated by a Go controller) and keeps values of its own, the merged
/// object records none either: naming only the new key would tell `kubeseal reseal`
/// that the old values are current.
pub fn merge_into(existing: &mut SealedSecret, new: SealedSecret) {
    let mut keys = annotations::recorded_fingerprints(existing);
    let keeps_unknown = keys.is_empty()
        && (existing.spec.data.is_some()
            || existing
                .spec
                .encrypted_data
                .keys()
                .any(|k| !new.spec.encrypted_data.contains_key(k)));
    keys.extend(annotations::recorded_fingerprints(&new));

    existing.spec.encrypted_data.extend(new.spec.encrypted_data);
    let (old_t, new_t) = (&mut existing.spec.template, new.spec.template);
    if let Some(labels) = new_t.metadata.labels {
        old_t.metadata.labels.get_or_insert_default().extend(labels);
    }
    if let Some(a) = new_t.metadata.annotations {
        old_t.metadata.annotations.get_or_insert_default().extend(a);
    }
    if let Some(data) = new_t.data {
        old_t.data.get_or_insert_default().extend(data);
    }
    // After the template merge, which brought `new`'s copy of the annotation along.
    annotations::set_fingerprints(existing, if keeps_unknown { &[] } else { &keys });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked_as_kubernetes_does() {
        // A 70-character name without dots is valid in Kubernetes (no per-part limit).
        assert!(check_name(&"a".repeat(70)).is_ok());
        assert!(check_name(&"a".repeat(254)).is_err());
        assert!(check_name("Db").is_err());
        assert!(check_namespace(&"a".repeat(63)).is_ok());
        assert!(check_namespace(&"a".repeat(64)).is_err());
        assert!(check_namespace("app.prod").is_err());
    }

    #[test]
    fn long_names_are_shortened_in_errors() {
        let err = check_name(&"X".repeat(10_000)).unwrap_err().to_string();
        assert!(err.len() < 400, "{err}");
        assert!(err.starts_with("invalid name \"XXXX"), "{err}");
    }
}
