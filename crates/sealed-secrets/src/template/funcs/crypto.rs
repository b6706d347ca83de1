//! Sprig's secret-handling functions (`crypto.go`): AES-CBC with Sprig's key
//! layout, bcrypt and htpasswd, and Master Password's `derivePassword`.

use aes::cipher::{BlockDecryptMut, BlockEncryptMut, KeyIvInit};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::Mac as _;
use zeroize::Zeroizing;

use super::{CallResult, bytes_of, err, int_of, string};
use crate::template::value::Value;

type Encryptor = cbc::Encryptor<aes::Aes256>;
type Decryptor = cbc::Decryptor<aes::Aes256>;

/// Sprig's AES key: the password's first 32 bytes, zero-padded.
fn aes_key(password: &[u8]) -> Zeroizing<[u8; 32]> {
    let mut key = Zeroizing::new([0u8; 32]);
    let n = password.len().min(32);
    key[..n].copy_from_slice(&password[..n]);
    key
}

pub(super) fn encrypt_aes(a: Vec<Value>) -> CallResult {
    let plain = bytes_of(&a[1]);
    if plain.is_empty() {
        return string("");
    }
    if bytes_of(&a[0]).len() > 32 {
        return err("crypto/aes: invalid key size");
    }
    let key = aes_key(bytes_of(&a[0]));
    let mut iv = [0u8; 16];
    getrandom::fill(&mut iv).or_else(|_| err("the system random number generator failed"))?;
    let pad = 16 - plain.len() % 16;
    let mut buf = Zeroizing::new(Vec::with_capacity(plain.len() + pad));
    buf.extend_from_slice(plain);
    buf.extend(std::iter::repeat_n(u8::try_from(pad).unwrap_or(16), pad));
    let len = buf.len();
    let cipher = Encryptor::new(key[..].into(), (&iv).into());
    cipher
        .encrypt_padded_mut::<aes::cipher::block_padding::NoPadding>(&mut buf, len)
        .or_else(|_| err("encryptAES: bad block"))?;
    let mut out = iv.to_vec();
    out.extend_from_slice(&buf);
    string(STANDARD.encode(out))
}

pub(super) fn decrypt_aes(a: Vec<Value>) -> CallResult {
    let crypt64 = bytes_of(&a[1]);
    if crypt64.is_empty() {
        return string("");
    }
    if bytes_of(&a[0]).len() > 32 {
        return err("crypto/aes: invalid key size");
    }
    let key = aes_key(bytes_of(&a[0]));
    let Ok(crypt) = STANDARD.decode(crypt64) else {
        return err("illegal base64 data");
    };
    if crypt.len() < 16 {
        return err("runtime error: slice bounds out of range");
    }
    let (iv, body) = crypt.split_at(16);
    if body.len() % 16 != 0 {
        return err("crypto/cipher: input not full blocks");
    }
    if body.is_empty() {
        return err("runtime error: index out of range [-1]");
    }
    let mut buf = Zeroizing::new(body.to_vec());
    let cipher = Decryptor::new(key[..].into(), iv.into());
    cipher
        .decrypt_padded_mut::<aes::cipher::block_padding::NoPadding>(&mut buf)
        .or_else(|_| err("decryptAES: bad block"))?;
    // Sprig trims as many bytes as the last one says, checking nothing else.
    let pad = usize::from(buf[buf.len() - 1]);
    match buf.len().checked_sub(pad) {
        Some(n) => string(buf[..n].to_vec()),
        None => err("runtime error: slice bounds out of range"),
    }
}

/// Go's `bcrypt.GenerateFromPassword(p, DefaultCost)`, or Sprig's error text.
fn bcrypt_hash(password: &[u8]) -> String {
    if password.len() > 72 {
        return "failed to encrypt string with bcrypt: bcrypt: password length exceeds 72 bytes"
            .to_owned();
    }
    match bcrypt::hash_with_result(password, 10) {
        Ok(h) => h.format_for_version(bcrypt::Version::TwoA),
        Err(_) => "failed to encrypt string with bcrypt".to_owned(),
    }
}

pub(super) fn bcrypt(a: Vec<Value>) -> CallResult {
    string(bcrypt_hash(bytes_of(&a[0])))
}

