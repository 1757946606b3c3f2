/* SPDX-License-Identifier: Apache-2.0 */
/*
 * wolfcrypt.c - the "wolfcrypt" crypto backend (priority 50): the same struct vt_crypto_ops
 * as src/crypto/openssl.c, with wolfCrypt (Debian libwolfssl) doing the cryptography: key
 * generation (P-256, P-384, RSA-3072), SHA-2, ECDSA / RSA PKCS#1 v1.5 signatures.
 *
 * What Debian's wolfSSL 5.5.4 lacks, and what we do instead: it is built without
 * WOLFSSL_CUSTOM_OID and HAVE_OID_ENCODING, so wc_MakeCert/wc_SignCert cannot add the RA-TLS
 * evidence extension (2.23.133.5.4.9, or any extension it does not know), and its
 * DecodedCert does not return unknown extensions. This backend therefore writes and reads the
 * X.509 / PKCS#8 / SubjectPublicKeyInfo structure with our own DER code (crypto/wolf_der.c,
 * on vt_buf / vt_cur) and asks wolfCrypt only to sign and verify the exact TBS bytes. Chain
 * verification (chain_verify) is likewise done here on the parsed structure (name chaining,
 * signatures, basicConstraints, validity at the given time), because wolfSSL's certificate
 * manager only checks validity against the wall clock.
 *
 * Output is byte-compatible with the openssl backend: PKCS#8 as OpenSSL writes it (EC:
 * ECPrivateKey with the public key, curve in the AlgorithmIdentifier), SPKI with named
 * curves, same extensions (basicConstraints, keyUsage for CAs, SKI = SHA-1 of the key bits,
 * AKI keyid), names in the order given, ECDSA AlgorithmIdentifiers without parameters.
 *
 * Trust boundary: cert_parse, verify and chain_verify see attacker-controlled bytes; every
 * DER read goes through the bounded reader and must consume its input exactly. Private keys
 * are decoded into wolfCrypt key objects that are freed (wolfCrypt zeroes them) before
 * return; every temporary copy of private-key bytes is wiped.
 *
 * Spec: RFC 5280 (X.509), RFC 5958 (PKCS#8), RFC 5480 / RFC 5915 (EC keys), RFC 8017 (RSA).
 */
#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/ecc.h>
#include <wolfssl/wolfcrypt/error-crypt.h>
#include <wolfssl/wolfcrypt/hash.h>
#include <wolfssl/wolfcrypt/random.h>
#include <wolfssl/wolfcrypt/rsa.h>
#include <wolfssl/wolfcrypt/sha.h>
#include <wolfssl/wolfcrypt/sha256.h>
#include <wolfssl/wolfcrypt/sha512.h>
#include <wolfssl/wolfcrypt/signature.h>

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "crypto/crypto.h"
#include "crypto/wolf_der.h"
#include "crypto/wolf_thread.h"
#include "util/secmem.h"

#define OID_EC_PUBKEY "1.2.840.10045.2.1"
#define OID_P256 "1.2.840.10045.3.1.7"
#define OID_P384 "1.3.132.0.34"
#define OID_RSA "1.2.840.113549.1.1.1"
#define OID_ECDSA_SHA256 "1.2.840.10045.4.3.2"
#define OID_ECDSA_SHA384 "1.2.840.10045.4.3.3"
#define OID_ECDSA_SHA512 "1.2.840.10045.4.3.4"
#define OID_RSA_SHA256 "1.2.840.113549.1.1.11"
#define OID_RSA_SHA384 "1.2.840.113549.1.1.12"
#define OID_RSA_SHA512 "1.2.840.113549.1.1.13"
#define OID_BASIC_CONSTRAINTS "2.5.29.19"
#define OID_KEY_USAGE "2.5.29.15"
#define OID_SKI "2.5.29.14"
#define OID_AKI "2.5.29.35"

#define KEY_MAX 16384
#define CERT_MAX (1u << 20)
#define OID_TEXT_MAX 96

/* Equality of two public DER spans (names, algorithm identifiers, TBS bytes): nothing
 * secret is compared here, so an early exit leaks nothing. */
static bool same_der(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    return alen == blen && memcmp(a, b, alen) == 0; /* lint: public */
}

/* ---- per-thread ECC cache cleanup (see wolf_thread.h) -------------------------------------- */

static pthread_key_t fp_key;
static pthread_once_t fp_once = PTHREAD_ONCE_INIT;
static bool fp_key_ok;

static void fp_free_at_exit(void *unused)
{
    (void)unused;
    wc_ecc_fp_free();
}

static void fp_key_init(void)
{
    fp_key_ok = pthread_key_create(&fp_key, fp_free_at_exit) == 0;
}

void vti_wolf_thread_arm(void)
{
    pthread_once(&fp_once, fp_key_init);
    if (fp_key_ok && !pthread_getspecific(fp_key))
        (void)pthread_setspecific(fp_key, &fp_key_ok); /* any non-NULL value */
}

/* ---- keys -------------------------------------------------------------------------------- */

/* A decoded key (private or public); exactly one of ecc / rsa is initialised. */
struct wkey {
    enum vt_key_type type;
    bool is_ecc, is_rsa, priv;
    int curve_id;
    ecc_key ecc;
    RsaKey rsa;
};

static void wkey_free(struct wkey *k)
{
    if (k->is_ecc)
        wc_ecc_free(&k->ecc);
    if (k->is_rsa)
        wc_FreeRsaKey(&k->rsa);
    vti_memzero(k, sizeof(*k));
}

static vt_res oid_of(const struct vti_der_tlv *t, char out[OID_TEXT_MAX], int err)
{
    ENSURE(t->tag == VTI_DER_OID, err);
    return vti_der_oid_text(vti_cur_pos(&t->body), vti_cur_left(&t->body), out, OID_TEXT_MAX, err);
}

static vt_res curve_from_oid(const char *oid, enum vt_key_type *t, int *curve_id)
{
    if (!strcmp(oid, OID_P256)) {
        *t = VT_KEY_P256;
        *curve_id = ECC_SECP256R1;
        return vti_ok();
    }
    if (!strcmp(oid, OID_P384)) {
        *t = VT_KEY_P384;
        *curve_id = ECC_SECP384R1;
        return vti_ok();
    }
    return VT_FAIL(VT_ERR_KEY_TYPE);
}

static const char *curve_oid(enum vt_key_type t)
{
    return t == VT_KEY_P384 ? OID_P384 : OID_P256;
}

static size_t curve_bytes(enum vt_key_type t)
{
    return t == VT_KEY_P384 ? 48 : 32;
}

/* ECPrivateKey (RFC 5915) body -> key; curve from the PKCS#8 AlgorithmIdentifier (or the
 * optional [0] parameters of a traditional SEC1 key when curve_oid_text is NULL). */
static vt_res ec_priv_decode(struct vt_cur body, const char *curve_oid_text, struct wkey *k)
{
    struct vti_der_tlv seq, ver, priv, t;
    struct vt_cur c = body;
    GUARD(vti_der_expect(&c, VTI_DER_SEQ, VT_ERR_KEY_PARSE, &seq));
    ENSURE(vti_cur_done(&c).err == 0, VT_ERR_KEY_PARSE);
    struct vt_cur s = seq.body;
    GUARD(vti_der_expect(&s, VTI_DER_INT, VT_ERR_KEY_PARSE, &ver));
    ENSURE(vti_cur_left(&ver.body) == 1 && vti_cur_pos(&ver.body)[0] == 1, VT_ERR_KEY_PARSE);
    GUARD(vti_der_expect(&s, VTI_DER_OCTSTR, VT_ERR_KEY_PARSE, &priv));
    char oid[OID_TEXT_MAX] = "";
    const uint8_t *pub = NULL;
    size_t publen = 0;
    if (vti_der_peek(&s) == VTI_DER_CTX(0)) {
        GUARD(vti_der_any(&s, VT_ERR_KEY_PARSE, &t));
        struct vti_der_tlv o;
        GUARD(vti_der_expect(&t.body, VTI_DER_OID, VT_ERR_KEY_PARSE, &o));
        GUARD(oid_of(&o, oid, VT_ERR_KEY_PARSE));
    }
    if (vti_der_peek(&s) == VTI_DER_CTX(1)) {
        GUARD(vti_der_any(&s, VT_ERR_KEY_PARSE, &t));
        struct vti_der_tlv bs;
        GUARD(vti_der_expect(&t.body, VTI_DER_BITSTR, VT_ERR_KEY_PARSE, &bs));
        ENSURE(vti_cur_left(&bs.body) >= 2 && vti_cur_pos(&bs.body)[0] == 0, VT_ERR_KEY_PARSE);
        pub = vti_cur_pos(&bs.body) + 1;
        publen = vti_cur_left(&bs.body) - 1;
    }
    ENSURE(vti_cur_done(&s).err == 0, VT_ERR_KEY_PARSE);
    const char *co = curve_oid_text ? curve_oid_text : oid;
    ENSURE(*co, VT_ERR_KEY_PARSE);
    ENSURE(!curve_oid_text || !oid[0] || !strcmp(oid, curve_oid_text), VT_ERR_KEY_PARSE);
    GUARD(curve_from_oid(co, &k->type, &k->curve_id));
    size_t plen = vti_cur_left(&priv.body);
    ENSURE(plen >= 1 && plen <= curve_bytes(k->type), VT_ERR_KEY_PARSE);
    ENSURE(wc_ecc_init(&k->ecc) == 0, VT_ERR_CRYPTO);
    k->is_ecc = true;
    k->priv = true;
    ENSURE(wc_ecc_import_private_key_ex(vti_cur_pos(&priv.body), (word32)plen, pub, (word32)publen,
                                        &k->ecc, k->curve_id) == 0, VT_ERR_KEY_PARSE);
    if (!pub) {
        WC_RNG rng;
        ENSURE(wc_InitRng(&rng) == 0, VT_ERR_CRYPTO);
        int rc = wc_ecc_set_rng(&k->ecc, &rng);
        if (rc == 0)
            rc = wc_ecc_make_pub(&k->ecc, NULL);
        (void)wc_ecc_set_rng(&k->ecc, NULL);
        wc_FreeRng(&rng);
        ENSURE(rc == 0, VT_ERR_KEY_PARSE);
    }
    ENSURE(wc_ecc_check_key(&k->ecc) == 0, VT_ERR_KEY_PARSE);
    return vti_ok();
}

