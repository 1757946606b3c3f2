/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fetch_cache_test.c - the fetch module without a server: percent-decoding, the cache file
 * format (round trip, expiry, a file of another URL, damaged / truncated / extended files),
 * refused URL schemes, a closed port, and the PCCS / KDS request URLs; planted entries (FIFO,
 * symbolic link, directory, an expiry the content does not support), a cache directory others
 * can write to, and batches (stored only once committed).
 */
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "endorsements/amd_kds.h"
#include "endorsements/fetch.h"
#include "endorsements/intel_pccs.h"
#include "vt_test.h"

static const struct vti_fetch_errs errs = { 9001, 9002, 9003 };

static void test_url_decode(void)
{
    struct vt_buf b = VT_BUF_INIT;
    CHECK_OK(vti_url_decode("a%2Db+c%0A", 10, &b));
    CHECK(b.len == 6 && memcmp(b.p, "a-b c\n", 6) == 0);
    vti_buf_free(&b);
    CHECK_ERR(vti_url_decode("ab%2", 4, &b), VT_ERR_BAD_HEX);
    vti_buf_free(&b);
    CHECK_ERR(vti_url_decode("%zz", 3, &b), VT_ERR_BAD_HEX);
    vti_buf_free(&b);
}

static void obj_make(struct vti_fetch_obj *o, int64_t exp)
{
    memset(o, 0, sizeof(*o));
    CHECK_OK(vti_buf_append(&o->body, "body\n\nbytes\0x", 13));
    o->hdr_name[0] = strdup("TCB-Info-Issuer-Chain");
    o->hdr_val[0] = strdup("-----BEGIN%20CERTIFICATE");
    o->n_hdr = 1;
    o->expires = exp;
}

/* The expiry "computed from the content" (what a verifier's expiry function would find). */
static int64_t content_exp = 5000;
static vt_res body_expiry(const struct vti_fetch_obj *o, int64_t *exp)
{
    ENSURE(o->body.len == 13, VT_ERR_INVALID_ARG);
    *exp = content_exp;
    return vti_ok();
}

static void rewrite(const char *path, long at, int delta_len, uint8_t flip)
{
    struct vt_buf f = VT_BUF_INIT;
    CHECK_OK(vti_file_read(path, 1 << 20, &f));
    if (at < 0)
        at += (long)f.len;
    if (flip)
        f.p[at] ^= flip;
    size_t n = (size_t)((long)f.len + delta_len);
    if (delta_len > 0)
        CHECK_OK(vti_buf_zeros(&f, (size_t)delta_len));
    CHECK_OK(vti_file_write(path, f.p, n, 0600));
    vti_buf_free(&f);
}

