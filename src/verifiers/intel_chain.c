/* SPDX-License-Identifier: Apache-2.0 */
/*
 * intel_chain.c - the checked-once part of the Intel DCAP verifier: trust anchors, PCK chain,
 * CRLs, PCK SGX extension, TCB Info / QE Identity signing chains and time windows, and the
 * cache of their results (see intel_chain.h). Every check is recorded with vti_report_step.
 */
#include <openssl/ecdsa.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "endorsements/intel_pccs.h"
#include "util/codec.h"
#include "util/secmem.h"
#include "verifiers/intel_chain.h"
#include "verifiers/intel_verify.h"

/* ---- small helpers ------------------------------------------------------------------ */

const char *vti_intel_opt(const struct vti_verify_ctx *ctx, const char *name)
{
    const struct vt_verify_opts *o = ctx ? ctx->opts : NULL;
    for (size_t i = 0; o && i < o->n_options; i++)
        if (o->options[i].name && strcmp(o->options[i].name, name) == 0)
            return o->options[i].value;
    return NULL;
}

static void sha256(const void *p, size_t n, uint8_t out[32])
{
    unsigned int l = 32;
    if (EVP_Digest(p, n, out, &l, EVP_sha256(), NULL) != 1)
        memset(out, 0, 32);
}

static void fmt_time(int64_t t, char out[32])
{
    vti_time_format(t, out);
}

static bool asn1_unix(const ASN1_TIME *a, int64_t *out)
{
    struct tm tm;
    if (!a || ASN1_TIME_to_tm(a, &tm) != 1)
        return false;
    *out = vti_timegm(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                     tm.tm_sec);
    return true;
}

static void cn_of(const X509_NAME *n, char *out, size_t cap)
{
    out[0] = 0;
    if (X509_NAME_get_text_by_NID(vti_unconst(n), NID_commonName, out, (int)cap) < 0)
        out[0] = 0;
}

bool vti_intel_ecdsa_raw_ok(EVP_PKEY *key, const uint8_t *msg, size_t n, const uint8_t sig[64])
{
    bool ok = false;
    ECDSA_SIG *s = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(sig, 32, NULL), *ss = BN_bin2bn(sig + 32, 32, NULL);
    unsigned char *der = NULL;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (!s || !r || !ss || !md || ECDSA_SIG_set0(s, r, ss) != 1)
        goto out;
    r = ss = NULL;
    int dl = i2d_ECDSA_SIG(s, &der);
    if (dl <= 0)
        goto out;
    ok = EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key) == 1 &&
         EVP_DigestVerify(md, der, (size_t)dl, msg, n) == 1;
out:
    BN_free(r);
    BN_free(ss);
    ECDSA_SIG_free(s);
    OPENSSL_free(der);
    EVP_MD_CTX_free(md);
    return ok;
}

/* A P-256 public key from a raw x||y point. */
static EVP_PKEY *p256_from_raw(const uint8_t xy[64])
{
    static const uint8_t hdr[27] = { 0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48,
                                     0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48,
                                     0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00, 0x04 };
    uint8_t spki[91];
    memcpy(spki, hdr, 27);
    memcpy(spki + 27, xy, 64);
    const unsigned char *q = spki;
    return d2i_PUBKEY(NULL, &q, sizeof(spki));
}

static bool is_p256(EVP_PKEY *k)
{
    char g[32];
    size_t gl = 0;
    return k && EVP_PKEY_base_id(k) == EVP_PKEY_EC &&
           EVP_PKEY_get_utf8_string_param(k, "group", g, sizeof(g), &gl) == 1 &&
           strcmp(g, "prime256v1") == 0;
}

struct window {
    int64_t lo, hi;
};

static void win(struct window *w, int64_t lo, int64_t hi)
{
    if (lo > w->lo)
        w->lo = lo;
    if (hi < w->hi)
        w->hi = hi;
}


void vti_intel_anchors_free(struct vti_intel_anchors *a)
{
    for (size_t i = 0; i < a->n; i++)
        vti_buf_free_nowipe(&a->der[i]);
    a->n = 0;
}

static vt_res anchors_add_file(struct vti_intel_anchors *a, const char *path, bool as_pin)
{
    struct vt_buf f = VT_BUF_INIT;
    GUARD(vti_file_read(path, 1 << 20, &f));
    vt_res r = vti_ok();
    struct vt_pem_list l = { 0 };
    if (vti_pem_has(f.p, f.len, "CERTIFICATE")) {
        r = vti_pem_decode(f.p, f.len, "CERTIFICATE", &l);
    } else {
        l.n = 1;
        l.der[0] = f;
        f = (struct vt_buf)VT_BUF_INIT;
    }
    for (size_t i = 0; vti_is_ok(r) && i < l.n; i++) {
        if (as_pin) {
            sha256(l.der[i].p, l.der[i].len, a->pin);
            a->pin_overridden = true;
            break;
        }
        if (a->n >= VTI_INTEL_MAX_EXTRA_ROOTS)
            break;
        r = vti_buf_append(&a->der[a->n], l.der[i].p, l.der[i].len);
        if (vti_is_ok(r))
            a->n++;
    }
    vti_pem_list_free(&l);
    vti_buf_free_nowipe(&f);
    return r;
}

