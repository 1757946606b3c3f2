/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store_sqlite.c - the SQLite backend of the broker store (store.h).
 *
 * Durability: WAL journal, synchronous=FULL (every COMMIT is fsync'd before it returns), one
 * transaction per mutating call, so a process killed at any instant loses no committed row
 * and never leaves a half-written one (SQLite's atomic commit). The audit table is
 * append-only: triggers abort any UPDATE or DELETE on it. The database file is created with
 * mode 0600. Blobs here are already encrypted (kms.c); this file never sees plaintext.
 *
 * Two exceptions to the fsync per COMMIT, both for speed and neither losing a committed
 * row that matters (issue 16):
 * - KBS sessions (auth challenges) are written with synchronous=NORMAL: in WAL mode the
 *   COMMIT is atomic and visible at once but reaches the disk with the next fsync'd commit
 *   or checkpoint. A power cut may lose the newest sessions: their guests ask again (a lost
 *   challenge can only be refused, never replayed: its row is gone with it).
 * - Audit rows are group-committed: concurrent sq_audit_append calls queue their rows and
 *   one of them (the leader) inserts the whole queue in one fsync'd transaction; every call
 *   returns only after ITS row is durable, with the result of its own insert. A caller may
 *   also queue its row (sq_audit_submit), work, then wait (sq_audit_wait): a leader that
 *   runs meanwhile writes that row too.
 *
 * Thread safety: two connections, each guarded by its own mutex (the broker's load is small
 * requests). The writer does every write and every read inside a transaction; the reader
 * (query_only) does the standalone reads of the request path (the secret of a release, a KBS
 * session, the policy generation), so that they never wait behind a COMMIT's fsync. WAL
 * gives the reader the newest committed state: a COMMIT that has returned is visible to it.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker/store.h"
#include "util/log.h"

/* A prepared statement kept for reuse on the store's one connection (keyed by its SQL text):
 * preparing (parsing and planning) cost more than running the short statements of a KBS
 * request. busy: handed out by prep(), not yet returned by unprep(). */
#define STMT_SLOTS 64
struct stmt_slot {
    char *sql;
    sqlite3_stmt *st;
    bool busy;
};

struct vtb_store {
    sqlite3 *db;
    pthread_mutex_t lock;
    struct stmt_slot stmts[STMT_SLOTS]; /* under lock */
    /* audit group commit: the queue, its lock and condition, whether a leader is writing */
    pthread_mutex_t aq_lock;
    pthread_cond_t aq_cond;
    struct vtb_audit_pending *aq_head, **aq_tail;
    bool aq_leader;
    struct vtb_store *rd; /* the reader connection (NULL in the reader itself) */
};

/* The connection for a standalone read. */
static struct vtb_store *reader(struct vtb_store *s)
{
    return s->rd ? s->rd : s;
}

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v BLOB NOT NULL);"
    "CREATE TABLE IF NOT EXISTS secrets (path TEXT NOT NULL, version INTEGER NOT NULL,"
    "  kind TEXT NOT NULL, blob BLOB NOT NULL, created INTEGER NOT NULL,"
    "  PRIMARY KEY (path, version));"
    "CREATE TABLE IF NOT EXISTS refvals (id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  name TEXT NOT NULL, value TEXT NOT NULL, source TEXT NOT NULL,"
    "  expires INTEGER NOT NULL, added INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS policy (id INTEGER PRIMARY KEY CHECK (id = 1),"
    "  doc TEXT NOT NULL, updated INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS audit (seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  time INTEGER NOT NULL, rid TEXT, peer TEXT, tee TEXT, op TEXT, path TEXT,"
    "  decision TEXT NOT NULL, reason TEXT, insecure INTEGER NOT NULL);"
    "CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit"
    "  BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;"
    "CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit"
    "  BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;";

/* Versioned migrations after the base schema (PRAGMA user_version = number applied). */
static const char *const migrations[] = {
    /* 1: KBS protocol sessions (src/kbs) */
    "CREATE TABLE IF NOT EXISTS kbs_sessions (id TEXT PRIMARY KEY, state INTEGER NOT NULL,"
    "  blob BLOB NOT NULL, expires INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS kbs_sessions_expires ON kbs_sessions (expires);",
    /* 2: policy/refval generation, bumped by triggers inside the changing transaction */
    "CREATE TABLE IF NOT EXISTS policy_gen (id INTEGER PRIMARY KEY CHECK (id = 1),"
    "  gen INTEGER NOT NULL);"
    "INSERT OR IGNORE INTO policy_gen (id, gen) VALUES (1, 1);"
    "CREATE TRIGGER IF NOT EXISTS refvals_gen_ins AFTER INSERT ON refvals"
    "  BEGIN UPDATE policy_gen SET gen = gen + 1 WHERE id = 1; END;"
    "CREATE TRIGGER IF NOT EXISTS refvals_gen_upd AFTER UPDATE ON refvals"
    "  BEGIN UPDATE policy_gen SET gen = gen + 1 WHERE id = 1; END;"
    "CREATE TRIGGER IF NOT EXISTS refvals_gen_del AFTER DELETE ON refvals"
    "  BEGIN UPDATE policy_gen SET gen = gen + 1 WHERE id = 1; END;"
    "CREATE TRIGGER IF NOT EXISTS policy_gen_ins AFTER INSERT ON policy"
    "  BEGIN UPDATE policy_gen SET gen = gen + 1 WHERE id = 1; END;"
    "CREATE TRIGGER IF NOT EXISTS policy_gen_upd AFTER UPDATE ON policy"
    "  BEGIN UPDATE policy_gen SET gen = gen + 1 WHERE id = 1; END;"
    "CREATE TRIGGER IF NOT EXISTS policy_gen_del AFTER DELETE ON policy"
    "  BEGIN UPDATE policy_gen SET gen = gen + 1 WHERE id = 1; END;",
    /* 3: authentication tags of the policy and reference-value rows (kms.c); rows from
     * before keep NULL and are refused until set again through the admin socket */
    "ALTER TABLE refvals ADD COLUMN mac BLOB;"
    "ALTER TABLE policy ADD COLUMN mac BLOB;",
    /* 4: audit retention: DELETE only while the gate is open, which only audit_prune does,
     * inside its own transaction (opened and closed again before COMMIT) */
    "CREATE TABLE IF NOT EXISTS audit_prune_gate (id INTEGER PRIMARY KEY CHECK (id = 1),"
    "  open INTEGER NOT NULL);"
    "INSERT OR IGNORE INTO audit_prune_gate (id, open) VALUES (1, 0);"
    "DROP TRIGGER IF EXISTS audit_no_delete;"
    "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit"
    "  WHEN (SELECT open FROM audit_prune_gate WHERE id = 1) IS NOT 1"
    "  BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;",
    /* 5: the client address of each KBS session (per-address cap, session_put_capped) */
    "ALTER TABLE kbs_sessions ADD COLUMN peer TEXT;"
    "CREATE INDEX IF NOT EXISTS kbs_sessions_peer ON kbs_sessions (peer, expires);",
    /* 6: the authenticated latest-version record of each secret path (kms.c: a secret rolled
     * back by deleting its newest rows is refused); the secrets of an existing store get
     * theirs once, at the next start (latest_adopt) */
    "CREATE TABLE IF NOT EXISTS secret_latest (path TEXT PRIMARY KEY, version INTEGER NOT NULL,"
    "  deleted INTEGER NOT NULL, mac BLOB);",
};

static vt_res db_fail(struct vtb_store *s, const char *what)
{
    VT_WARN("broker store: %s: %s", what, sqlite3_errmsg(s->db));
    return VT_FAIL(VT_ERR_BROKER_STORE);
}

static vt_res exec(struct vtb_store *s, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        VT_WARN("broker store: %s", msg ? msg : "error");
        sqlite3_free(msg);
        return VT_FAIL(VT_ERR_BROKER_STORE);
    }
    return vti_ok();
}

