//! Files in and out: reading input, writing output atomically (a temp file in the
//! same directory, renamed only on success, so a failure never leaves a partial or
//! emptied file).

use std::io::{Read, Write};
use std::path::Path;

use anyhow::Result;

/// Largest input read from a file or stdin. A Secret holds at most 1 MiB and the API
/// server refuses larger requests than 3 MiB, so nothing bigger can be sealed usefully;
/// the cap keeps memory bounded (`-f /dev/zero` stops here instead of filling memory).
pub const MAX_INPUT_BYTES: u64 = 16 * 1024 * 1024;

/// Reads at most [`MAX_INPUT_BYTES`] from `reader`; more is an error naming `what`.
fn read_capped(reader: impl Read, what: &str) -> Result<Vec<u8>> {
    let mut buf = Vec::new();
    reader
        .take(MAX_INPUT_BYTES + 1)
        .read_to_end(&mut buf)
        .map_err(|e| anyhow::anyhow!("read {what}: {}", os_error_text(&e)))?;
    if buf.len() as u64 > MAX_INPUT_BYTES {
        anyhow::bail!(
            "{what} is larger than {} MiB: a Kubernetes Secret holds at most 1 MiB (split the input into several files)",
            MAX_INPUT_BYTES / (1024 * 1024)
        );
    }
    Ok(buf)
}

/// Reads a whole file (at most [`MAX_INPUT_BYTES`]); the error reads like Go's
/// (`open <path>: no such file or directory`), which scripts grep for.
pub fn read_file(path: &Path) -> Result<Vec<u8>> {
    let file = std::fs::File::open(path)
        .map_err(|e| anyhow::anyhow!("open {}: {}", path.display(), os_error_text(&e)))?;
    read_capped(file, &path.display().to_string())
}

/// An I/O error as Go prints it: lowercase, without Rust's `(os error N)`.
pub fn os_error_text(e: &std::io::Error) -> String {
    let text = e.to_string();
    let text = text.split(" (os error").next().unwrap_or(&text);
    let mut chars = text.chars();
    chars
        .next()
        .map(|c| c.to_lowercase().chain(chars).collect())
        .unwrap_or_default()
}

/// Reads all of stdin (at most [`MAX_INPUT_BYTES`]).
pub fn read_stdin() -> Result<Vec<u8>> {
    read_capped(std::io::stdin().lock(), "standard input")
}

/// Replaces `path` with `contents` atomically. `private` makes the file 0600.
pub fn write_atomic(path: &Path, contents: &[u8], private: bool) -> Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let failed = |e: &std::io::Error| {
        anyhow::anyhow!("cannot write {}: {}", path.display(), os_error_text(e))
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".kubeseal-")
        .tempfile_in(dir)
        .map_err(|e| {
            anyhow::anyhow!(
                "cannot write {}: cannot create a file in {}: {}",
                path.display(),
                dir.display(),
                os_error_text(&e)
            )
        })?;
    if !private {
        // tempfile creates 0600; ordinary outputs get the usual 0644.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            tmp.as_file()
                .set_permissions(std::fs::Permissions::from_mode(0o644))
                .map_err(|e| failed(&e))?;
        }
    }
    tmp.write_all(contents)
        .and_then(|()| tmp.as_file().sync_all())
        .map_err(|e| failed(&e))?;
    // On failure the temporary file is removed when the error drops it.
    tmp.persist(path).map_err(|e| failed(&e.error))?;
    Ok(())
}

/// Where the result goes: stdout, or a file written atomically at the end.
pub enum Output<'a> {
    /// Standard output.
    Stdout,
    /// A file (`-w`).
    File(&'a Path),
}

impl Output<'_> {
    /// Writes the whole result.
    pub fn write(&self, contents: &[u8]) -> Result<()> {
        match self {
            Output::Stdout => {
                let mut out = std::io::stdout().lock();
                out.write_all(contents)
                    .and_then(|()| out.flush())
                    .map_err(|e| {
                        anyhow::anyhow!("cannot write standard output: {}", os_error_text(&e))
                    })
            }
            Output::File(path) => write_atomic(path, contents, false),
        }
    }
}
