//! Pure decisions of a reconcile, no I/O: whether the Secret already matches its
//! SealedSecret (so no RSA work is needed), whether we may touch an existing Secret,
//! and what to write (upstream §4.4: create, replace when controlled or `managed`,
//! merge when `patch`).

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use sealed_secrets::SealedSecret;
use sealed_secrets::annotations::{self, MANAGED, PATCH, SKIP_SET_OWNER_REFERENCES};
use sealed_secrets::unseal::{UnsealedSecret, owner_reference, scope_of};

/// Annotation that earlier versions put on the Secrets they made (a hash of the
/// SealedSecret inputs); that record is now `status.sourceHash` of the SealedSecret.
/// Removed from a Secret when it is next written, so a Secret's annotations are
/// exactly its template's, as upstream makes them.
pub const LEGACY_SOURCE_HASH: &str = "sealed-secrets-rs.io/source-hash";
/// Annotation that earlier versions put on the Secrets they made (the keys that
/// decrypted it); now `status.unsealedWith`. Removed like [`LEGACY_SOURCE_HASH`].
pub const LEGACY_UNSEALED_WITH: &str = "sealed-secrets-rs.io/unsealed-with";
/// Our field manager on every write, so our ownership shows in `managedFields`.
pub const FIELD_MANAGER: &str = "sealed-secrets-controller";
/// In the controller's SealedSecret cache only, never written: the [`source_hash`] of
/// the object as listed, whose ciphertexts the cache has dropped ([`prune_sealed_secret_for_cache`]).
pub const CACHED_SOURCE_HASH: &str = "sealed-secrets-rs.io/cached-source-hash";

/// Version tag of the hash input layout; bump it when the layout changes.
const HASH_LAYOUT: &str = "sealed-secrets-rs/source-hash/v1";

/// The hash recorded in the SealedSecret's `status.sourceHash`: it changes whenever
/// anything that shapes the Secret changes (spec, scope annotations, name, namespace,
/// uid).
pub fn source_hash(ss: &SealedSecret) -> String {
    let mut input = Vec::new();
    for part in [
        HASH_LAYOUT,
        ss.metadata.namespace.as_deref().unwrap_or_default(),
        ss.metadata.name.as_deref().unwrap_or_default(),
        ss.metadata.uid.as_deref().unwrap_or_default(),
        scope_of(ss).as_str(),
    ] {
        input.extend_from_slice(part.as_bytes());
        input.push(0);
    }
    // Serialising our own struct cannot fail: every field is a string, map or bool.
    input.extend(serde_json::to_vec(&ss.spec).unwrap_or_default());
    let digest = sealed_secrets_core::sha256(&input);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// May we write to an existing Secret, and how (upstream's ownership gate).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ownership {
    /// Controlled by this SealedSecret (owner reference with its uid).
    Controlled,
    /// Not ours, but `managed: "true"`: take it over and replace it.
    Managed,
    /// `patch: "true"`: merge our keys in; take ownership only if also `managed`.
    Patch {
        /// `managed: "true"` as well.
        managed: bool,
    },
    /// Someone else's Secret: leave it alone.
    Unmanaged,
}

impl Ownership {
    /// Whether we may write.
    pub fn allows_write(self) -> bool {
        self != Ownership::Unmanaged
    }
}

/// The ownership of an existing Secret with respect to `ss`.
pub fn ownership(ss: &SealedSecret, secret: &ObjectMeta) -> Ownership {
    let annotations = secret.annotations.as_ref();
    let managed = annotations::is_true(annotations, MANAGED);
    if annotations::is_true(annotations, PATCH) {
        return Ownership::Patch { managed };
    }
    if is_controlled_by(secret, ss) {
        Ownership::Controlled
    } else if managed {
        Ownership::Managed
    } else {
        Ownership::Unmanaged
    }
}

fn is_controlled_by(secret: &ObjectMeta, ss: &SealedSecret) -> bool {
    let Some(uid) = ss.metadata.uid.as_deref() else {
        return false;
    };
    secret
        .owner_references
        .iter()
        .flatten()
        .any(|r| r.controller == Some(true) && r.uid == uid && r.kind == "SealedSecret")
}

/// The message of upstream's ownership gate.
pub fn unmanaged_message(name: &str) -> String {
    format!("Resource \"{name}\" already exists and is not managed by SealedSecret")
}

fn skips_owner_reference(ss: &SealedSecret) -> bool {
    annotations::is_true(
        ss.spec.template.metadata.annotations.as_ref(),
        SKIP_SET_OWNER_REFERENCES,
    )
}

