# Shared settings and helpers for stack.sh and services.sh (sourced, not run).
# shellcheck shell=bash disable=SC2034  # variables are used by the scripts that source this

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HERE="$ROOT/deploy/local"
VAR="${MICROCRED_VAR_DIR:-$ROOT/var}"
PY="${MICROCRED_PYTHON:-$ROOT/.venv/bin/python}"

KAFKA_PORT="${MICROCRED_KAFKA_PORT:-19092}"
KAFKA_CONTROLLER_PORT="${MICROCRED_KAFKA_CONTROLLER_PORT:-19093}"
REDIS_PORT="${MICROCRED_REDIS_PORT:-16379}"
KAFKA_BOOTSTRAP="127.0.0.1:$KAFKA_PORT"
REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"

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
    [[ -e /proc/$pid ]] || break
    # a zombie child of this shell counts as gone
    [[ $(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) == Z ]] && break
    sleep 0.1
  done
  if [[ -e /proc/$pid ]] && [[ $(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) != Z ]]; then
    log "$name did not exit within ${timeout}s, sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    while [[ -e /proc/$pid ]] && [[ $(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) != Z ]]; do
      sleep 0.1
    done
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
