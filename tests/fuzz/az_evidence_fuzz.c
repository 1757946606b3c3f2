/* SPDX-License-Identifier: Apache-2.0 */
/*
 * az_evidence_fuzz.c - fuzz target for the Azure vTPM evidence JSON reader (yajl events into
 * captures, then the v0 / v1 / v2 shapes): vti_az_evidence_parse and the accepts() shape test.
 * Seeds: tests/fuzz/corpus/az_evidence_fuzz and, read-only, the real evidence in
 * $VERITEE_TESTDATA/azure.
 */
#include <stdlib.h>

#include "verifiers/az_evidence.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vti_az_ev ev;
    int kind = vti_az_evidence_kind(data, size);
    if (vti_az_evidence_parse(data, size, &ev).err != 0)
        return 0;
    if (ev.version < 0 || ev.version > 2 || kind != (ev.tdx ? 2 : 1))
        abort();
    if (ev.sig.len > 1024 || ev.msg.len > 1024 || ev.hcl.len > 64 * 1024 ||
        ev.vcek.len > 64 * 1024 || ev.td_quote.len > 64 * 1024 || (ev.vcek_pem && ev.version))
        abort();
    vti_az_evidence_free(&ev);
    return 0;
}
