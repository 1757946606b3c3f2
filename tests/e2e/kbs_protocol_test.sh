#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# KBS protocol v0.4.0 conformance against veritee-broker --kbs-listen (SQLite store, provisioned
# through `veritee admin`), driven by an independent client written here in python3 (json,
# hashlib, http.client; JWE decryption and EAR verification with the standard JOSE
# implementation python3-jwcrypto and again with python3-cryptography primitives):
#   report-data = SHA-384(RFC 8785 JSON of additional-evidence, nonce, tee-pubkey) padded to
#   64 bytes, computed here (not by our code); version mismatch 400; unknown tee 400; wrong
#   nonce 403; replayed attestation 401; expired session 401; evidence bound to another
#   tee-pubkey 403; unsigned sample 403; sim without --allow-sim 403; path traversal and bad
#   segments 400; no auth 401; policy deny 403; unknown resource 404; the JWE (EC and RSA)
#   decrypts with jwcrypto (JWE, JWK) and python3-cryptography; the EAR verifies with
#   jwcrypto's JWT against the JWKSet of /.well-known/jwks.json; a tampered token is refused
#   (401, and by jwcrypto); the "tdx" evidence shape with a sim-tdx DCAP quote (verified with
#   the sim root and DIR/intel collateral); the "snp" guest-components shape (sev crate serde
#   JSON converted here from a sim-snp report; brokers with DIR/snp collateral and with none,
#   certificates from cert_chain; a changed field 403, malformed shapes 400); /healthz, /metrics;
# and with the guest `veritee-agent get-resource --kbs` (sim and sim-tdx; 403/404 with the
# broker's problem detail, exit 1; a debug sim-tdx guest refused unless the rule says
# "debug": true); HTTPS with an ordinary certificate made here (python with
# the CA, the agent with --kbs-ca, refused without it); SIGTERM stops the KBS listener.
set -u
BIN=${VERITEE_BIN:-$(cd "$(dirname "$0")/../.." && pwd)/build/bin}
python3 -c 'import cryptography' 2>/dev/null || { echo "FAIL: python3-cryptography missing (apt-get install python3-cryptography)"; exit 1; }
python3 -c 'import jwcrypto' 2>/dev/null || { echo "FAIL: python3-jwcrypto missing (apt-get install python3-jwcrypto)"; exit 1; }
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
     --cert broker.pem --key broker.key --root-ca sim/root-ca.pem --collateral "${COLL:-sim/intel}" \
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
# SNP (the guest-components serde shape): d has the sim AMD certificates as collateral, e has
# none (the certificates can only come from the evidence's cert_chain)
mkdir -p nocerts
COLL=sim/snp start d d.db --allow-sim
PD=$KPORT
COLL=nocerts start e e.db --allow-sim
PE=$KPORT
printf '{"version":1,"rules":[{"name":"app","resources":["default/key/*"],"tee":["snp"]}]}' > pol-snp.json
for n in d e; do
  "$BIN/veritee" admin --socket "$n.sock" resource put default/key/one secret >/dev/null || { echo "FAIL: admin resource put"; exit 1; }
  "$BIN/veritee" admin --socket "$n.sock" policy set pol-snp.json >/dev/null || { echo "FAIL: admin policy set"; exit 1; }
done
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
from cryptography import x509
from jwcrypto import jwe as jjwe, jwk as jjwk, jwt as jjwt
from jwcrypto.common import JWException

BIN, PA, PB, PC = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])  # PC: HTTPS
PD, PE = int(sys.argv[5]), int(sys.argv[6])  # snp: d with sim/snp collateral, e without any
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

def jdecrypt(jwe, priv):  # a standard JOSE implementation: jwcrypto (flattened JSON serialization)
    o = jjwe.JWE()
    o.allowed_algs = ["ECDH-ES+A256KW", "RSA-OAEP-256", "A256GCM"]
    o.deserialize(json.dumps(jwe), key=jjwk.JWK.from_pyca(priv))
    return o.jose_header, o.payload

