/* SPDX-License-Identifier: Apache-2.0 */
/*
 * admin.c - the broker's local administration socket (Unix stream socket, mode 0600).
 *
 * Trust boundary: only the peer's kernel-reported credentials authenticate it
 * (SO_PEERCRED): uid 0 or the broker's own uid; anyone else gets an error reply and is
 * disconnected. There is no network admin endpoint. Requests use the same framing as agents
 * (proto.h) with larger limits; operations:
 *   resource.put {path, data(b64)}   resource.list   resource.delete {path}
 *   key.create {path}   key.rotate {path}   key.wrap {path, data(b64)} -> {annotation(b64)}
 *   refval.add {name, value, expires?, source?} -> {id}   refval.list   refval.delete {id}
 *   policy.set {policy(text)}   policy.get   audit.list {limit?, after?}
 *   audit.prune {before} -> {deleted}
 * Every change is logged (never the secret) and changes to policy or reference values swap
 * in a new snapshot.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "brokerd/daemon.h"
#include "util/codec.h"
#include "util/secmem.h"

/* ---- operations ------------------------------------------------------------------------ */

struct list_ctx {
    json_t *arr;
};

static void secret_cb(const struct vtb_secret_info *s, void *arg)
{
    struct list_ctx *l = arg;
    char t[32];
    vti_time_format(s->updated, t);
    json_array_append_new(l->arr, json_pack("{s:s,s:s,s:I,s:I,s:s}", "path", s->path, "kind",
                                            s->kind, "version", (json_int_t)s->version,
                                            "versions", (json_int_t)s->versions, "updated", t));
}

static void refval_cb(const struct vtb_refval *r, void *arg)
{
    struct list_ctx *l = arg;
    char t[32] = "never", a[32];
    if (r->expires)
        vti_time_format(r->expires, t);
    vti_time_format(r->added, a);
    json_array_append_new(l->arr, json_pack("{s:I,s:s,s:s,s:s,s:s,s:s}", "id", (json_int_t)r->id,
                                            "name", r->name, "value", r->value, "source",
                                            r->source, "expires", t, "added", a));
}

static void audit_cb(int64_t seq, const struct vtb_audit *a, void *arg)
{
    struct list_ctx *l = arg;
    char t[32];
    vti_time_format(a->time, t);
    json_array_append_new(l->arr, json_pack("{s:I,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:b}", "seq",
                                            (json_int_t)seq, "time", t, "rid", a->rid, "peer",
                                            a->peer, "tee", a->tee, "op", a->op, "path", a->path,
                                            "decision", a->decision, "reason", a->reason,
                                            "insecure", a->insecure));
}

/* Admin connections run in their own threads: admin operations are serialised (a resource put
 * reads the latest version before writing the next one). */
