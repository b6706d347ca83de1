//! Support for the tests that run the controller and kubeseal against a real Kubernetes
//! API server.
//!
//! Every test starts with [`TestEnv::start`], which returns `None` (and prints why) when
//! `SEALED_SECRETS_TEST_KUBECONFIG` is not set, so the suite compiles and passes on a
//! machine without an API server; under `CI=true` it fails instead ([`skip_or_fail`]).
//! Otherwise the test gets its own namespace, its own
//! temporary directory, and starts its own controller process(es) watching only that
//! namespace. [`TestEnv::finish`] stops the controllers (SIGTERM must exit 0), scans
//! their logs for every plaintext the test used, and deletes the namespace.
//!
//! The helpers panic with a descriptive message instead of returning errors: they
//! only ever run inside tests, where a panic is the failure report.

pub mod apiserver;
pub mod controller;
pub mod go;
pub mod http;
pub mod kubeseal;
pub mod metrics;
pub mod proxy;

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::{Event, Namespace, Secret};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Api, Client, Config};
use sealed_secrets::SealedSecret;
use sealed_secrets::v1alpha1::{CONDITION_SYNCED, SealedSecretCondition};

pub use controller::Controller;

/// Environment variable naming the kubeconfig of the test API server.
pub const KUBECONFIG_ENV: &str = "SEALED_SECRETS_TEST_KUBECONFIG";
/// Environment variable naming a directory holding the `controller` and `kubeseal`
/// binaries (default: the workspace target dir's `debug/`).
pub const BIN_DIR_ENV: &str = "SEALED_SECRETS_TEST_BIN_DIR";

/// Environment variable naming a file where every cluster or peer test that runs
/// appends one line (`<kind> <test>`), so a CI run can print how many ran.
pub const RAN_FILE_ENV: &str = "SEALED_SECRETS_TEST_RAN_FILE";

/// Records that `test` (of `kind`: `cluster`, `peer`) is running, in [`RAN_FILE_ENV`].
pub fn record_ran(kind: &str, test: &str) {
    use std::io::Write as _;
    let Some(path) = std::env::var_os(RAN_FILE_ENV).filter(|v| !v.is_empty()) else {
        return;
    };
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .unwrap_or_else(|e| panic!("opening {}: {e}", PathBuf::from(&path).display()));
    // One write of a short line: appends from parallel tests do not interleave.
    file.write_all(format!("{kind} {test}\n").as_bytes())
        .unwrap_or_else(|e| panic!("writing {}: {e}", PathBuf::from(&path).display()));
}

/// Reports that a test cannot run because `what` is missing. Outside CI it is skipped
/// with the reason printed; under `CI=true` it fails, so a missing API server or peer
/// binary never passes as "skipped" (scripts/test.sh provides them all).
pub fn skip_or_fail(what: &str) {
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!(
            "{what}, and CI=true: in CI every cluster and peer test must run (scripts/test.sh provides them)"
        );
    }
    println!("skipped: {what}");
}

/// Label on the controller's key Secrets.
pub const KEY_LABEL: &str = "sealedsecrets.bitnami.com/sealed-secrets-key";
/// Value of [`KEY_LABEL`] on keys in use.
pub const KEY_LABEL_ACTIVE: &str = "active";
/// Annotation that lets the controller take over an existing Secret.
pub const MANAGED_ANNOTATION: &str = "sealedsecrets.bitnami.com/managed";
/// The CRD, applied once per test run.
pub const CRD_YAML: &str = include_str!("../../../deploy/crds/sealedsecrets.bitnami.com.yaml");
/// Field manager for everything the tests apply.
pub const FIELD_MANAGER: &str = "sealed-secrets-e2e";

/// Upper bound for anything the tests wait for. A timeout is a failure ("it never
/// happened"), not a speed assertion, so it is generous for a loaded 2-core machine.
pub const TIMEOUT: Duration = Duration::from_secs(120);
const POLL: Duration = Duration::from_millis(250);

