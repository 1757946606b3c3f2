#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# tpm_test.sh - the plain TPM 2.0 attester and verifier ("tpm") end to end on swtpm:
#   - swtpm_setup --create-ek-cert with our own swtpm-localca (root + intermediate); an AK
#     (restricted RSASSA-SHA256 primary, persistent 0x81010002) and its certificate, issued
#     by the same intermediate, written to NV 0x01c10000 with tpm2-tools (docs/tpm.md); the
#     EK certificate chains to the same root (openssl verify);
#   - a crypto-agile event log (tpm_eventlog.py) extended into the PCRs;
#   - `veritee attest --tee tpm` -> `veritee verify` with --root-ca / --collateral: verified,
#     event-log claims; tpm2_checkquote agrees with the quote (and refuses the other nonce);
#   - refusals: other nonce, no root (AK_NO_ROOT), a changed event digest (PCR named), wrong
#     pin; the pinned AK alone (--expect tpm.ak_sha256) without a root: verified;
#   - verify --expect CLAIM=VALUE: holds, differs (exit 1, named), missing, malformed (exit 2),
#     and on sim evidence (every evidence kind);
#   - an RA-TLS certificate (`veritee cert create --tee tpm`) verified with the pinned AK;
#   - an ECC AK (P-256 ECDSA-SHA256 at 0x81010003, certificate in NV 0x01c10002):
#     attest --option tpm.ak=ecc -> verify (chain, event log), tpm2_checkquote agrees; the
#     ECDSA quote under the RSA AK and the reverse refused (VT_ERR_TPM_SIG_KEY_TYPE); the
#     option not fitting the key at the handle (VT_ERR_TPM_AK_NOT_ECDSA / _NOT_RSASSA).
# Skips (77) without swtpm / swtpm_setup / tpm2-tools / python3, or without libtss2.
set -u
BIN=${VERITEE_BIN:?}
src=${VERITEE_SRC:?}
for c in swtpm swtpm_setup swtpm_localca tpm2_createprimary tpm2_nvdefine tpm2_checkquote python3 openssl; do
    command -v "$c" >/dev/null 2>&1 || { echo "SKIP: $c not installed (apt-get install swtpm swtpm-tools tpm2-tools)"; exit 77; }
