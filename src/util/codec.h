/* SPDX-License-Identifier: Apache-2.0 */
/*
 * codec.h - hex, base64 and base64url encoding/decoding, and time parsing/formatting.
 */
#ifndef VT_UTIL_CODEC_H
#define VT_UTIL_CODEC_H

#include <time.h>

#include "util/buf.h"

/* Lower-case hex of n bytes into out (2n+1 bytes, NUL-terminated). */
void vti_hex_encode(const uint8_t *p, size_t n, char *out);
VT_RESULT vti_hex_append(struct vt_buf *b, const uint8_t *p, size_t n);
/* Decode hex text (either case, even length) into out. */
VT_RESULT vti_hex_decode(const char *s, size_t slen, struct vt_buf *out);
/* Decode exactly n bytes of hex into a fixed array. */
VT_RESULT vti_hex_decode_fixed(const char *s, uint8_t *out, size_t n);
/* The same for a span of slen characters that need not be NUL-terminated (slen must be 2n). */
VT_RESULT vti_hex_decode_span(const char *s, size_t slen, uint8_t *out, size_t n);

/* Standard base64 (RFC 4648 section 4) and base64url without padding (section 5). */
VT_RESULT vti_b64_encode(const uint8_t *p, size_t n, bool url, struct vt_buf *out);
/* Accepts padded or unpadded input of the chosen alphabet; no whitespace. */
VT_RESULT vti_b64_decode(const char *s, size_t slen, bool url, struct vt_buf *out);

/* RFC 3339 (e.g. 2025-06-19T12:00:00Z, offsets and fractions allowed) or Unix seconds. */
VT_RESULT vti_time_parse(const char *s, int64_t *out);
/* Format as RFC 3339 UTC "YYYY-MM-DDTHH:MM:SSZ" (out: at least 21 bytes). */
void vti_time_format(int64_t t, char out[32]);
/* days-from-civil based timegm (no locale, no TZ). */
int64_t vti_timegm(int y, int mon, int d, int h, int mi, int s);

#endif
