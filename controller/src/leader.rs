//! Leader election on a `coordination.k8s.io/v1` Lease, so that several replicas can
//! run: every replica serves `/v1/cert.pem`, `/v1/verify` and `/v1/rotate` (they only
//! read the keys), but only the leader reconciles SealedSecrets and makes keys.
//!
//! The rules are client-go's (`tools/leaderelection`), so the timing is familiar:
//! - a candidate takes the Lease when nobody holds it, or when the record it last saw
//!   has not changed for the record's `leaseDurationSeconds` *by its own clock* (the
//!   `renewTime` written by another machine is never compared with ours: no clock-skew
//!   assumption);
//! - the leader renews every retry period, and stops leading when it has not renewed
//!   for the renew deadline (shorter than the lease duration, so it has stopped before
//!   anyone else may start);
//! - every write is a compare-and-swap on the Lease's resourceVersion;
//! - on a graceful stop the leader releases the Lease so a standby takes over at once.
//!
//! A leader killed without warning is therefore replaced at most a lease duration
//! plus a retry period after its last renewal.

use std::future::Future;
use std::time::Duration;

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use kube::Client;
use kube::api::{Api, PostParams};
use prometheus_client::metrics::gauge::Gauge;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// Name of the Lease in the controller's namespace (`--leader-elect-lease-name`).
pub const DEFAULT_LEASE_NAME: &str = "sealed-secrets-controller";

/// Timing and identity of one candidate.
#[derive(Debug, Clone)]
pub struct ElectionConfig {
    /// The Lease's namespace (the controller's own).
    pub namespace: String,
    /// The Lease's name.
    pub lease_name: String,
    /// Who this replica is (pod name plus a per-process suffix).
    pub identity: String,
    /// How long a Lease stays valid without renewal.
    pub lease_duration: Duration,
    /// How long the leader keeps leading without a successful renewal.
    pub renew_deadline: Duration,
    /// How often candidates try and the leader renews.
    pub retry_period: Duration,
}

/// Why the timing flags do not fit together.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum ElectionTimingError {
    /// The leader must stop before anyone else may start.
    #[error(
        "--leader-elect-lease-duration ({lease:?}) must be longer than --leader-elect-renew-deadline ({deadline:?})"
    )]
    DeadlineNotShorter {
        /// Lease duration.
        lease: Duration,
        /// Renew deadline.
        deadline: Duration,
    },
    /// Renewing must be possible more than once before the deadline.
    #[error(
        "--leader-elect-renew-deadline ({deadline:?}) must be longer than --leader-elect-retry-period ({retry:?})"
    )]
    RetryNotShorter {
        /// Renew deadline.
        deadline: Duration,
        /// Retry period.
        retry: Duration,
    },
    /// Zero or sub-second lease (the Lease counts whole seconds).
    #[error("--leader-elect-lease-duration must be at least 1s")]
    LeaseTooShort,
}

/// Checks client-go's constraints: lease duration > renew deadline > retry period > 0.
pub fn check_timing(
    lease: Duration,
    deadline: Duration,
    retry: Duration,
) -> Result<(), ElectionTimingError> {
    if lease < Duration::from_secs(1) {
        return Err(ElectionTimingError::LeaseTooShort);
    }
    if lease <= deadline {
        return Err(ElectionTimingError::DeadlineNotShorter { lease, deadline });
    }
    if deadline <= retry || retry.is_zero() {
        return Err(ElectionTimingError::RetryNotShorter { deadline, retry });
    }
    Ok(())
}

/// A Lease identity unique to this process: the pod name (`HOSTNAME`) and a suffix,
/// so a restarted pod with the same name does not mistake the old holder for itself.
pub fn identity(host: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    format!("{host}_{:x}{:08x}", std::process::id(), nanos)
}

/// What the election decides on: the Lease's holder fields and their version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// `spec.holderIdentity` (`None` or empty: released).
    pub holder: Option<String>,
    /// `spec.leaseDurationSeconds`.
    pub duration_seconds: Option<i32>,
    /// `spec.renewTime`, as written (compared for change, never with our clock).
    pub renew_time: Option<String>,
    /// `spec.leaseTransitions`.
    pub transitions: i32,
}

