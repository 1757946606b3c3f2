#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# KBS "tdx" evidence with cc_eventlog (docs/eventlog.md, "KBS"): a sim-tdx quote whose RTMRs
# are the replay of a real CCEL log (Trustee's CCEL_data_grub from the shared test data) with
# CoCo attestation-agent (AAEL) entries appended on RTMR3 as guest-components does (trimmed
# CCEL + TCG2 EV_EVENT_TAG records + 0xff end marker), driven by an independent python client:
#   the log replays -> 200, the EAR carries the eventlog.* claims; a broker policy rule that
#   requires eventlog.* claims releases when they match and refuses (403, naming the rule's
#   condition) when they do not; a tampered log is refused: a changed RTMR3 event digest
#   (VT_ERR_KBS_EVENTLOG_MISMATCH naming RTMR3), a changed AAEL content (unbound:
#   VT_ERR_KBS_EVENTLOG), a log that does not parse, not base64; evidence without cc_eventlog
#   verifies but gets no eventlog claims, so the eventlog rule refuses it. The TD example rule of
#   docs/eventlog.md, used as the policy, releases to this TD.
set -u
SRC=$(cd "$(dirname "$0")/../.." && pwd)
DATA=${VERITEE_TESTDATA:-$SRC/../shared/testdata}
CCEL="$DATA/eventlog/trustee_CCEL_data_grub"
[ -r "$CCEL" ] || { echo "SKIP: $CCEL missing"; exit 77; }
. "$(dirname "$0")/kbs_lib.sh"
kbs_lib_start kbs-evlog --allow-sim
PORT=$KPORT
printf 'eventlog secret' > secret
"$BIN/veritee" admin --socket a.sock resource put default/key/boot secret >/dev/null || { echo "FAIL: resource put"; exit 1; }

cat > t.py <<'EOF'
import base64, hashlib, json, struct, subprocess, sys
from cryptography.hazmat.primitives.asymmetric import ec
import kbs_client
from kbs_client import check, finish, b64u, ub64u
BIN, PORT, CCEL, DOC = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]

def req(method, path, body=None, cookie=None): return kbs_client.req(PORT, method, path, body, cookie, timeout=30)

def policy(rule_claims):
    p = {"version": 1, "rules": [{"name": "boot", "resources": ["default/key/*"], "tee": ["tdx"],
                                  "claims": rule_claims}]}
    open("pol.json", "w").write(json.dumps(p))
    subprocess.run([BIN + "/veritee", "admin", "--socket", "a.sock", "policy", "set", "pol.json"],
                   check=True, stdout=subprocess.DEVNULL)

# -- the log: the CCEL up to its end marker (as guest-components trims it), AAEL entries, 0xff x8
def trim(b):
    off = 32 + struct.unpack_from("<I", b, 28)[0]          # the TCG_PCR_EVENT header
    while True:
        idx, typ = struct.unpack_from("<II", b, off)
        if idx == 0xffffffff or (idx == 0 and typ == 0): return b[:off]
        n = struct.unpack_from("<I", b, off + 8)[0]; o = off + 12
        for _ in range(n): o += 2 + 48                      # SHA-384 only in this log
        off = o + 4 + struct.unpack_from("<I", b, o)[0]

def aael(text, digest_of=None):
    data = struct.pack("<II", 0x4141454c, len(text)) + text
    d = hashlib.sha384(digest_of if digest_of is not None else data).digest()
    return struct.pack("<III", 4, 6, 1) + struct.pack("<H", 0x0c) + d + struct.pack("<I", len(data)) + data

