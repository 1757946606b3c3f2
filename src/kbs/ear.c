/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ear.c - EAR attestation results (draft-ietf-rats-ear, AR4SI vectors from
 * draft-ietf-rats-ar4si) signed ES256, and the signing key's life cycle.
 *
 * The signing key is a P-256 key stored as PKCS#8 PEM under the internal name
 * "@kbs/ear-signing-key", sealed by the KMS envelope (AES-256-GCM under the master key, the
 * name and kind in the AAD). Creation is "insert version 1 or fail", so two brokers starting
 * together on one PostgreSQL store agree on one key. Tokens carry the key id (RFC 7638
 * thumbprint) and the public JWK in the header, as Trustee's do; this broker verifies only
 * against its own key, never against a key named by the token.
 */
#include <openssl/pem.h>
#include <string.h>

#include "kbs/ear.h"
#include "kbs_client/jose.h"
#include "util/secmem.h"

const char *const vtk_tv_names[VTK_TV_COUNT] = {
    "instance-identity", "configuration", "executables", "file-system",
    "hardware", "runtime-opaque", "storage-opaque", "sourced-data",
};

static vt_res signer_from_pem(const uint8_t *p, size_t n, struct vtk_signer *out)
{
    BIO *b = BIO_new_mem_buf(p, (int)n);
    ENSURE(b, VT_ERR_NOMEM);
    EVP_PKEY *k = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
    BIO_free(b);
    ENSURE(k && EVP_PKEY_is_a(k, "EC"), VT_ERR_BROKER_STORE_CORRUPT);
    out->key = k;
    vt_res r = vtk_jwk_thumbprint(k, out->kid, sizeof(out->kid));
    if (!r.err)
        r = vtk_jwk_from_pkey(k, "ES256", &out->jwk);
    if (!r.err) {
        json_object_set_new(out->jwk, "use", json_string("sig"));
        json_object_set_new(out->jwk, "kid", json_string(out->kid));
    }
    if (r.err)
        vtk_signer_free(out);
    return r;
}

vt_res vtk_signer_load(struct vtb_kms *kms, int64_t now, struct vtk_signer *out)
{
    memset(out, 0, sizeof(*out));
    struct vt_buf pem = VT_BUF_INIT;
    vt_res r = vtb_kms_get_internal(kms, VTK_SIGNING_KEY_NAME, VTK_SIGNING_KEY_KIND, &pem);
    if (r.err == VT_ERR_BROKER_UNKNOWN_RESOURCE) {
        EVP_PKEY *k = NULL;
        GUARD(vtk_p256_generate(&k));
        BIO *b = BIO_new(BIO_s_secmem());
        char *p = NULL;
        long n = 0;
        if (b && PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL) == 1)
            n = BIO_get_mem_data(b, &p);
        r = n > 0 ? vtb_kms_put_internal(kms, VTK_SIGNING_KEY_NAME, VTK_SIGNING_KEY_KIND,
                                         (const uint8_t *)p, (size_t)n, now)
                  : VT_FAIL(VT_ERR_CRYPTO);
        BIO_free(b);
        EVP_PKEY_free(k);
        if (r.err && r.err != VT_ERR_BROKER_EXISTS) /* EXISTS: another broker won the race */
            return r;
        r = vtb_kms_get_internal(kms, VTK_SIGNING_KEY_NAME, VTK_SIGNING_KEY_KIND, &pem);
    }
    if (!r.err)
        r = signer_from_pem(pem.p, pem.len, out);
    vti_buf_free(&pem);
    return r;
}

void vtk_signer_free(struct vtk_signer *s)
{
    EVP_PKEY_free(s->key);
    json_decref(s->jwk);
    memset(s, 0, sizeof(*s));
}

json_t *vtk_jwks(const struct vtk_signer *s)
{
    return json_pack("{s:[O]}", "keys", s->jwk);
}

const char *vtk_ear_status(const int tv[VTK_TV_COUNT])
{
    int worst = 0; /* 0 none, 1 affirming, 2 warning, 3 contraindicated */
    for (int i = 0; i < VTK_TV_COUNT; i++) {
        int v = tv[i], t = 0;
        if (v >= 96 || v < -1)
            t = 3;
        else if (v >= 32)
            t = 2;
        else if (v >= 2)
            t = 1;
        else if (v == 1 || v == -1)
            t = 3; /* 1: verifier error (treated as contraindicated, fail closed) */
        if (t > worst)
            worst = t;
    }
    static const char *const names[] = { "none", "affirming", "warning", "contraindicated" };
    return names[worst];
}

