/* SPDX-License-Identifier: Apache-2.0 */
/*
 * jose.c - RFC 8785 JCS, JWK, flattened JWE (ECDH-ES+A256KW / RSA-OAEP-256, A256GCM) and
 * compact JWS ES256 on OpenSSL 3 (see jose.h for why not cjose).
 *
 * Trust boundary: JWKs and JWEs come from unauthenticated peers (tee-pubkey in /attest; the
 * JWE a client receives). Every member is type- and length-checked; EC points are validated
 * on the curve (p256_from_xy) before any ECDH; a JWE is authenticated by GCM before
 * its plaintext is released. Specs: RFC 7515 (JWS), 7516 (JWE), 7517 (JWK), 7518 section
 * 4.6 (ECDH-ES Concat KDF, SP 800-56A) and 4.3 (RSA-OAEP-256), 3394 (AES key wrap), 7638
 * (thumbprint), 8785 (JCS). CEKs and KEKs are wiped on every path.
 */
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "proto/json.h"
#include "kbs_client/jose.h"
#include "util/codec.h"
#include "util/secmem.h"

#define JCS_MAX_DEPTH 32
#define JWE_MAX ((size_t)16 << 20)

/* ---- A256GCM (RFC 7518 5.3) ------------------------------------------------------------- */

/* Seal (enc: out gets ciphertext || 16-byte tag) or open (in is ciphertext || tag; out gets
 * the plaintext only if the tag authenticates, VT_ERR_KBS_JWE otherwise). */
static vt_res a256gcm(bool enc, const uint8_t key[32], const uint8_t iv[12], const uint8_t *aad,
                      size_t aad_len, const uint8_t *in, size_t n, struct vt_buf *out)
{
    ENSURE(enc || n >= 16, VT_ERR_KBS_JWE);
    ENSURE(n <= INT32_MAX - 32 && aad_len <= INT32_MAX, VT_ERR_TOO_LARGE);
    size_t m = enc ? n : n - 16, start = out->len;
    GUARD(vti_buf_reserve(out, m + 16));
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    ENSURE(c, VT_ERR_NOMEM);
    vt_res r = vti_ok();
    int len = 0, fin = 0;
    uint8_t *o = out->p + start;
    ENSURE_GOTO(EVP_CipherInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL, enc) == 1 &&
                EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, 12, NULL) == 1 &&
                EVP_CipherInit_ex(c, NULL, NULL, key, iv, enc) == 1, VT_ERR_CRYPTO, r, done);
    ENSURE_GOTO(!aad_len || EVP_CipherUpdate(c, NULL, &len, aad, (int)aad_len) == 1,
                VT_ERR_CRYPTO, r, done);
    len = 0;
    ENSURE_GOTO(!m || EVP_CipherUpdate(c, o, &len, in, (int)m) == 1, VT_ERR_CRYPTO, r, done);
    if (!enc)
        ENSURE_GOTO(EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16, vti_unconst((in + m))) == 1,
                    VT_ERR_CRYPTO, r, done);
    if (EVP_CipherFinal_ex(c, o + len, &fin) != 1 || (size_t)(len + fin) != m) {
        vti_memzero(o, m);
        r = VT_FAIL(enc ? VT_ERR_CRYPTO : VT_ERR_KBS_JWE);
        goto done;
    }
    if (enc)
        ENSURE_GOTO(EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, o + m) == 1, VT_ERR_CRYPTO,
                    r, done);
    out->len = start + m + (enc ? 16 : 0);
    out->p[out->len] = 0;
done:
    EVP_CIPHER_CTX_free(c);
    return r;
}

/* ---- RFC 8785 ------------------------------------------------------------------------ */

static vt_res jcs_string(const char *s, size_t n, struct vt_buf *out)
{
    GUARD(vti_buf_u8(out, '"'));
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *esc = NULL;
        switch (c) {
        case '"': esc = "\\\""; break;
        case '\\': esc = "\\\\"; break;
        case '\b': esc = "\\b"; break;
        case '\f': esc = "\\f"; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        case '\t': esc = "\\t"; break;
        default: break;
        }
        if (esc)
            GUARD(vti_buf_append(out, esc, strlen(esc)));
        else if (c < 0x20)
            GUARD(vti_buf_printf(out, "\\u%04x", c));
        else
            GUARD(vti_buf_u8(out, c));
    }
    return vti_buf_u8(out, '"');
}

/* UTF-8 (already validated by jansson) to UTF-16 code units; RFC 8785 sorts keys by them. */
static size_t utf16_units(const char *s, uint16_t *u, size_t max)
{
    size_t k = 0;
    const unsigned char *p = (const unsigned char *)s;
    while (*p && k + 2 <= max) {
        uint32_t cp;
        if (p[0] < 0x80) {
            cp = p[0];
            p += 1;
        } else if ((p[0] & 0xE0) == 0xC0 && p[1]) {
            cp = (uint32_t)(p[0] & 0x1F) << 6 | (p[1] & 0x3F);
            p += 2;
        } else if ((p[0] & 0xF0) == 0xE0 && p[1] && p[2]) {
            cp = (uint32_t)(p[0] & 0x0F) << 12 | (uint32_t)(p[1] & 0x3F) << 6 | (p[2] & 0x3F);
            p += 3;
        } else if (p[1] && p[2] && p[3]) {
            cp = (uint32_t)(p[0] & 0x07) << 18 | (uint32_t)(p[1] & 0x3F) << 12 |
                 (uint32_t)(p[2] & 0x3F) << 6 | (p[3] & 0x3F);
            p += 4;
        } else {
            break;
        }
        if (cp >= 0x10000) {
            cp -= 0x10000;
            u[k++] = (uint16_t)(0xD800 + (cp >> 10));
            u[k++] = (uint16_t)(0xDC00 + (cp & 0x3FF));
        } else {
            u[k++] = (uint16_t)cp;
        }
    }
    return k;
}

