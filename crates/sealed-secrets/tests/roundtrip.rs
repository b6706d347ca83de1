//! Seal → unseal through the object layer: template metadata, type, immutable,
//! template.data, owner references, the deprecated v1 `spec.data`, grouped errors.
#![allow(clippy::unwrap_used)] // test helpers: a failed unwrap is a failed test

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use sealed_secrets::core::{KeyRing, PrivateKey, Scope, hybrid};
use sealed_secrets::explain::explain;
use sealed_secrets::seal::{SealOptions, seal_secret};
use sealed_secrets::secret::InputSecret;
use sealed_secrets::unseal::{
    UnsealCost, UnsealOptions, UnsealSecretError, unseal, unseal_measured,
};
use sealed_secrets::{SealedSecret, annotations};
use serde_json::json;

fn key() -> PrivateKey {
    PrivateKey::from_pem(include_bytes!(
        "../../sealed-secrets-core/testdata/key-a.pem"
    ))
    .unwrap()
}

fn ring() -> KeyRing {
    let mut r = KeyRing::new();
    r.insert(key());
    r
}

fn rng() -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(3)
}

fn sealed(doc: serde_json::Value) -> SealedSecret {
    let secret = InputSecret::from_value(&doc).unwrap();
    let opts = SealOptions {
        default_namespace: "default".into(),
        ..SealOptions::default()
    };
    seal_secret(&mut rng(), key().public_key(), secret, &opts).unwrap()
}

#[test]
fn template_metadata_type_and_immutable_carry_over() {
    let ss = sealed(
        json!({"kind": "Secret", "type": "kubernetes.io/dockerconfigjson", "immutable": true,
        "metadata": {"name": "reg", "namespace": "ci", "labels": {"team": "a"}, "uid": "x", "resourceVersion": "9",
                     "ownerReferences": [{"apiVersion": "v1", "kind": "X", "name": "o", "uid": "u"}]},
        "stringData": {".dockerconfigjson": "{}"}}),
    );
    let t = &ss.spec.template;
    assert_eq!(t.type_.as_deref(), Some("kubernetes.io/dockerconfigjson"));
    assert_eq!(t.immutable, Some(true));
    assert!(t.metadata.uid.is_none() && t.metadata.resource_version.is_none());
    assert!(t.metadata.owner_references.is_none());
    let s = unseal(&ss, &ring(), UnsealOptions::default()).unwrap();
    assert_eq!(s.type_.as_deref(), Some("kubernetes.io/dockerconfigjson"));
    assert_eq!(s.immutable, Some(true));
    assert_eq!(s.metadata.labels.unwrap()["team"], "a");
    assert_eq!(&s.data.0[".dockerconfigjson"][..], b"{}");
    assert_eq!(
        s.metadata.owner_references.unwrap()[0].controller,
        Some(true)
    );
}

#[test]
fn template_data_renders_over_decrypted_values() {
    let mut ss = sealed(json!({"metadata": {"name": "db", "namespace": "app"},
        "stringData": {"user": "admin", "pass": "p@ss"}}));
    ss.spec.template.data = Some(
        [(
            "dsn".to_owned(),
            "postgres://{{ .user }}:{{ .pass | b64enc }}@db".to_owned(),
        )]
        .into(),
    );
    let s = unseal(&ss, &ring(), UnsealOptions::default()).unwrap();
    assert_eq!(&s.data.0["dsn"][..], b"postgres://admin:cEBzcw==@db");

    // A missing key prints Go's `<no value>`; a missing key where a string must be
    // is an error naming the template, its position and the call.
    ss.spec.template.data = Some([("odd".to_owned(), "{{ .nope }}".to_owned())].into());
    let s = unseal(&ss, &ring(), UnsealOptions::default()).unwrap();
    assert_eq!(&s.data.0["odd"][..], b"<no value>");
    ss.spec.template.data = Some([("bad".to_owned(), "{{ .nope | upper }}".to_owned())].into());
    let err = unseal(&ss, &ring(), UnsealOptions::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "template: bad:1:11: executing \"bad\" at <upper>: invalid value; expected string (bad)"
    );
}

