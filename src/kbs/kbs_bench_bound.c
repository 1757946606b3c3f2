/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kbs_bench_bound.c - the crypto bound of the KBS protocol, measured with OpenSSL primitives
 * on the same machine, with the same thread count, in the same run as kbs_bench:
 *   full run   = client quote (2x ECDSA P-256 sign: QE report by the PCK key, quote by the
 *                attestation key) + server quote verification (2x ECDSA P-256 verify, warm
 *                collateral) + EAR token (1x ES256 sign) + resource JWE (ECDH-ES+A256KW:
 *                ephemeral P-256 key, ECDH, Concat KDF, AES key wrap, A256GCM) + client JWE
 *                decryption (ECDH, Concat KDF, AES key unwrap, A256GCM)
 *   token fetch = 1x ES256 verify (the token) + the resource JWE as above.
 * Setup failures exit: a bench has no half-made result.
 */
#include "kbs_bench_bound.h"

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct bkeys {
    EVP_PKEY *pck, *ak, *ear, *tee;
    uint8_t quote[632], qe[384], ear_msg[600], secret[32];
};

static void die(const char *what)
{
    fprintf(stderr, "kbs_bench: bound setup: %s\n", what);
    exit(1);
}

/* Key generation from a P-256 parameter template, made once (cheaper than EVP_EC_gen, which
 * builds the curve for every key): the fastest way OpenSSL 3.0 offers, as jose.c does. */
static EVP_PKEY *p256_template;

static void p256_template_make(void)
{
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    if (!c || EVP_PKEY_paramgen_init(c) != 1 ||
        EVP_PKEY_CTX_set_ec_paramgen_curve_nid(c, NID_X9_62_prime256v1) != 1 ||
        EVP_PKEY_paramgen(c, &p256_template) != 1)
        die("P-256 parameters");
    EVP_PKEY_CTX_free(c);
}

static EVP_PKEY *p256(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, p256_template_make);
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_pkey(NULL, p256_template, NULL);
    EVP_PKEY *k = NULL;
    if (!c || EVP_PKEY_keygen_init(c) != 1 || EVP_PKEY_keygen(c, &k) != 1)
        die("P-256 key generation");
    EVP_PKEY_CTX_free(c);
    return k;
}

static size_t sign(EVP_PKEY *k, const uint8_t *m, size_t n, uint8_t *sig)
{
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    size_t sl = 80;
    if (!c || EVP_DigestSignInit(c, NULL, EVP_sha256(), NULL, k) != 1 ||
        EVP_DigestSign(c, sig, &sl, m, n) != 1)
        die("ECDSA sign");
    EVP_MD_CTX_free(c);
    return sl;
}

static void verify(EVP_PKEY *k, const uint8_t *m, size_t n, const uint8_t *sig, size_t sl)
{
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    if (!c || EVP_DigestVerifyInit(c, NULL, EVP_sha256(), NULL, k) != 1 ||
        EVP_DigestVerify(c, sig, sl, m, n) != 1)
        die("ECDSA verify");
    EVP_MD_CTX_free(c);
}

/* ECDH + one-block Concat KDF (SHA-256 over counter || Z || other info) into kek. */
static void ecdh_kek(EVP_PKEY *priv, EVP_PKEY *pub, uint8_t kek[32])
{
    uint8_t z[32], in[4 + 32 + 64] = { 0, 0, 0, 1 };
    size_t zl = sizeof(z);
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(priv, NULL);
    /* no peer check here: the protocol checks each peer point once, when it arrives */
    if (!c || EVP_PKEY_derive_init(c) != 1 || EVP_PKEY_derive_set_peer_ex(c, pub, 0) != 1 ||
        EVP_PKEY_derive(c, z, &zl) != 1)
        die("ECDH");
    EVP_PKEY_CTX_free(c);
    memcpy(in + 4, z, 32);
    memcpy(in + 36, "ECDH-ES+A256KW", 14);
    unsigned int l = 32;
    if (EVP_Digest(in, sizeof(in), kek, &l, EVP_sha256(), NULL) != 1)
        die("Concat KDF");
}

