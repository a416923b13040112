#!/usr/bin/env bash
# Usage: scripts/with-postgres.sh CMD [ARGS...]
#
# Starts a throw-away PostgreSQL cluster (Debian's binaries, highest installed version) in a
# temporary directory, listening on 127.0.0.1 on a free port with unix sockets inside that
# directory, creates database amtsweg_test (owner amtsweg, trust auth), exports
#   AMTSWEG_TEST_POSTGRES_URL=postgres://amtsweg@127.0.0.1:PORT/amtsweg_test
# runs CMD, then always stops the cluster and deletes the directory. Exits with CMD's status.
#
# initdb/postgres refuse to run as root, so as root the server runs as the system user
# amtsweg-pg (created if missing); CMD itself runs as the calling user.
set -euo pipefail

if (($# == 0)); then
  echo "usage: $0 CMD [ARGS...]" >&2
  exit 2
fi

# Highest PostgreSQL major version installed by Debian's packages.
pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5,5n | tail -n1 || true)
if [[ -z "$pg_bin" || ! -x "$pg_bin/initdb" ]]; then
  echo "with-postgres: no PostgreSQL server in /usr/lib/postgresql/*/bin (run scripts/setup-debian.sh)" >&2
  exit 1
fi

# Run a PostgreSQL server binary as the unprivileged owner of the cluster.
if [[ $(id -u) -eq 0 ]]; then
  pg_user=amtsweg-pg
  if ! id "$pg_user" >/dev/null 2>&1; then
    useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$pg_user"
  fi
  as_pg() { runuser -u "$pg_user" -- "$@"; }
else
  pg_user=$(id -un)
  as_pg() { "$@"; }
fi

# Short fixed parent: unix socket paths must stay under ~107 bytes.
dir=$(mktemp -d /tmp/amtsweg-pg.XXXXXX)
chmod 700 "$dir"
chown "$pg_user" "$dir"
data="$dir/data"
log="$dir/postgres.log"
started=0

cleanup() {
  local rc=$?
  if ((started)); then
    as_pg "$pg_bin/pg_ctl" -D "$data" -m fast -w -t 30 stop >/dev/null 2>&1 ||
      as_pg "$pg_bin/pg_ctl" -D "$data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --no-sync only skips flushing the freshly created template files; the server itself runs with fsync=on.
as_pg "$pg_bin/initdb" -D "$data" -U amtsweg -A trust -E UTF8 --locale=C.UTF-8 --no-sync >"$dir/initdb.log" 2>&1 || {
  cat "$dir/initdb.log" >&2
  exit 1
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Another process may grab the port between probing and binding: retry a few times.
for attempt in 1 2 3; do
  port=$(free_port)
  # Durability settings as in production (an acknowledged application must be fsynced).
  if as_pg "$pg_bin/pg_ctl" -D "$data" -l "$log" -w -t 60 -o \
    "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=on -c synchronous_commit=on" \
    start >/dev/null; then
    started=1
    break
  fi
  echo "with-postgres: start on port $port failed (attempt $attempt)" >&2
  tail -n 20 "$log" >&2 || true
done
if ((!started)); then
  exit 1
fi

"$pg_bin/createdb" -h 127.0.0.1 -p "$port" -U amtsweg amtsweg_test

export AMTSWEG_TEST_POSTGRES_URL="postgres://amtsweg@127.0.0.1:$port/amtsweg_test"
echo "with-postgres: PostgreSQL $("$pg_bin/postgres" -V | awk '{print $3}') on 127.0.0.1:$port (AMTSWEG_TEST_POSTGRES_URL set)"

# Run CMD; its status becomes ours (the EXIT trap re-raises it after cleaning up).
set +e
"$@"
rc=$?
set -e
exit "$rc"
