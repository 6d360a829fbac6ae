#!/usr/bin/env bash
# A local durable cluster: one shared redis-server and N durable-node
# processes, in the background, with their data, logs and pid files under
# ./.durable/cluster (of the directory it is run from).
set -euo pipefail

usage() {
  cat <<'HELP'
Usage: scripts/cluster.sh start [N] [NODE FLAGS...]   start a redis-server and N nodes (default 3)
       scripts/cluster.sh status                      show the nodes and who owns which partitions
       scripts/cluster.sh stop                        stop the nodes (SIGTERM), then the redis-server

start runs one redis-server (AOF on, appendfsync everysec) on 127.0.0.1:6390
(or the next free port) and nodes node-1..node-N with --redis pointing at it
and their HTTP API on 127.0.0.1:7071..707N. It waits until every node answers
/health and every partition is owned, then prints `durable cluster`. NODE
FLAGS go to every durable-node (see build/durable-node --help). What already
runs is kept, so start is safe to repeat.

A cluster always needs one shared Redis: nodes started without --redis would
each embed their own store and silently form separate one-node clusters.

Data, logs and pid files: ./.durable/cluster. Environment:
  DURABLE_REDIS_PORT      the redis-server's port (default 6390, or the next free one)
  DURABLE_HTTP_BASE_PORT  node-1's HTTP port; node-i gets base+i-1 (default 7071)
  DURABLE_GRPC_BASE_PORT  node-1's Durable Task gRPC port; node-i gets base+i-1 (default 4001)
  DURABLE_BIN_DIR         where durable-node and durable are (default ./build of
                          the project, built first if missing)
HELP
}

root=$(cd "$(dirname "$0")/.." && pwd)
bin=${DURABLE_BIN_DIR:-$root/build}
dir=$PWD/.durable/cluster
base_port=${DURABLE_HTTP_BASE_PORT:-7071}
grpc_base_port=${DURABLE_GRPC_BASE_PORT:-4001}
base=/runtime/webhooks/durabletask

