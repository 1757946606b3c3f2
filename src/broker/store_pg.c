/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store_pg.c - the PostgreSQL backend of the broker store (store.h), selected with
 * --store postgresql://... so that several broker processes serve one deployment.
 *
 * Durability: one transaction per mutating call; PostgreSQL's default synchronous_commit
 * makes a COMMIT durable before it returns, so killing a broker loses no committed row.
 * Exception: kbs_sessions is UNLOGGED (migration 8; emptied by crash recovery).
 * Schema: versioned migrations in table schema_migrations, applied in one transaction under
 * a transaction-scoped advisory lock (brokers starting together apply each exactly once);
 * a database whose schema is newer than this binary is refused (VT_ERR_PG_SCHEMA_NEWER).
 * Concurrency: a small pool of connections (each call takes one); a broken connection is
 * reset once and the call retried when it was not inside a transaction. Single-use KBS
 * challenges rely on "UPDATE ... WHERE state = from" affecting exactly one row (row lock).
 * Blobs here are already encrypted (kms.c); this file never sees plaintext secrets. The
 * connection string may carry a password: it is never logged, and libpq's messages pass
 * through vtb_redact (redact.h) before they are.
 */
#include <errno.h>
#include <libpq-fe.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "broker/redact.h"
#include "broker/store.h"
#include "util/log.h"

#define POOL 4
#define MIGRATION_LOCK "8531339006846309" /* advisory lock key */

struct vtb_store {
    PGconn *c[POOL];
    bool busy[POOL];
    pthread_mutex_t lock;
    pthread_cond_t cond;
};

static const char *const migrations[] = {
    /* 1: the broker tables (as store_sqlite.c's base schema) */
    "CREATE TABLE meta (k TEXT PRIMARY KEY, v BYTEA NOT NULL);"
    "CREATE TABLE secrets (path TEXT NOT NULL, version BIGINT NOT NULL, kind TEXT NOT NULL,"
    "  blob BYTEA NOT NULL, created BIGINT NOT NULL, PRIMARY KEY (path, version));"
    "CREATE TABLE refvals (id BIGSERIAL PRIMARY KEY, name TEXT NOT NULL, value TEXT NOT NULL,"
    "  source TEXT NOT NULL, expires BIGINT NOT NULL, added BIGINT NOT NULL);"
    "CREATE TABLE policy (id INTEGER PRIMARY KEY CHECK (id = 1), doc TEXT NOT NULL,"
    "  updated BIGINT NOT NULL);"
    "CREATE TABLE audit (seq BIGSERIAL PRIMARY KEY, time BIGINT NOT NULL, rid TEXT, peer TEXT,"
    "  tee TEXT, op TEXT, path TEXT, decision TEXT NOT NULL, reason TEXT,"
    "  insecure BOOLEAN NOT NULL);"
    "CREATE FUNCTION veritee_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS"
    "  $$ BEGIN RAISE EXCEPTION 'audit is append-only'; END $$;"
    "CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit"
    "  FOR EACH ROW EXECUTE FUNCTION veritee_audit_append_only();",
    /* 2: KBS protocol sessions */
    "CREATE TABLE kbs_sessions (id TEXT PRIMARY KEY, state INTEGER NOT NULL,"
    "  blob BYTEA NOT NULL, expires BIGINT NOT NULL);"
    "CREATE INDEX kbs_sessions_expires ON kbs_sessions (expires);",
    /* 3: policy/refval generation, bumped by statement triggers inside the changing
     * transaction (so a reader never sees a change without its new generation) */
    "CREATE TABLE policy_gen (id INTEGER PRIMARY KEY CHECK (id = 1), gen BIGINT NOT NULL);"
    "INSERT INTO policy_gen (id, gen) VALUES (1, 1);"
    "CREATE FUNCTION veritee_policy_gen_bump() RETURNS trigger LANGUAGE plpgsql AS"
    "  $$ BEGIN UPDATE policy_gen SET gen = gen + 1 WHERE id = 1; RETURN NULL; END $$;"
    "CREATE TRIGGER refvals_gen AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON refvals"
    "  FOR EACH STATEMENT EXECUTE FUNCTION veritee_policy_gen_bump();"
    "CREATE TRIGGER policy_gen AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON policy"
    "  FOR EACH STATEMENT EXECUTE FUNCTION veritee_policy_gen_bump();",
    /* 4: authentication tags of the policy and reference-value rows (kms.c); rows from
     * before keep NULL and are refused until set again through the admin socket */
    "ALTER TABLE refvals ADD COLUMN mac BYTEA;"
    "ALTER TABLE policy ADD COLUMN mac BYTEA;",
    /* 5: audit retention: a DELETE passes the append-only trigger only while the one-row gate
     * is open, which only audit_prune does, inside its own transaction (opened and closed
     * again before COMMIT: no other transaction ever sees it open) */
    "CREATE TABLE audit_prune_gate (id INTEGER PRIMARY KEY CHECK (id = 1), open BOOLEAN NOT NULL);"
    "INSERT INTO audit_prune_gate (id, open) VALUES (1, false);"
    "CREATE OR REPLACE FUNCTION veritee_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS"
    "  $$ BEGIN IF TG_OP = 'DELETE' AND (SELECT open FROM audit_prune_gate WHERE id = 1) THEN"
    "  RETURN OLD; END IF; RAISE EXCEPTION 'audit is append-only'; END $$;",
    /* 6: the client address of each KBS session (per-address cap, session_put_capped) */
    "ALTER TABLE kbs_sessions ADD COLUMN peer TEXT;"
    "CREATE INDEX kbs_sessions_peer ON kbs_sessions (peer, expires);",
    /* 7: the authenticated latest-version record of each secret path (kms.c: a secret rolled
     * back by deleting its newest rows is refused); the secrets of an existing store get
     * theirs once, at the next start (latest_adopt) */
    "CREATE TABLE secret_latest (path TEXT PRIMARY KEY, version BIGINT NOT NULL,"
    "  deleted INTEGER NOT NULL, mac BYTEA);",
    /* 8: KBS sessions need no durability (a session lost in a crash: its guest asks again;
     * the table is emptied by crash recovery, never replayed): UNLOGGED, so that their writes
     * skip the WAL and its fsync. Still one table shared by every broker on the store, and
     * session_advance's conditional UPDATE still makes a challenge single-use across them. */
    "ALTER TABLE kbs_sessions SET UNLOGGED;",
};

/* ---- pool ------------------------------------------------------------------------------ */

static int take(struct vtb_store *s)
{
    pthread_mutex_lock(&s->lock);
    for (;;) {
        for (int i = 0; i < POOL; i++) {
            if (!s->busy[i]) {
                s->busy[i] = true;
                pthread_mutex_unlock(&s->lock);
                if (PQstatus(s->c[i]) != CONNECTION_OK)
                    PQreset(s->c[i]);
                return i;
            }
        }
        pthread_cond_wait(&s->cond, &s->lock);
    }
}

static void give(struct vtb_store *s, int i)
{
    pthread_mutex_lock(&s->lock);
    s->busy[i] = false;
    pthread_cond_signal(&s->cond);
    pthread_mutex_unlock(&s->lock);
}

