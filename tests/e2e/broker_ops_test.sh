#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# End-to-end tests of broker operations:
#  - an admin client that connects and says nothing does not delay agent releases;
#  - SIGTERM while connections stay open (silent admin and agent TCP clients): after the grace
#    period the broker cuts them, frees its state and exits 0 ("stopped");
#  - master key rotation (`veritee-broker --rekey NEW`): every secret re-encrypted; the old key
#    no longer opens the store; SIGKILL in the middle of a rotation (or just after its commit)
#    leaves a store that opens under exactly one of the two keys with every secret intact and
#    the policy and reference values still authenticated (never set again).
set -u
BIN=${VERITEE_BIN:-$(cd "$(dirname "$0")/../.." && pwd)/build/bin}
T=$(mktemp -d /tmp/vt-broker-ops.XXXXXX)
pass=0; fail=0
BPID=
HOLD=()
cleanup() {
  [ -n "$BPID" ] && kill "$BPID" 2>/dev/null
  for p in "${HOLD[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null; rm -rf "$T"
}
trap cleanup EXIT
ok()  { pass=$((pass+1)); echo "ok: $*"; }
bad() { fail=$((fail+1)); echo "FAIL: $*"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else bad "$what"; fi; }
cd "$T" || exit 1
command -v python3 >/dev/null || { echo "python3 missing: skipped"; exit 77; }

"$BIN/veritee" sim init sim >/dev/null 2>&1 || { echo "sim init failed"; exit 1; }
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem \
  -days 30 -subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1" 2>/dev/null
"$BIN/veritee-broker" --gen-master-key mk 2>/dev/null
"$BIN/veritee-broker" --gen-master-key mk2 2>/dev/null

start_broker() { # key, extra flags...
  local key=$1; shift
  : > broker.log
  "$BIN/veritee-broker" --listen 127.0.0.1:0 --store st.db --master-key "$key" --admin-socket adm.sock \
    --root-ca sim/root-ca.pem --cert ca.pem --key ca.key --allow-sim "$@" 2>>broker.log &
  BPID=$!
  for _ in $(seq 100); do grep -q -e 'listening on' -e 'key store' broker.log && break; sleep 0.1; done
  PORT=$(grep -o 'listening on 127.0.0.1:[0-9]*' broker.log | tail -1 | cut -d: -f2)
  [ -n "$PORT" ]
}
stop_broker() { kill "$BPID" 2>/dev/null; wait "$BPID" 2>/dev/null; local rc=$?; BPID=; return $rc; }
admin() { "$BIN/veritee" admin --socket adm.sock "$@"; }
agent() { "$BIN/veritee-agent" get-resource --broker "127.0.0.1:$PORT" --tee sim --sim-dir sim \
  --broker-ca ca.pem "$@"; }
# hold a connection open without sending anything: hold unix PATH | hold tcp PORT
hold() {
  python3 -c '
import socket, sys, time
if sys.argv[1] == "unix":
    s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[2])
else:
    s = socket.create_connection(("127.0.0.1", int(sys.argv[2])))
print("connected", flush=True)
time.sleep(120)' "$@" > "hold.$1.out" 2>&1 &
  HOLD+=($!)
  for _ in $(seq 50); do grep -q connected "hold.$1.out" && return 0; sleep 0.1; done
  return 1
}

check "broker starts (timeout 3)" start_broker mk --timeout 3
M=$(cat sim/measurement)
admin refval add measurement "$M" >/dev/null
echo '{"version":1,"rules":[{"resources":["app/*/*"],"reference":["measurement"],"tcb_status":["none"]}]}' > pol.json
admin policy set pol.json >/dev/null
for i in $(seq 1 60); do head -c 2048 /dev/urandom > "v$i.bin"; admin resource put "app/secret/s$i" "v$i.bin" >/dev/null; done
admin key create app/key/k1 >/dev/null
printf '{"op":"keywrap","keywrapparams":{"ec":{"Parameters":{"veritee":["%s"]}},"optsdata":"%s"}}' \
  "$(printf app/key/k1 | base64 -w0)" "$(printf 'wrapped payload' | base64 -w0)" | \
  "$BIN/veritee" keyprovider --admin-socket adm.sock > wrap.json
