#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Veritee in one script, on the sim TEE (INSECURE test TEE: no hardware needed):
#   1. start a key broker with a fresh key store          5. the workload attests, gets the key
#   2. provision a reference value, a policy and a key    6. skopeo decrypts the image in memory
#   3. build a small OCI image (umoci)                    7. another workload is refused, with
#   4. encrypt it (skopeo, JWE) for the broker's key         the reason
# Needs: build/bin (cmake --build build), openssl, skopeo, umoci, python3.
# Usage: demo/demo.sh [BIN_DIR]
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=$(cd "${1:-${VERITEE_BIN:-$ROOT/build/bin}}" && pwd)
for t in "$BIN/veritee" "$BIN/veritee-broker" "$BIN/veritee-agent"; do
  [ -x "$t" ] || { echo "missing $t: build first (cmake -S . -B build && cmake --build build)"; exit 2; }
done
for t in openssl skopeo umoci python3; do
  command -v $t >/dev/null || { echo "missing $t (Debian: apt-get install -y $t)"; exit 2; }
done
W=$(mktemp -d /tmp/veritee-demo.XXXXXX)
SHM=$(mktemp -d /dev/shm/veritee-demo.XXXXXX)
BPID=
cleanup() { [ -n "$BPID" ] && kill "$BPID" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$W" "$SHM"; }
trap cleanup EXIT
cd "$W"
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }
admin() { run "$BIN/veritee" admin --socket "$W/admin.sock" "$@"; }

step "1. The sim TEE's test PKI, the broker's certificate and master key, a fresh key store"
run "$BIN/veritee" sim init sim
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem \
  -days 1 -subj "/CN=demo broker CA" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout broker.key \
  -out broker.csr -subj "/CN=127.0.0.1" 2>/dev/null
openssl x509 -req -in broker.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out broker.pem -days 1 2>/dev/null
run "$BIN/veritee-broker" --gen-master-key master.key
echo "$ veritee-broker --listen 127.0.0.1:0 --store store.db --master-key master.key --admin-socket admin.sock --allow-sim --root-ca sim/root-ca.pem --cert broker.pem --key broker.key &"
"$BIN/veritee-broker" --listen 127.0.0.1:0 --store store.db --master-key master.key \
  --admin-socket "$W/admin.sock" --allow-sim --root-ca sim/root-ca.pem --cert broker.pem \
  --key broker.key 2>broker.log &
BPID=$!
for _ in $(seq 100); do grep -q 'listening on' broker.log && break; sleep 0.1; done
cat broker.log
PORT=$(grep -o 'listening on 127.0.0.1:[0-9]*' broker.log | cut -d: -f2)

step "2. Provision: the workload's reference measurement, a policy, the image key"
M=$(cat sim/measurement)
admin refval add measurement "$M" --source "demo build of the workload"
cat > policy.json <<EOF
{"version": 1,
 "rules": [{"name": "demo-workload",
            "resources": ["default/image-key/*"],
            "tee": ["sim"],
            "reference": ["measurement"]}]}
EOF
cat policy.json
admin policy set policy.json
openssl genrsa -out image-key.pem 3072 2>/dev/null
openssl rsa -in image-key.pem -pubout -out image-pub.pem 2>/dev/null
admin resource put default/image-key/demo image-key.pem
rm -f image-key.pem
echo "(the private key now exists only in the broker's encrypted store)"
admin resource list

step "3. Build a small OCI image with umoci"
run umoci init --layout image
run umoci new --image image:v1
umoci unpack --rootless --image image:v1 bundle >/dev/null 2>&1
echo "secret model weights" > bundle/rootfs/payload.txt
run umoci repack --image image:v1 bundle

step "4. Encrypt it for the broker's key (skopeo, JWE)"
run skopeo copy --quiet --encryption-key jwe:image-pub.pem oci:image:v1 oci:encrypted:v1
layers() {
  python3 - "$1" <<'PY'
import json, sys
d = sys.argv[1]
idx = json.load(open(d + "/index.json"))
m = json.load(open(d + "/blobs/sha256/" + idx["manifests"][0]["digest"].split(":")[1]))
for l in m["layers"]:
    print(l["mediaType"], l["digest"])
PY
}
echo "original layers:";  layers image | tee orig.txt
echo "encrypted layers:"; layers encrypted

step "5. In the TEE: the agent attests and receives the key into memory (tmpfs, 0600)"
run "$BIN/veritee-agent" get-resource --broker "127.0.0.1:$PORT" --tee sim --sim-dir sim \
  --broker-ca ca.pem default/image-key/demo -o "$SHM/image-key.pem"
ls -l "$SHM/image-key.pem"; stat -f -c 'file system: %T' "$SHM"
grep 'decision=' broker.log | tail -1
grep 'INSECURE release' broker.log | tail -1

step "6. Decrypt the image with the released key"
run skopeo copy --quiet --decryption-key "$SHM/image-key.pem" oci:encrypted:v1 oci:decrypted:v1
rm -f "$SHM/image-key.pem"
echo "decrypted layers:"; layers decrypted | tee dec.txt
if cmp -s orig.txt dec.txt; then echo "RESULT: decrypted layers are identical to the originals"; else echo "RESULT: MISMATCH"; exit 1; fi

step "7. A workload with another measurement asks for the same key"
set +e
run "$BIN/veritee-agent" get-resource --broker "127.0.0.1:$PORT" --tee sim --sim-dir sim \
  --broker-ca ca.pem --option sim.measurement="$(printf 'ee%.0s' $(seq 48))" \
  default/image-key/demo -o "$SHM/stolen.pem"
rc=$?
set -e
echo "exit status $rc; key file written: $([ -e "$SHM/stolen.pem" ] && echo yes || echo no)"
grep 'decision=refuse' broker.log | tail -1
[ $rc = 1 ] && [ ! -e "$SHM/stolen.pem" ]

step "Audit trail (append-only)"
admin audit --limit 5
echo
echo "demo complete"
