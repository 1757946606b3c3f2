#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# veritee tunnel across two network namespaces joined by a veth pair (issue 15): the client
# namespace runs curl and the ingress, the server namespace the egress and python3
# http.server, so the only path between them is the attested TLS connection on the veth.
# 20 MB arrive byte-identical; a wrong --expect is refused with nothing forwarded.
# Needs root (ip netns); skipped with a message otherwise.
if [ "$(id -u)" != 0 ]; then echo "SKIP: tunnel_netns_test needs root (ip netns)"; exit 77; fi
command -v ip >/dev/null && command -v curl >/dev/null || { echo "SKIP: ip and curl needed"; exit 77; }
. "$(dirname "$0")/tls_lib.sh"
A=vtta$$ B=vttb$$
netns_cleanup() {
  cleanup
  ip netns del "$A" 2>/dev/null
  ip netns del "$B" 2>/dev/null
}
trap netns_cleanup EXIT
if ! ip netns add "$A" 2>"$work/ns.err" || ! ip netns add "$B" 2>>"$work/ns.err"; then
  echo "SKIP: cannot create network namespaces: $(cat "$work/ns.err")"
  exit 77
fi
ip link add "va$$" netns "$A" type veth peer name "vb$$" netns "$B" || { echo "veth failed"; exit 1; }
ip -n "$A" addr add 10.231.0.1/24 dev "va$$" && ip -n "$A" link set "va$$" up && ip -n "$A" link set lo up
ip -n "$B" addr add 10.231.0.2/24 dev "vb$$" && ip -n "$B" link set "vb$$" up && ip -n "$B" link set lo up

"$V" sim init "$work/sim" >/dev/null || { echo "sim init failed"; exit 1; }
ROOT=$work/sim/root-ca.pem
mkdir -p "$work/www"
head -c 20000000 /dev/urandom >"$work/www/f.bin"
(cd "$work/www" && exec ip netns exec "$B" python3 -m http.server --bind 127.0.0.1 18000 >"$work/http.log" 2>&1) &
pids+=("$!")
for _ in $(seq 1 100); do grep -q "Serving HTTP" "$work/http.log" && break; sleep 0.1; done

# start_ns NS LOG ADDR-RE CMD...: run CMD in NS; wait for "listening on ADDR:PORT"; sets $ns_port.
start_ns() {
  local ns=$1 log=$2 re=$3
  shift 3
  ip netns exec "$ns" "$@" 2>"$log" &
  pids+=("$!")
  ns_port=""
  for _ in $(seq 1 150); do
    ns_port=$(sed -n "s/^listening on $re:\([0-9]*\)\$/\1/p" "$log" | head -1)
    [ -n "$ns_port" ] && return 0
    sleep 0.1
  done
  echo "did not start: $*" >&2
  cat "$log" >&2
  return 1
}
start_ns "$B" "$work/eg.log" '10\.231\.0\.2' "$V" tunnel egress --listen 10.231.0.2:0 --to 127.0.0.1:18000 \
  --tee sim --sim-dir "$work/sim" || exit 1
eg=$ns_port
start_ns "$A" "$work/in.log" '127\.0\.0\.1' "$V" tunnel ingress --listen 127.0.0.1:0 --to "10.231.0.2:$eg" \
  --root-ca "$ROOT" --expect tee=sim || exit 1
ip netns exec "$A" timeout 60 curl -sS --retry 3 --retry-connrefused -o "$work/got.bin" \
  "http://127.0.0.1:$ns_port/f.bin"
expect_rc "curl in the client namespace" 0 $?
if cmp -s "$work/www/f.bin" "$work/got.bin"; then ok; else bad "20 MB file differs"; fi
ip netns exec "$A" timeout 5 curl -s -o /dev/null "http://10.231.0.2:18000/f.bin"
expect_rc "the application is not reachable from the client namespace" 7 $?
start_ns "$A" "$work/bad.log" '127\.0\.0\.1' "$V" tunnel ingress --listen 127.0.0.1:0 \
  --to "10.231.0.2:$eg" --root-ca "$ROOT" --expect tee=tdx --max-conns 1 || exit 1
ip netns exec "$A" timeout 20 curl -s -o /dev/null "http://127.0.0.1:$ns_port/f.bin"
sleep 0.3
expect_in "wrong --expect refused" "refused: VT_ERR_TUNNEL_EXPECT_MISMATCH: claim tee is sim" "$work/bad.log"
expect_in "nothing forwarded" "bytes c2s 0 s2c 0" "$work/bad.log"
expect_rc "the application got one request" 1 "$(grep -c 'GET /' "$work/http.log")"
finish