/// The kubeconfig of the test API server, if the suite should run.
pub fn test_kubeconfig() -> Option<PathBuf> {
    std::env::var_os(KUBECONFIG_ENV)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// A kube client for `kubeconfig` (only that file; never the ambient `KUBECONFIG`).
pub async fn client_for(kubeconfig: &Path) -> Client {
    let kc = Kubeconfig::read_from(kubeconfig)
        .unwrap_or_else(|e| panic!("reading kubeconfig {}: {e}", kubeconfig.display()));
    let config = Config::from_custom_kubeconfig(kc, &KubeConfigOptions::default())
        .await
        .unwrap_or_else(|e| panic!("loading kubeconfig {}: {e}", kubeconfig.display()));
    Client::try_from(config).expect("a kube client from a loaded kubeconfig")
}

/// Polls `probe` until it returns `Ok`, every 250 ms, for at most `timeout`.
///
/// `Err` carries what was observed last; it goes into the failure message.
pub async fn wait_for<T>(
    what: &str,
    timeout: Duration,
    mut probe: impl AsyncFnMut() -> Result<T, String>,
) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        match probe().await {
            Ok(v) => return v,
            Err(last) if Instant::now() >= deadline => {
                panic!("timed out after {timeout:?} waiting for {what}; last observed: {last}")
            }
            Err(_) => tokio::time::sleep(POLL).await,
        }
    }
}

/// The directory holding the binaries under test.
pub fn bin_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os(BIN_DIR_ENV).filter(|v| !v.is_empty()) {
        return PathBuf::from(dir);
    }
    let root = workspace_root();
    let target = match std::env::var_os("CARGO_TARGET_DIR").filter(|v| !v.is_empty()) {
        Some(t) => root.join(t), // an absolute path replaces `root`
        None => root.join("target"),
    };
    target.join("debug")
}

/// Path of a built binary; panics with how to build it when it is missing.
pub fn binary(name: &str) -> PathBuf {
    let path = bin_dir().join(name);
    assert!(
        path.is_file(),
        "{} not found: build it first (`cargo build -p sealed-secrets-controller -p kubeseal-cli`, \
         or run scripts/e2e.sh), or point {BIN_DIR_ENV} at a directory holding it",
        path.display()
    );
    path
}

/// The repository root (this package lives in `tests/e2e`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("the workspace root exists")
}

static CRD_INSTALLED: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();

/// Applies the CRD (server-side apply, idempotent) once per test process and waits
/// until it is Established.
pub async fn ensure_crd(client: &Client) {
    CRD_INSTALLED
        .get_or_init(|| async {
            let crd = crd_document();
            let name = crd["metadata"]["name"]
                .as_str()
                .expect("the CRD has a name")
                .to_owned();
            let api: Api<CustomResourceDefinition> = Api::all(client.clone());
            api.patch(
                &name,
                &PatchParams::apply(FIELD_MANAGER).force(),
                &Patch::Apply(&crd),
            )
            .await
            .unwrap_or_else(|e| panic!("applying CRD {name}: {e}"));
            wait_for(
                &format!("CRD {name} to be Established"),
                TIMEOUT,
                async || {
                    let crd = api.get(&name).await.map_err(|e| e.to_string())?;
                    let established = crd
                        .status
                        .as_ref()
                        .and_then(|s| s.conditions.as_ref())
                        .is_some_and(|cs| {
                            cs.iter()
                                .any(|c| c.type_ == "Established" && c.status == "True")
                        });
                    if established {
                        Ok(())
                    } else {
                        Err(format!("status {:?}", crd.status))
                    }
                },
            )
            .await;
        })
        .await;
}

/// The CRD object from the committed `deploy/crds/` file.
pub fn crd_document() -> serde_json::Value {
    for doc in serde_yaml_ng::Deserializer::from_str(CRD_YAML) {
        let value: serde_json::Value =
            serde::Deserialize::deserialize(doc).expect("the committed CRD file is valid YAML");
        if value["kind"] == "CustomResourceDefinition" {
            return value;
        }
    }
    panic!("deploy/crds/sealedsecrets.bitnami.com.yaml holds no CustomResourceDefinition")
}

