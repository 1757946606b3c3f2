/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ratls_parse.h - parsing of RA-TLS certificates (internal to src/cert, used by ratls.c, the
 * tool's `cert show`, tests and fuzzers). Pure: no verification policy here, only structure.
 *
 * All pointers in the parsed structs are views into buffers owned by struct vt_cert_info
 * (the backend's owned copies of the extension values); they live until vti_ratls_cert_free.
 */
#ifndef VT_CERT_RATLS_PARSE_H
#define VT_CERT_RATLS_PARSE_H

#include "crypto/crypto.h"

#define VTI_OID_DICE_EVIDENCE "2.23.133.5.4.9"      /* tcg-dice-conceptual-message-wrapper */
#define VTI_OID_DICE_ENDORSEMENTS "2.23.133.5.4.2"  /* tcg-dice-endorsement-manifest */
#define VTI_OID_SGXSDK_QUOTE "1.2.840.113741.1.13.1" /* Intel SGX SDK attested TLS: raw quote */

/* CBOR tags of the evidence extension. */
#define VTI_TAG_INTEL_QUOTE 60000ull   /* SGX/TDX ECDSA quote (IANA) */
#define VTI_TAG_INTEL_REPORT 60001ull  /* TDX report / SGX report type 2 (IANA) */
#define VTI_TAG_SGX_LEGACY_REPORT 60002ull
#define VTI_TAG_SNP_REPORT 0x1a7504ull /* rats-tls private */
#define VTI_TAG_SEV 0x1a7505ull
#define VTI_TAG_CSV 0x1a7506ull
#define VTI_TAG_SIM 0x56545330ull      /* "VTS0": Veritee sim TEE (private use, > 2^24) */
#define VTI_TAG_NULL 0x56544e30ull     /* "VTN0": Veritee null TEE (src/attesters/null.c) */
#define VTI_TAG_AZ_SNP_VTPM 0x1a7510ull /* Veritee private: az-snp-vtpm evidence JSON (docs/azure.md) */
#define VTI_TAG_AZ_TDX_VTPM 0x1a7511ull /* Veritee private: az-tdx-vtpm evidence JSON */
#define VTI_TAG_TPM 0x1a7512ull         /* Veritee private: plain TPM 2.0 evidence JSON (docs/tpm.md) */

#define VTI_RATLS_MAX_CLAIMS 64

struct vti_ratls_claim {
    const uint8_t *name; /* text key (not NUL-terminated) */
    size_t name_len;
    const uint8_t *raw;  /* the value's whole CBOR encoding */
    size_t raw_len;
    bool is_bstr;        /* value is a byte string: p/len is its content */
    const uint8_t *p;
    size_t len;
};

struct vti_ratls_claims {
    int hash_alg;               /* 1 SHA-256, 7 SHA-384, 8 SHA-512 */
    const uint8_t *hash;
    size_t hash_len;
    bool has_nonce;
    const uint8_t *nonce;
    size_t nonce_len;
    size_t n;                   /* every claim in buffer order, pubkey-hash and nonce included */
    struct vti_ratls_claim c[VTI_RATLS_MAX_CLAIMS];
};

struct vti_ratls_evidence {
    uint64_t tag;
    const uint8_t *ev;
    size_t ev_len;
    const uint8_t *claims;
    size_t claims_len;
};

enum vti_ratls_legacy { VTI_LEGACY_NONE = 0, VTI_LEGACY_GRAMINE, VTI_LEGACY_SGXSDK };

struct vti_ratls_cert {
    struct vt_cert_info info;
    bool has_evidence;
    struct vti_ratls_evidence ev;
    struct vti_ratls_claims claims;
    bool has_endorsements;
    const uint8_t *endorsements;
    size_t endorsements_len;
    enum vti_ratls_legacy legacy;
    const uint8_t *legacy_quote;
    size_t legacy_len;
};

/* Name of a known evidence tag ("intel-quote", "snp-report", "sim", ...), NULL if unknown. */
const char *vti_ratls_tag_name(uint64_t tag);
/* A tag we know or that a registered attester emits. */
bool vti_ratls_tag_known(uint64_t tag);

/* The evidence extension value: tag(T)[bstr evidence, bstr claims]. */
VT_RESULT vti_ratls_ext_parse(const uint8_t *p, size_t len, struct vti_ratls_evidence *out);
/* The claims buffer: a map with text keys, "pubkey-hash" required, no duplicate keys. */
VT_RESULT vti_ratls_claims_parse(const uint8_t *p, size_t len, struct vti_ratls_claims *out);
/* A whole DER certificate, its self-signature checked into info.self_sig_ok
 * (VT_CERT_PARSE_SELF_SIG). A certificate without evidence parses (has_evidence false). */
VT_RESULT vti_ratls_cert_parse(const struct vt_crypto_ops *cr, const uint8_t *der, size_t len,
                               struct vti_ratls_cert *out);
void vti_ratls_cert_free(struct vti_ratls_cert *c);

/* Encoders (used by vti_identity_create and the tests). */
VT_RESULT vti_ratls_pubkey_hash_value(const struct vt_crypto_ops *cr, int alg,
                                      const uint8_t *spki, size_t spki_len, struct vt_buf *out);
VT_RESULT vti_ratls_ext_build(uint64_t tag, const uint8_t *ev, size_t ev_len,
                              const uint8_t *claims, size_t claims_len, struct vt_buf *out);

/* Display only (UNVERIFIED): quote/report version and report data read at the fixed
 * offsets of FORMATS.md sections 1 and 4. false if the layout is not recognised. */
bool vti_evidence_peek(uint64_t tag, const uint8_t *ev, size_t len, char *kind, size_t kindlen,
                       unsigned *version, const uint8_t **report_data);

#endif
