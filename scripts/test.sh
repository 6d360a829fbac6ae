#!/usr/bin/env bash
# Set up, build, and run every test (ctest). Tests start their own
# redis-server on free loopback ports; nothing else needs to run.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/build.sh
ctest --test-dir build --output-on-failure -j"$(nproc)" "$@"
