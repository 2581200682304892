#!/usr/bin/env bash
# Benchmarks tollgate sim on 127.0.0.1 (figures go to docs/benchmarks.md).
#   bench/sim.sh [RUNS]   (default 3 runs; report the median)
# 1) wrk, non-streaming POST /api/generate (bench/sim_generate.lua)
# 2) wrk, GET /api/version
# 3) 5000 concurrent streaming /api/chat requests, 24 tokens each at 20 ms
#    per token (bench/sim_streams.mjs): every token of every stream counted.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${TOLLGATE_BIN:-build/tollgate}
RUNS=${1:-3}
WRK_THREADS=${WRK_THREADS:-2}
WRK_CONNS=${WRK_CONNS:-64}
WRK_SECS=${WRK_SECS:-5}
STREAMS=${STREAMS:-5000}
LOG=$(mktemp)
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

start_sim() {
  "$BIN" sim --port 0 --quiet "$@" >"$LOG" 2>&1 &
  SIM_PID=$!
  for _ in $(seq 100); do
    PORT=$(grep -o 'listening on http://[^ ]*' "$LOG" | sed 's/.*://' || true)
    [ -n "$PORT" ] && return 0
    kill -0 "$SIM_PID" 2>/dev/null || { cat "$LOG"; exit 1; }
    sleep 0.05 # waiting for a child process to bind; not a test
  done
  echo "sim did not start"; cat "$LOG"; exit 1
}
stop_sim() { kill "$SIM_PID" && wait "$SIM_PID" 2>/dev/null || true; }
trap 'kill $SIM_PID 2>/dev/null || true; rm -f "$LOG"' EXIT

start_sim --ttft-ms 0 --token-ms 0 --load-ms 0 --num-parallel 64
curl -s "http://127.0.0.1:$PORT/api/generate" -d '{"model":"llama3.2:3b","prompt":"warm","stream":false}' >/dev/null
for i in $(seq "$RUNS"); do
  echo "run $i generate: $(wrk -t"$WRK_THREADS" -c"$WRK_CONNS" -d"${WRK_SECS}s" -s bench/sim_generate.lua "http://127.0.0.1:$PORT" | grep -E 'Requests/sec|Non-2xx' | tr -s ' ')"
  echo "run $i version:  $(wrk -t"$WRK_THREADS" -c"$WRK_CONNS" -d"${WRK_SECS}s" "http://127.0.0.1:$PORT/api/version" | grep -E 'Requests/sec|Non-2xx' | tr -s ' ')"
done
stop_sim

start_sim --ttft-ms 80 --token-ms 20 --load-ms 0 --num-parallel "$STREAMS"
curl -s "http://127.0.0.1:$PORT/api/generate" -d '{"model":"llama3.2:3b","prompt":"warm","stream":false}' >/dev/null
for i in $(seq "$RUNS"); do
  echo "run $i streams:  $(node bench/sim_streams.mjs "$PORT" "$STREAMS" 24 60)"
  echo "          sim RSS: $(ps -o rss= -p "$SIM_PID" | tr -d ' ') KiB"
done
stop_sim
