/* SPDX-License-Identifier: Apache-2.0 */
/*
 * openssl.c - the "openssl" TLS backend (priority 100): TLS 1.3 over a connected socket with
 * OpenSSL 3 libssl. See tls.h for the contract every TLS backend follows.
 *
 * Trust boundary: everything the peer sends is untrusted. This backend does not judge the
 * peer's certificate: SSL_CTX_set_cert_verify_callback replaces OpenSSL's whole chain
 * validation with one function that passes the peer's leaf certificate (DER) to the core's
 * verification hook and fails the handshake (fatal alert) when the hook refuses. OpenSSL
 * still proves possession of the leaf's key (CertificateVerify) before the handshake ends.
 *
 * No resumption: tickets and the session cache are off, so every handshake verifies a
 * certificate. Sockets go through a small BIO that uses send(MSG_NOSIGNAL), so a peer that
 * disconnects never raises SIGPIPE in the host process.
 *
 * Spec: RFC 8446 (TLS 1.3).
 */
#include <errno.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/openssl_memo.h"
#include "crypto/ossl_util.h"
#include "tls/tls.h"
#include "util/secmem.h"

struct vti_tls_ctx {
    SSL_CTX *ssl_ctx;
    enum vt_role role;
    bool verify_peer;
    vti_tls_verify_hook verify;
};

struct vti_tls_conn {
    struct vti_tls_ctx *ctx;
    SSL *ssl;
    void *hook_arg;
    bool hook_called;
    bool hook_refused;
    bool failed; /* a fatal error happened: SSL_shutdown must not be called */
    bool shut_pending; /* close_notify queued but its write would have blocked */
};

/* ---- a socket BIO without SIGPIPE ---------------------------------------------------------- */

struct sock_state {
    int fd;
    bool eof;
};

static BIO_METHOD *sock_method;
static pthread_once_t sock_method_once = PTHREAD_ONCE_INIT;

static int sock_write(BIO *b, const char *buf, int len)
{
    struct sock_state *st = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    if (len <= 0)
        return 0;
    ssize_t n = vti_tls_sock_send(st->fd, buf, (size_t)len);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            BIO_set_retry_write(b);
        return -1;
    }
    return (int)n;
}

static int sock_read(BIO *b, char *buf, int len)
{
    struct sock_state *st = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    if (len <= 0)
        return 0;
    ssize_t n = vti_tls_sock_recv(st->fd, buf, (size_t)len);
    if (n == 0)
        st->eof = true;
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            BIO_set_retry_read(b);
        return -1;
    }
    return (int)n;
}

static long sock_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    (void)num;
    (void)ptr;
    struct sock_state *st = BIO_get_data(b);
    switch (cmd) {
    case BIO_CTRL_FLUSH:
        return 1;
    case BIO_CTRL_EOF:
        return st && st->eof;
    default:
        return 0;
    }
}

static int sock_destroy(BIO *b)
{
    free(BIO_get_data(b));
    BIO_set_data(b, NULL);
    return 1;
}

static void sock_method_init(void)
{
    BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "veritee socket");
    if (!m)
        return;
    if (BIO_meth_set_write(m, sock_write) != 1 || BIO_meth_set_read(m, sock_read) != 1 ||
        BIO_meth_set_ctrl(m, sock_ctrl) != 1 || BIO_meth_set_destroy(m, sock_destroy) != 1) {
        BIO_meth_free(m);
        return;
    }
    sock_method = m; /* written once, read-only afterwards */
}

static vt_res sock_bio_new(int fd, BIO **out)
{
    pthread_once(&sock_method_once, sock_method_init);
    ENSURE(sock_method, VT_ERR_TLS_INIT);
    struct sock_state *st = calloc(1, sizeof(*st));
    ENSURE(st, VT_ERR_NOMEM);
    st->fd = fd;
    BIO *b = BIO_new(sock_method);
    if (!b) {
        free(st);
        return VT_FAIL(VT_ERR_NOMEM);
    }
    BIO_set_data(b, st);
    BIO_set_init(b, 1);
    *out = b;
    return vti_ok();
}

/* ---- errors ---------------------------------------------------------------------------------- */

