/* SPDX-License-Identifier: Apache-2.0 */
/*
 * agent_main.c - veritee-agent: runs inside the TEE, attests to veritee-broker over attested
 * TLS (mutual: the agent presents evidence) and fetches what the broker's policy releases.
 *
 *   veritee-agent get-resource --broker HOST:PORT --tee NAME [--sim-dir DIR]
 *                 [--broker-ca F | --broker-root-ca F] [--option NAME=VALUE]...
 *                 PATH [-o FILE [--allow-disk]]
 *   veritee-agent keyprovider --broker ... (ocicrypt key-provider "cmd" protocol on
 *                 stdin/stdout: keyunwrap asks the broker to unwrap after attestation)
 *
 * Trust boundary: the broker is authenticated by its ordinary certificate chaining to
 * --broker-ca and issued for the HOST of --broker (subjectAltName DNS name or IP address,
 * checked by the library: vt_config.peer_name), or by its own evidence
 * against --broker-root-ca, which must then also match every --broker-claim NAME=VALUE
 * (e.g. the broker's mr_td; required: a root alone admits any workload of that vendor's
 * TEEs; --broker-claim is required whenever --broker-root-ca is given, also next to
 * --broker-ca); its replies are still parsed under limits. Secrets: held in wiping buffers;
 * written only to stdout or to a file on a memory file system (tmpfs/ramfs) unless
 * --allow-disk: a new file of ours (O_EXCL, mode 0600, random name) renamed over FILE, which
 * may exist only as our own single-link regular file, in a directory not writable by others
 * unless sticky; never logged.
 * Exit status: 0 released, 1 refused or failed (the broker's reason on stderr), 2 usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <linux/magic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "agent/kbs_client.h"
#include "proto/proto.h"
#include "util/buf.h"
#include "util/codec.h"
#include "util/secmem.h"
#include "veritee/veritee.h"
#include "vt_buildinfo.h"

#define MAX_OPTS 16
#define MAX_ROOTS 8
#define MAX_BCLAIMS 8

struct agent_opts {
    const char *broker;
    const char *tee;
    const char *sim_dir;
    const char *broker_ca;
    const char *roots[MAX_ROOTS];
    size_t n_roots;
    struct vt_option bclaims[MAX_BCLAIMS]; /* --broker-claim NAME=VALUE */
    size_t n_bclaims;
    bool any_broker;                       /* --any-broker: root only, no claim pinned */
    struct vt_option opts[MAX_OPTS];
    size_t n_opts;
    const char *out;
    bool allow_disk;
    long timeout;
    const char *kbs;       /* --kbs URL: the CoCo KBS protocol instead of attested TLS */
    const char *kbs_ca;
    unsigned sim_gpus; /* --sim-gpus */
};

static void die_usage(const char *msg)
{
    fprintf(stderr, "veritee-agent: %s (see --help)\n", msg);
    exit(2);
}

