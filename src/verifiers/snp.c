/* SPDX-License-Identifier: Apache-2.0 */
/*
 * snp.c - the AMD SEV-SNP verifier instance ("snp").
 *
 * Owns: the SNP verification procedure (../shared/FORMATS.md section 5): parse the report,
 * expose its claims, gather certificates (collateral file/directory, the certificate table
 * carried as endorsements, optionally the AMD KDS), verify ARK -> ASK/ASVK -> VCEK/VLEK
 * (amd_chain.c, cached), then the chip id against the VCEK hwID, the reported TCB against
 * the certificate's SPL extensions (Turin layout included) and the report signature
 * (ECDSA P-384 / SHA-384 over bytes 0x000..0x29F).
 * Trust boundary: evidence, endorsements and collateral are untrusted. Claims are set right
 * after parsing (so certificate tools can show them), but rep->verified is decided by the
 * caller from this function's result. SNP has no Intel-style TCB status: none is set; the
 * TCB values are claims.
 *
 * Evidence: the raw 1184-byte report (CBOR tag 0 = raw, or 0x1a7504 as rats-tls uses).
 * Endorsements: an SNP_GET_EXT_REPORT certificate table (see amd_certs.h).
 * Options (vt_verify_opts.options): "snp.product" = Milan|Genoa|Turin (needed to reject a
 * wrong product line for v2 reports, which do not name it); "snp.kds_url" (fetch from an AMD
 * KDS, amd_kds.c; ignored when opts->collateral is given), "snp.cache_dir" (its cache).
 */
#include <inttypes.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "core/instance.h"
#include "core/report.h"
#include "crypto/ossl_util.h"
#include "endorsements/amd_certs.h"
#include "endorsements/amd_chain.h"
#include "endorsements/amd_kds.h"
#include "evidence/snp_report.h"
#include "util/codec.h"
#include "util/secmem.h"

#define VT_TAG_SNP 0x1a7504u

static const char *opt(const struct vti_verify_ctx *ctx, const char *name)
{
    if (!ctx->opts)
        return NULL;
    for (size_t i = 0; i < ctx->opts->n_options; i++)
        if (ctx->opts->options[i].name && strcmp(ctx->opts->options[i].name, name) == 0)
            return ctx->opts->options[i].value;
    return NULL;
}

static vt_res claim_hex64(struct vt_report *rep, const char *name, uint64_t v)
{
    char s[24];
    snprintf(s, sizeof(s), "0x%" PRIx64, v);
    return vti_claim_str(rep, name, s);
}

static vt_res claim_tcb(struct vt_report *rep, const char *name, uint64_t raw,
                        enum vt_snp_product p)
{
    char n[48];
    struct vt_snp_tcb t = vti_snp_tcb_split(raw, p);
    GUARD(claim_hex64(rep, name, raw));
    snprintf(n, sizeof(n), "%s_bl", name);
    GUARD(vti_claim_int(rep, n, t.bl));
    snprintf(n, sizeof(n), "%s_tee", name);
    GUARD(vti_claim_int(rep, n, t.tee));
    snprintf(n, sizeof(n), "%s_snp", name);
    GUARD(vti_claim_int(rep, n, t.snp));
    snprintf(n, sizeof(n), "%s_ucode", name);
    GUARD(vti_claim_int(rep, n, t.ucode));
    if (p == VT_SNP_PRODUCT_TURIN) {
        snprintf(n, sizeof(n), "%s_fmc", name);
        GUARD(vti_claim_int(rep, n, t.fmc));
    }
    return vti_ok();
}

static vt_res claims_tcbs(struct vt_report *rep, const struct vt_snp_report *r,
                          enum vt_snp_product p)
{
    GUARD(claim_tcb(rep, "current_tcb", r->current_tcb, p));
    GUARD(claim_tcb(rep, "reported_tcb", r->reported_tcb, p));
    GUARD(claim_tcb(rep, "committed_tcb", r->committed_tcb, p));
    GUARD(claim_tcb(rep, "launch_tcb", r->launch_tcb, p));
    return vti_ok();
}

