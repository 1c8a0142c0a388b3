# Shared settings and helpers for stack.sh and services.sh (sourced, not run).
# shellcheck shell=bash disable=SC2034  # variables are used by the scripts that source this

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HERE="$ROOT/deploy/local"
VAR="${MICROCRED_VAR_DIR:-$ROOT/var}"
PY="${MICROCRED_PYTHON:-$ROOT/.venv/bin/python}"

KAFKA_PORT="${MICROCRED_KAFKA_PORT:-19092}"
KAFKA_CONTROLLER_PORT="${MICROCRED_KAFKA_CONTROLLER_PORT:-19093}"
REDIS_PORT="${MICROCRED_REDIS_PORT:-16379}"
REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"

# One Kafka node (the default) or a 3-node cluster (every node broker and
# controller). Node 1 always has the ports above; nodes 2 and 3 take the next
# pairs (19094/19095, 19096/19097 by default) unless MICROCRED_KAFKA_PORT_<n>
# and MICROCRED_KAFKA_CONTROLLER_PORT_<n> say otherwise.
KAFKA_NODES="${MICROCRED_KAFKA_NODES:-1}"
if [[ $KAFKA_NODES != 1 && $KAFKA_NODES != 3 ]]; then
  echo "MICROCRED_KAFKA_NODES must be 1 or 3, not '$KAFKA_NODES'" >&2
  exit 2
fi
KAFKA_NODE_IDS=()
KAFKA_PORTS=()            # indexed by node id
KAFKA_CONTROLLER_PORTS=() # indexed by node id
KAFKA_BOOTSTRAP=""
for ((n = 1; n <= KAFKA_NODES; n++)); do
  port_var=MICROCRED_KAFKA_PORT controller_var=MICROCRED_KAFKA_CONTROLLER_PORT
  if ((n > 1)); then port_var+="_$n" controller_var+="_$n"; fi
  KAFKA_NODE_IDS+=("$n")
  KAFKA_PORTS[n]="${!port_var:-$((KAFKA_PORT + 2 * (n - 1)))}"
  KAFKA_CONTROLLER_PORTS[n]="${!controller_var:-$((KAFKA_CONTROLLER_PORT + 2 * (n - 1)))}"
  KAFKA_BOOTSTRAP+="${KAFKA_BOOTSTRAP:+,}127.0.0.1:${KAFKA_PORTS[n]}"
done
unset n port_var controller_var
# What the services give their topics: one replica per node (so 3 on the
# cluster, where min.insync.replicas=2 lets acks=all survive one node down).
KAFKA_REPLICATION_FACTOR=$KAFKA_NODES

RUN_DIR="$VAR/run"
LOG_DIR="$VAR/log"

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# pid_running PIDFILE PATTERN: the pid in PIDFILE is alive and its command line
# contains PATTERN (guards against a recycled pid). Prints the pid.
pid_running() {
  local pidfile=$1 pattern=$2 pid
  [[ -s $pidfile ]] || return 1
  pid=$(<"$pidfile")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  [[ -r /proc/$pid/cmdline ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$pattern" || return 1
  printf '%s\n' "$pid"
}

# proc_gone PID: no such process any more (a zombie child of this shell counts as gone).
proc_gone() {
  [[ ! -e /proc/$1 ]] || [[ $(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) == Z ]]
}

# stop_pid NAME PIDFILE PATTERN TIMEOUT_S: SIGTERM, wait, then SIGKILL.
stop_pid() {
  local name=$1 pidfile=$2 pattern=$3 timeout=$4 pid i
  if ! pid=$(pid_running "$pidfile" "$pattern"); then
    rm -f "$pidfile"
    return 0
  fi
  log "stopping $name (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < timeout * 10; i++)); do
    proc_gone "$pid" && break
    sleep 0.1
  done
  if ! proc_gone "$pid"; then
    log "$name did not exit within ${timeout}s, sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    until proc_gone "$pid"; do sleep 0.1; done
  fi
  rm -f "$pidfile"
}

# port_busy PORT: something listens on 127.0.0.1:PORT.
port_busy() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# show_tail FILE...: last lines of log files, for failure reports.
show_tail() {
  local f
  for f in "$@"; do
    [[ -f $f ]] || continue
    printf -- '----- last lines of %s -----\n' "$f" >&2
    tail -n 40 "$f" >&2
  done
}

require_python() {
  [[ -x $PY ]] || die "$PY not found: run 'make venv' first"
}
