/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ratls.c - RA-TLS identities (key + certificate carrying evidence) and verification of a
 * peer's RA-TLS certificate: the contract in ratls.h.
 *
 * Build (Interoperable RA-TLS, FORMATS.md section 6): claims = CBOR map {"pubkey-hash":
 * bstr(CBOR [1, SHA-256(SPKI DER)]), "nonce"?: bstr, <custom name>: bstr(value) ...};
 * report_data = SHA-256(claims bytes) || 32 zero bytes; the attester's evidence over that report
 * data goes into extension 2.23.133.5.4.9 (non-critical) as tag(T)[bstr evidence, bstr claims]
 * where T is the attester's cbor_tag. Endorsements returned by the attester are stored
 * verbatim (they must already be the tagged CBOR of the spec) in 2.23.133.5.4.2.
 *
 * Verify, in this order, recording every check as a report step:
 *   1. X.509 parse (backend), 2. signature with the certificate's own key, 3. evidence
 *   extension present (else VT_ERR_NO_EVIDENCE), 4. claims buffer shape, 5. pubkey-hash ==
 *   hash(SPKI DER) with the declared algorithm (1/7/8), 6. nonce when the caller expects one,
 *   7. the evidence verifier chosen from the tag (or named by the caller), given the
 *   endorsements of the certificate, 8. report data from the verifier == SHA-256(claims) ||
 *   0^32 on all 64 bytes.
 * Checks 1-6 fail fast (the verifier never runs on a certificate whose key binding is already
 * broken). Check 8 runs even if the verifier failed after parsing (e.g. no collateral), so
 * the binding result is always reported; if it fails, its error takes precedence over the
 * verifier's. The certificate's own validity period is reported, not enforced (the TLS peer
 * certificate is self-signed and its freshness is the evidence's business; FORMATS.md notes
 * real RA-TLS certificates valid for one minute or expired long ago).
 *
 * Gramine's legacy form (no 2.23.133.5.4.9, raw quote under its mis-encoded OID) is verified
 * with its own binding: report_data = SHA-256(SPKI DER) || 0^32. The Intel SGX SDK legacy
 * extension always accompanies the interoperable one and is only reported.
 *
 * Claims added to the verifier's: ratls.pubkey_hash (bytes), ratls.nonce (bytes, if any),
 * ratls.binding (bool: report data binds the claims), and ratls.claim.<name> for each custom
 * claim (its bstr content, or its raw CBOR encoding for other types). Built-in verifier claims
 * cannot be overridden by custom claims.
 *
 * Cost: check 2 (the self-signature) is computed by the crypto backend's cert_parse, asked for
 * with VT_CERT_PARSE_SELF_SIG by vti_ratls_cert_parse (the other parses of the crypto
 * interface do not ask: their certificates are checked against an issuer, or their signature
 * is not used). The openssl backend memoizes the parse by the certificate's exact bytes and
 * flags, so a peer certificate seen before costs no signature check here; a never-seen one
 * costs one ECDSA verification. We keep the check on every path, TLS included, although
 * during a TLS 1.3 handshake it is redundant:
 * CertificateVerify (checked by the TLS library before the handshake completes, and the
 * report is released only after it completes) proves possession of the key whose SPKI hash
 * the evidence binds, and every certificate field the self-signature would additionally
 * protect (subject, validity, other extensions) is either re-derived from evidence-bound
 * claims or reported only. It is one signature on first contact only, and RA-TLS (and
 * `veritee cert verify` outside TLS) require it, so it stays.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "util/cbor.h"
#include "cert/ratls.h"
#include "cert/ratls_parse.h"
#include "crypto/crypto.h"
#include "util/codec.h"
#include "util/secmem.h"

#define DEFAULT_SUBJECT "CN=Veritee RA-TLS,O=Veritee"

/* ---- identities --------------------------------------------------------------------- */

