/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tunnel.c - the event loop of `veritee tunnel` (see tunnel.h for the connection life).
 *
 * Trust boundary: the TLS side is untrusted until the library has verified the peer's evidence
 * and vtp_expect_check has appraised it; only then is the plaintext side opened (egress) or
 * read (ingress). The plaintext side is the local application, trusted to be the one the
 * operator named. Each connection ends with one log line on stderr: its peer, the verdict or
 * the precise refusal (VT_ERR_* name and detail), and the bytes relayed each way.
 */
#include "tunnel.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "policy/input.h"
#include "tool.h"

#define TUN_BUF 65536    /* per direction and connection */
#define TLS_CHUNK 16384  /* one TLS record of plaintext per vt_conn_write */
#define PFD_BASE (2 + TUN_MFDS) /* poll set: listener, resolver pipe, /metrics, then conns */

enum cstate { C_REQUEST, C_RESOLVE, C_DIAL, C_HANDSHAKE, C_OPEN };

/* Egress --claims-header: where the filter is in the client's request stream. */
enum hstate { H_HEAD, H_BODY, H_CHUNK_LINE, H_CHUNK_DATA, H_CHUNK_END, H_TRAILER };

struct hfilter {
    enum hstate st;
    uint64_t left;            /* H_BODY / H_CHUNK_DATA: bytes to pass through */
    uint8_t in[TUN_BUF];      /* from TLS, not yet judged */
    size_t in_len;
    char *value;              /* the header's value: the peer's claims, one JSON line */
};

struct tconn {
    long id;
    char peer[96];
    enum cstate st;
    int pfd, tfd;             /* plaintext and TLS sockets (-1: not yet) */
    struct sockaddr_storage to; /* where to dial */
    socklen_t to_len;
    char to_text[300];
    struct vtp_proxy_req req; /* C_REQUEST: the proxy request, once parsed */
    struct tun_lookup *lk;    /* C_RESOLVE: the lookup under way */
    struct hfilter *hf;       /* egress --claims-header */
    bool greeted;             /* SOCKS5: the greeting was answered */
    bool replied;             /* proxy: the client got its success or failure reply */
    size_t reply_left;        /* bytes of t2p that are our reply, not relayed data */
    vt_conn *tls;
    struct tctx *gen;         /* the context (certificate generation) tls was made with */
    uint8_t p2t[TUN_BUF];     /* plaintext -> TLS */
    size_t p2t_off, p2t_len, inflight; /* inflight: length of a vt_conn_write to repeat */
    uint8_t t2p[TUN_BUF];     /* TLS -> plaintext */
    size_t t2p_off, t2p_len;
    bool p_eof, t_eof, t_shut, p_shut;
    int hs_want, rd_want, wr_want, sh_want; /* vt_conn_want after VT_ERR_TLS_WANT_IO */
    unsigned long long p_in, t_in; /* bytes relayed from the plaintext / TLS side */
    time_t deadline;          /* of dial + handshake; then of idleness (0 = none) */
    char verdict[400];
    int refuse_code;          /* the VT_ERR_* of a refusal (0: none) */
    bool failed;
    char ended[300];          /* why the relay ended abnormally, "" if it did not */
};

/* One certificate generation: connections hold it until they end. */
struct tctx {
    vt_ctx *ctx;
    long refs;
    time_t made;
};

struct tun {
    const struct tun_cfg *cfg;
    struct tctx *cur;         /* new connections use this one */
    struct tconn **conns;     /* max_parallel slots */
    size_t n_open;
    long accepted;
    long failures;
    struct pollfd *pfds;
    struct tun_resolver *resolver; /* proxy modes: name lookups off the loop */
    struct tun_metrics m;
    struct tun_mserver ms;    /* --metrics */
};

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

static const char *side_name(const struct tun *t)
{
    return t->cfg->side == TUN_INGRESS ? "ingress" : "egress";
}

/* ---- connection end ------------------------------------------------------------------------ */

/* Bytes client -> server and server -> client: the accepted side is the client's. */
static void conn_log(const struct tun *t, const struct tconn *c)
{
    bool in = t->cfg->side == TUN_INGRESS;
    unsigned long long c2s = in ? c->p_in : c->t_in, s2c = in ? c->t_in : c->p_in;
    fprintf(stderr, "%s: conn %ld from %s to %s: %s; bytes c2s %llu s2c %llu%s%s\n",
            side_name(t), c->id, c->peer, c->to_text[0] ? c->to_text : "?", c->verdict, c2s, s2c,
            c->ended[0] ? "; ended: " : "", c->ended);
    fflush(stderr);
}

static void proxy_fail_reply(const struct tun *t, struct tconn *c);
static void proxy_ok_reply(const struct tun *t, struct tconn *c);

static void metrics_refused(struct tun_metrics *m, int code)
{
    size_t i = 0;
    while (i < m->n_reasons && m->refused[i].code != code)
        i++;
    if (i == m->n_reasons && m->n_reasons < TUN_REASONS)
        m->refused[m->n_reasons++].code = code;
    m->refused[i < TUN_REASONS ? i : TUN_REASONS - 1].n++;
}

/* --metrics: one ended connection. */
static void metrics_count(struct tun *t, const struct tconn *c)
{
    bool in = t->cfg->side == TUN_INGRESS;
    t->m.c2s += in ? c->p_in : c->t_in;
    t->m.s2c += in ? c->t_in : c->p_in;
    if (c->refuse_code)
        metrics_refused(&t->m, c->refuse_code);
    else
        t->m.failed += c->failed;
}

