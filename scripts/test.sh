#!/usr/bin/env bash
# The project's test command: every crate's unit and integration tests, including the ones
# that run real Prometheus, node_exporter, Alertmanager, PostgreSQL and a headless Chromium on
# loopback (.ci/run installs those). The browser tests drive Chromium with playwright-core, so
# the UI's pinned npm packages are installed first when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d ui/node_modules/playwright-core ]; then
  (cd ui && npm ci --no-audit --no-fund --loglevel=error)
fi
cargo test --workspace "$@"
