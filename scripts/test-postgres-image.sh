#!/usr/bin/env bash
# Builds the offline test image cilo-test/postgres:latest from Debian's postgresql package installed
# on this machine (no registry is needed): the server, initdb, pg_ctl, psql and pg_isready with the
# libraries `ldd` names, the share folder, plpgsql, zoneinfo, and busybox for a shell. Skipped when
# the image of this revision exists. Called by scripts/test-env.sh (which installs the package).
#
# The image behaves like the official postgres image for what the tests use: POSTGRES_USER
# (default postgres), PGDATA (default /var/lib/postgresql/data), *.sql in
# /docker-entrypoint-initdb.d run once on first start, trust authentication, port 5432. The init
# scripts run on a server that listens only on a socket in /tmp, so a client on the usual socket
# (/var/run/postgresql) or on TCP reaches the server only once initialisation is done.
set -euo pipefail

log() { printf 'test-env: %s\n' "$*" >&2; }
IMAGE="${CILO_TEST_POSTGRES_IMAGE:-cilo-test/postgres:latest}"
# Bump when the image's contents change, so machines that have an older one rebuild it.
REVISION=1

have_rev=$(docker image inspect --format '{{ index .Config.Labels "cilo.test.image.revision" }}' "$IMAGE" 2>/dev/null || true)
[ "$have_rev" = "$REVISION" ] && exit 0

pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)
if [ -z "$pgbin" ] || [ ! -x "$pgbin/postgres" ]; then
  log "Debian's postgresql package is not installed (apt-get install -y postgresql); cannot build $IMAGE"
  exit 3
fi
pglib=$(dirname "$pgbin")/lib
major=$(basename "$(dirname "$pgbin")")
log "building $IMAGE from Debian's postgresql $major"
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/bin" "$root/tmp" "$root/etc" "$root$pgbin" "$root$pglib" "$root/usr/share/postgresql" \
  "$root/var/run/postgresql" "$root/var/lib/postgresql/data" "$root/docker-entrypoint-initdb.d"
bins=(postgres initdb pg_ctl psql pg_isready)
for b in "${bins[@]}"; do cp "$pgbin/$b" "$root$pgbin/$b"; done
# initdb loads plpgsql and the snowball dictionaries; nothing else of lib/ is needed to run.
for so in plpgsql.so dict_snowball.so; do cp "$pglib/$so" "$root$pglib/$so"; done
for lib in $(for b in "${bins[@]}"; do ldd "$pgbin/$b"; done | grep -o '/[^ ]*' | sort -u); do
  mkdir -p "$root$(dirname "$lib")"
  cp -L "$lib" "$root$lib"
done
cp -a "/usr/share/postgresql/$major" "$root/usr/share/postgresql/$major"
mkdir -p "$root/usr/share/zoneinfo"
cp -a /usr/share/zoneinfo/. "$root/usr/share/zoneinfo/"
cp /bin/busybox "$root/bin/busybox"
for applet in sh cat ls mkdir rm mv sleep echo env grep sed id chmod; do ln -sf busybox "$root/bin/$applet"; done
printf 'root:x:0:0:root:/root:/bin/sh\npostgres:x:999:999:postgres:/var/lib/postgresql:/bin/sh\n' >"$root/etc/passwd"
printf 'root:x:0:\npostgres:x:999:\n' >"$root/etc/group"
cat >"$root/usr/local-entrypoint.sh" <<'SH'
#!/bin/sh
# cilo-test/postgres: initialise PGDATA on first start (running /docker-entrypoint-initdb.d/*.sql),
# then run the server on all addresses, trusting every client (a test image).
set -e
PGDATA="${PGDATA:-/var/lib/postgresql/data}"
user="${POSTGRES_USER:-postgres}"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  initdb -D "$PGDATA" -U "$user" --auth=trust -E UTF8 --locale=C >/dev/null
  printf "listen_addresses = '*'\njit = off\n" >>"$PGDATA/postgresql.conf"
  printf 'host all all 0.0.0.0/0 trust\nhost all all ::/0 trust\n' >>"$PGDATA/pg_hba.conf"
  if ls /docker-entrypoint-initdb.d/*.sql >/dev/null 2>&1; then
    pg_ctl -D "$PGDATA" -w -o "-c listen_addresses='' -k /tmp" start >/dev/null
    for f in /docker-entrypoint-initdb.d/*.sql; do psql -h /tmp -U "$user" -d postgres -v ON_ERROR_STOP=1 -q -f "$f"; done
    pg_ctl -D "$PGDATA" -w stop >/dev/null
  fi
fi
exec postgres -D "$PGDATA"
SH
chmod +x "$root/usr/local-entrypoint.sh"
chmod 1777 "$root/tmp"
chown -R 999:999 "$root/var/run/postgresql" "$root/var/lib/postgresql"
chmod 700 "$root/var/lib/postgresql/data"
tar -C "$root" --numeric-owner -c . | docker import \
  --change "ENV PATH=/bin:$pgbin" \
  --change 'ENV TZ=UTC' \
  --change 'ENV PGDATA=/var/lib/postgresql/data' \
  --change 'USER postgres' \
  --change 'EXPOSE 5432' \
  --change 'CMD ["/usr/local-entrypoint.sh"]' \
  --change "LABEL cilo.test.image.revision=$REVISION" \
  - "$IMAGE" >/dev/null
