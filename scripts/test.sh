#!/usr/bin/env bash
# Every check CI runs. Needs: a Rust toolchain, python3 with cryptography, pytest, pyyaml,
# helm-python-sdk, yamllint.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
cargo test --workspace

# Generated files must be committed as generated (the CRD, and its copy in the chart).
cargo run --quiet -p xtask -- gen >/dev/null
generated=(deploy/crds deploy/helm/sealed-secrets/crds)
if ! git diff --exit-code -- "${generated[@]}" || [ -n "$(git status --porcelain -- "${generated[@]}")" ]; then
  echo "generated files drifted: run cargo run -p xtask -- gen" >&2; exit 1
fi
# Plain manifests rendered from the chart (Helm v4 via helm-python-sdk).
python3 scripts/render-manifests.py --check

# Independent implementation (Python cryptography) against our binary, both directions.
cargo build --quiet -p kubeseal-cli
KUBESEAL_BIN="${CARGO_TARGET_DIR:-$PWD/target}/debug/kubeseal" python3 -m pytest -q tests/interop

# Helm chart (lint + render with Helm v4, RBAC, security context, the controller
# accepts its flags), deploy/manifests, the Flux examples (their SealedSecrets unseal),
# yamllint over what we ship.
cargo build --quiet -p sealed-secrets-controller
KUBESEAL_BIN="${CARGO_TARGET_DIR:-$PWD/target}/debug/kubeseal" \
  CONTROLLER_BIN="${CARGO_TARGET_DIR:-$PWD/target}/debug/controller" \
  python3 -m pytest -q deploy/tests

# The README's demo still runs end to end (on the debug build made above).
DEMO_PROFILE=debug bash scripts/demo.sh >/dev/null
echo "all checks passed"
