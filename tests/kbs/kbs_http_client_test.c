/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kbs_http_client_test.c - unit tests of the KBS client's HTTP transport
 * (src/kbs_client/http_client.c): the cookie jar (what is kept, what is refused, replacement,
 * the header sent back), base URLs refused with their exact code, and requests against a
 * canned-answer server on 127.0.0.1 (a thread): status and body, the cookie sent back on the
 * next request, a chunked body, the keep-alive connection reused, and each failure (a body
 * over the limit, a malformed status line, an answer cut short, a refused connection, https
 * spoken to a plain server) refused with VT_ERR_KBS_HTTP and status 0. Successful https runs
 * (certificate and host name verified) are in tests/e2e/kbs_http_test.sh.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "kbs_client/http_client.h"
#include "vt_test.h"

/* ---- cookies ---------------------------------------------------------------------------- */

static void test_cookies(void)
{
    struct vtk_cookie_jar jar = { 0 };
    char h[4096];
    vtk_cookie_header(&jar, h, sizeof(h));
    CHECK(strcmp(h, "") == 0);
    CHECK(vtk_cookie_take(&jar, "kbs-session-id=0a1b-2c; Path=/kbs; Max-Age=300; HttpOnly"));
    vtk_cookie_header(&jar, h, sizeof(h));
    CHECK(strcmp(h, "kbs-session-id=0a1b-2c") == 0);
    /* same name: replaced, not added */
    CHECK(vtk_cookie_take(&jar, "kbs-session-id=ffff"));
    CHECK(vtk_cookie_take(&jar, "b=\"quoted\""));
    CHECK(vtk_cookie_take(&jar, "empty="));
    vtk_cookie_header(&jar, h, sizeof(h));
    CHECK(strcmp(h, "kbs-session-id=ffff; b=\"quoted\"; empty=") == 0);
    /* a name that only starts like another one is another cookie */
    CHECK(vtk_cookie_take(&jar, "kbs=1"));
    vtk_cookie_header(&jar, h, sizeof(h));
    CHECK(strcmp(h, "kbs-session-id=ffff; b=\"quoted\"; empty=; kbs=1") == 0);
    /* full: a fifth name is ignored, a known one still replaced */
    CHECK(!vtk_cookie_take(&jar, "fifth=5"));
    CHECK(vtk_cookie_take(&jar, "kbs=2"));
    vtk_cookie_header(&jar, h, sizeof(h));
    CHECK(strcmp(h, "kbs-session-id=ffff; b=\"quoted\"; empty=; kbs=2") == 0);

    /* refused: no name, no '=', bad name or value characters, unbalanced quote, too long */
    struct vtk_cookie_jar j2 = { 0 };
    const char *bad[] = { "", "=v", "novalue", "a b=c", "a=b c", "a=b,c", "a=\"b", "a=b\"",
                          "a=b\\c", "\"a\"=b", "a;=b", "a=\x01", "a=\xc3\xa9", " a=b", NULL };
    for (const char **b = bad; *b; b++) {
        CHECK(!vtk_cookie_take(&j2, *b));
        if (vtk_cookie_take(&j2, *b))
            fprintf(stderr, "  kept: \"%s\"\n", *b);
    }
    CHECK(!vtk_cookie_take(&j2, NULL));
    char big[VTK_HTTP_COOKIE_MAX + 8];
    memset(big, 'v', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    big[0] = 'n', big[1] = '=';
    CHECK(!vtk_cookie_take(&j2, big));
    big[VTK_HTTP_COOKIE_MAX - 1] = '\0'; /* 511 bytes: the largest kept */
    CHECK(vtk_cookie_take(&j2, big));
    vtk_cookie_header(&j2, h, sizeof(h));
    CHECK(strlen(h) == VTK_HTTP_COOKIE_MAX - 1);
}

/* ---- base URLs -------------------------------------------------------------------------- */

static void test_urls(void)
{
    struct vtk_http *c = NULL;
    const char *bad[] = { NULL, "", "ftp://h/", "http://", "http:///x", "h:80", "http://h/p?q=1",
                          "http://h/#f", "http://u:p@h/", "file:///etc/passwd", NULL };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]) - 1; i++) {
        CHECK_ERR(vtk_http_open(bad[i], NULL, &c), VT_ERR_INVALID_ARG);
        CHECK(c == NULL);
    }
    CHECK_OK(vtk_http_open("http://127.0.0.1:1/", NULL, &c));
    vtk_http_close(c);
    CHECK_OK(vtk_http_open("https://[::1]:8443/prefix", NULL, &c));
    vtk_http_close(c);
    CHECK_ERR(vtk_http_open("https://h:1", "/nonexistent/ca.pem", &c), VT_ERR_CRYPTO);
    CHECK(c == NULL);
}

/* ---- a canned-answer server ------------------------------------------------------------- */

/* Answers up to n_answers requests, on one or more connections, with the canned bytes in
 * turn; keeps the requests it read (headers and body) in log. */
