#!/usr/bin/env bash
# Start a throwaway PostgreSQL for the tests and print its URL on stdout.
# Installs Debian's postgresql package when no server is on the machine. The cluster lives in
# $1 (default: a fresh temporary folder) and listens on 127.0.0.1 only.
set -euo pipefail
dir=${1:-$(mktemp -d /tmp/trainyard-pg.XXXXXX)}
mkdir -p "$dir"
port=${TRAINYARD_TEST_PG_PORT:-$(python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")}

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
  echo "installing PostgreSQL from Debian's packages..." >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq postgresql >&2
  bindir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
fi

as_owner=()
if [ "$(id -u)" = 0 ]; then
  chown postgres "$dir"
  as_owner=(runuser -u postgres --)
fi
if [ ! -f "$dir/PG_VERSION" ]; then
  "${as_owner[@]}" "$bindir/initdb" -D "$dir" -U postgres --auth=trust -E UTF8 >/dev/null
fi
"${as_owner[@]}" "$bindir/pg_ctl" -D "$dir" -l "$dir/server.log" -w \
  -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=on" start >/dev/null
"$bindir/psql" -h 127.0.0.1 -p "$port" -U postgres -tAc \
  "SELECT 1 FROM pg_database WHERE datname='trainyard_test'" | grep -q 1 ||
  "$bindir/createdb" -h 127.0.0.1 -p "$port" -U postgres trainyard_test
echo "postgresql://postgres@127.0.0.1:$port/trainyard_test"
