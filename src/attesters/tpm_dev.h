/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tpm_dev.h - generic TPM 2.0 access for attesters, through the TSS (tpm2-tss ESYS).
 *
 * A TCTI configuration string chooses the TPM, as tpm2-tools' --tcti does:
 * "device:/dev/tpmrm0" (the kernel resource manager, the default), "swtpm:host=H,port=P"
 * (swtpm's socket, used by the tests), "mssim:...". The operations sit behind struct
 * vti_tpm_ops so that unit tests can replace the TPM; the default ops use libtss2 (built only
 * with VT_HAVE_TSS2, else every call fails with VT_ERR_UNSUPPORTED).
 *
 * Authorisation: NV indices are read and written with the owner hierarchy and the AK is used
 * with an empty password, as on Azure's vTPM (the guest owns it).
 * Trust boundary: the TPM is the attester's own device; what it returns is checked for size
 * and consistency (the quote's nonce and PCR digest) but verified only by the verifier.
 */
#ifndef VT_ATTESTERS_TPM_DEV_H
#define VT_ATTESTERS_TPM_DEV_H

#include "util/buf.h"

#define VTI_TPM_DEFAULT_TCTI "device:/dev/tpmrm0"
#define VTI_TPM_NV_MAX 4096u   /* largest NV index read */
#define VTI_TPM_NPCR 24

struct vti_tpm; /* an open TPM connection */

/* A quote of PCRs 0..23 of the SHA-256 bank, signed with the AK's scheme: RSASSA SHA-256, or
 * ECDSA SHA-256 (ecdsa set). */
struct vti_tpm_quote {
    struct vt_buf message;    /* the marshalled TPMS_ATTEST */
    struct vt_buf signature;  /* the raw RSASSA signature (not a TPMT_SIGNATURE); ECDSA: r */
    uint8_t pcrs[VTI_TPM_NPCR][32];
    struct vt_buf ecdsa_s;    /* ECDSA: s (big-endian, as the TPM returned r and s) */
    bool ecdsa;
};
void vti_tpm_quote_free(struct vti_tpm_quote *q);

struct vti_tpm_ops {
    VT_RESULT (*open)(const char *tcti, struct vti_tpm **out);
    void (*close)(struct vti_tpm *t);
    /* Whole NV index (owner auth); VT_ERR_NOT_FOUND if it is not defined. */
    VT_RESULT (*nv_read)(struct vti_tpm *t, uint32_t index, struct vt_buf *out);
    /* Write p to the NV index, (re)defining it with exactly n bytes (owner read/write) first
     * when it is absent or of another size. */
    VT_RESULT (*nv_write)(struct vti_tpm *t, uint32_t index, const uint8_t *p, size_t n);
    /* Quote PCRs 0..23 (SHA-256) with the key at persistent handle ak, nonce as qualifying
     * data (0..64 bytes); the PCR values are read after the quote and must hash to its
     * pcrDigest (retried when a PCR changed in between). */
    VT_RESULT (*quote)(struct vti_tpm *t, uint32_t ak, const uint8_t *nonce, size_t n,
                       struct vti_tpm_quote *q);
    /* Create an RSA-2048 restricted signing key (RSASSA SHA-256) as a primary of the owner
     * hierarchy and make it persistent at handle (replacing what is there); returns its
     * modulus (256 bytes) and public exponent. */
    VT_RESULT (*ak_create)(struct vti_tpm *t, uint32_t handle, struct vt_buf *modulus,
                           uint32_t *exponent);
    /* The public key of the AK at persistent handle: a restricted RSA signing key with the
     * RSASSA SHA-256 scheme (what quote needs), else VT_ERR_TPM_AK_NOT_RSASSA; VT_ERR_NOT_FOUND
     * if nothing is there. May be NULL in replacement ops (then unsupported). */
    VT_RESULT (*ak_read)(struct vti_tpm *t, uint32_t handle, struct vt_buf *modulus,
                         uint32_t *exponent);
    /* The public point (x, y: 32 bytes each) of the AK at persistent handle: a restricted ECC
     * NIST P-256 signing key with the ECDSA SHA-256 scheme, else VT_ERR_TPM_AK_NOT_ECDSA;
     * VT_ERR_NOT_FOUND if nothing is there. May be NULL in replacement ops (unsupported). */
    VT_RESULT (*ak_read_ecc)(struct vti_tpm *t, uint32_t handle, struct vt_buf *x,
                             struct vt_buf *y);
};

/* The ops in use (libtss2 unless replaced); NULL restores the default. */
const struct vti_tpm_ops *vti_tpm_ops(void);
void vti_tpm_set_ops(const struct vti_tpm_ops *ops);

/* SHA-256 over the PCR values in order (the pcrDigest of a SHA-256-signed quote). */
VT_RESULT vti_tpm_pcr_digest(const uint8_t pcrs[VTI_TPM_NPCR][32], uint8_t out[32]);

#endif
