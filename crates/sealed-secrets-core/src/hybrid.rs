//! The sealed-value wire format, byte-compatible with upstream `pkg/crypto/crypto.go`:
//!
//! ```text
//! u16be(len R) || R || G
//! R = RSA-OAEP(SHA-256, MGF1-SHA-256, label)(K)           K: fresh 32-byte key
//! G = AES-256-GCM(K, nonce = 12 zero bytes, no AAD)(plaintext) || 16-byte tag
//! ```
//!
//! The zero nonce is safe only because every value gets its own fresh key.

use aws_lc_rs::aead::{AES_128_GCM, AES_192_GCM, AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use aws_lc_rs::rsa::OAEP_SHA256_MGF1SHA256;
use rand_core::CryptoRng;
use zeroize::Zeroizing;

use crate::keys::{Fingerprint, PrivateKey, PublicKey};

/// Bytes of the AES-256 session key drawn for every value (upstream `sessionKeyBytes`).
pub const SESSION_KEY_LEN: usize = 32;
/// Bytes of the GCM tag appended to the symmetric ciphertext.
pub const GCM_TAG_LEN: usize = 16;
/// Bytes of the big-endian RSA-block length prefix.
pub const LENGTH_PREFIX_LEN: usize = 2;

/// The upstream message for every unseal failure (`pkg/crypto/crypto.go`).
pub const NO_KEY_COULD_DECRYPT: &str = "no key could decrypt secret";

/// Why a value could not be sealed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SealError {
    /// The RSA block would not fit the u16 length prefix (a key over 524,280 bits).
    #[error("RSA key too large for the sealed-secrets format ({bits} bits)")]
    KeyTooLarge {
        /// Modulus size of the offending key.
        bits: usize,
    },
    /// RSA-OAEP or AES-GCM encryption failed inside the crypto library.
    #[error("encryption failed")]
    Crypto,
}

/// The one error of unsealing. It never says which step or which key failed, so the
/// unseal path is no oracle: a wrong label, a wrong key, a truncated blob, a bad RSA
/// block and a bad GCM tag all look alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("no key could decrypt secret")]
pub struct UnsealError;

/// Seals `plaintext` to `key`, bound to `label` (see [`crate::Scope::label`]).
///
/// `rng` supplies the session key; the OAEP seed comes from aws-lc's own RNG, which
/// cannot be injected. With a seeded `rng` the GCM part is therefore deterministic
/// while the RSA block is not.
pub fn seal<R: CryptoRng + ?Sized>(
    rng: &mut R,
    key: &PublicKey,
    label: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>, SealError> {
    let rsa_len = key.size_bytes();
    let prefix = u16::try_from(rsa_len).map_err(|_| SealError::KeyTooLarge { bits: key.bits() })?;

    let mut session_key = Zeroizing::new([0u8; SESSION_KEY_LEN]);
    rng.fill_bytes(&mut session_key[..]);

    let mut out = Vec::with_capacity(LENGTH_PREFIX_LEN + rsa_len + plaintext.len() + GCM_TAG_LEN);
    out.extend_from_slice(&prefix.to_be_bytes());
    out.resize(LENGTH_PREFIX_LEN + rsa_len, 0);
    let written = key
        .oaep()
        .encrypt(
            &OAEP_SHA256_MGF1SHA256,
            &session_key[..],
            &mut out[LENGTH_PREFIX_LEN..],
            Some(label),
        )
        .map_err(|_| SealError::Crypto)?
        .len();
    debug_assert_eq!(written, rsa_len, "OAEP output is one modulus long");

    let gcm_start = out.len();
    out.extend_from_slice(plaintext);
    let cipher = gcm_key(&session_key[..]).ok_or(SealError::Crypto)?;
    let tag = cipher
        .seal_in_place_separate_tag(zero_nonce(), Aad::empty(), &mut out[gcm_start..])
        .map_err(|_| SealError::Crypto)?;
    out.extend_from_slice(tag.as_ref());
    Ok(out)
}

/// Unseals `sealed` with the first of `keys` that opens it under `label`.
///
/// Keys are tried in the order given; put the likeliest first (see [`KeyRing`]).
pub fn unseal<'k>(
    keys: impl IntoIterator<Item = &'k PrivateKey>,
    label: &[u8],
    sealed: &[u8],
) -> Result<Zeroizing<Vec<u8>>, UnsealError> {
    let (rsa_block, gcm_part) = split(sealed)?;
    for key in keys {
        if let Some(plaintext) = unseal_with(key, label, rsa_block, gcm_part) {
            return Ok(plaintext);
        }
    }
    Err(UnsealError)
}

