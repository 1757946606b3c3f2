/* SPDX-License-Identifier: Apache-2.0 */
/*
 * http.c - the KBS HTTP(S) listener on libmicrohttpd: it owns the sockets and a pool of
 * worker threads (poll); the body of each request is collected under VTK_MAX_BODY, then
 * answered by one call to vtk_handle() (kbs.c, which knows nothing of sockets).
 *
 * Why poll and not epoll: a worker serves its connections one request at a time, and a
 * release blocks it until the release's audit row is durable (an fsync). With epoll, MHD lets
 * the worker that wakes on the listening socket accept up to ten connections in a row, so a
 * burst of clients landed on two or three of the eight workers (measured: 8 kept-alive bench
 * clients on 2 workers, token fetches at half the rate), and each waited behind the others'
 * fsyncs. With poll every worker accepts one connection per wake-up and a busy worker is
 * not polling, so new connections go to idle workers.
 *
 * Trust boundary: everything here is unauthenticated network input; MHD parses HTTP, this
 * file bounds the body, extracts the kbs-session-id cookie and the Authorization header and
 * hands them on. HTTPS uses an ordinary certificate and key (PEM files, MHD's GnuTLS), TLS 1.2
 * or 1.3 with AEAD ciphers and forward secrecy only (TLS_PRIORITIES).
 *
 * Hostile peers:
 * - Slow peers: MHD's connection timeout only bounds inactivity, so a peer that trickles a
 *   header line every few seconds would hold its connection forever. Each connection is
 *   tracked from MHD's NOTIFY_CONNECTION (started/closed) and a sweeper thread shuts down
 *   (shutdown(2), so MHD sees EOF and closes it) every connection that has not delivered a
 *   complete request within request_timeout seconds of its accept or of its previous answer:
 *   an absolute deadline for the TLS handshake, the headers and the body. MHD notifies
 *   "closed" before it closes the descriptor and the list is under one mutex, so the sweeper
 *   never touches a descriptor that was closed (and perhaps reused). Connections are capped
 *   per client address (MHD's PER_IP_CONNECTION_LIMIT) and in all, within the descriptors
 *   the process has (RLIMIT_NOFILE less what the rest of the broker needs).
 * - The request target reaches vtk_handle() as sent: MHD's unescaping is replaced by a no-op
 *   (kbs.c refuses '%' in a resource path), and a NUL byte in the target (which would cut
 *   the C string MHD hands on) is refused here.
 * - Framing (RFC 9112 §6.3): Content-Length with Transfer-Encoding, a repeated
 *   Content-Length or Transfer-Encoding, or a transfer coding other than "chunked" is 400.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>

#include "kbs/kbs.h"
#include "util/secmem.h"

/* GnuTLS priorities: TLS 1.3 and 1.2 only, AEAD ciphers, ECDHE (forward secrecy) for 1.2. */
#define TLS_PRIORITIES                                                                      \
    "SECURE256:+SECURE128:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-CIPHER-ALL:+AES-256-GCM:"     \
    "+AES-128-GCM:+CHACHA20-POLY1305:-MAC-ALL:+AEAD:-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA:"        \
    "%SERVER_PRECEDENCE"

#define SWEEP_MS 200 /* how often the sweeper looks */

/* One live connection (MHD's socket context). */
struct track {
    struct track *prev, *next;
    int fd;
    int64_t start_ms; /* accept, or the end of the previous request */
    bool busy;        /* a complete request is being answered: not subject to the deadline */
    bool cut;         /* shut down by the sweeper */
};

struct vtk_http {
    struct MHD_Daemon *d;
    int port;
    struct vtk_server *k;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct track *head;   /* under mu */
    bool stop;            /* under mu */
    pthread_t sweeper;
    bool sweeper_on;
    int64_t deadline_ms;
    unsigned long cut;    /* connections cut since the last log line (under mu) */
    int64_t last_log_ms;
};

