//! Running the built `kubeseal` (and, for the differential tests, the Go one).

use std::ffi::OsStr;
use std::path::Path;
use std::process::{Output, Stdio};
use std::time::Duration;

use tokio::io::AsyncWriteExt;

use crate::binary;

/// Bound on one run.
const RUN_TIMEOUT: Duration = Duration::from_secs(120);

/// Runs `kubeseal args` with `stdin`, in an environment holding only `PATH` (so no
/// ambient `KUBECONFIG` or `SEALED_SECRETS_*` setting leaks in; cluster tests pass
/// `--kubeconfig`).
pub async fn run<S: AsRef<OsStr>>(args: &[S], stdin: Option<&[u8]>) -> Output {
    run_program(&binary("kubeseal"), args, stdin, &[]).await
}

/// Runs `program args` with `stdin` in an environment holding only `PATH` and `env`
/// (our kubeseal, or a Go peer beside it).
pub async fn run_program<S: AsRef<OsStr>>(
    program: &Path,
    args: &[S],
    stdin: Option<&[u8]>,
    env: &[(&str, &str)],
) -> Output {
    let mut child = tokio::process::Command::new(program)
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .envs(env.iter().copied())
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("starting {}: {e}", program.display()));
    if let Some(bytes) = stdin {
        let mut pipe = child.stdin.take().expect("stdin is piped");
        // A program that exits without reading its input breaks the pipe; its exit
        // status and stderr then say why, so a write error is not a failure here.
        let _ = pipe.write_all(bytes).await;
        // Dropping the pipe closes it: the program reads to EOF.
    }
    tokio::time::timeout(RUN_TIMEOUT, child.wait_with_output())
        .await
        .unwrap_or_else(|_| {
            panic!(
                "{} did not finish within {RUN_TIMEOUT:?}",
                program.display()
            )
        })
        .unwrap_or_else(|e| panic!("waiting for {}: {e}", program.display()))
}
