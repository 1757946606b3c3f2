/* SPDX-License-Identifier: Apache-2.0 */
/*
 * snp_bench.c - SEV-SNP report verifications per second with a cached certificate chain,
 * against the bound: one ECDSA P-384 / SHA-384 verification of the same 672 signed bytes
 * with the same VCEK key, measured in the same run.
 *
 * Input: the real GCP Milan v5 report and its VCEK + ASK/ARK from shared/testdata
 * ($VERITEE_TESTDATA, default ../shared/testdata), passed as an SNP_GET_EXT_REPORT certificate
 * table in the endorsements (what an RA-TLS peer carries). Each verification is the full
 * verifier: parse, claims, table parse, chain-cache lookup (SHA-256 over the certificate
 * bytes), chip id, TCB, report signature. Usage: snp_bench [seconds per side, default 3].
 */
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_util.h"
#include "core/instance.h"
#include "core/report.h"
#include "endorsements/amd_certs.h"
#include "evidence/snp_report.h"
#include "util/codec.h"

static struct vt_buf rd(const char *rel)
{
    return bench_testdata("snp_bench", rel);
}

int main(int argc, char **argv)
{
    double secs = argc > 1 ? strtod(argv[1], NULL) : 3.0;
    if (secs <= 0)
        secs = 3.0;
    struct vt_buf ev = rd("snp/teekit_gcp_milan_report_v5.bin");
    struct vt_buf vc = rd("snp/teekit_gcp_milan_vcek_a.pem");
    struct vt_buf ch = rd("snp/ask_ark_milan.pem");
    struct vt_amd_blobs kb = { 0 }, cb = { 0 };
    size_t added;
    if (vti_amd_blobs_add_content(&kb, vc.p, vc.len, &added).err ||
        vti_amd_blobs_add_content(&cb, ch.p, ch.len, &added).err || kb.n != 1 || cb.n != 2)
        return 2;
    struct vt_amd_table_entry e[3] = {
        { vt_amd_guid_vcek, kb.der[0].p, kb.der[0].len },
        { vt_amd_guid_ask, cb.der[0].p, cb.der[0].len },
        { vt_amd_guid_ark, cb.der[1].p, cb.der[1].len },
    };
    struct vt_buf tab = VT_BUF_INIT;
    if (vti_amd_cert_table_build(e, 3, &tab).err)
        return 2;
    const struct vt_instance_hdr *h;
    if (vti_registry_init(NULL).err || vti_instance_find(VT_KIND_VERIFIER, "snp", &h).err)
        return 2;
    const struct vt_verifier_ops *v = (const struct vt_verifier_ops *)h;
    int64_t at;
    if (vti_time_parse("2025-12-06T00:00:00Z", &at).err)
        return 2;
    struct vt_verify_opts opts;
    memset(&opts, 0, sizeof(opts));
    struct vti_verify_ctx ctx = { .opts = &opts, .at = at, .endorsements = tab.p,
                                  .endorsements_len = tab.len };

    /* warm-up: fills the chain cache */
    struct vt_report *rep = vti_report_new();
    if (!rep || v->verify(&ctx, ev.p, ev.len, rep).err) {
        fprintf(stderr, "snp_bench: the report does not verify\n");
        return 1;
    }
    vt_report_free(rep);

    /* the bound: one ECDSA P-384 verification with the VCEK key */
    const unsigned char *q = kb.der[0].p;
    X509 *x = d2i_X509(NULL, &q, (long)kb.der[0].len);
    EVP_PKEY *key = x ? X509_get0_pubkey(x) : NULL;
    struct vt_snp_report r;
    if (!key || vti_snp_report_parse(ev.p, ev.len, &r).err)
        return 2;
    ECDSA_SIG *sig = ECDSA_SIG_new();
    ECDSA_SIG_set0(sig, BN_bin2bn(r.sig_r, 48, NULL), BN_bin2bn(r.sig_s, 48, NULL));
    unsigned char *der = NULL;
    int dlen = i2d_ECDSA_SIG(sig, &der);

    /* Interleave short batches of both sides so that load from other processes and CPU
     * frequency changes affect both alike. */
    long n_ref = 0, n_snp = 0;
    double t_ref = 0, t_snp = 0;
    while (t_ref + t_snp < 2 * secs) {
        double t0 = bench_now();
        for (int i = 0; i < 32; i++) {
            EVP_MD_CTX *m = EVP_MD_CTX_new();
            if (!m || EVP_DigestVerifyInit(m, NULL, EVP_sha384(), NULL, key) != 1 ||
                EVP_DigestVerify(m, der, (size_t)dlen, r.signed_bytes, r.signed_len) != 1)
                return 1;
            EVP_MD_CTX_free(m);
            n_ref++;
        }
        double t1 = bench_now();
        for (int i = 0; i < 32; i++) {
            rep = vti_report_new();
            if (!rep || v->verify(&ctx, ev.p, ev.len, rep).err)
                return 1;
            vt_report_free(rep);
            n_snp++;
        }
        double t2 = bench_now();
        t_ref += t1 - t0;
        t_snp += t2 - t1;
    }
    double ref = (double)n_ref / t_ref, snp = (double)n_snp / t_snp;

    printf("ecdsa_p384_verify_per_s %.0f\n", ref);
    printf("snp_report_verify_per_s %.0f (cached chain, certificate table endorsements)\n", snp);
    printf("ratio %.1f%% (target >= 80%%)\n", 100.0 * snp / ref);
    OPENSSL_free(der);
    ECDSA_SIG_free(sig);
    X509_free(x);
    return 0;
}
