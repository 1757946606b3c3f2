#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# KBS with GPUs: sim-tdx (primary evidence) + sim-gpu (additional_evidence {"nvidia": ...} in
# guest-components' shape) against veritee-broker --kbs-listen, driven by a KBS client written
# here in python3 (the bindings computed here, not by our code):
#   device nonce = SHA-384(JCS({"nonce", "tee-pubkey"}))[0..32) (guest-components'
#   get_composite_evidence), report-data = SHA-384(JCS({"additional-evidence", "nonce",
#   "tee-pubkey"})) over the additional evidence string;
# release when every GPU verifies and the policy rule asks for GPUs ("gpus": count 2, arch);
# one submod per GPU in the EAR; refusal (403 at the resource) when one GPU's report is
# altered, its nonce is stale (a report made for an earlier challenge: replayed), a GPU is
# missing, or there is no device evidence; the CPU-only rule still grants (device evidence
# grants nothing by itself); the multi-GPU list (4 GPUs); the same GPU twice refused (400);
# a broker without the sim GPU root does not trust the sim GPUs; RIM claim "match" required
# while the GPUs are not appraised refuses; with the sim RIMs (`veritee sim gpu --rims`) as the
# broker's --collateral and the sim RIM root as a --root-ca, "rim": "match" releases; RIMs for
# another driver refuse (every GPU failed: VT_ERR_NV_RIM_MISMATCH naming the driver indices,
# 403 VT_ERR_BROKER_GPU_FAILED); sim RIMs without their root refuse (VT_ERR_NV_RIM_CHAIN); the
# same with `veritee verify --verifier nvidia`. Then the project's KBS client, `veritee-agent
# get-resource --kbs --tee sim-tdx --sim-gpus N` (2 and 4 released, 1 and none refused), and
# the usage errors of --sim-gpus and `veritee sim gpu`.
set -u
. "$(dirname "$0")/kbs_lib.sh"
python3 -c 'import cryptography, jwcrypto' 2>/dev/null || { echo "FAIL: python3-cryptography / python3-jwcrypto missing"; exit 1; }
kbs_lib_setup kbs-gpu
# the roots without the sim GPU root (broker b: GPUs not trusted)
python3 - <<'EOF'
import re
pems = re.findall(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----\n", open("sim/root-ca.pem").read(), re.S)
gpu = open("sim/gpu/root-ca.pem").read()
open("nogpu-roots.pem", "w").write("".join(p for p in pems if p != gpu))
EOF
# collateral with the sim RIMs (the Intel collateral of sim-tdx next to them): matching the
# sim GPUs (rims-ok), and for another driver version (rims-other: every driver index differs)
for c in ok other; do cp -r sim/intel "rims-$c" || { echo "FAIL: cp"; exit 1; }; done
"$BIN/veritee" sim gpu --sim-dir sim --rims rims-ok || { echo "FAIL: sim gpu --rims"; exit 1; }
"$BIN/veritee" sim gpu --sim-dir sim --rims rims-other --rim-driver 555.10.02 || { echo "FAIL: sim gpu --rim-driver"; exit 1; }
start() { # name roots collateral [broker args] -> KPORT
  local n=$1 roots=$2 col=$3
  shift 3
  kbs_lib_broker "$n" --root-ca "$roots" --collateral "$col" --allow-sim "$@"
}
cat > pol.json <<'EOF'
{"version": 1, "rules": [
  {"name": "model", "resources": ["ai/model/*"], "tee": ["tdx"],
   "gpus": {"count": 2, "claims": {"arch": "HOPPER", "driver_version": "550.90.07"}}},
  {"name": "any-gpu", "resources": ["ai/one/*"], "tee": ["tdx"], "gpus": {}},
  {"name": "rim", "resources": ["ai/rim/*"], "tee": ["tdx"], "gpus": {"claims": {"rim": "match"}}},
  {"name": "cpu", "resources": ["default/key/*"], "tee": ["tdx"]}]}
EOF
printf 'model key' > secret
RIMROOT=(--root-ca sim/gpu/rim-root-ca.pem)
start a sim/root-ca.pem sim/intel; PA=$KPORT
start b nogpu-roots.pem sim/intel; PB=$KPORT
start c sim/root-ca.pem rims-ok "${RIMROOT[@]}"; PC=$KPORT
start d sim/root-ca.pem rims-other "${RIMROOT[@]}"; PD=$KPORT
start e sim/root-ca.pem rims-ok; PE=$KPORT
for n in a b c d e; do
  for p in ai/model/llm ai/one/x ai/rim/x default/key/one; do
    "$BIN/veritee" admin --socket "$n.sock" resource put "$p" secret >/dev/null || { echo "FAIL: admin resource put"; exit 1; }
  done
  "$BIN/veritee" admin --socket "$n.sock" policy set pol.json >/dev/null || { echo "FAIL: admin policy set"; exit 1; }
done

cat > t.py <<'EOF'
import base64, sys
import kbs_client
from kbs_client import check, finish, submods, fetch

kbs_client.BIN = sys.argv[1]
PA, PB, PC, PD, PE = map(int, sys.argv[2:7])
def attest(*a, **kw): return kbs_client.gpu_attest(*a, **kw)[:5]

# -- every GPU verifies, the policy asks for two
s, j, ck, key, good = attest(PA, 2)
check("attest with 2 sim GPUs -> 200 token", s == 200 and "token" in j, (s, j))
sm = submods(j) if s == 200 else {}
check("EAR: one submod per GPU (gpu0, gpu1) next to cpu0", sorted(sm) == ["cpu0", "gpu0", "gpu1"], list(sm))
g0 = sm.get("gpu0", {}).get("ear.veraison.annotated-evidence", {})
check("gpu0 verified, tee nvidia, sim (insecure), claims arch/driver/nonce, no measurements in the token",
      g0.get("verified") is True and g0.get("tee") == "nvidia" and g0.get("insecure") is True and
      g0["nvidia"].get("arch") == "HOPPER" and g0["nvidia"].get("driver_version") == "550.90.07" and
      len(g0["nvidia"].get("nonce", "")) == 64 and not any(k.startswith("measurement") for k in g0["nvidia"]), g0)
check("cpu0 marks the attestation insecure (sim)", sm.get("cpu0", {}).get("ear.veraison.annotated-evidence", {}).get("insecure") is True)
s, p = fetch(PA, ck, key, "ai/model/llm")
check("rule 'model' (2 GPUs, HOPPER, driver) -> released", s == 200 and p == b"model key", (s, p))
s, p = fetch(PA, ck, key, "ai/one/x")
check("rule 'any-gpu' -> released", s == 200, (s, p))
s, p = fetch(PA, ck, key, "ai/rim/x")
check("rule 'rim' (rim: match) while the GPUs are not appraised -> 403 claim mismatch",
      s == 403 and p["code"] == "VT_ERR_BROKER_CLAIM_MISMATCH" and "GPU 0 claim rim" in p["detail"], (s, p))

# -- one GPU's report altered (a byte inside the measurement record of gpu1)
def alter(dev):
    e = dev["device_evidence_list"][1]
    b = bytearray(base64.b64decode(e["evidence"])); b[37 + 8 + 100] ^= 1
    e["evidence"] = base64.b64encode(bytes(b)).decode()
s, j, ck, key, _ = attest(PA, 2, mutate=alter)
sm = submods(j) if s == 200 else {}
g1 = sm.get("gpu1", {})
check("altered gpu1: token issued, gpu1 contraindicated with the signature failure, gpu0 verified",
      s == 200 and g1.get("ear.status") == "contraindicated" and
      g1["ear.veraison.annotated-evidence"]["verified"] is False and
      "NV_SIGNATURE" in g1["ear.veraison.annotated-evidence"].get("error", "") and
      sm["gpu0"]["ear.veraison.annotated-evidence"]["verified"] is True, (s, g1))
s, p = fetch(PA, ck, key, "ai/model/llm")
check("altered gpu1 -> 403 GPU failed", s == 403 and p["code"] == "VT_ERR_BROKER_GPU_FAILED" and "GPU 1" in p["detail"], (s, p))
s, p = fetch(PA, ck, key, "ai/one/x")
check("altered gpu1, rule 'any-gpu' -> 403 (every GPU must verify)", s == 403 and p["code"] == "VT_ERR_BROKER_GPU_FAILED", (s, p))
s, p = fetch(PA, ck, key, "default/key/one")
check("altered gpu1, CPU-only rule -> released (the GPUs grant nothing there)", s == 200, (s, p))

# -- stale nonce: the GPU reports of the first session, replayed in a new one
s, j, ck, key, _ = attest(PA, devev=good)
sm = submods(j) if s == 200 else {}
err = sm.get("gpu0", {}).get("ear.veraison.annotated-evidence", {}).get("error", "")
check("replayed GPU reports (stale nonce): both GPUs failed with the nonce mismatch",
      s == 200 and "NV_NONCE_MISMATCH" in err and
      sm["gpu1"]["ear.veraison.annotated-evidence"]["verified"] is False, (s, err))
s, p = fetch(PA, ck, key, "ai/model/llm")
check("stale GPU nonce -> 403 GPU failed", s == 403 and p["code"] == "VT_ERR_BROKER_GPU_FAILED", (s, p))

# -- a GPU missing
s, j, ck, key, _ = attest(PA, 1)
check("1 GPU -> token with gpu0 only", s == 200 and sorted(submods(j)) == ["cpu0", "gpu0"], (s, j))
s, p = fetch(PA, ck, key, "ai/model/llm")
check("1 GPU, rule wants 2 -> 403 GPU missing", s == 403 and p["code"] == "VT_ERR_BROKER_GPU_MISSING", (s, p))
s, p = fetch(PA, ck, key, "ai/one/x")
check("1 GPU, rule 'any-gpu' -> released", s == 200, (s, p))

# -- no device evidence at all
s, j, ck, key, _ = attest(PA, 0)
s, p = fetch(PA, ck, key, "ai/one/x")
check("no GPUs, rule naming GPUs -> 403 GPU missing", s == 403 and p["code"] == "VT_ERR_BROKER_GPU_MISSING", (s, p))
s, p = fetch(PA, ck, key, "default/key/one")
check("no GPUs, CPU-only rule -> released", s == 200, (s, p))

# -- the multi-GPU list
s, j, ck, key, _ = attest(PA, 4)
sm = submods(j) if s == 200 else {}
check("4 GPUs -> gpu0..gpu3, all verified", s == 200 and sorted(sm) == ["cpu0", "gpu0", "gpu1", "gpu2", "gpu3"] and
      all(sm[g]["ear.veraison.annotated-evidence"]["verified"] for g in sm if g != "cpu0"), (s, list(sm)))
s, p = fetch(PA, ck, key, "ai/model/llm")
check("4 GPUs, rule wants at least 2 -> released", s == 200, (s, p))

# -- the same GPU twice (counted as two)
def twice(dev): dev["device_evidence_list"][1] = dev["device_evidence_list"][0]
s, j, ck, key, _ = attest(PA, 2, mutate=twice)
check("the same GPU twice -> 400 device evidence refused", s == 400 and j["code"] == "VT_ERR_KBS_DEVICE_EVIDENCE", (s, j))

# -- a broker without the sim GPU root: sim GPUs not trusted
s, j, ck, key, _ = attest(PB, 2)
sm = submods(j) if s == 200 else {}
err = sm.get("gpu0", {}).get("ear.veraison.annotated-evidence", {}).get("error", "")
check("broker without the sim GPU root: GPUs failed (root not trusted)", s == 200 and "NV_ROOT_NOT_TRUSTED" in err, (s, err))
s, p = fetch(PB, ck, key, "ai/model/llm")
check("... -> 403", s == 403 and p["code"] == "VT_ERR_BROKER_GPU_FAILED", (s, p))

# -- RIM appraisal: the broker given the sim RIMs as collateral and the sim RIM root
s, j, ck, key, _ = attest(PC, 2)
sm = submods(j) if s == 200 else {}
g0 = sm.get("gpu0", {}).get("ear.veraison.annotated-evidence", {})
check("sim RIMs + RIM root: gpu0 verified, claim rim = match",
      s == 200 and g0.get("verified") is True and g0.get("nvidia", {}).get("rim") == "match", (s, g0))
s, p = fetch(PC, ck, key, "ai/rim/x")
check("rule 'rim' (rim: match), RIMs matching -> released", s == 200 and p == b"model key", (s, p))
s, p = fetch(PC, ck, key, "ai/model/llm")
check("rule 'model' with RIMs given -> released", s == 200, (s, p))

s, j, ck, key, _ = attest(PD, 2)
sm = submods(j) if s == 200 else {}
g0 = sm.get("gpu0", {}).get("ear.veraison.annotated-evidence", {})
MISMATCH = "GPU measurements do not match the RIMs: gpu.0 RIM index(es) 8,9,10,"  # VT_ERR_NV_RIM_MISMATCH
check("RIMs for another driver: both GPUs failed with the RIM mismatch naming the driver indices "
      "8..63 (35 skipped: NVDEC0 disabled), the reason cut to its field's size",
      s == 200 and g0.get("verified") is False and g0.get("error", "").startswith(MISMATCH) and
      ",33,34,36,37," in g0["error"] and ",62,63" in g0["error"] and
      sm["gpu1"]["ear.veraison.annotated-evidence"]["verified"] is False, (s, g0))
s, p = fetch(PD, ck, key, "ai/rim/x")
check("RIM mismatch, rule 'rim' -> 403 GPU failed, the reason the RIM mismatch",
      s == 403 and p["code"] == "VT_ERR_BROKER_GPU_FAILED" and
      p["detail"].startswith("denied by policy: GPU 0 failed verification: " + MISMATCH), (s, p))
s, p = fetch(PD, ck, key, "default/key/one")
check("RIM mismatch, CPU-only rule -> released", s == 200, (s, p))

s, j, ck, key, _ = attest(PE, 1)
sm = submods(j) if s == 200 else {}
err = sm.get("gpu0", {}).get("ear.veraison.annotated-evidence", {}).get("error", "")
check("sim RIMs without the sim RIM root: GPU failed (RIM chain)", s == 200 and "NV_RIM_CHAIN" in err, (s, err))
s, p = fetch(PE, ck, key, "ai/rim/x")
check("... -> 403 GPU failed", s == 403 and p["code"] == "VT_ERR_BROKER_GPU_FAILED", (s, p))

finish()
EOF
PYTHONPATH=$KBS_PY python3 t.py "$BIN" "$PA" "$PB" "$PC" "$PD" "$PE"
rc=$?
# the project's KBS client: veritee-agent get-resource --kbs --tee sim-tdx --sim-gpus N
agent() { "$BIN/veritee-agent" get-resource --kbs "http://127.0.0.1:$PA" --tee sim-tdx --sim-dir sim "$@"; }
ag_ok()  { echo "ok: $*"; }
ag_bad() { echo "FAIL: $*"; rc=1; }
out=$(agent --sim-gpus 2 ai/model/llm 2>ag.err)
[ $? = 0 ] && [ "$out" = "model key" ] && ag_ok "agent --kbs --sim-gpus 2: rule 'model' released" || ag_bad "agent --sim-gpus 2: $out $(cat ag.err)"
out=$(agent --sim-gpus 4 ai/model/llm 2>ag.err)
[ $? = 0 ] && [ "$out" = "model key" ] && ag_ok "agent --sim-gpus 4 (multi-GPU list): released" || ag_bad "agent --sim-gpus 4: $(cat ag.err)"
agent --sim-gpus 1 ai/model/llm >/dev/null 2>ag.err
[ $? = 1 ] && grep -q "requires [12] verified GPU(s)" ag.err && ag_ok "agent --sim-gpus 1: refused, a GPU missing" || ag_bad "agent --sim-gpus 1: $(cat ag.err)"
agent ai/one/x >/dev/null 2>ag.err
[ $? = 1 ] && grep -q "requires [12] verified GPU(s)" ag.err && ag_ok "agent without GPUs, rule naming GPUs: refused" || ag_bad "agent without GPUs: $(cat ag.err)"
out=$(agent default/key/one 2>ag.err)
[ $? = 0 ] && [ "$out" = "model key" ] && ag_ok "agent without GPUs, CPU-only rule: released" || ag_bad "agent CPU-only: $(cat ag.err)"
agent --sim-gpus 9 ai/model/llm >/dev/null 2>&1
[ $? = 2 ] && ag_ok "agent --sim-gpus 9: usage error" || ag_bad "agent --sim-gpus 9 accepted"
"$BIN/veritee-agent" get-resource --broker 127.0.0.1:1 --broker-ca x --tee sim --sim-gpus 1 a/b/c >/dev/null 2>&1
[ $? = 2 ] && ag_ok "agent --sim-gpus without --kbs: usage error" || ag_bad "agent --sim-gpus without --kbs accepted"
"$BIN/veritee" sim gpu --sim-dir sim --nonce 00 >/dev/null 2>ag.err
[ $? = 2 ] && grep -q "32 bytes" ag.err && ag_ok "sim gpu: a short nonce is a usage error" || ag_bad "sim gpu short nonce: $(cat ag.err)"
"$BIN/veritee" sim gpu --sim-dir sim --nonce "$(printf '%064d' 0)" --count 9 >/dev/null 2>&1
[ $? = 2 ] && ag_ok "sim gpu --count 9: usage error" || ag_bad "sim gpu --count 9 accepted"
"$BIN/veritee" sim gpu --sim-dir nosuchdir --nonce "$(printf '%064d' 0)" >/dev/null 2>ag.err
[ $? = 1 ] && grep -q "no GPU PKI" ag.err && ag_ok "sim gpu without sim init: refused" || ag_bad "sim gpu uninitialised: $(cat ag.err)"
"$BIN/veritee" sim gpu --sim-dir sim --nonce "$(printf '%064d' 0)" --count 3 --out g.json && \
  python3 -c 'import json,sys; sys.exit(0 if len(json.load(open("g.json"))["device_evidence_list"]) == 3 else 1)' && \
  ag_ok "sim gpu --count 3 --out FILE" || ag_bad "sim gpu --out"
# the sim RIMs with the CLI verifier: match, mismatch naming the driver indices; usage
Z=$(printf '%064d' 0)
vfy() { "$BIN/veritee" verify g.json --verifier nvidia --report-data "$Z" --root-ca sim/gpu/root-ca.pem \
          --root-ca sim/gpu/rim-root-ca.pem --json "$@"; }
out=$(vfy --collateral rims-ok 2>&1)
[ $? = 0 ] && python3 -c 'import json,sys; c=json.loads(sys.argv[1])["claims"]; sys.exit(0 if all(c["gpu.%d.rim" % i] == "match" for i in range(3)) else 1)' "$out" \
  && ag_ok "verify --collateral (sim RIMs): gpu.<i>.rim match" || ag_bad "verify with the sim RIMs: $out"
out=$(vfy --collateral rims-other 2>&1)
[ $? = 1 ] && echo "$out" | grep -q 'RIM index(es) 8,9,10,' && ag_ok "verify with RIMs for another driver: exit 1, indices named" || ag_bad "verify other RIMs: $out"
"$BIN/veritee" sim gpu --sim-dir sim --nonce "$Z" --rim-driver 555.1.2 >/dev/null 2>&1
[ $? = 2 ] && ag_ok "sim gpu --rim-driver without --rims: usage error" || ag_bad "--rim-driver without --rims accepted"
mkdir -p rims-bad
"$BIN/veritee" sim gpu --sim-dir sim --rims rims-bad --rim-driver 96.00.9F.00.01 >/dev/null 2>ag.err
[ $? = 1 ] && grep -q "RIM kind wrong or unknown" ag.err && [ ! -e rims-bad/sim-gpu-driver-rim.xml ] \
  && ag_ok "sim gpu --rim-driver with a VBIOS-shaped version: refused" || ag_bad "--rim-driver VBIOS shape: $(cat ag.err)"
"$BIN/veritee" sim gpu --sim-dir nosuchdir --rims rims-bad >/dev/null 2>ag.err
[ $? = 1 ] && grep -q "no GPU PKI" ag.err && ag_ok "sim gpu --rims without sim init: refused" || ag_bad "sim gpu --rims uninitialised: $(cat ag.err)"
grep -q 'kbs-resource path=ai/model/llm decision=release INSECURE(sim)' a.log && echo "ok: GPU release audited as INSECURE(sim)" || { echo "FAIL: GPU release not logged INSECURE"; rc=1; }
[ $rc = 0 ] && echo "PASS" || echo "FAIL"
exit $rc
