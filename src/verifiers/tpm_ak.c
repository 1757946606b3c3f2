/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tpm_ak.c - trust in a plain TPM's attestation key: pinned digest or AK certificate chain
 * (see tpm_ak.h). Trust boundary: the certificate is untrusted until chain_verify accepts the
 * path; root and collateral files are the verifier's configuration (read, size-capped; their
 * loaded certificates kept across verifications while the files are unchanged: tpm_ak_certs.c).
 */
#include <openssl/sha.h>
#include <stdio.h>
#include <string.h>

#include "crypto/crypto.h"
#include "util/codec.h"
#include "util/secmem.h"
#include "verifiers/tpm_ak.h"
#include "verifiers/tpm_ak_certs.h"

#define MAX_CERTS 64           /* root certificates considered */
#define MAX_ROOT_FILES 64       /* --root-ca files (each one set) */
#define MAX_INTERMEDIATES 6
#define MAX_PINS 16

const char *vti_tpm_opt(const struct vti_verify_ctx *ctx, const char *name)
{
    const struct vt_verify_opts *o = ctx ? ctx->opts : NULL;
    for (size_t i = 0; o && i < o->n_options; i++)
        if (o->options[i].name && strcmp(o->options[i].name, name) == 0)
            return o->options[i].value;
    return NULL;
}

/* ---- pinned AK ------------------------------------------------------------------------ */

/* Parse "HEX[,HEX]..." into pins; VT_ERR_TPM_OPTION if malformed. */
static vt_res parse_pins(const char *v, uint8_t pins[MAX_PINS][32], size_t *n)
{
    *n = 0;
    while (v && *v) {
        const char *end = strchr(v, ',');
        size_t l = end ? (size_t)(end - v) : strlen(v);
        ENSURE(l == 64 && *n < MAX_PINS, VT_ERR_TPM_OPTION);
        ENSURE(!vti_hex_decode_span(v, l, pins[*n], 32).err, VT_ERR_TPM_OPTION);
        (*n)++;
        v = end ? end + 1 : NULL;
        ENSURE(!end || *v, VT_ERR_TPM_OPTION);
    }
    return vti_ok();
}

static vt_res check_pin(const char *opt, const uint8_t digest[32], struct vt_report *rep)
{
    uint8_t pins[MAX_PINS][32];
    size_t n = 0;
    vt_res r = parse_pins(opt, pins, &n);
    if (!vti_is_ok(r) || n == 0) {
        vti_report_step(rep, 0, "pinned AK (tpm.ak_sha256): %s", vt_strerror(VT_ERR_TPM_OPTION));
        return VT_FAIL(VT_ERR_TPM_OPTION);
    }
    bool ok = false;
    for (size_t i = 0; i < n; i++)
        ok |= vti_ct_eq(pins[i], digest, 32);
    char h[65];
    vti_hex_encode(digest, 32, h);
    vti_report_step(rep, ok, "AK SHA-256(SubjectPublicKeyInfo) %s is a pinned tpm.ak_sha256 "
                    "(%zu pinned): %s", h, n, ok ? "ok" : "no");
    ENSURE(ok, VT_ERR_TPM_AK_PIN_MISMATCH);
    return vti_ok();
}

/* ---- chain ---------------------------------------------------------------------------- */

/* The path leaf -> intermediates by issuer name, from the collateral certificates (their names
 * parsed once, when the set was loaded). */
static size_t build_path(const struct vt_cert_info *leaf, const struct vti_tpm_certset *col,
                         struct vt_der *chain)
{
    const char *want = leaf->issuer;
    bool used[VTI_TPM_MAX_CERTS] = { false };
    size_t n = 1;
    while (n <= MAX_INTERMEDIATES && col) {
        bool found = false;
        for (size_t i = 0; i < col->n && !found; i++) {
            const struct vti_tpm_cert *c = &col->c[i];
            if (used[i] || !c->named || c->self_issued || strcmp(c->subject, want) != 0)
                continue;
            chain[n++] = (struct vt_der){ c->der.p, c->der.len };
            want = c->issuer;
            used[i] = found = true;
        }
        if (!found)
            break;
    }
    return n;
}

static vt_res validity(const struct vt_cert_info *ci, int64_t at, struct vt_report *rep)
{
    char nb[32], na[32], t[32];
    vti_time_format(ci->not_before, nb);
    vti_time_format(ci->not_after, na);
    vti_time_format(at, t);
    bool early = at < ci->not_before, late = at > ci->not_after;
    vti_report_step(rep, !early && !late, "AK certificate valid at %s (%s .. %s): %s", t, nb, na,
                    early ? "not yet valid" : late ? "expired" : "ok");
    ENSURE(!early, VT_ERR_TPM_AK_CERT_NOT_YET_VALID);
    ENSURE(!late, VT_ERR_TPM_AK_CERT_EXPIRED);
    return vti_ok();
}

struct anchors {
    const struct vti_tpm_certset *set[MAX_ROOT_FILES];
    size_t n_sets, n;
    struct vt_der der[MAX_CERTS];
};

static void anchors_free(struct anchors *a)
{
    for (size_t i = 0; i < a->n_sets; i++)
        vti_tpm_certset_put(a->set[i]);
    a->n_sets = 0;
}

