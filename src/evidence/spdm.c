/* SPDX-License-Identifier: Apache-2.0 */
/*
 * spdm.c - parser of an SPDM 1.1 GET_MEASUREMENTS request + MEASUREMENTS response (pure,
 * bounded; see spdm.h).
 *
 * Owns: the byte layout of the two messages, the DMTF measurement blocks and NVIDIA's opaque
 * data items, and their strict validation.
 * Trust boundary: the input is attacker-controlled (a GPU report relayed by the guest). Every
 * byte is read through one vt_cur; every length field becomes a sub-cursor that must be
 * consumed exactly. Nothing here is trusted until the verifier has checked the signature over
 * signed_bytes, which are exactly the bytes the fields were read from.
 * Spec: DMTF DSP0274 1.1, tables "GET_MEASUREMENTS request message format", "MEASUREMENTS
 * response message format", "Measurement block format", "DMTF measurement specification
 * format"; NVIDIA opaque data: [DataType u16le | DataSize u16le | Data] items.
 */
#include "evidence/spdm.h"

#include <stdio.h>
#include <string.h>

#include "util/cursor.h"

/* Any cursor shortfall in an SPDM message is a truncated message. */
#define RD(x) ENSURE(vti_is_ok(x), VT_ERR_SPDM_TRUNCATED)

/* DSP0274 1.1 "GET_MEASUREMENTS request message format" (signature requested: 37 bytes). */
static vt_res parse_request(struct vt_cur *c, struct vt_spdm_report *out)
{
    uint8_t code;
    RD(vti_cur_view(c, 0, &out->request));
    RD(vti_cur_u8(c, &out->version));
    ENSURE(out->version == VT_SPDM_VERSION_11, VT_ERR_SPDM_REQ_VERSION);
    RD(vti_cur_u8(c, &code));
    ENSURE(code == VT_SPDM_GET_MEASUREMENTS, VT_ERR_SPDM_REQ_CODE);
    RD(vti_cur_u8(c, &out->req_param1));
    ENSURE(out->req_param1 & 1u, VT_ERR_SPDM_REQ_NO_SIGNATURE);
    RD(vti_cur_u8(c, &out->req_index));
    RD(vti_cur_view(c, VT_SPDM_NONCE_LEN, &out->nonce));
    RD(vti_cur_u8(c, &out->slot));
    ENSURE(out->slot <= VT_SPDM_MAX_SLOT, VT_ERR_SPDM_REQ_SLOT);
    return vti_ok();
}

/* DSP0274 "Measurement block format" + "DMTF measurement specification format". */
static vt_res parse_block(struct vt_cur *c, uint8_t prev, struct vt_spdm_block *b)
{
    uint8_t spec;
    uint16_t size, vsize;
    struct vt_cur m;
    RD(vti_cur_u8(c, &b->index));
    RD(vti_cur_u8(c, &spec));
    RD(vti_cur_u16le(c, &size));
    ENSURE(b->index != 0 && b->index != VT_SPDM_ALL_BLOCKS && spec == 0x01, VT_ERR_SPDM_BLOCK);
    ENSURE(b->index > prev, VT_ERR_SPDM_BLOCK_ORDER);
    ENSURE(vti_is_ok(vti_cur_sub(c, size, &m)), VT_ERR_SPDM_RECORD);
    ENSURE(vti_is_ok(vti_cur_u8(&m, &b->value_type)), VT_ERR_SPDM_BLOCK);
    ENSURE(vti_is_ok(vti_cur_u16le(&m, &vsize)), VT_ERR_SPDM_BLOCK);
    ENSURE(vsize > 0 && vsize == vti_cur_left(&m), VT_ERR_SPDM_BLOCK);
    ENSURE((b->value_type & 0x80u) || vsize == VT_SPDM_DIGEST_LEN, VT_ERR_SPDM_DIGEST_SIZE);
    b->value_len = vsize;
    RD(vti_cur_view(&m, vsize, &b->value));
    return vti_ok();
}

/* MeasurementRecord: NumberOfBlocks blocks filling exactly MeasurementRecordLength bytes. */
static vt_res parse_record(struct vt_cur *c, struct vt_spdm_report *out)
{
    const uint8_t *l3;
    struct vt_cur rec;
    RD(vti_cur_u8(c, &out->n_blocks));
    RD(vti_cur_view(c, 3, &l3));
    out->record_len = (uint32_t)l3[0] | ((uint32_t)l3[1] << 8) | ((uint32_t)l3[2] << 16);
    RD(vti_cur_sub(c, out->record_len, &rec));
    uint8_t prev = 0;
    for (unsigned i = 0; i < out->n_blocks; i++) {
        ENSURE(vti_cur_left(&rec) > 0, VT_ERR_SPDM_RECORD);
        GUARD(parse_block(&rec, prev, &out->blocks[i]));
        prev = out->blocks[i].index;
    }
    ENSURE(vti_cur_left(&rec) == 0, VT_ERR_SPDM_RECORD);
    /* param2 of the request: 0 asks for the count only, 0xFF for every block, else one */
    if (out->req_index == 0)
        ENSURE(out->n_blocks == 0, VT_ERR_SPDM_INDEX);
    else if (out->req_index != VT_SPDM_ALL_BLOCKS)
        ENSURE(out->n_blocks == 1 && out->blocks[0].index == out->req_index, VT_ERR_SPDM_INDEX);
    else
        ENSURE(out->n_blocks > 0, VT_ERR_SPDM_INDEX);
    return vti_ok();
}

