//! Which values get encrypted: the one selection rule of a file (sops `shouldBeEncrypted`).
//!
//! Regexes are matched unanchored against each key of the path separately, as Go's
//! `regexp.MatchString` does; a comment is judged by its parent's path.

use regex::Regex;

/// The default rule sops applies (and writes) when none is given.
pub const DEFAULT_UNENCRYPTED_SUFFIX: &str = "_unencrypted";

/// Metadata / `.sops.yaml` key names of the rules (compat strings).
pub mod keys {
    /// `unencrypted_suffix`.
    pub const UNENCRYPTED_SUFFIX: &str = "unencrypted_suffix";
    /// `encrypted_suffix`.
    pub const ENCRYPTED_SUFFIX: &str = "encrypted_suffix";
    /// `unencrypted_regex`.
    pub const UNENCRYPTED_REGEX: &str = "unencrypted_regex";
    /// `encrypted_regex`.
    pub const ENCRYPTED_REGEX: &str = "encrypted_regex";
    /// `unencrypted_comment_regex` (read to refuse it: not supported).
    pub const UNENCRYPTED_COMMENT_REGEX: &str = "unencrypted_comment_regex";
    /// `encrypted_comment_regex` (read to refuse it: not supported).
    pub const ENCRYPTED_COMMENT_REGEX: &str = "encrypted_comment_regex";
    /// `mac_only_encrypted`.
    pub const MAC_ONLY_ENCRYPTED: &str = "mac_only_encrypted";
    /// Every selection-rule key, in the order sops reads them.
    pub const RULES: [&str; 6] = [
        UNENCRYPTED_SUFFIX,
        ENCRYPTED_SUFFIX,
        UNENCRYPTED_REGEX,
        ENCRYPTED_REGEX,
        UNENCRYPTED_COMMENT_REGEX,
        ENCRYPTED_COMMENT_REGEX,
    ];
}

/// A selection rule.
#[derive(Debug, Clone)]
pub enum Rule {
    /// Values under a key ending with the suffix stay clear.
    UnencryptedSuffix(String),
    /// Only values under a key ending with the suffix are encrypted.
    EncryptedSuffix(String),
    /// Values under a key matching the regex stay clear.
    UnencryptedRegex(Regex),
    /// Only values under a key matching the regex are encrypted.
    EncryptedRegex(Regex),
}

impl Default for Rule {
    fn default() -> Self {
        Rule::UnencryptedSuffix(DEFAULT_UNENCRYPTED_SUFFIX.to_owned())
    }
}

impl PartialEq for Rule {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key() && self.text() == other.text()
    }
}

/// A rule that could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RuleError {
    /// More than one rule given.
    #[error(
        "only one of unencrypted_suffix, encrypted_suffix, unencrypted_regex, encrypted_regex may be set (found {0})"
    )]
    Conflicting(String),
    /// A bad regex.
    #[error("invalid {key} {pattern:?}: {source}")]
    Regex {
        /// Which rule.
        key: &'static str,
        /// The pattern.
        pattern: String,
        /// The parser's message.
        #[source]
        source: regex::Error,
    },
    /// A comment-regex rule (not supported here).
    #[error("{0} is not supported by this tool")]
    Unsupported(&'static str),
}

impl Rule {
    /// Builds the rule from at most one `(key, value)` pair; none gives the default.
    pub fn from_pairs(pairs: &[(&'static str, String)]) -> Result<Rule, RuleError> {
        let set: Vec<_> = pairs.iter().filter(|(_, v)| !v.is_empty()).collect();
        if set.len() > 1 {
            let names: Vec<_> = set.iter().map(|(k, _)| *k).collect();
            return Err(RuleError::Conflicting(names.join(", ")));
        }
        let Some((key, value)) = set.first() else {
            return Ok(Rule::default());
        };
        let re = |key: &'static str| {
            Regex::new(value).map_err(|source| RuleError::Regex {
                key,
                pattern: value.clone(),
                source,
            })
        };
        Ok(match *key {
            keys::UNENCRYPTED_SUFFIX => Rule::UnencryptedSuffix(value.clone()),
            keys::ENCRYPTED_SUFFIX => Rule::EncryptedSuffix(value.clone()),
            keys::UNENCRYPTED_REGEX => Rule::UnencryptedRegex(re(keys::UNENCRYPTED_REGEX)?),
            keys::ENCRYPTED_REGEX => Rule::EncryptedRegex(re(keys::ENCRYPTED_REGEX)?),
            keys::UNENCRYPTED_COMMENT_REGEX => {
                return Err(RuleError::Unsupported(keys::UNENCRYPTED_COMMENT_REGEX));
            }
            keys::ENCRYPTED_COMMENT_REGEX => {
                return Err(RuleError::Unsupported(keys::ENCRYPTED_COMMENT_REGEX));
            }
            _ => return Ok(Rule::default()),
        })
    }

    /// The metadata key of this rule.
    pub fn key(&self) -> &'static str {
        match self {
            Rule::UnencryptedSuffix(_) => keys::UNENCRYPTED_SUFFIX,
            Rule::EncryptedSuffix(_) => keys::ENCRYPTED_SUFFIX,
            Rule::UnencryptedRegex(_) => keys::UNENCRYPTED_REGEX,
            Rule::EncryptedRegex(_) => keys::ENCRYPTED_REGEX,
        }
    }