static vt_res rsa_priv_decode(const uint8_t *p, size_t n, struct wkey *k)
{
    ENSURE(wc_InitRsaKey(&k->rsa, NULL) == 0, VT_ERR_CRYPTO);
    k->is_rsa = true;
    k->priv = true;
    word32 idx = 0;
    ENSURE(wc_RsaPrivateKeyDecode(p, &idx, &k->rsa, (word32)n) == 0 && idx == n, VT_ERR_KEY_PARSE);
    ENSURE(wc_RsaEncryptSize(&k->rsa) == 384, VT_ERR_KEY_TYPE);
    k->type = VT_KEY_RSA3072;
    return vti_ok();
}

/* PKCS#8 PrivateKeyInfo (RFC 5958; version 0 or 1, attributes / public key ignored). */
static vt_res pkcs8_decode(struct vt_der key, struct wkey *k)
{
    memset(k, 0, sizeof(*k));
    ENSURE(key.p && key.len > 0 && key.len <= KEY_MAX, VT_ERR_KEY_PARSE);
    struct vt_cur c = vti_cur_init(key.p, key.len);
    struct vti_der_tlv seq, ver, alg, aoid, oct;
    GUARD(vti_der_expect(&c, VTI_DER_SEQ, VT_ERR_KEY_PARSE, &seq));
    ENSURE(vti_cur_done(&c).err == 0, VT_ERR_KEY_PARSE);
    struct vt_cur s = seq.body;
    GUARD(vti_der_expect(&s, VTI_DER_INT, VT_ERR_KEY_PARSE, &ver));
    ENSURE(vti_cur_left(&ver.body) == 1 && vti_cur_pos(&ver.body)[0] <= 1, VT_ERR_KEY_PARSE);
    GUARD(vti_der_expect(&s, VTI_DER_SEQ, VT_ERR_KEY_PARSE, &alg));
    GUARD(vti_der_expect(&s, VTI_DER_OCTSTR, VT_ERR_KEY_PARSE, &oct));
    char oid[OID_TEXT_MAX];
    GUARD(vti_der_expect(&alg.body, VTI_DER_OID, VT_ERR_KEY_PARSE, &aoid));
    GUARD(oid_of(&aoid, oid, VT_ERR_KEY_PARSE));
    if (!strcmp(oid, OID_EC_PUBKEY)) {
        struct vti_der_tlv co;
        char coid[OID_TEXT_MAX];
        GUARD(vti_der_expect(&alg.body, VTI_DER_OID, VT_ERR_KEY_TYPE, &co));
        GUARD(oid_of(&co, coid, VT_ERR_KEY_PARSE));
        ENSURE(vti_cur_done(&alg.body).err == 0, VT_ERR_KEY_PARSE);
        vt_res r = ec_priv_decode(oct.body, coid, k);
        if (r.err)
            wkey_free(k);
        return r;
    }
    if (!strcmp(oid, OID_RSA)) {
        vt_res r = rsa_priv_decode(vti_cur_pos(&oct.body), vti_cur_left(&oct.body), k);
        if (r.err)
            wkey_free(k);
        return r;
    }
    return VT_FAIL(VT_ERR_KEY_TYPE);
}

/* Append SubjectPublicKeyInfo DER of k. */
static vt_res wkey_spki(struct wkey *k, struct vt_buf *out)
{
    vt_res r = vti_ok();
    struct vt_buf alg = VT_BUF_INIT, bits = VT_BUF_INIT, spki = VT_BUF_INIT, rsapub = VT_BUF_INIT;
    uint8_t pt[1 + 2 * 66 + 1];
    if (k->is_ecc) {
        word32 pl = sizeof(pt) - 1;
        pt[0] = 0; /* BIT STRING: no unused bits */
        ENSURE_GOTO(wc_ecc_export_x963(&k->ecc, pt + 1, &pl) == 0, VT_ERR_CRYPTO, r, done);
        GUARD_GOTO(vti_der_put_oid(&alg, OID_EC_PUBKEY), r, done);
        GUARD_GOTO(vti_der_put_oid(&alg, curve_oid(k->type)), r, done);
        GUARD_GOTO(vti_buf_append(&bits, pt, pl + 1), r, done);
    } else {
        ENSURE_GOTO(k->is_rsa, VT_ERR_KEY_TYPE, r, done);
        uint8_t n[512], e[16];
        word32 nl = sizeof(n), el = sizeof(e);
        ENSURE_GOTO(wc_RsaFlattenPublicKey(&k->rsa, e, &el, n, &nl) == 0, VT_ERR_CRYPTO, r, done);
        struct vt_buf ne = VT_BUF_INIT;
        GUARD_GOTO(vti_der_put_uint(&ne, n, nl), r, done);
        r = vti_der_put_uint(&ne, e, el);
        if (!r.err)
            r = vti_der_wrap(&rsapub, VTI_DER_SEQ, &ne);
        vti_buf_free_nowipe(&ne);
        if (r.err)
            goto done;
        GUARD_GOTO(vti_der_put_oid(&alg, OID_RSA), r, done);
        GUARD_GOTO(vti_der_put(&alg, VTI_DER_NULL, NULL, 0), r, done);
        GUARD_GOTO(vti_buf_u8(&bits, 0), r, done);
        GUARD_GOTO(vti_buf_append(&bits, rsapub.p, rsapub.len), r, done);
    }
    GUARD_GOTO(vti_der_wrap(&spki, VTI_DER_SEQ, &alg), r, done);
    GUARD_GOTO(vti_der_wrap(&spki, VTI_DER_BITSTR, &bits), r, done);
    GUARD_GOTO(vti_der_wrap(out, VTI_DER_SEQ, &spki), r, done);
done:
    vti_buf_free_nowipe(&alg);
    vti_buf_free_nowipe(&bits);
    vti_buf_free_nowipe(&spki);
    vti_buf_free_nowipe(&rsapub);
    return r;
}

