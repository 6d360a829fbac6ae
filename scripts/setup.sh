#!/usr/bin/env bash
# Installs every Debian package the project needs to build, test and run.
# Idempotent: packages already installed are skipped, and apt is not touched
# at all when nothing is missing. Needs root (or sudo) only when something
# has to be installed.
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  libcaf-dev            # CAF 0.17: actors and node-to-node messaging
  libhiredis-dev        # Redis client
  redis-server          # the store (tests and the embedded default start their own)
  libmsgpack-cxx-dev    # msgpack-c, C++ headers
  libboost-dev          # msgpack-cxx's CMake config requires Boost headers
  libspdlog-dev libfmt-dev
  libjemalloc-dev       # the node's allocator (about 15% more episodes/s than glibc's here)
  libssl-dev            # OpenSSL: the CSPRNG behind random GUIDs (request ids)
  nlohmann-json3-dev libcpp-httplib-dev libcli11-dev
  libgtest-dev libgmock-dev libbenchmark-dev
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
  echo "setup: all ${#packages[@]} packages present"
  exit 0
fi

echo "setup: installing ${missing[*]}"
sudo=""
if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
# The package starts a system redis-server on 6379; we never use it (every
# test and node starts its own on a free port), so leave it alone either way.
