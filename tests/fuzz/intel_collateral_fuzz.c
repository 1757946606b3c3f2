/* SPDX-License-Identifier: Apache-2.0 */
/*
 * intel_collateral_fuzz.c - fuzz target for the Intel collateral loaders and parsers: a piece
 * recognised by content (PCS TCB Info / QE Identity body with the exact signed span, CRL in
 * DER / PEM / hex, PEM chain, dcap-qvl bundle), the RA-TLS endorsements CBOR (and writing it
 * back), the signed-span extractor and the TCB Info / QE Identity JSON parsers.
 * Invariants: spans stay inside the input; a loaded collateral re-encodes and re-loads.
 */
#include <stdlib.h>
#include <string.h>

#include "endorsements/intel_collateral.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void roundtrip(const struct vt_intel_collateral *c)
{
    if (!c->tcb_info.present || !c->qe_identity.present)
        return;
    struct vt_buf e = VT_BUF_INIT;
    if (vti_intel_collateral_to_endorsements(c, &e).err == 0) {
        struct vt_intel_collateral d = { 0 };
        if (vti_intel_collateral_from_endorsements(e.p, e.len, &d).err != 0 ||
            d.tcb_info.body.len != c->tcb_info.body.len ||
            memcmp(d.tcb_info.body.p, c->tcb_info.body.p, d.tcb_info.body.len) != 0 ||
            memcmp(d.qe_identity.sig, c->qe_identity.sig, 64) != 0)
            abort();
        vti_intel_collateral_free(&d);
    }
    vti_buf_free_nowipe(&e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct vt_intel_tcb_info t;
    static struct vt_intel_qe_identity qi;
    struct vt_intel_collateral c = { 0 };
    bool rec = false;
    (void)vti_intel_collateral_add_piece(&c, data, size, false, &rec).err;
    roundtrip(&c);
    vti_intel_collateral_free(&c);

    if (vti_intel_collateral_from_endorsements(data, size, &c).err == 0)
        roundtrip(&c);
    vti_intel_collateral_free(&c);

    static const char *const keys[] = { "tcbInfo", "enclaveIdentity", "signature", "tcb_info" };
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        const uint8_t *vp = NULL;
        size_t vl = 0;
        if (vti_json_raw_member(data, size, keys[i], &vp, &vl).err == 0 &&
            (vp < data || vl > size || (size_t)(vp - data) > size - vl))
            abort();
    }
    if (vti_intel_tcb_info_parse(data, size, &t).err == 0 &&
        (t.n_levels == 0 || t.n_levels > VT_INTEL_MAX_LEVELS || t.n_modules > VT_INTEL_MAX_MODULES))
        abort();
    if (vti_intel_qe_identity_parse(data, size, &qi).err == 0 &&
        (qi.n_levels == 0 || qi.n_levels > VT_INTEL_MAX_LEVELS))
        abort();
    return 0;
}
