#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# azure_policy_doc_test.sh - docs/azure-policy.md says what is true: every claim name of its
# "Claims" table (pcr.0 … pcr.23, rtmr0 … rtmr3 expanded) is in `veritee verify --json` of the
# real Azure evidence of shared/testdata for the tee(s) the table gives (az-snp-vtpm: Trustee's
# SNP v2 capture; az-tdx-vtpm: the TDX v1 capture), every claim its example rules name
# ("claims" and "reference" keys) is too, and the examples are JSON. (The first example rule
# also releases a secret in tests/e2e/kbs_azure_test.sh.)
set -u
bin=${VERITEE_BIN:?}/veritee
td=${VERITEE_TESTDATA:?}
src=${VERITEE_SRC:?}
t=$(mktemp -d); trap 'rm -rf "$t"' EXIT
"$bin" verify "$td/azure/trustee_az_snp_vtpm_evidence_v2.json" --collateral "$td/snp/ask_ark_milan.pem" \
  --at 2025-01-29T16:33:43Z --json \
  --report-data 982f5c6e45df0ed3f10b6f60b02f0c8390e281300f3805e2279c16168cd6ae9aa398f647caa2338748cd0fd9f5f819ef \
  >"$t/snp.json" || { echo "FAIL: az-snp-vtpm evidence did not verify"; cat "$t/snp.json"; exit 1; }
mkdir "$t/col"
for f in tdx/automata_1025_tcbinfo_tdx_00806f050000.json tdx/automata_1025_qeidentity_tdqe.json \
  tdx/automata_1025_pck_platform_crl.der intel-root/root_ca_crl_20250320.der intel-root/tcb_signing_chain_2025.pem; do
  cp "$td/$f" "$t/col/"; done
"$bin" verify "$td/azure/trustee_az_tdx_vtpm_evidence_v1.json" --collateral "$t/col" --at 2025-10-19T19:00:00Z \
  --report-data 6368616c6c656e6765 --json >"$t/tdx.json" || { echo "FAIL: az-tdx-vtpm evidence did not verify"; cat "$t/tdx.json"; exit 1; }
python3 - "$src/docs/azure-policy.md" "$t/snp.json" "$t/tdx.json" <<'PY'
import json, re, sys
doc = open(sys.argv[1]).read()
have = {"az-snp-vtpm": set(json.load(open(sys.argv[2]))["claims"]),
        "az-tdx-vtpm": set(json.load(open(sys.argv[3]))["claims"])}
passed = failed = 0
def check(what, cond):
    global passed, failed
    if cond: passed += 1
    else: failed += 1; print("FAIL:", what)
sec = doc.split("\n## Claims\n", 1)[1].split("\n## ", 1)[0]
rows = [l for l in sec.splitlines() if l.startswith("| `")]
check("the Claims table has rows", len(rows) >= 15)
for l in rows:
    cells = [c.strip() for c in l.strip("|").split("|")]
    names = re.findall(r"`([^`]+)`", cells[0])
    m = re.fullmatch(r"(.*?)(\d+)", names[0]) if len(names) == 2 and "…" in cells[0] else None
    if m:  # a range: pcr.0 … pcr.23
        lo, hi = int(m.group(2)), int(re.fullmatch(r".*?(\d+)", names[1]).group(1))
        names = ["%s%d" % (m.group(1), i) for i in range(lo, hi + 1)]
    tees = ["az-snp-vtpm", "az-tdx-vtpm"] if cells[1] == "both" else [cells[1].split()[0]]
    check("tee column of %s: %s" % (names[0], cells[1]), all(t in have for t in tees))
    for n in names:
        for t in tees:
            check("%s is reported for %s" % (n, t), n in have.get(t, ()))
blocks = re.findall(r"```json\n(.*?)```", doc, re.S)
check("two example rules", len(blocks) == 2)
for b in blocks:
    try:
        j = json.loads(b)
    except ValueError as e:
        check("example is JSON: %s" % e, False); continue
    rules = j["rules"] if "rules" in j else [j]
    for r in rules:
        for n in list(r.get("claims", {})) + r.get("reference", []):
            check("example claim %s is reported" % n, any(n in h for h in have.values()))
print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
PY
