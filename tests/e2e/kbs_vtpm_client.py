# SPDX-License-Identifier: Apache-2.0
"""kbs_vtpm_client.py - the independent KBS client of kbs_tpm_test.sh and kbs_azure_test.sh
(imported by their python steps; kbs_vtpm_lib.sh puts it on the path): one EC P-256 tee key,
the runtime-data digest SHA-384(RFC 8785 {additional-evidence, nonce, tee-pubkey}), /auth,
/attest and /resource over HTTP, the EAR's annotated evidence, the resource JWE decrypted
(ECDH-ES+A256KW, A256GCM), and init-data as a Confidential Containers guest binds it on a
TPM: PCR 8 of the SHA-256 bank extended once with SHA-256(TOML body) (tpm2_pcrextend), so
that the KBS expects PCR 8 = SHA-256(32 zero bytes || digest).
check() prints "ok: ..." or "FAIL: ..."; failures() counts the latter."""
import base64
import hashlib
import http.client
import json
import subprocess

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.concatkdf import ConcatKDFHash
from cryptography.hazmat.primitives.keywrap import aes_key_unwrap

_fails = 0


def check(what, cond, info=""):
    global _fails
    print(("ok: " if cond else "FAIL: ") + what + ("" if cond else " " + str(info)), flush=True)
    _fails += 0 if cond else 1


