/* SPDX-License-Identifier: Apache-2.0 */
/*
 * policy.c - appraisal policy: validation of the policy document, immutable snapshots of
 * policy + reference values, and the release decision (see policy.h for the format).
 *
 * Trust boundary: the policy document comes from the administrator (trusted but may be
 * wrong: it is validated strictly, unknown keys are errors); the input comes from verified
 * evidence (authentic but chosen by the workload: only compared, never interpreted).
 * Fail closed: no policy, no matching rule, an absent claim or an unknown condition deny.
 */
#include "policy/policy.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "proto/proto.h"
#include "util/codec.h"

/* The policy compiled into typed rules when a snapshot is built (validated once; appraisal
 * walks these, never the JSON). */
struct str_list {
    char **v;
    size_t n;
};

/* One accepted value of a claim condition: the claim's string form must equal text
 * (case-insensitively for strings, exactly for booleans and integers). */
struct claim_val {
    char *text;
    bool icase;
};

struct claim_cond {
    char *name;
    struct claim_val *vals; /* a scalar condition: one value; an array: any of them */
    size_t n;
};

/* A "reference" condition: the claim must equal an unexpired reference value of that name
 * (rv: indices into the snapshot's reference values with that name). */
struct ref_cond {
    char *name;
    size_t *rv;
    size_t n_rv;
};

struct rule {
    char name[64];              /* the rule's name, or "#<position>" when unnamed */
    struct str_list resources;  /* path patterns */
    bool has_tee, has_tcb;
    struct str_list tee, tcb;   /* allowed TEE types / accepted TCB statuses */
    char tee_text[256], tcb_text[256]; /* the lists as reasons show them */
    struct ref_cond *refs;
    size_t n_refs;
    struct claim_cond *claims;
    size_t n_claims;
    bool allow_debug; /* "debug": true, or a "claims" condition on debug accepting true */
    bool has_gpus;              /* "gpus": device evidence required */
    size_t gpu_count;           /* at least this many devices */
    struct claim_cond *gpu_claims; /* of every device */
    size_t n_gpu_claims;
};

struct vtb_snapshot {
    int refs; /* atomic */
    struct rule *rules; /* NULL (no policy) = deny all */
    size_t n_rules;
    struct vtb_refval *rv;
    size_t n_rv;
};

static void why_set(char *why, size_t wl, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void why_set(char *why, size_t wl, const char *fmt, ...)
{
    if (!why || !wl)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, wl, fmt, ap);
    va_end(ap);
}

/* ---- validation ----------------------------------------------------------------------- */

static bool pattern_ok(const char *p)
{
    size_t n = strlen(p), segs = 1, seglen = 0, stars = 0;
    if (n == 0 || n > VTP_MAX_PATH || strstr(p, "/./") || strstr(p, "/../") ||
        strncmp(p, "./", 2) == 0 || strncmp(p, "../", 3) == 0 ||
        (n >= 2 && strcmp(p + n - 2, "/.") == 0) || (n >= 3 && strcmp(p + n - 3, "/..") == 0))
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (c == '/') {
            if (seglen == 0)
                return false;
            segs++;
            seglen = 0;
            stars = 0;
            continue;
        }
        if (c == '*') {
            if (++stars > 1)
                return false;
        } else if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                     (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-')) {
            return false;
        }
        seglen++;
    }
    return seglen > 0 && segs == 3;
}

static bool str_array(const json_t *a, size_t max)
{
    if (!json_is_array(a) || json_array_size(a) == 0 || json_array_size(a) > max)
        return false;
    size_t i;
    json_t *e;
    json_array_foreach(a, i, e) if (!json_is_string(e) || json_string_length(e) == 0 ||
                                    json_string_length(e) > 128) return false;
    return true;
}

static bool scalar(const json_t *v)
{
    return json_is_string(v) || json_is_integer(v) || json_is_boolean(v);
}

