#!/bin/bash
# Benchmark of the parser's error recovery (issue 10): broken specs must cost time linear
# in their length. Checks, with --no-kernel-checks:
#   - `target {` followed by 8,000 and by 16,000 unclosed `{`;
#   - an object block with 1,000 and with 2,000 lines of `replace int f(void) {`, none closed.
# Prints the wall time of each and the ratio of each pair (linear is about 2) and exits
# non-zero when a ratio exceeds 3.
#
# Usage: bench/parser-recovery.sh
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release --quiet
kgpc=$PWD/target/release/kgpc

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 -c "print('target {\n' + '{' * 8000)" >"$work/braces-8k.kgp"
python3 -c "print('target {\n' + '{' * 16000)" >"$work/braces-16k.kgp"
python3 -c "print('object vmlinux {\n' + 'replace int f(void) {\n' * 1000)" >"$work/replace-1k.kgp"
python3 -c "print('object vmlinux {\n' + 'replace int f(void) {\n' * 2000)" >"$work/replace-2k.kgp"

# measure SPEC: the median wall time in seconds of five checks of SPEC (they fail: the specs are broken).
measure() {
  local times=()
  for _ in 1 2 3 4 5; do
    local start end
    start=$(date +%s.%N)
    "$kgpc" check "$1" --no-kernel-checks >/dev/null 2>&1 || true
    end=$(date +%s.%N)
    times+=("$(awk -v s="$start" -v e="$end" 'BEGIN { printf "%.6f", e - s }')")
  done
  printf '%s\n' "${times[@]}" | sort -n | sed -n 3p
}

b8=$(measure "$work/braces-8k.kgp")
b16=$(measure "$work/braces-16k.kgp")
r1=$(measure "$work/replace-1k.kgp")
r2=$(measure "$work/replace-2k.kgp")

awk -v b8="$b8" -v b16="$b16" -v r1="$r1" -v r2="$r2" 'BEGIN {
  printf "%-44s %9s\n", "", "wall"
  printf "%-44s %7.1fms\n", "8,000 unclosed braces", b8 * 1000
  printf "%-44s %7.1fms\n", "16,000 unclosed braces", b16 * 1000
  printf "%-44s %7.1fms\n", "1,000 unclosed replace lines", r1 * 1000
  printf "%-44s %7.1fms\n", "2,000 unclosed replace lines", r2 * 1000
  # A run too short to measure counts as 1 ms, so that noise cannot divide by zero.
  rb = (b16 > 0.001 ? b16 : 0.001) / (b8 > 0.001 ? b8 : 0.001)
  rr = (r2 > 0.001 ? r2 : 0.001) / (r1 > 0.001 ? r1 : 0.001)
  printf "ratio 16k / 8k braces: %.2f; 2k / 1k replace lines: %.2f (linear is about 2, the limit is 3)\n", rb, rr
  ok = (rb <= 3) && (rr <= 3)
  printf "target: %s\n", ok ? "met" : "MISSED"
  exit ok ? 0 : 1
}'
