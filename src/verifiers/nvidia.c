/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nvidia.c - the NVIDIA GPU verifier ("nvidia"): SPDM 1.1 measurement reports of Hopper and
 * Blackwell GPUs, as guest-components sends them (nvidia_evidence.h; docs/nvidia.md).
 *
 * Owns: the chain of bindings of ../shared/DESIGN.md section 8 for devices, per device i,
 * each link recorded for --explain (prefix "gpu.<i>"), in this order:
 *   1. the SPDM request || response (evidence/spdm.c), the signature found by parsing;
 *   2. the device certificate chain (leaf first) to NVIDIA's device identity root, pinned by
 *      the SHA-256 fingerprint of its DER (a --root-ca anchor instead makes the report
 *      insecure, for tests and sim devices), every certificate valid at the verification time;
 *   3. the leaf key is ECDSA P-384; the signature (raw r||s) over SHA-384(request ||
 *      response up to the signature) verifies with it;
 *   4. the FWID of the leaf's DiceTcbInfo extension (2.23.133.5.4.1; Hopper: the raw value,
 *      Blackwell: fwids[0]) equals the FWID item of the opaque data;
 *   5. the request nonce equals the expected nonce (vt_verify_opts.report_data, 32 bytes);
 *   6. revocation: OCSP responses from the collateral directory (nvidia_ocsp.c), else the
 *      claim gpu.<i>.revocation = not-checked (never a silent "ok");
 *   7. reference values (nvidia_rims.c): with a driver and a VBIOS RIM in the collateral
 *      (XML-DSig verified at the verification time), measurement block i+1 equals an
 *      alternative of RIM index i over the active indices (gpu.<i>.rim = match / mismatch, a
 *      mismatch naming each index); without them the measurements are only claims
 *      (gpu.<i>.rim = not-appraised).
 * Across the list: the same report (or the same device leaf) twice is refused.
 * Every link of every device is evaluated and recorded even after one failed (so --explain
 * shows a flipped nonce as both a signature and a nonce failure); the first failure of the
 * first failing device is the result. Claims are added for every parsed device, but the
 * report is verified only if every link of every device held.
 * Trust boundary: the whole evidence is untrusted; the GPU evidence is bound to the CPU TEE
 * only through the nonce (not to the TD itself: see docs/nvidia.md).
 */
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <string.h>

#include "core/instance.h"
#include "core/report.h"
#include "crypto/crypto.h"
#include "crypto/ossl_util.h"
#include "evidence/dice_tcb.h"
#include "evidence/spdm.h"
#include "util/codec.h"
#include "util/secmem.h"
#include "verifiers/nvidia_evidence.h"
#include "verifiers/nvidia_ocsp.h"
#include "verifiers/nvidia_rims.h"

/* SHA-256 of the DER of NVIDIA's device identity root ("NVIDIA Device Identity CA", the
 * nvtrust local verifier's verifier_device_root.pem). */
static const uint8_t nv_device_root_sha256[32] = {
    0x10, 0x2b, 0xf6, 0x59, 0xd5, 0x41, 0x96, 0x14, 0xc9, 0xd8, 0xe6, 0xae, 0xce, 0xbc, 0x80, 0x45,
    0x4e, 0xb2, 0x6b, 0x1d, 0xf6, 0xa7, 0x69, 0xac, 0x72, 0x0b, 0x9a, 0x69, 0x0b, 0x16, 0x7b, 0x48,
};

#define NV_MAX_ROOTS 16
#define NV_MAX_CHAIN 8

struct nv {
    const struct vti_verify_ctx *ctx;
    struct vt_report *rep;
    STACK_OF(X509) *roots;          /* --root-ca anchors */
    struct vti_nv_ocsp ocsp;
    struct vti_nv_rims rims;
    struct vti_nv_ev ev;
};

