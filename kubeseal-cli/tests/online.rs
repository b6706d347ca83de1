//! kubeseal's cluster paths against a loopback stand-in for the API server: the
//! exact service-proxy paths, methods and bodies it sends, and the actionable
//! error for each failure status.
#![allow(clippy::unwrap_used)] // test helpers: a failed unwrap is a failed test

mod common;
mod fake_apiserver;

use std::path::PathBuf;

use assert_cmd::Command;
use common::kubeseal;
use fake_apiserver::{FakeApiServer, Seen, service, status};
use predicates::prelude::*;
use tempfile::TempDir;

const SECRET: &str = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: app\nstringData:\n  password: hunter2\n";
const SVC: &str = "/api/v1/namespaces/kube-system/services/sealed-secrets-controller";
const FINGERPRINT: &str = "sealed-secrets-rs.io/key-fingerprint";
const PROXY: &str = "/api/v1/namespaces/kube-system/services/http:sealed-secrets-controller:/proxy";

struct Keys {
    dir: TempDir,
}

impl Keys {
    fn new() -> Self {
        let dir = TempDir::new().unwrap();
        for name in ["old", "new"] {
            kubeseal()
                .args(["keygen", "--key-size", "2048", "--key-out"])
                .arg(dir.path().join(format!("{name}.key")))
                .arg("--cert-out")
                .arg(dir.path().join(format!("{name}.crt")))
                .assert()
                .success();
        }
        Keys { dir }
    }
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
    fn cert_pem(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.path(&format!("{name}.crt"))).unwrap()
    }
}

/// A controller that answers the cert with `cert` and rotates by re-sealing offline
/// with the test keys (through kubeseal itself, as a stand-in controller would).
fn controller(keys: &Keys, port: Option<&'static str>) -> FakeApiServer {
    controller_with(keys, port, false)
}

/// [`controller`]; with `go_reply`, `/v1/rotate` answers as the Go controller does
/// for our SealedSecrets: no top-level fingerprint annotation, and the template's copy
/// naming the key the request was sealed with.
fn controller_with(keys: &Keys, port: Option<&'static str>, go_reply: bool) -> FakeApiServer {
    let cert = keys.cert_pem("new");
    let key_paths = format!(
        "{},{}",
        keys.path("old.key").display(),
        keys.path("new.key").display()
    );
    let new_cert = keys.path("new.crt");
    let prefix = format!(
        "/api/v1/namespaces/kube-system/services/http:sealed-secrets-controller:{}/proxy",
        port.unwrap_or("")
    );
    FakeApiServer::start(
        move |req: &Seen| match (req.method.as_str(), req.path.as_str()) {
            ("GET", SVC) => (200, "application/json", service(port)),
            ("GET", p) if p == format!("{prefix}/v1/cert.pem") => {
                (200, "application/x-pem-file", cert.clone())
            }
            ("POST", p) if p == format!("{prefix}/v1/verify") => {
                let ok = kubeseal()
                    .args(["--validate", "--recovery-private-key", &key_paths])
                    .write_stdin(req.body.clone())
                    .output()
                    .unwrap()
                    .status
                    .success();
                (if ok { 200 } else { 409 }, "text/plain", Vec::new())
            }
            ("POST", p) if p == format!("{prefix}/v1/rotate") => {
                let out = kubeseal()
                    .args([
                        "--re-encrypt",
                        "--recovery-private-key",
                        &key_paths,
                        "--cert",
                    ])
                    .arg(&new_cert)
                    .write_stdin(req.body.clone())
                    .output()
                    .unwrap();
                if out.status.success() {
                    // Like upstream: JSON without apiVersion/kind.
                    let mut v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
                    if go_reply {
                        let sent: serde_json::Value = serde_yaml_ng::from_slice(&req.body).unwrap();
                        let old = sent["metadata"]["annotations"][FINGERPRINT].clone();
                        v["metadata"]["annotations"]
                            .as_object_mut()
                            .unwrap()
                            .remove(FINGERPRINT);
                        v["spec"]["template"]["metadata"]["annotations"][FINGERPRINT] = old;
                    }
                    let o = v.as_object_mut().unwrap();
                    o.remove("apiVersion");
                    o.remove("kind");
                    (200, "text/plain", serde_json::to_vec(&v).unwrap())
                } else {
                    (500, "text/plain", Vec::new())
                }
            }
            _ => (
                404,
                "application/json",
                status(
                    404,
                    "NotFound",
                    "the server could not find the requested resource",
                ),
            ),
        },
    )
}

