/* SPDX-License-Identifier: Apache-2.0 */
/*
 * buf.c - bounded growable buffer and whole-file I/O.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/secmem.h"

vt_res vti_buf_reserve(struct vt_buf *b, size_t extra)
{
    size_t max = b->max ? b->max : VT_BUF_DEFAULT_MAX;
    ENSURE(b->len <= max && extra <= max - b->len, VT_ERR_OVERFLOW);
    size_t need = b->len + extra + 1; /* room for a NUL */
    if (need <= b->cap)
        return vti_ok();
    size_t ncap = b->cap ? b->cap : 64;
    while (ncap < need)
        ncap = ncap > SIZE_MAX / 2 ? need : ncap * 2;
    uint8_t *np = malloc(ncap);
    ENSURE(np, VT_ERR_NOMEM);
    if (b->p) {
        memcpy(np, b->p, b->len);
        vti_memzero(b->p, b->cap);
        free(b->p);
    }
    b->p = np;
    b->cap = ncap;
    return vti_ok();
}

vt_res vti_buf_append(struct vt_buf *b, const void *p, size_t n)
{
    GUARD(vti_buf_reserve(b, n));
    if (n)
        memcpy(b->p + b->len, p, n);
    b->len += n;
    b->p[b->len] = 0;
    return vti_ok();
}

vt_res vti_buf_u8(struct vt_buf *b, uint8_t v) { return vti_buf_append(b, &v, 1); }

vt_res vti_buf_u16le(struct vt_buf *b, uint16_t v)
{
    uint8_t t[2] = { (uint8_t)v, (uint8_t)(v >> 8) };
    return vti_buf_append(b, t, 2);
}

vt_res vti_buf_u32le(struct vt_buf *b, uint32_t v)
{
    uint8_t t[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };
    return vti_buf_append(b, t, 4);
}

vt_res vti_buf_u64le(struct vt_buf *b, uint64_t v)
{
    GUARD(vti_buf_u32le(b, (uint32_t)v));
    return vti_buf_u32le(b, (uint32_t)(v >> 32));
}

vt_res vti_buf_zeros(struct vt_buf *b, size_t n)
{
    GUARD(vti_buf_reserve(b, n));
    memset(b->p + b->len, 0, n);
    b->len += n;
    b->p[b->len] = 0;
    return vti_ok();
}

vt_res vti_buf_printf(struct vt_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    ENSURE(n >= 0, VT_ERR_INTERNAL);
    GUARD(vti_buf_reserve(b, (size_t)n));
    va_start(ap, fmt);
    vsnprintf((char *)b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return vti_ok();
}

vt_res vti_buf_cstr(struct vt_buf *b)
{
    GUARD(vti_buf_reserve(b, 0));
    b->p[b->len] = 0;
    return vti_ok();
}

void vti_buf_free(struct vt_buf *b)
{
    if (b->p) {
        vti_memzero(b->p, b->cap);
        free(b->p);
    }
    b->p = NULL;
    b->len = b->cap = 0;
}

void vti_buf_free_nowipe(struct vt_buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

uint8_t *vti_buf_steal(struct vt_buf *b, size_t *len)
{
    uint8_t *p = b->p;
    if (len)
        *len = b->len;
    b->p = NULL;
    b->len = b->cap = 0;
    return p;
}

vt_res vti_file_read(const char *path, size_t max, struct vt_buf *out)
{
    ENSURE(path, VT_ERR_INVALID_ARG);
    int fd = strcmp(path, "-") == 0 ? dup(0) : open(path, O_RDONLY | O_CLOEXEC);
    ENSURE(fd >= 0, errno == ENOENT ? VT_ERR_NOT_FOUND : VT_ERR_IO);
    vt_res r = vti_ok();
    out->max = max + 1;
    for (;;) {
        /* Read in chunks of up to 4 KiB, never reserving past max + 1 (one byte past the
         * limit is how an oversized file is detected). */
        size_t room = out->max - out->len;
        GUARD_GOTO(vti_buf_reserve(out, room < 4096 ? room : 4096), r, done);
        ssize_t n = read(fd, out->p + out->len, out->cap - out->len - 1);
        if (n < 0 && errno == EINTR)
            continue;
        ENSURE_GOTO(n >= 0, VT_ERR_IO, r, done);
        if (n == 0)
            break;
        out->len += (size_t)n;
        ENSURE_GOTO(out->len <= max, VT_ERR_TOO_LARGE, r, done);
    }
    out->p[out->len] = 0;
done:
    if (r.err == VT_ERR_OVERFLOW)
        r = VT_FAIL(VT_ERR_TOO_LARGE);
    close(fd);
    return r;
}

vt_res vti_file_write(const char *path, const void *p, size_t n, unsigned mode)
{
    char tmp[4096];
    /* A unique temporary name (mkstemp): safe when threads or processes write the same path. */
    int k = snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", path);
    ENSURE(k > 0 && (size_t)k < sizeof(tmp), VT_ERR_INVALID_ARG);
    int fd = mkostemp(tmp, O_CLOEXEC);
    ENSURE(fd >= 0, VT_ERR_IO);
    const uint8_t *q = p;
    size_t left = n;
    while (left) {
        ssize_t w = write(fd, q, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            close(fd);
            unlink(tmp);
            return VT_FAIL(VT_ERR_IO);
        }
        q += w;
        left -= (size_t)w;
    }
    if (fchmod(fd, (mode_t)mode) != 0 || fsync(fd) != 0 || close(fd) != 0) {
        unlink(tmp);
        return VT_FAIL(VT_ERR_IO);
    }
    if (rename(tmp, path) != 0) {
        unlink(tmp);
        return VT_FAIL(VT_ERR_IO);
    }
    return vti_ok();
}