impl Record {
    fn of(lease: &Lease) -> Record {
        let spec = lease.spec.clone().unwrap_or_default();
        Record {
            holder: spec.holder_identity.filter(|h| !h.is_empty()),
            duration_seconds: spec.lease_duration_seconds,
            renew_time: spec.renew_time.map(|t| t.0.to_string()),
            transitions: spec.lease_transitions.unwrap_or(0),
        }
    }
}

/// When the record a candidate last saw changed (by the candidate's clock).
#[derive(Debug, Clone)]
struct Observed {
    record: Record,
    at: Instant,
}

/// What to do with the Lease.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// No Lease: create it, holding it.
    Create,
    /// We hold it: renew.
    Renew,
    /// Released or expired: take it over.
    Acquire,
    /// Someone else holds a live Lease.
    Wait,
}

/// The decision, as a pure function of what is known. `unchanged_for` is how long the
/// record has looked the same to us; `fallback` is our own lease duration, used when
/// the record carries none.
pub fn decide(
    me: &str,
    record: Option<&Record>,
    unchanged_for: Duration,
    fallback: Duration,
) -> Step {
    let Some(record) = record else {
        return Step::Create;
    };
    match record.holder.as_deref() {
        Some(holder) if holder == me => Step::Renew,
        None => Step::Acquire,
        Some(_) => {
            let valid_for = record
                .duration_seconds
                .and_then(|s| u64::try_from(s).ok())
                .map(Duration::from_secs)
                .unwrap_or(fallback);
            if unchanged_for >= valid_for {
                Step::Acquire
            } else {
                Step::Wait
            }
        }
    }
}

/// One candidate for the Lease.
pub struct Elector {
    api: Api<Lease>,
    config: ElectionConfig,
    observed: Option<Observed>,
    leading: Gauge,
}

/// Why one attempt on the Lease failed (logged; the loop goes on).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LeaseError {
    /// The API server refused or could not be reached.
    #[error("Lease {name}: {source}")]
    Api {
        /// The Lease.
        name: String,
        /// Why.
        source: kube::Error,
    },
}

impl Elector {
    /// A candidate; `leading` is set to 1 while it leads, 0 otherwise (the
    /// `sealed_secrets_controller_leader` metric).
    pub fn new(client: Client, config: ElectionConfig, leading: Gauge) -> Elector {
        Elector {
            api: Api::namespaced(client, &config.namespace),
            config,
            observed: None,
            leading,
        }
    }

