/* SPDX-License-Identifier: Apache-2.0 */
/*
 * input.c - verified report -> appraisal input (policy/input.h).
 */
#include "policy/input.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/codec.h"

/* One claim's value as a string (NULL: out of memory, or a type that is not appraised). */
static char *claim_text(const struct vt_claim *c, bool *skip)
{
    char *v = NULL;
    *skip = false;
    switch (c->type) {
    case VT_CLAIM_BOOL: v = strdup(c->b ? "true" : "false"); break;
    case VT_CLAIM_INT:
        if (asprintf(&v, "%" PRId64, c->i) < 0)
            v = NULL;
        break;
    case VT_CLAIM_STRING: v = strdup(c->s ? c->s : ""); break;
    case VT_CLAIM_BYTES:
        v = malloc(2 * c->n + 1);
        if (v)
            vti_hex_encode(c->p, c->n, v);
        break;
    case VT_CLAIM_STRLIST: *skip = true; break;
    }
    return v;
}

vt_res vtb_input_from_report(const vt_report *rep, struct vtb_report_input *out)
{
    memset(out, 0, sizeof(*out));
    ENSURE(rep, VT_ERR_INVALID_ARG);
    const vt_claims *cl = vt_report_claims(rep);
    size_t n = cl ? vt_claims_count(cl) : 0;
    out->claims = calloc(n ? n : 1, sizeof(*out->claims));
    out->vals = calloc(n ? n : 1, sizeof(*out->vals));
    out->in.tee = vt_report_tee(rep);
    out->in.tcb_status = vt_report_tcb_status(rep);
    out->in.claims = out->claims;
    if (!out->claims || !out->vals) {
        vtb_input_free(out);
        return VT_FAIL(VT_ERR_NOMEM);
    }
    for (size_t i = 0; i < n; i++) {
        const struct vt_claim *c = vt_claims_at(cl, i);
        bool skip;
        char *v = claim_text(c, &skip);
        if (skip)
            continue;
        if (!v) {
            vtb_input_free(out);
            return VT_FAIL(VT_ERR_NOMEM);
        }
        out->vals[out->in.n_claims] = v;
        out->claims[out->in.n_claims].name = c->name;
        out->claims[out->in.n_claims].value = v;
        out->in.n_claims++;
    }
    return vti_ok();
}

void vtb_input_free(struct vtb_report_input *ri)
{
    if (!ri)
        return;
    for (size_t i = 0; ri->vals && i < ri->in.n_claims; i++)
        free(ri->vals[i]);
    free(ri->vals);
    free(ri->claims);
    memset(ri, 0, sizeof(*ri));
}