#[test]
fn skip_owner_references_from_the_template() {
    let ss = sealed(json!({"metadata": {"name": "s", "namespace": "n",
        "annotations": {annotations::SKIP_SET_OWNER_REFERENCES: "true"}}, "stringData": {"k": "v"}}));
    let s = unseal(&ss, &ring(), UnsealOptions::default()).unwrap();
    assert!(s.metadata.owner_references.is_none());
}

#[test]
fn scope_is_read_from_top_level_annotations_only() {
    let mut ss = sealed(json!({"metadata": {"name": "s", "namespace": "n",
        "annotations": {annotations::CLUSTER_WIDE: "true"}}, "stringData": {"k": "v"}}));
    ss.metadata.namespace = Some("elsewhere".into());
    assert!(
        unseal(&ss, &ring(), UnsealOptions::default()).is_ok(),
        "cluster-wide moves"
    );
    // Flipping the top-level annotation to "false" after sealing makes unseal fail.
    ss.metadata
        .annotations
        .as_mut()
        .unwrap()
        .insert(annotations::CLUSTER_WIDE.into(), "false".into());
    let err = unseal(&ss, &ring(), UnsealOptions::default()).unwrap_err();
    assert_eq!(err.to_string(), "no key could decrypt secret (k)");
    assert!(
        explain(&ss, &ring())
            .unwrap()
            .contains("sealed with cluster-wide scope")
    );
}

#[test]
fn errors_are_grouped_by_message() {
    let mut ss = sealed(json!({"metadata": {"name": "s", "namespace": "n"},
        "stringData": {"a": "1", "b": "2", "c": "3"}}));
    ss.metadata.name = Some("renamed".into());
    ss.spec
        .encrypted_data
        .insert("d".into(), "!!not base64".into());
    let err = unseal(&ss, &ring(), UnsealOptions::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "no key could decrypt secret (a, b, c)\ninvalid base64 in encryptedData (d)"
    );
    assert_eq!(err.undecryptable_keys(), ["a", "b", "c"]);
}

#[test]
fn deprecated_v1_data() {
    let whole = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "old", "labels": {"v": "1"}},
        "data": {"k": STANDARD.encode("legacy")}});
    let blob = hybrid::seal(
        &mut rng(),
        key().public_key(),
        &Scope::Strict.label("ns", "old"),
        whole.to_string().as_bytes(),
    )
    .unwrap();
    let mut ss: SealedSecret = serde_json::from_value(json!({"apiVersion": "bitnami.com/v1alpha1",
        "kind": "SealedSecret", "metadata": {"name": "old", "namespace": "ns"},
        "spec": {"data": STANDARD.encode(blob)}}))
    .unwrap();
    let s = unseal(&ss, &ring(), UnsealOptions::default()).unwrap();
    assert_eq!(&s.data.0["k"][..], b"legacy");
    assert_eq!(s.metadata.namespace.as_deref(), Some("ns"));
    let refuse = UnsealOptions {
        accept_deprecated_v1_data: false,
    };
    assert!(
        unseal(&ss, &ring(), refuse)
            .unwrap_err()
            .to_string()
            .contains("deprecated")
    );
    ss.spec.encrypted_data.insert("x".into(), "AAAA".into());
    assert_eq!(
        unseal(&ss, &ring(), UnsealOptions::default()).unwrap_err(),
        UnsealSecretError::DataAndEncryptedData
    );
}

#[test]
fn go_kubeseal_output_with_null_creation_timestamps_is_read() {
    // Shape of Go kubeseal's JSON (kind first, creationTimestamp: null, template always present).
    let text = r#"{"kind":"SealedSecret","apiVersion":"bitnami.com/v1alpha1",
      "metadata":{"name":"mysecret","namespace":"default","creationTimestamp":null},
      "spec":{"template":{"metadata":{"name":"mysecret","namespace":"default","creationTimestamp":null}},
      "encryptedData":{}}}"#;
    let ss: SealedSecret = serde_json::from_str(text).unwrap();
    assert_eq!(ss.metadata.name.as_deref(), Some("mysecret"));
    assert!(
        unseal(&ss, &ring(), UnsealOptions::default())
            .unwrap()
            .data
            .0
            .is_empty()
    );
}

