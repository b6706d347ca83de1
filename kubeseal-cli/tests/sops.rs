//! `kubeseal sops …` and `kubeseal keys …` end to end with our binary only: exit
//! codes, in-place and --output writes, .sops.yaml lookup, edit through $EDITOR,
//! updatekeys, rotate, key backups and --recovery-private-key with a backup.
#![allow(clippy::unwrap_used)] // test helpers: a failed unwrap is a failed test

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;
use sealed_secrets_sops::age::generate_identity;
use tempfile::TempDir;

const SECRET: &str = "apiVersion: v1\nkind: Secret\nmetadata:\n    name: db\ndata:\n    password: aHVudGVyMg==\nstringData:\n    user: admin # who\n";

struct Env {
    dir: TempDir,
    keys: Vec<(String, String)>,
}

impl Env {
    fn new() -> Self {
        let dir = TempDir::new().unwrap();
        let keys = vec![generate_identity(), generate_identity()];
        for (i, (sk, _)) in keys.iter().enumerate() {
            std::fs::write(dir.path().join(format!("key{i}.txt")), format!("{sk}\n")).unwrap();
        }
        Env { dir, keys }
    }
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
    fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, text).unwrap();
        p
    }
    fn pk(&self, i: usize) -> &str {
        &self.keys[i].1
    }
    /// kubeseal in the temp dir, with key `key` as SOPS_AGE_KEY_FILE and nothing else.
    fn cmd(&self, key: usize) -> Command {
        let mut cmd = Command::cargo_bin("kubeseal").unwrap();
        cmd.current_dir(self.dir.path())
            .env("HOME", self.dir.path())
            .env("XDG_CONFIG_HOME", self.dir.path())
            .env("SOPS_AGE_KEY_FILE", self.path(&format!("key{key}.txt")));
        for k in [
            "SOPS_AGE_KEY",
            "SOPS_AGE_RECIPIENTS",
            "SOPS_CONFIG",
            "SOPS_EDITOR",
            "EDITOR",
            "SOPS_AGE_SSH_PRIVATE_KEY_FILE",
        ] {
            cmd.env_remove(k);
        }
        cmd
    }
    fn encrypt(&self, name: &str, text: &str, extra: &[&str]) -> PathBuf {
        let p = self.write(name, text);
        self.cmd(0)
            .args(["sops", "encrypt", "-i", "--age", self.pk(0)])
            .args(extra)
            .arg(&p)
            .assert()
            .success();
        p
    }
}

