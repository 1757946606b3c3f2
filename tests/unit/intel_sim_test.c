/* SPDX-License-Identifier: Apache-2.0 */
/*
 * intel_sim_test.c - sim-sgx / sim-tdx: `sim init` PKI, real-format quotes, verified by the
 * Intel verifier with the sim root as an explicit anchor (insecure), with the bundle as
 * --collateral or through the RA-TLS endorsements; the out-of-date PCK gives OutOfDate with
 * advisories, the revoked PCK is refused, Intel's pinned root alone refuses sim quotes.
 */
#include <stdio.h>
#include <sys/stat.h>
#include <string.h>

#include "core/instance.h"
#include "core/report.h"
#include "evidence/intel_quote.h"
#include "util/codec.h"
#include "verifiers/intel_verify.h"
#include "vt_test.h"

static char DIR_[512], ROOT[600], COLL[2][600];

static int verify(const struct vt_buf *ev, const struct vt_buf *endo, const char *coll, bool root,
                  struct vt_report **ret)
{
    const struct vt_instance_hdr *h = NULL;
    if (!vti_is_ok(vti_instance_find(VT_KIND_VERIFIER, "intel", &h)))
        return -1;
    const struct vt_verifier_ops *V = (const struct vt_verifier_ops *)h;
    const char *roots[1] = { ROOT };
    struct vt_verify_opts o;
    memset(&o, 0, sizeof(o));
    o.collateral = coll;
    o.root_ca_files = roots;
    o.n_root_ca_files = root ? 1 : 0;
    int64_t at = 0;
    if (!vti_is_ok(vti_time_parse("2026-01-01T00:00:00Z", &at)))
        return -1;
    struct vti_verify_ctx ctx = { .opts = &o, .at = at, .endorsements = endo ? endo->p : NULL,
                                  .endorsements_len = endo ? endo->len : 0 };
    struct vt_report *rep = vti_report_new();
    CHECK(V->accepts(0, ev->p, ev->len));
    int e = V->verify(&ctx, ev->p, ev->len, rep).err;
    if (ret)
        *ret = rep;
    else
        vt_report_free(rep);
    return e;
}

static int collect(const char *name, const struct vt_option *opt, size_t n, struct vt_buf *ev,
                   struct vt_buf *endo, const char *dir)
{
    const struct vt_instance_hdr *h = NULL;
    if (!vti_is_ok(vti_instance_find(VT_KIND_ATTESTER, name, &h)))
        return -1;
    const struct vt_attester_ops *A = (const struct vt_attester_ops *)h;
    struct vti_attest_ctx ctx = { .sim_dir = dir, .options = opt, .n_options = n };
    uint8_t rd[64];
    for (int i = 0; i < 64; i++)
        rd[i] = (uint8_t)(0xa0 + i);
    return A->collect(&ctx, rd, ev, endo).err;
}

static void one(const char *name, int idx)
{
    fprintf(stderr, "%s\n", name);
    struct vt_buf ev = VT_BUF_INIT, endo = VT_BUF_INIT;
    CHECK_OK(collect(name, NULL, 0, &ev, &endo, DIR_));
    struct vt_intel_quote q;
    CHECK_OK(vt_intel_quote_parse(ev.p, ev.len, &q));
    CHECK(q.version == (idx ? 4 : 3));
    struct vt_report *rep = NULL;
    CHECK_OK(verify(&ev, NULL, COLL[idx], true, &rep));
    CHECK(rep->insecure);
    CHECK(strcmp(rep->tcb_status, "UpToDate") == 0);
    CHECK(rep->has_report_data && rep->report_data[0] == 0xa0);
    vt_report_free(rep);
    /* the whole DIR/intel directory: the TCB Info / QE Identity for this TEE are picked */
    char intel_dir[600];
    snprintf(intel_dir, sizeof(intel_dir), "%s/intel", DIR_);
    CHECK_OK(verify(&ev, NULL, intel_dir, true, &rep));
    CHECK(strcmp(rep->tee, idx ? "tdx" : "sgx") == 0);
    CHECK(strcmp(rep->tcb_status, "UpToDate") == 0);
    vt_report_free(rep);
    /* endorsements from the certificate instead of --collateral */
    CHECK_OK(verify(&ev, &endo, NULL, true, NULL));
    /* Intel's pinned root alone does not trust the sim root; no collateral is an error */
    CHECK_ERR(verify(&ev, NULL, COLL[idx], false, NULL), VT_ERR_INTEL_ROOT_NOT_TRUSTED);
    CHECK_ERR(verify(&ev, NULL, NULL, true, NULL), VT_ERR_INTEL_NO_COLLATERAL);
    vti_buf_free(&ev);
    vti_buf_free(&endo);

    /* sim.measurement */
    struct vt_option m = { "sim.measurement", "00112233" };
    CHECK_OK(collect(name, &m, 1, &ev, NULL, DIR_));
    CHECK_OK(verify(&ev, NULL, COLL[idx], true, &rep));
    const struct vt_claim *c = vt_claims_get(&rep->claims, idx ? "mr_td" : "mr_enclave");
    CHECK(c && c->type == VT_CLAIM_BYTES && c->p[0] == 0x00 && c->p[1] == 0x11 && c->p[4] == 0);
    vt_report_free(rep);
    vti_buf_free(&ev);
    struct vt_option bad = { "sim.measurement", "zz" };
    CHECK_ERR(collect(name, &bad, 1, &ev, NULL, DIR_), VT_ERR_SIM_MEASUREMENT);
    vti_buf_free(&ev);

    /* the out-of-date PCK: OutOfDate with advisories (verify passes: status is policy) */
    struct vt_option o = { "sim.pck", "old" };
    CHECK_OK(collect(name, &o, 1, &ev, NULL, DIR_));
    CHECK_OK(verify(&ev, NULL, COLL[idx], true, &rep));
    CHECK(strcmp(rep->tcb_status, "OutOfDate") == 0);
    c = vt_claims_get(&rep->claims, "advisory_ids");
    CHECK(c && c->type == VT_CLAIM_STRLIST && c->n == 2);
    vt_report_free(rep);
    vti_buf_free(&ev);
    /* the revoked PCK */
    struct vt_option rv = { "sim.pck", "revoked" };
    CHECK_OK(collect(name, &rv, 1, &ev, NULL, DIR_));
    CHECK_ERR(verify(&ev, NULL, COLL[idx], true, NULL), VT_ERR_INTEL_PCK_REVOKED);
    vti_buf_free(&ev);
    /* no sim dir */
    CHECK_ERR(collect(name, NULL, 0, &ev, NULL, NULL), VT_ERR_SIM_NO_DIR);
    vti_buf_free(&ev);
}

