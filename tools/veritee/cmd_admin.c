/*
 * cmd_admin.c - `veritee admin --socket PATH ...`: administer a running veritee-broker over
 * its local Unix socket (the broker checks our uid with SO_PEERCRED: root or its own user).
 *
 *   resource put PATH FILE | resource list | resource delete PATH
 *   key create PATH | key rotate PATH | key delete PATH | key wrap PATH FILE
 *   refval add CLAIM VALUE [--expires TIME] [--source TEXT] | refval list | refval delete ID
 *   policy set FILE | policy get | audit [--limit N]
 *
 * Protocol: 4-byte big-endian length + JSON, one request and one reply at a time (see
 * docs/broker.md). This client is self-contained (jansson + util tier) so the tool links
 * only libveritee. Secrets read from FILE are sent once and wiped; replies are printed as
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

#include "tool.h"
#include "util/buf.h"
#include "util/codec.h"
#include "util/secmem.h"

#define ADMIN_MAX_REPLY ((size_t)8 << 20)
#define ADMIN_MAX_FILE ((size_t)1 << 20)

int vt_admin_call(const char *socket_path, json_t *req, json_t **ret);

static bool io_all(int fd, uint8_t *p, size_t n, bool wr)
{
    size_t off = 0;
    while (off < n) {
        ssize_t k = wr ? send(fd, p + off, n - off, MSG_NOSIGNAL) : recv(fd, p + off, n - off, 0);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return false;
        off += (size_t)k;
    }
    return true;
}

/* Send req (consumed) to the broker's admin socket; *ret gets the reply object.
 * Returns 0, or VT_EXIT_USAGE (cannot connect / protocol failure, message printed). */
int vt_admin_call(const char *socket_path, json_t *req, json_t **ret)
{
    *ret = NULL;
    char *txt = req ? json_dumps(req, JSON_COMPACT) : NULL;
    json_decref(req);
    if (!txt)
        return VT_EXIT_USAGE;
    size_t n = strlen(txt);
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int fd = -1, rc = VT_EXIT_USAGE;
    if (strlen(socket_path) >= sizeof(sa.sun_path)) {
        vt_tool_err("admin socket path too long");
        goto out;
    }
    memcpy(sa.sun_path, socket_path, strlen(socket_path) + 1);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        vt_tool_err("cannot connect to the broker's admin socket %s: %s", socket_path,
                    strerror(errno));
        goto out;
    }
    struct timeval tv = { .tv_sec = 60, .tv_usec = 0 };
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    uint8_t hdr[4] = { (uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n };
    if (!io_all(fd, hdr, 4, true) || !io_all(fd, (uint8_t *)txt, n, true) ||
        !io_all(fd, hdr, 4, false)) {
        vt_tool_err("admin socket: connection failed");
        goto out;
    }
    size_t len = (size_t)hdr[0] << 24 | (size_t)hdr[1] << 16 | (size_t)hdr[2] << 8 | hdr[3];
    if (len == 0 || len > ADMIN_MAX_REPLY) {
        vt_tool_err("admin socket: malformed reply");
        goto out;
    }
    struct vt_buf body = VT_BUF_INIT;
    body.max = len + 1;
    if (vt_buf_reserve(&body, len).err || !io_all(fd, body.p, len, false)) {
        vt_buf_free(&body);
        vt_tool_err("admin socket: connection failed");
        goto out;
    }
    *ret = json_loadb((const char *)body.p, len, 0, NULL);
    vt_buf_free(&body);
    if (!json_is_object(*ret)) {
        json_decref(*ret);
        *ret = NULL;
        vt_tool_err("admin socket: malformed reply");
        goto out;
    }
    rc = 0;
out:
    vt_memzero(txt, n);
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
        "  audit [--limit N]          the last releases and refusals\n\n"
        "exit status: 0 ok, 1 the broker refused (reason on stderr), 2 bad usage or I/O\n");
}

static int file_b64(const char *path, json_t **ret)
{
    struct vt_buf b = VT_BUF_INIT, e = VT_BUF_INIT;
    vt_res r = vt_file_read(path, ADMIN_MAX_FILE, &b);
    if (r.err) {
        vt_tool_err("%s: %s", path, vt_strerror(r.err));
        vt_buf_free(&b);
        return VT_EXIT_USAGE;
    }
    r = vt_b64_encode(b.p, b.len, false, &e);
    vt_buf_free(&b);
    *ret = r.err ? NULL : json_stringn((const char *)e.p, e.len);
    vt_buf_free(&e);
    return *ret ? 0 : VT_EXIT_USAGE;
}

