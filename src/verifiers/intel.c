/*
 * intel.c - the Intel SGX / TDX DCAP quote verifier ("intel").
 *
 * Owns: the verification procedure of ../shared/FORMATS.md section 3, in Intel QVL's order:
 * PCK chain to the Intel SGX Root CA (pinned by SHA-256 of its DER; an anchor from
 * opts->root_ca_files is accepted too and marks the result insecure), root CA CRL and PCK CRL,
 * PCK certificate SGX extensions, TCB Info / QE Identity signatures over their exact signed
 * bytes with issuer chain and time windows, QE report signature and report data, quote
 * signature, QE identity, TDX module identity, TCB level matching and the status merge
 * (including TDX 1.5 relaunch advice).
 * Trust boundary: quote and collateral are untrusted; claims are reported as soon as the quote
 * parses (so certificates can be shown), but rep->verified is set by the caller only when this
 * returns OK. Every check is recorded with vti_report_step.
 * Cache: the result of the chain / CRL / TCB Info / QE Identity checks is cached, keyed by
 * SHA-256 of (PCK chain bytes, collateral digest, anchors); an entry is used only when the
 * verification time lies inside the intersection of all validity windows it checked, so the
 * cache never changes a result. Thread-safe (one mutex, reference-counted entries).
 */
#include <ctype.h>
#include <inttypes.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/instance.h"
#include "core/report.h"
#include "crypto/crypto.h"
#include "endorsements/intel_collateral.h"
#include "endorsements/intel_pccs.h"
#include "endorsements/intel_verify.h"
#include "evidence/intel_quote.h"
#include "util/codec.h"
#include "util/secmem.h"

#define VT_TAG_INTEL 60000
#define MAX_EXTRA_ROOTS 8

const uint8_t vt_intel_root_sha256[32] = {
    0x44, 0xa0, 0x19, 0x6b, 0x2b, 0x99, 0xf8, 0x89, 0xb8, 0xe1, 0x49, 0xe9, 0x5b, 0x80, 0x7a, 0x35,
    0x0e, 0x74, 0x24, 0x96, 0x43, 0x99, 0xe8, 0x85, 0xa7, 0xcb, 0xb8, 0xcc, 0xfa, 0xb6, 0x74, 0xd3,
};

/* ---- small helpers ------------------------------------------------------------------ */

static const char *opt(const struct vti_verify_ctx *ctx, const char *name)
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
    vt_time_format(t, out);
}

static bool asn1_unix(const ASN1_TIME *a, int64_t *out)
{
    struct tm tm;
    if (!a || ASN1_TIME_to_tm(a, &tm) != 1)
        return false;
    *out = vt_timegm(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                     tm.tm_sec);
    return true;
}

static void cn_of(const X509_NAME *n, char *out, size_t cap)
{
    out[0] = 0;
    if (X509_NAME_get_text_by_NID((X509_NAME *)n, NID_commonName, out, (int)cap) < 0)
        out[0] = 0;
}

/* ECDSA P-256 / SHA-256 over msg with a raw r||s signature. */
static bool ecdsa_raw_ok(EVP_PKEY *key, const uint8_t *msg, size_t n, const uint8_t sig[64])
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

/* ---- the checked-once part (cached) ------------------------------------------------- */

struct pck_ext {
    uint8_t fmspc[6], pceid[2];
    uint8_t comps[16];
    uint16_t pcesvn;
    uint8_t cpusvn[16];
};

struct trust {
    int refs;
    uint8_t key[32];
    int64_t lo, hi;
    bool insecure;
    EVP_PKEY *pck_key;
    struct pck_ext ext;
    char pck_issuer[128];
    struct vt_intel_tcb_info tcb;
    struct vt_intel_qe_identity qe;
    /* the last attestation key seen with this platform, decoded (a QE keeps its key, so
     * decoding it again for every quote is the largest avoidable cost); guarded by ak_mu */
    pthread_mutex_t ak_mu;
    uint8_t ak_raw[64];
    EVP_PKEY *ak;
};

static void trust_free(struct trust *t)
{
    if (!t)
        return;
    EVP_PKEY_free(t->pck_key);
    EVP_PKEY_free(t->ak);
    pthread_mutex_destroy(&t->ak_mu);
    free(t);
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

struct anchors {
    uint8_t pin[32];
    bool pin_overridden;
    size_t n;
    struct vt_buf der[MAX_EXTRA_ROOTS];
    uint8_t digest[32];
};

static void anchors_free(struct anchors *a)
{
    for (size_t i = 0; i < a->n; i++)
        vt_buf_free_nowipe(&a->der[i]);
    a->n = 0;
}

static vt_res anchors_add_file(struct anchors *a, const char *path, bool as_pin)
{
    struct vt_buf f = VT_BUF_INIT;
    GUARD(vt_file_read(path, 1 << 20, &f));
    vt_res r = vt_ok();
    struct vt_pem_list l = { 0 };
    if (vti_pem_has(f.p, f.len, "CERTIFICATE")) {
        r = vti_pem_decode(f.p, f.len, "CERTIFICATE", &l);
    } else {
        l.n = 1;
        l.der[0] = f;
        f = (struct vt_buf)VT_BUF_INIT;
    }
    for (size_t i = 0; vt_is_ok(r) && i < l.n; i++) {
        if (as_pin) {
            sha256(l.der[i].p, l.der[i].len, a->pin);
            a->pin_overridden = true;
            break;
        }
        if (a->n >= MAX_EXTRA_ROOTS)
            break;
        r = vt_buf_append(&a->der[a->n], l.der[i].p, l.der[i].len);
        if (vt_is_ok(r))
            a->n++;
    }
    vti_pem_list_free(&l);
    vt_buf_free_nowipe(&f);
    return r;
}

static vt_res anchors_load(const struct vti_verify_ctx *ctx, struct anchors *a)
{
    memcpy(a->pin, vt_intel_root_sha256, 32);
    const char *pin = opt(ctx, "intel.root_ca");
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
    return vt_ok();
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
        vt_buf_free_nowipe(&c->der[i]);
    }
    c->n = 0;
}

static vt_res xchain_parse(const uint8_t *pem, size_t len, int err, struct xchain *c)
{
    while (len > 0 && pem[len - 1] == 0)
        len--;
    struct vt_pem_list l = { 0 };
    ENSURE(vt_is_ok(vti_pem_decode(pem, len, "CERTIFICATE", &l)), err);
    vt_res r = vt_ok();
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
    return vt_ok();
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
    return vt_ok();
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
    return vt_ok();
}

