//! Prometheus metrics with upstream's names and labels (`pkg/controller/metrics.go`),
//! plus two of ours: RSA decryptions done, and how many SealedSecrets each key still
//! unseals, so an operator can see when an old key is safe to retire.

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use sealed_secrets_core::Fingerprint;

/// Prefix of every metric.
pub const PREFIX: &str = "sealed_secrets_controller";

/// Label values of `unseal_errors_total{reason}` (upstream's).
pub mod reason {
    /// Reading the SealedSecret failed.
    pub const FETCH: &str = "fetch";
    /// No key could decrypt, or a template failed.
    pub const UNSEAL: &str = "unseal";
    /// Writing the Secret failed.
    pub const UPDATE: &str = "update";
    /// The Secret exists and is not ours.
    pub const UNMANAGED: &str = "unmanaged";
    /// Writing the status failed.
    pub const STATUS: &str = "status";
}

/// `unseal_errors_total` labels.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ErrorLabels {
    /// One of [`reason`].
    pub reason: String,
    /// The SealedSecret's namespace.
    pub namespace: String,
}

/// `condition_info` labels.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ConditionLabels {
    /// The SealedSecret's namespace.
    pub namespace: String,
    /// The SealedSecret's name.
    pub name: String,
    /// The condition type (`Synced`).
    pub condition: String,
    /// The SealedSecret's `app.kubernetes.io/instance` label.
    pub ss_app_kubernetes_io_instance: String,
}

impl ConditionLabels {
    /// The `Synced` condition's series of one SealedSecret.
    fn synced(namespace: &str, name: &str, instance: &str) -> Self {
        ConditionLabels {
            namespace: namespace.to_owned(),
            name: name.to_owned(),
            condition: sealed_secrets::v1alpha1::CONDITION_SYNCED.to_owned(),
            ss_app_kubernetes_io_instance: instance.to_owned(),
        }
    }
}

/// `http_requests_total` labels.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HttpLabels {
    /// Route.
    pub path: String,
    /// Status code.
    pub code: String,
    /// Lower-case method, as promhttp writes it.
    pub method: String,
}

/// `http_request_duration_seconds` labels.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HttpDurationLabels {
    /// Route.
    pub path: String,
    /// Lower-case method.
    pub method: String,
}

/// `key_sealedsecrets` labels.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct KeyLabels {
    /// The key's OpenSSH SHA-256 fingerprint.
    pub fingerprint: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BuildLabels {
    revision: String,
}

/// Prometheus' default buckets, as promhttp uses.
const DEFAULT_BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

fn default_histogram() -> Histogram {
    Histogram::new(DEFAULT_BUCKETS)
}

