//! Events on SealedSecrets, as upstream's client-go recorder writes them: core/v1
//! Events from component `sealed-secrets` with upstream's reasons and messages (RBAC:
//! `""` `events` create and patch, as upstream's role grants).
//!
//! Repeats aggregate as client-go's correlator does: an event identical to one
//! published in the last ten minutes (same object, type, reason and message) raises
//! that Event's `count` and `lastTimestamp` instead of creating another, so a
//! SealedSecret failing for an hour leaves one Event per distinct failure.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{Event, EventSource, ObjectReference};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use kube::api::{Patch, PatchParams, PostParams};
use kube::{Api, Client, Resource, ResourceExt};
use sealed_secrets::SealedSecret;

/// How long an Event keeps absorbing identical repeats (client-go: 10 minutes).
const SERIES_WINDOW: Duration = Duration::from_secs(600);
/// Series remembered at most (client-go's cache holds 4,096).
const MAX_SERIES: usize = 4096;

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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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
    series: Arc<Mutex<Series>>,
}

/// What makes two events the same (client-go's `getEventKey`, less the source, which
/// is always this process).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct SeriesKey {
    namespace: String,
    name: String,
    uid: Option<String>,
    kind: EventType,
    reason: String,
    message: String,
}

/// The Event a series of identical events is counted on.
#[derive(Debug, Clone)]
struct Counted {
    event: String,
    count: i32,
    last: Instant,
}

/// Recent series, by key.
#[derive(Debug, Default)]
struct Series {
    by_key: HashMap<SeriesKey, Counted>,
}

/// What publishing an event takes.
#[derive(Debug, PartialEq, Eq)]
enum Plan {
    /// A new Event.
    Create,
    /// Raise `event`'s count to `count`.
    Bump { event: String, count: i32 },
}

impl Series {
    /// Decides for `key` at `now`, counting the repeat at once (so concurrent repeats
    /// get distinct counts).
    fn plan(&mut self, key: &SeriesKey, now: Instant) -> Plan {
        match self.by_key.get_mut(key) {
            Some(c) if now.saturating_duration_since(c.last) < SERIES_WINDOW => {
                c.count = c.count.saturating_add(1);
                c.last = now;
                Plan::Bump {
                    event: c.event.clone(),
                    count: c.count,
                }
            }
            _ => Plan::Create,
        }
    }

    /// Starts a series on the Event just created.
    fn created(&mut self, key: SeriesKey, event: String, now: Instant) {
        if self.by_key.len() >= MAX_SERIES {
            self.by_key
                .retain(|_, c| now.saturating_duration_since(c.last) < SERIES_WINDOW);
            if self.by_key.len() >= MAX_SERIES {
                // All recent: forgetting one costs a new Event later, nothing more.
                let oldest = self
                    .by_key
                    .iter()
                    .min_by_key(|(_, c)| c.last)
                    .map(|(k, _)| k.clone());
                if let Some(k) = oldest {
                    self.by_key.remove(&k);
                }
            }
        }
        self.by_key.insert(
            key,
            Counted {
                event,
                count: 1,
                last: now,
            },
        );
    }

    fn forget(&mut self, key: &SeriesKey) {
        self.by_key.remove(key);
    }
}

impl Recorder {
    /// A recorder reporting from `host` (the pod name, or the machine's name).
    pub fn new(client: Client, host: String) -> Self {
        Recorder {
            client,
            host,
            series: Arc::default(),
        }
    }

