#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# memory_bench.sh - memory budgets (issue 16), measured on the real binaries on 127.0.0.1
# with the sim TEE (a SQLite store, a fresh broker for each figure):
#   agent_get_resource      peak RSS of `veritee-agent get-resource` (GNU time): attested TLS
#   agent_get_resource_kbs  to the broker, and the KBS protocol (--kbs, sim-tdx); aim <= 10 MB
#                           (the agent runs inside the TEE)
#   broker_agents           broker peak RSS (VmHWM) with CLIENTS attested TLS agent
#                           connections open at once, one release served on each; aim <= 64 MB
#   broker_kbs_guests       broker VmHWM while CLIENTS KBS guests run whole protocol runs
#                           (auth -> attest -> resource) at once for KBS_SECS; aim <= 64 MB
#   broker_growth_kbs_fetch broker VmRSS after REQUESTS requests / VmRSS after 1,000 (aim <=
#   broker_growth_agent     1.0: no growth): KBS resource fetches with a token, and agent
#                           releases over persistent attested connections (4 clients each);
#                           also rss REQUESTS / rss 30,000 (`..._after_30k`, informational)
# Prints `rss NAME_kb: VALUE` and `ratio NAME: VALUE` (measured / aim; <= 1.0 is met).
# The first three are medians of ROUNDS runs; the growth figures run once (they are long).
# usage: bench/memory_bench.sh [BUILD_DIR] [REQUESTS] [CLIENTS] [ROUNDS]
#        (defaults: build-release 100000 200 3; KBS_SECS=10 in the environment;
#        ONLY="agent agents kbs growth" runs only the parts named)
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
B=$(cd "${1:-$here/build-release}" && pwd) || exit 1
REQ=${2:-100000}; CL=${3:-200}; RD=${4:-3}; KS=${KBS_SECS:-10}
V=$B/bin/veritee; BR=$B/bin/veritee-broker; AG=$B/bin/veritee-agent; ML=$B/bench/mem_load
for x in "$V" "$BR" "$AG" "$ML"; do [ -x "$x" ] || { echo "missing $x (build first)"; exit 1; }; done
[ -x /usr/bin/time ] || { echo "GNU time missing (scripts/deps.sh installs it)"; exit 1; }
[ "$REQ" -gt 1000 ] || { echo "REQUESTS must be over 1000"; exit 2; }
T=$(mktemp -d /tmp/vt-mem-bench.XXXXXX); cd "$T" || exit 1
BPID=; HOLD=
cleanup() { [ -n "$BPID" ] && kill "$BPID" 2>/dev/null; [ -n "$HOLD" ] && kill "$HOLD" 2>/dev/null
  wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
die() { echo "memory_bench: $*"; [ -f b.log ] && tail -5 b.log; exit 1; }

"$V" sim init sim >/dev/null 2>&1 || die "sim init"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout b.key -out b.pem \
  -days 3 -subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1" 2>/dev/null
"$BR" --gen-master-key mk 2>/dev/null
printf 'memory bench secret' > secret
printf '{"version":1,"rules":[{"name":"b","resources":["default/*/*"],"tee":["sim","tdx"]}]}' > pol.json
RES=default/key/b

# A fresh broker (store, log) with both front ends; sets BPID, PORT, KPORT.
start_broker() {
  rm -f st.db st.db-* a.sock; : > b.log
  "$BR" --listen 127.0.0.1:0 --store st.db --master-key mk --admin-socket a.sock --cert b.pem \
    --key b.key --allow-sim --root-ca sim/root-ca.pem --collateral sim/intel --timeout 600 \
    --max-connections $((CL + 16)) --max-connections-per-address $((CL + 16)) \
    --kbs-listen 127.0.0.1:0 --kbs-max-connections $((CL * 4 + 16)) --kbs-max-connections-per-address $((CL * 4)) \
    --kbs-max-sessions-per-address 1000000 --token-lifetime 86400 2>b.log &
  BPID=$!
  for _ in $(seq 200); do grep -q 'KBS listening on' b.log && break; sleep 0.1; done
  PORT=$(grep -o 'listening on 127.0.0.1:[0-9]*' b.log | head -1 | cut -d: -f2)
  KPORT=$(grep -o 'KBS listening on http://127.0.0.1:[0-9]*' b.log | grep -o '[0-9]*$')
  [ -n "$PORT" ] && [ -n "$KPORT" ] || die "broker did not start"
  "$V" admin --socket a.sock resource put "$RES" secret >/dev/null || die "resource put"
  "$V" admin --socket a.sock policy set pol.json >/dev/null || die "policy set"
}
stop_broker() { kill "$BPID" 2>/dev/null; wait "$BPID" 2>/dev/null; BPID=; }
kb() { sed -n "s/^$1:[[:space:]]*\([0-9]*\) kB/\1/p" "/proc/$BPID/status"; } # VmRSS / VmHWM
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
conns() { ss -Htn state established "( sport = :$1 )" 2>/dev/null | wc -l; }
want() { [ -z "${ONLY:-}" ] || [[ " $ONLY " == *" $1 "* ]]; }
ratio() { awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN { printf "ratio %s: %.3f\n", n, a / b }'; }

echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg) at start; $(date -u +%FT%TZ)"
echo "requests for growth: $REQ; concurrent clients: $CL; rounds: $RD; KBS guests for ${KS} s"

# ---- 1. the agent's peak RSS ---------------------------------------------------------------
if want agent; then
a1=(); a2=(); idle=()
for r in $(seq "$RD"); do
  start_broker
  idle+=("$(kb VmRSS)")
  /usr/bin/time -f %M -o t1 "$AG" get-resource --broker "127.0.0.1:$PORT" --tee sim --sim-dir sim \
    --broker-ca b.pem "$RES" > o1 || die "agent get-resource (attested TLS) failed"
  /usr/bin/time -f %M -o t2 "$AG" get-resource --kbs "http://127.0.0.1:$KPORT" --tee sim-tdx \
    --sim-dir sim "$RES" > o2 || die "agent get-resource --kbs failed"
  cmp -s o1 secret && cmp -s o2 secret || die "agent: wrong secret"
  a1+=("$(tail -1 t1)"); a2+=("$(tail -1 t2)")
  stop_broker
done
A1=$(printf '%s\n' "${a1[@]}" | median); A2=$(printf '%s\n' "${a2[@]}" | median)
I0=$(printf '%s\n' "${idle[@]}" | median)
echo "agent peak RSS kB per round: attested TLS ${a1[*]}; KBS ${a2[*]}"
echo "rss broker_idle_kb: $I0"
echo "rss agent_get_resource_kb: $A1"
echo "rss agent_get_resource_kbs_kb: $A2"
ratio agent_get_resource "$A1" 10240
ratio agent_get_resource_kbs "$A2" 10240
fi

# ---- 2. CL attested TLS agents held open at once -------------------------------------------
if want agents; then
h=(); hr=()
for r in $(seq "$RD"); do
  start_broker
  rm -f hold.in; mkfifo hold.in
  "$ML" hold "127.0.0.1:$PORT" "$CL" sim b.pem "$RES" < hold.in > hold.out & HOLD=$!
  exec 7>hold.in
  for _ in $(seq 1200); do grep -q '^held' hold.out && break; sleep 0.1; done
  n=$(conns "$PORT"); rss=$(kb VmRSS); hwm=$(kb VmHWM)
  exec 7>&-
  wait "$HOLD"; rc=$?; HOLD=
  [ $rc = 0 ] || die "holding $CL agents failed: $(cat hold.out)"
  echo "round $r: $n agent connections open, $(grep -c 'decision=release' b.log) releases; broker VmRSS $rss kB, VmHWM $hwm kB"
  h+=("$hwm"); hr+=("$rss")
  stop_broker
done
H=$(printf '%s\n' "${h[@]}" | median)
echo "rss broker_agents_now_kb: $(printf '%s\n' "${hr[@]}" | median)"
echo "rss broker_agents_kb: $H"
ratio broker_agents "$H" 65536
fi

# ---- 3. CL KBS guests at once --------------------------------------------------------------
if want kbs; then
g=()
for r in $(seq "$RD"); do
  start_broker
  "$ML" kbs-guests "http://127.0.0.1:$KPORT" "$CL" sim-tdx sim "$RES" "$KS" > guests.out 2>&1 & HOLD=$!
  peak=0
  while kill -0 "$HOLD" 2>/dev/null; do
    n=$(conns "$KPORT"); [ "$n" -gt "$peak" ] && peak=$n; sleep 0.5
  done
  wait "$HOLD"; rc=$?; HOLD=
  hwm=$(kb VmHWM)
  [ $rc = 0 ] || die "KBS guests failed: $(cat guests.out)"
  echo "round $r: $(grep requests guests.out); up to $peak KBS connections open at once; broker VmRSS $(kb VmRSS) kB, VmHWM $hwm kB"
  g+=("$hwm")
  stop_broker
done
G=$(printf '%s\n' "${g[@]}" | median)
echo "rss broker_kbs_guests_kb: $G"
ratio broker_kbs_guests "$G" 65536
fi

# ---- 4. growth: REQUESTS requests against 1,000 --------------------------------------------
marks() { local m=(1000); for x in 10000 30000 60000; do [ "$x" -lt "$1" ] && m+=("$x"); done
  echo "${m[*]} $1"; }
growth() { # NAME OUTFILE
  local r1 rn
  r1=$(sed -n 's/^at 1000: vmrss_kb \([0-9]*\).*/\1/p' "$2")
  rn=$(sed -n "s/^at $REQ: vmrss_kb \([0-9]*\).*/\1/p" "$2")
  [ -n "$r1" ] && [ -n "$rn" ] || die "$1: no figures: $(cat "$2")"
  echo "rss broker_$1_1k_kb: $r1"
  echo "rss broker_$1_${REQ}_kb: $rn"
  ratio "broker_growth_$1" "$rn" "$r1"
  # after 30,000 requests SQLite's page cache (default cache_size, 2000 KiB) has filled as the
  # audit table grew: what follows is the steady state (informational, not an aim of its own)
  r30=$(sed -n 's/^at 30000: vmrss_kb \([0-9]*\).*/\1/p' "$2")
  [ -z "$r30" ] || ratio "broker_growth_$1_after_30k" "$rn" "$r30"
}
if want growth; then
start_broker
t0=$(date +%s)
# shellcheck disable=SC2046
"$ML" kbs-fetch "http://127.0.0.1:$KPORT" 4 "$REQ" "$BPID" sim-tdx sim "$RES" $(marks "$REQ") \
  > fetch.out || die "KBS fetches failed: $(cat fetch.out)"
sed 's/^/  kbs fetch /' fetch.out; echo "  ($(( $(date +%s) - t0 )) s)"
growth kbs_fetch fetch.out
stop_broker
start_broker
t0=$(date +%s)
# shellcheck disable=SC2046
"$ML" agents "127.0.0.1:$PORT" 4 "$REQ" "$BPID" sim b.pem "$RES" $(marks "$REQ") \
  > agents.out || die "agent releases failed: $(cat agents.out)"
sed 's/^/  agent release /' agents.out; echo "  ($(( $(date +%s) - t0 )) s)"
growth agent agents.out
stop_broker
fi
echo "machine load at the end: $(cut -d' ' -f1-3 /proc/loadavg); $(date -u +%FT%TZ)"
