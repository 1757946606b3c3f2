#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# GPU device nonces are single use across brokers sharing one PostgreSQL store (a throwaway
# cluster, pg_lib.sh): two veritee-broker --kbs-listen on the same database, sim-tdx + sim-gpu
# guests driven by the python KBS client (kbs_client.py):
#   - a guest attests with 2 GPUs at A and fetches a GPU-gated resource at B (one store);
#   - the same GPU evidence replayed to B in the same (still challenged) session after A used
#     its device nonce -> 403 VT_ERR_KBS_DEVICE_NONCE_USED (the nonce row is in the shared
#     store); a second try at A is refused the same way;
#   - the whole attest request of a released session replayed to B -> 401 (challenge used);
#   - the GPU evidence of A's session in a new session at B -> GPUs failed (stale nonce,
#     NV_NONCE_MISMATCH) and the GPU rule refuses (403 VT_ERR_BROKER_GPU_FAILED).
# Skips (exit 77) only when the PostgreSQL server binaries are absent.
set -u
. "$(dirname "$0")/pg_lib.sh"
KBS_PY=$(cd "$(dirname "$0")" && pwd)
python3 -c 'import cryptography, jwcrypto' 2>/dev/null || { echo "FAIL: python3-cryptography / python3-jwcrypto missing"; exit 1; }
pg_lib_start kbs-gpu-pg

"$BIN/veritee" sim init sim >/dev/null 2>&1 || { echo "FAIL: sim init"; exit 1; }
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout b.key -out b.pem \
  -days 30 -subj "/CN=127.0.0.1" 2>/dev/null
"$BIN/veritee-broker" --gen-master-key mk 2>/dev/null
printf 'model key' > secret
cat > pol.json <<'PEOF'
{"version": 1, "rules": [
  {"name": "model", "resources": ["ai/model/*"], "tee": ["tdx"], "gpus": {"count": 2}}]}
PEOF
declare -A KP
start() { # name -> KP[name]
  local n=$1
  "$BIN/veritee-broker" --listen 127.0.0.1:0 --store "$URL" --master-key mk --admin-socket "$n.sock" \
     --cert b.pem --key b.key --root-ca sim/root-ca.pem --collateral sim/intel --allow-sim \
     --kbs-listen 127.0.0.1:0 2>"$n.log" &
  PIDS+=($!)
  for _ in $(seq 100); do grep -q 'KBS listening on' "$n.log" && break; sleep 0.1; done
  KP[$n]=$(grep -o 'KBS listening on http://127.0.0.1:[0-9]*' "$n.log" | grep -o '[0-9]*$')
  [ -n "${KP[$n]}" ] || { echo "FAIL: broker $n did not start"; cat "$n.log"; exit 1; }
}
start a
"$BIN/veritee" admin --socket a.sock resource put ai/model/llm secret >/dev/null || { echo "FAIL: admin resource put"; exit 1; }
"$BIN/veritee" admin --socket a.sock policy set pol.json >/dev/null || { echo "FAIL: admin policy set"; exit 1; }
start b

cat > t.py <<'PEOF'
import json, sys
import kbs_client
from kbs_client import check, finish, submods, fetch, gpu_attest

kbs_client.BIN = sys.argv[1]
PA, PB = int(sys.argv[2]), int(sys.argv[3])

# a guest attests at A, fetches at B
s, j, ck, key, good, sess = gpu_attest(PA, 2)
check("attest with 2 sim GPUs at A -> 200", s == 200 and sorted(submods(j)) == ["cpu0", "gpu0", "gpu1"], (s, j))
s, p = fetch(PB, ck, key, "ai/model/llm")
check("... fetch at B (shared store) -> released", s == 200 and p == b"model key", (s, p))
# the whole attest request of the released session again, at B: its challenge is used
s, j, *_ = gpu_attest(PB, devev=good, session=sess)
check("the released session's attest replayed at B -> 401 challenge used",
      s == 401 and j["code"] == "VT_ERR_KBS_CHALLENGE_USED", (s, j))

# a session whose device nonce A consumed (the attestation refused at the device stage, the
# same GPU listed twice: the challenge is still open), then the GPU evidence replayed at B
orig = {}
def twice(dev):
    orig.update(json.loads(json.dumps(dev)))
    dev["device_evidence_list"][1] = dev["device_evidence_list"][0]
s, j, ck, key, dup, sess = gpu_attest(PA, 2, mutate=twice)
check("A: the same GPU twice -> 400 (device nonce consumed, challenge still open)",
      s == 400 and j["code"] == "VT_ERR_KBS_DEVICE_EVIDENCE", (s, j))
s, j, *_ = gpu_attest(PB, devev=orig, session=sess)
check("B: the session's GPU evidence replayed -> 403 VT_ERR_KBS_DEVICE_NONCE_USED",
      s == 403 and j["code"] == "VT_ERR_KBS_DEVICE_NONCE_USED" and "already used" in j["detail"], (s, j))
s, j, *_ = gpu_attest(PA, devev=orig, session=sess)
check("A: the same again -> 403 VT_ERR_KBS_DEVICE_NONCE_USED",
      s == 403 and j["code"] == "VT_ERR_KBS_DEVICE_NONCE_USED", (s, j))

# A's GPU reports in a new session at B: stale nonce
s, j, ck, key, *_ = gpu_attest(PB, devev=good)
sm = submods(j) if s == 200 else {}
err = sm.get("gpu0", {}).get("ear.veraison.annotated-evidence", {}).get("error", "")
check("A's GPU reports in a new session at B: GPUs failed (NV_NONCE_MISMATCH)",
      s == 200 and "NV_NONCE_MISMATCH" in err, (s, err))
s, p = fetch(PB, ck, key, "ai/model/llm")
check("... -> 403 GPU failed", s == 403 and p["code"] == "VT_ERR_BROKER_GPU_FAILED", (s, p))
finish()
PEOF
PYTHONPATH=$KBS_PY python3 t.py "$BIN" "${KP[a]}" "${KP[b]}"
rc=$?
n=$(psql -h 127.0.0.1 -p "$PORT" -U veritee -d kbs -Atc "SELECT count(*) FROM kbs_sessions WHERE id LIKE 'gpu-nonce:%'" 2>&1)
[ "$n" = 3 ] && ok "3 device nonce rows in the shared kbs_sessions" || bad "device nonce rows: $n"
[ $rc = 0 ] && [ $fail = 0 ] && echo "PASS" || { echo "FAIL"; exit 1; }
