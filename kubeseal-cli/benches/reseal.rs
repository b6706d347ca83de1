//! Offline `kubeseal reseal` of a tree of 1,000 SealedSecrets × 5 values, sealed
//! with 5 older RSA-4096 keys, re-sealed to a 6th: wall time of the real binary
//! next to the RSA-bound minimum measured in the same run (the private-key
//! decrypts and public-key encrypts it must do, at the raw aws-lc-rs rate on all
//! cores). Prints figures; asserts nothing about time.
//!
//! `cargo bench -p kubeseal-cli --bench reseal` (`RESEAL_BENCH_SECRETS=N` to change
//! the tree size).
#![allow(clippy::unwrap_used, clippy::expect_used)] // a bench: failing loudly is right

use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use aws_lc_rs::rsa::{
    OAEP_SHA256_MGF1SHA256, OaepPrivateDecryptingKey, OaepPublicEncryptingKey,
    PrivateDecryptingKey, PublicEncryptingKey,
};
use sealed_secrets::documents;
use sealed_secrets::seal::{SealOptions, seal_secret};
use sealed_secrets::secret::{InputSecret, SecretData};
use sealed_secrets_core::PrivateKey;
use sealed_secrets_core::cert::{CertificateParams, self_signed};

const OLD_KEYS: usize = 5;
const VALUES: usize = 5;

fn rng() -> rand_core::UnwrapErr<rand_core::OsRng> {
    rand_core::UnwrapErr(rand_core::OsRng)
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, Into::into)
}

/// Runs `op` `total` times spread over all cores; operations per second.
fn rate(total: usize, op: impl Fn() + Sync) -> f64 {
    let next = AtomicUsize::new(0);
    let start = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..cores() {
            s.spawn(|| {
                while next.fetch_add(1, Ordering::Relaxed) < total {
                    op();
                }
            });
        }
    });
    total as f64 / start.elapsed().as_secs_f64()
}

/// Raw aws-lc-rs RSA-OAEP decrypt and encrypt rates (ops/s, all cores) for `key`.
fn raw_rates(key: &PrivateKey, samples: usize) -> (f64, f64) {
    let private =
        OaepPrivateDecryptingKey::new(PrivateDecryptingKey::from_pkcs8(key.pkcs8_der()).unwrap())
            .unwrap();
    let public = OaepPublicEncryptingKey::new(
        PublicEncryptingKey::from_der(key.public_key().spki_der()).unwrap(),
    )
    .unwrap();
    let label = b"apps/secret-0";
    let mut ct = vec![0u8; public.ciphertext_size()];
    public
        .encrypt(&OAEP_SHA256_MGF1SHA256, &[7u8; 32], &mut ct, Some(label))
        .unwrap();
    let decrypt = rate(samples, || {
        let mut out = vec![0u8; private.min_output_size()];
        private
            .decrypt(&OAEP_SHA256_MGF1SHA256, &ct, &mut out, Some(label))
            .unwrap();
    });
    let encrypt = rate(samples * 20, || {
        let mut out = vec![0u8; public.ciphertext_size()];
        public
            .encrypt(&OAEP_SHA256_MGF1SHA256, &[7u8; 32], &mut out, Some(label))
            .unwrap();
    });
    (decrypt, encrypt)
}

fn write_tree(dir: &Path, old: &[PrivateKey], secrets: usize, annotated: bool) {
    let options = SealOptions {
        default_namespace: "apps".into(),
        ..SealOptions::default()
    };
    for i in 0..secrets {
        let mut data = SecretData::default();
        for v in 0..VALUES {
            data.0.insert(
                format!("value-{v}"),
                format!("plaintext {i}/{v}").into_bytes().into(),
            );
        }
        let mut secret = InputSecret {
            data,
            ..InputSecret::default()
        };
        secret.metadata.name = Some(format!("secret-{i}"));
        let key = &old[i % old.len()];
        let mut ss = seal_secret(&mut rng(), key.public_key(), secret, &options).unwrap();
        if !annotated {
            ss.metadata.annotations = None;
        }
        let sub = dir.join(format!("team-{}", i % 10));
        std::fs::create_dir_all(&sub).unwrap();
        std::fs::write(
            sub.join(format!("secret-{i}.yaml")),
            documents::to_yaml(&ss).unwrap(),
        )
        .unwrap();
    }
}

fn reseal(dir: &Path, keys: &Path, cert: &Path) -> (Duration, String) {
    let start = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_kubeseal"))
        .arg("reseal")
        .arg("--cert")
        .arg(cert)
        .arg("--recovery-private-key")
        .arg(keys)
        .arg(dir)
        .output()
        .unwrap();
    let took = start.elapsed();
    let summary = String::from_utf8_lossy(&out.stderr).trim().to_owned();
    assert!(out.status.success(), "{summary}");
    (took, summary)
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo test --benches` asks for a listing
    }
    let secrets: usize = std::env::var("RESEAL_BENCH_SECRETS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1000);
    println!(
        "reseal bench: {secrets} SealedSecrets x {VALUES} values, {OLD_KEYS} old RSA-4096 keys -> 1 new, {} cores",
        cores()
    );
    let work = tempfile::TempDir::new().unwrap();
    let t = Instant::now();
    let old: Vec<PrivateKey> = (0..OLD_KEYS)
        .map(|_| PrivateKey::generate(4096).unwrap())
        .collect();
    let new = PrivateKey::generate(4096).unwrap();
    let cert = self_signed(
        &mut rng(),
        &new,
        &CertificateParams::new(time::OffsetDateTime::now_utc()),
    )
    .unwrap();
    let cert_path = work.path().join("new.crt");
    std::fs::write(&cert_path, cert.to_pem()).unwrap();
    let mut pem = String::new();
    for k in &old {
        pem.push_str(&k.to_pkcs1_pem().unwrap());
    }
    let keys_path = work.path().join("old-keys.pem");
    std::fs::write(&keys_path, pem).unwrap();
    println!("  setup: keys in {:.1}s", t.elapsed().as_secs_f64());

    let values = (secrets * VALUES) as f64;
    for (name, annotated) in [
        ("annotated (sealed by this kubeseal)", true),
        ("no annotation (sealed by Go kubeseal)", false),
    ] {
        let tree = work
            .path()
            .join(if annotated { "annotated" } else { "plain" });
        write_tree(&tree, &old, secrets, annotated);
        let samples = 400;
        let (dec1, enc1) = raw_rates(&old[0], samples);
        let (took, summary) = reseal(&tree, &keys_path, &cert_path);
        let (dec2, enc2) = raw_rates(&old[0], samples);
        let (dec, enc) = ((dec1 + dec2) / 2.0, (enc1 + enc2) / 2.0);
        let minimum = values / dec + values / enc;
        println!("  {name}:");
        println!("    {summary}");
        println!(
            "    raw aws-lc-rs on {} cores: {dec:.0} decrypts/s, {enc:.0} encrypts/s (before {dec1:.0}/{enc1:.0}, after {dec2:.0}/{enc2:.0})",
            cores()
        );
        println!(
            "    wall {:.2}s; RSA-bound minimum ({values} decrypts + {values} encrypts) {minimum:.2}s; ratio {:.2}",
            took.as_secs_f64(),
            took.as_secs_f64() / minimum
        );
    }
}