fn stdout_of(cmd: &mut Command) -> String {
    let out = cmd.assert().success();
    String::from_utf8(out.get_output().stdout.clone()).unwrap()
}

#[test]
fn fetch_cert_through_the_service_proxy() {
    let keys = Keys::new();
    let api = controller(&keys, None);
    let out = stdout_of(kubeseal().args(["--fetch-cert", "--server", &api.url, "--token", "t0k"]));
    assert_eq!(out.as_bytes(), keys.cert_pem("new"));
    let reqs = api.requests();
    assert_eq!(reqs[0].path, SVC);
    assert_eq!(reqs[1].path, format!("{PROXY}/v1/cert.pem"));
    assert_eq!(reqs[1].authorization.as_deref(), Some("Bearer t0k"));
}

#[test]
fn named_port_and_controller_flags_and_env() {
    let keys = Keys::new();
    let cert = keys.cert_pem("new");
    let api = FakeApiServer::start(move |req: &Seen| match req.path.as_str() {
        "/api/v1/namespaces/ss/services/sealed-secrets" => {
            (200, "application/json", service(Some("http")))
        }
        "/api/v1/namespaces/ss/services/http:sealed-secrets:http/proxy/v1/cert.pem" => {
            (200, "application/x-pem-file", cert.clone())
        }
        _ => (404, "application/json", status(404, "NotFound", "nope")),
    });
    // Sealing without --cert fetches the certificate.
    let out = stdout_of(
        kubeseal()
            .args(["--server", &api.url, "--controller-name", "sealed-secrets"])
            .env("SEALED_SECRETS_CONTROLLER_NAMESPACE", "ss")
            .write_stdin(SECRET),
    );
    let ss: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(ss["kind"], "SealedSecret");
    let unsealed = stdout_of(
        kubeseal()
            .args(["--recovery-unseal", "--recovery-private-key"])
            .arg(keys.path("new.key"))
            .write_stdin(out),
    );
    assert!(unsealed.contains("aHVudGVyMg=="), "{unsealed}");
}

#[test]
fn errors_say_what_to_do() {
    let fails = |api: &FakeApiServer, extra: &[&str], want: &str| {
        kubeseal()
            .args(["--fetch-cert", "--server", &api.url])
            .args(extra)
            .assert()
            .code(1)
            .stdout("")
            .stderr(predicate::str::contains(want));
    };
    let api = FakeApiServer::start(|_| {
        (
            404,
            "application/json",
            status(404, "NotFound", "services \"x\" not found"),
        )
    });
    fails(
        &api,
        &[],
        "cannot get sealed secret service: services \"sealed-secrets-controller\" not found in namespace \"kube-system\".\nPlease, use the flag --controller-name and --controller-namespace",
    );

    let api = FakeApiServer::start(|_| {
        (
            403,
            "application/json",
            status(
                403,
                "Forbidden",
                "services \"x\" is forbidden: User \"dev\" cannot get resource",
            ),
        )
    });
    fails(
        &api,
        &[],
        "hint: the user needs RBAC `get` on `services/sealed-secrets-controller` in namespace \"kube-system\"",
    );

    let api = FakeApiServer::start(|_| {
        (
            401,
            "application/json",
            status(401, "Unauthorized", "Unauthorized"),
        )
    });
    fails(&api, &[], "rejected the credentials (401 Unauthorized)");

    let api = FakeApiServer::start(|req: &Seen| match req.path.as_str() {
        SVC => (200, "application/json", service(None)),
        _ => (
            503,
            "application/json",
            status(
                503,
                "ServiceUnavailable",
                "no endpoints available for service \\\"sealed-secrets-controller\\\"",
            ),
        ),
    });
    fails(
        &api,
        &[],
        "the sealed-secrets controller is not ready: no endpoints available for service \"sealed-secrets-controller\"",
    );

    let api = FakeApiServer::start(|req: &Seen| match req.path.as_str() {
        SVC => (200, "application/json", service(None)),
        _ => (
            403,
            "application/json",
            status(
                403,
                "Forbidden",
                "services \\\"http:sealed-secrets-controller:\\\" is forbidden",
            ),
        ),
    });
    fails(&api, &[], "RBAC `get` on `services/proxy`");

    let api = FakeApiServer::start(|req: &Seen| match req.path.as_str() {
        SVC => (200, "application/json", service(None)),
        _ => (500, "text/plain", b"cannot get certificate\n".to_vec()),
    });
    fails(
        &api,
        &[],
        "the controller has no sealing key yet (cannot get certificate)",
    );

    // Nothing listening.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    kubeseal()
        .args([
            "--fetch-cert",
            "--server",
            &format!("http://127.0.0.1:{port}"),
        ])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "cannot reach the Kubernetes API server at http://127.0.0.1",
        ));

    // No configuration at all.
    kubeseal().arg("--fetch-cert").assert().code(1).stderr(
        predicate::str::contains("cannot load cluster configuration")
            .and(predicate::str::contains("hint: pass --kubeconfig")),
    );
}

