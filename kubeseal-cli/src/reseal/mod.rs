//! `kubeseal reseal [--check] PATH...`: find every SealedSecret in a tree of
//! manifests and re-seal it with the newest key, rewriting only those documents.
//!
//! Online (no `--recovery-private-key`) the controller re-encrypts through
//! `/v1/rotate`; offline the values are opened with the private keys and sealed to
//! `--cert`. A document whose fingerprint annotation already names exactly the
//! newest key is left alone (unless `--force`); one without the annotation (sealed
//! by Go kubeseal) is opened by trial offline, so an already-current one is not
//! rewritten either. Only the top-level annotation counts here: the template's copy
//! alone is what a Go controller's `/v1/rotate` leaves, naming the key from before
//! it re-sealed, so it only orders the keys tried. A re-sealed document gets the
//! annotation in both places.
//!
//! Exit status: 0 all done (or, with `--check`, everything current); 1 any error
//! (unreadable file, undecryptable SealedSecret, write failure); 2 only with
//! `--check`: some SealedSecret is not sealed with the newest key, or (without
//! private keys) carries no fingerprint annotation to tell.

mod text;

use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use sealed_secrets::annotations;
use sealed_secrets::{SealedSecret, key_secret};
use sealed_secrets_core::{Certificate, Fingerprint, KeyRing};
use serde_json::Value;

use sealed_secrets::rotate::{self, NewCiphertexts};
use sealed_secrets::unseal::UnsealCost;
use text::{Edit, FileFormat, OldAnnotation};

use crate::cli::ResealArgs;
use crate::cluster::Controller;
use crate::io;

/// Exit status of `--check` when something needs re-sealing (and nothing failed).
pub const EXIT_NEEDS_RESEAL: u8 = 2;

/// File name extensions searched in directories.
pub const EXTENSIONS: [&str; 3] = ["yaml", "yml", "json"];

/// One SealedSecret found in a file.
struct Target {
    /// Index into its piece's value's `items` (a `List`), or `None` at top level.
    item: Option<usize>,
    ss: SealedSecret,
}

/// One document text of a file.
struct Piece {
    text: String,
    value: Option<Value>,
    targets: Vec<Target>,
}

/// A file read and cut into pieces.
struct Plan {
    path: PathBuf,
    format: FileFormat,
    pieces: Vec<Piece>,
    /// Documents that mention SealedSecret but cannot be read.
    errors: Vec<String>,
}

/// What happens to one SealedSecret.
enum Outcome {
    Current,
    /// Not sealed (only) with the newest key; the fingerprints it is sealed with.
    Stale(Vec<String>),
    /// No annotation and no private keys to tell.
    Unknown,
    Resealed(NewCiphertexts),
    Failed(String),
}

enum Mode {
    Offline(KeyRing),
    /// Online: through the controller (connected lazily, only when something needs it).
    Online,
}

