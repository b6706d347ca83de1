//! API call sequences of a reconcile against a mocked API server (tower-test, as
//! kube-rs/controller-rs do): each scenario asserts every request's method, path
//! and the parts of the body that matter, answers as the API server would, and fails
//! on a missing or an extra call.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use http::{Method, Request, Response, StatusCode};
use kube::client::Body;
use kube::runtime::controller::Action;
use sealed_secrets::SealedSecret;
use sealed_secrets::seal::{SealOptions, seal_secret};
use sealed_secrets::secret::InputSecret;
use sealed_secrets_core::PrivateKey;
use serde_json::{Value, json};
use tower_test::mock::{Handle, pair};

use super::desired::{FIELD_MANAGER, source_hash};
use super::*;
use crate::events::Recorder;
use crate::testing::{KEY_A, registry_with_key_a};

/// Paths of `app/db` and its Secret on the API server.
const SECRET_DB: &str = "/api/v1/namespaces/app/secrets/db";
const SECRETS: &str = "/api/v1/namespaces/app/secrets";
const EVENTS: &str = "/api/v1/namespaces/app/events";
const SEALED_SECRET_DB: &str = "/apis/bitnami.com/v1alpha1/namespaces/app/sealedsecrets/db";
const STATUS_DB: &str = "/apis/bitnami.com/v1alpha1/namespaces/app/sealedsecrets/db/status";

type ApiHandle = Handle<Request<Body>, Response<Body>>;

fn context(client: Client) -> Arc<Context> {
    let keys = registry_with_key_a();
    Arc::new(Context::new(
        client.clone(),
        keys,
        Arc::new(Metrics::new("test")),
        Recorder::new(client, "test-host".into()),
        Options {
            update_status: true,
            accept_deprecated_v1_data: true,
            max_unseal_retries: 5,
            old_gc_behavior: false,
        },
        SecretLookup::Live,
    ))
}

/// A SealedSecret `app/db` sealed to key A, as the API server returns it.
fn sealed_secret(sealed_as: &str) -> SealedSecret {
    let input = InputSecret::from_value(&json!({
        "metadata": {"name": sealed_as, "namespace": "app"},
        "stringData": {"password": "hunter2"}
    }))
    .unwrap();
    let key = PrivateKey::from_pem(KEY_A).unwrap();
    let mut rng = rand_core::UnwrapErr(rand_core::OsRng);
    let mut ss = seal_secret(&mut rng, key.public_key(), input, &SealOptions::default()).unwrap();
    ss.metadata.name = Some("db".into());
    ss.metadata.uid = Some("ss-uid".into());
    ss.metadata.generation = Some(1);
    ss.metadata.resource_version = Some("10".into());
    ss
}

fn respond(status: StatusCode, body: &Value) -> Response<Body> {
    Response::builder()
        .status(status)
        .body(Body::from(serde_json::to_vec(body).unwrap()))
        .unwrap()
}

/// The API server's answer to a request that failed with `code`.
fn failure(code: StatusCode, reason: &str) -> Response<Body> {
    respond(
        code,
        &json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": reason,
                "code": code.as_u16(), "message": reason}),
    )
}

fn not_found() -> Response<Body> {
    failure(StatusCode::NOT_FOUND, "NotFound")
}

/// Takes the next request, checks method and path (query excluded), returns it
/// with its JSON body.
async fn expect(
    handle: &mut ApiHandle,
    method: Method,
    path: &str,
) -> (
    Request<()>,
    Value,
    tower_test::mock::SendResponse<Response<Body>>,
) {
    let (request, send) = tokio::time::timeout(Duration::from_secs(5), handle.next_request())
        .await
        .unwrap_or_else(|_| panic!("no request came; expected {method} {path}"))
        .expect("service alive");
    assert_eq!(request.method(), method, "method of {}", request.uri());
    assert_eq!(request.uri().path(), path);
    let (parts, body) = request.into_parts();
    let bytes = body.collect_bytes().await.unwrap();
    let json = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap()
    };
    (Request::from_parts(parts, ()), json, send)
}