struct server {
    int lfd, port;
    const char *answers[4];
    size_t n_answers;
    bool close_after; /* close the connection after each answer */
    bool no_read;     /* answer at once, without reading a request (a TLS client's hello) */
    char log[8192];
    size_t log_len;
    int connections;
    pthread_t th;
};

/* One request's bytes (headers, then Content-Length bytes of body) into the log. */
static bool read_request(struct server *s, int fd)
{
    char buf[4096];
    size_t n = 0;
    char *end = NULL;
    buf[0] = '\0';
    while (!(end = strstr(buf, "\r\n\r\n"))) {
        ssize_t r = read(fd, buf + n, sizeof(buf) - 1 - n);
        if (r <= 0)
            return false;
        n += (size_t)r;
        buf[n] = '\0';
    }
    const char *cl = strcasestr(buf, "Content-Length:");
    size_t want = (size_t)(end + 4 - buf) + (cl && cl < end ? strtoul(cl + 15, NULL, 10) : 0);
    while (n < want && n < sizeof(buf) - 1) {
        ssize_t r = read(fd, buf + n, sizeof(buf) - 1 - n);
        if (r <= 0)
            return false;
        n += (size_t)r;
    }
    buf[n] = '\0';
    s->log_len += (size_t)snprintf(s->log + s->log_len, sizeof(s->log) - s->log_len, "%s\n", buf);
    return true;
}

static void *serve(void *arg)
{
    struct server *s = arg;
    size_t next = 0;
    while (next < s->n_answers) {
        int fd = accept(s->lfd, NULL, NULL);
        if (fd < 0)
            break;
        s->connections++;
        while (next < s->n_answers && (s->no_read || read_request(s, fd))) {
            const char *a = s->answers[next++];
            if (write(fd, a, strlen(a)) < 0 || s->close_after)
                break;
        }
        close(fd);
    }
    return NULL;
}

static void server_start(struct server *s)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t al = sizeof(a);
    s->lfd = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(s->lfd >= 0 && bind(s->lfd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
          listen(s->lfd, 4) == 0 && getsockname(s->lfd, (struct sockaddr *)&a, &al) == 0);
    s->port = ntohs(a.sin_port);
    CHECK(pthread_create(&s->th, NULL, serve, s) == 0);
}

static void server_stop(struct server *s)
{
    shutdown(s->lfd, SHUT_RDWR);
    pthread_join(s->th, NULL);
    close(s->lfd);
}

static struct vtk_http *client_for(const struct server *s, const char *scheme)
{
    char url[64];
    struct vtk_http *c = NULL;
    snprintf(url, sizeof(url), "%s://127.0.0.1:%d/base/", scheme, s->port);
    CHECK_OK(vtk_http_open(url, NULL, &c));
    return c;
}

/* Two requests on one kept-alive connection: status, body, the cookie and the bearer sent. */
static void test_exchange(void)
{
    struct server s = { .n_answers = 3 };
    s.answers[0] = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nSet-Cookie: kbs-session-id=s1; "
                   "Path=/kbs; HttpOnly\r\nSet-Cookie: bad cookie\r\n\r\nhello";
    s.answers[1] = "HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\n"
                   "Transfer-Encoding: chunked\r\n\r\n3\r\n{\"a\r\n2\r\n\":\r\n2\r\n1}\r\n0\r\n\r\n";
    s.answers[2] = "HTTP/1.1 204 No Content\r\n\r\n";
    server_start(&s);
    struct vtk_http *c = client_for(&s, "http");
    struct vt_buf reply = VT_BUF_INIT;
    int st = -1;
    CHECK_OK(vtk_http_request(c, "/kbs/v0/auth", "{\"x\":1}", NULL, 1024, &st, &reply));
    CHECK(st == 200 && reply.len == 5 && memcmp(reply.p, "hello", 5) == 0);
    CHECK_OK(vtk_http_request(c, "/kbs/v0/resource/a/b/c", NULL, "tok.en.x", 1024, &st, &reply));
    CHECK(st == 401 && reply.len == 7 && memcmp(reply.p, "{\"a\":1}", 7) == 0);
    CHECK_OK(vtk_http_request(c, "/x", NULL, NULL, 1024, &st, &reply));
    CHECK(st == 204 && reply.len == 0);
    vtk_http_close(c);
    server_stop(&s);
    vti_buf_free(&reply);
    CHECK(s.connections == 1); /* kept alive */
    CHECK(strstr(s.log, "POST /base/kbs/v0/auth HTTP/1.1\r\n") != NULL);
    CHECK(strstr(s.log, "Content-Type: application/json\r\n") != NULL);
    CHECK(strstr(s.log, "\r\n\r\n{\"x\":1}") != NULL);
    CHECK(strstr(s.log, "GET /base/kbs/v0/resource/a/b/c HTTP/1.1\r\n") != NULL);
    CHECK(strstr(s.log, "Authorization: Bearer tok.en.x\r\n") != NULL);
    char host[64];
    snprintf(host, sizeof(host), "Host: 127.0.0.1:%d\r\n", s.port);
    CHECK(strstr(s.log, host) != NULL);
    /* the cookie goes back from the second request on, and only the valid one */
    const char *second = strstr(s.log, "GET /base/kbs/v0/resource");
    const char *ck = strstr(s.log, "Cookie: kbs-session-id=s1\r\n");
    CHECK(ck != NULL && second != NULL && ck > second);
    CHECK(strstr(s.log, "bad") == NULL);
}