static void usage(void)
{
    printf(
        "usage: veritee-agent get-resource --broker HOST:PORT --tee NAME [--sim-dir DIR]\n"
        "                     [--broker-ca F | --broker-root-ca F] [--option NAME=VALUE]...\n"
        "                     PATH [-o FILE [--allow-disk]]\n"
        "       veritee-agent get-resource --kbs URL --tee NAME [--sim-dir DIR] [--kbs-ca F]\n"
        "                     [--sim-gpus N] [--option NAME=VALUE]... PATH [-o FILE [--allow-disk]]\n"
        "       veritee-agent keyprovider --broker HOST:PORT --tee NAME [same options]\n"
        "       veritee-agent --version\n\n"
        "Attest to the broker and fetch the resource PATH (<repo>/<type>/<tag>): printed to\n"
        "stdout, or written to FILE (mode 0600) which must be on a memory file system\n"
        "(tmpfs, e.g. /dev/shm) unless --allow-disk. 'keyprovider' speaks the ocicrypt\n"
        "key-provider cmd protocol on stdin/stdout (keyunwrap through the broker).\n\n"
        "  --broker HOST:PORT    the broker's agent address\n"
        "  --tee NAME            attester (sim, tdx, snp, sgx, az-snp-vtpm, az-tdx-vtpm, ...)\n"
        "  --sim-dir DIR         the sim TEE directory (or $VERITEE_SIM_DIR)\n"
        "  --kbs URL             or: the broker's KBS front end (http(s)://HOST:PORT), CoCo\n"
        "                        KBS protocol v0.4.0; the resource arrives as a JWE to an\n"
        "                        ephemeral key held in memory only; connects directly\n"
        "                        (http_proxy / https_proxy are not used)\n"
        "  --kbs-ca F            CA (PEM) of the KBS front end's HTTPS certificate (default:\n"
        "                        the system's CAs); its host name is verified too\n"
        "  --sim-gpus N          with --kbs: add N sim GPUs (1..8, 'veritee sim gpu', INSECURE,\n"
        "                        for tests) as additional_evidence {\"nvidia\": ...}\n"
        "  --broker-ca F         the broker presents an ordinary certificate issued by this CA\n"
        "  --broker-root-ca F    the broker attests; its evidence chains to this root\n"
        "  --broker-claim N=V    with --broker-root-ca: the broker's claim N must be V (hex\n"
        "                        for byte claims, e.g. mr_td=...), repeatable; required\n"
        "                        unless --any-broker (any workload on that TEE would pass)\n"
        "  --option NAME=VALUE   attester option (e.g. sim.measurement=HEX), repeatable\n"
        "  --timeout SECS        socket timeout (default 30)\n"
        "  --version             print the version and the git revision, then exit\n\n"
        "exit status: 0 released, 1 refused or failed (reason on stderr), 2 bad usage\n");
}

