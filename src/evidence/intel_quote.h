/* SPDX-License-Identifier: Apache-2.0 */
/*
 * intel_quote.h - parser for Intel DCAP ECDSA quotes: SGX v3, SGX/TDX v4, v5 (SGX, TDX 1.0,
 * TDX 1.5 bodies), with the certification data nesting (type 6 QE report certification data
 * wrapping type 5 PCK chain). Pure and bounded: no I/O, no crypto, no policy.
 * Layouts: ../shared/FORMATS.md section 1 (Intel SGX/TDX DCAP Quote Library API, appendix).
 *
 * The parsed struct holds views into the caller's buffer (which must outlive it). Unknown
 * versions, key types, TEE types, body types and certification data types are errors.
 */
#ifndef VT_EVIDENCE_INTEL_QUOTE_H
#define VT_EVIDENCE_INTEL_QUOTE_H

#include "util/cursor.h"

#define VT_INTEL_HEADER_LEN 48
#define VT_INTEL_SGX_BODY_LEN 384
#define VT_INTEL_TD10_BODY_LEN 584
#define VT_INTEL_TD15_BODY_LEN 648
#define VT_INTEL_TEE_SGX 0x00000000u
#define VT_INTEL_TEE_TDX 0x00000081u
#define VT_INTEL_KEY_ECDSA_P256 2
#define VT_INTEL_MAX_QUOTE_LEN ((size_t)1 << 20)
#define VT_INTEL_MAX_CERT_DATA_LEN ((size_t)64 << 10)

extern const uint8_t vt_intel_qe_vendor_id[16];

enum vt_intel_body { VT_INTEL_BODY_SGX = 1, VT_INTEL_BODY_TD10 = 2, VT_INTEL_BODY_TD15 = 3 };

/* SGX report body (also the QE report layout). */
struct vt_sgx_body {
    const uint8_t *raw; /* 384 bytes */
    uint8_t cpusvn[16];
    uint32_t miscselect;
    uint8_t isv_ext_prod_id[16];
    uint8_t attributes[16];
    uint8_t mr_enclave[32];
    uint8_t mr_signer[32];
    uint8_t config_id[64];
    uint16_t isv_prod_id, isv_svn, config_svn;
    uint8_t isv_family_id[16];
    uint8_t report_data[64];
};

/* TD report body (TDX 1.0; the 1.5 fields are zero and has_15 false for TDX 1.0). */
struct vt_td_body {
    const uint8_t *raw;
    size_t raw_len;
    uint8_t tee_tcb_svn[16];
    uint8_t mr_seam[48], mr_signer_seam[48];
    uint64_t seam_attributes, td_attributes, xfam;
    uint8_t mr_td[48], mr_config_id[48], mr_owner[48], mr_owner_config[48];
    uint8_t rtmr[4][48];
    uint8_t report_data[64];
    bool has_15;
    uint8_t tee_tcb_svn2[16];
    uint8_t mr_service_td[48];
};

struct vt_intel_quote {
    /* header */
    uint16_t version, att_key_type;
    uint32_t tee_type;
    uint16_t qe_svn, pce_svn; /* v3 only (reserved in v4/v5) */
    uint8_t qe_vendor_id[16];
    uint8_t user_data[20];
    enum vt_intel_body body_type;
    struct vt_sgx_body sgx;   /* when body_type == SGX */
    struct vt_td_body td;     /* when body_type == TD10/TD15 */
    /* signed region: header || (v5 descriptor) || body */
    const uint8_t *signed_p;
    size_t signed_len;
    uint32_t sig_data_len;
    size_t trailing_len;      /* bytes after the signature data (ignored, unsigned) */
    size_t trailing_nonzero;  /* how many of them are not zero */
    /* signature data */
    const uint8_t *quote_sig;  /* 64: r||s */
    const uint8_t *att_key;    /* 64: x||y */
    uint16_t outer_cert_type;  /* 5 (v3) or 6 (v4/v5) */
    struct vt_sgx_body qe_report;
    const uint8_t *qe_report_sig; /* 64 */
    const uint8_t *qe_auth;
    uint16_t qe_auth_len;
    uint16_t cert_type;        /* innermost: 5 */
    const uint8_t *pck_chain;  /* PEM text (trailing NULs kept) */
    uint32_t pck_chain_len;
};

/* Parse a complete quote. Bytes after the signature data are tolerated and ignored, as Intel
 * QVL does (they are outside every signature); trailing_len / trailing_nonzero report them. */
VT_RESULT vt_intel_quote_parse(const uint8_t *p, size_t len, struct vt_intel_quote *q);
/* Parse one 384-byte SGX report body. */
VT_RESULT vt_sgx_body_parse(struct vt_cur *c, struct vt_sgx_body *b);
/* Cheap plausibility check for raw-evidence dispatch (version, key type, TEE type). */
bool vti_intel_quote_plausible(const uint8_t *p, size_t len);

#endif
