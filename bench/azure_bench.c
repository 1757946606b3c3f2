/* SPDX-License-Identifier: Apache-2.0 */
/*
 * azure_bench.c - az-snp-vtpm and az-tdx-vtpm verifications per second with warm collateral
 * (chain / collateral caches filled by a first verification), each against the bound of the
 * signatures it needs, measured in the same run:
 *   az-snp-vtpm: one RSA-2048 PKCS#1 v1.5 SHA-256 verify (the TPM quote by the AK) + one
 *                ECDSA P-384 SHA-384 verify (the SNP report by the VCEK);
 *   az-tdx-vtpm: one RSA-2048 verify + two ECDSA P-256 verifies (the TD quote and its QE
 *                report; both timed as the quote signature, the same operation and key size).
 * Input: the real Trustee evidence (v2 SNP, v1 TDX) and collateral from shared/testdata.
 * Each verification is the full verifier through its ops (JSON, HCL, var data, bindings,
 * inner verifier, TPM quote, claims). Two figures per kind: the same evidence again (every
 * cache warm, as for an attested-TLS peer's certificate) and a new evidence from a known
 * platform (the az parse memos emptied before each verification, untimed; collateral, chain,
 * key and QE report signature caches warm). Also in the same run: the evidence reader on the
 * document alone (az_evidence.c: yajl events, decoding) and, for reference, jansson's parse of
 * it (the reader before), the signatures a new TDX quote from a known platform needs
 * (RSA-2048 + 1 ECDSA: its QE report signature is remembered) and the ceiling of the new
 * evidence figure if nothing but those signatures and the reader cost anything.
 * Prints `ratio NAME: VALUE` lines (az_snp_vtpm, az_tdx_vtpm, az_snp_vtpm_new, az_tdx_vtpm_new).
 * Usage: azure_bench [seconds per side, default 3].
 */
#include <jansson.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench_util.h"
#include "core/instance.h"
#include "core/report.h"
#include "evidence/hcl.h"
#include "evidence/intel_quote.h"
#include "evidence/snp_report.h"
#include "util/codec.h"
#include "verifiers/az_evidence.h"
#include "verifiers/az_memo.h"
#include "verifiers/tpm_quote.h"

struct side {
    const char *name;
    const struct vt_verifier_ops *v;
    struct vti_verify_ctx ctx;
    struct vt_verify_opts opts;
    struct vt_buf ev;
    /* the bound */
    EVP_PKEY *ak, *hw_key;
    const EVP_MD *hw_md;
    int hw_n;                 /* hardware signatures per verification */
    struct vt_buf hw_sig;     /* DER ECDSA */
    const uint8_t *hw_msg;
    size_t hw_len;
    struct vti_az_ev parts;
};

static void die(const char *what)
{
    fprintf(stderr, "azure_bench: %s\n", what);
    exit(2);
}

static int verify_sig(EVP_PKEY *k, const EVP_MD *md, const uint8_t *s, size_t sl,
                      const uint8_t *m, size_t ml)
{
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    int ok = c && EVP_DigestVerifyInit(c, NULL, md, NULL, k) == 1 &&
             EVP_DigestVerify(c, s, sl, m, ml) == 1;
    EVP_MD_CTX_free(c);
    return ok;
}

static void der_sig(const uint8_t *r, const uint8_t *s, int n, struct vt_buf *out)
{
    ECDSA_SIG *sig = ECDSA_SIG_new();
    unsigned char *der = NULL;
    ECDSA_SIG_set0(sig, BN_bin2bn(r, n, NULL), BN_bin2bn(s, n, NULL));
    int dl = i2d_ECDSA_SIG(sig, &der);
    if (dl <= 0 || vti_buf_append(out, der, (size_t)dl).err)
        die("ECDSA signature");
    OPENSSL_free(der);
    ECDSA_SIG_free(sig);
}

/* The AK from the evidence's HCL var data. */
static void load_ak(struct side *s)
{
    struct vt_hcl_report h;
    struct vt_hcl_var_data v;
    if (vti_az_evidence_parse(s->ev.p, s->ev.len, &s->parts).err ||
        vti_hcl_report_parse(s->parts.hcl.p, s->parts.hcl.len, &h).err ||
        vti_hcl_var_data_parse(h.var_data, h.var_data_len, &v).err ||
        vti_rsa_pkey_from_ne(v.ak_n.p, v.ak_n.len, v.ak_e.p, v.ak_e.len, &s->ak).err)
        die("evidence parts");
    vti_hcl_var_data_free(&v);
}

static void snp_bound(struct side *s)
{
    struct vt_hcl_report h;
    struct vt_snp_report r;
    if (vti_hcl_report_parse(s->parts.hcl.p, s->parts.hcl.len, &h).err)
        die("HCL");
    static uint8_t hw[VT_HCL_HW_REPORT_LEN];
    memcpy(hw, h.hw_report, sizeof(hw));
    if (vti_snp_report_parse(hw, sizeof(hw), &r).err)
        die("SNP report");
    const unsigned char *q = s->parts.vcek.p;
    X509 *x = d2i_X509(NULL, &q, (long)s->parts.vcek.len);
    s->hw_key = x ? X509_get_pubkey(x) : NULL;
    X509_free(x);
    if (!s->hw_key)
        die("VCEK");
    der_sig(r.sig_r, r.sig_s, 48, &s->hw_sig);
    s->hw_md = EVP_sha384();
    s->hw_msg = r.signed_bytes;
    s->hw_len = r.signed_len;
    s->hw_n = 1;
}