/// The data keys the Secret must end up with, known without decrypting; `None` for
/// the deprecated whole-Secret `spec.data`, whose keys are inside the ciphertext.
pub fn expected_keys(ss: &SealedSecret) -> Option<BTreeSet<&str>> {
    if ss.spec.data.is_some() {
        return None;
    }
    let mut keys: BTreeSet<&str> = ss.spec.encrypted_data.keys().map(String::as_str).collect();
    keys.extend(
        ss.spec
            .template
            .data
            .iter()
            .flatten()
            .map(|(k, _)| k.as_str()),
    );
    Some(keys)
}

/// Cuts a cached SealedSecret down to what the reconcile reads before it unseals
/// ([`ownership`], [`is_up_to_date`], [`expected_keys`], the status, events and the
/// instance label of `condition_info`) and records the [`source_hash`] of the whole
/// object under [`CACHED_SOURCE_HASH`]. Dropped: the ciphertexts (most of its size;
/// their names stay, they are the Secret's expected keys), template values and
/// metadata, other labels and annotations (kubectl's last-applied annotation holds
/// every ciphertext again), managedFields. Each small map costs a half-kilobyte node,
/// which over 10,000 objects is tens of megabytes. A reconcile that must unseal reads
/// the object again.
pub fn prune_sealed_secret_for_cache(ss: &mut SealedSecret) {
    let hash = source_hash(ss);
    prune_sealed_secret_with_hash(ss, hash);
}

/// [`prune_sealed_secret_for_cache`] with the object's [`source_hash`] already computed.
pub fn prune_sealed_secret_with_hash(ss: &mut SealedSecret, hash: String) {
    let meta = &mut ss.metadata;
    meta.managed_fields = None;
    meta.creation_timestamp = None;
    meta.generate_name = None;
    meta.finalizers = None;
    meta.labels = meta
        .labels
        .take()
        .and_then(|labels| keep_only(labels, &[super::INSTANCE_LABEL]));
    meta.annotations = Some(BTreeMap::from([(CACHED_SOURCE_HASH.to_owned(), hash)]));
    for value in ss.spec.encrypted_data.values_mut() {
        *value = String::new();
    }
    if let Some(data) = ss.spec.data.as_mut() {
        *data = String::new();
    }
    let template = &mut ss.spec.template;
    let skip_owner = template
        .metadata
        .annotations
        .take()
        .and_then(|a| keep_only(a, &[SKIP_SET_OWNER_REFERENCES]));
    template.metadata = ObjectMeta {
        annotations: skip_owner,
        ..ObjectMeta::default()
    };
    template.type_ = None;
    template.immutable = None;
    for value in template.data.iter_mut().flat_map(|d| d.values_mut()) {
        *value = String::new();
    }
}

/// `map` with only `keys`, or `None` when none of them is there.
fn keep_only(mut map: BTreeMap<String, String>, keys: &[&str]) -> Option<BTreeMap<String, String>> {
    map.retain(|k, _| keys.contains(&k.as_str()));
    (!map.is_empty()).then_some(map)
}

/// The source hash of a SealedSecret as it came from the API server: recorded by
/// [`prune_sealed_secret_for_cache`] on a cached copy (`stripped` is then true), else computed.
pub fn listed_source_hash(ss: &SealedSecret) -> (String, bool) {
    match ss
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(CACHED_SOURCE_HASH))
    {
        Some(hash) => (hash.clone(), true),
        None => (source_hash(ss), false),
    }
}

/// Whether the existing Secret (its metadata alone) is already what `ss` makes, so the
/// reconcile can skip decryption.
///
/// It is when: `recorded` (the SealedSecret's `status.sourceHash`, or what this process
/// wrote into this very version) is the current [`source_hash`] (we made the Secret from
/// these inputs); we may own it; every expected key is present; and no
/// other writer changed our fields after we last wrote. The last two come from
/// `managedFields`, which the API server keeps for every write, so a hand edit or a
/// deleted key is noticed without reading (or storing a digest of) the data.
pub fn is_up_to_date(
    ss: &SealedSecret,
    hash: &str,
    recorded: Option<&str>,
    secret: &ObjectMeta,
    freshness: Freshness,
) -> bool {
    if recorded != Some(hash) {
        return false;
    }
    let ownership = ownership(ss, secret);
    if !ownership.allows_write()
        || refs_or_empty(&owner_refs_after_write(ss, ownership, secret))
            != refs_or_empty(&secret.owner_references)
    {
        return false;
    }
    match freshness {
        Freshness::Verified => return true,
        Freshness::ChangedSinceVerified => return false,
        Freshness::Unknown => {}
    }
    let Some(expected) = expected_keys(ss) else {
        return false;
    };
    let fields = ManagedFields::of(secret);
    let Some(ours) = fields.ours_last_write else {
        return false;
    };
    if !expected
        .iter()
        .all(|k| fields.present_data_keys.contains(*k))
    {
        return false;
    }
    let patch = matches!(ownership, Ownership::Patch { .. });
    // Times are whole seconds: a write in the same second as ours may be after it.
    !fields.foreign.iter().any(|w| {
        w.time.is_none_or(|t| t >= ours)
            && (w.owns_type
                || w.data_keys
                    .iter()
                    .any(|k| !patch || expected.contains(k.as_str())))
    })
}