/* SubjectPublicKeyInfo -> public key object. */
static vt_res spki_decode(struct vt_der spki, struct wkey *k)
{
    memset(k, 0, sizeof(*k));
    ENSURE(spki.p && spki.len > 0 && spki.len <= KEY_MAX, VT_ERR_KEY_PARSE);
    struct vt_cur c = vti_cur_init(spki.p, spki.len);
    struct vti_der_tlv seq, alg, aoid, bits;
    GUARD(vti_der_expect(&c, VTI_DER_SEQ, VT_ERR_KEY_PARSE, &seq));
    ENSURE(vti_cur_done(&c).err == 0, VT_ERR_KEY_PARSE);
    GUARD(vti_der_expect(&seq.body, VTI_DER_SEQ, VT_ERR_KEY_PARSE, &alg));
    GUARD(vti_der_expect(&seq.body, VTI_DER_BITSTR, VT_ERR_KEY_PARSE, &bits));
    ENSURE(vti_cur_done(&seq.body).err == 0, VT_ERR_KEY_PARSE);
    ENSURE(vti_cur_left(&bits.body) >= 2 && vti_cur_pos(&bits.body)[0] == 0, VT_ERR_KEY_PARSE);
    const uint8_t *kb = vti_cur_pos(&bits.body) + 1;
    size_t kl = vti_cur_left(&bits.body) - 1;
    char oid[OID_TEXT_MAX];
    GUARD(vti_der_expect(&alg.body, VTI_DER_OID, VT_ERR_KEY_PARSE, &aoid));
    GUARD(oid_of(&aoid, oid, VT_ERR_KEY_PARSE));
    if (!strcmp(oid, OID_EC_PUBKEY)) {
        struct vti_der_tlv co;
        char coid[OID_TEXT_MAX];
        GUARD(vti_der_expect(&alg.body, VTI_DER_OID, VT_ERR_KEY_TYPE, &co));
        GUARD(oid_of(&co, coid, VT_ERR_KEY_PARSE));
        ENSURE(vti_cur_done(&alg.body).err == 0, VT_ERR_KEY_PARSE);
        GUARD(curve_from_oid(coid, &k->type, &k->curve_id));
        ENSURE(kl == 1 + 2 * curve_bytes(k->type) && kb[0] == 4, VT_ERR_KEY_PARSE);
        ENSURE(wc_ecc_init(&k->ecc) == 0, VT_ERR_CRYPTO);
        k->is_ecc = true;
        if (wc_ecc_import_x963_ex(kb, (word32)kl, &k->ecc, k->curve_id) != 0 ||
            wc_ecc_check_key(&k->ecc) != 0) {
            wkey_free(k);
            return VT_FAIL(VT_ERR_KEY_PARSE);
        }
        return vti_ok();
    }
    if (!strcmp(oid, OID_RSA)) {
        struct vt_cur kc = vti_cur_init(kb, kl);
        struct vti_der_tlv rs, n, e;
        GUARD(vti_der_expect(&kc, VTI_DER_SEQ, VT_ERR_KEY_PARSE, &rs));
        ENSURE(vti_cur_done(&kc).err == 0, VT_ERR_KEY_PARSE);
        GUARD(vti_der_expect(&rs.body, VTI_DER_INT, VT_ERR_KEY_PARSE, &n));
        GUARD(vti_der_expect(&rs.body, VTI_DER_INT, VT_ERR_KEY_PARSE, &e));
        ENSURE(vti_cur_done(&rs.body).err == 0, VT_ERR_KEY_PARSE);
        ENSURE(vti_cur_left(&n.body) >= 1 && vti_cur_left(&e.body) >= 1, VT_ERR_KEY_PARSE);
        ENSURE(!(vti_cur_pos(&n.body)[0] & 0x80) && !(vti_cur_pos(&e.body)[0] & 0x80),
               VT_ERR_KEY_PARSE); /* positive */
        ENSURE(wc_InitRsaKey(&k->rsa, NULL) == 0, VT_ERR_CRYPTO);
        k->is_rsa = true;
        if (wc_RsaPublicKeyDecodeRaw(vti_cur_pos(&n.body), (word32)vti_cur_left(&n.body),
                                     vti_cur_pos(&e.body), (word32)vti_cur_left(&e.body),
                                     &k->rsa) != 0) {
            wkey_free(k);
            return VT_FAIL(VT_ERR_KEY_PARSE);
        }
        k->type = VT_KEY_RSA3072; /* the size is checked where it matters (key_desc) */
        return vti_ok();
    }
    return VT_FAIL(VT_ERR_KEY_TYPE);
}

/* PKCS#8 of a private key object (as OpenSSL writes it). */
static vt_res wkey_pkcs8(struct wkey *k, struct vt_buf *out)
{
    vt_res r = vti_ok();
    struct vt_buf inner = VT_BUF_INIT, seq = VT_BUF_INIT, alg = VT_BUF_INIT;
    uint8_t tmp[4096];
    word32 tl = sizeof(tmp);
    GUARD_GOTO(vti_der_put_uint(&seq, (const uint8_t *)"\0", 1), r, done);
    if (k->is_ecc) {
        uint8_t d[66], pt[1 + 2 * 66 + 1];
        word32 dl = sizeof(d), pl = sizeof(pt) - 1;
        size_t cb = curve_bytes(k->type);
        pt[0] = 0;
        int rc = wc_ecc_export_private_only(&k->ecc, d, &dl);
        if (rc == 0)
            rc = wc_ecc_export_x963(&k->ecc, pt + 1, &pl);
        if (rc != 0 || dl > cb) {
            vti_memzero(d, sizeof(d));
            r = VT_FAIL(VT_ERR_CRYPTO);
            goto done;
        }
        uint8_t dfix[66] = { 0 }; /* RFC 5915: fixed length ceiling(log2(n)/8) */
        memcpy(dfix + (cb - dl), d, dl);
        vti_memzero(d, sizeof(d));
        struct vt_buf ec = VT_BUF_INIT, pubw = VT_BUF_INIT;
        r = vti_der_put_uint(&ec, (const uint8_t *)"\x01", 1);
        if (!r.err)
            r = vti_der_put(&ec, VTI_DER_OCTSTR, dfix, cb);
        vti_memzero(dfix, sizeof(dfix));
        if (!r.err)
            r = vti_der_put(&pubw, VTI_DER_BITSTR, pt, pl + 1);
        if (!r.err)
            r = vti_der_wrap(&ec, VTI_DER_CTX(1), &pubw);
        if (!r.err)
            r = vti_der_put(&inner, VTI_DER_SEQ, ec.p, ec.len);
        vti_buf_free(&ec);
        vti_buf_free_nowipe(&pubw);
        if (r.err)
            goto done;
        GUARD_GOTO(vti_der_put_oid(&alg, OID_EC_PUBKEY), r, done);
        GUARD_GOTO(vti_der_put_oid(&alg, curve_oid(k->type)), r, done);
    } else {
        ENSURE_GOTO(k->is_rsa, VT_ERR_KEY_TYPE, r, done);
        int n = wc_RsaKeyToDer(&k->rsa, tmp, tl);
        ENSURE_GOTO(n > 0, VT_ERR_CRYPTO, r, done);
        GUARD_GOTO(vti_buf_append(&inner, tmp, (size_t)n), r, done);
        GUARD_GOTO(vti_der_put_oid(&alg, OID_RSA), r, done);
        GUARD_GOTO(vti_der_put(&alg, VTI_DER_NULL, NULL, 0), r, done);
    }
    GUARD_GOTO(vti_der_wrap(&seq, VTI_DER_SEQ, &alg), r, done);
    GUARD_GOTO(vti_der_put(&seq, VTI_DER_OCTSTR, inner.p, inner.len), r, done);
    GUARD_GOTO(vti_der_put(out, VTI_DER_SEQ, seq.p, seq.len), r, done);
done:
    vti_memzero(tmp, sizeof(tmp));
    vti_buf_free(&inner);
    vti_buf_free(&seq);
    vti_buf_free_nowipe(&alg);
    return r;
}

static vt_res wcb_keygen(enum vt_key_type t, struct vt_buf *pkcs8)
{
    vti_wolf_thread_arm();
    struct wkey k;
    memset(&k, 0, sizeof(k));
    WC_RNG rng;
    ENSURE(wc_InitRng(&rng) == 0, VT_ERR_CRYPTO);
    vt_res r = vti_ok();
    k.type = t;
    switch (t) {
    case VT_KEY_P256:
    case VT_KEY_P384:
        k.curve_id = t == VT_KEY_P384 ? ECC_SECP384R1 : ECC_SECP256R1;
        ENSURE_GOTO(wc_ecc_init(&k.ecc) == 0, VT_ERR_CRYPTO, r, done);
        k.is_ecc = true;
        ENSURE_GOTO(wc_ecc_make_key_ex(&rng, (int)curve_bytes(t), &k.ecc, k.curve_id) == 0,
                    VT_ERR_CRYPTO, r, done);
        break;
    case VT_KEY_RSA3072:
        ENSURE_GOTO(wc_InitRsaKey(&k.rsa, NULL) == 0, VT_ERR_CRYPTO, r, done);
        k.is_rsa = true;
        ENSURE_GOTO(wc_MakeRsaKey(&k.rsa, 3072, WC_RSA_EXPONENT, &rng) == 0, VT_ERR_CRYPTO, r,
                    done);
        break;
    default:
        r = VT_FAIL(VT_ERR_KEY_TYPE);
        goto done;
    }
    k.priv = true;
    r = wkey_pkcs8(&k, pkcs8);
done:
    wkey_free(&k);
    wc_FreeRng(&rng);
    return r;
}

/* Any supported private-key DER (PKCS#8, SEC1 EC with named curve, PKCS#1 RSA). */
static vt_res any_priv_decode(const uint8_t *p, size_t n, struct wkey *k)
{
    vt_res r = pkcs8_decode((struct vt_der){ p, n }, k);
    if (r.err != VT_ERR_KEY_PARSE)
        return r;
    memset(k, 0, sizeof(*k));
    struct vt_cur c = vti_cur_init(p, n);
    r = ec_priv_decode(c, NULL, k);
    if (!r.err)
        return r;
    wkey_free(k);
    if (r.err == VT_ERR_KEY_TYPE)
        return r;
    r = rsa_priv_decode(p, n, k);
    if (r.err)
        wkey_free(k);
    return r;
}

