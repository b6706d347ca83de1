//! Walking a tree to encrypt or decrypt its selected leaves while computing the MAC
//! (sops `Tree.Encrypt` / `Tree.Decrypt`).

use crate::mac::Mac;
use crate::rules::Rule;
use crate::tree::{Item, Node, Scalar, Tree};
use crate::value::{Cipher, EncryptedValue, Plain, ValueError};

/// Why a tree could not be decrypted.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TreeDecryptError {
    /// A selected value is not an `ENC[…]` string.
    #[error(
        "the value at {path:?} should be encrypted under this file's rule but is not an ENC[…] string"
    )]
    NotEncrypted {
        /// The key path.
        path: String,
    },
    /// A value failed to decrypt.
    #[error(transparent)]
    Value(#[from] ValueError),
}

fn aad(path: &[String]) -> String {
    let mut s = path.join(":");
    s.push(':');
    s
}

struct Walk<'a> {
    key: &'a [u8; 32],
    rule: &'a Rule,
    mac: Mac,
    path: Vec<String>,
}

/// Encrypts the selected leaves and comments in place; returns the MAC (hex).
pub fn encrypt_tree(
    tree: &mut Tree,
    key: &[u8; 32],
    rule: &Rule,
    mac_only_encrypted: bool,
    cipher: &Cipher,
) -> String {
    let mut w = Walk {
        key,
        rule,
        mac: Mac::new(mac_only_encrypted),
        path: Vec::new(),
    };
    for branch in &mut tree.branches {
        w.enc_items(branch, cipher);
    }
    w.mac.finish()
}

impl Walk<'_> {
    fn enc_items(&mut self, items: &mut [Item], cipher: &Cipher) {
        for item in items {
            match item {
                Item::Pair(k, v) => {
                    self.path.push(k.clone());
                    self.enc_node(v, cipher);
                    self.path.pop();
                }
                Item::Comment(c) => {
                    if self.rule.should_encrypt(&self.path) {
                        let enc = cipher.encrypt(
                            self.key,
                            &Plain::Comment(std::mem::take(c)),
                            &aad(&self.path),
                        );
                        *c = enc;
                    }
                }
            }
        }
    }

    fn enc_node(&mut self, node: &mut Node, cipher: &Cipher) {
        match node {
            Node::Map(items) => self.enc_items(items, cipher),
            Node::Seq(list) => list.iter_mut().for_each(|n| self.enc_node(n, cipher)),
            Node::Null => {}
            Node::Comment(c) => {
                // An empty comment has nothing to hide and would encrypt to "", a string
                // element that decrypts as data: it stays a comment.
                if !c.is_empty() && self.rule.should_encrypt(&self.path) {
                    // sops keeps an encrypted sequence comment as a string element.
                    let enc = cipher.encrypt(
                        self.key,
                        &Plain::Comment(std::mem::take(c)),
                        &aad(&self.path),
                    );
                    *node = Node::Scalar(Scalar::Str(enc));
                }
            }
            Node::Scalar(s) => {
                let encrypt = self.rule.should_encrypt(&self.path);
                self.mac.add(&s.to_bytes(), encrypt);
                if encrypt {
                    let plain = Plain::Scalar(std::mem::replace(s, Scalar::Bool(false)));
                    let enc = cipher.encrypt(self.key, &plain, &aad(&self.path));
                    if let Plain::Scalar(mut p) = plain {
                        p.wipe();
                    }
                    *s = Scalar::Str(enc);
                }
            }
        }
    }

    fn dec_items(
        &mut self,
        items: &mut [Item],
        cipher: &mut Cipher,
    ) -> Result<(), TreeDecryptError> {
        for i in 0..items.len() {
            let (before, rest) = items.split_at_mut(i);
            match &mut rest[0] {
                Item::Pair(k, v) => {
                    self.path.push(k.clone());
                    let r = self.dec_node(v, cipher);
                    self.path.pop();
                    r?;
                }
                Item::Comment(c) => {
                    if !EncryptedValue::is_encrypted(c) {
                        continue;
                    }
                    // go-yaml may attach a comment that follows a nested block to
                    // that block's last node, and sops then used the inner path.
                    let mut candidates = vec![self.path.clone()];
                    candidates.extend(trailing_paths(&self.path, before));
                    for path in candidates {
                        if !self.rule.should_encrypt(&path) {
                            continue;
                        }
                        if let Ok(Plain::Comment(text)) = cipher.decrypt(self.key, c, &aad(&path)) {
                            *c = text;
                            break;
                        }
                    }
                    // A comment that decrypts under no path stays as written (older files).
                }
            }
        }
        Ok(())
    }

    fn dec_node(&mut self, node: &mut Node, cipher: &mut Cipher) -> Result<(), TreeDecryptError> {
        match node {
            Node::Map(items) => self.dec_items(items, cipher)?,
            Node::Seq(list) => {
                for n in list {
                    self.dec_node(n, cipher)?;
                }
            }
            Node::Null | Node::Comment(_) => {}
            Node::Scalar(s) => {
                if !self.rule.should_encrypt(&self.path) {
                    self.mac.add(&s.to_bytes(), false);
                    return Ok(());
                }
                let Scalar::Str(text) = s else {
                    return Err(TreeDecryptError::NotEncrypted {
                        path: aad(&self.path),
                    });
                };
                if !text.is_empty() && !EncryptedValue::is_encrypted(text) {
                    return Err(TreeDecryptError::NotEncrypted {
                        path: aad(&self.path),
                    });
                }
                match cipher.decrypt(self.key, text, &aad(&self.path))? {
                    Plain::Scalar(p) => {
                        self.mac.add(&p.to_bytes(), true);
                        *s = p;
                    }
                    // Not hashed: comments never count (sops <= 3.13.1 and master).
                    Plain::Comment(c) => *node = Node::Comment(c),
                }
            }
        }
        Ok(())
    }
}

