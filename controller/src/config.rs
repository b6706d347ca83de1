//! The controller's command line: upstream's flags with their names, defaults and
//! `SEALED_SECRETS_*` environment fallbacks (`cmd/controller/main.go`,
//! `pkg/flagenv`), parsed into a validated [`Config`].

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use clap::{ArgAction, Parser};
use sealed_secrets::go_duration;
use time::OffsetDateTime;
use time::format_description::FormatItem;
use time::macros::format_description;

/// sealed-secrets controller: unseals SealedSecrets into Secrets (Bitnami-compatible).
#[derive(Debug, Parser)]
#[command(name = "controller", disable_version_flag = true)]
pub struct Flags {
    /// Prefix used to name keys (generateName of key Secrets; also the legacy key name).
    #[arg(
        long,
        env = "SEALED_SECRETS_KEY_PREFIX",
        default_value = "sealed-secrets-key"
    )]
    pub key_prefix: String,
    /// Size of encryption key in bits.
    #[arg(long, env = "SEALED_SECRETS_KEY_SIZE", default_value_t = 4096)]
    pub key_size: usize,
    /// Duration that certificate is valid for.
    #[arg(long, env = "SEALED_SECRETS_KEY_TTL", default_value = "87600h0m0s")]
    pub key_ttl: String,
    /// Common name / address of the certificate (subject and issuer CN).
    #[arg(long, env = "SEALED_SECRETS_MY_CN", default_value = "")]
    pub my_cn: String,
    /// New key generation period (automatic rotation disabled if 0).
    #[arg(long, env = "SEALED_SECRETS_KEY_RENEW_PERIOD")]
    pub key_renew_period: Option<String>,
    /// Deprecated alias of --key-renew-period.
    #[arg(long, env = "SEALED_SECRETS_ROTATE_PERIOD", hide = true)]
    pub rotate_period: Option<String>,
    /// Which time orders keys: CertNotBefore or SecretCreationTimestamp.
    #[arg(
        long,
        env = "SEALED_SECRETS_KEY_ORDER_PRIORITY",
        default_value = "CertNotBefore"
    )]
    pub key_order_priority: String,
    /// Accept the deprecated whole-Secret `spec.data` format.
    #[arg(long, env = "SEALED_SECRETS_ACCEPT_DEPRECATED_V1_DATA", action = ArgAction::Set,
          num_args = 0..=1, default_value = "true", default_missing_value = "true",
          require_equals = true)]
    pub accept_deprecated_v1_data: bool,
    /// Create a new key if the latest one is older than this time (RFC1123Z, `date -R`).
    #[arg(long, env = "SEALED_SECRETS_KEY_CUTOFF_TIME", default_value = "")]
    pub key_cutoff_time: String,
    /// Scan all namespaces or only the current namespace.
    #[arg(long, env = "SEALED_SECRETS_ALL_NAMESPACES", action = ArgAction::Set,
          num_args = 0..=1, default_value = "true", default_missing_value = "true",
          require_equals = true)]
    pub all_namespaces: bool,
    /// Comma-separated namespaces to watch in addition to the controller's own.
    #[arg(long, env = "SEALED_SECRETS_ADDITIONAL_NAMESPACES", default_value = "")]
    pub additional_namespaces: String,
    /// Label selector restricting the watched SealedSecrets and Secrets.
    #[arg(long, env = "SEALED_SECRETS_LABEL_SELECTOR", default_value = "")]
    pub label_selector: String,
    /// Sustained requests per second allowed on /v1/verify per client.
    #[arg(long, env = "SEALED_SECRETS_RATE_LIMIT", default_value_t = 2)]
    pub rate_limit: u32,
    /// Burst of requests allowed on /v1/verify per client.
    #[arg(long, env = "SEALED_SECRETS_RATE_LIMIT_BURST", default_value_t = 2)]
    pub rate_limit_burst: u32,
    /// Annotations for new key Secrets: k=v,k2=v2.
    #[arg(
        long,
        env = "SEALED_SECRETS_PRIVATEKEY_ANNOTATIONS",
        default_value = ""
    )]
    pub privatekey_annotations: String,
    /// Labels for new key Secrets: k=v,k2=v2.
    #[arg(long, env = "SEALED_SECRETS_PRIVATEKEY_LABELS", default_value = "")]
    pub privatekey_labels: String,
    /// Delete the Secret when its SealedSecret is deleted (instead of ownerReference GC).
    #[arg(long, env = "SEALED_SECRETS_OLD_GC_BEHAVIOR", action = ArgAction::Set,
          num_args = 0..=1, default_value = "false", default_missing_value = "true",
          require_equals = true)]
    pub old_gc_behavior: bool,
    /// Write the Synced condition to SealedSecrets' status.
    #[arg(long, env = "SEALED_SECRETS_UPDATE_STATUS", action = ArgAction::Set,
          num_args = 0..=1, default_value = "true", default_missing_value = "true",
          require_equals = true)]
    pub update_status: bool,
    /// Accepted for compatibility: key Secrets are always watched here.
    #[arg(long, env = "SEALED_SECRETS_WATCH_FOR_SECRETS", action = ArgAction::Set,
          num_args = 0..=1, default_value = "false", default_missing_value = "true",
          require_equals = true)]
    pub watch_for_secrets: bool,
    /// Do not watch Secrets: deleted or edited Secrets are then not restored.
    #[arg(long, env = "SEALED_SECRETS_SKIP_RECREATE", action = ArgAction::Set,
          num_args = 0..=1, default_value = "false", default_missing_value = "true",
          require_equals = true)]
    pub skip_recreate: bool,
    /// Log INFO and lower to stdout, WARN and higher to stderr.
    #[arg(long, env = "SEALED_SECRETS_LOG_INFO_STDOUT", action = ArgAction::Set,
          num_args = 0..=1, default_value = "true", default_missing_value = "true",
          require_equals = true)]
    pub log_info_stdout: bool,
    /// Log level: DEBUG, INFO, WARN or ERROR.
    #[arg(long, env = "SEALED_SECRETS_LOG_LEVEL", default_value = "INFO")]
    pub log_level: String,
    /// Log format: text or json.
    #[arg(long, env = "SEALED_SECRETS_LOG_FORMAT", default_value = "text")]
    pub log_format: String,
    /// Retries of a failing SealedSecret before giving up until it changes.
    #[arg(long, env = "SEALED_SECRETS_MAX_UNSEAL_RETRIES", default_value_t = 5)]
    pub max_unseal_retries: u32,
    /// Kubernetes client requests per second (negative: no limit; 0: the default).
    #[arg(
        long,
        env = "SEALED_SECRETS_KUBECLIENT_QPS",
        default_value_t = DEFAULT_KUBECLIENT_QPS,
        allow_negative_numbers = true
    )]
    pub kubeclient_qps: f32,
    /// Kubernetes client burst (0: the default).
    #[arg(long, env = "SEALED_SECRETS_KUBECLIENT_BURST", default_value_t = DEFAULT_KUBECLIENT_BURST)]
    pub kubeclient_burst: u32,
    /// HTTP API address (/healthz, /v1/cert.pem, /v1/verify, /v1/rotate).
    #[arg(long, env = "SEALED_SECRETS_LISTEN_ADDR", default_value = ":8080")]
    pub listen_addr: String,
    /// Metrics address (/metrics).
    #[arg(
        long,
        env = "SEALED_SECRETS_LISTEN_METRICS_ADDR",
        default_value = ":8081"
    )]
    pub listen_metrics_addr: String,
    /// HTTP read timeout.
    #[arg(long, env = "SEALED_SECRETS_READ_TIMEOUT", default_value = "2m0s")]
    pub read_timeout: String,
    /// HTTP write timeout.
    #[arg(long, env = "SEALED_SECRETS_WRITE_TIMEOUT", default_value = "2m0s")]
    pub write_timeout: String,
    /// Run several replicas: only the holder of a coordination.k8s.io Lease reconciles
    /// and makes keys; every replica serves the HTTP API.
    #[arg(long, env = "SEALED_SECRETS_LEADER_ELECT", action = ArgAction::Set,
          num_args = 0..=1, default_value = "false", default_missing_value = "true",
          require_equals = true)]
    pub leader_elect: bool,
    /// Name of the leader-election Lease in the controller's namespace.
    #[arg(
        long,
        env = "SEALED_SECRETS_LEADER_ELECT_LEASE_NAME",
        default_value = crate::leader::DEFAULT_LEASE_NAME
    )]
    pub leader_elect_lease_name: String,
    /// How long a leader's Lease is valid without renewal (a standby waits this long).
    #[arg(
        long,
        env = "SEALED_SECRETS_LEADER_ELECT_LEASE_DURATION",
        default_value = "15s"
    )]
    pub leader_elect_lease_duration: String,
    /// How long the leader keeps leading while it cannot renew.
    #[arg(
        long,
        env = "SEALED_SECRETS_LEADER_ELECT_RENEW_DEADLINE",
        default_value = "10s"
    )]
    pub leader_elect_renew_deadline: String,
    /// How often candidates try for the Lease and the leader renews it.
    #[arg(
        long,
        env = "SEALED_SECRETS_LEADER_ELECT_RETRY_PERIOD",
        default_value = "2s"
    )]
    pub leader_elect_retry_period: String,
    /// Kubeconfig for running outside the cluster (default: KUBECONFIG, then in-cluster).
    #[arg(long, env = "SEALED_SECRETS_KUBECONFIG")]
    pub kubeconfig: Option<std::path::PathBuf>,
    /// Print the version and exit.
    #[arg(long, action = ArgAction::SetTrue)]
    pub version: bool,
}

