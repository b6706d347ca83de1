//! `kubeseal keys backup|restore`: the controller's key Secrets as one age-encrypted
//! file, and back as key Secrets ready for `kubectl apply`.
//!
//! Input today is the Secrets as YAML/JSON (`kubectl get secret -n kube-system -l
//! sealedsecrets.bitnami.com/sealed-secrets-key -o yaml`); the core functions in
//! `sealed_secrets_sops::backup` take Secret values, so reading them from the cluster
//! plugs in there.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use sealed_secrets::documents;
use sealed_secrets_sops::age::{self, Identities};
use sealed_secrets_sops::backup;
use serde_json::Value;
use zeroize::Zeroizing;

use crate::cli::ClusterFlags;
use crate::cluster::Controller;
use crate::io;

/// `kubeseal keys`.
#[derive(Debug, Args)]
pub struct KeysArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: KeysCommand,
}

/// Key backup subcommands.
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Encrypt the controller's key Secrets to age recipients as one file.
    Backup(BackupArgs),
    /// Decrypt a backup and print the key Secrets as YAML for `kubectl apply -f -`.
    Restore(RestoreArgs),
}

/// `kubeseal keys backup`.
#[derive(Debug, Args)]
pub struct BackupArgs {
    /// The key Secrets (one Secret, several documents or a List, YAML or JSON); `-` or none: stdin.
    #[arg(long, value_name = "FILE", conflicts_with = "from_cluster")]
    pub from_file: Option<PathBuf>,
    /// Read the key Secrets from the controller's namespace (`--controller-namespace`)
    /// in the cluster instead.
    #[arg(long)]
    pub from_cluster: bool,
    /// The controller's `--key-prefix`: the name of its legacy unlabelled key Secret.
    #[arg(long, default_value = "sealed-secrets-key")]
    pub key_prefix: String,
    /// Cluster access, with --from-cluster.
    #[command(flatten)]
    pub cluster: ClusterFlags,
    /// age recipient (age1… or ssh-ed25519 …); repeatable.
    #[arg(short = 'r', long = "recipient", value_name = "RECIPIENT")]
    pub recipients: Vec<String>,
    /// File of recipients, one per line (`#` comments allowed); repeatable.
    #[arg(short = 'R', long, value_name = "FILE")]
    pub recipients_file: Vec<PathBuf>,
    /// ASCII-armored output (default: binary age format).
    #[arg(short = 'a', long)]
    pub armor: bool,
    /// Where to write the backup (atomically, mode 0600); default stdout.
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// `kubeseal keys restore`.
#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// The backup file; `-` or none: stdin.
    pub file: Option<PathBuf>,
    /// age identity file; repeatable. Default: SOPS_AGE_KEY_FILE, SOPS_AGE_KEY, the sops keys file.
    #[arg(short = 'i', long = "identity", value_name = "FILE")]
    pub identities: Vec<PathBuf>,
    /// Where to write the Secrets (atomically, mode 0600); default stdout.
    #[arg(short = 'o', long, value_name = "FILE", conflicts_with = "apply")]
    pub output: Option<PathBuf>,
    /// Create the key Secrets in the controller's namespace (`--controller-namespace`)
    /// instead of printing them; existing ones are left as they are.
    #[arg(long)]
    pub apply: bool,
    /// Cluster access, with --apply.
    #[command(flatten)]
    pub cluster: ClusterFlags,
}

/// Runs `kubeseal keys …`.
pub fn run(args: &KeysArgs) -> Result<()> {
    match &args.command {
        KeysCommand::Backup(a) => backup_cmd(a),
        KeysCommand::Restore(a) => restore_cmd(a),
    }
}

fn read(path: Option<&Path>) -> Result<Zeroizing<Vec<u8>>> {
    Ok(Zeroizing::new(match path {
        Some(p) if p != Path::new("-") => io::read_file(p)?,
        _ => io::read_stdin()?,
    }))
}

/// Recipients from a recipients file: one per line, `#` comments and blank lines skipped.
fn recipients_from_file(path: &Path) -> Result<Vec<String>> {
    let text = String::from_utf8(io::read_file(path)?)
        .with_context(|| format!("{} is not UTF-8", path.display()))?;
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect())
}

