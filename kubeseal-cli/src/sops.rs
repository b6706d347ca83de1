//! `kubeseal sops …`: SOPS-compatible file encryption with age (encrypt, decrypt,
//! edit, updatekeys, rotate), with sops's flags, `.sops.yaml` lookup and exit codes.

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Subcommand};
use sealed_secrets_sops::age::{self, AgeError, Identities};
use sealed_secrets_sops::config::{self, Config, ConfigError};
use sealed_secrets_sops::format::{self, Format, Style};
use sealed_secrets_sops::rules::{Rule, keys};
use sealed_secrets_sops::{DecryptError, EncryptError, EncryptOptions, RekeyError};
use zeroize::Zeroizing;

use crate::io::{os_error_text, write_atomic};

/// sops's exit codes (`cmd/sops/codes`), which scripts test for.
pub mod code {
    /// Anything else.
    pub const GENERIC: u8 = 1;
    /// The input could not be read.
    pub const CANNOT_READ_INPUT: u8 = 2;
    /// The output could not be written.
    pub const CANNOT_WRITE_OUTPUT: u8 = 3;
    /// `.sops.yaml` could not be read.
    pub const ERROR_READING_CONFIG: u8 = 5;
    /// Flags that cannot go together.
    pub const CONFLICTING_PARAMETERS: u8 = 8;
    /// A value could not be decrypted (tampered value, wrong data key).
    pub const ERROR_DECRYPTING_TREE: u8 = 25;
    /// MAC mismatch, or the MAC could not be decrypted.
    pub const MAC_MISMATCH: u8 = 51;
    /// `--config` names a missing file.
    pub const CONFIG_FILE_NOT_FOUND: u8 = 61;
    /// The input is empty.
    pub const FILE_EMPTY: u8 = 92;
    /// The file does not exist.
    pub const NO_FILE_SPECIFIED: u8 = 100;
    /// No recipient to encrypt to.
    pub const NO_ENCRYPTION_KEY_FOUND: u8 = 111;
    /// No identity could unwrap the data key.
    pub const COULD_NOT_RETRIEVE_KEY: u8 = 128;
    /// `edit`: the file was not changed.
    pub const FILE_HAS_NOT_BEEN_MODIFIED: u8 = 200;
    /// `edit`: no editor found.
    pub const NO_EDITOR_FOUND: u8 = 201;
    /// `encrypt`: the file already has sops metadata.
    pub const FILE_ALREADY_ENCRYPTED: u8 = 203;
}

/// Environment variables (compat strings).
pub mod env {
    /// Editor for `edit`, before `EDITOR`.
    pub const SOPS_EDITOR: &str = "SOPS_EDITOR";
    /// Editor for `edit`.
    pub const EDITOR: &str = "EDITOR";
}

/// `kubeseal sops`.
#[derive(Debug, Args)]
pub struct SopsArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: SopsCommand,
}

/// The sops subcommands.
#[derive(Debug, Subcommand)]
pub enum SopsCommand {
    /// Encrypt a file (YAML, JSON, dotenv or binary) to age recipients.
    Encrypt(EncryptArgs),
    /// Decrypt a file, verifying its MAC.
    Decrypt(DecryptArgs),
    /// Decrypt into $SOPS_EDITOR/$EDITOR, re-encrypt on save (no plaintext left on disk).
    Edit(EditArgs),
    /// Set the recipients of files to those of their .sops.yaml creation rule (same data key).
    Updatekeys(UpdatekeysArgs),
    /// Generate a new data key and re-encrypt every value; optionally add/remove recipients.
    Rotate(RotateArgs),
}

