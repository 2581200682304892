#!/usr/bin/env bash
# Cost of `tollgate gpu` with 8 GPUs (the scripted fake NVML): time per
# /metrics scrape when every scrape collects (-c 0, the worst case) and when
# served from the cache (default -c 30000), RSS after the scrapes, and CPU
# used while idle. Runs everything ROUNDS times and prints the medians.
#
#   bench/gpu_scrape.sh            # needs build/tollgate and build/libfake_nvml.so (make build)
#   ROUNDS=3 SECONDS_PER_RUN=5 bench/gpu_scrape.sh
#
# The fake NVML answers from memory, so this measures the exporter itself
# (collection logic, rendering, HTTP); a real driver adds its own ioctl time
# per NVML call (see docs/gpu.md).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${TOLLGATE_BIN:-build/tollgate}
LIB=${FAKE_NVML:-build/libfake_nvml.so}
ROUNDS=${ROUNDS:-3}
DUR=${SECONDS_PER_RUN:-5}
IDLE=${IDLE_SECONDS:-10}
[ -x "$BIN" ] && [ -f "$LIB" ] || { echo "build first: make build" >&2; exit 1; }
command -v wrk >/dev/null || { echo "wrk not found" >&2; exit 1; }

start() { # $1 = collect interval ms; sets PID PORT LOG
  LOG=$(mktemp)
  FAKE_NVML_SCENARIO=8gpu "$BIN" gpu --port 0 --address 127.0.0.1 --nvml-lib "$LIB" -c "$1" 2>"$LOG" &
  PID=$!
  for _ in $(seq 1 200); do
    PORT=$(sed -n 's/.*listening on http:\/\/[^:]*:\([0-9]*\).*/\1/p' "$LOG")
    [ -n "$PORT" ] && return 0
    sleep 0.05
  done
  echo "did not start: $(cat "$LOG")" >&2; exit 1
}
stop() { kill "$PID"; wait "$PID" 2>/dev/null || true; rm -f "$LOG"; }
ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
to_ms() { # wrk latency like 412.00us / 1.20ms / 2.00s -> ms
  awk '{v=$1; if (v ~ /us$/) {sub(/us$/,"",v); print v/1000} else if (v ~ /ms$/) {sub(/ms$/,"",v); print v} else if (v ~ /s$/) {sub(/s$/,"",v); print v*1000} else print v}'
}

declare -a P50_COLD P99_COLD RPS_COLD P50_HOT RPS_HOT RSS IDLE_CPU COLLECT BYTES
HZ=$(getconf CLK_TCK)
for r in $(seq 1 "$ROUNDS"); do
  start 0
  curl -s "http://127.0.0.1:$PORT/metrics" >/dev/null
  BYTES+=("$(curl -s "http://127.0.0.1:$PORT/metrics" | wc -c)")
  out=$(wrk -t1 -c1 -d"${DUR}s" --latency "http://127.0.0.1:$PORT/metrics")
  P50_COLD+=("$(echo "$out" | awk '$1=="50%"{print $2}' | to_ms)")
  P99_COLD+=("$(echo "$out" | awk '$1=="99%"{print $2}' | to_ms)")
  RPS_COLD+=("$(echo "$out" | awk '/Requests\/sec/{print $2}')")
  COLLECT+=("$(curl -s "http://127.0.0.1:$PORT/metrics" | awk '/^tollgate_gpu_collect_duration_seconds /{printf "%.3f", $2*1000}')")
  RSS+=("$(awk '/VmRSS/{printf "%.1f", $2/1024}' "/proc/$PID/status")")
  t0=$(ticks "$PID"); sleep "$IDLE"; t1=$(ticks "$PID")
  IDLE_CPU+=("$(awk -v a="$t0" -v b="$t1" -v hz="$HZ" -v s="$IDLE" 'BEGIN{printf "%.3f", (b-a)/hz/s*100}')")
  stop
  start 30000
  out=$(wrk -t1 -c4 -d"${DUR}s" --latency "http://127.0.0.1:$PORT/metrics")
  P50_HOT+=("$(echo "$out" | awk '$1=="50%"{print $2}' | to_ms)")
  RPS_HOT+=("$(echo "$out" | awk '/Requests\/sec/{print $2}')")
  stop
done
m() { printf '%s\n' "$@" | median; }
echo "tollgate gpu, 8 fake GPUs, default counters, $ROUNDS rounds (medians)"
echo "  body size:                          $(m "${BYTES[@]}") bytes"
echo "  scrape with collection (-c 0):      p50 $(m "${P50_COLD[@]}") ms, p99 $(m "${P99_COLD[@]}") ms, $(m "${RPS_COLD[@]}") scrapes/s (1 client)"
echo "  collection alone (NVML + render):   $(m "${COLLECT[@]}") ms"
echo "  cached scrape (-c 30000, 4 clients): p50 $(m "${P50_HOT[@]}") ms, $(m "${RPS_HOT[@]}") scrapes/s"
echo "  RSS after scrapes:                  $(m "${RSS[@]}") MiB"
echo "  idle CPU over ${IDLE}s:                $(m "${IDLE_CPU[@]}") % of one core"