vt_res vti_intel_anchors_load(const struct vti_verify_ctx *ctx, struct vti_intel_anchors *a)
{
    memcpy(a->pin, vt_intel_root_sha256, 32);
    const char *pin = vti_intel_opt(ctx, "intel.root_ca");
    if (pin)
        GUARD(anchors_add_file(a, pin, true));
    const struct vt_verify_opts *o = ctx ? ctx->opts : NULL;
    for (size_t i = 0; o && i < o->n_root_ca_files; i++)
        GUARD(anchors_add_file(a, o->root_ca_files[i], false));
    EVP_MD_CTX *h = EVP_MD_CTX_new();
    ENSURE(h, VT_ERR_NOMEM);
    unsigned int l = 32;
    bool ok = EVP_DigestInit_ex(h, EVP_sha256(), NULL) == 1 &&
              EVP_DigestUpdate(h, a->pin, 32) == 1;
    for (size_t i = 0; ok && i < a->n; i++)
        ok = EVP_DigestUpdate(h, a->der[i].p, a->der[i].len) == 1;
    ok = ok && EVP_DigestFinal_ex(h, a->digest, &l) == 1;
    EVP_MD_CTX_free(h);
    ENSURE(ok, VT_ERR_INTERNAL);
    return vti_ok();
}

/* Certificates of a PEM chain (trailing NULs allowed), in the given order. */
struct xchain {
    size_t n;
    X509 *x[8];
    struct vt_buf der[8];
};

static void xchain_free(struct xchain *c)
{
    for (size_t i = 0; i < c->n; i++) {
        X509_free(c->x[i]);
        vti_buf_free_nowipe(&c->der[i]);
    }
    c->n = 0;
}

static vt_res xchain_parse(const uint8_t *pem, size_t len, int err, struct xchain *c)
{
    while (len > 0 && pem[len - 1] == 0)
        len--;
    struct vt_pem_list l = { 0 };
    ENSURE(vti_is_ok(vti_pem_decode(pem, len, "CERTIFICATE", &l)), err);
    vt_res r = vti_ok();
    for (size_t i = 0; i < l.n && i < 8; i++) {
        const unsigned char *q = l.der[i].p;
        X509 *x = d2i_X509(NULL, &q, (long)l.der[i].len);
        if (!x || (size_t)(q - l.der[i].p) != l.der[i].len) {
            X509_free(x);
            r = VT_FAIL(err);
            break;
        }
        c->x[c->n] = x;
        c->der[c->n] = l.der[i];
        l.der[i] = (struct vt_buf)VT_BUF_INIT;
        c->n++;
    }
    vti_pem_list_free(&l);
    return r;
}

static vt_res check_cert_time(X509 *x, const char *what, int64_t at, struct window *w,
                              struct vt_report *rep)
{
    int64_t nb, na;
    ENSURE(asn1_unix(X509_get0_notBefore(x), &nb) && asn1_unix(X509_get0_notAfter(x), &na),
           VT_ERR_INTEL_PCK_CHAIN_PARSE);
    char a[32], b[32], t[32];
    fmt_time(nb, a);
    fmt_time(na, b);
    fmt_time(at, t);
    bool ok = nb <= at && at <= na;
    vti_report_step(rep, ok, "%s valid %s .. %s at %s: %s", what, a, b, t, ok ? "ok" : "no");
    ENSURE(at >= nb, VT_ERR_INTEL_CERT_NOT_YET_VALID);
    ENSURE(at <= na, VT_ERR_INTEL_CERT_EXPIRED);
    win(w, nb, na);
    return vti_ok();
}

static vt_res check_signed_by(X509 *x, X509 *issuer, const char *what, int err,
                              struct vt_report *rep)
{
    EVP_PKEY *k = X509_get0_pubkey(issuer);
    bool names = X509_NAME_cmp(X509_get_issuer_name(x), X509_get_subject_name(issuer)) == 0;
    bool ok = names && k && X509_verify(x, k) == 1;
    vti_report_step(rep, ok, "%s: %s", what, ok ? "ok" : names ? "signature invalid" : "names differ");
    ENSURE(names, VT_ERR_INTEL_CERT_NAME);
    ENSURE(ok, err);
    return vti_ok();
}

