/*
 * az_evidence.c - Azure vTPM evidence JSON (see az_evidence.h).
 */
#include <jansson.h>
#include <string.h>

#include "util/codec.h"
#include "verifiers/az_evidence.h"

enum enc { ENC_ARRAY, ENC_HEX, ENC_B64URL };

static vt_res bytes_array(json_t *a, size_t max, struct vt_buf *out)
{
    size_t i;
    json_t *e;
    ENSURE(json_is_array(a) && json_array_size(a) <= max, VT_ERR_AZ_EVIDENCE_FIELD);
    GUARD(vti_buf_reserve(out, json_array_size(a)));
    json_array_foreach(a, i, e) {
        ENSURE(json_is_integer(e) && json_integer_value(e) >= 0 && json_integer_value(e) <= 255,
               VT_ERR_AZ_EVIDENCE_FIELD);
        GUARD(vti_buf_u8(out, (uint8_t)json_integer_value(e)));
    }
    return vti_ok();
}

static vt_res field(json_t *v, enum enc enc, size_t max, struct vt_buf *out)
{
    out->len = 0;
    out->max = max;
    if (enc == ENC_ARRAY)
        return bytes_array(v, max, out);
    ENSURE(json_is_string(v), VT_ERR_AZ_EVIDENCE_FIELD);
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    vt_res r = enc == ENC_HEX ? vti_hex_decode(s, n, out) : vti_b64_decode(s, n, true, out);
    ENSURE(vti_is_ok(r), VT_ERR_AZ_EVIDENCE_FIELD);
    return vti_ok();
}

static vt_res tpm_quote(json_t *q, enum enc enc, struct vti_az_ev *ev)
{
    ENSURE(json_is_object(q), VT_ERR_AZ_EVIDENCE_JSON);
    GUARD(field(json_object_get(q, "signature"), enc, 1024, &ev->sig));
    GUARD(field(json_object_get(q, "message"), enc, 1024, &ev->msg));
    json_t *pcrs = json_object_get(q, "pcrs"), *e;
    size_t i;
    ENSURE(json_is_array(pcrs) && json_array_size(pcrs) == VT_AZ_NPCRS, VT_ERR_AZ_PCRS);
    json_array_foreach(pcrs, i, e) {
        struct vt_buf b = VT_BUF_INIT;
        vt_res r = field(e, enc, 32, &b);
        bool ok = vti_is_ok(r) && b.len == 32;
        if (ok)
            memcpy(ev->pcrs[i], b.p, 32);
        vti_buf_free_nowipe(&b);
        ENSURE(ok, VT_ERR_AZ_PCRS);
    }
    return vti_ok();
}

static vt_res shape_v0(json_t *o, struct vti_az_ev *ev)
{
    ev->version = 0;
    if (json_object_get(o, "td_quote")) {
        ev->tdx = true;
        GUARD(tpm_quote(json_object_get(o, "tpm_quote"), ENC_ARRAY, ev));
        GUARD(field(json_object_get(o, "hcl_report"), ENC_ARRAY, 64 * 1024, &ev->hcl));
        return field(json_object_get(o, "td_quote"), ENC_ARRAY, 64 * 1024, &ev->td_quote);
    }
    GUARD(tpm_quote(json_object_get(o, "quote"), ENC_ARRAY, ev));
    GUARD(field(json_object_get(o, "report"), ENC_ARRAY, 64 * 1024, &ev->hcl));
    json_t *v = json_object_get(o, "vcek");
    ENSURE(json_is_string(v) && json_string_length(v) <= 64 * 1024, VT_ERR_AZ_EVIDENCE_FIELD);
    ev->vcek_pem = true;
    return vti_buf_append(&ev->vcek, json_string_value(v), json_string_length(v));
}

