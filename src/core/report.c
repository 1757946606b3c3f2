/* SPDX-License-Identifier: Apache-2.0 */
/*
 * report.c - verification reports: claims, ordered checks, JSON rendering.
 *
 * A report owns copies of every string and byte value it holds, so it outlives the evidence
 * it describes. JSON is produced with jansson; byte claims are lower-case hex.
 */
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/report.h"
#include "util/codec.h"
#include "util/result.h"

struct vt_report *vti_report_new(void)
{
    return calloc(1, sizeof(struct vt_report));
}

static void claim_clear(struct vt_claim *c)
{
    free(vti_unconst(c->name));
    free(vti_unconst(c->s));
    free(vti_unconst(c->p));
    if (c->list) {
        for (size_t i = 0; i < c->n; i++)
            free(vti_unconst(c->list[i]));
        free(vti_unconst(c->list));
    }
    memset(c, 0, sizeof(*c));
}

VTI_API void vt_report_free(vt_report *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->claims.n; i++)
        claim_clear(&r->claims.c[i]);
    for (size_t i = 0; i < r->nsteps; i++)
        free(vti_unconst(r->steps[i].text));
    free(r);
}

void vti_report_step(struct vt_report *r, int ok, const char *fmt, ...)
{
    if (r->nsteps >= VT_MAX_STEPS)
        return;
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    char *t = strdup(buf);
    if (!t)
        return;
    r->steps[r->nsteps].text = t;
    r->steps[r->nsteps].result = ok;
    r->nsteps++;
}

void vti_report_set_tee(struct vt_report *r, const char *tee)
{
    snprintf(r->tee, sizeof(r->tee), "%s", tee ? tee : "");
}

void vti_report_set_tcb_status(struct vt_report *r, const char *status)
{
    snprintf(r->tcb_status, sizeof(r->tcb_status), "%s", status ? status : "");
}

void vti_report_fail(struct vt_report *r, int err, const char *detail_fmt, ...)
{
    if (r->err)
        return;
    r->err = err ? err : VT_ERR_INTERNAL;
    r->verified = false;
    char detail[200] = "";
    if (detail_fmt) {
        va_list ap;
        va_start(ap, detail_fmt);
        vsnprintf(detail, sizeof(detail), detail_fmt, ap);
        va_end(ap);
    }
    if (detail[0])
        snprintf(r->errmsg, sizeof(r->errmsg), "%s: %s", vt_strerror(r->err), detail);
    else
        snprintf(r->errmsg, sizeof(r->errmsg), "%s", vt_strerror(r->err));
}

static vt_res claim_slot(struct vt_report *r, const char *name, struct vt_claim **out)
{
    ENSURE(name && *name, VT_ERR_INVALID_ARG);
    for (size_t i = 0; i < r->claims.n; i++) {
        if (strcmp(r->claims.c[i].name, name) == 0) {
            claim_clear(&r->claims.c[i]);
            *out = &r->claims.c[i];
            goto named;
        }
    }
    ENSURE(r->claims.n < VT_MAX_CLAIMS, VT_ERR_OVERFLOW);
    *out = &r->claims.c[r->claims.n++];
named:
    (*out)->name = strdup(name);
    ENSURE((*out)->name, VT_ERR_NOMEM);
    return vti_ok();
}

vt_res vti_claim_bool(struct vt_report *r, const char *name, bool v)
{
    struct vt_claim *c;
    GUARD(claim_slot(r, name, &c));
    c->type = VT_CLAIM_BOOL;
    c->b = v;
    return vti_ok();
}

vt_res vti_claim_int(struct vt_report *r, const char *name, int64_t v)
{
    struct vt_claim *c;
    GUARD(claim_slot(r, name, &c));
    c->type = VT_CLAIM_INT;
    c->i = v;
    return vti_ok();
}

vt_res vti_claim_str(struct vt_report *r, const char *name, const char *v)
{
    struct vt_claim *c;
    GUARD(claim_slot(r, name, &c));
    c->type = VT_CLAIM_STRING;
    c->s = strdup(v ? v : "");
    ENSURE(c->s, VT_ERR_NOMEM);
    return vti_ok();
}

vt_res vti_claim_bytes(struct vt_report *r, const char *name, const uint8_t *p, size_t n)
{
    struct vt_claim *c;
    GUARD(claim_slot(r, name, &c));
    c->type = VT_CLAIM_BYTES;
    uint8_t *q = malloc(n ? n : 1);
    ENSURE(q, VT_ERR_NOMEM);
    if (n)
        memcpy(q, p, n);
    c->p = q;
    c->n = n;
    return vti_ok();
}

