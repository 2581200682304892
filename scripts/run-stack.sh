#!/usr/bin/env bash
# `make run`: the guide's stack on this machine without Docker, on loopback.
#   tollgate serve  :4000  gateway (every model Ollama lists, or $TOLLGATE_CONFIG)
#   tollgate gpu    :9400  GPU exporter (serves tollgate_gpu_nvml_up 0 without a GPU)
#   prometheus      :9090  Debian's, same jobs and rules as docker-compose/
#   tollgate sim    :11434 only when no Ollama answers there
# Ctrl-C stops everything this script started. Environment overrides:
#   TOLLGATE_GATEWAY_PORT, TOLLGATE_GPU_PORT, TOLLGATE_PROMETHEUS_PORT,
#   OLLAMA_HOST (default http://127.0.0.1:11434), TOLLGATE_CONFIG (a
#   litellm_config.yaml; the simulator then also serves its Ollama models), TOLLGATE_RUN_DIR (logs and Prometheus data,
#   default ./.run), TOLLGATE_BIN, PROMETHEUS (the prometheus binary).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${TOLLGATE_BIN:-$root/build/tollgate}
gw_port=${TOLLGATE_GATEWAY_PORT:-4000}
gpu_port=${TOLLGATE_GPU_PORT:-9400}
prom_port=${TOLLGATE_PROMETHEUS_PORT:-9090}
ollama=${OLLAMA_HOST:-http://127.0.0.1:11434}
[[ $ollama == *://* ]] || ollama="http://$ollama"   # Ollama accepts host:port
ollama=${ollama%/}
run_dir=${TOLLGATE_RUN_DIR:-$root/.run}
prometheus=${PROMETHEUS:-prometheus}

die() { echo "run-stack: $*" >&2; exit 1; }

[ -x "$bin" ] || die "$bin not found: build it first with 'make build'"
command -v "$prometheus" >/dev/null 2>&1 ||
  die "prometheus not found: install it with 'scripts/deps.sh run' (Debian package prometheus), or set PROMETHEUS=/path/to/prometheus"
command -v curl >/dev/null 2>&1 || die "curl not found: install it with 'scripts/deps.sh run'"

check_port() {
  if ! [[ $1 =~ ^[0-9]+$ ]] || [ "$1" -lt 1 ] || [ "$1" -gt 65535 ]; then
    die "$2='$1' is not a port number (1-65535)"
  fi
}
check_port "$gw_port" TOLLGATE_GATEWAY_PORT
check_port "$gpu_port" TOLLGATE_GPU_PORT
check_port "$prom_port" TOLLGATE_PROMETHEUS_PORT

# Something already listening? Say what and how to move.
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
check_free() {
  local port=$1 what=$2 var=$3
  if port_busy "$port"; then
    local who=""
    command -v ss >/dev/null 2>&1 && who=$(ss -Hltnp "sport = :$port" 2>/dev/null | grep -o 'users:(([^)]*))' | head -1 || true)
    die "port $port for $what is in use${who:+ by $who}: stop that process or choose another port with $var=N"
  fi
}
check_free "$gw_port" "the gateway" TOLLGATE_GATEWAY_PORT
check_free "$gpu_port" "the GPU exporter" TOLLGATE_GPU_PORT
check_free "$prom_port" "Prometheus" TOLLGATE_PROMETHEUS_PORT

mkdir -p "$run_dir/prometheus-data"
pids=()
names=()
simulated=0
# shellcheck disable=SC2317  # called through the EXIT trap
cleanup() {
  trap - INT TERM EXIT
  local i
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    kill -TERM "${pids[$i]}" 2>/dev/null || true
  done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  [ ${#pids[@]} -eq 0 ] || echo "run-stack: stopped ${names[*]}"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# start NAME LOG READY_REGEX CMD...: waits until the log shows READY_REGEX.
start() {
  local name=$1 log=$2 ready=$3
  shift 3
  "$@" >"$log" 2>&1 &
  local pid=$!
  pids+=("$pid")
  names+=("$name")
  local t=0
  until grep -Eq "$ready" "$log" 2>/dev/null; do
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -20 "$log" >&2 || true
      die "$name exited before it was ready (log: $log)"
    fi
    t=$((t + 1))
    [ $t -le 300 ] || die "$name not ready after 30 s (log: $log)"
    sleep 0.1
  done
}

# The config, made usable on the host: host.docker.internal resolves inside
# the Compose network only, so a copy pointing at this run's Ollama is used.
config=${TOLLGATE_CONFIG:-}
if [ -n "$config" ]; then
  [ -r "$config" ] || die "TOLLGATE_CONFIG=$config: no such file (the host-mode config is deploy/host/litellm_config.yaml)"
  if grep -Eq '^[^#]*api_base:.*host\.docker\.internal' "$config"; then
    sed -E "s|https?://host\.docker\.internal(:[0-9]+)?|$ollama|g" "$config" >"$run_dir/litellm_config.yaml"
    echo "run-stack: $config is the Docker config (api_base host.docker.internal); using a copy with api_base $ollama: $run_dir/litellm_config.yaml"
    config=$run_dir/litellm_config.yaml
  fi
fi

# Ollama, or the simulator in its place.
if curl -fsS -m 2 "$ollama/" 2>/dev/null | grep -q "Ollama is running"; then
  echo "run-stack: using Ollama at $ollama"
else
  hostport=${ollama#*://}
  hostport=${hostport%%/*}
  sim_port=${hostport##*:}
  [[ $sim_port =~ ^[0-9]+$ ]] || sim_port=11434
  case ${hostport%:*} in 127.0.0.1 | localhost) ;; *) die "no Ollama answers at $ollama; start it or point OLLAMA_HOST at it" ;; esac
  check_free "$sim_port" "the Ollama simulator" OLLAMA_HOST
  echo "run-stack: no Ollama at $ollama; starting the simulator (tollgate sim) there"
  sim_args=(sim --port "$sim_port")
  # The simulator also serves the models the config names, so the guide's
  # requests work against it verbatim.
  [ -z "$config" ] || sim_args+=(--config "$config")
  start "tollgate sim" "$run_dir/sim.log" "listening on http://" "$bin" "${sim_args[@]}"
  ollama="http://127.0.0.1:$sim_port"
  simulated=1
fi

serve_args=(serve --host 127.0.0.1 --port "$gw_port")
[ -z "$config" ] || serve_args+=(--config "$config")
OLLAMA_HOST=$ollama start "tollgate serve" "$run_dir/serve.log" "listening on http://" "$bin" "${serve_args[@]}"
start "tollgate gpu" "$run_dir/gpu.log" "listening on http://" "$bin" gpu --port "$gpu_port"

# Host-mode Prometheus config with this run's ports and an absolute rules path.
sed -e "s|127.0.0.1:4000|127.0.0.1:$gw_port|; s|127.0.0.1:9400|127.0.0.1:$gpu_port|; s|127.0.0.1:9090|127.0.0.1:$prom_port|" \
  -e "s|\.\./\.\./docker-compose/rules/|$root/docker-compose/rules/|" \
  "$root/deploy/host/prometheus.yaml" >"$run_dir/prometheus.yml"
start "prometheus" "$run_dir/prometheus.log" "Server is ready to receive web requests" \
  "$prometheus" --config.file="$run_dir/prometheus.yml" --storage.tsdb.path="$run_dir/prometheus-data" \
  --web.listen-address="127.0.0.1:$prom_port"

# Prometheus discovers targets a few seconds after start and scrapes each
# once per interval: say "running" only when both jobs have been scraped UP,
# so that `tollgate check` right after this passes.
echo "run-stack: waiting for Prometheus' first scrape of the litellm and dcgm jobs (up to 40 s)"
t=0
until curl -fsS -m 2 "http://127.0.0.1:$prom_port/api/v1/targets?state=active" 2>/dev/null |
  grep -o '"job":"[a-z]*"[^}]*}[^}]*"health":"up"' | grep -c -E '"job":"(litellm|dcgm)"' | grep -qx 2; do
  t=$((t + 1))
  if [ $t -gt 400 ]; then
    echo "run-stack: warning: Prometheus has not scraped both targets yet; see http://127.0.0.1:$prom_port/targets" >&2
    break
  fi
  sleep 0.1
done

# Every configured backend answers? The gateway's /health probes each
# deployment (Ollama: reachable and the model pulled); say which do not,
# instead of "running".
health=$(curl -sS -m 10 "http://127.0.0.1:$gw_port/health" 2>/dev/null || true)
down=$(printf '%s' "$health" | grep -o '{"model":"[^"]*","api_base":"[^"]*","model_id":"[^"]*","error":"[^"]*"' |
  sed -E 's/^\{"model":"([^"]*)","api_base":"([^"]*)","model_id":"[^"]*","error":"([^"]*)"$/  \1 at \2: \3/' || true)
served=$(curl -sS -m 5 "http://127.0.0.1:$gw_port/v1/models" 2>/dev/null | grep -o '"id":"[^"]*"' | sed 's/"id":"//; s/"$//' | paste -sd, - | sed 's/,/, /g' || true)
gpu_off=""
curl -sS -m 5 "http://127.0.0.1:$gpu_port/metrics" 2>/dev/null | grep -q '^tollgate_gpu_nvml_up 0' &&
  gpu_off="no NVIDIA GPU/driver found: GPU metrics are off (docs/gpu.md, \"No GPU\")"

if [ -n "$down" ]; then
  echo
  echo "Tollgate started, but these configured backends do not answer (requests to them fail with 502/404):"
  echo "$down"
  echo "Start Ollama (ollama serve) and pull the model (ollama pull NAME), or fix api_base in ${TOLLGATE_CONFIG:-the config}; logs in $run_dir."
else
  echo
  echo "Tollgate is running (logs in $run_dir):"
fi
if [ "$simulated" = 1 ]; then
  ollama_line="$ollama  SIMULATOR (tollgate sim, deterministic text, no GPU): for a real Ollama, stop this, start 'ollama serve' on ${ollama#*://} and run make run again"
else
  ollama_line="$ollama  (Ollama)"
fi
cat <<EOT
  Ollama           $ollama_line
  Models (API)     ${served:-none}
  Gateway (API)    http://127.0.0.1:$gw_port/v1/chat/completions
  Gateway metrics  http://127.0.0.1:$gw_port/metrics
  GPU metrics      http://127.0.0.1:$gpu_port/metrics${gpu_off:+
                   $gpu_off}
  Prometheus       http://127.0.0.1:$prom_port
  Grafana          not started in host mode; import $root/docker-compose/grafana/dashboards/tollgate-llm.json
                   and tollgate-gpu.json in your Grafana (Dashboards > New > Import, Prometheus data source)

Live view:              $bin top --gateway http://127.0.0.1:$gw_port --gpu http://127.0.0.1:$gpu_port
Validate the pipeline:  $bin check --gateway http://127.0.0.1:$gw_port --gpu http://127.0.0.1:$gpu_port --prometheus http://127.0.0.1:$prom_port --ollama $ollama
Press Ctrl-C to stop.
EOT

# Stop everything as soon as one of them dies.
set +e
wait -n "${pids[@]}"
rc=$?
echo "run-stack: a component exited (status $rc); stopping the others" >&2
exit "$rc"
