//! `cargo bench -p sealed-secrets-core --bench bursts`: what one RSA-4096 private
//! operation costs when operations come back to back, and when they come in bursts
//! with idle gaps between them (as a controller held to a client rate limit sees
//! them). Prints per-operation times of the operations inside the bursts; asserts
//! nothing. `BURSTS_ROUNDS=N` for more rounds per pattern.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a bench: failing loudly is right

use std::hint::black_box;
use std::time::{Duration, Instant};

use sealed_secrets_core::{PrivateKey, Scope, hybrid};

fn main() {
    let key = PrivateKey::from_pem(include_bytes!("../testdata/key-c-4096.pem")).unwrap();
    let label = Scope::Strict.label("default", "mariadb");
    let mut rng = rand_core::UnwrapErr(rand_core::OsRng);
    let sealed = hybrid::seal(
        &mut rng,
        key.public_key(),
        &label,
        b"a 32-byte database password....",
    )
    .unwrap();
    let rounds: usize = std::env::var("BURSTS_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(40);
    let unseal = || {
        black_box(hybrid::unseal([&key], &label, &sealed).unwrap());
    };
    // Warm everything once.
    for _ in 0..50 {
        unseal();
    }
    println!("RSA-4096 unseal (one thread), ms per operation inside the bursts: median / mean");
    let patterns: &[(usize, u64)] = &[
        (300, 0),
        (3, 80),
        (3, 20),
        (12, 80),
        (48, 80),
        (48, 250),
        (192, 250),
    ];
    for &(burst, gap_ms) in patterns {
        let mut per_op = Vec::new();
        let total_rounds = if gap_ms == 0 { 1 } else { rounds };
        for _ in 0..total_rounds {
            if gap_ms > 0 {
                std::thread::sleep(Duration::from_millis(gap_ms));
            }
            for _ in 0..burst {
                let start = Instant::now();
                unseal();
                per_op.push(start.elapsed().as_secs_f64() * 1000.0);
            }
        }
        let mean = per_op.iter().sum::<f64>() / per_op.len() as f64;
        per_op.sort_by(f64::total_cmp);
        let median = per_op[per_op.len() / 2];
        let first: String = if gap_ms == 0 {
            "back to back".into()
        } else {
            format!("bursts of {burst}, {gap_ms} ms apart")
        };
        println!("{first:<32} {median:>6.3} / {mean:>6.3}");
    }
}
