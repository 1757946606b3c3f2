/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tpm_ak_cache_test.c - the "tpm" verifier's cache of --root-ca / --collateral certificates
 * (src/verifiers/tpm_ak_certs.c) never turns a changed file into a stale success: the GCE
 * case's AK certificate chain is verified from copies of Google's root and intermediate in a
 * temporary directory; the second verification is a hit (counters); then each change is seen
 * at once with its own code: the intermediate replaced by another (same name), changed in one
 * byte (same size), removed, added under a new name; the root replaced by another root, by a
 * file without a certificate, removed. Many threads share the cache (ASan build).
 */
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/report.h"
#include "evidence/tpm_evidence.h"
#include "util/codec.h"
#include "verifiers/tpm_ak_certs.h"
#include "vt_test.h"

#define GCE "tpm/gotpm_gce_cos85_nonce9009"

static char dir[64], root[128], col[128], inter[128], other[160], junk[160];
static struct vt_buf ev;

static void put(const char *path, const struct vt_buf *b)
{
    FILE *f = fopen(path, "wb");
    CHECK(f && fwrite(b->p, 1, b->len, f) == b->len);
    if (f)
        CHECK(fclose(f) == 0);
}

static void put_testdata(const char *path, const char *rel)
{
    struct vt_buf b = vt_testdata_read(rel);
    put(path, &b);
    vti_buf_free_nowipe(&b);
}

/* The GCE evidence (SHA-256 bank, AK certificate, no event log). */
static void make_evidence(void)
{
    struct vt_buf msg = vt_testdata_read(GCE "_quote_sha256.attest");
    struct vt_buf sig = vt_testdata_read(GCE "_quote_sha256.sig");
    struct vt_buf cert = vt_testdata_read(GCE "_ak_cert.der");
    struct vt_buf pem = vt_testdata_read(GCE "_ak_pub.pem"), spki = VT_BUF_INIT;
    struct vt_pem_list pl = { 0 };
    CHECK_OK(vti_pem_decode(pem.p, pem.len, "PUBLIC KEY", &pl));
    CHECK(pl.n == 1);
    if (pl.n == 1)
        CHECK_OK(vti_buf_append(&spki, pl.der[0].p, pl.der[0].len));
    char f[4096];
    snprintf(f, sizeof(f), "%s", vt_testdata(GCE "_pcrs_sha256.json"));
    json_t *j = json_load_file(f, 0, NULL);
    uint8_t pcrs[24][VT_TPM_EV_MAX_PCR_LEN] = { { 0 } };
    for (int i = 0; i < 24; i++) {
        char k[8];
        snprintf(k, sizeof(k), "%d", i);
        const char *h = json_string_value(json_object_get(json_object_get(j, "pcrs"), k));
        CHECK(h != NULL);
        if (h)
            CHECK_OK(vti_hex_decode_fixed(h, pcrs[i], 32));
    }
    json_decref(j);
    struct vti_tpm_ev_in in = {
        .ak_public = spki.p, .ak_public_len = spki.len, .msg = msg.p, .msg_len = msg.len,
        .sig = sig.p, .sig_len = sig.len, .ak_cert = cert.p, .ak_cert_len = cert.len,
        .pcrs = (const uint8_t(*)[VT_TPM_EV_MAX_PCR_LEN])pcrs, .n_pcrs = 24, .pcr_len = 32,
    };
    CHECK_OK(vti_tpm_evidence_json(&in, &ev));
    vti_pem_list_free(&pl);
    vti_buf_free_nowipe(&pem);
    vti_buf_free_nowipe(&spki);
    vti_buf_free_nowipe(&msg);
    vti_buf_free_nowipe(&sig);
    vti_buf_free_nowipe(&cert);
}

static int verify(void)
{
    static const uint8_t nonce[2] = { 0x90, 0x09 };
    const char *roots[1] = { root };
    struct vt_verify_opts o = { .root_ca_files = roots, .n_root_ca_files = 1, .collateral = col,
                                .at = 1640995200, .report_data = nonce, .report_data_len = 2 };
    vt_report *rep = NULL;
    int rc = vt_verify(&o, ev.p, ev.len, &rep);
    vt_report_free(rep);
    return rc;
}