static vt_res pg_fail(PGconn *c, PGresult *res, const char *what)
{
    const char *st = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    if (st && !strcmp(st, "23505"))
        return VT_FAIL(VT_ERR_BROKER_EXISTS);
    char msg[512];
    VT_WARN("broker store (postgresql): %s: %s", what,
            vtb_redact(res ? PQresultErrorMessage(res) : PQerrorMessage(c), msg, sizeof(msg)));
    return VT_FAIL(VT_ERR_PG_STORE);
}

/* Run one statement; *out (may be NULL) gets the result (binary format). */
static vt_res run(PGconn *c, const char *sql, int n, const char *const *v, const int *len,
                  const int *fmt, PGresult **out)
{
    PGresult *res = PQexecParams(c, sql, n, NULL, v, len, fmt, 1);
    ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        vt_res r = pg_fail(c, res, "query");
        PQclear(res);
        return r;
    }
    if (out)
        *out = res;
    else
        PQclear(res);
    return vti_ok();
}

static vt_res exec_plain(PGconn *c, const char *sql)
{
    PGresult *res = PQexec(c, sql);
    ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    vt_res r = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? vti_ok() : pg_fail(c, res, "exec");
    PQclear(res);
    return r;
}

static int64_t be64(const char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | (uint8_t)p[i];
    return (int64_t)v;
}

static int32_t be32(const char *p)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++)
        v = v << 8 | (uint8_t)p[i];
    return (int32_t)v;
}

static int64_t col_i64(PGresult *r, int row, int col)
{
    if (PQgetisnull(r, row, col))
        return 0;
    return PQgetlength(r, row, col) == 8 ? be64(PQgetvalue(r, row, col))
                                         : be32(PQgetvalue(r, row, col));
}

/* text column (binary format: raw bytes, NUL-terminated by libpq) */
static const char *col_text(PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? "" : PQgetvalue(r, row, col);
}

/* ---- open / close / migrations ----------------------------------------------------------- */

static void pg_close(struct vtb_store *s)
{
    if (!s)
        return;
    for (int i = 0; i < POOL; i++)
        if (s->c[i])
            PQfinish(s->c[i]);
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->cond);
    free(s);
}

static vt_res migrate(PGconn *c)
{
    GUARD(exec_plain(c, "SET client_min_messages = warning"));
    GUARD(exec_plain(c, "BEGIN"));
    vt_res r = exec_plain(c, "SELECT pg_advisory_xact_lock(" MIGRATION_LOCK ")");
    if (!r.err)
        r = exec_plain(c, "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER "
                          "PRIMARY KEY, applied TIMESTAMPTZ NOT NULL DEFAULT now())");
    PGresult *res = NULL;
    int have = 0;
    if (!r.err)
        r = run(c, "SELECT COALESCE(MAX(version), 0)::int4 FROM schema_migrations", 0, NULL,
                NULL, NULL, &res);
    if (!r.err) {
        have = (int)col_i64(res, 0, 0);
        PQclear(res);
    }
    int want = (int)(sizeof(migrations) / sizeof(migrations[0]));
    if (!r.err && have > want)
        r = VT_FAIL(VT_ERR_PG_SCHEMA_NEWER);
    for (int v = have; !r.err && v < want; v++) {
        r = exec_plain(c, migrations[v]);
        char num[16];
        snprintf(num, sizeof(num), "%d", v + 1);
        const char *vals[] = { num };
        if (!r.err)
            r = run(c, "INSERT INTO schema_migrations (version) VALUES ($1::int4)", 1, vals,
                    NULL, NULL, NULL);
    }
    if (!r.err)
        return exec_plain(c, "COMMIT");
    (void)exec_plain(c, "ROLLBACK");
    return r;
}

static vt_res pg_open(const char *where, struct vtb_store **ret)
{
    ENSURE(where && *where, VT_ERR_INVALID_ARG);
    struct vtb_store *s = calloc(1, sizeof(*s));
    ENSURE(s, VT_ERR_NOMEM);
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->cond, NULL);
    vt_res r = vti_ok();
    for (int i = 0; i < POOL && !r.err; i++) {
        s->c[i] = PQconnectdb(where);
        if (!s->c[i] || PQstatus(s->c[i]) != CONNECTION_OK) {
            char msg[512];
            VT_WARN("broker store (postgresql): connect: %s",
                    s->c[i] ? vtb_redact(PQerrorMessage(s->c[i]), msg, sizeof(msg))
                            : "out of memory");
            r = VT_FAIL(VT_ERR_PG_STORE);
        }
    }
    if (!r.err)
        r = migrate(s->c[0]);
    if (r.err) {
        pg_close(s);
        return r;
    }
    *ret = s;
    return vti_ok();
}

/* ---- operations ------------------------------------------------------------------------ */

#define WITH_CONN(s, c)                                                                        \
    int slot_ = take(s);                                                                       \
    PGconn *c = (s)->c[slot_]

