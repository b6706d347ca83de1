//! Property tests of the wire format: seal→unseal round trips for generated values,
//! names, namespaces and scopes; a value opens only under its own label and key.
//!
//! The keys are the committed test keys (no key generation: RSA-4096 keygen is slow),
//! parsed once per test binary.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed property
use std::sync::OnceLock;

use proptest::prelude::*;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use sealed_secrets_core::hybrid::{self, NO_KEY_COULD_DECRYPT};
use sealed_secrets_core::{KeyRing, PrivateKey, Scope, UnsealError};

struct Keys {
    a: PrivateKey,
    b: PrivateKey,
    c4096: PrivateKey,
    /// The three keys, the 4096-bit one first and key a last.
    ring: KeyRing,
}

fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let pem = |bytes: &[u8]| PrivateKey::from_pem(bytes).expect("committed test key");
        let (a, b, c) = (
            include_bytes!("../testdata/key-a.pem").as_slice(),
            include_bytes!("../testdata/key-b.pem").as_slice(),
            include_bytes!("../testdata/key-c-4096.pem").as_slice(),
        );
        let mut ring = KeyRing::new();
        for key in [c, b, a] {
            ring.insert(pem(key));
        }
        Keys {
            a: pem(a),
            b: pem(b),
            c4096: pem(c),
            ring,
        }
    })
}

/// A Kubernetes namespace: a DNS-1123 label.
fn namespace() -> impl Strategy<Value = String> {
    "[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?"
}

/// A Secret name: a DNS-1123 subdomain (dots allowed), up to 253 characters.
fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z0-9]([-a-z0-9.]{0,61}[a-z0-9])?",
        "[a-z0-9]{1,63}(\\.[a-z0-9]{1,63}){0,3}",
    ]
}

fn scope() -> impl Strategy<Value = Scope> {
    prop::sample::select(Scope::ALL.to_vec())
}

/// Secret values: often small, sometimes empty, sometimes up to 64 KiB.
fn value() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => prop::collection::vec(any::<u8>(), 0..256),
        1 => Just(Vec::new()),
        1 => prop::collection::vec(any::<u8>(), 0..=65_536),
    ]
}

fn rng(seed: u64) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(seed)
}

/// Where a value is sealed for: scope, namespace, name.
type Place = (Scope, String, String);

/// Whether a value sealed for `a` must open at `b`: upstream's scope rules, written
/// out independently of [`Scope::label`].
fn opens_at(a: &Place, b: &Place) -> bool {
    a.0 == b.0
        && match a.0 {
            Scope::Strict => a.1 == b.1 && a.2 == b.2,
            Scope::NamespaceWide => a.1 == b.1,
            Scope::ClusterWide => true,
        }
}

/// A second place that often shares the scope, namespace or name with the first
/// (independent draws would almost never match, and the property would test little).
fn nearby(a: Place) -> impl Strategy<Value = (Place, Place)> {
    let (s, ns, n) = a.clone();
    (
        prop_oneof![2 => Just(s), 1 => scope()],
        prop_oneof![2 => Just(ns), 1 => namespace()],
        prop_oneof![2 => Just(n), 1 => name()],
    )
        .prop_map(move |b| (a.clone(), b))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn seal_then_unseal_gives_the_value_back(
        value in value(), s in scope(), ns in namespace(), n in name(), seed: u64,
    ) {
        let k = keys();
        let label = s.label(&ns, &n);
        let sealed = hybrid::seal(&mut rng(seed), k.a.public_key(), &label, &value).unwrap();
        let opened = hybrid::unseal([&k.a], &label, &sealed).unwrap();
        prop_assert!(opened[..] == value[..], "round trip changed the value");

        // Through a ring where the right key is tried last.
        let attempt = k.ring.attempt(&[], &label, &sealed);
        prop_assert_eq!(attempt.rsa_operations, 3);
        let (opened, key) = attempt.result.unwrap();
        prop_assert!(opened[..] == value[..]);
        prop_assert_eq!(key.fingerprint(), k.a.fingerprint());
    }

    #[test]
    fn a_4096_bit_key_round_trips_too(value in value(), s in scope(), ns in namespace(), n in name()) {
        let k = keys();
        let label = s.label(&ns, &n);
        let sealed = hybrid::seal(&mut rng(1), k.c4096.public_key(), &label, &value).unwrap();
        prop_assert_eq!(sealed.len(), 2 + 512 + value.len() + 16);
        let opened = hybrid::unseal([&k.a, &k.c4096], &label, &sealed).unwrap();
        prop_assert!(opened[..] == value[..]);
    }

    #[test]
    fn a_value_opens_only_where_its_scope_allows(
        (a, b) in (scope(), namespace(), name()).prop_flat_map(nearby),
        value in prop::collection::vec(any::<u8>(), 0..64),
    ) {
        let k = keys();
        let sealed =
            hybrid::seal(&mut rng(7), k.a.public_key(), &a.0.label(&a.1, &a.2), &value).unwrap();
        let result = hybrid::unseal([&k.a], &b.0.label(&b.1, &b.2), &sealed);
        if opens_at(&a, &b) {
            prop_assert!(result.unwrap()[..] == value[..]);
        } else {
            let e = result.unwrap_err();
            prop_assert_eq!(e, UnsealError);
            prop_assert_eq!(e.to_string(), NO_KEY_COULD_DECRYPT);
        }
    }

    #[test]
    fn another_key_or_any_flipped_bit_fails_with_the_one_error(
        value in prop::collection::vec(any::<u8>(), 0..64),
        s in scope(), ns in namespace(), n in name(),
        flip in any::<prop::sample::Index>(), bit in 0u8..8,
    ) {
        let k = keys();
        let label = s.label(&ns, &n);
        let sealed = hybrid::seal(&mut rng(3), k.a.public_key(), &label, &value).unwrap();
        prop_assert_eq!(hybrid::unseal([&k.b, &k.c4096], &label, &sealed), Err(UnsealError));

        let mut tampered = sealed.clone();
        tampered[flip.index(sealed.len())] ^= 1 << bit;
        prop_assert_eq!(hybrid::unseal([&k.a], &label, &tampered), Err(UnsealError));
        prop_assert_eq!(
            hybrid::unseal([&k.a], &label, &sealed[..flip.index(sealed.len())]),
            Err(UnsealError)
        );
    }
}
