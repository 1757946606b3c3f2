/* SPDX-License-Identifier: Apache-2.0 */
/*
 * az_vtpm.c - the Azure confidential VM verifiers "az-snp-vtpm" and "az-tdx-vtpm".
 *
 * Owns: the chain of bindings of ../shared/DESIGN.md section 8 (docs/azure.md), each link
 * checked and recorded for --explain, in this order:
 *   1. evidence JSON (v0, v1, v2; az_evidence.c) and the HCL report (evidence/hcl.c), whose
 *      report type must match the verifier (2 = SNP, 4 = TDX);
 *   2. the HCL variable data JSON: the vTPM attestation key (keys[], kid HCLAkPub);
 *   3. hardware report_data[0..32) = SHA-256(var data), [32..64) zero;
 *      SNP: VMPL 0; TDX: the TD quote's report data the same, and every TDREPORT field of the
 *      HCL report equal to the TD quote body;
 *   4. the hardware evidence itself, by the registered verifier for it, unchanged: "snp" for
 *      the SNP report (the VCEK from the evidence goes in as a certificate table, the ASK/ARK
 *      and roots as for raw SNP evidence: --collateral, --root-ca for sim-snp), "intel" for
 *      the TD quote (DCAP, collateral as for raw TDX); their steps and claims become ours;
 *   5. the TPM quote (tpm_quote.c): raw RSASSA-PKCS1-v1_5/SHA-256 signature by the AK,
 *      extraData = the expected nonce (vt_verify_opts.report_data), pcrDigest over PCR 0..23;
 *   6. evidence v2: HCL user-data begins with the nonce.
 * The report's 64-byte report data (what RA-TLS binds and --report-data compares for raw
 * evidence) is the TPM quote's extraData zero-padded, set only once the quote verified; the
 * hardware report's own report data (the var data hash) stays in the "report_data" claim.
 * Trust boundary: the whole evidence is untrusted; the hardware report is trusted only after
 * step 4, which runs before any TPM claim is reported. The TDREPORT MAC cannot be checked off
 * the platform: the TDREPORT is trusted only through its equality with the signed TD quote.
 */
#include <openssl/sha.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "core/instance.h"
#include "cert/ratls_parse.h"
#include "core/report.h"
#include "crypto/crypto.h"
#include "endorsements/amd_certs.h"
#include "evidence/hcl.h"
#include "evidence/intel_quote.h"
#include "evidence/snp_report.h"
#include "util/codec.h"
#include "util/secmem.h"
#include "verifiers/az_evidence.h"
#include "verifiers/az_memo.h"
#include "verifiers/tpm_quote.h"

struct az {
    const struct vti_verify_ctx *ctx;
    struct vt_report *rep;
    bool tdx;
    struct vti_az_ev ev;
    struct vt_hcl_report hcl;
    struct vt_hcl_var_data var;
    uint8_t var_hash[32];
    EVP_PKEY *ak;
    struct vt_tpms_attest att;
};

static const char *kind_name(bool tdx) { return tdx ? "az-tdx-vtpm" : "az-snp-vtpm"; }

static vt_res step(struct az *a, vt_res r, const char *what)
{
    vti_report_step(a->rep, vti_is_ok(r), "%s%s%s", what, vti_is_ok(r) ? "" : ": ",
                    vti_is_ok(r) ? "" : vt_strerror(r.err));
    return r;
}

/* ---- 1, 2: evidence, HCL report, variable data --------------------------------------- */

/* The AKs decoded last: a vTPM keeps its AK, so building the RSA key (and its Montgomery
 * context) for every quote is avoidable. Keyed by the exact modulus and exponent bytes (public
 * values); holds only keys that decoded; the quote is still verified with the key every time. */
#define AK_SLOTS 8
#define AK_MAX_N 512
#define AK_MAX_E 8

struct ak_memo {
    uint8_t n[AK_MAX_N], e[AK_MAX_E];
    size_t nlen, elen;
    EVP_PKEY *k;
};

static pthread_mutex_t ak_mu = PTHREAD_MUTEX_INITIALIZER;
static struct ak_memo ak_slots[AK_SLOTS];
static size_t ak_next;

static bool ak_same(const struct ak_memo *m, const struct vt_buf *n, const struct vt_buf *e)
{
    return m->k && m->nlen == n->len && m->elen == e->len &&
           memcmp(m->n, n->p, n->len) == 0 && /* lint: public (RSA public key) */
           memcmp(m->e, e->p, e->len) == 0;   /* lint: public (RSA public key) */
}

