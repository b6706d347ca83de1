//! The HTTP API in-process (no socket): upstream's codes, bodies and content types.
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode, header};
use sealed_secrets::SealedSecret;
use sealed_secrets::seal::{SealOptions, seal_secret};
use sealed_secrets::secret::InputSecret;
use sealed_secrets::unseal::{UnsealOptions, unseal};
use sealed_secrets_core::{Certificate, PrivateKey};
use serde_json::json;
use tower::ServiceExt;

use super::*;
use crate::config::KeyOrder;
use crate::testing::{CERT_A, KEY_A, registry_with_key_a};

fn state(keys: Arc<KeyRegistry>) -> Arc<ApiState> {
    Arc::new(ApiState {
        keys,
        metrics: Arc::new(Metrics::new("test")),
        limiter: RateLimiter::new(2, 2),
        options: UnsealOptions::default(),
        timeout: Duration::from_secs(10),
    })
}

fn sealed(name: &str) -> SealedSecret {
    let input = InputSecret::from_value(&json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": name, "namespace": "app"},
        "stringData": {"password": "hunter2"}
    }))
    .unwrap();
    let key = PrivateKey::from_pem(KEY_A).unwrap();
    let mut rng = rand_core::UnwrapErr(rand_core::OsRng);
    seal_secret(&mut rng, key.public_key(), input, &SealOptions::default()).unwrap()
}

async fn call(
    router: Router,
    method: &str,
    path: &str,
    body: Vec<u8>,
) -> (StatusCode, String, String) {
    let response = router
        .oneshot(
            Request::builder()
                .method(method)
                .uri(path)
                .body(Body::from(body))
                .unwrap(),
        )
        .await
        .unwrap();
    let status = response.status();
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = to_bytes(response.into_body(), usize::MAX).await.unwrap();
    (
        status,
        content_type,
        String::from_utf8_lossy(&body).into_owned(),
    )
}

#[test]
fn compat_paths() {
    assert_eq!(
        [
            paths::HEALTHZ,
            paths::CERT,
            paths::VERIFY,
            paths::ROTATE,
            paths::METRICS
        ],
        [
            "/healthz",
            "/v1/cert.pem",
            "/v1/verify",
            "/v1/rotate",
            "/metrics"
        ]
    );
}

#[tokio::test]
async fn healthz() {
    let (code, ct, body) = call(
        api_router(state(registry_with_key_a())),
        "GET",
        "/healthz",
        vec![],
    )
    .await;
    assert_eq!(
        (code, ct.as_str(), body.as_str()),
        (StatusCode::OK, "text/plain; charset=utf-8", "ok\n")
    );
}

#[tokio::test]
async fn cert_is_the_newest_certificate_or_500_without_keys() {
    let (code, ct, body) = call(
        api_router(state(registry_with_key_a())),
        "GET",
        "/v1/cert.pem",
        vec![],
    )
    .await;
    assert_eq!(
        (code, ct.as_str()),
        (StatusCode::OK, "application/x-pem-file")
    );
    assert_eq!(
        Certificate::from_pem(body.as_bytes()).unwrap().der(),
        Certificate::from_pem(CERT_A).unwrap().der()
    );
    let empty = Arc::new(KeyRegistry::new(KeyOrder::CertNotBefore));
    let (code, _, body) = call(api_router(state(empty)), "GET", "/v1/cert.pem", vec![]).await;
    assert_eq!(
        (code, body.as_str()),
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            "cannot get certificate\n"
        )
    );
}

