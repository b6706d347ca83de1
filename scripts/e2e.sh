#!/usr/bin/env bash
# Real-API-server tests of the controller and kubeseal (tests/e2e). See tests/e2e/README.md.
#
#   scripts/e2e.sh [--start-apiserver] [-- <cargo test args>...]
#
# Builds `controller` and `kubeseal`, then runs `cargo test -p e2e` against the API server
# named by SEALED_SECRETS_TEST_KUBECONFIG. With --start-apiserver it builds (or takes from
# the cache) the Go peers with scripts/peers.sh, starts a local, loopback-only
# kube-apiserver + etcd with scripts/apiserver.sh, uses its admin kubeconfig, and stops
# it at the end unless it was already running.
set -euo pipefail
cd "$(dirname "$0")/.."

start=0
cargo_args=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --start-apiserver) start=1 ;;
    -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    --) shift; cargo_args+=("$@"); break ;;
    *) echo "e2e.sh: unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

# The Go peers (upstream kubeseal and controller for tests/e2e's interop tests; the
# API server's binaries for --start-apiserver).
eval "$(bash scripts/peers.sh)"

if [[ $start == 1 ]]; then
  apiserver=scripts/apiserver.sh
  # Only stop what this run started.
  if bash "$apiserver" status >/dev/null 2>&1; then
    echo "e2e.sh: reusing the running API server" >&2
  else
    trap 'bash "$apiserver" stop' EXIT
  fi
  kubeconfig=$(bash "$apiserver" start | sed -n 's/^export KUBECONFIG=//p')
  [[ -n "$kubeconfig" ]] || { echo "e2e.sh: apiserver.sh start printed no kubeconfig" >&2; exit 1; }
  export SEALED_SECRETS_TEST_KUBECONFIG=$kubeconfig
  export SEALED_SECRETS_TEST_APISERVER_PIDFILE=${kubeconfig%/admin.kubeconfig}/apiserver.pid
fi

if [[ -z "${SEALED_SECRETS_TEST_KUBECONFIG:-}" ]]; then
  echo "e2e.sh: set SEALED_SECRETS_TEST_KUBECONFIG to an admin kubeconfig of a test API server, or pass --start-apiserver" >&2
  exit 1
fi

# The workspace's feature set, as scripts/test.sh builds (no rebuild between the two).
cargo build --workspace --bins
# The tests never read the ambient KUBECONFIG; unset it so nothing else does either.
env -u KUBECONFIG cargo test -p e2e --no-fail-fast "${cargo_args[@]}"