/// Runs `kubeseal reseal`; returns the exit status.
pub fn run(args: &ResealArgs) -> Result<u8> {
    let started = Instant::now();
    let mut keys = KeyRing::new();
    for path in &args.recovery_private_key {
        let bytes = zeroize::Zeroizing::new(io::read_file(path)?);
        for key in key_secret::private_keys(&bytes)
            .map_err(|e| anyhow::anyhow!("cannot read private key {}: {e}", path.display()))?
        {
            keys.insert(key);
        }
    }
    let mode = if keys.is_empty() {
        Mode::Online
    } else {
        Mode::Offline(keys)
    };
    if matches!(mode, Mode::Offline(_)) && args.cert.is_none() {
        bail!(
            "offline re-sealing needs --cert: the certificate of the newest key (the one to seal with), besides --recovery-private-key"
        );
    }
    let mut controller: Option<Controller> = None;
    let cert_pem = match args.cert.as_deref() {
        Some(_) => crate::commands::read_cert_from(args.cert.as_deref(), &args.cluster)?,
        None => {
            let c = Controller::connect(&args.cluster)?;
            let pem = c.cert_pem()?;
            controller = Some(c);
            pem
        }
    };
    let cert = Certificate::from_pem(&cert_pem)?;
    let newest = cert.public_key().fingerprint().clone();

    let files = collect_files(&args.paths)?;
    let threads = args
        .jobs
        .map(std::num::NonZeroUsize::get)
        .or_else(|| std::thread::available_parallelism().ok().map(Into::into))
        .unwrap_or(1);
    let progress = Progress::new(std::io::stderr().is_terminal());

    let plans: Vec<Plan> = parallel_map(&files, threads, load);
    let jobs: Vec<(usize, usize, usize)> = plans
        .iter()
        .enumerate()
        .flat_map(|(f, plan)| {
            plan.pieces
                .iter()
                .enumerate()
                .flat_map(move |(p, piece)| (0..piece.targets.len()).map(move |t| (f, p, t)))
        })
        .collect();
    let target = |&(f, p, t): &(usize, usize, usize)| &plans[f].pieces[p].targets[t].ss;

    let outcomes: Vec<Outcome> = progress.run(jobs.len(), |done| match &mode {
        Mode::Offline(keys) => parallel_map(&jobs, threads, |job| {
            let outcome = offline(target(job), keys, cert.public_key(), &newest, args);
            done.fetch_add(1, Ordering::Relaxed);
            outcome
        }),
        Mode::Online => {
            let mut outcomes: Vec<Outcome> = jobs
                .iter()
                .map(|job| by_annotation(target(job), &newest, args.force))
                .collect();
            let pending: Vec<usize> = (0..jobs.len())
                .filter(|&i| !matches!(outcomes[i], Outcome::Current))
                .collect();
            done.fetch_add(jobs.len() - pending.len(), Ordering::Relaxed);
            if args.check || pending.is_empty() {
                done.fetch_add(pending.len(), Ordering::Relaxed);
                return outcomes;
            }
            let connected = match controller.take() {
                Some(c) => Ok(c),
                None => Controller::connect(&args.cluster),
            };
            let c = match connected {
                Ok(c) => c,
                Err(e) => {
                    for &i in &pending {
                        outcomes[i] = Outcome::Failed(e.to_string());
                    }
                    return outcomes;
                }
            };
            let bodies: Vec<Vec<u8>> = pending
                .iter()
                .map(|&i| serde_json::to_vec(target(&jobs[i])).unwrap_or_default())
                .collect();
            for (&i, reply) in pending.iter().zip(c.rotate_all(&bodies)) {
                outcomes[i] = match reply {
                    Ok(body) => from_rotate(target(&jobs[i]), &body, &newest),
                    Err(e) => Outcome::Failed(e.to_string()),
                };
                done.fetch_add(1, Ordering::Relaxed);
            }
            outcomes
        }
    });

    // Group outcomes by file and piece.
    let mut per_file: Vec<Vec<Vec<Option<Outcome>>>> = plans
        .iter()
        .map(|plan| {
            plan.pieces
                .iter()
                .map(|piece| piece.targets.iter().map(|_| None).collect())
                .collect()
        })
        .collect();
    for (&(f, p, t), outcome) in jobs.iter().zip(outcomes) {
        per_file[f][p][t] = Some(outcome);
    }

    let results: Vec<FileReport> = parallel_map(
        &plans.iter().zip(per_file).collect::<Vec<_>>(),
        threads,
        |(plan, outcomes)| finish(plan, outcomes, args.check),
    );

    let mut summary = Summary::default();
    for report in &results {
        for line in &report.findings {
            println!("{line}");
        }
        for line in &report.errors {
            eprintln!("error: {line}");
        }
        summary.add(report);
    }
    summary.files = files.len();
    eprintln!("{}", summary.line(args.check, started.elapsed()));
    Ok(if summary.failed > 0 {
        1
    } else if args.check && summary.stale > 0 {
        EXIT_NEEDS_RESEAL
    } else {
        0
    })
}

fn name_of(ss: &SealedSecret) -> String {
    format!(
        "{}/{}",
        ss.metadata.namespace.as_deref().unwrap_or(""),
        ss.metadata.name.as_deref().unwrap_or("")
    )
}

