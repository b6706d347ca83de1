//! The template corpus (crates/sealed-secrets/tests/template-corpus.json) against Go:
//! `template-oracle check` (tests/peers/template: text/template and Sprig exactly as
//! upstream's controller v0.36.6 configures them) recomputes every case and fails if a
//! recorded result is no longer what Go makes of it. After a deliberate change, rerun
//! `template-oracle record` on the corpus (tests/peers/README.md).

use std::path::Path;
use std::process::Command;

use e2e::go::template_oracle;

#[test]
fn template_corpus_is_what_go_computes() {
    let Some(oracle) = template_oracle() else {
        return;
    };
    e2e::record_ran("peer", "template_corpus_is_what_go_computes");
    let corpus = e2e::workspace_root().join("crates/sealed-secrets/tests/template-corpus.json");
    run_oracle(
        &oracle,
        "check",
        &corpus,
        &format!("Go's results differ from {}", corpus.display()),
    );
}

/// Runs `template-oracle MODE FILE` and fails with `failure`, the exit status and the
/// oracle's output unless it exits 0.
fn run_oracle(oracle: &Path, mode: &str, file: &Path, failure: &str) {
    let out = Command::new(oracle)
        .arg(mode)
        .arg(file)
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}", oracle.display()));
    assert!(
        out.status.success(),
        "{failure} ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// One certificate function call of ours for Go to judge (`template-oracle
/// verify-certs`, tests/peers/template/certs.go): `template` prints `toJson` of a
/// `dict` with the certificate as `c` and, for a signed one, its CA as `ca`.
struct CertCase {
    name: &'static str,
    kind: &'static str,
    cn: &'static str,
    ips: &'static [&'static str],
    dns: &'static [&'static str],
    days: i64,
    template: &'static str,
}

const CERT_CASES: &[CertCase] = &[
    CertCase {
        name: "ca-rsa",
        kind: "ca",
        cn: "Shop CA",
        ips: &[],
        dns: &[],
        days: 365,
        template: r#"{{ toJson (dict "c" (genCA "Shop CA" 365)) }}"#,
    },
    CertCase {
        name: "ca-ecdsa-utf8-cn",
        kind: "ca",
        cn: "Bücher & Co*",
        ips: &[],
        dns: &[],
        days: 30,
        template: r#"{{ toJson (dict "c" (genCAWithKey "Bücher & Co*" 30 (genPrivateKey "ecdsa"))) }}"#,
    },
    CertCase {
        name: "ca-ed25519-empty-cn",
        kind: "ca",
        cn: "",
        ips: &[],
        dns: &[],
        days: 1,
        template: r#"{{ toJson (dict "c" (genCAWithKey "" 1 (genPrivateKey "ed25519"))) }}"#,
    },
    CertCase {
        name: "ca-ec-p384-given",
        kind: "ca",
        cn: "p384",
        ips: &[],
        dns: &[],
        days: 7,
        template: r#"{{ toJson (dict "c" (genCAWithKey "p384" 7 .p384)) }}"#,
    },
    CertCase {
        name: "self-signed-rsa-names",
        kind: "self-signed",
        cn: "shop",
        ips: &["10.0.0.1", "::ffff:10.0.0.2", "fd00::1"],
        dns: &["shop.example", "*.shop.example"],
        days: 30,
        template: r#"{{ toJson (dict "c" (genSelfSignedCert "shop" (list "10.0.0.1" "::ffff:10.0.0.2" "fd00::1") (list "shop.example" "*.shop.example") 30)) }}"#,
    },
    CertCase {
        name: "self-signed-ed25519-empty-subject",
        kind: "self-signed",
        cn: "",
        ips: &[],
        dns: &["only-san.example"],
        days: 2,
        template: r#"{{ toJson (dict "c" (genSelfSignedCertWithKey "" nil (list "only-san.example") 2 (genPrivateKey "ed25519"))) }}"#,
    },
    CertCase {
        name: "signed-rsa",
        kind: "signed",
        cn: "leaf",
        ips: &["192.168.1.1"],
        dns: &["leaf.example"],
        days: 30,
        template: r#"{{ $ca := genCA "Shop CA" 365 }}{{ toJson (dict "ca" $ca "c" (genSignedCert "leaf" (list "192.168.1.1") (list "leaf.example") 30 $ca)) }}"#,
    },
    CertCase {
        name: "signed-by-ecdsa-with-ed25519",
        kind: "signed",
        cn: "leaf",
        ips: &[],
        dns: &["leaf.example"],
        days: 3,
        template: r#"{{ $ca := genCAWithKey "EC CA" 9 (genPrivateKey "ecdsa") }}{{ toJson (dict "ca" $ca "c" (genSignedCertWithKey "leaf" nil (list "leaf.example") 3 $ca (genPrivateKey "ed25519"))) }}"#,
    },
    CertCase {
        name: "signed-same-cn-as-ca",
        kind: "signed",
        cn: "same",
        ips: &[],
        dns: &[],
        days: 1,
        template: r#"{{ $ca := genCA "same" 1 }}{{ toJson (dict "ca" $ca "c" (genSignedCert "same" nil nil 1 $ca)) }}"#,
    },
    CertCase {
        name: "signed-by-a-ca-made-elsewhere",
        kind: "signed",
        cn: "leaf",
        ips: &[],
        dns: &["leaf.example"],
        days: 1,
        template: r#"{{ $ca := buildCustomCert (b64enc .ca_cert) (b64enc .ca_key) }}{{ toJson (dict "ca" $ca "c" (genSignedCert "leaf" nil (list "leaf.example") 1 $ca)) }}"#,
    },
    CertCase {
        name: "key-rsa-4096",
        kind: "key",
        cn: "",
        ips: &[],
        dns: &[],
        days: 0,
        template: r#"{{ toJson (dict "c" (dict "Key" (genPrivateKey "rsa"))) }}"#,
    },
    CertCase {
        name: "key-ecdsa",
        kind: "key",
        cn: "",
        ips: &[],
        dns: &[],
        days: 0,
        template: r#"{{ toJson (dict "c" (dict "Key" (genPrivateKey "ecdsa"))) }}"#,
    },
    CertCase {
        name: "key-ed25519",
        kind: "key",
        cn: "",
        ips: &[],
        dns: &[],
        days: 0,
        template: r#"{{ toJson (dict "c" (dict "Key" (genPrivateKey "ed25519"))) }}"#,
    },
];

