#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# End-to-end tests of the local files of the agent and the broker (issue 10 items 5, 9-11):
#  - veritee-agent -o FILE writes a new 0600 file of its own (created exclusively under a
#    random name, synced, renamed over FILE): a fresh path and an existing own file work (the
#    latter replaced atomically: new inode); a FILE another user owns (the /dev/shm pre-creation
#    attack), a symbolic link, a hard-linked file or a directory are refused with
#    VT_ERR_AGENT_OUTPUT_UNSAFE (exit 1) and left unchanged; a directory writable by others
#    without the sticky bit is refused (VT_ERR_AGENT_OUTPUT_DIR_UNSAFE); no temporary is left;
#  - veritee-broker refuses to start on a master key of equal bytes, on a store file with
#    group/other bits, and on a master key reached through a symbolic link whose target is
#    0644; a Kubernetes-style ..data symlink chain to a 0600 key works.
# The ownership cases need root (chown); they are skipped otherwise.
set -u
BIN=${VERITEE_BIN:-$(cd "$(dirname "$0")/../.." && pwd)/build/bin}
T=$(mktemp -d /tmp/vt-local-files.XXXXXX)
D=$(mktemp -d /dev/shm/vt-agent-out.XXXXXX) # tmpfs: the agent's -o default requirement
pass=0; fail=0
BPID=
cleanup() { [ -n "$BPID" ] && kill "$BPID" 2>/dev/null; wait 2>/dev/null; rm -rf "$T" "$D"; }
trap cleanup EXIT
ok()  { pass=$((pass+1)); echo "ok: $*"; }
bad() { fail=$((fail+1)); echo "FAIL: $*"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else bad "$what"; fi; }
cd "$T" || exit 1
ROOT=0; [ "$(id -u)" = 0 ] && ROOT=1

"$BIN/veritee" sim init sim >/dev/null 2>&1 || { echo "sim init failed"; exit 1; }
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem \
  -days 30 -subj "/CN=e2e local CA" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout broker.key -out broker.csr \
  -subj "/CN=127.0.0.1" 2>/dev/null
openssl x509 -req -in broker.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out broker.pem -days 30 \
  -extfile <(printf "subjectAltName=IP:127.0.0.1\n") 2>/dev/null
"$BIN/veritee-broker" --gen-master-key mk 2>/dev/null

# the broker in the background until 'listening on'; returns non-zero if it did not get there
start_broker() { # master-key-file extra flags...
  local mkf=$1; shift
  : > broker.log
  "$BIN/veritee-broker" --listen 127.0.0.1:0 --store st.db --master-key "$mkf" \
    --admin-socket adm.sock --root-ca sim/root-ca.pem --cert broker.pem --key broker.key \
    --allow-sim --timeout 10 "$@" 2>>broker.log &
  BPID=$!
  for _ in $(seq 100); do grep -q 'listening on' broker.log && break
    kill -0 "$BPID" 2>/dev/null || break; sleep 0.1; done
  PORT=$(grep -o 'listening on 127.0.0.1:[0-9]*' broker.log | tail -1 | cut -d: -f2)
  [ -n "$PORT" ]
}
stop_broker() { kill "$BPID" 2>/dev/null; wait "$BPID" 2>/dev/null; local rc=$?; BPID=; return $rc; }
# a broker expected to refuse to start: its exit status (124: it started and ran 5 s)
broker_refused() { # master-key-file [store]
  timeout 5 "$BIN/veritee-broker" --listen 127.0.0.1:0 --store "${2:-st.db}" --master-key "$1" \
    --admin-socket adm2.sock --root-ca sim/root-ca.pem --cert broker.pem --key broker.key \
    --allow-sim 2>refused.log
}
admin() { "$BIN/veritee" admin --socket adm.sock "$@"; }
agent() { "$BIN/veritee-agent" get-resource --broker "127.0.0.1:$PORT" --tee sim --sim-dir sim \
  --broker-ca ca.pem "$@" default/secret/app; }
