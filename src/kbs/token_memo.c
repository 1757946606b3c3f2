/* SPDX-License-Identifier: Apache-2.0 */
/*
 * token_memo.c - verified EAR tokens (token_memo.h says what may be memoized and why).
 * A direct-mapped table: the slot comes from a hash of the token's last bytes (its signature,
 * different in every token); the slot holds a copy of the whole token, compared in full.
 * A collision only evicts; it never answers for another token.
 */
#include "kbs/token_memo.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "util/secmem.h"

#define IAT_SKEW 60 /* the same allowance as vtk_ear_verify() */

struct slot {
    uint8_t *tok;
    size_t n;
    struct vtk_token_result res;
    int64_t iat, exp;
};

struct vtk_token_memo {
    pthread_mutex_t lock;
    struct slot slot[VTK_TOKEN_MEMO_SLOTS];
    atomic_uint_fast64_t hits, misses;
};

struct vtk_token_memo *vtk_token_memo_new(void)
{
    struct vtk_token_memo *m = calloc(1, sizeof(*m));
    if (m && pthread_mutex_init(&m->lock, NULL) != 0) {
        free(m);
        m = NULL;
    }
    return m;
}

static void slot_clear(struct slot *s)
{
    if (s->tok)
        vti_memzero(s->tok, s->n); /* a bearer credential */
    free(s->tok);
    json_decref(s->res.claims);
    EVP_PKEY_free(s->res.key);
    memset(s, 0, sizeof(*s));
}

void vtk_token_memo_free(struct vtk_token_memo *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < VTK_TOKEN_MEMO_SLOTS; i++)
        slot_clear(&m->slot[i]);
    pthread_mutex_destroy(&m->lock);
    free(m);
}

/* FNV-1a over the last 64 bytes (at most): the slot index, nothing more. */
static size_t slot_of(const uint8_t *tok, size_t n)
{
    uint64_t h = 0xcbf29ce484222325u;
    for (size_t i = n > 64 ? n - 64 : 0; i < n; i++)
        h = (h ^ tok[i]) * 0x100000001b3u;
    return (size_t)(h % VTK_TOKEN_MEMO_SLOTS);
}

bool vtk_token_memo_get(struct vtk_token_memo *m, const uint8_t *tok, size_t n, int64_t now,
                        struct vtk_token_result *out)
{
    if (!m || !n || n > VTK_TOKEN_MEMO_MAX_TOKEN)
        return false;
    struct slot *s = &m->slot[slot_of(tok, n)];
    bool hit = false;
    pthread_mutex_lock(&m->lock);
    if (s->tok && s->n == n && vti_ct_eq(s->tok, tok, n)) {
        if (s->exp > now && s->iat <= now + IAT_SKEW && EVP_PKEY_up_ref(s->res.key) == 1) {
            *out = s->res;
            json_incref(out->claims);
            hit = true;
        } else {
            slot_clear(s); /* expired (or not yet valid): the verifier answers */
        }
    }
    pthread_mutex_unlock(&m->lock);
    atomic_fetch_add(hit ? &m->hits : &m->misses, 1);
    return hit;
}

void vtk_token_memo_put(struct vtk_token_memo *m, const uint8_t *tok, size_t n,
                        const struct vtk_token_result *res)
{
    const json_t *iat = json_object_get(res->claims, "iat"), *exp = json_object_get(res->claims,
                                                                                   "exp");
    if (!m || !n || n > VTK_TOKEN_MEMO_MAX_TOKEN || !res->key || !json_is_integer(iat) ||
        !json_is_integer(exp))
        return;
    struct slot fresh = { .tok = malloc(n), .n = n, .res = *res,
                          .iat = json_integer_value(iat), .exp = json_integer_value(exp) };
    if (!fresh.tok || EVP_PKEY_up_ref(res->key) != 1) {
        free(fresh.tok); /* nothing copied into it yet */
        return;
    }
    memcpy(fresh.tok, tok, n);
    json_incref(fresh.res.claims);
    struct slot *s = &m->slot[slot_of(tok, n)], old;
    pthread_mutex_lock(&m->lock);
    old = *s;
    *s = fresh;
    pthread_mutex_unlock(&m->lock);
    slot_clear(&old);
}

void vtk_token_memo_stats(struct vtk_token_memo *m, struct vtk_token_memo_stats *out)
{
    memset(out, 0, sizeof(*out));
    if (!m)
        return;
    out->hits = atomic_load(&m->hits);
    out->misses = atomic_load(&m->misses);
    pthread_mutex_lock(&m->lock);
    for (size_t i = 0; i < VTK_TOKEN_MEMO_SLOTS; i++)
        out->entries += m->slot[i].tok != NULL;
    pthread_mutex_unlock(&m->lock);
}
