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
  libgrpc++-dev         # gRPC: the Durable Task protocol server (TaskHubSidecarService)
  libprotobuf-dev       # protobuf runtime for the protocol's generated messages
  protobuf-compiler     # protoc: generates the C++ from durabletask/orchestrator_service.proto
  protobuf-compiler-grpc  # grpc_cpp_plugin: protoc's generator for the service stubs
  chromium              # the dashboard's browser tests run it headless (puppeteer-core drives it)
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$p")
done
# Node.js and npm: the Durable Task SDK tests run JavaScript workers. Checked
# by command, not by package: a NodeSource "nodejs" bundles npm and conflicts
# with Debian's npm package, so only install Debian's pair when either is absent.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  missing+=(nodejs npm)
fi

if ((${#missing[@]} == 0)); then
  echo "setup: all ${#packages[@]} packages present"
else
  echo "setup: installing ${missing[*]}"
  sudo=""
  if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The npm packages the tests run, at the versions of each lock file: the
# Durable Task SDKs the protocol tests run, and puppeteer-core, which drives
# Debian's chromium in the dashboard's browser tests (it never downloads a
# browser). `npm ci` only when a lock file changed since the last one.
#
# A registry download can stall with no error, and npm then waits for ever
# (its own fetch timeout does not end a stalled body): a CI run once hung
# here until its time ran out. So each attempt has a deadline and is tried
# three times, and `--prefer-offline` takes what npm's cache already holds
# (the lock file pins every version and its integrity) instead of asking the
# registry again for each package.
npm_ci() {
  local dir="$(dirname "$0")/../$1"
  if [[ -f "$dir/node_modules/.package-lock.json" && ! "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]]; then
    return 0
  fi
  local attempt
  for attempt in 1 2 3; do
    echo "setup: npm ci in $1"
    if (cd "$dir" && timeout --kill-after=10 180 npm ci --prefer-offline --no-audit --no-fund --loglevel=error); then
      return 0
    fi
    echo "setup: npm ci in $1 failed or stalled past 180 s (attempt $attempt of 3)" >&2
  done
  echo "setup: npm ci in $1 did not finish in 3 attempts: is the npm registry reachable?" >&2
  return 1
}
npm_ci tests/durabletask/js
npm_ci tests/dashboard
# The package starts a system redis-server on 6379; we never use it (every
# test and node starts its own on a free port), so leave it alone either way.
