#!/usr/bin/env bash
# Runs a command against the local stack, starting Kafka and Redis first only
# when they are not already running, and stopping again only what it started,
# whatever the command's outcome. Exits with the command's status.
# MICROCRED_KAFKA_NODES=3 uses (or starts) the 3-node Kafka cluster instead.
#
#   deploy/local/with-stack.sh .venv/bin/pytest -q tests
set -euo pipefail
# shellcheck source=deploy/local/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

(($#)) || die "usage: $0 COMMAND [ARGS...]"

started=()
# shellcheck disable=SC2317  # invoked by the EXIT trap
cleanup() {
  if ((${#started[@]})); then
    log "stopping what this run started: ${started[*]}"
    "$HERE/stack.sh" down "${started[@]}" || true
  fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

for part in redis kafka; do
  if "$HERE/stack.sh" status "$part" >/dev/null; then
    log "using the running $part"
  else
    # Recorded first: a start that fails half-way is cleaned up too.
    started+=("$part")
    "$HERE/stack.sh" up "$part"
  fi
done

export MICROCRED_KAFKA_BOOTSTRAP="${MICROCRED_KAFKA_BOOTSTRAP:-$KAFKA_BOOTSTRAP}"
export MICROCRED_KAFKA_REPLICATION_FACTOR="${MICROCRED_KAFKA_REPLICATION_FACTOR:-$KAFKA_REPLICATION_FACTOR}"
export MICROCRED_REDIS_URL="${MICROCRED_REDIS_URL:-$REDIS_URL}"
log "MICROCRED_KAFKA_BOOTSTRAP=$MICROCRED_KAFKA_BOOTSTRAP" \
  "MICROCRED_KAFKA_REPLICATION_FACTOR=$MICROCRED_KAFKA_REPLICATION_FACTOR MICROCRED_REDIS_URL=$MICROCRED_REDIS_URL"
rc=0
"$@" || rc=$?
exit "$rc"