static void test_cache(void)
{
    char dir[512], path[1024], other[1024];
    snprintf(dir, sizeof(dir), "%s/cache", vt_test_tmpdir());
    const char *url = "http://127.0.0.1:1/sgx/certification/v4/tcb?fmspc=00606a000000";
    struct vti_fetch_obj o, g;
    obj_make(&o, 2000);
    CHECK_OK(vti_fetch_cache_put(dir, url, &o));
    CHECK_OK(vti_fetch_cache_path(dir, url, path, sizeof(path)));
    struct stat st;
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
    CHECK(stat(dir, &st) == 0 && (st.st_mode & 0777) == 0700);

    CHECK_OK(vti_fetch_cache_get(dir, url, 1999, &g));
    CHECK(g.from_cache && g.expires == 2000 && g.body.len == 13 &&
          memcmp(g.body.p, o.body.p, 13) == 0);
    CHECK(vti_fetch_header(&g, "tcb-info-issuer-chain") &&
          strcmp(vti_fetch_header(&g, "tcb-info-issuer-chain"), "-----BEGIN%20CERTIFICATE") == 0);
    vti_fetch_obj_free(&g);
    /* expired at its expiry time */
    CHECK_ERR(vti_fetch_cache_get(dir, url, 2000, &g), VT_ERR_NOT_FOUND);
    /* another URL's file under this URL's name */
    const char *url2 = "http://127.0.0.1:1/sgx/certification/v4/qe/identity";
    CHECK_OK(vti_fetch_cache_path(dir, url2, other, sizeof(other)));
    CHECK(rename(path, other) == 0);
    CHECK_ERR(vti_fetch_cache_get(dir, url2, 0, &g), VT_ERR_NOT_FOUND);
    CHECK_ERR(vti_fetch_cache_get(dir, url, 0, &g), VT_ERR_NOT_FOUND);
    /* damaged body, damaged header, truncated, extended */
    CHECK_OK(vti_fetch_cache_put(dir, url, &o));
    rewrite(path, -3, 0, 1);
    CHECK_ERR(vti_fetch_cache_get(dir, url, 0, &g), VT_ERR_NOT_FOUND);
    CHECK_OK(vti_fetch_cache_put(dir, url, &o));
    rewrite(path, 30, 0, 0x20);
    CHECK_ERR(vti_fetch_cache_get(dir, url, 0, &g), VT_ERR_NOT_FOUND);
    CHECK_OK(vti_fetch_cache_put(dir, url, &o));
    rewrite(path, 0, -1, 0);
    CHECK_ERR(vti_fetch_cache_get(dir, url, 0, &g), VT_ERR_NOT_FOUND);
    CHECK_OK(vti_fetch_cache_put(dir, url, &o));
    rewrite(path, 0, 1, 0);
    CHECK_ERR(vti_fetch_cache_get(dir, url, 0, &g), VT_ERR_NOT_FOUND);
    /* intact again */
    CHECK_OK(vti_fetch_cache_put(dir, url, &o));
    CHECK_OK(vti_fetch_cache_get(dir, url, 0, &g));
    vti_fetch_obj_free(&g);
    /* a header value with a line break cannot be stored */
    free(o.hdr_val[0]);
    o.hdr_val[0] = strdup("a\nb");
    CHECK_ERR(vti_fetch_cache_put(dir, "http://x/y", &o), VT_ERR_INVALID_ARG);
    vti_fetch_obj_free(&o);
    /* vti_fetch takes an intact entry without any network use (port 1 is closed) */
    obj_make(&o, 5000);
    CHECK_OK(vti_fetch_cache_put(dir, url, &o));
    static const char *const keep[] = { "TCB-Info-Issuer-Chain", NULL };
    CHECK_OK(vti_fetch(url, dir, 10, keep, body_expiry, false, &errs, &g));
    CHECK(g.expires == 5000);
    CHECK(g.from_cache);
    vti_fetch_obj_free(&g);
    /* an entry lacking a header that is asked for is a miss */
    static const char *const keep2[] = { "SGX-Enclave-Identity-Issuer-Chain", NULL };
    int want = vti_fetch_available() ? 9001 : VT_ERR_UNSUPPORTED;
    CHECK_ERR(vti_fetch(url, dir, 10, keep2, body_expiry, false, &errs, &g), want);
    vti_fetch_obj_free(&o);
}

/* Planted entries: a FIFO (must not block), a symbolic link, a directory; and an expiry
 * written in the file that the content does not support. */
static void test_cache_planted(void)
{
    char dir[512], path[1024], real[1024];
    snprintf(dir, sizeof(dir), "%s/planted", vt_test_tmpdir());
    snprintf(real, sizeof(real), "%s/real-entry", vt_test_tmpdir());
    const char *url = "http://127.0.0.1:1/tdx/certification/v4/tcb?fmspc=00806f050000";
    static const char *const keep[] = { "TCB-Info-Issuer-Chain", NULL };
    int want = vti_fetch_available() ? 9001 : VT_ERR_UNSUPPORTED;
    struct vti_fetch_obj o, g;
    obj_make(&o, 5000);
    CHECK_OK(vti_fetch_cache_put(dir, url, &o));
    CHECK_OK(vti_fetch_cache_path(dir, url, path, sizeof(path)));
    CHECK(rename(path, real) == 0);
    alarm(20); /* a blocking open of the FIFO would hang here: fail instead */
    CHECK(mkfifo(path, 0600) == 0);
    CHECK_ERR(vti_fetch_cache_get(dir, url, 0, &g), VT_ERR_NOT_FOUND);
    CHECK_ERR(vti_fetch(url, dir, 10, keep, body_expiry, false, &errs, &g), want);
    CHECK(unlink(path) == 0 && symlink(real, path) == 0);
    CHECK_ERR(vti_fetch_cache_get(dir, url, 0, &g), VT_ERR_NOT_FOUND);
    CHECK(unlink(path) == 0 && mkdir(path, 0700) == 0);
    CHECK_ERR(vti_fetch_cache_get(dir, url, 0, &g), VT_ERR_NOT_FOUND);
    CHECK(rmdir(path) == 0 && rename(real, path) == 0);
    CHECK_OK(vti_fetch_cache_get(dir, url, 0, &g));
    vti_fetch_obj_free(&g);
    alarm(0);
    /* the file says 999999, the content says 5000: at 6000 the entry is not used */
    vti_fetch_obj_free(&o);
    obj_make(&o, 999999);
    CHECK_OK(vti_fetch_cache_put(dir, url, &o));
    CHECK_OK(vti_fetch(url, dir, 4999, keep, body_expiry, false, &errs, &g));
    CHECK(g.from_cache && g.expires == 5000);
    vti_fetch_obj_free(&g);
    CHECK_ERR(vti_fetch(url, dir, 6000, keep, body_expiry, false, &errs, &g), want);
    /* without an expiry function nothing is taken from the cache; refresh skips it too */
    CHECK_ERR(vti_fetch(url, dir, 10, keep, NULL, false, &errs, &g), want);
    CHECK_ERR(vti_fetch(url, dir, 10, keep, body_expiry, true, &errs, &g), want);
    vti_fetch_obj_free(&o);
}

