#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Encrypted container image round trip with real tools (Debian's umoci and skopeo):
#   build a small OCI image (umoci) -> encrypt with skopeo --encryption-key jwe:PUB.pem; the
#   private key is a broker resource -> the agent attests (sim TEE) and fetches the key into
#   /dev/shm (tmpfs, mode 0600) -> skopeo --decryption-key decrypts -> the decrypted layers
#   are identical to the originals; a workload with another measurement gets no key.
# The agent links no database or HTTP server library, and loads libcurl and xmlsec only on
# first use (ldd). Also the ocicrypt key-provider cmd protocol: `veritee keyprovider` (wrap, via the broker's
# admin socket) and `veritee-agent keyprovider` (unwrap, after attestation), driven with the
# exact JSON ocicrypt sends (Debian's skopeo 1.9 does not accept provider: keys).
set -u
BIN=${VERITEE_BIN:-$(cd "$(dirname "$0")/../.." && pwd)/build/bin}
for t in skopeo umoci openssl; do
  command -v $t >/dev/null || { echo "SKIP: $t not installed (apt-get install skopeo umoci)"; exit 77; }
done
T=$(mktemp -d /tmp/vt-broker-img.XXXXXX)
SHM=$(mktemp -d /dev/shm/vt-img.XXXXXX)
pass=0; fail=0; BPID=
cleanup() { [ -n "$BPID" ] && kill "$BPID" 2>/dev/null; wait 2>/dev/null; rm -rf "$T" "$SHM"; }
trap cleanup EXIT
ok()  { pass=$((pass+1)); echo "ok: $*"; }
bad() { fail=$((fail+1)); echo "FAIL: $*"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else bad "$what"; fi; }
cd "$T" || exit 1

# ---- the agent's dependencies: no database, no HTTP server --------------------------------------
ldd "$BIN/veritee-agent" > ldd.txt 2>&1
check "veritee-agent links no libsqlite3, libpq or libmicrohttpd (ldd)" \
  bash -c "grep -q 'libc.so' ldd.txt && ! grep -Eq 'libsqlite3|libpq|libmicrohttpd' ldd.txt"
# libcurl and libxml2 / xmlsec are loaded on first use (dlopen), not at start (issue 16: the
# agent's memory budget); `get-resource --kbs` (tests/e2e/kbs_*_test.sh) loads libcurl when it runs.
check "veritee-agent does not load libcurl, libxml2 or libxmlsec1 at start (ldd)" \
  bash -c "grep -q 'libc.so' ldd.txt && ! grep -Eq 'libcurl|libxml2|libxmlsec1' ldd.txt"

"$BIN/veritee" sim init sim >/dev/null 2>&1
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem \
  -days 30 -subj "/CN=e2e broker CA" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout broker.key -out broker.csr \
  -subj "/CN=127.0.0.1" 2>/dev/null
openssl x509 -req -in broker.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out broker.pem -days 30 \
  -extfile <(printf "subjectAltName=IP:127.0.0.1\n") 2>/dev/null
"$BIN/veritee-broker" --gen-master-key mk 2>/dev/null
"$BIN/veritee-broker" --listen 127.0.0.1:0 --store st.db --master-key mk --admin-socket "$T/adm.sock" \
  --allow-sim --root-ca sim/root-ca.pem --cert broker.pem --key broker.key 2>broker.log &
BPID=$!
for _ in $(seq 100); do grep -q 'listening on' broker.log && break; sleep 0.1; done
PORT=$(grep -o 'listening on 127.0.0.1:[0-9]*' broker.log | cut -d: -f2)
admin() { "$BIN/veritee" admin --socket "$T/adm.sock" "$@" >/dev/null; }
agent() { "$BIN/veritee-agent" "$@" --broker "127.0.0.1:$PORT" --tee sim --sim-dir sim --broker-ca ca.pem; }

