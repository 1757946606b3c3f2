/* SPDX-License-Identifier: Apache-2.0 */
/*
 * wolf_crypto_test.c - the wolfcrypt crypto backend, cross-checked against the openssl
 * backend through the same vt_crypto_ops table: digests (known answers), keys of every type
 * (PKCS#8 / SPKI byte-identical whichever backend reads them), signatures made by one and
 * verified by the other (a flipped bit refused by both), certificates built by either and
 * parsed by both with identical results (including a custom extension, as the RA-TLS
 * evidence extension), chains across backends at pinned times, malformed DER refused.
 * Without wolfSSL in the build the test only checks that the instances are absent.
 */
#include "crypto/crypto.h"
#include "util/codec.h"
#include "vt_test.h"

static const struct vt_crypto_ops *wc, *os;

#define NB 1700000000 /* 2023-11-14 */
#define NA 1900000000 /* 2030-03-17 */

static struct vt_der D(const struct vt_buf *b) { return (struct vt_der){ b->p, b->len }; }

static void test_hash(void)
{
    uint8_t h[64], o[64];
    char hx[129];
    CHECK_OK(wc->hash(VT_HASH_SHA256, (const uint8_t *)"abc", 3, h));
    vti_hex_encode(h, 32, hx);
    CHECK(!strcmp(hx, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
    CHECK_OK(wc->hash(VT_HASH_SHA384, (const uint8_t *)"abc", 3, h));
    vti_hex_encode(h, 48, hx);
    CHECK(!strcmp(hx, "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7"));
    CHECK_OK(wc->hash(VT_HASH_SHA512, (const uint8_t *)"", 0, h));
    CHECK_OK(os->hash(VT_HASH_SHA512, (const uint8_t *)"", 0, o));
    CHECK(!memcmp(h, o, 64));
    CHECK_ERR(wc->hash((enum vt_hash_alg)0, (const uint8_t *)"", 0, h), VT_ERR_UNSUPPORTED);
}

/* Keys made by `gen` are read identically by both backends; signatures cross-verify. */
static void test_keys(const struct vt_crypto_ops *gen, enum vt_key_type t, enum vt_hash_alg alg)
{
    struct vt_buf key = VT_BUF_INIT, s1 = VT_BUF_INIT, s2 = VT_BUF_INIT, sig = VT_BUF_INIT;
    struct vt_buf pem = VT_BUF_INIT, imp = VT_BUF_INIT, imp2 = VT_BUF_INIT;
    enum vt_key_type got = (enum vt_key_type)99;
    CHECK_OK(gen->keygen(t, &key));
    CHECK_OK(wc->key_type(D(&key), &got));
    CHECK(got == t);
    got = (enum vt_key_type)99;
    CHECK_OK(os->key_type(D(&key), &got));
    CHECK(got == t);
    CHECK_OK(wc->key_spki(D(&key), &s1));
    CHECK_OK(os->key_spki(D(&key), &s2));
    CHECK(s1.len == s2.len && s1.len > 0 && !memcmp(s1.p, s2.p, s1.len));

    const uint8_t msg[] = "attest me";
    const struct vt_crypto_ops *both[2] = { wc, os };
    for (int i = 0; i < 2; i++) {
        sig.len = 0;
        CHECK_OK(both[i]->sign(D(&key), msg, sizeof(msg), &sig));
        for (int j = 0; j < 2; j++) {
            CHECK_OK(both[j]->verify(D(&s1), alg, msg, sizeof(msg), sig.p, sig.len));
            sig.p[sig.len / 2] ^= 0x01;
            CHECK_ERR(both[j]->verify(D(&s1), alg, msg, sizeof(msg), sig.p, sig.len),
                      VT_ERR_SIGNATURE);
            sig.p[sig.len / 2] ^= 0x01;
            CHECK_ERR(both[j]->verify(D(&s1), alg, msg, sizeof(msg) - 1, sig.p, sig.len),
                      VT_ERR_SIGNATURE);
        }
    }
    /* PEM import (as written by `veritee cert create`) gives the same PKCS#8 back. */
    CHECK_OK(vti_pem_encode("PRIVATE KEY", key.p, key.len, &pem));
    CHECK_OK(wc->key_import(pem.p, pem.len, &imp));
    CHECK_OK(os->key_import(pem.p, pem.len, &imp2));
    CHECK(imp.len == imp2.len && !memcmp(imp.p, imp2.p, imp.len));
    /* A truncated key is refused. */
    CHECK_ERR(wc->key_type((struct vt_der){ key.p, key.len - 1 }, &got), VT_ERR_KEY_PARSE);
    CHECK_ERR(wc->key_spki((struct vt_der){ s1.p, s1.len }, &imp), VT_ERR_KEY_PARSE);
    vti_buf_free(&key);
    vti_buf_free(&imp);
    vti_buf_free(&imp2);
    vti_buf_free(&pem);
    vti_buf_free_nowipe(&s1);
    vti_buf_free_nowipe(&s2);
    vti_buf_free_nowipe(&sig);
}

static void same_info(const struct vt_cert_info *a, const struct vt_cert_info *b)
{
    CHECK(!strcmp(a->subject, b->subject));
    CHECK(!strcmp(a->issuer, b->issuer));
    CHECK(a->not_before == b->not_before && a->not_after == b->not_after);
    CHECK(!strcmp(a->key_desc, b->key_desc));
    CHECK(!strcmp(a->sig_alg, b->sig_alg));
    CHECK(a->sig_alg_null_params == b->sig_alg_null_params);
    CHECK(a->self_issued == b->self_issued);
    CHECK(a->self_sig_ok == b->self_sig_ok);
    CHECK(a->spki.len == b->spki.len && !memcmp(a->spki.p, b->spki.p, a->spki.len));
    CHECK(a->n_exts == b->n_exts);
    for (size_t i = 0; i < a->n_exts && i < b->n_exts; i++) {
        const struct vt_cert_ext_info *x = &a->exts[i], *y = &b->exts[i];
        CHECK(!strcmp(x->oid, y->oid));
        CHECK(x->critical == y->critical);
        CHECK(x->oid_der.len == y->oid_der.len && !memcmp(x->oid_der.p, y->oid_der.p, x->oid_der.len));
        CHECK(x->value.len == y->value.len &&
              (x->value.len == 0 || !memcmp(x->value.p, y->value.p, x->value.len)));
    }
}

/* Certificate built by `gen`: both parsers agree, the custom extension survives, chains
 * verify with both backends. */
static void test_certs(const struct vt_crypto_ops *gen, const struct vt_crypto_ops *other,
                       enum vt_key_type t)
{
    struct vt_buf cakey = VT_BUF_INIT, ca = VT_BUF_INIT, key = VT_BUF_INIT, leaf = VT_BUF_INIT;
    struct vt_buf spki = VT_BUF_INIT;
    CHECK_OK(gen->keygen(t, &cakey));
    struct vt_cert_params cp = {
        .subject = "CN=Test Root,O=Veritee,C=DE", .not_before = NB, .not_after = NA,
        .serial = 7, .is_ca = true, .key = D(&cakey),
    };
    CHECK_OK(gen->cert_create(&cp, &ca));
    CHECK_OK(other->keygen(VT_KEY_P256, &key));
    CHECK_OK(other->key_spki(D(&key), &spki));
    static const uint8_t ev[] = { 0xd9, 0x01, 0x02, 0x82, 0x41, 0x00, 0x41, 0x01 };
    struct vt_x509_ext ext = { "2.23.133.5.4.9", false, ev, sizeof(ev) };
    struct vt_x509_ext ext2 = { "1.3.6.1.4.1.99999.1", true, (const uint8_t *)"\x05\x00", 2 };
    struct vt_x509_ext exts[2] = { ext, ext2 };
    struct vt_cert_params lp = {
        .subject = "CN=leaf", .not_before = NB, .not_after = NA - 1000, .subject_spki = D(&spki),
        .issuer_key = D(&cakey), .issuer_cert = D(&ca), .exts = exts, .n_exts = 2,
    };
    CHECK_OK(gen->cert_create(&lp, &leaf));
    /* The same leaf with only a non-critical custom extension, for chain verification (a
     * critical extension nobody processes makes the certificate untrusted: RFC 5280). */
    struct vt_buf leaf2 = VT_BUF_INIT;
    lp.n_exts = 1;
    CHECK_OK(gen->cert_create(&lp, &leaf2));

    struct vt_cert_info a, b;
    CHECK_OK(wc->cert_parse(ca.p, ca.len, VT_CERT_PARSE_SELF_SIG, &a));
    CHECK_OK(os->cert_parse(ca.p, ca.len, VT_CERT_PARSE_SELF_SIG, &b));
    same_info(&a, &b);
    CHECK(!strcmp(a.subject, "CN=Test Root,O=Veritee,C=DE"));
    CHECK(a.self_issued && a.self_sig_ok);
    vti_cert_info_free(&a);
    vti_cert_info_free(&b);

    CHECK_OK(wc->cert_parse(leaf.p, leaf.len, VT_CERT_PARSE_SELF_SIG, &a));
    CHECK_OK(os->cert_parse(leaf.p, leaf.len, VT_CERT_PARSE_SELF_SIG, &b));
    same_info(&a, &b);
    CHECK(!strcmp(a.issuer, "CN=Test Root,O=Veritee,C=DE") && !a.self_issued && !a.self_sig_ok);
    CHECK(a.spki.len == spki.len && !memcmp(a.spki.p, spki.p, spki.len));
    bool found = false;
    for (size_t i = 0; i < a.n_exts; i++)
        if (!strcmp(a.exts[i].oid, "2.23.133.5.4.9") && a.exts[i].value.len == sizeof(ev) &&
            !memcmp(a.exts[i].value.p, ev, sizeof(ev)) && !a.exts[i].critical)
            found = true;
    CHECK(found);
    vti_cert_info_free(&a);
    vti_cert_info_free(&b);

    struct vt_der chain = D(&leaf2), root = D(&ca), crit = D(&leaf);
    const struct vt_crypto_ops *both[2] = { wc, os };
    for (int i = 0; i < 2; i++) {
        CHECK_ERR(both[i]->chain_verify(&crit, 1, &root, 1, NB + 10), VT_ERR_NOT_TRUSTED);
        CHECK_OK(both[i]->chain_verify(&chain, 1, &root, 1, NB + 10));
        CHECK_ERR(both[i]->chain_verify(&chain, 1, &root, 1, NA - 10), VT_ERR_NOT_TRUSTED);
        CHECK_ERR(both[i]->chain_verify(&chain, 1, &root, 1, NB - 10), VT_ERR_NOT_TRUSTED);
        CHECK_ERR(both[i]->chain_verify(&chain, 1, &chain, 1, NB + 10), VT_ERR_NOT_TRUSTED);
        CHECK_OK(both[i]->chain_verify(&root, 1, &root, 1, NB + 10));
        CHECK_ERR(both[i]->chain_verify(&chain, 1, &root, 0, NB + 10), VT_ERR_NO_ROOT);
    }
    /* A flipped signature byte: parses, but no longer verifies (either backend). */
    leaf2.p[leaf2.len - 5] ^= 0x01;
    CHECK_OK(wc->cert_parse(leaf2.p, leaf2.len, 0, &a));
    vti_cert_info_free(&a);
    for (int i = 0; i < 2; i++)
        CHECK_ERR(both[i]->chain_verify(&chain, 1, &root, 1, NB + 10), VT_ERR_NOT_TRUSTED);
    vti_buf_free_nowipe(&leaf2);
    /* Truncated and trailing bytes: not one certificate. */
    CHECK_ERR(wc->cert_parse(leaf.p, leaf.len - 1, 0, &a), VT_ERR_CERT_PARSE);
    CHECK_OK(vti_buf_u8(&leaf, 0));
    CHECK_ERR(wc->cert_parse(leaf.p, leaf.len, 0, &a), VT_ERR_CERT_PARSE);
    CHECK_ERR(wc->cert_parse(leaf.p, 0, 0, &a), VT_ERR_CERT_PARSE);

    vti_buf_free(&cakey);
    vti_buf_free(&key);
    vti_buf_free_nowipe(&ca);
    vti_buf_free_nowipe(&leaf);
    vti_buf_free_nowipe(&spki);
}

/* Self-signed with the RA-TLS default subject: byte layout choices match openssl's. */
static void test_self_signed_same_shape(enum vt_key_type t)
{
    struct vt_buf key = VT_BUF_INIT, c1 = VT_BUF_INIT, c2 = VT_BUF_INIT;
    CHECK_OK(wc->keygen(t, &key));
    struct vt_cert_params p = {
        .subject = "CN=Veritee RA-TLS,O=Veritee", .not_before = NB, .not_after = NA,
        .serial = 42, .key = D(&key),
    };
    CHECK_OK(wc->cert_create(&p, &c1));
    CHECK_OK(os->cert_create(&p, &c2));
    /* Same TBS apart from the signature value: compare the parsed views. */
    struct vt_cert_info a, b;
    CHECK_OK(os->cert_parse(c1.p, c1.len, VT_CERT_PARSE_SELF_SIG, &a));
    CHECK_OK(os->cert_parse(c2.p, c2.len, VT_CERT_PARSE_SELF_SIG, &b));
    same_info(&a, &b);
    CHECK(a.self_sig_ok);
    vti_cert_info_free(&a);
    vti_cert_info_free(&b);
    vti_buf_free(&key);
    vti_buf_free_nowipe(&c1);
    vti_buf_free_nowipe(&c2);
}

int main(void)
{
    CHECK_OK(vti_crypto_get("openssl", &os));
    if (vti_crypto_get("wolfcrypt", &wc).err) {
        /* A build without wolfSSL: the instance is simply absent. */
        CHECK_ERR(vti_crypto_get("wolfcrypt", &wc), VT_ERR_NO_INSTANCE);
        printf("wolfcrypt not built in: only its absence was checked\n");
        return vt_test_done();
    }
    test_hash();
    const struct vt_crypto_ops *gens[2] = { wc, os };
    for (int i = 0; i < 2; i++) {
        test_keys(gens[i], VT_KEY_P256, VT_HASH_SHA256);
        test_keys(gens[i], VT_KEY_P384, VT_HASH_SHA384);
        test_keys(gens[i], VT_KEY_RSA3072, VT_HASH_SHA256);
        test_certs(gens[i], gens[1 - i], VT_KEY_P256);
        test_certs(gens[i], gens[1 - i], VT_KEY_P384);
    }
    test_certs(wc, os, VT_KEY_RSA3072);
    test_self_signed_same_shape(VT_KEY_P256);
    test_self_signed_same_shape(VT_KEY_RSA3072);
    return vt_test_done();
}