static void conn_close(struct tun *t, size_t slot)
{
    struct tconn *c = t->conns[slot];
    if (c->failed && !c->replied && t->cfg->proxy != TUN_PROXY_NONE && c->pfd >= 0)
        proxy_fail_reply(t, c);
    conn_log(t, c);
    if (c->failed)
        t->failures++;
    metrics_count(t, c);
    if (c->lk)
        c->lk->owner = NULL; /* the lookup thread finishes; the loop frees it then */
    if (c->hf) {
        free(c->hf->value);
        free(c->hf);
    }
    vt_conn_free(c->tls);
    if (c->gen && --c->gen->refs == 0 && c->gen != t->cur) {
        vt_ctx_free(c->gen->ctx);
        free(c->gen);
    }
    if (c->pfd >= 0)
        close(c->pfd);
    if (c->tfd >= 0)
        close(c->tfd);
    free(c);
    t->conns[slot] = NULL;
    t->n_open--;
}

/* Refuse before the relay: the verdict is the precise reason; nothing was forwarded. */
static void refuse(struct tconn *c, int err, const char *detail)
{
    snprintf(c->verdict, sizeof(c->verdict), "refused: %s: %.300s", vt_errname(err),
             detail && detail[0] ? detail : vt_strerror(err));
    c->refuse_code = err;
    c->failed = true;
}

/* End the relay abnormally (reset, truncation, timeout): recorded next to the verdict. */
static void relay_fail(struct tconn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void relay_fail(struct tconn *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->ended, sizeof(c->ended), fmt, ap);
    va_end(ap);
    c->failed = true;
}

static bool conn_dead(const struct tconn *c)
{
    return c->failed || (c->p_eof && c->t_eof && c->t_shut && c->p_shut);
}

/* ---- dialling and the handshake -------------------------------------------------------------- */

/* Start a non-blocking connect to --to into *fd; false after refuse(). */
static bool dial_start(const struct tun *t, struct tconn *c, int *fd)
{
    (void)t;
    int s = socket(c->to.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s < 0) {
        refuse(c, VT_ERR_TUNNEL_DIAL, strerror(errno));
        return false;
    }
    int one = 1;
    (void)setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    *fd = s;
    if (connect(s, (const struct sockaddr *)&c->to, c->to_len) == 0 || errno == EINPROGRESS)
        return true;
    char d[400];
    snprintf(d, sizeof(d), "%s: %s", c->to_text, strerror(errno));
    refuse(c, VT_ERR_TUNNEL_DIAL, d);
    return false;
}

/* The resource path a --policy rule must match: tunnel/<side>/<destination>, the destination
 * HOST:PORT with every byte outside [A-Za-z0-9._-] as '_' (e.g. tunnel/ingress/10.0.0.5_8443;
 * on the egress the application's --to). A longer one than a segment allows matches nothing. */
static void policy_path(const struct tun *t, const struct tconn *c, char *out, size_t len)
{
    char dest[300];
    size_t n = 0;
    for (const char *s = c->to_text; *s && n + 1 < sizeof(dest); s++)
        dest[n++] = (isalnum((unsigned char)*s) || strchr("._-", *s)) ? *s : '_';
    dest[n] = '\0';
    snprintf(out, len, "tunnel/%s/%s", side_name(t), dest);
}

/* --policy: the broker's rules over the verified report; the refusal names the rule. */
static vt_res policy_check(const struct tun *t, const struct tconn *c, const vt_report *rep,
                           char *rule, char *why, size_t why_len)
{
    char path[400], w[256] = "";
    policy_path(t, c, path, sizeof(path));
    struct vtb_report_input ri;
    vt_res r = vtb_input_from_report(rep, &ri);
    if (!r.err)
        r = vtb_appraise_rule(t->cfg->policy, &ri.in, path, (int64_t)time(NULL), rule, w,
                              sizeof(w));
    vtb_input_free(&ri);
    if (r.err)
        snprintf(why, why_len, "--policy rule %s: %s", rule[0] ? rule : "(none for this path)",
                 w[0] ? w : vt_strerror(r.err));
    return r;
}

/* --claims-header: the verified claims as one line of JSON (printable ASCII). */
static char *claims_value(const vt_report *rep)
{
    char *full = vt_report_to_json(rep, false);
    json_t *j = full ? json_loads(full, 0, NULL) : NULL;
    free(full);
    char *line = j ? json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_PRESERVE_ORDER) : NULL;
    json_decref(j);
    return line;
}

static bool claims_filter_new(struct tconn *c, const vt_report *rep)
{
    c->hf = calloc(1, sizeof(*c->hf));
    if (c->hf)
        c->hf->value = claims_value(rep);
    if (!c->hf || !c->hf->value) {
        refuse(c, VT_ERR_NOMEM, "--claims-header: cannot render the claims");
        return false;
    }
    return true;
}

/* The peer's report passed the library; now the operator's --expect, --max-evidence-age and
 * --policy. */
static bool appraise(struct tun *t, struct tconn *c)
{
    const vt_report *rep = vt_conn_peer_report(c->tls);
    if (!t->cfg->appraise) {
        snprintf(c->verdict, sizeof(c->verdict), "client not attested (egress without --mutual)");
        return true;
    }
    char why[400], rule[64] = "";
    vt_res r = vtp_expect_check(rep, t->cfg->expect, t->cfg->n_expect, why, sizeof(why));
    if (!r.err && t->cfg->max_evidence_age > 0)
        r = vtp_evidence_age_check(rep, (int64_t)time(NULL), t->cfg->max_evidence_age, why,
                                   sizeof(why));
    if (!r.err && t->cfg->policy)
        r = policy_check(t, c, rep, rule, why, sizeof(why));
    if (r.err) {
        refuse(c, r.err, why);
        return false;
    }
    if (t->cfg->claims_header && !claims_filter_new(c, rep))
        return false;
    t->m.verified++;
    snprintf(c->verdict, sizeof(c->verdict), "verified tee=%s%s%s%s", vt_report_tee(rep),
             vt_report_insecure(rep) ? " (INSECURE evidence)" : "",
             rule[0] ? ", --policy rule " : "", rule);
    return true;
}

