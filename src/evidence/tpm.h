/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tpm.h - TPM 2.0 structures (TPM 2.0 Library, Part 2): TPMS_ATTEST (quotes), TPMT_SIGNATURE,
 * TPMT_PUBLIC / TPM2B_PUBLIC. Pure parsers over the bounded cursor; TPM is big-endian.
 *
 * Trust boundary: the bytes are untrusted. The results' views point into the input, which must
 * outlive them. Every refusal has its own VT_ERR_TPM_* code (include/veritee/errors/tpm.def);
 * running out of bytes is VT_ERR_TRUNCATED, bytes after the structure VT_ERR_TRAILING_DATA.
 * Caps: a name 66 bytes, extraData and pcrDigest 64, 8 PCR banks of at most 4 select bytes
 * (32 PCRs), an RSA key or signature 512 bytes (4096 bits), an ECC coordinate 66 (P-521).
 */
#ifndef VT_EVIDENCE_TPM_H
#define VT_EVIDENCE_TPM_H

#include <openssl/evp.h>
#include "util/cursor.h"

#define VT_TPM_GENERATED_VALUE 0xff544347u
#define VT_TPM_ST_ATTEST_QUOTE 0x8018u

enum {
    VT_TPM_ALG_RSA = 0x0001, VT_TPM_ALG_SHA1 = 0x0004, VT_TPM_ALG_AES = 0x0006,
    VT_TPM_ALG_MGF1 = 0x0007, VT_TPM_ALG_SHA256 = 0x000B, VT_TPM_ALG_SHA384 = 0x000C,
    VT_TPM_ALG_SHA512 = 0x000D, VT_TPM_ALG_NULL = 0x0010, VT_TPM_ALG_RSASSA = 0x0014,
    VT_TPM_ALG_RSAES = 0x0015, VT_TPM_ALG_RSAPSS = 0x0016, VT_TPM_ALG_OAEP = 0x0017,
    VT_TPM_ALG_ECDSA = 0x0018, VT_TPM_ALG_ECDH = 0x0019, VT_TPM_ALG_ECSCHNORR = 0x001C,
    VT_TPM_ALG_KDF1_56A = 0x0020, VT_TPM_ALG_KDF2 = 0x0021, VT_TPM_ALG_KDF1_108 = 0x0022,
    VT_TPM_ALG_ECC = 0x0023,
};
enum { VT_TPM_ECC_NIST_P256 = 0x0003, VT_TPM_ECC_NIST_P384 = 0x0004, VT_TPM_ECC_NIST_P521 = 0x0005 };

#define VT_TPM_MAX_NAME 66
#define VT_TPM_MAX_DATA 64
#define VT_TPM_MAX_BANKS 8
#define VT_TPM_MAX_SELECT 4
#define VT_TPM_MAX_RSA 512
#define VT_TPM_MAX_ECC 66

/* Digest size of a TPM hash algorithm, 0 if unknown. */
size_t vti_tpm_hash_size(uint16_t alg);
/* "sha1", "sha256", ... or "unknown". */
const char *vti_tpm_hash_name(uint16_t alg);

struct vt_tpm_pcr_sel {
    uint16_t hash;
    uint8_t size;                    /* sizeofSelect, 1..4 */
    uint8_t bits[VT_TPM_MAX_SELECT]; /* PCR n is bit (n % 8) of byte n / 8 */
};

struct vt_tpms_attest {
    uint32_t magic;
    uint16_t type;
    const uint8_t *qualified_signer;
    uint16_t qualified_signer_len;
    const uint8_t *extra_data;
    uint16_t extra_data_len;
    uint64_t clock;
    uint32_t reset_count, restart_count;
    uint8_t safe;
    uint64_t firmware_version;
    uint32_t n_sel;
    struct vt_tpm_pcr_sel sel[VT_TPM_MAX_BANKS];
    const uint8_t *pcr_digest;
    uint16_t pcr_digest_len;
};
/* A complete TPMS_ATTEST of type QUOTE (the whole buffer). */
VT_RESULT vti_tpms_attest_parse(const uint8_t *p, size_t len, struct vt_tpms_attest *out);

struct vt_tpmt_signature {
    uint16_t sig_alg;  /* RSASSA, RSAPSS or ECDSA */
    uint16_t hash_alg;
    const uint8_t *rsa; /* RSASSA / RSAPSS */
    uint16_t rsa_len;
    const uint8_t *r, *s; /* ECDSA, big-endian */
    uint16_t r_len, s_len;
};
/* A complete TPMT_SIGNATURE (the whole buffer). */
VT_RESULT vti_tpmt_signature_parse(const uint8_t *p, size_t len, struct vt_tpmt_signature *out);

struct vt_tpmt_public {
    uint16_t type;      /* RSA or ECC */
    uint16_t name_alg;
    uint32_t attributes;
    uint16_t scheme, scheme_hash; /* NULL / 0 when none */
    /* RSA */
    uint16_t key_bits;
    uint32_t exponent;  /* 0 means 65537 */
    const uint8_t *n;
    uint16_t n_len;
    /* ECC */
    uint16_t curve;
    const uint8_t *x, *y;
    uint16_t x_len, y_len;
};
/* Read one TPMT_PUBLIC from c. */
VT_RESULT vti_tpmt_public_read(struct vt_cur *c, struct vt_tpmt_public *out);
/* A complete TPMT_PUBLIC (the whole buffer). */
VT_RESULT vti_tpmt_public_parse(const uint8_t *p, size_t len, struct vt_tpmt_public *out);
/* A complete TPM2B_PUBLIC: u16 size, then exactly that many bytes of TPMT_PUBLIC. */
VT_RESULT vti_tpm2b_public_parse(const uint8_t *p, size_t len, struct vt_tpmt_public *out);

/* The OpenSSL digest of a TPM_ALG_ID (SHA-1/256/384/512), or NULL for any other. */
const EVP_MD *vti_tpm_alg_md(uint16_t alg);

#endif
