/* SPDX-License-Identifier: Apache-2.0 */
/*
 * spdm_fuzz.c - fuzz target for the SPDM 1.1 GET_MEASUREMENTS / MEASUREMENTS parser
 * (vti_spdm_parse) and the DiceTcbInfo FWID reader (vti_dice_fwid, both shapes) on the same
 * bytes. Every successful parse must satisfy the invariants checked below.
 */
#include <stdlib.h>
#include <string.h>

#include "evidence/dice_tcb.h"
#include "evidence/spdm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_report(const struct vt_spdm_report *r, const uint8_t *data, size_t size)
{
    if (r->signed_bytes != data || r->signed_len + VT_SPDM_SIG_LEN != size ||
        r->signature != data + r->signed_len || r->trailing != 0 ||
        r->nonce != data + 4 || r->version != VT_SPDM_VERSION_11 || !(r->req_param1 & 1) ||
        r->n_opaque > VT_SPDM_OP_MAX_TYPE)
        abort();
    unsigned prev = 0;
    for (unsigned i = 0; i < r->n_blocks; i++) {
        const struct vt_spdm_block *b = &r->blocks[i];
        if (vti_spdm_block_find(r, b->index) != b)
            abort();
        if (b->index <= prev || b->value < data || b->value + b->value_len > data + r->signed_len ||
            (!(b->value_type & 0x80) && b->value_len != VT_SPDM_DIGEST_LEN))
            abort();
        prev = b->index;
    }
    for (size_t i = 0; i < r->n_opaque; i++) {
        const struct vt_spdm_opaque_item *it = &r->items[i];
        if (it->value < r->opaque || it->value + it->len > r->opaque + r->opaque_len ||
            (it->type == VT_SPDM_OP_FWID && it->len != VT_SPDM_FWID_LEN))
            abort();
    }
    char v[64];
    (void)vti_spdm_driver_version(vti_spdm_opaque_find(r, VT_SPDM_OP_DRIVER_VERSION), v);
    if (vti_spdm_vbios_version(vti_spdm_opaque_find(r, VT_SPDM_OP_VBIOS_VERSION), v) &&
        strlen(v) != 14)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct vt_spdm_report r;
    vt_res res = vti_spdm_parse(data, size, &r);
    if (res.err == 0)
        check_report(&r, data, size);
    else if (res.err == VT_ERR_SPDM_TRAILING && r.trailing == 0)
        abort();
    for (int shape = 0; shape < 2; shape++) {
        const uint8_t *fw = NULL;
        if (vti_dice_fwid(data, size, (enum vt_dice_shape)shape, &fw).err == 0 &&
            (fw < data || fw + VT_DICE_FWID_LEN > data + size))
            abort();
    }
    return 0;
}
