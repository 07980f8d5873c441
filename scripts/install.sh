#!/usr/bin/env bash
# Installs systrace-tui where a distribution would put it: the binary, the
# man page, and the bash, zsh and fish completions, all generated from the
# binary itself (`systrace-tui man`, `systrace-tui completions SHELL`).
#
#   bash scripts/install.sh                 build (release) and install under /usr/local
#   PREFIX=/usr bash scripts/install.sh     install under /usr
#   DESTDIR=pkg PREFIX=/usr bash scripts/install.sh --bin target/release/systrace-tui
#                                           stage into pkg/ (for packaging), no build
#   bash scripts/install.sh --uninstall     remove what an install put there
set -euo pipefail

PREFIX=${PREFIX:-/usr/local}
DESTDIR=${DESTDIR:-}
bin=""
uninstall=0
while [ $# -gt 0 ]; do
  case "$1" in
    --bin) bin=${2:?--bin needs a path}; shift 2 ;;
    --uninstall) uninstall=1; shift ;;
    -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "install.sh: unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done

root="$DESTDIR$PREFIX"
# Where Debian's zsh looks: site-functions under /usr/local, the packages'
# vendor-completions under /usr.
zsh_dir=share/zsh/site-functions
[ "$PREFIX" = /usr ] && zsh_dir=share/zsh/vendor-completions
files=(
  "bin/systrace-tui"
  "share/man/man1/systrace-tui.1.gz"
  "share/bash-completion/completions/systrace-tui"
  "$zsh_dir/_systrace-tui"
  "share/fish/vendor_completions.d/systrace-tui.fish"
)

if [ "$uninstall" = 1 ]; then
  for f in "${files[@]}"; do
    if [ -e "$root/$f" ]; then rm -f "$root/$f" && echo "removed $root/$f"; fi
  done
  exit 0
fi

if [ -z "$bin" ]; then
  cd "$(dirname "$0")/.."
  bash scripts/deps.sh
  cargo build --release --locked
  bin=target/release/systrace-tui
fi
[ -x "$bin" ] || { echo "install.sh: $bin is not an executable" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Generated before anything is installed, so a binary that cannot run
# here (another architecture) leaves nothing half done.
"$bin" man | gzip -9n > "$tmp/systrace-tui.1.gz"
"$bin" completions bash > "$tmp/bash"
"$bin" completions zsh > "$tmp/zsh"
"$bin" completions fish > "$tmp/fish"

install -Dm755 "$bin" "$root/${files[0]}"
install -Dm644 "$tmp/systrace-tui.1.gz" "$root/${files[1]}"
install -Dm644 "$tmp/bash" "$root/${files[2]}"
install -Dm644 "$tmp/zsh" "$root/${files[3]}"
install -Dm644 "$tmp/fish" "$root/${files[4]}"
for f in "${files[@]}"; do echo "installed $root/$f"; done
if [ -z "$DESTDIR" ] && command -v mandb >/dev/null 2>&1; then
  mandb -q 2>/dev/null || true
fi
# fish reads $PREFIX/share only when XDG_DATA_DIRS names it (desktop
# sessions do; a bare root shell may not): say so rather than leave it silent.
fish_dir="$PREFIX/share/fish/vendor_completions.d"
if [ -z "$DESTDIR" ] && command -v fish >/dev/null 2>&1 &&
  ! fish -c "contains -- $fish_dir \$__fish_vendor_completionsdirs" 2>/dev/null; then
  echo "note: this fish does not read $fish_dir unless XDG_DATA_DIRS includes $PREFIX/share;" \
    "copy the file to /etc/fish/completions/ to use it everywhere" >&2
fi
