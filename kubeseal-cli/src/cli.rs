//! The command line: Go kubeseal's flags with their spellings, defaults and
//! `SEALED_SECRETS_*` environment fallbacks, plus our own subcommands.

use clap::{ArgAction, Args, Parser, Subcommand};
use sealed_secrets::core::Scope;

/// `--scope`, checked while parsing so a bad value is a flag error (exit 2, as Go's).
fn parse_scope(value: &str) -> Result<Scope, String> {
    value.parse().map_err(|e| format!("{e}"))
}

/// Go-style boolean flag: `--flag`, `--flag=true`, `--flag=false`.
macro_rules! go_bool {
    () => {
        clap::value_parser!(bool)
    };
}

/// kubeseal: seal Kubernetes Secrets into SealedSecrets (Bitnami-compatible).
#[derive(Debug, Parser)]
#[command(
    name = "kubeseal",
    disable_version_flag = true,
    args_conflicts_with_subcommands = true,
    // Go's flag parser lets the last of a repeated flag win (`--scope a --scope b`);
    // flags that collect (`--cert`, `--from-file`) still collect.
    args_override_self = true
)]
pub struct Cli {
    /// Our additions; Go kubeseal has no subcommands.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Go kubeseal's flags.
    #[command(flatten)]
    pub flags: Flags,
}

impl Flags {
    /// The (first) `--cert`.
    pub fn first_cert(&self) -> Option<&str> {
        self.cert.first().map(String::as_str)
    }
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write a new controller-shaped key pair (bring-your-own keys, offline demos).
    Keygen(KeygenArgs),
    /// Re-seal every SealedSecret in files and directories with the newest key, in place.
    Reseal(Box<ResealArgs>),
    /// SOPS-compatible file encryption with age (for Flux): encrypt, decrypt, edit, updatekeys, rotate.
    Sops(crate::sops::SopsArgs),
    /// Back up the controller's key Secrets as one age-encrypted file, and restore them.
    Keys(crate::keys::KeysArgs),
}

/// How to reach the cluster and the controller: kubectl's connection flags and Go
/// kubeseal's `--controller-*`.
#[derive(Debug, Clone, Default, Args)]
pub struct ClusterFlags {
    /// Namespace of sealed-secrets controller.
    #[arg(
        long,
        env = "SEALED_SECRETS_CONTROLLER_NAMESPACE",
        default_value = "kube-system"
    )]
    pub controller_namespace: String,
    /// Name of sealed-secrets controller.
    #[arg(
        long,
        env = "SEALED_SECRETS_CONTROLLER_NAME",
        default_value = "sealed-secrets-controller"
    )]
    pub controller_name: String,
    /// Path to the kubeconfig file (default: KUBECONFIG, then ~/.kube/config, then in-cluster).
    #[arg(long, env = "SEALED_SECRETS_KUBECONFIG")]
    pub kubeconfig: Option<std::path::PathBuf>,
    /// The kubeconfig context to use.
    #[arg(long, env = "SEALED_SECRETS_CONTEXT")]
    pub context: Option<String>,
    /// The kubeconfig cluster to use.
    #[arg(long, env = "SEALED_SECRETS_CLUSTER")]
    pub cluster: Option<String>,
    /// The kubeconfig user to use.
    #[arg(long, env = "SEALED_SECRETS_USER")]
    pub user: Option<String>,
    /// The address and port of the Kubernetes API server.
    #[arg(long, env = "SEALED_SECRETS_SERVER")]
    pub server: Option<String>,
    /// Bearer token for authentication to the API server.
    #[arg(long, env = "SEALED_SECRETS_TOKEN", hide_env_values = true, value_parser = Token::parse)]
    pub token: Option<Token>,
    /// Path to a cert file for the certificate authority of the API server.
    #[arg(
        long,
        env = "SEALED_SECRETS_CERTIFICATE_AUTHORITY",
        value_name = "FILE"
    )]
    pub certificate_authority: Option<std::path::PathBuf>,
    /// Do not check the API server's certificate (insecure).
    #[arg(long, env = "SEALED_SECRETS_INSECURE_SKIP_TLS_VERIFY", num_args = 0..=1, default_missing_value = "true", default_value = "false", value_parser = go_bool!(), action = ArgAction::Set)]
    pub insecure_skip_tls_verify: bool,
}

/// A bearer token; `Debug` never shows it.
#[derive(Clone)]
pub struct Token(pub zeroize::Zeroizing<String>);

