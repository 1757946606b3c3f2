#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Hand-made seed inputs for the libFuzzer corpora (see docs/fuzzing.md).

Writes small crafted files named seed-* into the committed corpus directories: shapes the
existing seeds lack and that a fuzzer cannot invent (v5 quotes, bare TCB Info / QE Identity
bodies, certificates with other RA-TLS extensions, oversize / deeply nested requests, ...).
Inputs come from the existing corpora and from small synthetic data; two CRLs are read from
the real test data ($VERITEE_TESTDATA, default ../shared/testdata) at run time and embedded
(hex) in collateral seeds. Re-running rewrites the same files (certificates get new
signatures, RSA keys are new), so existing seed files are kept unless --force. Needs
python3 with the cryptography package.

    scripts/fuzz-seeds.py            write the seeds that are missing
    scripts/fuzz-seeds.py --force    rewrite every seed
"""
import base64
import hashlib
import json
import os
import struct
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
TESTDATA = os.environ.get("VERITEE_TESTDATA", os.path.join(ROOT, "..", "shared", "testdata"))


def corpus(name):
    """The committed corpus directory of a target (tests/fuzz/corpus first)."""
    d = os.path.join(ROOT, "tests", "fuzz", "corpus", name)
    if os.path.isdir(d):
        return d
    for sub in sorted(os.listdir(os.path.join(ROOT, "src"))):
        c = os.path.join(ROOT, "src", sub, "fuzz", "corpus", name)
        if os.path.isdir(c):
            return c
    os.makedirs(d)
    return d


def read(name, fname):
    with open(os.path.join(corpus(name), fname), "rb") as f:
        return f.read()


FORCE = "--force" in sys.argv


def write(name, fname, data):
    path = os.path.join(corpus(name), "seed-" + fname)
    if os.path.exists(path) and not FORCE:
        return
    if isinstance(data, str):
        data = data.encode()
    with open(path, "wb") as f:
        f.write(data)


def testdata(rel):
    with open(os.path.join(TESTDATA, rel), "rb") as f:
        return f.read()


# ---- Intel quotes: v5 from the v3/v4 seeds --------------------------------------------------

def quote_v5(q, body_type, body_len, extra=b""):
    """v4 (TDX) quote -> v5 with a body descriptor; extra bytes extend the body (TD 1.5)."""
    hdr = bytearray(q[:48])
    hdr[0:2] = struct.pack("<H", 5)
    return bytes(hdr) + struct.pack("<HI", body_type, body_len) + q[48:48 + 584] + extra + q[48 + 584:]


def sgx_v3_to_v5(q):
    """v3 SGX quote -> v5 SGX: body descriptor, and the signature data in the type-6 wrapper."""
    hdr = bytearray(q[:48])
    hdr[0:2] = struct.pack("<H", 5)
    body = q[48:48 + 384]
    (slen,) = struct.unpack_from("<I", q, 432)
    sig = q[436:436 + slen]
    inner = sig[128:]
    sd = sig[:128] + struct.pack("<HI", 6, len(inner)) + inner
    return bytes(hdr) + struct.pack("<HI", 1, 384) + body + struct.pack("<I", len(sd)) + sd + q[436 + slen:]


def intel_quote_seeds():
    t = "intel_quote_fuzz"
    tdx = read(t, "sim_tdx_v4.bin")
    sgx = read(t, "sim_sgx.bin")
    write(t, "v5_td10.bin", quote_v5(tdx, 2, 584))
    write(t, "v5_td15.bin", quote_v5(tdx, 3, 648, bytes(range(64))))
    write(t, "v5_sgx.bin", sgx_v3_to_v5(sgx))
    write(t, "v5_bad_body_type.bin", quote_v5(tdx, 9, 584))
    write(t, "v5_tee_mismatch.bin", quote_v5(tdx, 1, 384))
    v4sgx = bytearray(sgx_v3_to_v5(sgx))  # v4 SGX: drop the descriptor again
    v4sgx[0:2] = struct.pack("<H", 4)
    write(t, "v4_sgx.bin", bytes(v4sgx[:48]) + bytes(v4sgx[54:]))
    auth = bytearray(tdx)  # QE auth data length beyond the certification data
    off = 48 + 584 + 4 + 128 + 6 + 384 + 64
    auth[off:off + 2] = b"\xff\xff"
    write(t, "qe_auth_overflow.bin", bytes(auth))


# ---- Intel collateral: bare signed bodies, bundles with two CRLs ----------------------------

def svns(n, base=0):
    return [{"svn": (base + i) % 4, "category": "BIOS", "type": "Early Microcode Update"}
            if i == 0 else {"svn": (base + i) % 4} for i in range(n)]


def tcb_info_v3(tdx):
    lv = []
    for i, st in enumerate(["UpToDate", "SWHardeningNeeded", "OutOfDate"]):
        tcb = {"sgxtcbcomponents": svns(16, 3 - i), "pcesvn": 13 - i}
        if tdx:
            tcb["tdxtcbcomponents"] = svns(16, 2 - i)
        e = {"tcb": tcb, "tcbDate": "2024-03-13T00:00:00Z", "tcbStatus": st}
        if i:
            e["advisoryIDs"] = ["INTEL-SA-00%d" % (800 + i), "INTEL-SA-00615"]
        lv.append(e)
    o = {"id": "TDX" if tdx else "SGX", "version": 3, "issueDate": "2025-01-01T00:00:00Z",
         "nextUpdate": "2025-02-01T00:00:00Z", "fmspc": "00806F050000", "pceId": "0000",
         "tcbType": 0, "tcbEvaluationDataNumber": 17, "tcbLevels": lv}
    if tdx:
        mod = {"mrsigner": "00" * 48, "attributes": "0000000000000000",
               "attributesMask": "FFFFFFFFFFFFFFFF"}
        o["tdxModule"] = mod
        o["tdxModuleIdentities"] = [dict(mod, id="TDX_03", tcbLevels=[
            {"tcb": {"isvsvn": 3}, "tcbDate": "2024-03-13T00:00:00Z", "tcbStatus": "UpToDate"},
            {"tcb": {"isvsvn": 1}, "tcbDate": "2023-08-09T00:00:00Z", "tcbStatus": "OutOfDate",
             "advisoryIDs": ["INTEL-SA-00837"]}])]
    return o


def qe_identity(tdx):
    return {"id": "TD_QE" if tdx else "QE", "version": 2, "issueDate": "2025-01-01T00:00:00Z",
            "nextUpdate": "2025-02-01T00:00:00Z", "tcbEvaluationDataNumber": 17,
            "miscselect": "00000000", "miscselectMask": "FFFFFFFF",
            "attributes": "11000000000000000000000000000000",
            "attributesMask": "FBFFFFFFFFFFFFFF0000000000000000",
            "mrsigner": "DC9E2A7C6F948F17474E34A7FC43ED030F7C1563F1BABDDF6340C82E0E54A8C5",
            "isvprodid": 2 if tdx else 1, "tcbLevels": [
                {"tcb": {"isvsvn": 8}, "tcbDate": "2024-03-13T00:00:00Z", "tcbStatus": "UpToDate"},
                {"tcb": {"isvsvn": 0}, "tcbDate": "2021-11-10T00:00:00Z", "tcbStatus": "Revoked",
                 "advisoryIDs": ["INTEL-SA-00477"]}]}


def compact(o):
    return json.dumps(o, separators=(",", ":"))


def intel_collateral_seeds():
    t = "intel_collateral_fuzz"
    sig = "ab" * 64
    write(t, "tcb_info_v3_tdx.json", compact(tcb_info_v3(True)))
    write(t, "tcb_info_v3_sgx.json", compact(tcb_info_v3(False)))
    write(t, "qe_identity_td_qe.json", compact(qe_identity(True)))
    write(t, "qe_identity_qe.json", compact(qe_identity(False)))
    body = compact(tcb_info_v3(True))
    qe = compact(qe_identity(True))
    write(t, "pcs_tcb_info_v3_tdx.json", '{"tcbInfo":%s,"signature":"%s"}' % (body, sig))
    # bundle: tcb_info given in PCS form (object with signature), qe_identity bare + signature
    root23 = testdata("intel-root/root_ca_crl_20230403.der")
    root25 = testdata("intel-root/root_ca_crl_20250320.der")
    pck = testdata("intel-root/pck_platform_crl_20250619.der")
    b = {"tcb_info": '{"tcbInfo":%s,"signature":"%s"}' % (body, sig),
         "qe_identity": qe, "qe_identity_signature": sig,
         "root_ca_crl": root23.hex(), "pck_crl": pck.hex()}
    write(t, "bundle_pcs_form.json", json.dumps(b))
    # two different CRLs of the same issuer: refused as a duplicate
    b2 = {"qe_identity": qe, "qe_identity_signature": sig,
          "root_ca_crl": root23.hex(), "pck_crl": root25.hex()}
    write(t, "bundle_same_issuer_crls.json", json.dumps(b2))
    pem = b"".join(b"-----BEGIN X509 CRL-----\n" + base64.encodebytes(d) + b"-----END X509 CRL-----\n"
                   for d in (root23, pck, root23))
    write(t, "crls.pem", pem)
    write(t, "crl.hex", root25.hex() + "\n")
    write(t, "cert.der", read("ratls_cert_fuzz", "plain_p256.der"))  # recognised, ignored
    bad = tcb_info_v3(False)
    bad["tcbLevels"][0]["tcbStatus"] = "Fine"
    write(t, "tcb_info_unknown_status.json", compact(bad))


# ---- RA-TLS certificates with other extensions ---------------------------------------------

def cbor_head(major, n):
    if n < 24:
        return bytes([major << 5 | n])
    for ai, fmt in ((24, ">B"), (25, ">H"), (26, ">I"), (27, ">Q")):
        if n < 1 << (8 * struct.calcsize(fmt)):
            return bytes([major << 5 | ai]) + struct.pack(fmt, n)
    raise ValueError(n)


def cbor_bstr(b):
    return cbor_head(2, len(b)) + b


def cbor_tstr(s):
    return cbor_head(3, len(s.encode())) + s.encode()


def claims(spki, nonce=None, nonce_text=False):
    # pubkey-hash: a bstr holding the CBOR [hash-alg, hash] (sha-256 = 1)
    items = [(cbor_tstr("pubkey-hash"), cbor_bstr(cbor_head(4, 2) + cbor_head(0, 1) +
                                                  cbor_bstr(hashlib.sha256(spki).digest())))]
    if nonce is not None:
        items.append((cbor_tstr("nonce"), cbor_tstr(nonce) if nonce_text else cbor_bstr(nonce)))
    return cbor_head(5, len(items)) + b"".join(k + v for k, v in items)


def evidence_ext(tag, ev, cl):
    return cbor_head(6, tag) + cbor_head(4, 2) + cbor_bstr(ev) + cbor_bstr(cl)


DICE_EV = "2.23.133.5.4.9"
DICE_EV_TWIN = "2.23.133.5.4.8"  # patched to DICE_EV after signing: a duplicated extension
DICE_END = "2.23.133.5.4.2"
SGXSDK = "1.2.840.113741.1.13.1"
GRAMINE = "0.6.9.42.840.113741.1337.6"  # sic: Gramine's legacy OID carries its own DER header


def make_cert(exts):
    key = ec.derive_private_key(0x5EED, ec.SECP256R1())
    spki = key.public_key().public_bytes(serialization.Encoding.DER,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "veritee fuzz seed")])
    import datetime
    t0 = datetime.datetime(2025, 1, 1)
    b = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
         .public_key(key.public_key()).serial_number(1)
         .not_valid_before(t0).not_valid_after(t0 + datetime.timedelta(days=3650)))
    for oid, value in exts(spki):
        b = b.add_extension(x509.UnrecognizedExtension(x509.ObjectIdentifier(oid), value), False)
    return b.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


def ratls_cert_seeds():
    t = "ratls_cert_fuzz"
    tdx = read("intel_quote_fuzz", "sim_tdx_v4.bin")
    sgx = read("intel_quote_fuzz", "sim_sgx.bin")
    snp = read("snp_report_fuzz", "v2.bin")
    v5 = quote_v5(tdx, 3, 648, bytes(64))
    v5sgx = sgx_v3_to_v5(sgx)
    endors = cbor_head(5, 1) + cbor_tstr("collateral") + cbor_bstr(b"\x00" * 8)
    write(t, "tdx_v4.der", make_cert(lambda s: [(DICE_EV, evidence_ext(60000, tdx, claims(s, b"n" * 32))),
                                                 (DICE_END, endors)]))
    write(t, "tdx_v5.der", make_cert(lambda s: [(DICE_EV, evidence_ext(60000, v5, claims(s)))]))
    write(t, "sgx_v5.der", make_cert(lambda s: [(DICE_EV, evidence_ext(60000, v5sgx, claims(s)))]))
    write(t, "sgx_v3.der", make_cert(lambda s: [(DICE_EV, evidence_ext(60000, sgx, claims(s)))]))
    write(t, "snp.der", make_cert(lambda s: [(DICE_EV, evidence_ext(0x1A7504, snp, claims(s)))]))
    write(t, "null.der", make_cert(lambda s: [(DICE_EV, evidence_ext(0x56544E30, bytes(72), claims(s)))]))
    write(t, "nonce_text.der", make_cert(lambda s: [(DICE_EV, evidence_ext(60000, tdx, claims(s, "n", True)))]))
    write(t, "bad_endorsements.der", make_cert(lambda s: [(DICE_END, b"\x5f\x41")]))
    write(t, "gramine_legacy.der", make_cert(lambda s: [(GRAMINE, sgx)]))
    write(t, "sgxsdk.der", make_cert(lambda s: [(SGXSDK, sgx)]))
    dup = make_cert(lambda s: [(DICE_EV, evidence_ext(60000, tdx, claims(s))),
                               (DICE_EV_TWIN, evidence_ext(60000, tdx, claims(s)))])
    twin = bytes.fromhex("0606678105050408")
    assert dup.count(twin) == 1
    write(t, "dup_evidence_ext.der", dup.replace(twin, twin[:-1] + b"\x09"))


# ---- SNP certificate table ----------------------------------------------------------------

GUID_VCEK = bytes([0x63, 0xda, 0x75, 0x8d, 0xe6, 0x64, 0x45, 0x64,
                   0xad, 0xc5, 0xf4, 0xb9, 0x3b, 0xe8, 0xac, 0xcd])
GUID_ARK = bytes([0xc0, 0xb4, 0x06, 0xa4, 0xa8, 0x03, 0x49, 0x52,
                  0x97, 0x43, 0x3f, 0xb6, 0x01, 0x4c, 0xd0, 0xae])


def table(entries):
    """entries: [(guid, data)] -> GUID table + data, zero terminator."""
    hdr_len = 24 * (len(entries) + 1)
    hdr, blob = b"", b""
    for guid, data in entries:
        hdr += guid + struct.pack("<II", hdr_len + len(blob), len(data))
        blob += data
    return hdr + bytes(24) + blob


def snp_cert_table_seeds():
    t = "snp_cert_table_fuzz"
    der = read("ratls_cert_fuzz", "plain_p256.der")
    pem = b"-----BEGIN CERTIFICATE-----\n" + base64.encodebytes(der) + b"-----END CERTIFICATE-----\n"
    write(t, "cert.der", der)
    write(t, "table_pem_entry.bin", table([(GUID_ARK, pem)]))
    write(t, "table_der_entry.bin", table([(GUID_VCEK, der)]))
    many = [(GUID_VCEK, bytes([0x30, 0x01, i])) for i in range(33)]
    write(t, "table_too_many_certs.bin", table(many))
    unknown = bytes(range(1, 17))
    write(t, "table_too_many_entries.bin", table([(unknown, b"")] * 34))


# ---- broker requests ------------------------------------------------------------------------

def broker_seeds():
    t = "broker_request_fuzz"
    deep = "[" * 12 + "]" * 12
    write(t, "deep_nesting", b"\x00" + ('{"id":1,"op":"version","x":%s}' % deep).encode())
    write(t, "legacy_too_large", b"\x01" + ('{"command":"version","pad":"%s"}' % ("A" * 4200)).encode())
    write(t, "legacy_unknown_command", b'\x01{"command":"Get Everything"}')
    write(t, "legacy_resource_info", b'\x01{"command":"Get Resource Info","name":"default/key/1"}')


# ---- KBS requests ---------------------------------------------------------------------------

def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def kbs_seeds():
    t = "kbs_request_fuzz"
    pub = ec.derive_private_key(0x1234, ec.SECP256R1()).public_key().public_numbers()
    ec_jwk = {"kty": "EC", "crv": "P-256", "alg": "ECDH-ES+A256KW",
              "x": b64u(pub.x.to_bytes(32, "big")), "y": b64u(pub.y.to_bytes(32, "big"))}
    rk = rsa.generate_private_key(65537, 2048).public_key().public_numbers()
    rsa_jwk = {"kty": "RSA", "alg": "RSA-OAEP-256",
               "n": b64u(rk.n.to_bytes(256, "big")), "e": b64u(rk.e.to_bytes(3, "big"))}
    write(t, "jwk_ec_valid", b"\x02" + compact(ec_jwk).encode())
    write(t, "jwk_rsa_valid", b"\x02" + compact(rsa_jwk).encode())
    write(t, "jcs_non_bmp", b"\x02" + '{"\\ud83d\\ude00":1,"\\u00e9":2,"a":[true,null,-0.5]}'.encode())
    # JWEs to the harness's (random) key: key agreement / unwrap run, the unwrap fails
    for name, hdr in (("jwe_ecdh_epk", {"alg": "ECDH-ES+A256KW", "enc": "A256GCM",
                                        "epk": {"kty": "EC", "crv": "P-256", "x": ec_jwk["x"],
                                                "y": ec_jwk["y"]}}),
                      ("jwe_rsa_oaep", {"alg": "RSA-OAEP-256", "enc": "A256GCM"})):
        jwe = {"protected": b64u(compact(hdr).encode()), "encrypted_key": b64u(bytes(range(40))),
               "iv": b64u(bytes(12)), "ciphertext": b64u(b"secret"), "tag": b64u(bytes(16))}
        write(t, name, b"\x03" + compact(jwe).encode())
    write(t, "jcs_false_very_long_keys", b"\x02" + ('{"f":false,"%sa":1,"%sb":2}' % ("k" * 260, "k" * 260)).encode())
    # EAR tokens: a well-formed ES256 JWS with a wrong signature; a non-object header
    hdr, pl = b64u(b'{"alg":"ES256","typ":"JWT"}'), b64u(b'{"eat_profile":"x","exp":1}')
    write(t, "ear_es256_bad_sig", b"\x04" + ("%s.%s.%s" % (hdr, pl, b64u(bytes(range(64))))).encode())
    write(t, "ear_header_not_object", b"\x04" + ("%s.%s.AAAA" % (b64u(b"[]"), pl)).encode())
    long_keys = ",".join('"%s%d":%d' % ("k" * 130, i, i) for i in range(2))
    write(t, "jcs_escapes", b"\x02" + ('{"e\\"\\\\\\b\\f\\n\\r\\t\\u0001":"\\u20ac",'
                                       '"\\u20ac":1,"\\ud83d\\ude00":2,"ab":3,"a":4,%s}' % long_keys).encode())
    for name, jwk in (("attest_ec_jwk", ec_jwk), ("attest_rsa_jwk", rsa_jwk)):
        body = {"runtime-data": {"nonce": "bm9uY2U=", "tee-pubkey": jwk},
                "tee-evidence": {"primary_evidence": {"svn": "1", "report_data": "AAAA",
                                                      "veritee_sim_evidence": "AAAA"},
                                 "additional_evidence": ""}}
        write(t, name, b"\x01" + compact(body).encode())
    snp_serde_seeds(t)
    kbs_jwe_seeds(t)
    kbs_flow_seeds(t, ec_jwk, rsa_jwk)
    kbs_token_seeds(t, ec_jwk)
    kbs_route_seeds(t)


def harness_jwe_key():
    """The fixed JWE key of kbs_request_fuzz (mode 3), read from the harness source."""
    import re
    with open(os.path.join(ROOT, "tests", "fuzz", "kbs_request_fuzz.c")) as f:
        src = f.read()
    m = re.search(r"jwe_key_pem\[\] =\n((?:\s*\"[^\"]*\"\n?)+);", src)
    pem = "".join(re.findall(r'"([^"]*)"', m.group(1))).replace("\\n", "\n")
    return serialization.load_pem_private_key(pem.encode(), None)


def kbs_jwe_seeds(t):
    """Mode 3: ECDH-ES+A256KW / A256GCM JWEs to the harness's fixed key (RFC 7518 4.6): one
    that decrypts, one with a bad tag, one whose unwrapped key is not 32 bytes."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    from cryptography.hazmat.primitives.keywrap import aes_key_wrap
    rcpt = harness_jwe_key().public_key()
    eph = ec.derive_private_key(0x5eed, ec.SECP256R1())
    z = eph.exchange(ec.ECDH(), rcpt)
    alg = b"ECDH-ES+A256KW"
    kek = hashlib.sha256(b"\0\0\0\1" + z + struct.pack(">I", len(alg)) + alg +
                         b"\0" * 8 + struct.pack(">I", 256)).digest()
    pub = eph.public_key().public_numbers()
    hdr = {"alg": "ECDH-ES+A256KW", "enc": "A256GCM",
           "epk": {"kty": "EC", "crv": "P-256", "x": b64u(pub.x.to_bytes(32, "big")),
                   "y": b64u(pub.y.to_bytes(32, "big"))}}
    prot = b64u(compact(hdr).encode())
    cek, iv = bytes(range(32)), bytes(range(12))
    sealed = AESGCM(cek).encrypt(iv, b"top secret", prot.encode())
    for name, ek, tag in (("ok", aes_key_wrap(kek, cek), sealed[-16:]),
                          ("bad_tag", aes_key_wrap(kek, cek), bytes(16)),
                          ("cek_24", aes_key_wrap(kek, cek[:24]), sealed[-16:])):
        if len(ek) != 40:  # the 24-byte key wraps to 32 bytes: pad the wrapped key (refused)
            ek = ek + bytes(40 - len(ek))
        jwe = {"protected": prot, "encrypted_key": b64u(ek), "iv": b64u(iv),
               "ciphertext": b64u(sealed[:-16]), "tag": b64u(tag)}
        write(t, "jwe_fixed_key_" + name, b"\x03" + compact(jwe).encode())


