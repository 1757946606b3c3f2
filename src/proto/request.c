/* SPDX-License-Identifier: Apache-2.0 */
/*
 * request.c - the broker's request parser (framed and legacy EAA) and reply builders.
 *
 * Trust boundary: everything parsed here is attacker-controlled (an agent is attested, not
 * trusted; before the request is judged it is just bytes). Limits: the request size is
 * checked first; JSON per json.h; at most VTP_MAX_KIDS keys or blobs; paths by path.h's
 * grammar. Failure reasons name the field, never echo the peer's bytes.
 *
 * Spec: docs/broker.md (framed protocol); legacy EAA shapes per notes/kbs-protocols.md 1.3.
 */
#include "proto/request.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/internal.h"
#include "proto/json.h"

/* ---- requests ----------------------------------------------------------------------- */

void vtp_request_free(struct vtp_request *r)
{
    if (!r)
        return;
    json_decref(r->id);
    vtp_wrapped_free(&r->wrapped);
    for (size_t i = 0; i < r->n_blobs; i++) {
        free(r->blobs[i].encrypted_b64);
        vti_buf_free(&r->blobs[i].ct);
    }
    memset(r, 0, sizeof(*r));
}

static vt_res path_field(const json_t *o, const char *name, char *out, char *why, size_t wl)
{
    const json_t *v = json_object_get(o, name);
    if (!json_is_string(v)) {
        vtp_why(why, wl, "malformed request: '%s' missing or not a string", name);
        return VT_FAIL(VT_ERR_BROKER_BAD_FIELD);
    }
    if (json_string_length(v) > VTP_MAX_PATH + 8 ||
        vtp_path_normalize(json_string_value(v), out).err) {
        vtp_why(why, wl, "invalid resource path in '%s': want <repo>/<type>/<tag> with "
                         "segments of [A-Za-z0-9._-], no '.' or '..'", name);
        return VT_FAIL(VT_ERR_BROKER_BAD_PATH);
    }
    return vti_ok();
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
        vtp_why(why, wl, "malformed request: 'id' must be a string of 1..%d printable "
                         "characters or a non-negative integer", VTP_MAX_ID);
        return VT_FAIL(VT_ERR_BROKER_BAD_ID);
    }
    out->id = json_incref(vti_unconst(id));
    const char *op = vtp_str_field(j, "op", 32);
    if (!op) {
        vtp_why(why, wl, "malformed request: 'op' missing or not a string");
        return VT_FAIL(VT_ERR_BROKER_BAD_FIELD);
    }
    if (strcmp(op, "get-resource") == 0) {
        out->op = VTP_OP_GET_RESOURCE;
        return path_field(j, "path", out->path, why, wl);
    }
    if (strcmp(op, "unwrap") == 0) {
        out->op = VTP_OP_UNWRAP;
        struct vt_buf ann = VT_BUF_INIT;
        if (vtp_json_bytes(json_object_get(j, "annotation"), VTP_MAX_ANNOTATION, &ann).err) {
            vtp_why(why, wl, "malformed request: 'annotation' must be base64 or a byte array "
                             "of at most 65536 bytes");
            return VT_FAIL(VT_ERR_BROKER_BAD_FIELD);
        }
        vt_res r = vtp_wrapped_parse(ann.p, ann.len, &out->wrapped, why, wl);
        vti_buf_free(&ann);
        if (r.err)
            return r;
        memcpy(out->path, out->wrapped.kid, sizeof(out->path));
        return vti_ok();
    }
    if (strcmp(op, "version") == 0) {
        out->op = VTP_OP_VERSION;
        return vti_ok();
    }
    vtp_why(why, wl, "malformed request: unknown op (want get-resource, unwrap, version)");
    return VT_FAIL(VT_ERR_BROKER_UNKNOWN_OP);
}

static vt_res parse_eaa_blob(const json_t *b, struct vtp_eaa_blob *out, char *why, size_t wl)
{
    if (!json_is_object(b)) {
        vtp_why(why, wl, "malformed request: 'blobs' entries must be objects");
        return VT_FAIL(VT_ERR_BROKER_BAD_FIELD);
    }
    GUARD(path_field(b, "kid", out->kid, why, wl));
    const char *alg = vtp_str_field(b, "algorithm", 16);
    if (!alg || (strcmp(alg, "AES") != 0 && strcmp(alg, "A256GCM") != 0)) {
        vtp_why(why, wl, "malformed request: 'algorithm' must be \"AES\" or \"A256GCM\"");
        return VT_FAIL(VT_ERR_BROKER_BAD_FIELD);
    }
    const json_t *kl = json_object_get(b, "key_length");
    if (!json_is_integer(kl) || json_integer_value(kl) != 256) {
        vtp_why(why, wl, "malformed request: 'key_length' must be 256");
        return VT_FAIL(VT_ERR_BROKER_BAD_FIELD);
    }
    if (vtp_json_bytes_fixed(json_object_get(b, "iv"), out->iv, sizeof(out->iv)).err) {
        vtp_why(why, wl, "malformed request: 'iv' must be base64 of 12 bytes");
        return VT_FAIL(VT_ERR_BROKER_BAD_FIELD);
    }
    const json_t *ed = json_object_get(b, "encrypted_data");
    if (!json_is_string(ed) || vtp_json_bytes(ed, 4096, &out->ct).err || out->ct.len < 16) {
        vti_buf_free(&out->ct);
        vtp_why(why, wl, "malformed request: 'encrypted_data' must be base64 of 16..4096 "
                         "bytes (ciphertext || tag)");
        return VT_FAIL(VT_ERR_BROKER_BAD_FIELD);
    }
    out->encrypted_b64 = strdup(json_string_value(ed));
    ENSURE(out->encrypted_b64, VT_ERR_NOMEM);
    return vti_ok();
}

