#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# az_vtpm_test.sh - the az-snp-vtpm / az-tdx-vtpm attesters end to end on a real TPM 2.0
# implementation: swtpm (socket TCTI "swtpm:host=127.0.0.1,port=N"), provisioned by
# `veritee sim azure-vtpm` like Azure's paravisor provisions a CVM's vTPM (AK at 0x81000003,
# HCL report with a sim-snp report / sim-tdx TDREPORT in NV 0x01400001), and a loopback fake
# of the CVM's local endpoints (az_fake_imds.py: THIM VCEK, /acc/tdquote). Checks the evidence
# JSON shape byte for byte where it is fixed, and verifies every TPM quote independently with
# tpm2_checkquote (tpm2-tools) against the AK public read from the TPM and the nonce.
# Skips (77) without swtpm / tpm2-tools / python3, or when veritee was built without libtss2.
set -u
bin=${VERITEE_BIN:?}/veritee
src=${VERITEE_SRC:?}
for c in swtpm tpm2_checkquote tpm2_readpublic python3; do
    command -v "$c" >/dev/null 2>&1 || { echo "SKIP: $c not installed (apt-get install swtpm swtpm-tools tpm2-tools)"; exit 77; }
done
pass=0; fail=0
ok() { pass=$((pass+1)); }
bad() { fail=$((fail+1)); echo "FAIL: $*"; }
t=$(mktemp -d)
out=$t/out
expect_rc() { local want=$1; shift; "$@" >"$out" 2>&1; local rc=$?; if [ $rc -eq $want ]; then ok; else bad "rc $rc want $want: $*"; cat "$out"; fi; }
swtpm_pid=""; imds_pid=""
cleanup() {
    [ -n "$swtpm_pid" ] && kill "$swtpm_pid" 2>/dev/null
    [ -n "$imds_pid" ] && kill "$imds_pid" 2>/dev/null
    rm -rf "$t"
}
trap cleanup EXIT

# ---- swtpm on a free loopback port (socket mode, temporary state, started and cleared) ----
source "$src/tests/e2e/swtpm_lib.sh"
start_swtpm "$t" || { bad "swtpm did not start"; cat "$t/swtpm.log"; echo "$pass passed, $fail failed"; exit 1; }
tcti="swtpm:host=127.0.0.1,port=$port"
export TPM2TOOLS_TCTI=$tcti

"$bin" sim init "$t/sim" >/dev/null || bad "sim init"
rd1=$(python3 -c 'print("a1b2c3d4" * 8)')            # 32 bytes: extraData = these 32 bytes
rd2=$(python3 -c 'print("5e" * 48)')                 # 48 bytes
"$bin" sim azure-vtpm --tee az-snp-vtpm --sim-dir "$t/sim" --tcti "$tcti" --user-data "$rd1" >"$out" 2>&1
rc=$?
if [ $rc -ne 0 ] && grep -q "not supported" "$out"; then
    echo "SKIP: veritee built without libtss2 (apt-get install libtss2-dev)"; exit 77
fi
[ $rc -eq 0 ] && ok || { bad "sim azure-vtpm (snp) rc $rc"; cat "$out"; }
grep -q "AK 0x81000003" "$out" && ok || bad "provisioning output"
tpm2_readpublic -c 0x81000003 -f pem -o "$t/ak.pem" >"$t/ak.txt" 2>/dev/null && ok || bad "readpublic AK"
grep -q "rsassa" "$t/ak.txt" && grep -q "restricted" "$t/ak.txt" && grep -q "sign" "$t/ak.txt" && ok || { bad "AK attributes"; cat "$t/ak.txt"; }

python3 "$src/tests/e2e/az_fake_imds.py" "$t/sim" "$t/imds.port" 2>"$t/imds.log" &
imds_pid=$!
for _ in $(seq 50); do [ -s "$t/imds.port" ] && break; sleep 0.1; done
imds="http://127.0.0.1:$(cat "$t/imds.port")"
vcek_url="$imds/metadata/THIM/amd/certification"
quote_url="$imds/acc/tdquote"

