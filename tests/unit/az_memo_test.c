/* SPDX-License-Identifier: Apache-2.0 */
/*
 * az_memo_test.c - the memos of the Azure verifiers' parses (src/verifiers/az_memo.c) never
 * turn a changed input into the cached result: the real az-tdx-vtpm (v1) and az-snp-vtpm (v2)
 * evidence verifies, the second time from the memos (hits counted); then one character of the
 * evidence is changed, at every 89th byte and inside each field (signature, message, PCRs,
 * HCL report with its variable data, TD quote, VCEK), and each changed evidence gets exactly the
 * verdict and error code it gets with the memos empty, while the original is cached. At the
 * parse level, a changed input that still parses gets its own bytes (AK modulus, TPM
 * signature), not the cached ones; input detection (accepts) answers as without the memo;
 * many threads share the memos (ASan build).
 */
#include <pthread.h>
#include <sys/stat.h>

#include "evidence/hcl.h"
#include "util/codec.h"
#include "verifiers/az_memo.h"
#include "vt_test.h"

struct side {
    const char *verifier;
    struct vt_buf ev;
    char col[700];
    int64_t at;
    struct vt_buf nonce;
};

static struct side tdx, snp;

static int run_as(const struct side *s, const uint8_t *ev, size_t len, const char *verifier)
{
    struct vt_verify_opts o;
    memset(&o, 0, sizeof(o));
    o.collateral = s->col;
    o.at = s->at;
    o.verifier = verifier;
    o.report_data = s->nonce.p;
    o.report_data_len = s->nonce.len;
    vt_report *rep = NULL;
    int rc = vt_verify(&o, ev, len, &rep);
    vt_report_free(rep);
    return rc;
}

static int run(const struct side *s, const uint8_t *ev, size_t len)
{
    return run_as(s, ev, len, s->verifier);
}

static void setup_tdx(void)
{
    static const char *const files[] = {
        "tdx/automata_1025_tcbinfo_tdx_00806f050000.json", "tdx/automata_1025_qeidentity_tdqe.json",
        "tdx/automata_1025_pck_platform_crl.der", "intel-root/root_ca_crl_20250320.der",
        "intel-root/tcb_signing_chain_2025.pem",
    };
    tdx.verifier = "az-tdx-vtpm";
    tdx.ev = vt_testdata_read("azure/trustee_az_tdx_vtpm_evidence_v1.json");
    snprintf(tdx.col, sizeof(tdx.col), "%s/col", vt_test_tmpdir());
    CHECK(mkdir(tdx.col, 0700) == 0);
    for (size_t i = 0; i < VT_ARRAY_LEN(files); i++) {
        char p[800];
        struct vt_buf b = vt_testdata_read(files[i]);
        snprintf(p, sizeof(p), "%s/c%zu", tdx.col, i);
        vt_test_write_file(p, &b);
        vti_buf_free(&b);
    }
    CHECK_OK(vti_time_parse("2025-10-19T19:00:00Z", &tdx.at));
    CHECK_OK(vti_hex_decode("6368616c6c656e6765", 18, &tdx.nonce));
}

static void setup_snp(void)
{
    static const char n[] = "982f5c6e45df0ed3f10b6f60b02f0c8390e281300f3805e2279c16168cd6ae9a"
                            "a398f647caa2338748cd0fd9f5f819ef";
    snp.verifier = "az-snp-vtpm";
    snp.ev = vt_testdata_read("azure/trustee_az_snp_vtpm_evidence_v2.json");
    snprintf(snp.col, sizeof(snp.col), "%s", vt_testdata("snp/ask_ark_milan.pem"));
    CHECK_OK(vti_time_parse("2025-01-29T16:33:43Z", &snp.at));
    CHECK_OK(vti_hex_decode(n, strlen(n), &snp.nonce));
}

/* Another character of the same class (hex digit, base64 letter), or a byte off by one. */
static uint8_t changed(uint8_t c)
{
    if (c == '9' || c == 'z' || c == 'Z')
        return c - 1;
    if ((c >= '0' && c < '9') || (c >= 'a' && c < 'z') || (c >= 'A' && c < 'Z'))
        return c + 1;
    return c ^ 0x01;
}

struct tally {
    int same, refused, total;
};

/* The evidence with byte i changed gets the same code with the original cached as with the
 * memos empty. */
