//! SOPS-compatible encryption of YAML, JSON, dotenv and binary files to age
//! recipients: files written here are read by the `sops` CLI and by Flux's
//! kustomize-controller, and files `sops` wrote are read here.
//!
//! ```
//! use sealed_secrets_sops::{age, format::{Format, Style}, encrypt, decrypt, EncryptOptions};
//!
//! let (secret_key, recipient) = age::generate_identity();
//! let opts = EncryptOptions { recipients: vec![recipient], ..Default::default() };
//! let file = encrypt(Format::Yaml, b"password: hunter2\n", &opts, Style::default()).unwrap();
//! assert!(String::from_utf8_lossy(&file).contains("password: ENC[AES256_GCM,data:"));
//!
//! let mut ids = age::Identities::new();
//! ids.add_text(&secret_key, "example").unwrap();
//! let plain = decrypt(Format::Yaml, &file, &ids, false).unwrap();
//! assert_eq!(plain.plaintext(Format::Yaml, Style::default()).unwrap(), b"password: hunter2\n");
//! ```
#![deny(missing_docs)]

pub mod age;
pub mod backup;
pub mod config;
pub mod crypt;
pub mod format;
pub mod mac;
pub mod metadata;
pub mod rules;
pub mod tree;
pub mod value;

use format::{Format, FormatError, Style};
use metadata::Metadata;
use rules::Rule;
use tree::Tree;
use value::{Cipher, DataKey, Plain};

/// What to encrypt to and how to select values.
#[derive(Debug, Clone, Default)]
pub struct EncryptOptions {
    /// age recipients (`age1…`, `ssh-ed25519 …`).
    pub recipients: Vec<String>,
    /// The selection rule (`None`: sops's default `unencrypted_suffix: _unencrypted`).
    pub rule: Option<Rule>,
    /// `mac_only_encrypted`.
    pub mac_only_encrypted: bool,
}

/// Why a file could not be encrypted.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EncryptError {
    /// The input could not be parsed.
    #[error(transparent)]
    Format(#[from] FormatError),
    /// The input already has sops metadata.
    #[error("the file already has sops metadata: it is already encrypted")]
    AlreadyEncrypted,
    /// Nothing to encrypt.
    #[error("the input file is empty")]
    Empty,
    /// No recipients.
    #[error(
        "no age recipients: give --age, set SOPS_AGE_RECIPIENTS, or add a creation rule with age keys to .sops.yaml"
    )]
    NoRecipients,
    /// A recipient problem.
    #[error(transparent)]
    Age(#[from] age::AgeError),
}

/// Why a file could not be decrypted.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DecryptError {
    /// The file could not be parsed, or has no (valid) metadata.
    #[error(transparent)]
    Format(#[from] FormatError),
    /// The data key could not be unwrapped.
    #[error(transparent)]
    NoKey(age::AgeError),
    /// A value did not decrypt.
    #[error(transparent)]
    Tree(#[from] crypt::TreeDecryptError),
    /// The MAC could not be decrypted.
    #[error("cannot decrypt MAC: the file's mac or lastmodified was changed or damaged")]
    MacDecrypt,
    /// The MAC does not match the content.
    #[error(
        "MAC mismatch: the file has {stored}, computed {computed}; the file was modified outside sops (use --ignore-mac to decrypt anyway)"
    )]
    MacMismatch {
        /// The stored MAC (or `no MAC`).
        stored: String,
        /// The computed MAC.
        computed: String,
    },
}

/// A decrypted file: the plaintext tree plus what is needed to write it back.
pub struct Decrypted {
    /// The plaintext tree (comments decrypted too).
    pub tree: Tree,
    /// The file's metadata.
    pub meta: Metadata,
    /// The data key.
    pub key: DataKey,
    /// The cipher holding the IVs of the values read (for stable re-encryption).
    pub cipher: Cipher,
}

