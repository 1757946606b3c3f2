/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tunnel_http_test.c - the egress's --claims-header filter (src/proto/tunnel.c): request heads
 * rewritten (the header injected after the request line, every client copy of it dropped in
 * any case, the rest kept in order), body framing (Content-Length, chunked), incomplete heads,
 * the 16 KiB cap, and every refusal with its exact VT_ERR_* code; chunk-size lines.
 */
#include <string.h>

#include "proto/tunnel.h"
#include "vt_test.h"

static uint8_t out[VTP_HTTP_HEAD_MAX + 4096];
static size_t out_len;
static struct vtp_http_framing fr;

static vt_res rw(const char *s)
{
    return vtp_http_head_rewrite((const uint8_t *)s, strlen(s), "X-Claims", "{\"tee\":\"sim\"}",
                                 out, sizeof(out), &out_len, &fr);
}

static bool out_is(const char *want)
{
    return out_len == strlen(want) && !memcmp(out, want, out_len);
}

static void test_rewrite(void)
{
    CHECK_OK(rw("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
    CHECK(out_is("GET / HTTP/1.1\r\nX-Claims: {\"tee\":\"sim\"}\r\nHost: a\r\n\r\n"));
    CHECK(fr.head_len == 27 && !fr.chunked && fr.length == 0);
    /* forged copies, in any case and with odd whitespace, are dropped; order kept */
    CHECK_OK(rw("POST /x HTTP/1.0\r\nx-claims: forged\r\nA: 1\r\nX-CLAIMS:\t{}  \r\n"
                "Content-Length: 5\r\n\r\nhello"));
    CHECK(out_is("POST /x HTTP/1.0\r\nX-Claims: {\"tee\":\"sim\"}\r\nA: 1\r\nContent-Length: 5\r\n\r\n"));
    CHECK(fr.length == 5 && !fr.chunked);
    CHECK(fr.head_len == strlen("POST /x HTTP/1.0\r\nx-claims: forged\r\nA: 1\r\nX-CLAIMS:\t{}  \r\n"
                                "Content-Length: 5\r\n\r\n"));
    /* a header whose name only starts with ours is kept */
    CHECK_OK(rw("GET / HTTP/1.1\r\nX-Claims-Extra: 1\r\n\r\n"));
    CHECK(out_is("GET / HTTP/1.1\r\nX-Claims: {\"tee\":\"sim\"}\r\nX-Claims-Extra: 1\r\n\r\n"));
    CHECK_OK(rw("PUT / HTTP/1.1\r\nTransfer-Encoding: Chunked\r\n\r\n"));
    CHECK(fr.chunked && fr.length == 0);
    CHECK_OK(rw("GET / HTTP/1.1\r\nContent-Length: 7\r\ncontent-length: 7\r\n\r\n")); /* same */
    CHECK(fr.length == 7);
    CHECK_OK(rw("GET / HTTP/1.1\r\nV: caf\xc3\xa9\r\n\r\n")); /* obs-text in a value */
}

static void test_incomplete(void)
{
    CHECK_ERR(rw(""), VT_ERR_TUNNEL_INCOMPLETE);
    CHECK_ERR(rw("GET / HTTP/1.1\r\nHost: a\r\n"), VT_ERR_TUNNEL_INCOMPLETE);
    CHECK_ERR(rw("GET / HTTP/1.1\r\nHost: a\r\n\r"), VT_ERR_TUNNEL_INCOMPLETE);
    CHECK(out_len == 0 && fr.head_len == 0);
    /* the cap: a head of exactly 16 KiB passes, one byte more does not */
    static char big[VTP_HTTP_HEAD_MAX + 64];
    const char *line = "GET / HTTP/1.1\r\nA: ";
    size_t fill = VTP_HTTP_HEAD_MAX - strlen(line) - 4;
    memcpy(big, line, strlen(line));
    memset(big + strlen(line), 'a', fill);
    memcpy(big + strlen(line) + fill, "\r\n\r\n", 5);
    CHECK(strlen(big) == VTP_HTTP_HEAD_MAX);
    CHECK_OK(rw(big));
    CHECK(fr.head_len == VTP_HTTP_HEAD_MAX);
    memset(big + strlen(line), 'a', fill + 1);
    memcpy(big + strlen(line) + fill + 1, "\r\n\r\n", 5);
    CHECK_ERR(rw(big), VT_ERR_TUNNEL_HDR_TOO_LONG);
    /* out too small for the rewritten head */
    CHECK_ERR(vtp_http_head_rewrite((const uint8_t *)"GET / HTTP/1.1\r\n\r\n", 18, "X", "v", out,
                                    10, &out_len, &fr), VT_ERR_TUNNEL_HDR_TOO_LONG);
    CHECK(out_len == 0);
}

static void test_refusals(void)
{
    CHECK_ERR(rw("GET /\r\n\r\n"), VT_ERR_TUNNEL_HTTP_REQUEST_LINE);
    CHECK_ERR(rw("GET / HTTP/1.1\n\r\n"), VT_ERR_TUNNEL_HTTP_REQUEST_LINE);
    CHECK_ERR(rw("G(T / HTTP/1.1\r\n\r\n"), VT_ERR_TUNNEL_HTTP_METHOD);
    CHECK_ERR(rw("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), VT_ERR_TUNNEL_HTTP_VERSION);
    CHECK_ERR(rw("CONNECT a:1 HTTP/1.1\r\n\r\n"), VT_ERR_TUNNEL_HDR_UPGRADE);
    CHECK_ERR(rw("GET / HTTP/1.1\r\nUpgrade: websocket\r\n\r\n"), VT_ERR_TUNNEL_HDR_UPGRADE);
    CHECK_ERR(rw("GET / HTTP/1.1\r\nA: 1\r\n folded\r\n\r\n"), VT_ERR_TUNNEL_HDR_LINE);
    CHECK_ERR(rw("GET / HTTP/1.1\r\nX-Claims : forged\r\n\r\n"), VT_ERR_TUNNEL_HDR_LINE);
    CHECK_ERR(rw("GET / HTTP/1.1\r\nno colon\r\n\r\n"), VT_ERR_TUNNEL_HDR_LINE);
    CHECK_ERR(rw("GET / HTTP/1.1\r\n: empty\r\n\r\n"), VT_ERR_TUNNEL_HDR_LINE);
    CHECK_ERR(rw("GET / HTTP/1.1\r\nA: x\ny\r\n\r\n"), VT_ERR_TUNNEL_HDR_LINE);
    CHECK_ERR(rw("GET / HTTP/1.1\r\nA: x\x01y\r\n\r\n"), VT_ERR_TUNNEL_HDR_LINE);
    CHECK_ERR(rw("GET / HTTP/1.1\r\nA: x\ry\r\n\r\n"), VT_ERR_TUNNEL_HDR_LINE);
    CHECK_ERR(rw("GET / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"),
              VT_ERR_TUNNEL_HDR_FRAMING);
    CHECK_ERR(rw("GET / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n"),
              VT_ERR_TUNNEL_HDR_FRAMING);
    CHECK_ERR(rw("GET / HTTP/1.1\r\nContent-Length: 5, 5\r\n\r\n"), VT_ERR_TUNNEL_HDR_FRAMING);
    CHECK_ERR(rw("GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n"), VT_ERR_TUNNEL_HDR_FRAMING);
    CHECK_ERR(rw("GET / HTTP/1.1\r\nContent-Length: \r\n\r\n"), VT_ERR_TUNNEL_HDR_FRAMING);
    CHECK_ERR(rw("GET / HTTP/1.1\r\nContent-Length: 1234567890123456789\r\n\r\n"),
              VT_ERR_TUNNEL_HDR_FRAMING);
    CHECK_ERR(rw("GET / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"),
              VT_ERR_TUNNEL_HDR_FRAMING);
    CHECK_ERR(rw("GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n"),
              VT_ERR_TUNNEL_HDR_FRAMING);
    CHECK(out_len == 0 && fr.head_len == 0 && !fr.chunked);
    /* the operator's name and value */
    CHECK_ERR(vtp_http_head_rewrite((const uint8_t *)"GET / HTTP/1.1\r\n\r\n", 18, "X Y", "v", out,
                                    sizeof(out), &out_len, &fr), VT_ERR_INVALID_ARG);
    CHECK_ERR(vtp_http_head_rewrite((const uint8_t *)"GET / HTTP/1.1\r\n\r\n", 18, "X", "a\r\nB: c",
                                    out, sizeof(out), &out_len, &fr), VT_ERR_INVALID_ARG);
    CHECK_OK(vtp_http_field_name_check("X-Veritee-Claims"));
    CHECK_ERR(vtp_http_field_name_check(""), VT_ERR_TUNNEL_HDR_NAME);
    CHECK_ERR(vtp_http_field_name_check("a:b"), VT_ERR_TUNNEL_HDR_NAME);
    CHECK_ERR(vtp_http_field_name_check(NULL), VT_ERR_TUNNEL_HDR_NAME);
}

static vt_res chunk(const char *s, uint64_t *size, size_t *used)
{
    return vtp_http_chunk_line((const uint8_t *)s, strlen(s), size, used);
}

static void test_chunk_line(void)
{
    uint64_t size = 0;
    size_t used = 0;
    CHECK_OK(chunk("1a\r\ndata", &size, &used));
    CHECK(size == 26 && used == 4);
    CHECK_OK(chunk("0\r\n\r\n", &size, &used));
    CHECK(size == 0 && used == 3);
    CHECK_OK(chunk("FFF ;name=value\r\n", &size, &used));
    CHECK(size == 0xfff && used == 17);
    CHECK_OK(chunk("fffffffffffffff\r\n", &size, &used)); /* 15 digits: the cap */
    CHECK(size == 0xfffffffffffffffULL);
    CHECK_ERR(chunk("1000000000000000\r\n", &size, &used), VT_ERR_TUNNEL_HDR_CHUNK);
    CHECK_ERR(chunk("1a", &size, &used), VT_ERR_TUNNEL_INCOMPLETE);
    CHECK_ERR(chunk("\r\n", &size, &used), VT_ERR_TUNNEL_HDR_CHUNK);
    CHECK_ERR(chunk("g\r\n", &size, &used), VT_ERR_TUNNEL_HDR_CHUNK);
    CHECK_ERR(chunk("1a x\r\n", &size, &used), VT_ERR_TUNNEL_HDR_CHUNK);
    CHECK_ERR(chunk("1a\n", &size, &used), VT_ERR_TUNNEL_HDR_CHUNK);
    CHECK_ERR(chunk("1;a\x01\r\n", &size, &used), VT_ERR_TUNNEL_HDR_CHUNK);
    CHECK(size == 0 && used == 0);
    static char longl[VTP_HTTP_CHUNK_LINE_MAX + 8];
    memset(longl, ' ', sizeof(longl) - 1);
    longl[0] = '1';
    CHECK_ERR(chunk(longl, &size, &used), VT_ERR_TUNNEL_HDR_CHUNK); /* no CRLF within 1 KiB */
    longl[VTP_HTTP_CHUNK_LINE_MAX - 1] = '\0';
    CHECK_ERR(chunk(longl, &size, &used), VT_ERR_TUNNEL_INCOMPLETE); /* not yet */
}

int main(void)
{
    test_rewrite();
    test_incomplete();
    test_refusals();
    test_chunk_line();
    return vt_test_done();
}
