//! Every annotation and label name other tools see. The `sealedsecrets.bitnami.com/`
//! names are upstream's (`pkg/apis/sealedsecrets/v1alpha1/types.go`) and must never
//! change; [`KEY_FINGERPRINT`] is ours.

use std::collections::BTreeMap;

use sealed_secrets_core::{Fingerprint, Scope};

use crate::v1alpha1::SealedSecret;

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

/// Ours: fingerprints (comma-separated) of the keys the values were sealed with. It
/// lets unsealing try the right key first, and lets CI see what is sealed with an old
/// key without any private key. The Go controller does not read it.
///
/// Written with the same value on the SealedSecret's top-level metadata and in
/// `spec.template.metadata` ([`set_fingerprints`]): upstream's `/v1/rotate` copies the
/// top-level metadata over the template whenever the two differ, so a top-level-only
/// annotation made it rewrite the template of every plain Secret we sealed. The
/// top-level copy is the record ([`recorded_fingerprints`]); the template copy is only a
/// hint ([`key_hints`]), because upstream's rotate drops the top-level one and keeps the
/// template's while it re-seals to another key.
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

/// The fingerprints listed in [`KEY_FINGERPRINT`] of one annotation map.
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
        .map(|v| parse_fingerprints(v))
        .unwrap_or_default()
}

/// The fingerprints of a fingerprint-list value (`SHA256:…,SHA256:…`).
pub fn parse_fingerprints(value: &str) -> Vec<Fingerprint> {
    value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(Fingerprint::new)
        .collect()
}

/// Fingerprints as a fingerprint-list annotation holds them: comma-separated.
pub fn join_fingerprints<'a>(fingerprints: impl IntoIterator<Item = &'a Fingerprint>) -> String {
    fingerprints
        .into_iter()
        .map(Fingerprint::as_str)
        .collect::<Vec<_>>()
        .join(",")
}

/// The keys `ss` records, on its top-level metadata, as those its values are sealed
/// with: what a decision such as "already sealed with the newest key" may rest on.
pub fn recorded_fingerprints(ss: &SealedSecret) -> Vec<Fingerprint> {
    fingerprints(ss.metadata.annotations.as_ref())
}

/// The keys to try first on `ss`: the top-level record, else the template's copy.
/// Only an order of trial: the template's copy can name a key the values no longer
/// use (see [`KEY_FINGERPRINT`]), which costs trials, never a failed unseal.
pub fn key_hints(ss: &SealedSecret) -> Vec<Fingerprint> {
    let recorded = recorded_fingerprints(ss);
    if recorded.is_empty() {
        fingerprints(ss.spec.template.metadata.annotations.as_ref())
    } else {
        recorded
    }
}

/// Records `keys` (duplicates dropped) as the keys the values of `ss` are sealed with,
/// replacing what was there, on the top-level metadata and in the template alike;
/// none removes the annotation from both.
pub fn set_fingerprints(ss: &mut SealedSecret, keys: &[Fingerprint]) {
    let mut unique: Vec<&Fingerprint> = Vec::with_capacity(keys.len());
    for fp in keys {
        if !unique.contains(&fp) {
            unique.push(fp);
        }
    }
    let value = join_fingerprints(unique);
    for annotations in [
        &mut ss.metadata.annotations,
        &mut ss.spec.template.metadata.annotations,
    ] {
        if value.is_empty() {
            if let Some(map) = annotations.as_mut() {
                map.remove(KEY_FINGERPRINT);
            }
            // An emptied map goes, so both sides stay alike (upstream's DeepEqual tells
            // an empty map from none).
            if annotations.as_ref().is_some_and(BTreeMap::is_empty) {
                *annotations = None;
            }
        } else {
            annotations
                .get_or_insert_default()
                .insert(KEY_FINGERPRINT.to_owned(), value.clone());
        }
    }
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

    fn sealed_secret(top: Option<&str>, template: Option<&str>) -> SealedSecret {
        let mut ss = SealedSecret::new("s", crate::SealedSecretSpec::default());
        ss.metadata.annotations = top.map(|v| map(&[(KEY_FINGERPRINT, v)]));
        ss.spec.template.metadata.annotations = template.map(|v| map(&[(KEY_FINGERPRINT, v)]));
        ss
    }

    fn fps(list: &[&str]) -> Vec<Fingerprint> {
        list.iter().map(|f| Fingerprint::new(*f)).collect()
    }

    #[test]
    fn fingerprints_are_written_in_both_places_without_duplicates() {
        let mut ss = SealedSecret::new("s", crate::SealedSecretSpec::default());
        ss.spec.template.metadata.annotations = Some(map(&[("team", "a")]));
        set_fingerprints(&mut ss, &fps(&["SHA256:a", "SHA256:b", "SHA256:a"]));
        assert_eq!(
            ss.metadata.annotations,
            Some(map(&[(KEY_FINGERPRINT, "SHA256:a,SHA256:b")]))
        );
        assert_eq!(
            ss.spec.template.metadata.annotations,
            Some(map(&[
                ("team", "a"),
                (KEY_FINGERPRINT, "SHA256:a,SHA256:b")
            ]))
        );
        assert_eq!(recorded_fingerprints(&ss), fps(&["SHA256:a", "SHA256:b"]));

        set_fingerprints(&mut ss, &fps(&["SHA256:c"]));
        assert_eq!(
            ss.metadata.annotations,
            Some(map(&[(KEY_FINGERPRINT, "SHA256:c")]))
        );
        assert_eq!(
            ss.spec.template.metadata.annotations,
            Some(map(&[("team", "a"), (KEY_FINGERPRINT, "SHA256:c")])),
            "replaced, not added to"
        );

        set_fingerprints(&mut ss, &[]);
        assert_eq!(ss.metadata.annotations, None, "no empty map left behind");
        assert_eq!(
            ss.spec.template.metadata.annotations,
            Some(map(&[("team", "a")]))
        );
    }

    #[test]
    fn hints_fall_back_to_the_template_but_the_record_does_not() {
        let both = sealed_secret(Some("SHA256:top"), Some("SHA256:tmpl"));
        assert_eq!(key_hints(&both), fps(&["SHA256:top"]), "top-level first");
        assert_eq!(recorded_fingerprints(&both), fps(&["SHA256:top"]));

        // What upstream's /v1/rotate returns: the top-level copy gone, the template's
        // (naming the key before the rotation) kept.
        let rotated = sealed_secret(None, Some("SHA256:old"));
        assert_eq!(key_hints(&rotated), fps(&["SHA256:old"]));
        assert!(recorded_fingerprints(&rotated).is_empty());

        let empty_top = sealed_secret(Some(""), Some("SHA256:old"));
        assert_eq!(key_hints(&empty_top), fps(&["SHA256:old"]));

        assert!(key_hints(&sealed_secret(None, None)).is_empty());
    }

    #[test]
    fn fingerprint_lists_parse_with_spaces_and_empty_entries() {
        assert_eq!(
            parse_fingerprints(" SHA256:a, ,SHA256:b,"),
            fps(&["SHA256:a", "SHA256:b"])
        );
        assert_eq!(
            join_fingerprints(&fps(&["SHA256:a", "SHA256:b"])),
            "SHA256:a,SHA256:b"
        );
    }
}