/* Describe the last OpenSSL error of this thread in detail, and empty the queue. Returns the
 * reason code of the last error (0 if none). */
static int ossl_detail(char detail[VTI_TLS_DETAIL_MAX], const char *fallback)
{
    unsigned long e = ERR_peek_last_error();
    int reason = e ? ERR_GET_REASON(e) : 0;
    const char *s = e ? ERR_reason_error_string(e) : NULL;
    if (detail)
        snprintf(detail, VTI_TLS_DETAIL_MAX, "%s", s ? s : fallback);
    ERR_clear_error();
    return reason;
}

/* Map a failed SSL_* call to our codes. op_err is the code for a generic failure. */
static vt_res map_error(struct vti_tls_conn *c, int ret, int op_err,
                        char detail[VTI_TLS_DETAIL_MAX])
{
    int saved_errno = errno;
    int e = SSL_get_error(c->ssl, ret);
    switch (e) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE:
        ERR_clear_error();
        return vti_tls_fail_want_io(detail);
    case SSL_ERROR_ZERO_RETURN:
        ERR_clear_error();
        return vti_tls_fail_peer_closed(op_err, detail);
    case SSL_ERROR_SYSCALL:
        c->failed = true;
        ERR_clear_error();
        return vti_tls_fail_socket(op_err, false, saved_errno, detail);
    case SSL_ERROR_SSL:
    default: {
        c->failed = true;
        if (c->hook_refused) {
            ERR_clear_error();
            return vti_tls_fail_refused(op_err, detail);
        }
        int reason = ossl_detail(detail, "TLS protocol error");
        if (reason >= SSL_AD_REASON_OFFSET && reason < SSL_AD_REASON_OFFSET + 256) {
            char alert[VTI_TLS_DETAIL_MAX];
            snprintf(alert, sizeof(alert), "%s", detail);
            vti_tls_alert_detail(detail, alert);
        }
        if (reason == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE)
            return VT_FAIL(VT_ERR_TLS_NO_PEER_CERT);
        if (reason == SSL_R_UNEXPECTED_EOF_WHILE_READING)
            return vti_tls_fail_socket(op_err, true, 0, detail);
        return VT_FAIL(op_err);
    }
    }
}

/* ---- the certificate callback: hand the leaf to the core ---------------------------------- */

static int cert_verify_cb(X509_STORE_CTX *store, void *arg)
{
    (void)arg;
    SSL *ssl = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx());
    struct vti_tls_conn *c = ssl ? SSL_get_app_data(ssl) : NULL;
    X509 *leaf = X509_STORE_CTX_get0_cert(store);
    if (!c || !leaf || !c->ctx->verify) {
        X509_STORE_CTX_set_error(store, X509_V_ERR_UNSPECIFIED);
        return 0;
    }
    unsigned char *der = NULL;
    int n = i2d_X509(leaf, &der);
    if (n <= 0 || !der) {
        X509_STORE_CTX_set_error(store, X509_V_ERR_OUT_OF_MEM);
        return 0;
    }
    c->hook_called = true;
    vti_ossl_memo_offer_x509(der, (size_t)n, leaf); /* RA-TLS parses it without decoding */
    int rc = c->ctx->verify(c->hook_arg, der, (size_t)n);
    OPENSSL_free(der);
    if (rc != VT_OK) {
        c->hook_refused = true;
        X509_STORE_CTX_set_error(store, X509_V_ERR_APPLICATION_VERIFICATION);
        return 0;
    }
    X509_STORE_CTX_set_error(store, X509_V_OK);
    return 1;
}

/* ---- contexts --------------------------------------------------------------------------------- */

