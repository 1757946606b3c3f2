/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pck_ext.c - the PCK certificate SGX extension parser (see pck_ext.h). Everything is read
 * through the bounded cursor; DER lengths of 1..3 bytes (long form) are accepted, the tag
 * must be a low-tag-number form.
 */
#include <string.h>

#include "evidence/pck_ext.h"
#include "util/cursor.h"

#define E VT_ERR_INTEL_PCK_EXT

/* OID 1.2.840.113741.1.13.1 (content bytes) */
const uint8_t vt_pck_ext_oid_der[9] = { 0x2a, 0x86, 0x48, 0x86, 0xf8, 0x4d, 0x01, 0x0d, 0x01 };

/* One TLV: its tag and its value as a sub-cursor. */
static vt_res der_tlv(struct vt_cur *c, uint8_t *tag, struct vt_cur *val)
{
    uint8_t t, l0;
    ENSURE(vti_is_ok(vti_cur_u8(c, &t)) && vti_is_ok(vti_cur_u8(c, &l0)), E);
    ENSURE((t & 0x1f) != 0x1f, E);
    size_t len = l0;
    if (l0 & 0x80) {
        unsigned nb = l0 & 0x7f;
        ENSURE(nb >= 1 && nb <= 3, E);
        len = 0;
        for (unsigned i = 0; i < nb; i++) {
            uint8_t b;
            ENSURE(vti_is_ok(vti_cur_u8(c, &b)), E);
            len = (len << 8) | b;
        }
    }
    ENSURE(vti_is_ok(vti_cur_sub(c, len, val)), E);
    *tag = t;
    return vti_ok();
}

/* A non-negative INTEGER of 1..3 content bytes, at most max. */
static vt_res der_uint(struct vt_cur *v, uint32_t max, uint32_t *out)
{
    size_t n = vti_cur_left(v);
    ENSURE(n >= 1 && n <= 3 && !(vti_cur_pos(v)[0] & 0x80), E);
    uint32_t x = 0;
    for (size_t i = 0; i < n; i++)
        x = (x << 8) | vti_cur_pos(v)[i];
    ENSURE(x <= max, E);
    *out = x;
    return vti_ok();
}

/* Which sub-OID of the SGX extension is o: .a or .a.b (b = 0 for .a); false otherwise. */
static bool sgx_sub(struct vt_cur o, unsigned *a, unsigned *b)
{
    size_t n = vti_cur_left(&o);
    const uint8_t *p = vti_cur_pos(&o);
    if (n < 10 || n > 11 || memcmp(p, vt_pck_ext_oid_der, 9) != 0 || /* lint: public */
        p[9] >= 0x80)
        return false;
    *a = p[9];
    *b = 0;
    if (n == 11) {
        if (p[10] >= 0x80)
            return false;
        *b = p[10];
    }
    return true;
}

/* One SEQUENCE { OID, value, ... } item: its OID and value; whole: nothing may follow the
 * value (top-level items; TCB entries have never been held to that). */
static vt_res der_pair(struct vt_cur *c, bool whole, struct vt_cur *oid, uint8_t *vtag,
                       struct vt_cur *val)
{
    struct vt_cur item;
    uint8_t tag;
    GUARD(der_tlv(c, &tag, &item));
    ENSURE(tag == 0x30, E);
    GUARD(der_tlv(&item, &tag, oid));
    ENSURE(tag == 0x06, E);
    GUARD(der_tlv(&item, vtag, val));
    ENSURE(!whole || vti_cur_left(&item) == 0, E);
    return vti_ok();
}

/* One entry .2.b of the TCB sequence; *seen gets bit b-1. */
static vt_res tcb_entry(struct vt_cur *tcb, struct vt_pck_ext *e, uint32_t *seen)
{
    struct vt_cur to, tv;
    uint8_t tt;
    GUARD(der_pair(tcb, false, &to, &tt, &tv));
    unsigned a, b;
    ENSURE(sgx_sub(to, &a, &b) && a == 2 && b >= 1 && b <= 18, E);
    uint32_t u;
    if (b <= 16) {
        ENSURE(tt == 0x02, E);
        GUARD(der_uint(&tv, 255, &u));
        e->comps[b - 1] = (uint8_t)u;
    } else if (b == 17) {
        ENSURE(tt == 0x02, E);
        GUARD(der_uint(&tv, 65535, &u));
        e->pcesvn = (uint16_t)u;
    } else {
        ENSURE(tt == 0x04 && vti_cur_left(&tv) == 16, E);
        memcpy(e->cpusvn, vti_cur_pos(&tv), 16);
    }
    *seen |= 1u << (b - 1);
    return vti_ok();
}

/* One top-level entry; *seen gets bit 0 (FMSPC), 1 (PCE-ID), 2 (TCB). */
static vt_res top_entry(struct vt_cur *seq, struct vt_pck_ext *e, unsigned *seen,
                        uint32_t *comps_seen)
{
    struct vt_cur oid, val;
    uint8_t tag;
    GUARD(der_pair(seq, true, &oid, &tag, &val));
    unsigned a, b;
    if (!sgx_sub(oid, &a, &b) || b != 0)
        return vti_ok(); /* PPID etc. are kept opaque */
    if (a == 4) {
        ENSURE(tag == 0x04 && vti_cur_left(&val) == 6, E);
        memcpy(e->fmspc, vti_cur_pos(&val), 6);
        *seen |= 1;
    } else if (a == 3) {
        ENSURE(tag == 0x04 && vti_cur_left(&val) == 2, E);
        memcpy(e->pceid, vti_cur_pos(&val), 2);
        *seen |= 2;
    } else if (a == 2) {
        ENSURE(tag == 0x30, E);
        while (vti_cur_left(&val))
            GUARD(tcb_entry(&val, e, comps_seen));
        *seen |= 4;
    }
    return vti_ok();
}

vt_res vti_pck_ext_parse(const uint8_t *der, size_t len, struct vt_pck_ext *out)
{
    struct vt_cur c = vti_cur_init(der, len), seq;
    uint8_t tag;
    GUARD(der_tlv(&c, &tag, &seq));
    ENSURE(tag == 0x30 && vti_cur_left(&c) == 0, E);
    unsigned seen = 0;
    uint32_t comps_seen = 0;
    while (vti_cur_left(&seq))
        GUARD(top_entry(&seq, out, &seen, &comps_seen));
    ENSURE(seen == 7 && comps_seen == 0x3ffff, E);
    return vti_ok();
}