# Placeholders of the harness (tests/fuzz/kbs_request_fuzz.c): @NONCE@ the session's challenge,
# @EVIDENCE@ base64 sim evidence over the body's runtime-data digest (@EVIDENCEX@: over another
# digest), @RD@ the base64 digest, @SERDE@ the sim-snp report in the sev crate's serde shape,
# @COOKIE@ a challenged session, @ATTESTED@ an attested one, @TOKEN@ its token, @KID@ the
# server's key id.
SIM_PRIMARY = {"report_data": "@RD@", "veritee_sim_evidence": "@EVIDENCE@"}


def attest_template(jwk, primary, nonce="@NONCE@", additional="", extra=None):
    body = {"runtime-data": {"nonce": nonce, "tee-pubkey": jwk},
            "tee-evidence": {"primary_evidence": primary, "additional_evidence": additional}}
    body.update(extra or {})
    return compact(body)


def kbs_flow_seeds(t, ec_jwk, rsa_jwk):
    """Mode 7: auth, then an attestation whose nonce and evidence the harness fills in, then
    resource requests with the session cookie ("c"), the token ("b") or neither ("n")."""
    def flow(name, tee, body, gets=()):
        text = "%s\n%s\n%s" % (tee, body, "".join(g + "\n" for g in gets))
        write(t, "flow_" + name, b"\x07" + text.encode())

    res = "/kbs/v0/resource/"
    flow("sample_release", "sample", attest_template(ec_jwk, SIM_PRIMARY),
         ["c " + res + "default/key/one", "b " + res + "default/key/one",
          "n " + res + "default/key/one", "b " + res + "default/key/missing",
          "b " + res + "snp/key/one", "b " + res + "a%2e/b/c", "b " + res + "a/b"])
    flow("sample_rsa", "sample", attest_template(rsa_jwk, SIM_PRIMARY), ["b " + res + "default/key/one"])
    flow("sample_strict", "sample strict", attest_template(ec_jwk, SIM_PRIMARY))
    flow("sample_other_measurement", "sample m=00ff", attest_template(ec_jwk, SIM_PRIMARY))
    flow("sample_additional", "sample", attest_template(
        ec_jwk, SIM_PRIMARY, additional=compact({"nvidia": {"x": 1}, "cca": "e"})))
    flow("sample_init_data", "sample", attest_template(
        ec_jwk, SIM_PRIMARY, extra={"init-data": {"format": "toml", "body": "a = 1"}}))
    flow("sample_binding_mismatch", "sample", attest_template(
        ec_jwk, {"report_data": "@RD@", "veritee_sim_evidence": "@EVIDENCEX@"}))
    flow("sample_rd_mismatch", "sample", attest_template(
        ec_jwk, {"report_data": base64.b64encode(bytes(48)).decode(),
                 "veritee_sim_evidence": "@EVIDENCE@"}))
    flow("sample_rd_short", "sample", attest_template(
        ec_jwk, {"report_data": "AAAA", "veritee_sim_evidence": "@EVIDENCE@"}))
    flow("sample_no_rd", "sample", attest_template(ec_jwk, {"veritee_sim_evidence": "@EVIDENCE@"}))
    flow("sample_unsigned", "sample", attest_template(ec_jwk, {"report_data": "@RD@"}))
    flow("sample_bad_evidence", "sample", attest_template(
        ec_jwk, {"report_data": "@RD@", "veritee_sim_evidence": "AAAA"}))
    flow("sample_primary_not_object", "sample", attest_template(ec_jwk, "x"))
    flow("sample_nonce_mismatch", "sample", attest_template(ec_jwk, SIM_PRIMARY, nonce="bm9uY2U="))
    flow("snp_raw", "snp", attest_template(
        ec_jwk, {"attestation_report": "@EVIDENCE@", "cert_chain": None}),
         ["b " + res + "snp/key/one", "b " + res + "default/key/one"])
    flow("snp_serde_debug", "snp debug", attest_template(ec_jwk, "@SERDE@"),
         ["b " + res + "snp/key/one"])
    flow("snp_serde_init_data", "snp", attest_template(
        ec_jwk, "@SERDE@", extra={"init-data": {"format": "toml", "body": "a = 1"}}))
    flow("snp_serde_bad", "snp", attest_template(
        ec_jwk, {"attestation_report": {"version": 3}, "cert_chain": None}))
    flow("snp_no_report", "snp", attest_template(ec_jwk, {"report": "AAAA"}))
    flow("tdx_sim_quote", "tdx", attest_template(ec_jwk, {"quote": "@EVIDENCE@"}))
    flow("sgx_no_quote", "sgx", attest_template(ec_jwk, {}))
    flow("additional_not_string", "sample", attest_template(ec_jwk, SIM_PRIMARY, additional=[]))
    flow("additional_not_object", "sample", attest_template(ec_jwk, SIM_PRIMARY, additional="[1]"))
    flow("additional_too_many", "sample", attest_template(
        ec_jwk, SIM_PRIMARY, additional=compact({"d%d" % i: i for i in range(17)})))
    flow("additional_empty_name", "sample", attest_template(
        ec_jwk, SIM_PRIMARY, additional=compact({"": 1})))
    flow("additional_long_name", "sample", attest_template(
        ec_jwk, SIM_PRIMARY, additional=compact({"n" * 33: 1})))
    # a tee-pubkey member JCS cannot canonicalise (a non-integral number): the binding fails
    flow("jcs_fails", "sample", attest_template(dict(ec_jwk, z=1.5), SIM_PRIMARY))
    # serde evidence the harness does not make: a real report (the mode 6 seed) with a
    # cert_chain of junk (the snp verifier runs and refuses it), and with another sig_algo
    # (no verifier takes it)
    serde = json.loads(read(t, "snp_serde_nochain")[1:])
    serde["cert_chain"] = [{"cert_type": "VCEK", "data": [48, 3, 2, 1, 0]}]
    flow("snp_serde_junk_chain", "snp", attest_template(ec_jwk, serde))
    serde["attestation_report"]["sig_algo"] = 2
    flow("snp_serde_sig_algo", "snp", attest_template(ec_jwk, serde))
    # the tee-pubkey of an RSA key with an even modulus (mode 1: refused before the nonce check)
    even = dict(rsa_jwk, n=b64u((int.from_bytes(base64.urlsafe_b64decode(rsa_jwk["n"] + "=="),
                                                 "big") & ~1).to_bytes(256, "big")))
    write(t, "attest_rsa_even_modulus", b"\x01" + attest_template(even, SIM_PRIMARY).encode())


