/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cert_test.c - RA-TLS certificates: build -> parse -> verify round trip for every key type
 * (sim evidence), custom claims and nonce, and every refusal: missing evidence, bad
 * self-signature, unknown tag, wrong array length, missing pubkey-hash, duplicate claim keys,
 * unsupported hash algorithm, pubkey mismatch (evidence moved to another key), report data
 * not binding the claims (on any of the 64 bytes), nonce mismatch, identity loading.
 */
#include "util/cbor.h"
#include "cert/ratls.h"
#include "cert/ratls_parse.h"
#include "crypto/crypto.h"
#include "vt_test.h"

static const struct vt_crypto_ops *cr;
static const struct vt_attester_ops *att;
static struct vti_attest_ctx actx;
static char dir[512], root_file[600];
static const char *roots[1];
static struct vt_verify_opts vopts;

static int verify_der(const struct vt_buf *der, struct vt_report **keep)
{
    struct vt_report *rep = NULL;
    vt_res r = vti_cert_verify(&vopts, der->p, der->len, &rep);
    if (!rep)
        return -1;
    if (r.err != rep->err || (r.err == 0) != rep->verified) {
        fprintf(stderr, "report and result disagree\n");
        vt_report_free(rep);
        return -2;
    }
    if (keep)
        *keep = rep;
    else
        vt_report_free(rep);
    return r.err;
}

/* A self-signed certificate with the given extension value (NULL: none) under a fresh key. */
static void make_cert(const uint8_t *ext, size_t ext_len, enum vt_key_type kt, struct vt_buf *key,
                      struct vt_buf *cert)
{
    if (!key->len)
        CHECK_OK(cr->keygen(kt, key));
    struct vt_x509_ext x = { VTI_OID_DICE_EVIDENCE, false, ext, ext_len };
    struct vt_cert_params p = { .subject = "CN=forged", .not_before = 1700000000,
                                .not_after = 1900000000, .key = { key->p, key->len },
                                .exts = &x, .n_exts = ext ? 1 : 0 };
    CHECK_OK(cr->cert_create(&p, cert));
}

/* Evidence whose report data is SHA-256(claims) for claims built over spki. */
static void sim_evidence_for(const uint8_t *claims, size_t n, struct vt_buf *ev)
{
    uint8_t rd[64] = { 0 };
    struct vt_buf en = VT_BUF_INIT;
    CHECK_OK(cr->hash(VT_HASH_SHA256, claims, n, rd));
    CHECK_OK(att->collect(&actx, rd, ev, &en));
}

static void claims_for(const struct vt_buf *key, int alg, struct vt_buf *claims)
{
    struct vt_buf spki = VT_BUF_INIT, pkh = VT_BUF_INIT;
    CHECK_OK(cr->key_spki((struct vt_der){ key->p, key->len }, &spki));
    CHECK_OK(vti_ratls_pubkey_hash_value(cr, alg, spki.p, spki.len, &pkh));
    CHECK_OK(vti_cbor_put_head(claims, VTI_CBOR_MAP, 1));
    CHECK_OK(vti_cbor_put_tstr(claims, "pubkey-hash"));
    CHECK_OK(vti_cbor_put_bstr(claims, pkh.p, pkh.len));
    vti_buf_free(&spki);
    vti_buf_free(&pkh);
}