static vt_res migrate(struct vtb_store *s)
{
    GUARD(exec(s, "BEGIN IMMEDIATE"));
    sqlite3_stmt *st = NULL;
    int have = 0;
    if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        have = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    vt_res r = vti_ok();
    int want = (int)(sizeof(migrations) / sizeof(migrations[0]));
    ENSURE_GOTO(have >= 0 && have <= want, VT_ERR_BROKER_STORE, r, fail); /* newer schema */
    for (int v = have; v < want; v++)
        GUARD_GOTO(exec(s, migrations[v]), r, fail);
    if (have != want) {
        char sql[48];
        snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", want);
        GUARD_GOTO(exec(s, sql), r, fail);
    }
    return exec(s, "COMMIT");
fail:
    (void)exec(s, "ROLLBACK");
    return r;
}

static void sq_close(struct vtb_store *s)
{
    if (!s)
        return;
    sq_close(s->rd);
    for (int i = 0; i < STMT_SLOTS; i++) {
        sqlite3_finalize(s->stmts[i].st);
        free(s->stmts[i].sql);
    }
    sqlite3_close(s->db);
    pthread_mutex_destroy(&s->lock);
    pthread_mutex_destroy(&s->aq_lock);
    pthread_cond_destroy(&s->aq_cond);
    free(s);
}

/* The store file: created 0600 before SQLite opens it (SQLite would use the umask); an
 * existing one with any group/other permission bit is refused (it holds sealed secrets and
 * session bearer tokens, and SQLite gives its -wal/-shm files the same mode). */
static vt_res store_file_private(const char *where)
{
    int fd = open(where, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    ENSURE(fd >= 0, VT_ERR_IO);
    struct stat st;
    vt_res r = vti_ok();
    if (fstat(fd, &st) != 0)
        r = VT_FAIL(VT_ERR_IO);
    else if (S_ISREG(st.st_mode) && (st.st_mode & 077) != 0)
        r = VT_FAIL(VT_ERR_BROKER_STORE_PERMS);
    close(fd);
    return r;
}

/* where-wal and where-shm left behind with group/other bits (e.g. by a broker that ran on a
 * store file of mode 0644) get mode 0600 before SQLite reuses them. Absent files are fine. */
static vt_res store_sidecars_private(const char *where)
{
    static const char *const sfx[] = { "-wal", "-shm" };
    for (size_t i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
        char p[4096];
        int k = snprintf(p, sizeof(p), "%s%s", where, sfx[i]);
        ENSURE(k > 0 && (size_t)k < sizeof(p), VT_ERR_IO);
        int fd = open(p, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
        if (fd < 0 && errno == ENOENT)
            continue;
        ENSURE(fd >= 0, VT_ERR_IO);
        struct stat st;
        bool ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
                  ((st.st_mode & 077) == 0 || fchmod(fd, st.st_mode & 0600) == 0);
        close(fd);
        ENSURE(ok, VT_ERR_BROKER_STORE_PERMS);
    }
    return vti_ok();
}

/* A connection to where (its mutexes initialised), not yet configured. */
static vt_res conn_open(const char *where, struct vtb_store **ret)
{
    struct vtb_store *s = calloc(1, sizeof(*s));
    ENSURE(s, VT_ERR_NOMEM);
    pthread_mutex_init(&s->lock, NULL);
    pthread_mutex_init(&s->aq_lock, NULL);
    pthread_cond_init(&s->aq_cond, NULL);
    s->aq_tail = &s->aq_head;
    *ret = s;
    if (sqlite3_open_v2(where, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX, NULL) !=
        SQLITE_OK)
        return db_fail(s, "open");
    sqlite3_busy_timeout(s->db, 5000);
    return vti_ok();
}

static vt_res sq_open(const char *where, struct vtb_store **ret)
{
    ENSURE(where && *where, VT_ERR_INVALID_ARG);
    GUARD(store_file_private(where));
    GUARD(store_sidecars_private(where));
    struct vtb_store *s = NULL;
    vt_res r = conn_open(where, &s);
    if (r.err)
        goto fail;
    GUARD_GOTO(exec(s, "PRAGMA journal_mode=WAL;"), r, fail);
    GUARD_GOTO(exec(s, "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"
                       "PRAGMA secure_delete=ON;"), r, fail);
    GUARD_GOTO(exec(s, schema), r, fail);
    GUARD_GOTO(migrate(s), r, fail);
    /* the reader: after the schema (its statements are prepared against it) */
    GUARD_GOTO(conn_open(where, &s->rd), r, fail);
    GUARD_GOTO(exec(s->rd, "PRAGMA query_only=ON;"), r, fail);
    *ret = s;
    return vti_ok();
fail:
    sq_close(s);
    return r;
}

/* Keep a new statement in a free slot if there is one (else unprep finalizes it). */
static void stmt_keep(struct vtb_store *s, const char *sql, sqlite3_stmt *st)
{
    for (int i = 0; i < STMT_SLOTS; i++) {
        struct stmt_slot *k = &s->stmts[i];
        if (k->st)
            continue;
        k->sql = strdup(sql);
        if (k->sql) {
            k->st = st;
            k->busy = true;
        }
        return;
    }
}

/* Prepare under the lock held by the caller: a kept statement of the same SQL that is not in
 * use, reset and unbound, else a new one. Give it back with unprep(). */
static vt_res prep(struct vtb_store *s, const char *sql, sqlite3_stmt **st)
{
    for (int i = 0; i < STMT_SLOTS; i++) {
        struct stmt_slot *k = &s->stmts[i];
        if (k->st && !k->busy && strcmp(k->sql, sql) == 0) {
            k->busy = true;
            *st = k->st;
            return vti_ok();
        }
    }
    if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL) != SQLITE_OK)
        return db_fail(s, "prepare");
    stmt_keep(s, sql, *st);
    return vti_ok();
}

/* Give back a statement from prep() (NULL: nothing), under the same lock: a kept one is
 * reset and its bindings cleared for the next prep(), any other finalized. */
static void unprep(struct vtb_store *s, sqlite3_stmt *st)
{
    if (!st)
        return;
    for (int i = 0; i < STMT_SLOTS; i++) {
        if (s->stmts[i].st == st) {
            sqlite3_reset(st);
            sqlite3_clear_bindings(st);
            s->stmts[i].busy = false;
            return;
        }
    }
    sqlite3_finalize(st);
}

static vt_res step_done(struct vtb_store *s, sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    if (rc != SQLITE_DONE)
        return db_fail(s, "step");
    return vti_ok();
}

static vt_res sq_meta_get(struct vtb_store *s, const char *key, struct vt_buf *out)
{
    sqlite3_stmt *st = NULL;
    vt_res r = vti_ok();
    pthread_mutex_lock(&s->lock);
    GUARD_GOTO(prep(s, "SELECT v FROM meta WHERE k = ?1", &st), r, out);
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        r = vti_buf_append(out, sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0));
    } else if (rc == SQLITE_DONE) {
        r = VT_FAIL(VT_ERR_NOT_FOUND);
    } else {
        r = db_fail(s, "meta_get");
    }
out:
    unprep(s, st);
    pthread_mutex_unlock(&s->lock);
    return r;
}

