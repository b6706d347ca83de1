//! Private keys for Sprig's certificate functions (`crypto.go`): made or read the way
//! Sprig makes and reads them, and written in the PEM forms its `pemBlockForKey`
//! writes: PKCS#1 `RSA PRIVATE KEY`, SEC1 `EC PRIVATE KEY` (with the curve and the
//! public point, as Go's `MarshalECPrivateKey`), PKCS#8 `PRIVATE KEY` for Ed25519.
//! Key bytes live in `Zeroizing` buffers; messages never hold key material.

use aws_lc_rs::encoding::AsBigEndian as _;
use aws_lc_rs::signature::{
    self, EcdsaKeyPair, EcdsaSigningAlgorithm, Ed25519KeyPair, KeyPair as _,
};
use rustls_pki_types::{PrivateKeyDer, PrivatePkcs1KeyDer, PrivatePkcs8KeyDer, PrivateSec1KeyDer};
use sealed_secrets_core::PrivateKey as RsaKey;
use sealed_secrets_core::der::{read_tlv, write_tlv as tlv};
pub(super) use sealed_secrets_core::keys::secret_pem as pem_encode;
use zeroize::Zeroizing;

/// PEM labels Sprig writes and reads.
pub(super) const PEM_RSA: &str = "RSA PRIVATE KEY";
pub(super) const PEM_EC: &str = "EC PRIVATE KEY";
pub(super) const PEM_PKCS8: &str = "PRIVATE KEY";
const PEM_DSA: &str = "DSA PRIVATE KEY";

/// What Go's `x509.CreateCertificate` says of a key that cannot sign (a DSA key).
pub(super) const NOT_A_SIGNER: &str =
    "x509: certificate private key does not implement crypto.Signer";

/// The NIST curves Go's `x509.ParseECPrivateKey` reads and Go can sign with here.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Curve {
    P256,
    P384,
    P521,
}

impl Curve {
    const ALL: [Curve; 3] = [Curve::P256, Curve::P384, Curve::P521];

    fn signing(self) -> &'static EcdsaSigningAlgorithm {
        match self {
            Curve::P256 => &signature::ECDSA_P256_SHA256_ASN1_SIGNING,
            Curve::P384 => &signature::ECDSA_P384_SHA384_ASN1_SIGNING,
            Curve::P521 => &signature::ECDSA_P521_SHA512_ASN1_SIGNING,
        }
    }

    /// Go signs with SHA-256, SHA-384 and SHA-512 on these curves.
    fn certificate_algorithm(self) -> &'static rcgen::SignatureAlgorithm {
        match self {
            Curve::P256 => &rcgen::PKCS_ECDSA_P256_SHA256,
            Curve::P384 => &rcgen::PKCS_ECDSA_P384_SHA384,
            Curve::P521 => &rcgen::PKCS_ECDSA_P521_SHA512,
        }
    }

    /// DER of the curve's OID (RFC 5480 §2.1.1.1).
    fn oid_der(self) -> &'static [u8] {
        match self {
            // 1.2.840.10045.3.1.7
            Curve::P256 => &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07],
            // 1.3.132.0.34
            Curve::P384 => &[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22],
            // 1.3.132.0.35
            Curve::P521 => &[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23],
        }
    }
}

/// A private key as Sprig holds one: its kind and its DER in the form Sprig writes.
pub(super) struct PrivKey {
    kind: Kind,
    /// PKCS#1 for RSA, SEC1 for EC, PKCS#8 for Ed25519; the input DER for DSA.
    der: Zeroizing<Vec<u8>>,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Rsa,
    Ec(Curve),
    Ed25519,
    /// Go reads DSA keys but cannot make a certificate with one.
    Dsa,
}

/// A key `genPrivateKey` was asked for.
pub(super) enum KeyType {
    Rsa,
    Ecdsa,
    Ed25519,
    Dsa,
}

