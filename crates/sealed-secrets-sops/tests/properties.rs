//! Property tests: generated YAML and JSON documents (nested mappings, sequences and
//! every scalar kind sops types: strings, ints, floats, bools, nulls; comments in
//! YAML) survive write→read, and encrypt→decrypt gives back the same document, byte
//! for byte, with every selected value encrypted in between.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed property

use std::sync::OnceLock;

use proptest::prelude::*;
use sealed_secrets_sops::age::{self, Identities};
use sealed_secrets_sops::format::{self, Format, Style};
use sealed_secrets_sops::tree::{Branch, Item, Node, Scalar, Tree};
use sealed_secrets_sops::value::EncryptedValue;
use sealed_secrets_sops::{EncryptOptions, decrypt, encrypt};

/// One age identity per test binary: (secret key, recipient).
fn identity() -> &'static (String, String) {
    static ID: OnceLock<(String, String)> = OnceLock::new();
    ID.get_or_init(age::generate_identity)
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "[a-zA-Z_][a-zA-Z0-9_.-]{0,12}",
        1 => "[a-z]{1,6}_unencrypted",
        1 => "\\PC{1,10}",
        1 => prop::sample::select(vec!["true", "1", "null", "~", "a: b", "- x", "#c", " sp", "é"])
            .prop_map(str::to_owned),
    ]
    .prop_filter("sops and merge keys are reserved", |k| {
        k != "sops" && k != "<<"
    })
}

fn string() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "\\PC{0,24}",
        1 => "[a-z \n\t]{0,40}",
        1 => prop::sample::select(vec![
            "", "true", "False", "yes", "no", "on", "1", "-1", "0x1F", "0o17", "1e3", ".5",
            "null", "~", "NULL", "2001-12-14", "2001-12-14t21:59:43.10-05:00", "- a", "a: b",
            "#x", " lead", "trail ", "'q'", "\"dq\"", "multi\nline\n", "tab\there", "{a}",
            "[1]", "*alias", "&anchor", "!tag", "%dir", "@at", "`tick", "|", ">", ".nan",
            ".inf", "ENC[not really]",
        ])
        .prop_map(str::to_owned),
    ]
}

/// Floats JSON can carry as floats: finite, and not integral below 1e21 (those are
/// written without a fraction, as Go's encoding/json does, and read back as ints).
fn json_float() -> impl Strategy<Value = f64> {
    any::<f64>().prop_filter("a JSON float", |f| {
        f.is_finite() && (f.fract() != 0.0 || f.abs() >= 1e21)
    })
}

fn scalar(json: bool) -> BoxedStrategy<Node> {
    let float = if json {
        json_float().boxed()
    } else {
        prop_oneof![
            4 => any::<f64>(),
            1 => prop::sample::select(vec![f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 0.0, -0.0, 1.0]),
        ]
        .boxed()
    };
    prop_oneof![
        4 => string().prop_map(|s| Node::Scalar(Scalar::Str(s))),
        2 => any::<i64>().prop_map(|i| Node::Scalar(Scalar::Int(i))),
        1 => float.prop_map(|f| Node::Scalar(Scalar::Float(f))),
        1 => any::<bool>().prop_map(|b| Node::Scalar(Scalar::Bool(b))),
        1 => Just(Node::Null),
    ]
    .boxed()
}

fn comment() -> impl Strategy<Value = String> {
    "[ a-zA-Z0-9:#-]{0,20}"
}

/// A mapping with unique keys; in YAML, comments may stand before any pair.
fn map(value: BoxedStrategy<Node>, json: bool, min: usize) -> BoxedStrategy<Vec<Item>> {
    let comment = if json {
        Just(None).boxed()
    } else {
        prop::option::weighted(0.2, comment()).boxed()
    };
    let pair = (key(), value, comment);
    prop::collection::vec(pair, min..6)
        .prop_map(|pairs| {
            let mut items = Vec::new();
            let mut seen = Vec::new();
            for (k, v, c) in pairs {
                if seen.contains(&k) {
                    continue;
                }
                seen.push(k.clone());
                if let Some(c) = c {
                    items.push(Item::Comment(c));
                }
                items.push(Item::Pair(k, v));
            }
            items
        })
        .boxed()
}