impl Token {
    fn parse(text: &str) -> Result<Token, String> {
        Ok(Token(zeroize::Zeroizing::new(text.to_owned())))
    }
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

/// `kubeseal reseal`.
#[derive(Debug, Args)]
pub struct ResealArgs {
    /// Files and directories (searched recursively for .yaml, .yml and .json files).
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<std::path::PathBuf>,
    /// Change nothing; exit 0 when every SealedSecret is sealed with the newest key,
    /// 2 when some need re-sealing, 1 on any error (including undecryptable ones).
    #[arg(long)]
    pub check: bool,
    /// Re-seal even documents whose fingerprint annotation says they are current.
    #[arg(long)]
    pub force: bool,
    /// The newest certificate (file or URL); offline mode needs it. Default: the controller's.
    #[arg(long, env = "SEALED_SECRETS_CERT", value_name = "FILE")]
    pub cert: Option<String>,
    /// Private keys for offline re-sealing (PEM, or key Secrets as YAML/JSON);
    /// repeatable and comma-separated. Without them the controller re-encrypts (/v1/rotate).
    #[arg(
        long,
        env = "SEALED_SECRETS_RECOVERY_PRIVATE_KEY",
        value_delimiter = ',',
        value_name = "FILE"
    )]
    pub recovery_private_key: Vec<std::path::PathBuf>,
    /// Worker threads for offline re-sealing (default: all cores).
    #[arg(long, value_name = "N")]
    pub jobs: Option<std::num::NonZeroUsize>,
    /// Cluster access, for online mode.
    #[command(flatten)]
    pub cluster: ClusterFlags,
}

/// `kubeseal keygen`.
#[derive(Debug, Args)]
pub struct KeygenArgs {
    /// Where to write the private key (PEM `RSA PRIVATE KEY`, mode 0600).
    #[arg(long, value_name = "FILE")]
    pub key_out: std::path::PathBuf,
    /// Where to write the self-signed certificate (PEM).
    #[arg(long, value_name = "FILE")]
    pub cert_out: std::path::PathBuf,
    /// RSA key size in bits: 2048, 3072, 4096 or 8192.
    #[arg(long, default_value_t = 4096)]
    pub key_size: usize,
    /// Certificate validity, Go duration syntax.
    #[arg(long, default_value = "87600h")]
    pub key_ttl: String,
    /// Certificate subject and issuer CN (empty by default, as upstream).
    #[arg(long, default_value = "")]
    pub my_cn: String,
}

