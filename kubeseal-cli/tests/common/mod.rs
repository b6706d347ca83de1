//! What every kubeseal test file shares.
#![allow(clippy::unwrap_used)] // test helpers: a failed unwrap is a failed test

use assert_cmd::Command;

/// The `kubeseal` binary cut off from this machine's setup: no kubeconfig, no
/// in-cluster service, no home directory, no `SEALED_SECRETS_*` or `SOPS_AGE_*`
/// variables, so a test sees only the flags and environment it sets itself.
pub fn kubeseal() -> Command {
    let mut cmd = Command::cargo_bin("kubeseal").unwrap();
    cmd.env_remove("KUBECONFIG")
        .env_remove("KUBERNETES_SERVICE_HOST")
        .env("HOME", "/nonexistent");
    for (k, _) in std::env::vars() {
        if k.starts_with("SEALED_SECRETS_") || k.starts_with("SOPS_AGE_") {
            cmd.env_remove(k);
        }
    }
    cmd
}
