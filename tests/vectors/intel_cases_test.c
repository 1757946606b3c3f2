/* SPDX-License-Identifier: Apache-2.0 */
/*
 * intel_cases_test.c - every "intel" case of shared/testdata/cases.json through the Intel
 * verifier (ops called directly), expectations read from cases.json at run time: header
 * fields (parser), body claims, FMSPC, TCB status (platform and final), advisory IDs, TCB
 * date, QE TCB status, TDX module status, debug; no matching level -> TCB_NOT_SUPPORTED.
 * One second outside collateral_valid_window fails as not yet valid / expired; the window
 * edges themselves pass. Also the "quote_verification" parts of the "ratls" cases, using the
 * quote inside the certificate's CBOR evidence.
 */
#include <jansson.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "util/cbor.h"
#include "core/instance.h"
#include "core/report.h"
#include "crypto/crypto.h"
#include "endorsements/intel_collateral.h"
#include "evidence/intel_quote.h"
#include "util/codec.h"
#include "verifiers/intel_verify.h"
#include "vt_test.h"

static const struct vt_verifier_ops *V;

static int run(const uint8_t *ev, size_t len, const char *collateral,
               const struct vt_intel_collateral *col, int64_t at, struct vt_report **ret)
{
    struct vt_verify_opts opts;
    memset(&opts, 0, sizeof(opts));
    opts.collateral = collateral;
    struct vti_verify_ctx ctx = { .opts = &opts, .at = at };
    struct vt_report *rep = vti_report_new();
    vt_res r = col ? vti_intel_verify_with(&ctx, col, ev, len, rep) : V->verify(&ctx, ev, len, rep);
    if (ret)
        *ret = rep;
    else
        vt_report_free(rep);
    return r.err;
}

/* pcs-files: the case's pieces in a directory under meaningless names (content decides). */
static const char *pcs_dir(const char *id, json_t *coll)
{
    static char dir[512];
    snprintf(dir, sizeof(dir), "%s/%s", vt_test_tmpdir(), id);
    mkdir(dir, 0700);
    const char *k;
    json_t *v;
    int i = 0;
    json_object_foreach(coll, k, v) {
        if (!json_is_string(v) || strcmp(k, "format") == 0)
            continue;
        struct vt_buf b = vt_testdata_read(json_string_value(v));
        char p[700];
        snprintf(p, sizeof(p), "%s/piece%d.bin", dir, i++);
        vt_test_write_file(p, &b);
        vti_buf_free(&b);
    }
    return dir;
}

static const struct vt_claim *claim(struct vt_report *rep, const char *n)
{
    return vt_claims_get(&rep->claims, n);
}

static void check_str(struct vt_report *rep, const char *name, const char *want)
{
    const struct vt_claim *c = claim(rep, name);
    CHECK(c != NULL);
    if (!c)
        return fprintf(stderr, "  claim %s missing\n", name), (void)0;
    char hex[300] = "";
    const char *got = c->s;
    if (c->type == VT_CLAIM_BYTES) {
        vti_hex_encode(c->p, c->n < 140 ? c->n : 140, hex);
        got = hex;
    }
    bool ok = got && strcasecmp(got, want) == 0;
    CHECK(ok);
    if (!ok)
        fprintf(stderr, "  claim %s: %s != %s\n", name, got ? got : "(null)", want);
}

static void check_int(struct vt_report *rep, const char *name, json_int_t want)
{
    const struct vt_claim *c = claim(rep, name);
    CHECK(c && c->type == VT_CLAIM_INT && c->i == want);
    if (!c || c->i != want)
        fprintf(stderr, "  claim %s: want %lld\n", name, (long long)want);
}

