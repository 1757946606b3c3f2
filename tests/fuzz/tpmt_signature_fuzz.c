/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tpmt_signature_fuzz.c - fuzz target for the TPMT_SIGNATURE parser (vti_tpmt_signature_parse).
 */
#include <stdlib.h>

#include "evidence/tpm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vt_tpmt_signature s;
    if (vti_tpmt_signature_parse(data, size, &s).err != 0)
        return 0;
    if (vti_tpm_hash_size(s.hash_alg) == 0)
        abort();
    if (s.sig_alg == VT_TPM_ALG_ECDSA) {
        if (s.r_len < 1 || s.r_len > VT_TPM_MAX_ECC || s.s_len < 1 || s.s_len > VT_TPM_MAX_ECC ||
            s.s + s.s_len != data + size)
            abort();
    } else if (s.sig_alg != VT_TPM_ALG_RSASSA && s.sig_alg != VT_TPM_ALG_RSAPSS) {
        abort();
    } else if (s.rsa_len < 1 || s.rsa_len > VT_TPM_MAX_RSA || s.rsa + s.rsa_len != data + size) {
        abort();
    }
    return 0;
}
