#!/usr/bin/env bash
# Installs what building (and, with "test", testing) needs on Debian/Ubuntu;
# `deps.sh only PKG...` installs the named packages.
# Only missing packages are installed; safe to run again.
set -euo pipefail

# protobuf-compiler: the CRI protos (k8s-cri) are compiled at build time.
build_pkgs=(clang llvm libelf-dev zlib1g-dev pkg-config make protobuf-compiler)
# tmux drives the TUI in tests; strace is the decoding oracle; util-linux
# brings unshare and setpriv.
# podman, runc, catatonit (podman's pod infra), containerd (with ctr),
# busybox-static (images without a registry) and containernetworking-plugins
# (loopback, which containerd's CRI always runs) for real containers and pods.
# docker.io and docker-compose: tests/docker.rs starts its own dockerd.
# man-db and groff-base render the man page; zsh and fish check their
# completion scripts (bash is always there). prometheus scrapes --metrics in
# tests/aggregate.rs (the test starts and stops its own; the package's
# service is not needed). python3-venv holds kubernetes-validate (below),
# which checks deploy/; redis-server is the Redis the --publish/--source
# tests start.
test_pkgs=(tmux strace util-linux procps podman runc catatonit containerd busybox-static containernetworking-plugins
  docker.io docker-compose man-db groff-base zsh fish prometheus python3-venv redis-server)

want=("${build_pkgs[@]}")
if [ "${1:-}" = "test" ]; then
  want+=("${test_pkgs[@]}")
elif [ "${1:-}" = "only" ]; then
  # `deps.sh only PKG...`: just these (other scripts' extra packages).
  shift
  want=("$@")
fi

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}" >&2
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if ! command -v cargo >/dev/null 2>&1; then
  echo "cargo not found: install Rust >= 1.88 (https://rustup.rs) and run again" >&2
  exit 1
fi

# The Kubernetes schema validator for deploy/ (tests/deploy.rs), from PyPI in
# a venv of its own under target/ (pinned: its schemas decide what passes).
KUBERNETES_VALIDATE=1.37.0
if [ "${1:-}" = "test" ]; then
  venv="$(cd "$(dirname "$0")/.." && pwd)/target/venv"
  if ! "$venv/bin/kubernetes-validate" --version 2>/dev/null | grep -qx "$KUBERNETES_VALIDATE"; then
    echo "installing kubernetes-validate $KUBERNETES_VALIDATE into $venv" >&2
    /usr/bin/python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "kubernetes-validate==$KUBERNETES_VALIDATE"
  fi
fi
