//! The upstream Go binaries (Bitnami's `kubeseal` and `controller`, built by
//! `scripts/peers.sh`) as test peers.
//!
//! The Go controller has no `--kubeconfig`: it reads only the in-cluster configuration
//! (`rest.InClusterConfig`): `KUBERNETES_SERVICE_HOST`/`_PORT` and the files `token` and
//! `ca.crt` under `/var/run/secrets/kubernetes.io/serviceaccount`. It is started inside
//! a private mount namespace (`unshare --mount`) where a tmpfs covers `/run` and the
//! test's own service-account directory is bind-mounted at that path; the machine's
//! real `/run` is never touched.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::{Controller, free_port, loopback, skip_or_fail};

/// Environment variable naming the upstream `kubeseal` binary.
pub const GO_KUBESEAL_ENV: &str = "SEALED_SECRETS_GO_KUBESEAL";
/// Environment variable naming the upstream `controller` binary.
pub const GO_CONTROLLER_ENV: &str = "SEALED_SECRETS_GO_CONTROLLER";
/// Environment variable naming `template-oracle` (tests/peers/template): Go's
/// `text/template` with Sprig as upstream's controller renders `spec.template.data`.
pub const TEMPLATE_ORACLE_ENV: &str = "SEALED_SECRETS_TEMPLATE_ORACLE";
/// Where client-go's `InClusterConfig` reads the service-account files.
const SERVICE_ACCOUNT_DIR: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

/// The upstream binary named by `env_var`, or `None` after [`skip_or_fail`].
pub fn go_binary(env_var: &str) -> Option<PathBuf> {
    match std::env::var_os(env_var).filter(|v| !v.is_empty()) {
        Some(p) => {
            let path = PathBuf::from(p);
            assert!(
                path.is_file(),
                "{env_var}={} is not a file (run scripts/peers.sh)",
                path.display()
            );
            Some(path)
        }
        None => {
            skip_or_fail(&format!(
                "{env_var} is not set (eval \"$(scripts/peers.sh)\" builds the Go peers)"
            ));
            None
        }
    }
}

/// The `template-oracle` binary, or `None` (see [`go_binary`]).
pub fn template_oracle() -> Option<PathBuf> {
    go_binary(TEMPLATE_ORACLE_ENV)
}

/// Both upstream binaries, or `None` (see [`go_binary`]).
pub fn go_peers() -> Option<GoPeers> {
    let kubeseal = go_binary(GO_KUBESEAL_ENV)?;
    let controller = go_binary(GO_CONTROLLER_ENV)?;
    Some(GoPeers {
        kubeseal,
        controller,
    })
}

/// The upstream `kubeseal` and `controller`.
#[derive(Clone, Debug)]
pub struct GoPeers {
    /// Upstream `kubeseal`.
    pub kubeseal: PathBuf,
    /// Upstream `controller`.
    pub controller: PathBuf,
}

/// Runs a program the tests compare (shared with [`crate::kubeseal::run`]).
pub use crate::kubeseal::run_program;

/// What the in-cluster configuration is made of, taken from an admin kubeconfig.
struct InCluster {
    host: String,
    port: String,
    token: String,
    ca_pem: Vec<u8>,
}

fn in_cluster_from(kubeconfig: &Path) -> InCluster {
    let text = std::fs::read_to_string(kubeconfig)
        .unwrap_or_else(|e| panic!("reading {}: {e}", kubeconfig.display()));
    let kc: serde_json::Value = serde_yaml_ng::from_str(&text)
        .unwrap_or_else(|e| panic!("parsing {}: {e}", kubeconfig.display()));
    let context_name = kc["current-context"].as_str().unwrap_or_default();
    let context = named(&kc["contexts"], context_name)["context"].clone();
    let cluster = &named(
        &kc["clusters"],
        context["cluster"].as_str().unwrap_or_default(),
    )["cluster"];
    let user = &named(&kc["users"], context["user"].as_str().unwrap_or_default())["user"];
    let server = cluster["server"]
        .as_str()
        .expect("the cluster has a server");
    let authority = server
        .strip_prefix("https://")
        .unwrap_or_else(|| panic!("in-cluster config needs an https server, not {server}"));
    let authority = authority.trim_end_matches('/');
    let (host, port) = authority
        .rsplit_once(':')
        .unwrap_or_else(|| panic!("the server {server} names no port"));
    let token = user["token"]
        .as_str()
        .expect("the Go controller authenticates with the kubeconfig's bearer token")
        .to_owned();
    let ca_pem = STANDARD
        .decode(
            cluster["certificate-authority-data"]
                .as_str()
                .expect("the kubeconfig embeds its CA"),
        )
        .expect("certificate-authority-data is base64");
    InCluster {
        host: host.to_owned(),
        port: port.to_owned(),
        token,
        ca_pem,
    }
}

fn named<'a>(list: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    list.as_array()
        .and_then(|items| items.iter().find(|i| i["name"] == name))
        .unwrap_or_else(|| panic!("the kubeconfig has no entry named {name:?}"))
}

/// The shell that mounts the service-account files in a private mount namespace and
/// then becomes the controller (`$1` the files' directory, `$2…` the command).
const IN_CLUSTER_SHELL: &str = r#"set -e
sa=$1; shift
mount -t tmpfs -o mode=0755 sealed-secrets-e2e /run
mkdir -p /run/secrets/kubernetes.io/serviceaccount
mount --bind "$sa" /run/secrets/kubernetes.io/serviceaccount
exec "$@""#;

/// Starts the upstream controller binary `bin` for `namespace` (its key namespace and,
/// with `--all-namespaces=false` among `args`, the namespace it watches) on
/// `127.0.0.host`, with in-cluster configuration for the API server of `kubeconfig`.
/// `sa_dir` is created to hold the service-account files.
pub fn spawn_go_controller(
    bin: &Path,
    kubeconfig: &Path,
    namespace: &str,
    host: u8,
    args: &[&str],
    sa_dir: &Path,
    log: PathBuf,
) -> Controller {
    let ic = in_cluster_from(kubeconfig);
    std::fs::create_dir_all(sa_dir)
        .unwrap_or_else(|e| panic!("creating {}: {e}", sa_dir.display()));
    for (name, bytes) in [
        ("token", ic.token.as_bytes()),
        ("ca.crt", ic.ca_pem.as_slice()),
        ("namespace", namespace.as_bytes()),
    ] {
        let path = sa_dir.join(name);
        std::fs::write(&path, bytes).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
    }
    let ip = loopback(host);
    let addr = SocketAddr::from((ip, free_port(host)));
    let metrics_addr = SocketAddr::from((ip, free_port(host)));
    let mut cmd = Command::new("unshare");
    cmd.args(["--mount", "--propagation", "private", "--", "sh", "-c"])
        .arg(IN_CLUSTER_SHELL)
        .arg("sh")
        .arg(sa_dir)
        .arg(bin)
        .arg(format!("--listen-addr={addr}"))
        .arg(format!("--listen-metrics-addr={metrics_addr}"))
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("KUBERNETES_SERVICE_HOST", &ic.host)
        .env("KUBERNETES_SERVICE_PORT", &ic.port);
    debug_assert!(SERVICE_ACCOUNT_DIR.starts_with("/var/run/"));
    Controller::from_command(cmd, addr, metrics_addr, log)
}
