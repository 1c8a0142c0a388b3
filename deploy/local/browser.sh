#!/usr/bin/env bash
# What the real-browser tests (tests/browser) need, installed when missing and
# left alone when present (idempotent, like stack.sh installs redis-server):
#   - Debian's chromium and chromium-driver (apt-get);
#   - axe-core from npm (npm ci against tests/browser/package-lock.json),
#     re-installed only when the lockfile changed (Debian's npm when missing).
#
#   deploy/local/browser.sh
set -euo pipefail
# shellcheck source=deploy/local/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

BROWSER_DIR="$ROOT/tests/browser"

chromium_install() {
  if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then
    return 0
  fi
  command -v apt-get >/dev/null || die "chromium and chromedriver missing, and no apt-get to install them"
  log "chromium or chromedriver missing: installing Debian's chromium and chromium-driver"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y chromium chromium-driver >/dev/null 2>&1 \
    || { apt-get update >/dev/null && apt-get install -y chromium chromium-driver >/dev/null; }
}

axe_install() {
  local stamp="$BROWSER_DIR/node_modules/.package-lock.json"
  if [[ -f $BROWSER_DIR/node_modules/axe-core/axe.min.js && $stamp -nt $BROWSER_DIR/package-lock.json ]]; then
    return 0
  fi
  if ! command -v npm >/dev/null; then
    log "npm missing: installing Debian's npm"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y npm >/dev/null 2>&1 \
      || { apt-get update >/dev/null && apt-get install -y npm >/dev/null; }
  fi
  log "installing axe-core (npm ci in tests/browser)"
  (cd "$BROWSER_DIR" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
}

chromium_install
axe_install