# check.py EVIDENCE KIND VERSION NONCE_HEX USER_DATA_HEX SIM_DIR OUTDIR: the JSON shape and
# the bindings, and the tpm2_checkquote inputs (message, TPMT_SIGNATURE, pcrs file).
cat >"$t/check.py" <<'EOF'
import base64, hashlib, json, re, struct, sys
ev, kind, version, nonce, user, sim, od = sys.argv[1:8]
raw = open(ev, "rb").read()
d = json.loads(raw)
extra = "vcek" if kind == "az-snp-vtpm" else "td_quote"
assert list(d) == ["version", "tpm_quote", "hcl_report", extra], list(d)
assert list(d["tpm_quote"]) == ["signature", "message", "pcrs"], list(d["tpm_quote"])
assert d["version"] == int(version)
assert b" " not in raw and b"\n" not in raw, "compact JSON"
q = d["tpm_quote"]
hexre = re.compile(r"^[0-9a-f]+$")
assert hexre.match(q["signature"]) and len(q["signature"]) == 512
assert hexre.match(q["message"])
assert len(q["pcrs"]) == 24 and all(hexre.match(p) and len(p) == 64 for p in q["pcrs"])
b64re = re.compile(r"^[A-Za-z0-9_-]+={0,2}$")
for k in ("hcl_report", extra):
    assert b64re.match(d[k]) and len(d[k]) % 4 == 0, k + " is not padded base64url"
hcl = base64.urlsafe_b64decode(d["hcl_report"])
m = bytes.fromhex(q["message"])
assert m[:6] == bytes.fromhex("ff5443478018"), "TPMS_ATTEST magic/type"
n = struct.unpack(">H", m[6:8])[0]
off = 8 + n
xl = struct.unpack(">H", m[off:off + 2])[0]
assert m[off + 2:off + 2 + xl].hex() == nonce, ("extraData", m[off + 2:off + 2 + xl].hex(), nonce)
pcrs = b"".join(bytes.fromhex(p) for p in q["pcrs"])
assert m[-34:] == b"\x00\x20" + hashlib.sha256(pcrs).digest(), "pcrDigest"
# HCL report
magic, ver, size, req, status = struct.unpack("<4sIIII", hcl[:20])
assert (magic, ver, req, status) == (b"HCLA", 2, 2, 0)
isz, iver, rtype, htype, vlen = struct.unpack("<IIIII", hcl[0x4C0:0x4D4])
assert (iver, htype) == (1, 1) and rtype == (2 if kind == "az-snp-vtpm" else 4)
assert isz == 20 + vlen and size == 0x4D4 + vlen and len(hcl) == 0x4D4 + vlen
var = hcl[0x4D4:0x4D4 + vlen]
vd = json.loads(var)
assert list(vd) == ["keys", "vm-configuration", "user-data"]
assert vd["keys"][0]["kid"] == "HCLAkPub" and vd["keys"][0]["kty"] == "RSA" and vd["keys"][0]["e"] == "AQAB"
assert vd["user-data"] == user.upper(), "user-data"
akn = int.from_bytes(base64.urlsafe_b64decode(vd["keys"][0]["n"] + "=="), "big")
h = hashlib.sha256(var).digest()
if kind == "az-snp-vtpm":
    hw = hcl[0x20:0x20 + 1184]
    assert struct.unpack("<I", hw[0x30:0x34])[0] == 0, "VMPL 0"
    assert hw[0x50:0x90] == h + bytes(32), "SNP report_data = SHA-256(var data) || 0"
    vcek = base64.urlsafe_b64decode(d["vcek"])
    assert vcek == open(sim + "/snp/vcek.der", "rb").read(), "vcek is the sim VCEK (DER)"
else:
    td = hcl[0x20:0x20 + 1024]
    assert td[0] == 0x81 and hcl[0x20 + 1024:0x20 + 1184] == bytes(160)
    assert td[128:192] == h + bytes(32), "TDREPORT report_data"
    assert td == open(sim + "/azure/tdreport.bin", "rb").read()
    tq = base64.urlsafe_b64decode(d["td_quote"])
    assert tq == open(sim + "/azure/td_quote.bin", "rb").read()
    body = tq[48:48 + 584]
    assert body[520:584] == td[128:192] and body[136:184] == td[512 + 16:512 + 64], "quote body = TDREPORT"
# tpm2_checkquote inputs
open(od + "/msg.bin", "wb").write(m)
s = bytes.fromhex(q["signature"])
open(od + "/sig.bin", "wb").write(struct.pack(">HHH", 0x14, 0x0B, len(s)) + s)
# tpm2-tools' pcrs file: TPML_PCR_SELECTION and TPML_DIGESTs as C structs (x86-64 layout)
sel = struct.pack("<IHB4sx", 1, 0x0B, 3, b"\xff\xff\xff\x00") + bytes(8 * 15)
dig = b""
for i in range(0, 24, 8):
    dig += struct.pack("<I", 8) + b"".join(struct.pack("<H", 32) + pcrs[j * 32:(j + 1) * 32] + bytes(32) for j in range(i, i + 8))
