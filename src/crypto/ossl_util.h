/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ossl_util.h - small OpenSSL glue shared by the OpenSSL-based modules (the "openssl" crypto
 * backend and the "openssl" TLS backend). Only code that includes OpenSSL headers uses it.
 */
#ifndef VT_CRYPTO_OSSL_UTIL_H
#define VT_CRYPTO_OSSL_UTIL_H

#include "util/buf.h"

/* Take the result of an OpenSSL `n = i2d_XXX(obj, &der)` call: append the n bytes at der to
 * out, then wipe and free der (so it also serves private keys). n <= 0 or der NULL (the
 * encoding failed) is err. der is freed in every case. */
VT_RESULT vti_ossl_i2d_append(int n, unsigned char *der, int err, struct vt_buf *out);

#endif
