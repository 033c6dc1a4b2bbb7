#!/usr/bin/env bash
# Runs Podman's container healthchecks where systemd cannot: Podman schedules them as systemd timers
# ("unable to get systemd connection to add healthchecks" in the service log without it), so on a
# machine without systemd (this test bed, most containers) health stays "starting" forever and
# `depends_on: condition: service_healthy` or `cilo up --wait` never finish. Every 2 s, one
# `podman healthcheck run` per running container that has a healthcheck. scripts/test-podman.sh
# starts it; stop it by its pid file.
set -uo pipefail
while sleep 2; do
  for id in $(podman ps -q --filter health=starting --filter health=healthy --filter health=unhealthy 2>/dev/null); do
    podman healthcheck run "$id" >/dev/null 2>&1
  done
done
