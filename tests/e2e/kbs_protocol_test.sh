#!/usr/bin/env bash
# KBS protocol v0.4.0 conformance against veritee-broker --kbs-listen (SQLite store, provisioned
# through `veritee admin`), driven by an independent client written here in python3 (json,
# hashlib, http.client; JWE decryption and EAR verification with python3-cryptography):
#   report-data = SHA-384(RFC 8785 JSON of additional-evidence, nonce, tee-pubkey) padded to
#   64 bytes, computed here (not by our code); version mismatch 400; unknown tee 400; wrong
#   nonce 403; replayed attestation 401; expired session 401; evidence bound to another
#   tee-pubkey 403; unsigned sample 403; sim without --allow-sim 403; path traversal and bad
#   segments 400; no auth 401; policy deny 403; unknown resource 404; the JWE (EC and RSA)
#   decrypts with python3-cryptography; the EAR verifies against /.well-known/jwks.json; a
#   tampered token is refused (401); the "tdx" evidence shape with a sim-tdx DCAP quote
#   (verified with the sim root and DIR/intel collateral); /healthz, /metrics;
# and with the guest `veritee-agent get-resource --kbs` (sim and sim-tdx; 403/404 with the
# broker's problem detail, exit 1); HTTPS with an ordinary certificate made here (python with
# the CA, the agent with --kbs-ca, refused without it); SIGTERM stops the KBS listener.
set -u
BIN=${VERITEE_BIN:-$(cd "$(dirname "$0")/../.." && pwd)/build/bin}
python3 -c 'import cryptography' 2>/dev/null || { echo "FAIL: python3-cryptography missing (apt-get install python3-cryptography)"; exit 1; }
T=$(mktemp -d /tmp/vt-kbs-proto.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
cd "$T" || exit 1
pass=0; fail=0
ok()  { pass=$((pass+1)); echo "ok: $*"; }
bad() { fail=$((fail+1)); echo "FAIL: $*"; }
"$BIN/veritee" sim init sim >/dev/null 2>&1 || { echo "FAIL: sim init"; exit 1; }
# an ordinary PKI: a CA, the broker's certificate for 127.0.0.1 (agents' attested TLS and KBS HTTPS)
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem \
  -days 30 -subj "/CN=kbs e2e CA" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout broker.key -out broker.csr \
  -subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1" 2>/dev/null
openssl x509 -req -in broker.csr -CA ca.pem -CAkey ca.key -CAcreateserial -copy_extensions copy \
  -out broker.pem -days 30 2>/dev/null || { echo "FAIL: openssl x509"; exit 1; }
"$BIN/veritee-broker" --gen-master-key mk 2>/dev/null
printf 'top secret value' > secret
printf '{"version":1,"rules":[{"name":"app","resources":["default/key/*"],"tee":["sim","tdx"]}]}' > pol.json
start() { # name store extra-args...  -> sets KPORT
  local n=$1 st=$2; shift 2
  "$BIN/veritee-broker" --listen 127.0.0.1:0 --store "$st" --master-key mk --admin-socket "$n.sock" \
     --cert broker.pem --key broker.key --root-ca sim/root-ca.pem --collateral sim/intel \
     --kbs-listen 127.0.0.1:0 "$@" 2>"$n.log" &
  PIDS+=($!)
  for _ in $(seq 100); do grep -q 'KBS listening on' "$n.log" && break; sleep 0.1; done
  KPORT=$(grep -o 'KBS listening on https\?://127.0.0.1:[0-9]*' "$n.log" | grep -o '[0-9]*$')
  [ -n "$KPORT" ] || { echo "FAIL: broker $n did not start"; cat "$n.log"; exit 1; }
}
start a a.db --allow-sim --kbs-session-lifetime 3
PA=$KPORT
start b b.db
PB=$KPORT
start c c.db --allow-sim --kbs-cert broker.pem --kbs-key broker.key --token-lifetime 60
PC=$KPORT
grep -q 'WARNING: the KBS front end speaks plain HTTP' a.log && ok "plain HTTP warned at startup" || bad "no plain HTTP warning"
grep -q 'WARNING: the KBS front end speaks plain HTTP' c.log && bad "HTTPS broker warns about plain HTTP" || ok "HTTPS broker: no plain HTTP warning"
for n in a c; do
  "$BIN/veritee" admin --socket "$n.sock" resource put default/key/one secret >/dev/null || { echo "FAIL: admin resource put"; exit 1; }
  "$BIN/veritee" admin --socket "$n.sock" policy set pol.json >/dev/null || { echo "FAIL: admin policy set"; exit 1; }
done

cat > t.py <<'EOF'
import base64, hashlib, http.client, json, os, ssl, subprocess, sys, time
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa, padding, utils
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.keywrap import aes_key_unwrap
from cryptography.hazmat.primitives.kdf.concatkdf import ConcatKDFHash
from cryptography.exceptions import InvalidSignature

BIN, PA, PB, PC = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])  # PC: HTTPS
passed = failed = 0
def check(what, cond, extra=""):
    global passed, failed
    if cond: passed += 1; print("ok:", what)
    else: failed += 1; print("FAIL:", what, extra)