s, jw, _, _, _ = req(PA, "GET", "/kbs/v0/resource/default/key/one", cookie=ck)
ok = s == 200 and list(jw.keys()) == ["protected", "encrypted_key", "iv", "ciphertext", "tag"]
check("resource with cookie -> flattened JWE", ok, (s, jw))
if ok:
    hdr, pt = decrypt(jw, key)
    check("JWE (ECDH-ES+A256KW, A256GCM) decrypts with python3-cryptography", pt == b"top secret value", pt)
    jh, jpt = jdecrypt(jw, key)
    check("JWE (ECDH-ES+A256KW, A256GCM) decrypts with jwcrypto", jpt == b"top secret value" and jh["alg"] == "ECDH-ES+A256KW" and jh["enc"] == "A256GCM", (jh, jpt))
    tj = dict(jw); tj["ciphertext"] = b64u(bytes([ub64u(jw["ciphertext"])[0] ^ 1]) + ub64u(jw["ciphertext"])[1:])
    try:
        jdecrypt(tj, key); check("jwcrypto refuses a JWE with an altered ciphertext", False)
    except JWException:
        check("jwcrypto refuses a JWE with an altered ciphertext", True)
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
    jh, jpt = jdecrypt(jw, rk)
    check("JWE (RSA-OAEP-256, A256GCM) decrypts with jwcrypto", jh == {"alg": "RSA-OAEP-256", "enc": "A256GCM"} and jpt == b"top secret value", (jh, jpt))
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

# -- additional (device) evidence: bound by the primary report-data digest; nvidia entries are
#    verified (a failed device is a contraindicated submod; the CPU-only rule still grants)
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
    g0 = sub.get("gpu0", {})
    check("EAR: malformed nvidia device evidence is a contraindicated gpu0 submod (verified by the nvidia verifier, failed)", "additional_evidence_unverified" not in ann and list(sub) == ["cpu0", "gpu0"] and g0.get("ear.status") == "contraindicated" and g0["ear.veraison.annotated-evidence"]["verified"] is False, (ann.get("additional_evidence_unverified"), list(sub), g0))
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

# -- "snp" in the guest-components shape: serde JSON of the sev crate's AttestationReport
# (6.x) and Option<Vec<CertTableEntry>>, converted here from the raw report with this table
# (FORMATS.md section 4 offsets; crate field names and order)
SNP_FIELDS = [("version", "u32", 0x000), ("guest_svn", "u32", 0x004), ("policy", "u64", 0x008),
    ("family_id", 16, 0x010), ("image_id", 16, 0x020), ("vmpl", "u32", 0x030), ("sig_algo", "u32", 0x034),
    ("current_tcb", "tcb", 0x038), ("plat_info", "u64", 0x040), ("key_info", "u32", 0x048),
    ("report_data", 64, 0x050), ("measurement", 48, 0x090), ("host_data", 32, 0x0C0),
    ("id_key_digest", 48, 0x0E0), ("author_key_digest", 48, 0x110), ("report_id", 32, 0x140),
    ("report_id_ma", 32, 0x160), ("reported_tcb", "tcb", 0x180), ("cpuid_fam_id", "o8", 0x188),
    ("cpuid_mod_id", "o8", 0x189), ("cpuid_step", "o8", 0x18A), ("chip_id", 64, 0x1A0),
    ("committed_tcb", "tcb", 0x1E0), ("current", "ver", 0x1E8), ("committed", "ver", 0x1EC),
    ("launch_tcb", "tcb", 0x1F0), ("launch_mit_vector", "o64", 0x1F8), ("current_mit_vector", "o64", 0x200),
    ("signature", "sig", 0x2A0)]
