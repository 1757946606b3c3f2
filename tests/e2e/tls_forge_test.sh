#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Forged RA-TLS certificates served by veritee tls-server --cert/--key must be refused by
# veritee tls-client with the precise reason: evidence copied into a certificate with another
# key (pubkey-hash mismatch), one flipped evidence byte (report data binding, signature,
# chain). The genuine certificate served the same way is accepted (control).
. "$(dirname "$0")/tls_lib.sh"
FORGE=$TOOLS/vt_forge
[ -x "$FORGE" ] || { echo "missing $FORGE"; exit 1; }

"$V" sim init "$work/sim" >/dev/null || { echo "sim init failed"; exit 1; }
ROOT=$work/sim/root-ca.pem
"$V" cert create --tee sim --sim-dir "$work/sim" --key-out "$work/ra.key" \
  --cert-out "$work/ra.pem" >/dev/null 2>&1 || { echo "cert create failed"; exit 1; }

# serve CERT KEY NAME: one connection from tls-client; sets $crc, client output in $work/NAME.*
serve() {
  start_server "$work/$3.slog" --cert "$1" --key "$2" --max-conns 1 || exit 1
  echo "payload" | timeout 20 "$V" tls-client --connect "127.0.0.1:$port" --root-ca "$ROOT" \
    >"$work/$3.out" 2>"$work/$3.err"
  crc=$?
  wait_server
}

# Control: the genuine certificate, served from files, verifies.
serve "$work/ra.pem" "$work/ra.key" genuine
expect_rc "genuine cert accepted" 0 "$crc"
expect_in "genuine: verified" '"verified": true' "$work/genuine.out"
expect_in "genuine: echo" 'payload' "$work/genuine.out"

# Evidence copied into a certificate with another key.
"$FORGE" swap-key "$work/ra.pem" "$work/swap.key" "$work/swap.pem" || { echo "forge failed"; exit 1; }
serve "$work/swap.pem" "$work/swap.key" swap
expect_rc "swapped key refused" 1 "$crc"
expect_in "swap: reason" 'peer refused: pubkey-hash does not match the certificate key' "$work/swap.err"
expect_in "swap: code" 'VT_ERR_CERT_PUBKEY_MISMATCH' "$work/swap.err"
expect_not_in "swap: no claims printed" '"verified"' "$work/swap.out"
expect_in "swap: server saw the refusal" 'the peer aborted with an alert' "$work/swap.slog"

# One flipped byte in the evidence (certificate re-signed with its own key).
flip() { # OFFSET NAME EXPECTED-CODE EXPECTED-TEXT
  "$FORGE" flip-evidence "$work/ra.pem" "$work/ra.key" "$1" "$work/$2.pem" || { bad "forge $2"; return; }
  serve "$work/$2.pem" "$work/ra.key" "$2"
  expect_rc "flip at $1 refused" 1 "$crc"
  expect_in "flip at $1: reason" "peer refused: $4" "$work/$2.err"
  expect_in "flip at $1: code" "$3" "$work/$2.err"
}
flip 100 flip_rd VT_ERR_CERT_REPORT_DATA_MISMATCH 'report data does not bind the claims buffer'
flip 40 flip_body VT_ERR_SIM_SIGNATURE 'sim evidence signature is invalid'
flip 640 flip_sig VT_ERR_SIM_SIGNATURE 'sim evidence signature is invalid'
flip 300 flip_chain VT_ERR_SIM_CHAIN 'sim attestation key does not chain to the given sim root'

finish