/// Default `--kubeclient-qps`. Upstream's is 5, at which a cold start of 10,000
/// SealedSecrets (three requests each) takes 100 minutes (docs/compatibility.md).
pub const DEFAULT_KUBECLIENT_QPS: f32 = 50.0;
/// Default `--kubeclient-burst` (upstream: 10).
pub const DEFAULT_KUBECLIENT_BURST: u32 = 100;

/// Upstream's default key renewal period.
pub const DEFAULT_KEY_RENEW_PERIOD: Duration = Duration::from_secs(720 * 3600);

/// RFC1123Z, Go's `Mon, 02 Jan 2006 15:04:05 -0700` (what `date -R` prints).
const RFC1123Z: &[FormatItem<'static>] = format_description!(
    "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] [offset_hour sign:mandatory][offset_minute]"
);

/// Which timestamp orders keys (upstream `--key-order-priority`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyOrder {
    /// The certificate's NotBefore (upstream default).
    CertNotBefore,
    /// The key Secret's creationTimestamp.
    SecretCreationTimestamp,
}

/// Where the HTTP servers listen and how long a request may take.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// API listener.
    pub listen: SocketAddr,
    /// Metrics listener.
    pub metrics: SocketAddr,
    /// Read timeout (whole request).
    pub read_timeout: Duration,
    /// Write timeout (whole response).
    pub write_timeout: Duration,
    /// `/v1/verify` requests per second per client.
    pub rate_limit: u32,
    /// `/v1/verify` burst per client.
    pub rate_limit_burst: u32,
}

