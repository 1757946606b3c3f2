/* SPDX-License-Identifier: Apache-2.0 */
/*
 * broker_audit_durable_test.c - crash test of the SQLite store's audit durability
 * (store_sqlite.c: audit rows group-committed by a leader in one transaction at
 * synchronous=FULL, the WAL fsync'd by SQLite's COMMIT through the VFS's xSync). Contract:
 * audit_append returns success only once its row is on disk.
 *
 * How: a VFS shim, registered as the default before any store opens, wraps SQLite's "unix"
 * VFS and keeps, per file path, the file's durable content and the writes and truncations
 * made since; a sync of any handle of the path (as fdatasync of an inode on Linux) makes
 * durable the operations that had returned before the sync began, and only if it succeeds.
 * The crash image is the durable content of the database and its WAL, nothing else (no
 * -shm): what a power cut leaves, at its worst (no unsynced write reached the disk).
 *
 * Right after each audit_append returns, the calling thread writes the crash image to a
 * directory of its own, opens it with the plain "unix" VFS (SQLite recovers the WAL) and
 * looks for the row. Cases: appenders alone; appenders beside a checkpointing connection and
 * a writer of meta rows (FULL) and KBS sessions (NORMAL, then back to FULL) on the store's
 * connection; a negative control where the shim's xSync of the WAL returns SQLITE_OK without
 * syncing (the check must then find rows missing); a failing xSync (SQLITE_IOERR_FSYNC):
 * every call fails with VT_ERR_BROKER_STORE, none reports success, and its row is not kept.
 */
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker/store.h"
#include "vt_test.h"

/* ---- the VFS shim ------------------------------------------------------------------- */

/* A write or truncation that returned and is not yet synced. */
struct op {
    struct op *next;
    uint64_t id; /* order of return, over every file */
    int64_t off; /* truncation: the new size */
    size_t len;
    bool trunc;
    uint8_t data[];
};

/* One file path: its durable content and its pending operations, in order. */
struct track {
    struct track *next;
    char path[1024];
    uint8_t *img;
    size_t img_len, img_cap;
    struct op *head, **tail;
};

static pthread_mutex_t shim_mu = PTHREAD_MUTEX_INITIALIZER;
static struct track *tracks;
static uint64_t op_last; /* id of the newest recorded operation (shim_mu) */
static sqlite3_vfs *real_vfs;
/* What xSync of a -wal file does: the real sync (SHIM_REAL); nothing, and SQLITE_OK (SHIM_LIE:
 * the negative control, a sync that never reaches the disk); SQLITE_IOERR_FSYNC (SHIM_FAIL). */
enum { SHIM_REAL, SHIM_LIE, SHIM_FAIL };
static atomic_int shim_wal_mode;
static atomic_int shim_wal_syncs;  /* successful real xSync calls of -wal files */
static atomic_int shim_wal_failed; /* xSync calls of -wal files failed by SHIM_FAIL */

struct shim_file {
    sqlite3_file base;
    struct track *t;
    sqlite3_file *real;
};

static bool img_reserve(struct track *t, size_t n)
{
    if (n <= t->img_cap)
        return true;
    size_t c = t->img_cap ? t->img_cap : 65536;
    while (c < n)
        c *= 2;
    uint8_t *p = realloc(t->img, c);
    if (!p)
        return false;
    t->img = p, t->img_cap = c;
    return true;
}

/* Apply op to the durable content (shim_mu held); zeros fill any hole. */
static void img_apply(struct track *t, const struct op *o)
{
    size_t end = o->trunc ? (size_t)o->off : (size_t)o->off + o->len;
    if (!img_reserve(t, end)) {
        fprintf(stderr, "shim: out of memory\n");
        abort();
    }
    if (end > t->img_len)
        memset(t->img + t->img_len, 0, end - t->img_len);
    if (!o->trunc)
        memcpy(t->img + o->off, o->data, o->len);
    if (o->trunc || end > t->img_len)
        t->img_len = end;
}