static vt_res add_claims(struct vt_report *rep, const struct vt_snp_report *r)
{
    char s[32];
    GUARD(vti_claim_int(rep, "version", r->version));
    GUARD(vti_claim_int(rep, "guest_svn", r->guest_svn));
    GUARD(claim_hex64(rep, "policy", r->policy));
    GUARD(vti_claim_int(rep, "policy_abi_major", (r->policy >> 8) & 0xff));
    GUARD(vti_claim_int(rep, "policy_abi_minor", r->policy & 0xff));
    GUARD(vti_claim_bool(rep, "debug", (r->policy & VT_SNP_POLICY_DEBUG) != 0));
    GUARD(vti_claim_bool(rep, "migrate_ma", (r->policy & VT_SNP_POLICY_MIGRATE_MA) != 0));
    GUARD(vti_claim_bool(rep, "smt", (r->policy & VT_SNP_POLICY_SMT) != 0));
    GUARD(vti_claim_bool(rep, "single_socket", (r->policy & VT_SNP_POLICY_SINGLE_SOCKET) != 0));
    GUARD(vti_claim_bool(rep, "cxl_allow", (r->policy & VT_SNP_POLICY_CXL_ALLOW) != 0));
    GUARD(vti_claim_bool(rep, "mem_aes_256_xts", (r->policy & VT_SNP_POLICY_MEM_AES_256_XTS) != 0));
    GUARD(vti_claim_bool(rep, "rapl_dis", (r->policy & VT_SNP_POLICY_RAPL_DIS) != 0));
    GUARD(vti_claim_bool(rep, "ciphertext_hiding", (r->policy & VT_SNP_POLICY_CIPHERTEXT_HIDING) != 0));
    GUARD(vti_claim_bool(rep, "page_swap_disable", (r->policy & VT_SNP_POLICY_PAGE_SWAP_DISABLE) != 0));
    GUARD(vti_claim_bytes(rep, "family_id", r->family_id, 16));
    GUARD(vti_claim_bytes(rep, "image_id", r->image_id, 16));
    GUARD(vti_claim_int(rep, "vmpl", r->vmpl));
    GUARD(vti_claim_int(rep, "signature_algo", r->signature_algo));
    GUARD(claim_hex64(rep, "platform_info", r->platform_info));
    GUARD(vti_claim_bool(rep, "platform_smt_enabled", (r->platform_info & 1) != 0));
    GUARD(vti_claim_bool(rep, "platform_tsme_enabled", (r->platform_info & 2) != 0));
    GUARD(claim_hex64(rep, "flags", r->flags));
    GUARD(vti_claim_bool(rep, "author_key_en", r->author_key_en));
    GUARD(vti_claim_bool(rep, "mask_chip_key", r->mask_chip_key));
    GUARD(vti_claim_str(rep, "signing_key", r->signer == VT_SNP_SIGNER_VLEK ? "VLEK" : "VCEK"));
    GUARD(vti_claim_bytes(rep, "report_data", r->report_data, 64));
    GUARD(vti_claim_bytes(rep, "measurement", r->measurement, 48));
    GUARD(vti_claim_bytes(rep, "host_data", r->host_data, 32));
    GUARD(vti_claim_bytes(rep, "id_key_digest", r->id_key_digest, 48));
    GUARD(vti_claim_bytes(rep, "author_key_digest", r->author_key_digest, 48));
    GUARD(vti_claim_bytes(rep, "report_id", r->report_id, 32));
    GUARD(vti_claim_bytes(rep, "report_id_ma", r->report_id_ma, 32));
    GUARD(vti_claim_bytes(rep, "chip_id", r->chip_id, 64));
    if (r->version >= 3) {
        GUARD(vti_claim_int(rep, "cpuid_fam_id", r->cpuid_fam_id));
        GUARD(vti_claim_int(rep, "cpuid_mod_id", r->cpuid_mod_id));
        GUARD(vti_claim_int(rep, "cpuid_step", r->cpuid_step));
    }
    snprintf(s, sizeof(s), "%u.%u.%u", r->current_major, r->current_minor, r->current_build);
    GUARD(vti_claim_str(rep, "current_version", s));
    snprintf(s, sizeof(s), "%u.%u.%u", r->committed_major, r->committed_minor, r->committed_build);
    GUARD(vti_claim_str(rep, "committed_version", s));
    if (r->version >= 5) {
        GUARD(claim_hex64(rep, "launch_mit_vector", r->launch_mit_vector));
        GUARD(claim_hex64(rep, "current_mit_vector", r->current_mit_vector));
    }
    if (r->product != VT_SNP_PRODUCT_UNKNOWN) {
        GUARD(vti_claim_str(rep, "product", vti_snp_product_name(r->product)));
        GUARD(claims_tcbs(rep, r, r->product));
    }
    return vti_ok();
}

