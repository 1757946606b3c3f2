/*
 * server.c - one agent connection: attested TLS (mutual: the agent presents evidence), then
 * framed JSON requests (or legacy EAA commands), each appraised and answered.
 *
 * Trust boundary: the agent's evidence is verified by libveritee during the handshake; what
 * the broker then trusts is the verified report (claims, TEE type, TCB status). Every request
 * is untrusted bytes (proto.c parses them under limits). Decisions happen here, once per
 * request, with a request id, logged to stderr and appended to the audit table. The reply
 * always says why a request failed; a connection is closed only after an oversized frame
 * (it cannot be resynchronised), after the reply saying so. Sim evidence is refused unless
 * allow-sim is set; then every release is logged and audited as INSECURE.
 * Secrets are held only in wiping buffers and never logged.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "broker/broker.h"
#include "util/codec.h"
#include "util/secmem.h"

#define MAX_CLAIMS 64

struct agent {
    struct vtb_broker *b;
    vt_conn *c;
    const char *peer;
    const vt_report *rep;
    bool insecure;
    const char *tee;
    struct vtb_claim_str claims[MAX_CLAIMS];
    char *claim_vals[MAX_CLAIMS];
    size_t n_claims;
};

/* ---- report -> appraisal input --------------------------------------------------------- */

static void claims_from_report(struct agent *a)
{
    const vt_claims *cl = vt_report_claims(a->rep);
    size_t n = cl ? vt_claims_count(cl) : 0;
    for (size_t i = 0; i < n && a->n_claims < MAX_CLAIMS; i++) {
        const struct vt_claim *c = vt_claims_at(cl, i);
        char *v = NULL;
        switch (c->type) {
        case VT_CLAIM_BOOL: v = strdup(c->b ? "true" : "false"); break;
        case VT_CLAIM_INT:
            if (asprintf(&v, "%" PRId64, c->i) < 0)
                v = NULL;
            break;
        case VT_CLAIM_STRING: v = strdup(c->s ? c->s : ""); break;
        case VT_CLAIM_BYTES:
            v = malloc(2 * c->n + 1);
            if (v)
                vt_hex_encode(c->p, c->n, v);
            break;
        case VT_CLAIM_STRLIST: continue;
        }
        if (!v)
            continue;
        a->claim_vals[a->n_claims] = v;
        a->claims[a->n_claims].name = c->name;
        a->claims[a->n_claims].value = v;
        a->n_claims++;
    }
}

static void claims_free(struct agent *a)
{
    for (size_t i = 0; i < a->n_claims; i++)
        free(a->claim_vals[i]);
    a->n_claims = 0;
}

/* ---- I/O ------------------------------------------------------------------------------ */

static vt_res read_full(vt_conn *c, uint8_t *p, size_t n)
{
    size_t off = 0;
    while (off < n) {
        size_t got = 0;
        int err = vt_conn_read(c, p + off, n - off, &got);
        ENSURE(err == 0, err);
        ENSURE(got > 0, VT_ERR_CLOSED);
        off += got;
    }
    return vt_ok();
}

static vt_res write_frame(vt_conn *c, const char *s)
{
    ENSURE(s, VT_ERR_NOMEM);
    size_t n = strlen(s);
    ENSURE(n <= VTP_MAX_REPLY, VT_ERR_BROKER_REPLY_TOO_LARGE);
    uint8_t *m = malloc(n + VTP_FRAME_HDR);
    ENSURE(m, VT_ERR_NOMEM);
    vtp_frame_hdr((uint32_t)n, m);
    memcpy(m + VTP_FRAME_HDR, s, n);
    int err = vt_conn_write(c, m, n + VTP_FRAME_HDR);
    vt_memzero(m, n + VTP_FRAME_HDR); /* replies may carry secrets */
    free(m);
    ENSURE(err == 0, err);
    return vt_ok();
}

static vt_res write_raw(vt_conn *c, const char *s)
{
    ENSURE(s, VT_ERR_NOMEM);
    int err = vt_conn_write(c, s, strlen(s));
    ENSURE(err == 0, err);
    return vt_ok();
}

/* Free a reply string that may hold a secret. */
static void reply_free(char *s)
{
    if (s) {
        vt_memzero(s, strlen(s));
        free(s);
    }
}

/* ---- decisions ----------------------------------------------------------------------- */

