#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# fetch_intel_test.sh - Intel collateral through `veritee verify --pccs URL [--cache-dir DIR]`
# against a local PCCS look-alike (fetch_lib.sh) serving, per case of cases.json, the case's
# collateral laid out as PCS v4 answers (TCB Info / QE Identity JSON with their issuer chain
# headers, PCK CRL, root CA CRL), generated at test time from $VERITEE_TESTDATA:
#  - every case verifies through the fetch path with the expected TCB status;
#  - a second run is served from the cache with the server stopped;
#  - a damaged cache file is ignored and fetched again (server up) or, server down, the
#    verification fails with VT_ERR_INTEL_PCCS_CONNECT; a cache file rewritten with a valid
#    checksum but a changed signature fails verification and is fetched again once (refused
#    with VT_ERR_INTEL_TCB_INFO_SIGNATURE when the PCCS cannot answer);
#  - a hostile PCCS serving a validly signed TCB Info of another FMSPC does not poison the
#    cache (only verified collateral is cached); planted FIFO / symlink entries are ignored
#    without hanging; a planted expiry is overruled by the content's nextUpdate; a cache
#    directory writable by group or others is refused (VT_ERR_CACHE_UNSAFE);
#  - 404 -> VT_ERR_INTEL_PCCS_NOT_FOUND; a closed port -> VT_ERR_INTEL_PCCS_CONNECT quickly;
#  - --collateral wins over --pccs (no request is made).
. "$(dirname "$0")/fetch_lib.sh"
skip_without_curl "$td/sgx/dcapqvl_sgx_quote_v3.bin" --pccs

# ---- generate the PCCS answers for every Intel case with collateral -----------------------
python3 - "$td" "$t" >"$t/cases" <<'PY' || { echo "FAIL: generating the PCCS tree"; exit 1; }
import json, os, sys, urllib.parse
td, t = sys.argv[1], sys.argv[2]
cases = json.load(open(os.path.join(td, "cases.json")))["intel"]
routes = {}
def put(name, data):
    p = os.path.join(t, "srv", name)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    open(p, "wb").write(data if isinstance(data, bytes) else data.encode())
    return p
def hdr(pem):
    return urllib.parse.quote(pem, safe="")
for c in cases:
    col = c.get("collateral")
    if not isinstance(col, dict):
        continue
    cid, tee = c["id"], ("tdx" if c["kind"].startswith("intel-tdx") else "sgx")
    ca = "processor" if "Processor" in c["expect"]["pck_crl_issuer"] else "platform"
    fmspc = c["expect"]["fmspc"].lower()
    if col["format"] == "dcap-qvl-collateral-json":
        b = json.load(open(os.path.join(td, col["file"])))
        key = "tcbInfo"
        tcb = '{"tcbInfo":%s,"signature":"%s"}' % (b["tcb_info"], b["tcb_info_signature"])
        qe = '{"enclaveIdentity":%s,"signature":"%s"}' % (b["qe_identity"], b["qe_identity_signature"])
        tchain, qchain = b["tcb_info_issuer_chain"], b["qe_identity_issuer_chain"]
        pck, root = bytes.fromhex(b["pck_crl"]), bytes.fromhex(b["root_ca_crl"])
    else:
        rd = lambda k: open(os.path.join(td, col[k]), "rb").read()
        tcb, qe = rd("tcb_info"), rd("qe_identity")
        tchain = qchain = rd("tcb_info_and_qe_identity_signing_chain").decode()
        pck, root = rd("pck_crl"), rd("root_ca_crl")
    pre = "/" + cid
    routes[pre + "/%s/certification/v4/tcb?fmspc=%s" % (tee, fmspc)] = {
        "file": put(cid + "/tcb.json", tcb), "headers": {"TCB-Info-Issuer-Chain": hdr(tchain)}}
    routes[pre + "/%s/certification/v4/qe/identity" % tee] = {
        "file": put(cid + "/qe.json", qe), "headers": {"SGX-Enclave-Identity-Issuer-Chain": hdr(qchain)}}
    routes[pre + "/sgx/certification/v4/pckcrl?ca=%s&encoding=der" % ca] = {
        "file": put(cid + "/pckcrl.der", pck), "headers": {}}
    routes[pre + "/sgx/certification/v4/rootcacrl"] = {"file": put(cid + "/rootcacrl.der", root), "headers": {}}
    status = c["expect"]["final_status_intel_qvl_rules"]
    print(cid, os.path.join(td, c["quote"]), c["verify_at"], status)