static vt_res claims_build(const struct vt_crypto_ops *cr, const struct vti_identity_params *p,
                           const struct vt_buf *spki, struct vt_buf *claims)
{
    ENSURE(p->n_claims <= VTI_RATLS_MAX_CLAIMS - 2, VT_ERR_CERT_CLAIM_NAME);
    for (size_t i = 0; i < p->n_claims; i++) {
        const char *n = p->claims[i].name;
        ENSURE(n && *n && strlen(n) <= 256 && strcmp(n, "pubkey-hash") && strcmp(n, "nonce"),
               VT_ERR_CERT_CLAIM_NAME);
        ENSURE(p->claims[i].value || p->claims[i].len == 0, VT_ERR_INVALID_ARG);
        for (size_t j = 0; j < i; j++)
            ENSURE(strcmp(n, p->claims[j].name) != 0, VT_ERR_CERT_CLAIM_NAME);
    }
    struct vt_buf pkh = VT_BUF_INIT;
    vt_res r = vti_ok();
    GUARD_GOTO(vti_ratls_pubkey_hash_value(cr, VT_HASH_SHA256, spki->p, spki->len, &pkh), r, done);
    GUARD_GOTO(vti_cbor_put_head(claims, VTI_CBOR_MAP, 1 + (p->nonce ? 1 : 0) + p->n_claims), r,
               done);
    GUARD_GOTO(vti_cbor_put_tstr(claims, "pubkey-hash"), r, done);
    GUARD_GOTO(vti_cbor_put_bstr(claims, pkh.p, pkh.len), r, done);
    if (p->nonce) {
        GUARD_GOTO(vti_cbor_put_tstr(claims, "nonce"), r, done);
        GUARD_GOTO(vti_cbor_put_bstr(claims, p->nonce, p->nonce_len), r, done);
    }
    for (size_t i = 0; i < p->n_claims; i++) {
        GUARD_GOTO(vti_cbor_put_tstr(claims, p->claims[i].name), r, done);
        GUARD_GOTO(vti_cbor_put_bstr(claims, p->claims[i].value, p->claims[i].len), r, done);
    }
done:
    vti_buf_free_nowipe(&pkh);
    return r;
}

vt_res vti_identity_create(const struct vti_identity_params *p, struct vti_identity *out)
{
    ENSURE(p && out, VT_ERR_INVALID_ARG);
    memset(out, 0, sizeof(*out));
    const struct vt_crypto_ops *cr = p->crypto;
    if (!cr)
        GUARD(vti_crypto_get(NULL, &cr));
    vt_res r = vti_ok();
    struct vt_buf key = VT_BUF_INIT, spki = VT_BUF_INIT, claims = VT_BUF_INIT;
    struct vt_buf ev = VT_BUF_INIT, endorse = VT_BUF_INIT, ext = VT_BUF_INIT, cert = VT_BUF_INIT;
    struct vt_x509_ext exts[2];
    size_t nexts = 0;

    GUARD_GOTO(cr->keygen(p->key_type, &key), r, done);
    GUARD_GOTO(cr->key_spki((struct vt_der){ key.p, key.len }, &spki), r, done);
    if (p->attester) {
        ENSURE_GOTO(p->attester->collect, VT_ERR_INVALID_ARG, r, done);
        GUARD_GOTO(claims_build(cr, p, &spki, &claims), r, done);
        uint8_t rd[64] = { 0 };
        GUARD_GOTO(cr->hash(VT_HASH_SHA256, claims.p, claims.len, rd), r, done);
        GUARD_GOTO(p->attester->collect(p->attest_ctx, rd, &ev, &endorse), r, done);
        ENSURE_GOTO(ev.len > 0, VT_ERR_INTERNAL, r, done);
        GUARD_GOTO(vti_ratls_ext_build(p->attester->cbor_tag, ev.p, ev.len, claims.p, claims.len,
                                       &ext), r, done);
        exts[nexts++] = (struct vt_x509_ext){ VTI_OID_DICE_EVIDENCE, false, ext.p, ext.len };
        if (endorse.len)
            exts[nexts++] = (struct vt_x509_ext){ VTI_OID_DICE_ENDORSEMENTS, false, endorse.p,
                                                  endorse.len };
    } else {
        ENSURE_GOTO(!p->nonce && p->n_claims == 0, VT_ERR_INVALID_ARG, r, done);
    }
    int64_t now = (int64_t)time(NULL);
    struct vt_cert_params cp = {
        .subject = p->subject ? p->subject : DEFAULT_SUBJECT,
        .not_before = p->not_before ? p->not_before : now - 3600,
        .not_after = p->not_after ? p->not_after : now + 365 * 86400LL,
        .key = { key.p, key.len },
        .exts = exts,
        .n_exts = nexts,
    };
    GUARD_GOTO(cr->cert_create(&cp, &cert), r, done);
    out->key_der = key;
    out->cert_der = cert;
    key = (struct vt_buf)VT_BUF_INIT;
    cert = (struct vt_buf)VT_BUF_INIT;
done:
    vti_buf_free(&key);
    vti_buf_free_nowipe(&cert);
    vti_buf_free_nowipe(&spki);
    vti_buf_free_nowipe(&claims);
    vti_buf_free_nowipe(&ev);
    vti_buf_free_nowipe(&endorse);
    vti_buf_free_nowipe(&ext);
    return r;
}

