/* SPDX-License-Identifier: Apache-2.0 */
/*
 * spdm.h - SPDM 1.1 GET_MEASUREMENTS request + MEASUREMENTS response (an NVIDIA GPU
 * attestation report): pure, bounded parser.
 *
 * Spec: DMTF DSP0274 1.1.x, "GET_MEASUREMENTS request message" and "MEASUREMENTS response
 * message", DSP0274 "Measurement block" / "DMTF measurement specification format"; the opaque
 * data is NVIDIA's list of [type u16le | size u16le | value] items. The report is the 37-byte
 * request followed by the response; the signature (96-byte raw r||s, ECDSA P-384) is found by
 * walking the response (record length, nonce, opaque length), never by counting from the end.
 * The parser validates the whole structure and hands out views into the caller's buffer. No
 * crypto, no policy, no I/O.
 */
#ifndef VT_EVIDENCE_SPDM_H
#define VT_EVIDENCE_SPDM_H

#include "util/result.h"

#define VT_SPDM_VERSION_11 0x11u
#define VT_SPDM_GET_MEASUREMENTS 0xE0u
#define VT_SPDM_MEASUREMENTS 0x60u
#define VT_SPDM_REQ_LEN 37u
#define VT_SPDM_NONCE_LEN 32u
#define VT_SPDM_SIG_LEN 96u           /* ECDSA P-384 raw r||s */
#define VT_SPDM_DIGEST_LEN 48u        /* SHA-384 */
#define VT_SPDM_MAX_BLOCKS 255u
#define VT_SPDM_MAX_REPORT (256u * 1024u)
#define VT_SPDM_MAX_SLOT 7u
#define VT_SPDM_ALL_BLOCKS 0xFFu      /* request param2: every measurement block */

/* NVIDIA opaque data item types (only these are accepted). */
enum vt_spdm_opaque_type {
    VT_SPDM_OP_CERT_ISSUER_NAME = 1,
    VT_SPDM_OP_CERT_AKI = 2,
    VT_SPDM_OP_DRIVER_VERSION = 3,
    VT_SPDM_OP_GPU_INFO = 4,
    VT_SPDM_OP_SKU = 5,
    VT_SPDM_OP_VBIOS_VERSION = 6,
    VT_SPDM_OP_MANUFACTURER_ID = 7,
    VT_SPDM_OP_TAMPER_DETECTION = 8,
    VT_SPDM_OP_SMC = 9,
    VT_SPDM_OP_VPR = 10,
    VT_SPDM_OP_NVDEC0_STATUS = 11,
    VT_SPDM_OP_MSRSCNT = 12,
    VT_SPDM_OP_CPRINFO = 13,
    VT_SPDM_OP_BOARD_ID = 14,
    VT_SPDM_OP_CHIP_SKU = 15,
    VT_SPDM_OP_CHIP_SKU_MOD = 16,
    VT_SPDM_OP_PROJECT = 17,
    VT_SPDM_OP_PROJECT_SKU = 18,
    VT_SPDM_OP_PROJECT_SKU_MOD = 19,
    VT_SPDM_OP_FWID = 20,
    VT_SPDM_OP_PROTECTED_PCIE_STATUS = 21,
    VT_SPDM_OP_SWITCH_PDI = 22,
    VT_SPDM_OP_FLOORSWEPT_PORTS = 23,
    VT_SPDM_OP_POSITION_ID = 24,
    VT_SPDM_OP_LOCK_SWITCH_STATUS = 25,
    VT_SPDM_OP_GPU_LINK_CONN = 32,
    VT_SPDM_OP_SYS_ENABLE_STATUS = 33,
    VT_SPDM_OP_OPAQUE_DATA_VERSION = 34,
    VT_SPDM_OP_CHIP_INFO = 35,
    VT_SPDM_OP_FEATURE_FLAG = 36,
};
#define VT_SPDM_OP_MAX_TYPE 36u
#define VT_SPDM_VBIOS_LEN 8u
#define VT_SPDM_FWID_LEN 48u

struct vt_spdm_block {
    uint8_t index;          /* 1..254 */
    uint8_t value_type;     /* DMTFSpecMeasurementValueType (bit 7: raw bit stream) */
    const uint8_t *value;   /* digest (48 bytes) or raw bit stream */
    uint16_t value_len;
};

struct vt_spdm_opaque_item {
    uint16_t type;
    const uint8_t *value;
    uint16_t len;
};

struct vt_spdm_report {
    /* request */
    const uint8_t *request;       /* VT_SPDM_REQ_LEN bytes */
    uint8_t version;
    uint8_t req_param1;           /* bit 0: signature requested */
    uint8_t req_index;            /* param2: measurement operation */
    const uint8_t *nonce;         /* 32, the requester's */
    uint8_t slot;
    /* response */
    uint8_t rsp_param1, rsp_param2;
    uint8_t n_blocks;
    uint32_t record_len;
    struct vt_spdm_block blocks[VT_SPDM_MAX_BLOCKS];
    const uint8_t *rsp_nonce;     /* 32, the responder's */
    const uint8_t *opaque;
    uint16_t opaque_len;
    size_t n_opaque;
    struct vt_spdm_opaque_item items[VT_SPDM_OP_MAX_TYPE];
    /* what the signature covers: request || response up to the signature */
    const uint8_t *signed_bytes;
    size_t signed_len;
    const uint8_t *signature;     /* VT_SPDM_SIG_LEN */
    size_t trailing;              /* bytes after the signature (the parse fails if not 0) */
};

/* Parse request || response (len bytes). Fails with the VT_ERR_SPDM_* code of the first
 * violation; VT_ERR_SPDM_TRAILING leaves the whole struct filled and out->trailing set. */
VT_RESULT vti_spdm_parse(const uint8_t *p, size_t len, struct vt_spdm_report *out);

/* The item of a type, or NULL. */
const struct vt_spdm_opaque_item *vti_spdm_opaque_find(const struct vt_spdm_report *r,
                                                       uint16_t type);
/* The block with an index, or NULL. */
const struct vt_spdm_block *vti_spdm_block_find(const struct vt_spdm_report *r, uint8_t index);

/* Text forms used for claims (out: at least 64 bytes). Driver version: the NUL-padded ASCII
 * string (false if it is not printable ASCII); VBIOS: "96.00.9f.00.01" from the 8 bytes. */
bool vti_spdm_driver_version(const struct vt_spdm_opaque_item *it, char out[64]);
bool vti_spdm_vbios_version(const struct vt_spdm_opaque_item *it, char out[64]);

#endif
