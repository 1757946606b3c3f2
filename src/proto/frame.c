/* SPDX-License-Identifier: Apache-2.0 */
/*
 * frame.c - 4-byte big-endian length framing over a byte transport (vt_conn or a socket).
 *
 * Trust boundary: the peer announces the length; it is checked against the caller's cap
 * (and refused when 0) before anything is allocated. Outgoing frames are assembled in one
 * buffer that is wiped after the write (requests and replies may carry secrets).
 * Spec: docs/broker.md (framed protocol).
 */
#include "proto/frame.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "util/secmem.h"

uint32_t vtp_frame_len(const uint8_t hdr[VTP_FRAME_HDR])
{
    return (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 | (uint32_t)hdr[2] << 8 | hdr[3];
}

void vtp_frame_hdr(uint32_t len, uint8_t hdr[VTP_FRAME_HDR])
{
    hdr[0] = (uint8_t)(len >> 24);
    hdr[1] = (uint8_t)(len >> 16);
    hdr[2] = (uint8_t)(len >> 8);
    hdr[3] = (uint8_t)len;
}

/* ---- plain sockets ---------------------------------------------------------------------- */

static int fd_read(void *arg, void *p, size_t n, size_t *got)
{
    *got = 0;
    for (;;) {
        ssize_t k = recv(*(int *)arg, p, n, 0);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return VT_ERR_IO;
        *got = (size_t)k;
        return 0;
    }
}

static int fd_write(void *arg, const void *p, size_t n)
{
    size_t off = 0;
    while (off < n) {
        ssize_t k = send(*(int *)arg, (const uint8_t *)p + off, n - off, MSG_NOSIGNAL);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return VT_ERR_IO;
        off += (size_t)k;
    }
    return 0;
}

struct vtp_io vtp_io_fd(int *fd)
{
    return (struct vtp_io){ .read = fd_read, .write = fd_write, .arg = fd };
}

/* ---- frames ------------------------------------------------------------------------------ */

vt_res vtp_read_full(const struct vtp_io *io, void *p, size_t n)
{
    size_t off = 0;
    while (off < n) {
        size_t got = 0;
        int err = io->read(io->arg, (uint8_t *)p + off, n - off, &got);
        ENSURE(err == 0, err);
        ENSURE(got > 0, VT_ERR_CLOSED);
        off += got;
    }
    return vti_ok();
}

vt_res vtp_frame_read(const struct vtp_io *io, size_t max, struct vt_buf *out, uint32_t *ret_len)
{
    uint8_t hdr[VTP_FRAME_HDR];
    GUARD(vtp_read_full(io, hdr, sizeof(hdr)));
    uint32_t len = vtp_frame_len(hdr);
    if (ret_len)
        *ret_len = len;
    ENSURE(len > 0 && len <= max, VT_ERR_BROKER_REQUEST_TOO_LARGE);
    size_t start = out->len;
    out->max = start + (size_t)len + 1;
    GUARD(vti_buf_reserve(out, len));
    vt_res r = vtp_read_full(io, out->p + start, len);
    if (r.err)
        return r;
    out->len = start + len;
    out->p[out->len] = 0;
    return vti_ok();
}

vt_res vtp_frame_write(const struct vtp_io *io, const void *p, size_t n, size_t max)
{
    ENSURE(n <= max && n <= UINT32_MAX, VT_ERR_TOO_LARGE);
    uint8_t *m = malloc(n + VTP_FRAME_HDR);
    ENSURE(m, VT_ERR_NOMEM);
    vtp_frame_hdr((uint32_t)n, m);
    if (n)
        memcpy(m + VTP_FRAME_HDR, p, n);
    int err = io->write(io->arg, m, n + VTP_FRAME_HDR);
    vti_memzero(m, n + VTP_FRAME_HDR);
    free(m);
    ENSURE(err == 0, err);
    return vti_ok();
}

vt_res vtp_sock_read_frame(int fd, size_t max, struct vt_buf *out)
{
    struct vtp_io io = vtp_io_fd(&fd);
    return vtp_frame_read(&io, max, out, NULL);
}

vt_res vtp_sock_write_frame(int fd, const char *s)
{
    ENSURE(s, VT_ERR_NOMEM);
    size_t n = strlen(s);
    ENSURE(n <= VTP_MAX_REPLY, VT_ERR_BROKER_REPLY_TOO_LARGE);
    struct vtp_io io = vtp_io_fd(&fd);
    return vtp_frame_write(&io, s, n, VTP_MAX_REPLY);
}
