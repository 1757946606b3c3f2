/* SPDX-License-Identifier: Apache-2.0 */
/*
 * az_vtpm.c - the Azure confidential VM attesters "az-snp-vtpm" and "az-tdx-vtpm": evidence
 * from the vTPM that Azure's paravisor (HCL) provides, in the JSON shape Confidential
 * Containers' guest-components sends (evidence version 2; layouts in az_vtpm.h).
 *
 * collect(report_data):
 *   1. version 2 (default): write the 64 report-data bytes to NV 0x01400002; the paravisor
 *      then regenerates the HCL report with "user-data" = hex of those bytes (guest-components
 *      does the same write). Option az.evidence_version=1 skips this (user-data unbound).
 *      az.hcl=sim (INSECURE, tests on swtpm): the attester plays the paravisor itself and
 *      re-provisions the TPM with the sim PKI of --sim-dir / $VERITEE_SIM_DIR (az_sim.c: a new
 *      AK and an HCL report whose user-data is the report data); default az.hcl=azure.
 *   2. read the HCL report from NV 0x01400001; its report type must be this attester's
 *      (2 SNP, 4 TDX: VT_ERR_AZ_HCL_TYPE otherwise, never a fall-back); version 2: its
 *      user-data must equal the report data (VT_ERR_AZ_USER_DATA: fail closed).
 *   3. TPM2_Quote of PCRs 0-23 (SHA-256) with the AK at 0x81000003; extraData (the nonce) =
 *      report_data[0..n) where n = az.nonce_len if given (0..64), else the report data with its
 *      trailing zero bytes removed. For attested TLS the report data is SHA-256(RA-TLS claims)
 *      || 0^32, so extraData holds those 32 hash bytes (less any trailing zero bytes); a
 *      verifier zero-pads extraData to 64 bytes to compare with the binding. Azure's vTPM
 *      accepts at most 48 bytes of qualifying data: longer nonces fail there (VT_ERR_TPM).
 *   4. SNP: the VCEK (DER) from the local THIM endpoint (az.vcek_url); TDX: the TD quote for
 *      the TDREPORT inside the HCL report from the local quote endpoint (az.quote_url).
 * detect(): the TCTI opens (for device: TCTIs the device node exists), NV 0x01400001 holds a
 * well-formed HCL report, and its report type is this attester's.
 *
 * Options (both): tpm.tcti (default device:/dev/tpmrm0), az.evidence_version (2 | 1),
 * az.nonce_len (0..64), az.hcl (azure | sim); az-snp-vtpm: az.vcek_url; az-tdx-vtpm: az.quote_url. Any other tpm.* or
 * az.* name is refused with VT_ERR_AZ_OPTION (the per-instance option lists below are meant for
 * hdr.options once the registry has them).
 * RA-TLS: the evidence is the JSON text; CBOR tags VTI_TAG_AZ_SNP_VTPM (0x1a7510) and
 * VTI_TAG_AZ_TDX_VTPM (0x1a7511) (private use, this project's). No endorsements.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attesters/az_vtpm.h"
#include "attesters/sim_common.h"
#include "attesters/tpm_dev.h"
#include "cert/ratls_parse.h"
#include "core/instance.h"
#include "util/secmem.h"


static const char *const az_snp_options[] = { "tpm.tcti", "az.evidence_version", "az.nonce_len",
                                              "az.hcl", "az.vcek_url", NULL };
static const char *const az_tdx_options[] = { "tpm.tcti", "az.evidence_version", "az.nonce_len",
                                              "az.hcl", "az.quote_url", NULL };

static bool listed(const char *const *l, const char *name)
{
    for (; *l; l++)
        if (strcmp(*l, name) == 0)
            return true;
    return false;
}

/* tpm.* and az.* names must be ones these attesters read. */
static vt_res check_options(const struct vti_attest_ctx *ctx)
{
    for (size_t i = 0; ctx && i < ctx->n_options; i++) {
        const char *n = ctx->options[i].name;
        ENSURE(n, VT_ERR_INVALID_ARG);
        if (strncmp(n, "tpm.", 4) && strncmp(n, "az.", 3))
            continue;
        ENSURE(listed(az_snp_options, n) || listed(az_tdx_options, n), VT_ERR_AZ_OPTION);
    }
    return vti_ok();
}

