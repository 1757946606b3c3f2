#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# veritee tunnel, the later features (issue 15), on loopback with real processes:
#  1. --policy FILE (the broker's rule format) on the ingress: a granting rule is named in the
#     log; refusals name the failing rule and its reason, forward no byte, and the application
#     sees no request; a rule with "reference" and a broken file are usage errors.
#  2. --policy on a mutual egress (the client's evidence), granted and refused.
#  3. --claims-header NAME on a mutual egress, behind python's http.server echoing what it got:
#     each request of a keep-alive connection carries the verified claims once; a forged copy
#     from the client is dropped (any case); Content-Length and chunked bodies pass unchanged
#     (a header-looking line inside a body stays); an Upgrade request ends the connection
#     unforwarded; usage errors.
#  4. Name lookups off the event loop: --http-proxy to "localhost" works; a lookup that takes
#     5 s (LD_PRELOAD shim, *.slow.test: 5 s) is refused with its reason while a 50 MB transfer on
#     another connection finishes first; with --timeout 1 it is refused at its deadline.
#  5. --metrics: /metrics in the Prometheus text format (accepted, verified, refused by reason,
#     bytes, open); 404 elsewhere.
. "$(dirname "$0")/tls_lib.sh"
command -v curl >/dev/null && command -v python3 >/dev/null || { echo "SKIP: curl and python3 needed"; exit 77; }
"$V" sim init "$work/sim" >/dev/null || { echo "sim init failed"; exit 1; }
ROOT=$work/sim/root-ca.pem
MEAS=$(printf 'ab%.0s' $(seq 48))
OTHER=$(printf 'cd%.0s' $(seq 48))
SHIM=$TOOLS/vt_slow_gai.so