static vt_res sq_meta_put(struct vtb_store *s, const char *key, const uint8_t *p, size_t n)
{
    sqlite3_stmt *st = NULL;
    vt_res r = vti_ok();
    pthread_mutex_lock(&s->lock);
    /* insert only: a second writer (another broker on the same file) gets EXISTS */
    GUARD_GOTO(prep(s, "INSERT INTO meta (k, v) VALUES (?1, ?2)", &st), r, out);
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, p, (int)n, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if ((rc & 0xff) == SQLITE_CONSTRAINT)
        r = VT_FAIL(VT_ERR_BROKER_EXISTS);
    else if (rc != SQLITE_DONE)
        r = db_fail(s, "meta_put");
out:
    unprep(s, st);
    pthread_mutex_unlock(&s->lock);
    return r;
}

/* The insert of sq_secret_put, in the caller's transaction (lock held). */
static vt_res secret_insert(struct vtb_store *s, const char *path, const char *kind,
                            int64_t version, const uint8_t *blob, size_t n, bool replace,
                            int64_t now)
{
    sqlite3_stmt *st = NULL;
    if (replace) {
        GUARD(prep(s, "DELETE FROM secrets WHERE path = ?1 AND version <> ?2", &st));
        sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, version);
        vt_res r = step_done(s, st);
        unprep(s, st);
        st = NULL;
        GUARD(r);
    }
    GUARD(prep(s, "INSERT INTO secrets (path, version, kind, blob, created) "
                  "VALUES (?1, ?2, ?3, ?4, ?5)", &st));
    sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, version);
    sqlite3_bind_text(st, 3, kind, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 4, blob, (int)n, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, now);
    int rc = sqlite3_step(st);
    vt_res r = vti_ok();
    if (rc == SQLITE_CONSTRAINT)
        r = VT_FAIL(VT_ERR_BROKER_EXISTS);
    else if (rc != SQLITE_DONE)
        r = db_fail(s, "secret_put");
    unprep(s, st);
    return r;
}

/* The newest stored version of path, 0 when none (in the caller's transaction). */
static vt_res newest_version(struct vtb_store *s, const char *path, int64_t *v)
{
    sqlite3_stmt *st = NULL;
    GUARD(prep(s, "SELECT COALESCE(MAX(version), 0) FROM secrets WHERE path = ?1", &st));
    sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
    vt_res r = vti_ok();
    if (sqlite3_step(st) == SQLITE_ROW)
        *v = sqlite3_column_int64(st, 0);
    else
        r = db_fail(s, "newest_version");
    unprep(s, st);
    return r;
}

/* path's latest-version record := (version, deleted) tagged by tag (caller's transaction). */
static vt_res latest_write(struct vtb_store *s, const char *path, int64_t version, bool deleted,
                           vtb_latest_tag_cb tag, void *arg)
{
    uint8_t mac[VTB_MAC_LEN];
    GUARD(tag(path, version, deleted, mac, arg));
    sqlite3_stmt *st = NULL;
    GUARD(prep(s, "INSERT OR REPLACE INTO secret_latest (path, version, deleted, mac) "
                  "VALUES (?1, ?2, ?3, ?4)", &st));
    sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, version);
    sqlite3_bind_int(st, 3, deleted ? 1 : 0);
    sqlite3_bind_blob(st, 4, mac, VTB_MAC_LEN, SQLITE_TRANSIENT);
    vt_res r = step_done(s, st);
    unprep(s, st);
    return r;
}

/* One write transaction (BEGIN IMMEDIATE: other processes on the file wait) around the
 * secret insert and, with tag, the path's latest-version record. */
static vt_res secret_put_tx(struct vtb_store *s, const char *path, const char *kind,
                            int64_t version, const uint8_t *blob, size_t n, bool replace,
                            int64_t now, vtb_latest_tag_cb tag, void *arg)
{
    ENSURE(n <= INT32_MAX, VT_ERR_TOO_LARGE);
    pthread_mutex_lock(&s->lock);
    vt_res r = exec(s, "BEGIN IMMEDIATE");
    if (r.err) {
        pthread_mutex_unlock(&s->lock);
        return r;
    }
    r = secret_insert(s, path, kind, version, blob, n, replace, now);
    int64_t newest = 0;
    if (!r.err && tag)
        r = newest_version(s, path, &newest);
    if (!r.err && tag)
        r = latest_write(s, path, newest, false, tag, arg);
    if (!r.err)
        r = exec(s, "COMMIT");
    if (r.err)
        (void)exec(s, "ROLLBACK");
    pthread_mutex_unlock(&s->lock);
    return r;
}

static vt_res sq_secret_put(struct vtb_store *s, const char *path, const char *kind,
                            int64_t version, const uint8_t *blob, size_t n, bool replace,
                            int64_t now)
{
    return secret_put_tx(s, path, kind, version, blob, n, replace, now, NULL, NULL);
}

static vt_res sq_secret_put_latest(struct vtb_store *s, const char *path, const char *kind,
                                   int64_t version, const uint8_t *blob, size_t n, bool replace,
                                   int64_t now, vtb_latest_tag_cb tag, void *arg)
{
    ENSURE(tag, VT_ERR_INVALID_ARG);
    return secret_put_tx(s, path, kind, version, blob, n, replace, now, tag, arg);
}

static vt_res sq_secret_get(struct vtb_store *s, const char *path, int64_t version, char *kind,
                            int64_t *ret_version, struct vt_buf *blob)
{
    struct vtb_store *c = reader(s);
    sqlite3_stmt *st = NULL;
    vt_res r = vti_ok();
    pthread_mutex_lock(&c->lock);
    if (version == 0)
        GUARD_GOTO(prep(c, "SELECT kind, version, blob FROM secrets WHERE path = ?1 "
                           "ORDER BY version DESC LIMIT 1", &st), r, out);
    else
        GUARD_GOTO(prep(c, "SELECT kind, version, blob FROM secrets WHERE path = ?1 "
                           "AND version = ?2", &st), r, out);
    sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
    if (version)
        sqlite3_bind_int64(st, 2, version);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        r = VT_FAIL(VT_ERR_BROKER_UNKNOWN_RESOURCE);
        goto out;
    }
    if (rc != SQLITE_ROW) {
        r = db_fail(c, "secret_get");
        goto out;
    }
    const char *k = (const char *)sqlite3_column_text(st, 0);
    snprintf(kind, 16, "%s", k ? k : "");
    *ret_version = sqlite3_column_int64(st, 1);
    r = vti_buf_append(blob, sqlite3_column_blob(st, 2), (size_t)sqlite3_column_bytes(st, 2));
out:
    unprep(c, st);
    pthread_mutex_unlock(&c->lock);
    return r;
}

static vt_res sq_secret_delete(struct vtb_store *s, const char *path)
{
    sqlite3_stmt *st = NULL;
    vt_res r = vti_ok();
    pthread_mutex_lock(&s->lock);
    GUARD_GOTO(prep(s, "DELETE FROM secrets WHERE path = ?1", &st), r, out);
    sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
    GUARD_GOTO(step_done(s, st), r, out);
    if (sqlite3_changes(s->db) == 0)
        r = VT_FAIL(VT_ERR_BROKER_UNKNOWN_RESOURCE);
out:
    unprep(s, st);
    pthread_mutex_unlock(&s->lock);
    return r;
}

