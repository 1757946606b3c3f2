/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nvidia_rim_compare.c - GPU SPDM measurements against the driver and VBIOS RIMs, with the
 * rules of nvtrust's local_gpu_verifier (verifier.py): golden = union of the active Resources
 * of both RIMs; an index active in both is an error; RIM index i <-> block i+1; any
 * alternative equal (and of the same length) is a match; index 35 skipped when NVDEC0 is
 * disabled. Digests are public: plain comparisons.
 */
#include <string.h>

#include "endorsements/nvidia_rim_int.h"

#define N_IDX 256

struct golden {
    const struct vti_nv_rim_resource *res[N_IDX];
    enum vti_nv_rim_kind from[N_IDX];
};

static VT_RESULT add_active(struct golden *g, const struct vti_nv_rim *rim)
{
    for (size_t i = 0; i < rim->n_res; i++) {
        const struct vti_nv_rim_resource *r = &rim->res[i];
        if (!r->active)
            continue;
        ENSURE(!g->res[r->index], VT_ERR_NV_RIM_INDEX_CONFLICT);
        g->res[r->index] = r;
        g->from[r->index] = rim->kind;
    }
    return vti_ok();
}

/* meas indexed by block (NULL = absent); a block given twice is refused. */
static VT_RESULT index_meas(const struct vti_nv_meas *meas, size_t n_meas,
                            const struct vti_nv_meas **by_block)
{
    for (size_t i = 0; i < n_meas; i++) {
        ENSURE(meas[i].block < N_IDX && (meas[i].digest || meas[i].len == 0), VT_ERR_INVALID_ARG);
        ENSURE(!by_block[meas[i].block], VT_ERR_NV_RIM_DUP_INDEX);
        by_block[meas[i].block] = &meas[i];
    }
    return vti_ok();
}

static enum vti_nv_mismatch_reason judge(const struct vti_nv_rim_resource *r,
                                         const struct vti_nv_meas *m)
{
    if (!m)
        return VTI_NV_MISMATCH_MISSING;
    if (m->len != VTI_NV_RIM_DIGEST_LEN)
        return VTI_NV_MISMATCH_SIZE;
    for (uint32_t j = 0; j < r->n_alt; j++)
        if (memcmp(r->alt[j], m->digest, VTI_NV_RIM_DIGEST_LEN) == 0) /* lint: public */
            return 0;
    return VTI_NV_MISMATCH_VALUE;
}

vt_res vti_nv_rim_compare(const struct vti_nv_rim *driver, const struct vti_nv_rim *vbios,
                          const struct vti_nv_meas *meas, size_t n_meas, unsigned flags,
                          struct vti_nv_mismatch *out, size_t max, size_t *n_out,
                          size_t *n_compared)
{
    ENSURE(driver && vbios && n_out && (meas || n_meas == 0) && (out || max == 0),
           VT_ERR_INVALID_ARG);
    *n_out = 0;
    if (n_compared)
        *n_compared = 0;
    ENSURE(driver->kind == VTI_NV_RIM_DRIVER && vbios->kind == VTI_NV_RIM_VBIOS,
           VT_ERR_NV_RIM_KIND);
    static const struct golden empty;
    struct golden g = empty;
    GUARD(add_active(&g, driver));
    GUARD(add_active(&g, vbios));
    const struct vti_nv_meas *by_block[N_IDX] = { NULL };
    GUARD(index_meas(meas, n_meas, by_block));
    size_t bad = 0, compared = 0;
    for (uint32_t i = 0; i + 1 < N_IDX; i++) {
        if (!g.res[i] || (i == 35 && (flags & VTI_NV_RIM_NVDEC0_DISABLED)))
            continue;
        compared++;
        enum vti_nv_mismatch_reason why = judge(g.res[i], by_block[i + 1]);
        if (!why)
            continue;
        if (bad < max)
            out[bad] = (struct vti_nv_mismatch){ .index = i, .from = g.from[i], .reason = why };
        bad++;
    }
    *n_out = bad;
    if (n_compared)
        *n_compared = compared;
    ENSURE(bad == 0, VT_ERR_NV_RIM_MISMATCH);
    return vti_ok();
}
