/* SPDX-License-Identifier: Apache-2.0 */
/*
 * json.c - bounded JSON parsing and byte fields for the wire protocols.
 *
 * Trust boundary: the bytes come from unauthenticated or merely attested peers. jansson does
 * the lexing with JSON_REJECT_DUPLICATES (and without JSON_ALLOW_NUL, so "\u0000" is refused);
 * the depth is checked on the parsed tree (jansson itself allows 2048 levels). Byte fields are
 * bounded before they are decoded. Reasons never echo the peer's bytes.
 */
#include "proto/json.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/internal.h"
#include "util/codec.h"

void vtp_why(char *why, size_t why_len, const char *fmt, ...)
{
    if (!why || !why_len)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, why_len, fmt, ap);
    va_end(ap);
}

static bool depth_ok(const json_t *v, int depth)
{
    if ((json_is_object(v) || json_is_array(v)) && depth > VTP_JSON_MAX_DEPTH)
        return false;
    if (json_is_object(v)) {
        const char *k;
        json_t *e;
        json_object_foreach((json_t *)vti_unconst(v), k, e) if (!depth_ok(e, depth + 1)) return false;
    } else if (json_is_array(v)) {
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e) if (!depth_ok(e, depth + 1)) return false;
    }
    return true;
}

vt_res vtp_json_load(const uint8_t *p, size_t n, json_t **ret, size_t *ret_pos)
{
    *ret = NULL;
    if (ret_pos)
        *ret_pos = 0;
    json_error_t e;
    json_t *j = json_loadb((const char *)p, n, JSON_REJECT_DUPLICATES, &e);
    if (!j) {
        if (ret_pos)
            *ret_pos = e.position > 0 ? (size_t)e.position : 0;
        switch (json_error_code(&e)) {
        case json_error_duplicate_key: return VT_FAIL(VT_ERR_PROTO_JSON_DUP_KEY);
        case json_error_null_character:
        case json_error_null_byte_in_key: return VT_FAIL(VT_ERR_PROTO_JSON_NUL);
        case json_error_stack_overflow: return VT_FAIL(VT_ERR_PROTO_JSON_DEPTH);
        default: return VT_FAIL(VT_ERR_JSON);
        }
    }
    if (!depth_ok(j, 1)) {
        json_decref(j);
        return VT_FAIL(VT_ERR_PROTO_JSON_DEPTH);
    }
    *ret = j;
    return vti_ok();
}

json_t *vtp_json_parse(const uint8_t *p, size_t n, char *why, size_t why_len)
{
    json_t *j = NULL;
    size_t pos = 0;
    vt_res r = vtp_json_load(p, n, &j, &pos);
    if (r.err == VT_ERR_PROTO_JSON_DEPTH)
        vtp_why(why, why_len, "malformed request: JSON nested deeper than %d",
                VTP_JSON_MAX_DEPTH);
    else if (r.err)
        vtp_why(why, why_len, "malformed request: invalid JSON at byte %zu", pos);
    return j;
}

/* ---- byte fields ---------------------------------------------------------------------- */

static vt_res bytes_b64(const json_t *v, size_t max, struct vt_buf *out)
{
    size_t n = json_string_length(v);
    ENSURE(n / 4 * 3 <= max + 3, VT_ERR_TOO_LARGE);
    out->max = max + 8; /* the decoder reserves a little slack; the length is checked below */
    vt_res r = vti_b64_decode(json_string_value(v), n, false, out);
    if (!r.err && out->len > max)
        r = VT_FAIL(VT_ERR_TOO_LARGE);
    if (r.err)
        vti_buf_free(out);
    return r;
}

static vt_res bytes_array(const json_t *v, size_t max, struct vt_buf *out)
{
    ENSURE(json_array_size(v) <= max, VT_ERR_TOO_LARGE);
    out->max = max;
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e) {
        vt_res r = vti_ok();
        if (!json_is_integer(e) || json_integer_value(e) < 0 || json_integer_value(e) > 255)
            r = VT_FAIL(VT_ERR_BROKER_BAD_FIELD);
        else
            r = vti_buf_u8(out, (uint8_t)json_integer_value(e));
        if (r.err) {
            vti_buf_free(out);
            return r;
        }
    }
    return vti_ok();
}

vt_res vtp_json_bytes(const json_t *v, size_t max, struct vt_buf *out)
{
    if (json_is_string(v))
        return bytes_b64(v, max, out);
    ENSURE(json_is_array(v), VT_ERR_BROKER_BAD_FIELD);
    return bytes_array(v, max, out);
}

vt_res vtp_json_bytes_fixed(const json_t *v, uint8_t *out, size_t n)
{
    struct vt_buf b = VT_BUF_INIT;
    GUARD(vtp_json_bytes(v, n, &b));
    bool ok = b.len == n;
    if (ok)
        memcpy(out, b.p, n);
    vti_buf_free(&b);
    ENSURE(ok, VT_ERR_BROKER_BAD_FIELD);
    return vti_ok();
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
    if (vti_b64_encode(p, n, false, &b).err || vti_buf_cstr(&b).err) {
        vti_buf_free(&b);
        return NULL;
    }
    json_t *s = json_stringn((const char *)b.p, b.len);
    vti_buf_free(&b);
    return s;
}

const char *vtp_str_field(const json_t *o, const char *name, size_t max)
{
    const json_t *v = json_object_get(o, name);
    if (!json_is_string(v) || json_string_length(v) > max)
        return NULL;
    return json_string_value(v);
}
