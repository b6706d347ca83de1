//! The reconcile's decisions, one rule per test (upstream §4.4 and our skip rule).
use std::collections::BTreeMap;

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{
    FieldsV1, ManagedFieldsEntry, ObjectMeta, Time,
};
use sealed_secrets::SealedSecret;
use sealed_secrets::secret::SecretData;
use sealed_secrets::unseal::{UnsealedSecret, owner_reference};
use serde_json::json;
use zeroize::Zeroizing;

use super::*;

fn ss() -> SealedSecret {
    let mut ss = SealedSecret::new("db", Default::default());
    ss.metadata.namespace = Some("app".into());
    ss.metadata.uid = Some("uid-1".into());
    ss.spec.encrypted_data = BTreeMap::from([
        ("password".to_owned(), "AgB...".to_owned()),
        ("user".to_owned(), "AgC...".to_owned()),
    ]);
    ss.spec.template.metadata.labels = Some(BTreeMap::from([("app".into(), "db".into())]));
    // As our status write leaves it once the Secret is made.
    ss.status = Some(sealed_secrets::SealedSecretStatus {
        source_hash: Some(source_hash(&ss)),
        ..Default::default()
    });
    ss
}

/// What the status of `ss` records (see [`ss`]).
fn recorded(ss: &SealedSecret) -> Option<&str> {
    ss.status.as_ref().and_then(|s| s.source_hash.as_deref())
}

fn unsealed(ss: &SealedSecret, data: &[(&str, &str)]) -> UnsealedSecret {
    let mut metadata = ss.spec.template.metadata.clone();
    metadata.name = ss.metadata.name.clone();
    metadata.namespace = ss.metadata.namespace.clone();
    metadata.owner_references =
        owner_refs_after_write(ss, Ownership::Controlled, &ObjectMeta::default());
    UnsealedSecret {
        metadata,
        type_: Some("Opaque".into()),
        immutable: None,
        data: SecretData(
            data.iter()
                .map(|(k, v)| ((*k).to_owned(), Zeroizing::new(v.as_bytes().to_vec())))
                .collect(),
        ),
    }
}

fn entry(manager: &str, time: i64, fields: serde_json::Value) -> ManagedFieldsEntry {
    ManagedFieldsEntry {
        manager: Some(manager.into()),
        operation: Some("Update".into()),
        time: Some(Time(
            k8s_openapi::jiff::Timestamp::from_second(time).unwrap(),
        )),
        fields_v1: Some(FieldsV1(fields)),
        ..ManagedFieldsEntry::default()
    }
}

/// Metadata of the Secret as we would have written it for `ss`.
fn our_secret_meta(ss: &SealedSecret) -> ObjectMeta {
    ObjectMeta {
        name: Some("db".into()),
        namespace: Some("app".into()),
        resource_version: Some("7".into()),
        owner_references: Some(vec![owner_reference(ss)]),
        managed_fields: Some(vec![entry(
            FIELD_MANAGER,
            100,
            json!({"f:data": {".": {}, "f:password": {}, "f:user": {}}, "f:type": {}}),
        )]),
        ..ObjectMeta::default()
    }
}

fn secret(meta: ObjectMeta, data: &[(&str, &str)]) -> Secret {
    Secret {
        metadata: meta,
        type_: Some("Opaque".into()),
        data: Some(
            data.iter()
                .map(|(k, v)| ((*k).to_owned(), ByteString(v.as_bytes().to_vec())))
                .collect(),
        ),
        ..Secret::default()
    }
}

fn annotate(meta: &mut ObjectMeta, key: &str, value: &str) {
    meta.annotations
        .get_or_insert_with(BTreeMap::new)
        .insert(key.into(), value.into());
}

#[test]
fn compat_strings() {
    assert_eq!(LEGACY_SOURCE_HASH, "sealed-secrets-rs.io/source-hash");
    assert_eq!(LEGACY_UNSEALED_WITH, "sealed-secrets-rs.io/unsealed-with");
    assert_eq!(FIELD_MANAGER, "sealed-secrets-controller");
    assert_eq!(
        unmanaged_message("db"),
        "Resource \"db\" already exists and is not managed by SealedSecret"
    );
}