/// Splits a sealed value into its RSA block and GCM part (upstream `ErrTooShort` is
/// folded into the one [`UnsealError`]).
fn split(sealed: &[u8]) -> Result<(&[u8], &[u8]), UnsealError> {
    let (prefix, rest) = sealed
        .split_first_chunk::<LENGTH_PREFIX_LEN>()
        .ok_or(UnsealError)?;
    let rsa_len = usize::from(u16::from_be_bytes(*prefix));
    if rest.len() < rsa_len {
        return Err(UnsealError);
    }
    Ok(rest.split_at(rsa_len))
}

fn unseal_with(
    key: &PrivateKey,
    label: &[u8],
    rsa_block: &[u8],
    gcm_part: &[u8],
) -> Option<Zeroizing<Vec<u8>>> {
    let mut session_key = Zeroizing::new(vec![0u8; key.public_key().size_bytes()]);
    let unwrapped = key
        .oaep()
        .decrypt(
            &OAEP_SHA256_MGF1SHA256,
            rsa_block,
            &mut session_key,
            Some(label),
        )
        .ok()
        .map(|k| k.len());
    let mut buf = Zeroizing::new(gcm_part.to_vec());
    match unwrapped.and_then(|len| gcm_key(&session_key[..len])) {
        Some(cipher) => {
            let len = cipher
                .open_in_place(zero_nonce(), Aad::empty(), &mut buf)
                .ok()?
                .len();
            buf.truncate(len);
            Some(buf)
        }
        None => {
            // Spend the GCM work anyway, so an RSA failure costs about what a GCM
            // failure does. Never report success from this path.
            let dummy = gcm_key(&[0u8; SESSION_KEY_LEN])?;
            let _ = dummy.open_in_place(zero_nonce(), Aad::empty(), &mut buf);
            None
        }
    }
}

/// An AES-GCM key of the session key's size. Go's `aes.NewCipher` accepts 16, 24 and
/// 32 bytes, so a value sealed by another implementation with a shorter key still
/// opens; our own sealing always uses 32.
fn gcm_key(session_key: &[u8]) -> Option<LessSafeKey> {
    let algorithm = match session_key.len() {
        16 => &AES_128_GCM,
        24 => &AES_192_GCM,
        32 => &AES_256_GCM,
        _ => return None,
    };
    UnboundKey::new(algorithm, session_key)
        .ok()
        .map(LessSafeKey::new)
}

fn zero_nonce() -> Nonce {
    // Matches upstream: a zero nonce with a key used exactly once.
    Nonce::assume_unique_for_key([0u8; 12])
}

/// The private keys that unseal, in a stable order, without duplicates.
///
/// Upstream tries keys in Go map order (random). We try the keys whose fingerprints
/// are hinted (from the SealedSecret's fingerprint annotation) first, then the rest
/// in the order they were added.
#[derive(Debug, Default)]
pub struct KeyRing {
    keys: Vec<PrivateKey>,
}

impl KeyRing {
    /// An empty ring.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a key; returns `false` (and drops it) when a key with the same
    /// fingerprint is already there.
    pub fn insert(&mut self, key: PrivateKey) -> bool {
        if self.get(key.fingerprint()).is_some() {
            return false;
        }
        self.keys.push(key);
        true
    }

    /// The key with this fingerprint.
    pub fn get(&self, fingerprint: &Fingerprint) -> Option<&PrivateKey> {
        self.keys.iter().find(|k| k.fingerprint() == fingerprint)
    }

    /// Whether the ring holds no key.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// How many keys the ring holds.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// The keys in insertion order.
    pub fn iter(&self) -> impl Iterator<Item = &PrivateKey> {
        self.keys.iter()
    }

