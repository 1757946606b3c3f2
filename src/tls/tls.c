/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tls.c - backend-independent pieces of the TLS-wrapper tier: backend lookup, the checks and
 * socket I/O every backend does the same way, and the failures they report alike (so the
 * codes and detail texts do not depend on the backend). See tls.h.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tls/tls.h"

/* The direction of the last socket call of this thread that would have blocked (see
 * vti_tls_take_would_block): 0 none, 1 read, 2 write. */
static _Thread_local int last_would_block;

int vti_tls_take_would_block(void)
{
    int w = last_would_block;
    last_would_block = 0;
    return w;
}

vt_res vti_tls_get(const char *name, const struct vt_tls_ops **out)
{
    const struct vt_instance_hdr *h = NULL;
    if (name && *name)
        GUARD(vti_instance_find(VT_KIND_TLS, name, &h));
    else
        GUARD(vti_instance_best(VT_KIND_TLS, &h));
    ENSURE(h->kind == VT_KIND_TLS, VT_ERR_INTERNAL);
    *out = (const struct vt_tls_ops *)h;
    return vti_ok();
}

vt_res vti_tls_params_check(const struct vti_tls_ctx_params *p)
{
    ENSURE(p && (p->role == VT_ROLE_CLIENT || p->role == VT_ROLE_SERVER), VT_ERR_INVALID_ARG);
    ENSURE(!p->verify_peer || p->verify, VT_ERR_INVALID_ARG);
    ENSURE(p->cert_der && p->cert_len > 0 && p->cert_len <= (1u << 24), VT_ERR_INVALID_ARG);
    ENSURE(p->key_der && p->key_len > 0 && p->key_len <= 16384, VT_ERR_INVALID_ARG);
    return vti_ok();
}

ssize_t vti_tls_sock_send(int fd, const void *buf, size_t len)
{
    ssize_t n;
    do {
        n = send(fd, buf, len, MSG_NOSIGNAL);
        if (n < 0 && errno == ENOTSOCK)
            n = write(fd, buf, len);
    } while (n < 0 && errno == EINTR);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        last_would_block = 2;
    return n;
}

ssize_t vti_tls_sock_recv(int fd, void *buf, size_t len)
{
    ssize_t n;
    do {
        n = recv(fd, buf, len, 0);
        if (n < 0 && errno == ENOTSOCK)
            n = read(fd, buf, len);
    } while (n < 0 && errno == EINTR);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        last_would_block = 1;
    return n;
}

vt_res vti_tls_fail_want_io(char detail[VTI_TLS_DETAIL_MAX])
{
    snprintf(detail, VTI_TLS_DETAIL_MAX, "operation would block (socket timeout or non-blocking)");
    return VT_FAIL(VT_ERR_TLS_WANT_IO);
}

vt_res vti_tls_fail_peer_closed(int op_err, char detail[VTI_TLS_DETAIL_MAX])
{
    snprintf(detail, VTI_TLS_DETAIL_MAX, "peer closed the connection");
    return VT_FAIL(op_err == VT_ERR_TLS_READ ? VT_ERR_CLOSED : op_err);
}

vt_res vti_tls_fail_refused(int op_err, char detail[VTI_TLS_DETAIL_MAX])
{
    snprintf(detail, VTI_TLS_DETAIL_MAX, "peer certificate refused");
    return VT_FAIL(op_err);
}

vt_res vti_tls_fail_socket(int op_err, bool eof, int err_no, char detail[VTI_TLS_DETAIL_MAX])
{
    bool hs = op_err == VT_ERR_TLS_HANDSHAKE;
    if (eof || err_no == 0) {
        snprintf(detail, VTI_TLS_DETAIL_MAX, "connection closed by peer %s",
                 hs ? "during the handshake" : "without close_notify");
        return VT_FAIL(hs ? op_err : VT_ERR_CLOSED);
    }
    if (err_no == ECONNRESET || err_no == EPIPE) {
        snprintf(detail, VTI_TLS_DETAIL_MAX, "%s%s", strerror(err_no),
                 hs ? " during the handshake" : "");
        return VT_FAIL(hs ? op_err : VT_ERR_CLOSED);
    }
    snprintf(detail, VTI_TLS_DETAIL_MAX, "socket error: %s", strerror(err_no));
    return VT_FAIL(op_err);
}

vt_res vti_tls_check_verified(bool verify_peer, bool hook_called, bool hook_refused,
                              char detail[VTI_TLS_DETAIL_MAX])
{
    if (verify_peer && (!hook_called || hook_refused)) {
        snprintf(detail, VTI_TLS_DETAIL_MAX, "peer certificate was not verified");
        return VT_FAIL(VT_ERR_TLS_NO_PEER_CERT);
    }
    return vti_ok();
}

void vti_tls_alert_detail(char detail[VTI_TLS_DETAIL_MAX], const char *alert)
{
    snprintf(detail, VTI_TLS_DETAIL_MAX, "the peer aborted with an alert (%.150s)", alert);
}
