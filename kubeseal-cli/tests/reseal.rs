//! `kubeseal reseal` offline on the fixture trees in `tests/data/reseal/` (see its
//! README): what is rewritten, what stays byte for byte, golden output, `--check`
//! exit statuses, and failures that stay confined to their document.
#![allow(clippy::unwrap_used)] // test helpers: a failed unwrap is a failed test

mod common;

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use common::kubeseal;
use predicates::prelude::*;
use serde::Deserialize as _;
use tempfile::TempDir;

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/reseal")
        .join(name)
}

fn key(name: &str) -> String {
    data("keys").join(name).display().to_string()
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// A scratch copy of a fixture tree.
fn scratch(tree: &str) -> TempDir {
    let dir = TempDir::new().unwrap();
    copy_tree(&data(tree), dir.path());
    dir
}

fn files(root: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push((
                    p.strip_prefix(root).unwrap().to_path_buf(),
                    std::fs::read(&p).unwrap(),
                ));
            }
        }
    }
    out.sort();
    out
}

/// Every SealedSecret object in a file (top level or in a List), as JSON values.
fn sealed_secrets(text: &str) -> Vec<serde_json::Value> {
    let docs: Vec<serde_json::Value> = if text.trim_start().starts_with('{') {
        serde_json::Deserializer::from_str(text)
            .into_iter()
            .collect::<Result<_, _>>()
            .unwrap()
    } else {
        serde_yaml_ng::Deserializer::from_str(text)
            .map(serde_json::Value::deserialize)
            .collect::<Result<_, _>>()
            .unwrap()
    };
    let mut out = Vec::new();
    for d in docs {
        if d["kind"] == "SealedSecret" {
            out.push(d);
        } else if let Some(items) = d["items"].as_array() {
            out.extend(
                items
                    .iter()
                    .filter(|i| i["kind"] == "SealedSecret")
                    .cloned(),
            );
        }
    }
    out
}

/// The Secret a SealedSecret unseals to with exactly `keys`, or `None`.
fn unseal(ss: &serde_json::Value, keys: &str) -> Option<serde_json::Value> {
    let out = kubeseal()
        .args(["--recovery-unseal", "--recovery-private-key", keys])
        .write_stdin(serde_json::to_vec(ss).unwrap())
        .output()
        .unwrap();
    out.status
        .success()
        .then(|| serde_json::from_slice(&out.stdout).unwrap())
}

/// `secret` without the fingerprint annotation, which a re-sealed template carries
/// (as the Secret made from it does) naming the new key; `None` stays `None`.
fn but_fingerprint(secret: Option<serde_json::Value>) -> Option<serde_json::Value> {
    let mut secret = secret?;
    let meta = secret["metadata"].as_object_mut().unwrap();
    if let Some(a) = meta.get_mut("annotations").and_then(|a| a.as_object_mut()) {
        a.remove(FINGERPRINT);
        if a.is_empty() {
            meta.remove("annotations");
        }
    }
    Some(secret)
}

const FINGERPRINT: &str = "sealed-secrets-rs.io/key-fingerprint";

/// Replaces every ciphertext by `<sealed>` so output can be compared with a golden file.
fn normalized(text: &str) -> String {
    let mut text = text.to_owned();
    for ss in sealed_secrets(&text.clone()) {
        for v in ss["spec"]["encryptedData"].as_object().unwrap().values() {
            text = text.replace(v.as_str().unwrap(), "<sealed>");
        }
    }
    text
}

fn offline(dir: &Path) -> Command {
    let mut cmd = kubeseal();
    cmd.args([
        "reseal",
        "--cert",
        &key("new.crt"),
        "--recovery-private-key",
    ])
    .arg(format!("{},{}", key("old.key"), key("older.key")))
    .arg("--recovery-private-key")
    .arg(key("new.key"))
    .arg(dir);
    cmd
}

const GOLDEN: [&str; 6] = [
    "app/secrets.yaml",
    "app/go-sealed.yml",
    "app/current.yaml",
    "json/sealed.json",
    "json/go.json",
    "list.yaml",
];

