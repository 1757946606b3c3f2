/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pck_ext_fuzz.c - fuzz target for the PCK certificate SGX extension parser
 * (vti_pck_ext_parse): nested DER TLVs with short and long lengths, OIDs of the SGX arc,
 * INTEGER / OCTET STRING values. Checked: a successful parse is deterministic and a parse of
 * every strict prefix of an accepted input fails (DER is length-prefixed, so no prefix of a
 * complete extension is complete).
 */
#include <stdlib.h>
#include <string.h>

#include "evidence/pck_ext.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vt_pck_ext a, b;
    memset(&a, 0, sizeof(a));
    if (vti_pck_ext_parse(data, size, &a).err != 0)
        return 0;
    memset(&b, 0, sizeof(b));
    if (vti_pck_ext_parse(data, size, &b).err != 0 || memcmp(&a, &b, sizeof(a)) != 0)
        abort();
    if (size > 0 && vti_pck_ext_parse(data, size - 1, &b).err == 0)
        abort();
    return 0;
}