    /// The keys in trial order: hinted ones first (in hint order), then the rest.
    pub fn trial_order<'a, 'h>(
        &'a self,
        hints: &'h [Fingerprint],
    ) -> impl Iterator<Item = &'a PrivateKey> + use<'a, 'h> {
        let hinted = hints.iter().filter_map(|fp| self.get(fp));
        let rest = self
            .keys
            .iter()
            .filter(move |k| !hints.contains(k.fingerprint()));
        hinted.chain(rest)
    }

    /// Unseals with the hinted keys first, then every other key.
    pub fn unseal(
        &self,
        hints: &[Fingerprint],
        label: &[u8],
        sealed: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, UnsealError> {
        self.attempt(hints, label, sealed)
            .result
            .map(|(plaintext, _)| plaintext)
    }

    /// Like [`KeyRing::unseal`], also telling which key opened the value and how many
    /// RSA private-key operations the trial spent (the cost a controller wants to see).
    pub fn attempt(&self, hints: &[Fingerprint], label: &[u8], sealed: &[u8]) -> Attempt<'_> {
        let mut rsa_operations = 0;
        let result = split(sealed).and_then(|(rsa_block, gcm_part)| {
            for key in self.trial_order(hints) {
                rsa_operations += 1;
                if let Some(plaintext) = unseal_with(key, label, rsa_block, gcm_part) {
                    return Ok((plaintext, key));
                }
            }
            Err(UnsealError)
        });
        Attempt {
            result,
            rsa_operations,
        }
    }
}

