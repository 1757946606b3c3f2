/*
 * redact.c - password redaction for store locations in logs and errors (redact.h).
 *
 * Trust boundary: the input is operator configuration (the --store value) or a libpq error
 * text; the output goes to stderr. Only the password parts are replaced; everything else is
 * kept so that the line still says which server and database were meant.
 */
#include <ctype.h>
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

/* End of a keyword value starting at v (quoted in '...' with \-escapes, or up to '&',
 * white space or the end). */
static const char *value_end(const char *v)
{
    if (*v == '\'') {
        for (v++; *v && *v != '\''; v++)
            if (*v == '\\' && v[1])
                v++;
        return *v ? v + 1 : v;
    }
    while (*v && *v != '&' && !isspace((unsigned char)*v))
        v++;
    return v;
}

const char *vtb_redact(const char *in, char *out, size_t n)
{
    if (!out || n == 0)
        return out;
    struct out o = { out, n, 0 };
    if (!in)
        in = "";
    /* URL user information: the last '@' before any '?' ends it; a ':' in it starts the
     * password (a '/' inside an unencoded password does not stop the search) */
    const char *pw = NULL, *at = NULL;
    const char *sch = strstr(in, "://");
    if (sch) {
        const char *auth = sch + 3;
        const char *q = strchr(auth, '?');
        for (const char *c = auth; *c && (!q || c < q); c++)
            if (*c == '@')
                at = c;
        if (at) {
            const char *colon = memchr(auth, ':', (size_t)(at - auth));
            if (colon)
                pw = colon + 1;
        }
    }
    const char *c = in;
    while (*c) {
        if (pw && c == pw) {
            put(&o, "***", 3);
            c = at;
            continue;
        }
        if (strncasecmp(c, "password", 8) == 0) {
            const char *e = c + 8;
            while (*e == ' ' || *e == '\t')
                e++;
            if (*e == '=') {
                e++;
                while (*e == ' ' || *e == '\t')
                    e++;
                put(&o, c, (size_t)(e - c));
                put(&o, "***", 3);
                c = value_end(e);
                continue;
            }
        }
        put(&o, c, 1);
        c++;
    }
    out[o.len] = '\0';
    return out;
}
