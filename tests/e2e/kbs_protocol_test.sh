#!/usr/bin/env bash
# KBS protocol v0.4.0 conformance against the broker's KBS front end (veritee-kbs-dev serve,
# SQLite store), driven by an independent client written here in python3 (json, hashlib,
# urllib, http.client; JWE decryption and EAR verification with python3-cryptography):
#   report-data = SHA-384(RFC 8785 JSON of additional-evidence, nonce, tee-pubkey) padded to
#   64 bytes, computed here (not by our code); version mismatch 400; unknown tee 400; wrong
#   nonce 403; replayed attestation 401; expired session 401; evidence bound to another
#   tee-pubkey 403; unsigned sample 403; sim without --allow-sim 403; path traversal and bad
#   segments 400; no auth 401; policy deny 403; unknown resource 404; the JWE (EC and RSA)
#   decrypts with python3-cryptography; the EAR verifies against /.well-known/jwks.json; a
#   tampered token is refused (401); /healthz, /metrics.
set -u
BIN=${VERITEE_BIN:-$(cd "$(dirname "$0")/../.." && pwd)/build/bin}
[ -x "$BIN/veritee-kbs-dev" ] || { echo "FAIL: $BIN/veritee-kbs-dev not built"; exit 1; }
python3 -c 'import cryptography' 2>/dev/null || { echo "FAIL: python3-cryptography missing (apt-get install python3-cryptography)"; exit 1; }
T=$(mktemp -d /tmp/vt-kbs-proto.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
cd "$T" || exit 1
"$BIN/veritee" sim init sim >/dev/null 2>&1 || { echo "FAIL: sim init"; exit 1; }
printf 'top secret value' > secret
printf '{"version":1,"rules":[{"name":"app","resources":["default/key/*"],"tee":["sim"]}]}' > pol.json
D="$BIN/veritee-kbs-dev"
$D put-resource --store db --master-key mk default/key/one secret || exit 1
$D set-policy --store db --master-key mk pol.json || exit 1
start() { # name extra-args...
  local n=$1; shift
  $D serve --store db --master-key mk --listen 127.0.0.1:0 --port-file "$n.port" \
     --root-ca sim/root-ca.pem "$@" 2>"$n.log" &
  PIDS+=($!)
  for _ in $(seq 50); do [ -s "$n.port" ] && break; sleep 0.1; done
}
start a --allow-sim --session-lifetime 3
start b
PA=$(cat a.port); PB=$(cat b.port)

cat > t.py <<'EOF'
import base64, hashlib, http.client, json, os, subprocess, sys, time
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa, padding, utils
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.keywrap import aes_key_unwrap
from cryptography.hazmat.primitives.kdf.concatkdf import ConcatKDFHash
from cryptography.exceptions import InvalidSignature

BIN, PA, PB = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
passed = failed = 0
def check(what, cond, extra=""):
    global passed, failed
    if cond: passed += 1; print("ok:", what)
    else: failed += 1; print("FAIL:", what, extra)

def b64u(b): return base64.urlsafe_b64encode(b).rstrip(b"=").decode()
def ub64u(s): return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))

