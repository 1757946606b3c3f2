/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ossl_util.h - small OpenSSL glue shared by the OpenSSL-based modules (the "openssl" crypto
 * backend and the "openssl" TLS backend). Only code that includes OpenSSL headers uses it.
 */
#ifndef VT_CRYPTO_OSSL_UTIL_H
#define VT_CRYPTO_OSSL_UTIL_H

#include <openssl/evp.h>

#include "util/buf.h"

/* Take the result of an OpenSSL `n = i2d_XXX(obj, &der)` call: append the n bytes at der to
 * out, then wipe and free der (so it also serves private keys). n <= 0 or der NULL (the
 * encoding failed) is err. der is freed in every case. */
VT_RESULT vti_ossl_i2d_append(int n, unsigned char *der, int err, struct vt_buf *out);

/* ECDSA verification of a raw signature r || s (each n bytes, big-endian: SEV-SNP reports,
 * SPDM measurements) over msg, hashed with md, by key. ok when it verifies; `err` when it does
 * not; VT_ERR_NOMEM when the signature cannot be built or DER-encoded. */
VT_RESULT vti_ossl_ecdsa_verify_rs(EVP_PKEY *key, const EVP_MD *md, const uint8_t *r,
                                   const uint8_t *s, size_t n, const uint8_t *msg, size_t len,
                                   int err);

#endif