/* The CRL among the collateral issued by name. */
static X509_CRL *find_crl(const struct vt_intel_collateral *col, const X509_NAME *name)
{
    for (size_t i = 0; i < col->n_crls; i++) {
        const unsigned char *q = col->crls[i].p;
        X509_CRL *c = d2i_X509_CRL(NULL, &q, (long)col->crls[i].len);
        if (c && X509_NAME_cmp(X509_CRL_get_issuer(c), name) == 0)
            return c;
        X509_CRL_free(c);
    }
    return NULL;
}

static vt_res check_crl(X509_CRL *crl, X509 *issuer, const char *what, int sig_err, int64_t at,
                        struct window *w, struct vt_report *rep)
{
    bool ok = X509_CRL_verify(crl, X509_get0_pubkey(issuer)) == 1;
    vti_report_step(rep, ok, "%s signed by its issuer: %s", what, ok ? "ok" : "no");
    ENSURE(ok, sig_err);
    int64_t tu, nu;
    ENSURE(asn1_unix(X509_CRL_get0_lastUpdate(crl), &tu) &&
               asn1_unix(X509_CRL_get0_nextUpdate(crl), &nu),
           VT_ERR_INTEL_CRL_PARSE);
    char a[32], b[32], t[32];
    fmt_time(tu, a);
    fmt_time(nu, b);
    fmt_time(at, t);
    ok = tu <= at && at <= nu;
    vti_report_step(rep, ok, "%s this update %s, next update %s, at %s: %s", what, a, b, t,
                    ok ? "ok" : "no");
    ENSURE(at >= tu, VT_ERR_INTEL_CRL_NOT_YET_VALID);
    ENSURE(at <= nu, VT_ERR_INTEL_CRL_EXPIRED);
    win(w, tu, nu);
    return vti_ok();
}

static bool crl_lists(X509_CRL *crl, X509 *x)
{
    X509_REVOKED *rv = NULL;
    return X509_CRL_get0_by_serial(crl, &rv, vti_unconst(X509_get0_serialNumber(x))) == 1;
}

/* ---- PCK certificate SGX extension ------------------------------------------------ */

static vt_res pck_ext_of(X509 *x, struct vt_pck_ext *e)
{
    const int E = VT_ERR_INTEL_PCK_EXT;
    ASN1_OBJECT *obj = OBJ_txt2obj(VT_PCK_EXT_OID, 1);
    ENSURE(obj, VT_ERR_NOMEM);
    int idx = X509_get_ext_by_OBJ(x, obj, -1);
    ASN1_OBJECT_free(obj);
    ENSURE(idx >= 0, E);
    ASN1_OCTET_STRING *os = X509_EXTENSION_get_data(X509_get_ext(x, idx));
    ENSURE(os, E);
    return vti_pck_ext_parse(ASN1_STRING_get0_data(os), (size_t)ASN1_STRING_length(os), e);
}

/* ---- what a PCCS fetch needs (endorsements/intel_pccs.h) --------------------------- */

vt_res vti_intel_pccs_req_from_quote(const struct vt_intel_quote *q, struct vti_pccs_req *out)
{
    struct xchain c = { 0 };
    vt_res r = xchain_parse(q->pck_chain, q->pck_chain_len, VT_ERR_INTEL_PCK_CHAIN_PARSE, &c);
    if (!vti_is_ok(r)) {
        xchain_free(&c);
        return r;
    }
    r = VT_FAIL(VT_ERR_INTEL_PCK_NOT_PCK);
    char cn[128];
    for (size_t i = 0; i < c.n; i++) {
        cn_of(X509_get_subject_name(c.x[i]), cn, sizeof(cn));
        if (!strstr(cn, "SGX PCK Certificate"))
            continue;
        struct vt_pck_ext e;
        memset(&e, 0, sizeof(e));
        r = pck_ext_of(c.x[i], &e);
        if (vti_is_ok(r)) {
            cn_of(X509_get_issuer_name(c.x[i]), cn, sizeof(cn));
            memcpy(out->fmspc, e.fmspc, 6);
            out->processor_ca = strstr(cn, "Processor") != NULL;
            out->tdx = q->tee_type == VT_INTEL_TEE_TDX;
        }
        break;
    }
    xchain_free(&c);
    return r;
}

/* ---- collateral chain / signed JSON ------------------------------------------------ */

