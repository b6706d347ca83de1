//! X.509 certificates: reading the one `kubeseal` seals to, and making the
//! controller-shaped self-signed one (upstream `pkg/crypto/keys.go`,
//! `SignKeyWithNotBefore`): empty subject and issuer unless a CN is given, a random
//! 128-bit serial, KeyUsage Encipher Only (critical), BasicConstraints CA (critical),
//! sha256WithRSAEncryption.

use std::fmt;

use rand_core::CryptoRng;
use rcgen::{BasicConstraints, DnType, IsCa, KeyPair, KeyUsagePurpose, SerialNumber};
use rustls_pki_types::PrivatePkcs8KeyDer;
use time::{Duration, OffsetDateTime};
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::keys::{KeyError, PrivateKey, PublicKey};

/// PEM label of a certificate.
pub const PEM_CERTIFICATE: &str = "CERTIFICATE";

/// Upstream's default `--key-ttl`: 87600h, ten 365-day years.
pub const DEFAULT_VALIDITY: Duration = Duration::hours(87_600);

/// Why a certificate could not be read or made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CertificateError {
    /// No `CERTIFICATE` PEM block in the input.
    #[error("no certificate found: expected a PEM block \"CERTIFICATE\"")]
    NoCertificate,
    /// The PEM text could not be parsed.
    #[error("invalid PEM: {0}")]
    Pem(String),
    /// The DER is not an X.509 certificate.
    #[error("invalid X.509 certificate: {0}")]
    Parse(String),
    /// The certificate's key is not RSA (Go: `expected RSA public key but found …`).
    #[error(transparent)]
    Key(#[from] KeyError),
    /// Signing the new certificate failed.
    #[error("cannot create certificate: {0}")]
    Generate(String),
}

/// A parsed certificate with its RSA public key.
#[derive(Clone)]
pub struct Certificate {
    der: Vec<u8>,
    public_key: PublicKey,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
}

impl Certificate {
    /// Reads the first `CERTIFICATE` block of PEM text; like upstream, only the first
    /// certificate counts.
    pub fn from_pem(text: &[u8]) -> Result<Self, CertificateError> {
        let blocks = pem::parse_many(text).map_err(|e| CertificateError::Pem(e.to_string()))?;
        let block = blocks
            .iter()
            .find(|b| b.tag() == PEM_CERTIFICATE)
            .ok_or(CertificateError::NoCertificate)?;
        Self::from_der(block.contents())
    }

    /// Reads a DER certificate whose key is RSA.
    pub fn from_der(der: &[u8]) -> Result<Self, CertificateError> {
        let (_, cert) =
            X509Certificate::from_der(der).map_err(|e| CertificateError::Parse(e.to_string()))?;
        let public_key = PublicKey::from_spki_der(cert.public_key().raw)?;
        let validity = cert.validity();
        Ok(Certificate {
            der: der.to_vec(),
            public_key,
            not_before: validity.not_before.to_datetime(),
            not_after: validity.not_after.to_datetime(),
        })
    }

    /// The certificate as one PEM block, LF line endings.
    pub fn to_pem(&self) -> String {
        pem::encode_config(
            &pem::Pem::new(PEM_CERTIFICATE, self.der.clone()),
            pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF),
        )
    }

    /// The DER bytes.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The RSA public key values are sealed to.
    pub fn public_key(&self) -> &PublicKey {
        &self.public_key
    }

    /// Start of validity; the controller orders keys by it (`CertNotBefore`).
    pub fn not_before(&self) -> OffsetDateTime {
        self.not_before
    }

    /// End of validity.
    pub fn not_after(&self) -> OffsetDateTime {
        self.not_after
    }

    /// Whether `now` is past the end of validity. (Upstream checks only this end.)
    pub fn is_expired_at(&self, now: OffsetDateTime) -> bool {
        now > self.not_after
    }
}

impl fmt::Debug for Certificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Certificate")
            .field("public_key", &self.public_key)
            .field("not_before", &self.not_before)
            .field("not_after", &self.not_after)
            .finish()
    }
}

/// What goes into a new controller certificate.
#[derive(Debug, Clone)]
pub struct CertificateParams {
    /// Start of validity (upstream: now).
    pub not_before: OffsetDateTime,
    /// Length of validity (upstream `--key-ttl`, default [`DEFAULT_VALIDITY`]).
    pub validity: Duration,
    /// Subject and issuer CN (upstream `--my-cn`); empty leaves both DNs empty.
    pub common_name: String,
}

impl CertificateParams {
    /// Upstream's defaults, valid from `not_before`.
    pub fn new(not_before: OffsetDateTime) -> Self {
        CertificateParams {
            not_before,
            validity: DEFAULT_VALIDITY,
            common_name: String::new(),
        }
    }
}

