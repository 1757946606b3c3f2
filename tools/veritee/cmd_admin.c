/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_admin.c - `veritee admin --socket PATH ...`: administer a running veritee-broker over
 * its local Unix socket (the broker checks our uid with SO_PEERCRED: root or its own user).
 *
 *   resource put PATH FILE | resource list | resource delete PATH
 *   key create PATH | key rotate PATH | key delete PATH | key wrap PATH FILE
 *   refval add CLAIM VALUE [--expires TIME] [--source TEXT] | refval list | refval delete ID
 *   policy set FILE | policy get | audit [--limit N] [--after SEQ] [--all]
 *   audit prune --before TIME
 *
 * Protocol: 4-byte big-endian length + JSON, one request and one reply at a time (see
 * docs/broker.md); the framing is src/proto's (frame.h). Secrets read from FILE are sent once and wiped; replies are printed as
 * JSON (lists) or a one-line confirmation. Exit: 0 ok, 1 the broker refused, 2 usage/IO.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "proto/frame.h"
#include "tool.h"
#include "util/buf.h"
#include "util/codec.h"
#include "util/secmem.h"

#define ADMIN_MAX_FILE ((size_t)1 << 20)

int admin_call(const char *socket_path, json_t *req, json_t **ret);

/* A connected Unix socket (60 s receive timeout), or -1 with a message printed. */
static int admin_connect(const char *socket_path)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    if (strlen(socket_path) >= sizeof(sa.sun_path)) {
        tool_err("admin socket path too long");
        return -1;
    }
    memcpy(sa.sun_path, socket_path, strlen(socket_path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        tool_err("cannot connect to the broker's admin socket %s: %s", socket_path,
                    strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    struct timeval tv = { .tv_sec = 60, .tv_usec = 0 };
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    return fd;
}

/* One request frame out, one reply frame in (the reply object into *ret). The reply is read
 * even when the request could not be sent: the broker may answer before reading (admin
 * denied) and close. */
static int admin_exchange(int fd, const char *txt, json_t **ret)
{
    struct vtp_io io = vtp_io_fd(&fd);
    bool sent = !vtp_frame_write(&io, txt, strlen(txt), VTP_MAX_ADMIN_REQUEST).err;
    struct vt_buf body = VT_BUF_INIT;
    vt_res r = vtp_frame_read(&io, VTP_MAX_REPLY, &body, NULL);
    if (r.err == VT_ERR_BROKER_REQUEST_TOO_LARGE) {
        vti_buf_free(&body);
        tool_err("admin socket: malformed reply");
        return VT_EXIT_USAGE;
    }
    if (r.err) {
        vti_buf_free(&body);
        tool_err("admin socket: connection failed");
        return VT_EXIT_USAGE;
    }
    *ret = json_loadb((const char *)body.p, body.len, 0, NULL);
    vti_buf_free(&body);
    if (!json_is_object(*ret) || (!sent && json_is_true(json_object_get(*ret, "ok")))) {
        json_decref(*ret);
        *ret = NULL;
        tool_err(sent ? "admin socket: malformed reply" : "admin socket: connection failed");
        return VT_EXIT_USAGE;
    }
    return 0;
}

/* Send req (consumed) to the broker's admin socket; *ret gets the reply object.
 * Returns 0, or VT_EXIT_USAGE (cannot connect / protocol failure, message printed). */
int admin_call(const char *socket_path, json_t *req, json_t **ret)
{
    *ret = NULL;
    char *txt = req ? json_dumps(req, JSON_COMPACT) : NULL;
    json_decref(req);
    if (!txt)
        return VT_EXIT_USAGE;
    int fd = admin_connect(socket_path);
    int rc = fd < 0 ? VT_EXIT_USAGE : admin_exchange(fd, txt, ret);
    vti_memzero(txt, strlen(txt));
    free(txt);
    if (fd >= 0)
        close(fd);
    return rc;
}

static void usage(FILE *f)
{
    fprintf(f,
        "usage: veritee admin --socket PATH COMMAND...\n\n"
        "Administer a running veritee-broker through its local admin socket (root or the\n"
        "broker's user only).\n\n"
        "  resource put PATH FILE     store FILE as resource PATH (<repo>/<type>/<tag>)\n"
        "  resource list              list resources and keys (no secret is shown)\n"
        "  resource delete PATH       delete a resource or key (every version)\n"
        "  key create PATH            generate a random 256-bit key\n"
        "  key rotate PATH            add a new version (old versions still unwrap)\n"
        "  key delete PATH\n"
        "  key wrap PATH FILE         wrap FILE's bytes under the key; prints the annotation\n"
        "  refval add CLAIM VALUE [--expires TIME] [--source TEXT]\n"
        "                             allow VALUE for CLAIM (e.g. measurement <hex>)\n"
        "  refval list | refval delete ID\n"
        "  policy set FILE | policy get\n"
        "  audit [--limit N] [--after SEQ] [--all]\n"
        "                             the last N releases and refusals; --after: the N after\n"
        "                             audit seq SEQ (the reply's next_after pages on); --all:\n"
        "                             follow every page. A reply is clamped to one frame\n"
        "                             (truncated: true, next_after; a note on stderr)\n"
        "  audit prune --before TIME  delete audit rows older than TIME (RFC 3339 or Unix\n"
        "                             seconds); the prune itself is audited\n\n"
        "exit status: 0 ok, 1 the broker refused (reason on stderr), 2 bad usage or I/O\n");
}

static int file_b64(const char *path, json_t **ret)
{
    struct vt_buf b = VT_BUF_INIT, e = VT_BUF_INIT;
    vt_res r = vti_file_read(path, ADMIN_MAX_FILE, &b);
    if (r.err) {
        tool_err("%s: %s", path, vt_strerror(r.err));
        vti_buf_free(&b);
        return VT_EXIT_USAGE;
    }
    r = vti_b64_encode(b.p, b.len, false, &e);
    vti_buf_free(&b);
    *ret = r.err ? NULL : json_stringn((const char *)e.p, e.len);
    vti_buf_free(&e);
    return *ret ? 0 : VT_EXIT_USAGE;
}

static int print_reply(json_t *rep, const char *done_msg)
{
    if (!json_is_true(json_object_get(rep, "ok"))) {
        const json_t *e = json_object_get(rep, "error");
        tool_err("refused by the broker: %s (%s)",
                    json_string_value(json_object_get(e, "message")) ?: "no reason",
                    json_string_value(json_object_get(e, "code")) ?: "?");
        return VT_EXIT_REJECTED;
    }
    json_object_del(rep, "ok");
    json_object_del(rep, "id");
    json_object_del(rep, "rid");
    if (json_object_size(rep) == 0 && done_msg) {
        printf("%s\n", done_msg);
    } else {
        const json_t *pol = json_object_get(rep, "policy");
        if (json_is_string(pol) && json_object_size(rep) == 1) {
            printf("%s\n", json_string_value(pol));
        } else {
            char *s = json_dumps(rep, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
            if (s)
                printf("%s\n", s);
            free(s);
        }
    }
    return VT_EXIT_OK;
}

/* The command line: options anywhere, up to 8 positional words. */
struct admin_args {
    const char *sock, *expires, *source, *before;
    long limit;
    long long after; /* -1: not given */
    bool all;
    char *pos[8];
    int npos;
};

static int parse_option(struct admin_args *a, const char *name, const char *v)
{
    if (!strcmp(name, "--socket"))
        a->sock = v;
    else if (!strcmp(name, "--expires"))
        a->expires = v;
    else if (!strcmp(name, "--source"))
        a->source = v;
    else if (!strcmp(name, "--before"))
        a->before = v;
    else if (!strcmp(name, "--after")) {
        char *end = NULL;
        errno = 0;
        a->after = strtoll(v, &end, 10);
        if (!end || *end || errno || a->after < 0) {
            tool_err("--after wants an audit seq (0 or more)");
            return VT_EXIT_USAGE;
        }
    } else {
        char *end = NULL;
        a->limit = strtol(v, &end, 10);
        if (!end || *end || a->limit < 1 || a->limit > 100000) {
            tool_err("--limit wants 1..100000");
            return VT_EXIT_USAGE;
        }
    }
    return 0;
}

static int parse_args(int argc, char **argv, struct admin_args *a)
{
    memset(a, 0, sizeof(*a));
    a->limit = 100;
    a->after = -1;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        if (!strcmp(o, "--all")) {
            a->all = true;
            continue;
        }
        if (!strcmp(o, "--after") || !strcmp(o, "--before") || !strcmp(o, "--socket") || !strcmp(o, "--expires") || !strcmp(o, "--source") ||
            !strcmp(o, "--limit")) {
            if (i + 1 >= argc) {
                tool_err("%s needs a value", o);
                return VT_EXIT_USAGE;
            }
            int rc = parse_option(a, o, argv[++i]);
            if (rc)
                return rc;
            continue;
        }
        if (a->npos >= 8) {
            tool_err("too many arguments");
            return VT_EXIT_USAGE;
        }
        a->pos[a->npos++] = argv[i];
    }
    if (!a->sock || a->npos < 1) {
        usage(stderr);
        return VT_EXIT_USAGE;
    }
    return 0;
}

/* The request being built: the object, the op name, the confirmation line. */
struct admin_req {
    json_t *req;
    char op[32];
    const char *done;
};

static int want(const struct admin_args *a, int n)
{
    if (a->npos == n)
        return 0;
    tool_err("wrong number of arguments for '%s %s'", a->pos[0], a->npos > 1 ? a->pos[1] : "");
    return VT_EXIT_USAGE;
}

/* Set member name to FILE's bytes (base64). */
static int set_file_data(json_t *req, const char *name, const char *path)
{
    json_t *d = NULL;
    int rc = file_b64(path, &d);
    if (!rc)
        json_object_set_new(req, name, d);
    return rc;
}

/* resource put|list|delete, key create|rotate|delete|wrap */
static int build_store(const struct admin_args *a, const char *verb, struct admin_req *q)
{
    const char *grp = a->pos[0];
    bool key = !strcmp(grp, "key");
    snprintf(q->op, sizeof(q->op), "%s.%s", grp, verb);
    int rc;
    if (!key && !strcmp(verb, "list")) {
        rc = want(a, 2);
    } else if ((!key && !strcmp(verb, "put")) || (key && !strcmp(verb, "wrap"))) {
        rc = want(a, 4);
        if (!rc)
            rc = set_file_data(q->req, "data", a->pos[3]);
        if (!key)
            q->done = "stored";
    } else if (!strcmp(verb, "delete") || (key && (!strcmp(verb, "create") ||
                                                   !strcmp(verb, "rotate")))) {
        rc = want(a, 3);
        if (!strcmp(verb, "delete"))
            q->done = "deleted";
    } else {
        tool_err("unknown command '%s %s' (see --help)", grp, verb);
        return VT_EXIT_USAGE;
    }
    if (!rc && a->npos >= 3)
        json_object_set_new(q->req, "path", json_string(a->pos[2]));
    return rc;
}

/* refval add|list|delete */
static int build_refval(const struct admin_args *a, const char *verb, struct admin_req *q)
{
    snprintf(q->op, sizeof(q->op), "refval.%s", verb);
    if (!strcmp(verb, "list"))
        return want(a, 2);
    if (!strcmp(verb, "add")) {
        if (want(a, 4))
            return VT_EXIT_USAGE;
        json_object_set_new(q->req, "name", json_string(a->pos[2]));
        json_object_set_new(q->req, "value", json_string(a->pos[3]));
        if (a->expires)
            json_object_set_new(q->req, "expires", json_string(a->expires));
        if (a->source)
            json_object_set_new(q->req, "source", json_string(a->source));
        return 0;
    }
    if (!strcmp(verb, "delete")) {
        if (want(a, 3))
            return VT_EXIT_USAGE;
        char *end = NULL;
        long long idv = strtoll(a->pos[2], &end, 10);
        if (!end || *end || idv < 1) {
            tool_err("refval delete wants a numeric ID (see 'refval list')");
            return VT_EXIT_USAGE;
        }
        json_object_set_new(q->req, "refval_id", json_integer(idv));
        q->done = "deleted";
        return 0;
    }
    tool_err("unknown command 'refval %s' (add, list, delete)", verb);
    return VT_EXIT_USAGE;
}

/* policy set FILE | policy get */
static int build_policy(const struct admin_args *a, const char *verb, struct admin_req *q)
{
    snprintf(q->op, sizeof(q->op), "policy.%s", verb);
    if (!strcmp(verb, "get"))
        return want(a, 2);
    if (strcmp(verb, "set") != 0) {
        tool_err("unknown command 'policy %s' (set, get)", verb);
        return VT_EXIT_USAGE;
    }
    if (want(a, 3))
        return VT_EXIT_USAGE;
    struct vt_buf b = VT_BUF_INIT;
    vt_res r = vti_file_read(a->pos[2], ADMIN_MAX_FILE, &b);
    if (r.err) {
        tool_err("%s: %s", a->pos[2], vt_strerror(r.err));
        vti_buf_free(&b);
        return VT_EXIT_USAGE;
    }
    json_object_set_new(q->req, "policy", json_stringn((const char *)b.p, b.len));
    vti_buf_free(&b);
    q->done = "policy set";
    return 0;
}

static int build_request(const struct admin_args *a, struct admin_req *q)
{
    const char *grp = a->pos[0], *verb = a->npos > 1 ? a->pos[1] : "";
    if (!strcmp(grp, "resource") || !strcmp(grp, "key"))
        return build_store(a, verb, q);
    if (!strcmp(grp, "refval"))
        return build_refval(a, verb, q);
    if (!strcmp(grp, "policy"))
        return build_policy(a, verb, q);
    if (!strcmp(grp, "audit") && !strcmp(verb, "prune")) {
        snprintf(q->op, sizeof(q->op), "audit.prune");
        if (!a->before) {
            tool_err("audit prune needs --before TIME (RFC 3339 or Unix seconds)");
            return VT_EXIT_USAGE;
        }
        json_object_set_new(q->req, "before", json_string(a->before));
        return want(a, 2);
    }
    if (!strcmp(grp, "audit")) {
        snprintf(q->op, sizeof(q->op), "audit.list");
        json_object_set_new(q->req, "limit", json_integer(a->limit));
        if (a->after >= 0 || a->all)
            json_object_set_new(q->req, "after", json_integer(a->after > 0 ? a->after : 0));
        return want(a, 1);
    }
    tool_err("unknown command '%s' (resource, key, refval, policy, audit)", grp);
    return VT_EXIT_USAGE;
}

/* audit --all: follow the pages (next_after) and print them as one listing. */
static int audit_all(const char *sock, json_t *req, json_t **rep)
{
    json_t *all = json_array();
    int rc = 0;
    for (int pages = 0; !rc && pages < 1000000; pages++) {
        json_t *r = NULL;
        rc = admin_call(sock, json_deep_copy(req), &r);
        if (rc || !json_is_true(json_object_get(r, "ok"))) {
            json_decref(all);
            json_decref(req);
            *rep = r;
            return rc;
        }
        json_array_extend(all, json_object_get(r, "audit"));
        const json_t *nx = json_object_get(r, "next_after");
        bool more = json_is_true(json_object_get(r, "more")) && json_is_integer(nx);
        if (more)
            json_object_set_new(req, "after", json_integer(json_integer_value(nx)));
        json_decref(r);
        if (!more)
            break;
    }
    json_decref(req);
    *rep = json_pack("{s:b,s:o}", "ok", 1, "audit", all);
    return rc;
}

/* A clamped or partial audit page: say how to go on (stderr; stdout stays the JSON). */
static void audit_note(const json_t *rep)
{
    const json_t *nx = json_object_get(rep, "next_after");
    if (json_is_true(json_object_get(rep, "truncated")) && json_is_integer(nx))
        tool_err("note: the listing was truncated to fit one reply; continue with --after %lld "
                 "(or use --all)", (long long)json_integer_value(nx));
}

int cmd_admin(int argc, char **argv)
{
    if (tool_wants_help(argc, argv)) {
        usage(stdout);
        return VT_EXIT_OK;
    }
    struct admin_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc)
        return rc;
    struct admin_req q = { .req = json_pack("{s:s}", "id", "1"), .done = "ok" };
    rc = q.req ? build_request(&a, &q) : VT_EXIT_USAGE;
    if (rc) {
        json_decref(q.req);
        return rc;
    }
    json_object_set_new(q.req, "op", json_string(q.op));
    json_t *rep = NULL;
    bool audit = !strcmp(q.op, "audit.list");
    rc = audit && a.all ? audit_all(a.sock, q.req, &rep) : admin_call(a.sock, q.req, &rep);
    if (rc)
        return rc;
    if (audit)
        audit_note(rep);
    rc = print_reply(rep, q.done);
    json_decref(rep);
    return rc;
}
