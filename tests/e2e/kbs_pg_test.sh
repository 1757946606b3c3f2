#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Shared state in PostgreSQL: a throwaway cluster (Debian's postgresql 15 server binaries,
# initdb/pg_ctl, 127.0.0.1 only, run as the postgres user when we are root), veritee-broker
# processes with --store postgresql://... --kbs-listen, provisioned through `veritee admin`:
#   - a guest attests at one broker and fetches (Bearer token, cookie session) at the other;
#     the token signed by one verifies at the other (one signing key in the store);
#   - a single challenge cannot be used at both brokers;
#   - the broker serving the provisioning (admin socket) is killed with SIGKILL mid-way:
#     nothing `veritee admin` reported committed is lost (the other broker serves it), and
#     the killed broker restarts on the same store;
#   - 200 concurrent guests (veritee-agent get-resource --kbs, sim-tdx and sim, alternating
#     brokers) all get the right answer;
#   - schema migrations are versioned (schema_migrations rows 1..N, applied once);
#   - secret rollback (issue 10.4): the newest version row of a key deleted with psql (or its
#     latest-version record changed) is refused at B with VT_ERR_BROKER_SECRET_ROLLBACK and
#     logged, never the older version; normal rotation and deletion work;
#     a store from before the records (schema 6, check value v1) adopts them once at start;
#   - a policy change and a reference value added through A's admin socket are enforced by B
#     without a signal (the store's policy generation, checked at most every 200 ms);
#   - a password in the store URL (user information or ?password=) never reaches the log;
#   - master key rotation (--rekey) on PostgreSQL: one transaction, old key refused after it;
#   - a frozen database (kill -STOP of postmaster and backends): /healthz 503 within 3 s, 200
#     again after SIGCONT;
#   - --store-file: the URL (tricky password) is not in ps nor in the log; a file readable by
#     others is refused; tricky passwords are redacted in connection errors;
#   - two brokers with different master keys starting together on a fresh store: exactly one
#     runs, the other is refused ("master key does not open this key store").
# Skips (exit 77) only when the PostgreSQL server binaries are absent.
set -u
. "$(dirname "$0")/pg_lib.sh"
declare -A RP
pg_lib_start kbs-pg

"$BIN/veritee" sim init sim >/dev/null 2>&1 || { echo "FAIL: sim init"; exit 1; }
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout b.key -out b.pem \
  -days 30 -subj "/CN=127.0.0.1" 2>/dev/null
"$BIN/veritee-broker" --gen-master-key mk 2>/dev/null
printf 'shared secret' > secret
printf '{"version":1,"rules":[{"name":"app","resources":["default/*/*"],"tee":["sim","tdx"]}]}' > pol.json
declare -A BP KP
GUESTS=()
start() { # name -> BP[name] pid, KP[name] KBS port
  local n=$1
  "$BIN/veritee-broker" --listen 127.0.0.1:0 --store "$URL" --master-key mk --admin-socket "$n.sock" \
     --cert b.pem --key b.key --root-ca sim/root-ca.pem --collateral sim/intel --allow-sim \
     --kbs-listen 127.0.0.1:0 --kbs-max-sessions-per-address 1000 --kbs-max-connections-per-address 1000 2>"$n.log" &
  BP[$n]=$!; PIDS+=($!)
  for _ in $(seq 100); do grep -q 'KBS listening on' "$n.log" && break; sleep 0.1; done
  KP[$n]=$(grep -o 'KBS listening on http://127.0.0.1:[0-9]*' "$n.log" | grep -o '[0-9]*$')
  [ -n "${KP[$n]}" ] || { echo "FAIL: broker $n did not start"; cat "$n.log"; exit 1; }
}
admin() { local n=$1; shift; "$BIN/veritee" admin --socket "$n.sock" "$@"; }
agent() { "$BIN/veritee-agent" get-resource "$@" 2>>agent.err; }
# provision at A, then start B (a broker loads policy and reference values at start and on
# SIGHUP; resources and sessions are read from the store on every request)
start a
admin a resource put default/key/one secret >/dev/null || { echo "FAIL: admin resource put"; exit 1; }
admin a policy set pol.json >/dev/null || { echo "FAIL: admin policy set"; exit 1; }
start b
PA=${KP[a]}; PB=${KP[b]}

