//! The bad-input catalogue of `kubeseal` (docs/bad-input.md): each hostile or broken
//! input gets exit 1, one `error: …` line naming the problem, nothing on stdout, no
//! output file written or changed, and never the secret value in the message.
#![allow(clippy::unwrap_used)] // test helpers: a failed unwrap is a failed test

mod common;

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use common::kubeseal;
use predicates::prelude::*;
use tempfile::TempDir;

/// The plaintext in every input: no message may ever show it.
const VALUE: &str = "hunter2-s3cr3t";

fn secret_yaml() -> String {
    format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: app\nstringData:\n  password: {VALUE}\n"
    )
}

fn testdata(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../crates/sealed-secrets-core/testdata")
        .join(name)
}

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/bad-input")
        .join(name)
}

/// `kubeseal --cert cert-a.pem`.
fn sealer() -> Command {
    let mut cmd = kubeseal();
    cmd.arg("--cert").arg(testdata("cert-a.pem"));
    cmd
}

/// Exit 1, nothing on stdout, stderr one message starting `error: {prefix}` that
/// does not show the secret value. Returns stderr.
fn fails(cmd: &mut Command, prefix: &str) -> String {
    let out = cmd
        .assert()
        .code(1)
        .stdout("")
        .stderr(predicate::str::starts_with(format!("error: {prefix}")));
    let stderr = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    assert!(!stderr.contains(VALUE), "secret value in stderr: {stderr}");
    stderr
}

/// Exit 2 (a flag error, as Go's flag parser), nothing on stdout, stderr one message
/// starting `error: {prefix}`.
fn flag_error(cmd: &mut Command, prefix: &str) {
    cmd.assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::starts_with(format!("error: {prefix}")));
}

/// Sealed with exit 0 despite a name the API server refuses, with a warning naming it.
fn seals_with_warning(cmd: &mut Command, warning: &str) {
    let out = cmd.assert().success();
    let stderr = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    assert!(
        stderr.starts_with(&format!("warning: {warning}")),
        "stderr: {stderr}"
    );
    assert!(!out.get_output().stdout.is_empty());
}

/// Seals the standard Secret with cert-a and returns the SealedSecret JSON.
fn sealed() -> String {
    let out = sealer().write_stdin(secret_yaml()).assert().success();
    String::from_utf8(out.get_output().stdout.clone()).unwrap()
}

/// `--recovery-unseal` with key-a.
fn unsealer() -> Command {
    let mut cmd = kubeseal();
    cmd.args(["--recovery-unseal", "--recovery-private-key"])
        .arg(testdata("key-a.pem"));
    cmd
}

/// The sealed `password` value of `ss`, changed by `f`.
fn with_password(ss: &str, f: impl FnOnce(&mut Vec<u8>)) -> String {
    let mut v: serde_json::Value = serde_json::from_str(ss).unwrap();
    let mut bytes = STANDARD
        .decode(v["spec"]["encryptedData"]["password"].as_str().unwrap())
        .unwrap();
    f(&mut bytes);
    v["spec"]["encryptedData"]["password"] = STANDARD.encode(&bytes).into();
    v.to_string()
}

/// Names in `dir`, sorted.
fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Whether this process can read a file whose mode forbids it (root can).
fn permissions_are_bypassed(path: &Path) -> bool {
    std::fs::read(path).is_ok()
}

// ---- input: empty, not text, not YAML, not a Secret ----

#[test]
fn empty_stdin() {
    fails(sealer().write_stdin(""), "no secrets found");
}

#[test]
fn only_separators_and_comments() {
    fails(
        sealer().write_stdin("# nothing here\n---\n---\n"),
        "no secrets found",
    );
}

#[test]
fn binary_input() {
    fails(
        sealer().write_stdin(vec![0x1f, 0x8b, 0x08, 0x00, 0xff, 0xfe, 0xfd]),
        "input is not valid UTF-8",
    );
}

#[test]
fn invalid_utf8_in_a_string_data_value() {
    let mut input = secret_yaml().into_bytes();
    input.extend_from_slice(b"  other: caf\xe9\n");
    fails(sealer().write_stdin(input), "input is not valid UTF-8");
}

