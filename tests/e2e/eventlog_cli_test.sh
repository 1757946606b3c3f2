#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# eventlog_cli_test.sh - `veritee eventlog show` on the real logs of shared/testdata: every
# "eventlog" case of cases.json, --json, gives exactly the expected registers ("pcrs" per bank
# for TCG logs, "rtmrs" 0..3 for CCEL, format guessed and given); the text listing names the
# events and replayed registers; a SHA-1-only log needs --allow-sha1-log; a truncated log, a
# bad --format, a missing file and a missing operand exit 2; --help tells the truth.
set -u
bin=${VERITEE_BIN:?}/veritee
td=${VERITEE_TESTDATA:?}
command -v python3 >/dev/null || { echo "python3 not found"; exit 77; }
pass=0; fail=0
ok() { pass=$((pass+1)); }
bad() { fail=$((fail+1)); echo "FAIL: $*"; }
t=$(mktemp -d); trap 'rm -rf "$t"' EXIT
out=$t/out
expect_rc() { local want=$1; shift; "$@" >"$out" 2>&1; local rc=$?; if [ $rc -eq $want ]; then ok; else bad "rc $rc want $want: $*"; head -5 "$out"; fi; }

# every case through --json, compared with cases.json (python prints "id args" lines and checks)
python3 - "$td" > "$t/cases" <<'PY' || bad "cases.json unreadable"
import json, sys
d = json.load(open(sys.argv[1] + "/cases.json"))
for c in d["eventlog"]:
    f = c["files"].get("event_log") or c["files"]["ccel"]
    extra = "--allow-sha1-log" if c.get("format") == "sha1" else ""
    print(c["id"], f, extra)
PY
n=0
while read -r id file extra; do
    n=$((n+1))
    for fmt in "" "--format $(case $id in ccel-*) echo ccel;; *) echo tcg;; esac)"; do
        # shellcheck disable=SC2086
        if ! "$bin" eventlog show "$td/$file" --json $extra $fmt > "$t/j" 2>"$t/err"; then
            bad "$id: eventlog show $fmt failed: $(cat "$t/err")"; continue
        fi
        if python3 - "$td" "$id" "$t/j" <<'PY'; then ok; else bad "$id $fmt: registers differ"; fi
import json, sys
d = json.load(open(sys.argv[1] + "/cases.json"))
c = [c for c in d["eventlog"] if c["id"] == sys.argv[2]][0]
j = json.load(open(sys.argv[3]))
assert len(j["events"]) == c["events_after_header"], "event count"
if c["kind"] == "tdx-ccel-eventlog":
    want = {k[4:]: v for k, v in c["expect"]["replayed_rtmr"].items()}
    assert j["format"] == "ccel" and j["rtmrs"] == want, (j.get("rtmrs"), want)
else:
    assert j["format"] == "tcg" and j["pcrs"] == c["expect"]["replayed_pcrs"], "pcrs"
    assert j["startup_locality"] == c["startup_locality"]
PY
    done
done < "$t/cases"
[ $n -eq 11 ] && ok || bad "expected 11 eventlog cases, got $n"

# text listing
alex=$td/eventlog/gotpm_glinux-alex.bin
expect_rc 0 "$bin" eventlog show "$alex"
grep -q '^StartupLocality: 3' "$out" && ok || bad "StartupLocality not shown"
grep -q 'EV_EFI_VARIABLE_DRIVER_CONFIG' "$out" && grep -q 'SecureBoot {8be4df61-93ca-11d2-aa0d-00e098032b8c}' "$out" && ok || bad "variable event not decoded"
grep -q '^  PCR0  29d236609a5f9cc6912af44ba5f57b13a17c8a84$' "$out" && ok || bad "replayed PCR0 (locality 3) missing"
expect_rc 0 "$bin" eventlog show "$td/eventlog/trustee_CCEL_data_ovmf"
grep -q '^  RTMR0  8566f998798db09443b244c62de9a3041fb02e2e6936c4396d784bba2e90177329ec5aba3bb484404f2ab9cc90abe193$' "$out" && ok || bad "RTMR0 missing"
grep -q '#0 MR1 EV_EFI_HANDOFF_TABLES2' "$out" && ok || bad "CCEL event line"

