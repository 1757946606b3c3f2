#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Build a Release tree and run every benchmark; each measures its subject beside its reference
# in ONE run and prints the ratio. BENCHMARKS.md records the results of this script.
#   bench/run.sh              all
#   bench/run.sh NAME         only the benchmarks whose name contains NAME
#                             (handshake, tls_matrix, intel, snp, nvidia, azure, broker, kbs, memory)
set -euo pipefail
cd "$(dirname "$0")/.."
export VERITEE_TESTDATA="${VERITEE_TESTDATA:-$PWD/../shared/testdata}"
only=${1:-}
B=build-release
cmake -S . -B $B -DCMAKE_BUILD_TYPE=Release -DVT_TESTS=OFF >/dev/null
cmake --build $B -j"$(nproc 2>/dev/null || echo 2)" >/dev/null
want() { [ -z "$only" ] || [[ "$1" == *"$only"* ]]; }
hdr() { printf '\n== %s\n$ %s\n' "$1" "$2"; }

if want handshake; then
  hdr "attested vs plain TLS 1.3 handshakes (OpenSSL, P-256, sim TEE)" "$B/bench/handshake_bench 2 5"
  $B/bench/handshake_bench 2 5
fi
if want tls_matrix; then
  hdr "handshakes per library pair, attested vs plain" "$B/bench/tls_matrix_bench 1.5"
  $B/bench/tls_matrix_bench 1.5
fi
if want intel; then
  if command -v npm >/dev/null && [ ! -d bench/intel_peer/node_modules/@phala/dcap-qvl ]; then
    npm --prefix bench/intel_peer install --no-audit --no-fund >/dev/null 2>&1 || true
  fi
  hdr "DCAP quote verification vs 2x ECDSA P-256 and vs @phala/dcap-qvl" "INTEL_BENCH=$B/bench/intel_bench bench/intel_bench.sh 3"
  INTEL_BENCH=$B/bench/intel_bench bench/intel_bench.sh 3
fi
if want tunnel; then
  hdr "veritee tunnel vs stunnel4 (500 MB throughput, connections/s)" "bench/tunnel_bench.sh $B/bin"
  bench/tunnel_bench.sh "$PWD/$B/bin"
fi
if want snp; then
  hdr "SNP report verification vs one ECDSA P-384 verify" "$B/bench/snp_bench 3"
  $B/bench/snp_bench 3
fi
if want nvidia; then
  hdr "NVIDIA GPU report verification vs one ECDSA P-384 verify (+ the chain's signatures)" "$B/bench/nvidia_bench 2 3"
  $B/bench/nvidia_bench 2 3
fi
if want azure; then
  hdr "az-snp-vtpm / az-tdx-vtpm verification vs RSA-2048 + the hardware report's signatures" "$B/bench/azure_bench 3"
  $B/bench/azure_bench 3
fi
if want broker; then
  hdr "secret releases: one attested connection vs a connection per release" "VERITEE_BIN=$B/bin $B/bench/broker_bench 300"
  VERITEE_BIN=$PWD/$B/bin $B/bench/broker_bench 300
fi
if want kbs; then
  hdr "KBS: full protocol runs and token fetches, SQLite and PostgreSQL" "src/kbs/kbs_bench.sh $B 8 5 sim-tdx"
  src/kbs/kbs_bench.sh $B 8 5 sim-tdx
fi
if want memory; then
  hdr "memory budgets: agent peak RSS, broker RSS with 200 clients, growth over 100,000 requests" "bench/memory_bench.sh $B 100000 200 3"
  bench/memory_bench.sh "$PWD/$B" 100000 200 3
fi
