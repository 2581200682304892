#!/usr/bin/env bash
# Tracing overhead, in one run: wrk against two `tollgate serve --threads 1`
# in front of the same static OpenAI-compatible backend (nginx `return 200`
# with a fixed chat completion, as bench/run.sh), one with OpenTelemetry off
# and one exporting every request (OTEL_TRACES_SAMPLER=always_on, default
# batch settings) to a local OTLP/HTTP sink (nginx answering 200 to every
# POST, bodies discarded). Non-streaming, 64 connections, rounds alternating
# off/on, medians. Prints throughput, the on/off ratio, and the spans the
# exporting gateway dropped. Loopback only; bounded in time.
#   bench/otel.sh [DURATION_S] [ROUNDS]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dur=${1:-5} rounds=${2:-3}
bin=${TOLLGATE_BIN:-$root/build/tollgate}
command -v wrk >/dev/null || { echo "bench: wrk missing (apt-get install wrk)" >&2; exit 1; }
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$nginx_bin" ] || { echo "bench: nginx missing (apt-get install nginx-light)" >&2; exit 1; }
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
BACK=$(free_port) SINK=$(free_port) OFF=$(free_port) ON=$(free_port)
body='{"id":"chatcmpl-bench","object":"chat.completion","created":1700000000,"model":"llama3.2:3b","choices":[{"index":0,"message":{"role":"assistant","content":"Hello! How can I help you today?"},"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":8,"total_tokens":20}}'
mkdir -p "$work/nginx"
cat > "$work/nginx.conf" <<NGX
worker_processes 1;
pid $work/nginx.pid;
error_log $work/nginx-error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $work/nginx; proxy_temp_path $work/nginx;
  fastcgi_temp_path $work/nginx; uwsgi_temp_path $work/nginx; scgi_temp_path $work/nginx;
  keepalive_requests 1000000;
  client_max_body_size 64m;
  server { listen 127.0.0.1:$BACK; location / { default_type application/json; return 200 '$body'; } }
  server { listen 127.0.0.1:$SINK; location / { default_type application/x-protobuf; return 200 ''; } }
}
NGX
"$nginx_bin" -c "$work/nginx.conf" -g 'daemon off;' 2>"$work/nginx.out" &
pids+=($!)
cat > "$work/config.yaml" <<YAML
model_list:
  - model_name: bench
    litellm_params:
      model: openai/llama3.2:3b
      api_base: http://127.0.0.1:$BACK/v1
      api_key: none
YAML
serve() { # port log [env...]
  local port=$1 log=$2
  shift 2
  env -u OTEL_EXPORTER_OTLP_ENDPOINT "$@" "$bin" serve --config "$work/config.yaml" --port "$port" --host 127.0.0.1 \
    --threads 1 --poll-interval 0 --log-level warn 2>"$work/$log" &
  pids+=($!)
}
serve "$OFF" off.log
serve "$ON" on.log OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$SINK" OTEL_TRACES_SAMPLER=always_on
for port in $BACK $SINK $OFF $ON; do
  for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.05; done
done
for port in $OFF $ON; do
  curl -sf -X POST "http://127.0.0.1:$port/v1/chat/completions" -H 'Content-Type: application/json' \
    -d '{"model":"bench","messages":[{"role":"user","content":"hi"}]}' >/dev/null || { echo "bench: tollgate on $port not answering"; cat "$work"/*.log; exit 1; }
done

rps() { wrk -t1 -c64 -d"${dur}s" -s "$root/bench/chat.lua" "$1" 2>/dev/null | awk '/Requests\/sec/ {printf "%d\n", $2}'; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
off="" on=""
for i in $(seq "$rounds"); do
  off+="$(rps "http://127.0.0.1:$OFF/v1/chat/completions") "
  on+="$(rps "http://127.0.0.1:$ON/v1/chat/completions") "
done
m_off=$(echo "$off" | tr ' ' '\n' | grep . | median)
m_on=$(echo "$on" | tr ' ' '\n' | grep . | median)
dropped=$(curl -s "http://127.0.0.1:$ON/metrics" | awk '$1=="tollgate_otel_dropped_spans_total" {print $2}')
echo "rounds (rps, off): $off"
echo "rounds (rps, on):  $on"
printf 'median rps: off %s, on %s; on/off %.3f (median of %d alternating rounds of %ss, 64 conns)\n' \
  "$m_off" "$m_on" "$(awk -v a="$m_on" -v b="$m_off" 'BEGIN {print a/b}')" "$rounds" "$dur"
echo "spans dropped by the exporting gateway: ${dropped:-?}"
