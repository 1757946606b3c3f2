/* SPDX-License-Identifier: Apache-2.0 */
/*
 * snp_cases_test.c - every SNP case of shared/testdata/cases.json through the SNP verifier
 * (ops called directly), with the expected fields read from cases.json at run time, plus
 * the required rejections: another chip's VCEK, a wrong product line, a TCB that does not
 * match the VCEK, a flipped byte anywhere in the signed region or signature, and times
 * outside the key certificate's validity.
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "core/instance.h"
#include "core/report.h"
#include "endorsements/amd_certs.h"
#include "endorsements/amd_chain.h"
#include "util/codec.h"
#include "vt_test.h"

static const struct vt_verifier_ops *V;

static int verify_with(const uint8_t *ev, size_t len, const char *collateral, int64_t at,
                       const uint8_t *endo, size_t endo_len, const struct vt_option *o, size_t no,
                       struct vt_report **ret)
{
    struct vt_verify_opts opts;
    memset(&opts, 0, sizeof(opts));
    opts.collateral = collateral;
    opts.options = o;
    opts.n_options = no;
    struct vti_verify_ctx ctx = { .opts = &opts, .at = at, .endorsements = endo,
                                  .endorsements_len = endo_len };
    struct vt_report *rep = vti_report_new();
    vt_res r = V->verify(&ctx, ev, len, rep);
    if (ret)
        *ret = rep;
    else
        vt_report_free(rep);
    return r.err;
}

/* A collateral dir holding the case's key cert and chain under meaningless names. */
static const char *case_dir(const char *id, const char *keycert, const char *chain)
{
    static char dir[512];
    char p[600];
    snprintf(dir, sizeof(dir), "%s/%s", vt_test_tmpdir(), id);
    mkdir(dir, 0700);
    struct vt_buf a = vt_testdata_read(keycert), b = vt_testdata_read(chain);
    snprintf(p, sizeof(p), "%s/x1", dir);
    vt_test_write_file(p, &a);
    snprintf(p, sizeof(p), "%s/zz-something.data", dir);
    vt_test_write_file(p, &b);
    vti_buf_free(&a);
    vti_buf_free(&b);
    return dir;
}

static const struct vt_claim *claim(struct vt_report *rep, const char *name)
{
    return vt_claims_get(&rep->claims, name);
}

static void check_str_claim(struct vt_report *rep, const char *name, const char *want)
{
    const struct vt_claim *c = claim(rep, name);
    CHECK(c != NULL);
    if (!c)
        return;
    if (c->type == VT_CLAIM_BYTES) {
        char hex[300];
        CHECK(c->n * 2 < sizeof(hex));
        vti_hex_encode(c->p, c->n, hex);
        CHECK(strcmp(hex, want) == 0);
        if (strcmp(hex, want) != 0)
            fprintf(stderr, "  claim %s: %s != %s\n", name, hex, want);
    } else {
        CHECK(c->type == VT_CLAIM_STRING && strcmp(c->s, want) == 0);
        if (c->type == VT_CLAIM_STRING && strcmp(c->s, want) != 0)
            fprintf(stderr, "  claim %s: %s != %s\n", name, c->s, want);
    }
}

static void check_int_claim(struct vt_report *rep, const char *name, json_int_t want)
{
    const struct vt_claim *c = claim(rep, name);
    CHECK(c != NULL && c->type == VT_CLAIM_INT && c->i == want);
    if (!c || c->i != want)
        fprintf(stderr, "  claim %s: want %lld\n", name, (long long)want);
}

static void check_fields(struct vt_report *rep, json_t *fields)
{
    const char *k;
    json_t *v;
    json_object_foreach(fields, k, v) {
        if (json_is_integer(v)) {
            check_int_claim(rep, k, json_integer_value(v));
        } else if (json_is_string(v)) {
            check_str_claim(rep, k, json_string_value(v));
        } else if (json_is_object(v)) { /* a TCB: raw_u64 + components */
            const char *k2;
            json_t *v2;
            json_object_foreach(v, k2, v2) {
                char n[96];
                if (strcmp(k2, "raw_u64") == 0) {
                    check_str_claim(rep, k, json_string_value(v2));
                } else {
                    snprintf(n, sizeof(n), "%s_%s", k, k2);
                    check_int_claim(rep, n, json_integer_value(v2));
                }
            }
        } else if (json_is_array(v) && strcmp(k, "cpuid_fam_mod_step") == 0) {
            check_int_claim(rep, "cpuid_fam_id", json_integer_value(json_array_get(v, 0)));
            check_int_claim(rep, "cpuid_mod_id", json_integer_value(json_array_get(v, 1)));
            check_int_claim(rep, "cpuid_step", json_integer_value(json_array_get(v, 2)));
        } else {
            fprintf(stderr, "unexpected field %s in cases.json\n", k);
            CHECK(0);
        }
    }
}

