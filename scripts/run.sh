#!/usr/bin/env bash
# The main job: set up, build, and run the samples. For now that is the demo
# of the replay engine (in memory, virtual clock); the cluster comes later.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/build.sh
exec ./build/durable-demo "$@"
