/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kbs.c - KBS protocol v0.4.0 handlers (RCAR: auth -> challenge -> attest -> token; resource
 * fetch as a JWE to the TEE key), with precise statuses and RFC 7807 problem bodies.
 *
 * Trust boundary: every request is unauthenticated bytes. /attest trusts only what
 * libveritee verified (vt_verify; for SNP in the guest-components serde shape the report is
 * rebuilt by snp_serde.c and its cert_chain handed to the snp verifier as endorsements, as
 * RA-TLS certificates carry them) and what that evidence binds: report_data must equal
 * SHA-384(JCS({"additional-evidence","nonce","tee-pubkey"})) zero-padded to 64 bytes, and
 * the nonce must be this session's, unused (az-snp-vtpm / az-tdx-vtpm: that digest, 48 bytes,
 * is the TPM quote's nonce, compared by the az verifier through vt_verify_opts.report_data,
 * and for evidence v2 the start of the HCL user-data, as Trustee checks it). A challenge is
 * consumed atomically in the shared store, so one attestation cannot be replayed at any
 * broker. A resource is released
 * only on a token this broker (or a peer on the same store) signed, to the tee-pubkey inside
 * that token, after the policy allows the path (policy before existence: no oracle).
 * Statuses: 400 malformed input, 401 missing/expired/invalid authentication, 403 refused by
 * verification or policy (with the reason), 404 unknown resource; each with a problem body.
 * Sim evidence is refused unless allow_sim; then every release is audited as INSECURE.
 */
#include <inttypes.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/input.h"
#include "proto/proto.h"
#include "core/instance.h"
#include "core/report.h"
#include "kbs_client/jose.h"
#include "kbs/kbs.h"
#include "kbs/kbs_devices.h"
#include "kbs/kbs_eventlog.h"
#include "kbs/kbs_initdata.h"
#include "kbs/snp_serde.h"
#include "util/codec.h"
#include "util/secmem.h"
#include "veritee/veritee.h"

#define ST_CHALLENGED 1
#define ST_ATTESTED 2
#define MAX_AUTH_BODY ((size_t)64 * 1024)
#define PROBLEM_BASE "https://github.com/confidential-containers/kbs/errors/"

/* ---- helpers ------------------------------------------------------------------------- */

#define klog(k, ...) vtb_state_log((k)->st, "kbs: " __VA_ARGS__)

struct problem {
    int status;
    const char *kind;
    int code;
    char detail[400];
};

static void prob(struct problem *p, int status, const char *kind, int code, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static void prob(struct problem *p, int status, const char *kind, int code, const char *fmt, ...)
{
    p->status = status;
    p->kind = kind;
    p->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->detail, sizeof(p->detail), fmt, ap);
    va_end(ap);
}

static const char *status_title(int s)
{
    switch (s) {
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 413: return "Payload Too Large";
    case 429: return "Too Many Requests";
    case 503: return "Service Unavailable";
    default: return "Internal Server Error";
    }
}

static void respond_json(struct vtk_response *resp, int status, const char *ctype, json_t *j)
{
    resp->status = status;
    resp->content_type = ctype;
    char *s = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(j);
    if (!s || vti_buf_append(&resp->body, s, strlen(s)).err) {
        resp->status = 500;
        resp->content_type = "text/plain";
    }
    if (s) {
        vti_memzero(s, strlen(s));
        free(s);
    }
}

static void respond_problem(struct vtk_server *k, struct vtk_response *resp,
                            const struct problem *p, const char *rid)
{
    char type[128];
    snprintf(type, sizeof(type), PROBLEM_BASE "%s", p->kind);
    json_t *j = json_pack("{s:s, s:s, s:i, s:s, s:s, s:s}", "type", type, "title",
                          status_title(p->status), "status", p->status, "detail", p->detail,
                          "code", vt_errname(p->code), "instance", rid);
    respond_json(resp, p->status, "application/problem+json", j);
}

static const json_t *member(const json_t *o, const char *name, json_type t)
{
    const json_t *v = json_object_get(o, name);
    return v && json_typeof(v) == t ? v : NULL;
}

/* Azure confidential VMs (paravisor vTPM): the runtime-data digest is the TPM quote's nonce. */
static bool tee_az(const char *tee)
{
    return !strcmp(tee, "az-snp-vtpm") || !strcmp(tee, "az-tdx-vtpm");
}

/* Plain TPM 2.0 (Trustee's "tpm" evidence): the runtime-data digest zero-padded to 64 bytes is
 * the TPM quote's nonce, as guest-components' TPM attester sends it. */
static bool tee_tpm(const char *tee)
{
    return !strcmp(tee, "tpm");
}

static bool tee_supported(const char *tee)
{
    return !strcmp(tee, "tdx") || !strcmp(tee, "sgx") || !strcmp(tee, "snp") ||
           tee_az(tee) || tee_tpm(tee) || !strcmp(tee, "sample");
}

static bool tee_known(const char *tee)
{
    static const char *const all[] = { "az-snp-vtpm", "az-tdx-vtpm", "nvidia", "sgx", "snp",
                                       "tdx", "cca", "csv", "se", "hygondcu", "tpm", "sample",
                                       "sampledevice", "nvidia-dpu" };
    for (size_t i = 0; i < VT_ARRAY_LEN(all); i++)
        if (!strcmp(all[i], tee))
            return true;
    return false;
}

/* Log one decision and return its audit row (its strings are the caller's). */
static struct vtb_audit decision(struct vtk_server *k, const char *rid, const char *peer,
                                 const char *tee, const char *op, const char *path, bool ok,
                                 bool insecure, const char *reason)
{
    klog(k, "rid=%s peer=%s tee=%s op=%s path=%s decision=%s%s reason=\"%s\"", rid,
         peer ? peer : "-", tee && *tee ? tee : "-", op, path && *path ? path : "-",
         ok ? "release" : "refuse", ok && insecure ? " INSECURE(sim)" : "", reason);
    return (struct vtb_audit){
        .time = (int64_t)time(NULL), .rid = rid, .peer = peer ? peer : "", .tee = tee ? tee : "",
        .op = op, .path = path ? path : "", .decision = ok ? "release" : "refuse",
        .reason = reason, .insecure = insecure,
    };
}

/* Log and audit one decision; VT_ERR_BROKER_AUDIT_FAILED if the audit row was not written. */
static vt_res record(struct vtk_server *k, const char *rid, const char *peer, const char *tee,
                     const char *op, const char *path, bool ok, bool insecure,
                     const char *reason)
{
    struct vtb_audit au = decision(k, rid, peer, tee, op, path, ok, insecure, reason);
    return vtb_state_audit(k->st, &au);
}

/* Fail closed: a token or resource whose release could not be audited does not go out; the
 * answer becomes a 500 problem (vtk_handle writes it) instead. */
static bool audit_refuse(struct vtk_response *resp, struct problem *p, vt_res audit)
{
    if (!audit.err)
        return false;
    vti_buf_free(&resp->body);
    resp->set_cookie[0] = '\0';
    prob(p, 500, "AuditFailed", audit.err, "the release could not be audited: refused");
    return true;
}

static const char *const unauth_names[] = { "bad-path", "no-token", "bad-token", "attest" };

/* An unauthenticated failure: counted, and logged at most once a second per class (with
 * the number of lines suppressed since); never an audit row (issue 10.3: anybody can send
 * these, as fast as the network allows). */