/// The API server's answer to a status apply: the object with that status.
fn applied(body: &Value) -> Value {
    let mut object = serde_json::to_value(sealed_secret("db")).unwrap();
    object["status"] = body["status"].clone();
    object
}

/// Takes the next request, checks method and path, and answers `response` without
/// looking further.
async fn reply(handle: &mut ApiHandle, method: Method, path: &str, response: Response<Body>) {
    let (_, _, send) = expect(handle, method, path).await;
    send.send_response(response);
}

/// Fails if the reconcile makes any further request.
async fn expect_silence(handle: &mut ApiHandle) {
    if let Ok(Some((request, _))) =
        tokio::time::timeout(Duration::from_millis(200), handle.next_request()).await
    {
        panic!("unexpected request {} {}", request.method(), request.uri());
    }
}

#[tokio::test]
async fn creates_the_secret_then_writes_status_then_publishes_unsealed() {
    let (service, mut handle) = pair::<Request<Body>, Response<Body>>();
    let ctx = context(Client::new(service, "default"));
    let ss = sealed_secret("db");
    let expected_hash = source_hash(&ss);
    let server = tokio::spawn(async move {
        reply(&mut handle, Method::GET, SECRET_DB, not_found()).await;
        reply(&mut handle, Method::GET, SECRET_DB, not_found()).await;

        let (request, body, send) = expect(&mut handle, Method::POST, SECRETS).await;
        assert!(
            request
                .uri()
                .query()
                .unwrap_or("")
                .contains(&format!("fieldManager={FIELD_MANAGER}")),
            "writes carry our field manager"
        );
        assert_eq!(body["data"]["password"], "aHVudGVyMg==");
        assert_eq!(body["metadata"]["ownerReferences"][0]["uid"], "ss-uid");
        assert_eq!(body["metadata"]["ownerReferences"][0]["controller"], true);
        // The template's annotations, as upstream copies them (kubeseal's fingerprint
        // record among them), and nothing the controller adds of its own.
        assert_eq!(
            body["metadata"]["annotations"],
            json!({"sealed-secrets-rs.io/key-fingerprint": PrivateKey::from_pem(KEY_A).unwrap().fingerprint().as_str()}),
            "the template's annotations only"
        );
        send.send_response(respond(StatusCode::CREATED, &body));

        let (request, body, send) = expect(&mut handle, Method::PATCH, STATUS_DB).await;
        assert_eq!(
            request.headers()[http::header::CONTENT_TYPE],
            "application/apply-patch+yaml",
            "the status is written by server-side apply"
        );
        let query = request.uri().query().unwrap_or("");
        assert!(
            query.contains(&format!("fieldManager={FIELD_MANAGER}"))
                && query.contains("force=true"),
            "{query}"
        );
        assert_eq!(body["metadata"], Value::Null, "the status alone: {body}");
        assert_eq!(body["status"]["sourceHash"], expected_hash.as_str());
        assert!(
            body["status"]["unsealedWith"]
                .as_str()
                .is_some_and(|f| f.starts_with("SHA256:")),
            "the key that decrypted it: {}",
            body["status"]
        );
        assert_eq!(body["status"]["observedGeneration"], 1);
        assert_eq!(body["status"]["conditions"][0]["type"], "Synced");
        assert_eq!(body["status"]["conditions"][0]["status"], "True");
        assert_eq!(
            body["status"]["conditions"].as_array().map(Vec::len),
            Some(1),
            "no Reconciling or Stalled once synced"
        );
        send.send_response(respond(StatusCode::OK, &applied(&body)));

        let (_, body, send) = expect(&mut handle, Method::POST, EVENTS).await;
        assert_eq!(
            (body["reason"].as_str(), body["type"].as_str()),
            (Some("Unsealed"), Some("Normal"))
        );
        assert_eq!(body["involvedObject"]["kind"], "SealedSecret");
        send.send_response(respond(StatusCode::CREATED, &body));
        expect_silence(&mut handle).await;
    });
    let action = reconcile(Arc::new(ss), Arc::clone(&ctx)).await.unwrap();
    assert_eq!(action, Action::await_change());
    server.await.unwrap();
    assert_eq!(ctx.metrics.rsa_decryptions.get(), 1);
}

