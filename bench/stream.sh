#!/usr/bin/env bash
# Gateway streaming benchmark, in one run: build/streamload against
#   (a) tollgate sim directly (/v1/chat/completions, SSE),
#   (b) nginx as a reverse proxy in front of it (proxy_buffering off, keep-alive upstream, 1 worker),
#   (c) tollgate serve --threads 1 in front of it, through an openai/ deployment (SSE passthrough)
#       and an ollama_chat/ deployment (native NDJSON translated to SSE),
# in three phases:
#   ttft  concurrency 1, sim with --ttft-ms 0, 1-token streams: TTFT p50/p99 over thousands of requests
#         (the sim answers at once, so what is left is the path itself and the difference is the added TTFT);
#   lat   concurrency LAT_CONNS, first token after 5 ms, 64 tokens 5 ms apart: TTFT and gap percentiles;
#   tput  sim with --token-ms 0, 64 connections, 1000-token streams: events/s, and the CPU time the
#         proxy process used per event (utime+stime from /proc, so it does not depend on who else runs);
#   conc  STREAMS (default "1000 10000") streams opened at once, 40 tokens 50 ms apart, every event
#         counted (streamload --expect), peak RSS of the proxies sampled from /proc during the run.
# Targets (TARGETS, default "direct nginx tg-openai tg-ollama"): the *-native ones are Ollama's own
# /api/chat NDJSON stream (options.num_predict) straight from the sim (direct-native), through nginx
# (nginx-native) and through tollgate's native route with an alias (tg-native: model splice + NDJSON
# tap); their "+" columns are against direct-native, and a last table gives tg-native / nginx-native.
# Three sims (one per phase, each with its own timings); nginx and tollgate each front all three.
# Repeats REPEAT times and prints medians and ratios. Loopback only; everything started is stopped.
#   bench/stream.sh [REPEAT]   env: TARGETS, STREAMS, LAT_CONNS, LAT_SECONDS, TPUT_SECONDS, TTFT_SECONDS,
#                              PHASES (default "ttft lat tput conc"), RAW=1 (print every streamload line), KEEP=1 (keep logs)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
repeat=${1:-3}
streams_list=${STREAMS:-"1000 10000"}
lat_conns=${LAT_CONNS:-4} lat_s=${LAT_SECONDS:-6} tput_s=${TPUT_SECONDS:-5} ttft_s=${TTFT_SECONDS:-3}
bin=${TOLLGATE_BIN:-$root/build/tollgate}
load=${STREAMLOAD_BIN:-$root/build/streamload}
[ -x "$bin" ] && [ -x "$load" ] || { echo "bench: run make build first ($bin, $load)" >&2; exit 1; }
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || { echo "bench: nginx missing (apt-get install nginx-light)" >&2; exit 1; }
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)

# Every stream through a proxy holds two descriptors there (client and upstream).
ulimit -n "$(ulimit -Hn)"
fd_max=$(ulimit -n)
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ -n "${KEEP:-}" ]; then echo "bench: logs kept in $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_log() { # file pattern
  for _ in $(seq 200); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.05; done
  echo "bench: no '$2' in $1" >&2; cat "$1" >&2; exit 1
}

# --- the three simulators --------------------------------------------------
declare -A SIM SIMPID
start_sim() { # name flags...
  local name=$1 port; shift
  port=$(free_port)
  "$bin" sim --host 127.0.0.1 --port "$port" --quiet --load-ms 0 --num-parallel 10000 --keep-alive -1 "$@" \
    >"$work/sim-$name.log" 2>&1 &
  pids+=($!)
  SIM[$name]=$port SIMPID[$name]=$!
}
start_sim lat --ttft-ms 5 --token-ms 5
start_sim tput --ttft-ms 0 --token-ms 0
start_sim conc --ttft-ms 50 --token-ms 50
for s in lat tput conc; do wait_log "$work/sim-$s.log" "listening on"; done

# --- nginx, one worker, buffering off ---------------------------------------
NGX_LAT=$(free_port) NGX_TPUT=$(free_port) NGX_CONC=$(free_port)
mkdir -p "$work/nginx"
ngx_server() { # listen-port sim-name
  printf 'upstream sim_%s { server 127.0.0.1:%s; keepalive 1024; }\n' "$2" "${SIM[$2]}"
  printf 'server { listen 127.0.0.1:%s backlog=4096; location / { proxy_pass http://sim_%s; proxy_http_version 1.1;
    proxy_set_header Connection ""; proxy_buffering off; proxy_read_timeout 120s; } }\n' "$1" "$2"
}
cat >"$work/nginx.conf" <<NGX
worker_processes 1;
worker_rlimit_nofile $fd_max;
pid $work/nginx.pid;
error_log $work/nginx-error.log warn;
events { worker_connections $fd_max; }
http {
  access_log off;
  client_body_temp_path $work/nginx; proxy_temp_path $work/nginx;
  fastcgi_temp_path $work/nginx; uwsgi_temp_path $work/nginx; scgi_temp_path $work/nginx;
  keepalive_requests 1000000;
  $(ngx_server "$NGX_LAT" lat)
  $(ngx_server "$NGX_TPUT" tput)
  $(ngx_server "$NGX_CONC" conc)
}
NGX
"$nginx_bin" -c "$work/nginx.conf" -g 'daemon off;' 2>"$work/nginx.out" &
ngx_master=$!
pids+=($ngx_master)

