/*
 * http.c - the KBS HTTP(S) listener on libmicrohttpd: it owns the sockets and a pool of
 * worker threads (epoll); the body of each request is collected under VTK_MAX_BODY, then
 * answered by one call to vtk_handle() (kbs.c, which knows nothing of sockets).
 *
 * Trust boundary: everything here is unauthenticated network input; MHD parses HTTP, this
 * file bounds the body, extracts the kbs-session-id cookie and the Authorization header and
 * hands them on. HTTPS uses an ordinary certificate and key (PEM files, MHD's GnuTLS).
 */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kbs/kbs.h"
#include "util/secmem.h"

struct vtk_http {
    struct MHD_Daemon *d;
    int port;
};

struct conn {
    struct vt_buf body;
    bool too_big;
};

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    struct conn *st = *con_cls;
    if (st) {
        vti_buf_free(&st->body);
        free(st);
        *con_cls = NULL;
    }
}

static enum MHD_Result answer(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **con_cls)
{
    struct vtk_server *k = cls;
    struct conn *st = *con_cls;
    if (!st) {
        st = calloc(1, sizeof(*st));
        if (!st)
            return MHD_NO;
        st->body.max = VTK_MAX_BODY;
        *con_cls = st;
        return MHD_YES;
    }
    if (*upload_size) {
        if (!st->too_big && vti_buf_append(&st->body, upload, *upload_size).err)
            st->too_big = true;
        *upload_size = 0;
        return MHD_YES;
    }
    char peer[64] = "-";
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (ci && ci->client_addr) {
        const struct sockaddr *sa = ci->client_addr;
        if (sa->sa_family == AF_INET)
            inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, peer, sizeof(peer));
        else if (sa->sa_family == AF_INET6)
            inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, peer, sizeof(peer));
    }
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
        vtk_handle(k, &rq, (int64_t)time(NULL), &resp);
    }
    struct MHD_Response *r = MHD_create_response_from_buffer(resp.body.len, resp.body.p,
                                                             MHD_RESPMEM_MUST_COPY);
    vti_buf_free(&resp.body);
    if (!r)
        return MHD_NO;
    if (resp.content_type)
        MHD_add_response_header(r, "Content-Type", resp.content_type);
    if (resp.set_cookie[0])
        MHD_add_response_header(r, "Set-Cookie", resp.set_cookie);
    MHD_add_response_header(r, "Cache-Control", "no-store");
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)resp.status, r);
    MHD_destroy_response(r);
    return ret;
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

vt_res vtk_http_start(struct vtk_server *k, struct vtk_http **ret)
{
    ENSURE(k->cfg.listen, VT_ERR_INVALID_ARG);
    char host[256];
    const char *colon = strrchr(k->cfg.listen, ':');
    ENSURE(colon && (size_t)(colon - k->cfg.listen) < sizeof(host), VT_ERR_BROKER_CONFIG);
    snprintf(host, sizeof(host), "%.*s", (int)(colon - k->cfg.listen), k->cfg.listen);
    char *h = host;
    if (*h == '[' && h[strlen(h) - 1] == ']') {
        h[strlen(h) - 1] = 0;
        h++;
    }
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                              .ai_flags = AI_PASSIVE | AI_NUMERICSERV }, *ai = NULL;
    ENSURE(getaddrinfo(*h ? h : NULL, colon + 1, &hints, &ai) == 0 && ai, VT_ERR_BROKER_CONFIG);
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
    if (ai->ai_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    char *cert = NULL, *key = NULL;
    if (k->cfg.cert || k->cfg.key) {
        cert = k->cfg.cert ? read_text(k->cfg.cert) : NULL;
        key = k->cfg.key ? read_text(k->cfg.key) : NULL;
        if (!cert || !key) {
            freeaddrinfo(ai);
            free(cert);
            if (key) {
                vti_memzero(key, strlen(key));
                free(key);
            }
            return VT_FAIL(VT_ERR_BROKER_CONFIG);
        }
        flags |= MHD_USE_TLS;
    }
    struct MHD_OptionItem tls_opts[] = {
        { cert ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, 0, cert },
        { MHD_OPTION_HTTPS_MEM_KEY, 0, key },
        { MHD_OPTION_END, 0, NULL },
    };
    struct MHD_Daemon *d = MHD_start_daemon(
        flags, 0, NULL, NULL, answer, k, MHD_OPTION_SOCK_ADDR, ai->ai_addr,
        MHD_OPTION_THREAD_POOL_SIZE, k->cfg.threads, MHD_OPTION_CONNECTION_TIMEOUT, 30u,
        MHD_OPTION_CONNECTION_LIMIT, 4096u, MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u,
        MHD_OPTION_NOTIFY_COMPLETED, completed, NULL, MHD_OPTION_ARRAY, tls_opts,
        MHD_OPTION_END);
    freeaddrinfo(ai);
    free(cert);
    if (key) {
        vti_memzero(key, strlen(key));
        free(key);
    }
    ENSURE(d, VT_ERR_IO);
    struct vtk_http *l = calloc(1, sizeof(*l));
    if (!l) {
        MHD_stop_daemon(d);
        return VT_FAIL(VT_ERR_NOMEM);
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

void vtk_http_stop(struct vtk_http *h)
{
    if (h) {
        MHD_stop_daemon(h->d);
        free(h);
    }
}