struct nv_dev {
    struct nv *nv;
    size_t i;
    const struct vti_nv_device *d;
    struct vt_spdm_report *spdm;    /* heap: ~7 KiB */
    bool parsed;
    STACK_OF(X509) *chain;          /* as given, leaf first */
    STACK_OF(X509) *verified;       /* leaf .. anchor, after step 2 */
    bool insecure;
    const char *revocation;
    const char *rim;
    char rim_detail[200];           /* the differing indices of a RIM mismatch */
    vt_res first;                   /* first failure of this device */
};

static void note(struct nv_dev *g, vt_res r)
{
    if (!vti_is_ok(r) && vti_is_ok(g->first))
        g->first = r;
}

/* ---- trust anchors ------------------------------------------------------------------- */

static bool is_pinned(X509 *x)
{
    unsigned char *der = NULL;
    uint8_t h[32];
    int n = i2d_X509(x, &der);
    if (n <= 0)
        return false;
    SHA256(der, (size_t)n, h);
    OPENSSL_free(der);
    return vti_ct_eq(h, nv_device_root_sha256, 32);
}

/* DER certificates of a PEM text (or one DER certificate) appended to st. */
static vt_res certs_from(const uint8_t *p, size_t len, size_t max, STACK_OF(X509) *st, int err)
{
    struct vt_pem_list pl = { 0 };
    struct vt_der one = { p, len };
    bool pem = vti_pem_has(p, len, "CERTIFICATE");
    ENSURE(!pem || vti_is_ok(vti_pem_decode(p, len, "CERTIFICATE", &pl)), err);
    size_t n = pem ? pl.n : 1;
    vt_res r = n <= max ? vti_ok() : VT_FAIL(err);
    for (size_t i = 0; vti_is_ok(r) && i < n; i++) {
        const unsigned char *q = pem ? pl.der[i].p : one.p;
        long l = (long)(pem ? pl.der[i].len : one.len);
        X509 *x = d2i_X509(NULL, &q, l);
        if (!x || q != (pem ? pl.der[i].p : one.p) + l || !sk_X509_push(st, x)) {
            X509_free(x);
            r = VT_FAIL(err);
        }
    }
    vti_pem_list_free(&pl);
    return r;
}

static vt_res load_roots(struct nv *nv)
{
    const struct vt_verify_opts *o = nv->ctx->opts;
    nv->roots = sk_X509_new_null();
    ENSURE(nv->roots, VT_ERR_NOMEM);
    for (size_t i = 0; o && i < o->n_root_ca_files; i++) {
        struct vt_buf f = VT_BUF_INIT;
        vt_res r = vti_file_read(o->root_ca_files[i], 1u << 20, &f);
        if (vti_is_ok(r))
            r = certs_from(f.p, f.len, NV_MAX_ROOTS, nv->roots, VT_ERR_NV_ROOT_FILE);
        vti_buf_free_nowipe(&f);
        vti_report_step(nv->rep, vti_is_ok(r), "extra trust anchors from %s%s%s",
                        o->root_ca_files[i], vti_is_ok(r) ? "" : ": ",
                        vti_is_ok(r) ? "" : vt_strerror(r.err));
        ENSURE(vti_is_ok(r), VT_ERR_NV_ROOT_FILE);
    }
    return vti_ok();
}

/* ---- 1: the SPDM report -------------------------------------------------------------- */

