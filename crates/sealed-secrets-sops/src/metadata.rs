//! The `sops` metadata block: age recipients with their wrapped data keys, the MAC,
//! `lastmodified`, the selection rule and `version`.
//!
//! Written like sops 3.13 (keys sorted byte-wise, `enc` before `recipient`); read in
//! every layout since 3.0 (empty lists, nulls, any order, weakly typed dotenv values).

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::rules::{Rule, RuleError, keys};
use crate::tree::{Item, Node, Scalar};

/// The top-level key holding the metadata (YAML/JSON) and the dotenv prefix.
pub const SOPS_KEY: &str = "sops";
/// Prefix of flattened metadata keys in dotenv files.
pub const DOTENV_PREFIX: &str = "sops_";
/// The sops release whose format we write (`version`; must be semver for the sops CLI).
pub const SOPS_VERSION: &str = "3.13.2";

/// Field names (compat strings).
pub mod fields {
    /// `age`.
    pub const AGE: &str = "age";
    /// `recipient`.
    pub const RECIPIENT: &str = "recipient";
    /// `enc`.
    pub const ENC: &str = "enc";
    /// `lastmodified`.
    pub const LASTMODIFIED: &str = "lastmodified";
    /// `mac`.
    pub const MAC: &str = "mac";
    /// `version`.
    pub const VERSION: &str = "version";
    /// `key_groups` (Shamir; not supported).
    pub const KEY_GROUPS: &str = "key_groups";
    /// `shamir_threshold`.
    pub const SHAMIR_THRESHOLD: &str = "shamir_threshold";
}

/// One age recipient and the data key wrapped to it (an armored age file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgeEntry {
    /// `age1…` or `ssh-ed25519 …`, as given.
    pub recipient: String,
    /// The armored age file.
    pub enc: String,
}

/// The `sops` block.
#[derive(Debug, Clone, PartialEq)]
pub struct Metadata {
    /// Age recipients.
    pub age: Vec<AgeEntry>,
    /// RFC 3339 time of the last encryption (the MAC's AAD).
    pub lastmodified: String,
    /// The encrypted MAC (`ENC[…,type:str]`).
    pub mac: String,
    /// The selection rule; `None` for binary files (sops writes none there).
    pub rule: Option<Rule>,
    /// `mac_only_encrypted`.
    pub mac_only_encrypted: bool,
    /// `version`.
    pub version: String,
    /// Other key types (pgp, kms, …) kept as they were, sorted by key.
    pub other_keys: Vec<(String, Node)>,
}

/// Why the metadata could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MetadataError {
    /// No `sops` key.
    #[error("sops metadata not found: this file is not encrypted with sops")]
    NotFound,
    /// `sops` is not a mapping, or a field has the wrong type.
    #[error("invalid sops metadata: {0}")]
    Invalid(String),
    /// A selection rule problem.
    #[error("invalid sops metadata: {0}")]
    Rule(#[from] RuleError),
    /// Shamir key groups.
    #[error(
        "this file uses sops key_groups (Shamir secret sharing), which this tool does not support"
    )]
    KeyGroups,
}

const KNOWN_KEY_TYPES: [&str; 7] = [
    "pgp", "kms", "gcp_kms", "azure_kv", "hc_vault", "hckms", "age",
];

fn scalar_text(node: &Node) -> Option<String> {
    match node {
        Node::Scalar(Scalar::Str(s) | Scalar::Time(s)) => Some(s.clone()),
        Node::Scalar(Scalar::Int(i)) => Some(i.to_string()),
        Node::Scalar(Scalar::Float(f)) => Some(crate::tree::format_float(*f)),
        Node::Scalar(Scalar::Bool(b)) => Some(b.to_string()),
        Node::Scalar(Scalar::Bytes(b)) => Some(String::from_utf8_lossy(b).into_owned()),
        _ => None,
    }
}

fn is_empty_keys(node: &Node) -> bool {
    match node {
        Node::Null => true,
        Node::Seq(v) => v.is_empty(),
        Node::Scalar(Scalar::Str(s)) => s.is_empty(),
        _ => false,
    }
}