static void test_roundtrip(enum vt_key_type kt, const char *desc)
{
    const uint8_t nonce[] = { 9, 8, 7 };
    struct vt_custom_claim cc[2] = { { "app", (const uint8_t *)"demo", 4 }, { "zero", NULL, 0 } };
    struct vti_identity_params p = { .key_type = kt, .attester = att, .attest_ctx = &actx,
                                     .claims = cc, .n_claims = 2, .nonce = nonce, .nonce_len = 3 };
    struct vti_identity id = { VT_BUF_INIT, VT_BUF_INIT };
    CHECK_OK(vti_identity_create(&p, &id));
    enum vt_key_type got;
    CHECK_OK(cr->key_type((struct vt_der){ id.key_der.p, id.key_der.len }, &got));
    CHECK(got == kt);
    struct vti_ratls_cert rc;
    CHECK_OK(vti_ratls_cert_parse(cr, id.cert_der.p, id.cert_der.len, &rc));
    CHECK(rc.has_evidence && rc.ev.tag == VTI_TAG_SIM && !strcmp(rc.info.key_desc, desc));
    CHECK(!strcmp(rc.info.subject, "CN=Veritee RA-TLS,O=Veritee") && rc.info.self_sig_ok);
    CHECK(rc.claims.n == 4 && rc.claims.hash_alg == 1 && rc.claims.has_nonce && rc.claims.nonce_len == 3);
    bool noncrit = false;
    for (size_t i = 0; i < rc.info.n_exts; i++)
        if (!strcmp(rc.info.exts[i].oid, VTI_OID_DICE_EVIDENCE))
            noncrit = !rc.info.exts[i].critical;
    CHECK(noncrit);
    vti_ratls_cert_free(&rc);

    struct vt_report *rep = NULL;
    CHECK_ERR(verify_der(&id.cert_der, &rep), VT_OK);
    if (rep) {
        const struct vt_claim *c = vt_claims_get(&rep->claims, "ratls.claim.app");
        CHECK(c && c->n == 4 && !memcmp(c->p, "demo", 4));
        c = vt_claims_get(&rep->claims, "ratls.binding");
        CHECK(c && c->type == VT_CLAIM_BOOL && c->b);
        CHECK(vt_claims_get(&rep->claims, "measurement") && rep->insecure);
        vt_report_free(rep);
    }
    /* expected nonce: equal passes, different fails */
    vopts.nonce = nonce;
    vopts.nonce_len = 3;
    CHECK_ERR(verify_der(&id.cert_der, NULL), VT_OK);
    vopts.nonce = (const uint8_t *)"\x09\x08\x06";
    CHECK_ERR(verify_der(&id.cert_der, NULL), VT_ERR_CERT_NONCE_MISMATCH);
    vopts.nonce_len = 2;
    CHECK_ERR(verify_der(&id.cert_der, NULL), VT_ERR_CERT_NONCE_MISMATCH);
    vopts.nonce = NULL;
    vopts.nonce_len = 0;
    /* no trust anchor: the binding is still checked and reported */
    vopts.n_root_ca_files = 0;
    CHECK_ERR(verify_der(&id.cert_der, &rep), VT_ERR_NO_ROOT);
    if (rep) {
        const struct vt_claim *c = vt_claims_get(&rep->claims, "ratls.binding");
        CHECK(c && c->b);
        vt_report_free(rep);
    }
    vopts.n_root_ca_files = 1;
    /* a flipped signature byte (last byte of the DER) breaks the self-signature */
    id.cert_der.p[id.cert_der.len - 1] ^= 0x01;
    CHECK_ERR(verify_der(&id.cert_der, NULL), VT_ERR_CERT_SELF_SIG);
    vti_identity_free(&id);
}

