#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Peer name check for unattested servers (vt_config.peer_name): openssl s_server presents a
# CA-issued certificate for localhost / 127.0.0.1 (subjectAltName); veritee tls-client
# --allow-unattested --ca-file accepts it when connecting to 127.0.0.1 (HOST of --connect is the
# expected name) or with a matching --peer-name, and refuses it with --peer-name other.example
# (VT_ERR_PEER_NAME_MISMATCH) and with a certificate that names another host.
. "$(dirname "$0")/tls_lib.sh"

mkcert() { # NAME SAN: a server certificate issued by $work/ca
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$work/$1.key" \
    -out "$work/$1.csr" -subj "/CN=$1" 2>/dev/null
  openssl x509 -req -in "$work/$1.csr" -CA "$work/ca.pem" -CAkey "$work/ca.key" \
    -CAcreateserial -out "$work/$1.pem" -days 30 \
    -extfile <(printf 'subjectAltName=%s\n' "$2") 2>/dev/null
}
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$work/ca.key" \
  -out "$work/ca.pem" -subj "/CN=peer-name e2e CA" -days 30 \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=keyCertSign 2>/dev/null
mkcert local 'DNS:localhost,IP:127.0.0.1'
mkcert elsewhere 'DNS:elsewhere.example,IP:192.0.2.7'
[ -s "$work/local.pem" ] && [ -s "$work/elsewhere.pem" ] || { echo "openssl failed"; exit 1; }

# client NAME WANT_RC OUT [ARGS...]: one tls-client run against the current s_server
client() {
  local name=$1 want=$2 out=$3
  shift 3
  echo "hello $name" | timeout 20 "$V" tls-client --connect "127.0.0.1:$port" --allow-unattested \
    --ca-file "$work/ca.pem" "$@" >"$work/$out.out" 2>"$work/$out.err"
  expect_rc "$name" "$want" $?
}

# 1. connect to 127.0.0.1: the IP SAN matches (the name comes from --connect)
start_s_server "$work/local.pem" "$work/local.key" "$work/s1.log" || exit 1
client "by 127.0.0.1" 0 c1
expect_in "by 127.0.0.1: unattested" '{"attested": false}' "$work/c1.out"
wait_server
expect_in "by 127.0.0.1: s_server got data" 'hello by 127.0.0.1' "$work/s1.log"

# 2. --peer-name localhost: the DNS SAN matches
start_s_server "$work/local.pem" "$work/local.key" "$work/s2.log" || exit 1
client "--peer-name localhost" 0 c2 --peer-name localhost
wait_server

# 3. --peer-name other.example: refused with the exact code and reason
start_s_server "$work/local.pem" "$work/local.key" "$work/s3.log" || exit 1
client "--peer-name other.example" 1 c3 --peer-name other.example
expect_in "other.example: code" 'VT_ERR_PEER_NAME_MISMATCH' "$work/c3.err"
expect_in "other.example: reason" 'peer refused: unattested peer certificate is not for "other.example"' "$work/c3.err"
expect_not_in "other.example: nothing printed" 'attested' "$work/c3.out"
wait_server

# 4. a certificate from the same CA for another host: refused when connecting to 127.0.0.1
start_s_server "$work/elsewhere.pem" "$work/elsewhere.key" "$work/s4.log" || exit 1
client "other host's certificate" 1 c4
expect_in "other host: code" 'VT_ERR_PEER_NAME_MISMATCH' "$work/c4.err"
expect_in "other host: reason" 'is not for "127.0.0.1"' "$work/c4.err"
wait_server

# 5. ... accepted when the caller names that host explicitly
start_s_server "$work/elsewhere.pem" "$work/elsewhere.key" "$work/s5.log" || exit 1
client "--peer-name elsewhere.example" 0 c5 --peer-name elsewhere.example
wait_server

# 6. usage: --peer-name needs --ca-file; not a server option
"$V" tls-client --connect 127.0.0.1:1 --allow-unattested --peer-name x </dev/null >/dev/null 2>"$work/u1.err"
expect_rc "--peer-name without --ca-file" 2 $?
expect_in "--peer-name without --ca-file: message" 'use it with --ca-file' "$work/u1.err"
"$V" tls-server --listen 127.0.0.1:0 --peer-name x >/dev/null 2>"$work/u2.err"
expect_rc "tls-server --peer-name" 2 $?
"$V" tls-client --connect 127.0.0.1:1 --allow-unattested --ca-file "$work/ca.pem" \
  --peer-name 'a b' </dev/null >/dev/null 2>"$work/u3.err"
expect_rc "invalid --peer-name" 2 $?
expect_in "invalid --peer-name: code" 'VT_ERR_INVALID_ARG' "$work/u3.err"

finish
