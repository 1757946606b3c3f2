/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nvidia_rim_swid.c - extraction from a (verified) NVIDIA RIM SWID tag, following the layout
 * of NVIDIA's tags (and nvtrust's rim module): SoftwareIdentity@name; one Meta with
 * colloquialVersion; one Payload whose element children are all Resource elements with
 * index, active ("True"/"False"), alternatives N, size 48 and sha384:Hash0..Hash{N-1}
 * (96 hex digits). Strict: an unknown element in Payload, a missing or malformed attribute,
 * a duplicate index or a limit exceeded fails the whole RIM.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "endorsements/nvidia_rim_int.h"
#include "util/codec.h"

#define MAX_INDEX 254 /* SPDM block index = index + 1 <= 255 */

/* Strict decimal: 1-5 digits, no sign, value <= max. */
static bool parse_dec(const xmlChar *s, uint32_t max, uint32_t *out)
{
    if (!s || !*s)
        return false;
    uint32_t v = 0;
    size_t n = 0;
    for (; s[n]; n++) {
        if (n >= 5 || !isdigit(s[n]))
            return false;
        v = v * 10 + (uint32_t)(s[n] - '0');
    }
    if (v > max)
        return false;
    *out = v;
    return true;
}

static bool dotted_groups(const char *v, bool hex2, size_t min_g, size_t max_g)
{
    size_t groups = 0, len = 0;
    for (const char *p = v;; p++) {
        if (*p == '.' || *p == 0) {
            if (len == 0 || (hex2 && len != 2) || (!hex2 && len > 3))
                return false;
            groups++;
            len = 0;
            if (*p == 0)
                break;
            continue;
        }
        if (!(hex2 ? isxdigit((unsigned char)*p) : isdigit((unsigned char)*p)))
            return false;
        len++;
    }
    return groups >= min_g && groups <= max_g;
}

enum vti_nv_rim_kind vti_rim_kind_of(const char *version)
{
    if (dotted_groups(version, true, 5, 5))
        return VTI_NV_RIM_VBIOS;
    if (dotted_groups(version, false, 2, 4))
        return VTI_NV_RIM_DRIVER;
    return 0;
}

/* A printable ASCII attribute value (1..cap-1 bytes) into out; lower-cased if asked. */
static VT_RESULT copy_attr(xmlNodePtr n, const char *name, bool lower, char *out, size_t cap)
{
    xmlChar *v = xmlGetNoNsProp(n, (const xmlChar *)name);
    ENSURE(v, VT_ERR_NV_RIM_ELEMENT);
    size_t len = strlen((const char *)v);
    bool ok = len > 0 && len < cap;
    for (size_t i = 0; ok && i < len; i++)
        ok = v[i] > 0x20 && v[i] < 0x7f;
    if (ok)
        for (size_t i = 0; i <= len; i++)
            out[i] = lower ? (char)tolower(v[i]) : (char)v[i];
    xmlFree(v);
    ENSURE(ok, VT_ERR_NV_RIM_ELEMENT);
    return vti_ok();
}

/* The one child element ns:name of parent (none or two: VT_ERR_NV_RIM_ELEMENT). */
static VT_RESULT only_child(xmlNodePtr parent, const char *name, xmlNodePtr *out)
{
    *out = NULL;
    for (xmlNodePtr c = vti_rim_first_elem(parent); c; c = vti_rim_next_elem(c)) {
        if (!vti_rim_is(c, VTI_NS_SWID, name))
            continue;
        ENSURE(!*out, VT_ERR_NV_RIM_ELEMENT);
        *out = c;
    }
    ENSURE(*out, VT_ERR_NV_RIM_ELEMENT);
    return vti_ok();
}

static VT_RESULT attr_u32(xmlNodePtr n, const char *name, uint32_t max, uint32_t *out)
{
    xmlChar *v = xmlGetNoNsProp(n, (const xmlChar *)name);
    bool ok = parse_dec(v, max, out);
    xmlFree(v);
    ENSURE(ok, VT_ERR_NV_RIM_RESOURCE);
    return vti_ok();
}

