#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The whole test suite: installs dependencies, builds, runs every test (unit, vectors, e2e,
# fuzz corpus replay), then (as root) the Debian packages' build/install/demo/purge round trip,
# then the same suite under ASan+UBSan, then each libFuzzer target briefly.
#   scripts/test.sh            everything
#   VT_QUICK=1 scripts/test.sh  only the plain build and its tests
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
export VERITEE_TESTDATA="${VERITEE_TESTDATA:-$root/../shared/testdata}"
jobs=$(nproc 2>/dev/null || echo 2)

scripts/deps.sh

echo "== build (RelWithDebInfo) and test"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$jobs"
(cd build && ctest --output-on-failure -j1)

[ "${VT_QUICK:-0}" = 1 ] && exit 0

echo "== Debian packages: build, lintian, install, demo, purge"
if [ "$(id -u)" -eq 0 ]; then
  VT_DEB_TEST=1 bash tests/e2e/deb_test.sh
else
  echo "skipped: tests/e2e/deb_test.sh installs packages and needs root"
fi

echo "== build with ASan+UBSan and test"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DVT_SANITIZE=ON >/dev/null
cmake --build build-asan -j"$jobs"
(cd build-asan && ctest --output-on-failure -j1)

echo "== libFuzzer targets (clang), ${VT_FUZZ_SECONDS:-20}s each"
cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug -DVT_SANITIZE=ON \
  -DVT_FUZZ=ON -DVT_TESTS=ON >/dev/null
cmake --build build-fuzz -j"$jobs"
fails=0; ran=0
for f in build-fuzz/fuzz/*_fuzz; do
  [ -x "$f" ] || continue
  name=$(basename "$f")
  corpus_seed="tests/fuzz/corpus/$name"
  work=$(mktemp -d)
  [ -d "$corpus_seed" ] && cp -r "$corpus_seed"/. "$work"/ 2>/dev/null || true
  if "$f" -max_total_time="${VT_FUZZ_SECONDS:-20}" -rss_limit_mb=2048 "$work" >"$work.log" 2>&1; then
    ran=$((ran + 1)); echo "fuzz $name: ok ($(grep -c . "$work.log") log lines)"
  else
    fails=$((fails + 1)); echo "fuzz $name: FAILED"; tail -40 "$work.log"
  fi
  rm -rf "$work" "$work.log"
done
echo "fuzz: $ran passed, $fails failed"
[ "$fails" -eq 0 ]