static vt_res wcb_key_import(const uint8_t *in, size_t len, struct vt_buf *pkcs8)
{
    vti_wolf_thread_arm();
    ENSURE(in && len > 0 && len <= (1u << 20), VT_ERR_KEY_PARSE);
    static const char *const labels[] = { "PRIVATE KEY", "EC PRIVATE KEY", "RSA PRIVATE KEY" };
    struct wkey k;
    memset(&k, 0, sizeof(k));
    vt_res r = VT_FAIL(VT_ERR_KEY_PARSE);
    bool pem = false;
    for (size_t i = 0; i < VT_ARRAY_LEN(labels) && !pem; i++) {
        if (!vti_pem_has(in, len, labels[i]))
            continue;
        pem = true;
        struct vt_pem_list pl = { 0 };
        r = vti_pem_decode(in, len, labels[i], &pl);
        if (!r.err)
            r = any_priv_decode(pl.der[0].p, pl.der[0].len, &k);
        else
            r = VT_FAIL(VT_ERR_KEY_PARSE);
        vti_pem_list_free(&pl);
    }
    if (!pem)
        r = any_priv_decode(in, len, &k);
    if (!r.err)
        r = wkey_pkcs8(&k, pkcs8);
    wkey_free(&k);
    return r;
}

static vt_res wcb_key_type(struct vt_der key, enum vt_key_type *out)
{
    vti_wolf_thread_arm();
    struct wkey k;
    GUARD(pkcs8_decode(key, &k));
    *out = k.type;
    wkey_free(&k);
    return vti_ok();
}

static vt_res wcb_key_spki(struct vt_der key, struct vt_buf *spki)
{
    vti_wolf_thread_arm();
    struct wkey k;
    GUARD(pkcs8_decode(key, &k));
    vt_res r = wkey_spki(&k, spki);
    wkey_free(&k);
    return r;
}

/* ---- hashing and signatures --------------------------------------------------------------- */

static enum wc_HashType hash_type(enum vt_hash_alg a)
{
    switch (a) {
    case VT_HASH_SHA256:
        return WC_HASH_TYPE_SHA256;
    case VT_HASH_SHA384:
        return WC_HASH_TYPE_SHA384;
    case VT_HASH_SHA512:
        return WC_HASH_TYPE_SHA512;
    }
    return WC_HASH_TYPE_NONE;
}

static vt_res wcb_hash_op(enum vt_hash_alg alg, const uint8_t *p, size_t n, uint8_t *out)
{
    enum wc_HashType ht = hash_type(alg);
    ENSURE(ht != WC_HASH_TYPE_NONE, VT_ERR_UNSUPPORTED);
    ENSURE(n <= UINT32_MAX, VT_ERR_TOO_LARGE);
    ENSURE(wc_Hash(ht, p ? p : (const uint8_t *)"", (word32)n, out,
                   (word32)vti_hash_len((int)alg)) == 0, VT_ERR_CRYPTO);
    return vti_ok();
}

static enum vt_hash_alg default_hash(const struct wkey *k)
{
    return k->is_ecc && k->type == VT_KEY_P384 ? VT_HASH_SHA384 : VT_HASH_SHA256;
}

static vt_res wkey_sign(struct wkey *k, enum vt_hash_alg alg, const uint8_t *msg, size_t n,
                        struct vt_buf *sig)
{
    ENSURE(n <= UINT32_MAX, VT_ERR_TOO_LARGE);
    enum wc_SignatureType st = k->is_ecc ? WC_SIGNATURE_TYPE_ECC : WC_SIGNATURE_TYPE_RSA_W_ENC;
    void *kp = k->is_ecc ? (void *)&k->ecc : (void *)&k->rsa;
    word32 ks = k->is_ecc ? (word32)sizeof(k->ecc) : (word32)sizeof(k->rsa);
    int max = wc_SignatureGetSize(st, kp, ks);
    ENSURE(max > 0, VT_ERR_CRYPTO);
    GUARD(vti_buf_reserve(sig, (size_t)max));
    WC_RNG rng;
    ENSURE(wc_InitRng(&rng) == 0, VT_ERR_CRYPTO);
    if (k->is_rsa)
        (void)wc_RsaSetRNG(&k->rsa, &rng);
    word32 sl = (word32)max;
    int rc = wc_SignatureGenerate(hash_type(alg), st, msg ? msg : (const uint8_t *)"", (word32)n,
                                  sig->p + sig->len, &sl, kp, ks, &rng);
    if (k->is_rsa)
        (void)wc_RsaSetRNG(&k->rsa, NULL);
    wc_FreeRng(&rng);
    ENSURE(rc == 0 && sl <= (word32)max, VT_ERR_CRYPTO);
    sig->len += sl;
    return vti_ok();
}

static vt_res wcb_sign_op(struct vt_der key, const uint8_t *msg, size_t n, struct vt_buf *sig)
{
    vti_wolf_thread_arm();
    struct wkey k;
    GUARD(pkcs8_decode(key, &k));
    vt_res r = wkey_sign(&k, default_hash(&k), msg, n, sig);
    wkey_free(&k);
    return r;
}

static vt_res wkey_verify(struct wkey *k, enum vt_hash_alg alg, const uint8_t *msg, size_t n,
                          const uint8_t *sig, size_t siglen)
{
    enum wc_HashType ht = hash_type(alg);
    ENSURE(ht != WC_HASH_TYPE_NONE, VT_ERR_UNSUPPORTED);
    ENSURE(sig && siglen > 0 && siglen <= 1024 && n <= UINT32_MAX, VT_ERR_SIGNATURE);
    enum wc_SignatureType st = k->is_ecc ? WC_SIGNATURE_TYPE_ECC : WC_SIGNATURE_TYPE_RSA_W_ENC;
    void *kp = k->is_ecc ? (void *)&k->ecc : (void *)&k->rsa;
    word32 ks = k->is_ecc ? (word32)sizeof(k->ecc) : (word32)sizeof(k->rsa);
    int rc = wc_SignatureVerify(ht, st, msg ? msg : (const uint8_t *)"", (word32)n, sig,
                                (word32)siglen, kp, ks);
    ENSURE(rc == 0, VT_ERR_SIGNATURE);
    return vti_ok();
}

static vt_res wcb_verify_op(struct vt_der spki, enum vt_hash_alg alg, const uint8_t *msg, size_t n,
                           const uint8_t *sig, size_t siglen)
{
    vti_wolf_thread_arm();
    ENSURE(hash_type(alg) != WC_HASH_TYPE_NONE, VT_ERR_UNSUPPORTED);
    ENSURE(sig && siglen > 0, VT_ERR_SIGNATURE);
    struct wkey k;
    GUARD(spki_decode(spki, &k));
    vt_res r = wkey_verify(&k, alg, msg, n, sig, siglen);
    wkey_free(&k);
    return r;
}

/* ---- certificate parsing -------------------------------------------------------------------- */

/* Views into one DER certificate (RFC 5280 section 4.1), all validated. */
struct pcert {
    struct vti_der_tlv tbs, issuer, subject, spki, sigalg_tbs, sigalg;
    char sig_oid[OID_TEXT_MAX];
    bool sig_null_params;
    int64_t not_before, not_after;
    const uint8_t *sig;
    size_t siglen;
    bool has_exts;
    struct vt_cur exts; /* contents of the Extensions SEQUENCE */
};