static bool snp_accepts(uint64_t tag, const uint8_t *ev, size_t len)
{
    if (tag == VT_TAG_SNP)
        return true;
    return tag == 0 && vti_snp_report_plausible(ev, len);
}

static vt_res gather(const struct vti_verify_ctx *ctx, const struct vt_snp_report *r,
                     enum vt_snp_product product, struct vt_amd_blobs *certs,
                     struct vt_amd_blobs *roots, struct vti_fetch_batch *b,
                     struct vt_report *rep)
{
    const struct vt_verify_opts *o = ctx->opts;
    if (o && o->collateral) {
        size_t before = certs->n;
        vt_res res = vti_amd_blobs_load_path(certs, o->collateral);
        vti_report_step(rep, vti_is_ok(res), "AMD certificates from collateral %s: %zu%s",
                        o->collateral, certs->n - before,
                        vti_is_ok(res) ? "" : " (unreadable)");
        GUARD(res);
    }
    if (ctx->endorsements && ctx->endorsements_len > 0) {
        size_t before = certs->n;
        const uint8_t *tab;
        size_t tlen;
        vti_amd_endorsements_unwrap(ctx->endorsements, ctx->endorsements_len, &tab, &tlen);
        vt_res res = vti_amd_cert_table_parse(tab, tlen, certs);
        vti_report_step(rep, vti_is_ok(res), "AMD certificates from the certificate table: %zu%s",
                        certs->n - before, vti_is_ok(res) ? "" : " (malformed table)");
        GUARD(res);
    }
    /* the KDS only when asked for, and never instead of an explicit collateral */
    const char *kds = opt(ctx, "snp.kds_url");
    if (kds && !(o && o->collateral)) {
        size_t before = certs->n;
        vt_res res = vti_amd_kds_fetch(kds, opt(ctx, "snp.cache_dir"), ctx->at, r, product,
                                       b, certs, rep);
        vti_report_step(rep, vti_is_ok(res), "AMD certificates from KDS %s: %zu%s%s", kds,
                        certs->n - before, vti_is_ok(res) ? "" : ": ",
                        vti_is_ok(res) ? "" : vt_strerror(res.err));
        GUARD(res);
    }
    for (size_t i = 0; o && i < o->n_root_ca_files; i++) {
        struct vt_buf f = VT_BUF_INIT;
        size_t added = 0;
        vt_res res = vti_file_read(o->root_ca_files[i], VT_AMD_MAX_FILE_LEN, &f);
        if (vti_is_ok(res))
            res = vti_amd_blobs_add_content(roots, f.p, f.len, &added);
        vti_buf_free_nowipe(&f);
        GUARD(res);
    }
    return vti_ok();
}

/* The certificates (collateral, certificate table, KDS), their chain to a pinned ARK, the
 * binding of the VCEK / VLEK to this report and the report signature. */
