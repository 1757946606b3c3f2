#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# fetch_snp_test.sh - AMD certificates through `veritee verify --kds URL [--cache-dir DIR]`
# against a local KDS look-alike (fetch_lib.sh) serving, per case of cases.json, the VCEK
# (DER, at /vcek/v1/{product}/{hwid}?blSPL=..) and ASK+ARK (PEM, /vcek/v1/{product}/cert_chain),
# generated at test time from $VERITEE_TESTDATA:
#  - every VCEK case verifies through the fetch path (v2 reports: product found by trying);
#  - a second run is served from the cache with the server stopped;
#  - a damaged cache entry is fetched again (server up) or fails with VT_ERR_SNP_KDS_CONNECT;
#  - a cached VCEK entry rewritten (valid checksum) with another certificate fails the checks
#    and is fetched again once (refused when the KDS cannot answer); a hostile KDS answering
#    another chip's VCEK does not poison the cache; a FIFO entry does not block; 404 -> VT_ERR_SNP_KDS_NOT_FOUND; closed port -> VT_ERR_SNP_KDS_CONNECT;
#  - a VLEK report asks for /vlek/v1/{product}/cert_chain (the VLEK itself is not public);
#  - --collateral wins over --kds.
. "$(dirname "$0")/fetch_lib.sh"
skip_without_curl "$td/snp/virtee_milan_report_v2.bin" --kds

python3 - "$td" "$t" >"$t/cases" <<'PY' || { echo "FAIL: generating the KDS tree"; exit 1; }
import base64, json, os, re, sys
td, t = sys.argv[1], sys.argv[2]
routes = {}
def der(path):
    b = open(path, "rb").read()
    if b.startswith(b"-----BEGIN"):
        m = re.search(rb"-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----", b, re.S)
        return base64.b64decode(b"".join(m.group(1).split()))
    return b
def put(name, data):
    p = os.path.join(t, "srv", name)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    open(p, "wb").write(data)
    return p
for c in json.load(open(os.path.join(td, "cases.json")))["snp"]:
    cid, f = c["id"], c["fields"]
    prod = "Genoa" if "genoa" in c["ca_chain"] else "Turin" if "turin" in c["ca_chain"] else "Milan"
    chain = open(os.path.join(td, c["ca_chain"]), "rb").read()
    pre = "/" + cid
    if c["expect"]["signing_key"] == "VLEK":
        routes[pre + "/vlek/v1/%s/cert_chain" % prod] = {"file": put(cid + "/vlek_chain.pem", chain), "headers": {}}
        print(cid, os.path.join(td, c["report"]), c["verify_at"], "VLEK", os.path.join(td, c["endorsement_key_cert"]))
        continue
    tcb = f["reported_tcb"]
    hwid = f["chip_id"][:16] if prod == "Turin" else f["chip_id"]
    q = "blSPL=%d&teeSPL=%d&snpSPL=%d&ucodeSPL=%d" % (tcb["bl"], tcb["tee"], tcb["snp"], tcb["ucode"])
    routes[pre + "/vcek/v1/%s/%s?%s" % (prod, hwid, q)] = {
        "file": put(cid + "/vcek.der", der(os.path.join(td, c["endorsement_key_cert"]))), "headers": {}}
    routes[pre + "/vcek/v1/%s/cert_chain" % prod] = {"file": put(cid + "/cert_chain.pem", chain), "headers": {}}
    print(cid, os.path.join(td, c["report"]), c["verify_at"], "VCEK", "/vcek/v1/%s/%s?%s" % (prod, hwid, q))
json.dump(routes, open(os.path.join(t, "routes.json"), "w"))
PY
n=$(grep -c ' VCEK ' "$t/cases")
[ "$n" -ge 5 ] && ok || bad "only $n SNP VCEK cases"

srv_start
[ -n "$srv_port" ] && ok || { bad "server did not start"; exit 1; }
base=http://127.0.0.1:$srv_port

grep ' VCEK ' "$t/cases" >"$t/vcek_cases"
while read -r id r at kind p; do
  run 0 "$id" verify "$r" --kds "$base/$id" --cache-dir "$t/cache" --at "$at" --json
  has "$id" '"verified": true'