/* Several TCB Infos: different identities coexist, the same identity with other bytes is a
 * duplicate; a TDX quote with only SGX collateral still reports the mismatch. */
static void several(void)
{
    struct vt_buf sgx = VT_BUF_INIT, tdx = VT_BUF_INIT;
    CHECK_OK(vti_file_read(COLL[0], 1 << 20, &sgx));
    CHECK_OK(vti_file_read(COLL[1], 1 << 20, &tdx));
    struct vt_intel_collateral c = { 0 };
    bool rec = false;
    CHECK_OK(vti_intel_collateral_add_piece(&c, sgx.p, sgx.len, false, &rec));
    CHECK_OK(vti_intel_collateral_add_piece(&c, tdx.p, tdx.len, false, &rec));
    CHECK_OK(vti_intel_collateral_add_piece(&c, tdx.p, tdx.len, false, &rec)); /* same bytes */
    CHECK(c.n_more_tcb == 1 && c.n_more_qe == 1);
    CHECK(strcmp(vti_intel_collateral_pick_tcb(&c, true, NULL)->id, "TDX") == 0);
    CHECK(strcmp(vti_intel_collateral_pick_tcb(&c, false, NULL)->id, "SGX") == 0);
    CHECK(strcmp(vti_intel_collateral_pick_qe(&c, true)->id, "TD_QE") == 0);
    CHECK(strcmp(vti_intel_collateral_pick_qe(&c, false)->id, "QE") == 0);
    static const uint8_t other_fmspc[6] = { 1, 2, 3, 4, 5, 6 };
    CHECK(vti_intel_collateral_pick_tcb(&c, true, other_fmspc) == &c.tcb_info); /* fallback */
    /* the TDX TCB Info again with one signature bit flipped: same identity, other bytes */
    char *sigp = strstr((char *)tdx.p, "\"tcb_info_signature\"");
    CHECK(sigp != NULL);
    char *hex = strchr(sigp + 20, '"') + 1;
    hex[0] = hex[0] == '0' ? '1' : '0';
    CHECK_ERR(vti_intel_collateral_add_piece(&c, tdx.p, tdx.len, false, &rec),
              VT_ERR_INTEL_COLLATERAL_DUP);
    vti_intel_collateral_free(&c);

    /* a TDX quote against the SGX bundle only: the TCB Info does not fit */
    struct vt_buf ev = VT_BUF_INIT;
    CHECK_OK(collect("sim-tdx", NULL, 0, &ev, NULL, DIR_));
    CHECK_ERR(verify(&ev, NULL, COLL[0], true, NULL), VT_ERR_INTEL_TCB_INFO_VERSION);
    vti_buf_free(&ev);
    vti_buf_free(&sgx);
    vti_buf_free(&tdx);
}

int main(void)
{
    CHECK_OK(vti_registry_init(NULL));
    snprintf(DIR_, sizeof(DIR_), "%s/sim", vt_test_tmpdir());
    mkdir(DIR_, 0700);
    const struct vt_instance_hdr *h = NULL;
    CHECK_OK(vti_instance_find(VT_KIND_ATTESTER, "sim-sgx", &h));
    struct vt_buf roots = VT_BUF_INIT;
    CHECK_OK(((const struct vt_attester_ops *)h)->sim_init(DIR_, &roots));
    CHECK(roots.len > 0);
    vti_buf_free(&roots);
    snprintf(ROOT, sizeof(ROOT), "%s/intel/root.pem", DIR_);
    snprintf(COLL[0], sizeof(COLL[0]), "%s/intel/collateral-sgx.json", DIR_);
    snprintf(COLL[1], sizeof(COLL[1]), "%s/intel/collateral-tdx.json", DIR_);
    one("sim-sgx", 0);
    one("sim-tdx", 1);
    several();
    return vt_test_done();
}
