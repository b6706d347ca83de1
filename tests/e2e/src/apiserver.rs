//! Restarting the test API server's `kube-apiserver` process (etcd and its data stay),
//! for the fault tests. The process is found through its pid file
//! (`SEALED_SECRETS_TEST_APISERVER_PIDFILE`, e.g. `/tmp/kube-apiserver-7443/apiserver.pid`
//! as written by `apiserver.sh start`), and started again with the same command line
//! and environment, read from `/proc`.

use std::fs::OpenOptions;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use kube::Client;

use crate::{TIMEOUT, wait_for};

/// Environment variable naming the kube-apiserver's pid file.
pub const PIDFILE_ENV: &str = "SEALED_SECRETS_TEST_APISERVER_PIDFILE";

/// A restartable kube-apiserver.
pub struct ApiServer {
    pidfile: PathBuf,
}

impl ApiServer {
    /// The API server named by [`PIDFILE_ENV`], or `None` (after printing why).
    pub fn from_env() -> Option<ApiServer> {
        match std::env::var_os(PIDFILE_ENV).filter(|v| !v.is_empty()) {
            Some(p) => Some(ApiServer {
                pidfile: PathBuf::from(p),
            }),
            None => {
                crate::skip_or_fail(&format!(
                    "{PIDFILE_ENV} is not set (the kube-apiserver to restart)"
                ));
                None
            }
        }
    }

    fn pid(&self) -> u32 {
        let text = std::fs::read_to_string(&self.pidfile)
            .unwrap_or_else(|e| panic!("reading {}: {e}", self.pidfile.display()));
        text.trim()
            .parse()
            .unwrap_or_else(|e| panic!("pid file {}: {e}", self.pidfile.display()))
    }

    /// Stops the kube-apiserver (SIGTERM, then SIGKILL), starts it again with the same
    /// arguments and environment, and waits until `client` gets an answer again.
    /// Returns how long the API was down.
    pub async fn restart(&self, client: &Client) -> Duration {
        let pid = self.pid();
        let proc_dir = PathBuf::from(format!("/proc/{pid}"));
        let split = |bytes: Vec<u8>| -> Vec<String> {
            bytes
                .split(|b| *b == 0)
                .filter(|s| !s.is_empty())
                .map(|s| String::from_utf8_lossy(s).into_owned())
                .collect()
        };
        let argv = split(std::fs::read(proc_dir.join("cmdline")).expect("the apiserver's cmdline"));
        let environ =
            split(std::fs::read(proc_dir.join("environ")).expect("the apiserver's environment"));
        let cwd = std::fs::read_link(proc_dir.join("cwd")).expect("the apiserver's cwd");
        let down = Instant::now();
        let _ = Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status();
        let gone = Instant::now() + Duration::from_secs(30);
        while proc_dir.exists() && Instant::now() < gone {
            std::thread::sleep(Duration::from_millis(100));
        }
        if proc_dir.exists() {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
            std::thread::sleep(Duration::from_millis(500));
        }
        let log_path = self.pidfile.with_file_name("apiserver.log");
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .unwrap_or_else(|e| panic!("opening {}: {e}", log_path.display()));
        let mut cmd = Command::new(&argv[0]);
        cmd.args(&argv[1..]).env_clear().current_dir(cwd);
        for kv in &environ {
            if let Some((k, v)) = kv.split_once('=') {
                cmd.env(k, v);
            }
        }
        let child = cmd
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("a second log handle"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("starting {} again: {e}", argv[0]));
        std::fs::write(&self.pidfile, format!("{}\n", child.id()))
            .unwrap_or_else(|e| panic!("writing {}: {e}", self.pidfile.display()));
        // It outlives the test (apiserver.sh stop ends it); reap it if it exits first.
        let mut child = child;
        std::thread::spawn(move || child.wait());
        wait_for("the restarted API server to answer", TIMEOUT, async || {
            client
                .apiserver_version()
                .await
                .map(|_| ())
                .map_err(|e| e.to_string())
        })
        .await;
        down.elapsed()
    }
}
