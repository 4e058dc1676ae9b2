#!/usr/bin/env bash
# Measures, with separate JVM processes on loopback and the production failure-detector settings:
#  1. the time from launching 1 seed + N workers until all are Up and every worker is registered;
#  2. the time from SIGKILL of one worker until it has left the seed's registry replica.
# Usage: deploy/bench-processes.sh [N]   (default 3; needs curl; uses ports 27552+ and 19558)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
N="${1:-3}"
RUN_DIR="$(mktemp -d /tmp/flotilla-bench.XXXXXX)"
LAUNCHER="$ROOT/deploy/target/dist/flotilla/bin/flotilla"
PORT=27552
HTTP=19558
export FLOTILLA_JAVA_OPTS="${FLOTILLA_JAVA_OPTS:--Xmx256m}"
"$ROOT/flotilla" --version > /dev/null  # builds the distribution when needed
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill -KILL "$p" 2> /dev/null || true; done; }
trap cleanup EXIT
now_ms() { date +%s%3N; }
count() { curl -s --max-time 2 "http://127.0.0.1:$HTTP$1" | grep -o "$2" | wc -l; }

t0=$(now_ms)
"$LAUNCHER" seed --port $PORT --http-port $HTTP > "$RUN_DIR/seed.log" 2>&1 & PIDS+=($!)
for i in $(seq 1 "$N"); do
  "$LAUNCHER" worker --seed 127.0.0.1:$PORT --port $((PORT + i)) --data-port 0 --no-http --id "w$i" \
    > "$RUN_DIR/w$i.log" 2>&1 & PIDS+=($!)
done
until [ "$(count /cluster/members '"status":"Up"')" -eq $((N + 1)) ] &&
  [ "$(count /flotilla/workers '"workerId"')" -eq "$N" ]; do sleep 0.2; done
t1=$(now_ms)
echo "1 seed + $N workers as processes: all Up and registered $((t1 - t0)) ms after launch"

kill -KILL "${PIDS[$N]}"
t2=$(now_ms)
until [ "$(count /flotilla/workers '"workerId"')" -eq $((N - 1)) ]; do sleep 0.2; done
t3=$(now_ms)
echo "SIGKILLed worker w$N left the registry after $((t3 - t2)) ms (production failure detection)"
echo "logs: $RUN_DIR"