vt_res vti_claim_strlist(struct vt_report *r, const char *name, const char *const *v, size_t n)
{
    struct vt_claim *c;
    GUARD(claim_slot(r, name, &c));
    c->type = VT_CLAIM_STRLIST;
    const char **l = calloc(n ? n : 1, sizeof(*l));
    ENSURE(l, VT_ERR_NOMEM);
    c->list = l;
    for (size_t i = 0; i < n; i++) {
        l[i] = strdup(v[i]);
        ENSURE(l[i], VT_ERR_NOMEM);
        c->n = i + 1;
    }
    return vti_ok();
}

VTI_API bool vt_report_verified(const vt_report *r) { return r && r->verified && !r->err; }
VTI_API const char *vt_report_tee(const vt_report *r) { return r ? r->tee : ""; }
VTI_API bool vt_report_insecure(const vt_report *r) { return r ? r->insecure : true; }
VTI_API const char *vt_report_tcb_status(const vt_report *r)
{
    return r && r->tcb_status[0] ? r->tcb_status : NULL;
}
VTI_API const vt_claims *vt_report_claims(const vt_report *r) { return r ? &r->claims : NULL; }
VTI_API int vt_report_error(const vt_report *r) { return r ? r->err : VT_ERR_INVALID_ARG; }
VTI_API const char *vt_report_error_message(const vt_report *r)
{
    return r && r->err ? r->errmsg : "";
}
VTI_API size_t vt_report_step_count(const vt_report *r) { return r ? r->nsteps : 0; }
VTI_API const struct vt_step *vt_report_step(const vt_report *r, size_t i)
{
    return r && i < r->nsteps ? &r->steps[i] : NULL;
}

VTI_API size_t vt_claims_count(const vt_claims *c) { return c ? c->n : 0; }
VTI_API const struct vt_claim *vt_claims_at(const vt_claims *c, size_t i)
{
    return c && i < c->n ? &c->c[i] : NULL;
}
VTI_API const struct vt_claim *vt_claims_get(const vt_claims *c, const char *name)
{
    if (!c || !name)
        return NULL;
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->c[i].name, name) == 0)
            return &c->c[i];
    return NULL;
}

static json_t *claim_json(const struct vt_claim *c)
{
    switch (c->type) {
    case VT_CLAIM_BOOL:
        return json_boolean(c->b);
    case VT_CLAIM_INT:
        return json_integer(c->i);
    case VT_CLAIM_STRING:
        return json_string(c->s);
    case VT_CLAIM_BYTES: {
        char *h = malloc(2 * c->n + 1);
        if (!h)
            return NULL;
        vti_hex_encode(c->p, c->n, h);
        json_t *j = json_string(h);
        free(h);
        return j;
    }
    case VT_CLAIM_STRLIST: {
        json_t *a = json_array();
        for (size_t i = 0; a && i < c->n; i++)
            json_array_append_new(a, json_string(c->list[i]));
        return a;
    }
    }
    return NULL;
}

/* Claims as a JSON object (new reference). */
json_t *vti_claims_json(const struct vt_claims *cl)
{
    json_t *o = json_object();
    for (size_t i = 0; o && i < cl->n; i++)
        json_object_set_new(o, cl->c[i].name, claim_json(&cl->c[i]));
    return o;
}

VTI_API char *vt_report_to_json(const vt_report *r, bool explain)
{
    if (!r)
        return NULL;
    json_t *o = json_object();
    if (!o)
        return NULL;
    json_object_set_new(o, "verified", json_boolean(vt_report_verified(r)));
    json_object_set_new(o, "tee", json_string(r->tee));
    json_object_set_new(o, "insecure", json_boolean(r->insecure));
    if (r->tcb_status[0])
        json_object_set_new(o, "tcb_status", json_string(r->tcb_status));
    json_object_set_new(o, "claims", vti_claims_json(&r->claims));
    if (r->err) {
        json_t *e = json_object();
        json_object_set_new(e, "code", json_integer(r->err));
        json_object_set_new(e, "name", json_string(vt_errname(r->err)));
        json_object_set_new(e, "category", json_string(vt_category_name(vt_err_category(r->err))));
        json_object_set_new(e, "message", json_string(r->errmsg));
        json_object_set_new(o, "error", e);
    }
    if (explain) {
        json_t *a = json_array();
        for (size_t i = 0; i < r->nsteps; i++) {
            json_t *s = json_object();
            json_object_set_new(s, "check", json_string(r->steps[i].text));
            json_object_set_new(s, "result", json_string(r->steps[i].result == 1   ? "ok"
                                                         : r->steps[i].result == 0 ? "failed"
                                                                                   : "info"));
            json_array_append_new(a, s);
        }
        json_object_set_new(o, "checks", a);
    }
    char *s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(o);
    return s;
}