check "60 secrets and a key provisioned" test "$(admin resource list | grep -c '"path"')" = 61

# ---- a silent admin client does not stall agents -------------------------------------------
check "silent admin client connected" hold unix adm.sock
start=$(date +%s%N)
agent -o /dev/shm/vt-ops-$$.bin app/secret/s1 2>err.txt; rc=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
check "agent released while an admin client is silent (${ms} ms)" test $rc = 0 -a "$ms" -lt 2000
check "... byte-identical" cmp -s /dev/shm/vt-ops-$$.bin v1.bin
rm -f /dev/shm/vt-ops-$$.bin
check "admin commands still served meanwhile" bash -c "'$BIN/veritee' admin --socket adm.sock resource list | grep -q app/secret/s2"

# ---- SIGTERM with connections still open -----------------------------------------------------
check "silent agent TCP client connected" hold tcp "$PORT"
check "second silent admin client connected" hold unix adm.sock
kill "$BPID"
start=$(date +%s)
wait "$BPID"; rc=$?; BPID=
secs=$(( $(date +%s) - start ))
check "SIGTERM with open connections: exit 0 (${secs}s)" test $rc = 0 -a "$secs" -le 12
check "... the late connections were cut" grep -q 'closing [0-9]* connection(s) still open' broker.log
check "... and state freed ('stopped')" grep -q 'stopped' broker.log
for p in "${HOLD[@]}"; do kill "$p" 2>/dev/null; done; HOLD=()

# ---- master key rotation ------------------------------------------------------------------------
sqlite3 st.db 'SELECT hex(blob) FROM secrets ORDER BY path, version' > blobs.before 2>/dev/null
"$BIN/veritee-broker" --store st.db --master-key mk --rekey mk2 2>rekey.log; rc=$?
check "rekey: exit 0" test $rc = 0
check "... reports every blob (61 + check value)" grep -q 'rekey: 62 blob(s) re-encrypted' rekey.log
sqlite3 st.db 'SELECT hex(blob) FROM secrets ORDER BY path, version' > blobs.after 2>/dev/null
check "... every stored blob changed" test -z "$(comm -12 <(sort blobs.before) <(sort blobs.after))"
"$BIN/veritee-broker" --store st.db --master-key mk --rekey mk2 2>rekey.log; rc=$?
check "old key no longer opens the store" test $rc = 1 -a -n "$(grep 'master key does not open this key store' rekey.log)"
"$BIN/veritee-broker" --store st.db --master-key mk2 --rekey mk2 2>rekey.log; rc=$?
check "rekey to the same key refused" test $rc = 1
check "broker starts under the new key" start_broker mk2
bad_n=0
for i in 1 30 60; do
  agent -o /dev/shm/vt-ops-$$.bin "app/secret/s$i" 2>/dev/null && cmp -s /dev/shm/vt-ops-$$.bin "v$i.bin" || bad_n=$((bad_n+1))
done
rm -f /dev/shm/vt-ops-$$.bin
check "secrets released byte-identical after rekey ($bad_n wrong)" test $bad_n = 0
ANN_B64=$(python3 -c "import json,base64;print(base64.b64encode(bytes(json.load(open('wrap.json'))['keywrapresults']['annotation'])).decode())")
printf '{"op":"keyunwrap","keyunwrapparams":{"annotation":"%s"}}' "$ANN_B64" > kp.json
"$BIN/veritee-agent" keyprovider --broker "127.0.0.1:$PORT" --tee sim --sim-dir sim --broker-ca ca.pem < kp.json > kp.out 2>kp.err
check "data wrapped before the rekey still unwraps" python3 -c '
import json,sys; d=json.load(open("kp.out"))["keyunwrapresults"]["optsdata"]
d = bytes(d) if isinstance(d, list) else __import__("base64").b64decode(d)
sys.exit(0 if d == b"wrapped payload" else 1)'
stop_broker

