#!/usr/bin/env bash
# The real Go programs the tests run against, built from the Go module proxy and cached
# by version under $HOME/.cache (tests/peers/README.md):
#
#   kube-apiserver  k8s.io/kubernetes/cmd/kube-apiserver  (tests/peers/kube/go.mod pins it)
#   etcd            go.etcd.io/etcd/server/v3             (the same module, the version
#                                                          kubernetes itself requires)
#   kubeseal        github.com/bitnami-labs/sealed-secrets/cmd/kubeseal    (upstream)
#   controller      github.com/bitnami-labs/sealed-secrets/cmd/controller  (upstream)
#   integration.test  upstream's own integration suite (integration/ of that module)
#   kstatus         sigs.k8s.io/cli-utils kstatus, what Flux's health checks compute
#                   (tests/peers/kstatus: a few lines around its status.Compute)
#   template-oracle Go's text/template + Sprig as upstream's controller renders
#                   spec.template.data (tests/peers/template: records and checks
#                   crates/sealed-secrets/tests/template-corpus.json)
#   actionlint      github.com/rhysd/actionlint, the linter of .github/workflows (the
#                   PyPI wrapper downloads from GitHub at install, which CI cannot reach)
#
#   scripts/peers.sh            build what is missing, print `export NAME=path` lines
#   scripts/peers.sh --env      only print them (exit 1 if anything is missing)
#   scripts/peers.sh --regen-kube-module
#                               rewrite tests/peers/kube/go.mod for $KUBE_VERSION
#
# Progress goes to stderr, the export lines to stdout:  eval "$(scripts/peers.sh)"
set -euo pipefail
cd "$(dirname "$0")/.."

# The pinned versions. Changing KUBE_VERSION needs --regen-kube-module.
SEALED_SECRETS_VERSION=v0.36.6
ACTIONLINT_VERSION=v1.7.12
# The versions the wrapper module requires (`go mod tidy` keeps them in its require block).
KUBE_VERSION=$(sed -n 's/^\s*\(require \)\{0,1\}k8s.io\/kubernetes \(v[0-9.]*\).*$/\2/p' tests/peers/kube/go.mod)
KUBE_VERSION=${KUBE_VERSION_OVERRIDE:-$KUBE_VERSION}
ETCD_VERSION=$(sed -n 's/^\s*go.etcd.io\/etcd\/server\/v3 \(v[0-9.]*\).*$/\1/p' tests/peers/kube/go.mod)

CACHE=${SEALED_SECRETS_PEERS_CACHE:-$HOME/.cache/sealed-secrets-rs/peers}
UPSTREAM_MODULE=github.com/bitnami-labs/sealed-secrets

log() { echo "peers.sh: $*" >&2; }

command -v go >/dev/null || { log "go not found on PATH (Go 1.24 or newer)"; exit 1; }

regen_kube_module() {
  local version=${KUBE_VERSION_OVERRIDE:?set KUBE_VERSION_OVERRIDE=v1.X.Y} staging mod
  staging="v0.${version#v1.}"
  mod=$(cd tests/peers/kube && go mod download -json "k8s.io/kubernetes@$version" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["GoMod"])')
  {
    sed -n '1,/^module /p' tests/peers/kube/go.mod
    echo
    echo "go 1.24.0"
    echo
    echo "require k8s.io/kubernetes $version"
    echo
    echo "replace ("
    grep -E '^\s*k8s.io/[^ ]+ => ./staging' "$mod" | awk -v s="$staging" '{print "\t" $1 " => " $1 " " s}'
    echo ")"
  } >tests/peers/kube/go.mod.new
  mv tests/peers/kube/go.mod.new tests/peers/kube/go.mod
  (cd tests/peers/kube && go mod tidy)
  log "tests/peers/kube/go.mod now pins k8s.io/kubernetes $version"
}

# build NAME DIR CMD... : runs CMD (which writes DIR/NAME) unless DIR/NAME exists; the
# build goes to a temporary directory first, so an interrupted one leaves nothing.
build() {
  local name=$1 dir=$2; shift 2
  [[ -x "$dir/$name" ]] && return 0
  [[ $only_env == 1 ]] && { log "$dir/$name is not built (run scripts/peers.sh)"; missing=1; return 0; }
  local tmp start
  tmp=$(mktemp -d "$CACHE/.build.XXXXXX")
  start=$SECONDS
  log "building $name into $dir (cached for later runs)"
  OUT=$tmp "$@"
  mkdir -p "$dir"
  mv "$tmp/$name" "$dir/$name"
  rm -rf "$tmp"
  log "built $name in $((SECONDS - start)) s"
}