static EVP_PKEY *ak_lookup(const struct vt_buf *n, const struct vt_buf *e)
{
    EVP_PKEY *k = NULL;
    pthread_mutex_lock(&ak_mu);
    for (size_t i = 0; i < AK_SLOTS && !k; i++)
        if (ak_same(&ak_slots[i], n, e) && EVP_PKEY_up_ref(ak_slots[i].k) == 1)
            k = ak_slots[i].k;
    pthread_mutex_unlock(&ak_mu);
    return k;
}

static vt_res ak_key(const struct vt_buf *n, const struct vt_buf *e, EVP_PKEY **out)
{
    bool fits = n->len > 0 && n->len <= AK_MAX_N && e->len > 0 && e->len <= AK_MAX_E;
    if (fits && (*out = ak_lookup(n, e)) != NULL)
        return vti_ok();
    GUARD(vti_rsa_pkey_from_ne(n->p, n->len, e->p, e->len, out));
    if (!fits || EVP_PKEY_up_ref(*out) != 1)
        return vti_ok();
    pthread_mutex_lock(&ak_mu);
    struct ak_memo *m = &ak_slots[ak_next];
    EVP_PKEY *old = m->k;
    memcpy(m->n, n->p, n->len);
    memcpy(m->e, e->p, e->len);
    m->nlen = n->len;
    m->elen = e->len;
    m->k = *out;
    ak_next = (ak_next + 1) % AK_SLOTS;
    pthread_mutex_unlock(&ak_mu);
    EVP_PKEY_free(old);
    return vti_ok();
}

static vt_res parse_all(struct az *a, const uint8_t *p, size_t len)
{
    char t[160];
    vt_res r = vti_az_evidence_parse_memo(p, len, &a->ev);
    snprintf(t, sizeof(t), "parse %s evidence JSON (%zu bytes, version %d)", kind_name(a->tdx),
             len, vti_is_ok(r) ? a->ev.version : -1);
    GUARD(step(a, r, t));
    if (a->ev.tdx != a->tdx)
        return step(a, VT_FAIL(VT_ERR_AZ_KIND_MISMATCH), "evidence kind (vcek: SNP, td_quote: TDX)");
    r = vti_hcl_report_parse(a->ev.hcl.p, a->ev.hcl.len, &a->hcl);
    snprintf(t, sizeof(t), "parse HCL report (%zu bytes, version %u, report type %u, var data "
             "%u bytes)", a->ev.hcl.len, a->hcl.version, a->hcl.report_type, a->hcl.var_data_len);
    GUARD(step(a, r, t));
    bool kind_ok = a->hcl.report_type == (a->tdx ? VT_HCL_REPORT_TDX : VT_HCL_REPORT_SNP);
    GUARD(step(a, kind_ok ? vti_ok() : VT_FAIL(VT_ERR_AZ_KIND_MISMATCH),
               a->tdx ? "HCL report type 4 (TDX)" : "HCL report type 2 (SNP)"));
    SHA256(a->hcl.var_data, a->hcl.var_data_len, a->var_hash);
    r = vti_hcl_var_data_parse_memo(a->hcl.var_data, a->hcl.var_data_len, &a->var);
    GUARD(step(a, r, "parse HCL variable data JSON (keys[], vm-configuration, user-data)"));
    r = ak_key(&a->var.ak_n, &a->var.ak_e, &a->ak);
    snprintf(t, sizeof(t), "vTPM attestation key HCLAkPub from the variable data (RSA-%zu)",
             a->var.ak_n.len * 8);
    return step(a, r, t);
}

/* ---- 3: bindings of the variable data --------------------------------------------------- */

static vt_res bind_report_data(struct az *a, const uint8_t *rd, const char *what, int err)
{
    static const uint8_t zero[32];
    char h[65];
    vti_hex_encode(a->var_hash, 32, h);
    bool ok = vti_ct_eq(rd, a->var_hash, 32);
    vti_report_step(a->rep, ok, "%s report_data[0..32) = SHA-256(var data) %s: %s", what, h,
                    ok ? "ok" : "no");
    ENSURE(ok, err);
    ok = vti_ct_eq(rd + 32, zero, 32);
    vti_report_step(a->rep, ok, "%s report_data[32..64) zero: %s", what, ok ? "ok" : "no");
    ENSURE(ok, VT_ERR_AZ_REPORT_DATA_TAIL);
    return vti_ok();
}