# refusals
expect_rc 2 "$bin" eventlog show "$td/eventlog/gotpm_debian-10.bin"
grep -q VT_ERR_EVLOG_SHA1_LOG "$out" && ok || bad "SHA-1 log refusal not named"
head -c 15880 "$alex" > "$t/cut.bin"
expect_rc 2 "$bin" eventlog show "$t/cut.bin" --json
grep -q VT_ERR_EVLOG_TRUNCATED "$out" && ok || bad "truncation not named"
expect_rc 2 "$bin" eventlog show "$td/eventlog/trustee_CCEL_data_ovmf" --format tcg
grep -q VT_ERR_EVLOG_PCR_INDEX "$out" && ok || bad "CCEL padding as TCG not refused"
expect_rc 2 "$bin" eventlog show "$alex" --format nope
expect_rc 2 "$bin" eventlog show "$t/missing.bin"
expect_rc 2 "$bin" eventlog show
expect_rc 2 "$bin" eventlog
expect_rc 0 "$bin" eventlog show --help
grep -q -- '--allow-sha1-log' "$out" && grep -q -- '--format' "$out" && grep -q -- '--json' "$out" && ok || bad "help misses an option"
expect_rc 0 "$bin" --help
grep -q '^  eventlog ' "$out" && ok || bad "eventlog not in veritee --help"

# verify --eventlog: a real TD quote (verifies) with CCEL logs of other boots: RTMR0 named, exit 1;
# a TCG log has no PCRs to compare in a TD quote; an unreadable log is a usage error
q=$td/tdx/dcapqvl_tdx_quote_v4_b0c06f.bin
qc=(--collateral "$td/tdx/dcapqvl_tdx_quote_v4_b0c06f_collateral.json" --at 2025-06-19T12:00:00Z)
expect_rc 0 "$bin" verify "$q" "${qc[@]}"
expect_rc 1 "$bin" verify "$q" "${qc[@]}" --eventlog "$td/eventlog/trustee_CCEL_data_ovmf"
grep -q 'replayed RTMR != quote RTMR: RTMR0' "$out" && ok || bad "RTMR mismatch not named"
expect_rc 1 "$bin" verify "$q" "${qc[@]}" --eventlog "$td/eventlog/trustee_CCEL_data_grub" --json
python3 -c '
import json, sys
t = open(sys.argv[1]).read(); j = json.loads(t[t.index("{"):t.rindex("}") + 1])
e = j["eventlog"]
assert j["verified"] is True and e["verified"] is False and e["register"] == "RTMR0", e
assert e["error"] == "VT_ERR_EVLOG_RTMR_MISMATCH" and e["format"] == "ccel"
' "$out" && ok || bad "verify --eventlog --json shape"
expect_rc 1 "$bin" verify "$q" "${qc[@]}" --eventlog "$alex"
grep -q VT_ERR_EVLOG_BANK_MISSING "$out" && ok || bad "TCG log against a TD quote not refused"
expect_rc 1 "$bin" verify "$q" "${qc[@]}" --eventlog "$t/cut.bin"
grep -q VT_ERR_EVLOG_TRUNCATED "$out" && ok || bad "truncated log in verify not refused"
expect_rc 2 "$bin" verify "$q" "${qc[@]}" --eventlog "$t/missing.bin"
# sim-tdx with sim.eventlog: RTMRs = the replay of a CCEL log with AAEL entries appended
# (RTMR3), verify --eventlog gives the AAEL claims; an unbound AAEL entry refuses the log; the
# CCEL without the AAEL entries (RTMR3 untouched) is refused naming RTMR3; sim.eventlog is
# refused for sim-sgx
"$bin" sim init "$t/sim" >/dev/null 2>&1 || bad "sim init"
python3 - "$td/eventlog/trustee_CCEL_data_grub" "$t" <<'PY' || bad "building the AAEL log"
import hashlib, struct, sys
b = open(sys.argv[1], "rb").read()
off = 32 + struct.unpack_from("<I", b, 28)[0]
while True:
    idx, typ = struct.unpack_from("<II", b, off)
    if idx == 0xffffffff or (idx == 0 and typ == 0): break
    o = off + 12 + struct.unpack_from("<I", b, off + 8)[0] * 50
    off = o + 4 + struct.unpack_from("<I", b, o)[0]
