#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# KBS benchmark in one run against veritee-broker --kbs-listen: a SQLite store and a PostgreSQL
# store (throwaway Debian postgresql 15 cluster), each provisioned through `veritee admin`;
# full protocol runs/s (auth -> attest with sim-tdx DCAP quotes -> resource, client-side
# evidence and JWE decryption included) and resource fetches/s with a Bearer token.
# All bench clients share 127.0.0.1: the per-address session cap is raised (docs/broker.md).
# usage: src/kbs/kbs_bench.sh BUILD_DIR [THREADS] [SECONDS] [ATTESTER] [ROUNDS]   (Release build)
# Each figure: ROUNDS (default 3) rounds beside its crypto bound, medians, `ratio ...` lines.
# With the SQLite store it also measures the HTTP floor (kbs_bench.c: the same exchanges
# answered by an empty 404) and prints the ceilings `ratio kbs_full_run_ceiling` and
# `ratio kbs_token_fetch_ceiling`. KBS_BENCH_ONLY=full|fetch|floor runs one figure alone.
set -u
B=$(cd "${1:-build}" && pwd); TH=${2:-8}; S=${3:-5}; ATT=${4:-sim-tdx}; RD=${5:-3}
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
T=$(mktemp -d /tmp/vt-kbs-bench.XXXXXX); chmod 755 "$T"; cd "$T" || exit 1
AS=(); [ "$(id -u)" = 0 ] && AS=(runuser -u postgres --)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null
  "${AS[@]}" "$PGBIN/pg_ctl" -D "$T/pgdata" -m immediate stop >/dev/null 2>&1; rm -rf "$T"; }
trap cleanup EXIT
"$B/bin/veritee" sim init sim >/dev/null 2>&1
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout b.key -out b.pem \
  -days 3 -subj "/CN=127.0.0.1" 2>/dev/null
"$B/bin/veritee-broker" --gen-master-key mk 2>/dev/null
printf 'bench secret' > secret
printf '{"version":1,"rules":[{"name":"b","resources":["default/*/*"],"tee":["sim","tdx","sgx","snp"]}]}' > pol.json
mkdir -p pgdata pgsock; [ ${#AS[@]} = 0 ] || chown postgres: pgdata pgsock
"${AS[@]}" "$PGBIN/initdb" -D "$T/pgdata" -A trust -U veritee >/dev/null
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"${AS[@]}" "$PGBIN/pg_ctl" -D "$T/pgdata" -w -l "$T/pgsock/log" -o "-c listen_addresses=127.0.0.1 -p $PORT -k $T/pgsock" start >/dev/null
psql -h 127.0.0.1 -p "$PORT" -U veritee -d postgres -qc 'CREATE DATABASE kbs'
for store in "$T/db.sqlite" "postgresql://veritee@127.0.0.1:$PORT/kbs"; do
  label=sqlite; case $store in postgresql*) label=postgresql;; esac
  "$B/bin/veritee-broker" --listen 127.0.0.1:0 --store "$store" --master-key mk \
     --admin-socket "$label.sock" --cert b.pem --key b.key --allow-sim \
     --root-ca sim/root-ca.pem --collateral sim/intel --kbs-listen 127.0.0.1:0 \
     --kbs-max-sessions-per-address 1000000 2>"$label.log" &
  PIDS+=($!)
  for _ in $(seq 100); do grep -q 'KBS listening on' "$label.log" && break; sleep 0.1; done
  KP=$(grep -o 'KBS listening on http://127.0.0.1:[0-9]*' "$label.log" | grep -o '[0-9]*$')
  "$B/bin/veritee" admin --socket "$label.sock" resource put default/key/b secret >/dev/null
  "$B/bin/veritee" admin --socket "$label.sock" policy set pol.json >/dev/null
  FL=0; [ "$label" = sqlite ] && FL=1 # the HTTP floor once (the store plays no part in it)
  KBS_BENCH_FLOOR=${KBS_BENCH_FLOOR:-$FL} \
    "$B/bench/kbs_bench" "http://127.0.0.1:$KP" "$ATT" sim default/key/b "$TH" "$S" "$label" "$RD"
done
