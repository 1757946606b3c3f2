/*
 * policy.c - appraisal policy: validation of the policy document, immutable snapshots of
 * policy + reference values, and the release decision (see policy.h for the format).
 *
 * Trust boundary: the policy document comes from the administrator (trusted but may be
 * wrong: it is validated strictly, unknown keys are errors); the input comes from verified
 * evidence (authentic but chosen by the workload: only compared, never interpreted).
 * Fail closed: no policy, no matching rule, an absent claim or an unknown condition deny.
 */
#include "broker/policy.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "proto/proto.h"
#include "util/codec.h"

struct vtb_snapshot {
    int refs; /* atomic */
    json_t *policy; /* validated; NULL = deny all */
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

static vt_res check_rule(const json_t *r, size_t idx, char *why, size_t wl)
{
    if (!json_is_object(r)) {
        why_set(why, wl, "rule %zu: not an object", idx);
        return VT_FAIL(VT_ERR_BROKER_BAD_POLICY);
    }
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)r, k, v) {
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
        } else if (strcmp(k, "claims") == 0) {
            if (!json_is_object(v)) {
                why_set(why, wl, "rule %zu: 'claims' must be an object", idx);
                return VT_FAIL(VT_ERR_BROKER_BAD_POLICY);
            }
            const char *ck;
            json_t *cv;
            json_object_foreach(v, ck, cv) {
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
        } else {
            why_set(why, wl, "rule %zu: unknown key '%.64s' (want name, resources, tee, "
                             "tcb_status, reference, claims)", idx, k);
            return VT_FAIL(VT_ERR_BROKER_BAD_POLICY);
        }
    }
    if (!json_object_get(r, "resources")) {
        why_set(why, wl, "rule %zu: 'resources' is required", idx);
        return VT_FAIL(VT_ERR_BROKER_BAD_POLICY);
    }
    return vt_ok();
}

