/* SPDX-License-Identifier: Apache-2.0 */
/*
 * az_memo.c - content-keyed memos of the Azure evidence and HCL variable data parses (see
 * az_memo.h for the rules).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "verifiers/az_memo.h"

#define EV_SLOTS 4
#define VAR_SLOTS 8

struct key {
    uint8_t *p; /* a copy of the whole input; NULL: slot unused */
    size_t len;
    uint64_t last;
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static uint64_t tick;
static struct vti_az_memo_stats count;
static struct ev_slot {
    struct key k;
    struct vti_az_ev ev;
} evs[EV_SLOTS];
static struct var_slot {
    struct key k;
    struct vt_hcl_var_data var;
} vars[VAR_SLOTS];

/* ---- keys --------------------------------------------------------------------------------- */

static bool key_is(const struct key *k, const uint8_t *p, size_t len)
{
    return k->p && k->len == len && memcmp(k->p, p, len) == 0; /* lint: public (evidence) */
}

/* The slot (of n, stride bytes apart, each starting with its key) holding p, or n. Under mu. */
static size_t find(struct key *k0, size_t n, size_t stride, const uint8_t *p, size_t len)
{
    for (size_t i = 0; i < n; i++) {
        struct key *k = (struct key *)(void *)((char *)k0 + i * stride);
        if (key_is(k, p, len)) {
            k->last = ++tick;
            return i;
        }
    }
    return n;
}

/* An unused slot, else the least recently used one. Under mu. */
static size_t victim(struct key *k0, size_t n, size_t stride)
{
    size_t best = 0;
    for (size_t i = 0; i < n; i++) {
        struct key *k = (struct key *)(void *)((char *)k0 + i * stride);
        if (!k->p)
            return i;
        struct key *b = (struct key *)(void *)((char *)k0 + best * stride);
        if (k->last < b->last)
            best = i;
    }
    return best;
}

static bool key_set(struct key *k, const uint8_t *p, size_t len)
{
    uint8_t *c = malloc(len ? len : 1);
    if (!c)
        return false;
    memcpy(c, p, len);
    free(k->p);
    k->p = c;
    k->len = len;
    k->last = ++tick;
    return true;
}

static void key_drop(struct key *k)
{
    free(k->p);
    memset(k, 0, sizeof(*k));
}

static vt_res buf_copy(const struct vt_buf *from, struct vt_buf *to)
{
    *to = (struct vt_buf)VT_BUF_INIT;
    to->max = from->max;
    return from->p ? vti_buf_append(to, from->p, from->len) : vti_ok();
}

/* ---- evidence ----------------------------------------------------------------------------- */

static vt_res ev_copy(const struct vti_az_ev *from, struct vti_az_ev *to)
{
    memset(to, 0, sizeof(*to));
    to->version = from->version;
    to->tdx = from->tdx;
    to->vcek_pem = from->vcek_pem;
    memcpy(to->pcrs, from->pcrs, sizeof(to->pcrs));
    vt_res r = buf_copy(&from->sig, &to->sig);
    if (vti_is_ok(r))
        r = buf_copy(&from->msg, &to->msg);
    if (vti_is_ok(r))
        r = buf_copy(&from->hcl, &to->hcl);
    if (vti_is_ok(r))
        r = buf_copy(&from->vcek, &to->vcek);
    if (vti_is_ok(r))
        r = buf_copy(&from->td_quote, &to->td_quote);
    if (!vti_is_ok(r))
        vti_az_evidence_free(to);
    return r;
}

static bool ev_get(const uint8_t *p, size_t len, struct vti_az_ev *ev)
{
    pthread_mutex_lock(&mu);
    size_t i = find(&evs[0].k, EV_SLOTS, sizeof(evs[0]), p, len);
    bool hit = i < EV_SLOTS && vti_is_ok(ev_copy(&evs[i].ev, ev));
    if (hit)
        count.ev_hits++;
    else
        count.ev_misses++;
    pthread_mutex_unlock(&mu);
    return hit;
}

void vti_az_memo_put_evidence(const uint8_t *p, size_t len, const struct vti_az_ev *ev)
{
    struct vti_az_ev c;
    if (len > VT_AZ_MEMO_MAX_EVIDENCE || !vti_is_ok(ev_copy(ev, &c)))
        return;
    pthread_mutex_lock(&mu);
    bool have = find(&evs[0].k, EV_SLOTS, sizeof(evs[0]), p, len) < EV_SLOTS;
    struct ev_slot *s = have ? NULL : &evs[victim(&evs[0].k, EV_SLOTS, sizeof(evs[0]))];
    struct vti_az_ev old = { 0 };
    if (s && key_set(&s->k, p, len)) {
        old = s->ev;
        s->ev = c;
        memset(&c, 0, sizeof(c));
    }
    pthread_mutex_unlock(&mu);
    vti_az_evidence_free(&old);
    vti_az_evidence_free(&c); /* kept already, or no memory for the key */
}

