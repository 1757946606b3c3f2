/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ossl_util.c - OpenSSL glue shared by the OpenSSL-based modules (see ossl_util.h). Handles
 * only bytes OpenSSL itself produced; no parsing of untrusted input.
 */
#include <openssl/crypto.h>
#include <openssl/ecdsa.h>

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

vt_res vti_ossl_ecdsa_verify_rs(EVP_PKEY *key, const EVP_MD *md, const uint8_t *r,
                                const uint8_t *s, size_t n, const uint8_t *msg, size_t len,
                                int err)
{
    vt_res res = VT_FAIL(err);
    ECDSA_SIG *sig = ECDSA_SIG_new();
    BIGNUM *br = BN_bin2bn(r, (int)n, NULL), *bs = BN_bin2bn(s, (int)n, NULL);
    unsigned char *der = NULL;
    EVP_MD_CTX *mc = EVP_MD_CTX_new();
    if (!sig || !br || !bs || !mc || ECDSA_SIG_set0(sig, br, bs) != 1) {
        BN_free(br);
        BN_free(bs);
        res = VT_FAIL(VT_ERR_NOMEM);
        goto out;
    }
    int dlen = i2d_ECDSA_SIG(sig, &der);
    if (dlen <= 0)
        res = VT_FAIL(VT_ERR_NOMEM);
    else if (EVP_DigestVerifyInit(mc, NULL, md, NULL, key) == 1 &&
             EVP_DigestVerify(mc, der, (size_t)dlen, msg, len) == 1)
        res = vti_ok();
out:
    EVP_MD_CTX_free(mc);
    OPENSSL_free(der);
    ECDSA_SIG_free(sig);
    return res;
}
