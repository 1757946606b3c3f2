/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cbor.h - a bounded CBOR (RFC 8949) decoder on struct vt_cur and a tiny encoder on vt_buf.
 *
 * Decoder rules (untrusted input): definite lengths only (indefinite -> VT_ERR_CBOR_INDEFINITE),
 * nesting depth at most VTI_CBOR_MAX_DEPTH (arrays, maps and tags each add one level; one
 * more fails with VT_ERR_CBOR_DEPTH), at most VTI_CBOR_MAX_COUNT elements per array/map
 * (VT_ERR_TOO_LARGE), reserved additional-info values 28..30 and non-minimal simple values
 * are malformed (VT_ERR_CBOR), truncation is VT_ERR_TRUNCATED. Byte and text strings are
 * zero-copy views into the input, so callers can hash exactly the bytes they parsed.
 */
#ifndef VT_CERT_CBOR_H
#define VT_CERT_CBOR_H

#include "util/buf.h"
#include "util/cursor.h"

#define VTI_CBOR_MAX_DEPTH 16
#define VTI_CBOR_MAX_COUNT 4096

enum vti_cbor_major {
    VTI_CBOR_UINT = 0,
    VTI_CBOR_NINT = 1,
    VTI_CBOR_BSTR = 2,
    VTI_CBOR_TSTR = 3,
    VTI_CBOR_ARRAY = 4,
    VTI_CBOR_MAP = 5,
    VTI_CBOR_TAG = 6,
    VTI_CBOR_SIMPLE = 7, /* simple values and floats */
};

struct vti_cbor_item {
    enum vti_cbor_major major;
    uint64_t val;          /* uint value, -1-n for NINT, length, element/pair count, tag, simple */
    const uint8_t *p;      /* BSTR/TSTR: the content (view into the input) */
    size_t len;            /* BSTR/TSTR: content length */
};

/* Read one item head (and, for strings, the content view). Containers and tags are NOT
 * descended into: the caller reads their elements next. */
VT_RESULT vti_cbor_head(struct vt_cur *c, struct vti_cbor_item *it);
/* Read a complete item including all nested content; depth is the current nesting level
 * (0 at top). The item's raw encoding is [start, c->off) of the cursor. */
VT_RESULT vti_cbor_skip(struct vt_cur *c, unsigned depth);
/* The whole buffer is exactly one well-formed item within the caps. */
VT_RESULT vti_cbor_check(const uint8_t *p, size_t len);

/* Typed reads for the common cases (wrong type: VT_ERR_CBOR). */
VT_RESULT vti_cbor_uint(struct vt_cur *c, uint64_t *v);
VT_RESULT vti_cbor_bstr(struct vt_cur *c, const uint8_t **p, size_t *len);
VT_RESULT vti_cbor_tstr(struct vt_cur *c, const uint8_t **p, size_t *len);
VT_RESULT vti_cbor_array(struct vt_cur *c, uint64_t *n);
VT_RESULT vti_cbor_map(struct vt_cur *c, uint64_t *n);
VT_RESULT vti_cbor_tag(struct vt_cur *c, uint64_t *tag);

/* Encoder: shortest-form heads, definite lengths. */
VT_RESULT vti_cbor_put_head(struct vt_buf *b, enum vti_cbor_major major, uint64_t val);
VT_RESULT vti_cbor_put_uint(struct vt_buf *b, uint64_t v);
VT_RESULT vti_cbor_put_bstr(struct vt_buf *b, const uint8_t *p, size_t n);
VT_RESULT vti_cbor_put_tstr(struct vt_buf *b, const char *s);

#endif
