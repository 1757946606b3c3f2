/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sim_common.h - pieces the simulated TEEs share (sim.c, sim_snp.c, sim_intel.c): where the
 * sim directory is, file paths inside it, reading its files, the "sim.measurement" and
 * "sim.debug" options and certificates as PEM. INSECURE by design like the sims themselves; the files read are ones
 * `veritee sim init` wrote (still read with a size cap and checked by the callers' parsers).
 */
#ifndef VT_ATTESTERS_SIM_COMMON_H
#define VT_ATTESTERS_SIM_COMMON_H

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "core/instance.h"
#include "util/buf.h"

/* Largest sim file read (keys, certificates, measurement). */
#define VTI_SIM_FILE_MAX (1u << 16)

/* The sim directory: ctx->sim_dir (--sim-dir), else $VERITEE_SIM_DIR; NULL if neither is set. */
const char *vti_sim_dir(const struct vti_attest_ctx *ctx);
/* "dir/sub/name" into out (sub and name may be NULL or ""; empty parts are left out). */
VT_RESULT vti_sim_path(const char *dir, const char *sub, const char *name, char *out, size_t cap);
/* Read dir/sub/name; a missing file is VT_ERR_SIM_DIR_INVALID (not initialised). */
VT_RESULT vti_sim_read(const char *dir, const char *sub, const char *name, struct vt_buf *out);
/* A measurement from n hex characters: 1..max bytes (max <= 48), zero-padded into m[48];
 * anything else is VT_ERR_SIM_MEASUREMENT. */
VT_RESULT vti_sim_measurement_hex(const char *s, size_t n, size_t max, uint8_t m[48]);
/* Option "sim.debug" (sim-sgx, sim-tdx, sim-snp): "1" sets the vendor's debug bit in the
 * evidence, "0" or absent leaves it clear; anything else is VT_ERR_SIM_DEBUG. */
VT_RESULT vti_sim_debug(const struct vti_attest_ctx *ctx, bool *debug);
/* Append the PEM of certificate x to out. */
VT_RESULT vti_sim_x509_pem(X509 *x, struct vt_buf *out);

/* ECDSA over msg with k, digest md, as raw r || s, each zero-padded to half bytes
 * (P-256/SHA-256: 32, P-384/SHA-384: 48); out holds 2 * half bytes. */
vt_res vti_sim_sign_raw(EVP_PKEY *k, const EVP_MD *md, size_t half, const uint8_t *msg, size_t n,
                        uint8_t *out);

/* Append one DER TLV (tag, definite length up to 65535, value) to out: the sim PKIs' X.509
 * extensions (the SGX PCK extension, NVIDIA's DiceTcbInfo) are built with it. */
vt_res vti_sim_der(struct vt_buf *out, uint8_t tag, const uint8_t *p, size_t n);

#endif
