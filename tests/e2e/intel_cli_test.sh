#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# intel_cli_test.sh - the Intel verifier and sim-sgx / sim-tdx through the veritee tool: real
# quotes from shared/testdata (bundle file and PCS-files directory) at their verify_at, a
# no-matching-TCB-level case, one second outside the collateral window on each side, missing
# input; the sim PKI (insecure, only with --root-ca; the DIR/intel directory picks the SGX or
# TDX collateral; a revoked PCK is refused); attested TLS with sim-tdx / sim-sgx / sim-snp.
. "$(dirname "$0")/tls_lib.sh"
td=${VERITEE_TESTDATA:?}
out=$work/out
err=$work/err

# run WANT NAME ARGS... : veritee ARGS with stdout in $out, stderr in $err
run() {
  local want=$1 name=$2
  shift 2
  timeout 60 "$V" "$@" >"$out" 2>"$err"
  local rc=$?
  if [ "$rc" = "$want" ]; then ok; else
    bad "$name: exit status $rc, want $want"; sed 's/^/    | /' "$out" "$err" >&2
  fi
}

# ---- real quotes ----
q=$td/sgx/dcapqvl_sgx_quote_v3.bin
c=$td/sgx/dcapqvl_sgx_quote_v3_collateral.json
run 0 "sgx v3 bundle" verify "$q" --collateral "$c" --at 2025-06-19T12:00:00Z --json
expect_in "sgx v3: verified" '"verified": true' "$out"
expect_in "sgx v3: tee" '"tee": "sgx"' "$out"
expect_in "sgx v3: status" '"tcb_status": "ConfigurationAndSWHardeningNeeded"' "$out"
expect_in "sgx v3: secure" '"insecure": false' "$out"
expect_in "sgx v3: advisories" '"INTEL-SA-00289"' "$out"
expect_in "sgx v3: advisories" '"INTEL-SA-00615"' "$out"
run 0 "sgx v3 explain" verify "$q" --collateral "$c" --at 2025-06-19T12:00:00Z --explain
expect_in "explain: root pin" 'the pinned Intel SGX Root CA' "$out"
expect_in "explain: quote signature" 'quote signature by the attestation key' "$out"

# one second outside the window [2025-06-19T10:56:11Z, 2025-07-19T10:01:18Z]
run 0 "sgx v3 at window start" verify "$q" --collateral "$c" --at 2025-06-19T10:56:11Z --json
run 1 "sgx v3 1 s before" verify "$q" --collateral "$c" --at 2025-06-19T10:56:10Z --json
expect_in "1 s before: error" 'VT_ERR_INTEL_TCB_INFO_NOT_YET_VALID' "$out$(cat "$err")"
run 0 "sgx v3 at window end" verify "$q" --collateral "$c" --at 2025-07-19T10:01:18Z --json
run 1 "sgx v3 1 s after" verify "$q" --collateral "$c" --at 2025-07-19T10:01:19Z --json
expect_in "1 s after: error" 'VT_ERR_INTEL_QE_IDENTITY_EXPIRED' "$out"

run 0 "tdx v4 bundle" verify "$td/tdx/dcapqvl_tdx_quote_v4_b0c06f.bin" \
  --collateral "$td/tdx/dcapqvl_tdx_quote_v4_b0c06f_collateral.json" --at 2025-06-19T12:00:00Z --json
expect_in "tdx v4: tee" '"tee": "tdx"' "$out"
expect_in "tdx v4: status" '"tcb_status": "UpToDate"' "$out"
expect_in "tdx v4: advisory list" '"advisory_ids": [' "$out"

# PCS files: a directory of the case's pieces, recognised by content
mkdir -p "$work/pcs"
for f in sgx/automata_0825_tcbinfo_sgx_v3_00606a000000.json sgx/automata_0825_qeidentity_sgx_qe.json \
  sgx/automata_0825_pck_platform_crl.der intel-root/root_ca_crl_20250320.der \
  intel-root/tcb_signing_chain_2025.pem; do
  cp "$td/$f" "$work/pcs/$(basename "$f")"
done
run 0 "sgx 00606a pcs dir" verify "$td/sgx/automata_sgx_quote_v3_00606a000000.bin" \
  --collateral "$work/pcs" --at 2025-08-15T07:00:00Z --json
expect_in "pcs dir: status" '"tcb_status": "SWHardeningNeeded"' "$out"
expect_in "pcs dir: advisory" '"INTEL-SA-00615"' "$out"

# no TCB level matches (TCB not supported)
run 1 "tdx v5 no matching level" verify "$td/tdx/dcapqvl_tdx_quote_v5_90c06f_nomatch.bin" \
  --collateral "$td/tdx/dcapqvl_tdx_quote_v5_90c06f_collateral.json" --at 2026-02-18T12:00:00Z --json
expect_in "no level: error" 'VT_ERR_INTEL_TCB_NOT_SUPPORTED' "$out"
expect_in "no level: not verified" '"verified": false' "$out"

