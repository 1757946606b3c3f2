/* SPDX-License-Identifier: Apache-2.0 */
/*
 * snp_report.h - AMD SEV-SNP attestation report (1184 bytes): pure, bounded parser.
 *
 * Spec: AMD SEV Secure Nested Paging Firmware ABI, table "ATTESTATION_REPORT Structure"
 * (see also ../shared/FORMATS.md section 4). The parser validates the whole structure strictly
 * (size, version, signature algorithm, reserved fields, reserved policy/flag bits, zero
 * padding of the signature) and hands out a struct whose views point into the caller's
 * buffer. No crypto, no policy, no I/O.
 */
#ifndef VT_EVIDENCE_SNP_REPORT_H
#define VT_EVIDENCE_SNP_REPORT_H

#include "util/result.h"

#define VT_SNP_REPORT_LEN 0x4A0u
#define VT_SNP_SIGNED_LEN 0x2A0u
#define VT_SNP_SIG_ALGO_ECDSA_P384_SHA384 1u
#define VT_SNP_MIN_VERSION 2u
#define VT_SNP_MAX_VERSION 5u

/* POLICY bits (u64 at 0x008). */
#define VT_SNP_POLICY_SMT (1ull << 16)
#define VT_SNP_POLICY_RESERVED_ONE (1ull << 17)
#define VT_SNP_POLICY_MIGRATE_MA (1ull << 18)
#define VT_SNP_POLICY_DEBUG (1ull << 19)
#define VT_SNP_POLICY_SINGLE_SOCKET (1ull << 20)
#define VT_SNP_POLICY_CXL_ALLOW (1ull << 21)
#define VT_SNP_POLICY_MEM_AES_256_XTS (1ull << 22)
#define VT_SNP_POLICY_RAPL_DIS (1ull << 23)
#define VT_SNP_POLICY_CIPHERTEXT_HIDING (1ull << 24)
#define VT_SNP_POLICY_PAGE_SWAP_DISABLE (1ull << 25)
#define VT_SNP_POLICY_KNOWN_MASK ((1ull << 26) - 1)

/* Signing key (flags bits 4:2). */
enum vt_snp_signer { VT_SNP_SIGNER_VCEK = 0, VT_SNP_SIGNER_VLEK = 1, VT_SNP_SIGNER_NONE = 7 };

/* Product lines. */
enum vt_snp_product { VT_SNP_PRODUCT_UNKNOWN = 0, VT_SNP_PRODUCT_MILAN = 1,
                      VT_SNP_PRODUCT_GENOA = 2, VT_SNP_PRODUCT_TURIN = 3 };
/* "Milan", "Genoa", "Turin" or "unknown". */
const char *vti_snp_product_name(enum vt_snp_product p);
/* From a name ("Milan", "Milan-B0", "milan", "Genoa", "Turin"): UNKNOWN when unrecognised. */
enum vt_snp_product vti_snp_product_from_name(const char *name, size_t len);

/* TCB_VERSION split into components (layout depends on the product line). */
struct vt_snp_tcb {
    uint64_t raw;
    uint8_t fmc;   /* Turin only, else 0 */
    uint8_t bl;
    uint8_t tee;
    uint8_t snp;
    uint8_t ucode;
};
/* Split a raw TCB_VERSION; product decides the layout (UNKNOWN -> Milan/Genoa layout). */
struct vt_snp_tcb vti_snp_tcb_split(uint64_t raw, enum vt_snp_product product);

struct vt_snp_report {
    uint32_t version;
    uint32_t guest_svn;
    uint64_t policy;
    const uint8_t *family_id;       /* 16 */
    const uint8_t *image_id;        /* 16 */
    uint32_t vmpl;
    uint32_t signature_algo;
    uint64_t current_tcb;
    uint64_t platform_info;
    uint32_t flags;                 /* author_key_en, mask_chip_key, signing_key */
    bool author_key_en;
    bool mask_chip_key;
    enum vt_snp_signer signer;
    const uint8_t *report_data;     /* 64 */
    const uint8_t *measurement;     /* 48 */
    const uint8_t *host_data;       /* 32 */
    const uint8_t *id_key_digest;   /* 48 */
    const uint8_t *author_key_digest; /* 48 */
    const uint8_t *report_id;       /* 32 */
    const uint8_t *report_id_ma;    /* 32 */
    uint64_t reported_tcb;
    uint8_t cpuid_fam_id, cpuid_mod_id, cpuid_step; /* v3+, else 0 */
    const uint8_t *chip_id;         /* 64 */
    uint64_t committed_tcb;
    uint8_t current_build, current_minor, current_major;
    uint8_t committed_build, committed_minor, committed_major;
    uint64_t launch_tcb;
    uint64_t launch_mit_vector;     /* v5, else 0 */
    uint64_t current_mit_vector;    /* v5, else 0 */
    const uint8_t *signed_bytes;    /* the 672 signed bytes (0x000..0x29F) */
    size_t signed_len;
    uint8_t sig_r[48], sig_s[48];   /* big-endian, converted from the 72-byte LE fields */
    enum vt_snp_product product;    /* from CPUID (v3+); UNKNOWN for v2 */
};

/*
 * Parse and validate a report. The result's views point into p (which must outlive it).
 * Errors: VT_ERR_SNP_REPORT_SIZE, _VERSION, _SIG_ALGO, _RESERVED, _POLICY, _SIGNING_KEY,
 * VT_ERR_SNP_PRODUCT_UNKNOWN (v3+ with an unknown CPUID family).
 */
VT_RESULT vti_snp_report_parse(const uint8_t *p, size_t len, struct vt_snp_report *out);

/* Does this look like an SNP report (size, version 2..5, algorithm 1)? No full validation. */
bool vti_snp_report_plausible(const uint8_t *p, size_t len);

/* Product line from CPUID family/model (0 when unknown). */
enum vt_snp_product vti_snp_product_from_cpuid(uint8_t family, uint8_t model);

#endif
