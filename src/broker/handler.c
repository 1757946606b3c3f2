/* SPDX-License-Identifier: Apache-2.0 */
/*
 * handler.c - the agent request handler (handler.h): appraise, release, reply, log, audit.
 *
 * Trust boundary: the request is untrusted bytes (proto parses them under limits); what is
 * trusted is the appraisal input the verified report was reduced to (input.c). Decisions
 * happen here, once per path, with the request id, logged and appended to the audit table.
 * Policy first, then existence: no oracle for unauthorised agents. Sim evidence is refused
 * unless allow_sim; then every release is logged and audited as INSECURE. Secrets are held
 * only in wiping buffers and never logged.
 */
#include "broker/handler.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/codec.h"
#include "util/secmem.h"

struct agent_rq {
    const struct vtb_agent_env *e;
    const struct vtb_agent_peer *p;
    const char *rid;
};

void vtb_reply_free(char *s)
{
    if (s) {
        vti_memzero(s, strlen(s));
        free(s);
    }
}

static const char *peer_tee(const struct agent_rq *a)
{
    return a->p->in ? a->p->in->tee : NULL;
}

/* ---- decisions ----------------------------------------------------------------------- */

/* Log and audit one decision; VT_ERR_BROKER_AUDIT_FAILED if the audit row was not written. */
static vt_res record(const struct agent_rq *a, const char *op, const char *path, bool release,
                     const char *reason)
{
    struct vtb_state *st = a->e->st;
    const char *tee = peer_tee(a);
    vtb_state_log(st, "rid=%s peer=%s tee=%s op=%s path=%s decision=%s%s%s%s", a->rid,
                  a->p->peer, tee ? tee : "-", op, path && *path ? path : "-",
                  release ? "release" : "refuse", reason ? " reason=\"" : "",
                  reason ? reason : "", reason ? "\"" : "");
    if (release && a->p->insecure)
        vtb_state_log(st, "rid=%s INSECURE release: the agent attested with sim evidence "
                          "(allow-sim)", a->rid);
    struct vtb_audit au = {
        .time = (int64_t)time(NULL), .rid = a->rid, .peer = a->p->peer, .tee = tee ? tee : "",
        .op = op, .path = path ? path : "", .decision = release ? "release" : "refuse",
        .reason = reason ? reason : "", .insecure = a->p->insecure,
    };
    return vtb_state_audit(st, &au);
}

/* Fail closed: a release that could not be audited is refused (its plaintext wiped). */
static vt_res audited(vt_res r, vt_res audit, struct vt_buf *out, char *why, size_t wl)
{
    if (r.err || !audit.err)
        return r;
    vti_buf_free(out);
    snprintf(why, wl, "the release could not be audited (store error): refused");
    return audit;
}

/* Appraise one path for this agent. VT_OK: allowed (rule in rule); else reason in why. */
static vt_res authorise(const struct agent_rq *a, const char *path, char *rule, char *why,
                        size_t wl)
{
    if (!a->p->in) {
        snprintf(why, wl, "peer did not attest");
        return VT_FAIL(VT_ERR_BROKER_NOT_ATTESTED);
    }
    if (a->p->insecure && !a->e->allow_sim) {
        snprintf(why, wl, "sim evidence refused: the broker was not started with --allow-sim");
        return VT_FAIL(VT_ERR_BROKER_SIM_REFUSED);
    }
    struct vtb_snapshot *s = vtb_state_snapshot(a->e->st);
    vt_res r = vtb_appraise(s, a->p->in, path, (int64_t)time(NULL), rule, why, wl);
    vtb_snapshot_unref(s);
    return r;
}

/* Release path's plaintext (policy first, then existence). On failure why is set. */
static vt_res release(const struct agent_rq *a, const char *op, const char *path, bool want_key,
                      struct vt_buf *out, char *why, size_t wl)
{
    char rule[64] = "";
    vt_res r = authorise(a, path, rule, why, wl);
    if (!r.err) {
        char kind[16];
        int64_t ver;
        r = vtb_kms_get(a->e->st->kms, path, 0, kind, &ver, out);
        if (r.err == VT_ERR_BROKER_UNKNOWN_RESOURCE)
            snprintf(why, wl, "unknown resource: %s", path);
        else if (!r.err && want_key && (strcmp(kind, VTB_KIND_KEY) != 0 || out->len != 32)) {
            vti_buf_free(out);
            r = VT_FAIL(VT_ERR_BROKER_NOT_A_KEY);
            snprintf(why, wl, "resource is not a key: %s", path);
        } else if (r.err) {
            snprintf(why, wl, "key store error (%s)", vt_errname(r.err));
        }
    }
    char note[128];
    snprintf(note, sizeof(note), "rule %s", rule);
    return audited(r, record(a, op, path, !r.err, r.err ? why : note), out, why, wl);
}

