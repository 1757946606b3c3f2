/* SPDX-License-Identifier: Apache-2.0 */
/*
 * broker_store_test.c - store-location redaction (redact.c) with the cases that leaked before
 * (a password holding '?', '@', '/', %3F; a percent-encoded `password` keyword in a URI query;
 * keyword/value strings with quotes and escapes), the store URL read from a file
 * (vtb_config_set "store-file", $CREDENTIALS_DIRECTORY/store-url), and the master-key check row
 * written insert-only: two brokers with different keys racing on a fresh store cannot both
 * start (the loser reads the winner's row and is refused).
 */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "brokerd/daemon.h"
#include "broker/kms.h"
#include "broker/redact.h"
#include "broker/store.h"
#include "vt_test.h"

/* redact `in`: the output must not contain `secret`, and must contain `keep` */
static void red(const char *in, const char *secret, const char *keep)
{
    char out[512];
    vtb_redact(in, out, sizeof(out));
    bool ok = !strstr(out, secret) && (!keep || strstr(out, keep));
    if (!ok)
        fprintf(stderr, "redact: %s -> %s (secret %s, keep %s)\n", in, out, secret,
                keep ? keep : "-");
    CHECK(ok);
}

static void test_redact(void)
{
    /* user information: the password ends at the last '@' whatever it holds */
    red("postgresql://u:pa?ss@db.example:5432/kbs", "pa?ss", "u:***@db.example:5432/kbs");
    red("postgresql://u:pa?ss@db.example/kbs", "ss", "@db.example/kbs");
    red("postgresql://u:p@ss@db.example/kbs", "p@ss", "u:***@db.example/kbs");
    red("postgresql://u:p/w@db.example/kbs", "p/w", "u:***@db.example/kbs");
    red("postgresql://u:p%3Fw@db.example/kbs", "p%3Fw", "u:***@db.example/kbs");
    red("postgres://u:a?b/c@d@h/kbs?sslmode=disable", "a?b", "sslmode=disable");
    /* query parameters, names percent-decoded as libpq does */
    red("postgresql://u@h/kbs?password=Sekr1t&connect_timeout=5", "Sekr1t",
        "password=***&connect_timeout=5");
    red("postgresql://u@h/kbs?pass%77ord=Sekr1t", "Sekr1t", "pass%77ord=***");
    red("postgresql://u@h/kbs?%70assword=Sekr1t&x=1", "Sekr1t", NULL);
    red("postgresql://u@h/kbs?sslmode=require&PASSWORD=Sekr1t", "Sekr1t", "sslmode=require");
    red("postgresql://u@h/kbs?sslpassword=Sekr1t", "Sekr1t", "sslpassword=***");
    red("postgresql://u:One1@h/kbs?password=Two2", "Two2", "u:***@h/kbs?password=***");
    red("postgresql://u:One1@h/kbs?password=Two2", "One1", NULL);
    /* keyword/value strings: quotes, escapes, blanks around '=' */
    red("host=h dbname=kbs password='a b\\' c' user=u", "c'", "user=u");
    red("host=h password = 'x y z' dbname=kbs", "y z", "dbname=kbs");
    red("host=h password=a\\ b dbname=kbs", "\\ b", "dbname=kbs");
    red("password=ab&cd host=h", "&cd", "host=h");
    red("host=h sslpassword=Sekr1t", "Sekr1t", "sslpassword=***");
    red("dbname='postgresql://u:Sekr1t@h/kbs'", "Sekr1t", NULL);
    /* libpq's view is the last word: an expanded dbname carrying a password */
    red("dbname=postgresql://u@h/kbs?password=Sekr1t", "Sekr1t", NULL);
    /* nothing secret: unchanged */
    char out[256];
    CHECK(strcmp(vtb_redact("/var/lib/veritee/store.db", out, sizeof(out)),
                 "/var/lib/veritee/store.db") == 0);
    CHECK(strcmp(vtb_redact("postgresql://veritee@127.0.0.1:5432/kbs", out, sizeof(out)),
                 "postgresql://veritee@127.0.0.1:5432/kbs") == 0);
    CHECK(strcmp(vtb_redact("FATAL:  password authentication failed for user \"u\"", out,
                            sizeof(out)),
                 "FATAL:  password authentication failed for user \"u\"") == 0);
    /* cut to the buffer, always terminated */
    CHECK(strlen(vtb_redact("postgresql://u:Sekr1t@h/kbs", out, 8)) == 7);
    CHECK(vtb_redact(NULL, out, sizeof(out)) == out && out[0] == 0);
}

