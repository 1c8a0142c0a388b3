#!/usr/bin/env bash
# The font badge images and certificates draw text with (shared/sharing/fonts.py):
# Debian's fonts-dejavu-core, installed when missing and left alone when
# present (idempotent, like stack.sh installs redis-server). Without it the
# services fall back to ReportLab's bundled Vera, which covers Latin only.
#
#   deploy/local/fonts.sh
set -euo pipefail
# shellcheck source=deploy/local/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

[[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ]] && exit 0
command -v apt-get >/dev/null || { log "fonts-dejavu-core missing and no apt-get: badges fall back to Latin-only Vera"; exit 0; }
log "DejaVu Sans missing: installing Debian's fonts-dejavu-core"
export DEBIAN_FRONTEND=noninteractive
apt-get install -y fonts-dejavu-core >/dev/null 2>&1 \
  || { apt-get update >/dev/null && apt-get install -y fonts-dejavu-core >/dev/null; }
