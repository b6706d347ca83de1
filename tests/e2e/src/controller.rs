//! A controller process owned by one test: started with its own namespace, addresses
//! and log file; stopped with SIGTERM (then SIGKILL) when dropped.

use std::fs::File;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::{TIMEOUT, binary, free_port, http, loopback, metrics, wait_for};

/// Extra controller flags for every test, whitespace-separated (e.g. `--log-level=debug`
/// while investigating a failure).
pub const EXTRA_ARGS_ENV: &str = "SEALED_SECRETS_TEST_CONTROLLER_ARGS";

fn extra_args_from_env() -> Vec<String> {
    std::env::var(EXTRA_ARGS_ENV)
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_owned)
        .collect()
}

/// glibc allocator settings passed through to the controller (for memory experiments
/// with the scale bench, e.g. `MALLOC_ARENA_MAX=2`); everything else is cleared.
fn allocator_env() -> Vec<(String, String)> {
    std::env::vars()
        .filter(|(k, _)| k.starts_with("MALLOC_") || k == "GLIBC_TUNABLES")
        .collect()
}

/// How long a controller gets to exit after SIGTERM before it is killed.
const GRACE: Duration = Duration::from_secs(30);

/// A running `controller`.
pub struct Controller {
    child: Mutex<Option<Child>>,
    exit: Option<ExitStatus>,
    /// `--listen-addr`.
    pub addr: SocketAddr,
    /// `--listen-metrics-addr`.
    pub metrics_addr: SocketAddr,
    /// Where its stdout and stderr go.
    pub log: PathBuf,
}

impl Controller {
    /// Starts the built controller for `namespace` on `127.0.0.host` (fresh ports) with
    /// `--all-namespaces=false --key-size 2048` and `extra_args`; the environment holds
    /// only `PATH`, `KUBECONFIG` and `POD_NAMESPACE`.
    pub fn spawn(
        kubeconfig: &Path,
        namespace: &str,
        host: u8,
        extra_args: &[&str],
        log: PathBuf,
    ) -> Controller {
        let mut args = vec!["--all-namespaces=false", "--key-size", "2048"];
        args.extend_from_slice(extra_args);
        Controller::spawn_with_args(kubeconfig, namespace, host, &args, log)
    }

    /// Like [`Controller::spawn`], but with only `args` (plus the listen addresses and
    /// [`EXTRA_ARGS_ENV`]): the controller's own defaults for everything else.
    pub fn spawn_with_args(
        kubeconfig: &Path,
        namespace: &str,
        host: u8,
        args: &[&str],
        log: PathBuf,
    ) -> Controller {
        Controller::spawn_with_args_from(
            &binary("controller"),
            kubeconfig,
            namespace,
            host,
            args,
            log,
        )
    }

    /// [`Controller::spawn_with_args`] of the controller binary `bin`.
    pub fn spawn_with_args_from(
        bin: &Path,
        kubeconfig: &Path,
        namespace: &str,
        host: u8,
        args: &[&str],
        log: PathBuf,
    ) -> Controller {
        let ip = loopback(host);
        let addr = SocketAddr::from((ip, free_port(host)));
        let metrics_addr = SocketAddr::from((ip, free_port(host)));
        let mut cmd = Command::new(bin);
        cmd.arg(format!("--listen-addr={addr}"))
            .arg(format!("--listen-metrics-addr={metrics_addr}"))
            .args(args)
            .args(extra_args_from_env())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("KUBECONFIG", kubeconfig)
            .env("POD_NAMESPACE", namespace)
            .envs(allocator_env());
        Controller::from_command(cmd, addr, metrics_addr, log)
    }

