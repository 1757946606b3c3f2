/*
 * proto.c - the broker's wire protocol: frame headers, request parsing, replies, resource
 * path grammar, wrapped-key annotations.
 *
 * Trust boundary: everything parsed here is attacker-controlled (an agent is attested, not
 * trusted; before the request is judged it is just bytes). Limits: the caller bounds the
 * frame size before calling; JSON depth <= VTP_JSON_MAX_DEPTH, duplicate keys rejected,
 * strings without NUL, at most VTP_MAX_KIDS keys or blobs, paths by a strict grammar (no
 * traversal: "..", ".", empty segments, '/' at either end, or characters outside
 * [A-Za-z0-9._-] are refused). Failure reasons name the field, never echo the peer's bytes.
 *
 * Spec: docs/broker.md (framed protocol); legacy EAA shapes per notes/kbs-protocols.md 1.3.
 */
#include "proto/proto.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "util/codec.h"
#include "util/secmem.h"

uint32_t vtp_frame_len(const uint8_t hdr[VTP_FRAME_HDR])
{
    return (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 | (uint32_t)hdr[2] << 8 | hdr[3];
}

void vtp_frame_hdr(uint32_t len, uint8_t hdr[VTP_FRAME_HDR])
{
    hdr[0] = (uint8_t)(len >> 24);
    hdr[1] = (uint8_t)(len >> 16);
    hdr[2] = (uint8_t)(len >> 8);
    hdr[3] = (uint8_t)len;
}

static void why_set(char *why, size_t why_len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void why_set(char *why, size_t why_len, const char *fmt, ...)
{
    if (!why || !why_len)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, why_len, fmt, ap);
    va_end(ap);
}

/* ---- paths ------------------------------------------------------------------------- */

static bool seg_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '_' || c == '-';
}

vt_res vtp_path_check(const char *path)
{
    ENSURE(path, VT_ERR_BROKER_BAD_PATH);
    size_t n = strnlen(path, VTP_MAX_PATH + 1);
    ENSURE(n >= 5 && n <= VTP_MAX_PATH, VT_ERR_BROKER_BAD_PATH);
    int segs = 0;
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || path[i] == '/') {
            size_t len = i - start;
            ENSURE(len >= 1 && len <= VTP_MAX_SEGMENT, VT_ERR_BROKER_BAD_PATH);
            ENSURE(!(len == 1 && path[start] == '.'), VT_ERR_BROKER_BAD_PATH);
            ENSURE(!(len == 2 && path[start] == '.' && path[start + 1] == '.'),
                   VT_ERR_BROKER_BAD_PATH);
            segs++;
            start = i + 1;
            continue;
        }
        ENSURE(seg_char(path[i]), VT_ERR_BROKER_BAD_PATH);
    }
    ENSURE(segs == 3, VT_ERR_BROKER_BAD_PATH);
    return vt_ok();
}

vt_res vtp_path_normalize(const char *in, char *out)
{
    ENSURE(in, VT_ERR_BROKER_BAD_PATH);
    if (strncmp(in, "kbs:///", 7) == 0)
        in += 7;
    else if (in[0] == '/')
        in += 1;
    GUARD(vtp_path_check(in));
    size_t n = strlen(in);
    memcpy(out, in, n + 1);
    return vt_ok();
}

/* Match one segment: pattern may contain one '*' matching any (possibly empty) run. */
static bool seg_match(const char *pat, size_t pl, const char *s, size_t sl)
{
    const char *star = memchr(pat, '*', pl);
    if (!star)
        return pl == sl && strncmp(pat, s, pl) == 0;
    size_t pre = (size_t)(star - pat), post = pl - pre - 1;
    if (pre + post > sl)
        return false;
    return strncmp(pat, s, pre) == 0 && strncmp(star + 1, s + sl - post, post) == 0;
}

bool vtp_path_match(const char *pattern, const char *path)
{
    if (!pattern || !path)
        return false;
    const char *p = pattern, *s = path;
    for (;;) {
        const char *pe = strchr(p, '/'), *se = strchr(s, '/');
        size_t pl = pe ? (size_t)(pe - p) : strlen(p);
        size_t sl = se ? (size_t)(se - s) : strlen(s);
        if (!seg_match(p, pl, s, sl))
            return false;
        if (!pe || !se)
            return !pe && !se;
        p = pe + 1;
        s = se + 1;
    }
}