/* A claims object: {name: scalar or non-empty array of scalars}. */
static vt_res check_claims(const json_t *v, size_t idx, const char *key, char *why, size_t wl)
{
    if (!json_is_object(v)) {
        why_set(why, wl, "rule %zu: '%s' must be an object", idx, key);
        return VT_FAIL(VT_ERR_BROKER_BAD_POLICY);
    }
    const char *ck;
    json_t *cv;
    json_object_foreach(vti_unconst(v), ck, cv) {
        bool ok = scalar(cv);
        if (json_is_array(cv) && json_array_size(cv) > 0 && json_array_size(cv) <= 64) {
            ok = true;
            size_t i;
            json_t *e;
            json_array_foreach(cv, i, e) ok = ok && scalar(e);
        }
        if (!ok) {
            why_set(why, wl, "rule %zu: claim condition '%.64s' must be a string, "
                             "integer, boolean or a non-empty array of them", idx, ck);
            return VT_FAIL(VT_ERR_BROKER_BAD_POLICY);
        }
    }
    return vti_ok();
}

/* "gpus": {"count"?: 1..16, "claims"?: {...}} */
static vt_res check_gpus(const json_t *v, size_t idx, char *why, size_t wl)
{
    const json_t *cnt = json_object_get(v, "count"), *cl = json_object_get(v, "claims");
    bool ok = json_is_object(v) && json_object_size(v) == (size_t)(cnt != NULL) + (cl != NULL) &&
              (!cnt || (json_is_integer(cnt) && json_integer_value(cnt) >= 1 &&
                        json_integer_value(cnt) <= 8));
    if (!ok) {
        why_set(why, wl, "rule %zu: 'gpus' must be {\"count\": 1..8, \"claims\": {...}} "
                         "(both optional)", idx);
        return VT_FAIL(VT_ERR_BROKER_BAD_POLICY);
    }
    return cl ? check_claims(cl, idx, "gpus.claims", why, wl) : vti_ok();
}

static vt_res check_rule(const json_t *r, size_t idx, char *why, size_t wl)
{
    if (!json_is_object(r)) {
        why_set(why, wl, "rule %zu: not an object", idx);
        return VT_FAIL(VT_ERR_BROKER_BAD_POLICY);
    }
    const char *k;
    json_t *v;
    json_object_foreach(vti_unconst(r), k, v) {
        if (strcmp(k, "name") == 0) {
            if (!json_is_string(v) || json_string_length(v) > 63) {
                why_set(why, wl, "rule %zu: 'name' must be a string of at most 63 characters",
                        idx);
                return VT_FAIL(VT_ERR_BROKER_BAD_POLICY);
            }
        } else if (strcmp(k, "resources") == 0) {
            if (!str_array(v, 256)) {
                why_set(why, wl, "rule %zu: 'resources' must be a non-empty array of path "
                                 "patterns", idx);
                return VT_FAIL(VT_ERR_BROKER_BAD_POLICY);
            }
            size_t i;
            json_t *e;
            json_array_foreach(v, i, e) if (!pattern_ok(json_string_value(e))) {
                why_set(why, wl, "rule %zu: resource pattern %zu is not <repo>/<type>/<tag> "
                                 "(segments of [A-Za-z0-9._-], at most one '*' each)", idx, i);
                return VT_FAIL(VT_ERR_BROKER_BAD_POLICY);
            }
        } else if (strcmp(k, "tee") == 0 || strcmp(k, "tcb_status") == 0 ||
                   strcmp(k, "reference") == 0) {
            if (!str_array(v, 64)) {
                why_set(why, wl, "rule %zu: '%s' must be a non-empty array of strings", idx, k);
                return VT_FAIL(VT_ERR_BROKER_BAD_POLICY);
            }
        } else if (strcmp(k, "debug") == 0) {
            if (!json_is_boolean(v)) {
                why_set(why, wl, "rule %zu: 'debug' must be true or false", idx);
                return VT_FAIL(VT_ERR_BROKER_BAD_POLICY);
            }
        } else if (strcmp(k, "claims") == 0) {
            GUARD(check_claims(v, idx, "claims", why, wl));
        } else if (strcmp(k, "gpus") == 0) {
            GUARD(check_gpus(v, idx, why, wl));
        } else {
            why_set(why, wl, "rule %zu: unknown key '%.64s' (want name, resources, tee, "
                             "tcb_status, reference, claims, debug, gpus)", idx, k);
            return VT_FAIL(VT_ERR_BROKER_BAD_POLICY);
        }
    }
    if (!json_object_get(r, "resources")) {
        why_set(why, wl, "rule %zu: 'resources' is required", idx);
        return VT_FAIL(VT_ERR_BROKER_BAD_POLICY);
    }
    return vti_ok();
}

