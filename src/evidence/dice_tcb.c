/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dice_tcb.c - FWID from a DICE TcbInfo extension (see dice_tcb.h).
 *
 * Owns: a minimal definite-length DER walk (tag, length, sub-cursor) over the extension value.
 * Trust boundary: the certificate is untrusted until its chain verified; the FWID is used only
 * after that, but this parser must be safe on any input (it is fuzzed with the SPDM target).
 * No recursion: the two shapes have a fixed depth.
 */
#include "evidence/dice_tcb.h"

#include "util/cursor.h"

const uint8_t vt_dice_tcb_oid_der[6] = { 0x67, 0x81, 0x05, 0x05, 0x04, 0x01 };

#define BAD VT_ERR_NV_DICE_EXT

/* One DER TLV: tag (low-tag-number form), definite length (at most 3 length bytes). */
static vt_res tlv(struct vt_cur *c, uint8_t *tag, struct vt_cur *val)
{
    uint8_t l0;
    size_t n = 0;
    ENSURE(vti_is_ok(vti_cur_u8(c, tag)) && (*tag & 0x1fu) != 0x1fu, BAD);
    ENSURE(vti_is_ok(vti_cur_u8(c, &l0)), BAD);
    if (l0 < 0x80) {
        n = l0;
    } else {
        unsigned k = l0 & 0x7fu;
        ENSURE(k >= 1 && k <= 3, BAD);
        for (unsigned i = 0; i < k; i++) {
            uint8_t b;
            ENSURE(vti_is_ok(vti_cur_u8(c, &b)), BAD);
            n = (n << 8) | b;
        }
        ENSURE(n >= 0x80, BAD); /* long form only when needed */
    }
    ENSURE(vti_is_ok(vti_cur_sub(c, n, val)), BAD);
    return vti_ok();
}

/* FWID ::= SEQUENCE { hashAlg OBJECT IDENTIFIER, digest OCTET STRING (48) } */
static vt_res fwid_seq(struct vt_cur *seq, const uint8_t **fwid)
{
    uint8_t tag;
    struct vt_cur oid, dig;
    GUARD(tlv(seq, &tag, &oid));
    ENSURE(tag == 0x06 && vti_cur_left(&oid) > 0, BAD);
    GUARD(tlv(seq, &tag, &dig));
    ENSURE(tag == 0x04 && vti_cur_left(&dig) == VT_DICE_FWID_LEN, BAD);
    ENSURE(vti_cur_left(seq) == 0, BAD);
    *fwid = dig.p;
    return vti_ok();
}

/* HOPPER: the last element of the outer SEQUENCE is one FWID. */
static vt_res hopper(struct vt_cur *body, const uint8_t **fwid)
{
    uint8_t tag = 0;
    struct vt_cur el = { 0 };
    ENSURE(vti_cur_left(body) > 0, BAD);
    while (vti_cur_left(body) > 0)
        GUARD(tlv(body, &tag, &el));
    ENSURE(tag == 0x30, BAD);
    return fwid_seq(&el, fwid);
}

/* BLACKWELL: DiceTcbInfo; fwids [6] (constructed, 0xA6) holds SEQUENCE OF FWID: take [0]. */
static vt_res blackwell(struct vt_cur *body, const uint8_t **fwid)
{
    while (vti_cur_left(body) > 0) {
        uint8_t tag;
        struct vt_cur el, first;
        GUARD(tlv(body, &tag, &el));
        if (tag != 0xa6)
            continue;
        GUARD(tlv(&el, &tag, &first));
        ENSURE(tag == 0x30, BAD);
        return fwid_seq(&first, fwid);
    }
    return VT_FAIL(BAD);
}

vt_res vti_dice_fwid(const uint8_t *value, size_t len, enum vt_dice_shape shape,
                     const uint8_t **fwid)
{
    uint8_t tag;
    struct vt_cur c = vti_cur_init(value, len), body;
    GUARD(tlv(&c, &tag, &body));
    ENSURE(tag == 0x30 && vti_cur_left(&c) == 0, BAD);
    return shape == VT_DICE_HOPPER ? hopper(&body, fwid) : blackwell(&body, fwid);
}