# --- tollgate serve, one thread ---------------------------------------------
TG=$(free_port)
{
  echo "model_list:"
  for s in lat tput conc; do
    printf '  - model_name: oa-%s\n    litellm_params:\n      model: openai/llama3.2:3b\n      api_base: http://127.0.0.1:%s/v1\n      api_key: none\n' "$s" "${SIM[$s]}"
    printf '  - model_name: ol-%s\n    litellm_params:\n      model: ollama_chat/llama3.2:3b\n      api_base: http://127.0.0.1:%s\n' "$s" "${SIM[$s]}"
  done
  printf 'litellm_settings:\n  callbacks: ["prometheus"]\n'
} >"$work/config.yaml"
"$bin" serve --config "$work/config.yaml" --port "$TG" --host 127.0.0.1 --threads 1 --poll-interval 0 \
  --log-level info >"$work/tg.log" 2>&1 &
tg_pid=$!
pids+=($tg_pid)
wait_log "$work/tg.log" "listening on"
for port in $NGX_LAT $NGX_TPUT $NGX_CONC; do
  for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.05; done
done
ngx_worker=$(ps -o pid= --ppid "$ngx_master" | head -1 | tr -d ' ')
[ -n "$ngx_worker" ] || { echo "bench: nginx worker not found" >&2; cat "$work/nginx.out" "$work/nginx-error.log" >&2; exit 1; }

# --- measurement helpers ----------------------------------------------------
# url + model for a target and phase
target_url() { # target phase
  case $1 in
    direct) echo "http://127.0.0.1:${SIM[$2]}/v1/chat/completions llama3.2:3b" ;;
    nginx) local v="NGX_${2^^}"; echo "http://127.0.0.1:${!v}/v1/chat/completions llama3.2:3b" ;;
    tg-openai) echo "http://127.0.0.1:$TG/v1/chat/completions oa-$2" ;;
    tg-ollama) echo "http://127.0.0.1:$TG/v1/chat/completions ol-$2" ;;
    direct-native) echo "http://127.0.0.1:${SIM[$2]}/api/chat llama3.2:3b" ;;
    nginx-native) local v="NGX_${2^^}"; echo "http://127.0.0.1:${!v}/api/chat llama3.2:3b" ;;
    tg-native) echo "http://127.0.0.1:$TG/api/chat ol-$2" ;;
  esac
}
body() { # model tokens target
  case $3 in
    *-native) printf '{"model":"%s","messages":[{"role":"user","content":"Why is the sky blue?"}],"stream":true,"options":{"num_predict":%d}}' "$1" "$2" ;;
    *) printf '{"model":"%s","messages":[{"role":"user","content":"Why is the sky blue?"}],"stream":true,"max_tokens":%d}' "$1" "$2" ;;
  esac
}
# What a target's "+" columns are measured against.
base() { case $1 in *-native) echo direct-native ;; *) echo direct ;; esac; }
# One event per token plus the finish chunk ([DONE] is not counted).
expect() { echo $(($1 + 1)); }
# streamload's key=value line -> the values asked for, in order
field() { local line=$1; shift; for k in "$@"; do sed -n "s/.* $k=\([^ ]*\).*/\1/p; s/^$k=\([^ ]*\).*/\1/p" <<<"$line" | head -1; done | tr "\n" " "; echo; }
# utime+stime of a process in clock ticks (all its threads)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
# Samples the RSS of a pid every 50 ms while another pid runs; prints the peak in KiB.
rss_peak() { # watched-pid running-pid
  local peak=0 r
  while kill -0 "$2" 2>/dev/null; do
    r=$(rss_kib "$1"); [ "${r:-0}" -gt "$peak" ] && peak=$r
    sleep 0.05
  done
  echo "$peak"
}
proxy_pid() { case $1 in nginx*) echo "$ngx_worker" ;; tg-*) echo "$tg_pid" ;; direct*) echo "${SIMPID[conc]}" ;; esac; }