#[test]
fn golden_vector_from_the_python_reference() {
    // Sealed by tests/interop/sealed_secrets_ref.py (Python `cryptography`) to
    // testdata/key-a.pem, strict scope default/golden, plaintext "golden-value".
    let vector = include_str!("data/golden-strict.txt").trim();
    let ss: SealedSecret = serde_json::from_value(json!({"apiVersion": "bitnami.com/v1alpha1",
        "kind": "SealedSecret", "metadata": {"name": "golden", "namespace": "default"},
        "spec": {"encryptedData": {"v": vector}}}))
    .unwrap();
    let s = unseal(&ss, &ring(), UnsealOptions::default()).unwrap();
    assert_eq!(&s.data.0["v"][..], b"golden-value");
}

fn key_b() -> PrivateKey {
    PrivateKey::from_pem(include_bytes!(
        "../../sealed-secrets-core/testdata/key-b.pem"
    ))
    .unwrap()
}

#[test]
fn re_encrypt_moves_values_to_the_new_key_and_keeps_everything_else() {
    use sealed_secrets::rotate::re_encrypt;

    let mut ss = sealed(json!({"metadata": {"name": "db", "namespace": "app",
        "annotations": {"sealedsecrets.bitnami.com/namespace-wide": "true"}},
        "stringData": {"user": "admin", "pass": "p@ss"}}));
    ss.spec.template.data = Some([("dsn".to_owned(), "{{ .user }}:{{ .pass }}".to_owned())].into());
    let new_key = key_b();
    let mut cost = UnsealCost::default();
    let rotated = re_encrypt(&mut rng(), &ss, &ring(), new_key.public_key(), &mut cost).unwrap();

    assert_eq!(cost.rsa_operations, 2);
    assert_eq!(cost.keys_used.len(), 1);
    let mut template = rotated.spec.template.clone();
    let mut was = ss.spec.template.clone();
    for t in [&mut template, &mut was] {
        t.metadata
            .annotations
            .as_mut()
            .unwrap()
            .remove(annotations::KEY_FINGERPRINT);
    }
    assert_eq!(template, was, "template kept but for the fingerprint");
    assert_ne!(rotated.spec.encrypted_data, ss.spec.encrypted_data);
    let new_fp = vec![new_key.fingerprint().clone()];
    assert_eq!(annotations::recorded_fingerprints(&rotated), new_fp);
    assert_eq!(
        annotations::fingerprints(rotated.spec.template.metadata.annotations.as_ref()),
        new_fp,
        "the template's copy names the new key too"
    );
    assert_eq!(
        rotated.metadata.annotations.as_ref().unwrap()["sealedsecrets.bitnami.com/namespace-wide"],
        "true",
        "scope kept"
    );
    let mut only_new = KeyRing::new();
    only_new.insert(key_b());
    let s = unseal(&rotated, &only_new, UnsealOptions::default()).unwrap();
    assert_eq!(&s.data.0["dsn"][..], b"admin:p@ss");
    assert!(
        unseal(&rotated, &ring(), UnsealOptions::default()).is_err(),
        "old key no longer opens it"
    );
}

#[test]
fn re_encrypt_fails_as_unseal_does_and_names_the_keys() {
    use sealed_secrets::rotate::{ReEncryptError, re_encrypt};

    let ss = sealed(json!({"metadata": {"name": "db", "namespace": "app"},
        "stringData": {"a": "1", "b": "2"}}));
    let mut wrong = KeyRing::new();
    wrong.insert(key_b());
    let err = re_encrypt(
        &mut rng(),
        &ss,
        &wrong,
        key().public_key(),
        &mut UnsealCost::default(),
    )
    .unwrap_err();
    assert!(matches!(err, ReEncryptError::Unseal(_)));
    assert_eq!(err.to_string(), "no key could decrypt secret (a, b)");
}