/* A cache directory others can write to is refused, whatever is asked of it. */
static void test_cache_dir_perms(void)
{
    char dir[512], file[512];
    snprintf(dir, sizeof(dir), "%s/shared", vt_test_tmpdir());
    snprintf(file, sizeof(file), "%s/afile", vt_test_tmpdir());
    const char *url = "http://127.0.0.1:1/x";
    struct vti_fetch_obj o, g;
    obj_make(&o, 5000);
    CHECK_OK(vti_fetch_cache_put(dir, url, &o));
    CHECK_OK(vti_fetch_cache_check_dir(dir));
    static const mode_t bad[] = { 0777, 0770, 0702, 01777 };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        CHECK(chmod(dir, bad[i]) == 0);
        CHECK_ERR(vti_fetch_cache_check_dir(dir), VT_ERR_CACHE_UNSAFE);
        CHECK_ERR(vti_fetch_cache_get(dir, url, 0, &g), VT_ERR_CACHE_UNSAFE);
        CHECK_ERR(vti_fetch_cache_put(dir, url, &o), VT_ERR_CACHE_UNSAFE);
        CHECK_ERR(vti_fetch(url, dir, 10, NULL, body_expiry, false, &errs, &g),
                  VT_ERR_CACHE_UNSAFE);
        CHECK_ERR(vti_fetch(url, dir, 10, NULL, body_expiry, true, &errs, &g),
                  VT_ERR_CACHE_UNSAFE);
    }
    CHECK(chmod(dir, 0755) == 0);
    CHECK_OK(vti_fetch_cache_get(dir, url, 0, &g));
    vti_fetch_obj_free(&g);
    /* not a directory */
    CHECK_OK(vti_file_write(file, "x", 1, 0600));
    CHECK_ERR(vti_fetch_cache_check_dir(file), VT_ERR_CACHE_UNSAFE);
    CHECK_ERR(vti_fetch_cache_put(file, url, &o), VT_ERR_CACHE_UNSAFE);
    /* missing: fine (created 0700 on the first write) */
    snprintf(dir, sizeof(dir), "%s/notyet", vt_test_tmpdir());
    CHECK_OK(vti_fetch_cache_check_dir(dir));
    vti_fetch_obj_free(&o);
}

/* A batch keeps only downloads worth caching and writes them only when committed. */
static void test_batch(void)
{
    char dir[512], path[1024];
    snprintf(dir, sizeof(dir), "%s/batch", vt_test_tmpdir());
    const char *url = "http://127.0.0.1:1/vcek/v1/Milan/00";
    struct vti_fetch_batch b = { 0 };
    struct vti_fetch_obj o, g;
    obj_make(&o, 5000);
    o.from_cache = true;
    CHECK_OK(vti_fetch_batch_take(&b, url, &o));
    CHECK(b.any_cached && b.n == 0 && o.body.len == 13);
    vti_fetch_obj_free(&o);
    obj_make(&o, 5000);
    CHECK_OK(vti_fetch_batch_take(&b, url, &o));
    CHECK(b.n == 1 && o.body.len == 0);
    CHECK_OK(vti_fetch_cache_path(dir, url, path, sizeof(path)));
    struct stat st;
    CHECK(stat(path, &st) != 0); /* not yet */
    vti_fetch_batch_commit(&b, dir, 6000); /* already expired: not stored */
    CHECK(stat(path, &st) != 0);
    vti_fetch_batch_commit(&b, dir, 10);
    CHECK_OK(vti_fetch_cache_get(dir, url, 10, &g));
    vti_fetch_obj_free(&g);
    b.refresh = true;
    vti_fetch_batch_free(&b);
    CHECK(b.n == 0 && b.refresh && !b.any_cached);
}