/// The decision the fingerprint annotation alone allows (the top-level record; a
/// template copy alone may be stale, see the module docs).
fn by_annotation(ss: &SealedSecret, newest: &Fingerprint, force: bool) -> Outcome {
    let fps = annotations::recorded_fingerprints(ss);
    if fps.is_empty() {
        Outcome::Unknown
    } else if fps.as_slice() == std::slice::from_ref(newest) && !force {
        Outcome::Current
    } else {
        Outcome::Stale(fps.iter().map(|f| f.as_str().to_owned()).collect())
    }
}

fn offline(
    ss: &SealedSecret,
    keys: &KeyRing,
    key: &sealed_secrets_core::PublicKey,
    newest: &Fingerprint,
    args: &ResealArgs,
) -> Outcome {
    let by_note = by_annotation(ss, newest, args.force);
    // Trust the annotation when it names exactly the newest key: re-sealing skips it,
    // and --check can only confirm it if it holds that private key.
    if matches!(by_note, Outcome::Current) && (!args.check || keys.get(newest).is_none()) {
        return Outcome::Current;
    }
    let opened = match rotate::open(ss, keys, &mut UnsealCost::default()) {
        Ok(o) => o,
        Err(e) => return Outcome::Failed(e.to_string()),
    };
    let current = opened.opened_with.as_slice() == std::slice::from_ref(newest)
        || (opened.opened_with.is_empty() && matches!(by_note, Outcome::Current));
    if args.check {
        return if current {
            Outcome::Current
        } else {
            Outcome::Stale(
                opened
                    .opened_with
                    .iter()
                    .map(|f| f.as_str().to_owned())
                    .collect(),
            )
        };
    }
    if current && !args.force {
        return Outcome::Current;
    }
    let mut rng = rand_core::UnwrapErr(rand_core::OsRng);
    match rotate::seal_opened(&mut rng, ss, &opened, key) {
        Ok(new) => Outcome::Resealed(new),
        Err(e) => Outcome::Failed(e.to_string()),
    }
}

/// Takes the new ciphertexts (and nothing else) from a `/v1/rotate` reply.
fn from_rotate(ss: &SealedSecret, body: &[u8], newest: &Fingerprint) -> Outcome {
    let reply: SealedSecret = match serde_json::from_slice(body) {
        Ok(r) => r,
        Err(e) => return Outcome::Failed(format!("bad reply from the controller: {e}")),
    };
    let same_keys = reply
        .spec
        .encrypted_data
        .keys()
        .eq(ss.spec.encrypted_data.keys());
    if !same_keys || reply.spec.data.is_some() != ss.spec.data.is_some() {
        return Outcome::Failed(
            "the controller's reply does not hold the same items; left unchanged".into(),
        );
    }
    // The top-level record only: a Go controller's reply keeps the template's copy as
    // it was sent, naming the old key.
    let fingerprint = annotations::join_fingerprints(&annotations::recorded_fingerprints(&reply));
    Outcome::Resealed(NewCiphertexts {
        encrypted_data: reply.spec.encrypted_data,
        data: reply.spec.data,
        // A Go controller writes no annotation; it seals with its newest key.
        fingerprint: if fingerprint.is_empty() {
            newest.as_str().to_owned()
        } else {
            fingerprint
        },
    })
}

