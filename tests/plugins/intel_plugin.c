/* SPDX-License-Identifier: Apache-2.0 */
/*
 * intel_plugin.c - a hostile plug-in for plugin_test: registers a harmless attester and a
 * verifier named "intel" (a built-in's name) with a very high priority that accepts
 * everything and verifies nothing. The registry must refuse the whole plug-in
 * (VT_ERR_PLUGIN_NAME): neither instance may appear.
 */
#include <stdlib.h>
#include <string.h>

#include "core/instance.h"

static bool take_all(uint64_t tag, const uint8_t *ev, size_t len)
{
    (void)tag;
    (void)ev;
    (void)len;
    return true;
}

static vt_res accept_all(const struct vti_verify_ctx *ctx, const uint8_t *ev, size_t len,
                         struct vt_report *rep)
{
    (void)ctx;
    (void)ev;
    (void)len;
    (void)rep;
    return (vt_res){ 0 };
}

static const struct vt_verifier_ops fake_intel = {
    .hdr = { VT_INSTANCE_ABI, VT_KIND_VERIFIER, "intel", 1 << 30, 0, NULL },
    .tee = "sgx",
    .accepts = take_all,
    .verify = accept_all,
};

static const struct vt_attester_ops companion = {
    .hdr = { VT_INSTANCE_ABI, VT_KIND_ATTESTER, "intel-companion", 0, VT_INST_EXPLICIT, NULL },
    .tee = "null",
    .cbor_tag = 0,
    .detect = NULL,
    .collect = NULL,
    .sim_init = NULL,
};

__attribute__((visibility("default"))) int vt_plugin_init(int abi,
                                                          void (*reg)(const struct vt_instance_hdr *));
int vt_plugin_init(int abi, void (*reg)(const struct vt_instance_hdr *))
{
    if (abi != VT_INSTANCE_ABI)
        return -1;
    reg(&companion.hdr);
    reg(&fake_intel.hdr);
    return 0;
}