static int key_cmp(const void *a, const void *b)
{
    const char *x = *(const char *const *)a, *y = *(const char *const *)b;
    uint16_t ux[256], uy[256];
    size_t nx = utf16_units(x, ux, 256), ny = utf16_units(y, uy, 256);
    for (size_t i = 0; i < nx && i < ny; i++)
        if (ux[i] != uy[i])
            return ux[i] < uy[i] ? -1 : 1;
    if (nx != ny)
        return nx < ny ? -1 : 1;
    return strcmp(x, y); /* keys longer than 128 units: fall back to bytes (never equal) */
}

static vt_res jcs_value(const json_t *v, struct vt_buf *out, int depth)
{
    ENSURE(depth <= JCS_MAX_DEPTH, VT_ERR_KBS_BAD_JSON);
    switch (json_typeof(v)) {
    case JSON_NULL: return vti_buf_append(out, "null", 4);
    case JSON_TRUE: return vti_buf_append(out, "true", 4);
    case JSON_FALSE: return vti_buf_append(out, "false", 5);
    case JSON_INTEGER: {
        json_int_t i = json_integer_value(v);
        ENSURE(i <= 9007199254740992LL && i >= -9007199254740992LL, VT_ERR_KBS_BAD_JSON);
        return vti_buf_printf(out, "%" JSON_INTEGER_FORMAT, i);
    }
    case JSON_REAL: {
        double d = json_real_value(v);
        /* range first: converting an out-of-range double to an integer is undefined */
        ENSURE(d <= 9007199254740992.0 && d >= -9007199254740992.0 &&
               d == (double)(long long)d, VT_ERR_KBS_BAD_JSON);
        return vti_buf_printf(out, "%lld", (long long)d); /* ES6: integral doubles print bare */
    }
    case JSON_STRING: return jcs_string(json_string_value(v), json_string_length(v), out);
    case JSON_ARRAY: {
        GUARD(vti_buf_u8(out, '['));
        for (size_t i = 0; i < json_array_size(v); i++) {
            if (i)
                GUARD(vti_buf_u8(out, ','));
            GUARD(jcs_value(json_array_get(v, i), out, depth + 1));
        }
        return vti_buf_u8(out, ']');
    }
    case JSON_OBJECT: {
        size_t n = json_object_size(v), k = 0;
        const char **keys = n ? calloc(n, sizeof(*keys)) : NULL;
        ENSURE(!n || keys, VT_ERR_NOMEM);
        const char *key;
        json_t *val;
        json_object_foreach(vti_unconst(v), key, val) keys[k++] = key;
        if (k > 1) /* qsort's array may not be NULL, even when empty */
            qsort(keys, k, sizeof(*keys), key_cmp);
        vt_res r = vti_buf_u8(out, '{');
        for (size_t i = 0; i < k && !r.err; i++) {
            if (i)
                r = vti_buf_u8(out, ',');
            if (!r.err)
                r = jcs_string(keys[i], strlen(keys[i]), out);
            if (!r.err)
                r = vti_buf_u8(out, ':');
            if (!r.err)
                r = jcs_value(json_object_get(v, keys[i]), out, depth + 1);
        }
        free(keys);
        GUARD(r);
        return vti_buf_u8(out, '}');
    }
    }
    return VT_FAIL(VT_ERR_KBS_BAD_JSON);
}

vt_res vtk_jcs(const json_t *v, struct vt_buf *out)
{
    ENSURE(v, VT_ERR_KBS_BAD_JSON);
    GUARD(jcs_value(v, out, 0));
    return vti_buf_cstr(out);
}

/* ---- base64url ----------------------------------------------------------------------- */

vt_res vtk_b64url(const uint8_t *p, size_t n, struct vt_buf *out)
{
    GUARD(vti_b64_encode(p, n, true, out));
    return vti_buf_cstr(out);
}

vt_res vtk_b64url_member(const json_t *obj, const char *name, size_t want, struct vt_buf *out)
{
    const json_t *s = json_object_get(obj, name);
    ENSURE(json_is_string(s), VT_ERR_KBS_BAD_JSON);
    size_t sl = json_string_length(s);
    const char *t = json_string_value(s);
    ENSURE(sl < JWE_MAX && !memchr(t, '=', sl), VT_ERR_KBS_BAD_JSON);
    vt_res r = vti_b64_decode(t, sl, true, out);
    if (!r.err && want && out->len != want)
        r = VT_FAIL(VT_ERR_KBS_BAD_JSON);
    return r;
}

/* ---- JWK ----------------------------------------------------------------------------- */

