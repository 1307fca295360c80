#!/usr/bin/env bash
# Installs the system packages the tests need, from the apt sources this machine already has.
# Mesa's lavapipe must come from bookworm-backports: Dawn rejects Debian 12's own Mesa 22.3
# (missing descriptor-indexing features). No registry host name is written here: the backports
# source reuses the URI of the machine's first configured Debian source.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"

first_uri() {
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources
  elif [ -f /etc/apt/sources.list ]; then
    awk '$1 == "deb" {for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) {print $i; exit}}' /etc/apt/sources.list
  fi
}

backports=/etc/apt/sources.list.d/tessera-backports.sources
if ! grep -rqs "bookworm-backports" /etc/apt/sources.list /etc/apt/sources.list.d/; then
  uri=$(first_uri)
  [ -n "$uri" ] || { echo "install-system: no Debian apt source found to derive bookworm-backports from" >&2; exit 1; }
  printf 'Types: deb\nURIs: %s\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' "$uri" | $SUDO tee "$backports" >/dev/null
fi

$SUDO apt-get update -q
$SUDO apt-get install -y -q -t bookworm-backports mesa-vulkan-drivers
# gcc and the Vulkan headers: test/gpu/shader-stats-layer builds bench/shader-stats' layer; zstd:
# test/gpu/shader-stats-sass unpacks a compressed shader-cache object with it.
$SUDO apt-get install -y -q libvulkan1 vulkan-tools python3-faiss python3-numpy chromium gcc libc6-dev libvulkan-dev zstd ${TESSERA_EXTRA_APT:-}
