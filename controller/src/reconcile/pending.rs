//! Full copies of the SealedSecrets that still need unsealing, kept as the watch
//! delivers them. The reflector's cache holds every SealedSecret without its
//! ciphertexts (that is what keeps memory flat at 10,000 objects); without these
//! copies each unseal would first read its object again, one request in four of a
//! cold start and, under the client rate limit, a quarter of its time.
//!
//! Only objects whose status does not record their current source hash are kept
//! (new, changed, or never synced), within a byte budget; past it, or when the copy
//! is not of the version being reconciled, the reconcile reads the object as before.

use std::collections::HashMap;
use std::sync::Mutex;

use kube::ResourceExt;
use sealed_secrets::SealedSecret;

/// Bytes of copies held at most: about 2,000 SealedSecrets of three values (3 KiB of
/// JSON each), so a cold start of 10,000 stays within its 100 MB of RSS. Objects past
/// the budget are read as before.
pub const BUDGET_BYTES: usize = 6 << 20;

/// kubectl's copy of the whole applied object (every ciphertext again); the
/// reconcile never reads it.
const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// The copies, by namespace and name.
#[derive(Debug)]
pub struct PendingCopies {
    budget: usize,
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    copies: HashMap<(String, String), Copy>,
    bytes: usize,
}

/// One copy as compact JSON: a single allocation, its size exact, and no more to
/// read back than the GET it replaces would have parsed.
#[derive(Debug)]
struct Copy {
    version: String,
    json: Box<[u8]>,
}

