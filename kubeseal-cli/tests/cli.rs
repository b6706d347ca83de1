//! kubeseal end to end: each flag, each bad input, exact stderr and exit status.
#![allow(clippy::unwrap_used)] // test helpers: a failed unwrap is a failed test

mod common;

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use common::kubeseal;
use predicates::prelude::*;
use tempfile::TempDir;

const SECRET: &str = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: app\n  annotations:\n    kubectl.kubernetes.io/last-applied-configuration: '{\"data\":{\"password\":\"leak\"}}'\nstringData:\n  password: hunter2\n";

fn testdata(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../crates/sealed-secrets-core/testdata")
        .join(name)
}

/// A key pair made by `kubeseal keygen` (2048-bit to keep tests fast).
struct Keys {
    dir: TempDir,
}

impl Keys {
    fn new() -> Self {
        let dir = TempDir::new().unwrap();
        kubeseal()
            .args(["keygen", "--key-size", "2048", "--key-out"])
            .arg(dir.path().join("tls.key"))
            .arg("--cert-out")
            .arg(dir.path().join("tls.crt"))
            .assert()
            .success();
        Keys { dir }
    }
    fn cert(&self) -> PathBuf {
        self.dir.path().join("tls.crt")
    }
    fn key(&self) -> PathBuf {
        self.dir.path().join("tls.key")
    }
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

fn seal(keys: &Keys, args: &[&str], input: &str) -> String {
    let out = kubeseal()
        .arg("--cert")
        .arg(keys.cert())
        .args(args)
        .write_stdin(input)
        .assert()
        .success();
    String::from_utf8(out.get_output().stdout.clone()).unwrap()
}

fn unseal(keys: &Keys, sealed: &str) -> serde_json::Value {
    let out = kubeseal()
        .arg("--recovery-unseal")
        .arg("--recovery-private-key")
        .arg(keys.key())
        .write_stdin(sealed)
        .assert()
        .success();
    serde_json::from_slice(&out.get_output().stdout).unwrap()
}

/// Runs `--recovery-unseal` with `key`, expects exit 1 and nothing on stdout, returns stderr.
fn unseal_fails(key: &Path, sealed: &str) -> String {
    let out = kubeseal()
        .arg("--recovery-unseal")
        .arg("--recovery-private-key")
        .arg(key)
        .write_stdin(sealed.to_owned())
        .assert()
        .code(1)
        .stdout("");
    String::from_utf8(out.get_output().stderr.clone()).unwrap()
}

fn fails(cmd: &mut Command, stderr_starts: &str) {
    cmd.assert()
        .code(1)
        .stdout("")
        .stderr(predicate::str::starts_with(format!(
            "error: {stderr_starts}"
        )));
}

#[test]
fn version_and_help() {
    kubeseal()
        .arg("--version")
        .assert()
        .success()
        .stdout(predicate::str::is_match(r"^kubeseal version: v\d+\.\d+\.\d+\n$").unwrap());
    kubeseal()
        .arg("--help")
        .assert()
        .success()
        .stdout(predicate::str::contains("--recovery-private-key"));
}

/// Upstream's `/v1/rotate` rewrites a SealedSecret's template from its top-level
/// metadata unless the two are equal (Go `reflect.DeepEqual` on `ObjectMeta`), as they
/// are in Go kubeseal's output for a Secret without labels or annotations of its own.
#[test]
fn plain_secret_top_level_metadata_equals_the_template_metadata() {
    let keys = Keys::new();
    let fingerprint = {
        let out = kubeseal()
            .args(["keygen", "--key-size", "2048", "--key-out"])
            .arg(keys.path("k2.key"))
            .arg("--cert-out")
            .arg(keys.path("k2.crt"))
            .assert()
            .success();
        let stderr = String::from_utf8(out.get_output().stderr.clone()).unwrap();
        stderr
            .rsplit_once("(key ")
            .and_then(|(_, fp)| fp.strip_suffix(")\n"))
            .unwrap()
            .to_owned()
    };
    let plain = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: app\n  creationTimestamp: null\ndata:\n  password: aHVudGVyMg==\n";
    let cert = keys.path("k2.crt");
    for (format, extra) in [
        ("json", &[][..]),
        ("yaml", &[][..]),
        ("yaml", &["--scope", "namespace-wide"][..]),
        ("json", &["--scope", "cluster-wide"][..]),
    ] {
        let mut args = vec!["--cert", cert.to_str().unwrap(), "-o", format];
        args.extend(extra);
        let out = kubeseal().args(&args).write_stdin(plain).assert().success();
        let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
        let ss: serde_json::Value = serde_yaml_ng::from_str(&text).unwrap();
        // Equal as JSON values: the same fields on both sides, not only equal to Go.
        assert_eq!(
            ss["metadata"], ss["spec"]["template"]["metadata"],
            "{format} {extra:?}:\n{text}"
        );
        assert_eq!(
            ss["metadata"]["annotations"]["sealed-secrets-rs.io/key-fingerprint"],
            fingerprint.as_str(),
            "{format} {extra:?}"
        );
        let fields: Vec<&String> = ss["metadata"].as_object().unwrap().keys().collect();
        assert_eq!(
            fields,
            ["annotations", "name", "namespace"],
            "{format} {extra:?}"
        );
    }
}

#[test]
fn seal_json_by_default_and_round_trip() {
    let keys = Keys::new();
    let out = seal(&keys, &[], SECRET);
    let ss: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(out.starts_with(
        "{\n  \"apiVersion\": \"bitnami.com/v1alpha1\",\n  \"kind\": \"SealedSecret\","
    ));
    assert_eq!(ss["metadata"]["name"], "db");
    assert!(
        ss["metadata"]["annotations"]["sealed-secrets-rs.io/key-fingerprint"]
            .as_str()
            .unwrap()
            .starts_with("SHA256:")
    );
    assert_eq!(
        ss["spec"]["template"]["metadata"]["annotations"], ss["metadata"]["annotations"],
        "last-applied stripped; the fingerprint in both places"
    );
    assert!(!out.contains("leak") && !out.contains("hunter2"));
    let secret = unseal(&keys, &out);
    assert_eq!(secret["data"]["password"], "aHVudGVyMg==");
    assert_eq!(
        secret["metadata"]["ownerReferences"][0]["kind"],
        "SealedSecret"
    );
}

#[test]
fn yaml_output_multi_document_and_w_file() {
    let keys = Keys::new();
    let two = format!("{SECRET}---\n{}", SECRET.replace("name: db", "name: db2"));
    let out = seal(&keys, &["--format=yaml"], &two);
    assert!(out.starts_with("---\napiVersion: bitnami.com/v1alpha1\n"));
    assert_eq!(out.matches("kind: SealedSecret").count(), 2);
    let target = keys.path("out.yaml");
    kubeseal()
        .arg("--cert")
        .arg(keys.cert())
        .arg("-w")
        .arg(&target)
        .write_stdin(SECRET)
        .assert()
        .success()
        .stdout("");
    assert!(
        std::fs::read_to_string(&target)
            .unwrap()
            .starts_with("---\n")
    );
}

#[test]
fn failed_seal_leaves_existing_output_untouched() {
    let keys = Keys::new();
    let target = keys.path("out.json");
    std::fs::write(&target, "precious").unwrap();
    fails(
        kubeseal()
            .arg("--cert")
            .arg(keys.cert())
            .arg("-w")
            .arg(&target)
            .write_stdin("kind: Secret\nmetadata:\n  name: x\n"),
        "secret.data is empty in input Secret",
    );
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "precious");
}