COCO = b"github.com/confidential-containers"
IMG = b'{"image":"docker.io/library/alpine:3.20","digest":"sha256:0c0c"}'
base = trim(open(CCEL, "rb").read())
good = base + aael(COCO + b" PullImage " + IMG) + b"\xff" * 8
open("log.bin", "wb").write(good)
# tampered: another digest in the last RTMR3 event (the quote still has the good RTMRs)
bad_digest = bytearray(good); bad_digest[len(base) + 14 + 47] ^= 1
# tampered: the AAEL content changed, its digest kept (the replay matches, the data is unbound)
unbound = base + aael(COCO + b" PullImage " + IMG.replace(b"alpine", b"evilco"), digest_of=struct.pack("<II", 0x4141454c, len(COCO + b" PullImage " + IMG)) + COCO + b" PullImage " + IMG) + b"\xff" * 8

def attest(log_b64, sim_log="log.bin"):
    s, jc, ck = req("POST", "/kbs/v0/auth", {"version": "0.4.0", "tee": "tdx", "extra-params": ""})
    k = ec.generate_private_key(ec.SECP256R1()); n = k.public_key().public_numbers()
    jwk = {"kty": "EC", "crv": "P-256", "alg": "ECDH-ES+A256KW",
           "x": b64u(n.x.to_bytes(32, "big")), "y": b64u(n.y.to_bytes(32, "big"))}
    canon = json.dumps({"additional-evidence": "", "nonce": jc["nonce"], "tee-pubkey": jwk},
                       sort_keys=True, separators=(",", ":")).encode()
    rd = hashlib.sha384(canon).digest() + b"\0" * 16
    subprocess.run([BIN + "/veritee", "attest", "--tee", "sim-tdx", "--report-data", rd.hex(),
                    "--sim-dir", "sim", "--option", "sim.eventlog=" + sim_log, "-o", "q.bin"],
                   check=True, stderr=subprocess.DEVNULL)
    pe = {"quote": base64.b64encode(open("q.bin", "rb").read()).decode()}
    if log_b64 is not None: pe["cc_eventlog"] = log_b64
    body = {"runtime-data": {"nonce": jc["nonce"], "tee-pubkey": jwk},
            "tee-evidence": {"primary_evidence": pe, "additional_evidence": ""}}
    s, j, _ = req("POST", "/kbs/v0/attest", body, cookie=ck)
    return s, j, ck

def b64(b): return base64.b64encode(b).decode()
PULL = "eventlog.aael.github.com/confidential-containers.PullImage"

# -- a matching log: token with the eventlog claims
policy({"eventlog.secure_boot": True, PULL: IMG.decode()})
s, j, ck = attest(b64(good))
check("cc_eventlog replays to the quote's RTMRs -> 200 token", s == 200 and "token" in j, (s, j))
ann = json.loads(ub64u(j["token"].split(".")[1]))["submods"]["cpu0"]["ear.veraison.annotated-evidence"]["tdx"] if s == 200 else {}
check("EAR carries eventlog.secure_boot, the AAEL PullImage content and count",
      ann.get("eventlog.secure_boot") == "true" and ann.get(PULL) == IMG.decode() and ann.get("eventlog.aael.count") == "1", ann)
check("EAR carries eventlog.efi_apps (an array, as its JSON text)", json.loads(ann.get("eventlog.efi_apps", "[]"))[:1] != [], ann.get("eventlog.efi_apps"))
s, jr, _ = req("GET", "/kbs/v0/resource/default/key/boot", cookie=ck)
check("policy requiring eventlog.secure_boot and the pulled image -> released (JWE)", s == 200 and "ciphertext" in (jr or {}), (s, jr))

# -- the TD example rule of docs/eventlog.md ("Writing a policy over boot claims") as the policy
import re
sec = open(DOC).read().split("\n## Writing a policy over boot claims\n", 1)[1].split("\n## ", 1)[0]
rule = json.loads(re.findall(r"```json\n(.*?)```", sec, re.S)[1])
rule["resources"] = ["default/key/*"]
open("pol.json", "w").write(json.dumps({"version": 1, "rules": [rule]}))
subprocess.run([BIN + "/veritee", "admin", "--socket", "a.sock", "policy", "set", "pol.json"], check=True, stdout=subprocess.DEVNULL)
s, jr, _ = req("GET", "/kbs/v0/resource/default/key/boot", cookie=ck)
check("the docs' TD example rule (eventlog claims, efi_apps JSON text, AAEL, mr_config_id) -> released", s == 200 and "ciphertext" in (jr or {}), (s, jr))