static void unauth_failure(struct vtk_server *k, enum vtk_unauth c, const char *rid,
                           const char *peer, int64_t now, const char *reason)
{
    struct vtk_metrics *m = &k->m;
    atomic_fetch_add(&m->unauth[c], 1);
    int64_t last = __atomic_load_n(&m->unauth_logged[c], __ATOMIC_RELAXED);
    if (last == now || !__atomic_compare_exchange_n(&m->unauth_logged[c], &last, now, false,
                                                    __ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) {
        atomic_fetch_add(&m->unauth_quiet[c], 1);
        return;
    }
    unsigned long quiet = atomic_exchange(&m->unauth_quiet[c], 0);
    klog(k, "rid=%s peer=%s unauthenticated %s refused (not audited; %lu similar suppressed "
            "since the last line): %s", rid, peer ? peer : "-", unauth_names[c], quiet, reason);
}

static struct vtb_store *store(struct vtk_server *k)
{
    return vtb_kms_store(k->st->kms);
}

static const struct vtb_store_ops *ops(struct vtk_server *k)
{
    return vtb_kms_ops(k->st->kms);
}

/* ---- /kbs/v0/auth -------------------------------------------------------------------- */

/* The auth body's tee (NULL with the problem set). */
static const char *auth_tee(const json_t *j, const char *why, struct problem *p)
{
    const json_t *ver = member(j, "version", JSON_STRING), *tee = member(j, "tee", JSON_STRING);
    if (!json_is_object(j) || !ver || !tee) {
        prob(p, 400, "InvalidRequest", VT_ERR_KBS_BAD_JSON,
             "auth request must be {\"version\", \"tee\", \"extra-params\"}%s%s",
             j ? "" : ": ", j ? "" : why);
    } else if (strcmp(json_string_value(ver), VTK_PROTOCOL_VERSION) != 0) {
        prob(p, 400, "ProtocolVersion", VT_ERR_KBS_VERSION_MISMATCH,
             "KBS protocol version mismatch: this broker speaks %s exactly", VTK_PROTOCOL_VERSION);
    } else if (!tee_known(json_string_value(tee))) {
        prob(p, 400, "UnsupportedTee", VT_ERR_KBS_BAD_TEE, "unknown tee type");
    } else if (!tee_supported(json_string_value(tee))) {
        prob(p, 400, "UnsupportedTee", VT_ERR_KBS_BAD_TEE,
             "tee \"%s\" is not supported by this broker (tdx, sgx, snp, az-snp-vtpm, "
             "az-tdx-vtpm, tpm, sample)",
             json_string_value(tee));
    } else {
        return json_string_value(tee);
    }
    return NULL;
}

/* Store a new challenged session, capped per client address where the store can. */
static vt_res put_session(struct vtk_server *k, const char id[33], const char *ss,
                          const char *peer, int64_t now)
{
    const uint8_t *p = (const uint8_t *)ss;
    int64_t exp = now + k->cfg.session_lifetime;
    if (!ops(k)->session_put_capped)
        return ops(k)->session_put(store(k), id, ST_CHALLENGED, p, strlen(ss), exp);
    return ops(k)->session_put_capped(store(k), id, ST_CHALLENGED, p, strlen(ss), exp,
                                      peer ? peer : "", now, k->cfg.max_sessions_per_address);
}

/* A new challenged session for tee: its id (UUID v4, simple form) and nonce (base64). */
static vt_res new_session(struct vtk_server *k, const char *tee, const char *peer, int64_t now,
                          char id[33], struct vt_buf *nb)
{
    uint8_t nonce[32], idb[16];
    vt_res r = RAND_bytes(nonce, 32) == 1 && RAND_bytes(idb, 16) == 1
                   ? vti_b64_encode(nonce, 32, false, nb)
                   : VT_FAIL(VT_ERR_CRYPTO);
    if (!r.err)
        r = vti_buf_cstr(nb);
    idb[6] = (uint8_t)((idb[6] & 0x0F) | 0x40); /* UUID v4, simple form */
    idb[8] = (uint8_t)((idb[8] & 0x3F) | 0x80);
    vti_hex_encode(idb, 16, id);
    json_t *sess = r.err ? NULL : json_pack("{s:s, s:s}", "nonce", (char *)nb->p, "tee", tee);
    char *ss = sess ? json_dumps(sess, JSON_COMPACT) : NULL;
    if (!r.err && !ss)
        r = VT_FAIL(VT_ERR_NOMEM);
    if (!r.err)
        r = put_session(k, id, ss, peer, now);
    free(ss);
    json_decref(sess);
    return r;
}

static void handle_auth(struct vtk_server *k, const struct vtk_request *rq, int64_t now,
                        struct vtk_response *resp, struct problem *p)
{
    char why[160];
    if (rq->body_len > MAX_AUTH_BODY) {
        prob(p, 413, "RequestTooLarge", VT_ERR_BROKER_REQUEST_TOO_LARGE, "body exceeds %zu bytes",
             MAX_AUTH_BODY);
        return;
    }
    json_t *j = vtp_json_parse(rq->body, rq->body_len, why, sizeof(why));
    const char *tee = auth_tee(j, why, p);
    if (tee) {
        char id[33];
        struct vt_buf nb = VT_BUF_INIT;
        vt_res r = new_session(k, tee, rq->peer, now, id, &nb);
        if (r.err == VT_ERR_BROKER_KBS_SESSION_LIMIT) {
            prob(p, 429, "TooManySessions", r.err, "this address holds %" PRId64 " unexpired "
                 "KBS sessions (kbs-max-sessions-per-address): attest with one or wait",
                 k->cfg.max_sessions_per_address);
        } else if (r.err) {
            prob(p, 503, "StoreError", r.err, "cannot create the session (%s)", vt_errname(r.err));
        } else {
            snprintf(resp->set_cookie, sizeof(resp->set_cookie),
                     "kbs-session-id=%s; Path=/kbs; Max-Age=%" PRId64 "; HttpOnly", id,
                     k->cfg.session_lifetime);
            respond_json(resp, 200, "application/json",
                         json_pack("{s:s, s:s}", "nonce", (char *)nb.p, "extra-params", ""));
            atomic_fetch_add(&k->m.auth, 1);
        }
        vti_buf_free(&nb);
    }
    json_decref(j);
}

/* ---- /kbs/v0/attest ------------------------------------------------------------------ */

struct verified {
    vt_report *rep;
    json_t *claims; /* name -> string */
    const char *tee; /* the KBS tee name */
};

/* The verified claims as the token carries them ({name: string}): the broker core's one
 * translation of a report into appraisal input (policy/input.h), so that a resource request
 * on this token is appraised exactly as an agent with the same evidence would be. */
static json_t *claims_json(const vt_report *rep)
{
    struct vtb_report_input ri;
    if (vtb_input_from_report(rep, &ri).err)
        return NULL;
    json_t *o = json_object();
    for (size_t i = 0; o && i < ri.in.n_claims; i++) {
        json_t *v = json_string(ri.in.claims[i].value);
        if (v)
            json_object_set_new(o, ri.in.claims[i].name, v);
    }
    vtb_input_free(&ri);
    return o;
}

/* az-snp-vtpm / az-tdx-vtpm: primary_evidence is the evidence JSON object guest-components
 * sends (v0, v1, v2: {version, tpm_quote: {signature, message, pcrs}, hcl_report, vcek |
 * td_quote}); the az verifiers read it as JSON text, so it goes to them re-serialised. */
static bool az_evidence_bytes(const char *tee, const json_t *ev, struct vt_buf *raw,
                              struct problem *p)
{
    char *s = json_dumps(ev, JSON_COMPACT | JSON_PRESERVE_ORDER);
    size_t n = s ? strlen(s) : 0;
    bool ok = s && n <= ((size_t)1 << 20) && !vti_buf_append(raw, s, n).err;
    free(s);
    if (!ok)
        prob(p, 400, "InvalidRequest", VT_ERR_KBS_BAD_JSON,
             "%s evidence must be the guest-components evidence object (at most 1 MiB)", tee);
    return ok;
}

/* Map the protocol's evidence shape for tee to raw evidence bytes for vt_verify (and, for the
 * snp serde shape, the certificate table built from its cert_chain into endo). */
static bool evidence_bytes(const char *tee, const json_t *ev, struct vt_buf *raw,
                           struct vt_buf *endo, struct vt_buf *sample_rd, struct problem *p)
{
    const char *field;
    if (!json_is_object(ev)) {
        prob(p, 400, "InvalidRequest", VT_ERR_KBS_BAD_JSON, "tee-evidence.primary_evidence "
             "must be an object");
        return false;
    }
    if (tee_az(tee) || tee_tpm(tee)) /* JSON evidence objects: re-serialised */
        return az_evidence_bytes(tee, ev, raw, p);
    if (!strcmp(tee, "sample")) {
        const json_t *rd = member(ev, "report_data", JSON_STRING);
        const json_t *sim = member(ev, "veritee_sim_evidence", JSON_STRING);
        if (!sim) {
            prob(p, 403, "AttestationError", VT_ERR_KBS_UNSIGNED_SAMPLE,
                 "sample evidence without veritee_sim_evidence is unsigned and never accepted");
            return false;
        }
        if (!rd || vtp_json_bytes(rd, 64, sample_rd).err) {
            prob(p, 400, "InvalidRequest", VT_ERR_KBS_BAD_JSON,
                 "sample evidence needs report_data (base64)");
            return false;
        }
        field = "veritee_sim_evidence";
    } else if (!strcmp(tee, "snp")) {
        field = "attestation_report";
        if (json_is_object(json_object_get(ev, field))) { /* guest-components (sev crate) */
            char why[160];
            if (!vtk_snp_serde_parse(ev, raw, endo, why, sizeof(why))) {
                prob(p, 400, "InvalidRequest", VT_ERR_KBS_BAD_JSON, "%s", why);
                return false;
            }
            return true;
        }
    } else {
        field = "quote";
    }
    const json_t *v = member(ev, field, JSON_STRING);
    if (!v || vtp_json_bytes(v, (size_t)1 << 20, raw).err) {
        prob(p, 400, "InvalidRequest", VT_ERR_KBS_BAD_JSON,
             "%s evidence needs \"%s\" (base64, at most 1 MiB)", tee, field);
        return false;
    }
    return true;
}

/* As vt_verify() does for raw evidence, with the certificate table from the evidence's
 * cert_chain handed to the snp verifier as endorsements (as RA-TLS certificates carry them). */
static int verify_with_certs(const struct vt_verify_opts *o, const struct vt_buf *ev,
                             const struct vt_buf *table, vt_report **out)
{
    struct vt_report *rep = vti_report_new();
    if (!rep)
        return VT_ERR_NOMEM;
    *out = rep;
    const struct vt_instance_hdr *h = NULL;
    const struct vt_verifier_ops *v = NULL;
    vt_res r = vti_registry_init(o->plugin_dir);
    if (!r.err)
        r = vti_instance_find(VT_KIND_VERIFIER, "snp", &h);
    if (!r.err) {
        v = (const struct vt_verifier_ops *)h;
        if (!v->accepts || !v->accepts(0, ev->p, ev->len))
            r = VT_FAIL(VT_ERR_UNKNOWN_EVIDENCE);
    }
    vti_report_step(rep, !r.err, "verifier for this evidence (%zu bytes, %zu bytes of "
                    "certificate table from cert_chain): %s", ev->len, table->len,
                    r.err ? vt_strerror(r.err) : v->hdr.name);
    if (!r.err) {
        struct vti_verify_ctx vctx = { .opts = o, .at = o->at, .endorsements = table->p,
                                       .endorsements_len = table->len };
        r = v->verify(&vctx, ev->p, ev->len, rep);
    }
    if (r.err)
        vti_report_fail(rep, r.err, NULL);
    rep->verified = !r.err;
    return rep->err ? rep->err : r.err;
}

#define AZ_NONCE_LEN 48 /* SHA-384: the runtime-data digest, unpadded (as Trustee compares) */

#define TPM_NONCE_LEN 64 /* tpm: the runtime-data digest zero-padded to 64 (guest-components) */

/* az-*-vtpm: the runtime-data digest is the TPM quote's extraData, exactly (the verifier
 * compared it, and for evidence v2 the start of the HCL user-data, through
 * vt_verify_opts.report_data); checked here once more on the verified claim. */
static bool az_binding(const vt_report *rep, const uint8_t want_rd[64], size_t len,
                       struct problem *p)
{
    const struct vt_claim *n = vt_claims_get(vt_report_claims(rep), "tpm.nonce");
    if (n && n->type == VT_CLAIM_BYTES && n->n == len && vti_ct_eq(n->p, want_rd, len))
        return true;
    prob(p, 403, "AttestationError", VT_ERR_KBS_BINDING_MISMATCH,
         "TPM quote nonce is not SHA-384(JCS(additional-evidence, nonce, tee-pubkey)): the "
         "evidence was made for another challenge or another key");
    return false;
}

/* The verified report must be of the session's TEE, sim only with allow_sim, and bind the
 * runtime data: report_data (and sample's own report_data field) is the digest want_rd; for
 * az-*-vtpm the TPM quote's nonce is. */
static bool check_report(struct vtk_server *k, const char *tee, const vt_report *rep,
                         const uint8_t want_rd[64], const struct vt_buf *srd, struct problem *p)
{
    const char *rtee = vt_report_tee(rep);
    const char *want = !strcmp(tee, "sample") ? "sim" : tee;
    if (!rtee || strcmp(rtee, want) != 0) {
        prob(p, 403, "AttestationError", VT_ERR_KBS_TEE_MISMATCH,
             "evidence is from tee \"%s\", the session announced \"%s\"", rtee ? rtee : "?", tee);
        return false;
    }
    if (vt_report_insecure(rep) && !k->cfg.allow_sim) {
        prob(p, 403, "AttestationError", VT_ERR_BROKER_SIM_REFUSED,
             "sim evidence refused: the broker was not started with --allow-sim");
        return false;
    }
    if (tee_az(tee) || tee_tpm(tee))
        return az_binding(rep, want_rd, tee_tpm(tee) ? TPM_NONCE_LEN : AZ_NONCE_LEN, p);
    const struct vt_claim *rd = vt_claims_get(vt_report_claims(rep), "report_data");
    if (!rd || rd->type != VT_CLAIM_BYTES || rd->n != 64 || !vti_ct_eq(rd->p, want_rd, 64)) {
        prob(p, 403, "AttestationError", VT_ERR_KBS_BINDING_MISMATCH,
             "evidence report_data is not SHA-384(JCS(additional-evidence, nonce, tee-pubkey)): "
             "the evidence was made for another challenge or another key");
        return false;
    }
    /* sample's own report_data field: unpadded (48) or padded (64) digest */
    if (srd->p && ((srd->len != 48 && srd->len != 64) || !vti_ct_eq(srd->p, want_rd, srd->len))) {
        prob(p, 403, "AttestationError", VT_ERR_KBS_BINDING_MISMATCH,
             "sample report_data does not match the runtime-data digest");
        return false;
    }
    return true;
}

/* Verification failed with err: 403; a nonce the TPM quote (or HCL user-data) does not carry
 * is a binding refusal like a report_data mismatch, anything else an evidence refusal. */
static void evidence_refused(int err, const vt_report *rep, struct problem *p)
{
    const char *msg = rep && vt_report_error_message(rep) ? vt_report_error_message(rep)
                                                          : vt_strerror(err);
    if (err == VT_ERR_TPM_NONCE_MISMATCH || err == VT_ERR_AZ_USER_DATA_NONCE)
        prob(p, 403, "AttestationError", VT_ERR_KBS_BINDING_MISMATCH,
             "evidence does not bind SHA-384(JCS(additional-evidence, nonce, tee-pubkey)): %s",
             msg);
    else
        prob(p, 403, "AttestationError", VT_ERR_KBS_EVIDENCE, "evidence failed verification: %s",
             msg);
}

/* tdx: primary_evidence.cc_eventlog, when present, must replay to the verified quote's RTMRs;
 * its eventlog.* claims join the report's (kbs_eventlog.h). */
static bool tdx_eventlog(const char *tee, const json_t *ev, vt_report *rep, struct problem *p)
{
    char why[300];
    int code = strcmp(tee, "tdx") == 0 ? vtk_tdx_eventlog(ev, rep, why, sizeof(why)) : 0;
    if (code)
        prob(p, 403, "AttestationError", code, "%s", why);
    return code == 0;
}

/* tpm: the reference values tpm.ak_sha256 (SHA-256 of a trusted AK's DER
 * SubjectPublicKeyInfo) pin attestation keys for the tpm verifier, beside --root-ca. */
static bool tpm_pins(struct vtk_server *k, int64_t now, char *out, size_t len)
{
    struct vtb_snapshot *snap = vtb_state_snapshot(k->st);
    size_t n = vtb_snapshot_refval_join(snap, "tpm.ak_sha256", now, out, len);
    vtb_snapshot_unref(snap);
    return n > 0;
}

/* tee-evidence -> a verified, checked report and its claims in out. */
static bool verify_evidence(struct vtk_server *k, const char *tee, const json_t *te,
                            const uint8_t want_rd[64], int64_t now, struct verified *out,
                            struct problem *p)
{
    struct vt_buf raw = VT_BUF_INIT, srd = VT_BUF_INIT, endo = VT_BUF_INIT;
    char pins[16 * 65];
    bool ok = evidence_bytes(tee, json_object_get(te, "primary_evidence"), &raw, &endo, &srd, p);
    if (ok) {
        struct vt_verify_opts o = {
            .root_ca_files = k->cfg.root_ca, .n_root_ca_files = k->cfg.n_root_ca,
            .collateral = k->cfg.collateral, .at = now,
        };
        if (tee_az(tee) || tee_tpm(tee)) { /* the session's verifier; the digest is the
                                             * TPM quote's nonce */
            o.verifier = tee;
            o.report_data = want_rd;
            o.report_data_len = tee_tpm(tee) ? TPM_NONCE_LEN : AZ_NONCE_LEN;
        }
        struct vt_option pin = { "tpm.ak_sha256", NULL };
        if (tee_tpm(tee) && tpm_pins(k, now, pins, sizeof(pins))) {
            pin.value = pins;
            o.options = &pin;
            o.n_options = 1;
        }
        int err = endo.len ? verify_with_certs(&o, &raw, &endo, &out->rep)
                           : vt_verify(&o, raw.p, raw.len, &out->rep);
        if (err)
            evidence_refused(err, out->rep, p);
        ok = !err && check_report(k, tee, out->rep, want_rd, &srd, p) &&
             tdx_eventlog(tee, json_object_get(te, "primary_evidence"), out->rep, p);
    }
    if (ok) {
        out->claims = claims_json(out->rep);
        out->tee = tee;
        ok = out->claims != NULL;
        if (!ok)
            prob(p, 500, "InternalError", VT_ERR_NOMEM, "out of memory");
    }
    vti_buf_free(&raw);
    vti_buf_free(&endo);
    vti_buf_free(&srd);
    return ok;
}

/* AR4SI vector from the verified report and the reference values of the core's snapshot. */
static void appraise_vector(struct vtk_server *k, const struct verified *v, int64_t now,
                            int tv[VTK_TV_COUNT])
{
    memset(tv, 0, sizeof(int) * VTK_TV_COUNT);
    tv[VTK_TV_INSTANCE_IDENTITY] = 2; /* evidence signed by a recognised, verified key */
    const char *tcb = vt_report_tcb_status(v->rep);
    if (vt_report_insecure(v->rep))
        tv[VTK_TV_HARDWARE] = 96;      /* sim: not recognised as genuine hardware */
    else if (!tcb || !strcmp(tcb, "UpToDate"))
        tv[VTK_TV_HARDWARE] = 2;
    else
        tv[VTK_TV_HARDWARE] = 32;      /* genuine, known vulnerabilities */
    const json_t *dbg = json_object_get(v->claims, "debug");
    if (json_is_string(dbg))
        tv[VTK_TV_CONFIGURATION] = !strcmp(json_string_value(dbg), "false") ? 2 : 96;
    struct vtb_snapshot *snap = vtb_state_snapshot(k->st);
    bool any = false, all = true;
    const char *name;
    json_t *val;
    json_object_foreach(v->claims, name, val) {
        bool has = false;
        bool match = vtb_snapshot_refval_match(snap, name, json_string_value(val), now, &has);
        if (has) {
            any = true;
            all = all && match;
        }
    }
    vtb_snapshot_unref(snap);
    if (any)
        tv[VTK_TV_EXECUTABLES] = all ? 2 : 33;
}

static void policy_id(struct vtk_server *k, char *out, size_t n)
{
    struct vt_buf doc = VT_BUF_INIT;
    vt_res r = ops(k)->policy_get(store(k), &doc);
    if (r.err) {
        snprintf(out, n, "veritee:policy/deny-all");
    } else {
        uint8_t h[32];
        char hex[65];
        unsigned int hl = 0;
        if (EVP_Digest(doc.p, doc.len, h, &hl, EVP_sha256(), NULL) == 1) {
            vti_hex_encode(h, 16, hex);
            snprintf(out, n, "veritee:policy/sha256:%s", hex);
        } else {
            snprintf(out, n, "veritee:policy/unknown");
        }
    }
    vti_buf_free(&doc);
}

/* One /attest request on its way through the steps below; each step returns false with the
 * problem set. */
struct attest {
    struct vtk_server *k;
    const struct vtk_request *rq;
    int64_t now;
    struct problem *p;
    json_t *sess, *body;
    const char *tee;     /* the session's KBS tee name ("" until known) */
    const json_t *snonce; /* the session's challenge */
    const json_t *nonce, *jwk, *te, *init; /* in body */
    const char *adds;    /* additional_evidence (a string, maybe "") */
    json_t *add_obj;     /* ... parsed (NULL when "") */
    json_t *add_names;   /* names of the unverified additional evidence entries */
    struct vtk_devices dev; /* the verified GPUs (kbs_devices.c) */
    uint8_t digest[64];  /* the runtime-data digest the evidence must carry */
    struct verified v;
    char initd_hex[129]; /* the init-data digest (the body's algorithm) or "" */
    enum vtk_initdata_alg init_alg; /* the body's algorithm (attest_init_data_alg) */
    EVP_PKEY *key;       /* the tee-pubkey (attest_parse_body) */
    enum vtk_keyalg alg;
    struct vt_buf tok;
    json_t *payload;     /* the token's claims (a private copy) */
};

/* The session named by the cookie: challenged, not yet attested. */
static bool attest_session(struct attest *a)
{
    struct problem *p = a->p;
    struct vt_buf sb = VT_BUF_INIT;
    int state = 0;
    char why[160];
    if (!a->rq->cookie_session) {
        prob(p, 401, "MissingCookie", VT_ERR_KBS_NO_AUTH, "no kbs-session-id cookie: POST "
             "/kbs/v0/auth first");
        return false;
    }
    vt_res r = ops(a->k)->session_get(store(a->k), a->rq->cookie_session, a->now, &state, &sb);
    if (r.err == VT_ERR_NOT_FOUND)
        prob(p, 401, "ExpiredCookie", VT_ERR_KBS_SESSION_EXPIRED,
             "unknown or expired KBS session: POST /kbs/v0/auth again");
    else if (r.err)
        prob(p, 503, "StoreError", r.err, "session lookup failed (%s)", vt_errname(r.err));
    else if (state != ST_CHALLENGED)
        prob(p, 401, "ChallengeUsed", VT_ERR_KBS_CHALLENGE_USED,
             "this session's challenge was already used: POST /kbs/v0/auth for a new one");
    if (!r.err && state == ST_CHALLENGED)
        a->sess = vtp_json_parse(sb.p, sb.len, why, sizeof(why));
    vti_buf_free(&sb);
    if (p->status)
        return false;
    a->snonce = member(a->sess, "nonce", JSON_STRING);
    const json_t *stee = member(a->sess, "tee", JSON_STRING);
    if (!a->snonce || !stee) {
        prob(p, 500, "InternalError", VT_ERR_BROKER_STORE_CORRUPT, "corrupt session row");
        return false;
    }
    a->tee = json_string_value(stee);
    return true;
}

static bool init_data_ok(const json_t *init)
{
    return !init || json_is_null(init) ||
           (json_is_object(init) && member(init, "format", JSON_STRING) &&
            !strcmp(json_string_value(json_object_get(init, "format")), "toml") &&
            member(init, "body", JSON_STRING));
}

/* The body: {"init-data"?, "runtime-data": {"nonce", "tee-pubkey"}, "tee-evidence"}. */
static bool attest_parse_body(struct attest *a)
{
    struct problem *p = a->p;
    char why[160];
    if (a->rq->body_len > VTK_MAX_BODY) {
        prob(p, 413, "RequestTooLarge", VT_ERR_BROKER_REQUEST_TOO_LARGE, "body too large");
        return false;
    }
    json_t *j = a->body = vtp_json_parse(a->rq->body, a->rq->body_len, why, sizeof(why));
    const json_t *rd = member(j, "runtime-data", JSON_OBJECT);
    a->te = member(j, "tee-evidence", JSON_OBJECT);
    a->nonce = member(rd, "nonce", JSON_STRING);
    a->jwk = member(rd, "tee-pubkey", JSON_OBJECT);
    a->init = json_object_get(j, "init-data");
    if (!json_is_object(j) || !rd || !a->te || !a->nonce || !a->jwk) {
        prob(p, 400, "InvalidRequest", VT_ERR_KBS_BAD_JSON,
             "attestation must be {\"init-data\"?, \"runtime-data\": {\"nonce\", \"tee-pubkey\"}, "
             "\"tee-evidence\": {\"primary_evidence\", \"additional_evidence\"}}%s%s",
             j ? "" : ": ", j ? "" : why);
        return false;
    }
    if (!init_data_ok(a->init)) {
        prob(p, 400, "InvalidRequest", VT_ERR_KBS_BAD_JSON,
             "init-data must be {\"format\": \"toml\", \"body\": \"...\"} or absent");
        return false;
    }
    vt_res jr = vtk_jwk_public(a->jwk, &a->key, &a->alg);
    if (jr.err == VT_ERR_KBS_RSA_EVEN_MODULUS) {
        prob(p, 400, "InvalidRequest", jr.err, "tee-pubkey: RSA modulus is even (no RSA key)");
        return false;
    }
    if (jr.err) {
        prob(p, 400, "InvalidRequest", VT_ERR_KBS_BAD_JWK,
             "tee-pubkey must be an EC P-256 JWK with alg ECDH-ES+A256KW or an RSA JWK "
             "(2048..8192 bits) with alg RSA-OAEP-256");
        return false;
    }
    return true;
}

/* The runtime-data nonce must be this session's challenge (constant time). */
static bool attest_check_nonce(struct attest *a)
{
    const char *have = json_string_value(a->nonce), *want = json_string_value(a->snonce);
    if (strlen(have) == strlen(want) && vti_ct_eq(have, want, strlen(want)))
        return true;
    prob(a->p, 403, "AttestationError", VT_ERR_KBS_NONCE_MISMATCH,
         "runtime-data nonce is not this session's challenge");
    return false;
}

/* The names of the additional_evidence entries no verifier here reads (all but "nvidia";
 * NULL: a name is empty or too long). */
static json_t *device_names(json_t *aj)
{
    json_t *names = json_array();
    const char *name;
    json_t *val;
    json_object_foreach(aj, name, val) {
        (void)val;
        if (names && *name && strlen(name) <= 32 && !strcmp(name, "nvidia"))
            continue;
        if (!names || !*name || strlen(name) > 32 ||
            json_array_append_new(names, json_string(name)) != 0) {
            json_decref(names);
            return NULL;
        }
    }
    return names;
}

/* Additional (device) evidence: a JSON object {"<tee>": <evidence>, ...} serialised into
 * this string. The string is part of the primary report-data digest, so it is bound to the
 * attested TEE (it cannot be swapped or altered without failing the binding). "nvidia" (the
 * GPUs) is verified after the primary evidence (attest_devices, kbs_devices.c); any other
 * entry is NOT verified: the token lists its name under annotated-evidence
 * "additional_evidence_unverified", issues no submod for it and no policy decision depends
 * on it. */
static bool attest_additional(struct attest *a)
{
    struct problem *p = a->p;
    const json_t *add = json_object_get(a->te, "additional_evidence");
    if (add && !json_is_string(add)) {
        prob(p, 400, "InvalidRequest", VT_ERR_KBS_BAD_JSON,
             "tee-evidence.additional_evidence must be a string");
        return false;
    }
    a->adds = add ? json_string_value(add) : "";
    if (!*a->adds)
        return true;
    char awhy[128];
    json_t *aj = vtp_json_parse((const uint8_t *)a->adds, strlen(a->adds), awhy, sizeof(awhy));
    if (!json_is_object(aj) || json_object_size(aj) == 0 || json_object_size(aj) > 16) {
        json_decref(aj);
        prob(p, 400, "InvalidRequest", VT_ERR_KBS_BAD_JSON,
             "tee-evidence.additional_evidence must be \"\" or a JSON object of 1..16 "
             "{\"<tee>\": <evidence>} entries serialised as a string");
        return false;
    }
    a->add_names = device_names(aj);
    a->add_obj = aj;
    if (!a->add_names) {
        prob(p, 400, "InvalidRequest", VT_ERR_KBS_BAD_JSON,
             "additional_evidence device names must be 1..32 characters");
        return false;
    }
    return true;
}

/* The digest the evidence's report_data must carry (binds nonce, key, additional evidence). */
static bool attest_bind(struct attest *a)
{
    if (!vtk_runtime_digest(a->adds, json_string_value(a->nonce), a->jwk, a->digest).err)
        return true;
    prob(a->p, 400, "InvalidRequest", VT_ERR_KBS_BAD_JSON,
         "runtime-data cannot be canonicalised (RFC 8785)");
    return false;
}

/* tpm, az-*-vtpm: init-data is bound in PCR 8 (kbs_initdata.h), not in a hardware field. */
static bool tee_pcr8(const char *tee)
{
    return tee_az(tee) || tee_tpm(tee);
}

static const char *alg_name(enum vtk_initdata_alg alg)
{
    return alg == VTK_INITDATA_ALG_NONE     ? "(none: no top-level algorithm key)"
           : alg == VTK_INITDATA_ALG_SHA256 ? "sha256"
           : alg == VTK_INITDATA_ALG_SHA384 ? "sha384"
           : alg == VTK_INITDATA_ALG_SHA512 ? "sha512"
                                            : "(another)";
}

/* The init-data body's top-level algorithm, which names the digest the evidence binds (as
 * Trustee computes it), into a->init_alg; refused before verification when it cannot be
 * bound: PCR 8 tees (a SHA-256 PCR) take only "sha256"; the hardware tees sha256, sha384 or
 * sha512, and a body without the key keeps this KBS's earlier SHA-384. */
static bool attest_init_data_alg(struct attest *a)
{
    if (!a->init || !json_is_object(a->init))
        return true;
    const json_t *body = json_object_get(a->init, "body");
    enum vtk_initdata_alg alg;
    if (vtk_initdata_alg(json_string_value(body), json_string_length(body), &alg)) {
        prob(a->p, 400, "InvalidRequest", VT_ERR_KBS_INIT_DATA_TOML,
             "init-data body: its top-level algorithm key is malformed or repeated");
        return false;
    }
    bool pcr8 = tee_pcr8(a->tee);
    if (!pcr8 && alg == VTK_INITDATA_ALG_NONE)
        alg = VTK_INITDATA_ALG_SHA384;
    a->init_alg = alg;
    if (alg == VTK_INITDATA_ALG_SHA256 || (!pcr8 && alg != VTK_INITDATA_ALG_OTHER))
        return true;
    if (pcr8)
        prob(a->p, 403, "AttestationError", VT_ERR_KBS_INIT_DATA_ALG,
             "init-data algorithm %s cannot be bound in PCR 8 of %s (a SHA-256 PCR): only "
             "algorithm = \"sha256\"", alg_name(alg), a->tee);
    else
        prob(a->p, 403, "AttestationError", VT_ERR_KBS_INIT_DATA_ALG,
             "init-data algorithm %s: only sha256, sha384 or sha512", alg_name(alg));
    return false;
}

/* The init-data digest with the body's algorithm (a->init_alg) into h and a->initd_hex. */
static bool init_data_digest(struct attest *a, uint8_t h[64])
{
    const json_t *body = json_object_get(a->init, "body");
    const EVP_MD *md = a->init_alg == VTK_INITDATA_ALG_SHA256   ? EVP_sha256()
                       : a->init_alg == VTK_INITDATA_ALG_SHA512 ? EVP_sha512()
                                                                : EVP_sha384();
    unsigned int n = 0;
    if (EVP_Digest(json_string_value(body), json_string_length(body), h, &n, md, NULL) != 1) {
        prob(a->p, 500, "InternalError", VT_ERR_CRYPTO, "digest failed");
        return false;
    }
    vti_hex_encode(h, n, a->initd_hex);
    return true;
}

/* PCR 8 tees: the quoted PCR 8 must be SHA-256(0^32 || digest) (constant time). */
static bool init_data_pcr8(struct attest *a, const uint8_t h[32])
{
    char why[160] = "";
    int e = vtk_initdata_pcr8_check(a->v.claims, h, why, sizeof(why));
    if (e == VT_ERR_KBS_INIT_DATA_PCR8)
        prob(a->p, 403, "AttestationError", e, "%s (%s)", why, a->tee);
    else if (e)
        prob(a->p, 500, "InternalError", e, "digest failed");
    return !e;
}

/* Hardware TEEs: the digest must match the config field(s) the evidence carries, compared
 * over the field's length (zero-padded or truncated digest). */
static bool init_data_fields(struct attest *a)
{
    static const char *const fields[] = { "mr_config_id", "host_data", "config_id" };
    for (size_t i = 0; i < VT_ARRAY_LEN(fields); i++) {
        const json_t *f = member(a->v.claims, fields[i], JSON_STRING);
        if (!f)
            continue;
        char want[129];
        size_t fl = json_string_length(f), dl = strlen(a->initd_hex);
        memset(want, '0', sizeof(want));
        memcpy(want, a->initd_hex, fl < dl ? fl : dl);
        if (fl > 128 || strncmp(json_string_value(f), want, fl) != 0) {
            prob(a->p, 403, "AttestationError", VT_ERR_KBS_INIT_DATA,
                 "init-data digest does not match %s", fields[i]);
            return false;
        }
    }
    return true;
}

/* init-data: its digest bound by the verified evidence (PCR 8, or the TEE's config field). */
static bool attest_init_data(struct attest *a)
{
    if (!a->init || !json_is_object(a->init))
        return true;
    uint8_t h[64];
    if (!init_data_digest(a, h))
        return false;
    return tee_pcr8(a->tee) ? init_data_pcr8(a, h) : init_data_fields(a);
}

/* The GPUs of the additional evidence (kbs_devices.c): a failed device is reported in its
 * submod; malformed or replayed device evidence refuses the attestation. */
static bool attest_devices(struct attest *a)
{
    if (!a->add_obj)
        return true;
    char why[300] = "";
    vt_res r = vtk_devices_verify(a->k, a->add_obj, json_string_value(a->nonce), a->jwk, a->now,
                                  &a->dev, why, sizeof(why));
    if (r.err == VT_ERR_KBS_DEVICE_EVIDENCE)
        prob(a->p, 400, "InvalidRequest", r.err, "%s", why);
    else if (r.err == VT_ERR_KBS_DEVICE_NONCE_USED)
        prob(a->p, 403, "AttestationError", r.err, "%s", why);
    else if (r.err)
        prob(a->p, 503, "StoreError", r.err, "device evidence: %s (%s)", why, vt_errname(r.err));
    return !r.err;
}

/* Sim evidence anywhere: the CPU TEE's or a device's. */
static bool attest_insecure(const struct attest *a)
{
    bool ins = a->v.rep && vt_report_insecure(a->v.rep);
    for (size_t i = 0; i < a->dev.n; i++)
        ins = ins || a->dev.d[i].insecure;
    return ins;
}

/* The token's annotated evidence: the verified claims under the tee's name, TCB status,
 * runtime data, init-data digest and the unverified device names (consumed). */
static json_t *annotated_evidence(struct attest *a)
{
    const char *tcb = vt_report_tcb_status(a->v.rep);
    const char *rdh = json_string_value(json_object_get(a->v.claims, "report_data"));
    json_t *ann = json_pack("{s:s, s:o, s:o, s:b, s:s, s:{s:s, s:O}}", "tee", a->tee,
                            a->tee, json_incref(a->v.claims), "tcb_status",
                            tcb ? json_string(tcb) : json_null(), "insecure",
                            attest_insecure(a), "report_data", rdh ? rdh : "",
                            "runtime_data_claims", "nonce", json_string_value(a->nonce),
                            "tee-pubkey", a->jwk);
    if (ann && *a->initd_hex)
        json_object_set_new(ann, "init_data", json_string(a->initd_hex));
    if (ann && a->add_names && json_array_size(a->add_names)) {
        json_object_set_new(ann, "additional_evidence_unverified", a->add_names);
        a->add_names = NULL;
    }
    return ann;
}

/* A token payload's annotated evidence if it has the claims of its tee, else NULL. */
static const json_t *token_claims(const json_t *payload)
{
    const json_t *ann = json_object_get(
        json_object_get(json_object_get(payload, "submods"), "cpu0"),
        "ear.veraison.annotated-evidence");
    const json_t *jt = member(ann, "tee", JSON_STRING);
    return jt && member(ann, json_string_value(jt), JSON_OBJECT) ? ann : NULL;
}

/* Appraise (AR4SI vector) and sign the EAR token into a->tok. */
static bool attest_issue_token(struct attest *a, int tv[VTK_TV_COUNT])
{
    appraise_vector(a->k, &a->v, a->now, tv);
    char pid[96];
    policy_id(a->k, pid, sizeof(pid));
    json_t *ann = annotated_evidence(a);
    json_t *subs = vtk_devices_submods(&a->dev, pid);
    vt_res r = ann && subs ? vtk_ear_issue_submods(&a->k->signer, tv, pid, ann, subs, a->now,
                                                   a->k->cfg.token_lifetime, &a->tok,
                                                   &a->payload)
                           : VT_FAIL(VT_ERR_NOMEM);
    if (!ann || !subs)
        json_decref(ann);
    json_decref(subs);
    if (!r.err)
        return true;
    prob(a->p, 500, "InternalError", r.err, "cannot issue the token (%s)", vt_errname(r.err));
    return false;
}

/* Consume the challenge (atomically, in the shared store) and keep the token in the
 * session; then the reply. */
static bool attest_finish(struct attest *a, struct vtk_response *resp)
{
    json_t *sj = json_pack("{s:s}", "token", (char *)a->tok.p);
    char *ss = sj ? json_dumps(sj, JSON_COMPACT) : NULL;
    json_decref(sj);
    vt_res r = ss ? ops(a->k)->session_advance(store(a->k), a->rq->cookie_session,
                                               ST_CHALLENGED, ST_ATTESTED, (const uint8_t *)ss,
                                               strlen(ss), a->now)
                  : VT_FAIL(VT_ERR_NOMEM);
    free(ss);
    if (r.err == VT_ERR_NOT_FOUND) {
        prob(a->p, 401, "ChallengeUsed", VT_ERR_KBS_CHALLENGE_USED,
             "this session's challenge was used concurrently or expired: POST /kbs/v0/auth");
        return false;
    } else if (r.err) {
        prob(a->p, 503, "StoreError", r.err, "session update failed (%s)", vt_errname(r.err));
        return false;
    }
    snprintf(resp->set_cookie, sizeof(resp->set_cookie),
             "kbs-session-id=%s; Path=/kbs; Max-Age=%" PRId64 "; HttpOnly",
             a->rq->cookie_session, a->k->cfg.session_lifetime);
    respond_json(resp, 200, "application/json", json_pack("{s:s}", "token", (char *)a->tok.p));
    /* the guest's resource requests bring this token next: memoized as verified (it is the
     * payload just signed, with the tee-pubkey checked in attest_parse_body) */
    if (token_claims(a->payload))
        vtk_token_memo_put(a->k->tokens, a->tok.p, a->tok.len,
                           &(struct vtk_token_result){ a->payload, a->key, a->alg });
    return true;
}

/* The release of an issued token. Its audit row is written first: the session holds the
 * token once attest_finish has advanced it (a cookie then brings the token to /resource), so
 * a token whose issuance could not be audited must not reach the session (fail closed). If
 * the session step then fails (its challenge used concurrently), a second row records the
 * refusal: the trail may show a token that did not go out, never the reverse. */
static void attest_release(struct attest *a, struct vtk_response *resp, const int *tv,
                           const char *rid)
{
    struct vtk_server *k = a->k;
    char note[160];
    snprintf(note, sizeof(note), "token issued, ear.status %s", vtk_ear_status(tv));
    vt_res au = record(k, rid, a->rq->peer, a->tee, "kbs-attest", "", true, attest_insecure(a),
                       note);
    bool out = !audit_refuse(resp, a->p, au) && attest_finish(a, resp);
    if (!au.err && !out)
        (void)record(k, rid, a->rq->peer, a->tee, "kbs-attest", "", false, attest_insecure(a),
                     a->p->detail);
    atomic_fetch_add(out ? &k->m.attest_ok : &k->m.attest_fail, 1);
}

static void handle_attest(struct vtk_server *k, const struct vtk_request *rq, int64_t now,
                          struct vtk_response *resp, struct problem *p, const char *rid)
{
    struct attest a = { .k = k, .rq = rq, .now = now, .p = p, .tee = "", .tok = VT_BUF_INIT };
    int tv[VTK_TV_COUNT];
    bool ok = attest_session(&a) && attest_parse_body(&a) && attest_check_nonce(&a) &&
              attest_additional(&a) && attest_bind(&a) && attest_init_data_alg(&a) &&
              verify_evidence(k, a.tee, a.te, a.digest, now, &a.v, p) &&
              attest_init_data(&a) && attest_devices(&a) && attest_issue_token(&a, tv);
    if (ok) {
        attest_release(&a, resp, tv, rid);
    } else {
        /* a refused attestation proves nothing about the requester: not audited */
        unauth_failure(k, VTK_UNAUTH_ATTEST, rid, rq->peer, now, p->detail);
        atomic_fetch_add(&k->m.attest_fail, 1);
    }
    vt_report_free(a.v.rep);
    json_decref(a.v.claims);
    json_decref(a.add_names);
    json_decref(a.add_obj);
    vtk_devices_free(&a.dev);
    json_decref(a.body);
    json_decref(a.sess);
    vti_buf_free(&a.tok);
    json_decref(a.payload);
    EVP_PKEY_free(a.key);
}

/* ---- /kbs/v0/resource ---------------------------------------------------------------- */

static bool segment_ok(const char *s, size_t n)
{
    if (n == 0 || n > VTP_MAX_SEGMENT)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool alnum = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (!(alnum || c == '_' || c == '-' || (c == '.' && i > 0)))
            return false;
    }
    return true;
}