static vt_res parse_report(struct nv_dev *g)
{
    struct vt_spdm_report *s = g->spdm;
    vt_res r = vti_spdm_parse(g->d->report.p, g->d->report.len, s);
    if (!vti_is_ok(r)) {
        vti_report_step(g->nv->rep, 0, "gpu.%zu: parse SPDM 1.1 report (%zu bytes): %s%s", g->i,
                        g->d->report.len, vt_strerror(r.err),
                        r.err == VT_ERR_SPDM_TRAILING ? " (see trailing count)" : "");
        if (r.err == VT_ERR_SPDM_TRAILING)
            vti_report_step(g->nv->rep, 0, "gpu.%zu: %zu byte(s) after the signature", g->i,
                            s->trailing);
        return r;
    }
    g->parsed = true;
    vti_report_step(g->nv->rep, 1, "gpu.%zu: parse SPDM 1.1 report (%zu bytes): request %u "
                    "bytes (slot %u, index 0x%02x), %u measurement blocks (%u bytes), opaque "
                    "data %u bytes (%zu items), signature at offset %zu (%u bytes)", g->i,
                    g->d->report.len, VT_SPDM_REQ_LEN, s->slot, s->req_index, s->n_blocks,
                    s->record_len, s->opaque_len, s->n_opaque, s->signed_len, VT_SPDM_SIG_LEN);
    return vti_ok();
}

/* ---- 2: the device certificate chain --------------------------------------------------- */

static vt_res chain_error(int xerr)
{
    switch (xerr) {
    case X509_V_ERR_CERT_HAS_EXPIRED:
    case X509_V_ERR_CERT_NOT_YET_VALID:
        return VT_FAIL(VT_ERR_NV_CERT_EXPIRED);
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
        return VT_FAIL(VT_ERR_NV_ROOT_NOT_TRUSTED);
    default:
        return VT_FAIL(VT_ERR_NV_CHAIN);
    }
}

static vt_res x509_verify(struct nv_dev *g, X509_STORE *st, int *xerr)
{
    X509_STORE_CTX *sc = X509_STORE_CTX_new();
    STACK_OF(X509) *untrusted = sk_X509_dup(g->chain);
    vt_res r = VT_FAIL(VT_ERR_NOMEM);
    if (!sc || !untrusted)
        goto out;
    (void)sk_X509_shift(untrusted); /* the leaf */
    if (X509_STORE_CTX_init(sc, st, sk_X509_value(g->chain, 0), untrusted) != 1)
        goto out;
    X509_VERIFY_PARAM *vp = X509_STORE_CTX_get0_param(sc);
    X509_VERIFY_PARAM_set_time(vp, (time_t)g->nv->ctx->at);
    X509_VERIFY_PARAM_set_flags(vp, X509_V_FLAG_X509_STRICT);
    X509_VERIFY_PARAM_set_depth(vp, NV_MAX_CHAIN);
    if (X509_verify_cert(sc) == 1) {
        g->verified = X509_STORE_CTX_get1_chain(sc);
        r = g->verified ? vti_ok() : VT_FAIL(VT_ERR_NOMEM);
    } else {
        *xerr = X509_STORE_CTX_get_error(sc);
        r = chain_error(*xerr);
    }
out:
    sk_X509_free(untrusted);
    X509_STORE_CTX_free(sc);
    return r;
}

static vt_res chain_links(struct nv_dev *g, X509_STORE *st)
{
    struct vt_report *rep = g->nv->rep;
    int n = sk_X509_num(g->chain), xerr = 0;
    X509 *top = sk_X509_value(g->chain, n - 1);
    bool top_pinned = is_pinned(top);
    if (top_pinned)
        ENSURE(X509_STORE_add_cert(st, top) == 1, VT_ERR_NOMEM);
    for (int i = 0; i < sk_X509_num(g->nv->roots); i++)
        ENSURE(X509_STORE_add_cert(st, sk_X509_value(g->nv->roots, i)) == 1, VT_ERR_NOMEM);
    if (!top_pinned && sk_X509_num(g->nv->roots) == 0) {
        vti_report_step(rep, 0, "gpu.%zu: chain top is the pinned NVIDIA device root "
                        "(SHA-256 102bf659..7b48): no, and no --root-ca given", g->i);
        return VT_FAIL(VT_ERR_NV_ROOT_NOT_TRUSTED);
    }
    vt_res r = x509_verify(g, st, &xerr);
    if (!vti_is_ok(r)) {
        vti_report_step(rep, 0, "gpu.%zu: device chain (%d certificates) to the device root at "
                        "the verification time: %s (%s)", g->i, n, vt_strerror(r.err),
                        X509_verify_cert_error_string(xerr));
        return r;
    }
    X509 *anchor = sk_X509_value(g->verified, sk_X509_num(g->verified) - 1);
    g->insecure = !is_pinned(anchor);
    char cn[128] = "";
    X509_NAME_get_text_by_NID(X509_get_subject_name(anchor), NID_commonName, cn, sizeof(cn));
    vti_report_step(rep, 1, "gpu.%zu: device chain (%d certificates, every link and validity "
                    "at the verification time) to \"%s\": %s", g->i, n, cn,
                    g->insecure ? "ok, but anchored in a --root-ca root, not the pinned NVIDIA "
                    "device root (INSECURE)" : "the pinned NVIDIA device root");
    return vti_ok();
}