def rec(text, bound=True):
    data = struct.pack("<II", 0x4141454c, len(text)) + text
    d = hashlib.sha384(data if bound else data + b"x").digest()
    return struct.pack("<IIIH", 4, 6, 1, 0x0c) + d + struct.pack("<I", len(data)) + data
e1, e2 = rec(b"example.org Boot phase one"), rec(b"example.org Boot phase two")
open(sys.argv[2] + "/aael.bin", "wb").write(b[:off] + e1 + e2 + b"\xff" * 8)
open(sys.argv[2] + "/unbound.bin", "wb").write(b[:off] + e1 + rec(b"example.org Boot phase two", False) + b"\xff" * 8)
PY
sq=(--root-ca "$t/sim/root-ca.pem" --collateral "$t/sim/intel")
expect_rc 0 "$bin" attest --tee sim-tdx --sim-dir "$t/sim" --option "sim.eventlog=$t/aael.bin" -o "$t/qa.bin"
expect_rc 0 "$bin" verify "$t/qa.bin" "${sq[@]}" --eventlog "$t/aael.bin" --json
python3 -c '
import json, sys
t = open(sys.argv[1]).read(); e = json.loads(t[t.index("{"):t.rindex("}") + 1])["eventlog"]
assert e["verified"] is True and e["rtmrs_verified"] == [0, 1, 2, 3], e
assert e["claims"]["eventlog.aael.example.org.Boot"] == ["phase one", "phase two"], e["claims"]
assert e["claims"]["eventlog.aael.count"] == 2
' "$out" && ok || bad "verify --eventlog: AAEL claims"
expect_rc 0 "$bin" eventlog show "$t/aael.bin"
grep -q 'data    AAEL example.org Boot phase two' "$out" && ok || bad "eventlog show: AAEL entry"
expect_rc 0 "$bin" attest --tee sim-tdx --sim-dir "$t/sim" --option "sim.eventlog=$t/unbound.bin" -o "$t/qu.bin"
expect_rc 1 "$bin" verify "$t/qu.bin" "${sq[@]}" --eventlog "$t/unbound.bin"
grep -q VT_ERR_EVLOG_AAEL_UNBOUND "$out" && ok || bad "unbound AAEL entry not refused"
expect_rc 1 "$bin" verify "$t/qa.bin" "${sq[@]}" --eventlog "$td/eventlog/trustee_CCEL_data_grub"
grep -q 'VT_ERR_EVLOG_RTMR_MISMATCH.*RTMR3' "$out" && ok || bad "log without the AAEL entries (RTMR3 untouched, quote's not zero): RTMR3 mismatch"
expect_rc 1 "$bin" attest --tee sim-sgx --sim-dir "$t/sim" --option "sim.eventlog=$t/aael.bin" -o "$t/qs.bin"
grep -q 'sim-sgx: invalid argument' "$out" && ok || bad "sim.eventlog on sim-sgx not refused"

# --claims: the claims if every register matched (not a verification), text and JSON
expect_rc 0 "$bin" eventlog show "$td/eventlog/gotpm_ubuntu-2404-amd-sevsnp.bin" --claims
grep -q '^claims if every touched register matches a quote (not verified):$' "$out" &&
  grep -q '^  eventlog.gce_confidential_technology: amd-sev-snp$' "$out" &&
  grep -q '^  eventlog.kernel_cmdline: /vmlinuz-6.8.0-1010-gcp root=PARTUUID=8270f3c9-b4e4-4345-80ee-5a62db7ebf3f ro console=ttyS0,115200 panic=-1$' "$out" \
  && ok || bad "eventlog show --claims (text)"
expect_rc 0 "$bin" eventlog show "$td/eventlog/gotpm_ubuntu-2404-amd-sevsnp.bin" --claims --json
python3 -c 'import json,sys; c=json.load(open(sys.argv[1]))["claims_if_matched"]; assert c["eventlog.secure_boot"] is False and c["eventlog.gce_confidential_technology"] == "amd-sev-snp", c' "$out" \
  && ok || bad "eventlog show --claims --json"
expect_rc 0 "$bin" eventlog show "$alex" --json
python3 -c 'import json,sys; assert "claims_if_matched" not in json.load(open(sys.argv[1]))' "$out" && ok || bad "claims without --claims"
expect_rc 0 "$bin" verify --help
grep -q -- '--eventlog FILE' "$out" && ok || bad "verify --help misses --eventlog"

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