impl Metadata {
    /// Fresh metadata for a new encryption (MAC and lastmodified are set later).
    pub fn new(rule: Option<Rule>, mac_only_encrypted: bool) -> Self {
        Self {
            age: Vec::new(),
            lastmodified: String::new(),
            mac: String::new(),
            rule,
            mac_only_encrypted,
            version: SOPS_VERSION.to_owned(),
            other_keys: Vec::new(),
        }
    }

    /// The rule in force (the default suffix when none is written).
    pub fn rule(&self) -> Rule {
        self.rule.clone().unwrap_or_default()
    }

    /// Reads the `sops` mapping.
    pub fn from_node(node: &Node) -> Result<Self, MetadataError> {
        let Node::Map(items) = node else {
            return Err(MetadataError::Invalid("`sops` is not a mapping".into()));
        };
        let mut m = Metadata::new(None, false);
        m.version.clear();
        let mut rules: Vec<(&'static str, String)> = Vec::new();
        let mut key_groups = false;
        for item in items {
            let Item::Pair(k, v) = item else { continue };
            let text = || {
                scalar_text(v)
                    .ok_or_else(|| MetadataError::Invalid(format!("`{k}` is not a string")))
            };
            match k.as_str() {
                fields::AGE => m.age = age_entries(v)?,
                fields::LASTMODIFIED => m.lastmodified = text()?,
                fields::MAC => m.mac = text()?,
                fields::VERSION => m.version = text()?,
                keys::MAC_ONLY_ENCRYPTED => {
                    m.mac_only_encrypted = match v {
                        Node::Scalar(Scalar::Bool(b)) => *b,
                        Node::Null => false,
                        _ => crate::value::parse_go_bool(&text()?).ok_or_else(|| {
                            MetadataError::Invalid("`mac_only_encrypted` is not a bool".into())
                        })?,
                    }
                }
                name if keys::RULES.contains(&name) => {
                    let key = keys::RULES
                        .into_iter()
                        .find(|x| *x == name)
                        .expect("matched above");
                    if !matches!(v, Node::Null) {
                        rules.push((key, text()?));
                    }
                }
                fields::KEY_GROUPS => key_groups = !is_empty_keys(v),
                fields::SHAMIR_THRESHOLD => {}
                other if KNOWN_KEY_TYPES.contains(&other) && !is_empty_keys(v) => {
                    m.other_keys.push((other.to_owned(), v.clone()));
                }
                // Unknown fields are ignored, as mapstructure does.
                _ => {}
            }
        }
        if m.age.is_empty() && m.other_keys.is_empty() && key_groups {
            return Err(MetadataError::KeyGroups);
        }
        if m.lastmodified.is_empty() {
            return Err(MetadataError::Invalid("`lastmodified` is missing".into()));
        }
        let set: Vec<_> = rules.iter().filter(|(_, v)| !v.is_empty()).collect();
        m.rule = if set.is_empty() {
            None
        } else {
            Some(Rule::from_pairs(&rules)?)
        };
        m.other_keys.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(m)
    }

    /// The `sops` mapping, keys sorted as sops 3.13 writes them.
    pub fn to_node(&self) -> Node {
        let s = |v: &str| Node::Scalar(Scalar::Str(v.to_owned()));
        let mut items: Vec<(String, Node)> = Vec::new();
        if !self.age.is_empty() {
            items.push((
                fields::AGE.to_owned(),
                Node::Seq(
                    self.age
                        .iter()
                        .map(|e| {
                            Node::Map(vec![
                                Item::Pair(fields::ENC.to_owned(), s(&e.enc)),
                                Item::Pair(fields::RECIPIENT.to_owned(), s(&e.recipient)),
                            ])
                        })
                        .collect(),
                ),
            ));
        }
        items.extend(self.other_keys.iter().cloned());
        items.push((fields::LASTMODIFIED.to_owned(), s(&self.lastmodified)));
        items.push((fields::MAC.to_owned(), s(&self.mac)));
        if self.mac_only_encrypted {
            items.push((
                keys::MAC_ONLY_ENCRYPTED.to_owned(),
                Node::Scalar(Scalar::Bool(true)),
            ));
        }
        if let Some(rule) = &self.rule {
            items.push((rule.key().to_owned(), s(rule.text())));
        }
        items.push((fields::VERSION.to_owned(), s(&self.version)));
        items.sort_by(|a, b| a.0.cmp(&b.0));
        Node::Map(items.into_iter().map(|(k, v)| Item::Pair(k, v)).collect())
    }

    /// `lastmodified` as Go's `time.RFC3339` prints it: the MAC's AAD.
    pub fn mac_aad(&self) -> Result<String, MetadataError> {
        let t = OffsetDateTime::parse(self.lastmodified.trim(), &Rfc3339).map_err(|_| {
            MetadataError::Invalid(format!(
                "`lastmodified` {:?} is not an RFC 3339 time",
                self.lastmodified
            ))
        })?;
        Ok(rfc3339_seconds(t))
    }

    /// Sets `lastmodified` to now (UTC, seconds).
    pub fn touch(&mut self) {
        self.lastmodified = rfc3339_seconds(OffsetDateTime::now_utc());
    }
}

/// Go's `Format(time.RFC3339)`: seconds precision, `Z` for a zero offset.
pub fn rfc3339_seconds(t: OffsetDateTime) -> String {
    let off = t.offset();
    let zone = if off.is_utc() {
        "Z".to_owned()
    } else {
        let (h, m, _) = off.as_hms();
        let sign = if off.is_negative() { '-' } else { '+' };
        format!("{sign}{:02}:{:02}", h.unsigned_abs(), m.unsigned_abs())
    };
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{zone}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

fn age_entries(node: &Node) -> Result<Vec<AgeEntry>, MetadataError> {
    let list = match node {
        Node::Null => return Ok(Vec::new()),
        Node::Seq(list) => list,
        _ => return Err(MetadataError::Invalid("`age` is not a list".into())),
    };
    let mut out = Vec::new();
    for entry in list {
        let Node::Map(items) = entry else {
            if matches!(entry, Node::Comment(_)) {
                continue;
            }
            return Err(MetadataError::Invalid(
                "an `age` entry is not a mapping".into(),
            ));
        };
        let mut e = AgeEntry {
            recipient: String::new(),
            enc: String::new(),
        };
        for item in items {
            if let Item::Pair(k, v) = item {
                match k.as_str() {
                    fields::RECIPIENT => e.recipient = scalar_text(v).unwrap_or_default(),
                    fields::ENC => e.enc = scalar_text(v).unwrap_or_default(),
                    _ => {}
                }
            }
        }
        out.push(e);
    }
    Ok(out)
}

/// Flattens the metadata into dotenv pairs (`sops_age__list_0__map_enc=…`).
pub fn flatten(node: &Node) -> Vec<(String, String)> {
    fn walk(prefix: &str, node: &Node, out: &mut Vec<(String, String)>) {
        match node {
            Node::Map(items) => {
                for item in items {
                    if let Item::Pair(k, v) = item {
                        let p = if prefix.is_empty() {
                            k.clone()
                        } else {
                            format!("{prefix}__map_{k}")
                        };
                        walk(&p, v, out);
                    }
                }
            }
            Node::Seq(list) => {
                for (i, v) in list.iter().enumerate() {
                    walk(&format!("{prefix}__list_{i}"), v, out);
                }
            }
            Node::Null | Node::Comment(_) => {}
            other => out.push((
                format!("{DOTENV_PREFIX}{prefix}"),
                scalar_text(other).unwrap_or_default(),
            )),
        }
    }
    let mut out = Vec::new();
    walk("", node, &mut out);
    out
}

/// Rebuilds the metadata node from flattened dotenv pairs (keys without `sops_`).
pub fn unflatten(pairs: &[(String, String)]) -> Result<Node, MetadataError> {
    enum Step {
        Map(String),
        List(usize),
    }
    fn insert(node: &mut Node, steps: &[Step], value: &str) -> Result<(), MetadataError> {
        let Some((first, rest)) = steps.split_first() else {
            *node = Node::Scalar(Scalar::Str(value.to_owned()));
            return Ok(());
        };
        match first {
            Step::Map(k) => {
                if !matches!(node, Node::Map(_)) {
                    *node = Node::Map(Vec::new());
                }
                let Node::Map(items) = node else {
                    unreachable!("set above")
                };
                let pos = items
                    .iter()
                    .position(|i| matches!(i, Item::Pair(x, _) if x == k));
                let idx = match pos {
                    Some(p) => p,
                    None => {
                        items.push(Item::Pair(k.clone(), Node::Null));
                        items.len() - 1
                    }
                };
                let Item::Pair(_, child) = &mut items[idx] else {
                    unreachable!("pairs only")
                };
                insert(child, rest, value)
            }
            Step::List(i) => {
                if !matches!(node, Node::Seq(_)) {
                    *node = Node::Seq(Vec::new());
                }
                let Node::Seq(list) = node else {
                    unreachable!("set above")
                };
                if *i > 1000 {
                    return Err(MetadataError::Invalid("list index too large".into()));
                }
                while list.len() <= *i {
                    list.push(Node::Null);
                }
                insert(&mut list[*i], rest, value)
            }
        }
    }
    let mut root = Node::Map(Vec::new());
    for (key, value) in pairs {
        let mut parts = key.split("__");
        let head = parts.next().unwrap_or_default();
        let mut steps = vec![Step::Map(head.to_owned())];
        for part in parts {
            if let Some(k) = part.strip_prefix("map_") {
                steps.push(Step::Map(k.to_owned()));
            } else if let Some(i) = part.strip_prefix("list_") {
                steps.push(Step::List(i.parse().map_err(|_| {
                    MetadataError::Invalid(format!("bad flattened key sops_{key}"))
                })?));
            } else {
                return Err(MetadataError::Invalid(format!(
                    "bad flattened key sops_{key}"
                )));
            }
        }
        insert(&mut root, &steps, value)?;
    }
    Ok(root)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compat_strings() {
        assert_eq!(SOPS_KEY, "sops");
        assert_eq!(DOTENV_PREFIX, "sops_");
        assert_eq!(fields::AGE, "age");
        assert_eq!(fields::RECIPIENT, "recipient");
        assert_eq!(fields::ENC, "enc");
        assert_eq!(fields::LASTMODIFIED, "lastmodified");
        assert_eq!(fields::MAC, "mac");
        assert_eq!(fields::VERSION, "version");
    }

    fn sample() -> Metadata {
        let mut m = Metadata::new(Some(Rule::default()), true);
        m.age.push(AgeEntry {
            recipient: "age1x".into(),
            enc: "-----BEGIN AGE ENCRYPTED FILE-----\nabc\n-----END AGE ENCRYPTED FILE-----\n"
                .into(),
        });
        m.lastmodified = "2024-11-12T13:33:42Z".into();
        m.mac = "ENC[x]".into();
        m
    }

    #[test]
    fn node_round_trip_and_sorted_keys() {
        let m = sample();
        let node = m.to_node();
        let Node::Map(items) = &node else { panic!() };
        let keys: Vec<_> = items
            .iter()
            .map(|i| match i {
                Item::Pair(k, _) => k.as_str(),
                Item::Comment(_) => "",
            })
            .collect();
        assert_eq!(
            keys,
            [
                "age",
                "lastmodified",
                "mac",
                "mac_only_encrypted",
                "unencrypted_suffix",
                "version"
            ]
        );
        assert_eq!(Metadata::from_node(&node).unwrap(), m);
    }

    #[test]
    fn dotenv_flattening_round_trips() {
        let m = sample();
        let flat = flatten(&m.to_node());
        assert_eq!(flat[0].0, "sops_age__list_0__map_enc");
        assert_eq!(flat[1].0, "sops_age__list_0__map_recipient");
        let stripped: Vec<_> = flat
            .iter()
            .map(|(k, v)| (k.strip_prefix("sops_").unwrap().to_owned(), v.clone()))
            .collect();
        assert_eq!(
            Metadata::from_node(&unflatten(&stripped).unwrap()).unwrap(),
            m
        );
    }

    #[test]
    fn mac_aad_is_go_rfc3339() {
        let mut m = sample();
        m.lastmodified = "2024-01-02T03:04:05.123+02:00".into();
        assert_eq!(m.mac_aad().unwrap(), "2024-01-02T03:04:05+02:00");
        m.lastmodified = "2024-01-02T03:04:05+00:00".into();
        assert_eq!(m.mac_aad().unwrap(), "2024-01-02T03:04:05Z");
        m.lastmodified = "yesterday".into();
        assert!(m.mac_aad().is_err());
    }
}
