/* SPDX-License-Identifier: Apache-2.0 */
/*
 * http_client.c - HTTP/1.1 requests of the KBS client over libevent (http_client.h says why
 * and what is kept of cookies).
 *
 * Trust boundary: everything the server sends is untrusted. libevent parses the HTTP framing
 * under our limits (VTK_HTTP_HEADERS_MAX, the caller's reply_max); this file reads the status,
 * the body and the Set-Cookie headers; the body is handed on as bytes (the KBS client parses
 * it). https: TLS 1.2 or 1.3, the server's certificate verified against cacert or the system
 * store, and its name against the URL's host (DNS name or IP address); SNI is sent for names.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <strings.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "kbs_client/http_client.h"
#include "util/cursor.h"
#include "util/log.h"

struct vtk_http {
    struct event_base *base;
    SSL_CTX *tls;                    /* https only */
    struct evhttp_connection *conn;  /* plain http: kept across requests */
    char host[256];                  /* without IPv6 brackets */
    char host_header[272];           /* as sent in Host: */
    char prefix[256];                /* the base URL's path, without a trailing '/' */
    int port;
    struct vtk_cookie_jar jar;
    char err[160]; /* why the last request failed (vtk_http_error) */
};

/* One request in flight. */
struct xfer {
    struct vtk_http *c;
    struct vt_buf *reply;
    size_t reply_max;
    int status;
    bool done, failed;
};

/* ---- cookies ---------------------------------------------------------------------------- */

/* RFC 6265 4.1.1: a token (RFC 2616) for the name, cookie-octets for the value. */
static bool token_char(unsigned char ch)
{
    return ch > 0x20 && ch < 0x7f && !strchr("()<>@,;:\\\"/[]?={}", ch);
}

static bool cookie_octet(unsigned char ch)
{
    return ch == 0x21 || (ch >= 0x23 && ch <= 0x2b) || (ch >= 0x2d && ch <= 0x3a) ||
           (ch >= 0x3c && ch <= 0x5b) || (ch >= 0x5d && ch <= 0x7e);
}

/* The next byte if it passes ok (consumed), else 0 (left). */
static uint8_t take_if(struct vt_cur *c, bool (*ok)(unsigned char))
{
    uint8_t ch = 0;
    if (vti_cur_left(c) && ok(*vti_cur_pos(c)) && !vti_cur_u8(c, &ch).err)
        return ch;
    return 0;
}

static bool is_eq(unsigned char ch) { return ch == '='; }
static bool is_quote(unsigned char ch) { return ch == '"'; }

/* The name=value pair at the start of a Set-Cookie value (up to ';' or the end), read through
 * a cursor over at most VTK_HTTP_COOKIE_MAX bytes (a longer pair is refused). */
static bool cookie_pair(const char *s, size_t *name_len, size_t *pair_len)
{
    size_t len = strnlen(s, VTK_HTTP_COOKIE_MAX);
    struct vt_cur c = vti_cur_init(s, len);
    while (take_if(&c, token_char))
        ;
    *name_len = c.off;
    if (*name_len == 0 || !take_if(&c, is_eq))
        return false;
    bool quoted = take_if(&c, is_quote) != 0;
    while (take_if(&c, cookie_octet))
        ;
    if (quoted && !take_if(&c, is_quote))
        return false;
    *pair_len = c.off;
    if (vti_cur_left(&c))
        return *vti_cur_pos(&c) == ';';
    return len < VTK_HTTP_COOKIE_MAX; /* the whole value, and not cut at the bound */
}

bool vtk_cookie_take(struct vtk_cookie_jar *jar, const char *set_cookie)
{
    size_t nl, pl;
    if (!set_cookie || !cookie_pair(set_cookie, &nl, &pl))
        return false;
    char *free_slot = NULL;
    for (size_t i = 0; i < VTK_HTTP_COOKIES; i++) {
        char *kv = jar->kv[i];
        if (!kv[0]) {
            free_slot = free_slot ? free_slot : kv;
            continue;
        }
        if (strncmp(kv, set_cookie, nl + 1) == 0) { /* same name (and '='): replace */
            free_slot = kv;
            break;
        }
    }
    if (!free_slot)
        return false;
    memcpy(free_slot, set_cookie, pl);
    free_slot[pl] = '\0';
    return true;
}

void vtk_cookie_header(const struct vtk_cookie_jar *jar, char *out, size_t out_len)
{
    size_t o = 0;
    out[0] = '\0';
    for (size_t i = 0; i < VTK_HTTP_COOKIES; i++) {
        if (!jar->kv[i][0])
            continue;
        int w = snprintf(out + o, out_len - o, "%s%s", o ? "; " : "", jar->kv[i]);
        if (w < 0 || (size_t)w >= out_len - o) {
            out[o] = '\0'; /* (cannot happen with the sizes used: 4 x 512 < the buffer) */
            return;
        }
        o += (size_t)w;
    }
}