/// Every metric the controller exports.
pub struct Metrics {
    registry: Registry,
    /// SealedSecrets processed.
    pub unseal_requests: Counter,
    /// Failures by reason and namespace.
    pub unseal_errors: Family<ErrorLabels, Counter>,
    /// -1 False, 0 Unknown, 1 True.
    pub condition_info: Family<ConditionLabels, Gauge>,
    /// HTTP API requests.
    pub http_requests: Family<HttpLabels, Counter>,
    /// HTTP API latency.
    pub http_duration: Family<HttpDurationLabels, Histogram, fn() -> Histogram>,
    /// RSA-OAEP private-key operations (ours).
    pub rsa_decryptions: Counter,
    /// 1 while this replica leads (always, without `--leader-elect`).
    pub leader: Gauge,
    key_sealedsecrets: Family<KeyLabels, Gauge>,
    keys_by_object: Mutex<HashMap<(String, String), BTreeSet<Fingerprint>>>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Metrics {
    /// Registers every metric; `revision` is the build's version.
    pub fn new(revision: &str) -> Self {
        let mut registry = Registry::with_prefix(PREFIX);
        let build_info = Family::<BuildLabels, Gauge>::default();
        // Upstream registers it and never sets it (always 0); 1 is the convention.
        build_info
            .get_or_create(&BuildLabels {
                revision: revision.to_owned(),
            })
            .set(1);
        registry.register("build_info", "Build information.", build_info);
        let mut m = Metrics {
            unseal_requests: Counter::default(),
            unseal_errors: Family::default(),
            condition_info: Family::default(),
            http_requests: Family::default(),
            http_duration: Family::new_with_constructor(default_histogram),
            rsa_decryptions: Counter::default(),
            leader: Gauge::default(),
            key_sealedsecrets: Family::default(),
            keys_by_object: Mutex::default(),
            registry,
        };
        let r = &mut m.registry;
        r.register(
            "unseal_requests",
            "Total number of sealed secret unseal requests",
            m.unseal_requests.clone(),
        );
        r.register(
            "unseal_errors",
            "Total number of sealed secret unseal errors by reason",
            m.unseal_errors.clone(),
        );
        r.register(
            "condition_info",
            "Current SealedSecrets condition status. Values are -1 (false), 0 (unknown or absent), 1 (true)",
            m.condition_info.clone(),
        );
        r.register(
            "http_requests",
            "Total number of HTTP requests by status code and method",
            m.http_requests.clone(),
        );
        r.register(
            "http_request_duration_seconds",
            "A histogram of latencies for requests",
            m.http_duration.clone(),
        );
        r.register(
            "rsa_decryptions",
            "RSA private-key operations spent unsealing (0 for SealedSecrets whose Secret already matches)",
            m.rsa_decryptions.clone(),
        );
        r.register(
            "leader",
            "1 while this replica holds the leader-election Lease and reconciles; 0 on a standby",
            m.leader.clone(),
        );
        r.register(
            "key_sealedsecrets",
            "SealedSecrets whose last unseal used this key; a key at 0 is not needed by any",
            m.key_sealedsecrets.clone(),
        );
        m
    }

    /// The OpenMetrics text exposition.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }

    /// Counts an error.
    pub fn error(&self, reason: &str, namespace: &str) {
        self.unseal_errors
            .get_or_create(&ErrorLabels {
                reason: reason.to_owned(),
                namespace: namespace.to_owned(),
            })
            .inc();
    }

    /// Makes sure every current key has a series (0 until something uses it).
    pub fn register_keys(&self, fingerprints: &[Fingerprint]) {
        for fp in fingerprints {
            let _ = self.key_sealedsecrets.get_or_create(&KeyLabels {
                fingerprint: fp.to_string(),
            });
        }
    }

    /// Records which keys the SealedSecret `namespace/name` was last unsealed with.
    pub fn record_keys_used(&self, namespace: &str, name: &str, keys: BTreeSet<Fingerprint>) {
        let mut by_object = self
            .keys_by_object
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let previous = by_object.insert((namespace.to_owned(), name.to_owned()), keys.clone());
        self.shift(previous.as_ref(), Some(&keys));
    }

    /// Forgets a deleted SealedSecret: its key usage and its condition series.
    pub fn forget(&self, namespace: &str, name: &str, instance: &str) {
        let mut by_object = self
            .keys_by_object
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let previous = by_object.remove(&(namespace.to_owned(), name.to_owned()));
        self.shift(previous.as_ref(), None);
        self.condition_info
            .remove(&ConditionLabels::synced(namespace, name, instance));
    }

    fn shift(&self, old: Option<&BTreeSet<Fingerprint>>, new: Option<&BTreeSet<Fingerprint>>) {
        let gauge = |fp: &Fingerprint| {
            self.key_sealedsecrets.get_or_create_owned(&KeyLabels {
                fingerprint: fp.to_string(),
            })
        };
        for fp in old.into_iter().flatten() {
            gauge(fp).dec();
        }
        for fp in new.into_iter().flatten() {
            gauge(fp).inc();
        }
    }

    /// Sets `condition_info` for a SealedSecret.
    pub fn set_condition(&self, namespace: &str, name: &str, instance: &str, synced: bool) {
        self.condition_info
            .get_or_create(&ConditionLabels::synced(namespace, name, instance))
            .set(if synced { 1 } else { -1 });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upstream_names_and_labels() {
        let m = Metrics::new("v1.2.3");
        m.unseal_requests.inc();
        m.error(reason::UNMANAGED, "app");
        m.set_condition("app", "db", "release", true);
        m.http_requests
            .get_or_create(&HttpLabels {
                path: "/v1/verify".into(),
                code: "200".into(),
                method: "post".into(),
            })
            .inc();
        m.http_duration
            .get_or_create(&HttpDurationLabels {
                path: "/v1/verify".into(),
                method: "post".into(),
            })
            .observe(0.01);
        let text = m.encode();
        for line in [
            "sealed_secrets_controller_build_info{revision=\"v1.2.3\"} 1",
            "sealed_secrets_controller_unseal_requests_total 1",
            "sealed_secrets_controller_unseal_errors_total{reason=\"unmanaged\",namespace=\"app\"} 1",
            "sealed_secrets_controller_condition_info{namespace=\"app\",name=\"db\",condition=\"Synced\",ss_app_kubernetes_io_instance=\"release\"} 1",
            "sealed_secrets_controller_http_requests_total{path=\"/v1/verify\",code=\"200\",method=\"post\"} 1",
            "sealed_secrets_controller_http_request_duration_seconds_count{path=\"/v1/verify\",method=\"post\"} 1",
            "sealed_secrets_controller_rsa_decryptions_total 0",
            "sealed_secrets_controller_leader 0",
        ] {
            assert!(text.contains(line), "missing {line:?} in\n{text}");
        }
        assert_eq!(
            [
                reason::FETCH,
                reason::UNSEAL,
                reason::UPDATE,
                reason::UNMANAGED,
                reason::STATUS
            ],
            ["fetch", "unseal", "update", "unmanaged", "status"]
        );
    }

    #[test]
    fn key_usage_follows_each_sealed_secret() {
        let m = Metrics::new("v");
        let (a, b) = (Fingerprint::new("SHA256:a"), Fingerprint::new("SHA256:b"));
        m.register_keys(&[a.clone(), b.clone()]);
        m.record_keys_used("ns", "one", BTreeSet::from([a.clone()]));
        m.record_keys_used("ns", "two", BTreeSet::from([a.clone()]));
        m.record_keys_used("ns", "one", BTreeSet::from([b.clone()]));
        let text = m.encode();
        assert!(
            text.contains("key_sealedsecrets{fingerprint=\"SHA256:a\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("key_sealedsecrets{fingerprint=\"SHA256:b\"} 1"),
            "{text}"
        );
        m.forget("ns", "two", "");
        assert!(
            m.encode()
                .contains("key_sealedsecrets{fingerprint=\"SHA256:a\"} 0")
        );
    }
}
