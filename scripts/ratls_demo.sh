#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Attested TLS on the sim TEE: a mutual session in which each side verifies the other's
# evidence, printing both sides' verified claims. Usage: scripts/ratls_demo.sh [BIN_DIR]
set -euo pipefail
bin=${1:-build/bin}
bin=$(cd "$bin" && pwd)
work=$(mktemp -d)
srv_pid=""
cleanup() { [ -n "$srv_pid" ] && kill "$srv_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "1. create the sim TEE's test PKI (INSECURE, for development only)"
"$bin/veritee" sim init "$work/sim"
ls "$work/sim"

step "2. start an attested TLS echo server on the sim TEE (mutual: it verifies the client too)"
"$bin/veritee" tls-server --tee sim --sim-dir "$work/sim" --listen 127.0.0.1:0 \
  --mutual --root-ca "$work/sim/root-ca.pem" --max-conns 1 2>"$work/server.log" &
srv_pid=$!
port=""
for _ in $(seq 1 100); do
  port=$(sed -n 's/.*listening on [0-9.]*:\([0-9]*\).*/\1/p' "$work/server.log" | head -1)
  [ -n "$port" ] && break
  sleep 0.1
done
[ -n "$port" ] || { cat "$work/server.log"; echo "server did not start" >&2; exit 1; }
echo "server listening on 127.0.0.1:$port"

step "3. the client attests, verifies the server's evidence, and sends a message"
echo "hello from an attested client" | "$bin/veritee" tls-client --connect "127.0.0.1:$port" \
  --tee sim --sim-dir "$work/sim" --root-ca "$work/sim/root-ca.pem" | tee "$work/client.out"

wait "$srv_pid" || true
srv_pid=""
step "4. what the server verified about the client"
cat "$work/server.log"

step "5. a client that does not trust the sim root refuses the server"
"$bin/veritee" tls-server --tee sim --sim-dir "$work/sim" --listen 127.0.0.1:0 --max-conns 1 \
  2>"$work/server2.log" &
srv_pid=$!
port=""
for _ in $(seq 1 100); do
  port=$(sed -n 's/.*listening on [0-9.]*:\([0-9]*\).*/\1/p' "$work/server2.log" | head -1)
  [ -n "$port" ] && break
  sleep 0.1
done
set +e
echo "x" | "$bin/veritee" tls-client --connect "127.0.0.1:$port" 2>&1
rc=$?
set -e
echo "(client exit status $rc: refused, as it must be without --root-ca)"
kill "$srv_pid" 2>/dev/null || true
wait "$srv_pid" 2>/dev/null || true
srv_pid=""
