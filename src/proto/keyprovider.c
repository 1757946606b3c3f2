/* SPDX-License-Identifier: Apache-2.0 */
/*
 * keyprovider.c - ocicrypt key-provider messages (keyprovider.h).
 *
 * Trust boundary: the request comes from ocicrypt (skopeo, buildah, containerd's image
 * decryption) on stdin; in the TEE it may come from an image pulled from anywhere. It is
 * parsed once, under the protocol limits (json.h, duplicate keys refused), its byte fields
 * bounded before they are decoded. Secrets: optsdata holds the layer key (wiping buffer).
 */
#include "proto/keyprovider.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/frame.h"
#include "proto/internal.h"
#include "proto/json.h"
#include "proto/wrapped.h"
#include "util/secmem.h"

void vtp_kp_free(struct vtp_kp_request *r)
{
    if (!r)
        return;
    vti_buf_free(&r->optsdata);
    vti_buf_free(&r->param);
    vti_buf_free(&r->annotation);
    memset(r, 0, sizeof(*r));
}

static vt_res parse_wrap(const json_t *j, const char *provider, struct vtp_kp_request *out,
                         char *why, size_t wl)
{
    const json_t *kw = json_object_get(j, "keywrapparams");
    if (vtp_json_bytes(json_object_get(kw, "optsdata"), VTP_MAX_SECRET, &out->optsdata).err ||
        out->optsdata.len == 0) {
        vtp_why(why, wl, "keywrapparams.optsdata missing or malformed");
        return VT_FAIL(VT_ERR_BROKER_BAD_FIELD);
    }
    if (!provider)
        return vti_ok();
    const json_t *params = json_object_get(
        json_object_get(json_object_get(kw, "ec"), "Parameters"), provider);
    if (vtp_json_bytes(json_array_get(params, 0), VTP_KP_MAX_PARAM, &out->param).err ||
        out->param.len == 0 || memchr(out->param.p, 0, out->param.len))
        vti_buf_free(&out->param); /* no usable parameter: the caller may name the key */
    return vti_ok();
}

static vt_res parse_unwrap(const json_t *j, struct vtp_kp_request *out, char *why, size_t wl)
{
    const json_t *kup = json_object_get(j, "keyunwrapparams");
    if (vtp_json_bytes(json_object_get(kup, "annotation"), VTP_MAX_ANNOTATION,
                       &out->annotation).err) {
        vtp_why(why, wl, "keyunwrapparams.annotation missing or malformed");
        return VT_FAIL(VT_ERR_BROKER_BAD_FIELD);
    }
    return vti_ok();
}

static vt_res load(const uint8_t *p, size_t n, json_t **ret, char *why, size_t wl)
{
    if (n > VTP_KP_MAX_REQUEST) {
        vtp_why(why, wl, "request larger than %zu bytes", VTP_KP_MAX_REQUEST);
        return VT_FAIL(VT_ERR_TOO_LARGE);
    }
    size_t pos = 0;
    vt_res r = vtp_json_load(p, n, ret, &pos);
    switch (r.err) {
    case 0: break;
    case VT_ERR_PROTO_JSON_DUP_KEY:
        vtp_why(why, wl, "malformed request: duplicate key in a JSON object (byte %zu)", pos);
        break;
    case VT_ERR_PROTO_JSON_NUL:
        vtp_why(why, wl, "malformed request: NUL character in a JSON string (byte %zu)", pos);
        break;
    case VT_ERR_PROTO_JSON_DEPTH:
        vtp_why(why, wl, "malformed request: JSON nested deeper than %d", VTP_JSON_MAX_DEPTH);
        break;
    default: vtp_why(why, wl, "malformed request: invalid JSON at byte %zu", pos); break;
    }
    if (!r.err && !json_is_object(*ret)) {
        json_decref(*ret);
        *ret = NULL;
        vtp_why(why, wl, "malformed request: not a JSON object");
        r = VT_FAIL(VT_ERR_BROKER_MALFORMED_REQUEST);
    }
    return r;
}

vt_res vtp_kp_parse(const uint8_t *p, size_t n, enum vtp_kp_op want, const char *provider,
                    struct vtp_kp_request *out, char *why, size_t why_len)
{
    memset(out, 0, sizeof(*out));
    json_t *j = NULL;
    GUARD(load(p, n, &j, why, why_len));
    const char *op = vtp_str_field(j, "op", 32);
    const char *want_op = want == VTP_KP_KEYWRAP ? "keywrap" : "keyunwrap";
    vt_res r;
    if (!op || strcmp(op, want_op) != 0) {
        vtp_why(why, why_len, "op is not %s", want_op);
        r = VT_FAIL(VT_ERR_BROKER_UNKNOWN_OP);
    } else if (want == VTP_KP_KEYWRAP) {
        out->op = VTP_KP_KEYWRAP;
        r = parse_wrap(j, provider, out, why, why_len);
    } else {
        out->op = VTP_KP_KEYUNWRAP;
        r = parse_unwrap(j, out, why, why_len);
    }
    json_decref(j);
    if (r.err)
        vtp_kp_free(out);
    return r;
}

void vtp_kp_param_kid(const struct vt_buf *param, const char *provider, char *out,
                      size_t out_len)
{
    const char *p = (const char *)param->p;
    size_t n = param->len;
    char pfx[96];
    snprintf(pfx, sizeof(pfx), "provider:%s:", provider ? provider : "");
    size_t pl = strlen(pfx);
    if (n > pl && strncmp(p, pfx, pl) == 0) {
        p += pl;
        n -= pl;
    }
    if (n > 4 && strncmp(p, "kid=", 4) == 0) {
        p += 4;
        n -= 4;
    }
    snprintf(out, out_len, "%.*s", (int)n, p ? p : "");
}

static char *reply(const char *outer, const char *inner, const uint8_t *p, size_t n)
{
    json_t *arr = vtp_json_byte_array(p, n);
    json_t *o = arr ? json_pack("{s:{s:o}}", outer, inner, arr) : NULL;
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return s;
}

char *vtp_kp_reply_wrap(const uint8_t *annotation, size_t n)
{
    return reply("keywrapresults", "annotation", annotation, n);
}

char *vtp_kp_reply_unwrap(const uint8_t *optsdata, size_t n)
{
    return reply("keyunwrapresults", "optsdata", optsdata, n);
}
