/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tpm2b_public_fuzz.c - fuzz target for TPM2B_PUBLIC / TPMT_PUBLIC (vti_tpm2b_public_parse,
 * vti_tpmt_public_parse) and the conversion of a parsed key to an OpenSSL key.
 */
#include <stdlib.h>

#include "evidence/tpm.h"
#include "verifiers/tpm_quote.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct vt_tpmt_public *k)
{
    if (k->type == VT_TPM_ALG_RSA) {
        if (k->n_len != k->key_bits / 8 || k->key_bits < 1024 || k->key_bits > 4096)
            abort();
    } else if (k->type != VT_TPM_ALG_ECC || k->x_len < 1 || k->y_len < 1 ||
               k->x_len > VT_TPM_MAX_ECC || k->y_len > VT_TPM_MAX_ECC) {
        abort();
    }
    EVP_PKEY *pk = NULL;
    if (vti_tpm_public_to_pkey(k, &pk).err == 0 && !pk)
        abort();
    EVP_PKEY_free(pk);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vt_tpmt_public k;
    if (vti_tpm2b_public_parse(data, size, &k).err == 0)
        check(&k);
    if (vti_tpmt_public_parse(data, size, &k).err == 0)
        check(&k);
    return 0;
}
