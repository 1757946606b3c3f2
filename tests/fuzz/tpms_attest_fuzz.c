/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tpms_attest_fuzz.c - fuzz target for the TPMS_ATTEST parser (vti_tpms_attest_parse). Every
 * successful parse must satisfy the caps and views checked below.
 */
#include <stdlib.h>

#include "evidence/tpm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vt_tpms_attest a;
    if (vti_tpms_attest_parse(data, size, &a).err != 0)
        return 0;
    if (a.magic != VT_TPM_GENERATED_VALUE || a.type != VT_TPM_ST_ATTEST_QUOTE ||
        a.qualified_signer_len > VT_TPM_MAX_NAME || a.extra_data_len > VT_TPM_MAX_DATA ||
        a.pcr_digest_len > VT_TPM_MAX_DATA || a.n_sel < 1 || a.n_sel > VT_TPM_MAX_BANKS ||
        a.pcr_digest + a.pcr_digest_len != data + size)
        abort();
    for (uint32_t i = 0; i < a.n_sel; i++)
        if (a.sel[i].size < 1 || a.sel[i].size > VT_TPM_MAX_SELECT ||
            vti_tpm_hash_size(a.sel[i].hash) == 0)
            abort();
    return 0;
}