/// The `127.0.0.N` hosts handed out to tests, so parallel tests never share an address
/// (and, through the API server's egress guard, `192.0.2.N` maps to `127.0.0.N`).
static NEXT_HOST: AtomicU32 = AtomicU32::new(0);

/// A fresh loopback host number `N` in 10..=249.
pub fn next_host() -> u8 {
    let n = NEXT_HOST.fetch_add(1, Ordering::Relaxed);
    u8::try_from(10 + n % 240).expect("10 + n % 240 fits in a u8")
}

/// A currently free TCP port on `127.0.0.host`.
pub fn free_port(host: u8) -> u16 {
    let listener = std::net::TcpListener::bind((loopback(host), 0))
        .unwrap_or_else(|e| panic!("binding 127.0.0.{host}:0: {e}"));
    listener
        .local_addr()
        .expect("a bound listener has an address")
        .port()
}

/// `127.0.0.host`.
pub fn loopback(host: u8) -> Ipv4Addr {
    Ipv4Addr::new(127, 0, 0, host)
}

/// Deletes its namespace when dropped, from a thread of its own (a drop cannot await,
/// and runs during unwinding too).
struct NamespaceGuard {
    kubeconfig: PathBuf,
    name: String,
    armed: bool,
}

impl Drop for NamespaceGuard {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let kubeconfig = self.kubeconfig.clone();
        let name = self.name.clone();
        let joined = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a tokio runtime for namespace cleanup");
            rt.block_on(async {
                let client = client_for(&kubeconfig).await;
                if let Err(e) = delete_namespace(&client, &name).await {
                    eprintln!("cleanup: deleting namespace {name}: {e}");
                }
            });
        })
        .join();
        if joined.is_err() {
            eprintln!("cleanup: deleting namespace {} panicked", self.name);
        }
    }
}

async fn delete_namespace(client: &Client, name: &str) -> Result<(), kube::Error> {
    let api: Api<Namespace> = Api::all(client.clone());
    match api.delete(name, &DeleteParams::background()).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(e)) if e.code == 404 => Ok(()),
        Err(e) => Err(e),
    }
}

/// One test's world: a client, its namespace, a temp dir, its controller logs and the
/// plaintexts that must never reach those logs.
pub struct TestEnv {
    /// Client for the test API server.
    pub client: Client,
    /// The kubeconfig file of the test API server.
    pub kubeconfig: PathBuf,
    /// This test's namespace.
    pub namespace: String,
    ns_guard: NamespaceGuard,
    dir: tempfile::TempDir,
    plaintexts: Mutex<Vec<String>>,
    logs: Mutex<Vec<PathBuf>>,
    counter: AtomicU32,
}