n=$(psql -h 127.0.0.1 -p "$PORT" -U veritee -d kbs -Atc 'SELECT count(*)::text || max(version)::text FROM schema_migrations')
[ "$n" = "88" ] && ok "schema migrations versioned (8 rows, latest 8)" || bad "schema_migrations: $n"
n=$(psql -h 127.0.0.1 -p "$PORT" -U veritee -d kbs -Atc "SELECT relpersistence FROM pg_class WHERE relname = 'kbs_sessions'")
[ "$n" = "u" ] && ok "kbs_sessions is UNLOGGED (sessions need no durability)" || bad "kbs_sessions persistence: $n"
k=$(psql -h 127.0.0.1 -p "$PORT" -U veritee -d kbs -Atc "SELECT count(*) FROM secrets WHERE path = '@kbs/ear-signing-key'")
[ "$k" = 1 ] && ok "one signing key in the shared store (sealed)" || bad "signing keys: $k"
p=$(psql -h 127.0.0.1 -p "$PORT" -U veritee -d kbs -Atc "SELECT count(*) FROM secrets WHERE position('shared secret'::bytea in blob) > 0")
[ "$p" = 0 ] && ok "no plaintext secret in PostgreSQL" || bad "plaintext in the store? ($p)"
ja=$(curl -s "http://127.0.0.1:$PA/.well-known/jwks.json"); jb=$(curl -s "http://127.0.0.1:$PB/.well-known/jwks.json")
[ -n "$ja" ] && [ "$ja" = "$jb" ] && ok "both brokers publish the same JWKS" || bad "JWKS differ"
out=$(agent --kbs "http://127.0.0.1:$PB" --tee sim-tdx --sim-dir sim default/key/one)
[ "$out" = "shared secret" ] && ok "agent (sim-tdx) at B, provisioned through A" || bad "agent at B: $(tail -2 agent.err)"