static void step_handshake(struct tun *t, struct tconn *c)
{
    int err = vt_conn_handshake(c->tls);
    c->hs_want = 0;
    if (err == VT_ERR_TLS_WANT_IO) {
        c->hs_want = vt_conn_want(c->tls);
        return;
    }
    if (err) {
        refuse(c, err, vt_conn_error_detail(c->tls));
        return;
    }
    if (!appraise(t, c))
        return;
    if (t->cfg->side == TUN_EGRESS) {
        c->st = C_DIAL; /* only an accepted client reaches the application */
        (void)dial_start(t, c, &c->pfd);
        return;
    }
    c->st = C_OPEN;
    if (t->cfg->proxy != TUN_PROXY_NONE)
        proxy_ok_reply(t, c);
}

/* ---- proxy requests (ingress --http-proxy / --socks5) ---------------------------------------- */

/* Best effort: a refused or failed request gets the protocol's failure reply (a new socket's
 * send buffer takes these few bytes). The VT_ERR_* name helps the operator, nothing else. */
static void proxy_fail_reply(const struct tun *t, struct tconn *c)
{
    char msg[200];
    size_t n;
    if (t->cfg->proxy == TUN_PROXY_HTTP) {
        int w = snprintf(msg, sizeof(msg), "HTTP/1.1 502 Bad Gateway\r\nX-Veritee-Refusal: %s\r\n"
                         "Content-Length: 0\r\nConnection: close\r\n\r\n",
                         c->verdict[0] == 'r' ? c->verdict + 9 : "relay failed");
        n = w > 0 && (size_t)w < sizeof(msg) ? (size_t)w : 0;
    } else if (!c->greeted) {
        static const uint8_t no_method[] = { 5, 0xff };
        memcpy(msg, no_method, sizeof(no_method));
        n = sizeof(no_method);
    } else {
        /* RFC 1928 replies: 5 refused (dial), 7 command, 8 address type, 2 not allowed (a
         * refused peer), 1 general failure */
        static const uint8_t fail[] = { 5, 1, 0, 1, 0, 0, 0, 0, 0, 0 };
        memcpy(msg, fail, sizeof(fail));
        n = sizeof(fail);
        if (strstr(c->verdict, "VT_ERR_TUNNEL_DIAL"))
            msg[1] = 5;
        else if (strstr(c->verdict, "VT_ERR_TUNNEL_SOCKS_COMMAND"))
            msg[1] = 7;
        else if (strstr(c->verdict, "VT_ERR_TUNNEL_SOCKS_ADDRESS"))
            msg[1] = 8;
        else if (!strncmp(c->verdict, "refused", 7))
            msg[1] = 2;
    }
    if (n)
        (void)send(c->pfd, msg, n, MSG_NOSIGNAL);
    c->replied = true;
}

/* The relay is about to start: a CONNECT or SOCKS5 client is told so. */
static void proxy_ok_reply(const struct tun *t, struct tconn *c)
{
    static const char http_ok[] = "HTTP/1.1 200 Connection established\r\n\r\n";
    static const uint8_t socks_ok[] = { 5, 0, 0, 1, 0, 0, 0, 0, 0, 0 };
    const void *r = NULL;
    size_t n = 0;
    if (t->cfg->proxy == TUN_PROXY_SOCKS5) {
        r = socks_ok;
        n = sizeof(socks_ok);
    } else if (t->cfg->proxy == TUN_PROXY_HTTP && c->req.kind == VTP_PROXY_CONNECT) {
        r = http_ok;
        n = sizeof(http_ok) - 1;
    }
    c->replied = true;
    if (!n)
        return;
    memcpy(c->t2p, r, n); /* t2p is empty: nothing was read from TLS yet */
    c->t2p_len = n;
    c->reply_left = n;
}

/* A finished lookup: the address to dial, or the refusal. */
static void resolved(struct tun *t, struct tconn *c, const struct tun_lookup *q)
{
    if (q->gai != 0) {
        char d[400];
        snprintf(d, sizeof(d), "%s: %s", c->to_text, gai_strerror(q->gai));
        refuse(c, VT_ERR_PROTO_RESOLVE, d);
        return;
    }
    memcpy(&c->to, &q->addr, q->addr_len);
    c->to_len = q->addr_len;
    c->st = C_DIAL;
    (void)dial_start(t, c, &c->tfd);
}

/* The destination the request names: an IP literal at once; a name by the resolver threads
 * (C_RESOLVE until its answer comes through their pipe; the loop goes on meanwhile). */
static void resolve_dest(struct tun *t, struct tconn *c)
{
    struct tun_lookup *q = calloc(1, sizeof(*q));
    if (!q) {
        refuse(c, VT_ERR_NOMEM, "name lookup");
        return;
    }
    snprintf(q->host, sizeof(q->host), "%s", c->req.host);
    snprintf(q->port, sizeof(q->port), "%u", c->req.port);
    bool v6 = strchr(c->req.host, ':') != NULL;
    snprintf(c->to_text, sizeof(c->to_text), v6 ? "[%s]:%s" : "%s:%s", q->host, q->port);
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
                              .ai_flags = AI_NUMERICSERV | AI_NUMERICHOST }, *res = NULL;
    if (getaddrinfo(q->host, q->port, &hints, &res) == 0 && res &&
        res->ai_addrlen <= sizeof(q->addr)) { /* a literal: no lookup */
        memcpy(&q->addr, res->ai_addr, res->ai_addrlen);
        q->addr_len = res->ai_addrlen;
        freeaddrinfo(res);
        resolved(t, c, q);
        free(q);
        return;
    }
    if (res)
        freeaddrinfo(res);
    q->owner = c;
    if (!t->resolver || !tun_resolver_submit(t->resolver, q)) {
        free(q);
        refuse(c, VT_ERR_TUNNEL_RESOLVE_BUSY, t->resolver ? "256 name lookups waiting"
                                                          : "no resolver threads");
        return;
    }
    c->lk = q;
    c->st = C_RESOLVE;
}

