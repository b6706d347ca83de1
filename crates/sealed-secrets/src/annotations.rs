//! Every annotation and label name other tools see. The `sealedsecrets.bitnami.com/`
//! names are upstream's (`pkg/apis/sealedsecrets/v1alpha1/types.go`) and must never
//! change; [`KEY_FINGERPRINT`] is ours.

use std::collections::BTreeMap;

use sealed_secrets_core::{Fingerprint, Scope};

/// `"true"` here makes the scope cluster-wide (takes precedence over namespace-wide).
pub const CLUSTER_WIDE: &str = "sealedsecrets.bitnami.com/cluster-wide";
/// `"true"` here makes the scope namespace-wide.
pub const NAMESPACE_WIDE: &str = "sealedsecrets.bitnami.com/namespace-wide";
/// On an existing Secret: the controller may take it over.
pub const MANAGED: &str = "sealedsecrets.bitnami.com/managed";
/// On an existing Secret: merge into it instead of replacing it.
pub const PATCH: &str = "sealedsecrets.bitnami.com/patch";
/// In the template: produce the Secret without an owner reference.
pub const SKIP_SET_OWNER_REFERENCES: &str = "sealedsecrets.bitnami.com/skip-set-owner-references";
/// Label on the controller's key Secrets, with value [`SEALING_KEY_ACTIVE`].
pub const SEALING_KEY_LABEL: &str = "sealedsecrets.bitnami.com/sealed-secrets-key";
/// Value of [`SEALING_KEY_LABEL`] on keys in use.
pub const SEALING_KEY_ACTIVE: &str = "active";
/// kubectl's copy of the applied object; it may hold plaintext, so sealing drops it.
pub const KUBECTL_LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";
/// kubecfg's copy of the applied object; dropped for the same reason.
pub const KUBECFG_LAST_APPLIED: &str = "kubecfg.ksonnet.io/last-applied-configuration";

/// Ours: fingerprints (comma-separated) of the keys the values were sealed with, on
/// the SealedSecret's top-level metadata. It lets unsealing try the right key first,
/// and lets CI see what is sealed with an old key without any private key. The Go
/// controller ignores it.
pub const KEY_FINGERPRINT: &str = "sealed-secrets-rs.io/key-fingerprint";

/// The annotation value upstream treats as true; `"TRUE"`, `"yes"`, `"1"` are false.
pub const TRUE: &str = "true";

/// Whether `name` is set to exactly `"true"`.
pub fn is_true(annotations: Option<&BTreeMap<String, String>>, name: &str) -> bool {
    annotations
        .and_then(|a| a.get(name))
        .is_some_and(|v| v == TRUE)
}

/// The scope the annotations ask for (upstream `SecretScope`).
pub fn scope_of(annotations: Option<&BTreeMap<String, String>>) -> Scope {
    if is_true(annotations, CLUSTER_WIDE) {
        Scope::ClusterWide
    } else if is_true(annotations, NAMESPACE_WIDE) {
        Scope::NamespaceWide
    } else {
        Scope::Strict
    }
}

/// Replaces both scope annotations by the one for `scope` (none for strict).
pub fn set_scope(annotations: &mut BTreeMap<String, String>, scope: Scope) {
    annotations.remove(CLUSTER_WIDE);
    annotations.remove(NAMESPACE_WIDE);
    match scope {
        Scope::Strict => {}
        Scope::NamespaceWide => {
            annotations.insert(NAMESPACE_WIDE.to_owned(), TRUE.to_owned());
        }
        Scope::ClusterWide => {
            annotations.insert(CLUSTER_WIDE.to_owned(), TRUE.to_owned());
        }
    }
}

/// The fingerprints listed in [`KEY_FINGERPRINT`].
pub fn fingerprints(annotations: Option<&BTreeMap<String, String>>) -> Vec<Fingerprint> {
    fingerprint_list(annotations, KEY_FINGERPRINT)
}

/// The comma-separated fingerprints in annotation `name` (the layout of
/// [`KEY_FINGERPRINT`], also used by the controller on the Secrets it writes).
pub fn fingerprint_list(
    annotations: Option<&BTreeMap<String, String>>,
    name: &str,
) -> Vec<Fingerprint> {
    annotations
        .and_then(|a| a.get(name))
        .map(|v| {
            v.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(Fingerprint::new)
                .collect()
        })
        .unwrap_or_default()
}

