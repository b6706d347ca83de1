#!/usr/bin/env bash
# RustSec advisories for Cargo.lock (cargo deny check advisories, deny.toml), which CI
# cannot run: it has no route to the advisory database's Git repository.
#
#   scripts/deny-advisories.sh             fetch the database (needs GitHub) and check
#   scripts/deny-advisories.sh CHECKOUT    check against a local clone of
#                                          RustSec/advisory-db, with no network
#
# Record the result and the database's date in docs/security.md.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ $# -eq 0 ]; then
  exec cargo deny --locked check advisories
fi
checkout=$(cd "$1" && pwd)
date=$(git -C "$checkout" show -s --format=%cI HEAD)
echo "advisory database: $(git -C "$checkout" rev-parse HEAD) of $date" >&2
# cargo-deny opens the default database at <db-path>/advisory-db-<hash of its URL>;
# point a scratch db-path at the checkout and accept its age (it is printed above).
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
ln -s "$checkout" "$scratch/advisory-db-3157b0e258782691"
sed "s|^\[advisories\]|[advisories]\ndb-path = \"$scratch\"\nmaximum-db-staleness = \"P3650D\"|" deny.toml >"$scratch/deny.toml"
cargo deny --offline --locked --config "$scratch/deny.toml" check advisories
