/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tunnel_http_fuzz.c - fuzz target for the egress's --claims-header filter (src/proto/tunnel.c):
 * the first input byte picks a request head rewrite or a chunk-size line. A rewritten head must
 * start with the request line, carry the injected header once right after it, end in an empty
 * line, contain no other line of that name, and consume no more than it was given.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "proto/tunnel.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t out[VTP_HTTP_HEAD_MAX + 256];

static void check_head(const uint8_t *in, size_t n, size_t out_len, const struct vtp_http_framing *f)
{
    static const char inj[] = "\r\nX-C: v\r\n";
    const uint8_t *lf = memchr(out, '\n', out_len);
    if (f->head_len > n || f->head_len < 4 || out_len < 4 || !lf ||
        memcmp(out + out_len - 4, "\r\n\r\n", 4) || memcmp(in, out, (size_t)(lf - out)))
        abort();
    if ((size_t)(lf - out) + 9 > out_len || memcmp(lf - 1, inj, sizeof(inj) - 1))
        abort();
    for (const uint8_t *p = lf + 9; p < out + out_len;) { /* no other line named X-C */
        const uint8_t *e = memchr(p, '\n', (size_t)(out + out_len - p));
        if (!e)
            abort();
        if (e - p >= 4 && !strncasecmp((const char *)p, "X-C:", 4))
            abort();
        p = e + 1;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    struct vtp_http_framing f;
    size_t out_len = 0, used = 0;
    uint64_t chunk = 0;
    if (data[0] & 1) {
        if (!vtp_http_head_rewrite(data + 1, size - 1, "X-C", "v", out, sizeof(out), &out_len, &f).err)
            check_head(data + 1, size - 1, out_len, &f);
    } else if (!vtp_http_chunk_line(data + 1, size - 1, &chunk, &used).err &&
               (used > size - 1 || used < 3 || chunk > 0xfffffffffffffffULL)) {
        abort();
    }
    return 0;
}