static vt_res pcert_parse(const uint8_t *der, size_t len, struct pcert *pc)
{
    const int E = VT_ERR_CERT_PARSE;
    memset(pc, 0, sizeof(*pc));
    ENSURE(der && len > 0 && len <= CERT_MAX, E);
    struct vt_cur c = vti_cur_init(der, len);
    struct vti_der_tlv cert, t, bits, aoid;
    GUARD(vti_der_expect(&c, VTI_DER_SEQ, E, &cert));
    ENSURE(vti_cur_done(&c).err == 0, E);
    GUARD(vti_der_expect(&cert.body, VTI_DER_SEQ, E, &pc->tbs));
    GUARD(vti_der_expect(&cert.body, VTI_DER_SEQ, E, &pc->sigalg));
    GUARD(vti_der_expect(&cert.body, VTI_DER_BITSTR, E, &bits));
    ENSURE(vti_cur_done(&cert.body).err == 0, E);
    ENSURE(vti_cur_left(&bits.body) >= 2 && vti_cur_pos(&bits.body)[0] == 0, E);
    pc->sig = vti_cur_pos(&bits.body) + 1;
    pc->siglen = vti_cur_left(&bits.body) - 1;

    struct vt_cur a = pc->sigalg.body;
    GUARD(vti_der_expect(&a, VTI_DER_OID, E, &aoid));
    GUARD(oid_of(&aoid, pc->sig_oid, E));
    if (vti_der_peek(&a) == VTI_DER_NULL) {
        struct vti_der_tlv nul;
        GUARD(vti_der_any(&a, E, &nul));
        ENSURE(vti_cur_left(&nul.body) == 0, E);
        pc->sig_null_params = true;
    } else if (vti_cur_left(&a)) {
        GUARD(vti_der_any(&a, E, &t)); /* e.g. RSASSA-PSS parameters: kept opaque */
    }
    ENSURE(vti_cur_done(&a).err == 0, E);

    struct vt_cur s = pc->tbs.body;
    if (vti_der_peek(&s) == VTI_DER_CTX(0)) {
        struct vti_der_tlv v;
        GUARD(vti_der_any(&s, E, &t));
        GUARD(vti_der_expect(&t.body, VTI_DER_INT, E, &v));
        ENSURE(vti_cur_done(&t.body).err == 0, E);
        ENSURE(vti_cur_left(&v.body) == 1 && vti_cur_pos(&v.body)[0] <= 2, E);
    }
    GUARD(vti_der_expect(&s, VTI_DER_INT, E, &t)); /* serialNumber */
    ENSURE(vti_cur_left(&t.body) >= 1 && vti_cur_left(&t.body) <= 21, E);
    GUARD(vti_der_expect(&s, VTI_DER_SEQ, E, &pc->sigalg_tbs));
    ENSURE(same_der(pc->sigalg_tbs.raw, pc->sigalg_tbs.raw_len, pc->sigalg.raw,
                    pc->sigalg.raw_len), E);
    GUARD(vti_der_expect(&s, VTI_DER_SEQ, E, &pc->issuer));
    struct vti_der_tlv val, tnb, tna;
    GUARD(vti_der_expect(&s, VTI_DER_SEQ, E, &val));
    GUARD(vti_der_any(&val.body, E, &tnb));
    GUARD(vti_der_any(&val.body, E, &tna));
    ENSURE(vti_cur_done(&val.body).err == 0, E);
    GUARD(vti_der_time(&tnb, E, &pc->not_before));
    GUARD(vti_der_time(&tna, E, &pc->not_after));
    GUARD(vti_der_expect(&s, VTI_DER_SEQ, E, &pc->subject));
    GUARD(vti_der_expect(&s, VTI_DER_SEQ, E, &pc->spki));
    if (vti_der_peek(&s) == 0x81)
        GUARD(vti_der_any(&s, E, &t)); /* issuerUniqueID */
    if (vti_der_peek(&s) == 0x82)
        GUARD(vti_der_any(&s, E, &t)); /* subjectUniqueID */
    if (vti_der_peek(&s) == VTI_DER_CTX(3)) {
        struct vti_der_tlv ex;
        GUARD(vti_der_any(&s, E, &t));
        GUARD(vti_der_expect(&t.body, VTI_DER_SEQ, E, &ex));
        ENSURE(vti_cur_done(&t.body).err == 0, E);
        ENSURE(vti_cur_left(&ex.body) > 0, E); /* SIZE (1..MAX) */
        pc->exts = ex.body;
        pc->has_exts = true;
    }
    ENSURE(vti_cur_done(&s).err == 0, E);
    return vti_ok();
}

/* Next extension from an Extensions cursor. */
static vt_res ext_next(struct vt_cur *exts, struct vti_der_tlv *oid, bool *critical,
                       struct vti_der_tlv *value)
{
    const int E = VT_ERR_CERT_PARSE;
    struct vti_der_tlv e, b;
    GUARD(vti_der_expect(exts, VTI_DER_SEQ, E, &e));
    GUARD(vti_der_expect(&e.body, VTI_DER_OID, E, oid));
    ENSURE(vti_cur_left(&oid->body) >= 1, E);
    *critical = false;
    if (vti_der_peek(&e.body) == VTI_DER_BOOL) {
        GUARD(vti_der_any(&e.body, E, &b));
        ENSURE(vti_cur_left(&b.body) == 1, E);
        uint8_t v = vti_cur_pos(&b.body)[0];
        ENSURE(v == 0 || v == 0xff, E);
        *critical = v == 0xff;
    }
    GUARD(vti_der_expect(&e.body, VTI_DER_OCTSTR, E, value));
    ENSURE(vti_cur_done(&e.body).err == 0, E);
    return vti_ok();
}

static const struct {
    const char *oid, *name;
} attr_names[] = {
    { "2.5.4.3", "CN" },  { "2.5.4.6", "C" },   { "2.5.4.7", "L" },
    { "2.5.4.8", "ST" },  { "2.5.4.10", "O" },  { "2.5.4.11", "OU" },
    { "2.5.4.9", "STREET" }, { "0.9.2342.19200300.100.1.25", "DC" },
    { "0.9.2342.19200300.100.1.1", "UID" }, { "2.5.4.5", "serialNumber" },
    { "1.2.840.113549.1.9.1", "emailAddress" },
};

static void txt_append(char *out, size_t outlen, size_t *w, const char *s, size_t n)
{
    for (size_t i = 0; i < n && *w + 1 < outlen; i++)
        out[(*w)++] = s[i];
    out[*w < outlen ? *w : outlen - 1] = 0;
}

/* Name (RDNSequence) -> RFC 2253 text, last RDN first (as OpenSSL's XN_FLAG_RFC2253 prints
 * it). Values are shown as their bytes with RFC 2253 escapes; control bytes as \XX. */
static vt_res name_text(const struct vti_der_tlv *name, char *out, size_t outlen)
{
    const int E = VT_ERR_CERT_PARSE;
    out[0] = 0;
    struct vti_der_tlv rdns[32];
    size_t n = 0;
    struct vt_cur c = name->body;
    while (vti_cur_left(&c)) {
        ENSURE(n < VT_ARRAY_LEN(rdns), E);
        GUARD(vti_der_expect(&c, VTI_DER_SET, E, &rdns[n]));
        n++;
    }
    size_t w = 0;
    for (size_t i = n; i > 0; i--) {
        if (i != n)
            txt_append(out, outlen, &w, ",", 1);
        struct vt_cur set = rdns[i - 1].body;
        bool first = true;
        while (vti_cur_left(&set)) {
            struct vti_der_tlv atv, aoid, v;
            GUARD(vti_der_expect(&set, VTI_DER_SEQ, E, &atv));
            GUARD(vti_der_expect(&atv.body, VTI_DER_OID, E, &aoid));
            GUARD(vti_der_any(&atv.body, E, &v));
            ENSURE(vti_cur_done(&atv.body).err == 0, E);
            char oid[OID_TEXT_MAX];
            GUARD(oid_of(&aoid, oid, E));
            const char *nm = oid;
            for (size_t k = 0; k < VT_ARRAY_LEN(attr_names); k++)
                if (!strcmp(attr_names[k].oid, oid))
                    nm = attr_names[k].name;
            if (!first)
                txt_append(out, outlen, &w, "+", 1);
            first = false;
            txt_append(out, outlen, &w, nm, strlen(nm));
            txt_append(out, outlen, &w, "=", 1);
            const uint8_t *p = vti_cur_pos(&v.body);
            size_t vl = vti_cur_left(&v.body);
            for (size_t k = 0; k < vl; k++) {
                char e[4];
                uint8_t ch = p[k];
                if (ch < 0x20 || ch == 0x7f) {
                    snprintf(e, sizeof(e), "\\%02X", ch);
                    txt_append(out, outlen, &w, e, 3);
                    continue;
                }
                if (strchr(",+\"\\<>;", ch) || (k == 0 && (ch == '#' || ch == ' ')) ||
                    (k + 1 == vl && ch == ' '))
                    txt_append(out, outlen, &w, "\\", 1);
                txt_append(out, outlen, &w, (const char *)&ch, 1);
            }
        }
    }
    return vti_ok();
}

static void key_desc_of(struct vt_der spki, char *out, size_t outlen)
{
    struct wkey k;
    snprintf(out, outlen, "unknown");
    if (spki_decode(spki, &k).err)
        return;
    if (k.is_ecc)
        snprintf(out, outlen, "%s", k.type == VT_KEY_P384 ? "secp384r1" : "secp256r1");
    else
        snprintf(out, outlen, "rsa%d", wc_RsaEncryptSize(&k.rsa) * 8);
    wkey_free(&k);
}

/* Signature algorithm -> (printable name, hash, is ECDSA); false for anything else. */
static bool sig_alg_info(const char *oid, const char **name, enum vt_hash_alg *h, bool *ecdsa)
{
    static const struct {
        const char *oid, *name;
        enum vt_hash_alg h;
        bool ecdsa;
    } t[] = {
        { OID_ECDSA_SHA256, "ecdsa-with-SHA256", VT_HASH_SHA256, true },
        { OID_ECDSA_SHA384, "ecdsa-with-SHA384", VT_HASH_SHA384, true },
        { OID_ECDSA_SHA512, "ecdsa-with-SHA512", VT_HASH_SHA512, true },
        { OID_RSA_SHA256, "sha256WithRSAEncryption", VT_HASH_SHA256, false },
        { OID_RSA_SHA384, "sha384WithRSAEncryption", VT_HASH_SHA384, false },
        { OID_RSA_SHA512, "sha512WithRSAEncryption", VT_HASH_SHA512, false },
    };
    for (size_t i = 0; i < VT_ARRAY_LEN(t); i++) {
        if (!strcmp(t[i].oid, oid)) {
            *name = t[i].name;
            *h = t[i].h;
            *ecdsa = t[i].ecdsa;
            return true;
        }
    }
    return false;
}

