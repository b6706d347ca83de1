//! Binary (any other extension): the whole file is one string under `data`, stored
//! as JSON `{"data": "ENC[…]", "sops": {…}}`; decrypt gives back the raw bytes.

use crate::tree::{Item, Node, Scalar, Tree};

/// The key holding the file's content (compat string).
pub const DATA_KEY: &str = "data";

/// The tree of a plaintext binary file.
pub fn parse(bytes: &[u8]) -> Tree {
    let value = match std::str::from_utf8(bytes) {
        Ok(s) => Scalar::Str(s.to_owned()),
        Err(_) => Scalar::Bytes(bytes.to_vec()),
    };
    Tree {
        branches: vec![vec![Item::Pair(DATA_KEY.to_owned(), Node::Scalar(value))]],
    }
}

/// The raw content of a decrypted binary tree.
pub fn content(tree: &Tree) -> Option<Vec<u8>> {
    tree.branches.first()?.iter().find_map(|i| match i {
        Item::Pair(k, Node::Scalar(s)) if k == DATA_KEY => Some(match s {
            Scalar::Str(v) => v.as_bytes().to_vec(),
            other => other.to_bytes(),
        }),
        _ => None,
    })
}