inode() { stat -c %i "$1"; }
no_temps() { ! ls -A "$@" | grep -q '^\.veritee-agent\.'; }

check "broker starts" start_broker mk
printf 'LOCAL-SECRET-%s' "$RANDOM$RANDOM" > secret.txt
SECRET=$(cat secret.txt)
admin resource put default/secret/app secret.txt >/dev/null
admin refval add measurement "$(cat sim/measurement)" --source e2e >/dev/null
echo '{"version":1,"rules":[{"name":"app","resources":["default/*/*"],"tee":["sim"],"reference":["measurement"]}]}' > policy.json
check "policy set" admin policy set policy.json

# ---- agent -o: fresh path, own file replaced --------------------------------------------------
agent -o "$D/fresh" 2>err.txt; rc=$?
check "fresh path: written (exit 0)" test $rc = 0 -a "$(cat "$D/fresh" 2>/dev/null)" = "$SECRET"
check "... mode 0600, owned by us" test "$(stat -c '%a %u' "$D/fresh")" = "600 $(id -u)"
printf 'old content' > "$D/own"; chmod 600 "$D/own"; before=$(inode "$D/own")
agent -o "$D/own" 2>err.txt; rc=$?
check "own 0600 file: replaced (exit 0)" test $rc = 0 -a "$(cat "$D/own")" = "$SECRET"
check "... by a new file renamed over it (new inode, mode 0600)" \
  test "$(inode "$D/own")" != "$before" -a "$(stat -c %a "$D/own")" = 600
printf 'old content' > "$D/own644"; chmod 644 "$D/own644"
agent -o "$D/own644" 2>err.txt; rc=$?
check "own 0644 file: replaced by a 0600 file" test $rc = 0 -a "$(stat -c %a "$D/own644")" = 600
check "no temporary file left behind" no_temps "$D"

# ---- agent -o: refusals ---------------------------------------------------------------------
if [ $ROOT = 1 ]; then
  printf 'planted by nobody' > "$D/planted"; chown 65534:65534 "$D/planted"; chmod 666 "$D/planted"
  agent -o "$D/planted" 2>err.txt; rc=$?
  check "file pre-created by another user: refused (exit 1)" test $rc = 1
  check "... with VT_ERR_AGENT_OUTPUT_UNSAFE naming the owner" \
    grep -q "planted: it is owned by uid 65534, not by us (uid 0): .*(VT_ERR_AGENT_OUTPUT_UNSAFE)" err.txt
  check "... the file is unchanged (content, owner, mode)" \
    test "$(cat "$D/planted")" = 'planted by nobody' -a "$(stat -c '%u %a' "$D/planted")" = "65534 666"
  mkdir -m 1777 "$D/sticky"
  printf 'planted' > "$D/sticky/k"; chown 65534 "$D/sticky/k"
  agent -o "$D/sticky/k" 2>err.txt; rc=$?
  check "another user's file in a sticky directory: refused, unchanged" \
    test $rc = 1 -a "$(cat "$D/sticky/k")" = planted
else
  echo "skipped: files owned by another user (needs root)"
fi
printf 'link target' > "$D/target"; chmod 600 "$D/target"; ln -s "$D/target" "$D/link"
agent -o "$D/link" 2>err.txt; rc=$?
check "symbolic link: refused (exit 1)" test $rc = 1
check "... VT_ERR_AGENT_OUTPUT_UNSAFE, symbolic link named" \
  grep -q "link: it is a symbolic link: .*(VT_ERR_AGENT_OUTPUT_UNSAFE)" err.txt
