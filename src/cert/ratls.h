/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ratls.h - the contract between the attested-TLS API and TLS layer (src/api, src/tls) and the RA-TLS
 * certificate module (src/cert): build an identity (key + certificate carrying evidence),
 * and verify a peer certificate (evidence + key binding).
 *
 * Certificate format: Interoperable RA-TLS (../shared/DESIGN.md section 4, FORMATS.md section
 * 6): extension 2.23.133.5.4.9, non-critical, CBOR tag(T)[bstr evidence, bstr claims]; claims =
 * CBOR map {"pubkey-hash": bstr(CBOR [alg, hash(SPKI DER)]), "nonce"?, custom...};
 * report_data = SHA-256(claims) || 32 zero bytes.
 */
#ifndef VT_CERT_RATLS_H
#define VT_CERT_RATLS_H

#include "core/instance.h"
#include "core/report.h"
#include "util/buf.h"

struct vt_crypto_ops; /* src/crypto/crypto.h */

struct vti_identity {
    struct vt_buf key_der;  /* PKCS#8 private key, DER (secret: wiped on free) */
    struct vt_buf cert_der; /* X.509 certificate, DER */
};

struct vti_identity_params {
    const struct vt_crypto_ops *crypto;   /* NULL: best available */
    enum vt_key_type key_type;
    const struct vt_attester_ops *attester; /* NULL: an ordinary self-signed certificate */
    const struct vti_attest_ctx *attest_ctx;
    const struct vt_custom_claim *claims;
    size_t n_claims;
    const uint8_t *nonce;                 /* optional "nonce" claim */
    size_t nonce_len;
    /* Added by the cert module (optional; zero/NULL = defaults): */
    const char *subject;                  /* NULL: "CN=Veritee RA-TLS,O=Veritee" */
    int64_t not_before, not_after;        /* 0: now - 1 hour .. now + 365 days */
};

/* Generate a key, collect evidence over it and build the certificate. */
VT_RESULT vti_identity_create(const struct vti_identity_params *p, struct vti_identity *out);
/* Load an ordinary certificate + key from PEM files instead (broker, tests). */
VT_RESULT vti_identity_load(const char *cert_file, const char *key_file, struct vti_identity *out);
void vti_identity_free(struct vti_identity *id);

/*
 * Verify a peer's leaf certificate (DER): parse the RA-TLS extension, check the self-
 * signature, dispatch the evidence to its verifier, check pubkey-hash against the
 * certificate's SPKI and the claims hash against all 64 bytes of report data, and the nonce
 * when opts->nonce is set. *ret is always set (a report with err and steps) unless out of
 * memory. Returns VT_ERR_NO_EVIDENCE for a certificate without evidence.
 */
VT_RESULT vti_cert_verify(const struct vt_verify_opts *opts, const uint8_t *der, size_t len,
                          struct vt_report **ret);

#endif
