/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tunnel.c - --expect CLAIM=VALUE: parsing (operator input) and appraisal of a verified peer
 * report (tunnel.h). The report was produced and verified by the library; this file only
 * compares its public claims with what the operator demands, and refuses when any differs.
 */
#include "proto/tunnel.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "proto/internal.h"
#include "util/codec.h"
#include "util/cursor.h"

static bool name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '-' || c == '_';
}

vt_res vtp_expect_parse(const char *in, struct vtp_expect *out)
{
    memset(out, 0, sizeof(*out));
    const char *eq = in ? strchr(in, '=') : NULL;
    ENSURE(eq, VT_ERR_TUNNEL_EXPECT_SYNTAX);
    size_t nl = (size_t)(eq - in), vl = strlen(eq + 1);
    ENSURE(nl >= 1 && nl <= VTP_EXPECT_NAME_MAX, VT_ERR_TUNNEL_EXPECT_SYNTAX);
    ENSURE(vl >= 1 && vl <= VTP_EXPECT_VALUE_MAX, VT_ERR_TUNNEL_EXPECT_SYNTAX);
    for (size_t i = 0; i < nl; i++)
        ENSURE(name_char(in[i]), VT_ERR_TUNNEL_EXPECT_SYNTAX);
    for (size_t i = 0; i < vl; i++)
        ENSURE(eq[1 + i] > 0x20 && eq[1 + i] < 0x7f, VT_ERR_TUNNEL_EXPECT_SYNTAX);
    memcpy(out->name, in, nl);
    memcpy(out->value, eq + 1, vl);
    return vti_ok();
}

/* The claim as text into got (bytes: lower-case hex, cut to fit). */
static void claim_text(const struct vt_claim *c, char *got, size_t len)
{
    switch (c->type) {
    case VT_CLAIM_BOOL:
        snprintf(got, len, "%s", c->b ? "true" : "false");
        break;
    case VT_CLAIM_INT:
        snprintf(got, len, "%lld", (long long)c->i);
        break;
    case VT_CLAIM_STRING:
        snprintf(got, len, "%s", c->s ? c->s : "");
        break;
    case VT_CLAIM_BYTES: {
        size_t n = c->n < (len - 1) / 2 ? c->n : (len - 1) / 2;
        vti_hex_encode(c->p, n, got);
        break;
    }
    case VT_CLAIM_STRLIST:
        snprintf(got, len, "%zu strings", c->n);
        break;
    }
}

static bool int_equals(int64_t have, const char *want)
{
    char *end = NULL;
    errno = 0;
    long long v = strtoll(want, &end, 10);
    return errno == 0 && end && *end == '\0' && end != want && v == have;
}

/* Does claim c have the value want? */
static bool claim_matches(const struct vt_claim *c, const char *want)
{
    switch (c->type) {
    case VT_CLAIM_BOOL:
        return !strcmp(want, c->b ? "true" : "false");
    case VT_CLAIM_INT:
        return int_equals(c->i, want);
    case VT_CLAIM_STRING:
        return c->s && !strcmp(c->s, want);
    case VT_CLAIM_BYTES: {
        if (strlen(want) != 2 * c->n)
            return false;
        char *hex = malloc(2 * c->n + 1);
        if (!hex)
            return false;
        vti_hex_encode(c->p, c->n, hex);
        bool eq = strcasecmp(hex, want) == 0; /* public claim values */
        free(hex);
        return eq;
    }
    case VT_CLAIM_STRLIST:
        for (size_t i = 0; i < c->n; i++)
            if (c->list[i] && !strcmp(c->list[i], want))
                return true;
        return false;
    }
    return false;
}

