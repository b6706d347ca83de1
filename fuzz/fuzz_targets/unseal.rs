//! The unseal path: arbitrary sealed bytes and OAEP labels against a real 2048-bit key.
//!
//! Input: `label_len: u8 || label || sealed`. Whatever fails (prefix, RSA block, OAEP
//! label, GCM tag), the one error must come back: no panic, no other kind of failure.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use sealed_secrets_core::hybrid::NO_KEY_COULD_DECRYPT;
use sealed_secrets_core::{KeyRing, PrivateKey, UnsealError, hybrid};

/// A fixed test-only key (the core crate's `testdata/key-a.pem`, 2048 bits, so the
/// fuzzer runs many executions a second).
fn ring() -> &'static KeyRing {
    static RING: OnceLock<KeyRing> = OnceLock::new();
    RING.get_or_init(|| {
        let key = PrivateKey::from_pem(include_bytes!(
            "../../crates/sealed-secrets-core/testdata/key-a.pem"
        ))
        .expect("the committed test key parses");
        let mut ring = KeyRing::new();
        ring.insert(key);
        ring
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&label_len, rest)) = data.split_first() else {
        return;
    };
    let (label, sealed) = rest.split_at(usize::from(label_len).min(rest.len()));
    let ring = ring();

    let attempt = ring.attempt(&[], label, sealed);
    assert!(
        attempt.rsa_operations <= 1,
        "one key, at most one RSA operation"
    );
    let direct = hybrid::unseal(ring.iter(), label, sealed);
    match (&attempt.result, &direct) {
        (Ok((a, key)), Ok(b)) => {
            assert_eq!(a[..], b[..], "both entry points open to the same bytes");
            assert_eq!(
                key.fingerprint(),
                ring.iter().next().expect("one key").fingerprint()
            );
        }
        (Err(a), Err(b)) => {
            // The error is a unit struct; its message is the upstream one, whatever failed.
            assert_eq!(*a, UnsealError);
            assert_eq!(*b, UnsealError);
            assert_eq!(a.to_string(), NO_KEY_COULD_DECRYPT);
        }
        _ => panic!("KeyRing::attempt and hybrid::unseal disagree"),
    }
});
