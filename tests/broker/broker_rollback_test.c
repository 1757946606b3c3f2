/* SPDX-License-Identifier: Apache-2.0 */
/*
 * broker_rollback_test.c - secret rollback by deleting rows is detected (issue 10.4): every
 * secret write, rotation and deletion keeps an authenticated latest-version record in the
 * same transaction, and a release whose newest stored row is not the one recorded (newest
 * key version deleted with raw SQL, an older resource row put back, a deleted secret's row
 * put back, the record itself changed, removed or swapped) is refused with exactly
 * VT_ERR_BROKER_SECRET_ROLLBACK, on get, wrap and unwrap; normal rotation, deletion and
 * re-creation keep working. A store written before the records existed adopts them once at
 * open. Master key rotation re-tags the records, the policy and the reference values inside
 * its own transaction: a rotation whose later steps fail never leaves the policy behind.
 * (SQLite here; PostgreSQL in tests/e2e/kbs_pg_test.sh.)
 */
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "broker/kms.h"
#include "broker/state.h"
#include "util/secmem.h"
#include "vt_test.h"

#define RB VT_ERR_BROKER_SECRET_ROLLBACK
#define POLICY "{\"version\":1,\"rules\":[{\"name\":\"all\",\"resources\":[\"r/*/*\"]}]}"

static char db[512];
static uint8_t mk[32];

/* raw SQL on the store file, as anyone with write access to it could */
static void sql(const char *q)
{
    sqlite3 *h = NULL;
    CHECK(sqlite3_open(db, &h) == SQLITE_OK);
    char *msg = NULL;
    int rc = sqlite3_exec(h, q, NULL, NULL, &msg);
    if (rc != SQLITE_OK)
        fprintf(stderr, "sql %s: %s\n", q, msg ? msg : "?");
    CHECK(rc == SQLITE_OK);
    sqlite3_free(msg);
    sqlite3_close(h);
}

/* the plaintext of path (latest) must be want; returns the error code */
static int get_is(struct vtb_kms *k, const char *path, const char *want)
{
    char kind[16];
    int64_t ver = 0;
    struct vt_buf out = VT_BUF_INIT;
    vt_res r = vtb_kms_get(k, path, 0, kind, &ver, &out);
    if (!r.err && want)
        CHECK(out.len == strlen(want) && vti_ct_eq(out.p, want, out.len));
    if (r.err)
        CHECK(out.len == 0); /* nothing released */
    vti_buf_free(&out);
    return r.err;
}

static struct vtb_kms *open_store(const uint8_t *key)
{
    struct vtb_kms *k = NULL;
    CHECK_OK(vtb_kms_open(&vtb_store_sqlite, db, key, &k));
    return k;
}

/* keys keep their versions: deleting the newest row rolls the key back */
static void test_key_rollback(struct vtb_kms *k)
{
    struct vtp_wrapped w1, w2, w3;
    struct vt_buf out = VT_BUF_INIT;
    int64_t v = 0;
    CHECK_OK(vtb_kms_key_create(k, "r/key/k", 100));
    CHECK_OK(vtb_kms_wrap(k, "r/key/k", (const uint8_t *)"one", 3, &w1));
    CHECK_OK(vtb_kms_key_rotate(k, "r/key/k", 101, &v));
    CHECK(v == 2);
    CHECK_OK(vtb_kms_wrap(k, "r/key/k", (const uint8_t *)"two", 3, &w2));
    sql("CREATE TABLE bk_secrets AS SELECT * FROM secrets;"
        "CREATE TABLE bk_latest AS SELECT * FROM secret_latest;");
    sql("DELETE FROM secrets WHERE path = 'r/key/k' AND version = 2");
    CHECK(get_is(k, "r/key/k", NULL) == RB);
    CHECK_ERR(vtb_kms_wrap(k, "r/key/k", (const uint8_t *)"x", 1, &w3), RB); /* never v1 */
    vtp_wrapped_free(&w3);
    CHECK_ERR(vtb_kms_unwrap(k, &w1, &out), RB);
    CHECK(out.len == 0);
    /* the record changed to match the rolled-back rows: its tag fails */
    sql("UPDATE secret_latest SET version = 1 WHERE path = 'r/key/k'");
    CHECK(get_is(k, "r/key/k", NULL) == RB);
    /* the record removed, emptied, or another path's record copied in */
    sql("DELETE FROM secret_latest WHERE path = 'r/key/k'");
    CHECK(get_is(k, "r/key/k", NULL) == RB);
    sql("INSERT INTO secret_latest SELECT 'r/key/k', version, deleted, NULL FROM bk_latest "
        "WHERE path = 'r/key/k'");
    CHECK(get_is(k, "r/key/k", NULL) == RB);
    sql("UPDATE secret_latest SET mac = zeroblob(32) WHERE path = 'r/key/k'");
    CHECK(get_is(k, "r/key/k", NULL) == RB);
    /* rows and record restored: released again, both versions unwrap */
    sql("INSERT INTO secrets SELECT * FROM bk_secrets WHERE path = 'r/key/k' AND version = 2;"
        "UPDATE secret_latest SET version = 2, deleted = 0, mac = (SELECT mac FROM bk_latest "
        "WHERE path = 'r/key/k') WHERE path = 'r/key/k'");
    CHECK_OK(vtb_kms_unwrap(k, &w1, &out));
    CHECK(out.len == 3 && vti_ct_eq(out.p, "one", 3));
    vti_buf_free(&out);
    CHECK_OK(vtb_kms_unwrap(k, &w2, &out));
    CHECK(out.len == 3 && vti_ct_eq(out.p, "two", 3));
    vti_buf_free(&out);
    vtp_wrapped_free(&w1);
    vtp_wrapped_free(&w2);
}