def snp_serde(r):
    assert len(r) == 1184
    le = lambda o, n: int.from_bytes(r[o:o + n], "little")
    v = le(0, 4)
    turin = (r[0x188] == 0x1A) if v >= 3 else (any(r[0x1A0:0x1A8]) and not any(r[0x1A8:0x1E0]))
    out = {}
    for name, kind, o in SNP_FIELDS:
        if isinstance(kind, int): out[name] = list(r[o:o + kind])
        elif kind == "u32": out[name] = le(o, 4)
        elif kind == "u64": out[name] = le(o, 8)
        elif kind == "o8": out[name] = r[o] if v >= 3 else None
        elif kind == "o64": out[name] = le(o, 8) if v >= 5 else None
        elif kind == "ver": out[name] = {"major": r[o + 2], "minor": r[o + 1], "build": r[o]}
        elif kind == "sig": out[name] = {"r": list(r[o:o + 72]), "s": list(r[o + 72:o + 144])}
        elif turin: out[name] = {"fmc": r[o], "bootloader": r[o + 1], "tee": r[o + 2], "snp": r[o + 3], "microcode": r[o + 7]}
        else: out[name] = {"fmc": None, "bootloader": r[o], "tee": r[o + 1], "snp": r[o + 6], "microcode": r[o + 7]}
    return out
def der(path):
    b = open(path, "rb").read()
    return x509.load_pem_x509_certificate(b).public_bytes(serialization.Encoding.DER) if b.startswith(b"-----") else b
SNP_CHAIN = [{"cert_type": "VCEK", "data": list(der("sim/snp/vcek.der"))},
             {"cert_type": "ASK", "data": list(der("sim/snp/ask.pem"))},
             {"cert_type": "ARK", "data": list(der("sim/snp/ark.pem"))}]
def snp_attest(port, chain=None, mutate=None):
    s, jc, cks, _, _ = auth(port, tee="snp")
    kk, jwkk = ec_key()
    r48, r64 = report_data(jc["nonce"], jwkk)
    subprocess.run([BIN + "/veritee", "attest", "--tee", "sim-snp", "--sim-dir", "sim", "--report-data", r64.hex(), "-o", "r.bin"], check=True)
    raw = open("r.bin", "rb").read()
    pe = {"attestation_report": snp_serde(raw), "cert_chain": chain}
    if mutate: mutate(pe)
    b = {"runtime-data": {"nonce": jc["nonce"], "tee-pubkey": jwkk}, "tee-evidence": {"primary_evidence": pe, "additional_evidence": ""}}
    s, jt, _, _, _ = req(port, "POST", "/kbs/v0/attest", b, cookie=cks)
    return s, jt, cks, kk, raw, r64
s, jt, cks, kk, raw, r64 = snp_attest(PD)
check("snp serde shape (cert_chain null, collateral sim/snp) -> 200 token", s == 200 and "token" in jt, (s, jt))
if s == 200:
    ann = json.loads(ub64u(jt["token"].split(".")[1]))["submods"]["cpu0"]["ear.veraison.annotated-evidence"]
    check("snp EAR: annotated tee snp, report_data, measurement from the rebuilt report", ann["tee"] == "snp" and ann["report_data"] == r64.hex() and raw[0x90:0xC0].hex() in json.dumps(ann), ann)
    s, jw, _, _, _ = req(PD, "GET", "/kbs/v0/resource/default/key/one", cookie=cks)
    check("snp session: resource released, JWE decrypts with jwcrypto", s == 200 and jdecrypt(jw, kk)[1] == b"top secret value", (s, jw))
s, jt, cks, kk, _, _ = snp_attest(PE)
check("snp without certificates (no collateral, cert_chain null) -> 403", s == 403 and jt["code"] == "VT_ERR_KBS_EVIDENCE", (s, jt))
s, jt, cks, kk, _, _ = snp_attest(PE, chain=SNP_CHAIN)
check("snp with cert_chain [VCEK, ASK, ARK] as the only certificates -> 200 token", s == 200 and "token" in jt, (s, jt))
if s == 200:
    s, jw, _, _, _ = req(PE, "GET", "/kbs/v0/resource/default/key/one", cookie=cks)
    check("snp (cert_chain) session: resource released", s == 200 and jdecrypt(jw, kk)[1] == b"top secret value", s)