static void tdx_bound(struct side *s)
{
    struct vt_intel_quote q;
    if (vt_intel_quote_parse(s->parts.td_quote.p, s->parts.td_quote.len, &q).err)
        die("TD quote");
    struct vt_tpmt_public k = { .type = VT_TPM_ALG_ECC, .curve = VT_TPM_ECC_NIST_P256,
                                .x = q.att_key, .x_len = 32, .y = q.att_key + 32, .y_len = 32 };
    if (vti_tpm_public_to_pkey(&k, &s->hw_key).err)
        die("attestation key");
    der_sig(q.quote_sig, q.quote_sig + 32, 32, &s->hw_sig);
    s->hw_md = EVP_sha256();
    s->hw_msg = q.signed_p;
    s->hw_len = q.signed_len;
    s->hw_n = 2;
}

static char dir[] = "/tmp/azure_bench.XXXXXX";

static void rm_dir(void)
{
    for (int i = 0; i < 5; i++) {
        char p[128];
        snprintf(p, sizeof(p), "%s/c%d", dir, i);
        remove(p);
    }
    remove(dir);
}

static const char *tdx_dir(void)
{
    static const char *const f[] = {
        "tdx/automata_1025_tcbinfo_tdx_00806f050000.json", "tdx/automata_1025_qeidentity_tdqe.json",
        "tdx/automata_1025_pck_platform_crl.der", "intel-root/root_ca_crl_20250320.der",
        "intel-root/tcb_signing_chain_2025.pem",
    };
    if (!mkdtemp(dir))
        die("mkdtemp");
    atexit(rm_dir);
    for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
        char p[128];
        struct vt_buf b = bench_testdata("azure_bench", f[i]);
        snprintf(p, sizeof(p), "%s/c%zu", dir, i);
        if (vti_file_write(p, b.p, b.len, 0600).err)
            die("write collateral");
        vti_buf_free(&b);
    }
    /* the collateral cache keeps a load only once its files are RACY_NS (2 s) old */
    sleep(3);
    return dir;
}

static void setup(struct side *s, const char *name, const char *ev, const char *col,
                  const char *at, struct vt_buf *nonce)
{
    const struct vt_instance_hdr *h;
    memset(s, 0, sizeof(*s));
    s->name = name;
    if (vti_instance_find(VT_KIND_VERIFIER, name, &h).err)
        die("verifier not registered");
    s->v = (const struct vt_verifier_ops *)h;
    s->ev = bench_testdata("azure_bench", ev);
    s->opts.collateral = col;
    s->opts.report_data = nonce->p;
    s->opts.report_data_len = nonce->len;
    s->ctx.opts = &s->opts;
    if (vti_time_parse(at, &s->ctx.at).err)
        die("time");
    load_ak(s);
    struct vt_report *rep = vti_report_new(); /* warm-up: fills the caches */
    if (!rep || s->v->verify(&s->ctx, s->ev.p, s->ev.len, rep).err)
        die("the evidence does not verify");
    vt_report_free(rep);
}

static double verify_batch(struct side *s, bool new_evidence, long *n)
{
    double t = 0;
    for (int i = 0; i < 16; i++, (*n)++) {
        if (new_evidence)
            vti_az_memo_flush(); /* as for an evidence never seen (not timed) */
        double t0 = bench_now();
        struct vt_report *rep = vti_report_new();
        if (!rep || s->v->verify(&s->ctx, s->ev.p, s->ev.len, rep).err)
            die("verification failed");
        vt_report_free(rep);
        t += bench_now() - t0;
    }
    return t;
}

/* The evidence document alone, read by the evidence reader (yajl events, hex / base64url
 * decoding: az_evidence.c) or, for reference, parsed by jansson (the reader before). */
static double json_batch(struct side *s, bool jansson, long *n)
{
    double t0 = bench_now();
    for (int i = 0; i < 16; i++, (*n)++) {
        if (jansson) {
            json_t *o = json_loadb((const char *)s->ev.p, s->ev.len, JSON_REJECT_DUPLICATES, NULL);
            if (!o)
                die("jansson");
            json_decref(o);
            continue;
        }
        struct vti_az_ev ev;
        if (vti_az_evidence_parse(s->ev.p, s->ev.len, &ev).err)
            die("evidence reader");
        vti_az_evidence_free(&ev);
    }
    return bench_now() - t0;
}

/* Interleaved batches of the bound, the verifier (repeated evidence: every cache warm), the
 * verifier with its parse memos emptied before each verification (a new evidence from a
 * known platform: collateral, chain, key and QE report caches warm), the evidence reader and
 * jansson on the evidence alone. Ratios to the bound in percent. */