/// Options shared by all subcommands.
#[derive(Debug, Args)]
pub struct CommonArgs {
    /// Input format: yaml, json, dotenv or binary (default: from the file name).
    #[arg(long, value_name = "TYPE")]
    pub input_type: Option<String>,
    /// Output format (default: the input format).
    #[arg(long, value_name = "TYPE")]
    pub output_type: Option<String>,
    /// The .sops.yaml to use (default: SOPS_CONFIG, else .sops.yaml in the working directory or a parent).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Indentation of YAML/JSON output (default: from .sops.yaml `stores`, else 4 for YAML and a tab for JSON).
    #[arg(long, value_name = "N")]
    pub indent: Option<usize>,
}

/// Where the result goes.
#[derive(Debug, Args)]
pub struct OutputArgs {
    /// Write the result back to the input file (atomically).
    #[arg(short = 'i', long)]
    pub in_place: bool,
    /// Write the result to this file (atomically) instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// `kubeseal sops encrypt`.
#[derive(Debug, Args)]
pub struct EncryptArgs {
    /// The file to encrypt (`-` or none: standard input, which needs --filename-override or --input-type).
    pub file: Option<PathBuf>,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub common: CommonArgs,
    /// age recipients (age1… or ssh-ed25519 …), comma-separated or repeated; default SOPS_AGE_RECIPIENTS, else .sops.yaml.
    #[arg(short = 'a', long = "age", value_name = "RECIPIENTS")]
    pub age: Vec<String>,
    /// Values under keys ending with this suffix stay clear (sops's default: _unencrypted).
    #[arg(long, value_name = "SUFFIX")]
    pub unencrypted_suffix: Option<String>,
    /// Only values under keys ending with this suffix are encrypted.
    #[arg(long, value_name = "SUFFIX")]
    pub encrypted_suffix: Option<String>,
    /// Values under keys matching this regex stay clear.
    #[arg(long, value_name = "REGEX")]
    pub unencrypted_regex: Option<String>,
    /// Only values under keys matching this regex are encrypted (Flux: ^(data|stringData)$).
    #[arg(long, value_name = "REGEX")]
    pub encrypted_regex: Option<String>,
    /// The MAC covers only encrypted values (clear values can be edited by hand).
    #[arg(long)]
    pub mac_only_encrypted: bool,
    /// The file name to use for format detection and .sops.yaml rules.
    #[arg(long, value_name = "NAME")]
    pub filename_override: Option<PathBuf>,
}

/// `kubeseal sops decrypt`.
#[derive(Debug, Args)]
pub struct DecryptArgs {
    /// The file to decrypt (`-` or none: standard input).
    pub file: Option<PathBuf>,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub common: CommonArgs,
    /// Decrypt even if the MAC does not match (the file was changed outside sops).
    #[arg(long)]
    pub ignore_mac: bool,
    /// The file name to use for format detection.
    #[arg(long, value_name = "NAME")]
    pub filename_override: Option<PathBuf>,
}

/// `kubeseal sops edit`.
#[derive(Debug, Args)]
pub struct EditArgs {
    /// The encrypted file.
    pub file: PathBuf,
    #[command(flatten)]
    pub common: CommonArgs,
    /// Open even if the MAC does not match.
    #[arg(long)]
    pub ignore_mac: bool,
}

/// `kubeseal sops updatekeys`.
#[derive(Debug, Args)]
pub struct UpdatekeysArgs {
    /// Encrypted files to update in place.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    #[command(flatten)]
    pub common: CommonArgs,
    /// Do not ask for confirmation.
    #[arg(short = 'y', long)]
    pub yes: bool,
}

/// `kubeseal sops rotate`.
#[derive(Debug, Args)]
pub struct RotateArgs {
    /// The encrypted file.
    pub file: PathBuf,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub common: CommonArgs,
    /// age recipients to add (comma-separated or repeated).
    #[arg(long, value_name = "RECIPIENTS")]
    pub add_age: Vec<String>,
    /// age recipients to remove (comma-separated or repeated).
    #[arg(long, value_name = "RECIPIENTS")]
    pub rm_age: Vec<String>,
}

/// A failure with its sops exit code.
struct Failure {
    code: u8,
    message: String,
}

type Result<T> = std::result::Result<T, Failure>;

fn fail(code: u8, message: impl Into<String>) -> Failure {
    Failure {
        code,
        message: message.into(),
    }
}

impl From<DecryptError> for Failure {
    fn from(e: DecryptError) -> Self {
        let code = match &e {
            DecryptError::NoKey(_) => code::COULD_NOT_RETRIEVE_KEY,
            DecryptError::MacDecrypt | DecryptError::MacMismatch { .. } => code::MAC_MISMATCH,
            DecryptError::Tree(_) => code::ERROR_DECRYPTING_TREE,
            _ => code::GENERIC,
        };
        fail(code, e.to_string())
    }
}

impl From<EncryptError> for Failure {
    fn from(e: EncryptError) -> Self {
        let code = match &e {
            EncryptError::AlreadyEncrypted => code::FILE_ALREADY_ENCRYPTED,
            EncryptError::Empty => code::FILE_EMPTY,
            EncryptError::NoRecipients => code::NO_ENCRYPTION_KEY_FOUND,
            _ => code::GENERIC,
        };
        fail(code, e.to_string())
    }
}

impl From<RekeyError> for Failure {
    fn from(e: RekeyError) -> Self {
        match e {
            RekeyError::Decrypt(d) => d.into(),
            RekeyError::Encrypt(e) => e.into(),
            RekeyError::NoRecipients => fail(code::NO_ENCRYPTION_KEY_FOUND, e.to_string()),
            other => fail(code::GENERIC, other.to_string()),
        }
    }
}

impl From<AgeError> for Failure {
    fn from(e: AgeError) -> Self {
        fail(code::GENERIC, e.to_string())
    }
}

impl From<ConfigError> for Failure {
    fn from(e: ConfigError) -> Self {
        let code = match &e {
            ConfigError::NoMatchingRule { .. } => code::GENERIC,
            _ => code::ERROR_READING_CONFIG,
        };
        fail(code, e.to_string())
    }
}

/// Runs a `kubeseal sops` subcommand; prints the error and returns sops's exit code.
pub fn run(args: &SopsArgs) -> ExitCode {
    let result = match &args.command {
        SopsCommand::Encrypt(a) => encrypt(a),
        SopsCommand::Decrypt(a) => decrypt(a),
        SopsCommand::Edit(a) => edit(a),
        SopsCommand::Updatekeys(a) => updatekeys(a),
        SopsCommand::Rotate(a) => rotate(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            eprintln!("error: {}", f.message);
            ExitCode::from(f.code)
        }
    }
}

fn is_stdin(file: Option<&Path>) -> bool {
    file.is_none_or(|f| f == Path::new("-"))
}

fn read_input(file: Option<&Path>) -> Result<Zeroizing<Vec<u8>>> {
    let mut buf = Zeroizing::new(Vec::new());
    match file {
        Some(p) if p != Path::new("-") => {
            if !p.exists() {
                return Err(fail(
                    code::NO_FILE_SPECIFIED,
                    format!("file {} does not exist", p.display()),
                ));
            }
            *buf = std::fs::read(p).map_err(|e| {
                fail(
                    code::CANNOT_READ_INPUT,
                    format!("cannot read {}: {}", p.display(), os_error_text(&e)),
                )
            })?;
        }
        _ => {
            std::io::stdin().read_to_end(&mut buf).map_err(|e| {
                fail(
                    code::CANNOT_READ_INPUT,
                    format!("cannot read standard input: {e}"),
                )
            })?;
        }
    }
    Ok(buf)
}

fn parse_type(t: &str) -> Result<Format> {
    t.parse()
        .map_err(|e: format::ParseFormatError| fail(code::GENERIC, e.to_string()))
}

/// The input format: `--input-type`, else from the (override) file name.
fn input_format(common: &CommonArgs, name: Option<&Path>) -> Result<Format> {
    if let Some(t) = &common.input_type {
        return parse_type(t);
    }
    match name {
        Some(n) if n != Path::new("-") => Ok(Format::from_path(n)),
        _ => Err(fail(
            code::CONFLICTING_PARAMETERS,
            "reading standard input needs --input-type or --filename-override",
        )),
    }
}

fn output_format(common: &CommonArgs, input: Format) -> Result<Format> {
    common.output_type.as_deref().map_or(Ok(input), parse_type)
}

fn load_config(common: &CommonArgs) -> Result<Option<Config>> {
    let explicit = common
        .config
        .clone()
        .or_else(|| std::env::var_os(config::SOPS_CONFIG_ENV).map(PathBuf::from));
    let path = match explicit {
        Some(p) => {
            if !p.is_file() {
                return Err(fail(
                    code::CONFIG_FILE_NOT_FOUND,
                    format!("config file {} not found", p.display()),
                ));
            }
            p
        }
        None => {
            let cwd = std::env::current_dir()
                .map_err(|e| fail(code::GENERIC, format!("no working directory: {e}")))?;
            match config::find(&cwd) {
                Some(p) => p,
                None => return Ok(None),
            }
        }
    };
    Ok(Some(Config::load(&path)?))
}

fn style(common: &CommonArgs, config: Option<&Config>) -> Style {
    let mut s = config.map(|c| c.style).unwrap_or_default();
    if let Some(i) = common.indent {
        s.yaml_indent = i.clamp(2, 9);
        s.json_indent = Some(i);
    }
    s
}

fn check_output(out: &OutputArgs, file: Option<&Path>) -> Result<()> {
    if out.in_place && out.output.is_some() {
        return Err(fail(
            code::CONFLICTING_PARAMETERS,
            "--in-place and --output cannot be used together",
        ));
    }
    if out.in_place && is_stdin(file) {
        return Err(fail(
            code::CONFLICTING_PARAMETERS,
            "--in-place needs a file, not standard input",
        ));
    }
    Ok(())
}

/// Writes the result: in place, to `--output` (both atomically), or to stdout.
fn write_result(out: &OutputArgs, file: Option<&Path>, bytes: &[u8], private: bool) -> Result<()> {
    let target = if out.in_place {
        file.map(Path::to_path_buf)
    } else {
        out.output.clone()
    };
    match target {
        Some(p) => write_keeping_mode(&p, bytes, private)
            .map_err(|e| fail(code::CANNOT_WRITE_OUTPUT, format!("{e:#}"))),
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout
                .write_all(bytes)
                .and_then(|()| stdout.flush())
                .map_err(|e| {
                    fail(
                        code::CANNOT_WRITE_OUTPUT,
                        format!("cannot write standard output: {e}"),
                    )
                })
        }
    }
}

