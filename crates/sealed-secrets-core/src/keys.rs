//! RSA public and private keys, their fingerprints, and the key ring that unseals.
//!
//! aws-lc-rs does the RSA (blinded, constant time). It only takes SubjectPublicKeyInfo
//! DER for public keys and PKCS#8 for private keys, so this module converts: the Go
//! controller writes PKCS#1 (`RSA PRIVATE KEY`) into its key Secrets, and reads both.

use std::fmt;
use std::sync::Arc;

use aws_lc_rs::digest;
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::{
    KeySize, OaepPrivateDecryptingKey, OaepPublicEncryptingKey, PrivateDecryptingKey,
    PublicEncryptingKey,
};
use aws_lc_rs::signature::RsaKeyPair;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use x509_parser::prelude::FromDer;
use x509_parser::public_key::PublicKey as ParsedPublicKey;
use x509_parser::x509::SubjectPublicKeyInfo;
use zeroize::Zeroizing;

use crate::der;

/// PEM label of a PKCS#1 RSA private key (what the Go controller writes).
pub const PEM_RSA_PRIVATE_KEY: &str = "RSA PRIVATE KEY";
/// PEM label of a PKCS#8 private key (what `openssl req -newkey` writes).
pub const PEM_PRIVATE_KEY: &str = "PRIVATE KEY";

/// The OpenSSH SHA-256 fingerprint of an RSA public key: `SHA256:` followed by the
/// unpadded standard base64 of SHA-256 over the SSH wire encoding.
///
/// Upstream keys its in-memory registry by this value (`PublicKeyFingerprint` in
/// `pkg/crypto/crypto.go`); we also write it on SealedSecrets, so it is the key's
/// identity, stable across certificates re-issued for the same key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Fingerprint(String);

impl Fingerprint {
    /// Wraps a fingerprint read from elsewhere (an annotation); no validation.
    pub fn new(value: impl Into<String>) -> Self {
        Fingerprint(value.into())
    }

    /// The `SHA256:…` text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn of_rsa(modulus: &[u8], exponent: &[u8]) -> Self {
        let mut wire = Vec::with_capacity(modulus.len() + 32);
        ssh_string(&mut wire, b"ssh-rsa");
        ssh_mpint(&mut wire, exponent);
        ssh_mpint(&mut wire, modulus);
        let hash = digest::digest(&digest::SHA256, &wire);
        Fingerprint(format!("SHA256:{}", STANDARD_NO_PAD.encode(hash.as_ref())))
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn ssh_string(out: &mut Vec<u8>, bytes: &[u8]) {
    let len = u32::try_from(bytes.len()).expect("SSH field of an RSA key fits in u32");
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(bytes);
}

/// RFC 4251 mpint of a non-negative big-endian integer: minimal, with a 0x00 in
/// front when the top bit is set.
fn ssh_mpint(out: &mut Vec<u8>, unsigned_be: &[u8]) {
    let trimmed = match unsigned_be.iter().position(|&b| b != 0) {
        Some(i) => &unsigned_be[i..],
        None => &[],
    };
    if trimmed.first().is_some_and(|&b| b & 0x80 != 0) {
        let mut padded = Vec::with_capacity(trimmed.len() + 1);
        padded.push(0);
        padded.extend_from_slice(trimmed);
        ssh_string(out, &padded);
    } else {
        ssh_string(out, trimmed);
    }
}

/// Why a key could not be read, generated or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The input holds no PEM block with a private key.
    #[error("no private key found: expected a PEM block \"RSA PRIVATE KEY\" or \"PRIVATE KEY\"")]
    NoPrivateKey,
    /// The PEM text could not be parsed.
    #[error("invalid PEM: {0}")]
    Pem(String),
    /// The private key is well-formed but not RSA (an EC or Ed25519 key, say).
    #[error("private key is not an RSA key")]
    NotRsa,
    /// The key bytes are not a valid RSA key of the stated encoding.
    #[error("invalid RSA {encoding} private key")]
    InvalidPrivateKey {
        /// `PKCS#1` or `PKCS#8`.
        encoding: &'static str,
    },
    /// The public key is not an RSA SubjectPublicKeyInfo we can use.
    #[error("expected RSA public key: {0}")]
    InvalidPublicKey(String),
    /// The public key is RSA but shorter than aws-lc accepts for encryption.
    #[error(
        "the certificate's RSA key has {0} bits, too few to seal to: use a certificate with a 2048- to 8192-bit key"
    )]
    TooSmall(usize),
    /// The requested key size is not one we can generate.
    #[error("unsupported RSA key size {0}: use 2048, 3072, 4096 or 8192")]
    UnsupportedSize(usize),
    /// The RSA library failed (key generation or encoding).
    #[error("RSA key operation failed")]
    Crypto,
}

