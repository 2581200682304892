#!/bin/sh
# Scrape-time benchmark of the metrics registry (docs/benchmarks.md, "Metrics registry").
#   bench/metrics_scrape.sh [scrapes] [created]
# Builds bench/metrics_scrape.c against build/libtollgate_core.a (run `make build` first).
set -eu
cd "$(dirname "$0")/.."
[ -f build/libtollgate_core.a ] || { echo "run 'make build' first" >&2; exit 1; }
mkdir -p build/bench
${CC:-cc} -std=c11 -O2 -D_GNU_SOURCE -Wall -Wextra -Werror -Isrc bench/metrics_scrape.c build/libtollgate_core.a \
    -lpthread -lm -o build/bench/metrics_scrape
exec build/bench/metrics_scrape "$@"