#[test]
fn source_hash_follows_every_input_that_shapes_the_secret() {
    let base = ss();
    let h = source_hash(&base);
    assert_eq!(h, source_hash(&base.clone()), "stable");
    assert_eq!(h.len(), 64);

    let mut changed = base.clone();
    changed
        .spec
        .encrypted_data
        .insert("new".into(), "AgD".into());
    assert_ne!(source_hash(&changed), h, "spec");
    let mut scoped = base.clone();
    annotate(
        &mut scoped.metadata,
        "sealedsecrets.bitnami.com/namespace-wide",
        "true",
    );
    assert_ne!(source_hash(&scoped), h, "scope annotation");
    let mut renamed = base.clone();
    renamed.metadata.name = Some("other".into());
    assert_ne!(source_hash(&renamed), h, "name");
    let mut recreated = base.clone();
    recreated.metadata.uid = Some("uid-2".into());
    assert_ne!(source_hash(&recreated), h, "uid");

    let mut status_only = base.clone();
    status_only.metadata.resource_version = Some("99".into());
    annotate(&mut status_only.metadata, "unrelated", "x");
    assert_eq!(
        source_hash(&status_only),
        h,
        "unrelated metadata does not matter"
    );
}

#[test]
fn ownership_gate() {
    let ss = ss();
    assert_eq!(ownership(&ss, &our_secret_meta(&ss)), Ownership::Controlled);

    let mut foreign = ObjectMeta::default();
    assert_eq!(ownership(&ss, &foreign), Ownership::Unmanaged);
    annotate(&mut foreign, "sealedsecrets.bitnami.com/managed", "TRUE");
    assert_eq!(
        ownership(&ss, &foreign),
        Ownership::Unmanaged,
        "only exactly \"true\""
    );
    annotate(&mut foreign, "sealedsecrets.bitnami.com/managed", "true");
    assert_eq!(ownership(&ss, &foreign), Ownership::Managed);
    annotate(&mut foreign, "sealedsecrets.bitnami.com/patch", "true");
    assert_eq!(ownership(&ss, &foreign), Ownership::Patch { managed: true });

    let mut other_owner = our_secret_meta(&ss);
    other_owner.owner_references.as_mut().unwrap()[0].uid = "uid-of-another".into();
    assert_eq!(ownership(&ss, &other_owner), Ownership::Unmanaged);
}

#[test]
fn our_untouched_secret_is_up_to_date() {
    let ss = ss();
    let hash = source_hash(&ss);
    assert!(is_up_to_date(
        &ss,
        &hash,
        recorded(&ss),
        &our_secret_meta(&ss),
        Freshness::Unknown
    ));
}

#[test]
fn a_new_spec_is_not_up_to_date() {
    let ss = ss();
    let meta = our_secret_meta(&ss);
    let mut newer = ss.clone();
    newer
        .spec
        .encrypted_data
        .insert("password".into(), "AgZ...".into());
    assert!(!is_up_to_date(
        &newer,
        &source_hash(&newer),
        recorded(&newer),
        &meta,
        Freshness::Verified
    ));
}

#[test]
fn a_hand_edit_after_our_write_is_noticed() {
    let ss = ss();
    let mut meta = our_secret_meta(&ss);
    meta.managed_fields.as_mut().unwrap().push(entry(
        "kubectl-edit",
        200,
        json!({"f:data": {"f:password": {}}}),
    ));
    assert!(!is_up_to_date(
        &ss,
        &source_hash(&ss),
        recorded(&ss),
        &meta,
        Freshness::Unknown
    ));
    assert!(
        is_up_to_date(
            &ss,
            &source_hash(&ss),
            recorded(&ss),
            &meta,
            Freshness::Verified
        ),
        "unless this very version was verified by us"
    );
    assert!(!is_up_to_date(
        &ss,
        &source_hash(&ss),
        recorded(&ss),
        &our_secret_meta(&ss),
        Freshness::ChangedSinceVerified
    ));
}

#[test]
fn an_edit_in_the_same_second_as_our_write_counts_as_after_it() {
    let ss = ss();
    let mut meta = our_secret_meta(&ss);
    meta.managed_fields.as_mut().unwrap().push(entry(
        "kubectl-patch",
        100,
        json!({"f:data": {"f:password": {}}}),
    ));
    assert!(!is_up_to_date(
        &ss,
        &source_hash(&ss),
        recorded(&ss),
        &meta,
        Freshness::Unknown
    ));
}

#[test]
fn an_older_foreign_writer_is_history_not_drift() {
    // A Secret first made by Bitnami's controller, since rewritten by us.
    let ss = ss();
    let mut meta = our_secret_meta(&ss);
    meta.managed_fields.as_mut().unwrap().push(entry(
        "controller",
        50,
        json!({"f:data": {"f:password": {}, "f:user": {}}}),
    ));
    assert!(is_up_to_date(
        &ss,
        &source_hash(&ss),
        recorded(&ss),
        &meta,
        Freshness::Unknown
    ));
}

