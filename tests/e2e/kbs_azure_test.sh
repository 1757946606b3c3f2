#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# kbs_azure_test.sh - the KBS protocol with tee "az-snp-vtpm" / "az-tdx-vtpm" end to end on a
# real TPM 2.0 (swtpm; the attesters with az.hcl=sim play Azure's paravisor on it, INSECURE
# sim hardware reports) against veritee-broker --kbs-listen:
#   - the guest `veritee-agent get-resource --kbs --tee az-snp-vtpm|az-tdx-vtpm`: released;
#     refused (403, exit 1) by a broker without --allow-sim and by a rule for the other tee;
#   - an independent client here (python3: RFC 8785 runtime data, SHA-384) with evidence from
#     `veritee attest`: the guest-components evidence object as primary_evidence; the TPM
#     quote's nonce = SHA-384(JCS({additional-evidence, nonce, tee-pubkey})), 48 bytes: token
#     (EAR claims: tee, pcr.*, tpm.nonce); evidence v1 (nonce only in the quote): token;
#     evidence for another challenge: 403 VT_ERR_KBS_BINDING_MISMATCH; evidence marked v2
#     whose HCL user-data is not its quote's nonce: 403 VT_ERR_KBS_BINDING_MISMATCH;
#   - init-data (kbs_vtpm_client.py initdata_checks, with tpm2-tools): PCR 8 not extended: 403
#     VT_ERR_KBS_INIT_DATA_PCR8; algorithm sha384: 403 VT_ERR_KBS_INIT_DATA_ALG; PCR 8
#     extended with the body's SHA-256 (tpm2_pcrextend, as the guest does): token with
#     init_data, the resource released; other init-data: 403 VT_ERR_KBS_INIT_DATA_PCR8.
# Shared steps with kbs_tpm_test.sh: kbs_vtpm_lib.sh, kbs_vtpm_client.py.
# Skips (77) without swtpm / python3-cryptography, or when veritee was built without libtss2.
set -u
BIN=${VERITEE_BIN:?}
src=${VERITEE_SRC:?}
source "$src/tests/e2e/kbs_vtpm_lib.sh"
kbs_vtpm_init kbs-az swtpm
start_swtpm "$T" || { echo "FAIL: swtpm did not start"; cat "$T/swtpm.log"; exit 1; }
tcti="swtpm:host=127.0.0.1,port=$port"
"$BIN/veritee" sim init sim >/dev/null 2>&1 || { echo "FAIL: sim init"; exit 1; }
zeros=$(printf '0%.0s' $(seq 128))
"$BIN/veritee" sim azure-vtpm --tee az-tdx-vtpm --sim-dir sim --tcti "$tcti" --user-data "$zeros" >prov.out 2>&1
rc=$?
if [ $rc -ne 0 ] && grep -q "not supported" prov.out; then
    echo "SKIP: veritee built without libtss2 (apt-get install libtss2-dev)"; exit 77
fi
[ $rc -eq 0 ] || { echo "FAIL: sim azure-vtpm"; cat prov.out; exit 1; }
python3 "$src/tests/e2e/az_fake_imds.py" sim imds.port 2>imds.log &
PIDS+=($!)
for _ in $(seq 50); do [ -s imds.port ] && break; sleep 0.1; done
imds="http://127.0.0.1:$(cat imds.port)"
AZ=(--sim-dir sim --option "tpm.tcti=$tcti" --option az.hcl=sim
    --option "az.vcek_url=$imds/metadata/THIM/amd/certification" --option "az.quote_url=$imds/acc/tdquote")

printf '{"version":1,"rules":[{"name":"snp","resources":["default/key/*"],"tee":["az-snp-vtpm"]},{"name":"tdx","resources":["tdxonly/key/*"],"tee":["az-tdx-vtpm"]}]}' > pol.json
start() { # name collateral extra-args...  -> sets KPORT
  local n=$1 coll=$2; shift 2
  kbs_vtpm_broker "$n" "default/key/one tdxonly/key/one" --root-ca sim/root-ca.pem --collateral "$coll" "$@"
}
start s sim --allow-sim        # az-snp-vtpm: the sim AMD certificates under sim/snp
PS=$KPORT
start x sim/intel --allow-sim  # az-tdx-vtpm: the sim Intel collateral
PX=$KPORT
start n sim                    # no --allow-sim
PN=$KPORT