/* One request (MHD's con_cls, made when MHD sees the request line). */
struct conn {
    struct vt_buf body;
    size_t raw_len;   /* length of the request target as sent, query included */
    bool seen;        /* the handler was called for this request */
    bool too_big;
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct track *track_of(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

/* Mark the connection's request busy (being answered) or done (a new deadline starts). */
static void track_mark(struct vtk_http *l, struct MHD_Connection *c, bool busy)
{
    struct track *t = track_of(c);
    if (!t)
        return;
    pthread_mutex_lock(&l->mu);
    t->busy = busy;
    if (!busy)
        t->start_ms = mono_ms();
    pthread_mutex_unlock(&l->mu);
}

static void notify_conn(void *cls, struct MHD_Connection *c, void **socket_context,
                        enum MHD_ConnectionNotificationCode code)
{
    struct vtk_http *l = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        struct track *t = calloc(1, sizeof(*t));
        if (!t || !ci) { /* untracked means unbounded: refuse it instead */
            free(t);
            if (ci)
                (void)shutdown(ci->connect_fd, SHUT_RDWR);
            *socket_context = NULL;
            return;
        }
        t->fd = ci->connect_fd;
        t->start_ms = mono_ms();
        pthread_mutex_lock(&l->mu);
        t->next = l->head;
        if (l->head)
            l->head->prev = t;
        l->head = t;
        pthread_mutex_unlock(&l->mu);
        *socket_context = t;
        return;
    }
    struct track *t = *socket_context; /* closed: MHD closes the descriptor after this */
    if (!t)
        return;
    pthread_mutex_lock(&l->mu);
    if (t->prev)
        t->prev->next = t->next;
    else
        l->head = t->next;
    if (t->next)
        t->next->prev = t->prev;
    pthread_mutex_unlock(&l->mu);
    free(t);
    *socket_context = NULL;
}

/* Under l->mu: shut down every connection past its deadline. */
static void sweep_once(struct vtk_http *l, int64_t now)
{
    for (struct track *t = l->head; t; t = t->next) {
        if (t->busy || t->cut || now - t->start_ms < l->deadline_ms)
            continue;
        (void)shutdown(t->fd, SHUT_RDWR);
        t->cut = true;
        l->cut++;
    }
    if (l->cut && now - l->last_log_ms >= 10000) {
        vtb_state_log(l->k->st, "KBS: closed %lu connection(s) that did not complete a request "
                      "within %llds", l->cut, (long long)(l->deadline_ms / 1000));
        l->cut = 0;
        l->last_log_ms = now;
    }
}

static void *sweeper(void *arg)
{
    struct vtk_http *l = arg;
    pthread_mutex_lock(&l->mu);
    while (!l->stop) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_nsec += SWEEP_MS * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        (void)pthread_cond_timedwait(&l->cv, &l->mu, &ts);
        if (!l->stop)
            sweep_once(l, mono_ms());
    }
    pthread_mutex_unlock(&l->mu);
    return NULL;
}

/* MHD's unescaping replaced: the handler sees the request target as sent (kbs.c refuses
 * percent-encoding in resource paths instead of acting on a decoded '/' or NUL). */
static size_t no_unescape(void *cls, struct MHD_Connection *c, char *s)
{
    (void)cls;
    (void)c;
    return strlen(s);
}

/* The raw request target's length (before MHD splits off the query), per request. */
static void *uri_seen(void *cls, const char *uri, struct MHD_Connection *c)
{
    (void)cls;
    (void)c;
    struct conn *st = calloc(1, sizeof(*st));
    if (st) {
        st->body.max = VTK_MAX_BODY;
        st->raw_len = uri ? strlen(uri) : 0; /* NULL: no target (refused later) */
    }
    return st;
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    (void)toe;
    track_mark(cls, c, false); /* the next request on this connection gets a new deadline */
    struct conn *st = *con_cls;
    if (st) {
        vti_buf_free(&st->body);
        free(st);
        *con_cls = NULL;
    }
}

