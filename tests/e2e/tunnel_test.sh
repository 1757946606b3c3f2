#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# veritee tunnel ingress|egress (issue 15) on loopback with real processes:
#  1. curl -> ingress -> egress -> python3 http.server: a 50 MB file arrives byte-identical;
#     both sides log one line per connection with the verdict and the bytes each way.
#  2. --expect that holds passes; refusals, each logged with its precise reason and with no
#     byte forwarded: --expect mismatch, a claim that is absent, no --root-ca for sim evidence,
#     openssl s_server (no evidence) in place of the egress, a relayed certificate (evidence
#     bound to another key, served by tls-server --cert/--key).
#  3. openssl s_client to an egress: TLS 1.3 and the evidence extension 2.23.133.5.4.9.
#  4. mutual: ingress --tee sim-tdx, egress --tee sim --mutual (and a client without evidence
#     refused by a mutual egress).
#  6. --cert-lifetime renews the egress certificate; --max-evidence-age accepts fresh evidence
#     and refuses stale evidence and evidence without the claim iat.
#  7. --config FILE.
#  5. ingress --http-proxy (curl -x absolute form, curl -p -x CONNECT) and --socks5
#     (curl --socks5): the 50 MB file again; refusals answered 502 / SOCKS failure and logged.
. "$(dirname "$0")/tls_lib.sh"
command -v curl >/dev/null && command -v python3 >/dev/null || { echo "SKIP: curl and python3 needed"; exit 77; }
FORGE=$TOOLS/vt_forge
"$V" sim init "$work/sim" >/dev/null || { echo "sim init failed"; exit 1; }
ROOT=$work/sim/root-ca.pem
MEAS=$(printf 'ab%.0s' $(seq 48))
OTHER=$(printf 'cd%.0s' $(seq 48))


# The application: python3 http.server serving $work/www, its request log in $work/http.log.
mkdir -p "$work/www"
head -c 50000000 /dev/urandom >"$work/www/big.bin"
echo "hello through the tunnel" >"$work/www/small.txt"
(cd "$work/www" && exec python3 -m http.server --bind 127.0.0.1 0 >"$work/http.log" 2>&1) &
pids+=("$!")
app_port=""
for _ in $(seq 1 100); do
  app_port=$(sed -n 's/.*port \([0-9]*\).*/\1/p' "$work/http.log" | head -1)
  [ -n "$app_port" ] && break
  sleep 0.1
done
[ -n "$app_port" ] || { echo "http.server did not start"; cat "$work/http.log"; exit 1; }
app_requests() { grep -c 'GET /' "$work/http.log"; }

EG=(--tee sim --sim-dir "$work/sim" --option "sim.measurement=$MEAS")
start_bg "$work/eg.log" "$V" tunnel egress --listen 127.0.0.1:0 --to "127.0.0.1:$app_port" "${EG[@]}" || exit 1
eg_port=$bg_port

# ---- 1. 50 MB byte-identical, with an --expect that holds ----
start_bg "$work/in.log" "$V" tunnel ingress --listen 127.0.0.1:0 --to "127.0.0.1:$eg_port" \
  --root-ca "$ROOT" --expect "measurement=$MEAS" --expect tee=sim --expect insecure=true || exit 1
timeout 120 curl -sS -o "$work/got.bin" "http://127.0.0.1:$bg_port/big.bin"
expect_rc "curl through the tunnel" 0 $?
if cmp -s "$work/www/big.bin" "$work/got.bin"; then ok; else bad "50 MB file differs"; fi
sleep 0.3
expect_in "ingress log: verdict and bytes" "verified tee=sim (INSECURE evidence); bytes c2s" "$work/in.log"
expect_in "ingress log: 50 MB down" "s2c 500002" "$work/in.log"
expect_in "egress log" "client not attested (egress without --mutual); bytes c2s" "$work/eg.log"
expect_not_in "no relay ended abnormally" "ended:" "$work/in.log"

# refused INGRESS-ARGS... : one curl through a fresh ingress; the refusal must be logged and the
# application must see no request.
refused() {
  local name=$1 want=$2 to=$3
  shift 3
  local before
  before=$(app_requests)
  start_bg "$work/$name.log" "$V" tunnel ingress --listen 127.0.0.1:0 --to "127.0.0.1:$to" \
    --max-conns 1 "$@" || { bad "$name: ingress did not start"; return; }
  local code
  code=$(timeout 30 curl -s -o "$work/$name.body" -w '%{http_code}' "http://127.0.0.1:$bg_port/small.txt")
  expect_rc "$name: curl got nothing" 000 "$code"
  sleep 0.3
  expect_in "$name: reason" "refused: $want" "$work/$name.log"
  expect_in "$name: nothing forwarded" "bytes c2s 0 s2c 0" "$work/$name.log"
  expect_rc "$name: the application saw no request" "$before" "$(app_requests)"
}