#[test]
fn scopes_and_renames() {
    let keys = Keys::new();
    let strict = seal(&keys, &[], SECRET);
    let mut moved: serde_json::Value = serde_json::from_str(&strict).unwrap();
    moved["metadata"]["namespace"] = "other".into();
    let moved = moved.to_string();
    let stderr = unseal_fails(&keys.key(), &moved);
    assert!(
        stderr.starts_with("error: no key could decrypt secret (password)\n"),
        "{stderr}"
    );
    assert!(
        stderr.contains("hint: the value was sealed for app/db with strict scope"),
        "{stderr}"
    );

    let wide = seal(&keys, &["--scope", "cluster-wide"], SECRET);
    let renamed = wide.replace("\"name\": \"db\"", "\"name\": \"renamed\"");
    assert_eq!(unseal(&keys, &renamed)["metadata"]["name"], "renamed");

    let ns_wide = seal(&keys, &["--scope", "namespace-wide"], SECRET);
    let mut dropped: serde_json::Value = serde_json::from_str(&ns_wide).unwrap();
    dropped["metadata"]["annotations"]
        .as_object_mut()
        .unwrap()
        .remove("sealedsecrets.bitnami.com/namespace-wide");
    let dropped = dropped.to_string();
    let stderr = unseal_fails(&keys.key(), &dropped);
    assert!(
        stderr.contains("lacks the annotation sealedsecrets.bitnami.com/namespace-wide"),
        "{stderr}"
    );
}

