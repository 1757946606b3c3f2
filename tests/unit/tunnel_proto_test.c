/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tunnel_proto_test.c - src/proto/tunnel.c: --expect parsing; HTTP proxy request heads
 * (CONNECT, absolute form rewritten to origin form, incomplete, at the 8 KiB cap and past it,
 * every malformed part) and SOCKS5 greetings and requests (IPv4, IPv6, domain; each refusal).
 * The evidence issue time (iat). Every refusal asserts its exact VT_ERR_* code.
 */
#include <string.h>

#include "proto/tunnel.h"
#include "vt_test.h"

static vt_res http(const char *s, struct vtp_proxy_req *r)
{
    return vtp_proxy_http_parse((const uint8_t *)s, strlen(s), r);
}

static void test_expect(void)
{
    struct vtp_expect e;
    CHECK_OK(vtp_expect_parse("measurement=ab01", &e));
    CHECK(!strcmp(e.name, "measurement") && !strcmp(e.value, "ab01"));
    CHECK_OK(vtp_expect_parse("a.b-c_d=x=y", &e));
    CHECK(!strcmp(e.name, "a.b-c_d") && !strcmp(e.value, "x=y"));
    CHECK_ERR(vtp_expect_parse("nonsense", &e), VT_ERR_TUNNEL_EXPECT_SYNTAX);
    CHECK(e.name[0] == '\0');
    CHECK_ERR(vtp_expect_parse("=v", &e), VT_ERR_TUNNEL_EXPECT_SYNTAX);
    CHECK_ERR(vtp_expect_parse("n=", &e), VT_ERR_TUNNEL_EXPECT_SYNTAX);
    CHECK_ERR(vtp_expect_parse("n m=v", &e), VT_ERR_TUNNEL_EXPECT_SYNTAX);
    CHECK_ERR(vtp_expect_parse("n=v w", &e), VT_ERR_TUNNEL_EXPECT_SYNTAX);
    CHECK_ERR(vtp_expect_parse(NULL, &e), VT_ERR_TUNNEL_EXPECT_SYNTAX);
    char longname[80];
    memset(longname, 'a', 64); /* a name of 64 characters: the cap */
    memcpy(longname + 64, "=v", 3);
    CHECK_OK(vtp_expect_parse(longname, &e));
    memset(longname, 'a', 65); /* one past it */
    memcpy(longname + 65, "=v", 3);
    CHECK_ERR(vtp_expect_parse(longname, &e), VT_ERR_TUNNEL_EXPECT_SYNTAX);
    CHECK_ERR(vtp_expect_check(NULL, &e, 1, NULL, 0), VT_ERR_TUNNEL_UNATTESTED);
}

static void test_http_good(void)
{
    struct vtp_proxy_req r;
    const char *c = "CONNECT 127.0.0.1:8443 HTTP/1.1\r\nHost: 127.0.0.1:8443\r\n\r\nXYZ";
    CHECK_OK(http(c, &r));
    CHECK(r.kind == VTP_PROXY_CONNECT && !strcmp(r.host, "127.0.0.1") && r.port == 8443);
    CHECK(r.head_len == strlen(c) - 3);
    CHECK_OK(http("CONNECT [::1]:443 HTTP/1.0\r\n\r\n", &r));
    CHECK(!strcmp(r.host, "::1") && r.port == 443);
    const char *a = "GET http://egress.example:9000/big.bin?x=1 HTTP/1.1\r\nHost: e\r\n\r\n";
    CHECK_OK(http(a, &r));
    CHECK(r.kind == VTP_PROXY_ABSOLUTE && !strcmp(r.host, "egress.example") && r.port == 9000);
    CHECK(!strcmp(r.origin_line, "GET /big.bin?x=1 HTTP/1.1\r\n"));
    CHECK(r.line_len == strlen("GET http://egress.example:9000/big.bin?x=1 HTTP/1.1\r\n"));
    CHECK(r.head_len == strlen(a));
    CHECK_OK(http("HEAD HTTP://h HTTP/1.0\r\n\r\n", &r));
    CHECK(r.port == 80 && !strcmp(r.origin_line, "HEAD / HTTP/1.0\r\n"));
    CHECK_OK(http("GET http://[::1]/ HTTP/1.1\r\n\r\n", &r));
    CHECK(!strcmp(r.host, "::1") && r.port == 80);
}