static vt_res check_signed_json(const struct vt_intel_signed_json *s, const struct vt_buf *chain,
                                X509 *root, X509_CRL *root_crl, const char *what, int no_err,
                                int sig_err, int64_t at, struct window *w, struct vt_report *rep)
{
    vti_report_step(rep, s->present, "%s present: %s", what, s->present ? "yes" : "no");
    ENSURE(s->present, no_err);
    vti_report_step(rep, chain->len > 0, "%s signing chain present: %s", what,
                    chain->len ? "yes" : "no");
    ENSURE(chain->len > 0, VT_ERR_INTEL_NO_SIGNING_CHAIN);
    struct xchain c = { 0 };
    vt_res r = xchain_parse(chain->p, chain->len, VT_ERR_INTEL_SIGNING_CHAIN_PARSE, &c);
    char cn[128], buf[200];
    if (!vti_is_ok(r))
        goto out;
    X509 *signer = c.x[0];
    if (c.n > 1) {
        /* the chain's own root must be the PCK chain's (trusted) root */
        unsigned char *d = NULL;
        int dl = i2d_X509(root, &d);
        bool same = dl > 0 && c.der[c.n - 1].len == (size_t)dl &&
                    vti_ct_eq(c.der[c.n - 1].p, d, (size_t)dl);
        OPENSSL_free(d);
        vti_report_step(rep, same, "%s signing chain ends in the trusted root: %s", what,
                        same ? "ok" : "no");
        ENSURE_GOTO(same, VT_ERR_INTEL_ROOT_MISMATCH, r, out);
    }
    cn_of(X509_get_subject_name(signer), cn, sizeof(cn));
    snprintf(buf, sizeof(buf), "%s signing certificate \"%s\" signed by the root", what, cn);
    GUARD_GOTO(check_signed_by(signer, root, buf, VT_ERR_INTEL_SIGNING_CERT_SIGNATURE, rep), r,
               out);
    snprintf(buf, sizeof(buf), "%s signing certificate \"%s\"", what, cn);
    GUARD_GOTO(check_cert_time(signer, buf, at, w, rep), r, out);
    bool revoked = crl_lists(root_crl, signer);
    vti_report_step(rep, !revoked, "%s signing certificate not in the root CA CRL: %s", what,
                    revoked ? "REVOKED" : "ok");
    ENSURE_GOTO(!revoked, VT_ERR_INTEL_CA_REVOKED, r, out);
    EVP_PKEY *k = X509_get0_pubkey(signer);
    bool ok = is_p256(k) && vti_intel_ecdsa_raw_ok(k, s->body.p, s->body.len, s->sig);
    vti_report_step(rep, ok, "%s signature over its %zu signed bytes: %s", what, s->body.len,
                    ok ? "ok" : "invalid");
    ENSURE_GOTO(ok, sig_err, r, out);
out:
    xchain_free(&c);
    return r;
}

static vt_res check_json_window(int64_t issue, int64_t next, int64_t at, const char *what,
                                int exp_err, int nyv_err, struct window *w,
                                struct vt_report *rep)
{
    char a[32], b[32], t[32];
    fmt_time(issue, a);
    fmt_time(next, b);
    fmt_time(at, t);
    bool ok = issue <= at && at <= next;
    vti_report_step(rep, ok, "%s issued %s, next update %s, at %s: %s", what, a, b, t,
                    ok ? "ok" : "no");
    ENSURE(at >= issue, nyv_err);
    ENSURE(at <= next, exp_err);
    win(w, issue, next);
    return vti_ok();
}

/* ---- cache -------------------------------------------------------------------------- */

#define CACHE_SLOTS 16
static pthread_mutex_t cache_mu = PTHREAD_MUTEX_INITIALIZER;
static struct vti_intel_trust *cache[CACHE_SLOTS];
static size_t cache_next;
static bool cache_on = true;

static void trust_free(struct vti_intel_trust *t)
{
    if (!t)
        return;
    EVP_PKEY_free(t->pck_key);
    EVP_PKEY_free(t->ak);
    pthread_mutex_destroy(&t->ak_mu);
    free(t);
}

void vti_intel_trust_release(struct vti_intel_trust *t)
{
    if (!t)
        return;
    pthread_mutex_lock(&cache_mu);
    bool last = --t->refs == 0;
    pthread_mutex_unlock(&cache_mu);
    if (last)
        trust_free(t);
}

void vti_intel_cache_enable(bool on)
{
    pthread_mutex_lock(&cache_mu);
    cache_on = on;
    pthread_mutex_unlock(&cache_mu);
    if (!on)
        vti_intel_cache_clear();
}

void vti_intel_cache_clear(void)
{
    struct vti_intel_trust *old[CACHE_SLOTS];
    pthread_mutex_lock(&cache_mu);
    for (size_t i = 0; i < CACHE_SLOTS; i++) {
        old[i] = cache[i];
        cache[i] = NULL;
    }
    pthread_mutex_unlock(&cache_mu);
    for (size_t i = 0; i < CACHE_SLOTS; i++)
        vti_intel_trust_release(old[i]);
}

