/* SPDX-License-Identifier: Apache-2.0 */
/*
 * crypto_test.c - the openssl crypto backend through the vt_crypto_ops table: keys of every
 * type, SPKI, digests (known answers), sign/verify (and a flipped bit refused), certificates
 * (self-signed and issued, parse back), chain verification at a pinned time, PEM framing.
 */
#include "crypto/crypto.h"
#include "util/codec.h"
#include "vt_test.h"

static const struct vt_crypto_ops *cr;

static void test_hash(void)
{
    uint8_t h[64];
    char hx[129];
    CHECK_OK(cr->hash(VT_HASH_SHA256, (const uint8_t *)"abc", 3, h));
    vti_hex_encode(h, 32, hx);
    CHECK(!strcmp(hx, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
    CHECK_OK(cr->hash(VT_HASH_SHA384, (const uint8_t *)"abc", 3, h));
    vti_hex_encode(h, 48, hx);
    CHECK(!strcmp(hx, "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7"));
    CHECK_OK(cr->hash(VT_HASH_SHA512, (const uint8_t *)"", 0, h));
    vti_hex_encode(h, 4, hx);
    CHECK(!strcmp(hx, "cf83e135"));
    CHECK_ERR(cr->hash((enum vt_hash_alg)0, (const uint8_t *)"", 0, h), VT_ERR_UNSUPPORTED);
    CHECK(vti_hash_len(1) == 32 && vti_hash_len(7) == 48 && vti_hash_len(8) == 64 && vti_hash_len(0) == 0);
}

static void test_keys(enum vt_key_type t, enum vt_hash_alg alg)
{
    struct vt_buf key = VT_BUF_INIT, spki = VT_BUF_INIT, sig = VT_BUF_INIT, pem = VT_BUF_INIT;
    struct vt_buf again = VT_BUF_INIT, cert = VT_BUF_INIT;
    enum vt_key_type got = (enum vt_key_type)99;
    CHECK_OK(cr->keygen(t, &key));
    CHECK_OK(cr->key_type((struct vt_der){ key.p, key.len }, &got));
    CHECK(got == t);
    CHECK_OK(cr->key_spki((struct vt_der){ key.p, key.len }, &spki));
    const uint8_t msg[] = "attest me";
    CHECK_OK(cr->sign((struct vt_der){ key.p, key.len }, msg, sizeof(msg), &sig));
    CHECK_OK(cr->verify((struct vt_der){ spki.p, spki.len }, alg, msg, sizeof(msg), sig.p, sig.len));
    sig.p[sig.len / 2] ^= 0x01;
    CHECK_ERR(cr->verify((struct vt_der){ spki.p, spki.len }, alg, msg, sizeof(msg), sig.p, sig.len),
              VT_ERR_SIGNATURE);
    sig.p[sig.len / 2] ^= 0x01;
    CHECK_ERR(cr->verify((struct vt_der){ spki.p, spki.len }, alg, msg, sizeof(msg) - 1, sig.p, sig.len),
              VT_ERR_SIGNATURE);
    /* PEM round trip through key_import */
    CHECK_OK(vti_pem_encode("PRIVATE KEY", key.p, key.len, &pem));
    CHECK_OK(cr->key_import(pem.p, pem.len, &again));
    CHECK(again.len == key.len && memcmp(again.p, key.p, key.len) == 0);
    /* a self-signed certificate parses back with the same SPKI and subject */
    struct vt_cert_params p = { .subject = "CN=test,O=Veritee", .not_before = 1700000000,
                                .not_after = 1800000000, .serial = 7, .key = { key.p, key.len } };
    CHECK_OK(cr->cert_create(&p, &cert));
    struct vt_cert_info ci;
    CHECK_OK(cr->cert_parse(cert.p, cert.len, VT_CERT_PARSE_SELF_SIG, &ci));
    CHECK(!strcmp(ci.subject, "CN=test,O=Veritee"));
    CHECK(ci.self_issued && ci.self_sig_ok);
    CHECK(ci.not_before == 1700000000 && ci.not_after == 1800000000);
    CHECK(ci.spki.len == spki.len && memcmp(ci.spki.p, spki.p, spki.len) == 0);
    vti_cert_info_free(&ci);
    CHECK_ERR(cr->cert_parse(cert.p, cert.len - 1, 0, &ci), VT_ERR_CERT_PARSE);
    vti_buf_free(&key);
    vti_buf_free(&spki);
    vti_buf_free(&sig);
    vti_buf_free(&pem);
    vti_buf_free(&again);
    vti_buf_free(&cert);
}

static void test_chain(void)
{
    struct vt_buf rk = VT_BUF_INIT, rc = VT_BUF_INIT, lk = VT_BUF_INIT, ls = VT_BUF_INIT;
    struct vt_buf lc = VT_BUF_INIT, ok = VT_BUF_INIT, oc = VT_BUF_INIT;
    CHECK_OK(cr->keygen(VT_KEY_P256, &rk));
    CHECK_OK(cr->keygen(VT_KEY_P256, &lk));
    CHECK_OK(cr->keygen(VT_KEY_P384, &ok));
    CHECK_OK(cr->key_spki((struct vt_der){ lk.p, lk.len }, &ls));
    struct vt_cert_params rp = { .subject = "CN=root", .not_before = 1000000000, .not_after = 2000000000,
                                 .is_ca = true, .key = { rk.p, rk.len } };
    CHECK_OK(cr->cert_create(&rp, &rc));
    struct vt_cert_params op = rp;
    op.key = (struct vt_der){ ok.p, ok.len };
    CHECK_OK(cr->cert_create(&op, &oc));
    struct vt_cert_params lp = { .subject = "CN=leaf", .not_before = 1100000000, .not_after = 1900000000,
                                 .subject_spki = { ls.p, ls.len }, .issuer_key = { rk.p, rk.len },
                                 .issuer_cert = { rc.p, rc.len } };
    CHECK_OK(cr->cert_create(&lp, &lc));
    struct vt_der leaf = { lc.p, lc.len }, root = { rc.p, rc.len }, other = { oc.p, oc.len };
    CHECK_OK(cr->chain_verify(&leaf, 1, &root, 1, 1500000000));
    CHECK_ERR(cr->chain_verify(&leaf, 1, &other, 1, 1500000000), VT_ERR_NOT_TRUSTED);
    CHECK_ERR(cr->chain_verify(&leaf, 1, &root, 1, 1950000000), VT_ERR_NOT_TRUSTED); /* expired */
    CHECK_ERR(cr->chain_verify(&leaf, 1, &root, 1, 1050000000), VT_ERR_NOT_TRUSTED); /* not yet */
    CHECK_ERR(cr->chain_verify(&leaf, 1, &root, 0, 1500000000), VT_ERR_NO_ROOT);
    struct vt_cert_info ci;
    CHECK_OK(cr->cert_parse(lc.p, lc.len, 0, &ci));
    CHECK(!ci.self_issued && !strcmp(ci.issuer, "CN=root"));
    vti_cert_info_free(&ci);
    /* PEM with two certificates and other blocks in between */
    struct vt_buf pem = VT_BUF_INIT;
    CHECK_OK(vti_pem_encode("CERTIFICATE", rc.p, rc.len, &pem));
    CHECK_OK(vti_pem_encode("PRIVATE KEY", rk.p, rk.len, &pem));
    CHECK_OK(vti_pem_encode("CERTIFICATE", lc.p, lc.len, &pem));
    struct vt_pem_list l = { 0 };
    CHECK_OK(vti_pem_decode(pem.p, pem.len, "CERTIFICATE", &l));
    CHECK(l.n == 2 && l.der[1].len == lc.len && memcmp(l.der[1].p, lc.p, lc.len) == 0);
    vti_pem_list_free(&l);
    CHECK_ERR(vti_pem_decode((const uint8_t *)"nothing", 7, "CERTIFICATE", &l), VT_ERR_NOT_FOUND);
    const char *bad = "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n";
    CHECK_ERR(vti_pem_decode((const uint8_t *)bad, strlen(bad), "CERTIFICATE", &l), VT_ERR_BAD_BASE64);
    const char *open = "-----BEGIN CERTIFICATE-----\nAAAA\n";
    CHECK_ERR(vti_pem_decode((const uint8_t *)open, strlen(open), "CERTIFICATE", &l), VT_ERR_BAD_BASE64);
    vti_buf_free(&pem);
    vti_buf_free(&rk);
    vti_buf_free(&rc);
    vti_buf_free(&lk);
    vti_buf_free(&ls);
    vti_buf_free(&lc);
    vti_buf_free(&ok);
    vti_buf_free(&oc);
}

static void test_bad_input(void)
{
    struct vt_buf out = VT_BUF_INIT;
    const uint8_t junk[] = { 0x30, 0x03, 0x02, 0x01, 0x00 };
    CHECK_ERR(cr->key_import(junk, sizeof(junk), &out), VT_ERR_KEY_PARSE);
    CHECK_ERR(cr->key_spki((struct vt_der){ junk, sizeof(junk) }, &out), VT_ERR_KEY_PARSE);
    CHECK_ERR(cr->keygen((enum vt_key_type)42, &out), VT_ERR_KEY_TYPE);
    CHECK_ERR(cr->verify((struct vt_der){ junk, sizeof(junk) }, VT_HASH_SHA256, junk, 1, junk, 1),
              VT_ERR_KEY_PARSE);
    struct vt_cert_params p = { .subject = "no-equals-sign", .not_before = 1, .not_after = 2 };
    CHECK_OK(cr->keygen(VT_KEY_P256, &out));
    p.key = (struct vt_der){ out.p, out.len };
    struct vt_buf cert = VT_BUF_INIT;
    CHECK_ERR(cr->cert_create(&p, &cert), VT_ERR_INVALID_ARG);
    vti_buf_free(&out);
}

int main(void)
{
    CHECK_OK(vti_registry_init(NULL));
    CHECK_OK(vti_crypto_get(NULL, &cr));
    CHECK(!strcmp(cr->hdr.name, "openssl") && cr->hdr.kind == VT_KIND_CRYPTO);
    const struct vt_crypto_ops *named;
    CHECK_OK(vti_crypto_get("openssl", &named));
    CHECK(named == cr);
    CHECK_ERR(vti_crypto_get("no-such-backend", &named), VT_ERR_NO_INSTANCE);
    test_hash();
    test_keys(VT_KEY_P256, VT_HASH_SHA256);
    test_keys(VT_KEY_P384, VT_HASH_SHA384);
    test_keys(VT_KEY_RSA3072, VT_HASH_SHA256);
    test_chain();
    test_bad_input();
    return vt_test_done();
}
