//! Logging as upstream's slog setup does it: text or JSON, INFO and lower to stdout
//! and WARN and higher to stderr (`--log-info-stdout`), or everything to stderr.

use tracing::Level;
use tracing_subscriber::fmt::writer::MakeWriterExt;

/// Installs the global subscriber.
pub fn init(level: Level, json: bool, info_to_stdout: bool) {
    let builder = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_target(false)
        .with_ansi(false);
    // Warnings and errors always go to stderr.
    let stderr = std::io::stderr.with_max_level(Level::WARN);
    match (json, info_to_stdout) {
        (true, true) => builder
            .json()
            .with_writer(stderr.or_else(std::io::stdout))
            .init(),
        (true, false) => builder.json().with_writer(std::io::stderr).init(),
        (false, true) => builder.with_writer(stderr.or_else(std::io::stdout)).init(),
        (false, false) => builder.with_writer(std::io::stderr).init(),
    }
}