static void test_http_errors(void)
{
    struct vti_fetch_obj o;
    if (!vti_fetch_available()) {
        CHECK_ERR(vti_http_get("http://127.0.0.1:1/", NULL, &errs, &o), VT_ERR_UNSUPPORTED);
        return;
    }
    CHECK_ERR(vti_http_get("file:///etc/passwd", NULL, &errs, &o), VT_ERR_INVALID_ARG);
    CHECK_ERR(vti_http_get("ftp://127.0.0.1/", NULL, &errs, &o), VT_ERR_INVALID_ARG);
    /* a port with nothing listening */
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t al = sizeof(a);
    CHECK(s >= 0 && bind(s, (struct sockaddr *)&a, sizeof(a)) == 0 &&
          getsockname(s, (struct sockaddr *)&a, &al) == 0);
    close(s);
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/x", ntohs(a.sin_port));
    CHECK_ERR(vti_http_get(url, NULL, &errs, &o), 9001);
    vti_fetch_obj_free(&o);
}

static void test_urls(void)
{
    char u[512];
    struct vti_pccs_req q = { .tdx = true, .fmspc = { 0x90, 0xc0, 0x6f, 0, 0, 0 } };
    CHECK_OK(vti_intel_pccs_url("https://pccs:8081/", &q, 0, u, sizeof(u)));
    CHECK(strcmp(u, "https://pccs:8081/tdx/certification/v4/tcb?fmspc=90c06f000000") == 0);
    CHECK_OK(vti_intel_pccs_url("https://pccs:8081", &q, 1, u, sizeof(u)));
    CHECK(strcmp(u, "https://pccs:8081/tdx/certification/v4/qe/identity") == 0);
    CHECK_OK(vti_intel_pccs_url("https://pccs:8081", &q, 2, u, sizeof(u)));
    CHECK(strcmp(u, "https://pccs:8081/sgx/certification/v4/pckcrl?ca=platform&encoding=der") == 0);
    q.processor_ca = true;
    q.tdx = false;
    CHECK_OK(vti_intel_pccs_url("https://pccs:8081", &q, 2, u, sizeof(u)));
    CHECK(strcmp(u, "https://pccs:8081/sgx/certification/v4/pckcrl?ca=processor&encoding=der") == 0);
    CHECK_OK(vti_intel_pccs_url("https://pccs:8081", &q, 0, u, sizeof(u)));
    CHECK(strcmp(u, "https://pccs:8081/sgx/certification/v4/tcb?fmspc=90c06f000000") == 0);
    CHECK_OK(vti_intel_pccs_url("https://pccs:8081", &q, 3, u, sizeof(u)));
    CHECK(strcmp(u, "https://pccs:8081/sgx/certification/v4/rootcacrl") == 0);
    CHECK_ERR(vti_intel_pccs_url("https://pccs:8081", &q, 4, u, sizeof(u)), VT_ERR_INVALID_ARG);
    CHECK_ERR(vti_intel_pccs_url("https://pccs:8081", &q, 0, u, 20), VT_ERR_OVERFLOW);
    CHECK_ERR(vti_intel_pccs_url("/", &q, 0, u, sizeof(u)), VT_ERR_INVALID_ARG);

    struct vt_snp_report r;
    uint8_t chip[64];
    memset(&r, 0, sizeof(r));
    for (int i = 0; i < 64; i++)
        chip[i] = (uint8_t)i;
    r.chip_id = chip;
    r.reported_tcb = 0xde1b000000000004ull; /* Milan: ucode 222, snp 27, bl 4 */
    CHECK_OK(vti_amd_kds_vcek_path(&r, VT_SNP_PRODUCT_MILAN, u, sizeof(u)));
    CHECK(strncmp(u, "/vcek/v1/Milan/000102030405060708", 33) == 0);
    CHECK(strstr(u, "3e3f?blSPL=4&teeSPL=0&snpSPL=27&ucodeSPL=222") != NULL);
    CHECK_OK(vti_amd_kds_vcek_path(&r, VT_SNP_PRODUCT_TURIN, u, sizeof(u)));
    CHECK(strncmp(u, "/vcek/v1/Turin/0001020304050607?fmcSPL=", 39) == 0);
    CHECK_ERR(vti_amd_kds_vcek_path(&r, VT_SNP_PRODUCT_UNKNOWN, u, sizeof(u)),
              VT_ERR_SNP_PRODUCT_UNKNOWN);
}

int main(void)
{
    test_url_decode();
    test_cache();
    test_cache_planted();
    test_cache_dir_perms();
    test_batch();
    test_http_errors();
    test_urls();
    return vt_test_done();
}
