/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rim_fuzz.c - fuzz target for NVIDIA RIMs (src/endorsements/nvidia_rim*.c): the hardened XML
 * parse, the signature-structure checks and the SWID extraction without the signature
 * (vti_nv_rim_extract_unsafe, so mutated tags reach the extraction), then the full load with
 * a fixed trust (the pinned NVIDIA RIM root at 2024-06-01, when the two nvtrust test RIMs
 * verify). Invariants: every extracted RIM is within the limits; a load that succeeds implies
 * an extraction that succeeds with the same resources.
 * Seeds: tests/fuzz/corpus/rim_fuzz (hand-made shapes and a sim-signed RIM) and, read-only,
 * $VERITEE_TESTDATA/nvidia (the two nvtrust test RIMs; not copied into the repository).
 */
#include <stdlib.h>
#include <string.h>

#include "endorsements/nvidia_rim.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define AT_2024_06_01 1717200000

static void check_rim(const struct vti_nv_rim *r)
{
    size_t n = vti_nv_rim_n_resources(r);
    enum vti_nv_rim_kind k = vti_nv_rim_kind(r);
    if (n < 1 || n > VTI_NV_RIM_MAX_RESOURCES || (k != VTI_NV_RIM_DRIVER && k != VTI_NV_RIM_VBIOS))
        abort();
    const char *v = vti_nv_rim_version(r);
    if (!v[0] || strlen(v) >= VTI_NV_RIM_VERSION_MAX || !vti_nv_rim_product(r)[0])
        abort();
    for (size_t i = 0; i < n; i++) {
        const struct vti_nv_rim_resource *res = vti_nv_rim_resource(r, i);
        if (!res || res->index > 254 || res->n_alt < 1 || res->n_alt > VTI_NV_RIM_MAX_ALTS)
            abort();
    }
    if (vti_nv_rim_resource(r, n) != NULL)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vti_nv_rim *x = NULL, *v = NULL;
    vt_res rx = vti_nv_rim_extract_unsafe(data, size, &x);
    if ((rx.err == 0) != (x != NULL))
        abort();
    if (x)
        check_rim(x);
    vt_res rv = vti_nv_rim_load(data, size, NULL, AT_2024_06_01, &v);
    if ((rv.err == 0) != (v != NULL))
        abort();
    if (v) {
        check_rim(v);
        if (!x || vti_nv_rim_n_resources(x) != vti_nv_rim_n_resources(v) ||
            vti_nv_rim_insecure_root(v) || !vti_nv_rim_insecure_root(x))
            abort();
    }
    vti_nv_rim_free(x);
    vti_nv_rim_free(v);
    return 0;
}
