#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# wolfSSL backend against the reference tools, and refusal parity between the libraries:
#  - openssl s_client completes TLS 1.3 with a wolfssl-backed veritee tls-server, receives its
#    RA-TLS certificate (which then verifies with veritee cert show) and gets the echo;
#  - a wolfssl-backed tls-client refuses an openssl s_server whose certificate has no
#    evidence (VT_ERR_NO_EVIDENCE), and accepts it only with --allow-unattested;
#  - every refusal (no evidence, pubkey binding mismatch, bad evidence) gives the same exit
#    status, error code and message whichever library the client and the server use, in
#    both directions (client refusing a server; mutual server refusing a client).
# Skips (exit 0 with a note) when the build has no wolfssl instance.
. "$(dirname "$0")/tls_lib.sh"

if ! "$V" instances | grep -q '^tls *wolfssl'; then
  echo "SKIP: no wolfssl TLS instance in this build"
  exit 0
fi
FORGE=$TOOLS/vt_forge
[ -x "$FORGE" ] || { echo "missing $FORGE"; exit 1; }

"$V" sim init "$work/sim" >/dev/null || { echo "sim init failed"; exit 1; }
export VERITEE_SIM_DIR=$work/sim
ROOT=$work/sim/root-ca.pem

# ---- openssl s_client -> wolfssl server ---------------------------------------------------------
start_server "$work/sc.slog" --tee sim --tls wolfssl --max-conns 1 || exit 1
(echo "from-s_client"; sleep 1) | timeout 20 openssl s_client -connect "127.0.0.1:$port" \
  -tls1_3 -no_ign_eof -showcerts >"$work/sc.out" 2>"$work/sc.err"
expect_rc "s_client -> wolfssl server" 0 $?
wait_server
expect_rc "wolfssl server after s_client" 0 "$srv_rc"
expect_in "s_client: TLS 1.3" 'TLSv1.3' "$work/sc.out"
expect_in "s_client: echo" 'from-s_client' "$work/sc.out"
sed -n '/-----BEGIN CERTIFICATE-----/,/-----END CERTIFICATE-----/p' "$work/sc.out" \
  >"$work/sc_peer.pem"
"$V" cert show "$work/sc_peer.pem" --root-ca "$ROOT" >"$work/sc_peer.show" 2>&1
expect_rc "certificate s_client received verifies" 0 $?
expect_in "s_client certificate: sim evidence" 'tee: sim' "$work/sc_peer.show"

# ---- wolfssl client -> openssl s_server without evidence ----------------------------------------
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
  -subj "/CN=plain" -keyout "$work/plain.key" -out "$work/plain.pem" >/dev/null 2>&1 ||
  { echo "openssl req failed"; exit 1; }
for c in wolfssl openssl; do
  start_s_server "$work/plain.pem" "$work/plain.key" "$work/ss-$c.log" || exit 1
  echo x | timeout 20 "$V" tls-client --connect "127.0.0.1:$port" --tls "$c" \
    --root-ca "$ROOT" >"$work/ss-$c.out" 2>"$work/ss-$c.err"
  expect_rc "$c client refuses s_server without evidence" 1 $?
  expect_in "$c client: code" 'VT_ERR_NO_EVIDENCE' "$work/ss-$c.err"
  expect_not_in "$c client: nothing verified printed" '"verified"' "$work/ss-$c.out"
  wait_server
done
sed -i 's/127\.0\.0\.1:[0-9]*/ADDR/' "$work/ss-wolfssl.err" "$work/ss-openssl.err"
if cmp -s "$work/ss-wolfssl.err" "$work/ss-openssl.err"; then ok; else
  bad "no-evidence refusal differs between libraries"
  diff "$work/ss-openssl.err" "$work/ss-wolfssl.err" >&2
fi
start_s_server "$work/plain.pem" "$work/plain.key" "$work/ss-allow.log" || exit 1
echo x | timeout 20 "$V" tls-client --connect "127.0.0.1:$port" --tls wolfssl \
  --allow-unattested >"$work/ss-allow.out" 2>"$work/ss-allow.err"
expect_rc "wolfssl client accepts s_server with --allow-unattested" 0 $?
expect_in "allow-unattested: printed" '"attested": false' "$work/ss-allow.out"
wait_server

# ---- refusal parity: the client refuses the server ----------------------------------------------
"$V" cert create --tee sim --key-out "$work/ra.key" --cert-out "$work/ra.pem" >/dev/null 2>&1 ||
  { echo "cert create failed"; exit 1; }