static bool crl_lists(X509_CRL *crl, X509 *x)
{
    X509_REVOKED *rv = NULL;
    return X509_CRL_get0_by_serial(crl, &rv, (ASN1_INTEGER *)X509_get0_serialNumber(x)) == 1;
}

/* ---- PCK certificate SGX extension (DER) ------------------------------------------- */

static vt_res der_tlv(struct vt_cur *c, uint8_t *tag, struct vt_cur *val)
{
    const int E = VT_ERR_INTEL_PCK_EXT;
    uint8_t t, l0;
    ENSURE(vt_is_ok(vt_cur_u8(c, &t)) && vt_is_ok(vt_cur_u8(c, &l0)), E);
    ENSURE((t & 0x1f) != 0x1f, E);
    size_t len = l0;
    if (l0 & 0x80) {
        unsigned nb = l0 & 0x7f;
        ENSURE(nb >= 1 && nb <= 3, E);
        len = 0;
        for (unsigned i = 0; i < nb; i++) {
            uint8_t b;
            ENSURE(vt_is_ok(vt_cur_u8(c, &b)), E);
            len = (len << 8) | b;
        }
    }
    ENSURE(vt_is_ok(vt_cur_sub(c, len, val)), E);
    *tag = t;
    return vt_ok();
}

static vt_res der_uint(struct vt_cur *v, uint32_t max, uint32_t *out)
{
    size_t n = vt_cur_left(v);
    ENSURE(n >= 1 && n <= 3 && !(v->p[v->off] & 0x80), VT_ERR_INTEL_PCK_EXT);
    uint32_t x = 0;
    for (size_t i = 0; i < n; i++)
        x = (x << 8) | v->p[v->off + i];
    ENSURE(x <= max, VT_ERR_INTEL_PCK_EXT);
    *out = x;
    return vt_ok();
}

/* OID 1.2.840.113741.1.13.1 (content bytes) */
static const uint8_t sgx_oid[9] = { 0x2a, 0x86, 0x48, 0x86, 0xf8, 0x4d, 0x01, 0x0d, 0x01 };

/* Which sub-OID of the SGX extension is o: .a or .a.b; returns false otherwise. */
static bool sgx_sub(struct vt_cur o, unsigned *a, unsigned *b)
{
    size_t n = vt_cur_left(&o);
    const uint8_t *p = vt_cur_pos(&o);
    if (n < 10 || n > 11 || !vt_ct_eq(p, sgx_oid, 9) || p[9] >= 0x80)
        return false;
    *a = p[9];
    *b = 0;
    if (n == 11) {
        if (p[10] >= 0x80)
            return false;
        *b = p[10];
    }
    return true;
}

static vt_res pck_ext_parse(X509 *x, struct pck_ext *e)
{
    const int E = VT_ERR_INTEL_PCK_EXT;
    ASN1_OBJECT *obj = OBJ_txt2obj("1.2.840.113741.1.13.1", 1);
    ENSURE(obj, VT_ERR_NOMEM);
    int idx = X509_get_ext_by_OBJ(x, obj, -1);
    ASN1_OBJECT_free(obj);
    ENSURE(idx >= 0, E);
    ASN1_OCTET_STRING *os = X509_EXTENSION_get_data(X509_get_ext(x, idx));
    ENSURE(os, E);
    struct vt_cur c = vt_cur_init(ASN1_STRING_get0_data(os), (size_t)ASN1_STRING_length(os));
    struct vt_cur seq, item, oid, val;
    uint8_t tag;
    GUARD(der_tlv(&c, &tag, &seq));
    ENSURE(tag == 0x30 && vt_cur_left(&c) == 0, E);
    unsigned seen = 0, comps_seen = 0;
    while (vt_cur_left(&seq)) {
        GUARD(der_tlv(&seq, &tag, &item));
        ENSURE(tag == 0x30, E);
        GUARD(der_tlv(&item, &tag, &oid));
        ENSURE(tag == 0x06, E);
        GUARD(der_tlv(&item, &tag, &val));
        ENSURE(vt_cur_left(&item) == 0, E);
        unsigned a, b;
        if (!sgx_sub(oid, &a, &b) || b != 0)
            continue; /* PPID etc. are kept opaque */
        if (a == 4) {
            ENSURE(tag == 0x04 && vt_cur_left(&val) == 6, E);
            memcpy(e->fmspc, vt_cur_pos(&val), 6);
            seen |= 1;
        } else if (a == 3) {
            ENSURE(tag == 0x04 && vt_cur_left(&val) == 2, E);
            memcpy(e->pceid, vt_cur_pos(&val), 2);
            seen |= 2;
        } else if (a == 2) {
            ENSURE(tag == 0x30, E);
            while (vt_cur_left(&val)) {
                struct vt_cur ti, to, tv;
                uint8_t tt;
                GUARD(der_tlv(&val, &tt, &ti));
                ENSURE(tt == 0x30, E);
                GUARD(der_tlv(&ti, &tt, &to));
                ENSURE(tt == 0x06, E);
                GUARD(der_tlv(&ti, &tt, &tv));
                unsigned a2, b2;
                ENSURE(sgx_sub(to, &a2, &b2) && a2 == 2 && b2 >= 1 && b2 <= 18, E);
                uint32_t u;
                if (b2 <= 16) {
                    ENSURE(tt == 0x02, E);
                    GUARD(der_uint(&tv, 255, &u));
                    e->comps[b2 - 1] = (uint8_t)u;
                    comps_seen |= 1u << (b2 - 1);
                } else if (b2 == 17) {
                    ENSURE(tt == 0x02, E);
                    GUARD(der_uint(&tv, 65535, &u));
                    e->pcesvn = (uint16_t)u;
                    comps_seen |= 1u << 16;
                } else {
                    ENSURE(tt == 0x04 && vt_cur_left(&tv) == 16, E);
                    memcpy(e->cpusvn, vt_cur_pos(&tv), 16);
                    comps_seen |= 1u << 17;
                }
            }
            seen |= 4;
        }
    }
    ENSURE(seen == 7 && comps_seen == 0x3ffff, E);
    return vt_ok();
}

/* ---- what a PCCS fetch needs (endorsements/intel_pccs.h) --------------------------- */

