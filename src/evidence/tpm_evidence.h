/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tpm_evidence.h - plain TPM 2.0 evidence JSON, in the shape of Trustee's "tpm" verifier,
 * extended with the AK certificate and the event log (docs/tpm.md):
 *
 *   {"ak_public": base64 SubjectPublicKeyInfo DER,
 *    "tpm_quote": {"message": base64 TPMS_ATTEST, "signature": base64 TPMT_SIGNATURE,
 *                  "pcrs": [hex, ...]},
 *    "ak_cert": base64 X.509 DER (optional), "event_log": base64 TCG log (optional)}
 *
 * "pcrs" are the values of the PCRs the quote selects, in selection order (PCR index
 * ascending), all of the quoted bank's digest size; the verifier checks that they fit the
 * selection. Base64 is standard (padding optional); other members are ignored.
 * Trust boundary: all of it is untrusted; parsed with jansson (duplicate keys refused,
 * depth and size capped); sizes capped per field. Errors: VT_ERR_TPM_EVIDENCE_* (tpm.def).
 */
#ifndef VT_EVIDENCE_TPM_EVIDENCE_H
#define VT_EVIDENCE_TPM_EVIDENCE_H

#include "util/buf.h"

#define VT_TPM_EV_MAX (20u << 20)       /* whole JSON text (a 16 MiB event log in base64) */
#define VT_TPM_EV_MAX_PCRS 32
#define VT_TPM_EV_MAX_PCR_LEN 64

struct vti_tpm_ev {
    struct vt_buf ak_public, msg, sig, ak_cert, event_log; /* ak_cert, event_log: len 0 = absent */
    bool has_cert, has_log;
    size_t n_pcrs, pcr_len;
    uint8_t pcrs[VT_TPM_EV_MAX_PCRS][VT_TPM_EV_MAX_PCR_LEN];
};

VT_RESULT vti_tpm_evidence_parse(const uint8_t *p, size_t len, struct vti_tpm_ev *ev);
void vti_tpm_evidence_free(struct vti_tpm_ev *ev);
/* Cheap shape test for accepts(): a JSON object naming "ak_public" and "tpm_quote". */
bool vti_tpm_evidence_is(const uint8_t *p, size_t len);

/* Build the JSON text (the attester's output): pcrs[i] of pcr_len bytes for i < n_pcrs. */
struct vti_tpm_ev_in {
    const uint8_t *ak_public, *msg, *sig, *ak_cert, *event_log;
    size_t ak_public_len, msg_len, sig_len, ak_cert_len, event_log_len;
    const uint8_t (*pcrs)[VT_TPM_EV_MAX_PCR_LEN];
    size_t n_pcrs, pcr_len;
};
VT_RESULT vti_tpm_evidence_json(const struct vti_tpm_ev_in *in, struct vt_buf *out);

#endif
