#!/usr/bin/env bash
# The kernel matrix: boots Debian's own kernels under qemu with an initramfs
# holding the built binaries, and checks on each that tracing really works:
#
#   bash scripts/kernel-matrix.sh            # x86_64 5.10, 6.1, 6.12; arm64 6.1
#   bash scripts/kernel-matrix.sh x86_64     # only the x86_64 kernels
#   bash scripts/kernel-matrix.sh 5.10       # only kernels whose name has 5.10
#   BENCH=1 bash scripts/kernel-matrix.sh x86_64   # also the overhead ratio
#
# Per kernel, in the guest: a known workload traced with exact counts
# (`workload known` and `workload getppid 1000`: 1100 getppid), execve with
# its argv, a failing openat with ENOENT, and the in-kernel pid filter (only
# the chosen process's 500 getppid, none of a concurrent one's); counting in
# the kernel (`--summary`: 700 getppid, 9 failed openat), with each program,
# and counting without times (`-q`: the workload's total, at least 710).
#
# Kernels and busybox come from the Debian archive, pinned by version and
# SHA256, and only the vmlinuz (busybox binary) is kept, under
# ~/.cache/systrace-tui/kernels (about 70 MB). The .deb is fetched from
# deb.debian.org, or from snapshot.debian.org once a point release has
# replaced it there.
#
# Uses the debug builds: target/debug/systrace-tui and examples/workload
# (x86_64), target/aarch64-unknown-linux-gnu/debug/ (arm64, built by
# scripts/cross-aarch64.sh; the arm64 kernel is skipped with a note when
# that build is missing unless REQUIRE_ARM64=1). KVM is used when it works,
# else TCG with -cpu max.
set -euo pipefail
cd "$(dirname "$0")/.."

CACHE=${KERNEL_CACHE:-$HOME/.cache/systrace-tui/kernels}
SNAPSHOT=20261101T000000Z # any time the pinned versions were current
ONLY=${1:-}
BENCH=${BENCH:-0}

# name arch pool-path sha256 (vmlinuz-<name> is the file in the package)
KERNELS=(
  "5.10.0-32-cloud-amd64 x86_64 pool/main/l/linux-signed-amd64/linux-image-5.10.0-32-cloud-amd64_5.10.223-1_amd64.deb fb4a1229952d892138532c1d9f40a7fd0bd408e4dcf969c12e4524b6a89fdcb8"
  "6.1.0-50-cloud-amd64 x86_64 pool/main/l/linux-signed-amd64/linux-image-6.1.0-50-cloud-amd64_6.1.176-1_amd64.deb efe19f605b6f54a8352e68d85a629abb2d30b72a085faef603a9152590baa791"
  "6.12.117+deb13-cloud-amd64 x86_64 pool/main/l/linux-signed-amd64/linux-image-6.12.117+deb13-cloud-amd64_6.12.117-1_amd64.deb e9893e5295d0549b8852611f12a4b8b5f6cc4b8128dcc2086b9847793b904ab7"
  "6.1.0-50-cloud-arm64 aarch64 pool/main/l/linux-signed-arm64/linux-image-6.1.0-50-cloud-arm64_6.1.176-1_arm64.deb 9d41a53f5d687ae1a33cf546d0ed8be955f72e5f9e97b2b4e45e41dff3353b97"
)
BUSYBOX_ARM64="pool/main/b/busybox/busybox-static_1.35.0-4+deb12u1+b1_arm64.deb 732c9135564fc71337e0e05fb4da4d11e6c28c1834bce3e405e575afef2a52f5"

bash scripts/deps.sh only qemu-system-x86 qemu-system-arm busybox-static curl
mkdir -p "$CACHE"