/* One expectation against rep. */
static vt_res check_one(const vt_report *rep, const struct vtp_expect *e, char *why,
                        size_t why_len)
{
    const struct vt_claim *c = vt_claims_get(vt_report_claims(rep), e->name);
    struct vt_claim pseudo = { .name = e->name, .type = VT_CLAIM_STRING };
    if (!c && !strcmp(e->name, "tee") && vt_report_tee(rep)) {
        pseudo.s = vt_report_tee(rep);
        c = &pseudo;
    } else if (!c && !strcmp(e->name, "tcb_status") && vt_report_tcb_status(rep)) {
        pseudo.s = vt_report_tcb_status(rep);
        c = &pseudo;
    }
    if (!c) {
        if (why)
            snprintf(why, why_len, "claim %s absent (--expect %s=%s)", e->name, e->name,
                     e->value);
        return VT_FAIL(VT_ERR_TUNNEL_EXPECT_ABSENT);
    }
    if (claim_matches(c, e->value))
        return vti_ok();
    if (why) {
        char got[160];
        claim_text(c, got, sizeof(got));
        snprintf(why, why_len, "claim %s is %s, --expect wants %s", e->name, got, e->value);
    }
    return VT_FAIL(VT_ERR_TUNNEL_EXPECT_MISMATCH);
}

vt_res vtp_expect_check(const vt_report *rep, const struct vtp_expect *e, size_t n, char *why,
                        size_t why_len)
{
    if (why && why_len)
        why[0] = '\0';
    if (!rep || !vt_report_verified(rep)) {
        if (why)
            snprintf(why, why_len, "the peer presented no verified evidence");
        return VT_FAIL(VT_ERR_TUNNEL_UNATTESTED);
    }
    for (size_t i = 0; i < n; i++)
        GUARD(check_one(rep, &e[i], why, why_len));
    return vti_ok();
}

/* ---- evidence freshness ------------------------------------------------------------------------ */

vt_res vtp_iat_parse(const uint8_t *p, size_t n, int64_t *out)
{
    struct vt_cur c = vti_cur_init(p, n);
    ENSURE(n >= 1 && n <= 18, VT_ERR_TUNNEL_EVIDENCE_TIME);
    int64_t v = 0;
    while (vti_cur_left(&c)) {
        uint8_t d = 0;
        GUARD(vti_cur_u8(&c, &d));
        ENSURE(d >= '0' && d <= '9', VT_ERR_TUNNEL_EVIDENCE_TIME);
        v = v * 10 + (d - '0'); /* 18 digits fit in int64_t */
    }
    *out = v;
    return vti_ok();
}

vt_res vtp_evidence_age_check(const vt_report *rep, int64_t now, long max_age, char *why,
                              size_t why_len)
{
    const struct vt_claim *c = rep ? vt_claims_get(vt_report_claims(rep), VTP_IAT_REPORT_CLAIM)
                                   : NULL;
    int64_t iat = 0;
    if (!c || c->type != VT_CLAIM_BYTES || vtp_iat_parse(c->p, c->n, &iat).err) {
        vtp_why(why, why_len, "no valid claim %s in the peer's certificate (--max-evidence-age)",
                VTP_IAT_REPORT_CLAIM);
        return VT_FAIL(VT_ERR_TUNNEL_EVIDENCE_TIME);
    }
    if (iat > now + 60 || now - iat > max_age) {
        vtp_why(why, why_len, "evidence issued %lld s ago, --max-evidence-age %ld",
                (long long)(now - iat), max_age);
        return VT_FAIL(VT_ERR_TUNNEL_EVIDENCE_AGE);
    }
    return vti_ok();
}

/* ---- HTTP proxy request head ------------------------------------------------------------------ */

/* The next CRLF-terminated line (without CRLF) into *line / *n. VT_ERR_TUNNEL_INCOMPLETE when
 * no LF is left in c; a LF without CR before it is a malformed line. */
static vt_res next_line(struct vt_cur *c, const uint8_t **line, size_t *n)
{
    const uint8_t *start = vti_cur_pos(c);
    const uint8_t *lf = memchr(start, '\n', vti_cur_left(c));
    ENSURE(lf, VT_ERR_TUNNEL_INCOMPLETE);
    size_t k = (size_t)(lf - start);
    ENSURE(k >= 1 && start[k - 1] == '\r', VT_ERR_TUNNEL_HTTP_REQUEST_LINE);
    GUARD(vti_cur_view(c, k - 1, line));
    *n = k - 1;
    return vti_cur_skip(c, 2);
}

