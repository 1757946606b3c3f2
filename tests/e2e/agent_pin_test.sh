#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# End-to-end tests of how veritee-agent pins an attested broker (issue 18.1): for every
# combination of --broker-ca, --broker-root-ca, --broker-claim and --any-broker, a claim is
# required whenever a root is given (unless --any-broker), and meaningless or contradictory
# combinations are usage errors (exit 2). An impostor broker (a second veritee-broker attesting
# with the same sim root but another measurement, serving a fake secret under the same path)
# must never receive the request: its log shows no request at all until --any-broker
# explicitly waives the pin at the end.
set -u
BIN=${VERITEE_BIN:-$(cd "$(dirname "$0")/../.." && pwd)/build/bin}
T=$(mktemp -d /tmp/vt-agent-pin.XXXXXX)
pass=0; fail=0
GPID= IPID= CPID=
cleanup() { for p in $GPID $IPID $CPID; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
ok()  { pass=$((pass+1)); echo "ok: $*"; }
bad() { fail=$((fail+1)); echo "FAIL: $*"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else bad "$what"; fi; }
cd "$T" || exit 1

"$BIN/veritee" sim init sim >/dev/null 2>&1 || { echo "sim init failed"; exit 1; }
# the impostor: the same sim TEE (same root and keys), another workload measurement
cp -r sim sim2
printf 'e5%.0s' $(seq 48) > sim2/measurement
MG=$(cat sim/measurement); MI=$(cat sim2/measurement)
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem \
  -days 30 -subj "/CN=e2e pin CA" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout broker.key -out broker.csr \
  -subj "/CN=127.0.0.1" 2>/dev/null
openssl x509 -req -in broker.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out broker.pem -days 30 \
  -extfile <(printf "subjectAltName=IP:127.0.0.1\n") 2>/dev/null

start() { # name secret identity-flags... ; sets <name>_PORT and <name>_PID
  local n=$1 secret=$2; shift 2
  mkdir -p "$n"; "$BIN/veritee-broker" --gen-master-key "$n/mk" 2>/dev/null
  : > "$n.log"
  "$BIN/veritee-broker" --listen 127.0.0.1:0 --store "$n/st.db" --master-key "$n/mk" \
    --admin-socket "$n/adm.sock" --root-ca sim/root-ca.pem --allow-sim --timeout 10 "$@" 2>>"$n.log" &
  eval "${n}_PID=$!"
  for _ in $(seq 100); do grep -q 'listening on' "$n.log" && break; sleep 0.1; done
  local port; port=$(grep -o 'listening on 127.0.0.1:[0-9]*' "$n.log" | tail -1 | cut -d: -f2)
  eval "${n}_PORT=$port"
  printf '%s' "$secret" > "$n/secret.txt"
  echo '{"version":1,"rules":[{"name":"app","resources":["app/*/*"],"tee":["sim"]}]}' > "$n/policy.json"
  [ -n "$port" ] && "$BIN/veritee" admin --socket "$n/adm.sock" resource put app/secret/x "$n/secret.txt" >/dev/null &&
    "$BIN/veritee" admin --socket "$n/adm.sock" policy set "$n/policy.json" >/dev/null
}
agent() { # port flags...
  local port=$1; shift
  "$BIN/veritee-agent" get-resource --broker "127.0.0.1:$port" --tee sim --sim-dir sim "$@" app/secret/x
}
requests() { grep -c 'decision=' "$1.log"; } # requests a broker appraised

check "genuine broker (attests, sim measurement MG) starts" start G GENUINE --tee sim --sim-dir sim
check "impostor broker (attests, same root, measurement MI) starts" start I FAKE --tee sim --sim-dir sim2
check "ordinary-certificate broker starts" start C CA-ISSUED --cert broker.pem --key broker.key
GPID=$G_PID IPID=$I_PID CPID=$C_PID

# ---- usage errors: exit 2 before any connection -------------------------------------------
usage_err() { # what flags...
  local what=$1; shift
  agent "$I_PORT" "$@" >out.txt 2>err.txt; local rc=$?
  check "$what: usage error (exit 2)" test $rc = 2 -a ! -s out.txt
}
usage_err "--broker-root-ca alone" --broker-root-ca sim/root-ca.pem
usage_err "--broker-root-ca with --broker-ca, no claim" --broker-root-ca sim/root-ca.pem --broker-ca ca.pem
check "... the message says a claim is required" grep -q -- '--broker-root-ca needs --broker-claim' err.txt
usage_err "--broker-ca with --broker-claim (no root: nothing to check it against)" \
  --broker-ca ca.pem --broker-claim measurement="$MG"
check "... the message says why" grep -q -- '--broker-claim and --any-broker go with --broker-root-ca' err.txt
usage_err "--broker-ca with --any-broker" --broker-ca ca.pem --any-broker
usage_err "--broker-claim with --any-broker" --broker-root-ca sim/root-ca.pem \
  --broker-claim measurement="$MG" --any-broker
check "... the message says they contradict" grep -q -- '--any-broker contradicts --broker-claim' err.txt
usage_err "--broker-claim alone" --broker-claim measurement="$MG"
usage_err "no broker authentication at all"
"$BIN/veritee-agent" get-resource --kbs "http://127.0.0.1:$I_PORT" --tee sim --sim-dir sim \
  --broker-claim measurement="$MG" app/secret/x >/dev/null 2>err.txt; rc=$?
check "--kbs with --broker-claim: usage error (exit 2)" test $rc = 2
echo '{"op":"keyunwrap","keyunwrapparams":{"annotation":"e30="}}' |
  "$BIN/veritee-agent" keyprovider --broker "127.0.0.1:$I_PORT" --tee sim --sim-dir sim \
  --broker-root-ca sim/root-ca.pem --broker-ca ca.pem >/dev/null 2>err.txt; rc=$?
check "keyprovider with --broker-root-ca and --broker-ca, no claim: usage error (exit 2)" test $rc = 2

# ---- pinned: the impostor is refused in the handshake, the genuine broker released ------------
for extra in "" "--broker-ca ca.pem"; do
  label="--broker-root-ca + --broker-claim${extra:+ + $extra}"
  # shellcheck disable=SC2086
  out=$(agent "$I_PORT" --broker-root-ca sim/root-ca.pem --broker-claim measurement="$MG" $extra 2>err.txt); rc=$?
  check "$label: impostor refused (exit 1)" test $rc = 1 -a -z "$out"
  check "... because its evidence does not show the pinned measurement" grep -q "does not show measurement=$MG" err.txt
  # shellcheck disable=SC2086
  out=$(agent "$G_PORT" --broker-root-ca sim/root-ca.pem --broker-claim measurement="$MG" $extra 2>err.txt); rc=$?
  check "$label: genuine broker released" test $rc = 0 -a "$out" = GENUINE
done
out=$(agent "$C_PORT" --broker-root-ca sim/root-ca.pem --broker-claim measurement="$MG" --broker-ca ca.pem 2>err.txt); rc=$?
check "--broker-root-ca + --broker-claim + --broker-ca: a broker certified by the CA is released" test $rc = 0 -a "$out" = CA-ISSUED
out=$(agent "$I_PORT" --broker-ca ca.pem 2>err.txt); rc=$?
check "--broker-ca alone: the (attested) impostor refused" test $rc = 1 -a -z "$out"
check "the impostor never received a request" test "$(requests I)" = 0

# ---- the explicit waiver ----------------------------------------------------------------------
out=$(agent "$I_PORT" --broker-root-ca sim/root-ca.pem --any-broker 2>err.txt); rc=$?
check "--any-broker waives the pin: any broker chaining to the root (here the impostor) answers" \
  test $rc = 0 -a "$out" = FAKE -a "$(requests I)" = 1

for p in $GPID $IPID $CPID; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
GPID= IPID= CPID=
echo "$pass passed, $fail failed"
[ $fail = 0 ]