/// Our certificates and keys are what Go's x509 and Sprig make of the same request:
/// Go parses them, pairs them with their keys, verifies the chains, and finds the same
/// fields as in Sprig's own certificate for the same key (certs.go). A random output
/// cannot be in the corpus, so this is where our generators meet Go.
#[test]
fn generated_certificates_are_what_sprig_makes() {
    let Some(oracle) = template_oracle() else {
        return;
    };
    e2e::record_ran("peer", "generated_certificates_are_what_sprig_makes");
    // Fixtures of the corpus: a P-384 key, and a CA made by Python's cryptography
    // (CN and O as UTF8Strings) that our genSignedCert must chain to.
    let corpus_path =
        e2e::workspace_root().join("crates/sealed-secrets/tests/template-corpus.json");
    let corpus: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&corpus_path).expect("the template corpus"))
            .expect("the corpus is JSON");
    let mut values = sealed_secrets::template::Values::new();
    for (name, key) in [
        ("p384", "key-ec384-pkcs8"),
        ("ca_cert", "cert-ec"),
        ("ca_key", "key-ec-sec1"),
    ] {
        let v = corpus["data"][key].as_str().expect("a corpus fixture");
        values.insert(name.into(), zeroize::Zeroizing::new(v.as_bytes().to_vec()));
    }
    let mut items = Vec::new();
    for case in CERT_CASES {
        let out = sealed_secrets::template::render(case.name, case.template, &values)
            .unwrap_or_else(|e| panic!("{}: {e}", case.name));
        let made: serde_json::Value = serde_json::from_slice(&out).expect("toJson output");
        let mut item = serde_json::json!({
            "name": case.name, "kind": case.kind, "cn": case.cn, "ips": case.ips,
            "dns": case.dns, "days": case.days,
            "cert": made["c"]["Cert"].as_str().unwrap_or(""),
            "key": made["c"]["Key"],
        });
        if !made["ca"].is_null() {
            item["ca"] = made["ca"].clone();
        }
        items.push(item);
    }
    let dir = tempfile::tempdir().expect("a temporary directory");
    let file = dir.path().join("certs.json");
    std::fs::write(
        &file,
        serde_json::to_vec(&serde_json::json!({ "items": items })).unwrap(),
    )
    .expect("writing the items");
    run_oracle(
        &oracle,
        "verify-certs",
        &file,
        "Go rejects certificates or keys we made",
    );
}
