/* SPDX-License-Identifier: Apache-2.0 */
/*
 * state.c - the broker core's shared state (state.h): snapshot life cycle (reload from the
 * store, generation check for changes made by another broker on the same store), request
 * ids, the logger and audit records.
 */
#include "broker/state.h"

#include <openssl/rand.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

vt_res vtb_state_init(struct vtb_state *st, struct vtb_kms *kms)
{
    ENSURE(st, VT_ERR_INVALID_ARG);
    memset(st, 0, sizeof(*st));
    st->kms = kms;
    st->logged_gen = -1;
    pthread_mutex_init(&st->lock, NULL);
    pthread_mutex_init(&st->reload_lock, NULL);
    if (RAND_bytes((unsigned char *)&st->rid_prefix, sizeof(st->rid_prefix)) != 1)
        st->rid_prefix = (uint32_t)getpid();
    vt_res r = vtb_snapshot_new(NULL, NULL, 0, &st->snap);
    if (r.err) {
        pthread_mutex_destroy(&st->lock);
        pthread_mutex_destroy(&st->reload_lock);
    }
    return r;
}

void vtb_state_fini(struct vtb_state *st)
{
    if (!st)
        return;
    vtb_snapshot_unref(st->snap);
    st->snap = NULL;
    pthread_mutex_destroy(&st->lock);
    pthread_mutex_destroy(&st->reload_lock);
    st->kms = NULL;
}

/* ---- log, request ids, audit --------------------------------------------------------- */