static vt_res p256_from_xy(const uint8_t x[32], const uint8_t y[32], EVP_PKEY **ret)
{
    uint8_t pt[65];
    pt[0] = 0x04;
    memcpy(pt + 1, x, 32);
    memcpy(pt + 33, y, 32);
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, vti_unconst("prime256v1"), 0),
        OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof(pt)),
        OSSL_PARAM_construct_end(),
    };
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    EVP_PKEY *k = NULL;
    vt_res r = vti_ok();
    ENSURE_GOTO(c && EVP_PKEY_fromdata_init(c) == 1 &&
                EVP_PKEY_fromdata(c, &k, EVP_PKEY_PUBLIC_KEY, params) == 1,
                VT_ERR_KBS_BAD_JWK, r, out);
    EVP_PKEY_CTX_free(c);
    /* on the curve and not the point at infinity: P-256 has cofactor 1, so such a point has
     * the group's prime order and the full check (n * Q = O, one more scalar multiplication)
     * adds nothing. ecdh() relies on this check. */
    c = EVP_PKEY_CTX_new_from_pkey(NULL, k, NULL);
    ENSURE_GOTO(c && EVP_PKEY_public_check_quick(c) == 1, VT_ERR_KBS_BAD_JWK, r, out);
    *ret = k;
    k = NULL;
out:
    EVP_PKEY_CTX_free(c);
    EVP_PKEY_free(k);
    return r;
}

static vt_res rsa_from_ne(const struct vt_buf *n, const struct vt_buf *e, EVP_PKEY **ret)
{
    BIGNUM *bn = BN_bin2bn(n->p, (int)n->len, NULL), *be = BN_bin2bn(e->p, (int)e->len, NULL);
    OSSL_PARAM_BLD *b = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *c = NULL;
    EVP_PKEY *k = NULL;
    vt_res r = vti_ok();
    ENSURE_GOTO(bn && be && b && OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_RSA_N, bn) == 1 &&
                OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_RSA_E, be) == 1 &&
                (params = OSSL_PARAM_BLD_to_param(b)) != NULL,
                VT_ERR_NOMEM, r, out);
    /* an RSA modulus is a product of two odd primes: an even one is no RSA key (its
     * factorisation is trivial, OAEP to it protects nothing) */
    ENSURE_GOTO(BN_is_odd(bn), VT_ERR_KBS_RSA_EVEN_MODULUS, r, out);
    c = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
    ENSURE_GOTO(c && EVP_PKEY_fromdata_init(c) == 1 &&
                EVP_PKEY_fromdata(c, &k, EVP_PKEY_PUBLIC_KEY, params) == 1,
                VT_ERR_KBS_BAD_JWK, r, out);
    int bits = EVP_PKEY_get_bits(k);
    ENSURE_GOTO(bits >= 2048 && bits <= 8192 && BN_is_odd(be) && BN_num_bits(be) <= 33 &&
                BN_num_bits(be) >= 2, VT_ERR_KBS_BAD_JWK, r, out);
    *ret = k;
    k = NULL;
out:
    EVP_PKEY_free(k);
    EVP_PKEY_CTX_free(c);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(b);
    BN_free(bn);
    BN_free(be);
    return r;
}

static bool str_is(const json_t *o, const char *name, const char *want)
{
    const json_t *v = json_object_get(o, name);
    return json_is_string(v) && strcmp(json_string_value(v), want) == 0;
}

vt_res vtk_jwk_public(const json_t *jwk, EVP_PKEY **ret, enum vtk_keyalg *alg)
{
    ENSURE(json_is_object(jwk), VT_ERR_KBS_BAD_JWK);
    struct vt_buf a = VT_BUF_INIT, b = VT_BUF_INIT;
    vt_res r = vti_ok();
    if (str_is(jwk, "kty", "EC")) {
        ENSURE_GOTO(str_is(jwk, "crv", "P-256") && str_is(jwk, "alg", "ECDH-ES+A256KW"),
                    VT_ERR_KBS_BAD_JWK, r, out);
        ENSURE_GOTO(!vtk_b64url_member(jwk, "x", 32, &a).err &&
                    !vtk_b64url_member(jwk, "y", 32, &b).err, VT_ERR_KBS_BAD_JWK, r, out);
        GUARD_GOTO(p256_from_xy(a.p, b.p, ret), r, out);
        *alg = VTK_ALG_ECDH_ES_A256KW;
    } else if (str_is(jwk, "kty", "RSA")) {
        ENSURE_GOTO(str_is(jwk, "alg", "RSA-OAEP-256"), VT_ERR_KBS_BAD_JWK, r, out);
        ENSURE_GOTO(!vtk_b64url_member(jwk, "n", 0, &a).err &&
                    !vtk_b64url_member(jwk, "e", 0, &b).err && a.len <= 1024 && b.len <= 8 &&
                    a.len && b.len, VT_ERR_KBS_BAD_JWK, r, out);
        GUARD_GOTO(rsa_from_ne(&a, &b, ret), r, out);
        *alg = VTK_ALG_RSA_OAEP_256;
    } else {
        r = VT_FAIL(VT_ERR_KBS_BAD_JWK);
    }
out:
    vti_buf_free(&a);
    vti_buf_free(&b);
    return r;
}

static vt_res set_b64(json_t *o, const char *name, const uint8_t *p, size_t n)
{
    struct vt_buf s = VT_BUF_INIT;
    vt_res r = vtk_b64url(p, n, &s);
    if (!r.err && json_object_set_new(o, name, json_string((char *)s.p)) != 0)
        r = VT_FAIL(VT_ERR_NOMEM);
    vti_buf_free(&s);
    return r;
}