/* Every lookup the resolver threads finished: its connection (if still there) goes on. */
static void lookups_done(struct tun *t)
{
    for (struct tun_lookup *q; (q = tun_resolver_done(t->resolver)) != NULL; free(q)) {
        struct tconn *c = q->owner;
        if (!c)
            continue; /* the connection ended meanwhile */
        c->lk = NULL;
        if (!c->failed)
            resolved(t, c, q);
    }
}

/* SOCKS5: answer the greeting, then parse the request. VT_ERR_TUNNEL_INCOMPLETE: wait. */
static vt_res socks_step(struct tconn *c)
{
    if (!c->greeted) {
        size_t used = 0;
        GUARD(vtp_socks5_greeting_parse(c->p2t, c->p2t_len, &used));
        static const uint8_t no_auth[] = { 5, 0 };
        (void)send(c->pfd, no_auth, sizeof(no_auth), MSG_NOSIGNAL);
        c->greeted = true;
        c->p2t_len = 0;
        return VT_FAIL(VT_ERR_TUNNEL_INCOMPLETE);
    }
    GUARD(vtp_socks5_request_parse(c->p2t, c->p2t_len, &c->req));
    c->p2t_len = 0;
    return vti_ok();
}

/* HTTP: parse the head; keep what follows it, and the request itself re-sent in origin form
 * for an absolute-form request. */
static vt_res http_step(struct tconn *c)
{
    GUARD(vtp_proxy_http_parse(c->p2t, c->p2t_len, &c->req));
    size_t drop = c->req.kind == VTP_PROXY_CONNECT ? c->req.head_len : c->req.line_len;
    memmove(c->p2t, c->p2t + drop, c->p2t_len - drop);
    c->p2t_len -= drop;
    if (c->req.kind == VTP_PROXY_ABSOLUTE) {
        size_t ol = strlen(c->req.origin_line); /* < the line it replaces + 8 KiB: fits */
        memmove(c->p2t + ol, c->p2t, c->p2t_len);
        memcpy(c->p2t, c->req.origin_line, ol);
        c->p2t_len += ol;
    }
    return vti_ok();
}

/* Read the proxy request (at most its cap + 1 bytes), then resolve and dial what it names. */
static void step_request(struct tun *t, struct tconn *c)
{
    size_t cap = VTP_PROXY_HEAD_MAX + 1;
    ssize_t n = c->p2t_len < cap ? recv(c->pfd, c->p2t + c->p2t_len, cap - c->p2t_len, 0) : 0;
    if (n > 0)
        c->p2t_len += (size_t)n;
    else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return;
    vt_res r = t->cfg->proxy == TUN_PROXY_SOCKS5 ? socks_step(c) : http_step(c);
    if (r.err == VT_ERR_TUNNEL_INCOMPLETE && n > 0)
        return;
    if (r.err == VT_ERR_TUNNEL_INCOMPLETE) {
        refuse(c, r.err, n == 0 ? "the client closed before its request ended" : strerror(errno));
        return;
    }
    if (r.err) {
        refuse(c, r.err, vt_strerror(r.err));
        return;
    }
    resolve_dest(t, c);
}

/* The TLS side is connected: wrap it (ingress: we are the client, so speak first). */
static void tls_begin(struct tun *t, struct tconn *c)
{
    int err = vt_conn_new(c->gen->ctx, c->tfd, &c->tls);
    if (err) {
        refuse(c, err, "cannot set up the TLS connection");
        return;
    }
    c->st = C_HANDSHAKE;
    step_handshake(t, c);
}

static void step_dial(struct tun *t, struct tconn *c)
{
    int fd = t->cfg->side == TUN_INGRESS ? c->tfd : c->pfd;
    int soerr = 0;
    socklen_t sl = sizeof(soerr);
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0)
        soerr = errno;
    if (soerr) {
        char d[400];
        snprintf(d, sizeof(d), "%s: %s", c->to_text, strerror(soerr));
        if (t->cfg->side == TUN_INGRESS)
            refuse(c, VT_ERR_TUNNEL_DIAL, d);
        else
            relay_fail(c, "%s: %s", vt_errname(VT_ERR_TUNNEL_DIAL), d);
        return;
    }
    if (t->cfg->side == TUN_INGRESS)
        tls_begin(t, c);
    else
        c->st = C_OPEN;
}

/* ---- the relay ----------------------------------------------------------------------------- */

/* Plaintext socket -> p2t. */
static bool read_plain(struct tconn *c)
{
    if (c->p_eof || c->failed)
        return false;
    if (c->inflight == 0 && c->p2t_off > 0) { /* compact, unless a write must be repeated */
        memmove(c->p2t, c->p2t + c->p2t_off, c->p2t_len - c->p2t_off);
        c->p2t_len -= c->p2t_off;
        c->p2t_off = 0;
    }
    if (c->p2t_len == TUN_BUF)
        return false;
    ssize_t n = recv(c->pfd, c->p2t + c->p2t_len, TUN_BUF - c->p2t_len, 0);
    if (n > 0) {
        c->p2t_len += (size_t)n;
        return true;
    }
    if (n == 0) {
        c->p_eof = true;
        return true;
    }
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
        relay_fail(c, "plaintext side: %s", strerror(errno));
    return false;
}

