#!/usr/bin/env bash
# Installs the system packages discovm needs, through apt-get, only when missing.
# The one place where Debian packages are named (Python packages: pyproject.toml).
set -euo pipefail
PKGS=(gcc-mipsel-linux-gnu binutils-mipsel-linux-gnu qemu-system-mips python3-venv
      device-tree-compiler qemu-user-static e2fsprogs)
missing=()
for p in "${PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "install-deps: installing ${missing[*]}"
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
if ! $SUDO apt-get install -y --no-install-recommends "${missing[@]}"; then
    $SUDO apt-get update
    $SUDO apt-get install -y --no-install-recommends "${missing[@]}"
fi
