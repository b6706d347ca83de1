//! Events on SealedSecrets, as upstream's client-go recorder writes them: core/v1
//! Events from component `sealed-secrets` (so upstream's RBAC, `""` `events` create,
//! is enough), with upstream's reasons and messages.

use k8s_openapi::api::core::v1::{Event, EventSource, ObjectReference};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use kube::api::PostParams;
use kube::{Api, Client, Resource, ResourceExt};
use sealed_secrets::SealedSecret;

/// The component events are reported from.
pub const COMPONENT: &str = "sealed-secrets";
/// Normal: the Secret was written.
pub const REASON_UNSEALED: &str = "Unsealed";
/// Warning: no key could decrypt, or a template failed.
pub const REASON_UNSEAL_FAILED: &str = "ErrUnsealFailed";
/// Warning: the Secret could not be written (or is not ours).
pub const REASON_UPDATE_FAILED: &str = "ErrUpdateFailed";
/// The message of [`REASON_UNSEALED`].
pub const MESSAGE_UNSEALED: &str = "SealedSecret unsealed successfully";

/// Normal or Warning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    /// Normal.
    Normal,
    /// Warning.
    Warning,
}

impl EventType {
    fn as_str(self) -> &'static str {
        match self {
            EventType::Normal => "Normal",
            EventType::Warning => "Warning",
        }
    }
}

/// Publishes events.
#[derive(Clone)]
pub struct Recorder {
    client: Client,
    host: String,
}

impl Recorder {
    /// A recorder reporting from `host` (the pod name, or the machine's name).
    pub fn new(client: Client, host: String) -> Self {
        Recorder { client, host }
    }

    /// Publishes an event on `ss`. A failure is logged, never returned: events are
    /// best-effort, as upstream's are.
    pub async fn publish(&self, ss: &SealedSecret, kind: EventType, reason: &str, message: &str) {
        let event = build_event(ss, kind, reason, message, &self.host);
        let namespace = ss.namespace().unwrap_or_default();
        let api: Api<Event> = Api::namespaced(self.client.clone(), &namespace);
        if let Err(e) = api.create(&PostParams::default(), &event).await {
            tracing::warn!(namespace = %namespace, name = %ss.name_any(), reason, error = %e, "cannot publish event");
        }
    }
}

/// The Event object (pure, for tests).
pub fn build_event(
    ss: &SealedSecret,
    kind: EventType,
    reason: &str,
    message: &str,
    host: &str,
) -> Event {
    let now = Time(k8s_openapi::jiff::Timestamp::now());
    Event {
        metadata: ObjectMeta {
            generate_name: Some(format!("{}.", ss.name_any())),
            namespace: ss.namespace(),
            ..ObjectMeta::default()
        },
        involved_object: ObjectReference {
            api_version: Some(SealedSecret::api_version(&()).into_owned()),
            kind: Some(SealedSecret::kind(&()).into_owned()),
            name: ss.metadata.name.clone(),
            namespace: ss.namespace(),
            uid: ss.metadata.uid.clone(),
            resource_version: ss.metadata.resource_version.clone(),
            ..ObjectReference::default()
        },
        reason: Some(reason.to_owned()),
        message: Some(message.to_owned()),
        type_: Some(kind.as_str().to_owned()),
        source: Some(EventSource {
            component: Some(COMPONENT.to_owned()),
            host: Some(host.to_owned()),
        }),
        reporting_component: Some(COMPONENT.to_owned()),
        reporting_instance: Some(host.to_owned()),
        first_timestamp: Some(now.clone()),
        last_timestamp: Some(now),
        count: Some(1),
        ..Event::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compat_strings() {
        assert_eq!(COMPONENT, "sealed-secrets");
        assert_eq!(
            [REASON_UNSEALED, REASON_UNSEAL_FAILED, REASON_UPDATE_FAILED],
            ["Unsealed", "ErrUnsealFailed", "ErrUpdateFailed"]
        );
        assert_eq!(MESSAGE_UNSEALED, "SealedSecret unsealed successfully");
    }

    #[test]
    fn event_points_at_the_sealed_secret() {
        let mut ss = SealedSecret::new("db", Default::default());
        ss.metadata.namespace = Some("app".into());
        ss.metadata.uid = Some("u1".into());
        let e = build_event(
            &ss,
            EventType::Warning,
            REASON_UNSEAL_FAILED,
            "Failed to unseal: x",
            "h",
        );
        assert_eq!(e.involved_object.kind.as_deref(), Some("SealedSecret"));
        assert_eq!(
            e.involved_object.api_version.as_deref(),
            Some("bitnami.com/v1alpha1")
        );
        assert_eq!(e.involved_object.uid.as_deref(), Some("u1"));
        assert_eq!(e.type_.as_deref(), Some("Warning"));
        assert_eq!(e.metadata.namespace.as_deref(), Some("app"));
        assert_eq!(
            e.source.unwrap().component.as_deref(),
            Some("sealed-secrets")
        );
    }
}
