/* SPDX-License-Identifier: Apache-2.0 */
/*
 * intel.c - the Intel SGX / TDX DCAP quote verifier ("intel").
 *
 * Owns: the verification procedure of ../shared/FORMATS.md section 3, in Intel QVL's order:
 * the checked-once part (PCK chain to the Intel SGX Root CA, pinned by SHA-256 of its DER, or
 * an anchor from opts->root_ca_files, which marks the result insecure; root CA CRL and PCK CRL;
 * PCK certificate SGX extensions; TCB Info / QE Identity signatures, issuer chain and time
 * windows) is intel_chain.c, with its cache; here: QE report signature and report data, quote
 * signature, then the TCB evaluation of intel_tcb.c (QE identity, TDX module identity, TCB
 * level matching and the status merge, including TDX 1.5 relaunch advice), reported.
 * Trust boundary: quote and collateral are untrusted; claims are reported as soon as the quote
 * parses (so certificates can be shown), but rep->verified is set by the caller only when this
 * returns OK. Every check is recorded with vti_report_step.
 */
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "core/instance.h"
#include "core/report.h"
#include "crypto/crypto.h"
#include "endorsements/intel_collateral.h"
#include "endorsements/intel_pccs.h"
#include "evidence/intel_quote.h"
#include "util/codec.h"
#include "util/secmem.h"
#include "verifiers/intel_chain.h"
#include "verifiers/intel_tcb.h"
#include "verifiers/intel_verify.h"

#define VT_TAG_INTEL 60000

const uint8_t vt_intel_root_sha256[32] = {
    0x44, 0xa0, 0x19, 0x6b, 0x2b, 0x99, 0xf8, 0x89, 0xb8, 0xe1, 0x49, 0xe9, 0x5b, 0x80, 0x7a, 0x35,
    0x0e, 0x74, 0x24, 0x96, 0x43, 0x99, 0xe8, 0x85, 0xa7, 0xcb, 0xb8, 0xcc, 0xfa, 0xb6, 0x74, 0xd3,
};

/* ---- claims ------------------------------------------------------------------------- */

#define CL(x) GUARD(x)

static vt_res sgx_claims(struct vt_report *rep, const struct vt_sgx_body *b)
{
    CL(vti_claim_bytes(rep, "mr_enclave", b->mr_enclave, 32));
    CL(vti_claim_bytes(rep, "mr_signer", b->mr_signer, 32));
    CL(vti_claim_int(rep, "isv_prod_id", b->isv_prod_id));
    CL(vti_claim_int(rep, "isv_svn", b->isv_svn));
    CL(vti_claim_bytes(rep, "attributes", b->attributes, 16));
    CL(vti_claim_bool(rep, "debug", (b->attributes[0] & 0x02) != 0));
    CL(vti_claim_bytes(rep, "cpu_svn", b->cpusvn, 16));
    CL(vti_claim_int(rep, "misc_select", b->miscselect));
    CL(vti_claim_bytes(rep, "config_id", b->config_id, 64));
    CL(vti_claim_int(rep, "config_svn", b->config_svn));
    CL(vti_claim_bytes(rep, "isv_ext_prod_id", b->isv_ext_prod_id, 16));
    CL(vti_claim_bytes(rep, "isv_family_id", b->isv_family_id, 16));
    CL(vti_claim_bytes(rep, "report_data", b->report_data, 64));
    return vti_ok();
}

static vt_res td_claims(struct vt_report *rep, const struct vt_td_body *b)
{
    uint8_t le[8];
    CL(vti_claim_bytes(rep, "mr_td", b->mr_td, 48));
    CL(vti_claim_bytes(rep, "mr_config_id", b->mr_config_id, 48));
    CL(vti_claim_bytes(rep, "mr_owner", b->mr_owner, 48));
    CL(vti_claim_bytes(rep, "mr_owner_config", b->mr_owner_config, 48));
    static const char *const rn[4] = { "rtmr0", "rtmr1", "rtmr2", "rtmr3" };
    for (int i = 0; i < 4; i++)
        CL(vti_claim_bytes(rep, rn[i], b->rtmr[i], 48));
    memcpy(le, b->raw + 128, 8);
    CL(vti_claim_bytes(rep, "xfam", le, 8));
    memcpy(le, b->raw + 120, 8);
    CL(vti_claim_bytes(rep, "td_attributes", le, 8));
    CL(vti_claim_bool(rep, "debug", (b->td_attributes & 1) != 0));
    CL(vti_claim_bytes(rep, "mr_seam", b->mr_seam, 48));
    CL(vti_claim_bytes(rep, "mr_signer_seam", b->mr_signer_seam, 48));
    memcpy(le, b->raw + 112, 8);
    CL(vti_claim_bytes(rep, "seam_attributes", le, 8));
    CL(vti_claim_bytes(rep, "tee_tcb_svn", b->tee_tcb_svn, 16));
    CL(vti_claim_bytes(rep, "report_data", b->report_data, 64));
    if (b->has_15) {
        CL(vti_claim_bytes(rep, "tee_tcb_svn2", b->tee_tcb_svn2, 16));
        CL(vti_claim_bytes(rep, "mr_service_td", b->mr_service_td, 48));
    }
    return vti_ok();
}

