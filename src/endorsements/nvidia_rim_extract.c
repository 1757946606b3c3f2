/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nvidia_rim_extract.c - the RIM's signer certificates (KeyInfo/X509Data), their chain to the
 * NVIDIA RIM root (pinned by the SHA-256 of its DER) or to caller-given anchors, the XML-DSig
 * verification with the leaf key (xmlsec, no key manager: nothing is looked up), and the
 * extraction of version, product and measurement Resources from the verified tree.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>
#include <xmlsec/xmlsec.h>
#include <xmlsec/transforms.h>
#include <xmlsec/xmldsig.h>
#include <xmlsec/openssl/crypto.h>
#include <xmlsec/openssl/evp.h>

#include "endorsements/nvidia_rim_int.h"
#include "util/codec.h"
#include "util/secmem.h"

/* SHA-256 of the DER of NVIDIA's RIM root "NVIDIA CoRIM signing Root CA" (nvtrust
 * verifier_RIM_root.pem; valid 2023-03-16 .. 2053-03-08). */
static const uint8_t nv_rim_root_sha256[32] = {
    0x12, 0x97, 0x7b, 0x51, 0x15, 0xac, 0xb0, 0x38, 0x11, 0x79, 0x27, 0x9f, 0xff, 0xeb, 0x5a, 0x8c,
    0x4d, 0x26, 0x49, 0x71, 0xeb, 0xb3, 0x22, 0x98, 0x02, 0x3a, 0x46, 0x5f, 0xa4, 0x1d, 0xf5, 0xd1,
};

#define CERT_B64_MAX 8192

/* Base64 text of one X509Certificate (whitespace allowed) -> X509 (exact DER length). */
static VT_RESULT cert_from_text(xmlNodePtr n, X509 **out)
{
    ENSURE(!vti_rim_first_elem(n), VT_ERR_NV_RIM_CERT);
    xmlChar *txt = xmlNodeGetContent(n);
    ENSURE(txt, VT_ERR_NV_RIM_CERT);
    struct vt_buf clean = { NULL, 0, 0, CERT_B64_MAX }, der = VT_BUF_INIT;
    vt_res r = vti_ok();
    for (const xmlChar *p = txt; *p && !r.err; p++)
        if (!isspace(*p))
            r = vti_buf_u8(&clean, *p);
    xmlFree(txt);
    if (r.err || clean.len == 0 || vti_b64_decode((const char *)clean.p, clean.len, false, &der).err) {
        vti_buf_free_nowipe(&clean);
        vti_buf_free_nowipe(&der);
        return VT_FAIL(VT_ERR_NV_RIM_CERT);
    }
    const unsigned char *q = der.p;
    X509 *x = d2i_X509(NULL, &q, (long)der.len);
    bool exact = x && q == der.p + der.len;
    vti_buf_free_nowipe(&clean);
    vti_buf_free_nowipe(&der);
    if (!exact) {
        X509_free(x);
        return VT_FAIL(VT_ERR_NV_RIM_CERT);
    }
    *out = x;
    return vti_ok();
}

vt_res vti_rim_certs(xmlNodePtr x509data, STACK_OF(X509) **out)
{
    STACK_OF(X509) *sk = sk_X509_new_null();
    ENSURE(sk, VT_ERR_NOMEM);
    vt_res r = vti_ok();
    for (xmlNodePtr c = vti_rim_first_elem(x509data); c; c = vti_rim_next_elem(c)) {
        ENSURE_GOTO(vti_rim_is(c, VTI_NS_DSIG, "X509Certificate"), VT_ERR_NV_RIM_SIG_STRUCTURE, r,
                    fail);
        ENSURE_GOTO(sk_X509_num(sk) < VTI_NV_RIM_MAX_CERTS, VT_ERR_NV_RIM_LIMIT, r, fail);
        X509 *x = NULL;
        GUARD_GOTO(cert_from_text(c, &x), r, fail);
        if (!sk_X509_push(sk, x)) {
            X509_free(x);
            r = VT_FAIL(VT_ERR_NOMEM);
            goto fail;
        }
    }
    ENSURE_GOTO(sk_X509_num(sk) > 0, VT_ERR_NV_RIM_CERT, r, fail);
    *out = sk;
    return vti_ok();
fail:
    sk_X509_pop_free(sk, X509_free);
    return r;
}

static bool is_pinned_root(X509 *x)
{
    uint8_t md[32];
    unsigned int n = 0;
    return X509_digest(x, EVP_sha256(), md, &n) == 1 && n == 32 &&
           vti_ct_eq(md, nv_rim_root_sha256, 32);
}

