/* SPDX-License-Identifier: Apache-2.0 */
/*
 * intel_collateral.c - gathering and parsing Intel DCAP collateral.
 *
 * Owns: recognising collateral pieces by CONTENT (never by file name), keeping the exact
 * signed bytes of TCB Info / QE Identity, normalising CRLs to DER, the dcap-qvl style JSON
 * bundle (sgx_ql_qve_collateral_t fields), the RA-TLS endorsements CBOR
 * (notes/rats-tls.md section 2.5) and parsing the signed JSON (../shared/FORMATS.md 2.2-2.4).
 * Trust boundary: everything here is untrusted input. Loading decides only what a piece is;
 * the verifier checks signatures before calling the *_parse functions on the signed bytes.
 */
#include "endorsements/intel_collateral.h"

#include <dirent.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "util/cbor.h"
#include "crypto/crypto.h"
#include "util/codec.h"
#include "util/secmem.h"

#define VT_TAG_INTEL 60000

void vti_intel_collateral_free(struct vt_intel_collateral *c)
{
    if (!c)
        return;
    vti_buf_free_nowipe(&c->tcb_info.body);
    vti_buf_free_nowipe(&c->qe_identity.body);
    for (size_t i = 0; i < c->n_more_tcb; i++)
        vti_buf_free_nowipe(&c->more_tcb[i].body);
    for (size_t i = 0; i < c->n_more_qe; i++)
        vti_buf_free_nowipe(&c->more_qe[i].body);
    vti_buf_free_nowipe(&c->tcb_chain);
    vti_buf_free_nowipe(&c->qe_chain);
    for (size_t i = 0; i < c->n_crls; i++)
        vti_buf_free_nowipe(&c->crls[i]);
    memset(c, 0, sizeof(*c));
}

static vt_res copy_buf(const struct vt_buf *src, struct vt_buf *dst)
{
    *dst = (struct vt_buf)VT_BUF_INIT;
    return src->len ? vti_buf_append(dst, src->p, src->len) : vti_ok();
}

static vt_res copy_signed(const struct vt_intel_signed_json *src, struct vt_intel_signed_json *dst)
{
    *dst = *src;
    return copy_buf(&src->body, &dst->body);
}

vt_res vti_intel_collateral_copy(const struct vt_intel_collateral *src,
                                 struct vt_intel_collateral *dst)
{
    memset(dst, 0, sizeof(*dst));
    memcpy(dst->source, src->source, sizeof(dst->source));
    GUARD(copy_signed(&src->tcb_info, &dst->tcb_info));
    GUARD(copy_signed(&src->qe_identity, &dst->qe_identity));
    for (; dst->n_more_tcb < src->n_more_tcb; dst->n_more_tcb++)
        GUARD(copy_signed(&src->more_tcb[dst->n_more_tcb], &dst->more_tcb[dst->n_more_tcb]));
    for (; dst->n_more_qe < src->n_more_qe; dst->n_more_qe++)
        GUARD(copy_signed(&src->more_qe[dst->n_more_qe], &dst->more_qe[dst->n_more_qe]));
    GUARD(copy_buf(&src->tcb_chain, &dst->tcb_chain));
    GUARD(copy_buf(&src->qe_chain, &dst->qe_chain));
    for (; dst->n_crls < src->n_crls; dst->n_crls++)
        GUARD(copy_buf(&src->crls[dst->n_crls], &dst->crls[dst->n_crls]));
    return vti_ok();
}

static void h_piece(EVP_MD_CTX *h, const uint8_t *p, size_t n)
{
    uint8_t l[8];
    for (int i = 0; i < 8; i++)
        l[i] = (uint8_t)((uint64_t)n >> (8 * i));
    EVP_DigestUpdate(h, l, 8);
    if (n)
        EVP_DigestUpdate(h, p, n);
}

vt_res vti_intel_collateral_digest(const struct vt_intel_collateral *c, uint8_t out[32])
{
    if (c->has_digest) {
        memcpy(out, c->digest, 32);
        return vti_ok();
    }
    EVP_MD_CTX *h = EVP_MD_CTX_new();
    ENSURE(h, VT_ERR_NOMEM);
    vt_res r = vti_ok();
    if (EVP_DigestInit_ex(h, EVP_sha256(), NULL) != 1) {
        r = VT_FAIL(VT_ERR_INTERNAL);
        goto out;
    }
    h_piece(h, c->tcb_info.body.p, c->tcb_info.body.len);
    h_piece(h, c->tcb_info.sig, c->tcb_info.present ? 64 : 0);
    h_piece(h, c->qe_identity.body.p, c->qe_identity.body.len);
    h_piece(h, c->qe_identity.sig, c->qe_identity.present ? 64 : 0);
    for (size_t i = 0; i < c->n_more_tcb; i++) {
        h_piece(h, c->more_tcb[i].body.p, c->more_tcb[i].body.len);
        h_piece(h, c->more_tcb[i].sig, 64);
    }
    for (size_t i = 0; i < c->n_more_qe; i++) {
        h_piece(h, c->more_qe[i].body.p, c->more_qe[i].body.len);
        h_piece(h, c->more_qe[i].sig, 64);
    }
    h_piece(h, c->tcb_chain.p, c->tcb_chain.len);
    h_piece(h, c->qe_chain.p, c->qe_chain.len);
    for (size_t i = 0; i < c->n_crls; i++)
        h_piece(h, c->crls[i].p, c->crls[i].len);
    unsigned int n = 32;
    if (EVP_DigestFinal_ex(h, out, &n) != 1)
        r = VT_FAIL(VT_ERR_INTERNAL);
out:
    EVP_MD_CTX_free(h);
    return r;
}

/* ---- raw JSON spans ----------------------------------------------------------------- */

