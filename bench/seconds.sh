# Sourced by the benchmarks: `seconds COMMAND...` runs the command with its output in
# "$work/out.log" (the caller's work directory), prints its wall time in seconds to a hundredth,
# and on failure shows the output and stops the benchmark.
seconds() {
  local start end
  start=$EPOCHREALTIME
  "$@" >"$work/out.log" 2>&1 || { cat "$work/out.log" >&2; exit 1; }
  end=$EPOCHREALTIME
  awk -v a="$start" -v b="$end" 'BEGIN {printf "%.2f", b - a}'
}
