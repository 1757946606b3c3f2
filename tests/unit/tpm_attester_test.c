/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tpm_attester_test.c - the plain TPM attester "tpm" (src/attesters/tpm.c) over a fake TPM
 * (vti_tpm_set_ops) that quotes with an RSA key made here: evidence JSON that the "tpm"
 * verifier accepts with the pinned key, the nonce length rule, the AK certificate from NV
 * (GCE's two indices, padding cut at the DER length), the event log option, and each refusal's
 * code (VT_ERR_TPM_ATT_*, VT_ERR_TPM_AK_NOT_RSASSA); tpm.ak=ecc with a P-256 key (ECDSA
 * quotes, VT_ERR_TPM_AK_NOT_ECDSA). Then the verifier's SHA-1-only event log rule
 * (tpm.allow_sha1_log, the CLI's --allow-sha1-log) on a quote of the replayed SHA-1 PCRs
 * of cases.json's Debian 10 log, made with the same key.
 */
#include <jansson.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <string.h>

#include "attesters/tpm_dev.h"
#include "core/instance.h"
#include "evidence/tpm.h"
#include "evidence/tpm_evidence.h"
#include "util/codec.h"
#include "vt_test.h"

static EVP_PKEY *key, *ekey; /* the fake TPM's RSA and ECC (P-256) AKs */
static char pin[65], epin[65];

static struct {
    bool has_ak;
    bool ecc; /* the AK at the handle is ekey */
    int ak_err;
    uint32_t nv_index;
    struct vt_buf nv;
    uint8_t pcrs[24][32];
} fake;

static void be16(struct vt_buf *b, uint16_t v)
{
    CHECK_OK(vti_buf_u8(b, (uint8_t)(v >> 8)));
    CHECK_OK(vti_buf_u8(b, (uint8_t)v));
}

/* A TPMS_ATTEST quoting n PCRs (0..n-1) of bank hash with values pcrs (size each), signed
 * RSASSA-SHA256 by key: message into msg, raw signature into sig. */
static void make_quote(uint16_t hash, const uint8_t *pcrs, size_t size, unsigned n,
                       const uint8_t *nonce, size_t nlen, struct vt_buf *msg, struct vt_buf *sig)
{
    static const uint8_t hdr[] = { 0xff, 0x54, 0x43, 0x47, 0x80, 0x18, 0x00, 0x02, 0x00, 0x0b };
    CHECK_OK(vti_buf_append(msg, hdr, sizeof(hdr)));
    be16(msg, (uint16_t)nlen);
    CHECK_OK(vti_buf_append(msg, nonce, nlen));
    CHECK_OK(vti_buf_zeros(msg, 17 + 8));
    const uint8_t sel[] = { 0, 0, 0, 1 };
    CHECK_OK(vti_buf_append(msg, sel, 4));
    be16(msg, hash);
    CHECK_OK(vti_buf_u8(msg, 3));
    for (unsigned i = 0; i < 3; i++)
        CHECK_OK(vti_buf_u8(msg, (uint8_t)(n >= 8 * (i + 1) ? 0xff : n > 8 * i ? (1u << (n - 8 * i)) - 1 : 0)));
    uint8_t d[32];
    unsigned dl = 0;
    CHECK(EVP_Digest(pcrs, size * n, d, &dl, EVP_sha256(), NULL) == 1);
    be16(msg, 32);
    CHECK_OK(vti_buf_append(msg, d, 32));
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    size_t sl = 256;
    CHECK_OK(vti_buf_reserve(sig, 256));
    CHECK(EVP_DigestSignInit(c, NULL, EVP_sha256(), NULL, key) == 1 &&
          EVP_DigestSign(c, sig->p, &sl, msg->p, msg->len) == 1);
    sig->len = sl;
    EVP_MD_CTX_free(c);
}

static vt_res f_open(const char *tcti, struct vti_tpm **out)
{
    *out = (struct vti_tpm *)&fake;
    return strcmp(tcti, "fake") == 0 ? vti_ok() : VT_FAIL(VT_ERR_TPM_TCTI);
}
static void f_close(struct vti_tpm *t) { (void)t; }
static vt_res f_nv_read(struct vti_tpm *t, uint32_t index, struct vt_buf *out)
{
    (void)t;
    ENSURE(index == fake.nv_index && fake.nv.len, VT_ERR_NOT_FOUND);
    return vti_buf_append(out, fake.nv.p, fake.nv.len);
}
static vt_res f_nv_write(struct vti_tpm *t, uint32_t index, const uint8_t *p, size_t n)
{
    (void)t; (void)index; (void)p; (void)n;
    return VT_FAIL(VT_ERR_TPM);
}
/* Re-sign q's message with ekey: r into q->signature, s into q->ecdsa_s (32 bytes each). */
static void ecdsa_sign(struct vti_tpm_quote *q)
{
    unsigned char der[80];
    size_t dl = sizeof(der);
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    CHECK(c && EVP_DigestSignInit(c, NULL, EVP_sha256(), NULL, ekey) == 1 &&
          EVP_DigestSign(c, der, &dl, q->message.p, q->message.len) == 1);
    EVP_MD_CTX_free(c);
    const unsigned char *p = der;
    ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)dl);
    CHECK(sig != NULL);
    q->signature.len = 0;
    CHECK_OK(vti_buf_reserve(&q->signature, 32));
    CHECK_OK(vti_buf_reserve(&q->ecdsa_s, 32));
    CHECK(BN_bn2binpad(ECDSA_SIG_get0_r(sig), q->signature.p, 32) == 32 &&
          BN_bn2binpad(ECDSA_SIG_get0_s(sig), q->ecdsa_s.p, 32) == 32);
    q->signature.len = q->ecdsa_s.len = 32;
    q->ecdsa = true;
    ECDSA_SIG_free(sig);
}

