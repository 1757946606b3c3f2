/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pem.c - PEM framing (RFC 7468) without a crypto library: find "-----BEGIN <label>-----"
 * blocks, strip whitespace, base64-decode. Input is untrusted (user files, certificates from
 * quotes); every block is bounded by VT_PEM_MAX_BLOCKS and the input length.
 */
#include <stdio.h>
#include <string.h>

#include "crypto/crypto.h"
#include "util/codec.h"

static const uint8_t *find(const uint8_t *p, size_t n, const char *s)
{
    size_t k = strlen(s);
    if (k == 0 || n < k)
        return NULL;
    for (size_t i = 0; i + k <= n; i++)
        if (p[i] == (uint8_t)s[0] && memcmp(p + i, s, k) == 0) /* lint: public */
            return p + i;
    return NULL;
}

bool vti_pem_has(const uint8_t *text, size_t len, const char *label)
{
    char begin[96];
    int k = snprintf(begin, sizeof(begin), "-----BEGIN %s-----", label);
    if (k <= 0 || (size_t)k >= sizeof(begin))
        return false;
    return find(text, len, begin) != NULL;
}

void vti_pem_list_free(struct vt_pem_list *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++)
        vti_buf_free(&l->der[i]);
    l->n = 0;
}

vt_res vti_pem_decode(const uint8_t *text, size_t len, const char *label, struct vt_pem_list *out)
{
    char begin[96], end[96];
    int k1 = snprintf(begin, sizeof(begin), "-----BEGIN %s-----", label);
    int k2 = snprintf(end, sizeof(end), "-----END %s-----", label);
    ENSURE(k1 > 0 && (size_t)k1 < sizeof(begin) && k2 > 0 && (size_t)k2 < sizeof(end),
           VT_ERR_INVALID_ARG);
    out->n = 0;
    const uint8_t *p = text;
    size_t left = len;
    vt_res r = vti_ok();
    for (;;) {
        const uint8_t *b = find(p, left, begin);
        if (!b)
            break;
        ENSURE_GOTO(out->n < VT_PEM_MAX_BLOCKS, VT_ERR_TOO_LARGE, r, fail);
        const uint8_t *body = b + k1;
        size_t body_left = len - (size_t)(body - text);
        const uint8_t *e = find(body, body_left, end);
        ENSURE_GOTO(e, VT_ERR_BAD_BASE64, r, fail);
        /* copy the base64 text without whitespace */
        struct vt_buf b64 = VT_BUF_INIT;
        for (const uint8_t *q = body; q < e && !r.err; q++) {
            if (*q == ' ' || *q == '\t' || *q == '\r' || *q == '\n')
                continue;
            r = vti_buf_u8(&b64, *q);
        }
        if (!r.err)
            r = vti_b64_decode(b64.p ? (const char *)b64.p : "", b64.len, false,
                              &out->der[out->n]);
        vti_buf_free(&b64);
        if (!r.err && out->der[out->n].len == 0)
            r = VT_FAIL(VT_ERR_BAD_BASE64); /* an empty block */
        if (r.err) {
            vti_buf_free(&out->der[out->n]); /* not yet counted in out->n */
            goto fail;
        }
        out->n++;
        const uint8_t *next = e + k2;
        left = len - (size_t)(next - text);
        p = next;
    }
    ENSURE_GOTO(out->n > 0, VT_ERR_NOT_FOUND, r, fail);
    return vti_ok();
fail:
    vti_pem_list_free(out);
    return r;
}

vt_res vti_pem_encode(const char *label, const uint8_t *der, size_t len, struct vt_buf *out)
{
    struct vt_buf b64 = VT_BUF_INIT;
    vt_res r = vti_ok();
    GUARD_GOTO(vti_b64_encode(der, len, false, &b64), r, done);
    GUARD_GOTO(vti_buf_printf(out, "-----BEGIN %s-----\n", label), r, done);
    for (size_t i = 0; i < b64.len; i += 64) {
        size_t n = b64.len - i < 64 ? b64.len - i : 64;
        GUARD_GOTO(vti_buf_append(out, b64.p + i, n), r, done);
        GUARD_GOTO(vti_buf_u8(out, '\n'), r, done);
    }
    GUARD_GOTO(vti_buf_printf(out, "-----END %s-----\n", label), r, done);
done:
    vti_buf_free(&b64);
    return r;
}
