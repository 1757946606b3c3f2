/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sim_evidence.c - parser/serializer of sim TEE evidence (the software TEE for development
 * and tests; INSECURE by construction: anyone with the sim directory can sign anything).
 *
 * Layout, version 1 (all integers little-endian):
 *
 *   off      size  field
 *   0        8     magic "VTSIMEV\0"
 *   8        2     version = 1
 *   10       2     flags: bit 0 INSECURE (must be set); all other bits must be zero
 *   12       4     reserved, zero
 *   16       48    measurement (the "launch digest" of the simulated workload)
 *   64       64    report data (caller-chosen; RA-TLS puts SHA-256(claims) || 0^32 here)
 *   128      2     ak_cert_len N, 1..4096
 *   130      N     attestation key (AK) certificate, DER, ECDSA P-256, issued by a sim root CA
 *   130+N    2     sig_len S, 8..80
 *   132+N    S     ECDSA P-256 / SHA-256 signature (DER) by the AK over bytes [0, 130+N)
 *
 * Nothing may follow the signature. The AK certificate is trusted only if it chains to a
 * root the verifier was given explicitly (src/verifiers/sim.c). In certificates the evidence
 * travels under the private-use CBOR tag 0x56545330 ("VTS0", src/cert/ratls_parse.h).
 *
 * Trust boundary: the bytes are untrusted; every read is bounded by the cursor and every
 * length is capped before use.
 */
#include <string.h>

#include "evidence/sim_evidence.h"
#include "util/cursor.h"

vt_res vti_sim_evidence_parse(const uint8_t *p, size_t len, struct vti_sim_evidence *out)
{
    memset(out, 0, sizeof(*out));
    struct vt_cur c = vti_cur_init(p, len);
    const uint8_t *magic;
    uint32_t reserved;
    uint16_t n, s;
    GUARD(vti_cur_view(&c, 8, &magic));
    ENSURE(memcmp(magic, VTI_SIM_MAGIC, 8) == 0, VT_ERR_SIM_MAGIC); /* lint: public magic */
    GUARD(vti_cur_u16le(&c, &out->version));
    ENSURE(out->version == VTI_SIM_VERSION, VT_ERR_SIM_VERSION);
    GUARD(vti_cur_u16le(&c, &out->flags));
    ENSURE(out->flags == VTI_SIM_FLAG_INSECURE, VT_ERR_SIM_FLAGS);
    GUARD(vti_cur_u32le(&c, &reserved));
    ENSURE(reserved == 0, VT_ERR_SIM_RESERVED);
    GUARD(vti_cur_view(&c, VTI_SIM_MEASUREMENT_LEN, &out->measurement));
    GUARD(vti_cur_view(&c, 64, &out->report_data));
    GUARD(vti_cur_u16le(&c, &n));
    ENSURE(n >= 1 && n <= VTI_SIM_MAX_AK_CERT, VT_ERR_SIM_AK_CERT);
    GUARD(vti_cur_view(&c, n, &out->ak_cert));
    out->ak_cert_len = n;
    out->signed_p = p;
    out->signed_len = c.off;
    GUARD(vti_cur_u16le(&c, &s));
    ENSURE(s >= VTI_SIM_MIN_SIG && s <= VTI_SIM_MAX_SIG, VT_ERR_SIM_SIGNATURE);
    GUARD(vti_cur_view(&c, s, &out->sig));
    out->sig_len = s;
    return vti_cur_done(&c);
}

vt_res vti_sim_evidence_tbs(const uint8_t measurement[48], const uint8_t report_data[64],
                            const uint8_t *ak_cert, size_t ak_cert_len, struct vt_buf *out)
{
    ENSURE(ak_cert_len >= 1 && ak_cert_len <= VTI_SIM_MAX_AK_CERT, VT_ERR_SIM_AK_CERT);
    GUARD(vti_buf_append(out, VTI_SIM_MAGIC, 8));
    GUARD(vti_buf_u16le(out, VTI_SIM_VERSION));
    GUARD(vti_buf_u16le(out, VTI_SIM_FLAG_INSECURE));
    GUARD(vti_buf_u32le(out, 0));
    GUARD(vti_buf_append(out, measurement, VTI_SIM_MEASUREMENT_LEN));
    GUARD(vti_buf_append(out, report_data, 64));
    GUARD(vti_buf_u16le(out, (uint16_t)ak_cert_len));
    return vti_buf_append(out, ak_cert, ak_cert_len);
}

vt_res vti_sim_evidence_finish(struct vt_buf *out, const uint8_t *sig, size_t sig_len)
{
    ENSURE(sig_len >= VTI_SIM_MIN_SIG && sig_len <= VTI_SIM_MAX_SIG, VT_ERR_SIM_SIGNATURE);
    GUARD(vti_buf_u16le(out, (uint16_t)sig_len));
    return vti_buf_append(out, sig, sig_len);
}