static void one_change(const struct side *s, size_t i, struct tally *t)
{
    struct vt_buf m = VT_BUF_INIT;
    CHECK_OK(vti_buf_append(&m, s->ev.p, s->ev.len));
    m.p[i] = changed(m.p[i]);
    vti_az_memo_flush();
    int cold = run(s, m.p, m.len);
    CHECK_OK(run(s, s->ev.p, s->ev.len)); /* the original, now cached */
    int warm = run(s, m.p, m.len);
    if (warm != cold)
        fprintf(stderr, "%s: byte %zu changed: %d without the memo, %d with it\n", s->verifier,
                i, cold, warm);
    t->same += warm == cold;
    t->refused += cold != VT_OK;
    t->total++;
    vti_buf_free(&m);
}

/* Offset of the value of "key" (its first character after the quote) plus skip, or 0. */
static size_t value_at(const struct vt_buf *b, const char *key, size_t skip)
{
    char k[64];
    snprintf(k, sizeof(k), "\"%s\":", key);
    const char *p = strstr((const char *)b->p, k);
    if (!p)
        return 0;
    p = strchr(p + strlen(k), '"');
    return p && (size_t)(p + 1 - (const char *)b->p) + skip < b->len
               ? (size_t)(p + 1 - (const char *)b->p) + skip
               : 0;
}

static void test_changes(const struct side *s, const char *const *keys, size_t nkeys)
{
    struct vti_az_memo_stats s0, s1;
    vti_az_memo_flush();
    vti_az_memo_stats(&s0);
    CHECK_OK(run(s, s->ev.p, s->ev.len));
    CHECK_OK(run(s, s->ev.p, s->ev.len));
    vti_az_memo_stats(&s1);
    CHECK(s1.ev_hits - s0.ev_hits >= 1 && s1.var_hits - s0.var_hits == 1 &&
          s1.var_misses - s0.var_misses == 1);

    struct tally t = { 0 };
    for (size_t i = 0; i < s->ev.len; i += 89)
        one_change(s, i, &t);
    /* inside each field: near its start, in its middle (the HCL report's variable data lies
     * at about 1/2 of it) and its last character */
    for (size_t k = 0; k < nkeys; k++) {
        size_t at = value_at(&s->ev, keys[k], 8);
        CHECK(at != 0);
        const char *end = at ? strchr((const char *)s->ev.p + at, '"') : NULL;
        size_t len = end ? (size_t)(end - (const char *)s->ev.p) - at + 8 : 0;
        for (size_t f = 0; at && f < 3; f++)
            one_change(s, f == 0 ? at : f == 1 ? at + len / 2 : at + len - 9, &t);
    }
    CHECK(t.same == t.total);
    CHECK(t.refused * 10 >= t.total * 9); /* nearly every change is refused */
    CHECK_OK(run(s, s->ev.p, s->ev.len));
}

/* Input detection: the kind of a cached evidence, of a changed one that still parses and of
 * one that no longer parses (its verifier reports the error) is what it is without the memo. */
static void test_kind(void)
{
    struct vt_buf m = VT_BUF_INIT;
    CHECK_OK(vti_buf_append(&m, tdx.ev.p, tdx.ev.len));
    size_t sig = value_at(&m, "signature", 4);
    vti_az_memo_flush();
    CHECK(vti_az_evidence_kind(tdx.ev.p, tdx.ev.len) == 2);
    CHECK(vti_az_memo_kind(tdx.ev.p, tdx.ev.len) == 2); /* kept for verify() */
    CHECK_OK(run_as(&tdx, tdx.ev.p, tdx.ev.len, NULL));
    m.p[sig] = changed(m.p[sig]);
    CHECK(vti_az_memo_kind(m.p, m.len) == 0);
    CHECK(vti_az_evidence_kind(m.p, m.len) == 2);
    m.p[sig] = 'x'; /* not hex: does not parse, still an az-tdx-vtpm evidence by its keys */
    CHECK(vti_az_evidence_kind(m.p, m.len) == 2);
    CHECK_ERR(run_as(&tdx, m.p, m.len, NULL), VT_ERR_AZ_EVIDENCE_FIELD);
    CHECK(vti_az_evidence_kind(snp.ev.p, snp.ev.len) == 1);
    CHECK(vti_az_evidence_kind((const uint8_t *)"{\"a\":1}", 7) == 0);
    vti_buf_free(&m);
}