/* ---- TCB evaluation (reported) ------------------------------------------------------ */

/* The QE report against the QE Identity (FORMATS.md 3, step 9). */
static vt_res report_qe(const struct vt_intel_quote *q, const struct vti_intel_trust *t,
                        struct vt_report *rep, const struct vt_intel_level **ql)
{
    const struct vt_sgx_body *qe = &q->qe_report;
    struct vti_intel_qe_eval e;
    vt_res r = vti_intel_qe_eval(&t->qe, qe, &e);
    vti_report_step(rep, e.ok, "QE report matches the QE Identity (MRSIGNER %s, ISVPRODID %u %s, "
                    "MISCSELECT %s, ATTRIBUTES %s): %s", e.mrsigner_ok ? "ok" : "differs",
                    qe->isv_prod_id, e.isvprodid_ok ? "ok" : "differs",
                    e.miscselect_ok ? "ok" : "differs", e.attributes_ok ? "ok" : "differs",
                    e.ok ? "ok" : "mismatch");
    if (!e.ok)
        return r; /* VT_ERR_INTEL_QE_IDENTITY_MISMATCH */
    vti_report_step(rep, e.level != NULL, "QE ISVSVN %u: QE TCB status %s", qe->isv_svn,
                    e.level ? vti_intel_status_name(e.level->status) : "not supported");
    GUARD(r); /* VT_ERR_INTEL_QE_TCB_NOT_SUPPORTED */
    GUARD(vti_claim_str(rep, "qe_tcb_status", vti_intel_status_name(e.level->status)));
    *ql = e.level;
    return vti_ok();
}

/* The TDX module identity and its TCB level (steps 6 and 12); r: the evaluation's result. */
static vt_res report_module(const uint8_t *svn, const struct vti_intel_tcb_eval *e, vt_res r,
                            struct vt_report *rep)
{
    vti_report_step(rep, e->module_ok, "TDX module identity %s: MRSIGNERSEAM and SEAMATTRIBUTES %s",
                    e->module_name,
                    e->module ? (e->module_ok ? "match" : "differ") : "missing from the TCB Info");
    if (!e->module_ok)
        return r; /* VT_ERR_INTEL_TDX_MODULE_MISMATCH */
    GUARD(vti_claim_str(rep, "tdx_module_identity", e->module_name));
    if (svn[1] == 0)
        return vti_ok();
    const struct vt_intel_level *ml = e->module_level;
    vti_report_step(rep, ml != NULL, "TDX module SVN %u: module TCB status %s", svn[0],
                    ml ? vti_intel_status_name(ml->status) : "not supported");
    if (!ml)
        return r; /* VT_ERR_INTEL_TDX_MODULE_NOT_SUPPORTED */
    GUARD(vti_claim_str(rep, "tdx_module_tcb_status", vti_intel_status_name(ml->status)));
    return vti_ok();
}

/* The platform level and how the final status came about (steps 11, 13, 14). */
static void report_status(const struct vti_intel_tcb_in *in, const struct vti_intel_tcb_eval *e,
                          struct vt_report *rep)
{
    const struct vt_intel_level *pl = e->level, *ml = e->module_level;
    const uint8_t *svn = in->tee_tcb_svn;
    vti_report_step(rep, pl != NULL, "platform TCB level (PCK components, PCESVN %u%s): %s%s%s",
                    in->pcesvn,
                    in->tdx ? (svn[1] > 0 ? ", TEE_TCB_SVN[2..15]" : ", TEE_TCB_SVN[0..15]") : "",
                    pl ? vti_intel_status_name(pl->status) : "no matching TCB level",
                    pl ? " from " : "", pl ? pl->date : "");
    if (!pl)
        return;
    if (ml && e->with_module != pl->status)
        vti_report_step(rep, -1, "merged with the TDX module status %s: %s",
                        vti_intel_status_name(ml->status), vti_intel_status_name(e->with_module));
    if (e->relaunch)
        vti_report_step(rep, -1, "TEE_TCB_SVN2 reaches the newest level: %s",
                        vti_intel_status_name(e->before_qe));
    if (e->status != e->before_qe)
        vti_report_step(rep, -1, "merged with the QE TCB status %s: %s",
                        vti_intel_status_name(in->qe->status), vti_intel_status_name(e->status));
}

