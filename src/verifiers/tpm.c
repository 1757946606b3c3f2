/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tpm.c - the "tpm" verifier: plain TPM 2.0 evidence (Trustee's JSON shape, tpm_evidence.h)
 * from a GCP vTPM, a bare-metal TPM or swtpm (docs/tpm.md).
 *
 * Links, each recorded for --explain, in this order:
 *   1. the evidence JSON; ak_public a canonical DER SubjectPublicKeyInfo (RSA, or EC on
 *      NIST P-256, P-384 or P-521);
 *   2. AK trust (tpm_ak.c): a pinned tpm.ak_sha256, or the AK certificate chaining to a
 *      --root-ca at the verification time with its key equal to ak_public;
 *   3. the quote (tpm_quote.c): TPMT_SIGNATURE by the AK over TPMS_ATTEST (RSASSA / RSAPSS
 *      for an RSA AK, ECDSA with r and s within the AK's curve for an EC AK; the hash is the
 *      signature scheme's), extraData equal to
 *      the expected nonce (vt_verify_opts.report_data, exactly), pcrDigest over the carried
 *      PCR values (one bank; the values fill the quote's selection in order);
 *   4. the event log (evidence "event_log"), if any: parsed (a SHA-1-only log only with
 *      option tpm.allow_sha1_log=1), replayed, and every quoted PCR it touches equal to the
 *      replay; its eventlog.* claims then count as verified.
 * Claims: pcr.<index> (the quoted bank), tpm.pcr_bank, tpm.nonce, tpm.ak_sha256, tpm.ak_trust
 * ("certificate", "pinned" or "certificate+pinned"), tpm.ak_cert.subject / .issuer (when the
 * certificate chain was checked), tpm.clock, tpm.reset_count, tpm.restart_count,
 * tpm.firmware_version, and the event log's claims. The report's 64-byte report data is
 * extraData zero-padded (as for az-*-vtpm).
 * Trust boundary: everything in the evidence is untrusted; no claim is made before step 3
 * (and the event-log claims before step 4) succeeded.
 */
#include <openssl/core_names.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cert/ratls_parse.h"
#include "core/instance.h"
#include "core/report.h"
#include "evidence/eventlog.h"
#include "evidence/eventlog_claims.h"
#include "util/codec.h"
#include "verifiers/tpm_ak.h"
#include "evidence/tpm_evidence.h"
#include "verifiers/tpm_quote.h"

struct tv {
    const struct vti_verify_ctx *ctx;
    struct vt_report *rep;
    struct vti_tpm_ev ev;
    EVP_PKEY *ak;
    struct vti_tpm_ak_result trust;
    struct vt_tpms_attest att;
    struct vti_tpm_pcr_bank bank;
    uint32_t quoted; /* bit i: PCR i carried and quoted */
};

static vt_res step(struct tv *t, vt_res r, const char *what)
{
    vti_report_step(t->rep, vti_is_ok(r), "%s%s%s", what, vti_is_ok(r) ? "" : ": ",
                    vti_is_ok(r) ? "" : vt_strerror(r.err));
    return r;
}

/* ---- 1: evidence, AK public key ------------------------------------------------------- */

/* The AKs decoded last, keyed by their exact (canonical) SubjectPublicKeyInfo bytes: decoding
 * and re-encoding a key through OpenSSL 3's decoders costs more than the quote's RSA verify, and
 * a TPM keeps its AK. Holds only keys that passed the checks below (public values); the quote is
 * still verified with the key every time. */
#define AK_SLOTS 8
#define AK_MAX_SPKI 640

struct ak_memo {
    uint8_t spki[AK_MAX_SPKI];
    size_t len;
    EVP_PKEY *k;
};

static pthread_mutex_t ak_mu = PTHREAD_MUTEX_INITIALIZER;
static struct ak_memo ak_slots[AK_SLOTS];
static size_t ak_next;

static EVP_PKEY *ak_lookup(const uint8_t *p, size_t len)
{
    EVP_PKEY *k = NULL;
    pthread_mutex_lock(&ak_mu);
    for (size_t i = 0; i < AK_SLOTS && !k; i++)
        if (ak_slots[i].k && ak_slots[i].len == len &&
            memcmp(ak_slots[i].spki, p, len) == 0 && /* lint: public (public key) */
            EVP_PKEY_up_ref(ak_slots[i].k) == 1)
            k = ak_slots[i].k;
    pthread_mutex_unlock(&ak_mu);
    return k;
}

static void ak_remember(const uint8_t *p, size_t len, EVP_PKEY *k)
{
    if (len > AK_MAX_SPKI || EVP_PKEY_up_ref(k) != 1)
        return;
    pthread_mutex_lock(&ak_mu);
    struct ak_memo *m = &ak_slots[ak_next];
    EVP_PKEY *old = m->k;
    memcpy(m->spki, p, len);
    m->len = len;
    m->k = k;
    ak_next = (ak_next + 1) % AK_SLOTS;
    pthread_mutex_unlock(&ak_mu);
    EVP_PKEY_free(old);
}

/* The NIST curve of an EC key (what a TPM's ECC AK uses: P-256, P-384, P-521), or NULL. */
static const char *ak_curve(EVP_PKEY *k)
{
    static const char *const ok[][2] = { { "prime256v1", "P-256" }, { "secp384r1", "P-384" },
                                         { "secp521r1", "P-521" } };
    char g[64];
    size_t gl = 0;
    if (EVP_PKEY_get_utf8_string_param(k, OSSL_PKEY_PARAM_GROUP_NAME, g, sizeof(g), &gl) != 1)
        return NULL;
    for (size_t i = 0; i < VT_ARRAY_LEN(ok); i++)
        if (strcmp(g, ok[i][0]) == 0)
            return ok[i][1];
    return NULL;
}

/* Decode ak_public: an RSA or EC key whose DER re-encodes to exactly these bytes (what
 * tpm.ak_sha256 hashes); an EC key on a NIST curve (else VT_ERR_TPM_AK_CURVE). */
static vt_res ak_decode(const struct vt_buf *b, EVP_PKEY **out)
{
    const unsigned char *p = b->p;
    EVP_PKEY *k = d2i_PUBKEY(NULL, &p, (long)b->len);
    int id = k ? EVP_PKEY_get_base_id(k) : 0;
    unsigned char *der = NULL;
    int n = k && p == b->p + b->len ? i2d_PUBKEY(k, &der) : 0;
    bool ok = n > 0 && (size_t)n == b->len &&
              memcmp(der, b->p, (size_t)n) == 0 && /* lint: public (public key) */
              (id == EVP_PKEY_RSA || id == EVP_PKEY_EC);
    vt_res r = ok ? vti_ok() : VT_FAIL(VT_ERR_TPM_AK_PUBLIC);
    if (ok && id == EVP_PKEY_EC && !ak_curve(k))
        r = VT_FAIL(VT_ERR_TPM_AK_CURVE);
    OPENSSL_free(der);
    if (!vti_is_ok(r)) {
        EVP_PKEY_free(k);
        k = NULL;
    }
    *out = k;
    return r;
}

static vt_res ak_public(struct tv *t)
{
    vt_res r = vti_ok();
    if ((t->ak = ak_lookup(t->ev.ak_public.p, t->ev.ak_public.len)) == NULL &&
        vti_is_ok(r = ak_decode(&t->ev.ak_public, &t->ak)))
        ak_remember(t->ev.ak_public.p, t->ev.ak_public.len, t->ak);
    int id = t->ak ? EVP_PKEY_get_base_id(t->ak) : 0;
    const char *curve = id == EVP_PKEY_EC ? ak_curve(t->ak) : NULL;
    char s[112];
    snprintf(s, sizeof(s), "ak_public: DER SubjectPublicKeyInfo (%s%s%s, %d bits)",
             id == EVP_PKEY_RSA ? "RSA" : id == EVP_PKEY_EC ? "EC" : "?", curve ? " " : "",
             curve ? curve : "", t->ak ? EVP_PKEY_get_bits(t->ak) : 0);
    return step(t, r, s);
}

static vt_res parse(struct tv *t, const uint8_t *p, size_t len)
{
    char s[200];
    vt_res r = vti_tpm_evidence_parse(p, len, &t->ev);
    snprintf(s, sizeof(s), "parse tpm evidence JSON (%zu bytes: quote %zu, signature %zu, %zu "
             "PCR value(s), AK certificate %s, event log %s)", len, t->ev.msg.len, t->ev.sig.len,
             t->ev.n_pcrs, t->ev.has_cert ? "yes" : "no", t->ev.has_log ? "yes" : "no");
    GUARD(step(t, r, s));
    return ak_public(t);
}

/* ---- 3: quote ------------------------------------------------------------------------- */

/* The carried values fill the quote's one bank in selection order (PCR index ascending). The
 * selection is read from the still unverified message only to place the values; the quote
 * verification below checks the signature before anything in it counts. */
static vt_res place_pcrs(struct tv *t)
{
    struct vt_tpms_attest a;
    vt_res r = vti_tpms_attest_parse(t->ev.msg.p, t->ev.msg.len, &a);
    if (!vti_is_ok(r))
        return step(t, r, "parse TPMS_ATTEST");
    if (a.n_sel != 1)
        return step(t, VT_FAIL(VT_ERR_TPM_QUOTE_BANKS), "TPM quote selects one PCR bank");
    const struct vt_tpm_pcr_sel *s = &a.sel[0];
    size_t k = 0;
    t->bank.hash = s->hash;
    for (unsigned i = 0; i < 8u * s->size && i < VT_TPM_MAX_PCRS; i++) {
        if (!(s->bits[i / 8] & (1u << (i % 8))))
            continue;
        if (k < t->ev.n_pcrs)
            t->bank.v[i] = t->ev.pcrs[k];
        t->quoted |= 1u << i;
        k++;
    }
    bool ok = k == t->ev.n_pcrs && vti_tpm_hash_size(s->hash) == t->ev.pcr_len;
    char m[160];
    snprintf(m, sizeof(m), "evidence pcrs: %zu value(s) of %zu bytes for the %zu PCR(s) of the "
             "quoted %s bank", t->ev.n_pcrs, t->ev.pcr_len, k, vti_tpm_hash_name(s->hash));
    return step(t, ok ? vti_ok() : VT_FAIL(VT_ERR_TPM_EVIDENCE_PCRS), m);
}

static vt_res quote(struct tv *t)
{
    GUARD(place_pcrs(t));
    const struct vt_verify_opts *o = t->ctx->opts;
    struct vti_tpm_quote_in in = {
        .ak = t->ak, .msg = t->ev.msg.p, .msg_len = t->ev.msg.len, .sig = t->ev.sig.p,
        .sig_len = t->ev.sig.len, .nonce = o && o->report_data ? o->report_data : NULL,
        .nonce_len = o && o->report_data ? o->report_data_len : 0, .banks = &t->bank,
        .n_banks = 1,
    };
    GUARD(vti_tpm_quote_verify(&in, t->rep, &t->att));
    t->rep->report_data_checked = in.nonce != NULL;
    memset(t->rep->report_data, 0, 64);
    memcpy(t->rep->report_data, t->att.extra_data, t->att.extra_data_len);
    t->rep->has_report_data = true;
    return vti_ok();
}

/* ---- 4: event log --------------------------------------------------------------------- */

static vt_res add_json_claim(struct vt_report *rep, const char *k, const json_t *v)
{
    if (json_is_boolean(v))
        return vti_claim_bool(rep, k, json_is_true(v));
    if (json_is_integer(v))
        return vti_claim_int(rep, k, json_integer_value(v));
    if (json_is_string(v))
        return vti_claim_str(rep, k, json_string_value(v));
    if (!json_is_array(v))
        return vti_ok();
    size_t n = json_array_size(v);
    const char **l = calloc(n ? n : 1, sizeof(*l));
    ENSURE(l, VT_ERR_NOMEM);
    for (size_t i = 0; i < n; i++)
        l[i] = json_is_string(json_array_get(v, i)) ? json_string_value(json_array_get(v, i)) : "";
    vt_res r = vti_claim_strlist(rep, k, l, n);
    free(l);
    return r;
}

static vt_res log_claims(struct tv *t, const struct vt_evlog *log, uint32_t verified)
{
    json_t *c = NULL;
    GUARD(vti_evlog_claims(log, t->bank.hash, verified, &c));
    const char *k;
    json_t *v;
    vt_res r = vti_ok();
    json_object_foreach(c, k, v) {
        r = add_json_claim(t->rep, k, v);
        if (!vti_is_ok(r))
            break;
    }
    json_decref(c);
    return r;
}

static vt_res log_replay(struct tv *t, const struct vt_evlog *log)
{
    uint8_t (*pcr)[VT_EVLOG_MAX_DIGEST] = calloc(VT_EVLOG_NUM_PCRS, VT_EVLOG_MAX_DIGEST);
    struct vt_evlog_replay *rp = calloc(1, sizeof(*rp));
    uint32_t verified = 0, bad = 0, mask = t->quoted & ((1u << VT_EVLOG_NUM_PCRS) - 1);
    vt_res r = pcr && rp ? vti_evlog_replay(log, rp) : VT_FAIL(VT_ERR_NOMEM);
    for (uint32_t i = 0; vti_is_ok(r) && i < VT_EVLOG_NUM_PCRS; i++)
        if (mask & (1u << i))
            memcpy(pcr[i], t->bank.v[i], t->ev.pcr_len);
    if (vti_is_ok(r))
        r = vti_evlog_check_pcrs(rp, t->bank.hash, (const uint8_t(*)[VT_EVLOG_MAX_DIGEST])pcr,
                                 mask, &verified, &bad);
    if (r.err == VT_ERR_EVLOG_PCR_MISMATCH)
        vti_report_step(t->rep, 0, "event log replay (%s bank) equals quoted PCR%u: no",
                        vti_tpm_hash_name(t->bank.hash), bad);
    else if (!vti_is_ok(r))
        vti_report_step(t->rep, 0, "event log replay (%s bank): %s",
                        vti_tpm_hash_name(t->bank.hash), vt_strerror(r.err));
    else
        vti_report_step(t->rep, 1, "event log replay (%s bank) equals every quoted PCR it "
                        "touches (mask 0x%06x): ok", vti_tpm_hash_name(t->bank.hash), verified);
    free(pcr);
    free(rp);
    if (vti_is_ok(r))
        r = log_claims(t, log, verified);
    if (r.err == VT_ERR_EVLOG_PCR_MISMATCH)
        vti_report_fail(t->rep, r.err, "PCR%u", bad);
    return r;
}

static vt_res event_log(struct tv *t)
{
    if (!t->ev.has_log)
        return vti_ok();
    const char *o = vti_tpm_opt(t->ctx, "tpm.allow_sha1_log");
    uint32_t opts = o && strcmp(o, "1") == 0 ? VT_EVLOG_ALLOW_SHA1 : 0;
    struct vt_evlog log;
    vt_res r = vti_evlog_parse(t->ev.event_log.p, t->ev.event_log.len, VT_EVLOG_TCG, opts, &log);
    char s[160];
    snprintf(s, sizeof(s), "parse the evidence's TCG event log (%zu bytes, %u events%s)",
             t->ev.event_log.len, vti_is_ok(r) ? log.n_events : 0,
             vti_is_ok(r) && log.legacy_sha1 ? ", SHA-1-only legacy format" : "");
    GUARD(step(t, r, s));
    return log_replay(t, &log);
}

/* ---- claims --------------------------------------------------------------------------- */

static vt_res claims(struct tv *t)
{
    char n[32];
    for (unsigned i = 0; i < VT_TPM_MAX_PCRS; i++) {
        if (!(t->quoted & (1u << i)))
            continue;
        snprintf(n, sizeof(n), "pcr.%u", i);
        GUARD(vti_claim_bytes(t->rep, n, t->bank.v[i], t->ev.pcr_len));
    }
    GUARD(vti_claim_str(t->rep, "tpm.pcr_bank", vti_tpm_hash_name(t->bank.hash)));
    GUARD(vti_claim_bytes(t->rep, "tpm.nonce", t->att.extra_data, t->att.extra_data_len));
    uint8_t d[32];
    SHA256(t->ev.ak_public.p, t->ev.ak_public.len, d);
    GUARD(vti_claim_bytes(t->rep, "tpm.ak_sha256", d, 32));
    GUARD(vti_claim_str(t->rep, "tpm.ak_trust", t->trust.certified && t->trust.pinned
                        ? "certificate+pinned" : t->trust.certified ? "certificate" : "pinned"));
    if (t->trust.certified) {
        GUARD(vti_claim_str(t->rep, "tpm.ak_cert.subject", t->trust.subject));
        GUARD(vti_claim_str(t->rep, "tpm.ak_cert.issuer", t->trust.issuer));
    }
    GUARD(vti_claim_int(t->rep, "tpm.clock", (int64_t)(t->att.clock & INT64_MAX)));
    GUARD(vti_claim_int(t->rep, "tpm.reset_count", t->att.reset_count));
    GUARD(vti_claim_int(t->rep, "tpm.restart_count", t->att.restart_count));
    snprintf(n, sizeof(n), "0x%016llx", (unsigned long long)t->att.firmware_version);
    return vti_claim_str(t->rep, "tpm.firmware_version", n);
}

static vt_res tpm_verify(const struct vti_verify_ctx *ctx, const uint8_t *ev, size_t len,
                         struct vt_report *rep)
{
    struct tv t = { .ctx = ctx, .rep = rep };
    vti_report_set_tee(rep, "tpm");
    vt_res r = parse(&t, ev, len);
    if (vti_is_ok(r))
        r = vti_tpm_ak_trust(ctx, t.ev.ak_public.p, t.ev.ak_public.len, t.ev.ak_cert.p,
                             t.ev.ak_cert.len, rep, &t.trust);
    if (vti_is_ok(r))
        r = quote(&t);
    if (vti_is_ok(r))
        r = claims(&t);
    if (vti_is_ok(r))
        r = event_log(&t);
    EVP_PKEY_free(t.ak);
    vti_tpm_evidence_free(&t.ev);
    return r;
}

static bool tpm_accepts(uint64_t tag, const uint8_t *ev, size_t len)
{
    return (tag == 0 || tag == VTI_TAG_TPM) && vti_tpm_evidence_is(ev, len);
}

static const char *const tpm_verifier_options[] = { "tpm.ak_sha256", "tpm.allow_sha1_log", NULL };

static const struct vt_verifier_ops tpm_verifier = {
    .hdr = { VT_INSTANCE_ABI, VT_KIND_VERIFIER, "tpm", 50, 0, tpm_verifier_options },
    .tee = "tpm",
    .accepts = tpm_accepts,
    .verify = tpm_verify,
};
const struct vt_instance_hdr *const vt_inst_tpm_verifier = &tpm_verifier.hdr;
