/* SPDX-License-Identifier: Apache-2.0 */
/*
 * intel_pccs.h - optional fetch of Intel DCAP collateral from a PCCS (or Intel PCS) with the
 * PCS v4 API, cached on disk (fetch.h).
 *
 * Paths (base URL + ...):
 *   /{sgx|tdx}/certification/v4/tcb?fmspc=<12 hex>        TCB Info, header TCB-Info-Issuer-Chain
 *   /{sgx|tdx}/certification/v4/qe/identity                QE Identity,
 *                                                          header SGX-Enclave-Identity-Issuer-Chain
 *   /sgx/certification/v4/pckcrl?ca=platform|processor&encoding=der
 *                                                          PCK CRL (DER, PEM or hex accepted)
 *   /sgx/certification/v4/rootcacrl                        root CA CRL (PCCS; DER, PEM or hex)
 * Issuer chains are URL-encoded PEM. A piece is reused from the cache until its own
 * nextUpdate (TCB Info / QE Identity JSON, CRL nextUpdate).
 */
#ifndef VT_ENDORSEMENTS_INTEL_PCCS_H
#define VT_ENDORSEMENTS_INTEL_PCCS_H

#include "core/report.h"
#include "endorsements/fetch.h"
#include "endorsements/intel_collateral.h"
#include "evidence/intel_quote.h"

struct vti_pccs_req {
    bool tdx;
    uint8_t fmspc[6];
    bool processor_ca;   /* the PCK certificate is issued by the Processor CA (else Platform) */
};


/* Fetch (or take from cache_dir, may be NULL) the collateral for req and load it into c
 * (source "pccs"). Each download or cache hit is recorded in rep. at: the verification time
 * (cache expiry). Nothing is written to the cache: the downloads are moved into b (b->refresh:
 * ignore cached entries) and the caller commits b (vti_fetch_batch_commit) only once c verified
 * for this quote; b->any_cached tells whether a retry without the cache could help. */
VT_RESULT vti_intel_pccs_fetch(const char *base_url, const char *cache_dir, int64_t at,
                               const struct vti_pccs_req *req, struct vti_fetch_batch *b,
                               struct vt_intel_collateral *c, struct vt_report *rep);

/* The request URL of each piece (for tests): which = 0 TCB Info, 1 QE Identity, 2 PCK CRL,
 * 3 root CA CRL. */
VT_RESULT vti_intel_pccs_url(const char *base_url, const struct vti_pccs_req *req, int which,
                             char *out, size_t outlen);

#endif
