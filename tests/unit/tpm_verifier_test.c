/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tpm_verifier_test.c - the "tpm" verifier (src/verifiers/tpm.c, tpm_ak.c, tpm_evidence.c)
 * on the real GCE case of cases.json (gotpm_gce_cos85_nonce9009: AK certificate chained to
 * Google's EK/AK roots, quotes of the SHA-1/256/384 banks, its event log) and on Trustee's
 * TPM evidence (pinned AK); then every refusal with its exact code: the case's negatives
 * (one second before notBefore, the wrong intermediate, nonce 0x9008, a flipped quote or
 * signature byte, a changed PCR, a changed event digest) and each link's own code.
 */
#include <jansson.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/report.h"
#include "evidence/eventlog.h"
#include "evidence/tpm.h"
#include "util/codec.h"
#include "evidence/tpm_evidence.h"
#include "vt_test.h"

#define GCE "tpm/gotpm_gce_cos85_nonce9009"
#define GCE_AT 1640995200             /* 2022-01-01T00:00:00Z, the case's verify_at */
#define GCE_NOT_BEFORE 1630451465     /* 2021-08-31T23:11:05Z */

static char root1[4096], inter2[4096], inter3[4096], gce_root_v3[4096];
static const uint8_t nonce9009[2] = { 0x90, 0x09 }, nonce9008[2] = { 0x90, 0x08 };

struct gce {
    struct vt_buf spki, msg, sig, cert, log;
    uint8_t pcrs[24][64];
    size_t pcr_len;
};

static void gce_load(const char *bank, struct gce *g)
{
    char f[256];
    g->spki = vt_testdata_spki_der(GCE "_ak_pub.pem");
    snprintf(f, sizeof(f), GCE "_quote_%s.attest", bank);
    g->msg = vt_testdata_read(f);
    snprintf(f, sizeof(f), GCE "_quote_%s.sig", bank);
    g->sig = vt_testdata_read(f);
    g->cert = vt_testdata_read(GCE "_ak_cert.der");
    g->log = vt_testdata_read(GCE "_eventlog.bin");
    snprintf(f, sizeof(f), "%s/" GCE "_pcrs_%s.json", getenv("VERITEE_TESTDATA") ?
             getenv("VERITEE_TESTDATA") : VT_DEFAULT_TESTDATA, bank);
    json_t *j = json_load_file(f, 0, NULL);
    CHECK(j != NULL);
    for (int i = 0; i < 24; i++) {
        char k[8];
        snprintf(k, sizeof(k), "%d", i);
        const char *h = json_string_value(json_object_get(json_object_get(j, "pcrs"), k));
        CHECK(h != NULL);
        g->pcr_len = h ? strlen(h) / 2 : 0;
        if (h)
            CHECK_OK(vti_hex_decode_fixed(h, g->pcrs[i], g->pcr_len));
    }
    json_decref(j);
}

static void gce_free(struct gce *g)
{
    vti_buf_free_nowipe(&g->spki);
    vti_buf_free_nowipe(&g->msg);
    vti_buf_free_nowipe(&g->sig);
    vti_buf_free_nowipe(&g->cert);
    vti_buf_free_nowipe(&g->log);
}

/* Evidence JSON of g (cert / log left out when with_cert / with_log are false). */
static struct vt_buf gce_json(const struct gce *g, bool with_cert, bool with_log)
{
    struct vti_tpm_ev_in in = {
        .ak_public = g->spki.p, .ak_public_len = g->spki.len, .msg = g->msg.p,
        .msg_len = g->msg.len, .sig = g->sig.p, .sig_len = g->sig.len,
        .ak_cert = with_cert ? g->cert.p : NULL, .ak_cert_len = with_cert ? g->cert.len : 0,
        .event_log = with_log ? g->log.p : NULL, .event_log_len = with_log ? g->log.len : 0,
        .pcrs = (const uint8_t(*)[64])g->pcrs, .n_pcrs = 24, .pcr_len = g->pcr_len,
    };
    struct vt_buf out = VT_BUF_INIT;
    CHECK_OK(vti_tpm_evidence_json(&in, &out));
    return out;
}

struct run {
    const char *roots[2];
    size_t n_roots;
    const char *collateral;
    int64_t at;
    const uint8_t *nonce;
    size_t nonce_len;
    struct vt_option opt[2];
    size_t n_opt;
};

static struct run gce_run(void)
{
    return (struct run){ { root1 }, 1, inter2, GCE_AT, nonce9009, 2, { { 0 } }, 0 };
}

static int verify(const struct run *r, const struct vt_buf *ev, vt_report **rep)
{
    struct vt_verify_opts o = {
        .root_ca_files = r->roots, .n_root_ca_files = r->n_roots, .collateral = r->collateral,
        .at = r->at, .report_data = r->nonce, .report_data_len = r->nonce_len,
        .options = r->opt, .n_options = r->n_opt,
    };
    return vt_verify(&o, ev->p, ev->len, rep);
}

static int verify_code(const struct run *r, const struct vt_buf *ev)
{
    vt_report *rep = NULL;
    int rc = verify(r, ev, &rep);
    vt_report_free(rep);
    return rc;
}

static const struct vt_claim *claim(const vt_report *rep, const char *n)
{
    return vt_claims_get(vt_report_claims(rep), n);
}

static bool claim_hex(const vt_report *rep, const char *n, const char *hex)
{
    const struct vt_claim *c = claim(rep, n);
    char h[129];
    if (!c || c->type != VT_CLAIM_BYTES || c->n * 2 != strlen(hex) || c->n > 64)
        return false;
    vti_hex_encode(c->p, c->n, h);
    return strcmp(h, hex) == 0;
}

/* ---- the GCE case verifies, bank by bank ----------------------------------------------- */

static void test_gce_ok(const json_t *tc)
{
    static const char *const banks[] = { "sha1", "sha256", "sha384" };
    const json_t *rp = json_object_get(json_object_get(tc, "event_log"), "replayed");
    for (size_t b = 0; b < 3; b++) {
        struct gce g;
        gce_load(banks[b], &g);
        struct vt_buf ev = gce_json(&g, true, true);
        struct run r = gce_run();
        vt_report *rep = NULL;
        CHECK_OK(verify(&r, &ev, &rep));
        CHECK(rep && strcmp(vt_report_tee(rep), "tpm") == 0);
        CHECK(claim_hex(rep, "tpm.nonce", "9009"));
        CHECK(claim_hex(rep, "tpm.ak_sha256", json_string_value(json_object_get(
                  json_object_get(tc, "ak"), "spki_sha256"))));
        const char *h0 = json_string_value(json_object_get(json_object_get(rp, banks[b]), "4"));
        CHECK(h0 && claim_hex(rep, "pcr.4", h0));
        const struct vt_claim *c = claim(rep, "tpm.ak_cert.issuer");
        CHECK(c && c->type == VT_CLAIM_STRING && strstr(c->s, "tpm_ek_v1_cloud_host-signer"));
        c = claim(rep, "tpm.ak_cert.subject");
        CHECK(c && c->type == VT_CLAIM_STRING && strcmp(c->s, "") == 0);
        c = claim(rep, "tpm.ak_trust");
        CHECK(c && strcmp(c->s, "certificate") == 0);
        c = claim(rep, "tpm.pcr_bank");
        CHECK(c && strcmp(c->s, banks[b]) == 0);
        c = claim(rep, "eventlog.separators_valid");
        CHECK(c && c->type == VT_CLAIM_BOOL);
        c = claim(rep, "tpm.reset_count");
        CHECK(c && c->type == VT_CLAIM_INT && c->i == 10);
        vt_report_free(rep);
        vti_buf_free_nowipe(&ev);
        gce_free(&g);
    }
}

/* The collateral as a directory holding every Google CA file: the right one is found by content. */
static void test_gce_collateral_dir(void)
{
    struct gce g;
    gce_load("sha256", &g);
    struct vt_buf ev = gce_json(&g, true, false);
    struct run r = gce_run();
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s", vt_testdata("tpm"));
    r.collateral = dir;
    CHECK_OK(verify_code(&r, &ev));
    r.collateral = NULL; /* the intermediate is needed */
    CHECK_ERR(verify_code(&r, &ev), VT_ERR_TPM_AK_CERT_UNTRUSTED);
    vti_buf_free_nowipe(&ev);
    gce_free(&g);
}

/* ---- the case's negatives ------------------------------------------------------------- */

/* The offset of the SHA-256 digest of the first PCR4 event in the log. */
static size_t first_pcr4_sha256(const struct vt_buf *log)
{
    struct vt_evlog l;
    struct vt_evlog_iter it;
    struct vt_evlog_event e;
    CHECK_OK(vti_evlog_parse(log->p, log->len, VT_EVLOG_TCG, 0, &l));
    vti_evlog_iter_init(&l, &it);
    while (vti_evlog_next(&it, &e)) {
        size_t sz = 0;
        const uint8_t *d = vti_evlog_digest(&l, &e, VT_TPM_ALG_SHA256, &sz);
        if (e.pcr == 4 && d)
            return (size_t)(d - log->p);
    }
    CHECK(!"no PCR4 event");
    return 0;
}

static void test_gce_negatives(void)
{
    struct gce g;
    gce_load("sha256", &g);
    struct run r = gce_run();
    struct vt_buf ev;
#define TRY(code)                                   \
    do {                                            \
        ev = gce_json(&g, true, true);              \
        CHECK_ERR(verify_code(&r, &ev), code);      \
        vti_buf_free_nowipe(&ev);                   \
    } while (0)
    r.at = GCE_NOT_BEFORE - 1;
    TRY(VT_ERR_TPM_AK_CERT_NOT_YET_VALID);
    r.at = GCE_NOT_BEFORE;
    TRY(VT_OK);
    r = gce_run();
    r.at = 2600000000; /* 2052: after notAfter */
    TRY(VT_ERR_TPM_AK_CERT_EXPIRED);
    r = gce_run();
    r.collateral = inter3;
    TRY(VT_ERR_TPM_AK_CERT_UNTRUSTED);
    r = gce_run();
    r.roots[0] = gce_root_v3; /* the EK/AK CA root of newer VMs: not this AK's */
    TRY(VT_ERR_TPM_AK_CERT_UNTRUSTED);
    r = gce_run();
    r.nonce = nonce9008;
    TRY(VT_ERR_TPM_NONCE_MISMATCH);
    r = gce_run();
    g.msg.p[30] ^= 1;
    TRY(VT_ERR_TPM_QUOTE_SIGNATURE);
    g.msg.p[30] ^= 1;
    g.sig.p[11] ^= 1;
    TRY(VT_ERR_TPM_QUOTE_SIGNATURE);
    g.sig.p[11] ^= 1;
    g.pcrs[7][0] ^= 1;
    TRY(VT_ERR_TPM_PCR_DIGEST_MISMATCH);
    g.pcrs[7][0] ^= 1;
    size_t off = first_pcr4_sha256(&g.log);
    g.log.p[off] ^= 1;
    ev = gce_json(&g, true, true);
    vt_report *rep = NULL;
    CHECK_ERR(verify(&r, &ev, &rep), VT_ERR_EVLOG_PCR_MISMATCH);
    CHECK(rep && strstr(vt_report_error_message(rep), "PCR4"));
    vt_report_free(rep);
    vti_buf_free_nowipe(&ev);
    g.log.p[off] ^= 1;
    TRY(VT_OK);
#undef TRY
    gce_free(&g);
}

/* ---- AK trust: pins, missing anchors, key mismatch ------------------------------------ */

static void test_ak_trust(const json_t *tc)
{
    struct gce g;
    gce_load("sha256", &g);
    const char *pin = json_string_value(json_object_get(json_object_get(tc, "ak"), "spki_sha256"));
    struct run r = gce_run();
    struct vt_buf with = gce_json(&g, true, false), without = gce_json(&g, false, false);
    r.n_roots = 0;
    CHECK_ERR(verify_code(&r, &with), VT_ERR_TPM_AK_NO_ROOT);
    CHECK_ERR(verify_code(&r, &without), VT_ERR_TPM_AK_UNTRUSTED);
    r.opt[0] = (struct vt_option){ "tpm.ak_sha256", pin };
    r.n_opt = 1;
    vt_report *rep = NULL;
    CHECK_OK(verify(&r, &without, &rep));
    CHECK(rep && claim(rep, "tpm.ak_trust") && strcmp(claim(rep, "tpm.ak_trust")->s, "pinned") == 0);
    CHECK(rep && !claim(rep, "tpm.ak_cert.issuer"));
    vt_report_free(rep);
    CHECK_OK(verify_code(&r, &with)); /* pinned: the certificate is not needed */
    r.n_roots = 1;
    CHECK_OK(verify(&r, &with, &rep)); /* both */
    CHECK(rep && claim(rep, "tpm.ak_trust") &&
          strcmp(claim(rep, "tpm.ak_trust")->s, "certificate+pinned") == 0);
    vt_report_free(rep);
    r.opt[0].value = "6a114d75ad6e7b75f7da33dead50f2e29bf509108646ced2e588bebc35f0d5b7,"
                     "0000000000000000000000000000000000000000000000000000000000000000";
    CHECK_ERR(verify_code(&r, &with), VT_ERR_TPM_AK_PIN_MISMATCH);
    char two[140];
    snprintf(two, sizeof(two), "%s,%s", "00000000000000000000000000000000000000000000000000000000"
             "00000000", pin);
    r.opt[0].value = two;
    CHECK_OK(verify_code(&r, &with));
    static const char *const bad[] = { "", "abc", "6a11,", "zz114d75ad6e7b75f7da33dead50f2e29bf509108646ced2e588bebc35f0d5b6" };
    for (size_t i = 0; i < 4; i++) {
        r.opt[0].value = bad[i];
        CHECK_ERR(verify_code(&r, &with), VT_ERR_TPM_OPTION);
    }
    snprintf(two, sizeof(two), "%s,", pin);
    r.opt[0].value = two;
    CHECK_ERR(verify_code(&r, &with), VT_ERR_TPM_OPTION);
    vti_buf_free_nowipe(&with);
    vti_buf_free_nowipe(&without);

    /* the certificate names another key */
    struct vt_buf other = vt_testdata_read("tpm/trustee_tpm_evidence.json");
    json_t *tj = json_loadb((const char *)other.p, other.len, 0, NULL);
    struct vt_buf ospki = VT_BUF_INIT;
    const char *b64 = json_string_value(json_object_get(tj, "ak_public"));
    CHECK_OK(vti_b64_decode(b64, strlen(b64), false, &ospki));
    struct vt_buf keep = g.spki;
    g.spki = ospki;
    struct vt_buf ev = gce_json(&g, true, false);
    r = gce_run();
    CHECK_ERR(verify_code(&r, &ev), VT_ERR_TPM_AK_CERT_KEY);
    vti_buf_free_nowipe(&ev);
    g.spki = keep;
    vti_buf_free_nowipe(&ospki);
    json_decref(tj);
    vti_buf_free_nowipe(&other);

    /* an unreadable root, a root file without a certificate, a garbage AK certificate */
    ev = gce_json(&g, true, false);
    r.roots[0] = "/nonexistent/root.pem";
    CHECK_ERR(verify_code(&r, &ev), VT_ERR_TPM_ROOT_CA);
    char pub[4096];
    snprintf(pub, sizeof(pub), "%s", vt_testdata(GCE "_ak_pub.pem"));
    r.roots[0] = pub;
    CHECK_ERR(verify_code(&r, &ev), VT_ERR_TPM_ROOT_CA);
    r = gce_run();
    r.collateral = "/nonexistent/dir";
    CHECK_ERR(verify_code(&r, &ev), VT_ERR_TPM_ROOT_CA);
    vti_buf_free_nowipe(&ev);
    g.cert.p[4] ^= 0xff;
    ev = gce_json(&g, true, false);
    r = gce_run();
    CHECK_ERR(verify_code(&r, &ev), VT_ERR_TPM_AK_CERT);
    vti_buf_free_nowipe(&ev);
    gce_free(&g);
}

/* ---- Trustee's evidence: pinned by its key -------------------------------------------- */

static void test_trustee(void)
{
    struct vt_buf ev = vt_testdata_read("tpm/trustee_tpm_evidence.json");
    struct run r = { { NULL }, 0, NULL, 0, NULL, 0, { { "tpm.ak_sha256",
        "a517f03ffdaee469aef1a19569547e330726335d0461c3ef6383409c6295679e" } }, 1 };
    vt_report *rep = NULL;
    CHECK_OK(verify(&r, &ev, &rep));
    CHECK(claim_hex(rep, "tpm.nonce", "a04182b506878d4f29b91ee606a71a0d3361ccf1b22db20c98adcaa5"
                    "37bea393ef0e41a18b3569ab678f1497fbc5c12000000000000000000000000000000000"));
    CHECK(claim_hex(rep, "pcr.17", "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"));
    vt_report_free(rep);
    struct vt_verify_opts o = { .verifier = "tpm" };
    CHECK_ERR(vt_verify(&o, ev.p, ev.len, &rep), VT_ERR_TPM_AK_UNTRUSTED);
    vt_report_free(rep);
    vti_buf_free_nowipe(&ev);
}

/* ---- evidence JSON: each shape error's code ------------------------------------------- */

static int parse_code(const char *s)
{
    struct vti_tpm_ev ev;
    vt_res r = vti_tpm_evidence_parse((const uint8_t *)s, strlen(s), &ev);
    if (vti_is_ok(r))
        vti_tpm_evidence_free(&ev);
    return r.err;
}

static void test_json(void)
{
    const char *q = "{\"message\":\"AAAA\",\"signature\":\"AAAA\",\"pcrs\":[\"%s\"]}";
    char good[512], s[600];
    snprintf(good, sizeof(good), q, "0000000000000000000000000000000000000000000000000000000000000000");
#define J(fmt, code)                                                  \
    do {                                                              \
        snprintf(s, sizeof(s), fmt, good);                            \
        CHECK_ERR(parse_code(s), code);                               \
    } while (0)
    J("{\"ak_public\":\"AAAA\",\"tpm_quote\":%s}", VT_OK);
    J("{\"ak_public\":\"AAAA\",\"tpm_quote\":%s,\"ak_cert\":\"AAAA\",\"event_log\":\"AAAA\"}", VT_OK);
    J("[%s]", VT_ERR_TPM_EVIDENCE_JSON);
    J("{\"tpm_quote\":%s}", VT_ERR_TPM_EVIDENCE_JSON);
    J("{\"ak_public\":\"AAAA\",\"tpm_quote\":%s", VT_ERR_TPM_EVIDENCE_JSON);
    J("{\"ak_public\":\"AAAA\",\"ak_public\":\"AAAA\",\"tpm_quote\":%s}", VT_ERR_TPM_EVIDENCE_JSON);
    J("{\"ak_public\":1,\"tpm_quote\":%s}", VT_ERR_TPM_EVIDENCE_FIELD);
    J("{\"ak_public\":\"A*AA\",\"tpm_quote\":%s}", VT_ERR_TPM_EVIDENCE_FIELD);
    J("{\"ak_public\":\"\",\"tpm_quote\":%s}", VT_ERR_TPM_EVIDENCE_FIELD);
    J("{\"ak_public\":\"AAAA\",\"tpm_quote\":%s,\"ak_cert\":7}", VT_ERR_TPM_EVIDENCE_FIELD);
    J("{\"ak_public\":\"AAAA\",\"tpm_quote\":%s,\"event_log\":\"!!\"}", VT_ERR_TPM_EVENT_LOG);
    J("{\"ak_public\":\"AAAA\",\"tpm_quote\":\"x\"}%.0s", VT_ERR_TPM_EVIDENCE_JSON);
    J("{\"ak_public\":\"AAAA\",\"tpm_quote\":{\"message\":\"AAAA\",\"signature\":\"AAAA\"}}%.0s",
      VT_ERR_TPM_EVIDENCE_JSON);
    J("{\"ak_public\":\"AAAA\",\"tpm_quote\":{\"message\":\"AAAA\",\"signature\":\"AAAA\","
      "\"pcrs\":[]}}%.0s", VT_ERR_TPM_EVIDENCE_PCRS);
    J("{\"ak_public\":\"AAAA\",\"tpm_quote\":{\"message\":\"AAAA\",\"signature\":\"AAAA\","
      "\"pcrs\":[\"00\"]}}%.0s", VT_ERR_TPM_EVIDENCE_PCRS);
    J("{\"ak_public\":\"AAAA\",\"tpm_quote\":{\"message\":\"AAAA\",\"signature\":\"AAAA\","
      "\"pcrs\":[\"0000000000000000000000000000000000000000\",\"00000000000000000000000000000000"
      "00000000000000000000000000000000\"]}}%.0s", VT_ERR_TPM_EVIDENCE_PCRS);
    J("{\"ak_public\":\"AAAA\",\"tpm_quote\":{\"message\":\"AAAA\",\"signature\":\"AAAA\","
      "\"pcrs\":[\"zz00000000000000000000000000000000000000\"]}}%.0s", VT_ERR_TPM_EVIDENCE_FIELD);
    J("{\"ak_public\":\"AAAA\",\"tpm_quote\":{\"message\":\"AAAA\",\"signature\":\"AAAA\","
      "\"pcrs\":[1]}}%.0s", VT_ERR_TPM_EVIDENCE_FIELD);
#undef J
    CHECK(vti_tpm_evidence_is((const uint8_t *)" {\"ak_public\":1,\"tpm_quote\":2}", 31));
    CHECK(!vti_tpm_evidence_is((const uint8_t *)"{\"tpm_quote\":2}", 15));
    CHECK(!vti_tpm_evidence_is((const uint8_t *)"x\"ak_public\"\"tpm_quote\"", 23));
}

/* ak_public not canonical DER; the pcrs do not fit; a two-bank quote (refused before its
 * signature is checked: the verifier takes one bank). */
static void test_evidence_links(void)
{
    struct gce g;
    gce_load("sha256", &g);
    struct run r = gce_run();
    CHECK_OK(vti_buf_u8(&g.spki, 0));
    struct vt_buf ev = gce_json(&g, true, false);
    CHECK_ERR(verify_code(&r, &ev), VT_ERR_TPM_AK_PUBLIC);
    vti_buf_free_nowipe(&ev);
    g.spki.len--;
    struct vti_tpm_ev_in in = {
        .ak_public = g.spki.p, .ak_public_len = g.spki.len, .msg = g.msg.p, .msg_len = g.msg.len,
        .sig = g.sig.p, .sig_len = g.sig.len, .ak_cert = g.cert.p, .ak_cert_len = g.cert.len,
        .pcrs = (const uint8_t(*)[64])g.pcrs, .n_pcrs = 23, .pcr_len = 32,
    };
    CHECK_OK(vti_tpm_evidence_json(&in, &ev));
    CHECK_ERR(verify_code(&r, &ev), VT_ERR_TPM_EVIDENCE_PCRS);
    vti_buf_free_nowipe(&ev);
    in.n_pcrs = 24;
    in.pcr_len = 20;
    CHECK_OK(vti_tpm_evidence_json(&in, &ev));
    CHECK_ERR(verify_code(&r, &ev), VT_ERR_TPM_EVIDENCE_PCRS);
    vti_buf_free_nowipe(&ev);
    /* two banks: the TPML_PCR_SELECTION count at 4+2+2+34+2+2+17+8 = 71 */
    struct vt_buf two = VT_BUF_INIT;
    size_t sel = 2 + 34 + 2 + 2 + 4 + 2 + 17 + 8 + 4;
    CHECK(g.msg.len > sel + 6 && g.msg.p[sel - 1] == 1);
    CHECK_OK(vti_buf_append(&two, g.msg.p, sel));
    two.p[sel - 1] = 2;
    CHECK_OK(vti_buf_append(&two, g.msg.p + sel, 6));
    CHECK_OK(vti_buf_append(&two, g.msg.p + sel, g.msg.len - sel));
    in.msg = two.p;
    in.msg_len = two.len;
    in.pcr_len = 32;
    CHECK_OK(vti_tpm_evidence_json(&in, &ev));
    CHECK_ERR(verify_code(&r, &ev), VT_ERR_TPM_QUOTE_BANKS);
    vti_buf_free_nowipe(&ev);
    vti_buf_free_nowipe(&two);
    gce_free(&g);
}

/* ---- ECC AKs: a fresh EC key signs the GCE quote (TPMT_SIGNATURE ECDSA) ---------------- */

static struct vt_buf spki_of(EVP_PKEY *k)
{
    struct vt_buf b = VT_BUF_INIT;
    unsigned char *p = NULL;
    int n = i2d_PUBKEY(k, &p);
    CHECK(n > 0);
    if (n > 0)
        CHECK_OK(vti_buf_append(&b, p, (size_t)n));
    OPENSSL_free(p);
    return b;
}

static void put_u16(struct vt_buf *b, size_t v)
{
    CHECK_OK(vti_buf_u8(b, (uint8_t)(v >> 8)));
    CHECK_OK(vti_buf_u8(b, (uint8_t)v));
}

/* TPMT_SIGNATURE {ECDSA, hash, r, s} of msg by k, r and s left-padded to n bytes. */
static struct vt_buf ecdsa_tpmt(EVP_PKEY *k, const EVP_MD *md, uint16_t hash,
                                const struct vt_buf *msg, size_t n)
{
    struct vt_buf out = VT_BUF_INIT;
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    unsigned char der[160], rs[2][80];
    size_t dl = sizeof(der);
    CHECK(c && EVP_DigestSignInit(c, NULL, md, NULL, k) == 1 &&
          EVP_DigestSign(c, der, &dl, msg->p, msg->len) == 1);
    const unsigned char *p = der;
    ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)dl);
    CHECK(sig && n <= sizeof(rs[0]) && BN_bn2binpad(ECDSA_SIG_get0_r(sig), rs[0], (int)n) > 0 &&
          BN_bn2binpad(ECDSA_SIG_get0_s(sig), rs[1], (int)n) > 0);
    put_u16(&out, VT_TPM_ALG_ECDSA);
    put_u16(&out, hash);
    for (int i = 0; i < 2; i++) {
        put_u16(&out, n);
        CHECK_OK(vti_buf_append(&out, rs[i], n));
    }
    ECDSA_SIG_free(sig);
    EVP_MD_CTX_free(c);
    return out;
}