/* Make durable the pending operations of t recorded up to id upto (shim_mu held): those that
 * had returned when the sync began. Syncs of one path may overlap: a count of operations
 * would then cover the wrong ones. */
static void track_sync(struct track *t, uint64_t upto)
{
    while (t->head && t->head->id <= upto) {
        struct op *o = t->head;
        img_apply(t, o);
        t->head = o->next;
        if (!t->head)
            t->tail = &t->head;
        free(o);
    }
}

static void track_record(struct track *t, int64_t off, const void *p, size_t len, bool trunc)
{
    struct op *o = malloc(sizeof(*o) + len);
    if (!o)
        abort();
    *o = (struct op){ .off = off, .len = len, .trunc = trunc };
    if (len)
        memcpy(o->data, p, len);
    pthread_mutex_lock(&shim_mu);
    o->id = ++op_last;
    *t->tail = o;
    t->tail = &o->next;
    pthread_mutex_unlock(&shim_mu);
}

/* The track of path, created with the file's present content as durable. */
static struct track *track_get(const char *path)
{
    pthread_mutex_lock(&shim_mu);
    struct track *t = tracks;
    while (t && strcmp(t->path, path) != 0)
        t = t->next;
    if (!t && (t = calloc(1, sizeof(*t))) != NULL) {
        snprintf(t->path, sizeof(t->path), "%s", path);
        t->tail = &t->head;
        FILE *f = fopen(path, "rb");
        uint8_t buf[4096];
        size_t n;
        while (f && (n = fread(buf, 1, sizeof(buf), f)) > 0) {
            if (!img_reserve(t, t->img_len + n))
                abort();
            memcpy(t->img + t->img_len, buf, n);
            t->img_len += n;
        }
        if (f)
            fclose(f);
        t->next = tracks, tracks = t;
    }
    pthread_mutex_unlock(&shim_mu);
    return t;
}

static bool is_wal(const struct track *t)
{
    size_t n = strlen(t->path);
    return n > 4 && strcmp(t->path + n - 4, "-wal") == 0;
}

static sqlite3_file *R(sqlite3_file *f)
{
    return ((struct shim_file *)f)->real;
}

static int x_close(sqlite3_file *f)
{
    return R(f)->pMethods->xClose(R(f));
}

static int x_read(sqlite3_file *f, void *p, int n, sqlite3_int64 off)
{
    return R(f)->pMethods->xRead(R(f), p, n, off);
}

static int x_write(sqlite3_file *f, const void *p, int n, sqlite3_int64 off)
{
    int rc = R(f)->pMethods->xWrite(R(f), p, n, off);
    struct track *t = ((struct shim_file *)f)->t;
    if (rc == SQLITE_OK && t)
        track_record(t, off, p, (size_t)n, false); /* pending once the write returned */
    return rc;
}

static int x_truncate(sqlite3_file *f, sqlite3_int64 size)
{
    int rc = R(f)->pMethods->xTruncate(R(f), size);
    struct track *t = ((struct shim_file *)f)->t;
    if (rc == SQLITE_OK && t)
        track_record(t, size, NULL, 0, true);
    return rc;
}

/* Only a successful real sync makes anything durable: what had returned before it began. */
static int x_sync(sqlite3_file *f, int flags)
{
    struct track *t = ((struct shim_file *)f)->t;
    int mode = t && is_wal(t) ? atomic_load(&shim_wal_mode) : SHIM_REAL;
    if (mode == SHIM_LIE)
        return SQLITE_OK;
    if (mode == SHIM_FAIL) {
        atomic_fetch_add(&shim_wal_failed, 1);
        return SQLITE_IOERR_FSYNC;
    }
    pthread_mutex_lock(&shim_mu);
    uint64_t upto = op_last;
    pthread_mutex_unlock(&shim_mu);
    int rc = R(f)->pMethods->xSync(R(f), flags);
    if (rc == SQLITE_OK && t) {
        pthread_mutex_lock(&shim_mu);
        track_sync(t, upto);
        pthread_mutex_unlock(&shim_mu);
        if (is_wal(t))
            atomic_fetch_add(&shim_wal_syncs, 1);
    }
    return rc;
}