#[tokio::test]
async fn an_up_to_date_secret_costs_no_decryption_and_no_write() {
    let (service, mut handle) = pair::<Request<Body>, Response<Body>>();
    let ctx = context(Client::new(service, "default"));
    let mut ss = sealed_secret("db");
    let record = super::status::Record {
        source_hash: source_hash(&ss),
        unsealed_with: None,
    };
    ss.status = super::status::next_status(
        None,
        Some(1),
        &Outcome::Synced,
        Some(&record),
        "2026-01-01T00:00:00Z",
    );
    let metadata = json!({
        "apiVersion": "meta.k8s.io/v1", "kind": "PartialObjectMetadata",
        "metadata": {
            "name": "db", "namespace": "app", "resourceVersion": "20",
            "ownerReferences": [{"apiVersion": "bitnami.com/v1alpha1", "kind": "SealedSecret",
                                  "name": "db", "uid": "ss-uid", "controller": true}],
            "managedFields": [{"manager": FIELD_MANAGER, "operation": "Update", "apiVersion": "v1",
                               "time": "2026-01-01T00:00:00Z", "fieldsType": "FieldsV1",
                               "fieldsV1": {"f:data": {"f:password": {}}}}]
        }
    });
    let server = tokio::spawn(async move {
        reply(
            &mut handle,
            Method::GET,
            SECRET_DB,
            respond(StatusCode::OK, &metadata),
        )
        .await;
        expect_silence(&mut handle).await;
    });
    reconcile(Arc::new(ss), Arc::clone(&ctx)).await.unwrap();
    server.await.unwrap();
    assert_eq!(ctx.metrics.rsa_decryptions.get(), 0);
}

#[tokio::test]
async fn someone_elses_secret_is_refused_without_decrypting() {
    let (service, mut handle) = pair::<Request<Body>, Response<Body>>();
    let ctx = context(Client::new(service, "default"));
    let ss = sealed_secret("db");
    let server = tokio::spawn(async move {
        reply(
            &mut handle,
            Method::GET,
            SECRET_DB,
            respond(
                StatusCode::OK,
                &json!({"apiVersion": "meta.k8s.io/v1", "kind": "PartialObjectMetadata",
                    "metadata": {"name": "db", "namespace": "app", "resourceVersion": "5"}}),
            ),
        )
        .await;
        let (_, body, send) = expect(&mut handle, Method::POST, EVENTS).await;
        assert_eq!(
            (body["reason"].as_str(), body["type"].as_str()),
            (Some("ErrUpdateFailed"), Some("Warning"))
        );
        assert_eq!(
            body["message"],
            "Resource \"db\" already exists and is not managed by SealedSecret"
        );
        send.send_response(respond(StatusCode::CREATED, &body));
        let (_, body, send) = expect(&mut handle, Method::PATCH, STATUS_DB).await;
        let condition = &body["status"]["conditions"][0];
        assert_eq!(
            (condition["status"].as_str(), condition["reason"].as_str()),
            (Some("False"), Some("Unmanaged"))
        );
        assert_eq!(body["status"]["conditions"][1]["type"], "Stalled");
        assert_eq!(body["status"]["conditions"][1]["reason"], "Unmanaged");
        send.send_response(respond(StatusCode::OK, &applied(&body)));
        expect_silence(&mut handle).await;
    });
    let err = reconcile(Arc::new(ss), Arc::clone(&ctx)).await.unwrap_err();
    assert!(matches!(err, Error::Unmanaged(_)));
    server.await.unwrap();
    assert_eq!(ctx.metrics.rsa_decryptions.get(), 0);
}

