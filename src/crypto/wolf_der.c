/* SPDX-License-Identifier: Apache-2.0 */
/*
 * wolf_der.c - the minimal DER reader/writer used by the wolfCrypt backend (see wolf_der.h
 * for why it exists: Debian's wolfSSL cannot emit or return custom certificate extensions).
 *
 * Trust boundary: the reader sees attacker-controlled certificates and keys. It accepts DER
 * only: single-byte tags, definite lengths in minimal form (at most 4 length bytes), every
 * length checked against the cursor. Spec: ITU-T X.690 section 8.1 and 10.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "crypto/wolf_der.h"
#include "util/codec.h"

vt_res vti_der_any(struct vt_cur *c, int err, struct vti_der_tlv *out)
{
    size_t start = c->off;
    uint8_t tag, l0;
    ENSURE(vti_cur_u8(c, &tag).err == 0, err);
    ENSURE((tag & 0x1f) != 0x1f, err); /* multi-byte tags never occur in what we read */
    ENSURE(vti_cur_u8(c, &l0).err == 0, err);
    size_t len = l0;
    if (l0 & 0x80) {
        size_t nb = l0 & 0x7f;
        ENSURE(nb >= 1 && nb <= 4, err); /* 0x80 = indefinite (BER), not DER */
        len = 0;
        for (size_t i = 0; i < nb; i++) {
            uint8_t b;
            ENSURE(vti_cur_u8(c, &b).err == 0, err);
            ENSURE(i > 0 || b != 0, err); /* minimal: no leading zero byte */
            len = (len << 8) | b;
        }
        ENSURE(len >= 0x80, err); /* minimal: short form was possible */
    }
    ENSURE(vti_cur_sub(c, len, &out->body).err == 0, err);
    out->tag = tag;
    out->raw = c->p + start;
    out->raw_len = c->off - start;
    return vti_ok();
}

vt_res vti_der_expect(struct vt_cur *c, uint8_t tag, int err, struct vti_der_tlv *out)
{
    GUARD(vti_der_any(c, err, out));
    ENSURE(out->tag == tag, err);
    return vti_ok();
}

int vti_der_peek(const struct vt_cur *c)
{
    return vti_cur_left(c) ? c->p[c->off] : -1;
}

vt_res vti_der_oid_text(const uint8_t *p, size_t n, char *out, size_t outlen, int err)
{
    ENSURE(n >= 1 && n <= 64 && outlen >= 8, err);
    size_t w = 0;
    uint64_t v = 0;
    bool first = true;
    for (size_t i = 0; i < n; i++) {
        ENSURE(v != 0 || p[i] != 0x80, err);       /* minimal base-128 */
        ENSURE(v <= (UINT64_MAX >> 8), err);
        v = (v << 7) | (p[i] & 0x7f);
        if (p[i] & 0x80) {
            ENSURE(i + 1 < n, err);
            continue;
        }
        int k;
        if (first) {
            uint64_t a = v < 40 ? 0 : v < 80 ? 1 : 2;
            k = snprintf(out + w, outlen - w, "%llu.%llu", (unsigned long long)a,
                         (unsigned long long)(v - a * 40));
            first = false;
        } else {
            k = snprintf(out + w, outlen - w, ".%llu", (unsigned long long)v);
        }
        ENSURE(k > 0 && (size_t)k < outlen - w, err);
        w += (size_t)k;
        v = 0;
    }
    return vti_ok();
}

static vt_res put_base128(struct vt_buf *out, uint64_t v)
{
    uint8_t tmp[10];
    size_t n = 0;
    do {
        tmp[n++] = (uint8_t)(v & 0x7f);
        v >>= 7;
    } while (v && n < sizeof(tmp));
    while (n > 1)
        GUARD(vti_buf_u8(out, tmp[--n] | 0x80));
    return vti_buf_u8(out, tmp[0]);
}

vt_res vti_der_oid_from_text(const char *text, struct vt_buf *out)
{
    ENSURE(text && *text, VT_ERR_INVALID_ARG);
    uint64_t arcs[32];
    size_t n = 0;
    const char *s = text;
    while (*s) {
        ENSURE(n < VT_ARRAY_LEN(arcs) && *s >= '0' && *s <= '9', VT_ERR_INVALID_ARG);
        uint64_t v = 0;
        while (*s >= '0' && *s <= '9') {
            ENSURE(v <= (UINT64_MAX - 9) / 10, VT_ERR_INVALID_ARG);
            v = v * 10 + (uint64_t)(*s++ - '0');
        }
        arcs[n++] = v;
        if (*s == '.') {
            s++;
            ENSURE(*s, VT_ERR_INVALID_ARG);
        } else {
            ENSURE(!*s, VT_ERR_INVALID_ARG);
        }
    }
    ENSURE(n >= 2 && arcs[0] <= 2 && (arcs[0] == 2 || arcs[1] < 40), VT_ERR_INVALID_ARG);
    ENSURE(arcs[1] <= UINT64_MAX - 80, VT_ERR_INVALID_ARG);
    GUARD(put_base128(out, arcs[0] * 40 + arcs[1]));
    for (size_t i = 2; i < n; i++)
        GUARD(put_base128(out, arcs[i]));
    return vti_ok();
}