static void test_http_bad(void)
{
    struct vtp_proxy_req r;
    CHECK_ERR(http("", &r), VT_ERR_TUNNEL_INCOMPLETE);
    CHECK_ERR(http("CONNECT h:1 HTTP/1.1\r\nHost: h", &r), VT_ERR_TUNNEL_INCOMPLETE);
    CHECK_ERR(http("CONNECT h:1 HTTP/1.1\r\n", &r), VT_ERR_TUNNEL_INCOMPLETE);
    CHECK_ERR(http("CONNECT h:1 HTTP/1.1\n\r\n", &r), VT_ERR_TUNNEL_HTTP_REQUEST_LINE);
    CHECK_ERR(http("CONNECT h:1\r\n\r\n", &r), VT_ERR_TUNNEL_HTTP_REQUEST_LINE);
    CHECK_ERR(http("CONNECT  h:1 HTTP/1.1\r\n\r\n", &r), VT_ERR_TUNNEL_HTTP_REQUEST_LINE);
    CHECK_ERR(http("CONNECT h:1 HTTP/1.1 \r\n\r\n", &r), VT_ERR_TUNNEL_HTTP_REQUEST_LINE);
    CHECK_ERR(http("CONNECT h\x01:1 HTTP/1.1\r\n\r\n", &r), VT_ERR_TUNNEL_HTTP_REQUEST_LINE);
    CHECK_ERR(http("GE(T http://h/ HTTP/1.1\r\n\r\n", &r), VT_ERR_TUNNEL_HTTP_METHOD);
    CHECK_ERR(http("CONNECT h:1 HTTP/2.0\r\n\r\n", &r), VT_ERR_TUNNEL_HTTP_VERSION);
    CHECK_ERR(http("CONNECT h:1 HTTP/1.10\r\n\r\n", &r), VT_ERR_TUNNEL_HTTP_VERSION);
    CHECK_ERR(http("GET /path HTTP/1.1\r\n\r\n", &r), VT_ERR_TUNNEL_HTTP_TARGET);
    CHECK_ERR(http("GET https://h/ HTTP/1.1\r\n\r\n", &r), VT_ERR_TUNNEL_HTTP_TARGET);
    CHECK_ERR(http("GET http://u@h/ HTTP/1.1\r\n\r\n", &r), VT_ERR_TUNNEL_HTTP_TARGET);
    CHECK_ERR(http("GET http:// HTTP/1.1\r\n\r\n", &r), VT_ERR_TUNNEL_HTTP_TARGET);
    CHECK_ERR(http("CONNECT h HTTP/1.1\r\n\r\n", &r), VT_ERR_PROTO_ADDR);
    CHECK_ERR(http("CONNECT h:0 HTTP/1.1\r\n\r\n", &r), VT_ERR_PROTO_ADDR_PORT);
    CHECK_ERR(http("CONNECT h:65536 HTTP/1.1\r\n\r\n", &r), VT_ERR_PROTO_ADDR_PORT);
    CHECK_ERR(http("CONNECT :80 HTTP/1.1\r\n\r\n", &r), VT_ERR_PROTO_ADDR_HOST);
    CHECK_ERR(http("CONNECT h!x:80 HTTP/1.1\r\n\r\n", &r), VT_ERR_PROTO_ADDR_HOST);
    CHECK(r.host[0] == '\0' && r.port == 0);
    /* The head at the cap parses; one byte past it without the end is too long. */
    static char big[VTP_PROXY_HEAD_MAX + 2];
    const char *line = "CONNECT h:1 HTTP/1.1\r\nX: ";
    memset(big, 'a', sizeof(big) - 1);
    memcpy(big, line, strlen(line));
    memcpy(big + VTP_PROXY_HEAD_MAX - 4, "\r\n\r\n", 4);
    CHECK_ERR(vtp_proxy_http_parse((uint8_t *)big, VTP_PROXY_HEAD_MAX, &r), VT_OK);
    memcpy(big + VTP_PROXY_HEAD_MAX - 4, "aaaa", 4);
    CHECK_ERR(vtp_proxy_http_parse((uint8_t *)big, VTP_PROXY_HEAD_MAX, &r), VT_ERR_TUNNEL_INCOMPLETE);
    CHECK_ERR(vtp_proxy_http_parse((uint8_t *)big, VTP_PROXY_HEAD_MAX + 1, &r),
              VT_ERR_TUNNEL_HTTP_TOO_LONG);
}

static void test_socks_greeting(void)
{
    size_t used = 0;
    CHECK_OK(vtp_socks5_greeting_parse((const uint8_t *)"\x05\x02\x02\x00", 4, &used));
    CHECK(used == 4);
    CHECK_ERR(vtp_socks5_greeting_parse((const uint8_t *)"", 0, &used), VT_ERR_TUNNEL_INCOMPLETE);
    CHECK_ERR(vtp_socks5_greeting_parse((const uint8_t *)"\x05", 1, &used), VT_ERR_TUNNEL_INCOMPLETE);
    CHECK_ERR(vtp_socks5_greeting_parse((const uint8_t *)"\x05\x02\x00", 3, &used),
              VT_ERR_TUNNEL_INCOMPLETE);
    CHECK_ERR(vtp_socks5_greeting_parse((const uint8_t *)"\x04\x01\x00", 3, &used),
              VT_ERR_TUNNEL_SOCKS_VERSION);
    CHECK_ERR(vtp_socks5_greeting_parse((const uint8_t *)"\x05\x00", 2, &used),
              VT_ERR_TUNNEL_SOCKS_NO_METHOD);
    CHECK_ERR(vtp_socks5_greeting_parse((const uint8_t *)"\x05\x01\x02", 3, &used),
              VT_ERR_TUNNEL_SOCKS_NO_METHOD);
    CHECK_ERR(vtp_socks5_greeting_parse((const uint8_t *)"\x05\x01\x00\x05", 4, &used),
              VT_ERR_TUNNEL_SOCKS_TRAILING);
}

