/* SPDX-License-Identifier: Apache-2.0 */
/*
 * amd_kds.c - AMD KDS fetch (see amd_kds.h).
 *
 * Owns: the KDS request paths (AMD 57230 "VCEK Certificate and KDS Interface Specification")
 * and the cache expiry of KDS answers.
 * Trust boundary: KDS answers and cache files are untrusted; they are only collected as
 * candidate certificates here. amd_chain.c verifies them against the pinned ARKs exactly
 * like certificates from a file or the certificate table.
 */
#include "endorsements/amd_kds.h"

#include <stdio.h>
#include <string.h>

#include "endorsements/fetch.h"
#include "util/codec.h"

static const struct vti_fetch_errs kds_errs = {
    .connect = VT_ERR_SNP_KDS_CONNECT,
    .not_found = VT_ERR_SNP_KDS_NOT_FOUND,
    .http = VT_ERR_SNP_KDS,
};

vt_res vti_amd_kds_vcek_path(const struct vt_snp_report *r, enum vt_snp_product product,
                             char *out, size_t outlen)
{
    ENSURE(product != VT_SNP_PRODUCT_UNKNOWN, VT_ERR_SNP_PRODUCT_UNKNOWN);
    struct vt_snp_tcb t = vti_snp_tcb_split(r->reported_tcb, product);
    char hwid[129];
    size_t idlen = product == VT_SNP_PRODUCT_TURIN ? 8 : 64;
    vti_hex_encode(r->chip_id, idlen, hwid);
    int n;
    if (product == VT_SNP_PRODUCT_TURIN)
        n = snprintf(out, outlen, "/vcek/v1/%s/%s?fmcSPL=%u&blSPL=%u&teeSPL=%u&snpSPL=%u&ucodeSPL=%u",
                     vti_snp_product_name(product), hwid, t.fmc, t.bl, t.tee, t.snp, t.ucode);
    else
        n = snprintf(out, outlen, "/vcek/v1/%s/%s?blSPL=%u&teeSPL=%u&snpSPL=%u&ucodeSPL=%u",
                     vti_snp_product_name(product), hwid, t.bl, t.tee, t.snp, t.ucode);
    ENSURE(n > 0 && (size_t)n < outlen, VT_ERR_OVERFLOW);
    return vti_ok();
}

/* Reusable until the earliest notAfter of the certificates in the answer. */
static vt_res certs_expiry(const struct vti_fetch_obj *o, int64_t *exp)
{
    struct vt_amd_blobs b = { 0 };
    size_t added = 0;
    vt_res r = vti_amd_blobs_add_content(&b, o->body.p, o->body.len, &added);
    int64_t min = INT64_MAX;
    for (size_t i = 0; vti_is_ok(r) && i < b.n; i++) {
        const unsigned char *q = b.der[i].p;
        X509 *x = d2i_X509(NULL, &q, (long)b.der[i].len);
        int64_t nb, na;
        if (!x || vti_amd_cert_time_check(x, 0, &nb, &na) == VT_ERR_SNP_CERT_PARSE)
            r = VT_FAIL(VT_ERR_SNP_KDS_RESPONSE);
        else if (na < min)
            min = na;
        X509_free(x);
    }
    vti_amd_blobs_free(&b);
    GUARD(r);
    ENSURE(added > 0, VT_ERR_SNP_KDS_RESPONSE);
    *exp = min;
    return vti_ok();
}

