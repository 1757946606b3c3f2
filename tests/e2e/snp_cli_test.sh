#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# snp_cli_test.sh - the SNP verifier and sim-snp through the veritee tool: real reports from
# shared/testdata with --collateral (a directory of any certificate files), expiry, and the
# sim-snp attester (verified only with the sim root, then insecure).
set -u
bin=${VERITEE_BIN:?}/veritee
td=${VERITEE_TESTDATA:?}
pass=0; fail=0
ok() { pass=$((pass+1)); }
bad() { fail=$((fail+1)); echo "FAIL: $*"; }
expect_rc() { local want=$1; shift; "$@" >/tmp/snp_e2e.$$ 2>&1; local rc=$?; if [ $rc -eq $want ]; then ok; else bad "rc $rc want $want: $*"; cat /tmp/snp_e2e.$$; fi; }
t=$(mktemp -d); trap 'rm -rf "$t" /tmp/snp_e2e.$$' EXIT

expect_rc 0 "$bin" verify "$td/snp/virtee_milan_report_v2.bin" --collateral "$td/snp" --at 2023-04-04T00:00:00Z --json
expect_rc 0 "$bin" verify "$td/snp/trustee_milan_vlek_report_v3.bin" --collateral "$td/snp" --at 2024-12-11T00:00:00Z --json
expect_rc 1 "$bin" verify "$td/snp/trustee_milan_vlek_report_v3.bin" --collateral "$td/snp" --at 2025-12-11T00:00:00Z --json
grep -q SNP_CERT_EXPIRED /tmp/snp_e2e.$$ || grep -qi expired /tmp/snp_e2e.$$ && ok || bad "expired not reported"
expect_rc 1 "$bin" verify "$td/snp/teekit_gcp_milan_report_v5.bin" --at 2025-12-06T00:00:00Z --json

"$bin" sim init "$t/sim" >/dev/null || bad "sim init"
expect_rc 0 "$bin" attest --tee sim-snp --sim-dir "$t/sim" --report-data 0a0b -o "$t/r.bin"
expect_rc 0 "$bin" verify "$t/r.bin" --collateral "$t/sim" --root-ca "$t/sim/root-ca.pem" --json
grep -q '"insecure": true' /tmp/snp_e2e.$$ && ok || bad "sim-snp result not insecure"
expect_rc 1 "$bin" verify "$t/r.bin" --collateral "$t/sim" --json

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
