//! The ordered document tree sops works on: every format parses into it and is
//! written from it. Keys stay in order; comments are items of their own, because
//! sops encrypts them too (AAD = the parent path).

use zeroize::Zeroize;

/// A typed leaf, as sops's `ToBytes`/type tags see it.
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar {
    /// `type:str`.
    Str(String),
    /// `type:int`.
    Int(i64),
    /// `type:float`.
    Float(f64),
    /// `type:bool`.
    Bool(bool),
    /// `type:time`: kept as its RFC 3339 (nanosecond) text, which is what sops hashes.
    Time(String),
    /// A `type:str` (or legacy `type:bytes`) plaintext that is not UTF-8: binary files.
    Bytes(Vec<u8>),
}

impl Scalar {
    /// The bytes sops encrypts and hashes for this value (`ToBytes`).
    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            Scalar::Str(s) | Scalar::Time(s) => s.as_bytes().to_vec(),
            Scalar::Int(i) => i.to_string().into_bytes(),
            Scalar::Float(f) => format_float(*f).into_bytes(),
            Scalar::Bool(true) => b"True".to_vec(),
            Scalar::Bool(false) => b"False".to_vec(),
            Scalar::Bytes(b) => b.clone(),
        }
    }

    /// The `type:` tag of an encrypted value.
    pub fn type_name(&self) -> &'static str {
        match self {
            Scalar::Str(_) | Scalar::Bytes(_) => "str",
            Scalar::Int(_) => "int",
            Scalar::Float(_) => "float",
            Scalar::Bool(_) => "bool",
            Scalar::Time(_) => "time",
        }
    }

    /// Wipes the text held by a string or time value.
    pub fn wipe(&mut self) {
        match self {
            Scalar::Str(s) | Scalar::Time(s) => s.zeroize(),
            Scalar::Bytes(b) => b.zeroize(),
            _ => {}
        }
    }
}

/// Go's `strconv.FormatFloat(f, 'f', -1, 64)`: the shortest text that reads back
/// as the same float, never with an exponent.
pub fn format_float(f: f64) -> String {
    if f.is_nan() {
        "NaN".to_owned()
    } else if f.is_infinite() {
        if f > 0.0 { "+Inf" } else { "-Inf" }.to_owned()
    } else {
        // Rust's `Display` for floats is shortest-round-trip and never uses an exponent.
        format!("{f}")
    }
}

/// A node of the tree.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    /// A typed leaf.
    Scalar(Scalar),
    /// YAML/JSON null: never encrypted, not in the MAC.
    Null,
    /// A mapping with its items in order.
    Map(Vec<Item>),
    /// A sequence; comments inside it are [`Node::Comment`] elements.
    Seq(Vec<Node>),
    /// A comment inside a sequence (text after `#`).
    Comment(String),
}

/// One item of a mapping.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// `key: value`.
    Pair(String, Node),
    /// A comment line (text after `#`).
    Comment(String),
}

impl Node {
    /// Wipes every leaf's text (plaintext trees are dropped through this).
    pub fn wipe(&mut self) {
        match self {
            Node::Scalar(s) => s.wipe(),
            Node::Null => {}
            Node::Comment(c) => c.zeroize(),
            Node::Seq(items) => items.iter_mut().for_each(Node::wipe),
            Node::Map(items) => items.iter_mut().for_each(Item::wipe),
        }
    }
}

impl Item {
    fn wipe(&mut self) {
        match self {
            Item::Pair(_, v) => v.wipe(),
            Item::Comment(c) => c.zeroize(),
        }
    }
}

/// One document: a top-level mapping (sops calls it a branch).
pub type Branch = Vec<Item>;

/// A whole file: one branch per document (only YAML has more than one).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Tree {
    /// The documents, in order.
    pub branches: Vec<Branch>,
}

impl Drop for Tree {
    fn drop(&mut self) {
        for b in &mut self.branches {
            b.iter_mut().for_each(Item::wipe);
        }
    }
}

/// Removes the top-level `key` of a branch and returns its value.
pub fn take_key(branch: &mut Branch, key: &str) -> Option<Node> {
    let pos = branch
        .iter()
        .position(|i| matches!(i, Item::Pair(k, _) if k == key))?;
    match branch.remove(pos) {
        Item::Pair(_, v) => Some(v),
        Item::Comment(_) => None,
    }
}

/// Whether a branch has a top-level `key`.
pub fn has_key(branch: &Branch, key: &str) -> bool {
    branch
        .iter()
        .any(|i| matches!(i, Item::Pair(k, _) if k == key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn to_bytes_matches_go() {
        assert_eq!(Scalar::Bool(true).to_bytes(), b"True");
        assert_eq!(Scalar::Bool(false).to_bytes(), b"False");
        assert_eq!(Scalar::Int(-42).to_bytes(), b"-42");
        assert_eq!(Scalar::Float(2.0).to_bytes(), b"2");
        assert_eq!(Scalar::Float(1.5).to_bytes(), b"1.5");
        assert_eq!(Scalar::Float(1e21).to_bytes(), b"1000000000000000000000");
        assert_eq!(Scalar::Float(0.000001).to_bytes(), b"0.000001");
        assert_eq!(Scalar::Float(f64::INFINITY).to_bytes(), b"+Inf");
        assert_eq!(Scalar::Float(f64::NAN).to_bytes(), b"NaN");
    }
}