#[test]
fn invalid_utf8_in_the_name() {
    let input = secret_yaml()
        .replace("name: db", "name: d\u{1}b")
        .into_bytes();
    let input: Vec<u8> = input
        .into_iter()
        .map(|b| if b == 1 { 0xc3 } else { b })
        .collect();
    fails(sealer().write_stdin(input), "input is not valid UTF-8");
}

#[test]
fn yaml_syntax_error() {
    fails(
        sealer().write_stdin(format!("kind: Secret\nstringData: {{password: {VALUE}\n")),
        "invalid YAML",
    );
}

#[test]
fn json_syntax_error() {
    fails(
        sealer().write_stdin(format!(
            "{{\"kind\": \"Secret\", \"stringData\": {{\"p\": \"{VALUE}\""
        )),
        "invalid JSON",
    );
}

#[test]
fn a_scalar_is_not_an_object() {
    fails(
        sealer().write_stdin("just some text\n"),
        "input is not a Kubernetes object",
    );
}

#[test]
fn a_top_level_sequence_is_not_an_object() {
    fails(
        sealer().write_stdin("- kind: Secret\n"),
        "input is not a Kubernetes object",
    );
}

#[test]
fn wrong_kind_configmap() {
    fails(
        sealer()
            .write_stdin("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  k: v\n"),
        "input is a ConfigMap, not a Secret",
    );
}

#[test]
fn wrong_kind_list() {
    let list = format!(
        "{{\"apiVersion\": \"v1\", \"kind\": \"List\", \"items\": [{}]}}",
        serde_json::to_string(
            &serde_yaml_ng::from_str::<serde_json::Value>(&secret_yaml()).unwrap()
        )
        .unwrap()
    );
    fails(
        sealer().write_stdin(list),
        "input is a List, not a Secret: give the Secrets as separate documents",
    );
}

#[test]
fn wrong_kind_sealed_secret() {
    fails(
        sealer().write_stdin(sealed()),
        "input is a SealedSecret, not a Secret: it is sealed already",
    );
}

#[test]
fn multi_document_with_one_bad_document_writes_nothing() {
    let input = format!("{}---\nkind: ConfigMap\n", secret_yaml());
    fails(
        sealer().write_stdin(input),
        "input is a ConfigMap, not a Secret",
    );
}

// ---- hostile YAML and sizes ----

#[test]
fn yaml_alias_bomb() {
    let mut bomb = String::from("kind: Secret\nmetadata:\n  name: db\na0: &a0 [lol]\n");
    for i in 1..=12 {
        let refs = vec![format!("*a{}", i - 1); 10].join(", ");
        bomb.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
    }
    fails(
        sealer().write_stdin(bomb),
        "invalid YAML: its aliases expand",
    );
}

