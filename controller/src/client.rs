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

/// The longest a request waits past its token's time so that waiting requests leave
/// together: under a sustained limit the process then wakes a few times a second
/// instead of once per request, and the work the answers bring (RSA above all) runs
/// back to back. Each wakeup of an otherwise idle process costs CPU of its own
/// (docs/performance.md, "CPU under the client rate limit").
const MAX_COALESCE: Duration = Duration::from_millis(250);

/// A token bucket shared by all requests: waits, never refuses.
#[derive(Clone)]
pub struct RateLimitLayer {
    bucket: Arc<Mutex<TokenBucket>>,
    /// Waits end on multiples of `tick` after `epoch` (zero: no coalescing).
    epoch: Instant,
    tick: Duration,
}

impl RateLimitLayer {
    /// `qps` sustained, `burst` at once.
    pub fn new(qps: f32, burst: u32) -> Self {
        Self::new_at(qps, burst, Instant::now())
    }

    fn new_at(qps: f32, burst: u32, epoch: Instant) -> Self {
        let qps = f64::from(qps).max(0.001);
        let burst = f64::from(burst.max(1));
        RateLimitLayer {
            bucket: Arc::new(Mutex::new(TokenBucket::new(qps, burst, epoch))),
            epoch,
            tick: coalescing_tick(qps, burst),
        }
    }

    /// Takes a token and says how long to wait before using it.
    pub fn reserve(&self) -> Duration {
        self.reserve_at(Instant::now())
    }

    fn reserve_at(&self, now: Instant) -> Duration {
        let delay = {
            let mut bucket = self.bucket.lock().unwrap_or_else(|e| e.into_inner());
            bucket.reserve(now)
        };
        coalesce(delay, now.saturating_duration_since(self.epoch), self.tick)
    }
}

/// The coalescing tick for a bucket: [`MAX_COALESCE`], but short enough that the
/// requests one tick gathers (`qps` × tick) stay within half the burst, so a
/// bunch never exceeds what the bucket lets through at once anyway.
fn coalescing_tick(qps: f64, burst: f64) -> Duration {
    let half_burst = Duration::from_secs_f64((burst / 2.0 / qps).min(MAX_COALESCE.as_secs_f64()));
    // A tick shorter than a few milliseconds gathers nothing a timer would not.
    if half_burst < Duration::from_millis(5) {
        Duration::ZERO
    } else {
        half_burst
    }
}

/// `delay` from `since_epoch`, lengthened to end on the next multiple of `tick`. A
/// request that may go now goes now: only waits are lengthened, never shortened, so
/// the sustained rate stays the bucket's.
fn coalesce(delay: Duration, since_epoch: Duration, tick: Duration) -> Duration {
    if delay.is_zero() || tick.is_zero() {
        return delay;
    }
    let ready = since_epoch.saturating_add(delay).as_nanos();
    let tick_ns = tick.as_nanos();
    let boundary = ready.div_ceil(tick_ns).saturating_mul(tick_ns);
    let wait = boundary.saturating_sub(since_epoch.as_nanos());
    Duration::from_nanos(u64::try_from(wait).unwrap_or(u64::MAX))
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
        let epoch = Instant::now();
        // 10 QPS, burst 2: a longer tick would gather the whole burst; 2 / 2 / 10 s.
        let limit = RateLimitLayer::new_at(10.0, 2, epoch);
        assert_eq!(limit.tick, Duration::from_millis(100));
        assert_eq!(limit.reserve_at(epoch), Duration::ZERO);
        assert_eq!(limit.reserve_at(epoch), Duration::ZERO);
        // Tokens at 100 and 200 ms: already on tick boundaries.
        assert_eq!(limit.reserve_at(epoch), Duration::from_millis(100));
        assert_eq!(limit.reserve_at(epoch), Duration::from_millis(200));
    }

    #[test]
    fn waits_end_together_on_the_next_tick() {
        let epoch = Instant::now();
        // 50 QPS, burst 100 (the defaults): tokens every 20 ms once the burst is spent.
        let limit = RateLimitLayer::new_at(50.0, 100, epoch);
        assert_eq!(limit.tick, MAX_COALESCE);
        for _ in 0..100 {
            assert_eq!(limit.reserve_at(epoch), Duration::ZERO);
        }
        // The next twelve tokens come at 20, 40, …, 240 ms: all go at 250 ms.
        let waits: Vec<Duration> = (0..13).map(|_| limit.reserve_at(epoch)).collect();
        assert_eq!(waits[..12], [Duration::from_millis(250); 12]);
        assert_eq!(waits[12], Duration::from_millis(500));
        // Asked at 100 ms, the 114th token (due at 280 ms) waits for the 500 ms tick.
        let at = epoch + Duration::from_millis(100);
        assert_eq!(limit.reserve_at(at), Duration::from_millis(400));
    }

    #[test]
    fn a_tick_never_gathers_more_than_half_the_burst() {
        assert_eq!(coalescing_tick(50.0, 100.0), MAX_COALESCE);
        assert_eq!(coalescing_tick(100.0, 10.0), Duration::from_millis(50));
        // 5 QPS (upstream's default) with burst 10: 250 ms, one or two requests.
        assert_eq!(coalescing_tick(5.0, 10.0), MAX_COALESCE);
        // A burst of 1 at 1,000 QPS: nothing to gather.
        assert_eq!(coalescing_tick(1000.0, 1.0), Duration::ZERO);
        assert_eq!(
            coalesce(Duration::from_millis(3), Duration::ZERO, Duration::ZERO),
            Duration::from_millis(3)
        );
    }
}
