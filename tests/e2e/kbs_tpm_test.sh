#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# kbs_tpm_test.sh - the KBS protocol with tee "tpm" end to end on swtpm (provisioned by
# tpm_lib.sh: EK certificate, AK + AK certificate from swtpm-localca, an event log in the
# PCRs) against veritee-broker --kbs-listen:
#   - `veritee-agent get-resource --kbs --tee tpm`: released by a broker trusting the AK
#     certificate's root (--root-ca, intermediates from --collateral); refused (403) by a broker
#     without that root, then released by it once the AK is pinned by the reference value
#     tpm.ak_sha256 (admin refval add); refused by a rule for another tee;
#   - an independent client here (python3: RFC 8785 runtime data, SHA-384) with evidence from
#     `veritee attest --tee tpm`: the TPM quote's nonce = the digest zero-padded to 64 bytes
#     (as guest-components sends it): token (EAR claims: tpm.nonce, pcr.*, eventlog.*);
#     evidence for another challenge: 403 VT_ERR_KBS_BINDING_MISMATCH;
#   - init-data (kbs_vtpm_client.py initdata_checks), on the swtpm restarted (PCRs cleared, no
#     event log): PCR 8 not extended: 403 VT_ERR_KBS_INIT_DATA_PCR8; algorithm sha384: 403
#     VT_ERR_KBS_INIT_DATA_ALG; PCR 8 extended with the body's SHA-256 (tpm2_pcrextend, as the
#     guest does): token with init_data, the resource released; other init-data: 403
#     VT_ERR_KBS_INIT_DATA_PCR8.
# Shared steps with kbs_azure_test.sh: kbs_vtpm_lib.sh, kbs_vtpm_client.py.
# Skips (77) without swtpm / tpm2-tools / python3-cryptography, or without libtss2.
set -u
BIN=${VERITEE_BIN:?}
src=${VERITEE_SRC:?}
source "$src/tests/e2e/kbs_vtpm_lib.sh"
kbs_vtpm_init kbs-tpm swtpm swtpm_setup swtpm_localca tpm2_createprimary tpm2_pcrextend
source "$src/tests/e2e/tpm_lib.sh"
provision_tpm "$T" || { echo "FAIL: provisioning swtpm"; exit 1; }
"$BIN/veritee" attest --tee tpm --option "tpm.tcti=$tcti" --option tpm.eventlog=none -o probe.json >probe.out 2>&1
if grep -q "not supported" probe.out; then echo "SKIP: veritee built without libtss2"; exit 77; fi
TPM=(--option "tpm.tcti=$tcti" --option tpm.eventlog=log.bin)

printf '{"version":1,"rules":[{"name":"tpm","resources":["default/key/*"],"tee":["tpm"]},{"name":"snp","resources":["snponly/key/*"],"tee":["snp"]}]}' > pol.json
start() { local n=$1; shift; kbs_vtpm_broker "$n" "default/key/one snponly/key/one" "$@"; }
start c --root-ca ca/swtpm-localca-rootca-cert.pem --collateral ca   # AK certificate chain
PC=$KPORT
start p                                                            # no root: pinned AK only
PP=$KPORT

agent() { kbs_vtpm_agent "$@"; }
out=$(agent --kbs "http://127.0.0.1:$PC" --tee tpm "${TPM[@]}" default/key/one 2>err); rc=$?
[ $rc = 0 ] && [ "$out" = "top secret value" ] && ok "agent tpm, AK certificate chain: released" || bad "agent tpm: rc=$rc $(cat err)"
agent --kbs "http://127.0.0.1:$PC" --tee tpm "${TPM[@]}" snponly/key/one >/dev/null 2>err; rc=$?
[ $rc = 1 ] && grep -q 'HTTP 403' err && ok "agent tpm, a rule for snp only: 403" || bad "policy deny: rc=$rc $(cat err)"
agent --kbs "http://127.0.0.1:$PP" --tee tpm "${TPM[@]}" default/key/one >/dev/null 2>err; rc=$?
[ $rc = 1 ] && grep -q 'HTTP 403' err && grep -q 'AK certificate but no --root-ca' err \
  && ok "agent tpm, broker without the AK's root: 403" || bad "no root: rc=$rc $(cat err)"
pin=$(openssl pkey -pubin -in ak.pem -outform DER | sha256sum | cut -d' ' -f1)
"$BIN/veritee" admin --socket p.sock refval add tpm.ak_sha256 "$pin" --source kbs_tpm_test >/dev/null || bad "refval add"
out=$(agent --kbs "http://127.0.0.1:$PP" --tee tpm "${TPM[@]}" default/key/one 2>err); rc=$?
[ $rc = 0 ] && [ "$out" = "top secret value" ] && ok "agent tpm, AK pinned by reference value tpm.ak_sha256: released" || bad "pinned: rc=$rc $(cat err)"

cat > c.py <<'PY'
import sys
from kbs_vtpm_client import Kbs, attest_evidence, check, claims, failures, initdata_checks
port, vbin, mode = int(sys.argv[1]), sys.argv[2], sys.argv[3]
opts = sys.argv[4:]
k = Kbs(port, "tpm")
def evidence(rd):
    return attest_evidence(vbin, "tpm", opts + ["--option", "tpm.nonce_len=64"], rd)
session, attest, digest = k.session, k.attest, k.digest
if mode == "initdata":
    tcti = [o.split("=", 1)[1] for o in opts if o.startswith("tpm.tcti=")][0]
    initdata_checks(k, evidence, tcti, "default/key/one")
    sys.exit(1 if failures() else 0)
n, ck = session()
d = digest(n)
s, j, _ = attest(n, ck, evidence(d))
check("tpm, nonce = SHA-384(JCS(runtime data)) padded to 64 -> 200 token", s == 200 and "token" in (j or {}), (s, j))
if s == 200:
    a = claims(j["token"])
    cl = a.get("tpm", {})
    check("token: tee tpm, not insecure", a.get("tee") == "tpm" and a.get("insecure") is False, a.get("tee"))
    check("token: tpm.nonce = the padded digest", cl.get("tpm.nonce") == (d + bytes(16)).hex(), cl.get("tpm.nonce"))
    check("token: pcr.0 .. pcr.23, eventlog.kernel_cmdline, tpm.ak_trust",
          all("pcr.%d" % i in cl for i in range(24)) and cl.get("eventlog.kernel_cmdline") == "console=ttyS0 veritee.test=1"
          and cl.get("tpm.ak_trust") == "certificate", sorted(cl)[:8])
n, ck = session()
n2, _ = session()
s, j, _ = attest(n, ck, evidence(digest(n2)))
check("evidence for another challenge -> 403 VT_ERR_KBS_BINDING_MISMATCH", s == 403 and j and j.get("code") == "VT_ERR_KBS_BINDING_MISMATCH", (s, j))
sys.exit(1 if failures() else 0)
PY
kbs_vtpm_client c.py "$PC" "$BIN/veritee" all "${TPM[@]}"

# init-data: the guest's PCR 8 (zero at boot) extended with its digest; the swtpm restarted
# so that PCR 8 is zero again (the event log extended the kernel command line into it)
kill "$swtpm_pid"; wait "$swtpm_pid" 2>/dev/null
start_swtpm "$T" || { echo "FAIL: swtpm did not restart"; cat "$T/swtpm.log"; exit 1; }
kbs_vtpm_client c.py "$PC" "$BIN/veritee" initdata --option "tpm.tcti=swtpm:host=127.0.0.1,port=$port" \
  --option tpm.eventlog=none
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
