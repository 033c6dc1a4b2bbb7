#!/usr/bin/env bash
# End-to-end demo on a fresh Debian machine (as root): installs what is missing, builds cilo,
# then makes two isolated copies of examples/basic side by side, shows them, reaches each by its
# DNS name through cilo's dnsmasq and by its zero-set-up .localhost name through the gateway, and
# destroys them. Uses its own CILO_HOME (removed at the end), DNS port and gateway port, so it
# never touches a real ~/.cilo or port 80.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d node_modules ] || npm ci --no-audit --no-fund
npm run build --silent
CILO_NO_DENO=1 bash scripts/test-env.sh

export CILO_HOME="${CILO_HOME:-$(mktemp -d /tmp/cilo-demo.XXXXXX)}"
PORT="${CILO_DEMO_DNS_PORT:-15354}"
GW_PORT="${CILO_DEMO_GATEWAY_PORT:-18080}"
# The offline gateway image scripts/test-env.sh built (users get caddy:2, pulled on first use).
export CILO_GATEWAY_IMAGE="${CILO_GATEWAY_IMAGE:-cilo-test/caddy:latest}"
cilo() { node dist/cilo.mjs "$@"; }
# Prints the command as it runs it, then runs it: what you see is what ran.
run() {
  printf '\n\033[1m$ %s\033[0m\n' "$*"
  "$@"
}
cleanup() {
  cilo destroy basic/demo-a --force >/dev/null 2>&1 || true
  cilo destroy basic/demo-b --force >/dev/null 2>&1 || true
  cilo dns stop >/dev/null 2>&1 || true
  rm -rf "$CILO_HOME"
}
trap cleanup EXIT

run cilo init --dns-port "$PORT" --gateway-http-port "$GW_PORT"
run cilo create demo-a --from examples/basic
run cilo create demo-b --from examples/basic
run cilo up basic/demo-a --wait
run cilo up basic/demo-b --wait
run cilo list
run cilo status basic/demo-a
for env in demo-a demo-b; do
  ip=$(dig @127.0.0.1 -p "$PORT" +short "web.$env.test")
  printf '\nweb.%s.test -> %s: ' "$env" "$ip"
  busybox wget -q -O - "http://$ip/" | grep -o "<h1>.*</h1>"
done
# The way a user reaches it: by name, no resolver set-up (curl sends *.localhost to 127.0.0.1).
for env in demo-a demo-b; do
  run curl -sS "http://web.$env.basic.localhost:$GW_PORT/"
done
run cilo destroy basic/demo-a --force
run cilo destroy basic/demo-b --force
run cilo list
echo
echo "demo: OK"