static vt_res check_chain(struct nv_dev *g)
{
    g->chain = sk_X509_new_null();
    ENSURE(g->chain, VT_ERR_NOMEM);
    vt_res r = certs_from(g->d->chain.p, g->d->chain.len, NV_MAX_CHAIN, g->chain,
                          VT_ERR_NV_CERT_PARSE);
    if (!vti_is_ok(r) || sk_X509_num(g->chain) == 0) {
        vti_report_step(g->nv->rep, 0, "gpu.%zu: decode the device certificate chain: %s",
                        g->i, vt_strerror(VT_ERR_NV_CERT_PARSE));
        return VT_FAIL(VT_ERR_NV_CERT_PARSE);
    }
    X509_STORE *st = X509_STORE_new();
    ENSURE(st, VT_ERR_NOMEM);
    r = chain_links(g, st);
    X509_STORE_free(st);
    return r;
}

/* ---- 3: the signature ------------------------------------------------------------------ */

static vt_res leaf_key(X509 *leaf, EVP_PKEY **out)
{
    char grp[32] = "";
    EVP_PKEY *k = X509_get0_pubkey(leaf);
    ENSURE(k && EVP_PKEY_get_base_id(k) == EVP_PKEY_EC, VT_ERR_NV_KEY_TYPE);
    ENSURE(EVP_PKEY_get_group_name(k, grp, sizeof(grp), NULL) == 1 &&
           strcmp(grp, "secp384r1") == 0, VT_ERR_NV_KEY_TYPE);
    *out = k;
    return vti_ok();
}

static vt_res check_signature(struct nv_dev *g)
{
    EVP_PKEY *k = NULL;
    vt_res r = leaf_key(sk_X509_value(g->chain, 0), &k);
    if (vti_is_ok(r))
        r = vti_ossl_ecdsa_verify_rs(k, EVP_sha384(), g->spdm->signature, g->spdm->signature + 48,
                                     48, g->spdm->signed_bytes, g->spdm->signed_len,
                                     VT_ERR_NV_SIGNATURE);
    vti_report_step(g->nv->rep, vti_is_ok(r), "gpu.%zu: SPDM signature (ECDSA P-384, raw r||s) "
                    "over SHA-384(request || response, %zu bytes) by the device leaf: %s", g->i,
                    g->spdm->signed_len, vti_is_ok(r) ? "ok" : vt_strerror(r.err));
    return r;
}

/* ---- 4: FWID ------------------------------------------------------------------------- */

static vt_res leaf_fwid(X509 *leaf, enum vt_nv_arch arch, const uint8_t **fwid)
{
    ASN1_OBJECT *oid = OBJ_txt2obj("2.23.133.5.4.1", 1);
    ENSURE(oid, VT_ERR_NOMEM);
    int at = X509_get_ext_by_OBJ(leaf, oid, -1);
    bool twice = at >= 0 && X509_get_ext_by_OBJ(leaf, oid, at) >= 0;
    ASN1_OBJECT_free(oid);
    ENSURE(at >= 0 && !twice, VT_ERR_NV_DICE_EXT);
    ASN1_OCTET_STRING *v = X509_EXTENSION_get_data(X509_get_ext(leaf, at));
    ENSURE(v, VT_ERR_NV_DICE_EXT);
    return vti_dice_fwid(ASN1_STRING_get0_data(v), (size_t)ASN1_STRING_length(v),
                         arch == VT_NV_BLACKWELL ? VT_DICE_BLACKWELL : VT_DICE_HOPPER, fwid);
}