declare -A res
failures=0
record() { res[$1]+="$2 "; }
run_load() { # target phase tokens conns streamload-args... ; sets $out
  local t=$1 ph=$2 tok=$3; shift 3
  read -r url model < <(target_url "$t" "$ph")
  out=$("$load" --url "$url" --body "$(body "$model" "$tok" "$t")" --expect "$(expect "$tok")" "$@") || {
    failures=$((failures + 1)); echo "FAIL $t $ph: $out" >&2; }
  echo "  $t $ph: $out" >>"$work/raw.txt"
}

targets=${TARGETS:-"direct nginx tg-openai tg-ollama"}
hz=$(getconf CLK_TCK)
phases=" ${PHASES:-ttft lat tput conc} "
has() { [[ $phases == *" $1 "* ]]; }
for i in $(seq "$repeat"); do
  echo "run $i/$repeat" >&2
  has ttft && for t in $targets; do
    run_load "$t" tput 1 --conns 1 --duration "$ttft_s"
    read -r a b < <(field "$out" ttft_p50_us ttft_p99_us)
    record "$t,ttft0_50" "$a"; record "$t,ttft0_99" "$b"
  done
  has lat && for t in $targets; do
    run_load "$t" lat 64 --conns "$lat_conns" --duration "$lat_s"
    read -r a b c d e < <(field "$out" ttft_p50_us ttft_p99_us gap_p50_us gap_p99_us errors)
    record "$t,ttft50" "$a"; record "$t,ttft99" "$b"; record "$t,gap50" "$c"; record "$t,gap99" "$d"
  done
  has tput && for t in $targets; do
    case $t in direct*) cp=${SIMPID[tput]} ;; *) cp=$(proxy_pid "$t") ;; esac
    c0=$(cpu_ticks "$cp")
    run_load "$t" tput 1000 --conns 64 --duration "$tput_s"
    c1=$(cpu_ticks "$cp")
    read -r a ev < <(field "$out" events_per_s events)
    record "$t,eps" "$a"
    record "$t,cpu" "$(awk -v d=$((c1 - c0)) -v hz="$hz" -v e="$ev" 'BEGIN {printf "%.2f", d / hz * 1e6 / e}')"
  done
  has conc && for n in $streams_list; do
    # A proxy needs 2 descriptors per stream, plus its own (listeners, logs) and the idle
    # keep-alive upstream connections the earlier phases left in its pool (up to ~140); nginx also counts its listeners and reuses (drops) idle client connections near worker_connections.
    if [ $((2 * n + 512)) -gt "$fd_max" ]; then
      n_eff=$(((fd_max - 512) / 2))
      echo "bench: $n streams need $((2 * n + 512)) descriptors in a proxy; the hard limit here is $fd_max, running $n_eff" >&2
    else n_eff=$n; fi
    for t in $targets; do
      # streamload runs in the background (its pid in pids, for the trap) while the proxy's RSS is sampled.
      read -r url model < <(target_url "$t" conc)
      "$load" --url "$url" --body "$(body "$model" 40 "$t")" --expect "$(expect 40)" --conns "$n_eff" --requests 1 \
        --duration 1 >"$work/conc.out" 2>&1 &
      lp=$!
      pids+=($lp)
      peak=$(rss_peak "$(proxy_pid "$t")" "$lp")
      wait "$lp" || true
      out=$(tail -1 "$work/conc.out")
      echo "  $t conc$n: $out" >>"$work/raw.txt"
      grep -q '^conns=' <<<"$out" || { echo "FAIL $t conc$n: $out" >&2; out="requests=0 errors=$n_eff"; }
      read -r rq er st un sh ev wall < <(field "$out" requests errors stalled unopened short events secs)
      ev=${ev:-0} st=${st:-0} un=${un:-0} sh=${sh:-0}
      record "$t,c$n,ok" "$rq/$n_eff"; record "$t,c$n,bad" "$((er + st + un + sh))"
      record "$t,c$n,events" "$ev/$((n_eff * $(expect 40)))"; record "$t,c$n,wall" "$wall"
      record "$t,c$n,rss" "$((peak / 1024))"
      if [ "$((er + st + un + sh))" -ne 0 ] || [ "$ev" -ne $((n_eff * $(expect 40))) ]; then
        failures=$((failures + 1)); echo "FAIL $t conc$n: $out" >&2
      fi
    done
  done
done

median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
m() { echo "${res[$1]}" | median; }
all() { echo "${res[$1]}" | sed 's/ $//; s/ / \/ /g'; }