/* Bytes whose change only the signature can detect (no reserved bit, no cross-check). */
static bool signature_only(size_t off)
{
    if (off >= 0x04 && off < 0x08) return true;   /* guest_svn */
    if (off >= 0x10 && off < 0x34) return true;   /* family/image id, vmpl */
    if (off >= 0x38 && off < 0x48) return true;   /* current tcb, platform info */
    if (off >= 0x50 && off < 0x180) return true;  /* report data .. report id ma */
    if (off >= 0x1e0 && off < 0x1eb) return true; /* committed tcb, current version */
    if (off >= 0x1ec && off < 0x1ef) return true; /* committed version */
    if (off >= 0x1f0 && off < 0x1f8) return true; /* launch tcb */
    if (off >= 0x2a0 && off < 0x2a0 + 48) return true; /* R */
    if (off >= 0x2e8 && off < 0x2e8 + 48) return true; /* S */
    return false;
}

static void run_case(json_t *c, const char *alldir)
{
    const char *id = json_string_value(json_object_get(c, "id"));
    const char *report = json_string_value(json_object_get(c, "report"));
    const char *keycert = json_string_value(json_object_get(c, "endorsement_key_cert"));
    const char *chain = json_string_value(json_object_get(c, "ca_chain"));
    json_t *expect = json_object_get(c, "expect");
    json_t *validity = json_object_get(c, "endorsement_key_cert_validity");
    int64_t at, nb, na;
    CHECK_OK(vti_time_parse(json_string_value(json_object_get(c, "verify_at")), &at));
    CHECK_OK(vti_time_parse(json_string_value(json_array_get(validity, 0)), &nb));
    CHECK_OK(vti_time_parse(json_string_value(json_array_get(validity, 1)), &na));
    fprintf(stderr, "case %s\n", id);

    struct vt_buf ev = vt_testdata_read(report);
    const struct vt_verifier_ops *ops = NULL;
    const struct vt_instance_hdr *h = NULL;
    CHECK_OK(vti_verifier_for(0, ev.p, ev.len, &ops));
    CHECK(ops == V);
    (void)h;
    const char *dir = case_dir(id, keycert, chain);

    /* the case verifies, with every expected field */
    struct vt_report *rep = NULL;
    int err = verify_with(ev.p, ev.len, dir, at, NULL, 0, NULL, 0, &rep);
    CHECK_ERR(err, VT_OK);
    if (err) {
        for (size_t i = 0; i < rep->nsteps; i++)
            fprintf(stderr, "  [%d] %s\n", rep->steps[i].result, rep->steps[i].text);
    }
    CHECK(!rep->insecure);
    CHECK(rep->has_report_data);
    CHECK(strcmp(rep->tee, "snp") == 0);
    CHECK(rep->tcb_status[0] == 0);
    check_fields(rep, json_object_get(c, "fields"));
    check_str_claim(rep, "signing_key", json_string_value(json_object_get(expect, "signing_key")));
    const struct vt_claim *dbg = claim(rep, "debug");
    CHECK(dbg && dbg->type == VT_CLAIM_BOOL &&
          dbg->b == json_is_true(json_object_get(expect, "debug_allowed_by_policy")));
    vt_report_free(rep);

    /* same with a collateral dir holding every SNP test file (selection by content) */
    vti_amd_chain_cache_clear();
    CHECK_ERR(verify_with(ev.p, ev.len, alldir, at, NULL, 0, NULL, 0, NULL), VT_OK);

    /* same through the certificate table as endorsements, no collateral */
    {
        struct vt_amd_blobs kb = { 0 }, cb = { 0 };
        struct vt_buf k = vt_testdata_read(keycert), ch = vt_testdata_read(chain);
        size_t added;
        CHECK_OK(vti_amd_blobs_add_content(&kb, k.p, k.len, &added));
        CHECK_OK(vti_amd_blobs_add_content(&cb, ch.p, ch.len, &added));
        CHECK(kb.n == 1 && cb.n >= 2);
        bool vlek = strcmp(json_string_value(json_object_get(expect, "signing_key")), "VLEK") == 0;
        struct vt_amd_table_entry e[4] = {
            { vlek ? vt_amd_guid_vlek : vt_amd_guid_vcek, kb.der[0].p, kb.der[0].len },
            { vt_amd_guid_ask, cb.der[0].p, cb.der[0].len },
            { vt_amd_guid_ark, cb.der[cb.n - 1].p, cb.der[cb.n - 1].len },
        };
        size_t ne = 3;
        if (cb.n == 3) /* ask, ark, asvk: ASVK travels as an ASK-GUID entry */
            e[ne++] = (struct vt_amd_table_entry){ vt_amd_guid_ask, cb.der[2].p, cb.der[2].len };
        if (cb.n == 3)
            e[2] = (struct vt_amd_table_entry){ vt_amd_guid_ark, cb.der[1].p, cb.der[1].len };
        struct vt_buf tab = VT_BUF_INIT;
        CHECK_OK(vti_amd_cert_table_build(e, ne, &tab));
        CHECK_ERR(verify_with(ev.p, ev.len, NULL, at, tab.p, tab.len, NULL, 0, NULL), VT_OK);
        /* a truncated table is a distinct error */
        CHECK_ERR(verify_with(ev.p, ev.len, NULL, at, tab.p, tab.len - 1, NULL, 0, NULL),
                  VT_ERR_SNP_CERT_TABLE);
        vti_buf_free(&tab);
        vti_buf_free(&k);
        vti_buf_free(&ch);
        vti_amd_blobs_free(&kb);
        vti_amd_blobs_free(&cb);
    }

    /* outside the key certificate's validity (no cache can mask it) */
    CHECK_ERR(verify_with(ev.p, ev.len, dir, na + 1, NULL, 0, NULL, 0, NULL), VT_ERR_SNP_CERT_EXPIRED);
    CHECK_ERR(verify_with(ev.p, ev.len, dir, nb - 1, NULL, 0, NULL, 0, NULL),
              VT_ERR_SNP_CERT_NOT_YET_VALID);
    CHECK_ERR(verify_with(ev.p, ev.len, dir, na, NULL, 0, NULL, 0, NULL), VT_OK);
    CHECK_ERR(verify_with(ev.p, ev.len, dir, nb, NULL, 0, NULL, 0, NULL), VT_OK);

    /* no certificates at all: claims are still there, then a distinct error */
    rep = NULL;
    CHECK_ERR(verify_with(ev.p, ev.len, NULL, at, NULL, 0, NULL, 0, &rep), VT_ERR_SNP_NO_CERTS);
    CHECK(rep->has_report_data && claim(rep, "measurement") != NULL);
    vt_report_free(rep);

    /* a flipped bit anywhere in the report is rejected; where only the signature covers the
     * byte, with exactly the signature error */
    size_t stride = strcmp(id, "snp-teekit-gcp-milan-v5") == 0 ? 1 : 7;
    size_t bad_accept = 0, wrong_code = 0;
    for (size_t off = 0; off < ev.len; off += stride) {
        ev.p[off] ^= 0x01;
        int e2 = verify_with(ev.p, ev.len, dir, at, NULL, 0, NULL, 0, NULL);
        ev.p[off] ^= 0x01;
        if (e2 == VT_OK) {
            bad_accept++;
            fprintf(stderr, "  flip at 0x%zx accepted\n", off);
        } else if (signature_only(off) && e2 != VT_ERR_SNP_SIGNATURE) {
            wrong_code++;
            fprintf(stderr, "  flip at 0x%zx: %s\n", off, vt_errname(e2));
        }
    }
    CHECK(bad_accept == 0);
    CHECK(wrong_code == 0);
    /* reported TCB changed -> the VCEK does not match it */
    ev.p[0x180] ^= 0x01;
    CHECK_ERR(verify_with(ev.p, ev.len, dir, at, NULL, 0, NULL, 0, NULL), VT_ERR_SNP_TCB_MISMATCH);
    ev.p[0x180] ^= 0x01;
    vti_buf_free(&ev);
}

