# SPDX-License-Identifier: Apache-2.0
# tpm_lib.sh - sourced by tpm_test.sh and kbs_tpm_test.sh (after swtpm_lib.sh):
# provision_tpm DIR: a swtpm with an EK certificate (swtpm_setup --create-ek-cert, our own
# swtpm-localca in DIR/ca: root swtpm-localca-rootca-cert.pem, intermediate issuercert.pem),
# started (start_swtpm; sets swtpm_pid, port, tcti and TPM2TOOLS_TCTI), an AK at 0x81010002
# with its certificate (issued by the same intermediate) in NV 0x01c10000 (the commands of
# docs/tpm.md), DIR/ak.pem, and the event log DIR/log.bin (tpm_eventlog.py) extended into the
# PCRs. Returns 1 on failure.
provision_tpm() {
    local d=$1
    mkdir -p "$d/ca" "$d/tpmstate" || return 1
    printf 'statedir = %s/ca\nsigningkey = %s/ca/signkey.pem\nissuercert = %s/ca/issuercert.pem\ncertserial = %s/ca/certserial\n' \
        "$d" "$d" "$d" "$d" >"$d/localca.conf"
    : >"$d/localca.options"
    printf 'create_certs_tool = %s\ncreate_certs_tool_config = %s/localca.conf\ncreate_certs_tool_options = %s/localca.options\nactive_pcr_banks = sha256\n' \
        "$(command -v swtpm_localca)" "$d" "$d" >"$d/setup.conf"
    swtpm_setup --tpm2 --tpmstate "$d/tpmstate" --create-ek-cert --config "$d/setup.conf" --overwrite >"$d/setup.log" 2>&1 \
        || { cat "$d/setup.log"; return 1; }
    start_swtpm "$d" || { cat "$d/swtpm.log"; return 1; }
    tcti="swtpm:host=127.0.0.1,port=$port"
    export TPM2TOOLS_TCTI=$tcti
    (
        set -e
        cd "$d"
        tpm2_createprimary -C o -G rsa2048:rsassa-sha256:null \
            -a 'fixedtpm|fixedparent|sensitivedataorigin|userwithauth|restricted|sign|noda' -c ak.ctx >/dev/null
        tpm2_evictcontrol -C o -c ak.ctx 0x81010002 >/dev/null
        tpm2_readpublic -c 0x81010002 -f pem -o ak.pem >/dev/null
        openssl x509 -new -force_pubkey ak.pem -subj "/CN=veritee test AK" -CA ca/issuercert.pem \
            -CAkey ca/signkey.pem -days 30 -outform DER -out ak.der 2>/dev/null
        tpm2_nvdefine 0x01c10000 -C o -s "$(stat -c %s ak.der)" -a 'ownerread|ownerwrite|authread|authwrite' >/dev/null
        tpm2_nvwrite 0x01c10000 -C o -i ak.der
        python3 "$src/tests/e2e/tpm_eventlog.py" log.bin >extends.txt
        while IFS=: read -r pcr digest; do tpm2_pcrextend "$pcr:sha256=$digest"; done <extends.txt
    ) >"$d/provision.log" 2>&1 || { cat "$d/provision.log"; return 1; }
}

# provision_ecc_ak DIR: on the TPM provision_tpm started, an ECC AK (restricted NIST P-256
# ECDSA-SHA256 primary) at 0x81010003 and its certificate (issued by the same intermediate)
# in GCE's ECC AK certificate index 0x01c10002; DIR/ak_ecc.pem. Returns 1 on failure.
provision_ecc_ak() {
    local d=$1
    (
        set -e
        cd "$d"
        tpm2_flushcontext -t; tpm2_flushcontext -s   # no resource manager: free the slots
        tpm2_createprimary -C o -G ecc256:ecdsa-sha256:null \
            -a 'fixedtpm|fixedparent|sensitivedataorigin|userwithauth|restricted|sign|noda' -c ak_ecc.ctx >/dev/null
        tpm2_evictcontrol -C o -c ak_ecc.ctx 0x81010003 >/dev/null
        tpm2_flushcontext -t
        tpm2_readpublic -c 0x81010003 -f pem -o ak_ecc.pem >/dev/null
        openssl x509 -new -force_pubkey ak_ecc.pem -subj "/CN=veritee test ECC AK" -CA ca/issuercert.pem \
            -CAkey ca/signkey.pem -days 30 -outform DER -out ak_ecc.der 2>/dev/null
        tpm2_nvdefine 0x01c10002 -C o -s "$(stat -c %s ak_ecc.der)" -a 'ownerread|ownerwrite|authread|authwrite' >/dev/null
        tpm2_nvwrite 0x01c10002 -C o -i ak_ecc.der
    ) >"$d/provision_ecc.log" 2>&1 || { cat "$d/provision_ecc.log"; return 1; }
}