static vt_res snp_links(struct az *a)
{
    struct vt_snp_report r;
    vt_res res = vti_snp_report_parse(a->hcl.hw_report, VT_HCL_HW_REPORT_LEN, &r);
    GUARD(step(a, res, "parse the SNP report in the HCL report"));
    GUARD(bind_report_data(a, r.report_data, "SNP", VT_ERR_AZ_VAR_DATA_BINDING));
    vti_report_step(a->rep, r.vmpl == 0, "SNP report VMPL %u is 0 (the paravisor's): %s", r.vmpl,
                    r.vmpl == 0 ? "ok" : "no");
    ENSURE(r.vmpl == 0, VT_ERR_AZ_VMPL);
    return vti_ok();
}

struct td_field {
    const char *name;
    unsigned off, len;
    size_t body_off; /* in the TD quote body (FORMATS.md 1.4) */
};
static const struct td_field td_fields[] = {
    { "report_data", VT_TDREPORT_REPORT_DATA, 64, 520 },
    { "attributes", VT_TDREPORT_ATTRIBUTES, 8, 120 },
    { "xfam", VT_TDREPORT_XFAM, 8, 128 },
    { "mrtd", VT_TDREPORT_MRTD, 48, 136 },
    { "mrconfigid", VT_TDREPORT_MRCONFIGID, 48, 184 },
    { "mrowner", VT_TDREPORT_MROWNER, 48, 232 },
    { "mrownerconfig", VT_TDREPORT_MROWNERCONFIG, 48, 280 },
    { "rtmr0", VT_TDREPORT_RTMR0, 48, 328 },
    { "rtmr1", VT_TDREPORT_RTMR0 + 48, 48, 376 },
    { "rtmr2", VT_TDREPORT_RTMR0 + 96, 48, 424 },
    { "rtmr3", VT_TDREPORT_RTMR0 + 144, 48, 472 },
    { "tee_tcb_svn", VT_TDREPORT_TEE_TCB_SVN, 16, 0 },
    { "mrseam", VT_TDREPORT_MRSEAM, 48, 16 },
};

static vt_res tdx_links(struct az *a, struct vt_intel_quote *q)
{
    const uint8_t *td = a->hcl.hw_report;
    vt_res r = vt_intel_quote_parse(a->ev.td_quote.p, a->ev.td_quote.len, q);
    if (vti_is_ok(r) && q->body_type != VT_INTEL_BODY_TD10 && q->body_type != VT_INTEL_BODY_TD15)
        r = VT_FAIL(VT_ERR_INTEL_TEE_MISMATCH);
    GUARD(step(a, r, "parse the TD quote"));
    GUARD(bind_report_data(a, td + VT_TDREPORT_REPORT_DATA, "HCL TDREPORT",
                           VT_ERR_AZ_VAR_DATA_BINDING));
    GUARD(bind_report_data(a, q->td.report_data, "TD quote", VT_ERR_AZ_TD_QUOTE_BINDING));
    for (size_t i = 0; i < VT_ARRAY_LEN(td_fields); i++) {
        const struct td_field *f = &td_fields[i];
        bool ok = f->body_off + f->len <= q->td.raw_len &&
                  vti_ct_eq(td + f->off, q->td.raw + f->body_off, f->len);
        if (!ok) {
            vti_report_step(a->rep, 0, "HCL TDREPORT %s equals the TD quote's: no", f->name);
            return VT_FAIL(VT_ERR_AZ_TDREPORT_MISMATCH);
        }
    }
    vti_report_step(a->rep, 1, "HCL TDREPORT fields (report data, attributes, xfam, mrtd, "
                    "mrconfigid, mrowner, mrownerconfig, rtmr0-3, tee_tcb_svn, mrseam) equal "
                    "the TD quote body: ok");
    return vti_ok();
}

/* ---- 4: the hardware evidence, by its own verifier ------------------------------------- */

static vt_res inner_verifier(const char *name, const struct vt_verifier_ops **v)
{
    const struct vt_instance_hdr *h;
    ENSURE(vti_is_ok(vti_instance_find(VT_KIND_VERIFIER, name, &h)), VT_ERR_AZ_INNER_VERIFIER);
    *v = (const struct vt_verifier_ops *)h;
    return vti_ok();
}

