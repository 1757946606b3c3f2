/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tpm_ak.h - trust in a plain TPM's attestation key (AK), for the "tpm" verifier (docs/tpm.md).
 *
 * The AK is trusted in one of two ways, both recorded for --explain:
 *  - pinned: option tpm.ak_sha256 (CLI: --expect tpm.ak_sha256=HEX; broker: a reference
 *    value) lists SHA-256 digests (64 hex digits, comma-separated) of the AK's DER
 *    SubjectPublicKeyInfo, i.e. of the bytes of "ak_public" (which must be the canonical DER
 *    encoding of the key: `openssl pkey -pubin -outform DER | sha256sum`). When pins are
 *    given the AK must match one, whatever else the evidence carries;
 *  - certified: the evidence's "ak_cert" (DER X.509) has exactly ak_public as its public key,
 *    is within its validity at the verification time, and chains to a --root-ca (PEM or DER
 *    files) through intermediates found by content in the --collateral file or directory
 *    (every PEM/DER certificate there; the path is built by issuer name, at most 6
 *    intermediates).
 * No pin and no certificate: VT_ERR_TPM_AK_UNTRUSTED. A certificate but no root and no pin:
 * VT_ERR_TPM_AK_NO_ROOT.
 */
#ifndef VT_VERIFIERS_TPM_AK_H
#define VT_VERIFIERS_TPM_AK_H

#include "core/instance.h"
#include "core/report.h"

struct vti_tpm_ak_result {
    bool pinned, certified;
    char subject[256], issuer[256]; /* of the AK certificate, when certified */
};

/* spki: the canonical DER of ak_public; cert: ak_cert DER or len 0. */
VT_RESULT vti_tpm_ak_trust(const struct vti_verify_ctx *ctx, const uint8_t *spki, size_t spki_len,
                           const uint8_t *cert, size_t cert_len, struct vt_report *rep,
                           struct vti_tpm_ak_result *out);
/* The value of a verifier option, or NULL. */
const char *vti_tpm_opt(const struct vti_verify_ctx *ctx, const char *name);

#endif