static bool known_type(uint16_t t)
{
    return (t >= VT_SPDM_OP_CERT_ISSUER_NAME && t <= VT_SPDM_OP_LOCK_SWITCH_STATUS) ||
           (t >= VT_SPDM_OP_GPU_LINK_CONN && t <= VT_SPDM_OP_FEATURE_FLAG);
}

/* Item sizes fixed by the format: FWID (SHA-384), VBIOS version, u32 list. */
static bool size_ok(uint16_t t, uint16_t len)
{
    switch (t) {
    case VT_SPDM_OP_FWID: return len == VT_SPDM_FWID_LEN;
    case VT_SPDM_OP_VBIOS_VERSION: return len == VT_SPDM_VBIOS_LEN;
    case VT_SPDM_OP_MSRSCNT: return len % 4 == 0;
    default: return true;
    }
}

/* NVIDIA opaque data: items fill the opaque data exactly; each type known and seen once. A
 * truncated final item (header or value past the end) is refused, never ignored. */
static vt_res parse_opaque(struct vt_cur *op, struct vt_spdm_report *out)
{
    uint64_t seen = 0;
    while (vti_cur_left(op) > 0) {
        uint16_t t, n;
        struct vt_spdm_opaque_item *it = &out->items[out->n_opaque];
        ENSURE(vti_cur_left(op) >= 4, VT_ERR_SPDM_OPAQUE);
        RD(vti_cur_u16le(op, &t));
        RD(vti_cur_u16le(op, &n));
        ENSURE(known_type(t), VT_ERR_SPDM_OPAQUE_TYPE);
        ENSURE(!(seen & (1ull << t)), VT_ERR_SPDM_OPAQUE_DUP);
        seen |= 1ull << t;
        ENSURE(n <= vti_cur_left(op) && size_ok(t, n), VT_ERR_SPDM_OPAQUE);
        RD(vti_cur_view(op, n, &it->value));
        it->type = t;
        it->len = n;
        out->n_opaque++; /* distinct known types: at most VT_SPDM_OP_MAX_TYPE */
    }
    return vti_ok();
}

/* DSP0274 1.1 "MEASUREMENTS response message format" (signature present). */
static vt_res parse_response(struct vt_cur *c, struct vt_spdm_report *out)
{
    uint8_t version, code;
    struct vt_cur op;
    RD(vti_cur_u8(c, &version));
    ENSURE(version == out->version, VT_ERR_SPDM_RSP_VERSION);
    RD(vti_cur_u8(c, &code));
    ENSURE(code == VT_SPDM_MEASUREMENTS, VT_ERR_SPDM_RSP_CODE);
    RD(vti_cur_u8(c, &out->rsp_param1));
    RD(vti_cur_u8(c, &out->rsp_param2));
    GUARD(parse_record(c, out));
    RD(vti_cur_view(c, VT_SPDM_NONCE_LEN, &out->rsp_nonce));
    RD(vti_cur_u16le(c, &out->opaque_len));
    RD(vti_cur_sub(c, out->opaque_len, &op));
    out->opaque = op.p;
    GUARD(parse_opaque(&op, out));
    out->signed_len = c->off;
    RD(vti_cur_view(c, VT_SPDM_SIG_LEN, &out->signature));
    out->trailing = vti_cur_left(c);
    ENSURE(out->trailing == 0, VT_ERR_SPDM_TRAILING);
    return vti_ok();
}

vt_res vti_spdm_parse(const uint8_t *p, size_t len, struct vt_spdm_report *out)
{
    memset(out, 0, sizeof(*out));
    ENSURE(p || len == 0, VT_ERR_INVALID_ARG);
    ENSURE(len <= VT_SPDM_MAX_REPORT, VT_ERR_SPDM_TOO_LARGE);
    struct vt_cur c = vti_cur_init(p, len);
    GUARD(parse_request(&c, out));
    out->signed_bytes = p;
    return parse_response(&c, out);
}

const struct vt_spdm_opaque_item *vti_spdm_opaque_find(const struct vt_spdm_report *r,
                                                       uint16_t type)
{
    for (size_t i = 0; i < r->n_opaque; i++)
        if (r->items[i].type == type)
            return &r->items[i];
    return NULL;
}

const struct vt_spdm_block *vti_spdm_block_find(const struct vt_spdm_report *r, uint8_t index)
{
    for (unsigned i = 0; i < r->n_blocks; i++)
        if (r->blocks[i].index == index)
            return &r->blocks[i];
    return NULL;
}

bool vti_spdm_driver_version(const struct vt_spdm_opaque_item *it, char out[64])
{
    out[0] = '\0';
    if (!it)
        return false;
    size_t n = 0;
    while (n < it->len && it->value[n] != 0)
        n++;
    for (size_t i = n; i < it->len; i++) /* only NUL padding after the text */
        if (it->value[i] != 0)
            return false;
    if (n == 0 || n >= 64)
        return false;
    for (size_t i = 0; i < n; i++)
        if (it->value[i] < 0x20 || it->value[i] > 0x7e)
            return false;
    memcpy(out, it->value, n);
    out[n] = '\0';
    return true;
}

bool vti_spdm_vbios_version(const struct vt_spdm_opaque_item *it, char out[64])
{
    out[0] = '\0';
    if (!it || it->len != VT_SPDM_VBIOS_LEN)
        return false;
    /* bytes 0..3 as a little-endian u32 printed byte by byte from the top, then byte 4 */
    const uint8_t *v = it->value;
    snprintf(out, 64, "%02x.%02x.%02x.%02x.%02x", v[3], v[2], v[1], v[0], v[4]);
    return true;
}