/* Token from cookie (first) or bearer. */
static bool find_token(struct vtk_server *k, const struct vtk_request *rq, int64_t now,
                       struct vt_buf *tok, struct problem *p)
{
    struct problem cp = { 0 };
    if (rq->cookie_session) {
        struct vt_buf sb = VT_BUF_INIT;
        int state = 0;
        char why[160];
        vt_res r = ops(k)->session_get(store(k), rq->cookie_session, now, &state, &sb);
        if (r.err == VT_ERR_NOT_FOUND) {
            prob(&cp, 401, "ExpiredCookie", VT_ERR_KBS_SESSION_EXPIRED,
                 "unknown or expired KBS session: attest again");
        } else if (r.err) {
            prob(&cp, 503, "StoreError", r.err, "session lookup failed (%s)", vt_errname(r.err));
        } else if (state != ST_ATTESTED) {
            prob(&cp, 401, "UnAuthenticated", VT_ERR_KBS_NOT_ATTESTED,
                 "this KBS session has not attested yet: POST /kbs/v0/attest");
        } else {
            json_t *sj = vtp_json_parse(sb.p, sb.len, why, sizeof(why));
            const json_t *t = member(sj, "token", JSON_STRING);
            bool ok = t && !vti_buf_append(tok, json_string_value(t), json_string_length(t)).err &&
                      !vti_buf_cstr(tok).err;
            json_decref(sj);
            vti_buf_free(&sb);
            if (ok)
                return true;
            prob(&cp, 500, "InternalError", VT_ERR_BROKER_STORE_CORRUPT, "corrupt session row");
        }
        vti_buf_free(&sb);
    }
    const char *a = rq->authorization;
    if (a && !strncasecmp(a, "Bearer ", 7)) {
        a += 7;
        while (*a == ' ')
            a++;
        if (*a && !vti_buf_append(tok, a, strlen(a)).err && !vti_buf_cstr(tok).err)
            return true;
    }
    if (cp.status)
        *p = cp;
    else
        prob(p, 401, "TokenNotFound", VT_ERR_KBS_NO_AUTH,
             "no kbs-session-id cookie and no Authorization: Bearer token");
    return false;
}

