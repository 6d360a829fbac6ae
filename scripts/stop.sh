#!/usr/bin/env bash
# Stops the node that ./scripts/run.sh left running (SIGTERM: it finishes
# its commits, releases its partitions and stops its redis-server).
set -euo pipefail
cd "$(dirname "$0")/.."
pid_file=.durable/node.pid
if [ ! -f "$pid_file" ] || ! kill -0 "$(cat "$pid_file")" 2>/dev/null; then
  echo "no node started by scripts/run.sh is running"
  rm -f "$pid_file"
  exit 0
fi
pid=$(cat "$pid_file")
kill -TERM "$pid"
for _ in $(seq 1 150); do
  kill -0 "$pid" 2>/dev/null || { rm -f "$pid_file"; echo "stopped durable-node (pid $pid)"; exit 0; }
  sleep 0.1
done
echo "durable-node (pid $pid) did not stop within 15 s" >&2
exit 1