#[test]
fn a_deleted_key_is_noticed() {
    let ss = ss();
    let mut meta = our_secret_meta(&ss);
    meta.managed_fields = Some(vec![entry(
        FIELD_MANAGER,
        100,
        json!({"f:data": {"f:user": {}}}),
    )]);
    assert!(!is_up_to_date(
        &ss,
        &source_hash(&ss),
        recorded(&ss),
        &meta,
        Freshness::Unknown
    ));
}

#[test]
fn a_foreign_key_added_to_a_replaced_secret_is_drift_but_not_under_patch() {
    let ss = ss();
    let mut meta = our_secret_meta(&ss);
    meta.managed_fields.as_mut().unwrap().push(entry(
        "someone",
        200,
        json!({"f:data": {"f:extra": {}}}),
    ));
    assert!(!is_up_to_date(
        &ss,
        &source_hash(&ss),
        recorded(&ss),
        &meta,
        Freshness::Unknown
    ));
    annotate(&mut meta, "sealedsecrets.bitnami.com/patch", "true");
    assert!(
        is_up_to_date(
            &ss,
            &source_hash(&ss),
            recorded(&ss),
            &meta,
            Freshness::Unknown
        ),
        "patch mode merges: other keys are someone else's business"
    );
}

#[test]
fn no_record_of_our_write_or_no_hash_is_not_up_to_date() {
    let ss = ss();
    let mut meta = our_secret_meta(&ss);
    meta.managed_fields = None;
    assert!(!is_up_to_date(
        &ss,
        &source_hash(&ss),
        recorded(&ss),
        &meta,
        Freshness::Unknown
    ));
    let mut unrecorded = ss.clone();
    unrecorded.status = None;
    assert!(!is_up_to_date(
        &unrecorded,
        &source_hash(&ss),
        recorded(&unrecorded),
        &our_secret_meta(&ss),
        Freshness::Verified
    ));
}

#[test]
fn owner_reference_changes_make_it_stale() {
    let mut skip = ss();
    annotate(
        &mut skip.spec.template.metadata,
        "sealedsecrets.bitnami.com/skip-set-owner-references",
        "true",
    );
    // Controlled, but the template now says no owner: our write would remove it.
    let meta = our_secret_meta(&skip);
    assert!(!is_up_to_date(
        &skip,
        &source_hash(&skip),
        recorded(&skip),
        &meta,
        Freshness::Verified
    ));

    // Managed and not owned while the template wants an owner: we would add it.
    let ss = ss();
    let mut managed = our_secret_meta(&ss);
    managed.owner_references = None;
    annotate(&mut managed, "sealedsecrets.bitnami.com/managed", "true");
    assert!(!is_up_to_date(
        &ss,
        &source_hash(&ss),
        recorded(&ss),
        &managed,
        Freshness::Verified
    ));
}

#[test]
fn expected_keys_include_templates_and_not_v1_blobs() {
    let mut ss = ss();
    ss.spec.template.data = Some(BTreeMap::from([("dsn".into(), "{{ .user }}".into())]));
    let keys: Vec<&str> = expected_keys(&ss).unwrap().into_iter().collect();
    assert_eq!(keys, ["dsn", "password", "user"]);
    ss.spec.data = Some("AgB".into());
    assert!(expected_keys(&ss).is_none());
}

#[test]
fn create_carries_template_owner_and_only_template_annotations() {
    let ss = ss();
    let u = unsealed(&ss, &[("password", "p"), ("user", "u")]);
    let Some(Write::Create(s)) = plan_write(&ss, None, &u) else {
        panic!("expected a create");
    };
    assert_eq!(s.metadata.name.as_deref(), Some("db"));
    assert_eq!(s.metadata.labels.as_ref().unwrap()["app"], "db");
    // Upstream's users compare a Secret's annotations exactly: nothing of ours.
    assert_eq!(s.metadata.annotations, None);
    assert_eq!(
        s.metadata.owner_references.as_ref().unwrap()[0].uid,
        "uid-1"
    );
    assert_eq!(s.data.as_ref().unwrap()["password"].0, b"p");
}

