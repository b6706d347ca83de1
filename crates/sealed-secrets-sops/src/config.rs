//! `.sops.yaml`: found in the working directory or its parents (as sops looks for it),
//! `creation_rules` matched against the file's path relative to the config's directory,
//! first match wins; `stores` gives YAML/JSON indentation.

use std::path::{Path, PathBuf};

use regex::Regex;

use crate::format::{Style, yaml};
use crate::rules::{Rule, RuleError, keys};
use crate::tree::{Item, Node, Scalar};

/// The config file name sops looks for.
pub const CONFIG_FILE_NAME: &str = ".sops.yaml";
/// Environment variable with an explicit config path.
pub const SOPS_CONFIG_ENV: &str = "SOPS_CONFIG";

/// One `creation_rules` entry.
#[derive(Debug, Clone)]
pub struct CreationRule {
    /// `path_regex` (none matches everything).
    pub path_regex: Option<Regex>,
    /// age recipients (from `age` or a single `key_groups` entry).
    pub age: Vec<String>,
    /// The selection rule, if the entry sets one.
    pub rule: Option<Rule>,
    /// `mac_only_encrypted`.
    pub mac_only_encrypted: bool,
    /// Whether the entry also names non-age keys (pgp, kms, …), which we cannot use.
    pub has_other_keys: bool,
}

/// A loaded `.sops.yaml`.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file.
    pub path: PathBuf,
    /// `creation_rules` in order.
    pub creation_rules: Vec<CreationRule>,
    /// `stores` options.
    pub style: Style,
}

/// Why the config could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// Unreadable file.
    #[error("cannot read {path}: {error}")]
    Read {
        /// The file.
        path: String,
        /// The I/O error.
        error: std::io::Error,
    },
    /// Bad content.
    #[error("invalid {path}: {message}")]
    Invalid {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// Rules exist but none matches the file.
    #[error("no matching creation rules found in {config} for {file}")]
    NoMatchingRule {
        /// The config file.
        config: String,
        /// The path matched.
        file: String,
    },
}

/// `.sops.yaml` in `start` or the nearest parent (up to 100 levels), as sops looks.
pub fn find(start: &Path) -> Option<PathBuf> {
    let mut dir = Some(start.to_path_buf());
    for _ in 0..100 {
        let d = dir?;
        let candidate = d.join(CONFIG_FILE_NAME);
        if candidate.is_file() {
            return Some(candidate);
        }
        dir = d.parent().map(Path::to_path_buf);
    }
    None
}

fn strings(node: &Node) -> Vec<String> {
    match node {
        Node::Scalar(Scalar::Str(s)) => crate::age::split_recipients(s),
        Node::Seq(list) => list.iter().flat_map(strings).collect(),
        _ => Vec::new(),
    }
}

fn get<'a>(items: &'a [Item], key: &str) -> Option<&'a Node> {
    items.iter().find_map(|i| match i {
        Item::Pair(k, v) if k == key => Some(v),
        _ => None,
    })
}

fn text(node: &Node) -> Option<String> {
    match node {
        Node::Scalar(Scalar::Str(s)) => Some(s.clone()),
        Node::Scalar(Scalar::Int(i)) => Some(i.to_string()),
        Node::Scalar(Scalar::Float(f)) => Some(crate::tree::format_float(*f)),
        Node::Scalar(Scalar::Bool(b)) => Some(b.to_string()),
        _ => None,
    }
}

const OTHER_KEY_TYPES: [&str; 7] = [
    "pgp",
    "kms",
    "gcp_kms",
    "azure_keyvault",
    "hc_vault_transit_uri",
    "hckms",
    "hc_vault",
];