struct vti_intel_trust *vti_intel_trust_get(const uint8_t key[32], int64_t at)
{
    struct vti_intel_trust *t = NULL;
    pthread_mutex_lock(&cache_mu);
    for (size_t i = 0; cache_on && i < CACHE_SLOTS; i++)
        if (cache[i] && vti_ct_eq(cache[i]->key, key, 32) && cache[i]->lo <= at &&
            at <= cache[i]->hi) {
            t = cache[i];
            t->refs++;
            break;
        }
    pthread_mutex_unlock(&cache_mu);
    return t;
}

static void cache_put(struct vti_intel_trust *t)
{
    struct vti_intel_trust *old = NULL;
    pthread_mutex_lock(&cache_mu);
    if (cache_on) {
        old = cache[cache_next];
        cache[cache_next] = t;
        t->refs++;
        cache_next = (cache_next + 1) % CACHE_SLOTS;
    }
    pthread_mutex_unlock(&cache_mu);
    vti_intel_trust_release(old);
}

vt_res vti_intel_trust_key(const struct vt_intel_quote *q, const struct vt_intel_collateral *col,
                           const struct vti_intel_anchors *an, uint8_t key[32])
{
    uint8_t cd[32];
    GUARD(vti_intel_collateral_digest(col, cd));
    EVP_MD_CTX *h = EVP_MD_CTX_new();
    ENSURE(h, VT_ERR_NOMEM);
    unsigned int l = 32;
    uint8_t tee = q->tee_type == VT_INTEL_TEE_TDX;
    bool ok = EVP_DigestInit_ex(h, EVP_sha256(), NULL) == 1 &&
              EVP_DigestUpdate(h, &tee, 1) == 1 &&
              EVP_DigestUpdate(h, q->pck_chain, q->pck_chain_len) == 1 &&
              EVP_DigestUpdate(h, cd, 32) == 1 && EVP_DigestUpdate(h, an->digest, 32) == 1 &&
              EVP_DigestFinal_ex(h, key, &l) == 1;
    EVP_MD_CTX_free(h);
    ENSURE(ok, VT_ERR_INTERNAL);
    return vti_ok();
}

EVP_PKEY *vti_intel_attestation_key(struct vti_intel_trust *t, const uint8_t raw[64])
{
    EVP_PKEY *k = NULL;
    pthread_mutex_lock(&t->ak_mu);
    if (t->ak && vti_ct_eq(t->ak_raw, raw, 64) && EVP_PKEY_up_ref(t->ak) == 1)
        k = t->ak;
    pthread_mutex_unlock(&t->ak_mu);
    if (k)
        return k;
    k = p256_from_raw(raw);
    if (!k || EVP_PKEY_up_ref(k) != 1)
        return k;
    pthread_mutex_lock(&t->ak_mu);
    EVP_PKEY *old = t->ak;
    t->ak = k;
    memcpy(t->ak_raw, raw, 64);
    pthread_mutex_unlock(&t->ak_mu);
    EVP_PKEY_free(old);
    return k;
}

static uint64_t qe_memo_hits; /* under cache_mu */

static bool qe_memo_has(struct vti_intel_trust *t, const uint8_t *report, const uint8_t sig[64])
{
    pthread_mutex_lock(&t->ak_mu);
    bool hit = t->qe_ok_set &&
               memcmp(t->qe_ok, report, VT_INTEL_SGX_BODY_LEN) == 0 && /* lint: public (quote) */
               memcmp(t->qe_ok + VT_INTEL_SGX_BODY_LEN, sig, 64) == 0; /* lint: public (quote) */
    pthread_mutex_unlock(&t->ak_mu);
    return hit;
}

bool vti_intel_qe_report_sig_ok(struct vti_intel_trust *t, const uint8_t *report,
                                const uint8_t sig[64])
{
    if (qe_memo_has(t, report, sig)) {
        pthread_mutex_lock(&cache_mu);
        qe_memo_hits++;
        pthread_mutex_unlock(&cache_mu);
        return true;
    }
    if (!vti_intel_ecdsa_raw_ok(t->pck_key, report, VT_INTEL_SGX_BODY_LEN, sig))
        return false;
    pthread_mutex_lock(&t->ak_mu);
    memcpy(t->qe_ok, report, VT_INTEL_SGX_BODY_LEN);
    memcpy(t->qe_ok + VT_INTEL_SGX_BODY_LEN, sig, 64);
    t->qe_ok_set = true;
    pthread_mutex_unlock(&t->ak_mu);
    return true;
}

uint64_t vti_intel_qe_memo_hits(void)
{
    pthread_mutex_lock(&cache_mu);
    uint64_t n = qe_memo_hits;
    pthread_mutex_unlock(&cache_mu);
    return n;
}

