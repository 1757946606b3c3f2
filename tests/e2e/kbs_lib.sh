# SPDX-License-Identifier: Apache-2.0
# kbs_lib.sh - veritee-broker processes with the KBS front end on SQLite stores, for the KBS
# e2e tests (sourced, not run).
# `kbs_lib_setup NAME` skips (exit 77) without the sqlite3 CLI, makes the work directory $T
# (and cd's into it) with a sim PKI (sim/), a broker certificate (broker.pem/.key, SAN
# 127.0.0.1) and a master key (mk). `kbs_lib_broker N [BROKER-ARGS...]` starts a broker (store
# N.db, admin socket N.sock, log N.log, KBS on 127.0.0.1) with BROKER-ARGS added (its roots and
# collateral among them) and sets KPORT. `kbs_lib_start NAME [BROKER-ARGS...]`: both, broker
# "a" with --root-ca sim/root-ca.pem --collateral sim/intel. The EXIT trap kills $PIDS and
# removes $T. Also defines ok/bad counting into pass/fail, and KBS_PY (the directory of
# kbs_client.py, the python KBS client helpers: put it on PYTHONPATH).
set -u
BIN=${VERITEE_BIN:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build/bin}
KBS_PY=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PIDS=()
pass=0; fail=0
ok()  { pass=$((pass+1)); echo "ok: $*"; }
bad() { fail=$((fail+1)); echo "FAIL: $*"; }
kbs_lib_cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$T"
}

kbs_lib_setup() { # NAME
  command -v sqlite3 >/dev/null || { echo "SKIP: sqlite3 CLI missing"; exit 77; }
  T=$(mktemp -d "/tmp/vt-$1.XXXXXX")
  trap kbs_lib_cleanup EXIT
  cd "$T" || exit 1
  "$BIN/veritee" sim init sim >/dev/null 2>&1 || { echo "FAIL: sim init"; exit 1; }
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout broker.key \
    -out broker.pem -days 30 -subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1" 2>/dev/null
  "$BIN/veritee-broker" --gen-master-key mk 2>/dev/null
}

kbs_lib_broker() { # N [BROKER-ARGS...] -> KPORT
  local n=$1
  shift
  "$BIN/veritee-broker" --listen 127.0.0.1:0 --store "$n.db" --master-key mk --admin-socket "$n.sock" \
     --cert broker.pem --key broker.key --kbs-listen 127.0.0.1:0 "$@" 2>"$n.log" &
  PIDS+=($!)
  for _ in $(seq 100); do grep -q 'KBS listening on' "$n.log" && break; sleep 0.1; done
  KPORT=$(grep -o 'KBS listening on http://127.0.0.1:[0-9]*' "$n.log" | grep -o '[0-9]*$')
  [ -n "$KPORT" ] || { echo "FAIL: broker $n did not start"; cat "$n.log"; exit 1; }
}

kbs_lib_start() { # NAME [BROKER-ARGS...]
  kbs_lib_setup "$1"
  shift
  kbs_lib_broker a --root-ca sim/root-ca.pem --collateral sim/intel "$@"
}
