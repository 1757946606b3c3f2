#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Issue 10.3 / 10.8 on loopback (SQLite store): 2000 unauthenticated KBS requests (no token,
# bad path, forged bearer token, attestation without a session; bounded in count and time)
# add at most 5 audit rows, are counted per reason in /metrics and logged rate-limited (at
# most one line per second per reason), while /healthz is served; an audit table past the
# 8 MiB reply frame: `veritee admin audit` gets a clamped reply (truncated, next_after, a note
# on stderr) instead of "connection failed", --after pages on, --all follows every page.
set -u
. "$(dirname "$0")/kbs_lib.sh"
kbs_lib_start kbs-audit
rows() { sqlite3 a.db 'SELECT count(*) FROM audit'; }
R0=$(rows)

cat > flood.py <<'EOF'
import http.client, json, sys, time
port = int(sys.argv[1]); deadline = time.time() + 90
reqs = [("GET", "/kbs/v0/resource/default/key/one", {}, None),
        ("GET", "/kbs/v0/resource/../../etc", {}, None),
        ("GET", "/kbs/v0/resource/default/key/one", {"Authorization": "Bearer a.b.c"}, None),
        ("POST", "/kbs/v0/attest", {"Content-Type": "application/json"}, b"{}")]
c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
n = 0; codes = {}
while n < 2000 and time.time() < deadline:
    m, p, h, b = reqs[n % 4]
    c.request(m, p, body=b, headers=h)
    r = c.getresponse(); r.read()
    codes[r.status] = codes.get(r.status, 0) + 1
    n += 1
    if n == 1000:  # /healthz served during the flood
        c2 = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        c2.request("GET", "/healthz"); r2 = c2.getresponse(); r2.read()
        print("healthz", r2.status)
print("sent", n, json.dumps(codes, sort_keys=True))
EOF
S0=$(date +%s)
out=$(python3 flood.py "$KPORT")
S1=$(date +%s)
echo "$out"
echo "$out" | grep -q '^sent 2000 ' && ok "2000 bad requests sent" || bad "flood incomplete: $out"
echo "$out" | grep -q '^healthz 200' && ok "/healthz served during the flood" || bad "/healthz during the flood"
R1=$(rows)
[ $((R1 - R0)) -le 5 ] && ok "2000 unauthenticated requests added $((R1 - R0)) audit rows (<= 5)" \
  || bad "2000 unauthenticated requests added $((R1 - R0)) audit rows"
m=$(curl -s "http://127.0.0.1:$KPORT/metrics")
for r in no-token bad-path bad-token attest; do
  echo "$m" | grep -q "^veritee_kbs_unauthenticated_total{reason=\"$r\"} 500$" \
    && ok "/metrics: 500 $r" || bad "/metrics $r: $(echo "$m" | grep unauthenticated_total)"
done
L=$(grep -c 'unauthenticated' a.log)
MAXL=$(( 4 * (S1 - S0 + 2) ))
[ "$L" -ge 4 ] && [ "$L" -le "$MAXL" ] && ok "log rate-limited: $L lines for 2000 failures (<= $MAXL)" \
  || bad "log lines for 2000 failures: $L (want 4..$MAXL)"
grep -q 'similar suppressed' a.log && ok "log says how many were suppressed" || bad "no suppressed count in the log"

# ---- 10.8: an audit table past the 8 MiB reply frame (rows inserted directly: insert is
# allowed, only UPDATE/DELETE are refused by the triggers)
sqlite3 a.db "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < 2000)
  INSERT INTO audit (time, rid, peer, tee, op, path, decision, reason, insecure)
  SELECT 1700000000 + i, 'big' || i, '127.0.0.1', 'sim', 'test', '', 'refuse',
         printf('%.5000c', 'x'), 0 FROM n;" || bad "bulk insert"
TOTAL=$(rows)
"$BIN/veritee" admin --socket a.sock audit --limit 5000 >p1.json 2>p1.err; rc=$?
[ $rc = 0 ] && ok "big audit listing answered (exit 0)" || bad "big audit listing: exit $rc $(cat p1.err)"
grep -q 'connection failed' p1.err && bad "connection failed on a big listing"
grep -q 'truncated to fit one reply; continue with --after' p1.err && ok "truncation noted on stderr" \
  || bad "no truncation note: $(cat p1.err)"
read -r N1 TR NX LAST < <(python3 -c 'import json,sys; d=json.load(open("p1.json")); print(len(d["audit"]), d["truncated"], d.get("next_after"), d["last_seq"])')
[ "$TR" = True ] && [ "$NX" = "$LAST" ] && [ "$N1" -gt 100 ] && [ "$N1" -lt "$TOTAL" ] \
  && ok "clamped reply: $N1 entries, truncated, next_after $NX" || bad "clamped reply: $N1 $TR $NX $LAST"
