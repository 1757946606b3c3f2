#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# cli_test.sh - the `veritee` commands of the cert module end to end: sim init, attest, verify
# (ok, --json fields, --explain, exit codes 0/1/2 incl. missing file and bad flag), cert
# create/show, and refusal of forged certificates (tests/tools/vt_forge); instance options
# (an option no instance reads is refused with exit 2, naming it and what the attester knows);
# sim.debug on sim-sgx / sim-tdx / sim-snp gives claim "debug": true (false without it).
set -u
bin=${VERITEE_BIN:?VERITEE_BIN not set}
vt="$bin/veritee"
forge="$bin/../tests/vt_forge"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*" >&2; }
# expect_rc WANT cmd...: run, compare exit status
expect_rc() {
  local want=$1; shift
  "$@" >"$work/out" 2>"$work/err"; local rc=$?
  if [ "$rc" -eq "$want" ]; then ok; else bad "exit $rc (want $want): $*"; cat "$work/out" "$work/err" >&2; fi
}
has() { if grep -q -- "$1" "$work/out"; then ok; else bad "output lacks '$1'"; cat "$work/out" >&2; fi; }
jq_is() { # jq_is FILTER VALUE
  local got; got=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(json.dumps(eval(sys.argv[2], {"d": d})))' "$work/out" "$1" 2>&1)
  if [ "$got" = "$2" ]; then ok; else bad "json $1 = $got (want $2)"; fi
}

sim="$work/sim"
expect_rc 0 "$vt" sim init "$sim"
[ "$(stat -c %a "$sim")" = 700 ] && ok || bad "sim dir mode"
[ "$(stat -c %a "$sim/sim-ak.key")" = 600 ] && ok || bad "ak key mode"
grep -q "BEGIN CERTIFICATE" "$sim/root-ca.pem" && ok || bad "root-ca.pem"
openssl x509 -in "$sim/root-ca.pem" -noout -subject | grep -q "Veritee Sim Root (INSECURE)" && ok || bad "root subject"
expect_rc 2 "$vt" sim
expect_rc 2 "$vt" sim bogus "$work/x"

# attest + verify raw evidence
expect_rc 0 "$vt" attest --tee sim --sim-dir "$sim" --report-data 00112233 -o "$work/ev.bin"
expect_rc 0 "$vt" verify "$work/ev.bin" --root-ca "$sim/root-ca.pem"
has "verified: yes"
has "INSECURE"
expect_rc 0 "$vt" verify "$work/ev.bin" --root-ca "$sim/root-ca.pem" --json
jq_is 'd["verified"]' true
jq_is 'd["tee"]' '"sim"'
jq_is 'd["insecure"]' true
jq_is 'd["claims"]["report_data"][:8]' '"00112233"'
jq_is 'len(d["claims"]["measurement"])' 96
jq_is '"error" in d' false
expect_rc 0 "$vt" verify "$work/ev.bin" --root-ca "$sim/root-ca.pem" --explain
has "evidence signature .*: ok"
has "chains to one of [0-9]* given root"
expect_rc 0 "$vt" verify "$work/ev.bin" --root-ca "$sim/root-ca.pem" --json --explain
jq_is 'all(c["result"] in ("ok","info") for c in d["checks"])' true
jq_is 'len(d["checks"]) >= 5' true
# rejected: no root, other root, tampered evidence -> exit 1 with the error in JSON
expect_rc 1 "$vt" verify "$work/ev.bin"
has "VT_ERR_NO_ROOT"
"$vt" sim init "$work/other" >/dev/null
expect_rc 1 "$vt" verify "$work/ev.bin" --root-ca "$work/other/root-ca.pem" --json --explain
jq_is 'd["verified"]' false
jq_is 'd["error"]["name"]' '"VT_ERR_SIM_CHAIN"'
jq_is 'any(c["result"] == "failed" for c in d["checks"])' true
python3 -c 'import sys; b=bytearray(open(sys.argv[1],"rb").read()); b[20]^=1; open(sys.argv[2],"wb").write(b)' "$work/ev.bin" "$work/ev-bad.bin"
expect_rc 1 "$vt" verify "$work/ev-bad.bin" --root-ca "$sim/root-ca.pem" --explain
has "VT_ERR_SIM_SIGNATURE"
has "FAILED"
# usage and unreadable input -> exit 2
expect_rc 2 "$vt" verify "$work/missing.bin" --root-ca "$sim/root-ca.pem"
expect_rc 2 "$vt" verify "$work/ev.bin" --no-such-flag
expect_rc 2 "$vt" verify
expect_rc 2 "$vt" verify "$work/ev.bin" --root-ca "$work/missing.pem"
expect_rc 2 "$vt" verify "$work/ev.bin" --at yesterday
expect_rc 0 "$vt" verify "$work/ev.bin" --root-ca "$sim/root-ca.pem" --at 2030-01-01T00:00:00Z
expect_rc 0 "$vt" verify "$work/ev.bin" --root-ca "$sim/root-ca.pem" --at 1900000000
expect_rc 1 "$vt" verify "$work/ev.bin" --root-ca "$sim/root-ca.pem" --at 2100-06-01T00:00:00Z
expect_rc 0 "$vt" verify --help
# attest usage errors
expect_rc 2 "$vt" attest --tee sim --sim-dir "$sim" --report-data "$(printf '%0130d' 0)" -o "$work/x.bin"
expect_rc 2 "$vt" attest --tee sim --sim-dir "$sim"
expect_rc 2 "$vt" attest --tee no-such-tee -o "$work/x.bin"
expect_rc 2 env -u VERITEE_SIM_DIR "$vt" attest --tee sim -o "$work/x.bin"
expect_rc 0 env VERITEE_SIM_DIR="$sim" "$vt" attest --tee sim -o "$work/env.bin"
# measurement option shows up in the claims
expect_rc 0 "$vt" attest --tee sim --sim-dir "$sim" --option sim.measurement=abcdef -o "$work/m.bin"
expect_rc 0 "$vt" verify "$work/m.bin" --root-ca "$sim/root-ca.pem" --json
jq_is 'd["claims"]["measurement"][:8]' '"abcdef00"'

