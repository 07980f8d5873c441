#!/usr/bin/env bash
# Builds the agent image (Containerfile) with podman from a locally built
# binary: the build context is a root file system holding the binary and the
# shared libraries `ldd` names, so the image needs no base from a registry.
# Usage: scripts/image.sh [BINARY [TAG]]
#   BINARY defaults to target/release/systrace-tui,
#   TAG to localhost/systrace-tui:latest (the name deploy/ uses).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-$here/target/release/systrace-tui}
tag=${2:-localhost/systrace-tui:latest}
if [ ! -x "$bin" ] || [ -d "$bin" ]; then
  echo "image.sh: $bin is not an executable (build it first: cargo build --release)" >&2
  exit 1
fi
ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
root=$ctx/rootfs
install -D -m 0755 "$bin" "$root/usr/bin/systrace-tui"
# "libx.so => /lib/.../libx.so (0x..)" and "/lib64/ld-linux-x86-64.so.2 (0x..)";
# each library is copied (not its symlink) under the name the loader asks for.
if libs=$(ldd "$bin" 2>/dev/null); then
  for lib in $(printf '%s\n' "$libs" | sed -n 's/.*=> \(\/[^ ]*\).*/\1/p; s/^[[:space:]]*\(\/[^ ]*\).*/\1/p'); do
    install -D -m 0755 "$(readlink -f "$lib")" "$root$lib"
  done
fi
# Mount points the runtime fills in (/etc/hosts, resolv.conf) under a
# read-only root.
mkdir -p "$root/etc" "$root/tmp"
cp "$here/Containerfile" "$ctx/Containerfile"
podman build --quiet -f "$ctx/Containerfile" -t "$tag" "$ctx"
