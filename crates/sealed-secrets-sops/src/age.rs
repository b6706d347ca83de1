//! Age recipients and identities: wrapping the data key once per recipient (an
//! armored age file each, as sops stores them), and finding the identities to unwrap
//! it the way sops looks for them.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use ::age::armor::{ArmoredReader, ArmoredWriter, Format};
use zeroize::Zeroizing;

use crate::metadata::AgeEntry;
use crate::value::DataKey;

/// Environment variables sops reads for age (compat strings).
pub mod env {
    /// Identities, the key text itself (several separated by whitespace).
    pub const SOPS_AGE_KEY: &str = "SOPS_AGE_KEY";
    /// A file of identities.
    pub const SOPS_AGE_KEY_FILE: &str = "SOPS_AGE_KEY_FILE";
    /// Recipients for encrypt (comma-separated).
    pub const SOPS_AGE_RECIPIENTS: &str = "SOPS_AGE_RECIPIENTS";
    /// An ssh private key file used as an age identity.
    pub const SOPS_AGE_SSH_PRIVATE_KEY_FILE: &str = "SOPS_AGE_SSH_PRIVATE_KEY_FILE";
}

/// An age recipient we can encrypt to.
pub enum Recipient {
    /// `age1…` (X25519).
    X25519(::age::x25519::Recipient),
    /// `ssh-ed25519 …` / `ssh-rsa …`.
    Ssh(Box<::age::ssh::Recipient>),
}

/// Why a recipient, identity or wrapped key was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AgeError {
    /// Not a recipient we know.
    #[error(
        "invalid age recipient {0:?}: expected an age1… X25519 public key or an ssh-ed25519/ssh-rsa public key"
    )]
    BadRecipient(String),
    /// Post-quantum or plugin recipients.
    #[error(
        "age recipient {0:?} is a post-quantum or plugin recipient, which this tool does not support"
    )]
    UnsupportedRecipient(String),
    /// A line of an identity file that is not an identity (the text is not shown).
    #[error(
        "{source_name}: line {line} is not an age identity (expected AGE-SECRET-KEY-1…, a comment or an empty line)"
    )]
    BadIdentity {
        /// Where the identities came from.
        source_name: String,
        /// 1-based line number.
        line: usize,
    },
    /// An identity file that could not be read.
    #[error("cannot read age identities from {path}: {error}")]
    Read {
        /// The file.
        path: String,
        /// The I/O error.
        error: std::io::Error,
    },
    /// No recipient.
    #[error("no age recipients given")]
    NoRecipients,
    /// The data key could not be unwrapped with any identity.
    #[error(
        "failed to get the data key required to decrypt the sops file: none of the {identities} age identities ({sources}) matches the file's recipients ({recipients})"
    )]
    NoMatchingIdentity {
        /// How many identities were tried.
        identities: usize,
        /// Where they came from.
        sources: String,
        /// The file's recipients.
        recipients: String,
    },
    /// The unwrapped key is not 32 bytes (Shamir shares are 33).
    #[error(
        "the age-wrapped data key has {0} bytes, expected 32 (sops Shamir key groups are not supported)"
    )]
    BadDataKey(usize),
    /// age refused to encrypt.
    #[error("age encryption failed: {0}")]
    Encrypt(String),
    /// An age file that is malformed.
    #[error("invalid age file: {0}")]
    Decrypt(String),
}

impl FromStr for Recipient {
    type Err = AgeError;

    fn from_str(s: &str) -> Result<Self, AgeError> {
        let s = s.trim();
        if s.starts_with("ssh-") {
            return ::age::ssh::Recipient::from_str(s)
                .map(|r| Recipient::Ssh(Box::new(r)))
                .map_err(|_| AgeError::BadRecipient(s.to_owned()));
        }
        if s.starts_with("age1pq1") || (s.starts_with("age1") && s[4..].contains('1')) {
            return Err(AgeError::UnsupportedRecipient(s.to_owned()));
        }
        ::age::x25519::Recipient::from_str(s)
            .map(Recipient::X25519)
            .map_err(|_| AgeError::BadRecipient(s.to_owned()))
    }
}

impl Recipient {
    fn as_dyn(&self) -> &dyn ::age::Recipient {
        match self {
            Recipient::X25519(r) => r,
            Recipient::Ssh(r) => r.as_ref(),
        }
    }
}

