#!/usr/bin/env bash
# The main job: set up, build, start a node on its embedded redis-server
# (data in ./.durable), run every sample through the C++ client, print their
# outputs, stop. Extra arguments go to durable-node (see --help).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/build.sh
exec ./build/durable-node --run-samples "$@"
