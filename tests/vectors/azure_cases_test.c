/* SPDX-License-Identifier: Apache-2.0 */
/*
 * azure_cases_test.c - every "azure" case of shared/testdata/cases.json through vt_verify()
 * (evidence kind detected from the JSON, and named): expected verdict, claims (PCRs, nonce,
 * user-data, hardware report fields, TCB status) and nonce; then every refusal with its own
 * code: flipped TPM signature / message / PCR byte, wrong nonce, changed var data, SNP
 * measurement (signature) and VMPL, HCL report type 3, hash type 2, var data past the buffer,
 * v2 user-data without the nonce, a TDREPORT field that differs from the TD quote, a TD quote
 * signature byte, evidence of the other kind, and a time before the VCEK.
 * Mutations are applied to the decoded parts and re-encoded in the case's own JSON shape.
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "util/codec.h"
#include "vt_test.h"

struct cs {
    const char *id;
    json_t *c;
    int version;
    bool tdx;
    json_t *ev;           /* the evidence JSON */
    const char *collateral;
    int64_t at;
    struct vt_buf nonce;
};

/* ---- parts of the evidence JSON in any shape ----------------------------------------- */

static json_t *quote_obj(struct cs *s)
{
    return json_object_get(s->ev, s->version == 0 && !s->tdx ? "quote" : "tpm_quote");
}

static json_t **slot(struct cs *s, const char *part, json_t **parent, const char **key)
{
    static json_t *v;
    *parent = NULL;
    if (strcmp(part, "sig") == 0 || strcmp(part, "msg") == 0) {
        *parent = quote_obj(s);
        *key = part[0] == 's' ? "signature" : "message";
    } else if (strcmp(part, "hcl") == 0) {
        *parent = s->ev;
        *key = s->version == 0 && !s->tdx ? "report" : "hcl_report";
    } else if (strcmp(part, "td_quote") == 0) {
        *parent = s->ev;
        *key = "td_quote";
    }
    v = *parent ? json_object_get(*parent, *key) : NULL;
    return &v;
}

static struct vt_buf decode(struct cs *s, json_t *v, bool b64)
{
    struct vt_buf b = VT_BUF_INIT;
    if (json_is_array(v)) {
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e) {
            if (!vti_is_ok(vti_buf_u8(&b, (uint8_t)json_integer_value(e))))
                CHECK(!"out of memory");
        }
    } else if (b64) {
        CHECK_OK(vti_b64_decode(json_string_value(v), json_string_length(v), true, &b));
    } else {
        CHECK_OK(vti_hex_decode(json_string_value(v), json_string_length(v), &b));
    }
    return b;
}

static json_t *encode(struct cs *s, const struct vt_buf *b, bool b64)
{
    if (s->version == 0) {
        json_t *a = json_array();
        for (size_t i = 0; i < b->len; i++)
            json_array_append_new(a, json_integer(b->p[i]));
        return a;
    }
    struct vt_buf t = VT_BUF_INIT;
    if (b64)
        CHECK_OK(vti_b64_encode(b->p, b->len, true, &t));
    else
        CHECK_OK(vti_hex_append(&t, b->p, b->len));
    json_t *r = json_stringn((const char *)t.p, t.len);
    vti_buf_free(&t);
    return r;
}

static bool is_b64(const char *part) { return strcmp(part, "hcl") == 0 || strcmp(part, "td_quote") == 0; }

static struct vt_buf get_part(struct cs *s, const char *part)
{
    json_t *parent;
    const char *key;
    return decode(s, *slot(s, part, &parent, &key), is_b64(part));
}

static void set_part(struct cs *s, const char *part, const struct vt_buf *b)
{
    json_t *parent;
    const char *key;
    slot(s, part, &parent, &key);
    json_object_set_new(parent, key, encode(s, b, is_b64(part)));
}