static vt_res sq_secret_delete_latest(struct vtb_store *s, const char *path,
                                      vtb_latest_tag_cb tag, void *arg)
{
    ENSURE(tag, VT_ERR_INVALID_ARG);
    sqlite3_stmt *st = NULL;
    int64_t newest = 0;
    pthread_mutex_lock(&s->lock);
    vt_res r = exec(s, "BEGIN IMMEDIATE");
    if (r.err) {
        pthread_mutex_unlock(&s->lock);
        return r;
    }
    r = newest_version(s, path, &newest);
    if (!r.err && newest == 0)
        r = VT_FAIL(VT_ERR_BROKER_UNKNOWN_RESOURCE);
    if (!r.err)
        r = prep(s, "DELETE FROM secrets WHERE path = ?1", &st);
    if (!r.err) {
        sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
        r = step_done(s, st);
    }
    unprep(s, st);
    if (!r.err)
        r = latest_write(s, path, newest, true, tag, arg);
    if (!r.err)
        r = exec(s, "COMMIT");
    if (r.err)
        (void)exec(s, "ROLLBACK");
    pthread_mutex_unlock(&s->lock);
    return r;
}

/* A tag column: has only when exactly VTB_MAC_LEN bytes (NULL or any other size: none). */
static void col_mac(sqlite3_stmt *st, int i, uint8_t *mac, bool *has)
{
    const void *p = sqlite3_column_blob(st, i);
    *has = p && sqlite3_column_bytes(st, i) == VTB_MAC_LEN;
    if (*has)
        memcpy(mac, p, VTB_MAC_LEN);
}

/* One statement (one read snapshot): the record, the newest version and the wanted row. */
static vt_res sq_secret_get_latest(struct vtb_store *s, const char *path, int64_t version,
                                   char *kind, int64_t *ret_version, struct vt_buf *blob,
                                   int64_t *newest, struct vtb_latest *rec)
{
    struct vtb_store *c = reader(s);
    sqlite3_stmt *st = NULL;
    memset(rec, 0, sizeof(*rec));
    *newest = 0;
    pthread_mutex_lock(&c->lock);
    vt_res r = prep(c, "SELECT l.version, l.deleted, l.mac, (SELECT MAX(version) FROM secrets "
                       "WHERE path = ?1), x.kind, x.version, x.blob FROM (SELECT ?1 AS p) q "
                       "LEFT JOIN secret_latest l ON l.path = q.p LEFT JOIN secrets x ON "
                       "x.path = q.p AND x.version = CASE WHEN ?2 = 0 THEN (SELECT MAX(version) "
                       "FROM secrets WHERE path = ?1) ELSE ?2 END", &st);
    if (r.err)
        goto out;
    sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, version);
    if (sqlite3_step(st) != SQLITE_ROW) {
        r = db_fail(c, "secret_get_latest");
        goto out;
    }
    rec->present = sqlite3_column_type(st, 0) != SQLITE_NULL;
    rec->version = sqlite3_column_int64(st, 0);
    rec->deleted = sqlite3_column_int(st, 1) != 0;
    col_mac(st, 2, rec->mac, &rec->has_mac);
    *newest = sqlite3_column_int64(st, 3);
    if (sqlite3_column_type(st, 4) == SQLITE_NULL) {
        r = VT_FAIL(VT_ERR_BROKER_UNKNOWN_RESOURCE);
        goto out;
    }
    snprintf(kind, 16, "%s", (const char *)sqlite3_column_text(st, 4));
    *ret_version = sqlite3_column_int64(st, 5);
    r = vti_buf_append(blob, sqlite3_column_blob(st, 6), (size_t)sqlite3_column_bytes(st, 6));
out:
    unprep(c, st);
    pthread_mutex_unlock(&c->lock);
    return r;
}

static vt_res sq_secret_list(struct vtb_store *s, vtb_secret_cb cb, void *arg)
{
    sqlite3_stmt *st = NULL;
    vt_res r = vti_ok();
    pthread_mutex_lock(&s->lock);
    GUARD_GOTO(prep(s, "SELECT path, kind, MAX(version), COUNT(*), MAX(created) FROM secrets "
                       "GROUP BY path ORDER BY path", &st), r, out);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct vtb_secret_info i = {
            .path = (const char *)sqlite3_column_text(st, 0),
            .kind = (const char *)sqlite3_column_text(st, 1),
            .version = sqlite3_column_int64(st, 2),
            .versions = sqlite3_column_int64(st, 3),
            .updated = sqlite3_column_int64(st, 4),
        };
        cb(&i, arg);
    }
    if (rc != SQLITE_DONE)
        r = db_fail(s, "secret_list");
out:
    unprep(s, st);
    pthread_mutex_unlock(&s->lock);
    return r;
}

static vt_res sq_refval_add(struct vtb_store *s, const struct vtb_refval *rv, int64_t *ret_id)
{
    sqlite3_stmt *st = NULL;
    vt_res r = vti_ok();
    pthread_mutex_lock(&s->lock);
    GUARD_GOTO(prep(s, "INSERT INTO refvals (name, value, source, expires, added, mac) "
                       "VALUES (?1, ?2, ?3, ?4, ?5, ?6)", &st), r, out);
    sqlite3_bind_text(st, 1, rv->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, rv->value, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, rv->source ? rv->source : "", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, rv->expires);
    sqlite3_bind_int64(st, 5, rv->added);
    if (rv->has_mac)
        sqlite3_bind_blob(st, 6, rv->mac, VTB_MAC_LEN, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 6);
    GUARD_GOTO(step_done(s, st), r, out);
    if (ret_id)
        *ret_id = sqlite3_last_insert_rowid(s->db);
out:
    unprep(s, st);
    pthread_mutex_unlock(&s->lock);
    return r;
}

static vt_res sq_refval_delete(struct vtb_store *s, int64_t id)
{
    sqlite3_stmt *st = NULL;
    vt_res r = vti_ok();
    pthread_mutex_lock(&s->lock);
    GUARD_GOTO(prep(s, "DELETE FROM refvals WHERE id = ?1", &st), r, out);
    sqlite3_bind_int64(st, 1, id);
    GUARD_GOTO(step_done(s, st), r, out);
    if (sqlite3_changes(s->db) == 0)
        r = VT_FAIL(VT_ERR_NOT_FOUND);
out:
    unprep(s, st);
    pthread_mutex_unlock(&s->lock);
    return r;
}

static vt_res sq_refval_list(struct vtb_store *s, vtb_refval_cb cb, void *arg)
{
    sqlite3_stmt *st = NULL;
    vt_res r = vti_ok();
    pthread_mutex_lock(&s->lock);
    GUARD_GOTO(prep(s, "SELECT id, name, value, source, expires, added, mac FROM refvals "
                       "ORDER BY id", &st), r, out);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct vtb_refval v = {
            .id = sqlite3_column_int64(st, 0),
            .name = (const char *)sqlite3_column_text(st, 1),
            .value = (const char *)sqlite3_column_text(st, 2),
            .source = (const char *)sqlite3_column_text(st, 3),
            .expires = sqlite3_column_int64(st, 4),
            .added = sqlite3_column_int64(st, 5),
        };
        col_mac(st, 6, v.mac, &v.has_mac);
        cb(&v, arg);
    }
    if (rc != SQLITE_DONE)
        r = db_fail(s, "refval_list");
out:
    unprep(s, st);
    pthread_mutex_unlock(&s->lock);
    return r;
}

static vt_res sq_policy_set(struct vtb_store *s, const char *doc, int64_t now)
{
    sqlite3_stmt *st = NULL;
    vt_res r = vti_ok();
    pthread_mutex_lock(&s->lock);
    GUARD_GOTO(prep(s, "INSERT OR REPLACE INTO policy (id, doc, updated) VALUES (1, ?1, ?2)",
                    &st), r, out);
    sqlite3_bind_text(st, 1, doc, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, now);
    r = step_done(s, st);
out:
    unprep(s, st);
    pthread_mutex_unlock(&s->lock);
    return r;
}