static vt_res evaluate(const struct vt_intel_quote *q, const struct vti_intel_trust *t,
                       struct vt_report *rep)
{
    bool tdx = q->tee_type == VT_INTEL_TEE_TDX;
    struct vti_intel_tcb_in in = {
        .tcb = &t->tcb, .comps = t->ext.comps, .pcesvn = t->ext.pcesvn, .tdx = tdx,
        .tee_tcb_svn = tdx ? q->td.tee_tcb_svn : NULL,
        .mr_signer_seam = tdx ? q->td.mr_signer_seam : NULL,
        .seam_attributes = tdx ? q->td.seam_attributes : 0,
        .tee_tcb_svn2 = tdx && q->td.has_15 ? q->td.tee_tcb_svn2 : NULL,
    };
    GUARD(report_qe(q, t, rep, &in.qe));
    struct vti_intel_tcb_eval e;
    vt_res r = vti_intel_tcb_eval(&in, &e);
    if (tdx)
        GUARD(report_module(in.tee_tcb_svn, &e, r, rep));
    report_status(&in, &e, rep);
    GUARD(r); /* VT_ERR_INTEL_TCB_NOT_SUPPORTED */
    const char *fin = vti_intel_status_name(e.status);
    GUARD(vti_claim_strlist(rep, "advisory_ids", e.adv, e.n_adv));
    GUARD(vti_claim_str(rep, "tcb_date", e.date));
    GUARD(vti_claim_str(rep, "platform_tcb_status", vti_intel_status_name(e.level->status)));
    GUARD(vti_claim_str(rep, "tcb_status", fin));
    vti_report_set_tcb_status(rep, fin);
    bool revoked = e.status == VT_ISTAT_REVOKED;
    vti_report_step(rep, !revoked, "TCB status %s%s", fin,
                    revoked ? ": revoked" : " (acceptance is policy)");
    ENSURE(!revoked, VT_ERR_INTEL_TCB_REVOKED);
    return vti_ok();
}

/* ---- the verifier ------------------------------------------------------------------- */

/* Parse the quote and report its claims (shown even when verification fails later). */
static vt_res parse_and_claim(const uint8_t *ev, size_t len, struct vt_intel_quote *q,
                              struct vt_report *rep)
{
    vt_res r = vt_intel_quote_parse(ev, len, q);
    if (!vti_is_ok(r)) {
        vti_report_step(rep, 0, "parse Intel quote (%zu bytes): %s", len, vt_strerror(r.err));
        return r;
    }
    bool tdx = q->tee_type == VT_INTEL_TEE_TDX;
    vti_report_set_tee(rep, tdx ? "tdx" : "sgx");
    vti_report_step(rep, 1, "parse Intel quote: version %u, %s, %s body, signature data %u "
                    "bytes, %zu bytes after it (%zu non-zero; ignored, unsigned)", q->version,
                    tdx ? "TDX" : "SGX",
                    q->body_type == VT_INTEL_BODY_SGX ? "SGX" :
                    q->body_type == VT_INTEL_BODY_TD10 ? "TDX 1.0" : "TDX 1.5",
                    q->sig_data_len, q->trailing_len, q->trailing_nonzero);
    memcpy(rep->report_data, tdx ? q->td.report_data : q->sgx.report_data, 64);
    rep->has_report_data = true;
    GUARD(vti_claim_int(rep, "quote_version", q->version));
    if (q->version == 3) {
        GUARD(vti_claim_int(rep, "qe_svn", q->qe_svn));
        GUARD(vti_claim_int(rep, "pce_svn", q->pce_svn));
    }
    return tdx ? td_claims(rep, &q->td) : sgx_claims(rep, &q->sgx);
}

/* The checked-once part: from the cache, or checked now (and cached). */
static vt_res get_trust(const struct vti_verify_ctx *ctx, const struct vt_intel_quote *q,
                        const struct vt_intel_collateral *col, const struct vti_intel_anchors *an,
                        struct vt_report *rep, struct vti_intel_trust **t)
{
    uint8_t key[32];
    GUARD(vti_intel_trust_key(q, col, an, key));
    *t = vti_intel_trust_get(key, ctx->at);
    if (!*t)
        return vti_intel_trust_build(q, col, an, key, ctx->at, rep, t);
    char a[32], b[32];
    vti_time_format((*t)->lo, a);
    vti_time_format((*t)->hi, b);
    vti_report_step(rep, 1, "PCK chain, CRLs, TCB Info and QE Identity: same bytes verified "
                    "before (cache), all valid %s .. %s", a, b);
    return vti_ok();
}