/* The trust store: the caller's roots, or the pinned root found among the given certs. */
static VT_RESULT build_store(STACK_OF(X509) *certs, const struct vti_nv_rim_trust *trust,
                             X509_STORE *store, bool *insecure)
{
    *insecure = trust && trust->n_roots > 0;
    if (*insecure) {
        for (size_t i = 0; i < trust->n_roots; i++) {
            const unsigned char *q = trust->roots[i].p;
            X509 *x = d2i_X509(NULL, &q, (long)trust->roots[i].len);
            bool ok = x && q == trust->roots[i].p + trust->roots[i].len &&
                      X509_STORE_add_cert(store, x) == 1;
            X509_free(x);
            ENSURE(ok, VT_ERR_INVALID_ARG);
        }
        return vti_ok();
    }
    for (int i = 0; i < sk_X509_num(certs); i++) {
        X509 *x = sk_X509_value(certs, i);
        if (is_pinned_root(x)) {
            GUARD_OSSL(X509_STORE_add_cert(store, x), VT_ERR_NOMEM);
            return vti_ok();
        }
    }
    return VT_FAIL(VT_ERR_NV_RIM_CHAIN);
}

static int64_t asn1_time_secs(const ASN1_TIME *t)
{
    struct tm tm;
    if (!t || ASN1_TIME_to_tm(t, &tm) != 1)
        return 0;
    return vti_timegm(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                      tm.tm_sec);
}

/* Record the leaf subject and the intersection of the verified chain's validity periods. */
static void chain_info(STACK_OF(X509) *chain, struct vti_nv_rim *rim)
{
    rim->not_before = INT64_MIN;
    rim->not_after = INT64_MAX;
    for (int i = 0; i < sk_X509_num(chain); i++) {
        X509 *x = sk_X509_value(chain, i);
        int64_t nb = asn1_time_secs(X509_get0_notBefore(x));
        int64_t na = asn1_time_secs(X509_get0_notAfter(x));
        if (nb > rim->not_before)
            rim->not_before = nb;
        if (na < rim->not_after)
            rim->not_after = na;
    }
    BIO *b = BIO_new(BIO_s_mem());
    if (!b)
        return;
    X509_NAME_print_ex(b, X509_get_subject_name(sk_X509_value(chain, 0)), 0, XN_FLAG_RFC2253);
    int n = BIO_read(b, rim->signer, (int)sizeof(rim->signer) - 1);
    rim->signer[n > 0 ? n : 0] = 0;
    BIO_free(b);
}

static vt_res map_verify_error(int e)
{
    switch (e) {
    case X509_V_ERR_CERT_HAS_EXPIRED:
    case X509_V_ERR_CERT_NOT_YET_VALID:
        return VT_FAIL(VT_ERR_NV_RIM_EXPIRED);
    case X509_V_ERR_OUT_OF_MEM:
        return VT_FAIL(VT_ERR_NOMEM);
    default:
        return VT_FAIL(VT_ERR_NV_RIM_CHAIN);
    }
}

static VT_RESULT verify_chain(X509_STORE *store, STACK_OF(X509) *certs, bool partial,
                              int64_t at, struct vti_nv_rim *rim)
{
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    ENSURE(ctx, VT_ERR_NOMEM);
    vt_res r = vti_ok();
    if (X509_STORE_CTX_init(ctx, store, sk_X509_value(certs, 0), certs) != 1) {
        X509_STORE_CTX_free(ctx);
        return VT_FAIL(VT_ERR_NOMEM);
    }
    X509_VERIFY_PARAM *vp = X509_STORE_CTX_get0_param(ctx);
    X509_VERIFY_PARAM_set_time(vp, (time_t)at);
    X509_VERIFY_PARAM_set_flags(vp, X509_V_FLAG_X509_STRICT |
                                        (partial ? X509_V_FLAG_PARTIAL_CHAIN : 0));
    if (X509_verify_cert(ctx) == 1)
        chain_info(X509_STORE_CTX_get0_chain(ctx), rim);
    else
        r = map_verify_error(X509_STORE_CTX_get_error(ctx));
    X509_STORE_CTX_free(ctx);
    return r;
}

vt_res vti_rim_chain(STACK_OF(X509) *certs, const struct vti_nv_rim_trust *trust, int64_t at,
                     struct vti_nv_rim *rim)
{
    X509_STORE *store = X509_STORE_new();
    ENSURE(store, VT_ERR_NOMEM);
    vt_res r;
    GUARD_GOTO(build_store(certs, trust, store, &rim->insecure), r, done);
    /* The leaf signs RIMs: if it states a key usage, digitalSignature must be in it. */
    X509 *leaf = sk_X509_value(certs, 0);
    ENSURE_GOTO(!(X509_get_extension_flags(leaf) & EXFLAG_KUSAGE) ||
                (X509_get_key_usage(leaf) & KU_DIGITAL_SIGNATURE), VT_ERR_NV_RIM_CHAIN, r, done);
    GUARD_GOTO(verify_chain(store, certs, rim->insecure, at, rim), r, done);
done:
    X509_STORE_free(store);
    return r;
}

