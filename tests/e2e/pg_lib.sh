# SPDX-License-Identifier: Apache-2.0
# pg_lib.sh - a throwaway PostgreSQL cluster for the e2e tests (sourced, not run).
# Debian's postgresql 15 server binaries (initdb/pg_ctl), 127.0.0.1 only, run as the postgres
# user when we are root. `pg_lib_start NAME` skips the test (exit 77) when the binaries are
# absent, makes the work directory $T (and cd's into it), starts the cluster with database
# "kbs" and sets URL. The EXIT trap resumes a stopped postmaster ($FROZEN), kills $PIDS, stops
# the cluster and removes $T. Also defines ok/bad counting into pass/fail.
set -u
BIN=${VERITEE_BIN:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build/bin}
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
PIDS=()
AS=()
FROZEN=
pass=0; fail=0
ok()  { pass=$((pass+1)); echo "ok: $*"; }
bad() { fail=$((fail+1)); echo "FAIL: $*"; }

pg_lib_cleanup() {
  [ -n "$FROZEN" ] && kill -CONT $FROZEN 2>/dev/null
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  "${AS[@]}" "$PGBIN/pg_ctl" -D "$PGDATA" -m immediate stop >/dev/null 2>&1
  rm -rf "$T"
}

pg_lib_start() { # NAME
  if [ ! -x "$PGBIN/initdb" ] || [ ! -x "$PGBIN/pg_ctl" ]; then
    echo "SKIP: PostgreSQL server binaries not found in $PGBIN (apt-get install postgresql)"
    exit 77
  fi
  T=$(mktemp -d "/tmp/vt-$1.XXXXXX")
  chmod 755 "$T"
  if [ "$(id -u)" = 0 ]; then AS=(runuser -u postgres --); fi
  PGDATA=$T/pgdata
  trap pg_lib_cleanup EXIT
  cd "$T" || exit 1
  mkdir -p pgdata pgsock && { [ ${#AS[@]} = 0 ] || chown postgres: pgdata pgsock; }
  "${AS[@]}" "$PGBIN/initdb" -D "$PGDATA" -A trust -U veritee >/dev/null \
    || { echo "FAIL: initdb"; exit 1; }
  PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  "${AS[@]}" "$PGBIN/pg_ctl" -D "$PGDATA" -w -l "$T/pgsock/pg.log" \
    -o "-c listen_addresses=127.0.0.1 -p $PORT -k $T/pgsock -c max_connections=100 -c fsync=on" \
    start >/dev/null || { echo "FAIL: pg_ctl start"; cat "$T/pgsock/pg.log"; exit 1; }
  "${AS[@]}" "$PGBIN/createdb" -h 127.0.0.1 -p "$PORT" -U veritee kbs 2>/dev/null \
    || psql -h 127.0.0.1 -p "$PORT" -U veritee -d postgres -c 'CREATE DATABASE kbs' >/dev/null
  URL="postgresql://veritee@127.0.0.1:$PORT/kbs"
}