static vt_res f_quote(struct vti_tpm *t, uint32_t ak, const uint8_t *nonce, size_t n, struct vti_tpm_quote *q)
{
    (void)t;
    ENSURE(ak == 0x81010002u || ak == 0x81000099u, VT_ERR_TPM);
    make_quote(VT_TPM_ALG_SHA256, &fake.pcrs[0][0], 32, 24, nonce, n, &q->message, &q->signature);
    memcpy(q->pcrs, fake.pcrs, sizeof(fake.pcrs));
    if (fake.ecc)
        ecdsa_sign(q);
    return vti_ok();
}
static vt_res f_ak_create(struct vti_tpm *t, uint32_t h, struct vt_buf *m, uint32_t *e)
{
    (void)t; (void)h; (void)m; (void)e;
    return VT_FAIL(VT_ERR_TPM);
}
static vt_res f_ak_read(struct vti_tpm *t, uint32_t h, struct vt_buf *m, uint32_t *e)
{
    (void)t;
    ENSURE(fake.has_ak && (h == 0x81010002u || h == 0x81000099u), VT_ERR_NOT_FOUND);
    ENSURE(!fake.ak_err, fake.ak_err);
    ENSURE(!fake.ecc, VT_ERR_TPM_AK_NOT_RSASSA);
    BIGNUM *n = NULL;
    CHECK(EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_N, &n) == 1);
    CHECK_OK(vti_buf_reserve(m, 256));
    m->len = (size_t)BN_bn2bin(n, m->p);
    BN_free(n);
    *e = 65537;
    return vti_ok();
}
static vt_res f_ak_read_ecc(struct vti_tpm *t, uint32_t h, struct vt_buf *x, struct vt_buf *y)
{
    (void)t;
    ENSURE(fake.has_ak && h == 0x81010002u, VT_ERR_NOT_FOUND);
    ENSURE(fake.ecc, VT_ERR_TPM_AK_NOT_ECDSA);
    BIGNUM *bx = NULL, *by = NULL;
    CHECK(EVP_PKEY_get_bn_param(ekey, OSSL_PKEY_PARAM_EC_PUB_X, &bx) == 1 &&
          EVP_PKEY_get_bn_param(ekey, OSSL_PKEY_PARAM_EC_PUB_Y, &by) == 1);
    CHECK_OK(vti_buf_reserve(x, 32));
    CHECK_OK(vti_buf_reserve(y, 32));
    x->len = (size_t)BN_bn2bin(bx, x->p); /* unpadded, as a TPM may return it */
    y->len = (size_t)BN_bn2bin(by, y->p);
    BN_free(bx);
    BN_free(by);
    return vti_ok();
}
static const struct vti_tpm_ops fake_ops = { f_open, f_close, f_nv_read, f_nv_write, f_quote,
                                             f_ak_create, f_ak_read, f_ak_read_ecc };

