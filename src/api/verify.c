/* SPDX-License-Identifier: Apache-2.0 */
/*
 * verify.c - vt_verify(): the public entry point for verifying evidence, raw or inside an
 * RA-TLS certificate.
 *
 * Input detection (the input is untrusted): raw evidence that a verifier's accepts(0, ...)
 * recognises goes to that verifier first (an Intel quote embeds PEM certificates); else a
 * PEM "CERTIFICATE" block, or DER that parses
 * completely as an X.509 certificate, goes to the RA-TLS certificate verifier
 * (src/cert/ratls.c, which also checks the key binding); anything else is raw evidence and
 * goes to the verifier named in opts->verifier or to the one that accepts it
 * (vti_verifier_for with tag 0). A report is always produced when memory allows; the return
 * value is VT_OK only if the report says verified.
 */
#include <string.h>
#include <time.h>

#include "cert/ratls.h"
#include "core/instance.h"
#include "core/report.h"
#include "crypto/crypto.h"
#include "util/secmem.h"

static bool looks_like_der_cert(const struct vt_crypto_ops *cr, const uint8_t *p, size_t len)
{
    /* SEQUENCE with a long-form length: every certificate, and no evidence format we know */
    if (len < 4 || p[0] != 0x30 || (p[1] != 0x81 && p[1] != 0x82 && p[1] != 0x83))
        return false;
    struct vt_cert_info ci;
    vt_res r = cr->cert_parse(p, len, 0, &ci); /* shape only: no self-signature check */
    if (r.err)
        return false;
    vti_cert_info_free(&ci);
    return true;
}

/* --report-data on raw evidence: exactly these bytes, zero-padded to 64 (unless the verifier
 * compared them itself, as the Azure vTPM verifiers do with the TPM quote's nonce). */
static vt_res check_report_data(const struct vt_verify_opts *opts, struct vt_report *rep)
{
    if (!opts->report_data || rep->report_data_checked)
        return vti_ok();
    uint8_t want[64] = { 0 };
    ENSURE(opts->report_data_len <= 64, VT_ERR_INVALID_ARG);
    memcpy(want, opts->report_data, opts->report_data_len);
    bool ok = rep->has_report_data && vti_ct_eq(rep->report_data, want, 64);
    vti_report_step(rep, ok, "report data equals the expected report data (%zu bytes, "
                    "zero-padded to 64): %s", opts->report_data_len, ok ? "ok" : "no");
    ENSURE(ok, VT_ERR_REPORT_DATA_MISMATCH);
    return vti_ok();
}

static vt_res verify_raw(const struct vt_verify_opts *opts, int64_t at, const uint8_t *data,
                         size_t len, struct vt_report *rep)
{
    const struct vt_verifier_ops *v = NULL;
    vt_res r;
    if (opts->verifier) {
        const struct vt_instance_hdr *h;
        r = vti_instance_find(VT_KIND_VERIFIER, opts->verifier, &h);
        if (!r.err) {
            v = (const struct vt_verifier_ops *)h;
            if (!v->accepts || !v->accepts(0, data, len))
                r = VT_FAIL(VT_ERR_UNKNOWN_EVIDENCE);
        }
    } else {
        r = vti_verifier_for(0, data, len, &v);
    }
    vti_report_step(rep, !r.err, "verifier for this evidence (%zu bytes): %s", len,
                    r.err ? vt_strerror(r.err) : v->hdr.name);
    GUARD(r);
    struct vti_verify_ctx vctx = { .opts = opts, .at = at };
    GUARD(v->verify(&vctx, data, len, rep));
    return check_report_data(opts, rep);
}

VTI_API int vt_verify(const struct vt_verify_opts *opts, const uint8_t *data, size_t len,
                      vt_report **ret_report)
{
    if (!ret_report)
        return VT_ERR_INVALID_ARG;
    *ret_report = NULL;
    struct vt_verify_opts none = { 0 };
    if (!opts)
        opts = &none;
    struct vt_report *rep = NULL;
    vt_res r = vti_registry_init(opts->plugin_dir);
    if (!r.err)
        r = vti_options_check(opts->options, opts->n_options, NULL);
    const struct vt_crypto_ops *cr = NULL;
    if (!r.err)
        r = vti_crypto_get(NULL, &cr);
    if (r.err || !data || len == 0) {
        rep = vti_report_new();
        if (!rep)
            return VT_ERR_NOMEM;
        if (!r.err)
            r = VT_FAIL(VT_ERR_INVALID_ARG);
        vti_report_step(rep, 0, "verification set-up: %s", vt_strerror(r.err));
        vti_report_fail(rep, r.err, NULL);
        *ret_report = rep;
        return r.err;
    }
    struct vt_verify_opts o = *opts;
    if (!o.at)
        o.at = (int64_t)time(NULL);

    /* Raw evidence that a verifier recognises wins: an Intel quote carries its PCK chain as
     * PEM CERTIFICATE text inside, and must not be taken for a certificate. */
    const struct vt_verifier_ops *raw_v = NULL;
    bool raw = vti_verifier_for(0, data, len, &raw_v).err == 0;
    if (!raw && vti_pem_has(data, len, "CERTIFICATE")) {
        struct vt_pem_list pl = { 0 };
        r = vti_pem_decode(data, len, "CERTIFICATE", &pl);
        if (!r.err) {
            r = vti_cert_verify(&o, pl.der[0].p, pl.der[0].len, &rep);
            vti_pem_list_free(&pl);
        }
    } else if (!raw && looks_like_der_cert(cr, data, len)) {
        r = vti_cert_verify(&o, data, len, &rep);
    } else {
        rep = vti_report_new();
        if (!rep)
            return VT_ERR_NOMEM;
        r = verify_raw(&o, o.at, data, len, rep);
        if (r.err)
            vti_report_fail(rep, r.err, NULL);
        rep->verified = !r.err;
    }
    if (!rep) {
        rep = vti_report_new();
        if (!rep)
            return VT_ERR_NOMEM;
        vti_report_step(rep, 0, "certificate PEM decoding: %s", vt_strerror(r.err));
        vti_report_fail(rep, r.err ? r.err : VT_ERR_INTERNAL, NULL);
    }
    *ret_report = rep;
    return rep->err ? rep->err : (r.err ? r.err : VT_OK);
}