    /// Starts `cmd` (which must make a controller listen on `addr` and `metrics_addr`)
    /// with its output going to `log`.
    pub fn from_command(
        mut cmd: Command,
        addr: SocketAddr,
        metrics_addr: SocketAddr,
        log: PathBuf,
    ) -> Controller {
        let out = File::create(&log).unwrap_or_else(|e| panic!("creating {}: {e}", log.display()));
        let err = out.try_clone().expect("a second handle on the log file");
        let child = cmd
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("starting the controller {:?}: {e}", cmd.get_program()));
        Controller {
            child: Mutex::new(Some(child)),
            exit: None,
            addr,
            metrics_addr,
            log,
        }
    }

    /// Waits until `/healthz` answers 200 `ok`; fails early if the process exits.
    pub async fn wait_ready(&self) {
        wait_for(
            &format!("the controller to answer /healthz on {}", self.addr),
            TIMEOUT,
            async || {
                self.assert_running();
                let resp = http::get(self.addr, "/healthz").await?;
                if resp.status == 200 {
                    Ok(())
                } else {
                    Err(format!("HTTP {}", resp.status))
                }
            },
        )
        .await;
    }

    /// The process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        let child = self.child.lock().unwrap_or_else(PoisonError::into_inner);
        child.as_ref().map(Child::id)
    }

    /// Panics with the log's tail when the process has exited.
    pub fn assert_running(&self) {
        // Release the lock before panicking, so the drop can still stop the process.
        let exited = {
            let mut child = self.child.lock().unwrap_or_else(PoisonError::into_inner);
            child.as_mut().map(|c| c.try_wait().ok().flatten())
        };
        let Some(exited) = exited else {
            panic!("the controller was already stopped");
        };
        if let Some(status) = exited {
            panic!(
                "the controller exited ({status}); log {}:\n{}",
                self.log.display(),
                self.log_tail(60)
            );
        }
    }

    /// The last `lines` lines of the log.
    pub fn log_tail(&self, lines: usize) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    /// The whole log.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// `GET /v1/cert.pem`, requiring 200.
    pub async fn cert_pem(&self) -> Vec<u8> {
        let resp = http::get(self.addr, "/v1/cert.pem")
            .await
            .unwrap_or_else(|e| panic!("GET /v1/cert.pem: {e}"));
        assert_eq!(
            resp.status,
            200,
            "GET /v1/cert.pem: {}",
            String::from_utf8_lossy(&resp.body)
        );
        resp.body
    }

    /// Waits until `/v1/cert.pem` answers 200 (the controller has a key); returns it.
    pub async fn wait_cert(&self) -> Vec<u8> {
        wait_for(
            &format!("the controller on {} to serve /v1/cert.pem", self.addr),
            TIMEOUT,
            async || {
                self.assert_running();
                let resp = http::get(self.addr, "/v1/cert.pem").await?;
                if resp.status == 200 {
                    Ok(resp.body)
                } else {
                    Err(format!(
                        "HTTP {}: {}",
                        resp.status,
                        String::from_utf8_lossy(&resp.body)
                    ))
                }
            },
        )
        .await
    }

    /// `GET /metrics` as text, requiring 200.
    pub async fn metrics(&self) -> metrics::Metrics {
        let resp = http::get(self.metrics_addr, "/metrics")
            .await
            .unwrap_or_else(|e| panic!("GET /metrics: {e}"));
        assert_eq!(resp.status, 200, "GET /metrics");
        metrics::Metrics::new(String::from_utf8_lossy(&resp.body).into_owned())
    }

    /// SIGKILL: no shutdown at all (a crash, an OOM kill, a node lost). The log stays.
    pub fn kill(&mut self) -> ExitStatus {
        self.end_with(|child| {
            let _ = child.kill();
            child.wait().expect("waiting for a killed controller")
        })
    }

    /// SIGTERM, then SIGKILL after a grace period; returns how it exited (again on
    /// later calls).
    pub fn stop(&mut self) -> ExitStatus {
        self.end_with(terminate)
    }

    /// Ends the process once with `how`; later calls return the first exit status.
    fn end_with(&mut self, how: impl FnOnce(&mut Child) -> ExitStatus) -> ExitStatus {
        if let Some(status) = self.exit {
            return status;
        }
        let mut child = self
            .child
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
            .expect("a controller not yet stopped has its child");
        let status = how(&mut child);
        self.exit = Some(status);
        status
    }
}

fn terminate(child: &mut Child) -> ExitStatus {
    if let Ok(Some(status)) = child.try_wait() {
        return status;
    }
    // std only offers SIGKILL, and the workspace forbids `unsafe` (libc::kill).
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let deadline = Instant::now() + GRACE;
    while Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            return status;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    eprintln!(
        "controller pid {} ignored SIGTERM for {GRACE:?}; killing it",
        child.id()
    );
    let _ = child.kill();
    child.wait().expect("waiting for a killed child")
}

impl Drop for Controller {
    fn drop(&mut self) {
        if self.exit.is_none() {
            let _ = self.stop();
        }
    }
}