/// Atomic write; an existing file keeps its permissions (a 0600 file stays 0600).
fn write_keeping_mode(path: &Path, bytes: &[u8], private: bool) -> anyhow::Result<()> {
    let old = std::fs::metadata(path).ok().map(|m| m.permissions());
    write_atomic(path, bytes, private)?;
    if let Some(perm) = old {
        std::fs::set_permissions(path, perm)?;
    }
    Ok(())
}

fn rule_from_flags(a: &EncryptArgs) -> Result<Option<Rule>> {
    let pairs: Vec<(&'static str, String)> = [
        (keys::UNENCRYPTED_SUFFIX, &a.unencrypted_suffix),
        (keys::ENCRYPTED_SUFFIX, &a.encrypted_suffix),
        (keys::UNENCRYPTED_REGEX, &a.unencrypted_regex),
        (keys::ENCRYPTED_REGEX, &a.encrypted_regex),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.clone().map(|v| (k, v)))
    .collect();
    if pairs.len() > 1 {
        return Err(fail(
            code::CONFLICTING_PARAMETERS,
            "only one of --unencrypted-suffix, --encrypted-suffix, --unencrypted-regex, --encrypted-regex may be given",
        ));
    }
    if pairs.is_empty() {
        return Ok(None);
    }
    Rule::from_pairs(&pairs)
        .map(Some)
        .map_err(|e| fail(code::GENERIC, e.to_string()))
}