static vt_res load_identity(SSL_CTX *sc, const struct vti_tls_ctx_params *p)
{
    const unsigned char *q = p->cert_der;
    X509 *x = d2i_X509(NULL, &q, (long)p->cert_len);
    ENSURE(x, VT_ERR_TLS_KEY);
    if (q != p->cert_der + p->cert_len) {
        X509_free(x);
        return VT_FAIL(VT_ERR_TLS_KEY);
    }
    q = p->key_der;
    PKCS8_PRIV_KEY_INFO *p8 = d2i_PKCS8_PRIV_KEY_INFO(NULL, &q, (long)p->key_len);
    EVP_PKEY *k = NULL;
    if (p8 && q == p->key_der + p->key_len)
        k = EVP_PKCS82PKEY(p8);
    PKCS8_PRIV_KEY_INFO_free(p8); /* wipes its copy of the key */
    vt_res r = vti_ok();
    if (!k || SSL_CTX_use_certificate(sc, x) != 1 || SSL_CTX_use_PrivateKey(sc, k) != 1 ||
        SSL_CTX_check_private_key(sc) != 1)
        r = VT_FAIL(VT_ERR_TLS_KEY);
    EVP_PKEY_free(k);
    X509_free(x);
    ERR_clear_error();
    return r;
}

static void ossl_ctx_free(struct vti_tls_ctx *c)
{
    if (!c)
        return;
    SSL_CTX_free(c->ssl_ctx); /* frees (and wipes) the private key */
    free(c);
}

static vt_res ossl_ctx_new(const struct vti_tls_ctx_params *p, struct vti_tls_ctx **out)
{
    GUARD(vti_tls_params_check(p));
    struct vti_tls_ctx *c = calloc(1, sizeof(*c));
    ENSURE(c, VT_ERR_NOMEM);
    c->role = p->role;
    c->verify_peer = p->verify_peer;
    c->verify = p->verify;
    vt_res r = vti_ok();
    c->ssl_ctx = SSL_CTX_new(p->role == VT_ROLE_CLIENT ? TLS_client_method() : TLS_server_method());
    ENSURE_GOTO(c->ssl_ctx, VT_ERR_TLS_INIT, r, fail);
    SSL_CTX *sc = c->ssl_ctx;
    ENSURE_GOTO(SSL_CTX_set_min_proto_version(sc, TLS1_3_VERSION) == 1, VT_ERR_TLS_INIT, r, fail);
    ENSURE_GOTO(SSL_CTX_set_max_proto_version(sc, TLS1_3_VERSION) == 1, VT_ERR_TLS_INIT, r, fail);
    SSL_CTX_set_options(sc, SSL_OP_NO_TICKET);
    ENSURE_GOTO(SSL_CTX_set_num_tickets(sc, 0) == 1, VT_ERR_TLS_INIT, r, fail);
    SSL_CTX_set_session_cache_mode(sc, SSL_SESS_CACHE_OFF);
    GUARD_GOTO(load_identity(sc, p), r, fail);
    if (p->verify_peer) {
        int mode = SSL_VERIFY_PEER;
        if (p->role == VT_ROLE_SERVER)
            mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
        SSL_CTX_set_verify(sc, mode, NULL);
        SSL_CTX_set_cert_verify_callback(sc, cert_verify_cb, NULL);
    } else {
        SSL_CTX_set_verify(sc, SSL_VERIFY_NONE, NULL);
    }
    *out = c;
    return vti_ok();
fail:
    ERR_clear_error();
    ossl_ctx_free(c);
    return r;
}

/* ---- connections ------------------------------------------------------------------------------ */

static void ossl_conn_free(struct vti_tls_conn *c)
{
    if (!c)
        return;
    SSL_free(c->ssl); /* frees the BIO too */
    free(c);
}

static vt_res ossl_conn_new(struct vti_tls_ctx *tc, int fd, void *hook_arg,
                            struct vti_tls_conn **out)
{
    ENSURE(tc && fd >= 0, VT_ERR_INVALID_ARG);
    struct vti_tls_conn *c = calloc(1, sizeof(*c));
    ENSURE(c, VT_ERR_NOMEM);
    c->ctx = tc;
    c->hook_arg = hook_arg;
    vt_res r = vti_ok();
    c->ssl = SSL_new(tc->ssl_ctx);
    ENSURE_GOTO(c->ssl, VT_ERR_NOMEM, r, fail);
    ENSURE_GOTO(SSL_set_app_data(c->ssl, c) == 1, VT_ERR_TLS_INIT, r, fail);
    BIO *b = NULL;
    GUARD_GOTO(sock_bio_new(fd, &b), r, fail);
    SSL_set_bio(c->ssl, b, b);
    if (tc->role == VT_ROLE_CLIENT)
        SSL_set_connect_state(c->ssl);
    else
        SSL_set_accept_state(c->ssl);
    *out = c;
    return vti_ok();
fail:
    ERR_clear_error();
    ossl_conn_free(c);
    return r;
}

