//! Sealing scopes and the RSA-OAEP label each one binds a value to.
//!
//! Matches upstream `pkg/apis/sealedsecrets/v1alpha1/sealedsecret_expansion.go`
//! (`EncryptionLabel`): the strict label is `namespace/name` with a `/` separator,
//! even though upstream's `docs/developer/crypto.md` says "concatenated".

use std::fmt;
use std::str::FromStr;

/// How tightly a sealed value is bound to where it may be unsealed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Scope {
    /// Bound to one namespace and name (the default).
    #[default]
    Strict,
    /// Bound to one namespace; the SealedSecret may be renamed.
    NamespaceWide,
    /// Not bound: may be renamed and moved to any namespace.
    ClusterWide,
}

/// Flag spelling of [`Scope::Strict`], as Go kubeseal's `--scope` takes it.
pub const STRICT: &str = "strict";
/// Flag spelling of [`Scope::NamespaceWide`].
pub const NAMESPACE_WIDE: &str = "namespace-wide";
/// Flag spelling of [`Scope::ClusterWide`].
pub const CLUSTER_WIDE: &str = "cluster-wide";

impl Scope {
    /// Every scope, strictest first.
    pub const ALL: [Scope; 3] = [Scope::Strict, Scope::NamespaceWide, Scope::ClusterWide];

    /// The OAEP label a value of this scope is sealed with.
    pub fn label(self, namespace: &str, name: &str) -> Vec<u8> {
        match self {
            Scope::Strict => format!("{namespace}/{name}").into_bytes(),
            Scope::NamespaceWide => namespace.as_bytes().to_vec(),
            Scope::ClusterWide => Vec::new(),
        }
    }

    /// The flag spelling (`strict`, `namespace-wide`, `cluster-wide`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Scope::Strict => STRICT,
            Scope::NamespaceWide => NAMESPACE_WIDE,
            Scope::ClusterWide => CLUSTER_WIDE,
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A `--scope` value that is none of the three scopes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be one of: strict, namespace-wide, cluster-wide")]
pub struct ParseScopeError;

impl FromStr for Scope {
    type Err = ParseScopeError;

    /// Go's `SealingScope.Set`: the empty string means strict.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "" | STRICT => Ok(Scope::Strict),
            NAMESPACE_WIDE => Ok(Scope::NamespaceWide),
            CLUSTER_WIDE => Ok(Scope::ClusterWide),
            _ => Err(ParseScopeError),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_per_scope_matches_upstream_table() {
        assert_eq!(Scope::Strict.label("myns", "myname"), b"myns/myname");
        assert_eq!(Scope::NamespaceWide.label("myns", "myname"), b"myns");
        assert_eq!(Scope::ClusterWide.label("myns", "myname"), b"");
    }

    #[test]
    fn scope_strings_are_the_go_flag_spellings() {
        assert_eq!(STRICT, "strict");
        assert_eq!(NAMESPACE_WIDE, "namespace-wide");
        assert_eq!(CLUSTER_WIDE, "cluster-wide");
        for scope in Scope::ALL {
            assert_eq!(scope.as_str().parse::<Scope>(), Ok(scope));
            assert_eq!(scope.to_string(), scope.as_str());
        }
    }

    #[test]
    fn empty_string_parses_to_strict() {
        assert_eq!("".parse::<Scope>(), Ok(Scope::Strict));
    }

    #[test]
    fn unknown_scope_is_rejected_with_go_message() {
        let err = "Strict".parse::<Scope>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "must be one of: strict, namespace-wide, cluster-wide"
        );
    }
}
