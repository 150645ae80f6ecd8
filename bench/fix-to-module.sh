#!/bin/bash
# Benchmark of issue 12: from an upstream fix (`.patch`) to a built module and to a module
# proven in the VM, with kgpc's whole pipeline (apply the patch to the target's source,
# compile the changed files twice with the build tree's flags and compare them, derive the
# closure, generate, kbuild, klp relocations; then boot the target kernel under QEMU).
# Targets (issue 12): .patch to .ko <= 10 s, to proven <= 20 s on a 2-core machine once the
# source is cached. Every run starts without kgpc's kept compiler views, so the compiles count.
#
# The peers, kpatch-build and the kernel's klp-build, build the whole kernel twice (without
# and with the fix). With KGPC_BENCH_KERNEL_BUILD=1 this script also runs `make vmlinux` of the
# same source with the target's .config here (the peers' one build; it takes long on 2 cores)
# and prints the ratio of two such builds to kgpc's time.
#
# Usage: bench/fix-to-module.sh   (needs `kgpc kernel fetch` and `kgpc kernel fetch --source`)
set -euo pipefail
export LC_ALL=C
cd "$(dirname "$0")/.."

cargo build --release --quiet
kgpc=$PWD/target/release/kgpc
"$kgpc" kernel fetch >/dev/null
source_tree=$("$kgpc" kernel fetch --source)
kdir=$("$kgpc" kernel fetch --print kdir --no-dbg)
release=$(basename "$(dirname "$source_tree")")
cache=$(dirname "$(dirname "$(dirname "$source_tree")")")
views=$cache/kernels/$release/fix-views

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# shellcheck source=bench/seconds.sh
. bench/seconds.sh

echo "target: $release, $(nproc) cores"
printf '%-28s %12s %14s\n' "fix" ".patch→.ko" ".patch→proven"
worst_build=0 worst_test=0
for case in cmdline upstream-dm-stripe upstream-nbd-signals inlined syscall upstream-vmsplice-fsnotify function-diffs upstream-virtio-net-hdr; do
  dir=tests/fix/$case
  rm -rf "$views"
  build=$(cd "$dir" && seconds "$kgpc" build fix.kgp -o "$work/$case")
  rm -rf "$views"
  test=$(cd "$dir" && seconds "$kgpc" test fix.kgp)
  printf '%-28s %11ss %13ss\n' "$case" "$build" "$test"
  worst_build=$(awk -v a="$worst_build" -v b="$build" 'BEGIN {print (b > a) ? b : a}')
  worst_test=$(awk -v a="$worst_test" -v b="$test" 'BEGIN {print (b > a) ? b : a}')
done
awk -v b="$worst_build" -v t="$worst_test" 'BEGIN {
  printf "slowest: %.1f s to the module (target <= 10 s: %s), %.1f s to the proof (target <= 20 s: %s)\n",
    b, (b <= 10) ? "met" : "NOT met", t, (t <= 20) ? "met" : "NOT met"
}'

if [ "${KGPC_BENCH_KERNEL_BUILD:-0}" = 1 ]; then
  for tool in flex bison bc pahole; do
    command -v "$tool" >/dev/null || { echo "the kernel build needs $tool: apt-get install flex bison bc dwarves libelf-dev libssl-dev" >&2; exit 1; }
  done
  out=$work/kernel
  mkdir -p "$out"
  cp "$kdir/.config" "$out/.config"
  # Debian's .config names its own signing key; the build makes one of its own.
  sed -i 's|^CONFIG_MODULE_SIG_KEY=.*|CONFIG_MODULE_SIG_KEY="certs/signing_key.pem"|' "$out/.config"
  TIMEFORMAT='%R %U %S'
  { time make -C "$source_tree" O="$out" -j"$(nproc)" olddefconfig vmlinux >"$work/kernel.log" 2>&1 || { tail -20 "$work/kernel.log" >&2; exit 1; }; } 2>"$work/kernel.time"
  read -r wall user sys <"$work/kernel.time"
  awk -v k="$wall" -v u="$user" -v s="$sys" -v b="$worst_build" 'BEGIN {
    printf "make vmlinux of the same source and .config: %.0f s (%.0f s of CPU); the peers build it twice: %.0f s, %.0f times the slowest .patch→.ko above\n", k, u + s, 2 * k, 2 * k / b
  }'
else
  echo "peers: not measured in this run; KGPC_BENCH_KERNEL_BUILD=1 runs the kernel build kpatch-build and klp-build need twice"
fi