/// Bits of a big-endian modulus, leading zeros not counted.
fn modulus_bits(modulus: &[u8]) -> usize {
    let digits = match modulus.iter().position(|b| *b != 0) {
        Some(first) => &modulus[first..],
        None => return 0,
    };
    digits.len() * 8 - digits[0].leading_zeros() as usize
}

/// An RSA public key that values are sealed to.
#[derive(Clone)]
pub struct PublicKey {
    // Arc: the aws-lc key is not Clone, and certificates are.
    oaep: Arc<OaepPublicEncryptingKey>,
    spki_der: Vec<u8>,
    fingerprint: Fingerprint,
}

impl PublicKey {
    /// Reads a DER SubjectPublicKeyInfo holding an RSA key.
    pub fn from_spki_der(spki_der: &[u8]) -> Result<Self, KeyError> {
        let (_, spki) = SubjectPublicKeyInfo::from_der(spki_der)
            .map_err(|e| KeyError::InvalidPublicKey(e.to_string()))?;
        let fingerprint = match spki.parsed() {
            Ok(ParsedPublicKey::RSA(rsa)) => Fingerprint::of_rsa(rsa.modulus, rsa.exponent),
            Ok(other) => {
                return Err(KeyError::InvalidPublicKey(format!(
                    "found {}",
                    public_key_kind(&other)
                )));
            }
            Err(e) => return Err(KeyError::InvalidPublicKey(e.to_string())),
        };
        let key = PublicEncryptingKey::from_der(spki_der).map_err(|e| {
            match spki.parsed() {
                // aws-lc refuses keys under 2048 bits: say so in words, with the size.
                Ok(ParsedPublicKey::RSA(rsa)) if modulus_bits(rsa.modulus) < 2048 => {
                    KeyError::TooSmall(modulus_bits(rsa.modulus))
                }
                _ => KeyError::InvalidPublicKey(e.to_string()),
            }
        })?;
        let oaep = OaepPublicEncryptingKey::new(key).map_err(|_| KeyError::Crypto)?;
        Ok(PublicKey {
            oaep: Arc::new(oaep),
            spki_der: spki_der.to_vec(),
            fingerprint,
        })
    }

    /// The key's fingerprint.
    pub fn fingerprint(&self) -> &Fingerprint {
        &self.fingerprint
    }

    /// Modulus size in bits.
    pub fn bits(&self) -> usize {
        self.oaep.key_size_bits()
    }

    /// Modulus size in bytes: the length of every RSA block sealed to this key.
    pub fn size_bytes(&self) -> usize {
        self.oaep.key_size_bytes()
    }

    /// The DER SubjectPublicKeyInfo.
    pub fn spki_der(&self) -> &[u8] {
        &self.spki_der
    }

    pub(crate) fn oaep(&self) -> &OaepPublicEncryptingKey {
        &self.oaep
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({}, {} bits)", self.fingerprint, self.bits())
    }
}

impl PartialEq for PublicKey {
    fn eq(&self, other: &Self) -> bool {
        self.spki_der == other.spki_der
    }
}

impl Eq for PublicKey {}

fn public_key_kind(key: &ParsedPublicKey<'_>) -> &'static str {
    match key {
        ParsedPublicKey::RSA(_) => "RSA",
        ParsedPublicKey::EC(_) => "an EC key",
        ParsedPublicKey::DSA(_) => "a DSA key",
        ParsedPublicKey::GostR3410(_) | ParsedPublicKey::GostR3410_2012(_) => "a GOST key",
        ParsedPublicKey::Unknown(_) => "an unknown key type",
    }
}

/// Secret DER as one PEM block the way Go's `pem.Encode` writes it (64 columns, LF
/// line ends), with no copy of the bytes left behind.
pub fn secret_pem(label: &str, der: &[u8]) -> Zeroizing<String> {
    let block = pem::Pem::new(label, der.to_vec());
    let text = Zeroizing::new(pem::encode_config(
        &block,
        pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF),
    ));
    // `block` owns a copy of the key bytes; wipe it before it is dropped.
    let mut contents = block.into_contents();
    zeroize::Zeroize::zeroize(&mut contents);
    text
}

/// An RSA private key that unseals. `Debug` shows only the fingerprint.
pub struct PrivateKey {
    oaep: OaepPrivateDecryptingKey,
    pkcs8: Zeroizing<Vec<u8>>,
    public: PublicKey,
}