static bool tchar(uint8_t ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           (ch && strchr("!#$%&'*+-.^_`|~", ch));
}

/* The request line's words: METHOD SP TARGET SP VERSION, each non-empty, no control bytes. */
struct req_line {
    const uint8_t *m, *t, *v;
    size_t mn, tn, vn;
};

/* Up to the next space (or the end): a non-empty word of bytes above 0x20 below 0x7f. */
static vt_res word(struct vt_cur *c, bool last, const uint8_t **w, size_t *n)
{
    const uint8_t *s = vti_cur_pos(c);
    size_t left = vti_cur_left(c), k = 0;
    while (k < left && s[k] != ' ') {
        ENSURE(s[k] > 0x20 && s[k] < 0x7f, VT_ERR_TUNNEL_HTTP_REQUEST_LINE);
        k++;
    }
    ENSURE(k > 0 && (last ? k == left : k < left), VT_ERR_TUNNEL_HTTP_REQUEST_LINE);
    GUARD(vti_cur_view(c, k, w));
    *n = k;
    return last ? vti_ok() : vti_cur_skip(c, 1);
}

static vt_res request_line(const uint8_t *p, size_t n, struct req_line *rl)
{
    struct vt_cur c = vti_cur_init(p, n);
    GUARD(word(&c, false, &rl->m, &rl->mn));
    GUARD(word(&c, false, &rl->t, &rl->tn));
    GUARD(word(&c, true, &rl->v, &rl->vn));
    ENSURE(rl->mn <= 32, VT_ERR_TUNNEL_HTTP_METHOD);
    for (size_t i = 0; i < rl->mn; i++)
        ENSURE(tchar(rl->m[i]), VT_ERR_TUNNEL_HTTP_METHOD);
    ENSURE(rl->vn == 8 && (!strncmp((const char *)rl->v, "HTTP/1.1", 8) ||
                           !strncmp((const char *)rl->v, "HTTP/1.0", 8)),
           VT_ERR_TUNNEL_HTTP_VERSION);
    return vti_ok();
}

/* HOST:PORT text (n bytes) into out->host / out->port; port_default when there is no port. */
static vt_res authority(const uint8_t *a, size_t n, uint16_t port_default, struct vtp_proxy_req *out)
{
    char text[VTP_MAX_HOST + 16];
    ENSURE(n >= 1 && n + 7 < sizeof(text), VT_ERR_TUNNEL_HTTP_TARGET);
    ENSURE(!memchr(a, '@', n), VT_ERR_TUNNEL_HTTP_TARGET); /* no userinfo */
    memcpy(text, a, n);
    text[n] = '\0';
    const char *close = strrchr(text, ']');
    const char *colon = strrchr(text, ':');
    if (port_default && (!colon || (close && colon < close)))
        snprintf(text + n, sizeof(text) - n, ":%u", port_default);
    struct vtp_hostport hp;
    GUARD(vtp_hostport_parse(text, &hp));
    ENSURE(hp.host[0], VT_ERR_PROTO_ADDR_HOST);
    ENSURE(hp.port != 0, VT_ERR_PROTO_ADDR_PORT);
    memcpy(out->host, hp.host, sizeof(out->host));
    out->port = hp.port;
    return vti_ok();
}

/* "http://AUTHORITY[/PATH]": the destination and the request line in origin form. */
static vt_res absolute_form(const struct req_line *rl, struct vtp_proxy_req *out)
{
    ENSURE(rl->tn > 7 && !strncasecmp((const char *)rl->t, "http://", 7), VT_ERR_TUNNEL_HTTP_TARGET);
    const uint8_t *a = rl->t + 7;
    size_t rest = rl->tn - 7;
    const uint8_t *slash = memchr(a, '/', rest);
    size_t an = slash ? (size_t)(slash - a) : rest;
    ENSURE(!memchr(a, '?', an) && !memchr(a, '#', an), VT_ERR_TUNNEL_HTTP_TARGET);
    GUARD(authority(a, an, 80, out));
    const char *path = slash ? (const char *)slash : "/";
    int pn = slash ? (int)(rest - an) : 1;
    int w = snprintf(out->origin_line, sizeof(out->origin_line), "%.*s %.*s %.*s\r\n",
                     (int)rl->mn, (const char *)rl->m, pn, path, (int)rl->vn, (const char *)rl->v);
    ENSURE(w > 0 && (size_t)w < sizeof(out->origin_line), VT_ERR_TUNNEL_HTTP_TOO_LONG);
    out->kind = VTP_PROXY_ABSOLUTE;
    return vti_ok();
}

