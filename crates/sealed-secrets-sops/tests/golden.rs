//! Golden vectors written by the real `sops` 3.11 (files in `tests/vectors/`, made with
//! `key.txt`, a throwaway test identity): we decrypt them, verify their MAC, and our
//! plaintext output is pinned (`*.decrypted.*`; `UPDATE_GOLDEN=1` rewrites them, then
//! review the diff). Runs without any external binary.

use std::path::PathBuf;

use sealed_secrets_sops::age::Identities;
use sealed_secrets_sops::format::{self, Format, Style};
use sealed_secrets_sops::tree::{Item, Node, Tree};
use sealed_secrets_sops::{DecryptError, decrypt};

fn vector(name: &str) -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/vectors")
        .join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn identities() -> Identities {
    let mut ids = Identities::new();
    ids.add_text(
        &String::from_utf8(vector("key.txt")).expect("utf-8"),
        "tests/vectors/key.txt",
    )
    .expect("valid identity file");
    ids
}

fn without_comments(t: &Tree) -> Vec<Vec<Item>> {
    fn node(n: &Node) -> Option<Node> {
        match n {
            Node::Comment(_) => None,
            Node::Map(items) => Some(Node::Map(items_of(items))),
            Node::Seq(l) => Some(Node::Seq(l.iter().filter_map(node).collect())),
            other => Some(other.clone()),
        }
    }
    fn items_of(items: &[Item]) -> Vec<Item> {
        items
            .iter()
            .filter_map(|i| match i {
                Item::Pair(k, v) => node(v).map(|v| Item::Pair(k.clone(), v)),
                Item::Comment(_) => None,
            })
            .collect()
    }
    t.branches.iter().map(|b| items_of(b)).collect()
}

fn check(encrypted: &str, plain: &str, pinned: &str, format: Format) {
    let d = decrypt(format, &vector(encrypted), &identities(), false)
        .unwrap_or_else(|e| panic!("{encrypted}: {e}"));
    let ours = d.plaintext(format, Style::default()).expect("emit");
    if format == Format::Binary {
        assert_eq!(ours, vector(plain));
        return;
    }
    let want = format::parse_plain(format, &vector(plain)).expect("parse plaintext");
    let got = format::parse_plain(format, &ours).expect("parse our output");
    assert_eq!(
        without_comments(&got),
        without_comments(&want),
        "{encrypted}"
    );
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/vectors")
            .join(pinned);
        std::fs::write(p, &ours).expect("write pinned output");
    }
    let pinned_text = String::from_utf8(vector(pinned)).expect("utf-8");
    assert_eq!(
        String::from_utf8(ours).expect("utf-8"),
        pinned_text,
        "{pinned}"
    );
}

#[test]
fn sops_yaml_with_comments_lists_types_and_two_documents() {
    check(
        "secret.sops.yaml",
        "secret.yaml",
        "secret.decrypted.yaml",
        Format::Yaml,
    );
}

#[test]
fn sops_yaml_encrypted_regex_mac_only_encrypted() {
    check(
        "regex.sops.yaml",
        "regex.yaml",
        "regex.decrypted.yaml",
        Format::Yaml,
    );
}

#[test]
fn sops_json_dotenv_binary() {
    check(
        "config.sops.json",
        "config.json",
        "config.decrypted.json",
        Format::Json,
    );
    check(
        "app.sops.env",
        "app.env",
        "app.decrypted.env",
        Format::Dotenv,
    );
    check("blob.sops.bin", "blob.bin", "blob.bin", Format::Binary);
}

#[test]
fn tampered_vectors_fail() {
    let text = String::from_utf8(vector("secret.sops.yaml")).expect("utf-8");
    let edited = text.replace("pw_unencrypted: clear", "pw_unencrypted: changed");
    assert!(matches!(
        decrypt(Format::Yaml, edited.as_bytes(), &identities(), false),
        Err(DecryptError::MacMismatch { .. })
    ));
    assert!(decrypt(Format::Yaml, edited.as_bytes(), &identities(), true).is_ok());
    // With mac_only_encrypted, clear values are outside the MAC.
    let text = String::from_utf8(vector("regex.sops.yaml")).expect("utf-8");
    let edited = text.replace("name: db", "name: other");
    assert_ne!(edited, text);
    if let Err(e) = decrypt(Format::Yaml, edited.as_bytes(), &identities(), false) {
        panic!("{e}");
    }
}
