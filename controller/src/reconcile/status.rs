//! The status a reconcile writes: upstream's `Synced` condition exactly (Argo CD's
//! health check reads it), plus the kstatus conditions Flux and `kstatus` read
//! (`Reconciling` while a failure is being retried, `Stalled` when retrying cannot
//! help; neither present once synced) and `observedGeneration`. Written only when
//! something a reader would see changes, so a resync of a healthy cluster writes
//! nothing.
//!
//! kstatus computes Current for a synced SealedSecret, Failed for a stalled one, and
//! InProgress while `observedGeneration` trails the spec or a retry is pending.

use sealed_secrets::v1alpha1::{CONDITION_SYNCED, SealedSecretCondition, SealedSecretStatus};

/// kstatus: work is pending (here: a failure is being retried).
pub const CONDITION_RECONCILING: &str = "Reconciling";
/// kstatus: progress has stopped until something changes (a new key, an edit).
pub const CONDITION_STALLED: &str = "Stalled";

/// Condition reason on success.
pub const REASON_UNSEALED: &str = "Unsealed";
/// Condition reason when no key opens a value (or a template fails).
pub const REASON_UNSEAL_FAILED: &str = "UnsealFailed";
/// Condition reason when the Secret exists and is someone else's.
pub const REASON_UNMANAGED: &str = "Unmanaged";
/// Condition reason when the API refused our write.
pub const REASON_UPDATE_FAILED: &str = "UpdateFailed";
/// Condition reason when the Secret is immutable and would change (`Synced` says
/// `UpdateFailed` there, as upstream does; `Stalled` names it).
pub const REASON_IMMUTABLE: &str = "Immutable";

/// How a reconcile ended, as the status reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The Secret matches.
    Synced,
    /// It does not, and this says why.
    Failed {
        /// The `Synced` condition's reason: one of the `REASON_*` constants.
        reason: &'static str,
        /// Human-readable, never containing a secret value.
        message: String,
        /// Whether a retry may succeed with nothing else changing.
        progress: Progress,
    },
}

/// What follows a failure, as kstatus sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// It is retried with backoff (an API failure): `Reconciling=True`.
    Retrying,
    /// Retrying cannot help until the SealedSecret, its keys or the Secret change:
    /// `Stalled=True` with this reason.
    Stalled(&'static str),
}