static vt_res shape_v12(json_t *o, struct vti_az_ev *ev)
{
    json_t *ver = json_object_get(o, "version");
    ENSURE(json_is_integer(ver) && (json_integer_value(ver) == 1 || json_integer_value(ver) == 2),
           VT_ERR_AZ_EVIDENCE_VERSION);
    ev->version = (int)json_integer_value(ver);
    GUARD(tpm_quote(json_object_get(o, "tpm_quote"), ENC_HEX, ev));
    GUARD(field(json_object_get(o, "hcl_report"), ENC_B64URL, 64 * 1024, &ev->hcl));
    if (json_object_get(o, "td_quote")) {
        ev->tdx = true;
        return field(json_object_get(o, "td_quote"), ENC_B64URL, 64 * 1024, &ev->td_quote);
    }
    return field(json_object_get(o, "vcek"), ENC_B64URL, 64 * 1024, &ev->vcek);
}

/* ---- a fast exact reader for plain documents ------------------------------------------
 * jansson's lexer reads a character at a time through a stream; for this evidence (kilobytes
 * of base64 / hex strings) that was most of a verification. fast_* read a strict subset of
 * JSON: strings of printable ASCII without escapes (keys shorter than 64), non-negative
 * integers of at most 18 digits without fraction or exponent, true / false / null, objects
 * without duplicate keys, arrays, nesting depth at most FAST_DEPTH, whitespace as in RFC 8259.
 * Such a document means the same to jansson, and fast_* build the same tree. Anything else
 * (including every malformed input) returns NULL and the caller asks jansson, so results and
 * error codes are those of json_loadb in every case. */

#define FAST_DEPTH 16

struct fast {
    const uint8_t *p;
    size_t n, i;
    int depth;
};

static void fast_ws(struct fast *f)
{
    while (f->i < f->n && (f->p[f->i] == ' ' || f->p[f->i] == '\t' || f->p[f->i] == '\r' ||
                           f->p[f->i] == '\n'))
        f->i++;
}

static bool fast_str(struct fast *f, const char **s, size_t *len)
{
    if (f->i >= f->n || f->p[f->i] != '"')
        return false;
    size_t st = ++f->i;
    while (f->i < f->n && f->p[f->i] != '"') {
        if (f->p[f->i] < 0x20 || f->p[f->i] >= 0x7f || f->p[f->i] == '\\')
            return false;
        f->i++;
    }
    if (f->i >= f->n)
        return false;
    *s = (const char *)f->p + st;
    *len = f->i++ - st;
    return true;
}

static json_t *fast_int(struct fast *f)
{
    size_t st = f->i;
    json_int_t v = 0;
    while (f->i < f->n && f->p[f->i] >= '0' && f->p[f->i] <= '9' && f->i - st < 18)
        v = v * 10 + (f->p[f->i++] - '0');
    bool more = f->i < f->n && ((f->p[f->i] >= '0' && f->p[f->i] <= '9') || f->p[f->i] == '.' ||
                                f->p[f->i] == 'e' || f->p[f->i] == 'E');
    if (more || (f->p[st] == '0' && f->i - st > 1))
        return NULL;
    return json_integer(v);
}

static json_t *fast_value(struct fast *f);

static json_t *fast_array(struct fast *f)
{
    json_t *a = json_array();
    f->i++;
    fast_ws(f);
    if (a && f->i < f->n && f->p[f->i] == ']') {
        f->i++;
        return a;
    }
    while (a) {
        json_t *v = fast_value(f);
        if (!v || json_array_append_new(a, v) != 0)
            break;
        fast_ws(f);
        if (f->i < f->n && f->p[f->i] == ']') {
            f->i++;
            return a;
        }
        if (f->i >= f->n || f->p[f->i++] != ',')
            break;
        fast_ws(f);
    }
    json_decref(a);
    return NULL;
}

/* One "key": value member into o; false if outside the subset (or a duplicate key). */
static bool fast_member(struct fast *f, json_t *o)
{
    const char *k;
    size_t kl;
    char key[64];
    if (!fast_str(f, &k, &kl) || kl >= sizeof(key))
        return false;
    memcpy(key, k, kl);
    key[kl] = 0;
    fast_ws(f);
    if (f->i >= f->n || f->p[f->i++] != ':' || json_object_get(o, key))
        return false;
    fast_ws(f);
    json_t *v = fast_value(f);
    return v && json_object_set_new_nocheck(o, key, v) == 0;
}