static vt_res check_doc(const json_t *j, char *why, size_t wl)
{
    if (!json_is_object(j)) {
        why_set(why, wl, "policy must be a JSON object");
        return VT_FAIL(VT_ERR_BROKER_BAD_POLICY);
    }
    const char *k;
    json_t *v;
    json_object_foreach(vti_unconst(j), k, v) {
        if (strcmp(k, "version") != 0 && strcmp(k, "rules") != 0 &&
            strcmp(k, "comment") != 0) {
            why_set(why, wl, "unknown top-level key '%.64s' (want version, rules, comment)", k);
            return VT_FAIL(VT_ERR_BROKER_BAD_POLICY);
        }
    }
    const json_t *ver = json_object_get(j, "version");
    if (!json_is_integer(ver) || json_integer_value(ver) != 1) {
        why_set(why, wl, "'version' must be 1");
        return VT_FAIL(VT_ERR_BROKER_BAD_POLICY);
    }
    const json_t *rules = json_object_get(j, "rules");
    if (!json_is_array(rules) || json_array_size(rules) > VTB_MAX_RULES) {
        why_set(why, wl, "'rules' must be an array of at most %d rules", VTB_MAX_RULES);
        return VT_FAIL(VT_ERR_BROKER_BAD_POLICY);
    }
    size_t i;
    json_t *r;
    json_array_foreach(rules, i, r) GUARD(check_rule(r, i, why, wl));
    return vti_ok();
}

static json_t *parse_doc(const char *doc, char *why, size_t wl)
{
    json_error_t e;
    json_t *j = json_loads(doc, JSON_REJECT_DUPLICATES, &e);
    if (!j)
        why_set(why, wl, "policy is not valid JSON (line %d: %.80s)", e.line, e.text);
    return j;
}

vt_res vtb_policy_check(const char *doc, char *why, size_t why_len)
{
    ENSURE(doc, VT_ERR_INVALID_ARG);
    json_t *j = parse_doc(doc, why, why_len);
    ENSURE(j, VT_ERR_BROKER_BAD_POLICY);
    vt_res r = check_doc(j, why, why_len);
    json_decref(j);
    return r;
}

/* ---- compiling the policy into typed rules ------------------------------------------ */

static void list_text(const json_t *a, char *out, size_t n)
{
    size_t off = 0;
    out[0] = 0;
    size_t i;
    json_t *e;
    json_array_foreach(a, i, e) {
        int k = snprintf(out + off, n - off, "%s%s", i ? ", " : "", json_string_value(e));
        if (k < 0 || (size_t)k >= n - off)
            break;
        off += (size_t)k;
    }
}

static vt_res compile_list(const json_t *a, struct str_list *out)
{
    size_t n = json_array_size(a);
    out->v = calloc(n ? n : 1, sizeof(*out->v));
    ENSURE(out->v, VT_ERR_NOMEM);
    size_t i;
    json_t *e;
    json_array_foreach(a, i, e) {
        out->v[i] = strdup(json_string_value(e));
        ENSURE(out->v[i], VT_ERR_NOMEM);
        out->n = i + 1;
    }
    return vti_ok();
}

static void free_list(struct str_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
}

