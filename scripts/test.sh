#!/usr/bin/env bash
# Every check CI runs. Needs: a Rust toolchain, python3 with cryptography, pytest, pyyaml.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
cargo test --workspace

# Generated files must be committed as generated.
cargo run --quiet -p xtask -- gen >/dev/null
git diff --exit-code -- deploy/ || { echo "generated files drifted: run cargo run -p xtask -- gen" >&2; exit 1; }

# Independent implementation (Python cryptography) against our binary, both directions.
cargo build --quiet -p kubeseal-cli
KUBESEAL_BIN="${CARGO_TARGET_DIR:-$PWD/target}/debug/kubeseal" python3 -m pytest -q tests/interop

# The README's demo still runs end to end.
bash scripts/demo.sh >/dev/null
echo "all checks passed"
