/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hcl_report_fuzz.c - fuzz target for the Azure HCL report parser (vti_hcl_report_parse) and
 * its variable data JSON (vti_hcl_var_data_parse), on the input as an HCL report and as var data.
 */
#include <stdlib.h>

#include "evidence/hcl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void var_data(const uint8_t *p, size_t n)
{
    struct vt_hcl_var_data v;
    if (vti_hcl_var_data_parse(p, n, &v).err != 0)
        return;
    if (!v.root || v.ak_n.len == 0 || v.ak_e.len == 0 || v.user_data_len > 64)
        abort();
    vti_hcl_var_data_free(&v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vt_hcl_report h;
    if (vti_hcl_report_parse(data, size, &h).err == 0) {
        if (h.hw_report != data + VT_HCL_HEADER_LEN || h.var_data != data + VT_HCL_VAR_DATA_OFF ||
            h.var_data + h.var_data_len > data + size || h.report_size > size ||
            (h.report_type != VT_HCL_REPORT_SNP && h.report_type != VT_HCL_REPORT_TDX))
            abort();
        var_data(h.var_data, h.var_data_len);
    }
    var_data(data, size);
    return 0;
}