/* Does pc's signature verify with the public key `signer_spki`? (never an error) */
static bool pcert_sig_ok(const struct pcert *pc, struct vt_der signer_spki)
{
    const char *nm;
    enum vt_hash_alg h;
    bool ecdsa;
    if (!sig_alg_info(pc->sig_oid, &nm, &h, &ecdsa))
        return false;
    if (!ecdsa && !pc->sig_null_params)
        return false; /* RFC 4055: RSA PKCS#1 v1.5 AlgorithmIdentifiers carry NULL */
    struct wkey k;
    if (spki_decode(signer_spki, &k).err)
        return false;
    bool ok = k.is_ecc == ecdsa &&
              wkey_verify(&k, h, pc->tbs.raw, pc->tbs.raw_len, pc->sig, pc->siglen).err == 0;
    wkey_free(&k);
    return ok;
}

static vt_res wcb_cert_parse(const uint8_t *der, size_t len, unsigned flags,
                             struct vt_cert_info *out)
{
    vti_wolf_thread_arm();
    ENSURE(out, VT_ERR_INVALID_ARG);
    memset(out, 0, sizeof(*out));
    ENSURE((flags & ~VT_CERT_PARSE_FLAGS_ALL) == 0, VT_ERR_INVALID_ARG);
    struct pcert pc;
    GUARD(pcert_parse(der, len, &pc));
    vt_res r = vti_ok();
    GUARD_GOTO(name_text(&pc.subject, out->subject, sizeof(out->subject)), r, fail);
    GUARD_GOTO(name_text(&pc.issuer, out->issuer, sizeof(out->issuer)), r, fail);
    out->not_before = pc.not_before;
    out->not_after = pc.not_after;
    const char *nm;
    enum vt_hash_alg h;
    bool ecdsa = false;
    if (sig_alg_info(pc.sig_oid, &nm, &h, &ecdsa))
        snprintf(out->sig_alg, sizeof(out->sig_alg), "%s", nm);
    else
        snprintf(out->sig_alg, sizeof(out->sig_alg), "%.47s", pc.sig_oid);
    out->sig_alg_null_params = ecdsa && pc.sig_null_params;
    struct vt_der spki = { pc.spki.raw, pc.spki.raw_len };
    key_desc_of(spki, out->key_desc, sizeof(out->key_desc));
    GUARD_GOTO(vti_buf_append(&out->spki, spki.p, spki.len), r, fail);
    out->self_issued = same_der(pc.issuer.raw, pc.issuer.raw_len, pc.subject.raw,
                                pc.subject.raw_len);
    out->self_sig_ok = (flags & VT_CERT_PARSE_SELF_SIG) && pcert_sig_ok(&pc, spki);
    struct vt_cur ex = pc.exts;
    while (pc.has_exts && vti_cur_left(&ex)) {
        ENSURE_GOTO(out->n_exts < VT_CERT_MAX_EXTS, VT_ERR_TOO_LARGE, r, fail);
        struct vt_cert_ext_info *ei = &out->exts[out->n_exts++];
        struct vti_der_tlv oid, val;
        GUARD_GOTO(ext_next(&ex, &oid, &ei->critical, &val), r, fail);
        GUARD_GOTO(vti_der_oid_text(vti_cur_pos(&oid.body), vti_cur_left(&oid.body), ei->oid,
                                    sizeof(ei->oid), VT_ERR_CERT_PARSE), r, fail);
        GUARD_GOTO(vti_buf_append(&ei->oid_der, vti_cur_pos(&oid.body), vti_cur_left(&oid.body)), r,
                   fail);
        if (vti_cur_left(&val.body))
            GUARD_GOTO(vti_buf_append(&ei->value, vti_cur_pos(&val.body), vti_cur_left(&val.body)),
                       r, fail);
    }
    return vti_ok();
fail:
    vti_cert_info_free(out);
    return r;
}

/* ---- certificate building ------------------------------------------------------------------- */

/* "CN=a,O=b,C=c" (RFC 2253 order, most specific first) -> Name whose RDNs are in the
 * reverse (DER) order, so that it prints back as given (as the openssl backend does). */
static vt_res name_build(const char *s, struct vt_buf *out)
{
    ENSURE(s && *s && strlen(s) < 1024, VT_ERR_INVALID_ARG);
    char tmp[1024];
    snprintf(tmp, sizeof(tmp), "%s", s);
    char *parts[32];
    size_t count = 0;
    for (char *part = tmp; part;) {
        ENSURE(count < VT_ARRAY_LEN(parts), VT_ERR_INVALID_ARG);
        char *comma = strchr(part, ',');
        if (comma)
            *comma = 0;
        parts[count++] = part;
        part = comma ? comma + 1 : NULL;
    }
    vt_res r = vti_ok();
    struct vt_buf rdns = VT_BUF_INIT;
    for (size_t i = count; i > 0; i--) {
        char *part = parts[i - 1];
        while (*part == ' ')
            part++;
        char *eq = strchr(part, '=');
        ENSURE_GOTO(eq && eq != part && eq[1], VT_ERR_INVALID_ARG, r, done);
        *eq = 0;
        const char *oid = NULL;
        for (size_t k = 0; k < VT_ARRAY_LEN(attr_names); k++)
            if (!strcmp(attr_names[k].name, part))
                oid = attr_names[k].oid;
        ENSURE_GOTO(oid, VT_ERR_INVALID_ARG, r, done);
        const char *v = eq + 1;
        bool country = !strcmp(part, "C");
        bool ia5 = !strcmp(part, "emailAddress") || !strcmp(part, "DC");
        ENSURE_GOTO(!country || strlen(v) == 2, VT_ERR_INVALID_ARG, r, done);
        struct vt_buf atv = VT_BUF_INIT, set = VT_BUF_INIT;
        r = vti_der_put_oid(&atv, oid);
        if (!r.err)
            r = vti_der_put(&atv, country ? VTI_DER_PRINTABLE : ia5 ? VTI_DER_IA5 : VTI_DER_UTF8,
                            v, strlen(v));
        if (!r.err)
            r = vti_der_wrap(&set, VTI_DER_SEQ, &atv);
        if (!r.err)
            r = vti_der_wrap(&rdns, VTI_DER_SET, &set);
        vti_buf_free_nowipe(&atv);
        vti_buf_free_nowipe(&set);
        if (r.err)
            goto done;
    }
    r = vti_der_put(out, VTI_DER_SEQ, rdns.p, rdns.len);
done:
    vti_buf_free_nowipe(&rdns);
    return r;
}

/* keyIdentifier: SHA-1 of the subjectPublicKey BIT STRING value (RFC 5280 4.2.1.2 (1)). */
static vt_res key_id(struct vt_der spki, uint8_t id[WC_SHA_DIGEST_SIZE])
{
    struct vt_cur c = vti_cur_init(spki.p, spki.len);
    struct vti_der_tlv seq, alg, bits;
    GUARD(vti_der_expect(&c, VTI_DER_SEQ, VT_ERR_KEY_PARSE, &seq));
    GUARD(vti_der_expect(&seq.body, VTI_DER_SEQ, VT_ERR_KEY_PARSE, &alg));
    GUARD(vti_der_expect(&seq.body, VTI_DER_BITSTR, VT_ERR_KEY_PARSE, &bits));
    ENSURE(vti_cur_left(&bits.body) >= 1, VT_ERR_KEY_PARSE);
    ENSURE(wc_ShaHash(vti_cur_pos(&bits.body) + 1, (word32)(vti_cur_left(&bits.body) - 1), id) == 0,
           VT_ERR_CRYPTO);
    return vti_ok();
}

static vt_res put_ext(struct vt_buf *exts, const char *oid, bool critical, const uint8_t *v,
                      size_t vl)
{
    struct vt_buf e = VT_BUF_INIT;
    vt_res r = vti_der_put_oid(&e, oid);
    if (!r.err && critical)
        r = vti_der_put(&e, VTI_DER_BOOL, "\xff", 1);
    if (!r.err)
        r = vti_der_put(&e, VTI_DER_OCTSTR, v, vl);
    if (!r.err)
        r = vti_der_wrap(exts, VTI_DER_SEQ, &e);
    vti_buf_free_nowipe(&e);
    return r;
}