/* ---- the client ------------------------------------------------------------------------- */

static vt_res tls_ctx(const char *cacert, SSL_CTX **ret)
{
    SSL_CTX *t = SSL_CTX_new(TLS_client_method());
    ENSURE(t, VT_ERR_NOMEM);
    bool ok = SSL_CTX_set_min_proto_version(t, TLS1_2_VERSION) == 1 &&
              (cacert ? SSL_CTX_load_verify_locations(t, cacert, NULL) == 1
                      : SSL_CTX_set_default_verify_paths(t) == 1);
    if (!ok) {
        VT_WARN("KBS client: cannot load the CA certificates%s%s", cacert ? " from " : "",
                cacert ? cacert : "");
        SSL_CTX_free(t);
        return VT_FAIL(VT_ERR_CRYPTO);
    }
    SSL_CTX_set_verify(t, SSL_VERIFY_PEER, NULL);
    *ret = t;
    return vti_ok();
}

/* scheme, host, port and path prefix of the base URL (libevent's URI parser). */
static vt_res parse_base(struct vtk_http *c, const char *url, bool *https)
{
    struct evhttp_uri *u = url ? evhttp_uri_parse(url) : NULL;
    ENSURE(u, VT_ERR_INVALID_ARG);
    const char *scheme = evhttp_uri_get_scheme(u), *host = evhttp_uri_get_host(u);
    const char *path = evhttp_uri_get_path(u);
    vt_res r = vti_ok();
    *https = scheme && !strcasecmp(scheme, "https");
    if (!scheme || (!*https && strcasecmp(scheme, "http")) || !host || !host[0] ||
        evhttp_uri_get_query(u) || evhttp_uri_get_fragment(u) || evhttp_uri_get_userinfo(u))
        r = VT_FAIL(VT_ERR_INVALID_ARG);
    size_t hl = host ? strlen(host) : 0;
    bool v6 = hl > 2 && host[0] == '[' && host[hl - 1] == ']';
    if (!r.err && (hl - (v6 ? 2 : 0) >= sizeof(c->host) || (path && strlen(path) >= sizeof(c->prefix))))
        r = VT_FAIL(VT_ERR_INVALID_ARG);
    if (!r.err) {
        memcpy(c->host, host + v6, hl - 2 * v6);
        c->host[hl - 2 * v6] = '\0';
        int port = evhttp_uri_get_port(u);
        c->port = port > 0 ? port : (*https ? 443 : 80);
        snprintf(c->host_header, sizeof(c->host_header), port > 0 ? "%s:%d" : "%s", host, port);
        snprintf(c->prefix, sizeof(c->prefix), "%s", path ? path : "");
        size_t pl = strlen(c->prefix);
        if (pl && c->prefix[pl - 1] == '/')
            c->prefix[pl - 1] = '\0';
    }
    evhttp_uri_free(u);
    return r;
}

vt_res vtk_http_open(const char *base_url, const char *cacert, struct vtk_http **ret)
{
    *ret = NULL;
    struct vtk_http *c = calloc(1, sizeof(*c));
    ENSURE(c, VT_ERR_NOMEM);
    bool https = false;
    vt_res r = parse_base(c, base_url, &https);
    if (!r.err && https)
        r = tls_ctx(cacert, &c->tls);
    if (!r.err && !(c->base = event_base_new()))
        r = VT_FAIL(VT_ERR_NOMEM);
    if (r.err) {
        vtk_http_close(c);
        return r;
    }
    *ret = c;
    return vti_ok();
}

void vtk_http_close(struct vtk_http *c)
{
    if (!c)
        return;
    if (c->conn)
        evhttp_connection_free(c->conn);
    if (c->base)
        event_base_free(c->base);
    SSL_CTX_free(c->tls);
    OPENSSL_cleanse(&c->jar, sizeof(c->jar)); /* the session cookie is a credential */
    free(c);
}

/* A TLS bufferevent for a new connection: SNI (names only) and the name or IP to verify. */
static struct bufferevent *tls_bev(struct vtk_http *c)
{
    SSL *ssl = SSL_new(c->tls);
    if (!ssl)
        return NULL;
    bool ip = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), c->host) == 1;
    bool ok = ip || (SSL_set_tlsext_host_name(ssl, c->host) == 1 && SSL_set1_host(ssl, c->host) == 1);
    if (!ok) {
        SSL_free(ssl);
        return NULL;
    }
    /* With BEV_OPT_CLOSE_ON_FREE the bufferevent owns ssl, also when its creation fails.
     * A TLS connection closed without close_notify is an error (no dirty shutdown). */
    return bufferevent_openssl_socket_new(c->base, -1, ssl, BUFFEREVENT_SSL_CONNECTING,
                                          BEV_OPT_CLOSE_ON_FREE);
}

