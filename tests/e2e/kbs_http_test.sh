#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# KBS HTTP layer under hostile requests (issues 10.6, 10.7, 18.7), against veritee-broker
# --kbs-listen with a resource default/key/one that the policy grants:
# - percent-encoding and NUL in the request target (curl --path-as-is and raw sockets):
#   `one%00/../x`, `default%2Fkey%2Fone`, a literal NUL: 400, and no release in the log;
# - framing (RFC 9112 §6.3): Content-Length with Transfer-Encoding, two Content-Lengths,
#   Transfer-Encoding other than chunked: 400 VT_ERR_KBS_HTTP_FRAMING; a plain request still 200;
# - HTTPS: TLS 1.0 and 1.1 refused (client at SECLEVEL=0, so the server is what refuses),
#   TLS 1.2 and 1.3 accepted;
# - the agent's KBS client over HTTPS: a host name mismatch and a CA it was not given are
#   refused with their reason, the right CA gets through to the protocol.
set -u
BIN=${VERITEE_BIN:-$(cd "$(dirname "$0")/../.." && pwd)/build/bin}
T=$(mktemp -d /tmp/vt-kbs-http.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
cd "$T" || exit 1
pass=0; fail=0
ok()  { pass=$((pass+1)); echo "ok: $*"; }
bad() { fail=$((fail+1)); echo "FAIL: $*"; }
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout b.key -out b.pem \
  -days 3 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 2>/dev/null
"$BIN/veritee-broker" --gen-master-key mk 2>/dev/null
printf 'top secret value' > secret
printf '{"version":1,"rules":[{"name":"app","resources":["default/key/*"],"tee":["sample","tdx"]}]}' > pol.json
start() { # name extra-args... -> KPORT
  local n=$1; shift
  "$BIN/veritee-broker" --listen 127.0.0.1:0 --store "$n.db" --master-key mk --admin-socket "$n.sock" \
     --cert b.pem --key b.key --kbs-listen 127.0.0.1:0 "$@" 2>"$n.log" &
  PIDS+=($!)
  for _ in $(seq 100); do grep -q 'KBS listening on' "$n.log" && break; sleep 0.1; done
  KPORT=$(grep -o 'KBS listening on https\?://127.0.0.1:[0-9]*' "$n.log" | grep -o '[0-9]*$')
  [ -n "$KPORT" ] || { echo "FAIL: broker $n did not start"; cat "$n.log"; exit 1; }
  "$BIN/veritee" admin --socket "$n.sock" resource put default/key/one secret >/dev/null || { echo "FAIL: resource put"; exit 1; }
  "$BIN/veritee" admin --socket "$n.sock" policy set pol.json >/dev/null || { echo "FAIL: policy set"; exit 1; }
}
start a
P=$KPORT
for p in '/kbs/v0/resource/default/key/one%00/../x' '/kbs/v0/resource/default%2Fkey%2Fone' \
         '/kbs/v0/resource/default/key/%6fne' '/kbs/v0/resource/default/key/one%2F..%2F..%2Fx'; do
  out=$(curl -s -m 5 --path-as-is -H 'Authorization: Bearer x.y.z' -w ' %{http_code}' "http://127.0.0.1:$P$p")
  case "$out" in *InvalidRequestPath*"percent-encoding"*" 400") ok "$p: 400" ;; *) bad "$p: $out" ;; esac
done
cat > raw.py <<'EOF'
import json, socket, sys
port = int(sys.argv[1])
passed = failed = 0
def check(what, cond, extra=""):
    global passed, failed
    if cond: passed += 1; print("ok:", what)
    else: failed += 1; print("FAIL:", what, extra)
def raw(data):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(data)
    out = b""
    try:
        while len(out) < 65536:
            d = s.recv(65536)
            if not d: break
            out += d
    except OSError as e: out += b"<" + str(e).encode() + b">"
    s.close()
    head, _, body = out.partition(b"\r\n\r\n")
    status = int(head.split(b" ")[1]) if head.startswith(b"HTTP/1.") else 0
    try: j = json.loads(body)
    except Exception: j = {}
    return status, j