/// What this process knows of the Secret's current version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freshness {
    /// We wrote or checked exactly this resourceVersion.
    Verified,
    /// We wrote or checked an earlier version; someone changed it since.
    ChangedSinceVerified,
    /// No record (after a start): judge from `managedFields`.
    Unknown,
}

/// What `managedFields` says about a Secret's data and type.
#[derive(Debug, Default)]
struct ManagedFields {
    present_data_keys: BTreeSet<String>,
    ours_last_write: Option<i64>,
    foreign: Vec<ForeignWrite>,
}

#[derive(Debug)]
struct ForeignWrite {
    time: Option<i64>,
    owns_type: bool,
    data_keys: Vec<String>,
}

impl ManagedFields {
    fn of(meta: &ObjectMeta) -> Self {
        let mut out = ManagedFields::default();
        for entry in meta.managed_fields.iter().flatten() {
            if entry.subresource.as_deref().is_some_and(|s| !s.is_empty()) {
                continue;
            }
            let (data_keys, owns_type) = entry
                .fields_v1
                .as_ref()
                .map(|f| data_and_type(&f.0))
                .unwrap_or_default();
            out.present_data_keys.extend(data_keys.iter().cloned());
            let time = entry.time.as_ref().map(|t| t.0.as_second());
            if entry.manager.as_deref() == Some(FIELD_MANAGER) {
                out.ours_last_write = out.ours_last_write.max(time).or(time);
            } else {
                out.foreign.push(ForeignWrite {
                    time,
                    owns_type,
                    data_keys,
                });
            }
        }
        out
    }
}

/// Prefix of a data key in the cache's compact form of `fieldsV1`.
const COMPACT_DATA: &str = "data:";
/// The cache's compact form of `fieldsV1` owning `type`.
const COMPACT_TYPE: &str = "type";