/// The outcome of [`KeyRing::attempt`].
#[derive(Debug)]
pub struct Attempt<'k> {
    /// The plaintext and the key that opened it, or the one unseal error.
    pub result: Result<(Zeroizing<Vec<u8>>, &'k PrivateKey), UnsealError>,
    /// RSA-OAEP decryptions performed (0 when the blob is structurally too short).
    pub rsa_operations: u64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_keys;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    fn rng() -> ChaCha20Rng {
        ChaCha20Rng::seed_from_u64(42)
    }

    #[test]
    fn attempt_reports_the_key_and_the_rsa_cost() {
        let (a, b) = (test_keys::key_a(), test_keys::key_b());
        let mut ring = KeyRing::new();
        ring.insert(a);
        ring.insert(b);
        let b_key = ring.iter().nth(1).unwrap();
        let sealed = seal(&mut rng(), b_key.public_key(), b"l", b"v").unwrap();

        let unhinted = ring.attempt(&[], b"l", &sealed);
        assert_eq!(unhinted.rsa_operations, 2, "a tried first, then b");
        let (plain, key) = unhinted.result.unwrap();
        assert_eq!(
            (&plain[..], key.fingerprint()),
            (&b"v"[..], b_key.fingerprint())
        );

        let hinted = ring.attempt(std::slice::from_ref(b_key.fingerprint()), b"l", &sealed);
        assert_eq!(hinted.rsa_operations, 1, "the hinted key opens it first");

        let failed = ring.attempt(&[], b"other", &sealed);
        assert_eq!((failed.rsa_operations, failed.result.is_err()), (2, true));
        assert_eq!(ring.attempt(&[], b"l", &[0]).rsa_operations, 0, "too short");
    }

    #[test]
    fn round_trip_with_labels() {
        let key = test_keys::key_a();
        for label in [&b"myns/myname"[..], b"myns", b""] {
            let sealed = seal(&mut rng(), key.public_key(), label, b"hunter2").unwrap();
            let opened = unseal([&key], label, &sealed).unwrap();
            assert_eq!(&opened[..], b"hunter2");
        }
    }

    #[test]
    fn layout_is_prefix_rsa_block_gcm() {
        let key = test_keys::key_a();
        let sealed = seal(&mut rng(), key.public_key(), b"l", b"abc").unwrap();
        assert_eq!(
            &sealed[..2],
            &[0x01, 0x00],
            "2048-bit key: 256-byte RSA block"
        );
        assert_eq!(sealed.len(), 2 + 256 + 3 + GCM_TAG_LEN);
        let key4096 = test_keys::key_c_4096();
        let sealed = seal(&mut rng(), key4096.public_key(), b"l", b"").unwrap();
        assert_eq!(&sealed[..2], &[0x02, 0x00]);
        assert_eq!(sealed.len(), 2 + 512 + GCM_TAG_LEN);
    }

    #[test]
    fn empty_plaintext_round_trips() {
        let key = test_keys::key_a();
        let sealed = seal(&mut rng(), key.public_key(), b"x", b"").unwrap();
        assert!(unseal([&key], b"x", &sealed).unwrap().is_empty());
    }

    #[test]
    fn wrong_label_wrong_key_and_tampering_give_the_same_error() {
        let a = test_keys::key_a();
        let b = test_keys::key_b();
        let sealed = seal(&mut rng(), a.public_key(), b"ns/name", b"v").unwrap();
        assert_eq!(unseal([&a], b"ns/other", &sealed), Err(UnsealError));
        assert_eq!(unseal([&b], b"ns/name", &sealed), Err(UnsealError));
        for i in [0, 1, 2, 100, 257, sealed.len() - 1] {
            let mut bad = sealed.clone();
            bad[i] ^= 0x01;
            assert_eq!(unseal([&a], b"ns/name", &bad), Err(UnsealError), "byte {i}");
        }
        for len in [0, 1, 2, 100, 258, sealed.len() - 1] {
            assert_eq!(unseal([&a], b"ns/name", &sealed[..len]), Err(UnsealError));
        }
        assert_eq!(unseal([], b"ns/name", &sealed), Err(UnsealError));
        assert_eq!(UnsealError.to_string(), NO_KEY_COULD_DECRYPT);
    }

    #[test]
    fn second_key_in_the_list_opens() {
        let a = test_keys::key_a();
        let b = test_keys::key_b();
        let sealed = seal(&mut rng(), b.public_key(), b"", b"v").unwrap();
        assert_eq!(&unseal([&a, &b], b"", &sealed).unwrap()[..], b"v");
    }

    #[test]
    fn gcm_part_is_deterministic_for_a_seeded_rng() {
        // The session key comes from the injected RNG; only the OAEP seed does not.
        let key = test_keys::key_a();
        let one = seal(&mut rng(), key.public_key(), b"l", b"same").unwrap();
        let two = seal(&mut rng(), key.public_key(), b"l", b"same").unwrap();
        assert_ne!(one[2..258], two[2..258], "OAEP is randomised");
        assert_eq!(one[258..], two[258..]);
    }

    #[test]
    fn short_session_keys_from_other_implementations_open() {
        let key = test_keys::key_a();
        for key_len in [16usize, 24, 32] {
            let session = vec![7u8; key_len];
            let mut block = vec![0u8; 256];
            key.public_key()
                .oaep()
                .encrypt(&OAEP_SHA256_MGF1SHA256, &session, &mut block, Some(b"l"))
                .unwrap();
            let mut body = b"payload".to_vec();
            let tag = gcm_key(&session)
                .unwrap()
                .seal_in_place_separate_tag(zero_nonce(), Aad::empty(), &mut body)
                .unwrap();
            let mut sealed = vec![0x01, 0x00];
            sealed.extend_from_slice(&block);
            sealed.extend_from_slice(&body);
            sealed.extend_from_slice(tag.as_ref());
            assert_eq!(&unseal([&key], b"l", &sealed).unwrap()[..], b"payload");
        }
    }

    #[test]
    fn key_ring_dedups_and_orders_hints_first() {
        let mut ring = KeyRing::new();
        assert!(ring.insert(test_keys::key_a()));
        assert!(ring.insert(test_keys::key_b()));
        assert!(!ring.insert(test_keys::key_a()));
        assert_eq!(ring.len(), 2);
        let b = test_keys::key_b();
        let hints = [b.fingerprint().clone(), Fingerprint::new("SHA256:unknown")];
        let order: Vec<_> = ring
            .trial_order(&hints)
            .map(|k| k.fingerprint().clone())
            .collect();
        assert_eq!(
            order,
            [
                b.fingerprint().clone(),
                test_keys::key_a().fingerprint().clone()
            ]
        );
        let sealed = seal(&mut rng(), b.public_key(), b"", b"x").unwrap();
        assert_eq!(&ring.unseal(&hints, b"", &sealed).unwrap()[..], b"x");
        assert_eq!(&ring.unseal(&[], b"", &sealed).unwrap()[..], b"x");
    }
}