impl PendingCopies {
    /// Holding at most `budget` bytes.
    pub fn new(budget: usize) -> Self {
        PendingCopies {
            budget,
            inner: Mutex::default(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `ss` as listed or watched, before the cache prunes it, with its source hash:
    /// kept if it needs unsealing and fits; any older copy of it goes either way.
    pub fn offer(&self, ss: &SealedSecret, hash: &str) {
        let key = key_of(ss);
        let mut inner = self.lock();
        inner.remove(&key);
        let recorded = ss.status.as_ref().and_then(|s| s.source_hash.as_deref());
        if recorded == Some(hash) {
            return;
        }
        let Some(version) = ss.metadata.resource_version.clone() else {
            return;
        };
        let mut object = ss.clone();
        object.metadata.managed_fields = None;
        if let Some(annotations) = object.metadata.annotations.as_mut() {
            annotations.remove(LAST_APPLIED);
        }
        // Serialising our own struct does not fail; if it did, the reconcile reads.
        let Ok(json) = serde_json::to_vec(&object) else {
            return;
        };
        if inner.bytes.saturating_add(json.len()) > self.budget {
            return;
        }
        inner.bytes += json.len();
        inner.copies.insert(
            key,
            Copy {
                version,
                json: json.into_boxed_slice(),
            },
        );
    }

    /// The copy of `ns/name` at `version`, given up by the store (a failed reconcile
    /// reads the object on its retry). `None` when there is none of that version.
    pub fn take(&self, ns: &str, name: &str, version: Option<&str>) -> Option<Kept> {
        let key = (ns.to_owned(), name.to_owned());
        let mut inner = self.lock();
        let matches = inner
            .copies
            .get(&key)
            .is_some_and(|c| Some(c.version.as_str()) == version);
        if !matches {
            return None;
        }
        inner.remove(&key).map(|c| Kept(c.json))
    }

    /// The object is gone.
    pub fn forget(&self, ss: &SealedSecret) {
        self.lock().remove(&key_of(ss));
    }

    /// The watch lists everything again: copies of objects deleted meanwhile must
    /// not linger.
    pub fn clear(&self) {
        let mut inner = self.lock();
        inner.copies.clear();
        inner.bytes = 0;
    }

    /// Bytes held.
    pub fn bytes(&self) -> usize {
        self.lock().bytes
    }
}

/// A copy taken from the store, parsed only by a reconcile that unseals.
#[derive(Debug)]
pub struct Kept(Box<[u8]>);

impl Kept {
    /// The object. `None` if it does not parse back, which a copy we serialised
    /// always does; the reconcile then reads the object.
    pub fn into_object(self) -> Option<SealedSecret> {
        serde_json::from_slice(&self.0).ok()
    }
}

impl Inner {
    fn remove(&mut self, key: &(String, String)) -> Option<Copy> {
        let copy = self.copies.remove(key)?;
        self.bytes = self.bytes.saturating_sub(copy.json.len());
        Some(copy)
    }
}

fn key_of(ss: &SealedSecret) -> (String, String) {
    (ss.namespace().unwrap_or_default(), ss.name_any())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use sealed_secrets::v1alpha1::SealedSecretStatus;

    use super::*;

    fn object(name: &str, version: &str) -> SealedSecret {
        let mut ss = SealedSecret::new(name, Default::default());
        ss.metadata.namespace = Some("app".into());
        ss.metadata.resource_version = Some(version.into());
        ss.spec.encrypted_data = BTreeMap::from([("password".to_owned(), "A".repeat(700))]);
        ss
    }

    #[test]
    fn keeps_what_needs_unsealing_and_gives_it_up_once() {
        let copies = PendingCopies::new(BUDGET_BYTES);
        let ss = object("db", "10");
        copies.offer(&ss, "hash-1");
        assert!(copies.bytes() > 700);
        assert!(
            copies.take("app", "db", Some("9")).is_none(),
            "another version"
        );
        let copy = copies
            .take("app", "db", Some("10"))
            .and_then(Kept::into_object)
            .expect("kept");
        assert_eq!(copy.spec.encrypted_data, ss.spec.encrypted_data);
        assert!(copies.take("app", "db", Some("10")).is_none(), "given up");
        assert_eq!(copies.bytes(), 0);
    }

    #[test]
    fn an_object_whose_status_records_its_hash_is_not_kept_and_drops_older_copies() {
        let copies = PendingCopies::new(BUDGET_BYTES);
        copies.offer(&object("db", "10"), "hash-1");
        let mut synced = object("db", "11");
        synced.status = Some(SealedSecretStatus {
            source_hash: Some("hash-1".into()),
            ..Default::default()
        });
        copies.offer(&synced, "hash-1");
        assert!(copies.take("app", "db", Some("10")).is_none());
        assert!(copies.take("app", "db", Some("11")).is_none());
        assert_eq!(copies.bytes(), 0);
    }

    #[test]
    fn the_budget_holds_and_forget_and_clear_free_it() {
        let one = serde_json::to_vec(&object("a", "1")).unwrap().len();
        let copies = PendingCopies::new(one * 2);
        for name in ["a", "b", "c"] {
            copies.offer(&object(name, "1"), "h");
        }
        assert_eq!(copies.bytes(), one * 2);
        assert!(copies.take("app", "c", Some("1")).is_none(), "over budget");
        copies.forget(&object("a", "1"));
        assert_eq!(copies.bytes(), one);
        copies.offer(&object("c", "1"), "h");
        copies.clear();
        assert_eq!(copies.bytes(), 0);
        assert!(copies.take("app", "b", Some("1")).is_none());
    }

    #[test]
    fn the_copy_leaves_out_managed_fields_and_kubectls_last_applied_copy() {
        let copies = PendingCopies::new(BUDGET_BYTES);
        let mut ss = object("db", "10");
        ss.metadata.managed_fields = Some(vec![Default::default()]);
        ss.metadata.annotations = Some(BTreeMap::from([
            (LAST_APPLIED.to_owned(), "{…}".to_owned()),
            (
                "sealedsecrets.bitnami.com/namespace-wide".to_owned(),
                "true".to_owned(),
            ),
        ]));
        copies.offer(&ss, "h");
        let copy = copies
            .take("app", "db", Some("10"))
            .and_then(Kept::into_object)
            .unwrap();
        assert_eq!(copy.metadata.managed_fields, None);
        let annotations = copy.metadata.annotations.unwrap();
        assert_eq!(
            annotations.keys().collect::<Vec<_>>(),
            ["sealedsecrets.bitnami.com/namespace-wide"]
        );
    }
}
