#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# azure_cli_test.sh - `veritee verify` on Azure confidential VM evidence (az-snp-vtpm,
# az-tdx-vtpm): the real Trustee evidence (kind detected and named, --report-data as the
# nonce, --json claims, --explain links, refusals), --report-data on raw SNP evidence, and
# evidence built here around sim-snp / sim-tdx hardware reports (an HCL report, a TPM quote
# signed by an openssl AK; verified only with the sim root, then insecure) as the Azure
# attester's tests will produce it.
set -u
bin=${VERITEE_BIN:?}/veritee
td=${VERITEE_TESTDATA:?}
pass=0; fail=0
ok() { pass=$((pass+1)); }
bad() { fail=$((fail+1)); echo "FAIL: $*"; }
out=/tmp/az_e2e.$$
expect_rc() { local want=$1; shift; "$@" >$out 2>&1; local rc=$?; if [ $rc -eq $want ]; then ok; else bad "rc $rc want $want: $*"; cat $out; fi; }
has() { grep -q -- "$1" $out && ok || { bad "output lacks: $1"; head -20 $out; }; }
t=$(mktemp -d); trap 'rm -rf "$t" $out' EXIT

# ---- real evidence: SNP v2 (nonce also in user-data), detected and named ------------------
ev2=$td/azure/trustee_az_snp_vtpm_evidence_v2.json
n2=982f5c6e45df0ed3f10b6f60b02f0c8390e281300f3805e2279c16168cd6ae9aa398f647caa2338748cd0fd9f5f819ef
milan=(--collateral "$td/snp/ask_ark_milan.pem" --at 2025-01-29T16:33:43Z)
expect_rc 0 "$bin" verify "$ev2" "${milan[@]}" --report-data $n2 --json
has '"tee": "az-snp-vtpm"'
has '"pcr.23": "0000000000000000000000000000000000000000000000000000000000000000"'
has "\"tpm.nonce\": \"$n2\""
has '"hcl.user_data": "982f5c6e'
has '"hcl.vm_configuration.secure-boot": true'
has '"measurement": "5b0ce64ad1c1f6375dbda5f760b98526ca1bcf91b8195091afc28e7b024251d68fe32e05af34048d6607678cd23283ff"'
expect_rc 0 "$bin" verify "$ev2" "${milan[@]}" --report-data $n2 --verifier az-snp-vtpm --explain
for step in "parse HCL report" "HCLAkPub" "SHA-256(var data)" "VMPL 0 is 0" "report signature (ECDSA P-384" \
            "TPM quote signature (raw RSASSA-PKCS1-v1_5" "equals the expected nonce" "pcrDigest = sha256" \
            "user-data begins with the nonce"; do has "$step"; done
expect_rc 1 "$bin" verify "$ev2" "${milan[@]}" --report-data ${n2%?}e
has VT_ERR_TPM_NONCE_MISMATCH
expect_rc 1 "$bin" verify "$ev2" "${milan[@]}" --report-data $n2 --verifier az-tdx-vtpm
has VT_ERR_UNKNOWN_EVIDENCE
expect_rc 1 "$bin" verify "$ev2" --at 2025-01-29T16:33:43Z --report-data $n2
has VT_ERR_SNP_NO_ASK
# v0 (byte arrays, VCEK PEM) and Genoa
expect_rc 0 "$bin" verify "$td/azure/trustee_az_snp_vtpm_evidence_v0.json" --collateral "$td/snp/ask_ark_milan.pem" \
  --at 2025-01-29T16:26:55Z --report-data 6368616c6c656e6765
expect_rc 0 "$bin" verify "$td/azure/trustee_az_snp_vtpm_evidence_genoa.json" --collateral "$td/snp/ask_ark_genoa.pem" \
  --at 2025-01-25T02:21:48Z --report-data 0218488bae25d2509232bf676f1a66a30d7372add909109b36016ef136f2938ca05475f8b46094de6b64270ea35d950f

# ---- real evidence: TDX v0 and v1 with DCAP collateral -------------------------------------
mkdir "$t/col"
for f in tdx/automata_1025_tcbinfo_tdx_00806f050000.json tdx/automata_1025_qeidentity_tdqe.json \
  tdx/automata_1025_pck_platform_crl.der intel-root/root_ca_crl_20250320.der intel-root/tcb_signing_chain_2025.pem; do
  cp "$td/$f" "$t/col/"; done
for v in v0 v1; do
  expect_rc 0 "$bin" verify "$td/azure/trustee_az_tdx_vtpm_evidence_$v.json" --collateral "$t/col" \
    --at 2025-10-19T19:00:00Z --report-data 6368616c6c656e6765 --json --explain
  has '"tee": "az-tdx-vtpm"'
  has '"tcb_status": "OutOfDate"'
  has '"mr_td": "024a32b070383331181619fa387cb4d55d1e38879f989933055ccad5bc2db795d1737b66205949d15469dc8c1ba7ab7b"'
  has 'HCL TDREPORT fields'
done
expect_rc 1 "$bin" verify "$td/azure/trustee_az_tdx_vtpm_evidence_v1.json" --collateral "$t/col" \
  --at 2025-11-12T10:45:33Z --report-data 6368616c6c656e6765

