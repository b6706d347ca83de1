//! `cargo run -p xtask -- gen`: rewrites the generated files committed in the repo.
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The Helm chart ships the same CRD under `crds/` (Helm installs it before the templates).
const CHART_CRD_PATH: &str = "deploy/helm/sealed-secrets/crds/sealedsecrets.bitnami.com.yaml";

fn main() -> ExitCode {
    match std::env::args().nth(1).as_deref() {
        Some("gen") => {
            let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
            let crd = sealed_secrets::crd::to_yaml();
            for rel in [sealed_secrets::crd::CRD_PATH, CHART_CRD_PATH] {
                let path = root.join(rel);
                if let Err(e) = write_atomic(&path, crd.as_bytes()) {
                    eprintln!("error: cannot write {}: {e}", path.display());
                    return ExitCode::FAILURE;
                }
                println!("wrote {}", path.display());
            }
            ExitCode::SUCCESS
        }
        _ => {
            eprintln!("usage: cargo run -p xtask -- gen");
            ExitCode::from(2)
        }
    }
}

/// Temp file in the same directory, then rename: a failed run never leaves a torn file.
fn write_atomic(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp: PathBuf = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(contents)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        // Best effort: the error that matters is the one returned.
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
