/* SPDX-License-Identifier: Apache-2.0 */
/*
 * intel_verify.h - entry points of the Intel DCAP verifier (intel.c, intel_chain.c) for tests
 * and benchmarks. The registered verifier ops call the same code.
 */
#ifndef VT_VERIFIERS_INTEL_VERIFY_H
#define VT_VERIFIERS_INTEL_VERIFY_H

#include "core/instance.h"
#include "core/report.h"
#include "endorsements/intel_collateral.h"

/* SHA-256 of the DER of Intel's SGX Root CA (the built-in pin). */
extern const uint8_t vt_intel_root_sha256[32];

/* Verify a quote against already loaded collateral (col may be NULL: then only parsing and
 * claims happen and VT_ERR_INTEL_NO_COLLATERAL is returned). ctx supplies the time, the
 * extra roots (opts->root_ca_files) and options ("intel.root_ca": a PEM/DER file replacing
 * the built-in pin). */
VT_RESULT vti_intel_verify_with(const struct vti_verify_ctx *ctx,
                                const struct vt_intel_collateral *col, const uint8_t *ev,
                                size_t len, struct vt_report *rep);

/* The verification cache (PCK chain, CRLs, TCB Info, QE Identity of unchanged inputs). */
void vti_intel_cache_enable(bool on);
void vti_intel_cache_clear(void);

#endif