/* Parse level: a changed input that parses gets its own values. */
static void test_parse_level(void)
{
    struct vti_az_ev a, b, c;
    struct vt_buf m = VT_BUF_INIT;
    CHECK_OK(vti_buf_append(&m, tdx.ev.p, tdx.ev.len));
    size_t sig = value_at(&m, "signature", 4);
    m.p[sig] = changed(m.p[sig]);
    vti_az_memo_flush();
    CHECK_OK(vti_az_evidence_parse_memo(tdx.ev.p, tdx.ev.len, &a));
    CHECK_OK(vti_az_evidence_parse_memo(m.p, m.len, &b));
    CHECK_OK(vti_az_evidence_parse(m.p, m.len, &c));
    CHECK(b.sig.len == c.sig.len && memcmp(b.sig.p, c.sig.p, c.sig.len) == 0);
    CHECK(a.sig.len == b.sig.len && memcmp(a.sig.p, b.sig.p, b.sig.len) != 0);
    vti_az_evidence_free(&b);
    CHECK_OK(vti_az_evidence_parse_memo(m.p, m.len, &b)); /* from the memo now */
    CHECK(b.sig.len == c.sig.len && memcmp(b.sig.p, c.sig.p, c.sig.len) == 0);
    vti_az_evidence_free(&b);
    vti_az_evidence_free(&c);

    /* the variable data: the AK modulus changed (still parses), and the JSON broken */
    struct vt_hcl_report h;
    CHECK_OK(vti_hcl_report_parse(a.hcl.p, a.hcl.len, &h));
    struct vt_buf var = VT_BUF_INIT;
    CHECK_OK(vti_buf_append(&var, h.var_data, h.var_data_len));
    struct vt_hcl_var_data v0, v1, v2;
    CHECK_OK(vti_hcl_var_data_parse_memo(var.p, var.len, &v0));
    size_t n = value_at(&var, "n", 20);
    CHECK(n != 0);
    var.p[n] = changed(var.p[n]);
    CHECK_OK(vti_hcl_var_data_parse_memo(var.p, var.len, &v1));
    CHECK_OK(vti_hcl_var_data_parse(var.p, var.len, &v2));
    CHECK(v1.ak_n.len == v2.ak_n.len && memcmp(v1.ak_n.p, v2.ak_n.p, v2.ak_n.len) == 0);
    CHECK(v0.ak_n.len == v1.ak_n.len && memcmp(v0.ak_n.p, v1.ak_n.p, v1.ak_n.len) != 0);
    vti_hcl_var_data_free(&v1);
    vti_hcl_var_data_free(&v2);
    var.p[0] = '[';
    CHECK_ERR(vti_hcl_var_data_parse(var.p, var.len, &v1), VT_ERR_HCL_JSON);
    CHECK_ERR(vti_hcl_var_data_parse_memo(var.p, var.len, &v1), VT_ERR_HCL_JSON);
    vti_hcl_var_data_free(&v0);
    vti_buf_free(&var);
    vti_az_evidence_free(&a);
    vti_buf_free(&m);
}

static void *worker(void *arg)
{
    int *bad = arg;
    struct vt_buf m = VT_BUF_INIT;
    if (!vti_is_ok(vti_buf_append(&m, tdx.ev.p, tdx.ev.len)))
        (*bad)++;
    size_t sig = value_at(&m, "signature", 4);
    m.p[sig] = changed(m.p[sig]);
    for (int i = 0; i < 10; i++) {
        if (run(&tdx, tdx.ev.p, tdx.ev.len) != VT_OK || run(&snp, snp.ev.p, snp.ev.len) != VT_OK)
            (*bad)++;
        if (run(&tdx, m.p, m.len) == VT_OK)
            (*bad)++;
        if (i == 5)
            vti_az_memo_flush();
    }
    vti_buf_free(&m);
    return NULL;
}

static void test_threads(void)
{
    pthread_t th[4];
    int bad[4] = { 0 };
    for (int i = 0; i < 4; i++)
        CHECK(pthread_create(&th[i], NULL, worker, &bad[i]) == 0);
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        CHECK(bad[i] == 0);
    }
}

int main(void)
{
    setup_tdx();
    setup_snp();
    static const char *const tk[] = { "signature", "message", "pcrs", "hcl_report", "td_quote" };
    static const char *const sk[] = { "signature", "message", "pcrs", "hcl_report", "vcek" };
    test_changes(&tdx, tk, VT_ARRAY_LEN(tk));
    test_changes(&snp, sk, VT_ARRAY_LEN(sk));
    test_kind();
    test_parse_level();
    test_threads();
    vti_az_memo_flush();
    vti_buf_free(&tdx.ev);
    vti_buf_free(&snp.ev);
    vti_buf_free(&tdx.nonce);
    vti_buf_free(&snp.nonce);
    return vt_test_done();
}