/* ---- JSON helpers -------------------------------------------------------------------- */

static bool depth_ok(const json_t *v, int depth)
{
    if ((json_is_object(v) || json_is_array(v)) && depth > VTP_JSON_MAX_DEPTH)
        return false;
    if (json_is_object(v)) {
        const char *k;
        json_t *e;
        json_object_foreach((json_t *)v, k, e) if (!depth_ok(e, depth + 1)) return false;
    } else if (json_is_array(v)) {
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e) if (!depth_ok(e, depth + 1)) return false;
    }
    return true;
}

json_t *vtp_json_parse(const uint8_t *p, size_t n, char *why, size_t why_len)
{
    json_error_t e;
    json_t *j = json_loadb((const char *)p, n, JSON_REJECT_DUPLICATES, &e);
    if (!j) {
        why_set(why, why_len, "malformed request: invalid JSON at byte %d", e.position);
        return NULL;
    }
    if (!depth_ok(j, 1)) {
        json_decref(j);
        why_set(why, why_len, "malformed request: JSON nested deeper than %d",
                VTP_JSON_MAX_DEPTH);
        return NULL;
    }
    return j;
}

vt_res vtp_json_bytes(const json_t *v, size_t max, struct vt_buf *out)
{
    out->max = max + 8; /* the decoder reserves a little slack; the length is checked below */
    if (json_is_string(v)) {
        size_t n = json_string_length(v);
        ENSURE(n / 4 * 3 <= max + 3, VT_ERR_TOO_LARGE);
        vt_res r = vt_b64_decode(json_string_value(v), n, false, out);
        if (!r.err && out->len > max)
            r = VT_FAIL(VT_ERR_TOO_LARGE);
        if (r.err)
            vt_buf_free(out);
        return r;
    }
    ENSURE(json_is_array(v), VT_ERR_BROKER_BAD_FIELD);
    ENSURE(json_array_size(v) <= max, VT_ERR_TOO_LARGE);
    size_t i;
    json_t *e;
    out->max = max;
    json_array_foreach(v, i, e) {
        vt_res r = vt_ok();
        if (!json_is_integer(e) || json_integer_value(e) < 0 || json_integer_value(e) > 255)
            r = VT_FAIL(VT_ERR_BROKER_BAD_FIELD);
        else
            r = vt_buf_u8(out, (uint8_t)json_integer_value(e));
        if (r.err) {
            vt_buf_free(out);
            return r;
        }
    }
    return vt_ok();
}