vt_res vti_identity_load(const char *cert_file, const char *key_file, struct vti_identity *out)
{
    ENSURE(cert_file && key_file && out, VT_ERR_INVALID_ARG);
    memset(out, 0, sizeof(*out));
    const struct vt_crypto_ops *cr;
    GUARD(vti_crypto_get(NULL, &cr));
    vt_res r = vti_ok();
    struct vt_buf cb = VT_BUF_INIT, kb = VT_BUF_INIT, key = VT_BUF_INIT, cert = VT_BUF_INIT;
    struct vt_buf kspki = VT_BUF_INIT;
    struct vt_pem_list pl = { 0 };
    struct vt_cert_info ci;
    memset(&ci, 0, sizeof(ci));
    GUARD_GOTO(vti_file_read(cert_file, 1u << 20, &cb), r, done);
    GUARD_GOTO(vti_file_read(key_file, 1u << 20, &kb), r, done);
    if (vti_pem_has(cb.p, cb.len, "CERTIFICATE")) {
        GUARD_GOTO(vti_pem_decode(cb.p, cb.len, "CERTIFICATE", &pl), r, done);
        GUARD_GOTO(vti_buf_append(&cert, pl.der[0].p, pl.der[0].len), r, done);
    } else {
        GUARD_GOTO(vti_buf_append(&cert, cb.p, cb.len), r, done);
    }
    /* our own certificate: only its SPKI is compared with the key (no self-signature check) */
    GUARD_GOTO(cr->cert_parse(cert.p, cert.len, 0, &ci), r, done);
    GUARD_GOTO(cr->key_import(kb.p, kb.len, &key), r, done);
    GUARD_GOTO(cr->key_spki((struct vt_der){ key.p, key.len }, &kspki), r, done);
    ENSURE_GOTO(kspki.len == ci.spki.len && vti_ct_eq(kspki.p, ci.spki.p, kspki.len),
                VT_ERR_CERT_KEY_MISMATCH, r, done);
    out->key_der = key;
    out->cert_der = cert;
    key = (struct vt_buf)VT_BUF_INIT;
    cert = (struct vt_buf)VT_BUF_INIT;
done:
    vti_buf_free_nowipe(&cb);
    vti_buf_free(&kb);
    vti_buf_free(&key);
    vti_buf_free_nowipe(&cert);
    vti_buf_free_nowipe(&kspki);
    vti_pem_list_free(&pl);
    vti_cert_info_free(&ci);
    return r;
}

void vti_identity_free(struct vti_identity *id)
{
    if (!id)
        return;
    vti_buf_free(&id->key_der);
    vti_buf_free_nowipe(&id->cert_der);
}

/* ---- verification ------------------------------------------------------------------- */

static const char *hash_name(int alg)
{
    return alg == VT_HASH_SHA256 ? "SHA-256" : alg == VT_HASH_SHA384 ? "SHA-384" : "SHA-512";
}

