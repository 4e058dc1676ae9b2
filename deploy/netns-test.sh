#!/usr/bin/env bash
# A real multi-host test on one Linux machine: every node runs in its own network namespace
# (its own interfaces, addresses and ports), the namespaces are joined by veth pairs to a bridge,
# and the nodes talk over real TCP (cluster, HTTP) and UDP (data plane) between those addresses.
#
#   sudo deploy/netns-test.sh [--expect completed|planned] [--workers N] [--job FILE]
#                             [--deadline SECONDS] [--keep-run-dir]
#   sudo deploy/netns-test.sh --clean-stale     only remove what killed runs left behind
#
# It starts a seed, a scheduler and N workers (default 2), each a separate JVM from the built
# distribution (deploy/target/dist/flotilla, built when missing), waits until all of them are Up
# and the workers are registered, submits a small job from a client namespace with
# `flotilla submit` against the scheduler's address, and checks the job's outcome:
#   --expect completed (default): `flotilla submit --follow` must end with the job completed;
#   --expect planned: the job must be placed on the workers (state planned or later, not failed).
# Everything is torn down on exit, also on Ctrl-C or SIGTERM (trap). A run killed with SIGKILL
# cannot clean up after itself: the next run removes namespaces and processes that runs whose
# process no longer exists left behind (namespaces flotilla-<pid>-*, run directories
# $TMPDIR/flotilla-<pid>.*), or --clean-stale does just that.
# Exit codes: 0 success, 1 failure (node logs are printed), 2 bad usage or missing requirements.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LAUNCHER="$ROOT/deploy/target/dist/flotilla/bin/flotilla"
EXPECT=completed
WORKERS=2
JOB_FILE=""
DEADLINE_S=600
KEEP_RUN_DIR=0
CLEAN_ONLY=0

usage() {
  sed -n '2,20p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
  exit 2
}

while [ $# -gt 0 ]; do
  case "$1" in
    --expect) EXPECT="${2:-}"; shift 2 ;;
    --expect=*) EXPECT="${1#*=}"; shift ;;
    --workers) WORKERS="${2:-}"; shift 2 ;;
    --workers=*) WORKERS="${1#*=}"; shift ;;
    --job) JOB_FILE="${2:-}"; shift 2 ;;
    --job=*) JOB_FILE="${1#*=}"; shift ;;
    --deadline) DEADLINE_S="${2:-}"; shift 2 ;;
    --deadline=*) DEADLINE_S="${1#*=}"; shift ;;
    --keep-run-dir) KEEP_RUN_DIR=1; shift ;;
    --clean-stale) CLEAN_ONLY=1; shift ;;
    -h | --help) usage ;;
    *) echo "error: unknown argument '$1'" >&2; usage ;;
  esac
done
case "$EXPECT" in
  completed | planned) ;;
  *) echo "error: --expect must be 'completed' or 'planned', was '$EXPECT'" >&2; exit 2 ;;
esac
[[ "$WORKERS" =~ ^[1-9][0-9]?$ ]] || { echo "error: --workers must be 1..99, was '$WORKERS'" >&2; exit 2; }
[[ "$DEADLINE_S" =~ ^[1-9][0-9]*$ ]] || { echo "error: --deadline must be a number of seconds, was '$DEADLINE_S'" >&2; exit 2; }
[ -z "$JOB_FILE" ] || [ -r "$JOB_FILE" ] || { echo "error: --job $JOB_FILE: no readable file" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "error: run as root (creating network namespaces needs it)" >&2; exit 2; }
for tool in ip curl jq setsid; do
  command -v "$tool" > /dev/null || { echo "error: '$tool' is missing (apt-get install iproute2 curl jq util-linux)" >&2; exit 2; }
done

log() { echo "[netns-test $(date +%H:%M:%S)] $*" >&2; }