void vtb_state_log(struct vtb_state *st, const char *fmt, ...)
{
    char line[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (st->sink) {
        st->sink(st->sink_arg, line);
        return;
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    pthread_mutex_lock(&st->lock);
    fprintf(stderr, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ veritee-broker: %s\n",
            tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
            ts.tv_nsec / 1000000, line);
    fflush(stderr);
    pthread_mutex_unlock(&st->lock);
}

void vtb_state_rid(struct vtb_state *st, const char *tag, char *out)
{
    uint64_t n = __atomic_add_fetch(&st->rid_next, 1, __ATOMIC_RELAXED);
    snprintf(out, 32, "%s%08x-%llu", tag ? tag : "", st->rid_prefix, (unsigned long long)n);
}

/* A failed append: logged, and VT_ERR_BROKER_AUDIT_FAILED (callers refuse the release). */
static vt_res audit_failed(struct vtb_state *st, const struct vtb_audit *au, vt_res r)
{
    vtb_state_log(st, "rid=%s audit append failed: %s%s", au->rid, vt_strerror(r.err),
                  strcmp(au->decision, "release") ? "" : ": the release is refused");
    return VT_FAIL(VT_ERR_BROKER_AUDIT_FAILED);
}

vt_res vtb_state_audit(struct vtb_state *st, const struct vtb_audit *au)
{
    vt_res r = vtb_kms_ops(st->kms)->audit_append(vtb_kms_store(st->kms), au);
    return r.err ? audit_failed(st, au, r) : r;
}

void vtb_state_audit_begin(struct vtb_state *st, const struct vtb_audit *au,
                           struct vtb_audit_pending *p)
{
    const struct vtb_store_ops *o = vtb_kms_ops(st->kms);
    *p = (struct vtb_audit_pending){ .a = au };
    if (o->audit_submit && o->audit_wait)
        o->audit_submit(vtb_kms_store(st->kms), p);
}

vt_res vtb_state_audit_end(struct vtb_state *st, struct vtb_audit_pending *p)
{
    const struct vtb_store_ops *o = vtb_kms_ops(st->kms);
    struct vtb_store *s = vtb_kms_store(st->kms);
    vt_res r = o->audit_submit && o->audit_wait ? o->audit_wait(s, p) : o->audit_append(s, p->a);
    return r.err ? audit_failed(st, p->a, r) : r;
}

/* ---- snapshot ------------------------------------------------------------------------ */

/* The refval table as an array for snapshots. */
struct rv_collect {
    struct vtb_refval *v;
    size_t n, cap;
    bool fail;
};

static void rv_collect_cb(const struct vtb_refval *r, void *arg)
{
    struct rv_collect *c = arg;
    if (c->fail)
        return;
    if (c->n == c->cap) {
        size_t nc = c->cap ? c->cap * 2 : 16;
        struct vtb_refval *nv = nc <= VTB_MAX_REFVALS ? realloc(c->v, nc * sizeof(*nv)) : NULL;
        if (!nv) {
            c->fail = true;
            return;
        }
        c->v = nv;
        c->cap = nc;
    }
    struct vtb_refval *d = &c->v[c->n];
    *d = *r;
    d->name = strdup(r->name);
    d->value = strdup(r->value);
    d->source = strdup(r->source ? r->source : "");
    c->n++;
    if (!d->name || !d->value || !d->source)
        c->fail = true;
}

static void rv_collect_free(struct rv_collect *c)
{
    for (size_t i = 0; i < c->n; i++) {
        free(vti_unconst(c->v[i].name));
        free(vti_unconst(c->v[i].value));
        free(vti_unconst(c->v[i].source));
    }
    free(c->v);
}

/* Every reference value must carry its own tag (kms.c): one that does not authenticate
 * refuses the whole snapshot (the last good one stays). */
static vt_res refvals_authentic(struct vtb_kms *k, const struct rv_collect *c)
{
    for (size_t i = 0; i < c->n; i++)
        GUARD(vtb_kms_refval_check_row(k, &c->v[i]));
    return vti_ok();
}

/* The policy row (NULL *doc when none was ever set), authenticated. */
static vt_res policy_authentic(struct vtb_kms *k, struct vt_buf *pol, bool *have)
{
    const struct vtb_store_ops *ops = vtb_kms_ops(k);
    uint8_t mac[VTB_MAC_LEN];
    bool has_mac = false;
    int64_t updated = 0;
    *have = false;
    ENSURE(ops->policy_read, VT_ERR_UNSUPPORTED);
    vt_res r = ops->policy_read(vtb_kms_store(k), pol, &updated, mac, &has_mac);
    if (r.err == VT_ERR_NOT_FOUND)
        return vti_ok();
    GUARD(r);
    GUARD(vtb_kms_policy_check_row(k, (const char *)pol->p, updated, mac, has_mac));
    *have = true;
    return vti_ok();
}

/* Build a snapshot from the store; *gen gets the generation read before the contents. */
static vt_res snapshot_from_store(struct vtb_state *st, struct vtb_snapshot **ret, int64_t *gen)
{
    const struct vtb_store_ops *ops = vtb_kms_ops(st->kms);
    struct vtb_store *s = vtb_kms_store(st->kms);
    struct vt_buf pol = VT_BUF_INIT;
    struct rv_collect c = { 0 };
    bool have_policy = false;
    *gen = 0;
    /* the generation first: a change committed while we read is then seen again by the next
     * generation check (never a new generation recorded with old contents) */
    vt_res r = ops->policy_generation ? ops->policy_generation(s, gen) : vti_ok();
    if (!r.err)
        r = policy_authentic(st->kms, &pol, &have_policy);
    if (!r.err)
        r = ops->refval_list(s, rv_collect_cb, &c);
    if (!r.err && c.fail)
        r = VT_FAIL(VT_ERR_NOMEM);
    if (!r.err)
        r = refvals_authentic(st->kms, &c);
    if (!r.err)
        r = vtb_snapshot_new(have_policy ? (const char *)pol.p : NULL, c.v, c.n, ret);
    rv_collect_free(&c);
    vti_buf_free_nowipe(&pol);
    return r;
}

static bool integrity_error(int err)
{
    return err == VT_ERR_BROKER_POLICY_TAMPERED || err == VT_ERR_BROKER_POLICY_UNAUTHENTICATED;
}

/* A store whose policy or reference values do not authenticate: the snapshot is not
 * replaced, the state says so (/healthz, /metrics), and the log says it once per store
 * generation. */
static void note_integrity(struct vtb_state *st, int err, int64_t gen)
{
    __atomic_store_n(&st->integrity_err, err, __ATOMIC_RELEASE);
    if (!err)
        return;
    __atomic_add_fetch(&st->integrity_failures, 1, __ATOMIC_RELAXED);
    pthread_mutex_lock(&st->lock);
    st->tried_gen = gen;
    bool first = st->logged_gen != gen;
    st->logged_gen = gen;
    pthread_mutex_unlock(&st->lock);
    if (first)
        vtb_state_log(st, "POLICY STORE INTEGRITY: %s (%s, store generation %lld): not applied, "
                      "keeping the last good policy and reference values",
                      vt_strerror(err), vt_errname(err), (long long)gen);
}

vt_res vtb_state_reload(struct vtb_state *st)
{
    pthread_mutex_lock(&st->reload_lock);
    struct vtb_snapshot *s = NULL;
    int64_t gen = 0;
    vt_res r = snapshot_from_store(st, &s, &gen);
    if (!r.err) {
        pthread_mutex_lock(&st->lock);
        struct vtb_snapshot *old = st->snap;
        st->snap = s;
        st->snap_gen = gen;
        st->tried_gen = gen;
        pthread_mutex_unlock(&st->lock);
        vtb_snapshot_unref(old);
        note_integrity(st, 0, gen);
    } else if (integrity_error(r.err)) {
        note_integrity(st, r.err, gen);
    }
    pthread_mutex_unlock(&st->reload_lock);
    return r;
}

int vtb_state_integrity(struct vtb_state *st, uint64_t *failures)
{
    if (failures)
        *failures = __atomic_load_n(&st->integrity_failures, __ATOMIC_RELAXED);
    return __atomic_load_n(&st->integrity_err, __ATOMIC_ACQUIRE);
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Another broker on the same store may have changed policy or reference values. At most every
 * VTB_GEN_CHECK_MS one request thread (the one that wins the compare-and-swap) reads the
 * store's generation and, when it moved, rebuilds the snapshot before it appraises; the other
 * threads keep the current snapshot meanwhile (readers never wait for a rebuild). A failed
 * read keeps the current snapshot: the next check retries. */
static void check_generation(struct vtb_state *st)
{
    const struct vtb_store_ops *ops = vtb_kms_ops(st->kms);
    if (!ops->policy_generation)
        return;
    int64_t now = mono_ms();
    int64_t last = __atomic_load_n(&st->gen_checked_ms, __ATOMIC_RELAXED);
    if (now - last < VTB_GEN_CHECK_MS)
        return;
    if (!__atomic_compare_exchange_n(&st->gen_checked_ms, &last, now, false, __ATOMIC_ACQ_REL,
                                     __ATOMIC_RELAXED))
        return;
    int64_t gen = 0;
    vt_res r = ops->policy_generation(vtb_kms_store(st->kms), &gen);
    if (r.err) {
        vtb_state_log(st, "policy generation check: %s (keeping the current policy)",
                      vt_errname(r.err));
        return;
    }
    pthread_mutex_lock(&st->lock);
    int64_t have = st->snap_gen;
    bool tried = gen == st->tried_gen; /* this generation already refused (integrity) */
    pthread_mutex_unlock(&st->lock);
    if (gen == have || tried)
        return;
    r = vtb_state_reload(st);
    vtb_state_log(st, "policy/reference values changed in the store (generation %lld -> %lld): %s",
                  (long long)have, (long long)gen,
                  r.err ? "reload failed (keeping the old ones)" : "reloaded");
}

struct vtb_snapshot *vtb_state_snapshot(struct vtb_state *st)
{
    check_generation(st);
    pthread_mutex_lock(&st->lock);
    struct vtb_snapshot *s = vtb_snapshot_ref(st->snap);
    pthread_mutex_unlock(&st->lock);
    return s;
}
