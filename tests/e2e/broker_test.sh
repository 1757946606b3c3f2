#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# End-to-end tests of veritee-broker + veritee-agent + `veritee admin` on 127.0.0.1 with real
# processes and the sim TEE: release on a matching measurement; refusal with the reason for a
# wrong measurement, an unaccepted TCB status, an expired reference value, a path-traversal
# name, an oversized and a malformed request (the broker keeps serving); sim refused without
# --allow-sim; admin refused to other users; legacy EAA commands; no plaintext in the store;
# SIGKILL during provisioning loses no committed secret; 50 agents at once; clean SIGTERM.
set -u
BIN=${VERITEE_BIN:-$(cd "$(dirname "$0")/../.." && pwd)/build/bin}
T=$(mktemp -d /tmp/vt-broker-e2e.XXXXXX)
pass=0; fail=0
BPID=
cleanup() { [ -n "$BPID" ] && kill "$BPID" 2>/dev/null; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
ok()  { pass=$((pass+1)); echo "ok: $*"; }
bad() { fail=$((fail+1)); echo "FAIL: $*"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else bad "$what"; fi; }
cd "$T" || exit 1

"$BIN/veritee" sim init sim >/dev/null 2>&1 || { echo "sim init failed"; exit 1; }
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem \
  -days 30 -subj "/CN=e2e broker CA" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout broker.key -out broker.csr \
  -subj "/CN=127.0.0.1" 2>/dev/null
openssl x509 -req -in broker.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out broker.pem -days 30 \
  -extfile <(printf "subjectAltName=IP:127.0.0.1\n") 2>/dev/null
"$BIN/veritee-broker" --gen-master-key mk 2>/dev/null
check "master key file is 0600" test "$(stat -c %a mk)" = 600

start_broker() { # extra flags...
  : > broker.log
  "$BIN/veritee-broker" --listen 127.0.0.1:0 --store st.db --master-key mk --admin-socket adm.sock \
    --root-ca sim/root-ca.pem --cert broker.pem --key broker.key --timeout 10 "$@" 2>>broker.log &
  BPID=$!
  for _ in $(seq 100); do grep -q 'listening on' broker.log && break; sleep 0.1; done
  PORT=$(grep -o 'listening on 127.0.0.1:[0-9]*' broker.log | tail -1 | cut -d: -f2)
  [ -n "$PORT" ]
}
stop_broker() { kill "$BPID" 2>/dev/null; wait "$BPID" 2>/dev/null; local rc=$?; BPID=; return $rc; }
admin() { "$BIN/veritee" admin --socket adm.sock "$@"; }
agent() { "$BIN/veritee-agent" get-resource --broker "127.0.0.1:$PORT" --tee sim --sim-dir sim \
  --broker-ca ca.pem "$@"; }
# raw frames (src/proto framing, tests/tools/vt_frame.c), sent over attested TLS by `veritee tls-client`
frame() { "$BIN/../tests/vt_frame" "$@"; }
raw() { "$BIN/veritee" tls-client --connect "127.0.0.1:$PORT" --tee sim --sim-dir sim \
  --allow-unattested --ca-file ca.pem 2>>raw.err; }

M=$(cat sim/measurement)
BADM=$(printf 'ee%.0s' $(seq 48))
OLDM=$(printf 'cc%.0s' $(seq 48))
check "broker starts with --allow-sim" start_broker --allow-sim --max-connections-per-address 64 # 50 agents from 127.0.0.1 below

# ---- provisioning via the admin socket -------------------------------------------------------
printf 'TOPSECRET-%s' "$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')" > secret.txt
SECRET=$(cat secret.txt)
check "admin resource put" admin resource put default/secret/app secret.txt
check "admin resource put (tcb)" admin resource put strict/secret/app secret.txt
check "admin refval add" admin refval add measurement "$M" --source "e2e build 1"
check "admin refval add (expired)" admin refval add measurement "$OLDM" --expires 2001-01-01T00:00:00Z --source "old build"
cat > policy.json <<EOF
{"version": 1, "rules": [
  {"name": "app", "resources": ["default/*/*"], "tee": ["sim"], "reference": ["measurement"]},
  {"name": "strict", "resources": ["strict/secret/*"], "tcb_status": ["UpToDate"], "reference": ["measurement"]}]}
EOF
check "admin policy set" admin policy set policy.json
echo '{"version":1,"rules":[{"resources":["a/b/c"],"allow":"all"}]}' > badpol.json
admin policy set badpol.json 2>err.txt; rc=$?
check "invalid policy refused with reason (exit 1)" test $rc = 1 -a -n "$(grep "unknown key 'allow'" err.txt)"
admin resource list > list.json
check "resource list shows both resources" grep -q '"path": "strict/secret/app"' list.json
check "resource list shows no secret" bash -c "! grep -q TOPSECRET list.json"

# ---- releases and refusals -------------------------------------------------------------------
out=$(agent default/secret/app); rc=$?
check "release on matching measurement" test $rc = 0 -a "$out" = "$SECRET"
grep -q 'decision=release' broker.log && grep -q 'INSECURE release' broker.log
check "release logged with request id and marked INSECURE" test $? = 0
agent --option sim.measurement="$BADM" default/secret/app > /dev/null 2>err.txt; rc=$?
check "wrong measurement refused (exit 1)" test $rc = 1
check "... with reason" grep -q 'denied by policy: measurement not in reference values' err.txt
agent --option sim.measurement="$OLDM" default/secret/app > /dev/null 2>err.txt; rc=$?
check "expired reference value refused" test $rc = 1
check "... with reason" grep -q 'reference value for measurement expired at 2001-01-01T00:00:00Z' err.txt
agent strict/secret/app > /dev/null 2>err.txt; rc=$?
check "unaccepted TCB status refused" test $rc = 1
check "... with reason" grep -q 'TCB status none not accepted (accepted: UpToDate)' err.txt
agent default/secret/missing > /dev/null 2>err.txt; rc=$?
check "unknown resource refused with reason" test $rc = 1 -a -n "$(grep 'unknown resource: default/secret/missing' err.txt)"
agent other/secret/app > /dev/null 2>err.txt; rc=$?
check "no rule: refused" grep -q 'no rule grants other/secret/app' err.txt
agent ../../etc/passwd > /dev/null 2>err.txt; rc=$?
check "agent refuses a traversal path locally (exit 2)" test $rc = 2
frame '{"id":"t1","op":"get-resource","path":"default/../../etc/passwd"}' > trav.bin
raw < trav.bin > trav.out
check "path traversal refused by the broker with reason" grep -q 'invalid resource path' trav.out
frame '{"id":"m1","op":"get-resource",' > mal.bin
frame '{"id":"m2","op":"version"}' >> mal.bin
raw < mal.bin > mal.out
check "malformed request answered with reason" grep -q 'malformed request: invalid JSON' mal.out
check "... and the connection keeps serving" grep -q '"id":"m2","rid":"[^"]*","ok":true' mal.out
{ printf '\000\002\000\000'; head -c 1000 /dev/zero; } > big.bin
raw < big.bin > big.out
check "oversized request refused with reason" grep -q 'request too large: 131072 bytes (limit 65536)' big.out
out=$(agent default/secret/app); rc=$?
check "broker still serves after bad requests" test $rc = 0 -a "$out" = "$SECRET"
# legacy EAA (Verdictd) commands: raw JSON without framing
printf '%s' '{"command":"Get Resource","optional":{"resource_path":"default/secret/app"}}' | raw > eaa.out
check "legacy EAA Get Resource (bare base64)" grep -q "$(printf '%s' "$SECRET" | base64 -w0)" eaa.out
printf '%s' '{"command":"Get KEK","kids":["default/secret/app"]}' | raw > eaa2.out
check "legacy EAA Get KEK refuses a non-key with reason" grep -q '"status":"Fail".*resource is not a key' eaa2.out
check "admin audit lists releases and refusals" bash -c "'$BIN/veritee' admin --socket adm.sock audit --limit 500 | grep -q '\"decision\": \"refuse\"'"

# ---- key store at rest ----------------------------------------------------------------------------
sqlite3 st.db 'PRAGMA wal_checkpoint;' >/dev/null 2>&1
check "store file holds no plaintext secret" bash -c "! grep -qa '$SECRET' st.db st.db-wal 2>/dev/null"
check "store file mode 0600" test "$(stat -c %a st.db)" = 600
sqlite3 st.db 'DELETE FROM audit' 2>/dev/null; rc=$?
check "audit table is append-only" test $rc != 0

# ---- 50 agents at once ----------------------------------------------------------------------------
mkdir -p par
for i in $(seq 50); do
  if [ $((i % 2)) = 0 ]; then
    ( agent default/secret/app > par/$i.out 2> par/$i.err; echo $? > par/$i.rc ) &
  else
    ( agent --option sim.measurement="$BADM" default/secret/app > par/$i.out 2> par/$i.err; echo $? > par/$i.rc ) &
  fi
done
wait $(jobs -p | grep -v "^$BPID\$") 2>/dev/null
good=0
for i in $(seq 50); do
  if [ $((i % 2)) = 0 ]; then
    [ "$(cat par/$i.rc)" = 0 ] && [ "$(cat par/$i.out)" = "$SECRET" ] && good=$((good+1))
  else
    [ "$(cat par/$i.rc)" = 1 ] && grep -q 'measurement not in reference values' par/$i.err && good=$((good+1))
  fi
done
check "50 concurrent agents all answered correctly ($good/50)" test $good = 50

# ---- admin access control --------------------------------------------------------------------------
if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1; then
  chmod 0777 adm.sock; chmod 0755 "$T"
  su -s /bin/sh nobody -c "'$BIN/veritee' admin --socket '$T/adm.sock' resource list" >/dev/null 2>err.txt; rc=$?
  chmod 0600 adm.sock; chmod 0700 "$T"
  check "admin refused for another uid (SO_PEERCRED)" test $rc = 1 -a -n "$(grep 'neither root' err.txt)"
fi

# ---- SIGTERM: clean shutdown --------------------------------------------------------------------
stop_broker; rc=$?
check "SIGTERM: clean exit" test $rc = 0
check "SIGTERM: logged" grep -q 'stopped' broker.log

# ---- sim refused without --allow-sim ---------------------------------------------------------------
start_broker
agent default/secret/app > /dev/null 2>err.txt; rc=$?
check "sim evidence refused without --allow-sim" test $rc = 1 -a -n "$(grep 'not started with --allow-sim' err.txt)"
stop_broker

# ---- SIGKILL in the middle of provisioning ---------------------------------------------------------
start_broker --allow-sim
: > committed.txt
(
  for i in $(seq 1 400); do
    head -c 64 /dev/urandom > "v$i.bin"
    if "$BIN/veritee" admin --socket adm.sock resource put "crash/secret/s$i" "v$i.bin" >/dev/null 2>&1; then
      echo "$i" >> committed.txt
    fi
  done
) &
WPID=$!
# wait (bounded: 60 s, for a loaded sanitizer build) until at least 40 puts are committed
for _ in $(seq 1200); do [ "$(wc -l < committed.txt)" -ge 40 ] && break; sleep 0.05; done
kill -9 "$BPID"; wait "$BPID" 2>/dev/null; BPID=
wait "$WPID" 2>/dev/null
n=$(wc -l < committed.txt)
check "provisioning interrupted mid-way ($n committed)" test "$n" -ge 40 -a "$n" -lt 400
check "store integrity after SIGKILL" test "$(sqlite3 st.db 'PRAGMA integrity_check')" = ok
start_broker --allow-sim
cat > policy2.json <<EOF
{"version": 1, "rules": [{"name": "crash", "resources": ["crash/secret/*", "default/*/*"], "reference": ["measurement"]}]}
EOF
admin policy set policy2.json >/dev/null
admin resource list > list2.json
missing=0; wrong=0
for i in $(cat committed.txt); do
  grep -q "\"path\": \"crash/secret/s$i\"" list2.json || missing=$((missing+1))
done
for i in $(head -n 5 committed.txt; tail -n 5 committed.txt); do
  agent -o /dev/shm/vt-e2e-$$.bin "crash/secret/s$i" 2>/dev/null && cmp -s /dev/shm/vt-e2e-$$.bin "v$i.bin" || wrong=$((wrong+1))
done
check "every committed secret survived SIGKILL ($missing missing)" test $missing = 0
check "released secrets after restart are byte-identical ($wrong wrong)" test $wrong = 0
check "agent output file is 0600" test "$(stat -c %a /dev/shm/vt-e2e-$$.bin)" = 600
rm -f /dev/shm/vt-e2e-$$.bin
agent -o "$T/on-disk.bin" default/secret/app 2>err.txt; rc=$?
check "agent refuses to write a secret to persistent disk" test $rc = 1 -a ! -e "$T/on-disk.bin"
stop_broker

echo "$pass passed, $fail failed"
[ $fail = 0 ]