static vt_res pck_claims(const struct vti_intel_trust *t, struct vt_report *rep)
{
    char f[13];
    vti_hex_encode(t->ext.fmspc, 6, f);
    GUARD(vti_claim_str(rep, "fmspc", f));
    vti_hex_encode(t->ext.pceid, 2, f);
    GUARD(vti_claim_str(rep, "pce_id", f));
    return vti_claim_str(rep, "pck_issuer", t->pck_issuer);
}

/* QE report signature and report data, attestation key, quote signature (steps 7, 8, 10). */
static vt_res check_quote_sigs(const struct vt_intel_quote *q, struct vti_intel_trust *t,
                               struct vt_report *rep)
{
    bool ok = vti_intel_qe_report_sig_ok(t, q->qe_report.raw, q->qe_report_sig);
    vti_report_step(rep, ok, "QE report signature by the PCK key: %s", ok ? "ok" : "invalid");
    ENSURE(ok, VT_ERR_INTEL_QE_REPORT_SIGNATURE);
    uint8_t h[32];
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    unsigned int hl = 32;
    ok = m && EVP_DigestInit_ex(m, EVP_sha256(), NULL) == 1 &&
         EVP_DigestUpdate(m, q->att_key, 64) == 1 &&
         (q->qe_auth_len == 0 || EVP_DigestUpdate(m, q->qe_auth, q->qe_auth_len) == 1) &&
         EVP_DigestFinal_ex(m, h, &hl) == 1;
    EVP_MD_CTX_free(m);
    ENSURE(ok, VT_ERR_INTERNAL);
    ok = vti_ct_eq(h, q->qe_report.report_data, 32);
    vti_report_step(rep, ok, "QE report data = SHA-256(attestation key || %u bytes QE auth "
                    "data): %s", q->qe_auth_len, ok ? "ok" : "differs");
    ENSURE(ok, VT_ERR_INTEL_QE_REPORT_DATA);
    EVP_PKEY *ak = vti_intel_attestation_key(t, q->att_key);
    vti_report_step(rep, ak != NULL, "attestation key is a P-256 point: %s", ak ? "ok" : "no");
    ENSURE(ak, VT_ERR_INTEL_ATT_KEY);
    ok = vti_intel_ecdsa_raw_ok(ak, q->signed_p, q->signed_len, q->quote_sig);
    EVP_PKEY_free(ak);
    vti_report_step(rep, ok, "quote signature by the attestation key over header and body "
                    "(%zu bytes): %s", q->signed_len, ok ? "ok" : "invalid");
    ENSURE(ok, VT_ERR_INTEL_QUOTE_SIGNATURE);
    return vti_ok();
}

vt_res vti_intel_verify_with(const struct vti_verify_ctx *ctx,
                             const struct vt_intel_collateral *col, const uint8_t *ev,
                             size_t len, struct vt_report *rep)
{
    struct vt_intel_quote q;
    GUARD(parse_and_claim(ev, len, &q, rep));
    if (!col) {
        vti_report_step(rep, 0, "Intel collateral (TCB Info, QE Identity, CRLs): none given");
        return VT_FAIL(VT_ERR_INTEL_NO_COLLATERAL);
    }
    struct vti_intel_anchors an = { 0 };
    struct vti_intel_trust *t = NULL;
    vt_res r = vti_ok();
    GUARD_GOTO(vti_intel_anchors_load(ctx, &an), r, out);
    GUARD_GOTO(get_trust(ctx, &q, col, &an, rep, &t), r, out);
    rep->insecure = t->insecure;
    GUARD_GOTO(pck_claims(t, rep), r, out);
    GUARD_GOTO(check_quote_sigs(&q, t, rep), r, out);
    GUARD_GOTO(evaluate(&q, t, rep), r, out);
out:
    vti_intel_trust_release(t);
    vti_intel_anchors_free(&an);
    return r;
}

static bool intel_accepts(uint64_t tag, const uint8_t *ev, size_t len)
{
    if (tag == VT_TAG_INTEL)
        return true;
    return tag == 0 && vti_intel_quote_plausible(ev, len);
}

/* A result given with collateral that verified for this quote: a TCB or policy verdict. */
static bool collateral_held(vt_res r)
{
    vt_category c = vt_err_category(r.err);
    return vti_is_ok(r) || c == VT_CAT_TCB || c == VT_CAT_POLICY;
}