#[test]
fn controlled_secret_is_replaced_whole() {
    let ss = ss();
    let mut meta = our_secret_meta(&ss);
    meta.labels = Some(BTreeMap::from([("stale".into(), "x".into())]));
    let existing = secret(meta, &[("password", "old"), ("extra", "x")]);
    let u = unsealed(&ss, &[("password", "new"), ("user", "u")]);
    let Some(Write::Replace(s)) = plan_write(&ss, Some(&existing), &u) else {
        panic!("expected a replace");
    };
    let data = s.data.as_ref().unwrap();
    assert_eq!(
        data.keys().collect::<Vec<_>>(),
        ["password", "user"],
        "extra key gone"
    );
    assert_eq!(data["password"].0, b"new");
    assert_eq!(
        s.metadata
            .labels
            .as_ref()
            .unwrap()
            .keys()
            .collect::<Vec<_>>(),
        ["app"]
    );
    assert_eq!(
        s.metadata.resource_version.as_deref(),
        Some("7"),
        "optimistic concurrency"
    );
}

#[test]
fn managed_secret_is_taken_over_and_patch_merges() {
    let ss = ss();
    let mut meta = ObjectMeta {
        name: Some("db".into()),
        annotations: Some(BTreeMap::from([("keep".into(), "me".into())])),
        labels: Some(BTreeMap::from([("old".into(), "label".into())])),
        ..ObjectMeta::default()
    };
    annotate(&mut meta, "sealedsecrets.bitnami.com/managed", "true");
    let existing = secret(meta.clone(), &[("foo2", "bar2")]);
    let u = unsealed(&ss, &[("password", "p"), ("user", "u")]);

    let Some(Write::Replace(managed)) = plan_write(&ss, Some(&existing), &u) else {
        panic!("expected a replace");
    };
    assert_eq!(
        managed.metadata.owner_references.as_ref().unwrap()[0].uid,
        "uid-1"
    );
    assert!(!managed.data.as_ref().unwrap().contains_key("foo2"));
    assert!(
        managed
            .metadata
            .annotations
            .as_ref()
            .is_none_or(|a| !a.contains_key("keep")),
        "upstream replaces annotations"
    );

    let mut patch_meta = meta;
    patch_meta
        .annotations
        .as_mut()
        .unwrap()
        .remove("sealedsecrets.bitnami.com/managed");
    annotate(&mut patch_meta, "sealedsecrets.bitnami.com/patch", "true");
    let existing = secret(patch_meta, &[("foo2", "bar2")]);
    let Some(Write::Replace(patched)) = plan_write(&ss, Some(&existing), &u) else {
        panic!("expected a replace");
    };
    let data = patched.data.as_ref().unwrap();
    assert_eq!(
        data.keys().collect::<Vec<_>>(),
        ["foo2", "password", "user"]
    );
    assert!(
        patched.metadata.owner_references.is_none(),
        "patch alone takes no ownership"
    );
    let labels = patched.metadata.labels.as_ref().unwrap();
    assert_eq!(
        (labels["old"].as_str(), labels["app"].as_str()),
        ("label", "db")
    );
    assert_eq!(patched.metadata.annotations.as_ref().unwrap()["keep"], "me");
}

#[test]
fn unmanaged_secret_is_left_alone_and_equal_content_writes_nothing() {
    let ss = ss();
    let u = unsealed(&ss, &[("password", "p"), ("user", "u")]);
    let foreign = secret(ObjectMeta::default(), &[("password", "theirs")]);
    assert!(plan_write(&ss, Some(&foreign), &u).is_none());

    let Some(Write::Create(created)) = plan_write(&ss, None, &u) else {
        panic!("expected a create");
    };
    let mut existing = *created;
    existing.metadata.uid = Some("secret-uid".into());
    assert!(matches!(
        plan_write(&ss, Some(&existing), &u),
        Some(Write::Nothing)
    ));
}

#[test]
fn immutable_is_only_set_at_creation() {
    let ss = ss();
    let mut u = unsealed(&ss, &[("password", "p")]);
    u.immutable = Some(true);
    let Some(Write::Create(created)) = plan_write(&ss, None, &u) else {
        panic!("expected a create");
    };
    assert_eq!(created.immutable, Some(true));
    let existing = secret(our_secret_meta(&ss), &[("password", "old")]);
    let Some(Write::Replace(replaced)) = plan_write(&ss, Some(&existing), &u) else {
        panic!("expected a replace");
    };
    assert_eq!(replaced.immutable, None);
}