# cert create / show / verify
for kt in p256 p384 rsa3072; do
  expect_rc 0 "$vt" cert create --tee sim --sim-dir "$sim" --key-type $kt --key-out "$work/$kt.key" \
    --cert-out "$work/$kt.pem" --claim app=demo
  [ "$(stat -c %a "$work/$kt.key")" = 600 ] && ok || bad "key mode $kt"
  expect_rc 0 "$vt" verify "$work/$kt.pem" --root-ca "$sim/root-ca.pem" --json
  jq_is 'd["claims"]["ratls.binding"]' true
  jq_is 'd["claims"]["ratls.claim.app"]' '"64656d6f"'
done
openssl x509 -in "$work/p256.pem" -outform DER -out "$work/p256.der"
expect_rc 0 "$vt" verify "$work/p256.der" --root-ca "$sim/root-ca.pem"
expect_rc 0 "$vt" cert show "$work/p256.pem" --root-ca "$sim/root-ca.pem"
has "2.23.133.5.4.9"
has "pubkey-hash matches the certificate key: yes"
has "app: \"demo\""
has "verified: yes"
expect_rc 1 "$vt" cert show "$work/p384.pem"
has "key:        secp384r1"
has "report data = SHA-256(claims buffer) || 0^32 (from the raw evidence, UNVERIFIED): yes"
has "VT_ERR_NO_ROOT"
expect_rc 0 "$vt" cert show "$work/p256.der" --json --root-ca "$sim/root-ca.pem"
jq_is 'd["pubkey_hash"]["matches_key"]' true
jq_is 'd["evidence"]["type"]' '"sim"'
jq_is 'd["verification"]["verified"]' true
expect_rc 2 "$vt" cert show "$work/missing.pem"
expect_rc 2 "$vt" cert show "$work/ev.bin"
expect_rc 2 "$vt" cert create --tee sim --key-out "$work/a" --cert-out "$work/b" --key-type p521
expect_rc 0 "$vt" cert create --tee none --key-out "$work/plain.key" --cert-out "$work/plain.pem"
expect_rc 1 "$vt" verify "$work/plain.pem" --root-ca "$sim/root-ca.pem"
has "VT_ERR_NO_EVIDENCE"

# real RA-TLS certificates: shown with their quote header and bindings
td=${VERITEE_TESTDATA:-}
if [ -n "$td" ] && [ -f "$td/ratls/ccc_rats_tls_cert.pem" ]; then
  "$vt" cert show "$td/ratls/ccc_rats_tls_cert.pem" >"$work/out" 2>&1
  has "sgx quote version 3"
  has "key_0: \"value_0\""
  has "pubkey-hash matches the certificate key: yes"
  "$vt" cert show "$td/ratls/ccc_gramine_ratls_cert.pem" --json >"$work/out" 2>&1
  jq_is 'd["legacy_quote"]["type"]' '"gramine"'
  jq_is 'd["evidence"]["report_data_binds"]' true
  # full verification with the Intel verifier and the 0825 collateral (cases.json "ratls")
  coll="$work/collateral"; mkdir -p "$coll"
  cp "$td/sgx/automata_0825_tcbinfo_sgx_v3_00606a000000.json" "$td/sgx/automata_0825_qeidentity_sgx_qe.json" \
     "$td/sgx/automata_0825_pck_platform_crl.der" "$td/intel-root/root_ca_crl_20250320.der" \
     "$td/intel-root/tcb_signing_chain_2025.pem" "$coll/"
  for pair in ccc_rats_tls_cert:OutOfDate ccc_gramine_ratls_cert:OutOfDate ratsrs_demo_sgx_cert:OutOfDateConfigurationNeeded; do
    "$vt" verify "$td/ratls/${pair%%:*}.pem" --collateral "$coll" --at 2025-08-15T07:00:00Z --json >"$work/out" 2>&1
    jq_is 'd["tee"]' '"sgx"'
    jq_is 'd.get("tcb_status")' "\"${pair#*:}\""
    jq_is 'd["claims"]["ratls.binding"]' true
  done