/* resources keep one row: an older row put back in place of the newest is refused */
static void test_resource_rollback(struct vtb_kms *k)
{
    CHECK_OK(vtb_kms_put_resource(k, "r/res/a", (const uint8_t *)"old", 3, 100));
    sql("CREATE TABLE bk_res AS SELECT * FROM secrets WHERE path = 'r/res/a'");
    CHECK_OK(vtb_kms_put_resource(k, "r/res/a", (const uint8_t *)"new", 3, 101));
    CHECK(get_is(k, "r/res/a", "new") == VT_OK);
    sql("DELETE FROM secrets WHERE path = 'r/res/a'; INSERT INTO secrets SELECT * FROM bk_res");
    CHECK(get_is(k, "r/res/a", NULL) == RB);
    /* a legitimate put heals it: the next version, released */
    CHECK_OK(vtb_kms_put_resource(k, "r/res/a", (const uint8_t *)"newer", 5, 102));
    CHECK(get_is(k, "r/res/a", "newer") == VT_OK);
}

/* deletion is recorded: a deleted secret's row put back is refused; numbering continues */
static void test_delete(struct vtb_kms *k)
{
    CHECK_OK(vtb_kms_put_resource(k, "r/res/d", (const uint8_t *)"gone", 4, 100));
    sql("CREATE TABLE bk_del AS SELECT * FROM secrets WHERE path = 'r/res/d'");
    CHECK_OK(vtb_kms_delete(k, "r/res/d"));
    CHECK(get_is(k, "r/res/d", NULL) == VT_ERR_BROKER_UNKNOWN_RESOURCE);
    CHECK_ERR(vtb_kms_delete(k, "r/res/d"), VT_ERR_BROKER_UNKNOWN_RESOURCE);
    sql("INSERT INTO secrets SELECT * FROM bk_del");
    CHECK(get_is(k, "r/res/d", NULL) == RB);
    sql("DELETE FROM secrets WHERE path = 'r/res/d'");
    /* created again: version 2, so the old version-1 blob can never pass for it */
    CHECK_OK(vtb_kms_put_resource(k, "r/res/d", (const uint8_t *)"back", 4, 103));
    char kind[16];
    int64_t ver = 0;
    struct vt_buf out = VT_BUF_INIT;
    CHECK_OK(vtb_kms_get(k, "r/res/d", 0, kind, &ver, &out));
    CHECK(ver == 2 && out.len == 4 && vti_ct_eq(out.p, "back", 4));
    vti_buf_free(&out);
    sql("DELETE FROM secrets WHERE path = 'r/res/d'; INSERT INTO secrets SELECT * FROM bk_del");
    CHECK(get_is(k, "r/res/d", NULL) == RB);
    /* a key deleted and created again continues too; rotation works as before */
    CHECK_OK(vtb_kms_key_create(k, "r/key/d", 100));
    CHECK_OK(vtb_kms_delete(k, "r/key/d"));
    int64_t v = 0;
    CHECK_OK(vtb_kms_key_create_v(k, "r/key/d", 104, &v));
    CHECK(v == 2);
    CHECK_OK(vtb_kms_key_rotate(k, "r/key/d", 105, &v));
    CHECK(v == 3);
    CHECK(get_is(k, "r/key/d", NULL) == VT_OK);
}

/* A v1 check value (a store written before the records): sealed as kms.c did then. */
static void put_v1_check(void)
{
    static const char aad[] = "veritee-store-v1\0meta\0master-check\0001";
    static const char pt[] = "veritee master key check v1";
    uint8_t iv[12] = { 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 1, 2 };
    struct vt_buf ct = VT_BUF_INIT, hex = VT_BUF_INIT;
    CHECK_OK(vtb_gcm_seal(mk, iv, (const uint8_t *)aad, sizeof(aad) - 1,
                          (const uint8_t *)pt, strlen(pt), &ct));
    CHECK_OK(vti_buf_printf(&hex, "UPDATE meta SET v = X'01"));
    for (size_t i = 0; i < sizeof(iv); i++)
        CHECK_OK(vti_buf_printf(&hex, "%02x", iv[i]));
    for (size_t i = 0; i < ct.len; i++)
        CHECK_OK(vti_buf_printf(&hex, "%02x", ct.p[i]));
    CHECK_OK(vti_buf_printf(&hex, "' WHERE k = 'master-check'"));
    sql((const char *)hex.p);
    vti_buf_free_nowipe(&ct);
    vti_buf_free_nowipe(&hex);
}