def m_meas(pe): pe["attestation_report"]["measurement"][0] ^= 1
def m_chip(pe): pe["attestation_report"]["chip_id"][5] ^= 0x80
def m_svn(pe): pe["attestation_report"]["guest_svn"] += 1
for what, m in (("measurement", m_meas), ("chip_id", m_chip), ("guest_svn", m_svn)):
    s, jt, _, _, _, _ = snp_attest(PD, mutate=m)
    check("snp serde: %s changed -> 403 (signature)" % what, s == 403 and jt["code"] == "VT_ERR_KBS_EVIDENCE", (s, jt))
s, jt, _, _, _, _ = snp_attest(PE, chain=SNP_CHAIN, mutate=m_meas)
check("snp serde with cert_chain: measurement changed -> 403", s == 403 and jt["code"] == "VT_ERR_KBS_EVIDENCE", (s, jt))
def m_bind(pe): pe["attestation_report"]["report_data"][0] ^= 1
s, jt, _, _, _, _ = snp_attest(PD, mutate=m_bind)
check("snp serde: report_data changed -> 403", s == 403, (s, jt))
bad_shapes = [
    ("missing field (measurement)", lambda pe: pe["attestation_report"].pop("measurement")),
    ("missing cert_chain", lambda pe: pe.pop("cert_chain")),
    ("unknown field", lambda pe: pe["attestation_report"].__setitem__("extra", 1)),
    ("measurement of 47 bytes", lambda pe: pe["attestation_report"]["measurement"].pop()),
    ("report_data of 65 bytes", lambda pe: pe["attestation_report"]["report_data"].append(0)),
    ("byte value 256", lambda pe: pe["attestation_report"]["host_data"].__setitem__(0, 256)),
    ("negative vmpl", lambda pe: pe["attestation_report"].__setitem__("vmpl", -1)),
    ("vmpl 2^32", lambda pe: pe["attestation_report"].__setitem__("vmpl", 1 << 32)),
    ("version as a string", lambda pe: pe["attestation_report"].__setitem__("version", "3")),
    ("version 6", lambda pe: pe["attestation_report"].__setitem__("version", 6)),
    ("cpuid null in a v3 report", lambda pe: pe["attestation_report"].__setitem__("cpuid_step", None)),
    ("mit vector in a v3 report", lambda pe: pe["attestation_report"].__setitem__("launch_mit_vector", 0)),
    ("Turin fmc in a Milan report", lambda pe: pe["attestation_report"]["reported_tcb"].__setitem__("fmc", 1)),
    ("tcb without microcode", lambda pe: pe["attestation_report"]["launch_tcb"].pop("microcode")),
    ("signature.r of 48 bytes", lambda pe: pe["attestation_report"]["signature"].__setitem__("r", pe["attestation_report"]["signature"]["r"][:48])),
    ("signature with an extra key", lambda pe: pe["attestation_report"]["signature"].__setitem__("reserved", [])),
    ("current version without build", lambda pe: pe["attestation_report"]["current"].pop("build")),
    ("cert_chain not an array", lambda pe: pe.__setitem__("cert_chain", {})),
    ("cert_chain unknown cert_type", lambda pe: pe.__setitem__("cert_chain", [{"cert_type": "XYZ", "data": []}])),
    ("cert_chain data byte 300", lambda pe: pe.__setitem__("cert_chain", [{"cert_type": "VCEK", "data": [300]}])),
]
for what, m in bad_shapes:
    s, jt, _, _, _, _ = snp_attest(PD, mutate=m)
    check("snp serde: %s -> 400" % what, s == 400 and jt["code"] == "VT_ERR_KBS_BAD_JSON", (s, jt))