#[test]
fn yaml_deep_nesting() {
    let deep = format!(
        "kind: Secret\nx: {}{}\n",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    fails(
        sealer().write_stdin(deep),
        "invalid YAML: nested more than 128 levels deep",
    );
}

#[test]
fn json_deep_nesting() {
    let deep = "[".repeat(100_000) + &"]".repeat(100_000);
    fails(
        sealer().write_stdin(deep),
        "invalid JSON: nested more than 128 levels deep",
    );
}

#[test]
fn input_over_16_mib_on_stdin() {
    let mut huge = secret_yaml().into_bytes();
    huge.extend_from_slice(b"  big: ");
    huge.resize(17 * 1024 * 1024, b'A');
    fails(
        sealer().write_stdin(huge),
        "standard input is larger than 16 MiB",
    );
}

#[test]
fn endless_input_file() {
    fails(
        sealer().args(["-f", "/dev/zero"]),
        "Could not read file specified with --secret-file: /dev/zero is larger than 16 MiB",
    );
}

/// Peak resident memory of `kubeseal args…` with `input` on stdin, in KiB, measured
/// by python3's `resource` (CI installs python3); `None` without python3.
fn peak_rss_kib(args: &[&str], input: &Path) -> Option<(i32, u64)> {
    let script = "import resource, subprocess, sys\n\
        with open(sys.argv[1], 'rb') as f:\n\
        \x20   r = subprocess.run(sys.argv[2:], stdin=f, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n\
        print(r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n";
    let bin = assert_cmd::cargo::cargo_bin("kubeseal");
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(input)
        .arg(bin)
        .args(args)
        .env_remove("KUBECONFIG")
        .output()
        .ok()?;
    let text = String::from_utf8(out.stdout).unwrap();
    let mut fields = text.split_whitespace();
    let code = fields.next()?.parse().unwrap();
    let kib = fields.next()?.parse().unwrap();
    Some((code, kib))
}

#[test]
fn big_value_under_the_cap_seals_in_bounded_memory() {
    let dir = TempDir::new().unwrap();
    let input = dir.path().join("big.yaml");
    let value = "A".repeat(15 * 1024 * 1024);
    std::fs::write(
        &input,
        format!(
            "kind: Secret\nmetadata:\n  name: big\n  namespace: app\nstringData:\n  v: {value}\n"
        ),
    )
    .unwrap();
    let cert = testdata("cert-a.pem");
    let Some((code, kib)) = peak_rss_kib(&["--cert", cert.to_str().unwrap()], &input) else {
        println!("skipped: python3 is not available to measure peak memory");
        return;
    };
    println!("peak RSS sealing a 15 MiB value: {} MiB", kib / 1024);
    assert_eq!(code, 0);
    // About 8 copies of the value at the peak (input, parsed, sealed, base64, output);
    // the bound is what the 16 MiB input cap buys.
    assert!(kib < 256 * 1024, "peak RSS {kib} KiB");
    let over = dir.path().join("over.yaml");
    std::fs::write(&over, "A".repeat(40 * 1024 * 1024)).unwrap();
    let (code, kib) = peak_rss_kib(&["--cert", cert.to_str().unwrap()], &over).unwrap();
    println!("peak RSS refusing a 40 MiB input: {} MiB", kib / 1024);
    assert_eq!(code, 1);
    assert!(kib < 64 * 1024, "read past the cap: peak RSS {kib} KiB");
}

// ---- Secret fields ----

#[test]
fn string_data_value_not_a_string() {
    fails(
        sealer().write_stdin("kind: Secret\nmetadata:\n  name: db\nstringData:\n  port: 5432\n"),
        "stringData must be a map of strings (key \"port\" is not a string)",
    );
}

#[test]
fn data_not_a_map() {
    fails(
        sealer().write_stdin("kind: Secret\nmetadata:\n  name: db\ndata: [a, b]\n"),
        "data must be a map of strings",
    );
}

#[test]
fn invalid_base64_in_data() {
    fails(
        sealer().write_stdin(format!(
            "kind: Secret\nmetadata:\n  name: db\ndata:\n  password: {VALUE}!\n"
        )),
        "invalid base64 in data[\"password\"]",
    );
}

#[test]
fn metadata_not_a_map() {
    fails(
        sealer().write_stdin(format!(
            "kind: Secret\nmetadata: db\nstringData:\n  p: {VALUE}\n"
        )),
        "invalid metadata: invalid type: string \"db\", expected ObjectMeta",
    );
}

#[test]
fn missing_name() {
    fails(
        sealer().write_stdin(format!("kind: Secret\nstringData:\n  p: {VALUE}\n")),
        "missing metadata.name in input Secret",
    );
}

#[test]
fn invalid_name_seals_with_a_warning() {
    seals_with_warning(
        sealer().write_stdin(secret_yaml().replace("name: db", "name: My_DB")),
        "invalid name \"My_DB\": a Secret name must be a lowercase RFC 1123 subdomain",
    );
    seals_with_warning(
        sealer().write_stdin(secret_yaml().replace("name: db", "name: a/b")),
        "invalid name \"a/b\"",
    );
}

#[test]
fn invalid_namespace_seals_with_a_warning() {
    seals_with_warning(
        sealer().write_stdin(secret_yaml().replace("namespace: app", "namespace: app.prod")),
        "invalid namespace \"app.prod\": a namespace must be a lowercase RFC 1123 label",
    );
}

#[test]
fn empty_data() {
    fails(
        sealer().write_stdin("kind: Secret\nmetadata:\n  name: db\n"),
        "secret.data is empty in input Secret",
    );
}

#[test]
fn namespace_flag_differs_from_the_secret() {
    fails(
        sealer().args(["-n", "other"]).write_stdin(secret_yaml()),
        "namespace mismatch: input secret is in namespace \"app\" but \"other\" was specified",
    );
}

// ---- certificates ----

#[test]
fn cert_file_missing() {
    fails(
        kubeseal()
            .args(["--cert", "/nonexistent/cert.pem"])
            .write_stdin(secret_yaml()),
        "open /nonexistent/cert.pem: no such file or directory",
    );
}

#[test]
fn cert_is_a_directory() {
    let dir = TempDir::new().unwrap();
    fails(
        kubeseal()
            .arg("--cert")
            .arg(dir.path())
            .write_stdin(secret_yaml()),
        &format!("read {}: is a directory", dir.path().display()),
    );
}

#[test]
fn cert_is_not_pem() {
    let dir = TempDir::new().unwrap();
    let cert = dir.path().join("cert.pem");
    std::fs::write(&cert, "this is not a certificate\n").unwrap();
    fails(
        kubeseal()
            .arg("--cert")
            .arg(&cert)
            .write_stdin(secret_yaml()),
        "cannot read the sealing certificate: no certificate found: expected a PEM block \"CERTIFICATE\"",
    );
    std::fs::write(&cert, "").unwrap();
    fails(
        kubeseal()
            .arg("--cert")
            .arg(&cert)
            .write_stdin(secret_yaml()),
        "cannot read the sealing certificate: no certificate found",
    );
}

#[test]
fn cert_is_a_private_key() {
    fails(
        kubeseal()
            .arg("--cert")
            .arg(testdata("key-a.pem"))
            .write_stdin(secret_yaml()),
        "cannot read the sealing certificate: no certificate found",
    );
}

#[test]
fn cert_with_garbage_der() {
    let dir = TempDir::new().unwrap();
    let cert = dir.path().join("cert.pem");
    std::fs::write(
        &cert,
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    fails(
        kubeseal()
            .arg("--cert")
            .arg(&cert)
            .write_stdin(secret_yaml()),
        "cannot read the sealing certificate: invalid X.509 certificate",
    );
}

#[test]
fn cert_is_not_rsa() {
    fails(
        kubeseal()
            .arg("--cert")
            .arg(testdata("cert-ec.pem"))
            .write_stdin(secret_yaml()),
        "cannot read the sealing certificate: expected RSA public key: found an EC key",
    );
}

#[test]
fn cert_with_a_1024_bit_key() {
    fails(
        kubeseal()
            .arg("--cert")
            .arg(data("rsa-1024.crt"))
            .write_stdin(secret_yaml()),
        "cannot read the sealing certificate: the certificate's RSA key has 1024 bits, too few to seal to",
    );
}

#[test]
fn cert_url_unreachable() {
    // Port 1 on loopback: nothing listens there.
    fails(
        kubeseal()
            .args(["--cert", "http://127.0.0.1:1/v1/cert.pem"])
            .write_stdin(secret_yaml()),
        "cannot fetch \"http://127.0.0.1:1/v1/cert.pem\"",
    );
}

/// A 2048-bit key pair whose self-signed certificate expired in 2000, as PEM files
/// and as a controller key Secret.
struct ExpiredKey {
    dir: TempDir,
}

impl ExpiredKey {
    fn new() -> Self {
        use sealed_secrets_core::PrivateKey;
        use sealed_secrets_core::cert::{CertificateParams, self_signed};
        let key = PrivateKey::generate(2048).unwrap();
        let params = CertificateParams {
            not_before: time::OffsetDateTime::from_unix_timestamp(946_684_800).unwrap(), // 2000-01-01
            validity: time::Duration::days(1),
            common_name: String::new(),
        };
        let cert = self_signed(&mut rand_core::UnwrapErr(rand_core::OsRng), &key, &params).unwrap();
        let dir = TempDir::new().unwrap();
        let key_pem = key.to_pkcs1_pem().unwrap();
        std::fs::write(dir.path().join("tls.crt"), cert.to_pem()).unwrap();
        let secret = format!(
            "apiVersion: v1\nkind: Secret\ntype: kubernetes.io/tls\nmetadata:\n  name: sealed-secrets-keyold\n  namespace: kube-system\ndata:\n  tls.crt: {}\n  tls.key: {}\n",
            STANDARD.encode(cert.to_pem()),
            STANDARD.encode(key_pem.as_bytes()),
        );
        std::fs::write(dir.path().join("key-secret.yaml"), secret).unwrap();
        ExpiredKey { dir }
    }
    fn cert(&self) -> PathBuf {
        self.dir.path().join("tls.crt")
    }
    fn key_secret(&self) -> PathBuf {
        self.dir.path().join("key-secret.yaml")
    }
}

#[test]
fn expired_cert_seals_with_a_warning_and_its_key_secret_still_unseals() {
    // Upstream refuses an expired --cert; the controller never checks expiry, so we
    // seal and warn (docs/cli.md). The key Secret of an expired key still unseals.
    let expired = ExpiredKey::new();
    let out = kubeseal()
        .arg("--cert")
        .arg(expired.cert())
        .write_stdin(secret_yaml())
        .assert()
        .success()
        .stderr(predicate::str::starts_with(
            "warning: the certificate expired on January 2, 2000",
        ));
    let sealed = out.get_output().stdout.clone();
    let out = kubeseal()
        .args(["--recovery-unseal", "--recovery-private-key"])
        .arg(expired.key_secret())
        .write_stdin(sealed)
        .assert()
        .success();
    let secret: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(
        secret["data"]["password"],
        STANDARD.encode(VALUE),
        "unsealed with the expired key"
    );
}

// ---- flags ----

#[test]
fn unknown_scope() {
    flag_error(
        sealer().arg("--scope=wide").write_stdin(secret_yaml()),
        "invalid value 'wide' for '--scope <SCOPE>': must be one of: strict, namespace-wide, cluster-wide",
    );
}

#[test]
fn unknown_format() {
    fails(
        sealer().args(["-o", "xml"]).write_stdin(secret_yaml()),
        "unsupported output format: xml",
    );
}

#[test]
fn unknown_format_from_the_environment() {
    fails(
        sealer()
            .env("SEALED_SECRETS_FORMAT", "toml")
            .write_stdin(secret_yaml()),
        "unsupported output format: toml",
    );
}

#[test]
fn unknown_flag() {
    flag_error(
        kubeseal().arg("--sekret-file=x"),
        "unexpected argument '--sekret-file'",
    );
}

#[test]
fn bool_flag_with_a_bad_value() {
    flag_error(
        sealer().arg("--raw=maybe").write_stdin(VALUE),
        "invalid value 'maybe' for '--raw",
    );
}

#[test]
fn from_file_without_raw() {
    fails(
        sealer()
            .args(["--from-file", "x"])
            .write_stdin(secret_yaml()),
        "--from-file requires --raw",
    );
}

#[test]
fn raw_strict_without_name() {
    fails(
        sealer().args(["--raw", "-n", "app"]).write_stdin(VALUE),
        "must provide the --name flag with --raw and --scope strict",
    );
}

#[test]
fn raw_with_an_invalid_name_seals_with_a_warning() {
    seals_with_warning(
        sealer()
            .args(["--raw", "-n", "app", "--name", "DB"])
            .write_stdin(VALUE),
        "invalid name \"DB\"",
    );
}

#[test]
fn raw_with_two_from_files() {
    fails(
        sealer().args([
            "--raw",
            "-n",
            "app",
            "--name",
            "db",
            "--from-file",
            "a",
            "--from-file",
            "b",
        ]),
        "must provide only one --from-file when encrypting a single item with --raw",
    );
}

#[test]
fn keygen_unsupported_key_size() {
    let dir = TempDir::new().unwrap();
    fails(
        kubeseal()
            .args(["keygen", "--key-size", "1024", "--key-out"])
            .arg(dir.path().join("k"))
            .arg("--cert-out")
            .arg(dir.path().join("c")),
        "unsupported RSA key size 1024: use 2048, 3072, 4096 or 8192",
    );
    assert!(listing(dir.path()).is_empty());
}

#[test]
fn keygen_bad_ttl() {
    let dir = TempDir::new().unwrap();
    fails(
        kubeseal()
            .args(["keygen", "--key-ttl=-5h", "--key-out"])
            .arg(dir.path().join("k"))
            .arg("--cert-out")
            .arg(dir.path().join("c")),
        "invalid --key-ttl \"-5h\": use a positive Go duration",
    );
    assert!(listing(dir.path()).is_empty());
}

#[test]
fn reseal_zero_jobs() {
    flag_error(
        kubeseal().args(["reseal", "--jobs", "0", "."]),
        "invalid value '0' for '--jobs <N>'",
    );
}

// ---- files: missing, unreadable, unwritable ----

#[test]
fn secret_file_missing() {
    fails(
        sealer().args(["-f", "/nonexistent/secret.yaml"]),
        "Could not read file specified with --secret-file: open /nonexistent/secret.yaml: no such file or directory",
    );
}

#[test]
fn secret_file_is_a_directory() {
    let dir = TempDir::new().unwrap();
    fails(
        sealer().arg("-f").arg(dir.path()),
        "Could not read file specified with --secret-file: read",
    );
}

#[test]
fn secret_file_without_read_permission() {
    use std::os::unix::fs::PermissionsExt;
    let dir = TempDir::new().unwrap();
    let file = dir.path().join("secret.yaml");
    std::fs::write(&file, secret_yaml()).unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o000)).unwrap();
    if permissions_are_bypassed(&file) {
        println!(
            "skipped: this process reads mode-000 files (root); the directory case covers unreadable input"
        );
        return;
    }
    fails(
        sealer().arg("-f").arg(&file),
        &format!(
            "Could not read file specified with --secret-file: open {}: permission denied",
            file.display()
        ),
    );
}

