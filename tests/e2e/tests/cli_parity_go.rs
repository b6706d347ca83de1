//! The same kubeseal command lines run with upstream's Go kubeseal (v0.36.6) and ours,
//! offline (`--cert`, no cluster): exit codes, the decrypted output, and whether stderr
//! names the problem. The intended differences are the rows of [`INTENDED`], each
//! explained in docs/compatibility.md ("kubeseal parity with Go"); any other difference
//! fails the test.

use std::path::Path;
use std::process::Output;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use e2e::binary;
use e2e::go::{GO_KUBESEAL_ENV, go_binary, run_program};
use serde_json::{Value, json};

/// Cases where our exit code differs from Go's on purpose: (case, Go's code, ours).
const INTENDED: &[(&str, i32, i32)] = &[];

struct Case {
    name: &'static str,
    args: Vec<String>,
    stdin: Vec<u8>,
    /// A word stderr must contain (case-insensitive) when the run fails.
    names: &'static str,
}

fn secret(name: &str, namespace: Option<&str>, data: Value) -> Vec<u8> {
    let mut s =
        json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name}, "data": data});
    if let Some(ns) = namespace {
        s["metadata"]["namespace"] = json!(ns);
    }
    serde_json::to_vec(&s).expect("serializes")
}

fn cases(dir: &Path, cert: &str) -> Vec<Case> {
    let c = |extra: &[&str]| -> Vec<String> {
        let mut v = vec![format!("--cert={cert}")];
        v.extend(extra.iter().map(|s| (*s).to_owned()));
        v
    };
    let good = secret(
        "mariadb",
        Some("shop"),
        json!({"password": STANDARD.encode("s3cret-parity")}),
    );
    let not_a_cert = dir.join("not-a-cert.pem");
    std::fs::write(
        &not_a_cert,
        b"-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n",
    )
    .expect("writes");
    let value = dir.join("value.txt");
    std::fs::write(&value, b"raw-parity-value").expect("writes");
    let yaml = serde_yaml_ng::to_string(&serde_json::from_slice::<Value>(&good).expect("parses"))
        .expect("YAML");
    vec![
        Case { name: "json in, json out", args: c(&[]), stdin: good.clone(), names: "" },
        Case { name: "yaml in, yaml out", args: c(&["--format=yaml"]), stdin: yaml.into_bytes(), names: "" },
        Case { name: "namespace-wide", args: c(&["--scope=namespace-wide"]), stdin: good.clone(), names: "" },
        Case { name: "cluster-wide", args: c(&["--scope=cluster-wide"]), stdin: good.clone(), names: "" },
        Case { name: "repeated flag: last wins", args: c(&["--scope=cluster-wide", "--scope=strict"]), stdin: good.clone(), names: "" },
        Case {
            name: "name Kubernetes would refuse",
            args: c(&[]),
            stdin: secret("testSecret", Some("shop"), json!({"foo": STANDARD.encode("bar")})),
            names: "",
        },
        Case {
            name: "stringData",
            args: c(&[]),
            stdin: serde_json::to_vec(&json!({"apiVersion": "v1", "kind": "Secret",
                "metadata": {"name": "sd", "namespace": "shop"}, "stringData": {"k": "v-parity"}})).expect("serializes"),
            names: "",
        },
        Case {
            name: "raw",
            args: c(&["--raw", "--namespace=shop", "--name=mariadb", &format!("--from-file={}", value.display())]),
            stdin: vec![],
            names: "",
        },
        Case { name: "wrong cert", args: vec![format!("--cert={}", not_a_cert.display())], stdin: good.clone(), names: "cert" },
        Case { name: "missing cert file", args: vec![format!("--cert={}", dir.join("absent.pem").display())], stdin: good.clone(), names: "absent.pem" },
        Case { name: "empty input", args: c(&[]), stdin: vec![], names: "" },
        Case {
            name: "not a Secret",
            args: c(&[]),
            stdin: serde_json::to_vec(&json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x", "namespace": "shop"}, "data": {"a": "b"}})).expect("serializes"),
            names: "secret",
        },
        Case { name: "not YAML", args: c(&[]), stdin: b"{{{ nope".to_vec(), names: "" },
        Case { name: "unknown scope", args: c(&["--scope=bogus"]), stdin: good.clone(), names: "bogus" },
        Case {
            name: "missing namespace",
            args: c(&[]),
            stdin: secret("mariadb", None, json!({"password": STANDARD.encode("x")})),
            names: "namespace",
        },
        Case { name: "unknown flag", args: c(&["--no-such-flag"]), stdin: good.clone(), names: "no-such-flag" },
        Case { name: "raw without name", args: c(&["--raw", "--namespace=shop", &format!("--from-file={}", value.display())]), stdin: vec![], names: "name" },
    ]
}

fn code(out: &Output) -> i32 {
    out.status.code().unwrap_or(-1)
}

/// The Secret data a SealedSecret document decrypts to, with our kubeseal and `key`.
async fn decrypt(doc: &[u8], key: &Path) -> Result<Value, String> {
    let out = run_program(
        &binary("kubeseal"),
        &[
            "--recovery-unseal".into(),
            format!("--recovery-private-key={}", key.display()),
            "--format=json".into(),
        ],
        Some(doc),
        &[],
    )
    .await;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    let v: Value = serde_json::from_slice(&out.stdout).map_err(|e| e.to_string())?;
    Ok(
        json!({"name": v["metadata"]["name"], "namespace": v["metadata"]["namespace"], "data": v["data"], "type": v["type"]}),
    )
}

/// The plaintext of `--raw` output: decrypting needs the scope's label, so the value is
/// wrapped in a SealedSecret for `mariadb` in `shop` first.
fn raw_as_document(raw: &[u8]) -> Vec<u8> {
    let ct = String::from_utf8_lossy(raw).trim().to_owned();
    serde_json::to_vec(&json!({"apiVersion": "bitnami.com/v1alpha1", "kind": "SealedSecret",
        "metadata": {"name": "mariadb", "namespace": "shop"}, "spec": {"encryptedData": {"value": ct}}}))
    .expect("serializes")
}

#[tokio::test]
async fn kubeseal_command_lines_match_go() {
    let Some(go) = go_binary(GO_KUBESEAL_ENV) else {
        return;
    };
    e2e::record_ran("peer", "kubeseal_command_lines_match_go");
    let ours = binary("kubeseal");
    let dir = tempfile::tempdir().expect("a temp dir");
    let key = dir.path().join("tls.key");
    let cert = dir.path().join("tls.crt");
    let made = run_program(
        &ours,
        &[
            "keygen".into(),
            format!("--key-out={}", key.display()),
            format!("--cert-out={}", cert.display()),
        ],
        None,
        &[],
    )
    .await;
    assert!(
        made.status.success(),
        "kubeseal keygen: {}",
        String::from_utf8_lossy(&made.stderr)
    );

    let mut table = vec![format!(
        "{:<32} {:>4} {:>4}  {}",
        "case", "go", "ours", "verdict"
    )];
    let mut failures = Vec::new();
    for case in cases(dir.path(), &cert.display().to_string()) {
        // No kubeconfig anywhere: HOME points at the empty temp dir.
        let home = dir.path().join("home");
        std::fs::create_dir_all(&home).expect("a home");
        let env = [("HOME", home.to_str().expect("utf-8 path"))];
        let g = run_program(&go, &case.args, Some(&case.stdin), &env).await;
        let o = run_program(&ours, &case.args, Some(&case.stdin), &env).await;
        let (gc, oc) = (code(&g), code(&o));
        let mut verdict = "same".to_owned();
        let intended = INTENDED
            .iter()
            .any(|(n, ig, io)| *n == case.name && *ig == gc && *io == oc);
        if gc != oc {
            if intended {
                verdict = "intended difference".into();
            } else {
                verdict = "DIFFERENT".into();
                failures.push(format!(
                    "{}: exit go {gc} ours {oc}\n  go stderr: {}\n  our stderr: {}",
                    case.name,
                    String::from_utf8_lossy(&g.stderr).trim(),
                    String::from_utf8_lossy(&o.stderr).trim()
                ));
            }
        } else if gc == 0 {
            let (gd, od) = if case.name == "raw" {
                (raw_as_document(&g.stdout), raw_as_document(&o.stdout))
            } else {
                (g.stdout.clone(), o.stdout.clone())
            };
            let (gv, ov) = (decrypt(&gd, &key).await, decrypt(&od, &key).await);
            match (&gv, &ov) {
                (Ok(a), Ok(b)) if a == b => verdict = "same, same plaintext".into(),
                _ => {
                    verdict = "DIFFERENT plaintext".into();
                    failures.push(format!("{}: decrypted go {gv:?} ours {ov:?}", case.name));
                }
            }
        }
        if oc != 0 && !case.names.is_empty() {
            let err = String::from_utf8_lossy(&o.stderr).to_lowercase();
            if !err.contains(case.names) {
                failures.push(format!(
                    "{}: our stderr does not name {:?}: {err}",
                    case.name, case.names
                ));
            }
        }
        table.push(format!("{:<32} {gc:>4} {oc:>4}  {verdict}", case.name));
    }
    println!("{}", table.join("\n"));
    assert!(
        failures.is_empty(),
        "kubeseal differs from Go kubeseal:\n{}",
        failures.join("\n")
    );
}
