#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Audit retention on PostgreSQL (throwaway cluster, as kbs_pg_test.sh): `veritee admin audit
# prune --before TIME` deletes the rows before the cut-off and keeps later ones, audits
# itself (uid, count, cut-off); a raw SQL DELETE or UPDATE is still refused by the trigger;
# audit --after pages. Skips (exit 77) only when the PostgreSQL server binaries are absent.
set -u
. "$(dirname "$0")/pg_lib.sh"
declare -A RP
pg_lib_start audit-pg

"$BIN/veritee" sim init sim >/dev/null 2>&1 || { echo "FAIL: sim init"; exit 1; }
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout b.key -out b.pem \
  -days 30 -subj "/CN=127.0.0.1" 2>/dev/null
"$BIN/veritee-broker" --gen-master-key mk 2>/dev/null
"$BIN/veritee-broker" --listen 127.0.0.1:0 --store "$URL" --master-key mk --admin-socket a.sock \
   --cert b.pem --key b.key --root-ca sim/root-ca.pem --collateral sim/intel \
   --kbs-listen 127.0.0.1:0 2>a.log &
PIDS+=($!)
for _ in $(seq 100); do grep -q 'KBS listening on' a.log && break; sleep 0.1; done
grep -q 'KBS listening on' a.log || { echo "FAIL: broker did not start"; cat a.log; exit 1; }
Q() { psql -X -A -t -q -h 127.0.0.1 -p "$PORT" -U veritee -d kbs -c "$1"; }
Q "INSERT INTO audit (time, rid, peer, tee, op, path, decision, reason, insecure)
   SELECT 1700000000 + i, 'old' || i, '', '', 'test', '', 'refuse', '', false
   FROM generate_series(1, 20) i" || bad "insert"
"$BIN/veritee" admin --socket a.sock audit prune --before 2023-11-14T22:13:31Z >pr.out 2>&1; rc=$?
[ $rc = 0 ] && grep -q '"deleted": 10' pr.out && ok "prune deleted the 10 rows before the cut-off" || bad "prune: rc $rc $(cat pr.out)"
[ "$(Q "SELECT count(*) FROM audit WHERE rid LIKE 'old%' AND time < 1700000011")" = 0 ] \
  && [ "$(Q "SELECT count(*) FROM audit WHERE rid LIKE 'old%'")" = 10 ] \
  && ok "rows before the cut-off gone, later ones kept" || bad "prune rows"
Q "SELECT peer || '|' || reason FROM audit WHERE op = 'audit-prune'" | grep -q "^uid:$(id -u)|audit pruned by uid $(id -u): rows before 2023-11-14T22:13:31Z deleted=10$" \
  && ok "the prune is audited (uid, cut-off, count)" || bad "prune record: $(Q "SELECT * FROM audit WHERE op = 'audit-prune'")"
Q "DELETE FROM audit WHERE rid LIKE 'old%'" 2>del.err
grep -q 'append-only' del.err && [ "$(Q "SELECT count(*) FROM audit WHERE rid LIKE 'old%'")" = 10 ] \
  && ok "a raw DELETE is still refused by the trigger" || bad "raw DELETE: $(cat del.err)"
Q "UPDATE audit SET reason = 'x'" 2>upd.err; grep -q 'append-only' upd.err && ok "a raw UPDATE is still refused" || bad "raw UPDATE"
[ "$(Q "SELECT open FROM audit_prune_gate")" = f ] && ok "the gate is closed after the prune" || bad "gate left open"
"$BIN/veritee" admin --socket a.sock audit --after 0 --limit 4 >p.json 2>&1
python3 -c 'import json; d=json.load(open("p.json")); a=d["audit"]; assert len(a)==4 and d["more"] is True and d["next_after"]==a[-1]["seq"]' \
  && ok "--after paging on PostgreSQL" || bad "--after: $(head -c 300 p.json)"
echo "audit_pg: $pass passed, $fail failed"
[ $fail = 0 ]
