#!/usr/bin/env bash
# The main job: set up, build, start a 3-node cluster on one shared
# redis-server (scripts/cluster.sh; data, logs and pids in ./.durable/cluster)
# with the nodes' HTTP APIs on 127.0.0.1:7071-7073, run every sample through
# the `durable` tool against node 1, show which node owns which partitions,
# and leave the cluster running. Extra arguments go to every durable-node
# (see ./build/durable-node --help).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/build.sh
url=http://127.0.0.1:${DURABLE_HTTP_BASE_PORT:-7071}
# An earlier version of this script left a single node (with its own
# embedded Redis) holding port 7071: stop it, the cluster takes over.
if [ -f .durable/node.pid ]; then ./scripts/stop.sh; fi
./scripts/cluster.sh start 3 "$@"

DURABLE_URL=$url ./scripts/samples.sh

printf '\n== The cluster (which node owns which partitions)\n'
./build/durable --url "$url" cluster

cat <<MSG

The dashboard (instances, histories, entities, the cluster, dead letters):
  $url/dashboard/    (every node serves it; with --http-key it asks for the key)

The cluster keeps running: three nodes on one redis-server, any of them
serves the whole hub. Try node 1's HTTP API (Durable Functions' routes):
  curl -si -X POST $url/runtime/webhooks/durabletask/orchestrators/HelloSequence -d '["Lima"]'
  curl -s "$url/runtime/webhooks/durabletask/instances/<id>?showHistory=true"
  curl -s $url/runtime/webhooks/durabletask/instances
  curl -s -X POST "$url/runtime/webhooks/durabletask/entities/Counter/demo?op=add" -d 5
  curl -s $url/runtime/webhooks/durabletask/entities/Counter/demo
  curl -s $url/runtime/webhooks/durabletask/cluster
  curl -s $url/runtime/webhooks/durabletask/metrics
or the tool: ./build/durable --help (./build/durable cluster shows the nodes).
./scripts/cluster.sh status shows the cluster; stop it with ./scripts/stop.sh.
MSG