impl TestEnv {
    /// Connects, installs the CRD and creates the test's namespace; `None` (after
    /// printing the reason) when the suite is not configured to run.
    pub async fn start(test: &str) -> Option<TestEnv> {
        let Some(kubeconfig) = test_kubeconfig() else {
            skip_or_fail(&format!("{KUBECONFIG_ENV} is not set"));
            return None;
        };
        record_ran("cluster", test);
        let client = client_for(&kubeconfig).await;
        ensure_crd(&client).await;
        let prefix: String = test
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '-'
                }
            })
            .take(40)
            .collect();
        let ns = Namespace {
            metadata: ObjectMeta {
                generate_name: Some(format!("e2e-{prefix}-")),
                labels: Some(BTreeMap::from([(
                    "app.kubernetes.io/part-of".to_owned(),
                    FIELD_MANAGER.to_owned(),
                )])),
                ..ObjectMeta::default()
            },
            ..Namespace::default()
        };
        let created = Api::<Namespace>::all(client.clone())
            .create(&PostParams::default(), &ns)
            .await
            .unwrap_or_else(|e| panic!("creating the test namespace: {e}"));
        let namespace = created
            .metadata
            .name
            .expect("a created namespace has a name");
        let dir = tempfile::Builder::new()
            .prefix(&format!("e2e-{prefix}-"))
            .tempdir()
            .expect("a temporary directory");
        Some(TestEnv {
            ns_guard: NamespaceGuard {
                kubeconfig: kubeconfig.clone(),
                name: namespace.clone(),
                armed: true,
            },
            client,
            kubeconfig,
            namespace,
            dir,
            plaintexts: Mutex::new(Vec::new()),
            logs: Mutex::new(Vec::new()),
            counter: AtomicU32::new(0),
        })
    }

    /// The test's temporary directory.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Writes `bytes` to `name` in the test's temporary directory.
    pub fn write_file(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.dir().join(name);
        std::fs::write(&path, bytes).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
        path
    }

    /// A unique secret value; the controller's log must never contain it.
    pub fn plaintext(&self, label: &str) -> String {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let value = format!("e2e-{label}-{}-{n}-{nanos:08x}", std::process::id());
        self.plaintexts
            .lock()
            .expect("plaintext list lock")
            .push(value.clone());
        value
    }

    /// Adds a value that must never appear in a controller log.
    pub fn forbid_in_logs(&self, value: &str) {
        self.plaintexts
            .lock()
            .expect("plaintext list lock")
            .push(value.to_owned());
    }

    /// Forbids a private key in the logs: its first base64 line, which any rendering of
    /// the PEM (raw, JSON-escaped, in a Secret dump) contains.
    pub fn forbid_private_key(&self, pem: &[u8]) {
        let text = String::from_utf8_lossy(pem);
        let line = text
            .lines()
            .find(|l| !l.starts_with("-----") && l.len() >= 32)
            .unwrap_or_else(|| panic!("no base64 body in the private key PEM"));
        self.forbid_in_logs(line);
    }

    /// A path for a new controller log in the temp dir, remembered for the final scan.
    fn new_log_path(&self) -> PathBuf {
        let mut logs = self.logs.lock().expect("log list lock");
        let path = self.dir().join(format!("controller-{}.log", logs.len()));
        logs.push(path.clone());
        path
    }

    /// Starts a controller on a fresh `127.0.0.N` (see [`controller`]).
    pub async fn start_controller(&self, extra_args: &[&str]) -> Controller {
        self.start_controller_on(next_host(), extra_args).await
    }

    /// Starts a controller on `127.0.0.host` with fresh ports, watching only this
    /// test's namespace, and waits until it answers `/healthz`.
    pub async fn start_controller_on(&self, host: u8, extra_args: &[&str]) -> Controller {
        let log = self.new_log_path();
        let ctl = Controller::spawn(&self.kubeconfig, &self.namespace, host, extra_args, log);
        ctl.wait_ready().await;
        ctl
    }

    /// Starts the upstream Go controller `bin` for this test's namespace on
    /// `127.0.0.host` (see [`go::spawn_go_controller`]) and waits until it answers
    /// `/healthz`. Its log is scanned like ours.
    pub async fn start_go_controller_on(&self, bin: &Path, host: u8, args: &[&str]) -> Controller {
        let log = self.new_log_path();
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let sa_dir = self.dir().join(format!("serviceaccount-{n}"));
        let ctl = go::spawn_go_controller(
            bin,
            &self.kubeconfig,
            &self.namespace,
            host,
            args,
            &sa_dir,
            log,
        );
        ctl.wait_ready().await;
        ctl
    }

    /// Stops `controllers` (each must exit 0 on SIGTERM), fails if any controller log
    /// of this test contains a plaintext it used, and deletes the namespace.
    pub async fn finish(mut self, controllers: impl IntoIterator<Item = Controller>) {
        let mut failures = Vec::new();
        for mut ctl in controllers {
            let status = ctl.stop();
            if !status.success() {
                failures.push(format!(
                    "controller on {} exited with {status} after SIGTERM (want 0); log: {}",
                    ctl.addr,
                    ctl.log.display()
                ));
            }
        }
        failures.extend(self.scan_logs());
        if failures.is_empty() {
            delete_namespace(&self.client, &self.namespace)
                .await
                .unwrap_or_else(|e| panic!("deleting namespace {}: {e}", self.namespace));
            self.ns_guard.armed = false;
        } else {
            panic!("{}", failures.join("\n"));
        }
    }

    /// Every plaintext (raw or base64) found in a controller log, as failure lines.
    fn scan_logs(&self) -> Vec<String> {
        let plaintexts = self.plaintexts.lock().expect("plaintext list lock").clone();
        let logs = self.logs.lock().expect("log list lock").clone();
        let mut found = Vec::new();
        for log in &logs {
            let text = match std::fs::read(log) {
                Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
                Err(e) => {
                    found.push(format!("reading controller log {}: {e}", log.display()));
                    continue;
                }
            };
            for (form, p) in secrets_in(&text, &plaintexts) {
                found.push(format!(
                    "controller log {} contains a secret value ({form} of {p:?})",
                    log.display()
                ));
            }
        }
        found
    }

    /// Runs the built `kubeseal` (see [`kubeseal::run`]).
    pub async fn kubeseal<S: AsRef<OsStr>>(&self, args: &[S], stdin: Option<&[u8]>) -> Output {
        kubeseal::run(args, stdin).await
    }

    /// Runs `kubeseal` with `args` and `stdin`, requiring success; returns stdout.
    pub async fn kubeseal_ok<S: AsRef<OsStr>>(&self, args: &[S], stdin: Option<&[u8]>) -> Vec<u8> {
        let out = self.kubeseal(args, stdin).await;
        assert!(
            out.status.success(),
            "kubeseal {:?} failed with {}: {}",
            args.iter().map(|a| a.as_ref()).collect::<Vec<_>>(),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    }

    /// A `v1` Secret manifest in this namespace.
    pub fn secret_manifest(&self, name: &str, data: &[(&str, &str)]) -> Vec<u8> {
        let data: serde_json::Map<String, serde_json::Value> = data
            .iter()
            .map(|(k, v)| ((*k).to_owned(), STANDARD.encode(v).into()))
            .collect();
        serde_json::to_vec(&serde_json::json!({
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": name, "namespace": self.namespace},
            "type": "Opaque",
            "data": data,
        }))
        .expect("a JSON value serializes")
    }

    /// Seals a Secret with `kubeseal --cert <cert_file>` (offline).
    pub async fn seal_with_cert(
        &self,
        cert_file: &Path,
        name: &str,
        data: &[(&str, &str)],
    ) -> SealedSecret {
        let manifest = self.secret_manifest(name, data);
        let out = self
            .kubeseal_ok(
                &[
                    OsStr::new("--cert"),
                    cert_file.as_os_str(),
                    OsStr::new("--format"),
                    OsStr::new("json"),
                ],
                Some(&manifest),
            )
            .await;
        parse_sealed_secret(&out)
    }

    /// The SealedSecrets API of this namespace.
    pub fn sealed_secrets(&self) -> Api<SealedSecret> {
        Api::namespaced(self.client.clone(), &self.namespace)
    }

    /// The Secrets API of this namespace.
    pub fn secrets(&self) -> Api<Secret> {
        Api::namespaced(self.client.clone(), &self.namespace)
    }

    /// Creates `ss` in this namespace.
    pub async fn create_sealed_secret(&self, ss: &SealedSecret) -> SealedSecret {
        let mut ss = ss.clone();
        ss.metadata.namespace = Some(self.namespace.clone());
        ss.metadata.resource_version = None;
        ss.metadata.uid = None;
        ss.status = None;
        self.sealed_secrets()
            .create(&PostParams::default(), &ss)
            .await
            .unwrap_or_else(|e| panic!("creating SealedSecret {:?}: {e}", ss.metadata.name))
    }

    /// Seals `n` Secrets named `{prefix}-{i}` with `values` values each, in-process with
    /// the certificate `cert_pem` (what `kubeseal --cert` does, without 1,000 processes).
    /// Every value is a registered plaintext (never allowed in a controller log).
    pub fn seal_batch(&self, cert_pem: &[u8], prefix: &str, n: usize, values: usize) -> Batch {
        use sealed_secrets::seal::{SealOptions, seal_secret};
        use sealed_secrets::secret::{InputSecret, SecretData};
        let cert = sealed_secrets::core::Certificate::from_pem(cert_pem)
            .unwrap_or_else(|e| panic!("parsing the served certificate: {e}"));
        let mut rng = rand_core::UnwrapErr(rand_core::OsRng);
        let options = SealOptions {
            default_namespace: self.namespace.clone(),
            ..SealOptions::default()
        };
        let mut batch = Batch::default();
        for i in 0..n {
            let name = format!("{prefix}-{i:04}");
            let plain: Vec<(String, String)> = (0..values)
                .map(|v| (format!("key{v}"), self.plaintext(&format!("{prefix}{i}"))))
                .collect();
            let secret = InputSecret {
                metadata: ObjectMeta {
                    name: Some(name.clone()),
                    namespace: Some(self.namespace.clone()),
                    ..ObjectMeta::default()
                },
                type_: Some("Opaque".to_owned()),
                immutable: None,
                data: SecretData(
                    plain
                        .iter()
                        .map(|(k, v)| (k.clone(), zeroize::Zeroizing::new(v.clone().into_bytes())))
                        .collect(),
                ),
            };
            let ss = seal_secret(&mut rng, cert.public_key(), secret, &options)
                .unwrap_or_else(|e| panic!("sealing {name}: {e}"));
            let pairs: Vec<(&str, &str)> = plain
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            batch.expected.insert(name, byte_map(&pairs));
            batch.sealed.push(ss);
        }
        batch
    }

    /// Creates every SealedSecret of `sealed`, [`CREATE_CONCURRENCY`] at a time.
    pub async fn create_all(&self, sealed: &[SealedSecret]) {
        use futures::StreamExt as _;
        futures::stream::iter(sealed)
            .for_each_concurrent(CREATE_CONCURRENCY, |ss| async move {
                self.create_sealed_secret(ss).await;
            })
            .await;
    }

    /// How the Secrets of the namespace compare with `expected`: how many hold exactly
    /// the expected data, and a description of every other one (names and key names
    /// only, never values). Key Secrets and unrelated Secrets are ignored.
    pub async fn compare_secrets(
        &self,
        expected: &BTreeMap<String, BTreeMap<String, ByteString>>,
    ) -> (usize, Vec<String>) {
        let list = self
            .secrets()
            .list(&ListParams::default())
            .await
            .unwrap_or_else(|e| panic!("listing Secrets: {e}"));
        let mut seen: BTreeMap<String, Secret> = BTreeMap::new();
        for s in list.items {
            if let Some(name) = s.metadata.name.clone() {
                seen.insert(name, s);
            }
        }
        let mut correct = 0;
        let mut problems = Vec::new();
        for (name, want) in expected {
            match seen.get(name) {
                None => problems.push(format!("{name}: missing")),
                Some(s) if s.data.as_ref() == Some(want) => correct += 1,
                Some(s) => problems.push(format!(
                    "{name}: keys {:?}, values differ or keys missing",
                    s.data.as_ref().map(|d| d.keys().collect::<Vec<_>>())
                )),
            }
        }
        (correct, problems)
    }

    /// Waits until at least `at_least` Secrets of `expected` hold their data.
    pub async fn wait_secrets_correct(
        &self,
        expected: &BTreeMap<String, BTreeMap<String, ByteString>>,
        at_least: usize,
        timeout: Duration,
    ) {
        wait_for(
            &format!(
                "{at_least} of {} Secrets to hold their unsealed data",
                expected.len()
            ),
            timeout,
            async || {
                let (correct, problems) = self.compare_secrets(expected).await;
                if correct >= at_least {
                    Ok(())
                } else {
                    Err(format!(
                        "{correct} correct; first problems: {:?}",
                        &problems[..problems.len().min(5)]
                    ))
                }
            },
        )
        .await;
    }

    /// Creates a Secret in this namespace.
    pub async fn create_secret(
        &self,
        name: &str,
        annotations: &[(&str, &str)],
        data: &[(&str, &str)],
    ) -> Secret {
        let secret = Secret {
            metadata: ObjectMeta {
                name: Some(name.to_owned()),
                annotations: (!annotations.is_empty()).then(|| {
                    annotations
                        .iter()
                        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                        .collect()
                }),
                ..ObjectMeta::default()
            },
            data: Some(byte_map(data)),
            type_: Some("Opaque".to_owned()),
            ..Secret::default()
        };
        self.secrets()
            .create(&PostParams::default(), &secret)
            .await
            .unwrap_or_else(|e| panic!("creating Secret {name}: {e}"))
    }

    /// Waits until SealedSecret `name` has a `Synced` condition with `status` ("True" or
    /// "False") for its current generation; returns it.
    pub async fn wait_synced(&self, name: &str, status: &str) -> SealedSecret {
        let api = self.sealed_secrets();
        wait_for(
            &format!("SealedSecret {name} to be Synced={status} for its generation"),
            TIMEOUT,
            async || {
                let ss = api.get(name).await.map_err(|e| e.to_string())?;
                let st = ss.status.as_ref();
                let observed = st.and_then(|s| s.observed_generation);
                match synced_condition(&ss) {
                    Some(c) if c.status == status && observed == ss.metadata.generation => Ok(ss),
                    _ => Err(format!(
                        "generation {:?}, status {:?}",
                        ss.metadata.generation, ss.status
                    )),
                }
            },
        )
        .await
    }

    /// Waits until Secret `name` exists and holds exactly `data`; returns it.
    pub async fn wait_secret_data(&self, name: &str, data: &[(&str, &str)]) -> Secret {
        let api = self.secrets();
        let want = byte_map(data);
        wait_for(
            &format!("Secret {name} to hold the unsealed data"),
            TIMEOUT,
            async || match api.get_opt(name).await.map_err(|e| e.to_string())? {
                Some(s) if s.data.as_ref() == Some(&want) => Ok(s),
                // Only the key names: the values are secret.
                Some(s) => Err(format!(
                    "Secret exists with keys {:?} (values differ or keys missing)",
                    s.data.as_ref().map(|d| d.keys().collect::<Vec<_>>())
                )),
                None => Err("no such Secret".to_owned()),
            },
        )
        .await
    }

    /// Waits for an event with `reason` about object `name`; returns it.
    pub async fn wait_event(&self, name: &str, reason: &str) -> Event {
        let api: Api<Event> = Api::namespaced(self.client.clone(), &self.namespace);
        let lp = ListParams::default().fields(&format!("involvedObject.name={name}"));
        wait_for(
            &format!("an event {reason} about {name}"),
            TIMEOUT,
            async || {
                let events = api.list(&lp).await.map_err(|e| e.to_string())?;
                let reasons: Vec<_> = events.items.iter().map(|e| e.reason.clone()).collect();
                events
                    .items
                    .into_iter()
                    .find(|e| e.reason.as_deref() == Some(reason))
                    .ok_or_else(|| format!("events with reasons {reasons:?}"))
            },
        )
        .await
    }

    /// The key Secrets in this namespace labelled active.
    pub async fn active_keys(&self) -> Vec<Secret> {
        let lp = ListParams::default().labels(&format!("{KEY_LABEL}={KEY_LABEL_ACTIVE}"));
        self.secrets()
            .list(&lp)
            .await
            .unwrap_or_else(|e| panic!("listing key Secrets: {e}"))
            .items
    }

    /// Waits until at least `n` active key Secrets exist; returns them.
    pub async fn wait_active_keys(&self, n: usize) -> Vec<Secret> {
        let lp = ListParams::default().labels(&format!("{KEY_LABEL}={KEY_LABEL_ACTIVE}"));
        let api = self.secrets();
        wait_for(
            &format!("{n} active key Secret(s) in the namespace"),
            TIMEOUT,
            async || {
                let keys = api.list(&lp).await.map_err(|e| e.to_string())?.items;
                if keys.len() >= n {
                    Ok(keys)
                } else {
                    Err(format!("{} key Secret(s)", keys.len()))
                }
            },
        )
        .await
    }
}

