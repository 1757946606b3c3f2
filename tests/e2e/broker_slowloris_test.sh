#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Slow peers on the agent port (slowloris), with real processes on 127.0.0.0/8 and the sim TEE:
# peers that send a TLS record header and then one byte a second are dropped when the
# handshake deadline (--timeout) passes, not kept for as long as they trickle; a source address
# gets at most --max-connections-per-address (default 8; loopback not exempt) connections, the
# rest are closed at once; a real agent (from 127.0.0.1) is served while 127.0.0.2 attacks;
# peers from several addresses filling --max-connections are dropped at the deadline and
# agents are served again; an attested connection trickling a request is dropped at the
# request deadline; drops and refusals are logged, rate-limited. Bounded: at most 300
# connections per attack helper, each attack at most 8 s; the whole test under a minute.
set -u
BIN=${VERITEE_BIN:-$(cd "$(dirname "$0")/../.." && pwd)/build/bin}
T=$(mktemp -d /tmp/vt-slowloris.XXXXXX)
pass=0; fail=0
BPID=
cleanup() { [ -n "$BPID" ] && kill "$BPID" 2>/dev/null; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
ok()  { pass=$((pass+1)); echo "ok: $*"; }
bad() { fail=$((fail+1)); echo "FAIL: $*"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else bad "$what"; fi; }
cd "$T" || exit 1
command -v python3 >/dev/null || { echo "SKIP: no python3"; exit 77; }
python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.2",0))' 2>/dev/null \
  || { echo "SKIP: 127.0.0.2 is not usable as a source address here"; exit 77; }

TIMEOUT=4   # --timeout: seconds for the handshake, and for each request
SLACK=2     # how late a drop may be (the deadline check runs every 250 ms; scheduling)

# slow.py PORT SRC[,SRC...] COUNT INTERVAL DURATION RECONNECT(0/1) READYFILE: COUNT connections
# (round-robin over the source addresses), each sending a TLS record header and then one byte
# every INTERVAL s, for DURATION s; with RECONNECT a closed one is reopened 0.25 s later (at
# most 300 connections in all). Prints, for the first COUNT: how many were closed within 1 s
# (immediate), how many later (held, with their min/max lifetimes), how many still open.
cat > slow.py <<'PY'
import select, socket, sys, time
# slow.py PORT SRC[,SRC...] COUNT INTERVAL DURATION RECONNECT READYFILE
port, srcs, count = int(sys.argv[1]), sys.argv[2].split(","), int(sys.argv[3])
interval, duration, reconnect, ready = float(sys.argv[4]), float(sys.argv[5]), sys.argv[6] == "1", sys.argv[7]
MAX_TOTAL, RECONNECT_DELAY = 300, 0.25   # bounds: connections in all, pause before a reconnect
t0 = time.monotonic()
conns, first, total, pending = [], [], 0, []   # pending: times at which to reconnect

def open_one(i, gen):
    global total
    total += 1
    c = {"gen": gen, "t": time.monotonic(), "next": 0.0, "closed": None}
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((srcs[i % len(srcs)], 0))
    s.settimeout(2)
    try:
        s.connect(("127.0.0.1", port))
        s.sendall(b"\x16\x03\x01\x02\x00")   # a TLS record header announcing 512 bytes
        s.setblocking(False)
        c["next"] = time.monotonic() + interval
    except OSError:
        c["closed"] = time.monotonic()
    c["s"] = s
    conns.append(c)
    if gen == 0:
        first.append(c)

def close(c, now):
    c["closed"] = now
    c["s"].close()
    if reconnect and total + len(pending) < MAX_TOTAL:
        pending.append(now + RECONNECT_DELAY)

for i in range(count):
    open_one(i, 0)
open(ready, "w").write("ready\n")
while time.monotonic() - t0 < duration:
    now = time.monotonic()
    live = [c for c in conns if c["closed"] is None]
    r, _, _ = select.select([c["s"] for c in live], [], [], 0.05) if live else ([], [], time.sleep(0.05))
    now = time.monotonic()
    for c in live:
        gone = False
        if c["s"] in r:
            try:
                gone = c["s"].recv(4096) == b""
            except BlockingIOError:
                pass
            except OSError:
                gone = True
        if not gone and now >= c["next"]:
            try:
                c["s"].send(b"\x00")                 # one byte every INTERVAL seconds
                c["next"] = now + interval
            except BlockingIOError:
                pass
            except OSError:
                gone = True
        if gone:
            close(c, now)
    for k, at in enumerate(list(pending)):
        if at <= now and total < MAX_TOTAL:
            pending.remove(at)
            open_one(total, 1)
end = time.monotonic()
life = [c["closed"] - c["t"] for c in first if c["closed"] is not None]
held = [x for x in life if x >= 1.0]
print("immediate=%d held=%d held_min=%.2f held_max=%.2f still_open=%d connections=%d" % (
    sum(1 for x in life if x < 1.0), len(held), min(held) if held else -1,
    max(held) if held else -1, sum(1 for c in first if c["closed"] is None), total))
for c in conns:
    if c["closed"] is None:
        c["s"].close()
PY

"$BIN/veritee" sim init sim >/dev/null 2>&1 || { echo "sim init failed"; exit 1; }
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem \
  -days 30 -subj "/CN=e2e broker CA" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout broker.key -out broker.csr \
  -subj "/CN=127.0.0.1" 2>/dev/null
openssl x509 -req -in broker.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out broker.pem -days 30 \
  -extfile <(printf "subjectAltName=IP:127.0.0.1\n") 2>/dev/null
"$BIN/veritee-broker" --gen-master-key mk 2>/dev/null

start_broker() { # extra flags...
  : > broker.log
  "$BIN/veritee-broker" --listen 127.0.0.1:0 --store st.db --master-key mk --admin-socket adm.sock \
    --root-ca sim/root-ca.pem --cert broker.pem --key broker.key --allow-sim \
    --timeout $TIMEOUT "$@" 2>>broker.log &
  BPID=$!
  for _ in $(seq 100); do grep -q 'listening on' broker.log && break; sleep 0.1; done
  PORT=$(grep -o 'listening on 127.0.0.1:[0-9]*' broker.log | tail -1 | cut -d: -f2)
  [ -n "$PORT" ]
}
stop_broker() { kill "$BPID" 2>/dev/null; wait "$BPID" 2>/dev/null; local rc=$?; BPID=; return $rc; }
admin() { "$BIN/veritee" admin --socket adm.sock "$@"; }
agent() { "$BIN/veritee-agent" get-resource --broker "127.0.0.1:$PORT" --tee sim --sim-dir sim \
  --broker-ca ca.pem "$@"; }
raw() { "$BIN/veritee" tls-client --connect "127.0.0.1:$PORT" --tee sim --sim-dir sim \
  --allow-unattested --ca-file ca.pem 2>>raw.err; }
# attack NAME SRCS COUNT DURATION RECONNECT: slow.py in the background; waits until it is ready
attack() {
  rm -f "$1.ready"
  python3 slow.py "$PORT" "$2" "$3" 1 "$4" "$5" "$1.ready" > "$1.out" 2> "$1.err" &
  APID=$!
  for _ in $(seq 100); do [ -f "$1.ready" ] && return 0; sleep 0.05; done
  return 1
}
# field NAME KEY: one number from an attack's summary
field() { local v; v=$(grep -o "\b$2=[-0-9.]*" "$1.out" 2>/dev/null | cut -d= -f2); echo "${v:--1}"; }
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 <= b + 0) }'; }
since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }'; } # seconds since $1
within() { le 0 "$1" && le "$1" "$2"; } # 0 <= $1 <= $2