def kbs_token_seeds(t, ec_jwk):
    """Mode 8: EAR tokens the harness signs with the server's key over these claims, then
    resource requests with the token (a leading '!': the server without allow_sim)."""
    hdr = compact({"alg": "ES256", "typ": "JWT", "kid": "@KID@"})

    def payload(**kw):
        ann = {"tee": "sample", "sample": {"measurement": "00"}, "tcb_status": None,
               "insecure": True, "runtime_data_claims": {"nonce": "n", "tee-pubkey": ec_jwk}}
        ann.update(kw.pop("ann", {}))
        p = {"eat_profile": "tag:github.com,2023:veraison/ear", "iat": 1800000000,
             "exp": 1800000600, "iss": "veritee-broker",
             "submods": {"cpu0": {"ear.veraison.annotated-evidence": ann}}}
        p.update(kw)
        return compact({k: v for k, v in p.items() if v is not None})

    def tok(name, pl, paths=(), header=hdr):
        text = "%s\n%s\n%s" % (header, pl, "".join(x + "\n" for x in paths))
        write(t, "token_" + name, b"\x08" + text.encode())

    tok("release", payload(), ["default/key/one", "!default/key/one", "default/key/missing",
                               "other/key/one", "a/b"])
    tok("snp_release", payload(ann={"tee": "snp", "snp": {"measurement": "00", "debug": "false"},
                                    "tcb_status": "UpToDate", "insecure": False}),
        ["snp/key/one", "!snp/key/one"])
    tok("no_pubkey", payload(ann={"runtime_data_claims": {}}), ["default/key/one"])
    tok("no_tee_claims", payload(ann={"tee": "tdx"}), ["default/key/one"])
    tok("expired", payload(exp=1800000000), ["default/key/one"])
    tok("future_iat", payload(iat=1800000061))
    tok("exp_text", payload(exp="1"))
    tok("no_cpu0", payload(submods={"cpu1": {}}))
    tok("bad_issuer", payload(iss="someone"))
    tok("bad_profile", payload(eat_profile="x"))
    tok("no_kid", payload(), header=compact({"alg": "ES256"}))
    tok("other_kid", payload(), header=compact({"alg": "ES256", "kid": "k"}))
    tok("alg_none", payload(), header=compact({"alg": "none", "kid": "@KID@"}))