#[test]
fn reseal_tree_offline_rewrites_only_sealed_secrets() {
    let dir = scratch("tree");
    let before = files(dir.path());
    offline(dir.path())
        .assert()
        .success()
        .stdout("")
        .stderr(predicate::str::is_match(
            r"^reseal: 7 SealedSecrets in 7 files: 6 re-sealed, 1 already current, 0 failed; 5 files rewritten \(\d+\.\d\ds\)\n$",
        ).unwrap());
    let after = files(dir.path());
    assert_eq!(
        before.iter().map(|(p, _)| p).collect::<Vec<_>>(),
        after.iter().map(|(p, _)| p).collect::<Vec<_>>(),
        "no file added or removed (no temp files left)"
    );
    let new_fp = std::fs::read_to_string(data("keys/new.fingerprint")).unwrap();
    for ((path, old), (_, new)) in before.iter().zip(&after) {
        let name = path.to_string_lossy().to_string();
        if !GOLDEN.contains(&name.as_str()) {
            assert_eq!(old, new, "{name} is not touched");
            continue;
        }
        let (old, new) = (
            String::from_utf8(old.clone()).unwrap(),
            String::from_utf8(new.clone()).unwrap(),
        );
        let golden_path = data("golden").join(&name);
        if std::env::var_os("KUBESEAL_UPDATE_GOLDEN").is_some() {
            std::fs::create_dir_all(golden_path.parent().unwrap()).unwrap();
            std::fs::write(&golden_path, normalized(&new)).unwrap();
        }
        let golden = std::fs::read_to_string(&golden_path).unwrap();
        assert_eq!(normalized(&new), golden, "{name} matches its golden file");
        let (old_ss, new_ss) = (sealed_secrets(&old), sealed_secrets(&new));
        assert_eq!(old_ss.len(), new_ss.len());
        for (o, n) in old_ss.iter().zip(&new_ss) {
            assert_eq!(n["metadata"]["annotations"][FINGERPRINT], new_fp.trim());
            if o != n {
                // Re-sealed (app/current.yaml is not: it predates the template copy).
                assert_eq!(
                    n["spec"]["template"]["metadata"]["annotations"][FINGERPRINT],
                    new_fp.trim(),
                    "{name}: in the template too"
                );
            }
            let was = unseal(
                o,
                &format!("{},{},{}", key("old.key"), key("older.key"), key("new.key")),
            )
            .unwrap();
            let now = unseal(n, &key("new.key")).unwrap();
            assert_eq!(
                but_fingerprint(Some(now)),
                but_fingerprint(Some(was)),
                "{name}: same Secret, now under the new key"
            );
        }
    }

    // Now everything is current, by annotation and by trial; a second run is a no-op.
    kubeseal()
        .args(["reseal", "--check", "--cert", &key("new.crt")])
        .arg(dir.path())
        .assert()
        .success()
        .stdout("");
    kubeseal()
        .args([
            "reseal",
            "--check",
            "--cert",
            &key("new.crt"),
            "--recovery-private-key",
            &key("new.key"),
        ])
        .arg(dir.path())
        .assert()
        .success()
        .stderr(predicate::str::starts_with(
            "reseal --check: 7 SealedSecrets in 7 files: 7 current, 0 need re-sealing, 0 failed",
        ));
    offline(dir.path())
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "0 re-sealed, 7 already current, 0 failed; 0 files rewritten",
        ));
    assert_eq!(files(dir.path()), after);
}

#[test]
fn check_reports_what_needs_resealing_and_changes_nothing() {
    let dir = scratch("tree");
    let before = files(dir.path());
    // Certificate only: by annotation; Go-sealed ones cannot tell and count as stale.
    let out = kubeseal()
        .args(["reseal", "--check", "--cert", &key("new.crt")])
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(predicate::str::starts_with(
            "reseal --check: 7 SealedSecrets in 7 files: 1 current, 6 need re-sealing, 0 failed",
        ));
    let stdout = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert_eq!(stdout.lines().count(), 6, "{stdout}");
    assert!(stdout.contains("app/go-sealed.yml: apps/legacy (no key fingerprint annotation; pass --recovery-private-key to check by trial)"), "{stdout}");
    assert!(
        stdout.contains("app/secrets.yaml: apps/db (sealed with SHA256:"),
        "{stdout}"
    );
    // Private keys: by trial.
    kubeseal()
        .args([
            "reseal",
            "--check",
            "--cert",
            &key("new.crt"),
            "--recovery-private-key",
        ])
        .arg(format!(
            "{},{},{}",
            key("old.key"),
            key("older.key"),
            key("new.key")
        ))
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(predicate::str::starts_with(
            "reseal --check: 7 SealedSecrets in 7 files: 1 current, 6 need re-sealing, 0 failed",
        ));
    assert_eq!(files(dir.path()), before);
}

