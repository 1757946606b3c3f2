/* SPDX-License-Identifier: Apache-2.0 */
/*
 * intel_quote.c - parser for Intel DCAP ECDSA quotes (SGX v3, v4, v5; TDX 1.0 and 1.5).
 *
 * Owns: the byte layout only (../shared/FORMATS.md section 1; Intel "SGX ECDSA Quote Library
 * API" and "TDX DCAP Quote Generation Library and Quote Verification Library" appendices).
 * Trust boundary: the input is untrusted; every read goes through a bounded vt_cur, every
 * length-prefixed field becomes a sub-cursor that must be consumed exactly. Nothing here is
 * trusted until the verifier (src/verifiers/intel.c) has checked the signatures over exactly
 * the bytes this parser marks as signed.
 */
#include "evidence/intel_quote.h"

#include <string.h>

const uint8_t vt_intel_qe_vendor_id[16] = { 0x93, 0x9a, 0x72, 0x33, 0xf7, 0x9c, 0x4c, 0xa9,
                                            0x94, 0x0a, 0x0d, 0xb3, 0x95, 0x7f, 0x06, 0x07 };

/* Every short read of the quote is "truncated", whatever the cursor says. */
#define RD(x)                                                           \
    do {                                                                \
        if (!vti_is_ok(x))                                               \
            return VT_FAIL(VT_ERR_INTEL_QUOTE_TRUNCATED);               \
    } while (0)

VT_RESULT vt_sgx_body_parse(struct vt_cur *c, struct vt_sgx_body *b)
{
    struct vt_cur s;
    RD(vti_cur_sub(c, VT_INTEL_SGX_BODY_LEN, &s));
    b->raw = s.p;
    /* Table "Enclave Report Body" */
    RD(vti_cur_copy(&s, b->cpusvn, 16));
    RD(vti_cur_u32le(&s, &b->miscselect));
    RD(vti_cur_skip(&s, 12));
    RD(vti_cur_copy(&s, b->isv_ext_prod_id, 16));
    RD(vti_cur_copy(&s, b->attributes, 16));
    RD(vti_cur_copy(&s, b->mr_enclave, 32));
    RD(vti_cur_skip(&s, 32));
    RD(vti_cur_copy(&s, b->mr_signer, 32));
    RD(vti_cur_skip(&s, 32));
    RD(vti_cur_copy(&s, b->config_id, 64));
    RD(vti_cur_u16le(&s, &b->isv_prod_id));
    RD(vti_cur_u16le(&s, &b->isv_svn));
    RD(vti_cur_u16le(&s, &b->config_svn));
    RD(vti_cur_skip(&s, 42));
    RD(vti_cur_copy(&s, b->isv_family_id, 16));
    RD(vti_cur_copy(&s, b->report_data, 64));
    return vti_cur_done(&s);
}

static vt_res td_body_parse(struct vt_cur *c, bool v15, struct vt_td_body *b)
{
    struct vt_cur s;
    size_t n = v15 ? VT_INTEL_TD15_BODY_LEN : VT_INTEL_TD10_BODY_LEN;
    RD(vti_cur_sub(c, n, &s));
    b->raw = s.p;
    b->raw_len = n;
    /* Table "TD Quote Body" (TDX 1.0), extended by TEE_TCB_SVN_2 and MRSERVICETD in 1.5 */
    RD(vti_cur_copy(&s, b->tee_tcb_svn, 16));
    RD(vti_cur_copy(&s, b->mr_seam, 48));
    RD(vti_cur_copy(&s, b->mr_signer_seam, 48));
    RD(vti_cur_u64le(&s, &b->seam_attributes));
    RD(vti_cur_u64le(&s, &b->td_attributes));
    RD(vti_cur_u64le(&s, &b->xfam));
    RD(vti_cur_copy(&s, b->mr_td, 48));
    RD(vti_cur_copy(&s, b->mr_config_id, 48));
    RD(vti_cur_copy(&s, b->mr_owner, 48));
    RD(vti_cur_copy(&s, b->mr_owner_config, 48));
    for (int i = 0; i < 4; i++)
        RD(vti_cur_copy(&s, b->rtmr[i], 48));
    RD(vti_cur_copy(&s, b->report_data, 64));
    b->has_15 = v15;
    if (v15) {
        RD(vti_cur_copy(&s, b->tee_tcb_svn2, 16));
        RD(vti_cur_copy(&s, b->mr_service_td, 48));
    }
    return vti_cur_done(&s);
}

/* QE Report Certification Data (type 6) or, in v3, the fields that follow the attestation
 * key directly. `c` is positioned at the QE report. */
static vt_res qe_part_parse(struct vt_cur *c, struct vt_intel_quote *q)
{
    GUARD(vt_sgx_body_parse(c, &q->qe_report));
    RD(vti_cur_view(c, 64, &q->qe_report_sig));
    RD(vti_cur_u16le(c, &q->qe_auth_len));
    if (q->qe_auth_len > vti_cur_left(c))
        return VT_FAIL(VT_ERR_INTEL_QE_AUTH_LEN);
    RD(vti_cur_view(c, q->qe_auth_len, &q->qe_auth));
    uint16_t type;
    uint32_t size;
    RD(vti_cur_u16le(c, &type));
    RD(vti_cur_u32le(c, &size));
    ENSURE(type == 5, VT_ERR_INTEL_CERT_DATA_TYPE);
    ENSURE(size <= vti_cur_left(c) && size <= VT_INTEL_MAX_CERT_DATA_LEN && size > 0,
           VT_ERR_INTEL_CERT_DATA_LEN);
    q->cert_type = type;
    q->pck_chain_len = size;
    RD(vti_cur_view(c, size, &q->pck_chain));
    return vti_ok();
}

