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
 *   policy.set {policy(text)}   policy.get   audit.list {limit?}
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

#include "broker/broker.h"
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
    vt_time_format(s->updated, t);
    json_array_append_new(l->arr, json_pack("{s:s,s:s,s:I,s:I,s:s}", "path", s->path, "kind",
                                            s->kind, "version", (json_int_t)s->version,
                                            "versions", (json_int_t)s->versions, "updated", t));
}

static void refval_cb(const struct vtb_refval *r, void *arg)
{
    struct list_ctx *l = arg;
    char t[32] = "never", a[32];
    if (r->expires)
        vt_time_format(r->expires, t);
    vt_time_format(r->added, a);
    json_array_append_new(l->arr, json_pack("{s:I,s:s,s:s,s:s,s:s,s:s}", "id", (json_int_t)r->id,
                                            "name", r->name, "value", r->value, "source",
                                            r->source, "expires", t, "added", a));
}

static void audit_cb(int64_t seq, const struct vtb_audit *a, void *arg)
{
    struct list_ctx *l = arg;
    char t[32];
    vt_time_format(a->time, t);
    json_array_append_new(l->arr, json_pack("{s:I,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:b}", "seq",
                                            (json_int_t)seq, "time", t, "rid", a->rid, "peer",
                                            a->peer, "tee", a->tee, "op", a->op, "path", a->path,
                                            "decision", a->decision, "reason", a->reason,
                                            "insecure", a->insecure));
}

/* The refval table as an array for snapshots. */
struct rv_collect {
    struct vtb_refval *v;
    size_t n, cap;
    bool fail;
};

static void rv_collect_cb(const struct vtb_refval *r, void *arg)
{
    struct rv_collect *c = arg;
    if (c->fail)
        return;
    if (c->n == c->cap) {
        size_t nc = c->cap ? c->cap * 2 : 16;
        struct vtb_refval *nv = nc <= VTB_MAX_REFVALS ? realloc(c->v, nc * sizeof(*nv)) : NULL;
        if (!nv) {
            c->fail = true;
            return;
        }
        c->v = nv;
        c->cap = nc;
    }
    struct vtb_refval *d = &c->v[c->n];
    *d = *r;
    d->name = strdup(r->name);
    d->value = strdup(r->value);
    d->source = strdup(r->source ? r->source : "");
    c->n++;
    if (!d->name || !d->value || !d->source)
        c->fail = true;
}

/* Admin connections run in their own threads: admin operations are serialised (a resource put
 * reads the latest version before writing the next one), and so are reloads, so that a slower
 * reload can never swap in a snapshot older than the one a later reload installed. */
static pthread_mutex_t admin_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t reload_lock = PTHREAD_MUTEX_INITIALIZER;

static vt_res reload_locked(struct vtb_broker *b);

vt_res vtb_broker_reload(struct vtb_broker *b)
{
    pthread_mutex_lock(&reload_lock);
    vt_res r = reload_locked(b);
    pthread_mutex_unlock(&reload_lock);
    return r;
}

static vt_res reload_locked(struct vtb_broker *b)
{
    const struct vtb_store_ops *ops = vtb_kms_ops(b->kms);
    struct vtb_store *st = vtb_kms_store(b->kms);
    struct vt_buf pol = VT_BUF_INIT;
    struct rv_collect c = { 0 };
    struct vtb_snapshot *s = NULL;
    int64_t gen = 0;
    /* the generation first: a change committed while we read is then seen again by the next
     * generation check (never a new generation recorded with old contents) */
    vt_res r = ops->policy_generation ? ops->policy_generation(st, &gen) : vt_ok();
    if (!r.err)
        r = ops->policy_get(st, &pol);
    bool have_policy = !r.err;
    if (r.err == VT_ERR_NOT_FOUND)
        r = vt_ok();
    if (!r.err)
        r = ops->refval_list(st, rv_collect_cb, &c);
    if (!r.err && c.fail)
        r = VT_FAIL(VT_ERR_NOMEM);
    if (!r.err)
        r = vtb_snapshot_new(have_policy ? (const char *)pol.p : NULL, c.v, c.n, &s);
    for (size_t i = 0; i < c.n; i++) {
        free((char *)c.v[i].name);
        free((char *)c.v[i].value);
        free((char *)c.v[i].source);
    }
    free(c.v);
    vt_buf_free_nowipe(&pol);
    if (r.err)
        return r;
    pthread_mutex_lock(&b->lock);
    struct vtb_snapshot *old = b->snap;
    b->snap = s;
    b->snap_gen = gen;
    pthread_mutex_unlock(&b->lock);
    vtb_snapshot_unref(old);
    return vt_ok();
}