static int x_size(sqlite3_file *f, sqlite3_int64 *size)
{
    return R(f)->pMethods->xFileSize(R(f), size);
}

static int x_lock(sqlite3_file *f, int l)
{
    return R(f)->pMethods->xLock(R(f), l);
}

static int x_unlock(sqlite3_file *f, int l)
{
    return R(f)->pMethods->xUnlock(R(f), l);
}

static int x_reserved(sqlite3_file *f, int *out)
{
    return R(f)->pMethods->xCheckReservedLock(R(f), out);
}

static int x_fcntl(sqlite3_file *f, int op, void *arg)
{
    return R(f)->pMethods->xFileControl(R(f), op, arg);
}

static int x_sector(sqlite3_file *f)
{
    return R(f)->pMethods->xSectorSize(R(f));
}

static int x_devchar(sqlite3_file *f)
{
    return R(f)->pMethods->xDeviceCharacteristics(R(f));
}

static int x_shmmap(sqlite3_file *f, int pg, int sz, int ext, void volatile **pp)
{
    return R(f)->pMethods->xShmMap(R(f), pg, sz, ext, pp);
}

static int x_shmlock(sqlite3_file *f, int off, int n, int flags)
{
    return R(f)->pMethods->xShmLock(R(f), off, n, flags);
}

static void x_shmbarrier(sqlite3_file *f)
{
    R(f)->pMethods->xShmBarrier(R(f));
}

static int x_shmunmap(sqlite3_file *f, int del)
{
    return R(f)->pMethods->xShmUnmap(R(f), del);
}

static int x_fetch(sqlite3_file *f, sqlite3_int64 off, int n, void **pp)
{
    return R(f)->pMethods->xFetch(R(f), off, n, pp);
}

static int x_unfetch(sqlite3_file *f, sqlite3_int64 off, void *p)
{
    return R(f)->pMethods->xUnfetch(R(f), off, p);
}

static const sqlite3_io_methods shim_io = {
    .iVersion = 3, .xClose = x_close, .xRead = x_read, .xWrite = x_write,
    .xTruncate = x_truncate, .xSync = x_sync, .xFileSize = x_size, .xLock = x_lock,
    .xUnlock = x_unlock, .xCheckReservedLock = x_reserved, .xFileControl = x_fcntl,
    .xSectorSize = x_sector, .xDeviceCharacteristics = x_devchar, .xShmMap = x_shmmap,
    .xShmLock = x_shmlock, .xShmBarrier = x_shmbarrier, .xShmUnmap = x_shmunmap,
    .xFetch = x_fetch, .xUnfetch = x_unfetch,
};

static int v_open(sqlite3_vfs *v, const char *name, sqlite3_file *file, int flags, int *out)
{
    (void)v;
    struct shim_file *f = (struct shim_file *)file;
    f->base.pMethods = NULL;
    f->real = (sqlite3_file *)(f + 1);
    int rc = real_vfs->xOpen(real_vfs, name, f->real, flags, out);
    if (rc != SQLITE_OK)
        return rc;
    f->t = name ? track_get(name) : NULL;
    f->base.pMethods = &shim_io;
    return SQLITE_OK;
}

/* A deleted file leaves nothing behind in the crash image: the WAL, deleted by the last
 * connection to close once its checkpoint has synced the database file. */
static int v_delete(sqlite3_vfs *v, const char *name, int dirsync)
{
    (void)v;
    int rc = real_vfs->xDelete(real_vfs, name, dirsync);
    pthread_mutex_lock(&shim_mu);
    for (struct track *t = tracks; t; t = t->next) {
        if (strcmp(t->path, name) != 0)
            continue;
        track_sync(t, op_last);
        t->img_len = 0;
    }
    pthread_mutex_unlock(&shim_mu);
    return rc;
}