/* A scalar's string form as the appraisal input writes claims. */
static vt_res compile_val(const json_t *v, struct claim_val *out)
{
    char tmp[32];
    if (json_is_boolean(v)) {
        out->text = strdup(json_is_true(v) ? "true" : "false");
    } else if (json_is_integer(v)) {
        snprintf(tmp, sizeof(tmp), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        out->text = strdup(tmp);
    } else {
        out->text = strdup(json_string_value(v));
        out->icase = true;
    }
    ENSURE(out->text, VT_ERR_NOMEM);
    return vti_ok();
}

static vt_res compile_claims(const json_t *claims, struct claim_cond **out, size_t *n_out)
{
    struct claim_cond *cc = *out = calloc(json_object_size(claims) + 1, sizeof(**out));
    ENSURE(cc, VT_ERR_NOMEM);
    const char *ck;
    json_t *cv;
    json_object_foreach(vti_unconst(claims), ck, cv) {
        struct claim_cond *c = &cc[(*n_out)++];
        c->name = strdup(ck);
        size_t n = json_is_array(cv) ? json_array_size(cv) : 1;
        c->vals = calloc(n, sizeof(*c->vals));
        ENSURE(c->name && c->vals, VT_ERR_NOMEM);
        for (size_t i = 0; i < n; i++) {
            GUARD(compile_val(json_is_array(cv) ? json_array_get(cv, i) : cv, &c->vals[i]));
            c->n = i + 1;
        }
    }
    return vti_ok();
}

static vt_res compile_refs(const json_t *ref, const struct vtb_snapshot *s, struct rule *r)
{
    r->refs = calloc(json_array_size(ref) + 1, sizeof(*r->refs));
    ENSURE(r->refs, VT_ERR_NOMEM);
    size_t i;
    json_t *e;
    json_array_foreach(ref, i, e) {
        struct ref_cond *c = &r->refs[r->n_refs++];
        c->name = strdup(json_string_value(e));
        c->rv = calloc(s->n_rv + 1, sizeof(*c->rv));
        ENSURE(c->name && c->rv, VT_ERR_NOMEM);
        for (size_t k = 0; k < s->n_rv; k++)
            if (strcmp(s->rv[k].name, c->name) == 0)
                c->rv[c->n_rv++] = k;
    }
    return vti_ok();
}

/* Whether a rule lets debug TEEs through: an explicit "debug" key decides; without it, only
 * a "claims" condition on debug that accepts true (the rule asks for debug evidence). */
static bool debug_allowed(const json_t *debug, const struct rule *r)
{
    if (debug)
        return json_is_true(debug);
    for (size_t i = 0; i < r->n_claims; i++) {
        if (strcmp(r->claims[i].name, "debug") != 0)
            continue;
        for (size_t k = 0; k < r->claims[i].n; k++)
            if (strcasecmp(r->claims[i].vals[k].text, "true") == 0)
                return true;
    }
    return false;
}

/* Rule idx of a validated policy (s's reference values are in place). */
static vt_res compile_rule(const json_t *j, size_t idx, const struct vtb_snapshot *s,
                           struct rule *r)
{
    const json_t *nm = json_object_get(j, "name");
    if (json_is_string(nm))
        snprintf(r->name, sizeof(r->name), "%s", json_string_value(nm));
    else /* unnamed: its position, so that the log still says which */
        snprintf(r->name, sizeof(r->name), "#%zu", idx + 1);
    GUARD(compile_list(json_object_get(j, "resources"), &r->resources));
    const json_t *tee = json_object_get(j, "tee"), *tcb = json_object_get(j, "tcb_status");
    r->has_tee = tee != NULL;
    r->has_tcb = tcb != NULL;
    if (tee) {
        GUARD(compile_list(tee, &r->tee));
        list_text(tee, r->tee_text, sizeof(r->tee_text));
    }
    if (tcb) {
        GUARD(compile_list(tcb, &r->tcb));
        list_text(tcb, r->tcb_text, sizeof(r->tcb_text));
    } else {
        snprintf(r->tcb_text, sizeof(r->tcb_text), "UpToDate, none");
    }
    GUARD(compile_refs(json_object_get(j, "reference"), s, r));
    GUARD(compile_claims(json_object_get(j, "claims"), &r->claims, &r->n_claims));
    r->allow_debug = debug_allowed(json_object_get(j, "debug"), r);
    const json_t *gpus = json_object_get(j, "gpus");
    r->has_gpus = gpus != NULL;
    if (gpus) {
        const json_t *cnt = json_object_get(gpus, "count");
        r->gpu_count = cnt ? (size_t)json_integer_value(cnt) : 1;
        GUARD(compile_claims(json_object_get(gpus, "claims"), &r->gpu_claims, &r->n_gpu_claims));
    }
    return vti_ok();
}

static void free_claims(struct claim_cond *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < c[i].n; k++)
            free(c[i].vals[k].text);
        free(c[i].vals);
        free(c[i].name);
    }
    free(c);
}