fn ring_ab() -> KeyRing {
    let mut r = ring();
    r.insert(key_b());
    r
}

/// Sealed like [`sealed`], to key B.
fn sealed_to_b(doc: serde_json::Value) -> SealedSecret {
    let opts = SealOptions {
        default_namespace: "default".into(),
        ..SealOptions::default()
    };
    let secret = InputSecret::from_value(&doc).unwrap();
    seal_secret(&mut rng(), key_b().public_key(), secret, &opts).unwrap()
}

fn template_fingerprints(ss: &SealedSecret) -> Vec<sealed_secrets::core::Fingerprint> {
    annotations::fingerprints(ss.spec.template.metadata.annotations.as_ref())
}

#[test]
fn sealing_records_the_key_in_both_places_so_plain_metadata_stays_alike() {
    let fp = vec![key().fingerprint().clone()];
    // Upstream's /v1/rotate rewrites the template unless the two are DeepEqual.
    for (input, opts_scope) in [
        (json!({"metadata": {"name": "s", "namespace": "n"}}), None),
        (
            json!({"metadata": {"name": "s", "namespace": "n"}}),
            Some(Scope::NamespaceWide),
        ),
        (
            json!({"metadata": {"name": "s", "namespace": "n", "creationTimestamp": null,
                "annotations": {annotations::CLUSTER_WIDE: "true"}}}),
            None,
        ),
    ] {
        let mut doc = input.clone();
        doc["stringData"] = json!({"k": "v"});
        let opts = SealOptions {
            default_namespace: "default".into(),
            scope: opts_scope,
            ..SealOptions::default()
        };
        let secret = InputSecret::from_value(&doc).unwrap();
        let ss = seal_secret(&mut rng(), key().public_key(), secret, &opts).unwrap();
        assert_eq!(annotations::recorded_fingerprints(&ss), fp, "{input}");
        assert_eq!(template_fingerprints(&ss), fp, "{input}");
        assert_eq!(ss.metadata, ss.spec.template.metadata, "{input}");
    }

    // Labels stay in the template only, as upstream's kubeseal puts them.
    let labelled = sealed(
        json!({"metadata": {"name": "s", "namespace": "n", "labels": {"a": "b"}},
        "stringData": {"k": "v"}}),
    );
    assert_eq!(template_fingerprints(&labelled), fp);
    assert!(labelled.metadata.labels.is_none());
}

#[test]
fn the_template_copy_changes_nothing_that_is_encrypted() {
    // A Secret read back from a cluster carries the copy of its own SealedSecret,
    // naming whichever key sealed it then.
    let ss = sealed(json!({"metadata": {"name": "s", "namespace": "n",
        "annotations": {annotations::KEY_FINGERPRINT: "SHA256:stale"}},
        "stringData": {"k": "v"}}));
    assert_eq!(
        template_fingerprints(&ss),
        [key().fingerprint().clone()],
        "replaced by the key that sealed it"
    );
    // The label is the strict one of name and namespace, whatever the annotation says.
    let value = STANDARD.decode(&ss.spec.encrypted_data["k"]).unwrap();
    let plain = hybrid::unseal([&key()], &Scope::Strict.label("n", "s"), &value).unwrap();
    assert_eq!(&plain[..], b"v");
    assert_eq!(
        sealed_secrets::unseal::scope_of(&ss),
        Scope::Strict,
        "not a scope annotation"
    );
}

