/* SPDX-License-Identifier: Apache-2.0 */
/*
 * broker_policy_auth_test.c - the policy and reference values at rest are authenticated
 * (kms.c row tags): every field of a row changed with raw SQL, a missing tag, a tag from
 * another row or an older generation is refused with the exact code, the last good snapshot
 * stays in use, the failure is logged once per store generation and reported by
 * vtb_state_integrity(); a legitimate write through the KMS writers makes it good again.
 * (SQLite here; PostgreSQL in tests/e2e/broker_policy_tamper_test.sh.)
 */
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "broker/kms.h"
#include "policy/policy.h"
#include "broker/state.h"
#include "util/secmem.h"
#include "vt_test.h"

#define POLICY "{\"version\":1,\"rules\":[{\"name\":\"app\",\"resources\":[\"default/key/*\"]," \
               "\"tee\":[\"sim\"],\"reference\":[\"measurement\"]}]}"
#define OPEN "{\"version\":1,\"rules\":[{\"name\":\"all\",\"resources\":[\"*/*/*\"]}]}"

static char db[512];
static struct vtb_kms *kms;
static struct vtb_state st;
static int integrity_lines;

static void count_log(void *arg, const char *line)
{
    (void)arg;
    if (strstr(line, "POLICY STORE INTEGRITY"))
        integrity_lines++;
}

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

/* the decision of the current snapshot for a sim workload with measurement m */
static int decide(const char *m)
{
    struct vtb_claim_str c[] = { { "measurement", m } };
    struct vtb_input in = { .tee = "sim", .claims = c, .n_claims = 1 };
    char rule[64], why[256];
    struct vtb_snapshot *s = vtb_state_snapshot(&st);
    vt_res r = vtb_appraise(s, &in, "default/key/k", 500, rule, why, sizeof(why));
    vtb_snapshot_unref(s);
    return r.err;
}

static void setup(void)
{
    uint8_t mk[32];
    memset(mk, 7, sizeof(mk));
    snprintf(db, sizeof(db), "%s/policy_auth.db", vt_test_tmpdir());
    remove(db);
    CHECK_OK(vtb_kms_open(&vtb_store_sqlite, db, mk, &kms));
    CHECK_OK(vtb_state_init(&st, kms));
    st.sink = count_log;
    CHECK_OK(vtb_kms_policy_set(kms, POLICY, 100));
    int64_t id = 0;
    struct vtb_refval a = { .name = "measurement", .value = "aa", .source = "ci", .added = 1 };
    struct vtb_refval b = { .name = "measurement", .value = "bb", .source = "ci",
                            .expires = 900, .added = 2 };
    CHECK_OK(vtb_kms_refval_add(kms, &a, &id));
    CHECK_OK(vtb_kms_refval_add(kms, &b, &id));
    CHECK_OK(vtb_state_reload(&st));
    CHECK(vtb_state_integrity(&st, NULL) == 0);
    CHECK(decide("aa") == VT_OK && decide("cc") == VT_ERR_BROKER_REFVAL_MISMATCH);
    sql("CREATE TABLE bk_policy AS SELECT * FROM policy;"
        "CREATE TABLE bk_refvals AS SELECT * FROM refvals;");
}

/* tamper -> refused with code, last good snapshot kept, logged once; restore -> good */
static void tamper_case(const char *tamper, const char *restore, int code)
{
    int lines = integrity_lines;
    uint64_t f0 = 0, f1 = 0;
    (void)vtb_state_integrity(&st, &f0);
    sql(tamper);
    CHECK_ERR(vtb_state_reload(&st), code);
    CHECK_ERR(vtb_state_reload(&st), code); /* same generation: not logged again */
    CHECK(vtb_state_integrity(&st, &f1) == code);
    CHECK(f1 == f0 + 2);
    CHECK(integrity_lines == lines + 1);
    CHECK(decide("aa") == VT_OK);                           /* last good snapshot */
    CHECK(decide("cc") == VT_ERR_BROKER_REFVAL_MISMATCH);
    sql(restore);
    CHECK_OK(vtb_state_reload(&st));
    CHECK(vtb_state_integrity(&st, NULL) == 0);
}

