/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tunnel_proxy_fuzz.c - fuzz target for the ingress's proxy request parsers
 * (src/proto/tunnel.c): the first input byte picks an HTTP proxy head, a SOCKS5 greeting or a
 * SOCKS5 request. A parsed request must name a non-empty host and a non-zero port and consume
 * no more than it was given; an absolute-form request's origin line must end in CRLF.
 */
#include <stdlib.h>
#include <string.h>

#include "proto/tunnel.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct vtp_proxy_req *r, size_t size)
{
    if (!r->host[0] || r->port == 0 || r->head_len > size)
        abort();
    if (r->kind == VTP_PROXY_ABSOLUTE) {
        size_t n = strlen(r->origin_line);
        if (n < 2 || strcmp(r->origin_line + n - 2, "\r\n") || r->line_len > r->head_len)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    struct vtp_proxy_req r;
    size_t used = 0;
    switch (data[0] % 3) {
    case 0:
        if (!vtp_proxy_http_parse(data + 1, size - 1, &r).err)
            check(&r, size - 1);
        break;
    case 1:
        if (!vtp_socks5_greeting_parse(data + 1, size - 1, &used).err && used != size - 1)
            abort();
        break;
    default:
        if (!vtp_socks5_request_parse(data + 1, size - 1, &r).err)
            check(&r, size - 1);
        break;
    }
    return 0;
}
