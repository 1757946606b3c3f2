/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ratls_parse.c - structure of Interoperable RA-TLS certificates (FORMATS.md section 6,
 * notes/rats-tls.md section 2): the DICE evidence extension 2.23.133.5.4.9 holding
 * tag(T)[bstr evidence, bstr claims], the claims map with "pubkey-hash" = bstr(CBOR [alg,
 * hash]) and optional "nonce", the optional endorsements extension 2.23.133.5.4.2, and the
 * legacy extensions of Gramine (raw quote under the mis-encoded OID whose content bytes are
 * 06 09 2A 86 48 86 F8 4D 8A 39 06) and of the Intel SGX SDK sample (1.2.840.113741.1.13.1).
 *
 * Trust boundary: the certificate is the peer's. The X.509 layer is parsed by the crypto
 * backend; the CBOR here goes through the bounded decoder (cbor.c). This file decides
 * structure only; binding and signature checks are in ratls.c.
 */
#include <stdio.h>
#include <string.h>

#include "util/cbor.h"
#include "cert/ratls_parse.h"
#include "evidence/sim_evidence.h"
#include "util/cursor.h"

static const uint8_t gramine_legacy_oid[] = { 0x06, 0x09, 0x2A, 0x86, 0x48, 0x86,
                                              0xF8, 0x4D, 0x8A, 0x39, 0x06 };

const char *vti_ratls_tag_name(uint64_t tag)
{
    switch (tag) {
    case VTI_TAG_INTEL_QUOTE:
        return "intel-quote";
    case VTI_TAG_INTEL_REPORT:
        return "intel-report";
    case VTI_TAG_SGX_LEGACY_REPORT:
        return "sgx-legacy-report";
    case VTI_TAG_SNP_REPORT:
        return "snp-report";
    case VTI_TAG_SEV:
        return "sev-evidence";
    case VTI_TAG_CSV:
        return "csv-report";
    case VTI_TAG_SIM:
        return "sim";
    case VTI_TAG_NULL:
        return "null";
    default:
        return NULL;
    }
}

bool vti_ratls_tag_known(uint64_t tag)
{
    if (vti_ratls_tag_name(tag))
        return true;
    const struct vt_instance_hdr *l[64];
    size_t n = vti_instance_list(VT_KIND_ATTESTER, l, 64);
    for (size_t i = 0; i < n; i++)
        if (((const struct vt_attester_ops *)l[i])->cbor_tag == tag)
            return true;
    return false;
}

vt_res vti_ratls_ext_parse(const uint8_t *p, size_t len, struct vti_ratls_evidence *out)
{
    memset(out, 0, sizeof(*out));
    struct vt_cur c = vti_cur_init(p, len);
    struct vti_cbor_item it;
    GUARD(vti_cbor_head(&c, &it));
    ENSURE(it.major == VTI_CBOR_TAG, VT_ERR_CERT_EVIDENCE_SHAPE);
    out->tag = it.val;
    ENSURE(vti_ratls_tag_known(out->tag), VT_ERR_CERT_EVIDENCE_TAG);
    GUARD(vti_cbor_head(&c, &it));
    ENSURE(it.major == VTI_CBOR_ARRAY && it.val == 2, VT_ERR_CERT_EVIDENCE_SHAPE);
    GUARD(vti_cbor_head(&c, &it));
    ENSURE(it.major == VTI_CBOR_BSTR && it.len > 0, VT_ERR_CERT_EVIDENCE_SHAPE);
    out->ev = it.p;
    out->ev_len = it.len;
    GUARD(vti_cbor_head(&c, &it));
    ENSURE(it.major == VTI_CBOR_BSTR, VT_ERR_CERT_EVIDENCE_SHAPE);
    out->claims = it.p;
    out->claims_len = it.len;
    return vti_cur_done(&c);
}

static bool key_is(const struct vti_ratls_claim *cl, const char *s)
{
    size_t n = strlen(s);
    return cl->name_len == n && memcmp(cl->name, s, n) == 0; /* lint: public */
}