/* Collateral from the PCCS (or intel.cache_dir), verified with the quote; the downloads are
 * cached only once they verified for it, and a failure with anything taken from the cache is
 * retried once with fresh downloads (a bad cached entry never outlives a good PCCS answer).
 * If the retry cannot even download, the first failure is reported. */
static vt_res pccs_verify(const struct vti_verify_ctx *ctx, const char *url,
                          const struct vti_pccs_req *req, const uint8_t *ev, size_t len,
                          struct vt_report *rep)
{
    const char *dir = vti_intel_opt(ctx, "intel.cache_dir");
    struct vti_fetch_batch b = { 0 };
    vt_res r = vti_ok(), first = vti_ok();
    for (int pass = 0; pass < 2; pass++) {
        struct vt_intel_collateral col = { 0 };
        b.refresh = pass > 0;
        r = vti_intel_pccs_fetch(url, dir, ctx->at, req, &b, &col, rep);
        bool fetched = vti_is_ok(r);
        if (fetched)
            r = vti_intel_verify_with(ctx, &col, ev, len, rep);
        vti_intel_collateral_free(&col);
        if (fetched && collateral_held(r))
            vti_fetch_batch_commit(&b, dir, ctx->at);
        bool retry = pass == 0 && fetched && !collateral_held(r) && b.any_cached;
        vti_fetch_batch_free(&b);
        if (pass > 0 && !fetched)
            r = first;
        if (!retry)
            break;
        first = r;
        vti_report_step(rep, -1, "collateral taken from the cache did not verify (%s): "
                        "fetching it again", vt_strerror(r.err));
    }
    return r;
}

static vt_res intel_verify(const struct vti_verify_ctx *ctx, const uint8_t *ev, size_t len,
                           struct vt_report *rep)
{
    struct vt_intel_collateral col = { 0 };
    bool have = false;
    vt_res r = vti_ok();
    if (ctx->opts && ctx->opts->collateral) {
        r = vti_intel_collateral_load_path_cached(ctx->opts->collateral, &col, NULL);
        vti_report_step(rep, vti_is_ok(r), "Intel collateral from %s: %s", ctx->opts->collateral,
                        vti_is_ok(r) ? "loaded" : vt_strerror(r.err));
        have = true;
    } else if (vti_intel_opt(ctx, "intel.pccs_url")) {
        /* asked for explicitly: fetch (or take from intel.cache_dir) what this quote needs */
        const char *url = vti_intel_opt(ctx, "intel.pccs_url");
        struct vt_intel_quote q;
        struct vti_pccs_req req;
        memset(&req, 0, sizeof(req));
        if (vti_is_ok(vt_intel_quote_parse(ev, len, &q))) {
            r = vti_intel_pccs_req_from_quote(&q, &req);
            if (vti_is_ok(r)) {
                char f[13];
                vti_hex_encode(req.fmspc, 6, f);
                vti_report_step(rep, 1, "PCCS %s: fetch %s collateral for FMSPC %s, PCK %s CA",
                                url, req.tdx ? "TDX" : "SGX", f,
                                req.processor_ca ? "Processor" : "Platform");
                return pccs_verify(ctx, url, &req, ev, len, rep);
            } else {
                vti_report_step(rep, 0, "PCCS %s: FMSPC from the quote's PCK certificate: %s",
                                url, vt_strerror(r.err));
            }
            have = true;
        } /* else: vti_intel_verify_with reports the parse failure */
    } else if (ctx->endorsements && ctx->endorsements_len > 0) {
        r = vti_intel_collateral_from_endorsements(ctx->endorsements, ctx->endorsements_len, &col);
        vti_report_step(rep, vti_is_ok(r), "Intel collateral from the certificate's endorsements "
                        "(%zu bytes): %s", ctx->endorsements_len,
                        vti_is_ok(r) ? "loaded" : vt_strerror(r.err));
        have = true;
    }
    if (vti_is_ok(r))
        r = vti_intel_verify_with(ctx, have ? &col : NULL, ev, len, rep);
    vti_intel_collateral_free(&col);
    return r;
}

static const char *const intel_options[] = { "intel.root_ca", "intel.pccs_url", "intel.cache_dir", NULL };
static const struct vt_verifier_ops intel_verifier = {
    .hdr = { VT_INSTANCE_ABI, VT_KIND_VERIFIER, "intel", 50, 0, intel_options },
    .tee = "intel",
    .accepts = intel_accepts,
    .verify = intel_verify,
};
const struct vt_instance_hdr *const vt_inst_intel_verifier = &intel_verifier.hdr;
