#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# intel_bench.sh - bench/intel_bench (veritee against 2x OpenSSL ECDSA P-256) and the peer
# @phala/dcap-qvl (bench/intel_peer, pure JavaScript on node) on the same quotes, collateral
# and verification time, in one run; prints the veritee / peer ratio per case.
# Usage: bench/intel_bench.sh [seconds per side, default 3]. Needs a built
# build-release/bench/intel_bench (bench/run.sh builds it; or set INTEL_BENCH=path) and, for the
# peer, `npm install` once in bench/intel_peer (needs the npm registry; then runs offline).
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-3}
export VERITEE_TESTDATA="${VERITEE_TESTDATA:-$PWD/../shared/testdata}"
bin=${INTEL_BENCH:-build-release/bench/intel_bench}
out=$("$bin" "$secs")
echo "$out" | grep -v '^veritee_verifications_per_s'
peer=bench/intel_peer
if [ ! -d "$peer/node_modules/@phala/dcap-qvl" ]; then
  echo "peer: bench/intel_peer/node_modules missing (run: npm --prefix bench/intel_peer install)"
  exit 0
fi
run_peer() { # NAME QUOTE COLLATERAL TIME
  local at res v p
  at=$(date -u -d "$4" +%s)
  if ! res=$(node "$peer/run.mjs" "$VERITEE_TESTDATA/$2" "$VERITEE_TESTDATA/$3" "$at" "$secs" 2>&1); then
    echo "$1 peer @phala/dcap-qvl failed: $res"
    return
  fi
  p=$(echo "$res" | sed -n 's/^peer_verifications_per_s //p')
  v=$(echo "$out" | sed -n "s/^veritee_verifications_per_s $1 //p")
  echo "$1 peer @phala/dcap-qvl $(npm --prefix "$peer" ls @phala/dcap-qvl 2>/dev/null | grep -o 'dcap-qvl@[0-9.]*'):" \
    "status $(echo "$res" | sed -n 's/^peer_status //p'), $p verifications/s;" \
    "veritee/peer: $(awk -v a="$v" -v b="$p" 'BEGIN { printf "%.1fx", a / b }')"
}
run_peer tdx tdx/dcapqvl_tdx_quote_v4_b0c06f.bin tdx/dcapqvl_tdx_quote_v4_b0c06f_collateral.json 2025-06-19T12:00:00Z
run_peer sgx sgx/dcapqvl_sgx_quote_v3.bin sgx/dcapqvl_sgx_quote_v3_collateral.json 2025-06-19T12:00:00Z
