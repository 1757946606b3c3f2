/* SPDX-License-Identifier: Apache-2.0 */
/*
 * az_vtpm.h - Azure confidential VM (paravisor / HCL) pieces shared by the az-snp-vtpm and
 * az-tdx-vtpm attesters (az_vtpm.c), their sim provisioning (az_sim.c, `veritee sim
 * azure-vtpm`) and the unit tests: the HCL report and its variable data, the TDREPORT the HCL
 * carries for TDX, the evidence JSON guest-components sends, and the local endpoints.
 *
 * HCL report (NV index 0x01400001), all integers little-endian:
 *   0x000 header: "HCLA", version (2), report_size (= 32 + 1184 + 20 + var size),
 *         request_type (2), status (0), 12 reserved bytes
 *   0x020 hardware report, 1184 bytes (SNP report; TDX: the 1024-byte TDREPORT, zero-padded)
 *   0x4C0 IGVM request data: data_size (= 20 + var size), version (1), report_type (2 SNP,
 *         4 TDX), report_data_hash_type (1 = SHA-256), variable_data_size
 *   0x4D4 variable data: JSON {"keys":[{"kid":"HCLAkPub",...RSA JWK}],"vm-configuration":{..},
 *         "user-data":"<64 bytes, upper-case hex>"}
 * The hardware report's report_data is SHA-256(variable data) || 32 zero bytes.
 */
#ifndef VT_ATTESTERS_AZ_VTPM_H
#define VT_ATTESTERS_AZ_VTPM_H

#include "util/buf.h"

#define VTI_AZ_NV_HCL 0x01400001u       /* the HCL report */
#define VTI_AZ_NV_USER_DATA 0x01400002u /* 64 bytes the HCL copies into user-data */
#define VTI_AZ_AK_HANDLE 0x81000003u    /* the vTPM attestation key */
#define VTI_AZ_HW_OFF 0x20u
#define VTI_AZ_HW_LEN 1184u
#define VTI_AZ_IGVM_OFF 0x4C0u
#define VTI_AZ_VAR_OFF 0x4D4u
#define VTI_AZ_TYPE_SNP 2u
#define VTI_AZ_TYPE_TDX 4u
#define VTI_AZ_TDREPORT_LEN 1024u
#define VTI_AZ_DEFAULT_VCEK_URL "http://169.254.169.254/metadata/THIM/amd/certification"
#define VTI_AZ_DEFAULT_QUOTE_URL "http://169.254.169.254/acc/tdquote"

/* ---- building (sim provisioning, tests) ------------------------------------------------ */

/* The variable data JSON: the AK (RSA modulus n, exponent e) as JWK "HCLAkPub", a fixed
 * sim vm-configuration with vmUniqueId vm_id, and user-data = upper-case hex of user_data. */
VT_RESULT vti_az_var_data(const uint8_t *n, size_t n_len, uint32_t e, const char *vm_id,
                          const uint8_t user_data[64], struct vt_buf *out);
/* The HCL report: header version 2, hw (at most 1184 bytes, zero-padded), IGVM request data
 * of report_type (2 or 4) with hash type 1, then var. Exactly 0x4D4 + var_len bytes. */
VT_RESULT vti_az_hcl_build(uint32_t report_type, const uint8_t *hw, size_t hw_len,
                           const uint8_t *var, size_t var_len, struct vt_buf *out);
/* A TDREPORT (1024 bytes) carrying the fields of a TDX quote's TD body: REPORTMACSTRUCT
 * (type 0x81, TEE_TCB_INFO and TDINFO hashes = SHA-384 of those parts, the body's
 * report_data, zero MAC), TEE_TCB_INFO (valid ff 01 03.., svn, mrseam, mrsignerseam,
 * attributes), TDINFO (attributes, xfam, mrtd, mrconfigid, mrowner, mrownerconfig,
 * rtmr0-3). */
VT_RESULT vti_az_tdreport_from_quote(const uint8_t *quote, size_t len, uint8_t out[VTI_AZ_TDREPORT_LEN]);

/* ---- reading what the vTPM holds ------------------------------------------------------- */

struct vti_az_hcl {
    uint32_t version, report_type;
    const uint8_t *hw;   /* VTI_AZ_HW_LEN bytes */
    const uint8_t *var;
    size_t var_len;
};
/* Bounded view of an HCL report: "HCLA", version 1 or 2, IGVM version 1, report type 2 or 4,
 * hash type 1, variable data inside the buffer; VT_ERR_AZ_HCL otherwise. */
VT_RESULT vti_az_hcl_view(const uint8_t *p, size_t len, struct vti_az_hcl *out);
/* Does the variable data's "user-data" (hex, either case) equal user_data? */
VT_RESULT vti_az_user_data_eq(const uint8_t *var, size_t var_len, const uint8_t user_data[64],
                              bool *eq);

/* ---- evidence ------------------------------------------------------------------------ */

struct vti_az_evidence {
    int version;                      /* 1 or 2 */
    const uint8_t *sig, *msg;         /* TPM quote: raw signature, TPMS_ATTEST */
    size_t sig_len, msg_len;
    const uint8_t (*pcrs)[32];        /* 24 SHA-256 PCR values */
    const uint8_t *hcl;
    size_t hcl_len;
    const char *extra_name;           /* "vcek" (DER) or "td_quote" */
    const uint8_t *extra;
    size_t extra_len;
};
/* Compact JSON in guest-components' field order: {"version":V,"tpm_quote":{"signature":hex,
 * "message":hex,"pcrs":[hex x24]},"hcl_report":b64url,"<extra_name>":b64url}; hex lower-case,
 * base64url with '=' padding (serde_with's UrlSafe). */
VT_RESULT vti_az_evidence_json(const struct vti_az_evidence *e, struct vt_buf *out);

/* ---- the local endpoints (az_imds.c; libcurl) ------------------------------------------ */

/* GET url with header "Metadata: true"; the JSON's "vcekCert" (PEM) as DER. */
VT_RESULT vti_az_fetch_vcek(const char *url, struct vt_buf *der);
/* POST {"report":"<b64url TDREPORT>"} to url; the JSON's "quote" (base64url) decoded. */
VT_RESULT vti_az_fetch_td_quote(const char *url, const uint8_t tdreport[VTI_AZ_TDREPORT_LEN],
                                struct vt_buf *quote);

/* ---- sim provisioning (az_sim.c) -------------------------------------------------------- */

/* Provision the vTPM at tcti like Azure's paravisor does, with INSECURE sim hardware reports:
 * create the AK at 0x81000003, build the variable data with user_data, have the sim-snp
 * (tee "az-snp-vtpm") or sim-tdx ("az-tdx-vtpm") attester of sim_dir produce a report over
 * SHA-256(var data), wrap it in an HCL report and write it to NV 0x01400001. For TDX also
 * writes sim_dir/azure/tdreport.bin and td_quote.bin (what a fake quote endpoint serves).
 * On success *ak_n (if not NULL) receives the AK modulus. */
VT_RESULT vti_az_sim_provision(const char *tcti, const char *tee, const char *sim_dir,
                               const uint8_t user_data[64], struct vt_buf *ak_n);
/* The same on an open TPM connection (the attesters' az.hcl=sim mode). */
struct vti_tpm;
VT_RESULT vti_az_sim_provision_tpm(struct vti_tpm *t, const char *tee, const char *sim_dir,
                                   const uint8_t user_data[64], struct vt_buf *ak_n);

#endif
