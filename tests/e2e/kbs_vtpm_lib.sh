# SPDX-License-Identifier: Apache-2.0
# kbs_vtpm_lib.sh - the steps kbs_tpm_test.sh and kbs_azure_test.sh (the KBS with a TPM
# tee, on swtpm) share; sourced, not run. Needs BIN and src.
# kbs_vtpm_init NAME CMD...: skips (77) without CMD... or python3-cryptography; defines ok/bad
#   counting into pass/fail; makes the work directory $T (cd'd into; on exit $PIDS and
#   $swtpm_pid are killed and $T removed); sources swtpm_lib.sh; makes a master key mk, the
#   broker's own certificate broker.pem/.key and the resource value file secret.
# kbs_vtpm_broker NAME "RESOURCE..." BROKER-ARGS...: a broker (store NAME.db, admin socket
#   NAME.sock, log NAME.log) with the KBS on a free port (sets KPORT), each RESOURCE put with
#   the value of secret, and the policy pol.json.
# kbs_vtpm_agent ARGS...: veritee-agent get-resource ARGS (the guest).
# kbs_vtpm_client SCRIPT ARGS...: python3 SCRIPT ARGS with kbs_vtpm_client.py importable;
#   its output shown, its "ok:" / "FAIL:" lines counted.
kbs_vtpm_init() { # NAME CMD...
    local name=$1 c
    shift
    for c in "$@" python3 openssl; do
        command -v "$c" >/dev/null 2>&1 || { echo "SKIP: $c not installed (apt-get install swtpm swtpm-tools tpm2-tools)"; exit 77; }
    done
    python3 -c 'import cryptography' 2>/dev/null || { echo "SKIP: python3-cryptography missing"; exit 77; }
    pass=0; fail=0
    T=$(mktemp -d "/tmp/vt-$name.XXXXXX")
    PIDS=()
    swtpm_pid=""
    trap kbs_vtpm_cleanup EXIT
    cd "$T" || exit 1
    source "$src/tests/e2e/swtpm_lib.sh"
    "$BIN/veritee-broker" --gen-master-key mk 2>/dev/null
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout broker.key -out broker.pem \
      -days 30 -subj "/CN=127.0.0.1" 2>/dev/null || { echo "FAIL: openssl req"; exit 1; }
    printf 'top secret value' > secret
}
ok()  { pass=$((pass+1)); echo "ok: $*"; }
bad() { fail=$((fail+1)); echo "FAIL: $*"; }
kbs_vtpm_cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    [ -n "$swtpm_pid" ] && kill "$swtpm_pid" 2>/dev/null
    wait 2>/dev/null; rm -rf "$T"
}

kbs_vtpm_broker() { # NAME "RESOURCE..." BROKER-ARGS...
    local n=$1 res=$2 r
    shift 2
    "$BIN/veritee-broker" --listen 127.0.0.1:0 --store "$n.db" --master-key mk --admin-socket "$n.sock" \
       --cert broker.pem --key broker.key --kbs-listen 127.0.0.1:0 "$@" 2>"$n.log" &
    PIDS+=($!)
    for _ in $(seq 100); do grep -q 'KBS listening on' "$n.log" && break; sleep 0.1; done
    KPORT=$(grep -o 'KBS listening on https\?://127.0.0.1:[0-9]*' "$n.log" | grep -o '[0-9]*$')
    [ -n "$KPORT" ] || { echo "FAIL: broker $n did not start"; cat "$n.log"; exit 1; }
    for r in $res; do
        "$BIN/veritee" admin --socket "$n.sock" resource put "$r" secret >/dev/null || { echo "FAIL: admin resource put"; exit 1; }
    done
    "$BIN/veritee" admin --socket "$n.sock" policy set pol.json >/dev/null || { echo "FAIL: admin policy set"; exit 1; }
}

kbs_vtpm_agent() { "$BIN/veritee-agent" get-resource "$@"; }

kbs_vtpm_client() { # SCRIPT ARGS...
    local out=$1.out rc p f
    PYTHONPATH="$src/tests/e2e${PYTHONPATH:+:$PYTHONPATH}" python3 "$@" >"$out" 2>&1; rc=$?
    cat "$out"
    p=$(grep -c '^ok: ' "$out"); f=$(grep -c '^FAIL: ' "$out")
    pass=$((pass+p)); fail=$((fail+f))
    [ $rc = 0 ] || [ "$f" -gt 0 ] || bad "$1 exited $rc"
}