/// Every file under `paths`: named files as given, directories searched
/// recursively for the [`EXTENSIONS`] (hidden directories such as `.git` skipped).
fn collect_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
        let mut entries = std::fs::read_dir(dir)
            .map_err(|e| anyhow::anyhow!("open {}: {}", dir.display(), io::os_error_text(&e)))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| anyhow::anyhow!("read {}: {}", dir.display(), io::os_error_text(&e)))?;
        entries.sort_by_key(std::fs::DirEntry::file_name);
        for entry in entries {
            let path = entry.path();
            let hidden = entry.file_name().to_string_lossy().starts_with('.');
            let kind = entry.file_type()?;
            if kind.is_dir() && !hidden {
                walk(&path, out)?;
            } else if kind.is_file()
                && path
                    .extension()
                    .and_then(|e| e.to_str())
                    .is_some_and(|e| EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
            {
                out.push(path);
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    for path in paths {
        let meta = std::fs::metadata(path)
            .map_err(|e| anyhow::anyhow!("open {}: {}", path.display(), io::os_error_text(&e)))?;
        if meta.is_dir() {
            walk(path, &mut out)?;
        } else if path.is_symlink() {
            // Rewrite the file the link points to, not the link.
            out.push(std::fs::canonicalize(path).map_err(|e| {
                anyhow::anyhow!("open {}: {}", path.display(), io::os_error_text(&e))
            })?);
        } else {
            out.push(path.clone());
        }
    }
    // The same file named twice (or inside a named directory) is done once.
    let mut seen = std::collections::HashSet::new();
    out.retain(|p| seen.insert(std::fs::canonicalize(p).unwrap_or_else(|_| p.clone())));
    Ok(out)
}

fn sealed_secret_in(value: &Value) -> bool {
    value.get("kind").and_then(Value::as_str) == Some("SealedSecret")
}

/// Reads a file and finds its SealedSecrets.
fn load(path: &PathBuf) -> Plan {
    let mut plan = Plan {
        path: path.clone(),
        format: FileFormat::Yaml,
        pieces: Vec::new(),
        errors: Vec::new(),
    };
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            plan.errors.push(format!(
                "open {}: {}",
                path.display(),
                io::os_error_text(&e)
            ));
            return plan;
        }
    };
    let mentions = |b: &[u8]| b.windows(12).any(|w| w == b"SealedSecret");
    let Ok(text) = std::str::from_utf8(&bytes) else {
        if mentions(&bytes) {
            plan.errors.push(format!(
                "{}: not UTF-8 text; left unchanged",
                path.display()
            ));
        }
        return plan;
    };
    let (format, pieces) = match text::detect(text) {
        FileFormat::Json => match text::split_json(text) {
            Ok(p) => (FileFormat::Json, p),
            Err(_) => (FileFormat::Yaml, text::split_yaml(text)),
        },
        FileFormat::Yaml => (FileFormat::Yaml, text::split_yaml(text)),
    };
    plan.format = format;
    for (i, piece) in pieces.into_iter().enumerate() {
        let mut entry = Piece {
            text: piece.to_owned(),
            value: None,
            targets: Vec::new(),
        };
        match text::parse_piece(piece, format) {
            Err(e) => {
                if mentions(piece.as_bytes()) {
                    plan.errors.push(format!(
                        "{}: document {}: cannot parse ({e}); left unchanged",
                        path.display(),
                        i + 1
                    ));
                }
            }
            Ok(None) => {}
            Ok(Some(value)) => {
                let candidates: Vec<(Option<usize>, &Value)> = if sealed_secret_in(&value) {
                    vec![(None, &value)]
                } else if let Some(items) = value.get("items").and_then(Value::as_array) {
                    items
                        .iter()
                        .enumerate()
                        .filter(|(_, v)| sealed_secret_in(v))
                        .map(|(i, v)| (Some(i), v))
                        .collect()
                } else {
                    Vec::new()
                };
                for (item, v) in candidates {
                    match serde_json::from_value::<SealedSecret>(v.clone()) {
                        Ok(ss) => entry.targets.push(Target { item, ss }),
                        Err(e) => plan.errors.push(format!(
                            "{}: document {}: invalid SealedSecret ({e}); left unchanged",
                            path.display(),
                            i + 1
                        )),
                    }
                }
                entry.value = Some(value);
            }
        }
        plan.pieces.push(entry);
    }
    plan
}

/// What happened in one file.
#[derive(Default)]
struct FileReport {
    findings: Vec<String>,
    errors: Vec<String>,
    current: usize,
    stale: usize,
    resealed: usize,
    failed: usize,
    sealed_secrets: usize,
    rewritten: bool,
}

/// Applies new ciphertexts to the SealedSecret object inside `value`.
fn apply(value: &mut Value, item: Option<usize>, new: &NewCiphertexts) {
    let Some(ss) = (match item {
        None => Some(value),
        Some(i) => value.get_mut("items").and_then(|v| v.get_mut(i)),
    }) else {
        return;
    };
    if !ss.get("spec").is_some_and(Value::is_object) {
        ss["spec"] = Value::Object(Default::default());
    }
    ss["spec"]["encryptedData"] = serde_json::to_value(&new.encrypted_data).unwrap_or_default();
    if let Some(data) = &new.data {
        ss["spec"]["data"] = Value::String(data.clone());
    }
    // In both places, as sealing writes it (annotations::set_fingerprints).
    for path in [&["metadata"][..], &["spec", "template", "metadata"]] {
        let mut at = &mut *ss;
        for key in path {
            at = object_at(at, key);
        }
        object_at(at, "annotations")[annotations::KEY_FINGERPRINT] =
            Value::String(new.fingerprint.clone());
    }
}