static void test_binding(void)
{
    /* the evidence of one certificate in a certificate with another key */
    struct vti_identity_params p = { .key_type = VT_KEY_P256, .attester = att, .attest_ctx = &actx };
    struct vti_identity id = { VT_BUF_INIT, VT_BUF_INIT };
    CHECK_OK(vti_identity_create(&p, &id));
    struct vti_ratls_cert rc;
    CHECK_OK(vti_ratls_cert_parse(cr, id.cert_der.p, id.cert_der.len, &rc));
    const uint8_t *extv = NULL;
    size_t extl = 0;
    for (size_t i = 0; i < rc.info.n_exts; i++)
        if (!strcmp(rc.info.exts[i].oid, VTI_OID_DICE_EVIDENCE)) {
            extv = rc.info.exts[i].value.p;
            extl = rc.info.exts[i].value.len;
        }
    struct vt_buf k2 = VT_BUF_INIT, c2 = VT_BUF_INIT;
    make_cert(extv, extl, VT_KEY_P256, &k2, &c2);
    CHECK_ERR(verify_der(&c2, NULL), VT_ERR_CERT_PUBKEY_MISMATCH);
    vti_buf_free(&c2);

    /* right pubkey-hash for the new key, but the evidence binds the old claims */
    struct vt_buf claims = VT_BUF_INIT, ext = VT_BUF_INIT;
    claims_for(&k2, VT_HASH_SHA256, &claims);
    CHECK_OK(vti_ratls_ext_build(VTI_TAG_SIM, rc.ev.ev, rc.ev.ev_len, claims.p, claims.len, &ext));
    make_cert(ext.p, ext.len, VT_KEY_P256, &k2, &c2);
    CHECK_ERR(verify_der(&c2, NULL), VT_ERR_CERT_REPORT_DATA_MISMATCH);
    vti_ratls_cert_free(&rc);
    vti_buf_free(&c2);
    vti_buf_free(&ext);

    /* report data that matches on the first 32 bytes but not on byte 32..63 */
    for (int at = 0; at < 64; at += 31) {
        uint8_t rd[64] = { 0 };
        CHECK_OK(cr->hash(VT_HASH_SHA256, claims.p, claims.len, rd));
        rd[at + (at == 62 ? 1 : 0)] ^= 0x80;
        struct vt_buf ev = VT_BUF_INIT, en = VT_BUF_INIT;
        CHECK_OK(att->collect(&actx, rd, &ev, &en));
        CHECK_OK(vti_ratls_ext_build(VTI_TAG_SIM, ev.p, ev.len, claims.p, claims.len, &ext));
        make_cert(ext.p, ext.len, VT_KEY_P256, &k2, &c2);
        CHECK_ERR(verify_der(&c2, NULL), VT_ERR_CERT_REPORT_DATA_MISMATCH);
        vti_buf_free(&ev);
        vti_buf_free(&ext);
        vti_buf_free(&c2);
    }
    /* and the correct construction verifies (sanity for the helpers above) */
    struct vt_buf ev = VT_BUF_INIT;
    sim_evidence_for(claims.p, claims.len, &ev);
    CHECK_OK(vti_ratls_ext_build(VTI_TAG_SIM, ev.p, ev.len, claims.p, claims.len, &ext));
    make_cert(ext.p, ext.len, VT_KEY_P256, &k2, &c2);
    CHECK_ERR(verify_der(&c2, NULL), VT_OK);
    vti_buf_free(&c2);
    vti_buf_free(&ext);
    /* SHA-384 and SHA-512 pubkey hashes are accepted */
    for (int alg = 7; alg <= 8; alg++) {
        struct vt_buf cl = VT_BUF_INIT, e2 = VT_BUF_INIT;
        claims_for(&k2, alg, &cl);
        sim_evidence_for(cl.p, cl.len, &e2);
        CHECK_OK(vti_ratls_ext_build(VTI_TAG_SIM, e2.p, e2.len, cl.p, cl.len, &ext));
        make_cert(ext.p, ext.len, VT_KEY_P256, &k2, &c2);
        CHECK_ERR(verify_der(&c2, NULL), VT_OK);
        vti_buf_free(&cl);
        vti_buf_free(&e2);
        vti_buf_free(&c2);
        vti_buf_free(&ext);
    }
    vti_buf_free(&ev);
    vti_buf_free(&claims);
    vti_buf_free(&k2);
    vti_identity_free(&id);
}

/* ext = raw bytes; expect err from verification */
static void expect_ext(const struct vt_buf *ext, int err)
{
    struct vt_buf k = VT_BUF_INIT, c = VT_BUF_INIT;
    make_cert(ext->p, ext->len, VT_KEY_P256, &k, &c);
    CHECK_ERR(verify_der(&c, NULL), err);
    vti_buf_free(&k);
    vti_buf_free(&c);
}