impl Config {
    /// Reads and parses a config file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let p = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|error| ConfigError::Read {
            path: p.clone(),
            error,
        })?;
        let invalid = |message: String| ConfigError::Invalid {
            path: p.clone(),
            message,
        };
        let text_in = std::str::from_utf8(&bytes).map_err(|_| invalid("not UTF-8".into()))?;
        let tree = yaml::parse(text_in).map_err(|e| invalid(e.to_string()))?;
        let empty = Vec::new();
        let root = tree.branches.first().unwrap_or(&empty);
        let mut config = Config {
            path: path.to_path_buf(),
            creation_rules: Vec::new(),
            style: Style::default(),
        };
        if let Some(Node::Map(stores)) = get(root, "stores") {
            if let Some(Node::Map(y)) = get(stores, "yaml")
                && let Some(Node::Scalar(Scalar::Int(i))) = get(y, "indent")
            {
                config.style.yaml_indent = usize::try_from(*i)
                    .ok()
                    .filter(|i| (2..=9).contains(i))
                    .ok_or_else(|| invalid("stores.yaml.indent must be 2 to 9".into()))?;
            }
            if let Some(Node::Map(j)) = get(stores, "json")
                && let Some(Node::Scalar(Scalar::Int(i))) = get(j, "indent")
            {
                config.style.json_indent = usize::try_from(*i).ok();
            }
        }
        let rules = match get(root, "creation_rules") {
            None | Some(Node::Null) => return Ok(config),
            Some(Node::Seq(list)) => list,
            Some(_) => return Err(invalid("creation_rules must be a list".into())),
        };
        for (n, rule) in rules.iter().enumerate() {
            let Node::Map(items) = rule else {
                if matches!(rule, Node::Comment(_)) {
                    continue;
                }
                return Err(invalid(format!("creation_rules[{n}] is not a mapping")));
            };
            let path_regex = match get(items, "path_regex").and_then(text) {
                Some(r) if !r.is_empty() => Some(
                    Regex::new(&r)
                        .map_err(|e| invalid(format!("creation_rules[{n}].path_regex: {e}")))?,
                ),
                _ => None,
            };
            let mut age = get(items, "age").map(strings).unwrap_or_default();
            let mut has_other_keys = OTHER_KEY_TYPES
                .iter()
                .any(|k| get(items, k).is_some_and(|v| !strings(v).is_empty()));
            if let Some(Node::Seq(groups)) = get(items, "key_groups") {
                let groups: Vec<_> = groups
                    .iter()
                    .filter_map(|g| match g {
                        Node::Map(g) => Some(g),
                        _ => None,
                    })
                    .collect();
                if groups.len() > 1 {
                    return Err(invalid(format!(
                        "creation_rules[{n}]: several key_groups (Shamir secret sharing) are not supported"
                    )));
                }
                for g in groups {
                    age.extend(get(g, "age").map(strings).unwrap_or_default());
                    has_other_keys |= g.iter().any(
                        |i| matches!(i, Item::Pair(k, v) if k != "age" && !strings(v).is_empty()),
                    );
                }
            }
            let pairs: Vec<(&'static str, String)> = keys::RULES
                .iter()
                .filter_map(|k| get(items, k).and_then(text).map(|v| (*k, v)))
                .filter(|(_, v)| !v.is_empty())
                .collect();
            let rule = if pairs.is_empty() {
                None
            } else {
                Some(
                    Rule::from_pairs(&pairs)
                        .map_err(|e: RuleError| invalid(format!("creation_rules[{n}]: {e}")))?,
                )
            };
            let mac_only_encrypted = matches!(
                get(items, keys::MAC_ONLY_ENCRYPTED),
                Some(Node::Scalar(Scalar::Bool(true)))
            );
            config.creation_rules.push(CreationRule {
                path_regex,
                age,
                rule,
                mac_only_encrypted,
                has_other_keys,
            });
        }
        Ok(config)
    }

    /// The first creation rule matching `file` (`None` when the config has no rules).
    pub fn rule_for(&self, file: &Path) -> Result<Option<&CreationRule>, ConfigError> {
        if self.creation_rules.is_empty() {
            return Ok(None);
        }
        let rel = relative_to_config(file, &self.path);
        self.creation_rules
            .iter()
            .find(|r| r.path_regex.as_ref().is_none_or(|re| re.is_match(&rel)))
            .map(Some)
            .ok_or_else(|| ConfigError::NoMatchingRule {
                config: self.path.display().to_string(),
                file: rel,
            })
    }
}

/// The path sops matches `path_regex` against: absolute, then relative to the
/// config file's directory when inside it.
pub fn relative_to_config(file: &Path, config: &Path) -> String {
    let abs = |p: &Path| {
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            std::env::current_dir()
                .map(|d| d.join(p))
                .unwrap_or_else(|_| p.to_path_buf())
        }
    };
    let file = normalize(&abs(file));
    let dir = normalize(&abs(config.parent().unwrap_or(Path::new("."))));
    match file.strip_prefix(&dir) {
        Ok(rel) => rel.to_string_lossy().into_owned(),
        Err(_) => file.to_string_lossy().into_owned(),
    }
}

/// Removes `.` and resolves `..` lexically (Go's `filepath.Clean`).
fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_match_relative_paths_first_match_wins() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join(CONFIG_FILE_NAME);
        std::fs::write(
            &cfg,
            "stores:\n  yaml:\n    indent: 2\ncreation_rules:\n  - path_regex: ^secrets/.*\\.yaml$\n    encrypted_regex: ^(data|stringData)$\n    age: &k age1aaa, age1bbb\n  - path_regex: \\.env$\n    key_groups:\n      - age: [age1ccc]\n  - age: *k\n",
        )
        .unwrap();
        let c = Config::load(&cfg).unwrap();
        assert_eq!(c.style.yaml_indent, 2);
        let r = c
            .rule_for(&dir.path().join("secrets/a.yaml"))
            .unwrap()
            .unwrap();
        assert_eq!(r.age, ["age1aaa", "age1bbb"]);
        assert_eq!(r.rule.as_ref().unwrap().key(), "encrypted_regex");
        let r = c.rule_for(&dir.path().join("x/.env")).unwrap().unwrap();
        assert_eq!(r.age, ["age1ccc"]);
        let r = c.rule_for(&dir.path().join("other.bin")).unwrap().unwrap();
        assert!(r.rule.is_none());
        assert_eq!(find(&dir.path().join("secrets")).unwrap(), cfg);
    }

    #[test]
    fn no_match_and_conflicts_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join(CONFIG_FILE_NAME);
        std::fs::write(
            &cfg,
            "creation_rules:\n  - path_regex: \\.yaml$\n    age: age1a\n",
        )
        .unwrap();
        let c = Config::load(&cfg).unwrap();
        assert!(matches!(
            c.rule_for(&dir.path().join("a.json")),
            Err(ConfigError::NoMatchingRule { .. })
        ));
        std::fs::write(
            &cfg,
            "creation_rules:\n  - encrypted_regex: a\n    encrypted_suffix: b\n",
        )
        .unwrap();
        assert!(Config::load(&cfg).is_err());
    }
}
