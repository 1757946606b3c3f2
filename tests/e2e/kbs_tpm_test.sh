#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# kbs_tpm_test.sh - the KBS protocol with tee "tpm" end to end on swtpm (provisioned by
# tpm_lib.sh: EK certificate, AK + AK certificate from swtpm-localca, an event log in the
# PCRs) against veritee-broker --kbs-listen:
#   - `veritee-agent get-resource --kbs --tee tpm`: released by a broker trusting the AK
#     certificate's root (--root-ca, intermediates from --collateral); refused (403) by a broker
#     without that root, then released by it once the AK is pinned by the reference value
#     tpm.ak_sha256 (admin refval add); refused by a rule for another tee;
#   - an independent client here (python3: RFC 8785 runtime data, SHA-384) with evidence from
#     `veritee attest --tee tpm`: the TPM quote's nonce = the digest zero-padded to 64 bytes
#     (as guest-components sends it): token (EAR claims: tpm.nonce, pcr.*, eventlog.*);
#     evidence for another challenge: 403 VT_ERR_KBS_BINDING_MISMATCH; init-data: 403
#     VT_ERR_KBS_INIT_DATA.
# Skips (77) without swtpm / tpm2-tools / python3-cryptography, or without libtss2.
set -u
BIN=${VERITEE_BIN:?}
src=${VERITEE_SRC:?}
for c in swtpm swtpm_setup swtpm_localca tpm2_createprimary python3 openssl; do
    command -v "$c" >/dev/null 2>&1 || { echo "SKIP: $c not installed (apt-get install swtpm swtpm-tools tpm2-tools)"; exit 77; }
done
python3 -c 'import cryptography' 2>/dev/null || { echo "SKIP: python3-cryptography missing"; exit 77; }
pass=0; fail=0
ok()  { pass=$((pass+1)); echo "ok: $*"; }
bad() { fail=$((fail+1)); echo "FAIL: $*"; }
T=$(mktemp -d /tmp/vt-kbs-tpm.XXXXXX)
PIDS=()
swtpm_pid=""
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    [ -n "$swtpm_pid" ] && kill "$swtpm_pid" 2>/dev/null
    wait 2>/dev/null; rm -rf "$T"
}
trap cleanup EXIT
cd "$T" || exit 1
source "$src/tests/e2e/swtpm_lib.sh"
source "$src/tests/e2e/tpm_lib.sh"
provision_tpm "$T" || { echo "FAIL: provisioning swtpm"; exit 1; }
"$BIN/veritee" attest --tee tpm --option "tpm.tcti=$tcti" --option tpm.eventlog=none -o probe.json >probe.out 2>&1
if grep -q "not supported" probe.out; then echo "SKIP: veritee built without libtss2"; exit 77; fi
TPM=(--option "tpm.tcti=$tcti" --option tpm.eventlog=log.bin)

"$BIN/veritee-broker" --gen-master-key mk 2>/dev/null
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout broker.key -out broker.pem \
  -days 30 -subj "/CN=127.0.0.1" 2>/dev/null || { echo "FAIL: openssl req"; exit 1; }
printf 'top secret value' > secret
printf '{"version":1,"rules":[{"name":"tpm","resources":["default/key/*"],"tee":["tpm"]},{"name":"snp","resources":["snponly/key/*"],"tee":["snp"]}]}' > pol.json
start() { # name extra-args...  -> sets KPORT
  local n=$1; shift
  "$BIN/veritee-broker" --listen 127.0.0.1:0 --store "$n.db" --master-key mk --admin-socket "$n.sock" \
     --cert broker.pem --key broker.key --kbs-listen 127.0.0.1:0 "$@" 2>"$n.log" &
  PIDS+=($!)
  for _ in $(seq 100); do grep -q 'KBS listening on' "$n.log" && break; sleep 0.1; done
  KPORT=$(grep -o 'KBS listening on https\?://127.0.0.1:[0-9]*' "$n.log" | grep -o '[0-9]*$')
  [ -n "$KPORT" ] || { echo "FAIL: broker $n did not start"; cat "$n.log"; exit 1; }
  for r in default/key/one snponly/key/one; do
    "$BIN/veritee" admin --socket "$n.sock" resource put $r secret >/dev/null || { echo "FAIL: admin resource put"; exit 1; }
  done
  "$BIN/veritee" admin --socket "$n.sock" policy set pol.json >/dev/null || { echo "FAIL: admin policy set"; exit 1; }
}
start c --root-ca ca/swtpm-localca-rootca-cert.pem --collateral ca   # AK certificate chain
PC=$KPORT
start p                                                            # no root: pinned AK only
PP=$KPORT

agent() { "$BIN/veritee-agent" get-resource "$@"; }
out=$(agent --kbs "http://127.0.0.1:$PC" --tee tpm "${TPM[@]}" default/key/one 2>err); rc=$?
[ $rc = 0 ] && [ "$out" = "top secret value" ] && ok "agent tpm, AK certificate chain: released" || bad "agent tpm: rc=$rc $(cat err)"
agent --kbs "http://127.0.0.1:$PC" --tee tpm "${TPM[@]}" snponly/key/one >/dev/null 2>err; rc=$?
[ $rc = 1 ] && grep -q 'HTTP 403' err && ok "agent tpm, a rule for snp only: 403" || bad "policy deny: rc=$rc $(cat err)"
agent --kbs "http://127.0.0.1:$PP" --tee tpm "${TPM[@]}" default/key/one >/dev/null 2>err; rc=$?
[ $rc = 1 ] && grep -q 'HTTP 403' err && grep -q 'AK certificate but no --root-ca' err \
  && ok "agent tpm, broker without the AK's root: 403" || bad "no root: rc=$rc $(cat err)"