/* A NUL byte in the request target cuts the C string MHD hands on (and the one the URI log
 * callback saw). MHD 0.9 parses the request line in place: the target, a NUL where the space
 * was, then the version; so a target without a NUL ends one byte before the version string.
 * Anything else (a NUL inside, or a layout this code does not know) is refused. */
static bool target_intact(const char *url, const char *version, size_t raw_len)
{
    uintptr_t u = (uintptr_t)url, v = (uintptr_t)version;
    return version && *version && v > u && v - u - 1 == raw_len;
}

static enum MHD_Result count_framing(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *value)
{
    (void)kind;
    struct vtk_framing *f = cls;
    if (!strcasecmp(key, "Content-Length"))
        f->n_cl++;
    else if (!strcasecmp(key, "Transfer-Encoding")) {
        f->n_te++;
        f->te = value;
    }
    return MHD_YES;
}

vt_res vtk_http_framing(const struct vtk_framing *f)
{
    ENSURE(f->n_cl <= 1 && f->n_te <= 1 && !(f->n_cl && f->n_te), VT_ERR_KBS_HTTP_FRAMING);
    ENSURE(!f->n_te || (f->te && !strcasecmp(f->te, "chunked")), VT_ERR_KBS_HTTP_FRAMING);
    return vti_ok();
}

static enum MHD_Result send_response(struct MHD_Connection *c, struct vtk_response *resp)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(resp->body.len, resp->body.p,
                                                             MHD_RESPMEM_MUST_COPY);
    vti_buf_free(&resp->body);
    if (!r)
        return MHD_NO;
    if (resp->content_type)
        MHD_add_response_header(r, "Content-Type", resp->content_type);
    if (resp->set_cookie[0])
        MHD_add_response_header(r, "Set-Cookie", resp->set_cookie);
    MHD_add_response_header(r, "Cache-Control", "no-store");
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)resp->status, r);
    MHD_destroy_response(r);
    return ret;
}

/* A 400 from this layer (before the body is read: MHD then closes the connection). */
static enum MHD_Result bad_request(struct MHD_Connection *c, const char *kind, vt_err code,
                                   const char *detail)
{
    struct vtk_response resp = { .status = 400, .content_type = "application/problem+json",
                                 .body = VT_BUF_INIT };
    if (vti_buf_printf(&resp.body, "{\"type\":\"https://github.com/confidential-containers/"
                       "kbs/errors/%s\",\"title\":\"Bad Request\",\"status\":400,\"detail\":"
                       "\"%s\",\"code\":\"%s\"}", kind, detail, vt_errname(code)).err) {
        vti_buf_free(&resp.body);
        return MHD_NO;
    }
    return send_response(c, &resp);
}

/* First call for a request (headers in, body not yet read): the request line and framing. */
static enum MHD_Result first_call(struct MHD_Connection *c, struct conn *st, const char *url,
                                  const char *version)
{
    st->seen = true;
    if (!target_intact(url, version, st->raw_len))
        return bad_request(c, "InvalidRequestPath", VT_ERR_BROKER_BAD_PATH,
                           "NUL byte in the request target");
    struct vtk_framing f = { 0 };
    MHD_get_connection_values(c, MHD_HEADER_KIND, count_framing, &f);
    if (vtk_http_framing(&f).err)
        return bad_request(c, "InvalidRequest", VT_ERR_KBS_HTTP_FRAMING,
                           "ambiguous message framing: Content-Length with Transfer-Encoding, "
                           "either repeated, or a transfer coding other than chunked "
                           "(RFC 9112 section 6.3)");
    return MHD_YES;
}

static void peer_name(struct MHD_Connection *c, char *peer, size_t n)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (ci && ci->client_addr) {
        const struct sockaddr *sa = ci->client_addr;
        if (sa->sa_family == AF_INET)
            inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, peer, (socklen_t)n);
        else if (sa->sa_family == AF_INET6)
            inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, peer, (socklen_t)n);
    }
}