static vt_res sq_policy_get(struct vtb_store *s, struct vt_buf *out)
{
    sqlite3_stmt *st = NULL;
    vt_res r = vti_ok();
    pthread_mutex_lock(&s->lock);
    GUARD_GOTO(prep(s, "SELECT doc FROM policy WHERE id = 1", &st), r, out);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        r = vti_buf_append(out, sqlite3_column_text(st, 0), (size_t)sqlite3_column_bytes(st, 0));
        if (!r.err)
            r = vti_buf_cstr(out);
    } else if (rc == SQLITE_DONE) {
        r = VT_FAIL(VT_ERR_NOT_FOUND);
    } else {
        r = db_fail(s, "policy_get");
    }
out:
    unprep(s, st);
    pthread_mutex_unlock(&s->lock);
    return r;
}

static vt_res sq_policy_put(struct vtb_store *s, const char *doc, int64_t now,
                            const uint8_t *mac)
{
    sqlite3_stmt *st = NULL;
    vt_res r = vti_ok();
    pthread_mutex_lock(&s->lock);
    GUARD_GOTO(prep(s, "INSERT OR REPLACE INTO policy (id, doc, updated, mac) "
                       "VALUES (1, ?1, ?2, ?3)", &st), r, out);
    sqlite3_bind_text(st, 1, doc, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, now);
    sqlite3_bind_blob(st, 3, mac, VTB_MAC_LEN, SQLITE_STATIC);
    r = step_done(s, st);
out:
    unprep(s, st);
    pthread_mutex_unlock(&s->lock);
    return r;
}

static vt_res sq_policy_read(struct vtb_store *s, struct vt_buf *out, int64_t *updated,
                             uint8_t *mac, bool *has_mac)
{
    sqlite3_stmt *st = NULL;
    vt_res r = vti_ok();
    pthread_mutex_lock(&s->lock);
    GUARD_GOTO(prep(s, "SELECT doc, updated, mac FROM policy WHERE id = 1", &st), r, out);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        r = vti_buf_append(out, sqlite3_column_text(st, 0), (size_t)sqlite3_column_bytes(st, 0));
        if (!r.err)
            r = vti_buf_cstr(out);
        *updated = sqlite3_column_int64(st, 1);
        col_mac(st, 2, mac, has_mac);
    } else if (rc == SQLITE_DONE) {
        r = VT_FAIL(VT_ERR_NOT_FOUND);
    } else {
        r = db_fail(s, "policy_read");
    }
out:
    unprep(s, st);
    pthread_mutex_unlock(&s->lock);
    return r;
}

static vt_res sq_refval_set_mac(struct vtb_store *s, int64_t id, const uint8_t *mac)
{
    sqlite3_stmt *st = NULL;
    vt_res r = vti_ok();
    pthread_mutex_lock(&s->lock);
    GUARD_GOTO(prep(s, "UPDATE refvals SET mac = ?2 WHERE id = ?1", &st), r, out);
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_blob(st, 2, mac, VTB_MAC_LEN, SQLITE_STATIC);
    r = step_done(s, st);
out:
    unprep(s, st);
    pthread_mutex_unlock(&s->lock);
    return r;
}

/* One audit row (the caller holds s->lock). */
static vt_res audit_insert(struct vtb_store *s, const struct vtb_audit *a)
{
    sqlite3_stmt *st = NULL;
    vt_res r = vti_ok();
    GUARD_GOTO(prep(s, "INSERT INTO audit (time, rid, peer, tee, op, path, decision, reason, "
                       "insecure) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)", &st), r, out);
    sqlite3_bind_int64(st, 1, a->time);
    sqlite3_bind_text(st, 2, a->rid, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, a->peer, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, a->tee, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, a->op, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, a->path, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, a->decision, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 8, a->reason, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 9, a->insecure ? 1 : 0);
    r = step_done(s, st);
out:
    unprep(s, st);
    return r;
}

/* Every row of batch in ONE transaction (one fsync); if any insert or the COMMIT fails, the
 * transaction is rolled back and each row is inserted on its own, so that every caller gets
 * the result of its own row. Takes s->lock. */
static void audit_commit_batch(struct vtb_store *s, struct vtb_audit_pending *batch)
{
    pthread_mutex_lock(&s->lock);
    bool grouped = false;
    if (batch->next && !exec(s, "BEGIN IMMEDIATE").err) {
        vt_res r = vti_ok();
        for (struct vtb_audit_pending *w = batch; w && !r.err; w = w->next)
            r = audit_insert(s, w->a);
        if (!r.err)
            r = exec(s, "COMMIT");
        if (r.err)
            (void)exec(s, "ROLLBACK");
        grouped = !r.err;
    }
    for (struct vtb_audit_pending *w = batch; w; w = w->next)
        w->r = grouped ? vti_ok() : audit_insert(s, w->a);
    pthread_mutex_unlock(&s->lock);
}

/* Group commit, first half: queue the row (written by whichever caller leads next). */
static void sq_audit_submit(struct vtb_store *s, struct vtb_audit_pending *p)
{
    p->done = false, p->next = NULL, p->r = vti_ok();
    pthread_mutex_lock(&s->aq_lock);
    *s->aq_tail = p;
    s->aq_tail = &p->next;
    pthread_mutex_unlock(&s->aq_lock);
}

/* Second half: the first waiter that finds no leader writes the whole queue (its own row
 * included, and the rows of callers still working since their submit) and wakes the others;
 * a caller returns once its row is written: at once if a leader already wrote it. */
static vt_res sq_audit_wait(struct vtb_store *s, struct vtb_audit_pending *p)
{
    pthread_mutex_lock(&s->aq_lock);
    while (!p->done) {
        if (s->aq_leader) {
            pthread_cond_wait(&s->aq_cond, &s->aq_lock);
            continue;
        }
        struct vtb_audit_pending *batch = s->aq_head;
        s->aq_head = NULL, s->aq_tail = &s->aq_head, s->aq_leader = true;
        pthread_mutex_unlock(&s->aq_lock);
        audit_commit_batch(s, batch);
        pthread_mutex_lock(&s->aq_lock);
        for (struct vtb_audit_pending *w = batch, *n; w; w = n) {
            n = w->next; /* w belongs to its caller once done is set */
            w->done = true;
        }
        s->aq_leader = false;
        pthread_cond_broadcast(&s->aq_cond);
    }
    pthread_mutex_unlock(&s->aq_lock);
    return p->r;
}

static vt_res sq_audit_append(struct vtb_store *s, const struct vtb_audit *a)
{
    struct vtb_audit_pending me = { .a = a };
    sq_audit_submit(s, &me);
    return sq_audit_wait(s, &me);
}

static const char *col_text(sqlite3_stmt *st, int i)
{
    const char *t = (const char *)sqlite3_column_text(st, i);
    return t ? t : "";
}

