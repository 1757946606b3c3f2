/* SPDX-License-Identifier: Apache-2.0 */
/*
 * options_test.c - instance options (vt_option NAME=VALUE) are checked against the names the
 * registered instances declare (core/instance.h): an unknown name is VT_ERR_UNKNOWN_OPTION
 * from vti_options_check, vt_verify and vt_ctx_new; a name of an instance not used in the run
 * (intel.* while verifying SNP evidence) is accepted; the library's own "verify.at" too.
 */
#include "core/instance.h"
#include "vt_test.h"

static void check_names(void)
{
    const struct vt_instance_hdr *h = NULL;
    CHECK_OK(vti_instance_find(VT_KIND_ATTESTER, "sim-tdx", &h));
    CHECK(vti_instance_knows(h, "sim.debug") && vti_instance_knows(h, "sim.measurement"));
    CHECK(!vti_instance_knows(h, "tdx.tsm_dir") && !vti_instance_knows(NULL, "sim.debug"));
    CHECK_OK(vti_instance_find(VT_KIND_VERIFIER, "intel", &h));
    CHECK(vti_instance_knows(h, "intel.pccs_url"));

    struct vt_option ok[] = { { "sim.debug", "1" },       { "tdx.tsm_dir", "/x" },
                              { "intel.pccs_url", "u" },  { "snp.kds_url", "u" },
                              { "verify.at", "1" },       { "sgx.attestation_dir", "/d" } };
    size_t bad = 99;
    CHECK_OK(vti_options_check(ok, VT_ARRAY_LEN(ok), &bad));
    CHECK(bad == 99);
    CHECK_OK(vti_options_check(NULL, 0, NULL));

    struct vt_option typo[] = { { "sim.debug", "1" }, { "tdx.tsmdir", "/x" } };
    CHECK_ERR(vti_options_check(typo, 2, &bad), VT_ERR_UNKNOWN_OPTION);
    CHECK(bad == 1);
    struct vt_option noprefix[] = { { "debug", "1" } };
    CHECK_ERR(vti_options_check(noprefix, 1, &bad), VT_ERR_UNKNOWN_OPTION);
    CHECK(bad == 0);
    struct vt_option pccs[] = { { "intel.pccs_ulr", "u" } };
    CHECK_ERR(vti_options_check(pccs, 1, NULL), VT_ERR_UNKNOWN_OPTION);
    struct vt_option noname[] = { { NULL, "1" } };
    CHECK_ERR(vti_options_check(noname, 1, NULL), VT_ERR_INVALID_ARG);
    CHECK_ERR(vti_options_check(NULL, 1, NULL), VT_ERR_INVALID_ARG);
    CHECK(vt_err_category(VT_ERR_UNKNOWN_OPTION) == VT_CAT_USAGE);
}

static void check_api(void)
{
    static const uint8_t junk[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
    struct vt_option typo = { "snp.kds_ulr", "http://127.0.0.1:1" };
    struct vt_verify_opts o = { .options = &typo, .n_options = 1, .at = 1 };
    vt_report *rep = NULL;
    CHECK_ERR(vt_verify(&o, junk, sizeof(junk), &rep), VT_ERR_UNKNOWN_OPTION);
    CHECK(rep && vt_report_error(rep) == VT_ERR_UNKNOWN_OPTION);
    vt_report_free(rep);
    rep = NULL;
    /* an option of another verifier than the one used is accepted (here: no verifier fits) */
    struct vt_option other = { "intel.cache_dir", "/nonexistent" };
    o.options = &other;
    CHECK_ERR(vt_verify(&o, junk, sizeof(junk), &rep), VT_ERR_UNKNOWN_EVIDENCE);
    vt_report_free(rep);

    struct vt_config cfg = { .role = VT_ROLE_CLIENT, .attester = "none", .options = &typo,
                             .n_options = 1 };
    vt_ctx *ctx = NULL;
    CHECK_ERR(vt_ctx_new(&cfg, &ctx), VT_ERR_UNKNOWN_OPTION);
    CHECK(ctx == NULL);
    cfg.options = &other;
    CHECK_OK(vt_ctx_new(&cfg, &ctx));
    vt_ctx_free(ctx);
}

int main(void)
{
    check_names();
    check_api();
    return vt_test_done();
}
