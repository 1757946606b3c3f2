/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cbor.c - bounded CBOR decoder and minimal encoder (see cbor.h for the rules).
 *
 * Trust boundary: everything decoded here comes from peer certificates. All reads go through
 * the vt_cur bounded reader; container recursion is limited by VTI_CBOR_MAX_DEPTH and counts by
 * VTI_CBOR_MAX_COUNT, so the work per input byte is bounded. Spec: RFC 8949 sections 3 and 5.
 *
 * Encoding: we write our own ~40-line encoder instead of libcbor's. The RA-TLS structures
 * we emit are three fixed shapes (tag[bstr, bstr], a text-keyed map of bstr values, [uint,
 * bstr]); the claims buffer must be hashed byte-exactly as written, and a direct writer on
 * the bounded vt_buf gives shortest-form encoding with no intermediate allocation tree
 * (libcbor's cbor_item_t graph would be built and serialised only to be thrown away).
 */
#include <string.h>

#include "util/cbor.h"

static vt_res read_arg(struct vt_cur *c, uint8_t ai, uint64_t *val)
{
    if (ai < 24) {
        *val = ai;
        return vti_ok();
    }
    switch (ai) {
    case 24: {
        uint8_t v;
        GUARD(vti_cur_u8(c, &v));
        *val = v;
        return vti_ok();
    }
    case 25: {
        uint16_t v;
        GUARD(vti_cur_u16be(c, &v));
        *val = v;
        return vti_ok();
    }
    case 26: {
        uint32_t v;
        GUARD(vti_cur_u32be(c, &v));
        *val = v;
        return vti_ok();
    }
    case 27:
        return vti_cur_u64be(c, val);
    case 31:
        return VT_FAIL(VT_ERR_CBOR_INDEFINITE);
    default: /* 28..30 reserved */
        return VT_FAIL(VT_ERR_CBOR);
    }
}

vt_res vti_cbor_head(struct vt_cur *c, struct vti_cbor_item *it)
{
    size_t start = c->off;
    uint8_t ib;
    GUARD(vti_cur_u8(c, &ib));
    it->major = (enum vti_cbor_major)(ib >> 5);
    uint8_t ai = ib & 0x1f;
    it->p = NULL;
    it->len = 0;
    vt_res r = read_arg(c, ai, &it->val);
    if (r.err) {
        c->off = start;
        if (r.err == VT_ERR_CBOR_INDEFINITE && (it->major == VTI_CBOR_UINT ||
                                                it->major == VTI_CBOR_NINT ||
                                                it->major == VTI_CBOR_TAG ||
                                                it->major == VTI_CBOR_SIMPLE))
            return VT_FAIL(VT_ERR_CBOR); /* not well-formed, not merely indefinite */
        return r;
    }
    switch (it->major) {
    case VTI_CBOR_BSTR:
    case VTI_CBOR_TSTR:
        if (it->val > vti_cur_left(c)) {
            c->off = start;
            return VT_FAIL(VT_ERR_TRUNCATED);
        }
        it->len = (size_t)it->val;
        r = vti_cur_view(c, it->len, &it->p);
        break;
    case VTI_CBOR_ARRAY:
    case VTI_CBOR_MAP:
        if (it->val > VTI_CBOR_MAX_COUNT)
            r = VT_FAIL(VT_ERR_TOO_LARGE);
        break;
    case VTI_CBOR_SIMPLE:
        /* ai 24 carries a simple value that must be >= 32 (RFC 8949 3.3); 25..27 are floats */
        if (ai == 24 && it->val < 32)
            r = VT_FAIL(VT_ERR_CBOR);
        break;
    default:
        break;
    }
    if (r.err)
        c->off = start;
    return r;
}

vt_res vti_cbor_skip(struct vt_cur *c, unsigned depth)
{
    struct vti_cbor_item it;
    GUARD(vti_cbor_head(c, &it));
    switch (it.major) {
    case VTI_CBOR_ARRAY:
    case VTI_CBOR_MAP: {
        ENSURE(depth < VTI_CBOR_MAX_DEPTH, VT_ERR_CBOR_DEPTH);
        uint64_t n = it.major == VTI_CBOR_MAP ? it.val * 2 : it.val;
        for (uint64_t i = 0; i < n; i++)
            GUARD(vti_cbor_skip(c, depth + 1));
        return vti_ok();
    }
    case VTI_CBOR_TAG:
        ENSURE(depth < VTI_CBOR_MAX_DEPTH, VT_ERR_CBOR_DEPTH);
        return vti_cbor_skip(c, depth + 1);
    default:
        return vti_ok();
    }
}

vt_res vti_cbor_check(const uint8_t *p, size_t len)
{
    struct vt_cur c = vti_cur_init(p, len);
    GUARD(vti_cbor_skip(&c, 0));
    return vti_cur_done(&c);
}

static vt_res typed(struct vt_cur *c, enum vti_cbor_major want, struct vti_cbor_item *it)
{
    size_t start = c->off;
    GUARD(vti_cbor_head(c, it));
    if (it->major != want) {
        c->off = start;
        return VT_FAIL(VT_ERR_CBOR);
    }
    return vti_ok();
}

vt_res vti_cbor_uint(struct vt_cur *c, uint64_t *v)
{
    struct vti_cbor_item it;
    GUARD(typed(c, VTI_CBOR_UINT, &it));
    *v = it.val;
    return vti_ok();
}

vt_res vti_cbor_bstr(struct vt_cur *c, const uint8_t **p, size_t *len)
{
    struct vti_cbor_item it;
    GUARD(typed(c, VTI_CBOR_BSTR, &it));
    *p = it.p;
    *len = it.len;
    return vti_ok();
}

vt_res vti_cbor_tstr(struct vt_cur *c, const uint8_t **p, size_t *len)
{
    struct vti_cbor_item it;
    GUARD(typed(c, VTI_CBOR_TSTR, &it));
    *p = it.p;
    *len = it.len;
    return vti_ok();
}

vt_res vti_cbor_array(struct vt_cur *c, uint64_t *n)
{
    struct vti_cbor_item it;
    GUARD(typed(c, VTI_CBOR_ARRAY, &it));
    *n = it.val;
    return vti_ok();
}

vt_res vti_cbor_map(struct vt_cur *c, uint64_t *n)
{
    struct vti_cbor_item it;
    GUARD(typed(c, VTI_CBOR_MAP, &it));
    *n = it.val;
    return vti_ok();
}

vt_res vti_cbor_tag(struct vt_cur *c, uint64_t *tag)
{
    struct vti_cbor_item it;
    GUARD(typed(c, VTI_CBOR_TAG, &it));
    *tag = it.val;
    return vti_ok();
}

vt_res vti_cbor_put_head(struct vt_buf *b, enum vti_cbor_major major, uint64_t val)
{
    uint8_t m = (uint8_t)((unsigned)major << 5);
    uint8_t h[9];
    size_t n;
    if (val < 24) {
        h[0] = m | (uint8_t)val;
        n = 1;
    } else if (val <= 0xff) {
        h[0] = m | 24;
        h[1] = (uint8_t)val;
        n = 2;
    } else if (val <= 0xffff) {
        h[0] = m | 25;
        h[1] = (uint8_t)(val >> 8);
        h[2] = (uint8_t)val;
        n = 3;
    } else if (val <= 0xffffffffu) {
        h[0] = m | 26;
        for (int i = 0; i < 4; i++)
            h[1 + i] = (uint8_t)(val >> (24 - 8 * i));
        n = 5;
    } else {
        h[0] = m | 27;
        for (int i = 0; i < 8; i++)
            h[1 + i] = (uint8_t)(val >> (56 - 8 * i));
        n = 9;
    }
    return vti_buf_append(b, h, n);
}

vt_res vti_cbor_put_uint(struct vt_buf *b, uint64_t v)
{
    return vti_cbor_put_head(b, VTI_CBOR_UINT, v);
}

vt_res vti_cbor_put_bstr(struct vt_buf *b, const uint8_t *p, size_t n)
{
    GUARD(vti_cbor_put_head(b, VTI_CBOR_BSTR, n));
    return n ? vti_buf_append(b, p, n) : vti_ok();
}

vt_res vti_cbor_put_tstr(struct vt_buf *b, const char *s)
{
    size_t n = strlen(s);
    GUARD(vti_cbor_put_head(b, VTI_CBOR_TSTR, n));
    return n ? vti_buf_append(b, s, n) : vti_ok();
}
