#!/bin/bash
# Benchmark of kgpc's checks against the real kernel (issue 3; the targets are issue 11's), with pahole as the peer:
#   - the first `kgpc check` of a spec, with an empty index cache (the full DWARF scan), 3 times;
#   - later checks, which map the on-disk index;
#   - `pahole -F dwarf --sizes` on the same vmlinux (a full DWARF load).
# Prints wall time and peak memory of each, the ratios and whether the targets are met
# (issue 11): first check <= 1/15 of pahole's wall time and <= 300 MB, later checks <= 10 ms.
#
# Usage: bench/kernel-facts.sh [VMLINUX]   (default: Debian 12's debug vmlinux, fetched and cached
#        by `kgpc kernel fetch`). Needs /usr/bin/time and pahole (package dwarves).
set -euo pipefail
# Numbers (bash's clock, awk) in one notation, whatever the user's locale.
export LC_ALL=C
cd "$(dirname "$0")/.."

command -v pahole >/dev/null || { echo "bench: pahole is missing: apt-get install dwarves" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "bench: /usr/bin/time is missing: apt-get install time" >&2; exit 1; }
cargo build --release --quiet
kgpc=$PWD/target/release/kgpc
vmlinux=${1:-$("$kgpc" kernel fetch --print vmlinux)}
release=$(basename "$vmlinux"); release=${release#vmlinux-}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat >"$work/fix.kgp" <<SPEC
patch bench { description "Benchmark spec" }
target { release "$release" arch x86_64 }
include <linux/seq_file.h>
object vmlinux {
    replace cmdline_proc_show {
        seq_puts(m, "patched\n");
        return 0;
    }
    replace int show_stat(struct seq_file *p, void *v) { return 0; }
    extern char *saved_command_line;
}
SPEC

# measure COMMAND...: runs it under /usr/bin/time -v; sets wall (seconds, from bash's
# microsecond clock, which forks nothing, since time's own figure counts hundredths and
# a `date` on each side would add its own start-up) and rss (MB).
measure() {
  local log=$work/time.log start end
  start=$EPOCHREALTIME
  /usr/bin/time -v "$@" >/dev/null 2>"$log" || { cat "$log" >&2; exit 1; }
  end=$EPOCHREALTIME
  wall=$(awk -v a="$start" -v b="$end" 'BEGIN {printf "%.4f", b - a}')
  rss=$(awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2 / 1024}' "$log")
}

echo "vmlinux: $vmlinux ($(($(stat -c %s "$vmlinux") >> 20)) MB), $(nproc) cores"
export KGPC_CACHE_DIR=$work/cache
# The first check, from an empty cache each time: the median of 3, the largest peak.
first=() first_rss=0
for _ in 1 2 3; do
  rm -rf "$KGPC_CACHE_DIR"
  measure "$kgpc" check "$work/fix.kgp" --vmlinux "$vmlinux"
  first+=("$wall")
  if [ "$rss" -gt "$first_rss" ]; then first_rss=$rss; fi
done
first_wall=$(printf '%s\n' "${first[@]}" | sort -n | sed -n 2p)
later=()
for _ in 1 2 3 4 5; do
  measure "$kgpc" check "$work/fix.kgp" --vmlinux "$vmlinux"
  later+=("$wall")
done
later_wall=$(printf '%s\n' "${later[@]}" | sort -n | sed -n 3p)
later_rss=$rss
measure pahole -F dwarf --sizes "$vmlinux"
pahole_wall=$wall pahole_rss=$rss

awk -v fw="$first_wall" -v fr="$first_rss" -v lw="$later_wall" -v lr="$later_rss" \
    -v pw="$pahole_wall" -v pr="$pahole_rss" 'BEGIN {
  printf "%-40s %9s %9s\n", "", "wall", "peak RSS"
  printf "%-40s %8.2fs %7d MB\n", "kgpc check, first (median of 3)", fw, fr
  printf "%-40s %7.1fms %7d MB\n", "kgpc check, later (median of 5)", lw * 1000, lr
  printf "%-40s %8.2fs %7d MB\n", "pahole -F dwarf --sizes", pw, pr
  printf "first check / pahole: %.3f of the wall time (target <= %.3f), %.3f of the memory\n", fw / pw, 1 / 15, fr / pr
  printf "pahole / later check: %.0f times the wall time\n", pw / lw
  ok = (fw <= pw / 15) && (fr <= 300) && (lw <= 0.010)
  printf "targets: first <= pahole/15: %s; first <= 300 MB: %s; later <= 10 ms: %s\n", \
    (fw <= pw / 15 ? "met" : "MISSED"), (fr <= 300 ? "met" : "MISSED"), (lw <= 0.010 ? "met" : "MISSED")
  exit ok ? 0 : 1
}'