/* One /resource request on its way through the steps below; each step returns false with
 * the problem set. */
struct resource {
    struct vtk_server *k;
    const struct vtk_request *rq;
    int64_t now;
    struct problem *p;
    char path[VTP_MAX_PATH + 1]; /* <repo>/<type>/<tag>, or "" */
    struct vt_buf tok, secret;
    json_t *claims;              /* the verified token's claims */
    const json_t *ann, *cl;      /* its annotated evidence, and the claims of tee in it */
    const char *tee;
    bool insecure;
    EVP_PKEY *key;               /* the tee-pubkey the resource is sealed to */
    enum vtk_keyalg alg;
    char rule[64];               /* the granting rule */
};

/* /kbs/v0/resource/<repo>/<type>/<tag> -> r->path. */
static bool resource_path(struct resource *r)
{
    const char *s = r->rq->path + strlen("/kbs/v0/resource/");
    if (strchr(s, '%')) { /* the path as sent (http.c does not decode): no escapes at all */
        prob(r->p, 400, "InvalidRequestPath", VT_ERR_BROKER_BAD_PATH,
             "percent-encoding is not allowed in a resource path");
        r->path[0] = 0;
        return false;
    }
    const char *seg[4];
    size_t segl[4], ns = 0;
    while (ns < 4) {
        const char *e = strchr(s, '/');
        seg[ns] = s;
        segl[ns] = e ? (size_t)(e - s) : strlen(s);
        ns++;
        if (!e)
            break;
        s = e + 1;
    }
    bool ok = ns == 3;
    for (size_t i = 0; ok && i < 3; i++)
        ok = segment_ok(seg[i], segl[i]);
    if (ok)
        ok = snprintf(r->path, sizeof(r->path), "%.*s/%.*s/%.*s", (int)segl[0], seg[0],
                      (int)segl[1], seg[1], (int)segl[2], seg[2]) < (int)sizeof(r->path) &&
             !vtp_path_check(r->path).err;
    if (ok)
        return true;
    prob(r->p, 400, "InvalidRequestPath", VT_ERR_BROKER_BAD_PATH,
         "resource path must be /kbs/v0/resource/<repo>/<type>/<tag>, each segment "
         "[A-Za-z0-9_-][A-Za-z0-9_.-]* of at most %d characters", VTP_MAX_SEGMENT);
    r->path[0] = 0;
    return false;
}

