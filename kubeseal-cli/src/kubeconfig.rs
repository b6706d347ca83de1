//! The one thing offline sealing needs from a kubeconfig: the current context's
//! namespace, the default for Secrets that declare none (as kubectl and Go kubeseal
//! use it). As client-go's: a kubeconfig without one means `default`; no kubeconfig at
//! all means the in-cluster namespace when running in a Pod, else none (and Go
//! kubeseal then refuses a Secret without a namespace).

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

/// Where client-go reads a Pod's namespace when no kubeconfig exists.
const IN_CLUSTER_NAMESPACE_FILE: &str = "/var/run/secrets/kubernetes.io/serviceaccount/namespace";

/// The namespace for a Secret that declares none: the kubeconfig context's, `default`
/// when a kubeconfig exists without one; with no kubeconfig, in a Pod
/// (`KUBERNETES_SERVICE_HOST` set), `POD_NAMESPACE` or the service-account file's;
/// else `None`.
pub fn default_namespace(explicit: Option<&Path>, context: Option<&str>) -> Option<String> {
    let docs = read_docs(explicit);
    if !docs.is_empty() {
        return Some(context_namespace(&docs, context).unwrap_or_else(|| "default".to_owned()));
    }
    std::env::var_os("KUBERNETES_SERVICE_HOST")?;
    std::env::var("POD_NAMESPACE")
        .ok()
        .or_else(|| std::fs::read_to_string(IN_CLUSTER_NAMESPACE_FILE).ok())
        .map(|ns| ns.trim().to_owned())
        .filter(|ns| !ns.is_empty())
}

fn read_docs(explicit: Option<&Path>) -> Vec<Value> {
    candidates(explicit)
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .filter_map(|t| serde_yaml_ng::from_str(&t).ok())
        .collect()
}

/// The namespace of `context` (or the current context), if a kubeconfig sets one.
fn context_namespace(docs: &[Value], context: Option<&str>) -> Option<String> {
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