static const char *sfield(const json_t *q, const char *name)
{
    const json_t *v = json_object_get(q, name);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* Run one admin request; returns the reply (caller frees) */
static char *admin_op(struct vtb_broker *b, const json_t *q, const char *rid)
{
    const json_t *id = json_object_get(q, "id");
    const char *op = sfield(q, "op");
    const struct vtb_store_ops *ops = vtb_kms_ops(b->kms);
    struct vtb_store *st = vtb_kms_store(b->kms);
    int64_t now = (int64_t)time(NULL);
    char why[320] = "";
    vt_res r = vt_ok();
    json_t *res = NULL;
    char path[VTP_MAX_PATH + 1] = "";
    if (!op)
        return vtp_reply_err(id, rid, VT_ERR_BROKER_BAD_FIELD, "malformed request: 'op' missing");
    const char *p = sfield(q, "path");
    bool needs_path = strncmp(op, "resource.", 9) == 0 || strncmp(op, "key.", 4) == 0;
    if (needs_path && strcmp(op, "resource.list") != 0) {
        if (!p || strlen(p) > VTP_MAX_PATH + 8 || vtp_path_normalize(p, path).err)
            return vtp_reply_err(id, rid, VT_ERR_BROKER_BAD_PATH,
                                 "invalid resource path: want <repo>/<type>/<tag> with segments "
                                 "of [A-Za-z0-9._-], no '.' or '..'");
    }
    if (strcmp(op, "resource.put") == 0 || strcmp(op, "key.wrap") == 0) {
        struct vt_buf data = VT_BUF_INIT;
        r = vtp_json_bytes(json_object_get(q, "data"), VTP_MAX_SECRET, &data);
        if (r.err) {
            snprintf(why, sizeof(why), "'data' must be base64 of at most %zu bytes",
                     VTP_MAX_SECRET);
            r = VT_FAIL(r.err == VT_ERR_TOO_LARGE ? VT_ERR_BROKER_SECRET_TOO_LARGE
                                                  : VT_ERR_BROKER_BAD_FIELD);
        } else if (strcmp(op, "resource.put") == 0) {
            r = vtb_kms_put_resource(b->kms, path, data.p, data.len, now);
            if (!r.err)
                vtb_log(b, "rid=%s admin: resource %s stored (%zu bytes)", rid, path, data.len);
        } else {
            struct vtp_wrapped w;
            r = vtb_kms_wrap(b->kms, path, data.p, data.len, &w);
            struct vt_buf ann = VT_BUF_INIT;
            if (!r.err)
                r = vtp_wrapped_json(&w, &ann);
            if (!r.err) {
                res = json_pack("{s:o}", "annotation", vtp_json_b64(ann.p, ann.len));
                vtb_log(b, "rid=%s admin: wrapped %zu bytes under key %s version %" PRId64, rid,
                        data.len, path, w.key_version);
            }
            vt_buf_free_nowipe(&ann);
            vtp_wrapped_free(&w);
        }
        vt_buf_free(&data);
    } else if (strcmp(op, "resource.list") == 0) {
        struct list_ctx l = { json_array() };
        r = ops->secret_list(st, secret_cb, &l);
        res = json_pack("{s:o}", "resources", l.arr);
    } else if (strcmp(op, "resource.delete") == 0 || strcmp(op, "key.delete") == 0) {
        r = vtb_kms_delete(b->kms, path);
        if (!r.err)
            vtb_log(b, "rid=%s admin: %s deleted", rid, path);
    } else if (strcmp(op, "key.create") == 0) {
        r = vtb_kms_key_create(b->kms, path, now);
        if (!r.err) {
            vtb_log(b, "rid=%s admin: key %s created", rid, path);
            res = json_pack("{s:i}", "version", 1);
        }
    } else if (strcmp(op, "key.rotate") == 0) {
        int64_t v = 0;
        r = vtb_kms_key_rotate(b->kms, path, now, &v);
        if (!r.err) {
            vtb_log(b, "rid=%s admin: key %s rotated to version %" PRId64, rid, path, v);
            res = json_pack("{s:I}", "version", (json_int_t)v);
        }
    } else if (strcmp(op, "refval.add") == 0) {
        const char *name = sfield(q, "name"), *value = sfield(q, "value");
        const char *exp = sfield(q, "expires"), *src = sfield(q, "source");
        char norm[1100];
        int64_t expires = 0, rid_out = 0;
        r = vtb_refval_normalize(name, value, norm, sizeof(norm));
        if (r.err)
            snprintf(why, sizeof(why), "invalid reference value: claim name [A-Za-z0-9_.-]{1,64},"
                                       " value 1..1024 printable characters");
        if (!r.err && exp) {
            r = vt_time_parse(exp, &expires);
            if (r.err) {
                snprintf(why, sizeof(why), "invalid 'expires' (want RFC 3339 or Unix seconds)");
                r = VT_FAIL(VT_ERR_BROKER_BAD_REFVAL);
            }
        }
        if (!r.err && src && strlen(src) > 1024) {
            snprintf(why, sizeof(why), "'source' longer than 1024 characters");
            r = VT_FAIL(VT_ERR_BROKER_BAD_REFVAL);
        }
        if (!r.err) {
            struct vtb_refval rv = { .name = name, .value = norm, .source = src ? src : "",
                                     .expires = expires, .added = now };
            r = ops->refval_add(st, &rv, &rid_out);
        }
        if (!r.err) {
            vtb_log(b, "rid=%s admin: reference value %" PRId64 " added for %s", rid, rid_out,
                    name);
            res = json_pack("{s:I}", "refval_id", (json_int_t)rid_out);
            r = vtb_broker_reload(b);
        }
    } else if (strcmp(op, "refval.list") == 0) {
        struct list_ctx l = { json_array() };
        r = ops->refval_list(st, refval_cb, &l);
        res = json_pack("{s:o}", "refvals", l.arr);
    } else if (strcmp(op, "refval.delete") == 0) {
        const json_t *v = json_object_get(q, "refval_id");
        if (!json_is_integer(v)) {
            snprintf(why, sizeof(why), "'refval_id' must be an integer");
            r = VT_FAIL(VT_ERR_BROKER_BAD_FIELD);
        } else {
            r = ops->refval_delete(st, json_integer_value(v));
            if (r.err == VT_ERR_NOT_FOUND)
                snprintf(why, sizeof(why), "no reference value with that id");
            if (!r.err)
                r = vtb_broker_reload(b);
        }
    } else if (strcmp(op, "policy.set") == 0) {
        const char *doc = sfield(q, "policy");
        if (!doc) {
            snprintf(why, sizeof(why), "'policy' (the document as a string) is required");
            r = VT_FAIL(VT_ERR_BROKER_BAD_FIELD);
        } else {
            r = vtb_policy_check(doc, why, sizeof(why));
            if (!r.err)
                r = ops->policy_set(st, doc, now);
            if (!r.err) {
                vtb_log(b, "rid=%s admin: policy replaced (%zu bytes)", rid, strlen(doc));
                r = vtb_broker_reload(b);
            }
        }
    } else if (strcmp(op, "policy.get") == 0) {
        struct vt_buf pol = VT_BUF_INIT;
        r = ops->policy_get(st, &pol);
        if (r.err == VT_ERR_NOT_FOUND)
            snprintf(why, sizeof(why), "no policy set (every request is denied)");
        if (!r.err)
            res = json_pack("{s:s}", "policy", (const char *)pol.p);
        vt_buf_free_nowipe(&pol);
    } else if (strcmp(op, "audit.list") == 0) {
        const json_t *lim = json_object_get(q, "limit");
        int64_t n = json_is_integer(lim) ? json_integer_value(lim) : 100;
        if (n < 1 || n > 100000)
            n = 100;
        struct list_ctx l = { json_array() };
        r = ops->audit_list(st, n, audit_cb, &l);
        res = json_pack("{s:o}", "audit", l.arr);
    } else {
        return vtp_reply_err(id, rid, VT_ERR_BROKER_UNKNOWN_OP, "unknown admin op");
    }
    if (r.err) {
        json_decref(res);
        if (!why[0]) {
            if (r.err == VT_ERR_BROKER_UNKNOWN_RESOURCE)
                snprintf(why, sizeof(why), "unknown resource: %s", path);
            else
                snprintf(why, sizeof(why), "%s", vt_strerror(r.err));
        }
        vtb_log(b, "rid=%s admin: %s failed: %s", rid, op, why);
        return vtp_reply_err(id, rid, r.err, why);
    }
    return vtp_reply_ok(id, rid, res);
}

void vtb_serve_admin(struct vtb_broker *b, int fd)
{
    char rid[32];
    vtb_new_rid(b, rid);
    struct ucred cred;
    socklen_t cl = sizeof(cred);
    struct timeval tv = { .tv_sec = 10, .tv_usec = 0 };
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    (void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) != 0 ||
        (cred.uid != 0 && cred.uid != geteuid())) {
        vtb_log(b, "rid=%s admin connection refused: uid %ld is neither root nor the broker's",
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
            vt_buf_free(&req);
            if (r.err == VT_ERR_BROKER_REQUEST_TOO_LARGE) {
                char *s = vtp_reply_err(NULL, rid, r.err, "admin request too large or empty");
                if (vtp_sock_write_frame(fd, s).err) { /* the peer is gone; nothing more to say */ }
                free(s);
            }
            break;
        }
        char why[200];
        json_t *q = vtp_json_parse(req.p, req.len, why, sizeof(why));
        vt_buf_free(&req); /* may hold a secret */
        char *reply = NULL;
        if (!json_is_object(q))
            reply = vtp_reply_err(NULL, rid, VT_ERR_BROKER_MALFORMED_REQUEST,
                                  q ? "malformed request: not a JSON object" : why);
        else {
            pthread_mutex_lock(&admin_lock);
            reply = admin_op(b, q, rid);
            pthread_mutex_unlock(&admin_lock);
        }
        json_decref(q);
        r = vtp_sock_write_frame(fd, reply);
        if (reply) {
            vt_memzero(reply, strlen(reply));
            free(reply);
        }
        if (r.err)
            break;
        vtb_new_rid(b, rid);
    }
    close(fd);
}
