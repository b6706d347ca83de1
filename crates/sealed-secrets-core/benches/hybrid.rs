//! `cargo bench -p sealed-secrets-core --bench hybrid`: seal and unseal of one value
//! against raw aws-lc-rs RSA-4096 OAEP encrypt/decrypt in the same run, as ratios
//! (target: both ≥ 0.90). Prints its figures; asserts nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a bench: failing loudly is right

use std::hint::black_box;
use std::time::{Duration, Instant};

use aws_lc_rs::rsa::{
    OAEP_SHA256_MGF1SHA256, OaepPrivateDecryptingKey, OaepPublicEncryptingKey, PrivateDecryptingKey,
};
use sealed_secrets_core::{PrivateKey, Scope, hybrid};

/// Median ops/s over `runs` timed runs of at least `min` each.
fn rate(runs: usize, min: Duration, mut op: impl FnMut()) -> f64 {
    let mut rates: Vec<f64> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            let mut n = 0u64;
            while start.elapsed() < min {
                op();
                n += 1;
            }
            n as f64 / start.elapsed().as_secs_f64()
        })
        .collect();
    rates.sort_by(f64::total_cmp);
    rates[runs / 2]
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let (runs, min) = if quick {
        (3, Duration::from_millis(300))
    } else {
        (5, Duration::from_secs(2))
    };
    let key = PrivateKey::from_pem(include_bytes!("../testdata/key-c-4096.pem")).unwrap();
    let raw_private = PrivateDecryptingKey::from_pkcs8(key.pkcs8_der()).unwrap();
    let raw_public = OaepPublicEncryptingKey::new(raw_private.public_key()).unwrap();
    let raw_private = OaepPrivateDecryptingKey::new(raw_private).unwrap();
    let label = Scope::Strict.label("default", "mariadb");
    let value = b"a typical 32-byte database passw";
    let mut rng = rand_core::UnwrapErr(rand_core::OsRng);

    let mut block = vec![0u8; raw_public.ciphertext_size()];
    raw_public
        .encrypt(
            &OAEP_SHA256_MGF1SHA256,
            &[7u8; 32],
            &mut block,
            Some(&label),
        )
        .unwrap();
    let sealed = hybrid::seal(&mut rng, key.public_key(), &label, value).unwrap();

    let raw_enc = rate(runs, min, || {
        let mut out = vec![0u8; raw_public.ciphertext_size()];
        black_box(
            raw_public
                .encrypt(&OAEP_SHA256_MGF1SHA256, &[7u8; 32], &mut out, Some(&label))
                .unwrap(),
        );
    });
    let seal = rate(runs, min, || {
        black_box(hybrid::seal(&mut rng, key.public_key(), &label, value).unwrap());
    });
    let raw_dec = rate(runs, min, || {
        let mut out = vec![0u8; raw_private.min_output_size()];
        black_box(
            raw_private
                .decrypt(&OAEP_SHA256_MGF1SHA256, &block, &mut out, Some(&label))
                .unwrap(),
        );
    });
    let unseal = rate(runs, min, || {
        black_box(hybrid::unseal([&key], &label, &sealed).unwrap());
    });

    println!("RSA-4096, OAEP SHA-256, 32-byte value, one thread, median of {runs} runs");
    println!("raw aws-lc-rs encrypt  {raw_enc:>10.0} ops/s");
    println!(
        "seal (per value)       {seal:>10.0} ops/s   ratio {:.3}",
        seal / raw_enc
    );
    println!("raw aws-lc-rs decrypt  {raw_dec:>10.0} ops/s");
    println!(
        "unseal (per value)     {unseal:>10.0} ops/s   ratio {:.3}",
        unseal / raw_dec
    );
}
