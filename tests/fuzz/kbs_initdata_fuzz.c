/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kbs_initdata_fuzz.c - fuzz target for the init-data TOML scan of the KBS (src/kbs/
 * kbs_initdata.c, vtk_initdata_alg): the whole input is the init-data body. A body it
 * accepts must name one algorithm; a refused one leaves VTK_INITDATA_ALG_NONE. Built by
 * tests/CMakeLists.txt (links vtkbs) as a corpus replay test (corpus:
 * tests/fuzz/corpus/kbs_initdata_fuzz/) and, with VT_FUZZ=ON, for libFuzzer.
 */
#include <stdlib.h>

#include "kbs/kbs_initdata.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    enum vtk_initdata_alg alg = VTK_INITDATA_ALG_OTHER;
    int e = vtk_initdata_alg((const char *)data, size, &alg);
    if (e != 0 && (e != VT_ERR_KBS_INIT_DATA_TOML || alg != VTK_INITDATA_ALG_NONE))
        abort();
    if (e == 0 && (alg < VTK_INITDATA_ALG_NONE || alg > VTK_INITDATA_ALG_OTHER))
        abort();
    return 0;
}
