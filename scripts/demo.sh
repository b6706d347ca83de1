#!/usr/bin/env bash
# Seal a Secret with a local key pair and recover it, no cluster needed:
# keygen → seal (as `kubeseal --cert`) → recovery-unseal (as disaster recovery would).
set -euo pipefail
cd "$(dirname "$0")/.."
# KUBESEAL_BIN: an already built kubeseal (scripts/test.sh passes its debug build).
kubeseal=${KUBESEAL_BIN:-}
if [ -z "$kubeseal" ]; then
  cargo build --quiet --release -p kubeseal-cli
  kubeseal="${CARGO_TARGET_DIR:-target}/release/kubeseal"
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$kubeseal" keygen --key-out "$work/tls.key" --cert-out "$work/tls.crt"
"$kubeseal" --format=yaml --cert="$work/tls.crt" < examples/mariadb-secret.yaml > "$work/sealed.yaml"
echo "--- sealed (safe to commit):"
cat "$work/sealed.yaml"
echo "--- recovered with the private key:"
"$kubeseal" --recovery-unseal --recovery-private-key "$work/tls.key" --format=yaml < "$work/sealed.yaml"