static vt_res check_fwid(struct nv_dev *g)
{
    const uint8_t *cert_fwid = NULL;
    const struct vt_spdm_opaque_item *it = vti_spdm_opaque_find(g->spdm, VT_SPDM_OP_FWID);
    vt_res r = it ? vti_ok() : VT_FAIL(VT_ERR_NV_NO_FWID);
    if (vti_is_ok(r))
        r = leaf_fwid(sk_X509_value(g->chain, 0), g->d->arch, &cert_fwid);
    if (vti_is_ok(r) && !vti_ct_eq(cert_fwid, it->value, VT_SPDM_FWID_LEN))
        r = VT_FAIL(VT_ERR_NV_FWID_MISMATCH);
    char h[2 * VT_SPDM_FWID_LEN + 1] = "-";
    if (it)
        vti_hex_encode(it->value, VT_SPDM_FWID_LEN, h);
    vti_report_step(g->nv->rep, vti_is_ok(r), "gpu.%zu: FWID of the opaque data %s equals the "
                    "device leaf's DiceTcbInfo FWID (2.23.133.5.4.1, %s): %s", g->i, h,
                    g->d->arch == VT_NV_BLACKWELL ? "fwids[0]" : "raw value",
                    vti_is_ok(r) ? "ok" : vt_strerror(r.err));
    return r;
}

/* ---- 5: nonce -------------------------------------------------------------------------- */

static vt_res check_nonce(struct nv_dev *g)
{
    const struct vt_verify_opts *o = g->nv->ctx->opts;
    char h[2 * VT_SPDM_NONCE_LEN + 1];
    vti_hex_encode(g->spdm->nonce, VT_SPDM_NONCE_LEN, h);
    if (!o || !o->report_data) {
        vti_report_step(g->nv->rep, -1, "gpu.%zu: request nonce %s not compared (no expected "
                        "nonce given)", g->i, h);
        return vti_ok();
    }
    bool ok = o->report_data_len == VT_SPDM_NONCE_LEN &&
              vti_ct_eq(g->spdm->nonce, o->report_data, VT_SPDM_NONCE_LEN);
    vti_report_step(g->nv->rep, ok, "gpu.%zu: request nonce %s equals the expected nonce: %s",
                    g->i, h, ok ? "ok" : "no");
    return ok ? vti_ok() : VT_FAIL(VT_ERR_NV_NONCE_MISMATCH);
}

/* ---- 6: revocation -------------------------------------------------------------------- */

static vt_res check_revocation(struct nv_dev *g)
{
    bool checked = false;
    vt_res r = vti_ok();
    if (g->verified)
        r = vti_nv_ocsp_check(&g->nv->ocsp, g->verified, g->nv->ctx->at, g->nv->rep, g->i,
                              &checked);
    else
        vti_report_step(g->nv->rep, -1, "gpu.%zu: revocation not checked (the chain did not "
                        "verify)", g->i);
    g->revocation = checked ? "checked" : "not-checked";
    return r;
}

/* ---- 7: reference values ----------------------------------------------------------------- */

static vt_res check_rims(struct nv_dev *g)
{
    if (g->nv->rims.n == 0) {
        g->rim = "not-appraised";
        vti_report_step(g->nv->rep, -1, "gpu.%zu: reference values (RIMs) not appraised: none in "
                        "the collateral; the measurements are reported as claims", g->i);
        return vti_ok();
    }
    return vti_nv_rims_appraise(&g->nv->rims, g->spdm, g->i, g->nv->rep, &g->rim, g->rim_detail,
                                sizeof(g->rim_detail));
}

