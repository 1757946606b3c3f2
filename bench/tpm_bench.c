/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tpm_bench.c - "tpm" verifications per second against the bound of the signature each one
 * needs (one RSA-2048 PKCS#1 v1.5 SHA-256 verify: the quote by the AK), measured side by side
 * in the same run:
 *   tpm-pinned: Trustee's TPM evidence, the AK pinned (tpm.ak_sha256): JSON, AK key, quote,
 *               claims;
 *   tpm-gce:    the GCE case (SHA-256 bank) with its AK certificate chain (the --root-ca /
 *               --collateral certificates kept by tpm_ak_certs.c while their files are
 *               unchanged, the chain cached by the crypto backend after the first
 *               verification) and its 44-event log replayed (three banks) with the
 *               eventlog.* claims.
 * Prints `ratio NAME: VALUE` lines. Usage: tpm_bench [seconds per side, default 3].
 */
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "core/instance.h"
#include "core/report.h"
#include "evidence/tpm.h"
#include "evidence/tpm_evidence.h"
#include "util/codec.h"

#define GCE "tpm/gotpm_gce_cos85_nonce9009"

struct side {
    const char *name;
    const struct vt_verifier_ops *v;
    struct vti_verify_ctx ctx;
    struct vt_verify_opts opts;
    struct vt_option opt;
    const char *roots[1];
    struct vt_buf ev;
    EVP_PKEY *ak;
    struct vti_tpm_ev parts;
    struct vt_tpmt_signature sig;
};

static void die(const char *what)
{
    fprintf(stderr, "tpm_bench: %s\n", what);
    exit(2);
}

static const char *path(const char *rel)
{
    static char p[4][1024];
    static int k;
    const char *base = getenv("VERITEE_TESTDATA");
    k = (k + 1) % 4;
    snprintf(p[k], sizeof(p[k]), "%s/%s", base && *base ? base : "../shared/testdata", rel);
    return p[k];
}

/* The GCE case as evidence JSON (AK certificate and event log included). */
static struct vt_buf gce_evidence(void)
{
    struct vt_buf pem = bench_testdata("tpm_bench", GCE "_ak_pub.pem");
    BIO *b = BIO_new_mem_buf(pem.p, (int)pem.len);
    EVP_PKEY *k = b ? PEM_read_bio_PUBKEY(b, NULL, NULL, NULL) : NULL;
    unsigned char *spki = NULL;
    int sl = k ? i2d_PUBKEY(k, &spki) : 0;
    struct vt_buf msg = bench_testdata("tpm_bench", GCE "_quote_sha256.attest");
    struct vt_buf sig = bench_testdata("tpm_bench", GCE "_quote_sha256.sig");
    struct vt_buf cert = bench_testdata("tpm_bench", GCE "_ak_cert.der");
    struct vt_buf log = bench_testdata("tpm_bench", GCE "_eventlog.bin");
    json_t *j = json_load_file(path(GCE "_pcrs_sha256.json"), 0, NULL);
    uint8_t pcrs[24][VT_TPM_EV_MAX_PCR_LEN];
    for (int i = 0; i < 24; i++) {
        char n[4];
        snprintf(n, sizeof(n), "%d", i);
        const char *h = json_string_value(json_object_get(json_object_get(j, "pcrs"), n));
        if (!h || vti_hex_decode_fixed(h, pcrs[i], 32).err)
            die("GCE PCR values");
    }
    struct vti_tpm_ev_in in = {
        .ak_public = spki, .ak_public_len = (size_t)sl, .msg = msg.p, .msg_len = msg.len,
        .sig = sig.p, .sig_len = sig.len, .ak_cert = cert.p, .ak_cert_len = cert.len,
        .event_log = log.p, .event_log_len = log.len,
        .pcrs = (const uint8_t(*)[VT_TPM_EV_MAX_PCR_LEN])pcrs, .n_pcrs = 24, .pcr_len = 32,
    };
    struct vt_buf ev = VT_BUF_INIT;
    if (sl <= 0 || vti_tpm_evidence_json(&in, &ev).err)
        die("GCE evidence");
    json_decref(j);
    OPENSSL_free(spki);
    EVP_PKEY_free(k);
    BIO_free(b);
    vti_buf_free_nowipe(&pem);
    vti_buf_free_nowipe(&msg);
    vti_buf_free_nowipe(&sig);
    vti_buf_free_nowipe(&cert);
    vti_buf_free_nowipe(&log);
    return ev;
}

static void setup(struct side *s, const char *name, struct vt_buf ev, const uint8_t *nonce,
                  size_t nlen)
{
    const struct vt_instance_hdr *h;
    if (vti_instance_find(VT_KIND_VERIFIER, "tpm", &h).err)
        die("no tpm verifier");
    s->name = name;
    s->v = (const struct vt_verifier_ops *)h;
    s->ev = ev;
    s->opts.report_data = nonce;
    s->opts.report_data_len = nlen;
    s->ctx.opts = &s->opts;
    if (vti_tpm_evidence_parse(ev.p, ev.len, &s->parts).err ||
        vti_tpmt_signature_parse(s->parts.sig.p, s->parts.sig.len, &s->sig).err)
        die("evidence parse");
    const unsigned char *p = s->parts.ak_public.p;
    s->ak = d2i_PUBKEY(NULL, &p, (long)s->parts.ak_public.len);
    if (!s->ak)
        die("AK");
}

static int verify_sig(const struct side *s)
{
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    int ok = c && EVP_DigestVerifyInit(c, NULL, EVP_sha256(), NULL, s->ak) == 1 &&
             EVP_DigestVerify(c, s->sig.rsa, s->sig.rsa_len, s->parts.msg.p, s->parts.msg.len) == 1;
    EVP_MD_CTX_free(c);
    return ok;
}

/* Interleaved batches of the bound and the verifier; returns the ratio. */
static double measure(struct side *s, double secs)
{
    long n_ref = 0, n_v = 0;
    double t_ref = 0, t_v = 0;
    while (t_ref + t_v < 2 * secs) {
        double t0 = bench_now();
        for (int i = 0; i < 16; i++, n_ref++)
            if (!verify_sig(s))
                die("RSA bound");
        double t1 = bench_now();
        for (int i = 0; i < 16; i++, n_v++) {
            struct vt_report *rep = vti_report_new();
            if (!rep || s->v->verify(&s->ctx, s->ev.p, s->ev.len, rep).err)
                die("verification failed");
            vt_report_free(rep);
        }
        double t2 = bench_now();
        t_ref += t1 - t0;
        t_v += t2 - t1;
    }
    double ref = (double)n_ref / t_ref, v = (double)n_v / t_v;
    printf("%s_bound_per_s %.0f (RSA-2048)\n", s->name, ref);
    printf("%s_verify_per_s %.0f\n", s->name, v);
    return 100.0 * v / ref;
}

int main(int argc, char **argv)
{
    double secs = argc > 1 ? strtod(argv[1], NULL) : 3.0;
    if (secs <= 0)
        secs = 3.0;
    if (vti_registry_init(NULL).err)
        die("registry");
    static struct side pinned, gce;
    static const uint8_t n9009[2] = { 0x90, 0x09 };
    struct vt_buf tn = VT_BUF_INIT;
    static const char tnh[] = "a04182b506878d4f29b91ee606a71a0d3361ccf1b22db20c98adcaa537bea393"
                              "ef0e41a18b3569ab678f1497fbc5c12000000000000000000000000000000000";
    if (vti_hex_decode(tnh, strlen(tnh), &tn).err)
        die("nonce");
    setup(&pinned, "tpm-pinned", bench_testdata("tpm_bench", "tpm/trustee_tpm_evidence.json"),
          tn.p, tn.len);
    pinned.opt = (struct vt_option){ "tpm.ak_sha256",
        "a517f03ffdaee469aef1a19569547e330726335d0461c3ef6383409c6295679e" };
    pinned.opts.options = &pinned.opt;
    pinned.opts.n_options = 1;
    setup(&gce, "tpm-gce", gce_evidence(), n9009, 2);
    static char root[1024], inter[1024];
    snprintf(root, sizeof(root), "%s", path("tpm/gcp_tpm_ek_root_1.cer"));
    snprintf(inter, sizeof(inter), "%s", path("tpm/gcp_tpm_ek_intermediate_2.crt"));
    gce.roots[0] = root;
    gce.opts.root_ca_files = gce.roots;
    gce.opts.n_root_ca_files = 1;
    gce.opts.collateral = inter;
    gce.ctx.at = gce.opts.at = 1640995200; /* the case's verify_at */
    double rp = measure(&pinned, secs), rg = measure(&gce, secs);
    printf("ratio tpm-pinned: %.1f%%\n", rp);
    printf("ratio tpm-gce: %.1f%% (AK certificate chain, 44-event log)\n", rg);
    return 0;
}