static int collect(const struct vt_option *o, size_t n, const uint8_t rd[64], struct vt_buf *ev)
{
    const struct vt_instance_hdr *h = NULL;
    CHECK_OK(vti_instance_find(VT_KIND_ATTESTER, "tpm", &h));
    struct vti_attest_ctx ctx = { .options = o, .n_options = n };
    vti_buf_free_nowipe(ev);
    return h ? ((const struct vt_attester_ops *)h)->collect(&ctx, rd, ev, NULL).err : -1;
}

static int verify(const struct vt_buf *ev, const uint8_t *nonce, size_t nlen, vt_report **rep)
{
    struct vt_option o = { "tpm.ak_sha256", fake.ecc ? epin : pin };
    struct vt_verify_opts vo = { .options = &o, .n_options = 1, .report_data = nonce,
                                 .report_data_len = nlen };
    return vt_verify(&vo, ev->p, ev->len, rep);
}

static void test_round_trip(void)
{
    uint8_t rd[64] = { 0x90, 0x09 };
    struct vt_option o[3] = { { "tpm.tcti", "fake" }, { "tpm.eventlog", "none" },
                              { "tpm.ak_cert_nv", "none" } };
    struct vt_buf ev = VT_BUF_INIT;
    CHECK_OK(collect(o, 3, rd, &ev));
    vt_report *rep = NULL;
    CHECK_OK(verify(&ev, rd, 2, &rep));
    const struct vt_claim *c = vt_claims_get(vt_report_claims(rep), "tpm.nonce");
    CHECK(c && c->n == 2 && c->p[0] == 0x90 && c->p[1] == 0x09);
    c = vt_claims_get(vt_report_claims(rep), "pcr.5");
    CHECK(c && c->n == 32 && c->p[0] == 5);
    vt_report_free(rep);
    struct vti_tpm_ev e;
    CHECK_OK(vti_tpm_evidence_parse(ev.p, ev.len, &e));
    struct vt_tpmt_signature s;
    CHECK_OK(vti_tpmt_signature_parse(e.sig.p, e.sig.len, &s));
    CHECK(s.sig_alg == VT_TPM_ALG_RSASSA && s.hash_alg == VT_TPM_ALG_SHA256 && s.rsa_len == 256);
    CHECK(!e.has_cert && !e.has_log && e.n_pcrs == 24 && e.pcr_len == 32);
    vti_tpm_evidence_free(&e);
    /* tpm.nonce_len=64: the whole report data (the KBS client's choice) */
    struct vt_option o64[4] = { o[0], o[1], o[2], { "tpm.nonce_len", "64" } };
    CHECK_OK(collect(o64, 4, rd, &ev));
    CHECK_ERR(verify(&ev, rd, 2, &rep), VT_ERR_TPM_NONCE_MISMATCH);
    vt_report_free(rep);
    CHECK_OK(verify(&ev, rd, 64, &rep));
    vt_report_free(rep);
    /* another handle */
    struct vt_option oh[4] = { o[0], o[1], o[2], { "tpm.ak_handle", "0x81000099" } };
    CHECK_OK(collect(oh, 4, rd, &ev));
    vti_buf_free_nowipe(&ev);
}

