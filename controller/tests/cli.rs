//! The binary's command line: version, help, and refusals before anything starts
//! (no cluster is contacted in any of these).
#![allow(clippy::unwrap_used)]

use assert_cmd::Command;
use predicates::prelude::*;

fn controller() -> Command {
    let mut cmd = Command::cargo_bin("controller").unwrap();
    // Never reach a real cluster from here.
    cmd.env_remove("KUBECONFIG").env("POD_NAMESPACE", "test");
    cmd
}

#[test]
fn version() {
    controller()
        .arg("--version")
        .assert()
        .success()
        .stdout(format!(
            "controller version: v{}\n",
            env!("CARGO_PKG_VERSION")
        ));
}

#[test]
fn help_lists_upstream_flags() {
    controller()
        .arg("--help")
        .assert()
        .success()
        .stdout(predicate::str::contains("--key-renew-period"))
        .stdout(predicate::str::contains("--listen-metrics-addr"));
}

#[test]
fn unknown_flag_is_refused_with_exit_1() {
    controller()
        .arg("--no-such-flag")
        .assert()
        .code(1)
        .stderr(predicate::str::contains("--no-such-flag"));
}

#[test]
fn malformed_values_are_refused_before_start() {
    controller()
        .args(["--key-renew-period", "30d"])
        .assert()
        .code(1)
        .stderr(predicate::str::starts_with("error: --key-renew-period"));
    controller()
        .env("SEALED_SECRETS_LOG_FORMAT", "xml")
        .assert()
        .code(1)
        .stderr(predicate::str::contains("text or json"));
}
