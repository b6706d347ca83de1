//! The HTTP API on `--listen-addr` with upstream's paths, codes and bodies
//! (`pkg/controller/server.go`), and `/metrics` on `--listen-metrics-addr`.
//!
//! Like upstream, handlers do not check the method. Unlike upstream, request bodies
//! are limited ([`BODY_LIMIT`], 413 beyond), a body that is not one SealedSecret gets
//! 400 (upstream: 500), a SealedSecret `/v1/rotate` cannot open gets 409 like
//! `/v1/verify` (upstream: 500; Go kubeseal already reads a 409 from rotate as
//! "unable to rotate secret"), and `/v1/rotate` answers with a complete SealedSecret
//! (apiVersion and kind included) and a correct Content-Type.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::ConnectInfo;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::{Extension, Router};
use sealed_secrets::SealedSecret;
use sealed_secrets::documents;
use sealed_secrets::rotate::{ReEncryptError, re_encrypt};
use sealed_secrets::unseal::{UnsealCost, UnsealOptions, unseal_measured};

use crate::keys::KeyRegistry;
use crate::metrics::{HttpDurationLabels, HttpLabels, Metrics};
use crate::ratelimit::RateLimiter;

/// Largest request body accepted: a SealedSecret cannot exceed etcd's object limit.
pub const BODY_LIMIT: usize = 2 * 1024 * 1024;

/// Route paths (compat surface).
pub mod paths {
    /// Liveness and readiness.
    pub const HEALTHZ: &str = "/healthz";
    /// The newest certificate.
    pub const CERT: &str = "/v1/cert.pem";
    /// Can this SealedSecret be unsealed?
    pub const VERIFY: &str = "/v1/verify";
    /// Re-encrypt this SealedSecret to the newest key.
    pub const ROTATE: &str = "/v1/rotate";
    /// Prometheus metrics.
    pub const METRICS: &str = "/metrics";
}

/// What the handlers share.
pub struct ApiState {
    /// The keys.
    pub keys: Arc<KeyRegistry>,
    /// Metrics.
    pub metrics: Arc<Metrics>,
    /// `/v1/verify` limiter.
    pub limiter: RateLimiter,
    /// `--accept-deprecated-v1-data`.
    pub options: UnsealOptions,
    /// Longest a request may take (`--read-timeout` + `--write-timeout`).
    pub timeout: Duration,
}

/// The API router.
pub fn api_router(state: Arc<ApiState>) -> Router {
    Router::new()
        .route(paths::HEALTHZ, any(healthz))
        .route(paths::CERT, any(cert))
        .route(paths::VERIFY, any(verify))
        .route(paths::ROTATE, any(rotate))
        .layer(middleware::from_fn_with_state(
            Arc::clone(&state),
            instrument,
        ))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(state)
}

/// The metrics router.
pub fn metrics_router(metrics: Arc<Metrics>) -> Router {
    Router::new()
        .route(
            paths::METRICS,
            any(|State(m): State<Arc<Metrics>>| async move {
                (
                    [(
                        header::CONTENT_TYPE,
                        "application/openmetrics-text; version=1.0.0; charset=utf-8",
                    )],
                    m.encode(),
                )
            }),
        )
        .with_state(metrics)
}

/// Counts and times the three instrumented routes, as upstream's promhttp does.
async fn instrument(
    State(state): State<Arc<ApiState>>,
    matched: Option<MatchedPath>,
    request: Request,
    next: Next,
) -> Response {
    let path = matched.map(|m| m.as_str().to_owned());
    let method = request.method().as_str().to_ascii_lowercase();
    let start = Instant::now();
    let response = match tokio::time::timeout(state.timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_) => (StatusCode::REQUEST_TIMEOUT, "request timed out\n").into_response(),
    };
    if let Some(path) = path.filter(|p| *p != paths::HEALTHZ) {
        state
            .metrics
            .http_requests
            .get_or_create(&HttpLabels {
                path: path.clone(),
                code: response.status().as_u16().to_string(),
                method: method.clone(),
            })
            .inc();
        state
            .metrics
            .http_duration
            .get_or_create(&HttpDurationLabels { path, method })
            .observe(start.elapsed().as_secs_f64());
    }
    response
}

async fn healthz() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "ok\n",
    )
}

async fn cert(State(state): State<Arc<ApiState>>) -> Response {
    let keys = state.keys.snapshot();
    match keys.newest() {
        Some(pair) => (
            [(header::CONTENT_TYPE, "application/x-pem-file")],
            pair.certificate.to_pem(),
        )
            .into_response(),
        None => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "cannot get certificate\n",
        )
            .into_response(),
    }
}

