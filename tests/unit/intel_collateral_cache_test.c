/* SPDX-License-Identifier: Apache-2.0 */
/*
 * intel_collateral_cache_test.c - the per-path cache of loaded Intel collateral
 * (src/endorsements/intel_collateral_cache.c) never hides a change: az-tdx-vtpm evidence is
 * verified with a --collateral directory of PCS files; files written less than 2 s ago are not
 * kept; settled ones are (hits counted); a TCB Info byte flipped in place (same size, mtime put
 * back, only ctime differs) is seen at once and refused, also when that tampered load is
 * itself cached; an added file is seen; a restored file verifies again; a directory replaced
 * by another at the same path is seen; many threads share it.
 */
#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "endorsements/intel_collateral.h"
#include "util/codec.h"
#include "vt_test.h"

static char dir[600];
static struct vt_buf ev;
static int64_t at;

static const char *const files[] = {
    "tdx/automata_1025_tcbinfo_tdx_00806f050000.json", "tdx/automata_1025_qeidentity_tdqe.json",
    "tdx/automata_1025_pck_platform_crl.der", "intel-root/root_ca_crl_20250320.der",
    "intel-root/tcb_signing_chain_2025.pem",
};

static int run(void)
{
    struct vt_verify_opts o;
    memset(&o, 0, sizeof(o));
    o.collateral = dir;
    o.at = at;
    o.verifier = "az-tdx-vtpm";
    o.report_data = (const uint8_t *)"challenge";
    o.report_data_len = 9;
    vt_report *rep = NULL;
    int rc = vt_verify(&o, ev.p, ev.len, &rep);
    vt_report_free(rep);
    return rc;
}

/* Offset of the pceId value's 4th character in b, or NULL. */
static uint8_t *pce_byte(struct vt_buf *b)
{
    static const char key[] = "\"pceId\"";
    for (size_t i = 0; b->p && i + sizeof(key) + 10 < b->len; i++)
        if (memcmp(b->p + i, key, sizeof(key) - 1) == 0)
            return b->p + i + 10;
    return NULL;
}

static void stats(uint64_t *h, uint64_t *m)
{
    vti_intel_collateral_cache_stats(h, m);
}

static void settle(void)
{
    struct timespec t = { 2, 300000000 };
    nanosleep(&t, NULL);
}

static void path_of(size_t i, char *out, size_t cap)
{
    snprintf(out, cap, "%s/c%zu", dir, i);
}

/* Flip one byte of the TCB Info file inside its pceId value; keep size and mtime. */
static void flip_tcb_info(void)
{
    char p[700];
    path_of(0, p, sizeof(p));
    struct stat st;
    CHECK(stat(p, &st) == 0);
    struct vt_buf b = VT_BUF_INIT;
    CHECK_OK(vti_file_read(p, 1 << 20, &b));
    uint8_t *k = pce_byte(&b);
    CHECK(k != NULL);
    if (k) {
        *k ^= 0x01;
        vt_test_write_file(p, &b);
        struct timespec ts[2] = { st.st_atim, st.st_mtim };
        CHECK(utimensat(AT_FDCWD, p, ts, 0) == 0);
        struct stat now;
        CHECK(stat(p, &now) == 0 && now.st_size == st.st_size &&
              now.st_mtim.tv_sec == st.st_mtim.tv_sec &&
              now.st_mtim.tv_nsec == st.st_mtim.tv_nsec);
    }
    vti_buf_free(&b);
}

static void write_all(void)
{
    for (size_t i = 0; i < VT_ARRAY_LEN(files); i++) {
        char p[700];
        struct vt_buf b = vt_testdata_read(files[i]);
        path_of(i, p, sizeof(p));
        vt_test_write_file(p, &b);
        vti_buf_free(&b);
    }
}

static void *worker(void *arg)
{
    int *bad = arg;
    for (int i = 0; i < 20; i++)
        if (run() != VT_OK)
            (*bad)++;
    return NULL;
}