static vt_res bn_param_b64(const EVP_PKEY *key, const char *name, size_t pad, json_t *o,
                           const char *member)
{
    BIGNUM *bn = NULL;
    ENSURE(EVP_PKEY_get_bn_param(key, name, &bn) == 1, VT_ERR_CRYPTO);
    size_t n = pad ? pad : (size_t)BN_num_bytes(bn);
    uint8_t tmp[1024];
    vt_res r = vti_ok();
    ENSURE_GOTO(n <= sizeof(tmp) && BN_bn2binpad(bn, tmp, (int)n) == (int)n, VT_ERR_CRYPTO, r,
                out);
    struct vt_buf s = VT_BUF_INIT;
    r = vtk_b64url(tmp, n, &s);
    if (!r.err && json_object_set_new(o, member, json_string((char *)s.p)) != 0)
        r = VT_FAIL(VT_ERR_NOMEM);
    vti_buf_free(&s);
out:
    BN_free(bn);
    return r;
}

vt_res vtk_jwk_from_pkey(const EVP_PKEY *key, const char *alg, json_t **ret)
{
    json_t *o = json_object();
    ENSURE(o, VT_ERR_NOMEM);
    vt_res r = vti_ok();
    if (EVP_PKEY_is_a(key, "EC")) {
        char grp[32] = "";
        ENSURE_GOTO(EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, grp,
                                                   sizeof(grp), NULL) == 1 &&
                    strcmp(grp, "prime256v1") == 0, VT_ERR_KBS_BAD_JWK, r, fail);
        json_object_set_new(o, "kty", json_string("EC"));
        json_object_set_new(o, "crv", json_string("P-256"));
        uint8_t pt[65];
        size_t pl = 0;
        if (EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof(pt),
                                            &pl) == 1 && pl == 65 && pt[0] == 0x04) {
            GUARD_GOTO(set_b64(o, "x", pt + 1, 32), r, fail); /* uncompressed: 04 || x || y */
            GUARD_GOTO(set_b64(o, "y", pt + 33, 32), r, fail);
        } else { /* another point form */
            GUARD_GOTO(bn_param_b64(key, OSSL_PKEY_PARAM_EC_PUB_X, 32, o, "x"), r, fail);
            GUARD_GOTO(bn_param_b64(key, OSSL_PKEY_PARAM_EC_PUB_Y, 32, o, "y"), r, fail);
        }
    } else if (EVP_PKEY_is_a(key, "RSA")) {
        json_object_set_new(o, "kty", json_string("RSA"));
        GUARD_GOTO(bn_param_b64(key, OSSL_PKEY_PARAM_RSA_N, 0, o, "n"), r, fail);
        GUARD_GOTO(bn_param_b64(key, OSSL_PKEY_PARAM_RSA_E, 0, o, "e"), r, fail);
    } else {
        r = VT_FAIL(VT_ERR_KBS_BAD_JWK);
        goto fail;
    }
    if (alg)
        json_object_set_new(o, "alg", json_string(alg));
    *ret = o;
    return vti_ok();
fail:
    json_decref(o);
    return r;
}

vt_res vtk_jwk_thumbprint(const EVP_PKEY *key, char *out, size_t out_len)
{
    json_t *j = NULL;
    GUARD(vtk_jwk_from_pkey(key, NULL, &j));
    struct vt_buf c = VT_BUF_INIT, s = VT_BUF_INIT;
    uint8_t h[32];
    vt_res r = vtk_jcs(j, &c); /* members crv, kty, x, y: exactly RFC 7638's */
    if (!r.err)
        r = EVP_Digest(c.p, c.len, h, NULL, EVP_sha256(), NULL) == 1 ? vti_ok()
                                                                          : VT_FAIL(VT_ERR_CRYPTO);
    if (!r.err)
        r = vtk_b64url(h, 32, &s);
    if (!r.err)
        r = snprintf(out, out_len, "%s", (char *)s.p) < (int)out_len ? vti_ok()
                                                                     : VT_FAIL(VT_ERR_INVALID_ARG);
    vti_buf_free(&c);
    vti_buf_free(&s);
    json_decref(j);
    return r;
}

/* The P-256 domain parameters as a key template, made once (public, never freed): keys
 * generated from it copy its group instead of building the curve again (21 µs a key instead
 * of 37 µs with EVP_EC_gen on OpenSSL 3.0). */
static EVP_PKEY *p256_params;
static pthread_once_t p256_once = PTHREAD_ONCE_INIT;

static void p256_params_make(void)
{
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    if (c && EVP_PKEY_paramgen_init(c) == 1 &&
        EVP_PKEY_CTX_set_ec_paramgen_curve_nid(c, NID_X9_62_prime256v1) == 1 &&
        EVP_PKEY_paramgen(c, &p256_params) != 1)
        p256_params = NULL;
    EVP_PKEY_CTX_free(c);
}

vt_res vtk_p256_generate(EVP_PKEY **ret)
{
    pthread_once(&p256_once, p256_params_make);
    ENSURE(p256_params, VT_ERR_CRYPTO);
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_pkey(NULL, p256_params, NULL);
    EVP_PKEY *k = NULL;
    bool ok = c && EVP_PKEY_keygen_init(c) == 1 && EVP_PKEY_keygen(c, &k) == 1;
    EVP_PKEY_CTX_free(c);
    ENSURE(ok, VT_ERR_CRYPTO);
    *ret = k;
    return vti_ok();
}