fn encrypt(a: &EncryptArgs) -> Result<()> {
    check_output(&a.output, a.file.as_deref())?;
    let name = a.filename_override.as_deref().or(a.file.as_deref());
    let in_format = input_format(&a.common, name)?;
    let out_format = output_format(&a.common, in_format)?;
    let plaintext = read_input(a.file.as_deref())?;
    let config = load_config(&a.common)?;
    let rule_entry = match (&config, name) {
        (Some(c), Some(n)) => c.rule_for(n)?.cloned(),
        (Some(c), None) => c.rule_for(Path::new("-"))?.cloned(),
        _ => None,
    };
    let mut recipients: Vec<String> = a
        .age
        .iter()
        .flat_map(|r| age::split_recipients(r))
        .collect();
    if recipients.is_empty()
        && let Ok(env) = std::env::var(age::env::SOPS_AGE_RECIPIENTS)
    {
        recipients = age::split_recipients(&env);
    }
    if recipients.is_empty()
        && let Some(r) = &rule_entry
    {
        if r.age.is_empty() && r.has_other_keys {
            return Err(fail(
                code::NO_ENCRYPTION_KEY_FOUND,
                "the matching .sops.yaml creation rule has only non-age keys (pgp, kms, …), which this tool does not support",
            ));
        }
        recipients = r.age.clone();
    }
    let rule = match rule_from_flags(a)? {
        Some(r) => Some(r),
        None => rule_entry.as_ref().and_then(|r| r.rule.clone()),
    };
    let opts = EncryptOptions {
        recipients,
        rule,
        mac_only_encrypted: a.mac_only_encrypted
            || rule_entry.as_ref().is_some_and(|r| r.mac_only_encrypted),
    };
    let style = style(&a.common, config.as_ref());
    let mut encrypted = sealed_secrets_sops::encrypt(in_format, &plaintext, &opts, style)?;
    if out_format != in_format {
        // Re-emit the same encrypted tree in the other format.
        let (tree, meta) = format::parse_encrypted(in_format, &encrypted)
            .map_err(|e| fail(code::GENERIC, e.to_string()))?;
        encrypted = format::emit_encrypted(out_format, &tree, &meta, style)
            .map_err(|e| fail(code::GENERIC, e.to_string()))?;
    }
    write_result(&a.output, a.file.as_deref(), &encrypted, false)
}