/// Splits a comma-separated recipient list (items trimmed, empty items skipped).
pub fn split_recipients(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Encrypts `plaintext` to the given recipients as one age file.
pub fn encrypt_to(
    recipients: &[Recipient],
    plaintext: &[u8],
    armor: bool,
) -> Result<Vec<u8>, AgeError> {
    if recipients.is_empty() {
        return Err(AgeError::NoRecipients);
    }
    let enc = ::age::Encryptor::with_recipients(recipients.iter().map(Recipient::as_dyn))
        .map_err(|e| AgeError::Encrypt(e.to_string()))?;
    let format = if armor {
        Format::AsciiArmor
    } else {
        Format::Binary
    };
    let io_err = |e: std::io::Error| AgeError::Encrypt(e.to_string());
    let mut out = Vec::new();
    let armored = ArmoredWriter::wrap_output(&mut out, format).map_err(io_err)?;
    let mut w = enc.wrap_output(armored).map_err(io_err)?;
    w.write_all(plaintext).map_err(io_err)?;
    w.finish().and_then(ArmoredWriter::finish).map_err(io_err)?;
    Ok(out)
}

/// Decrypts an age file (armored or binary) with the identities.
pub fn decrypt_with(
    identities: &Identities,
    file: &[u8],
) -> Result<Option<Zeroizing<Vec<u8>>>, AgeError> {
    let dec = ::age::Decryptor::new(ArmoredReader::new(file))
        .map_err(|e| AgeError::Decrypt(e.to_string()))?;
    match dec.decrypt(
        identities
            .list
            .iter()
            .map(|b| b.as_ref() as &dyn ::age::Identity),
    ) {
        Ok(mut r) => {
            let mut out = Zeroizing::new(Vec::new());
            r.read_to_end(&mut out)
                .map_err(|e| AgeError::Decrypt(e.to_string()))?;
            Ok(Some(out))
        }
        Err(::age::DecryptError::NoMatchingKeys) => Ok(None),
        Err(e) => Err(AgeError::Decrypt(e.to_string())),
    }
}

/// Wraps the data key to one recipient, as an armored age file (`enc`).
pub fn wrap(key: &DataKey, recipient: &str) -> Result<AgeEntry, AgeError> {
    let r: Recipient = recipient.parse()?;
    let enc = encrypt_to(&[r], key.as_ref(), true)?;
    Ok(AgeEntry {
        recipient: recipient.trim().to_owned(),
        enc: String::from_utf8(enc).expect("armored age output is ASCII"),
    })
}

/// Unwraps the data key from the first entry an identity opens.
pub fn unwrap(entries: &[AgeEntry], identities: &Identities) -> Result<DataKey, AgeError> {
    for e in entries {
        // A broken entry for someone else must not hide a working one.
        let Ok(Some(bytes)) = decrypt_with(identities, e.enc.as_bytes()) else {
            continue;
        };
        let key: [u8; 32] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| AgeError::BadDataKey(bytes.len()))?;
        return Ok(Zeroizing::new(key));
    }
    Err(AgeError::NoMatchingIdentity {
        identities: identities.list.len(),
        sources: if identities.sources.is_empty() {
            format!(
                "none found: set {} or {}, or create {}",
                env::SOPS_AGE_KEY_FILE,
                env::SOPS_AGE_KEY,
                default_keys_file().map_or_else(
                    || "$XDG_CONFIG_HOME/sops/age/keys.txt".to_owned(),
                    |p| p.display().to_string()
                )
            )
        } else {
            identities.sources.join(", ")
        },
        recipients: entries
            .iter()
            .map(|e| e.recipient.as_str())
            .collect::<Vec<_>>()
            .join(", "),
    })
}

/// A set of age identities and where they came from (for error messages).
#[derive(Default)]
pub struct Identities {
    list: Vec<Box<dyn ::age::Identity>>,
    /// Human-readable sources (`SOPS_AGE_KEY_FILE=/path`), never key material.
    pub sources: Vec<String>,
}