/* ---- JWE ----------------------------------------------------------------------------- */

/* RFC 7518 4.6.2: Concat KDF with SHA-256, one round (keydatalen 256). */
static vt_res concat_kdf(const uint8_t *z, size_t zn, const char *algid, uint8_t kek[32])
{
    uint8_t be[4];
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    ENSURE(m, VT_ERR_NOMEM);
    size_t al = strlen(algid);
    bool ok = EVP_DigestInit_ex(m, EVP_sha256(), NULL) == 1;
    const uint8_t counter[4] = { 0, 0, 0, 1 };
    ok = ok && EVP_DigestUpdate(m, counter, 4) == 1 && EVP_DigestUpdate(m, z, zn) == 1;
    be[0] = (uint8_t)(al >> 24), be[1] = (uint8_t)(al >> 16), be[2] = (uint8_t)(al >> 8);
    be[3] = (uint8_t)al;
    ok = ok && EVP_DigestUpdate(m, be, 4) == 1 && EVP_DigestUpdate(m, algid, al) == 1;
    const uint8_t zero4[4] = { 0 }, bits[4] = { 0, 0, 1, 0 }; /* apu, apv empty; 256 */
    ok = ok && EVP_DigestUpdate(m, zero4, 4) == 1 && EVP_DigestUpdate(m, zero4, 4) == 1 &&
         EVP_DigestUpdate(m, bits, 4) == 1;
    unsigned int hl = 0;
    ok = ok && EVP_DigestFinal_ex(m, kek, &hl) == 1 && hl == 32;
    EVP_MD_CTX_free(m);
    ENSURE(ok, VT_ERR_CRYPTO);
    return vti_ok();
}

/* peer was validated when it was made: p256_from_xy (every peer point: the tee-pubkey through
 * vtk_jwk_public, a JWE's epk) or generated here; OpenSSL's own check of it again in
 * EVP_PKEY_derive_set_peer costs a scalar multiplication and is skipped. */
static vt_res ecdh(EVP_PKEY *priv, EVP_PKEY *peer, uint8_t z[32])
{
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_pkey(NULL, priv, NULL);
    size_t zl = 32;
    bool ok = c && EVP_PKEY_derive_init(c) == 1 && EVP_PKEY_derive_set_peer_ex(c, peer, 0) == 1 &&
              EVP_PKEY_derive(c, z, &zl) == 1 && zl == 32;
    EVP_PKEY_CTX_free(c);
    ENSURE(ok, VT_ERR_KBS_JWE);
    return vti_ok();
}

static vt_res aes_kw(bool wrap, const uint8_t kek[32], const uint8_t *in, size_t n,
                     uint8_t *out, size_t *outl)
{
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    ENSURE(c, VT_ERR_NOMEM);
    EVP_CIPHER_CTX_set_flags(c, EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
    int l1 = 0, l2 = 0;
    bool ok;
    if (wrap)
        ok = EVP_EncryptInit_ex(c, EVP_aes_256_wrap(), NULL, kek, NULL) == 1 &&
             EVP_EncryptUpdate(c, out, &l1, in, (int)n) == 1 &&
             EVP_EncryptFinal_ex(c, out + l1, &l2) == 1;
    else
        ok = EVP_DecryptInit_ex(c, EVP_aes_256_wrap(), NULL, kek, NULL) == 1 &&
             EVP_DecryptUpdate(c, out, &l1, in, (int)n) == 1 &&
             EVP_DecryptFinal_ex(c, out + l1, &l2) == 1;
    EVP_CIPHER_CTX_free(c);
    ENSURE(ok, wrap ? VT_ERR_CRYPTO : VT_ERR_KBS_JWE);
    *outl = (size_t)(l1 + l2);
    return vti_ok();
}

static vt_res rsa_oaep(bool enc, EVP_PKEY *key, const uint8_t *in, size_t n, uint8_t *out,
                       size_t *outl)
{
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
    bool ok = c && (enc ? EVP_PKEY_encrypt_init(c) : EVP_PKEY_decrypt_init(c)) == 1 &&
              EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_OAEP_PADDING) == 1 &&
              EVP_PKEY_CTX_set_rsa_oaep_md(c, EVP_sha256()) == 1 &&
              EVP_PKEY_CTX_set_rsa_mgf1_md(c, EVP_sha256()) == 1;
    ok = ok && (enc ? EVP_PKEY_encrypt(c, out, outl, in, n) : EVP_PKEY_decrypt(c, out, outl, in, n)) == 1;
    EVP_PKEY_CTX_free(c);
    ENSURE(ok, enc ? VT_ERR_CRYPTO : VT_ERR_KBS_JWE);
    return vti_ok();
}