# Removes what runs whose shell no longer exists left behind (they were killed with SIGKILL).
clean_stale() {
  local ns owner pid dir
  for ns in $(ip netns list 2> /dev/null | awk '{print $1}' | grep -E '^flotilla-[0-9]+-' || true); do
    owner="${ns#flotilla-}"; owner="${owner%%-*}"
    if [ "$owner" != "$$" ] && ! kill -0 "$owner" 2> /dev/null; then
      for pid in $(ip netns pids "$ns" 2> /dev/null); do kill -KILL "$pid" 2> /dev/null || true; done
      ip netns delete "$ns" 2> /dev/null || true
      log "removed stale namespace $ns"
    fi
  done
  for dir in "${TMPDIR:-/tmp}"/flotilla-[0-9]*.*; do
    [ -d "$dir" ] || continue
    owner="$(basename "$dir")"; owner="${owner#flotilla-}"; owner="${owner%%.*}"
    [[ "$owner" =~ ^[0-9]+$ ]] || continue
    if [ "$owner" != "$$" ] && ! kill -0 "$owner" 2> /dev/null; then
      rm -rf "$dir"
      log "removed stale run directory $dir"
    fi
  done
}

if [ "$CLEAN_ONLY" -eq 1 ]; then
  clean_stale
  exit 0
fi

TAG="flotilla-$$"
RUN_DIR="$(mktemp -d "${TMPDIR:-/tmp}/$TAG.XXXXXX")"
BRIDGE="fl$$br"
# A /24 that is not routed on this machine yet.
SUBNET=""
for _ in $(seq 1 50); do
  candidate="10.213.$((RANDOM % 254 + 1))"
  ip route | grep -q "^$candidate\." || { SUBNET="$candidate"; break; }
done
[ -n "$SUBNET" ] || { echo "error: found no free 10.213.x.0/24 subnet" >&2; exit 2; }
TOKEN="netns-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
NODES=()          # node names, in start order
declare -A NS IP PID

