#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Cross-library attested TLS on 127.0.0.1: {openssl, wolfssl} server x {openssl, wolfssl}
# client, one-way and mutual, with every registered sim TEE (sim, and sim-tdx / sim-snp /
# sim-sgx when 'veritee instances' lists them), and with certificates built by either crypto
# backend. Skips (exit 0 with a note) when the build has no wolfssl instance.
. "$(dirname "$0")/tls_lib.sh"

if ! "$V" instances | grep -q '^tls *wolfssl'; then
  # Built without wolfSSL: the instances are absent, and asking for them is a usage error
  # (exit 2 with a reason), never a crash.
  "$V" tls-server --listen 127.0.0.1:0 --tee none --tls wolfssl 2>"$work/absent.err"
  expect_rc "absent wolfssl: tls-server" 2 $?
  expect_in "absent wolfssl: reason" 'VT_ERR_NO_INSTANCE' "$work/absent.err"
  "$V" tls-client --connect 127.0.0.1:1 --tls wolfssl 2>"$work/absent.err"
  expect_rc "absent wolfssl: tls-client" 2 $?
  "$V" cert create --tee none --crypto wolfcrypt --key-out "$work/k" --cert-out "$work/c" \
    2>"$work/absent.err"
  expect_rc "absent wolfcrypt: cert create" 2 $?
  echo "no wolfssl TLS instance in this build: only its absence was checked"
  finish
  exit $?
fi

"$V" sim init "$work/sim" >/dev/null || { echo "sim init failed"; exit 1; }
export VERITEE_SIM_DIR=$work/sim
ROOT=$work/sim/root-ca.pem

tees=(sim)
for t in sim-tdx sim-snp sim-sgx; do
  "$V" instances | grep -q "^attester *$t " && tees+=("$t")
done
echo "TEEs in the matrix: ${tees[*]}"

# pair SERVER_TLS CLIENT_TLS TEE MODE [SERVER_CRYPTO CLIENT_CRYPTO KEYTYPE]
pair() {
  local s=$1 c=$2 tee=$3 mode=$4 sc=${5:-openssl} cc=${6:-openssl} kt=${7:-p256}
  local name="$s-$c-$tee-$mode-$sc-$cc-$kt" margs=() cargs=()
  if [ "$mode" = mutual ]; then
    margs=(--mutual --root-ca "$ROOT")
    cargs=(--tee "$tee")
  fi
  start_server "$work/$name.slog" --tee "$tee" --tls "$s" --crypto "$sc" --key-type "$kt" \
    --max-conns 1 "${margs[@]}" || { bad "$name: server start"; return; }
  echo "hello-$name" | timeout 30 "$V" tls-client --connect "127.0.0.1:$port" --tls "$c" \
    --crypto "$cc" --key-type "$kt" --root-ca "$ROOT" "${cargs[@]}" \
    >"$work/$name.out" 2>"$work/$name.err"
  local crc=$?
  wait_server
  expect_rc "$name: client" 0 "$crc"
  expect_rc "$name: server" 0 "$srv_rc"
  expect_in "$name: server verified" '"verified": true' "$work/$name.out"
  expect_in "$name: echo" "hello-$name" "$work/$name.out"
  if [ "$mode" = mutual ]; then
    expect_in "$name: client verified by server" 'client verified: {"verified":true' \
      "$work/$name.slog"
  fi
}

for tee in "${tees[@]}"; do
  for s in openssl wolfssl; do
    for c in openssl wolfssl; do
      pair "$s" "$c" "$tee" oneway
      pair "$s" "$c" "$tee" mutual
    done
  done
done

# Certificates (and keys) built by either crypto backend, every key type, across libraries.
for kt in p256 p384 rsa3072; do
  pair wolfssl openssl sim mutual wolfcrypt openssl "$kt"
  pair openssl wolfssl sim mutual openssl wolfcrypt "$kt"
  pair wolfssl wolfssl sim mutual wolfcrypt wolfcrypt "$kt"
done

# A certificate built by one crypto backend is shown and verified by the other's tools
# (cert show parses and verifies with the default backend, openssl) and by openssl(1).
for kt in p256 p384 rsa3072; do
  "$V" cert create --tee sim --crypto wolfcrypt --key-type "$kt" --claim app=wolf \
    --key-out "$work/w-$kt.key" --cert-out "$work/w-$kt.pem" >/dev/null 2>&1
  expect_rc "wolfcrypt cert create $kt" 0 $?
  "$V" cert show "$work/w-$kt.pem" --root-ca "$ROOT" >"$work/w-$kt.show" 2>&1
  expect_rc "wolfcrypt $kt cert verifies with openssl crypto" 0 $?
  expect_in "wolfcrypt $kt: claim" 'ratls.claim.app: 776f6c66' "$work/w-$kt.show"
  openssl verify -CAfile "$work/w-$kt.pem" "$work/w-$kt.pem" >/dev/null 2>&1
  expect_rc "wolfcrypt $kt cert: openssl verify (self-signed)" 0 $?
  openssl pkey -in "$work/w-$kt.key" -noout >/dev/null 2>&1
  expect_rc "wolfcrypt $kt key: openssl reads it" 0 $?
done

finish
