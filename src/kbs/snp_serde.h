/* SPDX-License-Identifier: Apache-2.0 */
/*
 * snp_serde.h - the guest-components SNP evidence shape: {"attestation_report": <serde JSON of
 * the virtee/sev crate's AttestationReport (6.x)>, "cert_chain": [<CertTableEntry>] | null},
 * mapped back to the raw 1184-byte report and an SNP_GET_EXT_REPORT certificate table.
 */
#ifndef VT_KBS_SNP_SERDE_H
#define VT_KBS_SNP_SERDE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "util/buf.h"

#define VTK_SNP_REPORT_LEN 1184u

/*
 * ev is the whole primary_evidence object (exactly the keys attestation_report and
 * cert_chain). On success report holds the 1184 rebuilt bytes and table the certificate
 * table built from cert_chain (empty when cert_chain is null or names no ARK/ASK/VCEK/VLEK).
 * On failure (any field missing, unknown, of the wrong type, length or range) returns false
 * and writes the reason to why.
 */
bool vtk_snp_serde_parse(const json_t *ev, struct vt_buf *report, struct vt_buf *table,
                         char *why, size_t why_len);

#endif