static void cross_checks(void)
{
    /* another chip's VCEK (same product, valid chain) */
    struct vt_buf ev = vt_testdata_read("snp/virtee_milan_report_v2.bin");
    int64_t at;
    CHECK_OK(vti_time_parse("2023-04-04T00:00:00Z", &at));
    const char *dir = case_dir("other-chip", "snp/gosev_milan_vcek.der", "snp/ask_ark_milan.pem");
    CHECK_ERR(verify_with(ev.p, ev.len, dir, at, NULL, 0, NULL, 0, NULL), VT_ERR_SNP_CHIP_ID_MISMATCH);
    /* wrong product line named by the caller for a v2 report */
    const char *mdir = case_dir("virtee", "snp/virtee_milan_vcek.der", "snp/ask_ark_milan.pem");
    struct vt_option genoa = { "snp.product", "Genoa" }, milan = { "snp.product", "Milan" };
    CHECK_ERR(verify_with(ev.p, ev.len, mdir, at, NULL, 0, &genoa, 1, NULL), VT_ERR_SNP_PRODUCT_MISMATCH);
    CHECK_ERR(verify_with(ev.p, ev.len, mdir, at, NULL, 0, &milan, 1, NULL), VT_OK);
    vti_buf_free(&ev);

    /* wrong product line: a Milan v5 report against the Genoa chain and VCEK */
    ev = vt_testdata_read("snp/teekit_gcp_milan_report_v5.bin");
    CHECK_OK(vti_time_parse("2025-12-06T00:00:00Z", &at));
    dir = case_dir("genoa-for-milan", "snp/trustee_azure_genoa_vcek.pem", "snp/ask_ark_genoa.pem");
    CHECK_ERR(verify_with(ev.p, ev.len, dir, at, NULL, 0, NULL, 0, NULL), VT_ERR_SNP_PRODUCT_MISMATCH);
    /* right VCEK, but the chain of another product */
    dir = case_dir("milan-vcek-genoa-chain", "snp/teekit_gcp_milan_vcek_a.pem", "snp/ask_ark_genoa.pem");
    CHECK_ERR(verify_with(ev.p, ev.len, dir, at, NULL, 0, NULL, 0, NULL), VT_ERR_SNP_NO_ASK);
    /* VCEK-signed report but only a VLEK available */
    dir = case_dir("vlek-only", "snp/trustee_milan_vlek.der", "snp/ask_ark_asvk_milan.pem");
    CHECK_ERR(verify_with(ev.p, ev.len, dir, at, NULL, 0, NULL, 0, NULL), VT_ERR_SNP_NO_KEY_CERT);
    /* the ASK alone without ARK */
    {
        char p[600];
        snprintf(p, sizeof(p), "%s/noark", vt_test_tmpdir());
        mkdir(p, 0700);
        struct vt_amd_blobs cb = { 0 };
        struct vt_buf ch = vt_testdata_read("snp/ask_ark_milan.pem"), k = vt_testdata_read("snp/teekit_gcp_milan_vcek_a.pem");
        size_t added;
        CHECK_OK(vti_amd_blobs_add_content(&cb, ch.p, ch.len, &added));
        char f[700];
        snprintf(f, sizeof(f), "%s/ask.der", p);
        vt_test_write_file(f, &cb.der[0]);
        snprintf(f, sizeof(f), "%s/vcek.pem", p);
        vt_test_write_file(f, &k);
        CHECK_ERR(verify_with(ev.p, ev.len, p, at, NULL, 0, NULL, 0, NULL), VT_ERR_SNP_NO_ARK);
        vti_amd_blobs_free(&cb);
        vti_buf_free(&ch);
        vti_buf_free(&k);
    }
    vti_buf_free(&ev);
}

