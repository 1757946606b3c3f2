#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Install what Veritee needs to build and test on Debian 12 (bookworm). Idempotent: installs
# only what is missing. Uses sudo when not root.
set -euo pipefail

PKGS=(
  build-essential cmake pkg-config git ca-certificates
  libssl-dev openssl          # crypto, X.509, TLS 1.3 (and openssl s_client/s_server in tests)
  libjansson-dev              # JSON
  libyajl-dev                 # JSON event parser for the Azure vTPM evidence (fast path)
  libxmlsec1-dev              # XML-DSig of NVIDIA RIMs (libxmlsec1-openssl, libxml2)
  libwolfssl-dev              # second TLS / crypto library
  libsqlite3-dev sqlite3      # broker key store (sqlite3 CLI: integrity checks in tests)
  libsystemd-dev              # sd_notify readiness
  libcurl4-openssl-dev        # optional PCCS / KDS fetch (and the Azure CVM local endpoints)
  libtss2-dev                 # TPM 2.0 access (ESYS, TCTI loader) for az-snp-vtpm / az-tdx-vtpm
  swtpm swtpm-tools tpm2-tools # a vTPM for the Azure tests; tpm2_checkquote checks our quotes
  libmicrohttpd-dev libcjose-dev libpq-dev   # KBS protocol, JOSE, PostgreSQL store
  libevent-dev                # the KBS client's HTTP (evhttp, with libevent_openssl)
  postgresql                  # PostgreSQL server for the shared-store tests
  clang llvm libclang-rt-14-dev # libFuzzer targets
  python3 python3-cryptography python3-jwcrypto # local HTTP server in fetch tests; independent JOSE checks in KBS tests
  skopeo umoci                # encrypted container image round trip
  procps psmisc iproute2      # e2e process handling (ip netns: tunnel_netns_test)
  time                        # GNU time: peak RSS in bench/memory_bench.sh
  curl stunnel4               # tunnel e2e client; bench/tunnel_bench.sh reference
  dpkg-dev debhelper lintian man-db # Debian packages (tests/e2e/deb_test.sh), manual pages (man_test)
)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
