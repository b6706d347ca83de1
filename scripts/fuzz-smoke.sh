#!/usr/bin/env bash
# CI smoke test of the fuzz targets (fuzz/, its own workspace): build every target,
# then run each for a few seconds on its committed seed corpus. Long runs: fuzz/README.md.
# Needs cargo-fuzz (installed here when missing) and a C++ compiler (libFuzzer).
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

seconds="${FUZZ_SMOKE_SECONDS:-10}"
if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install --quiet cargo-fuzz --locked
fi
# Not a member of the main workspace, so `cargo fmt --all` at the root skips it.
cargo fmt -- --check
# Next to the main build outputs when CI keeps those (warm reruns), else fuzz/target.
target_dir="${CARGO_TARGET_DIR:+$CARGO_TARGET_DIR/fuzz}"
target_dir="${target_dir:-$PWD/target}"
# Stable Rust: no sanitizer (-s none; ASan needs nightly); optimised, with debug
# assertions and overflow checks from fuzz/Cargo.toml's release profile.
cargo fuzz build -O -s none --target-dir "$target_dir"
bin="$target_dir/x86_64-unknown-linux-gnu/release"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# target:max_len, as in fuzz/README.md.
for spec in unseal:1024 documents:8192 template:4096 sops_value:4096 sops_file:8192; do
    t="${spec%%:*}"
    mkdir -p "$work/$t"
    # -seed=1: the same mutations on every run, so a CI failure reproduces.
    if ! "$bin/$t" "$work/$t" "seeds/$t" -seed=1 -max_total_time="$seconds" -timeout=10 \
        -rss_limit_mb=2048 -max_len="${spec##*:}" -artifact_prefix="$work/$t-" \
        >"$work/$t.log" 2>&1; then
        tail -n 40 "$work/$t.log" >&2
        for crash in "$work/$t"-*; do
            [ -e "$crash" ] && echo "crashing input ($crash), base64: $(base64 -w0 "$crash")" >&2
        done
        echo "fuzz target $t failed" >&2
        exit 1
    fi
    echo "fuzz $t: $(grep -o 'Done [0-9]* runs in [0-9]* second(s)' "$work/$t.log")"
done