fi

# forged certificates are refused
if [ -x "$forge" ]; then
  expect_rc 0 "$forge" swap-key "$work/p256.pem" "$work/forged.key" "$work/forged.pem"
  expect_rc 1 "$vt" verify "$work/forged.pem" --root-ca "$sim/root-ca.pem" --json
  jq_is 'd["error"]["name"]' '"VT_ERR_CERT_PUBKEY_MISMATCH"'
  expect_rc 0 "$forge" flip-evidence "$work/p256.pem" "$work/p256.key" 200 "$work/flipped.pem"
  expect_rc 1 "$vt" verify "$work/flipped.pem" --root-ca "$sim/root-ca.pem" --json
  jq_is 'd["verified"]' false
  # flipped inside the report data: the binding check catches it too
  expect_rc 0 "$forge" flip-evidence "$work/p256.pem" "$work/p256.key" 70 "$work/flipped2.pem"
  expect_rc 1 "$vt" verify "$work/flipped2.pem" --root-ca "$sim/root-ca.pem" --json
  jq_is 'd["error"]["name"]' '"VT_ERR_CERT_REPORT_DATA_MISMATCH"'
  expect_rc 2 "$forge" flip-evidence "$work/p256.pem" "$work/p256.key" 999999 "$work/x.pem"
else
  bad "vt_forge not built at $forge"
fi

# ---- instance options: unknown names are refused (exit 2), with the option and what is known
errin() { if grep -qF -- "$1" "$work/err"; then ok; else bad "stderr lacks '$1'"; cat "$work/err" >&2; fi; }
expect_rc 2 "$vt" attest --tee sim-tdx --sim-dir "$sim" --option sim.debugg=1 -o "$work/x.bin"
errin "unknown --option 'sim.debugg'"
errin "attester sim-tdx knows: sim.measurement, sim.pck, sim.debug"
expect_rc 2 "$vt" attest --tee sim --sim-dir "$sim" --option tdx.tsmdir=/x -o "$work/x.bin"
errin "'tdx.tsmdir'"
expect_rc 2 "$vt" cert create --tee sim --sim-dir "$sim" --option intel.pccs_ulr=http://x \
  --key-out "$work/o.key" --cert-out "$work/o.pem"
errin "unknown --option 'intel.pccs_ulr'"
expect_rc 2 "$vt" tls-client --connect 127.0.0.1:1 --option snp.kds_ulr=http://x
errin "unknown --option 'snp.kds_ulr'"
errin "verifier snp knows: snp.product, snp.kds_url, snp.cache_dir"
# an option of an instance not used in this run is accepted (rule in src/core/instance.h)
expect_rc 0 "$vt" attest --tee sim --sim-dir "$sim" --option intel.cache_dir=/nonexistent -o "$work/x.bin"
expect_rc 2 "$vt" attest --tee sim-sgx --sim-dir "$sim" --option sim.debug=yes -o "$work/x.bin"
errin "invalid sim.debug option (want 0 or 1)"
"$vt" instances >"$work/out" 2>&1
has "sim-tdx.*sim.debug"

# ---- sim.debug: the vendor's debug bit, reported by the real verifiers as claim "debug"
for t in sim-sgx sim-tdx sim-snp; do
  coll="$sim/intel"; [ "$t" = sim-snp ] && coll="$sim"
  for d in 0 1; do
    expect_rc 0 "$vt" attest --tee "$t" --sim-dir "$sim" --option sim.debug=$d -o "$work/dbg.bin"
    expect_rc 0 "$vt" verify "$work/dbg.bin" --root-ca "$sim/root-ca.pem" --collateral "$coll" --json
    if [ $d = 1 ]; then jq_is 'd["claims"]["debug"]' 'true'; else jq_is 'd["claims"]["debug"]' 'false'; fi
  done
  expect_rc 0 "$vt" attest --tee "$t" --sim-dir "$sim" -o "$work/dbg.bin"
  expect_rc 0 "$vt" verify "$work/dbg.bin" --root-ca "$sim/root-ca.pem" --collateral "$coll" --json
  jq_is 'd["claims"]["debug"]' 'false'
done

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
