/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tpm_ak_certs.c - the certificates of a --root-ca / --collateral path, loaded and kept per
 * path (see tpm_ak_certs.h).
 *
 * Loading (read, PEM decode, cert_parse of every certificate: a self-signature verify each)
 * cost far more than the quote's signature, on every verification. A successful load is kept
 * with the identity of everything it read, as src/endorsements/intel_collateral_cache.c does:
 * the path itself and, for a directory, every entry (name, dev, ino, size, mode, mtime and
 * ctime in ns, or "stat failed"), the entries stat'ed relative to a descriptor of the
 * directory kept open (the directory the path names while the path's own dev and ino are
 * unchanged). Each use stats them again; any difference (a rewritten file, even of the same
 * size with its mtime put back: ctime; an added / removed / renamed entry: the directory's own
 * stamps) is a miss and the path is loaded again. A load is kept only when every stamp is
 * older than RACY_NS before it started and unchanged after it, so a write in the same clock
 * tick as the read cannot hide. Thread-safe: one mutex; sets are immutable and reference
 * counted. Bounded: SLOTS paths, oldest replaced.
 */
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/buf.h"
#include "verifiers/tpm_ak_certs.h"

#define SLOTS 8
#define RACY_NS 2000000000LL
#define MAX_FILE (1u << 20)

struct set {
    struct vti_tpm_certset s; /* first: the public view */
    atomic_size_t refs;
};

struct file_id {
    char name[256];
    bool ok; /* stat succeeded */
    dev_t dev;
    ino_t ino;
    off_t size;
    mode_t mode;
    int64_t mtime, ctime;
};

struct entry {
    char *path;
    bool root;
    int dirfd; /* the directory ids[0] names, or -1 */
    size_t n;  /* ids[0]: the path itself */
    struct file_id ids[1 + VTI_TPM_MAX_CERTS * 4];
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
    if (cr->cert_parse(c->der.p, c->der.len, &ci).err)
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
        r = cr->cert_parse(b.p, b.len, &ci);
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

/* ---- file identities ------------------------------------------------------------------- */

static int64_t ns_of(struct timespec t)
{
    return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

/* The identity of path, relative to dirfd (AT_FDCWD: as given); symbolic links followed. */
static void id_of(int dirfd, const char *path, const char *name, struct file_id *f)
{
    struct stat st;
    memset(f, 0, sizeof(*f));
    snprintf(f->name, sizeof(f->name), "%s", name);
    if (fstatat(dirfd, path, &st, 0) != 0)
        return;
    f->ok = true;
    f->dev = st.st_dev;
    f->ino = st.st_ino;
    f->size = st.st_size;
    f->mode = st.st_mode;
    f->mtime = ns_of(st.st_mtim);
    f->ctime = ns_of(st.st_ctim);
}

static bool same_id(const struct file_id *a, const struct file_id *b)
{
    return a->ok == b->ok && strcmp(a->name, b->name) == 0 && a->dev == b->dev &&
           a->ino == b->ino && a->size == b->size && a->mode == b->mode &&
           a->mtime == b->mtime && a->ctime == b->ctime;
}

/* The path and every entry as they were taken (entries relative to e->dirfd, which is the
 * directory the path names while the path's dev and ino are unchanged). */
static bool still_same(const struct entry *e)
{
    struct file_id now;
    id_of(AT_FDCWD, e->path, "", &now);
    if (!same_id(&now, &e->ids[0]))
        return false;
    for (size_t i = 1; i < e->n; i++) {
        if (e->dirfd < 0)
            return false;
        id_of(e->dirfd, e->ids[i].name, e->ids[i].name, &now);
        if (!same_id(&now, &e->ids[i]))
            return false;
    }
    return true;
}

/* A descriptor of the directory id describes (same dev and ino), or -1. */
static int open_dir(const char *path, const struct file_id *id)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    struct stat st;
    if (fd >= 0 && (fstat(fd, &st) != 0 || st.st_dev != id->dev || st.st_ino != id->ino)) {
        close(fd);
        fd = -1;
    }
    return fd;
}

/* The identities of path and, for a directory, of its entries (not starting with '.', as the
 * loader skips them). False when they cannot all be taken (the load is then not kept). */
static bool take_ids(struct entry *e)
{
    id_of(AT_FDCWD, e->path, "", &e->ids[0]);
    e->n = 1;
    if (!e->ids[0].ok || !S_ISDIR(e->ids[0].mode))
        return e->ids[0].ok;
    e->dirfd = open_dir(e->path, &e->ids[0]);
    int lfd = e->dirfd >= 0 ? dup(e->dirfd) : -1; /* list that same directory */
    DIR *d = lfd >= 0 ? fdopendir(lfd) : NULL;
    if (!d) {
        if (lfd >= 0)
            close(lfd);
        return false;
    }
    bool ok = true;
    struct dirent *de;
    while (ok && (de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        ok = e->n < VT_ARRAY_LEN(e->ids) && strlen(de->d_name) < sizeof(e->ids[0].name);
        if (ok)
            id_of(e->dirfd, de->d_name, de->d_name, &e->ids[e->n++]);
    }
    closedir(d);
    return ok;
}

/* Every stamp older than RACY_NS before t0 (the start of the load). */
static bool settled(const struct entry *e, int64_t t0)
{
    for (size_t i = 0; i < e->n; i++)
        if (e->ids[i].ok && (e->ids[i].mtime > t0 - RACY_NS || e->ids[i].ctime > t0 - RACY_NS))
            return false;
    return true;
}

/* ---- the cache ------------------------------------------------------------------------- */

static void entry_free(struct entry *e)
{
    if (!e)
        return;
    if (e->set)
        vti_tpm_certset_put(&e->set->s);
    if (e->dirfd >= 0)
        close(e->dirfd);
    free(e->path);
    free(e);
}

/* A hit: the set for (path, root) whose files are unchanged. Under mu. */
static const struct vti_tpm_certset *lookup(const char *path, bool root)
{
    for (size_t i = 0; i < SLOTS; i++) {
        struct entry *e = slots[i];
        if (!e || e->root != root || strcmp(e->path, path) != 0)
            continue;
        if (!still_same(e)) {
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
        if (slots[i] && slots[i]->root == e->root && strcmp(slots[i]->path, e->path) == 0) {
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
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    struct set *s = calloc(1, sizeof(*s));
    struct entry *e = calloc(1, sizeof(*e));
    if (!s || !e) {
        free(s);
        free(e);
        return VT_FAIL(VT_ERR_NOMEM);
    }
    atomic_init(&s->refs, 1);
    e->dirfd = -1;
    e->root = root;
    bool keep = (e->path = strdup(path)) != NULL && take_ids(e) && settled(e, ns_of(t));
    vt_res r = load_path(cr, path, root, s);
    keep = keep && vti_is_ok(r) && still_same(e);
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
