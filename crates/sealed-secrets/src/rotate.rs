//! Re-encrypting a SealedSecret to a newer key, the logic behind the controller's
//! `/v1/rotate`, `kubeseal --re-encrypt` and tree re-sealing.
//!
//! Each sealed value is opened and sealed again to the new key under the same
//! label, and nothing else changes: template, labels, annotations and scope stay as
//! they were. (Upstream unseals the whole Secret and seals it anew, which turns
//! `template.data` into static values and overwrites the template metadata with the
//! top-level metadata; we keep both.)

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rand_core::CryptoRng;
use sealed_secrets_core::hybrid::{self, NO_KEY_COULD_DECRYPT};
use sealed_secrets_core::{KeyRing, PublicKey, SealError};

use crate::annotations::{self, KEY_FINGERPRINT};
use crate::secret::decode_base64;
use crate::unseal::{UnsealCost, UnsealSecretError, label_of};
use crate::v1alpha1::SealedSecret;

/// Why a SealedSecret could not be re-encrypted.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReEncryptError {
    /// Some values could not be opened (grouped like unseal errors).
    #[error(transparent)]
    Unseal(#[from] UnsealSecretError),
    /// Sealing to the new key failed.
    #[error(transparent)]
    Seal(#[from] SealError),
}

/// Re-encrypts every sealed value of `ss` to `to`, adding what the trial decryptions
/// spent to `cost`. The fingerprint annotation then names `to` alone.
pub fn re_encrypt<R: CryptoRng + ?Sized>(
    rng: &mut R,
    ss: &SealedSecret,
    keys: &KeyRing,
    to: &PublicKey,
    cost: &mut UnsealCost,
) -> Result<SealedSecret, ReEncryptError> {
    let label = label_of(ss);
    let hints = annotations::fingerprints(ss.metadata.annotations.as_ref());
    let mut failures = Vec::new();
    let mut reseal = |key: &str, text: &str, rng: &mut R| -> Result<Option<String>, SealError> {
        let Some(sealed) = decode_base64(text) else {
            failures.push((key.to_owned(), "invalid base64 in encryptedData".to_owned()));
            return Ok(None);
        };
        let attempt = keys.attempt(&hints, &label, &sealed);
        cost.rsa_operations += attempt.rsa_operations;
        match attempt.result {
            Ok((plaintext, used)) => {
                cost.keys_used.insert(used.fingerprint().clone());
                let fresh = hybrid::seal(rng, to, &label, &plaintext)?;
                Ok(Some(STANDARD.encode(fresh)))
            }
            Err(_) => {
                failures.push((key.to_owned(), NO_KEY_COULD_DECRYPT.to_owned()));
                Ok(None)
            }
        }
    };

    let mut out = ss.clone();
    let mut encrypted = BTreeMap::new();
    for (key, text) in &ss.spec.encrypted_data {
        if let Some(value) = reseal(key, text, rng)? {
            encrypted.insert(key.clone(), value);
        }
    }
    if let Some(blob) = &ss.spec.data {
        out.spec.data = reseal("data", blob, rng)?;
    }
    if !failures.is_empty() {
        return Err(UnsealSecretError::Items(failures).into());
    }
    out.spec.encrypted_data = encrypted;
    let annotations = out.metadata.annotations.get_or_insert_with(BTreeMap::new);
    annotations.remove(KEY_FINGERPRINT);
    annotations::add_fingerprint(annotations, to.fingerprint());
    Ok(out)
}