/* The evidence's VCEK (PEM v0, DER v1/v2) as an SNP certificate table. */
static vt_res vcek_table(struct az *a, struct vt_buf *table)
{
    struct vt_amd_table_entry e[VT_PEM_MAX_BLOCKS];
    struct vt_pem_list pl = { 0 };
    size_t n = 0;
    vt_res r = vti_ok();
    if (a->ev.vcek_pem) {
        r = vti_pem_decode(a->ev.vcek.p, a->ev.vcek.len, "CERTIFICATE", &pl);
        for (size_t i = 0; vti_is_ok(r) && i < pl.n; i++)
            e[n++] = (struct vt_amd_table_entry){ vt_amd_guid_vcek, pl.der[i].p, pl.der[i].len };
    } else if (a->ev.vcek.len > 0) {
        e[n++] = (struct vt_amd_table_entry){ vt_amd_guid_vcek, a->ev.vcek.p, a->ev.vcek.len };
    }
    if (vti_is_ok(r) && n == 0)
        r = VT_FAIL(VT_ERR_AZ_NO_VCEK);
    if (vti_is_ok(r))
        r = vti_amd_cert_table_build(e, n, table);
    vti_pem_list_free(&pl);
    char t[96];
    snprintf(t, sizeof(t), "VCEK from the evidence (%s, %zu certificate(s))",
             a->ev.vcek_pem ? "PEM" : "DER", n);
    return step(a, vti_is_ok(r) ? r : VT_FAIL(VT_ERR_AZ_NO_VCEK), t);
}

static vt_res hardware(struct az *a)
{
    const struct vt_verifier_ops *v;
    GUARD(step(a, inner_verifier(a->tdx ? "intel" : "snp", &v),
               a->tdx ? "TD quote verifier (intel)" : "SNP report verifier (snp)"));
    struct vti_verify_ctx c = { .opts = a->ctx->opts, .at = a->ctx->at };
    if (a->tdx) { /* an RA-TLS certificate's endorsements are Intel collateral here */
        c.endorsements = a->ctx->endorsements;
        c.endorsements_len = a->ctx->endorsements_len;
        return v->verify(&c, a->ev.td_quote.p, a->ev.td_quote.len, a->rep);
    }
    struct vt_buf table = VT_BUF_INIT;
    vt_res r = vcek_table(a, &table);
    if (vti_is_ok(r)) {
        c.endorsements = table.p;
        c.endorsements_len = table.len;
        r = v->verify(&c, a->hcl.hw_report, VT_HCL_HW_REPORT_LEN, a->rep);
    }
    vti_buf_free_nowipe(&table);
    return r;
}

/* ---- 5, 6: TPM quote and user-data ------------------------------------------------------ */

static vt_res tpm(struct az *a)
{
    const struct vt_verify_opts *o = a->ctx->opts;
    struct vti_tpm_pcr_bank bank = { .hash = VT_TPM_ALG_SHA256 };
    for (size_t i = 0; i < VT_AZ_NPCRS; i++)
        bank.v[i] = a->ev.pcrs[i];
    struct vti_tpm_quote_in in = {
        .ak = a->ak, .msg = a->ev.msg.p, .msg_len = a->ev.msg.len, .sig = a->ev.sig.p,
        .sig_len = a->ev.sig.len, .sig_raw_rsa_sha256 = true,
        .nonce = o && o->report_data ? o->report_data : NULL,
        .nonce_len = o && o->report_data ? o->report_data_len : 0,
        .banks = &bank, .n_banks = 1,
    };
    GUARD(vti_tpm_quote_verify(&in, a->rep, &a->att));
    a->rep->report_data_checked = in.nonce != NULL;
    /* the evidence's caller-chosen report data is the nonce (RA-TLS binds the key there) */
    memset(a->rep->report_data, 0, 64);
    memcpy(a->rep->report_data, a->att.extra_data, a->att.extra_data_len);
    a->rep->has_report_data = true;
    if (a->ev.version < 2)
        return vti_ok();
    if (!in.nonce) {
        vti_report_step(a->rep, -1, "evidence v2: user-data not compared (no expected nonce)");
        return vti_ok();
    }
    bool ok = in.nonce_len <= a->var.user_data_len &&
              vti_ct_eq(a->var.user_data, in.nonce, in.nonce_len);
    vti_report_step(a->rep, ok, "evidence v2: HCL user-data begins with the nonce: %s",
                    ok ? "ok" : "no");
    ENSURE(ok, VT_ERR_AZ_USER_DATA_NONCE);
    return vti_ok();
}

