/* SPDX-License-Identifier: Apache-2.0 */
/*
 * amd_chain.h - AMD SEV-SNP certificate chain verification (ARK -> ASK/ASVK -> VCEK/VLEK)
 * with a thread-safe cache of successful results.
 *
 * The cache key is SHA-256 over the exact certificate bytes, the extra trust anchors and the
 * selection inputs (signing key kind, expected product, chip id, reported TCB); an entry
 * stores the intersection of the certificates' validity periods and is used only when the
 * verification time lies inside it. So a repeated report needs only the report signature.
 */
#ifndef VT_ENDORSEMENTS_AMD_CHAIN_H
#define VT_ENDORSEMENTS_AMD_CHAIN_H

#include <openssl/evp.h>

#include "core/report.h"
#include "endorsements/amd_certs.h"

struct vt_amd_chain_in {
    const struct vt_amd_blobs *certs;  /* candidate certificates (any order, any roles) */
    const struct vt_amd_blobs *roots;  /* extra trust anchors (DER), may be NULL */
    enum vt_snp_signer signer;
    enum vt_snp_product product;       /* expected; UNKNOWN = take it from the certificates */
    const uint8_t *chip_id;            /* 64 bytes: selects among several VCEKs */
    uint64_t reported_tcb;             /* selects among several VCEKs/VLEKs */
    int64_t at;
};

struct vt_amd_chain_out {
    EVP_PKEY *key;                     /* the VCEK/VLEK public key (owned reference) */
    struct vt_amd_key_ext ext;
    enum vt_snp_product product;
    bool insecure;                     /* anchored in an extra root, not a pinned AMD ARK */
    bool cached;
    char ark_cn[64], ask_cn[64], key_cn[64];
    int64_t not_before, not_after;     /* validity window of the whole chain */
};

/* Select and verify the chain; records each check in rep. On success out->key is set. */
VT_RESULT vti_amd_chain_verify(const struct vt_amd_chain_in *in, struct vt_report *rep,
                               struct vt_amd_chain_out *out);
void vti_amd_chain_out_free(struct vt_amd_chain_out *out);
/* Drop every cached chain (tests, benchmarks). */
void vti_amd_chain_cache_clear(void);
/* Enable or disable the cache (default enabled); returns the previous setting. */
bool vti_amd_chain_cache_enable(bool on);

#endif