def failures():
    return _fails


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def ub64u(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def jcs(o):  # RFC 8785 for these inputs (strings and objects, ASCII keys)
    return json.dumps(o, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


class Kbs:
    """One tee key and the KBS on 127.0.0.1:port for tee."""

    def __init__(self, port, tee):
        self.port, self.tee = port, tee
        self.key = ec.generate_private_key(ec.SECP256R1())
        n = self.key.public_key().public_numbers()
        self.jwk = {"kty": "EC", "crv": "P-256", "alg": "ECDH-ES+A256KW",
                    "x": b64u(n.x.to_bytes(32, "big")), "y": b64u(n.y.to_bytes(32, "big"))}

    def req(self, method, path, body=None, cookie=None):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        h = {"Content-Type": "application/json"}
        if cookie:
            h["Cookie"] = "kbs-session-id=" + cookie
        c.request(method, path, body=json.dumps(body) if body is not None else None, headers=h)
        r = c.getresponse()
        data = r.read()
        sc = r.getheader("Set-Cookie") or ""
        ck = sc.split(";")[0].split("=", 1)[1] if sc.startswith("kbs-session-id=") else None
        try:
            j = json.loads(data)
        except ValueError:
            j = None
        return r.status, j, ck

    def digest(self, nonce):
        return hashlib.sha384(jcs({"additional-evidence": "", "nonce": nonce,
                                   "tee-pubkey": self.jwk})).digest()

    def session(self):
        s, j, ck = self.req("POST", "/kbs/v0/auth", {"version": "0.4.0", "tee": self.tee,
                                                      "extra-params": ""})
        check("auth %s -> 200" % self.tee, s == 200 and ck and j and "nonce" in j, (s, j))
        return j["nonce"], ck

    def attest(self, nonce, ck, ev, init=None):
        b = {"runtime-data": {"nonce": nonce, "tee-pubkey": self.jwk},
             "tee-evidence": {"primary_evidence": ev, "additional_evidence": ""}}
        if init:
            b["init-data"] = init
        return self.req("POST", "/kbs/v0/attest", b, ck)

    def resource(self, ck, path):
        """GET the resource with the session cookie: (status, plaintext or the problem)."""
        s, jwe, _ = self.req("GET", "/kbs/v0/resource/" + path, cookie=ck)
        if s != 200 or not jwe:
            return s, jwe
        hdr = json.loads(ub64u(jwe["protected"]))
        e = hdr["epk"]
        epk = ec.EllipticCurvePublicNumbers(int.from_bytes(ub64u(e["x"]), "big"),
                                            int.from_bytes(ub64u(e["y"]), "big"),
                                            ec.SECP256R1()).public_key()
        alg = hdr["alg"].encode()
        info = len(alg).to_bytes(4, "big") + alg + bytes(8) + (256).to_bytes(4, "big")
        kek = ConcatKDFHash(algorithm=hashes.SHA256(), length=32,
                            otherinfo=info).derive(self.key.exchange(ec.ECDH(), epk))
        cek = aes_key_unwrap(kek, ub64u(jwe["encrypted_key"]))
        return s, AESGCM(cek).decrypt(ub64u(jwe["iv"]), ub64u(jwe["ciphertext"]) +
                                      ub64u(jwe["tag"]), jwe["protected"].encode())


def attest_evidence(vbin, tee, opts, rd):
    """`veritee attest --tee tee opts` with rd zero-padded to 64 bytes as the report data."""
    subprocess.run([vbin, "attest", "--tee", tee, *opts, "--report-data",
                    (rd + bytes(64 - len(rd))).hex(), "-o", "ev.json"], check=True,
                   stdout=subprocess.DEVNULL)
    with open("ev.json") as f:
        return json.load(f)


def claims(tok):
    p = tok.split(".")[1]
    return json.loads(ub64u(p))["submods"]["cpu0"]["ear.veraison.annotated-evidence"]


def init_data(body):
    return {"format": "toml", "body": body}


def initdata_body(tag, alg="sha256"):
    return ('version = "0.1.0"\nalgorithm = "%s"\n\n[data]\n"policy.rego" = \'\'\'\n'
            'package agent_policy\n# %s\ndefault AllowRequestsFailingPolicy := true\n\'\'\'\n'
            % (alg, tag))


def pcr8_extend(tcti, body):
    """The guest's binding: PCR 8 (SHA-256 bank) extended with SHA-256(body)."""
    d = hashlib.sha256(body.encode()).hexdigest()
    subprocess.run(["tpm2_pcrextend", "-T", tcti, "8:sha256=" + d], check=True,
                   stdout=subprocess.DEVNULL)
    return d


def initdata_checks(k, evidence, tcti, resource):
    """init-data on a PCR 8 tee: evidence(rd) makes evidence bound to rd on the TPM at tcti
    (PCR 8 zero at first); resource is a path the policy releases to this tee."""
    code = lambda j: (j or {}).get("code")
    body = initdata_body("the workload's")
    n, ck = k.session()
    s, j, _ = k.attest(n, ck, evidence(k.digest(n)), init_data(body))
    check("init-data (sha256), PCR 8 not extended -> 403 VT_ERR_KBS_INIT_DATA_PCR8",
          s == 403 and code(j) == "VT_ERR_KBS_INIT_DATA_PCR8", (s, j))
    n, ck = k.session()
    s, j, _ = k.attest(n, ck, evidence(k.digest(n)), init_data(initdata_body("x", "sha384")))
    check("init-data algorithm sha384 -> 403 VT_ERR_KBS_INIT_DATA_ALG",
          s == 403 and code(j) == "VT_ERR_KBS_INIT_DATA_ALG", (s, j))
    d = pcr8_extend(tcti, body)
    n, ck = k.session()
    s, j, _ = k.attest(n, ck, evidence(k.digest(n)), init_data(body))
    check("init-data bound in PCR 8 -> 200 token", s == 200 and "token" in (j or {}), (s, j))
    if s == 200:
        a = claims(j["token"])
        pcr8 = hashlib.sha256(bytes(32) + bytes.fromhex(d)).hexdigest()
        check("token: init_data = SHA-256 of the body, pcr.8 = SHA-256(0^32 || it)",
              a.get("init_data") == d and a.get(k.tee, {}).get("pcr.8") == pcr8,
              (a.get("init_data"), d))
        s, pt = k.resource(ck, resource)
        check("init-data bound: resource released", s == 200 and pt == b"top secret value",
              (s, pt))
    n, ck = k.session()
    s, j, _ = k.attest(n, ck, evidence(k.digest(n)), init_data(initdata_body("another")))
    check("other init-data than PCR 8 binds -> 403 VT_ERR_KBS_INIT_DATA_PCR8",
          s == 403 and code(j) == "VT_ERR_KBS_INIT_DATA_PCR8" and
          "not bound in PCR 8" in (j or {}).get("detail", ""), (s, j))
