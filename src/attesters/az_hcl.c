/* SPDX-License-Identifier: Apache-2.0 */
/*
 * az_hcl.c - the Azure HCL report, its variable data, the TDREPORT and the evidence JSON:
 * builders for the sim and the attesters, and the views the attesters need (detection,
 * user-data check, the TDREPORT to send for a TD quote). Layouts in az_vtpm.h.
 * Trust boundary: vti_az_hcl_view and vti_az_user_data_eq read bytes from the vTPM (the
 * attester's own device) with the one HCL parser (evidence/hcl.c); the verifier parses them
 * again.
 */
#include <openssl/evp.h>
#include <string.h>

#include "attesters/az_vtpm.h"
#include "evidence/hcl.h"
#include "evidence/intel_quote.h"
#include "util/codec.h"
#include "util/secmem.h"

#define HCL_VERSION 2u
#define HCL_REQUEST_TYPE 2u
#define IGVM_LEN 20u
#define VAR_MAX (16u << 10)

/* base64url with '=' padding, as serde_with's Base64<UrlSafe> writes it */
static vt_res b64url_padded(const uint8_t *p, size_t n, struct vt_buf *out)
{
    size_t before = out->len;
    GUARD(vti_b64_encode(p, n, true, out));
    while ((out->len - before) % 4)
        GUARD(vti_buf_u8(out, '='));
    return vti_ok();
}

vt_res vti_az_var_data(const uint8_t *n, size_t n_len, uint32_t e, const char *vm_id,
                       const uint8_t user_data[64], struct vt_buf *out)
{
    ENSURE(n && n_len && e && vm_id && strlen(vm_id) < 64, VT_ERR_INVALID_ARG);
    for (const char *c = vm_id; *c; c++)
        ENSURE(*c != '"' && *c != '\\' && (unsigned char)*c >= 0x20, VT_ERR_INVALID_ARG);
    uint8_t eb[4] = { (uint8_t)(e >> 24), (uint8_t)(e >> 16), (uint8_t)(e >> 8), (uint8_t)e };
    size_t skip = 0;
    while (skip < 3 && eb[skip] == 0)
        skip++;
    GUARD(vti_buf_printf(out, "{\"keys\":[{\"kid\":\"HCLAkPub\",\"key_ops\":[\"sign\"],\"kty\":\"RSA\",\"e\":\""));
    GUARD(vti_b64_encode(eb + skip, 4 - skip, true, out));
    GUARD(vti_buf_printf(out, "\",\"n\":\""));
    GUARD(vti_b64_encode(n, n_len, true, out));
    GUARD(vti_buf_printf(out, "\"}],\"vm-configuration\":{\"console-enabled\":false,\"secure-boot\":true,"
                             "\"tpm-enabled\":true,\"vmUniqueId\":\"%s\"},\"user-data\":\"", vm_id));
    char hex[129];
    vti_hex_encode(user_data, 64, hex);
    for (size_t i = 0; i < 128; i++)
        hex[i] = (char)(hex[i] >= 'a' && hex[i] <= 'f' ? hex[i] - 'a' + 'A' : hex[i]);
    GUARD(vti_buf_append(out, hex, 128));
    return vti_buf_printf(out, "\"}");
}

vt_res vti_az_hcl_build(uint32_t report_type, const uint8_t *hw, size_t hw_len,
                        const uint8_t *var, size_t var_len, struct vt_buf *out)
{
    ENSURE(report_type == VTI_AZ_TYPE_SNP || report_type == VTI_AZ_TYPE_TDX, VT_ERR_INVALID_ARG);
    ENSURE(hw && hw_len <= VTI_AZ_HW_LEN && var && var_len > 0 && var_len <= VAR_MAX, VT_ERR_INVALID_ARG);
    GUARD(vti_buf_append(out, "HCLA", 4));
    GUARD(vti_buf_u32le(out, HCL_VERSION));
    GUARD(vti_buf_u32le(out, (uint32_t)(VTI_AZ_HW_OFF + VTI_AZ_HW_LEN + IGVM_LEN + var_len)));
    GUARD(vti_buf_u32le(out, HCL_REQUEST_TYPE));
    GUARD(vti_buf_u32le(out, 0));            /* status */
    GUARD(vti_buf_zeros(out, 12));           /* reserved */
    GUARD(vti_buf_append(out, hw, hw_len));
    GUARD(vti_buf_zeros(out, VTI_AZ_HW_LEN - hw_len));
    GUARD(vti_buf_u32le(out, (uint32_t)(IGVM_LEN + var_len)));
    GUARD(vti_buf_u32le(out, 1));            /* IGVM request data version */
    GUARD(vti_buf_u32le(out, report_type));
    GUARD(vti_buf_u32le(out, 1));            /* report_data_hash_type: SHA-256 */
    GUARD(vti_buf_u32le(out, (uint32_t)var_len));
    return vti_buf_append(out, var, var_len);
}