impl Identities {
    /// No identities.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many identities are loaded.
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// Whether none is loaded.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// Adds the identities of an age identity file's text (`AGE-SECRET-KEY-1…` lines,
    /// `#` comments and empty lines). An ssh private key (PEM/OpenSSH) is accepted too.
    pub fn add_text(&mut self, text: &str, source_name: &str) -> Result<(), AgeError> {
        if text.trim_start().starts_with("-----BEGIN") {
            return self.add_ssh(text, source_name);
        }
        let mut added = 0;
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            for word in line.split_whitespace() {
                let id =
                    ::age::x25519::Identity::from_str(word).map_err(|_| AgeError::BadIdentity {
                        source_name: source_name.to_owned(),
                        line: i + 1,
                    })?;
                self.list.push(Box::new(id));
                added += 1;
            }
        }
        if added > 0 {
            self.sources.push(source_name.to_owned());
        }
        Ok(())
    }

    fn add_ssh(&mut self, text: &str, source_name: &str) -> Result<(), AgeError> {
        let id = ::age::ssh::Identity::from_buffer(text.as_bytes(), Some(source_name.to_owned()))
            .map_err(|_| AgeError::BadIdentity {
            source_name: source_name.to_owned(),
            line: 1,
        })?;
        match id {
            ::age::ssh::Identity::Unencrypted(_) => {
                self.list.push(Box::new(id));
                self.sources.push(source_name.to_owned());
                Ok(())
            }
            // Passphrase prompts are out of scope: say so instead of failing later.
            _ => Err(AgeError::Read {
                path: source_name.to_owned(),
                error: std::io::Error::other(
                    "passphrase-protected or unsupported ssh keys are not supported",
                ),
            }),
        }
    }

    /// Adds the identities of a file.
    pub fn add_file(&mut self, path: &Path, label: &str) -> Result<(), AgeError> {
        let text =
            Zeroizing::new(
                std::fs::read_to_string(path).map_err(|error| AgeError::Read {
                    path: path.display().to_string(),
                    error,
                })?,
            );
        self.add_text(&text, &format!("{label}{}", path.display()))
    }

    /// The identities sops would use: `SOPS_AGE_SSH_PRIVATE_KEY_FILE`, `SOPS_AGE_KEY`,
    /// `SOPS_AGE_KEY_FILE`, then the default keys file if it exists. All are combined.
    pub fn from_env() -> Result<Self, AgeError> {
        let mut ids = Identities::new();
        if let Some(p) = std::env::var_os(env::SOPS_AGE_SSH_PRIVATE_KEY_FILE) {
            ids.add_file(
                Path::new(&p),
                &format!("{}=", env::SOPS_AGE_SSH_PRIVATE_KEY_FILE),
            )?;
        }
        if let Ok(text) = std::env::var(env::SOPS_AGE_KEY) {
            let text = Zeroizing::new(text);
            ids.add_text(&text, env::SOPS_AGE_KEY)?;
        }
        if let Some(p) = std::env::var_os(env::SOPS_AGE_KEY_FILE) {
            ids.add_file(Path::new(&p), &format!("{}=", env::SOPS_AGE_KEY_FILE))?;
        }
        if let Some(p) = default_keys_file()
            && p.is_file()
        {
            ids.add_file(&p, "")?;
        }
        Ok(ids)
    }
}

/// `<UserConfigDir>/sops/age/keys.txt` (Linux: `$XDG_CONFIG_HOME` or `~/.config`;
/// macOS: `~/Library/Application Support` unless `XDG_CONFIG_HOME` is set).
pub fn default_keys_file() -> Option<PathBuf> {
    let base = match std::env::var_os("XDG_CONFIG_HOME") {
        Some(x) if !x.is_empty() => PathBuf::from(x),
        _ => {
            let home = PathBuf::from(std::env::var_os("HOME")?);
            if cfg!(target_os = "macos") {
                home.join("Library/Application Support")
            } else {
                home.join(".config")
            }
        }
    };
    Some(base.join("sops").join("age").join("keys.txt"))
}

/// A new X25519 identity as `age-keygen` writes it (for tests and demos).
pub fn generate_identity() -> (String, String) {
    use ::age::secrecy::ExposeSecret;
    let id = ::age::x25519::Identity::generate();
    (
        id.to_string().expose_secret().to_owned(),
        id.to_public().to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_names() {
        assert_eq!(env::SOPS_AGE_KEY, "SOPS_AGE_KEY");
        assert_eq!(env::SOPS_AGE_KEY_FILE, "SOPS_AGE_KEY_FILE");
        assert_eq!(env::SOPS_AGE_RECIPIENTS, "SOPS_AGE_RECIPIENTS");
        assert_eq!(
            env::SOPS_AGE_SSH_PRIVATE_KEY_FILE,
            "SOPS_AGE_SSH_PRIVATE_KEY_FILE"
        );
    }

    #[test]
    fn wrap_unwrap_and_wrong_identity() {
        let (sk, pk) = generate_identity();
        let (sk2, _) = generate_identity();
        let key = crate::value::new_data_key();
        let entry = wrap(&key, &pk).unwrap();
        assert!(
            entry
                .enc
                .starts_with("-----BEGIN AGE ENCRYPTED FILE-----\n")
        );
        assert!(entry.enc.ends_with("-----END AGE ENCRYPTED FILE-----\n"));
        let mut ids = Identities::new();
        ids.add_text(&format!("# comment\n\n{sk}\n"), "test")
            .unwrap();
        assert_eq!(*unwrap(std::slice::from_ref(&entry), &ids).unwrap(), *key);
        let mut other = Identities::new();
        other.add_text(&sk2, "other").unwrap();
        let err = unwrap(&[entry], &other).err().unwrap();
        assert!(matches!(err, AgeError::NoMatchingIdentity { .. }));
        assert!(!err.to_string().contains("AGE-SECRET-KEY"));
    }

    #[test]
    fn bad_identity_lines_are_refused_without_echo() {
        let mut ids = Identities::new();
        let err = ids
            .add_text("AGE-SECRET-KEY-1NOTVALID", "f")
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 1"));
        assert!(!err.contains("NOTVALID"));
    }

    #[test]
    fn recipients_are_checked() {
        assert!("age1xyz".parse::<Recipient>().is_err());
        assert!(matches!(
            "age1pq1abc".parse::<Recipient>(),
            Err(AgeError::UnsupportedRecipient(_))
        ));
        assert_eq!(split_recipients(" a, ,b "), ["a", "b"]);
    }
}