/// Key generation and renewal.
#[derive(Debug, Clone)]
pub struct KeyConfig {
    /// generateName of new key Secrets and the legacy key name.
    pub prefix: String,
    /// RSA modulus bits.
    pub size: usize,
    /// Certificate validity.
    pub ttl: Duration,
    /// Certificate CN.
    pub common_name: String,
    /// Renewal period; `None` turns automatic renewal off.
    pub renew_period: Option<Duration>,
    /// Force a new key if the newest is older than this.
    pub cutoff: Option<OffsetDateTime>,
    /// Ordering of keys.
    pub order: KeyOrder,
    /// Labels put on new key Secrets (besides the active label).
    pub labels: BTreeMap<String, String>,
    /// Annotations put on new key Secrets.
    pub annotations: BTreeMap<String, String>,
}

/// Which namespaces are watched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Namespaces {
    /// Every namespace.
    All,
    /// These namespaces (the controller's own first).
    Only(Vec<String>),
}

/// The validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The controller's own namespace: where the keys live.
    pub namespace: String,
    /// Keys.
    pub keys: KeyConfig,
    /// Watched namespaces.
    pub namespaces: Namespaces,
    /// Label selector for SealedSecrets and Secrets ("" = none).
    pub label_selector: Option<String>,
    /// Accept `spec.data`.
    pub accept_deprecated_v1_data: bool,
    /// Delete Secrets of deleted SealedSecrets ourselves.
    pub old_gc_behavior: bool,
    /// Write `.status`.
    pub update_status: bool,
    /// Watch Secrets to restore deleted or edited ones.
    pub watch_secrets: bool,
    /// Retries before giving up.
    pub max_unseal_retries: u32,
    /// Client QPS (`None` = unlimited) and burst.
    pub client_qps: Option<f32>,
    /// Client burst.
    pub client_burst: u32,
    /// HTTP servers.
    pub http: HttpConfig,
    /// Kubeconfig path, if given.
    pub kubeconfig: Option<std::path::PathBuf>,
    /// Leader election (`--leader-elect`), or `None`: this replica always leads.
    pub leader_election: Option<LeaderElection>,
}