static vt_res sig_data_parse(struct vt_cur *c, struct vt_intel_quote *q)
{
    RD(vti_cur_view(c, 64, &q->quote_sig));
    RD(vti_cur_view(c, 64, &q->att_key));
    if (q->version == 3) {
        /* v3: QE report etc. follow directly; the certification data is type 5. */
        q->outer_cert_type = 5;
        GUARD(qe_part_parse(c, q));
        ENSURE(vti_cur_left(c) == 0, VT_ERR_INTEL_CERT_DATA_LEN);
        return vti_ok();
    }
    uint16_t type;
    uint32_t size;
    RD(vti_cur_u16le(c, &type));
    RD(vti_cur_u32le(c, &size));
    ENSURE(type == 6, VT_ERR_INTEL_CERT_DATA_TYPE);
    ENSURE(size == vti_cur_left(c), VT_ERR_INTEL_CERT_DATA_LEN);
    q->outer_cert_type = type;
    struct vt_cur inner;
    RD(vti_cur_sub(c, size, &inner));
    GUARD(qe_part_parse(&inner, q));
    ENSURE(vti_cur_left(&inner) == 0, VT_ERR_INTEL_CERT_DATA_LEN);
    return vti_ok();
}

bool vti_intel_quote_plausible(const uint8_t *p, size_t len)
{
    if (!p || len < VT_INTEL_HEADER_LEN)
        return false;
    uint16_t v = vti_le16_unsafe(p), kt = vti_le16_unsafe(p + 2);
    uint32_t tee = vti_le32_unsafe(p + 4);
    return (v == 3 || v == 4 || v == 5) && (kt == 2 || kt == 3) &&
           (tee == VT_INTEL_TEE_SGX || tee == VT_INTEL_TEE_TDX);
}

VT_RESULT vt_intel_quote_parse(const uint8_t *p, size_t len, struct vt_intel_quote *q)
{
    memset(q, 0, sizeof(*q));
    ENSURE(len <= VT_INTEL_MAX_QUOTE_LEN, VT_ERR_TOO_LARGE);
    struct vt_cur c = vti_cur_init(p, len);
    /* Table "Quote Header" */
    RD(vti_cur_u16le(&c, &q->version));
    ENSURE(q->version == 3 || q->version == 4 || q->version == 5, VT_ERR_INTEL_QUOTE_VERSION);
    RD(vti_cur_u16le(&c, &q->att_key_type));
    ENSURE(q->att_key_type == VT_INTEL_KEY_ECDSA_P256, VT_ERR_INTEL_KEY_TYPE);
    RD(vti_cur_u32le(&c, &q->tee_type));
    if (q->version == 3)
        ENSURE(q->tee_type == VT_INTEL_TEE_SGX, VT_ERR_INTEL_TEE_TYPE);
    else
        ENSURE(q->tee_type == VT_INTEL_TEE_SGX || q->tee_type == VT_INTEL_TEE_TDX,
               VT_ERR_INTEL_TEE_TYPE);
    RD(vti_cur_u16le(&c, &q->qe_svn));
    RD(vti_cur_u16le(&c, &q->pce_svn));
    RD(vti_cur_copy(&c, q->qe_vendor_id, 16));
    ENSURE(memcmp(q->qe_vendor_id, vt_intel_qe_vendor_id, 16) == 0, VT_ERR_INTEL_QE_VENDOR); /* lint: public id */
    RD(vti_cur_copy(&c, q->user_data, 20));

    if (q->version == 5) {
        uint16_t bt;
        uint32_t bsize;
        RD(vti_cur_u16le(&c, &bt));
        RD(vti_cur_u32le(&c, &bsize));
        if (bt == VT_INTEL_BODY_SGX && bsize == VT_INTEL_SGX_BODY_LEN)
            q->body_type = VT_INTEL_BODY_SGX;
        else if (bt == VT_INTEL_BODY_TD10 && bsize == VT_INTEL_TD10_BODY_LEN)
            q->body_type = VT_INTEL_BODY_TD10;
        else if (bt == VT_INTEL_BODY_TD15 && bsize == VT_INTEL_TD15_BODY_LEN)
            q->body_type = VT_INTEL_BODY_TD15;
        else
            return VT_FAIL(VT_ERR_INTEL_BODY_TYPE);
        ENSURE((q->body_type == VT_INTEL_BODY_SGX) == (q->tee_type == VT_INTEL_TEE_SGX),
               VT_ERR_INTEL_TEE_MISMATCH);
    } else {
        q->body_type = q->tee_type == VT_INTEL_TEE_TDX ? VT_INTEL_BODY_TD10 : VT_INTEL_BODY_SGX;
    }
    if (q->body_type == VT_INTEL_BODY_SGX)
        GUARD(vt_sgx_body_parse(&c, &q->sgx));
    else
        GUARD(td_body_parse(&c, q->body_type == VT_INTEL_BODY_TD15, &q->td));
    q->signed_p = p;
    q->signed_len = c.off;

    RD(vti_cur_u32le(&c, &q->sig_data_len));
    ENSURE(q->sig_data_len <= vti_cur_left(&c), VT_ERR_INTEL_SIG_DATA_LEN);
    struct vt_cur sd;
    RD(vti_cur_sub(&c, q->sig_data_len, &sd));
    GUARD(sig_data_parse(&sd, q));
    /* Intel QVL bounds every read by sig_data_len and ignores what follows (real quotes
     * carry zero padding, one test quote carries text); it is never hashed or signed. */
    q->trailing_len = vti_cur_left(&c);
    for (size_t i = 0; i < q->trailing_len; i++)
        q->trailing_nonzero += c.p[c.off + i] != 0;
    return vti_ok();
}