#[test]
fn kubeconfig_context_is_used() {
    let keys = Keys::new();
    let api = controller(&keys, None);
    let dir = TempDir::new().unwrap();
    let kc = dir.path().join("config");
    std::fs::write(
        &kc,
        format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: wrong\nclusters:\n- name: good\n  cluster:\n    server: {}\n- name: bad\n  cluster:\n    server: http://127.0.0.1:9\ncontexts:\n- name: right\n  context:\n    cluster: good\n    user: u\n- name: wrong\n  context:\n    cluster: bad\n    user: u\nusers:\n- name: u\n  user:\n    token: from-kubeconfig\n",
            api.url
        ),
    )
    .unwrap();
    let out = stdout_of(
        kubeseal()
            .arg("--fetch-cert")
            .env("KUBECONFIG", &kc)
            .args(["--context", "right"]),
    );
    assert_eq!(out.as_bytes(), keys.cert_pem("new"));
    assert_eq!(
        api.requests()[0].authorization.as_deref(),
        Some("Bearer from-kubeconfig")
    );
    let out = stdout_of(
        kubeseal()
            .arg("--fetch-cert")
            .arg("--kubeconfig")
            .arg(&kc)
            .args([
                "--context",
                "wrong",
                "--server",
                &api.url,
                "--token",
                "flag",
            ]),
    );
    assert_eq!(out.as_bytes(), keys.cert_pem("new"));
    assert_eq!(
        api.requests().last().unwrap().authorization.as_deref(),
        Some("Bearer flag")
    );
}

fn seal_with(keys: &Keys, cert: &str, input: &str) -> String {
    stdout_of(
        kubeseal()
            .arg("--cert")
            .arg(keys.path(cert))
            .args(["-o", "yaml"])
            .write_stdin(input.to_owned()),
    )
}

#[test]
fn validate_and_re_encrypt_online() {
    let keys = Keys::new();
    let api = controller(&keys, None);
    let sealed = seal_with(&keys, "old.crt", SECRET);
    kubeseal()
        .args(["--validate", "--server", &api.url])
        .write_stdin(sealed.clone())
        .assert()
        .success()
        .stdout("");
    let posted = api.requests().last().unwrap().clone();
    assert_eq!(
        (posted.method.as_str(), posted.path.as_str()),
        ("POST", format!("{PROXY}/v1/verify").as_str())
    );
    let body: serde_json::Value = serde_json::from_slice(&posted.body).unwrap();
    assert_eq!(body["kind"], "SealedSecret");

    // A SealedSecret for another name cannot be unsealed: 409.
    let renamed = sealed.replace("name: db", "name: other");
    kubeseal()
        .args(["--validate", "--server", &api.url])
        .write_stdin(renamed)
        .assert()
        .code(1)
        .stderr("error: unable to decrypt sealed secret: other\n");

    // --re-encrypt in place (-f without -w), keeping YAML.
    let dir = TempDir::new().unwrap();
    let file = dir.path().join("s.yaml");
    std::fs::write(&file, &sealed).unwrap();
    kubeseal()
        .args(["--re-encrypt", "--server", &api.url, "-f"])
        .arg(&file)
        .assert()
        .success()
        .stdout("");
    let rotated = std::fs::read_to_string(&file).unwrap();
    assert!(
        rotated.starts_with("---\napiVersion: bitnami.com/v1alpha1\n"),
        "{rotated}"
    );
    assert_ne!(rotated, sealed);
    let unsealed = stdout_of(
        kubeseal()
            .args(["--recovery-unseal", "--recovery-private-key"])
            .arg(keys.path("new.key"))
            .write_stdin(rotated),
    );
    assert!(unsealed.contains("aHVudGVyMg=="));
}