static vt_res parse_eaa(const json_t *j, struct vtp_request *out, char *why, size_t wl)
{
    out->legacy = true;
    const char *cmd = vtp_str_field(j, "command", 64);
    if (!cmd) {
        vtp_why(why, wl, "malformed request: 'command' missing or not a string");
        return VT_FAIL(VT_ERR_BROKER_BAD_FIELD);
    }
    if (strcmp(cmd, "version") == 0) {
        out->op = VTP_OP_EAA_VERSION;
        return vti_ok();
    }
    if (strcmp(cmd, "Get KEK") == 0) {
        out->op = VTP_OP_EAA_GET_KEK;
        const json_t *kids = json_object_get(j, "kids");
        if (!json_is_array(kids) || json_array_size(kids) == 0 ||
            json_array_size(kids) > VTP_MAX_KIDS) {
            vtp_why(why, wl, "malformed request: 'kids' must be an array of 1..%d paths",
                    VTP_MAX_KIDS);
            return VT_FAIL(VT_ERR_BROKER_BAD_FIELD);
        }
        size_t i;
        json_t *k;
        json_array_foreach(kids, i, k) {
            if (!json_is_string(k) || json_string_length(k) > VTP_MAX_PATH + 8 ||
                vtp_path_normalize(json_string_value(k), out->kids[i]).err) {
                vtp_why(why, wl, "invalid resource path in 'kids': want <repo>/<type>/<tag>");
                return VT_FAIL(VT_ERR_BROKER_BAD_PATH);
            }
            out->n_kids = i + 1;
        }
        return vti_ok();
    }
    if (strcmp(cmd, "Decrypt") == 0) {
        out->op = VTP_OP_EAA_DECRYPT;
        const json_t *blobs = json_object_get(j, "blobs");
        if (!json_is_array(blobs) || json_array_size(blobs) == 0 ||
            json_array_size(blobs) > VTP_MAX_KIDS) {
            vtp_why(why, wl, "malformed request: 'blobs' must be an array of 1..%d objects",
                    VTP_MAX_KIDS);
            return VT_FAIL(VT_ERR_BROKER_BAD_FIELD);
        }
        size_t i;
        json_t *b;
        json_array_foreach(blobs, i, b) {
            out->n_blobs = i + 1;
            GUARD(parse_eaa_blob(b, &out->blobs[i], why, wl));
        }
        return vti_ok();
    }
    if (strcmp(cmd, "Get Resource") == 0) {
        out->op = VTP_OP_EAA_GET_RESOURCE;
        const json_t *opt = json_object_get(j, "optional");
        if (!json_is_object(opt)) {
            vtp_why(why, wl, "malformed request: 'optional' must be an object");
            return VT_FAIL(VT_ERR_BROKER_BAD_FIELD);
        }
        return path_field(opt, "resource_path", out->path, why, wl);
    }
    if (strcmp(cmd, "Get Resource Info") == 0) {
        out->op = VTP_OP_EAA_RESOURCE_INFO;
        return path_field(j, "name", out->path, why, wl);
    }
    vtp_why(why, wl, "malformed request: unknown command (want version, Get KEK, Decrypt, "
                     "Get Resource, Get Resource Info)");
    return VT_FAIL(VT_ERR_BROKER_UNKNOWN_OP);
}

vt_res vtp_request_parse(const uint8_t *p, size_t n, bool legacy, struct vtp_request *out,
                         char *why, size_t why_len)
{
    memset(out, 0, sizeof(*out));
    if (n > (legacy ? VTP_EAA_MAX_REQUEST : VTP_MAX_REQUEST)) {
        vtp_why(why, why_len, "request too large: %zu bytes (limit %zu)", n,
                legacy ? (size_t)VTP_EAA_MAX_REQUEST : VTP_MAX_REQUEST);
        return VT_FAIL(VT_ERR_BROKER_REQUEST_TOO_LARGE);
    }
    json_t *j = vtp_json_parse(p, n, why, why_len);
    ENSURE(j, VT_ERR_BROKER_MALFORMED_REQUEST);
    vt_res r;
    if (!json_is_object(j)) {
        vtp_why(why, why_len, "malformed request: not a JSON object");
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
