//! Re-encrypting a SealedSecret to a newer key: the logic behind the controller's
//! `/v1/rotate`, `kubeseal --re-encrypt` and `kubeseal reseal`.
//!
//! Each sealed value is opened on its own and sealed again to the new key under the
//! same label, and nothing else changes but the fingerprint annotation (in both its
//! places): template, labels, other annotations and scope stay as they were.
//! (Upstream unseals the whole Secret and seals it anew, which turns `template.data`
//! into static values and overwrites the template metadata with the top-level
//! metadata; we keep both.)

use std::collections::BTreeMap;
use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rand_core::CryptoRng;
use sealed_secrets_core::hybrid::{self, NO_KEY_COULD_DECRYPT};
use sealed_secrets_core::{Fingerprint, KeyRing, PrivateKey, PublicKey, SealError};
use zeroize::Zeroizing;

use crate::annotations;
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

/// The plaintexts of one SealedSecret's values. `Debug` shows no value.
pub struct Opened {
    values: Vec<(String, Zeroizing<Vec<u8>>)>,
    data: Option<Zeroizing<Vec<u8>>>,
    /// Fingerprints of the keys that opened the values, in the order first used.
    pub opened_with: Vec<Fingerprint>,
}

impl fmt::Debug for Opened {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Opened")
            .field("values", &self.values.len())
            .field("opened_with", &self.opened_with)
            .finish_non_exhaustive()
    }
}

/// New ciphertexts for one SealedSecret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCiphertexts {
    /// `spec.encryptedData`, the same keys as before.
    pub encrypted_data: BTreeMap<String, String>,
    /// `spec.data`, when the object uses the deprecated format.
    pub data: Option<String>,
    /// The value for the fingerprint annotation (comma-separated fingerprints).
    pub fingerprint: String,
}

/// Opens every value of `ss`. Keys are tried in this order: those the fingerprint
/// annotation names ([`annotations::key_hints`]), then the one that opened the previous value (an object's values
/// are usually sealed with one key, so objects sealed by Go kubeseal, which carry no
/// annotation, cost one trial search rather than one per value), then the rest.
/// What the trials spent is added to `cost`.
pub fn open(
    ss: &SealedSecret,
    keys: &KeyRing,
    cost: &mut UnsealCost,
) -> Result<Opened, UnsealSecretError> {
    let label = label_of(ss);
    let hints = annotations::key_hints(ss);
    let mut order: Vec<&PrivateKey> = keys.trial_order(&hints).collect();
    let mut opened_with: Vec<Fingerprint> = Vec::new();
    let mut failures = Vec::new();
    let mut try_open = |item: &str, text: &str| -> Option<Zeroizing<Vec<u8>>> {
        let Some(sealed) = decode_base64(text) else {
            failures.push((
                item.to_owned(),
                "invalid base64 in encryptedData".to_owned(),
            ));
            return None;
        };
        let found = order.iter().enumerate().find_map(|(i, key)| {
            cost.rsa_operations += 1;
            hybrid::unseal([*key], &label, &sealed).ok().map(|p| (i, p))
        });
        let Some((i, plain)) = found else {
            failures.push((item.to_owned(), NO_KEY_COULD_DECRYPT.to_owned()));
            return None;
        };
        let key = order.remove(i);
        cost.keys_used.insert(key.fingerprint().clone());
        if !opened_with.contains(key.fingerprint()) {
            opened_with.push(key.fingerprint().clone());
        }
        order.insert(0, key);
        Some(plain)
    };
    let mut values = Vec::new();
    for (item, text) in &ss.spec.encrypted_data {
        if let Some(plain) = try_open(item, text) {
            values.push((item.clone(), plain));
        }
    }
    let data = ss
        .spec
        .data
        .as_deref()
        .and_then(|blob| try_open("data", blob));
    if !failures.is_empty() {
        return Err(UnsealSecretError::Items(failures));
    }
    Ok(Opened {
        values,
        data,
        opened_with,
    })
}

/// Seals the opened values again to `key`, under the object's own label.
pub fn seal_opened<R: CryptoRng + ?Sized>(
    rng: &mut R,
    ss: &SealedSecret,
    opened: &Opened,
    key: &PublicKey,
) -> Result<NewCiphertexts, SealError> {
    let label = label_of(ss);
    let mut encrypted_data = BTreeMap::new();
    for (item, plain) in &opened.values {
        let sealed = hybrid::seal(rng, key, &label, plain)?;
        encrypted_data.insert(item.clone(), STANDARD.encode(sealed));
    }
    let data = match &opened.data {
        Some(plain) => Some(STANDARD.encode(hybrid::seal(rng, key, &label, plain)?)),
        None => None,
    };
    Ok(NewCiphertexts {
        encrypted_data,
        data,
        fingerprint: key.fingerprint().as_str().to_owned(),
    })
}

/// Puts new ciphertexts into the object; the fingerprint annotation, top-level and in
/// the template ([`annotations::set_fingerprints`]), then names the new key alone.
pub fn apply(ss: &mut SealedSecret, new: &NewCiphertexts) {
    ss.spec.encrypted_data = new.encrypted_data.clone();
    if new.data.is_some() {
        ss.spec.data = new.data.clone();
    }
    annotations::set_fingerprints(ss, &annotations::parse_fingerprints(&new.fingerprint));
}

/// Re-encrypts every sealed value of `ss` to `to` ([`open`], [`seal_opened`],
/// [`apply`]), adding what the trial decryptions spent to `cost`.
pub fn re_encrypt<R: CryptoRng + ?Sized>(
    rng: &mut R,
    ss: &SealedSecret,
    keys: &KeyRing,
    to: &PublicKey,
    cost: &mut UnsealCost,
) -> Result<SealedSecret, ReEncryptError> {
    let opened = open(ss, keys, cost)?;
    let new = seal_opened(rng, ss, &opened, to)?;
    let mut out = ss.clone();
    apply(&mut out, &new);
    Ok(out)
}