/* The --root-ca certificates (at most MAX_CERTS, as before: the first ones). */
static vt_res load_roots(const struct vt_crypto_ops *cr, const struct vt_verify_opts *o,
                         struct anchors *a, struct vt_report *rep)
{
    for (size_t i = 0; o && i < o->n_root_ca_files; i++) {
        const struct vti_tpm_certset *s = NULL;
        vt_res r = a->n_sets < MAX_ROOT_FILES
                   ? vti_tpm_certset_get(cr, o->root_ca_files[i], true, &s) : vti_ok();
        if (!vti_is_ok(r)) {
            vti_report_step(rep, 0, "--root-ca %s: %s", o->root_ca_files[i], vt_strerror(r.err));
            return r;
        }
        if (!s)
            continue;
        a->set[a->n_sets++] = s;
        for (size_t j = 0; j < s->n && a->n < MAX_CERTS; j++)
            a->der[a->n++] = (struct vt_der){ s->c[j].der.p, s->c[j].der.len };
    }
    return vti_ok();
}

static vt_res chain(const struct vt_crypto_ops *cr, const struct vti_verify_ctx *ctx,
                    const struct vt_cert_info *ci, const uint8_t *cert, size_t cert_len,
                    struct vt_report *rep)
{
    struct anchors roots = { .n_sets = 0 };
    const struct vti_tpm_certset *col = NULL;
    vt_res r = load_roots(cr, ctx->opts, &roots, rep);
    const char *cp = ctx->opts ? ctx->opts->collateral : NULL;
    if (vti_is_ok(r) && cp) {
        r = vti_tpm_certset_get(cr, cp, false, &col);
        if (!vti_is_ok(r))
            vti_report_step(rep, 0, "--collateral %s: %s", cp, vt_strerror(r.err));
    }
    if (vti_is_ok(r)) {
        struct vt_der path[1 + MAX_INTERMEDIATES + 1];
        path[0] = (struct vt_der){ cert, cert_len };
        size_t n = build_path(ci, col, path);
        r = cr->chain_verify(path, n, roots.der, roots.n, ctx->at);
        vti_report_step(rep, vti_is_ok(r), "AK certificate chains to a --root-ca (%zu root(s), "
                        "%zu intermediate(s) from --collateral by issuer name): %s", roots.n,
                        n - 1, vti_is_ok(r) ? "ok" : "no");
        if (!vti_is_ok(r))
            r = VT_FAIL(VT_ERR_TPM_AK_CERT_UNTRUSTED);
    }
    anchors_free(&roots);
    vti_tpm_certset_put(col);
    return r;
}

/* The AK certificate: parse, key == ak_public, validity, chain. */
static vt_res certified(const struct vti_verify_ctx *ctx, const uint8_t *spki, size_t spki_len,
                        const uint8_t *cert, size_t cert_len, struct vt_report *rep,
                        struct vti_tpm_ak_result *out)
{
    const struct vt_crypto_ops *cr = NULL;
    GUARD(vti_crypto_get(NULL, &cr));
    struct vt_cert_info ci;
    /* no self-signature check: the chain check below verifies it against its issuer */
    vt_res r = cr->cert_parse(cert, cert_len, 0, &ci);
    vti_report_step(rep, vti_is_ok(r), "parse AK certificate (%zu bytes DER)%s%s", cert_len,
                    vti_is_ok(r) ? "" : ": ", vti_is_ok(r) ? "" : vt_strerror(r.err));
    ENSURE(vti_is_ok(r), VT_ERR_TPM_AK_CERT);
    bool same = ci.spki.len == spki_len &&
                memcmp(ci.spki.p, spki, spki_len) == 0; /* lint: public (public keys) */
    vti_report_step(rep, same, "AK certificate public key equals ak_public: %s", same ? "ok" : "no");
    r = same ? validity(&ci, ctx->at, rep) : VT_FAIL(VT_ERR_TPM_AK_CERT_KEY);
    if (vti_is_ok(r))
        r = chain(cr, ctx, &ci, cert, cert_len, rep);
    if (vti_is_ok(r)) {
        out->certified = true;
        snprintf(out->subject, sizeof(out->subject), "%s", ci.subject);
        snprintf(out->issuer, sizeof(out->issuer), "%s", ci.issuer);
    }
    vti_cert_info_free(&ci);
    return r;
}

vt_res vti_tpm_ak_trust(const struct vti_verify_ctx *ctx, const uint8_t *spki, size_t spki_len,
                        const uint8_t *cert, size_t cert_len, struct vt_report *rep,
                        struct vti_tpm_ak_result *out)
{
    memset(out, 0, sizeof(*out));
    const char *pin = vti_tpm_opt(ctx, "tpm.ak_sha256");
    uint8_t d[32];
    SHA256(spki, spki_len, d);
    if (pin) {
        GUARD(check_pin(pin, d, rep));
        out->pinned = true;
    }
    bool roots = ctx->opts && ctx->opts->n_root_ca_files > 0;
    if (cert_len && roots)
        return certified(ctx, spki, spki_len, cert, cert_len, rep, out);
    if (cert_len && !pin) {
        vti_report_step(rep, 0, "AK certificate: %s", vt_strerror(VT_ERR_TPM_AK_NO_ROOT));
        return VT_FAIL(VT_ERR_TPM_AK_NO_ROOT);
    }
    if (cert_len)
        vti_report_step(rep, -1, "AK certificate not checked (no --root-ca): the AK is trusted "
                        "by its pin");
    if (!pin) {
        vti_report_step(rep, 0, "AK trust: %s", vt_strerror(VT_ERR_TPM_AK_UNTRUSTED));
        return VT_FAIL(VT_ERR_TPM_AK_UNTRUSTED);
    }
    return vti_ok();
}