/// The data keys and whether `type` is owned, from a `fieldsV1` as the API server
/// sends it (`{"f:data": {"f:key": {}}, "f:type": {}}`) or in the cache's compact form
/// (`["data:key", "type"]`, see [`prune_secret_for_cache`]).
fn data_and_type(fields: &serde_json::Value) -> (Vec<String>, bool) {
    match fields {
        serde_json::Value::Array(items) => {
            let items = items.iter().filter_map(|i| i.as_str());
            let mut keys = Vec::new();
            let mut owns_type = false;
            for item in items {
                if item == COMPACT_TYPE {
                    owns_type = true;
                } else if let Some(key) = item.strip_prefix(COMPACT_DATA) {
                    keys.push(key.to_owned());
                }
            }
            (keys, owns_type)
        }
        _ => {
            let keys = fields
                .get("f:data")
                .and_then(|d| d.as_object())
                .map(|d| {
                    d.keys()
                        .filter_map(|k| k.strip_prefix("f:").map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            (keys, fields.get("f:type").is_some())
        }
    }
}

/// Cuts a cached Secret's metadata down to what [`ownership`] and [`is_up_to_date`]
/// read: owner references, the two annotations that matter, and of `managedFields`
/// only who wrote `data`/`type` and when. The cache holds every Secret the controller
/// watches (Helm release Secrets, tokens, …), so this is most of its memory; it also
/// drops kubectl's last-applied annotation, which holds the Secret's data.
pub fn prune_secret_for_cache(meta: &mut ObjectMeta) {
    meta.labels = None;
    meta.uid = None;
    meta.creation_timestamp = None;
    meta.finalizers = None;
    meta.generate_name = None;
    meta.annotations = meta
        .annotations
        .take()
        .and_then(|a| keep_only(a, &[MANAGED, PATCH]));
    for entry in meta.managed_fields.iter_mut().flatten() {
        entry.api_version = None;
        entry.fields_type = None;
        entry.operation = None;
        if let Some(fields) = entry.fields_v1.as_mut() {
            // A nested JSON map per entry costs more than a kilobyte per Secret; a
            // short list of the few fields read here is a tenth of that.
            let (keys, owns_type) = data_and_type(&fields.0);
            let mut compact: Vec<serde_json::Value> = keys
                .into_iter()
                .map(|k| serde_json::Value::String(format!("{COMPACT_DATA}{k}")))
                .collect();
            if owns_type {
                compact.push(serde_json::Value::String(COMPACT_TYPE.to_owned()));
            }
            fields.0 = serde_json::Value::Array(compact);
        }
    }
}

/// What to send to the API server.
#[derive(Debug)]
pub enum Write {
    /// No Secret yet: create this one.
    Create(Box<Secret>),
    /// Replace the existing Secret with this one (it carries its resourceVersion).
    Replace(Box<Secret>),
    /// The existing Secret already holds exactly this.
    Nothing,
}

/// The write that makes the Secret match `unsealed`, given what exists (upstream
/// §4.4). `None` when the existing Secret is not ours to touch.
pub fn plan_write(
    ss: &SealedSecret,
    existing: Option<&Secret>,
    unsealed: &UnsealedSecret,
) -> Option<Write> {
    let data: BTreeMap<String, ByteString> = unsealed
        .data
        .0
        .iter()
        .map(|(k, v)| (k.clone(), ByteString(v.to_vec())))
        .collect();

    let Some(existing) = existing else {
        let mut metadata = unsealed.metadata.clone();
        metadata.resource_version = None;
        metadata.uid = None;
        return Some(Write::Create(Box::new(Secret {
            metadata,
            type_: unsealed.type_.clone(),
            immutable: unsealed.immutable,
            data: Some(data),
            ..Secret::default()
        })));
    };

    let mut desired = existing.clone();
    let template = &unsealed.metadata;
    let ownership = ownership(ss, &existing.metadata);
    desired.metadata.owner_references = owner_refs_after_write(ss, ownership, &existing.metadata);
    match ownership {
        Ownership::Unmanaged => return None,
        Ownership::Controlled | Ownership::Managed => {
            desired.data = Some(data);
            desired.metadata.labels = template.labels.clone();
            desired.metadata.annotations = template.annotations.clone();
        }
        Ownership::Patch { .. } => {
            desired.data.get_or_insert_with(BTreeMap::new).extend(data);
            merge(&mut desired.metadata.labels, template.labels.as_ref());
            merge(
                &mut desired.metadata.annotations,
                template.annotations.as_ref(),
            );
        }
    }
    if let Some(annotations) = desired.metadata.annotations.as_mut() {
        annotations.remove(LEGACY_SOURCE_HASH);
        annotations.remove(LEGACY_UNSEALED_WITH);
    }
    desired.type_ = unsealed.type_.clone().or(desired.type_);
    // `immutable` is set only at creation, as upstream does.
    Some(if same_content(existing, &desired) {
        Write::Nothing
    } else {
        Write::Replace(Box::new(desired))
    })
}

fn merge(into: &mut Option<BTreeMap<String, String>>, from: Option<&BTreeMap<String, String>>) {
    if let Some(from) = from.filter(|f| !f.is_empty()) {
        into.get_or_insert_with(BTreeMap::new)
            .extend(from.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
}

/// Upstream's semantic comparison: empty and absent maps are equal.
fn same_content(a: &Secret, b: &Secret) -> bool {
    fn map<V: Clone>(m: &Option<BTreeMap<String, V>>) -> BTreeMap<String, V> {
        m.clone().unwrap_or_default()
    }
    map(&a.data) == map(&b.data)
        && map(&a.metadata.labels) == map(&b.metadata.labels)
        && map(&a.metadata.annotations) == map(&b.metadata.annotations)
        && refs_or_empty(&a.metadata.owner_references)
            == refs_or_empty(&b.metadata.owner_references)
        && a.type_ == b.type_
}

fn refs_or_empty(refs: &Option<Vec<OwnerReference>>) -> &[OwnerReference] {
    refs.as_deref().unwrap_or_default()
}

/// The owner references a write leaves: ours (or none, with
/// `skip-set-owner-references`) when we take ownership (controlled, `managed`,
/// `patch`+`managed`); unchanged under `patch` alone.
fn owner_refs_after_write(
    ss: &SealedSecret,
    ownership: Ownership,
    existing: &ObjectMeta,
) -> Option<Vec<OwnerReference>> {
    match ownership {
        Ownership::Patch { managed: false } | Ownership::Unmanaged => {
            existing.owner_references.clone()
        }
        _ => (!skips_owner_reference(ss)).then(|| vec![owner_reference(ss)]),
    }
}

#[cfg(test)]
mod tests;
