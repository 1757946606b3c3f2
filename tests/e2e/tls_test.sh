#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Attested TLS end to end with real processes on 127.0.0.1: veritee tls-server / tls-client on
# the sim TEE (one-way and mutual), interop with openssl s_client / s_server, refusals with
# their exact exit codes and reasons, usage errors, concurrent connections.
. "$(dirname "$0")/tls_lib.sh"

"$V" sim init "$work/sim" >/dev/null || { echo "sim init failed"; exit 1; }
ROOT=$work/sim/root-ca.pem
SIM=(--tee sim --sim-dir "$work/sim")

# ---- 1. one-way: the client verifies the server's sim evidence and gets its echo back ----
start_server "$work/s1.log" "${SIM[@]}" --max-conns 2 || exit 1
echo "hello veritee" | timeout 20 "$V" tls-client --connect "127.0.0.1:$port" --root-ca "$ROOT" \
  >"$work/c1.out" 2>"$work/c1.err"
expect_rc "one-way client" 0 $?
expect_in "one-way: verified" '"verified": true' "$work/c1.out"
expect_in "one-way: tee" '"tee": "sim"' "$work/c1.out"
expect_in "one-way: insecure" '"insecure": true' "$work/c1.out"
expect_in "one-way: binding claim" '"ratls.binding": true' "$work/c1.out"
expect_in "one-way: echo" 'hello veritee' "$work/c1.out"

# ---- 2. without --root-ca the client refuses sim evidence ----
echo "x" | timeout 20 "$V" tls-client --connect "127.0.0.1:$port" >"$work/c2.out" 2>"$work/c2.err"
expect_rc "no root: client refuses" 1 $?
expect_in "no root: reason" 'peer refused: no trust anchor given for this evidence' "$work/c2.err"
expect_in "no root: code" 'VT_ERR_NO_ROOT' "$work/c2.err"
expect_not_in "no root: nothing printed" '"verified"' "$work/c2.out"
wait_server
expect_rc "one-way server (one refused connection)" 1 "$srv_rc"
expect_in "server log: conn 1 ok" 'conn 1 from 127.0.0.1:' "$work/s1.log"
expect_in "server log: not mutual" 'client not verified (not --mutual)' "$work/s1.log"
expect_in "server log: client aborted conn 2" 'the peer aborted with an alert' "$work/s1.log"

# ---- 3. mutual: each side verifies the other's sim evidence ----
start_server "$work/s3.log" "${SIM[@]}" --mutual --root-ca "$ROOT" --max-conns 1 || exit 1
echo "mutual hello" | timeout 20 "$V" tls-client --connect "127.0.0.1:$port" "${SIM[@]}" \
  --root-ca "$ROOT" >"$work/c3.out" 2>"$work/c3.err"
expect_rc "mutual client" 0 $?
expect_in "mutual: client verified server" '"tee": "sim"' "$work/c3.out"
expect_in "mutual: echo" 'mutual hello' "$work/c3.out"
wait_server
expect_rc "mutual server" 0 "$srv_rc"
expect_in "mutual: server verified client" 'ok, client verified: {"verified":true,"tee":"sim","insecure":true' "$work/s3.log"
expect_in "mutual: client claims" '"ratls.binding":true' "$work/s3.log"

# ---- 4. mutual refuses a client without evidence (veritee client, openssl without cert) ----
start_server "$work/s4.log" "${SIM[@]}" --mutual --root-ca "$ROOT" --max-conns 2 || exit 1
echo "x" | timeout 20 "$V" tls-client --connect "127.0.0.1:$port" --root-ca "$ROOT" \
  >"$work/c4.out" 2>"$work/c4.err"
expect_rc "mutual: unattested client fails" 1 $?
expect_in "mutual: client told" 'the server may have refused this client' "$work/c4.err"
(echo "x"; sleep 1) | timeout 20 openssl s_client -connect "127.0.0.1:$port" -tls1_3 -quiet \
  >"$work/c4b.out" 2>&1
wait_server
expect_rc "mutual server with refusals" 1 "$srv_rc"
expect_in "mutual: no evidence reason" 'peer refused: peer presented no evidence' "$work/s4.log"
expect_in "mutual: no evidence code" '(VT_ERR_NO_EVIDENCE)' "$work/s4.log"
expect_in "mutual: no certificate code" '(VT_ERR_TLS_NO_PEER_CERT)' "$work/s4.log"

# ---- 5. openssl s_client -tls1_3 completes a handshake with veritee tls-server ----
start_server "$work/s5.log" "${SIM[@]}" --max-conns 1 || exit 1
(echo "ping from openssl"; sleep 1) | timeout 20 openssl s_client -connect "127.0.0.1:$port" \
  -tls1_3 -brief >"$work/c5.out" 2>"$work/c5.err"
expect_rc "openssl s_client" 0 $?
expect_in "s_client: TLS 1.3" 'Protocol version: TLSv1.3' "$work/c5.err"
expect_in "s_client: echo" 'ping from openssl' "$work/c5.out"
wait_server
expect_rc "server after s_client" 0 "$srv_rc"

