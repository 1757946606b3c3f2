/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cursor.h - the one bounded reader for untrusted bytes.
 *
 * Every parser of attacker-controlled input (quotes, reports, certificates, CBOR, JSON framing,
 * HTTP bodies) reads through a vt_cur. The length arithmetic is written once, here: a read of n
 * bytes succeeds only if n <= len - off, which cannot overflow because off <= len always holds.
 * Length-prefixed fields become sub-cursors that the caller must consume completely
 * (vti_cur_done). Multi-byte integers: TEE formats are little-endian, CBOR and DER big-endian.
 */
#ifndef VT_UTIL_CURSOR_H
#define VT_UTIL_CURSOR_H

#include "util/result.h"

struct vt_cur {
    const uint8_t *p;
    size_t len;
    size_t off; /* invariant: off <= len */
};

static inline struct vt_cur vti_cur_init(const void *p, size_t len)
{
    return (struct vt_cur){ .p = (const uint8_t *)p, .len = p ? len : 0, .off = 0 };
}
static inline size_t vti_cur_left(const struct vt_cur *c) { return c->len - c->off; }
static inline const uint8_t *vti_cur_pos(const struct vt_cur *c) { return c->p + c->off; }

VT_RESULT vti_cur_skip(struct vt_cur *c, size_t n);
/* Point *out at the next n bytes (no copy) and advance. */
VT_RESULT vti_cur_view(struct vt_cur *c, size_t n, const uint8_t **out);
VT_RESULT vti_cur_copy(struct vt_cur *c, void *out, size_t n);
/* Carve the next n bytes into a sub-cursor and advance past them. */
VT_RESULT vti_cur_sub(struct vt_cur *c, size_t n, struct vt_cur *sub);
VT_RESULT vti_cur_u8(struct vt_cur *c, uint8_t *out);
VT_RESULT vti_cur_u16le(struct vt_cur *c, uint16_t *out);
VT_RESULT vti_cur_u32le(struct vt_cur *c, uint32_t *out);
VT_RESULT vti_cur_u64le(struct vt_cur *c, uint64_t *out);
VT_RESULT vti_cur_u16be(struct vt_cur *c, uint16_t *out);
VT_RESULT vti_cur_u32be(struct vt_cur *c, uint32_t *out);
VT_RESULT vti_cur_u64be(struct vt_cur *c, uint64_t *out);
/* The remaining bytes must all be zero (reserved fields). err is returned otherwise. */
VT_RESULT vti_cur_zeros(struct vt_cur *c, size_t n, int err);
/* Error VT_ERR_TRAILING_DATA if any byte is left. */
VT_RESULT vti_cur_done(const struct vt_cur *c);

/* Little-endian loads from a buffer already bounds-checked by the caller (no cursor). */
static inline uint16_t vti_le16_unsafe(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static inline uint32_t vti_le32_unsafe(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static inline uint64_t vti_le64_unsafe(const uint8_t *p)
{
    return (uint64_t)vti_le32_unsafe(p) | ((uint64_t)vti_le32_unsafe(p + 4) << 32);
}

#endif
