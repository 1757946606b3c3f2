/* SPDX-License-Identifier: Apache-2.0 */
/*
 * snp_report_fuzz.c - fuzz target for the SEV-SNP report parser (vti_snp_report_parse) and the
 * split of TCB values. Every successful parse must satisfy the invariants checked below.
 */
#include <stdlib.h>
#include <string.h>

#include "evidence/snp_report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vt_snp_report r;
    bool plausible = vti_snp_report_plausible(data, size);
    vt_res res = vti_snp_report_parse(data, size, &r);
    if (res.err == 0) {
        if (!plausible || size != VT_SNP_REPORT_LEN || r.signed_bytes != data ||
            r.signed_len != VT_SNP_SIGNED_LEN || r.version < 2 || r.version > 5 ||
            (r.policy & VT_SNP_POLICY_RESERVED_ONE) == 0 ||
            r.report_data != data + 0x50 || r.chip_id != data + 0x1a0)
            abort();
        for (int p = 0; p < 4; p++) {
            struct vt_snp_tcb t = vti_snp_tcb_split(r.reported_tcb, (enum vt_snp_product)p);
            if (t.ucode != (uint8_t)(r.reported_tcb >> 56))
                abort();
        }
    }
    return 0;
}
