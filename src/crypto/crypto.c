/* SPDX-License-Identifier: Apache-2.0 */
/*
 * crypto.c - backend-independent pieces of the crypto-wrapper tier: backend lookup, digest
 * sizes, and freeing parsed certificate information. See crypto.h.
 */
#include <string.h>

#include "crypto/crypto.h"

size_t vti_hash_len(int alg)
{
    switch (alg) {
    case VT_HASH_SHA256:
        return 32;
    case VT_HASH_SHA384:
        return 48;
    case VT_HASH_SHA512:
        return 64;
    default:
        return 0;
    }
}

vt_res vti_crypto_get(const char *name, const struct vt_crypto_ops **out)
{
    const struct vt_instance_hdr *h = NULL;
    if (name && *name)
        GUARD(vti_instance_find(VT_KIND_CRYPTO, name, &h));
    else
        GUARD(vti_instance_best(VT_KIND_CRYPTO, &h));
    ENSURE(h->kind == VT_KIND_CRYPTO, VT_ERR_INTERNAL);
    *out = (const struct vt_crypto_ops *)h;
    return vti_ok();
}

void vti_cert_info_free(struct vt_cert_info *ci)
{
    if (!ci)
        return;
    vti_buf_free_nowipe(&ci->spki);
    for (size_t i = 0; i < ci->n_exts; i++) {
        vti_buf_free_nowipe(&ci->exts[i].oid_der);
        vti_buf_free_nowipe(&ci->exts[i].value);
    }
    memset(ci, 0, sizeof(*ci));
}