/* Verify g with ak_public spki and signature sig, the AK pinned by its SHA-256. */
static int verify_pinned(struct gce *g, const struct vt_buf *spki, const struct vt_buf *sig)
{
    struct vt_buf keep_k = g->spki, keep_s = g->sig;
    g->spki = *spki;
    g->sig = *sig;
    struct vt_buf ev = gce_json(g, false, true);
    g->spki = keep_k;
    g->sig = keep_s;
    uint8_t d[32];
    char pin[65];
    SHA256(spki->p, spki->len, d);
    vti_hex_encode(d, 32, pin);
    struct run r = gce_run();
    r.opt[0] = (struct vt_option){ "tpm.ak_sha256", pin };
    r.n_opt = 1;
    vt_report *rep = NULL;
    int rc = verify(&r, &ev, &rep);
    if (rc == VT_OK) {
        const struct vt_claim *c = claim(rep, "tpm.ak_trust");
        CHECK(c && strcmp(c->s, "pinned") == 0 && claim_hex(rep, "tpm.nonce", "9009") &&
              claim(rep, "eventlog.separators_valid"));
    }
    vt_report_free(rep);
    vti_buf_free_nowipe(&ev);
    return rc;
}

static void test_ecc_ak(void)
{
    struct gce g;
    gce_load("sha256", &g);
    EVP_PKEY *p256 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    EVP_PKEY *p384 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
    EVP_PKEY *k1 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "secp256k1");
    CHECK(p256 && p384 && k1);
    struct vt_buf s256 = spki_of(p256), s384 = spki_of(p384), sk1 = spki_of(k1);
    struct vt_buf sig = ecdsa_tpmt(p256, EVP_sha256(), VT_TPM_ALG_SHA256, &g.msg, 32);
    CHECK_OK(verify_pinned(&g, &s256, &sig));
    /* ECDSA by an RSA AK, RSASSA by an EC AK */
    CHECK_ERR(verify_pinned(&g, &g.spki, &sig), VT_ERR_TPM_SIG_KEY_TYPE);
    CHECK_ERR(verify_pinned(&g, &s256, &g.sig), VT_ERR_TPM_SIG_KEY_TYPE);
    /* a flipped byte of r, then of s (offsets: alg 2, hash 2, size 2, r 32, size 2, s 32) */
    sig.p[6 + 5] ^= 1;
    CHECK_ERR(verify_pinned(&g, &s256, &sig), VT_ERR_TPM_QUOTE_SIGNATURE);
    sig.p[6 + 5] ^= 1;
    sig.p[6 + 32 + 2 + 31] ^= 0x80;
    CHECK_ERR(verify_pinned(&g, &s256, &sig), VT_ERR_TPM_QUOTE_SIGNATURE);
    sig.p[6 + 32 + 2 + 31] ^= 0x80;
    CHECK_OK(verify_pinned(&g, &s256, &sig));
    vti_buf_free_nowipe(&sig);
    /* r and s longer than the curve (P-256, 33 bytes): refused before verifying */
    sig = ecdsa_tpmt(p256, EVP_sha256(), VT_TPM_ALG_SHA256, &g.msg, 33);
    CHECK_ERR(verify_pinned(&g, &s256, &sig), VT_ERR_TPM_SIG_ECC_CURVE);
    vti_buf_free_nowipe(&sig);
    /* the hash is the scheme's: an ECDSA-SHA384 signature verifies, and then the pcrDigest
     * (made by the TPM with SHA-256) is compared as SHA-384 and differs */
    sig = ecdsa_tpmt(p256, EVP_sha384(), VT_TPM_ALG_SHA384, &g.msg, 32);
    CHECK_ERR(verify_pinned(&g, &s256, &sig), VT_ERR_TPM_PCR_DIGEST_MISMATCH);
    sig.p[3] = (uint8_t)VT_TPM_ALG_SHA256; /* the hash named wrongly: the signature fails */
    CHECK_ERR(verify_pinned(&g, &s256, &sig), VT_ERR_TPM_QUOTE_SIGNATURE);
    vti_buf_free_nowipe(&sig);
    /* P-384 verifies; its 48-byte r and s under a P-256 AK: longer than the curve */
    sig = ecdsa_tpmt(p384, EVP_sha256(), VT_TPM_ALG_SHA256, &g.msg, 48);
    CHECK_OK(verify_pinned(&g, &s384, &sig));
    CHECK_ERR(verify_pinned(&g, &s256, &sig), VT_ERR_TPM_SIG_ECC_CURVE);
    vti_buf_free_nowipe(&sig);
    /* an EC AK off the NIST curves */
    sig = ecdsa_tpmt(k1, EVP_sha256(), VT_TPM_ALG_SHA256, &g.msg, 32);
    CHECK_ERR(verify_pinned(&g, &sk1, &sig), VT_ERR_TPM_AK_CURVE);
    vti_buf_free_nowipe(&sig);
    vti_buf_free_nowipe(&s256);
    vti_buf_free_nowipe(&s384);
    vti_buf_free_nowipe(&sk1);
    EVP_PKEY_free(p256);
    EVP_PKEY_free(p384);
    EVP_PKEY_free(k1);
    gce_free(&g);
}

int main(void)
{
    snprintf(root1, sizeof(root1), "%s", vt_testdata("tpm/gcp_tpm_ek_root_1.cer"));
    snprintf(inter2, sizeof(inter2), "%s", vt_testdata("tpm/gcp_tpm_ek_intermediate_2.crt"));
    snprintf(inter3, sizeof(inter3), "%s", vt_testdata("tpm/gcp_tpm_ek_intermediate_3.crt"));
    snprintf(gce_root_v3, sizeof(gce_root_v3), "%s", vt_testdata("tpm/gcp_ek_ak_ca_root.crt"));
    json_t *cases = vt_test_cases();
    const json_t *tc = json_array_get(json_object_get(cases, "tpm"), 0);
    CHECK(tc && strcmp(json_string_value(json_object_get(tc, "id")), "gotpm_gce_cos85_nonce9009") == 0);
    test_gce_ok(tc);
    test_gce_collateral_dir();
    test_gce_negatives();
    test_ak_trust(tc);
    test_trustee();
    test_json();
    test_evidence_links();
    test_ecc_ak();
    json_decref(cases);
    return vt_test_done();
}