#define RV_RESTORE                                                                             \
    "UPDATE refvals SET name = (SELECT name FROM bk_refvals b WHERE b.id = refvals.id),"        \
    " value = (SELECT value FROM bk_refvals b WHERE b.id = refvals.id),"                       \
    " source = (SELECT source FROM bk_refvals b WHERE b.id = refvals.id),"                     \
    " expires = (SELECT expires FROM bk_refvals b WHERE b.id = refvals.id),"                   \
    " added = (SELECT added FROM bk_refvals b WHERE b.id = refvals.id),"                       \
    " mac = (SELECT mac FROM bk_refvals b WHERE b.id = refvals.id)"
#define POL_RESTORE                                                                            \
    "UPDATE policy SET doc = (SELECT doc FROM bk_policy), updated = (SELECT updated FROM "    \
    "bk_policy), mac = (SELECT mac FROM bk_policy)"

static void test_each_field(void)
{
    const int T = VT_ERR_BROKER_POLICY_TAMPERED;
    tamper_case("UPDATE policy SET doc = '" OPEN "'", POL_RESTORE, T);
    tamper_case("UPDATE policy SET updated = updated + 1", POL_RESTORE, T);
    tamper_case("UPDATE policy SET mac = zeroblob(32)", POL_RESTORE, T);
    tamper_case("UPDATE refvals SET name = 'measurementx' WHERE id = 1", RV_RESTORE, T);
    tamper_case("UPDATE refvals SET value = 'cc' WHERE id = 1", RV_RESTORE, T);
    tamper_case("UPDATE refvals SET source = 'other' WHERE id = 1", RV_RESTORE, T);
    tamper_case("UPDATE refvals SET expires = 0 WHERE id = 2", RV_RESTORE, T);
    tamper_case("UPDATE refvals SET added = 5 WHERE id = 1", RV_RESTORE, T);
    /* a new row with a forged tag; a copy of a row with another value */
    tamper_case("INSERT INTO refvals (name, value, source, expires, added, mac) "
                "VALUES ('measurement', 'cc', 'ci', 0, 1, zeroblob(32))",
                "DELETE FROM refvals WHERE value = 'cc'", T);
    tamper_case("INSERT INTO refvals (name, value, source, expires, added, mac) "
                "SELECT name, 'cc', source, expires, added, mac FROM refvals WHERE id = 1",
                "DELETE FROM refvals WHERE value = 'cc'", T);
}

static void test_missing_and_swapped(void)
{
    const int U = VT_ERR_BROKER_POLICY_UNAUTHENTICATED, T = VT_ERR_BROKER_POLICY_TAMPERED;
    tamper_case("UPDATE policy SET mac = NULL", POL_RESTORE, U);
    tamper_case("UPDATE refvals SET mac = NULL WHERE id = 2", RV_RESTORE, U);
    tamper_case("UPDATE refvals SET mac = x'00' WHERE id = 2", RV_RESTORE, U); /* short */
    /* the tag of the other row */
    tamper_case("UPDATE refvals SET mac = (SELECT mac FROM bk_refvals WHERE id = 2) "
                "WHERE id = 1", RV_RESTORE, T);
    /* a row written before tags existed: refused until set again */
    tamper_case("INSERT INTO refvals (name, value, source, expires, added) "
                "VALUES ('measurement', 'cc', 'ci', 0, 1)",
                "DELETE FROM refvals WHERE value = 'cc'", U);
    /* the tag of an older generation of the policy row, then the older doc under the
     * current tag: both refused, the last good (open) policy keeps applying */
    CHECK_OK(vtb_kms_policy_set(kms, OPEN, 200));
    CHECK_OK(vtb_state_reload(&st));
    CHECK(decide("cc") == VT_OK);
    int lines = integrity_lines;
    sql("CREATE TABLE bk_policy2 AS SELECT * FROM policy;"
        "UPDATE policy SET mac = (SELECT mac FROM bk_policy)");
    CHECK_ERR(vtb_state_reload(&st), T);
    CHECK(decide("cc") == VT_OK);
    sql("UPDATE policy SET mac = (SELECT mac FROM bk_policy2), doc = (SELECT doc FROM "
        "bk_policy)");
    CHECK_ERR(vtb_state_reload(&st), T);
    CHECK(integrity_lines == lines + 2); /* once per change */
    CHECK(decide("cc") == VT_OK);
    /* a legitimate write makes everything good again */
    CHECK_OK(vtb_kms_policy_set(kms, POLICY, 300));
    CHECK_OK(vtb_state_reload(&st));
    CHECK(vtb_state_integrity(&st, NULL) == 0);
    CHECK(decide("cc") == VT_ERR_BROKER_REFVAL_MISMATCH);
}

