/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hcl.c - Azure HCL report and variable data parsers (see hcl.h).
 */
#include <string.h>

#include "evidence/hcl.h"
#include "util/codec.h"
#include "util/cursor.h"

#define HCL_SIGNATURE 0x414C4348u /* "HCLA" little-endian */
#define HCL_REQUEST_AK_CERT 2u

static vt_res header(struct vt_cur *c, size_t len, struct vt_hcl_report *h)
{
    uint32_t sig;
    GUARD(vti_cur_u32le(c, &sig));
    ENSURE(sig == HCL_SIGNATURE, VT_ERR_HCL_SIGNATURE);
    GUARD(vti_cur_u32le(c, &h->version));
    ENSURE(h->version == 1 || h->version == 2, VT_ERR_HCL_VERSION);
    GUARD(vti_cur_u32le(c, &h->report_size));
    GUARD(vti_cur_u32le(c, &h->request_type));
    ENSURE(h->request_type == HCL_REQUEST_AK_CERT, VT_ERR_HCL_REQUEST_TYPE);
    GUARD(vti_cur_u32le(c, &h->status));
    ENSURE(h->status == 0, VT_ERR_HCL_STATUS);
    GUARD(vti_cur_skip(c, 12));
    ENSURE(h->report_size <= len, VT_ERR_HCL_REPORT_SIZE);
    return vti_ok();
}

static vt_res igvm(struct vt_cur *c, struct vt_hcl_report *h)
{
    GUARD(vti_cur_u32le(c, &h->igvm_data_size));
    GUARD(vti_cur_u32le(c, &h->igvm_version));
    ENSURE(h->igvm_version == 1, VT_ERR_HCL_IGVM_VERSION);
    GUARD(vti_cur_u32le(c, &h->report_type));
    ENSURE(h->report_type == VT_HCL_REPORT_SNP || h->report_type == VT_HCL_REPORT_TDX,
           VT_ERR_HCL_REPORT_TYPE);
    GUARD(vti_cur_u32le(c, &h->hash_type));
    ENSURE(h->hash_type == 1, VT_ERR_HCL_HASH_TYPE);
    GUARD(vti_cur_u32le(c, &h->var_data_len));
    ENSURE(h->var_data_len >= 1 && h->var_data_len <= VT_HCL_MAX_VAR_DATA,
           VT_ERR_HCL_VAR_DATA_SIZE);
    ENSURE(h->igvm_data_size == VT_HCL_IGVM_LEN + h->var_data_len, VT_ERR_HCL_IGVM_SIZE);
    return vti_ok();
}

vt_res vti_hcl_report_parse(const uint8_t *p, size_t len, struct vt_hcl_report *out)
{
    struct vt_hcl_report h = { 0 };
    ENSURE(len <= VT_HCL_MAX_LEN, VT_ERR_HCL_TOO_LARGE);
    struct vt_cur c = vti_cur_init(p, len);
    GUARD(header(&c, len, &h));
    GUARD(vti_cur_view(&c, VT_HCL_HW_REPORT_LEN, &h.hw_report));
    GUARD(igvm(&c, &h));
    ENSURE(h.var_data_len <= vti_cur_left(&c), VT_ERR_HCL_VAR_DATA_BOUNDS);
    ENSURE(h.report_size >= VT_HCL_VAR_DATA_OFF + h.var_data_len, VT_ERR_HCL_REPORT_SIZE);
    GUARD(vti_cur_view(&c, h.var_data_len, &h.var_data));
    /* the rest of the NV index is padding, outside every binding: ignored */
    *out = h;
    return vti_ok();
}

/* ---- variable data JSON ---------------------------------------------------------------- */

static bool depth_ok(json_t *v, int depth)
{
    if (depth > VT_HCL_JSON_MAX_DEPTH)
        return false;
    if (json_is_object(v)) {
        const char *k;
        json_t *e;
        json_object_foreach(v, k, e) {
            if (!depth_ok(e, depth + 1))
                return false;
        }
    } else if (json_is_array(v)) {
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e) {
            if (!depth_ok(e, depth + 1))
                return false;
        }
    }
    return true;
}

