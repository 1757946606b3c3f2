#!/usr/bin/env bash
# Build a Release tree and run every benchmark (each measures its subject beside its reference
# in one run and prints the ratio). Usage: bench/run.sh [NAME_SUBSTRING]
set -euo pipefail
cd "$(dirname "$0")/.."
export VERITEE_TESTDATA="${VERITEE_TESTDATA:-$PWD/../shared/testdata}"
cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release -DVT_TESTS=OFF >/dev/null
cmake --build build-release -j"$(nproc 2>/dev/null || echo 2)" >/dev/null
for b in build-release/bench/*_bench; do
  [ -x "$b" ] || continue
  case "$(basename "$b")" in *"${1:-}"*) ;; *) continue ;; esac
  echo "== $(basename "$b")"
  "$b"
  echo
done