static vt_res http_parse(const uint8_t *p, size_t len, struct vtp_proxy_req *out)
{
    size_t window = len < VTP_PROXY_HEAD_MAX ? len : VTP_PROXY_HEAD_MAX;
    struct vt_cur c = vti_cur_init(p, window);
    const uint8_t *first = NULL, *line = NULL;
    size_t first_n = 0, n = 0;
    vt_res r = next_line(&c, &first, &first_n);
    for (bool more = !r.err; more;) {
        r = next_line(&c, &line, &n);
        more = !r.err && n > 0;
    }
    if (r.err == VT_ERR_TUNNEL_INCOMPLETE && len > VTP_PROXY_HEAD_MAX)
        return VT_FAIL(VT_ERR_TUNNEL_HTTP_TOO_LONG);
    GUARD(r);
    out->head_len = c.off;
    out->line_len = first_n + 2;
    struct req_line rl;
    GUARD(request_line(first, first_n, &rl));
    if (rl.mn == 7 && !strncmp((const char *)rl.m, "CONNECT", 7)) {
        out->kind = VTP_PROXY_CONNECT;
        return authority(rl.t, rl.tn, 0, out);
    }
    return absolute_form(&rl, out);
}

vt_res vtp_proxy_http_parse(const uint8_t *p, size_t len, struct vtp_proxy_req *out)
{
    memset(out, 0, sizeof(*out));
    vt_res r = http_parse(p, len, out);
    if (r.err)
        memset(out, 0, sizeof(*out));
    return r;
}

/* ---- SOCKS5 ----------------------------------------------------------------------------------- */

/* One byte; VT_ERR_TUNNEL_INCOMPLETE at the end. */
static vt_res byte(struct vt_cur *c, uint8_t *b)
{
    ENSURE(vti_cur_left(c) >= 1, VT_ERR_TUNNEL_INCOMPLETE);
    return vti_cur_u8(c, b);
}

vt_res vtp_socks5_greeting_parse(const uint8_t *p, size_t len, size_t *used)
{
    struct vt_cur c = vti_cur_init(p, len);
    uint8_t ver = 0, n = 0;
    const uint8_t *methods = NULL;
    GUARD(byte(&c, &ver));
    ENSURE(ver == 5, VT_ERR_TUNNEL_SOCKS_VERSION);
    GUARD(byte(&c, &n));
    ENSURE(n >= 1, VT_ERR_TUNNEL_SOCKS_NO_METHOD);
    ENSURE(vti_cur_left(&c) >= n, VT_ERR_TUNNEL_INCOMPLETE);
    GUARD(vti_cur_view(&c, n, &methods));
    ENSURE(vti_cur_left(&c) == 0, VT_ERR_TUNNEL_SOCKS_TRAILING);
    ENSURE(memchr(methods, 0, n), VT_ERR_TUNNEL_SOCKS_NO_METHOD);
    *used = c.off;
    return vti_ok();
}