/* Each failure: VT_ERR_KBS_HTTP, status 0, an empty reply, and why in words. */
static void check_failure(const char *answer, size_t reply_max, bool close_after,
                          const char *why)
{
    struct server s = { .n_answers = 1, .close_after = close_after };
    s.answers[0] = answer;
    server_start(&s);
    struct vtk_http *c = client_for(&s, "http");
    struct vt_buf reply = VT_BUF_INIT;
    int st = -1;
    CHECK_ERR(vtk_http_request(c, "/r", NULL, NULL, reply_max, &st, &reply), VT_ERR_KBS_HTTP);
    CHECK(st == 0 && reply.len == 0);
    CHECK(strcmp(vtk_http_error(c), why) == 0);
    if (strcmp(vtk_http_error(c), why) != 0)
        fprintf(stderr, "  want \"%s\", got \"%s\"\n", why, vtk_http_error(c));
    vtk_http_close(c);
    server_stop(&s);
    vti_buf_free(&reply);
}

static void test_failures(void)
{
    /* a body over the limit, with Content-Length and chunked */
    check_failure("HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nhello world", 10, false,
                  "answer too large");
    check_failure("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nhello \r\n5\r\nworld\r\n0\r\n\r\n",
                  10, false, "answer too large");
    /* a malformed status line; a status outside 100-599 */
    check_failure("HTTP/1.1 abc OK\r\nContent-Length: 0\r\n\r\n", 10, false,
                  "malformed HTTP answer");
    check_failure("HTTP/1.1 999 Odd\r\nContent-Length: 0\r\n\r\n", 10, false,
                  "an answer with an invalid status");
    check_failure("SSH-2.0-OpenSSH\r\n\r\n", 10, true, "malformed HTTP answer");
    /* cut short: fewer body bytes than announced, then the connection closes */
    check_failure("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort", 1000, true,
                  "connection closed before a complete answer");
    /* nothing at all */
    check_failure("", 10, true, "connection closed before a complete answer");
    /* headers over VTK_HTTP_HEADERS_MAX */
    size_t big = VTK_HTTP_HEADERS_MAX + 100;
    char *h = malloc(big + 64);
    int o = snprintf(h, 64, "HTTP/1.1 200 OK\r\nX-Pad: ");
    memset(h + o, 'a', big);
    memcpy(h + o + big, "\r\nContent-Length: 0\r\n\r\n", 24); /* with its NUL */
    check_failure(h, 10, true, "malformed HTTP answer");
    free(h);
}

/* Nobody listening; https to a server that answers in plain HTTP (no TLS handshake). */
static void test_connect_failures(void)
{
    struct server s = { .n_answers = 1, .close_after = true, .no_read = true };
    s.answers[0] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi";
    server_start(&s);
    int port = s.port;
    struct vtk_http *c = client_for(&s, "https");
    struct vt_buf reply = VT_BUF_INIT;
    int st = -1;
    CHECK_ERR(vtk_http_request(c, "/r", NULL, NULL, 10, &st, &reply), VT_ERR_KBS_HTTP);
    CHECK(st == 0 && reply.len == 0);
    CHECK(strncmp(vtk_http_error(c), "TLS handshake failed (", 22) == 0);
    vtk_http_close(c);
    server_stop(&s);

    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d", port); /* closed now */
    CHECK_OK(vtk_http_open(url, NULL, &c));
    CHECK_ERR(vtk_http_request(c, "/r", NULL, NULL, 10, &st, &reply), VT_ERR_KBS_HTTP);
    CHECK(st == 0);
    CHECK(strcmp(vtk_http_error(c), "no answer (connection refused or lost)") == 0);
    /* a path that is not absolute; a bearer that would inject a header (nothing sent) */
    CHECK_ERR(vtk_http_request(c, "r", NULL, NULL, 10, &st, &reply), VT_ERR_INVALID_ARG);
    CHECK_ERR(vtk_http_request(c, "/r", NULL, "tok\r\nX-Injected: 1", 10, &st, &reply),
              VT_ERR_INVALID_ARG);
    CHECK(st == 0 && strstr(vtk_http_error(c), "header was refused") != NULL);
    vtk_http_close(c);
    vti_buf_free(&reply);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN); /* the canned server writes to clients that have given up */
    test_cookies();
    test_urls();
    test_exchange();
    test_failures();
    test_connect_failures();
    return vt_test_done();
}