#[test]
fn unseal_falls_back_to_the_template_hint_and_a_stale_one_only_costs_trials() {
    let mut ss = sealed_to_b(json!({"metadata": {"name": "s", "namespace": "n"},
        "stringData": {"a": "1", "b": "2"}}));
    let cost_of = |ss: &SealedSecret| {
        let mut cost = UnsealCost::default();
        unseal_measured(ss, &ring_ab(), UnsealOptions::default(), &mut cost).unwrap();
        cost.rsa_operations
    };
    assert_eq!(cost_of(&ss), 2, "key B, named in both places, first");
    // Upstream's /v1/rotate drops the top-level copy and keeps the template's.
    ss.metadata.annotations = None;
    assert_eq!(cost_of(&ss), 2, "the template's copy still names key B");
    // A stale copy (key A, say from before a rotation): every value still opens.
    ss.spec.template.metadata.annotations = Some(
        [(
            annotations::KEY_FINGERPRINT.to_owned(),
            key().fingerprint().as_str().to_owned(),
        )]
        .into(),
    );
    assert_eq!(cost_of(&ss), 4, "A tried first, then B, for each value");
    assert!(
        explain(&ss, &ring_ab()).is_none(),
        "every value opens with the keys given"
    );
}

#[test]
fn explain_does_not_name_a_key_from_the_template_copy_alone() {
    let mut ss = sealed_to_b(json!({"metadata": {"name": "s", "namespace": "n"},
        "stringData": {"a": "1"}}));
    let why = explain(&ss, &ring()).unwrap();
    assert!(
        why.starts_with(&format!(
            "it was sealed with the key {}",
            key_b().fingerprint()
        )),
        "{why}"
    );
    ss.metadata.annotations = None;
    let why = explain(&ss, &ring()).unwrap();
    assert!(why.starts_with("none of the given private keys"), "{why}");
}

#[test]
fn merge_into_records_the_keys_of_both_in_both_places() {
    use sealed_secrets::seal::merge_into;

    let mut existing = sealed(json!({"metadata": {"name": "s", "namespace": "n"},
        "stringData": {"a": "1", "b": "2"}}));
    let new = sealed_to_b(json!({"metadata": {"name": "s", "namespace": "n"},
        "stringData": {"b": "3"}}));
    merge_into(&mut existing, new);
    let both = vec![key().fingerprint().clone(), key_b().fingerprint().clone()];
    assert_eq!(annotations::recorded_fingerprints(&existing), both);
    assert_eq!(template_fingerprints(&existing), both);
    assert_eq!(existing.metadata, existing.spec.template.metadata);
    let s = unseal(&existing, &ring_ab(), UnsealOptions::default()).unwrap();
    assert_eq!(
        (&s.data.0["a"][..], &s.data.0["b"][..]),
        (&b"1"[..], &b"3"[..])
    );
}

#[test]
fn merge_into_an_object_without_a_record_records_no_key() {
    use sealed_secrets::seal::merge_into;

    // Shaped like Go kubeseal's output, or a Go controller's /v1/rotate reply (which
    // keeps a stale template copy): what sealed "a" is unknown.
    for template_copy in [None, Some("SHA256:stale")] {
        let mut existing = sealed(json!({"metadata": {"name": "s", "namespace": "n"},
            "stringData": {"a": "1", "b": "2"}}));
        existing.metadata.annotations = None;
        existing.spec.template.metadata.annotations = template_copy
            .map(|fp| [(annotations::KEY_FINGERPRINT.to_owned(), fp.to_owned())].into());
        let new = sealed_to_b(json!({"metadata": {"name": "s", "namespace": "n"},
            "stringData": {"b": "3"}}));
        merge_into(&mut existing, new.clone());
        assert!(
            annotations::key_hints(&existing).is_empty(),
            "naming key B alone would make reseal skip the value of a ({template_copy:?})"
        );

        // Every value replaced: the new key is all there is.
        let mut replaced = existing.clone();
        let all = sealed_to_b(json!({"metadata": {"name": "s", "namespace": "n"},
            "stringData": {"a": "4", "b": "5"}}));
        merge_into(&mut replaced, all);
        let b = vec![key_b().fingerprint().clone()];
        assert_eq!(annotations::recorded_fingerprints(&replaced), b);
        assert_eq!(template_fingerprints(&replaced), b);
    }
}