stop_nodes() {
  local name pid i
  # Workers first, the seed last, as in deploy/local-cluster.sh.
  for ((i = ${#NODES[@]} - 1; i >= 0; i--)); do
    name="${NODES[$i]}"; pid="${PID[$name]:-}"
    if [ -n "$pid" ]; then kill -TERM -- "-$pid" 2> /dev/null || true; fi
  done
  for name in "${NODES[@]}"; do
    pid="${PID[$name]:-}"
    [ -n "$pid" ] || continue
    for _ in $(seq 1 200); do kill -0 "$pid" 2> /dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2> /dev/null; then
      log "$name did not stop within 20 s; killing it"
      kill -KILL -- "-$pid" 2> /dev/null || true
    fi
  done
}

teardown() {
  local rc=$?
  trap - EXIT INT TERM HUP
  set +e
  if [ "$rc" -ne 0 ]; then
    dump_logs
  fi
  stop_nodes
  local ns pid
  for ns in $(ip netns list 2> /dev/null | awk '{print $1}' | grep "^$TAG-" || true); do
    for pid in $(ip netns pids "$ns" 2> /dev/null); do kill -KILL "$pid" 2> /dev/null || true; done
    ip netns delete "$ns"
  done
  if [ "$KEEP_RUN_DIR" -eq 1 ]; then log "logs kept in $RUN_DIR"; else rm -rf "$RUN_DIR"; fi
  if [ "$rc" -eq 0 ]; then log "PASSED (expect $EXPECT)"; else log "FAILED (exit $rc)"; fi
  exit "$rc"
}

dump_logs() {
  local f
  echo "===== node logs (last 80 lines each) =====" >&2
  for f in "$RUN_DIR"/*.log; do
    [ -e "$f" ] || continue
    echo "----- $(basename "$f") -----" >&2
    tail -n 80 "$f" >&2
  done
}

fail() {
  log "FAILURE: $*"
  exit 1
}

trap teardown EXIT
trap 'log "interrupted"; exit 130' INT
trap 'log "terminated"; exit 143' TERM HUP

clean_stale

# The network: a bridge in its own namespace, one veth pair per host namespace.
BRIDGE_NS="$TAG-net"
ip netns add "$BRIDGE_NS"
ip -n "$BRIDGE_NS" link set lo up
ip -n "$BRIDGE_NS" link add "$BRIDGE" type bridge
ip -n "$BRIDGE_NS" link set "$BRIDGE" up
HOST_NO=1
add_host() { # name: a namespace with one interface on the bridge, address 10.213.x.(HOST_NO+1)
  local name="$1" ns="$TAG-$1" idx=$HOST_NO
  HOST_NO=$((HOST_NO + 1))
  ip netns add "$ns"
  ip -n "$ns" link set lo up
  ip link add "fl$$h$idx" type veth peer name "fl$$b$idx"
  ip link set "fl$$h$idx" netns "$ns"
  ip link set "fl$$b$idx" netns "$BRIDGE_NS"
  ip -n "$ns" link set "fl$$h$idx" name eth0
  ip -n "$ns" addr add "$SUBNET.$((idx + 1))/24" dev eth0
  ip -n "$ns" link set eth0 up
  ip -n "$BRIDGE_NS" link set "fl$$b$idx" master "$BRIDGE"
  ip -n "$BRIDGE_NS" link set "fl$$b$idx" up
  NS[$name]="$ns"
  IP[$name]="$SUBNET.$((idx + 1))"
}
add_host client
add_host seed
add_host scheduler
for i in $(seq 1 "$WORKERS"); do add_host "worker-$i"; done
log "namespaces ready on $SUBNET.0/24: seed ${IP[seed]}, scheduler ${IP[scheduler]}, $WORKERS workers, client ${IP[client]}"

in_ns() { # name, command...: runs the command in that host's namespace
  local name="$1"; shift
  ip netns exec "${NS[$name]}" "$@"
}

# The distribution (the same one ./flotilla runs; built when missing or stale).
"$ROOT/flotilla" --version > /dev/null || fail "the distribution could not be built"

start_node() { # name, then flotilla arguments
  local name="$1"; shift
  NODES+=("$name")
  # setsid: each node is its own process group, so teardown stops it with everything it forked.
  ip netns exec "${NS[$name]}" setsid env \
    FLOTILLA_HOST="${IP[$name]}" FLOTILLA_PORT=2552 \
    FLOTILLA_HTTP_HOST="${IP[$name]}" FLOTILLA_HTTP_PORT=8558 \
    FLOTILLA_JAVA_OPTS="${FLOTILLA_JAVA_OPTS:--Xmx384m}" \
    "$@" > "$RUN_DIR/$name.log" 2>&1 < /dev/null &
  PID[$name]=$!
  log "started $name (pid ${PID[$name]}) at ${IP[$name]}"
}

SEED="${IP[seed]}:2552"
start_node seed "$LAUNCHER" seed
start_node scheduler env FLOTILLA_SEEDS="$SEED" FLOTILLA_API_HOST="${IP[scheduler]}" \
  FLOTILLA_API_PORT=8080 FLOTILLA_API_TOKEN="$TOKEN" FLOTILLA_API_TEAM=netns \
  FLOTILLA_SCHEDULER_DATA_DIR="$RUN_DIR/scheduler-data" \
  FLOTILLA_CHECKPOINT_DIR="$RUN_DIR/scheduler-data/checkpoints" "$LAUNCHER" scheduler
for i in $(seq 1 "$WORKERS"); do
  start_node "worker-$i" env FLOTILLA_SEEDS="$SEED" FLOTILLA_DATA_HOST="${IP[worker-$i]}" \
    FLOTILLA_DATA_PORT=40123 "$LAUNCHER" worker --id "worker-$i"
done

# Waits until $1 succeeds (a shell command line), polling every second, for at most $2 seconds.
await() {
  local what="$1" check="$2" limit="$3" start=$SECONDS name
  until eval "$check"; do
    for name in "${NODES[@]}"; do
      kill -0 "${PID[$name]}" 2> /dev/null || fail "$name exited while waiting for: $what"
    done
    [ $((SECONDS - start)) -lt "$limit" ] || fail "not within ${limit} s: $what"
    sleep 1
  done
  log "$what (after $((SECONDS - start)) s)"
}

client_get() { # URL [curl options]: GET from the client namespace
  in_ns client curl -fsS --max-time 5 "$@"
}

all_ready() {
  local name
  for name in "${NODES[@]}"; do
    client_get -o /dev/null "http://${IP[$name]}:8558/health/ready" 2> /dev/null || return 1
  done
}
members_up() {
  client_get "http://${IP[seed]}:8558/cluster/members" 2> /dev/null |
    jq -e --argjson n "$((WORKERS + 2))" \
      '([.members[] | select(.status == "Up")] | length) == $n and (.unreachable | length) == 0' > /dev/null
}
workers_registered() {
  client_get "http://${IP[scheduler]}:8558/flotilla/workers" 2> /dev/null |
    jq -e --argjson n "$WORKERS" '(if type == "array" then . else .workers end) | length == $n' > /dev/null
}

await "every node answers /health/ready" all_ready 300
await "all $((WORKERS + 2)) members are Up, none unreachable" members_up 60
await "the scheduler sees $WORKERS registered workers" workers_registered 60

# The job: a tiny GPT on 2-digit addition, one stage replicated on every worker, few steps.
if [ -z "$JOB_FILE" ]; then
  JOB_FILE="$RUN_DIR/netns-job.yaml"
  cat > "$JOB_FILE" << EOF
name: netns-addition
description: Tiny GPT on 2-digit addition across network namespaces
model:
  type: gpt
  layers: 1
  width: 32
  heads: 2
  context: 10
  dropout: 0.0
dataset:
  type: addition
  options:
    digits: 2
    train_examples: 2000
    eval_examples: 100
training:
  steps: 20
  global_batch: $((8 * WORKERS))
  micro_batches: 2
  seed: 7
  eval_interval_steps: 10
  optimizer:
    type: adamw
    lr: 1e-3
parallelism:
  pipeline_stages: 1
  replicas: $WORKERS
  gradient_sync: allreduce
verification:
  redundancy: none
checkpoint:
  interval_steps: 10
  keep_last: 1
EOF
fi

API="http://${IP[scheduler]}:8080"
log "submitting $(basename "$JOB_FILE") to $API from the client namespace (expect $EXPECT)"
if [ "$EXPECT" = completed ]; then
  set +e
  in_ns client env FLOTILLA_TOKEN="$TOKEN" timeout "$DEADLINE_S" \
    "$LAUNCHER" submit "$JOB_FILE" --url "$API" --follow > "$RUN_DIR/submit.out" 2> "$RUN_DIR/submit.log"
  rc=$?
  set -e
  cat "$RUN_DIR/submit.out" >&2
  tail -n 5 "$RUN_DIR/submit.log" >&2
  [ "$rc" -ne 124 ] || fail "the job did not end within $DEADLINE_S s"
  [ "$rc" -eq 0 ] || fail "flotilla submit --follow exited $rc: the job did not complete"
  grep -q ' completed$' "$RUN_DIR/submit.out" || fail "submit did not report the job completed"
else
  JOB_ID="$(in_ns client env FLOTILLA_TOKEN="$TOKEN" "$LAUNCHER" submit "$JOB_FILE" --url "$API" 2> "$RUN_DIR/submit.log")" ||
    fail "flotilla submit failed: $(cat "$RUN_DIR/submit.log")"
  log "submitted $JOB_ID"
  job_state() {
    client_get -H "Authorization: Bearer $TOKEN" "$API/jobs/$JOB_ID" | jq -r .state
  }
  job_placed() {
    local state
    state="$(job_state 2> /dev/null)" || return 1
    case "$state" in
      planned | running | completed) return 0 ;;
      failed | cancelled) fail "job $JOB_ID ended $state: $(client_get -H "Authorization: Bearer $TOKEN" "$API/jobs/$JOB_ID")" ;;
      *) return 1 ;;
    esac
  }
  await "job $JOB_ID is placed on the workers" job_placed "$DEADLINE_S"
  client_get -H "Authorization: Bearer $TOKEN" "$API/jobs/$JOB_ID" |
    jq -c '{id, state, plan: (.plan // null)}' >&2
fi