static vt_res sha384(const uint8_t *p, size_t n, uint8_t out[48])
{
    unsigned int l = 0;
    ENSURE(EVP_Digest(p, n, out, &l, EVP_sha384(), NULL) == 1 && l == 48, VT_ERR_CRYPTO);
    return vti_ok();
}

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

vt_res vti_az_tdreport_from_quote(const uint8_t *quote, size_t len, uint8_t out[VTI_AZ_TDREPORT_LEN])
{
    struct vt_intel_quote q;
    GUARD(vt_intel_quote_parse(quote, len, &q));
    ENSURE(q.body_type == VT_INTEL_BODY_TD10 || q.body_type == VT_INTEL_BODY_TD15, VT_ERR_INVALID_ARG);
    const struct vt_td_body *b = &q.td;
    memset(out, 0, VTI_AZ_TDREPORT_LEN);
    uint8_t *tcb = out + 256, *td = out + 512;
    static const uint8_t valid[8] = { 0xff, 0x01, 0x03 };
    memcpy(tcb, valid, 8);                      /* TEE_TCB_INFO */
    memcpy(tcb + 8, b->tee_tcb_svn, 16);
    memcpy(tcb + 24, b->mr_seam, 48);
    memcpy(tcb + 72, b->mr_signer_seam, 48);
    put64(tcb + 120, b->seam_attributes);
    memcpy(tcb + 128, b->tee_tcb_svn, 16);      /* tee_tcb_svn2 as Azure's TDX module sets it */
    put64(td, b->td_attributes);                /* TDINFO */
    put64(td + 8, b->xfam);
    memcpy(td + 16, b->mr_td, 48);
    memcpy(td + 64, b->mr_config_id, 48);
    memcpy(td + 112, b->mr_owner, 48);
    memcpy(td + 160, b->mr_owner_config, 48);
    for (int i = 0; i < 4; i++)
        memcpy(td + 208 + 48 * i, b->rtmr[i], 48);
    out[0] = 0x81;                              /* REPORTMACSTRUCT: type TDX, subtype 0, version 0 */
    GUARD(sha384(tcb, 239, out + 32));          /* tee_tcb_info_hash */
    GUARD(sha384(td, 512, out + 80));           /* tee_info_hash */
    memcpy(out + 128, b->report_data, 64);
    return vti_ok();
}

/* The attester's view is the one HCL parser's (evidence/hcl.c); any refusal there is
 * VT_ERR_AZ_HCL here (the precise code is the verifier's to report). */
vt_res vti_az_hcl_view(const uint8_t *p, size_t len, struct vti_az_hcl *out)
{
    struct vt_hcl_report h;
    memset(out, 0, sizeof(*out));
    ENSURE(vti_is_ok(vti_hcl_report_parse(p, len, &h)), VT_ERR_AZ_HCL);
    out->version = h.version;
    out->report_type = h.report_type;
    out->hw = h.hw_report;
    out->var = h.var_data;
    out->var_len = h.var_data_len;
    return vti_ok();
}

vt_res vti_az_user_data_eq(const uint8_t *var, size_t var_len, const uint8_t user_data[64], bool *eq)
{
    struct vt_hcl_var_data v;
    *eq = false;
    ENSURE(vti_is_ok(vti_hcl_var_data_parse(var, var_len, &v)), VT_ERR_AZ_HCL);
    vt_res r = v.user_data_len == 64 ? vti_ok() : VT_FAIL(VT_ERR_AZ_HCL);
    if (vti_is_ok(r))
        *eq = vti_ct_eq(v.user_data, user_data, 64);
    vti_hcl_var_data_free(&v);
    return r;
}

vt_res vti_az_evidence_json(const struct vti_az_evidence *e, struct vt_buf *out)
{
    ENSURE(e && (e->version == 1 || e->version == 2) && e->sig && e->msg && e->pcrs && e->hcl &&
               e->extra_name && e->extra, VT_ERR_INVALID_ARG);
    GUARD(vti_buf_printf(out, "{\"version\":%d,\"tpm_quote\":{\"signature\":\"", e->version));
    GUARD(vti_hex_append(out, e->sig, e->sig_len));
    GUARD(vti_buf_printf(out, "\",\"message\":\""));
    GUARD(vti_hex_append(out, e->msg, e->msg_len));
    GUARD(vti_buf_printf(out, "\",\"pcrs\":["));
    for (int i = 0; i < 24; i++) {
        GUARD(vti_buf_printf(out, "%s\"", i ? "," : ""));
        GUARD(vti_hex_append(out, e->pcrs[i], 32));
        GUARD(vti_buf_u8(out, '"'));
    }
    GUARD(vti_buf_printf(out, "]},\"hcl_report\":\""));
    GUARD(b64url_padded(e->hcl, e->hcl_len, out));
    GUARD(vti_buf_printf(out, "\",\"%s\":\"", e->extra_name));
    GUARD(b64url_padded(e->extra, e->extra_len, out));
    return vti_buf_printf(out, "\"}");
}