# ---- the guest: veritee-agent get-resource --kbs ---------------------------------------------
agent() { kbs_vtpm_agent "$@"; }
out=$(agent --kbs "http://127.0.0.1:$PS" --tee az-snp-vtpm "${AZ[@]}" default/key/one 2>err); rc=$?
[ $rc = 0 ] && [ "$out" = "top secret value" ] && ok "agent az-snp-vtpm: released" || bad "agent az-snp-vtpm: rc=$rc $(cat err)"
out=$(agent --kbs "http://127.0.0.1:$PX" --tee az-tdx-vtpm "${AZ[@]}" tdxonly/key/one 2>err); rc=$?
[ $rc = 0 ] && [ "$out" = "top secret value" ] && ok "agent az-tdx-vtpm: released" || bad "agent az-tdx-vtpm: rc=$rc $(cat err)"
agent --kbs "http://127.0.0.1:$PS" --tee az-snp-vtpm "${AZ[@]}" tdxonly/key/one >/dev/null 2>err; rc=$?
[ $rc = 1 ] && grep -q 'HTTP 403' err && ok "agent az-snp-vtpm, a rule for az-tdx-vtpm only: 403" || bad "policy deny: rc=$rc $(cat err)"
agent --kbs "http://127.0.0.1:$PN" --tee az-snp-vtpm "${AZ[@]}" default/key/one >/dev/null 2>err; rc=$?
[ $rc = 1 ] && grep -q 'HTTP 403: sim evidence refused' err && ok "agent az-snp-vtpm without --allow-sim: 403" || bad "sim refused: rc=$rc $(cat err)"

# ---- the first example rule of docs/azure-policy.md, as written there: Secure Boot, no
# console, PCR 4/7/11 reference values (taken from this vTPM's quote) -> released; the same
# rule wanting a console -> 403 ------------------------------------------------------------------
"$BIN/veritee" attest --tee az-snp-vtpm "${AZ[@]}" -o pcrs.json >/dev/null 2>&1 || bad "attest for the PCR values"
python3 - "$src/docs/azure-policy.md" pcrs.json doc.json console.json refvals <<'PY'
import json, re, sys
doc = open(sys.argv[1]).read()
pol = json.loads(re.findall(r"```json\n(.*?)```", doc, re.S)[0])
json.dump(pol, open(sys.argv[3], "w"))
pol["rules"][0]["claims"]["hcl.vm_configuration.console-enabled"] = True
json.dump(pol, open(sys.argv[4], "w"))
pcrs = json.load(open(sys.argv[2]))["tpm_quote"]["pcrs"]
open(sys.argv[5], "w").write("".join("%s %s\n" % (n, pcrs[int(n.split(".")[1])]) for n in pol["rules"][0]["reference"]))
PY
"$BIN/veritee" admin --socket s.sock resource put prod/key/one secret >/dev/null || bad "admin resource put prod"
"$BIN/veritee" admin --socket s.sock policy set doc.json >/dev/null && ok "docs/azure-policy.md example accepted as policy" || bad "doc policy refused"
while read -r name value; do
  "$BIN/veritee" admin --socket s.sock refval add "$name" "$value" --source "kbs_azure_test" >/dev/null || bad "refval add $name"
done < refvals
out=$(agent --kbs "http://127.0.0.1:$PS" --tee az-snp-vtpm "${AZ[@]}" prod/key/one 2>err); rc=$?
[ $rc = 0 ] && [ "$out" = "top secret value" ] && ok "doc example rule: released" || bad "doc example rule: rc=$rc $(cat err)"
"$BIN/veritee" admin --socket s.sock policy set console.json >/dev/null || bad "policy set console"
agent --kbs "http://127.0.0.1:$PS" --tee az-snp-vtpm "${AZ[@]}" prod/key/one >/dev/null 2>err; rc=$?
[ $rc = 1 ] && grep -q 'HTTP 403: denied by policy: claim hcl.vm_configuration.console-enabled does not match' err \
  && ok "doc example rule wanting a console: 403" || bad "console rule: rc=$rc $(cat err)"