struct az_params {
    const char *tcti;
    const char *sim_dir; /* az.hcl=sim: play the paravisor with this sim PKI */
    int version;
    size_t nonce_len;
};

static vt_res params(const struct vti_attest_ctx *ctx, const uint8_t rd[64], struct az_params *p)
{
    GUARD(check_options(ctx));
    p->tcti = vti_option(ctx, "tpm.tcti", VTI_TPM_DEFAULT_TCTI);
    const char *v = vti_option(ctx, "az.evidence_version", "2");
    ENSURE(strcmp(v, "1") == 0 || strcmp(v, "2") == 0, VT_ERR_AZ_OPTION);
    p->version = v[0] - '0';
    const char *hcl = vti_option(ctx, "az.hcl", "azure");
    ENSURE(strcmp(hcl, "azure") == 0 || strcmp(hcl, "sim") == 0, VT_ERR_AZ_OPTION);
    p->sim_dir = NULL;
    if (strcmp(hcl, "sim") == 0) {
        p->sim_dir = vti_sim_dir(ctx);
        ENSURE(p->sim_dir, VT_ERR_SIM_NO_DIR);
    }
    const char *nl = vti_option(ctx, "az.nonce_len", NULL);
    if (nl) {
        char *end = NULL;
        unsigned long n = strtoul(nl, &end, 10);
        ENSURE(nl[0] >= '0' && nl[0] <= '9' && end && !*end && n <= 64, VT_ERR_AZ_OPTION);
        p->nonce_len = n;
    } else {
        p->nonce_len = 64;
        while (p->nonce_len > 0 && rd[p->nonce_len - 1] == 0)
            p->nonce_len--;
    }
    return vti_ok();
}

/* Steps 1-3: the HCL report (checked) and the quote. */
static vt_res from_tpm(const struct az_params *p, const char *tee, uint32_t type, const uint8_t rd[64],
                       struct vt_buf *hcl, struct vti_tpm_quote *q)
{
    const struct vti_tpm_ops *ops = vti_tpm_ops();
    struct vti_tpm *t = NULL;
    GUARD(ops->open(p->tcti, &t));
    vt_res r = vti_ok();
    if (p->version == 2)
        GUARD_GOTO(ops->nv_write(t, VTI_AZ_NV_USER_DATA, rd, 64), r, out);
    if (p->sim_dir)
        GUARD_GOTO(vti_az_sim_provision_tpm(t, tee, p->sim_dir, rd, NULL), r, out);
    r = ops->nv_read(t, VTI_AZ_NV_HCL, hcl);
    if (r.err == VT_ERR_NOT_FOUND)
        r = VT_FAIL(VT_ERR_AZ_HCL);
    GUARD_GOTO(r, r, out);
    struct vti_az_hcl v;
    GUARD_GOTO(vti_az_hcl_view(hcl->p, hcl->len, &v), r, out);
    ENSURE_GOTO(v.report_type == type, VT_ERR_AZ_HCL_TYPE, r, out);
    if (p->version == 2) {
        bool eq = false;
        GUARD_GOTO(vti_az_user_data_eq(v.var, v.var_len, rd, &eq), r, out);
        ENSURE_GOTO(eq, VT_ERR_AZ_USER_DATA, r, out);
    }
    r = ops->quote(t, VTI_AZ_AK_HANDLE, rd, p->nonce_len, q);
    if (!r.err && q->ecdsa) /* the paravisor's AK is RSA; the evidence carries raw RSASSA */
        r = VT_FAIL(VT_ERR_TPM_QUOTE_CHECK);
out:
    ops->close(t);
    return r;
}

