/* SPDX-License-Identifier: Apache-2.0 */
/*
 * keyprovider_fuzz.c - fuzz target for the ocicrypt key-provider messages
 * (src/proto/keyprovider.c) and the wrapped-key annotation they carry (src/proto/wrapped.c):
 * the first input byte picks keywrap or keyunwrap; an unwrap request's annotation is parsed
 * as the broker would, and a parsed annotation must serialise and parse again.
 */
#include <stdlib.h>
#include <string.h>

#include "proto/proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void annotation(const struct vt_buf *ann)
{
    char why[256];
    struct vtp_wrapped w;
    if (vtp_wrapped_parse(ann->p, ann->len, &w, why, sizeof(why)).err)
        return;
    struct vt_buf out = VT_BUF_INIT;
    if (!vtp_wrapped_json(&w, &out).err) {
        struct vtp_wrapped w2;
        if (vtp_wrapped_parse(out.p, out.len, &w2, why, sizeof(why)).err)
            abort(); /* what we write must parse */
        vtp_wrapped_free(&w2);
    }
    vti_buf_free(&out);
    vtp_wrapped_free(&w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    enum vtp_kp_op op = data[0] & 1 ? VTP_KP_KEYUNWRAP : VTP_KP_KEYWRAP;
    char why[256];
    struct vtp_kp_request q;
    if (vtp_kp_parse(data + 1, size - 1, op, "veritee", &q, why, sizeof(why)).err)
        return 0;
    if (op == VTP_KP_KEYUNWRAP) {
        annotation(&q.annotation);
    } else {
        char kid[VTP_KP_MAX_PARAM + 1];
        vtp_kp_param_kid(&q.param, "veritee", kid, sizeof(kid));
        char *txt = vtp_kp_reply_wrap(q.optsdata.p, q.optsdata.len);
        free(txt);
    }
    vtp_kp_free(&q);
    return 0;
}
