/* SPDX-License-Identifier: Apache-2.0 */
/*
 * intel_tcb.h - Intel TCB evaluation (../shared/FORMATS.md section 3, steps 6, 9, 11-14):
 * pure functions over already verified TCB Info / QE Identity contents and the platform's
 * values. No I/O, no time, no crypto, no report: the verifier (intel.c) reports every step
 * from the result records below.
 */
#ifndef VT_VERIFIERS_INTEL_TCB_H
#define VT_VERIFIERS_INTEL_TCB_H

#include "endorsements/intel_collateral.h"
#include "evidence/intel_quote.h"

/* QE identity match (step 9). */
struct vti_intel_qe_eval {
    bool miscselect_ok, attributes_ok, mrsigner_ok, isvprodid_ok;
    bool ok;                            /* all four */
    const struct vt_intel_level *level; /* first level with isvsvn <= the QE's ISVSVN */
};

/* VT_ERR_INTEL_QE_IDENTITY_MISMATCH, VT_ERR_INTEL_QE_TCB_NOT_SUPPORTED or OK; *out is filled
 * as far as the evaluation got. */
VT_RESULT vti_intel_qe_eval(const struct vt_intel_qe_identity *id, const struct vt_sgx_body *qe,
                            struct vti_intel_qe_eval *out);

struct vti_intel_tcb_in {
    const struct vt_intel_tcb_info *tcb;
    const uint8_t *comps;               /* 16 SGX TCB component SVNs of the PCK certificate */
    uint16_t pcesvn;                    /* PCESVN of the PCK certificate */
    const struct vt_intel_level *qe;    /* the QE identity's level (vti_intel_qe_eval) */
    /* TDX only (tdx false: the rest is ignored) */
    bool tdx;
    const uint8_t *tee_tcb_svn;         /* 16 */
    const uint8_t *mr_signer_seam;      /* 48 */
    uint64_t seam_attributes;
    const uint8_t *tee_tcb_svn2;        /* 16; TD report 1.5 only, else NULL */
};

struct vti_intel_tcb_eval {
    /* TDX module identity (step 6): tdxModuleIdentities[TDX_%02X of TEE_TCB_SVN[1]] when
     * that byte is > 0, else tdxModule */
    const struct vt_intel_module_id *module; /* NULL: missing from the TCB Info */
    char module_name[24];                    /* "TDX_01" or "tdxModule" */
    bool module_ok;
    const struct vt_intel_level *module_level; /* step 12 (TEE_TCB_SVN[1] > 0 only) */
    /* platform level (step 11) */
    const struct vt_intel_level *sgx_level;  /* first level the SGX part matches */
    const struct vt_intel_level *level;      /* the matched level (NULL: not supported) */
    enum vt_intel_status with_module;        /* level status merged with the module's */
    bool relaunch;                           /* step 13 applied */
    enum vt_intel_status before_qe;          /* with_module, or the relaunch advice */
    enum vt_intel_status status;             /* final (step 14), may be Revoked */
    size_t n_adv;                            /* advisories of level, module level, QE level */
    const char *adv[3 * VT_INTEL_MAX_ADVISORIES];
    const char *date;                        /* the matched level's tcbDate */
};

/* VT_ERR_INTEL_TDX_MODULE_MISMATCH, VT_ERR_INTEL_TDX_MODULE_NOT_SUPPORTED,
 * VT_ERR_INTEL_TCB_NOT_SUPPORTED or OK (Revoked is a status here, not an error); *out is
 * filled as far as the evaluation got. */
VT_RESULT vti_intel_tcb_eval(const struct vti_intel_tcb_in *in, struct vti_intel_tcb_eval *out);

/* Merge an OutOfDate / Revoked component status into a platform status. */
enum vt_intel_status vti_intel_status_merge(enum vt_intel_status plat, enum vt_intel_status comp);

#endif