/* ---- the checks, one function per step ------------------------------------------------ */

/* What the steps of one build share. */
struct chk {
    const struct vt_intel_quote *q;
    const struct vt_intel_collateral *col;
    const struct vti_intel_anchors *an;
    int64_t at;
    struct vt_report *rep;
    struct vti_intel_trust *t;
    struct window w;
    struct xchain c;
    size_t ri;
    X509 *leaf, *inter, *root;
    X509_CRL *root_crl, *pck_crl;
};

/* The quote's PCK chain and which certificate is the leaf, the PCK CA and the root. */
static vt_res chk_pck_chain_parts(struct chk *k)
{
    struct xchain *c = &k->c;
    char cn[128];
    vt_res r = xchain_parse(k->q->pck_chain, k->q->pck_chain_len, VT_ERR_INTEL_PCK_CHAIN_PARSE, c);
    vti_report_step(k->rep, vti_is_ok(r), "PCK certificate chain from the quote: %zu certificates%s",
                    c->n, vti_is_ok(r) ? "" : " (malformed)");
    GUARD(r);
    for (size_t i = 0; i < c->n; i++) {
        X509_NAME *s = X509_get_subject_name(c->x[i]);
        cn_of(s, cn, sizeof(cn));
        if (X509_NAME_cmp(s, X509_get_issuer_name(c->x[i])) == 0) {
            k->root = c->x[i];
            k->ri = i;
        } else if (strstr(cn, "SGX PCK Certificate")) {
            k->leaf = c->x[i];
        }
    }
    for (size_t i = 0; k->leaf && i < c->n; i++)
        if (c->x[i] != k->leaf && c->x[i] != k->root &&
            X509_NAME_cmp(X509_get_subject_name(c->x[i]), X509_get_issuer_name(k->leaf)) == 0)
            k->inter = c->x[i];
    bool complete = k->leaf && k->inter && k->root;
    vti_report_step(k->rep, complete, "PCK chain has a PCK leaf, a PCK CA and a root: %s",
                    complete ? "ok" : "no");
    ENSURE(k->leaf || !k->root || k->inter != NULL || c->n < 1, VT_ERR_INTEL_PCK_NOT_PCK);
    ENSURE(complete, VT_ERR_INTEL_PCK_CHAIN_INCOMPLETE);
    return vti_ok();
}

/* The root: the pinned Intel root, or an explicitly given anchor (insecure). */
static vt_res chk_root(struct chk *k)
{
    const struct vt_buf *rd = &k->c.der[k->ri];
    const struct vti_intel_anchors *an = k->an;
    char cn[128];
    uint8_t h[32];
    sha256(rd->p, rd->len, h);
    bool pinned = vti_ct_eq(h, an->pin, 32), given = false;
    for (size_t i = 0; !pinned && i < an->n; i++)
        given = given || (an->der[i].len == rd->len && vti_ct_eq(an->der[i].p, rd->p, rd->len));
    cn_of(X509_get_subject_name(k->root), cn, sizeof(cn));
    vti_report_step(k->rep, pinned || given, "root \"%s\" is %s", cn,
                    pinned ? (an->pin_overridden ? "the configured pinned root (intel.root_ca)"
                                                 : "the pinned Intel SGX Root CA")
                           : given ? "a given trust anchor (insecure: not Intel's root)"
                                   : "NOT a trusted root");
    ENSURE(pinned || given, VT_ERR_INTEL_ROOT_NOT_TRUSTED);
    k->t->insecure = !pinned;
    return vti_ok();
}

/* Signatures and validity of root, PCK CA and PCK certificate; the PCK key is P-256. */
static vt_res chk_pck_certs(struct chk *k)
{
    char buf[200];
    struct vt_report *rep = k->rep;
    GUARD(check_signed_by(k->root, k->root, "root CA self-signature", VT_ERR_INTEL_ROOT_SIGNATURE,
                          rep));
    GUARD(check_cert_time(k->root, "root CA", k->at, &k->w, rep));
    cn_of(X509_get_subject_name(k->inter), k->t->pck_issuer, sizeof(k->t->pck_issuer));
    snprintf(buf, sizeof(buf), "PCK CA \"%s\" signed by the root", k->t->pck_issuer);
    GUARD(check_signed_by(k->inter, k->root, buf, VT_ERR_INTEL_PCK_CA_SIGNATURE, rep));
    GUARD(check_cert_time(k->inter, "PCK CA", k->at, &k->w, rep));
    GUARD(check_signed_by(k->leaf, k->inter, "PCK certificate signed by the PCK CA",
                          VT_ERR_INTEL_PCK_SIGNATURE, rep));
    GUARD(check_cert_time(k->leaf, "PCK certificate", k->at, &k->w, rep));
    ENSURE(is_p256(X509_get0_pubkey(k->leaf)), VT_ERR_INTEL_PCK_KEY);
    return vti_ok();
}

