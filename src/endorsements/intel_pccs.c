/* SPDX-License-Identifier: Apache-2.0 */
/*
 * intel_pccs.c - Intel DCAP collateral from a PCCS / PCS (see intel_pccs.h).
 *
 * Owns: the PCS v4 request paths, the issuer-chain response headers and the cache expiry of
 * each piece. The pieces are handed to intel_collateral.c as one dcap-qvl style bundle (so a
 * fetched collateral goes through exactly the same loader and verifier as a bundle file).
 * Trust boundary: everything received (or read back from the cache) is untrusted; nothing is
 * checked here beyond what is needed to store it. The verifier checks signatures, chains and
 * times as for any other collateral.
 */
#include "endorsements/intel_pccs.h"

#include <assert.h>
#include <jansson.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "crypto/crypto.h"
#include "endorsements/fetch.h"
#include "util/codec.h"

static const struct vti_fetch_errs pccs_errs = {
    .connect = VT_ERR_INTEL_PCCS_CONNECT,
    .not_found = VT_ERR_INTEL_PCCS_NOT_FOUND,
    .http = VT_ERR_INTEL_PCCS,
};

vt_res vti_intel_pccs_url(const char *base, const struct vti_pccs_req *req, int which, char *out,
                          size_t outlen)
{
    ENSURE(base && req, VT_ERR_INVALID_ARG);
    size_t bl = strlen(base);
    while (bl > 0 && base[bl - 1] == '/')
        bl--;
    ENSURE(bl > 0 && bl < VTI_FETCH_MAX_URL, VT_ERR_INVALID_ARG);
    const char *tee = req->tdx ? "tdx" : "sgx";
    char f[13];
    vti_hex_encode(req->fmspc, 6, f);
    int n;
    switch (which) {
    case 0:
        n = snprintf(out, outlen, "%.*s/%s/certification/v4/tcb?fmspc=%s", (int)bl, base, tee, f);
        break;
    case 1:
        n = snprintf(out, outlen, "%.*s/%s/certification/v4/qe/identity", (int)bl, base, tee);
        break;
    case 2:
        n = snprintf(out, outlen, "%.*s/sgx/certification/v4/pckcrl?ca=%s&encoding=der", (int)bl,
                     base, req->processor_ca ? "processor" : "platform");
        break;
    case 3:
        n = snprintf(out, outlen, "%.*s/sgx/certification/v4/rootcacrl", (int)bl, base);
        break;
    default:
        return VT_FAIL(VT_ERR_INVALID_ARG);
    }
    ENSURE(n > 0 && (size_t)n < outlen, VT_ERR_OVERFLOW);
    return vti_ok();
}

/* ---- expiry of each piece ---------------------------------------------------------- */

static vt_res json_expiry(const struct vti_fetch_obj *o, int64_t *exp)
{
    json_t *root = json_loadb((const char *)o->body.p, o->body.len, JSON_REJECT_DUPLICATES, NULL);
    ENSURE(root, VT_ERR_JSON);
    json_t *in = json_object_get(root, "tcbInfo");
    if (!in)
        in = json_object_get(root, "enclaveIdentity");
    const char *s = json_string_value(json_object_get(in, "nextUpdate"));
    vt_res r = s ? vti_time_parse(s, exp) : VT_FAIL(VT_ERR_JSON);
    json_decref(root);
    return r;
}

static bool all_hex(const uint8_t *p, size_t n)
{
    if (n == 0 || n % 2)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f') ||
              (p[i] >= 'A' && p[i] <= 'F')))
            return false;
    return true;
}

static size_t trim(const uint8_t *p, size_t n)
{
    while (n > 0 && (p[n - 1] == '\n' || p[n - 1] == '\r' || p[n - 1] == ' ' || p[n - 1] == 0))
        n--;
    return n;
}

/* The CRL's DER whatever the encoding (DER, PEM, hex). */
static vt_res crl_der(const struct vti_fetch_obj *o, struct vt_buf *der)
{
    const uint8_t *p = o->body.p;
    size_t n = trim(p, o->body.len);
    if (vti_pem_has(p, n, "X509 CRL")) {
        struct vt_pem_list l = { 0 };
        GUARD(vti_pem_decode(p, n, "X509 CRL", &l));
        vt_res r = l.n == 1 ? vti_buf_append(der, l.der[0].p, l.der[0].len)
                            : VT_FAIL(VT_ERR_INTEL_PCCS_RESPONSE);
        vti_pem_list_free(&l);
        return r;
    }
    if (all_hex(p, n))
        return vti_hex_decode((const char *)p, n, der);
    return vti_buf_append(der, o->body.p, o->body.len);
}

static vt_res crl_expiry(const struct vti_fetch_obj *o, int64_t *exp)
{
    struct vt_buf d = VT_BUF_INIT;
    GUARD(crl_der(o, &d));
    const unsigned char *q = d.p;
    X509_CRL *crl = d2i_X509_CRL(NULL, &q, (long)d.len);
    vti_buf_free_nowipe(&d);
    ENSURE(crl, VT_ERR_INTEL_PCCS_RESPONSE);
    const ASN1_TIME *nu = X509_CRL_get0_nextUpdate(crl);
    struct tm tm;
    bool ok = nu && ASN1_TIME_to_tm(nu, &tm) == 1;
    if (ok)
        *exp = vti_timegm(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                         tm.tm_sec);
    X509_CRL_free(crl);
    ENSURE(ok, VT_ERR_INTEL_PCCS_RESPONSE);
    return vti_ok();
}

/* ---- fetch ------------------------------------------------------------------------- */

