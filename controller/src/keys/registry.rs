//! The keys the controller holds, in memory. Key Secrets come and go while it runs
//! (renewal, bring-your-own, a restore, a key marked compromised); every change
//! builds a new immutable [`KeySet`], so a reconcile or an HTTP request works on one
//! consistent snapshot without holding a lock.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use sealed_secrets_core::{Certificate, Fingerprint, KeyRing, PrivateKey};
use time::OffsetDateTime;
use tokio::sync::watch;

use crate::config::KeyOrder;

/// One key Secret's key and certificate.
#[derive(Debug)]
pub struct KeyPair {
    /// Name of the key Secret it came from.
    pub secret_name: String,
    /// The key Secret's creationTimestamp.
    pub created: Option<OffsetDateTime>,
    /// The private key.
    pub key: PrivateKey,
    /// The first certificate of `tls.crt`.
    pub certificate: Certificate,
}

impl KeyPair {
    /// The time that orders this key among the others.
    pub fn ordering_time(&self, order: KeyOrder) -> OffsetDateTime {
        match order {
            KeyOrder::CertNotBefore => self.certificate.not_before(),
            KeyOrder::SecretCreationTimestamp => self
                .created
                .unwrap_or_else(|| self.certificate.not_before()),
        }
    }
}

/// Where a key Secret was found: the labelled ones, or the legacy unlabelled one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum KeySource {
    /// Secrets with `sealedsecrets.bitnami.com/sealed-secrets-key=active`.
    Labelled,
    /// The pre-v0.9 Secret named exactly `--key-prefix`.
    Legacy,
}

/// An immutable snapshot of the keys.
#[derive(Debug, Default)]
pub struct KeySet {
    pairs: Vec<Arc<KeyPair>>,
    newest: Option<Arc<KeyPair>>,
    ring: KeyRing,
}

impl KeySet {
    /// Orders `pairs` as upstream registers them (by Secret creation, then name) and
    /// picks the newest (strictly greatest ordering time; the first registered wins a
    /// tie). The ring tries the newest keys first.
    fn build(mut pairs: Vec<Arc<KeyPair>>, order: KeyOrder) -> KeySet {
        pairs.sort_by(|a, b| (a.created, &a.secret_name).cmp(&(b.created, &b.secret_name)));
        let mut newest: Option<&Arc<KeyPair>> = None;
        for pair in &pairs {
            if newest.is_none_or(|n| pair.ordering_time(order) > n.ordering_time(order)) {
                newest = Some(pair);
            }
        }
        let newest = newest.cloned();
        let mut by_recency: Vec<&Arc<KeyPair>> = pairs.iter().collect();
        by_recency.sort_by_key(|p| std::cmp::Reverse(p.ordering_time(order)));
        let mut ring = KeyRing::new();
        for pair in by_recency {
            // A second handle on the same key material: the ring owns its keys.
            match PrivateKey::from_pkcs8_der(pair.key.pkcs8_der()) {
                Ok(key) => {
                    ring.insert(key);
                }
                Err(e) => {
                    tracing::error!(secret = %pair.secret_name, error = %e, "cannot copy key")
                }
            }
        }
        KeySet {
            pairs,
            newest,
            ring,
        }
    }

    /// The key that seals: its certificate is served and `/v1/rotate` seals to it.
    pub fn newest(&self) -> Option<&KeyPair> {
        self.newest.as_deref()
    }

    /// Every key, for unsealing.
    pub fn ring(&self) -> &KeyRing {
        &self.ring
    }

    /// Every key pair, in registration order.
    pub fn pairs(&self) -> impl Iterator<Item = &KeyPair> {
        self.pairs.iter().map(Arc::as_ref)
    }

    /// How many keys there are.
    pub fn len(&self) -> usize {
        self.pairs.len()
    }

    /// Whether there is no key.
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// The fingerprints of every key.
    pub fn fingerprints(&self) -> Vec<Fingerprint> {
        self.pairs
            .iter()
            .map(|p| p.key.fingerprint().clone())
            .collect()
    }
}

/// The live key set, updated from the key Secret watches and by key generation.
#[derive(Debug)]
pub struct KeyRegistry {
    order: KeyOrder,
    sources: RwLock<BTreeMap<(KeySource, String), Arc<KeyPair>>>,
    current: RwLock<Arc<KeySet>>,
    changed: watch::Sender<u64>,
}

impl KeyRegistry {
    /// An empty registry.
    pub fn new(order: KeyOrder) -> Self {
        KeyRegistry {
            order,
            sources: RwLock::default(),
            current: RwLock::default(),
            changed: watch::Sender::new(0),
        }
    }

    /// The current keys.
    pub fn snapshot(&self) -> Arc<KeySet> {
        Arc::clone(&self.current.read().unwrap_or_else(|e| e.into_inner()))
    }

    /// Counts changes of the key set (a failure series restarts when it moves).
    pub fn version(&self) -> u64 {
        *self.changed.borrow()
    }

