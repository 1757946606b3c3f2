/* SPDX-License-Identifier: Apache-2.0 */
/*
 * intel_quote_fuzz.c - fuzz target for the Intel DCAP quote parser (vt_intel_quote_parse):
 * header, SGX / TD 1.0 / TD 1.5 bodies, v5 body descriptor, signature data and the
 * certification data nesting (type 6 QE report certification data wrapping type 5 PCK chain).
 * Every successful parse must hand out only views inside the input; checked below.
 */
#include <stdlib.h>
#include <string.h>

#include "evidence/intel_quote.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void in(const uint8_t *data, size_t size, const uint8_t *p, size_t n)
{
    if (n && (!p || p < data || (size_t)(p - data) > size || n > size - (size_t)(p - data)))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vt_intel_quote q;
    bool plausible = vti_intel_quote_plausible(data, size);
    if (vt_intel_quote_parse(data, size, &q).err != 0)
        return 0;
    if (!plausible || q.signed_p != data || q.att_key_type != VT_INTEL_KEY_ECDSA_P256 ||
        (q.tee_type != VT_INTEL_TEE_SGX && q.tee_type != VT_INTEL_TEE_TDX) ||
        (q.version != 3 && q.version != 4 && q.version != 5) ||
        q.trailing_nonzero > q.trailing_len || q.trailing_len > size || q.cert_type != 5)
        abort();
    in(data, size, q.signed_p, q.signed_len);
    in(data, size, q.quote_sig, 64);
    in(data, size, q.att_key, 64);
    in(data, size, q.qe_report.raw, VT_INTEL_SGX_BODY_LEN);
    in(data, size, q.qe_report_sig, 64);
    in(data, size, q.qe_auth, q.qe_auth_len);
    in(data, size, q.pck_chain, q.pck_chain_len);
    if (q.body_type == VT_INTEL_BODY_SGX) {
        in(data, size, q.sgx.raw, VT_INTEL_SGX_BODY_LEN);
        if (q.tee_type != VT_INTEL_TEE_SGX)
            abort();
    } else {
        in(data, size, q.td.raw, q.td.raw_len);
        if (q.tee_type != VT_INTEL_TEE_TDX ||
            q.td.raw_len != (q.td.has_15 ? VT_INTEL_TD15_BODY_LEN : VT_INTEL_TD10_BODY_LEN))
            abort();
    }
    /* the signed region ends before the signature data and is followed by it */
    if (q.signed_len + 4 + q.sig_data_len + q.trailing_len != size)
        abort();
    return 0;
}
