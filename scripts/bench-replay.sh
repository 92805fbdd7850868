#!/usr/bin/env bash
# Replays the same seeded node_exporter-like remote_write stream into Hush and into Prometheus
# (remote-write receiver enabled), back to back, and prints throughput and peak RSS of each.
# Usage: scripts/bench-replay.sh [HOSTS] [SCRAPES]   (needs a release build: cargo build --release)
set -euo pipefail
cd "$(dirname "$0")/.."
hosts=${1:-100}; scrapes=${2:-120}
hush=target/release/hush
work=$(mktemp -d); trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
cpu_ticks() { awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }
peak_rss_kib() { awk '/VmHWM/ {print $2}' "/proc/$1/status"; }
wait_ready() { for _ in $(seq 1 100); do curl -sf "$1" >/dev/null && return 0; sleep 0.2; done; echo "not ready: $1" >&2; exit 1; }

p=$(port)
"$hush" serve --data-dir "$work/hush" --listen 127.0.0.1:$p >"$work/hush.log" 2>&1 &
pid=$!; wait_ready http://127.0.0.1:$p/-/ready
echo "== Hush"
c0=$(cpu_ticks $pid)
"$hush" bench replay --url http://127.0.0.1:$p/api/v1/write --hosts "$hosts" --scrapes "$scrapes"
echo "server CPU: $(( $(cpu_ticks $pid) - c0 )) ticks (1/100 s); peak RSS: $(peak_rss_kib $pid) KiB"
kill $pid; wait $pid 2>/dev/null || true

p=$(port)
prometheus --config.file=/dev/null --web.enable-remote-write-receiver --storage.tsdb.path="$work/prom" \
  --web.listen-address=127.0.0.1:$p >"$work/prom.log" 2>&1 &
pid=$!; wait_ready http://127.0.0.1:$p/-/ready
echo "== Prometheus $(prometheus --version 2>&1 | head -n1 | awk '{print $3}')"
c0=$(cpu_ticks $pid)
"$hush" bench replay --url http://127.0.0.1:$p/api/v1/write --hosts "$hosts" --scrapes "$scrapes"
echo "server CPU: $(( $(cpu_ticks $pid) - c0 )) ticks (1/100 s); peak RSS: $(peak_rss_kib $pid) KiB"
kill $pid; wait $pid 2>/dev/null || true
