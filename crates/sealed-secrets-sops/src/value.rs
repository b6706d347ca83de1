//! The encrypted-leaf codec: `ENC[AES256_GCM,data:…,iv:…,tag:…,type:…]`.
//!
//! AES-256-GCM with sops's **32-byte** nonce (J0 derived through GHASH, as Go's
//! `NewGCMWithNonceSize`); the AAD is the leaf's key path (`a:b:`).

use std::collections::HashMap;

use aes_gcm::aead::consts::{U12, U16, U32};
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::aes::Aes256;
use aes_gcm::{AesGcm, Key, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rand_core::{OsRng, TryRngCore};
use zeroize::Zeroizing;

use crate::tree::{Scalar, format_float};

/// The nonce length sops writes.
pub const IV_LEN: usize = 32;
const TAG_LEN: usize = 16;
const PREFIX: &str = "ENC[AES256_GCM,data:";

/// The 32-byte data key of a file.
pub type DataKey = Zeroizing<[u8; 32]>;

/// A fresh random data key.
pub fn new_data_key() -> DataKey {
    let mut key = Zeroizing::new([0u8; 32]);
    OsRng
        .try_fill_bytes(key.as_mut())
        .expect("the operating system RNG is available");
    key
}

/// Why a value could not be encrypted or decrypted.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ValueError {
    /// Not `ENC[AES256_GCM,data:…,iv:…,tag:…,type:…]`.
    #[error("not a sops encrypted value (expected ENC[AES256_GCM,data:…,iv:…,tag:…,type:…])")]
    Malformed,
    /// A field is not standard base64.
    #[error("sops encrypted value: the {0} field is not valid base64")]
    Base64(&'static str),
    /// The IV is empty or the tag is not 16 bytes.
    #[error("sops encrypted value: bad IV or tag length")]
    Length,
    /// The GCM tag did not verify: wrong data key, tampered value, or moved to another key path.
    #[error(
        "could not decrypt the value at {path:?}: wrong data key, tampered value, or value moved to another key"
    )]
    Authentication {
        /// The AAD (key path) tried.
        path: String,
    },
    /// The decrypted plaintext does not parse as its `type:`.
    #[error("the value at {path:?} does not decrypt to a valid {typ}")]
    BadPlaintext {
        /// The AAD (key path).
        path: String,
        /// The declared type.
        typ: String,
    },
    /// An unknown `type:`.
    #[error("unknown sops value type {0:?}")]
    UnknownType(String),
}

/// The parts of an `ENC[…]` string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncryptedValue {
    /// Ciphertext without the tag.
    pub data: Vec<u8>,
    /// Nonce (any length on read; 32 on write).
    pub iv: Vec<u8>,
    /// GCM tag (16 bytes).
    pub tag: Vec<u8>,
    /// The `type:` field.
    pub typ: String,
}

impl EncryptedValue {
    /// Whether a string looks like an encrypted value (sops's regex is anchored only
    /// at the start).
    pub fn is_encrypted(s: &str) -> bool {
        s.starts_with(PREFIX)
    }

    /// Parses `ENC[…]` the way sops's start-anchored, greedy regex does.
    pub fn parse(s: &str) -> Result<Self, ValueError> {
        let rest = s.strip_prefix(PREFIX).ok_or(ValueError::Malformed)?;
        // Greedy groups: take the last occurrence of each separator.
        let end = rest.rfind(']').ok_or(ValueError::Malformed)?;
        let rest = &rest[..end];
        let (rest, typ) = rest.rsplit_once(",type:").ok_or(ValueError::Malformed)?;
        let (rest, tag) = rest.rsplit_once(",tag:").ok_or(ValueError::Malformed)?;
        let (data, iv) = rest.rsplit_once(",iv:").ok_or(ValueError::Malformed)?;
        if data.is_empty() || iv.is_empty() || tag.is_empty() || typ.is_empty() {
            return Err(ValueError::Malformed);
        }
        let dec = |v: &str, what| STANDARD.decode(v).map_err(|_| ValueError::Base64(what));
        Ok(Self {
            data: dec(data, "data")?,
            iv: dec(iv, "iv")?,
            tag: dec(tag, "tag")?,
            typ: typ.to_owned(),
        })
    }

    /// Formats as `ENC[AES256_GCM,data:…,iv:…,tag:…,type:…]`.
    pub fn format(&self) -> String {
        format!(
            "{PREFIX}{},iv:{},tag:{},type:{}]",
            STANDARD.encode(&self.data),
            STANDARD.encode(&self.iv),
            STANDARD.encode(&self.tag),
            self.typ
        )
    }
}

/// What a value decrypts to.
#[derive(Debug, Clone, PartialEq)]
pub enum Plain {
    /// A typed leaf.
    Scalar(Scalar),
    /// A comment (`type:comment`).
    Comment(String),
}

