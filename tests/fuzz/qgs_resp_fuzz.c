/* SPDX-License-Identifier: Apache-2.0 */
/*
 * qgs_resp_fuzz.c - fuzz target for the QGS GET_QUOTE_RESP parser of the /dev/tdx_guest
 * attester path (bytes from the host's quote service are untrusted).
 */
#include <stdlib.h>

#include "attesters/tdx_guest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vt_buf q = VT_BUF_INIT;
    vt_res r = vti_qgs_parse_resp(data, size, &q);
    /* a success hands out a non-empty quote no longer than the message */
    if (r.err == 0 && (q.len == 0 || q.len > size))
        abort();
    vti_buf_free(&q);
    return 0;
}