vt_res vtk_jwe_encrypt(const EVP_PKEY *key, enum vtk_keyalg alg, const uint8_t *pt, size_t n,
                       struct vt_buf *out)
{
    uint8_t cek[32], kek[32], z[32], iv[12], ek[1024];
    size_t ekl = 0;
    EVP_PKEY *eph = NULL;
    json_t *hdr = NULL, *epk = NULL, *jwe = NULL;
    struct vt_buf hb = VT_BUF_INIT, prot = VT_BUF_INIT, ct = VT_BUF_INIT;
    vt_res r = vti_ok();
    ENSURE_GOTO(RAND_bytes(cek, 32) == 1 && RAND_bytes(iv, 12) == 1, VT_ERR_CRYPTO, r, out);
    /* The header text is built in the exact order guest-components re-serialises it. */
    if (alg == VTK_ALG_ECDH_ES_A256KW) {
        GUARD_GOTO(vtk_p256_generate(&eph), r, out);
        GUARD_GOTO(ecdh(eph, vti_unconst(key), z), r, out);
        GUARD_GOTO(concat_kdf(z, 32, "ECDH-ES+A256KW", kek), r, out);
        GUARD_GOTO(aes_kw(true, kek, cek, 32, ek, &ekl), r, out);
        GUARD_GOTO(vtk_jwk_from_pkey(eph, NULL, &epk), r, out);
        GUARD_GOTO(vti_buf_printf(&hb, "{\"alg\":\"ECDH-ES+A256KW\",\"enc\":\"A256GCM\","
                                      "\"epk\":{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"%s\","
                                      "\"y\":\"%s\"}}",
                                 json_string_value(json_object_get(epk, "x")),
                                 json_string_value(json_object_get(epk, "y"))), r, out);
    } else if (alg == VTK_ALG_RSA_OAEP_256) {
        ekl = sizeof(ek);
        GUARD_GOTO(rsa_oaep(true, vti_unconst(key), cek, 32, ek, &ekl), r, out);
        GUARD_GOTO(vti_buf_printf(&hb, "{\"alg\":\"RSA-OAEP-256\",\"enc\":\"A256GCM\"}"), r, out);
    } else {
        r = VT_FAIL(VT_ERR_INVALID_ARG);
        goto out;
    }
    GUARD_GOTO(vtk_b64url(hb.p, hb.len, &prot), r, out);
    ct.max = n + 64 > VT_BUF_DEFAULT_MAX ? n + 64 : VT_BUF_DEFAULT_MAX;
    GUARD_GOTO(a256gcm(true, cek, iv, prot.p, prot.len, pt, n, &ct), r, out);
    ENSURE_GOTO(ct.len >= 16, VT_ERR_CRYPTO, r, out);
    jwe = json_object();
    ENSURE_GOTO(jwe, VT_ERR_NOMEM, r, out);
    json_object_set_new(jwe, "protected", json_string((char *)prot.p));
    GUARD_GOTO(set_b64(jwe, "encrypted_key", ek, ekl), r, out);
    GUARD_GOTO(set_b64(jwe, "iv", iv, 12), r, out);
    GUARD_GOTO(set_b64(jwe, "ciphertext", ct.p, ct.len - 16), r, out);
    GUARD_GOTO(set_b64(jwe, "tag", ct.p + ct.len - 16, 16), r, out);
    char *s = json_dumps(jwe, JSON_COMPACT | JSON_PRESERVE_ORDER);
    ENSURE_GOTO(s, VT_ERR_NOMEM, r, out);
    r = vti_buf_append(out, s, strlen(s));
    vti_memzero(s, strlen(s));
    free(s);
    if (!r.err)
        r = vti_buf_cstr(out);
out:
    vti_memzero(cek, sizeof(cek));
    vti_memzero(kek, sizeof(kek));
    vti_memzero(z, sizeof(z));
    EVP_PKEY_free(eph);
    json_decref(hdr);
    json_decref(epk);
    json_decref(jwe);
    vti_buf_free(&hb);
    vti_buf_free(&prot);
    vti_buf_free(&ct);
    return r;
}

