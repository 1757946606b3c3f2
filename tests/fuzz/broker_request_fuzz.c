/* SPDX-License-Identifier: Apache-2.0 */
/*
 * broker_request_fuzz.c - fuzz target for the broker's request parser (src/proto/request.c):
 * framed requests, legacy EAA commands (first input byte selects the mode) and wrapped-key
 * annotations. Links vtproto (tests/CMakeLists.txt links it into every fuzz target).
 */
#include <stdlib.h>
#include <string.h>

#include "proto/proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    bool legacy = data[0] & 1;
    char why[256];
    struct vtp_request r;
    (void)vtp_request_parse(data + 1, size - 1, legacy, &r, why, sizeof(why)).err;
    vtp_request_free(&r);
    struct vtp_wrapped w;
    if (!vtp_wrapped_parse(data + 1, size - 1, &w, why, sizeof(why)).err) {
        struct vt_buf out = VT_BUF_INIT;
        if (!vtp_wrapped_json(&w, &out).err) {
            struct vtp_wrapped w2;
            if (!vtp_wrapped_parse(out.p, out.len, &w2, why, sizeof(why)).err)
                vtp_wrapped_free(&w2);
        }
        vti_buf_free(&out);
        vtp_wrapped_free(&w);
    }
    char norm[VTP_MAX_PATH + 1];
    char *s = strndup((const char *)data + 1, size - 1 > 300 ? 300 : size - 1);
    if (s) {
        (void)vtp_path_normalize(s, norm).err;
        (void)vtp_path_match("default/*/img-*", s);
        free(s);
    }
    return 0;
}
