/* SPDX-License-Identifier: Apache-2.0 */
/*
 * intel_collateral_cache.c - the loaded collateral of a --collateral path, kept per path.
 *
 * Owns: vti_intel_collateral_load_path_cached. Loading a PCS files directory (read, recognise,
 * parse X.509 / JSON / CRLs) costs far more than the signatures of a verification, so a
 * successful load is kept with the identity of everything it read: the path itself and every
 * entry of a directory (name, dev, ino, size, mode, mtime and ctime in ns, or "stat failed").
 * Each use stats them again (the entries of a directory relative to a descriptor of it kept
 * open, which is the directory the path names as long as the path's own dev and ino are
 * unchanged: saves a path walk per file); any difference (a rewritten file, even of the same size with its
 * mtime put back: ctime; an added / removed / renamed entry: the directory's own stamps) is a
 * miss and the path is loaded again. A load is kept only when every stamp is older than
 * RACY_NS before it started, so a write in the same clock tick as the read cannot hide.
 * Trust boundary: the cache holds untrusted bytes exactly as loaded (never a verdict); the
 * verifier checks what it gets as before (its chain cache is keyed by the content digest).
 * Thread-safe: one mutex; callers get a deep copy. Bounded: SLOTS paths, oldest replaced.
 */
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "endorsements/intel_collateral.h"

#define SLOTS 8
#define RACY_NS 2000000000LL

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
    int dirfd;                                 /* the directory ids[0] names, or -1 */
    size_t n;                                  /* ids[0]: the path itself */
    struct file_id ids[1 + VT_INTEL_MAX_DIR_FILES];
    struct vt_intel_collateral col;
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct entry *slots[SLOTS];
static size_t next_slot;
static uint64_t n_hits, n_misses;

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

/* The path and every entry as they were taken. The path first: while its dev and ino are the
 * same, it names the directory e->dirfd holds (opened and checked against ids[0] in
 * take_ids), so the entries are looked up in it. */
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

/* A descriptor of the directory ids[0] describes (same dev and ino), or -1. */
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
static bool take_ids(const char *path, struct entry *e)
{
    id_of(AT_FDCWD, path, "", &e->ids[0]);
    e->n = 1;
    if (!e->ids[0].ok || !S_ISDIR(e->ids[0].mode))
        return e->ids[0].ok;
    e->dirfd = open_dir(path, &e->ids[0]);
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
        ok = e->n < 1 + VT_INTEL_MAX_DIR_FILES && strlen(de->d_name) < sizeof(e->ids[0].name);
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

static void entry_free(struct entry *e)
{
    if (!e)
        return;
    vti_intel_collateral_free(&e->col);
    if (e->dirfd >= 0)
        close(e->dirfd);
    free(e->path);
    free(e);
}

/* A hit: a deep copy of the slot for path whose files are unchanged. Under mu. */
static bool lookup(const char *path, struct vt_intel_collateral *c, vt_res *r)
{
    for (size_t i = 0; i < SLOTS; i++) {
        struct entry *e = slots[i];
        if (!e || strcmp(e->path, path) != 0)
            continue;
        if (!still_same(e)) {
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
        if (slots[i] && strcmp(slots[i]->path, e->path) == 0) {
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
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    struct entry *e = calloc(1, sizeof(*e));
    if (e)
        e->dirfd = -1;
    bool keep = e && (e->path = strdup(path)) != NULL && take_ids(path, e) &&
                settled(e, ns_of(t));
    vt_res r = vti_intel_collateral_load_path(path, c);
    keep = keep && vti_is_ok(r) && still_same(e) &&
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