#[test]
fn output_in_a_missing_directory() {
    let dir = TempDir::new().unwrap();
    let target = dir.path().join("no/such/dir/sealed.json");
    fails(
        sealer().arg("-w").arg(&target).write_stdin(secret_yaml()),
        &format!("cannot write {}: cannot create a file in", target.display()),
    );
    assert!(listing(dir.path()).is_empty());
}

#[test]
fn output_in_a_read_only_directory_keeps_the_old_file() {
    use std::os::unix::fs::PermissionsExt;
    let dir = TempDir::new().unwrap();
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let target = out.join("sealed.json");
    std::fs::write(&target, "precious").unwrap();
    std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o555)).unwrap();
    let probe = std::fs::write(out.join("probe"), "");
    if probe.is_ok() {
        std::fs::remove_file(out.join("probe")).unwrap();
        std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o755)).unwrap();
        println!(
            "skipped: this process writes into mode-555 directories (root); output_under_proc covers a read-only target"
        );
        return;
    }
    fails(
        sealer().arg("-w").arg(&target).write_stdin(secret_yaml()),
        &format!("cannot write {}: cannot create a file in", target.display()),
    );
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "precious");
    assert_eq!(listing(&out), ["sealed.json"]);
    std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn output_under_proc() {
    // /proc refuses new files even to root: a read-only target for any user.
    fails(
        sealer()
            .args(["-w", "/proc/sealed.json"])
            .write_stdin(secret_yaml()),
        "cannot write /proc/sealed.json: cannot create a file in /proc",
    );
}

