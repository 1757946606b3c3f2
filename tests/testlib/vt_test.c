/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vt_test.c - the harness's helpers (see vt_test.h).
 */
#include <jansson.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <unistd.h>

#include "vt_test.h"

#include "core/instance.h"

int vt_test_passed, vt_test_failed;

const char *vt_testdata(const char *rel)
{
    static _Thread_local char path[4096];
    const char *base = getenv("VERITEE_TESTDATA");
    if (!base || !*base)
        base = VT_DEFAULT_TESTDATA;
    snprintf(path, sizeof(path), "%s/%s", base, rel);
    return path;
}

struct vt_buf vt_testdata_read(const char *rel)
{
    struct vt_buf b = VT_BUF_INIT;
    vt_res r = vti_file_read(vt_testdata(rel), 16u << 20, &b);
    if (r.err) {
        fprintf(stderr, "cannot read test data %s: %s\n", vt_testdata(rel), vt_strerror(r.err));
        exit(2);
    }
    return b;
}

/* The DER of the first PEM object of rel: a certificate, or (spki) a public key. */
static struct vt_buf pem_der(const char *rel, bool spki)
{
    struct vt_buf pem = vt_testdata_read(rel), der = VT_BUF_INIT;
    BIO *b = BIO_new_mem_buf(pem.p, (int)pem.len);
    X509 *x = b && !spki ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
    EVP_PKEY *k = b && spki ? PEM_read_bio_PUBKEY(b, NULL, NULL, NULL) : NULL;
    unsigned char *p = NULL;
    int n = x ? i2d_X509(x, &p) : k ? i2d_PUBKEY(k, &p) : 0;
    CHECK(n > 0);
    if (n > 0)
        CHECK_OK(vti_buf_append(&der, p, (size_t)n));
    OPENSSL_free(p);
    X509_free(x);
    EVP_PKEY_free(k);
    BIO_free(b);
    vti_buf_free_nowipe(&pem);
    return der;
}

struct vt_buf vt_testdata_cert_der(const char *rel)
{
    return pem_der(rel, false);
}

struct vt_buf vt_testdata_spki_der(const char *rel)
{
    return pem_der(rel, true);
}

void vt_test_write_file(const char *path, const struct vt_buf *b)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(b->p, 1, b->len, f) != b->len) {
        perror(path);
        exit(2);
    }
    if (fclose(f) != 0) {
        perror(path);
        exit(2);
    }
}

json_t *vt_test_cases(void)
{
    json_error_t jerr;
    json_t *root = json_load_file(vt_testdata("cases.json"), 0, &jerr);
    if (!root) {
        vt_test_failed++;
        fprintf(stderr, "FAIL cannot load %s: %s (line %d)\n", vt_testdata("cases.json"),
                jerr.text, jerr.line);
    }
    return root;
}

const char *vt_test_tmpdir(void)
{
    static char dir[256];
    if (!dir[0]) {
        const char *t = getenv("TMPDIR");
        snprintf(dir, sizeof(dir), "%s/vt-test-XXXXXX", t && *t ? t : "/tmp");
        if (!mkdtemp(dir)) {
            perror("mkdtemp");
            exit(2);
        }
    }
    return dir;
}

const struct vt_attester_ops *vt_test_sim_dir(const char *name, char *dir, size_t dir_len,
                                              char *root, size_t root_len)
{
    const struct vt_instance_hdr *h = NULL;
    CHECK_OK(vti_instance_find(VT_KIND_ATTESTER, "sim", &h));
    const struct vt_attester_ops *att = (const struct vt_attester_ops *)h;
    snprintf(dir, dir_len, "%s/%s", vt_test_tmpdir(), name);
    snprintf(root, root_len, "%s/root-ca.pem", dir);
    struct vt_buf rp = VT_BUF_INIT;
    bool ok = att && att->sim_init && !att->sim_init(dir, &rp).err &&
              !vti_file_write(root, rp.p, rp.len, 0644).err;
    CHECK(ok);
    vti_buf_free(&rp);
    return ok ? att : NULL;
}

int vt_test_done(void)
{
    printf("%d passed, %d failed\n", vt_test_passed, vt_test_failed);
    return vt_test_failed ? 1 : 0;
}