/* The root CA CRL and the PCK CRL, matched to their issuers by name. */
static vt_res chk_crls(struct chk *k)
{
    struct vt_report *rep = k->rep;
    k->root_crl = find_crl(k->col, X509_get_subject_name(k->root));
    vti_report_step(rep, k->root_crl != NULL, "root CA CRL in the collateral: %s",
                    k->root_crl ? "found" : "missing");
    ENSURE(k->root_crl, VT_ERR_INTEL_NO_ROOT_CRL);
    GUARD(check_crl(k->root_crl, k->root, "root CA CRL", VT_ERR_INTEL_ROOT_CRL_SIGNATURE, k->at,
                    &k->w, rep));
    bool rv = crl_lists(k->root_crl, k->inter);
    vti_report_step(rep, !rv, "PCK CA not in the root CA CRL: %s", rv ? "REVOKED" : "ok");
    ENSURE(!rv, VT_ERR_INTEL_CA_REVOKED);
    k->pck_crl = find_crl(k->col, X509_get_issuer_name(k->leaf));
    vti_report_step(rep, k->pck_crl != NULL, "PCK CRL issued by \"%s\" in the collateral: %s",
                    k->t->pck_issuer, k->pck_crl ? "found" : "missing");
    ENSURE(k->pck_crl, VT_ERR_INTEL_NO_PCK_CRL);
    GUARD(check_crl(k->pck_crl, k->inter, "PCK CRL", VT_ERR_INTEL_PCK_CRL_SIGNATURE, k->at, &k->w,
                    rep));
    rv = crl_lists(k->pck_crl, k->leaf);
    vti_report_step(rep, !rv, "PCK certificate not in the PCK CRL: %s", rv ? "REVOKED" : "ok");
    ENSURE(!rv, VT_ERR_INTEL_PCK_REVOKED);
    return vti_ok();
}

/* The PCK certificate's SGX extension. */
static vt_res chk_pck_ext(struct chk *k)
{
    const struct vt_pck_ext *e = &k->t->ext;
    vt_res r = pck_ext_of(k->leaf, &k->t->ext);
    char f[13], p[5];
    vti_hex_encode(e->fmspc, 6, f);
    vti_hex_encode(e->pceid, 2, p);
    vti_report_step(k->rep, vti_is_ok(r), "PCK SGX extensions: FMSPC %s, PCEID %s, PCESVN %u, "
                    "components %u,%u,%u,%u,%u,%u,%u,%u,%u,%u,%u,%u,%u,%u,%u,%u",
                    vti_is_ok(r) ? f : "?", vti_is_ok(r) ? p : "?", e->pcesvn, e->comps[0],
                    e->comps[1], e->comps[2], e->comps[3], e->comps[4], e->comps[5], e->comps[6],
                    e->comps[7], e->comps[8], e->comps[9], e->comps[10], e->comps[11],
                    e->comps[12], e->comps[13], e->comps[14], e->comps[15]);
    return r;
}

/* TCB Info (the one for this TEE and FMSPC when the collateral holds several). */
static vt_res chk_tcb_info(struct chk *k, const struct vt_intel_signed_json *ti)
{
    struct vt_report *rep = k->rep;
    struct vti_intel_trust *t = k->t;
    bool want_tdx = k->q->tee_type == VT_INTEL_TEE_TDX;
    GUARD(check_signed_json(ti, &k->col->tcb_chain, k->root, k->root_crl, "TCB Info",
                            VT_ERR_INTEL_NO_TCB_INFO, VT_ERR_INTEL_TCB_INFO_SIGNATURE, k->at,
                            &k->w, rep));
    GUARD(vti_intel_tcb_info_parse(ti->body.p, ti->body.len, &t->tcb));
    GUARD(check_json_window(t->tcb.issue_date, t->tcb.next_update, k->at, "TCB Info",
                            VT_ERR_INTEL_TCB_INFO_EXPIRED, VT_ERR_INTEL_TCB_INFO_NOT_YET_VALID,
                            &k->w, rep));
    bool vok = want_tdx ? (t->tcb.is_tdx && t->tcb.version >= 3) : !t->tcb.is_tdx;
    vti_report_step(rep, vok, "TCB Info %s version %d fits a %s quote: %s",
                    t->tcb.is_tdx ? "TDX" : "SGX", t->tcb.version, want_tdx ? "TDX" : "SGX",
                    vok ? "ok" : "no");
    ENSURE(vok, VT_ERR_INTEL_TCB_INFO_VERSION);
    bool fm = vti_ct_eq(t->tcb.fmspc, t->ext.fmspc, 6);
    vti_report_step(rep, fm, "TCB Info FMSPC equals the PCK FMSPC: %s", fm ? "ok" : "no");
    ENSURE(fm, VT_ERR_INTEL_FMSPC_MISMATCH);
    bool pc = vti_ct_eq(t->tcb.pceid, t->ext.pceid, 2);
    vti_report_step(rep, pc, "TCB Info PCE-ID equals the PCK PCE-ID: %s", pc ? "ok" : "no");
    ENSURE(pc, VT_ERR_INTEL_PCEID_MISMATCH);
    return vti_ok();
}

