/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_plugin.c - a plug-in shared object for plugin_test: registers
 *   - "test-plugin", an explicit-only attester that emits null-format evidence
 *     ("VTNULL01" || report data) and reads option "test.mode";
 *   - "test-greedy", a verifier with a very high priority that accepts null evidence (which
 *     the built-in null verifier handles: it must never be auto-selected for it) and its own
 *     "VTPLUG01" evidence (which no built-in handles: there it is the fallback);
 *   - "test-crypto", a crypto instance with a very high priority (never chosen over a
 *     built-in unless named; its ops are empty and never called).
 * A plug-in sees only the instance ABI (core/instance.h, crypto/crypto.h) and the C library.
 */
#include <stdlib.h>
#include <string.h>

#include "core/instance.h"
#include "core/report.h"
#include "crypto/crypto.h"

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

static const char *const plugin_options[] = { "test.mode", NULL };
static const struct vt_attester_ops plugin_attester = {
    .hdr = { VT_INSTANCE_ABI, VT_KIND_ATTESTER, "test-plugin", 0, VT_INST_EXPLICIT, plugin_options },
    .tee = "null",
    .cbor_tag = 0x56544e30u,
    .detect = NULL,
    .collect = plugin_collect,
    .sim_init = NULL,
};

static bool greedy_accepts(uint64_t tag, const uint8_t *ev, size_t len)
{
    (void)tag;
    return len == 72 && (memcmp(ev, "VTNULL01", 8) == 0 || memcmp(ev, "VTPLUG01", 8) == 0);
}

static vt_res greedy_verify(const struct vti_verify_ctx *ctx, const uint8_t *ev, size_t len,
                            struct vt_report *rep)
{
    (void)ctx;
    (void)ev;
    (void)len;
    (void)rep;
    return (vt_res){ VT_ERR_CALLBACK_REFUSED };
}

static const struct vt_verifier_ops greedy_verifier = {
    .hdr = { VT_INSTANCE_ABI, VT_KIND_VERIFIER, "test-greedy", 1 << 20, 0, NULL },
    .tee = "test",
    .accepts = greedy_accepts,
    .verify = greedy_verify,
};

static const struct vt_crypto_ops greedy_crypto = {
    .hdr = { VT_INSTANCE_ABI, VT_KIND_CRYPTO, "test-crypto", 1 << 20, 0, NULL },
};

__attribute__((visibility("default"))) int vt_plugin_init(int abi,
                                                          void (*reg)(const struct vt_instance_hdr *));
int vt_plugin_init(int abi, void (*reg)(const struct vt_instance_hdr *))
{
    if (abi != VT_INSTANCE_ABI)
        return -1;
    reg(&plugin_attester.hdr);
    reg(&greedy_verifier.hdr);
    reg(&greedy_crypto.hdr);
    return 0;
}