#[tokio::test]
async fn verify_answers_200_409_and_500_like_upstream() {
    let router = api_router(state(registry_with_key_a()));
    let good = serde_json::to_vec(&sealed("db")).unwrap();
    assert_eq!(
        call(router.clone(), "POST", "/v1/verify", good.clone())
            .await
            .0,
        StatusCode::OK
    );

    // The same values under another name: the strict label no longer matches.
    let mut renamed = sealed("db");
    renamed.metadata.name = Some("other".into());
    let renamed = serde_json::to_vec(&renamed).unwrap();
    let router = api_router(state(registry_with_key_a()));
    assert_eq!(
        call(router.clone(), "POST", "/v1/verify", renamed).await.0,
        StatusCode::CONFLICT
    );

    let not_ss = br#"{"apiVersion":"v1","kind":"Secret","metadata":{"name":"x"}}"#.to_vec();
    let (code, _, body) = call(router.clone(), "POST", "/v1/verify", not_ss).await;
    assert_eq!(code, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(body.contains("unexpected resource type"), "{body}");

    let router = api_router(state(registry_with_key_a()));
    let yaml = sealed_secrets::documents::to_yaml(&sealed("db")).unwrap();
    let two = format!("{yaml}---\n{yaml}").into_bytes();
    let (code, _, body) = call(router.clone(), "POST", "/v1/verify", two).await;
    assert_eq!(code, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(body.contains("Multistream"), "{body}");
    assert_eq!(
        call(router, "POST", "/v1/verify", yaml.into_bytes())
            .await
            .0,
        StatusCode::OK,
        "YAML too"
    );
}

#[tokio::test]
async fn verify_is_rate_limited_per_client() {
    let router = api_router(state(registry_with_key_a()));
    let body = serde_json::to_vec(&sealed("db")).unwrap();
    let mut codes = Vec::new();
    for _ in 0..3 {
        codes.push(
            call(router.clone(), "POST", "/v1/verify", body.clone())
                .await
                .0,
        );
    }
    assert_eq!(
        codes,
        [
            StatusCode::OK,
            StatusCode::OK,
            StatusCode::TOO_MANY_REQUESTS
        ]
    );
}

#[tokio::test]
async fn oversized_bodies_are_refused() {
    let router = api_router(state(registry_with_key_a()));
    let huge = vec![b' '; BODY_LIMIT + 1];
    assert_eq!(
        call(router, "POST", "/v1/rotate", huge).await.0,
        StatusCode::PAYLOAD_TOO_LARGE
    );
}

#[tokio::test]
async fn rotate_returns_a_complete_sealed_secret_for_the_newest_key() {
    let router = api_router(state(registry_with_key_a()));
    let input = sealed("db");
    let (code, ct, body) = call(
        router,
        "POST",
        "/v1/rotate",
        serde_json::to_vec(&input).unwrap(),
    )
    .await;
    assert_eq!((code, ct.as_str()), (StatusCode::OK, "application/json"));
    let value: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(value["apiVersion"], "bitnami.com/v1alpha1");
    assert_eq!(value["kind"], "SealedSecret");
    let rotated: SealedSecret = serde_json::from_value(value).unwrap();
    assert_ne!(rotated.spec.encrypted_data, input.spec.encrypted_data);
    let keys = registry_with_key_a().snapshot();
    let secret = unseal(&rotated, keys.ring(), UnsealOptions::default()).unwrap();
    assert_eq!(&secret.data.0["password"][..], b"hunter2");

    let mut broken = input;
    broken.metadata.name = Some("other".into());
    let router = api_router(state(registry_with_key_a()));
    let (code, _, _) = call(
        router,
        "POST",
        "/v1/rotate",
        serde_json::to_vec(&broken).unwrap(),
    )
    .await;
    assert_eq!(code, StatusCode::INTERNAL_SERVER_ERROR);
}

#[tokio::test]
async fn requests_are_counted_with_upstream_labels() {
    let st = state(registry_with_key_a());
    let metrics = Arc::clone(&st.metrics);
    let _ = call(api_router(st), "GET", "/v1/cert.pem", vec![]).await;
    let (code, ct, text) = call(metrics_router(metrics), "GET", "/metrics", vec![]).await;
    assert_eq!(code, StatusCode::OK);
    assert!(ct.starts_with("application/openmetrics-text"));
    assert!(
        text.contains(
            "sealed_secrets_controller_http_requests_total{path=\"/v1/cert.pem\",code=\"200\",method=\"get\"} 1"
        ),
        "{text}"
    );
}