/* The connection for the next request: plain http keeps one; https makes a new one. */
static struct evhttp_connection *connection(struct vtk_http *c)
{
    if (c->conn && !c->tls)
        return c->conn;
    if (c->conn)
        evhttp_connection_free(c->conn);
    struct bufferevent *b = NULL;
    if (c->tls && !(b = tls_bev(c)))
        return c->conn = NULL;
    /* (on failure, libevent may already have taken b: leaked rather than freed twice) */
    c->conn = evhttp_connection_base_bufferevent_new(c->base, NULL, b, c->host,
                                                     (unsigned short)c->port);
    if (!c->conn)
        return NULL;
    evhttp_connection_set_timeout(c->conn, VTK_HTTP_TIMEOUT_S);
    evhttp_connection_set_max_headers_size(c->conn, VTK_HTTP_HEADERS_MAX);
    evhttp_connection_set_retries(c->conn, 0);
    return c->conn;
}

/* Why a request failed, in words: libevent's reason, and for https the certificate check's. */
static void on_error(enum evhttp_request_error e, void *arg)
{
    struct xfer *x = arg;
    struct vtk_http *c = x->c;
    x->failed = true;
    const char *why = e == EVREQ_HTTP_TIMEOUT          ? "timed out"
                      : e == EVREQ_HTTP_EOF            ? "connection closed before a complete answer"
                      : e == EVREQ_HTTP_INVALID_HEADER ? "malformed HTTP answer"
                      : e == EVREQ_HTTP_DATA_TOO_LONG  ? "answer too large"
                                                       : "connection failed";
    struct bufferevent *b = c->tls && c->conn ? evhttp_connection_get_bufferevent(c->conn) : NULL;
    SSL *ssl = b ? bufferevent_openssl_get_ssl(b) : NULL;
    long v = ssl ? SSL_get_verify_result(ssl) : X509_V_OK;
    if (v != X509_V_OK)
        snprintf(c->err, sizeof(c->err), "TLS: the server's certificate was not accepted: %s",
                 X509_verify_cert_error_string(v));
    else if (ssl && !SSL_is_init_finished(ssl))
        snprintf(c->err, sizeof(c->err), "TLS handshake failed (%s)", why);
    else
        snprintf(c->err, sizeof(c->err), "%s", why);
}

const char *vtk_http_error(const struct vtk_http *c)
{
    return c && c->err[0] ? c->err : "no error";
}

/* The answer: status, body (bounded), cookies. Called once per request (req NULL: no answer). */
static void on_done(struct evhttp_request *req, void *arg)
{
    struct xfer *x = arg;
    char *err = x->c->err;
    x->done = true;
    int st = req ? evhttp_request_get_response_code(req) : 0;
    if (x->failed || st < 100 || st > 599) {
        if (!x->failed) /* (on_error has said why) */
            snprintf(err, sizeof(x->c->err), "%s", st ? "an answer with an invalid status"
                                                      : "no answer (connection refused or lost)");
        x->failed = true;
        return;
    }
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t n = evbuffer_get_length(in);
    const unsigned char *p = n ? evbuffer_pullup(in, -1) : NULL;
    if (n > x->reply_max || (n && (!p || vti_buf_append(x->reply, p, n).err))) {
        snprintf(err, sizeof(x->c->err), "answer too large");
        x->failed = true;
        return;
    }
    struct evkeyvalq *h = evhttp_request_get_input_headers(req);
    for (struct evkeyval *kv = h ? h->tqh_first : NULL; kv; kv = kv->next.tqe_next)
        if (!strcasecmp(kv->key, "Set-Cookie") && !vtk_cookie_take(&x->c->jar, kv->value))
            VT_DEBUG("KBS client: a Set-Cookie header was ignored");
    x->status = st;
}

