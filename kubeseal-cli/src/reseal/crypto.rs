//! Opening and re-sealing the values of one SealedSecret: every `encryptedData`
//! value (and the deprecated whole-Secret `spec.data`) is decrypted on its own and
//! sealed again with the same label, so nothing but the ciphertexts and the key
//! fingerprint annotation changes. (Unsealing the whole object would render
//! `template.data`, which must stay a template.)

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rand_core::CryptoRng;
use sealed_secrets::annotations;
use sealed_secrets::secret::decode_base64;
use sealed_secrets::unseal::label_of;
use sealed_secrets::{SealedSecret, core::hybrid};
use sealed_secrets_core::{Fingerprint, KeyRing, PrivateKey, PublicKey, SealError};
use zeroize::Zeroizing;

/// Why one SealedSecret could not be checked or re-sealed.
#[derive(Debug, thiserror::Error)]
pub enum ResealError {
    /// No given key opens these values.
    #[error("no key could decrypt secret ({})", .0.join(", "))]
    NoKey(Vec<String>),
    /// A value is not base64.
    #[error("invalid base64 in encryptedData ({0})")]
    InvalidBase64(String),
    /// Sealing failed.
    #[error(transparent)]
    Seal(#[from] SealError),
}

/// The plaintexts of one SealedSecret and the keys that opened them.
pub struct Opened {
    values: Vec<(String, Zeroizing<Vec<u8>>)>,
    data: Option<Zeroizing<Vec<u8>>>,
    /// Fingerprints of the keys that opened the values (deduplicated).
    pub opened_with: Vec<Fingerprint>,
}

/// New ciphertexts for one SealedSecret.
#[derive(Debug, Clone)]
pub struct NewCiphertexts {
    /// `spec.encryptedData`, same keys as before.
    pub encrypted_data: BTreeMap<String, String>,
    /// `spec.data`, when the object uses the deprecated format.
    pub data: Option<String>,
    /// The value for the fingerprint annotation.
    pub fingerprint: String,
}

/// Opens every value, trying first the keys the fingerprint annotation names, then
/// the key that opened the previous value (values of one object are usually sealed
/// with one key), then the rest.
pub fn open(ss: &SealedSecret, keys: &KeyRing) -> Result<Opened, ResealError> {
    let label = label_of(ss);
    let hints = annotations::fingerprints(ss.metadata.annotations.as_ref());
    let mut order: Vec<&PrivateKey> = keys.trial_order(&hints).collect();
    let mut opened_with: Vec<Fingerprint> = Vec::new();
    let mut try_open = |sealed: &[u8]| -> Option<Zeroizing<Vec<u8>>> {
        let (i, plain) = order.iter().enumerate().find_map(|(i, k)| {
            hybrid::unseal([*k], &label, sealed)
                .ok()
                .map(|plain| (i, plain))
        })?;
        let key = order.remove(i);
        if !opened_with.contains(key.fingerprint()) {
            opened_with.push(key.fingerprint().clone());
        }
        order.insert(0, key);
        Some(plain)
    };
    let mut failed = Vec::new();
    let mut values = Vec::new();
    for (name, text) in &ss.spec.encrypted_data {
        let sealed = decode_base64(text).ok_or_else(|| ResealError::InvalidBase64(name.clone()))?;
        match try_open(&sealed) {
            Some(plain) => values.push((name.clone(), plain)),
            None => failed.push(name.clone()),
        }
    }
    let data = match &ss.spec.data {
        Some(blob) => {
            let sealed =
                decode_base64(blob).ok_or_else(|| ResealError::InvalidBase64("data".into()))?;
            let plain = try_open(&sealed);
            if plain.is_none() {
                failed.push("data".into());
            }
            plain
        }
        None => None,
    };
    if !failed.is_empty() {
        return Err(ResealError::NoKey(failed));
    }
    Ok(Opened {
        values,
        data,
        opened_with,
    })
}

/// Seals the opened values again to `key`, under the object's own label.
pub fn seal<R: CryptoRng + ?Sized>(
    rng: &mut R,
    ss: &SealedSecret,
    opened: &Opened,
    key: &PublicKey,
) -> Result<NewCiphertexts, ResealError> {
    let label = label_of(ss);
    let mut encrypted_data = BTreeMap::new();
    for (name, plain) in &opened.values {
        let sealed = hybrid::seal(rng, key, &label, plain)?;
        encrypted_data.insert(name.clone(), STANDARD.encode(sealed));
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

/// Applies new ciphertexts to the typed object (for `--re-encrypt` output).
pub fn apply(ss: &mut SealedSecret, new: &NewCiphertexts) {
    ss.spec.encrypted_data = new.encrypted_data.clone();
    if new.data.is_some() {
        ss.spec.data = new.data.clone();
    }
    ss.metadata.annotations.get_or_insert_default().insert(
        annotations::KEY_FINGERPRINT.to_owned(),
        new.fingerprint.clone(),
    );
}

/// Offline `--re-encrypt`: open with `keys`, seal to `key`.
pub fn reseal_offline<R: CryptoRng + ?Sized>(
    rng: &mut R,
    mut ss: SealedSecret,
    keys: &KeyRing,
    key: &PublicKey,
) -> Result<SealedSecret, ResealError> {
    let opened = open(&ss, keys)?;
    let new = seal(rng, &ss, &opened, key)?;
    apply(&mut ss, &new);
    Ok(ss)
}