/// The leader-election Lease and its timing.
#[derive(Debug, Clone)]
pub struct LeaderElection {
    /// Lease name.
    pub lease_name: String,
    /// Lease duration.
    pub lease_duration: Duration,
    /// Renew deadline.
    pub renew_deadline: Duration,
    /// Retry period.
    pub retry_period: Duration,
}

/// Why the flags do not make a configuration.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A duration flag that is not a Go duration.
    #[error("--{flag}: {source}")]
    Duration {
        /// The flag.
        flag: &'static str,
        /// What was wrong.
        source: go_duration::GoDurationError,
    },
    /// `--key-prefix` with characters Kubernetes names do not allow.
    #[error("--key-prefix: {0}")]
    KeyPrefix(String),
    /// `--key-cutoff-time` not in RFC1123Z.
    #[error(
        "--key-cutoff-time {0:?}: expected RFC1123Z such as \"Mon, 02 Jan 2006 15:04:05 -0700\" (the output of `date -R`)"
    )]
    CutoffTime(String),
    /// `--key-order-priority` unknown.
    #[error("--key-order-priority {0:?}: expected CertNotBefore or SecretCreationTimestamp")]
    KeyOrder(String),
    /// `--key-size` too small or too large.
    #[error("--key-size {0}: expected 2048 to 16384 bits")]
    KeySize(usize),
    /// A `k=v,…` list item without `=`.
    #[error("--{flag}: item {item:?} is not key=value")]
    KeyValue {
        /// The flag.
        flag: &'static str,
        /// The item.
        item: String,
    },
    /// A listen address that is not `host:port` or `:port`.
    #[error("--{flag} {value:?}: expected host:port or :port")]
    ListenAddr {
        /// The flag.
        flag: &'static str,
        /// The value.
        value: String,
    },
    /// `--log-format` unknown (a warning: upstream then logs text).
    #[error("--log-format {0:?} is not text or json; logging text")]
    LogFormat(String),
    /// Leader-election timings that do not fit together.
    #[error(transparent)]
    LeaderElection(#[from] crate::leader::ElectionTimingError),
    /// `--leader-elect-lease-name` not a Kubernetes object name.
    #[error(
        "--leader-elect-lease-name {0:?}: expected a DNS subdomain name such as sealed-secrets-controller"
    )]
    LeaseName(String),
    /// `--log-level` unknown (a warning: upstream then logs at INFO).
    #[error("--log-level {0:?} is not DEBUG, INFO, WARN or ERROR; logging at INFO")]
    LogLevel(String),
}

