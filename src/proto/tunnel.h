/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tunnel.h - pieces of the attested tunnel (`veritee tunnel ingress|egress`) that do not need
 * sockets: --expect CLAIM=VALUE appraisal of a verified peer report.
 *
 * An expectation names a claim of the verified report (or "tee" / "tcb_status", which the
 * report carries outside its claims) and the value it must have: for a bool claim "true" or
 * "false"; for an integer its decimal value; for a string the exact text; for bytes their hex
 * (either case); for a list of strings one of its members.
 */
#ifndef VT_PROTO_TUNNEL_H
#define VT_PROTO_TUNNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/hostport.h"
#include "util/result.h"
#include "veritee/veritee.h"

#define VTP_EXPECT_NAME_MAX 64
#define VTP_EXPECT_VALUE_MAX 256

struct vtp_expect {
    char name[VTP_EXPECT_NAME_MAX + 1];
    char value[VTP_EXPECT_VALUE_MAX + 1];
};

/* "CLAIM=VALUE": CLAIM 1..64 characters of [A-Za-z0-9_.-], VALUE 1..256 printable characters.
 * Errors: VT_ERR_TUNNEL_EXPECT_SYNTAX. out is zeroed on failure. */
VT_RESULT vtp_expect_parse(const char *in, struct vtp_expect *out);

/* Every expectation must hold for rep (a verified report; NULL = an unattested peer).
 * Errors: VT_ERR_TUNNEL_UNATTESTED, VT_ERR_TUNNEL_EXPECT_ABSENT, VT_ERR_TUNNEL_EXPECT_MISMATCH;
 * why (may be NULL) names the claim, what it was and what was wanted. */
VT_RESULT vtp_expect_check(const vt_report *rep, const struct vtp_expect *e, size_t n,
                           char *why, size_t why_len);

/* ---- evidence freshness ------------------------------------------------------------------------ */

/* The custom claim a tunnel (or tls-server with --cert-lifetime) puts in the evidence-bound
 * claims of each certificate it makes: the Unix time of making it, decimal ASCII. The peer's
 * report shows it as "ratls.claim.iat". */
#define VTP_IAT_CLAIM "iat"
#define VTP_IAT_REPORT_CLAIM "ratls.claim.iat"

/* The verified report's issue time must be within max_age seconds before now (and at most 60
 * seconds after it: clock skew). Errors: VT_ERR_TUNNEL_EVIDENCE_TIME (absent or not 1..18
 * decimal digits), VT_ERR_TUNNEL_EVIDENCE_AGE; why (may be NULL) gives the ages. */
VT_RESULT vtp_evidence_age_check(const vt_report *rep, int64_t now, long max_age, char *why,
                                 size_t why_len);
/* The same on the claim's bytes (what the check above reads; for tests). */
VT_RESULT vtp_iat_parse(const uint8_t *p, size_t n, int64_t *out);

/* ---- proxy requests on the ingress (--http-proxy, --socks5): untrusted local input ---------- */

#define VTP_PROXY_HEAD_MAX 8192

enum vtp_proxy_kind { VTP_PROXY_CONNECT, VTP_PROXY_ABSOLUTE, VTP_PROXY_SOCKS5 };

struct vtp_proxy_req {
    enum vtp_proxy_kind kind;
    char host[VTP_MAX_HOST + 1]; /* destination: a name or an IP literal (no brackets) */
    uint16_t port;
    size_t head_len;                 /* bytes of the request consumed (HTTP: through CRLFCRLF) */
    /* ABSOLUTE: the request line in origin form ("GET /path HTTP/1.1\r\n") that replaces
     * the first line_len bytes, which are the absolute-form request line. */
    char origin_line[VTP_PROXY_HEAD_MAX + 1];
    size_t line_len;
};

/* An HTTP proxy request head (bytes received so far, at most VTP_PROXY_HEAD_MAX are looked
 * at): "CONNECT HOST:PORT HTTP/1.x" or "METHOD http://HOST[:PORT][/PATH] HTTP/1.x", then
 * header lines through an empty line. Errors: VT_ERR_TUNNEL_INCOMPLETE (no empty line yet),
 * VT_ERR_TUNNEL_HTTP_TOO_LONG, _REQUEST_LINE, _METHOD, _TARGET, _VERSION, and those of
 * vtp_hostport_parse for the HOST:PORT. out is zeroed on failure. */