static void free_rule(struct rule *r)
{
    free_list(&r->resources);
    free_list(&r->tee);
    free_list(&r->tcb);
    for (size_t i = 0; i < r->n_refs; i++) {
        free(r->refs[i].name);
        free(r->refs[i].rv);
    }
    free(r->refs);
    free_claims(r->claims, r->n_claims);
    free_claims(r->gpu_claims, r->n_gpu_claims);
}

static vt_res compile_policy(const char *doc, struct vtb_snapshot *s)
{
    char why[200];
    json_t *j = parse_doc(doc, why, sizeof(why));
    ENSURE(j, VT_ERR_BROKER_BAD_POLICY);
    vt_res r = check_doc(j, why, sizeof(why));
    const json_t *rules = json_object_get(j, "rules");
    if (!r.err) {
        s->rules = calloc(json_array_size(rules) + 1, sizeof(*s->rules));
        if (!s->rules)
            r = VT_FAIL(VT_ERR_NOMEM);
    }
    for (size_t i = 0; !r.err && i < json_array_size(rules); i++) {
        s->n_rules = i + 1;
        r = compile_rule(json_array_get(rules, i), i, s, &s->rules[i]);
    }
    json_decref(j);
    return r;
}

/* ---- snapshots ---------------------------------------------------------------------- */

static vt_res copy_refvals(const struct vtb_refval *rv, size_t n_rv, struct vtb_snapshot *s)
{
    if (!n_rv)
        return vti_ok();
    s->rv = calloc(n_rv, sizeof(*s->rv));
    ENSURE(s->rv, VT_ERR_NOMEM);
    for (size_t i = 0; i < n_rv; i++) {
        s->rv[i] = rv[i];
        s->rv[i].name = strdup(rv[i].name ? rv[i].name : "");
        s->rv[i].value = strdup(rv[i].value ? rv[i].value : "");
        s->rv[i].source = strdup(rv[i].source ? rv[i].source : "");
        s->n_rv = i + 1;
        ENSURE(s->rv[i].name && s->rv[i].value && s->rv[i].source, VT_ERR_NOMEM);
    }
    return vti_ok();
}

vt_res vtb_snapshot_new(const char *policy_doc, const struct vtb_refval *rv, size_t n_rv,
                        struct vtb_snapshot **ret)
{
    ENSURE(n_rv <= VTB_MAX_REFVALS, VT_ERR_TOO_LARGE);
    struct vtb_snapshot *s = calloc(1, sizeof(*s));
    ENSURE(s, VT_ERR_NOMEM);
    s->refs = 1;
    vt_res r = copy_refvals(rv, n_rv, s);
    if (!r.err && policy_doc)
        r = compile_policy(policy_doc, s);
    if (r.err) {
        vtb_snapshot_unref(s);
        return r;
    }
    *ret = s;
    return vti_ok();
}

struct vtb_snapshot *vtb_snapshot_ref(struct vtb_snapshot *s)
{
    if (s)
        __atomic_add_fetch(&s->refs, 1, __ATOMIC_ACQ_REL);
    return s;
}

void vtb_snapshot_unref(struct vtb_snapshot *s)
{
    if (!s || __atomic_sub_fetch(&s->refs, 1, __ATOMIC_ACQ_REL) != 0)
        return;
    for (size_t i = 0; i < s->n_rules; i++)
        free_rule(&s->rules[i]);
    free(s->rules);
    for (size_t i = 0; i < s->n_rv; i++) {
        free(vti_unconst(s->rv[i].name));
        free(vti_unconst(s->rv[i].value));
        free(vti_unconst(s->rv[i].source));
    }
    free(s->rv);
    free(s);
}

