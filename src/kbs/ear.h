/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ear.h - EAT Attestation Results (draft-ietf-rats-ear) as ES256 JWTs, and the broker's
 * signing key, kept in the shared store sealed by the KMS envelope (passport mode: any
 * broker instance on the same store verifies tokens issued by another).
 */
#ifndef VT_KBS_EAR_H
#define VT_KBS_EAR_H

#include <jansson.h>
#include <openssl/evp.h>

#include "broker/kms.h"
#include "util/buf.h"
#include "util/result.h"

#define VTK_EAR_PROFILE "tag:github.com,2023:veraison/ear"
#define VTK_EAR_ISSUER "veritee-broker"
#define VTK_SIGNING_KEY_NAME "@kbs/ear-signing-key"
#define VTK_SIGNING_KEY_KIND "kbs-es256"

/* AR4SI trustworthiness claims, in the draft's order. */
enum vtk_tv {
    VTK_TV_INSTANCE_IDENTITY, VTK_TV_CONFIGURATION, VTK_TV_EXECUTABLES, VTK_TV_FILE_SYSTEM,
    VTK_TV_HARDWARE, VTK_TV_RUNTIME_OPAQUE, VTK_TV_STORAGE_OPAQUE, VTK_TV_SOURCED_DATA,
    VTK_TV_COUNT
};
extern const char *const vtk_tv_names[VTK_TV_COUNT];

struct vtk_signer {
    EVP_PKEY *key;
    char kid[64];  /* RFC 7638 thumbprint */
    json_t *jwk;   /* public JWK with alg, use, kid */
};

/* Load the signing key from the store, creating it on first use (first writer wins). */
VT_RESULT vtk_signer_load(struct vtb_kms *kms, int64_t now, struct vtk_signer *out);
void vtk_signer_free(struct vtk_signer *s);
/* {"keys":[jwk]} (new reference). */
json_t *vtk_jwks(const struct vtk_signer *s);

/* Status from a vector: the worst tier (none / affirming / warning / contraindicated). */
const char *vtk_ear_status(const int tv[VTK_TV_COUNT]);

/* Build and sign an EAR: one submod "cpu0" with the vector, status, policy id and the
 * annotated evidence (reference stolen). iat = now, exp = now + lifetime. */
VT_RESULT vtk_ear_issue(const struct vtk_signer *s, const int tv[VTK_TV_COUNT],
                        const char *policy_id, json_t *annotated, int64_t now,
                        int64_t lifetime, struct vt_buf *out);
/* The same with more submods (e.g. "gpu0", "gpu1": src/kbs/kbs_devices.c) next to "cpu0"
 * (more: borrowed, may be NULL). ret_payload (may be NULL): a private deep copy of the
 * payload signed, the claims vtk_ear_verify() returns for the token. */
VT_RESULT vtk_ear_issue_submods(const struct vtk_signer *s, const int tv[VTK_TV_COUNT],
                                const char *policy_id, json_t *annotated, const json_t *more,
                                int64_t now, int64_t lifetime, struct vt_buf *out,
                                json_t **ret_payload);
/* Verify a token issued by s at time now (signature, kid, profile, issuer, iat/exp with
 * 60 s skew for iat). *ret_claims: the payload. VT_ERR_KBS_TOKEN_INVALID / _EXPIRED. */
VT_RESULT vtk_ear_verify(const struct vtk_signer *s, const char *tok, size_t n, int64_t now,
                         json_t **ret_claims);

#endif