/* ---- framed protocol ------------------------------------------------------------------- */

static vt_res op_unwrap(const struct agent_rq *a, const struct vtp_request *q,
                        struct vt_buf *out, char *why, size_t wl)
{
    char rule[64] = "";
    vt_res r = authorise(a, q->path, rule, why, wl);
    if (!r.err) {
        r = vtb_kms_unwrap(a->e->st->kms, &q->wrapped, out);
        if (r.err == VT_ERR_BROKER_UNKNOWN_RESOURCE)
            snprintf(why, wl, "unknown resource: %s (key version %" PRId64 ")", q->path,
                     q->wrapped.key_version);
        else if (r.err)
            snprintf(why, wl, "unwrap failed: %s", vt_strerror(r.err));
    }
    char note[96];
    snprintf(note, sizeof(note), "rule %s", rule);
    return audited(r, record(a, "unwrap", q->path, !r.err, r.err ? why : note), out, why, wl);
}

static char *handle_framed(const struct agent_rq *a, const struct vtp_request *q)
{
    char why[320];
    struct vt_buf out = VT_BUF_INIT;
    char *reply = NULL;
    vt_res r;
    switch (q->op) {
    case VTP_OP_VERSION:
        return vtp_reply_ok(q->id, a->rid, json_pack("{s:s,s:i}", "version",
                                                     "veritee-broker " VT_VERSION_STRING,
                                                     "protocol", 1));
    case VTP_OP_GET_RESOURCE:
        r = release(a, "get-resource", q->path, false, &out, why, sizeof(why));
        break;
    case VTP_OP_UNWRAP:
        r = op_unwrap(a, q, &out, why, sizeof(why));
        break;
    default:
        r = VT_FAIL(VT_ERR_BROKER_UNKNOWN_OP);
        snprintf(why, sizeof(why), "malformed request: unknown op");
        break;
    }
    if (r.err) {
        reply = vtp_reply_err(q->id, a->rid, r.err, why);
    } else {
        json_t *d = vtp_json_b64(out.p, out.len);
        reply = vtp_reply_ok(q->id, a->rid, json_pack("{s:o}", "data", d));
    }
    vti_buf_free(&out);
    return reply;
}

/* ---- legacy EAA (Verdictd) ------------------------------------------------------------ */

char *vtb_eaa_fail(const char *why)
{
    json_t *o = json_pack("{s:s,s:{},s:s}", "status", "Fail", "data", "error", why);
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return s;
}

/* {"status":"OK","data":data} (consumes data; the key material in the tree is not wiped by
 * jansson). */
static char *eaa_ok(json_t *data)
{
    json_t *o = json_pack("{s:s,s:o}", "status", "OK", "data", data);
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return s;
}

/* Base64 of n bytes at p (NULL when out of memory). */
static char *b64_str(const uint8_t *p, size_t n)
{
    struct vt_buf b = VT_BUF_INIT;
    char *out = NULL;
    if (!vti_b64_encode(p, n, false, &b).err && !vti_buf_cstr(&b).err)
        out = (char *)vti_buf_steal(&b, NULL);
    vti_buf_free(&b);
    return out;
}

static char *eaa_get_kek(const struct agent_rq *a, const struct vtp_request *q)
{
    char why[320];
    struct vt_buf out = VT_BUF_INIT;
    json_t *data = json_object();
    for (size_t i = 0; i < q->n_kids; i++) {
        if (release(a, "eaa-get-kek", q->kids[i], true, &out, why, sizeof(why)).err) {
            json_decref(data);
            return vtb_eaa_fail(why);
        }
        json_object_set_new(data, q->kids[i], vtp_json_b64(out.p, out.len));
        vti_buf_free(&out);
    }
    return eaa_ok(data);
}

