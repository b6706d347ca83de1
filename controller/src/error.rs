//! The one error of a reconcile, with the metric reason and retry policy of each
//! failure.

use sealed_secrets::unseal::UnsealSecretError;

use crate::metrics::reason;

/// Why a SealedSecret could not be turned into its Secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No key could decrypt a value, or a template failed.
    #[error("{0}")]
    Unseal(#[from] UnsealSecretError),
    /// The Secret exists and is someone else's.
    #[error("failed update: {0}")]
    Unmanaged(String),
    /// The Secret is immutable and its content would change.
    #[error(
        "Error updating {0}: the target Secret is immutable. Once a Secret is marked as immutable, it is not possible to revert this change nor to mutate the contents of the data field. You can only delete and recreate the Secret."
    )]
    Immutable(String),
    /// A Kubernetes API call failed.
    #[error("{what}: {source}")]
    Api {
        /// What was being done.
        what: &'static str,
        /// The API error.
        #[source]
        source: kube::Error,
    },
    /// A blocking task panicked or was cancelled.
    #[error("internal error: {0}")]
    Internal(String),
    /// The controller stopped (shutdown, or leadership lost) before it could decide.
    #[error("controller stopping")]
    Stopping,
    /// The SealedSecret was deleted while it was being reconciled.
    #[error("SealedSecret deleted")]
    Gone,
}

impl Error {
    /// The `unseal_errors_total{reason}` label.
    pub fn metric_reason(&self) -> &'static str {
        match self {
            Error::Unseal(_) => reason::UNSEAL,
            Error::Unmanaged(_) => reason::UNMANAGED,
            Error::Immutable(_)
            | Error::Api { .. }
            | Error::Internal(_)
            | Error::Stopping
            | Error::Gone => reason::UPDATE,
        }
    }

    /// Whether retrying can help without anything else changing. Unseal and
    /// ownership failures are retried only `--max-unseal-retries` times (a new key or
    /// an edit triggers a fresh attempt); API failures are retried with backoff until
    /// they pass; an immutable Secret never changes by itself.
    pub fn retry(&self) -> Retry {
        match self {
            Error::Unseal(_) | Error::Unmanaged(_) => Retry::Limited,
            Error::Api { .. } | Error::Internal(_) => Retry::Always,
            Error::Immutable(_) | Error::Stopping | Error::Gone => Retry::Never,
        }
    }

    pub(crate) fn api(what: &'static str) -> impl FnOnce(kube::Error) -> Error {
        move |source| Error::Api { what, source }
    }
}

/// How a failure is retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// Up to `--max-unseal-retries` times.
    Limited,
    /// With backoff, without limit.
    Always,
    /// Not at all.
    Never,
}

/// Whether a Kubernetes error is the API server refusing to change an immutable
/// Secret.
pub fn is_immutable_error(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(status) if status.message.contains("field is immutable when `immutable` is set"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upstream_messages() {
        assert_eq!(
            Error::Unmanaged(crate::reconcile::desired::unmanaged_message("db")).to_string(),
            "failed update: Resource \"db\" already exists and is not managed by SealedSecret"
        );
        assert!(
            Error::Immutable("app/db".into())
                .to_string()
                .starts_with("Error updating app/db: the target Secret is immutable.")
        );
    }

    #[test]
    fn reasons_and_retries() {
        let unseal = Error::Unseal(UnsealSecretError::Items(vec![(
            "a".into(),
            "no key could decrypt secret".into(),
        )]));
        assert_eq!(
            (unseal.metric_reason(), unseal.retry()),
            ("unseal", Retry::Limited)
        );
        let immutable = Error::Immutable("x".into());
        assert_eq!(
            (immutable.metric_reason(), immutable.retry()),
            ("update", Retry::Never)
        );
        assert_eq!(Error::Unmanaged("x".into()).metric_reason(), "unmanaged");
    }
}
