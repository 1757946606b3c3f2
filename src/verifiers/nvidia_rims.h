/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nvidia_rims.h - the driver and VBIOS RIMs of --collateral DIR for the nvidia verifier: load
 * (endorsements/nvidia_rim.c: XML-DSig by libxmlsec1, signer chain to the pinned NVIDIA RIM
 * root, or a --root-ca root when that fails, at the verification time) and appraise one
 * device's measurement blocks against them.
 *
 * Files are recognised by content (an XML SoftwareIdentity); every such file must load, else
 * the verification fails (a RIM that was given and does not verify is never skipped). For a
 * device: the driver RIM whose version equals the report's driver version, else the only driver
 * RIM given (the version difference is listed); the same for the VBIOS RIM. Without a driver
 * and a VBIOS RIM the device's claim is rim = not-appraised. Block i+1 is compared with RIM
 * index i over the active indices; a mismatch names each index.
 */
#ifndef VT_VERIFIERS_NVIDIA_RIMS_H
#define VT_VERIFIERS_NVIDIA_RIMS_H

#include <openssl/x509.h>

#include "core/report.h"
#include "endorsements/nvidia_rim.h"
#include "evidence/spdm.h"

#define VT_NV_MAX_RIMS 16

struct vti_nv_rims {
    size_t n;
    struct vti_nv_rim *rim[VT_NV_MAX_RIMS];
    bool insecure;              /* some RIM is anchored in a --root-ca root */
};

/* Load the RIMs of path (directory or file; NULL: none). roots: --root-ca anchors. */
VT_RESULT vti_nv_rims_load(const char *path, STACK_OF(X509) *roots, int64_t at,
                           struct vt_report *rep, struct vti_nv_rims *out);
void vti_nv_rims_free(struct vti_nv_rims *r);
/* Appraise device dev; *claim = "match" / "mismatch" / "not-appraised". On a mismatch
 * (VT_ERR_NV_RIM_MISMATCH) detail names the differing indices. */
VT_RESULT vti_nv_rims_appraise(const struct vti_nv_rims *r, const struct vt_spdm_report *s,
                               size_t dev, struct vt_report *rep, const char **claim,
                               char *detail, size_t dlen);

#endif