static const char *body_claim(const char *k)
{
    static const char *const map[][2] = {
        { "cpusvn", "cpu_svn" }, { "miscselect", "misc_select" }, { "mrenclave", "mr_enclave" },
        { "mrsigner", "mr_signer" }, { "isvprodid", "isv_prod_id" }, { "isvsvn", "isv_svn" },
        { "reportdata", "report_data" }, { "mrseam", "mr_seam" },
        { "mrsignerseam", "mr_signer_seam" }, { "seamattributes", "seam_attributes" },
        { "tdattributes", "td_attributes" }, { "mrtd", "mr_td" }, { "mrconfigid", "mr_config_id" },
        { "mrowner", "mr_owner" }, { "mrownerconfig", "mr_owner_config" },
        { "mrservicetd", "mr_service_td" },
    };
    for (size_t i = 0; i < VT_ARRAY_LEN(map); i++)
        if (strcmp(map[i][0], k) == 0)
            return map[i][1];
    return k;
}

static void check_expect(struct vt_report *rep, json_t *exp)
{
    const char *fin = json_string_value(json_object_get(exp, "final_status_intel_qvl_rules"));
    check_str(rep, "tcb_status", fin);
    CHECK(strcmp(vt_report_tcb_status(rep), fin) == 0);
    json_t *p = json_object_get(exp, "platform_tcb_level_status");
    if (json_is_string(p))
        check_str(rep, "platform_tcb_status", json_string_value(p));
    p = json_object_get(exp, "platform_tcb_date");
    if (json_is_string(p))
        check_str(rep, "tcb_date", json_string_value(p));
    check_str(rep, "qe_tcb_status", json_string_value(json_object_get(exp, "qe_tcb_status")));
    p = json_object_get(exp, "fmspc");
    if (json_is_string(p))
        check_str(rep, "fmspc", json_string_value(p));
    p = json_object_get(exp, "pck_crl_issuer");
    if (json_is_string(p))
        check_str(rep, "pck_issuer", json_string_value(p));
    p = json_object_get(exp, "tdx_module_tcb_status");
    if (json_is_string(p))
        check_str(rep, "tdx_module_tcb_status", json_string_value(p));
    p = json_object_get(exp, "debug");
    if (json_is_boolean(p)) {
        const struct vt_claim *c = claim(rep, "debug");
        CHECK(c && c->type == VT_CLAIM_BOOL && c->b == json_is_true(p));
    }
    json_t *adv = json_object_get(exp, "advisory_ids");
    const struct vt_claim *c = claim(rep, "advisory_ids");
    CHECK(c && c->type == VT_CLAIM_STRLIST && c->n == json_array_size(adv));
    for (size_t i = 0; c && i < c->n && i < json_array_size(adv); i++) {
        bool found = false;
        for (size_t j = 0; j < json_array_size(adv); j++)
            found = found || strcmp(c->list[i], json_string_value(json_array_get(adv, j))) == 0;
        CHECK(found);
        if (!found)
            fprintf(stderr, "  unexpected advisory %s\n", c->list[i]);
    }
}

static bool is_nyv(int e)
{
    return e == VT_ERR_INTEL_CERT_NOT_YET_VALID || e == VT_ERR_INTEL_CRL_NOT_YET_VALID ||
           e == VT_ERR_INTEL_TCB_INFO_NOT_YET_VALID || e == VT_ERR_INTEL_QE_IDENTITY_NOT_YET_VALID;
}

static bool is_expired(int e)
{
    return e == VT_ERR_INTEL_CERT_EXPIRED || e == VT_ERR_INTEL_CRL_EXPIRED ||
           e == VT_ERR_INTEL_TCB_INFO_EXPIRED || e == VT_ERR_INTEL_QE_IDENTITY_EXPIRED;
}

static int64_t t_of(json_t *s)
{
    int64_t t = 0;
    if (!vti_is_ok(vti_time_parse(json_string_value(s), &t)))
        exit(2);
    return t;
}