/* GET base+path and add its certificates to out. */
static vt_res get_certs(const char *base, size_t bl, const char *cache_dir, int64_t at,
                        const char *path, const char *what, struct vti_fetch_batch *b,
                        struct vt_amd_blobs *out, struct vt_report *rep)
{
    char url[VTI_FETCH_MAX_URL + 256];
    int n = snprintf(url, sizeof(url), "%.*s%s", (int)bl, base, path);
    ENSURE(n > 0 && (size_t)n < sizeof(url), VT_ERR_INVALID_ARG);
    struct vti_fetch_obj o;
    memset(&o, 0, sizeof(o));
    size_t before = out->n, added = 0;
    vt_res r = vti_fetch(url, cache_dir, at, NULL, certs_expiry, b->refresh, &kds_errs, &o);
    if (vti_is_ok(r)) {
        r = vti_amd_blobs_add_content(out, o.body.p, o.body.len, &added);
        if (vti_is_ok(r) && added == 0)
            r = VT_FAIL(VT_ERR_SNP_KDS_RESPONSE);
    }
    if (vti_is_ok(r)) {
        char e[32] = "not cacheable";
        if (o.expires > 0)
            vti_time_format(o.expires, e);
        vti_report_step(rep, 1, "%s from %s (%s, %zu certificates, reusable until %s)", what, url,
                        o.from_cache ? "cache" : "downloaded", out->n - before, e);
        r = vti_fetch_batch_take(b, url, &o); /* stored once the caller saw it verify */
    } else {
        vti_report_step(rep, r.err == VT_ERR_SNP_KDS_NOT_FOUND ? -1 : 0, "%s from %s: %s", what,
                        url, vt_strerror(r.err));
    }
    vti_fetch_obj_free(&o);
    return r;
}

vt_res vti_amd_kds_fetch(const char *base, const char *cache_dir, int64_t at,
                         const struct vt_snp_report *r, enum vt_snp_product product,
                         struct vti_fetch_batch *b, struct vt_amd_blobs *out,
                         struct vt_report *rep)
{
    ENSURE(base && b, VT_ERR_INVALID_ARG);
    ENSURE(vti_fetch_available(), VT_ERR_UNSUPPORTED);
    size_t bl = strlen(base);
    while (bl > 0 && base[bl - 1] == '/')
        bl--;
    ENSURE(bl > 0 && bl < VTI_FETCH_MAX_URL, VT_ERR_INVALID_ARG);
    bool vlek = r->signer == VT_SNP_SIGNER_VLEK;
    if (!vlek && r->mask_chip_key) {
        vti_report_step(rep, 0, "KDS: the chip id is masked (MASK_CHIP_KEY): no VCEK to ask for");
        return VT_FAIL(VT_ERR_SNP_KDS_NOT_FOUND);
    }
    enum vt_snp_product all[] = { VT_SNP_PRODUCT_MILAN, VT_SNP_PRODUCT_GENOA,
                                  VT_SNP_PRODUCT_TURIN };
    enum vt_snp_product *try = all;
    size_t ntry = VT_ARRAY_LEN(all);
    if (product != VT_SNP_PRODUCT_UNKNOWN) {
        try = &product;
        ntry = 1;
    }
    vt_res res = VT_FAIL(VT_ERR_SNP_KDS_NOT_FOUND);
    for (size_t i = 0; i < ntry; i++) {
        const char *pn = vti_snp_product_name(try[i]);
        char path[512];
        int n;
        if (vlek) {
            n = snprintf(path, sizeof(path), "/vlek/v1/%s/cert_chain", pn);
            ENSURE(n > 0 && (size_t)n < sizeof(path), VT_ERR_OVERFLOW);
            res = get_certs(base, bl, cache_dir, at, path, "ASVK + ARK (KDS)", b, out, rep);
        } else {
            GUARD(vti_amd_kds_vcek_path(r, try[i], path, sizeof(path)));
            res = get_certs(base, bl, cache_dir, at, path, "VCEK (KDS)", b, out, rep);
            if (vti_is_ok(res)) {
                n = snprintf(path, sizeof(path), "/vcek/v1/%s/cert_chain", pn);
                ENSURE(n > 0 && (size_t)n < sizeof(path), VT_ERR_OVERFLOW);
                res = get_certs(base, bl, cache_dir, at, path, "ASK + ARK (KDS)", b, out, rep);
            }
        }
        if (res.err != VT_ERR_SNP_KDS_NOT_FOUND)
            return res;
    }
    return res;
}