# ---- a broker with 12 connections at most, the default per-address cap (8) --------------------
check "broker starts (--timeout $TIMEOUT --max-connections 12)" start_broker --max-connections 12
M=$(cat sim/measurement)
printf 'slowloris-secret' > secret.txt
admin resource put default/secret/app secret.txt >/dev/null
admin refval add measurement "$M" >/dev/null
echo '{"version":1,"rules":[{"resources":["default/*/*"],"reference":["measurement"]}]}' > pol.json
admin policy set pol.json >/dev/null
check "agent served before the attack" test "$(agent default/secret/app)" = slowloris-secret

# ---- 1: 16 trickling connections from 127.0.0.2 (beyond the per-address cap and the global
# cap), kept up for 8 s (closed ones reopened); the agent (127.0.0.1) asks in the middle ----
check "attack from 127.0.0.2 running (16 trickling connections)" attack a1 127.0.0.2 16 8 1
sleep 1
t0=$(date +%s.%N)
out=$(agent default/secret/app 2>agent.err); rc=$?
el=$(since "$t0")
check "(c) a real agent is served during the attack (rc=$rc, $el s)" \
  test $rc = 0 -a "$out" = slowloris-secret
wait $APID
echo "attack 1: $(cat a1.out)"
check "(b) connections beyond the per-address cap (8) closed at once ($(field a1 immediate)/8)" \
  test "$(field a1 immediate)" = 8
