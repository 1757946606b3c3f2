#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Slow peers on the KBS port (issue 10.2): one address (127.0.0.2) opens 2000 connections that
# each send a partial request header and then one header line every 2 s (plain HTTP), or
# never finish the TLS handshake (HTTPS, a ClientHello trickled a byte at a time). The broker
# runs with an open-file limit of 1024 (a common default). Asserted: /healthz from 127.0.0.1
# answers 200 within 1 s during the attack; the attacker holds at most the per-address limit;
# every trickling connection is closed by the absolute request deadline (3 s here).
# Bounded: 2000 sockets, each phase < 25 s, whole test < 90 s.
set -u
BIN=${VERITEE_BIN:-$(cd "$(dirname "$0")/../.." && pwd)/build/bin}
T=$(mktemp -d /tmp/vt-kbs-slow.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
cd "$T" || exit 1
pass=0; fail=0
ok()  { pass=$((pass+1)); echo "ok: $*"; }
bad() { fail=$((fail+1)); echo "FAIL: $*"; }
[ "$(ulimit -Hn)" = unlimited ] || [ "$(ulimit -Hn)" -ge 4200 ] || { echo "SKIP: hard open-file limit below 4200"; exit 77; }
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout b.key -out b.pem \
  -days 3 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 2>/dev/null
"$BIN/veritee-broker" --gen-master-key mk 2>/dev/null
start() { # name extra-args... -> KPORT
  local n=$1; shift
  ( ulimit -n 1024; exec "$BIN/veritee-broker" --listen 127.0.0.1:0 --store "$n.db" --master-key mk \
      --admin-socket "$n.sock" --cert b.pem --key b.key --kbs-listen 127.0.0.1:0 \
      --kbs-request-timeout 3 "$@" 2>"$n.log" ) &
  PIDS+=($!)
  for _ in $(seq 100); do grep -q 'KBS listening on' "$n.log" && break; sleep 0.1; done
  KPORT=$(grep -o 'KBS listening on https\?://127.0.0.1:[0-9]*' "$n.log" | grep -o '[0-9]*$')
  [ -n "$KPORT" ] || { echo "FAIL: broker $n did not start"; cat "$n.log"; exit 1; }
}
cat > slow.py <<'EOF'
import socket, ssl, subprocess, sys, time
port, tls = int(sys.argv[1]), sys.argv[2] == "tls"
N, DEADLINE = 2000, 3.0
passed = failed = 0
def check(what, cond, extra=""):
    global passed, failed
    if cond: passed += 1; print("ok:", what)
    else: failed += 1; print("FAIL:", what, extra)
hello = b""
if tls:  # a real ClientHello, trickled a few bytes at a time and never completed
    ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
    i, o = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(i, o, server_hostname="x")
    try: obj.do_handshake()
    except ssl.SSLWantReadError: pass
    hello = o.read()
first = hello[:5] if tls else b"GET /healthz HTTP/1.1\r\nHost: a\r\n"
conns = []
t0 = time.monotonic()
for _ in range(N):
    if time.monotonic() - t0 > 15: break
    s = socket.socket(); s.setblocking(False)
    try: s.bind(("127.0.0.2", 0))
    except OSError: s.close(); break
    s.connect_ex(("127.0.0.1", port)); conns.append(s)
time.sleep(0.3)
for s in conns:
    try: s.send(first)
    except OSError: pass
print("opened", len(conns), "in %.1fs" % (time.monotonic() - t0))
def alive():
    n = 0
    for s in conns:
        if s.fileno() < 0: continue
        try:
            d = s.recv(4096)
            if not d: s.close(); continue
        except BlockingIOError: pass
        except OSError: s.close(); continue
        n += 1
    return n
def healthz():
    a = time.monotonic()
    r = subprocess.run(["curl", "-sk", "-m", "1", "-o", "/dev/null", "-w", "%{http_code}",
                        ("https" if tls else "http") + "://127.0.0.1:%d/healthz" % port],
                       capture_output=True, text=True)
    return r.stdout, time.monotonic() - a
worst, codes, held, k = 0.0, set(), 0, 0
start = time.monotonic()
while time.monotonic() - start < DEADLINE + 4:  # trickle: one more line (or byte) every 2 s
    for s in conns:
        if s.fileno() < 0: continue
        try: s.send(hello[5 + k:6 + k] if tls else b"X-Trickle-%d: 1\r\n" % k)
        except OSError: s.close()
    k += 1
    if time.monotonic() - start < DEADLINE - 0.5:
        held = max(held, alive())
    code, dt = healthz(); codes.add(code); worst = max(worst, dt)
    time.sleep(max(0, 2 - dt))
check("healthz 200 within 1 s during the attack", codes == {"200"} and worst < 1.0, "codes %s worst %.2fs" % (codes, worst))
check("the attacker holds at most 16 connections (per-address limit)", held <= 16, "held %d" % held)
left = alive()
check("every trickling connection closed by the deadline", left == 0, "%d still open" % left)
for s in conns: s.close()
print("py: %d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
EOF
start a
( ulimit -n 4200; timeout 60 python3 slow.py "$KPORT" plain ) && ok "plain HTTP slowloris" || bad "plain HTTP slowloris"
grep -q 'KBS: closed [0-9]* connection(s) that did not complete a request within 3s' a.log && ok "deadline cuts logged" || bad "no deadline log line"
start b --kbs-cert b.pem --kbs-key b.key
( ulimit -n 4200; timeout 60 python3 slow.py "$KPORT" tls ) && ok "HTTPS handshake trickle" || bad "HTTPS handshake trickle"
echo "kbs_slowloris: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