def b64u(b): return base64.urlsafe_b64encode(b).rstrip(b"=").decode()
def ub64u(s): return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))

def req(port, method, path, body=None, cookie=None, bearer=None, cafile="ca.pem"):
    if port == PC:
        c = http.client.HTTPSConnection("127.0.0.1", port, timeout=30, context=ssl.create_default_context(cafile=cafile))
    else:
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

# -- the "tdx" evidence shape: a sim-tdx DCAP quote (sim root + DIR/intel collateral at the broker)
def tdx_quote(rd64):
    subprocess.run([BIN + "/veritee", "attest", "--tee", "sim-tdx", "--report-data", rd64.hex(),
                    "--sim-dir", "sim", "-o", "q.bin"], check=True)
    return base64.b64encode(open("q.bin", "rb").read()).decode()
s, jc, ckt, _, _ = auth(PA, tee="tdx")
kt, jwkt = ec_key()
r48, r64 = report_data(jc["nonce"], jwkt)
tq = tdx_quote(r64)
tb = {"runtime-data": {"nonce": jc["nonce"], "tee-pubkey": jwkt}, "tee-evidence": {"primary_evidence": {"quote": tq}, "additional_evidence": ""}}
s, jt, _, _, _ = req(PA, "POST", "/kbs/v0/attest", tb, cookie=ckt)
check("tdx shape: sim-tdx quote over python's report-data -> 200 token", s == 200 and "token" in jt, (s, jt))
if s == 200:
    tpay = json.loads(ub64u(jt["token"].split(".")[1]))
    ann = tpay["submods"]["cpu0"]["ear.veraison.annotated-evidence"]
    check("tdx EAR: annotated tee tdx, insecure (sim root), report_data", ann["tee"] == "tdx" and ann["insecure"] is True and ann["report_data"] == r64.hex(), ann.get("tee"))
    s, jw, _, _, _ = req(PA, "GET", "/kbs/v0/resource/default/key/one", cookie=ckt)
    check("tdx session: JWE decrypts", s == 200 and decrypt(jw, kt)[1] == b"top secret value", (s, jw))
s, jc, ckt2, _, _ = auth(PA, tee="tdx")
tb["runtime-data"]["nonce"] = jc["nonce"]
s, j2, _, _, _ = req(PA, "POST", "/kbs/v0/attest", tb, cookie=ckt2)
check("tdx quote made for another challenge -> 403 binding", s == 403 and j2["code"] == "VT_ERR_KBS_BINDING_MISMATCH", (s, j2))
s, jc, ckt3, _, _ = auth(PA, tee="sample")
r48, r64 = report_data(jc["nonce"], jwkt)
tb2 = {"runtime-data": {"nonce": jc["nonce"], "tee-pubkey": jwkt}, "tee-evidence": {"primary_evidence": {"svn": "1", "report_data": base64.b64encode(r48).decode(), "veritee_sim_evidence": tdx_quote(r64)}, "additional_evidence": ""}}
s, j2, _, _, _ = req(PA, "POST", "/kbs/v0/attest", tb2, cookie=ckt3)
check("tdx quote in a 'sample' session -> 403 TEE mismatch", s == 403 and j2["code"] == "VT_ERR_KBS_TEE_MISMATCH", (s, j2))