static vt_res claims(struct az *a)
{
    char n[96];
    const struct vt_tpm_pcr_sel *s = &a->att.sel[0];
    for (unsigned i = 0; a->att.n_sel == 1 && i < VT_AZ_NPCRS && i < 8u * s->size; i++) {
        if (!(s->bits[i / 8] & (1u << (i % 8))))
            continue;
        snprintf(n, sizeof(n), "pcr.%u", i);
        GUARD(vti_claim_bytes(a->rep, n, a->ev.pcrs[i], 32));
    }
    GUARD(vti_claim_bytes(a->rep, "tpm.nonce", a->att.extra_data, a->att.extra_data_len));
    GUARD(vti_claim_bytes(a->rep, "hcl.user_data", a->var.user_data, a->var.user_data_len));
    const char *k;
    json_t *e;
    if (!a->var.vm_config)
        return vti_ok();
    json_object_foreach(a->var.vm_config, k, e) {
        if (snprintf(n, sizeof(n), "hcl.vm_configuration.%s", k) >= (int)sizeof(n))
            continue; /* a name too long to be a policy key */
        if (json_is_boolean(e))
            GUARD(vti_claim_bool(a->rep, n, json_is_true(e)));
        else if (json_is_integer(e))
            GUARD(vti_claim_int(a->rep, n, json_integer_value(e)));
        else
            GUARD(vti_claim_str(a->rep, n, json_string_value(e)));
    }
    return vti_ok();
}

static vt_res az_verify(const struct vti_verify_ctx *ctx, const uint8_t *ev, size_t len,
                        struct vt_report *rep, bool tdx)
{
    struct az a = { .ctx = ctx, .rep = rep, .tdx = tdx };
    struct vt_intel_quote q;
    vti_report_set_tee(rep, kind_name(tdx));
    vt_res r = parse_all(&a, ev, len);
    if (vti_is_ok(r))
        r = tdx ? tdx_links(&a, &q) : snp_links(&a);
    if (vti_is_ok(r))
        r = hardware(&a);
    vti_report_set_tee(rep, kind_name(tdx));
    rep->has_report_data = false; /* the hardware's is the var data hash; ours: step 5 */
    if (vti_is_ok(r))
        r = tpm(&a);
    if (vti_is_ok(r))
        r = claims(&a);
    EVP_PKEY_free(a.ak);
    vti_hcl_var_data_free(&a.var);
    vti_az_evidence_free(&a.ev);
    return r;
}

static vt_res az_snp_verify(const struct vti_verify_ctx *ctx, const uint8_t *ev, size_t len,
                            struct vt_report *rep)
{
    return az_verify(ctx, ev, len, rep, false);
}

static vt_res az_tdx_verify(const struct vti_verify_ctx *ctx, const uint8_t *ev, size_t len,
                            struct vt_report *rep)
{
    return az_verify(ctx, ev, len, rep, true);
}

static bool az_snp_accepts(uint64_t tag, const uint8_t *ev, size_t len)
{
    return (tag == 0 || tag == VTI_TAG_AZ_SNP_VTPM) && vti_az_evidence_kind(ev, len) == 1;
}

static bool az_tdx_accepts(uint64_t tag, const uint8_t *ev, size_t len)
{
    return (tag == 0 || tag == VTI_TAG_AZ_TDX_VTPM) && vti_az_evidence_kind(ev, len) == 2;
}

static const struct vt_verifier_ops az_snp_verifier = {
    .hdr = { VT_INSTANCE_ABI, VT_KIND_VERIFIER, "az-snp-vtpm", 50, 0, NULL },
    .tee = "az-snp-vtpm",
    .accepts = az_snp_accepts,
    .verify = az_snp_verify,
};
const struct vt_instance_hdr *const vt_inst_az_snp_verifier = &az_snp_verifier.hdr;

static const struct vt_verifier_ops az_tdx_verifier = {
    .hdr = { VT_INSTANCE_ABI, VT_KIND_VERIFIER, "az-tdx-vtpm", 50, 0, NULL },
    .tee = "az-tdx-vtpm",
    .accepts = az_tdx_accepts,
    .verify = az_tdx_verify,
};
const struct vt_instance_hdr *const vt_inst_az_tdx_verifier = &az_tdx_verifier.hdr;
