/* SPDX-License-Identifier: Apache-2.0 */
/*
 * intel_qe_memo_test.c - the QE report signature memo of a cached Intel trust entry
 * (vti_intel_qe_report_sig_ok, intel_chain.c) never makes a changed QE report or signature
 * pass: with the original quote's QE report remembered, every single-byte change of the QE
 * report (384 bytes) and of its signature (64 bytes) of a real SGX v3 and TDX v4 quote is
 * refused with VT_ERR_INTEL_QE_REPORT_SIGNATURE, exactly as with no memo; the original still
 * verifies afterwards, from the memo (its hit counter moves).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/instance.h"
#include "core/report.h"
#include "endorsements/intel_collateral.h"
#include "evidence/intel_quote.h"
#include "util/codec.h"
#include "verifiers/intel_chain.h"
#include "verifiers/intel_verify.h"
#include "vt_test.h"

static int64_t AT;

static int run(const uint8_t *q, size_t n, const struct vt_intel_collateral *col)
{
    struct vt_verify_opts opts;
    memset(&opts, 0, sizeof(opts));
    struct vti_verify_ctx ctx = { .opts = &opts, .at = AT };
    struct vt_report *rep = vti_report_new();
    vt_res r = vti_intel_verify_with(&ctx, col, q, n, rep);
    vt_report_free(rep);
    return r.err;
}

/* The original verifies from the memo: the hit counter moves. */
static void original_from_memo(const struct vt_buf *qb, const struct vt_intel_collateral *col)
{
    uint64_t h = vti_intel_qe_memo_hits();
    CHECK_OK(run(qb->p, qb->len, col));
    CHECK(vti_intel_qe_memo_hits() == h + 1);
}

/* Every byte of [off, off + n) changed (two different bit flips) is refused with the code. */
static size_t flips(const struct vt_buf *qb, size_t off, size_t n,
                    const struct vt_intel_collateral *col, int want)
{
    uint8_t *m = malloc(qb->len);
    size_t refused = 0;
    CHECK(m != NULL);
    for (size_t i = off; i < off + n; i++) {
        static const uint8_t bits[] = { 0x01, 0x80 };
        for (size_t b = 0; b < sizeof(bits); b++) {
            memcpy(m, qb->p, qb->len);
            m[i] ^= bits[b];
            int e = run(m, qb->len, col);
            CHECK_ERR(e, want);
            refused += e == want;
        }
    }
    free(m);
    return refused;
}

static void one(const char *quote, const char *bundle, bool tdx)
{
    fprintf(stderr, "quote %s\n", quote);
    CHECK_OK(vti_time_parse("2025-06-19T12:00:00Z", &AT));
    struct vt_buf qb = vt_testdata_read(quote);
    struct vt_intel_collateral col = { 0 };
    CHECK_OK(vti_intel_collateral_load_path(vt_testdata(bundle), &col));
    CHECK_OK(run(qb.p, qb.len, &col)); /* fills the trust cache and the memo */
    original_from_memo(&qb, &col);
    struct vt_intel_quote q;
    CHECK_OK(vt_intel_quote_parse(qb.p, qb.len, &q));
    size_t qe = q.signed_len + 4 + 128 + (tdx ? 6 : 0); /* the QE report, then its signature */
    CHECK(qb.p + qe == q.qe_report.raw);
    CHECK(q.qe_report_sig == q.qe_report.raw + VT_INTEL_SGX_BODY_LEN);
    size_t n = flips(&qb, qe, VT_INTEL_SGX_BODY_LEN, &col, VT_ERR_INTEL_QE_REPORT_SIGNATURE);
    CHECK(n == 2 * VT_INTEL_SGX_BODY_LEN);
    original_from_memo(&qb, &col);
    n = flips(&qb, qe + VT_INTEL_SGX_BODY_LEN, 64, &col, VT_ERR_INTEL_QE_REPORT_SIGNATURE);
    CHECK(n == 2 * 64);
    original_from_memo(&qb, &col);
    vti_intel_collateral_free(&col);
    vti_buf_free(&qb);
}

int main(void)
{
    CHECK_OK(vti_registry_init(NULL));
    one("sgx/dcapqvl_sgx_quote_v3.bin", "sgx/dcapqvl_sgx_quote_v3_collateral.json", false);
    one("tdx/dcapqvl_tdx_quote_v4_b0c06f.bin", "tdx/dcapqvl_tdx_quote_v4_b0c06f_collateral.json",
        true);
    return vt_test_done();
}