# ---- provisioning: image key pair; the private key is a broker resource -----------------------
openssl genrsa -out image-priv.pem 3072 2>/dev/null
openssl rsa -in image-priv.pem -pubout -out image-pub.pem 2>/dev/null
check "private image key stored in the broker" admin resource put default/image-key/app image-priv.pem
shred -u image-priv.pem 2>/dev/null || rm -f image-priv.pem
admin refval add measurement "$(cat sim/measurement)" --source "image e2e"
cat > policy.json <<EOF
{"version":1,"rules":[{"name":"app","resources":["default/image-key/*","default/key/*"],"reference":["measurement"]}]}
EOF
admin policy set policy.json

# ---- build and encrypt the image ------------------------------------------------------------------
umoci init --layout img && umoci new --image img:v1 >/dev/null
umoci unpack --rootless --image img:v1 bundle >/dev/null 2>&1
echo "hello from an encrypted layer" > bundle/rootfs/hello.txt
head -c 4096 /dev/urandom > bundle/rootfs/random.bin
umoci repack --image img:v1 bundle >/dev/null 2>&1
check "umoci built an OCI image" test -s img/index.json
skopeo copy --quiet --encryption-key jwe:image-pub.pem oci:img:v1 oci:enc:v1 >/dev/null 2>err.txt
check "skopeo encrypted the image" test $? = 0
layers() { # OCI layout dir -> "mediaType digest" per layer
  python3 - "$1" <<'PY'
import json, sys
d = sys.argv[1]
idx = json.load(open(d + "/index.json"))
m = json.load(open(d + "/blobs/sha256/" + idx["manifests"][0]["digest"].split(":")[1]))
for l in m["layers"]:
    print(l["mediaType"], l["digest"])
PY
}
layers img > orig.txt; layers enc > enc.txt
check "encrypted layers are marked +encrypted" grep -q '+encrypted' enc.txt
check "encrypted layer blobs differ from the originals" bash -c "! grep -qF \"\$(cut -d' ' -f2 orig.txt | head -1)\" enc.txt"
skopeo copy --quiet oci:enc:v1 oci:nokey:v1 >/dev/null 2>&1 && \
  skopeo copy --quiet --decryption-key image-pub.pem oci:enc:v1 oci:bad:v1 >/dev/null 2>&1
check "without the private key the image does not decrypt" test $? != 0

# ---- inside the (sim) TEE: attest, fetch the key into memory, decrypt -------------------------------
agent get-resource default/image-key/app -o "$SHM/image-key.pem" 2>err.txt
check "agent fetched the key after attestation" test $? = 0
check "key is in a tmpfs file with mode 0600" test "$(stat -c %a "$SHM/image-key.pem")" = 600 -a \
  "$(stat -f -c %T "$SHM")" = tmpfs
skopeo copy --quiet --decryption-key "$SHM/image-key.pem" oci:enc:v1 oci:dec:v1 >/dev/null 2>err.txt
check "skopeo decrypted the image with the released key" test $? = 0
rm -f "$SHM/image-key.pem"
layers dec > dec.txt
check "decrypted layers are identical to the originals" cmp -s orig.txt dec.txt
for dg in $(cut -d' ' -f2 orig.txt | cut -d: -f2); do
  cmp -s "img/blobs/sha256/$dg" "dec/blobs/sha256/$dg" || bad "layer blob $dg differs"
done
check "no key file left on persistent disk" bash -c "! grep -rlq 'PRIVATE KEY' '$T' --include='*' --exclude-dir=sim --exclude='*.key' 2>/dev/null"
agent get-resource --option sim.measurement="$(printf 'ee%.0s' $(seq 48))" default/image-key/app \
  -o "$SHM/stolen.pem" 2>err.txt; rc=$?
check "other workload refused the image key" test $rc = 1 -a ! -e "$SHM/stolen.pem"
check "... with reason" grep -q 'measurement not in reference values' err.txt

