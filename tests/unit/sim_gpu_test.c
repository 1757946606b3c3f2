/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sim_gpu_test.c - sim-gpu: the NVIDIA-shaped test PKI, the SPDM 1.1 writer (request and
 * response layout, the leaf's raw r||s P-384 signature over request || response, the FWID
 * in both the leaf's DiceTcbInfo extension and the opaque data), the evidence JSON and
 * its usage errors; the sim RIMs (vti_sim_gpu_rims): signed by the sim RIM PKI (chain to
 * DIR/gpu/rim-root-ca.pem, not to the pinned NVIDIA RIM root), matching the sim measurements,
 * or for another driver every driver index differing; their errors.
 */
#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "attesters/sim_gpu.h"
#include "endorsements/nvidia_rim.h"
#include "util/codec.h"

#include "vt_test.h"

static X509 *first_cert(const struct vt_buf *pem)
{
    BIO *b = BIO_new_mem_buf(pem->p, (int)pem->len);
    X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
    BIO_free(b);
    return x;
}

static bool sig_ok(X509 *leaf, const struct vt_buf *rep)
{
    const uint8_t *sig = rep->p + rep->len - 96;
    ECDSA_SIG *s = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(sig, 48, NULL), *ss = BN_bin2bn(sig + 48, 48, NULL);
    unsigned char *der = NULL;
    int dl = s && r && ss && ECDSA_SIG_set0(s, r, ss) == 1 ? i2d_ECDSA_SIG(s, &der) : -1;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    bool ok = dl > 0 && md &&
              EVP_DigestVerifyInit(md, NULL, EVP_sha384(), NULL, X509_get0_pubkey(leaf)) == 1 &&
              EVP_DigestVerify(md, der, (size_t)dl, rep->p, rep->len - 96) == 1;
    EVP_MD_CTX_free(md);
    OPENSSL_free(der);
    ECDSA_SIG_free(s);
    return ok;
}

static void check_entry(const json_t *e, const uint8_t nonce[32], unsigned dev)
{
    struct vt_buf rep = VT_BUF_INIT, pem = VT_BUF_INIT;
    const char *ev = json_string_value(json_object_get(e, "evidence"));
    const char *cert = json_string_value(json_object_get(e, "certificate"));
    CHECK(ev && cert && !strcmp(json_string_value(json_object_get(e, "arch")), "HOPPER"));
    if (!ev || !cert)
        return;
    CHECK_OK(vti_b64_decode(ev, strlen(ev), false, &rep));
    CHECK_OK(vti_b64_decode(cert, strlen(cert), false, &pem));
    CHECK(rep.len == 4117); /* the size of a real H100 report with 64 blocks */
    static const uint8_t req[] = { 0x11, 0xE0, 0x01, 0xFF };
    CHECK(memcmp(rep.p, req, 4) == 0 && memcmp(rep.p + 4, nonce, 32) == 0 && rep.p[36] == 0);
    static const uint8_t resp[] = { 0x11, 0x60, 0x00, 0x00, 64, 0xC0, 0x0D, 0x00 };
    CHECK(memcmp(rep.p + 37, resp, sizeof(resp)) == 0);
    uint8_t m1[48], fwid[48];
    vti_sim_gpu_measurement(1, m1);
    vti_sim_gpu_fwid(dev, fwid);
    CHECK(memcmp(rep.p + 45 + 7, m1, 48) == 0); /* block 1's digest */
    CHECK(memmem(rep.p, rep.len, fwid, 48) != NULL);
    X509 *leaf = first_cert(&pem);
    CHECK(leaf && sig_ok(leaf, &rep));
    ASN1_OBJECT *oid = OBJ_txt2obj("2.23.133.5.4.1", 1);
    int at = leaf && oid ? X509_get_ext_by_OBJ(leaf, oid, -1) : -1;
    ASN1_OBJECT_free(oid);
    ASN1_OCTET_STRING *os = at >= 0 ? X509_EXTENSION_get_data(X509_get_ext(leaf, at)) : NULL;
    CHECK(os && ASN1_STRING_length(os) > 48 &&
          memcmp(ASN1_STRING_get0_data(os) + ASN1_STRING_length(os) - 48, fwid, 48) == 0);
    rep.p[100] ^= 1; /* inside the measurement record */
    CHECK(leaf && !sig_ok(leaf, &rep));
    X509_free(leaf);
    vti_buf_free(&rep);
    vti_buf_free(&pem);
}

static struct vti_nv_rim *load_rim(const char *dir, const char *name,
                                   const struct vti_nv_rim_trust *t, vt_res *res)
{
    char f[600];
    struct vt_buf x = VT_BUF_INIT;
    struct vti_nv_rim *rim = NULL;
    snprintf(f, sizeof(f), "%s/%s", dir, name);
    CHECK_OK(vti_file_read(f, 1u << 20, &x));
    *res = vti_nv_rim_load(x.p, x.len, t, (int64_t)time(NULL), &rim);
    vti_buf_free_nowipe(&x);
    return rim;
}

/* Compare the sim GPU's 64 measurements with the RIMs in out; -> the mismatches' count. */
static size_t compare_sim(const char *out, const struct vti_nv_rim_trust *t, uint32_t *first)
{
    vt_res r1, r2;
    struct vti_nv_rim *d = load_rim(out, "sim-gpu-driver-rim.xml", t, &r1);
    struct vti_nv_rim *v = load_rim(out, "sim-gpu-vbios-rim.xml", t, &r2);
    CHECK_OK(r1);
    CHECK_OK(r2);
    CHECK(d && v && vti_nv_rim_n_resources(d) == VTI_SIM_GPU_BLOCKS - VTI_SIM_GPU_RIM_VBIOS_N &&
          vti_nv_rim_n_resources(v) == VTI_SIM_GPU_RIM_VBIOS_N);
    CHECK(v && strcmp(vti_nv_rim_version(v), "96.00.9f.00.01") == 0 && vti_nv_rim_insecure_root(v));
    uint8_t m[VTI_SIM_GPU_BLOCKS][48];
    struct vti_nv_meas meas[VTI_SIM_GPU_BLOCKS];
    for (unsigned i = 0; i < VTI_SIM_GPU_BLOCKS; i++) {
        vti_sim_gpu_measurement(i + 1, m[i]);
        meas[i] = (struct vti_nv_meas){ i + 1, m[i], 48 };
    }
    struct vti_nv_mismatch mm[VTI_SIM_GPU_BLOCKS];
    size_t n = 0, n_cmp = 0;
    vt_res r = d && v ? vti_nv_rim_compare(d, v, meas, VTI_SIM_GPU_BLOCKS, 0, mm,
                                            VTI_SIM_GPU_BLOCKS, &n, &n_cmp)
                      : VT_FAIL(VT_ERR_INTERNAL);
    CHECK(r.err == (n ? VT_ERR_NV_RIM_MISMATCH : VT_OK));
    CHECK(n_cmp == VTI_SIM_GPU_BLOCKS);
    *first = n ? mm[0].index : 0;
    vti_nv_rim_free(d);
    vti_nv_rim_free(v);
    return n;
}

static void test_rims(const char *dir)
{
    char out[512], root[600], none[600];
    snprintf(out, sizeof(out), "%s/rims", dir);
    snprintf(none, sizeof(none), "%s/uninitialised", dir);
    CHECK(mkdir(out, 0700) == 0);
    CHECK_ERR(vti_sim_gpu_rims(none, NULL, out), VT_ERR_SIM_GPU_DIR);
    snprintf(root, sizeof(root), "%s/gpu/rim-root-ca.pem", dir);
    struct vt_buf pem = VT_BUF_INIT;
    CHECK_OK(vti_file_read(root, 1u << 20, &pem));
    X509 *x = first_cert(&pem);
    unsigned char *der = NULL;
    int dl = x ? i2d_X509(x, &der) : 0;
    CHECK(dl > 0);
    struct vti_nv_der anchor = { der, (size_t)(dl > 0 ? dl : 0) };
    struct vti_nv_rim_trust t = { &anchor, 1 };
    CHECK_OK(vti_sim_gpu_rims(dir, NULL, out));
    uint32_t first = 99;
    CHECK(compare_sim(out, &t, &first) == 0);
    vt_res r;
    CHECK(load_rim(out, "sim-gpu-driver-rim.xml", NULL, &r) == NULL && r.err == VT_ERR_NV_RIM_CHAIN);
    CHECK_OK(vti_sim_gpu_rims(dir, "555.10.02", out)); /* every driver index differs */
    CHECK(compare_sim(out, &t, &first) == VTI_SIM_GPU_BLOCKS - VTI_SIM_GPU_RIM_VBIOS_N);
    CHECK(first == VTI_SIM_GPU_RIM_VBIOS_N);
    CHECK_ERR(vti_sim_gpu_rims(dir, "96.00.9F.00.01", out), VT_ERR_NV_RIM_KIND);
    CHECK_ERR(vti_sim_gpu_rims(dir, "1.2.3.4444444444444444444444", out), VT_ERR_INVALID_ARG);
    OPENSSL_free(der);
    X509_free(x);
    vti_buf_free_nowipe(&pem);
}

int main(void)
{
    const char *dir = vt_test_tmpdir();
    uint8_t nonce[32];
    for (int i = 0; i < 32; i++)
        nonce[i] = (uint8_t)(0xA0 + i);
    struct vt_buf out = VT_BUF_INIT, roots = VT_BUF_INIT;
    CHECK_ERR(vti_sim_gpu_evidence(dir, nonce, 1, &out), VT_ERR_SIM_GPU_DIR);
    CHECK_OK(vti_sim_gpu_init(dir, &roots));
    CHECK(roots.len > 0 && memmem(roots.p, roots.len, "BEGIN CERTIFICATE", 17) != NULL);
    CHECK_ERR(vti_sim_gpu_evidence(dir, nonce, 0, &out), VT_ERR_SIM_GPU_COUNT);
    CHECK_ERR(vti_sim_gpu_evidence(dir, nonce, VTI_SIM_GPU_MAX + 1, &out), VT_ERR_SIM_GPU_COUNT);
    CHECK_OK(vti_sim_gpu_evidence(dir, nonce, 2, &out));
    json_t *j = json_loadb((const char *)out.p, out.len, 0, NULL);
    const json_t *l = json_object_get(j, "device_evidence_list");
    CHECK(json_array_size(l) == 2);
    for (size_t i = 0; i < json_array_size(l); i++)
        check_entry(json_array_get(l, i), nonce, (unsigned)i);
    const char *u0 = json_string_value(json_object_get(json_array_get(l, 0), "uuid"));
    const char *u1 = json_string_value(json_object_get(json_array_get(l, 1), "uuid"));
    CHECK(u0 && u1 && strcmp(u0, u1) != 0);
    /* the devices keep their certificates: the same leaf next time */
    struct vt_buf again = VT_BUF_INIT;
    CHECK_OK(vti_sim_gpu_evidence(dir, nonce, 1, &again));
    json_t *j2 = json_loadb((const char *)again.p, again.len, 0, NULL);
    const char *c1 = json_string_value(json_object_get(json_array_get(l, 0), "certificate"));
    const char *c2 = json_string_value(
        json_object_get(json_array_get(json_object_get(j2, "device_evidence_list"), 0),
                        "certificate"));
    CHECK(c1 && c2 && strcmp(c1, c2) == 0);
    test_rims(dir);
    json_decref(j);
    json_decref(j2);
    vti_buf_free(&out);
    vti_buf_free(&again);
    vti_buf_free(&roots);
    return vt_test_done();
}