static int print_reply(json_t *rep, const char *done_msg)
{
    if (!json_is_true(json_object_get(rep, "ok"))) {
        const json_t *e = json_object_get(rep, "error");
        vt_tool_err("refused by the broker: %s (%s)",
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

int vt_cmd_admin(int argc, char **argv)
{
    if (vt_tool_wants_help(argc, argv)) {
        usage(stdout);
        return VT_EXIT_OK;
    }
    const char *sock = NULL, *expires = NULL, *source = NULL;
    long limit = 100;
    char *pos[8];
    int npos = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--socket") || !strcmp(a, "--expires") || !strcmp(a, "--source") ||
            !strcmp(a, "--limit")) {
            if (i + 1 >= argc) {
                vt_tool_err("%s needs a value", a);
                return VT_EXIT_USAGE;
            }
            const char *v = argv[++i];
            if (!strcmp(a, "--socket"))
                sock = v;
            else if (!strcmp(a, "--expires"))
                expires = v;
            else if (!strcmp(a, "--source"))
                source = v;
            else {
                char *end = NULL;
                limit = strtol(v, &end, 10);
                if (!end || *end || limit < 1 || limit > 100000) {
                    vt_tool_err("--limit wants 1..100000");
                    return VT_EXIT_USAGE;
                }
            }
            continue;
        }
        if (npos >= 8) {
            vt_tool_err("too many arguments");
            return VT_EXIT_USAGE;
        }
        pos[npos++] = argv[i];
    }
    if (!sock || npos < 1) {
        usage(stderr);
        return VT_EXIT_USAGE;
    }
    const char *grp = pos[0], *verb = npos > 1 ? pos[1] : "";
    json_t *req = json_pack("{s:s}", "id", "1");
    const char *done = "ok";
    char opname[32];
    int rc = 0;
#define WANT(n)                                                                 \
    do {                                                                        \
        if (npos != (n)) {                                                      \
            vt_tool_err("wrong number of arguments for '%s %s'", grp, verb);    \
            json_decref(req);                                                   \
            return VT_EXIT_USAGE;                                               \
        }                                                                       \
    } while (0)
    if (!strcmp(grp, "resource") || !strcmp(grp, "key")) {
        snprintf(opname, sizeof(opname), "%s.%s", grp, verb);
        if (!strcmp(verb, "list") && !strcmp(grp, "resource")) {
            WANT(2);
        } else if (!strcmp(verb, "put") && !strcmp(grp, "resource")) {
            WANT(4);
            json_t *d = NULL;
            if ((rc = file_b64(pos[3], &d))) {
                json_decref(req);
                return rc;
            }
            json_object_set_new(req, "data", d);
            done = "stored";
        } else if (!strcmp(verb, "wrap") && !strcmp(grp, "key")) {
            WANT(4);
            json_t *d = NULL;
            if ((rc = file_b64(pos[3], &d))) {
                json_decref(req);
                return rc;
            }
            json_object_set_new(req, "data", d);
        } else if (!strcmp(verb, "delete") || (!strcmp(grp, "key") &&
                   (!strcmp(verb, "create") || !strcmp(verb, "rotate")))) {
            WANT(3);
            if (!strcmp(verb, "delete"))
                done = "deleted";
        } else {
            vt_tool_err("unknown command '%s %s' (see --help)", grp, verb);
            json_decref(req);
            return VT_EXIT_USAGE;
        }
        if (npos >= 3)
            json_object_set_new(req, "path", json_string(pos[2]));
    } else if (!strcmp(grp, "refval")) {
        snprintf(opname, sizeof(opname), "refval.%s", verb);
        if (!strcmp(verb, "add")) {
            WANT(4);
            json_object_set_new(req, "name", json_string(pos[2]));
            json_object_set_new(req, "value", json_string(pos[3]));
            if (expires)
                json_object_set_new(req, "expires", json_string(expires));
            if (source)
                json_object_set_new(req, "source", json_string(source));
        } else if (!strcmp(verb, "list")) {
            WANT(2);
        } else if (!strcmp(verb, "delete")) {
            WANT(3);
            char *end = NULL;
            long long idv = strtoll(pos[2], &end, 10);
            if (!end || *end || idv < 1) {
                vt_tool_err("refval delete wants a numeric ID (see 'refval list')");
                json_decref(req);
                return VT_EXIT_USAGE;
            }
            json_object_set_new(req, "refval_id", json_integer(idv));
            done = "deleted";
        } else {
            vt_tool_err("unknown command 'refval %s' (add, list, delete)", verb);
            json_decref(req);
            return VT_EXIT_USAGE;
        }
    } else if (!strcmp(grp, "policy")) {
        snprintf(opname, sizeof(opname), "policy.%s", verb);
        if (!strcmp(verb, "set")) {
            WANT(3);
            struct vt_buf b = VT_BUF_INIT;
            vt_res r = vt_file_read(pos[2], ADMIN_MAX_FILE, &b);
            if (r.err) {
                vt_tool_err("%s: %s", pos[2], vt_strerror(r.err));
                vt_buf_free(&b);
                json_decref(req);
                return VT_EXIT_USAGE;
            }
            json_object_set_new(req, "policy", json_stringn((const char *)b.p, b.len));
            vt_buf_free(&b);
            done = "policy set";
        } else if (!strcmp(verb, "get")) {
            WANT(2);
        } else {
            vt_tool_err("unknown command 'policy %s' (set, get)", verb);
            json_decref(req);
            return VT_EXIT_USAGE;
        }
    } else if (!strcmp(grp, "audit")) {
        WANT(1);
        snprintf(opname, sizeof(opname), "audit.list");
        json_object_set_new(req, "limit", json_integer(limit));
    } else {
        vt_tool_err("unknown command '%s' (resource, key, refval, policy, audit)", grp);
        json_decref(req);
        return VT_EXIT_USAGE;
    }
#undef WANT
    json_object_set_new(req, "op", json_string(opname));
    json_t *rep = NULL;
    rc = vt_admin_call(sock, req, &rep);
    if (rc)
        return rc;
    rc = print_reply(rep, done);
    json_decref(rep);
    return rc;
}