impl Plain {
    fn bytes_and_type(&self) -> (Zeroizing<Vec<u8>>, &'static str) {
        match self {
            Plain::Scalar(s) => (Zeroizing::new(s.to_bytes()), s.type_name()),
            Plain::Comment(c) => (Zeroizing::new(c.as_bytes().to_vec()), "comment"),
        }
    }

    fn stash_key(&self, aad: &str) -> (String, String) {
        let (bytes, typ) = self.bytes_and_type();
        (
            aad.to_owned(),
            format!("{typ}:{}", String::from_utf8_lossy(&bytes)),
        )
    }
}

/// Encrypts and decrypts values under one data key. It remembers the IV of each
/// value it decrypted so an unchanged value re-encrypts to the same text (as sops's
/// cipher stash does: small git diffs after edit or rotate).
pub struct Cipher {
    stash: HashMap<(String, String), Vec<u8>>,
}

impl Default for Cipher {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for Cipher {
    fn drop(&mut self) {
        // The stash keys hold plaintexts.
        for ((a, mut p), _) in self.stash.drain() {
            drop(a);
            zeroize::Zeroize::zeroize(&mut p);
        }
    }
}

type Gcm32 = AesGcm<Aes256, U32, U16>;
type Gcm12 = AesGcm<Aes256, U12, U16>;

fn gcm_encrypt(key: &[u8; 32], iv: &[u8], plaintext: &[u8], aad: &[u8]) -> Vec<u8> {
    let key = Key::<Gcm32>::from_slice(key);
    let payload = Payload {
        msg: plaintext,
        aad,
    };
    match iv.len() {
        IV_LEN => Gcm32::new(key)
            .encrypt(Nonce::<U32>::from_slice(iv), payload)
            .expect("AES-GCM encryption of an in-memory value cannot fail"),
        _ => Gcm12::new(key)
            .encrypt(Nonce::<U12>::from_slice(iv), payload)
            .expect("AES-GCM encryption of an in-memory value cannot fail"),
    }
}

fn gcm_decrypt(key: &[u8; 32], ev: &EncryptedValue, aad: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
    let mut ct = ev.data.clone();
    ct.extend_from_slice(&ev.tag);
    let payload = Payload { msg: &ct, aad };
    let key = Key::<Gcm32>::from_slice(key);
    match ev.iv.len() {
        IV_LEN => Gcm32::new(key)
            .decrypt(Nonce::<U32>::from_slice(&ev.iv), payload)
            .ok(),
        12 => Gcm12::new(key)
            .decrypt(Nonce::<U12>::from_slice(&ev.iv), payload)
            .ok(),
        // Other nonce sizes are legal for Go but never written by sops.
        _ => None,
    }
    .map(Zeroizing::new)
}

impl Cipher {
    /// A cipher with an empty IV stash.
    pub fn new() -> Self {
        Self {
            stash: HashMap::new(),
        }
    }

    /// Encrypts `value` with AAD `aad`. Empty strings and comments stay empty, as in sops.
    pub fn encrypt(&self, key: &[u8; 32], value: &Plain, aad: &str) -> String {
        if matches!(value, Plain::Scalar(Scalar::Str(s)) | Plain::Comment(s) if s.is_empty()) {
            return String::new();
        }
        let (bytes, typ) = value.bytes_and_type();
        let iv = match self.stash.get(&value.stash_key(aad)) {
            Some(iv) => iv.clone(),
            None => {
                let mut iv = vec![0u8; IV_LEN];
                OsRng
                    .try_fill_bytes(&mut iv)
                    .expect("the operating system RNG is available");
                iv
            }
        };
        let mut out = gcm_encrypt(key, &iv, &bytes, aad.as_bytes());
        let tag = out.split_off(out.len() - TAG_LEN);
        EncryptedValue {
            data: out,
            iv,
            tag,
            typ: typ.to_owned(),
        }
        .format()
    }