#[test]
fn pruning_the_cache_changes_no_decision_and_drops_the_rest() {
    let ss = ss();
    let hash = source_hash(&ss);
    let mut variants = vec![our_secret_meta(&ss)];
    let mut edited = our_secret_meta(&ss);
    edited.managed_fields.as_mut().unwrap().push(entry(
        "kubectl-edit",
        200,
        json!({"f:data": {"f:password": {}}, "f:metadata": {"f:labels": {"f:x": {}}}}),
    ));
    variants.push(edited);
    let mut retyped = our_secret_meta(&ss);
    retyped.managed_fields.as_mut().unwrap().push(entry(
        "kubectl-edit",
        200,
        json!({"f:type": {}}),
    ));
    variants.push(retyped);
    let mut foreign = ObjectMeta::default();
    annotate(&mut foreign, "sealedsecrets.bitnami.com/patch", "true");
    variants.push(foreign);
    for mut meta in variants {
        annotate(
            &mut meta,
            "kubectl.kubernetes.io/last-applied-configuration",
            "{\"data\":{}}",
        );
        meta.labels = Some(BTreeMap::from([("helm".into(), "x".into())]));
        let before = (
            ownership(&ss, &meta),
            is_up_to_date(&ss, &hash, recorded(&ss), &meta, Freshness::Unknown),
        );
        prune_secret_for_cache(&mut meta);
        let after = (
            ownership(&ss, &meta),
            is_up_to_date(&ss, &hash, recorded(&ss), &meta, Freshness::Unknown),
        );
        assert_eq!(before, after);
        assert!(meta.labels.is_none());
        let annotations = meta.annotations.unwrap_or_default();
        assert!(!annotations.contains_key("kubectl.kubernetes.io/last-applied-configuration"));
        for e in meta.managed_fields.iter().flatten() {
            let items = e.fields_v1.as_ref().unwrap().0.as_array().unwrap();
            assert!(
                items.iter().all(|i| i
                    .as_str()
                    .is_some_and(|i| i == "type" || i.starts_with("data:"))),
                "{items:?}"
            );
        }
    }
}

/// A SealedSecret with everything the cache drops: labels, annotations (kubectl's
/// last-applied copy), managedFields, template metadata, type and data.
fn busy_ss() -> SealedSecret {
    let mut ss = ss();
    ss.metadata.labels = Some(BTreeMap::from([
        (
            super::super::INSTANCE_LABEL.to_owned(),
            "release".to_owned(),
        ),
        (
            "kustomize.toolkit.fluxcd.io/name".to_owned(),
            "apps".to_owned(),
        ),
    ]));
    ss.metadata.annotations = Some(BTreeMap::from([
        (
            "kubectl.kubernetes.io/last-applied-configuration".to_owned(),
            "{\"spec\":{\"encryptedData\":{\"password\":\"AgB...\"}}}".to_owned(),
        ),
        (
            "sealedsecrets.bitnami.com/namespace-wide".to_owned(),
            "true".to_owned(),
        ),
    ]));
    ss.metadata.managed_fields = Some(vec![entry("flux", 100, json!({"f:spec": {}}))]);
    ss.metadata.generation = Some(3);
    ss.metadata.resource_version = Some("42".into());
    ss.spec.template.type_ = Some("kubernetes.io/tls".into());
    ss.spec.template.data = Some(BTreeMap::from([(
        "config".to_owned(),
        "user={{ index . \"user\" }}".to_owned(),
    )]));
    ss.spec.template.metadata.annotations = Some(BTreeMap::from([("team".into(), "x".into())]));
    ss
}

#[test]
fn cached_sealed_secrets_keep_what_decisions_read_and_nothing_else() {
    let full = busy_ss();
    let mut cached = full.clone();
    prune_sealed_secret_for_cache(&mut cached);

    assert_eq!(listed_source_hash(&cached), (source_hash(&full), true));
    assert_eq!(listed_source_hash(&full), (source_hash(&full), false));
    assert_eq!(expected_keys(&cached), expected_keys(&full));
    assert!(cached.spec.encrypted_data.values().all(String::is_empty));
    assert!(
        cached
            .spec
            .template
            .data
            .iter()
            .flatten()
            .all(|(_, v)| v.is_empty())
    );
    assert_eq!(
        cached.metadata.labels,
        Some(BTreeMap::from([(
            super::super::INSTANCE_LABEL.to_owned(),
            "release".to_owned()
        )]))
    );
    assert_eq!(
        cached
            .metadata
            .annotations
            .as_ref()
            .map(|a| a.keys().collect::<Vec<_>>()),
        Some(vec![&CACHED_SOURCE_HASH.to_owned()])
    );
    let json = serde_json::to_value(&cached).unwrap();
    assert!(json["metadata"].get("managedFields").is_none(), "{json}");
    assert_eq!(json["spec"]["template"]["metadata"], json!({}), "{json}");
    assert!(json["spec"]["template"].get("type").is_none(), "{json}");
    // What status writes and events need stays.
    for field in ["name", "namespace", "uid", "generation", "resourceVersion"] {
        assert_eq!(
            json["metadata"][field],
            serde_json::to_value(&full).unwrap()["metadata"][field]
        );
    }
}