/// `value[key]`, made an empty object first unless it is one.
fn object_at<'v>(value: &'v mut Value, key: &str) -> &'v mut Value {
    if !value.get(key).is_some_and(Value::is_object) {
        value[key] = Value::Object(Default::default());
    }
    &mut value[key]
}

/// The fingerprint annotation's raw value in one annotation map.
fn fingerprint_value(
    annotations: &Option<std::collections::BTreeMap<String, String>>,
) -> Option<&str> {
    annotations
        .as_ref()
        .and_then(|a| a.get(annotations::KEY_FINGERPRINT))
        .map(String::as_str)
}

fn finish(plan: &Plan, outcomes: &[Vec<Option<Outcome>>], check: bool) -> FileReport {
    let mut report = FileReport {
        errors: plan.errors.clone(),
        failed: plan.errors.len(),
        ..FileReport::default()
    };
    let shown = plan.path.display();
    let mut new_pieces: Vec<String> = Vec::with_capacity(plan.pieces.len());
    let mut changed = false;
    for (piece, outcomes) in plan.pieces.iter().zip(outcomes) {
        let mut want = piece.value.clone();
        let mut replacements: Vec<(&str, &str)> = Vec::new();
        let mut olds: Vec<OldAnnotation<'_>> = Vec::new();
        let mut annotation_new: Option<&str> = None;
        for (target, outcome) in piece.targets.iter().zip(outcomes) {
            report.sealed_secrets += 1;
            let name = name_of(&target.ss);
            match outcome {
                None | Some(Outcome::Current) => report.current += 1,
                Some(Outcome::Stale(fps)) => {
                    report.stale += 1;
                    report.findings.push(format!(
                        "needs re-sealing: {shown}: {name} (sealed with {})",
                        fps.join(", ")
                    ));
                }
                Some(Outcome::Unknown) => {
                    report.stale += 1;
                    report.findings.push(format!(
                        "needs re-sealing: {shown}: {name} (no key fingerprint annotation; pass --recovery-private-key to check by trial)"
                    ));
                }
                Some(Outcome::Failed(e)) => {
                    report.failed += 1;
                    report.errors.push(format!("{shown}: {name}: {e}"));
                }
                Some(Outcome::Resealed(new)) => {
                    report.resealed += 1;
                    for (k, old) in &target.ss.spec.encrypted_data {
                        if let Some(n) = new.encrypted_data.get(k) {
                            replacements.push((old, n));
                        }
                    }
                    if let (Some(old), Some(n)) = (&target.ss.spec.data, &new.data) {
                        replacements.push((old, n));
                    }
                    olds.push(OldAnnotation {
                        top: fingerprint_value(&target.ss.metadata.annotations),
                        template: fingerprint_value(&target.ss.spec.template.metadata.annotations),
                    });
                    annotation_new = Some(&new.fingerprint);
                    if let Some(w) = want.as_mut() {
                        apply(w, target.item, new);
                    }
                }
            }
        }
        match (annotation_new, want) {
            (Some(new), Some(want)) if !check => {
                let edit = Edit {
                    replacements,
                    annotation_key: annotations::KEY_FINGERPRINT,
                    annotation_old: olds,
                    annotation_new: new,
                };
                match text::edit_piece(&piece.text, plan.format, &edit, &want) {
                    Ok(text) => {
                        changed |= text != piece.text;
                        new_pieces.push(text);
                    }
                    Err(e) => {
                        report.failed += 1;
                        report.errors.push(format!("{shown}: {e}; left unchanged"));
                        new_pieces.push(piece.text.clone());
                    }
                }
            }
            _ => new_pieces.push(piece.text.clone()),
        }
    }
    if changed {
        let mode = std::fs::metadata(&plan.path).map(|m| m.permissions()).ok();
        let private = is_private(&plan.path);
        let written = io::write_atomic(&plan.path, new_pieces.concat().as_bytes(), private)
            .and_then(|()| match mode {
                // Keep the file's own mode (write_atomic knows only 0600 and 0644).
                Some(m) => std::fs::set_permissions(&plan.path, m)
                    .map_err(|e| anyhow::anyhow!("cannot set permissions of {shown}: {e}")),
                None => Ok(()),
            });
        if let Err(e) = written {
            report.errors.push(format!("{e:#}"));
            report.failed += 1;
            report.resealed = 0;
        } else {
            report.rewritten = true;
        }
    }
    report
}