impl Flags {
    /// Validates the flags; `own_namespace` is where the controller runs.
    pub fn into_config(self, own_namespace: String) -> Result<Config, ConfigError> {
        let duration = |flag: &'static str, text: &str| {
            go_duration::parse(text).map_err(|source| ConfigError::Duration { flag, source })
        };
        validate_key_prefix(&self.key_prefix)?;
        if !(2048..=16384).contains(&self.key_size) {
            return Err(ConfigError::KeySize(self.key_size));
        }
        let renew = match (&self.key_renew_period, &self.rotate_period) {
            (Some(p), _) => duration("key-renew-period", p)?,
            (None, Some(p)) => duration("rotate-period", p)?,
            (None, None) => DEFAULT_KEY_RENEW_PERIOD,
        };
        let cutoff = match self.key_cutoff_time.trim() {
            "" => None,
            text => Some(
                OffsetDateTime::parse(text, RFC1123Z)
                    .map_err(|_| ConfigError::CutoffTime(text.to_owned()))?,
            ),
        };
        let order = match self.key_order_priority.as_str() {
            "CertNotBefore" => KeyOrder::CertNotBefore,
            "SecretCreationTimestamp" => KeyOrder::SecretCreationTimestamp,
            other => return Err(ConfigError::KeyOrder(other.to_owned())),
        };
        let additional = split_list(&self.additional_namespaces);
        let namespaces = if self.all_namespaces && additional.is_empty() {
            Namespaces::All
        } else {
            let mut list = vec![own_namespace.clone()];
            for ns in additional {
                if !list.contains(&ns) {
                    list.push(ns);
                }
            }
            Namespaces::Only(list)
        };
        let leader_election = if self.leader_elect {
            let election = LeaderElection {
                lease_name: self.leader_elect_lease_name.trim().to_owned(),
                lease_duration: duration(
                    "leader-elect-lease-duration",
                    &self.leader_elect_lease_duration,
                )?,
                renew_deadline: duration(
                    "leader-elect-renew-deadline",
                    &self.leader_elect_renew_deadline,
                )?,
                retry_period: duration(
                    "leader-elect-retry-period",
                    &self.leader_elect_retry_period,
                )?,
            };
            if !sealed_secrets::names::is_dns1123_subdomain(&election.lease_name) {
                return Err(ConfigError::LeaseName(election.lease_name));
            }
            crate::leader::check_timing(
                election.lease_duration,
                election.renew_deadline,
                election.retry_period,
            )?;
            Some(election)
        } else {
            None
        };
        Ok(Config {
            namespace: own_namespace,
            keys: KeyConfig {
                prefix: self.key_prefix,
                size: self.key_size,
                ttl: duration("key-ttl", &self.key_ttl)?,
                common_name: self.my_cn,
                renew_period: (!renew.is_zero()).then_some(renew),
                cutoff,
                order,
                labels: key_values("privatekey-labels", &self.privatekey_labels)?,
                annotations: key_values("privatekey-annotations", &self.privatekey_annotations)?,
            },
            namespaces,
            label_selector: Some(self.label_selector).filter(|s| !s.trim().is_empty()),
            accept_deprecated_v1_data: self.accept_deprecated_v1_data,
            old_gc_behavior: self.old_gc_behavior,
            update_status: self.update_status,
            watch_secrets: !self.skip_recreate,
            max_unseal_retries: self.max_unseal_retries,
            // client-go: negative turns the limiter off, 0 means the default.
            client_qps: match self.kubeclient_qps {
                q if q < 0.0 => None,
                0.0 => Some(DEFAULT_KUBECLIENT_QPS),
                q => Some(q),
            },
            client_burst: match self.kubeclient_burst {
                0 => DEFAULT_KUBECLIENT_BURST,
                b => b,
            },
            http: HttpConfig {
                listen: listen_addr("listen-addr", &self.listen_addr)?,
                metrics: listen_addr("listen-metrics-addr", &self.listen_metrics_addr)?,
                read_timeout: duration("read-timeout", &self.read_timeout)?,
                write_timeout: duration("write-timeout", &self.write_timeout)?,
                rate_limit: self.rate_limit,
                rate_limit_burst: self.rate_limit_burst.max(1),
            },
            kubeconfig: self.kubeconfig,
            leader_election,
        })
    }
}

