#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# End-to-end: the policy and reference values at rest are authenticated (issue 10.4). A real
# broker (SQLite store, agent + KBS listeners on 127.0.0.1) with a policy that refuses
# other/secret/x; then someone with write access to the store file grants everything with one
# `sqlite3 store.db "UPDATE policy SET doc = ..."` (and forges a reference value): the
# workload stays refused, /healthz answers 503 PolicyTampered, /metrics shows the gauge, the
# broker log says it once; a legitimate `veritee admin policy set` makes everything good again.
set -u
BIN=${VERITEE_BIN:-$(cd "$(dirname "$0")/../.." && pwd)/build/bin}
T=$(mktemp -d /tmp/vt-policy-tamper.XXXXXX)
pass=0; fail=0
BPID=
cleanup() { [ -n "$BPID" ] && kill "$BPID" 2>/dev/null; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
ok()  { pass=$((pass+1)); echo "ok: $*"; }
bad() { fail=$((fail+1)); echo "FAIL: $*"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else bad "$what"; fi; }
cd "$T" || exit 1
command -v sqlite3 >/dev/null || { echo "sqlite3 missing: skipped"; exit 77; }
command -v curl >/dev/null || { echo "curl missing: skipped"; exit 77; }

"$BIN/veritee" sim init sim >/dev/null 2>&1 || { echo "sim init failed"; exit 1; }
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem \
  -days 30 -subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1" 2>/dev/null
"$BIN/veritee-broker" --gen-master-key mk 2>/dev/null
timeout 60 "$BIN/veritee-broker" --listen 127.0.0.1:0 --store st.db --master-key mk \
  --admin-socket adm.sock --root-ca sim/root-ca.pem --cert ca.pem --key ca.key --allow-sim \
  --kbs-listen 127.0.0.1:0 2>broker.log &
BPID=$!
for _ in $(seq 100); do grep -q 'KBS listening on' broker.log && break; sleep 0.1; done
PORT=$(grep -o 'listening on 127.0.0.1:[0-9]*' broker.log | head -1 | cut -d: -f2)
KP=$(grep -o 'KBS listening on http://127.0.0.1:[0-9]*' broker.log | grep -o '[0-9]*$')
[ -n "$PORT" ] && [ -n "$KP" ] || { echo "FAIL: broker did not start"; cat broker.log; exit 1; }
admin() { "$BIN/veritee" admin --socket adm.sock "$@"; }
agent() { timeout 20 "$BIN/veritee-agent" get-resource --broker "127.0.0.1:$PORT" --tee sim \
  --sim-dir sim --broker-ca ca.pem "$@" 2>>agent.err; }
http() { curl -s -m 5 -o body.out -w '%{http_code}' "http://127.0.0.1:$KP$1"; }

M=$(cat sim/measurement)
admin refval add measurement "$M" >/dev/null
echo '{"version":1,"rules":[{"resources":["app/*/*"],"reference":["measurement"],"tcb_status":["none"]}]}' > pol.json
admin policy set pol.json >/dev/null
printf 'app value' > a.bin; printf 'other value' > o.bin
admin resource put app/secret/a a.bin >/dev/null
admin resource put other/secret/x o.bin >/dev/null
check "granted before" test "$(agent app/secret/a)" = "app value"
agent other/secret/x >/dev/null; check "other/secret/x refused before" test $? -ne 0
check "/healthz 200 before" test "$(http /healthz)" = 200

# the attack: one UPDATE by anyone who can write the store file
sqlite3 st.db "UPDATE policy SET doc = '{\"version\":1,\"rules\":[{\"resources\":[\"*/*/*\"]}]}'" \
  || bad "sqlite3 update"
sleep 0.5   # more than the 200 ms generation check
for i in 1 2 3; do
  agent other/secret/x >/dev/null; check "other/secret/x still refused after the UPDATE ($i)" test $? -ne 0
  sleep 0.3
done
check "the last good policy still grants app/secret/a" test "$(agent app/secret/a)" = "app value"
check "/healthz 503 while tampered" test "$(http /healthz)" = 503
check "/healthz says PolicyTampered" grep -q PolicyTampered body.out
http /metrics >/dev/null
check "/metrics gauge is 1" grep -qx 'veritee_broker_policy_tampered 1' body.out
check "the broker log says it once" test "$(grep -c 'POLICY STORE INTEGRITY' broker.log)" = 1

# a forged reference value (the workload's real measurement replaced) is refused too
admin policy set pol.json >/dev/null
check "/healthz 200 after admin policy set" test "$(http /healthz)" = 200
http /metrics >/dev/null
check "/metrics gauge back to 0" grep -qx 'veritee_broker_policy_tampered 0' body.out
check "granted again" test "$(agent app/secret/a)" = "app value"
agent other/secret/x >/dev/null; check "other/secret/x refused after the reset" test $? -ne 0
sqlite3 st.db "UPDATE refvals SET expires = 1" || bad "sqlite3 update refvals"
sleep 0.5
check "expiring the refval with SQL does not apply" test "$(agent app/secret/a)" = "app value"
check "/healthz 503 after the refval UPDATE" test "$(http /healthz)" = 503
check "logged once per change" test "$(grep -c 'POLICY STORE INTEGRITY' broker.log)" = 2

echo "broker_policy_tamper: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