# -- additional (device) evidence: bound by the primary report-data digest, listed unverified
addev = json.dumps({"nvidia": {"evidence": "ZGV2aWNl", "certificate": "Y2VydA=="}}, separators=(",", ":"))
s, jc, cka, _, _ = auth(PA)
ka, jwka = ec_key()
r48, r64 = report_data(jc["nonce"], jwka, addev)
ab = attestation(jc["nonce"], jwka, r48, r64)
ab["tee-evidence"]["additional_evidence"] = addev
s, ja, _, _, _ = req(PA, "POST", "/kbs/v0/attest", ab, cookie=cka)
check("additional_evidence (nvidia) bound into report-data -> 200 token", s == 200 and "token" in ja, (s, ja))
if s == 200:
    ann = json.loads(ub64u(ja["token"].split(".")[1]))["submods"]["cpu0"]["ear.veraison.annotated-evidence"]
    sub = json.loads(ub64u(ja["token"].split(".")[1]))["submods"]
    check("EAR lists the device evidence as unverified, no device submod", ann.get("additional_evidence_unverified") == ["nvidia"] and list(sub) == ["cpu0"], (ann.get("additional_evidence_unverified"), list(sub)))
    s, jw, _, _, _ = req(PA, "GET", "/kbs/v0/resource/default/key/one", cookie=cka)
    check("session with additional evidence: JWE decrypts", s == 200 and decrypt(jw, ka)[1] == b"top secret value", s)
s, jc, cka, _, _ = auth(PA)
r48, r64 = report_data(jc["nonce"], jwka, addev)
ab = attestation(jc["nonce"], jwka, r48, r64)
ab["tee-evidence"]["additional_evidence"] = addev.replace("ZGV2aWNl", "b3RoZXI=")
s, ja, _, _, _ = req(PA, "POST", "/kbs/v0/attest", ab, cookie=cka)
check("additional_evidence altered after the report was made -> 403 binding", s == 403 and ja["code"] == "VT_ERR_KBS_BINDING_MISMATCH", (s, ja))
s, jc, cka, _, _ = auth(PA)
r48, r64 = report_data(jc["nonce"], jwka, "not json")
ab = attestation(jc["nonce"], jwka, r48, r64)
ab["tee-evidence"]["additional_evidence"] = "not json"
s, ja, _, _, _ = req(PA, "POST", "/kbs/v0/attest", ab, cookie=cka)
check("additional_evidence that is not a JSON object -> 400", s == 400 and ja["code"] == "VT_ERR_KBS_BAD_JSON", (s, ja))

# -- HTTPS (ordinary certificate issued by ca.pem)
s, jc, ckh, _, _ = auth(PC)
kh, jwkh = ec_key()
r48, r64 = report_data(jc["nonce"], jwkh)
s, jt, _, _, _ = req(PC, "POST", "/kbs/v0/attest", attestation(jc["nonce"], jwkh, r48, r64), cookie=ckh)
s2, jw, _, _, _ = req(PC, "GET", "/kbs/v0/resource/default/key/one", cookie=ckh)
check("HTTPS: full protocol, JWE decrypts", s == 200 and s2 == 200 and decrypt(jw, kh)[1] == b"top secret value", (s, s2))
if s == 200:
    tpay = json.loads(ub64u(jt["token"].split(".")[1]))
    check("--token-lifetime 60 -> exp = iat + 60", tpay["exp"] - tpay["iat"] == 60, tpay["exp"] - tpay["iat"])
try:
    req(PC, "GET", "/healthz", cafile=None)
    check("HTTPS without the CA is refused by the client", False)
except ssl.SSLCertVerificationError:
    check("HTTPS without the CA is refused by the client", True)

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
python3 t.py "$BIN" "$PA" "$PB" "$PC"
[ $? = 0 ] && ok "python conformance client (above)" || bad "python conformance client (above)"
grep -q "INSECURE" a.log && ok "sim releases logged as INSECURE" || bad "sim releases not logged as INSECURE"

# ---- the guest: veritee-agent get-resource --kbs ----------------------------------------------
agent() { "$BIN/veritee-agent" get-resource "$@"; }
out=$(agent --kbs "http://127.0.0.1:$PA" --tee sim --sim-dir sim default/key/one 2>err); rc=$?
[ $rc = 0 ] && [ "$out" = "top secret value" ] && ok "agent --kbs (sim): released to stdout" || bad "agent sim: rc=$rc $(cat err)"
grep -q 'plain HTTP' err && ok "agent warns about plain HTTP" || bad "agent: no plain HTTP warning"
out=$(agent --kbs "http://127.0.0.1:$PA/" --tee sim-tdx --sim-dir sim default/key/one 2>err); rc=$?
[ $rc = 0 ] && [ "$out" = "top secret value" ] && ok "agent --kbs (sim-tdx, tdx shape): released" || bad "agent sim-tdx: rc=$rc $(cat err)"
agent --kbs "http://127.0.0.1:$PA" --tee sim --sim-dir sim -o /dev/shm/vt-kbs-e2e.$$ default/key/one 2>err; rc=$?
[ $rc = 0 ] && [ "$(cat /dev/shm/vt-kbs-e2e.$$)" = "top secret value" ] && [ "$(stat -c %a /dev/shm/vt-kbs-e2e.$$)" = 600 ] \
  && ok "agent --kbs -o on tmpfs (0600)" || bad "agent -o tmpfs: rc=$rc $(cat err)"