H = b"Host: a\r\nConnection: close\r\n"
st, j = raw(b"GET /kbs/v0/resource/default/key/one\x00/../x HTTP/1.1\r\n" + H + b"Authorization: Bearer x.y.z\r\n\r\n")
check("literal NUL in the target: 400", st == 400 and j.get("code") == "VT_ERR_BROKER_BAD_PATH", (st, j))
st, j = raw(b"GET /healthz\x00x HTTP/1.1\r\n" + H + b"\r\n")
check("literal NUL after /healthz: 400", st == 400, (st, j))
auth = b'{"version":"0.4.0","tee":"sample","extra-params":""}'
cases = [
  ("Content-Length with Transfer-Encoding", b"Content-Length: %d\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n0\r\n\r\n" % (len(auth), len(auth), auth)),
  ("two different Content-Lengths", b"Content-Length: %d\r\nContent-Length: 2\r\n\r\n%s" % (len(auth), auth)),
  ("two Content-Lengths, reversed", b"Content-Length: 2\r\nContent-Length: %d\r\n\r\n%s" % (len(auth), auth)),
  ("Transfer-Encoding gzip", b"Transfer-Encoding: gzip\r\n\r\n" + auth),
  ("Transfer-Encoding chunked twice", b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n0\r\n\r\n" % (len(auth), auth)),
]
for what, rest in cases:
    st, j = raw(b"POST /kbs/v0/auth HTTP/1.1\r\n" + H + b"Content-Type: application/json\r\n" + rest)
    check(what + ": 400", st == 400 and j.get("code") == "VT_ERR_KBS_HTTP_FRAMING", (st, j))
st, j = raw(b"POST /kbs/v0/auth HTTP/1.1\r\n" + H + b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(auth), auth))
check("plain Content-Length: 200", st == 200 and "nonce" in j, (st, j))
st, j = raw(b"POST /kbs/v0/auth HTTP/1.1\r\n" + H + b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n0\r\n\r\n" % (len(auth), auth))
check("chunked alone: 200", st == 200 and "nonce" in j, (st, j))
print("py: %d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
EOF
timeout 60 python3 raw.py "$P" && ok "raw requests" || bad "raw requests"
grep -q 'decision=release' a.log && bad "a release was logged" || ok "no release logged"
start c --kbs-cert b.pem --kbs-key b.key
for v in tls1 tls1_1; do
  if echo | timeout 10 openssl s_client -connect "127.0.0.1:$KPORT" -$v -cipher 'DEFAULT@SECLEVEL=0' >s_$v.out 2>&1 </dev/null \
     && grep -q 'BEGIN CERTIFICATE\|Server certificate' s_$v.out; then
    bad "-$v accepted"
  else ok "-$v refused"; fi
done
for v in tls1_2 tls1_3; do
  if echo | timeout 10 openssl s_client -connect "127.0.0.1:$KPORT" -$v -cipher 'DEFAULT@SECLEVEL=0' >s_$v.out 2>&1 </dev/null \
     && grep -q 'Server certificate' s_$v.out; then
    ok "-$v accepted ($(grep -o 'Cipher is [A-Z0-9_-]*' s_$v.out | head -1))"
  else bad "-$v refused: $(tail -3 s_$v.out)"; fi
done
echo | timeout 10 openssl s_client -connect "127.0.0.1:$KPORT" -tls1_2 -cipher 'AES128-SHA:AES256-SHA' >s_cbc.out 2>&1 </dev/null \
  && grep -q 'Server certificate' s_cbc.out && bad "TLS 1.2 CBC cipher accepted" || ok "TLS 1.2 CBC (non-AEAD, no forward secrecy) refused"
# The agent's KBS client over https (src/kbs_client/http_client.c): the certificate and the
# host name are verified; a failure says why. The broker has no sim root, so a run that gets
# through TLS ends in the protocol's 403 (an HTTP answer, not a connection failure).
"$BIN/veritee" sim init sim >/dev/null 2>&1
agent() { timeout 30 "$BIN/veritee-agent" get-resource --kbs "$@" --tee sim --sim-dir sim default/key/one 2>&1; }
out=$(agent "https://localhost:$KPORT" --kbs-ca b.pem)
case "$out" in *"certificate was not accepted: hostname mismatch (VT_ERR_KBS_HTTP)"*) ok "agent: host name mismatch refused" ;; *) bad "agent, localhost: $out" ;; esac
out=$(agent "https://127.0.0.1:$KPORT")
case "$out" in *"certificate was not accepted: self-signed certificate (VT_ERR_KBS_HTTP)"*) ok "agent: certificate not in the system store refused" ;; *) bad "agent, no --kbs-ca: $out" ;; esac
out=$(agent "https://127.0.0.1:$KPORT" --kbs-ca b.pem)
case "$out" in *"HTTP 403: "*"(VT_ERR_KBS_REFUSED)"*) ok "agent: TLS verified, the protocol answers" ;; *) bad "agent, --kbs-ca: $out" ;; esac
out=$(agent "http://127.0.0.1:$KPORT")
case "$out" in *"(VT_ERR_KBS_HTTP)"*) ok "agent: plain http to the https port fails" ;; *) bad "agent, http to https: $out" ;; esac
echo "kbs_http: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