/* The token must be one this broker (or a peer on its store) signed, unexpired, with
 * annotated evidence and a usable tee-pubkey. A token verified (or issued) before is taken
 * from the memo (token_memo.h: same bytes, same time checks). */
static bool resource_token(struct resource *r)
{
    struct vtk_token_result m;
    bool hit = vtk_token_memo_get(r->k->tokens, r->tok.p, r->tok.len, r->now, &m);
    if (hit) {
        r->claims = m.claims, r->key = m.key, r->alg = m.alg;
    } else {
        vt_res v = vtk_ear_verify(&r->k->signer, (const char *)r->tok.p, r->tok.len, r->now,
                                  &r->claims);
        if (v.err) {
            prob(r->p, 401, v.err == VT_ERR_KBS_TOKEN_EXPIRED ? "TokenExpired"
                                                              : "TokenVerifierError",
                 v.err, "%s: attest again", vt_strerror(v.err));
            return false;
        }
    }
    r->ann = token_claims(r->claims);
    const json_t *jwk = json_object_get(member(r->ann, "runtime_data_claims", JSON_OBJECT),
                                        "tee-pubkey");
    if (!r->ann || (!hit && vtk_jwk_public(jwk, &r->key, &r->alg).err)) {
        prob(r->p, 401, "TokenVerifierError", VT_ERR_KBS_TOKEN_INVALID,
             "token lacks annotated evidence or a usable tee-pubkey");
        return false;
    }
    r->tee = json_string_value(json_object_get(r->ann, "tee"));
    r->cl = json_object_get(r->ann, r->tee);
    r->insecure = json_is_true(json_object_get(r->ann, "insecure"));
    if (!hit)
        vtk_token_memo_put(r->k->tokens, r->tok.p, r->tok.len,
                           &(struct vtk_token_result){ r->claims, r->key, r->alg });
    return true;
}

