/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nvidia_bench.c - NVIDIA GPU (SPDM 1.1) report verifications per second through vt_verify
 * (--verifier nvidia, the expected nonce, at verify_at), against its bounds measured in the
 * same run:
 *   warm: one ECDSA P-384 / SHA-384 verification of the same signed SPDM bytes (request ||
 *         response without signature) with the device leaf key;
 *   cold: that verification plus the signatures of the device chain's links (leaf .. the
 *         pinned root, X509_verify of each certificate with its issuer's key).
 * The nvidia verifier has no chain cache: every verification decodes and verifies the chain,
 * so the warm and the cold run are the same verifications (after a warm-up); the two ratios
 * differ by their bound. Batches of the three sides are interleaved so that load from other
 * processes affects them alike.
 *
 * Input: the real "nvidia" case of shared/testdata/cases.json ($VERITEE_TESTDATA, default
 * ../shared/testdata): its report, certificate chain, expected nonce and verify_at.
 * Usage: nvidia_bench [seconds per round, default 2] [rounds, default 3]; prints the rates of
 * each round and `ratio nvidia_warm: X` / `ratio nvidia_cold: Y` (the medians over the rounds).
 */
#include <jansson.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "evidence/spdm.h"
#include "util/codec.h"

#define MAX_ROUNDS 9
#define MAX_LINKS 8

struct nvb {
    struct vt_buf report;       /* SPDM request || response */
    struct vt_buf evidence;     /* guest-components' device evidence JSON */
    uint8_t nonce[32];
    int64_t at;
    X509 *chain[MAX_LINKS + 1]; /* leaf first */
    int n_chain;
    unsigned char *sig_der;     /* the SPDM signature, DER */
    int sig_len;
    size_t signed_len;
};

static void die(const char *what)
{
    fprintf(stderr, "nvidia_bench: %s\n", what);
    exit(2);
}

static json_t *nvidia_case(void)
{
    struct vt_buf c = bench_testdata("nvidia_bench", "cases.json");
    json_t *root = json_loadb((const char *)c.p, c.len, 0, NULL);
    json_t *nv = json_array_get(json_object_get(root, "nvidia"), 0);
    if (!nv)
        die("no \"nvidia\" case in cases.json");
    json_incref(nv);
    json_decref(root);
    vti_buf_free_nowipe(&c);
    return nv;
}

static void load_chain(struct nvb *b, const struct vt_buf *pem)
{
    BIO *bio = BIO_new_mem_buf(pem->p, (int)pem->len);
    X509 *x;
    while (bio && b->n_chain <= MAX_LINKS && (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)))
        b->chain[b->n_chain++] = x;
    BIO_free(bio);
    if (b->n_chain < 2)
        die("the case's certificate chain does not decode");
}

/* The evidence JSON (one HOPPER device), the signed length and the DER signature. */
static void make_evidence(struct nvb *b, const struct vt_buf *pem)
{
    struct vt_buf e = VT_BUF_INIT, c = VT_BUF_INIT;
    if (vti_b64_encode(b->report.p, b->report.len, false, &e).err || vti_buf_cstr(&e).err ||
        vti_b64_encode(pem->p, pem->len, false, &c).err || vti_buf_cstr(&c).err)
        die("base64");
    json_t *j = json_pack("{s:[{s:s, s:s, s:s}]}", "device_evidence_list", "arch", "HOPPER",
                          "evidence", (const char *)e.p, "certificate", (const char *)c.p);
    char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
    if (!s || vti_buf_append(&b->evidence, s, strlen(s)).err)
        die("evidence JSON");
    free(s);
    json_decref(j);
    vti_buf_free_nowipe(&e);
    vti_buf_free_nowipe(&c);
    struct vt_spdm_report *sp = calloc(1, sizeof(*sp));
    if (!sp || vti_spdm_parse(b->report.p, b->report.len, sp).err)
        die("the case's report does not parse");
    b->signed_len = sp->signed_len;
    const uint8_t *rs = b->report.p + sp->signed_len;
    ECDSA_SIG *sig = ECDSA_SIG_new();
    if (!sig || ECDSA_SIG_set0(sig, BN_bin2bn(rs, 48, NULL), BN_bin2bn(rs + 48, 48, NULL)) != 1)
        die("signature");
    b->sig_len = i2d_ECDSA_SIG(sig, &b->sig_der);
    ECDSA_SIG_free(sig);
    free(sp);
}