open(od + "/pcrs.bin", "wb").write(sel + struct.pack("<I", 3) + dig)
print("ok", kind, "version", version, "akn", hex(akn)[:18])
EOF

checkquote() { # NONCE: the quote in $t verifies with the AK and this nonce (and the PCR values)
    tpm2_checkquote -u "$t/ak.pem" -m "$t/msg.bin" -s "$t/sig.bin" -f "$t/pcrs.bin" -g sha256 -q "$1" >"$out" 2>&1
}

# ---- az-snp-vtpm, evidence v2 (user-data = report data) ----
expect_rc 0 "$bin" attest --tee az-snp-vtpm --option "tpm.tcti=$tcti" --option "az.vcek_url=$vcek_url" \
    --report-data "$rd1" -o "$t/snp.json"
expect_rc 0 python3 "$t/check.py" "$t/snp.json" az-snp-vtpm 2 "$rd1" "$rd1$(printf '0%.0s' $(seq 64))" "$t/sim" "$t"
checkquote "$rd1" && ok || { bad "tpm2_checkquote snp v2"; cat "$out"; }
checkquote "${rd1%??}00" && bad "tpm2_checkquote accepted a wrong nonce" || ok
cp "$t/pcrs.bin" "$t/pcrs.good"
python3 -c "import sys; b=bytearray(open(sys.argv[1],'rb').read()); b[140]^=1; open(sys.argv[1],'wb').write(b)" "$t/pcrs.bin"
checkquote "$rd1" && bad "tpm2_checkquote accepted a changed PCR" || ok
# a report data the paravisor did not put in user-data: refused, not silently unbound
expect_rc 1 "$bin" attest --tee az-snp-vtpm --option "tpm.tcti=$tcti" --option "az.vcek_url=$vcek_url" \
    --report-data "$rd2" -o "$t/x.json"
grep -q "user-data does not equal the report data" "$out" && ok || { bad "user-data refusal message"; cat "$out"; }
[ ! -e "$t/x.json" ] && ok || bad "evidence written despite the refusal"
# evidence v1: no user-data binding, the nonce only in the quote (48 bytes, as on Azure)
expect_rc 0 "$bin" attest --tee az-snp-vtpm --option "tpm.tcti=$tcti" --option "az.vcek_url=$vcek_url" \
    --option az.evidence_version=1 --report-data "$rd2" -o "$t/snp1.json"
expect_rc 0 python3 "$t/check.py" "$t/snp1.json" az-snp-vtpm 1 "$rd2" "$rd1$(printf '0%.0s' $(seq 64))" "$t/sim" "$t"
checkquote "$rd2" && ok || { bad "tpm2_checkquote snp v1"; cat "$out"; }
# az.nonce_len: the whole 64 bytes (trailing zeros kept) go into extraData
rd64="$rd1$(printf '0%.0s' $(seq 64))"
expect_rc 0 "$bin" attest --tee az-snp-vtpm --option "tpm.tcti=$tcti" --option "az.vcek_url=$vcek_url" \
    --option az.nonce_len=64 --report-data "$rd1" -o "$t/snp64.json"
