//! `cargo run -p xtask -- gen`: rewrites the generated files committed in the repo.
use std::path::Path;
use std::process::ExitCode;

fn main() -> ExitCode {
    match std::env::args().nth(1).as_deref() {
        Some("gen") => {
            let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
            let path = root.join(sealed_secrets::crd::CRD_PATH);
            match std::fs::write(&path, sealed_secrets::crd::to_yaml()) {
                Ok(()) => {
                    println!("wrote {}", path.display());
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("error: cannot write {}: {e}", path.display());
                    ExitCode::FAILURE
                }
            }
        }
        _ => {
            eprintln!("usage: cargo run -p xtask -- gen");
            ExitCode::from(2)
        }
    }
}