    /// Runs until `shutdown`: competes for the Lease, and while it leads runs
    /// `work(token)`, cancelling `token` (and waiting for `work` to return) when it
    /// stops leading. Leadership is released on shutdown.
    pub async fn run<F, Fut>(mut self, shutdown: CancellationToken, mut work: F)
    where
        F: FnMut(CancellationToken) -> Fut,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let name = self.config.lease_name.clone();
        tracing::info!(lease = %name, identity = %self.config.identity, "leader election: candidate");
        loop {
            // Candidate: try every retry period until we hold the Lease.
            let mut last_renewed = loop {
                let attempt = Instant::now();
                match self.try_acquire_or_renew().await {
                    Ok(true) => break attempt,
                    Ok(false) => {}
                    Err(e) => {
                        tracing::warn!(error = %e, "leader election: cannot read or write the Lease")
                    }
                }
                tokio::select! {
                    () = shutdown.cancelled() => return,
                    () = tokio::time::sleep(self.config.retry_period) => {}
                }
            };
            tracing::info!(lease = %name, identity = %self.config.identity, "leader election: leading");
            self.leading.set(1);
            let token = shutdown.child_token();
            let leading_work = tokio::spawn(work(token.clone()));
            let lost = loop {
                tokio::select! {
                    () = shutdown.cancelled() => break false,
                    () = tokio::time::sleep_until(last_renewed + self.config.retry_period) => {}
                }
                match self.renew_until_deadline(last_renewed, &shutdown).await {
                    Renewal::Renewed(at) => last_renewed = at,
                    Renewal::Shutdown => break false,
                    Renewal::Lost => break true,
                }
            };
            // Stop the leader's work before anything else may start it elsewhere.
            token.cancel();
            if let Err(e) = leading_work.await {
                tracing::error!(error = %e, "leader election: the leader's work failed");
            }
            self.leading.set(0);
            if lost {
                tracing::warn!(lease = %name, "leader election: lost the Lease; stopped leading");
                continue;
            }
            self.release().await;
            return;
        }
    }

    /// Retries the renewal until it succeeds or the renew deadline, counted from the
    /// start of the last successful renewal (`since`), passes. A success reports when
    /// its request started: the deadline is counted conservatively from there.
    async fn renew_until_deadline(
        &mut self,
        since: Instant,
        shutdown: &CancellationToken,
    ) -> Renewal {
        let deadline = since + self.config.renew_deadline;
        loop {
            let started = Instant::now();
            if started >= deadline {
                return Renewal::Lost;
            }
            match tokio::time::timeout_at(deadline, self.try_acquire_or_renew()).await {
                Ok(Ok(true)) => return Renewal::Renewed(started),
                // Someone else holds it now (we were too slow, or it was taken).
                Ok(Ok(false)) => return Renewal::Lost,
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "leader election: renewal failed; retrying")
                }
                Err(_elapsed) => return Renewal::Lost,
            }
            let retry = (Instant::now() + self.config.retry_period / 2).min(deadline);
            tokio::select! {
                () = shutdown.cancelled() => return Renewal::Shutdown,
                () = tokio::time::sleep_until(retry) => {}
            }
        }
    }

    /// One read and at most one write: `Ok(true)` when we hold the Lease afterwards.
    async fn try_acquire_or_renew(&mut self) -> Result<bool, LeaseError> {
        let api_err = |source| LeaseError::Api {
            name: self.config.lease_name.clone(),
            source,
        };
        let current = self
            .api
            .get_opt(&self.config.lease_name)
            .await
            .map_err(api_err)?;
        let now = Instant::now();
        let record = current.as_ref().map(Record::of);
        if let Some(record) = &record {
            let changed = self.observed.as_ref().is_none_or(|o| &o.record != record);
            if changed {
                self.observed = Some(Observed {
                    record: record.clone(),
                    at: now,
                });
            }
        }
        let unchanged_for = self
            .observed
            .as_ref()
            .map(|o| now.saturating_duration_since(o.at))
            .unwrap_or_default();
        let step = decide(
            &self.config.identity,
            record.as_ref(),
            unchanged_for,
            self.config.lease_duration,
        );
        let stamp = MicroTime(k8s_openapi::jiff::Timestamp::now());
        let result = match (step, current) {
            (Step::Wait, _) => return Ok(false),
            (Step::Create, _) => {
                let lease = Lease {
                    metadata: ObjectMeta {
                        name: Some(self.config.lease_name.clone()),
                        namespace: Some(self.config.namespace.clone()),
                        ..ObjectMeta::default()
                    },
                    spec: Some(self.spec(stamp.clone(), stamp, 0)),
                };
                self.api.create(&PostParams::default(), &lease).await
            }
            (Step::Renew | Step::Acquire, Some(mut lease)) => {
                let old = lease.spec.clone().unwrap_or_default();
                let spec = if step == Step::Renew {
                    let acquired = old.acquire_time.unwrap_or_else(|| stamp.clone());
                    self.spec(acquired, stamp, old.lease_transitions.unwrap_or(0))
                } else {
                    let transitions = old.lease_transitions.unwrap_or(0).saturating_add(1);
                    self.spec(stamp.clone(), stamp, transitions)
                };
                lease.spec = Some(spec);
                // The resourceVersion read above makes this a compare-and-swap.
                self.api
                    .replace(&self.config.lease_name, &PostParams::default(), &lease)
                    .await
            }
            (Step::Renew | Step::Acquire, None) => return Ok(false),
        };
        match result {
            Ok(written) => {
                self.observed = Some(Observed {
                    record: Record::of(&written),
                    at: Instant::now(),
                });
                Ok(true)
            }
            // Another candidate wrote first: not ours this round.
            Err(kube::Error::Api(status)) if status.code == 409 => Ok(false),
            Err(source) => Err(api_err(source)),
        }
    }

    fn spec(&self, acquired: MicroTime, renewed: MicroTime, transitions: i32) -> LeaseSpec {
        LeaseSpec {
            holder_identity: Some(self.config.identity.clone()),
            lease_duration_seconds: Some(
                i32::try_from(self.config.lease_duration.as_secs()).unwrap_or(i32::MAX),
            ),
            acquire_time: Some(acquired),
            renew_time: Some(renewed),
            lease_transitions: Some(transitions),
            ..LeaseSpec::default()
        }
    }

    /// Gives the Lease up (holder cleared, 1 s duration) so a standby need not wait
    /// for it to expire. Best effort: if it fails, the Lease simply expires.
    async fn release(&mut self) {
        let Ok(Some(mut lease)) = self.api.get_opt(&self.config.lease_name).await else {
            return;
        };
        let mut spec = lease.spec.clone().unwrap_or_default();
        if spec.holder_identity.as_deref() != Some(self.config.identity.as_str()) {
            return;
        }
        spec.holder_identity = None;
        spec.lease_duration_seconds = Some(1);
        spec.renew_time = Some(MicroTime(k8s_openapi::jiff::Timestamp::now()));
        lease.spec = Some(spec);
        match self
            .api
            .replace(&self.config.lease_name, &PostParams::default(), &lease)
            .await
        {
            Ok(_) => {
                tracing::info!(lease = %self.config.lease_name, "leader election: released the Lease")
            }
            Err(e) => {
                tracing::warn!(error = %e, "leader election: cannot release the Lease; it will expire")
            }
        }
    }
}