static const struct option long_opts[] = {
    { "broker", required_argument, NULL, 'b' },
    { "tee", required_argument, NULL, 't' },
    { "sim-dir", required_argument, NULL, 's' },
    { "broker-ca", required_argument, NULL, 'C' },
    { "broker-root-ca", required_argument, NULL, 'R' },
    { "broker-claim", required_argument, NULL, 'P' },
    { "any-broker", no_argument, NULL, 'A' },
    { "option", required_argument, NULL, 'O' },
    { "output", required_argument, NULL, 'o' },
    { "allow-disk", no_argument, NULL, 'D' },
    { "timeout", required_argument, NULL, 'T' },
    { "kbs", required_argument, NULL, 'K' },
    { "kbs-ca", required_argument, NULL, 'Q' },
    { "sim-gpus", required_argument, NULL, 'G' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
};

/* How the broker is authenticated, for every combination of --broker-ca, --broker-root-ca,
 * --broker-claim and --any-broker: an attested broker (--broker-root-ca, with or without
 * --broker-ca) must be pinned by at least one --broker-claim unless --any-broker says
 * otherwise; claims and --any-broker mean nothing without a root (an ordinary certificate
 * carries no claims) and contradict each other together. Anything else is a usage error. */
static void check_broker_auth(const struct agent_opts *o)
{
    if (!o->broker_ca && o->n_roots == 0)
        die_usage("say how to authenticate the broker: --broker-ca F or --broker-root-ca F");
    if (o->n_roots == 0 && (o->n_bclaims || o->any_broker))
        die_usage("--broker-claim and --any-broker go with --broker-root-ca (a --broker-ca "
                  "certificate carries no claims)");
    if (o->n_bclaims && o->any_broker)
        die_usage("--any-broker contradicts --broker-claim: pin the broker or waive the pin");
    if (o->n_roots && !o->n_bclaims && !o->any_broker)
        die_usage("--broker-root-ca needs --broker-claim NAME=VALUE (the broker's measurement) "
                  "or --any-broker, with or without --broker-ca");
}

static void parse_opts(int argc, char **argv, struct agent_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->timeout = 30;
    optind = 1;
    opterr = 0;
    int ch;
    while ((ch = getopt_long(argc, argv, "o:h", long_opts, NULL)) != -1) {
        switch (ch) {
        case 'b': o->broker = optarg; break;
        case 't': o->tee = optarg; break;
        case 's': o->sim_dir = optarg; break;
        case 'C': o->broker_ca = optarg; break;
        case 'R':
            if (o->n_roots >= MAX_ROOTS)
                die_usage("too many --broker-root-ca");
            o->roots[o->n_roots++] = optarg;
            break;
        case 'P': {
            char *eq = strchr(optarg, '=');
            if (!eq || eq == optarg || !eq[1] || o->n_bclaims >= MAX_BCLAIMS)
                die_usage("--broker-claim wants NAME=VALUE");
            *eq = 0;
            o->bclaims[o->n_bclaims].name = optarg;
            o->bclaims[o->n_bclaims].value = eq + 1;
            o->n_bclaims++;
            break;
        }
        case 'A': o->any_broker = true; break;
        case 'O': {
            char *eq = strchr(optarg, '=');
            if (!eq || eq == optarg || o->n_opts >= MAX_OPTS)
                die_usage("--option wants NAME=VALUE");
            *eq = 0;
            o->opts[o->n_opts].name = optarg;
            o->opts[o->n_opts].value = eq + 1;
            o->n_opts++;
            break;
        }
        case 'o': o->out = optarg; break;
        case 'D': o->allow_disk = true; break;
        case 'K': o->kbs = optarg; break;
        case 'Q': o->kbs_ca = optarg; break;
        case 'G': {
            char *end = NULL;
            long g = strtol(optarg, &end, 10);
            if (!end || *end || g < 1 || g > 8)
                die_usage("--sim-gpus wants 1..8");
            o->sim_gpus = (unsigned)g;
            break;
        }
        case 'T': {
            char *end = NULL;
            o->timeout = strtol(optarg, &end, 10);
            if (!end || *end || o->timeout < 1 || o->timeout > 3600)
                die_usage("--timeout wants 1..3600 seconds");
            break;
        }
        case 'h': usage(); exit(0);
        default: die_usage("unknown option");
        }
    }
    if (!o->tee)
        die_usage("--tee NAME is required (the agent attests)");
    if (o->kbs) {
        if (o->broker || o->broker_ca || o->n_roots)
            die_usage("--kbs replaces --broker, --broker-ca and --broker-root-ca");
        if (o->n_bclaims || o->any_broker)
            die_usage("--broker-claim and --any-broker go with --broker-root-ca, not --kbs");
        return;
    }
    if (o->kbs_ca || o->sim_gpus)
        die_usage("--kbs-ca and --sim-gpus go with --kbs");
    if (!o->broker)
        die_usage("--broker HOST:PORT (or --kbs URL) is required");
    check_broker_auth(o);
}

/* ---- the connection ------------------------------------------------------------------- */

struct session {
    vt_ctx *ctx;
    vt_conn *conn;
    int fd;
};

/* The broker's claim as text (hex for bytes), for comparison with --broker-claim. */
static bool claim_is(const struct vt_claim *c, const char *want)
{
    char num[32];
    switch (c->type) {
    case VT_CLAIM_BOOL: return strcmp(want, c->b ? "true" : "false") == 0;
    case VT_CLAIM_INT:
        snprintf(num, sizeof(num), "%lld", (long long)c->i);
        return strcmp(want, num) == 0;
    case VT_CLAIM_STRING: return c->s && strcmp(want, c->s) == 0;
    case VT_CLAIM_BYTES: {
        if (strlen(want) != 2 * c->n)
            return false;
        char *hex = malloc(2 * c->n + 1);
        if (!hex)
            return false;
        vti_hex_encode(c->p, c->n, hex);
        bool eq = strcasecmp(want, hex) == 0;
        free(hex);
        return eq;
    }
    case VT_CLAIM_STRLIST: return false;
    }
    return false;
}

/* verify_cb: an attested broker must show every --broker-claim (fail closed). */
static int check_broker(const vt_report *peer, void *arg)
{
    const struct agent_opts *o = arg;
    if (!peer)
        return 0; /* ordinary certificate: the library checked --broker-ca and the host */
    if (o->n_bclaims == 0 && !o->any_broker) { /* fail closed: parse_opts refuses this */
        fprintf(stderr, "veritee-agent: the broker attests but no --broker-claim pins it\n");
        return 1;
    }
    const vt_claims *cl = vt_report_claims(peer);
    for (size_t k = 0; k < o->n_bclaims; k++) {
        bool found = false;
        for (size_t i = 0; cl && i < vt_claims_count(cl) && !found; i++) {
            const struct vt_claim *c = vt_claims_at(cl, i);
            found = strcmp(c->name, o->bclaims[k].name) == 0 && claim_is(c, o->bclaims[k].value);
        }
        if (!found) {
            fprintf(stderr, "veritee-agent: the broker's evidence does not show %s=%s\n",
                    o->bclaims[k].name, o->bclaims[k].value);
            return 1;
        }
    }
    return 0;
}

static int session_open(const struct agent_opts *o, struct session *s)
{
    memset(s, 0, sizeof(*s));
    s->fd = -1;
    struct vtp_hostport hp;
    if (vtp_hostport_parse(o->broker, &hp).err || !hp.host[0] || !hp.port) {
        fprintf(stderr, "veritee-agent: --broker: want HOST:PORT, got '%s'\n", o->broker);
        return 1;
    }
    struct vt_config cfg = {
        .role = VT_ROLE_CLIENT, .attester = o->tee, .sim_dir = o->sim_dir,
        .root_ca_files = o->roots, .n_root_ca_files = o->n_roots,
        .allow_unattested = o->broker_ca != NULL, .ca_file = o->broker_ca,
        .peer_name = o->broker_ca ? hp.host : NULL, /* the CA-issued certificate names HOST */
        .options = o->opts, .n_options = o->n_opts,
        .verify_cb = check_broker, .verify_cb_arg = vti_unconst(o),
    };
    int err = vt_ctx_new(&cfg, &s->ctx);
    if (err) {
        fprintf(stderr, "veritee-agent: cannot attest with TEE %s: %s (%s)\n", o->tee,
                vt_strerror(err), vt_errname(err));
        return 1;
    }
    char why[160] = "";
    if (vtp_tcp_connect(o->broker, o->timeout, &s->fd, why, sizeof(why)).err) {
        fprintf(stderr, "veritee-agent: cannot connect to %s: %s\n", o->broker, why);
        return 1;
    }
    err = vt_conn_new(s->ctx, s->fd, &s->conn);
    if (!err)
        err = vt_conn_handshake(s->conn);
    if (err) {
        fprintf(stderr, "veritee-agent: attested TLS with %s failed: %s (%s)\n", o->broker,
                s->conn ? vt_conn_error_detail(s->conn) : vt_strerror(err), vt_errname(err));
        return 1;
    }
    return 0;
}

static void session_close(struct session *s)
{
    if (s->conn)
        (void)vt_conn_shutdown(s->conn);
    vt_conn_free(s->conn);
    if (s->fd >= 0)
        close(s->fd);
    vt_ctx_free(s->ctx);
}

/* vt_conn as a frame transport (proto/frame.h). */
static int conn_read(void *arg, void *p, size_t n, size_t *got)
{
    return vt_conn_read(arg, p, n, got);
}

static int conn_write(void *arg, const void *p, size_t n)
{
    return vt_conn_write(arg, p, n);
}

/* Send req (consumed) and return the reply object, or NULL with a message printed. */
static json_t *roundtrip(struct session *s, json_t *req)
{
    char *txt = req ? json_dumps(req, JSON_COMPACT) : NULL;
    json_decref(req);
    if (!txt)
        return NULL;
    struct vtp_io io = { .read = conn_read, .write = conn_write, .arg = s->conn };
    struct vt_buf body = VT_BUF_INIT;
    uint32_t len = 0;
    vt_res r = vtp_frame_write(&io, txt, strlen(txt), VTP_MAX_ADMIN_REQUEST);
    vti_memzero(txt, strlen(txt));
    free(txt);
    if (!r.err)
        r = vtp_frame_read(&io, VTP_MAX_REPLY, &body, &len);
    json_t *rep = NULL;
    if (r.err == VT_ERR_BROKER_REQUEST_TOO_LARGE)
        fprintf(stderr, "veritee-agent: malformed reply from the broker (length %u)\n", len);
    else if (r.err)
        fprintf(stderr, "veritee-agent: connection to the broker failed: %s\n",
                vt_strerror(r.err));
    else
        rep = json_loadb((const char *)body.p, body.len, 0, NULL);
    vti_buf_free(&body);
    if (!r.err && !json_is_object(rep)) {
        json_decref(rep);
        rep = NULL;
        fprintf(stderr, "veritee-agent: malformed reply from the broker\n");
    }
    return rep;
}

/* ok:true -> decode "data" into out and return 0; ok:false -> print the reason, return 1. */
static int reply_data(json_t *rep, struct vt_buf *out)
{
    if (json_is_true(json_object_get(rep, "ok"))) {
        if (vtp_json_bytes(json_object_get(rep, "data"), VTP_MAX_REPLY, out).err) {
            fprintf(stderr, "veritee-agent: malformed reply from the broker (data)\n");
            return 1;
        }
        return 0;
    }
    const json_t *e = json_object_get(rep, "error");
    const char *msg = json_string_value(json_object_get(e, "message"));
    const char *code = json_string_value(json_object_get(e, "code"));
    const char *rid = json_string_value(json_object_get(rep, "rid"));
    fprintf(stderr, "veritee-agent: refused by the broker: %s (%s, request %s)\n",
            msg ? msg : "no reason given", code ? code : "?", rid ? rid : "?");
    return 1;
}

/* ---- output ------------------------------------------------------------------------------ */

static int write_all(int fd, const uint8_t *p, size_t n)
{
    size_t off = 0;
    while (off < n) {
        ssize_t k = write(fd, p + off, n - off);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        off += (size_t)k;
    }
    return 0;
}

static void out_refuse(const char *out, const char *why, int code)
{
    fprintf(stderr, "veritee-agent: %s: %s: %s (%s)\n", out, why, vt_strerror(code),
            vt_errname(code));
}

/* The directory of -o FILE, opened: on a memory file system unless --allow-disk, and not
 * writable by group or others unless sticky (else another user could swap the file after we
 * wrote it). Returns the directory fd or -1 with a message printed. */
static int out_dir_open(const struct agent_opts *o, const char *dir)
{
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    struct statfs fs;
    struct stat st;
    if (dfd < 0 || fstatfs(dfd, &fs) != 0 || fstat(dfd, &st) != 0) {
        fprintf(stderr, "veritee-agent: %s: %s\n", o->out, strerror(errno));
        if (dfd >= 0)
            close(dfd);
        return -1;
    }
    if (!o->allow_disk && fs.f_type != TMPFS_MAGIC && fs.f_type != RAMFS_MAGIC) {
        fprintf(stderr, "veritee-agent: %s: %s (use /dev/shm or a tmpfs, or --allow-disk)\n",
                o->out, vt_strerror(VT_ERR_AGENT_NOT_MEMORY_FS));
        close(dfd);
        return -1;
    }
    if ((st.st_mode & (S_IWGRP | S_IWOTH)) && !(st.st_mode & S_ISVTX)) {
        out_refuse(o->out, "its directory is writable by group or others and not sticky",
                   VT_ERR_AGENT_OUTPUT_DIR_UNSAFE);
        close(dfd);
        return -1;
    }
    return dfd;
}

/* -o FILE may already exist only as a regular file of ours with a single link: never one
 * another user created (they could open it), a symbolic link or a hard link. 0 = fine. */
static int out_target_check(int dfd, const char *base, const char *out)
{
    struct stat st;
    if (fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) != 0) {
        if (errno == ENOENT)
            return 0;
        fprintf(stderr, "veritee-agent: %s: %s\n", out, strerror(errno));
        return 1;
    }
    char why[96];
    if (S_ISLNK(st.st_mode))
        snprintf(why, sizeof(why), "it is a symbolic link");
    else if (!S_ISREG(st.st_mode))
        snprintf(why, sizeof(why), "it is not a regular file");
    else if (st.st_uid != geteuid())
        snprintf(why, sizeof(why), "it is owned by uid %u, not by us (uid %u)",
                 (unsigned)st.st_uid, (unsigned)geteuid());
    else if (st.st_nlink != 1)
        snprintf(why, sizeof(why), "it has %ju hard links", (uintmax_t)st.st_nlink);
    else
        return 0;
    out_refuse(out, why, VT_ERR_AGENT_OUTPUT_UNSAFE);
    return 1;
}