static size_t skip_ws(const uint8_t *p, size_t len, size_t i)
{
    while (i < len && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r'))
        i++;
    return i;
}

/* i at '"'; returns the index after the closing quote, or 0 on error. */
static size_t skip_string(const uint8_t *p, size_t len, size_t i)
{
    for (i++; i < len; i++) {
        if (p[i] == '\\') {
            i++;
            continue;
        }
        if (p[i] == '"')
            return i + 1;
    }
    return 0;
}

/* Returns the index after the value starting at i, or 0 on error (bounded depth). */
static size_t skip_value(const uint8_t *p, size_t len, size_t i)
{
    unsigned depth = 0;
    while (i < len) {
        uint8_t ch = p[i];
        if (ch == '"') {
            i = skip_string(p, len, i);
            if (!i)
                return 0;
            if (depth == 0)
                return i;
            continue;
        }
        if (ch == '{' || ch == '[') {
            if (++depth > 64)
                return 0;
        } else if (ch == '}' || ch == ']') {
            if (depth == 0)
                return i; /* end of a scalar inside the parent */
            if (--depth == 0)
                return i + 1;
        } else if (depth == 0 && (ch == ',' )) {
            return i;
        }
        i++;
    }
    return depth == 0 ? i : 0;
}

vt_res vti_json_raw_member(const uint8_t *json, size_t len, const char *key, const uint8_t **vp,
                           size_t *vlen)
{
    size_t klen = strlen(key);
    size_t i = skip_ws(json, len, 0);
    ENSURE(i < len && json[i] == '{', VT_ERR_JSON);
    i++;
    for (;;) {
        i = skip_ws(json, len, i);
        ENSURE(i < len, VT_ERR_JSON);
        if (json[i] == '}')
            return VT_FAIL(VT_ERR_NOT_FOUND);
        ENSURE(json[i] == '"', VT_ERR_JSON);
        size_t ks = i + 1, ke = skip_string(json, len, i);
        ENSURE(ke, VT_ERR_JSON);
        i = skip_ws(json, len, ke);
        ENSURE(i < len && json[i] == ':', VT_ERR_JSON);
        i = skip_ws(json, len, i + 1);
        size_t vs = i, ve = skip_value(json, len, i);
        ENSURE(ve > vs, VT_ERR_JSON);
        if (ke - 1 - ks == klen && vti_ct_eq(json + ks, key, klen)) {
            size_t e = ve;
            while (e > vs && (json[e - 1] == ' ' || json[e - 1] == '\n' || json[e - 1] == '\r' ||
                              json[e - 1] == '\t'))
                e--;
            *vp = json + vs;
            *vlen = e - vs;
            return vti_ok();
        }
        i = skip_ws(json, len, ve);
        ENSURE(i < len, VT_ERR_JSON);
        if (json[i] == ',')
            i++;
        else
            ENSURE(json[i] == '}', VT_ERR_JSON);
    }
}

/* ---- pieces ------------------------------------------------------------------------- */

static size_t trim_len(const uint8_t *p, size_t len)
{
    while (len > 0 && (p[len - 1] == 0 || p[len - 1] == ' ' || p[len - 1] == '\n' ||
                       p[len - 1] == '\r' || p[len - 1] == '\t'))
        len--;
    return len;
}

static vt_res set_buf(struct vt_buf *b, const uint8_t *p, size_t n, bool replace)
{
    if (b->len) {
        if (b->len == n && vti_ct_eq(b->p, p, n))
            return vti_ok();
        ENSURE(replace, VT_ERR_INTEL_COLLATERAL_DUP);
        b->len = 0;
    }
    b->max = VT_INTEL_MAX_PIECE_LEN;
    return vti_buf_append(b, p, n);
}

/* The identity of a signed body (untrusted, used only to choose among several). */
static void body_identity(const uint8_t *body, size_t n, struct vt_intel_signed_json *s)
{
    s->id[0] = 0;
    s->has_fmspc = false;
    json_t *o = json_loadb((const char *)body, n, 0, NULL);
    json_t *id = json_object_get(o, "id");
    if (json_is_string(id) && json_string_length(id) < sizeof(s->id))
        snprintf(s->id, sizeof(s->id), "%s", json_string_value(id));
    json_t *f = json_object_get(o, "fmspc");
    s->has_fmspc = json_is_string(f) && json_string_length(f) == 12 &&
                   vti_is_ok(vti_hex_decode_fixed(json_string_value(f), s->fmspc, 6));
    json_decref(o);
}

static bool same_identity(const struct vt_intel_signed_json *a, const struct vt_intel_signed_json *b)
{
    return strcmp(a->id, b->id) == 0 && a->has_fmspc == b->has_fmspc &&
           (!a->has_fmspc || vti_ct_eq(a->fmspc, b->fmspc, 6));
}

static bool same_bytes(const struct vt_intel_signed_json *a, const struct vt_intel_signed_json *b)
{
    return a->body.len == b->body.len && vti_ct_eq(a->body.p, b->body.p, a->body.len) &&
           vti_ct_eq(a->sig, b->sig, 64);
}

/* Store a signed body: into the primary slot, over the piece with the same identity
 * (identical: nothing to do; different: VT_ERR_INTEL_COLLATERAL_DUP unless replace), or as a
 * further alternative when its identity is new. */
static vt_res set_signed(struct vt_intel_collateral *c, bool tcb, const uint8_t *body,
                         size_t blen, const char *sig_hex, size_t sig_hex_len, bool replace)
{
    struct vt_intel_signed_json n = { 0 };
    ENSURE(sig_hex_len == 128, VT_ERR_INTEL_COLLATERAL_PARSE);
    char tmp[129];
    memcpy(tmp, sig_hex, 128);
    tmp[128] = 0;
    ENSURE(vti_is_ok(vti_hex_decode_fixed(tmp, n.sig, 64)), VT_ERR_INTEL_COLLATERAL_PARSE);
    n.body = (struct vt_buf){ .p = vti_unconst(body), .len = blen }; /* view, for comparing */
    body_identity(body, blen, &n);

    struct vt_intel_signed_json *prim = tcb ? &c->tcb_info : &c->qe_identity;
    struct vt_intel_signed_json *more = tcb ? c->more_tcb : c->more_qe;
    size_t *n_more = tcb ? &c->n_more_tcb : &c->n_more_qe;
    struct vt_intel_signed_json *s = prim;
    if (prim->present && !same_identity(prim, &n)) {
        s = NULL;
        for (size_t i = 0; i < *n_more && !s; i++)
            if (same_identity(&more[i], &n))
                s = &more[i];
        if (!s) {
            ENSURE(*n_more < VT_INTEL_MAX_ALT, VT_ERR_TOO_LARGE);
            s = &more[(*n_more)++];
            memset(s, 0, sizeof(*s));
        }
    }
    if (s->present && same_bytes(s, &n))
        return vti_ok();
    ENSURE(!s->present || replace, VT_ERR_INTEL_COLLATERAL_DUP);
    s->body.len = 0;
    s->body.max = VT_INTEL_MAX_PIECE_LEN;
    GUARD(vti_buf_append(&s->body, body, blen));
    memcpy(s->sig, n.sig, 64);
    memcpy(s->id, n.id, sizeof(s->id));
    s->has_fmspc = n.has_fmspc;
    memcpy(s->fmspc, n.fmspc, 6);
    s->present = true;
    return vti_ok();
}

static bool tcb_fits(const struct vt_intel_signed_json *s, bool tdx, const uint8_t *fmspc)
{
    bool is_tdx = strcmp(s->id, "TDX") == 0;
    return s->present && is_tdx == tdx &&
           (!fmspc || (s->has_fmspc && vti_ct_eq(s->fmspc, fmspc, 6)));
}

const struct vt_intel_signed_json *vti_intel_collateral_pick_tcb(const struct vt_intel_collateral *c,
                                                                 bool tdx, const uint8_t *fmspc)
{
    if (tcb_fits(&c->tcb_info, tdx, fmspc))
        return &c->tcb_info;
    for (size_t i = 0; i < c->n_more_tcb; i++)
        if (tcb_fits(&c->more_tcb[i], tdx, fmspc))
            return &c->more_tcb[i];
    return &c->tcb_info;
}

const struct vt_intel_signed_json *vti_intel_collateral_pick_qe(const struct vt_intel_collateral *c,
                                                                bool tdx)
{
    const char *want = tdx ? "TD_QE" : "QE";
    if (c->qe_identity.present && strcmp(c->qe_identity.id, want) == 0)
        return &c->qe_identity;
    for (size_t i = 0; i < c->n_more_qe; i++)
        if (strcmp(c->more_qe[i].id, want) == 0)
            return &c->more_qe[i];
    return &c->qe_identity;
}

/* A PCS body {"tcbInfo"|"enclaveIdentity": {...}, "signature": "..."}. */
static vt_res add_pcs_signed(struct vt_intel_collateral *c, const uint8_t *p, size_t len,
                             json_t *root, bool replace, bool *recognised)
{
    const char *key = json_object_get(root, "tcbInfo") ? "tcbInfo" :
                      json_object_get(root, "enclaveIdentity") ? "enclaveIdentity" : NULL;
    if (!key)
        return vti_ok();
    json_t *sig = json_object_get(root, "signature");
    ENSURE(json_is_string(sig), VT_ERR_INTEL_COLLATERAL_PARSE);
    const uint8_t *vp;
    size_t vl;
    GUARD(vti_json_raw_member(p, len, key, &vp, &vl));
    ENSURE(vl > 0 && vp[0] == '{', VT_ERR_INTEL_COLLATERAL_PARSE);
    *recognised = true;
    return set_signed(c, key[0] == 't', vp, vl, json_string_value(sig),
                      json_string_length(sig), replace);
}

static vt_res add_crl_der(struct vt_intel_collateral *c, const uint8_t *der, size_t n,
                          bool replace)
{
    const unsigned char *q = der;
    X509_CRL *crl = d2i_X509_CRL(NULL, &q, (long)n);
    ENSURE(crl, VT_ERR_INTEL_CRL_PARSE);
    bool whole = (size_t)(q - der) == n;
    vt_res r = vti_ok();
    if (!whole) {
        r = VT_FAIL(VT_ERR_INTEL_CRL_PARSE);
        goto out;
    }
    for (size_t i = 0; i < c->n_crls; i++) {
        if (c->crls[i].len == n && vti_ct_eq(c->crls[i].p, der, n))
            goto out;
        const unsigned char *q2 = c->crls[i].p;
        X509_CRL *o = d2i_X509_CRL(NULL, &q2, (long)c->crls[i].len);
        bool same_issuer = o && X509_NAME_cmp(X509_CRL_get_issuer(o), X509_CRL_get_issuer(crl)) == 0;
        X509_CRL_free(o);
        if (same_issuer) {
            if (!replace) {
                r = VT_FAIL(VT_ERR_INTEL_COLLATERAL_DUP);
                goto out;
            }
            c->crls[i].len = 0;
            r = vti_buf_append(&c->crls[i], der, n);
            goto out;
        }
    }
    if (c->n_crls >= VT_INTEL_MAX_CRLS) {
        r = VT_FAIL(VT_ERR_TOO_LARGE);
        goto out;
    }
    c->crls[c->n_crls].max = VT_INTEL_MAX_PIECE_LEN;
    r = vti_buf_append(&c->crls[c->n_crls], der, n);
    if (vti_is_ok(r))
        c->n_crls++;
out:
    X509_CRL_free(crl);
    return r;
}

static bool all_hex(const uint8_t *p, size_t n)
{
    if (n == 0 || n % 2)
        return false;
    for (size_t i = 0; i < n; i++) {
        uint8_t ch = p[i];
        if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F')))
            return false;
    }
    return true;
}

/* A CRL given as DER, PEM or hex of DER. */
static vt_res add_crl_any(struct vt_intel_collateral *c, const uint8_t *p, size_t len, bool replace)
{
    /* DER first, on the exact bytes: a DER CRL may end in a byte that looks like white space
     * or NUL (its signature is random), so it is never trimmed before this attempt. */
    if (len > 0 && p[0] == 0x30) {
        const unsigned char *q = p;
        X509_CRL *crl = d2i_X509_CRL(NULL, &q, (long)len);
        bool whole = crl && (size_t)(q - p) == len;
        X509_CRL_free(crl);
        if (whole)
            return add_crl_der(c, p, len, replace);
    }
    len = trim_len(p, len);
    ENSURE(len > 0, VT_ERR_INTEL_CRL_PARSE);
    if (vti_pem_has(p, len, "X509 CRL")) {
        struct vt_pem_list l = { 0 };
        GUARD(vti_pem_decode(p, len, "X509 CRL", &l));
        vt_res r = vti_ok();
        for (size_t i = 0; i < l.n && vti_is_ok(r); i++)
            r = add_crl_der(c, l.der[i].p, l.der[i].len, replace);
        vti_pem_list_free(&l);
        return r;
    }
    if (all_hex(p, len)) {
        struct vt_buf d = VT_BUF_INIT;
        vt_res r = vti_hex_decode((const char *)p, len, &d);
        if (vti_is_ok(r))
            r = add_crl_der(c, d.p, d.len, replace);
        else
            r = VT_FAIL(VT_ERR_INTEL_CRL_PARSE);
        vti_buf_free_nowipe(&d);
        return r;
    }
    return add_crl_der(c, p, len, replace);
}

/* A PEM certificate chain whose first certificate is not a CA: a TCB signing chain. Chains
 * of CA certificates only (PCK CA chains, roots) are recognised and ignored: the PCK chain
 * travels in the quote and anchors come from the caller. */
/* Store a signing chain. A second chain with the same first certificate (DER) is the same
 * signer: the one with more certificates is kept (a directory may hold the signing
 * certificate alone next to a bundle's full chain). Else as set_buf. */
static vt_res set_chain(struct vt_buf *b, const uint8_t *p, size_t n, bool replace)
{
    if (b->len && !(b->len == n && vti_ct_eq(b->p, p, n))) {
        struct vt_pem_list o = { 0 }, m = { 0 };
        bool same = vti_is_ok(vti_pem_decode(b->p, b->len, "CERTIFICATE", &o)) &&
                    vti_is_ok(vti_pem_decode(p, n, "CERTIFICATE", &m)) &&
                    o.der[0].len == m.der[0].len &&
                    vti_ct_eq(o.der[0].p, m.der[0].p, o.der[0].len);
        bool longer = m.n > o.n;
        vti_pem_list_free(&o);
        vti_pem_list_free(&m);
        if (same && !longer)
            return vti_ok();
        if (same)
            replace = true;
    }
    return set_buf(b, p, n, replace);
}

static const uint8_t sgx_ext_oid[] = { 0x2a, 0x86, 0x48, 0x86, 0xf8, 0x4d, 0x01, 0x0d, 0x01 };

/* Does x carry the SGX extensions (1.2.840.113741.1.13.1), i.e. is it a PCK certificate? */
static bool is_pck_cert(X509 *x)
{
    for (int i = 0; i < X509_get_ext_count(x); i++) {
        const ASN1_OBJECT *o = X509_EXTENSION_get_object(X509_get_ext(x, i));
        unsigned char *der = NULL;
        int dl = i2d_ASN1_OBJECT(o, &der);
        bool hit = dl == (int)sizeof(sgx_ext_oid) + 2 &&
                   vti_ct_eq(der + 2, sgx_ext_oid, sizeof(sgx_ext_oid));
        OPENSSL_free(der);
        if (hit)
            return true;
    }
    return false;
}

/* A PEM certificate chain whose first certificate is not a CA: a TCB signing chain. Chains
 * of CA certificates only (PCK CA chains, roots) and PCK certificates are recognised and
 * ignored when found by content (which == 0): the PCK chain travels in the quote and
 * anchors come from the caller. */
static vt_res add_chain(struct vt_intel_collateral *c, const uint8_t *p, size_t len,
                        int which, bool replace, bool *recognised)
{
    struct vt_pem_list l = { 0 };
    ENSURE(vti_is_ok(vti_pem_decode(p, len, "CERTIFICATE", &l)), VT_ERR_INTEL_SIGNING_CHAIN_PARSE);
    const unsigned char *q = l.der[0].p;
    X509 *x = d2i_X509(NULL, &q, (long)l.der[0].len);
    int ca = x ? X509_check_ca(x) : -1;
    bool pck = x && is_pck_cert(x);
    X509_free(x);
    vti_pem_list_free(&l);
    ENSURE(ca >= 0, VT_ERR_INTEL_SIGNING_CHAIN_PARSE);
    *recognised = true;
    if ((ca != 0 || pck) && which == 0)
        return vti_ok();
    size_t n = trim_len(p, len);
    if (which == 0 || which == 1)
        GUARD(set_chain(&c->tcb_chain, p, n, replace));
    if (which == 0 || which == 2)
        GUARD(set_chain(&c->qe_chain, p, n, replace));
    return vti_ok();
}

static const char *jstr(json_t *o, const char *k, size_t *n)
{
    json_t *v = json_object_get(o, k);
    if (!json_is_string(v))
        return NULL;
    *n = json_string_length(v);
    return json_string_value(v);
}

static vt_res add_signed_field(struct vt_intel_collateral *c, json_t *root, const char *k,
                               const char *ksig, bool tcb, bool replace)
{
    size_t n = 0, sn = 0;
    const char *s = jstr(root, k, &n);
    if (!s)
        return vti_ok();
    const uint8_t *b = (const uint8_t *)s;
    n = trim_len(b, n);
    /* duplicate keys make signed JSON ambiguous: refused here as everywhere else */
    json_t *inner = json_loadb(s, n, JSON_REJECT_DUPLICATES, NULL);
    ENSURE(inner, VT_ERR_INTEL_COLLATERAL_PARSE);
    vt_res r;
    if (json_object_get(inner, tcb ? "tcbInfo" : "enclaveIdentity")) {
        bool rec = false;
        r = add_pcs_signed(c, b, n, inner, replace, &rec);
    } else {
        const char *sig = jstr(root, ksig, &sn);
        r = sig ? set_signed(c, tcb, b, n, sig, sn, replace)
                : VT_FAIL(VT_ERR_INTEL_COLLATERAL_PARSE);
    }
    json_decref(inner);
    return r;
}

static vt_res add_bundle(struct vt_intel_collateral *c, json_t *root, bool replace)
{
    size_t n;
    const char *s;
    GUARD(add_signed_field(c, root, "tcb_info", "tcb_info_signature", true, replace));
    GUARD(add_signed_field(c, root, "qe_identity", "qe_identity_signature", false, replace));
    bool rec = false;
    if ((s = jstr(root, "tcb_info_issuer_chain", &n)) && n)
        GUARD(add_chain(c, (const uint8_t *)s, n, 1, replace, &rec));
    if ((s = jstr(root, "qe_identity_issuer_chain", &n)) && n)
        GUARD(add_chain(c, (const uint8_t *)s, n, 2, replace, &rec));
    if ((s = jstr(root, "root_ca_crl", &n)) && n)
        GUARD(add_crl_any(c, (const uint8_t *)s, n, replace));
    if ((s = jstr(root, "pck_crl", &n)) && n)
        GUARD(add_crl_any(c, (const uint8_t *)s, n, replace));
    snprintf(c->source, sizeof(c->source), "bundle");
    return vti_ok();
}

vt_res vti_intel_collateral_from_bundle(const uint8_t *json, size_t len,
                                        struct vt_intel_collateral *c)
{
    json_t *root = json_loadb((const char *)json, trim_len(json, len), JSON_REJECT_DUPLICATES, NULL);
    ENSURE(root && json_is_object(root), VT_ERR_INTEL_COLLATERAL_PARSE);
    vt_res r = add_bundle(c, root, false);
    json_decref(root);
    return r;
}

vt_res vti_intel_collateral_add_piece(struct vt_intel_collateral *c, const uint8_t *p,
                                      size_t len, bool replace, bool *recognised)
{
    *recognised = false;
    c->has_digest = false;
    /* Binary (DER) pieces keep their exact length; only text forms are trimmed. */
    size_t raw_len = len;
    len = trim_len(p, len);
    size_t i = skip_ws(p, len, 0);
    if (i < len && p[i] == '{') {
        json_t *root = json_loadb((const char *)p, len, JSON_REJECT_DUPLICATES, NULL);
        ENSURE(root && json_is_object(root), VT_ERR_INTEL_COLLATERAL_PARSE);
        vt_res r = vti_ok();
        if (json_object_get(root, "tcbInfo") || json_object_get(root, "enclaveIdentity")) {
            r = add_pcs_signed(c, p, len, root, replace, recognised);
        } else if (json_object_get(root, "tcb_info") || json_object_get(root, "qe_identity")) {
            *recognised = true;
            r = add_bundle(c, root, replace);
        }
        json_decref(root);
        return r;
    }
    if (vti_pem_has(p, len, "X509 CRL")) {
        *recognised = true;
        return add_crl_any(c, p, len, replace);
    }
    if (vti_pem_has(p, len, "CERTIFICATE"))
        return add_chain(c, p, len, 0, replace, recognised);
    if (raw_len > 0 && p[0] == 0x30)
        len = raw_len;
    if (all_hex(p, len) || (len > 0 && p[0] == 0x30)) {
        /* DER (or hex DER): a CRL, or a certificate (ignored). */
        struct vt_intel_collateral tmp = { 0 };
        vt_res r = add_crl_any(&tmp, p, len, false);
        vti_intel_collateral_free(&tmp);
        if (vti_is_ok(r)) {
            *recognised = true;
            return add_crl_any(c, p, len, replace);
        }
        const unsigned char *q = p;
        X509 *x = d2i_X509(NULL, &q, (long)len);
        if (x && (size_t)(q - p) == len)
            *recognised = true;
        X509_free(x);
    }
    return vti_ok();
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

vt_res vti_intel_collateral_load_path(const char *path, struct vt_intel_collateral *c)
{
    struct stat st;
    ENSURE(path && stat(path, &st) == 0, VT_ERR_NOT_FOUND);
    if (!S_ISDIR(st.st_mode)) {
        struct vt_buf f = VT_BUF_INIT;
        GUARD(vti_file_read(path, VT_INTEL_MAX_PIECE_LEN, &f));
        bool rec = false;
        vt_res r = vti_intel_collateral_add_piece(c, f.p, f.len, false, &rec);
        vti_buf_free_nowipe(&f);
        GUARD(r);
        ENSURE(rec, VT_ERR_INTEL_COLLATERAL_PARSE);
        if (!c->source[0])
            snprintf(c->source, sizeof(c->source), "file");
        return vti_ok();
    }
    DIR *d = opendir(path);
    ENSURE(d, VT_ERR_IO);
    char *names[VT_INTEL_MAX_DIR_FILES];
    size_t n = 0;
    vt_res r = vti_ok();
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        if (n >= VT_INTEL_MAX_DIR_FILES) {
            r = VT_FAIL(VT_ERR_TOO_LARGE);
            break;
        }
        names[n] = strdup(de->d_name);
        if (!names[n]) {
            r = VT_FAIL(VT_ERR_NOMEM);
            break;
        }
        n++;
    }
    closedir(d);
    qsort(names, n, sizeof(names[0]), cmp_names); /* deterministic order */
    for (size_t i = 0; i < n && vti_is_ok(r); i++) {
        char full[4096];
        if ((size_t)snprintf(full, sizeof(full), "%s/%s", path, names[i]) >= sizeof(full))
            continue;
        if (stat(full, &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        struct vt_buf f = VT_BUF_INIT;
        r = vti_file_read(full, VT_INTEL_MAX_PIECE_LEN, &f);
        bool rec = false;
        if (vti_is_ok(r))
            r = vti_intel_collateral_add_piece(c, f.p, f.len, false, &rec);
        vti_buf_free_nowipe(&f);
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    snprintf(c->source, sizeof(c->source), "pcs-files");
    return r;
}

/* ---- RA-TLS endorsements ------------------------------------------------------------ */

vt_res vti_intel_collateral_from_endorsements(const uint8_t *p, size_t len,
                                              struct vt_intel_collateral *c)
{
    struct vt_cur cur = vti_cur_init(p, len);
    uint64_t tag, n, version;
    ENSURE(vti_is_ok(vti_cbor_tag(&cur, &tag)) && tag == VT_TAG_INTEL, VT_ERR_INTEL_ENDORSEMENTS_PARSE);
    ENSURE(vti_is_ok(vti_cbor_array(&cur, &n)) && (n == 8 || n == 9), VT_ERR_INTEL_ENDORSEMENTS_PARSE);
    ENSURE(vti_is_ok(vti_cbor_uint(&cur, &version)), VT_ERR_INTEL_ENDORSEMENTS_PARSE);
    const uint8_t *f[8];
    size_t fl[8];
    for (uint64_t i = 0; i < n - 1; i++)
        ENSURE(vti_is_ok(vti_cbor_bstr(&cur, &f[i], &fl[i])), VT_ERR_INTEL_ENDORSEMENTS_PARSE);
    ENSURE(vti_cur_left(&cur) == 0, VT_ERR_INTEL_ENDORSEMENTS_PARSE);
    /* 0 TCB_INFO, 1 TCB_ISSUER_CHAIN, 2 CRL_PCK_CERT, 3 CRL_PCK_PROC_CA (root CA CRL),
     * 4 CRL_ISSUER_CHAIN_PCK_CERT, 5 QE_ID_INFO, 6 QE_ID_ISSUER_CHAIN, 7 CREATION_DATETIME */
    bool rec = false;
    if (fl[0])
        GUARD(vti_intel_collateral_add_piece(c, f[0], fl[0], false, &rec));
    if (fl[5])
        GUARD(vti_intel_collateral_add_piece(c, f[5], fl[5], false, &rec));
    if (fl[1])
        GUARD(add_chain(c, f[1], trim_len(f[1], fl[1]), 1, false, &rec));
    if (fl[6])
        GUARD(add_chain(c, f[6], trim_len(f[6], fl[6]), 2, false, &rec));
    if (fl[2])
        GUARD(add_crl_any(c, f[2], fl[2], false));
    if (fl[3])
        GUARD(add_crl_any(c, f[3], fl[3], false));
    snprintf(c->source, sizeof(c->source), "ratls-endorsements");
    return vti_ok();
}

static vt_res put_pcs_body(struct vt_buf *b, const char *key, const struct vt_intel_signed_json *s)
{
    struct vt_buf t = VT_BUF_INIT;
    char hex[129];
    vti_hex_encode(s->sig, 64, hex);
    vt_res r = vti_buf_printf(&t, "{\"%s\":%.*s,\"signature\":\"%s\"}", key, (int)s->body.len,
                             (const char *)s->body.p, hex);
    if (vti_is_ok(r))
        r = vti_cbor_put_bstr(b, t.p, t.len);
    vti_buf_free_nowipe(&t);
    return r;
}

/* Is crl issued by the self-signed certificate at the end of a PEM chain? */
static bool crl_is_root(const struct vt_buf *crl, const struct vt_buf *chain)
{
    struct vt_pem_list l = { 0 };
    if (!chain->len || !vti_is_ok(vti_pem_decode(chain->p, chain->len, "CERTIFICATE", &l)))
        return false;
    bool res = false;
    const unsigned char *q = l.der[l.n - 1].p;
    X509 *root = d2i_X509(NULL, &q, (long)l.der[l.n - 1].len);
    q = crl->p;
    X509_CRL *x = d2i_X509_CRL(NULL, &q, (long)crl->len);
    if (root && x)
        res = X509_NAME_cmp(X509_get_subject_name(root), X509_CRL_get_issuer(x)) == 0;
    X509_free(root);
    X509_CRL_free(x);
    vti_pem_list_free(&l);
    return res;
}

vt_res vti_intel_collateral_to_endorsements(const struct vt_intel_collateral *c,
                                            struct vt_buf *out)
{
    ENSURE(c->tcb_info.present && c->qe_identity.present, VT_ERR_INTEL_NO_COLLATERAL);
    const struct vt_buf *root = NULL, *pck = NULL;
    for (size_t i = 0; i < c->n_crls; i++) {
        if (crl_is_root(&c->crls[i], &c->tcb_chain))
            root = &c->crls[i];
        else
            pck = &c->crls[i];
    }
    GUARD(vti_cbor_put_head(out, VTI_CBOR_TAG, VT_TAG_INTEL));
    GUARD(vti_cbor_put_head(out, VTI_CBOR_ARRAY, 8));
    GUARD(vti_cbor_put_uint(out, 1));
    GUARD(put_pcs_body(out, "tcbInfo", &c->tcb_info));
    GUARD(vti_cbor_put_bstr(out, c->tcb_chain.p, c->tcb_chain.len));
    GUARD(vti_cbor_put_bstr(out, pck ? pck->p : NULL, pck ? pck->len : 0));
    GUARD(vti_cbor_put_bstr(out, root ? root->p : NULL, root ? root->len : 0));
    GUARD(vti_cbor_put_bstr(out, NULL, 0));
    GUARD(put_pcs_body(out, "enclaveIdentity", &c->qe_identity));
    GUARD(vti_cbor_put_bstr(out, c->qe_chain.p, c->qe_chain.len));
    return vti_ok();
}

/* ---- statuses ----------------------------------------------------------------------- */

static const char *const status_names[] = {
    [VT_ISTAT_NONE] = "",
    [VT_ISTAT_UP_TO_DATE] = "UpToDate",
    [VT_ISTAT_SW_HARDENING_NEEDED] = "SWHardeningNeeded",
    [VT_ISTAT_CONFIGURATION_NEEDED] = "ConfigurationNeeded",
    [VT_ISTAT_CONFIGURATION_AND_SW_HARDENING_NEEDED] = "ConfigurationAndSWHardeningNeeded",
    [VT_ISTAT_OUT_OF_DATE] = "OutOfDate",
    [VT_ISTAT_OUT_OF_DATE_CONFIGURATION_NEEDED] = "OutOfDateConfigurationNeeded",
    [VT_ISTAT_REVOKED] = "Revoked",
    [VT_ISTAT_TD_RELAUNCH_ADVISED] = "TDRelaunchAdvised",
    [VT_ISTAT_TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED] = "TDRelaunchAdvisedConfigurationNeeded",
};

const char *vti_intel_status_name(enum vt_intel_status s)
{
    return (size_t)s < VT_ARRAY_LEN(status_names) ? status_names[s] : "";
}

vt_res vti_intel_status_parse(const char *s, enum vt_intel_status *out)
{
    for (size_t i = 1; s && i < VT_ARRAY_LEN(status_names); i++)
        if (strcmp(s, status_names[i]) == 0) {
            *out = (enum vt_intel_status)i;
            return vti_ok();
        }
    return VT_FAIL(VT_ERR_INTEL_UNKNOWN_STATUS);
}

/* ---- signed JSON parsing ------------------------------------------------------------ */

static vt_res j_hex(json_t *o, const char *k, uint8_t *out, size_t n, int err)
{
    json_t *v = json_object_get(o, k);
    ENSURE(json_is_string(v) && json_string_length(v) == 2 * n, err);
    ENSURE(vti_is_ok(vti_hex_decode_fixed(json_string_value(v), out, n)), err);
    return vti_ok();
}

static vt_res j_int(json_t *o, const char *k, int64_t lo, int64_t hi, int64_t *out, int err)
{
    json_t *v = json_object_get(o, k);
    ENSURE(json_is_integer(v), err);
    json_int_t x = json_integer_value(v);
    ENSURE(x >= lo && x <= hi, err);
    *out = x;
    return vti_ok();
}

static vt_res j_time(json_t *o, const char *k, int64_t *out, int err)
{
    json_t *v = json_object_get(o, k);
    ENSURE(json_is_string(v), err);
    ENSURE(vti_is_ok(vti_time_parse(json_string_value(v), out)), err);
    return vti_ok();
}

/* Common level fields: tcbDate, tcbStatus, advisoryIDs. */
static vt_res level_common(json_t *lv, struct vt_intel_level *l, int err)
{
    json_t *st = json_object_get(lv, "tcbStatus");
    ENSURE(json_is_string(st), err);
    GUARD(vti_intel_status_parse(json_string_value(st), &l->status));
    json_t *d = json_object_get(lv, "tcbDate");
    if (json_is_string(d))
        snprintf(l->date, sizeof(l->date), "%s", json_string_value(d));
    json_t *adv = json_object_get(lv, "advisoryIDs");
    if (adv) {
        ENSURE(json_is_array(adv) && json_array_size(adv) <= VT_INTEL_MAX_ADVISORIES, err);
        for (size_t i = 0; i < json_array_size(adv); i++) {
            json_t *a = json_array_get(adv, i);
            ENSURE(json_is_string(a) && json_string_length(a) < 32, err);
            snprintf(l->adv[l->n_adv++], 32, "%s", json_string_value(a));
        }
    }
    return vti_ok();
}

static vt_res isvsvn_levels(json_t *arr, struct vt_intel_level *levels, size_t max, size_t *n,
                            int err)
{
    ENSURE(json_is_array(arr) && json_array_size(arr) > 0 && json_array_size(arr) <= max, err);
    for (size_t i = 0; i < json_array_size(arr); i++) {
        json_t *lv = json_array_get(arr, i);
        json_t *tcb = json_object_get(lv, "tcb");
        int64_t v;
        GUARD(j_int(tcb, "isvsvn", 0, 65535, &v, err));
        struct vt_intel_level *l = &levels[i];
        memset(l, 0, sizeof(*l));
        l->isvsvn = (uint16_t)v;
        GUARD(level_common(lv, l, err));
    }
    *n = json_array_size(arr);
    return vti_ok();
}

static vt_res module_parse(json_t *m, struct vt_intel_module_id *mi, bool levels)
{
    const int E = VT_ERR_INTEL_TCB_INFO_PARSE;
    uint8_t a[8], am[8];
    GUARD(j_hex(m, "mrsigner", mi->mrsigner, 48, E));
    GUARD(j_hex(m, "attributes", a, 8, E));
    GUARD(j_hex(m, "attributesMask", am, 8, E));
    mi->attributes = vti_le64_unsafe(a);
    mi->attributes_mask = vti_le64_unsafe(am);
    if (levels) {
        json_t *id = json_object_get(m, "id");
        ENSURE(json_is_string(id) && json_string_length(id) < sizeof(mi->id), E);
        snprintf(mi->id, sizeof(mi->id), "%s", json_string_value(id));
        GUARD(isvsvn_levels(json_object_get(m, "tcbLevels"), mi->levels,
                            VT_ARRAY_LEN(mi->levels), &mi->n_levels, E));
    }
    return vti_ok();
}

static vt_res tcb_level_parse(json_t *lv, int version, bool tdx, struct vt_intel_level *l)
{
    const int E = VT_ERR_INTEL_TCB_INFO_PARSE;
    json_t *tcb = json_object_get(lv, "tcb");
    ENSURE(json_is_object(tcb), E);
    int64_t v;
    if (version == 2) {
        for (int i = 0; i < 16; i++) {
            char k[20];
            snprintf(k, sizeof(k), "sgxtcbcomp%02dsvn", i + 1);
            GUARD(j_int(tcb, k, 0, 255, &v, E));
            l->sgx[i] = (uint8_t)v;
        }
    } else {
        json_t *sc = json_object_get(tcb, "sgxtcbcomponents");
        ENSURE(json_is_array(sc) && json_array_size(sc) == 16, E);
        for (size_t i = 0; i < 16; i++) {
            GUARD(j_int(json_array_get(sc, i), "svn", 0, 255, &v, E));
            l->sgx[i] = (uint8_t)v;
        }
        if (tdx) {
            json_t *tc = json_object_get(tcb, "tdxtcbcomponents");
            ENSURE(json_is_array(tc) && json_array_size(tc) == 16, E);
            for (size_t i = 0; i < 16; i++) {
                GUARD(j_int(json_array_get(tc, i), "svn", 0, 255, &v, E));
                l->tdx[i] = (uint8_t)v;
            }
            l->has_tdx = true;
        }
    }
    GUARD(j_int(tcb, "pcesvn", 0, 65535, &v, E));
    l->pcesvn = (uint16_t)v;
    return level_common(lv, l, E);
}

vt_res vti_intel_tcb_info_parse(const uint8_t *body, size_t len, struct vt_intel_tcb_info *t)
{
    const int E = VT_ERR_INTEL_TCB_INFO_PARSE;
    memset(t, 0, sizeof(*t));
    json_t *o = json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES, NULL);
    ENSURE(o, E);
    vt_res r = vti_ok();
    int64_t v;
    GUARD_GOTO(j_int(o, "version", 2, 3, &v, E), r, out);
    t->version = (int)v;
    json_t *id = json_object_get(o, "id");
    if (id) {
        ENSURE_GOTO(json_is_string(id), E, r, out);
        const char *s = json_string_value(id);
        if (strcmp(s, "TDX") == 0)
            t->is_tdx = true;
        else
            ENSURE_GOTO(strcmp(s, "SGX") == 0, VT_ERR_INTEL_TCB_INFO_VERSION, r, out);
    }
    ENSURE_GOTO(!(t->is_tdx && t->version < 3), VT_ERR_INTEL_TCB_INFO_VERSION, r, out);
    GUARD_GOTO(j_time(o, "issueDate", &t->issue_date, E), r, out);
    GUARD_GOTO(j_time(o, "nextUpdate", &t->next_update, E), r, out);
    GUARD_GOTO(j_hex(o, "fmspc", t->fmspc, 6, E), r, out);
    GUARD_GOTO(j_hex(o, "pceId", t->pceid, 2, E), r, out);
    GUARD_GOTO(j_int(o, "tcbEvaluationDataNumber", 0, INT32_MAX, &t->eval_num, E), r, out);
    if (t->is_tdx) {
        json_t *m = json_object_get(o, "tdxModule");
        ENSURE_GOTO(json_is_object(m), E, r, out);
        GUARD_GOTO(module_parse(m, &t->module, false), r, out);
        t->has_module = true;
        json_t *ids = json_object_get(o, "tdxModuleIdentities");
        if (ids) {
            ENSURE_GOTO(json_is_array(ids) && json_array_size(ids) <= VT_INTEL_MAX_MODULES, E, r,
                        out);
            for (size_t i = 0; i < json_array_size(ids); i++)
                GUARD_GOTO(module_parse(json_array_get(ids, i), &t->modules[i], true), r, out);
            t->n_modules = json_array_size(ids);
        }
    }
    json_t *lv = json_object_get(o, "tcbLevels");
    ENSURE_GOTO(json_is_array(lv) && json_array_size(lv) > 0 &&
                    json_array_size(lv) <= VT_INTEL_MAX_LEVELS, E, r, out);
    for (size_t i = 0; i < json_array_size(lv); i++)
        GUARD_GOTO(tcb_level_parse(json_array_get(lv, i), t->version, t->is_tdx, &t->levels[i]),
                   r, out);
    t->n_levels = json_array_size(lv);
out:
    json_decref(o);
    return r;
}

vt_res vti_intel_qe_identity_parse(const uint8_t *body, size_t len, struct vt_intel_qe_identity *q)
{
    const int E = VT_ERR_INTEL_QE_IDENTITY_PARSE;
    memset(q, 0, sizeof(*q));
    json_t *o = json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES, NULL);
    ENSURE(o, E);
    vt_res r = vti_ok();
    int64_t v;
    uint8_t m4[4];
    json_t *id = json_object_get(o, "id");
    ENSURE_GOTO(json_is_string(id) && json_string_length(id) < sizeof(q->id), E, r, out);
    snprintf(q->id, sizeof(q->id), "%s", json_string_value(id));
    GUARD_GOTO(j_int(o, "version", 0, 1000, &v, E), r, out);
    q->version = (int)v;
    GUARD_GOTO(j_time(o, "issueDate", &q->issue_date, E), r, out);
    GUARD_GOTO(j_time(o, "nextUpdate", &q->next_update, E), r, out);
    GUARD_GOTO(j_hex(o, "miscselect", m4, 4, E), r, out);
    q->miscselect = (uint32_t)m4[0] << 24 | (uint32_t)m4[1] << 16 | (uint32_t)m4[2] << 8 | m4[3];
    GUARD_GOTO(j_hex(o, "miscselectMask", m4, 4, E), r, out);
    q->miscselect_mask =
        (uint32_t)m4[0] << 24 | (uint32_t)m4[1] << 16 | (uint32_t)m4[2] << 8 | m4[3];
    GUARD_GOTO(j_hex(o, "attributes", q->attributes, 16, E), r, out);
    GUARD_GOTO(j_hex(o, "attributesMask", q->attributes_mask, 16, E), r, out);
    GUARD_GOTO(j_hex(o, "mrsigner", q->mrsigner, 32, E), r, out);
    GUARD_GOTO(j_int(o, "isvprodid", 0, 65535, &v, E), r, out);
    q->isvprodid = (uint16_t)v;
    GUARD_GOTO(isvsvn_levels(json_object_get(o, "tcbLevels"), q->levels, VT_INTEL_MAX_LEVELS,
                             &q->n_levels, E), r, out);
out:
    json_decref(o);
    return r;
}