def kbs_route_seeds(t):
    """Mode 9: any request: "<METHOD> <path>", Authorization, cookie, body."""
    def req(name, line, authz="", cookie="", body=""):
        write(t, "route_" + name, b"\x09" + ("%s\n%s\n%s\n%s" % (line, authz, cookie, body)).encode())

    req("jwks", "GET /.well-known/jwks.json")
    req("healthz", "GET /healthz")
    req("metrics", "GET /metrics")
    req("unknown", "GET /kbs/v0/nothing")
    req("post_healthz", "POST /healthz")
    req("get_auth", "GET /kbs/v0/auth")
    req("get_attest", "GET /kbs/v0/attest")
    req("post_resource", "POST /kbs/v0/resource/default/key/one")
    req("attest_no_cookie", "POST /kbs/v0/attest", body="{}")
    req("attest_unknown_cookie", "POST /kbs/v0/attest", cookie="0123456789abcdef0123456789abcdef", body="{}")
    req("attest_used", "POST /kbs/v0/attest", cookie="@ATTESTED@", body="{}")
    req("resource_cookie", "GET /kbs/v0/resource/default/key/one", cookie="@ATTESTED@")
    req("resource_not_attested", "GET /kbs/v0/resource/default/key/one", cookie="@COOKIE@")
    req("resource_unknown_cookie", "GET /kbs/v0/resource/default/key/one",
        cookie="0123456789abcdef0123456789abcdef", authz="Bearer @TOKEN@")
    req("resource_bearer", "GET /kbs/v0/resource/default/key/one", authz="bearer   @TOKEN@")
    req("resource_bearer_empty", "GET /kbs/v0/resource/default/key/one", authz="Bearer ")
    req("resource_basic", "GET /kbs/v0/resource/default/key/one", authz="Basic eDp5")
    req("auth_too_large", "POST /kbs/v0/auth", body=" " * (65 * 1024))
    req("attest_too_large", "POST /kbs/v0/attest", cookie="@COOKIE@", body="@BIG@")
    req("auth_unsupported_tee", "POST /kbs/v0/auth", body='{"version":"0.4.0","tee":"cca"}')
    req("auth_session_cap", "POST*6 /kbs/v0/auth", body='{"version":"0.4.0","tee":"sample"}')


