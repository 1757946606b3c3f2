/* SPDX-License-Identifier: Apache-2.0 */
/*
 * snp_cert_table_fuzz.c - fuzz target for the SNP_GET_EXT_REPORT certificate table parser and
 * the content-based certificate loader (DER or PEM).
 */
#include <stdlib.h>

#include "endorsements/amd_certs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vt_amd_blobs b = { 0 };
    vt_res r = vti_amd_cert_table_parse(data, size, &b);
    if (b.n > VT_AMD_MAX_CERTS)
        abort();
    vti_amd_blobs_free(&b);
    size_t added = 0;
    r = vti_amd_blobs_add_content(&b, data, size, &added);
    (void)r;
    if (b.n > VT_AMD_MAX_CERTS || added > b.n)
        abort();
    vti_amd_blobs_free(&b);
    return 0;
}