bool vtb_snapshot_refval_match(const struct vtb_snapshot *s, const char *name,
                               const char *value, int64_t now, bool *has)
{
    bool match = false;
    *has = false;
    for (size_t i = 0; s && i < s->n_rv; i++) {
        if (strcmp(s->rv[i].name, name) != 0)
            continue;
        *has = true;
        if ((s->rv[i].expires == 0 || s->rv[i].expires > now) && value &&
            !strcmp(s->rv[i].value, value))
            match = true;
    }
    return match;
}

size_t vtb_snapshot_refval_join(const struct vtb_snapshot *s, const char *name, int64_t now,
                                char *out, size_t out_len)
{
    size_t used = 0, n = 0;
    if (out_len)
        out[0] = 0;
    for (size_t i = 0; s && i < s->n_rv; i++) {
        if (strcmp(s->rv[i].name, name) != 0 || (s->rv[i].expires != 0 && s->rv[i].expires <= now))
            continue;
        size_t l = strlen(s->rv[i].value);
        if (used + (used ? 1 : 0) + l + 1 > out_len)
            break;
        if (used)
            out[used++] = ',';
        memcpy(out + used, s->rv[i].value, l + 1);
        used += l;
        n++;
    }
    return n;
}

/* ---- the decision -------------------------------------------------------------------- */

static const char *claim_in(const struct vtb_claim_str *cl, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (cl[i].name && strcmp(cl[i].name, name) == 0)
            return cl[i].value;
    return NULL;
}

static const char *claim_get(const struct vtb_input *in, const char *name)
{
    return claim_in(in->claims, in->n_claims, name);
}

static bool in_list(const struct str_list *l, const char *s)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->v[i], s) == 0)
            return true;
    return false;
}

static bool matches_path(const struct rule *r, const char *path)
{
    for (size_t i = 0; i < r->resources.n; i++)
        if (vtp_path_match(r->resources.v[i], path))
            return true;
    return false;
}

static vt_res check_tee_tcb(const struct rule *r, const struct vtb_input *in, char *why,
                            size_t wl)
{
    if (r->has_tee && !in_list(&r->tee, in->tee ? in->tee : "")) {
        why_set(why, wl, "denied by policy: TEE %s not allowed (allowed: %s)",
                in->tee ? in->tee : "(none)", r->tee_text);
        return VT_FAIL(VT_ERR_BROKER_TEE_NOT_ALLOWED);
    }
    const char *st = in->tcb_status ? in->tcb_status : "none";
    bool tcb_ok = r->has_tcb ? in_list(&r->tcb, st)
                             : (!in->tcb_status || strcmp(in->tcb_status, "UpToDate") == 0);
    if (!tcb_ok) {
        why_set(why, wl, "denied by policy: TCB status %s not accepted (accepted: %s)", st,
                r->tcb_text);
        return VT_FAIL(VT_ERR_BROKER_TCB_NOT_ACCEPTED);
    }
    return vti_ok();
}

static vt_res check_ref(const struct vtb_snapshot *s, const struct ref_cond *c,
                        const struct vtb_input *in, int64_t now, char *why, size_t wl)
{
    const char *have = claim_get(in, c->name);
    if (!have) {
        why_set(why, wl, "denied by policy: claim %s missing from the evidence", c->name);
        return VT_FAIL(VT_ERR_BROKER_CLAIM_MISSING);
    }
    bool expired = false;
    int64_t exp_at = 0;
    for (size_t k = 0; k < c->n_rv; k++) {
        const struct vtb_refval *rv = &s->rv[c->rv[k]];
        if (strcasecmp(rv->value, have) != 0)
            continue;
        if (rv->expires != 0 && rv->expires <= now) {
            expired = true;
            exp_at = rv->expires;
            continue;
        }
        return vti_ok();
    }
    if (expired) {
        char t[32];
        vti_time_format(exp_at, t);
        why_set(why, wl, "denied by policy: reference value for %s expired at %s", c->name, t);
        return VT_FAIL(VT_ERR_BROKER_REFVAL_EXPIRED);
    }
    why_set(why, wl, c->n_rv ? "denied by policy: %s not in reference values"
                             : "denied by policy: %s not in reference values (none provisioned)",
            c->name);
    return VT_FAIL(VT_ERR_BROKER_REFVAL_MISMATCH);
}

