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

/// The status to write, or `None` when the current one already says this.
///
/// `now` is RFC 3339 with seconds, as Kubernetes writes times.
pub fn next_status(
    current: Option<&SealedSecretStatus>,
    generation: Option<i64>,
    outcome: &Outcome,
    now: &str,
) -> Option<SealedSecretStatus> {
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
    if same_condition && same_generation {
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
        let s = next_status(None, Some(1), &Outcome::Synced, "T1").unwrap();
        assert_eq!(s.observed_generation, Some(1));
        let c = &s.conditions[0];
        assert_eq!((c.type_.as_str(), c.status.as_str()), ("Synced", "True"));
        assert_eq!(c.last_update_time, c.last_transition_time);
        assert_eq!(c.message, None);
    }

    #[test]
    fn unchanged_outcome_and_generation_writes_nothing() {
        let s = next_status(None, Some(1), &Outcome::Synced, "T1").unwrap();
        assert_eq!(next_status(Some(&s), Some(1), &Outcome::Synced, "T2"), None);
        let f = next_status(None, Some(1), &failed("boom"), "T1").unwrap();
        assert_eq!(next_status(Some(&f), Some(1), &failed("boom"), "T2"), None);
    }

    #[test]
    fn new_generation_updates_time_but_not_transition() {
        let s = next_status(None, Some(1), &Outcome::Synced, "T1").unwrap();
        let s2 = next_status(Some(&s), Some(2), &Outcome::Synced, "T2").unwrap();
        let c = &s2.conditions[0];
        assert_eq!(c.last_update_time.as_deref(), Some("T2"));
        assert_eq!(c.last_transition_time.as_deref(), Some("T1"));
    }

    #[test]
    fn false_to_true_and_back_transition() {
        let f = next_status(
            None,
            Some(1),
            &failed("no key could decrypt secret (a)"),
            "T1",
        )
        .unwrap();
        assert_eq!(f.conditions[0].status, "False");
        assert_eq!(f.conditions[0].reason.as_deref(), Some("UnsealFailed"));
        let t = next_status(Some(&f), Some(1), &Outcome::Synced, "T2").unwrap();
        let c = &t.conditions[0];
        assert_eq!(
            (c.status.as_str(), c.last_transition_time.as_deref()),
            ("True", Some("T2"))
        );
        assert_eq!(c.message, None);
        let changed = next_status(Some(&f), Some(1), &failed("other"), "T3").unwrap();
        assert_eq!(
            changed.conditions[0].last_transition_time.as_deref(),
            Some("T1")
        );
    }
}