# ---- 2. refusals ----
refused expect VT_ERR_TUNNEL_EXPECT_MISMATCH "$eg_port" --root-ca "$ROOT" --expect "measurement=$OTHER"
expect_in "expect: names the claim" "claim measurement is $MEAS, --expect wants $OTHER" "$work/expect.log"
refused absent VT_ERR_TUNNEL_EXPECT_ABSENT "$eg_port" --root-ca "$ROOT" --expect mr_td=00
refused noroot "VT_ERR_NO_ROOT: peer refused: no trust anchor given for this evidence" "$eg_port"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$work/plain.key" \
  -out "$work/plain.pem" -subj /CN=plain -days 30 2>/dev/null
start_s_server "$work/plain.pem" "$work/plain.key" "$work/s_server_out.log" || exit 1
refused s_server "VT_ERR_NO_EVIDENCE: peer refused: peer presented no evidence" "$port" --root-ca "$ROOT"
expect_not_in "s_server got no request" "GET /" "$work/s_server_out.log"

if [ -x "$FORGE" ]; then
  "$V" cert create --tee sim --sim-dir "$work/sim" --key-out "$work/ra.key" --cert-out "$work/ra.pem" \
    >/dev/null 2>&1 || bad "cert create"
  "$FORGE" swap-key "$work/ra.pem" "$work/swap.key" "$work/swap.pem" || bad "forge swap-key"
  start_bg "$work/relay_srv.log" "$V" tls-server --listen 127.0.0.1:0 --cert "$work/swap.pem" \
    --key "$work/swap.key" || exit 1
  refused relayed "VT_ERR_CERT_PUBKEY_MISMATCH: peer refused: pubkey-hash does not match the certificate key" \
    "$bg_port" --root-ca "$ROOT"
  expect_not_in "relayed: the server got no request" "GET /" "$work/relay_srv.log"
else
  bad "missing $FORGE"
fi

# ---- 3. openssl s_client sees TLS 1.3 and the evidence extension ----
timeout 20 openssl s_client -connect "127.0.0.1:$eg_port" -tls1_3 -showcerts </dev/null \
  >"$work/sc.out" 2>"$work/sc.err"
expect_in "s_client: TLS 1.3" "New, TLSv1.3" "$work/sc.out"
sed -n '/BEGIN CERT/,/END CERT/p' "$work/sc.out" | openssl x509 -noout -text >"$work/sc.txt" 2>&1
expect_in "s_client: evidence extension" "2.23.133.5.4.9" "$work/sc.txt"

# ---- 4. mutual: sim-tdx ingress, sim egress ----
start_bg "$work/egm.log" "$V" tunnel egress --listen 127.0.0.1:0 --to "127.0.0.1:$app_port" \
  "${EG[@]}" --mutual --root-ca "$ROOT" --expect tee=tdx || exit 1
egm_port=$bg_port
start_bg "$work/inm.log" "$V" tunnel ingress --listen 127.0.0.1:0 --to "127.0.0.1:$egm_port" \
  --root-ca "$ROOT" --tee sim-tdx --sim-dir "$work/sim" --expect "measurement=$MEAS" || exit 1
timeout 60 curl -sS -o "$work/mutual.bin" "http://127.0.0.1:$bg_port/big.bin"
expect_rc "mutual: curl" 0 $?
if cmp -s "$work/www/big.bin" "$work/mutual.bin"; then ok; else bad "mutual: 50 MB file differs"; fi
sleep 0.3
expect_in "mutual: egress verified the sim-tdx client" "verified tee=tdx (INSECURE evidence); bytes c2s" "$work/egm.log"
expect_in "mutual: ingress verified the sim egress" "verified tee=sim (INSECURE evidence); bytes c2s" "$work/inm.log"
# A client without evidence: TLS 1.3 lets the ingress finish its handshake before the egress
# judges the client, so the ingress may read the request; the egress refuses and the
# application gets nothing.
before=$(app_requests)
start_bg "$work/unatt.log" "$V" tunnel ingress --listen 127.0.0.1:0 --to "127.0.0.1:$egm_port" \
  --max-conns 1 --root-ca "$ROOT" || exit 1