#[tokio::test]
async fn an_undecryptable_value_is_reported_and_nothing_is_written() {
    let (service, mut handle) = pair::<Request<Body>, Response<Body>>();
    let ctx = context(Client::new(service, "default"));
    // Sealed for "other" (strict scope), stored as "db": the label does not match.
    let ss = sealed_secret("other");
    let server = tokio::spawn(async move {
        reply(&mut handle, Method::GET, SECRET_DB, not_found()).await;
        let (_, body, send) = expect(&mut handle, Method::POST, EVENTS).await;
        assert_eq!(body["reason"], "ErrUnsealFailed");
        assert_eq!(
            body["message"],
            "Failed to unseal: no key could decrypt secret (password)"
        );
        send.send_response(respond(StatusCode::CREATED, &body));
        let (_, body, send) = expect(&mut handle, Method::PATCH, STATUS_DB).await;
        let condition = &body["status"]["conditions"][0];
        assert_eq!(condition["reason"], "UnsealFailed");
        assert_eq!(
            condition["message"],
            "no key could decrypt secret (password)"
        );
        // kstatus: Failed, since retrying cannot help until a key or the spec changes.
        let stalled = &body["status"]["conditions"][1];
        assert_eq!(
            (stalled["type"].as_str(), stalled["status"].as_str()),
            (Some("Stalled"), Some("True"))
        );
        assert_eq!(stalled["reason"], "UnsealFailed");
        assert_eq!(stalled["message"], condition["message"]);
        send.send_response(respond(StatusCode::OK, &applied(&body)));
        expect_silence(&mut handle).await;
    });
    let err = reconcile(Arc::new(ss), Arc::clone(&ctx)).await.unwrap_err();
    assert_eq!(err.metric_reason(), "unseal");
    server.await.unwrap();
    assert_eq!(ctx.metrics.rsa_decryptions.get(), 1);
    assert!(
        ctx.metrics
            .encode()
            .contains("unseal_errors_total{reason=\"unseal\",namespace=\"app\"} 1")
    );
}

#[tokio::test]
async fn error_policy_gives_up_after_max_retries_and_at_once_when_immutable() {
    let (service, _handle) = pair::<Request<Body>, Response<Body>>();
    let ctx = context(Client::new(service, "default"));
    let ss = Arc::new(sealed_secret("db"));
    let unseal_error = Error::Unmanaged("x".into());
    for _ in 0..5 {
        assert_ne!(
            error_policy(Arc::clone(&ss), &unseal_error, Arc::clone(&ctx)),
            Action::await_change()
        );
    }
    assert_eq!(
        error_policy(Arc::clone(&ss), &unseal_error, Arc::clone(&ctx)),
        Action::await_change(),
        "the sixth failure gives up"
    );
    let mut edited = (*ss).clone();
    edited.metadata.generation = Some(2);
    assert_ne!(
        error_policy(Arc::new(edited), &unseal_error, Arc::clone(&ctx)),
        Action::await_change(),
        "a new generation starts over"
    );
    assert_eq!(
        error_policy(ss, &Error::Immutable("app/db".into()), ctx),
        Action::await_change(),
        "immutable is never retried"
    );
}