static vt_res b64url_member(json_t *o, const char *key, size_t max, struct vt_buf *out)
{
    json_t *s = json_object_get(o, key);
    ENSURE(json_is_string(s) && json_string_length(s) > 0 && json_string_length(s) <= max,
           VT_ERR_HCL_AK_JWK);
    out->max = max;
    vt_res r = vti_b64_decode(json_string_value(s), json_string_length(s), true, out);
    ENSURE(vti_is_ok(r) && out->len > 0, VT_ERR_HCL_AK_JWK);
    return vti_ok();
}

static vt_res ak_from_keys(json_t *root, struct vt_hcl_var_data *v)
{
    json_t *keys = json_object_get(root, "keys"), *k;
    size_t i;
    ENSURE(json_is_array(keys), VT_ERR_HCL_NO_AK);
    json_array_foreach(keys, i, k) {
        json_t *kid = json_object_get(k, "kid");
        if (!json_is_string(kid) || strcmp(json_string_value(kid), "HCLAkPub") != 0)
            continue;
        json_t *kty = json_object_get(k, "kty");
        ENSURE(json_is_string(kty) && strcmp(json_string_value(kty), "RSA") == 0,
               VT_ERR_HCL_AK_JWK);
        GUARD(b64url_member(k, "n", 1024, &v->ak_n));
        GUARD(b64url_member(k, "e", 16, &v->ak_e));
        return vti_ok();
    }
    return VT_FAIL(VT_ERR_HCL_NO_AK);
}

static vt_res user_data(json_t *root, struct vt_hcl_var_data *v)
{
    json_t *u = json_object_get(root, "user-data");
    if (!u)
        return vti_ok();
    ENSURE(json_is_string(u), VT_ERR_HCL_USER_DATA);
    size_t n = json_string_length(u);
    ENSURE(n % 2 == 0 && n <= 128, VT_ERR_HCL_USER_DATA);
    ENSURE(vti_is_ok(vti_hex_decode_span(json_string_value(u), n, v->user_data, n / 2)),
           VT_ERR_HCL_USER_DATA);
    v->user_data_len = n / 2;
    return vti_ok();
}

static vt_res vm_config(json_t *root, struct vt_hcl_var_data *v)
{
    json_t *c = json_object_get(root, "vm-configuration"), *e;
    const char *k;
    if (!c)
        return vti_ok();
    ENSURE(json_is_object(c), VT_ERR_HCL_VM_CONFIG);
    json_object_foreach(c, k, e) {
        ENSURE(json_is_string(e) || json_is_boolean(e) || json_is_integer(e),
               VT_ERR_HCL_VM_CONFIG);
    }
    v->vm_config = c;
    return vti_ok();
}

vt_res vti_hcl_var_data_parse(const uint8_t *p, size_t len, struct vt_hcl_var_data *out)
{
    memset(out, 0, sizeof(*out));
    ENSURE(len >= 1 && len <= VT_HCL_MAX_VAR_DATA, VT_ERR_HCL_VAR_DATA_SIZE);
    json_error_t je;
    json_t *root = json_loadb((const char *)p, len, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        if (json_error_code(&je) == json_error_duplicate_key)
            return VT_FAIL(VT_ERR_HCL_JSON_DUP_KEY);
        return VT_FAIL(VT_ERR_HCL_JSON);
    }
    out->root = root;
    vt_res r = vti_ok();
    ENSURE_GOTO(json_is_object(root), VT_ERR_HCL_JSON, r, fail);
    ENSURE_GOTO(depth_ok(root, 1), VT_ERR_HCL_JSON_DEPTH, r, fail);
    GUARD_GOTO(ak_from_keys(root, out), r, fail);
    GUARD_GOTO(user_data(root, out), r, fail);
    GUARD_GOTO(vm_config(root, out), r, fail);
    return vti_ok();
fail:
    vti_hcl_var_data_free(out);
    return r;
}

void vti_hcl_var_data_free(struct vt_hcl_var_data *v)
{
    if (v->root)
        json_decref(v->root);
    vti_buf_free_nowipe(&v->ak_n);
    vti_buf_free_nowipe(&v->ak_e);
    memset(v, 0, sizeof(*v));
}