static pthread_mutex_t admin_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *sfield(const json_t *q, const char *name)
{
    const json_t *v = json_object_get(q, name);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* One admin request being answered: an operation sets res (the reply's data) or returns an
 * error with, optionally, a reason in why (else the error's message is used). */
struct admin_rq {
    struct vtb_broker *b;
    struct vtb_state *st;
    const json_t *q;
    const char *rid;
    char path[VTP_MAX_PATH + 1]; /* normalised, for the ops that take a path */
    int64_t now;
    long uid; /* the peer's (SO_PEERCRED) */
    json_t *res;
    char why[320];
};

static const struct vtb_store_ops *ops_of(struct admin_rq *a)
{
    return vtb_kms_ops(a->st->kms);
}

static struct vtb_store *store_of(struct admin_rq *a)
{
    return vtb_kms_store(a->st->kms);
}

/* 'data' (base64, at most VTP_MAX_SECRET bytes) into out. */
static vt_res data_field(struct admin_rq *a, struct vt_buf *out)
{
    vt_res r = vtp_json_bytes(json_object_get(a->q, "data"), VTP_MAX_SECRET, out);
    if (!r.err)
        return r;
    snprintf(a->why, sizeof(a->why), "'data' must be base64 of at most %zu bytes",
             VTP_MAX_SECRET);
    return VT_FAIL(r.err == VT_ERR_TOO_LARGE ? VT_ERR_BROKER_SECRET_TOO_LARGE
                                             : VT_ERR_BROKER_BAD_FIELD);
}

static vt_res op_resource_put(struct admin_rq *a)
{
    struct vt_buf data = VT_BUF_INIT;
    vt_res r = data_field(a, &data);
    if (!r.err)
        r = vtb_kms_put_resource(a->st->kms, a->path, data.p, data.len, a->now);
    if (!r.err)
        vtb_state_log(a->st, "rid=%s admin: resource %s stored (%zu bytes)", a->rid, a->path,
                      data.len);
    vti_buf_free(&data);
    return r;
}

static vt_res op_key_wrap(struct admin_rq *a)
{
    struct vt_buf data = VT_BUF_INIT, ann = VT_BUF_INIT;
    vt_res r = data_field(a, &data);
    if (r.err)
        return r;
    struct vtp_wrapped w;
    r = vtb_kms_wrap(a->st->kms, a->path, data.p, data.len, &w);
    if (!r.err)
        r = vtp_wrapped_json(&w, &ann);
    if (!r.err) {
        a->res = json_pack("{s:o}", "annotation", vtp_json_b64(ann.p, ann.len));
        vtb_state_log(a->st, "rid=%s admin: wrapped %zu bytes under key %s version %" PRId64,
                      a->rid, data.len, a->path, w.key_version);
    }
    vti_buf_free_nowipe(&ann);
    vtp_wrapped_free(&w);
    vti_buf_free(&data);
    return r;
}

static vt_res op_resource_list(struct admin_rq *a)
{
    struct list_ctx l = { json_array() };
    vt_res r = ops_of(a)->secret_list(store_of(a), secret_cb, &l);
    a->res = json_pack("{s:o}", "resources", l.arr);
    return r;
}

static vt_res op_delete(struct admin_rq *a)
{
    vt_res r = vtb_kms_delete(a->st->kms, a->path);
    if (!r.err)
        vtb_state_log(a->st, "rid=%s admin: %s deleted", a->rid, a->path);
    return r;
}

static vt_res op_key_create(struct admin_rq *a)
{
    int64_t v = 1; /* more after a deleted key of that path: versions are never reused */
    vt_res r = vtb_kms_key_create_v(a->st->kms, a->path, a->now, &v);
    if (!r.err) {
        vtb_state_log(a->st, "rid=%s admin: key %s created", a->rid, a->path);
        a->res = json_pack("{s:I}", "version", (json_int_t)v);
    }
    return r;
}

static vt_res op_key_rotate(struct admin_rq *a)
{
    int64_t v = 0;
    vt_res r = vtb_kms_key_rotate(a->st->kms, a->path, a->now, &v);
    if (!r.err) {
        vtb_state_log(a->st, "rid=%s admin: key %s rotated to version %" PRId64, a->rid,
                      a->path, v);
        a->res = json_pack("{s:I}", "version", (json_int_t)v);
    }
    return r;
}

/* refval.add's fields: normalised value into norm, expiry into *expires. */
static vt_res refval_fields(struct admin_rq *a, char *norm, size_t nl, int64_t *expires)
{
    const char *exp = sfield(a->q, "expires"), *src = sfield(a->q, "source");
    vt_res r = vtb_refval_normalize(sfield(a->q, "name"), sfield(a->q, "value"), norm, nl);
    if (r.err) {
        snprintf(a->why, sizeof(a->why), "invalid reference value: claim name "
                 "[A-Za-z0-9_.-]{1,64}, value 1..1024 printable characters");
        return r;
    }
    if (exp && vti_time_parse(exp, expires).err) {
        snprintf(a->why, sizeof(a->why), "invalid 'expires' (want RFC 3339 or Unix seconds)");
        return VT_FAIL(VT_ERR_BROKER_BAD_REFVAL);
    }
    if (src && strlen(src) > 1024) {
        snprintf(a->why, sizeof(a->why), "'source' longer than 1024 characters");
        return VT_FAIL(VT_ERR_BROKER_BAD_REFVAL);
    }
    return vti_ok();
}

static vt_res op_refval_add(struct admin_rq *a)
{
    const char *name = sfield(a->q, "name"), *src = sfield(a->q, "source");
    char norm[1100];
    int64_t expires = 0, id = 0;
    GUARD(refval_fields(a, norm, sizeof(norm), &expires));
    struct vtb_refval rv = { .name = name, .value = norm, .source = src ? src : "",
                             .expires = expires, .added = a->now };
    GUARD(vtb_kms_refval_add(a->st->kms, &rv, &id));
    vtb_state_log(a->st, "rid=%s admin: reference value %" PRId64 " added for %s", a->rid, id,
                  name);
    a->res = json_pack("{s:I}", "refval_id", (json_int_t)id);
    return vtb_state_reload(a->st);
}

static vt_res op_refval_list(struct admin_rq *a)
{
    struct list_ctx l = { json_array() };
    vt_res r = ops_of(a)->refval_list(store_of(a), refval_cb, &l);
    a->res = json_pack("{s:o}", "refvals", l.arr);
    return r;
}

static vt_res op_refval_delete(struct admin_rq *a)
{
    const json_t *v = json_object_get(a->q, "refval_id");
    if (!json_is_integer(v)) {
        snprintf(a->why, sizeof(a->why), "'refval_id' must be an integer");
        return VT_FAIL(VT_ERR_BROKER_BAD_FIELD);
    }
    vt_res r = ops_of(a)->refval_delete(store_of(a), json_integer_value(v));
    if (r.err == VT_ERR_NOT_FOUND)
        snprintf(a->why, sizeof(a->why), "no reference value with that id");
    return r.err ? r : vtb_state_reload(a->st);
}

static vt_res op_policy_set(struct admin_rq *a)
{
    const char *doc = sfield(a->q, "policy");
    if (!doc) {
        snprintf(a->why, sizeof(a->why), "'policy' (the document as a string) is required");
        return VT_FAIL(VT_ERR_BROKER_BAD_FIELD);
    }
    GUARD(vtb_policy_check(doc, a->why, sizeof(a->why)));
    GUARD(vtb_kms_policy_set(a->st->kms, doc, a->now));
    vtb_state_log(a->st, "rid=%s admin: policy replaced (%zu bytes)", a->rid, strlen(doc));
    return vtb_state_reload(a->st);
}

static vt_res op_policy_get(struct admin_rq *a)
{
    struct vt_buf pol = VT_BUF_INIT;
    vt_res r = ops_of(a)->policy_get(store_of(a), &pol);
    if (r.err == VT_ERR_NOT_FOUND)
        snprintf(a->why, sizeof(a->why), "no policy set (every request is denied)");
    if (!r.err)
        a->res = json_pack("{s:s}", "policy", (const char *)pol.p);
    vti_buf_free_nowipe(&pol);
    return r;
}

/* An audit listing being built: entries are kept while the reply still fits in one frame
 * (VTP_MAX_REPLY, less room for the envelope); the rest is dropped and said so. */
#define AUDIT_REPLY_BUDGET (VTP_MAX_REPLY - 64 * 1024)

struct audit_page {
    json_t *arr;
    size_t bytes, budget;
    int64_t last_seq, seen;
    bool truncated;
};

static void audit_page_cb(int64_t seq, const struct vtb_audit *au, void *arg)
{
    struct audit_page *pg = arg;
    pg->seen++;
    if (pg->truncated)
        return;
    struct list_ctx one = { json_array() };
    audit_cb(seq, au, &one);
    json_t *e = json_array_get(one.arr, 0);
    size_t n = e ? json_dumpb(e, NULL, 0, JSON_COMPACT) + 1 : 0;
    if (!e || pg->bytes + n > pg->budget) {
        pg->truncated = true;
    } else {
        pg->bytes += n;
        pg->last_seq = seq;
        json_array_append(pg->arr, e);
    }
    json_decref(one.arr);
}

/* audit.list {limit?, after?}: the last `limit` rows (or those after seq `after`), oldest
 * first, clamped to one frame: {audit, last_seq, more, truncated, next_after?}. */
static vt_res op_audit_list(struct admin_rq *a)
{
    const json_t *lim = json_object_get(a->q, "limit"), *aft = json_object_get(a->q, "after");
    int64_t n = json_is_integer(lim) ? json_integer_value(lim) : 100;
    if (n < 1 || n > 100000)
        n = 100;
    if (aft && (!json_is_integer(aft) || json_integer_value(aft) < 0)) {
        snprintf(a->why, sizeof(a->why), "'after' must be a non-negative audit seq");
        return VT_FAIL(VT_ERR_BROKER_BAD_FIELD);
    }
    struct audit_page pg = { .arr = json_array(), .budget = AUDIT_REPLY_BUDGET };
    vt_res r;
    if (aft && !ops_of(a)->audit_after)
        r = VT_FAIL(VT_ERR_UNSUPPORTED);
    else if (aft) /* one more than asked: are there more? */
        r = ops_of(a)->audit_after(store_of(a), json_integer_value(aft), n + 1, audit_page_cb,
                                   &pg);
    else
        r = ops_of(a)->audit_list(store_of(a), n, audit_page_cb, &pg);
    bool more = pg.truncated || (aft && pg.seen > n);
    if (aft && !pg.truncated && pg.seen > n) { /* drop the probe row */
        json_array_remove(pg.arr, json_array_size(pg.arr) - 1);
        pg.last_seq = json_integer_value(
            json_object_get(json_array_get(pg.arr, json_array_size(pg.arr) - 1), "seq"));
    }
    if (pg.truncated)
        vtb_state_log(a->st, "rid=%s admin: audit.list clamped to %zu entries (one frame)",
                      a->rid, json_array_size(pg.arr));
    a->res = json_pack("{s:o,s:I,s:b,s:b}", "audit", pg.arr, "last_seq",
                       (json_int_t)pg.last_seq, "more", more, "truncated", pg.truncated);
    if (a->res && more)
        json_object_set_new(a->res, "next_after", json_integer(pg.last_seq));
    return r;
}

/* audit.prune {before (RFC 3339 or Unix seconds)} -> {deleted, before}: the rows older than
 * before go (the store's gated delete), and the prune itself is audited (who, how many, the
 * cut-off) in the same transaction. */
static vt_res op_audit_prune(struct admin_rq *a)
{
    const char *bs = sfield(a->q, "before");
    int64_t before = 0, n = 0;
    if (!bs || vti_time_parse(bs, &before).err || before < 1) {
        snprintf(a->why, sizeof(a->why), "'before' must be RFC 3339 or Unix seconds");
        return VT_FAIL(VT_ERR_BROKER_BAD_FIELD);
    }
    if (!ops_of(a)->audit_prune)
        return VT_FAIL(VT_ERR_UNSUPPORTED);
    char t[32], who[32], why[96];
    vti_time_format(before, t);
    snprintf(who, sizeof(who), "uid:%ld", a->uid);
    snprintf(why, sizeof(why), "audit pruned by uid %ld: rows before %s", a->uid, t);
    struct vtb_audit rec = { .time = a->now, .rid = a->rid, .peer = who, .tee = "",
                             .op = "audit-prune", .path = "", .decision = "prune",
                             .reason = why };
    GUARD(ops_of(a)->audit_prune(store_of(a), before, &rec, &n));
    vtb_state_log(a->st, "rid=%s admin: %s deleted=%" PRId64, a->rid, why, n);
    a->res = json_pack("{s:I,s:s}", "deleted", (json_int_t)n, "before", t);
    return vti_ok();
}

/* The admin operations; `path`: takes a resource path (validated before the op runs). */
static const struct admin_op {
    const char *name;
    bool path;
    vt_res (*run)(struct admin_rq *a);
} admin_ops[] = {
    { "resource.put", true, op_resource_put },
    { "resource.list", false, op_resource_list },
    { "resource.delete", true, op_delete },
    { "key.create", true, op_key_create },
    { "key.rotate", true, op_key_rotate },
    { "key.wrap", true, op_key_wrap },
    { "key.delete", true, op_delete },
    { "refval.add", false, op_refval_add },
    { "refval.list", false, op_refval_list },
    { "refval.delete", false, op_refval_delete },
    { "policy.set", false, op_policy_set },
    { "policy.get", false, op_policy_get },
    { "audit.list", false, op_audit_list },
    { "audit.prune", false, op_audit_prune },
};

/* Ops named resource.* / key.* that are not in the table still get their path checked
 * first (as they always have): a bad path is refused before "unknown admin op". */
static bool wants_path(const char *op, const struct admin_op *d)
{
    if (d)
        return d->path;
    return strncmp(op, "resource.", 9) == 0 || strncmp(op, "key.", 4) == 0;
}

/* Run one admin request; returns the reply (caller frees) */
static char *admin_op(struct vtb_broker *b, const json_t *q, const char *rid, long uid)
{
    const json_t *id = json_object_get(q, "id");
    const char *op = sfield(q, "op");
    if (!op)
        return vtp_reply_err(id, rid, VT_ERR_BROKER_BAD_FIELD, "malformed request: 'op' missing");
    const struct admin_op *d = NULL;
    for (size_t i = 0; i < VT_ARRAY_LEN(admin_ops) && !d; i++)
        if (strcmp(admin_ops[i].name, op) == 0)
            d = &admin_ops[i];
    struct admin_rq a = { .b = b, .st = &b->st, .q = q, .rid = rid,
                          .now = (int64_t)time(NULL), .uid = uid };
    if (wants_path(op, d)) {
        const char *p = sfield(q, "path");
        if (!p || strlen(p) > VTP_MAX_PATH + 8 || vtp_path_normalize(p, a.path).err)
            return vtp_reply_err(id, rid, VT_ERR_BROKER_BAD_PATH,
                                 "invalid resource path: want <repo>/<type>/<tag> with segments "
                                 "of [A-Za-z0-9._-], no '.' or '..'");
    }
    if (!d)
        return vtp_reply_err(id, rid, VT_ERR_BROKER_UNKNOWN_OP, "unknown admin op");
    vt_res r = d->run(&a);
    if (!r.err)
        return vtp_reply_ok(id, rid, a.res);
    json_decref(a.res);
    if (!a.why[0]) {
        if (r.err == VT_ERR_BROKER_UNKNOWN_RESOURCE)
            snprintf(a.why, sizeof(a.why), "unknown resource: %s", a.path);
        else
            snprintf(a.why, sizeof(a.why), "%s", vt_strerror(r.err));
    }
    vtb_state_log(&b->st, "rid=%s admin: %s failed: %s", rid, op, a.why);
    return vtp_reply_err(id, rid, r.err, a.why);
}

/* A reply that does not fit in a frame: logged, and an error frame instead. */
static vt_res admin_reply_too_large(struct vtb_broker *b, int fd, const char *rid, size_t n)
{
    vtb_state_log(&b->st, "rid=%s admin: reply of %zu bytes exceeds the %zu-byte frame limit",
                  rid, n, VTP_MAX_REPLY);
    char *s = vtp_reply_err(NULL, rid, VT_ERR_BROKER_REPLY_TOO_LARGE,
                            "reply exceeds the frame limit (page with --after / --limit)");
    vt_res r = vtp_sock_write_frame(fd, s);
    free(s);
    return r;
}

void vtb_serve_admin(struct vtb_broker *b, int fd)
{
    char rid[32];
    vtb_state_rid(&b->st, "", rid);
    struct ucred cred;
    socklen_t cl = sizeof(cred);
    struct timeval tv = { .tv_sec = 10, .tv_usec = 0 };
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    (void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) != 0 ||
        (cred.uid != 0 && cred.uid != geteuid())) {
        vtb_state_log(&b->st, "rid=%s admin connection refused: uid %ld is neither root nor the broker's",
                rid, getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) == 0 ? (long)cred.uid
                                                                               : -1L);
        char *s = vtp_reply_err(NULL, rid, VT_ERR_BROKER_ADMIN_DENIED,
                                "admin denied: peer is neither root nor the broker's user");
        if (vtp_sock_write_frame(fd, s).err) { /* the peer is gone; nothing more to say */ }
        free(s);
        close(fd);
        return;
    }
    for (;;) {
        struct vt_buf req = VT_BUF_INIT;
        vt_res r = vtp_sock_read_frame(fd, VTP_MAX_ADMIN_REQUEST, &req);
        if (r.err) {
            vti_buf_free(&req);
            if (r.err == VT_ERR_BROKER_REQUEST_TOO_LARGE) {
                char *s = vtp_reply_err(NULL, rid, r.err, "admin request too large or empty");
                if (vtp_sock_write_frame(fd, s).err) { /* the peer is gone; nothing more to say */ }
                free(s);
            }
            break;
        }
        char why[200];
        json_t *q = vtp_json_parse(req.p, req.len, why, sizeof(why));
        vti_buf_free(&req); /* may hold a secret */
        char *reply = NULL;
        if (!json_is_object(q))
            reply = vtp_reply_err(NULL, rid, VT_ERR_BROKER_MALFORMED_REQUEST,
                                  q ? "malformed request: not a JSON object" : why);
        else {
            pthread_mutex_lock(&admin_lock);
            reply = admin_op(b, q, rid, (long)cred.uid);
            pthread_mutex_unlock(&admin_lock);
        }
        json_decref(q);
        r = vtp_sock_write_frame(fd, reply);
        if (r.err == VT_ERR_BROKER_REPLY_TOO_LARGE) /* never a silent disconnect */
            r = admin_reply_too_large(b, fd, rid, strlen(reply));
        if (reply) {
            vti_memzero(reply, strlen(reply));
            free(reply);
        }
        if (r.err)
            break;
        vtb_state_rid(&b->st, "", rid);
    }
    close(fd);
}
