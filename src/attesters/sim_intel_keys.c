/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sim_intel_keys.c - memoized loading of the sim Intel PKI's signing material (see the
 * header). The cache key is a copy of every byte of the five files, each length-prefixed,
 * compared in full: a hit means the files hold exactly the bytes an earlier successful load
 * decoded, so it yields exactly what decoding them again would. On a miss the objects are
 * decoded from the bytes just read (never re-read), so what is cached is what was compared.
 * Keys are shared read-only (reference counted), as the openssl crypto backend shares keys.
 */
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "attesters/sim_common.h"
#include "attesters/sim_intel_keys.h"
#include "util/secmem.h"

#define SLOTS 4
#define NFILES 5

struct slot {
    bool used;
    unsigned long last;
    struct vt_buf raw; /* the five files, each as u32le length || bytes (holds keys: wiped) */
    struct vti_sim_intel_keys k;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct slot slots[SLOTS];
static unsigned long tick, n_hits, n_misses;

/* The five files, in key order, as one length-prefixed buffer; per-file copies in f[]. */
static vt_res read_all(const char *dir, const char *pname, struct vt_buf f[NFILES],
                       struct vt_buf *raw)
{
    char pem[64], key[64];
    ENSURE((size_t)snprintf(pem, sizeof(pem), "%s.pem", pname) < sizeof(pem) &&
           (size_t)snprintf(key, sizeof(key), "%s.key", pname) < sizeof(key), VT_ERR_INVALID_ARG);
    const char *names[NFILES] = { pem, key, "pck-ca.pem", "root.pem", "ak.key" };
    for (int i = 0; i < NFILES; i++) {
        vt_res r = vti_sim_read(dir, "intel", names[i], &f[i]);
        ENSURE(vti_is_ok(r) || r.err == VT_ERR_NOMEM, VT_ERR_SIM_DIR_INVALID);
        GUARD(r);
        GUARD(vti_buf_u32le(raw, (uint32_t)f[i].len));
        GUARD(vti_buf_append(raw, f[i].p, f[i].len));
    }
    return vti_ok();
}

static X509 *pem_x509(const struct vt_buf *b)
{
    BIO *m = BIO_new_mem_buf(b->p, (int)b->len);
    X509 *x = m ? PEM_read_bio_X509(m, NULL, NULL, NULL) : NULL;
    BIO_free(m);
    return x;
}

static EVP_PKEY *pem_key(const struct vt_buf *b)
{
    BIO *m = BIO_new_mem_buf(b->p, (int)b->len);
    EVP_PKEY *k = m ? PEM_read_bio_PrivateKey(m, NULL, NULL, NULL) : NULL;
    BIO_free(m);
    return k;
}

/* Decode the files: keys, and the chain re-encoded from the parsed certificates. */
static vt_res decode(struct vt_buf f[NFILES], struct vti_sim_intel_keys *k)
{
    X509 *x[3] = { pem_x509(&f[0]), pem_x509(&f[2]), pem_x509(&f[3]) };
    k->pck_key = pem_key(&f[1]);
    k->ak = pem_key(&f[4]);
    vt_res r = x[0] && x[1] && x[2] && k->pck_key && k->ak ? vti_ok()
                                                           : VT_FAIL(VT_ERR_SIM_DIR_INVALID);
    for (int i = 0; i < 3 && vti_is_ok(r); i++)
        r = vti_sim_x509_pem(x[i], &k->chain);
    if (vti_is_ok(r))
        r = vti_buf_u8(&k->chain, 0);
    for (int i = 0; i < 3; i++)
        X509_free(x[i]);
    return r;
}

/* out = shared references to k's keys and a copy of its chain. */
static vt_res share(const struct vti_sim_intel_keys *k, struct vti_sim_intel_keys *out)
{
    GUARD(vti_buf_append(&out->chain, k->chain.p, k->chain.len));
    ENSURE(EVP_PKEY_up_ref(k->pck_key) == 1, VT_ERR_CRYPTO);
    out->pck_key = k->pck_key;
    ENSURE(EVP_PKEY_up_ref(k->ak) == 1, VT_ERR_CRYPTO);
    out->ak = k->ak;
    return vti_ok();
}

static void slot_clear(struct slot *s)
{
    vti_buf_free(&s->raw);
    vti_sim_intel_keys_free(&s->k);
    s->used = false;
}

/* A copy of the entry whose bytes equal raw: true on a hit. Caller holds lock. */
static bool lookup(const struct vt_buf *raw, struct vti_sim_intel_keys *out, vt_res *r)
{
    for (int i = 0; i < SLOTS; i++) {
        struct slot *s = &slots[i];
        if (s->used && s->raw.len == raw->len && vti_ct_eq(s->raw.p, raw->p, raw->len)) {
            s->last = ++tick;
            *r = share(&s->k, out);
            return true;
        }
    }
    return false;
}

/* Keep a successful load (takes raw; shares k's keys). Caller holds lock. */
static void insert(struct vt_buf *raw, const struct vti_sim_intel_keys *k)
{
    struct slot *v = &slots[0];
    for (int i = 0; i < SLOTS && v->used; i++)
        if (!slots[i].used || slots[i].last < v->last)
            v = &slots[i];
    slot_clear(v);
    if (!vti_is_ok(share(k, &v->k))) {
        vti_sim_intel_keys_free(&v->k);
        return;
    }
    v->raw = *raw;
    *raw = (struct vt_buf)VT_BUF_INIT;
    v->used = true;
    v->last = ++tick;
}

vt_res vti_sim_intel_keys_load(const char *dir, const char *pname, struct vti_sim_intel_keys *out)
{
    struct vt_buf f[NFILES] = { VT_BUF_INIT, VT_BUF_INIT, VT_BUF_INIT, VT_BUF_INIT, VT_BUF_INIT };
    struct vt_buf raw = VT_BUF_INIT;
    *out = (struct vti_sim_intel_keys){ NULL, NULL, VT_BUF_INIT };
    vt_res r = read_all(dir, pname, f, &raw);
    bool hit = false;
    if (vti_is_ok(r)) {
        pthread_mutex_lock(&lock);
        hit = lookup(&raw, out, &r);
        n_hits += hit;
        n_misses += !hit;
        pthread_mutex_unlock(&lock);
    }
    if (vti_is_ok(r) && !hit)
        r = decode(f, out);
    if (vti_is_ok(r) && !hit) {
        pthread_mutex_lock(&lock);
        insert(&raw, out);
        pthread_mutex_unlock(&lock);
    }
    for (int i = 0; i < NFILES; i++)
        vti_buf_free(&f[i]);
    vti_buf_free(&raw);
    if (!vti_is_ok(r))
        vti_sim_intel_keys_free(out);
    return r;
}

void vti_sim_intel_keys_free(struct vti_sim_intel_keys *k)
{
    EVP_PKEY_free(k->pck_key);
    EVP_PKEY_free(k->ak);
    k->pck_key = k->ak = NULL;
    vti_buf_free_nowipe(&k->chain);
}

void vti_sim_intel_keys_flush(void)
{
    pthread_mutex_lock(&lock);
    for (int i = 0; i < SLOTS; i++)
        slot_clear(&slots[i]);
    pthread_mutex_unlock(&lock);
}

void vti_sim_intel_keys_stats(unsigned long *hits, unsigned long *misses)
{
    pthread_mutex_lock(&lock);
    *hits = n_hits;
    *misses = n_misses;
    pthread_mutex_unlock(&lock);
}
