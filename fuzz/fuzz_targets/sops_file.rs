//! sops file parsing and writing: YAML (with comments, anchors, tags), JSON, dotenv
//! and binary, as plaintext and as encrypted files with metadata.
//!
//! Input: `mode: u8 || file`. Bits 0–1 of `mode` pick the format; bit 2 reads the
//! file as an encrypted one (metadata, MAC, age key) instead of a plaintext one.
//! Plaintext that parses must survive write→read and encrypt→decrypt unchanged.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use sealed_secrets_sops::age::Identities;
use sealed_secrets_sops::format::{self, Format, Style};
use sealed_secrets_sops::tree::{Item, Node, Scalar, Tree};
use sealed_secrets_sops::{EncryptOptions, decrypt, encrypt};

/// The test vectors' throwaway identity, so seeds made by the real sops decrypt.
const KEY_FILE: &str = include_str!("../../crates/sealed-secrets-sops/tests/vectors/key.txt");

thread_local! {
    // Whether the file being checked is JSON (for the one JSON-only tree difference).
    static JSON: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    // age identities are not `Sync`; libFuzzer runs the target on one thread.
    static IDS: Identities = {
        let mut ids = Identities::new();
        ids.add_text(KEY_FILE, "key.txt").expect("the test identity parses");
        ids
    };
}

fn recipient() -> &'static str {
    static RECIPIENT: OnceLock<String> = OnceLock::new();
    RECIPIENT.get_or_init(|| {
        KEY_FILE
            .lines()
            .find_map(|l| l.strip_prefix("# public key: "))
            .expect("key.txt names its recipient")
            .to_owned()
    })
}

/// Tree equality up to where comments stand: the YAML writer deliberately moves the
/// comments that end a mapping after a nested block above its last key (so sops reads
/// them with the same AAD), so write→read may move comments, never drop, add or change
/// them. Floats compare as sops writes them (NaN == NaN).
fn same_node(a: &Node, b: &Node) -> bool {
    match (a, b) {
        (Node::Scalar(x @ Scalar::Float(_)), Node::Scalar(y @ Scalar::Float(_))) => {
            x.to_bytes() == y.to_bytes()
        }
        // JSON writes an integral float without a fraction, as Go's encoding/json (so
        // sops) does, and `1` reads back as an int: the same number, as in sops.
        (Node::Scalar(x @ Scalar::Float(f)), Node::Scalar(y @ Scalar::Int(_)))
            if f.fract() == 0.0 && JSON.with(|j| j.get()) =>
        {
            x.to_bytes() == y.to_bytes()
        }
        (Node::Map(x), Node::Map(y)) => same_items(x, y),
        (Node::Seq(x), Node::Seq(y)) => {
            let (x, cx) = split_seq(x);
            let (y, cy) = split_seq(y);
            cx == cy && x.len() == y.len() && x.iter().zip(&y).all(|(p, q)| same_node(p, q))
        }
        _ => a == b,
    }
}

fn split_seq(list: &[Node]) -> (Vec<&Node>, Vec<&str>) {
    let mut comments: Vec<&str> = Vec::new();
    let nodes = list
        .iter()
        .filter(|n| match n {
            Node::Comment(c) => {
                comments.push(c);
                false
            }
            _ => true,
        })
        .collect();
    comments.sort_unstable();
    (nodes, comments)
}

fn split_items(items: &[Item]) -> (Vec<(&String, &Node)>, Vec<&str>) {
    let mut comments: Vec<&str> = Vec::new();
    let mut pairs = Vec::new();
    for i in items {
        match i {
            Item::Pair(k, v) => pairs.push((k, v)),
            Item::Comment(c) => comments.push(c),
        }
    }
    comments.sort_unstable();
    (pairs, comments)
}

fn same_items(a: &[Item], b: &[Item]) -> bool {
    let (pa, ca) = split_items(a);
    let (pb, cb) = split_items(b);
    ca == cb
        && pa.len() == pb.len()
        && pa
            .iter()
            .zip(&pb)
            .all(|((k, v), (l, w))| k == l && same_node(v, w))
}

fn same_tree(a: &Tree, b: &Tree) -> bool {
    a.branches.len() == b.branches.len()
        && a.branches
            .iter()
            .zip(&b.branches)
            .all(|(x, y)| same_items(x, y))
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, file)) = data.split_first() else {
        return;
    };
    let fmt = [Format::Yaml, Format::Json, Format::Dotenv, Format::Binary][usize::from(mode & 3)];
    IDS.with(|ids| run(mode, fmt, file, ids));
});

fn run(mode: u8, fmt: Format, file: &[u8], ids: &Identities) {
    JSON.with(|j| j.set(fmt == Format::Json));
    let style = Style::default();

    if mode & 4 != 0 {
        let _ = format::parse_encrypted(fmt, file);
        if let Ok(d) = decrypt(fmt, file, ids, false) {
            let _ = d.plaintext(fmt, style);
        }
        return;
    }

    let Ok(tree) = format::parse_plain(fmt, file) else {
        return;
    };
    // What we write we read back as the same tree.
    let written = format::emit_plain(fmt, &tree, style);
    if let Ok(written) = &written {
        let back = format::parse_plain(fmt, written).expect("our own output parses");
        assert!(same_tree(&tree, &back), "write→read changed the {fmt} tree");
        // Writing what we read back changes nothing more: one write is a fixpoint.
        let again = format::emit_plain(fmt, &back, style).expect("writes again");
        assert!(&again == written, "second write of the {fmt} tree differs");
    }
    // Encrypt→decrypt gives back the plaintext we would have written.
    let opts = EncryptOptions {
        recipients: vec![recipient().to_owned()],
        ..Default::default()
    };
    if let Ok(sealed) = encrypt(fmt, file, &opts, style) {
        let d = decrypt(fmt, &sealed, ids, false).expect("what we encrypt decrypts");
        assert!(
            same_tree(&tree, &d.tree),
            "encrypt→decrypt changed the {fmt} tree"
        );
        if let Ok(written) = &written {
            let again = d.plaintext(fmt, style).expect("writes");
            assert!(
                &again == written,
                "decrypted file differs from the plaintext"
            );
        }
    }
}