static vt_res parse_pubkey_hash(const struct vti_ratls_claim *cl, struct vti_ratls_claims *out)
{
    ENSURE(cl->is_bstr, VT_ERR_CERT_CLAIMS);
    struct vt_cur c = vti_cur_init(cl->p, cl->len);
    uint64_t n, alg;
    ENSURE(vti_cbor_array(&c, &n).err == 0 && n == 2, VT_ERR_CERT_CLAIMS);
    ENSURE(vti_cbor_uint(&c, &alg).err == 0, VT_ERR_CERT_CLAIMS);
    ENSURE(alg == VT_HASH_SHA256 || alg == VT_HASH_SHA384 || alg == VT_HASH_SHA512,
           VT_ERR_CERT_HASH_ALG);
    const uint8_t *h;
    size_t hl;
    ENSURE(vti_cbor_bstr(&c, &h, &hl).err == 0, VT_ERR_CERT_CLAIMS);
    ENSURE(hl == vti_hash_len((int)alg), VT_ERR_CERT_CLAIMS);
    ENSURE(vti_cur_left(&c) == 0, VT_ERR_CERT_CLAIMS);
    out->hash_alg = (int)alg;
    out->hash = h;
    out->hash_len = hl;
    return vti_ok();
}

vt_res vti_ratls_claims_parse(const uint8_t *p, size_t len, struct vti_ratls_claims *out)
{
    memset(out, 0, sizeof(*out));
    struct vt_cur c = vti_cur_init(p, len);
    uint64_t n;
    vt_res r = vti_cbor_map(&c, &n);
    if (r.err)
        return r.err == VT_ERR_CBOR ? VT_FAIL(VT_ERR_CERT_CLAIMS) : r;
    ENSURE(n <= VTI_RATLS_MAX_CLAIMS, VT_ERR_CERT_CLAIMS);
    bool have_hash = false;
    for (uint64_t i = 0; i < n; i++) {
        struct vti_ratls_claim *cl = &out->c[out->n];
        r = vti_cbor_tstr(&c, &cl->name, &cl->name_len);
        if (r.err)
            return r.err == VT_ERR_CBOR ? VT_FAIL(VT_ERR_CERT_CLAIMS) : r;
        for (size_t j = 0; j < out->n; j++)
            ENSURE(!(out->c[j].name_len == cl->name_len &&
                     memcmp(out->c[j].name, cl->name, cl->name_len) == 0), /* lint: public */
                   VT_ERR_CERT_DUP_CLAIM);
        size_t start = c.off;
        struct vt_cur peek = c;
        struct vti_cbor_item it;
        GUARD(vti_cbor_head(&peek, &it));
        GUARD(vti_cbor_skip(&c, 1));
        cl->raw = p + start;
        cl->raw_len = c.off - start;
        if (it.major == VTI_CBOR_BSTR) {
            cl->is_bstr = true;
            cl->p = it.p;
            cl->len = it.len;
        }
        out->n++;
        if (key_is(cl, "pubkey-hash")) {
            GUARD(parse_pubkey_hash(cl, out));
            have_hash = true;
        } else if (key_is(cl, "nonce")) {
            ENSURE(cl->is_bstr, VT_ERR_CERT_CLAIMS);
            out->has_nonce = true;
            out->nonce = cl->p;
            out->nonce_len = cl->len;
        }
    }
    GUARD(vti_cur_done(&c));
    ENSURE(have_hash, VT_ERR_CERT_NO_PUBKEY_HASH);
    return vti_ok();
}

void vti_ratls_cert_free(struct vti_ratls_cert *c)
{
    if (!c)
        return;
    vti_cert_info_free(&c->info);
    memset(c, 0, sizeof(*c));
}