/* p2t -> TLS, then close_notify once the plaintext side ended and all is sent. */
static bool write_tls(struct tconn *c)
{
    if (c->failed)
        return false;
    c->wr_want = 0;
    if (c->p2t_off < c->p2t_len) {
        if (c->inflight == 0)
            c->inflight = c->p2t_len - c->p2t_off < TLS_CHUNK ? c->p2t_len - c->p2t_off : TLS_CHUNK;
        int err = vt_conn_write(c->tls, c->p2t + c->p2t_off, c->inflight);
        if (err == VT_ERR_TLS_WANT_IO) {
            c->wr_want = vt_conn_want(c->tls);
            return false;
        }
        if (err) {
            relay_fail(c, "TLS side: %s: %s", vt_errname(err), vt_conn_error_detail(c->tls));
            return false;
        }
        c->p2t_off += c->inflight;
        c->p_in += c->inflight;
        c->inflight = 0;
        if (c->p2t_off == c->p2t_len)
            c->p2t_off = c->p2t_len = 0;
        return true;
    }
    if (!c->p_eof || c->t_shut)
        return false;
    c->sh_want = 0;
    int err = vt_conn_shutdown(c->tls);
    if (err == VT_ERR_TLS_WANT_IO) {
        c->sh_want = vt_conn_want(c->tls);
        return false;
    }
    if (err)
        relay_fail(c, "TLS side: %s: %s", vt_errname(err), vt_conn_error_detail(c->tls));
    c->t_shut = true;
    return true;
}

/* ---- egress --claims-header: the client's requests, judged head by head -------------------- */

enum fstep { F_MOVED, F_WAIT_INPUT, F_WAIT_SPACE };

static void hf_consume(struct hfilter *h, size_t n)
{
    memmove(h->in, h->in + n, h->in_len - n);
    h->in_len -= n;
}

/* n bytes of h->in on to t2p as they are. */
static void hf_pass(struct tconn *c, size_t n)
{
    memcpy(c->t2p + c->t2p_len, c->hf->in, n);
    c->t2p_len += n;
    hf_consume(c->hf, n);
}

static enum fstep hf_fail(struct tconn *c, vt_res r, const char *what)
{
    relay_fail(c, "%s: %s (%s)", vt_errname(r.err), vt_strerror(r.err), what);
    return F_WAIT_INPUT;
}

/* A request head: rewritten into the empty t2p (the header injected, the client's copies of
 * it dropped); then how its body ends. */
static enum fstep hf_head(const struct tun *t, struct tconn *c)
{
    struct hfilter *h = c->hf;
    if (h->in_len == 0)
        return F_WAIT_INPUT;
    if (c->t2p_len != 0)
        return F_WAIT_SPACE;
    struct vtp_http_framing f;
    size_t out = 0;
    vt_res r = vtp_http_head_rewrite(h->in, h->in_len, t->cfg->claims_header, h->value, c->t2p,
                                     TUN_BUF, &out, &f);
    if (r.err == VT_ERR_TUNNEL_INCOMPLETE)
        return F_WAIT_INPUT;
    if (r.err)
        return hf_fail(c, r, "a request head from the client");
    hf_consume(h, f.head_len);
    c->t2p_len = out;
    h->left = f.length;
    h->st = f.chunked ? H_CHUNK_LINE : f.length ? H_BODY : H_HEAD;
    return F_MOVED;
}

/* Body bytes (Content-Length, or a chunk's data) on as they are. */
static enum fstep hf_body(struct tconn *c)
{
    struct hfilter *h = c->hf;
    size_t n = h->in_len, space = TUN_BUF - c->t2p_len;
    if (n > space)
        n = space;
    if (n > h->left)
        n = (size_t)h->left;
    if (n == 0)
        return h->in_len ? F_WAIT_SPACE : F_WAIT_INPUT;
    hf_pass(c, n);
    h->left -= n;
    if (h->left == 0)
        h->st = h->st == H_BODY ? H_HEAD : H_CHUNK_END;
    return F_MOVED;
}

static enum fstep hf_chunk_line(struct tconn *c)
{
    struct hfilter *h = c->hf;
    uint64_t size = 0;
    size_t used = 0;
    vt_res r = vtp_http_chunk_line(h->in, h->in_len, &size, &used);
    if (r.err == VT_ERR_TUNNEL_INCOMPLETE)
        return F_WAIT_INPUT;
    if (r.err)
        return hf_fail(c, r, "a chunk-size line");
    if (used > TUN_BUF - c->t2p_len)
        return F_WAIT_SPACE;
    hf_pass(c, used);
    h->left = size;
    h->st = size ? H_CHUNK_DATA : H_TRAILER;
    return F_MOVED;
}

/* The CRLF after a chunk's data, or the empty trailer section (trailer fields are refused:
 * an application might merge them into the header fields). */
static enum fstep hf_crlf(struct tconn *c)
{
    struct hfilter *h = c->hf;
    if (h->in_len < 2)
        return h->in_len == 1 && h->in[0] != '\r'
                   ? hf_fail(c, VT_FAIL(VT_ERR_TUNNEL_HDR_CHUNK), "after a chunk")
                   : F_WAIT_INPUT;
    if (h->in[0] != '\r' || h->in[1] != '\n')
        return hf_fail(c, VT_FAIL(VT_ERR_TUNNEL_HDR_CHUNK),
                       h->st == H_TRAILER ? "trailer fields" : "no CRLF after a chunk");
    if (TUN_BUF - c->t2p_len < 2)
        return F_WAIT_SPACE;
    hf_pass(c, 2);
    h->st = h->st == H_TRAILER ? H_HEAD : H_CHUNK_LINE;
    return F_MOVED;
}

static enum fstep hf_step(const struct tun *t, struct tconn *c)
{
    switch (c->hf->st) {
    case H_HEAD: return hf_head(t, c);
    case H_BODY:
    case H_CHUNK_DATA: return hf_body(c);
    case H_CHUNK_LINE: return hf_chunk_line(c);
    case H_CHUNK_END:
    case H_TRAILER: return hf_crlf(c);
    }
    return F_WAIT_INPUT;
}

/* Move what can be judged from hf->in to t2p; a stream that ends inside a head or a chunk
 * line is cut off, not forwarded. */
