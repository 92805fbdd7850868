#!/usr/bin/env bash
# Rebuilds the web UI's committed assets (ui/dist) from ui/src with the locked npm packages.
# `--check` rebuilds and fails if the result differs from what is committed (CI runs it).
set -euo pipefail
cd "$(dirname "$0")/../ui"
# playwright-core needs Node.js 20 or later (Debian 12's own nodejs is 18).
node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' || {
  echo "Node.js $(node --version) is too old: the UI tooling needs Node.js 20 or later" >&2
  exit 1
}
npm ci --no-audit --no-fund
npm run build
if [ "${1:-}" = "--check" ]; then
  git diff --exit-code --stat -- dist || {
    echo "ui/dist is out of date: run scripts/build-ui.sh and commit ui/dist" >&2
    exit 1
  }
  if [ -n "$(git status --porcelain -- dist)" ]; then
    git status --porcelain -- dist >&2
    echo "ui/dist has files that are not committed: run scripts/build-ui.sh and commit ui/dist" >&2
    exit 1
  fi
fi
