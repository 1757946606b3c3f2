# SPDX-License-Identifier: Apache-2.0
# tls_lib.sh - helpers shared by tests/e2e/tls_*_test.sh (sourced, not run).
# Real processes on 127.0.0.1; servers listen on port 0 and report their port; every
# background process is killed by the EXIT trap; every wait is bounded.
set -u
V=${VERITEE_BIN:?VERITEE_BIN must point at the build bin directory}/veritee
TOOLS=$(cd "$VERITEE_BIN/../tests" 2>/dev/null && pwd || echo "$VERITEE_BIN/../tests")
work=$(mktemp -d)
pids=()
passed=0
failed=0
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT

ok() { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); echo "FAIL: $*" >&2; }

# expect_rc NAME WANT GOT
expect_rc() {
  if [ "$2" = "$3" ]; then ok; else bad "$1: exit status $3, want $2"; fi
}
# expect_in NAME PATTERN FILE (fixed string)
expect_in() {
  if grep -qF -- "$2" "$3"; then ok; else
    bad "$1: '$2' not in $3:"; sed 's/^/    | /' "$3" >&2
  fi
}
expect_not_in() {
  if grep -qF -- "$2" "$3"; then bad "$1: '$2' unexpectedly in $3"; else ok; fi
}

# start_bg LOG CMD...: run CMD in the background (stderr to LOG), wait (bounded) for its
# "listening on 127.0.0.1:PORT" line; sets $bg_pid and $bg_port.
start_bg() {
  local log=$1
  shift
  "$@" 2>"$log" &
  bg_pid=$!
  pids+=("$bg_pid")
  bg_port=""
  for _ in $(seq 1 150); do
    bg_port=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$log" | head -1)
    [ -n "$bg_port" ] && return 0
    kill -0 "$bg_pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "did not start: $*" >&2
  cat "$log" >&2
  return 1
}

# start_server LOG ARGS... : veritee tls-server on 127.0.0.1:0; sets $srv_pid and $port.
start_server() {
  local rc=0
  start_bg "$1" "$V" tls-server --listen 127.0.0.1:0 "${@:2}" || rc=1
  srv_pid=$bg_pid
  port=$bg_port
  return $rc
}

# wait_server: wait (bounded) for $srv_pid to exit; sets $srv_rc (124 on timeout).
wait_server() {
  for _ in $(seq 1 150); do
    kill -0 "$srv_pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$srv_pid" 2>/dev/null; then
    kill "$srv_pid" 2>/dev/null
    wait "$srv_pid" 2>/dev/null
    srv_rc=124
  else
    wait "$srv_pid"
    srv_rc=$?
  fi
}

# start_s_server CERT KEY LOG [ARGS...]: openssl s_server on 127.0.0.1:0, one connection.
start_s_server() {
  local cert=$1 key=$2 log=$3
  shift 3
  timeout 20 openssl s_server -accept 127.0.0.1:0 -cert "$cert" -key "$key" -tls1_3 \
    -naccept 1 "$@" < <(sleep 20) >"$log" 2>&1 &
  srv_pid=$!
  pids+=("$srv_pid")
  port=""
  for _ in $(seq 1 150); do
    port=$(sed -n 's/^ACCEPT 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$log" | head -1)
    [ -n "$port" ] && return 0
    sleep 0.1
  done
  echo "openssl s_server did not start:" >&2
  cat "$log" >&2
  return 1
}

finish() {
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
}