/// Go kubeseal's flags.
#[derive(Debug, Args)]
pub struct Flags {
    /// Certificate / public key file or URL to use for encryption. Overrides --controller-*.
    /// Repeat it to seal for several clusters at once: one output per certificate.
    #[arg(long, env = "SEALED_SECRETS_CERT", value_name = "FILE", action = ArgAction::Append)]
    pub cert: Vec<String>,
    /// Output format for sealed secret: json or yaml.
    #[arg(
        short = 'o',
        long,
        env = "SEALED_SECRETS_FORMAT",
        default_value = "json"
    )]
    pub format: String,
    /// Secret file to read (default: stdin).
    #[arg(
        short = 'f',
        long,
        env = "SEALED_SECRETS_SECRET_FILE",
        value_name = "FILE"
    )]
    pub secret_file: Option<std::path::PathBuf>,
    /// Sealed secret file to write (default: stdout); .yaml/.yml selects YAML.
    #[arg(
        short = 'w',
        long,
        env = "SEALED_SECRETS_SEALED_SECRET_FILE",
        value_name = "FILE"
    )]
    pub sealed_secret_file: Option<std::path::PathBuf>,
    /// Write certificate to stdout. Useful for later use with --cert.
    #[arg(long, env = "SEALED_SECRETS_FETCH_CERT", num_args = 0..=1, default_missing_value = "true", default_value = "false", value_parser = go_bool!(), action = ArgAction::Set)]
    pub fetch_cert: bool,
    /// Allow empty data in the secret object.
    #[arg(long, env = "SEALED_SECRETS_ALLOW_EMPTY_DATA", num_args = 0..=1, default_missing_value = "true", default_value = "false", value_parser = go_bool!(), action = ArgAction::Set)]
    pub allow_empty_data: bool,
    /// Validate a sealed secret: offline with --recovery-private-key, else through the controller.
    #[arg(long, env = "SEALED_SECRETS_VALIDATE", num_args = 0..=1, default_missing_value = "true", default_value = "false", value_parser = go_bool!(), action = ArgAction::Set)]
    pub validate: bool,
    /// Merge items from secret into an existing sealed secret file, updating the file in-place.
    #[arg(long, env = "SEALED_SECRETS_MERGE_INTO", value_name = "FILE")]
    pub merge_into: Option<std::path::PathBuf>,
    /// Encrypt a single value with the cert; prints base64 with no newline.
    #[arg(long, env = "SEALED_SECRETS_RAW", num_args = 0..=1, default_missing_value = "true", default_value = "false", value_parser = go_bool!(), action = ArgAction::Set)]
    pub raw: bool,
    /// Name of the sealed secret (required with --raw and default (strict) scope).
    #[arg(long, env = "SEALED_SECRETS_NAME", default_value = "")]
    pub name: String,
    /// (only with --raw) Secret items can be sourced from files; [key=]path.
    #[arg(long, env = "SEALED_SECRETS_FROM_FILE", value_name = "[KEY=]PATH")]
    pub from_file: Vec<String>,
    /// Set the scope of the sealed secret: strict, namespace-wide, cluster-wide.
    #[arg(long, env = "SEALED_SECRETS_SCOPE", value_parser = parse_scope)]
    pub scope: Option<Scope>,
    /// Re-encrypt the given sealed secret to use the latest cluster key.
    #[arg(long, alias = "rotate", env = "SEALED_SECRETS_RE_ENCRYPT", num_args = 0..=1, default_missing_value = "true", default_value = "false", value_parser = go_bool!(), action = ArgAction::Set)]
    pub re_encrypt: bool,
    /// Unseal a sealed secret offline with --recovery-private-key.
    #[arg(long, env = "SEALED_SECRETS_RECOVERY_UNSEAL", num_args = 0..=1, default_missing_value = "true", default_value = "false", value_parser = go_bool!(), action = ArgAction::Set)]
    pub recovery_unseal: bool,
    /// Private key files (PEM, or key Secrets as YAML/JSON); repeatable and comma-separated.
    #[arg(
        long,
        env = "SEALED_SECRETS_RECOVERY_PRIVATE_KEY",
        value_delimiter = ',',
        value_name = "FILE"
    )]
    pub recovery_private_key: Vec<std::path::PathBuf>,
    /// age identity file for a --recovery-private-key that is an age-encrypted key backup
    /// (default: SOPS_AGE_KEY_FILE, SOPS_AGE_KEY).
    #[arg(
        long,
        env = "SEALED_SECRETS_AGE_IDENTITY",
        value_delimiter = ',',
        value_name = "FILE"
    )]
    pub age_identity: Vec<std::path::PathBuf>,
    /// Cluster access (kubectl's connection flags) and where the controller is.
    #[command(flatten)]
    pub cluster: ClusterFlags,
    /// If present, the namespace scope for this request.
    #[arg(short = 'n', long, env = "SEALED_SECRETS_NAMESPACE")]
    pub namespace: Option<String>,
    /// Print version information and exit.
    #[arg(long, num_args = 0..=1, default_missing_value = "true", default_value = "false", value_parser = go_bool!(), action = ArgAction::Set)]
    pub version: bool,
    /// Set by `main`: whether the format was chosen explicitly (flag or env).
    #[arg(skip)]
    pub format_explicit: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn every_long_flag_has_its_sealed_secrets_env_var() {
        let cmd = Cli::command();
        for arg in cmd.get_arguments() {
            let Some(long) = arg.get_long() else { continue };
            if matches!(long, "version" | "help") {
                continue;
            }
            let want = format!("SEALED_SECRETS_{}", long.to_uppercase().replace('-', "_"));
            assert_eq!(
                arg.get_env().and_then(|e| e.to_str()),
                Some(want.as_str()),
                "--{long}"
            );
        }
    }

    #[test]
    fn token_is_never_in_debug_output() {
        let cli = Cli::try_parse_from(["kubeseal", "--token", "s3cr3t-t0ken"]).unwrap();
        assert_eq!(
            cli.flags.cluster.token.as_ref().map(|t| t.0.as_str()),
            Some("s3cr3t-t0ken")
        );
        assert!(!format!("{cli:?}").contains("s3cr3t"));
    }

    #[test]
    fn go_flag_spellings_parse() {
        let cli = Cli::try_parse_from([
            "kubeseal",
            "--cert=c.pem",
            "--format",
            "yaml",
            "--validate=false",
            "--raw",
            "-n",
            "ns",
        ])
        .unwrap();
        assert_eq!(cli.flags.first_cert(), Some("c.pem"));
        assert_eq!(cli.flags.format, "yaml");
        assert!(!cli.flags.validate);
        assert!(cli.flags.raw);
        assert_eq!(cli.flags.namespace.as_deref(), Some("ns"));
        let cli = Cli::try_parse_from([
            "kubeseal",
            "--recovery-private-key",
            "a.pem,b.pem",
            "--recovery-private-key=c.pem",
            "--rotate",
        ])
        .unwrap();
        assert_eq!(cli.flags.recovery_private_key.len(), 3);
        assert!(cli.flags.re_encrypt);
    }
}