static vt_res add_custom_claims(struct vt_report *rep, const struct vti_ratls_claims *cl)
{
    for (size_t i = 0; i < cl->n; i++) {
        const struct vti_ratls_claim *c = &cl->c[i];
        if ((c->name_len == 11 && !memcmp(c->name, "pubkey-hash", 11)) || /* lint: public */
            (c->name_len == 5 && !memcmp(c->name, "nonce", 5))) /* lint: public */
            continue;
        char name[128];
        int k = snprintf(name, sizeof(name), "ratls.claim.%.*s", (int)c->name_len, (const char *)c->name);
        if (k <= 0 || (size_t)k >= sizeof(name) || memchr(c->name, 0, c->name_len))
            continue; /* not representable as a claim name; still covered by the binding */
        if (vt_claims_get(&rep->claims, name))
            continue;
        GUARD(vti_claim_bytes(rep, name, c->is_bstr ? c->p : c->raw, c->is_bstr ? c->len : c->raw_len));
    }
    return vti_ok();
}

/* Steps 3-8 on a parsed certificate. Returns the error to report (the report is not failed here). */
static vt_res verify_parsed(const struct vt_crypto_ops *cr, const struct vt_verify_opts *opts,
                            int64_t at, const struct vti_ratls_cert *rc, struct vt_report *rep)
{
    uint64_t tag;
    const uint8_t *ev;
    size_t ev_len;
    uint8_t expect[64] = { 0 };
    const char *binding_desc;

    if (rc->has_evidence) {
        tag = rc->ev.tag;
        ev = rc->ev.ev;
        ev_len = rc->ev.ev_len;
        const char *tn = vti_ratls_tag_name(tag);
        vti_report_step(rep, 1, "evidence extension %s: CBOR tag %llu (%s), evidence %zu bytes, claims buffer %zu bytes",
                        VTI_OID_DICE_EVIDENCE, (unsigned long long)tag, tn ? tn : "plug-in",
                        ev_len, rc->ev.claims_len);
        vti_report_step(rep, 1, "claims buffer: %zu claim%s, pubkey-hash algorithm %d (%s)",
                        rc->claims.n, rc->claims.n == 1 ? "" : "s", rc->claims.hash_alg,
                        hash_name(rc->claims.hash_alg));
        uint8_t h[VT_HASH_MAX_LEN];
        GUARD(cr->hash((enum vt_hash_alg)rc->claims.hash_alg, rc->info.spki.p, rc->info.spki.len, h));
        bool ok = rc->claims.hash_len == vti_hash_len(rc->claims.hash_alg) &&
                  vti_ct_eq(h, rc->claims.hash, rc->claims.hash_len);
        vti_report_step(rep, ok, "pubkey-hash claim equals %s of the certificate's SubjectPublicKeyInfo (%zu bytes)",
                        hash_name(rc->claims.hash_alg), rc->info.spki.len);
        GUARD(vti_claim_bytes(rep, "ratls.pubkey_hash", rc->claims.hash, rc->claims.hash_len));
        ENSURE(ok, VT_ERR_CERT_PUBKEY_MISMATCH);
        if (rc->claims.has_nonce)
            GUARD(vti_claim_bytes(rep, "ratls.nonce", rc->claims.nonce, rc->claims.nonce_len));
        GUARD(cr->hash(VT_HASH_SHA256, rc->ev.claims, rc->ev.claims_len, expect));
        binding_desc = "SHA-256(claims buffer) || 32 zero bytes";
    } else if (rc->legacy == VTI_LEGACY_GRAMINE && rc->legacy_len > 0) {
        tag = VTI_TAG_INTEL_QUOTE;
        ev = rc->legacy_quote;
        ev_len = rc->legacy_len;
        vti_report_step(rep, 1, "no %s extension; Gramine legacy quote extension (%zu bytes)",
                        VTI_OID_DICE_EVIDENCE, ev_len);
        GUARD(cr->hash(VT_HASH_SHA256, rc->info.spki.p, rc->info.spki.len, expect));
        binding_desc = "SHA-256(SubjectPublicKeyInfo) || 32 zero bytes (Gramine legacy)";
    } else {
        vti_report_step(rep, 0, "evidence extension %s present: no", VTI_OID_DICE_EVIDENCE);
        return VT_FAIL(VT_ERR_NO_EVIDENCE);
    }

    if (opts && opts->nonce) {
        bool ok = rc->claims.has_nonce && rc->claims.nonce_len == opts->nonce_len &&
                  vti_ct_eq(rc->claims.nonce, opts->nonce, opts->nonce_len);
        vti_report_step(rep, ok, "nonce claim equals the expected %zu-byte nonce", opts->nonce_len);
        ENSURE(ok, VT_ERR_CERT_NONCE_MISMATCH);
    }

    const struct vt_verifier_ops *v = NULL;
    vt_res vr;
    if (opts && opts->verifier) {
        const struct vt_instance_hdr *h;
        vr = vti_instance_find(VT_KIND_VERIFIER, opts->verifier, &h);
        if (!vr.err) {
            v = (const struct vt_verifier_ops *)h;
            if (!v->accepts || !v->accepts(tag, ev, ev_len))
                vr = VT_FAIL(VT_ERR_UNKNOWN_EVIDENCE);
        }
    } else {
        vr = vti_verifier_for(tag, ev, ev_len, &v);
    }
    vti_report_step(rep, !vr.err, "verifier for this evidence: %s", vr.err ? vt_strerror(vr.err) : v->hdr.name);
    GUARD(vr);

    struct vti_verify_ctx vctx = {
        .opts = opts,
        .at = at,
        .endorsements = rc->has_endorsements && rc->endorsements_len ? rc->endorsements : NULL,
        .endorsements_len = rc->has_endorsements ? rc->endorsements_len : 0,
    };
    vr = v->verify(&vctx, ev, ev_len, rep);

    if (rep->has_report_data) {
        bool ok = vti_ct_eq(rep->report_data, expect, 64);
        vti_report_step(rep, ok, "report data (all 64 bytes) equals %s", binding_desc);
        GUARD(vti_claim_bool(rep, "ratls.binding", ok));
        ENSURE(ok, VT_ERR_CERT_REPORT_DATA_MISMATCH);
    } else if (!vr.err) {
        vti_report_step(rep, 0, "report data binding: the verifier reported no report data");
        return VT_FAIL(VT_ERR_CERT_REPORT_DATA_MISMATCH);
    }
    GUARD(vr);
    return add_custom_claims(rep, &rc->claims);
}