# fetch OUT POOL SHA256 MEMBER: MEMBER of the package at POOL, into OUT.
fetch() {
  local out=$1 pool=$2 sha=$3 member=$4 deb
  [ -s "$out" ] && return 0
  deb=$(mktemp "$CACHE/.deb.XXXXXX")
  if ! curl -fsSL --retry 3 -o "$deb" "http://deb.debian.org/debian/$pool"; then
    curl -fsSL --retry 3 -o "$deb" "https://snapshot.debian.org/archive/debian/$SNAPSHOT/$pool"
  fi
  if ! echo "$sha  $deb" | sha256sum -c --quiet; then
    rm -f "$deb"
    echo "kernel-matrix: $pool does not have the pinned SHA256" >&2
    return 1
  fi
  dpkg-deb --fsys-tarfile "$deb" | tar -xO "$member" >"$out.part"
  mv "$out.part" "$out"
  rm -f "$deb"
}

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# The checks, run as the guest's init. Lines starting with "KM" are the
# result; the host reads them from the serial console.
cat >"$TMP/init" <<'GUEST'
#!/bin/sh
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp
mkdir -p /sys/fs/cgroup && mount -t cgroup2 cgroup2 /sys/fs/cgroup
echo "KM-KERNEL $(uname -r) $(uname -m)"
fail=0
ok() { echo "KM-OK $*"; }
bad() { echo "KM-FAIL $*"; fail=1; }
# trace OUT ARGS...: starts the tracer, returns once it is attached.
trace() {
  out=$1
  shift
  /systrace-tui --no-tui --color never "$@" >"$out" 2>"$out.err" &
  TR=$!
  i=0
  while ! grep -q 'tracing' "$out.err"; do
    i=$((i + 1))
    if [ $i -gt 600 ] || ! kill -0 $TR 2>/dev/null; then
      tail -30 "$out.err" | sed 's/^/KM-LOG /'
      return 1
    fi
    sleep 0.2
  done
  sed -n '/^systrace-tui: kernel /s/^/KM-LOG /p' "$out.err"
}
untrace() {
  kill -INT $TR
  wait $TR
  sed -n '/captured/s/^/KM-LOG /p' "$out.err"
}
count() { grep -c -F "$1" "$2" || true; }

if trace /tmp/a -v --comm '^workload$'; then
  /workload known /km-missing
  /workload getppid 1000
  untrace
  n=$(count ' getppid() = ' /tmp/a)
  [ "$n" = 1100 ] && ok "exact count: 1100 getppid" || bad "exact count: $n getppid, not 1100"
  if grep -q -F 'execve("/workload", ["/workload", "getppid", "1000"], 0x' /tmp/a; then
    ok "execve with argv"
  else
    bad "execve with argv"; grep -F execve /tmp/a | sed 's/^/KM-LOG /'
  fi
  if grep -q -F 'openat(AT_FDCWD, "/km-missing", O_RDONLY) = -1 ENOENT' /tmp/a; then
    ok "openat ENOENT"
  else
    bad "openat ENOENT"; grep -F km-missing /tmp/a | sed 's/^/KM-LOG /'
  fi
  grep -q ' 0 lost' /tmp/a.err && ok "nothing lost" || bad "events lost"
else
  bad "the tracer did not start"
fi

mkfifo /tmp/gate
/workload gated-getppid 500 </tmp/gate &
G=$!
if trace /tmp/b -p $G; then
  exec 3>/tmp/gate
  /workload getppid 300
  echo x >&3
  exec 3>&-
  wait $G
  untrace
  n=$(count ' getppid() = ' /tmp/b)
  other=$(grep -v -c -F "[$G/" /tmp/b || true)
  if [ "$n" = 500 ] && [ "$other" = 0 ]; then
    ok "pid filter: 500 getppid of $G only"
  else
    bad "pid filter: $n getppid, $other lines of other processes"
  fi
else
  bad "the tracer did not start with -p"
  kill $G
fi

