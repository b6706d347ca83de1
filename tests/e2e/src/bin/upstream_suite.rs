//! Runs upstream's own integration suite (Bitnami sealed-secrets `integration/`, compiled
//! by `scripts/peers.sh` into `integration.test`) against one implementation on a real
//! API server, as upstream's CI runs it against a cluster:
//!
//! ```sh
//! upstream_suite --kubeconfig admin.kubeconfig --suite integration.test \
//!     --implementation ours --kubeseal target/debug/kubeseal --controller target/debug/controller
//! upstream_suite ... --implementation go --kubeseal $GO/kubeseal --controller $GO/controller
//! ```
//!
//! The suite expects a controller watching all namespaces with its key in `kube-system`,
//! reachable as Service `sealed-secrets-controller` there. This starts that controller
//! on loopback (the Go one with in-cluster configuration, see `e2e::go`), the service
//! proxy arrangement of `e2e::proxy`, runs the suite, and prints every spec's outcome.
//! Exit status: 0 when every spec passed or failed only as `--allow-failure` allows.
#![allow(clippy::expect_used)] // a test driver: a panic with its message is the report

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{Context as _, bail};
use clap::{Parser, ValueEnum};
use e2e::proxy::{CONTROLLER_SERVICE, ProxyArrangement};
use e2e::{Controller, TIMEOUT, client_for, ensure_crd, next_host, wait_for};
use k8s_openapi::api::core::v1::{Endpoints, Pod, Secret, Service};
use kube::Api;
use kube::api::{DeleteParams, ListParams};
use serde_json::Value;

/// Where upstream's suite looks for the controller and its keys.
const KEY_NAMESPACE: &str = "kube-system";

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Implementation {
    /// Upstream's Go controller (in-cluster configuration).
    Go,
    /// Our controller.
    Ours,
}

#[derive(Parser, Debug)]
#[command(about = "Upstream's sealed-secrets integration suite against one implementation")]
struct Args {
    /// Admin kubeconfig of the API server.
    #[arg(long, env = "SEALED_SECRETS_TEST_KUBECONFIG")]
    kubeconfig: PathBuf,
    /// The compiled suite (`integration.test`).
    #[arg(long, env = "SEALED_SECRETS_UPSTREAM_SUITE")]
    suite: PathBuf,
    /// Which controller implementation `--controller` is.
    #[arg(long, value_enum)]
    implementation: Implementation,
    /// The kubeseal under test.
    #[arg(long)]
    kubeseal: PathBuf,
    /// The controller under test.
    #[arg(long)]
    controller: PathBuf,
    /// A spec (its full text, as printed) allowed to fail; repeatable.
    #[arg(long = "allow-failure")]
    allow_failure: Vec<String>,
    /// Directory for the controller log, the suite's output and its JSON report
    /// (default: a new temporary directory, kept).
    #[arg(long)]
    out_dir: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let client = client_for(&args.kubeconfig).await;
    ensure_crd(&client).await;
    let out_dir = match &args.out_dir {
        Some(d) => {
            std::fs::create_dir_all(d).with_context(|| format!("creating {}", d.display()))?;
            d.clone()
        }
        None => tempfile::Builder::new()
            .prefix("upstream-suite-")
            .tempdir()?
            .keep(),
    };
    clean_key_namespace(&client).await?;

    let host = next_host();
    let log = out_dir.join("controller.log");
    let ctl = match args.implementation {
        Implementation::Go => e2e::go::spawn_go_controller(
            &args.controller,
            &args.kubeconfig,
            KEY_NAMESPACE,
            host,
            &[],
            &out_dir.join("serviceaccount"),
            log,
        ),
        Implementation::Ours => {
            let ctl_args = ["--all-namespaces=true"];
            Controller::spawn_with_args_from(
                &args.controller,
                &args.kubeconfig,
                KEY_NAMESPACE,
                host,
                &ctl_args,
                log,
            )
        }
    };
    ctl.wait_ready().await;
    ctl.wait_cert().await;
    let proxy = ProxyArrangement::create(
        &client,
        KEY_NAMESPACE,
        CONTROLLER_SERVICE,
        host,
        ctl.addr.port(),
    )
    .await;
    wait_for(
        "the controller through the service proxy",
        TIMEOUT,
        async || match proxy.get("/v1/cert.pem").await? {
            (200, _) => Ok(()),
            (code, body) => Err(format!("HTTP {code}: {}", String::from_utf8_lossy(&body))),
        },
    )
    .await;

