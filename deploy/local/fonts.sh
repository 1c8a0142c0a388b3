#!/usr/bin/env bash
# The fonts badge images and certificates draw text with (shared/sharing/fonts.py):
# Debian's fonts-dejavu-core (Latin, Greek, Cyrillic) and fonts-wqy-microhei
# (Chinese, Japanese, Korean), and libfribidi0, which Pillow's libraqm loads to
# lay out right-to-left text (Arabic joined, Hebrew and Arabic from the right);
# each installed when missing and left alone when present (idempotent, like
# stack.sh installs redis-server). Without the fonts the services fall back to
# ReportLab's bundled Vera, which covers Latin only; without FriBiDi, badge PNGs
# draw Arabic unjoined, left to right.
#
#   deploy/local/fonts.sh
set -euo pipefail
# shellcheck source=deploy/local/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

declare -A PACKAGES=(  # a package, and a file (a glob) that shows it is there
  [fonts-dejavu-core]=/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf
  [fonts-wqy-microhei]=/usr/share/fonts/truetype/wqy/wqy-microhei.ttc
  [libfribidi0]='/usr/lib/*/libfribidi.so.0'
)
missing=()
for package in "${!PACKAGES[@]}"; do
  compgen -G "${PACKAGES[$package]}" >/dev/null || missing+=("$package")
done
((${#missing[@]} == 0)) && exit 0
command -v apt-get >/dev/null || { log "${missing[*]} missing and no apt-get: badges fall back to Latin-only fonts and unjoined Arabic"; exit 0; }
log "installing Debian's ${missing[*]} (the text of badges and certificates)"
export DEBIAN_FRONTEND=noninteractive
apt-get install -y "${missing[@]}" >/dev/null 2>&1 \
  || { apt-get update >/dev/null && apt-get install -y "${missing[@]}" >/dev/null; }