/* The address of a SOCKS5 request (after ATYP) into out->host. */
static vt_res socks_addr(struct vt_cur *c, uint8_t atyp, struct vtp_proxy_req *out)
{
    uint8_t raw[16], n = 0;
    const uint8_t *name = NULL;
    switch (atyp) {
    case 1:
    case 4:
        n = atyp == 1 ? 4 : 16;
        ENSURE(vti_cur_left(c) >= n, VT_ERR_TUNNEL_INCOMPLETE);
        GUARD(vti_cur_copy(c, raw, n));
        ENSURE(inet_ntop(atyp == 1 ? AF_INET : AF_INET6, raw, out->host, sizeof(out->host)),
               VT_ERR_TUNNEL_SOCKS_ADDRESS);
        return vti_ok();
    case 3:
        GUARD(byte(c, &n));
        ENSURE(n >= 1 && n <= VTP_MAX_HOST, VT_ERR_TUNNEL_SOCKS_ADDRESS);
        ENSURE(vti_cur_left(c) >= n, VT_ERR_TUNNEL_INCOMPLETE);
        GUARD(vti_cur_view(c, n, &name));
        for (size_t i = 0; i < n; i++)
            ENSURE(name_char((char)name[i]), VT_ERR_TUNNEL_SOCKS_ADDRESS);
        memcpy(out->host, name, n);
        out->host[n] = '\0';
        return vti_ok();
    default:
        return VT_FAIL(VT_ERR_TUNNEL_SOCKS_ADDRESS);
    }
}

static vt_res socks_request(const uint8_t *p, size_t len, struct vtp_proxy_req *out)
{
    struct vt_cur c = vti_cur_init(p, len);
    uint8_t ver = 0, cmd = 0, rsv = 0, atyp = 0;
    GUARD(byte(&c, &ver));
    ENSURE(ver == 5, VT_ERR_TUNNEL_SOCKS_VERSION);
    GUARD(byte(&c, &cmd));
    ENSURE(cmd == 1, VT_ERR_TUNNEL_SOCKS_COMMAND);
    GUARD(byte(&c, &rsv));
    ENSURE(rsv == 0, VT_ERR_TUNNEL_SOCKS_RESERVED);
    GUARD(byte(&c, &atyp));
    GUARD(socks_addr(&c, atyp, out));
    ENSURE(vti_cur_left(&c) >= 2, VT_ERR_TUNNEL_INCOMPLETE);
    GUARD(vti_cur_u16be(&c, &out->port));
    ENSURE(out->port != 0, VT_ERR_PROTO_ADDR_PORT);
    ENSURE(vti_cur_left(&c) == 0, VT_ERR_TUNNEL_SOCKS_TRAILING);
    out->kind = VTP_PROXY_SOCKS5;
    out->head_len = c.off;
    return vti_ok();
}

vt_res vtp_socks5_request_parse(const uint8_t *p, size_t len, struct vtp_proxy_req *out)
{
    memset(out, 0, sizeof(*out));
    vt_res r = socks_request(p, len, out);
    if (r.err)
        memset(out, 0, sizeof(*out));
    return r;
}

/* ---- egress --claims-header: HTTP/1.x request heads ------------------------------------- */

static bool token(const uint8_t *s, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!tchar(s[i]))
            return false;
    return true;
}

vt_res vtp_http_field_name_check(const char *name)
{
    ENSURE(name && strlen(name) <= 64 && token((const uint8_t *)name, strlen(name)),
           VT_ERR_TUNNEL_HDR_NAME);
    return vti_ok();
}

/* Field value bytes: HTAB, SP, visible ASCII, obs-text; never other control bytes. */
static bool value_ok(const uint8_t *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((v[i] < 0x20 && v[i] != '\t') || v[i] == 0x7f)
            return false;
    return true;
}

/* The value without optional whitespace on either side. */
static void ows_trim(const uint8_t **v, size_t *n)
{
    while (*n && (**v == ' ' || **v == '\t')) {
        (*v)++;
        (*n)--;
    }
    while (*n && ((*v)[*n - 1] == ' ' || (*v)[*n - 1] == '\t'))
        (*n)--;
}

static bool name_is(const uint8_t *s, size_t n, const char *want)
{
    return strlen(want) == n && !strncasecmp((const char *)s, want, n);
}

/* Framing fields as they are met. */
struct head_state {
    bool has_cl, has_te;
    uint64_t cl;
};