pin=$(openssl pkey -pubin -in ak.pem -outform DER | sha256sum | cut -d' ' -f1)
"$BIN/veritee" admin --socket p.sock refval add tpm.ak_sha256 "$pin" --source kbs_tpm_test >/dev/null || bad "refval add"
out=$(agent --kbs "http://127.0.0.1:$PP" --tee tpm "${TPM[@]}" default/key/one 2>err); rc=$?
[ $rc = 0 ] && [ "$out" = "top secret value" ] && ok "agent tpm, AK pinned by reference value tpm.ak_sha256: released" || bad "pinned: rc=$rc $(cat err)"

cat > c.py <<'PY'
import base64, hashlib, http.client, json, subprocess, sys
from cryptography.hazmat.primitives.asymmetric import ec
port, vbin = int(sys.argv[1]), sys.argv[2]
opts = sys.argv[3:]
fails = 0
def check(what, cond, info=""):
    global fails
    print(("ok: " if cond else "FAIL: ") + what + ("" if cond else " " + str(info)))
    fails += 0 if cond else 1
def req(method, path, body=None, cookie=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    h = {"Content-Type": "application/json"}
    if cookie: h["Cookie"] = "kbs-session-id=" + cookie
    c.request(method, path, body=json.dumps(body) if body is not None else None, headers=h)
    r = c.getresponse(); data = r.read(); sc = r.getheader("Set-Cookie") or ""
    ck = sc.split(";")[0].split("=", 1)[1] if sc.startswith("kbs-session-id=") else None
    try: j = json.loads(data)
    except Exception: j = None
    return r.status, j, ck
def b64u(b): return base64.urlsafe_b64encode(b).rstrip(b"=").decode()
k = ec.generate_private_key(ec.SECP256R1()).public_key().public_numbers()
jwk = {"kty": "EC", "crv": "P-256", "alg": "ECDH-ES+A256KW",
       "x": b64u(k.x.to_bytes(32, "big")), "y": b64u(k.y.to_bytes(32, "big"))}
def jcs(o): return json.dumps(o, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
def digest(nonce): return hashlib.sha384(jcs({"additional-evidence": "", "nonce": nonce, "tee-pubkey": jwk})).digest()
def evidence(rd):
    subprocess.run([vbin, "attest", "--tee", "tpm", *opts, "--option", "tpm.nonce_len=64",
                    "--report-data", (rd + bytes(64 - len(rd))).hex(), "-o", "ev.json"], check=True,
                   stdout=subprocess.DEVNULL)
    return json.load(open("ev.json"))
def session():
    s, j, ck = req("POST", "/kbs/v0/auth", {"version": "0.4.0", "tee": "tpm", "extra-params": ""})
    check("auth tpm -> 200", s == 200 and ck and j and "nonce" in j, (s, j))
    return j["nonce"], ck
def attest(nonce, ck, ev, init=None):
    b = {"runtime-data": {"nonce": nonce, "tee-pubkey": jwk},
         "tee-evidence": {"primary_evidence": ev, "additional_evidence": ""}}
    if init: b["init-data"] = init
    return req("POST", "/kbs/v0/attest", b, ck)
def claims(tok):
    p = tok.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))["submods"]["cpu0"]["ear.veraison.annotated-evidence"]
n, ck = session()
d = digest(n)
s, j, _ = attest(n, ck, evidence(d))
check("tpm, nonce = SHA-384(JCS(runtime data)) padded to 64 -> 200 token", s == 200 and "token" in (j or {}), (s, j))
if s == 200:
    a = claims(j["token"])
    cl = a.get("tpm", {})
    check("token: tee tpm, not insecure", a.get("tee") == "tpm" and a.get("insecure") is False, a.get("tee"))
    check("token: tpm.nonce = the padded digest", cl.get("tpm.nonce") == (d + bytes(16)).hex(), cl.get("tpm.nonce"))
    check("token: pcr.0 .. pcr.23, eventlog.kernel_cmdline, tpm.ak_trust",
          all("pcr.%d" % i in cl for i in range(24)) and cl.get("eventlog.kernel_cmdline") == "console=ttyS0 veritee.test=1"
          and cl.get("tpm.ak_trust") == "certificate", sorted(cl)[:8])
n, ck = session()
n2, _ = session()
s, j, _ = attest(n, ck, evidence(digest(n2)))
check("evidence for another challenge -> 403 VT_ERR_KBS_BINDING_MISMATCH", s == 403 and j and j.get("code") == "VT_ERR_KBS_BINDING_MISMATCH", (s, j))
n, ck = session()
s, j, _ = attest(n, ck, evidence(digest(n)), {"format": "toml", "body": "algorithm = \"sha384\"\n"})
check("init-data with tpm -> 403 VT_ERR_KBS_INIT_DATA", s == 403 and j and j.get("code") == "VT_ERR_KBS_INIT_DATA", (s, j))
sys.exit(1 if fails else 0)
PY
python3 c.py "$PC" "$BIN/veritee" "${TPM[@]}" >c.out 2>&1; rc=$?
cat c.out
pass=$((pass + $(grep -c '^ok:' c.out))); fail=$((fail + $(grep -c '^FAIL:' c.out)))
[ $rc = 0 ] || [ "$(grep -c '^FAIL:' c.out)" -gt 0 ] || bad "client exited $rc"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
