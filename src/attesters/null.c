/* SPDX-License-Identifier: Apache-2.0 */
/*
 * null.c - the null TEE: "evidence" that is only a marker and the 64-byte report data, with no
 * signature. For tests of the plumbing. It is insecure by construction: the null attester is
 * used only when named, and the null verifier accepts it only when the caller explicitly
 * allows null evidence (vt_verify_opts.allow_null).
 *
 * Format: "VTNULL01" (8 bytes) || report_data (64 bytes). CBOR tag VT_TAG_NULL in certificates.
 */
#include <string.h>

#include "core/instance.h"
#include "core/report.h"
#include "util/cursor.h"

#define NULL_MAGIC "VTNULL01"
#define VT_TAG_NULL 0x56544e30u /* "VTN0", private-use */

static vt_res null_collect(const struct vti_attest_ctx *ctx, const uint8_t report_data[64],
                           struct vt_buf *evidence, struct vt_buf *endorsements)
{
    (void)ctx;
    (void)endorsements;
    GUARD(vti_buf_append(evidence, NULL_MAGIC, 8));
    return vti_buf_append(evidence, report_data, 64);
}

static const struct vt_attester_ops null_attester = {
    .hdr = { VT_INSTANCE_ABI, VT_KIND_ATTESTER, "null", 0, VT_INST_EXPLICIT, NULL },
    .tee = "null",
    .cbor_tag = VT_TAG_NULL,
    .detect = NULL,
    .collect = null_collect,
    .sim_init = NULL,
};
const struct vt_instance_hdr *const vt_inst_null_attester = &null_attester.hdr;

static bool null_accepts(uint64_t tag, const uint8_t *ev, size_t len)
{
    return (tag == 0 || tag == VT_TAG_NULL) && len == 72 && memcmp(ev, NULL_MAGIC, 8) == 0; /* lint: public magic */
}

static vt_res null_verify(const struct vti_verify_ctx *ctx, const uint8_t *ev, size_t len,
                          struct vt_report *rep)
{
    struct vt_cur c = vti_cur_init(ev, len);
    const uint8_t *magic;
    vti_report_set_tee(rep, "null");
    rep->insecure = true;
    GUARD(vti_cur_view(&c, 8, &magic));
    ENSURE(memcmp(magic, NULL_MAGIC, 8) == 0, VT_ERR_UNKNOWN_EVIDENCE); /* lint: public magic */
    GUARD(vti_cur_copy(&c, rep->report_data, 64));
    GUARD(vti_cur_done(&c));
    rep->has_report_data = true;
    vti_report_step(rep, 1, "null evidence parsed (72 bytes, no signature)");
    bool allowed = ctx->opts && ctx->opts->allow_null;
    vti_report_step(rep, allowed, "null evidence explicitly allowed by the caller: %s",
                    allowed ? "yes" : "no");
    ENSURE(allowed, VT_ERR_INSECURE_NOT_ALLOWED);
    GUARD(vti_claim_bytes(rep, "report_data", rep->report_data, 64));
    return vti_ok();
}

static const struct vt_verifier_ops null_verifier = {
    .hdr = { VT_INSTANCE_ABI, VT_KIND_VERIFIER, "null", 0, VT_INST_EXPLICIT, NULL },
    .tee = "null",
    .accepts = null_accepts,
    .verify = null_verify,
};
const struct vt_instance_hdr *const vt_inst_null_verifier = &null_verifier.hdr;