static void stats(uint64_t *h, uint64_t *m)
{
    vti_tpm_certset_cache_stats(h, m);
}

static void *worker(void *arg)
{
    (void)arg;
    for (int i = 0; i < 20; i++)
        CHECK_OK(verify());
    return NULL;
}

static void test_hits_and_changes(void)
{
    uint64_t h0, m0, h1, m1;
    CHECK_OK(verify()); /* loaded and kept (the files are settled) */
    stats(&h0, &m0);
    CHECK_OK(verify());
    stats(&h1, &m1);
    CHECK(h1 == h0 + 2 && m1 == m0); /* root and collateral: both hits */
    CHECK(m0 >= 2);
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        CHECK(pthread_create(&t[i], NULL, worker, NULL) == 0);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);

    /* the intermediate: another one under the same name, then one byte changed (same size) */
    put_testdata(inter, "tpm/gcp_tpm_ek_intermediate_3.crt");
    CHECK_ERR(verify(), VT_ERR_TPM_AK_CERT_UNTRUSTED);
    put_testdata(inter, "tpm/gcp_tpm_ek_intermediate_2.crt");
    CHECK_OK(verify());
    sleep(3); /* settled again: kept, then a hit, then a change of one byte (same size) */
    CHECK_OK(verify());
    stats(&h0, &m0);
    CHECK_OK(verify());
    stats(&h1, &m1);
    CHECK(h1 == h0 + 2 && m1 == m0);
    struct vt_buf b = vt_testdata_read("tpm/gcp_tpm_ek_intermediate_2.crt");
    CHECK(b.len > 40);
    b.p[b.len - 10] ^= 1; /* in the signature (the file is DER) */
    put(inter, &b);
    CHECK_ERR(verify(), VT_ERR_TPM_AK_CERT_UNTRUSTED);
    b.p[b.len - 10] ^= 1;
    put(inter, &b);
    CHECK_OK(verify());
    /* removed, then added under another name */
    CHECK(unlink(inter) == 0);
    CHECK_ERR(verify(), VT_ERR_TPM_AK_CERT_UNTRUSTED);
    put(other, &b);
    CHECK_OK(verify());
    vti_buf_free_nowipe(&b);

    /* the root: another root, no certificate, gone */
    put_testdata(root, "tpm/gcp_ek_ak_ca_root.crt");
    CHECK_ERR(verify(), VT_ERR_TPM_AK_CERT_UNTRUSTED);
    put_testdata(root, GCE "_ak_pub.pem");
    CHECK_ERR(verify(), VT_ERR_TPM_ROOT_CA);
    put_testdata(root, "tpm/gcp_tpm_ek_root_1.cer");
    CHECK_OK(verify());
    CHECK(unlink(root) == 0);
    CHECK_ERR(verify(), VT_ERR_TPM_ROOT_CA);
}

int main(void)
{
    snprintf(dir, sizeof(dir), "/tmp/vt-tpmcache.XXXXXX");
    CHECK(mkdtemp(dir) != NULL);
    snprintf(root, sizeof(root), "%s/root.cer", dir);
    snprintf(col, sizeof(col), "%s/col", dir);
    snprintf(inter, sizeof(inter), "%s/col/inter.crt", dir);
    CHECK(mkdir(col, 0700) == 0);
    put_testdata(root, "tpm/gcp_tpm_ek_root_1.cer");
    put_testdata(inter, "tpm/gcp_tpm_ek_intermediate_2.crt");
    snprintf(other, sizeof(other), "%s/renamed.crt", col);
    snprintf(junk, sizeof(junk), "%s/README", col);
    struct vt_buf jb = VT_BUF_INIT;
    CHECK_OK(vti_buf_append(&jb, "not a certificate", 17));
    put(junk, &jb);
    vti_buf_free_nowipe(&jb);
    make_evidence();
    sleep(3); /* a load is kept only when every stamp is 2 s old (tpm_ak_certs.c RACY_NS) */
    test_hits_and_changes();
    vti_tpm_certset_cache_flush();
    vti_buf_free_nowipe(&ev);
    CHECK(unlink(junk) == 0 && unlink(other) == 0 && rmdir(col) == 0 && rmdir(dir) == 0);
    return vt_test_done();
}