#[tokio::test]
async fn a_reconcile_waiting_for_the_secret_cache_ends_when_the_controller_stops() {
    let (mock, mut handle) = pair::<Request<Body>, Response<Body>>();
    let client = Client::new(mock, "default");
    // A Secret cache whose first list never arrives (its writer is kept, never fed).
    let (reader, _writer) = kube::runtime::reflector::store();
    let stop = CancellationToken::new();
    let mut ctx = Arc::into_inner(context(client)).expect("the only reference");
    ctx.secrets = SecretLookup::store(reader, stop.clone());
    let ctx = Arc::new(ctx);
    let reconciling = tokio::spawn(reconcile(Arc::new(sealed_secret("db")), Arc::clone(&ctx)));
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(!reconciling.is_finished(), "it waits for the cache");
    stop.cancel();
    let action = tokio::time::timeout(Duration::from_secs(10), reconciling)
        .await
        .expect("the reconcile returns once stopped")
        .expect("no panic");
    assert_eq!(
        action.expect("stopping is not a failure"),
        Action::await_change()
    );
    // Stopping writes nothing: no Secret, no status, no event.
    expect_silence(&mut handle).await;
    assert_eq!(ctx.metrics.unseal_requests.get(), 0);
}

/// A reconcile from the cache's copy of `app/db` (no ciphertexts) that unseals and
/// creates the Secret: the ciphertexts come from the full copy the watch kept
/// (`kept`), else from a GET of the object, never from the cache.
async fn unseal_from_a_cached_copy(kept: bool) {
    let (service, mut handle) = pair::<Request<Body>, Response<Body>>();
    let ctx = context(Client::new(service, "default"));
    let full = sealed_secret("db");
    let expected_hash = source_hash(&full);
    if kept {
        ctx.pending.offer(&full, &expected_hash);
    }
    let mut cached = full.clone();
    super::desired::prune_sealed_secret_for_cache(&mut cached);
    let full_json = serde_json::to_value(&full).unwrap();
    let server = tokio::spawn(async move {
        reply(&mut handle, Method::GET, SECRET_DB, not_found()).await;
        if !kept {
            reply(
                &mut handle,
                Method::GET,
                SEALED_SECRET_DB,
                respond(StatusCode::OK, &full_json),
            )
            .await;
        }
        reply(&mut handle, Method::GET, SECRET_DB, not_found()).await;
        let (_, body, send) = expect(&mut handle, Method::POST, SECRETS).await;
        assert_eq!(body["data"]["password"], "aHVudGVyMg==");
        send.send_response(respond(StatusCode::CREATED, &body));
        let (_, body, send) = expect(&mut handle, Method::PATCH, STATUS_DB).await;
        assert_eq!(
            body["status"]["sourceHash"],
            expected_hash.as_str(),
            "the hash of the object as stored, not of the cached copy"
        );
        send.send_response(respond(StatusCode::OK, &applied(&body)));
        let (_, body, send) = expect(&mut handle, Method::POST, EVENTS).await;
        send.send_response(respond(StatusCode::CREATED, &body));
        expect_silence(&mut handle).await;
    });
    let action = reconcile(Arc::new(cached), Arc::clone(&ctx)).await.unwrap();
    assert_eq!(action, Action::await_change());
    server.await.unwrap();
    assert_eq!(ctx.metrics.rsa_decryptions.get(), 1);
    assert_eq!(ctx.pending.bytes(), 0, "the copy is given up once used");
}

#[tokio::test]
async fn a_cached_copy_without_ciphertexts_reads_the_object_before_unsealing() {
    unseal_from_a_cached_copy(false).await;
}

#[tokio::test]
async fn a_cached_copy_whose_full_copy_the_watch_kept_needs_no_read_of_the_object() {
    unseal_from_a_cached_copy(true).await;
}

/// The cache's copy of `app/db` (no ciphertexts, no status) and its Secret as this
/// process wrote it (version 5) a moment ago: the status write that records it has not
/// come back by watch yet.
fn cached_copy_and_its_current_secret(ctx: &Context) -> (SealedSecret, Value) {
    let full = sealed_secret("db");
    ctx.set_verified("app", "db", Some("5".into()), &source_hash(&full));
    let mut cached = full;
    super::desired::prune_sealed_secret_for_cache(&mut cached);
    let secret = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {
        "name": "db", "namespace": "app", "resourceVersion": "5",
        "ownerReferences": [{"apiVersion": "bitnami.com/v1alpha1", "kind": "SealedSecret",
            "name": "db", "uid": "ss-uid", "controller": true}],
        "managedFields": [{"manager": FIELD_MANAGER, "operation": "Update",
            "time": "2026-01-01T00:00:00Z", "fieldsType": "FieldsV1",
            "fieldsV1": {"f:data": {"f:password": {}}}}]}});
    (cached, secret)
}

