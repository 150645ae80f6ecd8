#!/bin/bash
# Benchmark of issue 14: one spec for every cached build of Debian 12's cloud kernel against
# one build. For `kgpc check`, `kgpc build` and `kgpc test` it prints the wall time for the
# newest build alone, then for every build with --all-releases (the builds run side by side,
# as many as there are cores), and the ratio of the two; then the kgpc cache's size, and its
# size without the debug packages (.deb files of -dbg), which the index makes unneeded.
#
# The peers build a module per build too: kpatch-build and klp-build rebuild the whole kernel
# twice for each build. bench/fix-to-module.sh measures one such kernel build here (with
# KGPC_BENCH_KERNEL_BUILD=1: 1982 s wall on this 2-core machine when last run); this script
# prints the peers' time for the fleet from that figure when KGPC_PEER_KERNEL_BUILD_SECONDS
# is set to it.
#
# Usage: bench/fleet.sh [EXAMPLE]   (default examples/livepatch-sample.kgp; fetch the builds first:
#        kgpc kernel fetch '6.1.0-*-cloud-amd64')
set -euo pipefail
export LC_ALL=C
cd "$(dirname "$0")/.."

spec=${1:-examples/livepatch-sample.kgp}
cargo build --release --quiet
kgpc=$PWD/target/release/kgpc
newest=$("$kgpc" kernel fetch --print root | xargs dirname | xargs basename)
builds=$("$kgpc" kernel list | grep -c -- '-cloud-amd64' || true)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# shellcheck source=bench/seconds.sh
. bench/seconds.sh

echo "spec: $spec; newest build $newest; $builds cached cloud builds; $(nproc) cores"
printf '%-8s %10s %16s %8s %14s\n' command "one (s)" "all (s)" ratio "s per build"
for command in check build test; do
  one_out=() all_out=() warm_out=()
  if [ "$command" = build ]; then
    one_out=(-o "$work/one") all_out=(-o "$work/all") warm_out=(-o "$work/warm")
  fi
  # Once to warm the page cache (seven debug vmlinuxes are 4 GiB) and kgpc's own caches, then
  # timed; the timed builds write new directories, so kbuild compiles every module again.
  seconds "$kgpc" "$command" "$spec" --all-releases "${warm_out[@]}" >/dev/null
  one=$(seconds "$kgpc" "$command" "$spec" --release "$newest" "${one_out[@]}")
  all=$(seconds "$kgpc" "$command" "$spec" --all-releases "${all_out[@]}")
  n=$(grep -c '^  6\.' "$work/out.log" || true)
  awk -v c="$command" -v o="$one" -v a="$all" -v n="$n" \
    'BEGIN {printf "%-8s %10.2f %9.2f (%2d) %7.1fx %14.2f\n", c, o, a, n, a / o, a / n}'
  if [ "$command" = build ] && [ -n "${KGPC_PEER_KERNEL_BUILD_SECONDS:-}" ]; then
    awk -v k="$KGPC_PEER_KERNEL_BUILD_SECONDS" -v n="$n" -v a="$all" \
      'BEGIN {printf "peers:   two kernel builds per build, %d builds: %.0f s, %.0fx kgpc'"'"'s all-build time\n", n, 2 * k * n, 2 * k * n / a}'
  fi
done

cache=$("$kgpc" kernel fetch --print root | xargs dirname | xargs dirname | xargs dirname)
total=$(du -sb "$cache" | cut -f1)
dbg_debs=$(find "$cache/debs" -name '*-dbg_*.deb' -printf '%s\n' | awk '{s += $1} END {print s + 0}')
dbg_trees=$(find "$cache/kernels" -path '*/usr/lib/debug/*' -type f -printf '%s\n' | awk '{s += $1} END {print s + 0}')
index=$(du -sb "$cache/index" | cut -f1)
sources=$(find "$cache/kernels" -mindepth 2 -maxdepth 2 -name source -type d -print0 | du -scb --files0-from=- | tail -1 | cut -f1)
awk -v t="$total" -v d="$dbg_debs" -v v="$dbg_trees" -v i="$index" -v s="$sources" 'BEGIN {
  g = 1024 * 1024 * 1024
  printf "cache: %.2f GiB: -dbg packages %.2f GiB, unpacked debug objects %.2f GiB, sources %.2f GiB, indexes %.3f GiB\n", t / g, d / g, v / g, s / g, i / g
  printf "cache without the debug packages and objects (indexes kept): %.2f GiB\n", (t - d - v) / g
}'
