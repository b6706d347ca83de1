//! Scale benchmark of the controller against a real API server (see docs/performance.md).
//!
//! ```sh
//! cargo build --release -p sealed-secrets-controller -p e2e --bin scale
//! SEALED_SECRETS_TEST_BIN_DIR=target/release target/release/scale --kubeconfig admin.kubeconfig
//! ```
//!
//! Creates `--namespaces` fresh namespaces and a key namespace, lets a controller make a
//! key there and fetches its certificate, seals `--count` Secrets of `--values` values
//! in-process, creates them (labelled `bench=<run id>`, which the controller is told to
//! select), then times a cold start (every SealedSecret `Synced`) and a warm restart
//! (every SealedSecret reconciled again), printing RSA decryptions, peak RSS and the API
//! server's request counts; with `--server-pidfile` (the API server's, etcd's) also their
//! CPU time, to tell a start bound by the machine from one that waits. It prints figures
//! and asserts nothing about speed.
#![allow(clippy::expect_used)] // a bench binary: a panic with its message is the report

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, bail};
use clap::Parser;
use e2e::{Controller, client_for, ensure_crd, metrics::Metrics, next_host, synced_condition};
use futures::{StreamExt as _, TryStreamExt as _};
use k8s_openapi::api::core::v1::{Namespace, Secret};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{DeleteParams, ListParams, PostParams};
use kube::runtime::watcher;
use kube::{Api, Client};
use sealed_secrets::SealedSecret;
use sealed_secrets::core::Certificate;
use sealed_secrets::seal::{SealOptions, seal_secret};
use sealed_secrets::secret::{InputSecret, SecretData};
use zeroize::Zeroizing;

/// Label put on everything the run creates; the controller selects on it.
const RUN_LABEL: &str = "bench";
/// Objects created at once.
const CREATE_CONCURRENCY: usize = 32;
/// The resources the controller reads and writes.
const CONTROLLER_RESOURCES: [&str; 3] = ["sealedsecrets", "secrets", "events"];
/// Upper bound for one phase ("it never finished"), not a target.
const PHASE_TIMEOUT: Duration = Duration::from_secs(900);

#[derive(Parser, Debug)]
#[command(about = "Scale benchmark of the sealed-secrets controller against a real API server")]
struct Args {
    /// Kubeconfig of the API server (default: $SEALED_SECRETS_TEST_KUBECONFIG).
    #[arg(long, env = "SEALED_SECRETS_TEST_KUBECONFIG")]
    kubeconfig: PathBuf,
    /// SealedSecrets to create.
    #[arg(short = 'n', long, default_value_t = 10_000)]
    count: usize,
    /// Namespaces to spread them over.
    #[arg(long, default_value_t = 20)]
    namespaces: usize,
    /// Values per SealedSecret.
    #[arg(long, default_value_t = 3)]
    values: usize,
    /// Extra controller flags, whitespace-separated (e.g. `--kubeclient-qps=200`).
    #[arg(long, default_value = "")]
    controller_args: String,
    /// Leave the namespaces and objects in place.
    #[arg(long)]
    keep: bool,
    /// Time upstream's Go controller (this binary, e.g. $SEALED_SECRETS_GO_CONTROLLER)
    /// for the cold and warm phases instead of ours, on the same key and objects. It
    /// runs with in-cluster configuration (e2e::go); its RSA decryptions are not
    /// counted by a metric and are reported as reconciles x values (it decrypts every
    /// value of every SealedSecret it reconciles).
    #[arg(long)]
    go_controller: Option<PathBuf>,
    /// Pidfile of a process sharing the machine (the API server, etcd; repeatable):
    /// its CPU time during each phase is reported beside the controller's.
    #[arg(long = "server-pidfile")]
    server_pidfiles: Vec<PathBuf>,
    /// Secrets no SealedSecret owns, created beside them (labelled for the run, so a
    /// controller watching with `--label-selector` sees them too): what the controller
    /// receives ("Secret bytes served") and holds should not grow with their size.
    #[arg(long, default_value_t = 0)]
    unrelated_secrets: usize,
    /// Bytes of data in each unrelated Secret.
    #[arg(long, default_value_t = 64 * 1024)]
    unrelated_size: usize,
}