/// Makes the self-signed certificate for `key`. `rng` draws the serial number.
pub fn self_signed<R: CryptoRng + ?Sized>(
    rng: &mut R,
    key: &PrivateKey,
    params: &CertificateParams,
) -> Result<Certificate, CertificateError> {
    let signer = KeyPair::from_pkcs8_der_and_sign_algo(
        &PrivatePkcs8KeyDer::from(key.pkcs8_der()),
        &rcgen::PKCS_RSA_SHA256,
    )
    .map_err(|e| CertificateError::Generate(e.to_string()))?;

    let mut serial = [0u8; 16];
    rng.fill_bytes(&mut serial);

    let mut cert = rcgen::CertificateParams::default();
    cert.distinguished_name = rcgen::DistinguishedName::new();
    if !params.common_name.is_empty() {
        cert.distinguished_name
            .push(DnType::CommonName, params.common_name.as_str());
    }
    cert.not_before = params.not_before;
    cert.not_after = params.not_before + params.validity;
    cert.serial_number = Some(SerialNumber::from_slice(&serial));
    cert.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    cert.key_usages = vec![KeyUsagePurpose::EncipherOnly];

    let made = cert
        .self_signed(&signer)
        .map_err(|e| CertificateError::Generate(e.to_string()))?;
    Certificate::from_der(made.der())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_keys;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;
    use x509_parser::extensions::ParsedExtension;

    fn t0() -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap()
    }

    #[test]
    fn generated_certificate_has_upstream_shape() {
        let key = test_keys::key_a();
        let mut rng = ChaCha20Rng::seed_from_u64(7);
        let cert = self_signed(&mut rng, &key, &CertificateParams::new(t0())).unwrap();
        assert_eq!(cert.public_key(), key.public_key());
        assert_eq!(cert.not_before(), t0());
        assert_eq!(cert.not_after() - cert.not_before(), Duration::days(3650));

        let (_, parsed) = X509Certificate::from_der(cert.der()).unwrap();
        assert_eq!(parsed.subject().to_string(), "");
        assert_eq!(parsed.issuer().to_string(), "");
        assert_eq!(
            parsed.signature_algorithm.algorithm.to_id_string(),
            "1.2.840.113549.1.1.11",
            "sha256WithRSAEncryption"
        );
        let mut saw_key_usage = false;
        let mut saw_basic_constraints = false;
        for ext in parsed.extensions() {
            match ext.parsed_extension() {
                ParsedExtension::KeyUsage(ku) => {
                    saw_key_usage = true;
                    assert!(ext.critical);
                    assert!(ku.encipher_only());
                    assert_eq!(ku.flags, 1 << 7, "encipherOnly and nothing else");
                }
                ParsedExtension::BasicConstraints(bc) => {
                    saw_basic_constraints = true;
                    assert!(ext.critical);
                    assert!(bc.ca);
                }
                _ => {}
            }
        }
        assert!(saw_key_usage && saw_basic_constraints);
        assert!(
            parsed.raw_serial().len() <= 17,
            "serial < 2^128 (plus a sign byte)"
        );
    }

    #[test]
    fn common_name_lands_in_subject_and_issuer() {
        let key = test_keys::key_a();
        let mut params = CertificateParams::new(t0());
        params.common_name = "sealed-secret".into();
        let cert = self_signed(&mut ChaCha20Rng::seed_from_u64(1), &key, &params).unwrap();
        let (_, parsed) = X509Certificate::from_der(cert.der()).unwrap();
        assert_eq!(parsed.subject().to_string(), "CN=sealed-secret");
        assert_eq!(parsed.issuer().to_string(), "CN=sealed-secret");
    }

    #[test]
    fn pem_round_trip_and_expiry() {
        let cert = Certificate::from_pem(test_keys::CERT_A.as_bytes()).unwrap();
        assert_eq!(cert.public_key(), test_keys::key_a().public_key());
        let again = Certificate::from_pem(cert.to_pem().as_bytes()).unwrap();
        assert_eq!(again.der(), cert.der());
        assert!(!cert.is_expired_at(cert.not_after()));
        assert!(cert.is_expired_at(cert.not_after() + Duration::seconds(1)));
    }

    #[test]
    fn bad_certificates_are_rejected_with_reasons() {
        assert!(matches!(
            Certificate::from_pem(b"hello"),
            Err(CertificateError::NoCertificate) | Err(CertificateError::Pem(_))
        ));
        let key_only = test_keys::key_a().to_pkcs1_pem().unwrap();
        assert!(matches!(
            Certificate::from_pem(key_only.as_bytes()),
            Err(CertificateError::NoCertificate)
        ));
        let garbage = pem::encode(&pem::Pem::new(PEM_CERTIFICATE, vec![1, 2, 3]));
        assert!(matches!(
            Certificate::from_pem(garbage.as_bytes()),
            Err(CertificateError::Parse(_))
        ));
        let ec = Certificate::from_pem(include_bytes!("../testdata/cert-ec.pem")).unwrap_err();
        assert_eq!(ec.to_string(), "expected RSA public key: found an EC key");
    }
}