#define PCCS_URL_MAX (VTI_FETCH_MAX_URL + 128)
static const char *const tcb_hdr[] = { "TCB-Info-Issuer-Chain", NULL };
static const char *const qe_hdr[] = { "SGX-Enclave-Identity-Issuer-Chain", NULL };

static vt_res get_piece(const char *base, const char *cache_dir, int64_t at,
                        const struct vti_pccs_req *req, int which, struct vti_fetch_obj *o,
                        bool refresh, char url[static PCCS_URL_MAX], struct vt_report *rep)
{
    static const char *const what[] = { "TCB Info", "QE Identity", "PCK CRL", "root CA CRL" };
    GUARD(vti_intel_pccs_url(base, req, which, url, PCCS_URL_MAX));
    const char *const *keep = which == 0 ? tcb_hdr : which == 1 ? qe_hdr : NULL;
    vt_res r = vti_fetch(url, cache_dir, at, keep, which < 2 ? json_expiry : crl_expiry,
                         refresh, &pccs_errs, o);
    if (vti_is_ok(r) && keep && !vti_fetch_header(o, keep[0]))
        r = VT_FAIL(VT_ERR_INTEL_PCCS_RESPONSE);
    if (vti_is_ok(r)) {
        char e[32] = "not cacheable";
        if (o->expires > 0)
            vti_time_format(o->expires, e);
        vti_report_step(rep, 1, "%s from %s (%s, %zu bytes, reusable until %s)", what[which], url,
                        o->from_cache ? "cache" : "downloaded", o->body.len, e);
    } else {
        vti_report_step(rep, 0, "%s from %s: %s", what[which], url, vt_strerror(r.err));
    }
    return r;
}

static vt_res put_str(json_t *root, const char *k, const char *s, size_t n)
{
    json_t *v = json_stringn(s, n);
    ENSURE(v, VT_ERR_INTEL_PCCS_RESPONSE); /* not UTF-8 */
    ENSURE(json_object_set_new(root, k, v) == 0, VT_ERR_NOMEM);
    return vti_ok();
}

static vt_res put_chain(json_t *root, const char *k, const char *enc)
{
    struct vt_buf pem = VT_BUF_INIT;
    vt_res r = vti_url_decode(enc, strlen(enc), &pem);
    if (vti_is_ok(r))
        r = put_str(root, k, (const char *)pem.p, pem.len);
    vti_buf_free_nowipe(&pem);
    return vti_is_ok(r) ? r : VT_FAIL(VT_ERR_INTEL_PCCS_RESPONSE);
}

static vt_res put_crl(json_t *root, const char *k, const struct vti_fetch_obj *o)
{
    struct vt_buf d = VT_BUF_INIT, hex = VT_BUF_INIT;
    vt_res r = crl_der(o, &d);
    if (vti_is_ok(r))
        r = vti_hex_append(&hex, d.p, d.len);
    if (vti_is_ok(r))
        r = put_str(root, k, (const char *)hex.p, hex.len);
    vti_buf_free_nowipe(&d);
    vti_buf_free_nowipe(&hex);
    return vti_is_ok(r) ? r : VT_FAIL(VT_ERR_INTEL_PCCS_RESPONSE);
}

vt_res vti_intel_pccs_fetch(const char *base, const char *cache_dir, int64_t at,
                            const struct vti_pccs_req *req, struct vti_fetch_batch *b,
                            struct vt_intel_collateral *c, struct vt_report *rep)
{
    struct vti_fetch_obj o[4];
    static_assert(VTI_FETCH_BATCH_MAX >= 4, "batch too small");
    char url[4][PCCS_URL_MAX];
    memset(o, 0, sizeof(o));
    json_t *root = NULL;
    char *text = NULL;
    vt_res r = vti_ok();
    ENSURE(base && req && b && c, VT_ERR_INVALID_ARG);
    ENSURE(vti_fetch_available(), VT_ERR_UNSUPPORTED);
    for (int i = 0; i < 4; i++)
        GUARD_GOTO(get_piece(base, cache_dir, at, req, i, &o[i], b->refresh, url[i], rep), r,
                   out);
    root = json_object();
    ENSURE_GOTO(root, VT_ERR_NOMEM, r, out);
    GUARD_GOTO(put_str(root, "tcb_info", (const char *)o[0].body.p, o[0].body.len), r, out);
    GUARD_GOTO(put_chain(root, "tcb_info_issuer_chain", vti_fetch_header(&o[0], tcb_hdr[0])), r,
               out);
    GUARD_GOTO(put_str(root, "qe_identity", (const char *)o[1].body.p, o[1].body.len), r, out);
    GUARD_GOTO(put_chain(root, "qe_identity_issuer_chain", vti_fetch_header(&o[1], qe_hdr[0])),
               r, out);
    GUARD_GOTO(put_crl(root, "pck_crl", &o[2]), r, out);
    GUARD_GOTO(put_crl(root, "root_ca_crl", &o[3]), r, out);
    text = json_dumps(root, JSON_COMPACT);
    ENSURE_GOTO(text, VT_ERR_NOMEM, r, out);
    r = vti_intel_collateral_from_bundle((const uint8_t *)text, strlen(text), c);
    if (vti_is_ok(r))
        snprintf(c->source, sizeof(c->source), "pccs");
    /* what was downloaded is kept for the cache, stored once the caller saw it verify */
    for (int i = 0; vti_is_ok(r) && i < 4; i++)
        r = vti_fetch_batch_take(b, url[i], &o[i]);
out:
    free(text);
    json_decref(root);
    for (int i = 0; i < 4; i++)
        vti_fetch_obj_free(&o[i]);
    return r;
}
