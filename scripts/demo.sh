#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The main job: installs dependencies, builds, and runs the end-to-end demo on the sim TEE.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc 2>/dev/null || echo 2)" >/dev/null
scripts/ratls_demo.sh build/bin
if [ -x demo/demo.sh ]; then
  exec demo/demo.sh build/bin
fi

