/* SPDX-License-Identifier: Apache-2.0 */
/*
 * redact.c - password redaction for store locations in logs and errors (redact.h).
 *
 * Trust boundary: the input is operator configuration (the --store value) or a libpq error
 * text; the output goes to stderr. Only the password parts are replaced; everything else is
 * kept so that the line still says which server and database were meant.
 *
 * Two layers. (1) A textual pass that follows libpq's two syntaxes: in a URI, everything
 * between the first ':' of the authority and its LAST '@' (so a password holding '?', '/',
 * '@' or '%3F' is covered whole) and the value of every query parameter whose name, once
 * percent-decoded, ends in "password" (`?pass%77ord=`); in a keyword/value string, the value
 * of every keyword ending in "password" (quoted '...' with \-escapes, or unquoted up to white
 * space with \-escapes). (2) A check with libpq's own parser (PQconninfoParse): if libpq,
 * reading the redacted text, finds a secret option (dispchar "*", or a name ending in
 * "password") with another value than ***, or a secret value of the input is still in the
 * text, the text is dropped and the options are listed from libpq's parse of the input
 * instead, each secret one as ***.
 */
#include <ctype.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "broker/redact.h"

struct out {
    char *p;
    size_t n, len;
};

static void put(struct out *o, const char *s, size_t k)
{
    for (size_t i = 0; i < k && o->len + 1 < o->n; i++)
        o->p[o->len++] = s[i];
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)tolower((unsigned char)c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Does the name [s, s+k) end in "password" (case-insensitive), after percent-decoding when
 * pct? Names longer than 64 bytes are no keyword of libpq's. */
static bool secret_name(const char *s, size_t k, bool pct)
{
    char d[65];
    size_t n = 0;
    for (size_t i = 0; i < k; i++) {
        if (n == sizeof(d) - 1)
            return false;
        int h, l;
        if (pct && s[i] == '%' && i + 2 < k && (h = hexval(s[i + 1])) >= 0 &&
            (l = hexval(s[i + 2])) >= 0) {
            d[n++] = (char)(h * 16 + l);
            i += 2;
        } else {
            d[n++] = s[i];
        }
    }
    return n >= 8 && strncasecmp(d + n - 8, "password", 8) == 0;
}

/* End of a keyword/value value starting at v: quoted '...' or up to white space, both with
 * \-escapes (as libpq's conninfo_parse). */
static const char *kv_value_end(const char *v)
{
    bool quoted = *v == '\'';
    if (quoted)
        v++;
    for (; *v; v++) {
        if (*v == '\\' && v[1]) {
            v++;
            continue;
        }
        if (quoted ? *v == '\'' : isspace((unsigned char)*v) != 0)
            break;
    }
    return quoted && *v ? v + 1 : v;
}

/* A URI query: name=value pairs split by '&', up to white space or the end. */
static const char *redact_query(struct out *o, const char *c)
{
    while (*c && !isspace((unsigned char)*c)) {
        size_t k = strcspn(c, "=& \t\r\n");
        bool secret = c[k] == '=' && secret_name(c, k, true);
        put(o, c, secret ? k + 1 : k);
        c += k;
        if (secret) {
            c++;
            put(o, "***", 3);
            c += strcspn(c, "& \t\r\n");
        }
        if (*c == '=' || *c == '&') {
            size_t v = *c == '=' ? strcspn(c, "& \t\r\n") : 1;
            put(o, c, v);
            c += v;
        }
    }
    return c;
}

/* Keyword/value text from c on (base: the start of the whole text): `name = value` pairs
 * (and anything else, copied). */
static void redact_kv(struct out *o, const char *base, const char *c, const char *end)
{
    while (c < end && *c) {
        bool start = c == base || !(isalnum((unsigned char)c[-1]) || c[-1] == '_');
        size_t k = 0;
        while (start && c + k < end && (isalnum((unsigned char)c[k]) || c[k] == '_'))
            k++;
        if (k == 0) {
            put(o, c++, 1);
            continue;
        }
        const char *e = c + k;
        while (*e == ' ' || *e == '\t')
            e++;
        if (*e != '=' || !secret_name(c, k, false)) {
            put(o, c, k);
            c += k;
            continue;
        }
        e++;
        while (*e == ' ' || *e == '\t')
            e++;
        put(o, c, (size_t)(e - c));
        put(o, "***", 3);
        c = kv_value_end(e);
    }
}

/* scheme://: [auth, last '@') holds user[:password]; the query follows. */
static void redact_text(struct out *o, const char *in)
{
    const char *sch = strstr(in, "://");
    if (!sch) {
        redact_kv(o, in, in, in + strlen(in));
        return;
    }
    const char *auth = sch + 3;
    put(o, in, (size_t)(auth - in));
    const char *at = strrchr(auth, '@');
    const char *c = auth;
    if (at) {
        const char *colon = memchr(auth, ':', (size_t)(at - auth));
        if (colon) {
            put(o, auth, (size_t)(colon + 1 - auth));
            put(o, "***", 3);
            c = at;
        }
    }
    const char *q = c + strcspn(c, "? \t\r\n");
    put(o, c, (size_t)(q - c));
    if (*q == '?') {
        put(o, q, 1);
        q = redact_query(o, q + 1);
    }
    redact_kv(o, in, q, q + strlen(q));
}

static bool secret_opt(const PQconninfoOption *op)
{
    return (op->dispchar && strchr(op->dispchar, '*')) ||
           secret_name(op->keyword, strlen(op->keyword), false);
}

/* Does a secret survive in the redacted text? libpq's reading of the text itself must find
 * no secret value but "***", and no secret value (4 bytes or more) of libpq's reading of the
 * input may appear in it. */
static bool leaks(const PQconninfoOption *in_opts, const char *text)
{
    char *err = NULL;
    PQconninfoOption *t = PQconninfoParse(text, &err);
    PQfreemem(err);
    bool leak = false;
    for (const PQconninfoOption *op = t; op && op->keyword; op++)
        if (op->val && *op->val && secret_opt(op) && strcmp(op->val, "***") != 0)
            leak = true;
    PQconninfoFree(t);
    for (const PQconninfoOption *op = in_opts; op && op->keyword; op++)
        if (op->val && strlen(op->val) >= 4 && secret_opt(op) && strstr(text, op->val))
            leak = true;
    return leak;
}

/* The options as libpq parsed them, secret ones as *** (and any value holding '@': a URI
 * whose password holds '@' is read by libpq as user:PASS@HOST@..., the rest of the password
 * landing in the host), values quoted when needed. */
static void list_opts(struct out *o, const PQconninfoOption *opts)
{
    for (const PQconninfoOption *op = opts; op && op->keyword; op++) {
        if (!op->val || !*op->val)
            continue;
        if (o->len)
            put(o, " ", 1);
        put(o, op->keyword, strlen(op->keyword));
        put(o, "=", 1);
        if (secret_opt(op) || strchr(op->val, '@')) {
            put(o, "***", 3);
            continue;
        }
        bool q = strpbrk(op->val, " \t\r\n'\\") != NULL;
        if (q)
            put(o, "'", 1);
        for (const char *v = op->val; *v; v++) {
            if (*v == '\'' || *v == '\\')
                put(o, "\\", 1);
            put(o, v, 1);
        }
        if (q)
            put(o, "'", 1);
    }
}

const char *vtb_redact(const char *in, char *out, size_t n)
{
    if (!out || n == 0)
        return out;
    struct out o = { out, n, 0 };
    if (!in)
        in = "";
    redact_text(&o, in);
    out[o.len] = '\0';
    char *err = NULL;
    PQconninfoOption *opts = strchr(in, '=') || strstr(in, "://") ? PQconninfoParse(in, &err)
                                                                   : NULL;
    if (opts && leaks(opts, out)) {
        o.len = 0;
        list_opts(&o, opts);
        out[o.len] = '\0';
    }
    PQconninfoFree(opts);
    PQfreemem(err);
    return out;
}