fn decrypt(a: &DecryptArgs) -> Result<()> {
    check_output(&a.output, a.file.as_deref())?;
    let name = a.filename_override.as_deref().or(a.file.as_deref());
    let in_format = input_format(&a.common, name)?;
    let out_format = output_format(&a.common, in_format)?;
    let file = read_input(a.file.as_deref())?;
    let ids = Identities::from_env()?;
    let d = sealed_secrets_sops::decrypt(in_format, &file, &ids, a.ignore_mac)?;
    let config = load_config(&a.common).ok().flatten();
    let plain = Zeroizing::new(
        d.plaintext(out_format, style(&a.common, config.as_ref()))
            .map_err(|e| fail(code::GENERIC, e.to_string()))?,
    );
    write_result(&a.output, a.file.as_deref(), &plain, true)
}

fn rotate(a: &RotateArgs) -> Result<()> {
    check_output(&a.output, Some(&a.file))?;
    let fmt = input_format(&a.common, Some(&a.file))?;
    let file = read_input(Some(&a.file))?;
    let ids = Identities::from_env()?;
    let split =
        |v: &[String]| -> Vec<String> { v.iter().flat_map(|r| age::split_recipients(r)).collect() };
    let config = load_config(&a.common).ok().flatten();
    let out = sealed_secrets_sops::rotate(
        fmt,
        &file,
        &ids,
        &split(&a.add_age),
        &split(&a.rm_age),
        style(&a.common, config.as_ref()),
    )?;
    write_result(&a.output, Some(&a.file), &out, false)
}