# ---- --report-data on raw SNP evidence: zero-padded to 64 bytes ---------------------------
rd=$(od -An -tx1 -j 80 -N 32 "$td/snp/trustee_azure_genoa_report_v3.bin" | tr -d ' \n')
mkdir "$t/genoa"; cp "$td/snp/ask_ark_genoa.pem" "$td/snp/trustee_azure_genoa_vcek.pem" "$t/genoa/"
expect_rc 0 "$bin" verify "$td/snp/trustee_azure_genoa_report_v3.bin" --collateral "$t/genoa" --at 2025-01-25T00:00:00Z --report-data "$rd" --explain
has "equals the expected report data"
expect_rc 1 "$bin" verify "$td/snp/trustee_azure_genoa_report_v3.bin" --collateral "$t/genoa" --at 2025-01-25T00:00:00Z --report-data "${rd}01"
has VT_ERR_REPORT_DATA_MISMATCH

# ---- sim-snp / sim-tdx inner reports, evidence v2 built here ------------------------------
"$bin" sim init "$t/sim" >/dev/null || bad "sim init"
openssl genrsa -out "$t/ak.pem" 2048 2>/dev/null || bad "openssl genrsa"
nonce=00112233445566778899aabbccddeeff
mk() { python3 "$t/mk.py" "$@"; }
cat > "$t/mk.py" <<'PY'
import base64, hashlib, json, struct, subprocess, sys
step, d, kind, nonce = sys.argv[1], sys.argv[2], sys.argv[3], bytes.fromhex(sys.argv[4])
def b64u(b): return base64.urlsafe_b64encode(b).rstrip(b'=').decode()
mod = subprocess.run(['openssl', 'rsa', '-in', d + '/ak.pem', '-noout', '-modulus'], capture_output=True,
                     text=True, check=True).stdout.strip().split('=')[1]
var = json.dumps({'keys': [{'kid': 'HCLAkPub', 'key_ops': ['sign'], 'kty': 'RSA', 'e': 'AQAB',
                            'n': b64u(bytes.fromhex(mod))}],
                  'vm-configuration': {'secure-boot': True, 'tpm-enabled': True},
                  'user-data': (nonce + bytes(64 - len(nonce))).hex().upper()},
                 separators=(',', ':')).encode()
if step == 'rd':
    print(hashlib.sha256(var).hexdigest()); sys.exit()
hw = open(d + '/hw.bin', 'rb').read()
if kind == 'tdx':  # the TDREPORT carrying the TD quote body's fields (v4: body at 48)
    b = hw[48:48 + 584]; tr = bytearray(1184)
    for off, boff, n in ((128, 520, 64), (264, 0, 16), (280, 16, 48), (512, 120, 8), (520, 128, 8),
                         (528, 136, 48), (576, 184, 48), (624, 232, 48), (672, 280, 48), (720, 328, 192)):
        tr[off:off + n] = b[boff:boff + n]
    hwr, rtype = bytes(tr), 4
else:
    hwr, rtype = hw, 2
hcl = b'HCLA' + struct.pack('<IIII', 2, 0x4d4 + len(var), 2, 0) + bytes(12) + hwr
hcl += struct.pack('<IIIII', 20 + len(var), 1, rtype, 1, len(var)) + var
hcl += bytes(2600 - len(hcl))
pcrs = [hashlib.sha256(bytes([i])).digest() for i in range(24)]
name = b'\x00\x0b' + bytes(32)
msg = struct.pack('>IH', 0xff544347, 0x8018) + struct.pack('>H', len(name)) + name
msg += struct.pack('>H', len(nonce)) + nonce + struct.pack('>QIIBQ', 1, 1, 0, 1, 0x2020031200120003)
msg += struct.pack('>IHB', 1, 0x000b, 3) + b'\xff\xff\xff'
msg += struct.pack('>H', 32) + hashlib.sha256(b''.join(pcrs)).digest()
open(d + '/msg', 'wb').write(msg)
sig = subprocess.run(['openssl', 'dgst', '-sha256', '-sign', d + '/ak.pem', d + '/msg'], capture_output=True,
                     check=True).stdout
ev = {'version': 2, 'tpm_quote': {'signature': sig.hex(), 'message': msg.hex(), 'pcrs': [p.hex() for p in pcrs]},
      'hcl_report': b64u(hcl)}
if kind == 'tdx':
    ev['td_quote'] = b64u(hw)
else:
    ev['vcek'] = b64u(open(d + '/sim/snp/vcek.der', 'rb').read())
json.dump(ev, open(d + '/ev-' + kind + '.json', 'w'))
PY
for kind in snp tdx; do
  rd=$(mk rd "$t" $kind $nonce) || bad "mk rd"
  "$bin" attest --tee sim-$kind --sim-dir "$t/sim" --report-data "$rd" -o "$t/hw.bin" >/dev/null || bad "attest sim-$kind"
  mk ev "$t" $kind $nonce || bad "mk ev $kind"
  col="$t/sim"; [ $kind = tdx ] && col="$t/sim/intel"
  expect_rc 0 "$bin" verify "$t/ev-$kind.json" --collateral "$col" --root-ca "$t/sim/root-ca.pem" --report-data $nonce --json
  has "\"tee\": \"az-$kind-vtpm\""
  has '"insecure": true'
  has "\"tpm.nonce\": \"$nonce\""
  expect_rc 1 "$bin" verify "$t/ev-$kind.json" --collateral "$col" --report-data $nonce
  expect_rc 1 "$bin" verify "$t/ev-$kind.json" --collateral "$col" --root-ca "$t/sim/root-ca.pem" --report-data ${nonce}00
  has VT_ERR_TPM_NONCE_MISMATCH
done

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
