//! The Kubernetes client: in-cluster, `--kubeconfig`, or KUBECONFIG, with the
//! request rate capped at `--kubeclient-qps` / `--kubeclient-burst` like client-go's
//! token bucket.

use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context as TaskContext, Poll};
use std::time::{Duration, Instant};

use kube::Client;

use crate::ratelimit::TokenBucket;
use kube::client::ClientBuilder;
use kube::config::{Config as KubeConfig, KubeConfigOptions, Kubeconfig};

/// Why no client could be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The kubeconfig file could not be read.
    #[error("cannot read kubeconfig {path}: {source}")]
    Kubeconfig {
        /// The file.
        path: String,
        /// Why.
        source: kube::config::KubeconfigError,
    },
    /// Neither in-cluster nor a kubeconfig.
    #[error("no cluster configuration (not in a cluster, and no KUBECONFIG or --kubeconfig): {0}")]
    Infer(#[from] kube::config::InferConfigError),
    /// The client could not be built.
    #[error("cannot build Kubernetes client: {0}")]
    Build(#[from] kube::Error),
}

/// Builds the client.
pub async fn build(
    kubeconfig: Option<&Path>,
    qps: Option<f32>,
    burst: u32,
) -> Result<Client, ClientError> {
    let config = match kubeconfig {
        Some(path) => {
            let file = Kubeconfig::read_from(path).map_err(|source| ClientError::Kubeconfig {
                path: path.display().to_string(),
                source,
            })?;
            KubeConfig::from_custom_kubeconfig(file, &KubeConfigOptions::default())
                .await
                .map_err(|source| ClientError::Kubeconfig {
                    path: path.display().to_string(),
                    source,
                })?
        }
        None => KubeConfig::infer().await?,
    };
    let builder = ClientBuilder::try_from(config)?;
    Ok(match qps {
        Some(qps) => builder.with_layer(&RateLimitLayer::new(qps, burst)).build(),
        None => builder.build(),
    })
}

/// A token bucket shared by all requests: waits, never refuses.
#[derive(Clone)]
pub struct RateLimitLayer {
    bucket: Arc<Mutex<TokenBucket>>,
}

impl RateLimitLayer {
    /// `qps` sustained, `burst` at once.
    pub fn new(qps: f32, burst: u32) -> Self {
        RateLimitLayer {
            bucket: Arc::new(Mutex::new(TokenBucket::new(
                f64::from(qps).max(0.001),
                f64::from(burst.max(1)),
                Instant::now(),
            ))),
        }
    }

    /// Takes a token and says how long to wait before using it.
    pub fn reserve(&self) -> Duration {
        let mut bucket = self.bucket.lock().unwrap_or_else(|e| e.into_inner());
        bucket.reserve(Instant::now())
    }
}

impl<S> tower::Layer<S> for RateLimitLayer {
    type Service = RateLimited<S>;
    fn layer(&self, inner: S) -> Self::Service {
        RateLimited {
            inner,
            limit: self.clone(),
            wait: None,
            reserved: false,
        }
    }
}

/// The service behind [`RateLimitLayer`]: not ready until its token's turn comes.
pub struct RateLimited<S> {
    inner: S,
    limit: RateLimitLayer,
    wait: Option<Pin<Box<tokio::time::Sleep>>>,
    reserved: bool,
}

impl<S, R> tower::Service<R> for RateLimited<S>
where
    S: tower::Service<R>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), Self::Error>> {
        if !self.reserved {
            let delay = self.limit.reserve();
            self.reserved = true;
            if !delay.is_zero() {
                self.wait = Some(Box::pin(tokio::time::sleep(delay)));
            }
        }
        if let Some(wait) = self.wait.as_mut() {
            if wait.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            self.wait = None;
        }
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: R) -> Self::Future {
        self.reserved = false;
        self.inner.call(request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_is_free_then_each_request_waits_its_turn() {
        let limit = RateLimitLayer::new(10.0, 2);
        assert_eq!(limit.reserve(), Duration::ZERO);
        assert_eq!(limit.reserve(), Duration::ZERO);
        let third = limit.reserve();
        let fourth = limit.reserve();
        assert!(third > Duration::from_millis(90) && third <= Duration::from_millis(100));
        assert!(fourth > Duration::from_millis(190) && fourth <= Duration::from_millis(200));
    }
}
