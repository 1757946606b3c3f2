/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kbs_initdata.h - init-data bound in PCR 8 of a TPM quote (KBS tees "tpm", "az-snp-vtpm",
 * "az-tdx-vtpm"). Confidential Containers' guest extends PCR 8 of the SHA-256 bank (zero at
 * boot) once with the init-data digest, the init-data TOML body hashed with the body's
 * top-level `algorithm`; a SHA-256 PCR takes only a 32-byte digest, so only
 * algorithm = "sha256" can be bound. The KBS therefore reads that key (vtk_initdata_alg, a
 * bounded scan of the untrusted body), hashes the body with SHA-256 and requires the quoted
 * PCR 8 to equal SHA-256(32 zero bytes || digest) (vtk_initdata_pcr8_check, constant time).
 * The binding holds whatever the scan concludes: the digest covers the whole body.
 */
#ifndef VT_KBS_KBS_INITDATA_H
#define VT_KBS_KBS_INITDATA_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "veritee/veritee.h"

enum vtk_initdata_alg {
    VTK_INITDATA_ALG_NONE,   /* no top-level algorithm key */
    VTK_INITDATA_ALG_SHA256,
    VTK_INITDATA_ALG_SHA384,
    VTK_INITDATA_ALG_SHA512,
    VTK_INITDATA_ALG_OTHER,  /* a well-formed string naming something else */
};

/* The top-level `algorithm` key of an init-data TOML body (len bytes, any content): the
 * key = value lines before the first table header, comments and blank lines skipped; the
 * value a basic ("...", no escapes) or literal ('...') string, then only a comment.
 * 0 with *alg set, or VT_ERR_KBS_INIT_DATA_TOML (the key's line malformed, or the key
 * repeated). */
int vtk_initdata_alg(const char *body, size_t len, enum vtk_initdata_alg *alg);

/* The PCR 8 value after one extend of the zero SHA-256 PCR with digest:
 * SHA-256(32 zero bytes || digest). 0, or VT_ERR_CRYPTO. */
int vtk_initdata_pcr8(const uint8_t digest[32], uint8_t out[32]);

/* The verified claims' "pcr.8" (hex of the SHA-256 bank: 32 bytes; "tpm.pcr_bank", when
 * present, "sha256") equals vtk_initdata_pcr8(digest), compared in constant time. 0, or
 * VT_ERR_KBS_INIT_DATA_PCR8 with the reason in why; VT_ERR_CRYPTO. */
int vtk_initdata_pcr8_check(const json_t *claims, const uint8_t digest[32], char *why,
                            size_t why_len);

#endif