vt_res vtk_ear_issue(const struct vtk_signer *s, const int tv[VTK_TV_COUNT],
                     const char *policy_id, json_t *annotated, int64_t now, int64_t lifetime,
                     struct vt_buf *out)
{
    return vtk_ear_issue_submods(s, tv, policy_id, annotated, NULL, now, lifetime, out, NULL);
}

vt_res vtk_ear_issue_submods(const struct vtk_signer *s, const int tv[VTK_TV_COUNT],
                             const char *policy_id, json_t *annotated, const json_t *more,
                             int64_t now, int64_t lifetime, struct vt_buf *out,
                             json_t **ret_payload)
{
    json_t *vec = json_object();
    for (int i = 0; vec && i < VTK_TV_COUNT; i++)
        json_object_set_new(vec, vtk_tv_names[i], json_integer(tv[i]));
    json_t *pay = json_pack(
        "{s:s, s:I, s:I, s:I, s:s, s:{s:s, s:s}, s:{s:{s:s, s:o, s:s, s:o}}}",
        "eat_profile", VTK_EAR_PROFILE, "iat", (json_int_t)now, "nbf", (json_int_t)now, "exp",
        (json_int_t)(now + lifetime), "iss", VTK_EAR_ISSUER, "ear.verifier-id", "developer",
        "https://github.com/veritee", "build", "veritee-broker 0.1.0", "submods", "cpu0",
        "ear.status", vtk_ear_status(tv), "ear.trustworthiness-vector", vec,
        "ear.appraisal-policy-id", policy_id, "ear.veraison.annotated-evidence", annotated);
    json_t *subs = json_object_get(pay, "submods");
    const char *mk;
    json_t *mv;
    json_object_foreach(vti_unconst(more), mk, mv) /* device submods after cpu0 */
        if (strcmp(mk, "cpu0") != 0)
            json_object_set(subs, mk, mv);
    json_t *hdr = json_pack("{s:s, s:s, s:s, s:O}", "alg", "ES256", "typ", "JWT", "kid",
                            s->kid, "jwk", s->jwk);
    vt_res r = pay && hdr ? vtk_jws_sign(s->key, hdr, pay, out) : VT_FAIL(VT_ERR_NOMEM);
    if (!r.err)
        r = vti_buf_cstr(out);
    if (!r.err && ret_payload && !(*ret_payload = json_deep_copy(pay)))
        r = VT_FAIL(VT_ERR_NOMEM);
    json_decref(pay);
    json_decref(hdr);
    return r;
}

vt_res vtk_ear_verify(const struct vtk_signer *s, const char *tok, size_t n, int64_t now,
                      json_t **ret_claims)
{
    json_t *h = NULL, *p = NULL;
    vt_res r = vtk_jws_verify(s->key, tok, n, &h, &p);
    if (r.err)
        return VT_FAIL(VT_ERR_KBS_TOKEN_INVALID);
    const json_t *kid = json_object_get(h, "kid");
    const json_t *prof = json_object_get(p, "eat_profile"), *iss = json_object_get(p, "iss");
    const json_t *iat = json_object_get(p, "iat"), *exp = json_object_get(p, "exp");
    if (!json_is_string(kid) || strcmp(json_string_value(kid), s->kid) != 0 ||
        !json_is_string(prof) || strcmp(json_string_value(prof), VTK_EAR_PROFILE) != 0 ||
        !json_is_string(iss) || strcmp(json_string_value(iss), VTK_EAR_ISSUER) != 0 ||
        !json_is_integer(iat) || !json_is_integer(exp) ||
        !json_is_object(json_object_get(json_object_get(p, "submods"), "cpu0"))) {
        r = VT_FAIL(VT_ERR_KBS_TOKEN_INVALID);
    } else if (json_integer_value(exp) <= now) {
        r = VT_FAIL(VT_ERR_KBS_TOKEN_EXPIRED);
    } else if (json_integer_value(iat) > now + 60) {
        r = VT_FAIL(VT_ERR_KBS_TOKEN_INVALID);
    }
    json_decref(h);
    if (r.err) {
        json_decref(p);
        return r;
    }
    *ret_claims = p;
    return vti_ok();
}