# ---- 6. an ordinary certificate (openssl s_server): refused, accepted only if allowed ----
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$work/plain.key" \
  -out "$work/plain.pem" -subj /CN=plain -days 30 2>/dev/null
start_s_server "$work/plain.pem" "$work/plain.key" "$work/s6.log" || exit 1
echo "x" | timeout 20 "$V" tls-client --connect "127.0.0.1:$port" --root-ca "$ROOT" \
  >"$work/c6.out" 2>"$work/c6.err"
expect_rc "plain server refused" 1 $?
expect_in "plain: reason" 'peer refused: peer presented no evidence' "$work/c6.err"
expect_in "plain: code" 'VT_ERR_NO_EVIDENCE' "$work/c6.err"
wait_server
start_s_server "$work/plain.pem" "$work/plain.key" "$work/s6b.log" || exit 1
echo "unattested hello" | timeout 20 "$V" tls-client --connect "127.0.0.1:$port" \
  --allow-unattested >"$work/c6b.out" 2>"$work/c6b.err"
expect_rc "plain server allowed" 0 $?
expect_in "plain allowed: report" '{"attested": false}' "$work/c6b.out"
sleep 0.3
expect_in "plain allowed: s_server got data" 'unattested hello' "$work/s6b.log"
wait_server

# ---- 7. --allow-unattested with --ca-file: the chain must verify against that CA ----
mkca() { # NAME: a CA and a server certificate it issued
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$work/$1-ca.key" \
    -out "$work/$1-ca.pem" -subj "/CN=$1 CA" -days 30 \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=keyCertSign 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$work/$1-srv.key" \
    -out "$work/$1-srv.csr" -subj "/CN=$1 server" 2>/dev/null
  openssl x509 -req -in "$work/$1-srv.csr" -CA "$work/$1-ca.pem" -CAkey "$work/$1-ca.key" \
    -CAcreateserial -out "$work/$1-srv.pem" -days 30 \
    -extfile <(printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n') 2>/dev/null
}
mkca good
mkca other
start_server "$work/s7.log" --cert "$work/good-srv.pem" --key "$work/good-srv.key" --max-conns 2 || exit 1
echo "ca ok" | timeout 20 "$V" tls-client --connect "127.0.0.1:$port" --allow-unattested \
  --ca-file "$work/good-ca.pem" >"$work/c7.out" 2>"$work/c7.err"
expect_rc "ca-file: right CA" 0 $?
expect_in "ca-file: echo" 'ca ok' "$work/c7.out"
echo "x" | timeout 20 "$V" tls-client --connect "127.0.0.1:$port" --allow-unattested \
  --ca-file "$work/other-ca.pem" >"$work/c7b.out" 2>"$work/c7b.err"
expect_rc "ca-file: wrong CA" 1 $?
expect_in "ca-file: reason" 'peer refused: unattested peer certificate does not chain to the CA file' "$work/c7b.err"
expect_in "ca-file: code" 'VT_ERR_NOT_TRUSTED' "$work/c7b.err"
wait_server

# ---- 8. many clients at once on one server (one certificate for all) ----
N=8
start_server "$work/s8.log" "${SIM[@]}" --mutual --root-ca "$ROOT" --max-conns $N || exit 1
cpids=()
for i in $(seq 1 $N); do
  echo "client $i" | timeout 30 "$V" tls-client --connect "127.0.0.1:$port" "${SIM[@]}" \
    --root-ca "$ROOT" >"$work/c8.$i.out" 2>"$work/c8.$i.err" &
  cpids+=($!)
done
good=0
for i in $(seq 1 $N); do
  wait "${cpids[$((i - 1))]}" && grep -qx "client $i" "$work/c8.$i.out" && good=$((good + 1))
done
expect_rc "concurrent clients ok" $N $good
wait_server
expect_rc "concurrent server" 0 "$srv_rc"
hashes=$(grep -ho '"ratls.pubkey_hash": "[0-9a-f]*"' "$work"/c8.*.out | sort -u | wc -l)
expect_rc "one server certificate for all connections" 1 "$hashes"

# ---- 9. usage errors exit 2 ----
timeout 10 "$V" tls-client >/dev/null 2>"$work/u1.err"
expect_rc "client without --connect" 2 $?
expect_in "usage message" '--connect HOST:PORT is required' "$work/u1.err"
timeout 10 "$V" tls-server --listen 127.0.0.1:0 --tee sim --key-type p999 2>/dev/null
expect_rc "bad key type" 2 $?
timeout 10 "$V" tls-client --connect 127.0.0.1:1 --at yesterday 2>/dev/null
expect_rc "bad --at" 2 $?
timeout 10 "$V" tls-server --listen nowhere --tee none 2>/dev/null
expect_rc "bad --listen" 2 $?
timeout 10 "$V" tls-server --listen 127.0.0.1:0 --tee no-such-tee 2>"$work/u5.err"
expect_rc "unknown tee" 2 $?
expect_in "unknown tee message" 'no such instance' "$work/u5.err"
timeout 10 "$V" tls-client --help >"$work/help.out"
expect_rc "help" 0 $?
expect_in "help text" '--allow-unattested' "$work/help.out"

finish