fn updatekeys(a: &UpdatekeysArgs) -> Result<()> {
    let config = load_config(&a.common)?.ok_or_else(|| {
        fail(
            code::ERROR_READING_CONFIG,
            "updatekeys needs a .sops.yaml with creation_rules (none found from the working directory up)",
        )
    })?;
    let ids = Identities::from_env()?;
    for path in &a.files {
        let fmt = input_format(&a.common, Some(path))?;
        let rule = config.rule_for(path)?.ok_or_else(|| {
            fail(
                code::ERROR_READING_CONFIG,
                format!("{} has no creation_rules", config.path.display()),
            )
        })?;
        if rule.has_other_keys {
            return Err(fail(
                code::GENERIC,
                "the matching creation rule also lists non-age keys (pgp, kms, …), which this tool cannot wrap",
            ));
        }
        let file = read_input(Some(path))?;
        let (_, meta) =
            format::parse_encrypted(fmt, &file).map_err(|e| fail(code::GENERIC, e.to_string()))?;
        let Some(updated) = sealed_secrets_sops::update_keys(
            fmt,
            &file,
            &ids,
            &rule.age,
            style(&a.common, Some(&config)),
        )?
        else {
            eprintln!("{}: already up to date", path.display());
            continue;
        };
        eprintln!("{}: the following changes will be made:", path.display());
        for r in &meta.age {
            if !rule.age.contains(&r.recipient) {
                eprintln!("--- {}", r.recipient);
            }
        }
        for r in &rule.age {
            if !meta.age.iter().any(|e| e.recipient == *r) {
                eprintln!("+++ {r}");
            }
        }
        if !a.yes && !confirm()? {
            eprintln!("{}: not changed", path.display());
            continue;
        }
        write_keeping_mode(path, &updated, false)
            .map_err(|e| fail(code::CANNOT_WRITE_OUTPUT, format!("{e:#}")))?;
        eprintln!("{}: updated", path.display());
    }
    Ok(())
}

fn confirm() -> Result<bool> {
    if !std::io::stdin().is_terminal() {
        return Err(fail(
            code::GENERIC,
            "standard input is not a terminal: pass --yes to apply the changes",
        ));
    }
    eprint!("Is this okay? (y/n): ");
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .map_err(|e| fail(code::GENERIC, e.to_string()))?;
    Ok(matches!(line.trim(), "y" | "Y" | "yes"))
}

/// The editor command: `$SOPS_EDITOR`, `$EDITOR`, else vim, nano or vi from PATH.
fn editor() -> Result<Vec<String>> {
    for var in [env::SOPS_EDITOR, env::EDITOR] {
        if let Ok(v) = std::env::var(var)
            && !v.trim().is_empty()
        {
            return Ok(v.split_whitespace().map(str::to_owned).collect());
        }
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    for name in ["vim", "nano", "vi"] {
        if std::env::split_paths(&path).any(|d| d.join(name).is_file()) {
            return Ok(vec![name.to_owned()]);
        }
    }
    Err(fail(
        code::NO_EDITOR_FOUND,
        "no editor found: set SOPS_EDITOR or EDITOR",
    ))
}

/// A private temp dir (0700) with the plaintext file (0600); removed with its
/// contents (editor swap files included) when dropped, the file overwritten first.
struct Scratch {
    _dir: tempfile::TempDir,
    file: PathBuf,
}

impl Scratch {
    fn new(name: &Path, plaintext: &[u8]) -> std::io::Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("kubeseal-sops-")
            .tempdir()?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700))?;
        }
        let file = dir
            .path()
            .join(name.file_name().unwrap_or(std::ffi::OsStr::new("file")));
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts.open(&file)?;
        f.write_all(plaintext)?;
        f.sync_all()?;
        Ok(Self { _dir: dir, file })
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if let Ok(meta) = std::fs::metadata(&self.file)
            && let Ok(mut f) = std::fs::OpenOptions::new().write(true).open(&self.file)
        {
            let len = usize::try_from(meta.len()).unwrap_or(0);
            // Best effort: the TempDir then removes the whole directory.
            let _ = f.write_all(&vec![0u8; len]).and_then(|()| f.sync_all());
        }
    }
}