/// The SealedSecret in a request body: one JSON or YAML document with its
/// apiVersion and kind, as upstream's universal decoder requires.
fn parse_sealed_secret(body: &[u8]) -> Result<SealedSecret, String> {
    let docs = documents::parse(body).map_err(|e| e.to_string())?;
    if docs.is_empty() {
        return Err("empty body: expected one SealedSecret as JSON or YAML".into());
    }
    let [doc] = docs.as_slice() else {
        return Err(
            "Multistream YAML not supported yet (see https://github.com/bitnami-labs/sealed-secrets/issues/114)"
                .into(),
        );
    };
    let api_version = doc.get("apiVersion").and_then(|v| v.as_str()).unwrap_or("");
    let kind = doc.get("kind").and_then(|v| v.as_str()).unwrap_or("");
    if (api_version, kind) != ("bitnami.com/v1alpha1", "SealedSecret") {
        return Err(format!(
            "unexpected resource type: {kind:?} {api_version:?}, expected a bitnami.com/v1alpha1 SealedSecret"
        ));
    }
    serde_json::from_value(doc.clone()).map_err(|e| format!("invalid SealedSecret: {e}"))
}

/// Who a `/v1/verify` request is counted against: the last `X-Forwarded-For` entry
/// (the one the API server's service proxy appends: the caller it saw), else the
/// connection's peer. Upstream keys on the whole header, which a caller can vary
/// freely to dodge the limit; the entries before the last are the caller's to write.
pub fn client_key(headers: &HeaderMap, peer: Option<SocketAddr>) -> String {
    let forwarded = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .rfind(|entry| !entry.is_empty());
    match (forwarded, peer) {
        (Some(entry), _) => entry.to_owned(),
        (None, Some(peer)) => peer.ip().to_string(),
        (None, None) => String::new(),
    }
}

fn limited(client: &str, limiter: &RateLimiter) -> Option<Response> {
    match limiter.check(&format!("{}{client}", paths::VERIFY)) {
        Ok(()) => None,
        Err(retry_after) => {
            let mut response = (StatusCode::TOO_MANY_REQUESTS, "limit exceeded\n").into_response();
            let seconds = retry_after.as_secs().max(1).to_string();
            if let Ok(v) = HeaderValue::from_str(&seconds) {
                response.headers_mut().insert(header::RETRY_AFTER, v);
            }
            Some(response)
        }
    }
}

async fn verify(
    State(state): State<Arc<ApiState>>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let client = client_key(&headers, peer.map(|Extension(ConnectInfo(addr))| addr));
    if let Some(denied) = limited(&client, &state.limiter) {
        return denied;
    }
    let ss = match parse_sealed_secret(&body) {
        Ok(ss) => ss,
        Err(e) => return (StatusCode::BAD_REQUEST, format!("{e}\n")).into_response(),
    };
    let keys = state.keys.snapshot();
    let options = state.options;
    let metrics = Arc::clone(&state.metrics);
    let ok = tokio::task::spawn_blocking(move || {
        let mut cost = UnsealCost::default();
        let ok = unseal_measured(&ss, keys.ring(), options, &mut cost).is_ok();
        metrics.rsa_decryptions.inc_by(cost.rsa_operations);
        ok
    })
    .await
    .unwrap_or(false);
    if ok {
        StatusCode::OK.into_response()
    } else {
        StatusCode::CONFLICT.into_response()
    }
}

async fn rotate(State(state): State<Arc<ApiState>>, body: Bytes) -> Response {
    let ss = match parse_sealed_secret(&body) {
        Ok(ss) => ss,
        Err(e) => return (StatusCode::BAD_REQUEST, format!("{e}\n")).into_response(),
    };
    let keys = state.keys.snapshot();
    let metrics = Arc::clone(&state.metrics);
    let result = tokio::task::spawn_blocking(move || {
        let newest = keys
            .newest()
            .ok_or((StatusCode::INTERNAL_SERVER_ERROR, "cannot get certificate"))?;
        let mut cost = UnsealCost::default();
        let mut rng = rand_core::UnwrapErr(rand_core::OsRng);
        let rotated = re_encrypt(
            &mut rng,
            &ss,
            keys.ring(),
            newest.certificate.public_key(),
            &mut cost,
        );
        metrics.rsa_decryptions.inc_by(cost.rsa_operations);
        // One answer whatever failed (no key, wrong label, bad RSA block, bad GCM
        // tag, invalid base64): like /v1/verify, no oracle.
        rotated.map_err(|e| match e {
            ReEncryptError::Seal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "error creating new sealed secret",
            ),
            _ => (StatusCode::CONFLICT, "error decrypting secret"),
        })
    })
    .await;
    match result {
        Ok(Ok(rotated)) => match serde_json::to_vec(&rotated) {
            Ok(json) => Response::builder()
                .status(StatusCode::OK)
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(json))
                .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response()),
            Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        },
        Ok(Err((status, message))) => (status, format!("{message}\n")).into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// How long a whole request may take: upstream's read plus write timeouts.
pub fn request_timeout(read: Duration, write: Duration) -> Duration {
    read.saturating_add(write)
}

#[cfg(test)]
mod tests;