    /// A receiver that sees a new value after every change of the key set.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.changed.subscribe()
    }

    /// Adds or replaces the key from one key Secret.
    pub fn upsert(&self, source: KeySource, pair: KeyPair) {
        let name = pair.secret_name.clone();
        let fingerprint = pair.key.fingerprint().clone();
        let mut sources = self.sources.write().unwrap_or_else(|e| e.into_inner());
        let unchanged = sources.get(&(source, name.clone())).is_some_and(|old| {
            old.key.fingerprint() == &fingerprint && old.certificate.der() == pair.certificate.der()
        });
        if unchanged {
            return;
        }
        tracing::info!(secretname = %name, fingerprint = %fingerprint, "registered private key");
        sources.insert((source, name), Arc::new(pair));
        self.rebuild(&sources);
    }

    /// Drops the key of a Secret that was deleted, relabelled or became unreadable.
    pub fn remove(&self, source: KeySource, secret_name: &str) {
        let mut sources = self.sources.write().unwrap_or_else(|e| e.into_inner());
        if sources.remove(&(source, secret_name.to_owned())).is_some() {
            tracing::info!(secretname = %secret_name, "unregistered private key");
            self.rebuild(&sources);
        }
    }

    /// Replaces every key of `source` (after a watch re-list).
    pub fn replace_all(&self, source: KeySource, pairs: Vec<KeyPair>) {
        let mut sources = self.sources.write().unwrap_or_else(|e| e.into_inner());
        let before: Vec<Fingerprint> = sources
            .iter()
            .filter(|((s, _), _)| *s == source)
            .map(|(_, p)| p.key.fingerprint().clone())
            .collect();
        sources.retain(|(s, _), _| *s != source);
        for pair in pairs {
            if !before.contains(pair.key.fingerprint()) {
                tracing::info!(secretname = %pair.secret_name, fingerprint = %pair.key.fingerprint(), "registered private key");
            }
            sources.insert((source, pair.secret_name.clone()), Arc::new(pair));
        }
        self.rebuild(&sources);
    }

    fn rebuild(&self, sources: &BTreeMap<(KeySource, String), Arc<KeyPair>>) {
        // The same key may be both labelled and legacy, or stored twice: one entry per
        // fingerprint, the labelled one first.
        let mut seen = Vec::new();
        let mut pairs = Vec::new();
        for pair in sources.values() {
            if !seen.contains(pair.key.fingerprint()) {
                seen.push(pair.key.fingerprint().clone());
                pairs.push(Arc::clone(pair));
            }
        }
        let set = Arc::new(KeySet::build(pairs, self.order));
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = set;
        self.changed.send_modify(|v| *v += 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::store::generate;

    fn pair(name: &str, created: i64) -> KeyPair {
        let config = crate::testing::key_config();
        let (key, certificate) = generate(&config).unwrap();
        KeyPair {
            secret_name: name.into(),
            created: Some(OffsetDateTime::from_unix_timestamp(created).unwrap()),
            key,
            certificate,
        }
    }

    #[test]
    fn newest_by_secret_creation_and_changes_are_announced() {
        let registry = KeyRegistry::new(KeyOrder::SecretCreationTimestamp);
        let mut changes = registry.subscribe();
        assert!(registry.snapshot().newest().is_none());

        registry.upsert(KeySource::Labelled, pair("old", 100));
        registry.upsert(KeySource::Labelled, pair("new", 200));
        assert!(changes.has_changed().unwrap());
        changes.mark_unchanged();
        let set = registry.snapshot();
        assert_eq!(set.len(), 2);
        assert_eq!(set.newest().unwrap().secret_name, "new");
        let newest_fp = set.newest().unwrap().key.fingerprint().clone();
        assert_eq!(
            set.ring().iter().next().unwrap().fingerprint(),
            &newest_fp,
            "the ring tries the newest key first"
        );

        registry.remove(KeySource::Labelled, "new");
        assert!(changes.has_changed().unwrap());
        assert_eq!(registry.snapshot().newest().unwrap().secret_name, "old");
        registry.remove(KeySource::Labelled, "never-there");
        assert_eq!(registry.snapshot().len(), 1);
    }

    #[test]
    fn replace_all_drops_keys_that_vanished_during_a_relist() {
        let registry = KeyRegistry::new(KeyOrder::SecretCreationTimestamp);
        registry.upsert(KeySource::Labelled, pair("a", 1));
        registry.upsert(KeySource::Legacy, pair("sealed-secrets-key", 0));
        registry.replace_all(KeySource::Labelled, vec![pair("b", 2)]);
        let names: Vec<String> = registry
            .snapshot()
            .pairs()
            .map(|p| p.secret_name.clone())
            .collect();
        assert_eq!(names, ["sealed-secrets-key", "b"]);
    }

    #[test]
    fn cert_not_before_tie_keeps_the_first_registered() {
        let mut a = pair("a", 1);
        let b = pair("b", 2);
        // Same NotBefore for both: give a the certificate time of b.
        a.created = Some(OffsetDateTime::from_unix_timestamp(1).unwrap());
        let set = KeySet::build(vec![Arc::new(b), Arc::new(a)], KeyOrder::CertNotBefore);
        let newest = set.newest().unwrap();
        let best = set
            .pairs()
            .map(|p| p.certificate.not_before())
            .max()
            .unwrap();
        assert_eq!(newest.certificate.not_before(), best);
        if set.pairs().all(|p| p.certificate.not_before() == best) {
            assert_eq!(newest.secret_name, "a", "first registered wins a tie");
        }
    }
}
