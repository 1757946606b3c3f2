#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# End-to-end tests of the broker's appraisal with real-format sim evidence and of how agents
# authenticate the broker:
#  - sim-tdx agents (Intel-format TDX v4 quotes, endorsements carried in the RA-TLS
#    certificate, sim Intel root given with --root-ca, no --collateral): UpToDate released,
#    sim.pck=old (the OutOfDate TCB level) refused with the TCB reason, an mr_td outside the
#    reference values refused with the reference reason; a debug TD (sim.debug=1) refused by
#    a rule without "debug": true (VT_ERR_BROKER_DEBUG_REFUSED), released by one with it;
#  - sim-snp agents released by a rule on "measurement", refused on another measurement;
#  - the broker attesting itself (--tee sim-tdx): the agent verifies its evidence against
#    --broker-root-ca and pins its mr_td with --broker-claim; a wrong pin, a wrong root and a
#    missing pin are refused;
#  - --broker-ca: a broker certificate from another CA is refused; the self-signed broker
#    certificate works as a pin.
set -u
BIN=${VERITEE_BIN:-$(cd "$(dirname "$0")/../.." && pwd)/build/bin}
T=$(mktemp -d /tmp/vt-broker-tee.XXXXXX)
pass=0; fail=0
BPID=
cleanup() { [ -n "$BPID" ] && kill "$BPID" 2>/dev/null; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
ok()  { pass=$((pass+1)); echo "ok: $*"; }
bad() { fail=$((fail+1)); echo "FAIL: $*"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else bad "$what"; fi; }
cd "$T" || exit 1

"$BIN/veritee" sim init sim >/dev/null 2>&1 || { echo "sim init failed"; exit 1; }
mkcert() { # name CN [CA]
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$1.key" -out "$1.csr" \
    -subj "/CN=$2" 2>/dev/null
  openssl x509 -req -in "$1.csr" -CA "$3.pem" -CAkey "$3.key" -CAcreateserial -out "$1.pem" -days 30 \
    -extfile <(printf "subjectAltName=IP:%s\n" "$2") 2>/dev/null
}
for ca in ca otherca; do
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout $ca.key -out $ca.pem \
    -days 30 -subj "/CN=e2e $ca" 2>/dev/null
done
mkcert broker 127.0.0.1 ca
mkcert rogue 127.0.0.1 otherca
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout self.key -out self.pem \
  -days 30 -subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1" 2>/dev/null
"$BIN/veritee-broker" --gen-master-key mk 2>/dev/null

start_broker() { # identity flags...
  : > broker.log
  "$BIN/veritee-broker" --listen 127.0.0.1:0 --store st.db --master-key mk --admin-socket adm.sock \
    --root-ca sim/root-ca.pem --allow-sim --timeout 10 "$@" 2>>broker.log &
  BPID=$!
  for _ in $(seq 100); do grep -q 'listening on' broker.log && break; sleep 0.1; done
  PORT=$(grep -o 'listening on 127.0.0.1:[0-9]*' broker.log | tail -1 | cut -d: -f2)
  [ -n "$PORT" ]
}
stop_broker() { kill "$BPID" 2>/dev/null; wait "$BPID" 2>/dev/null; local rc=$?; BPID=; return $rc; }
admin() { "$BIN/veritee" admin --socket adm.sock "$@"; }
agent() { "$BIN/veritee-agent" get-resource --broker "127.0.0.1:$PORT" --sim-dir sim "$@"; }

MTD=$(printf 'a1%.0s' $(seq 48))   # the reference mr_td (48 bytes)
BADTD=$(printf 'b2%.0s' $(seq 48))
MSNP=$(printf 'c3%.0s' $(seq 48))  # the reference SNP measurement (48 bytes)
check "broker starts (ordinary certificate)" start_broker --cert broker.pem --key broker.key

echo "tdx-secret-$RANDOM" > tdx.txt; echo "snp-secret-$RANDOM" > snp.txt
admin resource put tdx/secret/app tdx.txt >/dev/null
admin resource put snp/secret/app snp.txt >/dev/null
admin resource put dbg/secret/app tdx.txt >/dev/null
admin refval add mr_td "$MTD" --source "td build 7" >/dev/null
admin refval add measurement "$MSNP" --source "snp build 3" >/dev/null
cat > policy.json <<EOF
{"version": 1, "rules": [
  {"name": "td", "resources": ["tdx/*/*"], "tee": ["tdx"], "tcb_status": ["UpToDate"], "reference": ["mr_td"]},
  {"name": "tddbg", "resources": ["dbg/*/*"], "tee": ["tdx"], "reference": ["mr_td"], "debug": true},
  {"name": "snp", "resources": ["snp/*/*"], "tee": ["snp"], "tcb_status": ["UpToDate", "none"], "reference": ["measurement"]}]}
EOF
check "policy set" admin policy set policy.json

# ---- sim-tdx: TCB status and mr_td ----------------------------------------------------------
out=$(agent --broker-ca ca.pem --tee sim-tdx --option sim.measurement="$MTD" tdx/secret/app 2>err.txt); rc=$?
check "sim-tdx, current PCK (UpToDate), mr_td in reference values: released" test $rc = 0 -a "$out" = "$(cat tdx.txt)"
check "... the broker verified a TDX quote with TCB status UpToDate" grep -q 'attested: tee=tdx tcb_status=UpToDate' broker.log
agent --broker-ca ca.pem --tee sim-tdx --option sim.measurement="$MTD" --option sim.pck=old tdx/secret/app >/dev/null 2>err.txt; rc=$?
check "sim-tdx, old PCK: refused (exit 1)" test $rc = 1
check "... reason: TCB status OutOfDate not accepted" grep -q 'denied by policy: TCB status OutOfDate not accepted (accepted: UpToDate)' err.txt
check "... error code VT_ERR_BROKER_TCB_NOT_ACCEPTED" grep -q 'VT_ERR_BROKER_TCB_NOT_ACCEPTED' err.txt
agent --broker-ca ca.pem --tee sim-tdx --option sim.measurement="$BADTD" tdx/secret/app >/dev/null 2>err.txt; rc=$?
check "sim-tdx, mr_td not a reference value: refused" test $rc = 1
check "... reason: mr_td not in reference values" grep -q 'denied by policy: mr_td not in reference values' err.txt
agent --broker-ca ca.pem --tee sim-tdx --option sim.measurement="$MTD" --option sim.pck=revoked tdx/secret/app >/dev/null 2>err.txt; rc=$?
check "sim-tdx, revoked PCK: refused in the handshake" test $rc = 1 -a -n "$(grep -i 'revoked' err.txt broker.log)"
agent --broker-ca ca.pem --tee sim-sgx tdx/secret/app >/dev/null 2>err.txt; rc=$?
check "sim-sgx agent refused on a tdx-only rule" grep -q 'denied by policy: TEE sgx not allowed' err.txt

# ---- debug TDs (issue 18.2): refused unless the rule says "debug": true ---------------------
agent --broker-ca ca.pem --tee sim-tdx --option sim.measurement="$MTD" --option sim.debug=1 tdx/secret/app >/dev/null 2>err.txt; rc=$?
check "sim-tdx debug TD, rule without debug: refused (exit 1)" test $rc = 1
check "... reason: debug TEE refused: rule td does not allow debug" grep -q 'denied by policy: debug TEE refused: rule td does not allow debug' err.txt
check "... error code VT_ERR_BROKER_DEBUG_REFUSED" grep -q 'VT_ERR_BROKER_DEBUG_REFUSED' err.txt
out=$(agent --broker-ca ca.pem --tee sim-tdx --option sim.measurement="$MTD" --option sim.debug=1 dbg/secret/app 2>err.txt); rc=$?
check "sim-tdx debug TD, rule with \"debug\": true: released" test $rc = 0 -a "$out" = "$(cat tdx.txt)"
out=$(agent --broker-ca ca.pem --tee sim-tdx --option sim.measurement="$MTD" dbg/secret/app 2>err.txt); rc=$?
check "sim-tdx production TD under the debug rule: released" test $rc = 0 -a "$out" = "$(cat tdx.txt)"
agent --broker-ca ca.pem --tee sim-snp --option sim.measurement="$MSNP" --option sim.debug=1 snp/secret/app >/dev/null 2>err.txt; rc=$?
check "sim-snp debug guest, rule without debug: refused" test $rc = 1 -a -n "$(grep 'debug TEE refused: rule snp does not allow debug' err.txt)"

# ---- sim-snp: rule on "measurement" ---------------------------------------------------------
out=$(agent --broker-ca ca.pem --tee sim-snp --option sim.measurement="$MSNP" snp/secret/app 2>err.txt); rc=$?
check "sim-snp with the reference measurement: released" test $rc = 0 -a "$out" = "$(cat snp.txt)"
agent --broker-ca ca.pem --tee sim-snp snp/secret/app >/dev/null 2>err.txt; rc=$?
check "sim-snp with another measurement: refused" grep -q 'denied by policy: measurement not in reference values' err.txt

# ---- --broker-ca: identity of the broker ------------------------------------------------------
agent --broker-ca otherca.pem --tee sim-tdx --option sim.measurement="$MTD" tdx/secret/app >/dev/null 2>err.txt; rc=$?
check "agent refuses a broker certificate from another CA" test $rc = 1 -a -n "$(grep 'attested TLS with' err.txt)"
stop_broker
check "broker with a self-signed certificate starts" start_broker --cert self.pem --key self.key
out=$(agent --broker-ca self.pem --tee sim-tdx --option sim.measurement="$MTD" tdx/secret/app 2>err.txt); rc=$?
check "self-signed broker certificate as --broker-ca pins it" test $rc = 0 -a "$out" = "$(cat tdx.txt)"
agent --broker-ca ca.pem --tee sim-tdx --option sim.measurement="$MTD" tdx/secret/app >/dev/null 2>err.txt; rc=$?
check "... and another CA does not accept it" test $rc = 1
stop_broker

# ---- the broker attests itself --------------------------------------------------------------
BTD=$(printf 'd4%.0s' $(seq 48))
check "broker starts with --tee sim-tdx" start_broker --tee sim-tdx --sim-dir sim
# the broker runs sim-tdx without sim.measurement: MRTD = SHA-384("veritee sim-tdx workload")
BROKER_TD=$(printf 'veritee sim-tdx workload' | openssl dgst -sha384 -r | cut -d' ' -f1)
out=$(agent --broker-root-ca sim/root-ca.pem --broker-claim mr_td="$BROKER_TD" \
  --tee sim-tdx --option sim.measurement="$MTD" tdx/secret/app 2>err.txt); rc=$?
check "agent pins the attested broker's mr_td (default sim measurement): released" test $rc = 0 -a "$out" = "$(cat tdx.txt)"
agent --broker-root-ca sim/root-ca.pem --broker-claim mr_td="$BTD" \
  --tee sim-tdx --option sim.measurement="$MTD" tdx/secret/app >/dev/null 2>err.txt; rc=$?
check "agent refuses a broker whose mr_td differs from --broker-claim" test $rc = 1 -a -n "$(grep "does not show mr_td=$BTD" err.txt)"
agent --broker-root-ca ca.pem --any-broker --tee sim-tdx --option sim.measurement="$MTD" tdx/secret/app >/dev/null 2>err.txt; rc=$?
check "agent refuses broker evidence not chaining to --broker-root-ca" test $rc = 1 -a -n "$(grep 'ROOT_NOT_TRUSTED' err.txt)"
agent --broker-ca ca.pem --tee sim-tdx --option sim.measurement="$MTD" tdx/secret/app >/dev/null 2>err.txt; rc=$?
check "agent with only --broker-ca refuses the attested broker" test $rc = 1
agent --broker-root-ca sim/root-ca.pem --tee sim-tdx tdx/secret/app >/dev/null 2>err.txt; rc=$?
check "--broker-root-ca without --broker-claim or --any-broker is a usage error (exit 2)" test $rc = 2
stop_broker; rc=$?
check "clean SIGTERM" test $rc = 0

echo "$pass passed, $fail failed"
[ $fail = 0 ]
