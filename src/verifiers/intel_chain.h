/* SPDX-License-Identifier: Apache-2.0 */
/*
 * intel_chain.h - the checked-once part of the Intel DCAP verifier (intel.c): trust anchors,
 * PCK chain to the root, root CA CRL and PCK CRL, the PCK certificate's SGX extension, and the
 * TCB Info / QE Identity signing chains, signatures and time windows
 * (../shared/FORMATS.md section 3, steps 2-5), plus the cache of their results.
 *
 * Cache: a struct vti_intel_trust is keyed by SHA-256 of (TEE type, PCK chain bytes,
 * collateral digest, anchors digest); an entry is used only when the verification time lies
 * inside the intersection of all validity windows it checked, so the cache never changes a
 * result. Thread-safe (one mutex, reference-counted entries).
 */
#ifndef VT_VERIFIERS_INTEL_CHAIN_H
#define VT_VERIFIERS_INTEL_CHAIN_H

#include <openssl/evp.h>
#include <pthread.h>

#include "core/instance.h"
#include "core/report.h"
#include "endorsements/intel_collateral.h"
#include "endorsements/intel_pccs.h"
#include "evidence/intel_quote.h"
#include "evidence/pck_ext.h"

#define VTI_INTEL_MAX_EXTRA_ROOTS 8

/* Trust anchors: the pinned root's SHA-256 and extra roots (opts->root_ca_files). */
struct vti_intel_anchors {
    uint8_t pin[32];
    bool pin_overridden;
    size_t n;
    struct vt_buf der[VTI_INTEL_MAX_EXTRA_ROOTS];
    uint8_t digest[32];
};

/* From ctx: the built-in pin or "intel.root_ca", and opts->root_ca_files. */
VT_RESULT vti_intel_anchors_load(const struct vti_verify_ctx *ctx, struct vti_intel_anchors *a);
void vti_intel_anchors_free(struct vti_intel_anchors *a);

/* What the chain / collateral checks established (shared, read-only once built). */
struct vti_intel_trust {
    int refs;
    uint8_t key[32];
    int64_t lo, hi;          /* every checked validity window contains [lo, hi] */
    bool insecure;           /* rooted in a given anchor, not the pinned root */
    EVP_PKEY *pck_key;
    struct vt_pck_ext ext;
    char pck_issuer[128];
    struct vt_intel_tcb_info tcb;
    struct vt_intel_qe_identity qe;
    /* the last attestation key seen with this platform, decoded (a QE keeps its key, so
     * decoding it again for every quote is the largest avoidable cost); guarded by ak_mu */
    pthread_mutex_t ak_mu;
    uint8_t ak_raw[64];
    EVP_PKEY *ak;
    /* the QE report and its signature (r||s) last verified with pck_key: a platform's QE
     * report is the same in every quote until its attestation key changes, so its signature
     * need not be verified again for each quote (exact bytes compared); guarded by ak_mu */
    uint8_t qe_ok[VT_INTEL_SGX_BODY_LEN + 64];
    bool qe_ok_set;
};

/* The cache key of a quote's chain with this collateral and these anchors. */
VT_RESULT vti_intel_trust_key(const struct vt_intel_quote *q,
                              const struct vt_intel_collateral *col,
                              const struct vti_intel_anchors *an, uint8_t key[32]);
/* A new reference to the cached entry for key valid at at, or NULL. */
struct vti_intel_trust *vti_intel_trust_get(const uint8_t key[32], int64_t at);
/* Run every chain / CRL / TCB Info / QE Identity check at time at, reporting each step, and
 * on success cache the result. *out: a new reference (release it). */
VT_RESULT vti_intel_trust_build(const struct vt_intel_quote *q,
                                const struct vt_intel_collateral *col,
                                const struct vti_intel_anchors *an, const uint8_t key[32],
                                int64_t at, struct vt_report *rep, struct vti_intel_trust **out);
/* Drop a reference (NULL-safe). */
void vti_intel_trust_release(struct vti_intel_trust *t);

/* The attestation key as an EVP_PKEY (a new reference, free it), reusing the one decoded for
 * the previous quote of this platform when the raw point is the same. NULL if not P-256. */
EVP_PKEY *vti_intel_attestation_key(struct vti_intel_trust *t, const uint8_t raw[64]);

/* The QE report signature (r||s) by t->pck_key over report (VT_INTEL_SGX_BODY_LEN bytes):
 * true when it verifies, or when these exact report and signature bytes verified with this
 * trust's PCK key before (only successes are kept). */
bool vti_intel_qe_report_sig_ok(struct vti_intel_trust *t, const uint8_t *report,
                                const uint8_t sig[64]);
/* How many QE report signatures were taken from that memo (tests, benchmarks). */
uint64_t vti_intel_qe_memo_hits(void);

/* ECDSA P-256 / SHA-256 over msg with a raw r||s signature. */
bool vti_intel_ecdsa_raw_ok(EVP_PKEY *key, const uint8_t *msg, size_t n, const uint8_t sig[64]);
/* The value of the verify option name, or NULL. */
const char *vti_intel_opt(const struct vti_verify_ctx *ctx, const char *name);

/* What to fetch for a parsed quote: FMSPC and CA type from the PCK certificate it carries
 * (not verified here; the verifier checks that chain afterwards). */
VT_RESULT vti_intel_pccs_req_from_quote(const struct vt_intel_quote *q, struct vti_pccs_req *out);

#endif
