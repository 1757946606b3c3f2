/* SPDX-License-Identifier: Apache-2.0 */
/*
 * frame.h - the framing of the broker's protocols: each message is a 4-byte big-endian
 * length followed by that many bytes (UTF-8 JSON). Spoken by agents over attested TLS and by
 * `veritee admin` on the broker's Unix socket (docs/broker.md).
 *
 * Frames move over a small byte transport (struct vtp_io: a read and a write callback), so
 * the same code serves a vt_conn (attested TLS) and a plain socket (vtp_io_fd). Trust
 * boundary: the announced length is untrusted: it is bounded by the caller's cap before any
 * allocation, and a length of 0 is refused.
 */
#ifndef VT_PROTO_FRAME_H
#define VT_PROTO_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "util/result.h"

#define VTP_FRAME_HDR 4
#define VTP_MAX_REQUEST ((size_t)64 * 1024)     /* agent requests */
#define VTP_MAX_ADMIN_REQUEST ((size_t)4 << 20) /* admin requests (carry secrets, policies) */
#define VTP_MAX_REPLY ((size_t)8 << 20)
#define VTP_MAX_SECRET ((size_t)1 << 20)

/* Length of a frame from its header (no limit applied). */
uint32_t vtp_frame_len(const uint8_t hdr[VTP_FRAME_HDR]);
void vtp_frame_hdr(uint32_t len, uint8_t hdr[VTP_FRAME_HDR]);

/* A byte transport. read: 0 with *got > 0 bytes read, 0 with *got == 0 at the end of the
 * stream, or an error code (VT_ERR_*). write: 0 when all n bytes were sent, else an error
 * code. The shapes are those of vt_conn_read / vt_conn_write (with arg as the vt_conn). */
struct vtp_io {
    int (*read)(void *arg, void *p, size_t n, size_t *got);
    int (*write)(void *arg, const void *p, size_t n);
    void *arg;
};

/* A transport over a plain socket *fd (recv/send with MSG_NOSIGNAL, EINTR retried; errors
 * VT_ERR_IO). fd must outlive the returned struct. */
struct vtp_io vtp_io_fd(int *fd);

/* Read exactly n bytes: VT_ERR_CLOSED if the stream ends first, else the transport's error. */
VT_RESULT vtp_read_full(const struct vtp_io *io, void *p, size_t n);

/* Read one frame of 1..max bytes into out (NUL-terminated; out->len is the frame length).
 * ret_len (may be NULL) receives the announced length, also when it is refused.
 * Errors: VT_ERR_BROKER_REQUEST_TOO_LARGE (length 0 or above max), VT_ERR_CLOSED, the
 * transport's error, VT_ERR_NOMEM. */
VT_RESULT vtp_frame_read(const struct vtp_io *io, size_t max, struct vt_buf *out,
                         uint32_t *ret_len);
/* Write p[0..n) as one frame in one transport write (one TLS record where it fits); the copy
 * is wiped (frames may carry secrets). Errors: VT_ERR_TOO_LARGE (n > max or above 2^32-1),
 * the transport's error. */
VT_RESULT vtp_frame_write(const struct vtp_io *io, const void *p, size_t n, size_t max);

/* Frame I/O on a plain socket (admin): read one frame of at most max bytes (NUL-terminated
 * in out); write one frame of at most VTP_MAX_REPLY bytes (VT_ERR_BROKER_REPLY_TOO_LARGE). */
VT_RESULT vtp_sock_read_frame(int fd, size_t max, struct vt_buf *out);
VT_RESULT vtp_sock_write_frame(int fd, const char *s);

#endif