vt_res vti_az_evidence_parse_memo(const uint8_t *p, size_t len, struct vti_az_ev *ev)
{
    if (len <= VT_AZ_MEMO_MAX_EVIDENCE && ev_get(p, len, ev))
        return vti_ok();
    GUARD(vti_az_evidence_parse(p, len, ev));
    vti_az_memo_put_evidence(p, len, ev);
    return vti_ok();
}

int vti_az_memo_kind(const uint8_t *p, size_t len)
{
    int kind = 0;
    pthread_mutex_lock(&mu);
    size_t i = len <= VT_AZ_MEMO_MAX_EVIDENCE ? find(&evs[0].k, EV_SLOTS, sizeof(evs[0]), p, len)
                                              : EV_SLOTS;
    if (i < EV_SLOTS)
        kind = evs[i].ev.tdx ? 2 : 1;
    pthread_mutex_unlock(&mu);
    return kind;
}

/* ---- variable data ------------------------------------------------------------------------ */

static vt_res var_copy(const struct vt_hcl_var_data *from, struct vt_hcl_var_data *to)
{
    memset(to, 0, sizeof(*to));
    vt_res r = buf_copy(&from->ak_n, &to->ak_n);
    if (vti_is_ok(r))
        r = buf_copy(&from->ak_e, &to->ak_e);
    if (!vti_is_ok(r)) {
        vti_hcl_var_data_free(to);
        return r;
    }
    to->root = json_incref(from->root); /* read-only from here on */
    to->vm_config = from->vm_config;    /* borrowed from root */
    memcpy(to->user_data, from->user_data, sizeof(to->user_data));
    to->user_data_len = from->user_data_len;
    return vti_ok();
}

static bool var_get(const uint8_t *p, size_t len, struct vt_hcl_var_data *out)
{
    pthread_mutex_lock(&mu);
    size_t i = find(&vars[0].k, VAR_SLOTS, sizeof(vars[0]), p, len);
    bool hit = i < VAR_SLOTS && vti_is_ok(var_copy(&vars[i].var, out));
    if (hit)
        count.var_hits++;
    else
        count.var_misses++;
    pthread_mutex_unlock(&mu);
    return hit;
}

static void var_put(const uint8_t *p, size_t len, const struct vt_hcl_var_data *v)
{
    struct vt_hcl_var_data c, old = { 0 };
    if (!vti_is_ok(var_copy(v, &c)))
        return;
    pthread_mutex_lock(&mu);
    bool have = find(&vars[0].k, VAR_SLOTS, sizeof(vars[0]), p, len) < VAR_SLOTS;
    struct var_slot *s = have ? NULL : &vars[victim(&vars[0].k, VAR_SLOTS, sizeof(vars[0]))];
    if (s && key_set(&s->k, p, len)) {
        old = s->var;
        s->var = c;
        memset(&c, 0, sizeof(c));
    }
    pthread_mutex_unlock(&mu);
    vti_hcl_var_data_free(&old);
    vti_hcl_var_data_free(&c);
}

vt_res vti_hcl_var_data_parse_memo(const uint8_t *p, size_t len, struct vt_hcl_var_data *out)
{
    if (len <= VT_HCL_MAX_VAR_DATA && var_get(p, len, out))
        return vti_ok();
    GUARD(vti_hcl_var_data_parse(p, len, out));
    var_put(p, len, out);
    return vti_ok();
}

/* ---- tests and benchmarks ----------------------------------------------------------------- */

void vti_az_memo_flush(void)
{
    pthread_mutex_lock(&mu);
    for (size_t i = 0; i < EV_SLOTS; i++) {
        key_drop(&evs[i].k);
        vti_az_evidence_free(&evs[i].ev);
        memset(&evs[i].ev, 0, sizeof(evs[i].ev));
    }
    for (size_t i = 0; i < VAR_SLOTS; i++) {
        key_drop(&vars[i].k);
        vti_hcl_var_data_free(&vars[i].var);
    }
    pthread_mutex_unlock(&mu);
}

void vti_az_memo_stats(struct vti_az_memo_stats *out)
{
    pthread_mutex_lock(&mu);
    *out = count;
    pthread_mutex_unlock(&mu);
}
