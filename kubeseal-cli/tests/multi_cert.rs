//! Several `--cert`: one sealed output per certificate (one key per cluster).
#![allow(clippy::unwrap_used)] // test helpers: a failed unwrap is a failed test

mod common;

use std::path::{Path, PathBuf};

use common::kubeseal;
use predicates::prelude::*;

const SECRET: &str = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: app\nstringData:\n  password: hunter2\n";

fn key(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/reseal/keys")
        .join(name)
}

fn opens_with(sealed: &str, key_file: &str) -> bool {
    kubeseal()
        .arg("--recovery-unseal")
        .arg("--recovery-private-key")
        .arg(key(key_file))
        .write_stdin(sealed.to_owned())
        .output()
        .unwrap()
        .status
        .success()
}

#[test]
fn one_output_per_certificate() {
    let dir = tempfile::TempDir::new().unwrap();
    let out = dir.path().join("db.yaml");
    kubeseal()
        .arg("--cert")
        .arg(key("old.crt"))
        .arg("--cert")
        .arg(key("new.crt"))
        .arg("-w")
        .arg(&out)
        .write_stdin(SECRET)
        .assert()
        .success()
        .stdout("");
    let old = std::fs::read_to_string(dir.path().join("db-old.yaml")).unwrap();
    let new = std::fs::read_to_string(dir.path().join("db-new.yaml")).unwrap();
    assert!(old.starts_with("---\n") && new.starts_with("---\n"));
    assert!(opens_with(&old, "old.key") && !opens_with(&old, "new.key"));
    assert!(opens_with(&new, "new.key") && !opens_with(&new, "old.key"));
    assert!(!out.exists());

    // On stdout, one after the other.
    let both = kubeseal()
        .arg("--cert")
        .arg(key("old.crt"))
        .arg("--cert")
        .arg(key("new.crt"))
        .write_stdin(SECRET)
        .assert()
        .success();
    let text = String::from_utf8(both.get_output().stdout.clone()).unwrap();
    assert_eq!(text.matches("\"kind\": \"SealedSecret\"").count(), 2);

    kubeseal()
        .arg("--cert")
        .arg(key("old.crt"))
        .arg("--cert")
        .arg(key("new.crt"))
        .args(["--raw", "--name", "a", "-n", "b"])
        .write_stdin("x")
        .assert()
        .code(1)
        .stderr(predicate::str::starts_with(
            "error: several --cert work only for plain sealing",
        ));
}