static enum MHD_Result answer(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **con_cls)
{
    struct vtk_http *l = cls;
    struct conn *st = *con_cls;
    if (!st)
        return MHD_NO; /* no request state (out of memory in uri_seen) */
    if (!st->seen)
        return first_call(c, st, url, version);
    if (*upload_size) {
        if (!st->too_big && vti_buf_append(&st->body, upload, *upload_size).err)
            st->too_big = true;
        *upload_size = 0;
        return MHD_YES;
    }
    track_mark(l, c, true); /* complete: being answered, past the deadline's reach */
    char peer[64] = "-";
    peer_name(c, peer, sizeof(peer));
    struct vtk_response resp = { .body = VT_BUF_INIT };
    if (st->too_big) {
        resp.status = 413;
        resp.content_type = "application/problem+json";
        vt_res pr = vti_buf_printf(&resp.body, "{\"type\":\"https://github.com/confidential-containers/"
                                        "kbs/errors/RequestTooLarge\",\"title\":\"Payload Too "
                                        "Large\",\"status\":413,\"detail\":\"body exceeds %zu "
                                        "bytes\"}", VTK_MAX_BODY);
        if (pr.err)
            resp.status = 500;
    } else {
        struct vtk_request rq = {
            .method = method, .path = url,
            .cookie_session = MHD_lookup_connection_value(c, MHD_COOKIE_KIND, "kbs-session-id"),
            .authorization = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization"),
            .body = st->body.p ? st->body.p : (const uint8_t *)"", .body_len = st->body.len,
            .peer = peer,
        };
        vtk_handle(l->k, &rq, (int64_t)time(NULL), &resp);
    }
    return send_response(c, &resp);
}

static char *read_text(const char *path)
{
    struct vt_buf b = VT_BUF_INIT;
    if (vti_file_read(path, (size_t)1 << 20, &b).err || vti_buf_cstr(&b).err) {
        vti_buf_free(&b);
        return NULL;
    }
    size_t n;
    return (char *)vti_buf_steal(&b, &n);
}

static void vtk_http_stop_free(struct vtk_http *l);

static struct addrinfo *resolve(const char *listen)
{
    char host[256];
    const char *colon = strrchr(listen, ':');
    if (!colon || (size_t)(colon - listen) >= sizeof(host))
        return NULL;
    snprintf(host, sizeof(host), "%.*s", (int)(colon - listen), listen);
    char *h = host;
    if (*h == '[' && h[strlen(h) - 1] == ']') {
        h[strlen(h) - 1] = 0;
        h++;
    }
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                              .ai_flags = AI_PASSIVE | AI_NUMERICSERV }, *ai = NULL;
    if (getaddrinfo(*h ? h : NULL, colon + 1, &hints, &ai) != 0)
        return NULL;
    return ai;
}

static void free_key(char *key)
{
    if (key) {
        vti_memzero(key, strlen(key));
        free(key);
    }
}

/* The connection limit in all: the configured one, within the descriptors this process may
 * still open (RLIMIT_NOFILE less what the rest of the broker needs); 0 if too few remain for
 * the worker threads. */
static unsigned conn_limit(const struct vtk_config *cfg)
{
    unsigned want = cfg->max_conns ? cfg->max_conns : 512;
    unsigned reserve = cfg->fd_reserve ? cfg->fd_reserve : 64;
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
        rlim_t room = rl.rlim_cur > reserve ? rl.rlim_cur - reserve : 0;
        if (room < want)
            want = (unsigned)room;
    }
    return want >= 4 * cfg->threads ? want : 0;
}