static void test_malformed(void)
{
    const uint8_t ev[] = { 1, 2, 3 };
    struct vt_buf pkh = VT_BUF_INIT, x = VT_BUF_INIT, cl = VT_BUF_INIT;
    uint8_t h[32] = { 0 };
    CHECK_OK(vti_cbor_put_head(&pkh, VTI_CBOR_ARRAY, 2));
    CHECK_OK(vti_cbor_put_uint(&pkh, 1));
    CHECK_OK(vti_cbor_put_bstr(&pkh, h, 32));

    /* wrong array length: 3 elements */
    CHECK_OK(vti_cbor_put_head(&x, VTI_CBOR_TAG, VTI_TAG_SIM));
    CHECK_OK(vti_cbor_put_head(&x, VTI_CBOR_ARRAY, 3));
    CHECK_OK(vti_cbor_put_bstr(&x, ev, 3));
    CHECK_OK(vti_cbor_put_bstr(&x, ev, 3));
    CHECK_OK(vti_cbor_put_bstr(&x, ev, 3));
    expect_ext(&x, VT_ERR_CERT_EVIDENCE_SHAPE);
    x.len = 0;
    /* not tagged */
    CHECK_OK(vti_cbor_put_head(&x, VTI_CBOR_ARRAY, 2));
    CHECK_OK(vti_cbor_put_bstr(&x, ev, 3));
    CHECK_OK(vti_cbor_put_bstr(&x, ev, 3));
    expect_ext(&x, VT_ERR_CERT_EVIDENCE_SHAPE);
    x.len = 0;
    /* unknown tag */
    CHECK_OK(vti_ratls_ext_build(12345, ev, 3, ev, 3, &x));
    expect_ext(&x, VT_ERR_CERT_EVIDENCE_TAG);
    x.len = 0;
    /* claims without pubkey-hash */
    CHECK_OK(vti_cbor_put_head(&cl, VTI_CBOR_MAP, 1));
    CHECK_OK(vti_cbor_put_tstr(&cl, "nonce"));
    CHECK_OK(vti_cbor_put_bstr(&cl, ev, 3));
    CHECK_OK(vti_ratls_ext_build(VTI_TAG_SIM, ev, 3, cl.p, cl.len, &x));
    expect_ext(&x, VT_ERR_CERT_NO_PUBKEY_HASH);
    x.len = cl.len = 0;
    /* duplicate keys */
    CHECK_OK(vti_cbor_put_head(&cl, VTI_CBOR_MAP, 2));
    CHECK_OK(vti_cbor_put_tstr(&cl, "pubkey-hash"));
    CHECK_OK(vti_cbor_put_bstr(&cl, pkh.p, pkh.len));
    CHECK_OK(vti_cbor_put_tstr(&cl, "pubkey-hash"));
    CHECK_OK(vti_cbor_put_bstr(&cl, pkh.p, pkh.len));
    CHECK_OK(vti_ratls_ext_build(VTI_TAG_SIM, ev, 3, cl.p, cl.len, &x));
    expect_ext(&x, VT_ERR_CERT_DUP_CLAIM);
    x.len = cl.len = 0;
    /* hash algorithm 0 (reserved) and 2 are refused */
    for (int alg = 0; alg <= 2; alg += 2) {
        struct vt_buf bad = VT_BUF_INIT;
        CHECK_OK(vti_cbor_put_head(&bad, VTI_CBOR_ARRAY, 2));
        CHECK_OK(vti_cbor_put_uint(&bad, (uint64_t)alg));
        CHECK_OK(vti_cbor_put_bstr(&bad, h, 32));
        CHECK_OK(vti_cbor_put_head(&cl, VTI_CBOR_MAP, 1));
        CHECK_OK(vti_cbor_put_tstr(&cl, "pubkey-hash"));
        CHECK_OK(vti_cbor_put_bstr(&cl, bad.p, bad.len));
        CHECK_OK(vti_ratls_ext_build(VTI_TAG_SIM, ev, 3, cl.p, cl.len, &x));
        expect_ext(&x, VT_ERR_CERT_HASH_ALG);
        x.len = cl.len = 0;
        vti_buf_free(&bad);
    }
    /* pubkey-hash with a digest of the wrong length for its algorithm */
    {
        struct vt_buf bad = VT_BUF_INIT;
        CHECK_OK(vti_cbor_put_head(&bad, VTI_CBOR_ARRAY, 2));
        CHECK_OK(vti_cbor_put_uint(&bad, 7));
        CHECK_OK(vti_cbor_put_bstr(&bad, h, 32));
        CHECK_OK(vti_cbor_put_head(&cl, VTI_CBOR_MAP, 1));
        CHECK_OK(vti_cbor_put_tstr(&cl, "pubkey-hash"));
        CHECK_OK(vti_cbor_put_bstr(&cl, bad.p, bad.len));
        CHECK_OK(vti_ratls_ext_build(VTI_TAG_SIM, ev, 3, cl.p, cl.len, &x));
        expect_ext(&x, VT_ERR_CERT_CLAIMS);
        x.len = cl.len = 0;
        vti_buf_free(&bad);
    }
    /* claims buffer is not a map */
    CHECK_OK(vti_cbor_put_uint(&cl, 5));
    CHECK_OK(vti_ratls_ext_build(VTI_TAG_SIM, ev, 3, cl.p, cl.len, &x));
    expect_ext(&x, VT_ERR_CERT_CLAIMS);
    x.len = cl.len = 0;
    /* indefinite-length array in the extension */
    const uint8_t indef[] = { 0xda, 0x56, 0x54, 0x53, 0x30, 0x9f, 0x41, 0x00, 0x41, 0x00, 0xff };
    CHECK_OK(vti_buf_append(&x, indef, sizeof(indef)));
    expect_ext(&x, VT_ERR_CBOR_INDEFINITE);
    x.len = 0;
    /* trailing byte after the array */
    CHECK_OK(vti_ratls_ext_build(VTI_TAG_SIM, ev, 3, ev, 3, &x));
    CHECK_OK(vti_buf_u8(&x, 0));
    expect_ext(&x, VT_ERR_TRAILING_DATA);
    x.len = 0;

    /* no evidence extension at all */
    struct vt_buf k = VT_BUF_INIT, c = VT_BUF_INIT;
    make_cert(NULL, 0, VT_KEY_P256, &k, &c);
    CHECK_ERR(verify_der(&c, NULL), VT_ERR_NO_EVIDENCE);
    vti_buf_free(&c);
    /* two evidence extensions */
    CHECK_OK(vti_ratls_ext_build(VTI_TAG_SIM, ev, 3, ev, 3, &x));
    struct vt_x509_ext two[2] = { { VTI_OID_DICE_EVIDENCE, false, x.p, x.len },
                                  { VTI_OID_DICE_EVIDENCE, false, x.p, x.len } };
    struct vt_cert_params p = { .subject = "CN=dup", .not_before = 1, .not_after = 2000000000,
                                .key = { k.p, k.len }, .exts = two, .n_exts = 2 };
    CHECK_OK(cr->cert_create(&p, &c));
    CHECK_ERR(verify_der(&c, NULL), VT_ERR_CERT_EXT_DUP);
    vti_buf_free(&c);
    /* not a certificate */
    CHECK_ERR(verify_der(&x, NULL), VT_ERR_CERT_PARSE);
    vti_buf_free(&k);
    vti_buf_free(&x);
    vti_buf_free(&cl);
    vti_buf_free(&pkh);
}