static void turin_vcek(void)
{
    struct vt_buf d = vt_testdata_read("snp/virtee_turin_vcek.der");
    const unsigned char *q = d.p;
    X509 *x = d2i_X509(NULL, &q, (long)d.len);
    CHECK(x != NULL);
    struct vt_amd_key_ext e;
    CHECK_OK(vti_amd_key_ext_parse(x, &e));
    CHECK(e.product == VT_SNP_PRODUCT_TURIN && e.has_fmc && e.hwid_len == 8);
    enum vt_amd_role role;
    enum vt_snp_product p;
    vti_amd_classify(x, &role, &p);
    CHECK(role == VT_AMD_VCEK && p == VT_SNP_PRODUCT_TURIN);
    /* the Turin TCB layout: fmc, bl, tee, snp at bytes 0..3 */
    uint64_t raw = (uint64_t)e.fmc | ((uint64_t)e.bl << 8) | ((uint64_t)e.tee << 16) |
                   ((uint64_t)e.snp << 24) | ((uint64_t)e.ucode << 56);
    struct vt_snp_tcb t = vti_snp_tcb_split(raw, VT_SNP_PRODUCT_TURIN);
    CHECK(t.fmc == e.fmc && t.bl == e.bl && t.tee == e.tee && t.snp == e.snp && t.ucode == e.ucode);
    X509_free(x);
    vti_buf_free(&d);
}

int main(void)
{
    CHECK_OK(vti_registry_init(NULL));
    const struct vt_instance_hdr *h;
    CHECK_OK(vti_instance_find(VT_KIND_VERIFIER, "snp", &h));
    V = (const struct vt_verifier_ops *)h;
    if (!V)
        return vt_test_done();
    json_t *root = vt_test_cases();
    if (!root)
        return vt_test_done();
    json_t *cases = json_object_get(root, "snp");
    CHECK(json_array_size(cases) >= 8);
    const char *alldir = vt_testdata("snp");
    static char alld[512];
    snprintf(alld, sizeof(alld), "%s", alldir);
    size_t i;
    json_t *c;
    json_array_foreach(cases, i, c) run_case(c, alld);
    cross_checks();
    turin_vcek();
    json_decref(root);
    return vt_test_done();
}