static bool hf_run(const struct tun *t, struct tconn *c)
{
    if (c->t2p_off > 0) {
        memmove(c->t2p, c->t2p + c->t2p_off, c->t2p_len - c->t2p_off);
        c->t2p_len -= c->t2p_off;
        c->t2p_off = 0;
    }
    bool any = false;
    enum fstep s = F_WAIT_INPUT;
    while (!c->failed && (s = hf_step(t, c)) == F_MOVED)
        any = true;
    if (!c->failed && c->t_eof && c->hf->in_len > 0 && s == F_WAIT_INPUT)
        relay_fail(c, "%s: the client's stream ended inside a request head or chunk line",
                   vt_errname(VT_ERR_TUNNEL_INCOMPLETE));
    return any;
}

/* TLS -> hf->in -> (judged) t2p. */
static bool read_tls_filtered(const struct tun *t, struct tconn *c)
{
    struct hfilter *h = c->hf;
    bool moved = false;
    c->rd_want = 0;
    if (!c->t_eof && !c->failed && h->in_len < TUN_BUF) {
        size_t got = 0;
        int err = vt_conn_read(c->tls, h->in + h->in_len, TUN_BUF - h->in_len, &got);
        if (err == VT_ERR_TLS_WANT_IO) {
            c->rd_want = vt_conn_want(c->tls);
        } else if (err) {
            relay_fail(c, "TLS side: %s: %s", vt_errname(err), vt_conn_error_detail(c->tls));
            return false;
        } else {
            c->t_eof = got == 0;
            h->in_len += got;
            moved = true;
        }
    }
    return (!c->failed && hf_run(t, c)) || moved;
}

/* TLS -> t2p. */
static bool read_tls(const struct tun *t, struct tconn *c)
{
    if (c->hf)
        return read_tls_filtered(t, c);
    if (c->t_eof || c->failed)
        return false;
    c->rd_want = 0;
    if (c->t2p_off > 0) {
        memmove(c->t2p, c->t2p + c->t2p_off, c->t2p_len - c->t2p_off);
        c->t2p_len -= c->t2p_off;
        c->t2p_off = 0;
    }
    if (c->t2p_len == TUN_BUF)
        return false;
    size_t got = 0;
    int err = vt_conn_read(c->tls, c->t2p + c->t2p_len, TUN_BUF - c->t2p_len, &got);
    if (err == VT_ERR_TLS_WANT_IO) {
        c->rd_want = vt_conn_want(c->tls);
        return false;
    }
    if (err) {
        relay_fail(c, "TLS side: %s: %s", vt_errname(err), vt_conn_error_detail(c->tls));
        return false;
    }
    if (got == 0)
        c->t_eof = true;
    c->t2p_len += got;
    return true;
}

/* t2p -> plaintext socket, then its write side is shut once TLS ended and all is sent. */
static bool write_plain(struct tconn *c)
{
    if (c->failed)
        return false;
    if (c->t2p_off < c->t2p_len) {
        ssize_t n = send(c->pfd, c->t2p + c->t2p_off, c->t2p_len - c->t2p_off, MSG_NOSIGNAL);
        if (n > 0) {
            size_t ours = c->reply_left < (size_t)n ? c->reply_left : (size_t)n;
            c->reply_left -= ours;
            c->t_in += (size_t)n - ours;
            c->t2p_off += (size_t)n;
            if (c->t2p_off == c->t2p_len)
                c->t2p_off = c->t2p_len = 0;
            return true;
        }
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            relay_fail(c, "plaintext side: %s", strerror(errno));
        return false;
    }
    if (!c->t_eof || c->p_shut || (c->hf && c->hf->in_len > 0))
        return false;
    (void)shutdown(c->pfd, SHUT_WR);
    c->p_shut = true;
    return true;
}

/* Move bytes both ways until nothing moves (the sockets would block or the buffers are full),
 * at most a fair share per call; true if there may be more to move without a poll event. */
static bool pump(const struct tun *t, struct tconn *c)
{
    bool moved = true;
    for (int rounds = 0; moved && rounds < 32; rounds++) {
        moved = false;
        moved |= read_plain(c);
        moved |= write_tls(c);
        moved |= read_tls(t, c);
        moved |= write_plain(c);
    }
    return moved && !conn_dead(c);
}

/* ---- the loop -------------------------------------------------------------------------------- */

static short want_events(int want)
{
    return want == VT_WANT_WRITE ? POLLOUT : POLLIN;
}

/* What to wait for on the plaintext (*pe) and TLS (*te) sockets. */
static void conn_events(const struct tconn *c, short *pe, short *te)
{
    *pe = *te = 0;
    if (c->st == C_REQUEST) {
        *pe = POLLIN;
        return;
    }
    if (c->st == C_RESOLVE)
        return; /* the resolver's pipe wakes the loop */
    if (c->st == C_DIAL) {
        *(c->tfd >= 0 && !c->tls ? te : pe) = POLLOUT;
        return;
    }
    if (c->st == C_HANDSHAKE) {
        *te = c->hs_want ? want_events(c->hs_want) : POLLIN;
        return;
    }
    if (!c->p_eof && (c->p2t_len < TUN_BUF || (c->inflight == 0 && c->p2t_off > 0)))
        *pe |= POLLIN;
    if (c->t2p_off < c->t2p_len)
        *pe |= POLLOUT;
    if (c->wr_want)
        *te |= want_events(c->wr_want);
    if (c->sh_want)
        *te |= want_events(c->sh_want);
    size_t held = c->hf ? c->hf->in_len : c->t2p_len - c->t2p_off;
    if (!c->t_eof && held < TUN_BUF)
        *te |= c->rd_want ? want_events(c->rd_want) : POLLIN;
}