/// The tracing level for a `--log-level` name, read as slog's `Level.UnmarshalText`
/// does: DEBUG, INFO, WARN or ERROR in any case, optionally with an offset
/// (`INFO+2`, `ERROR-1`; between two of tracing's levels, the less verbose one; below
/// DEBUG, TRACE). Upstream ignores
/// a name it cannot read and logs at INFO; the caller does that too, with a warning.
pub fn log_level(name: &str) -> Result<tracing::Level, ConfigError> {
    let refused = || ConfigError::LogLevel(name.to_owned());
    let upper = name.trim().to_ascii_uppercase();
    let (base, offset) = match upper.find(['+', '-']) {
        Some(i) => {
            let offset: i32 = upper[i..].parse().map_err(|_| refused())?;
            (&upper[..i], offset)
        }
        None => (upper.as_str(), 0),
    };
    let base = match base {
        "DEBUG" => -4,
        "INFO" => 0,
        "WARN" => 4,
        "ERROR" => 8,
        _ => return Err(refused()),
    };
    // slog: records at this level and above are logged.
    Ok(match base + offset {
        i32::MIN..=-5 => tracing::Level::TRACE,
        -4 => tracing::Level::DEBUG,
        -3..=0 => tracing::Level::INFO,
        1..=4 => tracing::Level::WARN,
        _ => tracing::Level::ERROR,
    })
}

/// Upstream `validateKeyPrefix`: at most 245 characters of `[a-z0-9-]`.
fn validate_key_prefix(prefix: &str) -> Result<(), ConfigError> {
    if prefix.len() > 245 {
        return Err(ConfigError::KeyPrefix(format!(
            "name is too long, must be shorter than 245, got {}",
            prefix.len()
        )));
    }
    if let Some(c) = prefix
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        return Err(ConfigError::KeyPrefix(format!(
            "name contains illegal character {c}"
        )));
    }
    if prefix.is_empty() {
        return Err(ConfigError::KeyPrefix("name is empty".into()));
    }
    Ok(())
}

fn split_list(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        if !out.iter().any(|o| o == item) {
            out.push(item.to_owned());
        }
    }
    out
}

/// `k=v,k2=v2`. Unlike upstream (which crashes on an item without `=` and cuts a
/// value at a second `=`), an item without `=` is an error and values keep their `=`.
fn key_values(flag: &'static str, text: &str) -> Result<BTreeMap<String, String>, ConfigError> {
    let mut out = BTreeMap::new();
    for item in split_list(text) {
        let (k, v) = item.split_once('=').ok_or_else(|| ConfigError::KeyValue {
            flag,
            item: item.clone(),
        })?;
        if k.trim().is_empty() {
            return Err(ConfigError::KeyValue { flag, item });
        }
        out.insert(k.trim().to_owned(), v.trim().to_owned());
    }
    Ok(out)
}