/// What one controller start did.
struct Phase {
    name: &'static str,
    /// From spawn to done (cold: all Synced=True; warm: every object reconciled).
    elapsed: Duration,
    /// From spawn to /healthz (process start, key load).
    ready: Duration,
    decryptions: f64,
    reconciles: f64,
    peak_rss_kib: u64,
    /// The controller's user + system CPU time.
    cpu: Option<Duration>,
    /// CPU time of the `--server-pidfile` processes during the phase.
    server_cpu: Option<Duration>,
    /// API server requests by (verb, resource[/subresource]) during the phase.
    requests: BTreeMap<(String, String), f64>,
    /// Bytes of Secrets the API server sent during the phase (list and get responses
    /// plus watch events, by its own metrics); the controller is the only reader of
    /// Secrets then.
    secret_bytes: f64,
}

impl Phase {
    /// Requests on what the controller touches; the API server's own background
    /// requests (leases, quotas, its informers) also appear in `requests`.
    fn total_requests(&self) -> f64 {
        self.requests
            .iter()
            .filter(|((_, resource), _)| {
                let base = resource.split('/').next().unwrap_or_default();
                CONTROLLER_RESOURCES.contains(&base)
            })
            .map(|(_, n)| n)
            .sum()
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if args.count == 0 || args.namespaces == 0 || args.values == 0 {
        bail!("--count, --namespaces and --values must be at least 1");
    }
    if std::env::var_os(e2e::BIN_DIR_ENV).is_none() {
        eprintln!(
            "note: {} is unset, so the controller comes from target/debug; \
             set it to target/release for figures worth reporting",
            e2e::BIN_DIR_ENV
        );
    }
    let client = client_for(&args.kubeconfig).await;
    ensure_crd(&client).await;
    let run_id = format!(
        "{:x}",
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .context("the clock is before 1970")?
            .as_millis()
    );
    let selector = format!("{RUN_LABEL}={run_id}");
    let dir = tempfile::Builder::new()
        .prefix("sealed-secrets-scale-")
        .tempdir()
        .context("creating a temporary directory")?;
    let dir = if args.keep {
        dir.keep()
    } else {
        dir.path().to_owned()
    };
    let controller_args: Vec<String> = [format!("--label-selector={selector}")]
        .into_iter()
        .chain(args.controller_args.split_whitespace().map(str::to_owned))
        .collect();

    println!(
        "run {run_id}: {} SealedSecrets x {} values over {} namespaces; controller {}; args: {}",
        args.count,
        args.values,
        args.namespaces,
        args.go_controller
            .as_ref()
            .map_or_else(|| "ours".to_owned(), |p| format!("Go ({})", p.display())),
        controller_args.join(" ")
    );
    let key_ns = create_namespace(&client, "bench-key-", &run_id).await?;
    let mut namespaces = Vec::with_capacity(args.namespaces);
    for _ in 0..args.namespaces {
        namespaces.push(create_namespace(&client, "bench-", &run_id).await?);
    }
    let result = run(&args, &client, &dir, &key_ns, &namespaces, &controller_args).await;
    if args.keep {
        println!(
            "kept namespaces {key_ns} {} and logs in {}",
            namespaces.join(" "),
            dir.display()
        );
    } else {
        let started = Instant::now();
        for ns in namespaces.iter().chain([&key_ns]) {
            if let Err(e) = delete_namespace_contents(&client, ns).await {
                eprintln!("cleanup of {ns}: {e:#}");
            }
        }
        println!("cleanup took {:.1} s", started.elapsed().as_secs_f64());
    }
    result
}

async fn run(
    args: &Args,
    client: &Client,
    dir: &Path,
    key_ns: &str,
    namespaces: &[String],
    controller_args: &[String],
) -> anyhow::Result<()> {
    let cargs: Vec<&str> = controller_args.iter().map(String::as_str).collect();
    let host = next_host();

    // 1. A key, then its certificate.
    let started = Instant::now();
    let mut first = Controller::spawn_with_args(
        &args.kubeconfig,
        key_ns,
        host,
        &cargs,
        dir.join("controller-key.log"),
    );
    let cert_pem = first.wait_cert().await;
    let status = first.stop();
    if !status.success() {
        bail!("the key-making controller exited {status}");
    }
    println!(
        "key made and certificate fetched in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let cert = Certificate::from_pem(&cert_pem).context("parsing /v1/cert.pem")?;

    // 2. Seal in-process on every core, then create concurrently.
    let started = Instant::now();
    let sealed = seal_all(args, &cert, namespaces).await?;
    let seal_time = started.elapsed();
    let started = Instant::now();
    let created: Vec<()> = futures::stream::iter(sealed.into_iter().map(|ss| {
        let client = client.clone();
        async move {
            let ns = ss
                .metadata
                .namespace
                .clone()
                .expect("sealed with a namespace");
            Api::<SealedSecret>::namespaced(client, &ns)
                .create(&PostParams::default(), &ss)
                .await
                .map(|_| ())
                .with_context(|| format!("creating SealedSecret {ns}/{:?}", ss.metadata.name))
        }
    }))
    .buffer_unordered(CREATE_CONCURRENCY)
    .try_collect()
    .await?;
    println!(
        "sealed {} Secrets ({} values) in {:.2} s; created them in {:.1} s",
        created.len(),
        created.len() * args.values,
        seal_time.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );

    if args.unrelated_secrets > 0 {
        let started = Instant::now();
        create_unrelated(args, client, namespaces).await?;
        println!(
            "created {} unrelated Secrets of {} KiB in {:.1} s",
            args.unrelated_secrets,
            args.unrelated_size / 1024,
            started.elapsed().as_secs_f64()
        );
    }

    // 3. Cold start, then a warm restart.
    let ss_api: Api<SealedSecret> = Api::all(client.clone());
    let cold = phase(
        "cold",
        args,
        client,
        &ss_api,
        key_ns,
        host,
        &cargs,
        dir.join("controller-cold.log"),
    )
    .await?;
    let warm = phase(
        "warm",
        args,
        client,
        &ss_api,
        key_ns,
        host,
        &cargs,
        dir.join("controller-warm.log"),
    )
    .await?;
    report(args, &[cold, warm]);
    Ok(())
}

/// `args.unrelated_secrets` Secrets of `args.unrelated_size` bytes, round-robin over
/// `namespaces`, owned by nothing.
async fn create_unrelated(
    args: &Args,
    client: &Client,
    namespaces: &[String],
) -> anyhow::Result<()> {
    let run_id = RUN_ID.get().expect("set at start").clone();
    // Not random: the bench measures transfer, and the API server does not compress.
    let value = k8s_openapi::ByteString(vec![b'x'; args.unrelated_size]);
    futures::stream::iter((0..args.unrelated_secrets).map(|i| {
        let ns = namespaces[i % namespaces.len()].clone();
        let secret = k8s_openapi::api::core::v1::Secret {
            metadata: kube::api::ObjectMeta {
                name: Some(format!("unrelated-{i}")),
                labels: Some([(RUN_LABEL.to_owned(), run_id.clone())].into()),
                ..Default::default()
            },
            data: Some([("blob".to_owned(), value.clone())].into()),
            ..Default::default()
        };
        let client = client.clone();
        async move {
            Api::<k8s_openapi::api::core::v1::Secret>::namespaced(client, &ns)
                .create(&PostParams::default(), &secret)
                .await
                .map(|_| ())
                .with_context(|| format!("creating Secret {ns}/unrelated-{i}"))
        }
    }))
    .buffer_unordered(CREATE_CONCURRENCY)
    .try_collect::<Vec<()>>()
    .await?;
    Ok(())
}

/// Seals `args.count` Secrets, spread round-robin over `namespaces`.
async fn seal_all(
    args: &Args,
    cert: &Certificate,
    namespaces: &[String],
) -> anyhow::Result<Vec<SealedSecret>> {
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let per = args.count.div_ceil(threads);
    let mut tasks = Vec::new();
    for t in 0..threads {
        let range = (t * per)..((t + 1) * per).min(args.count);
        let cert = cert.clone();
        let namespaces = namespaces.to_vec();
        let values = args.values;
        let label = RUN_ID.get().expect("set before sealing").clone();
        tasks.push(tokio::task::spawn_blocking(move || {
            let mut rng = rand_core::UnwrapErr(rand_core::OsRng);
            range
                .map(|i| {
                    let ns = &namespaces[i % namespaces.len()];
                    let data = (0..values)
                        .map(|v| {
                            // Distinct per object and value; not secret, only benchmark data.
                            let value = format!("bench-value-{i:06}-{v:02}-0123456789abcdef");
                            (format!("key{v}"), Zeroizing::new(value.into_bytes()))
                        })
                        .collect();
                    let secret = InputSecret {
                        metadata: ObjectMeta {
                            name: Some(format!("s-{i:06}")),
                            namespace: Some(ns.clone()),
                            ..ObjectMeta::default()
                        },
                        type_: Some("Opaque".to_owned()),
                        immutable: None,
                        data: SecretData(data),
                    };
                    let options = SealOptions {
                        default_namespace: ns.clone(),
                        ..SealOptions::default()
                    };
                    let mut ss = seal_secret(&mut rng, cert.public_key(), secret, &options)
                        .context("sealing")?;
                    // On the Secret too: the controller's label selector applies to
                    // the Secrets it watches as well (as upstream's does).
                    let labels = BTreeMap::from([(RUN_LABEL.to_owned(), label.clone())]);
                    ss.spec.template.metadata.labels = Some(labels.clone());
                    ss.metadata.labels = Some(labels);
                    Ok(ss)
                })
                .collect::<anyhow::Result<Vec<_>>>()
        }));
    }
    let mut all = Vec::with_capacity(args.count);
    for task in tasks {
        all.extend(task.await.context("a sealing thread panicked")??);
    }
    Ok(all)
}

/// The run id, for the `bench` label.
static RUN_ID: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// Starts a controller, waits until it has handled every SealedSecret, stops it.
#[allow(clippy::too_many_arguments)] // one call site per phase, all named
async fn phase(
    name: &'static str,
    args: &Args,
    client: &Client,
    ss_api: &Api<SealedSecret>,
    key_ns: &str,
    host: u8,
    cargs: &[&str],
    log: PathBuf,
) -> anyhow::Result<Phase> {
    let selector = format!("{RUN_LABEL}={}", RUN_ID.get().expect("set at start"));
    // The bench's own watch: listed before the "before" scrape, so only its one WATCH
    // request (counted when it ends, after the "after" scrape) falls in the phase.
    let mut synced: HashMap<String, bool> = HashMap::with_capacity(args.count);
    let stream = watcher(ss_api.clone(), watcher::Config::default().labels(&selector));
    let mut stream = std::pin::pin!(stream);
    loop {
        match stream.next().await {
            Some(Ok(watcher::Event::InitApply(ss))) => {
                synced.insert(object_key(&ss), is_synced(&ss));
            }
            Some(Ok(watcher::Event::InitDone)) => break,
            Some(Ok(_)) => {}
            Some(Err(e)) => bail!("watching SealedSecrets: {e}"),
            None => bail!("the SealedSecret watch ended"),
        }
    }
    if synced.len() != args.count {
        bail!(
            "expected {} SealedSecrets, found {}",
            args.count,
            synced.len()
        );
    }
    let before_scrape = apiserver_metrics(client).await?;
    let before = apiserver_requests(&before_scrape);
    let secret_bytes_before = secret_bytes_served(&before_scrape);
    let server_cpu_before = servers_cpu(&args.server_pidfiles)?;
    let started = Instant::now();
    let mut controller = match &args.go_controller {
        Some(bin) => {
            let sa_dir = log.with_extension("serviceaccount");
            e2e::go::spawn_go_controller(bin, &args.kubeconfig, key_ns, host, cargs, &sa_dir, log)
        }
        None => Controller::spawn_with_args(&args.kubeconfig, key_ns, host, cargs, log),
    };
    controller.wait_ready().await;
    let ready = started.elapsed();
    let pid = controller.pid().expect("a running controller has a pid");
    let deadline = started + PHASE_TIMEOUT;
    let mut peak_rss_kib = 0;
    let mut poll = tokio::time::interval(Duration::from_millis(250));
    // Cold: every SealedSecret Synced=True. Warm (already Synced): every one reconciled
    // again, by the controller's own counter.
    let elapsed = loop {
        tokio::select! {
            event = stream.next() => match event {
                Some(Ok(watcher::Event::Apply(ss))) => {
                    synced.insert(object_key(&ss), is_synced(&ss));
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => eprintln!("watch error (retrying): {e}"),
                None => bail!("the SealedSecret watch ended"),
            },
            _ = poll.tick() => {
                controller.assert_running();
                peak_rss_kib = peak_rss_kib.max(vm_hwm_kib(pid).unwrap_or(0));
                let all_synced = synced.values().all(|s| *s);
                let done = if name == "cold" {
                    all_synced
                } else {
                    let m = controller.metrics().await;
                    all_synced
                        && m.sum("sealed_secrets_controller_unseal_requests_total", &[])
                            .unwrap_or(0.0)
                            >= args.count as f64
                };
                if done {
                    break started.elapsed();
                }
                if Instant::now() > deadline {
                    let n = synced.values().filter(|s| **s).count();
                    bail!("{name}: only {n} of {} Synced after {PHASE_TIMEOUT:?}", args.count);
                }
            }
        }
    };
    let m: Metrics = controller.metrics().await;
    let after_scrape = apiserver_metrics(client).await?;
    let after = apiserver_requests(&after_scrape);
    let secret_bytes = secret_bytes_served(&after_scrape) - secret_bytes_before;
    peak_rss_kib = peak_rss_kib.max(vm_hwm_kib(pid).unwrap_or(0));
    let reconciles = m
        .sum("sealed_secrets_controller_unseal_requests_total", &[])
        .unwrap_or(f64::NAN);
    let decryptions = match &args.go_controller {
        Some(_) => reconciles * args.values as f64,
        None => m
            .sum("sealed_secrets_controller_rsa_decryptions_total", &[])
            .unwrap_or(f64::NAN),
    };
    let cpu = cpu_time(pid);
    let server_cpu = servers_cpu(&args.server_pidfiles)?
        .zip(server_cpu_before)
        .map(|(after, before)| after.saturating_sub(before));
    let status = controller.stop();
    if !status.success() {
        bail!("the {name} controller exited {status}");
    }
    let mut requests = BTreeMap::new();
    for (k, v) in &after {
        let d = v - before.get(k).copied().unwrap_or(0.0);
        if d > 0.0 {
            requests.insert(k.clone(), d);
        }
    }
    // The "after" scrape itself is counted by the time the next one would see it; the
    // "before" scrape is in `after`: take it out.
    if let Some(v) = requests.get_mut(&("GET".to_owned(), "/metrics".to_owned())) {
        *v -= 1.0;
    }
    let phase = Phase {
        name,
        elapsed,
        ready,
        decryptions,
        reconciles,
        peak_rss_kib,
        cpu,
        server_cpu,
        requests,
        secret_bytes,
    };
    println!(
        "{name}: done in {:.2} s ({:.0} reconciles, {:.0} RSA decryptions)",
        phase.elapsed.as_secs_f64(),
        phase.reconciles,
        phase.decryptions
    );
    Ok(phase)
}

fn object_key(ss: &SealedSecret) -> String {
    format!(
        "{}/{}",
        ss.metadata.namespace.as_deref().unwrap_or_default(),
        ss.metadata.name.as_deref().unwrap_or_default()
    )
}

fn is_synced(ss: &SealedSecret) -> bool {
    synced_condition(ss).is_some_and(|c| c.status == "True")
}

/// `VmHWM` (peak resident set) of a process, in KiB.
fn vm_hwm_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

/// User + system CPU time of a process (`/proc/<pid>/stat` fields 14 and 15, in
/// clock ticks; 100 per second on Linux).
fn cpu_time(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(Duration::from_millis((utime + stime) * 10))
}

/// Summed CPU time of the processes named by `pidfiles` (`None` when there are none).
fn servers_cpu(pidfiles: &[PathBuf]) -> anyhow::Result<Option<Duration>> {
    if pidfiles.is_empty() {
        return Ok(None);
    }
    let mut total = Duration::ZERO;
    for file in pidfiles {
        let text =
            std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
        let pid: u32 = text
            .trim()
            .parse()
            .with_context(|| format!("{} holds no pid", file.display()))?;
        total += cpu_time(pid).with_context(|| format!("no process {pid} ({})", file.display()))?;
    }
    Ok(Some(total))
}

/// One scrape of the API server's own `/metrics` (a phase takes one before and one
/// after; the request counts below take the first out).
async fn apiserver_metrics(client: &Client) -> anyhow::Result<Metrics> {
    let req = http::Request::get("/metrics")
        .body(Vec::new())
        .expect("a GET request builds");
    let text = client
        .request_text(req)
        .await
        .context("GET /metrics from the API server (needs the metrics nonResourceURL)")?;
    Ok(Metrics::new(text))
}

/// Bytes of Secrets the API server has sent to all clients so far: the sums of its
/// response-size (list, get) and watch-event-size histograms for `secrets`.
fn secret_bytes_served(metrics: &Metrics) -> f64 {
    let mut total = 0.0;
    for name in [
        "apiserver_response_sizes_sum",
        "apiserver_watch_events_sizes_sum",
    ] {
        for (labels, value) in metrics.samples(name) {
            if labels
                .iter()
                .any(|(k, v)| k == "resource" && v == "secrets")
            {
                total += value;
            }
        }
    }
    total
}

/// `apiserver_request_total`, summed by verb and resource (with subresource);
/// non-resource requests by path.
fn apiserver_requests(metrics: &Metrics) -> BTreeMap<(String, String), f64> {
    let mut by = BTreeMap::new();
    for (labels, value) in metrics.samples("apiserver_request_total") {
        let get = |k: &str| {
            labels
                .iter()
                .find(|(lk, _)| lk == k)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        let mut resource = get("resource");
        if resource.is_empty() {
            resource = "(non-resource)".to_owned();
        }
        let sub = get("subresource");
        if !sub.is_empty() {
            resource = format!("{resource}/{sub}");
        }
        *by.entry((get("verb"), resource)).or_insert(0.0) += value;
    }
    by
}

async fn create_namespace(client: &Client, prefix: &str, run_id: &str) -> anyhow::Result<String> {
    RUN_ID.get_or_init(|| run_id.to_owned());
    let ns = Namespace {
        metadata: ObjectMeta {
            generate_name: Some(prefix.to_owned()),
            labels: Some(BTreeMap::from([
                (
                    "app.kubernetes.io/part-of".to_owned(),
                    e2e::FIELD_MANAGER.to_owned(),
                ),
                (RUN_LABEL.to_owned(), run_id.to_owned()),
            ])),
            ..ObjectMeta::default()
        },
        ..Namespace::default()
    };
    let created = Api::<Namespace>::all(client.clone())
        .create(&PostParams::default(), &ns)
        .await
        .context("creating a namespace")?;
    created
        .metadata
        .name
        .context("a created namespace has a name")
}

/// Deletes a namespace's SealedSecrets and Secrets, then the namespace: a bare API
/// server has no garbage collector or namespace controller to do it.
async fn delete_namespace_contents(client: &Client, ns: &str) -> anyhow::Result<()> {
    let dp = DeleteParams::background();
    let lp = ListParams::default();
    Api::<SealedSecret>::namespaced(client.clone(), ns)
        .delete_collection(&dp, &lp)
        .await
        .context("deleting SealedSecrets")?;
    Api::<Secret>::namespaced(client.clone(), ns)
        .delete_collection(&dp, &lp)
        .await
        .context("deleting Secrets")?;
    match Api::<Namespace>::all(client.clone()).delete(ns, &dp).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(e)) if e.code == 404 => Ok(()),
        Err(e) => Err(e).context("deleting the namespace"),
    }
}

fn report(args: &Args, phases: &[Phase]) {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    println!();
    println!(
        "{} SealedSecrets x {} values, {} namespaces, {cores} cores; targets: cold <= 30 s, \
         warm 0 decryptions and <= 10 s, RSS <= 100 MB",
        args.count, args.values, args.namespaces
    );
    println!(
        "| start | until done | until /healthz | reconciles | RSA decryptions | peak RSS | controller CPU | server CPU | cores busy | API requests (secrets, sealedsecrets, events) | Secret bytes served |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    for p in phases {
        let seconds = |d: Option<Duration>| {
            d.map_or_else(|| "?".to_owned(), |c| format!("{:.1} s", c.as_secs_f64()))
        };
        // Of the machine's cores, how many the controller and the servers kept busy.
        let busy = p.cpu.zip(p.server_cpu).map_or_else(
            || "?".to_owned(),
            |(c, s)| format!("{:.2}", (c + s).as_secs_f64() / p.elapsed.as_secs_f64()),
        );
        println!(
            "| {} | {:.2} s | {:.2} s | {:.0} | {:.0} | {:.1} MB | {} | {} | {busy} | {:.0} | {:.2} MB |",
            p.name,
            p.elapsed.as_secs_f64(),
            p.ready.as_secs_f64(),
            p.reconciles,
            p.decryptions,
            p.peak_rss_kib as f64 / 1024.0,
            seconds(p.cpu),
            seconds(p.server_cpu),
            p.total_requests(),
            p.secret_bytes / 1e6
        );
    }
    for p in phases {
        println!();
        println!(
            "API requests during the {} start, by verb and resource:",
            p.name
        );
        let mut rows: Vec<_> = p.requests.iter().collect();
        rows.sort_by(|a, b| b.1.total_cmp(a.1));
        for ((verb, resource), n) in rows {
            println!("  {verb:<8} {resource:<28} {n:>8.0}");
        }
    }
}
