/* SPDX-License-Identifier: Apache-2.0 */
/*
 * intel_bench.c - Intel DCAP quote verifications per second with warm collateral (the
 * verifier's cache on), against the bound: the two ECDSA P-256 / SHA-256 verifications every
 * quote needs (QE report signature by the PCK key over the 384-byte QE report; quote
 * signature by the attestation key over header and body), measured with OpenSSL on the same
 * keys, signatures and bytes in the same run, in 10 interleaved rounds (keys decoded and
 * signatures DER-encoded once, outside the loop: the tightest bound).
 *
 * Inputs: real quotes and their dcap-qvl collateral from shared/testdata ($VERITEE_TESTDATA,
 * default ../shared/testdata) at each case's verify_at, Intel's pinned root (secure path).
 * Each verification is the full verifier: parse, claims, cache lookup (SHA-256 over PCK chain,
 * collateral digest, anchors), both signatures, QE identity, TCB level matching.
 * Usage: intel_bench [seconds per side, default 3]. bench/intel_bench.sh adds the
 * @phala/dcap-qvl peer on the same inputs.
 */
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_util.h"
#include "core/instance.h"
#include "core/report.h"
#include "endorsements/intel_collateral.h"
#include "evidence/intel_quote.h"
#include "util/codec.h"
#include "verifiers/intel_verify.h"

static struct vt_buf rd(const char *rel)
{
    return bench_testdata("intel_bench", rel);
}

static unsigned char *der_sig(const uint8_t rs[64], int *len)
{
    ECDSA_SIG *s = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(rs, 32, NULL), *ss = BN_bin2bn(rs + 32, 32, NULL);
    unsigned char *der = NULL;
    if (!s || !r || !ss || ECDSA_SIG_set0(s, r, ss) != 1)
        exit(3);
    *len = i2d_ECDSA_SIG(s, &der);
    ECDSA_SIG_free(s);
    return der;
}

static EVP_PKEY *raw_p256(const uint8_t xy[64])
{
    uint8_t pt[65] = { 0x04 };
    memcpy(pt + 1, xy, 64);
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    EVP_PKEY *k = NULL;
    OSSL_PARAM p[] = { OSSL_PARAM_construct_utf8_string("group", vti_unconst("P-256"), 0),
                       OSSL_PARAM_construct_octet_string("pub", pt, sizeof(pt)),
                       OSSL_PARAM_construct_end() };
    if (!c || EVP_PKEY_fromdata_init(c) != 1 || EVP_PKEY_fromdata(c, &k, EVP_PKEY_PUBLIC_KEY, p) != 1)
        exit(3);
    EVP_PKEY_CTX_free(c);
    return k;
}

static int sha_verify(EVP_PKEY *k, const unsigned char *sig, int sl, const uint8_t *m, size_t n)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int ok = md && EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, k) == 1 &&
             EVP_DigestVerify(md, sig, (size_t)sl, m, n) == 1;
    EVP_MD_CTX_free(md);
    return ok;
}

static int one_case(const char *name, const char *quote, const char *coll, const char *at_s,
                    double secs)
{
    struct vt_buf ev = rd(quote), cj = rd(coll);
    struct vt_intel_collateral col = { 0 };
    struct vt_intel_quote q;
    int64_t at = 0;
    if (vti_intel_collateral_from_bundle(cj.p, cj.len, &col).err ||
        vt_intel_quote_parse(ev.p, ev.len, &q).err || vti_time_parse(at_s, &at).err)
        return 2;
    struct vt_verify_opts o;
    memset(&o, 0, sizeof(o));
    struct vti_verify_ctx ctx = { .opts = &o, .at = at };

    /* correctness and warm-up */
    struct vt_report *rep = vti_report_new();
    vt_res r = vti_intel_verify_with(&ctx, &col, ev.p, ev.len, rep);
    if (r.err) {
        fprintf(stderr, "%s: verification failed: %s\n", name, vt_strerror(r.err));
        return 1;
    }
    printf("%s: %s, tcb_status %s, verify_at %s\n", name, quote, rep->tcb_status, at_s);
    vt_report_free(rep);

    /* the bound: PCK key from the leaf of the quote's chain, attestation key from the quote */
    BIO *b = BIO_new_mem_buf(q.pck_chain, (int)q.pck_chain_len);
    X509 *leaf = PEM_read_bio_X509(b, NULL, NULL, NULL);
    BIO_free(b);
    EVP_PKEY *pck = leaf ? X509_get0_pubkey(leaf) : NULL, *ak = raw_p256(q.att_key);
    int l1, l2;
    unsigned char *s1 = der_sig(q.qe_report_sig, &l1), *s2 = der_sig(q.quote_sig, &l2);
    if (!pck || !sha_verify(pck, s1, l1, q.qe_report.raw, VT_INTEL_SGX_BODY_LEN) ||
        !sha_verify(ak, s2, l2, q.signed_p, q.signed_len)) {
        fprintf(stderr, "%s: reference signatures do not verify\n", name);
        return 1;
    }
    /* interleaved rounds, so that load from other processes hits both sides alike */
    double tv = 0, tb = 0;
    long n = 0, m = 0;
    for (int round = 0; round < 10; round++) {
        double t0 = bench_now(), el = 0;
        while (el < secs / 10) {
            for (int i = 0; i < 20; i++) {
                rep = vti_report_new();
                if (vti_intel_verify_with(&ctx, &col, ev.p, ev.len, rep).err)
                    return 1;
                vt_report_free(rep);
            }
            n += 20;
            el = bench_now() - t0;
        }
        tv += el;
        t0 = bench_now();
        el = 0;
        while (el < secs / 10) {
            for (int i = 0; i < 20; i++)
                if (!sha_verify(pck, s1, l1, q.qe_report.raw, VT_INTEL_SGX_BODY_LEN) ||
                    !sha_verify(ak, s2, l2, q.signed_p, q.signed_len))
                    return 1;
            m += 20;
            el = bench_now() - t0;
        }
        tb += el;
    }
    double vps = (double)n / tv;
    double bps = (double)m / tb;
    printf("  veritee quote verifications/s (warm collateral): %.0f\n", vps);
    printf("  OpenSSL 2x ECDSA P-256 verify (same keys/data)/s: %.0f\n", bps);
    printf("  ratio: %.1f%%\n", 100.0 * vps / bps);
    printf("veritee_verifications_per_s %s %.1f\n", name, vps);
    OPENSSL_free(s1);
    OPENSSL_free(s2);
    EVP_PKEY_free(ak);
    X509_free(leaf);
    vti_intel_collateral_free(&col);
    vti_buf_free(&ev);
    vti_buf_free(&cj);
    return 0;
}

int main(int argc, char **argv)
{
    double secs = argc > 1 ? strtod(argv[1], NULL) : 3.0;
    if (secs <= 0)
        secs = 3.0;
    if (vti_registry_init(NULL).err)
        return 2;
    vti_intel_cache_enable(true);
    int rc = one_case("tdx", "tdx/dcapqvl_tdx_quote_v4_b0c06f.bin",
                      "tdx/dcapqvl_tdx_quote_v4_b0c06f_collateral.json", "2025-06-19T12:00:00Z",
                      secs);
    if (rc == 0)
        rc = one_case("sgx", "sgx/dcapqvl_sgx_quote_v3.bin",
                      "sgx/dcapqvl_sgx_quote_v3_collateral.json", "2025-06-19T12:00:00Z", secs);
    return rc;
}
