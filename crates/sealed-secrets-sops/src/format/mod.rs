//! File formats ("stores" in sops): how a file becomes a tree and back, and where
//! the metadata lives in it.

pub mod binary;
pub mod dotenv;
pub mod json;
pub mod resolve;
pub mod yaml;

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use crate::metadata::{self, DOTENV_PREFIX, Metadata, MetadataError, SOPS_KEY};
use crate::tree::{Item, Tree, has_key, take_key};

/// A file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `.yaml` / `.yml`.
    Yaml,
    /// `.json`.
    Json,
    /// A name ending in `.env`.
    Dotenv,
    /// Anything else.
    Binary,
}

/// Why a file could not be read or written in its format.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FormatError {
    /// Bad YAML.
    #[error("invalid YAML: {0}")]
    Yaml(String),
    /// Bad JSON.
    #[error("invalid JSON: {0}")]
    Json(String),
    /// Bad dotenv.
    #[error("invalid dotenv: {0}")]
    Dotenv(String),
    /// Not UTF-8 text.
    #[error("the file is not UTF-8 text; use --input-type binary")]
    NotUtf8,
    /// Metadata problems.
    #[error(transparent)]
    Metadata(#[from] MetadataError),
}

/// An unknown `--input-type`/`--output-type`.
#[derive(Debug, thiserror::Error)]
#[error("unknown file type {0:?}: expected yaml, json, dotenv or binary")]
pub struct ParseFormatError(String);

impl FromStr for Format {
    type Err = ParseFormatError;
    fn from_str(s: &str) -> Result<Self, ParseFormatError> {
        match s {
            "yaml" => Ok(Format::Yaml),
            "json" => Ok(Format::Json),
            "dotenv" => Ok(Format::Dotenv),
            "binary" => Ok(Format::Binary),
            other => Err(ParseFormatError(other.to_owned())),
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Yaml => "yaml",
            Format::Json => "json",
            Format::Dotenv => "dotenv",
            Format::Binary => "binary",
        })
    }
}

impl Format {
    /// The format sops picks from a file name.
    pub fn from_path(path: &Path) -> Format {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        match path.extension().and_then(|e| e.to_str()) {
            Some("yaml" | "yml") => Format::Yaml,
            Some("json") => Format::Json,
            _ if name.ends_with(".env") => Format::Dotenv,
            _ => Format::Binary,
        }
    }
}

/// Output layout options (`stores` in `.sops.yaml`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    /// YAML indentation (2–9; sops default 4).
    pub yaml_indent: usize,
    /// JSON indentation: `None` = tab (default), `Some(0)` = one line, `Some(n)` = spaces.
    pub json_indent: Option<usize>,
}

impl Default for Style {
    fn default() -> Self {
        Self {
            yaml_indent: yaml::DEFAULT_INDENT,
            json_indent: None,
        }
    }
}

fn text(bytes: &[u8]) -> Result<&str, FormatError> {
    std::str::from_utf8(bytes).map_err(|_| FormatError::NotUtf8)
}

/// Parses a plaintext file.
pub fn parse_plain(format: Format, bytes: &[u8]) -> Result<Tree, FormatError> {
    match format {
        Format::Yaml => yaml::parse(text(bytes)?),
        Format::Json => json::parse(text(bytes)?),
        Format::Dotenv => dotenv::parse(text(bytes)?),
        Format::Binary => Ok(binary::parse(bytes)),
    }
}

/// Whether a parsed plaintext tree already carries sops metadata.
pub fn has_metadata(format: Format, tree: &Tree) -> bool {
    tree.branches.iter().any(|b| match format {
        Format::Dotenv => b
            .iter()
            .any(|i| matches!(i, Item::Pair(k, _) if k.starts_with(DOTENV_PREFIX))),
        _ => has_key(b, SOPS_KEY),
    })
}

/// Parses an encrypted file: the tree without metadata, and the metadata.
pub fn parse_encrypted(format: Format, bytes: &[u8]) -> Result<(Tree, Metadata), FormatError> {
    let mut tree = match format {
        Format::Yaml => yaml::parse(text(bytes)?)?,
        Format::Json | Format::Binary => json::parse(text(bytes)?)?,
        Format::Dotenv => dotenv::parse(text(bytes)?)?,
    };
    let node = match format {
        Format::Dotenv => {
            let branch = tree.branches.first_mut().ok_or(MetadataError::NotFound)?;
            let mut pairs = Vec::new();
            branch.retain(|i| match i {
                Item::Pair(k, v) if k.starts_with(DOTENV_PREFIX) => {
                    pairs.push((k[DOTENV_PREFIX.len()..].to_owned(), dotenv::value_text(v)));
                    false
                }
                _ => true,
            });
            if pairs.is_empty() {
                return Err(MetadataError::NotFound.into());
            }
            metadata::unflatten(&pairs)?
        }
        _ => {
            let first = tree.branches.first_mut().ok_or(MetadataError::NotFound)?;
            let node = take_key(first, SOPS_KEY).ok_or(MetadataError::NotFound)?;
            for b in tree.branches.iter_mut().skip(1) {
                take_key(b, SOPS_KEY);
            }
            node
        }
    };
    let meta = Metadata::from_node(&node)?;
    Ok((tree, meta))
}

/// Writes an encrypted tree with its metadata.
pub fn emit_encrypted(
    format: Format,
    tree: &Tree,
    meta: &Metadata,
    style: Style,
) -> Result<Vec<u8>, FormatError> {
    let node = meta.to_node();
    let mut with_meta = tree.clone();
    if with_meta.branches.is_empty() {
        with_meta.branches.push(Vec::new());
    }
    Ok(match format {
        Format::Dotenv => dotenv::emit(&with_meta, &metadata::flatten(&node))?.into_bytes(),
        _ => {
            for b in &mut with_meta.branches {
                b.push(Item::Pair(SOPS_KEY.to_owned(), node.clone()));
            }
            match format {
                Format::Yaml => yaml::emit(&with_meta, style.yaml_indent).into_bytes(),
                _ => json::emit(&with_meta, style.json_indent).into_bytes(),
            }
        }
    })
}

/// Writes a plaintext tree.
pub fn emit_plain(format: Format, tree: &Tree, style: Style) -> Result<Vec<u8>, FormatError> {
    Ok(match format {
        Format::Yaml => yaml::emit(tree, style.yaml_indent).into_bytes(),
        Format::Json => json::emit(tree, style.json_indent).into_bytes(),
        Format::Dotenv => dotenv::emit(tree, &[])?.into_bytes(),
        Format::Binary => binary::content(tree).unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_by_name_as_sops() {
        let f = |p: &str| Format::from_path(Path::new(p));
        assert_eq!(f("a.yaml"), Format::Yaml);
        assert_eq!(f("a.yml"), Format::Yaml);
        assert_eq!(f("a.json"), Format::Json);
        assert_eq!(f(".env"), Format::Dotenv);
        assert_eq!(f("x.env"), Format::Dotenv);
        assert_eq!(f(".env.local"), Format::Binary);
        assert_eq!(f("key.txt"), Format::Binary);
    }
}