static vt_res ossl_handshake(struct vti_tls_conn *c, char detail[VTI_TLS_DETAIL_MAX])
{
    ENSURE(!c->failed, VT_ERR_STATE);
    ERR_clear_error();
    errno = 0;
    int ret = SSL_do_handshake(c->ssl);
    if (ret == 1) {
        /* Fail closed if verification was required but never ran. */
        vt_res r = vti_tls_check_verified(c->ctx->verify_peer, c->hook_called, c->hook_refused,
                                          detail);
        c->failed = r.err != 0;
        return r;
    }
    return map_error(c, ret, VT_ERR_TLS_HANDSHAKE, detail);
}

static vt_res ossl_read(struct vti_tls_conn *c, void *buf, size_t len, size_t *got,
                        char detail[VTI_TLS_DETAIL_MAX])
{
    ENSURE(!c->failed, VT_ERR_STATE);
    ERR_clear_error();
    errno = 0;
    size_t n = 0;
    int ret = SSL_read_ex(c->ssl, buf, len, &n);
    if (ret == 1) {
        *got = n;
        return vti_ok();
    }
    if (SSL_get_error(c->ssl, ret) == SSL_ERROR_ZERO_RETURN) {
        ERR_clear_error();
        *got = 0;
        return vti_ok();
    }
    return map_error(c, ret, VT_ERR_TLS_READ, detail);
}

static vt_res ossl_write(struct vti_tls_conn *c, const void *buf, size_t len,
                         char detail[VTI_TLS_DETAIL_MAX])
{
    ENSURE(!c->failed, VT_ERR_STATE);
    if (len == 0)
        return vti_ok();
    ERR_clear_error();
    errno = 0;
    size_t n = 0;
    int ret = SSL_write_ex(c->ssl, buf, len, &n);
    if (ret == 1 && n == len)
        return vti_ok();
    return map_error(c, ret, VT_ERR_TLS_WRITE, detail);
}

static vt_res ossl_shutdown(struct vti_tls_conn *c, char detail[VTI_TLS_DETAIL_MAX])
{
    ENSURE(!c->failed && SSL_is_init_finished(c->ssl), VT_ERR_STATE);
    /* Once sent, only a close_notify still waiting for the socket (non-blocking) is retried:
     * SSL_shutdown would otherwise read, and drop, the peer's data while looking for its. */
    if ((SSL_get_shutdown(c->ssl) & SSL_SENT_SHUTDOWN) && !c->shut_pending)
        return vti_ok();
    ERR_clear_error();
    errno = 0;
    int ret = SSL_shutdown(c->ssl);
    c->shut_pending = false;
    if (ret == 0 || ret == 1)
        return vti_ok();
    vt_res r = map_error(c, ret, VT_ERR_TLS_WRITE, detail);
    c->shut_pending = r.err == VT_ERR_TLS_WANT_IO;
    return r;
}

static vt_res ossl_peer_cert(struct vti_tls_conn *c, struct vt_buf *out)
{
    X509 *x = SSL_get0_peer_certificate(c->ssl);
    ENSURE(x, VT_ERR_TLS_NO_PEER_CERT);
    unsigned char *der = NULL;
    int n = i2d_X509(x, &der);
    return vti_ossl_i2d_append(n, der, VT_ERR_NOMEM, out);
}

static const struct vt_tls_ops openssl_tls = {
    .hdr = { VT_INSTANCE_ABI, VT_KIND_TLS, "openssl", 100, 0, NULL },
    .ctx_new = ossl_ctx_new,
    .ctx_free = ossl_ctx_free,
    .conn_new = ossl_conn_new,
    .handshake = ossl_handshake,
    .read = ossl_read,
    .write = ossl_write,
    .shutdown = ossl_shutdown,
    .conn_free = ossl_conn_free,
    .peer_cert = ossl_peer_cert,
};
const struct vt_instance_hdr *const vt_inst_openssl_tls = &openssl_tls.hdr;