/* The SKI extension value of an issuer certificate, else the SHA-1 of its key. */
static vt_res issuer_key_id(const struct pcert *ic, uint8_t id[WC_SHA_DIGEST_SIZE])
{
    struct vt_cur ex = ic->exts;
    while (ic->has_exts && vti_cur_left(&ex)) {
        struct vti_der_tlv oid, val, os;
        bool crit;
        char o[OID_TEXT_MAX];
        GUARD(ext_next(&ex, &oid, &crit, &val));
        GUARD(oid_of(&oid, o, VT_ERR_CERT_PARSE));
        if (strcmp(o, OID_SKI))
            continue;
        struct vt_cur v = val.body;
        GUARD(vti_der_expect(&v, VTI_DER_OCTSTR, VT_ERR_CERT_PARSE, &os));
        if (vti_cur_left(&os.body) == WC_SHA_DIGEST_SIZE) {
            memcpy(id, vti_cur_pos(&os.body), WC_SHA_DIGEST_SIZE);
            return vti_ok();
        }
    }
    return key_id((struct vt_der){ ic->spki.raw, ic->spki.raw_len }, id);
}

/* cert_create step 1: the signing key, the subject's SPKI and (when not self-signed) the
 * issuer certificate. subj is decoded only to validate a given SPKI or a given subject key. */
static vt_res cert_keys(const struct vt_cert_params *p, bool self, struct wkey *signer,
                        struct wkey *subj, struct vt_buf *spki, struct pcert *ic)
{
    if (self) {
        GUARD(pkcs8_decode(p->key, signer));
        return wkey_spki(signer, spki);
    }
    GUARD(pkcs8_decode(p->issuer_key, signer));
    if (p->subject_spki.len) {
        GUARD(spki_decode(p->subject_spki, subj)); /* validate it */
        GUARD(vti_buf_append(spki, p->subject_spki.p, p->subject_spki.len));
    } else {
        GUARD(pkcs8_decode(p->key, subj));
        GUARD(wkey_spki(subj, spki));
    }
    ENSURE(p->issuer_cert.len, VT_ERR_INVALID_ARG);
    return pcert_parse(p->issuer_cert.p, p->issuer_cert.len, ic);
}

/* cert_create step 2: the signature AlgorithmIdentifier for the signer's key and hash. */
static vt_res cert_sig_alg(const struct wkey *signer, enum vt_hash_alg h, struct vt_buf *alg)
{
    struct vt_buf tmp = VT_BUF_INIT;
    const char *sigoid = signer->is_ecc ? (h == VT_HASH_SHA384 ? OID_ECDSA_SHA384 : OID_ECDSA_SHA256)
                                        : OID_RSA_SHA256;
    vt_res r = vti_der_put_oid(&tmp, sigoid);
    if (!r.err && !signer->is_ecc)
        r = vti_der_put(&tmp, VTI_DER_NULL, NULL, 0);
    if (!r.err)
        r = vti_der_wrap(alg, VTI_DER_SEQ, &tmp);
    vti_buf_free_nowipe(&tmp);
    return r;
}

/* cert_create step 3: the serial number, p->serial or a random positive non-zero one. */
static vt_res cert_serial(const struct vt_cert_params *p, uint8_t sb[8])
{
    uint64_t serial = p->serial;
    if (!serial) {
        WC_RNG rng;
        ENSURE(wc_InitRng(&rng) == 0, VT_ERR_CRYPTO);
        int rc = wc_RNG_GenerateBlock(&rng, (byte *)&serial, sizeof(serial));
        wc_FreeRng(&rng);
        ENSURE(rc == 0, VT_ERR_CRYPTO);
        serial = (serial >> 1) | 1; /* positive, non-zero */
    }
    for (int i = 0; i < 8; i++)
        sb[i] = (uint8_t)(serial >> (56 - 8 * i));
    return vti_ok();
}

/* cert_create step 4: TBSCertificate fields up to the SPKI: version, serial, signature
 * algorithm, issuer, validity, subject, subjectPublicKeyInfo. */
static vt_res cert_tbs_head(const struct vt_cert_params *p, bool self, const struct pcert *ic,
                            const struct vt_buf *alg, const struct vt_buf *spki, struct vt_buf *tbs)
{
    vt_res r = vti_ok();
    struct vt_buf name = VT_BUF_INIT, tmp = VT_BUF_INIT;
    uint8_t sb[8];
    /* version [0] v3 */
    GUARD_GOTO(vti_der_put(tbs, VTI_DER_CTX(0), "\x02\x01\x02", 3), r, done);
    GUARD_GOTO(cert_serial(p, sb), r, done);
    GUARD_GOTO(vti_der_put_uint(tbs, sb, sizeof(sb)), r, done);
    GUARD_GOTO(vti_buf_append(tbs, alg->p, alg->len), r, done);
    GUARD_GOTO(name_build(p->subject, &name), r, done);
    if (self)
        GUARD_GOTO(vti_buf_append(tbs, name.p, name.len), r, done);
    else
        GUARD_GOTO(vti_buf_append(tbs, ic->subject.raw, ic->subject.raw_len), r, done);
    GUARD_GOTO(vti_der_put_time(&tmp, p->not_before), r, done);
    GUARD_GOTO(vti_der_put_time(&tmp, p->not_after), r, done);
    GUARD_GOTO(vti_der_wrap(tbs, VTI_DER_SEQ, &tmp), r, done);
    GUARD_GOTO(vti_buf_append(tbs, name.p, name.len), r, done);
    GUARD_GOTO(vti_buf_append(tbs, spki->p, spki->len), r, done);
done:
    vti_buf_free_nowipe(&name);
    vti_buf_free_nowipe(&tmp);
    return r;
}

/* cert_create step 5a: subjectKeyIdentifier and authorityKeyIdentifier extensions. */
static vt_res cert_key_id_exts(bool self, const struct pcert *ic, const struct vt_buf *spki,
                               struct vt_buf *exts)
{
    vt_res r = vti_ok();
    struct vt_buf tmp = VT_BUF_INIT, kid = VT_BUF_INIT;
    uint8_t ski[WC_SHA_DIGEST_SIZE], aki[WC_SHA_DIGEST_SIZE];
    GUARD_GOTO(key_id((struct vt_der){ spki->p, spki->len }, ski), r, done);
    if (self)
        memcpy(aki, ski, sizeof(aki));
    else
        GUARD_GOTO(issuer_key_id(ic, aki), r, done);
    GUARD_GOTO(vti_der_put(&tmp, VTI_DER_OCTSTR, ski, sizeof(ski)), r, done);
    GUARD_GOTO(put_ext(exts, OID_SKI, false, tmp.p, tmp.len), r, done);
    vti_buf_free_nowipe(&tmp);
    GUARD_GOTO(vti_der_put(&kid, 0x80, aki, sizeof(aki)), r, done); /* [0] IMPLICIT KeyIdentifier */
    GUARD_GOTO(vti_der_wrap(&tmp, VTI_DER_SEQ, &kid), r, done);
    GUARD_GOTO(put_ext(exts, OID_AKI, false, tmp.p, tmp.len), r, done);
done:
    vti_buf_free_nowipe(&tmp);
    vti_buf_free_nowipe(&kid);
    return r;
}

/* cert_create step 5: the extensions, in the openssl backend's order, wrapped as [3] onto tbs. */
static vt_res cert_exts(const struct vt_cert_params *p, bool self, const struct pcert *ic,
                        const struct vt_buf *spki, struct vt_buf *tbs)
{
    vt_res r = vti_ok();
    struct vt_buf exts = VT_BUF_INIT, tmp = VT_BUF_INIT;
    if (p->is_ca)
        GUARD_GOTO(put_ext(&exts, OID_BASIC_CONSTRAINTS, true,
                           (const uint8_t *)"\x30\x03\x01\x01\xff", 5), r, done);
    else
        GUARD_GOTO(put_ext(&exts, OID_BASIC_CONSTRAINTS, false, (const uint8_t *)"\x30\x00", 2),
                   r, done);
    if (p->is_ca) /* keyCertSign (5), cRLSign (6) */
        GUARD_GOTO(put_ext(&exts, OID_KEY_USAGE, true, (const uint8_t *)"\x03\x02\x01\x06", 4), r,
                   done);
    GUARD_GOTO(cert_key_id_exts(self, ic, spki, &exts), r, done);
    for (size_t i = 0; i < p->n_exts; i++) {
        const struct vt_x509_ext *e = &p->exts[i];
        ENSURE_GOTO(e->oid && (e->value || e->len == 0), VT_ERR_INVALID_ARG, r, done);
        GUARD_GOTO(put_ext(&exts, e->oid, e->critical, e->value, e->len), r, done);
    }
    GUARD_GOTO(vti_der_wrap(&tmp, VTI_DER_SEQ, &exts), r, done);
    GUARD_GOTO(vti_der_wrap(tbs, VTI_DER_CTX(3), &tmp), r, done);
done:
    vti_buf_free_nowipe(&exts);
    vti_buf_free_nowipe(&tmp);
    return r;
}

