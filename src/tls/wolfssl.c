/* SPDX-License-Identifier: Apache-2.0 */
/*
 * wolfssl.c - the "wolfssl" TLS backend (priority 50): TLS 1.3 over a connected socket with
 * wolfSSL (Debian libwolfssl). Same contract as the openssl backend (see tls.h).
 *
 * Trust boundary: everything the peer sends is untrusted. This backend does not judge the
 * peer's certificate. No CA is loaded, so wolfSSL's own chain check always fails with "no
 * signer"; the verify callback (called for every certificate, WOLFSSL_ALWAYS_VERIFY_CB)
 * overrides wolfSSL's verdict for the certificates above the leaf and, for the leaf (depth 0),
 * hands its DER to the core's one verification hook (vti_ctx_verify_peer in api/ctx.c) and
 * returns the hook's verdict: a refusal fails the handshake. wolfSSL still checks the
 * CertificateVerify signature with the leaf's key before the handshake completes.
 *
 * No resumption: no TLS 1.3 tickets are sent or used and the session cache is off. Socket
 * I/O goes through our own callbacks using send(MSG_NOSIGNAL), so a vanished peer never
 * raises SIGPIPE.
 *
 * Spec: RFC 8446 (TLS 1.3).
 */
#include <wolfssl/options.h>
#include <wolfssl/error-ssl.h>
#include <wolfssl/ssl.h>
#include <wolfssl/wolfcrypt/error-crypt.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "crypto/wolf_thread.h"
#include "tls/tls.h"
#include "util/secmem.h"

struct vti_tls_ctx {
    WOLFSSL_CTX *wctx;
    enum vt_role role;
    bool verify_peer;
    vti_tls_verify_hook verify;
};

struct vti_tls_conn {
    struct vti_tls_ctx *ctx;
    WOLFSSL *ssl;
    int fd;
    int io_errno;      /* errno of the last failed socket call */
    bool eof;          /* the socket reported end of stream */
    void *hook_arg;
    bool hook_called;
    bool hook_refused;
    bool failed;       /* a fatal error happened: no shutdown */
    bool hs_done;      /* the handshake completed */
    struct vt_buf peer_leaf; /* the leaf DER handed to the hook (public) */
    /* Record framing of what the peer sent during the handshake, to recognise a plaintext
     * alert (an OpenSSL client refusing our certificate sends it before it has handshake
     * keys; wolfSSL then only reports a parse error). */
    uint8_t rec_hdr[5];
    size_t rec_hdr_len;
    size_t rec_len, rec_skip;
    int plain_alert; /* description of a plaintext alert seen, or -1 */
};

/* ---- library initialisation ---------------------------------------------------------------- */

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static bool init_ok;

static void lib_init(void)
{
    init_ok = wolfSSL_Init() == WOLFSSL_SUCCESS; /* written once, read-only afterwards */
}

/* ---- socket I/O without SIGPIPE ------------------------------------------------------------ */

/* Follow the TLS record framing (RFC 8446 section 5.1) of bytes received before the
 * handshake completes; remember the description of a plaintext alert record (type 21: in
 * TLS 1.3 encrypted alerts travel as type 23, so type 21 on the wire is always plaintext).
 * Only used to describe a failure; never to decide anything. */
static void track_records(struct vti_tls_conn *c, const uint8_t *p, size_t n)
{
    while (n > 0) {
        if (c->rec_skip == 0) { /* in a record header */
            c->rec_hdr[c->rec_hdr_len++] = *p++;
            n--;
            if (c->rec_hdr_len == 5) {
                c->rec_len = ((size_t)c->rec_hdr[3] << 8) | c->rec_hdr[4];
                c->rec_skip = c->rec_len;
                c->rec_hdr_len = 0;
                if (c->rec_hdr[0] == 21 && c->rec_len == 2 && n == 0) {
                    /* wolfSSL may reject the header before reading the body: peek at it
                     * without consuming anything. */
                    uint8_t body[2];
                    c->plain_alert = 256; /* an alert, description not (yet) known */
                    if (recv(c->fd, body, sizeof(body), MSG_PEEK | MSG_DONTWAIT) == 2)
                        c->plain_alert = body[1];
                }
            }
            continue;
        }
        if (c->rec_hdr[0] == 21 && c->rec_len == 2) { /* plaintext alert: level, description */
            if (c->rec_skip == 1)
                c->plain_alert = *p;
            p++;
            n--;
            c->rec_skip--;
            continue;
        }
        size_t k = n < c->rec_skip ? n : c->rec_skip;
        p += k;
        n -= k;
        c->rec_skip -= k;
    }
}

