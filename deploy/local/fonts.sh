#!/usr/bin/env bash
# The fonts badge images and certificates draw text with (shared/sharing/fonts.py):
# Debian's fonts-dejavu-core (Latin, Greek, Cyrillic) and fonts-wqy-microhei
# (Chinese, Japanese, Korean), each installed when missing and left alone when
# present (idempotent, like stack.sh installs redis-server). Without them the
# services fall back to ReportLab's bundled Vera, which covers Latin only.
#
#   deploy/local/fonts.sh
set -euo pipefail
# shellcheck source=deploy/local/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

declare -A FONTS=(
  [fonts-dejavu-core]=/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf
  [fonts-wqy-microhei]=/usr/share/fonts/truetype/wqy/wqy-microhei.ttc
)
missing=()
for package in "${!FONTS[@]}"; do
  [[ -f ${FONTS[$package]} ]] || missing+=("$package")
done
((${#missing[@]} == 0)) && exit 0
command -v apt-get >/dev/null || { log "${missing[*]} missing and no apt-get: badges fall back to Latin-only fonts"; exit 0; }
log "installing Debian's ${missing[*]} (the text of badges and certificates)"
export DEBIAN_FRONTEND=noninteractive
apt-get install -y "${missing[@]}" >/dev/null 2>&1 \
  || { apt-get update >/dev/null && apt-get install -y "${missing[@]}" >/dev/null; }