#[test]
fn reseal_tree_online() {
    let keys = Keys::new();
    let api = controller(&keys, None);
    let dir = TempDir::new().unwrap();
    let old = seal_with(&keys, "old.crt", SECRET);
    let current = seal_with(&keys, "new.crt", &SECRET.replace("name: db", "name: db2"));
    let file = dir.path().join("a.yaml");
    std::fs::write(
        &file,
        format!("# keep me\n{old}---\nkind: ConfigMap\nmetadata:\n  name: c # and me\n{current}"),
    )
    .unwrap();
    kubeseal()
        .args(["reseal", "--check", "--server", &api.url])
        .arg(dir.path())
        .assert()
        .code(2)
        .stdout(
            predicate::str::contains("needs re-sealing:")
                .and(predicate::str::contains("app/db (sealed with SHA256:")),
        );
    kubeseal()
        .args(["reseal", "--server", &api.url])
        .arg(dir.path())
        .assert()
        .success()
        .stderr(predicate::str::contains("2 SealedSecrets in 1 files: 1 re-sealed, 1 already current, 0 failed; 1 files rewritten"));
    let rotates = api
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/v1/rotate"))
        .count();
    assert_eq!(rotates, 1, "only the stale one goes to the controller");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.starts_with("# keep me\n---\n"));
    assert!(text.contains("---\nkind: ConfigMap\nmetadata:\n  name: c # and me\n"));
    assert!(
        text.ends_with(&current),
        "the current document is untouched"
    );
    kubeseal()
        .args(["reseal", "--check", "--server", &api.url])
        .arg(dir.path())
        .assert()
        .success();
}

/// The template's copy in a Go controller's reply names the old key; the file must
/// record the new one, in both places.
#[test]
fn reseal_online_with_a_go_controller_reply_records_the_newest_key() {
    let keys = Keys::new();
    let api = controller_with(&keys, None, true);
    let dir = TempDir::new().unwrap();
    let file = dir.path().join("a.yaml");
    std::fs::write(&file, seal_with(&keys, "old.crt", SECRET)).unwrap();
    let fingerprint_of = |name: &str| {
        let sealed: serde_json::Value =
            serde_yaml_ng::from_str(&seal_with(&keys, name, SECRET)).unwrap();
        sealed["metadata"]["annotations"][FINGERPRINT].clone()
    };
    let (old, new) = (fingerprint_of("old.crt"), fingerprint_of("new.crt"));
    kubeseal()
        .args(["reseal", "--server", &api.url])
        .arg(dir.path())
        .assert()
        .success()
        .stderr(predicate::str::contains("1 re-sealed"));
    let rotated = api
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/v1/rotate"))
        .count();
    assert_eq!(rotated, 1);
    let ss: serde_json::Value =
        serde_yaml_ng::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_ne!(old, new);
    assert_eq!(ss["metadata"]["annotations"][FINGERPRINT], new);
    assert_eq!(
        ss["spec"]["template"]["metadata"]["annotations"][FINGERPRINT],
        new
    );
    kubeseal()
        .args(["reseal", "--check", "--server", &api.url])
        .arg(dir.path())
        .assert()
        .success();
}

#[test]
fn cert_from_a_url() {
    let keys = Keys::new();
    let cert = keys.cert_pem("new");
    let api = FakeApiServer::start(move |req: &Seen| match req.path.as_str() {
        "/certs/cert.pem" => (200, "application/x-pem-file", cert.clone()),
        _ => (404, "text/plain", b"404 page not found".to_vec()),
    });
    let url = format!("{}/certs/cert.pem", api.url);
    let out = stdout_of(kubeseal().args(["--fetch-cert", "--cert", &url]));
    assert_eq!(out.as_bytes(), keys.cert_pem("new"));
    let sealed = stdout_of(kubeseal().args(["--cert", &url]).write_stdin(SECRET));
    assert!(sealed.contains("\"kind\": \"SealedSecret\""));
    let missing = format!("{}/nope.pem", api.url);
    kubeseal()
        .args(["--cert", &missing])
        .write_stdin(SECRET)
        .assert()
        .code(1)
        .stderr(format!("error: cannot fetch {missing:?}: 404 Not Found\n"));
}

#[test]
fn validate_waits_out_rate_limiting() {
    let keys = Keys::new();
    let sealed = seal_with(&keys, "old.crt", SECRET);
    let calls = std::sync::atomic::AtomicUsize::new(0);
    let api = FakeApiServer::start(move |req: &Seen| match req.path.as_str() {
        SVC => (200, "application/json", service(None)),
        _ if calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 => {
            (429, "text/plain", b"limit exceeded".to_vec())
        }
        _ => (200, "text/plain", Vec::new()),
    });
    kubeseal()
        .args(["--validate", "--server", &api.url])
        .write_stdin(sealed)
        .assert()
        .success();
    let verifies = api
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/v1/verify"))
        .count();
    assert_eq!(verifies, 2, "retried once after 429");
}