fn edit(a: &EditArgs) -> Result<()> {
    let fmt = input_format(&a.common, Some(&a.file))?;
    let file = read_input(Some(&a.file))?;
    let ids = Identities::from_env()?;
    let mut d = sealed_secrets_sops::decrypt(fmt, &file, &ids, a.ignore_mac)?;
    let config = load_config(&a.common).ok().flatten();
    let style = style(&a.common, config.as_ref());
    let original = Zeroizing::new(
        d.plaintext(fmt, style)
            .map_err(|e| fail(code::GENERIC, e.to_string()))?,
    );
    let editor = editor()?;
    let scratch = Scratch::new(&a.file, &original).map_err(|e| {
        fail(
            code::GENERIC,
            format!("cannot create a private temporary file: {e}"),
        )
    })?;
    loop {
        let status = std::process::Command::new(&editor[0])
            .args(&editor[1..])
            .arg(&scratch.file)
            .status()
            .map_err(|e| {
                fail(
                    code::NO_EDITOR_FOUND,
                    format!("cannot run editor {}: {e}", editor[0]),
                )
            })?;
        if !status.success() {
            return Err(fail(
                code::GENERIC,
                format!(
                    "editor {} exited with {status}; the file was not changed",
                    editor[0]
                ),
            ));
        }
        let edited = Zeroizing::new(
            std::fs::read(&scratch.file)
                .map_err(|e| fail(code::GENERIC, format!("cannot read the edited file: {e}")))?,
        );
        if *edited == *original {
            return Err(fail(
                code::FILE_HAS_NOT_BEEN_MODIFIED,
                "file has not changed, exiting",
            ));
        }
        match sealed_secrets_sops::reencrypt(fmt, &mut d, &edited, style) {
            Ok(out) => {
                return write_keeping_mode(&a.file, &out, false)
                    .map_err(|e| fail(code::CANNOT_WRITE_OUTPUT, format!("{e:#}")));
            }
            Err(e) if std::io::stdin().is_terminal() => {
                eprintln!("error: {e}\nPress Enter to return to the editor, or Ctrl+C to exit.");
                let mut line = String::new();
                let _ = std::io::stdin().read_line(&mut line);
            }
            Err(e) => return Err(e.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_are_sops_codes() {
        assert_eq!(code::GENERIC, 1);
        assert_eq!(code::CANNOT_READ_INPUT, 2);
        assert_eq!(code::CANNOT_WRITE_OUTPUT, 3);
        assert_eq!(code::ERROR_READING_CONFIG, 5);
        assert_eq!(code::CONFLICTING_PARAMETERS, 8);
        assert_eq!(code::ERROR_DECRYPTING_TREE, 25);
        assert_eq!(code::MAC_MISMATCH, 51);
        assert_eq!(code::CONFIG_FILE_NOT_FOUND, 61);
        assert_eq!(code::FILE_EMPTY, 92);
        assert_eq!(code::NO_FILE_SPECIFIED, 100);
        assert_eq!(code::NO_ENCRYPTION_KEY_FOUND, 111);
        assert_eq!(code::COULD_NOT_RETRIEVE_KEY, 128);
        assert_eq!(code::FILE_HAS_NOT_BEEN_MODIFIED, 200);
        assert_eq!(code::NO_EDITOR_FOUND, 201);
        assert_eq!(code::FILE_ALREADY_ENCRYPTED, 203);
        assert_eq!(env::SOPS_EDITOR, "SOPS_EDITOR");
        assert_eq!(env::EDITOR, "EDITOR");
    }
}