impl Drop for TestEnv {
    fn drop(&mut self) {
        if std::thread::panicking() {
            // Keep the logs and files for the post-mortem.
            self.dir.disable_cleanup(true);
            eprintln!(
                "test namespace {}, files kept in {}",
                self.namespace,
                self.dir().display()
            );
            let logs = self.logs.lock().unwrap_or_else(PoisonError::into_inner);
            for log in logs.iter() {
                let text = std::fs::read_to_string(log).unwrap_or_default();
                let lines: Vec<&str> = text.lines().collect();
                eprintln!(
                    "--- last lines of {}:\n{}",
                    log.display(),
                    lines[lines.len().saturating_sub(40)..].join("\n")
                );
            }
        }
    }
}

/// SealedSecrets made by [`TestEnv::seal_batch`] and the data each Secret must hold.
#[derive(Default)]
pub struct Batch {
    /// The SealedSecrets, in name order.
    pub sealed: Vec<SealedSecret>,
    /// Secret name → expected `data`.
    pub expected: BTreeMap<String, BTreeMap<String, ByteString>>,
}

/// SealedSecrets created at once by [`TestEnv::create_all`].
pub const CREATE_CONCURRENCY: usize = 32;

/// Which of `values` occur in `text`, as themselves or base64-encoded (how Secret data
/// looks in a dumped object): (form, value) pairs.
pub fn secrets_in<'v>(text: &str, values: &'v [String]) -> Vec<(&'static str, &'v str)> {
    let mut found = Vec::new();
    for v in values {
        if text.contains(v.as_str()) {
            found.push(("plaintext", v.as_str()));
        }
        if text.contains(&STANDARD.encode(v)) {
            found.push(("base64", v.as_str()));
        }
    }
    found
}

