# SPDX-License-Identifier: Apache-2.0
# kbs_lib.sh - one veritee-broker with the KBS front end on a SQLite store, for the KBS e2e
# tests (sourced, not run). `kbs_lib_start NAME [BROKER-ARGS...]` skips (exit 77) without the
# sqlite3 CLI, makes the work directory $T (and cd's into it) with a sim PKI (sim/), a broker
# certificate (broker.pem/.key, SAN 127.0.0.1) and a master key (mk), starts the broker
# (store a.db, admin socket a.sock, log a.log) with BROKER-ARGS added, and sets KPORT. The EXIT
# trap kills $PIDS and removes $T. Also defines ok/bad counting into pass/fail.
set -u
BIN=${VERITEE_BIN:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build/bin}
PIDS=()
pass=0; fail=0
ok()  { pass=$((pass+1)); echo "ok: $*"; }
bad() { fail=$((fail+1)); echo "FAIL: $*"; }
kbs_lib_cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$T"
}

kbs_lib_start() { # NAME [BROKER-ARGS...]
  command -v sqlite3 >/dev/null || { echo "SKIP: sqlite3 CLI missing"; exit 77; }
  T=$(mktemp -d "/tmp/vt-$1.XXXXXX")
  shift
  trap kbs_lib_cleanup EXIT
  cd "$T" || exit 1
  "$BIN/veritee" sim init sim >/dev/null 2>&1 || { echo "FAIL: sim init"; exit 1; }
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout broker.key \
    -out broker.pem -days 30 -subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1" 2>/dev/null
  "$BIN/veritee-broker" --gen-master-key mk 2>/dev/null
  "$BIN/veritee-broker" --listen 127.0.0.1:0 --store a.db --master-key mk --admin-socket a.sock \
     --cert broker.pem --key broker.key --root-ca sim/root-ca.pem --collateral sim/intel \
     --kbs-listen 127.0.0.1:0 "$@" 2>a.log &
  PIDS+=($!)
  for _ in $(seq 100); do grep -q 'KBS listening on' a.log && break; sleep 0.1; done
  KPORT=$(grep -o 'KBS listening on http://127.0.0.1:[0-9]*' a.log | grep -o '[0-9]*$')
  [ -n "$KPORT" ] || { echo "FAIL: broker did not start"; cat a.log; exit 1; }
}