static vt_res verify_keys(const struct vti_verify_ctx *ctx, const struct vt_snp_report *r,
                          enum vt_snp_product product, struct vti_fetch_batch *b,
                          struct vt_report *rep)
{
    struct vt_amd_blobs certs = { 0 }, roots = { 0 };
    struct vt_amd_chain_out ch = { 0 };
    vt_res res = gather(ctx, r, product, &certs, &roots, b, rep);
    if (vti_is_ok(res) && certs.n == 0) {
        vti_report_step(rep, 0, "AMD certificates available: none");
        res = VT_FAIL(VT_ERR_SNP_NO_CERTS);
    }
    if (!vti_is_ok(res))
        goto out;
    struct vt_amd_chain_in in = {
        .certs = &certs, .roots = &roots, .signer = r->signer, .product = product,
        .chip_id = r->chip_id, .reported_tcb = r->reported_tcb,
        .at = ctx->at,
    };
    GUARD_GOTO(vti_amd_chain_verify(&in, rep, &ch), res, out);
    if (product == VT_SNP_PRODUCT_UNKNOWN) {
        product = ch.product;
        GUARD_GOTO(vti_claim_str(rep, "product", vti_snp_product_name(product)), res, out);
        GUARD_GOTO(claims_tcbs(rep, r, product), res, out);
    }
    rep->insecure = ch.insecure;

    /* chip id against the VCEK hwID (Turin: the first 8 bytes) */
    if (r->signer == VT_SNP_SIGNER_VCEK) {
        if (r->mask_chip_key) {
            vti_report_step(rep, -1, "chip id masked by the guest (MASK_CHIP_KEY): hwID not compared");
        } else {
            size_t n = ch.ext.hwid_len;
            bool ok = n > 0 && vti_ct_eq(ch.ext.hwid, r->chip_id, n);
            if (ok && n < 64) {
                static const uint8_t zero[64];
                ok = vti_ct_eq(r->chip_id + n, zero, 64 - n);
            }
            vti_report_step(rep, ok, "chip id equals the VCEK hwID (%zu bytes): %s", n,
                            ok ? "ok" : "no");
            ENSURE_GOTO(ok, VT_ERR_SNP_CHIP_ID_MISMATCH, res, out);
        }
    } else {
        vti_report_step(rep, -1, "VLEK-signed: no chip id binding (csp_id \"%s\")", ch.ext.csp_id);
    }

    /* reported TCB against the certificate's SPLs */
    struct vt_snp_tcb t = vti_snp_tcb_split(r->reported_tcb, product);
    bool tcb = t.bl == ch.ext.bl && t.tee == ch.ext.tee && t.snp == ch.ext.snp &&
               t.ucode == ch.ext.ucode;
    if (product == VT_SNP_PRODUCT_TURIN)
        tcb = tcb && ch.ext.has_fmc && t.fmc == ch.ext.fmc;
    char fmc_r[16] = "", fmc_c[16] = "";
    if (product == VT_SNP_PRODUCT_TURIN) {
        snprintf(fmc_r, sizeof(fmc_r), "fmc %u ", t.fmc);
        snprintf(fmc_c, sizeof(fmc_c), "fmc %u ", ch.ext.fmc);
    }
    vti_report_step(rep, tcb, "reported TCB (%sbl %u tee %u snp %u ucode %u) equals the "
                    "certificate TCB (%sbl %u tee %u snp %u ucode %u): %s",
                    fmc_r, t.bl, t.tee, t.snp, t.ucode, fmc_c, ch.ext.bl, ch.ext.tee,
                    ch.ext.snp, ch.ext.ucode, tcb ? "ok" : "no");
    ENSURE_GOTO(tcb, VT_ERR_SNP_TCB_MISMATCH, res, out);

    res = vti_ossl_ecdsa_verify_rs(ch.key, EVP_sha384(), r->sig_r, r->sig_s, 48, r->signed_bytes,
                                   r->signed_len, VT_ERR_SNP_SIGNATURE);
    vti_report_step(rep, vti_is_ok(res), "report signature (ECDSA P-384 SHA-384 over bytes "
                    "0x000..0x29F) by the %s: %s", r->signer == VT_SNP_SIGNER_VLEK ? "VLEK" : "VCEK",
                    vti_is_ok(res) ? "ok" : "invalid");
out:
    vti_amd_chain_out_free(&ch);
    vti_amd_blobs_free(&certs);
    vti_amd_blobs_free(&roots);
    return res;
}

