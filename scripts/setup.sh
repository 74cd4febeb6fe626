#!/usr/bin/env bash
# Installs every system dependency of nibble on a fresh Debian 12 machine (run as root).
# Idempotent and quiet: when everything is present it only checks and returns.
set -euo pipefail

packages=(
  cmake g++ make ninja-build ccache pkg-config shellcheck libopenblas-dev libhwy-dev
  libgtest-dev libgmock-dev googletest libbenchmark-dev
  libboost-program-options-dev nlohmann-json3-dev libyaml-cpp-dev libsqlite3-dev
  libsystemc-dev verilator yosys zlib1g-dev
  python3 python3-numpy python3-matplotlib
  clang libclang-rt-14-dev
  libssl-dev libopenmpi-dev openmpi-bin libjs-chart.js chromium
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "setup.sh: missing packages (${missing[*]}); run as root to install them" >&2
  exit 1
fi
echo "setup.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
