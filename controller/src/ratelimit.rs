//! Per-client rate limiting of `/v1/verify` (upstream: a GCRA limiter keyed by path
//! and `X-Forwarded-For`, `--rate-limit` per second with `--rate-limit-burst`).
//! A token bucket per key gives the same admission behaviour.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Keys remembered at most (upstream's store holds 65,536); past that the idle ones
/// (full buckets) are dropped.
const MAX_KEYS: usize = 65_536;

/// A token bucket: `per_second` tokens flow in, at most `burst` are held. Used both
/// by the per-client `/v1/verify` limiter (refuses) and by the API client's QPS
/// limiter (queues).
#[derive(Debug, Clone, Copy)]
pub struct TokenBucket {
    tokens: f64,
    per_second: f64,
    burst: f64,
    updated: Instant,
}

impl TokenBucket {
    /// A full bucket at `now`.
    pub fn new(per_second: f64, burst: f64, now: Instant) -> Self {
        TokenBucket {
            tokens: burst,
            per_second,
            burst,
            updated: now,
        }
    }

    fn refill(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.updated).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.per_second).min(self.burst);
        self.updated = now;
    }

    /// Takes a token if there is one; otherwise says how long until there would be.
    pub fn try_take(&mut self, now: Instant) -> Result<(), Duration> {
        self.refill(now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64(
                (1.0 - self.tokens) / self.per_second,
            ))
        }
    }

    /// Takes a token even if there is none, and says how long to wait before using
    /// it (a negative balance is the queue of requests ahead).
    pub fn reserve(&mut self, now: Instant) -> Duration {
        self.refill(now);
        self.tokens -= 1.0;
        if self.tokens < 0.0 {
            Duration::from_secs_f64(-self.tokens / self.per_second)
        } else {
            Duration::ZERO
        }
    }

    /// Whether the bucket would be full at `now` (its key is idle).
    fn is_full_at(&self, now: Instant) -> bool {
        self.tokens + now.saturating_duration_since(self.updated).as_secs_f64() * self.per_second
            >= self.burst
    }
}

/// A token bucket per key.
#[derive(Debug)]
pub struct RateLimiter {
    per_second: f64,
    burst: f64,
    buckets: Mutex<HashMap<String, TokenBucket>>,
}

impl RateLimiter {
    /// `per_second` sustained, `burst` at once; `per_second` 0 means no limit.
    pub fn new(per_second: u32, burst: u32) -> Self {
        RateLimiter {
            per_second: f64::from(per_second),
            burst: f64::from(burst.max(1)),
            buckets: Mutex::default(),
        }
    }

    /// Admits one request for `key`, or says how long until one would be.
    pub fn check(&self, key: &str) -> Result<(), Duration> {
        self.check_at(key, Instant::now())
    }

    fn check_at(&self, key: &str, now: Instant) -> Result<(), Duration> {
        if self.per_second <= 0.0 {
            return Ok(());
        }
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() >= MAX_KEYS && !buckets.contains_key(key) {
            buckets.retain(|_, b| !b.is_full_at(now));
            if buckets.len() >= MAX_KEYS {
                buckets.clear();
            }
        }
        buckets
            .entry(key.to_owned())
            .or_insert_with(|| TokenBucket::new(self.per_second, self.burst, now))
            .try_take(now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_refill_per_key() {
        let limiter = RateLimiter::new(2, 2);
        let t0 = Instant::now();
        assert!(limiter.check_at("a", t0).is_ok());
        assert!(limiter.check_at("a", t0).is_ok());
        let wait = limiter.check_at("a", t0).unwrap_err();
        assert_eq!(wait, Duration::from_millis(500));
        assert!(limiter.check_at("b", t0).is_ok(), "keys are independent");
        assert!(
            limiter
                .check_at("a", t0 + Duration::from_millis(500))
                .is_ok()
        );
        assert!(
            limiter
                .check_at("a", t0 + Duration::from_millis(500))
                .is_err()
        );
    }

    #[test]
    fn zero_rate_means_unlimited() {
        let limiter = RateLimiter::new(0, 1);
        for _ in 0..100 {
            assert!(limiter.check("a").is_ok());
        }
    }
}