# ---- an independent client: the binding computed here ----------------------------------------
cat > c.py <<'PY'
import shutil, subprocess, sys
from kbs_vtpm_client import Kbs, attest_evidence, check, claims, failures, initdata_checks
port, vbin = int(sys.argv[1]), sys.argv[2]
az = sys.argv[3:]
k = Kbs(port, "az-snp-vtpm")
def evidence(rd, *extra):  # az: read when called (the test below changes it)
    return attest_evidence(vbin, "az-snp-vtpm", az + ["--option", "az.nonce_len=48", *extra], rd)
session, attest, digest = k.session, k.attest, k.digest
# evidence v2 bound to this session: a token whose claims carry the quote's nonce and the PCRs
n, ck = session()
d = digest(n)
s, j, _ = attest(n, ck, evidence(d))
check("az-snp-vtpm v2, nonce = SHA-384(JCS(runtime data)) -> 200 token", s == 200 and "token" in (j or {}), (s, j))
if s == 200:
    a = claims(j["token"])
    cl = a.get("az-snp-vtpm", {})
    check("token: tee az-snp-vtpm, insecure (sim)", a.get("tee") == "az-snp-vtpm" and a.get("insecure") is True, a.get("tee"))
    check("token: tpm.nonce = the digest (48 bytes)", cl.get("tpm.nonce") == d.hex(), cl.get("tpm.nonce"))
    check("token: pcr.0 .. pcr.23, hcl.user_data", all("pcr.%d" % i in cl for i in range(24)) and cl.get("hcl.user_data", "").startswith(d.hex()), sorted(cl)[:5])
# evidence v1 (no user-data binding): the quote's nonce alone
n, ck = session()
s, j, _ = attest(n, ck, evidence(digest(n), "--option", "az.evidence_version=1"))
check("az-snp-vtpm v1 bound in the quote -> 200 token", s == 200 and "token" in (j or {}), (s, j))
# evidence made for another challenge (the real binding of another session)
n, ck = session()
n2, _ = session()
s, j, _ = attest(n, ck, evidence(digest(n2)))
check("evidence for another challenge -> 403 VT_ERR_KBS_BINDING_MISMATCH", s == 403 and j and j.get("code") == "VT_ERR_KBS_BINDING_MISMATCH", (s, j))
# v2 evidence whose HCL user-data is not the nonce: the paravisor's report made for other
# user-data (provisioned here), its quote bound to this session, "version" raised to 2
tcti = [a.split("=", 1)[1] for a in az if a.startswith("tpm.tcti=")][0]
subprocess.run([vbin, "sim", "azure-vtpm", "--tee", "az-snp-vtpm", "--sim-dir", "sim", "--tcti", tcti,
                "--user-data", "ab" * 64], check=True, stdout=subprocess.DEVNULL)
az = [a for i, a in enumerate(az) if a != "az.hcl=sim" and not (a == "--option" and az[i + 1:i + 2] == ["az.hcl=sim"])]
n, ck = session()
ev = evidence(digest(n), "--option", "az.evidence_version=1")
s, j, _ = attest(n, ck, ev)
check("v1 on the provisioned vTPM, quote bound -> 200 token", s == 200 and "token" in (j or {}), (s, j))
n, ck = session()
ev = evidence(digest(n), "--option", "az.evidence_version=1")
ev["version"] = 2
s, j, _ = attest(n, ck, ev)
check("v2 whose HCL user-data is not the nonce -> 403 VT_ERR_KBS_BINDING_MISMATCH",
      s == 403 and j and j.get("code") == "VT_ERR_KBS_BINDING_MISMATCH" and "user-data" in j.get("detail", ""), (s, j))
# init-data bound in PCR 8 (the guest extends it with tpm2_pcrextend; v1 evidence as above)
if shutil.which("tpm2_pcrextend"):
    initdata_checks(k, lambda rd: evidence(rd, "--option", "az.evidence_version=1"), tcti,
                    "default/key/one")
else:
    print("skip: init-data checks (tpm2_pcrextend not installed: apt-get install tpm2-tools)")
sys.exit(1 if failures() else 0)
PY
"$BIN/veritee" admin --socket s.sock policy set pol.json >/dev/null || bad "policy set pol.json"
kbs_vtpm_client c.py "$PS" "$BIN/veritee" "${AZ[@]}"

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