/* The policy, on the appraisal input the token's (signed) claims carry. */
static bool resource_authorise(struct resource *r)
{
    if (r->insecure && !r->k->cfg.allow_sim) {
        prob(r->p, 403, "PolicyDeny", VT_ERR_BROKER_SIM_REFUSED,
             "sim evidence refused: the broker was not started with --allow-sim");
        return false;
    }
    size_t nc = json_object_size(r->cl), i = 0;
    struct vtb_claim_str *cs = calloc(nc ? nc : 1, sizeof(*cs));
    if (!cs) {
        prob(r->p, 500, "InternalError", VT_ERR_NOMEM, "out of memory");
        return false;
    }
    const char *name;
    json_t *val;
    json_object_foreach(vti_unconst(r->cl), name, val) {
        if (json_is_string(val)) {
            cs[i].name = name;
            cs[i].value = json_string_value(val);
            i++;
        }
    }
    const json_t *tcb = json_object_get(r->ann, "tcb_status");
    struct vtk_device_input di;
    vt_res v = vtk_device_input(json_object_get(r->claims, "submods"), &di);
    struct vtb_input in = { .tee = !strcmp(r->tee, "sample") ? "sim" : r->tee,
                            .tcb_status = json_is_string(tcb) ? json_string_value(tcb) : NULL,
                            .claims = cs, .n_claims = i, .devices = di.dev,
                            .n_devices = di.n };
    char why[256] = "";
    struct vtb_snapshot *snap = vtb_state_snapshot(r->k->st);
    if (!v.err)
        v = vtb_appraise(snap, &in, r->path, r->now, r->rule, why, sizeof(why));
    vtb_snapshot_unref(snap);
    vtk_device_input_free(&di);
    free(cs);
    if (!v.err)
        return true;
    prob(r->p, 403, "PolicyDeny", v.err, "%s", *why ? why : vt_strerror(v.err));
    return false;
}

