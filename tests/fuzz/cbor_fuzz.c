/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cbor_fuzz.c - libFuzzer target for the bounded CBOR decoder and the RA-TLS CBOR layers:
 * the input is tried as a generic item, as an evidence extension value and as a claims buffer.
 * Any crash, sanitizer report or out-of-bounds view is a bug.
 */
#include <stdint.h>
#include <stdlib.h>

#include "util/cbor.h"
#include "cert/ratls_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    (void)vti_cbor_check(data, size).err;
    struct vti_ratls_evidence ev;
    if (vti_ratls_ext_parse(data, size, &ev).err == 0) {
        if (ev.ev + ev.ev_len > data + size || ev.claims + ev.claims_len > data + size)
            abort();
        struct vti_ratls_claims cl;
        (void)vti_ratls_claims_parse(ev.claims, ev.claims_len, &cl).err;
    }
    struct vti_ratls_claims cl;
    if (vti_ratls_claims_parse(data, size, &cl).err == 0) {
        for (size_t i = 0; i < cl.n; i++)
            if (cl.c[i].raw + cl.c[i].raw_len > data + size)
                abort();
    }
    return 0;
}