static vt_res digits(const uint8_t *p, size_t n, int err, int *out)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        ENSURE(p[i] >= '0' && p[i] <= '9', err);
        v = v * 10 + (p[i] - '0');
    }
    *out = v;
    return vti_ok();
}

vt_res vti_der_time(const struct vti_der_tlv *t, int err, int64_t *out)
{
    const uint8_t *p = vti_cur_pos(&t->body);
    size_t n = vti_cur_left(&t->body);
    int y, mo, d, h, mi, s;
    size_t o;
    if (t->tag == VTI_DER_UTCTIME) { /* YYMMDDHHMMSSZ, RFC 5280 4.1.2.5.1 */
        ENSURE(n == 13, err);
        GUARD(digits(p, 2, err, &y));
        y += y < 50 ? 2000 : 1900;
        o = 2;
    } else { /* YYYYMMDDHHMMSSZ, RFC 5280 4.1.2.5.2 */
        ENSURE(t->tag == VTI_DER_GENTIME && n == 15, err);
        GUARD(digits(p, 4, err, &y));
        o = 4;
    }
    ENSURE(p[n - 1] == 'Z', err);
    GUARD(digits(p + o, 2, err, &mo));
    GUARD(digits(p + o + 2, 2, err, &d));
    GUARD(digits(p + o + 4, 2, err, &h));
    GUARD(digits(p + o + 6, 2, err, &mi));
    GUARD(digits(p + o + 8, 2, err, &s));
    ENSURE(mo >= 1 && mo <= 12 && d >= 1 && d <= 31 && h <= 23 && mi <= 59 && s <= 60, err);
    *out = vti_timegm(y, mo, d, h, mi, s);
    return vti_ok();
}

vt_res vti_der_put(struct vt_buf *out, uint8_t tag, const void *content, size_t len)
{
    ENSURE(len <= 0xffffffffu, VT_ERR_TOO_LARGE);
    uint8_t hdr[6];
    size_t h = 0;
    hdr[h++] = tag;
    if (len < 0x80) {
        hdr[h++] = (uint8_t)len;
    } else {
        size_t nb = len > 0xffffff ? 4 : len > 0xffff ? 3 : len > 0xff ? 2 : 1;
        hdr[h++] = (uint8_t)(0x80 | nb);
        for (size_t i = nb; i > 0; i--)
            hdr[h++] = (uint8_t)(len >> (8 * (i - 1)));
    }
    GUARD(vti_buf_append(out, hdr, h));
    if (len)
        GUARD(vti_buf_append(out, content, len));
    return vti_ok();
}

vt_res vti_der_put_uint(struct vt_buf *out, const uint8_t *be, size_t len)
{
    while (len > 1 && be[0] == 0) {
        be++;
        len--;
    }
    ENSURE(len >= 1 && len < 0xffffff, VT_ERR_INVALID_ARG);
    if (!(be[0] & 0x80))
        return vti_der_put(out, VTI_DER_INT, be, len);
    size_t n = len + 1;
    GUARD(vti_buf_u8(out, VTI_DER_INT));
    if (n < 0x80) {
        GUARD(vti_buf_u8(out, (uint8_t)n));
    } else {
        size_t nb = n > 0xffff ? 3 : n > 0xff ? 2 : 1;
        GUARD(vti_buf_u8(out, (uint8_t)(0x80 | nb)));
        for (size_t i = nb; i > 0; i--)
            GUARD(vti_buf_u8(out, (uint8_t)(n >> (8 * (i - 1)))));
    }
    GUARD(vti_buf_u8(out, 0));
    return vti_buf_append(out, be, len);
}

vt_res vti_der_put_oid(struct vt_buf *out, const char *text)
{
    struct vt_buf o = VT_BUF_INIT;
    vt_res r = vti_der_oid_from_text(text, &o);
    if (!r.err)
        r = vti_der_put(out, VTI_DER_OID, o.p, o.len);
    vti_buf_free_nowipe(&o);
    return r;
}

vt_res vti_der_put_time(struct vt_buf *out, int64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;
    ENSURE(gmtime_r(&tt, &tm), VT_ERR_INVALID_ARG);
    int y = tm.tm_year + 1900;
    ENSURE(y >= 0 && y <= 9999, VT_ERR_INVALID_ARG);
    char s[20];
    int n;
    if (y >= 1950 && y < 2050)
        n = snprintf(s, sizeof(s), "%02d%02d%02d%02d%02d%02dZ", y % 100, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    else
        n = snprintf(s, sizeof(s), "%04d%02d%02d%02d%02d%02dZ", y, tm.tm_mon + 1, tm.tm_mday,
                     tm.tm_hour, tm.tm_min, tm.tm_sec);
    ENSURE(n > 0 && (size_t)n < sizeof(s), VT_ERR_INTERNAL);
    return vti_der_put(out, n == 13 ? VTI_DER_UTCTIME : VTI_DER_GENTIME, s, (size_t)n);
}

vt_res vti_der_wrap(struct vt_buf *out, uint8_t tag, struct vt_buf *inner)
{
    vt_res r = vti_der_put(out, tag, inner->p, inner->len);
    vti_buf_free_nowipe(inner);
    return r;
}