    // The suite writes temporary files holding private keys: into a directory of ours.
    let tmp = tempfile::tempdir()?;
    let report = out_dir.join("report.json");
    let output = out_dir.join("suite.log");
    let output_file = std::fs::File::create(&output)?;
    println!(
        "upstream suite ({:?}): {} against {} and {}; output in {}",
        args.implementation,
        args.suite.display(),
        args.kubeseal.display(),
        args.controller.display(),
        out_dir.display()
    );
    let status = Command::new(&args.suite)
        .arg(format!("-kubeconfig={}", args.kubeconfig.display()))
        .arg(format!("-kubeseal-bin={}", args.kubeseal.display()))
        .arg(format!("-controller-bin={}", args.controller.display()))
        .arg(format!("-namespace={KEY_NAMESPACE}"))
        .arg(format!("-ginkgo.json-report={}", report.display()))
        .arg("-ginkgo.no-color")
        .arg(format!(
            "-ginkgo.timeout={}s",
            Duration::from_secs(1200).as_secs()
        ))
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", tmp.path())
        .env("TMPDIR", tmp.path())
        .stdin(Stdio::null())
        .stdout(output_file.try_clone()?)
        .stderr(output_file)
        .status()
        .with_context(|| format!("running {}", args.suite.display()))?;
    drop(ctl);
    proxy_cleanup(&client).await;

    let specs = read_report(&report)?;
    let mut unexpected = Vec::new();
    let (mut passed, mut failed) = (0, 0);
    for (name, state) in &specs {
        let ok = state == "passed";
        if ok {
            passed += 1;
        } else if state != "skipped" && state != "pending" {
            failed += 1;
            if !args.allow_failure.iter().any(|a| a == name) {
                unexpected.push(name.clone());
            }
        }
        println!("  {state:<8} {name}");
    }
    println!(
        "upstream suite ({:?}): {passed} passed, {failed} failed (suite exit {status}); {} failure(s) not allowed",
        args.implementation,
        unexpected.len()
    );
    if specs.is_empty() {
        bail!("the suite reported no specs; see {}", output.display());
    }
    if !unexpected.is_empty() {
        bail!("specs failed: {unexpected:?}; see {}", output.display());
    }
    Ok(())
}

/// Removes the key Secrets and the proxy objects a previous run left in `kube-system`,
/// so each run starts its controller with a fresh key.
async fn clean_key_namespace(client: &kube::Client) -> anyhow::Result<()> {
    let secrets: Api<Secret> = Api::namespaced(client.clone(), KEY_NAMESPACE);
    let lp = ListParams::default().labels(e2e::KEY_LABEL);
    for s in secrets.list(&lp).await?.items {
        if let Some(name) = s.metadata.name {
            secrets.delete(&name, &DeleteParams::default()).await?;
        }
    }
    proxy_cleanup(client).await;
    Ok(())
}

async fn proxy_cleanup(client: &kube::Client) {
    let dp = DeleteParams::default();
    let _ = Api::<Service>::namespaced(client.clone(), KEY_NAMESPACE)
        .delete(CONTROLLER_SERVICE, &dp)
        .await;
    let _ = Api::<Endpoints>::namespaced(client.clone(), KEY_NAMESPACE)
        .delete(CONTROLLER_SERVICE, &dp)
        .await;
    let pod = format!("{CONTROLLER_SERVICE}-standin");
    let _ = Api::<Pod>::namespaced(client.clone(), KEY_NAMESPACE)
        .delete(
            &pod,
            &DeleteParams {
                grace_period_seconds: Some(0),
                ..DeleteParams::default()
            },
        )
        .await;
    // Pods without a kubelet: deleted with grace period 0 they go at once.
    for _ in 0..40 {
        if Api::<Pod>::namespaced(client.clone(), KEY_NAMESPACE)
            .get_opt(&pod)
            .await
            .ok()
            .flatten()
            .is_none()
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// (full spec text, state) for every spec in a ginkgo JSON report.
fn read_report(path: &std::path::Path) -> anyhow::Result<Vec<(String, String)>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the suite's report {}", path.display()))?;
    let suites: Value = serde_json::from_str(&text)?;
    let mut out = Vec::new();
    for suite in suites.as_array().into_iter().flatten() {
        for spec in suite["SpecReports"].as_array().into_iter().flatten() {
            if spec["LeafNodeType"] != "It" {
                continue;
            }
            let mut parts: Vec<String> = spec["ContainerHierarchyTexts"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|t| t.as_str().map(str::to_owned))
                .collect();
            parts.push(spec["LeafNodeText"].as_str().unwrap_or_default().to_owned());
            out.push((
                parts.join(" "),
                spec["State"].as_str().unwrap_or("unknown").to_owned(),
            ));
        }
    }
    Ok(out)
}