check "(a) the 8 admitted trickling connections all closed by the broker ($(field a1 held)/8)" \
  test "$(field a1 held)" = 8 -a "$(field a1 still_open)" = 0
check "(a) ... not before the deadline (min $(field a1 held_min) s >= $TIMEOUT - 0.5)" \
  le "$((TIMEOUT))" "$(awk -v m="$(field a1 held_min)" 'BEGIN { print m + 0.5 }')"
check "(a) ... within deadline + slack (max $(field a1 held_max) s <= $TIMEOUT + $SLACK)" \
  within "$(field a1 held_max)" "$((TIMEOUT + SLACK))"
drops=$(grep -c 'peer=127.0.0.2:[0-9]* dropped: TLS handshake not done within' broker.log)
refs=$(grep -c 'peer=127.0.0.2:[0-9]* refused: too many connections from 127.0.0.2' broker.log)
check "(d) drops logged ($drops lines)" test "$drops" -ge 8
check "(d) refusals logged ($refs lines)" test "$refs" -ge 1
# at most 10 lines a second per kind (and a note of how many were left out)
lines=$(grep -c 'peer=127.0.0.2' broker.log)
conns=$(field a1 connections)
check "(d) the log is rate-limited ($lines lines for $conns connections in 8 s; at most 200)" \
  test "$lines" -le 200
check "broker still serves after the attack" test "$(agent default/secret/app)" = slowloris-secret

# ---- 2: the global cap (12) filled from three addresses (6 each: under the per-address cap) ----
check "attack from 127.0.0.3-5 running (18 trickling connections)" \
  attack a2 127.0.0.3,127.0.0.4,127.0.0.5 18 $((TIMEOUT + SLACK + 1)) 0
sleep 0.5
agent default/secret/app > /dev/null 2>full.err
check "while the global cap is full, a new connection is refused" test $? != 0
wait $APID
echo "attack 2: $(cat a2.out)"
check "(b) connections beyond --max-connections closed at once ($(field a2 immediate)/6)" \
  test "$(field a2 immediate)" = 6
check "(a) the 12 admitted ones dropped at the deadline ($(field a2 held)/12, max $(field a2 held_max) s)" \
  test "$(field a2 held)" = 12 -a "$(field a2 still_open)" = 0
check "(a) ... within deadline + slack" within "$(field a2 held_max)" "$((TIMEOUT + SLACK))"
check "refusal at the global cap logged" grep -q 'refused: too many agent connections (limit 12)' broker.log
check "agent served again once they are dropped" test "$(agent default/secret/app)" = slowloris-secret

# ---- 3: an attested connection that trickles a request: dropped at the request deadline -------
trickle() { printf '\000\000\000\144'; for _ in $(seq 14); do sleep 1; printf 'x'; done; }
t0=$(date +%s.%N)
raw < <(trickle) > trickle.out
el=$(since "$t0")
check "(a) a request trickled after the handshake is cut at the deadline ($el s <= $((TIMEOUT + SLACK + 2)))" \
  le "$el" "$((TIMEOUT + SLACK + 2))"
check "(d) ... and logged" grep -q 'dropped: request not done within' broker.log
check "broker still serves" test "$(agent default/secret/app)" = slowloris-secret
check "SIGTERM: clean exit" stop_broker

# ---- 4: --max-connections-per-address N ---------------------------------------------------------
check "broker starts (--max-connections-per-address 2)" start_broker --max-connections-per-address 2
if [ -n "$BPID" ]; then
  attack a4 127.0.0.2 4 $((TIMEOUT + SLACK + 1)) 0
  wait $APID
  echo "attack 4: $(cat a4.out)"
  check "per-address cap 2: 2 refused at once, 2 dropped at the deadline" \
    test "$(field a4 immediate)" = 2 -a "$(field a4 held)" = 2
  check "SIGTERM: clean exit" stop_broker
fi

echo "$pass passed, $fail failed"
[ $fail = 0 ]