build_kube_apiserver() {
  local minor=${KUBE_VERSION#v1.}
  minor=${minor%%.*}
  # The version the server reports (/version), as the release build stamps it.
  (cd tests/peers/kube && go build -trimpath -o "$OUT/kube-apiserver" -ldflags "-s -w \
    -X k8s.io/component-base/version.gitVersion=$KUBE_VERSION \
    -X k8s.io/component-base/version.gitMajor=1 \
    -X k8s.io/component-base/version.gitMinor=$minor \
    -X k8s.io/component-base/version.gitTreeState=clean" \
    k8s.io/kubernetes/cmd/kube-apiserver)
}

build_etcd() {
  (cd tests/peers/kube && go build -trimpath -ldflags "-s -w" -o "$OUT/etcd" go.etcd.io/etcd/server/v3)
}

build_upstream() { # NAME
  GOBIN=$OUT go install -trimpath -ldflags "-s -w -X main.VERSION=$SEALED_SECRETS_VERSION" \
    "$UPSTREAM_MODULE/cmd/$1@$SEALED_SECRETS_VERSION"
}

build_kstatus() {
  (cd tests/peers/kstatus && go build -trimpath -ldflags "-s -w" -o "$OUT/kstatus" .)
}

build_actionlint() {
  GOBIN=$OUT go install -trimpath -ldflags "-s -w" "github.com/rhysd/actionlint/cmd/actionlint@$ACTIONLINT_VERSION"
}

build_template_oracle() {
  (cd tests/peers/template && go build -trimpath -ldflags "-s -w" -o "$OUT/template-oracle" .)
}

# Upstream's integration suite (integration/, build tag `integration`), compiled from the
# module's source in the module cache into a test binary.
build_upstream_suite() {
  local src
  src=$(cd "$CACHE" && go mod download -json "$UPSTREAM_MODULE@$SEALED_SECRETS_VERSION" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')
  (cd "$src" && go test -c -trimpath -tags integration -o "$OUT/integration.test" ./integration)
}

only_env=0
missing=0
case "${1:-}" in
  --regen-kube-module) regen_kube_module; exit 0 ;;
  --env) only_env=1 ;;
  "") ;;
  -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) log "unknown argument: $1 (see --help)"; exit 2 ;;
esac

mkdir -p "$CACHE"
kube_dir=$CACHE/kubernetes-$KUBE_VERSION
etcd_dir=$CACHE/etcd-$ETCD_VERSION
upstream_dir=$CACHE/sealed-secrets-$SEALED_SECRETS_VERSION
# Keyed by the library's version and by our few lines around it.
KSTATUS_VERSION=$(sed -n 's/^\s*sigs.k8s.io\/cli-utils \(v[0-9.]*\).*$/\1/p' tests/peers/kstatus/go.mod)
kstatus_dir=$CACHE/kstatus-$KSTATUS_VERSION-$(cat tests/peers/kstatus/{go.mod,go.sum,main.go} | sha256sum | cut -c1-12)
# The same for the template oracle: Sprig's version (the one upstream requires) and a hash.
SPRIG_VERSION=$(sed -n 's/^\s*\(require \)\{0,1\}github.com\/Masterminds\/sprig\/v3 \(v[0-9.]*\).*$/\2/p' tests/peers/template/go.mod)
template_dir=$CACHE/template-oracle-$SPRIG_VERSION-$(cat tests/peers/template/go.mod tests/peers/template/go.sum tests/peers/template/*.go | sha256sum | cut -c1-12)
build kube-apiserver "$kube_dir" build_kube_apiserver
build etcd "$etcd_dir" build_etcd
build kubeseal "$upstream_dir" build_upstream kubeseal
build controller "$upstream_dir" build_upstream controller
build integration.test "$upstream_dir" build_upstream_suite
build kstatus "$kstatus_dir" build_kstatus
build template-oracle "$template_dir" build_template_oracle
actionlint_dir=$CACHE/actionlint-$ACTIONLINT_VERSION
build actionlint "$actionlint_dir" build_actionlint
[[ $missing == 0 ]] || exit 1

echo "export KUBE_APISERVER_BIN=$kube_dir/kube-apiserver"
echo "export ETCD_BIN=$etcd_dir/etcd"
echo "export SEALED_SECRETS_GO_KUBESEAL=$upstream_dir/kubeseal"
echo "export SEALED_SECRETS_GO_CONTROLLER=$upstream_dir/controller"
echo "export SEALED_SECRETS_UPSTREAM_SUITE=$upstream_dir/integration.test"
echo "export SEALED_SECRETS_KSTATUS=$kstatus_dir/kstatus"
echo "export SEALED_SECRETS_TEMPLATE_ORACLE=$template_dir/template-oracle"
echo "export SEALED_SECRETS_ACTIONLINT=$actionlint_dir/actionlint"
