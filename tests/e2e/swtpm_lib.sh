# SPDX-License-Identifier: Apache-2.0
# swtpm_lib.sh - sourced by the e2e tests that need a TPM 2.0 (az_vtpm_test.sh,
# kbs_azure_test.sh): start_swtpm DIR starts swtpm in socket mode on a free loopback port pair
# (temporary state in DIR/tpmstate, started and cleared), and sets swtpm_pid and port
# (the TCTI is "swtpm:host=127.0.0.1,port=$port"). Returns 1 if it did not start.
start_swtpm() {
    local dir=$1
    mkdir -p "$dir/tpmstate"
    for _ in 1 2 3 4 5; do
        # the swtpm TCTI talks to the control channel at port + 1: both must be free
        port=$(python3 -c 'import random, socket
for _ in range(50):
    p = random.randrange(20000, 60000, 2); ok = True
    for q in (p, p + 1):
        s = socket.socket()
        try: s.bind(("127.0.0.1", q))
        except OSError: ok = False
        s.close()
    if ok: print(p); break')
        swtpm socket --tpm2 --tpmstate dir="$dir/tpmstate" --server type=tcp,port="$port",bindaddr=127.0.0.1 \
            --ctrl type=tcp,port=$((port + 1)),bindaddr=127.0.0.1 --flags not-need-init,startup-clear \
            --pid file="$dir/swtpm.pid" >"$dir/swtpm.log" 2>&1 &
        swtpm_pid=$!
        for _ in $(seq 50); do
            python3 -c "import socket,sys; socket.create_connection(('127.0.0.1',$port),0.2).close()" 2>/dev/null && return 0
            kill -0 "$swtpm_pid" 2>/dev/null || break
            sleep 0.1
        done
        kill "$swtpm_pid" 2>/dev/null; swtpm_pid=""
    done
    return 1
}
