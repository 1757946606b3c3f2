/*
 * amd_kds.c - AMD KDS fetch (see amd_kds.h).
 *
 * Not implemented yet in this build: vti_amd_kds_fetch reports VT_ERR_UNSUPPORTED so that a
 * configured "snp.kds_url" fails closed instead of being ignored. The URL construction is
 * implemented and tested.
 */
#include "endorsements/amd_kds.h"

#include <stdio.h>

#include "util/codec.h"

vt_res vti_amd_kds_vcek_path(const struct vt_snp_report *r, enum vt_snp_product product,
                             char *out, size_t outlen)
{
    ENSURE(product != VT_SNP_PRODUCT_UNKNOWN, VT_ERR_SNP_PRODUCT_UNKNOWN);
    struct vt_snp_tcb t = vt_snp_tcb_split(r->reported_tcb, product);
    char hwid[129];
    size_t idlen = product == VT_SNP_PRODUCT_TURIN ? 8 : 64;
    vt_hex_encode(r->chip_id, idlen, hwid);
    int n;
    if (product == VT_SNP_PRODUCT_TURIN)
        n = snprintf(out, outlen, "/vcek/v1/%s/%s?fmcSPL=%u&blSPL=%u&teeSPL=%u&snpSPL=%u&ucodeSPL=%u",
                     vt_snp_product_name(product), hwid, t.fmc, t.bl, t.tee, t.snp, t.ucode);
    else
        n = snprintf(out, outlen, "/vcek/v1/%s/%s?blSPL=%u&teeSPL=%u&snpSPL=%u&ucodeSPL=%u",
                     vt_snp_product_name(product), hwid, t.bl, t.tee, t.snp, t.ucode);
    ENSURE(n > 0 && (size_t)n < outlen, VT_ERR_OVERFLOW);
    return vt_ok();
}

vt_res vti_amd_kds_fetch(const char *base_url, const char *cache_dir,
                         const struct vt_snp_report *r, enum vt_snp_product product,
                         struct vt_amd_blobs *out)
{
    (void)base_url;
    (void)cache_dir;
    (void)r;
    (void)product;
    (void)out;
    return VT_FAIL(VT_ERR_UNSUPPORTED);
}