static void check_header(const struct vt_buf *qb, json_t *h)
{
    struct vt_intel_quote q;
    CHECK_OK(vt_intel_quote_parse(qb->p, qb->len, &q));
    CHECK(q.version == json_integer_value(json_object_get(h, "version")));
    CHECK(q.att_key_type == json_integer_value(json_object_get(h, "att_key_type")));
    CHECK(q.sig_data_len == json_integer_value(json_object_get(h, "sig_data_len")));
    CHECK(q.trailing_len ==
          (size_t)json_integer_value(json_object_get(h, "trailing_bytes_after_sig_data")));
    CHECK(q.qe_auth_len == json_integer_value(json_object_get(h, "qe_auth_data_len")));
    CHECK(q.outer_cert_type == json_integer_value(json_object_get(h, "cert_data_type")));
    json_t *inner = json_object_get(h, "inner_cert_data_type");
    if (json_is_integer(inner))
        CHECK(q.cert_type == json_integer_value(inner));
    if (q.version == 3) {
        CHECK(q.qe_svn == json_integer_value(json_object_get(h, "qe_svn")));
        CHECK(q.pce_svn == json_integer_value(json_object_get(h, "pce_svn")));
    }
    json_t *bt = json_object_get(h, "v5_body_type");
    if (json_is_integer(bt))
        CHECK((int)q.body_type == json_integer_value(bt));
}

static void one_case(json_t *c)
{
    const char *id = json_string_value(json_object_get(c, "id"));
    fprintf(stderr, "case %s\n", id);
    struct vt_buf qb = vt_testdata_read(json_string_value(json_object_get(c, "quote")));
    CHECK(qb.len == (size_t)json_integer_value(json_object_get(c, "quote_size")));
    check_header(&qb, json_object_get(c, "header"));
    json_t *coll = json_object_get(c, "collateral");
    const char *fmt = json_string_value(json_object_get(coll, "format"));
    const char *path = NULL;
    struct vt_intel_collateral col = { 0 }, *colp = NULL;
    if (strcmp(fmt, "pcs-files") == 0) {
        path = pcs_dir(id, coll);
    } else {
        path = vt_testdata(json_string_value(json_object_get(coll, "file")));
        json_t *ov = json_object_get(coll, "override_tcb_info_with");
        if (ov) {
            CHECK_OK(vti_intel_collateral_load_path(path, &col));
            struct vt_buf o = vt_testdata_read(json_string_value(ov));
            bool rec = false;
            CHECK_ERR(vti_intel_collateral_add_piece(&col, o.p, o.len, false, &rec),
                      VT_ERR_INTEL_COLLATERAL_DUP);
            CHECK_OK(vti_intel_collateral_add_piece(&col, o.p, o.len, true, &rec));
            CHECK(rec);
            vti_buf_free(&o);
            colp = &col;
        }
    }
    json_t *exp = json_object_get(c, "expect");
    const char *fin = json_string_value(json_object_get(exp, "final_status_intel_qvl_rules"));
    bool nomatch = strncmp(fin, "TCB_NOT_SUPPORTED", 17) == 0;
    int want = nomatch ? VT_ERR_INTEL_TCB_NOT_SUPPORTED : VT_OK;
    int64_t at = t_of(json_object_get(c, "verify_at"));
    struct vt_report *rep = NULL;
    CHECK_ERR(run(qb.p, qb.len, path, colp, at, &rep), want);
    CHECK(!rep->insecure);
    /* claims of the body */
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(c, "body"), k, v) {
        if (json_is_integer(v))
            check_int(rep, body_claim(k), json_integer_value(v));
        else
            check_str(rep, body_claim(k), json_string_value(v));
    }
    if (!nomatch)
        check_expect(rep, exp);
    else
        check_str(rep, "qe_tcb_status", json_string_value(json_object_get(exp, "qe_tcb_status")));
    CHECK(rep->has_report_data);
    vt_report_free(rep);

    /* the validity window: edges pass, one second outside fails with a time code */
    json_t *w = json_object_get(c, "collateral_valid_window");
    int64_t lo = t_of(json_array_get(w, 0)), hi = t_of(json_array_get(w, 1));
    CHECK_ERR(run(qb.p, qb.len, path, colp, lo, NULL), want);
    CHECK_ERR(run(qb.p, qb.len, path, colp, hi, NULL), want);
    int e = run(qb.p, qb.len, path, colp, lo - 1, NULL);
    CHECK(is_nyv(e));
    if (!is_nyv(e))
        fprintf(stderr, "  at lo-1: %s\n", vt_errname(e));
    e = run(qb.p, qb.len, path, colp, hi + 1, NULL);
    CHECK(is_expired(e));
    if (!is_expired(e))
        fprintf(stderr, "  at hi+1: %s\n", vt_errname(e));
    /* without collateral: claims, then a distinct error */
    rep = NULL;
    CHECK_ERR(run(qb.p, qb.len, NULL, NULL, at, &rep), VT_ERR_INTEL_NO_COLLATERAL);
    CHECK(rep->has_report_data && claim(rep, "report_data") != NULL);
    vt_report_free(rep);
    vti_intel_collateral_free(&col);
    vti_buf_free(&qb);
}