/// Go listen addresses: `:8080` (all interfaces), `host:port`, `[::1]:8080`.
fn listen_addr(flag: &'static str, value: &str) -> Result<SocketAddr, ConfigError> {
    let err = || ConfigError::ListenAddr {
        flag,
        value: value.to_owned(),
    };
    let text = if value.starts_with(':') {
        format!("0.0.0.0{value}")
    } else if let Some(port) = value.strip_prefix("localhost:") {
        format!("127.0.0.1:{port}")
    } else {
        value.to_owned()
    };
    text.parse().map_err(|_| err())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn parse(args: &[&str]) -> Config {
        let mut argv = vec!["controller"];
        argv.extend_from_slice(args);
        Flags::try_parse_from(argv)
            .expect("flags parse")
            .into_config("kube-system".into())
            .expect("valid config")
    }

    fn refuse(args: &[&str]) -> String {
        let mut argv = vec!["controller"];
        argv.extend_from_slice(args);
        match Flags::try_parse_from(argv) {
            Err(e) => e.to_string(),
            Ok(flags) => flags
                .into_config("kube-system".into())
                .expect_err("should be refused")
                .to_string(),
        }
    }

    #[test]
    fn upstream_defaults() {
        let c = parse(&[]);
        assert_eq!(c.keys.prefix, "sealed-secrets-key");
        assert_eq!(c.keys.size, 4096);
        assert_eq!(c.keys.ttl, Duration::from_secs(87_600 * 3600));
        assert_eq!(c.keys.renew_period, Some(DEFAULT_KEY_RENEW_PERIOD));
        assert_eq!(c.keys.order, KeyOrder::CertNotBefore);
        assert_eq!(c.namespaces, Namespaces::All);
        assert!(c.update_status && c.watch_secrets && c.accept_deprecated_v1_data);
        assert!(!c.old_gc_behavior);
        assert_eq!(c.max_unseal_retries, 5);
        assert_eq!(c.http.listen, "0.0.0.0:8080".parse().unwrap());
        assert_eq!(c.http.metrics, "0.0.0.0:8081".parse().unwrap());
        assert_eq!((c.http.rate_limit, c.http.rate_limit_burst), (2, 2));
        assert_eq!(c.http.read_timeout, Duration::from_secs(120));
    }

    #[test]
    fn go_boolean_spellings() {
        assert!(!parse(&["--update-status=false"]).update_status);
        assert!(parse(&["--update-status"]).update_status);
        assert!(parse(&["--old-gc-behavior"]).old_gc_behavior);
        assert!(!parse(&["--skip-recreate=true"]).watch_secrets);
    }

    #[test]
    fn renewal_zero_turns_it_off_and_the_alias_works() {
        assert_eq!(parse(&["--key-renew-period=0"]).keys.renew_period, None);
        assert_eq!(
            parse(&["--rotate-period", "1h"]).keys.renew_period,
            Some(Duration::from_secs(3600))
        );
        assert_eq!(
            parse(&["--key-renew-period=5s", "--rotate-period=1h"])
                .keys
                .renew_period,
            Some(Duration::from_secs(5)),
            "the current name wins over the deprecated one"
        );
    }

    #[test]
    fn namespaces() {
        assert_eq!(
            parse(&["--all-namespaces=false"]).namespaces,
            Namespaces::Only(vec!["kube-system".into()])
        );
        assert_eq!(
            parse(&["--additional-namespaces=a, b,a,kube-system"]).namespaces,
            Namespaces::Only(vec!["kube-system".into(), "a".into(), "b".into()])
        );
    }

    #[test]
    fn cutoff_time_is_rfc1123z() {
        let c = parse(&["--key-cutoff-time", "Mon, 02 Jan 2006 15:04:05 -0700"]);
        assert_eq!(
            c.keys.cutoff.map(|t| t.unix_timestamp()),
            Some(1_136_239_445)
        );
        assert!(refuse(&["--key-cutoff-time", "2006-01-02"]).contains("date -R"));
    }

    #[test]
    fn key_value_lists() {
        let c = parse(&[
            "--privatekey-labels",
            "a=1,b=x=y",
            "--privatekey-annotations=",
        ]);
        assert_eq!(c.keys.labels.get("b").map(String::as_str), Some("x=y"));
        assert!(c.keys.annotations.is_empty());
        assert!(refuse(&["--privatekey-labels", "novalue"]).contains("not key=value"));
    }

    #[test]
    fn refusals_say_what_to_do() {
        assert!(refuse(&["--key-prefix", "Bad_Name"]).contains("illegal character B"));
        assert!(refuse(&["--key-renew-period", "30d"]).contains("Go duration"));
        assert!(refuse(&["--key-order-priority", "x"]).contains("CertNotBefore"));
        assert!(refuse(&["--listen-addr", "8080"]).contains("host:port"));
        assert!(refuse(&["--key-size", "1024"]).contains("2048"));
        assert!(refuse(&["--no-such-flag"]).contains("--no-such-flag"));
    }

    #[test]
    fn client_rate_limit_defaults_read_as_client_go_reads_them() {
        let c = parse(&[]);
        assert_eq!((c.client_qps, c.client_burst), (Some(50.0), 100));
        let c = parse(&["--kubeclient-qps=0", "--kubeclient-burst=0"]);
        assert_eq!(
            (c.client_qps, c.client_burst),
            (Some(50.0), 100),
            "0: the default"
        );
        let c = parse(&["--kubeclient-qps=-1"]);
        assert_eq!(c.client_qps, None, "negative: off");
        let c = parse(&["--kubeclient-qps=7.5", "--kubeclient-burst=3"]);
        assert_eq!((c.client_qps, c.client_burst), (Some(7.5), 3));
    }

    #[test]
    fn log_settings_upstream_tolerates_start_the_controller() {
        // Upstream ignores what slog cannot read; so does the configuration (main
        // warns and logs at INFO, in text).
        parse(&["--log-level", "LOUD", "--log-format", "xml"]);
        assert!(
            log_level("LOUD")
                .unwrap_err()
                .to_string()
                .contains("logging at INFO")
        );
    }

    #[test]
    fn log_levels_are_read_as_slog_reads_them() {
        use tracing::Level;
        for (name, level) in [
            ("DEBUG", Level::DEBUG),
            ("info", Level::INFO),
            ("Warn", Level::WARN),
            ("ERROR", Level::ERROR),
            ("INFO+2", Level::WARN),
            ("ERROR-4", Level::WARN),
            ("DEBUG-1", Level::TRACE),
            ("DEBUG+4", Level::INFO),
        ] {
            assert_eq!(log_level(name).ok(), Some(level), "{name}");
        }
        for bad in ["", "LOUD", "INFO+", "INFO+x", "WARNING"] {
            assert!(log_level(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn leader_election_is_off_by_default_and_checked_when_on() {
        assert!(parse(&[]).leader_election.is_none());
        let on = parse(&["--leader-elect"]).leader_election.expect("on");
        assert_eq!(on.lease_name, "sealed-secrets-controller");
        assert_eq!(
            (on.lease_duration, on.renew_deadline, on.retry_period),
            (
                Duration::from_secs(15),
                Duration::from_secs(10),
                Duration::from_secs(2)
            )
        );
        assert!(
            refuse(&["--leader-elect", "--leader-elect-renew-deadline=20s"])
                .contains("must be longer than --leader-elect-renew-deadline")
        );
        assert!(refuse(&["--leader-elect", "--leader-elect-lease-name=Bad_Name"]).contains("DNS"));
        assert!(
            refuse(&["--leader-elect=true", "--leader-elect-retry-period=2d"])
                .contains("Go duration")
        );
        // Off: the timing flags are not looked at.
        assert!(
            parse(&["--leader-elect-renew-deadline=20s"])
                .leader_election
                .is_none()
        );
    }

    #[test]
    fn listen_addresses() {
        assert_eq!(
            listen_addr("x", "127.0.0.5:9000").unwrap(),
            "127.0.0.5:9000".parse().unwrap()
        );
        assert_eq!(
            listen_addr("x", "localhost:1").unwrap(),
            "127.0.0.1:1".parse().unwrap()
        );
        assert_eq!(
            listen_addr("x", "[::1]:80").unwrap(),
            "[::1]:80".parse().unwrap()
        );
    }

    #[test]
    fn every_flag_has_its_sealed_secrets_env_var() {
        for arg in Flags::command().get_arguments() {
            let Some(long) = arg.get_long() else { continue };
            if long == "version" || long == "help" {
                continue;
            }
            let expected = format!("SEALED_SECRETS_{}", long.to_uppercase().replace('-', "_"));
            assert_eq!(
                arg.get_env().and_then(|e| e.to_str()),
                Some(expected.as_str()),
                "--{long}"
            );
        }
    }

    #[test]
    fn upstream_flag_names_are_all_there() {
        let names: Vec<String> = Flags::command()
            .get_arguments()
            .filter_map(|a| a.get_long().map(str::to_owned))
            .collect();
        for upstream in [
            "key-prefix",
            "key-size",
            "key-ttl",
            "my-cn",
            "key-renew-period",
            "rotate-period",
            "key-order-priority",
            "accept-deprecated-v1-data",
            "key-cutoff-time",
            "all-namespaces",
            "additional-namespaces",
            "label-selector",
            "rate-limit",
            "rate-limit-burst",
            "privatekey-annotations",
            "privatekey-labels",
            "old-gc-behavior",
            "update-status",
            "watch-for-secrets",
            "skip-recreate",
            "log-info-stdout",
            "log-level",
            "log-format",
            "max-unseal-retries",
            "kubeclient-qps",
            "kubeclient-burst",
            "listen-addr",
            "listen-metrics-addr",
            "read-timeout",
            "write-timeout",
            "version",
        ] {
            assert!(names.iter().any(|n| n == upstream), "--{upstream}");
        }
    }
}
