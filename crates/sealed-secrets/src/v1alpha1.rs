//! The `SealedSecret` custom resource, `bitnami.com/v1alpha1`, field for field as
//! upstream's `pkg/apis/sealedsecrets/v1alpha1/types.go`.
//!
//! The OpenAPI schema is written by hand in [`crate::crd`] rather than derived, so it
//! matches upstream's controller-gen output exactly where that matters for
//! compatibility (for example `template.metadata` preserves unknown fields, so the
//! `creationTimestamp: null` Go kubeseal writes is accepted).

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::CustomResource;
use serde::{Deserialize, Serialize};

/// The desired state: encrypted values and the template of the Secret to produce.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[kube(
    group = "bitnami.com",
    version = "v1alpha1",
    kind = "SealedSecret",
    plural = "sealedsecrets",
    singular = "sealedsecret",
    namespaced,
    status = "SealedSecretStatus",
    schema = "disabled",
    printcolumn = r#"{"name":"Status","type":"string","jsonPath":".status.conditions[0].message"}"#,
    printcolumn = r#"{"name":"Synced","type":"string","jsonPath":".status.conditions[0].status"}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct SealedSecretSpec {
    /// Metadata, type and templated data of the Secret to produce. Go always emits it.
    #[serde(default)]
    pub template: SecretTemplateSpec,
    /// Deprecated v1 format: one sealed blob of a whole JSON-encoded Secret (base64).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
    /// Each value sealed separately: key → base64 of the sealed value.
    #[serde(default)]
    pub encrypted_data: BTreeMap<String, String>,
}

/// The Secret a SealedSecret unseals into, minus its data.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SecretTemplateSpec {
    /// Metadata copied onto the Secret (name and namespace are forced to the
    /// SealedSecret's own).
    #[serde(default)]
    pub metadata: ObjectMeta,
    /// The Secret's `type` (e.g. `Opaque`, `kubernetes.io/dockerconfigjson`).
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub type_: Option<String>,
    /// The Secret's `immutable`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub immutable: Option<bool>,
    /// Keys whose values are Go templates over the decrypted values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<BTreeMap<String, String>>,
}

/// What the controller last did with a SealedSecret.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SealedSecretStatus {
    /// `metadata.generation` of the spec the conditions describe.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// Conditions: `Synced` first (upstream's), then `Reconciling` or `Stalled` while
    /// it is not synced (kstatus's, read by Flux).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<SealedSecretCondition>,
    /// Ours (upstream has no such field and ignores it): a hash of the inputs the
    /// Secret was last made from (ciphertexts, template, scope, identity; never
    /// plaintext), so a restarted controller knows which Secrets are current without
    /// decrypting. Kept here rather than on the Secret, whose annotations upstream's
    /// users and tests compare exactly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_hash: Option<String>,
    /// Ours: fingerprints (`SHA256:…`, comma-separated) of the keys that decrypted it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unsealed_with: Option<String>,
}

/// One status condition.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SealedSecretCondition {
    /// The condition type (`Synced`).
    #[serde(rename = "type")]
    pub type_: String,
    /// `True`, `False` or `Unknown`.
    pub status: String,
    /// Last time the condition was probed (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_update_time: Option<String>,
    /// Last time the status changed (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_transition_time: Option<String>,
    /// A machine-readable reason for the last transition.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// A human-readable explanation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// Type of upstream's condition, the first the controller sets.
pub const CONDITION_SYNCED: &str = "Synced";