/* c against the claims cl[n]; who prefixes the claim name in the reason ("" or "GPU 1 "). */
static vt_res check_claim_in(const struct claim_cond *c, const struct vtb_claim_str *cl, size_t n,
                             const char *who, char *why, size_t wl)
{
    const char *have = claim_in(cl, n, c->name);
    if (!have) {
        why_set(why, wl, "denied by policy: %sclaim %s missing from the evidence", who, c->name);
        return VT_FAIL(VT_ERR_BROKER_CLAIM_MISSING);
    }
    for (size_t i = 0; i < c->n; i++) {
        const struct claim_val *v = &c->vals[i];
        if (v->icase ? strcasecmp(v->text, have) == 0 : strcmp(have, v->text) == 0)
            return vti_ok();
    }
    why_set(why, wl, "denied by policy: %sclaim %s does not match the policy", who, c->name);
    return VT_FAIL(VT_ERR_BROKER_CLAIM_MISMATCH);
}

static vt_res check_claim(const struct claim_cond *c, const struct vtb_input *in, char *why,
                          size_t wl)
{
    return check_claim_in(c, in->claims, in->n_claims, "", why, wl);
}

/* "gpus": enough devices, every one verified and meeting the device claims. */
static vt_res check_gpus_input(const struct rule *r, const struct vtb_input *in, char *why,
                               size_t wl)
{
    if (!r->has_gpus)
        return vti_ok();
    if (in->n_devices < r->gpu_count) {
        why_set(why, wl, "denied by policy: rule %s requires %zu verified GPU(s), the evidence "
                         "has %zu", r->name, r->gpu_count, in->n_devices);
        return VT_FAIL(VT_ERR_BROKER_GPU_MISSING);
    }
    for (size_t d = 0; d < in->n_devices; d++) {
        const struct vtb_device *dev = &in->devices[d];
        if (!dev->verified) {
            why_set(why, wl, "denied by policy: GPU %zu failed verification: %.160s", d,
                    dev->reason ? dev->reason : "unknown reason");
            return VT_FAIL(VT_ERR_BROKER_GPU_FAILED);
        }
        char who[32];
        snprintf(who, sizeof(who), "GPU %zu ", d);
        for (size_t i = 0; i < r->n_gpu_claims; i++)
            GUARD(check_claim_in(&r->gpu_claims[i], dev->claims, dev->n_claims, who, why, wl));
    }
    return vti_ok();
}

/* TEEs whose verifier always reports the "debug" claim (src/verifiers/intel.c, snp.c; the
 * sim-sgx/sim-tdx/sim-snp evidence goes through the same verifiers; az-snp-vtpm / az-tdx-vtpm
 * report the inner snp / intel claims): for them an absent claim
 * is refused (fail closed). Other TEEs ("sim", "null") have no debug notion: absent = not
 * debug. */
static bool debug_claim_expected(const char *tee)
{
    static const char *const tees[] = { "sgx", "tdx", "snp", "az-snp-vtpm", "az-tdx-vtpm" };
    for (size_t i = 0; tee && i < sizeof(tees) / sizeof(tees[0]); i++)
        if (strcmp(tee, tees[i]) == 0)
            return true;
    return false;
}

/* Debug TEEs (the host can read their memory) only under a rule that allows debug. Any value
 * other than "false" counts as debug. */
