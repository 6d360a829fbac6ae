#!/usr/bin/env bash
# The main job: set up, build, start a node on its embedded redis-server
# (data in ./.durable) with the HTTP API on 127.0.0.1:7071, run every sample
# through the `durable` tool, and leave the node running. Extra arguments go
# to durable-node (see ./build/durable-node --help).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/build.sh
url=http://127.0.0.1:7071
mkdir -p .durable
if ./build/durable --url "$url" list --top 1 >/dev/null 2>&1; then
  echo "A node already answers on $url: using it."
else
  # Its own session: it keeps running when this script (or the terminal) ends.
  setsid nohup ./build/durable-node --http 127.0.0.1:7071 "$@" >.durable/node.log 2>&1 </dev/null &
  echo $! >.durable/node.pid
  for _ in $(seq 1 100); do
    ./build/durable --url "$url" list --top 1 >/dev/null 2>&1 && break
    if ! kill -0 "$(cat .durable/node.pid)" 2>/dev/null; then
      echo "durable-node did not start:" >&2
      tail -20 .durable/node.log >&2
      exit 1
    fi
    sleep 0.1
  done
  echo "Started durable-node (pid $(cat .durable/node.pid), log .durable/node.log)."
fi

./scripts/samples.sh

cat <<MSG

The node keeps running. Try its HTTP API (Durable Functions' routes):
  curl -si -X POST $url/runtime/webhooks/durabletask/orchestrators/HelloSequence -d '["Lima"]'
  curl -s "$url/runtime/webhooks/durabletask/instances/<id>?showHistory=true"
  curl -s $url/runtime/webhooks/durabletask/instances
  curl -s -X POST "$url/runtime/webhooks/durabletask/entities/Counter/demo?op=add" -d 5
  curl -s $url/runtime/webhooks/durabletask/entities/Counter/demo
  curl -s $url/runtime/webhooks/durabletask/metrics
or the tool: ./build/durable --help
Stop it with ./scripts/stop.sh (or Ctrl-C / SIGTERM to its pid).
MSG