static int io_recv(WOLFSSL *ssl, char *buf, int sz, void *arg)
{
    (void)ssl;
    struct vti_tls_conn *c = arg;
    if (sz <= 0)
        return 0;
    ssize_t n = vti_tls_sock_recv(c->fd, buf, (size_t)sz);
    if (n == 0) {
        c->eof = true;
        return WOLFSSL_CBIO_ERR_CONN_CLOSE;
    }
    if (n < 0) {
        c->io_errno = errno;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return WOLFSSL_CBIO_ERR_WANT_READ;
        if (errno == ECONNRESET)
            return WOLFSSL_CBIO_ERR_CONN_RST;
        return WOLFSSL_CBIO_ERR_GENERAL;
    }
    if (!c->hs_done)
        track_records(c, (const uint8_t *)buf, (size_t)n);
    return (int)n;
}

static int io_send(WOLFSSL *ssl, char *buf, int sz, void *arg)
{
    (void)ssl;
    struct vti_tls_conn *c = arg;
    if (sz <= 0)
        return 0;
    ssize_t n = vti_tls_sock_send(c->fd, buf, (size_t)sz);
    if (n < 0) {
        c->io_errno = errno;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return WOLFSSL_CBIO_ERR_WANT_WRITE;
        if (errno == EPIPE)
            return WOLFSSL_CBIO_ERR_CONN_CLOSE;
        if (errno == ECONNRESET)
            return WOLFSSL_CBIO_ERR_CONN_RST;
        return WOLFSSL_CBIO_ERR_GENERAL;
    }
    return (int)n;
}

/* ---- errors --------------------------------------------------------------------------------- */

/* Map a failed wolfSSL_* call to our codes (the same codes as the openssl backend). */
static vt_res map_error(struct vti_tls_conn *c, int ret, int op_err,
                        char detail[VTI_TLS_DETAIL_MAX])
{
    int e = wolfSSL_get_error(c->ssl, ret);
    bool hs = op_err == VT_ERR_TLS_HANDSHAKE;
    wolfSSL_ERR_clear_error();
    switch (e) {
    case WOLFSSL_ERROR_WANT_READ:
    case WOLFSSL_ERROR_WANT_WRITE:
        return vti_tls_fail_want_io(detail);
    case WOLFSSL_ERROR_ZERO_RETURN:
        return vti_tls_fail_peer_closed(op_err, detail);
    default:
        break;
    }
    c->failed = true;
    if (c->hook_refused)
        return vti_tls_fail_refused(op_err, detail);
    if (e == NO_PEER_CERT) {
        snprintf(detail, VTI_TLS_DETAIL_MAX, "peer did not return a certificate");
        return VT_FAIL(VT_ERR_TLS_NO_PEER_CERT);
    }
    if (e == SOCKET_PEER_CLOSED_E || e == SOCKET_ERROR_E)
        return vti_tls_fail_socket(op_err, c->eof, c->io_errno, detail);
    char reason[WOLFSSL_MAX_ERROR_SZ];
    wolfSSL_ERR_error_string_n((unsigned long)e, reason, sizeof(reason));
    if (hs && e != FATAL_ERROR && c->plain_alert >= 0) {
        const char *a = c->plain_alert < 256 ? wolfSSL_alert_desc_string_long(c->plain_alert)
                                              : NULL;
        snprintf(reason, sizeof(reason), "%s", a ? a : "unknown alert");
        e = FATAL_ERROR;
    }
    WOLFSSL_ALERT_HISTORY ah;
    if (e == FATAL_ERROR && wolfSSL_get_alert_history(c->ssl, &ah) == WOLFSSL_SUCCESS &&
        ah.last_rx.code >= 0 && ah.last_rx.code < 256) {
        const char *a = wolfSSL_alert_desc_string_long(ah.last_rx.code);
        if (a)
            snprintf(reason, sizeof(reason), "%s", a);
    }
    if (e == FATAL_ERROR)
        vti_tls_alert_detail(detail, reason);
    else
        snprintf(detail, VTI_TLS_DETAIL_MAX, "%.190s", reason);
    return VT_FAIL(op_err);
}

/* ---- the certificate callback: hand the leaf to the core ------------------------------------ */