static vt_res check_debug(const struct rule *r, const struct vtb_input *in, char *why,
                          size_t wl)
{
    const char *dbg = claim_get(in, "debug");
    if (!dbg && debug_claim_expected(in->tee)) {
        why_set(why, wl, "denied by policy: claim debug missing from the evidence");
        return VT_FAIL(VT_ERR_BROKER_CLAIM_MISSING);
    }
    if (!dbg || strcmp(dbg, "false") == 0 || r->allow_debug)
        return vti_ok();
    why_set(why, wl, "denied by policy: debug TEE refused: rule %s does not allow debug",
            r->name);
    return VT_FAIL(VT_ERR_BROKER_DEBUG_REFUSED);
}

/* One rule; VT_OK when every condition holds. */
static vt_res eval_rule(const struct vtb_snapshot *s, const struct rule *r,
                        const struct vtb_input *in, int64_t now, char *why, size_t wl)
{
    GUARD(check_tee_tcb(r, in, why, wl));
    for (size_t i = 0; i < r->n_refs; i++)
        GUARD(check_ref(s, &r->refs[i], in, now, why, wl));
    for (size_t i = 0; i < r->n_claims; i++) {
        vt_res c = check_claim(&r->claims[i], in, why, wl);
        if (c.err) { /* name the rule whose "claims" condition refused */
            size_t n = strnlen(why, wl);
            if (n < wl)
                snprintf(why + n, wl - n, " (rule %s)", r->name);
            return c;
        }
    }
    GUARD(check_gpus_input(r, in, why, wl));
    return check_debug(r, in, why, wl);
}

vt_res vtb_appraise(const struct vtb_snapshot *s, const struct vtb_input *in, const char *path,
                    int64_t now, char *rule_name, char *why, size_t why_len)
{
    char rule[64];
    vt_res r = vtb_appraise_rule(s, in, path, now, rule, why, why_len);
    if (!r.err && rule_name)
        snprintf(rule_name, 64, "%s", rule);
    return r;
}

vt_res vtb_appraise_rule(const struct vtb_snapshot *s, const struct vtb_input *in,
                         const char *path, int64_t now, char *rule_name, char *why,
                         size_t why_len)
{
    if (rule_name)
        rule_name[0] = '\0';
    ENSURE(s && in && path, VT_ERR_INVALID_ARG);
    vt_res first = vti_ok();
    bool matched = false;
    char first_why[256] = "";
    for (size_t i = 0; i < s->n_rules; i++) {
        const struct rule *rule = &s->rules[i];
        if (!matches_path(rule, path))
            continue;
        char w[256];
        vt_res r = eval_rule(s, rule, in, now, w, sizeof(w));
        if (!r.err) {
            if (rule_name)
                snprintf(rule_name, 64, "%s", rule->name);
            return vti_ok();
        }
        if (!matched) {
            first = r;
            snprintf(first_why, sizeof(first_why), "%s", w);
            if (rule_name)
                snprintf(rule_name, 64, "%s", rule->name);
            matched = true;
        }
    }
    if (!matched) {
        why_set(why, why_len, "denied by policy: no rule grants %s", path);
        return VT_FAIL(VT_ERR_BROKER_NO_RULE);
    }
    why_set(why, why_len, "%s", first_why);
    return first;
}

vt_res vtb_refval_normalize(const char *name, const char *value, char *out, size_t out_len)
{
    ENSURE(name && value, VT_ERR_BROKER_BAD_REFVAL);
    size_t nl = strlen(name), vl = strlen(value);
    ENSURE(nl >= 1 && nl <= 64 && vl >= 1 && vl <= 1024 && vl < out_len,
           VT_ERR_BROKER_BAD_REFVAL);
    for (size_t i = 0; i < nl; i++) {
        char c = name[i];
        ENSURE((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                   c == '_' || c == '.' || c == '-',
               VT_ERR_BROKER_BAD_REFVAL);
    }
    bool hex = vl % 2 == 0;
    for (size_t i = 0; i < vl; i++) {
        char c = value[i];
        ENSURE(c >= 0x20 && c < 0x7f, VT_ERR_BROKER_BAD_REFVAL);
        hex = hex && ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'));
    }
    for (size_t i = 0; i <= vl; i++) {
        char c = value[i];
        out[i] = hex && c >= 'A' && c <= 'F' ? (char)(c - 'A' + 'a') : c;
    }
    return vti_ok();
}