static int v_access(sqlite3_vfs *v, const char *name, int flags, int *out)
{
    (void)v;
    return real_vfs->xAccess(real_vfs, name, flags, out);
}

static int v_fullpath(sqlite3_vfs *v, const char *name, int n, char *out)
{
    (void)v;
    return real_vfs->xFullPathname(real_vfs, name, n, out);
}

static sqlite3_vfs shim_vfs;

static void shim_register(void)
{
    real_vfs = sqlite3_vfs_find("unix");
    if (!real_vfs)
        abort();
    shim_vfs = *real_vfs; /* randomness, sleep, time, dlopen, syscalls: unix's own */
    shim_vfs.zName = "vt-crash-shim";
    shim_vfs.szOsFile = (int)sizeof(struct shim_file) + real_vfs->szOsFile;
    shim_vfs.xOpen = v_open;
    shim_vfs.xDelete = v_delete;
    shim_vfs.xAccess = v_access;
    shim_vfs.xFullPathname = v_fullpath;
    shim_vfs.pNext = NULL;
    CHECK(sqlite3_vfs_register(&shim_vfs, 1) == SQLITE_OK);
}

/* ---- the crash image ---------------------------------------------------------------- */

/* The durable content of path (shim_mu held); NULL and 0 when none. */
static bool img_copy(const char *path, uint8_t **p, size_t *n)
{
    *p = NULL, *n = 0;
    struct track *t = tracks;
    while (t && strcmp(t->path, path) != 0)
        t = t->next;
    if (!t || !t->img_len)
        return true;
    *p = malloc(t->img_len);
    if (*p)
        memcpy(*p, t->img, *n = t->img_len);
    return *p != NULL;
}

static bool write_all(const char *path, const uint8_t *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    bool ok = f && (n == 0 || fwrite(p, 1, n, f) == n);
    return (f ? fclose(f) == 0 : false) && ok;
}

/* Write the crash image of db (its durable content and its WAL's) to dir/c.db[-wal]. Both
 * files are taken at one instant: a checkpoint and a WAL restart between them could move a
 * row from the WAL to the database file after the database was copied, and the image would
 * lose a row that a power cut would not. */
static bool image_write(const char *db, const char *dir)
{
    char src[2][1100], dst[1100];
    uint8_t *p[2] = { NULL, NULL };
    size_t n[2] = { 0, 0 };
    static const char *const sfx[] = { "", "-wal" };
    for (int i = 0; i < 2; i++)
        snprintf(src[i], sizeof(src[i]), "%s%s", db, sfx[i]);
    pthread_mutex_lock(&shim_mu);
    bool ok = img_copy(src[0], &p[0], &n[0]) && img_copy(src[1], &p[1], &n[1]);
    pthread_mutex_unlock(&shim_mu);
    snprintf(dst, sizeof(dst), "%s/c.db-shm", dir);
    unlink(dst);
    for (int i = 0; i < 2; i++) {
        snprintf(dst, sizeof(dst), "%s/c.db%s", dir, sfx[i]);
        ok = ok && write_all(dst, p[i], n[i]);
        free(p[i]);
    }
    return ok;
}

/* Rows of the crash image of db (written to dir) with rid; -1: no readable image. Opened
 * with the plain unix VFS: the check itself is not recorded by the shim. */