/* One connection had an event (or may move more): advance it; true if it may move more. */
static bool conn_step(struct tun *t, struct tconn *c, time_t now)
{
    enum cstate before = c->st;
    if (c->st == C_REQUEST)
        step_request(t, c);
    else if (c->st == C_DIAL)
        step_dial(t, c);
    else if (c->st == C_HANDSHAKE)
        step_handshake(t, c);
    bool more = false;
    if (c->st == C_OPEN && !c->failed) {
        if (before != C_OPEN)
            c->deadline = 0;
        more = pump(t, c);
        if (t->cfg->idle_timeout > 0)
            c->deadline = now + t->cfg->idle_timeout;
    }
    return more;
}

static void conn_expire(const struct tun *t, struct tconn *c)
{
    if (c->st == C_OPEN) {
        relay_fail(c, "%s: no byte either way for %ld s", vt_errname(VT_ERR_TUNNEL_TIMEOUT),
                   t->cfg->idle_timeout);
        return;
    }
    char d[160];
    snprintf(d, sizeof(d), "%s not done within %ld s",
             c->st == C_REQUEST ? "proxy request" : c->st == C_RESOLVE ? "name lookup"
                                  : c->st == C_DIAL ? "connect" : "handshake",
             t->cfg->timeout);
    if (c->st == C_DIAL && t->cfg->side == TUN_EGRESS)
        relay_fail(c, "%s: %s", vt_errname(VT_ERR_TUNNEL_TIMEOUT), d);
    else
        refuse(c, VT_ERR_TUNNEL_TIMEOUT, d);
}

/* A new connection on fd from peer: its first step. */
static void conn_start(struct tun *t, size_t slot, int fd, const char *peer, time_t now)
{
    struct tconn *c = calloc(1, sizeof(*c));
    if (!c) {
        close(fd);
        return;
    }
    t->conns[slot] = c;
    t->n_open++;
    c->id = t->accepted;
    snprintf(c->peer, sizeof(c->peer), "%s", peer);
    snprintf(c->verdict, sizeof(c->verdict), "not established");
    c->pfd = c->tfd = -1;
    c->gen = t->cur;
    c->gen->refs++;
    c->deadline = t->cfg->timeout > 0 ? now + t->cfg->timeout : 0;
    memcpy(&c->to, &t->cfg->to, sizeof(c->to));
    c->to_len = t->cfg->to_len;
    snprintf(c->to_text, sizeof(c->to_text), "%s", t->cfg->to_text ? t->cfg->to_text : "");
    if (t->cfg->side == TUN_INGRESS && t->cfg->proxy != TUN_PROXY_NONE) {
        c->pfd = fd;
        c->st = C_REQUEST;
        return;
    }
    if (t->cfg->side == TUN_INGRESS) {
        c->pfd = fd;
        c->st = C_DIAL;
        (void)dial_start(t, c, &c->tfd);
        return;
    }
    c->tfd = fd;
    int err = vt_conn_new(c->gen->ctx, fd, &c->tls);
    if (err)
        refuse(c, err, "cannot set up the TLS connection");
    c->st = C_HANDSHAKE;
}

static bool may_accept(const struct tun *t)
{
    return t->cfg->max_conns == 0 || t->accepted < t->cfg->max_conns;
}

