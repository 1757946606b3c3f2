/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hcl.h - the Azure paravisor (HCL) attestation report, as the vTPM holds it in NV index
 * 0x01400001, and its variable data (a JSON document with the vTPM attestation key).
 *
 * Layout (little-endian):
 *   0x000  header (32): "HCLA", version (1 or 2), report_size, request_type (2), status (0),
 *          12 reserved bytes
 *   0x020  hardware report (1184): an SNP report, or a TDREPORT (first 1024 bytes) for TDX
 *   0x4C0  IGVM request data (20): data_size (= 20 + var data size), version (1),
 *          report_type (2 = SNP, 4 = TDX), report_data_hash_type (1 = SHA-256), var_data_size
 *   0x4D4  variable data (var_data_size bytes), then padding to the NV index size
 * The NV index is 2600 bytes on current hosts and was 2048 bytes on older ones: the buffer
 * length is not fixed; the variable data must lie inside it (and inside report_size).
 *
 * Trust boundary: every byte is untrusted; views point into the input. No crypto here: the
 * binding (hardware report_data = SHA-256(var data)) is checked by the verifier.
 */
#ifndef VT_EVIDENCE_HCL_H
#define VT_EVIDENCE_HCL_H

#include <jansson.h>

#include "util/buf.h"

#define VT_HCL_HEADER_LEN 0x20u
#define VT_HCL_HW_REPORT_LEN 1184u
#define VT_HCL_TDREPORT_LEN 1024u
#define VT_HCL_IGVM_OFF 0x4C0u
#define VT_HCL_IGVM_LEN 20u
#define VT_HCL_VAR_DATA_OFF 0x4D4u
#define VT_HCL_MAX_LEN (64u * 1024u)
#define VT_HCL_MAX_VAR_DATA (16u * 1024u)
#define VT_HCL_JSON_MAX_DEPTH 8

enum vt_hcl_report_type { VT_HCL_REPORT_SNP = 2, VT_HCL_REPORT_TDX = 4 };

struct vt_hcl_report {
    uint32_t version, report_size, request_type, status;
    const uint8_t *hw_report; /* VT_HCL_HW_REPORT_LEN bytes */
    uint32_t igvm_data_size, igvm_version, report_type, hash_type;
    const uint8_t *var_data;
    uint32_t var_data_len;
};

/* Parse an HCL report buffer (at most VT_HCL_MAX_LEN bytes). */
VT_RESULT vti_hcl_report_parse(const uint8_t *p, size_t len, struct vt_hcl_report *out);

/* TDREPORT fields (TDX module ABI: REPORTMACSTRUCT, TEE_TCB_INFO, TDINFO), by offset. */
enum {
    VT_TDREPORT_REPORT_DATA = 128,   /* 64 */
    VT_TDREPORT_TEE_TCB_SVN = 264,   /* 16 */
    VT_TDREPORT_MRSEAM = 280,        /* 48 */
    VT_TDREPORT_ATTRIBUTES = 512,    /* 8 */
    VT_TDREPORT_XFAM = 520,          /* 8 */
    VT_TDREPORT_MRTD = 528,          /* 48 */
    VT_TDREPORT_MRCONFIGID = 576,    /* 48 */
    VT_TDREPORT_MROWNER = 624,       /* 48 */
    VT_TDREPORT_MROWNERCONFIG = 672, /* 48 */
    VT_TDREPORT_RTMR0 = 720,         /* 4 x 48 */
};

/* The variable data JSON: keys[] (kid "HCLAkPub": RSA JWK), "vm-configuration", "user-data". */
struct vt_hcl_var_data {
    json_t *root;              /* owned */
    struct vt_buf ak_n, ak_e;  /* big-endian modulus and exponent of HCLAkPub */
    uint8_t user_data[64];
    size_t user_data_len;      /* 0 when absent */
    json_t *vm_config;         /* borrowed from root, or NULL */
};
/* Parse (len <= VT_HCL_MAX_VAR_DATA; duplicate keys and depth > VT_HCL_JSON_MAX_DEPTH refused). */
VT_RESULT vti_hcl_var_data_parse(const uint8_t *p, size_t len, struct vt_hcl_var_data *out);
void vti_hcl_var_data_free(struct vt_hcl_var_data *v);

#endif