static int verify_cb(int preverify, WOLFSSL_X509_STORE_CTX *store)
{
    (void)preverify;
    struct vti_tls_conn *c = store ? store->userCtx : NULL;
    if (!c || !c->ctx->verify)
        return 0;
    if (store->error_depth != 0)
        return 1; /* certificates above the leaf: the hook judges the leaf (and its evidence) */
    if (c->hook_called)
        return c->hook_refused ? 0 : 1; /* exactly one verdict per handshake */
    int n = 0;
    const unsigned char *der = store->current_cert ? wolfSSL_X509_get_der(store->current_cert, &n)
                                                   : NULL;
    if (!der || n <= 0)
        return 0;
    c->hook_called = true;
    vti_buf_free_nowipe(&c->peer_leaf);
    int rc = c->ctx->verify(c->hook_arg, der, (size_t)n);
    if (rc != VT_OK) {
        c->hook_refused = true;
        return 0;
    }
    if (vti_buf_append(&c->peer_leaf, der, (size_t)n).err) {
        c->hook_refused = true;
        return 0;
    }
    store->error = 0;
    return 1;
}

/* ---- contexts --------------------------------------------------------------------------------- */

static void wolf_ctx_free(struct vti_tls_ctx *c)
{
    if (!c)
        return;
    wolfSSL_CTX_free(c->wctx); /* frees (and zeroes) its copy of the private key */
    free(c);
}

static vt_res wolf_ctx_new(const struct vti_tls_ctx_params *p, struct vti_tls_ctx **out)
{
    GUARD(vti_tls_params_check(p));
    pthread_once(&init_once, lib_init);
    ENSURE(init_ok, VT_ERR_TLS_INIT);
    vti_wolf_thread_arm(); /* loading the key may do ECC in this thread */
    struct vti_tls_ctx *c = calloc(1, sizeof(*c));
    ENSURE(c, VT_ERR_NOMEM);
    c->role = p->role;
    c->verify_peer = p->verify_peer;
    c->verify = p->verify;
    vt_res r = vti_ok();
    c->wctx = wolfSSL_CTX_new(p->role == VT_ROLE_CLIENT ? wolfTLSv1_3_client_method()
                                                        : wolfTLSv1_3_server_method());
    ENSURE_GOTO(c->wctx, VT_ERR_TLS_INIT, r, fail);
    WOLFSSL_CTX *w = c->wctx;
    /* No resumption: a server sends no tickets (a client never offers a session: we never
     * set one), and the session cache is off. */
    if (p->role == VT_ROLE_SERVER)
        ENSURE_GOTO(wolfSSL_CTX_no_ticket_TLSv13(w) == 0, VT_ERR_TLS_INIT, r, fail);
    (void)wolfSSL_CTX_set_session_cache_mode(w, WOLFSSL_SESS_CACHE_OFF);
    wolfSSL_CTX_SetIORecv(w, io_recv);
    wolfSSL_CTX_SetIOSend(w, io_send);
    ENSURE_GOTO(wolfSSL_CTX_use_certificate_buffer(w, p->cert_der, (long)p->cert_len,
                                                   WOLFSSL_FILETYPE_ASN1) == WOLFSSL_SUCCESS,
                VT_ERR_TLS_KEY, r, fail);
    ENSURE_GOTO(wolfSSL_CTX_use_PrivateKey_buffer(w, p->key_der, (long)p->key_len,
                                                  WOLFSSL_FILETYPE_ASN1) == WOLFSSL_SUCCESS,
                VT_ERR_TLS_KEY, r, fail);
    ENSURE_GOTO(wolfSSL_CTX_check_private_key(w) == WOLFSSL_SUCCESS, VT_ERR_TLS_KEY, r, fail);
    if (p->verify_peer) {
        int mode = WOLFSSL_VERIFY_PEER;
        if (p->role == VT_ROLE_SERVER)
            mode |= WOLFSSL_VERIFY_FAIL_IF_NO_PEER_CERT;
        wolfSSL_CTX_set_verify(w, mode, verify_cb);
    } else {
        wolfSSL_CTX_set_verify(w, WOLFSSL_VERIFY_NONE, NULL);
    }
    wolfSSL_ERR_clear_error();
    *out = c;
    return vti_ok();
fail:
    wolfSSL_ERR_clear_error();
    wolf_ctx_free(c);
    return r;
}

/* ---- connections ------------------------------------------------------------------------------ */

static void wolf_conn_free(struct vti_tls_conn *c)
{
    if (!c)
        return;
    wolfSSL_free(c->ssl);
    vti_buf_free_nowipe(&c->peer_leaf);
    free(c);
}