rm -f /dev/shm/vt-kbs-e2e.$$
agent --kbs "http://127.0.0.1:$PA" --tee sim --sim-dir sim -o "$T/disk.out" default/key/one 2>err; rc=$?
[ $rc = 1 ] && [ ! -e "$T/disk.out" ] && grep -q 'memory file system' err && ok "agent --kbs refuses a persistent disk (exit 1)" || bad "agent disk: rc=$rc"
agent --kbs "http://127.0.0.1:$PA" --tee sim --sim-dir sim default/key/nope >/dev/null 2>err; rc=$?
[ $rc = 1 ] && grep -q 'HTTP 404: unknown resource' err && ok "agent: unknown resource -> exit 1 with the broker's detail" || bad "agent 404: rc=$rc $(cat err)"
agent --kbs "http://127.0.0.1:$PA" --tee sim --sim-dir sim other/key/one >/dev/null 2>err; rc=$?
[ $rc = 1 ] && grep -q 'HTTP 403: denied by policy: no rule grants other/key/one' err && ok "agent: policy deny -> exit 1 with the policy's reason" || bad "agent 403: rc=$rc $(cat err)"
agent --kbs "http://127.0.0.1:$PB" --tee sim --sim-dir sim default/key/one >/dev/null 2>err; rc=$?
[ $rc = 1 ] && grep -q 'HTTP 403: sim evidence refused' err && ok "agent: sim without --allow-sim -> exit 1, 403" || bad "agent sim refused: rc=$rc $(cat err)"
agent --kbs "ftp://127.0.0.1:$PA" --tee sim --sim-dir sim default/key/one >/dev/null 2>&1; rc=$?
[ $rc = 2 ] && ok "agent: bad --kbs URL -> exit 2" || bad "agent bad URL: rc=$rc"
agent --kbs "http://127.0.0.1:$PA" --broker 127.0.0.1:1 --tee sim default/key/one >/dev/null 2>&1; rc=$?
[ $rc = 2 ] && ok "agent: --kbs with --broker -> exit 2" || bad "agent --kbs --broker: rc=$rc"
agent --kbs "http://127.0.0.1:$PA" --tee sim --sim-dir sim ../key/one >/dev/null 2>&1; rc=$?
[ $rc = 2 ] && ok "agent: bad PATH -> exit 2" || bad "agent bad path: rc=$rc"
# HTTPS
out=$(agent --kbs "https://127.0.0.1:$PC" --kbs-ca ca.pem --tee sim-tdx --sim-dir sim default/key/one 2>err); rc=$?
[ $rc = 0 ] && [ "$out" = "top secret value" ] && ! grep -q 'plain HTTP' err && ok "agent --kbs https:// --kbs-ca (sim-tdx): released" || bad "agent https: rc=$rc $(cat err)"
agent --kbs "https://127.0.0.1:$PC" --tee sim --sim-dir sim default/key/one >/dev/null 2>err; rc=$?
[ $rc = 1 ] && ok "agent https without --kbs-ca: certificate refused (exit 1)" || bad "agent https no CA: rc=$rc"
agent --kbs "https://127.0.0.1:$PC" --kbs-ca sim/root-ca.pem --tee sim --sim-dir sim default/key/one >/dev/null 2>err; rc=$?
[ $rc = 1 ] && ok "agent https with another CA: refused (exit 1)" || bad "agent https wrong CA: rc=$rc"

# ---- SIGTERM stops the broker and its KBS listener -------------------------------------------
kill "${PIDS[0]}"; wait "${PIDS[0]}"; rc=$?
[ $rc = 0 ] && grep -q 'stopped' a.log && ok "SIGTERM: broker stopped cleanly" || bad "SIGTERM rc=$rc"
curl -s -o /dev/null --max-time 3 "http://127.0.0.1:$PA/healthz" && bad "KBS port still answers after SIGTERM" || ok "KBS port closed after SIGTERM"
echo "$pass passed, $fail failed"
[ $fail = 0 ]