/* ---- claims ---------------------------------------------------------------------------- */

static vt_res claim(struct nv_dev *g, const char *field, const char *s, const uint8_t *p,
                    size_t n)
{
    char name[96];
    snprintf(name, sizeof(name), "gpu.%zu.%s", g->i, field);
    return s ? vti_claim_str(g->nv->rep, name, s) : vti_claim_bytes(g->nv->rep, name, p, n);
}

static vt_res claims(struct nv_dev *g)
{
    const struct vt_spdm_report *s = g->spdm;
    char v[64], f[32];
    GUARD(claim(g, "arch", vti_nv_arch_name(g->d->arch), NULL, 0));
    if (g->d->uuid[0])
        GUARD(claim(g, "uuid", g->d->uuid, NULL, 0));
    if (vti_spdm_driver_version(vti_spdm_opaque_find(s, VT_SPDM_OP_DRIVER_VERSION), v))
        GUARD(claim(g, "driver_version", v, NULL, 0));
    if (vti_spdm_vbios_version(vti_spdm_opaque_find(s, VT_SPDM_OP_VBIOS_VERSION), v))
        GUARD(claim(g, "vbios_version", v, NULL, 0));
    const struct vt_spdm_opaque_item *fw = vti_spdm_opaque_find(s, VT_SPDM_OP_FWID);
    if (fw)
        GUARD(claim(g, "fwid", NULL, fw->value, fw->len));
    GUARD(claim(g, "nonce", NULL, s->nonce, VT_SPDM_NONCE_LEN));
    for (unsigned i = 0; i < s->n_blocks; i++) {
        snprintf(f, sizeof(f), "measurement.%u", s->blocks[i].index);
        GUARD(claim(g, f, NULL, s->blocks[i].value, s->blocks[i].value_len));
    }
    GUARD(claim(g, "rim", g->rim ? g->rim : "not-appraised", NULL, 0));
    return claim(g, "revocation", g->revocation ? g->revocation : "not-checked", NULL, 0);
}

/* ---- one device ------------------------------------------------------------------------ */

static vt_res device_links(struct nv_dev *g)
{
    GUARD(parse_report(g));
    vt_res chain = check_chain(g);
    note(g, chain);
    if (sk_X509_num(g->chain) > 0)
        note(g, check_signature(g));
    if (sk_X509_num(g->chain) > 0)
        note(g, check_fwid(g));
    note(g, check_nonce(g));
    note(g, check_revocation(g));
    note(g, check_rims(g));
    if (g->insecure)
        g->nv->rep->insecure = true;
    note(g, claims(g));
    return g->first;
}

static vt_res verify_device(struct nv *nv, size_t i, bool first_failure)
{
    struct nv_dev g = { .nv = nv, .i = i, .d = &nv->ev.dev[i] };
    g.spdm = calloc(1, sizeof(*g.spdm));
    vt_res r = g.spdm ? device_links(&g) : VT_FAIL(VT_ERR_NOMEM);
    if (r.err == VT_ERR_NV_RIM_MISMATCH && first_failure && g.rim_detail[0])
        vti_report_fail(nv->rep, r.err, "%s", g.rim_detail); /* name the indices */
    if (vti_is_ok(r) && i == 0) {
        memcpy(nv->rep->report_data, g.spdm->nonce, VT_SPDM_NONCE_LEN);
        nv->rep->has_report_data = true;
    }
    sk_X509_pop_free(g.chain, X509_free);
    sk_X509_pop_free(g.verified, X509_free);
    free(g.spdm);
    return r;
}

/* ---- the list -------------------------------------------------------------------------- */