#[test]
fn wrong_key_is_explained_by_fingerprint() {
    let keys = Keys::new();
    let sealed = seal(&keys, &[], SECRET);
    let stderr = unseal_fails(&testdata("key-a.pem"), &sealed);
    assert!(
        stderr.starts_with("error: no key could decrypt secret (password)"),
        "{stderr}"
    );
    assert!(
        stderr.contains("which is not among the given private keys"),
        "{stderr}"
    );
}

#[test]
fn raw_mode() {
    let keys = Keys::new();
    let value = keys.path("v.txt");
    std::fs::write(&value, "s3cret").unwrap();
    let out = kubeseal()
        .arg("--cert")
        .arg(keys.cert())
        .args(["--raw", "--namespace", "app", "--name", "db", "--from-file"])
        .arg(format!("password={}", value.display()))
        .assert()
        .success();
    let raw = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(raw.starts_with("AQ") && !raw.ends_with('\n'));
    let ss = format!(
        r#"{{"kind":"SealedSecret","apiVersion":"bitnami.com/v1alpha1","metadata":{{"name":"db","namespace":"app"}},"spec":{{"encryptedData":{{"password":"{raw}"}}}}}}"#
    );
    assert_eq!(unseal(&keys, &ss)["data"]["password"], "czNjcmV0");

    fails(
        kubeseal()
            .arg("--cert")
            .arg(keys.cert())
            .args(["--raw", "--name", "x", "--namespace="])
            .write_stdin("v"),
        "must provide the --namespace flag with --raw and --scope strict",
    );
    fails(
        kubeseal()
            .arg("--cert")
            .arg(keys.cert())
            .args(["--raw", "-n", "x"])
            .write_stdin("v"),
        "must provide the --name flag with --raw and --scope strict",
    );
    fails(
        kubeseal()
            .arg("--cert")
            .arg(keys.cert())
            .args(["--from-file", "x"]),
        "--from-file requires --raw",
    );
}

#[test]
fn merge_into_keeps_the_file_format() {
    let keys = Keys::new();
    let target = keys.path("sealed.yaml");
    std::fs::write(&target, seal(&keys, &["-o", "yaml"], SECRET)).unwrap();
    let more =
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: ignored\nstringData:\n  user: admin\n";
    kubeseal()
        .arg("--cert")
        .arg(keys.cert())
        .arg("--merge-into")
        .arg(&target)
        .write_stdin(more)
        .assert()
        .success();
    let merged = std::fs::read_to_string(&target).unwrap();
    assert!(merged.starts_with("---\n"), "still YAML");
    assert!(merged.contains("name: db"), "the file's name wins");
    let secret = unseal(&keys, &merged);
    assert_eq!(secret["data"]["user"], "YWRtaW4=");
    assert_eq!(secret["data"]["password"], "aHVudGVyMg==");
}