static void test_store_file(void)
{
    char f[1024], dir[512];
    struct vtb_config c;
    memset(&c, 0, sizeof(c));
    snprintf(f, sizeof(f), "%s/store-url.txt", vt_test_tmpdir());
    CHECK_OK(vti_file_write(f, "postgresql://u:Sekr1t@h/kbs\n", 28, 0600));
    CHECK_OK(vtb_config_set(&c, "store-file", f));
    CHECK(c.store && strcmp(c.store, "postgresql://u:Sekr1t@h/kbs") == 0);
    /* readable by others: refused */
    CHECK(chmod(f, 0644) == 0);
    CHECK_ERR(vtb_config_set(&c, "store-file", f), VT_ERR_BROKER_CONFIG);
    CHECK_ERR(vtb_config_set(&c, "store-file", "/nonexistent/x"), VT_ERR_BROKER_CONFIG);
    /* empty, or more than one line */
    CHECK_OK(vti_file_write(f, "\n", 1, 0600));
    CHECK_ERR(vtb_config_set(&c, "store-file", f), VT_ERR_BROKER_CONFIG);
    CHECK_OK(vti_file_write(f, "a\nb\n", 4, 0600));
    CHECK_ERR(vtb_config_set(&c, "store-file", f), VT_ERR_BROKER_CONFIG);
    /* systemd credential: only when no store is configured */
    snprintf(dir, sizeof(dir), "%s/creds", vt_test_tmpdir());
    CHECK(mkdir(dir, 0700) == 0);
    snprintf(f, sizeof(f), "%s/store-url", dir);
    CHECK_OK(vti_file_write(f, "host=h password=x", 17, 0600));
    setenv("CREDENTIALS_DIRECTORY", dir, 1);
    CHECK_OK(vtb_config_store_default(&c)); /* c.store already set: kept */
    CHECK(strcmp(c.store, "postgresql://u:Sekr1t@h/kbs") == 0);
    free(c.store);
    c.store = NULL;
    CHECK_OK(vtb_config_store_default(&c));
    CHECK(c.store && strcmp(c.store, "host=h password=x") == 0);
    unsetenv("CREDENTIALS_DIRECTORY");
    vtb_config_free(&c);
    CHECK_OK(vtb_config_store_default(&c)); /* no credentials: nothing */
    CHECK(c.store == NULL);
}

/* meta_get that reports "absent" once: the other broker inserts between our read and write */
static int racing;
static vt_res racy_meta_get(struct vtb_store *s, const char *key, struct vt_buf *out)
{
    if (racing) {
        racing--;
        return VT_FAIL(VT_ERR_NOT_FOUND);
    }
    return vtb_store_sqlite.meta_get(s, key, out);
}

static void test_master_check_race(void)
{
    char db[512];
    snprintf(db, sizeof(db), "%s/race.db", vt_test_tmpdir());
    uint8_t k1[32], k2[32];
    memset(k1, 0x11, 32);
    memset(k2, 0x22, 32);
    struct vtb_store_ops ops = vtb_store_sqlite;
    ops.meta_get = racy_meta_get;
    struct vtb_kms *a = NULL, *b = NULL;
    CHECK_OK(vtb_kms_open(&ops, db, k1, &a));
    racing = 1;
    CHECK_ERR(vtb_kms_open(&ops, db, k2, &b), VT_ERR_BROKER_MASTER_KEY_WRONG);
    racing = 1;
    CHECK_OK(vtb_kms_open(&ops, db, k1, &b)); /* same key: the existing row opens */
    if (b)
        vtb_kms_close(b);
    if (a)
        vtb_kms_close(a);
    /* the store itself refuses a second check row */
    struct vtb_store *s = NULL;
    CHECK_OK(vtb_store_sqlite.open(db, &s));
    if (!s)
        return;
    CHECK_ERR(vtb_store_sqlite.meta_put(s, "master-check", (const uint8_t *)"x", 1),
              VT_ERR_BROKER_EXISTS);
    CHECK_OK(vtb_store_sqlite.meta_put(s, "other", (const uint8_t *)"x", 1));
    vtb_store_sqlite.close(s);
}