#[test]
fn pruning_a_cached_sealed_secret_changes_no_decision() {
    let mut skipping = busy_ss();
    annotate(
        &mut skipping.spec.template.metadata,
        SKIP_SET_OWNER_REFERENCES,
        "true",
    );
    let mut deprecated = busy_ss();
    deprecated.spec.data = Some("AgD...".into());
    let mut up_to_date_seen = false;
    for mut full in [busy_ss(), skipping, deprecated] {
        full.status = Some(sealed_secrets::SealedSecretStatus {
            source_hash: Some(source_hash(&full)),
            ..Default::default()
        });
        let mut cached = full.clone();
        prune_sealed_secret_for_cache(&mut cached);
        let hash = source_hash(&full);
        let mut current = our_secret_meta(&full);
        let written: serde_json::Map<String, serde_json::Value> = expected_keys(&full)
            .into_iter()
            .flatten()
            .map(|k| (format!("f:{k}"), json!({})))
            .collect();
        current.managed_fields = Some(vec![entry(
            FIELD_MANAGER,
            100,
            json!({"f:data": written, "f:type": {}}),
        )]);
        let mut metas = vec![current, our_secret_meta(&full), ObjectMeta::default()];
        let mut managed = ObjectMeta::default();
        annotate(&mut managed, MANAGED, "true");
        metas.push(managed);
        let mut edited = our_secret_meta(&full);
        edited.managed_fields.as_mut().unwrap().push(entry(
            "kubectl-edit",
            200,
            json!({"f:data": {"f:password": {}}}),
        ));
        metas.push(edited);
        for meta in &metas {
            for freshness in [
                Freshness::Unknown,
                Freshness::Verified,
                Freshness::ChangedSinceVerified,
            ] {
                let decision = is_up_to_date(&full, &hash, recorded(&full), meta, freshness);
                up_to_date_seen |= decision;
                assert_eq!(
                    is_up_to_date(&cached, &hash, recorded(&cached), meta, freshness),
                    decision,
                    "{meta:?} {freshness:?}"
                );
            }
            let own = ownership(&full, meta);
            assert_eq!(ownership(&cached, meta), own);
            assert_eq!(
                owner_refs_after_write(&cached, own, meta),
                owner_refs_after_write(&full, own, meta)
            );
        }
    }
    assert!(
        up_to_date_seen,
        "some case must be up to date, or the test proves little"
    );
}

#[test]
fn the_annotations_of_earlier_versions_go_on_the_next_write() {
    let ss = ss();
    let mut meta = our_secret_meta(&ss);
    annotate(&mut meta, LEGACY_SOURCE_HASH, "old");
    annotate(&mut meta, LEGACY_UNSEALED_WITH, "SHA256:k1");
    annotate(&mut meta, "keep", "me");
    let existing = secret(meta.clone(), &[("password", "p"), ("user", "u")]);
    let mut u = unsealed(&ss, &[("password", "p"), ("user", "u")]);
    u.metadata.annotations = Some(BTreeMap::from([("keep".into(), "me".into())]));
    let Some(Write::Replace(s)) = plan_write(&ss, Some(&existing), &u) else {
        panic!("expected a replace that drops the old bookkeeping");
    };
    assert_eq!(
        s.metadata.annotations,
        Some(BTreeMap::from([("keep".into(), "me".into())]))
    );
    // Under `patch` the Secret's other annotations stay, ours of old still go.
    annotate(&mut meta, PATCH, "true");
    let patched = secret(meta, &[("password", "p"), ("user", "u")]);
    let Some(Write::Replace(s)) = plan_write(&ss, Some(&patched), &u) else {
        panic!("expected a replace under patch");
    };
    let annotations = s.metadata.annotations.unwrap();
    assert!(!annotations.contains_key(LEGACY_SOURCE_HASH));
    assert!(!annotations.contains_key(LEGACY_UNSEALED_WITH));
    assert_eq!(annotations[PATCH], "true");
}