/* The secret (policy before existence: no oracle). */
static bool resource_fetch(struct resource *r)
{
    char kind[16];
    int64_t ver;
    vt_res v = vtb_kms_get(r->k->st->kms, r->path, 0, kind, &ver, &r->secret);
    if (v.err == VT_ERR_BROKER_UNKNOWN_RESOURCE) {
        prob(r->p, 404, "ResourceNotFound", v.err, "unknown resource: %s", r->path);
        return false;
    } else if (v.err) {
        prob(r->p, 503, "StoreError", v.err, "key store error (%s)", vt_errname(v.err));
        return false;
    }
    return true;
}

/* The reply: the secret as a JWE to the token's tee-pubkey. */
static bool resource_seal(struct resource *r, struct vtk_response *resp)
{
    resp->body.max = VTP_MAX_SECRET * 2 + 4096;
    vt_res v = vtk_jwe_encrypt(r->key, r->alg, r->secret.p, r->secret.len, &resp->body);
    if (v.err) {
        vti_buf_free(&resp->body);
        prob(r->p, 500, "JweError", v.err, "cannot encrypt the resource (%s)", vt_errname(v.err));
        return false;
    }
    resp->status = 200;
    resp->content_type = "application/json";
    return true;
}

/* The release of an authorised and fetched resource. Its audit row is queued before the JWE
 * is made and waited for after it, so that the row is made durable (the group commit's fsync)
 * while the secret is sealed; the JWE goes out only once the row is durable (fail closed).
 * Sealing fails only on an internal error: a second row then records the refusal (the trail
 * may show a release row for a secret that did not go out, never the reverse). */
static void resource_release(struct resource *r, struct vtk_response *resp, const char *rid)
{
    struct vtk_server *k = r->k;
    char note[128];
    snprintf(note, sizeof(note), "rule %s", r->rule);
    struct vtb_audit au = decision(k, rid, r->rq->peer, r->tee, "kbs-resource", r->path, true,
                                   r->insecure, note);
    struct vtb_audit_pending pend;
    vtb_state_audit_begin(k->st, &au, &pend);
    bool sealed = resource_seal(r, resp);
    vt_res v = vtb_state_audit_end(k->st, &pend);
    if (!sealed)
        (void)record(k, rid, r->rq->peer, r->tee, "kbs-resource", r->path, false, r->insecure,
                     r->p->detail);
    bool out = sealed && !audit_refuse(resp, r->p, v);
    atomic_fetch_add(out ? &k->m.resource_ok : &k->m.resource_fail, 1);
}