#[test]
fn output_path_is_a_directory_and_no_temporary_file_is_left() {
    let dir = TempDir::new().unwrap();
    let target = dir.path().join("sealed.json");
    std::fs::create_dir(&target).unwrap();
    fails(
        sealer().arg("-w").arg(&target).write_stdin(secret_yaml()),
        &format!("cannot write {}: is a directory", target.display()),
    );
    assert_eq!(listing(dir.path()), ["sealed.json"]);
    assert!(listing(&target).is_empty());
}

#[test]
fn failed_seal_keeps_the_existing_output_file() {
    let dir = TempDir::new().unwrap();
    let target = dir.path().join("sealed.yaml");
    std::fs::write(&target, "precious").unwrap();
    fails(
        sealer()
            .arg("-w")
            .arg(&target)
            .write_stdin(format!("{}---\n- broken\n", secret_yaml())),
        "input is not a Kubernetes object",
    );
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "precious");
    assert_eq!(listing(dir.path()), ["sealed.yaml"]);
}

#[test]
fn full_disk_on_stdout() {
    use std::io::Write as _;
    let Ok(full) = std::fs::OpenOptions::new().write(true).open("/dev/full") else {
        println!("skipped: no /dev/full here");
        return;
    };
    // assert_cmd captures stdout; std's Command can hand the child /dev/full.
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("kubeseal"))
        .arg("--cert")
        .arg(testdata("cert-a.pem"))
        .env_remove("KUBECONFIG")
        .stdin(std::process::Stdio::piped())
        .stdout(full)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(secret_yaml().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8(out.stderr).unwrap(),
        "error: cannot write standard output: no space left on device\n"
    );
}

