#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# eventlog_policy_doc_test.sh - docs/eventlog.md "Writing a policy over boot claims" says what
# is true: its two example rules are JSON, and every claim they name is real output with the
# value shown, compared as the policy compares (the claim's string form: true/false, decimal,
# arrays as compact JSON): the GCE rule against `veritee eventlog show --claims` of
# shared/testdata's gotpm_cos-101-amd-sev.bin; the TD rule against `veritee verify --eventlog`
# of a sim-tdx quote whose RTMRs are the replay of Trustee's CCEL_data_grub with the example's
# AAEL image-pull entry appended (as tests/e2e/kbs_eventlog_test.sh builds it), the eventlog
# claims and the quote's own claims (mr_config_id). The same TD claims are required and
# released through the KBS in kbs_eventlog_test.sh.
set -u
bin=${VERITEE_BIN:?}/veritee
td=${VERITEE_TESTDATA:?}
src=${VERITEE_SRC:?}
t=$(mktemp -d); trap 'rm -rf "$t"' EXIT
cd "$t" || exit 1
"$bin" eventlog show "$td/eventlog/gotpm_cos-101-amd-sev.bin" --claims --json >gce.json \
  || { echo "FAIL: eventlog show --claims"; exit 1; }
python3 - "$td/eventlog/trustee_CCEL_data_grub" <<'PY' || { echo "FAIL: building the TD log"; exit 1; }
import hashlib, struct, sys
b = open(sys.argv[1], "rb").read()
off = 32 + struct.unpack_from("<I", b, 28)[0]
while True:
    idx, typ = struct.unpack_from("<II", b, off)
    if idx == 0xffffffff or (idx == 0 and typ == 0): break
    o = off + 12 + struct.unpack_from("<I", b, off + 8)[0] * 50
    off = o + 4 + struct.unpack_from("<I", b, o)[0]
text = b'github.com/confidential-containers PullImage {"image":"docker.io/library/alpine:3.20","digest":"sha256:0c0c"}'
data = struct.pack("<II", 0x4141454c, len(text)) + text
rec = struct.pack("<IIIH", 4, 6, 1, 0x0c) + hashlib.sha384(data).digest() + struct.pack("<I", len(data)) + data
open("td.bin", "wb").write(b[:off] + rec + b"\xff" * 8)
PY
"$bin" sim init sim >/dev/null 2>&1 || { echo "FAIL: sim init"; exit 1; }
"$bin" attest --tee sim-tdx --sim-dir sim --option sim.eventlog=td.bin -o q.bin 2>/dev/null \
  || { echo "FAIL: sim-tdx attest"; exit 1; }
"$bin" verify q.bin --root-ca sim/root-ca.pem --collateral sim/intel --eventlog td.bin --json >td.json \
  || { echo "FAIL: verify --eventlog"; cat td.json; exit 1; }
python3 - "$src/docs/eventlog.md" gce.json td.json <<'PY'
import json, re, sys
doc = open(sys.argv[1]).read()
gce = json.load(open(sys.argv[2]))["claims_if_matched"]
tdr = json.load(open(sys.argv[3]))
td = dict(tdr["claims"]); td.update(tdr["eventlog"]["claims"])
passed = failed = 0
def check(what, cond):
    global passed, failed
    if cond: passed += 1
    else: failed += 1; print("FAIL:", what)
def text(v):  # the policy input's string form of a claim / a condition
    if isinstance(v, bool): return "true" if v else "false"
    if isinstance(v, (list, dict)): return json.dumps(v, separators=(",", ":"))
    return str(v)
sec = doc.split("\n## Writing a policy over boot claims\n", 1)[1].split("\n## ", 1)[0]
blocks = re.findall(r"```json\n(.*?)```", sec, re.S)
check("two example rules", len(blocks) == 2)
for b, have, what in zip(blocks, (gce, td), ("GCE", "TD")):
    try:
        rule = json.loads(b)
    except ValueError as e:
        check("%s example is JSON: %s" % (what, e), False); continue
    claims = rule.get("claims", {})
    check("%s example names eventlog claims" % what, sum(k.startswith("eventlog.") for k in claims) >= 3)
    for n, want in claims.items():
        check("%s: %s is real output" % (what, n), n in have)
        if n in have:
            check("%s: %s = %s (have %s)" % (what, n, text(want)[:60], text(have[n])[:60]), text(want) == text(have[n]))
check("TD eventlog verified", tdr["eventlog"]["verified"] is True)
print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
PY