/* cert_create step 6: sign exactly the TBSCertificate bytes and write the Certificate. */
static vt_res cert_sign(struct wkey *signer, enum vt_hash_alg h, const struct vt_buf *alg,
                        struct vt_buf *tbs, struct vt_buf *cert_der)
{
    vt_res r = vti_ok();
    struct vt_buf sig = VT_BUF_INIT, cert = VT_BUF_INIT;
    GUARD_GOTO(vti_der_wrap(&cert, VTI_DER_SEQ, tbs), r, done);
    GUARD_GOTO(vti_buf_u8(&sig, 0), r, done); /* BIT STRING: no unused bits */
    GUARD_GOTO(wkey_sign(signer, h, cert.p, cert.len, &sig), r, done);
    GUARD_GOTO(vti_buf_append(&cert, alg->p, alg->len), r, done);
    GUARD_GOTO(vti_der_put(&cert, VTI_DER_BITSTR, sig.p, sig.len), r, done);
    GUARD_GOTO(vti_der_put(cert_der, VTI_DER_SEQ, cert.p, cert.len), r, done);
done:
    vti_buf_free_nowipe(&sig);
    vti_buf_free_nowipe(&cert);
    return r;
}

static vt_res wcb_cert_create(const struct vt_cert_params *p, struct vt_buf *cert_der)
{
    vti_wolf_thread_arm();
    ENSURE(p && p->not_after > p->not_before, VT_ERR_INVALID_ARG);
    ENSURE(p->n_exts <= VT_CERT_MAX_EXTS - 4 && (p->exts || p->n_exts == 0), VT_ERR_TOO_LARGE);
    vt_res r = vti_ok();
    struct wkey signer, subj;
    memset(&signer, 0, sizeof(signer));
    memset(&subj, 0, sizeof(subj));
    struct vt_buf spki = VT_BUF_INIT, tbs = VT_BUF_INIT, alg = VT_BUF_INIT;
    struct pcert ic;
    bool self = p->issuer_key.len == 0;

    GUARD_GOTO(cert_keys(p, self, &signer, &subj, &spki, &ic), r, done);
    enum vt_hash_alg h = default_hash(&signer);
    GUARD_GOTO(cert_sig_alg(&signer, h, &alg), r, done);
    GUARD_GOTO(cert_tbs_head(p, self, &ic, &alg, &spki, &tbs), r, done);
    GUARD_GOTO(cert_exts(p, self, &ic, &spki, &tbs), r, done);
    GUARD_GOTO(cert_sign(&signer, h, &alg, &tbs, cert_der), r, done);
done:
    wkey_free(&signer);
    wkey_free(&subj);
    vti_buf_free_nowipe(&spki);
    vti_buf_free_nowipe(&tbs);
    vti_buf_free_nowipe(&alg);
    return r;
}

/* ---- chain verification ---------------------------------------------------------------------- */

/* basicConstraints cA = TRUE? */
static bool pcert_is_ca(const struct pcert *pc)
{
    struct vt_cur ex = pc->exts;
    while (pc->has_exts && vti_cur_left(&ex)) {
        struct vti_der_tlv oid, val, seq, b;
        bool crit;
        char o[OID_TEXT_MAX];
        if (ext_next(&ex, &oid, &crit, &val).err || oid_of(&oid, o, VT_ERR_CERT_PARSE).err)
            return false;
        if (strcmp(o, OID_BASIC_CONSTRAINTS))
            continue;
        struct vt_cur v = val.body;
        if (vti_der_expect(&v, VTI_DER_SEQ, VT_ERR_CERT_PARSE, &seq).err ||
            vti_der_peek(&seq.body) != VTI_DER_BOOL ||
            vti_der_any(&seq.body, VT_ERR_CERT_PARSE, &b).err || vti_cur_left(&b.body) != 1)
            return false;
        return vti_cur_pos(&b.body)[0] == 0xff;
    }
    return false;
}

/* RFC 5280 6.1.3 / 6.1.4: every certificate on the path is checked for critical extensions
 * we do not process (refused), and an issuer's keyUsage, when present, must allow
 * keyCertSign. */
static bool pcert_exts_ok(const struct pcert *pc, bool issuer)
{
    static const char *const known[] = { OID_BASIC_CONSTRAINTS, OID_KEY_USAGE, OID_SKI, OID_AKI,
                                         "2.5.29.37" /* extKeyUsage */,
                                         "2.5.29.17" /* subjectAltName */ };
    struct vt_cur ex = pc->exts;
    while (pc->has_exts && vti_cur_left(&ex)) {
        struct vti_der_tlv oid, val, bs;
        bool crit, is_known = false;
        char o[OID_TEXT_MAX];
        if (ext_next(&ex, &oid, &crit, &val).err || oid_of(&oid, o, VT_ERR_CERT_PARSE).err)
            return false;
        for (size_t i = 0; i < VT_ARRAY_LEN(known); i++)
            is_known |= !strcmp(o, known[i]);
        if (crit && !is_known)
            return false;
        if (issuer && !strcmp(o, OID_KEY_USAGE)) {
            struct vt_cur v = val.body;
            if (vti_der_expect(&v, VTI_DER_BITSTR, VT_ERR_CERT_PARSE, &bs).err ||
                vti_cur_left(&bs.body) < 2 || !(vti_cur_pos(&bs.body)[1] & 0x04))
                return false; /* bit 5 (keyCertSign) of the first byte */
        }
    }
    return true;
}

static bool pcert_self_issued(const struct pcert *pc)
{
    return same_der(pc->issuer.raw, pc->issuer.raw_len, pc->subject.raw, pc->subject.raw_len);
}

static bool pcert_valid_at(const struct pcert *pc, int64_t at)
{
    return at >= pc->not_before && at <= pc->not_after;
}

static bool issued_by(const struct pcert *child, const struct pcert *issuer)
{
    return same_der(child->issuer.raw, child->issuer.raw_len, issuer->subject.raw,
                    issuer->subject.raw_len) &&
           pcert_is_ca(issuer) && pcert_exts_ok(issuer, true) &&
           pcert_sig_ok(child, (struct vt_der){ issuer->spki.raw, issuer->spki.raw_len });
}

#define CHAIN_MAX 8
#define ROOTS_MAX 64

static vt_res wcb_chain_verify(const struct vt_der *chain, size_t n, const struct vt_der *roots,
                              size_t nroots, int64_t at)
{
    vti_wolf_thread_arm();
    ENSURE(chain && n >= 1 && n <= CHAIN_MAX, VT_ERR_INVALID_ARG);
    ENSURE(roots && nroots >= 1, VT_ERR_NO_ROOT);
    ENSURE(nroots <= ROOTS_MAX, VT_ERR_TOO_LARGE);
    struct pcert cc[CHAIN_MAX], rc[ROOTS_MAX];
    for (size_t i = 0; i < n; i++)
        GUARD(pcert_parse(chain[i].p, chain[i].len, &cc[i]));
    for (size_t i = 0; i < nroots; i++)
        GUARD(pcert_parse(roots[i].p, roots[i].len, &rc[i]));
    /* Walk up from the leaf: each step must be issued (name + signature) by a CA certificate
     * valid at `at`; the path must end at a self-issued trust anchor (as OpenSSL without
     * partial chains). Every certificate on the path must be valid at `at` and carry no
     * critical extension we do not process. At most CHAIN_MAX steps, each chain certificate
     * used once. */
    const struct pcert *cur = &cc[0];
    bool used[CHAIN_MAX] = { true };
    for (size_t depth = 0; depth <= CHAIN_MAX; depth++) {
        ENSURE(pcert_valid_at(cur, at) && pcert_exts_ok(cur, depth > 0), VT_ERR_NOT_TRUSTED);
        for (size_t i = 0; i < nroots; i++) {
            if (!pcert_self_issued(&rc[i]) || !pcert_valid_at(&rc[i], at))
                continue;
            bool same = same_der(cur->tbs.raw, cur->tbs.raw_len, rc[i].tbs.raw, rc[i].tbs.raw_len);
            if (same)
                return vti_ok(); /* the certificate is itself a trust anchor */
            if (issued_by(cur, &rc[i]))
                return vti_ok();
        }
        const struct pcert *next = NULL;
        for (size_t i = 1; i < n && !next; i++) {
            if (!used[i] && issued_by(cur, &cc[i])) {
                used[i] = true;
                next = &cc[i];
            }
        }
        ENSURE(next, VT_ERR_NOT_TRUSTED);
        cur = next;
    }
    return VT_FAIL(VT_ERR_NOT_TRUSTED);
}

static const struct vt_crypto_ops wolfcrypt_crypto = {
    .hdr = { VT_INSTANCE_ABI, VT_KIND_CRYPTO, "wolfcrypt", 50, 0, NULL },
    .keygen = wcb_keygen,
    .key_import = wcb_key_import,
    .key_type = wcb_key_type,
    .key_spki = wcb_key_spki,
    .hash = wcb_hash_op,
    .sign = wcb_sign_op,
    .verify = wcb_verify_op,
    .cert_create = wcb_cert_create,
    .cert_parse = wcb_cert_parse,
    .chain_verify = wcb_chain_verify,
};
const struct vt_instance_hdr *const vt_inst_wolfcrypt_crypto = &wolfcrypt_crypto.hdr;