/* The leaf key: EC on P-384, as an xmlsec key (owns its own reference). */
static VT_RESULT leaf_key(X509 *leaf, xmlSecKeyPtr *out)
{
    EVP_PKEY *pk = X509_get_pubkey(leaf);
    ENSURE(pk, VT_ERR_NV_RIM_CERT);
    char grp[32] = "";
    size_t glen = 0;
    bool p384 = EVP_PKEY_is_a(pk, "EC") &&
                EVP_PKEY_get_utf8_string_param(pk, OSSL_PKEY_PARAM_GROUP_NAME, grp, sizeof(grp),
                                               &glen) == 1 &&
                strcmp(grp, "secp384r1") == 0;
    if (!p384) {
        EVP_PKEY_free(pk);
        return VT_FAIL(VT_ERR_NV_RIM_SIG_ALG);
    }
    xmlSecKeyDataPtr data = xmlSecOpenSSLEvpKeyAdopt(pk);
    if (!data) {
        EVP_PKEY_free(pk);
        return VT_FAIL(VT_ERR_NV_RIM_XMLSEC);
    }
    xmlSecKeyPtr key = xmlSecKeyCreate();
    if (!key || xmlSecKeySetValue(key, data) < 0) {
        xmlSecKeyDataDestroy(data);
        if (key)
            xmlSecKeyDestroy(key);
        return VT_FAIL(VT_ERR_NV_RIM_XMLSEC);
    }
    *out = key;
    return vti_ok();
}

/* Only the transforms the structure check admits (a second line of defence). */
static bool enable_transforms(xmlSecDSigCtxPtr ctx)
{
    ctx->enabledReferenceUris = xmlSecTransformUriTypeEmpty;
    ctx->flags |= XMLSEC_DSIG_FLAGS_IGNORE_MANIFESTS | XMLSEC_DSIG_FLAGS_STORE_SIGNEDINFO_REFERENCES;
    return xmlSecDSigCtxEnableReferenceTransform(ctx, xmlSecTransformEnvelopedId) >= 0 &&
           xmlSecDSigCtxEnableReferenceTransform(ctx, xmlSecTransformInclC14NId) >= 0 &&
           xmlSecDSigCtxEnableReferenceTransform(ctx, xmlSecTransformInclC14N11Id) >= 0 &&
           xmlSecDSigCtxEnableReferenceTransform(ctx, xmlSecTransformExclC14NId) >= 0 &&
           xmlSecDSigCtxEnableReferenceTransform(ctx, xmlSecOpenSSLTransformSha384GetKlass()) >= 0 &&
           xmlSecDSigCtxEnableSignatureTransform(ctx, xmlSecTransformInclC14NId) >= 0 &&
           xmlSecDSigCtxEnableSignatureTransform(ctx, xmlSecTransformInclC14N11Id) >= 0 &&
           xmlSecDSigCtxEnableSignatureTransform(ctx, xmlSecTransformExclC14NId) >= 0 &&
           xmlSecDSigCtxEnableSignatureTransform(ctx,
                                                 xmlSecOpenSSLTransformEcdsaSha384GetKlass()) >= 0;
}

/* Exactly one Reference was processed, it succeeded, and it covered URI="". */
static bool one_good_reference(xmlSecDSigCtxPtr ctx)
{
    if (xmlSecPtrListGetSize(&ctx->signedInfoReferences) != 1)
        return false;
    xmlSecDSigReferenceCtxPtr ref = xmlSecPtrListGetItem(&ctx->signedInfoReferences, 0);
    return ref && ref->status == xmlSecDSigStatusSucceeded && ref->uri && ref->uri[0] == 0;
}

vt_res vti_rim_verify_sig(struct vti_rim_doc *d, X509 *leaf)
{
    xmlSecKeyPtr key = NULL;
    GUARD(leaf_key(leaf, &key));
    xmlSecDSigCtxPtr ctx = xmlSecDSigCtxCreate(NULL);
    if (!ctx) {
        xmlSecKeyDestroy(key);
        return VT_FAIL(VT_ERR_NV_RIM_XMLSEC);
    }
    ctx->signKey = key; /* owned by ctx from here */
    vt_res r = vti_ok();
    if (!enable_transforms(ctx))
        r = VT_FAIL(VT_ERR_NV_RIM_XMLSEC);
    else if (xmlSecDSigCtxVerify(ctx, d->sig) < 0 || ctx->status != xmlSecDSigStatusSucceeded ||
             !one_good_reference(ctx))
        r = VT_FAIL(VT_ERR_NV_RIM_SIG_INVALID);
    xmlSecDSigCtxDestroy(ctx);
    return r;
}
