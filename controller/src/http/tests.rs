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
async fn verify_answers_200_409_and_400() {
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
    assert_eq!(code, StatusCode::BAD_REQUEST);
    assert!(body.contains("unexpected resource type"), "{body}");

    let router = api_router(state(registry_with_key_a()));
    let yaml = sealed_secrets::documents::to_yaml(&sealed("db")).unwrap();
    let two = format!("{yaml}---\n{yaml}").into_bytes();
    let (code, _, body) = call(router.clone(), "POST", "/v1/verify", two).await;
    assert_eq!(code, StatusCode::BAD_REQUEST);
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

#[test]
fn the_rate_limit_key_is_the_entry_the_proxy_appended_or_the_peer() {
    let headers = |values: &[&str]| {
        let mut h = HeaderMap::new();
        for v in values {
            h.append("x-forwarded-for", v.parse().unwrap());
        }
        h
    };
    let peer: std::net::SocketAddr = "10.0.0.9:4242".parse().unwrap();
    // What a caller writes comes first; the API server's proxy appends what it saw.
    assert_eq!(
        client_key(&headers(&["1.2.3.4, 10.1.1.1"]), Some(peer)),
        "10.1.1.1"
    );
    assert_eq!(
        client_key(&headers(&["9.9.9.9", "10.1.1.1"]), Some(peer)),
        "10.1.1.1"
    );
    assert_eq!(client_key(&headers(&["10.1.1.1 , "]), None), "10.1.1.1");
    assert_eq!(client_key(&headers(&[]), Some(peer)), "10.0.0.9");
    assert_eq!(client_key(&headers(&[]), None), "");
}

#[tokio::test]
async fn a_caller_cannot_dodge_the_verify_limit_by_varying_forwarded_for() {
    let router = api_router(state(registry_with_key_a()));
    let body = serde_json::to_vec(&sealed("db")).unwrap();
    let mut codes = Vec::new();
    for spoof in ["1.1.1.1", "2.2.2.2", "3.3.3.3"] {
        let request = Request::builder()
            .method("POST")
            .uri("/v1/verify")
            .header("x-forwarded-for", format!("{spoof}, 10.1.1.1"))
            .body(Body::from(body.clone()))
            .unwrap();
        codes.push(router.clone().oneshot(request).await.unwrap().status());
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
    let (code, _, body) = call(
        router,
        "POST",
        "/v1/rotate",
        serde_json::to_vec(&broken).unwrap(),
    )
    .await;
    assert_eq!(
        (code, body.as_str()),
        (StatusCode::CONFLICT, "error decrypting secret\n")
    );
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

// Bad input (docs/bad-input.md): every body that is not one SealedSecret gets a 4xx
// with a sentence saying why, and nothing panics. Each call gets a fresh router, so
// the /v1/verify limiter never answers in place of the handler.

/// Both endpoints' answer to one body: (verify status, verify body, rotate status, rotate body).
async fn both(body: Vec<u8>) -> (StatusCode, String, StatusCode, String) {
    let (v_code, _, v_body) = call(
        api_router(state(registry_with_key_a())),
        "POST",
        "/v1/verify",
        body.clone(),
    )
    .await;
    let (r_code, _, r_body) = call(
        api_router(state(registry_with_key_a())),
        "POST",
        "/v1/rotate",
        body,
    )
    .await;
    (v_code, v_body, r_code, r_body)
}

/// Asserts 400 from both endpoints with a body starting `expected`.
async fn refused(body: impl Into<Vec<u8>>, expected: &str) {
    let (v_code, v_body, r_code, r_body) = both(body.into()).await;
    assert_eq!(v_code, StatusCode::BAD_REQUEST, "verify: {v_body}");
    assert_eq!(r_code, StatusCode::BAD_REQUEST, "rotate: {r_body}");
    assert!(v_body.starts_with(expected), "verify: {v_body}");
    assert_eq!(v_body, r_body, "one message for both endpoints");
    assert!(v_body.ends_with('\n'));
}

fn sealed_json(f: impl FnOnce(&mut serde_json::Value)) -> Vec<u8> {
    let mut v = serde_json::to_value(sealed("db")).unwrap();
    f(&mut v);
    serde_json::to_vec(&v).unwrap()
}

#[tokio::test]
async fn bad_input_oversized_body_is_413_on_both_endpoints() {
    let huge = format!("{{\"kind\": \"{}\"}}", "x".repeat(BODY_LIMIT)).into_bytes();
    let (v, _, r, _) = both(huge).await;
    assert_eq!(
        (v, r),
        (StatusCode::PAYLOAD_TOO_LARGE, StatusCode::PAYLOAD_TOO_LARGE)
    );
}

#[tokio::test]
async fn bad_input_empty_body() {
    refused(Vec::new(), "empty body: expected one SealedSecret").await;
}

#[tokio::test]
async fn bad_input_not_utf8() {
    refused(vec![0xff, 0xfe, 0x00, 0x80], "input is not valid UTF-8").await;
}

#[tokio::test]
async fn bad_input_not_json_or_yaml() {
    refused("{\"apiVersion\": ", "invalid JSON: EOF while parsing").await;
    refused("kind: [SealedSecret\n", "invalid YAML: ").await;
    refused("just some text\n", "unexpected resource type: \"\" \"\"").await;
}

#[tokio::test]
async fn bad_input_wrong_kinds() {
    refused(
        r#"{"apiVersion":"v1","kind":"Secret","metadata":{"name":"db"},"stringData":{"password":"hunter2"}}"#,
        "unexpected resource type: \"Secret\" \"v1\"",
    )
    .await;
    refused(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n",
        "unexpected resource type: \"ConfigMap\" \"v1\"",
    )
    .await;
    refused(
        r#"{"apiVersion":"v1","kind":"List","items":[]}"#,
        "unexpected resource type: \"List\" \"v1\"",
    )
    .await;
    refused("[1, 2]", "unexpected resource type: \"\" \"\"").await;
    let wrong_group = sealed_json(|v| v["apiVersion"] = "bitnami.com/v1".into());
    refused(
        wrong_group,
        "unexpected resource type: \"SealedSecret\" \"bitnami.com/v1\"",
    )
    .await;
}

#[tokio::test]
async fn bad_input_secret_values_are_not_echoed() {
    let (_, v_body, _, r_body) = both(
        br#"{"apiVersion":"v1","kind":"Secret","stringData":{"password":"hunter2"}}"#.to_vec(),
    )
    .await;
    assert!(!v_body.contains("hunter2") && !r_body.contains("hunter2"));
}

#[tokio::test]
async fn bad_input_missing_and_mistyped_fields() {
    refused(
        r#"{"apiVersion":"bitnami.com/v1alpha1","kind":"SealedSecret","metadata":{"name":"db"}}"#,
        "invalid SealedSecret: missing field `spec`",
    )
    .await;
    refused(
        sealed_json(|v| v["spec"]["encryptedData"] = 42.into()),
        "invalid SealedSecret: invalid type: integer `42`",
    )
    .await;
    refused(
        sealed_json(|v| v["metadata"]["name"] = serde_json::json!(["db"])),
        "invalid SealedSecret: invalid type: sequence",
    )
    .await;
}

#[tokio::test]
async fn bad_input_multiple_documents() {
    let one = String::from_utf8(sealed_json(|_| {})).unwrap();
    refused(
        format!("{one}\n{one}"),
        "Multistream YAML not supported yet",
    )
    .await;
}

#[tokio::test]
async fn bad_input_yaml_alias_bomb() {
    let mut bomb =
        String::from("apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\na0: &a0 [lol]\n");
    for i in 1..=12 {
        let refs = vec![format!("*a{}", i - 1); 10].join(", ");
        bomb.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
    }
    refused(bomb, "invalid YAML: its aliases expand").await;
}

#[tokio::test]
async fn bad_input_deep_nesting_fills_the_body_limit() {
    // Just under the limit: libyaml alone would spend most of an hour on this.
    let depth = BODY_LIMIT / 2 - 8;
    let yaml = format!("a: {}{}", "[".repeat(depth), "]".repeat(depth));
    refused(yaml, "invalid YAML: nested more than 128 levels deep").await;
    let json = "[".repeat(depth) + &"]".repeat(depth);
    refused(json, "invalid JSON: nested more than 128 levels deep").await;
}

/// The one answer for a SealedSecret that does not open: 409 with an empty body from
/// /v1/verify, 409 `error decrypting secret` from /v1/rotate, whatever was wrong.
async fn undecryptable(body: Vec<u8>) {
    let (v_code, v_body, r_code, r_body) = both(body).await;
    assert_eq!((v_code, v_body.as_str()), (StatusCode::CONFLICT, ""));
    assert_eq!(
        (r_code, r_body.as_str()),
        (StatusCode::CONFLICT, "error decrypting secret\n")
    );
}

fn with_password(f: impl FnOnce(&mut Vec<u8>) -> Option<String>) -> Vec<u8> {
    sealed_json(|v| {
        let ct = v["spec"]["encryptedData"]["password"].as_str().unwrap();
        let mut bytes =
            base64::Engine::decode(&base64::engine::general_purpose::STANDARD, ct).unwrap();
        let text = f(&mut bytes).unwrap_or_else(|| {
            base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &bytes)
        });
        v["spec"]["encryptedData"]["password"] = text.into();
    })
}

#[tokio::test]
async fn bad_input_invalid_base64_in_encrypted_data_is_409() {
    undecryptable(with_password(|_| Some("not base64!".into()))).await;
}

#[tokio::test]
async fn bad_input_tampered_ciphertext_gives_one_answer_for_rsa_and_gcm() {
    // A flipped bit in the RSA block (after the 2-byte length), in the GCM
    // ciphertext, in the GCM tag, a truncated value, a wrong length prefix.
    undecryptable(with_password(|b| {
        b[10] ^= 1;
        None
    }))
    .await;
    undecryptable(with_password(|b| {
        let n = b.len();
        b[n - 20] ^= 1;
        None
    }))
    .await;
    undecryptable(with_password(|b| {
        let n = b.len();
        b[n - 1] ^= 1;
        None
    }))
    .await;
    undecryptable(with_password(|b| {
        b.truncate(100);
        None
    }))
    .await;
    undecryptable(with_password(|b| {
        b[0] ^= 0x7f;
        None
    }))
    .await;
}

#[tokio::test]
async fn bad_input_huge_value_under_the_limit_is_409() {
    let value = "A".repeat(BODY_LIMIT - 4096);
    undecryptable(with_password(|_| Some(value))).await;
}
