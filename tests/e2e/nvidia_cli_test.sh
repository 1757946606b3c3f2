#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# nvidia_cli_test.sh - the nvidia verifier through the veritee tool: guest-components' device
# evidence JSON built from the real Hopper report and chain of shared/testdata/nvidia, detected
# without --verifier and named with it; --report-data as the SPDM nonce (exit 0 / 1), --at,
# --json claims (tee, gpu.0.*), --explain links, a flipped report byte (exit 1), --root-ca.
set -u
bin=${VERITEE_BIN:?}/veritee
td=${VERITEE_TESTDATA:?}
pass=0; fail=0
ok() { pass=$((pass+1)); }
bad() { fail=$((fail+1)); echo "FAIL: $*"; }
out=$(mktemp); t=$(mktemp -d); trap 'rm -rf "$t" "$out"' EXIT
expect_rc() { local want=$1; shift; "$@" >"$out" 2>&1; local rc=$?; if [ $rc -eq $want ]; then ok; else bad "rc $rc want $want: $*"; cat "$out"; fi; }
N=931d8dd0add203ac3d8b4fbde75e115278eefcdceac5b87671a748f32364dfcb
AT=2024-06-01T00:00:00Z

python3 - "$td/nvidia" "$t" <<'PY'
import base64, json, sys
d, t = sys.argv[1], sys.argv[2]
rep = bytes.fromhex(open(d + "/trustee_hopperAttestationReport.txt").read().strip())
chain = open(d + "/trustee_hopper_cert_chain_case1.txt").read()
def ev(r):
    return {"arch": "HOPPER", "uuid": "GPU-0", "evidence": base64.b64encode(r).decode(),
            "certificate": base64.b64encode(chain.encode()).decode()}
json.dump({"device_evidence_list": [ev(rep)]}, open(t + "/ev.json", "w"))
bad = bytearray(rep); bad[37 + 8 + 100] ^= 1
json.dump([ev(bytes(bad))], open(t + "/bad.json", "w"))
PY

expect_rc 0 "$bin" verify "$t/ev.json" --report-data $N --at $AT --json
grep -q '"tee": "nvidia"' "$out" && ok || bad "tee is not nvidia"
grep -q '"gpu.0.driver_version": "550.90.07"' "$out" && ok || bad "driver version claim"
grep -q '"gpu.0.revocation": "not-checked"' "$out" && ok || bad "revocation claim"
grep -q '"gpu.0.rim": "not-appraised"' "$out" && ok || bad "rim claim"
grep -q '"gpu.0.measurement.64"' "$out" && ok || bad "measurement claims"
expect_rc 0 "$bin" verify "$t/ev.json" --verifier nvidia --report-data $N --at $AT --explain
for link in "parse SPDM 1.1 report" "device chain (5 certificates" "SPDM signature" \
            "FWID of the opaque data" "request nonce $N equals the expected nonce: ok"; do
  grep -qF "$link" "$out" && ok || bad "--explain lacks: $link"
done
expect_rc 1 "$bin" verify "$t/ev.json" --report-data 4cff7f5380ead8fad8ec2c531c110aca4302a88f603792801a8ca29ee151af2e --at $AT
grep -q NONCE_MISMATCH "$out" && ok || bad "nonce mismatch not named"
expect_rc 1 "$bin" verify "$t/bad.json" --report-data $N --at $AT
grep -q NV_SIGNATURE "$out" && ok || bad "signature failure not named"
expect_rc 1 "$bin" verify "$t/ev.json" --at 2020-01-01T00:00:00Z
expect_rc 0 "$bin" verify "$t/ev.json" --at $AT --root-ca "$td/nvidia/nvtrust_verifier_device_root.pem"

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
