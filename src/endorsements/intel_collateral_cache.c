/* SPDX-License-Identifier: Apache-2.0 */
/*
 * intel_collateral_cache.c - the loaded collateral of a --collateral path, kept per path.
 *
 * Owns: vti_intel_collateral_load_path_cached. Loading a PCS files directory (read, recognise,
 * parse X.509 / JSON / CRLs) costs far more than the signatures of a verification, so a
 * successful load is kept with the stamps of everything it read (src/util/fstamp.h: the path
 * and every entry of a directory). Each use stats them again; any difference is a miss and
 * the path is loaded again. A load is kept only when every stamp is settled (older than
 * VTI_FSTAMP_RACY_NS before it started) and unchanged after it.
 * Trust boundary: the cache holds untrusted bytes exactly as loaded (never a verdict); the
 * verifier checks what it gets as before (its chain cache is keyed by the content digest).
 * Thread-safe: one mutex; callers get a deep copy. Bounded: SLOTS paths, oldest replaced.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "endorsements/intel_collateral.h"
#include "util/fstamp.h"

#define SLOTS 8

struct entry {
    struct vti_fstamp st; /* what the load read (st.path: the key) */
    struct vt_intel_collateral col;
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct entry *slots[SLOTS];
static size_t next_slot;
static uint64_t n_hits, n_misses;

static void entry_free(struct entry *e)
{
    if (!e)
        return;
    vti_intel_collateral_free(&e->col);
    vti_fstamp_free(&e->st);
    free(e);
}

/* A hit: a deep copy of the slot for path whose files are unchanged. Under mu. */
static bool lookup(const char *path, struct vt_intel_collateral *c, vt_res *r)
{
    for (size_t i = 0; i < SLOTS; i++) {
        struct entry *e = slots[i];
        if (!e || strcmp(e->st.path, path) != 0)
            continue;
        if (!vti_fstamp_same(&e->st)) {
            slots[i] = NULL;
            entry_free(e);
            return false;
        }
        *r = vti_intel_collateral_copy(&e->col, c);
        c->has_digest = vti_is_ok(*r);
        memcpy(c->digest, e->col.digest, 32);
        return true;
    }
    return false;
}

static void insert(struct entry *e)
{
    pthread_mutex_lock(&mu);
    for (size_t i = 0; i < SLOTS; i++)
        if (slots[i] && strcmp(slots[i]->st.path, e->st.path) == 0) {
            entry_free(slots[i]);
            slots[i] = NULL;
        }
    struct entry *old = slots[next_slot];
    slots[next_slot] = e;
    next_slot = (next_slot + 1) % SLOTS;
    pthread_mutex_unlock(&mu);
    entry_free(old);
}

/* Load path and keep the result when it succeeded and its files were settled and unchanged
 * from before the load to after it. */
static vt_res load_and_keep(const char *path, struct vt_intel_collateral *c)
{
    int64_t t0 = vti_fstamp_now_ns();
    struct entry *e = calloc(1, sizeof(*e));
    bool keep = e && vti_fstamp_take(&e->st, path, VT_INTEL_MAX_DIR_FILES) &&
                vti_fstamp_settled(&e->st, t0);
    vt_res r = vti_intel_collateral_load_path(path, c);
    keep = keep && vti_is_ok(r) && vti_fstamp_same(&e->st) &&
           vti_is_ok(vti_intel_collateral_copy(c, &e->col)) &&
           vti_is_ok(vti_intel_collateral_digest(&e->col, e->col.digest));
    if (e)
        e->col.has_digest = keep;
    if (keep)
        insert(e);
    else
        entry_free(e);
    return r;
}

vt_res vti_intel_collateral_load_path_cached(const char *path, struct vt_intel_collateral *c,
                                             bool *from_cache)
{
    ENSURE(path, VT_ERR_NOT_FOUND);
    vt_res r = vti_ok();
    pthread_mutex_lock(&mu);
    bool hit = lookup(path, c, &r);
    if (hit)
        n_hits++;
    else
        n_misses++;
    pthread_mutex_unlock(&mu);
    if (from_cache)
        *from_cache = hit;
    return hit ? r : load_and_keep(path, c);
}

void vti_intel_collateral_cache_flush(void)
{
    pthread_mutex_lock(&mu);
    for (size_t i = 0; i < SLOTS; i++) {
        entry_free(slots[i]);
        slots[i] = NULL;
    }
    pthread_mutex_unlock(&mu);
}

void vti_intel_collateral_cache_stats(uint64_t *hits, uint64_t *misses)
{
    pthread_mutex_lock(&mu);
    *hits = n_hits;
    *misses = n_misses;
    pthread_mutex_unlock(&mu);
}