json.dump(routes, open(os.path.join(t, "routes.json"), "w"))
PY
n=$(wc -l <"$t/cases")
[ "$n" -ge 5 ] && ok || bad "only $n Intel cases with collateral"

srv_start
[ -n "$srv_port" ] && ok || { bad "server did not start"; exit 1; }
base=http://127.0.0.1:$srv_port

# ---- every case through the fetch path, then from the cache with the server stopped ------
verify_case() { # ID QUOTE AT STATUS CACHE
  if [[ $4 == TCB_NOT_SUPPORTED* ]]; then
    run 1 "$1" verify "$2" --pccs "$base/$1" --cache-dir "$5" --at "$3" --json
    has "$1: no level" INTEL_TCB_NOT_SUPPORTED
  else
    run 0 "$1" verify "$2" --pccs "$base/$1" --cache-dir "$5" --at "$3" --json
    has "$1: status" "\"tcb_status\": \"$4\""
  fi
}
while read -r id q at st; do verify_case "$id" "$q" "$at" "$st" "$t/cache"; done <"$t/cases"
reqs=$(wc -l <"$t/reqs")
[ "$reqs" -eq $((4 * n)) ] && ok || bad "$reqs requests for $n cases, want $((4 * n))"
for f in "$t"/cache/*; do
  [ "$(stat -c %a "$f")" = 600 ] && ok || bad "cache file $f mode $(stat -c %a "$f")"
done
srv_stop
while read -r id q at st; do verify_case "$id" "$q" "$at" "$st" "$t/cache"; done <"$t/cases"
read -r id q at st <<<"$(grep -m1 '^sgx-automata-v3-00606a-tcbinfo-v3 ' "$t/cases")"
run 0 "explain from cache" verify "$q" --pccs "$base/$id" --cache-dir "$t/cache" --at "$at" --explain
has "explain: cache" "TCB Info from $base/$id/sgx/certification/v4/tcb?fmspc=00606a000000 (cache"

# ---- a damaged cache file -----------------------------------------------------------------
cf=$(hash_url "$base/$id/sgx/certification/v4/tcb?fmspc=00606a000000")
[ -f "$t/cache/$cf" ] && ok || bad "cache file not named by SHA-256 of the URL"
cp "$t/cache/$cf" "$t/cf.orig"
flip_byte "$t/cache/$cf" -40
run 1 "damaged cache, server down" verify "$q" --pccs "$base/$id" --cache-dir "$t/cache" --at "$at" --json
has "damaged cache, server down" INTEL_PCCS_CONNECT
srv_start
base2=http://127.0.0.1:$srv_port
# the new port is another URL: copy the damaged entry to its name to test the re-fetch
cf2=$(hash_url "$base2/$id/sgx/certification/v4/tcb?fmspc=00606a000000")
run 0 "fill cache for new port" verify "$q" --pccs "$base2/$id" --cache-dir "$t/cache2" --at "$at" --json
flip_byte "$t/cache2/$cf2" -40
: >"$t/reqs"
run 0 "damaged cache, server up" verify "$q" --pccs "$base2/$id" --cache-dir "$t/cache2" --at "$at" --json
has "re-fetched: status" '"tcb_status": "SWHardeningNeeded"'
[ "$(grep -c 'tcb?fmspc' "$t/reqs")" = 1 ] && ok || bad "damaged entry not fetched again"
cmp -s "$t/cache2/$cf2" "$t/cf.orig" && bad "entry of another URL equals" || ok
# an entry rewritten with a valid checksum but another signature: the verifier refuses it
python3 - "$t/cache2/$cf2" <<'PY'
import hashlib, re, sys
p = sys.argv[1]; b = open(p, "rb").read()
head, body = b.split(b"\n\n", 1)
lines = head.split(b"\n")
m = re.search(rb'"signature":"([0-9a-f])', body)
i = m.start(1); c = b"1" if body[i:i+1] != b"1" else b"2"
body = body[:i] + c + body[i+1:]
pre = b"\n".join(lines[:-1]) + b"\n"
h = hashlib.sha256(pre + body).hexdigest().encode()
open(p, "wb").write(pre + b"sha256 " + h + b"\n\n" + body)
PY
: >"$t/reqs"
# PCCS without that answer (404): the retry cannot download, the cached entry's failure is told
tpath=/$id/sgx/certification/v4/tcb?fmspc=00606a000000
cp "$t/routes.json" "$t/routes.full"
reroute "$tpath"
run 1 "forged cache entry, PCCS 404" verify "$q" --pccs "$base2/$id" --cache-dir "$t/cache2" --at "$at" --json
has "forged cache entry" INTEL_TCB_INFO_SIGNATURE
[ "$(grep -c 'tcb?fmspc' "$t/reqs")" = 1 ] && ok || bad "forged entry: no retry without the cache"
cp "$t/routes.full" "$t/routes.json"
# PCCS answering: the forged entry fails, is fetched again once, verifies and replaces the entry
: >"$t/reqs"
run 0 "forged cache entry, PCCS up" verify "$q" --pccs "$base2/$id" --cache-dir "$t/cache2" --at "$at" --explain
has "forged entry: retried" "did not verify (TCB Info signature is invalid): fetching it again"
[ "$(grep -c 'tcb?fmspc' "$t/reqs")" = 1 ] && ok || bad "forged entry was not fetched again once"
: >"$t/reqs"
run 0 "entry replaced" verify "$q" --pccs "$base2/$id" --cache-dir "$t/cache2" --at "$at" --json
[ -s "$t/reqs" ] && bad "replaced entry not used" || ok

# ---- a hostile PCCS: a validly signed TCB Info of another FMSPC, then the right one --------
# (Intel-signed TCB Info of FMSPC 50806f000000, valid at the time of a 00806f050000 case.)
# It fails the FMSPC check, so it must not be cached: the next run, with the PCCS answering
# correctly, verifies without clearing the cache.
read -r hid hq hat hst <<<"$(grep -m1 '^tdx-trustee-azure-v4-00806f050000 ' "$t/cases")"
hpath=/$hid/tdx/certification/v4/tcb?fmspc=00806f050000
cp "$t/routes.json" "$t/routes.full"
reroute "$hpath" "$td/tdx/teekit_tcbinfo_tdx_50806f_20250929.json"
run 1 "hostile PCCS: other FMSPC" verify "$hq" --pccs "$base2/$hid" --cache-dir "$t/cache3" --at "$hat" --json
has "hostile PCCS: other FMSPC" INTEL_FMSPC_MISMATCH
cp "$t/routes.full" "$t/routes.json"
: >"$t/reqs"
run 0 "hostile PCCS, then the right answer" verify "$hq" --pccs "$base2/$hid" --cache-dir "$t/cache3" --at "$hat" --json
has "right answer: status" "\"tcb_status\": \"$hst\""
[ "$(grep -c 'tcb?fmspc' "$t/reqs")" = 1 ] && ok || bad "TCB Info not fetched again after the hostile answer"
: >"$t/reqs"
run 0 "right answer cached" verify "$hq" --pccs "$base2/$hid" --cache-dir "$t/cache3" --at "$hat" --json
[ -s "$t/reqs" ] && bad "verified collateral not cached" || ok

# ---- planted cache entries and a cache directory others can write ---------------------------
# a FIFO under the TCB Info entry's name: ignored (never opened blocking), fetched again
hcf=$t/cache3/$(hash_url "$base2$hpath")
rm -f "$hcf" && mkfifo "$hcf"
: >"$t/reqs"
timeout 20 "$bin" verify "$hq" --pccs "$base2/$hid" --cache-dir "$t/cache3" --at "$hat" --json >"$out" 2>&1
rc=$?
[ $rc = 0 ] && ok || { bad "FIFO in the cache: exit $rc (124: hung)"; sed 's/^/    | /' "$out"; }
[ "$(grep -c 'tcb?fmspc' "$t/reqs")" = 1 ] && ok || bad "FIFO entry not fetched again"
[ -f "$hcf" ] && [ ! -p "$hcf" ] && ok || bad "FIFO not replaced by a regular entry"
# a symbolic link to a valid entry of another URL: not followed
cp "$hcf" "$t/elsewhere" && rm -f "$hcf" && ln -s "$t/elsewhere" "$hcf"
: >"$t/reqs"
run 0 "symlink in the cache" verify "$hq" --pccs "$base2/$hid" --cache-dir "$t/cache3" --at "$hat" --json
[ "$(grep -c 'tcb?fmspc' "$t/reqs")" = 1 ] && ok || bad "symlinked entry used"
# an entry whose expiry line is pushed beyond the content's nextUpdate: the content decides
python3 - "$hcf" <<'PY'
import hashlib, re, sys
p = sys.argv[1]; b = open(p, "rb").read()
head, body = b.split(b"\n\n", 1)
lines = [re.sub(rb"^expires \d+", b"expires 4102444800", l) for l in head.split(b"\n")[:-1]]
pre = b"\n".join(lines) + b"\n"
open(p, "wb").write(pre + b"sha256 " + hashlib.sha256(pre + body).hexdigest().encode() + b"\n\n" + body)
PY
grep -aq '^expires 4102444800$' "$hcf" && ok || bad "expiry not rewritten"
: >"$t/reqs"
run 1 "planted expiry" verify "$hq" --pccs "$base2/$hid" --cache-dir "$t/cache3" --at 2025-12-01T00:00:00Z --json
[ "$(grep -c 'tcb?fmspc' "$t/reqs")" -ge 1 ] && ok || bad "entry used after its content's nextUpdate"
# a cache directory that group or others can write: refused with a clear error
mkdir -m 0777 "$t/shared"
run 1 "world-writable cache dir" verify "$hq" --pccs "$base2/$hid" --cache-dir "$t/shared" --at "$hat" --json
has "world-writable cache dir" VT_ERR_CACHE_UNSAFE
chmod 0770 "$t/shared"
run 1 "group-writable cache dir" verify "$hq" --pccs "$base2/$hid" --cache-dir "$t/shared" --at "$hat" --json
has "group-writable cache dir" VT_ERR_CACHE_UNSAFE
chmod 0700 "$t/shared"
run 0 "private cache dir" verify "$hq" --pccs "$base2/$hid" --cache-dir "$t/shared" --at "$hat" --json

# ---- expiry: after nextUpdate the entry is not used (and the collateral is expired) ------
: >"$t/reqs"
run 1 "after nextUpdate" verify "$q" --pccs "$base2/$id" --cache-dir "$t/cache2" --at 2025-09-20T00:00:00Z --json
[ "$(grep -c 'tcb?fmspc' "$t/reqs")" -ge 1 ] && ok || bad "stale entry used"

# ---- 404, closed port, no cache dir, --collateral wins ------------------------------------
run 1 "404" verify "$q" --pccs "$base2/nosuchcase" --at "$at" --json
has "404" INTEL_PCCS_NOT_FOUND
cp_=$(closed_port)
s0=$(date +%s)
run 1 "closed port" verify "$q" --pccs "http://127.0.0.1:$cp_" --at "$at" --json
has "closed port" INTEL_PCCS_CONNECT
[ $(( $(date +%s) - s0 )) -le 10 ] && ok || bad "closed port took too long"
run 0 "no cache dir" verify "$q" --pccs "$base2/$id" --at "$at" --json
mkdir -p "$t/pcs"
for f in sgx/automata_0825_tcbinfo_sgx_v3_00606a000000.json sgx/automata_0825_qeidentity_sgx_qe.json \
  sgx/automata_0825_pck_platform_crl.der intel-root/root_ca_crl_20250320.der \
  intel-root/tcb_signing_chain_2025.pem; do ln -s "$td/$f" "$t/pcs/"; done
: >"$t/reqs"
run 0 "--collateral wins" verify "$q" --collateral "$t/pcs" --pccs "http://127.0.0.1:$cp_" --at "$at" --json
[ -s "$t/reqs" ] && bad "request made despite --collateral" || ok

finish
