/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tpm_ak_certs.c - the certificates of a --root-ca / --collateral path, loaded and kept per
 * path (see tpm_ak_certs.h).
 *
 * Loading (read, PEM decode, cert_parse of every certificate: an OpenSSL 3.0 decoder chain
 * each; only the names are used, so no self-signature check is asked for) cost far more than
 * the quote's signature, on every verification. A successful load is kept with the stamps of
 * everything it read (src/util/fstamp.h, as the Intel collateral cache does it): the path and,
 * for a directory, every entry. Each use stats them again; any difference is a miss and the
 * path is loaded again. A load is kept only when every stamp is settled (older than
 * VTI_FSTAMP_RACY_NS before it started) and unchanged after it. Thread-safe: one mutex; sets
 * are immutable and reference counted. Bounded: SLOTS paths, oldest replaced.
 */
#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/buf.h"
#include "util/fstamp.h"
#include "verifiers/tpm_ak_certs.h"

#define SLOTS 8
#define MAX_FILE (1u << 20)

struct set {
    struct vti_tpm_certset s; /* first: the public view */
    atomic_size_t refs;
};

struct entry {
    struct vti_fstamp st; /* what the load read (st.path and root: the key) */
    bool root;
    struct set *set;
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct entry *slots[SLOTS];
static size_t next_slot;
static uint64_t n_hits, n_misses;

/* ---- sets ------------------------------------------------------------------------------ */

static void set_free(struct set *s)
{
    for (size_t i = 0; i < s->s.n; i++)
        vti_buf_free_nowipe(&s->s.c[i].der);
    free(s);
}

void vti_tpm_certset_put(const struct vti_tpm_certset *p)
{
    struct set *s = (struct set *)(uintptr_t)p; /* the set that holds p (first member) */
    if (s && atomic_fetch_sub(&s->refs, 1) == 1)
        set_free(s);
}

static const struct vti_tpm_certset *set_ref(struct set *s)
{
    atomic_fetch_add(&s->refs, 1);
    return &s->s;
}

/* Append der (taken) with its names. */
static void set_add(const struct vt_crypto_ops *cr, struct set *s, struct vt_buf *der)
{
    struct vti_tpm_cert *c = &s->s.c[s->s.n++];
    struct vt_cert_info ci;
    c->der = *der;
    *der = (struct vt_buf)VT_BUF_INIT;
    if (cr->cert_parse(c->der.p, c->der.len, 0, &ci).err)
        return;
    c->named = true;
    c->self_issued = ci.self_issued;
    snprintf(c->subject, sizeof(c->subject), "%s", ci.subject);
    snprintf(c->issuer, sizeof(c->issuer), "%s", ci.issuer);
    vti_cert_info_free(&ci);
}

/* Every certificate of a PEM or DER file. strict: an unreadable file or one without a
 * certificate is VT_ERR_TPM_ROOT_CA; else it is skipped. */
static vt_res load_file(const struct vt_crypto_ops *cr, const char *path, bool strict,
                        struct set *out)
{
    struct vt_buf b = VT_BUF_INIT;
    vt_res r = vti_file_read(path, MAX_FILE, &b);
    size_t before = out->s.n;
    if (vti_is_ok(r) && vti_pem_has(b.p, b.len, "CERTIFICATE")) {
        struct vt_pem_list pl = { 0 };
        r = vti_pem_decode(b.p, b.len, "CERTIFICATE", &pl);
        for (size_t i = 0; vti_is_ok(r) && i < pl.n && out->s.n < VTI_TPM_MAX_CERTS; i++)
            set_add(cr, out, &pl.der[i]);
        vti_pem_list_free(&pl);
    } else if (vti_is_ok(r) && out->s.n < VTI_TPM_MAX_CERTS) {
        struct vt_cert_info ci;
        r = cr->cert_parse(b.p, b.len, 0, &ci);
        if (vti_is_ok(r)) {
            vti_cert_info_free(&ci);
            set_add(cr, out, &b);
        }
    }
    vti_buf_free_nowipe(&b);
    if (strict && (!vti_is_ok(r) || out->s.n == before))
        return VT_FAIL(VT_ERR_TPM_ROOT_CA);
    return vti_ok();
}

/* A root file, or the collateral: one file, or every regular file of a directory. */
static vt_res load_path(const struct vt_crypto_ops *cr, const char *path, bool root,
                        struct set *out)
{
    struct stat st;
    if (root)
        return load_file(cr, path, true, out);
    ENSURE(stat(path, &st) == 0, VT_ERR_TPM_ROOT_CA);
    if (!S_ISDIR(st.st_mode))
        return load_file(cr, path, true, out);
    DIR *d = opendir(path);
    ENSURE(d, VT_ERR_TPM_ROOT_CA);
    struct dirent *de;
    char p[4096];
    while ((de = readdir(d)) != NULL && out->s.n < VTI_TPM_MAX_CERTS) {
        if (de->d_name[0] == '.')
            continue;
        if (snprintf(p, sizeof(p), "%s/%s", path, de->d_name) >= (int)sizeof(p))
            continue;
        if (stat(p, &st) == 0 && S_ISREG(st.st_mode) && st.st_size <= (off_t)MAX_FILE)
            (void)load_file(cr, p, false, out);
    }
    closedir(d);
    return vti_ok();
}

/* ---- the cache ------------------------------------------------------------------------- */

static void entry_free(struct entry *e)
{
    if (!e)
        return;
    if (e->set)
        vti_tpm_certset_put(&e->set->s);
    vti_fstamp_free(&e->st);
    free(e);
}

/* A hit: the set for (path, root) whose files are unchanged. Under mu. */
static const struct vti_tpm_certset *lookup(const char *path, bool root)
{
    for (size_t i = 0; i < SLOTS; i++) {
        struct entry *e = slots[i];
        if (!e || e->root != root || strcmp(e->st.path, path) != 0)
            continue;
        if (!vti_fstamp_same(&e->st)) {
            slots[i] = NULL;
            entry_free(e);
            return NULL;
        }
        return set_ref(e->set);
    }
    return NULL;
}

static void insert(struct entry *e)
{
    pthread_mutex_lock(&mu);
    for (size_t i = 0; i < SLOTS; i++)
        if (slots[i] && slots[i]->root == e->root && strcmp(slots[i]->st.path, e->st.path) == 0) {
            entry_free(slots[i]);
            slots[i] = NULL;
        }
    struct entry *old = slots[next_slot];
    slots[next_slot] = e;
    next_slot = (next_slot + 1) % SLOTS;
    pthread_mutex_unlock(&mu);
    entry_free(old);
}

/* Load path; keep the set when the load succeeded and its files were settled before it and
 * unchanged after it. */
static vt_res load_and_keep(const struct vt_crypto_ops *cr, const char *path, bool root,
                            const struct vti_tpm_certset **out)
{
    int64_t t0 = vti_fstamp_now_ns();
    struct set *s = calloc(1, sizeof(*s));
    struct entry *e = calloc(1, sizeof(*e));
    if (!s || !e) {
        free(s);
        free(e);
        return VT_FAIL(VT_ERR_NOMEM);
    }
    atomic_init(&s->refs, 1);
    e->root = root;
    bool keep = vti_fstamp_take(&e->st, path, VTI_TPM_MAX_CERTS * 4) &&
                vti_fstamp_settled(&e->st, t0);
    vt_res r = load_path(cr, path, root, s);
    keep = keep && vti_is_ok(r) && vti_fstamp_same(&e->st);
    if (keep) {
        e->set = s;
        set_ref(s);
        insert(e);
    } else {
        entry_free(e);
    }
    if (vti_is_ok(r))
        *out = &s->s;
    else
        vti_tpm_certset_put(&s->s);
    return r;
}

vt_res vti_tpm_certset_get(const struct vt_crypto_ops *cr, const char *path, bool root,
                           const struct vti_tpm_certset **out)
{
    *out = NULL;
    pthread_mutex_lock(&mu);
    const struct vti_tpm_certset *hit = lookup(path, root);
    if (hit)
        n_hits++;
    else
        n_misses++;
    pthread_mutex_unlock(&mu);
    if (hit) {
        *out = hit;
        return vti_ok();
    }
    return load_and_keep(cr, path, root, out);
}

void vti_tpm_certset_cache_flush(void)
{
    pthread_mutex_lock(&mu);
    for (size_t i = 0; i < SLOTS; i++) {
        entry_free(slots[i]);
        slots[i] = NULL;
    }
    pthread_mutex_unlock(&mu);
}

void vti_tpm_certset_cache_stats(uint64_t *hits, uint64_t *misses)
{
    pthread_mutex_lock(&mu);
    *hits = n_hits;
    *misses = n_misses;
    pthread_mutex_unlock(&mu);
}
