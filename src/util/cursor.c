/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cursor.c - bounded reads over untrusted bytes. See cursor.h for the contract.
 */
#include <string.h>

#include "util/cursor.h"

vt_res vti_cur_skip(struct vt_cur *c, size_t n)
{
    ENSURE(n <= c->len - c->off, VT_ERR_TRUNCATED);
    c->off += n;
    return vti_ok();
}

vt_res vti_cur_view(struct vt_cur *c, size_t n, const uint8_t **out)
{
    ENSURE(n <= c->len - c->off, VT_ERR_TRUNCATED);
    *out = c->p + c->off;
    c->off += n;
    return vti_ok();
}

vt_res vti_cur_copy(struct vt_cur *c, void *out, size_t n)
{
    const uint8_t *v;
    GUARD(vti_cur_view(c, n, &v));
    if (n)
        memcpy(out, v, n);
    return vti_ok();
}

vt_res vti_cur_sub(struct vt_cur *c, size_t n, struct vt_cur *sub)
{
    const uint8_t *v;
    GUARD(vti_cur_view(c, n, &v));
    *sub = (struct vt_cur){ .p = v, .len = n, .off = 0 };
    return vti_ok();
}

vt_res vti_cur_u8(struct vt_cur *c, uint8_t *out)
{
    const uint8_t *v;
    GUARD(vti_cur_view(c, 1, &v));
    *out = v[0];
    return vti_ok();
}

vt_res vti_cur_u16le(struct vt_cur *c, uint16_t *out)
{
    const uint8_t *v;
    GUARD(vti_cur_view(c, 2, &v));
    *out = vti_le16_unsafe(v);
    return vti_ok();
}

vt_res vti_cur_u32le(struct vt_cur *c, uint32_t *out)
{
    const uint8_t *v;
    GUARD(vti_cur_view(c, 4, &v));
    *out = vti_le32_unsafe(v);
    return vti_ok();
}

vt_res vti_cur_u64le(struct vt_cur *c, uint64_t *out)
{
    const uint8_t *v;
    GUARD(vti_cur_view(c, 8, &v));
    *out = vti_le64_unsafe(v);
    return vti_ok();
}

vt_res vti_cur_u16be(struct vt_cur *c, uint16_t *out)
{
    const uint8_t *v;
    GUARD(vti_cur_view(c, 2, &v));
    *out = (uint16_t)((v[0] << 8) | v[1]);
    return vti_ok();
}

vt_res vti_cur_u32be(struct vt_cur *c, uint32_t *out)
{
    const uint8_t *v;
    GUARD(vti_cur_view(c, 4, &v));
    *out = ((uint32_t)v[0] << 24) | ((uint32_t)v[1] << 16) | ((uint32_t)v[2] << 8) | v[3];
    return vti_ok();
}

vt_res vti_cur_u64be(struct vt_cur *c, uint64_t *out)
{
    uint32_t hi, lo;
    GUARD(vti_cur_u32be(c, &hi));
    GUARD(vti_cur_u32be(c, &lo));
    *out = ((uint64_t)hi << 32) | lo;
    return vti_ok();
}

vt_res vti_cur_zeros(struct vt_cur *c, size_t n, int err)
{
    const uint8_t *v;
    uint8_t acc = 0;
    GUARD(vti_cur_view(c, n, &v));
    for (size_t i = 0; i < n; i++)
        acc |= v[i];
    ENSURE(acc == 0, err);
    return vti_ok();
}

vt_res vti_cur_done(const struct vt_cur *c)
{
    ENSURE(c->off == c->len, VT_ERR_TRAILING_DATA);
    return vti_ok();
}
