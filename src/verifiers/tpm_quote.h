/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tpm_quote.h - verification of a TPM 2.0 quote (TPMS_ATTEST + signature) with a known
 * attestation key (AK): signature, extraData = expected nonce, pcrDigest over the PCR values.
 *
 * The pcrDigest is H(PCR values selected, in selection order: bank by bank, PCR by PCR
 * ascending) where H is the hash of the SIGNING SCHEME (a SHA-1 bank quoted by an RSASSA-SHA256
 * key is digested with SHA-256), not the bank's. Each check is recorded in rep (may be NULL).
 */
#ifndef VT_VERIFIERS_TPM_QUOTE_H
#define VT_VERIFIERS_TPM_QUOTE_H

#include <openssl/evp.h>

#include "core/report.h"
#include "evidence/tpm.h"

#define VT_TPM_MAX_PCRS 32

/* PCR values of one bank, as carried beside the quote (v[i] NULL: PCR i not carried). */
struct vti_tpm_pcr_bank {
    uint16_t hash;
    const uint8_t *v[VT_TPM_MAX_PCRS];
};

struct vti_tpm_quote_in {
    EVP_PKEY *ak;
    const uint8_t *msg;         /* TPMS_ATTEST */
    size_t msg_len;
    const uint8_t *sig;
    size_t sig_len;
    bool sig_raw_rsa_sha256;    /* Azure: raw RSASSA-PKCS1-v1_5/SHA-256 bytes, not TPMT_SIGNATURE */
    const uint8_t *nonce;       /* expected extraData, or NULL (then not checked: info step) */
    size_t nonce_len;
    const struct vti_tpm_pcr_bank *banks;
    size_t n_banks;
};

/* Verify; on success *att is the parsed TPMS_ATTEST (views into in->msg). */
VT_RESULT vti_tpm_quote_verify(const struct vti_tpm_quote_in *in, struct vt_report *rep,
                               struct vt_tpms_attest *att);
/* An OpenSSL public key from a parsed TPMT_PUBLIC (RSA or ECC). */
VT_RESULT vti_tpm_public_to_pkey(const struct vt_tpmt_public *k, EVP_PKEY **out);
/* An RSA public key from a big-endian modulus and exponent. */
VT_RESULT vti_rsa_pkey_from_ne(const uint8_t *n, size_t nlen, const uint8_t *e, size_t elen,
                               EVP_PKEY **out);

#endif