impl PrivateKey {
    /// Generates a new key of `bits` (2048, 3072, 4096 or 8192) from the system RNG.
    ///
    /// aws-lc-rs draws its own randomness for prime generation; there is no way to
    /// inject an RNG here, which is why key generation has no golden vector.
    pub fn generate(bits: usize) -> Result<Self, KeyError> {
        let size = match bits {
            2048 => KeySize::Rsa2048,
            3072 => KeySize::Rsa3072,
            4096 => KeySize::Rsa4096,
            8192 => KeySize::Rsa8192,
            other => return Err(KeyError::UnsupportedSize(other)),
        };
        let key = PrivateDecryptingKey::generate(size).map_err(|_| KeyError::Crypto)?;
        let pkcs8 = key.as_der().map_err(|_| KeyError::Crypto)?;
        Self::from_pkcs8_der(pkcs8.as_ref())
    }

    /// Reads the first private key in PEM text: PKCS#1 (`RSA PRIVATE KEY`) or
    /// PKCS#8 (`PRIVATE KEY`), as client-go's `ParsePrivateKeyPEM` accepts.
    /// Other blocks (certificates, say) are skipped.
    pub fn from_pem(pem_text: &[u8]) -> Result<Self, KeyError> {
        let blocks = pem::parse_many(pem_text).map_err(|e| KeyError::Pem(e.to_string()))?;
        blocks
            .iter()
            .find_map(Self::from_block)
            .unwrap_or(Err(KeyError::NoPrivateKey))
    }

    /// Reads every private key in PEM text (a file of concatenated keys, as a
    /// backup of several controller keys often is).
    pub fn all_from_pem(pem_text: &[u8]) -> Result<Vec<Self>, KeyError> {
        let blocks = pem::parse_many(pem_text).map_err(|e| KeyError::Pem(e.to_string()))?;
        let keys = blocks
            .iter()
            .filter_map(Self::from_block)
            .collect::<Result<Vec<_>, _>>()?;
        if keys.is_empty() {
            return Err(KeyError::NoPrivateKey);
        }
        Ok(keys)
    }

    /// The key in one PEM block, `None` for a block that is no private key.
    fn from_block(block: &pem::Pem) -> Option<Result<Self, KeyError>> {
        match block.tag() {
            PEM_RSA_PRIVATE_KEY => Some(Self::from_pkcs1_der(block.contents())),
            PEM_PRIVATE_KEY => Some(Self::from_pkcs8_der(block.contents())),
            "EC PRIVATE KEY" | "OPENSSH PRIVATE KEY" | "DSA PRIVATE KEY" => {
                Some(Err(KeyError::NotRsa))
            }
            _ => None,
        }
    }

    /// Reads a DER PKCS#1 `RSAPrivateKey`.
    pub fn from_pkcs1_der(der: &[u8]) -> Result<Self, KeyError> {
        let pair = RsaKeyPair::from_der(der)
            .map_err(|_| KeyError::InvalidPrivateKey { encoding: "PKCS#1" })?;
        let pkcs8 = pair.as_der().map_err(|_| KeyError::Crypto)?;
        Self::from_pkcs8_der(pkcs8.as_ref())
    }