/* The same report bytes, or the same device leaf certificate, twice in the list. */
static vt_res no_duplicates(struct nv *nv)
{
    uint8_t h[VT_NV_MAX_DEVICES][2][32];
    for (size_t i = 0; i < nv->ev.n; i++) {
        const struct vti_nv_device *d = &nv->ev.dev[i];
        SHA256(d->report.p, d->report.len, h[i][0]);
        SHA256(d->chain.p, d->chain.len, h[i][1]);
        for (size_t j = 0; j < i; j++) {
            bool same_report = memcmp(h[i][0], h[j][0], 32) == 0; /* lint: public digests */
            bool same_chain = memcmp(h[i][1], h[j][1], 32) == 0;  /* lint: public digests */
            if (same_report || same_chain) {
                vti_report_step(nv->rep, 0, "gpu.%zu and gpu.%zu: the same %s twice in the "
                                "evidence list", j, i, same_report ? "device report" :
                                "device certificate chain");
                return VT_FAIL(same_report ? VT_ERR_NV_DUPLICATE_REPORT
                                           : VT_ERR_NV_DUPLICATE_DEVICE);
            }
        }
    }
    vti_report_step(nv->rep, 1, "%zu device report(s) and chain(s), all distinct", nv->ev.n);
    return vti_ok();
}

static vt_res setup(struct nv *nv, const uint8_t *ev, size_t len)
{
    const struct vt_verify_opts *o = nv->ctx->opts;
    vt_res r = vti_nv_evidence_parse(ev, len, &nv->ev);
    vti_report_step(nv->rep, vti_is_ok(r), "parse NVIDIA device evidence JSON (%zu bytes): %s%zu "
                    "device(s)", len, vti_is_ok(r) ? "" : vt_strerror(r.err),
                    vti_is_ok(r) ? nv->ev.n : 0);
    GUARD(r);
    if (o && o->report_data && o->report_data_len != VT_SPDM_NONCE_LEN) {
        vti_report_step(nv->rep, 0, "expected nonce is %zu bytes (want 32)", o->report_data_len);
        return VT_FAIL(VT_ERR_NV_NONCE_LEN);
    }
    GUARD(no_duplicates(nv));
    GUARD(load_roots(nv));
    GUARD(vti_nv_ocsp_load(o ? o->collateral : NULL, &nv->ocsp, nv->rep));
    GUARD(vti_nv_rims_load(o ? o->collateral : NULL, nv->roots, nv->ctx->at, nv->rep, &nv->rims));
    if (nv->rims.insecure)
        nv->rep->insecure = true;
    return vti_ok();
}

static vt_res nv_verify(const struct vti_verify_ctx *ctx, const uint8_t *ev, size_t len,
                        struct vt_report *rep)
{
    struct nv nv = { .ctx = ctx, .rep = rep };
    vti_report_set_tee(rep, "nvidia");
    vt_res r = setup(&nv, ev, len);
    bool listed = vti_is_ok(r);
    for (size_t i = 0; listed && i < nv.ev.n; i++) {
        vt_res d = verify_device(&nv, i, vti_is_ok(r));
        if (vti_is_ok(r))
            r = d; /* the first failure wins; later devices are still listed */
    }
    /* the nonce was compared here (32 bytes exactly): no 64-byte report data comparison */
    rep->report_data_checked = ctx->opts && ctx->opts->report_data;
    sk_X509_pop_free(nv.roots, X509_free);
    vti_nv_ocsp_free(&nv.ocsp);
    vti_nv_rims_free(&nv.rims);
    vti_nv_evidence_free(&nv.ev);
    return r;
}

static bool nv_accepts(uint64_t tag, const uint8_t *ev, size_t len)
{
    return tag == 0 && vti_nv_evidence_shape(ev, len);
}

static const struct vt_verifier_ops nvidia_verifier = {
    .hdr = { VT_INSTANCE_ABI, VT_KIND_VERIFIER, "nvidia", 50, 0, NULL },
    .tee = "nvidia",
    .accepts = nv_accepts,
    .verify = nv_verify,
};
const struct vt_instance_hdr *const vt_inst_nvidia_verifier = &nvidia_verifier.hdr;
