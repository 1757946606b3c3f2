/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tunnel_metrics.c - `veritee tunnel --metrics HOST:PORT`: GET /metrics answered with the
 * tunnel's counters in the Prometheus text format (version 0.0.4), from the tunnel's own event
 * loop (tunnel.h). Each connection sends one request head (at most 1 KiB, within 5 s) and
 * gets one response; then it is closed. At most TUN_MCONNS at once; more are closed at once.
 * The request is untrusted but only compared with "GET /metrics"; nothing else is parsed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tunnel.h"

#define MREQ_DEADLINE 5

void tun_metrics_init(struct tun_mserver *s, int lfd)
{
    s->lfd = lfd;
    if (lfd >= 0) /* accept_metrics takes what is waiting, then must not block */
        (void)fcntl(lfd, F_SETFL, fcntl(lfd, F_GETFL) | O_NONBLOCK);
    for (size_t i = 0; i < TUN_MCONNS; i++)
        s->c[i] = (struct tun_mconn){ .fd = -1 };
}

void tun_metrics_poll(const struct tun_mserver *s, struct pollfd *p)
{
    p[0] = (struct pollfd){ .fd = s->lfd, .events = POLLIN };
    for (size_t i = 0; i < TUN_MCONNS; i++)
        p[1 + i] = (struct pollfd){ .fd = s->c[i].ready ? -1 : s->c[i].fd, .events = POLLIN };
}

static void mconn_close(struct tun_mconn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    *c = (struct tun_mconn){ .fd = -1 };
}

static void accept_metrics(struct tun_mserver *s, time_t now)
{
    for (;;) {
        int fd = accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return;
        size_t i = 0;
        while (i < TUN_MCONNS && s->c[i].fd >= 0)
            i++;
        if (i == TUN_MCONNS) {
            close(fd);
            continue;
        }
        s->c[i] = (struct tun_mconn){ .fd = fd, .deadline = now + MREQ_DEADLINE };
    }
}

/* Read what is there; ready once the head's empty line came (or the buffer is full). */
static void read_request(struct tun_mconn *c)
{
    ssize_t n = recv(c->fd, c->req + c->len, sizeof(c->req) - 1 - c->len, 0);
    if (n <= 0) {
        if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
            mconn_close(c);
        return;
    }
    c->len += (size_t)n;
    c->req[c->len] = '\0';
    c->ready = strstr(c->req, "\r\n\r\n") || strstr(c->req, "\n\n") ||
               c->len == sizeof(c->req) - 1;
}

bool tun_metrics_step(struct tun_mserver *s, const struct pollfd *p, time_t now)
{
    if (s->lfd < 0)
        return false;
    if (p[0].revents & POLLIN)
        accept_metrics(s, now);
    bool any = false;
    for (size_t i = 0; i < TUN_MCONNS; i++) {
        struct tun_mconn *c = &s->c[i];
        if (c->fd >= 0 && !c->ready && p[1 + i].revents)
            read_request(c);
        if (c->fd >= 0 && !c->ready && now >= c->deadline)
            mconn_close(c);
        any |= c->fd >= 0 && c->ready;
    }
    return any;
}

/* Append to out (a full buffer truncates; the response is small). */
static void put(char *out, size_t cap, size_t *at, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void put(char *out, size_t cap, size_t *at, const char *fmt, ...)
{
    if (*at >= cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(out + *at, cap - *at, fmt, ap);
    va_end(ap);
    *at = w < 0 ? cap : *at + (size_t)w > cap ? cap : *at + (size_t)w;
}

static void counter(char *o, size_t cap, size_t *at, const char *name, const char *help,
                    const char *type)
{
    put(o, cap, at, "# HELP veritee_tunnel_%s %s\n# TYPE veritee_tunnel_%s %s\n", name, help, name,
        type);
}

static size_t render(char *o, size_t cap, const char *side, const struct tun_metrics *m,
                     size_t open)
{
    size_t at = 0;
    counter(o, cap, &at, "connections_accepted_total", "Connections accepted on --listen.", "counter");
    put(o, cap, &at, "veritee_tunnel_connections_accepted_total{side=\"%s\"} %llu\n", side, m->accepted);
    counter(o, cap, &at, "connections_verified_total",
            "Connections whose peer passed verification and appraisal.", "counter");
    put(o, cap, &at, "veritee_tunnel_connections_verified_total{side=\"%s\"} %llu\n", side, m->verified);
    counter(o, cap, &at, "connections_refused_total",
            "Connections refused before any byte was relayed, by reason (VT_ERR_* name).", "counter");
    for (size_t i = 0; i < m->n_reasons; i++)
        put(o, cap, &at, "veritee_tunnel_connections_refused_total{side=\"%s\",reason=\"%s\"} %llu\n",
            side, vt_errname(m->refused[i].code), m->refused[i].n);
    counter(o, cap, &at, "connections_failed_total",
            "Relays that ended abnormally (reset, truncation, timeout).", "counter");
    put(o, cap, &at, "veritee_tunnel_connections_failed_total{side=\"%s\"} %llu\n", side, m->failed);
    counter(o, cap, &at, "connections_open", "Connections open now.", "gauge");
    put(o, cap, &at, "veritee_tunnel_connections_open{side=\"%s\"} %zu\n", side, open);
    counter(o, cap, &at, "bytes_total",
            "Bytes relayed: c2s from the connecting client, s2c towards it.", "counter");
    put(o, cap, &at, "veritee_tunnel_bytes_total{side=\"%s\",direction=\"c2s\"} %llu\n", side, m->c2s);
    put(o, cap, &at, "veritee_tunnel_bytes_total{side=\"%s\",direction=\"s2c\"} %llu\n", side, m->s2c);
    return at;
}

void tun_metrics_respond(struct tun_mserver *s, const char *side, const struct tun_metrics *m,
                         size_t open)
{
    static char body[16384], resp[16640];
    size_t n = render(body, sizeof(body), side, m, open);
    for (size_t i = 0; i < TUN_MCONNS; i++) {
        struct tun_mconn *c = &s->c[i];
        if (c->fd < 0 || !c->ready)
            continue;
        bool get = !strncmp(c->req, "GET /metrics ", 13) || !strncmp(c->req, "GET /metrics?", 13);
        int w = get ? snprintf(resp, sizeof(resp), "HTTP/1.1 200 OK\r\nContent-Type: text/plain; "
                               "version=0.0.4\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%.*s",
                               n, (int)n, body)
                    : snprintf(resp, sizeof(resp), "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n"
                               "Connection: close\r\n\r\n");
        if (w > 0) /* a new socket's send buffer takes it whole */
            (void)send(c->fd, resp, (size_t)w < sizeof(resp) ? (size_t)w : sizeof(resp) - 1,
                       MSG_NOSIGNAL);
        mconn_close(c);
    }
}

void tun_metrics_end(struct tun_mserver *s)
{
    for (size_t i = 0; i < TUN_MCONNS; i++)
        mconn_close(&s->c[i]);
}
