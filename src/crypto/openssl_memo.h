/* SPDX-License-Identifier: Apache-2.0 */
/*
 * openssl_memo.h - the process-wide memo caches of the "openssl" crypto backend
 * (src/crypto/openssl.c): decoded public keys, parsed certificates, trust-anchor stores and
 * parsed X509 objects and successful chain verifications, each keyed by SHA-256 of the exact
 * input bytes. Flushes and stats are only for tests and benchmarks; the offer is used by the
 * OpenSSL TLS backend. The caches are transparent to every caller of struct vt_crypto_ops.
 */
#ifndef VT_CRYPTO_OPENSSL_MEMO_H
#define VT_CRYPTO_OPENSSL_MEMO_H

#include <stddef.h>
#include <stdint.h>

struct x509_st; /* OpenSSL's X509 */

struct vti_ossl_memo_stats {
    uint64_t key_hits, key_misses;
    uint64_t cert_hits, cert_misses;
    uint64_t chain_hits, chain_misses;
    uint64_t store_hits, store_misses; /* trust-anchor stores (on chain misses only) */
    uint64_t x509_hits, x509_misses;   /* parsed X509 objects (cert parses, chain checks) */
};

/* The TLS stack's parse of a peer certificate, offered to the X509 memo so that the RA-TLS
 * parser does not decode the same certificate again: x must be the object OpenSSL decoded
 * from exactly der (whole input consumed, as its certificate message processing checks; der
 * = i2d_X509(x), the bytes the verification hook receives). Only successful parses exist to
 * be offered; a changed certificate has another SHA-256 and misses. */
void vti_ossl_memo_offer_x509(const uint8_t *der, size_t len, struct x509_st *x);
/* What a never-seen peer brings: drop the decoded public keys, parsed certificates, parsed
 * X509 objects and successful chain verifications (counters are kept). The trust-anchor
 * stores are kept: they are built from the verifier's configured roots, not from peer input,
 * and are keyed by the exact root bytes, so a changed root file still misses. */
void vti_ossl_memo_flush_peer(void);
/* Drop the trust-anchor stores only (counters are kept). */
void vti_ossl_memo_flush_anchors(void);
/* Drop every cached entry: vti_ossl_memo_flush_peer() and vti_ossl_memo_flush_anchors(). */
void vti_ossl_memo_flush(void);
/* A snapshot of the hit/miss counters since the process started. */
void vti_ossl_memo_stats(struct vti_ossl_memo_stats *out);

#endif
