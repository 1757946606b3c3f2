/* SPDX-License-Identifier: Apache-2.0 */
/*
 * openssl_memo.h - the process-wide memo caches of the "openssl" crypto backend
 * (src/crypto/openssl.c): decoded public keys, parsed certificates, trust-anchor stores and
 * parsed X509 objects and successful chain verifications, each keyed by SHA-256 of the exact input bytes. Only for tests and
 * benchmarks: the caches are transparent to every caller of struct vt_crypto_ops.
 */
#ifndef VT_CRYPTO_OPENSSL_MEMO_H
#define VT_CRYPTO_OPENSSL_MEMO_H

#include <stdint.h>

struct vti_ossl_memo_stats {
    uint64_t key_hits, key_misses;
    uint64_t cert_hits, cert_misses;
    uint64_t chain_hits, chain_misses;
    uint64_t store_hits, store_misses; /* trust-anchor stores (on chain misses only) */
    uint64_t x509_hits, x509_misses;   /* parsed X509 objects (cert parses, chain checks) */
};

/* Drop every cached entry (counters are kept). */
void vti_ossl_memo_flush(void);
/* A snapshot of the hit/miss counters since the process started. */
void vti_ossl_memo_stats(struct vti_ossl_memo_stats *out);

#endif