#[test]
fn offline_validate() {
    let keys = Keys::new();
    let sealed = seal(&keys, &[], SECRET);
    kubeseal()
        .arg("--validate")
        .arg("--recovery-private-key")
        .arg(keys.key())
        .write_stdin(sealed.clone())
        .assert()
        .success();
    let renamed = sealed.replace("\"name\": \"db\"", "\"name\": \"x\"");
    fails(
        kubeseal()
            .arg("--validate")
            .arg("--recovery-private-key")
            .arg(keys.key())
            .write_stdin(renamed),
        "unable to decrypt sealed secret: x",
    );
}

#[test]
fn namespace_rules() {
    let keys = Keys::new();
    fails(
        kubeseal()
            .arg("--cert")
            .arg(keys.cert())
            .args(["-n", "other"])
            .write_stdin(SECRET),
        "namespace mismatch: input secret is in namespace \"app\" but \"other\" was specified",
    );
    let no_ns = "kind: Secret\nmetadata:\n  name: a\nstringData:\n  k: v\n";
    let out = seal(&keys, &["-n", "namespaces/team"], no_ns);
    assert!(out.contains("\"namespace\": \"team\""));
    // No kubeconfig and not in a Pod: nothing to infer a namespace from (Go: exit 1).
    fails(
        kubeseal().arg("--cert").arg(keys.cert()).write_stdin(no_ns),
        "secret must declare a namespace",
    );
    // A kubeconfig whose context names none: `default`, as client-go's.
    let kubeconfig = keys.path("kubeconfig");
    std::fs::write(
        &kubeconfig,
        "apiVersion: v1\nkind: Config\ncurrent-context: c\ncontexts:\n- name: c\n  context: {cluster: x, user: y}\n",
    )
    .unwrap();
    let out = seal(
        &keys,
        &["--kubeconfig", kubeconfig.to_str().unwrap()],
        no_ns,
    );
    assert!(out.contains("\"namespace\": \"default\""));
    // In a Pod without a kubeconfig: the Pod's namespace.
    let out = kubeseal()
        .arg("--cert")
        .arg(keys.cert())
        .env("KUBERNETES_SERVICE_HOST", "127.0.0.1")
        .env("POD_NAMESPACE", "pods-own")
        .write_stdin(no_ns)
        .assert()
        .success();
    assert!(
        String::from_utf8_lossy(&out.get_output().stdout).contains("\"namespace\": \"pods-own\"")
    );
}

/// Kubernetes limits a Secret name to 253 characters with no limit per dot-separated
/// part, so a 70-character name without dots must seal (the Go kubeseal seals it).
#[test]
fn long_names_kubernetes_accepts_are_sealed() {
    let keys = Keys::new();
    let name = "a".repeat(70);
    let input =
        format!("kind: Secret\nmetadata:\n  name: {name}\n  namespace: app\nstringData:\n  k: v\n");
    let out = unseal(&keys, &seal(&keys, &[], &input));
    assert_eq!(out["metadata"]["name"], name.as_str());
}

#[test]
fn env_fallbacks() {
    let keys = Keys::new();
    let out = kubeseal()
        .env("SEALED_SECRETS_CERT", keys.cert())
        .env("SEALED_SECRETS_FORMAT", "yaml")
        .write_stdin(SECRET)
        .assert()
        .success();
    assert!(
        String::from_utf8(out.get_output().stdout.clone())
            .unwrap()
            .starts_with("---\n")
    );
}