static void test_identity_misc(void)
{
    /* ordinary certificate (no attester) and load from PEM files */
    struct vti_identity_params p = { .key_type = VT_KEY_P384, .subject = "CN=plain,O=Test" };
    struct vti_identity id = { VT_BUF_INIT, VT_BUF_INIT }, back = { VT_BUF_INIT, VT_BUF_INIT };
    CHECK_OK(vti_identity_create(&p, &id));
    CHECK_ERR(verify_der(&id.cert_der, NULL), VT_ERR_NO_EVIDENCE);
    struct vt_buf kp = VT_BUF_INIT, cp = VT_BUF_INIT;
    CHECK_OK(vti_pem_encode("PRIVATE KEY", id.key_der.p, id.key_der.len, &kp));
    CHECK_OK(vti_pem_encode("CERTIFICATE", id.cert_der.p, id.cert_der.len, &cp));
    char kf[700], cf[700];
    snprintf(kf, sizeof(kf), "%s/plain.key", vt_test_tmpdir());
    snprintf(cf, sizeof(cf), "%s/plain.pem", vt_test_tmpdir());
    CHECK_OK(vti_file_write(kf, kp.p, kp.len, 0600));
    CHECK_OK(vti_file_write(cf, cp.p, cp.len, 0644));
    CHECK_OK(vti_identity_load(cf, kf, &back));
    CHECK(back.cert_der.len == id.cert_der.len && !memcmp(back.cert_der.p, id.cert_der.p, id.cert_der.len));
    CHECK(back.key_der.len == id.key_der.len);
    vti_identity_free(&back);
    /* a key that does not belong to the certificate */
    struct vti_identity other = { VT_BUF_INIT, VT_BUF_INIT };
    CHECK_OK(vti_identity_create(&p, &other));
    kp.len = 0;
    CHECK_OK(vti_pem_encode("PRIVATE KEY", other.key_der.p, other.key_der.len, &kp));
    CHECK_OK(vti_file_write(kf, kp.p, kp.len, 0600));
    CHECK_ERR(vti_identity_load(cf, kf, &back), VT_ERR_CERT_KEY_MISMATCH);
    CHECK_ERR(vti_identity_load("/nonexistent.pem", kf, &back), VT_ERR_NOT_FOUND);
    /* claims need an attester; reserved and duplicate claim names refused */
    const uint8_t n1[] = { 1 };
    p.nonce = n1;
    p.nonce_len = 1;
    CHECK_ERR(vti_identity_create(&p, &back), VT_ERR_INVALID_ARG);
    p.nonce = NULL;
    p.attester = att;
    p.attest_ctx = &actx;
    struct vt_custom_claim bad[2] = { { "nonce", n1, 1 }, { "x", n1, 1 } };
    p.claims = bad;
    p.n_claims = 1;
    CHECK_ERR(vti_identity_create(&p, &back), VT_ERR_CERT_CLAIM_NAME);
    bad[0].name = "x";
    p.n_claims = 2;
    CHECK_ERR(vti_identity_create(&p, &back), VT_ERR_CERT_CLAIM_NAME);
    /* attester failure propagates */
    p.n_claims = 0;
    struct vti_attest_ctx nodir = { .sim_dir = "/nonexistent-sim-dir" };
    p.attest_ctx = &nodir;
    CHECK_ERR(vti_identity_create(&p, &back), VT_ERR_SIM_DIR_INVALID);
    vti_identity_free(&id);
    vti_identity_free(&other);
    vti_buf_free(&kp);
    vti_buf_free(&cp);
}

