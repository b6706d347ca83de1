//! The one thing offline sealing needs from a kubeconfig: the current context's
//! namespace, the default for Secrets that declare none (as kubectl and Go kubeseal
//! use it). A missing or unreadable kubeconfig means "default", as client-go's
//! built-in default config does.

use std::path::{Path, PathBuf};

use serde_json::Value;

fn candidates(explicit: Option<&Path>) -> Vec<PathBuf> {
    if let Some(p) = explicit {
        return vec![p.to_path_buf()];
    }
    if let Some(list) = std::env::var_os("KUBECONFIG") {
        return std::env::split_paths(&list).collect();
    }
    std::env::var_os("HOME")
        .map(|h| vec![PathBuf::from(h).join(".kube").join("config")])
        .unwrap_or_default()
}

/// The namespace of `context` (or the current context), if a kubeconfig sets one.
pub fn context_namespace(explicit: Option<&Path>, context: Option<&str>) -> Option<String> {
    let docs: Vec<Value> = candidates(explicit)
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .filter_map(|t| serde_yaml_ng::from_str(&t).ok())
        .collect();
    let current = context.map(str::to_owned).or_else(|| {
        docs.iter()
            .find_map(|d| d.get("current-context")?.as_str().map(str::to_owned))
    })?;
    docs.iter().find_map(|d| {
        d.get("contexts")?
            .as_array()?
            .iter()
            .find(|c| c.get("name").and_then(Value::as_str) == Some(current.as_str()))?
            .pointer("/context/namespace")?
            .as_str()
            .filter(|ns| !ns.is_empty())
            .map(str::to_owned)
    })
}