/* The request's headers: Host, Content-Type, Cookie, Authorization. */
static bool add_headers(struct vtk_http *c, struct evhttp_request *req, const char *body,
                        const char *bearer)
{
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    char cookie[VTK_HTTP_COOKIES * (VTK_HTTP_COOKIE_MAX + 2)];
    vtk_cookie_header(&c->jar, cookie, sizeof(cookie));
    bool ok = evhttp_add_header(h, "Host", c->host_header) == 0 &&
              evhttp_add_header(h, "User-Agent", "veritee-agent") == 0 &&
              (!body || evhttp_add_header(h, "Content-Type", "application/json") == 0) &&
              (!cookie[0] || evhttp_add_header(h, "Cookie", cookie) == 0);
    OPENSSL_cleanse(cookie, sizeof(cookie));
    if (ok && bearer) {
        size_t bl = strlen(bearer);
        char *auth = malloc(bl + 8);
        ok = auth != NULL;
        if (ok) {
            memcpy(auth, "Bearer ", 7);
            memcpy(auth + 7, bearer, bl + 1);
            ok = evhttp_add_header(h, "Authorization", auth) == 0;
            OPENSSL_cleanse(auth, bl + 8);
            free(auth);
        }
    }
    return ok && (!body || evbuffer_add(evhttp_request_get_output_buffer(req), body,
                                        strlen(body)) == 0);
}

/* SIGPIPE: a write to a connection the server has closed must fail with EPIPE, not kill the
 * process (libevent and OpenSSL write with write(2)); the signal is blocked in this thread
 * for the request and a SIGPIPE it raised is taken before the mask is restored, so the
 * process's own disposition is left alone. */
static void sigpipe_block(sigset_t *old)
{
    sigset_t pipe;
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe, old);
}

static void sigpipe_restore(const sigset_t *old)
{
    if (!sigismember(old, SIGPIPE)) {
        sigset_t pipe;
        sigemptyset(&pipe);
        sigaddset(&pipe, SIGPIPE);
        const struct timespec zero = { 0, 0 };
        int e = errno;
        while (sigtimedwait(&pipe, NULL, &zero) > 0)
            ;
        errno = e;
    }
    pthread_sigmask(SIG_SETMASK, old, NULL);
}

static vt_res request(struct vtk_http *c, const char *target, const char *body,
                      const char *bearer, size_t reply_max, int *status, struct vt_buf *reply);

vt_res vtk_http_request(struct vtk_http *c, const char *path, const char *body,
                        const char *bearer, size_t reply_max, int *status, struct vt_buf *reply)
{
    *status = 0;
    vti_buf_free(reply);
    char target[2048];
    ENSURE(path && path[0] == '/', VT_ERR_INVALID_ARG);
    ENSURE(snprintf(target, sizeof(target), "%s%s", c->prefix, path) < (int)sizeof(target),
           VT_ERR_INVALID_ARG);
    sigset_t old;
    sigpipe_block(&old);
    vt_res r = request(c, target, body, bearer, reply_max, status, reply);
    sigpipe_restore(&old);
    return r;
}

/* One request on the connection, the event loop run until it has its answer or failed. */
static vt_res request(struct vtk_http *c, const char *target, const char *body,
                      const char *bearer, size_t reply_max, int *status, struct vt_buf *reply)
{
    snprintf(c->err, sizeof(c->err), "could not set up the connection");
    struct evhttp_connection *conn = connection(c);
    ENSURE(conn, VT_ERR_KBS_HTTP);
    evhttp_connection_set_max_body_size(conn, (ev_ssize_t)reply_max);
    struct xfer x = { .c = c, .reply = reply, .reply_max = reply_max };
    struct evhttp_request *req = evhttp_request_new(on_done, &x);
    ENSURE(req, VT_ERR_NOMEM);
    evhttp_request_set_error_cb(req, on_error);
    if (!add_headers(c, req, body, bearer)) {
        /* libevent refuses a value with CR, LF or other controls (no header injection from a
         * token the broker sent); else out of memory */
        snprintf(c->err, sizeof(c->err), "a request header was refused (a control character "
                                         "in the bearer token?)");
        evhttp_request_free(req);
        return VT_FAIL(VT_ERR_INVALID_ARG);
    }
    /* evhttp_make_request frees req on failure, and after on_done otherwise */
    snprintf(c->err, sizeof(c->err), "could not send the request"); /* else on_error/on_done */
    ENSURE(evhttp_make_request(conn, req, body ? EVHTTP_REQ_POST : EVHTTP_REQ_GET, target) == 0,
           VT_ERR_KBS_HTTP);
    while (!x.done && event_base_loop(c->base, EVLOOP_ONCE) == 0)
        ;
    if (!x.done)
        snprintf(c->err, sizeof(c->err), "no answer");
    if (!x.done || x.failed) {
        /* the connection's state is unknown: not reused; freeing it drops a request still
         * queued on it without calling back into x */
        evhttp_connection_free(c->conn);
        c->conn = NULL;
        vti_buf_free(reply);
        return VT_FAIL(VT_ERR_KBS_HTTP);
    }
    *status = x.status;
    c->err[0] = '\0';
    return vti_ok();
}