/* AES-256 key wrap (RFC 3394) of 32 bytes, or unwrap of 40. */
static void keywrap(const uint8_t kek[32], const uint8_t *in, int n, uint8_t *out, int enc)
{
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int l = 0;
    if (!c || EVP_CipherInit_ex(c, EVP_aes_256_wrap(), NULL, kek, NULL, enc) != 1 ||
        EVP_CipherUpdate(c, out, &l, in, n) != 1)
        die("AES key wrap");
    EVP_CIPHER_CTX_free(c);
}

/* A256GCM over n bytes with a 16-byte tag (enc) or its check (dec). */
static void gcm(const uint8_t cek[32], const uint8_t *in, int n, uint8_t *out, uint8_t tag[16],
                int enc)
{
    static const uint8_t iv[12];
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int l = 0;
    if (!c || EVP_CipherInit_ex(c, EVP_aes_256_gcm(), NULL, cek, iv, enc) != 1 ||
        EVP_CipherUpdate(c, NULL, &l, (const uint8_t *)"hdr", 3) != 1 ||
        EVP_CipherUpdate(c, out, &l, in, n) != 1 ||
        (!enc && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16, tag) != 1) ||
        EVP_CipherFinal_ex(c, out + l, &l) != 1 ||
        (enc && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, tag) != 1))
        die("AES-GCM");
    EVP_CIPHER_CTX_free(c);
}

struct jwe {
    EVP_PKEY *epk;
    uint8_t wrapped[40], ct[64], tag[16];
};

/* The server side of the resource JWE to the TEE key. */
static void jwe_encrypt(struct bkeys *k, struct jwe *j)
{
    uint8_t kek[32], cek[32] = { 1 };
    j->epk = p256();
    ecdh_kek(j->epk, k->tee, kek);
    keywrap(kek, cek, 32, j->wrapped, 1);
    gcm(cek, k->secret, sizeof(k->secret), j->ct, j->tag, 1);
}

/* The client side: TEE private key. */
static void jwe_decrypt(struct bkeys *k, struct jwe *j)
{
    uint8_t kek[32], cek[40], pt[64];
    ecdh_kek(k->tee, j->epk, kek);
    keywrap(kek, j->wrapped, 40, cek, 0);
    gcm(cek, j->ct, sizeof(k->secret), pt, j->tag, 0);
    EVP_PKEY_free(j->epk);
}

void *kbs_bound_new(void)
{
    struct bkeys *k = calloc(1, sizeof(*k));
    if (!k)
        die("memory");
    k->pck = p256(), k->ak = p256(), k->ear = p256(), k->tee = p256();
    memset(k->quote, 0x5a, sizeof(k->quote));
    memset(k->qe, 0x3c, sizeof(k->qe));
    memset(k->ear_msg, 0x41, sizeof(k->ear_msg));
    memcpy(k->secret, "bench secret", 12);
    return k;
}

void kbs_bound_free(void *keys)
{
    struct bkeys *k = keys;
    EVP_PKEY_free(k->pck);
    EVP_PKEY_free(k->ak);
    EVP_PKEY_free(k->ear);
    EVP_PKEY_free(k->tee);
    free(k);
}

void kbs_bound_full_run(void *keys)
{
    struct bkeys *k = keys;
    uint8_t s1[80], s2[80], s3[80];
    size_t l1 = sign(k->pck, k->qe, sizeof(k->qe), s1);       /* client: QE report */
    size_t l2 = sign(k->ak, k->quote, sizeof(k->quote), s2);  /* client: quote */
    verify(k->pck, k->qe, sizeof(k->qe), s1, l1);             /* server: QE report */
    verify(k->ak, k->quote, sizeof(k->quote), s2, l2);        /* server: quote */
    (void)sign(k->ear, k->ear_msg, sizeof(k->ear_msg), s3);   /* server: EAR token */
    struct jwe j;
    jwe_encrypt(k, &j);                                       /* server: resource JWE */
    jwe_decrypt(k, &j);                                       /* client */
}

void kbs_bound_token_fetch(void *keys)
{
    struct bkeys *k = keys;
    static __thread uint8_t sig[80];
    static __thread size_t sl;
    if (!sl)
        sl = sign(k->ear, k->ear_msg, sizeof(k->ear_msg), sig);
    verify(k->ear, k->ear_msg, sizeof(k->ear_msg), sig, sl); /* the token */
    struct jwe j;
    jwe_encrypt(k, &j);
    EVP_PKEY_free(j.epk);
}
