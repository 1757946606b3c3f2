/* SPDX-License-Identifier: Apache-2.0 */
/*
 * crypto.h - the crypto-wrapper interface (instance kind VT_KIND_CRYPTO).
 *
 * Everything above this tier (certificates, the sim TEE, the tool) does public-key crypto,
 * hashing and X.509 work only through a struct vt_crypto_ops, so that a second backend
 * (wolfCrypt) can implement the same table. The interface is deliberately byte-oriented:
 * keys cross it as PKCS#8 DER (private) or SubjectPublicKeyInfo DER (public), certificates
 * as DER, signatures in the algorithm's standard encoding (ECDSA: DER Ecdsa-Sig-Value,
 * RSA: PKCS#1 v1.5). No backend object ever escapes the backend.
 *
 * Signature hash: P-256 -> SHA-256, P-384 -> SHA-384, RSA-3072 -> SHA-256 (what RA-TLS
 * peers expect); vt_crypto_ops.verify takes the hash explicitly.
 *
 * Helpers that need no backend (PEM framing) are declared at the end (src/crypto/pem.c).
 */
#ifndef VT_CRYPTO_CRYPTO_H
#define VT_CRYPTO_CRYPTO_H

#include "core/instance.h"
#include "util/buf.h"

/* IANA "Named Information Hash Algorithm" ids, as used in RA-TLS pubkey-hash claims. */
enum vt_hash_alg { VT_HASH_SHA256 = 1, VT_HASH_SHA384 = 7, VT_HASH_SHA512 = 8 };
#define VT_HASH_MAX_LEN 64

/* Digest length of alg, 0 for an unknown id. */
size_t vti_hash_len(int alg);

/* A view of DER bytes (not owned). */
struct vt_der {
    const uint8_t *p;
    size_t len;
};

/* One extra certificate extension: OID in dotted text, DER contents of the OCTET STRING. */
struct vt_x509_ext {
    const char *oid;
    bool critical;
    const uint8_t *value;
    size_t len;
};

#define VT_CERT_MAX_EXTS 24

struct vt_cert_params {
    const char *subject;         /* "CN=...,O=...,C=..." (comma-separated, no escapes) */
    int64_t not_before, not_after; /* Unix seconds */
    uint64_t serial;             /* 0: random 63-bit serial */
    bool is_ca;                  /* basicConstraints CA:TRUE + keyUsage keyCertSign/cRLSign */
    struct vt_der key;           /* PKCS#8 private key of the subject (self-signed) ... */
    struct vt_der subject_spki;  /* ... or, when issuer_key is set, the subject's public key */
    struct vt_der issuer_key;    /* PKCS#8 issuer key; empty = self-signed by key */
    struct vt_der issuer_cert;   /* issuer certificate (for the issuer name and AKI) */
    const struct vt_x509_ext *exts;
    size_t n_exts;
};

/* What a backend tells about a parsed certificate (owned copies; free with vti_cert_info_free). */
struct vt_cert_ext_info {
    char oid[96];            /* dotted text as the backend prints it (no names) */
    struct vt_buf oid_der;   /* the OID's content bytes (without 06 len), for exact matching */
    bool critical;
    struct vt_buf value;     /* extnValue OCTET STRING contents */
};

struct vt_cert_info {
    char subject[256];       /* RFC 2253 style, e.g. "CN=RATS-TLS,O=Inclavare Containers" */
    char issuer[256];
    int64_t not_before, not_after;
    char key_desc[32];       /* "secp256r1", "secp384r1", "rsa3072", ... */
    char sig_alg[48];        /* e.g. "ecdsa-with-SHA256" */
    bool sig_alg_null_params; /* ECDSA AlgorithmIdentifier with an explicit NULL (rats-rs) */
    bool self_issued;        /* issuer name == subject name */
    bool self_sig_ok;        /* signature verifies with the certificate's own key; computed
                              * only when VT_CERT_PARSE_SELF_SIG was asked for, else false */
    struct vt_buf spki;      /* SubjectPublicKeyInfo DER */
    size_t n_exts;
    struct vt_cert_ext_info exts[VT_CERT_MAX_EXTS];
};
void vti_cert_info_free(struct vt_cert_info *ci);