# Counting in the kernel (--summary with nothing else that needs events):
# exact counts from the aggregation map, and the compat program forced too;
# then -q alone, which counts without times (another path of the program,
# verified on this kernel only when asked for).
for run in summary compat:summary quiet compat:quiet; do
  variant=${run%%:*}
  [ "$variant" = "$run" ] && variant=
  mode=${run##*:}
  mkfifo /tmp/gate2
  # Opened here first, so the workload's own open does not wait for a
  # writer: it execs (its loader's failed opens) before tracing starts.
  exec 3<>/tmp/gate2
  /workload counted 700 9 /km-missing2 </tmp/gate2 &
  G2=$!
  i=0
  until [ "$(readlink /proc/$G2/exe)" = /workload ] && grep -q '^State:.*S' /proc/$G2/status; do
    i=$((i + 1))
    [ $i -gt 100 ] && break
    sleep 0.1
  done
  if [ -n "$variant" ]; then export SYSTRACE_TUI_BPF_VARIANT=$variant; fi
  # A file of its own per run: `trace` must not find the last run's line.
  s=/tmp/s-${variant:-default}-$mode
  if trace $s --$mode -p $G2; then
    echo x >&3
    exec 3>&-
    wait $G2
    untrace
    if [ "$mode" = summary ]; then
      g=$(awk '$9 == "getppid" { print $4 "/" $5 }' $s.err)
      o=$(awk '$9 == "openat" { print $4 "/" $5 }' $s.err)
      if [ "$g" = 700/0 ] && [ "$o" = 9/9 ] && grep -q 'counted in the kernel), 0 lost' $s.err; then
        ok "counted in the kernel ${variant:-default}: 700 getppid, 9 failed openat"
      else
        bad "counted in the kernel ${variant:-default}: getppid $g, openat $o"
        sed 's/^/KM-LOG /' $s.err
      fi
    else
      # Only a total: the 709 calls, the gated read, the way out.
      n=$(sed -n 's/^systrace-tui: \([0-9]*\) events captured (counted in the kernel), 0 lost$/\1/p' $s.err)
      if [ -n "$n" ] && [ "$n" -ge 710 ]; then
        ok "counted without times ${variant:-default}: $n calls of the workload (700 getppid, 9 openat and more)"
      else
        bad "counted without times ${variant:-default}: '$n'"
        sed 's/^/KM-LOG /' $s.err
      fi
    fi
  else
    bad "the tracer did not start with --$mode ${variant:-default}"
    kill $G2
    exec 3>&-
  fi
  rm -f /tmp/gate2
  unset SYSTRACE_TUI_BPF_VARIANT
done

if [ -n "$KM_BENCH" ]; then
  # Overhead: the same getppid storm untraced, under full capture with the
  # program this kernel gets, and with the compat program forced (the
  # fallback's own cost on a kernel that has both), round-robin.
  for r in 1 2 3; do
    /workload storm getppid 2 | sed 's/^/KM-BENCH untraced /'
    # --comm needs the events: full capture (plain -q only counts).
    if trace /tmp/c --quiet --comm .; then
      /workload storm getppid 2 | sed 's/^/KM-BENCH traced /'
      untrace
    fi
    if trace /tmp/c --quiet; then
      /workload storm getppid 2 | sed 's/^/KM-BENCH counted /'
      untrace
    fi
    if SYSTRACE_TUI_BPF_VARIANT=compat trace /tmp/c --quiet --comm .; then
      /workload storm getppid 2 | sed 's/^/KM-BENCH compat /'
      untrace
    fi
  done
fi
echo "KM-DONE $fail"
poweroff -f
GUEST
chmod +x "$TMP/init"

# libs BINARY ROOT: the dynamic loader and libraries BINARY needs, copied
# from the host (x86_64) or the arm64 multiarch/cross directories.
libs() {
  local bin=$1 root=$2 arch=$3 lib f dirs interp
  if [ "$arch" = x86_64 ]; then
    dirs="/lib/x86_64-linux-gnu /usr/lib/x86_64-linux-gnu"
  else
    dirs="/usr/aarch64-linux-gnu/lib /usr/lib/aarch64-linux-gnu /lib/aarch64-linux-gnu"
  fi
  interp=$(readelf -l "$bin" | sed -n 's/.*interpreter: \(.*\)\]/\1/p')
  mkdir -p "$root$(dirname "$interp")" "$root/lib"
  for lib in $(readelf -d "$bin" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p') "$(basename "$interp")"; do
    for d in $dirs; do
      f=$d/$lib
      [ -e "$f" ] && break
    done
    [ -e "$f" ] || { echo "kernel-matrix: $lib for $bin not found" >&2; return 1; }
    cp -L "$f" "$root/lib/$lib"
  done
  cp -L "$root/lib/$(basename "$interp")" "$root$interp" 2>/dev/null || true
  # glibc looks in /lib/<triplet> and /lib64; one directory holds them all.
  for d in lib64 usr/lib; do mkdir -p "$root/$d"; done
  if [ "$arch" = x86_64 ]; then
    ln -sfn ../lib "$root/lib/x86_64-linux-gnu" 2>/dev/null || true
  else
    ln -sfn ../lib "$root/lib/aarch64-linux-gnu" 2>/dev/null || true
  fi
}

# initramfs ARCH OUT: busybox, the tracer, the workload, their libraries.
initramfs() {
  local arch=$1 out=$2 root=$TMP/root-$1 bindir busybox
  rm -rf "$root"
  mkdir -p "$root"/{bin,proc,sys,dev,tmp}
  if [ "$arch" = x86_64 ]; then
    bindir=target/debug
    busybox=/usr/bin/busybox
  else
    bindir=target/aarch64-unknown-linux-gnu/debug
    busybox=$CACHE/busybox-arm64
    fetch "$busybox" $BUSYBOX_ARM64 ./bin/busybox
  fi
  cp "$busybox" "$root/bin/busybox"
  chmod +x "$root/bin/busybox"
  for a in sh mount mkdir grep sed sleep kill mkfifo cat poweroff uname awk rm readlink; do
    ln -s busybox "$root/bin/$a"
  done
  cp "$bindir/systrace-tui" "$bindir/examples/workload" "$root/"
  libs "$root/systrace-tui" "$root" "$arch"
  libs "$root/workload" "$root" "$arch"
  cp "$TMP/init" "$root/init"
  (cd "$root" && find . | busybox cpio -o -H newc 2>/dev/null | gzip -1) >"$out"
}

ACCEL=""
# boot ARCH VMLINUZ INITRD LOG: one guest; its console goes to LOG.
boot() {
  local arch=$1 kernel=$2 initrd=$3 log=$4 append="panic=-1 quiet"
  [ "$BENCH" = 1 ] && append="$append KM_BENCH=1"
  local q=(-m 1024 -smp 2 -nographic -no-reboot -kernel "$kernel" -initrd "$initrd")
  if [ "$arch" = x86_64 ]; then
    q=(qemu-system-x86_64 "${q[@]}" -append "console=ttyS0 $append")
    # KVM when it works here; nested KVM often does not (MSR errors).
    if [ -z "$ACCEL" ]; then
      ACCEL="-accel tcg -cpu max"
      if [ -w /dev/kvm ] && timeout 20 "${q[@]}" -accel kvm -cpu host -append "console=ttyS0 rdinit=/bin/poweroff panic=-1" >"$log" 2>&1 &&
        grep -q 'Linux version' "$log"; then
        ACCEL="-accel kvm -cpu host"
      fi
      echo "kernel-matrix: x86_64 guests use ${ACCEL#-accel }" >&2
    fi
    # shellcheck disable=SC2206
    q+=($ACCEL)
  else
    q=(qemu-system-aarch64 -M virt -cpu max "${q[@]}" -append "console=ttyAMA0 $append")
  fi
  timeout 600 "${q[@]}" </dev/null >"$log" 2>&1 || true
}

failed=()
passed=()
for k in "${KERNELS[@]}"; do
  read -r name arch pool sha <<<"$k"
  if [ -n "$ONLY" ] && [[ "$name $arch" != *"$ONLY"* ]]; then
    continue
  fi
  if [ "$arch" = aarch64 ] && [ ! -x target/aarch64-unknown-linux-gnu/debug/systrace-tui ]; then
    if [ "${REQUIRE_ARM64:-0}" = 1 ]; then
      failed+=("$name (no aarch64 build)")
    else
      echo "kernel-matrix: $name skipped: no aarch64 build (scripts/cross-aarch64.sh)" >&2
    fi
    continue
  fi
  fetch "$CACHE/vmlinuz-$name" "$pool" "$sha" "./boot/vmlinuz-$name"
  [ -s "$TMP/initrd-$arch" ] || initramfs "$arch" "$TMP/initrd-$arch"
  start=$(date +%s)
  boot "$arch" "$CACHE/vmlinuz-$name" "$TMP/initrd-$arch" "$TMP/log-$name"
  secs=$(($(date +%s) - start))
  tr -d '\r' <"$TMP/log-$name" | grep '^KM' | sed "s/^/[$name] /" || true
  if [ "$BENCH" = 1 ]; then
    # Median rate per case, and its ratio to the untraced median.
    base=""
    for c in untraced traced counted compat; do
      m=$(tr -d '\r' <"$TMP/log-$name" | awk -v c="$c" '$1 == "KM-BENCH" && $2 == c { print $4 }' | sort -n |
        awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }')
      [ -n "$m" ] || continue
      [ "$c" = untraced ] && base=$m
      echo "bench $name $c: $m calls/s, ratio $(awk -v m="$m" -v b="${base:-0}" 'BEGIN { if (b > 0) printf "%.3f", m / b; else print "-" }')"
    done
  fi
  if tr -d '\r' <"$TMP/log-$name" | grep -q '^KM-DONE 0'; then
    passed+=("$name (${secs}s)")
  else
    failed+=("$name")
    if ! grep -q '^KM-DONE' "$TMP/log-$name"; then
      echo "[$name] the guest did not finish; its console ends with:" >&2
      tail -20 "$TMP/log-$name" >&2
    fi
  fi
done
echo "kernel-matrix: passed: ${passed[*]:-none}"
if [ ${#failed[@]} -gt 0 ]; then
  echo "kernel-matrix: FAILED: ${failed[*]}" >&2
  exit 1
fi
