//! Fixtures shared by the unit tests: the fixed test key A and small key settings.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use sealed_secrets_core::{Certificate, PrivateKey};

use crate::config::{KeyConfig, KeyOrder};
use crate::keys::registry::KeySource;
use crate::keys::{KeyPair, KeyRegistry};

/// Test key A (2048-bit) of the core crate's testdata.
pub const KEY_A: &[u8] = include_bytes!("../../crates/sealed-secrets-core/testdata/key-a.pem");
/// Key A's certificate.
pub const CERT_A: &[u8] = include_bytes!("../../crates/sealed-secrets-core/testdata/cert-a.pem");

/// A registry holding key A alone.
pub fn registry_with_key_a() -> Arc<KeyRegistry> {
    let registry = Arc::new(KeyRegistry::new(KeyOrder::CertNotBefore));
    registry.upsert(
        KeySource::Labelled,
        KeyPair {
            secret_name: "sealed-secrets-keyaaaaa".into(),
            created: None,
            key: PrivateKey::from_pem(KEY_A).unwrap(),
            certificate: Certificate::from_pem(CERT_A).unwrap(),
        },
    );
    registry
}

/// Key settings for fast tests: 2048-bit keys, one hour of validity, no renewal.
pub fn key_config() -> KeyConfig {
    KeyConfig {
        prefix: "sealed-secrets-key".into(),
        size: 2048,
        ttl: Duration::from_secs(3600),
        common_name: String::new(),
        renew_period: None,
        cutoff: None,
        order: KeyOrder::CertNotBefore,
        labels: BTreeMap::new(),
        annotations: BTreeMap::new(),
    }
}