/* cert_parse flags. VT_CERT_PARSE_SELF_SIG: also verify the certificate's signature with its
 * own public key into self_sig_ok (one signature verification). Ask for it exactly where
 * self_sig_ok is read (the RA-TLS leaf: src/cert/ratls_parse.c); a certificate whose signature
 * is checked against its issuer (chain_verify) or whose signature nobody relies on does not
 * need it. Without the flag self_sig_ok is false: "not checked" never reads as "valid". */
#define VT_CERT_PARSE_SELF_SIG 0x1u
#define VT_CERT_PARSE_FLAGS_ALL VT_CERT_PARSE_SELF_SIG

struct vt_crypto_ops {
    struct vt_instance_hdr hdr; /* kind VT_KIND_CRYPTO */
    /* New private key of type t as PKCS#8 DER. */
    VT_RESULT (*keygen)(enum vt_key_type t, struct vt_buf *pkcs8);
    /* PEM (any private-key type) or DER (PKCS#8 / traditional) -> PKCS#8 DER. */
    VT_RESULT (*key_import)(const uint8_t *in, size_t len, struct vt_buf *pkcs8);
    /* The key type of a PKCS#8 key (VT_ERR_KEY_TYPE for anything else). */
    VT_RESULT (*key_type)(struct vt_der key, enum vt_key_type *out);
    /* SubjectPublicKeyInfo DER of a PKCS#8 private key. */
    VT_RESULT (*key_spki)(struct vt_der key, struct vt_buf *spki);
    /* Digest; out must hold vti_hash_len(alg) bytes. */
    VT_RESULT (*hash)(enum vt_hash_alg alg, const uint8_t *p, size_t n, uint8_t *out);
    /* Sign msg with the key's default hash (see top of file). */
    VT_RESULT (*sign)(struct vt_der key, const uint8_t *msg, size_t n, struct vt_buf *sig);
    /* Verify sig over msg with an SPKI and hash; VT_ERR_SIGNATURE if it does not verify. */
    VT_RESULT (*verify)(struct vt_der spki, enum vt_hash_alg alg, const uint8_t *msg, size_t n,
                        const uint8_t *sig, size_t siglen);
    /* Build and sign an X.509 v3 certificate. */
    VT_RESULT (*cert_create)(const struct vt_cert_params *p, struct vt_buf *cert_der);
    /* Parse a DER certificate (the whole input must be one certificate). flags: a set of
     * VT_CERT_PARSE_* (any other bit: VT_ERR_INVALID_ARG). A signature that does not verify
     * is not an error: self_sig_ok is false and the caller decides. */
    VT_RESULT (*cert_parse)(const uint8_t *der, size_t len, unsigned flags,
                            struct vt_cert_info *out);
    /* chain[0] is the leaf, then intermediates; roots are trust anchors; all valid at `at`.
     * VT_ERR_NOT_TRUSTED if no path to a root. */
    VT_RESULT (*chain_verify)(const struct vt_der *chain, size_t n, const struct vt_der *roots,
                              size_t nroots, int64_t at);
};

/* The named backend, or the highest-priority one when name is NULL. */
VT_RESULT vti_crypto_get(const char *name, const struct vt_crypto_ops **out);

/* ---- PEM (backend independent, src/crypto/pem.c) -------------------------------------- */

#define VT_PEM_MAX_BLOCKS 16

struct vt_pem_list {
    size_t n;
    struct vt_buf der[VT_PEM_MAX_BLOCKS];
};
/* Decode every "-----BEGIN <label>-----" block (other labels are skipped). At least one
 * block must be found (VT_ERR_NOT_FOUND otherwise). */
VT_RESULT vti_pem_decode(const uint8_t *text, size_t len, const char *label,
                         struct vt_pem_list *out);
void vti_pem_list_free(struct vt_pem_list *l);
/* Append a PEM block (64-column base64) to out. */
VT_RESULT vti_pem_encode(const char *label, const uint8_t *der, size_t len, struct vt_buf *out);
/* Does text look like PEM containing label? */
bool vti_pem_has(const uint8_t *text, size_t len, const char *label);

#endif
