//! Property tests of the object layer: a generated Secret sealed into a SealedSecret,
//! written as kubeseal writes it (JSON or YAML), read back as the controller reads it,
//! and unsealed, gives the same Secret; a SealedSecret moved, renamed or re-scoped
//! against its scope fails with "no key could decrypt secret" for every value.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed property

use std::collections::BTreeMap;
use std::sync::OnceLock;

use proptest::prelude::*;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use sealed_secrets::core::{KeyRing, PrivateKey, Scope};
use sealed_secrets::documents::{self, Format};
use sealed_secrets::seal::{SealOptions, seal_secret};
use sealed_secrets::secret::{InputSecret, SecretData};
use sealed_secrets::unseal::{UnsealOptions, UnsealSecretError, unseal};
use sealed_secrets::{SealedSecret, annotations};
use zeroize::Zeroizing;

/// The committed 2048-bit test key, parsed once.
fn ring() -> &'static KeyRing {
    static RING: OnceLock<KeyRing> = OnceLock::new();
    RING.get_or_init(|| {
        let mut r = KeyRing::new();
        r.insert(
            PrivateKey::from_pem(include_bytes!(
                "../../sealed-secrets-core/testdata/key-a.pem"
            ))
            .unwrap(),
        );
        r
    })
}

fn namespace() -> impl Strategy<Value = String> {
    "[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?"
}

/// A DNS subdomain (RFC 1123), what Kubernetes requires of a Secret's name: dot-separated
/// labels, each starting and ending with a letter or digit.
fn name() -> impl Strategy<Value = String> {
    "[a-z0-9]([-a-z0-9]{0,18}[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]{0,18}[a-z0-9])?){0,2}"
}

fn scope() -> impl Strategy<Value = Scope> {
    prop::sample::select(Scope::ALL.to_vec())
}

/// Secret data: 1–4 keys as Kubernetes allows them, values of any bytes.
fn data() -> impl Strategy<Value = BTreeMap<String, Vec<u8>>> {
    prop::collection::btree_map(
        "[-._a-zA-Z0-9]{1,40}",
        prop::collection::vec(any::<u8>(), 0..600),
        1..5,
    )
}

fn input(ns: &str, name: &str, data: &BTreeMap<String, Vec<u8>>) -> InputSecret {
    let mut s = InputSecret::default();
    s.metadata.name = Some(name.to_owned());
    s.metadata.namespace = Some(ns.to_owned());
    s.data = SecretData(
        data.iter()
            .map(|(k, v)| (k.clone(), Zeroizing::new(v.clone())))
            .collect(),
    );
    s
}

fn seal(scope: Scope, ns: &str, name: &str, data: &BTreeMap<String, Vec<u8>>) -> SealedSecret {
    let opts = SealOptions {
        scope: Some(scope),
        default_namespace: "default".into(),
        ..SealOptions::default()
    };
    let key = ring().iter().next().unwrap().public_key();
    seal_secret(
        &mut ChaCha20Rng::seed_from_u64(5),
        key,
        input(ns, name, data),
        &opts,
    )
    .unwrap()
}

/// Whether values sealed at `a` open at `b`, from upstream's scope rules.
fn opens_at(a: &(Scope, String, String), b: &(Scope, String, String)) -> bool {
    a.0 == b.0
        && match a.0 {
            Scope::Strict => a.1 == b.1 && a.2 == b.2,
            Scope::NamespaceWide => a.1 == b.1,
            Scope::ClusterWide => true,
        }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn seal_write_read_unseal_gives_the_secret_back(
        data in data(), s in scope(), ns in namespace(), n in name(), yaml: bool,
    ) {
        let ss = seal(s, &ns, &n, &data);
        let format = if yaml { Format::Yaml } else { Format::Json };
        let text = documents::render(&ss, format).unwrap();
        let docs = documents::parse(text.as_bytes()).unwrap();
        prop_assert_eq!(docs.len(), 1);
        let read: SealedSecret = serde_json::from_value(docs[0].clone()).unwrap();
        prop_assert_eq!(
            serde_json::to_value(&read).unwrap(),
            serde_json::to_value(&ss).unwrap()
        );

        let secret = unseal(&read, ring(), UnsealOptions::default()).unwrap();
        prop_assert_eq!(secret.metadata.name.as_deref(), Some(n.as_str()));
        prop_assert_eq!(secret.metadata.namespace.as_deref(), Some(ns.as_str()));
        prop_assert_eq!(secret.data.0.len(), data.len());
        for (k, v) in &data {
            prop_assert!(secret.data.0[k][..] == v[..], "value of {} changed", k);
        }
    }

    #[test]
    fn moved_renamed_or_rescoped_fails_unless_the_scope_allows(
        data in data(),
        a in (scope(), namespace(), name()),
        b_scope in prop_oneof![2 => Just(None), 1 => scope().prop_map(Some)],
        b_ns in prop_oneof![2 => Just(None), 1 => namespace().prop_map(Some)],
        b_name in prop_oneof![2 => Just(None), 1 => name().prop_map(Some)],
    ) {
        let b = (
            b_scope.unwrap_or(a.0),
            b_ns.unwrap_or_else(|| a.1.clone()),
            b_name.unwrap_or_else(|| a.2.clone()),
        );
        let mut ss = seal(a.0, &a.1, &a.2, &data);
        ss.metadata.namespace = Some(b.1.clone());
        ss.metadata.name = Some(b.2.clone());
        annotations::set_scope(ss.metadata.annotations.get_or_insert_default(), b.0);

        match unseal(&ss, ring(), UnsealOptions::default()) {
            Ok(secret) => {
                prop_assert!(opens_at(&a, &b), "opened where the scope forbids it");
                for (k, v) in &data {
                    prop_assert!(secret.data.0[k][..] == v[..]);
                }
            }
            Err(e) => {
                prop_assert!(!opens_at(&a, &b), "failed where the scope allows it: {}", e);
                prop_assert!(matches!(e, UnsealSecretError::Items(_)));
                let mut failed = e.undecryptable_keys();
                failed.sort_unstable();
                let keys: Vec<&str> = data.keys().map(String::as_str).collect();
                prop_assert_eq!(failed, keys, "every value fails with the one error");
            }
        }
    }
}
