/*
 * tunnel.c - --expect CLAIM=VALUE: parsing (operator input) and appraisal of a verified peer
 * report (tunnel.h). The report was produced and verified by the library; this file only
 * compares its public claims with what the operator demands, and refuses when any differs.
 */
#include "proto/tunnel.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "proto/internal.h"
#include "util/codec.h"

static bool name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '-' || c == '_';
}

vt_res vtp_expect_parse(const char *in, struct vtp_expect *out)
{
    memset(out, 0, sizeof(*out));
    const char *eq = in ? strchr(in, '=') : NULL;
    ENSURE(eq, VT_ERR_TUNNEL_EXPECT_SYNTAX);
    size_t nl = (size_t)(eq - in), vl = strlen(eq + 1);
    ENSURE(nl >= 1 && nl <= VTP_EXPECT_NAME_MAX, VT_ERR_TUNNEL_EXPECT_SYNTAX);
    ENSURE(vl >= 1 && vl <= VTP_EXPECT_VALUE_MAX, VT_ERR_TUNNEL_EXPECT_SYNTAX);
    for (size_t i = 0; i < nl; i++)
        ENSURE(name_char(in[i]), VT_ERR_TUNNEL_EXPECT_SYNTAX);
    for (size_t i = 0; i < vl; i++)
        ENSURE(eq[1 + i] > 0x20 && eq[1 + i] < 0x7f, VT_ERR_TUNNEL_EXPECT_SYNTAX);
    memcpy(out->name, in, nl);
    memcpy(out->value, eq + 1, vl);
    return vti_ok();
}

/* The claim as text into got (bytes: lower-case hex, cut to fit). */
static void claim_text(const struct vt_claim *c, char *got, size_t len)
{
    switch (c->type) {
    case VT_CLAIM_BOOL:
        snprintf(got, len, "%s", c->b ? "true" : "false");
        break;
    case VT_CLAIM_INT:
        snprintf(got, len, "%lld", (long long)c->i);
        break;
    case VT_CLAIM_STRING:
        snprintf(got, len, "%s", c->s ? c->s : "");
        break;
    case VT_CLAIM_BYTES: {
        size_t n = c->n < (len - 1) / 2 ? c->n : (len - 1) / 2;
        vti_hex_encode(c->p, n, got);
        break;
    }
    case VT_CLAIM_STRLIST:
        snprintf(got, len, "%zu strings", c->n);
        break;
    }
}

static bool int_equals(int64_t have, const char *want)
{
    char *end = NULL;
    errno = 0;
    long long v = strtoll(want, &end, 10);
    return errno == 0 && end && *end == '\0' && end != want && v == have;
}

/* Does claim c have the value want? */
static bool claim_matches(const struct vt_claim *c, const char *want)
{
    switch (c->type) {
    case VT_CLAIM_BOOL:
        return !strcmp(want, c->b ? "true" : "false");
    case VT_CLAIM_INT:
        return int_equals(c->i, want);
    case VT_CLAIM_STRING:
        return c->s && !strcmp(c->s, want);
    case VT_CLAIM_BYTES: {
        if (strlen(want) != 2 * c->n)
            return false;
        char *hex = malloc(2 * c->n + 1);
        if (!hex)
            return false;
        vti_hex_encode(c->p, c->n, hex);
        bool eq = strcasecmp(hex, want) == 0; /* public claim values */
        free(hex);
        return eq;
    }
    case VT_CLAIM_STRLIST:
        for (size_t i = 0; i < c->n; i++)
            if (c->list[i] && !strcmp(c->list[i], want))
                return true;
        return false;
    }
    return false;
}

/* One expectation against rep. */
static vt_res check_one(const vt_report *rep, const struct vtp_expect *e, char *why,
                        size_t why_len)
{
    const struct vt_claim *c = vt_claims_get(vt_report_claims(rep), e->name);
    struct vt_claim pseudo = { .name = e->name, .type = VT_CLAIM_STRING };
    if (!c && !strcmp(e->name, "tee") && vt_report_tee(rep)) {
        pseudo.s = vt_report_tee(rep);
        c = &pseudo;
    } else if (!c && !strcmp(e->name, "tcb_status") && vt_report_tcb_status(rep)) {
        pseudo.s = vt_report_tcb_status(rep);
        c = &pseudo;
    }
    if (!c) {
        if (why)
            snprintf(why, why_len, "claim %s absent (--expect %s=%s)", e->name, e->name,
                     e->value);
        return VT_FAIL(VT_ERR_TUNNEL_EXPECT_ABSENT);
    }
    if (claim_matches(c, e->value))
        return vti_ok();
    if (why) {
        char got[160];
        claim_text(c, got, sizeof(got));
        snprintf(why, why_len, "claim %s is %s, --expect wants %s", e->name, got, e->value);
    }
    return VT_FAIL(VT_ERR_TUNNEL_EXPECT_MISMATCH);
}

vt_res vtp_expect_check(const vt_report *rep, const struct vtp_expect *e, size_t n, char *why,
                        size_t why_len)
{
    if (why && why_len)
        why[0] = '\0';
    if (!rep || !vt_report_verified(rep)) {
        if (why)
            snprintf(why, why_len, "the peer presented no verified evidence");
        return VT_FAIL(VT_ERR_TUNNEL_UNATTESTED);
    }
    for (size_t i = 0; i < n; i++)
        GUARD(check_one(rep, &e[i], why, why_len));
    return vti_ok();
}
