/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nvidia_evidence.c - NVIDIA device evidence JSON (see nvidia_evidence.h).
 */
#include <jansson.h>
#include <string.h>
#include <strings.h>

#include "util/codec.h"
#include "verifiers/nvidia_evidence.h"

const char *vti_nv_arch_name(enum vt_nv_arch a)
{
    return a == VT_NV_BLACKWELL ? "BLACKWELL" : "HOPPER";
}

static json_t *load(const uint8_t *p, size_t len)
{
    size_t i = 0;
    while (i < len && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
        i++;
    if (i == len || (p[i] != '{' && p[i] != '[') || len > VT_NV_MAX_EVIDENCE)
        return NULL;
    return json_loadb((const char *)p, len, JSON_REJECT_DUPLICATES, NULL);
}

static bool is_device(json_t *o)
{
    return json_is_object(o) && json_is_string(json_object_get(o, "evidence")) &&
           json_is_string(json_object_get(o, "certificate")) &&
           json_is_string(json_object_get(o, "arch"));
}

/* The device list of any of the three shapes, or NULL (borrowed from root). */
static json_t *device_list(json_t *root, bool *single)
{
    *single = false;
    if (json_is_array(root))
        return root;
    json_t *l = json_object_get(root, "device_evidence_list");
    if (l)
        return json_is_array(l) ? l : NULL;
    *single = is_device(root);
    return *single ? root : NULL;
}

static bool all_hex(const char *s, size_t n)
{
    if (n == 0 || n % 2)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') ||
              (s[i] >= 'A' && s[i] <= 'F')))
            return false;
    return true;
}

static vt_res report_field(json_t *v, struct vt_buf *out)
{
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    out->max = VT_NV_MAX_REPORT;
    vt_res r = all_hex(s, n) ? vti_hex_decode(s, n, out) : vti_b64_decode(s, n, false, out);
    ENSURE(vti_is_ok(r) && out->len > 0, VT_ERR_NV_EVIDENCE_FIELD);
    return vti_ok();
}

static vt_res chain_field(json_t *v, struct vt_buf *out)
{
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    out->max = VT_NV_MAX_CHAIN;
    vt_res r = strstr(s, "-----BEGIN ") ? vti_buf_append(out, s, n)
                                         : vti_b64_decode(s, n, false, out);
    ENSURE(vti_is_ok(r) && out->len > 0, VT_ERR_NV_EVIDENCE_FIELD);
    return vti_ok();
}

static vt_res device(json_t *o, struct vti_nv_device *d)
{
    ENSURE(is_device(o), VT_ERR_NV_EVIDENCE_FIELD);
    const char *arch = json_string_value(json_object_get(o, "arch"));
    if (strcasecmp(arch, "HOPPER") == 0)
        d->arch = VT_NV_HOPPER;
    else if (strcasecmp(arch, "BLACKWELL") == 0)
        d->arch = VT_NV_BLACKWELL;
    else
        return VT_FAIL(VT_ERR_NV_ARCH);
    json_t *u = json_object_get(o, "uuid");
    if (u) {
        ENSURE(json_is_string(u) && json_string_length(u) < sizeof(d->uuid),
               VT_ERR_NV_EVIDENCE_FIELD);
        memcpy(d->uuid, json_string_value(u), json_string_length(u) + 1);
    }
    GUARD(report_field(json_object_get(o, "evidence"), &d->report));
    return chain_field(json_object_get(o, "certificate"), &d->chain);
}

static vt_res devices(json_t *root, struct vti_nv_ev *ev)
{
    bool single;
    json_t *l = device_list(root, &single), *e;
    size_t i;
    ENSURE(l, VT_ERR_NV_EVIDENCE_JSON);
    if (single) {
        ev->n = 1;
        return device(l, &ev->dev[0]);
    }
    ENSURE(json_array_size(l) > 0, VT_ERR_NV_NO_DEVICES);
    ENSURE(json_array_size(l) <= VT_NV_MAX_DEVICES, VT_ERR_NV_TOO_MANY_DEVICES);
    json_array_foreach(l, i, e) {
        ev->n = i + 1;
        GUARD(device(e, &ev->dev[i]));
    }
    return vti_ok();
}

vt_res vti_nv_evidence_parse(const uint8_t *p, size_t len, struct vti_nv_ev *ev)
{
    memset(ev, 0, sizeof(*ev));
    json_t *root = load(p, len);
    ENSURE(root, VT_ERR_NV_EVIDENCE_JSON);
    vt_res r = devices(root, ev);
    json_decref(root);
    if (!vti_is_ok(r))
        vti_nv_evidence_free(ev);
    return r;
}

void vti_nv_evidence_free(struct vti_nv_ev *ev)
{
    for (size_t i = 0; i < VT_NV_MAX_DEVICES; i++) {
        vti_buf_free_nowipe(&ev->dev[i].report);
        vti_buf_free_nowipe(&ev->dev[i].chain);
    }
    ev->n = 0;
}

bool vti_nv_evidence_shape(const uint8_t *p, size_t len)
{
    json_t *root = load(p, len);
    if (!root)
        return false;
    bool single;
    json_t *l = device_list(root, &single);
    /* the named list (even empty: parse names the refusal), or a list of device objects */
    bool ok = l && (single || json_object_get(root, "device_evidence_list") ||
                    (json_array_size(l) > 0 && is_device(json_array_get(l, 0))));
    json_decref(root);
    return ok;
}
