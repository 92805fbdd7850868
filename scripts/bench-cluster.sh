#!/usr/bin/env bash
# Ingest throughput of one node in embedded mode, one node in cluster mode and three nodes in
# cluster mode (each on its own fresh NATS JetStream server and data directories, run back to
# back with the same seeded remote_write stream), then remote_write-to-queryable latency in the
# three-node cluster (written to one node, read on another through the query fan-out).
# Every process shares this machine's cores: three nodes on two cores measure overhead, not
# scale-out.
# Usage: scripts/bench-cluster.sh [HOSTS] [SCRAPES] [PROBES]   (needs: cargo build --release, nats-server)
set -euo pipefail
cd "$(dirname "$0")/.."
hosts=${1:-100}; scrapes=${2:-60}; probes=${3:-200}
hush=${HUSH:-target/release/hush}
work=$(mktemp -d); trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_ready() { for _ in $(seq 1 150); do curl -sf "$1" >/dev/null && return 0; sleep 0.2; done; echo "not ready: $1" >&2; exit 1; }

# Processes are started in this shell (not in $(...)) so that stop_all can kill them; each
# function leaves its address in URL.
start_nats() {
  local p; p=$(port)
  nats-server -a 127.0.0.1 -p "$p" -js -sd "$work/nats-$1" >"$work/nats-$1.log" 2>&1 &
  for _ in $(seq 1 100); do (echo >/dev/tcp/127.0.0.1/$p) 2>/dev/null && break; sleep 0.1; done
  URL="nats://127.0.0.1:$p"
}

# start_node NAME NATS_URL|""
start_node() {
  local name=$1 nats=$2 p; p=$(port)
  mkdir -p "$work/$name"
  if [ -n "$nats" ]; then
    printf 'cluster:\n  nats: [%s]\n  node_id: %s\n  shards: 12\n  lease: 5s\n' "$nats" "$name" >"$work/$name.yaml"
  else
    : >"$work/$name.yaml"
  fi
  "$hush" serve --config "$work/$name.yaml" --data-dir "$work/$name" --listen 127.0.0.1:$p >"$work/$name.log" 2>&1 &
  wait_ready "http://127.0.0.1:$p/-/ready"
  URL="http://127.0.0.1:$p"
}

stop_all() { kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; }

replay() {
  local args=()
  for u in "$@"; do args+=(--url "$u/api/v1/write"); done
  "$hush" bench replay "${args[@]}" --hosts "$hosts" --scrapes "$scrapes"
}

echo "== one node, embedded"
start_node embedded ""; a=$URL
replay "$a"
stop_all

echo "== one node, cluster (one NATS server)"
start_nats one; n=$URL
start_node c1 "$n"; a=$URL
sleep 6  # the node claims every shard
replay "$a"
stop_all

echo "== three nodes, cluster (one NATS server), requests spread over the three"
start_nats three; n=$URL
start_node n1 "$n"; a=$URL
start_node n2 "$n"; b=$URL
start_node n3 "$n"; c=$URL
sleep 12  # shards spread over the three nodes
replay "$a" "$b" "$c"
echo "== remote_write to queryable, three-node cluster (written to one node, read on the next)"
"$hush" bench latency --write "$a/api/v1/write" --write "$b/api/v1/write" --write "$c/api/v1/write" \
  --query "$a" --query "$b" --query "$c" --probes "$probes"
stop_all