# SIGKILL in the middle: bigger store, kill at increasing fractions of a rotation's duration
# (up to just after its end: the commit and what follows it). The policy and reference value
# are set once, before: they must stay authenticated through every killed rotation.
for i in $(seq 1 200); do head -c 60000 /dev/urandom > "b$i.bin"; done
start_broker mk2 >/dev/null
for i in $(seq 1 200); do admin resource put "big/secret/b$i" "b$i.bin" >/dev/null; done
echo '{"version":1,"rules":[{"resources":["app/*/*","big/*/*"],"reference":["measurement"],"tcb_status":["none"]}]}' > pol2.json
admin policy set pol2.json >/dev/null
stop_broker
rm -f probe.key; "$BIN/veritee-broker" --gen-master-key probe.key 2>/dev/null
cp st.db probe.db; [ -e st.db-wal ] && cp st.db-wal probe.db-wal || rm -f probe.db-wal
s0=$(date +%s%N)
"$BIN/veritee-broker" --store probe.db --master-key mk2 --rekey probe.key 2>/dev/null
dur=$(( ($(date +%s%N) - s0) / 1000000 )); rm -f probe.db probe.db-wal probe.db-shm
cur=mk2; other=mk; killed=0; oneok=0; rounds=0
for f in 10 30 50 70 85 92 96 100 103 107; do
  rounds=$((rounds+1))
  d=$(awk -v m="$dur" -v f="$f" 'BEGIN { printf "%.3f", m * f / 100000 }')
  "$BIN/veritee-broker" --store st.db --master-key $cur --rekey $other 2>>rekey-kill.log &
  RP=$!
  sleep "$d"
  kill -9 "$RP" 2>/dev/null && killed=$((killed+1))
  wait "$RP" 2>/dev/null
  # exactly one of the two keys opens it (a rekey of key X to a fresh key Z tests opening)
  opens=""
  for k in mk mk2; do
    rm -f probe.key; "$BIN/veritee-broker" --gen-master-key probe.key 2>/dev/null
    cp st.db probe.db; [ -e st.db-wal ] && cp st.db-wal probe.db-wal || rm -f probe.db-wal
    "$BIN/veritee-broker" --store probe.db --master-key $k --rekey probe.key 2>/dev/null && opens="$opens $k"
    rm -f probe.db probe.db-wal probe.db-shm
  done
  [ "$(echo $opens | wc -w)" = 1 ] && oneok=$((oneok+1))
  if [ "$(echo $opens)" = "$other" ]; then t=$cur; cur=$other; other=$t; fi
done
check "SIGKILL during rekey ($killed of $rounds killed mid-way): store opens under exactly one key each time ($oneok/$rounds)" test $oneok = $rounds -a $killed -ge 1
check "store integrity after the kills" test "$(sqlite3 st.db 'PRAGMA integrity_check')" = ok
check "broker starts under the key that opens it ($cur)" start_broker $cur
# nothing set again: the policy and the reference value changed key in the rotation's own
# transaction, so they authenticate under whichever key opens the store
check "policy and reference values authenticated after the killed rotations" \
  test -z "$(grep 'POLICY STORE INTEGRITY' broker.log)"
bad_n=0
for i in 1 77 200; do
  agent -o /dev/shm/vt-ops-$$.bin "big/secret/b$i" 2>/dev/null && cmp -s /dev/shm/vt-ops-$$.bin "b$i.bin" || bad_n=$((bad_n+1))
done
agent -o /dev/shm/vt-ops-$$.bin app/secret/s60 2>/dev/null && cmp -s /dev/shm/vt-ops-$$.bin v60.bin || bad_n=$((bad_n+1))
rm -f /dev/shm/vt-ops-$$.bin
check "every sampled secret intact after killed rotations ($bad_n wrong)" test $bad_n = 0
stop_broker; rc=$?
check "clean SIGTERM" test $rc = 0

echo "$pass passed, $fail failed"
[ $fail = 0 ]
