#!/usr/bin/env bash
# Regenerates docs/screenshots/*.png: runs the demo, then photographs each page of the web UI
# in headless chromium. Needs node, chromium and `npm ci` in ui/ (scripts/build-ui.sh does it).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build -p hush-cli
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
data=$(mktemp -d)
target/debug/hush demo --scenario db-slowdown --seed 1 --speed 0 --duration 2h \
  --listen "127.0.0.1:$port" --data-dir "$data/data" >"$data/demo.log" 2>&1 &
demo=$!
trap 'kill $demo 2>/dev/null || true; wait $demo 2>/dev/null || true; rm -rf "$data"' EXIT
# Wait until the simulated run is over, so every panel has its data.
for _ in $(seq 1 600); do
  grep -q "The run is over" "$data/demo.log" && break
  kill -0 $demo 2>/dev/null || { cat "$data/demo.log" >&2; exit 1; }
  sleep 0.5
done
grep -q "The run is over" "$data/demo.log" || { echo "the demo did not finish in 5 minutes" >&2; exit 1; }
mkdir -p docs/screenshots
(cd ui && DEMO_URL="http://127.0.0.1:$port" SHOTS_DIR="$PWD/../docs/screenshots" node tests/e2e.mjs)
