#!/usr/bin/env bash
# The project's test command: every crate's unit and integration tests, including the ones
# that run real Prometheus, node_exporter and PostgreSQL on loopback.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --workspace "$@"