#[test]
fn encrypt_decrypt_in_place_and_output() {
    let e = Env::new();
    let p = e.encrypt(
        "s.yaml",
        SECRET,
        &["--encrypted-regex", "^(data|stringData)$"],
    );
    let enc = std::fs::read_to_string(&p).unwrap();
    assert!(enc.contains("name: db"), "metadata stays clear");
    assert!(enc.contains("password: ENC[AES256_GCM,data:"));
    assert!(
        enc.contains("    mac: ENC[AES256_GCM,data:"),
        "plain mac for Flux"
    );
    assert!(enc.contains("    encrypted_regex: ^(data|stringData)$"));
    e.cmd(0)
        .args(["sops", "decrypt", "--output", "out.yaml", "s.yaml"])
        .assert()
        .success()
        .stdout("");
    let out = std::fs::read_to_string(e.path("out.yaml")).unwrap();
    assert!(out.contains("password: aHVudGVyMg==") && out.contains("user: admin"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(e.path("out.yaml"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "plaintext output is private");
    }
    // stdin needs a type.
    e.cmd(0)
        .args(["sops", "decrypt"])
        .write_stdin(enc.clone())
        .assert()
        .code(8);
    e.cmd(0)
        .args([
            "sops",
            "decrypt",
            "--input-type",
            "yaml",
            "--output-type",
            "json",
        ])
        .write_stdin(enc)
        .assert()
        .success()
        .stdout(predicate::str::contains("\"user\": \"admin\""));
}

#[test]
fn exit_codes() {
    let e = Env::new();
    let p = e.encrypt("s.yaml", SECRET, &[]);
    // already encrypted
    e.cmd(0)
        .args(["sops", "encrypt", "--age", e.pk(0)])
        .arg(&p)
        .assert()
        .code(203);
    // wrong key
    e.cmd(1)
        .args(["sops", "decrypt"])
        .arg(&p)
        .assert()
        .code(128)
        .stderr(predicate::str::contains("age identities"));
    // MAC mismatch after a hand edit of a value's ciphertext order
    let text = std::fs::read_to_string(&p).unwrap();
    let mac_at = text.find("mac: ENC[AES256_GCM,data:").unwrap() + 25;
    let mut bytes = text.into_bytes();
    bytes[mac_at] = if bytes[mac_at] == b'A' { b'B' } else { b'A' };
    std::fs::write(e.path("t.yaml"), &bytes).unwrap();
    e.cmd(0)
        .args(["sops", "decrypt", "t.yaml"])
        .assert()
        .code(51)
        .stderr(predicate::str::contains("MAC"));
    // tampered value
    let text = std::fs::read_to_string(&p).unwrap();
    let at = text.find("user: ENC[AES256_GCM,data:").unwrap() + 26;
    let mut bytes = text.into_bytes();
    bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
    std::fs::write(e.path("v.yaml"), &bytes).unwrap();
    e.cmd(0)
        .args(["sops", "decrypt", "v.yaml"])
        .assert()
        .code(25)
        .stderr(predicate::str::contains("stringData:user:"));
    // empty, missing, conflicting, no recipients
    e.write("empty.yaml", "");
    e.cmd(0)
        .args(["sops", "encrypt", "--age", e.pk(0), "empty.yaml"])
        .assert()
        .code(92);
    e.cmd(0)
        .args(["sops", "decrypt", "nope.yaml"])
        .assert()
        .code(100);
    e.cmd(0)
        .args(["sops", "decrypt", "-i", "--output", "x", "s.yaml"])
        .assert()
        .code(8);
    e.write("plain.yaml", "a: 1\n");
    e.cmd(0)
        .args(["sops", "encrypt", "plain.yaml"])
        .assert()
        .code(111);
    e.cmd(0)
        .args([
            "sops",
            "encrypt",
            "--age",
            e.pk(0),
            "--encrypted-regex",
            "a",
            "--encrypted-suffix",
            "b",
            "plain.yaml",
        ])
        .assert()
        .code(8);
    e.cmd(0)
        .args(["sops", "encrypt", "--age", "age1notakey", "plain.yaml"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("invalid age recipient"));
    // a failed in-place write leaves the file as it was
    assert_eq!(
        std::fs::read_to_string(e.path("plain.yaml")).unwrap(),
        "a: 1\n"
    );
}

#[test]
fn sops_yaml_creation_rules_from_the_working_directory() {
    let e = Env::new();
    std::fs::create_dir(e.path("secrets")).unwrap();
    e.write(
        ".sops.yaml",
        &format!(
            "stores:\n    yaml:\n        indent: 2\ncreation_rules:\n    - path_regex: secrets/.*\\.yaml$\n      encrypted_regex: ^(data|stringData)$\n      age: {}, {}\n",
            e.pk(0),
            e.pk(1)
        ),
    );
    let p = e.write("secrets/s.yaml", SECRET);
    e.cmd(0)
        .args(["sops", "encrypt", "-i", "secrets/s.yaml"])
        .assert()
        .success();
    let enc = std::fs::read_to_string(&p).unwrap();
    assert!(enc.contains("\n  password: ENC["), "indent 2 from stores");
    assert!(enc.contains(e.pk(0)) && enc.contains(e.pk(1)));
    e.cmd(1)
        .args(["sops", "decrypt", "secrets/s.yaml"])
        .assert()
        .success();
    // no matching rule: an error even with --age (as sops)
    e.write("other.yaml", "a: 1\n");
    e.cmd(0)
        .args(["sops", "encrypt", "--age", e.pk(0), "other.yaml"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("no matching creation rules"));
}

#[cfg(unix)]
fn script(e: &Env, name: &str, body: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let p = e.write(name, &format!("#!/bin/sh\n{body}\n"));
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    p
}

#[cfg(unix)]
#[test]
fn edit_reencrypts_and_leaves_no_plaintext() {
    let e = Env::new();
    let p = e.encrypt("s.yaml", SECRET, &[]);
    let before = std::fs::read_to_string(&p).unwrap();
    let log = e.path("edited-path");
    let editor = script(
        &e,
        "ed.sh",
        &format!(
            "echo \"$1\" > {log}\nsed -i 's/admin/root/' \"$1\"",
            log = log.display()
        ),
    );
    e.cmd(0)
        .env("EDITOR", &editor)
        .args(["sops", "edit", "s.yaml"])
        .assert()
        .success();
    let after = std::fs::read_to_string(&p).unwrap();
    assert_ne!(before, after);
    assert!(!after.contains("root") && !after.contains("admin"));
    // unchanged values keep their ciphertext (minimal diffs)
    let line = |t: &str| {
        t.lines()
            .find(|l| l.contains("password:"))
            .unwrap()
            .to_owned()
    };
    assert_eq!(line(&before), line(&after));
    let tmp = PathBuf::from(std::fs::read_to_string(&log).unwrap().trim());
    assert!(!tmp.exists(), "the plaintext temp file is gone");
    assert!(!tmp.parent().unwrap().exists(), "and its directory too");
    e.cmd(0)
        .args(["sops", "decrypt", "s.yaml"])
        .assert()
        .success()
        .stdout(predicate::str::contains("user: root"));
    // an editor that changes nothing: exit 200, file untouched
    let noop = script(&e, "noop.sh", "true");
    e.cmd(0)
        .env("EDITOR", &noop)
        .args(["sops", "edit", "s.yaml"])
        .assert()
        .code(200);
    assert_eq!(std::fs::read_to_string(&p).unwrap(), after);
    // SOPS_EDITOR wins over EDITOR; a failing editor changes nothing
    let failing = script(&e, "fail.sh", "exit 3");
    e.cmd(0)
        .env("EDITOR", &editor)
        .env("SOPS_EDITOR", &failing)
        .args(["sops", "edit", "s.yaml"])
        .assert()
        .failure();
    assert_eq!(std::fs::read_to_string(&p).unwrap(), after);
}

#[test]
fn updatekeys_and_rotate() {
    let e = Env::new();
    let p = e.encrypt("s.yaml", SECRET, &[]);
    e.write(
        ".sops.yaml",
        &format!("creation_rules:\n  - age: {},{}\n", e.pk(0), e.pk(1)),
    );
    let before = std::fs::read_to_string(&p).unwrap();
    e.cmd(0)
        .args(["sops", "updatekeys", "s.yaml"])
        .write_stdin("")
        .assert()
        .failure()
        .stderr(predicate::str::contains("--yes"));
    e.cmd(0)
        .args(["sops", "updatekeys", "-y", "s.yaml"])
        .assert()
        .success()
        .stderr(predicate::str::contains(format!("+++ {}", e.pk(1))));
    let after = std::fs::read_to_string(&p).unwrap();
    let mac = |t: &str| t.lines().find(|l| l.contains("mac:")).unwrap().to_owned();
    assert_eq!(mac(&before), mac(&after), "updatekeys keeps values and MAC");
    e.cmd(1)
        .args(["sops", "decrypt", "s.yaml"])
        .assert()
        .success();
    e.cmd(0)
        .args(["sops", "rotate", "-i", "--rm-age", e.pk(0), "s.yaml"])
        .assert()
        .success();
    e.cmd(0)
        .args(["sops", "decrypt", "s.yaml"])
        .assert()
        .code(128);
    e.cmd(1)
        .args(["sops", "decrypt", "s.yaml"])
        .assert()
        .success();
}

#[test]
fn json_dotenv_and_binary() {
    let e = Env::new();
    for (name, text) in [
        ("c.json", "{\"a\": 1, \"b\": {\"c\": [true, \"x\"]}}\n"),
        ("app.env", "A=1\n#c\nB=two\n"),
        ("blob.bin", "raw\tdata\n"),
    ] {
        let p = e.encrypt(name, text, &[]);
        assert!(!std::fs::read_to_string(&p).unwrap().contains("two"));
        let out = e.cmd(0).args(["sops", "decrypt"]).arg(&p).output().unwrap();
        assert!(out.status.success(), "{name}");
        let want = match name {
            "c.json" => {
                "{\n\t\"a\": 1,\n\t\"b\": {\n\t\t\"c\": [\n\t\t\ttrue,\n\t\t\t\"x\"\n\t\t]\n\t}\n}\n"
            }
            _ => text,
        };
        assert_eq!(String::from_utf8(out.stdout).unwrap(), want, "{name}");
    }
}

fn key_secret(name: &str, key_pem: &Path, cert_pem: &Path) -> String {
    use base64::Engine;
    let b64 =
        |p: &Path| base64::engine::general_purpose::STANDARD.encode(std::fs::read(p).unwrap());
    format!(
        "apiVersion: v1\nkind: Secret\ntype: kubernetes.io/tls\nmetadata:\n  name: {name}\n  namespace: kube-system\n  uid: 1234\n  resourceVersion: \"99\"\n  labels:\n    sealedsecrets.bitnami.com/sealed-secrets-key: active\ndata:\n  tls.crt: {}\n  tls.key: {}\n",
        b64(cert_pem),
        b64(key_pem)
    )
}

#[test]
fn key_backup_restore_and_recovery_with_a_backup() {
    let e = Env::new();
    e.cmd(0)
        .args([
            "keygen",
            "--key-size",
            "2048",
            "--key-out",
            "tls.key",
            "--cert-out",
            "tls.crt",
        ])
        .assert()
        .success();
    let secrets = format!(
        "{}---\n{}",
        key_secret("k1", &e.path("tls.key"), &e.path("tls.crt")),
        key_secret("k2", &e.path("tls.key"), &e.path("tls.crt"))
    );
    e.write("keys.yaml", &secrets);
    e.write("recipients.txt", &format!("# ops team\n{}\n", e.pk(1)));
    e.cmd(0)
        .args(["keys", "backup", "--from-file", "keys.yaml", "-r", e.pk(0)])
        .args([
            "--recipients-file",
            "recipients.txt",
            "--armor",
            "-o",
            "backup.age",
        ])
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "2 key Secret(s) to 2 recipient(s)",
        ));
    let backup = std::fs::read_to_string(e.path("backup.age")).unwrap();
    assert!(backup.starts_with("-----BEGIN AGE ENCRYPTED FILE-----"));
    assert!(!backup.contains("PRIVATE"));
    for key in 0..2 {
        let out = e
            .cmd(key)
            .args(["keys", "restore", "backup.age"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let yaml = String::from_utf8(out.stdout).unwrap();
        assert_eq!(yaml.matches("kind: Secret").count(), 2);
        assert!(yaml.contains("type: kubernetes.io/tls"));
        assert!(yaml.contains("sealedsecrets.bitnami.com/sealed-secrets-key: active"));
        assert!(!yaml.contains("uid") && !yaml.contains("resourceVersion"));
    }
    // wrong identity
    let (other, _) = generate_identity();
    e.write("other.txt", &format!("{other}\n"));
    e.cmd(0)
        .args(["keys", "restore", "-i", "other.txt", "backup.age"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("none of the given age identities"));
    // --recovery-private-key accepts the backup, with --age-identity or SOPS_AGE_KEY_FILE
    e.write("s.yaml", "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: app\nstringData:\n  password: hunter2\n");
    let sealed = e
        .cmd(0)
        .args(["--cert", "tls.crt", "-o", "yaml", "-f", "s.yaml"])
        .output()
        .unwrap();
    assert!(sealed.status.success());
    e.cmd(0)
        .args([
            "--recovery-unseal",
            "--recovery-private-key",
            "backup.age",
            "-o",
            "yaml",
        ])
        .write_stdin(sealed.stdout.clone())
        .assert()
        .success()
        .stdout(predicate::str::contains("password: aHVudGVyMg=="));
    e.cmd(0)
        .env_remove("SOPS_AGE_KEY_FILE")
        .args(["--recovery-unseal", "--recovery-private-key", "backup.age"])
        .args(["--age-identity", "key1.txt"])
        .write_stdin(sealed.stdout.clone())
        .assert()
        .success();
    e.cmd(0)
        .env_remove("SOPS_AGE_KEY_FILE")
        .args(["--recovery-unseal", "--recovery-private-key", "backup.age"])
        .write_stdin(sealed.stdout)
        .assert()
        .failure()
        .stderr(predicate::str::contains("--age-identity"));
    // binary backups are refused on a terminal but fine in a file; no recipients is an error
    e.cmd(0)
        .args(["keys", "backup", "--from-file", "keys.yaml", "-o", "b.age"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("no recipients"));
    e.cmd(0)
        .args([
            "keys",
            "backup",
            "--from-file",
            "keys.yaml",
            "-r",
            e.pk(0),
            "-o",
            "b.age",
        ])
        .assert()
        .success();
    assert!(
        std::fs::read(e.path("b.age"))
            .unwrap()
            .starts_with(b"age-encryption.org/v1\n")
    );
}

#[test]
fn identity_sources_as_sops_reads_them() {
    let e = Env::new();
    let p = e.write("s.yaml", SECRET);
    e.cmd(0)
        .args(["sops", "encrypt", "-i", "--age", e.pk(1)])
        .arg(&p)
        .assert()
        .success();
    // SOPS_AGE_KEY: several keys separated by whitespace
    e.cmd(0)
        .env_remove("SOPS_AGE_KEY_FILE")
        .env("SOPS_AGE_KEY", format!("{} {}", e.keys[0].0, e.keys[1].0))
        .args(["sops", "decrypt", "s.yaml"])
        .assert()
        .success();
    // the default keys file under $XDG_CONFIG_HOME/sops/age/
    std::fs::create_dir_all(e.path("sops/age")).unwrap();
    std::fs::write(
        e.path("sops/age/keys.txt"),
        format!(
            "# created: now\n# public key: {}\n{}\n",
            e.pk(1),
            e.keys[1].0
        ),
    )
    .unwrap();
    e.cmd(0)
        .env_remove("SOPS_AGE_KEY_FILE")
        .args(["sops", "decrypt", "s.yaml"])
        .assert()
        .success();
    // SOPS_AGE_RECIPIENTS for encrypt
    e.write("t.yaml", "a: 1\n");
    e.cmd(0)
        .env("SOPS_AGE_RECIPIENTS", format!("{},{}", e.pk(0), e.pk(1)))
        .args(["sops", "encrypt", "-i", "t.yaml"])
        .assert()
        .success();
    e.cmd(0)
        .args(["sops", "decrypt", "t.yaml"])
        .assert()
        .success();
    // a broken identity file is an error that names the line, not the key
    e.write("bad.txt", "AGE-SECRET-KEY-1BROKEN\n");
    e.cmd(0)
        .env("SOPS_AGE_KEY_FILE", e.path("bad.txt"))
        .args(["sops", "decrypt", "s.yaml"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("line 1").and(predicate::str::contains("BROKEN").not()));
}