def snp_serde_seeds(t):
    """Variants of the guest-components SNP evidence (mode 6), one refusal or layout each."""
    base = json.loads(read(t, "snp_serde_nochain")[1:])
    rep0 = base["attestation_report"]
    tcbs = [k for k, v in rep0.items() if isinstance(v, dict) and "microcode" in v]

    def variant(name, edit):
        ev = json.loads(json.dumps(base))
        edit(ev, ev["attestation_report"])
        write(t, "snp_serde_" + name, b"\x06" + compact(ev).encode())

    def turin(fmc_all=True, fam=0x1A):
        def f(ev, r):
            r["cpuid_fam_id"], r["cpuid_mod_id"] = fam, 2
            for i, k in enumerate(tcbs):
                r[k]["fmc"] = 1 if fmc_all or i == 0 else None
        return f

    def setk(k, v):
        return lambda ev, r: r.__setitem__(k, v)

    variant("turin", turin())
    variant("turin_mixed_tcb", turin(fmc_all=False))
    variant("fmc_on_milan", turin(fam=0x19))
    variant("cpuid_unknown", setk("cpuid_fam_id", 0x17))
    variant("v5_mit_null", setk("version", 5))
    variant("v5", lambda ev, r: r.update(version=5, launch_mit_vector=1, current_mit_vector=3))
    variant("v2_cpuid_set", setk("version", 2))
    variant("version_9", setk("version", 9))
    variant("version_text", setk("version", "3"))
    variant("tcb_field_out_of_range", lambda ev, r: r[tcbs[0]].__setitem__("snp", 256))
    variant("u32_text", setk("guest_svn", "0"))
    variant("u64_text", setk("policy", "0"))
    variant("opt_u8_out_of_range", setk("cpuid_step", 256))
    variant("byte_out_of_range", lambda ev, r: r["report_data"].__setitem__(0, 256))
    variant("extra_field", setk("extra", 1))
    variant("report_not_object", lambda ev, r: ev.__setitem__("attestation_report", []))
    der = list(read("ratls_cert_fuzz", "plain_p256.der")[:64])
    chain = [{"cert_type": k, "data": der} for k in ("ARK", "ASK", "VLEK", "CRL", "Empty")]
    variant("chain_types", lambda ev, r: ev.__setitem__("cert_chain", chain))
    variant("chain_bad_type", lambda ev, r: ev.__setitem__("cert_chain", [{"cert_type": "PEK", "data": []}]))
    variant("chain_bad_other", lambda ev, r: ev.__setitem__(
        "cert_chain", [{"cert_type": {"OTHER": "x"}, "data": []}]))
    variant("chain_data_not_array", lambda ev, r: ev.__setitem__(
        "cert_chain", [{"cert_type": "ARK", "data": "AAAA"}]))
    variant("chain_not_array", lambda ev, r: ev.__setitem__("cert_chain", {}))
    variant("chain_entry_extra_key", lambda ev, r: ev.__setitem__(
        "cert_chain", [{"cert_type": "ARK", "data": [], "x": 1}]))


def main():
    intel_quote_seeds()
    intel_collateral_seeds()
    ratls_cert_seeds()
    snp_cert_table_seeds()
    broker_seeds()
    kbs_seeds()
    return 0


if __name__ == "__main__":
    sys.exit(main())