expect_rc 0 python3 "$t/check.py" "$t/snp64.json" az-snp-vtpm 2 "$rd64" "$rd64" "$t/sim" "$t"
checkquote "$rd64" && ok || { bad "tpm2_checkquote nonce_len=64"; cat "$out"; }
# refusals: unknown option, bad values, wrong TEE type, no endpoint, no TPM
expect_rc 2 "$bin" attest --tee az-snp-vtpm --option "tpm.tcti=$tcti" --option az.bogus=1 --report-data "$rd1" -o "$t/x.json"
grep -q "unknown --option .az.bogus." "$out" && ok || bad "unknown option message"
expect_rc 1 "$bin" attest --tee az-snp-vtpm --option "tpm.tcti=$tcti" --option az.nonce_len=65 --report-data "$rd1" -o "$t/x.json"
expect_rc 1 "$bin" attest --tee az-snp-vtpm --option "tpm.tcti=$tcti" --option az.evidence_version=3 --report-data "$rd1" -o "$t/x.json"
expect_rc 1 "$bin" attest --tee az-tdx-vtpm --option "tpm.tcti=$tcti" --option "az.quote_url=$quote_url" --report-data "$rd1" -o "$t/x.json"
grep -q "other TEE type" "$out" && ok || { bad "az-tdx-vtpm on an SNP HCL not refused by type"; cat "$out"; }
expect_rc 1 "$bin" attest --tee az-snp-vtpm --option "tpm.tcti=$tcti" --option "az.vcek_url=$imds/nothing" --report-data "$rd1" -o "$t/x.json"
grep -q "Azure local endpoint" "$out" && ok || bad "endpoint failure message"
expect_rc 1 "$bin" attest --tee az-snp-vtpm --option "tpm.tcti=device:$t/no-such-tpm" --report-data "$rd1" -o "$t/x.json"
grep -q "TCTI" "$out" && ok || { bad "missing TPM message"; cat "$out"; }

# ---- az-tdx-vtpm (TD quote from the fake /acc/tdquote) ----
expect_rc 0 "$bin" sim azure-vtpm --tee az-tdx-vtpm --sim-dir "$t/sim" --tcti "$tcti" --user-data "$rd2"
tpm2_readpublic -c 0x81000003 -f pem -o "$t/ak.pem" >/dev/null 2>&1 && ok || bad "readpublic AK (tdx)"
expect_rc 0 "$bin" attest --tee az-tdx-vtpm --option "tpm.tcti=$tcti" --option "az.quote_url=$quote_url" \
    --report-data "$rd2" -o "$t/tdx.json"
expect_rc 0 python3 "$t/check.py" "$t/tdx.json" az-tdx-vtpm 2 "$rd2" "$rd2$(printf '0%.0s' $(seq 32))" "$t/sim" "$t"
checkquote "$rd2" && ok || { bad "tpm2_checkquote tdx"; cat "$out"; }
expect_rc 1 "$bin" attest --tee az-snp-vtpm --option "tpm.tcti=$tcti" --option "az.vcek_url=$vcek_url" --report-data "$rd2" -o "$t/x.json"
grep -q "other TEE type" "$out" && ok || bad "az-snp-vtpm on a TDX HCL not refused by type"
# the endpoint refuses a TDREPORT it does not know (stale provisioning): attest fails
cp "$t/sim/azure/tdreport.bin" "$t/tdreport.keep"
printf 'x' | dd of="$t/sim/azure/tdreport.bin" bs=1 seek=300 conv=notrunc status=none
expect_rc 1 "$bin" attest --tee az-tdx-vtpm --option "tpm.tcti=$tcti" --option "az.quote_url=$quote_url" --report-data "$rd2" -o "$t/x.json"
cp "$t/tdreport.keep" "$t/sim/azure/tdreport.bin"

# ---- az.hcl=sim: the attester plays the paravisor (new AK + HCL report with user-data = the
# report data, sim PKI of --sim-dir), so evidence v2 binds any report data ----
rd3=$(python3 -c 'print("c7" * 40)')
for tee in az-snp-vtpm az-tdx-vtpm; do
    expect_rc 0 "$bin" attest --tee "$tee" --sim-dir "$t/sim" --option "tpm.tcti=$tcti" --option az.hcl=sim \
        --option "az.vcek_url=$vcek_url" --option "az.quote_url=$quote_url" --report-data "$rd3" -o "$t/dyn.json"
    tpm2_readpublic -c 0x81000003 -f pem -o "$t/ak.pem" >/dev/null 2>&1 || bad "readpublic AK ($tee, az.hcl=sim)"
    expect_rc 0 python3 "$t/check.py" "$t/dyn.json" "$tee" 2 "$rd3" "$rd3$(printf '0%.0s' $(seq 48))" "$t/sim" "$t"
    checkquote "$rd3" && ok || { bad "tpm2_checkquote $tee az.hcl=sim"; cat "$out"; }
done
expect_rc 2 "$bin" attest --tee az-snp-vtpm --option "tpm.tcti=$tcti" --option az.hcl=sim \
    --option "az.vcek_url=$vcek_url" --report-data "$rd3" -o "$t/x.json"
grep -q "sim" "$out" && ok || bad "az.hcl=sim without a sim directory"
expect_rc 1 "$bin" attest --tee az-snp-vtpm --option "tpm.tcti=$tcti" --option az.hcl=other --report-data "$rd3" -o "$t/x.json"