static vt_res collect(const struct vti_attest_ctx *ctx, uint32_t type, const uint8_t rd[64],
                      struct vt_buf *evidence)
{
    struct az_params p;
    GUARD(params(ctx, rd, &p));
    struct vt_buf hcl = VT_BUF_INIT, extra = VT_BUF_INIT;
    struct vti_tpm_quote q = { VT_BUF_INIT, VT_BUF_INIT, { { 0 } }, VT_BUF_INIT, false };
    vt_res r = from_tpm(&p, type == VTI_AZ_TYPE_SNP ? "az-snp-vtpm" : "az-tdx-vtpm", type, rd, &hcl, &q);
    if (!r.err && type == VTI_AZ_TYPE_SNP) {
        r = vti_az_fetch_vcek(vti_option(ctx, "az.vcek_url", VTI_AZ_DEFAULT_VCEK_URL), &extra);
    } else if (!r.err) {
        uint8_t tdreport[VTI_AZ_TDREPORT_LEN];
        memcpy(tdreport, hcl.p + VTI_AZ_HW_OFF, sizeof(tdreport)); /* checked by the view */
        r = vti_az_fetch_td_quote(vti_option(ctx, "az.quote_url", VTI_AZ_DEFAULT_QUOTE_URL),
                                  tdreport, &extra);
    }
    if (!r.err) {
        struct vti_az_evidence e = {
            .version = p.version, .sig = q.signature.p, .sig_len = q.signature.len,
            .msg = q.message.p, .msg_len = q.message.len, .pcrs = (const uint8_t(*)[32])q.pcrs,
            .hcl = hcl.p, .hcl_len = hcl.len, .extra_name = type == VTI_AZ_TYPE_SNP ? "vcek" : "td_quote",
            .extra = extra.p, .extra_len = extra.len,
        };
        r = vti_az_evidence_json(&e, evidence);
    }
    vti_tpm_quote_free(&q);
    vti_buf_free_nowipe(&hcl);
    vti_buf_free_nowipe(&extra);
    return r;
}

static bool detect(const struct vti_attest_ctx *ctx, uint32_t type)
{
    const char *tcti = vti_option(ctx, "tpm.tcti", VTI_TPM_DEFAULT_TCTI);
    if (strncmp(tcti, "device:", 7) == 0 && access(tcti + 7, R_OK | W_OK) != 0)
        return false;
    if (strcmp(tcti, "device") == 0 && access("/dev/tpmrm0", R_OK | W_OK) != 0)
        return false;
    const struct vti_tpm_ops *ops = vti_tpm_ops();
    struct vti_tpm *t = NULL;
    if (ops->open(tcti, &t).err)
        return false;
    struct vt_buf hcl = VT_BUF_INIT;
    struct vti_az_hcl v;
    bool yes = vti_is_ok(ops->nv_read(t, VTI_AZ_NV_HCL, &hcl)) &&
               vti_is_ok(vti_az_hcl_view(hcl.p, hcl.len, &v)) && v.report_type == type;
    ops->close(t);
    vti_buf_free_nowipe(&hcl);
    return yes;
}

static bool snp_detect(const struct vti_attest_ctx *ctx) { return detect(ctx, VTI_AZ_TYPE_SNP); }
static bool tdx_detect(const struct vti_attest_ctx *ctx) { return detect(ctx, VTI_AZ_TYPE_TDX); }

static vt_res snp_collect(const struct vti_attest_ctx *ctx, const uint8_t rd[64],
                          struct vt_buf *evidence, struct vt_buf *endorsements)
{
    (void)endorsements;
    return collect(ctx, VTI_AZ_TYPE_SNP, rd, evidence);
}

static vt_res tdx_collect(const struct vti_attest_ctx *ctx, const uint8_t rd[64],
                          struct vt_buf *evidence, struct vt_buf *endorsements)
{
    (void)endorsements;
    return collect(ctx, VTI_AZ_TYPE_TDX, rd, evidence);
}

/* Priority above snp (50) and tdx: on Azure those devices are absent anyway, and the vTPM
 * path is the one that works there. */
static const struct vt_attester_ops az_snp_attester = {
    .hdr = { VT_INSTANCE_ABI, VT_KIND_ATTESTER, "az-snp-vtpm", 60, 0, az_snp_options },
    .tee = "az-snp-vtpm",
    .cbor_tag = VTI_TAG_AZ_SNP_VTPM,
    .detect = snp_detect,
    .collect = snp_collect,
    .sim_init = NULL,
};
const struct vt_instance_hdr *const vt_inst_az_snp_vtpm_attester = &az_snp_attester.hdr;

static const struct vt_attester_ops az_tdx_attester = {
    .hdr = { VT_INSTANCE_ABI, VT_KIND_ATTESTER, "az-tdx-vtpm", 60, 0, az_tdx_options },
    .tee = "az-tdx-vtpm",
    .cbor_tag = VTI_TAG_AZ_TDX_VTPM,
    .detect = tdx_detect,
    .collect = tdx_collect,
    .sim_init = NULL,
};
const struct vt_instance_hdr *const vt_inst_az_tdx_vtpm_attester = &az_tdx_attester.hdr;