# -- the same token under a rule asking for another image: refused naming the rule
policy({"eventlog.secure_boot": True, PULL: '{"image":"other"}'})
s, jr, _ = req("GET", "/kbs/v0/resource/default/key/boot", cookie=ck)
check("rule requiring another pulled image -> 403 naming rule boot and the claim",
      s == 403 and jr["code"] == "VT_ERR_BROKER_CLAIM_MISMATCH" and jr["detail"] == "denied by policy: claim " + PULL + " does not match the policy (rule boot)", (s, jr))
policy({"eventlog.secure_boot": False})
s, jr, _ = req("GET", "/kbs/v0/resource/default/key/boot", cookie=ck)
check("rule requiring Secure Boot off -> 403 naming eventlog.secure_boot and rule boot", s == 403 and jr["detail"] == "denied by policy: claim eventlog.secure_boot does not match the policy (rule boot)", (s, jr))

# -- no cc_eventlog: verified, no eventlog claims, the eventlog rule refuses
policy({"eventlog.secure_boot": True})
s, j, ck = attest(None)
check("tdx evidence without cc_eventlog -> 200", s == 200, (s, j))
ann = json.loads(ub64u(j["token"].split(".")[1]))["submods"]["cpu0"]["ear.veraison.annotated-evidence"]["tdx"] if s == 200 else {}
check("... and no eventlog claims", not [k for k in ann if k.startswith("eventlog.")], ann)
s, jr, _ = req("GET", "/kbs/v0/resource/default/key/boot", cookie=ck)
check("... the eventlog rule refuses it (403, claim missing, rule boot)", s == 403 and jr["code"] == "VT_ERR_BROKER_CLAIM_MISSING" and jr["detail"] == "denied by policy: claim eventlog.secure_boot missing from the evidence (rule boot)", (s, jr))
s, j, ck = attest("")
check("empty cc_eventlog (null/empty: none) -> 200", s == 200, (s, j))

# -- tampered logs
s, j, _ = attest(b64(bytes(bad_digest)))
check("changed RTMR3 event digest -> 403 VT_ERR_KBS_EVENTLOG_MISMATCH naming RTMR3",
      s == 403 and j["code"] == "VT_ERR_KBS_EVENTLOG_MISMATCH" and "RTMR3" in j["detail"], (s, j))
s, j, _ = attest(b64(unbound))
check("changed AAEL content (digest kept) -> 403 VT_ERR_KBS_EVENTLOG (unbound)",
      s == 403 and j["code"] == "VT_ERR_KBS_EVENTLOG" and "VT_ERR_EVLOG_AAEL_UNBOUND" in j["detail"], (s, j))
s, j, _ = attest(b64(good[:len(good) - 20]))
check("truncated log -> 403 VT_ERR_KBS_EVENTLOG", s == 403 and j["code"] == "VT_ERR_KBS_EVENTLOG", (s, j))
s, j, _ = attest("!!not base64!!")
check("cc_eventlog not base64 -> 403 VT_ERR_KBS_EVENTLOG", s == 403 and j["code"] == "VT_ERR_KBS_EVENTLOG", (s, j))
s, j, _ = attest(b64(good), sim_log=CCEL)
check("quote of a TD without the AAEL entries -> 403 mismatch naming RTMR3",
      s == 403 and j["code"] == "VT_ERR_KBS_EVENTLOG_MISMATCH" and "RTMR3" in j["detail"], (s, j))
finish()
EOF
PYTHONPATH=$KBS_PY python3 t.py "$BIN" "$PORT" "$CCEL" "$SRC/docs/eventlog.md"