static int image_audit_rows(const char *db, const char *dir, const char *rid)
{
    if (!image_write(db, dir))
        return -1;
    char path[1100];
    snprintf(path, sizeof(path), "%s/c.db", dir);
    sqlite3 *h = NULL;
    sqlite3_stmt *st = NULL;
    int n = -1;
    /* synchronous=OFF: the image is a scratch copy, its own checkpoint at close needs no fsync */
    if (sqlite3_open_v2(path, &h, SQLITE_OPEN_READWRITE, "unix") == SQLITE_OK &&
        sqlite3_exec(h, "PRAGMA synchronous=OFF", NULL, NULL, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(h, "SELECT count(*) FROM audit WHERE rid = ?1", -1, &st, NULL) ==
            SQLITE_OK) {
        sqlite3_bind_text(st, 1, rid, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW)
            n = sqlite3_column_int(st, 0);
    }
    sqlite3_finalize(st);
    sqlite3_close(h);
    return n;
}

/* ---- concurrent appenders ----------------------------------------------------------- */

#define THREADS 4
#define ROWS 40

/* The directory of the test's files, symlinks resolved: SQLite's unix VFS names the files
 * it opens by their resolved path, and the shim keys its tracks by that name. */
static const char *base_dir(void)
{
    static char dir[256];
    if (!dir[0]) {
        char *r = realpath(vt_test_tmpdir(), NULL);
        snprintf(dir, sizeof(dir), "%s", r ? r : vt_test_tmpdir());
        free(r);
    }
    return dir;
}

struct run {
    struct vtb_store *s;
    char db[600];
    bool busy;                 /* the checkpointer and the other writer run beside */
    int err[THREADS * ROWS];   /* each call's code */
    int found[THREADS * ROWS]; /* rows of each in the crash image taken after it returned */
    atomic_int stop;
    atomic_int writes, write_errs; /* the other writer's */
    atomic_int ckpts;              /* checkpoints that emptied the WAL */
};

struct worker {
    struct run *run;
    int t;
};

/* Wait (up to ~3 s) until *c moves past seen: the appenders then overlap the checkpoints
 * and the other writer by construction, not by the scheduler's luck on a loaded machine. */
static void wait_past(atomic_int *c, int seen)
{
    for (int i = 0; i < 3000 && atomic_load(c) <= seen; i++)
        usleep(1000);
}

static void *appender(void *arg)
{
    struct worker *w = arg;
    struct run *run = w->run;
    char dir[700];
    snprintf(dir, sizeof(dir), "%s.img%d", run->db, w->t);
    mkdir(dir, 0700);
    for (int i = 0; i < ROWS; i++) {
        if (run->busy && w->t == 0 && i % 10 == 5) {
            wait_past(&run->ckpts, atomic_load(&run->ckpts));
            wait_past(&run->writes, atomic_load(&run->writes));
        }
        char rid[32];
        snprintf(rid, sizeof(rid), "t%d-%d", w->t, i);
        struct vtb_audit a = { .time = 7000, .rid = rid, .peer = "p", .tee = "sim",
                               .op = "resource", .path = "default/key/b",
                               .decision = "release", .reason = "durability test" };
        int k = w->t * ROWS + i;
        run->err[k] = vtb_store_sqlite.audit_append(run->s, &a).err;
        run->found[k] = run->err[k] ? -2 : image_audit_rows(run->db, dir, rid);
    }
    return NULL;
}

/* A second connection (through the shim) checkpointing the WAL into the database file, so
 * that the WAL restarts under the appenders. */
static void *checkpointer(void *arg)
{
    struct run *run = arg;
    sqlite3 *h = NULL;
    /* a first read so that the connection knows the database is in WAL mode */
    if (sqlite3_open_v2(run->db, &h, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK &&
        sqlite3_exec(h, "SELECT count(*) FROM sqlite_master", NULL, NULL, NULL) == SQLITE_OK)
        while (!atomic_load(&run->stop)) {
            int log = -1, done = -1;
            if (sqlite3_wal_checkpoint_v2(h, NULL, SQLITE_CHECKPOINT_PASSIVE, &log, &done) ==
                    SQLITE_OK && log > 0 && done == log)
                atomic_fetch_add(&run->ckpts, 1); /* the next writer restarts the WAL */
            usleep(2000);
        }
    sqlite3_close(h);
    return NULL;
}

/* Other writes on the store's connection between the audit batches: meta rows (FULL) and
 * KBS sessions (NORMAL, switched back to FULL after: were it not, audit rows would be lost). */
static void *other_writer(void *arg)
{
    struct run *run = arg;
    for (int i = 0; !atomic_load(&run->stop); i++) {
        char key[32];
        uint8_t v = 1;
        snprintf(key, sizeof(key), "w-%d", i);
        vt_res r = i % 2 ? vtb_store_sqlite.session_put(run->s, key, 1, &v, 1, INT64_MAX / 2)
                         : vtb_store_sqlite.meta_put(run->s, key, &v, 1);
        if (r.err)
            atomic_fetch_add(&run->write_errs, 1);
        atomic_fetch_add(&run->writes, 1);
        usleep(1500);
    }
    return NULL;
}

static struct run *run_open(const char *name, bool busy)
{
    struct run *run = calloc(1, sizeof(*run));
    if (!run)
        abort();
    run->busy = busy;
    snprintf(run->db, sizeof(run->db), "%s/%s.db", base_dir(), name);
    CHECK_OK(vtb_store_sqlite.open(run->db, &run->s));
    if (!run->s) {
        free(run);
        return NULL;
    }
    return run;
}

/* THREADS appenders of ROWS rows each (with the checkpointer and the other writer when
 * busy), all joined; the store stays open. */
static void run_appenders(struct run *run)
{
    pthread_t th[THREADS], cp, ow;
    struct worker w[THREADS];
    if (run->busy) {
        CHECK(pthread_create(&cp, NULL, checkpointer, run) == 0);
        CHECK(pthread_create(&ow, NULL, other_writer, run) == 0);
    }
    for (int t = 0; t < THREADS; t++) {
        w[t] = (struct worker){ .run = run, .t = t };
        CHECK(pthread_create(&th[t], NULL, appender, &w[t]) == 0);
    }
    for (int t = 0; t < THREADS; t++)
        pthread_join(th[t], NULL);
    atomic_store(&run->stop, 1);
    if (run->busy) {
        pthread_join(cp, NULL);
        pthread_join(ow, NULL);
    }
}

/* Counts of a run: calls with an error; successful calls whose row was missing; of those,
 * the ones whose image could not be read at all. */
static void run_tally(const struct run *run, int *errs, int *missing, int *unreadable)
{
    *errs = *missing = *unreadable = 0;
    for (int k = 0; k < THREADS * ROWS; k++) {
        *errs += run->err[k] != 0;
        *missing += run->err[k] == 0 && run->found[k] != 1;
        *unreadable += run->err[k] == 0 && run->found[k] == -1;
    }
}

/* ---- the cases ---------------------------------------------------------------------- */

/* Every row whose append returned success is in the crash image taken right after. */
static void test_durable(bool busy)
{
    struct run *run = run_open(busy ? "busy" : "plain", busy);
    if (!run)
        return;
    int syncs = atomic_load(&shim_wal_syncs);
    run_appenders(run);
    vtb_store_sqlite.close(run->s);
    int errs, missing, unreadable;
    run_tally(run, &errs, &missing, &unreadable);
    printf("durable%s: %d rows, %d errors, %d missing, %d WAL syncs, %d other writes, "
           "%d complete checkpoints\n", busy ? " (checkpoints, other writer)" : "",
           THREADS * ROWS, errs, missing, atomic_load(&shim_wal_syncs) - syncs,
           atomic_load(&run->writes), atomic_load(&run->ckpts));
    CHECK(!busy || (atomic_load(&run->writes) > 0 && atomic_load(&run->ckpts) > 0));
    CHECK(atomic_load(&run->write_errs) == 0);
    CHECK(errs == 0);
    CHECK(missing == 0);
    CHECK(atomic_load(&shim_wal_syncs) > syncs); /* the commits' syncs went through the shim */
    free(run);
}

/* Negative control: the WAL's xSync returns SQLITE_OK and syncs nothing. The same check
 * finds the rows missing from images that are otherwise readable (the schema was synced
 * when the store opened), so a passing durable run is not an artefact of the check. */
static void test_control_no_sync(void)
{
    struct run *run = run_open("control", false);
    if (!run)
        return;
    atomic_store(&shim_wal_mode, SHIM_LIE);
    run_appenders(run);
    vtb_store_sqlite.close(run->s);
    atomic_store(&shim_wal_mode, SHIM_REAL);
    int errs, missing, unreadable;
    run_tally(run, &errs, &missing, &unreadable);
    printf("control (xSync skipped): %d rows, %d errors, %d missing, %d unreadable images\n",
           THREADS * ROWS, errs, missing, unreadable);
    CHECK(errs == 0);
    CHECK(missing > 0);
    CHECK(unreadable == 0);
    free(run);
}

static void count_cb(int64_t seq, const struct vtb_audit *a, void *arg)
{
    (void)seq, (void)a;
    (*(int *)arg)++;
}

/* Rows of the store itself (not the crash image). */
static int store_rows(struct vtb_store *s)
{
    int n = 0;
    CHECK_OK(vtb_store_sqlite.audit_list(s, 100000, count_cb, &n));
    return n;
}

/* The store's warnings while syncs fail: counted, not printed (one per failed statement). */
static atomic_int warnings;
static void count_log(enum vt_log_level level, const char *msg, void *arg)
{
    (void)level, (void)msg, (void)arg;
    atomic_fetch_add(&warnings, 1);
}

static void sync_fail(bool on)
{
    atomic_store(&shim_wal_mode, on ? SHIM_FAIL : SHIM_REAL);
    vt_log_set(on ? count_log : NULL, NULL, VT_LOG_WARN);
}

static vt_res append1(struct vtb_store *s, const char *rid)
{
    struct vtb_audit a = { .time = 7000, .rid = rid, .peer = "", .tee = "", .op = "x",
                           .path = "", .decision = "refuse", .reason = "" };
    return vtb_store_sqlite.audit_append(s, &a);
}

/* A failed sync of the COMMIT: the caller gets VT_ERR_BROKER_STORE, and the row is neither
 * kept nor in the crash image; once syncs work again, the next row is durable. */
static void test_sync_error(void)
{
    struct run *run = run_open("syncerr", false);
    if (!run)
        return;
    char dir[700];
    snprintf(dir, sizeof(dir), "%s.img", run->db);
    mkdir(dir, 0700);
    CHECK_OK(append1(run->s, "before"));
    sync_fail(true);
    CHECK_ERR(append1(run->s, "failed"), VT_ERR_BROKER_STORE);
    sync_fail(false);
    CHECK_OK(append1(run->s, "after"));
    CHECK(store_rows(run->s) == 2); /* "before" and "after" */
    CHECK(image_audit_rows(run->db, dir, "before") == 1);
    CHECK(image_audit_rows(run->db, dir, "failed") == 0);
    CHECK(image_audit_rows(run->db, dir, "after") == 1);
    vtb_store_sqlite.close(run->s);
    free(run);
}

/* A failed sync under concurrent callers (grouped batches, then their one-by-one retries):
 * every call fails with VT_ERR_BROKER_STORE, not one reports success, no row is kept. */
static void test_sync_error_concurrent(void)
{
    struct run *run = run_open("syncerr-mt", false);
    if (!run)
        return;
    int failed = atomic_load(&shim_wal_failed);
    sync_fail(true);
    run_appenders(run);
    sync_fail(false);
    int wrong = 0;
    for (int k = 0; k < THREADS * ROWS; k++)
        wrong += run->err[k] != VT_ERR_BROKER_STORE;
    /* a grouped batch fails its COMMIT, then each of its rows alone: one extra sync each */
    printf("failing sync: %d calls, %d without VT_ERR_BROKER_STORE, %d grouped batches, "
           "%d store warnings\n", THREADS * ROWS, wrong,
           atomic_load(&shim_wal_failed) - failed - THREADS * ROWS, atomic_load(&warnings));
    CHECK(wrong == 0);
    CHECK(store_rows(run->s) == 0);
    vtb_store_sqlite.close(run->s);
    free(run);
}

int main(void)
{
    shim_register();
    test_durable(false);
    test_durable(true);
    test_control_no_sync();
    test_sync_error();
    test_sync_error_concurrent();
    return vt_test_done();
}