# attest at A, fetch at B: Bearer token and cookie session; single-use challenge across brokers
cat > cross.py <<'PYEOF'
import base64, hashlib, http.client, json, subprocess, sys
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.keywrap import aes_key_unwrap
from cryptography.hazmat.primitives.kdf.concatkdf import ConcatKDFHash
PA, PB, BIN = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
def b64u(b): return base64.urlsafe_b64encode(b).rstrip(b"=").decode()
def ub64u(s): return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
def req(port, method, path, body=None, cookie=None, bearer=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    h = {"Content-Type": "application/json"}
    if cookie: h["Cookie"] = "kbs-session-id=" + cookie
    if bearer: h["Authorization"] = "Bearer " + bearer
    c.request(method, path, body=json.dumps(body).encode() if body is not None else None, headers=h)
    r = c.getresponse(); d = r.read(); sc = r.getheader("Set-Cookie") or ""
    return r.status, json.loads(d), sc.split(";")[0].split("=", 1)[-1]
def decrypt(jwe, priv):
    hdr = json.loads(ub64u(jwe["protected"])); e = hdr["epk"]
    epk = ec.EllipticCurvePublicNumbers(int.from_bytes(ub64u(e["x"]), "big"), int.from_bytes(ub64u(e["y"]), "big"), ec.SECP256R1()).public_key()
    other = (14).to_bytes(4, "big") + b"ECDH-ES+A256KW" + b"\0" * 8 + (256).to_bytes(4, "big")
    kek = ConcatKDFHash(algorithm=hashes.SHA256(), length=32, otherinfo=other).derive(priv.exchange(ec.ECDH(), epk))
    cek = aes_key_unwrap(kek, ub64u(jwe["encrypted_key"]))
    return AESGCM(cek).decrypt(ub64u(jwe["iv"]), ub64u(jwe["ciphertext"]) + ub64u(jwe["tag"]), jwe["protected"].encode())
def run(port_auth, port_attest, tee):
    k = ec.generate_private_key(ec.SECP256R1()); n = k.public_key().public_numbers()
    jwk = {"kty": "EC", "crv": "P-256", "alg": "ECDH-ES+A256KW", "x": b64u(n.x.to_bytes(32, "big")), "y": b64u(n.y.to_bytes(32, "big"))}
    s, ch, ck = req(port_auth, "POST", "/kbs/v0/auth", {"version": "0.4.0", "tee": tee, "extra-params": ""})
    d = hashlib.sha384(json.dumps({"additional-evidence": "", "nonce": ch["nonce"], "tee-pubkey": jwk}, sort_keys=True, separators=(",", ":")).encode()).digest()
    subprocess.run([BIN + "/veritee", "attest", "--tee", "sim-tdx" if tee == "tdx" else "sim", "--report-data", (d + bytes(16)).hex(), "--sim-dir", "sim", "-o", "ev.bin"], check=True, capture_output=True)
    ev = base64.b64encode(open("ev.bin", "rb").read()).decode()
    pe = {"quote": ev} if tee == "tdx" else {"svn": "1", "report_data": base64.b64encode(d).decode(), "veritee_sim_evidence": ev}
    body = {"runtime-data": {"nonce": ch["nonce"], "tee-pubkey": jwk}, "tee-evidence": {"primary_evidence": pe, "additional_evidence": ""}}
    return k, ck, body, req(port_attest, "POST", "/kbs/v0/attest", body, cookie=ck)
fails = 0
# Bearer: attest at A (tdx shape, sim-tdx quote), fetch at B
k, ck, body, (s1, j1, _) = run(PA, PA, "tdx")
s2, jw, _ = req(PB, "GET", "/kbs/v0/resource/default/key/one", bearer=j1.get("token"))
good = s1 == 200 and s2 == 200 and decrypt(jw, k) == b"shared secret"
print("ok:" if good else "FAIL:", "attest at A (tdx), Bearer fetch at B, JWE decrypts", s1, s2); fails += not good
# cookie: session from A attested at B, replay at A refused, fetched at A
k, ck, body, (s1, j1, _) = run(PA, PB, "sample")
s2, j2, _ = req(PA, "POST", "/kbs/v0/attest", body, cookie=ck)
s3, j3, _ = req(PA, "GET", "/kbs/v0/resource/default/key/one", cookie=ck)
good = (s1, s2, s3) == (200, 401, 200) and j2.get("code") == "VT_ERR_KBS_CHALLENGE_USED" and decrypt(j3, k) == b"shared secret"
print("ok:" if good else "FAIL:", "session from A attested at B, challenge single-use across brokers, fetched at A", s1, s2, s3); fails += not good
sys.exit(1 if fails else 0)
PYEOF
python3 cross.py "$PA" "$PB" "$BIN"
[ $? = 0 ] && ok "cross-broker python client (above)" || bad "cross-broker python client (above)"

# policy and reference values converge across brokers without SIGHUP
printf 'ref secret' > refsecret
admin a resource put default/ref/one refsecret >/dev/null || bad "admin resource put default/ref/one"
printf '{"version":1,"rules":[{"name":"app","resources":["default/*/*"],"tee":["tdx"]}]}' > pol2.json
admin a policy set pol2.json >/dev/null || bad "admin policy set pol2.json"
sleep 0.5
: > agent.err
agent --kbs "http://127.0.0.1:$PB" --tee sim --sim-dir sim default/key/one >/dev/null; rc=$?
if [ $rc = 1 ] && grep -q 'denied by policy' agent.err; then
  ok "policy set at A denies sim at B without a signal (was allowed)"
else bad "policy change not seen at B: rc=$rc $(tail -1 agent.err)"; fi
grep -q 'policy/reference values changed in the store' b.log && ok "B logged the reload" || bad "B did not log a reload"
M=$(cat sim/measurement)
printf '{"version":1,"rules":[{"name":"app","resources":["default/key/*"],"tee":["sim","tdx"]},{"name":"ref","resources":["default/ref/*"],"tee":["sim"],"reference":["measurement"]}]}' > pol3.json
admin a policy set pol3.json >/dev/null || bad "admin policy set pol3.json"
sleep 0.5
: > agent.err
agent --kbs "http://127.0.0.1:$PB" --tee sim --sim-dir sim default/ref/one >/dev/null; rc=$?
[ $rc = 1 ] && grep -q 'not in reference values' agent.err && ok "B: no reference value yet -> refused"   || bad "B before refval: rc=$rc $(tail -1 agent.err)"
admin a refval add measurement "$M" --source "pg e2e" >/dev/null || bad "admin refval add"
sleep 0.5
out=$(agent --kbs "http://127.0.0.1:$PB" --tee sim --sim-dir sim default/ref/one)
[ "$out" = "ref secret" ] && ok "reference value added at A honoured at B without a signal" \
  || bad "refval at B: $(tail -1 agent.err)"
g=$(psql -h 127.0.0.1 -p "$PORT" -U veritee -d kbs -Atc 'SELECT gen FROM policy_gen')
[ "${g:-0}" -ge 5 ] && ok "policy generation in the store moved with each change ($g)" || bad "policy_gen: $g"
admin a policy set pol.json >/dev/null || bad "admin policy set pol.json (again)"
sleep 0.5
: > agent.err
agent --kbs "http://127.0.0.1:$PA" --tee sim --sim-dir sim default/prov/x >/dev/null
agent --kbs "http://127.0.0.1:$PB" --tee sim --sim-dir sim default/prov/x >/dev/null
o1=$(grep -c 'HTTP 404' agent.err); o2=$(grep -c 'denied' agent.err)
[ "$o1" = 2 ] && [ "$o2" = 0 ] \
  && ok "A and B agree again on the first policy (default/*/* allowed; 404 for a missing one)" \
  || bad "after the policy reset: A: $o1 / B: $o2"

# the policy row is authenticated (issue 10.4): a psql UPDATE by a store role is not applied
admin a policy set pol2.json >/dev/null || bad "admin policy set pol2.json (tamper)"
sleep 0.5
: > agent.err
agent --kbs "http://127.0.0.1:$PB" --tee sim --sim-dir sim default/key/one >/dev/null; rc=$?
[ $rc = 1 ] && ok "PG: sim refused at B under pol2" || bad "PG: sim under pol2 at B: rc=$rc"
sleep 0.3
psql -h 127.0.0.1 -p "$PORT" -U veritee -d kbs -qc "UPDATE policy SET doc = '$(cat pol.json)'" \
  || bad "psql UPDATE policy"
sleep 0.5
: > agent.err
agent --kbs "http://127.0.0.1:$PB" --tee sim --sim-dir sim default/key/one >/dev/null; rc=$?
[ $rc = 1 ] && grep -q 'denied by policy' agent.err && ok "PG: sim still refused at B after a psql UPDATE of the policy" \
  || bad "PG tamper applied: rc=$rc $(tail -1 agent.err)"
h=$(curl -s -m 5 -o hz.out -w '%{http_code}' "http://127.0.0.1:$PB/healthz")
[ "$h" = 503 ] && grep -q PolicyTampered hz.out && ok "PG: /healthz 503 PolicyTampered" || bad "PG /healthz: $h"
curl -s -m 5 "http://127.0.0.1:$PB/metrics" | grep -qx 'veritee_broker_policy_tampered 1' \
  && ok "PG: /metrics gauge 1" || bad "PG: /metrics gauge"
[ "$(grep -c 'POLICY STORE INTEGRITY' b.log)" = 1 ] && ok "PG: B logged it once" || bad "PG: B log count"
admin a policy set pol.json >/dev/null || bad "admin policy set pol.json (after tamper)"
sleep 0.5
agent --kbs "http://127.0.0.1:$PB" --tee sim --sim-dir sim default/key/one >/dev/null; rc=$?
h=$(curl -s -m 5 -o hz.out -w '%{http_code}' "http://127.0.0.1:$PB/healthz") # B reloaded on that request
[ "$h" = 200 ] && [ $rc = 0 ] && ok "PG: good again after admin policy set" || bad "PG after reset: $h rc=$rc"

# secret rollback by deleting rows (issue 10.4): refused at B, never the older version
q() { psql -h 127.0.0.1 -p "$PORT" -U veritee -d kbs -qAtc "$1"; }
admin a key create default/key/rb >/dev/null && admin a key rotate default/key/rb >/dev/null \
  || bad "admin key create/rotate default/key/rb"
q "CREATE TABLE bk_rb AS SELECT * FROM secrets WHERE path = 'default/key/rb'; CREATE TABLE bk_rbl AS SELECT * FROM secret_latest WHERE path = 'default/key/rb'"
[ "$(q "SELECT version::text || deleted::text FROM secret_latest WHERE path = 'default/key/rb'")" = 20 ] \
  && ok "PG: latest-version record written with the rotation (version 2)" || bad "PG: no latest record"
agent --kbs "http://127.0.0.1:$PB" --tee sim --sim-dir sim default/key/rb > rb.v2 && [ "$(stat -c %s rb.v2)" = 32 ] \
  && ok "PG: key version 2 released at B" || bad "PG: rb before: $(tail -1 agent.err)"
q "DELETE FROM secrets WHERE path = 'default/key/rb' AND version = 2"
: > agent.err
agent --kbs "http://127.0.0.1:$PB" --tee sim --sim-dir sim default/key/rb > rb.out; rc=$?
[ $rc != 0 ] && [ ! -s rb.out ] && grep -q 'SECRET_ROLLBACK' agent.err && grep -q 'SECRET ROLLBACK: default/key/rb' b.log \
  && ok "PG: newest version row deleted with psql: refused (VT_ERR_BROKER_SECRET_ROLLBACK), logged" \
  || bad "PG rollback: rc=$rc $(tail -1 agent.err) / $(grep -c 'SECRET ROLLBACK' b.log)"
q "UPDATE secret_latest SET version = 1 WHERE path = 'default/key/rb'"
: > agent.err
agent --kbs "http://127.0.0.1:$PB" --tee sim --sim-dir sim default/key/rb > rb.out; rc=$?
[ $rc != 0 ] && [ ! -s rb.out ] && grep -q 'SECRET_ROLLBACK' agent.err \
  && ok "PG: record changed to match with psql: refused (VT_ERR_BROKER_SECRET_ROLLBACK)" || bad "PG record tamper: rc=$rc"
q "DELETE FROM secret_latest WHERE path = 'default/key/rb'"
agent --kbs "http://127.0.0.1:$PB" --tee sim --sim-dir sim default/key/rb > rb.out; rc=$?
[ $rc != 0 ] && [ ! -s rb.out ] && ok "PG: record deleted with psql: refused" || bad "PG record delete: rc=$rc"
q "INSERT INTO secrets SELECT * FROM bk_rb WHERE version = 2; INSERT INTO secret_latest SELECT * FROM bk_rbl"
agent --kbs "http://127.0.0.1:$PB" --tee sim --sim-dir sim default/key/rb > rb.out && cmp -s rb.out rb.v2 \
  && ok "PG: rows and record restored: version 2 released again" || bad "PG restore: $(tail -1 agent.err)"
v=$(admin a key rotate default/key/rb) && agent --kbs "http://127.0.0.1:$PB" --tee sim --sim-dir sim default/key/rb > rb.out \
  && ! cmp -s rb.out rb.v2 && [ "$(q "SELECT version FROM secret_latest WHERE path = 'default/key/rb'")" = 3 ] \
  && ok "PG: a normal rotation (version 3) released" || bad "PG rotate: $v $(tail -1 agent.err)"
admin a key delete default/key/rb >/dev/null || bad "admin key delete"
: > agent.err
agent --kbs "http://127.0.0.1:$PB" --tee sim --sim-dir sim default/key/rb > rb.out; rc=$?
[ $rc != 0 ] && grep -q 'HTTP 404' agent.err && [ "$(q "SELECT deleted FROM secret_latest WHERE path = 'default/key/rb'")" = 1 ] \
  && ok "PG: a normal delete: 404, recorded as deleted" || bad "PG delete: rc=$rc $(tail -1 agent.err)"
q "INSERT INTO secrets SELECT * FROM bk_rb WHERE version = 2"
: > agent.err
agent --kbs "http://127.0.0.1:$PB" --tee sim --sim-dir sim default/key/rb > rb.out; rc=$?
[ $rc != 0 ] && [ ! -s rb.out ] && grep -q 'SECRET_ROLLBACK' agent.err \
  && ok "PG: a deleted key's row put back with psql: refused" || bad "PG undelete: rc=$rc $(tail -1 agent.err)"
q "DELETE FROM secrets WHERE path = 'default/key/rb'; DROP TABLE bk_rb; DROP TABLE bk_rbl"

# no password from the store URL in any log line
PWURL="postgresql://veritee:Sekr1tPw@127.0.0.1:$PORT/kbs?password=Sekr1tQ&connect_timeout=5"
"$BIN/veritee-broker" --listen 127.0.0.1:0 --store "$PWURL" --master-key mk --cert b.pem --key b.key \
   --allow-sim 2>pw.log &
PWP=$!; PIDS+=($PWP)
for _ in $(seq 100); do grep -q 'listening on' pw.log && break; sleep 0.1; done
kill "$PWP"; wait "$PWP" 2>/dev/null
if grep -q 'listening on' pw.log && ! grep -q Sekr1t pw.log && grep -q 'veritee:\*\*\*@' pw.log && grep -q 'password=\*\*\*' pw.log; then
  ok "password in the store URL redacted in the startup line"
else bad "password redaction (running): $(grep -m1 'listening on' pw.log)"; fi
"$BIN/veritee-broker" --listen 127.0.0.1:0 --store "postgresql://veritee:Sekr1tPw@127.0.0.1:1/kbs?password=Sekr1tQ" \
   --master-key mk --cert b.pem --key b.key 2>pw2.log; rc=$?
if [ $rc != 0 ] && [ -s pw2.log ] && ! grep -q Sekr1t pw2.log && grep -q '\*\*\*' pw2.log; then
  ok "password redacted in the error for a closed port (exit $rc)"
else bad "password redaction (closed port): rc=$rc $(cat pw2.log)"; fi

# SIGKILL the broker serving the provisioning (its admin socket): nothing committed is lost
: > committed
( for i in $(seq 1 400); do
    printf 'value-%d' "$i" > "v$i"
    admin a resource put "default/prov/r$i" "v$i" >/dev/null 2>&1 && echo "$i" >> committed
  done ) &
PROV=$!
for _ in $(seq 100); do [ "$(wc -l < committed 2>/dev/null || echo 0)" -ge 20 ] && break; sleep 0.1; done
kill -9 "${BP[a]}"; wait "${BP[a]}" 2>/dev/null
wait $PROV 2>/dev/null
nc=$(wc -l < committed 2>/dev/null || echo 0)
missing=0
for i in $(cat committed); do
  got=$(psql -h 127.0.0.1 -p "$PORT" -U veritee -d kbs -Atc "SELECT count(*) FROM secrets WHERE path = 'default/prov/r$i'")
  [ "$got" = 1 ] || missing=$((missing+1))
done
lastc=$(tail -1 committed)
if [ "$nc" -gt 0 ] && [ $missing = 0 ] && [ "$nc" -lt 400 ] && \
   [ "$(agent --kbs "http://127.0.0.1:$PB" --tee sim --sim-dir sim "default/prov/r$lastc")" = "value-$lastc" ]; then
  ok "broker SIGKILLed after $nc admin commits: none lost (the last one served by the other broker)"
else bad "provisioning kill: committed=$nc missing=$missing"; fi
start a
PA=${KP[a]}
out=$(agent --kbs "http://127.0.0.1:$PA" --tee sim --sim-dir sim "default/prov/r1")
[ "$out" = "value-1" ] && ok "the killed broker restarts on the same store and serves" || bad "restart: $(tail -2 agent.err)"

# 200 concurrent guests, alternating brokers and TEEs, each a full protocol run (all from 127.0.0.1: the brokers run with --kbs-max-sessions-per-address 1000 and --kbs-max-connections-per-address 1000)
for i in $(seq 1 200); do
  if [ $((i % 2)) = 0 ]; then P=$PA; else P=$PB; fi
  if [ $((i % 4)) -lt 2 ]; then TEE=sim-tdx; else TEE=sim; fi
  "$BIN/veritee-agent" get-resource --kbs "http://127.0.0.1:$P" --tee $TEE --sim-dir sim \
      default/key/one >"c200.$i" 2>"c200.$i.err" &
  GUESTS+=($!)
done
for j in "${GUESTS[@]}"; do wait "$j"; done
good=0
for i in $(seq 1 200); do [ "$(cat "c200.$i" 2>/dev/null)" = "shared secret" ] && good=$((good+1)); done
[ $good = 200 ] && ok "200 concurrent guests (veritee-agent --kbs, both brokers, sim-tdx and sim): all correct" \
  || { bad "200 concurrent guests: $good correct"; cat c200.*.err | grep -v 'plain HTTP' | sort | uniq -c | head; }
for n in a b; do
  kill "${BP[$n]}" 2>/dev/null; wait "${BP[$n]}"; rc=$?
  [ $rc = 0 ] && grep -q 'stopped' "$n.log" && ok "SIGTERM: broker $n stopped cleanly" || bad "broker $n SIGTERM rc=$rc"
done

# master key rotation on PostgreSQL (brokers stopped): one transaction
"$BIN/veritee-broker" --gen-master-key mk2 2>/dev/null
nblobs=$(psql -h 127.0.0.1 -p "$PORT" -U veritee -d kbs -Atc 'SELECT count(*) FROM secrets')
"$BIN/veritee-broker" --store "$URL" --master-key mk --rekey mk2 2>rekey.log; rc=$?
[ $rc = 0 ] && grep -q "rekey: $((nblobs+1)) blob(s) re-encrypted" rekey.log \
  && ok "rekey on PostgreSQL: $nblobs secrets + check value re-encrypted" || bad "rekey rc=$rc $(cat rekey.log)"
"$BIN/veritee-broker" --store "$URL" --master-key mk --rekey mk2 2>rekey.log; rc=$?
[ $rc = 1 ] && grep -q 'master key does not open this key store' rekey.log \
  && ok "the old key no longer opens the PostgreSQL store" || bad "old key after rekey: rc=$rc $(cat rekey.log)"
"$BIN/veritee-broker" --store "$URL" --master-key mk2 --rekey mk2 2>rekey.log; rc=$?
[ $rc = 1 ] && ok "rekey to the same key refused" || bad "same-key rekey rc=$rc"
# a blob that does not authenticate aborts the rotation and changes nothing
psql -h 127.0.0.1 -p "$PORT" -U veritee -d kbs -qAtc "INSERT INTO secrets (path, version, kind, blob, created) VALUES ('default/bad/blob', 1, 'resource', '\\x01deadbeef'::bytea, 0)" >/dev/null
before=$(psql -h 127.0.0.1 -p "$PORT" -U veritee -d kbs -Atc "SELECT md5(string_agg(encode(blob, 'hex'), ',' ORDER BY path, version)) FROM secrets")
"$BIN/veritee-broker" --gen-master-key mk3 2>/dev/null
"$BIN/veritee-broker" --store "$URL" --master-key mk2 --rekey mk3 2>rekey.log; rc=$?
after=$(psql -h 127.0.0.1 -p "$PORT" -U veritee -d kbs -Atc "SELECT md5(string_agg(encode(blob, 'hex'), ',' ORDER BY path, version)) FROM secrets")
[ $rc = 1 ] && [ "$before" = "$after" ] && ok "a damaged blob aborts the PostgreSQL rekey, nothing changed" \
  || bad "damaged-blob rekey rc=$rc changed=$([ "$before" = "$after" ] && echo no || echo yes)"
psql -h 127.0.0.1 -p "$PORT" -U veritee -d kbs -qAtc "DELETE FROM secrets WHERE path = 'default/bad/blob'" >/dev/null
mv mk2 mk
start a
out=$(agent --kbs "http://127.0.0.1:${KP[a]}" --tee sim --sim-dir sim default/key/one)
[ "$out" = "shared secret" ] && ok "broker on the new master key serves the same secret" || bad "after rekey: $(tail -1 agent.err)"

# a frozen database (postmaster and backends stopped, not dead): /healthz answers 503 in time
hz() { curl -s -o /dev/null -w '%{http_code}' -m 15 "http://127.0.0.1:${KP[a]}/healthz"; }
[ "$(hz)" = 200 ] && ok "/healthz 200 with the database up" || bad "/healthz before the freeze"
PM=$(head -1 "$PGDATA/postmaster.pid")
FROZEN="$PM $(pgrep -P "$PM" | tr '\n' ' ')"
kill -STOP $FROZEN
for round in 1 2; do
  s0=$(date +%s%N); code=$(hz); ms=$(( ($(date +%s%N) - s0) / 1000000 ))
  [ "$code" = 503 ] && [ $ms -le 3000 ] && ok "frozen database: /healthz $code in $ms ms (round $round)"     || bad "frozen database: /healthz $code after $ms ms (round $round)"
done
kill -CONT $FROZEN; FROZEN=
code=000
for _ in $(seq 50); do code=$(hz); [ "$code" = 200 ] && break; sleep 0.2; done
[ "$code" = 200 ] && ok "/healthz 200 again once the database runs" || bad "/healthz after SIGCONT: $code"
kill "${BP[a]}"; wait "${BP[a]}" 2>/dev/null

# a store written before the latest-version records (schema 6, check value v1, no records):
# adopted once at the next start; a row deleted after that is refused, also after a restart
psql -h 127.0.0.1 -p "$PORT" -U veritee -d postgres -qc "CREATE DATABASE olddb" >/dev/null
OURL="postgresql://veritee@127.0.0.1:$PORT/olddb"
qo() { psql -h 127.0.0.1 -p "$PORT" -U veritee -d olddb -qAtc "$1"; }
start_old() {
  "$BIN/veritee-broker" --listen 127.0.0.1:0 --store "$OURL" --master-key mk --admin-socket old.sock \
     --cert b.pem --key b.key --root-ca sim/root-ca.pem --allow-sim --kbs-listen 127.0.0.1:0 2>old.log &
  OP=$!; PIDS+=($OP)
  for _ in $(seq 100); do grep -q 'KBS listening on' old.log && break; sleep 0.1; done
  OPORT=$(grep -o 'KBS listening on http://127.0.0.1:[0-9]*' old.log | grep -o '[0-9]*$')
}
stop_old() { kill "$OP" 2>/dev/null; wait "$OP" 2>/dev/null; }
start_old
"$BIN/veritee" admin --socket old.sock key create default/key/old >/dev/null
"$BIN/veritee" admin --socket old.sock key rotate default/key/old >/dev/null
"$BIN/veritee" admin --socket old.sock policy set pol.json >/dev/null
stop_old
V1=$(python3 -c '
import os, sys
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
key = bytes.fromhex(open("mk").read().strip()); iv = os.urandom(12)
aad = b"veritee-store-v1\0meta\0master-check\0" + b"1"
print((b"\x01" + iv + AESGCM(key).encrypt(iv, b"veritee master key check v1", aad)).hex())')
qo "DROP TABLE secret_latest; DELETE FROM schema_migrations WHERE version >= 7; UPDATE meta SET v = decode('$V1', 'hex') WHERE k = 'master-check'"
start_old
[ "$(qo "SELECT count(*) FROM secret_latest")" = "$(qo "SELECT count(DISTINCT path) FROM secrets")" ] && \
  [ "$(qo "SELECT version FROM secret_latest WHERE path = 'default/key/old'")" = 2 ] \
  && ok "PG: an old store adopts latest-version records at start (schema 7)" || bad "PG adoption: $(qo 'SELECT * FROM secret_latest')"
agent --kbs "http://127.0.0.1:$OPORT" --tee sim --sim-dir sim default/key/old > old.out && [ "$(stat -c %s old.out)" = 32 ] \
  && ok "PG: the adopted store serves its key" || bad "PG adopted serve: $(tail -1 agent.err)"
stop_old
qo "DELETE FROM secrets WHERE path = 'default/key/old' AND version = 2"
start_old
: > agent.err
agent --kbs "http://127.0.0.1:$OPORT" --tee sim --sim-dir sim default/key/old > old.out; rc=$?
[ $rc != 0 ] && [ ! -s old.out ] && grep -q 'SECRET_ROLLBACK' agent.err \
  && ok "PG: adopted once: a row deleted afterwards is refused after a restart" || bad "PG re-adoption: rc=$rc $(tail -1 agent.err)"
stop_old

# the store URL from a file (not in ps), with a password holding '?' and a %-encoded keyword
TRICKY="postgresql://veritee:Se?kr1t%3F@127.0.0.1:$PORT/kbs?pass%77ord=Sekr1tQ&connect_timeout=5"
printf '%s\n' "$TRICKY" > store-url && chmod 600 store-url
"$BIN/veritee-broker" --listen 127.0.0.1:0 --store-file store-url --master-key mk --cert b.pem \
   --key b.key --allow-sim 2>pw3.log &
PWP=$!; PIDS+=($PWP)
for _ in $(seq 100); do grep -q 'listening on' pw3.log && break; sleep 0.1; done
cmd=$(tr '\0' ' ' < "/proc/$PWP/cmdline" 2>/dev/null)
kill "$PWP"; wait "$PWP" 2>/dev/null
if grep -q 'listening on' pw3.log && ! grep -q Sekr1t pw3.log && [ -n "$cmd" ] && [[ $cmd != *Sekr1t* ]]; then
  ok "--store-file: store URL not in ps, tricky password redacted in the log"
else bad "--store-file: $(grep -m1 'listening on' pw3.log) / cmdline: $cmd"; fi
chmod 644 store-url
"$BIN/veritee-broker" --listen 127.0.0.1:0 --store-file store-url --master-key mk --cert b.pem \
   --key b.key 2>pw4.log; rc=$?
[ $rc = 2 ] && grep -q 'without group/other access' pw4.log && ok "--store-file readable by others refused" \
  || bad "--store-file 0644: rc=$rc $(cat pw4.log)"
for u in "postgresql://veritee:Se?kr1t@127.0.0.1:1/kbs" "postgresql://veritee@127.0.0.1:1/kbs?pass%77ord=Sekr1tQ" \
         "postgresql://veritee:a/Sekr1t@b@127.0.0.1:1/kbs"; do
  "$BIN/veritee-broker" --listen 127.0.0.1:0 --store "$u" --master-key mk --cert b.pem --key b.key 2>pw5.log; rc=$?
  [ $rc != 0 ] && [ -s pw5.log ] && ! grep -q Sekr1t pw5.log && ok "redacted in the error: ${u%%@*}..." \
    || bad "redaction of $u: rc=$rc $(cat pw5.log)"
done

# two brokers with different master keys starting together on a fresh store: exactly one runs
"$BIN/veritee-broker" --gen-master-key mkx 2>/dev/null
for round in 1 2 3; do
  psql -h 127.0.0.1 -p "$PORT" -U veritee -d postgres -qc "CREATE DATABASE fresh$round" >/dev/null
  FURL="postgresql://veritee@127.0.0.1:$PORT/fresh$round"
  for n in 1 2; do
    mkf=mk; [ $n = 2 ] && mkf=mkx
    "$BIN/veritee-broker" --listen 127.0.0.1:0 --store "$FURL" --master-key $mkf --cert b.pem \
       --key b.key --allow-sim 2>"race$n.log" &
    RP[$n]=$!; PIDS+=($!)
  done
  for _ in $(seq 100); do
    up=$(cat race1.log race2.log | grep -c 'listening on')
    down=$(cat race1.log race2.log | grep -c 'master key does not open this key store')
    [ $((up + down)) -ge 2 ] && break; sleep 0.1
  done
  for _ in $(seq 100); do # the refused one exits (slower under sanitizers)
    alive=0
    for n in 1 2; do kill -0 "${RP[$n]}" 2>/dev/null && alive=$((alive+1)); done
    [ $alive -le 1 ] && break; sleep 0.1
  done
  [ "$up" = 1 ] && [ "$down" = 1 ] && [ $alive = 1 ] \
    && ok "fresh store, two master keys at once: one broker runs, the other refused (round $round)" \
    || bad "race round $round: up=$up refused=$down alive=$alive"
  nchk=$(psql -h 127.0.0.1 -p "$PORT" -U veritee -d "fresh$round" -Atc "SELECT count(*) FROM meta WHERE k = 'master-check'")
  [ "$nchk" = 1 ] && ok "one master-key check row (round $round)" || bad "check rows: $nchk"
  for n in 1 2; do kill "${RP[$n]}" 2>/dev/null; wait "${RP[$n]}" 2>/dev/null; done
done

echo "$pass passed, $fail failed"
[ $fail = 0 ]
