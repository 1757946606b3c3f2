/* SPDX-License-Identifier: Apache-2.0 */
/*
 * wrapped.c - the wrapped-key annotation (parse and serialise).
 *
 * Trust boundary: annotations travel inside images and come back from agents: every field
 * is type-, length- and grammar-checked (kid by the resource path grammar, iv exactly 12
 * bytes, wrapped_data 16..65536 bytes, key_version 1..1000000, wrap_type "A256GCM").
 */
#include "proto/wrapped.h"

#include <stdlib.h>
#include <string.h>

#include "proto/internal.h"
#include "proto/json.h"

void vtp_wrapped_free(struct vtp_wrapped *w)
{
    vti_buf_free(&w->ct);
}

static vt_res bad(char *why, size_t why_len, const char *msg)
{
    vtp_why(why, why_len, "malformed annotation: %s", msg);
    return VT_FAIL(VT_ERR_BROKER_BAD_ANNOTATION);
}

static vt_res wrapped_from_json(const json_t *j, struct vtp_wrapped *out, char *why,
                                size_t why_len)
{
    memset(out, 0, sizeof(*out));
    if (!json_is_object(j))
        return bad(why, why_len, "not a JSON object");
    const char *kid = vtp_str_field(j, "kid", VTP_MAX_PATH + 8);
    if (!kid || vtp_path_normalize(kid, out->kid).err)
        return bad(why, why_len, "'kid' must be a resource path <repo>/<type>/<tag>");
    const char *wt = vtp_str_field(j, "wrap_type", 16);
    if (!wt || strcmp(wt, "A256GCM") != 0)
        return bad(why, why_len, "'wrap_type' must be \"A256GCM\"");
    const json_t *ver = json_object_get(j, "key_version");
    if (!json_is_integer(ver) || json_integer_value(ver) < 1 ||
        json_integer_value(ver) > 1000000)
        return bad(why, why_len, "'key_version' must be an integer >= 1");
    out->key_version = json_integer_value(ver);
    if (vtp_json_bytes_fixed(json_object_get(j, "iv"), out->iv, sizeof(out->iv)).err)
        return bad(why, why_len, "'iv' must be 12 bytes");
    if (vtp_json_bytes(json_object_get(j, "wrapped_data"), VTP_MAX_ANNOTATION, &out->ct).err ||
        out->ct.len < 16) {
        vti_buf_free(&out->ct);
        return bad(why, why_len, "'wrapped_data' must be 16..65536 bytes");
    }
    return vti_ok();
}

vt_res vtp_wrapped_parse(const uint8_t *p, size_t n, struct vtp_wrapped *out, char *why,
                         size_t why_len)
{
    json_t *j = vtp_json_parse(p, n, why, why_len);
    if (!j) {
        memset(out, 0, sizeof(*out));
        return bad(why, why_len, "invalid JSON");
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
    vt_res r = vti_buf_append(out, s, strlen(s));
    free(s);
    return r;
}
