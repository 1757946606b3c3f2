/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hostport.c - HOST:PORT parsing (hostport.h grammar), TCP connect and listen.
 *
 * Trust boundary: addresses come from the command line and configuration files (an operator,
 * not a peer), but they are still parsed strictly so that a typo is refused with its reason
 * instead of reaching the resolver. No function here prints; reasons go to why.
 */
#include "proto/hostport.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "proto/internal.h"

static bool host_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '-' || c == '_';
}

static vt_res parse_port(const char *s, uint16_t *out)
{
    size_t n = strlen(s);
    ENSURE(n >= 1 && n <= 5, VT_ERR_PROTO_ADDR_PORT);
    uint32_t v = 0;
    for (size_t i = 0; i < n; i++) {
        ENSURE(s[i] >= '0' && s[i] <= '9', VT_ERR_PROTO_ADDR_PORT);
        v = v * 10 + (uint32_t)(s[i] - '0');
    }
    ENSURE(v <= 65535, VT_ERR_PROTO_ADDR_PORT);
    *out = (uint16_t)v;
    return vti_ok();
}

/* [v6 or v6%zone]: the address part must parse as IPv6; the zone is an interface name. */
static vt_res check_v6(const char *h, size_t n)
{
    char a[INET6_ADDRSTRLEN + 1];
    const char *pct = memchr(h, '%', n);
    size_t an = pct ? (size_t)(pct - h) : n;
    ENSURE(an >= 2 && an < sizeof(a), VT_ERR_PROTO_ADDR_HOST);
    memcpy(a, h, an);
    a[an] = 0;
    struct in6_addr v6;
    ENSURE(inet_pton(AF_INET6, a, &v6) == 1, VT_ERR_PROTO_ADDR_HOST);
    for (size_t i = an + 1; pct && i < n; i++)
        ENSURE(host_char(h[i]), VT_ERR_PROTO_ADDR_HOST);
    ENSURE(!pct || an + 1 < n, VT_ERR_PROTO_ADDR_HOST);
    return vti_ok();
}

static vt_res parse_host(const char *h, size_t n, struct vtp_hostport *out)
{
    if (n >= 1 && h[0] == '[') {
        ENSURE(n >= 2 && h[n - 1] == ']', VT_ERR_PROTO_ADDR);
        h++;
        n -= 2;
        ENSURE(!memchr(h, '[', n) && !memchr(h, ']', n), VT_ERR_PROTO_ADDR);
        GUARD(check_v6(h, n));
        out->bracketed = true;
    } else {
        ENSURE(!memchr(h, ':', n) && !memchr(h, '[', n) && !memchr(h, ']', n),
               VT_ERR_PROTO_ADDR);
        ENSURE(n <= VTP_MAX_HOST, VT_ERR_PROTO_ADDR_HOST);
        for (size_t i = 0; i < n; i++)
            ENSURE(host_char(h[i]), VT_ERR_PROTO_ADDR_HOST);
    }
    ENSURE(n <= VTP_MAX_HOST, VT_ERR_PROTO_ADDR_HOST);
    memcpy(out->host, h, n);
    out->host[n] = 0;
    return vti_ok();
}

vt_res vtp_hostport_parse(const char *in, struct vtp_hostport *out)
{
    memset(out, 0, sizeof(*out));
    ENSURE(in, VT_ERR_PROTO_ADDR);
    const char *colon = strrchr(in, ':');
    ENSURE(colon, VT_ERR_PROTO_ADDR);
    vt_res r = parse_host(in, (size_t)(colon - in), out);
    if (!r.err)
        r = parse_port(colon + 1, &out->port);
    if (r.err)
        memset(out, 0, sizeof(*out));
    return r;
}

/* ---- sockets ------------------------------------------------------------------------------ */