static vt_res check_doc(const json_t *j, char *why, size_t wl)
{
    if (!json_is_object(j)) {
        why_set(why, wl, "policy must be a JSON object");
        return VT_FAIL(VT_ERR_BROKER_BAD_POLICY);
    }
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)j, k, v) {
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
    return vt_ok();
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

/* ---- snapshots ---------------------------------------------------------------------- */

vt_res vtb_snapshot_new(const char *policy_doc, const struct vtb_refval *rv, size_t n_rv,
                        struct vtb_snapshot **ret)
{
    ENSURE(n_rv <= VTB_MAX_REFVALS, VT_ERR_TOO_LARGE);
    struct vtb_snapshot *s = calloc(1, sizeof(*s));
    ENSURE(s, VT_ERR_NOMEM);
    s->refs = 1;
    vt_res r = vt_ok();
    if (policy_doc) {
        char why[200];
        s->policy = parse_doc(policy_doc, why, sizeof(why));
        ENSURE_GOTO(s->policy, VT_ERR_BROKER_BAD_POLICY, r, fail);
        GUARD_GOTO(check_doc(s->policy, why, sizeof(why)), r, fail);
    }
    if (n_rv) {
        s->rv = calloc(n_rv, sizeof(*s->rv));
        ENSURE_GOTO(s->rv, VT_ERR_NOMEM, r, fail);
        for (size_t i = 0; i < n_rv; i++) {
            s->rv[i] = rv[i];
            s->rv[i].name = strdup(rv[i].name ? rv[i].name : "");
            s->rv[i].value = strdup(rv[i].value ? rv[i].value : "");
            s->rv[i].source = strdup(rv[i].source ? rv[i].source : "");
            s->n_rv = i + 1;
            ENSURE_GOTO(s->rv[i].name && s->rv[i].value && s->rv[i].source, VT_ERR_NOMEM, r,
                        fail);
        }
    }
    *ret = s;
    return vt_ok();
fail:
    vtb_snapshot_unref(s);
    return r;
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
    json_decref(s->policy);
    for (size_t i = 0; i < s->n_rv; i++) {
        free((char *)s->rv[i].name);
        free((char *)s->rv[i].value);
        free((char *)s->rv[i].source);
    }
    free(s->rv);
    free(s);
}

/* ---- the decision -------------------------------------------------------------------- */

static const char *claim_get(const struct vtb_input *in, const char *name)
{
    for (size_t i = 0; i < in->n_claims; i++)
        if (in->claims[i].name && strcmp(in->claims[i].name, name) == 0)
            return in->claims[i].value;
    return NULL;
}

static bool in_list(const json_t *a, const char *s)
{
    size_t i;
    json_t *e;
    json_array_foreach(a, i, e) if (strcmp(json_string_value(e), s) == 0) return true;
    return false;
}

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

static bool scalar_eq(const json_t *want, const char *have)
{
    char tmp[32];
    if (json_is_boolean(want))
        return strcmp(have, json_is_true(want) ? "true" : "false") == 0;
    if (json_is_integer(want)) {
        snprintf(tmp, sizeof(tmp), "%" JSON_INTEGER_FORMAT, json_integer_value(want));
        return strcmp(have, tmp) == 0;
    }
    return json_is_string(want) && strcasecmp(json_string_value(want), have) == 0;
}

/* One rule; VT_OK when every condition holds. */
static vt_res eval_rule(const struct vtb_snapshot *s, const json_t *rule,
                        const struct vtb_input *in, int64_t now, char *why, size_t wl)
{
    char list[256];
    const json_t *tee = json_object_get(rule, "tee");
    if (tee && !in_list(tee, in->tee ? in->tee : "")) {
        list_text(tee, list, sizeof(list));
        why_set(why, wl, "denied by policy: TEE %s not allowed (allowed: %s)",
                in->tee ? in->tee : "(none)", list);
        return VT_FAIL(VT_ERR_BROKER_TEE_NOT_ALLOWED);
    }
    const json_t *tcb = json_object_get(rule, "tcb_status");
    const char *st = in->tcb_status ? in->tcb_status : "none";
    bool tcb_ok = tcb ? in_list(tcb, st)
                      : (!in->tcb_status || strcmp(in->tcb_status, "UpToDate") == 0);
    if (!tcb_ok) {
        if (tcb)
            list_text(tcb, list, sizeof(list));
        else
            snprintf(list, sizeof(list), "UpToDate, none");
        why_set(why, wl, "denied by policy: TCB status %s not accepted (accepted: %s)", st, list);
        return VT_FAIL(VT_ERR_BROKER_TCB_NOT_ACCEPTED);
    }
    const json_t *ref = json_object_get(rule, "reference");
    size_t i;
    json_t *e;
    json_array_foreach(ref, i, e) {
        const char *name = json_string_value(e);
        const char *have = claim_get(in, name);
        if (!have) {
            why_set(why, wl, "denied by policy: claim %s missing from the evidence", name);
            return VT_FAIL(VT_ERR_BROKER_CLAIM_MISSING);
        }
        bool any = false, expired = false, ok = false;
        int64_t exp_at = 0;
        for (size_t k = 0; k < s->n_rv && !ok; k++) {
            if (strcmp(s->rv[k].name, name) != 0)
                continue;
            any = true;
            if (strcasecmp(s->rv[k].value, have) != 0)
                continue;
            if (s->rv[k].expires != 0 && s->rv[k].expires <= now) {
                expired = true;
                exp_at = s->rv[k].expires;
                continue;
            }
            ok = true;
        }
        if (ok)
            continue;
        if (expired) {
            char t[32];
            vt_time_format(exp_at, t);
            why_set(why, wl, "denied by policy: reference value for %s expired at %s", name, t);
            return VT_FAIL(VT_ERR_BROKER_REFVAL_EXPIRED);
        }
        why_set(why, wl, any ? "denied by policy: %s not in reference values"
                             : "denied by policy: %s not in reference values (none provisioned)",
                name);
        return VT_FAIL(VT_ERR_BROKER_REFVAL_MISMATCH);
    }
    const json_t *claims = json_object_get(rule, "claims");
    const char *ck;
    json_t *cv;
    json_object_foreach((json_t *)claims, ck, cv) {
        const char *have = claim_get(in, ck);
        if (!have) {
            why_set(why, wl, "denied by policy: claim %s missing from the evidence", ck);
            return VT_FAIL(VT_ERR_BROKER_CLAIM_MISSING);
        }
        bool ok = false;
        if (json_is_array(cv)) {
            size_t k;
            json_t *w;
            json_array_foreach(cv, k, w) ok = ok || scalar_eq(w, have);
        } else {
            ok = scalar_eq(cv, have);
        }
        if (!ok) {
            why_set(why, wl, "denied by policy: claim %s does not match the policy", ck);
            return VT_FAIL(VT_ERR_BROKER_CLAIM_MISMATCH);
        }
    }
    return vt_ok();
}

vt_res vtb_appraise(const struct vtb_snapshot *s, const struct vtb_input *in, const char *path,
                    int64_t now, char *rule_name, char *why, size_t why_len)
{
    ENSURE(s && in && path, VT_ERR_INVALID_ARG);
    const json_t *rules = s->policy ? json_object_get(s->policy, "rules") : NULL;
    vt_res first = vt_ok();
    bool matched = false;
    char first_why[256] = "";
    size_t i;
    json_t *rule;
    json_array_foreach(rules, i, rule) {
        const json_t *res = json_object_get(rule, "resources");
        bool hit = false;
        size_t k;
        json_t *p;
        json_array_foreach(res, k, p) hit = hit || vtp_path_match(json_string_value(p), path);
        if (!hit)
            continue;
        char w[256];
        vt_res r = eval_rule(s, rule, in, now, w, sizeof(w));
        if (!r.err) {
            const json_t *nm = json_object_get(rule, "name");
            if (rule_name && json_is_string(nm))
                snprintf(rule_name, 64, "%s", json_string_value(nm));
            else if (rule_name) /* unnamed: its position, so that the log still says which */
                snprintf(rule_name, 64, "#%zu", i + 1);
            return vt_ok();
        }
        if (!matched) {
            first = r;
            snprintf(first_why, sizeof(first_why), "%s", w);
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
    return vt_ok();
}
