/* SPDX-License-Identifier: Apache-2.0 */
/*
 * wolf_der.h - a minimal DER reader and writer for the wolfCrypt backend (src/crypto/
 * wolfcrypt.c).
 *
 * Debian's wolfSSL (5.5.4) is built without WOLFSSL_CUSTOM_OID / HAVE_OID_ENCODING, so its
 * certificate generator cannot add arbitrary extensions (the RA-TLS evidence extension
 * 2.23.133.5.4.9) and its certificate parser cannot hand back unknown extensions. The
 * wolfCrypt backend therefore encodes and decodes X.509 / PKCS#8 / SubjectPublicKeyInfo
 * structure itself with these helpers and uses wolfCrypt only for the cryptography.
 *
 * Reader: every read goes through a vt_cur (bounded); DER only (definite, minimal lengths,
 * single-byte tags), lengths capped by the cursor. Writer: struct vt_buf (bounded).
 * Spec: ITU-T X.690 (DER), RFC 5280 (X.509), RFC 5208/5958 (PKCS#8), RFC 5480 (EC SPKI).
 */
#ifndef VT_CRYPTO_WOLF_DER_H
#define VT_CRYPTO_WOLF_DER_H

#include "util/buf.h"
#include "util/cursor.h"

enum {
    VTI_DER_BOOL = 0x01,
    VTI_DER_INT = 0x02,
    VTI_DER_BITSTR = 0x03,
    VTI_DER_OCTSTR = 0x04,
    VTI_DER_NULL = 0x05,
    VTI_DER_OID = 0x06,
    VTI_DER_UTF8 = 0x0c,
    VTI_DER_PRINTABLE = 0x13,
    VTI_DER_IA5 = 0x16,
    VTI_DER_UTCTIME = 0x17,
    VTI_DER_GENTIME = 0x18,
    VTI_DER_SEQ = 0x30,
    VTI_DER_SET = 0x31,
};
#define VTI_DER_CTX(n) ((uint8_t)(0xa0 | (n))) /* [n] constructed, context-specific */

/* One TLV: tag, content cursor, and the whole encoding (tag..end of content). */
struct vti_der_tlv {
    uint8_t tag;
    struct vt_cur body;
    const uint8_t *raw;
    size_t raw_len;
};

/* Read the next TLV (any tag). VT_ERR_CERT_PARSE-style errors are the caller's `err`. */
VT_RESULT vti_der_any(struct vt_cur *c, int err, struct vti_der_tlv *out);
/* Read the next TLV, which must have tag `tag`. */
VT_RESULT vti_der_expect(struct vt_cur *c, uint8_t tag, int err, struct vti_der_tlv *out);
/* The tag of the next TLV, or -1 at the end. */
int vti_der_peek(const struct vt_cur *c);

/* OID content bytes -> dotted text ("1.2.840.10045.2.1"); err on malformed arcs. */
VT_RESULT vti_der_oid_text(const uint8_t *p, size_t n, char *out, size_t outlen, int err);
/* Dotted text -> OID content bytes appended to out. */
VT_RESULT vti_der_oid_from_text(const char *text, struct vt_buf *out);
/* UTCTime / GeneralizedTime (Z form, seconds present) -> Unix seconds. */
VT_RESULT vti_der_time(const struct vti_der_tlv *t, int err, int64_t *out);

/* Writer: append tag, DER length and content. */
VT_RESULT vti_der_put(struct vt_buf *out, uint8_t tag, const void *content, size_t len);
/* Append an INTEGER from unsigned big-endian magnitude (leading zeros stripped, 0x00 added
 * when the top bit is set). */
VT_RESULT vti_der_put_uint(struct vt_buf *out, const uint8_t *be, size_t len);
/* Append an OID given as dotted text. */
VT_RESULT vti_der_put_oid(struct vt_buf *out, const char *text);
/* Append a UTCTime (years 1950..2049) or GeneralizedTime (otherwise). */
VT_RESULT vti_der_put_time(struct vt_buf *out, int64_t t);
/* Wrap the whole of `inner` as one TLV appended to out, then free inner (no wipe: callers
 * wrap only public data with this; secrets use vti_der_put + vti_buf_free). */
VT_RESULT vti_der_wrap(struct vt_buf *out, uint8_t tag, struct vt_buf *inner);

#endif