impl Outcome {
    fn status(&self) -> &'static str {
        match self {
            Outcome::Synced => "True",
            Outcome::Failed { .. } => "False",
        }
    }

    /// The kstatus condition this outcome calls for: (type, reason, message).
    fn kstatus(&self) -> Option<(&'static str, &'static str, &str)> {
        match self {
            Outcome::Synced => None,
            Outcome::Failed {
                reason,
                message,
                progress: Progress::Retrying,
            } => Some((CONDITION_RECONCILING, reason, message)),
            Outcome::Failed {
                message,
                progress: Progress::Stalled(why),
                ..
            } => Some((CONDITION_STALLED, why, message)),
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

fn is_kstatus(type_: &str) -> bool {
    type_ == CONDITION_RECONCILING || type_ == CONDITION_STALLED
}

/// The status to write, or `None` when the current one already says this. `record`
/// goes with [`Outcome::Synced`]; a failure keeps the current one, since the Secret
/// still holds what it records (a failed reconcile writes no Secret).
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
        (Outcome::Synced, None) => (None, None),
        (Outcome::Failed { .. }, _) => current.map_or((None, None), |s| {
            (s.source_hash.clone(), s.unsealed_with.clone())
        }),
    };
    let same_record = current.map_or((None, None), |s| {
        (s.source_hash.clone(), s.unsealed_with.clone())
    }) == (source_hash.clone(), unsealed_with.clone());
    let conditions = current.map_or(&[][..], |s| s.conditions.as_slice());
    let previous = conditions.iter().find(|c| c.type_ == CONDITION_SYNCED);
    let (reason, message) = match outcome {
        Outcome::Synced => (REASON_UNSEALED, None),
        Outcome::Failed {
            reason, message, ..
        } => (*reason, Some(message.clone())),
    };
    let same_condition = previous.is_some_and(|c| {
        c.status == outcome.status()
            && c.message.as_deref().filter(|m| !m.is_empty()) == message.as_deref()
    });
    let wanted_kstatus = outcome.kstatus();
    let current_kstatus: Vec<_> = conditions.iter().filter(|c| is_kstatus(&c.type_)).collect();
    let same_kstatus = match (wanted_kstatus, current_kstatus.as_slice()) {
        (None, []) => true,
        (Some((type_, why, text)), [c]) => {
            c.type_ == type_
                && c.status == "True"
                && c.reason.as_deref() == Some(why)
                && c.message.as_deref() == Some(text)
        }
        _ => false,
    };
    let same_generation = current.and_then(|s| s.observed_generation) == generation;
    if same_condition && same_kstatus && same_generation && same_record {
        return None;
    }
    let transitioned = previous.is_none_or(|c| c.status != outcome.status());
    let synced = SealedSecretCondition {
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
    // Synced first: upstream's printer columns read `conditions[0]`.
    status
        .conditions
        .retain(|c| c.type_ != CONDITION_SYNCED && !is_kstatus(&c.type_));
    status.conditions.insert(0, synced);
    if let Some((type_, why, text)) = wanted_kstatus {
        let since = current_kstatus
            .iter()
            .find(|c| c.type_ == type_ && c.status == "True")
            .and_then(|c| c.last_transition_time.clone())
            .unwrap_or_else(|| now.to_owned());
        status.conditions.insert(
            1,
            SealedSecretCondition {
                type_: type_.to_owned(),
                status: "True".to_owned(),
                last_update_time: Some(now.to_owned()),
                last_transition_time: Some(since),
                reason: Some(why.to_owned()),
                message: Some(text.to_owned()),
            },
        );
    }
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
            progress: Progress::Stalled(REASON_UNSEAL_FAILED),
        }
    }

    fn retrying(message: &str) -> Outcome {
        Outcome::Failed {
            reason: REASON_UPDATE_FAILED,
            message: message.into(),
            progress: Progress::Retrying,
        }
    }

    fn types(s: &SealedSecretStatus) -> Vec<(&str, &str)> {
        s.conditions
            .iter()
            .map(|c| (c.type_.as_str(), c.status.as_str()))
            .collect()
    }

    #[test]
    fn compat_strings() {
        assert_eq!(
            [CONDITION_SYNCED, CONDITION_RECONCILING, CONDITION_STALLED],
            ["Synced", "Reconciling", "Stalled"]
        );
        assert_eq!(
            [
                REASON_UNSEALED,
                REASON_UNSEAL_FAILED,
                REASON_UNMANAGED,
                REASON_UPDATE_FAILED,
                REASON_IMMUTABLE
            ],
            [
                "Unsealed",
                "UnsealFailed",
                "Unmanaged",
                "UpdateFailed",
                "Immutable"
            ]
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
    fn a_stalled_failure_says_stalled_and_a_retried_one_reconciling() {
        let f = next_status(None, Some(1), &failed("no key"), None, "T1").unwrap();
        assert_eq!(types(&f), [("Synced", "False"), ("Stalled", "True")]);
        let stalled = &f.conditions[1];
        assert_eq!(stalled.reason.as_deref(), Some("UnsealFailed"));
        assert_eq!(stalled.message.as_deref(), Some("no key"));
        assert_eq!(
            next_status(Some(&f), Some(1), &failed("no key"), None, "T2"),
            None,
            "the same failure again writes nothing"
        );
        let r = next_status(Some(&f), Some(1), &retrying("timeout"), None, "T3").unwrap();
        assert_eq!(types(&r), [("Synced", "False"), ("Reconciling", "True")]);
        let s = next_status(Some(&r), Some(1), &Outcome::Synced, None, "T4").unwrap();
        assert_eq!(types(&s), [("Synced", "True")], "removed once synced");
    }

    #[test]
    fn stalled_keeps_its_transition_time_while_the_message_changes() {
        let f = next_status(None, Some(1), &failed("a"), None, "T1").unwrap();
        let g = next_status(Some(&f), Some(1), &failed("b"), None, "T2").unwrap();
        let c = &g.conditions[1];
        assert_eq!(
            (c.last_transition_time.as_deref(), c.message.as_deref()),
            (Some("T1"), Some("b"))
        );
    }

    #[test]
    fn other_writers_conditions_are_kept_after_ours() {
        let mut s = next_status(None, Some(1), &Outcome::Synced, None, "T1").unwrap();
        s.conditions.push(SealedSecretCondition {
            type_: "Ready".into(),
            status: "True".into(),
            ..SealedSecretCondition::default()
        });
        let f = next_status(Some(&s), Some(1), &failed("x"), None, "T2").unwrap();
        assert_eq!(
            types(&f),
            [("Synced", "False"), ("Stalled", "True"), ("Ready", "True")]
        );
    }

    #[test]
    fn the_record_is_written_with_synced_and_kept_by_a_failure() {
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
        // The failed reconcile wrote no Secret: it still holds what h2 made.
        let f = next_status(Some(&s2), Some(2), &failed("boom"), None, "T3").unwrap();
        assert_eq!(f.source_hash.as_deref(), Some("h2"));
        assert_eq!(f.unsealed_with.as_deref(), Some("SHA256:a"));
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