done <"$t/vcek_cases"
[ "$(wc -l <"$t/reqs")" -eq $((2 * n)) ] && ok || bad "$(wc -l <"$t/reqs") requests for $n cases"
for f in "$t"/cache/*; do [ "$(stat -c %a "$f")" = 600 ] && ok || bad "mode of $f"; done
srv_stop
while read -r id r at kind p; do
  run 0 "$id from cache" verify "$r" --kds "$base/$id" --cache-dir "$t/cache" --at "$at" --explain
  has "$id from cache" "VCEK (KDS) from $base/$id.* (cache"
done <"$t/vcek_cases"

# ---- damaged cache entry: fetched again, or a connect error with the server down ---------
read -r id r at kind p <<<"$(grep -m1 '^snp-teekit-gcp-milan-v5 ' "$t/cases")"
cf=$t/cache/$(hash_url "$base/$id$p")
[ -f "$cf" ] && ok || bad "cache file not named by SHA-256 of the URL"
flip_byte "$cf" -30
run 1 "damaged, server down" verify "$r" --kds "$base/$id" --cache-dir "$t/cache" --at "$at" --json
has "damaged, server down" SNP_KDS_CONNECT
srv_start
base2=http://127.0.0.1:$srv_port
run 0 "fill" verify "$r" --kds "$base2/$id" --cache-dir "$t/c2" --at "$at" --json
cf2=$t/c2/$(hash_url "$base2/$id$p")
flip_byte "$cf2" -30
: >"$t/reqs"
run 0 "damaged, server up" verify "$r" --kds "$base2/$id" --cache-dir "$t/c2" --at "$at" --json
[ "$(grep -c "$id/vcek/v1/Milan/[0-9a-f]*?" "$t/reqs")" = 1 ] && ok || bad "damaged VCEK entry not fetched again"
# a VCEK entry with a valid checksum but another VCEK (another chip): refused by the checks
python3 - "$cf2" "$td/snp/virtee_milan_vcek.der" <<'PY'
import hashlib, sys
p, other = sys.argv[1], open(sys.argv[2], "rb").read()
head = open(p, "rb").read().split(b"\n\n", 1)[0].split(b"\n")
pre = b"\n".join(l if not l.startswith(b"body ") else b"body %d" % len(other) for l in head[:-1]) + b"\n"
open(p, "wb").write(pre + b"sha256 " + hashlib.sha256(pre + other).hexdigest().encode() + b"\n\n" + other)
PY
: >"$t/reqs"
cp "$t/routes.json" "$t/routes.full"
reroute "/$id$p"
run 1 "other VCEK in cache, KDS 404" verify "$r" --kds "$base2/$id" --cache-dir "$t/c2" --at "$at" --json
has "other VCEK in cache" '"VT_ERR_SNP_'
[ "$(grep -c "$id/vcek/v1/Milan/[0-9a-f]*?" "$t/reqs")" = 1 ] && ok || bad "forged entry: no retry"
cp "$t/routes.full" "$t/routes.json"
: >"$t/reqs"
run 0 "other VCEK in cache, KDS up" verify "$r" --kds "$base2/$id" --cache-dir "$t/c2" --at "$at" --json
[ "$(grep -c "$id/vcek/v1/Milan/[0-9a-f]*?" "$t/reqs")" = 1 ] && ok || bad "forged entry not fetched again once"

# ---- a hostile KDS: another chip's VCEK first, then the right one: nothing poisoned ---------
cp "$t/routes.json" "$t/routes.full"
reroute "/$id$p" "$td/snp/virtee_milan_vcek.der"
run 1 "hostile KDS: other VCEK" verify "$r" --kds "$base2/$id" --cache-dir "$t/c3" --at "$at" --json
has "hostile KDS" '"VT_ERR_SNP_'
cp "$t/routes.full" "$t/routes.json"
: >"$t/reqs"
run 0 "hostile KDS, then the right VCEK" verify "$r" --kds "$base2/$id" --cache-dir "$t/c3" --at "$at" --json
[ "$(grep -c "$id/vcek/v1/Milan/[0-9a-f]*?" "$t/reqs")" = 1 ] && ok || bad "VCEK not fetched again"
: >"$t/reqs"
run 0 "right VCEK cached" verify "$r" --kds "$base2/$id" --cache-dir "$t/c3" --at "$at" --json
[ -s "$t/reqs" ] && bad "verified VCEK not cached" || ok
# a FIFO under the VCEK entry's name: never blocks
rm -f "$t/c3/$(hash_url "$base2/$id$p")" && mkfifo "$t/c3/$(hash_url "$base2/$id$p")"
timeout 20 "$bin" verify "$r" --kds "$base2/$id" --cache-dir "$t/c3" --at "$at" --json >"$out" 2>&1
rc=$?
[ $rc = 0 ] && ok || { bad "FIFO in the cache: exit $rc (124: hung)"; sed 's/^/    | /' "$out"; }

# ---- expiry: after the VCEK's notAfter the entry is not reused ----------------------------
: >"$t/reqs"
run 1 "after notAfter" verify "$r" --kds "$base2/$id" --cache-dir "$t/c2" --at 2033-01-01T00:00:00Z --json
[ "$(grep -c "$id/vcek/v1/Milan/[0-9a-f]*?" "$t/reqs")" -ge 1 ] && ok || bad "stale VCEK entry used"

# ---- VLEK: only the ASVK chain is public ----------------------------------------------------
read -r vid vr vat vkind vlek <<<"$(grep -m1 ' VLEK ' "$t/cases")"
: >"$t/reqs"
run 1 "vlek via kds only" verify "$vr" --kds "$base2/$vid" --at "$vat" --json
grep -q "^/$vid/vlek/v1/Milan/cert_chain$" "$t/reqs" && ok || bad "VLEK chain not asked for"

# ---- 404, closed port, --collateral wins -----------------------------------------------------
run 1 "404" verify "$r" --kds "$base2/nosuchcase" --at "$at" --json
has "404" SNP_KDS_NOT_FOUND
cp_=$(closed_port)
s0=$(date +%s)
run 1 "closed port" verify "$r" --kds "http://127.0.0.1:$cp_" --at "$at" --json
has "closed port" SNP_KDS_CONNECT
[ $(( $(date +%s) - s0 )) -le 10 ] && ok || bad "closed port took too long"
mkdir -p "$t/col" && ln -s "$td/snp/teekit_gcp_milan_vcek_a.pem" "$td/snp/ask_ark_milan.pem" "$t/col/"
: >"$t/reqs"
run 0 "--collateral wins" verify "$r" --collateral "$t/col" --kds "http://127.0.0.1:$cp_" --at "$at" --json
[ ! -s "$t/reqs" ] && ok || bad "request made despite --collateral"

finish