static VT_RESULT read_hashes(xmlNodePtr n, struct vti_nv_rim_resource *res)
{
    for (uint32_t j = 0; j < res->n_alt; j++) {
        char an[16];
        snprintf(an, sizeof(an), "Hash%u", j);
        xmlChar *v = xmlGetNsProp(n, (const xmlChar *)an, (const xmlChar *)VTI_NS_SHA384);
        bool ok = v && strlen((const char *)v) == 2 * VTI_NV_RIM_DIGEST_LEN &&
                  vti_hex_decode_fixed((const char *)v, res->alt[j], VTI_NV_RIM_DIGEST_LEN).err == 0;
        xmlFree(v);
        ENSURE(ok, VT_ERR_NV_RIM_RESOURCE);
    }
    /* No HashN past the stated alternatives (a value the count would silently hide). */
    char an[16];
    snprintf(an, sizeof(an), "Hash%u", res->n_alt);
    ENSURE(!xmlHasNsProp(n, (const xmlChar *)an, (const xmlChar *)VTI_NS_SHA384),
           VT_ERR_NV_RIM_RESOURCE);
    return vti_ok();
}

static VT_RESULT read_resource(xmlNodePtr n, struct vti_nv_rim_resource *res)
{
    memset(res, 0, sizeof(*res));
    GUARD(attr_u32(n, "index", MAX_INDEX, &res->index));
    xmlChar *act = xmlGetNoNsProp(n, (const xmlChar *)"active");
    bool is_true = act && strcmp((const char *)act, "True") == 0;
    bool is_false = act && strcmp((const char *)act, "False") == 0;
    xmlFree(act);
    ENSURE(is_true || is_false, VT_ERR_NV_RIM_RESOURCE);
    res->active = is_true;
    uint32_t alts = 0, size = 0;
    GUARD(attr_u32(n, "alternatives", 99999, &alts));
    ENSURE(alts >= 1, VT_ERR_NV_RIM_RESOURCE);
    ENSURE(alts <= VTI_NV_RIM_MAX_ALTS, VT_ERR_NV_RIM_LIMIT);
    res->n_alt = alts;
    GUARD(attr_u32(n, "size", 99999, &size));
    ENSURE(size == VTI_NV_RIM_DIGEST_LEN, VT_ERR_NV_RIM_RESOURCE);
    GUARD(read_hashes(n, res));
    xmlChar *name = xmlGetNoNsProp(n, (const xmlChar *)"name");
    if (name) {
        snprintf(res->name, sizeof(res->name), "%s", (const char *)name);
        xmlFree(name);
    }
    return vti_ok();
}

static VT_RESULT read_payload(xmlNodePtr payload, struct vti_nv_rim *rim)
{
    size_t n = 0;
    for (xmlNodePtr c = vti_rim_first_elem(payload); c; c = vti_rim_next_elem(c)) {
        ENSURE(vti_rim_is(c, VTI_NS_SWID, "Resource"), VT_ERR_NV_RIM_ELEMENT);
        ENSURE(++n <= VTI_NV_RIM_MAX_RESOURCES, VT_ERR_NV_RIM_LIMIT);
    }
    ENSURE(n > 0, VT_ERR_NV_RIM_ELEMENT);
    rim->res = calloc(n, sizeof(*rim->res));
    ENSURE(rim->res, VT_ERR_NOMEM);
    bool seen[MAX_INDEX + 1] = { false };
    for (xmlNodePtr c = vti_rim_first_elem(payload); c; c = vti_rim_next_elem(c)) {
        struct vti_nv_rim_resource *res = &rim->res[rim->n_res];
        GUARD(read_resource(c, res));
        ENSURE(!seen[res->index], VT_ERR_NV_RIM_DUP_INDEX);
        seen[res->index] = true;
        rim->n_res++;
    }
    return vti_ok();
}

vt_res vti_rim_extract(const struct vti_rim_doc *d, struct vti_nv_rim *rim)
{
    GUARD(copy_attr(d->root, "name", false, rim->product, sizeof(rim->product)));
    xmlNodePtr meta = NULL, payload = NULL;
    GUARD(only_child(d->root, "Meta", &meta));
    GUARD(copy_attr(meta, "colloquialVersion", true, rim->version, sizeof(rim->version)));
    rim->kind = vti_rim_kind_of(rim->version);
    ENSURE(rim->kind, VT_ERR_NV_RIM_KIND);
    GUARD(only_child(d->root, "Payload", &payload));
    GUARD(read_payload(payload, rim));
    return vti_ok();
}