static void record(struct agent *a, const char *rid, const char *op, const char *path,
                   bool release, const char *reason)
{
    struct vtb_broker *b = a->b;
    bool insecure = a->insecure;
    vtb_log(b, "rid=%s peer=%s tee=%s op=%s path=%s decision=%s%s%s%s", rid, a->peer,
            a->tee ? a->tee : "-", op, path && *path ? path : "-",
            release ? "release" : "refuse", reason ? " reason=\"" : "", reason ? reason : "",
            reason ? "\"" : "");
    if (release && insecure)
        vtb_log(b, "rid=%s INSECURE release: the agent attested with sim evidence (allow-sim)",
                rid);
    struct vtb_audit au = {
        .time = (int64_t)time(NULL), .rid = rid, .peer = a->peer, .tee = a->tee ? a->tee : "",
        .op = op, .path = path ? path : "", .decision = release ? "release" : "refuse",
        .reason = reason ? reason : "", .insecure = insecure,
    };
    vt_res r = vtb_kms_ops(b->kms)->audit_append(vtb_kms_store(b->kms), &au);
    if (r.err)
        vtb_log(b, "rid=%s audit append failed: %s", rid, vt_strerror(r.err));
}

/* Appraise one path for this agent. VT_OK: allowed (rule in rule); else reason in why. */
static vt_res authorise(struct agent *a, const char *path, char *rule, char *why, size_t wl)
{
    if (!a->rep) {
        snprintf(why, wl, "peer did not attest");
        return VT_FAIL(VT_ERR_BROKER_NOT_ATTESTED);
    }
    if (a->insecure && !a->b->cfg.allow_sim) {
        snprintf(why, wl, "sim evidence refused: the broker was not started with --allow-sim");
        return VT_FAIL(VT_ERR_BROKER_SIM_REFUSED);
    }
    struct vtb_input in = {
        .tee = a->tee, .tcb_status = vt_report_tcb_status(a->rep),
        .claims = a->claims, .n_claims = a->n_claims,
    };
    struct vtb_snapshot *s = vtb_broker_snapshot(a->b);
    vt_res r = vtb_appraise(s, &in, path, (int64_t)time(NULL), rule, why, wl);
    vtb_snapshot_unref(s);
    return r;
}

/* Release path's plaintext (policy first, then existence: no oracle for unauthorised
 * agents). On failure *code and why are set. */
static vt_res release(struct agent *a, const char *rid, const char *op, const char *path,
                      bool want_key, struct vt_buf *out, char *why, size_t wl)
{
    char rule[64] = "";
    vt_res r = authorise(a, path, rule, why, wl);
    if (!r.err) {
        char kind[16];
        int64_t ver;
        r = vtb_kms_get(a->b->kms, path, 0, kind, &ver, out);
        if (r.err == VT_ERR_BROKER_UNKNOWN_RESOURCE)
            snprintf(why, wl, "unknown resource: %s", path);
        else if (!r.err && want_key && (strcmp(kind, VTB_KIND_KEY) != 0 || out->len != 32)) {
            vt_buf_free(out);
            r = VT_FAIL(VT_ERR_BROKER_NOT_A_KEY);
            snprintf(why, wl, "resource is not a key: %s", path);
        } else if (r.err) {
            snprintf(why, wl, "key store error (%s)", vt_errname(r.err));
        }
    }
    char note[128];
    snprintf(note, sizeof(note), "rule %s", rule);
    record(a, rid, op, path, !r.err, r.err ? why : note);
    return r;
}

/* ---- framed protocol ------------------------------------------------------------------- */

static char *handle_framed(struct agent *a, const struct vtp_request *q, const char *rid)
{
    char why[320];
    struct vt_buf out = VT_BUF_INIT;
    char *reply = NULL;
    vt_res r;
    switch (q->op) {
    case VTP_OP_VERSION:
        return vtp_reply_ok(q->id, rid, json_pack("{s:s,s:i}", "version",
                                                  "veritee-broker " VT_VERSION_STRING,
                                                  "protocol", 1));
    case VTP_OP_GET_RESOURCE:
        r = release(a, rid, "get-resource", q->path, false, &out, why, sizeof(why));
        break;
    case VTP_OP_UNWRAP: {
        char rule[64] = "";
        r = authorise(a, q->path, rule, why, sizeof(why));
        if (!r.err) {
            r = vtb_kms_unwrap(a->b->kms, &q->wrapped, &out);
            if (r.err == VT_ERR_BROKER_UNKNOWN_RESOURCE)
                snprintf(why, sizeof(why), "unknown resource: %s (key version %" PRId64 ")",
                         q->path, q->wrapped.key_version);
            else if (r.err)
                snprintf(why, sizeof(why), "unwrap failed: %s", vt_strerror(r.err));
        }
        char note[96];
        snprintf(note, sizeof(note), "rule %s", rule);
        record(a, rid, "unwrap", q->path, !r.err, r.err ? why : note);
        break;
    }
    default:
        r = VT_FAIL(VT_ERR_BROKER_UNKNOWN_OP);
        snprintf(why, sizeof(why), "malformed request: unknown op");
        break;
    }
    if (r.err) {
        reply = vtp_reply_err(q->id, rid, r.err, why);
    } else {
        json_t *d = vtp_json_b64(out.p, out.len);
        reply = vtp_reply_ok(q->id, rid, json_pack("{s:o}", "data", d));
    }
    vt_buf_free(&out);
    return reply;
}