# ---- ocicrypt key-provider protocol ---------------------------------------------------------------
admin key create default/key/layers
OPTS='{"symkey":"MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=","digest":"sha256:00","cipheroptions":{"nonce":"AAECAwQFBgcICQoLDA0ODw=="}}'
OPTS_B64=$(printf '%s' "$OPTS" | base64 -w0)
KID_B64=$(printf '%s' "default/key/layers" | base64 -w0)
printf '{"op":"keywrap","keywrapparams":{"ec":{"Parameters":{"veritee":["%s"]},"DecryptConfig":{"Parameters":{}}},"optsdata":"%s"},"keyunwrapparams":{"dc":null,"annotation":null}}' \
  "$KID_B64" "$OPTS_B64" | "$BIN/veritee" keyprovider --admin-socket "$T/adm.sock" > wrap.json
check "keyprovider keywrap answers keywrapresults.annotation (number array)" \
  python3 -c "import json;a=json.load(open('wrap.json'))['keywrapresults']['annotation'];assert isinstance(a,list) and len(a)>16"
ANN_B64=$(python3 -c "import json,base64;print(base64.b64encode(bytes(json.load(open('wrap.json'))['keywrapresults']['annotation'])).decode())")
check "annotation does not contain the layer key" bash -c "! printf '%s' '$ANN_B64' | base64 -d | grep -q MDEyMzQ1"
printf '{"op":"keyunwrap","keywrapparams":{"ec":null,"optsdata":null},"keyunwrapparams":{"dc":{"Parameters":{"veritee":[]}},"annotation":"%s"}}' \
  "$ANN_B64" | agent keyprovider > unwrap.json 2>err.txt
check "agent keyprovider keyunwrap after attestation" test $? = 0
got=$(python3 -c "import json;print(bytes(json.load(open('unwrap.json'))['keyunwrapresults']['optsdata']).decode())")
check "unwrapped optsdata equals the original" test "$got" = "$OPTS"
ANN_ARR=$(python3 -c "import json;print(json.dumps(json.load(open('wrap.json'))['keywrapresults']['annotation']))")
printf '{"op":"keyunwrap","keyunwrapparams":{"annotation":%s}}' "$ANN_ARR" | agent keyprovider > unwrap2.json 2>/dev/null
check "annotation accepted as a number array too" grep -q optsdata unwrap2.json
printf '{"op":"keyunwrap","keyunwrapparams":{"annotation":"%s"}}' "$ANN_B64" | \
  agent keyprovider --option sim.measurement="$(printf 'ee%.0s' $(seq 48))" > /dev/null 2>err.txt; rc=$?
check "keyunwrap refused for another workload (exit 1, reason)" test $rc = 1 -a -n "$(grep 'not in reference values' err.txt)"

# ---- issue 18.8: duplicate JSON keys are refused by both sides (never "last one wins") -----------
printf '{"op":"keywrap","keywrapparams":{"optsdata":"%s","optsdata":"%s"}}' "$OPTS_B64" "$OPTS_B64" | \
  "$BIN/veritee" keyprovider --admin-socket "$T/adm.sock" --key default/key/layers > dup.out 2>err.txt; rc=$?
check "veritee keyprovider refuses a duplicate JSON key (exit 1, reason, no output)" test $rc = 1 -a ! -s dup.out -a \
  -n "$(grep -F 'keyprovider: malformed request: duplicate key in a JSON object (byte ' err.txt)"
printf '{"op":"keyunwrap","op":"keywrap","keyunwrapparams":{"annotation":"%s"}}' "$ANN_B64" | \
  agent keyprovider > dup.out 2>err.txt; rc=$?
check "veritee-agent keyprovider refuses a duplicate JSON key (exit 1, reason, no output)" test $rc = 1 -a ! -s dup.out -a \
  -n "$(grep -F 'veritee-agent keyprovider: malformed request: duplicate key in a JSON object (byte ' err.txt)"
printf '{"op":"keyunwrap","keyunwrapparams":{"annotation":"%s","annotation":"%s"}}' "$ANN_B64" "$ANN_B64" | \
  agent keyprovider > dup.out 2>err.txt; rc=$?
check "... also inside keyunwrapparams" test $rc = 1 -a ! -s dup.out -a -n "$(grep -F 'duplicate key in a JSON object' err.txt)"

echo "$pass passed, $fail failed"
[ $fail = 0 ]
