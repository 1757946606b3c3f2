/* SPDX-License-Identifier: Apache-2.0 */
/*
 * secmem.c - zeroize, constant-time compare, secret allocation.
 *
 * OPENSSL_cleanse and CRYPTO_memcmp are the primitives (well reviewed, not optimised away).
 */
#include <stdlib.h>
#include <openssl/crypto.h>

#include "util/secmem.h"

void vti_memzero(void *p, size_t n)
{
    if (p && n)
        OPENSSL_cleanse(p, n);
}

bool vti_ct_eq(const void *a, const void *b, size_t n)
{
    return CRYPTO_memcmp(a, b, n) == 0;
}

void *vti_secret_alloc(size_t n)
{
    return calloc(1, n ? n : 1);
}

void vti_secret_free(void *p, size_t n)
{
    if (!p)
        return;
    vti_memzero(p, n);
    free(p);
}