# missing input
run 2 "missing quote file" verify "$work/no-such-quote.bin" --collateral "$c" --json
run 2 "missing collateral file" verify "$q" --collateral "$work/no-such.json" --at 2025-06-19T12:00:00Z --json
expect_in "missing collateral: error" 'cannot read --collateral' "$err"

# ---- sim PKI ----
"$V" sim init "$work/sim" >/dev/null 2>&1 || bad "sim init"
[ -f "$work/sim/intel/collateral-tdx.json" ] && [ -f "$work/sim/intel/README" ] && ok || bad "sim intel files"
for tee in sgx tdx; do
  run 0 "attest sim-$tee" attest --tee "sim-$tee" --sim-dir "$work/sim" --report-data 0a0b -o "$work/$tee.bin"
  run 0 "sim-$tee with root" verify "$work/$tee.bin" --root-ca "$work/sim/root-ca.pem" \
    --collateral "$work/sim/intel/collateral-$tee.json" --json
  expect_in "sim-$tee: verified" '"verified": true' "$out"
  expect_in "sim-$tee: insecure" '"insecure": true' "$out"
  expect_in "sim-$tee: tee" "\"tee\": \"$tee\"" "$out"
  expect_in "sim-$tee: report data" '"report_data": "0a0b00' "$out"
  run 1 "sim-$tee without root" verify "$work/$tee.bin" \
    --collateral "$work/sim/intel/collateral-$tee.json" --json
  expect_in "sim-$tee without root: error" 'VT_ERR_INTEL_ROOT_NOT_TRUSTED' "$out"
  # the whole directory: the TCB Info and QE Identity for this TEE are picked
  run 0 "sim-$tee with DIR/intel" verify "$work/$tee.bin" --root-ca "$work/sim/root-ca.pem" \
    --collateral "$work/sim/intel" --explain
  expect_in "sim-$tee DIR/intel: picked" 'collateral holds 2 TCB Infos and 2 QE Identities' "$out"
done
run 0 "attest revoked PCK" attest --tee sim-tdx --sim-dir "$work/sim" --option sim.pck=revoked -o "$work/rev.bin"
run 1 "revoked PCK refused" verify "$work/rev.bin" --root-ca "$work/sim/root-ca.pem" \
  --collateral "$work/sim/intel" --json
expect_in "revoked: error" 'VT_ERR_INTEL_PCK_REVOKED' "$out"
run 0 "attest old PCK" attest --tee sim-sgx --sim-dir "$work/sim" --option sim.pck=old -o "$work/old.bin"
run 0 "old PCK: OutOfDate" verify "$work/old.bin" --root-ca "$work/sim/root-ca.pem" \
  --collateral "$work/sim/intel" --json
expect_in "old PCK: status" '"tcb_status": "OutOfDate"' "$out"

# ---- attested TLS ----
ROOT=$work/sim/root-ca.pem
start_server "$work/s1.log" --tee sim-tdx --sim-dir "$work/sim" --mutual --root-ca "$ROOT" --max-conns 1 || exit 1
echo "intel hello" | timeout 30 "$V" tls-client --connect "127.0.0.1:$port" --tee sim-sgx \
  --sim-dir "$work/sim" --root-ca "$ROOT" >"$work/c1.out" 2>"$work/c1.err"
expect_rc "tls sim-tdx server / sim-sgx client" 0 $?
expect_in "tls: client verified tdx server" '"tee": "tdx"' "$work/c1.out"
expect_in "tls: echo" 'intel hello' "$work/c1.out"
wait_server
expect_rc "tls server (mutual)" 0 "$srv_rc"
expect_in "tls: server verified sgx client" '"tee":"sgx"' "$work/s1.log"

if "$V" instances 2>/dev/null | grep -q 'sim-snp'; then
  start_server "$work/s2.log" --tee sim-tdx --sim-dir "$work/sim" --mutual --root-ca "$ROOT" --max-conns 1 || exit 1
  echo "mixed hello" | timeout 30 "$V" tls-client --connect "127.0.0.1:$port" --tee sim-snp \
    --sim-dir "$work/sim" --root-ca "$ROOT" >"$work/c2.out" 2>"$work/c2.err"
  expect_rc "tls sim-tdx server / sim-snp client" 0 $?
  expect_in "mixed: client verified tdx server" '"tee": "tdx"' "$work/c2.out"
  wait_server
  expect_rc "mixed server" 0 "$srv_rc"
  expect_in "mixed: server verified snp client" '"tee":"snp"' "$work/s2.log"
fi

# without the sim root the client refuses the sim-tdx server
start_server "$work/s3.log" --tee sim-tdx --sim-dir "$work/sim" --max-conns 1 || exit 1
echo x | timeout 30 "$V" tls-client --connect "127.0.0.1:$port" >"$work/c3.out" 2>"$work/c3.err"
expect_rc "tls without root" 1 $?
expect_in "tls without root: reason" 'VT_ERR_INTEL_ROOT_NOT_TRUSTED' "$work/c3.err"
wait_server

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
