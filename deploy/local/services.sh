#!/usr/bin/env bash
# Runs the four microcred services against the local stack (deploy/local/stack.sh).
#
#   deploy/local/services.sh up|down|status [service...]
#
# Each service is `.venv/bin/python -m services.<name>` with MICROCRED_HTTP_PORT
# set, its log in var/log/<name>.log and its pid in var/run/<name>.pid. `up`
# waits until every service answers GET /readyz with 200.
set -euo pipefail
# shellcheck source=deploy/local/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

ALL_SERVICES=(catalog issuer revocation verifier)
READY_TIMEOUT="${MICROCRED_SERVICES_READY_TIMEOUT:-60}"
KEYS_DIR="$VAR/keys"
MASTER_KEY_FILE="$KEYS_DIR/.master"

service_port() {
  case $1 in
    verifier) echo "${MICROCRED_VERIFIER_PORT:-8080}" ;;
    catalog) echo "${MICROCRED_CATALOG_PORT:-8081}" ;;
    issuer) echo "${MICROCRED_ISSUER_PORT:-8082}" ;;
    revocation) echo "${MICROCRED_REVOCATION_PORT:-8083}" ;;
    *) die "unknown service '$1' (one of: ${ALL_SERVICES[*]})" ;;
  esac
}

pidfile() { echo "$RUN_DIR/$1.pid"; }

# The key store's master key: 32 random bytes, base64url without padding,
# made once and kept (wiping it makes the stored signing keys unreadable).
master_key() {
  if [[ ! -s $MASTER_KEY_FILE ]]; then
    mkdir -p "$KEYS_DIR"
    chmod 700 "$KEYS_DIR"
    (umask 077 && head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n' >"$MASTER_KEY_FILE")
    log "generated key store master key in $MASTER_KEY_FILE"
  fi
  cat "$MASTER_KEY_FILE"
}

start_service() {
  local name=$1 port pid
  port=$(service_port "$name")
  if pid=$(pid_running "$(pidfile "$name")" "services.$name"); then
    log "$name already running (pid $pid, port $port)"
    return 0
  fi
  port_busy "$port" && die "port $port for $name is taken by another process"
  log "starting $name on 127.0.0.1:$port"
  printf '===== %s start %s (port %s) =====\n' "$name" "$(date -Is)" "$port" >>"$LOG_DIR/$name.log"
  (
    cd "$ROOT"
    export MICROCRED_HTTP_PORT=$port
    # The verifier uses every core: worker processes on one port (SO_REUSEPORT).
    [[ $name == verifier ]] && export MICROCRED_VERIFIER_WORKERS="${MICROCRED_VERIFIER_WORKERS:-$(nproc)}"
    exec setsid "$PY" -m "services.$name" >>"$LOG_DIR/$name.log" 2>&1 </dev/null
  ) &
  printf '%s\n' "$!" >"$(pidfile "$name")"
}

# ready_status URL: the HTTP status of GET URL, or 000 when nothing answers.
ready_status() {
  curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$1" 2>/dev/null || true
}

wait_ready() {
  local name=$1 deadline=$2 port pid url code
  port=$(service_port "$name")
  url="http://127.0.0.1:$port/readyz"
  pid=$(<"$(pidfile "$name")")
  while :; do
    if ! pid_running "$(pidfile "$name")" "services.$name" >/dev/null; then
      show_tail "$LOG_DIR/$name.log"
      log "$name (pid $pid) exited during start-up"
      return 1
    fi
    code=$(ready_status "$url")
    [[ $code == 200 ]] && break
    if ((SECONDS >= deadline)); then
      show_tail "$LOG_DIR/$name.log"
      log "$name not ready after ${READY_TIMEOUT}s (last GET $url: ${code:-none})"
      return 1
    fi
    sleep 0.25
  done
  log "$name ready: http://127.0.0.1:$port (pid $pid)"
}

cmd_up() {
  local name deadline failed=0
  require_python
  command -v curl >/dev/null || die "curl not found (apt-get install -y curl)"
  mkdir -p "$RUN_DIR" "$LOG_DIR"
  port_busy "$KAFKA_PORT" || die "Kafka is not running on $KAFKA_BOOTSTRAP: run deploy/local/stack.sh up"
  port_busy "$REDIS_PORT" || die "Redis is not running on port $REDIS_PORT: run deploy/local/stack.sh up"
  export MICROCRED_KAFKA_BOOTSTRAP="${MICROCRED_KAFKA_BOOTSTRAP:-$KAFKA_BOOTSTRAP}"
  # 3 on the 3-node cluster: the services create their topics with it.
  export MICROCRED_KAFKA_REPLICATION_FACTOR="${MICROCRED_KAFKA_REPLICATION_FACTOR:-$KAFKA_REPLICATION_FACTOR}"
  export MICROCRED_REDIS_URL="${MICROCRED_REDIS_URL:-$REDIS_URL}"
  MICROCRED_MASTER_KEY="${MICROCRED_MASTER_KEY:-$(master_key)}"
  export MICROCRED_MASTER_KEY
  # A local operator for `make up` only (the services have no default): the
  # seed data's accreditations need one. Never use it beyond this machine.
  if [[ -z ${MICROCRED_OPERATOR_TOKENS:-} ]]; then
    export MICROCRED_OPERATOR_TOKENS="dev-operator-token=local-operator"
    log "WARNING: MICROCRED_OPERATOR_TOKENS unset: using the local default 'dev-operator-token=local-operator' (local use only)"
  fi
  # Likewise a local endorser, for the seed data's employer endorsement.
  if [[ -z ${MICROCRED_ENDORSER_TOKENS:-} ]]; then
    export MICROCRED_ENDORSER_TOKENS="dev-endorser-token=Local Employers Council"
    log "WARNING: MICROCRED_ENDORSER_TOKENS unset: using the local default 'dev-endorser-token=Local Employers Council' (local use only)"
  fi
  for name in "$@"; do start_service "$name"; done
  deadline=$((SECONDS + READY_TIMEOUT))
  for name in "$@"; do wait_ready "$name" "$deadline" || failed=1; done
  if ((failed)); then
    log "stopping the services again after the failed start"
    cmd_down "$@"
    exit 1
  fi
}

cmd_down() {
  local name
  for name in "$@"; do
    stop_pid "$name" "$(pidfile "$name")" "services.$name" 30
  done
}

cmd_status() {
  local name pid rc=0
  for name in "$@"; do
    if pid=$(pid_running "$(pidfile "$name")" "services.$name"); then
      echo "$name  running  pid $pid  http://127.0.0.1:$(service_port "$name")"
    else
      echo "$name  stopped"
      rc=1
    fi
  done
  return "$rc"
}

main() {
  local cmd=${1:-}
  shift || true
  local names=("$@")
  ((${#names[@]})) || names=("${ALL_SERVICES[@]}")
  for name in "${names[@]}"; do service_port "$name" >/dev/null; done
  case $cmd in
    up) cmd_up "${names[@]}" ;;
    down) cmd_down "${names[@]}" ;;
    status) cmd_status "${names[@]}" ;;
    *)
      echo "usage: $0 up|down|status [${ALL_SERVICES[*]}]" >&2
      exit 2
      ;;
  esac
}

main "$@"