code=$(timeout 30 curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$bg_port/small.txt")
expect_rc "unattested client: curl got nothing" 000 "$code"
sleep 0.3
expect_in "unattested client: ingress saw the refusal" "s2c 0; ended: TLS side:" "$work/unatt.log"
expect_in "mutual egress refused the client without evidence" "refused: VT_ERR_NO_EVIDENCE: peer refused: peer presented no evidence" "$work/egm.log"
expect_rc "mutual: refused client reached no application" "$before" "$(app_requests)"

# ---- 5. HTTP proxy (curl -x: absolute form, and CONNECT with -p) and SOCKS5 (curl --socks5) ----
start_bg "$work/hp.log" "$V" tunnel ingress --listen 127.0.0.1:0 --http-proxy --root-ca "$ROOT" \
  --expect "measurement=$MEAS" || exit 1
hp_port=$bg_port
start_bg "$work/sk.log" "$V" tunnel ingress --listen 127.0.0.1:0 --socks5 --root-ca "$ROOT" \
  --expect "measurement=$MEAS" || exit 1
sk_port=$bg_port
URL="http://127.0.0.1:$eg_port/big.bin"
timeout 120 curl -sS -x "http://127.0.0.1:$hp_port" -o "$work/abs.bin" "$URL"
expect_rc "curl -x (absolute form)" 0 $?
if cmp -s "$work/www/big.bin" "$work/abs.bin"; then ok; else bad "curl -x: 50 MB file differs"; fi
timeout 120 curl -sS -p -x "http://127.0.0.1:$hp_port" -o "$work/connect.bin" "$URL"
expect_rc "curl -p -x (CONNECT)" 0 $?
if cmp -s "$work/www/big.bin" "$work/connect.bin"; then ok; else bad "CONNECT: 50 MB file differs"; fi
timeout 120 curl -sS --socks5 "127.0.0.1:$sk_port" -o "$work/socks.bin" "$URL"
expect_rc "curl --socks5" 0 $?
if cmp -s "$work/www/big.bin" "$work/socks.bin"; then ok; else bad "SOCKS5: 50 MB file differs"; fi
sleep 0.3
expect_in "http proxy log" "to 127.0.0.1:$eg_port: verified tee=sim (INSECURE evidence); bytes c2s" "$work/hp.log"
expect_in "socks5 log" "to 127.0.0.1:$eg_port: verified tee=sim (INSECURE evidence); bytes c2s" "$work/sk.log"
# refusals through the proxies: a peer that is not an attested egress (the application itself)
before=$(app_requests)
timeout 30 curl -s -x "http://127.0.0.1:$hp_port" -D "$work/hp_refused.h" -o /dev/null \
  "http://127.0.0.1:$app_port/small.txt"
expect_in "http proxy: 502 on refusal" "HTTP/1.1 502 Bad Gateway" "$work/hp_refused.h"
expect_in "http proxy: refusal header" "X-Veritee-Refusal: VT_ERR_" "$work/hp_refused.h"
timeout 30 curl -s --socks5 "127.0.0.1:$sk_port" -o /dev/null "http://127.0.0.1:$app_port/small.txt"
expect_rc "socks5 refused" 97 $?
sleep 0.3
expect_in "http proxy refusal logged" "to 127.0.0.1:$app_port: refused: VT_ERR_TLS" "$work/hp.log"
expect_in "socks5 refusal logged" "to 127.0.0.1:$app_port: refused: VT_ERR_TLS" "$work/sk.log"
expect_rc "proxies forwarded no request to a refused peer" "$before" "$(app_requests)"
printf 'BREW /pot HTTP/1.1\r\n\r\n' | timeout 10 python3 -c '
import socket,sys
s=socket.create_connection(("127.0.0.1",int(sys.argv[1]))); s.sendall(sys.stdin.buffer.read())
print(s.recv(200).decode(errors="replace"))' "$hp_port" >"$work/brew.out"
expect_in "http proxy: origin-form request refused" "502 Bad Gateway" "$work/brew.out"
expect_in "http proxy: its code" "VT_ERR_TUNNEL_HTTP_TARGET" "$work/hp.log"

# ---- 6. evidence freshness: --cert-lifetime re-makes the certificate; --max-evidence-age ----
start_bg "$work/egf.log" "$V" tunnel egress --listen 127.0.0.1:0 --to "127.0.0.1:$app_port" \
  "${EG[@]}" --cert-lifetime 1 || exit 1
egf_port=$bg_port
start_bg "$work/egs.log" "$V" tunnel egress --listen 127.0.0.1:0 --to "127.0.0.1:$app_port" \
  "${EG[@]}" --cert-lifetime 0 || exit 1
egs_port=$bg_port
sleep 3
expect_in "cert-lifetime: renewed" "egress: new certificate (--cert-lifetime 1 s)" "$work/egf.log"
start_bg "$work/inf.log" "$V" tunnel ingress --listen 127.0.0.1:0 --to "127.0.0.1:$egf_port" \
  --root-ca "$ROOT" --max-evidence-age 2 --max-conns 1 || exit 1
timeout 30 curl -sS -o "$work/fresh.txt" "http://127.0.0.1:$bg_port/small.txt"
expect_rc "fresh evidence accepted" 0 $?
expect_in "fresh: body" "hello through the tunnel" "$work/fresh.txt"
refused stale VT_ERR_TUNNEL_EVIDENCE_AGE "$egs_port" --root-ca "$ROOT" --max-evidence-age 2
expect_in "stale: says how old" "s ago, --max-evidence-age 2" "$work/stale.log"
# tls-server (no --cert-lifetime) makes RA-TLS certificates without the claim iat
start_bg "$work/plain_ratls.log" "$V" tls-server --listen 127.0.0.1:0 --tee sim --sim-dir "$work/sim" || exit 1
refused no_iat VT_ERR_TUNNEL_EVIDENCE_TIME "$bg_port" --root-ca "$ROOT" --max-evidence-age 2

start_bg "$work/tls_fresh.log" "$V" tls-server --listen 127.0.0.1:0 --tee sim --sim-dir "$work/sim" \
  --cert-lifetime 1 || exit 1
tls_fresh_port=$bg_port
sleep 2
start_bg "$work/in_tls.log" "$V" tunnel ingress --listen 127.0.0.1:0 --to "127.0.0.1:$tls_fresh_port" \
  --root-ca "$ROOT" --max-evidence-age 5 --max-conns 1 || exit 1
echo "echo me" | timeout 20 python3 -c '
import socket,sys
s=socket.create_connection(("127.0.0.1",int(sys.argv[1]))); s.sendall(b"echo me\n"); s.shutdown(socket.SHUT_WR)
d=b""
while True:
    b=s.recv(100)
    if not b: break
    d+=b
print(d.decode())' "$bg_port" >"$work/tls_fresh.out"
expect_in "tls-server --cert-lifetime: fresh evidence, echo through the ingress" "echo me" "$work/tls_fresh.out"
expect_in "tls-server renewed its certificate" "new certificate (--cert-lifetime 1 s)" "$work/tls_fresh.log"

# ---- 7. --config FILE (the documented format) ----
cat >"$work/ingress.conf" <<CONF
# ingress beside the client
listen = 127.0.0.1:0
to = 127.0.0.1:$eg_port
root-ca = $ROOT
expect = tee=sim
expect = measurement=$MEAS
max-conns = 1
CONF
start_bg "$work/conf.log" "$V" tunnel ingress --config "$work/ingress.conf" --idle-timeout 60 || exit 1
timeout 30 curl -sS -o "$work/conf.txt" "http://127.0.0.1:$bg_port/small.txt"
expect_rc "--config: curl" 0 $?
expect_in "--config: body" "hello through the tunnel" "$work/conf.txt"
printf 'listen 127.0.0.1:0\n' >"$work/bad.conf"
"$V" tunnel ingress --config "$work/bad.conf" --to 127.0.0.1:1 >/dev/null 2>"$work/badconf.err"
expect_rc "--config: bad line" 2 $?
expect_in "--config: names the line" "--config line 1" "$work/badconf.err"

# ---- usage ----
"$V" tunnel ingress --listen 127.0.0.1:0 --to 127.0.0.1:1 --expect nonsense >/dev/null 2>"$work/u1.err"
expect_rc "--expect without =" 2 $?
expect_in "--expect syntax code" "VT_ERR_TUNNEL_EXPECT_SYNTAX" "$work/u1.err"
"$V" tunnel egress --listen 127.0.0.1:0 --to 127.0.0.1:1 --expect tee=sim >/dev/null 2>"$work/u2.err"
expect_rc "egress --expect without --mutual" 2 $?
"$V" tunnel ingress --help >"$work/help.out"
expect_rc "--help" 0 $?
expect_in "--help names --expect" "--expect CLAIM=VALUE" "$work/help.out"
finish