fn node(json: bool) -> BoxedStrategy<Node> {
    scalar(json)
        .prop_recursive(4, 48, 6, move |inner| {
            prop_oneof![
                map(inner.clone(), json, 0).prop_map(Node::Map),
                prop::collection::vec(inner, 0..6).prop_map(Node::Seq),
            ]
        })
        .boxed()
}

fn tree(json: bool) -> BoxedStrategy<Tree> {
    let branches = if json { 1..2 } else { 1..3 };
    prop::collection::vec(map(node(json), json, 1), branches)
        .prop_map(|branches: Vec<Branch>| Tree { branches })
        .boxed()
}

/// Tree equality with floats compared as sops writes them (NaN equals NaN, and the
/// text, not the bits, is what a file holds).
fn same_node(a: &Node, b: &Node) -> bool {
    match (a, b) {
        (Node::Scalar(x @ Scalar::Float(_)), Node::Scalar(y @ Scalar::Float(_))) => {
            x.to_bytes() == y.to_bytes()
        }
        (Node::Map(x), Node::Map(y)) => same_items(x, y),
        (Node::Seq(x), Node::Seq(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same_node(p, q))
        }
        _ => a == b,
    }
}

fn same_items(a: &[Item], b: &[Item]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(p, q)| match (p, q) {
            (Item::Pair(k, v), Item::Pair(l, w)) => k == l && same_node(v, w),
            _ => p == q,
        })
}

fn same_tree(a: &Tree, b: &Tree) -> bool {
    a.branches.len() == b.branches.len()
        && a.branches
            .iter()
            .zip(&b.branches)
            .all(|(x, y)| same_items(x, y))
}

/// Every leaf and comment not under an `_unencrypted` key is an `ENC[…]` value (or
/// an empty string, which sops leaves empty).
fn all_encrypted_items(items: &[Item], exempt: bool) -> bool {
    items.iter().all(|i| match i {
        Item::Pair(k, v) => all_encrypted(v, exempt || k.ends_with("_unencrypted")),
        Item::Comment(c) => exempt || c.is_empty() || EncryptedValue::is_encrypted(c),
    })
}

fn all_encrypted(node: &Node, exempt: bool) -> bool {
    match node {
        Node::Map(items) => all_encrypted_items(items, exempt),
        Node::Seq(list) => list.iter().all(|n| all_encrypted(n, exempt)),
        Node::Null => true,
        Node::Comment(c) => exempt || c.is_empty() || EncryptedValue::is_encrypted(c),
        Node::Scalar(Scalar::Str(s)) => exempt || s.is_empty() || EncryptedValue::is_encrypted(s),
        Node::Scalar(_) => exempt,
    }
}

fn check(fmt: Format, tree: &Tree) -> Result<(), TestCaseError> {
    let style = Style::default();
    let written = format::emit_plain(fmt, tree, style).unwrap();
    let read = format::parse_plain(fmt, &written).unwrap();
    prop_assert!(
        same_tree(tree, &read),
        "write→read changed the {} document",
        fmt
    );

    let (secret, recipient) = identity();
    let opts = EncryptOptions {
        recipients: vec![recipient.clone()],
        ..EncryptOptions::default()
    };
    let sealed = encrypt(fmt, &written, &opts, style).unwrap();
    let (enc_tree, _) = format::parse_encrypted(fmt, &sealed).unwrap();
    prop_assert!(
        enc_tree
            .branches
            .iter()
            .all(|b| all_encrypted_items(b, false)),
        "a selected value was left in plaintext"
    );

    let mut ids = Identities::new();
    ids.add_text(secret, "generated").unwrap();
    let d = decrypt(fmt, &sealed, &ids, false).unwrap();
    prop_assert!(
        same_tree(tree, &d.tree),
        "encrypt→decrypt changed the {} document",
        fmt
    );
    prop_assert!(
        d.plaintext(fmt, style).unwrap() == written,
        "decrypted file differs"
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn yaml_documents_round_trip(t in tree(false)) {
        check(Format::Yaml, &t)?;
    }

    #[test]
    fn json_documents_round_trip(t in tree(true)) {
        check(Format::Json, &t)?;
    }
}