vt_res vti_intel_pccs_req_from_quote(const struct vt_intel_quote *q, struct vti_pccs_req *out)
{
    struct xchain c = { 0 };
    vt_res r = xchain_parse(q->pck_chain, q->pck_chain_len, VT_ERR_INTEL_PCK_CHAIN_PARSE, &c);
    if (!vt_is_ok(r)) {
        xchain_free(&c);
        return r;
    }
    r = VT_FAIL(VT_ERR_INTEL_PCK_NOT_PCK);
    char cn[128];
    for (size_t i = 0; i < c.n; i++) {
        cn_of(X509_get_subject_name(c.x[i]), cn, sizeof(cn));
        if (!strstr(cn, "SGX PCK Certificate"))
            continue;
        struct pck_ext e;
        memset(&e, 0, sizeof(e));
        r = pck_ext_parse(c.x[i], &e);
        if (vt_is_ok(r)) {
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
    if (!vt_is_ok(r))
        goto out;
    X509 *signer = c.x[0];
    if (c.n > 1) {
        /* the chain's own root must be the PCK chain's (trusted) root */
        unsigned char *d = NULL;
        int dl = i2d_X509(root, &d);
        bool same = dl > 0 && c.der[c.n - 1].len == (size_t)dl &&
                    vt_ct_eq(c.der[c.n - 1].p, d, (size_t)dl);
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
    bool ok = is_p256(k) && ecdsa_raw_ok(k, s->body.p, s->body.len, s->sig);
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
    return vt_ok();
}

static vt_res build_trust(const struct vt_intel_quote *q, const struct vt_intel_collateral *col,
                          const struct anchors *an, int64_t at, struct vt_report *rep,
                          struct trust *t)
{
    struct window w = { INT64_MIN, INT64_MAX };
    struct xchain c = { 0 };
    X509_CRL *root_crl = NULL, *pck_crl = NULL;
    X509 *leaf = NULL, *inter = NULL, *root = NULL;
    char cn[128], buf[200];
    vt_res r = xchain_parse(q->pck_chain, q->pck_chain_len, VT_ERR_INTEL_PCK_CHAIN_PARSE, &c);
    vti_report_step(rep, vt_is_ok(r), "PCK certificate chain from the quote: %zu certificates%s",
                    c.n, vt_is_ok(r) ? "" : " (malformed)");
    if (!vt_is_ok(r))
        goto out;
    size_t ri = 0;
    for (size_t i = 0; i < c.n; i++) {
        X509_NAME *s = X509_get_subject_name(c.x[i]);
        cn_of(s, cn, sizeof(cn));
        if (X509_NAME_cmp(s, X509_get_issuer_name(c.x[i])) == 0) {
            root = c.x[i];
            ri = i;
        } else if (strstr(cn, "SGX PCK Certificate")) {
            leaf = c.x[i];
        }
    }
    for (size_t i = 0; leaf && i < c.n; i++)
        if (c.x[i] != leaf && c.x[i] != root &&
            X509_NAME_cmp(X509_get_subject_name(c.x[i]), X509_get_issuer_name(leaf)) == 0)
            inter = c.x[i];
    bool complete = leaf && inter && root;
    vti_report_step(rep, complete, "PCK chain has a PCK leaf, a PCK CA and a root: %s",
                    complete ? "ok" : "no");
    if (!leaf && root && inter == NULL && c.n >= 1) {
        r = VT_FAIL(VT_ERR_INTEL_PCK_NOT_PCK);
        goto out;
    }
    ENSURE_GOTO(complete, VT_ERR_INTEL_PCK_CHAIN_INCOMPLETE, r, out);

    /* the root: pinned Intel root, or an explicitly given anchor (insecure) */
    uint8_t h[32];
    sha256(c.der[ri].p, c.der[ri].len, h);
    bool pinned = vt_ct_eq(h, an->pin, 32), given = false;
    for (size_t i = 0; !pinned && i < an->n; i++)
        given = given || (an->der[i].len == c.der[ri].len &&
                          vt_ct_eq(an->der[i].p, c.der[ri].p, c.der[ri].len));
    cn_of(X509_get_subject_name(root), cn, sizeof(cn));
    vti_report_step(rep, pinned || given, "root \"%s\" is %s", cn,
                    pinned ? (an->pin_overridden ? "the configured pinned root (intel.root_ca)"
                                                 : "the pinned Intel SGX Root CA")
                           : given ? "a given trust anchor (insecure: not Intel's root)"
                                   : "NOT a trusted root");
    ENSURE_GOTO(pinned || given, VT_ERR_INTEL_ROOT_NOT_TRUSTED, r, out);
    t->insecure = !pinned;
    GUARD_GOTO(check_signed_by(root, root, "root CA self-signature", VT_ERR_INTEL_ROOT_SIGNATURE,
                               rep), r, out);
    GUARD_GOTO(check_cert_time(root, "root CA", at, &w, rep), r, out);
    cn_of(X509_get_subject_name(inter), cn, sizeof(cn));
    snprintf(buf, sizeof(buf), "PCK CA \"%s\" signed by the root", cn);
    GUARD_GOTO(check_signed_by(inter, root, buf, VT_ERR_INTEL_PCK_CA_SIGNATURE, rep), r, out);
    GUARD_GOTO(check_cert_time(inter, "PCK CA", at, &w, rep), r, out);
    snprintf(t->pck_issuer, sizeof(t->pck_issuer), "%s", cn);
    GUARD_GOTO(check_signed_by(leaf, inter, "PCK certificate signed by the PCK CA",
                               VT_ERR_INTEL_PCK_SIGNATURE, rep), r, out);
    GUARD_GOTO(check_cert_time(leaf, "PCK certificate", at, &w, rep), r, out);
    EVP_PKEY *pk = X509_get0_pubkey(leaf);
    ENSURE_GOTO(is_p256(pk), VT_ERR_INTEL_PCK_KEY, r, out);

    /* CRLs, matched to their issuers by name */
    root_crl = find_crl(col, X509_get_subject_name(root));
    vti_report_step(rep, root_crl != NULL, "root CA CRL in the collateral: %s",
                    root_crl ? "found" : "missing");
    ENSURE_GOTO(root_crl, VT_ERR_INTEL_NO_ROOT_CRL, r, out);
    GUARD_GOTO(check_crl(root_crl, root, "root CA CRL", VT_ERR_INTEL_ROOT_CRL_SIGNATURE, at, &w,
                         rep), r, out);
    bool rv = crl_lists(root_crl, inter);
    vti_report_step(rep, !rv, "PCK CA not in the root CA CRL: %s", rv ? "REVOKED" : "ok");
    ENSURE_GOTO(!rv, VT_ERR_INTEL_CA_REVOKED, r, out);
    pck_crl = find_crl(col, X509_get_issuer_name(leaf));
    vti_report_step(rep, pck_crl != NULL, "PCK CRL issued by \"%s\" in the collateral: %s", cn,
                    pck_crl ? "found" : "missing");
    ENSURE_GOTO(pck_crl, VT_ERR_INTEL_NO_PCK_CRL, r, out);
    GUARD_GOTO(check_crl(pck_crl, inter, "PCK CRL", VT_ERR_INTEL_PCK_CRL_SIGNATURE, at, &w, rep),
               r, out);
    rv = crl_lists(pck_crl, leaf);
    vti_report_step(rep, !rv, "PCK certificate not in the PCK CRL: %s", rv ? "REVOKED" : "ok");
    ENSURE_GOTO(!rv, VT_ERR_INTEL_PCK_REVOKED, r, out);

    /* PCK extensions */
    r = pck_ext_parse(leaf, &t->ext);
    {
        char f[13], p[5];
        vt_hex_encode(t->ext.fmspc, 6, f);
        vt_hex_encode(t->ext.pceid, 2, p);
        vti_report_step(rep, vt_is_ok(r), "PCK SGX extensions: FMSPC %s, PCEID %s, PCESVN %u, "
                        "components %u,%u,%u,%u,%u,%u,%u,%u,%u,%u,%u,%u,%u,%u,%u,%u",
                        vt_is_ok(r) ? f : "?", vt_is_ok(r) ? p : "?", t->ext.pcesvn,
                        t->ext.comps[0], t->ext.comps[1], t->ext.comps[2], t->ext.comps[3],
                        t->ext.comps[4], t->ext.comps[5], t->ext.comps[6], t->ext.comps[7],
                        t->ext.comps[8], t->ext.comps[9], t->ext.comps[10], t->ext.comps[11],
                        t->ext.comps[12], t->ext.comps[13], t->ext.comps[14], t->ext.comps[15]);
    }
    if (!vt_is_ok(r))
        goto out;

    /* TCB Info (the one for this TEE and FMSPC when the collateral holds several) */
    bool want_tdx = q->tee_type == VT_INTEL_TEE_TDX;
    const struct vt_intel_signed_json *ti = vti_intel_collateral_pick_tcb(col, want_tdx,
                                                                          t->ext.fmspc);
    const struct vt_intel_signed_json *qi = vti_intel_collateral_pick_qe(col, want_tdx);
    if (col->n_more_tcb || col->n_more_qe)
        vti_report_step(rep, 1, "collateral holds %zu TCB Infos and %zu QE Identities: using "
                        "TCB Info \"%s\" and QE Identity \"%s\" for this %s quote",
                        col->n_more_tcb + col->tcb_info.present,
                        col->n_more_qe + col->qe_identity.present, ti->id, qi->id,
                        want_tdx ? "TDX" : "SGX");
    GUARD_GOTO(check_signed_json(ti, &col->tcb_chain, root, root_crl, "TCB Info",
                                 VT_ERR_INTEL_NO_TCB_INFO, VT_ERR_INTEL_TCB_INFO_SIGNATURE, at,
                                 &w, rep), r, out);
    GUARD_GOTO(vti_intel_tcb_info_parse(ti->body.p, ti->body.len, &t->tcb), r, out);
    GUARD_GOTO(check_json_window(t->tcb.issue_date, t->tcb.next_update, at, "TCB Info",
                                 VT_ERR_INTEL_TCB_INFO_EXPIRED, VT_ERR_INTEL_TCB_INFO_NOT_YET_VALID,
                                 &w, rep), r, out);
    bool vok = want_tdx ? (t->tcb.is_tdx && t->tcb.version >= 3) : !t->tcb.is_tdx;
    vti_report_step(rep, vok, "TCB Info %s version %d fits a %s quote: %s",
                    t->tcb.is_tdx ? "TDX" : "SGX", t->tcb.version, want_tdx ? "TDX" : "SGX",
                    vok ? "ok" : "no");
    ENSURE_GOTO(vok, VT_ERR_INTEL_TCB_INFO_VERSION, r, out);
    bool fm = vt_ct_eq(t->tcb.fmspc, t->ext.fmspc, 6);
    vti_report_step(rep, fm, "TCB Info FMSPC equals the PCK FMSPC: %s", fm ? "ok" : "no");
    ENSURE_GOTO(fm, VT_ERR_INTEL_FMSPC_MISMATCH, r, out);
    bool pc = vt_ct_eq(t->tcb.pceid, t->ext.pceid, 2);
    vti_report_step(rep, pc, "TCB Info PCE-ID equals the PCK PCE-ID: %s", pc ? "ok" : "no");
    ENSURE_GOTO(pc, VT_ERR_INTEL_PCEID_MISMATCH, r, out);

    /* QE Identity */
    GUARD_GOTO(check_signed_json(qi, &col->qe_chain, root, root_crl, "QE Identity",
                                 VT_ERR_INTEL_NO_QE_IDENTITY, VT_ERR_INTEL_QE_IDENTITY_SIGNATURE,
                                 at, &w, rep), r, out);
    GUARD_GOTO(vti_intel_qe_identity_parse(qi->body.p, qi->body.len, &t->qe), r, out);
    GUARD_GOTO(check_json_window(t->qe.issue_date, t->qe.next_update, at, "QE Identity",
                                 VT_ERR_INTEL_QE_IDENTITY_EXPIRED,
                                 VT_ERR_INTEL_QE_IDENTITY_NOT_YET_VALID, &w, rep), r, out);
    const char *want_id = want_tdx ? "TD_QE" : "QE";
    bool qok = t->qe.version == 2 && strcmp(t->qe.id, want_id) == 0;
    vti_report_step(rep, qok, "QE Identity id %s version %d (want %s v2): %s", t->qe.id,
                    t->qe.version, want_id, qok ? "ok" : "no");
    ENSURE_GOTO(qok, VT_ERR_INTEL_QE_IDENTITY_VERSION, r, out);

    t->pck_key = pk;
    EVP_PKEY_up_ref(pk);
    t->lo = w.lo;
    t->hi = w.hi;
out:
    X509_CRL_free(root_crl);
    X509_CRL_free(pck_crl);
    xchain_free(&c);
    return r;
}

/* ---- cache -------------------------------------------------------------------------- */

#define CACHE_SLOTS 16
static pthread_mutex_t cache_mu = PTHREAD_MUTEX_INITIALIZER;
static struct trust *cache[CACHE_SLOTS];
static size_t cache_next;
static bool cache_on = true;

static void trust_release(struct trust *t)
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
    struct trust *old[CACHE_SLOTS];
    pthread_mutex_lock(&cache_mu);
    for (size_t i = 0; i < CACHE_SLOTS; i++) {
        old[i] = cache[i];
        cache[i] = NULL;
    }
    pthread_mutex_unlock(&cache_mu);
    for (size_t i = 0; i < CACHE_SLOTS; i++)
        trust_release(old[i]);
}

static struct trust *cache_get(const uint8_t key[32], int64_t at)
{
    struct trust *t = NULL;
    pthread_mutex_lock(&cache_mu);
    for (size_t i = 0; cache_on && i < CACHE_SLOTS; i++)
        if (cache[i] && vt_ct_eq(cache[i]->key, key, 32) && cache[i]->lo <= at &&
            at <= cache[i]->hi) {
            t = cache[i];
            t->refs++;
            break;
        }
    pthread_mutex_unlock(&cache_mu);
    return t;
}

static void cache_put(struct trust *t)
{
    struct trust *old = NULL;
    pthread_mutex_lock(&cache_mu);
    if (cache_on) {
        old = cache[cache_next];
        cache[cache_next] = t;
        t->refs++;
        cache_next = (cache_next + 1) % CACHE_SLOTS;
    }
    pthread_mutex_unlock(&cache_mu);
    trust_release(old);
}

/* ---- claims ------------------------------------------------------------------------- */

#define CL(x) GUARD(x)

static vt_res sgx_claims(struct vt_report *rep, const struct vt_sgx_body *b)
{
    CL(vti_claim_bytes(rep, "mr_enclave", b->mr_enclave, 32));
    CL(vti_claim_bytes(rep, "mr_signer", b->mr_signer, 32));
    CL(vti_claim_int(rep, "isv_prod_id", b->isv_prod_id));
    CL(vti_claim_int(rep, "isv_svn", b->isv_svn));
    CL(vti_claim_bytes(rep, "attributes", b->attributes, 16));
    CL(vti_claim_bool(rep, "debug", (b->attributes[0] & 0x02) != 0));
    CL(vti_claim_bytes(rep, "cpu_svn", b->cpusvn, 16));
    CL(vti_claim_int(rep, "misc_select", b->miscselect));
    CL(vti_claim_bytes(rep, "config_id", b->config_id, 64));
    CL(vti_claim_int(rep, "config_svn", b->config_svn));
    CL(vti_claim_bytes(rep, "isv_ext_prod_id", b->isv_ext_prod_id, 16));
    CL(vti_claim_bytes(rep, "isv_family_id", b->isv_family_id, 16));
    CL(vti_claim_bytes(rep, "report_data", b->report_data, 64));
    return vt_ok();
}

static vt_res td_claims(struct vt_report *rep, const struct vt_td_body *b)
{
    uint8_t le[8];
    CL(vti_claim_bytes(rep, "mr_td", b->mr_td, 48));
    CL(vti_claim_bytes(rep, "mr_config_id", b->mr_config_id, 48));
    CL(vti_claim_bytes(rep, "mr_owner", b->mr_owner, 48));
    CL(vti_claim_bytes(rep, "mr_owner_config", b->mr_owner_config, 48));
    static const char *const rn[4] = { "rtmr0", "rtmr1", "rtmr2", "rtmr3" };
    for (int i = 0; i < 4; i++)
        CL(vti_claim_bytes(rep, rn[i], b->rtmr[i], 48));
    memcpy(le, b->raw + 128, 8);
    CL(vti_claim_bytes(rep, "xfam", le, 8));
    memcpy(le, b->raw + 120, 8);
    CL(vti_claim_bytes(rep, "td_attributes", le, 8));
    CL(vti_claim_bool(rep, "debug", (b->td_attributes & 1) != 0));
    CL(vti_claim_bytes(rep, "mr_seam", b->mr_seam, 48));
    CL(vti_claim_bytes(rep, "mr_signer_seam", b->mr_signer_seam, 48));
    memcpy(le, b->raw + 112, 8);
    CL(vti_claim_bytes(rep, "seam_attributes", le, 8));
    CL(vti_claim_bytes(rep, "tee_tcb_svn", b->tee_tcb_svn, 16));
    CL(vti_claim_bytes(rep, "report_data", b->report_data, 64));
    if (b->has_15) {
        CL(vti_claim_bytes(rep, "tee_tcb_svn2", b->tee_tcb_svn2, 16));
        CL(vti_claim_bytes(rep, "mr_service_td", b->mr_service_td, 48));
    }
    return vt_ok();
}

/* ---- TCB evaluation ----------------------------------------------------------------- */

static bool needs_config(enum vt_intel_status s)
{
    return s == VT_ISTAT_CONFIGURATION_NEEDED ||
           s == VT_ISTAT_CONFIGURATION_AND_SW_HARDENING_NEEDED ||
           s == VT_ISTAT_OUT_OF_DATE_CONFIGURATION_NEEDED;
}

/* Merge an OutOfDate / Revoked component status into a platform status. */
static enum vt_intel_status merge(enum vt_intel_status plat, enum vt_intel_status comp)
{
    if (comp == VT_ISTAT_REVOKED)
        return VT_ISTAT_REVOKED;
    if (comp == VT_ISTAT_OUT_OF_DATE) {
        if (plat == VT_ISTAT_UP_TO_DATE || plat == VT_ISTAT_SW_HARDENING_NEEDED)
            return VT_ISTAT_OUT_OF_DATE;
        if (plat == VT_ISTAT_CONFIGURATION_NEEDED ||
            plat == VT_ISTAT_CONFIGURATION_AND_SW_HARDENING_NEEDED)
            return VT_ISTAT_OUT_OF_DATE_CONFIGURATION_NEEDED;
    }
    return plat;
}

static const struct vt_intel_module_id *find_module(const struct vt_intel_tcb_info *t, uint8_t major)
{
    char id[16];
    snprintf(id, sizeof(id), "TDX_%02X", major);
    for (size_t i = 0; i < t->n_modules; i++)
        if (strcasecmp(t->modules[i].id, id) == 0)
            return &t->modules[i];
    return NULL;
}

struct advs {
    size_t n;
    const char *v[3 * VT_INTEL_MAX_ADVISORIES];
};

static void adv_add(struct advs *a, const struct vt_intel_level *l)
{
    for (size_t i = 0; l && i < l->n_adv; i++) {
        bool dup = false;
        for (size_t j = 0; j < a->n; j++)
            dup = dup || strcmp(a->v[j], l->adv[i]) == 0;
        if (!dup && a->n < VT_ARRAY_LEN(a->v))
            a->v[a->n++] = l->adv[i];
    }
}

static vt_res evaluate(const struct vt_intel_quote *q, const struct trust *t,
                       struct vt_report *rep)
{
    const struct vt_sgx_body *qe = &q->qe_report;
    /* QE identity */
    bool ms = (qe->miscselect & t->qe.miscselect_mask) == t->qe.miscselect;
    bool at = true;
    for (int i = 0; i < 16; i++)
        at = at && (qe->attributes[i] & t->qe.attributes_mask[i]) == t->qe.attributes[i];
    bool sg = vt_ct_eq(qe->mr_signer, t->qe.mrsigner, 32);
    bool pid = qe->isv_prod_id == t->qe.isvprodid;
    bool qok = ms && at && sg && pid;
    vti_report_step(rep, qok, "QE report matches the QE Identity (MRSIGNER %s, ISVPRODID %u %s, "
                    "MISCSELECT %s, ATTRIBUTES %s): %s", sg ? "ok" : "differs", qe->isv_prod_id,
                    pid ? "ok" : "differs", ms ? "ok" : "differs", at ? "ok" : "differs",
                    qok ? "ok" : "mismatch");
    ENSURE(qok, VT_ERR_INTEL_QE_IDENTITY_MISMATCH);
    const struct vt_intel_level *ql = NULL;
    for (size_t i = 0; i < t->qe.n_levels && !ql; i++)
        if (t->qe.levels[i].isvsvn <= qe->isv_svn)
            ql = &t->qe.levels[i];
    vti_report_step(rep, ql != NULL, "QE ISVSVN %u: QE TCB status %s", qe->isv_svn,
                    ql ? vti_intel_status_name(ql->status) : "not supported");
    ENSURE(ql, VT_ERR_INTEL_QE_TCB_NOT_SUPPORTED);
    GUARD(vti_claim_str(rep, "qe_tcb_status", vti_intel_status_name(ql->status)));

    bool tdx = q->tee_type == VT_INTEL_TEE_TDX;
    const uint8_t *svn = tdx ? q->td.tee_tcb_svn : NULL;
    /* TDX module identity */
    const struct vt_intel_level *ml = NULL;
    if (tdx) {
        const struct vt_intel_module_id *m = NULL;
        char which[24];
        if (svn[1] > 0) {
            m = find_module(&t->tcb, svn[1]);
            snprintf(which, sizeof(which), "TDX_%02X", svn[1]);
        } else {
            m = t->tcb.has_module ? &t->tcb.module : NULL;
            snprintf(which, sizeof(which), "tdxModule");
        }
        bool mok = m && vt_ct_eq(m->mrsigner, q->td.mr_signer_seam, 48) &&
                   q->td.seam_attributes == 0 &&
                   (q->td.seam_attributes & m->attributes_mask) ==
                       (m->attributes & m->attributes_mask);
        vti_report_step(rep, mok, "TDX module identity %s: MRSIGNERSEAM and SEAMATTRIBUTES %s",
                        which, m ? (mok ? "match" : "differ") : "missing from the TCB Info");
        ENSURE(mok, VT_ERR_INTEL_TDX_MODULE_MISMATCH);
        GUARD(vti_claim_str(rep, "tdx_module_identity", which));
        if (svn[1] > 0) {
            for (size_t i = 0; i < m->n_levels && !ml; i++)
                if (m->levels[i].isvsvn <= svn[0])
                    ml = &m->levels[i];
            vti_report_step(rep, ml != NULL, "TDX module SVN %u: module TCB status %s", svn[0],
                            ml ? vti_intel_status_name(ml->status) : "not supported");
            ENSURE(ml, VT_ERR_INTEL_TDX_MODULE_NOT_SUPPORTED);
            GUARD(vti_claim_str(rep, "tdx_module_tcb_status", vti_intel_status_name(ml->status)));
        }
    }

    /* platform TCB level */
    const struct vt_intel_level *sl = NULL, *pl = NULL;
    for (size_t i = 0; i < t->tcb.n_levels && !pl; i++) {
        const struct vt_intel_level *l = &t->tcb.levels[i];
        bool ok = t->ext.pcesvn >= l->pcesvn;
        for (int k = 0; k < 16 && ok; k++)
            ok = t->ext.comps[k] >= l->sgx[k];
        if (!ok)
            continue;
        if (!sl)
            sl = l;
        if (tdx) {
            for (int k = 0; k < 16 && ok; k++) {
                if (k < 2 && svn[1] > 0)
                    continue; /* judged by the module identity */
                ok = svn[k] >= l->tdx[k];
            }
        }
        if (ok)
            pl = l;
    }
    vti_report_step(rep, pl != NULL, "platform TCB level (PCK components, PCESVN %u%s): %s%s%s",
                    t->ext.pcesvn, tdx ? (svn[1] > 0 ? ", TEE_TCB_SVN[2..15]" : ", TEE_TCB_SVN[0..15]") : "",
                    pl ? vti_intel_status_name(pl->status) : "no matching TCB level",
                    pl ? " from " : "", pl ? pl->date : "");
    ENSURE(pl, VT_ERR_INTEL_TCB_NOT_SUPPORTED);
    enum vt_intel_status st = pl->status;
    if (ml) {
        enum vt_intel_status m2 = merge(st, ml->status);
        if (m2 != st)
            vti_report_step(rep, -1, "merged with the TDX module status %s: %s",
                            vti_intel_status_name(ml->status), vti_intel_status_name(m2));
        st = m2;
    }
    /* TDX 1.5: relaunch advice (FORMATS.md 3, step 13) */
    if (tdx && q->td.has_15 && ml && ml->status == VT_ISTAT_OUT_OF_DATE &&
        (pl->status == VT_ISTAT_OUT_OF_DATE ||
         pl->status == VT_ISTAT_OUT_OF_DATE_CONFIGURATION_NEEDED) &&
        ql->status != VT_ISTAT_OUT_OF_DATE && ql->status != VT_ISTAT_REVOKED && sl &&
        (sl->status == VT_ISTAT_UP_TO_DATE || sl->status == VT_ISTAT_SW_HARDENING_NEEDED ||
         sl->status == VT_ISTAT_CONFIGURATION_NEEDED ||
         sl->status == VT_ISTAT_CONFIGURATION_AND_SW_HARDENING_NEEDED)) {
        const uint8_t *s2 = q->td.tee_tcb_svn2;
        const struct vt_intel_level *L = &t->tcb.levels[0];
        bool relaunch = false;
        if (s2[1] == 0) {
            relaunch = s2[0] >= L->tdx[0] && s2[2] >= L->tdx[2];
        } else {
            const struct vt_intel_module_id *m2 = find_module(&t->tcb, s2[1]);
            relaunch = m2 && m2->n_levels > 0 && s2[0] >= m2->levels[0].isvsvn &&
                       s2[2] >= L->tdx[2];
        }
        if (relaunch) {
            st = (needs_config(sl->status) || needs_config(pl->status))
                     ? VT_ISTAT_TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED
                     : VT_ISTAT_TD_RELAUNCH_ADVISED;
            vti_report_step(rep, -1, "TEE_TCB_SVN2 reaches the newest level: %s",
                            vti_intel_status_name(st));
        }
    }
    enum vt_intel_status fin = merge(st, ql->status);
    if (fin != st)
        vti_report_step(rep, -1, "merged with the QE TCB status %s: %s",
                        vti_intel_status_name(ql->status), vti_intel_status_name(fin));

    struct advs a = { 0 };
    adv_add(&a, pl);
    adv_add(&a, ml);
    adv_add(&a, ql);
    GUARD(vti_claim_strlist(rep, "advisory_ids", a.v, a.n));
    GUARD(vti_claim_str(rep, "tcb_date", pl->date));
    GUARD(vti_claim_str(rep, "platform_tcb_status", vti_intel_status_name(pl->status)));
    GUARD(vti_claim_str(rep, "tcb_status", vti_intel_status_name(fin)));
    vti_report_set_tcb_status(rep, vti_intel_status_name(fin));
    bool revoked = fin == VT_ISTAT_REVOKED;
    vti_report_step(rep, !revoked, "TCB status %s%s", vti_intel_status_name(fin),
                    revoked ? ": revoked" : " (acceptance is policy)");
    ENSURE(!revoked, VT_ERR_INTEL_TCB_REVOKED);
    return vt_ok();
}

/* ---- the verifier ------------------------------------------------------------------- */

static vt_res trust_key(const struct vt_intel_quote *q, const struct vt_intel_collateral *col,
                        const struct anchors *an, uint8_t key[32])
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
    return vt_ok();
}

/* The attestation key as an EVP_PKEY (a new reference), reusing the one decoded for the
 * previous quote of this platform when the raw point is the same (public bytes). */
static EVP_PKEY *attestation_key(struct trust *t, const uint8_t raw[64])
{
    EVP_PKEY *k = NULL;
    pthread_mutex_lock(&t->ak_mu);
    if (t->ak && vt_ct_eq(t->ak_raw, raw, 64) && EVP_PKEY_up_ref(t->ak) == 1)
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

vt_res vti_intel_verify_with(const struct vti_verify_ctx *ctx,
                             const struct vt_intel_collateral *col, const uint8_t *ev,
                             size_t len, struct vt_report *rep)
{
    struct vt_intel_quote q;
    vt_res r = vt_intel_quote_parse(ev, len, &q);
    if (!vt_is_ok(r)) {
        vti_report_step(rep, 0, "parse Intel quote (%zu bytes): %s", len, vt_strerror(r.err));
        return r;
    }
    bool tdx = q.tee_type == VT_INTEL_TEE_TDX;
    vti_report_set_tee(rep, tdx ? "tdx" : "sgx");
    vti_report_step(rep, 1, "parse Intel quote: version %u, %s, %s body, signature data %u "
                    "bytes, %zu bytes after it (%zu non-zero; ignored, unsigned)", q.version, tdx ? "TDX" : "SGX",
                    q.body_type == VT_INTEL_BODY_SGX ? "SGX" :
                    q.body_type == VT_INTEL_BODY_TD10 ? "TDX 1.0" : "TDX 1.5",
                    q.sig_data_len, q.trailing_len, q.trailing_nonzero);
    memcpy(rep->report_data, tdx ? q.td.report_data : q.sgx.report_data, 64);
    rep->has_report_data = true;
    GUARD(vti_claim_int(rep, "quote_version", q.version));
    if (q.version == 3) {
        GUARD(vti_claim_int(rep, "qe_svn", q.qe_svn));
        GUARD(vti_claim_int(rep, "pce_svn", q.pce_svn));
    }
    GUARD(tdx ? td_claims(rep, &q.td) : sgx_claims(rep, &q.sgx));

    if (!col) {
        vti_report_step(rep, 0, "Intel collateral (TCB Info, QE Identity, CRLs): none given");
        return VT_FAIL(VT_ERR_INTEL_NO_COLLATERAL);
    }
    int64_t at = ctx->at;
    struct anchors an = { 0 };
    struct trust *t = NULL;
    GUARD_GOTO(anchors_load(ctx, &an), r, out);
    uint8_t key[32];
    GUARD_GOTO(trust_key(&q, col, &an, key), r, out);
    t = cache_get(key, at);
    if (t) {
        char a[32], b[32];
        fmt_time(t->lo, a);
        fmt_time(t->hi, b);
        vti_report_step(rep, 1, "PCK chain, CRLs, TCB Info and QE Identity: same bytes verified "
                        "before (cache), all valid %s .. %s", a, b);
    } else {
        t = calloc(1, sizeof(*t));
        ENSURE_GOTO(t, VT_ERR_NOMEM, r, out);
        t->refs = 1;
        pthread_mutex_init(&t->ak_mu, NULL);
        memcpy(t->key, key, 32);
        r = build_trust(&q, col, &an, at, rep, t);
        if (!vt_is_ok(r)) {
            trust_free(t);
            t = NULL;
            goto out;
        }
        cache_put(t);
    }
    rep->insecure = t->insecure;
    {
        char f[13];
        vt_hex_encode(t->ext.fmspc, 6, f);
        GUARD_GOTO(vti_claim_str(rep, "fmspc", f), r, out);
        vt_hex_encode(t->ext.pceid, 2, f);
        GUARD_GOTO(vti_claim_str(rep, "pce_id", f), r, out);
        GUARD_GOTO(vti_claim_str(rep, "pck_issuer", t->pck_issuer), r, out);
    }

    /* the quote's own signatures */
    bool ok = ecdsa_raw_ok(t->pck_key, q.qe_report.raw, VT_INTEL_SGX_BODY_LEN, q.qe_report_sig);
    vti_report_step(rep, ok, "QE report signature by the PCK key: %s", ok ? "ok" : "invalid");
    ENSURE_GOTO(ok, VT_ERR_INTEL_QE_REPORT_SIGNATURE, r, out);
    uint8_t h[32];
    {
        EVP_MD_CTX *m = EVP_MD_CTX_new();
        unsigned int hl = 32;
        ok = m && EVP_DigestInit_ex(m, EVP_sha256(), NULL) == 1 &&
             EVP_DigestUpdate(m, q.att_key, 64) == 1 &&
             (q.qe_auth_len == 0 || EVP_DigestUpdate(m, q.qe_auth, q.qe_auth_len) == 1) &&
             EVP_DigestFinal_ex(m, h, &hl) == 1;
        EVP_MD_CTX_free(m);
        ENSURE_GOTO(ok, VT_ERR_INTERNAL, r, out);
    }
    ok = vt_ct_eq(h, q.qe_report.report_data, 32);
    vti_report_step(rep, ok, "QE report data = SHA-256(attestation key || %u bytes QE auth "
                    "data): %s", q.qe_auth_len, ok ? "ok" : "differs");
    ENSURE_GOTO(ok, VT_ERR_INTEL_QE_REPORT_DATA, r, out);
    EVP_PKEY *ak = attestation_key(t, q.att_key);
    vti_report_step(rep, ak != NULL, "attestation key is a P-256 point: %s", ak ? "ok" : "no");
    ENSURE_GOTO(ak, VT_ERR_INTEL_ATT_KEY, r, out);
    ok = ecdsa_raw_ok(ak, q.signed_p, q.signed_len, q.quote_sig);
    EVP_PKEY_free(ak);
    vti_report_step(rep, ok, "quote signature by the attestation key over header and body "
                    "(%zu bytes): %s", q.signed_len, ok ? "ok" : "invalid");
    ENSURE_GOTO(ok, VT_ERR_INTEL_QUOTE_SIGNATURE, r, out);

    GUARD_GOTO(evaluate(&q, t, rep), r, out);
out:
    trust_release(t);
    anchors_free(&an);
    return r;
}

static bool intel_accepts(uint64_t tag, const uint8_t *ev, size_t len)
{
    if (tag == VT_TAG_INTEL)
        return true;
    return tag == 0 && vt_intel_quote_plausible(ev, len);
}

/* A result given with collateral that verified for this quote: a TCB or policy verdict. */
static bool collateral_held(vt_res r)
{
    vt_category c = vt_err_category(r.err);
    return vt_is_ok(r) || c == VT_CAT_TCB || c == VT_CAT_POLICY;
}

/* Collateral from the PCCS (or intel.cache_dir), verified with the quote; the downloads are
 * cached only once they verified for it, and a failure with anything taken from the cache is
 * retried once with fresh downloads (a bad cached entry never outlives a good PCCS answer).
 * If the retry cannot even download, the first failure is reported. */
static vt_res pccs_verify(const struct vti_verify_ctx *ctx, const char *url,
                          const struct vti_pccs_req *req, const uint8_t *ev, size_t len,
                          struct vt_report *rep)
{
    const char *dir = opt(ctx, "intel.cache_dir");
    struct vti_fetch_batch b = { 0 };
    vt_res r = vt_ok(), first = vt_ok();
    for (int pass = 0; pass < 2; pass++) {
        struct vt_intel_collateral col = { 0 };
        b.refresh = pass > 0;
        r = vti_intel_pccs_fetch(url, dir, ctx->at, req, &b, &col, rep);
        bool fetched = vt_is_ok(r);
        if (fetched)
            r = vti_intel_verify_with(ctx, &col, ev, len, rep);
        vti_intel_collateral_free(&col);
        if (fetched && collateral_held(r))
            vti_fetch_batch_commit(&b, dir, ctx->at);
        bool retry = pass == 0 && fetched && !collateral_held(r) && b.any_cached;
        vti_fetch_batch_free(&b);
        if (pass > 0 && !fetched)
            r = first;
        if (!retry)
            break;
        first = r;
        vti_report_step(rep, -1, "collateral taken from the cache did not verify (%s): "
                        "fetching it again", vt_strerror(r.err));
    }
    return r;
}

static vt_res intel_verify(const struct vti_verify_ctx *ctx, const uint8_t *ev, size_t len,
                           struct vt_report *rep)
{
    struct vt_intel_collateral col = { 0 };
    bool have = false;
    vt_res r = vt_ok();
    if (ctx->opts && ctx->opts->collateral) {
        r = vti_intel_collateral_load_path(ctx->opts->collateral, &col);
        vti_report_step(rep, vt_is_ok(r), "Intel collateral from %s: %s", ctx->opts->collateral,
                        vt_is_ok(r) ? "loaded" : vt_strerror(r.err));
        have = true;
    } else if (opt(ctx, "intel.pccs_url")) {
        /* asked for explicitly: fetch (or take from intel.cache_dir) what this quote needs */
        const char *url = opt(ctx, "intel.pccs_url");
        struct vt_intel_quote q;
        struct vti_pccs_req req;
        memset(&req, 0, sizeof(req));
        if (vt_is_ok(vt_intel_quote_parse(ev, len, &q))) {
            r = vti_intel_pccs_req_from_quote(&q, &req);
            if (vt_is_ok(r)) {
                char f[13];
                vt_hex_encode(req.fmspc, 6, f);
                vti_report_step(rep, 1, "PCCS %s: fetch %s collateral for FMSPC %s, PCK %s CA",
                                url, req.tdx ? "TDX" : "SGX", f,
                                req.processor_ca ? "Processor" : "Platform");
                return pccs_verify(ctx, url, &req, ev, len, rep);
            } else {
                vti_report_step(rep, 0, "PCCS %s: FMSPC from the quote's PCK certificate: %s",
                                url, vt_strerror(r.err));
            }
            have = true;
        } /* else: vti_intel_verify_with reports the parse failure */
    } else if (ctx->endorsements && ctx->endorsements_len > 0) {
        r = vti_intel_collateral_from_endorsements(ctx->endorsements, ctx->endorsements_len, &col);
        vti_report_step(rep, vt_is_ok(r), "Intel collateral from the certificate's endorsements "
                        "(%zu bytes): %s", ctx->endorsements_len,
                        vt_is_ok(r) ? "loaded" : vt_strerror(r.err));
        have = true;
    }
    if (vt_is_ok(r))
        r = vti_intel_verify_with(ctx, have ? &col : NULL, ev, len, rep);
    vti_intel_collateral_free(&col);
    return r;
}

static const struct vt_verifier_ops intel_verifier = {
    .hdr = { VT_INSTANCE_ABI, VT_KIND_VERIFIER, "intel", 50, 0 },
    .tee = "intel",
    .accepts = intel_accepts,
    .verify = intel_verify,
};
const struct vt_instance_hdr *const vt_inst_intel_verifier = &intel_verifier.hdr;