/* A new file of ours, mode 0600, created exclusively under a random name in dfd: nobody else
 * can have it open. Returns the fd (name in tmp) or -1 with a message printed. */
static int out_tmp_create(int dfd, const char *out, char tmp[static 40])
{
    for (int tries = 0; tries < 16; tries++) {
        uint8_t rnd[8];
        char hex[2 * sizeof(rnd) + 1];
        if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
            break;
        vti_hex_encode(rnd, sizeof(rnd), hex);
        snprintf(tmp, 40, ".veritee-agent.%s", hex);
        int fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd >= 0 && fchmod(fd, 0600) == 0)
            return fd;
        if (fd >= 0) {
            close(fd);
            (void)unlinkat(dfd, tmp, 0);
            break;
        }
        if (errno != EEXIST)
            break;
    }
    fprintf(stderr, "veritee-agent: %s: cannot create a new file beside it: %s\n", out,
            strerror(errno));
    return -1;
}

/* Write the secret to a new private file, sync it, and rename it over the (checked) target. */
static int out_replace(int dfd, const char *base, const char *out, const struct vt_buf *data)
{
    if (out_target_check(dfd, base, out))
        return 1;
    char tmp[40];
    int fd = out_tmp_create(dfd, out, tmp);
    if (fd < 0)
        return 1;
    bool ok = write_all(fd, data->p, data->len) == 0 && fsync(fd) == 0;
    int saved = errno;
    close(fd);
    if (ok && out_target_check(dfd, base, out) != 0) { /* what appeared in the meantime */
        (void)unlinkat(dfd, tmp, 0);
        return 1;
    }
    if (ok && renameat(dfd, tmp, dfd, base) != 0) {
        saved = errno;
        ok = false;
    }
    if (!ok) {
        (void)unlinkat(dfd, tmp, 0);
        fprintf(stderr, "veritee-agent: %s: %s%s\n", out, strerror(saved),
                saved == EPERM ? " (another user's file is in the way in a sticky directory)"
                               : "");
        return 1;
    }
    (void)fsync(dfd);
    return 0;
}

