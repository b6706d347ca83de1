//! The sops MAC: SHA-512 over the typed plaintext of the leaves in document order,
//! no separators, no keys, no comments; upper-case hex.

use sha2::{Digest, Sha512};

/// SHA-256("sops"): fed first when `mac_only_encrypted` is set, so the two modes
/// never produce the same MAC.
pub const MAC_ONLY_ENCRYPTED_INIT: [u8; 32] = [
    0x8a, 0x3f, 0xd2, 0xad, 0x54, 0xce, 0x66, 0x52, 0x7b, 0x10, 0x34, 0xf3, 0xd1, 0x47, 0xbe, 0x0b,
    0x0b, 0x97, 0x5b, 0x3b, 0xf4, 0x4f, 0x72, 0xc6, 0xfd, 0xad, 0xec, 0x81, 0x76, 0xf2, 0x7d, 0x69,
];

/// A running MAC.
pub struct Mac {
    hash: Sha512,
    /// Whether only encrypted leaves count.
    pub only_encrypted: bool,
}

impl Mac {
    /// A new MAC for the given mode.
    pub fn new(only_encrypted: bool) -> Self {
        let mut hash = Sha512::new();
        if only_encrypted {
            hash.update(MAC_ONLY_ENCRYPTED_INIT);
        }
        Self {
            hash,
            only_encrypted,
        }
    }

    /// Adds a leaf's bytes if this mode counts it.
    pub fn add(&mut self, bytes: &[u8], encrypted: bool) {
        if encrypted || !self.only_encrypted {
            self.hash.update(bytes);
        }
    }

    /// Upper-case hex of the digest (128 characters).
    pub fn finish(self) -> String {
        self.hash
            .finalize()
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn init_is_sha256_of_sops() {
        use sha2::Sha256;
        assert_eq!(
            Sha256::digest(b"sops").as_slice(),
            MAC_ONLY_ENCRYPTED_INIT.as_slice()
        );
    }

    #[test]
    fn concatenation_without_separators() {
        let mut a = Mac::new(false);
        a.add(b"ab", true);
        a.add(b"c", false);
        let mut b = Mac::new(false);
        b.add(b"abc", true);
        let (a, b) = (a.finish(), b.finish());
        assert_eq!(a, b);
        assert_eq!(a.len(), 128);
        assert_eq!(a, a.to_uppercase());
        let mut c = Mac::new(true);
        c.add(b"abc", true);
        c.add(b"clear", false);
        assert_ne!(c.finish(), b);
    }
}