check "... link and target unchanged" test -L "$D/link" -a "$(cat "$D/target")" = 'link target'
printf 'hard linked' > "$D/hl1"; chmod 600 "$D/hl1"; ln "$D/hl1" "$D/hl2"
agent -o "$D/hl2" 2>err.txt; rc=$?
check "hard-linked file: refused (exit 1)" test $rc = 1
check "... VT_ERR_AGENT_OUTPUT_UNSAFE, link count named" \
  grep -q "hl2: it has 2 hard links: .*(VT_ERR_AGENT_OUTPUT_UNSAFE)" err.txt
check "... neither name holds the secret" test "$(cat "$D/hl1")" = 'hard linked' -a "$(cat "$D/hl2")" = 'hard linked'
mkdir "$D/adir"
agent -o "$D/adir" 2>err.txt; rc=$?
check "a directory: refused (not a regular file)" test $rc = 1 -a -n "$(grep 'not a regular file' err.txt)"
mkdir "$D/open"; chmod 777 "$D/open"
agent -o "$D/open/s" 2>err.txt; rc=$?
check "directory writable by others, not sticky: refused (exit 1)" test $rc = 1
check "... VT_ERR_AGENT_OUTPUT_DIR_UNSAFE, nothing created" \
  test -n "$(grep 'VT_ERR_AGENT_OUTPUT_DIR_UNSAFE' err.txt)" -a -z "$(ls -A "$D/open")"
mkdir "$D/shared"; chmod 1777 "$D/shared"
agent -o "$D/shared/s" 2>err.txt; rc=$?
check "sticky directory writable by others (like /dev/shm): written 0600" \
  test $rc = 0 -a "$(stat -c %a "$D/shared/s")" = 600 -a "$(cat "$D/shared/s")" = "$SECRET"
check "no temporary file left behind after the refusals" no_temps "$D" "$D/open" "$D/shared"
stop_broker

# ---- broker: master key and store file ------------------------------------------------------
printf '00%.0s' $(seq 32) > weak.key; chmod 600 weak.key
broker_refused weak.key fresh1.db; rc=$? # a fresh store: no other reason to refuse
check "master key of 32 zero bytes: the broker refuses to start (exit 1)" test $rc = 1
check "... with the reason" grep -q 'master key weak.key: master key is weak (all its bytes are equal)' refused.log
head -c 32 /dev/zero | tr '\0' '\377' > weak.raw; chmod 600 weak.raw
broker_refused weak.raw fresh2.db; rc=$?
check "raw master key of 32 0xff bytes: refused (exit 1)" test $rc = 1 -a -n "$(grep 'master key is weak' refused.log)"
# Kubernetes secret volume layout: master-key -> ..data/master-key, ..data -> ..<timestamp>
mkdir -p k8s/..2026_12_03_10_00_00.1; cp mk k8s/..2026_12_03_10_00_00.1/master-key
chmod 600 k8s/..2026_12_03_10_00_00.1/master-key
ln -s ..2026_12_03_10_00_00.1 k8s/..data; ln -s ..data/master-key k8s/master-key
check "master key through a ..data symlink chain: the broker starts" start_broker k8s/master-key
stop_broker
chmod 644 k8s/..2026_12_03_10_00_00.1/master-key
broker_refused k8s/master-key; rc=$?
check "symlink to a 0644 master key: refused (exit 1)" test $rc = 1
check "... with the mode reason" grep -q 'master key k8s/master-key: master key file is readable by group or others' refused.log
chmod 644 st.db
broker_refused mk; rc=$?
check "store file of mode 0644: refused (exit 1)" test $rc = 1
check "... with the reason" grep -q 'key store st.db: key store file is accessible by group or others' refused.log
check "... and its mode is left alone" test "$(stat -c %a st.db)" = 644
chmod 600 st.db
check "store file back to 0600: the broker starts" start_broker mk
check "... -wal and -shm are 0600" test "$(stat -c %a st.db-wal) $(stat -c %a st.db-shm)" = "600 600"
stop_broker; rc=$?
check "clean SIGTERM" test $rc = 0

echo "$pass passed, $fail failed"
[ $fail = 0 ]