/// Whether a file is readable by its owner only (kept so after rewriting).
fn is_private(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o077 == 0)
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        false
    }
}

#[derive(Default)]
struct Summary {
    files: usize,
    rewritten: usize,
    sealed_secrets: usize,
    current: usize,
    stale: usize,
    resealed: usize,
    failed: usize,
}

impl Summary {
    fn add(&mut self, r: &FileReport) {
        self.rewritten += usize::from(r.rewritten);
        self.sealed_secrets += r.sealed_secrets;
        self.current += r.current;
        self.stale += r.stale;
        self.resealed += r.resealed;
        self.failed += r.failed;
    }

    fn line(&self, check: bool, took: Duration) -> String {
        let secs = took.as_secs_f64();
        if check {
            format!(
                "reseal --check: {} SealedSecrets in {} files: {} current, {} need re-sealing, {} failed ({secs:.2}s)",
                self.sealed_secrets, self.files, self.current, self.stale, self.failed
            )
        } else {
            format!(
                "reseal: {} SealedSecrets in {} files: {} re-sealed, {} already current, {} failed; {} files rewritten ({secs:.2}s)",
                self.sealed_secrets,
                self.files,
                self.resealed,
                self.current,
                self.failed,
                self.rewritten
            )
        }
    }
}

/// Maps `f` over `items` on `threads` threads (work taken one item at a time, so
/// slow items do not hold up a whole share); results in input order.
fn parallel_map<T: Sync, R: Send>(
    items: &[T],
    threads: usize,
    f: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    let threads = threads.clamp(1, items.len().max(1));
    if threads == 1 {
        return items.iter().map(&f).collect();
    }
    let next = AtomicUsize::new(0);
    let mut results: Vec<(usize, R)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(item) = items.get(i) else { break };
                        mine.push((i, f(item)));
                    }
                    mine
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    });
    results.sort_unstable_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}

/// A progress bar on stderr when it is a terminal.
struct Progress {
    enabled: bool,
}

impl Progress {
    fn new(enabled: bool) -> Self {
        Progress { enabled }
    }

    /// Runs `work`, drawing `done / total` meanwhile.
    fn run<R>(&self, total: usize, work: impl FnOnce(&AtomicUsize) -> R) -> R {
        let done = AtomicUsize::new(0);
        if !self.enabled || total == 0 {
            return work(&done);
        }
        let stop = AtomicBool::new(false);
        std::thread::scope(|scope| {
            scope.spawn(|| {
                while !stop.load(Ordering::Relaxed) {
                    draw(done.load(Ordering::Relaxed), total);
                    std::thread::sleep(Duration::from_millis(100));
                }
                draw(done.load(Ordering::Relaxed), total);
                eprintln!();
            });
            let result = work(&done);
            stop.store(true, Ordering::Relaxed);
            result
        })
    }
}

fn draw(done: usize, total: usize) {
    const WIDTH: usize = 30;
    let filled = done.min(total) * WIDTH / total.max(1);
    eprint!(
        "\r[{}{}] {done}/{total} SealedSecrets",
        "#".repeat(filled),
        ".".repeat(WIDTH - filled)
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parallel_map_keeps_order() {
        let items: Vec<usize> = (0..100).collect();
        assert_eq!(
            parallel_map(&items, 4, |i| i * 2),
            (0..100).map(|i| i * 2).collect::<Vec<_>>()
        );
        assert!(parallel_map(&Vec::<u8>::new(), 4, |i| *i).is_empty());
    }

    #[test]
    fn extensions_are_the_documented_ones() {
        assert_eq!(EXTENSIONS, ["yaml", "yml", "json"]);
        assert_eq!(EXIT_NEEDS_RESEAL, 2);
    }
}
