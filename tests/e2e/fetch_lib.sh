# SPDX-License-Identifier: Apache-2.0
# fetch_lib.sh - sourced by fetch_*_test.sh: the test scaffolding they share (counters, a
# temporary directory $t removed on exit, run/has checks) and a local HTTP server on 127.0.0.1
# that answers like Intel PCS/PCCS or AMD KDS from files generated at test time.
#
#   run WANT NAME ARGS...       veritee ARGS (60 s at most), exit status must be WANT; output in $out
#   has NAME TEXT               $out must contain TEXT (grep pattern)
#   skip_without_curl EVIDENCE OPTION   exit 77 if veritee was built without libcurl
#   hash_url URL                the SHA-256 (hex) of URL: the name of its cache file
#   flip_byte FILE OFFSET       flip the low bit of the byte at OFFSET (negative: from the end)
#   finish                      print the counts; the status is non-zero on any failure
#   route PATH_AND_QUERY FILE [HEADER_NAME HEADER_FILE]   add an answer (header value: the
#                                                         file's contents, URL-encoded)
#   srv_start / srv_stop                                   port in $srv_port, requests in $t/reqs
#   reroute PATH_AND_QUERY [FILE]   serve another file at a path (headers kept); no FILE: 404
# Unknown paths answer 404. The routes are read again for every request (a server that
# changes its answers between runs keeps its port, hence its URLs and cache entries).
set -u
bin=${VERITEE_BIN:?}/veritee
td=${VERITEE_TESTDATA:?}
pass=0; fail=0
ok() { pass=$((pass+1)); }
bad() { fail=$((fail+1)); echo "FAIL: $*"; }
srv_pid=
srv_port=
t=$(mktemp -d)
out=$t/out
trap 'srv_stop; rm -rf "$t"' EXIT
run() {
  local want=$1 name=$2; shift 2
  timeout 60 "$bin" "$@" >"$out" 2>&1
  local rc=$?
  if [ "$rc" = "$want" ]; then ok; else bad "$name: exit $rc, want $want"; sed 's/^/    | /' "$out"; fi
}
has() { if grep -q -- "$2" "$out"; then ok; else bad "$1: no '$2' in output"; sed 's/^/    | /' "$out"; fi; }
# built without libcurl: the fetch options fail with VT_ERR_UNSUPPORTED (skip)
skip_without_curl() {
  "$bin" verify "$1" "$2" http://127.0.0.1:1 --json 2>&1 | grep -q VT_ERR_UNSUPPORTED && {
    echo "built without libcurl: skipped"; exit 77; }
  return 0
}
hash_url() { python3 -c 'import hashlib,sys; print(hashlib.sha256(sys.argv[1].encode()).hexdigest())' "$1"; }
flip_byte() {
  python3 -c 'import sys; p=sys.argv[1]; b=bytearray(open(p,"rb").read()); b[int(sys.argv[2])]^=1; open(p,"wb").write(b)' "$1" "$2"
}
finish() {
  echo "$pass passed, $fail failed"
  [ $fail -eq 0 ]
}
route() {
  python3 - "$t/routes.json" "$@" <<'PY'
import json, os, sys, urllib.parse
db, path, f = sys.argv[1], sys.argv[2], sys.argv[3]
r = json.load(open(db)) if os.path.exists(db) else {}
e = {"file": f, "headers": {}}
if len(sys.argv) > 5:
    e["headers"][sys.argv[4]] = urllib.parse.quote(open(sys.argv[5]).read(), safe="")
r[path] = e
json.dump(r, open(db, "w"))
PY
}
reroute() {
  python3 - "$t/routes.json" "$@" <<'PY'
import json, os, sys
db, path = sys.argv[1], sys.argv[2]
r = json.load(open(db))
if len(sys.argv) > 3:
    r[path]["file"] = sys.argv[3]
else:
    r.pop(path)
json.dump(r, open(db + ".tmp", "w"))
os.replace(db + ".tmp", db)
PY
}
srv_start() {
  : >"$t/reqs"
  rm -f "$t/port"
  cat >"$t/srv.py" <<'PY'
import http.server, json, sys
log = open(sys.argv[2], "a")
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        log.write(self.path + "\n"); log.flush()
        e = json.load(open(sys.argv[1])).get(self.path)
        if e is None:
            self.send_response(404); self.send_header("Content-Length", "0"); self.end_headers()
            return
        body = open(e["file"], "rb").read()
        self.send_response(200)
        for k, v in e["headers"].items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
open(sys.argv[3], "w").write(str(s.server_address[1]))
s.serve_forever()
PY
  python3 "$t/srv.py" "$t/routes.json" "$t/reqs" "$t/port.tmp" &
  srv_pid=$!
  for _ in $(seq 100); do [ -s "$t/port.tmp" ] && break; sleep 0.05; done
  srv_port=$(cat "$t/port.tmp")
}
srv_stop() {
  [ -n "$srv_pid" ] && kill "$srv_pid" 2>/dev/null && wait "$srv_pid" 2>/dev/null
  srv_pid=
  rm -f "$t/port.tmp"
}
# A port on 127.0.0.1 with nothing listening (bound, then released).
closed_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}