static int write_secret(const struct agent_opts *o, const struct vt_buf *data)
{
    if (!o->out || strcmp(o->out, "-") == 0)
        return write_all(1, data->p, data->len) == 0 ? 0 : 1;
    char dir[4096], base[4096];
    snprintf(dir, sizeof(dir), "%s", o->out);
    snprintf(base, sizeof(base), "%s", o->out);
    int dfd = out_dir_open(o, dirname(dir));
    if (dfd < 0)
        return 1;
    int rc = out_replace(dfd, basename(base), o->out, data);
    close(dfd);
    return rc;
}

/* ---- commands ---------------------------------------------------------------------------- */

static int cmd_get_resource(int argc, char **argv)
{
    struct agent_opts o;
    parse_opts(argc, argv, &o);
    if (optind + 1 != argc)
        die_usage("get-resource wants exactly one PATH");
    const char *path = argv[optind];
    char norm[VTP_MAX_PATH + 1];
    if (vtp_path_normalize(path, norm).err)
        die_usage("PATH must be <repo>/<type>/<tag> with segments of [A-Za-z0-9._-]");
    if (o.kbs) {
        struct vta_kbs_opts ko = { .url = o.kbs, .tee = o.tee, .sim_dir = o.sim_dir,
                                   .ca = o.kbs_ca, .options = o.opts, .n_options = o.n_opts,
                                   .sim_gpus = o.sim_gpus };
        struct vt_buf data = VT_BUF_INIT;
        int rc = vta_kbs_get_resource(&ko, norm, &data);
        if (!rc)
            rc = write_secret(&o, &data);
        vti_buf_free(&data);
        return rc;
    }
    struct session s;
    int rc = session_open(&o, &s);
    if (!rc) {
        json_t *rep = roundtrip(&s, json_pack("{s:s,s:s,s:s}", "id", "1", "op", "get-resource",
                                              "path", norm));
        struct vt_buf data = VT_BUF_INIT;
        rc = rep ? reply_data(rep, &data) : 1;
        json_decref(rep);
        if (!rc)
            rc = write_secret(&o, &data);
        vti_buf_free(&data);
    }
    session_close(&s);
    return rc;
}

