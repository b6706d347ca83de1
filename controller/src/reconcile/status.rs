//! The `Synced` condition (upstream `updateSealedSecretsStatusConditions`): written
//! only when something a reader would see changes, so a resync of a healthy cluster
//! writes nothing.

use sealed_secrets::v1alpha1::{CONDITION_SYNCED, SealedSecretCondition, SealedSecretStatus};

/// Condition reason on success.
pub const REASON_UNSEALED: &str = "Unsealed";
/// Condition reason when no key opens a value (or a template fails).
pub const REASON_UNSEAL_FAILED: &str = "UnsealFailed";
/// Condition reason when the Secret exists and is someone else's.
pub const REASON_UNMANAGED: &str = "Unmanaged";
/// Condition reason when the API refused our write.
pub const REASON_UPDATE_FAILED: &str = "UpdateFailed";

/// How a reconcile ended, as the status reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The Secret matches.
    Synced,
    /// It does not, and this says why.
    Failed {
        /// One of the `REASON_*` constants.
        reason: &'static str,
        /// Human-readable, never containing a secret value.
        message: String,
    },
}

impl Outcome {
    fn status(&self) -> &'static str {
        match self {
            Outcome::Synced => "True",
            Outcome::Failed { .. } => "False",
        }
    }
}

/// What a synced SealedSecret's status records of the Secret made from it (our
/// `status.sourceHash` and `status.unsealedWith`), so a restart needs no decryption.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Record {
    /// [`super::desired::source_hash`] of the inputs the Secret holds.
    pub source_hash: String,
    /// Fingerprints of the keys that decrypted it, comma-separated; `None` if unknown.
    pub unsealed_with: Option<String>,
}