/* verify_keys; KDS downloads are cached only once they verified for this report, and a failure
 * with a certificate taken from the cache is retried once with fresh downloads. If the retry
 * cannot even download, the first failure is reported. */
static vt_res verify_keys_kds(const struct vti_verify_ctx *ctx, const struct vt_snp_report *r,
                              enum vt_snp_product product, struct vt_report *rep)
{
    const char *dir = opt(ctx, "snp.cache_dir");
    struct vti_fetch_batch b = { 0 };
    vt_res res = vti_ok(), first = vti_ok();
    for (int pass = 0; pass < 2; pass++) {
        b.refresh = pass > 0;
        res = verify_keys(ctx, r, product, &b, rep);
        if (vti_is_ok(res))
            vti_fetch_batch_commit(&b, dir, ctx->at);
        bool retry = pass == 0 && !vti_is_ok(res) && b.any_cached;
        bool fetch_failed = vt_err_category(res.err) == VT_CAT_IO;
        vti_fetch_batch_free(&b);
        if (pass > 0 && fetch_failed)
            res = first;
        if (!retry)
            break;
        first = res;
        vti_report_step(rep, -1, "certificates taken from the cache did not verify (%s): "
                        "fetching them again", vt_strerror(res.err));
    }
    return res;
}

static vt_res snp_verify(const struct vti_verify_ctx *ctx, const uint8_t *ev, size_t len,
                         struct vt_report *rep)
{
    struct vt_snp_report r;
    vti_report_set_tee(rep, "snp");
    vt_res res = vti_snp_report_parse(ev, len, &r);
    if (!vti_is_ok(res)) {
        vti_report_step(rep, 0, "parse SNP report (%zu bytes): %s", len, vt_strerror(res.err));
        return res;
    }
    vti_report_step(rep, 1, "parse SNP report: version %u, %s-signed, VMPL %u, policy 0x%" PRIx64,
                    r.version, r.signer == VT_SNP_SIGNER_VLEK ? "VLEK" : "VCEK", r.vmpl, r.policy);
    memcpy(rep->report_data, r.report_data, 64);
    rep->has_report_data = true;
    GUARD(add_claims(rep, &r));
    if (r.policy & VT_SNP_POLICY_DEBUG)
        vti_report_step(rep, -1, "guest policy allows DEBUG (bit 19): appraisal policy decides");

    /* product line: the report (v3+ CPUID), optionally pinned by the caller */
    enum vt_snp_product product = r.product;
    const char *want = opt(ctx, "snp.product");
    if (want) {
        enum vt_snp_product w = vti_snp_product_from_name(want, strlen(want));
        ENSURE(w != VT_SNP_PRODUCT_UNKNOWN, VT_ERR_SNP_PRODUCT_UNKNOWN);
        bool ok = product == VT_SNP_PRODUCT_UNKNOWN || product == w;
        vti_report_step(rep, ok, "product line %s (snp.product) agrees with the report (%s): %s",
                        want, vti_snp_product_name(product), ok ? "ok" : "no");
        ENSURE(ok, VT_ERR_SNP_PRODUCT_MISMATCH);
        product = w;
    } else {
        vti_report_step(rep, -1, "product line from the report: %s%s",
                        vti_snp_product_name(product),
                        product == VT_SNP_PRODUCT_UNKNOWN ? " (v2: taken from the certificates)" : "");
    }

    return verify_keys_kds(ctx, &r, product, rep);
}

static const char *const snp_verifier_options[] = { "snp.product", "snp.kds_url", "snp.cache_dir", NULL };
static const struct vt_verifier_ops snp_verifier = {
    .hdr = { VT_INSTANCE_ABI, VT_KIND_VERIFIER, "snp", 50, 0, snp_verifier_options },
    .tee = "snp",
    .accepts = snp_accepts,
    .verify = snp_verify,
};
const struct vt_instance_hdr *const vt_inst_snp_verifier = &snp_verifier.hdr;