static vt_res sq_audit_list(struct vtb_store *s, int64_t limit, vtb_audit_cb cb, void *arg)
{
    sqlite3_stmt *st = NULL;
    vt_res r = vti_ok();
    pthread_mutex_lock(&s->lock);
    GUARD_GOTO(prep(s, "SELECT * FROM (SELECT seq, time, rid, peer, tee, op, path, decision, "
                       "reason, insecure FROM audit ORDER BY seq DESC LIMIT ?1) ORDER BY seq",
                    &st), r, out);
    sqlite3_bind_int64(st, 1, limit);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct vtb_audit a = {
            .time = sqlite3_column_int64(st, 1), .rid = col_text(st, 2),
            .peer = col_text(st, 3), .tee = col_text(st, 4), .op = col_text(st, 5),
            .path = col_text(st, 6), .decision = col_text(st, 7), .reason = col_text(st, 8),
            .insecure = sqlite3_column_int(st, 9) != 0,
        };
        cb(sqlite3_column_int64(st, 0), &a, arg);
    }
    if (rc != SQLITE_DONE)
        r = db_fail(s, "audit_list");
out:
    unprep(s, st);
    pthread_mutex_unlock(&s->lock);
    return r;
}

static vt_res sq_audit_after(struct vtb_store *s, int64_t after, int64_t limit, vtb_audit_cb cb,
                             void *arg)
{
    sqlite3_stmt *st = NULL;
    vt_res r = vti_ok();
    pthread_mutex_lock(&s->lock);
    GUARD_GOTO(prep(s, "SELECT seq, time, rid, peer, tee, op, path, decision, reason, insecure "
                       "FROM audit WHERE seq > ?1 ORDER BY seq LIMIT ?2", &st), r, out);
    sqlite3_bind_int64(st, 1, after);
    sqlite3_bind_int64(st, 2, limit);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct vtb_audit a = {
            .time = sqlite3_column_int64(st, 1), .rid = col_text(st, 2),
            .peer = col_text(st, 3), .tee = col_text(st, 4), .op = col_text(st, 5),
            .path = col_text(st, 6), .decision = col_text(st, 7), .reason = col_text(st, 8),
            .insecure = sqlite3_column_int(st, 9) != 0,
        };
        cb(sqlite3_column_int64(st, 0), &a, arg);
    }
    if (rc != SQLITE_DONE)
        r = db_fail(s, "audit_after");
out:
    unprep(s, st);
    pthread_mutex_unlock(&s->lock);
    return r;
}

/* The prune's statements, in the caller's transaction. */
static vt_res sq_prune_rows(struct vtb_store *s, int64_t before, int64_t *deleted)
{
    sqlite3_stmt *st = NULL;
    GUARD(exec(s, "UPDATE audit_prune_gate SET open = 1 WHERE id = 1"));
    vt_res r = prep(s, "DELETE FROM audit WHERE time < ?1", &st);
    if (!r.err) {
        sqlite3_bind_int64(st, 1, before);
        r = step_done(s, st);
    }
    unprep(s, st);
    if (!r.err)
        *deleted = sqlite3_changes(s->db);
    vt_res c = exec(s, "UPDATE audit_prune_gate SET open = 0 WHERE id = 1");
    return r.err ? r : c;
}

static vt_res sq_audit_prune(struct vtb_store *s, int64_t before, const struct vtb_audit *rec,
                             int64_t *deleted)
{
    ENSURE(before >= 1 && rec && deleted, VT_ERR_INVALID_ARG);
    *deleted = 0;
    pthread_mutex_lock(&s->lock);
    vt_res r = exec(s, "BEGIN IMMEDIATE");
    if (r.err) {
        pthread_mutex_unlock(&s->lock);
        return r;
    }
    r = sq_prune_rows(s, before, deleted);
    char why[512];
    snprintf(why, sizeof(why), "%s deleted=%lld", rec->reason, (long long)*deleted);
    struct vtb_audit a = *rec;
    a.reason = why;
    if (!r.err)
        r = audit_insert(s, &a);
    vt_res c = exec(s, r.err ? "ROLLBACK" : "COMMIT");
    pthread_mutex_unlock(&s->lock);
    if (r.err)
        *deleted = 0;
    return r.err ? r : c;
}

/* ---- KBS sessions ------------------------------------------------------------------- */

/* Session writes: s->lock taken and the connection switched to synchronous=NORMAL (no fsync
 * at COMMIT, see the file comment); session_unlock switches it back to FULL before anything
 * else can use the connection. */
static vt_res session_lock(struct vtb_store *s)
{
    pthread_mutex_lock(&s->lock);
    vt_res r = exec(s, "PRAGMA synchronous=NORMAL");
    if (r.err)
        pthread_mutex_unlock(&s->lock);
    return r;
}

static vt_res session_unlock(struct vtb_store *s, vt_res r)
{
    vt_res f = exec(s, "PRAGMA synchronous=FULL");
    pthread_mutex_unlock(&s->lock);
    return r.err ? r : f;
}

static vt_res sq_session_put(struct vtb_store *s, const char *id, int state, const uint8_t *p,
                             size_t n, int64_t expires)
{
    ENSURE(n <= INT32_MAX, VT_ERR_TOO_LARGE);
    sqlite3_stmt *st = NULL;
    vt_res r = vti_ok();
    GUARD(session_lock(s));
    GUARD_GOTO(prep(s, "INSERT INTO kbs_sessions (id, state, blob, expires) "
                       "VALUES (?1, ?2, ?3, ?4)", &st), r, out);
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, state);
    sqlite3_bind_blob(st, 3, p, (int)n, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, expires);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_CONSTRAINT)
        r = VT_FAIL(VT_ERR_BROKER_EXISTS);
    else if (rc != SQLITE_DONE)
        r = db_fail(s, "session_put");
out:
    unprep(s, st);
    return session_unlock(s, r);
}

static vt_res sq_session_put_capped(struct vtb_store *s, const char *id, int state,
                                    const uint8_t *p, size_t n, int64_t expires,
                                    const char *peer, int64_t now, int64_t max)
{
    ENSURE(n <= INT32_MAX, VT_ERR_TOO_LARGE);
    sqlite3_stmt *st = NULL;
    vt_res r = vti_ok();
    GUARD(session_lock(s));
    GUARD_GOTO(prep(s, "INSERT INTO kbs_sessions (id, state, blob, expires, peer) "
                       "SELECT ?1, ?2, ?3, ?4, ?5 WHERE (SELECT count(*) FROM kbs_sessions "
                       "WHERE peer = ?5 AND expires > ?6) < ?7", &st), r, out);
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, state);
    sqlite3_bind_blob(st, 3, p, (int)n, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, expires);
    sqlite3_bind_text(st, 5, peer, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, now);
    sqlite3_bind_int64(st, 7, max);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_CONSTRAINT)
        r = VT_FAIL(VT_ERR_BROKER_EXISTS);
    else if (rc != SQLITE_DONE)
        r = db_fail(s, "session_put");
    else if (sqlite3_changes(s->db) == 0)
        r = VT_FAIL(VT_ERR_BROKER_KBS_SESSION_LIMIT);
out:
    unprep(s, st);
    return session_unlock(s, r);
}

static vt_res sq_session_get(struct vtb_store *s, const char *id, int64_t now, int *state,
                             struct vt_buf *out)
{
    struct vtb_store *c = reader(s);
    sqlite3_stmt *st = NULL;
    vt_res r = vti_ok();
    pthread_mutex_lock(&c->lock);
    GUARD_GOTO(prep(c, "SELECT state, blob FROM kbs_sessions WHERE id = ?1 AND expires > ?2",
                    &st), r, out);
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, now);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *state = sqlite3_column_int(st, 0);
        r = vti_buf_append(out, sqlite3_column_blob(st, 1), (size_t)sqlite3_column_bytes(st, 1));
    } else if (rc == SQLITE_DONE) {
        r = VT_FAIL(VT_ERR_NOT_FOUND);
    } else {
        r = db_fail(c, "session_get");
    }