# ---- attested TLS: tls-server --tee az-snp-vtpm <-> tls-client --tee sim-tdx, mutual. The
# certificate binding (SHA-256 of the RA-TLS claims, 32 bytes) is the quote's extraData and the
# start of the HCL user-data (az.hcl=sim). Runs when the az verifier accepts the evidence in a
# certificate (CBOR tag 0x1a7510). ----
AZ=(--tee az-snp-vtpm --sim-dir "$t/sim" --option "tpm.tcti=$tcti" --option az.hcl=sim --option "az.vcek_url=$vcek_url")
expect_rc 0 "$bin" cert create "${AZ[@]}" --key-out "$t/az.key" --cert-out "$t/az.pem"
if "$bin" verify "$t/az.pem" --collateral "$t/sim" --root-ca "$t/sim/root-ca.pem" >"$out" 2>&1; then
    ok
    "$bin" tls-server --listen 127.0.0.1:0 "${AZ[@]}" --mutual --root-ca "$t/sim/root-ca.pem" \
        --max-conns 1 2>"$t/srv.log" &
    srv=$!
    tport=""
    for _ in $(seq 150); do
        tport=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$t/srv.log" | head -1)
        [ -n "$tport" ] && break
        kill -0 "$srv" 2>/dev/null || break
        sleep 0.1
    done
    echo "azure hello" | timeout 60 "$bin" tls-client --connect "127.0.0.1:$tport" --tee sim-tdx \
        --sim-dir "$t/sim" --root-ca "$t/sim/root-ca.pem" --collateral "$t/sim" >"$t/c.out" 2>"$t/c.err"
    [ $? -eq 0 ] && ok || { bad "tls-client rc"; cat "$t/c.err" "$t/srv.log"; }
    for want in '"tee": "az-snp-vtpm"' '"ratls.binding": true' 'azure hello'; do
        grep -qF -- "$want" "$t/c.out" && ok || { bad "tls-client output lacks $want"; cat "$t/c.out"; }
    done
    for _ in $(seq 150); do kill -0 "$srv" 2>/dev/null || break; sleep 0.1; done
    kill "$srv" 2>/dev/null
    grep -qF 'ok, client verified: {"verified":true,"tee":"tdx","insecure":true' "$t/srv.log" && ok || { bad "server did not verify the sim-tdx client"; cat "$t/srv.log"; }
else
    echo "note: the az-snp-vtpm verifier does not accept RA-TLS evidence (tag 0x1a7510) in this build; TLS not run"
    grep "error" "$out"
fi

# ---- verify with the az verifiers, when this build has them (branch az-verify) ----
if "$bin" instances 2>/dev/null | grep -q "^verifier *az-snp-vtpm"; then
    expect_rc 0 "$bin" verify "$t/snp.json" --report-data "$rd1" --collateral "$t/sim" --root-ca "$t/sim/root-ca.pem" --json
    grep -q "\"tee\": \"az-snp-vtpm\"" "$out" && grep -q "\"insecure\": true" "$out" && ok || { bad "snp verify json"; cat "$out"; }
    expect_rc 0 "$bin" verify "$t/tdx.json" --report-data "$rd2" --collateral "$t/sim/intel" --root-ca "$t/sim/root-ca.pem" --json
    grep -q "\"tee\": \"az-tdx-vtpm\"" "$out" && grep -q "\"insecure\": true" "$out" && ok || { bad "tdx verify json"; cat "$out"; }
    expect_rc 0 "$bin" verify "$t/snp1.json" --report-data "$rd2" --collateral "$t/sim" --root-ca "$t/sim/root-ca.pem"
    expect_rc 0 "$bin" verify "$t/snp64.json" --report-data "$rd64" --collateral "$t/sim" --root-ca "$t/sim/root-ca.pem"
    expect_rc 1 "$bin" verify "$t/snp.json" --report-data "$rd2" --collateral "$t/sim" --root-ca "$t/sim/root-ca.pem"
    expect_rc 1 "$bin" verify "$t/snp.json" --report-data "$rd1" --collateral "$t/sim"
    expect_rc 1 "$bin" verify "$t/tdx.json" --report-data "$rd1" --collateral "$t/sim/intel" --root-ca "$t/sim/root-ca.pem"
else
    echo "note: no az-snp-vtpm verifier in this build; attest -> verify not run"
fi

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
