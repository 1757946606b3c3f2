/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sim_evidence.h - the sim TEE evidence format (parser and serializer; pure, no crypto).
 * The layout is documented in sim_evidence.c.
 */
#ifndef VT_EVIDENCE_SIM_EVIDENCE_H
#define VT_EVIDENCE_SIM_EVIDENCE_H

#include "util/buf.h"

#define VTI_SIM_MAGIC "VTSIMEV\x00"
#define VTI_SIM_VERSION 1
#define VTI_SIM_FLAG_INSECURE 0x0001u
#define VTI_SIM_MEASUREMENT_LEN 48
#define VTI_SIM_HEADER_LEN 130 /* up to and including ak_cert_len */
#define VTI_SIM_MAX_AK_CERT 4096
#define VTI_SIM_MIN_SIG 8
#define VTI_SIM_MAX_SIG 80

struct vti_sim_evidence {
    uint16_t version;
    uint16_t flags;
    const uint8_t *measurement; /* 48 bytes */
    const uint8_t *report_data; /* 64 bytes */
    const uint8_t *ak_cert;     /* DER */
    size_t ak_cert_len;
    const uint8_t *signed_p;    /* the signed region: [0, 130 + ak_cert_len) */
    size_t signed_len;
    const uint8_t *sig;         /* ECDSA P-256 / SHA-256, DER */
    size_t sig_len;
};

/* Parse and validate the structure (not the signature or chain). */
VT_RESULT vti_sim_evidence_parse(const uint8_t *p, size_t len, struct vti_sim_evidence *out);
/* Write the to-be-signed part; the caller signs out[0, len) and calls ..._finish. */
VT_RESULT vti_sim_evidence_tbs(const uint8_t measurement[48], const uint8_t report_data[64],
                               const uint8_t *ak_cert, size_t ak_cert_len, struct vt_buf *out);
VT_RESULT vti_sim_evidence_finish(struct vt_buf *out, const uint8_t *sig, size_t sig_len);

#endif