/* the purpose separates the derived keys; equal inputs give equal tags */
static void test_purpose(void)
{
    uint8_t ma[VTB_MAC_LEN], mb[VTB_MAC_LEN], mc[VTB_MAC_LEN];
    CHECK_OK(vtb_kms_mac(kms, "policy-row", (const uint8_t *)"x", 1, ma));
    CHECK_OK(vtb_kms_mac(kms, "refval-row", (const uint8_t *)"x", 1, mb));
    CHECK_OK(vtb_kms_mac(kms, "policy-row", (const uint8_t *)"x", 1, mc));
    CHECK(!vti_ct_eq(ma, mb, sizeof(ma)));
    CHECK(vti_ct_eq(ma, mc, sizeof(ma)));
}

/* master key rotation re-tags the authentic rows (the policy keeps applying) but never
 * launders a row that did not authenticate before */
static void test_rekey_retags(void)
{
    uint8_t nk[32];
    memset(nk, 8, sizeof(nk));
    sql("INSERT INTO refvals (name, value, source, expires, added, mac) "
        "VALUES ('measurement', 'cc', 'ci', 0, 1, zeroblob(32))");
    CHECK_ERR(vtb_state_reload(&st), VT_ERR_BROKER_POLICY_TAMPERED);
    CHECK_OK(vtb_kms_rekey(kms, nk, NULL));
    CHECK_ERR(vtb_state_reload(&st), VT_ERR_BROKER_POLICY_TAMPERED);
    sql("DELETE FROM refvals WHERE value = 'cc'");
    CHECK_OK(vtb_state_reload(&st));
    CHECK(decide("aa") == VT_OK && decide("cc") == VT_ERR_BROKER_REFVAL_MISMATCH);
}

/* fresh start on a tampered store: the state keeps its empty deny-all snapshot */
static void test_first_start_tampered(void)
{
    sql("UPDATE policy SET doc = '" OPEN "'");
    struct vtb_state s2;
    CHECK_OK(vtb_state_init(&s2, kms));
    s2.sink = count_log;
    CHECK_ERR(vtb_state_reload(&s2), VT_ERR_BROKER_POLICY_TAMPERED);
    struct vtb_claim_str c[] = { { "measurement", "aa" } };
    struct vtb_input in = { .tee = "sim", .claims = c, .n_claims = 1 };
    char rule[64], why[256];
    struct vtb_snapshot *s = vtb_state_snapshot(&s2);
    CHECK_ERR(vtb_appraise(s, &in, "default/key/k", 500, rule, why, sizeof(why)),
              VT_ERR_BROKER_NO_RULE);
    vtb_snapshot_unref(s);
    vtb_state_fini(&s2);
}

int main(void)
{
    setup();
    test_each_field();
    test_missing_and_swapped();
    test_purpose();
    test_rekey_retags();
    test_first_start_tampered();
    vtb_state_fini(&st);
    vtb_kms_close(kms);
    return vt_test_done();
}