pub(super) fn htpasswd(a: Vec<Value>) -> CallResult {
    let user = bytes_of(&a[0]);
    if user.contains(&b':') {
        let mut out = b"invalid username: ".to_vec();
        out.extend_from_slice(user);
        return string(out);
    }
    let mut out = user.to_vec();
    out.push(b':');
    out.extend_from_slice(bcrypt_hash(bytes_of(&a[1])).as_bytes());
    string(out)
}

const SEED: &[u8] = b"com.lyndir.masterpassword";

fn templates(kind: &[u8]) -> Option<&'static [&'static str]> {
    Some(match kind {
        b"maximum" => &["anoxxxxxxxxxxxxxxxxx", "axxxxxxxxxxxxxxxxxno"],
        b"long" => &[
            "CvcvnoCvcvCvcv",
            "CvcvCvcvnoCvcv",
            "CvcvCvcvCvcvno",
            "CvccnoCvcvCvcv",
            "CvccCvcvnoCvcv",
            "CvccCvcvCvcvno",
            "CvcvnoCvccCvcv",
            "CvcvCvccnoCvcv",
            "CvcvCvccCvcvno",
            "CvcvnoCvcvCvcc",
            "CvcvCvcvnoCvcc",
            "CvcvCvcvCvccno",
            "CvccnoCvccCvcv",
            "CvccCvccnoCvcv",
            "CvccCvccCvcvno",
            "CvcvnoCvccCvcc",
            "CvcvCvccnoCvcc",
            "CvcvCvccCvccno",
            "CvccnoCvcvCvcc",
            "CvccCvcvnoCvcc",
            "CvccCvcvCvccno",
        ],
        b"medium" => &["CvcnoCvc", "CvcCvcno"],
        b"short" => &["Cvcn"],
        b"basic" => &["aaanaaan", "aannaaan", "aaannaaa"],
        b"pin" => &["nnnn"],
        _ => return None,
    })
}

fn characters(class: u8) -> &'static [u8] {
    match class {
        b'V' => b"AEIOU",
        b'C' => b"BCDFGHJKLMNPQRSTVWXYZ",
        b'v' => b"aeiou",
        b'c' => b"bcdfghjklmnpqrstvwxyz",
        b'A' => b"AEIOUBCDFGHJKLMNPQRSTVWXYZ",
        b'a' => b"AEIOUaeiouBCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz",
        b'n' => b"0123456789",
        b'o' => b"@&%?,=[]_:-+*$#!'^~;()/.",
        _ => b"AEIOUaeiouBCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz0123456789!@#$%^&*()",
    }
}

/// Master Password (Sprig's `derivePassword counter type password user site`).
pub(super) fn derive_password(a: Vec<Value>) -> CallResult {
    let counter = int_of(&a[0]) as u32;
    let kind = bytes_of(&a[1]);
    let Some(templates) = templates(kind) else {
        let mut out = b"cannot find password template ".to_vec();
        out.extend_from_slice(kind);
        return string(out);
    };
    let (password, user, site) = (bytes_of(&a[2]), bytes_of(&a[3]), bytes_of(&a[4]));
    let len32 = |b: &[u8]| u32::try_from(b.len()).unwrap_or(u32::MAX).to_be_bytes();
    let mut salt = SEED.to_vec();
    salt.extend_from_slice(&len32(user));
    salt.extend_from_slice(user);
    let mut key = Zeroizing::new([0u8; 64]);
    let Ok(params) = scrypt::Params::new(15, 8, 2, 64) else {
        return err("scrypt parameters");
    };
    if scrypt::scrypt(password, &salt, &params, &mut key[..]).is_err() {
        return err("failed to derive password");
    }
    let mut message = SEED.to_vec();
    message.extend_from_slice(&len32(site));
    message.extend_from_slice(site);
    message.extend_from_slice(&counter.to_be_bytes());
    let Ok(mut mac) = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key[..]) else {
        return err("hmac key");
    };
    mac.update(&message);
    let seed = mac.finalize().into_bytes();
    let template = templates[usize::from(seed[0]) % templates.len()].as_bytes();
    let out: Vec<u8> = template
        .iter()
        .enumerate()
        .map(|(i, &class)| {
            let chars = characters(class);
            chars[usize::from(seed[i + 1]) % chars.len()]
        })
        .collect();
    string(out)
}