has ttft && printf '\n== time to first token: 1 conn, sim answers at once (--ttft-ms 0), 1-token streams, %ss; median of %d runs (us)\n' "$ttft_s" "$repeat"
has ttft && printf '%-10s %10s %10s %12s %12s\n' target ttft_p50 ttft_p99 +ttft_p50 +ttft_p99
has ttft && for t in $targets; do
  printf '%-10s %10s %10s %+12d %+12d\n' "$t" "$(m "$t,ttft0_50")" "$(m "$t,ttft0_99")" \
    "$(($(m "$t,ttft0_50") - $(m "$(base "$t"),ttft0_50")))" "$(($(m "$t,ttft0_99") - $(m "$(base "$t"),ttft0_99")))"
done
has lat && printf '\n== latency: %d conns, first token 5 ms, 64 tokens 5 ms apart, %ss; median of %d runs (us)\n' "$lat_conns" "$lat_s" "$repeat"
has lat && printf '%-10s %10s %10s %10s %10s %12s %12s\n' target ttft_p50 ttft_p99 gap_p50 gap_p99 +ttft_p50 +ttft_p99
has lat && for t in $targets; do
  printf '%-10s %10s %10s %10s %10s %+12d %+12d\n' "$t" "$(m "$t,ttft50")" "$(m "$t,ttft99")" "$(m "$t,gap50")" "$(m "$t,gap99")" \
    "$(($(m "$t,ttft50") - $(m "$(base "$t"),ttft50")))" "$(($(m "$t,ttft99") - $(m "$(base "$t"),ttft99")))"
done
has tput && printf '\n== token throughput: 64 conns, 1000-token streams, --token-ms 0, %ss; median of %d runs\n' "$tput_s" "$repeat"
has tput && printf '%-10s %12s %10s %22s\n' target events/s vs_direct cpu_us_per_event
has tput && for t in $targets; do
  awk -v t="$t" -v e="$(m "$t,eps")" -v d="$(m "$(base "$t"),eps")" -v c="$(m "$t,cpu")" 'BEGIN {printf "%-10s %12d %9.2fx %22s\n", t, e, e/d, c}'
done
has tput && echo "(cpu_us_per_event: CPU time of the proxy process per event delivered; for direct, the sim's own cost)"
# Native /api/chat: tollgate against nginx, as ratios (added TTFT over direct-native; CPU per event).
if [[ " $targets " == *" tg-native "* && " $targets " == *" nginx-native "* && " $targets " == *" direct-native "* ]]; then
  printf '\n== native /api/chat: tg-native / nginx-native\n'
  ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (b > 0) printf "%.2fx", a / b; else print "n/a"}'; }
  for q in 50 99; do
    has ttft && printf 'added TTFT p%s (1 conn): tollgate %+d us, nginx %+d us, ratio %s\n' "$q" \
      "$(($(m "tg-native,ttft0_$q") - $(m "direct-native,ttft0_$q")))" "$(($(m "nginx-native,ttft0_$q") - $(m "direct-native,ttft0_$q")))" \
      "$(ratio "$(($(m "tg-native,ttft0_$q") - $(m "direct-native,ttft0_$q")))" "$(($(m "nginx-native,ttft0_$q") - $(m "direct-native,ttft0_$q")))")"
  done
  has tput && printf 'CPU per event: tollgate %s us, nginx %s us, ratio %s\n' "$(m tg-native,cpu)" "$(m nginx-native,cpu)" \
    "$(ratio "$(m tg-native,cpu)" "$(m nginx-native,cpu)")"
fi
has conc && for n in $streams_list; do
  printf '\n== %s concurrent streams, 40 tokens 50 ms apart (runs: a / b / c)\n' "$n"
  printf '%-10s %-26s %-10s %-34s %-20s %s\n' target complete failed events wall_s peak_rss_MiB
  for t in $targets; do
    printf '%-10s %-26s %-10s %-34s %-20s %s\n' "$t" "$(all "$t,c$n,ok")" "$(all "$t,c$n,bad")" "$(all "$t,c$n,events")" \
      "$(all "$t,c$n,wall")" "$(all "$t,c$n,rss") (median $(m "$t,c$n,rss"))"
  done
done
printf '\nVmHWM (KiB): tollgate %s, nginx worker %s, sim (conc) %s; fd hard limit %s\n' \
  "$(awk '/^VmHWM/ {print $2}' /proc/$tg_pid/status)" "$(awk '/^VmHWM/ {print $2}' /proc/$ngx_worker/status)" \
  "$(awk '/^VmHWM/ {print $2}' /proc/${SIMPID[conc]}/status)" "$fd_max"
if [ -n "${RAW:-}" ]; then echo; cat "$work/raw.txt"; fi
[ "$failures" -eq 0 ] || { echo "bench: $failures runs lost events or had errors (see above)" >&2; exit 1; }