static void set_u32le(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* ---- running ----------------------------------------------------------------------------- */

static int run(struct cs *s, const char *verifier, const uint8_t *nonce, size_t nlen, int64_t at,
               vt_report **ret)
{
    char *txt = json_dumps(s->ev, JSON_COMPACT);
    struct vt_verify_opts o;
    memset(&o, 0, sizeof(o));
    o.collateral = s->collateral;
    o.at = at;
    o.verifier = verifier;
    o.report_data = nonce;
    o.report_data_len = nlen;
    vt_report *rep = NULL;
    int rc = vt_verify(&o, (const uint8_t *)txt, strlen(txt), &rep);
    free(txt);
    if (ret)
        *ret = rep;
    else
        vt_report_free(rep);
    return rc;
}

static int run_default(struct cs *s) { return run(s, NULL, s->nonce.p, s->nonce.len, s->at, NULL); }

static json_t *reload(struct cs *s)
{
    json_decref(s->ev);
    const char *f = json_string_value(json_object_get(json_object_get(s->c, "files"), "evidence"));
    struct vt_buf b = vt_testdata_read(f);
    s->ev = json_loadb((const char *)b.p, b.len, 0, NULL);
    vti_buf_free(&b);
    CHECK(s->ev != NULL);
    return s->ev;
}

/* Mutate one byte of a part (xor, or set when set >= 0), expect code, restore. */
static void mutate(struct cs *s, const char *part, size_t off, int x, int set, int want)
{
    struct vt_buf b = get_part(s, part);
    CHECK(off < b.len);
    if (off < b.len) {
        b.p[off] = set >= 0 ? (uint8_t)set : (uint8_t)(b.p[off] ^ x);
        set_part(s, part, &b);
        int rc = run_default(s);
        if (rc != want)
            fprintf(stderr, "  case %s: %s[%zu]: got %s want %s\n", s->id, part, off,
                    vt_errname(rc), vt_errname(want));
        CHECK_ERR(rc, want);
    }
    vti_buf_free(&b);
    reload(s);
}

static void mutate_pcr8(struct cs *s)
{
    json_t *pcrs = json_object_get(quote_obj(s), "pcrs");
    struct vt_buf b = decode(s, json_array_get(pcrs, 8), false);
    b.p[0] ^= 1;
    json_array_set_new(pcrs, 8, encode(s, &b, false));
    vti_buf_free(&b);
    CHECK_ERR(run_default(s), VT_ERR_TPM_PCR_DIGEST_MISMATCH);
    reload(s);
}

/* The HCL report with a change applied by fn, expecting want. */
static void mutate_hcl(struct cs *s, void (*fn)(struct vt_buf *), int want)
{
    struct vt_buf b = get_part(s, "hcl");
    fn(&b);
    set_part(s, "hcl", &b);
    vti_buf_free(&b);
    int rc = run_default(s);
    if (rc != want)
        fprintf(stderr, "  case %s: got %s want %s\n", s->id, vt_errname(rc), vt_errname(want));
    CHECK_ERR(rc, want);
    reload(s);
}

static void user_data_char(struct vt_buf *b)
{
    static const char key[] = "\"user-data\":\"";
    for (size_t i = 0x4D4; i + sizeof(key) < b->len; i++) {
        if (memcmp(b->p + i, key, sizeof(key) - 1) == 0) {
            uint8_t *c = b->p + i + sizeof(key) - 1;
            *c = *c == '0' ? '1' : '0';
            return;
        }
    }
    CHECK(!"user-data not found");
}
static void hash_type_2(struct vt_buf *b) { set_u32le(b->p + 0x4CC, 2); }
static void report_type_3(struct vt_buf *b) { set_u32le(b->p + 0x4C8, 3); }
static void report_type_other(struct vt_buf *b)
{
    set_u32le(b->p + 0x4C8, b->p[0x4C8] == 2 ? 4 : 2);
}
static void var_past_end(struct vt_buf *b)
{
    uint32_t n = (uint32_t)(b->len - 0x4D4 + 1);
    set_u32le(b->p + 0x4C0, 20 + n);
    set_u32le(b->p + 0x4D0, n);
}
static void tdreport_mrtd(struct vt_buf *b) { b->p[0x20 + 528] ^= 1; }

/* ---- expectations -------------------------------------------------------------------- */

static const char *jstr(json_t *o, const char *k) { return json_string_value(json_object_get(o, k)); }

static void check_bytes_claim(vt_report *rep, const char *name, const char *hex)
{
    const struct vt_claim *c = vt_claims_get(vt_report_claims(rep), name);
    CHECK(c && c->type == VT_CLAIM_BYTES);
    if (!c || !hex)
        return;
    char got[2 * 128 + 1];
    CHECK(c->n * 2 == strlen(hex) && c->n <= 128);
    if (c->n <= 128) {
        vti_hex_encode(c->p, c->n, got);
        CHECK(strcasecmp(got, hex) == 0); /* cases.json keeps user-data's upper case */
        if (strcasecmp(got, hex) != 0)
            fprintf(stderr, "  claim %s: %s != %s\n", name, got, hex);
    }
}

static void check_valid(struct cs *s)
{
    vt_report *rep = NULL;
    const char *kind = jstr(s->c, "kind");
    CHECK_OK(run(s, NULL, s->nonce.p, s->nonce.len, s->at, &rep));
    CHECK(rep && strcmp(vt_report_tee(rep), kind) == 0);
    CHECK(rep && !vt_report_insecure(rep));
    json_t *q = json_object_get(s->c, "tpm_quote"), *h = json_object_get(s->c, "hcl_report");
    check_bytes_claim(rep, "tpm.nonce", jstr(json_object_get(s->c, "expect"), "nonce_hex"));
    check_bytes_claim(rep, "hcl.user_data", jstr(h, "user_data"));
    json_t *pcrs = json_object_get(q, "pcrs_sha256");
    for (size_t i = 0; i < 24; i++) {
        char n[16];
        snprintf(n, sizeof(n), "pcr.%zu", i);
        check_bytes_claim(rep, n, json_string_value(json_array_get(pcrs, i)));
    }
    const struct vt_claim *c = vt_claims_get(vt_report_claims(rep), "hcl.vm_configuration.secure-boot");
    CHECK(c && c->type == VT_CLAIM_BOOL);
    if (s->tdx) {
        json_t *t = json_object_get(s->c, "tdreport_in_hcl");
        check_bytes_claim(rep, "mr_td", jstr(t, "mrtd"));
        check_bytes_claim(rep, "rtmr0", jstr(t, "rtmr0"));
        check_bytes_claim(rep, "report_data", jstr(t, "report_data"));
        CHECK(vt_report_tcb_status(rep) && strcmp(vt_report_tcb_status(rep), "OutOfDate") == 0);
    } else {
        json_t *r = json_object_get(s->c, "snp_report");
        check_bytes_claim(rep, "measurement", jstr(r, "measurement"));
        check_bytes_claim(rep, "report_data", jstr(r, "report_data"));
        check_bytes_claim(rep, "chip_id", jstr(r, "chip_id"));
    }
    vt_report_free(rep);
    /* named verifier; no nonce (extraData reported, not compared) */
    CHECK_OK(run(s, kind, s->nonce.p, s->nonce.len, s->at, NULL));
    CHECK_OK(run(s, NULL, NULL, 0, s->at, NULL));
    CHECK_ERR(run(s, s->tdx ? "az-snp-vtpm" : "az-tdx-vtpm", s->nonce.p, s->nonce.len, s->at, NULL),
              VT_ERR_UNKNOWN_EVIDENCE);
}

static size_t clock_low_byte(struct cs *s)
{
    struct vt_buf m = get_part(s, "msg");
    size_t off = 6, name = (size_t)(m.p[6] << 8 | m.p[7]);
    off += 2 + name;
    size_t extra = (size_t)(m.p[off] << 8 | m.p[off + 1]);
    off += 2 + extra + 7;
    vti_buf_free(&m);
    return off;
}

static void check_negatives(struct cs *s)
{
    mutate(s, "sig", 10, 1, -1, VT_ERR_TPM_QUOTE_SIGNATURE);
    mutate(s, "msg", clock_low_byte(s), 1, -1, VT_ERR_TPM_QUOTE_SIGNATURE);
    mutate_pcr8(s);
    struct vt_buf n = VT_BUF_INIT;
    CHECK_OK(vti_buf_append(&n, s->nonce.p, s->nonce.len));
    n.p[n.len - 1] ^= 1;
    CHECK_ERR(run(s, NULL, n.p, n.len, s->at, NULL), VT_ERR_TPM_NONCE_MISMATCH);
    vti_buf_free(&n);
    mutate_hcl(s, user_data_char, VT_ERR_AZ_VAR_DATA_BINDING);
    mutate_hcl(s, report_type_3, VT_ERR_HCL_REPORT_TYPE);
    mutate_hcl(s, report_type_other, VT_ERR_AZ_KIND_MISMATCH);
    mutate_hcl(s, hash_type_2, VT_ERR_HCL_HASH_TYPE);
    mutate_hcl(s, var_past_end, VT_ERR_HCL_VAR_DATA_BOUNDS);
    if (s->tdx) {
        mutate(s, "td_quote", 48 + 424, 1, -1, VT_ERR_AZ_TDREPORT_MISMATCH);
        mutate(s, "td_quote", 48 + 584 + 4 + 7, 1, -1, VT_ERR_INTEL_QUOTE_SIGNATURE);
        mutate_hcl(s, tdreport_mrtd, VT_ERR_AZ_TDREPORT_MISMATCH);
    } else {
        mutate(s, "hcl", 0x20 + 0x90, 1, -1, VT_ERR_SNP_SIGNATURE);
        mutate(s, "hcl", 0x20 + 0x30, 0, 1, VT_ERR_AZ_VMPL);
        json_t *w = json_object_get(s->c, "valid_window");
        int64_t nb = 0;
        CHECK_OK(vti_time_parse(json_string_value(json_array_get(w, 0)), &nb));
        CHECK(run(s, NULL, s->nonce.p, s->nonce.len, nb - 1, NULL) != VT_OK);
    }
    if (s->version == 1) { /* v1 relabelled v2: user-data (zeros) lacks the nonce */
        json_object_set_new(s->ev, "version", json_integer(2));
        CHECK_ERR(run_default(s), VT_ERR_AZ_USER_DATA_NONCE);
        json_object_set_new(s->ev, "version", json_integer(3));
        CHECK_ERR(run(s, json_string_value(json_object_get(s->c, "kind")), s->nonce.p,
                      s->nonce.len, s->at, NULL), VT_ERR_AZ_EVIDENCE_VERSION);
        reload(s);
    }
}

/* The DCAP collateral of intel case tdx-trustee-azure-v4-00806f050000 in one directory. */
static const char *tdx_collateral(void)
{
    static char dir[512];
    static const char *const f[] = {
        "tdx/automata_1025_tcbinfo_tdx_00806f050000.json", "tdx/automata_1025_qeidentity_tdqe.json",
        "tdx/automata_1025_pck_platform_crl.der", "intel-root/root_ca_crl_20250320.der",
        "intel-root/tcb_signing_chain_2025.pem",
    };
    snprintf(dir, sizeof(dir), "%s/az-tdx", vt_test_tmpdir());
    mkdir(dir, 0700);
    for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
        char p[700];
        struct vt_buf b = vt_testdata_read(f[i]);
        snprintf(p, sizeof(p), "%s/c%zu", dir, i);
        vt_test_write_file(p, &b);
        vti_buf_free(&b);
    }
    return dir;
}