"$V" cert create --tee none --key-out "$work/none.key" --cert-out "$work/none.pem" \
  >/dev/null 2>&1 || { echo "cert create --tee none failed"; exit 1; }
"$FORGE" swap-key "$work/ra.pem" "$work/swap.key" "$work/swap.pem" || { echo "forge"; exit 1; }
"$FORGE" flip-evidence "$work/ra.pem" "$work/ra.key" 100 "$work/rd.pem" || { echo "forge"; exit 1; }
cp "$work/ra.key" "$work/rd.key"
"$FORGE" flip-evidence "$work/ra.pem" "$work/ra.key" 640 "$work/sig.pem" || { echo "forge"; exit 1; }
cp "$work/ra.key" "$work/sig.key"

# case NAME CODE MESSAGE
cases=(
  "none|VT_ERR_NO_EVIDENCE|peer presented no evidence"
  "swap|VT_ERR_CERT_PUBKEY_MISMATCH|pubkey-hash does not match the certificate key"
  "rd|VT_ERR_CERT_REPORT_DATA_MISMATCH|report data does not bind the claims buffer"
  "sig|VT_ERR_SIM_SIGNATURE|sim evidence signature is invalid"
)
for cs in "${cases[@]}"; do
  IFS='|' read -r cn code msg <<<"$cs"
  for s in openssl wolfssl; do
    for c in openssl wolfssl; do
      n="srvref-$cn-$s-$c"
      start_server "$work/$n.slog" --tls "$s" --cert "$work/$cn.pem" --key "$work/$cn.key" \
        --max-conns 1 || { bad "$n: server start"; continue; }
      echo x | timeout 20 "$V" tls-client --connect "127.0.0.1:$port" --tls "$c" \
        --root-ca "$ROOT" >"$work/$n.out" 2>"$work/$n.err"
      expect_rc "$n: refused" 1 $?
      expect_in "$n: code" "$code" "$work/$n.err"
      expect_in "$n: message" "peer refused: $msg" "$work/$n.err"
      expect_not_in "$n: no report printed" '"verified"' "$work/$n.out"
      wait_server
      expect_in "$n: server saw the refusal" 'the peer aborted with an alert' "$work/$n.slog"
    done
  done
  # The refusing client prints exactly the same thing whatever the libraries (port aside).
  for f in "$work"/srvref-"$cn"-*.err; do
    sed 's/127\.0\.0\.1:[0-9]*/ADDR/' "$f" >"$f.n"
  done
  for f in "$work"/srvref-"$cn"-*.err.n; do
    if cmp -s "$f" "$work/srvref-$cn-openssl-openssl.err.n"; then ok; else
      bad "$cn: $(basename "$f") differs from the openssl/openssl refusal"
      diff "$work/srvref-$cn-openssl-openssl.err.n" "$f" >&2
    fi
  done
done

# ---- refusal parity: a mutual server refuses the client -----------------------------------------
for cs in "${cases[@]}"; do
  IFS='|' read -r cn code msg <<<"$cs"
  for s in openssl wolfssl; do
    for c in openssl wolfssl; do
      n="cliref-$cn-$s-$c"
      start_server "$work/$n.slog" --tee sim --tls "$s" --mutual --root-ca "$ROOT" \
        --max-conns 1 || { bad "$n: server start"; continue; }
      echo x | timeout 20 "$V" tls-client --connect "127.0.0.1:$port" --tls "$c" \
        --root-ca "$ROOT" --cert "$work/$cn.pem" --key "$work/$cn.key" \
        >"$work/$n.out" 2>"$work/$n.err"
      expect_rc "$n: client fails" 1 $?
      wait_server
      expect_in "$n: server code" "$code" "$work/$n.slog"
      expect_in "$n: server message" "peer refused: $msg" "$work/$n.slog"
      grep -v '^listening on' "$work/$n.slog" | sed 's/from 127\.0\.0\.1:[0-9]*/from ADDR/' \
        >"$work/$n.sref"
    done
  done
  for f in "$work"/cliref-"$cn"-*.sref; do
    if cmp -s "$f" "$work/cliref-$cn-openssl-openssl.sref"; then ok; else
      bad "$cn: server log $(basename "$f") differs from openssl/openssl"
      diff "$work/cliref-$cn-openssl-openssl.sref" "$f" >&2
    fi
  done
done

finish