/* The quote inside an RA-TLS certificate: tag(60000)([bstr quote, bstr claims]). */
static void ratls_case(json_t *c)
{
    json_t *qv = json_object_get(c, "quote_verification");
    if (!json_is_object(qv))
        return;
    const char *id = json_string_value(json_object_get(c, "id"));
    fprintf(stderr, "ratls case %s\n", id);
    struct vt_buf pem = vt_testdata_read(json_string_value(json_object_get(c, "cert")));
    struct vt_pem_list l = { 0 };
    CHECK_OK(vti_pem_decode(pem.p, pem.len, "CERTIFICATE", &l));
    const unsigned char *q = l.der[0].p;
    X509 *x = d2i_X509(NULL, &q, (long)l.der[0].len);
    CHECK(x != NULL);
    ASN1_OBJECT *obj = OBJ_txt2obj("2.23.133.5.4.9", 1);
    int idx = X509_get_ext_by_OBJ(x, obj, -1);
    CHECK(idx >= 0);
    ASN1_OCTET_STRING *os = X509_EXTENSION_get_data(X509_get_ext(x, idx));
    struct vt_cur cur = vti_cur_init(ASN1_STRING_get0_data(os), (size_t)ASN1_STRING_length(os));
    uint64_t tag = 0, n = 0;
    const uint8_t *quote = NULL;
    size_t qlen = 0;
    CHECK_OK(vti_cbor_tag(&cur, &tag));
    CHECK_OK(vti_cbor_array(&cur, &n));
    CHECK_OK(vti_cbor_bstr(&cur, &quote, &qlen));
    CHECK(V->accepts(tag, quote, qlen));
    const char *dir = pcs_dir(id, json_object_get(qv, "collateral"));
    struct vt_report *rep = NULL;
    CHECK_ERR(run(quote, qlen, dir, NULL, t_of(json_object_get(qv, "verify_at")), &rep), VT_OK);
    json_t *exp = json_object_get(c, "evidence");
    check_str(rep, "mr_enclave", json_string_value(json_object_get(exp, "mrenclave")));
    check_str(rep, "report_data", json_string_value(json_object_get(exp, "report_data")));
    check_expect(rep, qv);
    vt_report_free(rep);
    ASN1_OBJECT_free(obj);
    X509_free(x);
    vti_pem_list_free(&l);
    vti_buf_free(&pem);
}

int main(void)
{
    CHECK_OK(vti_registry_init(NULL));
    const struct vt_instance_hdr *h = NULL;
    CHECK_OK(vti_instance_find(VT_KIND_VERIFIER, "intel", &h));
    if (!h)
        return vt_test_done();
    V = (const struct vt_verifier_ops *)h;
    json_t *root = vt_test_cases();
    if (!root)
        return vt_test_done();
    json_t *cases = json_object_get(root, "intel");
    CHECK(json_array_size(cases) > 0);
    for (size_t i = 0; i < json_array_size(cases); i++)
        one_case(json_array_get(cases, i));
    json_t *rc = json_object_get(root, "ratls");
    for (size_t i = 0; i < json_array_size(rc); i++)
        ratls_case(json_array_get(rc, i));
    /* the same cases with the cache off give the same results */
    vti_intel_cache_enable(false);
    for (size_t i = 0; i < json_array_size(cases) && i < 3; i++)
        one_case(json_array_get(cases, i));
    vti_intel_cache_enable(true);
    json_decref(root);
    return vt_test_done();
}