VT_RESULT vtp_proxy_http_parse(const uint8_t *p, size_t len, struct vtp_proxy_req *out);

/* A SOCKS5 greeting (RFC 1928 section 3): VER 5, NMETHODS, METHODS, which must offer 0 (no
 * authentication); *used = its length. Errors: VT_ERR_TUNNEL_INCOMPLETE,
 * VT_ERR_TUNNEL_SOCKS_VERSION, _NO_METHOD, _TRAILING (bytes after it: a client must wait
 * for the method reply). */
VT_RESULT vtp_socks5_greeting_parse(const uint8_t *p, size_t len, size_t *used);

/* A SOCKS5 request (section 4): VER 5, CMD 1 (CONNECT), RSV 0, ATYP 1 (IPv4) / 3 (domain,
 * 1..253 characters of the HOST:PORT grammar) / 4 (IPv6), PORT (1..65535). Errors:
 * VT_ERR_TUNNEL_INCOMPLETE, VT_ERR_TUNNEL_SOCKS_VERSION, _COMMAND, _RESERVED, _ADDRESS,
 * _TRAILING, VT_ERR_PROTO_ADDR_PORT (port 0). out is zeroed on failure. */
VT_RESULT vtp_socks5_request_parse(const uint8_t *p, size_t len, struct vtp_proxy_req *out);

/* ---- egress --claims-header: HTTP/1.x requests from the attested peer (untrusted) ---------- */

#define VTP_HTTP_HEAD_MAX 16384      /* a request head (request line through the empty line) */
#define VTP_HTTP_CHUNK_LINE_MAX 1024 /* a chunk-size line with its extensions */

/* How the body after a request head is delimited. */
struct vtp_http_framing {
    size_t head_len; /* bytes of the head consumed, through the empty line */
    bool chunked;    /* Transfer-Encoding: chunked */
    uint64_t length; /* otherwise Content-Length (0 without one) */
};

/* NAME: an HTTP field name (a token, 1..64 characters). Errors: VT_ERR_TUNNEL_HDR_NAME. */
VT_RESULT vtp_http_field_name_check(const char *name);

/* One request head p[0..len) (the bytes received so far; at most VTP_HTTP_HEAD_MAX are looked
 * at) rewritten into out (cap bytes): the request line, then "NAME: VALUE" (value: printable
 * ASCII), then every header field line of the request except those named NAME (any case),
 * then the empty line. Refused (fail closed): a request line that is not "METHOD TARGET
 * HTTP/1.0|1.1"; field lines with obs-fold, whitespace before the colon, a name that is not
 * a token, control bytes in the value, or a bare LF; CONNECT and Upgrade; both Content-Length
 * and Transfer-Encoding, Content-Length not 1..18 digits or repeated with another value,
 * Transfer-Encoding other than exactly "chunked". Errors: VT_ERR_TUNNEL_INCOMPLETE (no empty
 * line yet), VT_ERR_TUNNEL_HDR_TOO_LONG (none within the limit, or out too small),
 * VT_ERR_TUNNEL_HTTP_REQUEST_LINE, _METHOD, _VERSION, VT_ERR_TUNNEL_HDR_LINE, _FRAMING,
 * _UPGRADE, VT_ERR_INVALID_ARG (name or value). *f and *out_len are zeroed on failure. */
VT_RESULT vtp_http_head_rewrite(const uint8_t *p, size_t len, const char *name, const char *value,
                                uint8_t *out, size_t cap, size_t *out_len,
                                struct vtp_http_framing *f);

/* A chunk-size line of a chunked body: 1..15 hex digits, optional whitespace and ";"
 * extensions (no control bytes but HTAB), CRLF. *size is the chunk's length, *used the
 * line's. Errors: VT_ERR_TUNNEL_INCOMPLETE, VT_ERR_TUNNEL_HDR_CHUNK. */
VT_RESULT vtp_http_chunk_line(const uint8_t *p, size_t len, uint64_t *size, size_t *used);

#endif