static vt_res socks(const char *s, size_t n, struct vtp_proxy_req *r)
{
    return vtp_socks5_request_parse((const uint8_t *)s, n, r);
}

static void test_socks_request(void)
{
    struct vtp_proxy_req r;
    CHECK_OK(socks("\x05\x01\x00\x01\x7f\x00\x00\x01\x20\xfb", 10, &r));
    CHECK(r.kind == VTP_PROXY_SOCKS5 && !strcmp(r.host, "127.0.0.1") && r.port == 8443);
    CHECK(r.head_len == 10);
    CHECK_OK(socks("\x05\x01\x00\x03\x09localhost\x00\x50", 16, &r));
    CHECK(!strcmp(r.host, "localhost") && r.port == 80);
    CHECK_OK(socks("\x05\x01\x00\x04\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x01\x01\xbb", 22, &r));
    CHECK(!strcmp(r.host, "::1") && r.port == 443);
    CHECK_ERR(socks("\x05\x01\x00\x01\x7f\x00", 6, &r), VT_ERR_TUNNEL_INCOMPLETE);
    CHECK_ERR(socks("\x05\x01\x00\x01\x7f\x00\x00\x01\x20", 9, &r), VT_ERR_TUNNEL_INCOMPLETE);
    CHECK_ERR(socks("\x05\x01\x00\x03\x09loc", 8, &r), VT_ERR_TUNNEL_INCOMPLETE);
    CHECK_ERR(socks("\x04\x01\x00\x01", 4, &r), VT_ERR_TUNNEL_SOCKS_VERSION);
    CHECK_ERR(socks("\x05\x02\x00\x01", 4, &r), VT_ERR_TUNNEL_SOCKS_COMMAND);
    CHECK_ERR(socks("\x05\x03\x00\x01", 4, &r), VT_ERR_TUNNEL_SOCKS_COMMAND);
    CHECK_ERR(socks("\x05\x01\x01\x01", 4, &r), VT_ERR_TUNNEL_SOCKS_RESERVED);
    CHECK_ERR(socks("\x05\x01\x00\x02\x00", 5, &r), VT_ERR_TUNNEL_SOCKS_ADDRESS);
    CHECK_ERR(socks("\x05\x01\x00\x03\x00\x00\x50", 7, &r), VT_ERR_TUNNEL_SOCKS_ADDRESS);
    CHECK_ERR(socks("\x05\x01\x00\x03\x03" "a b\x00\x50", 9, &r), VT_ERR_TUNNEL_SOCKS_ADDRESS);
    CHECK_ERR(socks("\x05\x01\x00\x03\xfe", 5, &r), VT_ERR_TUNNEL_SOCKS_ADDRESS);
    CHECK_ERR(socks("\x05\x01\x00\x01\x7f\x00\x00\x01\x00\x00", 10, &r), VT_ERR_PROTO_ADDR_PORT);
    CHECK_ERR(socks("\x05\x01\x00\x01\x7f\x00\x00\x01\x20\xfb\x00", 11, &r),
              VT_ERR_TUNNEL_SOCKS_TRAILING);
    CHECK(r.host[0] == '\0' && r.port == 0);
}

static void test_iat(void)
{
    int64_t v = 0;
    CHECK_OK(vtp_iat_parse((const uint8_t *)"1764800000", 10, &v));
    CHECK(v == 1764800000);
    CHECK_OK(vtp_iat_parse((const uint8_t *)"999999999999999999", 18, &v)); /* the cap */
    CHECK(v == 999999999999999999LL);
    CHECK_ERR(vtp_iat_parse((const uint8_t *)"9999999999999999999", 19, &v),
              VT_ERR_TUNNEL_EVIDENCE_TIME);
    CHECK_ERR(vtp_iat_parse((const uint8_t *)"", 0, &v), VT_ERR_TUNNEL_EVIDENCE_TIME);
    CHECK_ERR(vtp_iat_parse((const uint8_t *)"-1", 2, &v), VT_ERR_TUNNEL_EVIDENCE_TIME);
    CHECK_ERR(vtp_iat_parse((const uint8_t *)"12a", 3, &v), VT_ERR_TUNNEL_EVIDENCE_TIME);
    CHECK_ERR(vtp_evidence_age_check(NULL, 0, 60, NULL, 0), VT_ERR_TUNNEL_EVIDENCE_TIME);
}

int main(void)
{
    test_expect();
    test_iat();
    test_http_good();
    test_http_bad();
    test_socks_greeting();
    test_socks_request();
    return vt_test_done();
}