out:
    unprep(c, st);
    pthread_mutex_unlock(&c->lock);
    return r;
}

static vt_res sq_session_advance(struct vtb_store *s, const char *id, int from, int to,
                                 const uint8_t *p, size_t n, int64_t now)
{
    ENSURE(n <= INT32_MAX, VT_ERR_TOO_LARGE);
    sqlite3_stmt *st = NULL;
    vt_res r = vti_ok();
    GUARD(session_lock(s));
    GUARD_GOTO(prep(s, "UPDATE kbs_sessions SET state = ?3, blob = ?4 WHERE id = ?1 AND "
                       "state = ?2 AND expires > ?5", &st), r, out);
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, from);
    sqlite3_bind_int(st, 3, to);
    sqlite3_bind_blob(st, 4, p, (int)n, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, now);
    GUARD_GOTO(step_done(s, st), r, out);
    if (sqlite3_changes(s->db) != 1)
        r = VT_FAIL(VT_ERR_NOT_FOUND);
out:
    unprep(s, st);
    return session_unlock(s, r);
}

static vt_res sq_session_sweep(struct vtb_store *s, int64_t now)
{
    sqlite3_stmt *st = NULL;
    vt_res r = vti_ok();
    GUARD(session_lock(s));
    GUARD_GOTO(prep(s, "DELETE FROM kbs_sessions WHERE expires <= ?1", &st), r, out);
    sqlite3_bind_int64(st, 1, now);
    r = step_done(s, st);
out:
    unprep(s, st);
    return session_unlock(s, r);
}

/* Every secret blob re-sealed through cb (in the caller's transaction). */
static vt_res reseal_secrets(struct vtb_store *s, vtb_reseal_cb cb, void *arg, struct vt_buf *nb)
{
    sqlite3_stmt *sel = NULL, *upd = NULL;
    vt_res r = prep(s, "SELECT path, kind, version, blob FROM secrets ORDER BY path, version",
                    &sel);
    if (!r.err)
        r = prep(s, "UPDATE secrets SET blob = ?1 WHERE path = ?2 AND version = ?3", &upd);
    int rc = SQLITE_DONE;
    while (!r.err && (rc = sqlite3_step(sel)) == SQLITE_ROW) {
        const char *path = (const char *)sqlite3_column_text(sel, 0);
        const char *kind = (const char *)sqlite3_column_text(sel, 1);
        int64_t ver = sqlite3_column_int64(sel, 2);
        if (!path || !kind) {
            r = VT_FAIL(VT_ERR_BROKER_STORE_CORRUPT);
            break;
        }
        nb->len = 0;
        r = cb(path, kind, ver, sqlite3_column_blob(sel, 3), (size_t)sqlite3_column_bytes(sel, 3),
               nb, arg);
        if (!r.err && nb->len > INT32_MAX)
            r = VT_FAIL(VT_ERR_TOO_LARGE);
        if (r.err)
            break;
        sqlite3_reset(upd);
        sqlite3_bind_blob(upd, 1, nb->p, (int)nb->len, SQLITE_STATIC);
        sqlite3_bind_text(upd, 2, path, -1, SQLITE_STATIC);
        sqlite3_bind_int64(upd, 3, ver);
        r = step_done(s, upd);
    }
    if (!r.err && rc != SQLITE_DONE)
        r = db_fail(s, "reseal_all");
    unprep(s, sel);
    unprep(s, upd);
    return r;
}

/* One named meta row re-sealed through cb (absent: nothing to do). */
static vt_res reseal_meta(struct vtb_store *s, const char *key, vtb_reseal_cb cb, void *arg,
                          struct vt_buf *nb)
{
    sqlite3_stmt *sel = NULL, *upd = NULL;
    GUARD(prep(s, "SELECT v FROM meta WHERE k = ?1", &sel));
    sqlite3_bind_text(sel, 1, key, -1, SQLITE_STATIC);
    vt_res r = vti_ok();
    int rc = sqlite3_step(sel);
    if (rc == SQLITE_ROW) {
        nb->len = 0;
        r = cb(key, "meta", 1, sqlite3_column_blob(sel, 0), (size_t)sqlite3_column_bytes(sel, 0),
               nb, arg);
        if (!r.err && nb->len > INT32_MAX)
            r = VT_FAIL(VT_ERR_TOO_LARGE);
        if (!r.err)
            r = prep(s, "UPDATE meta SET v = ?1 WHERE k = ?2", &upd);
        if (!r.err) {
            sqlite3_bind_blob(upd, 1, nb->p, (int)nb->len, SQLITE_STATIC);
            sqlite3_bind_text(upd, 2, key, -1, SQLITE_STATIC);
            r = step_done(s, upd);
        }
    } else if (rc != SQLITE_DONE) {
        r = db_fail(s, "reseal_all meta");
    }
    unprep(s, sel);
    unprep(s, upd);
    return r;
}

/* Set the tag of one row: sql binds ?1 = tag, ?2 = the row's key (text or integer). */
static vt_res set_tag(struct vtb_store *s, const char *sql, const char *key, int64_t id,
                      const uint8_t *mac)
{
    sqlite3_stmt *st = NULL;
    GUARD(prep(s, sql, &st));
    sqlite3_bind_blob(st, 1, mac, VTB_MAC_LEN, SQLITE_TRANSIENT);
    if (key)
        sqlite3_bind_text(st, 2, key, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_int64(st, 2, id);
    vt_res r = step_done(s, st);
    unprep(s, st);
    return r;
}

/* The policy row re-tagged through tcb (in the caller's transaction). */
static vt_res retag_policy(struct vtb_store *s, vtb_retag_cb tcb, void *arg)
{
    sqlite3_stmt *st = NULL;
    GUARD(prep(s, "SELECT doc, updated, mac FROM policy WHERE id = 1", &st));
    vt_res r = vti_ok();
    uint8_t old[VTB_MAC_LEN], mac[VTB_MAC_LEN];
    bool has = false, update = false;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        col_mac(st, 2, old, &has);
        struct vtb_tagged_row row = { .table = "policy", .doc = col_text(st, 0),
                                      .updated = sqlite3_column_int64(st, 1),
                                      .mac = has ? old : NULL };
        r = tcb(&row, mac, &update, arg);
    } else if (rc != SQLITE_DONE) {
        r = db_fail(s, "retag policy");
    }
    unprep(s, st);
    if (!r.err && update)
        r = set_tag(s, "UPDATE policy SET mac = ?1 WHERE id = ?2", NULL, 1, mac);
    return r;
}

/* Every reference value re-tagged through tcb. */
static vt_res retag_refvals(struct vtb_store *s, vtb_retag_cb tcb, void *arg)
{
    sqlite3_stmt *st = NULL;
    GUARD(prep(s, "SELECT id, name, value, source, expires, added, mac FROM refvals "
                  "ORDER BY id", &st));
    vt_res r = vti_ok();
    int rc;
    while (!r.err && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct vtb_refval v = {
            .id = sqlite3_column_int64(st, 0), .name = col_text(st, 1), .value = col_text(st, 2),
            .source = col_text(st, 3), .expires = sqlite3_column_int64(st, 4),
            .added = sqlite3_column_int64(st, 5),
        };
        col_mac(st, 6, v.mac, &v.has_mac);
        struct vtb_tagged_row row = { .table = "refvals", .rv = &v,
                                      .mac = v.has_mac ? v.mac : NULL };
        uint8_t mac[VTB_MAC_LEN];
        bool update = false;
        r = tcb(&row, mac, &update, arg);
        if (!r.err && update)
            r = set_tag(s, "UPDATE refvals SET mac = ?1 WHERE id = ?2", NULL, v.id, mac);
    }
    if (!r.err && rc != SQLITE_DONE)
        r = db_fail(s, "retag refvals");
    unprep(s, st);
    return r;
}