#[tokio::test]
async fn a_cached_copy_whose_secret_is_current_costs_no_read_of_the_object() {
    let (service, mut handle) = pair::<Request<Body>, Response<Body>>();
    let ctx = context(Client::new(service, "default"));
    let (cached, current) = cached_copy_and_its_current_secret(&ctx);
    // The watch kept a full copy (the status has no hash yet): unused, it must go.
    let full = sealed_secret("db");
    ctx.pending.offer(&full, &source_hash(&full));
    assert!(ctx.pending.bytes() > 0);
    let server = tokio::spawn(async move {
        reply(
            &mut handle,
            Method::GET,
            SECRET_DB,
            respond(StatusCode::OK, &current),
        )
        .await;
        let (request, body, send) = expect(&mut handle, Method::PATCH, STATUS_DB).await;
        assert!(
            body["metadata"].get("annotations").is_none(),
            "the cache's own annotation is not sent: {body}"
        );
        assert!(
            request
                .uri()
                .query()
                .is_some_and(|q| q.contains("fieldManager=sealed-secrets-controller")),
            "{:?}",
            request.uri()
        );
        send.send_response(respond(StatusCode::OK, &applied(&body)));
        let (_, body, send) = expect(&mut handle, Method::POST, EVENTS).await;
        send.send_response(respond(StatusCode::CREATED, &body));
        expect_silence(&mut handle).await;
    });
    reconcile(Arc::new(cached), Arc::clone(&ctx)).await.unwrap();
    server.await.unwrap();
    assert_eq!(ctx.metrics.rsa_decryptions.get(), 0);
    assert_eq!(
        ctx.pending.bytes(),
        0,
        "a reconcile that needs no unseal frees the copy"
    );
}

/// The reconcile our own Secret write triggers can run before the watch brings our
/// status write: its copy says not Synced. Its status write (an apply, which needs
/// no resourceVersion) succeeds, and it must not announce a second `Unsealed`.
#[tokio::test]
async fn a_stale_copy_writes_its_status_without_conflict_and_no_second_event() {
    let (service, mut handle) = pair::<Request<Body>, Response<Body>>();
    let ctx = context(Client::new(service, "default"));
    let (cached, current) = cached_copy_and_its_current_secret(&ctx);
    // The reconcile that wrote the Secret announced it.
    assert!(ctx.first_announcement(&cached));
    let server = tokio::spawn(async move {
        reply(
            &mut handle,
            Method::GET,
            SECRET_DB,
            respond(StatusCode::OK, &current),
        )
        .await;
        let (_, body, send) = expect(&mut handle, Method::PATCH, STATUS_DB).await;
        send.send_response(respond(StatusCode::OK, &applied(&body)));
        expect_silence(&mut handle).await;
    });
    let action = reconcile(Arc::new(cached), Arc::clone(&ctx)).await.unwrap();
    server.await.unwrap();
    assert_eq!(action, Action::await_change());
    assert_eq!(ctx.metrics.rsa_decryptions.get(), 0);
}