impl Decrypted {
    /// The plaintext file in `format`.
    pub fn plaintext(&self, format: Format, style: Style) -> Result<Vec<u8>, FormatError> {
        format::emit_plain(format, &self.tree, style)
    }
}

/// Encrypts a plaintext file to new recipients with a fresh data key.
pub fn encrypt(
    format: Format,
    plaintext: &[u8],
    opts: &EncryptOptions,
    style: Style,
) -> Result<Vec<u8>, EncryptError> {
    if plaintext.is_empty() {
        return Err(EncryptError::Empty);
    }
    let tree = format::parse_plain(format, plaintext)?;
    if tree.branches.is_empty() {
        return Err(EncryptError::Empty);
    }
    if format::has_metadata(format, &tree) {
        return Err(EncryptError::AlreadyEncrypted);
    }
    if opts.recipients.is_empty() {
        return Err(EncryptError::NoRecipients);
    }
    let key = value::new_data_key();
    // Binary files ignore rules and sops writes none for them.
    let rule = match format {
        Format::Binary => None,
        _ => Some(opts.rule.clone().unwrap_or_default()),
    };
    let mut meta = Metadata::new(rule, opts.mac_only_encrypted);
    for r in &opts.recipients {
        meta.age.push(age::wrap(&key, r)?);
    }
    Ok(seal(format, tree, &mut meta, &key, &Cipher::new(), style)?)
}

/// Encrypts `tree` under `key`, sets `lastmodified`, the MAC and `version`, and writes
/// the file.
pub fn seal(
    format: Format,
    mut tree: Tree,
    meta: &mut Metadata,
    key: &DataKey,
    cipher: &Cipher,
    style: Style,
) -> Result<Vec<u8>, FormatError> {
    let rule = match format {
        Format::Binary => {
            Rule::EncryptedRegex(regex::Regex::new(".*").expect("a constant regex compiles"))
        }
        _ => meta.rule(),
    };
    let mac = crypt::encrypt_tree(&mut tree, key, &rule, meta.mac_only_encrypted, cipher);
    meta.touch();
    meta.version = metadata::SOPS_VERSION.to_owned();
    let aad = meta.mac_aad()?;
    meta.mac = cipher.encrypt(key, &Plain::Scalar(tree::Scalar::Str(mac)), &aad);
    format::emit_encrypted(format, &tree, meta, style)
}

/// Decrypts a sops file, verifying its MAC unless `ignore_mac`.
pub fn decrypt(
    format: Format,
    file: &[u8],
    identities: &age::Identities,
    ignore_mac: bool,
) -> Result<Decrypted, DecryptError> {
    let (mut tree, meta) = format::parse_encrypted(format, file)?;
    let key = age::unwrap(&meta.age, identities).map_err(DecryptError::NoKey)?;
    let mut cipher = Cipher::new();
    let rule = match format {
        // The binary store's single value is always encrypted.
        Format::Binary => {
            Rule::EncryptedRegex(regex::Regex::new(".*").expect("a constant regex compiles"))
        }
        _ => meta.rule(),
    };
    let computed =
        crypt::decrypt_tree(&mut tree, &key, &rule, meta.mac_only_encrypted, &mut cipher)?;
    if !ignore_mac {
        if meta.mac.is_empty() {
            return Err(DecryptError::MacMismatch {
                stored: "no MAC".into(),
                computed,
            });
        }
        let aad = meta.mac_aad().map_err(FormatError::from)?;
        let stored = match cipher.decrypt(&key, &meta.mac, &aad) {
            Ok(Plain::Scalar(tree::Scalar::Str(s))) => s,
            _ => return Err(DecryptError::MacDecrypt),
        };
        if stored != computed {
            return Err(DecryptError::MacMismatch { stored, computed });
        }
    }
    Ok(Decrypted {
        tree,
        meta,
        key,
        cipher,
    })
}

