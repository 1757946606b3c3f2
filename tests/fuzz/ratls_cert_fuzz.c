/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ratls_cert_fuzz.c - libFuzzer target for RA-TLS certificate parsing: DER X.509 through the
 * crypto backend, then the evidence/endorsements/legacy extensions and the claims buffer, and
 * the display-only evidence peek. Verification (which needs trust anchors) is not run here.
 */
#include <stdint.h>

#include "cert/ratls_parse.h"
#include "crypto/crypto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct vt_crypto_ops *cr;
    if (!cr && vti_crypto_get(NULL, &cr).err)
        return 0;
    struct vti_ratls_cert rc;
    if (vti_ratls_cert_parse(cr, data, size, &rc).err)
        return 0;
    if (rc.has_evidence) {
        char kind[32];
        unsigned v;
        const uint8_t *rd;
        (void)vti_evidence_peek(rc.ev.tag, rc.ev.ev, rc.ev.ev_len, kind, sizeof(kind), &v, &rd);
    }
    vti_ratls_cert_free(&rc);
    return 0;
}