// ---- --merge-into ----

#[test]
fn merge_into_a_file_that_is_not_a_sealed_secret() {
    let dir = TempDir::new().unwrap();
    let target = dir.path().join("target.yaml");
    std::fs::write(
        &target,
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n",
    )
    .unwrap();
    fails(
        sealer()
            .arg("--merge-into")
            .arg(&target)
            .write_stdin(secret_yaml()),
        &format!(
            "cannot merge into {}: input is a Secret, not a SealedSecret",
            target.display()
        ),
    );
    assert_eq!(
        std::fs::read_to_string(&target).unwrap(),
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n"
    );
    assert_eq!(listing(dir.path()), ["target.yaml"]);
}

#[test]
fn merge_into_a_missing_file() {
    fails(
        sealer()
            .args(["--merge-into", "/nonexistent/sealed.json"])
            .write_stdin(secret_yaml()),
        "open /nonexistent/sealed.json: no such file or directory",
    );
}

#[test]
fn merge_into_a_file_with_two_documents() {
    let dir = TempDir::new().unwrap();
    let target = dir.path().join("target.json");
    let one = sealed();
    let two = format!("{one}{one}");
    std::fs::write(&target, &two).unwrap();
    fails(
        sealer()
            .arg("--merge-into")
            .arg(&target)
            .write_stdin(secret_yaml()),
        &format!(
            "cannot merge into {}: expected exactly one SealedSecret, found 2 documents",
            target.display()
        ),
    );
    assert_eq!(std::fs::read_to_string(&target).unwrap(), two);
}

