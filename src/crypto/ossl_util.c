/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ossl_util.c - OpenSSL glue shared by the OpenSSL-based modules (see ossl_util.h). Handles
 * only bytes OpenSSL itself produced; no parsing of untrusted input.
 */
#include <openssl/crypto.h>

#include "crypto/ossl_util.h"

vt_res vti_ossl_i2d_append(int n, unsigned char *der, int err, struct vt_buf *out)
{
    if (n <= 0 || !der) {
        OPENSSL_free(der);
        return VT_FAIL(err);
    }
    vt_res r = vti_buf_append(out, der, (size_t)n);
    OPENSSL_clear_free(der, (size_t)n);
    return r;
}