# True when the pid in `file` runs the program `name` (a pid file can outlive
# its process, and the pid be reused by another).
alive() {
  local file=$1 name=$2 pid
  pid=$(cat "$file" 2>/dev/null) || return 1
  [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$name" ]
}

# True when something listens on 127.0.0.1:$1 (bash's /dev/tcp: no curl needed).
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# The nodes' --http-key, if they have one: from the start's NODE FLAGS or
# DURABLE_HTTP_KEY, kept (0600) for later status calls. The tool reads it
# from DURABLE_KEY.
key_file=$dir/http.key
http_key=${DURABLE_HTTP_KEY:-}
[ -z "$http_key" ] && [ -f "$key_file" ] && http_key=$(cat "$key_file")
export DURABLE_KEY=$http_key

# True when the node on 127.0.0.1:$1 answers GET /health with 200 (Redis reachable).
healthy() {
  local auth=""
  [ -n "$http_key" ] && auth="Authorization: Bearer $http_key"$'\r\n'
  (
    exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
    printf 'GET %s/health HTTP/1.0\r\nHost: 127.0.0.1\r\n%s\r\n' "$base" "$auth" >&3
    read -r -t 5 _ status _ <&3 || exit 1
    [ "$status" = 200 ]
  ) 2>/dev/null
}

ensure_built() {
  if [ ! -x "$bin/durable-node" ] || [ ! -x "$bin/durable" ]; then
    if [ -n "${DURABLE_BIN_DIR:-}" ]; then
      echo "cluster: no durable-node or durable in DURABLE_BIN_DIR=$bin" >&2
      exit 1
    fi
    "$root/scripts/build.sh"
  fi
}

# The redis-server's port: the running one's, DURABLE_REDIS_PORT, or 6390 or
# the next free port.
redis_port() {
  if alive "$dir/redis.pid" redis-server && [ -f "$dir/redis.port" ]; then
    cat "$dir/redis.port"
  elif [ -n "${DURABLE_REDIS_PORT:-}" ]; then
    echo "$DURABLE_REDIS_PORT"
  else
    local port
    for port in $(seq 6390 6489); do
      listening "$port" || { echo "$port"; return; }
    done
    echo "cluster: no free port in 6390-6489 for redis-server; set DURABLE_REDIS_PORT" >&2
    exit 1
  fi
}

start_redis() {
  local port=$1
  if alive "$dir/redis.pid" redis-server; then
    # One started before it had a password gets one (through stdin, not argv).
    if [ "$(redis-cli -p "$port" ping 2>/dev/null)" = PONG ]; then
      printf 'CONFIG SET requirepass %s\n' "$redis_password" | redis-cli -p "$port" >/dev/null
    fi
    echo "redis-server already runs on 127.0.0.1:$port (pid $(cat "$dir/redis.pid"))."
    return
  fi
  # The same settings as a node's embedded server: every acknowledged write
  # in the AOF (fsync'd every second), no RDB snapshots, small stream nodes
  # (every instance has two small streams), a private folder (umask 077) and
  # a password, which goes in a config file: ps shows a command line to every
  # local user.
  (umask 077 && printf '# written by scripts/cluster.sh\nrequirepass %s\n' "$redis_password" >"$dir/redis.conf")
  (umask 077 && exec redis-server "$dir/redis.conf" --bind 127.0.0.1 --port "$port" --dir "$dir" --save "" \
    --appendonly yes --appendfsync everysec --stream-node-max-bytes 256 --daemonize yes \
    --pidfile "$dir/redis.pid" --logfile "$dir/redis.log")
  echo "$port" >"$dir/redis.port"
  for _ in $(seq 1 100); do
    [ "$(REDISCLI_AUTH=$redis_password redis-cli -p "$port" ping 2>/dev/null)" = PONG ] && break
    sleep 0.1
  done
  if [ "$(REDISCLI_AUTH=$redis_password redis-cli -p "$port" ping 2>/dev/null)" != PONG ]; then
    echo "cluster: redis-server did not start on 127.0.0.1:$port:" >&2
    tail -20 "$dir/redis.log" >&2
    exit 1
  fi
  echo "Started redis-server on 127.0.0.1:$port (data and log in $dir)."
}

# start_node I REDIS_PORT [NODE FLAGS...]
start_node() {
  local i=$1 redis=$2 http=$((base_port + $1 - 1)) grpc=$((grpc_base_port + $1 - 1))
  shift 2
  local name=node-$i
  if alive "$dir/$name.pid" durable-node; then
    echo "$name already runs (pid $(cat "$dir/$name.pid"))."
    return
  fi
  # Its own session: it keeps running when this script (or the terminal) ends.
  # The Redis URL holds the password: it goes in the environment, and so
  # does the HTTP key, if any.
  local secrets=(DURABLE_REDIS="redis://:$redis_password@127.0.0.1:$redis")
  [ -n "$http_key" ] && secrets+=(DURABLE_HTTP_KEY="$http_key")
  env "${secrets[@]}" setsid nohup "$bin/durable-node" --node-id "$name" \
    --http "127.0.0.1:$http" --grpc "127.0.0.1:$grpc" "$@" >>"$dir/$name.log" 2>&1 </dev/null &
  echo $! >"$dir/$name.pid"
  echo "$http" >"$dir/$name.port"
  echo "Started $name (pid $!, HTTP 127.0.0.1:$http, gRPC 127.0.0.1:$grpc, log $dir/$name.log)."
}

# Waits until node I answers /health; fails with its log if it exits.
wait_healthy() {
  local name=node-$1 port
  port=$(cat "$dir/$name.port")
  for _ in $(seq 1 300); do
    healthy "$port" && return 0
    if ! alive "$dir/$name.pid" durable-node; then
      echo "cluster: $name exited:" >&2
      tail -20 "$dir/$name.log" >&2
      exit 1
    fi
    sleep 0.1
  done
  echo "cluster: $name does not answer on 127.0.0.1:$port/health after 30 s" >&2
  exit 1
}

# True when no partition is unowned and `count` live nodes each own at
# least their fair share (nodes joining take theirs a lease round later).
balanced() {
  local url=$1 count=$2 table total
  table=$("$bin/durable" --url "$url" cluster 2>/dev/null) || return 1
  grep -q unowned <<<"$table" && return 1
  total=$("$bin/durable" --url "$url" --json cluster | sed -n 's/^  "partitions": \([0-9]*\),\{0,1\}$/\1/p')
  [ -n "$total" ] || return 1
  [ "$(awk -v share=$((total / count)) 'NR > 1 && $2 == "live" && $3 + 0 >= share' <<<"$table" | wc -l)" -ge "$count" ]
}

start() {
  local count=3
  if [[ ${1:-} =~ ^[0-9]+$ ]]; then count=$1; shift; fi
  ((count >= 1)) || { echo "cluster: N must be at least 1" >&2; exit 2; }
  ensure_built
  (umask 077 && mkdir -p "$dir")
  chmod 700 "$dir"
  if [ ! -s "$dir/redis.password" ]; then
    (umask 077 && head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$dir/redis.password")
  fi
  redis_password=$(cat "$dir/redis.password")
  # A key among the node flags goes to the nodes through the environment,
  # not their command lines (which `ps` shows to every local user).
  local arg prev="" node_flags=()
  for arg in "$@"; do
    if [ "$prev" = --http-key ]; then
      http_key=$arg
    elif [[ $arg == --http-key=* ]]; then
      http_key=${arg#--http-key=}
    elif [ "$arg" != --http-key ]; then
      node_flags+=("$arg")
    fi
    prev=$arg
  done
  set -- ${node_flags[@]+"${node_flags[@]}"}
  export DURABLE_KEY=$http_key
  rm -f "$key_file"
  if [ -n "$http_key" ]; then (umask 077 && printf '%s' "$http_key" >"$key_file"); fi
  local redis i url=http://127.0.0.1:$base_port
  redis=$(redis_port)
  start_redis "$redis"
  for i in $(seq 1 "$count"); do start_node "$i" "$redis" "$@"; done
  for i in $(seq 1 "$count"); do wait_healthy "$i"; done
  for _ in $(seq 1 600); do
    balanced "$url" "$count" && break
    sleep 0.1
  done
  balanced "$url" "$count" || echo "cluster: the partitions are not all owned yet after 60 s" >&2
  echo
  "$bin/durable" --url "$url" cluster
}

# The URL of the first node started here that answers.
any_node() {
  local file
  for file in "$dir"/node-*.port; do
    [ -f "$file" ] || continue
    if healthy "$(cat "$file")"; then
      echo "http://127.0.0.1:$(cat "$file")"
      return 0
    fi
  done
  return 1
}

status() {
  ensure_built
  if alive "$dir/redis.pid" redis-server; then
    echo "redis-server on 127.0.0.1:$(cat "$dir/redis.port") (pid $(cat "$dir/redis.pid"))"
  else
    echo "no redis-server started by scripts/cluster.sh is running"
  fi
  local url
  if ! url=$(any_node); then
    echo "no node started by scripts/cluster.sh answers"
    return 1
  fi
  "$bin/durable" --url "$url" cluster
}

# SIGTERM to the process in `file` (if it runs `name`) and waits up to 20 s.
stop_process() {
  local file=$1 name=$2 label=$3 pid
  if ! alive "$file" "$name"; then
    rm -f "$file"
    return 0
  fi
  pid=$(cat "$file")
  kill -TERM "$pid"
  for _ in $(seq 1 200); do
    if ! alive "$file" "$name"; then
      rm -f "$file"
      echo "stopped $label (pid $pid)"
      return 0
    fi
    sleep 0.1
  done
  echo "cluster: $label (pid $pid) did not stop within 20 s" >&2
  return 1
}

stop() {
  local file failed=0 pids=()
  if ! compgen -G "$dir/*.pid" >/dev/null; then
    echo "no cluster started by scripts/cluster.sh runs here"
    return 0
  fi
  # All nodes at once: each finishes its commits and releases its leases.
  for file in "$dir"/node-*.pid; do
    [ -f "$file" ] || continue
    stop_process "$file" durable-node "$(basename "$file" .pid)" &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
  # Redis last: stopping nodes still write to it. SIGTERM flushes its AOF.
  stop_process "$dir/redis.pid" redis-server redis-server || failed=1
  return "$failed"
}

case "${1:-}" in
  start) shift; start "$@" ;;
  status) status ;;
  stop) stop ;;
  -h|--help|help) usage ;;
  *) usage >&2; exit 2 ;;
esac
