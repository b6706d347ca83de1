//! Why "no key could decrypt secret", for a user who holds the private keys.
//!
//! This tries the labels a value could have been sealed with (other scopes, the
//! template's name and namespace), so it is a decryption oracle by design: only the
//! CLI's offline `--recovery-unseal` and `--validate` use it, never the controller.

use sealed_secrets_core::{Fingerprint, KeyRing, Scope};

use crate::annotations;
use crate::secret::decode_base64;
use crate::unseal::{label_of, scope_of};
use crate::v1alpha1::SealedSecret;

fn annotation_for(scope: Scope) -> &'static str {
    match scope {
        Scope::ClusterWide => annotations::CLUSTER_WIDE,
        _ => annotations::NAMESPACE_WIDE,
    }
}

/// One sentence on why the values of `ss` do not open with `keys`, or `None` when
/// they all open.
pub fn explain(ss: &SealedSecret, keys: &KeyRing) -> Option<String> {
    let hints = annotations::key_hints(ss);
    let label = label_of(ss);
    let sealed = ss
        .spec
        .encrypted_data
        .values()
        .chain(ss.spec.data.as_ref())
        .filter_map(|v| decode_base64(v))
        .find(|b| keys.unseal(&hints, &label, b).is_err())?;
    let opens = |label: &[u8]| keys.unseal(&hints, label, &sealed).is_ok();

    let scope = scope_of(ss);
    let ns = ss.metadata.namespace.as_deref().unwrap_or_default();
    let name = ss.metadata.name.as_deref().unwrap_or_default();
    let template = &ss.spec.template.metadata;
    let t_ns = template.namespace.as_deref().unwrap_or(ns);
    let t_name = template.name.as_deref().unwrap_or(name);

    for candidate in Scope::ALL {
        if candidate == scope || !opens(&candidate.label(ns, name)) {
            continue;
        }
        return Some(match (candidate, scope) {
            (Scope::Strict, _) => format!(
                "the value was sealed with strict scope, but the SealedSecret's top-level metadata has the annotation {}: \"true\"; remove it",
                annotation_for(scope)
            ),
            (_, Scope::ClusterWide) => format!(
                "the value was sealed with {candidate} scope, but the SealedSecret's top-level metadata has the annotation {}: \"true\"; set {}: \"true\" instead",
                annotations::CLUSTER_WIDE,
                annotation_for(candidate)
            ),
            _ => format!(
                "the value was sealed with {candidate} scope, but the SealedSecret's top-level metadata lacks the annotation {}: \"true\"",
                annotation_for(candidate)
            ),
        });
    }
    if (t_ns, t_name) != (ns, name) && opens(&Scope::Strict.label(t_ns, t_name)) {
        return Some(format!(
            "the value was sealed for {t_ns}/{t_name} with strict scope, but the SealedSecret is now {ns}/{name}: strict scope binds a value to its name and namespace (seal it again for the new place, or use --scope namespace-wide or cluster-wide)"
        ));
    }
    if t_ns != ns && opens(&Scope::NamespaceWide.label(t_ns, t_name)) {
        return Some(format!(
            "the value was sealed for namespace {t_ns} with namespace-wide scope, but the SealedSecret is now in namespace {ns}: namespace-wide scope binds a value to its namespace"
        ));
    }
    let given: Vec<&str> = keys.iter().map(|k| k.fingerprint().as_str()).collect();
    // Only the top-level record says which key sealed it: a template copy alone may
    // name the key from before an upstream /v1/rotate.
    let recorded = annotations::recorded_fingerprints(ss);
    let unknown: Vec<&Fingerprint> = recorded
        .iter()
        .filter(|fp| keys.get(fp).is_none())
        .collect();
    if !unknown.is_empty() && unknown.len() == recorded.len() {
        let list = unknown
            .iter()
            .map(|f| f.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        return Some(format!(
            "it was sealed with the key {list}, which is not among the given private keys ({})",
            given.join(", ")
        ));
    }
    Some(format!(
        "none of the given private keys ({}) opens it under any scope: it was sealed with another key, or the sealed value was altered",
        given.join(", ")
    ))
}
