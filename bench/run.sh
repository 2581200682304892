#!/usr/bin/env bash
# Gateway overhead, in one run: wrk against
#   (a) a static OpenAI-compatible backend (nginx `return 200` with a fixed chat completion),
#   (b) nginx as a reverse proxy in front of it (keep-alive upstream),
#   (c) tollgate serve in front of it (openai/ provider, metrics on),
# at high concurrency (throughput) and at concurrency 1 (added latency).
# Each proxy gets one worker so the comparison is per core. Repeats REPEAT
# times and prints medians and ratios. Loopback only; bounded in time.
#   bench/run.sh [DURATION_S] [REPEAT]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dur=${1:-5} repeat=${2:-3}
bin=${TOLLGATE_BIN:-$root/build/tollgate}
command -v wrk >/dev/null || { echo "bench: wrk missing (apt-get install wrk)" >&2; exit 1; }
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || { echo "bench: nginx missing (apt-get install nginx-light)" >&2; exit 1; }
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
BACK=$(free_port) NGX=$(free_port) TG=$(free_port)
body='{"id":"chatcmpl-bench","object":"chat.completion","created":1700000000,"model":"llama3.2:3b","choices":[{"index":0,"message":{"role":"assistant","content":"Hello! How can I help you today?"},"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":8,"total_tokens":20}}'
mkdir -p "$work/nginx"
# Two nginx instances, one worker each: the backend, and the proxy under test.
nginx_conf() { # name workers server-block
  cat > "$work/$1.conf" <<NGX
worker_processes $2;
pid $work/$1.pid;
error_log $work/$1-error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $work/nginx; proxy_temp_path $work/nginx;
  fastcgi_temp_path $work/nginx; uwsgi_temp_path $work/nginx; scgi_temp_path $work/nginx;
  keepalive_requests 1000000;
  $3
}
NGX
  "$nginx_bin" -c "$work/$1.conf" -g 'daemon off;' 2>"$work/$1.out" &
  pids+=($!)
}
nginx_conf backend 1 "server { listen 127.0.0.1:$BACK; location / { default_type application/json; return 200 '$body'; } }"
nginx_conf proxy 1 "upstream backend { server 127.0.0.1:$BACK; keepalive 256; }
  server { listen 127.0.0.1:$NGX;
    location / { proxy_pass http://backend; proxy_http_version 1.1; proxy_set_header Connection \"\"; proxy_buffering off; } }"
cat > "$work/config.yaml" <<YAML
model_list:
  - model_name: bench
    litellm_params:
      model: openai/llama3.2:3b
      api_base: http://127.0.0.1:$BACK/v1
      api_key: none
litellm_settings:
  callbacks: ["prometheus"]
YAML
"$bin" serve --config "$work/config.yaml" --port "$TG" --host 127.0.0.1 --threads 1 --poll-interval 0 --log-level warn 2>"$work/tg.log" &
tg_pid=$!
pids+=($tg_pid)
for port in $BACK $NGX $TG; do
  for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.05; done
done
curl -sf -X POST "http://127.0.0.1:$TG/v1/chat/completions" -H 'Content-Type: application/json' \
  -d '{"model":"bench","messages":[{"role":"user","content":"hi"}]}' >/dev/null || { echo "bench: tollgate not answering"; cat "$work/tg.log"; exit 1; }

# wrk prints Requests/sec and latency percentiles; keep rps, p50, p99 (µs).
run_wrk() { # url conns threads
  wrk -t"$3" -c"$2" -d"${dur}s" --latency -s "$root/bench/chat.lua" "$1" 2>/dev/null | awk '
    function us(v){ if (v ~ /us$/) return v+0; if (v ~ /ms$/) return (v+0)*1000; if (v ~ /s$/) return (v+0)*1e6; return v }
    /Requests\/sec/ {rps=$2} $1=="50%" {p50=us($2)} $1=="99%" {p99=us($2)}
    END {printf "%d %.0f %.0f\n", rps, p50, p99}'
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

declare -A res
for i in $(seq "$repeat"); do
  for target in direct nginx tollgate; do
    case $target in direct) url=http://127.0.0.1:$BACK/v1/chat/completions ;;
      nginx) url=http://127.0.0.1:$NGX/v1/chat/completions ;; tollgate) url=http://127.0.0.1:$TG/v1/chat/completions ;; esac
    read -r rps _ _ < <(run_wrk "$url" 64 1)
    read -r _ p50 p99 < <(run_wrk "$url" 1 1)
    res[$target,rps]+="$rps "; res[$target,p50]+="$p50 "; res[$target,p99]+="$p99 "
  done
done
printf '\n%-10s %12s %12s %12s   (median of %d runs of %ss; rps at 64 conns, latency at 1 conn)\n' target rps p50_us p99_us "$repeat" "$dur"
for target in direct nginx tollgate; do
  for k in rps p50 p99; do declare "m_${target}_$k=$(echo "${res[$target,$k]}" | tr ' ' '\n' | grep . | median)"; done
  eval "printf '%-10s %12s %12s %12s\n' $target \$m_${target}_rps \$m_${target}_p50 \$m_${target}_p99"
done
awk -v tr="$m_tollgate_rps" -v nr="$m_nginx_rps" -v t50="$m_tollgate_p50" -v n50="$m_nginx_p50" -v t99="$m_tollgate_p99" -v n99="$m_nginx_p99" \
    -v d50="$m_direct_p50" -v d99="$m_direct_p99" 'BEGIN {
  printf "\ntollgate/nginx throughput: %.2fx\n", tr/nr
  printf "added latency p50: nginx %+d us, tollgate %+d us\n", n50-d50, t50-d50
  printf "added latency p99: nginx %+d us, tollgate %+d us\n", n99-d99, t99-d99 }'
echo
echo "tollgate RSS after the run: $(ps -o rss= -p "$tg_pid") KiB"