static void test_ak_cert_nv(void)
{
    uint8_t rd[64] = { 1 };
    struct vt_option o[2] = { { "tpm.tcti", "fake" }, { "tpm.eventlog", "none" } };
    struct vt_buf ev = VT_BUF_INIT;
    /* a DER SEQUENCE of 130 bytes (long form) in the ECC index, padded with zeros */
    fake.nv_index = 0x01c10002u;
    const uint8_t h[] = { 0x30, 0x81, 0x80 };
    CHECK_OK(vti_buf_append(&fake.nv, h, 3));
    for (int i = 0; i < 128; i++)
        CHECK_OK(vti_buf_u8(&fake.nv, (uint8_t)i));
    CHECK_OK(vti_buf_zeros(&fake.nv, 50));
    CHECK_OK(collect(o, 2, rd, &ev));
    struct vti_tpm_ev e;
    CHECK_OK(vti_tpm_evidence_parse(ev.p, ev.len, &e));
    CHECK(e.has_cert && e.ak_cert.len == 131 && memcmp(e.ak_cert.p, fake.nv.p, 131) == 0);
    vti_tpm_evidence_free(&e);
    /* the RSA index named explicitly: absent is an error then */
    struct vt_option on[3] = { o[0], o[1], { "tpm.ak_cert_nv", "0x01c10000" } };
    CHECK_ERR(collect(on, 3, rd, &ev), VT_ERR_NOT_FOUND);
    /* not a DER SEQUENCE, or one longer than the index */
    fake.nv.p[0] = 0x31;
    CHECK_ERR(collect(o, 2, rd, &ev), VT_ERR_TPM_ATT_AK_CERT);
    fake.nv.p[0] = 0x30;
    fake.nv.len = 100;
    CHECK_ERR(collect(o, 2, rd, &ev), VT_ERR_TPM_ATT_AK_CERT);
    fake.nv.len = 0;
    CHECK_OK(collect(o, 2, rd, &ev)); /* auto, nothing in NV: no certificate */
    vti_buf_free_nowipe(&ev);
}

static void test_refusals(void)
{
    uint8_t rd[64] = { 1 };
    struct vt_buf ev = VT_BUF_INIT;
    struct vt_option o[3] = { { "tpm.tcti", "fake" }, { "tpm.eventlog", "none" }, { NULL, NULL } };
    static const struct { const char *name, *value; } bad[] = {
        { "tpm.ak_handle", "xyz" }, { "tpm.ak_handle", "" }, { "tpm.ak_handle", "0x1ffffffff" },
        { "tpm.nonce_len", "65" }, { "tpm.nonce_len", "-1" }, { "tpm.nonce_len", "x" },
        { "tpm.ak_cert_nv", "zz" },
    };
    for (size_t i = 0; i < VT_ARRAY_LEN(bad); i++) {
        o[2] = (struct vt_option){ bad[i].name, bad[i].value };
        CHECK_ERR(collect(o, 3, rd, &ev), VT_ERR_TPM_ATT_OPTION);
    }
    o[2] = (struct vt_option){ "tpm.eventlog", "/nonexistent/binary_bios_measurements" };
    struct vt_option oe[2] = { o[0], o[2] };
    CHECK_ERR(collect(oe, 2, rd, &ev), VT_ERR_TPM_ATT_EVENTLOG);
    char logpath[4096];
    snprintf(logpath, sizeof(logpath), "%s", vt_testdata("tpm/gotpm_gce_cos85_nonce9009_eventlog.bin"));
    oe[1].value = logpath;
    CHECK_OK(collect(oe, 2, rd, &ev));
    struct vti_tpm_ev e;
    struct vt_buf log = vt_testdata_read("tpm/gotpm_gce_cos85_nonce9009_eventlog.bin");
    CHECK_OK(vti_tpm_evidence_parse(ev.p, ev.len, &e));
    CHECK(e.has_log && e.event_log.len == log.len && memcmp(e.event_log.p, log.p, log.len) == 0);
    vti_tpm_evidence_free(&e);
    vti_buf_free_nowipe(&log);
    o[2] = (struct vt_option){ "tpm.tcti", "other" };
    CHECK_ERR(collect(&o[2], 1, rd, &ev), VT_ERR_TPM_TCTI);
    fake.has_ak = false;
    CHECK_ERR(collect(o, 2, rd, &ev), VT_ERR_TPM_ATT_NO_AK);
    fake.has_ak = true;
    fake.ak_err = VT_ERR_TPM_AK_NOT_RSASSA;
    CHECK_ERR(collect(o, 2, rd, &ev), VT_ERR_TPM_AK_NOT_RSASSA);
    fake.ak_err = 0;
    vti_buf_free_nowipe(&ev);
}

/* tpm.ak=ecc: a P-256 AK, an ECDSA TPMT_SIGNATURE the verifier accepts; the key type must
 * match the option; "auto" reads only the ECC certificate index. */