vt_res vtk_jwe_decrypt(const EVP_PKEY *priv, const uint8_t *jwe, size_t n, struct vt_buf *out)
{
    ENSURE(n <= JWE_MAX, VT_ERR_KBS_JWE);
    char why[160];
    json_t *j = vtp_json_parse(jwe, n, why, sizeof(why)), *h = NULL;
    ENSURE(json_is_object(j), VT_ERR_KBS_JWE);
    struct vt_buf hb = VT_BUF_INIT, ek = VT_BUF_INIT, iv = VT_BUF_INIT, ct = VT_BUF_INIT,
                  tag = VT_BUF_INIT, x = VT_BUF_INIT, y = VT_BUF_INIT;
    uint8_t cek[64], kek[32], z[32];
    size_t cekl = 0;
    EVP_PKEY *epk = NULL;
    vt_res r = vti_ok();
    const json_t *prot = json_object_get(j, "protected");
    ENSURE_GOTO(json_is_string(prot), VT_ERR_KBS_JWE, r, out);
    ENSURE_GOTO(!vtk_b64url_member(j, "protected", 0, &hb).err &&
                !vtk_b64url_member(j, "encrypted_key", 0, &ek).err &&
                !vtk_b64url_member(j, "iv", 12, &iv).err &&
                !vtk_b64url_member(j, "ciphertext", 0, &ct).err &&
                !vtk_b64url_member(j, "tag", 16, &tag).err, VT_ERR_KBS_JWE, r, out);
    h = vtp_json_parse(hb.p, hb.len, why, sizeof(why));
    ENSURE_GOTO(json_is_object(h) && str_is(h, "enc", "A256GCM"), VT_ERR_KBS_JWE, r, out);
    if (str_is(h, "alg", "ECDH-ES+A256KW")) {
        const json_t *e = json_object_get(h, "epk");
        ENSURE_GOTO(json_is_object(e) && str_is(e, "kty", "EC") && str_is(e, "crv", "P-256") &&
                    !vtk_b64url_member(e, "x", 32, &x).err &&
                    !vtk_b64url_member(e, "y", 32, &y).err, VT_ERR_KBS_JWE, r, out);
        ENSURE_GOTO(!p256_from_xy(x.p, y.p, &epk).err, VT_ERR_KBS_JWE, r, out);
        ENSURE_GOTO(ek.len == 40, VT_ERR_KBS_JWE, r, out);
        GUARD_GOTO(ecdh(vti_unconst(priv), epk, z), r, out);
        GUARD_GOTO(concat_kdf(z, 32, "ECDH-ES+A256KW", kek), r, out);
        GUARD_GOTO(aes_kw(false, kek, ek.p, ek.len, cek, &cekl), r, out);
    } else if (str_is(h, "alg", "RSA-OAEP-256")) {
        uint8_t big[1024]; /* OpenSSL wants room for a modulus-sized output */
        size_t bl = sizeof(big);
        r = rsa_oaep(false, vti_unconst(priv), ek.p, ek.len, big, &bl);
        if (!r.err && bl == 32)
            memcpy(cek, big, 32);
        cekl = bl;
        vti_memzero(big, sizeof(big));
        GUARD_GOTO(r, r, out);
    } else {
        r = VT_FAIL(VT_ERR_KBS_JWE);
        goto out;
    }
    ENSURE_GOTO(cekl == 32, VT_ERR_KBS_JWE, r, out);
    GUARD_GOTO(vti_buf_append(&ct, tag.p, 16), r, out);
    /* AAD: the protected member exactly as received (RFC 7516 5.2 step 14) */
    r = a256gcm(false, cek, iv.p, (const uint8_t *)json_string_value(prot),
                json_string_length(prot), ct.p, ct.len, out);
    if (r.err)
        r = VT_FAIL(VT_ERR_KBS_JWE);
out:
    vti_memzero(cek, sizeof(cek));
    vti_memzero(kek, sizeof(kek));
    vti_memzero(z, sizeof(z));
    EVP_PKEY_free(epk);
    vti_buf_free(&hb);
    vti_buf_free(&ek);
    vti_buf_free(&iv);
    vti_buf_free(&ct);
    vti_buf_free(&tag);
    vti_buf_free(&x);
    vti_buf_free(&y);
    json_decref(h);
    json_decref(j);
    return r;
}

/* ---- JWS ES256 ------------------------------------------------------------------------ */

static vt_res b64url_json(const json_t *v, struct vt_buf *out)
{
    char *s = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);
    ENSURE(s, VT_ERR_NOMEM);
    vt_res r = vti_b64_encode((const uint8_t *)s, strlen(s), true, out);
    free(s);
    return r;
}

/* s as 32 big-endian bytes, in its low form: n - s when s > n/2 (n: the P-256 order). Both
 * verify; emitting only the low one makes the token's signature canonical (a verifier that
 * insists on low-S, as many do, accepts it; the token has one valid encoding from us). */
static vt_res low_s(const BIGNUM *s, uint8_t out[32])
{
    EC_GROUP *g = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
    BIGNUM *half = BN_new(), *t = BN_new();
    vt_res r = vti_ok();
    const BIGNUM *n = g ? EC_GROUP_get0_order(g) : NULL;
    ENSURE_GOTO(n && half && t && BN_rshift1(half, n) == 1, VT_ERR_NOMEM, r, done);
    if (BN_cmp(s, half) > 0)
        ENSURE_GOTO(BN_sub(t, n, s) == 1, VT_ERR_CRYPTO, r, done);
    else
        ENSURE_GOTO(BN_copy(t, s) != NULL, VT_ERR_NOMEM, r, done);
    ENSURE_GOTO(BN_bn2binpad(t, out, 32) == 32, VT_ERR_CRYPTO, r, done);
done:
    BN_free(t);
    BN_free(half);
    EC_GROUP_free(g);
    return r;
}

vt_res vtk_jws_sign(EVP_PKEY *key, const json_t *header, const json_t *payload,
                    struct vt_buf *out)
{
    struct vt_buf in = VT_BUF_INIT;
    uint8_t der[80], rs[64];
    size_t dl = sizeof(der);
    ECDSA_SIG *sig = NULL;
    EVP_MD_CTX *m = NULL;
    vt_res r = vti_ok();
    GUARD_GOTO(b64url_json(header, &in), r, done);
    GUARD_GOTO(vti_buf_u8(&in, '.'), r, done);
    GUARD_GOTO(b64url_json(payload, &in), r, done);
    m = EVP_MD_CTX_new();
    ENSURE_GOTO(m && EVP_DigestSignInit(m, NULL, EVP_sha256(), NULL, key) == 1 &&
                EVP_DigestSign(m, der, &dl, in.p, in.len) == 1, VT_ERR_CRYPTO, r, done);
    const uint8_t *dp = der;
    sig = d2i_ECDSA_SIG(NULL, &dp, (long)dl);
    ENSURE_GOTO(sig, VT_ERR_CRYPTO, r, done);
    ENSURE_GOTO(BN_bn2binpad(ECDSA_SIG_get0_r(sig), rs, 32) == 32, VT_ERR_CRYPTO, r, done);
    GUARD_GOTO(low_s(ECDSA_SIG_get0_s(sig), rs + 32), r, done);
    GUARD_GOTO(vti_buf_append(out, in.p, in.len), r, done);
    GUARD_GOTO(vti_buf_u8(out, '.'), r, done);
    r = vtk_b64url(rs, 64, out);
done:
    ECDSA_SIG_free(sig);
    EVP_MD_CTX_free(m);
    vti_buf_free(&in);
    return r;
}