static vt_res pg_meta_get(struct vtb_store *s, const char *key, struct vt_buf *out)
{
    WITH_CONN(s, c);
    PGresult *res = NULL;
    const char *v[] = { key };
    vt_res r = run(c, "SELECT v FROM meta WHERE k = $1", 1, v, NULL, NULL, &res);
    if (!r.err) {
        if (PQntuples(res) == 0)
            r = VT_FAIL(VT_ERR_NOT_FOUND);
        else
            r = vti_buf_append(out, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
        PQclear(res);
    }
    give(s, slot_);
    return r;
}

static vt_res pg_meta_put(struct vtb_store *s, const char *key, const uint8_t *p, size_t n)
{
    ENSURE(n <= INT32_MAX, VT_ERR_TOO_LARGE);
    WITH_CONN(s, c);
    const char *v[] = { key, (const char *)p };
    int len[] = { 0, (int)n }, fmt[] = { 0, 1 };
    /* insert only: a concurrent first writer waits for ours, then fails (23505 -> EXISTS) */
    vt_res r = run(c, "INSERT INTO meta (k, v) VALUES ($1, $2)", 2, v, len, fmt, NULL);
    give(s, slot_);
    return r;
}

/* Writers of one secret path, across brokers, one at a time (transaction-scoped lock): the
 * newest version read in the transaction is then the one its record gets. */
static vt_res lock_path(PGconn *c, const char *path)
{
    const char *v[] = { path };
    return run(c, "SELECT pg_advisory_xact_lock(hashtextextended('veritee-secret/' || "
                  "$1::text, 0))", 1, v, NULL, NULL, NULL);
}

/* The newest stored version of path, 0 when none (in the caller's transaction). */
static vt_res newest_version(PGconn *c, const char *path, int64_t *out)
{
    const char *v[] = { path };
    PGresult *res = NULL;
    GUARD(run(c, "SELECT COALESCE(MAX(version), 0)::int8 FROM secrets WHERE path = $1", 1, v,
              NULL, NULL, &res));
    *out = PQntuples(res) == 1 ? col_i64(res, 0, 0) : 0;
    PQclear(res);
    return vti_ok();
}

/* path's latest-version record := (version, deleted) tagged by tag (caller's transaction). */
static vt_res latest_write(PGconn *c, const char *path, int64_t version, bool deleted,
                           vtb_latest_tag_cb tag, void *arg)
{
    uint8_t mac[VTB_MAC_LEN];
    GUARD(tag(path, version, deleted, mac, arg));
    char ver[24];
    snprintf(ver, sizeof(ver), "%" PRId64, version);
    const char *v[] = { path, ver, deleted ? "1" : "0", (const char *)mac };
    int len[] = { 0, 0, 0, VTB_MAC_LEN }, fmt[] = { 0, 0, 0, 1 };
    return run(c, "INSERT INTO secret_latest (path, version, deleted, mac) VALUES ($1, $2::int8, "
                  "$3::int4, $4) ON CONFLICT (path) DO UPDATE SET version = EXCLUDED.version, "
                  "deleted = EXCLUDED.deleted, mac = EXCLUDED.mac", 4, v, len, fmt, NULL);
}

/* The statements of a secret put, in the caller's transaction. */
static vt_res secret_insert(PGconn *c, const char *path, const char *kind, int64_t version,
                            const uint8_t *blob, size_t n, bool replace, int64_t now)
{
    char ver[24], ts[24];
    snprintf(ver, sizeof(ver), "%" PRId64, version);
    snprintf(ts, sizeof(ts), "%" PRId64, now);
    if (replace) {
        const char *v[] = { path, ver };
        GUARD(run(c, "DELETE FROM secrets WHERE path = $1 AND version <> $2::int8", 2, v, NULL,
                  NULL, NULL));
    }
    const char *v[] = { path, ver, kind, (const char *)blob, ts };
    int len[] = { 0, 0, 0, (int)n, 0 }, fmt[] = { 0, 0, 0, 1, 0 };
    return run(c, "INSERT INTO secrets (path, version, kind, blob, created) VALUES "
                  "($1, $2::int8, $3, $4, $5::int8)", 5, v, len, fmt, NULL);
}

/* One transaction around the insert and, with tag, the path's latest-version record. */
static vt_res secret_put_tx(struct vtb_store *s, const char *path, const char *kind,
                            int64_t version, const uint8_t *blob, size_t n, bool replace,
                            int64_t now, vtb_latest_tag_cb tag, void *arg)
{
    ENSURE(n <= INT32_MAX, VT_ERR_TOO_LARGE);
    WITH_CONN(s, c);
    int64_t newest = 0;
    vt_res r = exec_plain(c, "BEGIN");
    if (!r.err && tag)
        r = lock_path(c, path);
    if (!r.err)
        r = secret_insert(c, path, kind, version, blob, n, replace, now);
    if (!r.err && tag)
        r = newest_version(c, path, &newest);
    if (!r.err && tag)
        r = latest_write(c, path, newest, false, tag, arg);
    if (!r.err)
        r = exec_plain(c, "COMMIT");
    else
        (void)exec_plain(c, "ROLLBACK");
    give(s, slot_);
    return r;
}

static vt_res pg_secret_put(struct vtb_store *s, const char *path, const char *kind,
                            int64_t version, const uint8_t *blob, size_t n, bool replace,
                            int64_t now)
{
    return secret_put_tx(s, path, kind, version, blob, n, replace, now, NULL, NULL);
}

static vt_res pg_secret_put_latest(struct vtb_store *s, const char *path, const char *kind,
                                   int64_t version, const uint8_t *blob, size_t n, bool replace,
                                   int64_t now, vtb_latest_tag_cb tag, void *arg)
{
    ENSURE(tag, VT_ERR_INVALID_ARG);
    return secret_put_tx(s, path, kind, version, blob, n, replace, now, tag, arg);
}

static vt_res pg_secret_delete_latest(struct vtb_store *s, const char *path,
                                      vtb_latest_tag_cb tag, void *arg)
{
    ENSURE(tag, VT_ERR_INVALID_ARG);
    WITH_CONN(s, c);
    int64_t newest = 0;
    const char *v[] = { path };
    vt_res r = exec_plain(c, "BEGIN");
    if (!r.err)
        r = lock_path(c, path);
    if (!r.err)
        r = newest_version(c, path, &newest);
    if (!r.err && newest == 0)
        r = VT_FAIL(VT_ERR_BROKER_UNKNOWN_RESOURCE);
    if (!r.err)
        r = run(c, "DELETE FROM secrets WHERE path = $1", 1, v, NULL, NULL, NULL);
    if (!r.err)
        r = latest_write(c, path, newest, true, tag, arg);
    if (!r.err)
        r = exec_plain(c, "COMMIT");
    else
        (void)exec_plain(c, "ROLLBACK");
    give(s, slot_);
    return r;
}

static vt_res pg_secret_get(struct vtb_store *s, const char *path, int64_t version, char *kind,
                            int64_t *ret_version, struct vt_buf *blob)
{
    WITH_CONN(s, c);
    char ver[24];
    snprintf(ver, sizeof(ver), "%" PRId64, version);
    const char *v[] = { path, ver };
    PGresult *res = NULL;
    vt_res r = version == 0
                   ? run(c, "SELECT kind, version, blob FROM secrets WHERE path = $1 ORDER BY "
                            "version DESC LIMIT 1", 1, v, NULL, NULL, &res)
                   : run(c, "SELECT kind, version, blob FROM secrets WHERE path = $1 AND "
                            "version = $2::int8", 2, v, NULL, NULL, &res);
    if (!r.err) {
        if (PQntuples(res) == 0) {
            r = VT_FAIL(VT_ERR_BROKER_UNKNOWN_RESOURCE);
        } else {
            snprintf(kind, 16, "%s", col_text(res, 0, 0));
            *ret_version = col_i64(res, 0, 1);
            r = vti_buf_append(blob, PQgetvalue(res, 0, 2), (size_t)PQgetlength(res, 0, 2));
        }
        PQclear(res);
    }
    give(s, slot_);
    return r;
}

/* A tag column: has only when exactly VTB_MAC_LEN bytes (NULL or any other size: none). */
static void col_mac(PGresult *r, int row, int col, uint8_t *mac, bool *has)
{
    *has = !PQgetisnull(r, row, col) && PQgetlength(r, row, col) == VTB_MAC_LEN;
    if (*has)
        memcpy(mac, PQgetvalue(r, row, col), VTB_MAC_LEN);
}

/* One statement (one snapshot): the record, the newest version and the wanted row. */
static vt_res pg_secret_get_latest(struct vtb_store *s, const char *path, int64_t version,
                                   char *kind, int64_t *ret_version, struct vt_buf *blob,
                                   int64_t *newest, struct vtb_latest *rec)
{
    memset(rec, 0, sizeof(*rec));
    *newest = 0;
    WITH_CONN(s, c);
    char ver[24];
    snprintf(ver, sizeof(ver), "%" PRId64, version);
    const char *v[] = { path, ver };
    PGresult *res = NULL;
    vt_res r = run(c, "SELECT l.version, l.deleted, l.mac, (SELECT MAX(version) FROM secrets "
                      "WHERE path = $1), x.kind, x.version, x.blob FROM (SELECT $1::text AS p) q "
                      "LEFT JOIN secret_latest l ON l.path = q.p LEFT JOIN secrets x ON "
                      "x.path = q.p AND x.version = CASE WHEN $2::int8 = 0 THEN (SELECT "
                      "MAX(version) FROM secrets WHERE path = $1) ELSE $2::int8 END", 2, v, NULL,
                   NULL, &res);
    if (!r.err && PQntuples(res) != 1)
        r = VT_FAIL(VT_ERR_PG_STORE);
    if (!r.err) {
        rec->present = !PQgetisnull(res, 0, 0);
        rec->version = col_i64(res, 0, 0);
        rec->deleted = col_i64(res, 0, 1) != 0;
        col_mac(res, 0, 2, rec->mac, &rec->has_mac);
        *newest = col_i64(res, 0, 3);
        if (PQgetisnull(res, 0, 4)) {
            r = VT_FAIL(VT_ERR_BROKER_UNKNOWN_RESOURCE);
        } else {
            snprintf(kind, 16, "%s", col_text(res, 0, 4));
            *ret_version = col_i64(res, 0, 5);
            r = vti_buf_append(blob, PQgetvalue(res, 0, 6), (size_t)PQgetlength(res, 0, 6));
        }
    }
    PQclear(res);
    give(s, slot_);
    return r;
}

static vt_res pg_secret_delete(struct vtb_store *s, const char *path)
{
    WITH_CONN(s, c);
    const char *v[] = { path };
    vt_res r = run(c, "DELETE FROM secrets WHERE path = $1", 1, v, NULL, NULL, NULL);
    give(s, slot_);
    return r;
}

static vt_res pg_secret_list(struct vtb_store *s, vtb_secret_cb cb, void *arg)
{
    WITH_CONN(s, c);
    PGresult *res = NULL;
    vt_res r = run(c, "SELECT path, MIN(kind), MAX(version), COUNT(*), MAX(created) FROM "
                      "secrets GROUP BY path ORDER BY path", 0, NULL, NULL, NULL, &res);
    give(s, slot_);
    if (r.err)
        return r;
    for (int i = 0; i < PQntuples(res); i++) {
        struct vtb_secret_info si = {
            .path = col_text(res, i, 0), .kind = col_text(res, i, 1),
            .version = col_i64(res, i, 2), .versions = col_i64(res, i, 3),
            .updated = col_i64(res, i, 4),
        };
        cb(&si, arg);
    }
    PQclear(res);
    return vti_ok();
}

static vt_res pg_refval_add(struct vtb_store *s, const struct vtb_refval *rv, int64_t *ret_id)
{
    WITH_CONN(s, c);
    char ex[24], ad[24];
    snprintf(ex, sizeof(ex), "%" PRId64, rv->expires);
    snprintf(ad, sizeof(ad), "%" PRId64, rv->added);
    const char *v[] = { rv->name, rv->value, rv->source ? rv->source : "", ex, ad,
                        rv->has_mac ? (const char *)rv->mac : NULL };
    int len[] = { 0, 0, 0, 0, 0, VTB_MAC_LEN }, fmt[] = { 0, 0, 0, 0, 0, 1 };
    PGresult *res = NULL;
    vt_res r = run(c, "INSERT INTO refvals (name, value, source, expires, added, mac) VALUES "
                      "($1, $2, $3, $4::int8, $5::int8, $6) RETURNING id", 6, v, len, fmt, &res);
    if (!r.err) {
        if (ret_id)
            *ret_id = col_i64(res, 0, 0);
        PQclear(res);
    }
    give(s, slot_);
    return r;
}

static vt_res pg_refval_delete(struct vtb_store *s, int64_t id)
{
    WITH_CONN(s, c);
    char n[24];
    snprintf(n, sizeof(n), "%" PRId64, id);
    const char *v[] = { n };
    PGresult *res = NULL;
    vt_res r = run(c, "DELETE FROM refvals WHERE id = $1::int8", 1, v, NULL, NULL, &res);
    if (!r.err) {
        if (strcmp(PQcmdTuples(res), "0") == 0)
            r = VT_FAIL(VT_ERR_NOT_FOUND);
        PQclear(res);
    }
    give(s, slot_);
    return r;
}

static vt_res pg_refval_list(struct vtb_store *s, vtb_refval_cb cb, void *arg)
{
    WITH_CONN(s, c);
    PGresult *res = NULL;
    vt_res r = run(c, "SELECT id, name, value, source, expires, added, mac FROM refvals "
                      "ORDER BY id", 0, NULL, NULL, NULL, &res);
    give(s, slot_);
    if (r.err)
        return r;
    for (int i = 0; i < PQntuples(res); i++) {
        struct vtb_refval rv = {
            .id = col_i64(res, i, 0), .name = col_text(res, i, 1), .value = col_text(res, i, 2),
            .source = col_text(res, i, 3), .expires = col_i64(res, i, 4),
            .added = col_i64(res, i, 5),
        };
        col_mac(res, i, 6, rv.mac, &rv.has_mac);
        cb(&rv, arg);
    }
    PQclear(res);
    return vti_ok();
}

static vt_res pg_policy_set(struct vtb_store *s, const char *doc, int64_t now)
{
    WITH_CONN(s, c);
    char ts[24];
    snprintf(ts, sizeof(ts), "%" PRId64, now);
    const char *v[] = { doc, ts };
    vt_res r = run(c, "INSERT INTO policy (id, doc, updated) VALUES (1, $1, $2::int8) ON "
                      "CONFLICT (id) DO UPDATE SET doc = EXCLUDED.doc, updated = "
                      "EXCLUDED.updated", 2, v, NULL, NULL, NULL);
    give(s, slot_);
    return r;
}

static vt_res pg_policy_get(struct vtb_store *s, struct vt_buf *out)
{
    WITH_CONN(s, c);
    PGresult *res = NULL;
    vt_res r = run(c, "SELECT doc FROM policy WHERE id = 1", 0, NULL, NULL, NULL, &res);
    if (!r.err) {
        if (PQntuples(res) == 0)
            r = VT_FAIL(VT_ERR_NOT_FOUND);
        else
            r = vti_buf_append(out, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
        if (!r.err)
            r = vti_buf_cstr(out);
        PQclear(res);
    }
    give(s, slot_);
    return r;
}

static vt_res pg_policy_put(struct vtb_store *s, const char *doc, int64_t now,
                            const uint8_t *mac)
{
    WITH_CONN(s, c);
    char ts[24];
    snprintf(ts, sizeof(ts), "%" PRId64, now);
    const char *v[] = { doc, ts, (const char *)mac };
    int len[] = { 0, 0, VTB_MAC_LEN }, fmt[] = { 0, 0, 1 };
    vt_res r = run(c, "INSERT INTO policy (id, doc, updated, mac) VALUES (1, $1, $2::int8, $3) "
                      "ON CONFLICT (id) DO UPDATE SET doc = EXCLUDED.doc, updated = "
                      "EXCLUDED.updated, mac = EXCLUDED.mac", 3, v, len, fmt, NULL);
    give(s, slot_);
    return r;
}

static vt_res pg_policy_read(struct vtb_store *s, struct vt_buf *out, int64_t *updated,
                             uint8_t *mac, bool *has_mac)
{
    WITH_CONN(s, c);
    PGresult *res = NULL;
    vt_res r = run(c, "SELECT doc, updated, mac FROM policy WHERE id = 1", 0, NULL, NULL, NULL,
                   &res);
    if (!r.err) {
        if (PQntuples(res) == 0)
            r = VT_FAIL(VT_ERR_NOT_FOUND);
        else
            r = vti_buf_append(out, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
        if (!r.err) {
            r = vti_buf_cstr(out);
            *updated = col_i64(res, 0, 1);
            col_mac(res, 0, 2, mac, has_mac);
        }
        PQclear(res);
    }
    give(s, slot_);
    return r;
}

static vt_res pg_refval_set_mac(struct vtb_store *s, int64_t id, const uint8_t *mac)
{
    WITH_CONN(s, c);
    char n[24];
    snprintf(n, sizeof(n), "%" PRId64, id);
    const char *v[] = { n, (const char *)mac };
    int len[] = { 0, VTB_MAC_LEN }, fmt[] = { 0, 1 };
    vt_res r = run(c, "UPDATE refvals SET mac = $2 WHERE id = $1::int8", 2, v, len, fmt, NULL);
    give(s, slot_);
    return r;
}

static vt_res pg_audit_append(struct vtb_store *s, const struct vtb_audit *a)
{
    WITH_CONN(s, c);
    char ts[24];
    snprintf(ts, sizeof(ts), "%" PRId64, a->time);
    const char *v[] = { ts, a->rid, a->peer, a->tee, a->op, a->path, a->decision, a->reason,
                        a->insecure ? "true" : "false" };
    vt_res r = run(c, "INSERT INTO audit (time, rid, peer, tee, op, path, decision, reason, "
                      "insecure) VALUES ($1::int8, $2, $3, $4, $5, $6, $7, $8, $9::bool)", 9, v,
                   NULL, NULL, NULL);
    give(s, slot_);
    return r;
}

static vt_res pg_audit_list(struct vtb_store *s, int64_t limit, vtb_audit_cb cb, void *arg)
{
    WITH_CONN(s, c);
    char n[24];
    snprintf(n, sizeof(n), "%" PRId64, limit);
    const char *v[] = { n };
    PGresult *res = NULL;
    vt_res r = run(c, "SELECT * FROM (SELECT seq, time, rid, peer, tee, op, path, decision, "
                      "reason, insecure FROM audit ORDER BY seq DESC LIMIT $1::int8) t ORDER BY "
                      "seq", 1, v, NULL, NULL, &res);
    give(s, slot_);
    if (r.err)
        return r;
    for (int i = 0; i < PQntuples(res); i++) {
        struct vtb_audit a = {
            .time = col_i64(res, i, 1), .rid = col_text(res, i, 2), .peer = col_text(res, i, 3),
            .tee = col_text(res, i, 4), .op = col_text(res, i, 5), .path = col_text(res, i, 6),
            .decision = col_text(res, i, 7), .reason = col_text(res, i, 8),
            .insecure = PQgetlength(res, i, 9) == 1 && PQgetvalue(res, i, 9)[0] != 0,
        };
        cb(col_i64(res, i, 0), &a, arg);
    }
    PQclear(res);
    return vti_ok();
}

static vt_res pg_audit_after(struct vtb_store *s, int64_t after, int64_t limit, vtb_audit_cb cb,
                             void *arg)
{
    WITH_CONN(s, c);
    char a_[24], n[24];
    snprintf(a_, sizeof(a_), "%" PRId64, after);
    snprintf(n, sizeof(n), "%" PRId64, limit);
    const char *v[] = { a_, n };
    PGresult *res = NULL;
    vt_res r = run(c, "SELECT seq, time, rid, peer, tee, op, path, decision, reason, insecure "
                      "FROM audit WHERE seq > $1::int8 ORDER BY seq LIMIT $2::int8", 2, v, NULL,
                   NULL, &res);
    give(s, slot_);
    if (r.err)
        return r;
    for (int i = 0; i < PQntuples(res); i++) {
        struct vtb_audit a = {
            .time = col_i64(res, i, 1), .rid = col_text(res, i, 2), .peer = col_text(res, i, 3),
            .tee = col_text(res, i, 4), .op = col_text(res, i, 5), .path = col_text(res, i, 6),
            .decision = col_text(res, i, 7), .reason = col_text(res, i, 8),
            .insecure = PQgetlength(res, i, 9) == 1 && PQgetvalue(res, i, 9)[0] != 0,
        };
        cb(col_i64(res, i, 0), &a, arg);
    }
    PQclear(res);
    return vti_ok();
}

/* The prune's statements, in the caller's transaction. */
static vt_res pg_prune_rows(PGconn *c, int64_t before, const struct vtb_audit *rec,
                            int64_t *deleted)
{
    char ts[24], why[512];
    snprintf(ts, sizeof(ts), "%" PRId64, before);
    const char *v[] = { ts };
    PGresult *res = NULL;
    GUARD(exec_plain(c, "UPDATE audit_prune_gate SET open = true WHERE id = 1"));
    GUARD(run(c, "DELETE FROM audit WHERE time < $1::int8", 1, v, NULL, NULL, &res));
    *deleted = strtoll(PQcmdTuples(res), NULL, 10);
    PQclear(res);
    GUARD(exec_plain(c, "UPDATE audit_prune_gate SET open = false WHERE id = 1"));
    snprintf(why, sizeof(why), "%s deleted=%" PRId64, rec->reason, *deleted);
    snprintf(ts, sizeof(ts), "%" PRId64, rec->time);
    const char *w[] = { ts, rec->rid, rec->peer, rec->tee, rec->op, rec->path, rec->decision,
                        why, rec->insecure ? "true" : "false" };
    return run(c, "INSERT INTO audit (time, rid, peer, tee, op, path, decision, reason, "
                  "insecure) VALUES ($1::int8, $2, $3, $4, $5, $6, $7, $8, $9::bool)", 9, w,
               NULL, NULL, NULL);
}

static vt_res pg_audit_prune(struct vtb_store *s, int64_t before, const struct vtb_audit *rec,
                             int64_t *deleted)
{
    ENSURE(before >= 1 && rec && deleted, VT_ERR_INVALID_ARG);
    *deleted = 0;
    WITH_CONN(s, c);
    vt_res r = exec_plain(c, "BEGIN");
    if (!r.err) {
        r = pg_prune_rows(c, before, rec, deleted);
        if (!r.err)
            r = exec_plain(c, "COMMIT");
        else
            (void)exec_plain(c, "ROLLBACK");
    }
    if (r.err)
        *deleted = 0;
    give(s, slot_);
    return r;
}

static vt_res pg_session_put(struct vtb_store *s, const char *id, int state, const uint8_t *p,
                             size_t n, int64_t expires)
{
    ENSURE(n <= INT32_MAX, VT_ERR_TOO_LARGE);
    WITH_CONN(s, c);
    char st[16], ex[24];
    snprintf(st, sizeof(st), "%d", state);
    snprintf(ex, sizeof(ex), "%" PRId64, expires);
    const char *v[] = { id, st, (const char *)p, ex };
    int len[] = { 0, 0, (int)n, 0 }, fmt[] = { 0, 0, 1, 0 };
    vt_res r = run(c, "INSERT INTO kbs_sessions (id, state, blob, expires) VALUES ($1, "
                      "$2::int4, $3, $4::int8)", 4, v, len, fmt, NULL);
    give(s, slot_);
    return r;
}

static vt_res pg_session_put_capped(struct vtb_store *s, const char *id, int state,
                                    const uint8_t *p, size_t n, int64_t expires,
                                    const char *peer, int64_t now, int64_t max)
{
    ENSURE(n <= INT32_MAX, VT_ERR_TOO_LARGE);
    WITH_CONN(s, c);
    char st[16], ex[24], nw[24], mx[24];
    snprintf(st, sizeof(st), "%d", state);
    snprintf(ex, sizeof(ex), "%" PRId64, expires);
    snprintf(nw, sizeof(nw), "%" PRId64, now);
    snprintf(mx, sizeof(mx), "%" PRId64, max);
    const char *v[] = { id, st, (const char *)p, ex, peer, nw, mx };
    int len[] = { 0, 0, (int)n, 0, 0, 0, 0 }, fmt[] = { 0, 0, 1, 0, 0, 0, 0 };
    PGresult *res = NULL;
    vt_res r = run(c, "INSERT INTO kbs_sessions (id, state, blob, expires, peer) SELECT $1, "
                      "$2::int4, $3, $4::int8, $5::text WHERE (SELECT count(*) FROM kbs_sessions "
                      "WHERE peer = $5::text AND expires > $6::int8) < $7::int8",
                   7, v, len, fmt, &res);
    if (!r.err && strcmp(PQcmdTuples(res), "0") == 0)
        r = VT_FAIL(VT_ERR_BROKER_KBS_SESSION_LIMIT);
    PQclear(res);
    give(s, slot_);
    return r;
}

static vt_res pg_session_get(struct vtb_store *s, const char *id, int64_t now, int *state,
                             struct vt_buf *out)
{
    WITH_CONN(s, c);
    char ts[24];
    snprintf(ts, sizeof(ts), "%" PRId64, now);
    const char *v[] = { id, ts };
    PGresult *res = NULL;
    vt_res r = run(c, "SELECT state, blob FROM kbs_sessions WHERE id = $1 AND expires > "
                      "$2::int8", 2, v, NULL, NULL, &res);
    if (!r.err) {
        if (PQntuples(res) == 0) {
            r = VT_FAIL(VT_ERR_NOT_FOUND);
        } else {
            *state = (int)col_i64(res, 0, 0);
            r = vti_buf_append(out, PQgetvalue(res, 0, 1), (size_t)PQgetlength(res, 0, 1));
        }
        PQclear(res);
    }
    give(s, slot_);
    return r;
}

static vt_res pg_session_advance(struct vtb_store *s, const char *id, int from, int to,
                                 const uint8_t *p, size_t n, int64_t now)
{
    ENSURE(n <= INT32_MAX, VT_ERR_TOO_LARGE);
    WITH_CONN(s, c);
    char f[16], t[16], ts[24];
    snprintf(f, sizeof(f), "%d", from);
    snprintf(t, sizeof(t), "%d", to);
    snprintf(ts, sizeof(ts), "%" PRId64, now);
    const char *v[] = { id, f, t, (const char *)p, ts };
    int len[] = { 0, 0, 0, (int)n, 0 }, fmt[] = { 0, 0, 0, 1, 0 };
    PGresult *res = NULL;
    vt_res r = run(c, "UPDATE kbs_sessions SET state = $3::int4, blob = $4 WHERE id = $1 AND "
                      "state = $2::int4 AND expires > $5::int8", 5, v, len, fmt, &res);
    if (!r.err) {
        if (strcmp(PQcmdTuples(res), "1") != 0)
            r = VT_FAIL(VT_ERR_NOT_FOUND);
        PQclear(res);
    }
    give(s, slot_);
    return r;
}

static vt_res pg_session_sweep(struct vtb_store *s, int64_t now)
{
    WITH_CONN(s, c);
    char ts[24];
    snprintf(ts, sizeof(ts), "%" PRId64, now);
    const char *v[] = { ts };
    vt_res r = run(c, "DELETE FROM kbs_sessions WHERE expires <= $1::int8", 1, v, NULL, NULL,
                   NULL);
    give(s, slot_);
    return r;
}

/* Every secret blob re-sealed through cb (in the caller's transaction). */
static vt_res reseal_secrets(PGconn *c, vtb_reseal_cb cb, void *arg, struct vt_buf *nb)
{
    PGresult *res = NULL;
    GUARD(run(c, "SELECT path, kind, version, blob FROM secrets ORDER BY path, version", 0, NULL,
              NULL, NULL, &res));
    vt_res r = vti_ok();
    for (int i = 0; !r.err && i < PQntuples(res); i++) {
        const char *path = col_text(res, i, 0);
        int64_t ver = col_i64(res, i, 2);
        nb->len = 0;
        r = cb(path, col_text(res, i, 1), ver, (const uint8_t *)PQgetvalue(res, i, 3),
               (size_t)PQgetlength(res, i, 3), nb, arg);
        if (!r.err && nb->len > INT32_MAX)
            r = VT_FAIL(VT_ERR_TOO_LARGE);
        if (r.err)
            break;
        char vs[24];
        snprintf(vs, sizeof(vs), "%" PRId64, ver);
        const char *v[] = { (const char *)nb->p, path, vs };
        int len[] = { (int)nb->len, 0, 0 }, fmt[] = { 1, 0, 0 };
        PGresult *u = NULL;
        r = run(c, "UPDATE secrets SET blob = $1 WHERE path = $2 AND version = $3::int8", 3, v,
                len, fmt, &u);
        if (!r.err && strcmp(PQcmdTuples(u), "1") != 0)
            r = VT_FAIL(VT_ERR_BROKER_STORE_CORRUPT);
        PQclear(u);
    }
    PQclear(res);
    return r;
}

/* One named meta row re-sealed through cb (absent: nothing to do). */
static vt_res reseal_meta(PGconn *c, const char *key, vtb_reseal_cb cb, void *arg,
                          struct vt_buf *nb)
{
    const char *k[] = { key };
    PGresult *res = NULL;
    GUARD(run(c, "SELECT v FROM meta WHERE k = $1", 1, k, NULL, NULL, &res));
    vt_res r = vti_ok();
    if (PQntuples(res) == 1) {
        nb->len = 0;
        r = cb(key, "meta", 1, (const uint8_t *)PQgetvalue(res, 0, 0),
               (size_t)PQgetlength(res, 0, 0), nb, arg);
        if (!r.err && nb->len > INT32_MAX)
            r = VT_FAIL(VT_ERR_TOO_LARGE);
        if (!r.err) {
            const char *v[] = { (const char *)nb->p, key };
            int len[] = { (int)nb->len, 0 }, fmt[] = { 1, 0 };
            r = run(c, "UPDATE meta SET v = $1 WHERE k = $2", 2, v, len, fmt, NULL);
        }
    }
    PQclear(res);
    return r;
}

/* Set the tag of one row: sql takes $1 = tag, $2 = the row's key (text). */
static vt_res set_tag(PGconn *c, const char *sql, const char *key, const uint8_t *mac)
{
    const char *v[] = { (const char *)mac, key };
    int len[] = { VTB_MAC_LEN, 0 }, fmt[] = { 1, 0 };
    return run(c, sql, 2, v, len, fmt, NULL);
}

/* The policy row re-tagged through tcb (in the caller's transaction). */
static vt_res retag_policy(PGconn *c, vtb_retag_cb tcb, void *arg)
{
    PGresult *res = NULL;
    GUARD(run(c, "SELECT doc, updated, mac FROM policy WHERE id = 1", 0, NULL, NULL, NULL, &res));
    vt_res r = vti_ok();
    uint8_t old[VTB_MAC_LEN], mac[VTB_MAC_LEN];
    bool has = false, update = false;
    if (PQntuples(res) == 1) {
        col_mac(res, 0, 2, old, &has);
        struct vtb_tagged_row row = { .table = "policy", .doc = col_text(res, 0, 0),
                                      .updated = col_i64(res, 0, 1), .mac = has ? old : NULL };
        r = tcb(&row, mac, &update, arg);
    }
    PQclear(res);
    if (!r.err && update)
        r = set_tag(c, "UPDATE policy SET mac = $1 WHERE id = $2::int4", "1", mac);
    return r;
}

/* Every reference value re-tagged through tcb. */
static vt_res retag_refvals(PGconn *c, vtb_retag_cb tcb, void *arg)
{
    PGresult *res = NULL;
    GUARD(run(c, "SELECT id, name, value, source, expires, added, mac FROM refvals ORDER BY id",
              0, NULL, NULL, NULL, &res));
    vt_res r = vti_ok();
    for (int i = 0; !r.err && i < PQntuples(res); i++) {
        struct vtb_refval rv = {
            .id = col_i64(res, i, 0), .name = col_text(res, i, 1), .value = col_text(res, i, 2),
            .source = col_text(res, i, 3), .expires = col_i64(res, i, 4),
            .added = col_i64(res, i, 5),
        };
        col_mac(res, i, 6, rv.mac, &rv.has_mac);
        struct vtb_tagged_row row = { .table = "refvals", .rv = &rv,
                                      .mac = rv.has_mac ? rv.mac : NULL };
        uint8_t mac[VTB_MAC_LEN];
        bool update = false;
        r = tcb(&row, mac, &update, arg);
        char id[24];
        snprintf(id, sizeof(id), "%" PRId64, rv.id);
        if (!r.err && update)
            r = set_tag(c, "UPDATE refvals SET mac = $1 WHERE id = $2::int8", id, mac);
    }
    PQclear(res);
    return r;
}

/* Every latest-version record re-tagged through tcb. */
static vt_res retag_latest(PGconn *c, vtb_retag_cb tcb, void *arg)
{
    PGresult *res = NULL;
    GUARD(run(c, "SELECT path, version, deleted, mac FROM secret_latest ORDER BY path", 0, NULL,
              NULL, NULL, &res));
    vt_res r = vti_ok();
    for (int i = 0; !r.err && i < PQntuples(res); i++) {
        struct vtb_latest lt = { .version = col_i64(res, i, 1),
                                 .deleted = col_i64(res, i, 2) != 0, .present = true };
        col_mac(res, i, 3, lt.mac, &lt.has_mac);
        const char *path = col_text(res, i, 0);
        struct vtb_tagged_row row = { .table = "secret_latest", .path = path, .lt = &lt,
                                      .mac = lt.has_mac ? lt.mac : NULL };
        uint8_t mac[VTB_MAC_LEN];
        bool update = false;
        r = tcb(&row, mac, &update, arg);
        if (!r.err && update)
            r = set_tag(c, "UPDATE secret_latest SET mac = $1 WHERE path = $2", path, mac);
    }
    PQclear(res);
    return r;
}

/* Every secret blob and the named meta rows rewritten, and with tcb every tagged row
 * re-tagged, in ONE transaction (see store.h). The tables are locked against other writers
 * (SHARE ROW EXCLUSIVE: readers go on, a broker that is still running cannot add a row under
 * the old key during the rotation); a failure of cb or of any statement rolls everything
 * back, and a killed process leaves an uncommitted transaction that PostgreSQL discards. */
static vt_res reseal_tx(struct vtb_store *s, const char *const *meta_keys, vtb_reseal_cb cb,
                        vtb_retag_cb tcb, void *arg)
{
    WITH_CONN(s, c);
    struct vt_buf nb = VT_BUF_INIT;
    vt_res r = exec_plain(c, "BEGIN");
    if (!r.err)
        r = exec_plain(c, tcb ? "LOCK TABLE secrets, meta, policy, refvals, secret_latest IN "
                                "SHARE ROW EXCLUSIVE MODE"
                              : "LOCK TABLE secrets, meta IN SHARE ROW EXCLUSIVE MODE");
    if (!r.err)
        r = reseal_secrets(c, cb, arg, &nb);
    for (size_t i = 0; !r.err && meta_keys && meta_keys[i]; i++)
        r = reseal_meta(c, meta_keys[i], cb, arg, &nb);
    if (!r.err && tcb)
        r = retag_policy(c, tcb, arg);
    if (!r.err && tcb)
        r = retag_refvals(c, tcb, arg);
    if (!r.err && tcb)
        r = retag_latest(c, tcb, arg);
    if (!r.err)
        r = exec_plain(c, "COMMIT");
    else
        (void)exec_plain(c, "ROLLBACK");
    give(s, slot_);
    vti_buf_free(&nb);
    return r;
}

static vt_res pg_reseal_all(struct vtb_store *s, const char *const *meta_keys, vtb_reseal_cb cb,
                            void *arg)
{
    return reseal_tx(s, meta_keys, cb, NULL, arg);
}

static vt_res pg_reseal_retag(struct vtb_store *s, const char *const *meta_keys,
                              vtb_reseal_cb cb, vtb_retag_cb tcb, void *arg)
{
    ENSURE(tcb, VT_ERR_INVALID_ARG);
    return reseal_tx(s, meta_keys, cb, tcb, arg);
}

/* Adoption (store.h latest_adopt), in one transaction under the migration lock. */
static vt_res pg_latest_adopt(struct vtb_store *s, vtb_latest_tag_cb tag, void *arg,
                              const char *meta_key, const uint8_t *p, size_t n)
{
    ENSURE(tag && meta_key && n <= INT32_MAX, VT_ERR_INVALID_ARG);
    WITH_CONN(s, c);
    PGresult *res = NULL;
    vt_res r = exec_plain(c, "BEGIN");
    if (!r.err)
        r = exec_plain(c, "SELECT pg_advisory_xact_lock(" MIGRATION_LOCK ")");
    if (!r.err)
        r = run(c, "SELECT x.path, MAX(x.version) FROM secrets x LEFT JOIN secret_latest l ON "
                   "l.path = x.path WHERE l.path IS NULL GROUP BY x.path ORDER BY x.path", 0,
                NULL, NULL, NULL, &res);
    for (int i = 0; !r.err && i < PQntuples(res); i++)
        r = latest_write(c, col_text(res, i, 0), col_i64(res, i, 1), false, tag, arg);
    PQclear(res);
    if (!r.err) {
        const char *v[] = { (const char *)p, meta_key };
        int len[] = { (int)n, 0 }, fmt[] = { 1, 0 };
        r = run(c, "UPDATE meta SET v = $1 WHERE k = $2", 2, v, len, fmt, NULL);
    }
    if (!r.err)
        r = exec_plain(c, "COMMIT");
    else
        (void)exec_plain(c, "ROLLBACK");
    give(s, slot_);
    return r;
}

static vt_res pg_policy_generation(struct vtb_store *s, int64_t *gen)
{
    WITH_CONN(s, c);
    PGresult *res = NULL;
    vt_res r = run(c, "SELECT gen FROM policy_gen WHERE id = 1", 0, NULL, NULL, NULL, &res);
    if (!r.err) {
        if (PQntuples(res) != 1)
            r = VT_FAIL(VT_ERR_PG_STORE);
        else
            *gen = col_i64(res, 0, 0);
        PQclear(res);
    }
    give(s, slot_);
    return r;
}

/* ---- health: every step bounded by a deadline ---------------------------------------- */

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A free connection before the deadline (ms, CLOCK_REALTIME as the condition's), else -1. */
static int take_until(struct vtb_store *s, int64_t deadline)
{
    struct timespec dl = { .tv_sec = deadline / 1000, .tv_nsec = (deadline % 1000) * 1000000 };
    pthread_mutex_lock(&s->lock);
    for (;;) {
        for (int i = 0; i < POOL; i++) {
            if (!s->busy[i]) {
                s->busy[i] = true;
                pthread_mutex_unlock(&s->lock);
                return i;
            }
        }
        if (pthread_cond_timedwait(&s->cond, &s->lock, &dl) == ETIMEDOUT) {
            pthread_mutex_unlock(&s->lock);
            return -1;
        }
    }
}

/* Wait until the connection's socket is ready for ev or the deadline passes. */
static bool wait_sock(PGconn *c, short ev, int64_t deadline)
{
    int64_t left = deadline - now_ms();
    if (left <= 0 || PQsocket(c) < 0)
        return false;
    struct pollfd p = { .fd = PQsocket(c), .events = ev };
    int n;
    do
        n = poll(&p, 1, (int)left);
    while (n < 0 && errno == EINTR);
    return n > 0;
}

/* Reconnect a broken connection without blocking past the deadline. */
static bool reset_until(PGconn *c, int64_t deadline)
{
    if (PQstatus(c) == CONNECTION_OK)
        return true;
    if (!PQresetStart(c))
        return false;
    PostgresPollingStatusType st = PGRES_POLLING_WRITING;
    while (st != PGRES_POLLING_OK && st != PGRES_POLLING_FAILED) {
        if (!wait_sock(c, st == PGRES_POLLING_READING ? POLLIN : POLLOUT, deadline))
            return false;
        st = PQresetPoll(c);
    }
    return st == PGRES_POLLING_OK;
}

/* The check query, sent and awaited without blocking past the deadline. */
static bool query_until(PGconn *c, int64_t deadline)
{
    if (PQsetnonblocking(c, 1) != 0 ||
        !PQsendQuery(c, "SELECT 1 FROM meta WHERE k = 'master-check'"))
        return false;
    int f;
    while ((f = PQflush(c)) == 1)
        if (!wait_sock(c, POLLOUT, deadline))
            return false;
    if (f < 0)
        return false;
    while (PQisBusy(c)) {
        if (!wait_sock(c, POLLIN, deadline) || !PQconsumeInput(c))
            return false;
    }
    bool ok = false;
    PGresult *res;
    while ((res = PQgetResult(c)) != NULL) {
        ok = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1;
        PQclear(res);
    }
    PQsetnonblocking(c, 0);
    return ok;
}

/* Bounded health check: a free connection, a reconnect if needed and the query, all before
 * the deadline. A connection abandoned mid-way (query in flight, half-open reconnect) is shut
 * down, so that its next user starts afresh (take() resets it) instead of reading a stale
 * answer. libpq's own timeouts cannot do this: statement_timeout needs a running server, and
 * connect_timeout bounds only connecting. */
static vt_res pg_health(struct vtb_store *s, int timeout_ms)
{
    int64_t deadline = now_ms() + timeout_ms;
    int i = take_until(s, deadline);
    if (i < 0) {
        VT_WARN("broker store (postgresql): health: no free connection within %d ms",
                timeout_ms);
        return VT_FAIL(VT_ERR_PG_STORE);
    }
    PGconn *c = s->c[i];
    bool ok = reset_until(c, deadline) && query_until(c, deadline);
    if (!ok) {
        VT_WARN("broker store (postgresql): health: no answer within %d ms", timeout_ms);
        if (PQsocket(c) >= 0)
            shutdown(PQsocket(c), SHUT_RDWR);
        (void)PQconsumeInput(c); /* sees the end: CONNECTION_BAD */
        PGresult *res;
        while (PQstatus(c) == CONNECTION_OK && (res = PQgetResult(c)) != NULL)
            PQclear(res);
        PQsetnonblocking(c, 0);
    }
    give(s, i);
    return ok ? vti_ok() : VT_FAIL(VT_ERR_PG_STORE);
}

const struct vtb_store_ops vtb_store_pg = {
    .name = "postgresql",
    .open = pg_open,
    .close = pg_close,
    .meta_get = pg_meta_get,
    .meta_put = pg_meta_put,
    .secret_put = pg_secret_put,
    .secret_get = pg_secret_get,
    .secret_delete = pg_secret_delete,
    .secret_list = pg_secret_list,
    .refval_add = pg_refval_add,
    .refval_delete = pg_refval_delete,
    .refval_list = pg_refval_list,
    .policy_set = pg_policy_set,
    .policy_get = pg_policy_get,
    .policy_put = pg_policy_put,
    .policy_read = pg_policy_read,
    .refval_set_mac = pg_refval_set_mac,
    .audit_append = pg_audit_append,
    .audit_list = pg_audit_list,
    .audit_after = pg_audit_after,
    .audit_prune = pg_audit_prune,
    .session_put = pg_session_put,
    .session_get = pg_session_get,
    .session_advance = pg_session_advance,
    .session_sweep = pg_session_sweep,
    .session_put_capped = pg_session_put_capped,
    .reseal_all = pg_reseal_all,
    .policy_generation = pg_policy_generation,
    .health = pg_health,
    .secret_put_latest = pg_secret_put_latest,
    .secret_delete_latest = pg_secret_delete_latest,
    .secret_get_latest = pg_secret_get_latest,
    .latest_adopt = pg_latest_adopt,
    .reseal_retag = pg_reseal_retag,
};