static void handle_resource(struct vtk_server *k, const struct vtk_request *rq, int64_t now,
                            struct vtk_response *resp, struct problem *p, const char *rid)
{
    struct resource r = { .k = k, .rq = rq, .now = now, .p = p, .tok = VT_BUF_INIT,
                          .secret = VT_BUF_INIT, .tee = "" };
    int step = 0; /* the unauthenticated steps passed */
    bool ok = resource_path(&r) && ++step && find_token(k, rq, now, &r.tok, p) && ++step &&
              resource_token(&r) && ++step && resource_authorise(&r) && resource_fetch(&r);
    if (!ok && step < 3) {
        /* no valid token: nothing authenticated to audit (counted, logged rate-limited) */
        static const enum vtk_unauth cls[] = { VTK_UNAUTH_PATH, VTK_UNAUTH_TOKEN,
                                               VTK_UNAUTH_BADTOK };
        unauth_failure(k, cls[step], rid, rq->peer, now, p->detail);
        atomic_fetch_add(&k->m.resource_fail, 1);
    } else if (ok) {
        resource_release(&r, resp, rid);
    } else {
        (void)record(k, rid, rq->peer, r.tee, "kbs-resource", r.path, false, r.insecure,
                     p->detail);
        atomic_fetch_add(&k->m.resource_fail, 1);
    }
    EVP_PKEY_free(r.key);
    json_decref(r.claims);
    vti_buf_free(&r.tok);
    vti_buf_free(&r.secret);
}

/* ---- misc endpoints ------------------------------------------------------------------ */

static void handle_metrics(struct vtk_server *k, struct vtk_response *resp)
{
    struct vtk_metrics *m = &k->m;
    vt_res r = vti_buf_printf(
        &resp->body,
        "# HELP veritee_kbs_auth_total KBS challenges issued.\n"
        "# TYPE veritee_kbs_auth_total counter\nveritee_kbs_auth_total %lu\n"
        "# HELP veritee_kbs_attest_total KBS attestations by result.\n"
        "# TYPE veritee_kbs_attest_total counter\n"
        "veritee_kbs_attest_total{result=\"ok\"} %lu\nveritee_kbs_attest_total{result=\"refused\"} %lu\n"
        "# HELP veritee_kbs_resource_total KBS resource requests by result.\n"
        "# TYPE veritee_kbs_resource_total counter\n"
        "veritee_kbs_resource_total{result=\"released\"} %lu\n"
        "veritee_kbs_resource_total{result=\"refused\"} %lu\n"
        "# HELP veritee_kbs_http_responses_total HTTP responses by status class.\n"
        "# TYPE veritee_kbs_http_responses_total counter\n",
        atomic_load(&m->auth), atomic_load(&m->attest_ok), atomic_load(&m->attest_fail),
        atomic_load(&m->resource_ok), atomic_load(&m->resource_fail));
    for (int i = 1; i <= 5 && !r.err; i++)
        r = vti_buf_printf(&resp->body, "veritee_kbs_http_responses_total{class=\"%dxx\"} %lu\n", i,
                          atomic_load(&m->status[i]));
    uint64_t fails = 0;
    int integ = vtb_state_integrity(k->st, &fails);
    if (!r.err)
        r = vti_buf_printf(&resp->body,
                           "# HELP veritee_broker_policy_tampered 1 while the stored policy or "
                           "reference values do not authenticate (last good one in use).\n"
                           "# TYPE veritee_broker_policy_tampered gauge\n"
                           "veritee_broker_policy_tampered %d\n"
                           "# HELP veritee_broker_policy_integrity_failures_total Policy reloads "
                           "refused because a row did not authenticate.\n"
                           "# TYPE veritee_broker_policy_integrity_failures_total counter\n"
                           "veritee_broker_policy_integrity_failures_total %llu\n",
                           integ ? 1 : 0, (unsigned long long)fails);
    if (!r.err)
        r = vti_buf_printf(&resp->body,
                           "# HELP veritee_kbs_unauthenticated_total Unauthenticated KBS "
                           "failures by reason (not audited one by one).\n"
                           "# TYPE veritee_kbs_unauthenticated_total counter\n");
    for (size_t i = 0; i < VT_ARRAY_LEN(unauth_names) && !r.err; i++)
        r = vti_buf_printf(&resp->body, "veritee_kbs_unauthenticated_total{reason=\"%s\"} %lu\n",
                           unauth_names[i], atomic_load(&k->m.unauth[i]));
    resp->status = r.err ? 500 : 200;
    resp->content_type = "text/plain; version=0.0.4";
}

/* Expired sessions: swept about once a minute (by the request that wins the swap). */
static void sweep_sessions(struct vtk_server *k, int64_t now)
{
    int64_t last = __atomic_load_n(&k->last_sweep, __ATOMIC_RELAXED);
    if (now - last < 60 ||
        !__atomic_compare_exchange_n(&k->last_sweep, &last, now, false, __ATOMIC_ACQ_REL,
                                     __ATOMIC_RELAXED))
        return;
    vt_res sw = ops(k)->session_sweep(store(k), now);
    if (sw.err)
        klog(k, "session sweep failed: %s", vt_errname(sw.err));
}

void vtk_handle(struct vtk_server *k, const struct vtk_request *rq, int64_t now,
                struct vtk_response *resp)
{
    char rid[32];
    vtb_state_rid(k->st, "k", rid);
    struct problem p = { 0 };
    resp->status = 0;
    resp->set_cookie[0] = 0;
    bool get = !strcmp(rq->method, "GET"), post = !strcmp(rq->method, "POST");
    sweep_sessions(k, now);
    if (!strcmp(rq->path, "/kbs/v0/auth")) {
        if (post)
            handle_auth(k, rq, now, resp, &p);
        else
            prob(&p, 405, "MethodNotAllowed", VT_ERR_BROKER_UNKNOWN_OP, "use POST");
    } else if (!strcmp(rq->path, "/kbs/v0/attest")) {
        if (post)
            handle_attest(k, rq, now, resp, &p, rid);
        else
            prob(&p, 405, "MethodNotAllowed", VT_ERR_BROKER_UNKNOWN_OP, "use POST");
    } else if (!strncmp(rq->path, "/kbs/v0/resource/", 17)) {
        if (get)
            handle_resource(k, rq, now, resp, &p, rid);
        else
            prob(&p, 405, "MethodNotAllowed", VT_ERR_BROKER_UNKNOWN_OP,
                 "use GET (resources are provisioned through the admin socket)");
    } else if (get && !strcmp(rq->path, "/.well-known/jwks.json")) {
        respond_json(resp, 200, "application/json", vtk_jwks(&k->signer));
    } else if (get && !strcmp(rq->path, "/healthz")) {
        /* bounded (a frozen database: 503 in time, not a hung request) where the store can */
        struct vt_buf b = VT_BUF_INIT;
        vt_res r = ops(k)->health ? ops(k)->health(store(k), 1500)
                                  : ops(k)->meta_get(store(k), "master-check", &b);
        vti_buf_free(&b);
        /* the state of the last reload (no store read here: /healthz stays bounded) */
        int integ = vtb_state_integrity(k->st, NULL);
        if (r.err)
            prob(&p, 503, "StoreError", r.err, "store unavailable (%s)", vt_errname(r.err));
        else if (integ)
            prob(&p, 503, "PolicyTampered", integ, "policy: tampered (%s): serving the last "
                 "good policy", vt_errname(integ));
        else
            respond_json(resp, 200, "application/json", json_pack("{s:s}", "status", "ok"));
    } else if (get && !strcmp(rq->path, "/metrics")) {
        handle_metrics(k, resp);
    } else {
        prob(&p, 404, "PluginNotFound", VT_ERR_BROKER_UNKNOWN_OP, "no such endpoint");
        atomic_fetch_add(&k->m.other, 1);
    }
    if (p.status)
        respond_problem(k, resp, &p, rid);
    int c = resp->status / 100;
    if (c >= 1 && c <= 5)
        atomic_fetch_add(&k->m.status[c], 1);
}

/* ---- life cycle ---------------------------------------------------------------------- */

vt_res vtk_new(const struct vtk_config *cfg, struct vtb_state *st, int64_t now,
               struct vtk_server **ret)
{
    ENSURE(cfg && st && st->kms, VT_ERR_INVALID_ARG);
    struct vtk_server *k = calloc(1, sizeof(*k));
    ENSURE(k, VT_ERR_NOMEM);
    k->cfg = *cfg;
    k->st = st;
    if (k->cfg.token_lifetime <= 0)
        k->cfg.token_lifetime = 300;
    if (k->cfg.session_lifetime <= 0)
        k->cfg.session_lifetime = 300;
    if (k->cfg.max_sessions_per_address <= 0)
        k->cfg.max_sessions_per_address = 64;
    if (!k->cfg.threads)
        k->cfg.threads = 8;
    k->last_sweep = now;
    k->tokens = vtk_token_memo_new();
    vt_res r = k->tokens ? vtk_signer_load(st->kms, now, &k->signer) : VT_FAIL(VT_ERR_NOMEM);
    if (r.err) {
        vtk_free(k);
        return r;
    }
    *ret = k;
    return vti_ok();
}

void vtk_free(struct vtk_server *k)
{
    if (!k)
        return;
    vtk_signer_free(&k->signer);
    vtk_token_memo_free(k->tokens);
    free(k);
}