static char *eaa_decrypt(const struct agent_rq *a, const struct vtp_request *q)
{
    char why[320];
    struct vt_buf out = VT_BUF_INIT;
    json_t *data = json_object();
    for (size_t i = 0; i < q->n_blobs; i++) {
        const struct vtp_eaa_blob *bl = &q->blobs[i];
        struct vt_buf pt = VT_BUF_INIT;
        vt_res r = release(a, "eaa-decrypt", bl->kid, true, &out, why, sizeof(why));
        if (!r.err) {
            r = vtb_gcm_open(out.p, bl->iv, NULL, 0, bl->ct.p, bl->ct.len, &pt);
            if (r.err)
                snprintf(why, sizeof(why), "decryption failed for kid %s: %s", bl->kid,
                         vt_strerror(r.err));
        }
        vti_buf_free(&out);
        if (r.err) {
            vti_buf_free(&pt);
            json_decref(data);
            return vtb_eaa_fail(why);
        }
        json_object_set_new(data, bl->encrypted_b64, vtp_json_b64(pt.p, pt.len));
        vti_buf_free(&pt);
    }
    return eaa_ok(data);
}

static char *eaa_get_resource(const struct agent_rq *a, const struct vtp_request *q)
{
    char why[320];
    struct vt_buf out = VT_BUF_INIT;
    if (release(a, "eaa-get-resource", q->path, false, &out, why, sizeof(why)).err) {
        char *f = vtb_eaa_fail(why); /* legacy: the failure base64-encoded too */
        char *s = f ? b64_str((const uint8_t *)f, strlen(f)) : NULL;
        vtb_reply_free(f);
        return s;
    }
    char *s = b64_str(out.p, out.len);
    vti_buf_free(&out);
    return s;
}

static char *eaa_resource_info(const struct agent_rq *a, const struct vtp_request *q)
{
    char why[320];
    struct vt_buf out = VT_BUF_INIT;
    if (release(a, "eaa-resource-info", q->path, false, &out, why, sizeof(why)).err)
        return vtb_eaa_fail(why);
    char n[32];
    snprintf(n, sizeof(n), "%zu", (out.len + 2) / 3 * 4);
    vti_buf_free(&out);
    json_t *o = json_pack("{s:s,s:{s:s}}", "status", "OK", "data", "base64size", n);
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return s;
}

static char *handle_eaa(const struct agent_rq *a, const struct vtp_request *q)
{
    switch (q->op) {
    case VTP_OP_EAA_VERSION: return strdup("{\"status\":\"OK\",\"version\":\"v1\"}");
    case VTP_OP_EAA_GET_KEK: return eaa_get_kek(a, q);
    case VTP_OP_EAA_DECRYPT: return eaa_decrypt(a, q);
    case VTP_OP_EAA_GET_RESOURCE: return eaa_get_resource(a, q);
    case VTP_OP_EAA_RESOURCE_INFO: return eaa_resource_info(a, q);
    default: return vtb_eaa_fail("unknown command");
    }
}

/* ---- entry points -------------------------------------------------------------------- */

char *vtb_agent_handle(const struct vtb_agent_env *e, const struct vtb_agent_peer *p,
                       const struct vtp_request *q, bool legacy, const char *rid)
{
    struct agent_rq a = { .e = e, .p = p, .rid = rid };
    return legacy ? handle_eaa(&a, q) : handle_framed(&a, q);
}

char *vtb_agent_reply(const struct vtb_agent_env *e, const struct vtb_agent_peer *p,
                      const uint8_t *body, size_t n, bool legacy, const char *rid)
{
    char why[320];
    struct vtp_request q;
    char *reply;
    vt_res pr = vtp_request_parse(body, n, legacy, &q, why, sizeof(why));
    if (pr.err) {
        vtb_state_log(e->st, "rid=%s peer=%s %srequest refused: %s", rid, p->peer,
                      legacy ? "legacy " : "", why);
        reply = legacy ? vtb_eaa_fail(why) : vtp_reply_err(q.id, rid, pr.err, why);
    } else {
        reply = vtb_agent_handle(e, p, &q, legacy, rid);
    }
    vtp_request_free(&q);
    return reply;
}