fn write_private(output: Option<&Path>, bytes: &[u8], binary: bool) -> Result<()> {
    match output {
        Some(p) => io::write_atomic(p, bytes, true),
        None => {
            let mut out = std::io::stdout().lock();
            if binary && out.is_terminal() {
                bail!(
                    "refusing to write a binary age file to a terminal: use --armor or --output FILE"
                );
            }
            out.write_all(bytes)
                .and_then(|()| out.flush())
                .context("cannot write standard output")
        }
    }
}

fn backup_cmd(a: &BackupArgs) -> Result<()> {
    let mut recipients = a.recipients.clone();
    for f in &a.recipients_file {
        recipients.extend(recipients_from_file(f)?);
    }
    if recipients.is_empty() {
        bail!("no recipients: give --recipient age1… (repeatable) or --recipients-file FILE");
    }
    let docs = if a.from_cluster {
        let controller = Controller::connect(&a.cluster)?;
        let docs = controller.key_secrets(&a.key_prefix)?;
        if docs.is_empty() {
            bail!(
                "no key Secrets in namespace {:?}: is the controller there? (--controller-namespace)",
                a.cluster.controller_namespace
            );
        }
        docs
    } else {
        let input = read(a.from_file.as_deref())?;
        documents::parse(&input).context("cannot read the key Secrets")?
    };
    let file = backup::seal_backup(&docs, &recipients, a.armor)?;
    write_private(a.output.as_deref(), &file, !a.armor)?;
    let count = backup::clean_key_secrets(&docs)?.len();
    eprintln!(
        "backed up {count} key Secret(s) to {} recipient(s)",
        recipients.len()
    );
    Ok(())
}

/// Identities from `--identity` files, else the sops environment.
pub fn identities(files: &[PathBuf]) -> Result<Identities> {
    if files.is_empty() {
        return Ok(Identities::from_env()?);
    }
    let mut ids = Identities::new();
    for f in files {
        ids.add_file(f, "")?;
    }
    Ok(ids)
}

/// The key Secrets in an age backup.
pub fn open(bytes: &[u8], ids: &Identities) -> Result<Vec<Value>> {
    Ok(backup::open_backup(bytes, ids)?)
}

fn restore_cmd(a: &RestoreArgs) -> Result<()> {
    let input = read(a.file.as_deref())?;
    if !backup::is_age_file(&input) {
        bail!("the input is not an age file (expected a backup written by `kubeseal keys backup`)");
    }
    let ids = identities(&a.identities)?;
    let secrets = open(&input, &ids)?;
    if a.apply {
        let controller = Controller::connect(&a.cluster)?;
        let (created, existing) = controller.create_key_secrets(&secrets)?;
        for name in &existing {
            eprintln!("key Secret {name} exists already: left as it is");
        }
        eprintln!(
            "restored {} key Secret(s) into namespace {:?}; the controller picks them up without a restart",
            created.len(),
            a.cluster.controller_namespace
        );
        return Ok(());
    }
    let mut out = Zeroizing::new(String::new());
    for s in &secrets {
        out.push_str(&documents::to_yaml(s)?);
    }
    write_private(a.output.as_deref(), out.as_bytes(), false)?;
    eprintln!("restored {} key Secret(s)", secrets.len());
    Ok(())
}

/// `--recovery-private-key` given an age backup: its key Secrets as JSON bytes, which
/// the ordinary key-file reader understands.
pub fn recovery_keys_from_backup(
    bytes: &[u8],
    identity_files: &[PathBuf],
) -> Result<Zeroizing<Vec<u8>>> {
    let ids = identities(identity_files)?;
    if ids.is_empty() {
        bail!(
            "this is an age-encrypted key backup: give --age-identity FILE, or set {} or {}",
            age::env::SOPS_AGE_KEY_FILE,
            age::env::SOPS_AGE_KEY
        );
    }
    let secrets = open(bytes, &ids)?;
    let list = serde_json::json!({"apiVersion": "v1", "kind": "List", "items": secrets});
    Ok(Zeroizing::new(
        serde_json::to_vec(&list).context("cannot serialise the key Secrets")?,
    ))
}