s, jt, _, _, _, _ = snp_attest(PD, chain=[{"cert_type": "CRL", "data": [1, 2]}, {"cert_type": {"OTHER": "0f2b5b0a-0000-4000-8000-000000000001"}, "data": []}] + SNP_CHAIN)
check("snp serde: CRL and OTHER entries skipped -> 200", s == 200, (s, jt))

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
_, _, _, _, jwks_raw = req(PA, "GET", "/.well-known/jwks.json")
jks = jjwk.JWKSet.from_json(jwks_raw)
try:
    jt_ok = json.loads(jjwt.JWT(jwt=token, key=jks, algs=["ES256"]).claims) == pay
except JWException as e:
    jt_ok = repr(e)
check("EAR verifies with jwcrypto (JWT, key = JWKSet from /.well-known/jwks.json)", jt_ok is True, jt_ok)
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
for what, t in (("altered claims", bad), ("altered signature", token[:-3] + ("A" if token[-3] != "A" else "B") + token[-2:])):
    try:
        jjwt.JWT(jwt=t, key=jks, algs=["ES256"]); check("jwcrypto refuses a token with %s" % what, False)
    except JWException:
        check("jwcrypto refuses a token with %s" % what, True)
flip = token[:-3] + ("A" if token[-3] != "A" else "B") + token[-2:]
s, j2, _, _, _ = req(PA, "GET", "/kbs/v0/resource/default/key/one", bearer=flip)
check("token with altered signature -> 401", s == 401, (s, j2))
s, j2, _, _, _ = req(PA, "GET", "/kbs/v0/resource/default/key/one")
check("no cookie, no token -> 401", s == 401 and j2["code"] == "VT_ERR_KBS_NO_AUTH", (s, j2))
_, _, ckn, _, _ = auth(PA)  # fresh: broker a's sessions last 3 s
s, j2, _, _, _ = req(PA, "GET", "/kbs/v0/resource/default/key/one", cookie=ckn)
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
python3 t.py "$BIN" "$PA" "$PB" "$PC" "$PD" "$PE"
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

# debug TEEs (issue 18.2): a sim-tdx guest with the TD DEBUG attribute is refused by a rule
# without "debug": true, released once the rule says it
agent --kbs "http://127.0.0.1:$PA" --tee sim-tdx --sim-dir sim --option sim.debug=1 default/key/one >/dev/null 2>err; rc=$?
[ $rc = 1 ] && grep -q 'HTTP 403: denied by policy: debug TEE refused: rule app does not allow debug' err \
  && ok "agent --kbs sim-tdx sim.debug=1: refused by default (403, reason)" || bad "agent debug default: rc=$rc $(cat err)"
printf '{"version":1,"rules":[{"name":"app","resources":["default/key/*"],"tee":["sim","tdx"],"debug":true}]}' > pol-dbg.json
"$BIN/veritee" admin --socket a.sock policy set pol-dbg.json >/dev/null || bad "admin policy set (debug)"
out=$(agent --kbs "http://127.0.0.1:$PA" --tee sim-tdx --sim-dir sim --option sim.debug=1 default/key/one 2>err); rc=$?
[ $rc = 0 ] && [ "$out" = "top secret value" ] && ok "agent --kbs sim-tdx sim.debug=1: released under \"debug\": true" || bad "agent debug allowed: rc=$rc $(cat err)"
"$BIN/veritee" admin --socket a.sock policy set pol.json >/dev/null || bad "admin policy set (restore)"

# ---- SIGTERM stops the broker and its KBS listener -------------------------------------------
kill "${PIDS[0]}"; wait "${PIDS[0]}"; rc=$?
[ $rc = 0 ] && grep -q 'stopped' a.log && ok "SIGTERM: broker stopped cleanly" || bad "SIGTERM rc=$rc"
curl -s -o /dev/null --max-time 3 "http://127.0.0.1:$PA/healthz" && bad "KBS port still answers after SIGTERM" || ok "KBS port closed after SIGTERM"
echo "$pass passed, $fail failed"
[ $fail = 0 ]