static json_t *fast_object(struct fast *f)
{
    json_t *o = json_object();
    f->i++;
    fast_ws(f);
    if (o && f->i < f->n && f->p[f->i] == '}') {
        f->i++;
        return o;
    }
    while (o && fast_member(f, o)) {
        fast_ws(f);
        if (f->i < f->n && f->p[f->i] == '}') {
            f->i++;
            return o;
        }
        if (f->i >= f->n || f->p[f->i++] != ',')
            break;
        fast_ws(f);
    }
    json_decref(o);
    return NULL;
}

static bool fast_lit(struct fast *f, const char *w)
{
    size_t n = strlen(w);
    if (f->n - f->i < n || memcmp(f->p + f->i, w, n) != 0)
        return false;
    f->i += n;
    return true;
}

static json_t *fast_value(struct fast *f)
{
    if (f->i >= f->n || f->depth >= FAST_DEPTH)
        return NULL;
    uint8_t c = f->p[f->i];
    const char *s;
    size_t n;
    json_t *v = NULL;
    f->depth++;
    if (c == '{')
        v = fast_object(f);
    else if (c == '[')
        v = fast_array(f);
    else if (c == '"')
        v = fast_str(f, &s, &n) ? json_stringn_nocheck(s, n) : NULL;
    else if (c >= '0' && c <= '9')
        v = fast_int(f);
    else if (fast_lit(f, "true"))
        v = json_true();
    else if (fast_lit(f, "false"))
        v = json_false();
    else if (fast_lit(f, "null"))
        v = json_null();
    f->depth--;
    return v;
}

/* The whole document (an object, then only whitespace), or NULL: ask jansson. */
static json_t *fast_load(const uint8_t *p, size_t len)
{
    struct fast f = { p, len, 0, 0 };
    fast_ws(&f);
    json_t *o = f.i < len && p[f.i] == '{' ? fast_value(&f) : NULL;
    fast_ws(&f);
    if (o && f.i != len) {
        json_decref(o);
        o = NULL;
    }
    return o;
}

static json_t *load(const uint8_t *p, size_t len)
{
    size_t i = 0;
    while (i < len && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
        i++;
    if (i == len || p[i] != '{' || len > VT_AZ_MAX_EVIDENCE)
        return NULL;
    json_t *o = fast_load(p, len);
    if (o)
        return o;
    o = json_loadb((const char *)p, len, JSON_REJECT_DUPLICATES, NULL);
    if (o && !json_is_object(o)) {
        json_decref(o);
        o = NULL;
    }
    return o;
}

vt_res vti_az_evidence_parse(const uint8_t *p, size_t len, struct vti_az_ev *ev)
{
    memset(ev, 0, sizeof(*ev));
    json_t *o = load(p, len);
    ENSURE(o, VT_ERR_AZ_EVIDENCE_JSON);
    vt_res r = json_object_get(o, "version") ? shape_v12(o, ev) : shape_v0(o, ev);
    json_decref(o);
    if (!vti_is_ok(r))
        vti_az_evidence_free(ev);
    return r;
}

void vti_az_evidence_free(struct vti_az_ev *ev)
{
    vti_buf_free_nowipe(&ev->sig);
    vti_buf_free_nowipe(&ev->msg);
    vti_buf_free_nowipe(&ev->hcl);
    vti_buf_free_nowipe(&ev->vcek);
    vti_buf_free_nowipe(&ev->td_quote);
}

int vti_az_evidence_kind(const uint8_t *p, size_t len)
{
    json_t *o = load(p, len);
    if (!o)
        return 0;
    bool hcl = json_object_get(o, "hcl_report") || json_object_get(o, "report");
    bool tpm = json_object_get(o, "tpm_quote") || json_object_get(o, "quote");
    int kind = !hcl || !tpm ? 0 : json_object_get(o, "td_quote") ? 2 :
               json_object_get(o, "vcek") ? 1 : 0;
    json_decref(o);
    return kind;
}