    /// The metadata value of this rule.
    pub fn text(&self) -> &str {
        match self {
            Rule::UnencryptedSuffix(s) | Rule::EncryptedSuffix(s) => s,
            Rule::UnencryptedRegex(r) | Rule::EncryptedRegex(r) => r.as_str(),
        }
    }

    /// Whether a leaf (or a comment, with its parent's path) at `path` is encrypted.
    pub fn should_encrypt(&self, path: &[String]) -> bool {
        match self {
            Rule::UnencryptedSuffix(s) => !path.iter().any(|k| k.ends_with(s.as_str())),
            Rule::EncryptedSuffix(s) => path.iter().any(|k| k.ends_with(s.as_str())),
            Rule::UnencryptedRegex(r) => !path.iter().any(|k| r.is_match(k)),
            Rule::EncryptedRegex(r) => path.iter().any(|k| r.is_match(k)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(parts: &[&str]) -> Vec<String> {
        parts.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn rule_key_spellings() {
        assert_eq!(keys::UNENCRYPTED_SUFFIX, "unencrypted_suffix");
        assert_eq!(keys::ENCRYPTED_SUFFIX, "encrypted_suffix");
        assert_eq!(keys::UNENCRYPTED_REGEX, "unencrypted_regex");
        assert_eq!(keys::ENCRYPTED_REGEX, "encrypted_regex");
        assert_eq!(keys::MAC_ONLY_ENCRYPTED, "mac_only_encrypted");
        assert_eq!(DEFAULT_UNENCRYPTED_SUFFIX, "_unencrypted");
    }

    #[test]
    fn selection() {
        let d = Rule::default();
        assert!(d.should_encrypt(&p(&["a", "b"])));
        assert!(!d.should_encrypt(&p(&["a_unencrypted", "b"])));
        let r = Rule::from_pairs(&[(keys::ENCRYPTED_REGEX, "^(data|stringData)$".into())]).unwrap();
        assert!(r.should_encrypt(&p(&["data", "x"])));
        assert!(!r.should_encrypt(&p(&["metadata", "name"])));
        assert!(!r.should_encrypt(&[]));
        // Unanchored: a bare `data` matches `metadata` too, as in Go.
        let r = Rule::from_pairs(&[(keys::ENCRYPTED_REGEX, "data".into())]).unwrap();
        assert!(r.should_encrypt(&p(&["metadata"])));
        let r = Rule::from_pairs(&[(keys::ENCRYPTED_SUFFIX, "_secret".into())]).unwrap();
        assert!(r.should_encrypt(&p(&["a_secret", "x"])));
        assert!(!r.should_encrypt(&p(&["a"])));
        let r = Rule::from_pairs(&[(keys::UNENCRYPTED_REGEX, "^pub".into())]).unwrap();
        assert!(!r.should_encrypt(&p(&["x", "public"])));
    }

    #[test]
    fn conflicts_and_bad_regexes_are_errors() {
        assert!(matches!(
            Rule::from_pairs(&[
                (keys::ENCRYPTED_REGEX, "a".into()),
                (keys::ENCRYPTED_SUFFIX, "b".into())
            ]),
            Err(RuleError::Conflicting(_))
        ));
        assert!(matches!(
            Rule::from_pairs(&[(keys::ENCRYPTED_REGEX, "(".into())]),
            Err(RuleError::Regex { .. })
        ));
    }
}
