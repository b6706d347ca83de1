//! The Bitnami Sealed Secrets wire format in Rust: hybrid RSA-OAEP + AES-256-GCM
//! sealing of single values, scopes and their OAEP labels, RSA keys with their
//! fingerprints, and controller-shaped certificates.
//!
//! This crate does no I/O: no files, no environment, no Kubernetes. Crypto takes bytes
//! and an RNG and returns bytes.
//!
//! ```
//! use sealed_secrets_core::{hybrid, PrivateKey, Scope};
//!
//! let key = PrivateKey::generate(2048)?;
//! let label = Scope::Strict.label("default", "db-password");
//! let mut rng = rand_core::UnwrapErr(rand_core::OsRng);
//! let sealed = hybrid::seal(&mut rng, key.public_key(), &label, b"hunter2")?;
//! let opened = hybrid::unseal([&key], &label, &sealed)?;
//! assert_eq!(&opened[..], b"hunter2");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]

pub mod cert;
pub mod der;
pub mod hybrid;
pub mod keys;
pub mod scope;

pub use cert::{Certificate, CertificateError, CertificateParams};
pub use hybrid::{Attempt, KeyRing, SealError, UnsealError};
pub use keys::{Fingerprint, KeyError, PrivateKey, PublicKey};
pub use scope::{ParseScopeError, Scope};

/// SHA-256 of `data` (for callers that need a digest without their own crypto crate).
pub fn sha256(data: &[u8]) -> [u8; 32] {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, data);
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

#[cfg(test)]
pub(crate) mod test_keys {
    //! Fixed test-only keys from `testdata/` (made with `openssl genrsa -traditional`).
    use crate::PrivateKey;

    pub const KEY_A_FINGERPRINT: &str = "SHA256:oOxuSSDNy3lbEX+TgnBMkIGVvDBfnaSFzJSKa1fwHzM";
    pub const CERT_A: &str = include_str!("../testdata/cert-a.pem");

    pub fn key_a() -> PrivateKey {
        PrivateKey::from_pem(include_bytes!("../testdata/key-a.pem")).expect("test key a")
    }
    pub fn key_b() -> PrivateKey {
        PrivateKey::from_pem(include_bytes!("../testdata/key-b.pem")).expect("test key b")
    }
    pub fn key_c_4096() -> PrivateKey {
        PrivateKey::from_pem(include_bytes!("../testdata/key-c-4096.pem")).expect("test key c")
    }
}
