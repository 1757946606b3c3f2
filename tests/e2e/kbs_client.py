# SPDX-License-Identifier: Apache-2.0
# kbs_client.py - helpers of the python KBS clients in the KBS e2e tests (imported; kbs_lib.sh
# sets KBS_PY to this directory): check() counting, base64url, JCS, one HTTP request to the
# KBS on 127.0.0.1 with the session cookie, an EC P-256 key as a JWK (ECDH-ES+A256KW).
import base64, hashlib, http.client, json, subprocess, sys
from cryptography.hazmat.primitives.asymmetric import ec

counts = {"passed": 0, "failed": 0}

def check(what, cond, extra=""):
    if cond:
        counts["passed"] += 1; print("ok:", what)
    else:
        counts["failed"] += 1; print("FAIL:", what, extra)

def finish():
    """Print the counts and exit 1 when a check failed."""
    print("%d passed, %d failed" % (counts["passed"], counts["failed"]))
    sys.exit(1 if counts["failed"] else 0)

def b64u(b): return base64.urlsafe_b64encode(b).rstrip(b"=").decode()
def ub64u(s): return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
def jcs(o): return json.dumps(o, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()

def req(port, method, path, body=None, cookie=None, timeout=60):
    """-> status, JSON reply (None when not JSON), the kbs-session-id cookie set (or None)"""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    h = {"Content-Type": "application/json"} if body is not None else {}
    if cookie: h["Cookie"] = "kbs-session-id=" + cookie
    c.request(method, path, body=json.dumps(body).encode() if body is not None else None, headers=h)
    r = c.getresponse(); data = r.read(); sc = r.getheader("Set-Cookie"); c.close()
    ck = sc.split(";")[0].split("=", 1)[1] if sc and sc.startswith("kbs-session-id=") else None
    try: j = json.loads(data)
    except Exception: j = None
    return r.status, j, ck

def ec_key():
    k = ec.generate_private_key(ec.SECP256R1())
    n = k.public_key().public_numbers()
    return k, {"kty": "EC", "crv": "P-256", "alg": "ECDH-ES+A256KW",
               "x": b64u(n.x.to_bytes(32, "big")), "y": b64u(n.y.to_bytes(32, "big"))}

# ---- sim-tdx + sim-gpu guests (set BIN first: kbs_client.BIN = the build's bin directory) ----
BIN = None

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

def gpu_attest(port, gpus=2, mutate=None, devev=None, session=None):
    """One RCAR run up to the token: sim-tdx with gpus sim GPUs over the session's device nonce
    (devev: device evidence to send instead; mutate(devev) changes it; session: (cookie, nonce,
    key, jwk) of an earlier challenge to use instead of POST /kbs/v0/auth).
    -> status, reply, cookie, key, devev, session"""
    if session is None:
        s, jc, ck = req(port, "POST", "/kbs/v0/auth", {"version": "0.4.0", "tee": "tdx",
                        "extra-params": {"supported-hash-algorithms": ["sha384"]}})
        key, jwk = ec_key()
        session = (ck, jc["nonce"], key, jwk)
    ck, nonce, key, jwk = session
    if devev is None and gpus:
        devev = sim_gpus(device_nonce(nonce, jwk), gpus)
    if mutate: mutate(devev)
    add = json.dumps({"nvidia": devev}, separators=(",", ":")) if devev is not None else ""
    d = hashlib.sha384(jcs({"additional-evidence": add, "nonce": nonce, "tee-pubkey": jwk})).digest()
    body = {"runtime-data": {"nonce": nonce, "tee-pubkey": jwk},
            "tee-evidence": {"primary_evidence": {"quote": tdx_quote(d + b"\0" * 16)}, "additional_evidence": add}}
    s, j, _ = req(port, "POST", "/kbs/v0/attest", body, cookie=ck)
    return s, j, ck, key, devev, session

def fetch(port, ck, key, path):
    """GET a resource; 200: (200, the decrypted payload), else (status, the problem JSON)"""
    from jwcrypto import jwe as jjwe, jwk as jjwk
    s, j, _ = req(port, "GET", "/kbs/v0/resource/" + path, cookie=ck)
    if s != 200: return s, j
    e = jjwe.JWE(); e.deserialize(json.dumps(j), key=jjwk.JWK.from_pyca(key))
    return s, e.payload

def submods(j): return json.loads(ub64u(j["token"].split(".")[1]))["submods"]