static void count_rows(int64_t seq, const struct vtb_audit *a, void *arg)
{
    (void)seq;
    int *c = arg;
    c[0]++;
    c[1] += a->time < 1000;
    c[2] += !strcmp(a->op, "audit-prune") && !strcmp(a->reason, "by test deleted=3");
}

/* audit_prune: rows before the cut-off go, later ones stay, the record is appended in the
 * same transaction; bad arguments are refused; a plain DELETE is still refused. */
static void test_audit_prune(void)
{
    char db[600];
    snprintf(db, sizeof(db), "%s/prune.db", vt_test_tmpdir());
    struct vtb_store *s = NULL;
    CHECK_OK(vtb_store_sqlite.open(db, &s));
    if (!s)
        return;
    for (int64_t t = 997; t < 1003; t++) {
        struct vtb_audit a = { .time = t, .rid = "r", .peer = "", .tee = "", .op = "x",
                               .path = "", .decision = "refuse", .reason = "" };
        CHECK_OK(vtb_store_sqlite.audit_append(s, &a));
    }
    struct vtb_audit rec = { .time = 2000, .rid = "p", .peer = "uid:0", .tee = "",
                             .op = "audit-prune", .path = "", .decision = "prune",
                             .reason = "by test" };
    int64_t n = -1;
    CHECK_ERR(vtb_store_sqlite.audit_prune(s, 0, &rec, &n), VT_ERR_INVALID_ARG);
    CHECK_ERR(vtb_store_sqlite.audit_prune(s, 1000, NULL, &n), VT_ERR_INVALID_ARG);
    CHECK_OK(vtb_store_sqlite.audit_prune(s, 1000, &rec, &n));
    CHECK(n == 3);
    int c[3] = { 0 };
    CHECK_OK(vtb_store_sqlite.audit_list(s, 100, count_rows, c));
    CHECK(c[0] == 4 && c[1] == 0 && c[2] == 1);
    CHECK_OK(vtb_store_sqlite.audit_prune(s, 1000, &rec, &n));
    CHECK(n == 0);
    /* paging: after the first row, 2 at a time */
    int d[3] = { 0 };
    CHECK_OK(vtb_store_sqlite.audit_after(s, 4, 2, count_rows, d));
    CHECK(d[0] == 2);
    vtb_store_sqlite.close(s);
    /* the trigger still refuses a DELETE from anything but the prune */
    char cmd[800];
    snprintf(cmd, sizeof(cmd), "sqlite3 '%s' 'DELETE FROM audit' 2>/dev/null", db);
    if (system("command -v sqlite3 >/dev/null 2>&1") == 0)
        CHECK(system(cmd) != 0);
}

/* audit_submit / audit_wait on one thread: three rows queued (the middle one invalid: NULL
 * decision), then waited for last first: that wait writes the whole queue, the batch fails on
 * the bad row and each row is retried alone; the other two waits return at once with their
 * own results. Exactly the two valid rows are stored. */
static void test_audit_submit_wait(void)
{
    char db[600];
    snprintf(db, sizeof(db), "%s/submitwait.db", vt_test_tmpdir());
    struct vtb_store *s = NULL;
    CHECK_OK(vtb_store_sqlite.open(db, &s));
    if (!s)
        return;
    CHECK(vtb_store_sqlite.audit_submit && vtb_store_sqlite.audit_wait);
    struct vtb_audit a[3];
    struct vtb_audit_pending p[3];
    for (int i = 0; i < 3; i++) {
        a[i] = (struct vtb_audit){ .time = 7000 + i, .rid = "sw", .peer = "", .tee = "",
                                   .op = "sw", .path = "", .decision = i == 1 ? NULL : "release",
                                   .reason = "" };
        p[i] = (struct vtb_audit_pending){ .a = &a[i] };
        vtb_store_sqlite.audit_submit(s, &p[i]);
        CHECK(!p[i].done);
    }
    CHECK_OK(vtb_store_sqlite.audit_wait(s, &p[2]));
    CHECK(p[0].done && p[1].done && p[2].done);
    CHECK_OK(vtb_store_sqlite.audit_wait(s, &p[0]));
    CHECK_ERR(vtb_store_sqlite.audit_wait(s, &p[1]), VT_ERR_BROKER_STORE);
    int c[3] = { 0 };
    CHECK_OK(vtb_store_sqlite.audit_list(s, 100, count_rows, c));
    CHECK(c[0] == 2);
    vtb_store_sqlite.close(s);
}