/// The key paths of the blocks that end right before a comment: the previous pair's
/// value, that value's last pair, and so on (sequences add no path component).
fn trailing_paths(path: &[String], before: &[Item]) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut current = path.to_vec();
    let Some(Item::Pair(k, v)) = before.iter().rev().find(|i| matches!(i, Item::Pair(..))) else {
        return out;
    };
    current.push(k.clone());
    let mut node = v;
    loop {
        match node {
            Node::Map(items) => {
                out.push(current.clone());
                match items.iter().rev().find(|i| matches!(i, Item::Pair(..))) {
                    Some(Item::Pair(k, v)) => {
                        current.push(k.clone());
                        node = v;
                    }
                    _ => break,
                }
            }
            Node::Seq(list) => {
                out.push(current.clone());
                match list.iter().rev().find(|n| !matches!(n, Node::Comment(_))) {
                    Some(last) => node = last,
                    None => break,
                }
            }
            _ => break,
        }
    }
    out.dedup();
    out
}

/// Decrypts the selected leaves in place; returns the MAC computed over the plaintext.
pub fn decrypt_tree(
    tree: &mut Tree,
    key: &[u8; 32],
    rule: &Rule,
    mac_only_encrypted: bool,
    cipher: &mut Cipher,
) -> Result<String, TreeDecryptError> {
    let mut w = Walk {
        key,
        rule,
        mac: Mac::new(mac_only_encrypted),
        path: Vec::new(),
    };
    for branch in &mut tree.branches {
        w.dec_items(branch, cipher)?;
    }
    Ok(w.mac.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> Node {
        Node::Scalar(Scalar::Str(v.into()))
    }

    fn sample() -> Tree {
        Tree {
            branches: vec![vec![
                Item::Comment(" top".into()),
                Item::Pair("a".into(), s("x")),
                Item::Pair(
                    "b".into(),
                    Node::Map(vec![
                        Item::Pair("c".into(), Node::Scalar(Scalar::Int(1))),
                        Item::Pair(
                            "l".into(),
                            Node::Seq(vec![s("y"), Node::Comment(" in list".into()), Node::Null]),
                        ),
                    ]),
                ),
                Item::Pair("k_unencrypted".into(), s("clear")),
            ]],
        }
    }

    #[test]
    fn round_trip_and_mac_agree() {
        let key = [3u8; 32];
        let mut t = sample();
        let rule = Rule::default();
        let mac1 = encrypt_tree(&mut t, &key, &rule, false, &Cipher::new());
        let Item::Pair(_, Node::Scalar(Scalar::Str(a))) = &t.branches[0][1] else {
            panic!()
        };
        assert!(a.starts_with("ENC[AES256_GCM,data:"));
        let Item::Pair(_, Node::Scalar(Scalar::Str(c))) = &t.branches[0][3] else {
            panic!()
        };
        assert_eq!(c, "clear");
        let mac2 = decrypt_tree(&mut t, &key, &rule, false, &mut Cipher::new()).unwrap();
        assert_eq!(mac1, mac2);
        assert_eq!(t, sample());
    }

    /// Found by the `sops_file` fuzz target (minimised: `"-: #\r-"`): an empty comment
    /// in a sequence encrypted to an empty string element and decrypted as one, so
    /// the sequence gained a `""` item. (sops 3.11 does exactly that to its own files,
    /// and reads a bare `#` there as `""` too; such files still decrypt as sops does.)
    #[test]
    fn empty_sequence_comments_stay_comments() {
        let key = [3u8; 32];
        let rule = Rule::default();
        let plain = Tree {
            branches: vec![vec![Item::Pair(
                "l".into(),
                Node::Seq(vec![Node::Comment(String::new()), Node::Null, s("v")]),
            )]],
        };
        let mut t = plain.clone();
        encrypt_tree(&mut t, &key, &rule, false, &Cipher::new());
        let Item::Pair(_, Node::Seq(list)) = &t.branches[0][0] else {
            panic!("a sequence")
        };
        assert_eq!(list[0], Node::Comment(String::new()));
        decrypt_tree(&mut t, &key, &rule, false, &mut Cipher::new()).unwrap();
        assert_eq!(t, plain);
    }

    #[test]
    fn mac_covers_clear_values_unless_mac_only_encrypted() {
        let key = [3u8; 32];
        let rule = Rule::default();
        let mac = |t: &mut Tree, only| encrypt_tree(t, &key, &rule, only, &Cipher::new());
        let mut changed = sample();
        changed.branches[0][3] = Item::Pair("k_unencrypted".into(), s("other"));
        assert_ne!(mac(&mut sample(), false), mac(&mut changed.clone(), false));
        assert_eq!(mac(&mut sample(), true), mac(&mut changed, true));
    }

    #[test]
    fn plaintext_under_an_encrypted_path_is_refused() {
        let mut t = sample();
        let err = decrypt_tree(
            &mut t,
            &[1u8; 32],
            &Rule::default(),
            false,
            &mut Cipher::new(),
        )
        .unwrap_err();
        assert!(matches!(err, TreeDecryptError::NotEncrypted { path } if path == "a:"));
    }
}