/// A Secret written while its status write fails (the API server went away between
/// the two): the reconcile fails, so it is retried with backoff, and says Unsealed
/// only once the status is written.
#[tokio::test]
async fn a_failed_status_write_after_the_secret_is_retried() {
    let (service, mut handle) = pair::<Request<Body>, Response<Body>>();
    let ctx = context(Client::new(service, "default"));
    let ss = sealed_secret("db");
    let server = tokio::spawn(async move {
        reply(&mut handle, Method::GET, SECRET_DB, not_found()).await;
        reply(&mut handle, Method::GET, SECRET_DB, not_found()).await;
        let (_, body, send) = expect(&mut handle, Method::POST, SECRETS).await;
        send.send_response(respond(StatusCode::CREATED, &body));
        reply(
            &mut handle,
            Method::PATCH,
            STATUS_DB,
            failure(StatusCode::SERVICE_UNAVAILABLE, "ServiceUnavailable"),
        )
        .await;
        expect_silence(&mut handle).await;
    });
    let err = reconcile(Arc::new(ss), Arc::clone(&ctx)).await.unwrap_err();
    server.await.unwrap();
    assert_eq!(err.retry(), crate::error::Retry::Always, "{err}");
    assert_eq!(ctx.metrics.rsa_decryptions.get(), 1);
}

#[tokio::test]
async fn only_the_version_we_wrote_counts_as_verified() {
    let (service, _handle) = pair::<Request<Body>, Response<Body>>();
    let ctx = context(Client::new(service, "default"));
    let meta = |ns: &str, name: &str, version: &str| ObjectMeta {
        namespace: Some(ns.into()),
        name: Some(name.into()),
        resource_version: Some(version.into()),
        ..ObjectMeta::default()
    };
    assert!(
        !ctx.is_verified(&meta("app", "db", "5")),
        "nothing written yet"
    );
    ctx.set_verified("app", "db", Some("5".into()), "h");
    assert!(ctx.is_verified(&meta("app", "db", "5")));
    assert_eq!(
        ctx.verified_hash("app", "db", &meta("app", "db", "5"))
            .as_deref(),
        Some("h")
    );
    assert_eq!(
        ctx.verified_hash("app", "db", &meta("app", "db", "6")),
        None
    );
    assert!(!ctx.is_verified(&meta("app", "db", "6")), "changed since");
    assert!(!ctx.is_verified(&meta("other", "db", "5")));
    assert!(!ctx.is_verified(&ObjectMeta::default()));
    ctx.set_verified("app", "db", None, "");
    assert!(!ctx.is_verified(&meta("app", "db", "5")), "forgotten");
}

/// A refused Secret write is retried with backoff: kstatus must see it in progress
/// (`Reconciling`), not failed.
#[tokio::test]
async fn a_refused_secret_write_says_reconciling() {
    let (service, mut handle) = pair::<Request<Body>, Response<Body>>();
    let ctx = context(Client::new(service, "default"));
    let ss = sealed_secret("db");
    let server = tokio::spawn(async move {
        reply(&mut handle, Method::GET, SECRET_DB, not_found()).await;
        reply(&mut handle, Method::GET, SECRET_DB, not_found()).await;
        reply(
            &mut handle,
            Method::POST,
            SECRETS,
            failure(StatusCode::SERVICE_UNAVAILABLE, "ServiceUnavailable"),
        )
        .await;
        let (_, body, send) = expect(&mut handle, Method::POST, EVENTS).await;
        assert_eq!(body["reason"], "ErrUpdateFailed");
        send.send_response(respond(StatusCode::CREATED, &body));
        let (_, body, send) = expect(&mut handle, Method::PATCH, STATUS_DB).await;
        let conditions = &body["status"]["conditions"];
        assert_eq!(
            (
                conditions[0]["type"].as_str(),
                conditions[0]["reason"].as_str()
            ),
            (Some("Synced"), Some("UpdateFailed"))
        );
        assert_eq!(
            (
                conditions[1]["type"].as_str(),
                conditions[1]["status"].as_str()
            ),
            (Some("Reconciling"), Some("True"))
        );
        assert_eq!(conditions.as_array().map(Vec::len), Some(2), "not Stalled");
        send.send_response(respond(StatusCode::OK, &applied(&body)));
        expect_silence(&mut handle).await;
    });
    let err = reconcile(Arc::new(ss), Arc::clone(&ctx)).await.unwrap_err();
    server.await.unwrap();
    assert_eq!(err.retry(), crate::error::Retry::Always, "{err}");
}

