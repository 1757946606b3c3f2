#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Issue 10.3 (auth sessions per address are capped) on loopback, SQLite store: with
# --kbs-max-sessions-per-address 5, a bounded loop of 40 POST /kbs/v0/auth from 127.0.0.1
# gets 5 sessions and then 429 (code BROKER_KBS_SESSION_LIMIT) with no row written;
# 127.0.0.2 still gets a session; /healthz is served.
set -u
. "$(dirname "$0")/kbs_lib.sh"
kbs_lib_start kbs-cap --kbs-max-sessions-per-address 5

cat > auth.py <<'EOF'
import http.client, json, sys, time
port, src, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
deadline = time.time() + 60
body = b'{"version":"0.4.0","tee":"sample","extra-params":""}'
out = []
for i in range(n):
    if time.time() > deadline:
        break
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10, source_address=(src, 0))
    c.request("POST", "/kbs/v0/auth", body=body, headers={"Content-Type": "application/json"})
    r = c.getresponse(); b = r.read()
    code = ""
    if r.status != 200:
        try: code = json.loads(b).get("code", "")
        except Exception: code = "?"
    elif not (r.getheader("Set-Cookie") or "").startswith("kbs-session-id="):
        code = "no-cookie"
    out.append("%d%s" % (r.status, ":" + code if code else ""))
    c.close()
print(" ".join(out))
EOF
out=$(python3 auth.py "$KPORT" 127.0.0.1 40)
want="$(printf '200 %.0s' 1 2 3 4 5)$(for _ in $(seq 35); do printf '429:VT_ERR_BROKER_KBS_SESSION_LIMIT '; done)"
[ "$out " = "$want" ] && ok "127.0.0.1: 5 sessions, then 35 x 429 BROKER_KBS_SESSION_LIMIT" \
  || bad "127.0.0.1 answers: $out"
n=$(sqlite3 a.db "SELECT count(*) FROM kbs_sessions WHERE peer = '127.0.0.1'")
[ "$n" = "5" ] && ok "only 5 session rows for 127.0.0.1" || bad "session rows for 127.0.0.1: $n"
out2=$(python3 auth.py "$KPORT" 127.0.0.2 1)
[ "$out2" = "200" ] && ok "127.0.0.2 still gets a session" || bad "127.0.0.2: $out2"
h=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$KPORT/healthz")
[ "$h" = "200" ] && ok "/healthz served" || bad "/healthz: $h"
echo "passed $pass, failed $fail"
[ "$fail" = 0 ]