/// A Go controller's `/v1/rotate` reply keeps the template's copy of the annotation as
/// it was sent and drops the top-level one. That copy alone is only a hint: here it
/// names the newest key, the values are sealed with an old one, and the document must
/// still be re-sealed.
#[test]
fn a_template_copy_alone_never_makes_a_document_current() {
    let new_fp = std::fs::read_to_string(data("keys/new.fingerprint")).unwrap();
    let new_fp = new_fp.trim();
    let text = std::fs::read_to_string(data("tree/app/secrets.yaml")).unwrap();
    let mut doc = sealed_secrets(&text).remove(0);
    let old_fp = doc["metadata"]["annotations"][FINGERPRINT].clone();
    doc["metadata"]
        .as_object_mut()
        .unwrap()
        .remove("annotations");
    doc["spec"]["template"]["metadata"]["annotations"] = serde_json::json!({FINGERPRINT: new_fp});
    let dir = TempDir::new().unwrap();
    let file = dir.path().join("rotated.json");
    std::fs::write(&file, serde_json::to_string_pretty(&doc).unwrap()).unwrap();
    let keys = format!("{},{}", key("old.key"), key("new.key"));

    kubeseal()
        .args(["reseal", "--check", "--cert", &key("new.crt")])
        .arg(dir.path())
        .assert()
        .code(2)
        .stdout(predicate::str::contains(
            "apps/db (no key fingerprint annotation",
        ));
    kubeseal()
        .args([
            "reseal",
            "--check",
            "--cert",
            &key("new.crt"),
            "--recovery-private-key",
            &keys,
        ])
        .arg(dir.path())
        .assert()
        .code(2)
        .stdout(predicate::str::contains(format!(
            "apps/db (sealed with {})",
            old_fp.as_str().unwrap()
        )));
    kubeseal()
        .args([
            "reseal",
            "--cert",
            &key("new.crt"),
            "--recovery-private-key",
            &keys,
        ])
        .arg(dir.path())
        .assert()
        .success()
        .stderr(predicate::str::contains("1 re-sealed, 0 already current"));
    let n = sealed_secrets(&std::fs::read_to_string(&file).unwrap()).remove(0);
    assert_eq!(n["metadata"]["annotations"][FINGERPRINT], new_fp);
    assert_eq!(
        n["spec"]["template"]["metadata"]["annotations"][FINGERPRINT],
        new_fp
    );
    assert!(
        unseal(&n, &key("new.key")).is_some(),
        "now sealed with the new key"
    );
}

#[test]
fn failures_stay_in_their_document() {
    let dir = scratch("broken");
    let before = files(dir.path());
    let out = offline(dir.path())
        .assert()
        .code(1)
        .stderr(predicate::str::contains("2 failed; 1 files rewritten"));
    let stderr = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    assert!(
        stderr.contains("bad.yaml: document 1: cannot parse"),
        "{stderr}"
    );
    assert!(
        stderr.contains("lost.yaml: apps/lost: no key could decrypt secret (token)"),
        "{stderr}"
    );
    let after = files(dir.path());
    for ((path, old), (_, new)) in before.iter().zip(&after) {
        if path.ends_with("good.yaml") {
            assert_ne!(old, new);
        } else {
            assert_eq!(old, new, "{} untouched", path.display());
        }
    }
    kubeseal()
        .args([
            "reseal",
            "--check",
            "--cert",
            &key("new.crt"),
            "--recovery-private-key",
            &key("new.key"),
        ])
        .arg(dir.path())
        .assert()
        .code(1);
}

#[test]
fn usage_errors() {
    kubeseal()
        .args(["reseal", "--recovery-private-key", &key("old.key"), "."])
        .assert()
        .code(1)
        .stderr(predicate::str::starts_with(
            "error: offline re-sealing needs --cert",
        ));
    kubeseal()
        .args(["reseal", "--cert", &key("new.crt"), "/nonexistent/tree"])
        .assert()
        .code(1)
        .stderr("error: open /nonexistent/tree: no such file or directory\n");
    // No PATH: a command line that does not parse, exit 2 as every flag error.
    kubeseal().arg("reseal").assert().code(2);
}

#[test]
fn re_encrypt_offline() {
    let text = std::fs::read_to_string(data("tree/app/go-sealed.yml")).unwrap();
    let out = kubeseal()
        .args([
            "--re-encrypt",
            "-o",
            "yaml",
            "--cert",
            &key("new.crt"),
            "--recovery-private-key",
            &key("older.key"),
        ])
        .write_stdin(text.clone())
        .assert()
        .success();
    let new = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    let (o, n) = (&sealed_secrets(&text)[0], &sealed_secrets(&new)[0]);
    assert_eq!(
        but_fingerprint(unseal(n, &key("new.key"))),
        but_fingerprint(unseal(o, &key("older.key")))
    );
    assert!(unseal(o, &key("older.key")).is_some());
    kubeseal()
        .args(["--re-encrypt", "--recovery-private-key", &key("older.key")])
        .write_stdin(text)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("also needs --cert"));
}

#[cfg(unix)]
#[test]
fn named_twice_symlinks_and_modes() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = scratch("tree");
    let file = dir.path().join("app/secrets.yaml");
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o640)).unwrap();
    let link = dir.path().join("link.yml");
    std::os::unix::fs::symlink(&file, &link).unwrap();
    kubeseal()
        .args(["reseal", "--cert", &key("new.crt"), "--recovery-private-key", &key("old.key")])
        .arg(&file)
        .arg(&link)
        .arg(dir.path().join("app"))
        .assert()
        .code(1) // go-sealed.yml needs the older key, not given
        .stderr(predicate::str::contains(
            "3 SealedSecrets in 3 files: 1 re-sealed, 1 already current, 1 failed; 1 files rewritten",
        ));
    assert!(link.is_symlink(), "the link is kept, its target rewritten");
    let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o640);
    let ss = sealed_secrets(&std::fs::read_to_string(&file).unwrap());
    assert!(unseal(&ss[0], &key("new.key")).is_some());
}