def req(port, method, path, body=None, cookie=None, bearer=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    h = {}
    if body is not None:
        body = json.dumps(body).encode(); h["Content-Type"] = "application/json"
    if cookie: h["Cookie"] = "kbs-session-id=" + cookie
    if bearer: h["Authorization"] = "Bearer " + bearer
    c.request(method, path, body=body, headers=h)
    r = c.getresponse(); data = r.read()
    ck = None
    sc = r.getheader("Set-Cookie")
    if sc and sc.startswith("kbs-session-id="): ck = sc.split(";")[0].split("=", 1)[1]
    ctype = r.getheader("Content-Type") or ""
    try: j = json.loads(data)
    except Exception: j = None
    c.close()
    return r.status, j, ck, ctype, data

def ec_key():
    k = ec.generate_private_key(ec.SECP256R1())
    n = k.public_key().public_numbers()
    return k, {"kty": "EC", "crv": "P-256", "alg": "ECDH-ES+A256KW",
               "x": b64u(n.x.to_bytes(32, "big")), "y": b64u(n.y.to_bytes(32, "big"))}

def rsa_key():
    k = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    n = k.public_key().public_numbers()
    return k, {"kty": "RSA", "alg": "RSA-OAEP-256",
               "n": b64u(n.n.to_bytes((n.n.bit_length() + 7) // 8, "big")), "e": b64u(n.e.to_bytes(3, "big"))}

def jcs(o):  # RFC 8785 for our inputs (strings and objects, ASCII keys): sorted, compact
    return json.dumps(o, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()

def report_data(nonce, jwk, additional=""):
    d = hashlib.sha384(jcs({"additional-evidence": additional, "nonce": nonce, "tee-pubkey": jwk})).digest()
    return d, d + b"\0" * 16

def sim_evidence(rd64):
    subprocess.run([BIN + "/veritee", "attest", "--tee", "sim", "--report-data", rd64.hex(),
                    "--sim-dir", "sim", "-o", "ev.bin"], check=True)
    return base64.b64encode(open("ev.bin", "rb").read()).decode()

def attestation(nonce, jwk, rd48, rd64, signed=True):
    pe = {"svn": "1", "report_data": base64.b64encode(rd48).decode()}
    if signed: pe["veritee_sim_evidence"] = sim_evidence(rd64)
    return {"runtime-data": {"nonce": nonce, "tee-pubkey": jwk},
            "tee-evidence": {"primary_evidence": pe, "additional_evidence": ""}}

def auth(port, version="0.4.0", tee="sample"):
    return req(port, "POST", "/kbs/v0/auth", {"version": version, "tee": tee,
               "extra-params": {"supported-hash-algorithms": ["sha384"]}})

# -- known vector: independent computation of the binding (RFC 8785 order alg,crv,kty,x,y)
jv = {"kty": "EC", "crv": "P-256", "alg": "ECDH-ES+A256KW", "x": "AAAA", "y": "BBBB"}
canon = jcs({"additional-evidence": "", "nonce": "bm9uY2U=", "tee-pubkey": jv})
check("JCS text of the binding", canon == b'{"additional-evidence":"","nonce":"bm9uY2U=","tee-pubkey":{"alg":"ECDH-ES+A256KW","crv":"P-256","kty":"EC","x":"AAAA","y":"BBBB"}}', canon)

# -- auth
s, j, ck, ct, _ = auth(PA, version="0.3.0")
check("version mismatch -> 400 problem", s == 400 and ct.startswith("application/problem+json") and j["type"].endswith("/ProtocolVersion") and "0.4.0" in j["detail"], (s, j))
s, j, ck, ct, _ = auth(PA, tee="martian")
check("unknown tee -> 400", s == 400 and j["code"] == "VT_ERR_KBS_BAD_TEE", (s, j))
s, j, ck, ct, _ = req(PA, "POST", "/kbs/v0/auth", {"tee": "sample"})
check("auth without version -> 400", s == 400, (s, j))
s, j, ck, ct, _ = auth(PA)
check("auth -> 200 challenge with cookie", s == 200 and ck and len(ck) == 32 and j["extra-params"] == "" and len(base64.b64decode(j["nonce"])) == 32, (s, j, ck))

# -- full protocol (EC) and the binding
nonce = j["nonce"]; key, jwk = ec_key()
rd48, rd64 = report_data(nonce, jwk)
body = attestation(nonce, jwk, rd48, rd64)
s, j, _, _, _ = req(PA, "POST", "/kbs/v0/attest", body, cookie=ck)
check("attest with report-data computed by python -> 200 token", s == 200 and "token" in j, (s, j))
token = j["token"]
s, j2, _, _, _ = req(PA, "POST", "/kbs/v0/attest", body, cookie=ck)
check("replayed attestation (same session) -> 401", s == 401 and j2["code"] == "VT_ERR_KBS_CHALLENGE_USED", (s, j2))
s, j3, ck2, _, _ = auth(PA)
s, j2, _, _, _ = req(PA, "POST", "/kbs/v0/attest", body, cookie=ck2)
check("replayed attestation (new session: wrong nonce) -> 403", s == 403 and j2["code"] == "VT_ERR_KBS_NONCE_MISMATCH", (s, j2))
s, j2, _, _, _ = req(PA, "POST", "/kbs/v0/attest", body)
check("attest without cookie -> 401", s == 401 and j2["code"] == "VT_ERR_KBS_NO_AUTH", (s, j2))

# evidence bound to another tee-pubkey
s, jc, ck3, _, _ = auth(PA)
k2, jwk2 = ec_key()
rdA48, rdA64 = report_data(jc["nonce"], jwk)
b2 = attestation(jc["nonce"], jwk2, rdA48, rdA64)
s, j2, _, _, _ = req(PA, "POST", "/kbs/v0/attest", b2, cookie=ck3)
check("evidence bound to another tee-pubkey -> 403", s == 403 and j2["code"] == "VT_ERR_KBS_BINDING_MISMATCH", (s, j2))
# unsigned sample
s, jc, ck4, _, _ = auth(PA)
r48, r64 = report_data(jc["nonce"], jwk)
s, j2, _, _, _ = req(PA, "POST", "/kbs/v0/attest", attestation(jc["nonce"], jwk, r48, r64, signed=False), cookie=ck4)
check("unsigned sample evidence -> 403", s == 403 and j2["code"] == "VT_ERR_KBS_UNSIGNED_SAMPLE", (s, j2))
s, j2, _, _, _ = req(PA, "POST", "/kbs/v0/attest", {"runtime-data": 1}, cookie=ck4)
check("malformed attestation -> 400", s == 400, (s, j2))
# sim refused without --allow-sim (broker b)
s, jc, ck5, _, _ = auth(PB)
r48, r64 = report_data(jc["nonce"], jwk)
s, j2, _, _, _ = req(PB, "POST", "/kbs/v0/attest", attestation(jc["nonce"], jwk, r48, r64), cookie=ck5)
check("sim evidence without --allow-sim -> 403", s == 403 and j2["code"] == "VT_ERR_BROKER_SIM_REFUSED", (s, j2))

# -- resource with the cookie; decrypt the JWE with python3-cryptography
def decrypt(jwe, priv):
    hdr = json.loads(ub64u(jwe["protected"]))
    if hdr["alg"] == "ECDH-ES+A256KW":
        e = hdr["epk"]
        epk = ec.EllipticCurvePublicNumbers(int.from_bytes(ub64u(e["x"]), "big"), int.from_bytes(ub64u(e["y"]), "big"), ec.SECP256R1()).public_key()
        z = priv.exchange(ec.ECDH(), epk)
        other = (len(b"ECDH-ES+A256KW")).to_bytes(4, "big") + b"ECDH-ES+A256KW" + b"\0" * 8 + (256).to_bytes(4, "big")
        kek = ConcatKDFHash(algorithm=hashes.SHA256(), length=32, otherinfo=other).derive(z)
        cek = aes_key_unwrap(kek, ub64u(jwe["encrypted_key"]))
    else:
        cek = priv.decrypt(ub64u(jwe["encrypted_key"]), padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None))
    return hdr, AESGCM(cek).decrypt(ub64u(jwe["iv"]), ub64u(jwe["ciphertext"]) + ub64u(jwe["tag"]), jwe["protected"].encode())

s, jw, _, _, _ = req(PA, "GET", "/kbs/v0/resource/default/key/one", cookie=ck)
ok = s == 200 and list(jw.keys()) == ["protected", "encrypted_key", "iv", "ciphertext", "tag"]
check("resource with cookie -> flattened JWE", ok, (s, jw))
if ok:
    hdr, pt = decrypt(jw, key)
    check("JWE (ECDH-ES+A256KW, A256GCM) decrypts with python3-cryptography", pt == b"top secret value", pt)
    check("JWE header text exactly alg,enc,epk{crv,kty,x,y}", ub64u(jw["protected"]).startswith(b'{"alg":"ECDH-ES+A256KW","enc":"A256GCM","epk":{"crv":"P-256","kty":"EC","x":"'), ub64u(jw["protected"]))

# RSA-OAEP-256
rk, rjwk = rsa_key()
s, jc, ckr, _, _ = auth(PA)
r48, r64 = report_data(jc["nonce"], rjwk)
s, jt, _, _, _ = req(PA, "POST", "/kbs/v0/attest", attestation(jc["nonce"], rjwk, r48, r64), cookie=ckr)
s, jw, _, _, _ = req(PA, "GET", "/kbs/v0/resource/default/key/one", cookie=ckr)
if s == 200:
    hdr, pt = decrypt(jw, rk)
    check("JWE (RSA-OAEP-256, A256GCM) decrypts with python3-cryptography", hdr == {"alg": "RSA-OAEP-256", "enc": "A256GCM"} and pt == b"top secret value", (hdr, pt))
else:
    check("RSA resource fetch", False, (s, jw))

# -- EAR verification against the JWKS
s, jwks, _, _, _ = req(PA, "GET", "/.well-known/jwks.json")
h64, p64, s64 = token.split(".")
hdr = json.loads(ub64u(h64)); pay = json.loads(ub64u(p64))
kj = [k for k in jwks["keys"] if k["kid"] == hdr["kid"]]
ok = False
if kj:
    pub = ec.EllipticCurvePublicNumbers(int.from_bytes(ub64u(kj[0]["x"]), "big"), int.from_bytes(ub64u(kj[0]["y"]), "big"), ec.SECP256R1()).public_key()
    sig = ub64u(s64)
    try:
        pub.verify(utils.encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big")), (h64 + "." + p64).encode(), ec.ECDSA(hashes.SHA256()))
        ok = True
    except InvalidSignature:
        pass
check("EAR (ES256) verifies against /.well-known/jwks.json", ok and hdr["alg"] == "ES256", hdr)
cpu = pay["submods"]["cpu0"]
tv = cpu["ear.trustworthiness-vector"]
check("EAR claims: profile, status, AR4SI vector, policy id, annotated evidence",
      pay["eat_profile"] == "tag:github.com,2023:veraison/ear" and pay["exp"] > pay["iat"] and
      set(tv) == {"instance-identity", "configuration", "executables", "file-system", "hardware", "runtime-opaque", "storage-opaque", "sourced-data"} and
      tv["hardware"] == 96 and cpu["ear.status"] == "contraindicated" and cpu["ear.appraisal-policy-id"].startswith("veritee:policy/") and
      cpu["ear.veraison.annotated-evidence"]["runtime_data_claims"]["tee-pubkey"] == jwk and
      cpu["ear.veraison.annotated-evidence"]["report_data"] == rd64.hex(), pay)

# bearer (passport) and tampering
s, jw, _, _, _ = req(PA, "GET", "/kbs/v0/resource/default/key/one", bearer=token)
check("resource with Bearer token -> 200", s == 200, (s, jw))
tp = dict(pay); tp["exp"] = pay["exp"] + 100000
bad = h64 + "." + b64u(json.dumps(tp).encode()) + "." + s64
s, j2, _, _, _ = req(PA, "GET", "/kbs/v0/resource/default/key/one", bearer=bad)
check("tampered token -> 401", s == 401 and j2["code"] == "VT_ERR_KBS_TOKEN_INVALID", (s, j2))
flip = token[:-3] + ("A" if token[-3] != "A" else "B") + token[-2:]
s, j2, _, _, _ = req(PA, "GET", "/kbs/v0/resource/default/key/one", bearer=flip)
check("token with altered signature -> 401", s == 401, (s, j2))
s, j2, _, _, _ = req(PA, "GET", "/kbs/v0/resource/default/key/one")
check("no cookie, no token -> 401", s == 401 and j2["code"] == "VT_ERR_KBS_NO_AUTH", (s, j2))
s, j2, _, _, _ = req(PA, "GET", "/kbs/v0/resource/default/key/one", cookie=ck2)
check("cookie of a session that did not attest -> 401", s == 401 and j2["code"] == "VT_ERR_KBS_NOT_ATTESTED", (s, j2))
s, j2, _, _, _ = req(PA, "GET", "/kbs/v0/resource/other/key/one", bearer=token)
check("policy deny -> 403 with reason", s == 403 and "no rule grants" in j2["detail"], (s, j2))
s, j2, _, _, _ = req(PA, "GET", "/kbs/v0/resource/default/key/missing", bearer=token)
check("unknown resource -> 404", s == 404 and j2["code"] == "VT_ERR_BROKER_UNKNOWN_RESOURCE", (s, j2))
for p in ["/kbs/v0/resource/default/../one", "/kbs/v0/resource/default/key", "/kbs/v0/resource/a/b/c/d",
          "/kbs/v0/resource/default/key/.hidden", "/kbs/v0/resource/default/%2e%2e/one", "/kbs/v0/resource/default/key/a%20b",
          "/kbs/v0/resource/default//one", "/kbs/v0/resource/" + "a" * 65 + "/key/one"]:
    s, j2, _, _, _ = req(PA, "GET", p, bearer=token)
    check("bad path %s -> 400" % p[:40], s == 400 and j2["type"].endswith("/InvalidRequestPath"), (s, j2))
s, j2, _, _, _ = req(PA, "GET", "/kbs/v0/nothing")
check("unknown endpoint -> 404", s == 404, s)

# -- expired session (lifetime 3 s)
s, jc, cke, _, _ = auth(PA)
r48, r64 = report_data(jc["nonce"], jwk)
body = attestation(jc["nonce"], jwk, r48, r64)
time.sleep(4)
s, j2, _, _, _ = req(PA, "POST", "/kbs/v0/attest", body, cookie=cke)
check("expired session -> 401", s == 401 and j2["code"] == "VT_ERR_KBS_SESSION_EXPIRED", (s, j2))

s, j2, _, _, raw = req(PA, "GET", "/healthz")
check("/healthz", s == 200, s)
s, _, _, ct, raw = req(PA, "GET", "/metrics")
check("/metrics (Prometheus text)", s == 200 and b'veritee_kbs_attest_total{result="ok"}' in raw, raw[:200])
print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
EOF
python3 t.py "$BIN" "$PA" "$PB"
rc=$?
grep -q "INSECURE" a.log || { echo "FAIL: sim releases not logged as INSECURE"; rc=1; }
exit $rc