static vt_res framing_field(const uint8_t *nm, size_t nn, const uint8_t *v, size_t vn,
                            struct head_state *h)
{
    ows_trim(&v, &vn);
    ENSURE(!name_is(nm, nn, "upgrade"), VT_ERR_TUNNEL_HDR_UPGRADE);
    if (name_is(nm, nn, "transfer-encoding")) {
        ENSURE(!h->has_te && vn == 7 && !strncasecmp((const char *)v, "chunked", 7),
               VT_ERR_TUNNEL_HDR_FRAMING);
        h->has_te = true;
    } else if (name_is(nm, nn, "content-length")) {
        ENSURE(vn >= 1 && vn <= 18, VT_ERR_TUNNEL_HDR_FRAMING);
        uint64_t n = 0;
        for (size_t i = 0; i < vn; i++) {
            ENSURE(v[i] >= '0' && v[i] <= '9', VT_ERR_TUNNEL_HDR_FRAMING);
            n = n * 10 + (uint64_t)(v[i] - '0');
        }
        ENSURE(!h->has_cl || h->cl == n, VT_ERR_TUNNEL_HDR_FRAMING);
        h->has_cl = true;
        h->cl = n;
    }
    return vti_ok();
}

/* Append n bytes to out. */
static vt_res out_put(uint8_t *out, size_t cap, size_t *at, const void *s, size_t n)
{
    ENSURE(n <= cap - *at, VT_ERR_TUNNEL_HDR_TOO_LONG);
    memcpy(out + *at, s, n);
    *at += n;
    return vti_ok();
}

/* One field line (without CRLF): checked, framing noted, copied unless it is NAME. */
static vt_res field_line(const uint8_t *l, size_t n, const char *name, struct head_state *h,
                         uint8_t *out, size_t cap, size_t *at)
{
    ENSURE(l[0] != ' ' && l[0] != '\t', VT_ERR_TUNNEL_HDR_LINE); /* obs-fold */
    const uint8_t *colon = memchr(l, ':', n);
    ENSURE(colon, VT_ERR_TUNNEL_HDR_LINE);
    size_t nn = (size_t)(colon - l);
    ENSURE(token(l, nn), VT_ERR_TUNNEL_HDR_LINE); /* also: no whitespace before the colon */
    ENSURE(value_ok(colon + 1, n - nn - 1), VT_ERR_TUNNEL_HDR_LINE);
    GUARD(framing_field(l, nn, colon + 1, n - nn - 1, h));
    if (name_is(l, nn, name))
        return vti_ok(); /* the client's own: dropped, it must not forge ours */
    GUARD(out_put(out, cap, at, l, n));
    return out_put(out, cap, at, "\r\n", 2);
}

/* The next line; a bare LF in a field line is malformed. */
static vt_res head_line(struct vt_cur *c, const uint8_t **l, size_t *n)
{
    vt_res r = next_line(c, l, n);
    if (r.err == VT_ERR_TUNNEL_HTTP_REQUEST_LINE)
        return VT_FAIL(VT_ERR_TUNNEL_HDR_LINE);
    return r;
}

static vt_res head_fields(struct vt_cur *c, const char *name, struct head_state *h, uint8_t *out,
                          size_t cap, size_t *at)
{
    for (;;) {
        const uint8_t *l = NULL;
        size_t n = 0;
        GUARD(head_line(c, &l, &n));
        if (n == 0)
            return vti_ok();
        GUARD(field_line(l, n, name, h, out, cap, at));
    }
}

/* The whole head must be there before anything is judged: INCOMPLETE wins over the rest. */
static vt_res head_complete(const uint8_t *p, size_t len)
{
    size_t window = len < VTP_HTTP_HEAD_MAX ? len : VTP_HTTP_HEAD_MAX;
    for (size_t i = 0; i + 1 < window; i++)
        if (p[i] == '\n' && (p[i + 1] == '\n' || (p[i + 1] == '\r' && i + 2 < window &&
                                                   p[i + 2] == '\n')))
            return vti_ok();
    return VT_FAIL(len >= VTP_HTTP_HEAD_MAX ? VT_ERR_TUNNEL_HDR_TOO_LONG
                                            : VT_ERR_TUNNEL_INCOMPLETE);
}

