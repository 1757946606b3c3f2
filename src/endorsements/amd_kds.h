/* SPDX-License-Identifier: Apache-2.0 */
/*
 * amd_kds.h - optional fetch of AMD SEV-SNP certificates from a KDS (Key Distribution
 * Service) with an on-disk cache (fetch.h).
 *
 * URLs (AMD 57230): {base}/vcek/v1/{product}/cert_chain (ASK + ARK, PEM),
 * {base}/vcek/v1/{product}/{hwid-hex}?blSPL=&teeSPL=&snpSPL=&ucodeSPL= (Turin: fmcSPL first;
 * hwid = the first 8 bytes of CHIP_ID) (VCEK, DER), {base}/vlek/v1/{product}/cert_chain
 * (ASVK + ARK; the VLEK itself is not public and must come with the evidence).
 * Each response is cacheable until the earliest notAfter of its certificates.
 */
#ifndef VT_ENDORSEMENTS_AMD_KDS_H
#define VT_ENDORSEMENTS_AMD_KDS_H

#include "core/report.h"
#include "endorsements/amd_certs.h"
#include "endorsements/fetch.h"

/* Fetch what the report needs and add it to out. cache_dir (may be NULL) is consulted first
 * (unless b->refresh); downloads are moved into b, which the caller commits
 * (vti_fetch_batch_commit) only once the report verified with them; at is the verification time (cache expiry). product
 * UNKNOWN (v2 reports): tried in order Milan, Genoa, Turin until the KDS knows the VCEK (or,
 * VLEK-signed, the chain). Every request is recorded in rep. Errors: VT_ERR_SNP_KDS_CONNECT,
 * _NOT_FOUND (404), VT_ERR_SNP_KDS (other HTTP status), _RESPONSE (no certificate in the
 * answer), VT_ERR_UNSUPPORTED (built without libcurl). */
VT_RESULT vti_amd_kds_fetch(const char *base_url, const char *cache_dir, int64_t at,
                            const struct vt_snp_report *r, enum vt_snp_product product,
                            struct vti_fetch_batch *b, struct vt_amd_blobs *out,
                            struct vt_report *rep);

/* The request path of the VCEK for a report (e.g. "/vcek/v1/Milan/3ac3...?blSPL=2&..."). */
VT_RESULT vti_amd_kds_vcek_path(const struct vt_snp_report *r, enum vt_snp_product product,
                                char *out, size_t outlen);

#endif