static void measure(struct side *s, double secs, double *ratio, double *ratio_new)
{
    long n_ref = 0, n_v = 0, n_new = 0, n_json = 0, n_rd = 0;
    double t_ref = 0, t_v = 0, t_new = 0, t_json = 0, t_rd = 0, t_min = 0;
    while (t_ref + t_v + t_new < 3 * secs) {
        for (int i = 0; i < 16; i++, n_ref++) {
            double t0 = bench_now();
            if (!verify_sig(s->ak, EVP_sha256(), s->parts.sig.p, s->parts.sig.len,
                            s->parts.msg.p, s->parts.msg.len) ||
                !verify_sig(s->hw_key, s->hw_md, s->hw_sig.p, s->hw_sig.len, s->hw_msg, s->hw_len))
                die("bound");
            double t1 = bench_now();
            for (int j = 1; j < s->hw_n; j++)
                if (!verify_sig(s->hw_key, s->hw_md, s->hw_sig.p, s->hw_sig.len, s->hw_msg,
                                s->hw_len))
                    die("ECDSA bound");
            t_min += t1 - t0;
            t_ref += bench_now() - t0;
        }
        t_v += verify_batch(s, false, &n_v);
        t_new += verify_batch(s, true, &n_new);
        t_json += json_batch(s, true, &n_json);
        t_rd += json_batch(s, false, &n_rd);
    }
    double ref = (double)n_ref / t_ref, v = (double)n_v / t_v, vn = (double)n_new / t_new;
    double js = (double)n_json / t_json, rd = (double)n_rd / t_rd, min = (double)n_ref / t_min;
    printf("%s_bound_per_s %.0f (RSA-2048 + %d ECDSA %s)\n", s->name, ref, s->hw_n,
           s->hw_n == 1 ? "P-384" : "P-256");
    printf("%s_verify_per_s %.0f\n", s->name, v);
    printf("%s_verify_new_evidence_per_s %.0f (parse memos emptied before each)\n", s->name, vn);
    printf("%s_reader_per_s %.0f (the evidence reader, the %zu-byte document alone, decoded: "
           "%.0f%% of the bound's time)\n", s->name, rd, s->ev.len, 100.0 * ref / rd);
    printf("%s_jansson_parse_per_s %.0f (reference: jansson's parse of the same document: %.0f%% "
           "of the bound's time)\n", s->name, js, 100.0 * ref / js);
    if (s->hw_n > 1) /* the QE report signature of a known platform is remembered (intel) */
        printf("%s_min_per_s %.0f (RSA-2048 + 1 ECDSA: the signatures a new quote from a known "
               "platform needs)\n", s->name, min);
    /* nothing but those signatures and the reader */
    printf("%s_new_ceiling: %.1f%% of the bound\n", s->name, 100.0 / (1.0 / min + 1.0 / rd) / ref);
    *ratio = 100.0 * v / ref;
    *ratio_new = 100.0 * vn / ref;
}

int main(int argc, char **argv)
{
    double secs = argc > 1 ? strtod(argv[1], NULL) : 3.0;
    if (secs <= 0)
        secs = 3.0;
    if (vti_registry_init(NULL).err)
        die("registry");
    struct vt_buf n_snp = VT_BUF_INIT, n_tdx = VT_BUF_INIT;
    static const char ns[] = "982f5c6e45df0ed3f10b6f60b02f0c8390e281300f3805e2279c16168cd6ae9a"
                             "a398f647caa2338748cd0fd9f5f819ef";
    if (vti_hex_decode(ns, strlen(ns), &n_snp).err || vti_hex_decode("6368616c6c656e6765", 18, &n_tdx).err)
        die("nonce");
    const char *base = getenv("VERITEE_TESTDATA");
    char chain[1024];
    snprintf(chain, sizeof(chain), "%s/snp/ask_ark_milan.pem", base && *base ? base : "../shared/testdata");
    static struct side snp, tdx;
    setup(&snp, "az-snp-vtpm", "azure/trustee_az_snp_vtpm_evidence_v2.json", chain,
          "2025-01-29T16:33:43Z", &n_snp);
    snp_bound(&snp);
    setup(&tdx, "az-tdx-vtpm", "azure/trustee_az_tdx_vtpm_evidence_v1.json", tdx_dir(),
          "2025-10-19T19:00:00Z", &n_tdx);
    tdx_bound(&tdx);
    double rs, rsn, rt, rtn;
    measure(&snp, secs, &rs, &rsn);
    measure(&tdx, secs, &rt, &rtn);
    printf("ratio az_snp_vtpm: %.1f%% (target >= 70%%)\n", rs);
    printf("ratio az_tdx_vtpm: %.1f%% (target >= 70%%)\n", rt);
    printf("ratio az_snp_vtpm_new: %.1f%% (target >= 70%%)\n", rsn);
    printf("ratio az_tdx_vtpm_new: %.1f%% (target >= 70%%)\n", rtn);
    return 0;
}
