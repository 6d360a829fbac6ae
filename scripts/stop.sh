#!/usr/bin/env bash
# Stops what ./scripts/run.sh left running: the cluster (its nodes with
# SIGTERM: each finishes its commits and releases its partitions; then the
# redis-server), and a single node an earlier version of run.sh started.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/cluster.sh stop

pid_file=.durable/node.pid
if [ ! -f "$pid_file" ]; then exit 0; fi
pid=$(cat "$pid_file")
if [ "$(cat "/proc/$pid/comm" 2>/dev/null)" != durable-node ]; then
  rm -f "$pid_file"
  exit 0
fi
kill -TERM "$pid"
for _ in $(seq 1 150); do
  kill -0 "$pid" 2>/dev/null || { rm -f "$pid_file"; echo "stopped durable-node (pid $pid)"; exit 0; }
  sleep 0.1
done
echo "durable-node (pid $pid) did not stop within 15 s" >&2
exit 1