static vt_res split3(const char *jws, size_t n, size_t *d1, size_t *d2)
{
    const char *a = memchr(jws, '.', n);
    ENSURE(a, VT_ERR_KBS_TOKEN_INVALID);
    const char *b = memchr(a + 1, '.', n - (size_t)(a + 1 - jws));
    ENSURE(b, VT_ERR_KBS_TOKEN_INVALID);
    ENSURE(!memchr(b + 1, '.', n - (size_t)(b + 1 - jws)), VT_ERR_KBS_TOKEN_INVALID);
    *d1 = (size_t)(a - jws);
    *d2 = (size_t)(b - jws);
    return vti_ok();
}

static json_t *decode_part(const char *p, size_t n)
{
    struct vt_buf b = VT_BUF_INIT;
    char why[160];
    json_t *j = NULL;
    if (!memchr(p, '=', n) && !vti_b64_decode(p, n, true, &b).err)
        j = vtp_json_parse(b.p, b.len, why, sizeof(why));
    vti_buf_free(&b);
    if (j && !json_is_object(j)) {
        json_decref(j);
        j = NULL;
    }
    return j;
}

vt_res vtk_jws_peek(const char *jws, size_t n, json_t **ret_header, json_t **ret_payload)
{
    ENSURE(n <= JWE_MAX, VT_ERR_KBS_TOKEN_INVALID);
    size_t d1 = 0, d2 = 0;
    GUARD(split3(jws, n, &d1, &d2));
    json_t *h = decode_part(jws, d1), *p = decode_part(jws + d1 + 1, d2 - d1 - 1);
    if (!h || !p) {
        json_decref(h);
        json_decref(p);
        return VT_FAIL(VT_ERR_KBS_TOKEN_INVALID);
    }
    *ret_header = h;
    *ret_payload = p;
    return vti_ok();
}

vt_res vtk_jws_verify(EVP_PKEY *key, const char *jws, size_t n, json_t **ret_header,
                      json_t **ret_payload)
{
    json_t *h = NULL, *p = NULL;
    GUARD(vtk_jws_peek(jws, n, &h, &p));
    size_t d1 = 0, d2 = 0;
    struct vt_buf sig = VT_BUF_INIT;
    ECDSA_SIG *es = NULL;
    BIGNUM *br = NULL, *bs = NULL;
    uint8_t *der = NULL;
    EVP_MD_CTX *m = NULL;
    vt_res r = split3(jws, n, &d1, &d2);
    ENSURE_GOTO(!r.err && str_is(h, "alg", "ES256"), VT_ERR_KBS_TOKEN_INVALID, r, done);
    ENSURE_GOTO(!memchr(jws + d2 + 1, '=', n - d2 - 1) &&
                !vti_b64_decode(jws + d2 + 1, n - d2 - 1, true, &sig).err && sig.len == 64,
                VT_ERR_KBS_TOKEN_INVALID, r, done);
    es = ECDSA_SIG_new();
    br = BN_bin2bn(sig.p, 32, NULL);
    bs = BN_bin2bn(sig.p + 32, 32, NULL);
    ENSURE_GOTO(es && br && bs && ECDSA_SIG_set0(es, br, bs) == 1, VT_ERR_NOMEM, r, done);
    br = bs = NULL;
    int dl = i2d_ECDSA_SIG(es, &der);
    m = EVP_MD_CTX_new();
    ENSURE_GOTO(dl > 0 && m && EVP_DigestVerifyInit(m, NULL, EVP_sha256(), NULL, key) == 1,
                VT_ERR_CRYPTO, r, done);
    ENSURE_GOTO(EVP_DigestVerify(m, der, (size_t)dl, (const uint8_t *)jws, d2) == 1,
                VT_ERR_KBS_TOKEN_INVALID, r, done);
    *ret_header = h;
    *ret_payload = p;
    h = p = NULL;
done:
    EVP_MD_CTX_free(m);
    OPENSSL_free(der);
    BN_free(br);
    BN_free(bs);
    ECDSA_SIG_free(es);
    vti_buf_free(&sig);
    json_decref(h);
    json_decref(p);
    return r;
}

/* ---- the KBS runtime-data binding ------------------------------------------------------ */

vt_res vtk_runtime_digest(const char *additional, const char *nonce, const json_t *jwk,
                          uint8_t out[64])
{
    json_t *o = json_pack("{s:s, s:s, s:O}", "additional-evidence", additional, "nonce", nonce,
                          "tee-pubkey", jwk);
    ENSURE(o, VT_ERR_KBS_BAD_JSON);
    struct vt_buf c = VT_BUF_INIT;
    vt_res r = vtk_jcs(o, &c);
    json_decref(o);
    memset(out, 0, 64);
    unsigned int hl = 0;
    if (!r.err && EVP_Digest(c.p, c.len, out, &hl, EVP_sha384(), NULL) != 1)
        r = VT_FAIL(VT_ERR_CRYPTO);
    vti_buf_free(&c);
    return r;
}
