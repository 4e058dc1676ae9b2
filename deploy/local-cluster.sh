#!/usr/bin/env bash
# A local multi-process cluster on loopback: a seed, a scheduler and N workers, each its own JVM
# with its own log and pid file under the run directory.
#
#   deploy/local-cluster.sh start N   start seed, scheduler and N workers (default 2)
#   deploy/local-cluster.sh status    processes and the cluster status table
#   deploy/local-cluster.sh stop      stop workers, scheduler, seed (graceful, then forced)
#
# Environment: FLOTILLA_RUN_DIR (default ./run), FLOTILLA_BASE_PORT (seed's cluster port, default
# 2552; the others follow), FLOTILLA_BASE_HTTP_PORT (seed's HTTP port, default 8558),
# FLOTILLA_JAVA_OPTS (per node, default -Xmx256m).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUN_DIR="${FLOTILLA_RUN_DIR:-$ROOT/run}"
BASE_PORT="${FLOTILLA_BASE_PORT:-2552}"
BASE_HTTP="${FLOTILLA_BASE_HTTP_PORT:-8558}"
BASE_DATA="${FLOTILLA_BASE_DATA_PORT:-40123}"
export FLOTILLA_JAVA_OPTS="${FLOTILLA_JAVA_OPTS:--Xmx256m}"
LAUNCHER="$ROOT/deploy/target/dist/flotilla/bin/flotilla"

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2> /dev/null; }

start_node() { # name, then flotilla arguments
  local name="$1"; shift
  if alive "$RUN_DIR/$name.pid"; then
    echo "$name already runs (pid $(cat "$RUN_DIR/$name.pid"))"
    return
  fi
  nohup "$LAUNCHER" "$@" > "$RUN_DIR/$name.log" 2>&1 < /dev/null &
  echo $! > "$RUN_DIR/$name.pid"
  echo "started $name (pid $!, log $RUN_DIR/$name.log)"
}

cmd_start() {
  local n="${1:-2}"
  [[ "$n" =~ ^[0-9]+$ ]] || { echo "error: N must be a number of workers, was '$n'" >&2; exit 2; }
  "$ROOT/flotilla" --version > /dev/null  # builds the distribution when needed
  mkdir -p "$RUN_DIR"
  local seed="127.0.0.1:$BASE_PORT"
  start_node seed seed --port "$BASE_PORT" --http-port "$BASE_HTTP"
  start_node scheduler scheduler --seed "$seed" --port $((BASE_PORT + 1)) --http-port $((BASE_HTTP + 1))
  for i in $(seq 1 "$n"); do
    start_node "worker-$i" worker --seed "$seed" --id "worker-$i" \
      --port $((BASE_PORT + 1 + i)) --http-port $((BASE_HTTP + 1 + i)) \
      --data-port $((BASE_DATA + i - 1))
  done
  echo "status: $0 status   (or: ./flotilla cluster status --url http://127.0.0.1:$BASE_HTTP)"
}

cmd_status() {
  local f
  for f in "$RUN_DIR"/*.pid; do
    [ -e "$f" ] || { echo "nothing runs (no pid files in $RUN_DIR)"; return 1; }
    if alive "$f"; then echo "$(basename "$f" .pid): running (pid $(cat "$f"))"; else echo "$(basename "$f" .pid): NOT running"; fi
  done
  "$LAUNCHER" cluster status --url "http://127.0.0.1:$BASE_HTTP" "$@"
}

stop_node() {
  local f="$1" pid i
  alive "$f" || { rm -f "$f"; return; }
  pid="$(cat "$f")"
  kill -TERM "$pid" 2> /dev/null || true
  for i in $(seq 1 300); do kill -0 "$pid" 2> /dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2> /dev/null; then
    echo "$(basename "$f" .pid) did not stop within 30 s; killing it" >&2
    kill -KILL "$pid" 2> /dev/null || true
  fi
  rm -f "$f"
  echo "stopped $(basename "$f" .pid)"
}

cmd_stop() {
  local f
  for f in "$RUN_DIR"/worker-*.pid; do [ -e "$f" ] && stop_node "$f"; done
  [ -e "$RUN_DIR/scheduler.pid" ] && stop_node "$RUN_DIR/scheduler.pid"
  [ -e "$RUN_DIR/seed.pid" ] && stop_node "$RUN_DIR/seed.pid"
  return 0
}

case "${1:-}" in
  start) shift; cmd_start "$@" ;;
  status) shift; cmd_status "$@" ;;
  stop) cmd_stop ;;
  *) echo "usage: $0 start [N] | status [--json] | stop" >&2; exit 2 ;;
esac
