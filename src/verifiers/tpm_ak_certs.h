/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tpm_ak_certs.h - the certificates of a --root-ca file or of the --collateral file or
 * directory, as the "tpm" verifier's AK chain needs them (tpm_ak.c): DER plus the names the
 * path is built by. Loaded sets are kept across verifications per path, with the identity of
 * every file they were read from (tpm_ak_certs.c): a set is reused only while every file is
 * unchanged, so a changed file is always read again.
 * Trust boundary: the files are the verifier's configuration (read, size-capped); a set is
 * never a verdict (the chain is verified on every use).
 */
#ifndef VT_VERIFIERS_TPM_AK_CERTS_H
#define VT_VERIFIERS_TPM_AK_CERTS_H

#include "crypto/crypto.h"

#define VTI_TPM_MAX_CERTS 64 /* certificates of one path (a directory: all its files) */

struct vti_tpm_cert {
    struct vt_buf der;
    bool named; /* cert_parse succeeded: subject, issuer, self_issued are set */
    bool self_issued;
    char subject[256], issuer[256];
};

/* Immutable once loaded; shared between threads (reference counted). */
struct vti_tpm_certset {
    size_t n;
    struct vti_tpm_cert c[VTI_TPM_MAX_CERTS];
};

/* The certificates of path: a root file (root: an unreadable file or one without a certificate
 * is VT_ERR_TPM_ROOT_CA) or the --collateral path (a file: as a root file; a directory: every
 * regular file of it up to 1 MiB, not starting with '.', files that are not certificates
 * skipped; a missing path is VT_ERR_TPM_ROOT_CA). *out is released with vti_tpm_certset_put. */
VT_RESULT vti_tpm_certset_get(const struct vt_crypto_ops *cr, const char *path, bool root,
                              const struct vti_tpm_certset **out);
void vti_tpm_certset_put(const struct vti_tpm_certset *s);
/* Tests: empty the cache; hits and misses so far. */
void vti_tpm_certset_cache_flush(void);
void vti_tpm_certset_cache_stats(uint64_t *hits, uint64_t *misses);

#endif