/* Accept what is waiting (up to a batch); beyond max_parallel, refuse with a log line. */
static void accept_some(struct tun *t, time_t now)
{
    for (int batch = 0; batch < 64 && may_accept(t); batch++) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof(ss);
        int fd = accept4(t->cfg->lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return; /* EAGAIN, or a transient error (EMFILE, ECONNABORTED): next round */
        char h[64] = "?", p[16] = "?", peer[96];
        (void)getnameinfo((struct sockaddr *)&ss, sl, h, sizeof(h), p, sizeof(p),
                          NI_NUMERICHOST | NI_NUMERICSERV);
        snprintf(peer, sizeof(peer), strchr(h, ':') ? "[%s]:%s" : "%s:%s", h, p);
        t->accepted++;
        t->m.accepted++;
        if (t->n_open >= (size_t)t->cfg->max_parallel) {
            metrics_refused(&t->m, VT_ERR_TUNNEL_LIMIT);
            fprintf(stderr, "%s: conn %ld from %s: refused: %s: %ld connections open "
                    "(--max-parallel); bytes c2s 0 s2c 0\n", side_name(t), t->accepted, peer,
                    vt_errname(VT_ERR_TUNNEL_LIMIT), t->cfg->max_parallel);
            fflush(stderr);
            t->failures++;
            close(fd);
            continue;
        }
        int one = 1;
        (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        for (size_t i = 0; i < (size_t)t->cfg->max_parallel; i++)
            if (!t->conns[i]) {
                conn_start(t, i, fd, peer, now);
                break;
            }
    }
}

/* Fill the poll set: [0] the listener, [1] the resolver's pipe, then /metrics (TUN_MFDS),
 * then two per slot. */
static void poll_set(struct tun *t)
{
    t->pfds[0] = (struct pollfd){ .fd = may_accept(t) ? t->cfg->lfd : -1, .events = POLLIN };
    t->pfds[1] = (struct pollfd){ .fd = tun_resolver_fd(t->resolver), .events = POLLIN };
    tun_metrics_poll(&t->ms, t->pfds + 2);
    for (size_t i = 0; i < (size_t)t->cfg->max_parallel; i++) {
        struct tconn *c = t->conns[i];
        short pe = 0, te = 0;
        if (c)
            conn_events(c, &pe, &te);
        t->pfds[PFD_BASE + 2 * i] = (struct pollfd){ .fd = c && pe ? c->pfd : -1, .events = pe };
        t->pfds[PFD_BASE + 1 + 2 * i] = (struct pollfd){ .fd = c && te ? c->tfd : -1, .events = te };
    }
}

/* One round over every connection after poll(); true if any may move more at once. */
static bool service(struct tun *t, bool *more, time_t now)
{
    bool any = false;
    for (size_t i = 0; i < (size_t)t->cfg->max_parallel; i++) {
        struct tconn *c = t->conns[i];
        if (!c)
            continue;
        bool ev = t->pfds[PFD_BASE + 2 * i].revents || t->pfds[PFD_BASE + 1 + 2 * i].revents;
        bool again = false;
        if ((ev || more[i]) && !c->failed)
            again = conn_step(t, c, now);
        if (!c->failed && c->deadline && now >= c->deadline)
            conn_expire(t, c);
        more[i] = again;
        any |= again;
        if (c->failed || (c->st == C_OPEN && conn_dead(c))) {
            more[i] = false;
            conn_close(t, i);
        }
    }
    return any;
}

int tun_ctx_new(const struct vt_config *vc, bool iat, vt_ctx **ret)
{
    struct vt_config cfg = *vc;
    char now[24];
    int n = snprintf(now, sizeof(now), "%lld", (long long)time(NULL));
    struct vt_custom_claim claim = { VTP_IAT_CLAIM, (const uint8_t *)now, (size_t)n };
    if (iat) {
        cfg.claims = &claim;
        cfg.n_claims = 1;
    }
    return vt_ctx_new(&cfg, ret);
}

/* --cert-lifetime: a new certificate with fresh evidence for the connections to come; the
 * previous one lives on while connections made with it last. A failure keeps the previous
 * certificate and is retried in 10 s. */
static void renew(struct tun *t, time_t now)
{
    struct tctx *g = calloc(1, sizeof(*g));
    int err = g ? tun_ctx_new(t->cfg->vc, true, &g->ctx) : VT_ERR_NOMEM;
    if (err) {
        fprintf(stderr, "%s: certificate renewal failed: %s (%s); retrying in 10 s\n",
                side_name(t), vt_strerror(err), vt_errname(err));
        fflush(stderr);
        free(g);
        t->cur->made = now - t->cfg->cert_lifetime + 10;
        return;
    }
    g->made = now;
    if (t->cur->refs == 0) {
        vt_ctx_free(t->cur->ctx);
        free(t->cur);
    }
    t->cur = g;
    fprintf(stderr, "%s: new certificate (--cert-lifetime %ld s)\n", side_name(t),
            t->cfg->cert_lifetime);
    fflush(stderr);
}

/* /metrics: requests answered with the counters, open connections' bytes included. */
static void metrics_serve(struct tun *t, time_t now)
{
    if (!tun_metrics_step(&t->ms, t->pfds + 2, now))
        return;
    struct tun_metrics m = t->m;
    bool in = t->cfg->side == TUN_INGRESS;
    for (size_t i = 0; i < (size_t)t->cfg->max_parallel; i++) {
        const struct tconn *c = t->conns[i];
        if (c) {
            m.c2s += in ? c->p_in : c->t_in;
            m.s2c += in ? c->t_in : c->p_in;
        }
    }
    tun_metrics_respond(&t->ms, side_name(t), &m, t->n_open);
}

static void loop(struct tun *t, bool *more)
{
    bool busy = false;
    nfds_t n = PFD_BASE + 2 * (nfds_t)t->cfg->max_parallel;
    while (!stop_flag && (may_accept(t) || t->n_open > 0)) {
        poll_set(t);
        int pr = poll(t->pfds, n, busy ? 0 : 1000);
        if (pr < 0 && errno != EINTR) {
            tool_err("tunnel: poll: %s", strerror(errno));
            return;
        }
        time_t now = time(NULL);
        if (t->cfg->cert_lifetime > 0 && now - t->cur->made >= t->cfg->cert_lifetime)
            renew(t, now);
        if (pr > 0 && (t->pfds[0].revents & POLLIN))
            accept_some(t, now);
        if (pr > 0 && t->pfds[1].revents)
            lookups_done(t);
        if (t->ms.lfd >= 0)
            metrics_serve(t, now);
        busy = service(t, more, now);
    }
}

int tun_run(const struct tun_cfg *cfg)
{
    struct tun t = { .cfg = cfg };
    size_t slots = (size_t)cfg->max_parallel;
    t.cur = calloc(1, sizeof(*t.cur));
    if (t.cur)
        *t.cur = (struct tctx){ .ctx = cfg->ctx, .made = time(NULL) };
    t.conns = calloc(slots, sizeof(*t.conns));
    t.pfds = calloc(PFD_BASE + 2 * slots, sizeof(*t.pfds));
    bool *more = calloc(slots, sizeof(*more));
    if (!t.cur || !t.conns || !t.pfds || !more) {
        tool_err("tunnel: out of memory");
        vt_ctx_free(cfg->ctx);
        free(t.cur);
        free(t.conns);
        free(t.pfds);
        free(more);
        return VT_EXIT_REJECTED;
    }
    struct sigaction sa = { .sa_handler = on_signal };
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    (void)fcntl(cfg->lfd, F_SETFL, fcntl(cfg->lfd, F_GETFL) | O_NONBLOCK);
    int rerr = cfg->side == TUN_INGRESS && cfg->proxy != TUN_PROXY_NONE
                   ? tun_resolver_start(&t.resolver) : 0;
    if (rerr)
        tool_err("tunnel: no resolver threads (%s): names in proxy requests are refused",
                 strerror(rerr));
    tun_metrics_init(&t.ms, cfg->metrics_fd);
    loop(&t, more);
    for (size_t i = 0; i < slots; i++)
        if (t.conns[i]) {
            relay_fail(t.conns[i], "the tunnel is shutting down");
            conn_close(&t, i);
        }
    tun_resolver_stop(t.resolver);
    tun_metrics_end(&t.ms);
    vt_ctx_free(t.cur->ctx);
    free(t.cur);
    free(t.conns);
    free(t.pfds);
    free(more);
    return cfg->max_conns && t.failures ? VT_EXIT_REJECTED : VT_EXIT_OK;
}
