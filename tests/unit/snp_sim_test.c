/* SPDX-License-Identifier: Apache-2.0 */
/*
 * snp_sim_test.c - the sim-snp attester: `sim init` PKI, real-format v3 reports that the SNP
 * verifier accepts only with the sim ARK given as a root (then insecure), the certificate
 * table in the endorsements, the measurement option and the missing-directory error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/instance.h"
#include "core/report.h"
#include "endorsements/amd_chain.h"
#include "evidence/snp_report.h"
#include "util/codec.h"
#include <openssl/evp.h>

#include "vt_test.h"

static const struct vt_verifier_ops *V;
static const struct vt_attester_ops *A;

static int verify(const struct vt_buf *ev, const struct vt_buf *endo, const char *coll,
                  const char *root, struct vt_report **ret)
{
    struct vt_verify_opts o;
    memset(&o, 0, sizeof(o));
    const char *roots[1] = { root };
    o.root_ca_files = root ? roots : NULL;
    o.n_root_ca_files = root ? 1 : 0;
    o.collateral = coll;
    struct vti_verify_ctx ctx = { .opts = &o, .at = 1750000000,
                                  .endorsements = endo ? endo->p : NULL,
                                  .endorsements_len = endo ? endo->len : 0 };
    struct vt_report *rep = vti_report_new();
    int e = V->verify(&ctx, ev->p, ev->len, rep).err;
    if (ret)
        *ret = rep;
    else
        vt_report_free(rep);
    return e;
}

int main(void)
{
    unsetenv("VERITEE_SIM_DIR");
    CHECK_OK(vti_registry_init(NULL));
    const struct vt_instance_hdr *h;
    CHECK_OK(vti_instance_find(VT_KIND_VERIFIER, "snp", &h));
    V = (const struct vt_verifier_ops *)h;
    CHECK_OK(vti_instance_find(VT_KIND_ATTESTER, "sim-snp", &h));
    A = (const struct vt_attester_ops *)h;
    CHECK(A && (A->hdr.flags & VT_INST_EXPLICIT) && A->detect == NULL && A->sim_init);
    if (!A || !V)
        return vt_test_done();

    const char *dir = vt_test_tmpdir();
    struct vt_buf roots = VT_BUF_INIT;
    CHECK_OK(A->sim_init(dir, &roots));
    CHECK(roots.len > 0 && memmem(roots.p, roots.len, "BEGIN CERTIFICATE", 17) != NULL);
    char rootf[512];
    snprintf(rootf, sizeof(rootf), "%s/root-ca.pem", dir);
    CHECK_OK(vti_file_write(rootf, roots.p, roots.len, 0644));

    uint8_t rd[64];
    for (int i = 0; i < 64; i++)
        rd[i] = (uint8_t)(i * 3);
    struct vti_attest_ctx actx = { .sim_dir = dir };
    struct vt_buf ev = VT_BUF_INIT, endo = VT_BUF_INIT;
    CHECK_OK(A->collect(&actx, rd, &ev, &endo));
    CHECK(ev.len == VT_SNP_REPORT_LEN);
    struct vt_snp_report r;
    CHECK_OK(vti_snp_report_parse(ev.p, ev.len, &r));
    CHECK(r.version == 3 && r.product == VT_SNP_PRODUCT_MILAN && memcmp(r.report_data, rd, 64) == 0);
    CHECK(V->accepts(0, ev.p, ev.len) && V->accepts(A->cbor_tag, ev.p, ev.len));

    /* with the sim root: verified, insecure; via the table, and via --collateral DIR */
    struct vt_report *rep = NULL;
    CHECK_ERR(verify(&ev, &endo, NULL, rootf, &rep), VT_OK);
    CHECK(rep->insecure);
    const struct vt_claim *c = vt_claims_get(&rep->claims, "measurement");
    uint8_t def[48];
    unsigned int dn = 0;
    CHECK(EVP_Digest("veritee sim-snp workload", 24, def, &dn, EVP_sha384(), NULL) == 1);
    CHECK(c && c->n == 48 && memcmp(c->p, def, 48) == 0);
    c = vt_claims_get(&rep->claims, "reported_tcb_ucode");
    CHECK(c && c->i == 219);
    vt_report_free(rep);
    vti_amd_chain_cache_clear();
    CHECK_ERR(verify(&ev, NULL, dir, rootf, NULL), VT_OK);
    /* without the sim root the sim ARK is not trusted (cached or not) */
    CHECK_ERR(verify(&ev, &endo, NULL, NULL, NULL), VT_ERR_SNP_ARK_NOT_TRUSTED);
    vti_amd_chain_cache_clear();
    CHECK_ERR(verify(&ev, &endo, NULL, NULL, NULL), VT_ERR_SNP_ARK_NOT_TRUSTED);
    /* a signature by another key: flip a bit of R */
    ev.p[0x2a0] ^= 0x80;
    CHECK_ERR(verify(&ev, &endo, NULL, rootf, NULL), VT_ERR_SNP_SIGNATURE);
    ev.p[0x2a0] ^= 0x80;

    /* sim.measurement */
    struct vt_option mo = { "sim.measurement", "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff" };
    struct vti_attest_ctx mctx = { .sim_dir = dir, .options = &mo, .n_options = 1 };
    struct vt_buf ev2 = VT_BUF_INIT;
    CHECK_OK(A->collect(&mctx, rd, &ev2, NULL));
    CHECK_ERR(verify(&ev2, &endo, NULL, rootf, &rep), VT_OK);
    c = vt_claims_get(&rep->claims, "measurement");
    char hex[100];
    if (c)
        vti_hex_encode(c->p, c->n, hex);
    CHECK(c && strcmp(hex, mo.value) == 0);
    vt_report_free(rep);
    struct vt_option bad = { "sim.measurement", "zz" };
    struct vti_attest_ctx bctx = { .sim_dir = dir, .options = &bad, .n_options = 1 };
    struct vt_buf ev3 = VT_BUF_INIT;
    CHECK_ERR(A->collect(&bctx, rd, &ev3, NULL), VT_ERR_SIM_MEASUREMENT);

    /* no sim directory */
    struct vti_attest_ctx nctx = { 0 };
    CHECK_ERR(A->collect(&nctx, rd, &ev3, NULL), VT_ERR_SIM_NO_DIR);
    /* a directory that was never initialised */
    struct vti_attest_ctx ectx = { .sim_dir = "/nonexistent-veritee" };
    CHECK_ERR(A->collect(&ectx, rd, &ev3, NULL), VT_ERR_SIM_DIR_INVALID);

    vti_buf_free(&ev);
    vti_buf_free(&ev2);
    vti_buf_free(&ev3);
    vti_buf_free(&endo);
    vti_buf_free(&roots);
    return vt_test_done();
}
