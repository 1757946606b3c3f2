/*
 * test_plugin.c - a plug-in shared object for plugin_test: registers one explicit-only
 * attester, "test-plugin", that emits null-format evidence ("VTNULL01" || report data).
 * A plug-in sees only the instance ABI (core/instance.h) and the C library.
 */
#include <stdlib.h>
#include <string.h>

#include "core/instance.h"

static vt_res plugin_collect(const struct vti_attest_ctx *ctx, const uint8_t report_data[64],
                             struct vt_buf *evidence, struct vt_buf *endorsements)
{
    (void)ctx;
    (void)endorsements;
    uint8_t *p = malloc(72 + 1);
    if (!p)
        return (vt_res){ VT_ERR_NOMEM };
    memcpy(p, "VTNULL01", 8);
    memcpy(p + 8, report_data, 64);
    p[72] = 0;
    free(evidence->p);
    evidence->p = p;
    evidence->len = 72;
    evidence->cap = 73;
    return (vt_res){ 0 };
}

static const struct vt_attester_ops plugin_attester = {
    .hdr = { VT_INSTANCE_ABI, VT_KIND_ATTESTER, "test-plugin", 0, VT_INST_EXPLICIT },
    .tee = "null",
    .cbor_tag = 0x56544e30u,
    .detect = NULL,
    .collect = plugin_collect,
    .sim_init = NULL,
};

__attribute__((visibility("default"))) int vt_plugin_init(int abi,
                                                          void (*reg)(const struct vt_instance_hdr *));
int vt_plugin_init(int abi, void (*reg)(const struct vt_instance_hdr *))
{
    if (abi != VT_INSTANCE_ABI)
        return -1;
    reg(&plugin_attester.hdr);
    return 0;
}
