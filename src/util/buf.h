/* SPDX-License-Identifier: Apache-2.0 */
/*
 * buf.h - a growable byte buffer with a hard ceiling (the bounded writer).
 *
 * Every vt_buf has a `max`: appends past it fail with VT_ERR_OVERFLOW instead of growing
 * without bound on attacker-driven input. vti_buf_free() wipes before freeing, so a buffer may
 * hold secrets; vti_buf_free_nowipe() is the loud name for the cheaper path.
 */
#ifndef VT_UTIL_BUF_H
#define VT_UTIL_BUF_H

#include "util/result.h"

#define VT_BUF_DEFAULT_MAX ((size_t)64 << 20)

struct vt_buf {
    uint8_t *p;
    size_t len;
    size_t cap;
    size_t max; /* 0 means VT_BUF_DEFAULT_MAX */
};

#define VT_BUF_INIT { NULL, 0, 0, 0 }

VT_RESULT vti_buf_reserve(struct vt_buf *b, size_t extra);
VT_RESULT vti_buf_append(struct vt_buf *b, const void *p, size_t n);
VT_RESULT vti_buf_u8(struct vt_buf *b, uint8_t v);
VT_RESULT vti_buf_u16le(struct vt_buf *b, uint16_t v);
VT_RESULT vti_buf_u32le(struct vt_buf *b, uint32_t v);
VT_RESULT vti_buf_u64le(struct vt_buf *b, uint64_t v);
VT_RESULT vti_buf_zeros(struct vt_buf *b, size_t n);
/* printf-style append of text (no NUL counted in len, but one is kept after the data). */
VT_RESULT vti_buf_printf(struct vt_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append a NUL terminator without counting it in len. */
VT_RESULT vti_buf_cstr(struct vt_buf *b);
void vti_buf_free(struct vt_buf *b);
void vti_buf_free_nowipe(struct vt_buf *b);
/* Take the contents (caller frees with free()); b is reset. */
uint8_t *vti_buf_steal(struct vt_buf *b, size_t *len);

/* Read a whole file (at most max bytes, else VT_ERR_TOO_LARGE). "-" reads stdin. */
VT_RESULT vti_file_read(const char *path, size_t max, struct vt_buf *out);
/* Write a file atomically (temp file + rename), with the given mode. */
VT_RESULT vti_file_write(const char *path, const void *p, size_t n, unsigned mode);

#endif
