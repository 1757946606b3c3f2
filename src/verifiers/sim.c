/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sim.c - the "sim" verifier: checks sim TEE evidence (layout in src/evidence/sim_evidence.c).
 *
 * Trust: sim evidence is insecure by construction. It is trusted ONLY if its attestation key
 * certificate chains to a root the caller passed explicitly (vt_verify_opts.root_ca_files,
 * e.g. DIR/root-ca.pem from `veritee sim init`): no roots -> VT_ERR_NO_ROOT, other roots ->
 * VT_ERR_SIM_CHAIN. Every report it produces has insecure = true.
 *
 * Order of checks: parse (structure, magic, version, flags) -> report data recorded (so the
 * RA-TLS binding can be reported even when later checks fail) -> trust anchors given -> AK
 * certificate well-formed P-256 -> AK chains to a given root at the verification time -> AK
 * signature over the signed region. Claims: measurement, report_data, insecure.
 *
 * Cost per call (attested TLS calls this once per handshake): the root files are re-read and
 * PEM-decoded every time (tens of microseconds; a replaced root file takes effect at once),
 * but the expensive parts are memoized by content in the crypto backend (src/crypto/openssl.c):
 * the AK certificate's parse, its chain to exactly these root bytes (only successes, only
 * strictly inside the validity window of the validated path) and its decoded public key. So a
 * platform seen before costs one ECDSA verification here: its evidence signature, which is
 * never cached (it is what binds this evidence, with its report data, to the AK).
 */
#include <string.h>

#include "cert/ratls_parse.h"
#include "core/report.h"
#include "crypto/crypto.h"
#include "evidence/sim_evidence.h"
#include "util/codec.h"

#define SIM_MAX_ROOTS 64

static bool sim_accepts(uint64_t tag, const uint8_t *ev, size_t len)
{
    return (tag == 0 || tag == VTI_TAG_SIM) && len >= 8 && memcmp(ev, VTI_SIM_MAGIC, 8) == 0; /* lint: public */
}

struct roots {
    size_t n;
    struct vt_pem_list files[8];
    struct vt_der der[SIM_MAX_ROOTS];
};

static void roots_free(struct roots *r)
{
    for (size_t i = 0; i < VT_ARRAY_LEN(r->files); i++)
        vti_pem_list_free(&r->files[i]);
}

static vt_res roots_load(const struct vt_verify_opts *o, struct roots *out, struct vt_report *rep)
{
    ENSURE(o->n_root_ca_files <= VT_ARRAY_LEN(out->files), VT_ERR_TOO_LARGE);
    for (size_t i = 0; i < o->n_root_ca_files; i++) {
        struct vt_buf b = VT_BUF_INIT;
        vt_res r = vti_file_read(o->root_ca_files[i], 1u << 20, &b);
        if (!r.err)
            r = vti_pem_decode(b.p, b.len, "CERTIFICATE", &out->files[i]);
        vti_buf_free_nowipe(&b);
        if (r.err) {
            vti_report_step(rep, 0, "read trust anchors from %s: %s", o->root_ca_files[i],
                            vt_strerror(r.err));
            return r;
        }
        for (size_t k = 0; k < out->files[i].n && out->n < SIM_MAX_ROOTS; k++)
            out->der[out->n++] = (struct vt_der){ out->files[i].der[k].p, out->files[i].der[k].len };
    }
    return vti_ok();
}

static vt_res sim_verify(const struct vti_verify_ctx *ctx, const uint8_t *ev, size_t len,
                         struct vt_report *rep)
{
    vti_report_set_tee(rep, "sim");
    rep->insecure = true;
    struct vti_sim_evidence se;
    vt_res r = vti_sim_evidence_parse(ev, len, &se);
    vti_report_step(rep, !r.err, "sim evidence structure (%zu bytes: magic, version 1, INSECURE flag)%s%s",
                    len, r.err ? ": " : "", r.err ? vt_strerror(r.err) : "");
    GUARD(r);
    memcpy(rep->report_data, se.report_data, 64);
    rep->has_report_data = true;

    const struct vt_verify_opts *o = ctx->opts;
    size_t nfiles = o ? o->n_root_ca_files : 0;
    vti_report_step(rep, nfiles > 0, "trust anchor for sim evidence given explicitly (%zu file%s)",
                    nfiles, nfiles == 1 ? "" : "s");
    ENSURE(nfiles > 0, VT_ERR_NO_ROOT);

    const struct vt_crypto_ops *cr;
    GUARD(vti_crypto_get(NULL, &cr));
    struct roots roots;
    memset(&roots, 0, sizeof(roots));
    struct vt_cert_info ak;
    memset(&ak, 0, sizeof(ak));
    GUARD_GOTO(roots_load(o, &roots, rep), r, done);

    /* No self-signature check (VT_CERT_PARSE_SELF_SIG): the AK certificate is issued by the
     * root, and chain_verify below verifies its signature with the root's key. */
    r = cr->cert_parse(se.ak_cert, se.ak_cert_len, 0, &ak);
    bool ak_ok = !r.err && !strcmp(ak.key_desc, "secp256r1");
    vti_report_step(rep, ak_ok, "attestation key certificate parsed, ECDSA P-256 key (found: %s)",
                    r.err ? "unparsable" : ak.key_desc);
    ENSURE_GOTO(ak_ok, VT_ERR_SIM_AK_CERT, r, done);

    char when[32];
    vti_time_format(ctx->at, when);
    struct vt_der leaf = { se.ak_cert, se.ak_cert_len };
    r = cr->chain_verify(&leaf, 1, roots.der, roots.n, ctx->at);
    vti_report_step(rep, !r.err, "attestation key \"%s\" (issuer \"%s\") chains to one of %zu given root%s at %s",
                    ak.subject, ak.issuer, roots.n, roots.n == 1 ? "" : "s", when);
    if (r.err) {
        r = VT_FAIL(r.err == VT_ERR_NOT_TRUSTED ? VT_ERR_SIM_CHAIN : r.err);
        goto done;
    }

    r = cr->verify((struct vt_der){ ak.spki.p, ak.spki.len }, VT_HASH_SHA256, se.signed_p,
                   se.signed_len, se.sig, se.sig_len);
    vti_report_step(rep, !r.err, "evidence signature (ECDSA P-256/SHA-256 over %zu bytes) by the attestation key",
                    se.signed_len);
    if (r.err) {
        r = VT_FAIL(r.err == VT_ERR_SIGNATURE || r.err == VT_ERR_CRYPTO ? VT_ERR_SIM_SIGNATURE : r.err);
        goto done;
    }
    GUARD_GOTO(vti_claim_bytes(rep, "measurement", se.measurement, VTI_SIM_MEASUREMENT_LEN), r, done);
    GUARD_GOTO(vti_claim_bytes(rep, "report_data", se.report_data, 64), r, done);
    GUARD_GOTO(vti_claim_bool(rep, "insecure", true), r, done);
done:
    vti_cert_info_free(&ak);
    roots_free(&roots);
    return r;
}

static const struct vt_verifier_ops sim_verifier = {
    .hdr = { VT_INSTANCE_ABI, VT_KIND_VERIFIER, "sim", 1, VT_INST_EXPLICIT, NULL },
    .tee = "sim",
    .accepts = sim_accepts,
    .verify = sim_verify,
};
const struct vt_instance_hdr *const vt_inst_sim_verifier = &sim_verifier.hdr;