/* ---- legacy EAA (Verdictd) ------------------------------------------------------------ */

static char *eaa_fail(const char *why)
{
    json_t *o = json_pack("{s:s,s:{},s:s}", "status", "Fail", "data", "error", why);
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return s;
}

/* Base64 of s (legacy replies for resources), consuming s. */
static char *b64_of(char *s)
{
    if (!s)
        return NULL;
    struct vt_buf b = VT_BUF_INIT;
    char *out = NULL;
    if (!vt_b64_encode((const uint8_t *)s, strlen(s), false, &b).err && !vt_buf_cstr(&b).err)
        out = (char *)vt_buf_steal(&b, NULL);
    vt_buf_free(&b);
    reply_free(s);
    return out;
}

static char *handle_eaa(struct agent *a, const struct vtp_request *q, const char *rid)
{
    char why[320];
    struct vt_buf out = VT_BUF_INIT;
    switch (q->op) {
    case VTP_OP_EAA_VERSION:
        return strdup("{\"status\":\"OK\",\"version\":\"v1\"}");
    case VTP_OP_EAA_GET_KEK: {
        json_t *data = json_object();
        for (size_t i = 0; i < q->n_kids; i++) {
            if (release(a, rid, "eaa-get-kek", q->kids[i], true, &out, why, sizeof(why)).err) {
                json_decref(data);
                return eaa_fail(why);
            }
            json_object_set_new(data, q->kids[i], vtp_json_b64(out.p, out.len));
            vt_buf_free(&out);
        }
        json_t *o = json_pack("{s:s,s:o}", "status", "OK", "data", data);
        char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
        json_decref(o); /* the key material in the tree is not wiped by jansson */
        return s;
    }
    case VTP_OP_EAA_DECRYPT: {
        json_t *data = json_object();
        for (size_t i = 0; i < q->n_blobs; i++) {
            const struct vtp_eaa_blob *bl = &q->blobs[i];
            struct vt_buf pt = VT_BUF_INIT;
            vt_res r = release(a, rid, "eaa-decrypt", bl->kid, true, &out, why, sizeof(why));
            if (!r.err) {
                r = vtb_gcm_open(out.p, bl->iv, NULL, 0, bl->ct.p, bl->ct.len, &pt);
                if (r.err)
                    snprintf(why, sizeof(why), "decryption failed for kid %s: %s", bl->kid,
                             vt_strerror(r.err));
            }
            vt_buf_free(&out);
            if (r.err) {
                vt_buf_free(&pt);
                json_decref(data);
                return eaa_fail(why);
            }
            json_object_set_new(data, bl->encrypted_b64, vtp_json_b64(pt.p, pt.len));
            vt_buf_free(&pt);
        }
        json_t *o = json_pack("{s:s,s:o}", "status", "OK", "data", data);
        char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
        json_decref(o);
        return s;
    }
    case VTP_OP_EAA_GET_RESOURCE: {
        if (release(a, rid, "eaa-get-resource", q->path, false, &out, why, sizeof(why)).err)
            return b64_of(eaa_fail(why));
        struct vt_buf b = VT_BUF_INIT;
        char *s = NULL;
        if (!vt_b64_encode(out.p, out.len, false, &b).err && !vt_buf_cstr(&b).err)
            s = (char *)vt_buf_steal(&b, NULL);
        vt_buf_free(&b);
        vt_buf_free(&out);
        return s;
    }
    case VTP_OP_EAA_RESOURCE_INFO: {
        if (release(a, rid, "eaa-resource-info", q->path, false, &out, why, sizeof(why)).err)
            return eaa_fail(why);
        char n[32];
        snprintf(n, sizeof(n), "%zu", (out.len + 2) / 3 * 4);
        vt_buf_free(&out);
        json_t *o = json_pack("{s:s,s:{s:s}}", "status", "OK", "data", "base64size", n);
        char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
        json_decref(o);
        return s;
    }
    default:
        return eaa_fail("unknown command");
    }
}

/* ---- the connection loop ---------------------------------------------------------------- */