/* vt_verify(): PEM and DER certificates go to the certificate path, other bytes to raw
 * evidence dispatch; a report is always produced. */
static void test_public_verify(void)
{
    struct vti_identity_params p = { .key_type = VT_KEY_P256, .attester = att, .attest_ctx = &actx };
    struct vti_identity id = { VT_BUF_INIT, VT_BUF_INIT };
    CHECK_OK(vti_identity_create(&p, &id));
    struct vt_buf pem = VT_BUF_INIT;
    CHECK_OK(vti_buf_printf(&pem, "some text before\n"));
    CHECK_OK(vti_pem_encode("CERTIFICATE", id.cert_der.p, id.cert_der.len, &pem));
    vt_report *r = NULL;
    CHECK_ERR(vt_verify(&vopts, pem.p, pem.len, &r), VT_OK);
    CHECK(r && vt_report_verified(r) && vt_claims_get(vt_report_claims(r), "ratls.binding"));
    vt_report_free(r);
    CHECK_ERR(vt_verify(&vopts, id.cert_der.p, id.cert_der.len, &r), VT_OK);
    CHECK(r && vt_report_verified(r) && !strcmp(vt_report_tee(r), "sim"));
    vt_report_free(r);
    const uint8_t junk[] = "definitely not evidence";
    CHECK_ERR(vt_verify(&vopts, junk, sizeof(junk), &r), VT_ERR_UNKNOWN_EVIDENCE);
    CHECK(r && !vt_report_verified(r) && vt_report_error(r) == VT_ERR_UNKNOWN_EVIDENCE &&
          vt_report_step_count(r) == 1);
    vt_report_free(r);
    CHECK_ERR(vt_verify(&vopts, NULL, 0, &r), VT_ERR_INVALID_ARG);
    CHECK(r && vt_report_error(r) == VT_ERR_INVALID_ARG);
    vt_report_free(r);
    /* a named verifier that does not handle the evidence */
    struct vt_verify_opts o = vopts;
    o.verifier = "null";
    CHECK_ERR(vt_verify(&o, id.cert_der.p, id.cert_der.len, &r), VT_ERR_UNKNOWN_EVIDENCE);
    vt_report_free(r);
    o.verifier = "no-such-verifier";
    CHECK_ERR(vt_verify(&o, id.cert_der.p, id.cert_der.len, &r), VT_ERR_NO_INSTANCE);
    vt_report_free(r);
    /* a truncated PEM block */
    pem.len -= 40;
    CHECK_ERR(vt_verify(&vopts, pem.p, pem.len, &r), VT_ERR_BAD_BASE64);
    CHECK(r && !vt_report_verified(r));
    vt_report_free(r);
    char *js = NULL;
    CHECK_ERR(vt_verify(&vopts, id.cert_der.p, id.cert_der.len, &r), VT_OK);
    js = vt_report_to_json(r, true);
    CHECK(js && strstr(js, "\"ratls.binding\": true") && strstr(js, "\"checks\""));
    free(js);
    vt_report_free(r);
    vti_buf_free(&pem);
    vti_identity_free(&id);

    /* a raw Intel quote carries its PCK chain as PEM text: it must go to the quote verifier,
     * not be mistaken for a certificate */
    struct vt_buf q = vt_testdata_read("sgx/automata_sgx_quote_v3_00606a000000.bin");
    CHECK(vti_pem_has(q.p, q.len, "CERTIFICATE"));
    CHECK(vt_verify(&vopts, q.p, q.len, &r) != VT_OK); /* no collateral given */
    CHECK(r && !strcmp(vt_report_tee(r), "sgx"));
    vt_report_free(r);
    vti_buf_free(&q);
}

int main(void)
{
    CHECK_OK(vti_registry_init(NULL));
    CHECK_OK(vti_crypto_get(NULL, &cr));
    att = vt_test_sim_dir("sim", dir, sizeof(dir), root_file, sizeof(root_file));
    if (!att)
        return vt_test_done();
    actx.sim_dir = dir;
    roots[0] = root_file;
    vopts.root_ca_files = roots;
    vopts.n_root_ca_files = 1;
    vopts.at = 1800000000;

    test_roundtrip(VT_KEY_P256, "secp256r1");
    test_roundtrip(VT_KEY_P384, "secp384r1");
    test_roundtrip(VT_KEY_RSA3072, "rsa3072");
    test_binding();
    test_malformed();
    test_identity_misc();
    test_public_verify();
    return vt_test_done();
}
