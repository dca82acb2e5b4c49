#!/usr/bin/env bash
# Installs what building and testing mmpool needs, on Debian or Ubuntu, plus
# any packages named as arguments. Only missing packages are installed; as
# root directly, otherwise via sudo.
set -euo pipefail

packages=(cmake make gcc pkg-config libcmocka-dev "$@")

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  sudo="sudo"
fi
echo "mmpool: installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
