/*
 * amd_kds.h - optional fetch of AMD SEV-SNP certificates from a KDS (Key Distribution
 * Service) with an on-disk cache.
 *
 * URLs (AMD 57230): {base}/vcek/v1/{product}/cert_chain (ASK + ARK, PEM),
 * {base}/vcek/v1/{product}/{hwid-hex}?blSPL=&teeSPL=&snpSPL=&ucodeSPL= (Turin: + fmcSPL;
 * hwid = the first 8 bytes of CHIP_ID) (VCEK, DER), {base}/vlek/v1/{product}/cert_chain.
 */
#ifndef VT_ENDORSEMENTS_AMD_KDS_H
#define VT_ENDORSEMENTS_AMD_KDS_H

#include "endorsements/amd_certs.h"

/* Fetch what the report needs and add it to out. cache_dir (may be NULL) is consulted first
 * and filled after a successful fetch. product UNKNOWN: tried in order Milan, Genoa, Turin. */
VT_RESULT vti_amd_kds_fetch(const char *base_url, const char *cache_dir,
                            const struct vt_snp_report *r, enum vt_snp_product product,
                            struct vt_amd_blobs *out);

/* The request path of the VCEK for a report (e.g. "/vcek/v1/Milan/3ac3...?blSPL=2&..."). */
VT_RESULT vti_amd_kds_vcek_path(const struct vt_snp_report *r, enum vt_snp_product product,
                                char *out, size_t outlen);

#endif