# The application: http.server (HTTP/1.1, keep-alive) answering every request with what it
# received: the header lines, then the body (Content-Length or chunked, decoded).
mkdir -p "$work/www"
head -c 50000000 /dev/urandom >"$work/www/big.bin"
cat >"$work/echo.py" <<'PY'
import http.server, os, sys
class H(http.server.SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def echo(self):
        body = b""
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            while True:
                n = int(self.rfile.readline().split(b";")[0], 16)
                if n == 0:
                    self.rfile.readline(); break
                body += self.rfile.read(n); self.rfile.readline()
        else:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        out = "".join("%s: %s\n" % kv for kv in self.headers.items()).encode() + b"--body--\n" + body
        self.send_response(200); self.send_header("Content-Length", str(len(out))); self.end_headers()
        self.wfile.write(out)
    def do_GET(self):
        if self.path.startswith("/echo"): self.echo()
        else: super().do_GET()
    do_POST = echo
os.chdir(sys.argv[1])
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
print("port %d" % s.server_address[1], flush=True)
s.serve_forever()
PY
python3 "$work/echo.py" "$work/www" >"$work/app.out" 2>"$work/http.log" &
pids+=("$!")
app_port=""
for _ in $(seq 1 100); do
  app_port=$(sed -n 's/^port \([0-9]*\)$/\1/p' "$work/app.out" | head -1)
  [ -n "$app_port" ] && break
  sleep 0.1
done
[ -n "$app_port" ] || { echo "the application did not start"; cat "$work/http.log"; exit 1; }
app_requests() { grep -c '"[A-Z]* /' "$work/http.log"; }

EG=(--tee sim --sim-dir "$work/sim" --option "sim.measurement=$MEAS")
start_bg "$work/eg.log" "$V" tunnel egress --listen 127.0.0.1:0 --to "127.0.0.1:$app_port" "${EG[@]}" || exit 1
eg_port=$bg_port

# ---- 1. --policy on the ingress ----
policy() { # FILE RULE-JSON...
  local f=$1
  shift
  local IFS=,
  printf '{"version": 1, "rules": [%s]}\n' "$*" >"$f"
}
policy "$work/allow.json" "{\"name\": \"sim-app\", \"resources\": [\"tunnel/ingress/*\"], \"tee\": [\"sim\"], \"claims\": {\"measurement\": \"$MEAS\"}}"
start_bg "$work/pa.log" "$V" tunnel ingress --listen 127.0.0.1:0 --to "127.0.0.1:$eg_port" \
  --root-ca "$ROOT" --policy "$work/allow.json" --max-conns 1 || exit 1
timeout 30 curl -sS -o "$work/pa.bin" "http://127.0.0.1:$bg_port/big.bin"
expect_rc "policy granted: curl" 0 $?
if cmp -s "$work/www/big.bin" "$work/pa.bin"; then ok; else bad "policy granted: file differs"; fi
sleep 0.3
expect_in "policy granted: rule named" "verified tee=sim (INSECURE evidence), --policy rule sim-app; bytes c2s" "$work/pa.log"

# policy_refused NAME WANT FILE: a fresh ingress with --policy FILE refuses, logs WANT, forwards nothing
policy_refused() {
  local name=$1 want=$2 file=$3
  local before
  before=$(app_requests)
  start_bg "$work/$name.log" "$V" tunnel ingress --listen 127.0.0.1:0 --to "127.0.0.1:$eg_port" \
    --root-ca "$ROOT" --policy "$file" --max-conns 1 || { bad "$name: did not start"; return; }
  local code
  code=$(timeout 30 curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$bg_port/echo")
  expect_rc "$name: curl got nothing" 000 "$code"
  sleep 0.3
  expect_in "$name: reason and rule" "refused: $want" "$work/$name.log"
  expect_in "$name: nothing forwarded" "bytes c2s 0 s2c 0" "$work/$name.log"
  expect_rc "$name: the application saw no request" "$before" "$(app_requests)"
}
policy "$work/tee.json" '{"name": "tdx-only", "resources": ["tunnel/*/*"], "tee": ["tdx"]}'
policy_refused p_tee "VT_ERR_BROKER_TEE_NOT_ALLOWED: --policy rule tdx-only: denied by policy: TEE sim not allowed (allowed: tdx)" "$work/tee.json"
policy "$work/meas.json" "{\"name\": \"pinned\", \"resources\": [\"tunnel/ingress/127.0.0.1_$eg_port\"], \"claims\": {\"measurement\": \"$OTHER\"}}"
policy_refused p_claim "VT_ERR_BROKER_CLAIM_MISMATCH: --policy rule pinned: denied by policy: claim measurement does not match the policy" "$work/meas.json"
policy "$work/path.json" '{"name": "egress-only", "resources": ["tunnel/egress/*"]}'
policy_refused p_path "VT_ERR_BROKER_NO_RULE: --policy rule (none for this path): denied by policy: no rule grants tunnel/ingress/127.0.0.1_$eg_port" "$work/path.json"
# the first matching rule's reason is reported; a later rule may still grant
policy "$work/two.json" '{"name": "tdx", "resources": ["tunnel/*/*"], "tee": ["tdx"]}' \
  '{"name": "sim", "resources": ["tunnel/ingress/*"], "tee": ["sim"]}'
start_bg "$work/p_two.log" "$V" tunnel ingress --listen 127.0.0.1:0 --to "127.0.0.1:$eg_port" \
  --root-ca "$ROOT" --policy "$work/two.json" --max-conns 1 || exit 1
timeout 30 curl -sS -o /dev/null "http://127.0.0.1:$bg_port/echo"
expect_rc "policy: second rule grants" 0 $?
sleep 0.3
expect_in "policy: the granting rule" "--policy rule sim; bytes" "$work/p_two.log"
policy "$work/ref.json" '{"name": "r", "resources": ["tunnel/*/*"], "reference": ["measurement"]}'
"$V" tunnel ingress --listen 127.0.0.1:0 --to "127.0.0.1:$eg_port" --policy "$work/ref.json" 2>"$work/ref.err"
expect_rc "policy with reference: usage" 2 $?
expect_in "policy with reference: code" "VT_ERR_TUNNEL_POLICY" "$work/ref.err"
echo '{"version": 1, "rules": [{"resources": ["tunnel/*/*"], "colour": 1}]}' >"$work/badkey.json"
"$V" tunnel ingress --listen 127.0.0.1:0 --to "127.0.0.1:$eg_port" --policy "$work/badkey.json" 2>"$work/badkey.err"
expect_rc "policy with an unknown key: usage" 2 $?
expect_in "policy with an unknown key: says which" "unknown key 'colour'" "$work/badkey.err"
"$V" tunnel egress --listen 127.0.0.1:0 --to "127.0.0.1:$app_port" "${EG[@]}" --policy "$work/allow.json" 2>"$work/egp.err"
expect_rc "egress --policy without --mutual" 2 $?

# ---- 2. --policy on a mutual egress; 3. --claims-header ----
policy "$work/client.json" '{"name": "tdx-clients", "resources": ["tunnel/egress/*"], "tee": ["tdx"], "claims": {"debug": false}}'
start_bg "$work/egm.log" "$V" tunnel egress --listen 127.0.0.1:0 --to "127.0.0.1:$app_port" \
  "${EG[@]}" --mutual --root-ca "$ROOT" --policy "$work/client.json" --claims-header X-Veritee-Claims || exit 1
egm_port=$bg_port
start_bg "$work/inm.log" "$V" tunnel ingress --listen 127.0.0.1:0 --to "127.0.0.1:$egm_port" \
  --root-ca "$ROOT" --tee sim-tdx --sim-dir "$work/sim" || exit 1
inm_port=$bg_port
# two requests on one keep-alive connection, each with a forged header
timeout 30 curl -sS -H "x-veritee-claims: forged" -o "$work/h1.txt" "http://127.0.0.1:$inm_port/echo/1" \
  -H "X-VERITEE-CLAIMS: forged-too" -o "$work/h2.txt" "http://127.0.0.1:$inm_port/echo/2"
expect_rc "claims-header: curl" 0 $?
for f in h1 h2; do
  expect_in "claims-header: $f carries the claims" 'X-Veritee-Claims: {"' "$work/$f.txt"
  expect_in "claims-header: $f the verified tee" '"tee":"tdx"' "$work/$f.txt"
  expect_not_in "claims-header: $f no forged value" "forged" "$work/$f.txt"
  expect_rc "claims-header: $f exactly one" 1 "$(grep -ci '^x-veritee-claims:' "$work/$f.txt")"
done
sleep 0.3
expect_in "mutual egress: policy rule named" "verified tee=tdx (INSECURE evidence), --policy rule tdx-clients; bytes" "$work/egm.log"
expect_rc "keep-alive: one connection carried both" 1 "$(grep -c 'egress: conn' "$work/egm.log")"
# bodies: Content-Length and chunked, pipelined on one connection; a header-looking line in a
# body is body, not a header
python3 - "$inm_port" >"$work/bodies.txt" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
b1 = b"line one\r\nX-Veritee-Claims: in-the-body\r\n\r\n"
b2 = b"chunk body\r\nX-Veritee-Claims: also-body\r\n"
chunked = b"".join(b"%x;ext=1\r\n%s\r\n" % (len(b2[i:i+7]), b2[i:i+7]) for i in range(0, len(b2), 7)) + b"0\r\n\r\n"
s.sendall(b"POST /echo/cl HTTP/1.1\r\nHost: t\r\nX-Veritee-Claims: forged\r\nContent-Length: %d\r\n\r\n%s"
          b"POST /echo/ch HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n%s"
          % (len(b1), b1, chunked))
d = b""
while True:
    x = s.recv(65536)
    if not x: break
    d += x
sys.stdout.write(d.decode())
PY
expect_rc "bodies: two responses" 2 "$(grep -c '^HTTP/1.[01] 200' "$work/bodies.txt")"
expect_in "bodies: CL body intact" "X-Veritee-Claims: in-the-body" "$work/bodies.txt"
expect_in "bodies: chunked body intact" "X-Veritee-Claims: also-body" "$work/bodies.txt"
expect_not_in "bodies: forged header dropped" "forged" "$work/bodies.txt"
expect_rc "bodies: each request got the claims" 2 "$(grep -c '^X-Veritee-Claims: {"' "$work/bodies.txt")"
# Upgrade: the connection ends, the request is not forwarded
before=$(app_requests)
printf 'GET /echo/up HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n' |
  timeout 20 python3 -c '
import socket,sys
s=socket.create_connection(("127.0.0.1",int(sys.argv[1]))); s.sendall(sys.stdin.buffer.read())
print(len(s.recv(100)))' "$inm_port" >"$work/up.out"
expect_in "upgrade: no response" "0" "$work/up.out"
sleep 0.3
expect_in "upgrade: logged" "ended: VT_ERR_TUNNEL_HDR_UPGRADE" "$work/egm.log"
expect_rc "upgrade: not forwarded" "$before" "$(app_requests)"
# a client whose evidence the egress's --policy refuses (sim, not tdx)
before=$(app_requests)
start_bg "$work/insim.log" "$V" tunnel ingress --listen 127.0.0.1:0 --to "127.0.0.1:$egm_port" \
  --root-ca "$ROOT" --tee sim --sim-dir "$work/sim" --max-conns 1 || exit 1
timeout 30 curl -s -o /dev/null "http://127.0.0.1:$bg_port/echo"
sleep 0.3
expect_in "egress policy refusal: rule" "refused: VT_ERR_BROKER_TEE_NOT_ALLOWED: --policy rule tdx-clients: denied by policy: TEE sim not allowed" "$work/egm.log"
expect_rc "egress policy refusal: the application saw nothing" "$before" "$(app_requests)"
"$V" tunnel egress --listen 127.0.0.1:0 --to "127.0.0.1:$app_port" "${EG[@]}" --claims-header X-C 2>"$work/ch1.err"
expect_rc "--claims-header without --mutual" 2 $?
"$V" tunnel egress --listen 127.0.0.1:0 --to "127.0.0.1:$app_port" "${EG[@]}" --mutual \
  --root-ca "$ROOT" --claims-header "X C" 2>"$work/ch2.err"
expect_rc "--claims-header bad name" 2 $?
expect_in "--claims-header bad name: code" "VT_ERR_TUNNEL_HDR_NAME" "$work/ch2.err"

# ---- 4. name lookups off the loop; 5. --metrics ----
if [ -f "$SHIM" ]; then
  start_bg "$work/hp.log" env LD_PRELOAD="$SHIM" ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
    "$V" tunnel ingress --listen 127.0.0.1:0 --http-proxy --root-ca "$ROOT" --metrics 127.0.0.1:0 || exit 1
  hp_port=$bg_port
  m_port=$(sed -n 's|^metrics on http://127\.0\.0\.1:\([0-9]*\)/metrics$|\1|p' "$work/hp.log")
  timeout 30 curl -sS -x "http://127.0.0.1:$hp_port" -o "$work/byname.txt" "http://localhost:$eg_port/echo"
  expect_rc "proxy to a name: curl" 0 $?
  expect_in "proxy to a name: the application answered" "--body--" "$work/byname.txt"
  # the slow lookup starts first; the 50 MB transfer on another connection must end before it
  ( timeout 30 curl -s -x "http://127.0.0.1:$hp_port" -D "$work/slow.h" -o /dev/null \
      "http://egress.slow.test:$eg_port/echo"; date +%s.%N >"$work/slow.done" ) &
  slow_pid=$!
  sleep 0.3
  timeout 30 curl -sS -p -x "http://127.0.0.1:$hp_port" -o "$work/fast.bin" "http://127.0.0.1:$eg_port/big.bin"
  expect_rc "while a lookup is slow: curl" 0 $?
  date +%s.%N >"$work/fast.done"
  if cmp -s "$work/www/big.bin" "$work/fast.bin"; then ok; else bad "while a lookup is slow: file differs"; fi
  wait "$slow_pid"
  if python3 -c 'import sys; sys.exit(0 if float(open(sys.argv[1]).read()) < float(open(sys.argv[2]).read()) else 1)' \
      "$work/fast.done" "$work/slow.done"; then ok; else bad "the 50 MB transfer waited for the slow lookup"; fi
  expect_in "slow lookup: 502" "502 Bad Gateway" "$work/slow.h"
  sleep 0.3
  expect_in "slow lookup: reason" "to egress.slow.test:$eg_port: refused: VT_ERR_PROTO_RESOLVE: egress.slow.test:$eg_port:" "$work/hp.log"
  # --metrics
  curl -s -x "http://127.0.0.1:$hp_port" -o /dev/null "http://127.0.0.1:$app_port/echo" # not an egress
  sleep 0.3
  curl -sS -o "$work/metrics.txt" "http://127.0.0.1:$m_port/metrics"
  expect_rc "metrics: curl" 0 $?
  expect_in "metrics: type line" "# TYPE veritee_tunnel_connections_refused_total counter" "$work/metrics.txt"
  expect_in "metrics: accepted" 'veritee_tunnel_connections_accepted_total{side="ingress"} 4' "$work/metrics.txt"
  expect_in "metrics: verified" 'veritee_tunnel_connections_verified_total{side="ingress"} 2' "$work/metrics.txt"
  expect_in "metrics: refused by reason (lookup)" 'veritee_tunnel_connections_refused_total{side="ingress",reason="VT_ERR_PROTO_RESOLVE"} 1' "$work/metrics.txt"
  expect_in "metrics: refused by reason (no evidence)" 'reason="VT_ERR_TLS' "$work/metrics.txt"
  expect_in "metrics: open" 'veritee_tunnel_connections_open{side="ingress"} 0' "$work/metrics.txt"
  s2c=$(sed -n 's/^veritee_tunnel_bytes_total{side="ingress",direction="s2c"} \([0-9]*\)$/\1/p' "$work/metrics.txt")
  if [ "${s2c:-0}" -gt 50000000 ]; then ok; else bad "metrics: s2c bytes $s2c, want > 50000000"; fi
  code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$m_port/other")
  expect_rc "metrics: 404 elsewhere" 404 "$code"
  # the lookup's deadline: --timeout 1
  start_bg "$work/hpt.log" env LD_PRELOAD="$SHIM" ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
    "$V" tunnel ingress --listen 127.0.0.1:0 --socks5 --root-ca "$ROOT" --timeout 1 --max-conns 1 || exit 1
  timeout 30 curl -s --socks5-hostname "127.0.0.1:$bg_port" -o /dev/null "http://egress.slow.test:$eg_port/echo"
  sleep 0.3
  expect_in "lookup deadline" "refused: VT_ERR_TUNNEL_TIMEOUT: name lookup not done within 1 s" "$work/hpt.log"
else
  bad "missing $SHIM"
fi
finish