python3 -c 'import json; d=json.load(open("p1.json")); assert len(json.dumps(d, separators=(",",":"))) < 8388608' && ok "clamped reply fits the frame" || bad "reply size"
"$BIN/veritee" admin --socket a.sock audit --after "$NX" --limit 3 >p2.json 2>p2.err
read -r N2 FIRST MORE NX2 < <(python3 -c 'import json,sys; d=json.load(open("p2.json")); a=d["audit"]; print(len(a), a[0]["seq"], d["more"], d.get("next_after"))')
[ "$N2" = 3 ] && [ "$FIRST" -gt "$NX" ] && [ "$MORE" = True ] && [ "$NX2" = $((FIRST + 2)) ] \
  && ok "--after $NX --limit 3: 3 entries from seq $FIRST, more, next_after $NX2" \
  || bad "--after paging: $N2 $FIRST $MORE $NX2"
"$BIN/veritee" admin --socket a.sock audit --after 999999999 >p3.json 2>&1
python3 -c 'import json; d=json.load(open("p3.json")); assert d["audit"]==[] and d["more"] is False and "next_after" not in d' \
  && ok "--after past the end: empty, no more" || bad "--after past the end: $(head -c 300 p3.json)"
"$BIN/veritee" admin --socket a.sock audit --all --limit 700 >p4.json 2>p4.err; rc=$?
N4=$(python3 -c 'import json; d=json.load(open("p4.json")); s=[e["seq"] for e in d["audit"]]; assert s==sorted(set(s)); print(len(s))' 2>/dev/null)
[ $rc = 0 ] && [ "$N4" = "$TOTAL" ] && ok "--all followed every page: $N4 rows" || bad "--all: rc $rc, $N4 of $TOTAL rows $(cat p4.err)"
"$BIN/veritee" admin --socket a.sock audit --after x >/dev/null 2>&1; [ $? = 2 ] && ok "--after x: usage error" || bad "--after x accepted"
grep -q 'audit.list clamped' a.log && ok "broker logged the clamp" || bad "clamp not logged"

# ---- retention: audit prune --before (the 2000 big rows are at 1700000000 + i)
"$BIN/veritee" admin --socket a.sock audit prune --before 1700001001 >pr.out 2>&1; rc=$?
grep -q '"deleted": 1000' pr.out && [ $rc = 0 ] && ok "prune deleted the 1000 rows before the cut-off" \
  || bad "prune: rc $rc $(cat pr.out)"
[ "$(sqlite3 a.db "SELECT count(*) FROM audit WHERE rid LIKE 'big%' AND time < 1700001001")" = 0 ] \
  && [ "$(sqlite3 a.db "SELECT count(*) FROM audit WHERE rid LIKE 'big%'")" = 1000 ] \
  && ok "rows before the cut-off gone, later ones kept" || bad "prune rows"
sqlite3 a.db "SELECT peer, reason FROM audit WHERE op = 'audit-prune'" | grep -q "^uid:$(id -u)|audit pruned by uid $(id -u): rows before 2023-11-14T22:30:01Z deleted=1000$" \
  && ok "the prune is audited (uid, cut-off, count)" || bad "prune record: $(sqlite3 a.db "SELECT * FROM audit WHERE op = 'audit-prune'")"
sqlite3 a.db "DELETE FROM audit WHERE rid LIKE 'big%'" 2>del.err
grep -q 'append-only' del.err && [ "$(sqlite3 a.db "SELECT count(*) FROM audit WHERE rid LIKE 'big%'")" = 1000 ] \
  && ok "a raw DELETE is still refused by the trigger" || bad "raw DELETE: $(cat del.err)"
sqlite3 a.db "UPDATE audit SET reason = 'x'" 2>upd.err; grep -q 'append-only' upd.err && ok "a raw UPDATE is still refused" || bad "raw UPDATE"
"$BIN/veritee" admin --socket a.sock audit prune --before yesterday >/dev/null 2>pr2.err; rc=$?
[ $rc = 1 ] && grep -q "BROKER_BAD_FIELD" pr2.err && ok "prune --before yesterday refused (BAD_FIELD)" || bad "bad --before: rc $rc $(cat pr2.err)"
"$BIN/veritee" admin --socket a.sock audit prune >/dev/null 2>&1; [ $? = 2 ] && ok "prune without --before: usage" || bad "prune without --before"

echo "kbs_audit: $pass passed, $fail failed"
[ $fail = 0 ]