    /// Decrypts an `ENC[…]` string with AAD `aad`. `""` decrypts to `""`.
    pub fn decrypt(&mut self, key: &[u8; 32], text: &str, aad: &str) -> Result<Plain, ValueError> {
        if text.is_empty() {
            return Ok(Plain::Scalar(Scalar::Str(String::new())));
        }
        let ev = EncryptedValue::parse(text)?;
        if ev.iv.is_empty() || ev.tag.len() != TAG_LEN {
            return Err(ValueError::Length);
        }
        let bytes =
            gcm_decrypt(key, &ev, aad.as_bytes()).ok_or_else(|| ValueError::Authentication {
                path: aad.to_owned(),
            })?;
        let bad = || ValueError::BadPlaintext {
            path: aad.to_owned(),
            typ: ev.typ.clone(),
        };
        let text = std::str::from_utf8(&bytes).map_err(|_| bad());
        let plain = match ev.typ.as_str() {
            "str" | "bytes" => Plain::Scalar(match text {
                Ok(t) => Scalar::Str(t.to_owned()),
                Err(_) => Scalar::Bytes(bytes.to_vec()),
            }),
            "comment" => Plain::Comment(text?.to_owned()),
            "int" => Plain::Scalar(Scalar::Int(text?.parse().map_err(|_| bad())?)),
            "float" => Plain::Scalar(Scalar::Float(parse_go_float(text?).ok_or_else(bad)?)),
            "bool" => Plain::Scalar(Scalar::Bool(parse_go_bool(text?).ok_or_else(bad)?)),
            "time" => Plain::Scalar(Scalar::Time(text?.to_owned())),
            other => return Err(ValueError::UnknownType(other.to_owned())),
        };
        self.stash.insert(plain.stash_key(aad), ev.iv);
        Ok(plain)
    }
}

/// Go's `strconv.ParseBool`.
pub fn parse_go_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// Go's `strconv.ParseFloat` for the texts sops writes (decimal, `+Inf`, `NaN`).
pub fn parse_go_float(s: &str) -> Option<f64> {
    match s {
        "+Inf" | "Inf" | "+inf" | "inf" | "+Infinity" | "Infinity" => Some(f64::INFINITY),
        "-Inf" | "-inf" | "-Infinity" => Some(f64::NEG_INFINITY),
        "NaN" | "nan" => Some(f64::NAN),
        _ => {
            let f: f64 = s.parse().ok()?;
            // Rust accepts "inf"/"nan" spellings Go does not; those were handled above.
            f.is_finite().then_some(f)
        }
    }
}

/// `format_float` re-exported for the formats.
pub fn float_text(f: f64) -> String {
    format_float(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: [u8; 32] = [7u8; 32];

    #[test]
    fn round_trip_every_type() {
        let mut c = Cipher::new();
        for v in [
            Plain::Scalar(Scalar::Str("héllo".into())),
            Plain::Scalar(Scalar::Int(-5)),
            Plain::Scalar(Scalar::Float(2.5)),
            Plain::Scalar(Scalar::Bool(true)),
            Plain::Scalar(Scalar::Time("2024-01-01T00:00:00Z".into())),
            Plain::Comment(" a comment".into()),
        ] {
            let enc = c.encrypt(&KEY, &v, "a:b:");
            let ev = EncryptedValue::parse(&enc).unwrap();
            assert_eq!(ev.iv.len(), IV_LEN);
            assert_eq!(ev.format(), enc);
            assert_eq!(c.decrypt(&KEY, &enc, "a:b:").unwrap(), v);
        }
    }

    #[test]
    fn wrong_path_or_key_or_tamper_fails() {
        let mut c = Cipher::new();
        let enc = c.encrypt(&KEY, &Plain::Scalar(Scalar::Str("x".into())), "a:");
        assert!(matches!(
            c.decrypt(&KEY, &enc, "b:"),
            Err(ValueError::Authentication { .. })
        ));
        assert!(matches!(
            c.decrypt(&[8u8; 32], &enc, "a:"),
            Err(ValueError::Authentication { .. })
        ));
        let mut ev = EncryptedValue::parse(&enc).unwrap();
        ev.data[0] ^= 1;
        assert!(c.decrypt(&KEY, &ev.format(), "a:").is_err());
        assert!(matches!(
            EncryptedValue::parse("ENC[AES256_GCM,data:x]"),
            Err(ValueError::Malformed)
        ));
    }

    #[test]
    fn empty_strings_stay_empty() {
        let mut c = Cipher::new();
        assert_eq!(
            c.encrypt(&KEY, &Plain::Scalar(Scalar::Str(String::new())), "a:"),
            ""
        );
        assert_eq!(
            c.decrypt(&KEY, "", "a:").unwrap(),
            Plain::Scalar(Scalar::Str(String::new()))
        );
    }

    #[test]
    fn decrypted_values_keep_their_iv_on_re_encrypt() {
        let c0 = Cipher::new();
        let v = Plain::Scalar(Scalar::Str("same".into()));
        let enc = c0.encrypt(&KEY, &v, "k:");
        let mut c = Cipher::new();
        c.decrypt(&KEY, &enc, "k:").unwrap();
        assert_eq!(c.encrypt(&KEY, &v, "k:"), enc);
        assert_ne!(
            c0.encrypt(&KEY, &v, "k:"),
            enc,
            "fresh encryption draws a new IV"
        );
    }

    /// Go accepts any nonce size on decrypt; 12 bytes is the one other size seen.
    #[test]
    fn twelve_byte_ivs_are_read() {
        let mut iv = [1u8; 12].to_vec();
        let mut out = gcm_encrypt(&KEY, &iv, b"v", b"a:");
        let tag = out.split_off(out.len() - 16);
        let text = EncryptedValue {
            data: out,
            iv: std::mem::take(&mut iv),
            tag,
            typ: "str".into(),
        }
        .format();
        let mut c = Cipher::new();
        assert_eq!(
            c.decrypt(&KEY, &text, "a:").unwrap(),
            Plain::Scalar(Scalar::Str("v".into()))
        );
    }
}