static void setup(struct nvb *b)
{
    json_t *nv = nvidia_case();
    json_t *files = json_object_get(nv, "files");
    const char *nonce = json_string_value(json_object_get(json_object_get(nv, "expect"), "expected_nonce"));
    const char *at = json_string_value(json_object_get(nv, "verify_at"));
    char rel[512];
    snprintf(rel, sizeof(rel), "%s", json_string_value(json_object_get(files, "report")));
    struct vt_buf hex = bench_testdata("nvidia_bench", rel);
    size_t n = hex.len;
    while (n > 0 && (hex.p[n - 1] == '\n' || hex.p[n - 1] == '\r'))
        n--;
    if (vti_hex_decode((const char *)hex.p, n, &b->report).err || !nonce || !at ||
        vti_hex_decode_fixed(nonce, b->nonce, 32).err || vti_time_parse(at, &b->at).err)
        die("the case's report, nonce or verify_at");
    snprintf(rel, sizeof(rel), "%s", json_string_value(json_object_get(files, "cert_chain")));
    struct vt_buf pem = bench_testdata("nvidia_bench", rel);
    load_chain(b, &pem);
    make_evidence(b, &pem);
    vti_buf_free_nowipe(&hex);
    vti_buf_free_nowipe(&pem);
    json_decref(nv);
}

static int verify_gpu(const struct nvb *b)
{
    struct vt_verify_opts o;
    memset(&o, 0, sizeof(o));
    o.verifier = "nvidia";
    o.at = b->at;
    o.report_data = b->nonce;
    o.report_data_len = 32;
    vt_report *r = NULL;
    int err = vt_verify(&o, b->evidence.p, b->evidence.len, &r);
    vt_report_free(r);
    return err;
}

static int verify_p384(const struct nvb *b)
{
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    int ok = m && EVP_DigestVerifyInit(m, NULL, EVP_sha384(), NULL,
                                       X509_get0_pubkey(b->chain[0])) == 1 &&
             EVP_DigestVerify(m, b->sig_der, (size_t)b->sig_len, b->report.p, b->signed_len) == 1;
    EVP_MD_CTX_free(m);
    return ok ? 0 : 1;
}

/* The report signature and every link of the chain (issuer = the next certificate). */
static int verify_cold_bound(const struct nvb *b)
{
    int rc = verify_p384(b);
    for (int i = 0; i + 1 < b->n_chain && !rc; i++)
        rc = X509_verify(b->chain[i], X509_get0_pubkey(b->chain[i + 1])) == 1 ? 0 : 1;
    return rc;
}

struct round {
    double gpu, p384, cold;     /* per second */
};

static struct round run_round(const struct nvb *b, double secs)
{
    long n[3] = { 0, 0, 0 };
    double t[3] = { 0, 0, 0 };
    while (t[0] + t[1] + t[2] < 3 * secs) {
        for (int side = 0; side < 3; side++) {
            double t0 = bench_now();
            for (int i = 0; i < 16; i++) {
                int rc = side == 0 ? verify_gpu(b) : side == 1 ? verify_p384(b) : verify_cold_bound(b);
                if (rc)
                    die("a verification failed");
            }
            t[side] += bench_now() - t0;
            n[side] += 16;
        }
    }
    return (struct round){ n[0] / t[0], n[1] / t[1], n[2] / t[2] };
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(double), cmp_d);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv)
{
    double secs = argc > 1 ? strtod(argv[1], NULL) : 2.0;
    int rounds = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 3;
    if (secs <= 0)
        secs = 2.0;
    if (rounds < 1 || rounds > MAX_ROUNDS)
        rounds = 3;
    struct nvb b;
    memset(&b, 0, sizeof(b));
    setup(&b);
    if (verify_gpu(&b) || verify_p384(&b) || verify_cold_bound(&b)) /* warm-up + sanity */
        die("the nvidia case does not verify");
    double warm[MAX_ROUNDS], cold[MAX_ROUNDS];
    for (int i = 0; i < rounds; i++) {
        struct round r = run_round(&b, secs);
        warm[i] = r.gpu / r.p384;
        cold[i] = r.gpu / r.cold;
        printf("round %d: nvidia_verify_per_s %.0f, ecdsa_p384_verify_per_s %.0f, "
               "p384_plus_%d_chain_signatures_per_s %.0f\n", i + 1, r.gpu, r.p384,
               b.n_chain - 1, r.cold);
    }
    printf("ratio nvidia_warm: %.1f%% (vs 1 P-384 verify; no chain cache: the chain is verified "
           "every time)\n", 100.0 * median(warm, rounds));
    printf("ratio nvidia_cold: %.1f%% (vs 1 + %d P-384 verifies)\n", 100.0 * median(cold, rounds),
           b.n_chain - 1);
    for (int i = 0; i < b.n_chain; i++)
        X509_free(b.chain[i]);
    OPENSSL_free(b.sig_der);
    vti_buf_free_nowipe(&b.report);
    vti_buf_free_nowipe(&b.evidence);
    return 0;
}