static void one_case(json_t *c)
{
    struct cs s = { .c = c, .id = jstr(c, "id") };
    const char *kind = jstr(c, "kind");
    s.tdx = strcmp(kind, "az-tdx-vtpm") == 0;
    s.version = (int)json_integer_value(json_object_get(c, "evidence_version"));
    CHECK_OK(vti_time_parse(jstr(c, "verify_at"), &s.at));
    CHECK_OK(vti_hex_decode(jstr(json_object_get(c, "expect"), "nonce_hex"),
                           strlen(jstr(json_object_get(c, "expect"), "nonce_hex")), &s.nonce));
    static char chain[512]; /* vt_testdata's buffer is reused */
    snprintf(chain, sizeof(chain), "%s", vt_testdata(jstr(json_object_get(c, "vcek"), "ca_chain")));
    s.collateral = s.tdx ? tdx_collateral() : chain;
    if (!reload(&s))
        return;
    fprintf(stderr, "case %s\n", s.id);
    check_valid(&s);
    check_negatives(&s);
    json_decref(s.ev);
    vti_buf_free(&s.nonce);
}

int main(void)
{
    json_t *cases = vt_test_cases();
    if (!cases)
        return vt_test_done();
    json_t *az = json_object_get(cases, "azure"), *c;
    size_t i, n = 0;
    json_array_foreach(az, i, c) {
        const char *kind = jstr(c, "kind");
        if (strcmp(kind, "az-snp-vtpm") == 0 || strcmp(kind, "az-tdx-vtpm") == 0) {
            one_case(c);
            n++;
        }
    }
    CHECK(n == 6);
    json_decref(cases);
    return vt_test_done();
}