/* Every latest-version record re-tagged through tcb. */
static vt_res retag_latest(struct vtb_store *s, vtb_retag_cb tcb, void *arg)
{
    sqlite3_stmt *st = NULL;
    GUARD(prep(s, "SELECT path, version, deleted, mac FROM secret_latest ORDER BY path", &st));
    vt_res r = vti_ok();
    int rc;
    while (!r.err && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct vtb_latest lt = { .version = sqlite3_column_int64(st, 1),
                                 .deleted = sqlite3_column_int(st, 2) != 0, .present = true };
        col_mac(st, 3, lt.mac, &lt.has_mac);
        const char *path = col_text(st, 0);
        struct vtb_tagged_row row = { .table = "secret_latest", .path = path, .lt = &lt,
                                      .mac = lt.has_mac ? lt.mac : NULL };
        uint8_t mac[VTB_MAC_LEN];
        bool update = false;
        r = tcb(&row, mac, &update, arg);
        if (!r.err && update)
            r = set_tag(s, "UPDATE secret_latest SET mac = ?1 WHERE path = ?2", path, 0, mac);
    }
    if (!r.err && rc != SQLITE_DONE)
        r = db_fail(s, "retag secret_latest");
    unprep(s, st);
    return r;
}

/* Every secret blob and the named meta rows rewritten, and with tcb every tagged row
 * re-tagged, in one IMMEDIATE transaction (see store.h): the WAL commit makes the switch
 * atomic; a kill before COMMIT leaves the old rows. */
static vt_res reseal_tx(struct vtb_store *s, const char *const *meta_keys, vtb_reseal_cb cb,
                        vtb_retag_cb tcb, void *arg)
{
    struct vt_buf nb = VT_BUF_INIT;
    pthread_mutex_lock(&s->lock);
    vt_res r = exec(s, "BEGIN IMMEDIATE");
    if (r.err) {
        pthread_mutex_unlock(&s->lock);
        return r;
    }
    r = reseal_secrets(s, cb, arg, &nb);
    for (size_t i = 0; !r.err && meta_keys && meta_keys[i]; i++)
        r = reseal_meta(s, meta_keys[i], cb, arg, &nb);
    if (!r.err && tcb)
        r = retag_policy(s, tcb, arg);
    if (!r.err && tcb)
        r = retag_refvals(s, tcb, arg);
    if (!r.err && tcb)
        r = retag_latest(s, tcb, arg);
    if (!r.err)
        r = exec(s, "COMMIT");
    if (r.err)
        (void)exec(s, "ROLLBACK");
    pthread_mutex_unlock(&s->lock);
    vti_buf_free(&nb);
    return r;
}

static vt_res sq_reseal_all(struct vtb_store *s, const char *const *meta_keys, vtb_reseal_cb cb,
                            void *arg)
{
    return reseal_tx(s, meta_keys, cb, NULL, arg);
}

static vt_res sq_reseal_retag(struct vtb_store *s, const char *const *meta_keys,
                              vtb_reseal_cb cb, vtb_retag_cb tcb, void *arg)
{
    ENSURE(tcb, VT_ERR_INVALID_ARG);
    return reseal_tx(s, meta_keys, cb, tcb, arg);
}

/* Adoption (store.h latest_adopt): records for the paths without one, and the meta row. */
static vt_res adopt_rows(struct vtb_store *s, vtb_latest_tag_cb tag, void *arg)
{
    sqlite3_stmt *st = NULL;
    GUARD(prep(s, "SELECT x.path, MAX(x.version) FROM secrets x LEFT JOIN secret_latest l ON "
                  "l.path = x.path WHERE l.path IS NULL GROUP BY x.path ORDER BY x.path", &st));
    vt_res r = vti_ok();
    int rc;
    while (!r.err && (rc = sqlite3_step(st)) == SQLITE_ROW)
        r = latest_write(s, col_text(st, 0), sqlite3_column_int64(st, 1), false, tag, arg);
    if (!r.err && rc != SQLITE_DONE)
        r = db_fail(s, "latest_adopt");
    unprep(s, st);
    return r;
}

static vt_res sq_latest_adopt(struct vtb_store *s, vtb_latest_tag_cb tag, void *arg,
                              const char *meta_key, const uint8_t *p, size_t n)
{
    ENSURE(tag && meta_key && n <= INT32_MAX, VT_ERR_INVALID_ARG);
    sqlite3_stmt *st = NULL;
    pthread_mutex_lock(&s->lock);
    vt_res r = exec(s, "BEGIN IMMEDIATE");
    if (r.err) {
        pthread_mutex_unlock(&s->lock);
        return r;
    }
    r = adopt_rows(s, tag, arg);
    if (!r.err)
        r = prep(s, "UPDATE meta SET v = ?1 WHERE k = ?2", &st);
    if (!r.err) {
        sqlite3_bind_blob(st, 1, p, (int)n, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, meta_key, -1, SQLITE_STATIC);
        r = step_done(s, st);
    }
    unprep(s, st);
    if (!r.err)
        r = exec(s, "COMMIT");
    if (r.err)
        (void)exec(s, "ROLLBACK");
    pthread_mutex_unlock(&s->lock);
    return r;
}

static vt_res sq_policy_generation(struct vtb_store *s, int64_t *gen)
{
    struct vtb_store *c = reader(s);
    sqlite3_stmt *st = NULL;
    vt_res r = vti_ok();
    pthread_mutex_lock(&c->lock);
    GUARD_GOTO(prep(c, "SELECT gen FROM policy_gen WHERE id = 1", &st), r, out);
    if (sqlite3_step(st) == SQLITE_ROW)
        *gen = sqlite3_column_int64(st, 0);
    else
        r = db_fail(c, "policy_generation");
out:
    unprep(c, st);
    pthread_mutex_unlock(&c->lock);
    return r;
}

const struct vtb_store_ops vtb_store_sqlite = {
    .name = "sqlite",
    .open = sq_open,
    .close = sq_close,
    .meta_get = sq_meta_get,
    .meta_put = sq_meta_put,
    .secret_put = sq_secret_put,
    .secret_get = sq_secret_get,
    .secret_delete = sq_secret_delete,
    .secret_list = sq_secret_list,
    .refval_add = sq_refval_add,
    .refval_delete = sq_refval_delete,
    .refval_list = sq_refval_list,
    .policy_set = sq_policy_set,
    .policy_get = sq_policy_get,
    .policy_put = sq_policy_put,
    .policy_read = sq_policy_read,
    .refval_set_mac = sq_refval_set_mac,
    .audit_append = sq_audit_append,
    .audit_submit = sq_audit_submit,
    .audit_wait = sq_audit_wait,
    .audit_list = sq_audit_list,
    .audit_after = sq_audit_after,
    .audit_prune = sq_audit_prune,
    .session_put = sq_session_put,
    .session_get = sq_session_get,
    .session_advance = sq_session_advance,
    .session_sweep = sq_session_sweep,
    .session_put_capped = sq_session_put_capped,
    .reseal_all = sq_reseal_all,
    .policy_generation = sq_policy_generation,
    .secret_put_latest = sq_secret_put_latest,
    .secret_delete_latest = sq_secret_delete_latest,
    .secret_get_latest = sq_secret_get_latest,
    .latest_adopt = sq_latest_adopt,
    .reseal_retag = sq_reseal_retag,
};