    /// Publishes an event on `ss`, or counts it on the identical one published
    /// recently. A failure is logged, never returned: events are best-effort, as
    /// upstream's are.
    pub async fn publish(&self, ss: &SealedSecret, kind: EventType, reason: &str, message: &str) {
        let namespace = ss.namespace().unwrap_or_default();
        let key = SeriesKey {
            namespace: namespace.clone(),
            name: ss.name_any(),
            uid: ss.metadata.uid.clone(),
            kind,
            reason: reason.to_owned(),
            message: message.to_owned(),
        };
        let api: Api<Event> = Api::namespaced(self.client.clone(), &namespace);
        let plan = self.lock().plan(&key, Instant::now());
        if let Plan::Bump { event, count } = plan {
            let patch = serde_json::json!({
                "count": count,
                "lastTimestamp": Time(k8s_openapi::jiff::Timestamp::now()),
            });
            match api
                .patch(&event, &PatchParams::default(), &Patch::Merge(&patch))
                .await
            {
                Ok(_) => return,
                // Expired (the API server keeps Events for an hour) or deleted.
                Err(kube::Error::Api(s)) if s.code == 404 => self.lock().forget(&key),
                Err(e) => {
                    tracing::warn!(namespace = %namespace, name = %key.name, reason, error = %e, "cannot update event");
                    return;
                }
            }
        }
        let event = build_event(ss, kind, reason, message, &self.host);
        match api.create(&PostParams::default(), &event).await {
            Ok(created) => {
                if let Some(name) = created.metadata.name {
                    self.lock().created(key, name, Instant::now());
                }
            }
            Err(e) => {
                tracing::warn!(namespace = %namespace, name = %key.name, reason, error = %e, "cannot publish event");
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Series> {
        self.series.lock().unwrap_or_else(|e| e.into_inner())
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

    fn key(message: &str) -> SeriesKey {
        SeriesKey {
            namespace: "app".into(),
            name: "db".into(),
            uid: Some("u1".into()),
            kind: EventType::Warning,
            reason: REASON_UNSEAL_FAILED.into(),
            message: message.into(),
        }
    }

    #[test]
    fn identical_events_are_counted_on_one_event_within_the_window() {
        let mut series = Series::default();
        let t0 = Instant::now();
        assert_eq!(series.plan(&key("a"), t0), Plan::Create);
        series.created(key("a"), "db.1".into(), t0);
        let bump = |count| Plan::Bump {
            event: "db.1".into(),
            count,
        };
        assert_eq!(
            series.plan(&key("a"), t0 + Duration::from_secs(300)),
            bump(2)
        );
        // The window runs from the last repeat.
        assert_eq!(
            series.plan(&key("a"), t0 + Duration::from_secs(800)),
            bump(3)
        );
        assert_eq!(series.plan(&key("b"), t0), Plan::Create, "another message");
        assert_eq!(
            series.plan(&key("a"), t0 + Duration::from_secs(800) + SERIES_WINDOW),
            Plan::Create,
            "quiet for the whole window"
        );
        series.forget(&key("a"));
        assert_eq!(series.plan(&key("a"), t0), Plan::Create);
    }

    #[test]
    fn the_series_cache_is_bounded() {
        let mut series = Series::default();
        let t0 = Instant::now();
        for i in 0..MAX_SERIES + 10 {
            let at = t0 + Duration::from_millis(i as u64);
            series.created(key(&i.to_string()), format!("e{i}"), at);
        }
        assert_eq!(series.by_key.len(), MAX_SERIES);
        assert!(
            !series.by_key.contains_key(&key("0")),
            "the oldest goes first"
        );
    }

    #[tokio::test]
    async fn a_repeated_warning_patches_the_count_of_the_first_event() {
        use http::{Method, Request, Response};
        use kube::client::Body;
        let (service, mut handle) = tower_test::mock::pair::<Request<Body>, Response<Body>>();
        let recorder = Recorder::new(Client::new(service, "default"), "h".into());
        let mut ss = SealedSecret::new("db", Default::default());
        ss.metadata.namespace = Some("app".into());
        ss.metadata.uid = Some("u1".into());
        let server = tokio::spawn(async move {
            let mut next = async || {
                let (request, send) = handle.next_request().await.expect("a request");
                let (parts, body) = request.into_parts();
                let body: serde_json::Value =
                    serde_json::from_slice(&body.collect_bytes().await.expect("body"))
                        .expect("json");
                (parts, body, send)
            };
            let (parts, mut body, send) = next().await;
            assert_eq!(
                (parts.method, parts.uri.path()),
                (Method::POST, "/api/v1/namespaces/app/events")
            );
            body["metadata"]["name"] = "db.17f".into();
            send.send_response(Response::new(Body::from(body.to_string().into_bytes())));
            for count in [2, 3] {
                let (parts, body, send) = next().await;
                assert_eq!(
                    (parts.method, parts.uri.path()),
                    (Method::PATCH, "/api/v1/namespaces/app/events/db.17f")
                );
                assert_eq!(body["count"], count);
                assert!(body["lastTimestamp"].is_string(), "{body}");
                let answer =
                    serde_json::json!({"metadata": {"name": "db.17f"}, "involvedObject": {}});
                send.send_response(Response::new(Body::from(answer.to_string().into_bytes())));
            }
            // Expired meanwhile: a new Event.
            let (parts, _, send) = next().await;
            assert_eq!(parts.method, Method::PATCH);
            let gone = serde_json::json!({"kind": "Status", "apiVersion": "v1", "status": "Failure",
                                         "reason": "NotFound", "code": 404, "message": "gone"});
            send.send_response(
                Response::builder()
                    .status(404)
                    .body(Body::from(gone.to_string().into_bytes()))
                    .expect("response"),
            );
            let (parts, body, send) = next().await;
            assert_eq!(parts.method, Method::POST);
            assert_eq!(body["count"], 1);
            send.send_response(Response::new(Body::from(body.to_string().into_bytes())));
        });
        for _ in 0..4 {
            recorder
                .publish(
                    &ss,
                    EventType::Warning,
                    REASON_UNSEAL_FAILED,
                    "Failed to unseal: x",
                )
                .await;
        }
        server.await.expect("server");
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