#[test]
fn merge_into_with_bad_input_keeps_the_file() {
    let dir = TempDir::new().unwrap();
    let target = dir.path().join("target.json");
    let one = sealed();
    std::fs::write(&target, &one).unwrap();
    fails(
        sealer()
            .arg("--merge-into")
            .arg(&target)
            .write_stdin("kind: Secret\ndata:\n  k: '!!'\n"),
        "invalid base64 in data[\"k\"]",
    );
    assert_eq!(std::fs::read_to_string(&target).unwrap(), one);
    assert_eq!(listing(dir.path()), ["target.json"]);
}

// ---- private keys and unsealing ----

#[test]
fn recovery_key_is_garbage() {
    let dir = TempDir::new().unwrap();
    let key = dir.path().join("key.pem");
    std::fs::write(
        &key,
        "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n",
    )
    .unwrap();
    fails(
        kubeseal()
            .args(["--recovery-unseal", "--recovery-private-key"])
            .arg(&key)
            .write_stdin(sealed()),
        &format!("cannot read private key {}", key.display()),
    );
}

#[test]
fn recovery_key_is_a_certificate() {
    fails(
        kubeseal()
            .args(["--recovery-unseal", "--recovery-private-key"])
            .arg(testdata("cert-a.pem"))
            .write_stdin(sealed()),
        "cannot read private key",
    );
}