static void test_ecc(void)
{
    uint8_t rd[64] = { 0x90, 0x09 };
    struct vt_option o[4] = { { "tpm.tcti", "fake" }, { "tpm.eventlog", "none" },
                              { "tpm.ak_cert_nv", "none" }, { "tpm.ak", "ecc" } };
    struct vt_buf ev = VT_BUF_INIT;
    CHECK_ERR(collect(o, 4, rd, &ev), VT_ERR_TPM_AK_NOT_ECDSA); /* an RSA AK at the handle */
    fake.ecc = true;
    CHECK_OK(collect(o, 4, rd, &ev));
    vt_report *rep = NULL;
    CHECK_OK(verify(&ev, rd, 2, &rep));
    const struct vt_claim *c = vt_claims_get(vt_report_claims(rep), "tpm.nonce");
    CHECK(c && c->n == 2 && c->p[0] == 0x90 && c->p[1] == 0x09);
    vt_report_free(rep);
    struct vti_tpm_ev e;
    CHECK_OK(vti_tpm_evidence_parse(ev.p, ev.len, &e));
    struct vt_tpmt_signature s;
    CHECK_OK(vti_tpmt_signature_parse(e.sig.p, e.sig.len, &s));
    CHECK(s.sig_alg == VT_TPM_ALG_ECDSA && s.hash_alg == VT_TPM_ALG_SHA256 && s.r_len == 32 &&
          s.s_len == 32);
    CHECK(e.ak_public.len == 91); /* P-256 SubjectPublicKeyInfo */
    vti_tpm_evidence_free(&e);
    CHECK_ERR(collect(o, 3, rd, &ev), VT_ERR_TPM_AK_NOT_RSASSA); /* default tpm.ak=rsa */
    o[3].value = "dsa";
    CHECK_ERR(collect(o, 4, rd, &ev), VT_ERR_TPM_ATT_OPTION);
    o[3].value = "ECC";
    CHECK_ERR(collect(o, 4, rd, &ev), VT_ERR_TPM_ATT_OPTION);
    /* auto: the certificate in the RSA index is not the ECC AK's; the ECC index is read */
    struct vt_option oa[3] = { o[0], o[1], { "tpm.ak", "ecc" } };
    const uint8_t der[] = { 0x30, 0x03, 0x02, 0x01, 0x07 };
    CHECK_OK(vti_buf_append(&fake.nv, der, sizeof(der)));
    fake.nv_index = 0x01c10000u;
    CHECK_OK(collect(oa, 3, rd, &ev));
    CHECK_OK(vti_tpm_evidence_parse(ev.p, ev.len, &e));
    CHECK(!e.has_cert);
    vti_tpm_evidence_free(&e);
    fake.nv_index = 0x01c10002u;
    CHECK_OK(collect(oa, 3, rd, &ev));
    CHECK_OK(vti_tpm_evidence_parse(ev.p, ev.len, &e));
    CHECK(e.has_cert && e.ak_cert.len == sizeof(der));
    vti_tpm_evidence_free(&e);
    fake.nv.len = 0;
    fake.ecc = false;
    vti_buf_free_nowipe(&ev);
}

