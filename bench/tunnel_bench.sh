#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# tunnel_bench.sh - veritee tunnel (ingress -> egress, sim evidence, P-256, TLS 1.3) beside
# stunnel4 configured as the same two-sided TLS 1.3 tunnel with P-256 certificates, in one run
# on loopback:
#   throughput: one 500 MB transfer app -> client through each tunnel (best of 3), MB/s
#   conns/s:    short request/response connections (100 bytes each way), one at a time
# Prints the numbers and `ratio NAME: VALUE` lines (veritee / stunnel; aim >= 0.9 throughput,
# >= 0.8 connections). Sizes: BENCH_MB (default 500), BENCH_CONNS (default 2000).
# Usage: bench/tunnel_bench.sh [BIN_DIR]   (default build-release/bin; see bench/run.sh)
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
BIN=${1:-$here/build-release/bin}
V=$BIN/veritee
MB=${BENCH_MB:-500}
CONNS=${BENCH_CONNS:-2000}
[ -x "$V" ] || { echo "missing $V (build first: bench/run.sh builds build-release)"; exit 1; }
command -v stunnel4 >/dev/null || { echo "stunnel4 missing (scripts/deps.sh installs it)"; exit 1; }
work=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$work"' EXIT

# The application: for each connection, read one line "N", send N bytes, close.
cat >"$work/app.py" <<'PY'
import socket, sys, threading
chunk = b"\x5a" * 65536
def serve(c):
    with c:
        n = int(c.makefile("rb").readline())
        while n > 0:
            k = min(n, len(chunk)); c.sendall(chunk[:k]); n -= k
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0)); s.listen(512)
print(s.getsockname()[1], flush=True)
while True:
    c, _ = s.accept(); threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
# The client: "bulk PORT BYTES" -> MB/s; "conns PORT N" -> connections/s.
cat >"$work/client.py" <<'PY'
import socket, sys, time
mode, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def one(nbytes):
    c = socket.create_connection(("127.0.0.1", port)); c.sendall(b"%d\n" % nbytes)
    got = 0
    while True:
        b = c.recv(1 << 20)
        if not b: break
        got += len(b)
    c.close()
    if got != nbytes: sys.exit("short transfer: %d of %d" % (got, nbytes))
t = time.monotonic()
if mode == "bulk":
    one(n); print("%.1f" % (n / 1e6 / (time.monotonic() - t)))
else:
    for _ in range(n): one(100)
    print("%.1f" % (n / (time.monotonic() - t)))
PY
port_of() { # LOG: the port of "listening on 127.0.0.1:PORT"
  for _ in $(seq 1 100); do
    p=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$1" | head -1)
    [ -n "$p" ] && { echo "$p"; return; }
    sleep 0.1
  done
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

python3 "$work/app.py" >"$work/app.port" & pids+=($!)
for _ in $(seq 1 100); do [ -s "$work/app.port" ] && break; sleep 0.1; done
app=$(cat "$work/app.port")
[ -n "$app" ] || { echo "the application did not start"; exit 1; }

# veritee tunnel
"$V" sim init "$work/sim" >/dev/null
"$V" tunnel egress --listen 127.0.0.1:0 --to "127.0.0.1:$app" --tee sim --sim-dir "$work/sim" \
  2>"$work/eg.log" & pids+=($!)
eg=$(port_of "$work/eg.log")
"$V" tunnel ingress --listen 127.0.0.1:0 --to "127.0.0.1:$eg" --root-ca "$work/sim/root-ca.pem" \
  --expect tee=sim 2>"$work/in.log" & pids+=($!)
vin=$(port_of "$work/in.log")

# stunnel4: the same two sides, TLS 1.3, P-256, the client verifying the server's certificate;
# TCP_NODELAY on every socket as the tunnel sets it (without it stunnel's short connections
# wait for delayed ACKs: about 40 connections/s)
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$work/s.key" \
  -out "$work/s.pem" -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -days 2 2>/dev/null
sp=$(free_port); cp=$(free_port)
cat >"$work/server.conf" <<CONF
foreground = yes
pid =
[egress]
accept = 127.0.0.1:$sp
connect = 127.0.0.1:$app
cert = $work/s.pem
key = $work/s.key
sslVersionMin = TLSv1.3
socket = l:TCP_NODELAY=1
socket = r:TCP_NODELAY=1
CONF
cat >"$work/client.conf" <<CONF
foreground = yes
pid =
[ingress]
client = yes
accept = 127.0.0.1:$cp
connect = 127.0.0.1:$sp
CAfile = $work/s.pem
verifyPeer = yes
sslVersionMin = TLSv1.3
socket = l:TCP_NODELAY=1
socket = r:TCP_NODELAY=1
CONF
stunnel4 "$work/server.conf" 2>"$work/st_s.log" & pids+=($!)
stunnel4 "$work/client.conf" 2>"$work/st_c.log" & pids+=($!)
sleep 1

best() { sort -n | tail -1; }
bytes=$((MB * 1000000))
v_bulk=$(for _ in 1 2 3; do python3 "$work/client.py" bulk "$vin" "$bytes"; done | best)
s_bulk=$(for _ in 1 2 3; do python3 "$work/client.py" bulk "$cp" "$bytes"; done | best)
v_conn=$(python3 "$work/client.py" conns "$vin" "$CONNS")
s_conn=$(python3 "$work/client.py" conns "$cp" "$CONNS")
echo "throughput ${MB} MB (best of 3): veritee tunnel $v_bulk MB/s, stunnel4 $s_bulk MB/s"
echo "connections ($CONNS x 100 B): veritee tunnel $v_conn /s, stunnel4 $s_conn /s"
python3 -c "print('ratio tunnel_throughput: %.2f' % ($v_bulk / $s_bulk))"
python3 -c "print('ratio tunnel_conns_per_s: %.2f' % ($v_conn / $s_conn))"
