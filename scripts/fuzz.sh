#!/usr/bin/env bash
# Runs every libFuzzer target in $1 for $2 seconds each, from its seed corpus
# in tests/fuzz/corpus/<name>/ when there is one. Fails on the first crash.
set -euo pipefail
dir=$1 secs=${2:-30}
root=$(cd "$(dirname "$0")/.." && pwd)
shopt -s nullglob
targets=("$dir"/fuzz_*)
[ ${#targets[@]} -gt 0 ] || { echo "fuzz: no targets in $dir" >&2; exit 1; }
for t in "${targets[@]}"; do
  name=$(basename "$t")
  work=$(mktemp -d)
  seeds=()
  [ -d "$root/tests/fuzz/corpus/$name" ] && seeds=("$root/tests/fuzz/corpus/$name")
  echo "fuzz: $name for ${secs}s"
  if ! "$t" -max_total_time="$secs" -print_final_stats=1 "$work" "${seeds[@]}" >"$work.log" 2>&1; then
    tail -60 "$work.log" >&2
    echo "fuzz: $name FAILED (reproducer: crash-* in $(pwd))" >&2
    exit 1
  fi
  grep -E '^stat::number_of_executed_units' "$work.log" || true
  rm -rf "$work" "$work.log"
done
echo "fuzz: all targets clean"