/// Re-encrypts an edited plaintext with the file's data key, recipients and rule
/// (unchanged values keep their ciphertext).
pub fn reencrypt(
    format: Format,
    decrypted: &mut Decrypted,
    new_plaintext: &[u8],
    style: Style,
) -> Result<Vec<u8>, EncryptError> {
    let tree = format::parse_plain(format, new_plaintext)?;
    if format::has_metadata(format, &tree) {
        return Err(EncryptError::AlreadyEncrypted);
    }
    Ok(seal(
        format,
        tree,
        &mut decrypted.meta,
        &decrypted.key,
        &decrypted.cipher,
        style,
    )?)
}

/// A change of recipients.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RekeyError {
    /// Decrypting the file failed.
    #[error(transparent)]
    Decrypt(#[from] DecryptError),
    /// Wrapping to a recipient failed.
    #[error(transparent)]
    Encrypt(#[from] EncryptError),
    /// No recipient would be left.
    #[error("no age recipients would be left")]
    NoRecipients,
    /// The file also has non-age keys that we cannot re-wrap.
    #[error("the file also has {0} keys, which this tool cannot re-wrap; use sops for this file")]
    OtherKeys(String),
}

/// `rotate`: a new data key, every value re-encrypted, the key wrapped to the
/// file's recipients plus `add` minus `remove`.
pub fn rotate(
    format: Format,
    file: &[u8],
    identities: &age::Identities,
    add: &[String],
    remove: &[String],
    style: Style,
) -> Result<Vec<u8>, RekeyError> {
    let d = decrypt(format, file, identities, false)?;
    if let Some((kind, _)) = d.meta.other_keys.first() {
        return Err(RekeyError::OtherKeys(kind.clone()));
    }
    let mut recipients: Vec<String> = d
        .meta
        .age
        .iter()
        .map(|e| e.recipient.clone())
        .filter(|r| !remove.contains(r))
        .collect();
    for r in add {
        if !recipients.contains(r) {
            recipients.push(r.clone());
        }
    }
    if recipients.is_empty() {
        return Err(RekeyError::NoRecipients);
    }
    let key = value::new_data_key();
    let mut meta = d.meta.clone();
    meta.age.clear();
    for r in &recipients {
        meta.age
            .push(age::wrap(&key, r).map_err(EncryptError::from)?);
    }
    Ok(seal(
        format,
        d.tree.clone(),
        &mut meta,
        &key,
        &Cipher::new(),
        style,
    )
    .map_err(EncryptError::from)?)
}

/// `updatekeys`: the same data key wrapped to exactly `recipients`; values, MAC and
/// `lastmodified` unchanged. Returns `None` when the recipients already match.
pub fn update_keys(
    format: Format,
    file: &[u8],
    identities: &age::Identities,
    recipients: &[String],
    style: Style,
) -> Result<Option<Vec<u8>>, RekeyError> {
    if recipients.is_empty() {
        return Err(RekeyError::NoRecipients);
    }
    let (tree, mut meta) = format::parse_encrypted(format, file).map_err(DecryptError::from)?;
    let current: Vec<&str> = meta.age.iter().map(|e| e.recipient.as_str()).collect();
    let wanted: Vec<&str> = recipients.iter().map(String::as_str).collect();
    if current == wanted && meta.other_keys.is_empty() {
        return Ok(None);
    }
    let key = age::unwrap(&meta.age, identities).map_err(DecryptError::NoKey)?;
    let mut entries = Vec::new();
    for r in recipients {
        // Keep an existing wrap for a kept recipient: smaller diffs.
        match meta.age.iter().find(|e| e.recipient == *r) {
            Some(e) => entries.push(e.clone()),
            None => entries.push(age::wrap(&key, r).map_err(EncryptError::from)?),
        }
    }
    meta.age = entries;
    meta.other_keys.clear();
    Ok(Some(
        format::emit_encrypted(format, &tree, &meta, style).map_err(EncryptError::from)?,
    ))
}
