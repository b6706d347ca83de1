#!/usr/bin/env bash
# Side-by-side scale bench (docs/performance.md, "Go controller and ours, side by
# side"): the same N SealedSecrets on the same loopback API server, timed with our
# controller, then with upstream's Go controller (scripts/peers.sh), each cold and warm.
#
#   scripts/bench-side-by-side.sh [N ...]     default: 1000 10000
#
# Both run with the client rate limit off (--kubeclient-qps=-1): at Go's default of
# 5 requests a second its cold start at 10,000 would take over two hours. Prints each
# run's table (tests/e2e/src/bin/scale.rs); asserts nothing about speed.
set -euo pipefail
cd "$(dirname "$0")/.."
eval "$(bash scripts/peers.sh)"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/sealed-secrets-rs/target-release}
cargo build --quiet --release --workspace --bins
bin=$CARGO_TARGET_DIR/release
export KUBE_APISERVER_PORT=${KUBE_APISERVER_PORT:-18443}
export ETCD_CLIENT_PORT=$((KUBE_APISERVER_PORT + 1)) ETCD_PEER_PORT=$((KUBE_APISERVER_PORT + 2))
run_dir=${TMPDIR:-/tmp}/kube-apiserver-$KUBE_APISERVER_PORT
bash scripts/apiserver.sh start >/dev/null
trap 'bash scripts/apiserver.sh stop' EXIT
[[ $# -gt 0 ]] || set -- 1000 10000
for n in "$@"; do
  for impl in ours go; do
    go_flag=()
    [[ $impl == go ]] && go_flag=(--go-controller "$SEALED_SECRETS_GO_CONTROLLER")
    SEALED_SECRETS_TEST_BIN_DIR=$bin "$bin/scale" --kubeconfig "$run_dir/admin.kubeconfig" \
      -n "$n" --namespaces 20 --values 3 --controller-args="--kubeclient-qps=-1" "${go_flag[@]}" \
      --server-pidfile "$run_dir/apiserver.pid" --server-pidfile "$run_dir/etcd.pid"
  done
done