done
pass=0; fail=0
ok()  { pass=$((pass+1)); echo "ok: $*"; }
bad() { fail=$((fail+1)); echo "FAIL: $*"; }
expect_rc() { # want cmd... (output in out.txt)
    local want=$1; shift
    "$@" >out.txt 2>&1
    local rc=$?
    if [ "$rc" -eq "$want" ]; then ok "rc $rc: ${*:2:4}"; else bad "rc $rc (want $want): $*"; cat out.txt; fi
}
T=$(mktemp -d /tmp/vt-tpm.XXXXXX)
swtpm_pid=""
cleanup() { [ -n "$swtpm_pid" ] && kill "$swtpm_pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
cd "$T" || exit 1
source "$src/tests/e2e/swtpm_lib.sh"
# shellcheck source=tests/e2e/tpm_lib.sh
source "$src/tests/e2e/tpm_lib.sh"
provision_tpm "$T" || { echo "FAIL: provisioning swtpm"; exit 1; }
V="$BIN/veritee"
ROOT=(--root-ca "$T/ca/swtpm-localca-rootca-cert.pem" --collateral "$T/ca")

# ---- the EK certificate of swtpm_setup chains to the same CA ------------------------------
tpm2_nvread 0x01c00002 -C o -o ek.der >/dev/null 2>&1 && openssl x509 -inform DER -in ek.der -out ek.pem 2>/dev/null &&
openssl verify -CAfile ca/swtpm-localca-rootca-cert.pem -untrusted ca/issuercert.pem ek.pem >/dev/null 2>&1 \
    && ok "EK certificate (swtpm_setup --create-ek-cert) chains to the localca root" \
    || bad "EK certificate chain"

# ---- attest -> verify ---------------------------------------------------------------------
rc=0; "$V" attest --tee tpm --option "tpm.tcti=$tcti" --option tpm.eventlog=log.bin --report-data 9009 -o ev.json >out.txt 2>&1 || rc=$?
if [ $rc -ne 0 ] && grep -q "not supported" out.txt; then echo "SKIP: veritee built without libtss2"; exit 77; fi
[ $rc -eq 0 ] && ok "attest --tee tpm" || { bad "attest --tee tpm"; cat out.txt; }
expect_rc 0 "$V" verify ev.json "${ROOT[@]}" --report-data 9009 --explain
grep -q "tee: tpm" out.txt && grep -q "tpm.ak_trust: certificate" out.txt && grep -q "tpm.ak_cert.subject: CN=veritee test AK" out.txt \
    && ok "claims: tee, AK trust, AK certificate subject" || bad "claims"
grep -q "eventlog.kernel_cmdline: console=ttyS0 veritee.test=1" out.txt && grep -q "event log replay (sha256 bank) equals every quoted PCR it touches (mask 0x0001ff): ok" out.txt \
    && ok "event log replayed against the quote, eventlog.* claims" || { bad "event log claims"; cat out.txt; }
python3 - <<'PY'
import base64, json
e = json.load(open("ev.json")); q = e["tpm_quote"]
open("msg", "wb").write(base64.b64decode(q["message"])); open("sig", "wb").write(base64.b64decode(q["signature"]))
PY
expect_rc 0 tpm2_checkquote -u ak.pem -m msg -s sig -g sha256 -q 9009
expect_rc 1 tpm2_checkquote -u ak.pem -m msg -s sig -g sha256 -q 9008

# ---- refusals -----------------------------------------------------------------------------
expect_rc 1 "$V" verify ev.json "${ROOT[@]}" --report-data 9008
grep -q "VT_ERR_TPM_NONCE_MISMATCH" out.txt && ok "other nonce: VT_ERR_TPM_NONCE_MISMATCH" || bad "nonce code"
expect_rc 1 "$V" verify ev.json --report-data 9009
grep -q "VT_ERR_TPM_AK_NO_ROOT" out.txt && ok "no root: VT_ERR_TPM_AK_NO_ROOT" || bad "no-root code"
expect_rc 1 "$V" verify ev.json --root-ca "$T/ca/swtpm-localca-rootca-cert.pem" --report-data 9009
grep -q "VT_ERR_TPM_AK_CERT_UNTRUSTED" out.txt && ok "no intermediate: VT_ERR_TPM_AK_CERT_UNTRUSTED" || bad "untrusted code"
python3 - <<'PY'
import base64, json
e = json.load(open("ev.json")); log = bytearray(base64.b64decode(e["event_log"]))
i = log.find(b"kernel_cmdline: ")          # the PCR 8 event: its digest ends 4 + len(data) earlier
start = i - 4 - 32                          # eventSize (4) then the SHA-256 digest (32) before the data
log[start] ^= 1
e["event_log"] = base64.b64encode(bytes(log)).decode()
json.dump(e, open("ev_badlog.json", "w"))
PY
expect_rc 1 "$V" verify ev_badlog.json "${ROOT[@]}" --report-data 9009
grep -q "VT_ERR_EVLOG_PCR_MISMATCH" out.txt && grep -q "PCR8" out.txt && ok "changed event digest: refused naming PCR8" || { bad "event digest"; cat out.txt; }

# ---- pinned AK, --expect ------------------------------------------------------------------
pin=$(openssl pkey -pubin -in ak.pem -outform DER | sha256sum | cut -d' ' -f1)
expect_rc 0 "$V" verify ev.json --report-data 9009 --expect "tpm.ak_sha256=$pin"
grep -q "tpm.ak_trust: pinned" out.txt && ok "pinned AK without a root" || bad "pinned"
expect_rc 1 "$V" verify ev.json --report-data 9009 --expect "tpm.ak_sha256=$(printf '0%.0s' $(seq 64))"
grep -q "VT_ERR_TPM_AK_PIN_MISMATCH" out.txt && ok "wrong pin: VT_ERR_TPM_AK_PIN_MISMATCH" || bad "pin code"
pcr8=$(python3 -c 'import json,sys; print(json.load(open("ev.json"))["tpm_quote"]["pcrs"][8])')
expect_rc 0 "$V" verify ev.json "${ROOT[@]}" --report-data 9009 --expect "pcr.8=${pcr8^^}" --expect tpm.nonce=9009 \
    --expect "eventlog.kernel_cmdline=console=ttyS0 veritee.test=1" --expect tpm.pcr_bank=sha256 --expect eventlog.separators_valid=true
expect_rc 1 "$V" verify ev.json "${ROOT[@]}" --report-data 9009 --expect tpm.nonce=9009 --expect pcr.8=00
grep -q -- "--expect pcr.8: the claim is $pcr8, expected 00" out.txt && ok "--expect names the claim that differs" || { bad "expect message"; cat out.txt; }
expect_rc 1 "$V" verify ev.json "${ROOT[@]}" --report-data 9009 --expect no.such.claim=1
grep -q -- "--expect no.such.claim: no such claim" out.txt && ok "--expect: missing claim named" || bad "missing claim message"
expect_rc 2 "$V" verify ev.json "${ROOT[@]}" --expect novalue
expect_rc 2 "$V" verify ev.json "${ROOT[@]}" --expect =x
# an evidence kind without the event log, then the log given on the command line
python3 -c 'import json; e=json.load(open("ev.json")); e.pop("event_log"); json.dump(e, open("ev_nolog.json","w"))'
expect_rc 0 "$V" verify ev_nolog.json "${ROOT[@]}" --report-data 9009 --eventlog log.bin
grep -q "verified: yes (sha256)" out.txt && ok "verify --eventlog FILE against tpm evidence" || { bad "--eventlog"; cat out.txt; }
# an RA-TLS certificate with tpm evidence (CBOR tag 0x1a7512), AK pinned
expect_rc 0 "$V" cert create --tee tpm --option "tpm.tcti=$tcti" --option tpm.eventlog=none --cert-out c.pem --key-out c.key
expect_rc 0 "$V" verify c.pem --expect "tpm.ak_sha256=$pin" --expect ratls.binding=true
expect_rc 1 "$V" verify c.pem
grep -q "VT_ERR_TPM_AK_UNTRUSTED\|VT_ERR_TPM_AK_NO_ROOT" out.txt && ok "RA-TLS certificate without AK trust refused" || { bad "ratls untrusted"; cat out.txt; }
# ---- an ECC AK (tpm.ak=ecc: P-256, ECDSA-SHA256; certificate in GCE's index 0x01c10002) -----
if provision_ecc_ak "$T"; then
    ok "ECC AK provisioned (0x81010003, certificate in NV 0x01c10002)"
    EA=(attest --tee tpm --option "tpm.tcti=$tcti" --option tpm.ak=ecc --option tpm.ak_handle=0x81010003 --option tpm.eventlog=log.bin)
    expect_rc 0 "$V" "${EA[@]}" --report-data 9009 -o ev_ecc.json
    expect_rc 0 "$V" verify ev_ecc.json "${ROOT[@]}" --report-data 9009 --explain
    grep -q "EC P-256, 256 bits" out.txt && grep -q "TPM quote signature (ECDSA sha256) by the AK: ok" out.txt &&
        grep -q "tpm.ak_cert.subject: CN=veritee test ECC AK" out.txt && grep -q "eventlog.kernel_cmdline: console=ttyS0 veritee.test=1" out.txt \
        && ok "ECC AK: ECDSA quote, AK certificate chain, event log" || { bad "ECC AK verify"; cat out.txt; }
    python3 - <<'PY'
import base64, json
e = json.load(open("ev_ecc.json")); q = e["tpm_quote"]
open("msg_ecc", "wb").write(base64.b64decode(q["message"])); open("sig_ecc", "wb").write(base64.b64decode(q["signature"]))
PY
    expect_rc 0 tpm2_checkquote -u ak_ecc.pem -m msg_ecc -s sig_ecc -g sha256 -q 9009
    expect_rc 1 tpm2_checkquote -u ak_ecc.pem -m msg_ecc -s sig_ecc -g sha256 -q 9008
    expect_rc 1 "$V" verify ev_ecc.json "${ROOT[@]}" --report-data 9008
    grep -q "VT_ERR_TPM_NONCE_MISMATCH" out.txt && ok "ECC AK, other nonce: VT_ERR_TPM_NONCE_MISMATCH" || bad "ECC nonce code"
    epin=$(openssl pkey -pubin -in ak_ecc.pem -outform DER | sha256sum | cut -d' ' -f1)
    expect_rc 0 "$V" verify ev_ecc.json --report-data 9009 --expect "tpm.ak_sha256=$epin"
    expect_rc 1 "$V" verify ev_ecc.json --report-data 9009 --expect "tpm.ak_sha256=$pin"
    grep -q "VT_ERR_TPM_AK_PIN_MISMATCH" out.txt && ok "ECC AK with the RSA AK's pin: VT_ERR_TPM_AK_PIN_MISMATCH" || bad "ECC pin code"
    # the ECC AK's signature under the RSA AK (and the reverse): the key type does not fit
    python3 - <<'PY'
import json
r = json.load(open("ev.json")); e = json.load(open("ev_ecc.json"))
x = dict(e); x["ak_public"] = r["ak_public"]; x.pop("ak_cert", None); json.dump(x, open("ev_mixed1.json", "w"))
y = dict(r); y["ak_public"] = e["ak_public"]; y.pop("ak_cert", None); json.dump(y, open("ev_mixed2.json", "w"))
PY
    expect_rc 1 "$V" verify ev_mixed1.json --report-data 9009 --expect "tpm.ak_sha256=$pin"
    grep -q "VT_ERR_TPM_SIG_KEY_TYPE" out.txt && ok "ECDSA quote with the RSA AK: VT_ERR_TPM_SIG_KEY_TYPE" || { bad "mixed 1"; cat out.txt; }
    expect_rc 1 "$V" verify ev_mixed2.json --report-data 9009 --expect "tpm.ak_sha256=$epin"
    grep -q "VT_ERR_TPM_SIG_KEY_TYPE" out.txt && ok "RSASSA quote with the ECC AK: VT_ERR_TPM_SIG_KEY_TYPE" || { bad "mixed 2"; cat out.txt; }
    # the option must fit the key at the handle
    expect_rc 1 "$V" attest --tee tpm --option "tpm.tcti=$tcti" --option tpm.ak=ecc --option tpm.eventlog=none --report-data 01 -o x.json
    grep -q "not a restricted ECC NIST P-256 signing key with the ECDSA SHA-256 scheme" out.txt && ok "tpm.ak=ecc on the RSA AK: VT_ERR_TPM_AK_NOT_ECDSA" || { bad "NOT_ECDSA"; cat out.txt; }
    expect_rc 1 "$V" attest --tee tpm --option "tpm.tcti=$tcti" --option tpm.ak_handle=0x81010003 --option tpm.eventlog=none --report-data 01 -o x.json
    grep -q "not a restricted RSA signing key with the RSASSA SHA-256 scheme" out.txt && ok "default tpm.ak=rsa on the ECC AK: VT_ERR_TPM_AK_NOT_RSASSA" || { bad "NOT_RSASSA"; cat out.txt; }
else
    bad "provisioning the ECC AK"
fi
# --expect on sim evidence
"$V" sim init sim >/dev/null 2>&1 && "$V" attest --tee sim --sim-dir sim --report-data 0102 -o sim.ev >/dev/null 2>&1 || bad "sim attest"
expect_rc 0 "$V" verify sim.ev --root-ca sim/root-ca.pem --expect "report_data=0102$(printf '0%.0s' $(seq 124))"
expect_rc 1 "$V" verify sim.ev --root-ca sim/root-ca.pem --expect report_data=00
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
