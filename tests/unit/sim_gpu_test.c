/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sim_gpu_test.c - sim-gpu: the NVIDIA-shaped test PKI, the SPDM 1.1 writer (request and
 * response layout, the leaf's raw r||s P-384 signature over request || response, the FWID
 * in both the leaf's DiceTcbInfo extension and the opaque data), the evidence JSON and
 * its usage errors.
 */
#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>

#include "attesters/sim_gpu.h"
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
    json_decref(j);
    json_decref(j2);
    vti_buf_free(&out);
    vti_buf_free(&again);
    vti_buf_free(&roots);
    return vt_test_done();
}
