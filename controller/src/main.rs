//! The controller binary. The reconciler, key management and HTTP API are not built
//! yet (tracked in the controller issue); until then this only reports its version,
//! so the image entrypoint name is already the upstream one.
use std::process::ExitCode;

fn main() -> ExitCode {
    if std::env::args().any(|a| a == "--version") {
        println!("controller version: {}", env!("CARGO_PKG_VERSION"));
        return ExitCode::SUCCESS;
    }
    eprintln!("error: the controller is not implemented yet; see docs/ for status");
    ExitCode::FAILURE
}