static vt_res head_rewrite(const uint8_t *p, size_t len, const char *name, const char *value,
                           uint8_t *out, size_t cap, size_t *at, struct vtp_http_framing *f)
{
    ENSURE(!vtp_http_field_name_check(name).err && value &&
           value_ok((const uint8_t *)value, strlen(value)), VT_ERR_INVALID_ARG);
    GUARD(head_complete(p, len));
    size_t window = len < VTP_HTTP_HEAD_MAX ? len : VTP_HTTP_HEAD_MAX;
    struct vt_cur c = vti_cur_init(p, window);
    const uint8_t *first = NULL;
    size_t first_n = 0;
    GUARD(next_line(&c, &first, &first_n));
    struct req_line rl;
    GUARD(request_line(first, first_n, &rl));
    ENSURE(!(rl.mn == 7 && !strncmp((const char *)rl.m, "CONNECT", 7)), VT_ERR_TUNNEL_HDR_UPGRADE);
    GUARD(out_put(out, cap, at, first, first_n + 2));
    GUARD(out_put(out, cap, at, name, strlen(name)));
    GUARD(out_put(out, cap, at, ": ", 2));
    GUARD(out_put(out, cap, at, value, strlen(value)));
    GUARD(out_put(out, cap, at, "\r\n", 2));
    struct head_state h = { 0 };
    GUARD(head_fields(&c, name, &h, out, cap, at));
    ENSURE(!(h.has_cl && h.has_te), VT_ERR_TUNNEL_HDR_FRAMING);
    GUARD(out_put(out, cap, at, "\r\n", 2));
    f->head_len = c.off;
    f->chunked = h.has_te;
    f->length = h.has_cl ? h.cl : 0;
    return vti_ok();
}

vt_res vtp_http_head_rewrite(const uint8_t *p, size_t len, const char *name, const char *value,
                             uint8_t *out, size_t cap, size_t *out_len, struct vtp_http_framing *f)
{
    memset(f, 0, sizeof(*f));
    *out_len = 0;
    size_t at = 0;
    vt_res r = head_rewrite(p, len, name, value, out, cap, &at, f);
    if (r.err)
        memset(f, 0, sizeof(*f));
    else
        *out_len = at;
    return r;
}

static int hexval(uint8_t ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

vt_res vtp_http_chunk_line(const uint8_t *p, size_t len, uint64_t *size, size_t *used)
{
    *size = 0;
    *used = 0;
    size_t window = len < VTP_HTTP_CHUNK_LINE_MAX ? len : VTP_HTTP_CHUNK_LINE_MAX;
    struct vt_cur c = vti_cur_init(p, window);
    const uint8_t *l = NULL;
    size_t n = 0;
    vt_res r = next_line(&c, &l, &n);
    if (r.err == VT_ERR_TUNNEL_INCOMPLETE && len >= VTP_HTTP_CHUNK_LINE_MAX)
        return VT_FAIL(VT_ERR_TUNNEL_HDR_CHUNK);
    if (r.err == VT_ERR_TUNNEL_HTTP_REQUEST_LINE)
        return VT_FAIL(VT_ERR_TUNNEL_HDR_CHUNK);
    GUARD(r);
    size_t k = 0;
    uint64_t v = 0;
    for (; k < n && hexval(l[k]) >= 0; k++) {
        ENSURE(k < 15, VT_ERR_TUNNEL_HDR_CHUNK);
        v = v * 16 + (uint64_t)hexval(l[k]);
    }
    ENSURE(k >= 1, VT_ERR_TUNNEL_HDR_CHUNK);
    while (k < n && (l[k] == ' ' || l[k] == '\t'))
        k++;
    ENSURE(k == n || l[k] == ';', VT_ERR_TUNNEL_HDR_CHUNK);
    ENSURE(value_ok(l + k, n - k), VT_ERR_TUNNEL_HDR_CHUNK);
    *size = v;
    *used = c.off;
    return vti_ok();
}