static vt_res resolve(const struct vtp_hostport *hp, bool passive, struct addrinfo **ret,
                      char *why, size_t why_len)
{
    char port[8];
    snprintf(port, sizeof(port), "%u", (unsigned)hp->port);
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                              .ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0) };
    int gr = getaddrinfo(hp->host[0] ? hp->host : NULL, port, &hints, ret);
    if (gr != 0 || !*ret) {
        vtp_why(why, why_len, "%s", gr ? gai_strerror(gr) : "no address");
        *ret = NULL;
        return VT_FAIL(VT_ERR_PROTO_RESOLVE);
    }
    return vti_ok();
}

void vtp_sock_timeouts(int fd, long secs)
{
    if (secs <= 0)
        return;
    struct timeval tv = { .tv_sec = secs, .tv_usec = 0 };
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    (void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* The first address of ai that connects (or binds and listens, when passive); -1 with the
 * last errno in *saved when none does. */
static int open_first(const struct addrinfo *ai, bool passive, long timeout_s, int *saved)
{
    for (const struct addrinfo *p = ai; p; p = p->ai_next) {
        int fd = socket(p->ai_family, p->ai_socktype | SOCK_CLOEXEC, p->ai_protocol);
        if (fd < 0) {
            *saved = errno;
            continue;
        }
        int one = 1;
        if (passive) {
            (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
            if (bind(fd, p->ai_addr, p->ai_addrlen) == 0 && listen(fd, 128) == 0)
                return fd;
        } else {
            vtp_sock_timeouts(fd, timeout_s);
            (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
            if (connect(fd, p->ai_addr, p->ai_addrlen) == 0)
                return fd;
        }
        *saved = errno;
        close(fd);
    }
    return -1;
}

/* Resolve hp and open a socket on it; VT_ERR_PROTO_RESOLVE or fail_code (errno kept). */
static vt_res open_socket(const struct vtp_hostport *hp, bool passive, long timeout_s,
                          int fail_code, int *ret_fd, char *why, size_t why_len)
{
    struct addrinfo *ai = NULL;
    GUARD(resolve(hp, passive, &ai, why, why_len));
    int saved = 0;
    int fd = open_first(ai, passive, timeout_s, &saved);
    freeaddrinfo(ai);
    if (fd < 0) {
        vtp_why(why, why_len, "%s", strerror(saved));
        errno = saved;
        return VT_FAIL(fail_code);
    }
    *ret_fd = fd;
    return vti_ok();
}

vt_res vtp_tcp_connect(const char *addr, long timeout_s, int *ret_fd, char *why,
                       size_t why_len)
{
    *ret_fd = -1;
    struct vtp_hostport hp;
    GUARD(vtp_hostport_parse(addr, &hp));
    ENSURE(hp.host[0], VT_ERR_PROTO_ADDR);
    ENSURE(hp.port != 0, VT_ERR_PROTO_ADDR_PORT);
    return open_socket(&hp, false, timeout_s, VT_ERR_PROTO_CONNECT, ret_fd, why, why_len);
}

static void bound_name(int fd, char *shown, size_t shown_len)
{
    if (!shown || !shown_len)
        return;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    char h[128] = "?", p[16] = "?";
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
        (void)getnameinfo((struct sockaddr *)&ss, sl, h, sizeof(h), p, sizeof(p),
                          NI_NUMERICHOST | NI_NUMERICSERV);
    snprintf(shown, shown_len, ss.ss_family == AF_INET6 ? "[%s]:%s" : "%s:%s", h, p);
}

vt_res vtp_tcp_listen(const char *addr, int *ret_fd, char *shown, size_t shown_len, char *why,
                      size_t why_len)
{
    *ret_fd = -1;
    struct vtp_hostport hp;
    GUARD(vtp_hostport_parse(addr, &hp));
    GUARD(open_socket(&hp, true, 0, VT_ERR_PROTO_LISTEN, ret_fd, why, why_len));
    bound_name(*ret_fd, shown, shown_len);
    return vti_ok();
}