vt_res vti_ratls_cert_parse(const struct vt_crypto_ops *cr, const uint8_t *der, size_t len,
                            struct vti_ratls_cert *out)
{
    memset(out, 0, sizeof(*out));
    GUARD(cr->cert_parse(der, len, VT_CERT_PARSE_SELF_SIG, &out->info));
    vt_res r = vti_ok();
    const struct vt_cert_ext_info *evx = NULL, *enx = NULL, *gx = NULL, *sx = NULL;
    for (size_t i = 0; i < out->info.n_exts; i++) {
        const struct vt_cert_ext_info *e = &out->info.exts[i];
        const struct vt_cert_ext_info **slot = NULL;
        if (!strcmp(e->oid, VTI_OID_DICE_EVIDENCE))
            slot = &evx;
        else if (!strcmp(e->oid, VTI_OID_DICE_ENDORSEMENTS))
            slot = &enx;
        else if (!strcmp(e->oid, VTI_OID_SGXSDK_QUOTE))
            slot = &sx;
        else if (e->oid_der.len == sizeof(gramine_legacy_oid) &&
                 memcmp(e->oid_der.p, gramine_legacy_oid, sizeof(gramine_legacy_oid)) == 0) /* lint: public */
            slot = &gx;
        if (!slot)
            continue;
        ENSURE_GOTO(!*slot, VT_ERR_CERT_EXT_DUP, r, fail);
        *slot = e;
    }
    if (evx) {
        GUARD_GOTO(vti_ratls_ext_parse(evx->value.p, evx->value.len, &out->ev), r, fail);
        GUARD_GOTO(vti_ratls_claims_parse(out->ev.claims, out->ev.claims_len, &out->claims), r,
                   fail);
        out->has_evidence = true;
    }
    if (enx) {
        out->has_endorsements = true;
        out->endorsements = enx->value.p;
        out->endorsements_len = enx->value.len;
        if (enx->value.len)
            GUARD_GOTO(vti_cbor_check(enx->value.p, enx->value.len), r, fail);
    }
    if (gx) {
        out->legacy = VTI_LEGACY_GRAMINE;
        out->legacy_quote = gx->value.p;
        out->legacy_len = gx->value.len;
    } else if (sx) {
        out->legacy = VTI_LEGACY_SGXSDK;
        out->legacy_quote = sx->value.p;
        out->legacy_len = sx->value.len;
    }
    return vti_ok();
fail:
    vti_ratls_cert_free(out);
    return r;
}

vt_res vti_ratls_pubkey_hash_value(const struct vt_crypto_ops *cr, int alg, const uint8_t *spki,
                                   size_t spki_len, struct vt_buf *out)
{
    uint8_t h[VT_HASH_MAX_LEN];
    size_t hl = vti_hash_len(alg);
    ENSURE(hl, VT_ERR_CERT_HASH_ALG);
    GUARD(cr->hash((enum vt_hash_alg)alg, spki, spki_len, h));
    GUARD(vti_cbor_put_head(out, VTI_CBOR_ARRAY, 2));
    GUARD(vti_cbor_put_uint(out, (uint64_t)alg));
    return vti_cbor_put_bstr(out, h, hl);
}

vt_res vti_ratls_ext_build(uint64_t tag, const uint8_t *ev, size_t ev_len, const uint8_t *claims,
                           size_t claims_len, struct vt_buf *out)
{
    GUARD(vti_cbor_put_head(out, VTI_CBOR_TAG, tag));
    GUARD(vti_cbor_put_head(out, VTI_CBOR_ARRAY, 2));
    GUARD(vti_cbor_put_bstr(out, ev, ev_len));
    return vti_cbor_put_bstr(out, claims, claims_len);
}

bool vti_evidence_peek(uint64_t tag, const uint8_t *ev, size_t len, char *kind, size_t kindlen,
                       unsigned *version, const uint8_t **report_data)
{
    *report_data = NULL;
    *version = 0;
    if (tag == VTI_TAG_INTEL_QUOTE && len >= 48) {
        unsigned v = vti_le16_unsafe(ev);
        uint32_t tee = vti_le32_unsafe(ev + 4);
        size_t off = 0;
        const char *k = "intel quote";
        if (v == 3 || (v == 4 && tee == 0)) {
            off = 48 + 320;
            k = "sgx quote";
        } else if (v == 4 && tee == 0x81) {
            off = 48 + 520;
            k = "tdx quote";
        } else if (v == 5 && len >= 54) {
            unsigned bt = vti_le16_unsafe(ev + 48);
            off = bt == 1 ? 54 + 320 : (bt == 2 || bt == 3) ? 54 + 520 : 0;
            k = bt == 1 ? "sgx quote" : "tdx quote";
        }
        snprintf(kind, kindlen, "%s", k);
        *version = v;
        if (off && off + 64 <= len)
            *report_data = ev + off;
        return true;
    }
    if (tag == VTI_TAG_SNP_REPORT && len >= 0x4A0) {
        snprintf(kind, kindlen, "snp report");
        *version = vti_le32_unsafe(ev);
        *report_data = ev + 0x50;
        return true;
    }
    if (tag == VTI_TAG_SIM || tag == 0) {
        struct vti_sim_evidence se;
        if (vti_sim_evidence_parse(ev, len, &se).err == 0) {
            snprintf(kind, kindlen, "sim evidence");
            *version = se.version;
            *report_data = se.report_data;
            return true;
        }
    }
    if (tag == VTI_TAG_NULL && len == 72) {
        snprintf(kind, kindlen, "null evidence");
        *version = 1;
        *report_data = ev + 8;
        return true;
    }
    return false;
}