/* Audit group commit: 8 threads append 40 rows each at once (the odd ones through
 * audit_submit / audit_wait); every 8th row of thread 0 is
 * invalid (NULL decision: NOT NULL refuses it) and lands in a batch with valid rows. Each
 * caller gets its own row's result, and exactly the valid rows are stored, once each. */
#define GC_THREADS 8
#define GC_ROWS 40
static struct vtb_store *gc_store;
static int gc_bad_ok, gc_good_err;
static pthread_mutex_t gc_lock = PTHREAD_MUTEX_INITIALIZER;

static void *gc_worker(void *arg)
{
    int t = (int)(intptr_t)arg;
    for (int i = 0; i < GC_ROWS; i++) {
        char rid[32];
        snprintf(rid, sizeof(rid), "t%d-%d", t, i);
        bool bad = t == 0 && i % 8 == 0;
        struct vtb_audit a = { .time = 5000, .rid = rid, .peer = "", .tee = "", .op = "gc",
                               .path = "", .decision = bad ? NULL : "release", .reason = "" };
        vt_res r;
        if (t % 2) { /* half the threads through the two halves, with work in between */
            struct vtb_audit_pending p = { .a = &a };
            vtb_store_sqlite.audit_submit(gc_store, &p);
            sched_yield();
            r = vtb_store_sqlite.audit_wait(gc_store, &p);
        } else {
            r = vtb_store_sqlite.audit_append(gc_store, &a);
        }
        pthread_mutex_lock(&gc_lock);
        gc_bad_ok += bad && !r.err;
        gc_good_err += !bad && r.err;
        pthread_mutex_unlock(&gc_lock);
    }
    return NULL;
}

static void gc_rows(int64_t seq, const struct vtb_audit *a, void *arg)
{
    (void)seq;
    int *seen = arg;
    int t = -1, i = -1;
    if (sscanf(a->rid, "t%d-%d", &t, &i) == 2 && t >= 0 && t < GC_THREADS && i >= 0 &&
        i < GC_ROWS)
        seen[t * GC_ROWS + i]++;
    else
        seen[GC_THREADS * GC_ROWS]++;
}

static void test_audit_group_commit(void)
{
    char db[600];
    snprintf(db, sizeof(db), "%s/groupcommit.db", vt_test_tmpdir());
    CHECK_OK(vtb_store_sqlite.open(db, &gc_store));
    if (!gc_store)
        return;
    pthread_t th[GC_THREADS];
    for (int t = 0; t < GC_THREADS; t++)
        CHECK(pthread_create(&th[t], NULL, gc_worker, (void *)(intptr_t)t) == 0);
    for (int t = 0; t < GC_THREADS; t++)
        pthread_join(th[t], NULL);
    CHECK(gc_bad_ok == 0 && gc_good_err == 0);
    static int seen[GC_THREADS * GC_ROWS + 1];
    CHECK_OK(vtb_store_sqlite.audit_list(gc_store, 10000, gc_rows, seen));
    int wrong = seen[GC_THREADS * GC_ROWS];
    for (int t = 0; t < GC_THREADS; t++)
        for (int i = 0; i < GC_ROWS; i++)
            wrong += seen[t * GC_ROWS + i] != ((t == 0 && i % 8 == 0) ? 0 : 1);
    CHECK(wrong == 0);
    vtb_store_sqlite.close(gc_store);
}

int main(void)
{
    test_redact();
    test_store_file();
    test_master_check_race();
    test_audit_prune();
    test_audit_submit_wait();
    test_audit_group_commit();
    return vt_test_done();
}