/// Upstream's RBAC grants `update` on sealedsecrets/status but not `patch`: a refused
/// apply falls back to an update, and later writes go straight to update.
#[tokio::test]
async fn without_rbac_to_patch_status_it_is_written_by_update() {
    let (service, mut handle) = pair::<Request<Body>, Response<Body>>();
    let ctx = context(Client::new(service, "default"));
    let (cached, current) = cached_copy_and_its_current_secret(&ctx);
    let again = cached.clone();
    let current_again = current.clone();
    let server = tokio::spawn(async move {
        reply(
            &mut handle,
            Method::GET,
            SECRET_DB,
            respond(StatusCode::OK, &current),
        )
        .await;
        reply(
            &mut handle,
            Method::PATCH,
            STATUS_DB,
            failure(StatusCode::FORBIDDEN, "Forbidden"),
        )
        .await;
        let (_, body, send) = expect(&mut handle, Method::PUT, STATUS_DB).await;
        assert_eq!(body["status"]["conditions"][0]["status"], "True");
        send.send_response(respond(StatusCode::OK, &body));
        let (_, body, send) = expect(&mut handle, Method::POST, EVENTS).await;
        send.send_response(respond(StatusCode::CREATED, &body));
        // The next reconcile (an older copy) updates at once, meets a 409, and is
        // retried from the newer version.
        reply(
            &mut handle,
            Method::GET,
            SECRET_DB,
            respond(StatusCode::OK, &current_again),
        )
        .await;
        reply(
            &mut handle,
            Method::PUT,
            STATUS_DB,
            failure(StatusCode::CONFLICT, "Conflict"),
        )
        .await;
        expect_silence(&mut handle).await;
    });
    let first = reconcile(Arc::new(cached), Arc::clone(&ctx)).await.unwrap();
    assert_eq!(first, Action::await_change());
    let second = reconcile(Arc::new(again), Arc::clone(&ctx)).await.unwrap();
    assert_eq!(second, Action::requeue(STALE_STATUS_RETRY));
    server.await.unwrap();
}

/// A template that does not parse: Stalled, with the template's key, line and
/// column, and no Secret written (not even a partial one).
#[tokio::test]
async fn a_broken_template_stalls_with_its_position_and_writes_no_secret() {
    let (service, mut handle) = pair::<Request<Body>, Response<Body>>();
    let ctx = context(Client::new(service, "default"));
    let mut ss = sealed_secret("db");
    ss.spec.template.data = Some(
        [(
            "dsn".to_owned(),
            "user:{{ .password \n| nosuchfunc }}".to_owned(),
        )]
        .into(),
    );
    let server = tokio::spawn(async move {
        reply(&mut handle, Method::GET, SECRET_DB, not_found()).await;
        let (_, body, send) = expect(&mut handle, Method::POST, EVENTS).await;
        assert_eq!(body["reason"], "ErrUnsealFailed");
        send.send_response(respond(StatusCode::CREATED, &body));
        let (_, body, send) = expect(&mut handle, Method::PATCH, STATUS_DB).await;
        let stalled = &body["status"]["conditions"][1];
        assert_eq!(
            (stalled["type"].as_str(), stalled["reason"].as_str()),
            (Some("Stalled"), Some("UnsealFailed"))
        );
        let message = stalled["message"].as_str().unwrap_or_default();
        assert!(
            message.contains("template: dsn:2:2: function \"nosuchfunc\" not defined"),
            "{message}"
        );
        assert!(!message.contains("hunter2"), "no value in the condition");
        send.send_response(respond(StatusCode::OK, &applied(&body)));
        // No POST or PUT of a Secret.
        expect_silence(&mut handle).await;
    });
    let err = reconcile(Arc::new(ss), Arc::clone(&ctx)).await.unwrap_err();
    assert_eq!(err.metric_reason(), "unseal");
    server.await.unwrap();
}