json_t *vtp_json_byte_array(const uint8_t *p, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++) {
        if (json_array_append_new(a, json_integer(p[i])) != 0) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

json_t *vtp_json_b64(const uint8_t *p, size_t n)
{
    struct vt_buf b = VT_BUF_INIT;
    if (vt_b64_encode(p, n, false, &b).err || vt_buf_cstr(&b).err) {
        vt_buf_free(&b);
        return NULL;
    }
    json_t *s = json_stringn((const char *)b.p, b.len);
    vt_buf_free(&b);
    return s;
}

/* A string field of at most max characters; NULL if absent or not a string. */
static const char *str_field(const json_t *o, const char *name, size_t max)
{
    const json_t *v = json_object_get(o, name);
    if (!json_is_string(v) || json_string_length(v) > max)
        return NULL;
    return json_string_value(v);
}

static vt_res b64_fixed(const json_t *v, uint8_t *out, size_t n)
{
    struct vt_buf b = VT_BUF_INIT;
    GUARD(vtp_json_bytes(v, n, &b));
    bool ok = b.len == n;
    if (ok)
        memcpy(out, b.p, n);
    vt_buf_free(&b);
    ENSURE(ok, VT_ERR_BROKER_BAD_FIELD);
    return vt_ok();
}

/* ---- wrapped keys ------------------------------------------------------------------ */

void vtp_wrapped_free(struct vtp_wrapped *w)
{
    vt_buf_free(&w->ct);
}

static vt_res wrapped_from_json(const json_t *j, struct vtp_wrapped *out, char *why,
                                size_t why_len)
{
    memset(out, 0, sizeof(*out));
    if (!json_is_object(j)) {
        why_set(why, why_len, "malformed annotation: not a JSON object");
        return VT_FAIL(VT_ERR_BROKER_BAD_ANNOTATION);
    }
    const char *kid = str_field(j, "kid", VTP_MAX_PATH + 8);
    if (!kid || vtp_path_normalize(kid, out->kid).err) {
        why_set(why, why_len, "malformed annotation: 'kid' must be a resource path "
                              "<repo>/<type>/<tag>");
        return VT_FAIL(VT_ERR_BROKER_BAD_ANNOTATION);
    }
    const char *wt = str_field(j, "wrap_type", 16);
    if (!wt || strcmp(wt, "A256GCM") != 0) {
        why_set(why, why_len, "malformed annotation: 'wrap_type' must be \"A256GCM\"");
        return VT_FAIL(VT_ERR_BROKER_BAD_ANNOTATION);
    }
    const json_t *ver = json_object_get(j, "key_version");
    if (!json_is_integer(ver) || json_integer_value(ver) < 1 ||
        json_integer_value(ver) > 1000000) {
        why_set(why, why_len, "malformed annotation: 'key_version' must be an integer >= 1");
        return VT_FAIL(VT_ERR_BROKER_BAD_ANNOTATION);
    }
    out->key_version = json_integer_value(ver);
    if (b64_fixed(json_object_get(j, "iv"), out->iv, sizeof(out->iv)).err) {
        why_set(why, why_len, "malformed annotation: 'iv' must be 12 bytes");
        return VT_FAIL(VT_ERR_BROKER_BAD_ANNOTATION);
    }
    if (vtp_json_bytes(json_object_get(j, "wrapped_data"), 65536, &out->ct).err ||
        out->ct.len < 16) {
        vt_buf_free(&out->ct);
        why_set(why, why_len, "malformed annotation: 'wrapped_data' must be 16..65536 bytes");
        return VT_FAIL(VT_ERR_BROKER_BAD_ANNOTATION);
    }
    return vt_ok();
}

vt_res vtp_wrapped_parse(const uint8_t *p, size_t n, struct vtp_wrapped *out, char *why,
                         size_t why_len)
{
    json_t *j = vtp_json_parse(p, n, why, why_len);
    if (!j) {
        memset(out, 0, sizeof(*out));
        why_set(why, why_len, "malformed annotation: invalid JSON");
        return VT_FAIL(VT_ERR_BROKER_BAD_ANNOTATION);
    }
    vt_res r = wrapped_from_json(j, out, why, why_len);
    json_decref(j);
    return r;
}

vt_res vtp_wrapped_json(const struct vtp_wrapped *w, struct vt_buf *out)
{
    json_t *j = json_object();
    ENSURE(j, VT_ERR_NOMEM);
    json_object_set_new(j, "kid", json_string(w->kid));
    json_object_set_new(j, "key_version", json_integer(w->key_version));
    json_object_set_new(j, "iv", vtp_json_b64(w->iv, sizeof(w->iv)));
    json_object_set_new(j, "wrapped_data", vtp_json_b64(w->ct.p, w->ct.len));
    json_object_set_new(j, "wrap_type", json_string("A256GCM"));
    char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(j);
    ENSURE(s, VT_ERR_NOMEM);
    vt_res r = vt_buf_append(out, s, strlen(s));
    free(s);
    return r;
}

/* ---- requests ----------------------------------------------------------------------- */

void vtp_request_free(struct vtp_request *r)
{
    if (!r)
        return;
    json_decref(r->id);
    vtp_wrapped_free(&r->wrapped);
    for (size_t i = 0; i < r->n_blobs; i++) {
        free(r->blobs[i].encrypted_b64);
        vt_buf_free(&r->blobs[i].ct);
    }
    memset(r, 0, sizeof(*r));
}

static vt_res path_field(const json_t *o, const char *name, char *out, char *why, size_t wl)
{
    const json_t *v = json_object_get(o, name);
    if (!json_is_string(v)) {
        why_set(why, wl, "malformed request: '%s' missing or not a string", name);
        return VT_FAIL(VT_ERR_BROKER_BAD_FIELD);
    }
    if (json_string_length(v) > VTP_MAX_PATH + 8 ||
        vtp_path_normalize(json_string_value(v), out).err) {
        why_set(why, wl, "invalid resource path in '%s': want <repo>/<type>/<tag> with "
                         "segments of [A-Za-z0-9._-], no '.' or '..'", name);
        return VT_FAIL(VT_ERR_BROKER_BAD_PATH);
    }
    return vt_ok();
}

static vt_res parse_framed(const json_t *j, struct vtp_request *out, char *why, size_t wl)
{
    const json_t *id = json_object_get(j, "id");
    bool id_ok = false;
    if (json_is_string(id)) {
        size_t n = json_string_length(id);
        const char *s = json_string_value(id);
        id_ok = n >= 1 && n <= VTP_MAX_ID;
        for (size_t i = 0; id_ok && i < n; i++)
            id_ok = s[i] >= 0x20 && s[i] < 0x7f;
    } else if (json_is_integer(id)) {
        id_ok = json_integer_value(id) >= 0;
    }
    if (!id_ok) {
        why_set(why, wl, "malformed request: 'id' must be a string of 1..%d printable "
                         "characters or a non-negative integer", VTP_MAX_ID);
        return VT_FAIL(VT_ERR_BROKER_BAD_ID);
    }
    out->id = json_incref((json_t *)id);
    const char *op = str_field(j, "op", 32);
    if (!op) {
        why_set(why, wl, "malformed request: 'op' missing or not a string");
        return VT_FAIL(VT_ERR_BROKER_BAD_FIELD);
    }
    if (strcmp(op, "get-resource") == 0) {
        out->op = VTP_OP_GET_RESOURCE;
        return path_field(j, "path", out->path, why, wl);
    }
    if (strcmp(op, "unwrap") == 0) {
        out->op = VTP_OP_UNWRAP;
        struct vt_buf ann = VT_BUF_INIT;
        if (vtp_json_bytes(json_object_get(j, "annotation"), 65536, &ann).err) {
            why_set(why, wl, "malformed request: 'annotation' must be base64 or a byte array "
                             "of at most 65536 bytes");
            return VT_FAIL(VT_ERR_BROKER_BAD_FIELD);
        }
        vt_res r = vtp_wrapped_parse(ann.p, ann.len, &out->wrapped, why, wl);
        vt_buf_free(&ann);
        if (r.err)
            return r;
        memcpy(out->path, out->wrapped.kid, sizeof(out->path));
        return vt_ok();
    }
    if (strcmp(op, "version") == 0) {
        out->op = VTP_OP_VERSION;
        return vt_ok();
    }
    why_set(why, wl, "malformed request: unknown op (want get-resource, unwrap, version)");
    return VT_FAIL(VT_ERR_BROKER_UNKNOWN_OP);
}

static vt_res parse_eaa_blob(const json_t *b, struct vtp_eaa_blob *out, char *why, size_t wl)
{
    if (!json_is_object(b)) {
        why_set(why, wl, "malformed request: 'blobs' entries must be objects");
        return VT_FAIL(VT_ERR_BROKER_BAD_FIELD);
    }
    GUARD(path_field(b, "kid", out->kid, why, wl));
    const char *alg = str_field(b, "algorithm", 16);
    if (!alg || (strcmp(alg, "AES") != 0 && strcmp(alg, "A256GCM") != 0)) {
        why_set(why, wl, "malformed request: 'algorithm' must be \"AES\" or \"A256GCM\"");
        return VT_FAIL(VT_ERR_BROKER_BAD_FIELD);
    }
    const json_t *kl = json_object_get(b, "key_length");
    if (!json_is_integer(kl) || json_integer_value(kl) != 256) {
        why_set(why, wl, "malformed request: 'key_length' must be 256");
        return VT_FAIL(VT_ERR_BROKER_BAD_FIELD);
    }
    if (b64_fixed(json_object_get(b, "iv"), out->iv, sizeof(out->iv)).err) {
        why_set(why, wl, "malformed request: 'iv' must be base64 of 12 bytes");
        return VT_FAIL(VT_ERR_BROKER_BAD_FIELD);
    }
    const json_t *ed = json_object_get(b, "encrypted_data");
    if (!json_is_string(ed) || vtp_json_bytes(ed, 4096, &out->ct).err || out->ct.len < 16) {
        vt_buf_free(&out->ct);
        why_set(why, wl, "malformed request: 'encrypted_data' must be base64 of 16..4096 "
                         "bytes (ciphertext || tag)");
        return VT_FAIL(VT_ERR_BROKER_BAD_FIELD);
    }
    out->encrypted_b64 = strdup(json_string_value(ed));
    ENSURE(out->encrypted_b64, VT_ERR_NOMEM);
    return vt_ok();
}

static vt_res parse_eaa(const json_t *j, struct vtp_request *out, char *why, size_t wl)
{
    out->legacy = true;
    const char *cmd = str_field(j, "command", 64);
    if (!cmd) {
        why_set(why, wl, "malformed request: 'command' missing or not a string");
        return VT_FAIL(VT_ERR_BROKER_BAD_FIELD);
    }
    if (strcmp(cmd, "version") == 0) {
        out->op = VTP_OP_EAA_VERSION;
        return vt_ok();
    }
    if (strcmp(cmd, "Get KEK") == 0) {
        out->op = VTP_OP_EAA_GET_KEK;
        const json_t *kids = json_object_get(j, "kids");
        if (!json_is_array(kids) || json_array_size(kids) == 0 ||
            json_array_size(kids) > VTP_MAX_KIDS) {
            why_set(why, wl, "malformed request: 'kids' must be an array of 1..%d paths",
                    VTP_MAX_KIDS);
            return VT_FAIL(VT_ERR_BROKER_BAD_FIELD);
        }
        size_t i;
        json_t *k;
        json_array_foreach(kids, i, k) {
            if (!json_is_string(k) || json_string_length(k) > VTP_MAX_PATH + 8 ||
                vtp_path_normalize(json_string_value(k), out->kids[i]).err) {
                why_set(why, wl, "invalid resource path in 'kids': want <repo>/<type>/<tag>");
                return VT_FAIL(VT_ERR_BROKER_BAD_PATH);
            }
            out->n_kids = i + 1;
        }
        return vt_ok();
    }
    if (strcmp(cmd, "Decrypt") == 0) {
        out->op = VTP_OP_EAA_DECRYPT;
        const json_t *blobs = json_object_get(j, "blobs");
        if (!json_is_array(blobs) || json_array_size(blobs) == 0 ||
            json_array_size(blobs) > VTP_MAX_KIDS) {
            why_set(why, wl, "malformed request: 'blobs' must be an array of 1..%d objects",
                    VTP_MAX_KIDS);
            return VT_FAIL(VT_ERR_BROKER_BAD_FIELD);
        }
        size_t i;
        json_t *b;
        json_array_foreach(blobs, i, b) {
            out->n_blobs = i + 1;
            GUARD(parse_eaa_blob(b, &out->blobs[i], why, wl));
        }
        return vt_ok();
    }
    if (strcmp(cmd, "Get Resource") == 0) {
        out->op = VTP_OP_EAA_GET_RESOURCE;
        const json_t *opt = json_object_get(j, "optional");
        if (!json_is_object(opt)) {
            why_set(why, wl, "malformed request: 'optional' must be an object");
            return VT_FAIL(VT_ERR_BROKER_BAD_FIELD);
        }
        return path_field(opt, "resource_path", out->path, why, wl);
    }
    if (strcmp(cmd, "Get Resource Info") == 0) {
        out->op = VTP_OP_EAA_RESOURCE_INFO;
        return path_field(j, "name", out->path, why, wl);
    }
    why_set(why, wl, "malformed request: unknown command (want version, Get KEK, Decrypt, "
                     "Get Resource, Get Resource Info)");
    return VT_FAIL(VT_ERR_BROKER_UNKNOWN_OP);
}

vt_res vtp_request_parse(const uint8_t *p, size_t n, bool legacy, struct vtp_request *out,
                         char *why, size_t why_len)
{
    memset(out, 0, sizeof(*out));
    if (n > (legacy ? VTP_EAA_MAX_REQUEST : VTP_MAX_REQUEST)) {
        why_set(why, why_len, "request too large: %zu bytes (limit %zu)", n,
                legacy ? (size_t)VTP_EAA_MAX_REQUEST : VTP_MAX_REQUEST);
        return VT_FAIL(VT_ERR_BROKER_REQUEST_TOO_LARGE);
    }
    json_t *j = vtp_json_parse(p, n, why, why_len);
    ENSURE(j, VT_ERR_BROKER_MALFORMED_REQUEST);
    vt_res r;
    if (!json_is_object(j)) {
        why_set(why, why_len, "malformed request: not a JSON object");
        r = VT_FAIL(VT_ERR_BROKER_MALFORMED_REQUEST);
    } else {
        r = legacy ? parse_eaa(j, out, why, why_len) : parse_framed(j, out, why, why_len);
    }
    json_decref(j);
    if (r.err) {
        /* keep the id so that the error reply can echo it */
        json_t *id = out->id;
        out->id = NULL;
        vtp_request_free(out);
        out->id = id;
    }
    return r;
}

/* ---- replies ------------------------------------------------------------------------ */

static char *reply_dump(json_t *o)
{
    char *s = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(o);
    return s;
}

char *vtp_reply_ok(const json_t *id, const char *rid, json_t *result)
{
    json_t *o = json_object();
    if (!o) {
        json_decref(result);
        return NULL;
    }
    json_object_set_new(o, "id", id ? json_deep_copy(id) : json_null());
    json_object_set_new(o, "rid", json_string(rid ? rid : ""));
    json_object_set_new(o, "ok", json_true());
    if (json_is_object(result))
        json_object_update(o, result);
    json_decref(result);
    return reply_dump(o);
}

char *vtp_reply_err(const json_t *id, const char *rid, int code, const char *message)
{
    json_t *o = json_object(), *e = json_object();
    if (!o || !e) {
        json_decref(o);
        json_decref(e);
        return NULL;
    }
    json_object_set_new(e, "code", json_string(vt_errname(code)));
    json_object_set_new(e, "category", json_string(vt_category_name(vt_err_category(code))));
    json_object_set_new(e, "message", json_string(message ? message : vt_strerror(code)));
    json_object_set_new(o, "id", id ? json_deep_copy(id) : json_null());
    json_object_set_new(o, "rid", json_string(rid ? rid : ""));
    json_object_set_new(o, "ok", json_false());
    json_object_set_new(o, "error", e);
    return reply_dump(o);
}

/* ---- frames on a plain socket (the admin socket) -------------------------------- */

vt_res vtp_sock_read_frame(int fd, size_t max, struct vt_buf *out)
{
    uint8_t hdr[VTP_FRAME_HDR];
    size_t off = 0;
    while (off < sizeof(hdr)) {
        ssize_t n = recv(fd, hdr + off, sizeof(hdr) - off, 0);
        if (n < 0 && errno == EINTR)
            continue;
        ENSURE(n > 0, n == 0 ? VT_ERR_CLOSED : VT_ERR_IO);
        off += (size_t)n;
    }
    uint32_t len = vtp_frame_len(hdr);
    ENSURE(len > 0 && len <= max, VT_ERR_BROKER_REQUEST_TOO_LARGE);
    out->max = (size_t)len + 1;
    GUARD(vt_buf_reserve(out, len));
    while (out->len < len) {
        ssize_t n = recv(fd, out->p + out->len, len - out->len, 0);
        if (n < 0 && errno == EINTR)
            continue;
        ENSURE(n > 0, n == 0 ? VT_ERR_CLOSED : VT_ERR_IO);
        out->len += (size_t)n;
    }
    out->p[out->len] = 0;
    return vt_ok();
}

vt_res vtp_sock_write_frame(int fd, const char *s)
{
    ENSURE(s, VT_ERR_NOMEM);
    size_t n = strlen(s);
    ENSURE(n <= VTP_MAX_REPLY, VT_ERR_BROKER_REPLY_TOO_LARGE);
    uint8_t hdr[VTP_FRAME_HDR];
    vtp_frame_hdr((uint32_t)n, hdr);
    const uint8_t *parts[2] = { hdr, (const uint8_t *)s };
    size_t lens[2] = { sizeof(hdr), n };
    for (int i = 0; i < 2; i++) {
        size_t off = 0;
        while (off < lens[i]) {
            ssize_t k = send(fd, parts[i] + off, lens[i] - off, MSG_NOSIGNAL);
            if (k < 0 && errno == EINTR)
                continue;
            ENSURE(k > 0, VT_ERR_IO);
            off += (size_t)k;
        }
    }
    return vt_ok();
}