/// Fingerprints as a fingerprint-list annotation holds them: comma-separated.
pub fn join_fingerprints<'a>(fingerprints: impl IntoIterator<Item = &'a Fingerprint>) -> String {
    fingerprints
        .into_iter()
        .map(Fingerprint::as_str)
        .collect::<Vec<_>>()
        .join(",")
}

/// Adds `fingerprint` to [`KEY_FINGERPRINT`], keeping the ones already listed.
pub fn add_fingerprint(annotations: &mut BTreeMap<String, String>, fingerprint: &Fingerprint) {
    let mut all = fingerprints(Some(annotations));
    if !all.contains(fingerprint) {
        all.push(fingerprint.clone());
    }
    annotations.insert(KEY_FINGERPRINT.to_owned(), join_fingerprints(&all));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn compat_strings_are_upstreams() {
        assert_eq!(CLUSTER_WIDE, "sealedsecrets.bitnami.com/cluster-wide");
        assert_eq!(NAMESPACE_WIDE, "sealedsecrets.bitnami.com/namespace-wide");
        assert_eq!(MANAGED, "sealedsecrets.bitnami.com/managed");
        assert_eq!(PATCH, "sealedsecrets.bitnami.com/patch");
        assert_eq!(
            SKIP_SET_OWNER_REFERENCES,
            "sealedsecrets.bitnami.com/skip-set-owner-references"
        );
        assert_eq!(
            SEALING_KEY_LABEL,
            "sealedsecrets.bitnami.com/sealed-secrets-key"
        );
        assert_eq!(SEALING_KEY_ACTIVE, "active");
        assert_eq!(
            KUBECTL_LAST_APPLIED,
            "kubectl.kubernetes.io/last-applied-configuration"
        );
        assert_eq!(
            KUBECFG_LAST_APPLIED,
            "kubecfg.ksonnet.io/last-applied-configuration"
        );
        assert_eq!(KEY_FINGERPRINT, "sealed-secrets-rs.io/key-fingerprint");
    }

    #[test]
    fn scope_from_annotations_follows_upstream() {
        assert_eq!(scope_of(None), Scope::Strict);
        assert_eq!(
            scope_of(Some(&map(&[(CLUSTER_WIDE, "true")]))),
            Scope::ClusterWide
        );
        assert_eq!(
            scope_of(Some(&map(&[(NAMESPACE_WIDE, "true")]))),
            Scope::NamespaceWide
        );
        assert_eq!(
            scope_of(Some(&map(&[
                (NAMESPACE_WIDE, "true"),
                (CLUSTER_WIDE, "true")
            ]))),
            Scope::ClusterWide,
            "both set: cluster-wide wins"
        );
        for not_true in ["TRUE", "yes", "1", ""] {
            assert_eq!(
                scope_of(Some(&map(&[(CLUSTER_WIDE, not_true)]))),
                Scope::Strict
            );
        }
    }

    #[test]
    fn set_scope_replaces_both() {
        let mut a = map(&[(CLUSTER_WIDE, "true"), ("other", "x")]);
        set_scope(&mut a, Scope::NamespaceWide);
        assert_eq!(a, map(&[(NAMESPACE_WIDE, "true"), ("other", "x")]));
        set_scope(&mut a, Scope::Strict);
        assert_eq!(a, map(&[("other", "x")]));
    }

    #[test]
    fn fingerprints_accumulate_without_duplicates() {
        let mut a = BTreeMap::new();
        add_fingerprint(&mut a, &Fingerprint::new("SHA256:a"));
        add_fingerprint(&mut a, &Fingerprint::new("SHA256:b"));
        add_fingerprint(&mut a, &Fingerprint::new("SHA256:a"));
        assert_eq!(a[KEY_FINGERPRINT], "SHA256:a,SHA256:b");
        assert_eq!(
            fingerprints(Some(&a)),
            [Fingerprint::new("SHA256:a"), Fingerprint::new("SHA256:b")]
        );
    }
}
