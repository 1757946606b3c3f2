/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tls.h - the TLS-wrapper interface (instance kind VT_KIND_TLS).
 *
 * A TLS backend (OpenSSL here, wolfSSL later) provides TLS 1.3 only, with certificates, over a
 * connected stream socket. It does NO attestation and NO chain validation of its own: its
 * certificate callback accepts the peer's (self-signed) chain at library level and hands the
 * peer's leaf certificate (DER) to the ONE verification hook the core gives it
 * (vti_ctx_verify_peer in src/api/ctx.c), which dispatches to the RA-TLS verifier and the
 * user's callback. So a new TLS backend reuses the verifier dispatch unchanged, and a new
 * TEE never touches TLS code.
 *
 * Contract for every backend:
 *  - TLS 1.3 only; no session resumption (no tickets, no session cache): every handshake
 *    presents and verifies a certificate, so every connection has a verified peer report.
 *  - When verify_peer is set, the peer must send a certificate (a server requests one and
 *    fails with VT_ERR_TLS_NO_PEER_CERT if none comes), and the hook is called exactly once
 *    per handshake, with the leaf, before the handshake completes; if it returns non-zero
 *    the handshake fails (the backend sends a fatal alert) and the backend returns
 *    VT_ERR_TLS_HANDSHAKE (the core then reports the hook's precise code).
 *  - When verify_peer is not set, no certificate is requested and the hook is not called.
 *  - Errors are codes from include/veritee/errors/tls.def (the same whichever backend), with
 *    a short human-readable detail (library reason text, never key material).
 *  - Writes never raise SIGPIPE. Blocking semantics follow the socket.
 *  - Private-key bytes handed in are not kept by the backend beyond its own key object,
 *    which the library frees (and wipes) with the context.
 */
#ifndef VT_TLS_TLS_H
#define VT_TLS_TLS_H

#include <sys/types.h>

#include "core/instance.h"
#include "util/buf.h"

/* Length of the detail text buffers the ops fill. */
#define VTI_TLS_DETAIL_MAX 200

struct vti_tls_ctx;  /* backend-defined */
struct vti_tls_conn; /* backend-defined */

/* The core's verification hook: arg is the per-connection argument given to conn_new.
 * Returns VT_OK to accept the peer, else the vt_err code of the refusal. */
typedef int (*vti_tls_verify_hook)(void *arg, const uint8_t *leaf_der, size_t len);

struct vti_tls_ctx_params {
    enum vt_role role;
    bool verify_peer;           /* client: always; server: mutual */
    const uint8_t *cert_der;    /* own leaf certificate */
    size_t cert_len;
    const uint8_t *key_der;     /* own private key, PKCS#8 DER (secret; not kept) */
    size_t key_len;
    vti_tls_verify_hook verify; /* required when verify_peer */
};

struct vt_tls_ops {
    struct vt_instance_hdr hdr; /* kind VT_KIND_TLS */
    /* A context for many connections (may be used by many threads at once). */
    VT_RESULT (*ctx_new)(const struct vti_tls_ctx_params *p, struct vti_tls_ctx **out);
    void (*ctx_free)(struct vti_tls_ctx *c);
    /* A connection on a connected socket (not owned); hook_arg goes to the verify hook. */
    VT_RESULT (*conn_new)(struct vti_tls_ctx *c, int fd, void *hook_arg,
                          struct vti_tls_conn **out);
    /* Run the handshake to completion. */
    VT_RESULT (*handshake)(struct vti_tls_conn *c, char detail[VTI_TLS_DETAIL_MAX]);
    /* Read up to len bytes; *got == 0 with success means the peer sent close_notify.
     * An EOF without close_notify is VT_ERR_CLOSED. */
    VT_RESULT (*read)(struct vti_tls_conn *c, void *buf, size_t len, size_t *got,
                      char detail[VTI_TLS_DETAIL_MAX]);
    /* Write all len bytes. */
    VT_RESULT (*write)(struct vti_tls_conn *c, const void *buf, size_t len,
                       char detail[VTI_TLS_DETAIL_MAX]);
    /* Send close_notify (does not wait for the peer's; reading stays possible). */
    VT_RESULT (*shutdown)(struct vti_tls_conn *c, char detail[VTI_TLS_DETAIL_MAX]);
    void (*conn_free)(struct vti_tls_conn *c);
    /* Append the peer's leaf certificate (DER) to out; VT_ERR_TLS_NO_PEER_CERT if none. */
    VT_RESULT (*peer_cert)(struct vti_tls_conn *c, struct vt_buf *out);
};

/* The named TLS backend, or the highest-priority one when name is NULL. */
VT_RESULT vti_tls_get(const char *name, const struct vt_tls_ops **out);

/* ---- helpers shared by the backends (tls.c); nothing library-specific ---------------------- */

/* The checks every backend's ctx_new makes on its parameters (role, hook, identity sizes). */
VT_RESULT vti_tls_params_check(const struct vti_tls_ctx_params *p);
/* send(MSG_NOSIGNAL) (write() when fd is not a socket), retried on EINTR; like send() it
 * returns the byte count or -1 with errno set. Never raises SIGPIPE. */
ssize_t vti_tls_sock_send(int fd, const void *buf, size_t len);
/* recv() (read() when fd is not a socket), retried on EINTR; 0 is end of stream. */
ssize_t vti_tls_sock_recv(int fd, void *buf, size_t len);
/* Which of the two calls above last would have blocked on this thread (1 recv, 2 send, 0 none
 * since the last call of this function), and forget it: after an op returned
 * VT_ERR_TLS_WANT_IO, the direction to wait for (backends that use these helpers). */
int vti_tls_take_would_block(void);

/* Failures every backend reports with the same code and detail text. op_err is the code of a
 * generic failure of the operation (VT_ERR_TLS_HANDSHAKE, _READ or _WRITE). */
VT_RESULT vti_tls_fail_want_io(char detail[VTI_TLS_DETAIL_MAX]);
/* The peer sent close_notify where data or a handshake message was expected. */
VT_RESULT vti_tls_fail_peer_closed(int op_err, char detail[VTI_TLS_DETAIL_MAX]);
/* The verification hook refused the peer's certificate. */
VT_RESULT vti_tls_fail_refused(int op_err, char detail[VTI_TLS_DETAIL_MAX]);
/* The socket failed: end of stream (eof or err_no 0), reset or broken pipe are the peer going
 * away (VT_ERR_CLOSED after the handshake), anything else a socket error. */
VT_RESULT vti_tls_fail_socket(int op_err, bool eof, int err_no, char detail[VTI_TLS_DETAIL_MAX]);
/* After a completed handshake: fail closed (VT_ERR_TLS_NO_PEER_CERT) if verification was
 * required but the hook never ran or refused. */
VT_RESULT vti_tls_check_verified(bool verify_peer, bool hook_called, bool hook_refused,
                                 char detail[VTI_TLS_DETAIL_MAX]);
/* detail = "the peer aborted with an alert (<alert>)". */
void vti_tls_alert_detail(char detail[VTI_TLS_DETAIL_MAX], const char *alert);

#endif