/* QE Identity. */
static vt_res chk_qe_identity(struct chk *k, const struct vt_intel_signed_json *qi)
{
    struct vt_report *rep = k->rep;
    struct vti_intel_trust *t = k->t;
    bool want_tdx = k->q->tee_type == VT_INTEL_TEE_TDX;
    GUARD(check_signed_json(qi, &k->col->qe_chain, k->root, k->root_crl, "QE Identity",
                            VT_ERR_INTEL_NO_QE_IDENTITY, VT_ERR_INTEL_QE_IDENTITY_SIGNATURE, k->at,
                            &k->w, rep));
    GUARD(vti_intel_qe_identity_parse(qi->body.p, qi->body.len, &t->qe));
    GUARD(check_json_window(t->qe.issue_date, t->qe.next_update, k->at, "QE Identity",
                            VT_ERR_INTEL_QE_IDENTITY_EXPIRED,
                            VT_ERR_INTEL_QE_IDENTITY_NOT_YET_VALID, &k->w, rep));
    const char *want_id = want_tdx ? "TD_QE" : "QE";
    bool qok = t->qe.version == 2 && strcmp(t->qe.id, want_id) == 0;
    vti_report_step(rep, qok, "QE Identity id %s version %d (want %s v2): %s", t->qe.id,
                    t->qe.version, want_id, qok ? "ok" : "no");
    ENSURE(qok, VT_ERR_INTEL_QE_IDENTITY_VERSION);
    return vti_ok();
}

/* Every step in Intel QVL's order; fills k->t. */
static vt_res chk_all(struct chk *k)
{
    const struct vt_intel_collateral *col = k->col;
    GUARD(chk_pck_chain_parts(k));
    GUARD(chk_root(k));
    GUARD(chk_pck_certs(k));
    GUARD(chk_crls(k));
    GUARD(chk_pck_ext(k));
    bool want_tdx = k->q->tee_type == VT_INTEL_TEE_TDX;
    const struct vt_intel_signed_json *ti = vti_intel_collateral_pick_tcb(col, want_tdx,
                                                                          k->t->ext.fmspc);
    const struct vt_intel_signed_json *qi = vti_intel_collateral_pick_qe(col, want_tdx);
    if (col->n_more_tcb || col->n_more_qe)
        vti_report_step(k->rep, 1, "collateral holds %zu TCB Infos and %zu QE Identities: using "
                        "TCB Info \"%s\" and QE Identity \"%s\" for this %s quote",
                        col->n_more_tcb + col->tcb_info.present,
                        col->n_more_qe + col->qe_identity.present, ti->id, qi->id,
                        want_tdx ? "TDX" : "SGX");
    GUARD(chk_tcb_info(k, ti));
    GUARD(chk_qe_identity(k, qi));
    EVP_PKEY *pk = X509_get0_pubkey(k->leaf);
    k->t->pck_key = pk;
    EVP_PKEY_up_ref(pk);
    k->t->lo = k->w.lo;
    k->t->hi = k->w.hi;
    return vti_ok();
}

vt_res vti_intel_trust_build(const struct vt_intel_quote *q, const struct vt_intel_collateral *col,
                             const struct vti_intel_anchors *an, const uint8_t key[32], int64_t at,
                             struct vt_report *rep, struct vti_intel_trust **out)
{
    *out = NULL;
    struct vti_intel_trust *t = calloc(1, sizeof(*t));
    ENSURE(t, VT_ERR_NOMEM);
    t->refs = 1;
    pthread_mutex_init(&t->ak_mu, NULL);
    memcpy(t->key, key, 32);
    struct chk k = { .q = q, .col = col, .an = an, .at = at, .rep = rep, .t = t,
                     .w = { INT64_MIN, INT64_MAX } };
    vt_res r = chk_all(&k);
    X509_CRL_free(k.root_crl);
    X509_CRL_free(k.pck_crl);
    xchain_free(&k.c);
    if (!vti_is_ok(r)) {
        trust_free(t);
        return r;
    }
    cache_put(t);
    *out = t;
    return vti_ok();
}
