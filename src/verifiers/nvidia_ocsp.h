/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nvidia_ocsp.h - revocation of NVIDIA device certificates from OCSP responses kept as files
 * in the collateral directory (no network here).
 *
 * The files are recognised by content: every regular file that parses as a DER OCSPResponse
 * with status "successful" is a candidate (others, e.g. RIMs, are ignored). A response answers
 * a certificate when one of its SingleResponses has the certificate's CertID (issuer name and
 * key hash, serial) in the response's own hash algorithm. It counts only if its signature
 * verifies (OpenSSL OCSP_basic_verify: the issuing CA or a delegated OCSP signer it issued,
 * chained to the device chain's anchor at the verification time) and it is current at the
 * verification time (thisUpdate <= at <= nextUpdate, 5 minutes of skew).
 * Checked means: every certificate of the verified chain between the leaf and the anchor has
 * such a "good" response (the leaf is generated on the device and has no OCSP entry; a
 * response for it is checked if present). A "revoked" or "unknown" status, or a matching
 * response that does not verify or is stale, is a failure; a missing one is "not checked".
 */
#ifndef VT_VERIFIERS_NVIDIA_OCSP_H
#define VT_VERIFIERS_NVIDIA_OCSP_H

#include <openssl/ocsp.h>
#include <openssl/x509.h>

#include "core/report.h"
#include "util/result.h"

#define VT_NV_OCSP_MAX 64
#define VT_NV_OCSP_MAX_FILE (1u << 20)

struct vti_nv_ocsp {
    size_t n;
    OCSP_BASICRESP *bs[VT_NV_OCSP_MAX];
};

/* Load the responses of path (a directory, or one file); NULL loads nothing. */
VT_RESULT vti_nv_ocsp_load(const char *path, struct vti_nv_ocsp *o, struct vt_report *rep);
void vti_nv_ocsp_free(struct vti_nv_ocsp *o);
/* Check the verified chain (leaf .. anchor) of device dev; *checked as described above. */
VT_RESULT vti_nv_ocsp_check(const struct vti_nv_ocsp *o, STACK_OF(X509) *chain, int64_t at,
                            struct vt_report *rep, size_t dev, bool *checked);

#endif