/* The verifier: a SHA-1-only log needs tpm.allow_sha1_log=1. */
static void test_sha1_log(void)
{
    json_t *cases = vt_test_cases();
    const json_t *el = json_object_get(cases, "eventlog"), *tc = NULL;
    for (size_t i = 0; i < json_array_size(el); i++)
        if (!strcmp(json_string_value(json_object_get(json_array_get(el, i), "id")), "eventlog-gotpm-debian-10"))
            tc = json_array_get(el, i);
    CHECK(tc != NULL);
    const json_t *rp = json_object_get(json_object_get(json_object_get(tc, "expect"), "replayed_pcrs"), "sha1");
    uint8_t pcrs[24][20] = { { 0 } };
    for (int i = 0; i < 8; i++) {
        char k[4];
        snprintf(k, sizeof(k), "%d", i);
        CHECK_OK(vti_hex_decode_fixed(json_string_value(json_object_get(rp, k)), pcrs[i], 20));
    }
    json_decref(cases);
    struct vt_buf msg = VT_BUF_INIT, raw = VT_BUF_INIT, sig = VT_BUF_INIT, ev = VT_BUF_INIT;
    struct vt_buf spki = VT_BUF_INIT, log = vt_testdata_read("eventlog/gotpm_debian-10.bin");
    const uint8_t nonce[2] = { 0xab, 0xcd };
    make_quote(VT_TPM_ALG_SHA1, &pcrs[0][0], 20, 8, nonce, 2, &msg, &raw);
    const uint8_t sh[] = { 0x00, 0x14, 0x00, 0x0b, 0x01, 0x00 };
    CHECK_OK(vti_buf_append(&sig, sh, 6));
    CHECK_OK(vti_buf_append(&sig, raw.p, raw.len));
    unsigned char *der = NULL;
    int dl = i2d_PUBKEY(key, &der);
    CHECK_OK(vti_buf_append(&spki, der, (size_t)dl));
    OPENSSL_free(der);
    struct vti_tpm_ev_in in = {
        .ak_public = spki.p, .ak_public_len = spki.len, .msg = msg.p, .msg_len = msg.len,
        .sig = sig.p, .sig_len = sig.len, .event_log = log.p, .event_log_len = log.len,
        .pcrs = NULL, .n_pcrs = 8, .pcr_len = 20,
    };
    uint8_t p64[24][VT_TPM_EV_MAX_PCR_LEN] = { { 0 } };
    for (int i = 0; i < 8; i++)
        memcpy(p64[i], pcrs[i], 20);
    in.pcrs = (const uint8_t(*)[VT_TPM_EV_MAX_PCR_LEN])p64;
    CHECK_OK(vti_tpm_evidence_json(&in, &ev));
    struct vt_option o[2] = { { "tpm.ak_sha256", pin }, { "tpm.allow_sha1_log", "1" } };
    struct vt_verify_opts vo = { .options = o, .n_options = 1, .report_data = nonce,
                                 .report_data_len = 2 };
    vt_report *rep = NULL;
    CHECK_ERR(vt_verify(&vo, ev.p, ev.len, &rep), VT_ERR_EVLOG_SHA1_LOG);
    vt_report_free(rep);
    vo.n_options = 2;
    CHECK_OK(vt_verify(&vo, ev.p, ev.len, &rep));
    const struct vt_claim *c = vt_claims_get(vt_report_claims(rep), "tpm.pcr_bank");
    CHECK(c && strcmp(c->s, "sha1") == 0);
    vt_report_free(rep);
    vti_buf_free_nowipe(&ev);
    vti_buf_free_nowipe(&msg);
    vti_buf_free_nowipe(&raw);
    vti_buf_free_nowipe(&sig);
    vti_buf_free_nowipe(&spki);
    vti_buf_free_nowipe(&log);
}

int main(void)
{
    key = EVP_RSA_gen(2048);
    CHECK(key != NULL);
    unsigned char *der = NULL;
    int dl = i2d_PUBKEY(key, &der);
    uint8_t d[32];
    unsigned hl = 0;
    CHECK(dl > 0 && EVP_Digest(der, (size_t)dl, d, &hl, EVP_sha256(), NULL) == 1);
    OPENSSL_free(der);
    vti_hex_encode(d, 32, pin);
    ekey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    der = NULL;
    dl = ekey ? i2d_PUBKEY(ekey, &der) : 0;
    CHECK(dl > 0 && EVP_Digest(der, (size_t)dl, d, &hl, EVP_sha256(), NULL) == 1);
    OPENSSL_free(der);
    vti_hex_encode(d, 32, epin);
    for (int i = 0; i < 24; i++)
        memset(fake.pcrs[i], i, 32);
    fake.has_ak = true;
    CHECK_OK(vti_registry_init(NULL));
    vti_tpm_set_ops(&fake_ops);
    test_round_trip();
    test_ak_cert_nv();
    test_refusals();
    test_ecc();
    test_sha1_log();
    vti_tpm_set_ops(NULL);
    vti_buf_free_nowipe(&fake.nv);
    EVP_PKEY_free(key);
    EVP_PKEY_free(ekey);
    return vt_test_done();
}
