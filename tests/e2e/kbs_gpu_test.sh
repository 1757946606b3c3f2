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
# while the GPUs are not appraised refuses. Then the project's KBS client, `veritee-agent
# get-resource --kbs --tee sim-tdx --sim-gpus N` (2 and 4 released, 1 and none refused), and
# the usage errors of --sim-gpus and `veritee sim gpu`.
set -u
BIN=${VERITEE_BIN:-$(cd "$(dirname "$0")/../.." && pwd)/build/bin}
python3 -c 'import cryptography, jwcrypto' 2>/dev/null || { echo "FAIL: python3-cryptography / python3-jwcrypto missing"; exit 1; }
T=$(mktemp -d /tmp/vt-kbs-gpu.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
cd "$T" || exit 1
"$BIN/veritee" sim init sim >/dev/null 2>&1 || { echo "FAIL: sim init"; exit 1; }
"$BIN/veritee-broker" --gen-master-key mk 2>/dev/null
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout broker.key -out broker.pem \
  -days 30 -subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1" 2>/dev/null || { echo "FAIL: openssl"; exit 1; }
# the roots without the sim GPU root (broker b: GPUs not trusted)
python3 - <<'EOF'
import re
pems = re.findall(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----\n", open("sim/root-ca.pem").read(), re.S)
gpu = open("sim/gpu/root-ca.pem").read()
open("nogpu-roots.pem", "w").write("".join(p for p in pems if p != gpu))
EOF
start() { # name roots -> KPORT
  local n=$1 roots=$2
  "$BIN/veritee-broker" --listen 127.0.0.1:0 --store "$n.db" --master-key mk --admin-socket "$n.sock" \
     --cert broker.pem --key broker.key --root-ca "$roots" --collateral sim/intel --allow-sim --kbs-listen 127.0.0.1:0 2>"$n.log" &
  PIDS+=($!)
  for _ in $(seq 100); do grep -q 'KBS listening on' "$n.log" && break; sleep 0.1; done
  KPORT=$(grep -o 'KBS listening on https\?://127.0.0.1:[0-9]*' "$n.log" | grep -o '[0-9]*$')
  [ -n "$KPORT" ] || { echo "FAIL: broker $n did not start"; cat "$n.log"; exit 1; }
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
start a sim/root-ca.pem; PA=$KPORT
start b nogpu-roots.pem; PB=$KPORT
for n in a b; do
  for p in ai/model/llm ai/one/x ai/rim/x default/key/one; do
    "$BIN/veritee" admin --socket "$n.sock" resource put "$p" secret >/dev/null || { echo "FAIL: admin resource put"; exit 1; }
  done
  "$BIN/veritee" admin --socket "$n.sock" policy set pol.json >/dev/null || { echo "FAIL: admin policy set"; exit 1; }
done

cat > t.py <<'EOF'
import base64, hashlib, http.client, json, subprocess, sys
from cryptography.hazmat.primitives.asymmetric import ec
from jwcrypto import jwe as jjwe, jwk as jjwk

BIN, PA, PB = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
passed = failed = 0
def check(what, cond, extra=""):
    global passed, failed
    if cond: passed += 1; print("ok:", what)
    else: failed += 1; print("FAIL:", what, extra)

def b64u(b): return base64.urlsafe_b64encode(b).rstrip(b"=").decode()
def ub64u(s): return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
def jcs(o): return json.dumps(o, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()

def req(port, method, path, body=None, cookie=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    h = {}
    if body is not None:
        body = json.dumps(body).encode(); h["Content-Type"] = "application/json"
    if cookie: h["Cookie"] = "kbs-session-id=" + cookie
    c.request(method, path, body=body, headers=h)
    r = c.getresponse(); data = r.read()
    ck = None
    sc = r.getheader("Set-Cookie")
    if sc and sc.startswith("kbs-session-id="): ck = sc.split(";")[0].split("=", 1)[1]
    try: j = json.loads(data)
    except Exception: j = None
    c.close()
    return r.status, j, ck

def ec_key():
    k = ec.generate_private_key(ec.SECP256R1())
    n = k.public_key().public_numbers()
    return k, {"kty": "EC", "crv": "P-256", "alg": "ECDH-ES+A256KW",
               "x": b64u(n.x.to_bytes(32, "big")), "y": b64u(n.y.to_bytes(32, "big"))}

def device_nonce(nonce, jwk):  # guest-components: SHA-384(JCS(runtime data)), first 32 bytes
    return hashlib.sha384(jcs({"nonce": nonce, "tee-pubkey": jwk})).digest()[:32]

def sim_gpus(dn, count):
    out = subprocess.run([BIN + "/veritee", "sim", "gpu", "--sim-dir", "sim", "--nonce", dn.hex(),
                          "--count", str(count)], check=True, capture_output=True).stdout
    return json.loads(out)

def tdx_quote(rd64):
    subprocess.run([BIN + "/veritee", "attest", "--tee", "sim-tdx", "--report-data", rd64.hex(),
                    "--sim-dir", "sim", "-o", "q.bin"], check=True)
    return base64.b64encode(open("q.bin", "rb").read()).decode()

def attest(port, gpus=2, mutate=None, devev=None):
    """One RCAR run up to the token: gpus sim GPUs over the session's device nonce (devev:
    device evidence to send instead; mutate(devev) changes it). -> status, reply, cookie, key, devev"""
    s, jc, ck = req(port, "POST", "/kbs/v0/auth", {"version": "0.4.0", "tee": "tdx",
                    "extra-params": {"supported-hash-algorithms": ["sha384"]}})
    key, jwk = ec_key()
    if devev is None and gpus:
        devev = sim_gpus(device_nonce(jc["nonce"], jwk), gpus)
    if mutate: mutate(devev)
    add = json.dumps({"nvidia": devev}, separators=(",", ":")) if devev is not None else ""
    d = hashlib.sha384(jcs({"additional-evidence": add, "nonce": jc["nonce"], "tee-pubkey": jwk})).digest()
    body = {"runtime-data": {"nonce": jc["nonce"], "tee-pubkey": jwk},
            "tee-evidence": {"primary_evidence": {"quote": tdx_quote(d + b"\0" * 16)}, "additional_evidence": add}}
    s, j, _ = req(port, "POST", "/kbs/v0/attest", body, cookie=ck)
    return s, j, ck, key, devev

def fetch(port, ck, key, path):
    s, j, _ = req(port, "GET", "/kbs/v0/resource/" + path, cookie=ck)
    if s != 200: return s, j
    k = jjwk.JWK.from_pyca(key)
    e = jjwe.JWE(); e.deserialize(json.dumps(j), key=k)
    return s, e.payload

def submods(j): return json.loads(ub64u(j["token"].split(".")[1]))["submods"]

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

print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
EOF
python3 t.py "$BIN" "$PA" "$PB"
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
grep -q 'kbs-resource path=ai/model/llm decision=release INSECURE(sim)' a.log && echo "ok: GPU release audited as INSECURE(sim)" || { echo "FAIL: GPU release not logged INSECURE"; rc=1; }
[ $rc = 0 ] && echo "PASS" || echo "FAIL"
exit $rc
