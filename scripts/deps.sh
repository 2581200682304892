#!/usr/bin/env bash
# Installs the Debian 12 packages Tollgate needs, only those missing.
#   scripts/deps.sh build   compilers and libraries
#   scripts/deps.sh test    + cmocka, clang (fuzz/sanitizers), node, prometheus, nginx, wrk,
#                           docker-compose (only to validate docker-compose/docker-compose.yaml),
#                           victoria-metrics and haproxy (the scale-out test), tmux (tollgate top's
#                           test), man-db (man -l on the generated man pages)
#   scripts/deps.sh run     + prometheus
set -euo pipefail
what=${1:-build}
pkgs=(build-essential cmake pkg-config libevent-dev libcurl4-openssl-dev libyaml-dev libjansson-dev libssl-dev curl ca-certificates)
case "$what" in
  build) ;;
  run) pkgs+=(prometheus) ;;
  test) pkgs+=(libcmocka-dev clang libclang-rt-14-dev prometheus nginx-light wrk procps docker-compose victoria-metrics haproxy tmux man-db) ;;
  *) echo "usage: $0 build|test|run" >&2; exit 2 ;;
esac
# Node.js: the machine's own if present (>= 20), else Debian's.
command -v node >/dev/null 2>&1 || [ "$what" != test ] || pkgs+=(nodejs npm)

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo=sudo
fi
echo "deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Debian starts services it installs; the tests start their own.
for svc in prometheus nginx victoria-metrics haproxy; do
  if [[ " ${missing[*]} " == *" $svc"* ]] && command -v systemctl >/dev/null 2>&1; then
    $sudo systemctl disable --now "$svc" >/dev/null 2>&1 || true
  fi
done
exit 0