/// The status to write, or `None` when the current one already says this. `record`
/// goes with [`Outcome::Synced`]; a failure clears it.
///
/// `now` is RFC 3339 with seconds, as Kubernetes writes times.
pub fn next_status(
    current: Option<&SealedSecretStatus>,
    generation: Option<i64>,
    outcome: &Outcome,
    record: Option<&Record>,
    now: &str,
) -> Option<SealedSecretStatus> {
    let (source_hash, unsealed_with) = match (outcome, record) {
        (Outcome::Synced, Some(r)) => (Some(r.source_hash.clone()), r.unsealed_with.clone()),
        _ => (None, None),
    };
    let same_record = current.map_or((None, None), |s| {
        (s.source_hash.clone(), s.unsealed_with.clone())
    }) == (source_hash.clone(), unsealed_with.clone());
    let previous = current.and_then(|s| s.conditions.iter().find(|c| c.type_ == CONDITION_SYNCED));
    let (reason, message) = match outcome {
        Outcome::Synced => (REASON_UNSEALED, None),
        Outcome::Failed { reason, message } => (*reason, Some(message.clone())),
    };
    let same_condition = previous.is_some_and(|c| {
        c.status == outcome.status()
            && c.message.as_deref().filter(|m| !m.is_empty()) == message.as_deref()
    });
    let same_generation = current.and_then(|s| s.observed_generation) == generation;
    if same_condition && same_generation && same_record {
        return None;
    }
    let transitioned = previous.is_none_or(|c| c.status != outcome.status());
    let condition = SealedSecretCondition {
        type_: CONDITION_SYNCED.to_owned(),
        status: outcome.status().to_owned(),
        last_update_time: Some(now.to_owned()),
        last_transition_time: if transitioned {
            Some(now.to_owned())
        } else {
            previous.and_then(|c| c.last_transition_time.clone())
        },
        reason: Some(reason.to_owned()),
        message,
    };
    let mut status = current.cloned().unwrap_or_default();
    status.observed_generation = generation;
    status.conditions.retain(|c| c.type_ != CONDITION_SYNCED);
    status.conditions.insert(0, condition);
    status.source_hash = source_hash;
    status.unsealed_with = unsealed_with;
    Some(status)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed(message: &str) -> Outcome {
        Outcome::Failed {
            reason: REASON_UNSEAL_FAILED,
            message: message.into(),
        }
    }

    #[test]
    fn compat_strings() {
        assert_eq!(CONDITION_SYNCED, "Synced");
        assert_eq!(
            [
                REASON_UNSEALED,
                REASON_UNSEAL_FAILED,
                REASON_UNMANAGED,
                REASON_UPDATE_FAILED
            ],
            ["Unsealed", "UnsealFailed", "Unmanaged", "UpdateFailed"]
        );
    }

    #[test]
    fn empty_status_and_success_needs_a_write() {
        let s = next_status(None, Some(1), &Outcome::Synced, None, "T1").unwrap();
        assert_eq!(s.observed_generation, Some(1));
        let c = &s.conditions[0];
        assert_eq!((c.type_.as_str(), c.status.as_str()), ("Synced", "True"));
        assert_eq!(c.last_update_time, c.last_transition_time);
        assert_eq!(c.message, None);
    }

    #[test]
    fn unchanged_outcome_and_generation_writes_nothing() {
        let s = next_status(None, Some(1), &Outcome::Synced, None, "T1").unwrap();
        assert_eq!(
            next_status(Some(&s), Some(1), &Outcome::Synced, None, "T2"),
            None
        );
        let f = next_status(None, Some(1), &failed("boom"), None, "T1").unwrap();
        assert_eq!(
            next_status(Some(&f), Some(1), &failed("boom"), None, "T2"),
            None
        );
    }

    #[test]
    fn new_generation_updates_time_but_not_transition() {
        let s = next_status(None, Some(1), &Outcome::Synced, None, "T1").unwrap();
        let s2 = next_status(Some(&s), Some(2), &Outcome::Synced, None, "T2").unwrap();
        let c = &s2.conditions[0];
        assert_eq!(c.last_update_time.as_deref(), Some("T2"));
        assert_eq!(c.last_transition_time.as_deref(), Some("T1"));
    }

    #[test]
    fn the_record_is_written_with_synced_and_cleared_by_a_failure() {
        let record = Record {
            source_hash: "h1".into(),
            unsealed_with: Some("SHA256:a".into()),
        };
        let s = next_status(None, Some(1), &Outcome::Synced, Some(&record), "T1").unwrap();
        assert_eq!(s.source_hash.as_deref(), Some("h1"));
        assert_eq!(s.unsealed_with.as_deref(), Some("SHA256:a"));
        assert_eq!(
            next_status(Some(&s), Some(1), &Outcome::Synced, Some(&record), "T2"),
            None
        );
        let newer = Record {
            source_hash: "h2".into(),
            ..record.clone()
        };
        let s2 = next_status(Some(&s), Some(1), &Outcome::Synced, Some(&newer), "T2").unwrap();
        assert_eq!(s2.source_hash.as_deref(), Some("h2"));
        let f = next_status(Some(&s2), Some(1), &failed("boom"), Some(&newer), "T3").unwrap();
        assert_eq!((f.source_hash, f.unsealed_with), (None, None));
    }

    #[test]
    fn false_to_true_and_back_transition() {
        let f = next_status(
            None,
            Some(1),
            &failed("no key could decrypt secret (a)"),
            None,
            "T1",
        )
        .unwrap();
        assert_eq!(f.conditions[0].status, "False");
        assert_eq!(f.conditions[0].reason.as_deref(), Some("UnsealFailed"));
        let t = next_status(Some(&f), Some(1), &Outcome::Synced, None, "T2").unwrap();
        let c = &t.conditions[0];
        assert_eq!(
            (c.status.as_str(), c.last_transition_time.as_deref()),
            ("True", Some("T2"))
        );
        assert_eq!(c.message, None);
        let changed = next_status(Some(&f), Some(1), &failed("other"), None, "T3").unwrap();
        assert_eq!(
            changed.conditions[0].last_transition_time.as_deref(),
            Some("T1")
        );
    }
}