/* The keyunwrap request on stdin (proto/keyprovider.h: duplicate keys refused); 0 or 1. */
static int read_unwrap_request(struct vtp_kp_request *q)
{
    memset(q, 0, sizeof(*q));
    struct vt_buf in = VT_BUF_INIT;
    if (vti_file_read("-", VTP_KP_MAX_REQUEST, &in).err) {
        vti_buf_free(&in);
        fprintf(stderr, "veritee-agent keyprovider: cannot read the request on stdin\n");
        return 1;
    }
    char why[200];
    vt_res r = vtp_kp_parse(in.p, in.len, VTP_KP_KEYUNWRAP, NULL, q, why, sizeof(why));
    vti_buf_free(&in);
    if (r.err == VT_ERR_BROKER_UNKNOWN_OP)
        fprintf(stderr, "veritee-agent keyprovider: only op keyunwrap is served here (wrap "
                        "with 'veritee keyprovider' on the build side)\n");
    else if (r.err)
        fprintf(stderr, "veritee-agent keyprovider: %s\n", why);
    return r.err ? 1 : 0;
}

/* ocicrypt key-provider cmd protocol (proto/keyprovider.h): one JSON object on stdin, one on
 * stdout; keyunwrap asks the broker to unwrap the annotation after attestation. */