    /// Reads a DER PKCS#8 `PrivateKeyInfo` holding an RSA key.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, KeyError> {
        if !der::pkcs8_is_rsa(der) {
            return Err(if der::pkcs8_algorithm(der).is_some() {
                KeyError::NotRsa
            } else {
                KeyError::InvalidPrivateKey { encoding: "PKCS#8" }
            });
        }
        let key = PrivateDecryptingKey::from_pkcs8(der)
            .map_err(|_| KeyError::InvalidPrivateKey { encoding: "PKCS#8" })?;
        let spki = key.public_key().as_der().map_err(|_| KeyError::Crypto)?;
        let public = PublicKey::from_spki_der(spki.as_ref())?;
        let oaep = OaepPrivateDecryptingKey::new(key).map_err(|_| KeyError::Crypto)?;
        Ok(PrivateKey {
            oaep,
            pkcs8: Zeroizing::new(der.to_vec()),
            public,
        })
    }

    /// The matching public key.
    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }

    /// The key's fingerprint (that of its public key).
    pub fn fingerprint(&self) -> &Fingerprint {
        self.public.fingerprint()
    }

    /// The DER PKCS#8 encoding.
    pub fn pkcs8_der(&self) -> &[u8] {
        &self.pkcs8
    }

    /// PEM `RSA PRIVATE KEY` (PKCS#1), the encoding the Go controller writes into
    /// `tls.key` of its key Secrets.
    pub fn to_pkcs1_pem(&self) -> Result<Zeroizing<String>, KeyError> {
        Ok(secret_pem(PEM_RSA_PRIVATE_KEY, &self.to_pkcs1_der()?))
    }

    /// The DER PKCS#1 `RSAPrivateKey` (what the PEM of [`Self::to_pkcs1_pem`] holds).
    pub fn to_pkcs1_der(&self) -> Result<Zeroizing<Vec<u8>>, KeyError> {
        let pkcs1 = der::pkcs8_inner_key(&self.pkcs8).ok_or(KeyError::Crypto)?;
        Ok(Zeroizing::new(pkcs1.to_vec()))
    }

    pub(crate) fn oaep(&self) -> &OaepPrivateDecryptingKey {
        &self.oaep
    }
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PrivateKey({}, <redacted>)", self.fingerprint())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_keys_of_a_concatenated_pem_file() {
        let mut text = include_bytes!("../testdata/key-a.pem").to_vec();
        text.extend_from_slice(include_bytes!("../testdata/cert-a.pem"));
        text.extend_from_slice(include_bytes!("../testdata/key-b.pem"));
        let keys = PrivateKey::all_from_pem(&text).unwrap();
        assert_eq!(keys.len(), 2);
        assert_ne!(keys[0].fingerprint(), keys[1].fingerprint());
        assert!(matches!(
            PrivateKey::all_from_pem(include_bytes!("../testdata/cert-a.pem")),
            Err(KeyError::NoPrivateKey)
        ));
    }
    use crate::test_keys;

    #[test]
    fn mpint_adds_sign_byte_and_trims_leading_zeros() {
        let mut out = Vec::new();
        ssh_mpint(&mut out, &[0x00, 0x00, 0x80, 0x01]);
        assert_eq!(out, [0, 0, 0, 3, 0x00, 0x80, 0x01]);
        out.clear();
        ssh_mpint(&mut out, &[0x01, 0x00, 0x01]);
        assert_eq!(out, [0, 0, 0, 3, 0x01, 0x00, 0x01]);
    }

    #[test]
    fn pkcs1_and_pkcs8_pem_give_the_same_key() {
        let key = test_keys::key_a();
        let pkcs1 = key.to_pkcs1_pem().unwrap();
        assert!(pkcs1.starts_with("-----BEGIN RSA PRIVATE KEY-----\n"));
        let from_pkcs1 = PrivateKey::from_pem(pkcs1.as_bytes()).unwrap();
        let pkcs8 = pem::encode(&pem::Pem::new(PEM_PRIVATE_KEY, key.pkcs8_der().to_vec()));
        let from_pkcs8 = PrivateKey::from_pem(pkcs8.as_bytes()).unwrap();
        assert_eq!(from_pkcs1.fingerprint(), key.fingerprint());
        assert_eq!(from_pkcs8.fingerprint(), key.fingerprint());
        // Re-encoding is stable: PKCS#1 → PKCS#8 → PKCS#1 is byte-identical.
        assert_eq!(*from_pkcs1.to_pkcs1_pem().unwrap(), *pkcs1);
    }

    #[test]
    fn fingerprint_of_the_test_key_is_pinned() {
        // Computed independently with `ssh-keygen -lf` on the public key of
        // testdata/key-a.pem (see testdata/README.md).
        assert_eq!(
            test_keys::key_a().fingerprint().as_str(),
            test_keys::KEY_A_FINGERPRINT
        );
    }

    #[test]
    fn debug_never_shows_key_material() {
        let key = test_keys::key_a();
        let shown = format!("{key:?}");
        assert!(shown.contains("<redacted>"));
        assert!(!shown.contains("BEGIN"));
    }

    #[test]
    fn non_key_pem_is_rejected() {
        let cert_only = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        assert!(matches!(
            PrivateKey::from_pem(cert_only.as_bytes()),
            Err(KeyError::NoPrivateKey)
        ));
        assert!(matches!(
            PrivateKey::from_pem(b"not pem at all"),
            Err(KeyError::NoPrivateKey) | Err(KeyError::Pem(_))
        ));
    }

    #[test]
    fn ec_key_is_rejected_as_not_rsa() {
        // PKCS#8 P-256 key generated by `openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256`.
        let ec = include_str!("../testdata/ec-p256.pem");
        assert!(matches!(
            PrivateKey::from_pem(ec.as_bytes()),
            Err(KeyError::NotRsa)
        ));
    }

    #[test]
    fn garbage_pkcs1_is_invalid() {
        let block = pem::encode(&pem::Pem::new(
            PEM_RSA_PRIVATE_KEY,
            vec![0x30, 0x03, 1, 2, 3],
        ));
        assert!(matches!(
            PrivateKey::from_pem(block.as_bytes()),
            Err(KeyError::InvalidPrivateKey { encoding: "PKCS#1" })
        ));
    }

    #[test]
    fn unsupported_size_is_rejected_before_work() {
        assert!(matches!(
            PrivateKey::generate(1000),
            Err(KeyError::UnsupportedSize(1000))
        ));
    }
}