vt_res vti_cert_verify(const struct vt_verify_opts *opts, const uint8_t *der, size_t len,
                       struct vt_report **ret)
{
    ENSURE(ret, VT_ERR_INVALID_ARG);
    struct vt_report *rep = vti_report_new();
    ENSURE(rep, VT_ERR_NOMEM);
    *ret = rep;
    int64_t at = opts && opts->at ? opts->at : (int64_t)time(NULL);
    const struct vt_crypto_ops *cr;
    vt_res r = vti_crypto_get(NULL, &cr);
    if (r.err) {
        vti_report_fail(rep, r.err, "no crypto backend");
        return r;
    }
    struct vti_ratls_cert rc;
    r = vti_ratls_cert_parse(cr, der, len, &rc);
    if (r.err) {
        vti_report_step(rep, 0, "RA-TLS certificate structure (%zu bytes DER): %s", len, vt_strerror(r.err));
        vti_report_fail(rep, r.err, NULL);
        return r;
    }
    char nb[32], na[32];
    vti_time_format(rc.info.not_before, nb);
    vti_time_format(rc.info.not_after, na);
    vti_report_step(rep, 1, "X.509 certificate parsed: subject \"%s\", key %s, signature %s%s",
                    rc.info.subject, rc.info.key_desc, rc.info.sig_alg,
                    rc.info.sig_alg_null_params ? " (explicit NULL parameter tolerated)" : "");
    vti_report_step(rep, -1, "certificate validity %s .. %s (reported, not enforced here)", nb, na);
    vti_report_step(rep, rc.info.self_sig_ok, "certificate signature verifies with its own public key");
    if (!rc.info.self_sig_ok) {
        r = VT_FAIL(VT_ERR_CERT_SELF_SIG);
        goto done;
    }
    r = verify_parsed(cr, opts, at, &rc, rep);
done:
    vti_ratls_cert_free(&rc);
    if (r.err) {
        vti_report_fail(rep, r.err, NULL);
        rep->verified = false;
    } else {
        rep->verified = true;
    }
    return r;
}