static void test_threads(void)
{
    pthread_t th[4];
    int bad[4] = { 0 };
    for (int i = 0; i < 4; i++)
        CHECK(pthread_create(&th[i], NULL, worker, &bad[i]) == 0);
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        CHECK(bad[i] == 0);
    }
}

int main(void)
{
    snprintf(dir, sizeof(dir), "%s/col", vt_test_tmpdir());
    CHECK(mkdir(dir, 0700) == 0);
    ev = vt_testdata_read("azure/trustee_az_tdx_vtpm_evidence_v1.json");
    CHECK_OK(vti_time_parse("2025-10-19T19:00:00Z", &at));
    vti_intel_collateral_cache_flush();
    uint64_t h0, m0, h, m;

    /* fresh files: verified, but not kept (written within the last 2 s) */
    write_all();
    stats(&h0, &m0);
    CHECK_OK(run());
    CHECK_OK(run());
    stats(&h, &m);
    CHECK(h == h0 && m == m0 + 2);

    /* settled: kept by the next load, then hits */
    settle();
    CHECK_OK(run());
    CHECK_OK(run());
    CHECK_OK(run());
    stats(&h, &m);
    CHECK(h == h0 + 2 && m == m0 + 3);

    /* a byte flipped in place, same size and mtime: a miss, and refused */
    flip_tcb_info();
    CHECK_ERR(run(), VT_ERR_INTEL_TCB_INFO_SIGNATURE);
    stats(&h, &m);
    CHECK(h == h0 + 2 && m == m0 + 4);
    /* the tampered load, once settled and cached, is still refused from the cache */
    settle();
    CHECK_ERR(run(), VT_ERR_INTEL_TCB_INFO_SIGNATURE);
    CHECK_ERR(run(), VT_ERR_INTEL_TCB_INFO_SIGNATURE);
    stats(&h, &m);
    CHECK(h == h0 + 3 && m == m0 + 5);

    /* restored: verifies again (a miss first) */
    write_all();
    CHECK_OK(run());
    stats(&h, &m);
    CHECK(h == h0 + 3 && m == m0 + 6);

    /* a file added to the directory (the directory's stamps change): seen at once */
    settle();
    CHECK_OK(run());
    CHECK_OK(run());
    char p[700];
    path_of(5, p, sizeof(p));
    struct vt_buf b = vt_testdata_read(files[0]);
    uint8_t *k = pce_byte(&b);
    CHECK(k != NULL);
    if (k)
        *k ^= 0x01;
    vt_test_write_file(p, &b);
    vti_buf_free(&b);
    CHECK_ERR(run(), VT_ERR_INTEL_COLLATERAL_DUP);
    CHECK(unlink(p) == 0);
    CHECK_OK(run());

    /* the directory replaced by another at the same path (renamed away; the new one holds a
     * tampered TCB Info): the cached entry keeps a descriptor of the old directory, but the
     * path's own identity differs, so it is a miss and refused at once; put back: verifies */
    settle();
    CHECK_OK(run());
    CHECK_OK(run());
    char away[700];
    snprintf(away, sizeof(away), "%s.away", dir);
    CHECK(rename(dir, away) == 0);
    CHECK(mkdir(dir, 0700) == 0);
    write_all();
    flip_tcb_info();
    stats(&h0, &m0);
    CHECK_ERR(run(), VT_ERR_INTEL_TCB_INFO_SIGNATURE);
    stats(&h, &m);
    CHECK(h == h0 && m == m0 + 1);
    for (size_t i = 0; i < VT_ARRAY_LEN(files); i++) {
        path_of(i, p, sizeof(p));
        CHECK(unlink(p) == 0);
    }
    CHECK(rmdir(dir) == 0);
    CHECK(rename(away, dir) == 0);
    CHECK_OK(run());

    /* many threads on one cached entry (the ASan build checks the sharing) */
    settle();
    CHECK_OK(run());
    stats(&h0, &m0);
    test_threads();
    stats(&h, &m);
    CHECK(h == h0 + 80 && m == m0);

    vti_intel_collateral_cache_flush();
    vti_buf_free(&ev);
    return vt_test_done();
}