static struct MHD_Daemon *start_daemon(struct vtk_http *l, const struct addrinfo *ai,
                                       unsigned limit, const char *cert, const char *key)
{
    const struct vtk_config *cfg = &l->k->cfg;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_USE_ERROR_LOG;
    if (ai->ai_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    if (cert)
        flags |= MHD_USE_TLS;
    struct MHD_OptionItem tls_opts[] = {
        { cert ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, 0, vti_unconst(cert) },
        { MHD_OPTION_HTTPS_MEM_KEY, 0, vti_unconst(key) },
        { MHD_OPTION_HTTPS_PRIORITIES, 0, vti_unconst(TLS_PRIORITIES) },
        { MHD_OPTION_END, 0, NULL },
    };
    unsigned inactivity = cfg->request_timeout > 30 ? cfg->request_timeout : 30;
    return MHD_start_daemon(
        flags, 0, NULL, NULL, answer, l, MHD_OPTION_SOCK_ADDR, ai->ai_addr,
        MHD_OPTION_THREAD_POOL_SIZE, cfg->threads, MHD_OPTION_CONNECTION_TIMEOUT, inactivity,
        MHD_OPTION_CONNECTION_LIMIT, limit, MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, cfg->max_conns_per_addr ? cfg->max_conns_per_addr : 16u,
        MHD_OPTION_NOTIFY_COMPLETED, completed, l, MHD_OPTION_NOTIFY_CONNECTION, notify_conn, l,
        MHD_OPTION_URI_LOG_CALLBACK, uri_seen, l, MHD_OPTION_UNESCAPE_CALLBACK, no_unescape, l,
        MHD_OPTION_ARRAY, tls_opts, MHD_OPTION_END);
}

static struct vtk_http *listener_new(struct vtk_server *k)
{
    struct vtk_http *l = calloc(1, sizeof(*l));
    if (!l)
        return NULL;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&l->cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&l->mu, NULL);
    l->k = k;
    l->deadline_ms = (int64_t)(k->cfg.request_timeout ? k->cfg.request_timeout : 10) * 1000;
    return l;
}

vt_res vtk_http_start(struct vtk_server *k, struct vtk_http **ret)
{
    ENSURE(k->cfg.listen, VT_ERR_INVALID_ARG);
    unsigned limit = conn_limit(&k->cfg);
    ENSURE(limit, VT_ERR_BROKER_CONFIG); /* too few descriptors: raise the open-file limit */
    struct addrinfo *ai = resolve(k->cfg.listen);
    ENSURE(ai, VT_ERR_BROKER_CONFIG);
    char *cert = NULL, *key = NULL;
    if (k->cfg.cert || k->cfg.key) {
        cert = k->cfg.cert ? read_text(k->cfg.cert) : NULL;
        key = k->cfg.key ? read_text(k->cfg.key) : NULL;
        if (!cert || !key) {
            freeaddrinfo(ai);
            free(cert);
            free_key(key);
            return VT_FAIL(VT_ERR_BROKER_CONFIG);
        }
    }
    struct vtk_http *l = listener_new(k);
    struct MHD_Daemon *d = l ? start_daemon(l, ai, limit, cert, key) : NULL;
    freeaddrinfo(ai);
    free(cert);
    free_key(key);
    if (l && d && pthread_create(&l->sweeper, NULL, sweeper, l) == 0)
        l->sweeper_on = true;
    if (!d || !l || !l->sweeper_on) {
        if (d)
            MHD_stop_daemon(d);
        vtk_http_stop_free(l);
        return VT_FAIL(d || !l ? VT_ERR_NOMEM : VT_ERR_IO);
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    l->port = di ? di->port : 0;
    l->d = d;
    *ret = l;
    return vti_ok();
}

int vtk_http_port(const struct vtk_http *h)
{
    return h ? h->port : 0;
}

/* The sweeper stopped, the daemon gone: free what is left. */
static void vtk_http_stop_free(struct vtk_http *l)
{
    if (!l)
        return;
    while (l->head) { /* MHD notified every close; nothing should be left */
        struct track *t = l->head;
        l->head = t->next;
        free(t);
    }
    pthread_cond_destroy(&l->cv);
    pthread_mutex_destroy(&l->mu);
    free(l);
}

void vtk_http_stop(struct vtk_http *h)
{
    if (!h)
        return;
    if (h->sweeper_on) {
        pthread_mutex_lock(&h->mu);
        h->stop = true;
        pthread_cond_signal(&h->cv);
        pthread_mutex_unlock(&h->mu);
        pthread_join(h->sweeper, NULL);
    }
    MHD_stop_daemon(h->d);
    vtk_http_stop_free(h);
}
