#!/usr/bin/env bash
# Installs the pinned Deno (from the npm package `deno`, which ships the binary) into .tools/deno,
# idempotently, and prints the binary's path. Kept out of package.json: npm cannot record the
# package's per-platform optional dependencies in package-lock.json, which breaks `npm ci`.
set -euo pipefail
cd "$(dirname "$0")/.."
DENO_VERSION="${CILO_DENO_VERSION:-2.9.6}"
dir=".tools/deno"
bin="$dir/node_modules/.bin/deno"
if ! { [ -x "$bin" ] && "$bin" --version 2>/dev/null | grep -q "^deno $DENO_VERSION "; }; then
  mkdir -p "$dir"
  [ -f "$dir/package.json" ] || echo '{"private": true}' >"$dir/package.json"
  npm install --prefix "$dir" --no-audit --no-fund --no-save --loglevel=error "deno@$DENO_VERSION" >&2
fi
echo "$PWD/$bin"
