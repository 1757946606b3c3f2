#!/usr/bin/env bash
# Shared state in PostgreSQL: a throwaway cluster (Debian's postgresql 15 server binaries,
# initdb/pg_ctl, 127.0.0.1 only, run as the postgres user when we are root), two KBS broker
# processes on one database:
#   - a guest attests at one instance and fetches (cookie session and Bearer token) at the
#     other; the token signed by one verifies at the other (one signing key in the store);
#   - a single challenge cannot be used at both instances;
#   - a provisioning process killed with SIGKILL mid-way loses nothing it reported committed;
#   - 200 concurrent guests (full protocol, alternating instances) all get the right answer;
#   - schema migrations are versioned (schema_migrations rows 1..N, applied once).
# Skips (exit 0) only when the PostgreSQL server binaries are absent.
set -u
BIN=${VERITEE_BIN:-$(cd "$(dirname "$0")/../.." && pwd)/build/bin}
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
if [ ! -x "$PGBIN/initdb" ] || [ ! -x "$PGBIN/pg_ctl" ]; then
  echo "SKIP: PostgreSQL server binaries not found in $PGBIN (apt-get install postgresql)"; exit 0
fi
T=$(mktemp -d /tmp/vt-kbs-pg.XXXXXX)
chmod 755 "$T"
PIDS=()
AS=()
if [ "$(id -u)" = 0 ]; then AS=(runuser -u postgres --); fi
PGDATA=$T/pgdata
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  "${AS[@]}" "$PGBIN/pg_ctl" -D "$PGDATA" -m immediate stop >/dev/null 2>&1
  rm -rf "$T"
}
trap cleanup EXIT
pass=0; fail=0
ok()  { pass=$((pass+1)); echo "ok: $*"; }
bad() { fail=$((fail+1)); echo "FAIL: $*"; }
cd "$T" || exit 1
mkdir -p pgdata pgsock && { [ ${#AS[@]} = 0 ] || chown postgres: pgdata pgsock; }
"${AS[@]}" "$PGBIN/initdb" -D "$PGDATA" -A trust -U veritee >/dev/null || { echo "FAIL: initdb"; exit 1; }
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"${AS[@]}" "$PGBIN/pg_ctl" -D "$PGDATA" -w -l "$T/pgsock/pg.log" \
  -o "-c listen_addresses=127.0.0.1 -p $PORT -k $T/pgsock -c max_connections=100 -c fsync=on" start >/dev/null \
  || { echo "FAIL: pg_ctl start"; cat "$T/pgsock/pg.log"; exit 1; }
"${AS[@]}" "$PGBIN/../bin/createdb" -h 127.0.0.1 -p "$PORT" -U veritee kbs 2>/dev/null \
  || psql -h 127.0.0.1 -p "$PORT" -U veritee -d postgres -c 'CREATE DATABASE kbs' >/dev/null
URL="postgresql://veritee@127.0.0.1:$PORT/kbs"

D="$BIN/veritee-kbs-dev"
"$BIN/veritee" sim init sim >/dev/null 2>&1 || { echo "FAIL: sim init"; exit 1; }
printf 'shared secret' > secret
printf '{"version":1,"rules":[{"name":"app","resources":["default/*/*"],"tee":["sim"]}]}' > pol.json
$D put-resource --store "$URL" --master-key mk default/key/one secret || { echo "FAIL: put-resource"; exit 1; }
$D set-policy --store "$URL" --master-key mk pol.json || exit 1
start() {
  local n=$1
  $D serve --store "$URL" --master-key mk --listen 127.0.0.1:0 --port-file "$n.port" \
     --root-ca sim/root-ca.pem --allow-sim --threads 8 2>"$n.log" &
  PIDS+=($!)
  for _ in $(seq 100); do [ -s "$n.port" ] && break; sleep 0.1; done
}
start a; start b
PA=$(cat a.port); PB=$(cat b.port)
[ -n "$PA" ] && [ -n "$PB" ] || { echo "FAIL: brokers did not start"; cat a.log b.log; exit 1; }

n=$(psql -h 127.0.0.1 -p "$PORT" -U veritee -d kbs -Atc 'SELECT count(*)::text || max(version)::text FROM schema_migrations')
[ "$n" = "22" ] && ok "schema migrations versioned (2 rows, latest 2)" || bad "schema_migrations: $n"
k=$(psql -h 127.0.0.1 -p "$PORT" -U veritee -d kbs -Atc "SELECT count(*) FROM secrets WHERE path = '@kbs/ear-signing-key'")
[ "$k" = 1 ] && ok "one signing key in the shared store (sealed)" || bad "signing keys: $k"
ja=$(curl -s "http://127.0.0.1:$PA/.well-known/jwks.json"); jb=$(curl -s "http://127.0.0.1:$PB/.well-known/jwks.json")
[ -n "$ja" ] && [ "$ja" = "$jb" ] && ok "both instances publish the same JWKS" || bad "JWKS differ"

# attest at A, fetch at B with the token (passport)
if $D get --kbs "http://127.0.0.1:$PA" --fetch-from "http://127.0.0.1:$PB" --tee sim --sim-dir sim \
     --token-out tok default/key/one -o out 2>err && [ "$(cat out)" = "shared secret" ]; then
  ok "attest at one instance, fetch at the other (Bearer)"
else bad "cross-instance fetch: $(cat err)"; fi

# cookie session created at A, attested at B, fetched at A
python3 - "$PA" "$PB" "$BIN" <<'EOF'
import base64, hashlib, http.client, json, subprocess, sys
from cryptography.hazmat.primitives.asymmetric import ec
PA, PB, BIN = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
def b64u(b): return base64.urlsafe_b64encode(b).rstrip(b"=").decode()
def req(port, method, path, body=None, cookie=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    h = {"Content-Type": "application/json"}
    if cookie: h["Cookie"] = "kbs-session-id=" + cookie
    c.request(method, path, body=json.dumps(body).encode() if body is not None else None, headers=h)
    r = c.getresponse(); d = r.read(); sc = r.getheader("Set-Cookie") or ""
    return r.status, json.loads(d), sc.split(";")[0].split("=", 1)[-1]
k = ec.generate_private_key(ec.SECP256R1()); n = k.public_key().public_numbers()
jwk = {"kty": "EC", "crv": "P-256", "alg": "ECDH-ES+A256KW", "x": b64u(n.x.to_bytes(32, "big")), "y": b64u(n.y.to_bytes(32, "big"))}
s, ch, ck = req(PA, "POST", "/kbs/v0/auth", {"version": "0.4.0", "tee": "sample", "extra-params": ""})
d = hashlib.sha384(json.dumps({"additional-evidence": "", "nonce": ch["nonce"], "tee-pubkey": jwk}, sort_keys=True, separators=(",", ":")).encode()).digest()
subprocess.run([BIN + "/veritee", "attest", "--tee", "sim", "--report-data", (d + bytes(16)).hex(), "--sim-dir", "sim", "-o", "ev.bin"], check=True, capture_output=True)
body = {"runtime-data": {"nonce": ch["nonce"], "tee-pubkey": jwk}, "tee-evidence": {"primary_evidence": {"svn": "1", "report_data": base64.b64encode(d).decode(), "veritee_sim_evidence": base64.b64encode(open("ev.bin", "rb").read()).decode()}, "additional_evidence": ""}}
s1, j1, _ = req(PB, "POST", "/kbs/v0/attest", body, cookie=ck)
s2, j2, _ = req(PA, "POST", "/kbs/v0/attest", body, cookie=ck)
s3, j3, _ = req(PA, "GET", "/kbs/v0/resource/default/key/one", cookie=ck)
print("cookie-cross", s1, s2, j2.get("code"), s3, "protected" in j3)
sys.exit(0 if (s1, s2, s3) == (200, 401, 200) and j2.get("code") == "VT_ERR_KBS_CHALLENGE_USED" else 1)
EOF
[ $? = 0 ] && ok "session from A attested at B, fetched at A; the challenge is single-use across instances" || bad "cookie session across instances"

# provisioning killed mid-way: everything reported committed survives
( for i in $(seq 1 400); do
    printf 'value-%d' "$i" > "v$i"
    $D put-resource --store "$URL" --master-key mk "default/prov/r$i" "v$i" 2>/dev/null && echo "$i" >> committed
  done ) &
PROV=$!
sleep 2
kill -9 $PROV 2>/dev/null; pkill -9 -P $PROV 2>/dev/null; wait $PROV 2>/dev/null
nc=$(wc -l < committed)
missing=0
for i in $(cat committed); do
  got=$(psql -h 127.0.0.1 -p "$PORT" -U veritee -d kbs -Atc "SELECT count(*) FROM secrets WHERE path = 'default/prov/r$i'")
  [ "$got" = 1 ] || missing=$((missing+1))
done
# and a sample of them decrypts end to end through the other broker
lastc=$(tail -1 committed)
if [ "$nc" -gt 0 ] && [ $missing = 0 ] && [ "$nc" -lt 400 ] && \
   $D get --kbs "http://127.0.0.1:$PB" --tee sim --sim-dir sim "default/prov/r$lastc" -o outp 2>/dev/null && \
   [ "$(cat outp)" = "value-$lastc" ]; then
  ok "provisioning killed after $nc commits: none lost (last one served by the other instance)"
else bad "provisioning kill: committed=$nc missing=$missing"; fi

# 200 concurrent guests, alternating instances, each a full protocol run
rm -f c200.*
for i in $(seq 1 200); do
  if [ $((i % 2)) = 0 ]; then P=$PA; Q=$PB; else P=$PB; Q=$PA; fi
  ( $D get --kbs "http://127.0.0.1:$P" --fetch-from "http://127.0.0.1:$Q" --tee sim --sim-dir sim \
      default/key/one -o "c200.$i" 2>"c200.$i.err" ) &
done
for j in $(jobs -p); do [ "$j" = "${PIDS[0]}" ] || [ "$j" = "${PIDS[1]}" ] || wait "$j"; done
good=0
for i in $(seq 1 200); do [ "$(cat "c200.$i" 2>/dev/null)" = "shared secret" ] && good=$((good+1)); done
[ $good = 200 ] && ok "200 concurrent guests: all correct" || { bad "200 concurrent guests: $good correct"; head -3 c200.*.err | head -20; }

echo "$pass passed, $fail failed"
[ $fail = 0 ]
