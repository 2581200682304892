#!/usr/bin/env bash
# Per-token cost of the stream translation (src/translate/):
# builds bench/translate_bench.c against the release library and runs it.
# Usage: make build && bench/translate.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$root/build}
[ -f "$build/libtollgate_core.a" ] || { echo "run 'make build' first" >&2; exit 1; }
bin=$(mktemp)
trap 'rm -f "$bin"' EXIT
# gnu11: the benchmark uses a statement expression for its median macro.
cc -O2 -std=gnu11 -I"$root/src" "$root/bench/translate_bench.c" "$build/libtollgate_core.a" \
   $(pkg-config --cflags --libs jansson) -lpthread -lm -o "$bin"
"$bin"