/* an existing store (check value v1, no records, older schema) adopts once at open */
static void test_adopt(void)
{
    struct vtb_kms *k = open_store(mk);
    if (!k)
        return;
    CHECK_OK(vtb_kms_key_create(k, "r/key/old", 100));
    CHECK_OK(vtb_kms_key_rotate(k, "r/key/old", 101, NULL));
    CHECK_OK(vtb_kms_put_resource(k, "r/res/old", (const uint8_t *)"kept", 4, 100));
    vtb_kms_close(k);
    sql("DROP TABLE secret_latest; PRAGMA user_version = 5");
    put_v1_check();
    k = open_store(mk);
    if (!k)
        return;
    CHECK(get_is(k, "r/res/old", "kept") == VT_OK);
    CHECK(get_is(k, "r/key/old", NULL) == VT_OK);
    vtb_kms_close(k);
    /* adopted once: rows deleted now and a restart do not adopt the rolled-back state */
    sql("DELETE FROM secrets WHERE path = 'r/key/old' AND version = 2");
    k = open_store(mk);
    if (!k)
        return;
    CHECK(get_is(k, "r/key/old", NULL) == RB);
    CHECK(get_is(k, "r/res/old", "kept") == VT_OK);
    vtb_kms_close(k);
}

/* master key rotation: records re-tagged in its transaction (never a tampered one); the
 * policy stays authenticated even when every step after the commit would fail */
static vt_res fail_policy_put(struct vtb_store *s, const char *doc, int64_t now,
                              const uint8_t *mac)
{
    (void)s, (void)doc, (void)now, (void)mac;
    return VT_FAIL(VT_ERR_BROKER_STORE);
}

static vt_res fail_set_mac(struct vtb_store *s, int64_t id, const uint8_t *mac)
{
    (void)s, (void)id, (void)mac;
    return VT_FAIL(VT_ERR_BROKER_STORE);
}

static void test_rekey(void)
{
    uint8_t nk[32];
    memset(nk, 0x5c, sizeof(nk));
    nk[0] = 1;
    struct vtb_kms *k = open_store(mk);
    if (!k)
        return;
    CHECK_OK(vtb_kms_policy_set(k, POLICY, 100));
    struct vtb_refval rv = { .name = "measurement", .value = "aa", .source = "t", .added = 1 };
    CHECK_OK(vtb_kms_refval_add(k, &rv, NULL));
    CHECK_OK(vtb_kms_put_resource(k, "r/res/t", (const uint8_t *)"tampered", 8, 100));
    sql("UPDATE secret_latest SET mac = zeroblob(32) WHERE path = 'r/res/t'");
    vtb_kms_close(k);
    /* the daemon's store ops with the writes a re-tag after the commit would use failing */
    static struct vtb_store_ops ops;
    ops = vtb_store_sqlite;
    ops.policy_put = fail_policy_put;
    ops.refval_set_mac = fail_set_mac;
    k = NULL;
    CHECK_OK(vtb_kms_open(&ops, db, mk, &k));
    if (!k)
        return;
    CHECK_OK(vtb_kms_rekey(k, nk, NULL));
    vtb_kms_close(k);
    k = open_store(nk);
    if (!k)
        return;
    struct vtb_state st;
    CHECK_OK(vtb_state_init(&st, k));
    CHECK_OK(vtb_state_reload(&st)); /* policy and reference value under the new key */
    CHECK(vtb_state_integrity(&st, NULL) == 0);
    vtb_state_fini(&st);
    CHECK(get_is(k, "r/res/old", "kept") == VT_OK);
    CHECK(get_is(k, "r/res/a", "newer") == VT_OK);
    CHECK(get_is(k, "r/res/t", NULL) == RB); /* not laundered */
    CHECK(get_is(k, "r/key/old", NULL) == RB);
    vtb_kms_close(k);
}

int main(void)
{
    memset(mk, 0x3a, sizeof(mk));
    mk[5] = 0x11;
    snprintf(db, sizeof(db), "%s/rollback.db", vt_test_tmpdir());
    remove(db);
    struct vtb_kms *k = open_store(mk);
    if (!k)
        return vt_test_done();
    test_key_rollback(k);
    test_resource_rollback(k);
    test_delete(k);
    vtb_kms_close(k);
    test_adopt();
    test_rekey();
    return vt_test_done();
}
