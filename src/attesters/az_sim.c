/* SPDX-License-Identifier: Apache-2.0 */
/*
 * az_sim.c - provisions a TPM (swtpm in the tests) like Azure's paravisor provisions a CVM's
 * vTPM, with INSECURE sim hardware reports (`veritee sim azure-vtpm`, see az_vtpm.h):
 *   1. AK: RSA-2048 restricted signing key, RSASSA SHA-256, persistent at 0x81000003;
 *   2. variable data JSON with the AK as JWK "HCLAkPub", a sim vm-configuration and
 *      user-data = the given 64 bytes;
 *   3. hardware report over SHA-256(var data) || 0^32 from the sim-snp attester (an SNP
 *      report), or for TDX from the sim-tdx attester (a TD quote) turned into the TDREPORT
 *      with the same fields; the TD quote and TDREPORT are saved in SIM_DIR/azure/ for the
 *      fake quote endpoint of the tests;
 *   4. the HCL report written to NV 0x01400001 (its natural length: swtpm's NV indices hold
 *      at most 2048 bytes, Azure pads to 2600; a reader uses the sizes in the report).
 * Only for tests and development: whoever holds the sim directory can forge all of this.
 */
#include <errno.h>
#include <openssl/evp.h>
#include <string.h>
#include <sys/stat.h>

#include "attesters/az_vtpm.h"
#include "attesters/sim_common.h"
#include "attesters/tpm_dev.h"
#include "core/instance.h"

static vt_res hw_report(const char *sim_dir, bool tdx, const uint8_t rd[64], struct vt_buf *hw)
{
    const struct vt_instance_hdr *h;
    GUARD(vti_instance_find(VT_KIND_ATTESTER, tdx ? "sim-tdx" : "sim-snp", &h));
    const struct vt_attester_ops *a = (const struct vt_attester_ops *)h;
    struct vti_attest_ctx ctx = { .sim_dir = sim_dir };
    struct vt_buf ev = VT_BUF_INIT;
    vt_res r = a->collect(&ctx, rd, &ev, NULL);
    if (!r.err && !tdx) {
        r = vti_buf_append(hw, ev.p, ev.len);
    } else if (!r.err) {
        uint8_t tdr[VTI_AZ_TDREPORT_LEN];
        char path[4096];
        r = vti_az_tdreport_from_quote(ev.p, ev.len, tdr);
        if (!r.err)
            r = vti_sim_path(sim_dir, "azure", NULL, path, sizeof(path));
        if (!r.err && mkdir(path, 0700) != 0 && errno != EEXIST)
            r = VT_FAIL(VT_ERR_IO);
        if (!r.err)
            r = vti_sim_path(sim_dir, "azure", "td_quote.bin", path, sizeof(path));
        if (!r.err)
            r = vti_file_write(path, ev.p, ev.len, 0644);
        if (!r.err)
            r = vti_sim_path(sim_dir, "azure", "tdreport.bin", path, sizeof(path));
        if (!r.err)
            r = vti_file_write(path, tdr, sizeof(tdr), 0644);
        if (!r.err)
            r = vti_buf_append(hw, tdr, sizeof(tdr));
    }
    vti_buf_free_nowipe(&ev);
    return r;
}

static vt_res build(struct vti_tpm *t, const char *sim_dir, bool tdx, const uint8_t user_data[64],
                    struct vt_buf *ak_n)
{
    const struct vti_tpm_ops *ops = vti_tpm_ops();
    struct vt_buf n = VT_BUF_INIT, var = VT_BUF_INIT, hw = VT_BUF_INIT, hcl = VT_BUF_INIT;
    uint32_t e = 0;
    uint8_t rd[64] = { 0 };
    unsigned int dl = 0;
    vt_res r = ops->ak_create(t, VTI_AZ_AK_HANDLE, &n, &e);
    if (!r.err)
        r = vti_az_var_data(n.p, n.len, e, tdx ? "00000000-5349-4d00-0000-000000000004"
                                                : "00000000-5349-4d00-0000-000000000002",
                            user_data, &var);
    if (!r.err && (EVP_Digest(var.p, var.len, rd, &dl, EVP_sha256(), NULL) != 1 || dl != 32))
        r = VT_FAIL(VT_ERR_CRYPTO);
    if (!r.err)
        r = hw_report(sim_dir, tdx, rd, &hw);
    if (!r.err)
        r = vti_az_hcl_build(tdx ? VTI_AZ_TYPE_TDX : VTI_AZ_TYPE_SNP, hw.p, hw.len, var.p, var.len, &hcl);
    if (!r.err)
        r = ops->nv_write(t, VTI_AZ_NV_HCL, hcl.p, hcl.len);
    if (!r.err && ak_n)
        r = vti_buf_append(ak_n, n.p, n.len);
    vti_buf_free_nowipe(&n);
    vti_buf_free_nowipe(&var);
    vti_buf_free_nowipe(&hw);
    vti_buf_free_nowipe(&hcl);
    return r;
}

vt_res vti_az_sim_provision_tpm(struct vti_tpm *t, const char *tee, const char *sim_dir,
                                const uint8_t user_data[64], struct vt_buf *ak_n)
{
    ENSURE(t && tee && sim_dir && user_data, VT_ERR_INVALID_ARG);
    bool tdx = strcmp(tee, "az-tdx-vtpm") == 0;
    ENSURE(tdx || strcmp(tee, "az-snp-vtpm") == 0, VT_ERR_INVALID_ARG);
    GUARD(vti_registry_init(NULL));
    return build(t, sim_dir, tdx, user_data, ak_n);
}

vt_res vti_az_sim_provision(const char *tcti, const char *tee, const char *sim_dir,
                            const uint8_t user_data[64], struct vt_buf *ak_n)
{
    const struct vti_tpm_ops *ops = vti_tpm_ops();
    struct vti_tpm *t = NULL;
    GUARD(ops->open(tcti ? tcti : VTI_TPM_DEFAULT_TCTI, &t));
    vt_res r = vti_az_sim_provision_tpm(t, tee, sim_dir, user_data, ak_n);
    ops->close(t);
    return r;
}