/// Parses kubeseal's JSON output.
pub fn parse_sealed_secret(bytes: &[u8]) -> SealedSecret {
    serde_json::from_slice(bytes).unwrap_or_else(|e| {
        panic!(
            "kubeseal output is not a SealedSecret ({e}): {}",
            String::from_utf8_lossy(bytes)
        )
    })
}

/// The `Synced` condition of a SealedSecret.
pub fn synced_condition(ss: &SealedSecret) -> Option<&SealedSecretCondition> {
    ss.status
        .as_ref()?
        .conditions
        .iter()
        .find(|c| c.type_ == CONDITION_SYNCED)
}

/// Secret data from string pairs.
pub fn byte_map(data: &[(&str, &str)]) -> BTreeMap<String, ByteString> {
    data.iter()
        .map(|(k, v)| ((*k).to_owned(), ByteString(v.as_bytes().to_vec())))
        .collect()
}

/// The DER of the first certificate in a PEM document.
pub fn cert_der(pem_bytes: &[u8]) -> Vec<u8> {
    let parsed = pem::parse(pem_bytes).unwrap_or_else(|e| {
        panic!(
            "not a PEM certificate ({e}): {}",
            String::from_utf8_lossy(pem_bytes)
        )
    });
    assert_eq!(parsed.tag(), "CERTIFICATE", "PEM block type");
    parsed.into_contents()
}

/// A data item of a Secret.
pub fn secret_item<'a>(secret: &'a Secret, key: &str) -> &'a [u8] {
    secret
        .data
        .as_ref()
        .and_then(|d| d.get(key))
        .map(|b| b.0.as_slice())
        .unwrap_or_else(|| panic!("Secret {:?} has no {key:?}", secret.metadata.name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_found_raw_and_base64() {
        let values = vec![
            "e2e-pw-1".to_owned(),
            "e2e-pw-2".to_owned(),
            "absent".to_owned(),
        ];
        let log = format!(
            "INFO unsealed value=e2e-pw-1\nDEBUG secret data={{\"password\":\"{}\"}}\n",
            STANDARD.encode("e2e-pw-2")
        );
        assert_eq!(
            secrets_in(&log, &values),
            vec![("plaintext", "e2e-pw-1"), ("base64", "e2e-pw-2")]
        );
        assert!(secrets_in("nothing to see", &values).is_empty());
    }
}
