/* SPDX-License-Identifier: Apache-2.0 */
/*
 * az_evidence.h - the Azure vTPM evidence JSON in every shape guest-components has sent.
 *
 *   v0 SNP: {"quote": {"signature": [..], "message": [..], "pcrs": [[..] x24]},
 *            "report": [..HCL report..], "vcek": "PEM"}
 *   v0 TDX: {"tpm_quote": {same, byte arrays}, "hcl_report": [..], "td_quote": [..]}
 *   v1, v2: {"version": 1|2, "tpm_quote": {"signature": hex, "message": hex, "pcrs": [hex x24]},
 *            "hcl_report": base64url, "vcek": base64url DER | "td_quote": base64url}
 * Byte arrays are JSON arrays of integers 0..255. Trust boundary: all of it is untrusted;
 * strict JSON (yajl events, az_evidence.c), at most VT_AZ_MAX_EVIDENCE bytes, 16 deep,
 * 64 members per object, a duplicate member refused in every object.
 */
#ifndef VT_VERIFIERS_AZ_EVIDENCE_H
#define VT_VERIFIERS_AZ_EVIDENCE_H

#include "util/buf.h"

#define VT_AZ_MAX_EVIDENCE (1u << 20)
#define VT_AZ_NPCRS 24

struct vti_az_ev {
    int version;          /* 0, 1 or 2 */
    bool tdx;             /* carries td_quote (else vcek) */
    struct vt_buf sig, msg, hcl, vcek, td_quote;
    bool vcek_pem;        /* v0: PEM text; v1/v2: DER */
    uint8_t pcrs[VT_AZ_NPCRS][32];
};

VT_RESULT vti_az_evidence_parse(const uint8_t *p, size_t len, struct vti_az_ev *ev);
void vti_az_evidence_free(struct vti_az_ev *ev);
/* Cheap shape test for accepts(): 1 SNP, 2 TDX, 0 neither. */
int vti_az_evidence_kind(const uint8_t *p, size_t len);

#endif