static void serve_requests(struct agent *a)
{
    struct vtb_broker *b = a->b;
    uint8_t first;
    char rid[32], why[320];
    for (;;) {
        if (b->stopping)
            return;
        if (read_full(a->c, &first, 1).err)
            return; /* closed or timed out */
        vtb_new_rid(b, rid);
        struct vtp_request q;
        char *reply = NULL;
        if (first == '{') {
            /* legacy EAA: one JSON object per TLS record, at most 4096 bytes */
            uint8_t buf[VTP_EAA_MAX_REQUEST + 1];
            size_t len = 1;
            buf[0] = first;
            vt_res r = vt_ok();
            for (;;) {
                size_t got = 0;
                json_error_t je;
                json_t *probe = json_loadb((const char *)buf, len, 0, &je);
                if (probe) {
                    json_decref(probe);
                    break;
                }
                if (len > VTP_EAA_MAX_REQUEST) {
                    r = VT_FAIL(VT_ERR_BROKER_REQUEST_TOO_LARGE);
                    break;
                }
                int err = vt_conn_read(a->c, buf + len, sizeof(buf) - len, &got);
                if (err || got == 0)
                    return;
                len += got;
            }
            if (r.err) {
                snprintf(why, sizeof(why), "request too large (limit %d bytes)",
                         VTP_EAA_MAX_REQUEST);
                vtb_log(b, "rid=%s peer=%s legacy request refused: %s", rid, a->peer, why);
                char *s = eaa_fail(why);
                if (write_raw(a->c, s).err) { /* the peer is gone; nothing more to say */ }
                free(s);
                return;
            }
            if (vtp_request_parse(buf, len, true, &q, why, sizeof(why)).err) {
                vtb_log(b, "rid=%s peer=%s legacy request refused: %s", rid, a->peer, why);
                reply = eaa_fail(why);
            } else {
                reply = handle_eaa(a, &q, rid);
            }
            vtp_request_free(&q);
            vt_res w = write_raw(a->c, reply ? reply : "{\"status\":\"Fail\",\"data\":{},"
                                                       "\"error\":\"internal error\"}");
            reply_free(reply);
            if (w.err)
                return;
            continue;
        }
        uint8_t hdr[VTP_FRAME_HDR];
        hdr[0] = first;
        if (read_full(a->c, hdr + 1, 3).err)
            return;
        uint32_t n = vtp_frame_len(hdr);
        if (n > VTP_MAX_REQUEST || n == 0) {
            if (n)
                snprintf(why, sizeof(why), "request too large: %" PRIu32 " bytes (limit %zu)",
                         n, VTP_MAX_REQUEST);
            else
                snprintf(why, sizeof(why), "malformed request: empty frame");
            vtb_log(b, "rid=%s peer=%s request refused: %s", rid, a->peer, why);
            char *s = vtp_reply_err(NULL, rid, n ? VT_ERR_BROKER_REQUEST_TOO_LARGE
                                                 : VT_ERR_BROKER_MALFORMED_REQUEST, why);
            if (write_frame(a->c, s).err) { /* the peer is gone; nothing more to say */ }
            free(s);
            if (n)
                return; /* cannot resynchronise on an oversized frame */
            continue;
        }
        uint8_t *body = malloc(n);
        if (!body || read_full(a->c, body, n).err) {
            free(body);
            return;
        }
        vt_res pr = vtp_request_parse(body, n, false, &q, why, sizeof(why));
        free(body);
        if (pr.err) {
            vtb_log(b, "rid=%s peer=%s request refused: %s", rid, a->peer, why);
            reply = vtp_reply_err(q.id, rid, pr.err, why);
        } else {
            reply = handle_framed(a, &q, rid);
        }
        vtp_request_free(&q);
        vt_res w = write_frame(a->c, reply);
        reply_free(reply);
        if (w.err)
            return;
    }
}

void vtb_serve_agent(struct vtb_broker *b, int fd, const char *peer)
{
    struct timeval tv = { .tv_sec = b->cfg.timeout, .tv_usec = 0 };
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    (void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    struct agent a = { .b = b, .peer = peer };
    int err = vt_conn_new(b->ctx, fd, &a.c);
    if (err) {
        vtb_log(b, "peer=%s connection failed: %s", peer, vt_strerror(err));
        close(fd);
        return;
    }
    err = vt_conn_handshake(a.c);
    if (err) {
        vtb_log(b, "peer=%s attested TLS handshake refused: %s (%s)", peer,
                vt_conn_error_detail(a.c), vt_errname(err));
        goto out;
    }
    a.rep = vt_conn_peer_report(a.c);
    if (a.rep) {
        a.tee = vt_report_tee(a.rep);
        a.insecure = vt_report_insecure(a.rep);
        claims_from_report(&a);
    }
    vtb_log(b, "peer=%s attested: tee=%s tcb_status=%s%s", peer, a.tee ? a.tee : "-",
            a.rep && vt_report_tcb_status(a.rep) ? vt_report_tcb_status(a.rep) : "-",
            a.insecure ? (b->cfg.allow_sim ? " INSECURE (sim evidence, allow-sim)"
                                           : " (sim evidence: requests will be refused)")
                       : "");
    serve_requests(&a);
    (void)vt_conn_shutdown(a.c);
out:
    claims_free(&a);
    vt_conn_free(a.c);
    close(fd);
}
