#!/usr/bin/env bash
# KBS benchmark in one run: SQLite and PostgreSQL stores, full protocol runs/s (sim evidence)
# and token fetches/s. usage: src/kbs/kbs_bench.sh BUILD_DIR [THREADS] [SECONDS]
set -u
B=$(cd "${1:-build}" && pwd); TH=${2:-8}; S=${3:-5}
PGBIN=/usr/lib/postgresql/15/bin
T=$(mktemp -d /tmp/vt-kbs-bench.XXXXXX); chmod 755 "$T"; cd "$T" || exit 1
AS=(); [ "$(id -u)" = 0 ] && AS=(runuser -u postgres --)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null
  "${AS[@]}" "$PGBIN/pg_ctl" -D "$T/pgdata" -m immediate stop >/dev/null 2>&1; rm -rf "$T"; }
trap cleanup EXIT
"$B/bin/veritee" sim init sim >/dev/null 2>&1
printf 'bench secret' > secret
printf '{"version":1,"rules":[{"name":"b","resources":["default/*/*"],"tee":["sim"]}]}' > pol.json
mkdir -p pgdata pgsock; [ ${#AS[@]} = 0 ] || chown postgres: pgdata pgsock
"${AS[@]}" "$PGBIN/initdb" -D "$T/pgdata" -A trust -U veritee >/dev/null
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"${AS[@]}" "$PGBIN/pg_ctl" -D "$T/pgdata" -w -l "$T/pgsock/log" -o "-c listen_addresses=127.0.0.1 -p $PORT -k $T/pgsock" start >/dev/null
psql -h 127.0.0.1 -p "$PORT" -U veritee -d postgres -qc 'CREATE DATABASE kbs'
for store in "$T/db.sqlite" "postgresql://veritee@127.0.0.1:$PORT/kbs"; do
  label=sqlite; case $store in postgresql*) label=postgresql;; esac
  "$B/bin/veritee-kbs-dev" put-resource --store "$store" --master-key mk default/key/b secret
  "$B/bin/veritee-kbs-dev" set-policy --store "$store" --master-key mk pol.json
  "$B/bin/veritee-kbs-dev" serve --store "$store" --master-key mk --listen 127.0.0.1:0 \
     --port-file "$label.port" --allow-sim --root-ca sim/root-ca.pem --threads "$TH" 2>/dev/null &
  PIDS+=($!)
  for _ in $(seq 50); do [ -s "$label.port" ] && break; sleep 0.1; done
  "$B/bench/kbs_bench" "http://127.0.0.1:$(cat "$label.port")" sim sim default/key/b "$TH" "$S" "$label"
done