static int cmd_keyprovider(int argc, char **argv)
{
    struct agent_opts o;
    parse_opts(argc, argv, &o);
    if (optind != argc)
        die_usage("keyprovider takes no positional arguments");
    if (o.kbs)
        die_usage("keyprovider speaks to the broker over attested TLS (--broker), not --kbs");
    struct vtp_kp_request q;
    if (read_unwrap_request(&q))
        return 1;
    struct session s;
    int rc = session_open(&o, &s);
    if (!rc) {
        json_t *rep = roundtrip(&s, json_pack("{s:s,s:s,s:o}", "id", "1", "op", "unwrap",
                                              "annotation",
                                              vtp_json_b64(q.annotation.p, q.annotation.len)));
        struct vt_buf data = VT_BUF_INIT;
        rc = rep ? reply_data(rep, &data) : 1;
        json_decref(rep);
        char *txt = rc ? NULL : vtp_kp_reply_unwrap(data.p, data.len);
        if (!rc)
            rc = txt && fputs(txt, stdout) >= 0 && fflush(stdout) == 0 ? 0 : 1;
        if (txt) {
            vti_memzero(txt, strlen(txt));
            free(txt);
        }
        vti_buf_free(&data);
    }
    vtp_kp_free(&q);
    session_close(&s);
    return rc;
}

int main(int argc, char **argv)
{
    vt_log_set(NULL, NULL, VT_LOG_WARN);
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage();
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("veritee-agent %s (git %s)\n", VT_VERSION_STRING, VT_BUILD_REV);
        return 0;
    }
    if (strcmp(argv[1], "get-resource") == 0)
        return cmd_get_resource(argc - 1, argv + 1);
    if (strcmp(argv[1], "keyprovider") == 0)
        return cmd_keyprovider(argc - 1, argv + 1);
    fprintf(stderr, "veritee-agent: unknown command '%s' (get-resource, keyprovider)\n",
            argv[1]);
    return 2;
}