static vt_res wolf_conn_new(struct vti_tls_ctx *tc, int fd, void *hook_arg,
                            struct vti_tls_conn **out)
{
    ENSURE(tc && fd >= 0, VT_ERR_INVALID_ARG);
    struct vti_tls_conn *c = calloc(1, sizeof(*c));
    ENSURE(c, VT_ERR_NOMEM);
    c->ctx = tc;
    c->fd = fd;
    c->hook_arg = hook_arg;
    c->plain_alert = -1;
    c->ssl = wolfSSL_new(tc->wctx);
    if (!c->ssl) {
        free(c);
        return VT_FAIL(VT_ERR_NOMEM);
    }
    wolfSSL_SetIOReadCtx(c->ssl, c);
    wolfSSL_SetIOWriteCtx(c->ssl, c);
    wolfSSL_SetCertCbCtx(c->ssl, c);
    *out = c;
    return vti_ok();
}

static vt_res wolf_handshake(struct vti_tls_conn *c, char detail[VTI_TLS_DETAIL_MAX])
{
    ENSURE(!c->failed, VT_ERR_STATE);
    vti_wolf_thread_arm(); /* the handshake does ECC in this thread */
    c->io_errno = 0;
    int ret = c->ctx->role == VT_ROLE_CLIENT ? wolfSSL_connect(c->ssl) : wolfSSL_accept(c->ssl);
    if (ret == WOLFSSL_SUCCESS) {
        c->hs_done = true;
        /* Fail closed if verification was required but never ran. */
        vt_res r = vti_tls_check_verified(c->ctx->verify_peer, c->hook_called, c->hook_refused,
                                          detail);
        c->failed = r.err != 0;
        return r;
    }
    return map_error(c, ret, VT_ERR_TLS_HANDSHAKE, detail);
}

static vt_res wolf_read(struct vti_tls_conn *c, void *buf, size_t len, size_t *got,
                        char detail[VTI_TLS_DETAIL_MAX])
{
    ENSURE(!c->failed, VT_ERR_STATE);
    if (len > INT32_MAX)
        len = INT32_MAX;
    c->io_errno = 0;
    int ret = wolfSSL_read(c->ssl, buf, (int)len);
    if (ret > 0) {
        *got = (size_t)ret;
        return vti_ok();
    }
    if (wolfSSL_get_error(c->ssl, ret) == WOLFSSL_ERROR_ZERO_RETURN) {
        wolfSSL_ERR_clear_error();
        *got = 0;
        return vti_ok();
    }
    return map_error(c, ret, VT_ERR_TLS_READ, detail);
}

static vt_res wolf_write(struct vti_tls_conn *c, const void *buf, size_t len,
                         char detail[VTI_TLS_DETAIL_MAX])
{
    ENSURE(!c->failed, VT_ERR_STATE);
    const uint8_t *p = buf;
    while (len > 0) {
        int chunk = len > (1u << 30) ? (1 << 30) : (int)len;
        c->io_errno = 0;
        int ret = wolfSSL_write(c->ssl, p, chunk);
        if (ret <= 0)
            return map_error(c, ret, VT_ERR_TLS_WRITE, detail);
        p += ret;
        len -= (size_t)ret;
    }
    return vti_ok();
}

static vt_res wolf_shutdown(struct vti_tls_conn *c, char detail[VTI_TLS_DETAIL_MAX])
{
    ENSURE(!c->failed && wolfSSL_is_init_finished(c->ssl), VT_ERR_STATE);
    if (wolfSSL_get_shutdown(c->ssl) & WOLFSSL_SENT_SHUTDOWN)
        return vti_ok();
    c->io_errno = 0;
    int ret = wolfSSL_shutdown(c->ssl);
    if (ret == WOLFSSL_SUCCESS || ret == WOLFSSL_SHUTDOWN_NOT_DONE)
        return vti_ok();
    return map_error(c, ret, VT_ERR_TLS_WRITE, detail);
}

static vt_res wolf_peer_cert(struct vti_tls_conn *c, struct vt_buf *out)
{
    ENSURE(c->hook_called && !c->hook_refused && c->peer_leaf.len, VT_ERR_TLS_NO_PEER_CERT);
    return vti_buf_append(out, c->peer_leaf.p, c->peer_leaf.len);
}

static const struct vt_tls_ops wolfssl_tls = {
    .hdr = { VT_INSTANCE_ABI, VT_KIND_TLS, "wolfssl", 50, 0, NULL },
    .ctx_new = wolf_ctx_new,
    .ctx_free = wolf_ctx_free,
    .conn_new = wolf_conn_new,
    .handshake = wolf_handshake,
    .read = wolf_read,
    .write = wolf_write,
    .shutdown = wolf_shutdown,
    .conn_free = wolf_conn_free,
    .peer_cert = wolf_peer_cert,
};
const struct vt_instance_hdr *const vt_inst_wolfssl_tls = &wolfssl_tls.hdr;