#[test]
fn bad_inputs() {
    let keys = Keys::new();
    let cert = keys.cert();
    let with_cert = || {
        let mut c = kubeseal();
        c.arg("--cert").arg(&cert);
        c
    };
    fails(
        kubeseal()
            .args(["--cert", "/nonexistent.pem"])
            .write_stdin(SECRET),
        "open /nonexistent.pem: no such file or directory",
    );
    fails(with_cert().write_stdin(""), "no secrets found");
    fails(
        with_cert().write_stdin("kind: ConfigMap\n"),
        "input is a ConfigMap, not a Secret",
    );
    fails(
        with_cert().write_stdin("kind: Secret\nstringData:\n  a: b\n"),
        "missing metadata.name in input Secret",
    );
    fails(
        with_cert().write_stdin("kind: Secret\nmetadata:\n  name: a\ndata:\n  k: '!!'\n"),
        "invalid base64 in data[\"k\"]",
    );
    // A flag error exits 2, as Go's flag parser.
    with_cert()
        .arg("--scope=wide")
        .write_stdin(SECRET)
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::starts_with(
            "error: invalid value 'wide' for '--scope <SCOPE>': must be one of: strict, namespace-wide, cluster-wide",
        ));
    fails(
        with_cert().arg("-o=xml").write_stdin(SECRET),
        "unsupported output format: xml",
    );
    fails(with_cert().write_stdin("a: [1"), "invalid YAML");
    fails(
        kubeseal().arg("--cert").arg(keys.key()).write_stdin(SECRET),
        "cannot read the sealing certificate: no certificate found",
    );
    fails(
        kubeseal()
            .arg("--cert")
            .arg(testdata("cert-ec.pem"))
            .write_stdin(SECRET),
        "cannot read the sealing certificate: expected RSA public key",
    );
    fails(
        kubeseal()
            .arg("--recovery-unseal")
            .arg("--recovery-private-key")
            .arg(keys.cert())
            .write_stdin("{}"),
        "cannot read private key",
    );
    kubeseal()
        .arg("--bogus-flag")
        .assert()
        .code(2)
        .stderr(predicate::str::starts_with(
            "error: unexpected argument '--bogus-flag'",
        ));
    fails(
        kubeseal()
            .env_remove("KUBERNETES_SERVICE_HOST")
            .write_stdin(SECRET),
        "cannot load cluster configuration: no kubeconfig found",
    );
    let sealed = seal(&keys, &[], SECRET);
    let v: serde_json::Value = serde_json::from_str(&sealed).unwrap();
    let ct = v["spec"]["encryptedData"]["password"].as_str().unwrap();
    let tampered = sealed.replace(ct, &format!("{}AAAA", &ct[..ct.len() - 8]));
    fails(
        kubeseal()
            .arg("--recovery-unseal")
            .arg("--recovery-private-key")
            .arg(keys.key())
            .write_stdin(tampered),
        "no key could decrypt secret (password)",
    );
    fails(
        with_cert().write_stdin(sealed),
        "input is a SealedSecret, not a Secret",
    );
}

#[test]
fn allow_empty_data() {
    let keys = Keys::new();
    let out = seal(
        &keys,
        &["--allow-empty-data"],
        "kind: Secret\nmetadata:\n  name: e\n  namespace: n\n",
    );
    assert!(out.contains("\"encryptedData\": {}"));
}

#[test]
fn recovery_key_from_key_secret_list() {
    let keys = Keys::new();
    let key_pem = std::fs::read(keys.key()).unwrap();
    let b64 = {
        use std::io::Write;
        let mut child = std::process::Command::new("base64")
            .arg("-w0")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(&key_pem).unwrap();
        String::from_utf8(child.wait_with_output().unwrap().stdout).unwrap()
    };
    let list = format!(
        "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Secret\n  metadata:\n    name: sealed-secrets-keyabcde\n  type: kubernetes.io/tls\n  data:\n    tls.key: {b64}\n"
    );
    let backup = keys.path("backup.yaml");
    std::fs::write(&backup, list).unwrap();
    let sealed = seal(&keys, &[], SECRET);
    kubeseal()
        .arg("--recovery-unseal")
        .arg("--recovery-private-key")
        .arg(format!(
            "{},{}",
            testdata("key-a.pem").display(),
            backup.display()
        ))
        .write_stdin(sealed)
        .assert()
        .success();
}