enum Renewal {
    Renewed(Instant),
    Lost,
    Shutdown,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn held_by(holder: &str, seconds: i32) -> Record {
        Record {
            holder: Some(holder.into()),
            duration_seconds: Some(seconds),
            renew_time: Some("2026-11-23T04:00:00Z".into()),
            transitions: 0,
        }
    }

    const S15: Duration = Duration::from_secs(15);

    #[test]
    fn no_lease_is_created() {
        assert_eq!(decide("a", None, Duration::ZERO, S15), Step::Create);
    }

    #[test]
    fn our_own_lease_is_renewed_even_if_it_looks_stale() {
        let r = held_by("a", 15);
        assert_eq!(
            decide("a", Some(&r), Duration::from_secs(60), S15),
            Step::Renew
        );
    }

    #[test]
    fn a_live_lease_of_another_is_respected() {
        let r = held_by("b", 15);
        assert_eq!(decide("a", Some(&r), Duration::ZERO, S15), Step::Wait);
        assert_eq!(
            decide("a", Some(&r), Duration::from_secs(14), S15),
            Step::Wait
        );
    }

    #[test]
    fn a_lease_unchanged_for_its_duration_is_taken_over() {
        let r = held_by("b", 15);
        assert_eq!(decide("a", Some(&r), S15, S15), Step::Acquire);
        // The record's own duration counts, not ours.
        let short = held_by("b", 3);
        assert_eq!(
            decide("a", Some(&short), Duration::from_secs(3), S15),
            Step::Acquire
        );
    }

    #[test]
    fn a_released_lease_is_taken_at_once() {
        let mut r = held_by("b", 1);
        r.holder = None;
        assert_eq!(decide("a", Some(&r), Duration::ZERO, S15), Step::Acquire);
    }

    #[test]
    fn without_a_recorded_duration_ours_applies() {
        let mut r = held_by("b", 15);
        r.duration_seconds = None;
        assert_eq!(
            decide("a", Some(&r), Duration::from_secs(14), S15),
            Step::Wait
        );
        assert_eq!(decide("a", Some(&r), S15, S15), Step::Acquire);
    }

    #[test]
    fn timing_constraints() {
        let s = Duration::from_secs;
        assert_eq!(check_timing(s(15), s(10), s(2)), Ok(()));
        assert!(matches!(
            check_timing(s(10), s(10), s(2)),
            Err(ElectionTimingError::DeadlineNotShorter { .. })
        ));
        assert!(matches!(
            check_timing(s(15), s(2), s(2)),
            Err(ElectionTimingError::RetryNotShorter { .. })
        ));
        assert_eq!(
            check_timing(Duration::from_millis(500), Duration::ZERO, Duration::ZERO),
            Err(ElectionTimingError::LeaseTooShort)
        );
        assert!(check_timing(s(15), s(10), Duration::ZERO).is_err());
    }

    #[test]
    fn identities_differ_between_processes_of_one_pod_name() {
        let a = identity("pod-0");
        assert!(a.starts_with("pod-0_"), "{a}");
    }

    #[test]
    fn lease_name_is_stable() {
        assert_eq!(DEFAULT_LEASE_NAME, "sealed-secrets-controller");
    }
}