impl KeyType {
    /// Sprig's names: `""` and `rsa`, `ecdsa`, `ed25519`, `dsa`; any other is not a key type.
    pub(super) fn from_name(name: &[u8]) -> Option<KeyType> {
        match name {
            b"" | b"rsa" => Some(KeyType::Rsa),
            b"ecdsa" => Some(KeyType::Ecdsa),
            b"ed25519" => Some(KeyType::Ed25519),
            b"dsa" => Some(KeyType::Dsa),
            _ => None,
        }
    }
}

/// Failed to make a key: the generator failed or the type is one we do not make.
#[derive(Debug)]
pub(super) struct GenerateError(pub(super) &'static str);

impl PrivKey {
    /// A new key of `typ`: RSA of `rsa_bits` (Sprig: 4096 for `genPrivateKey`, 2048 in
    /// the certificate functions), EC on P-256, or Ed25519.
    pub(super) fn generate(typ: &KeyType, rsa_bits: usize) -> Result<PrivKey, GenerateError> {
        const FAILED: GenerateError = GenerateError("the key generator failed");
        match typ {
            KeyType::Rsa => {
                let key = RsaKey::generate(rsa_bits).map_err(|_| FAILED)?;
                Self::from_rsa(&key).ok_or(FAILED)
            }
            KeyType::Ecdsa => {
                let pair = EcdsaKeyPair::generate(Curve::P256.signing()).map_err(|_| FAILED)?;
                Self::from_ec(&pair, Curve::P256).ok_or(FAILED)
            }
            KeyType::Ed25519 => {
                let pair = Ed25519KeyPair::generate().map_err(|_| FAILED)?;
                Self::from_ed25519(&pair).ok_or(FAILED)
            }
            // Go's crypto/dsa is deprecated and made a 2048-bit group in seconds; no
            // crate we trust makes DSA keys.
            KeyType::Dsa => Err(GenerateError(
                "sealed-secrets-rs does not generate DSA keys (deprecated in Go; use rsa, ecdsa or ed25519)",
            )),
        }
    }

    fn from_rsa(key: &RsaKey) -> Option<PrivKey> {
        Some(PrivKey {
            kind: Kind::Rsa,
            der: key.to_pkcs1_der().ok()?,
        })
    }

    /// Go's `MarshalECPrivateKey`: version 1, the scalar padded to the field size, the
    /// curve, the uncompressed public point.
    fn from_ec(pair: &EcdsaKeyPair, curve: Curve) -> Option<PrivKey> {
        let scalar = pair.private_key().as_be_bytes().ok()?;
        let point = pair.public_key().as_ref();
        let mut bits = Zeroizing::new(vec![0u8]);
        bits.extend_from_slice(point);
        let mut body = Zeroizing::new(tlv(0x02, &[1]));
        body.extend_from_slice(&tlv(0x04, scalar.as_ref()));
        body.extend_from_slice(&tlv(0xa0, curve.oid_der()));
        body.extend_from_slice(&tlv(0xa1, &tlv(0x03, &bits)));
        Some(PrivKey {
            kind: Kind::Ec(curve),
            der: Zeroizing::new(tlv(0x30, &body)),
        })
    }

    /// Go's `MarshalPKCS8PrivateKey` of an Ed25519 key: version 0, the algorithm, the
    /// seed as an octet string in an octet string (RFC 8410 §7), no public key.
    fn from_ed25519(pair: &Ed25519KeyPair) -> Option<PrivKey> {
        let seed = pair.seed().ok()?.as_be_bytes().ok()?;
        let inner = Zeroizing::new(tlv(0x04, seed.as_ref()));
        let mut body = Zeroizing::new(tlv(0x02, &[0]));
        // AlgorithmIdentifier { 1.3.101.112 }
        body.extend_from_slice(&[0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70]);
        body.extend_from_slice(&tlv(0x04, &inner));
        Some(PrivKey {
            kind: Kind::Ed25519,
            der: Zeroizing::new(tlv(0x30, &body)),
        })
    }

    /// Sprig's `parsePrivateKeyPEM`: the first PEM block; `PRIVATE KEY` as PKCS#8,
    /// `RSA`, `EC` and `DSA PRIVATE KEY` as PKCS#1, SEC1 and Sprig's DSA sequence.
    /// The messages are Sprig's, with our words where Go quotes its ASN.1 parser.
    pub(super) fn from_pem(text: &[u8]) -> Result<PrivKey, String> {
        let block = pem::parse(text).map_err(|_| "no PEM data in input".to_owned())?;
        let tag = block.tag().to_owned();
        let der = Zeroizing::new(block.into_contents());
        if tag == PEM_PKCS8 {
            return Self::from_pkcs8(&der).ok_or_else(|| {
                "decoding PEM as PKCS#8: x509: failed to parse private key (not an RSA, EC (P-256, P-384, P-521) or Ed25519 PKCS#8 key)"
                    .to_owned()
            });
        }
        let Some(kind) = tag.strip_suffix(" PRIVATE KEY") else {
            return Err(format!("no private key data in PEM block of type {tag}"));
        };
        match kind {
            "RSA" => RsaKey::from_pkcs1_der(&der)
                .ok()
                .and_then(|k| Self::from_rsa(&k))
                .ok_or_else(|| {
                    "parsing RSA private key from PEM: x509: invalid RSA PKCS#1 private key (or one under 2048 bits)".to_owned()
                }),
            "EC" => Curve::ALL
                .iter()
                .find_map(|&c| {
                    let pair = EcdsaKeyPair::from_private_key_der(c.signing(), &der).ok()?;
                    Self::from_ec(&pair, c)
                })
                .ok_or_else(|| {
                    "parsing EC private key from PEM: x509: invalid SEC1 private key on P-256, P-384 or P-521".to_owned()
                }),
            "DSA" if is_dsa_sequence(&der) => Ok(PrivKey {
                kind: Kind::Dsa,
                der,
            }),
            "DSA" => Err("parsing DSA private key from PEM: asn1: structure error".to_owned()),
            _ => Err(format!("invalid private key type {tag}")),
        }
    }

    fn from_pkcs8(der: &[u8]) -> Option<PrivKey> {
        if let Ok(key) = RsaKey::from_pkcs8_der(der) {
            return Self::from_rsa(&key);
        }
        for c in Curve::ALL {
            if let Ok(pair) = EcdsaKeyPair::from_private_key_der(c.signing(), der) {
                return Self::from_ec(&pair, c);
            }
        }
        let pair = Ed25519KeyPair::from_pkcs8_maybe_unchecked(der).ok()?;
        Self::from_ed25519(&pair)
    }

    /// The PEM Sprig's `pemBlockForKey` writes (64 columns, LF).
    pub(super) fn to_pem(&self) -> Zeroizing<String> {
        let label = match self.kind {
            Kind::Rsa => PEM_RSA,
            Kind::Ec(_) => PEM_EC,
            Kind::Ed25519 => PEM_PKCS8,
            Kind::Dsa => PEM_DSA,
        };
        pem_encode(label, &self.der)
    }

    /// The key as an rcgen signer (and holder of the public key), with the signature
    /// algorithm Go picks for it; a DSA key cannot sign, as in Go.
    pub(super) fn signer(&self) -> Result<rcgen::KeyPair, String> {
        let (der, alg): (PrivateKeyDer<'_>, _) = match self.kind {
            Kind::Rsa => (
                PrivatePkcs1KeyDer::from(&self.der[..]).into(),
                &rcgen::PKCS_RSA_SHA256,
            ),
            Kind::Ec(c) => (
                PrivateSec1KeyDer::from(&self.der[..]).into(),
                c.certificate_algorithm(),
            ),
            Kind::Ed25519 => (
                PrivatePkcs8KeyDer::from(&self.der[..]).into(),
                &rcgen::PKCS_ED25519,
            ),
            Kind::Dsa => return Err(NOT_A_SIGNER.to_owned()),
        };
        rcgen::KeyPair::from_der_and_sign_algo(&der, alg)
            .map_err(|_| "x509: the private key cannot sign".to_owned())
    }
}

/// Whether `der` has the shape Sprig's `DSAKeyFormat` reads: a sequence of six integers.
fn is_dsa_sequence(der: &[u8]) -> bool {
    let Some((0x30, mut body, [])) = read_tlv(der) else {
        return false;
    };
    for _ in 0..6 {
        match read_tlv(body) {
            Some((0x02, _, rest)) => body = rest,
            _ => return false,
        }
    }
    body.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn der_of(pem_text: &str) -> Vec<u8> {
        pem::parse(pem_text).unwrap().into_contents()
    }

    #[test]
    fn generated_keys_have_sprigs_pem_forms() {
        let ec = PrivKey::generate(&KeyType::Ecdsa, 0).unwrap().to_pem();
        assert!(
            ec.starts_with("-----BEGIN EC PRIVATE KEY-----\n"),
            "{}",
            ec.len()
        );
        // SEC1 on P-256 with the curve and the point: always 121 bytes.
        assert_eq!(der_of(&ec).len(), 121);
        let ed = PrivKey::generate(&KeyType::Ed25519, 0).unwrap().to_pem();
        assert!(ed.starts_with("-----BEGIN PRIVATE KEY-----\n"));
        let der = der_of(&ed);
        assert_eq!(der.len(), 48);
        assert_eq!(
            der[..16],
            [
                0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22,
                0x04, 0x20
            ]
        );
        let rsa = PrivKey::generate(&KeyType::Rsa, 2048).unwrap().to_pem();
        assert!(rsa.starts_with("-----BEGIN RSA PRIVATE KEY-----\n"));
        assert!(rsa.ends_with("-----END RSA PRIVATE KEY-----\n"));
        assert!(rsa.lines().all(|l| l.len() <= 64));
        assert!(matches!(
            PrivKey::generate(&KeyType::Dsa, 0),
            Err(GenerateError(m)) if m.contains("DSA")
        ));
    }

    #[test]
    fn keys_read_back_in_every_form_sprig_reads() {
        for typ in [KeyType::Ecdsa, KeyType::Ed25519, KeyType::Rsa] {
            let key = PrivKey::generate(&typ, 2048).unwrap();
            let pem_text = key.to_pem();
            let again = PrivKey::from_pem(pem_text.as_bytes()).unwrap();
            assert_eq!(again.to_pem(), pem_text);
            assert!(again.signer().is_ok());
        }
        // An RSA key as PKCS#8 comes back as PKCS#1, as Sprig writes it.
        let rsa = RsaKey::generate(2048).unwrap();
        let pkcs8 = pem_encode(PEM_PKCS8, rsa.pkcs8_der());
        let read = PrivKey::from_pem(pkcs8.as_bytes()).unwrap();
        assert_eq!(read.to_pem(), rsa.to_pkcs1_pem().unwrap());
        // An EC key as PKCS#8 comes back as SEC1 with the curve and point.
        let doc = EcdsaKeyPair::generate(Curve::P384.signing())
            .unwrap()
            .to_pkcs8v1()
            .unwrap();
        let read = PrivKey::from_pem(pem_encode(PEM_PKCS8, doc.as_ref()).as_bytes()).unwrap();
        assert_eq!(read.kind, Kind::Ec(Curve::P384));
        assert!(read.to_pem().starts_with("-----BEGIN EC PRIVATE KEY-----"));
    }

    #[test]
    fn bad_keys_get_sprigs_messages() {
        let msg = |t: &str| PrivKey::from_pem(t.as_bytes()).err().unwrap();
        assert_eq!(msg("no pem here"), "no PEM data in input");
        let cert = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        assert_eq!(
            msg(cert),
            "no private key data in PEM block of type CERTIFICATE"
        );
        let odd = "-----BEGIN FOO PRIVATE KEY-----\nAAAA\n-----END FOO PRIVATE KEY-----\n";
        assert_eq!(msg(odd), "invalid private key type FOO PRIVATE KEY");
        let rsa = "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n";
        assert!(msg(rsa).starts_with("parsing RSA private key from PEM: "));
        let p8 = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
        assert!(msg(p8).starts_with("decoding PEM as PKCS#8: "));
    }

    #[test]
    fn dsa_keys_are_read_but_cannot_sign() {
        let mut body = Vec::new();
        for i in 0..6u8 {
            body.extend_from_slice(&tlv(0x02, &[i + 1]));
        }
        let pem_text = pem_encode(PEM_DSA, &tlv(0x30, &body));
        let key = PrivKey::from_pem(pem_text.as_bytes()).unwrap();
        assert_eq!(key.kind, Kind::Dsa);
        assert_eq!(key.signer().err().unwrap(), NOT_A_SIGNER);
        let short = pem_encode(PEM_DSA, &tlv(0x30, &tlv(0x02, &[1])));
        assert!(PrivKey::from_pem(short.as_bytes()).is_err());
    }

    /// A 1024-bit RSA key, a test fixture: too short for aws-lc-rs, refused.
    const RSA_1024: &str = "-----BEGIN RSA PRIVATE KEY-----\nMIICXQIBAAKBgQCkgZ5fM+DO9/HebzuKLHskIe13X6u2e0OtzaK0CoB1g5oPE1Tf\njY8Arj+FA3R2UY5md+Uy2KmKO7fYooR0O1/saENSCpTY2AiPdXBYFXKiUg4i05UQ\nnkhMLNuR38fpemhyIZen8BOZZX+AEBvHSa5vJnKlDysT96nMTY8FvhHFXwIDAQAB\nAoGAUTKZVSxqHj5L6BrHLKBf96m3aGCUhPG6qiMB2BQG6/oVJLPKBL3+g7t+Js1Z\nwrzmqLUtMDe5Fz36tLci4awc3+zObyF2OW1viFgaLMFRsCukfz+UdkteYKBDZQvI\nOAeKfpIe3otW4Vj+k7BjIrGrDCJy5sOCnbBXEKlGKd8ZLYECQQDPKRgmgBVb1dDC\nQuMhijDHbDKZdpdRD+ZDNsdWx0QBvfFnavY14rOKON9IfOKj6PtPXAwzbAe5+q6B\nxrj8OboPAkEAy0ovYc6XdGc/akEj0rajIrOUVG1gdAZhzuT6iCNHfMLkiG6Yo3Nu\nzN+FFtUoivHyOs+98Ji0Bk/rbdZkterPsQJBAMR+BAwwnRG4YwR/kRR1EQN22x+4\n3pni7NOAF991rknAskMXr2U5HHbUruUAn7A9AnIpquDzbPi4j+FEbp2+230CQQCQ\nWbUbdl8FQOs+v9J4JUfhtDJ3YNNEj+OTzfQ4BxUT+i/c0OuB5M2gnHccp2+KehLO\nwATXexcaBFXgQIRyyLGBAkAAlAp92jvxhljvWlF96wMKOMVEd2WlCBnbP1adFZCb\nmrhMGsY/vSfXGzw8g9GsrN5r3nQP3eOI4OuuhfJay1e9\n-----END RSA PRIVATE KEY-----\n";

    #[test]
    fn short_rsa_keys_are_refused() {
        let e = PrivKey::from_pem(RSA_1024.as_bytes()).err().unwrap();
        assert!(e.starts_with("parsing RSA private key from PEM: "), "{e}");
    }
}
