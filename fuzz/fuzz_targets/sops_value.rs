//! The sops value codec `ENC[AES256_GCM,data:…,iv:…,tag:…,type:…]`: parsing,
//! formatting, decrypting under a fixed data key, and encrypt→decrypt round trips of
//! every scalar type built from the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sealed_secrets_sops::tree::Scalar;
use sealed_secrets_sops::value::{Cipher, EncryptedValue, Plain};

/// The data key the seed corpus was encrypted with (test-only).
const KEY: [u8; 32] = [7u8; 32];
/// The AAD (key path) of the seed corpus's values.
const AAD: &str = "data:password:";

fn assert_same(a: &Plain, b: &Plain) {
    match (a, b) {
        // NaN != NaN: compare what sops hashes and encrypts instead.
        (Plain::Scalar(x @ Scalar::Float(_)), Plain::Scalar(y @ Scalar::Float(_))) => {
            assert_eq!(x.to_bytes(), y.to_bytes(), "float changed in a round trip")
        }
        // No `assert_eq!`: its message would print the plaintexts.
        _ => assert!(a == b, "value changed in an encrypt/decrypt round trip"),
    }
}

/// Encrypts `plain` and decrypts it back with a fresh cipher; must be the same value.
fn round_trip(plain: &Plain) {
    let text = Cipher::new().encrypt(&KEY, plain, AAD);
    let back = Cipher::new()
        .decrypt(&KEY, &text, AAD)
        .expect("what we encrypt decrypts");
    assert_same(plain, &back);
    if !text.is_empty() {
        assert!(EncryptedValue::is_encrypted(&text));
        assert!(
            Cipher::new().decrypt(&[8u8; 32], &text, AAD).is_err(),
            "wrong key opens"
        );
        assert!(
            Cipher::new().decrypt(&KEY, &text, "other:").is_err(),
            "wrong path opens"
        );
    }
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);

    // Parse → format → parse is stable.
    if let Ok(ev) = EncryptedValue::parse(&text) {
        let again = EncryptedValue::parse(&ev.format()).expect("our own format parses");
        assert_eq!(again, ev, "parse/format round trip changed the value");
    }

    // Decrypting arbitrary text: errors fine, panics not; what decrypts re-encrypts.
    let mut cipher = Cipher::new();
    if let Ok(plain) = cipher.decrypt(&KEY, &text, AAD) {
        round_trip(&plain);
        // The IV stash makes an unchanged value re-encrypt under the same IV, so it
        // decrypts again to the same value.
        let again = cipher.encrypt(&KEY, &plain, AAD);
        let back = Cipher::new()
            .decrypt(&KEY, &again, AAD)
            .expect("re-encrypted value opens");
        assert_same(&plain, &back);
    }

    // Every scalar type from the input bytes.
    round_trip(&Plain::Scalar(Scalar::Str(text.clone().into_owned())));
    if !text.is_empty() {
        // An empty comment encrypts to "" like an empty string; the tree knows which.
        round_trip(&Plain::Comment(text.clone().into_owned()));
    }
    if !text.is_empty() {
        // The parser only makes non-empty time values.
        round_trip(&Plain::Scalar(Scalar::Time(text.clone().into_owned())));
    }
    if std::str::from_utf8(data).is_err() {
        round_trip(&Plain::Scalar(Scalar::Bytes(data.to_vec())));
    }
    if let Some(chunk) = data.first_chunk::<8>() {
        round_trip(&Plain::Scalar(Scalar::Int(i64::from_le_bytes(*chunk))));
        round_trip(&Plain::Scalar(Scalar::Float(f64::from_le_bytes(*chunk))));
    }
    if let Some(b) = data.first() {
        round_trip(&Plain::Scalar(Scalar::Bool(b & 1 == 1)));
    }
});
