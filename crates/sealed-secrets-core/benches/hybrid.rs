//! `cargo bench -p sealed-secrets-core --bench hybrid` (add `-- --quick` for a short
//! run): seal and unseal per value and per Secret (5 values), beside raw aws-lc-rs
//! RSA-4096 OAEP encrypt/decrypt measured in the same run, then the ratios
//! raw / ours per operation (target: both ≥ 0.90; 1.0 = no overhead over the RSA).
//! Prints its figures; asserts nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a bench: failing loudly is right

use std::collections::BTreeMap;
use std::hint::black_box;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use aws_lc_rs::rsa::{
    OAEP_SHA256_MGF1SHA256, OaepPrivateDecryptingKey, OaepPublicEncryptingKey, PrivateDecryptingKey,
};
use criterion::Criterion;
use sealed_secrets_core::{PrivateKey, Scope, hybrid};

/// Values in the "per Secret" case.
const SECRET_VALUES: usize = 5;
/// A typical value: a 32-byte password.
const VALUE: &[u8] = b"a typical 32-byte database passw";

/// Per benchmark id, the time per iteration of every timed batch (warm-up included).
/// Criterion's own report stays as it is; the ratios below are medians of the same
/// batches, which a load spike on a shared machine moves less than a mean.
static TIMES: Mutex<BTreeMap<&'static str, Vec<f64>>> = Mutex::new(BTreeMap::new());

/// Benchmarks `op` under `id`, recording its batches for the ratio table.
fn bench(c: &mut Criterion, id: &'static str, mut op: impl FnMut()) {
    c.bench_function(id, |b| {
        b.iter_custom(|iters| {
            let start = Instant::now();
            for _ in 0..iters {
                op();
            }
            let took = start.elapsed();
            if iters > 0 {
                let per_iter = took.as_nanos() as f64 / iters as f64;
                TIMES.lock().unwrap().entry(id).or_default().push(per_iter);
            }
            took
        });
    });
}

fn median_ns(id: &str) -> Option<f64> {
    let mut times = TIMES.lock().unwrap().get(id)?.clone();
    times.sort_by(f64::total_cmp);
    times.get(times.len() / 2).copied()
}

fn main() {
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(20)
        .configure_from_args();

    let key = PrivateKey::from_pem(include_bytes!("../testdata/key-c-4096.pem")).unwrap();
    let raw_private = PrivateDecryptingKey::from_pkcs8(key.pkcs8_der()).unwrap();
    let raw_public = OaepPublicEncryptingKey::new(raw_private.public_key()).unwrap();
    let raw_private = OaepPrivateDecryptingKey::new(raw_private).unwrap();
    let label = Scope::Strict.label("default", "mariadb");
    let mut rng = rand_core::UnwrapErr(rand_core::OsRng);

    // What the hybrid scheme puts through RSA: a fresh 32-byte AES key.
    let mut block = vec![0u8; raw_public.ciphertext_size()];
    raw_public
        .encrypt(
            &OAEP_SHA256_MGF1SHA256,
            &[7u8; 32],
            &mut block,
            Some(&label),
        )
        .unwrap();
    let sealed = hybrid::seal(&mut rng, key.public_key(), &label, VALUE).unwrap();
    let sealed_secret: Vec<Vec<u8>> = (0..SECRET_VALUES)
        .map(|_| hybrid::seal(&mut rng, key.public_key(), &label, VALUE).unwrap())
        .collect();

    let mut raw_encrypt = || {
        let mut out = vec![0u8; raw_public.ciphertext_size()];
        black_box(
            raw_public
                .encrypt(&OAEP_SHA256_MGF1SHA256, &[7u8; 32], &mut out, Some(&label))
                .unwrap(),
        );
    };
    bench(&mut c, "raw_rsa4096_oaep_encrypt", &mut raw_encrypt);
    bench(&mut c, "seal_value", || {
        black_box(hybrid::seal(&mut rng, key.public_key(), &label, VALUE).unwrap());
    });
    bench(&mut c, "seal_secret_5_values", || {
        for _ in 0..SECRET_VALUES {
            black_box(hybrid::seal(&mut rng, key.public_key(), &label, VALUE).unwrap());
        }
    });
    let raw_decrypt = || {
        let mut out = vec![0u8; raw_private.min_output_size()];
        black_box(
            raw_private
                .decrypt(&OAEP_SHA256_MGF1SHA256, &block, &mut out, Some(&label))
                .unwrap(),
        );
    };
    bench(&mut c, "raw_rsa4096_oaep_decrypt", raw_decrypt);
    bench(&mut c, "unseal_value", || {
        black_box(hybrid::unseal([&key], &label, &sealed).unwrap());
    });
    bench(&mut c, "unseal_secret_5_values", || {
        for value in &sealed_secret {
            black_box(hybrid::unseal([&key], &label, value).unwrap());
        }
    });
    c.final_summary();

    println!();
    println!("RSA-4096, OAEP SHA-256, 32-byte values, one thread; median over the timed batches");
    println!("ratio = raw aws-lc-rs RSA time / our time for the same number of RSA operations");
    println!("(target >= 0.90)");
    let rows = [
        ("seal_value", "raw_rsa4096_oaep_encrypt", 1.0),
        (
            "seal_secret_5_values",
            "raw_rsa4096_oaep_encrypt",
            SECRET_VALUES as f64,
        ),
        ("unseal_value", "raw_rsa4096_oaep_decrypt", 1.0),
        (
            "unseal_secret_5_values",
            "raw_rsa4096_oaep_decrypt",
            SECRET_VALUES as f64,
        ),
    ];
    for raw_id in ["raw_rsa4096_oaep_encrypt", "raw_rsa4096_oaep_decrypt"] {
        if let Some(ns) = median_ns(raw_id) {
            println!("{raw_id:<26} {:>10.1} µs", ns / 1000.0);
        }
    }
    for (ours, raw, ops) in rows {
        match (median_ns(ours), median_ns(raw)) {
            (Some(o), Some(r)) => println!(
                "{ours:<26} {:>10.1} µs   ratio {:.3}",
                o / 1000.0,
                r * ops / o
            ),
            _ => println!("{ours:<26} (not run: filtered out, or its raw baseline was)"),
        }
    }
}