#[test]
fn recovery_key_file_missing() {
    fails(
        kubeseal()
            .args([
                "--recovery-unseal",
                "--recovery-private-key",
                "/nonexistent/key.pem",
            ])
            .write_stdin(sealed()),
        "open /nonexistent/key.pem: no such file or directory",
    );
}

#[test]
fn recovery_with_the_wrong_key() {
    let stderr = fails(
        kubeseal()
            .args(["--recovery-unseal", "--recovery-private-key"])
            .arg(testdata("key-b.pem"))
            .write_stdin(sealed()),
        "no key could decrypt secret (password)",
    );
    assert!(
        stderr.contains("\nhint: it was sealed with the key SHA256:"),
        "{stderr}"
    );
}

#[test]
fn tampered_rsa_block_and_tampered_gcm_part_fail_alike() {
    let ss = sealed();
    let rsa = with_password(&ss, |b| b[40] ^= 1);
    let gcm = with_password(&ss, |b| {
        let n = b.len();
        b[n - 20] ^= 1;
    });
    let tag = with_password(&ss, |b| {
        let n = b.len();
        b[n - 1] ^= 1;
    });
    let truncated = with_password(&ss, |b| b.truncate(3));
    let mut messages = Vec::new();
    for input in [rsa, gcm, tag, truncated] {
        let stderr = fails(
            unsealer().write_stdin(input),
            "no key could decrypt secret (password)",
        );
        messages.push(stderr.lines().next().unwrap().to_owned());
    }
    messages.dedup();
    assert_eq!(messages, ["error: no key could decrypt secret (password)"]);
}

#[test]
fn invalid_base64_in_encrypted_data() {
    let mut v: serde_json::Value = serde_json::from_str(&sealed()).unwrap();
    v["spec"]["encryptedData"]["password"] = "not base64!".into();
    fails(
        unsealer().write_stdin(v.to_string()),
        "invalid base64 in encryptedData (password)",
    );
}

#[test]
fn recovery_unseal_of_a_plain_secret() {
    fails(
        unsealer().write_stdin(secret_yaml()),
        "input is a Secret, not a SealedSecret",
    );
}

#[test]
fn recovery_unseal_into_an_unwritable_file_writes_no_plaintext() {
    let dir = TempDir::new().unwrap();
    let target = dir.path().join("sealed.json");
    std::fs::create_dir(&target).unwrap();
    fails(
        unsealer().arg("-w").arg(&target).write_stdin(sealed()),
        &format!("cannot write {}: is a directory", target.display()),
    );
    assert_eq!(listing(dir.path()), ["sealed.json"]);
}

#[test]
fn unsealed_plaintext_file_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = TempDir::new().unwrap();
    let target = dir.path().join("secret.json");
    unsealer()
        .arg("-w")
        .arg(&target)
        .write_stdin(sealed())
        .assert()
        .success()
        .stdout("");
    let mode = std::fs::metadata(&target).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "plaintext Secret written with mode {mode:o}");
    assert_eq!(listing(dir.path()), ["secret.json"]);
}

#[test]
fn validate_with_the_wrong_key() {
    fails(
        kubeseal()
            .args(["--validate", "--recovery-private-key"])
            .arg(testdata("key-b.pem"))
            .write_stdin(sealed()),
        "unable to decrypt sealed secret: db: no key could decrypt secret (password)",
    );
}

#[test]
fn offline_re_encrypt_without_a_cert() {
    fails(
        kubeseal()
            .args(["--re-encrypt", "--recovery-private-key"])
            .arg(testdata("key-a.pem"))
            .write_stdin(sealed()),
        "offline --re-encrypt with --recovery-private-key also needs --cert",
    );
}

#[test]
fn keys_restore_of_something_that_is_not_a_backup() {
    fails(
        kubeseal()
            .args(["keys", "restore"])
            .write_stdin(secret_yaml()),
        "the input is not an age file",
    );
}

#[test]
fn no_cluster_and_no_cert() {
    fails(
        kubeseal().write_stdin(secret_yaml()),
        "cannot load cluster configuration: no kubeconfig found",
    );
}
