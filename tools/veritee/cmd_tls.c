/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_tls.c - `veritee tls-server` (an attested TLS echo service) and `veritee tls-client`
 * (connects, verifies the server's evidence, prints its verified claims as JSON, sends stdin,
 * prints the replies). Both are thin users of the public vt_ctx / vt_conn API.
 *
 * Trust boundary: everything from the network is untrusted and judged by the library; this
 * file only reports decisions. Nothing secret is printed (claims are public by design).
 *
 * Exit status: 0 success, 1 peer refused or connection failed, 2 bad usage or unreadable input.
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "core/instance.h"
#include "proto/hostport.h"
#include "tool.h"
#include "tunnel.h"
#include "util/codec.h"

#define MAX_ROOTS 16
#define IO_BUF 16384

struct tls_opts {
    struct tool_attester a; /* --tee, --sim-dir, --option (instance options) */
    const char *addr;          /* --listen / --connect */
    bool mutual;
    const char *roots[MAX_ROOTS];
    size_t n_roots;
    const char *cert, *key;
    const char *ca_file;
    const char *peer_name; /* --peer-name; client default: HOST of --connect with --ca-file */
    char peer_host[256];   /* ... that HOST */
    enum vt_key_type key_type;
    const char *tls, *crypto;
    const char *collateral;
    int64_t at;
    const char *plugin_dir;
    bool allow_unattested;
    long max_conns;
    long max_parallel;
    long cert_lifetime;
    long timeout;
};

static void server_usage(FILE *f);
static void client_usage(FILE *f);

#define TLS_ARG(name, type, field) VT_ARG(name, 0, type, struct tls_opts, field)
/* The options both commands take. */
#define TLS_COMMON_ARGS                                                                   \
    VT_ARGS_ATTESTER(struct tls_opts, a),                                                 \
    VT_ARG_LIST("root-ca", VT_ARG_ROOT, struct tls_opts, roots, n_roots, MAX_ROOTS),      \
    TLS_ARG("cert", VT_ARG_STR, cert), TLS_ARG("key", VT_ARG_STR, key),                   \
    TLS_ARG("ca-file", VT_ARG_STR, ca_file), TLS_ARG("key-type", VT_ARG_KEY_TYPE, key_type), \
    TLS_ARG("tls", VT_ARG_STR, tls), TLS_ARG("crypto", VT_ARG_STR, crypto),               \
    TLS_ARG("collateral", VT_ARG_STR, collateral), TLS_ARG("at", VT_ARG_TIME, at),        \
    TLS_ARG("plugin-dir", VT_ARG_STR, plugin_dir),                                        \
    TLS_ARG("allow-unattested", VT_ARG_FLAG, allow_unattested),                           \
    { "timeout", 0, VT_ARG_LONG, offsetof(struct tls_opts, timeout), 0, 0, 86400,         \
      "--timeout: want seconds (0 = none)" }

static const struct vt_arg server_args[] = {
    TLS_COMMON_ARGS,
    TLS_ARG("listen", VT_ARG_STR, addr),
    TLS_ARG("mutual", VT_ARG_FLAG, mutual),
    { "max-conns", 0, VT_ARG_LONG, offsetof(struct tls_opts, max_conns), 0, 1, 1000000000L,
      "--max-conns: want a positive number" },
    { "max-parallel", 0, VT_ARG_LONG, offsetof(struct tls_opts, max_parallel), 0, 1, 4096,
      "--max-parallel: want 1..4096" },
    { "cert-lifetime", 0, VT_ARG_LONG, offsetof(struct tls_opts, cert_lifetime), 0, 0, 31536000,
      "--cert-lifetime: want seconds (0 = never)" },
};
static const struct vt_arg client_args[] = {
    TLS_COMMON_ARGS,
    TLS_ARG("connect", VT_ARG_STR, addr),
    TLS_ARG("peer-name", VT_ARG_STR, peer_name),
};
static const struct vt_cmd_spec server_spec = { "tls-server", server_usage, server_args,
                                                VT_ARRAY_LEN(server_args) };
static const struct vt_cmd_spec client_spec = { "tls-client", client_usage, client_args,
                                                VT_ARRAY_LEN(client_args) };

/* What both commands require once the options are parsed. 0 ok, else the exit status. */
static int check_common(int argc, char **argv, bool server, const struct tls_opts *o)
{
    if (optind != argc) {
        tool_err("unexpected argument '%s'", argv[optind]);
        return VT_EXIT_USAGE;
    }
    if (!o->addr) {
        tool_err("%s is required", server ? "--listen HOST:PORT" : "--connect HOST:PORT");
        return VT_EXIT_USAGE;
    }
    if ((o->cert != NULL) != (o->key != NULL)) {
        tool_err("--cert and --key go together");
        return VT_EXIT_USAGE;
    }
    if (o->cert && o->a.tee && strcmp(o->a.tee, "none") != 0) {
        tool_err("--cert/--key present an ordinary certificate: do not combine with --tee");
        return VT_EXIT_USAGE;
    }
    return 0;
}

static void fill_config(const struct tls_opts *o, enum vt_role role, struct vt_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->role = role;
    cfg->mutual = o->mutual;
    cfg->tls = o->tls;
    cfg->crypto = o->crypto;
    cfg->key_type = o->key_type;
    cfg->root_ca_files = o->roots;
    cfg->n_root_ca_files = o->n_roots;
    cfg->collateral = o->collateral;
    cfg->allow_unattested = o->allow_unattested;
    cfg->sim_dir = o->a.sim_dir;
    cfg->plugin_dir = o->plugin_dir;
    cfg->cert_file = o->cert;
    cfg->key_file = o->key;
    cfg->ca_file = o->ca_file;
    cfg->peer_name = o->peer_name;
    if (o->cert)
        cfg->attester = "none";
    else if (o->a.tee)
        cfg->attester = o->a.tee;
    else
        cfg->attester = role == VT_ROLE_CLIENT ? "none" : NULL; /* server: detect the TEE */
    cfg->verify_at = o->at;
    cfg->options = o->a.opts;
    cfg->n_options = o->a.n_opts;
}


static int ctx_error_exit(int err)
{
    vt_category cat = vt_err_category(err);
    return cat == VT_CAT_USAGE || cat == VT_CAT_IO || cat == VT_CAT_PARSE ? VT_EXIT_USAGE
                                                                          : VT_EXIT_REJECTED;
}

/* The report as one compact JSON line (free with free()). */
static char *report_line(const vt_report *rep)
{
    char *pretty = vt_report_to_json(rep, false);
    if (!pretty)
        return NULL;
    json_t *j = json_loads(pretty, 0, NULL);
    free(pretty);
    if (!j)
        return NULL;
    char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(j);
    return s;
}

/* --option: every name must be known (exit 2 naming it). The instances this run may use:
 * the named attester and every verifier (the peer's evidence picks one per connection). */
static bool check_instance_options(const char *cmd, const struct tls_opts *o)
{
    if (vti_registry_init(o->plugin_dir).err) {
        /* vt_ctx_new reports it */
    }
    const struct vt_instance_hdr *sel[64];
    size_t n = 0;
    if (o->a.tee && !o->cert && vti_instance_find(VT_KIND_ATTESTER, o->a.tee, &sel[0]).err == 0)
        n = 1;
    n += vti_instance_list(VT_KIND_VERIFIER, sel + n, VT_ARRAY_LEN(sel) - n);
    return tool_check_options(cmd, o->a.opts, o->a.n_opts, sel, n);
}

/* Checks that depend on the role (after the common ones). 0 ok, else the exit status. */
static int check_role(bool server, struct tls_opts *o)
{
    if (server && o->allow_unattested && !o->mutual) {
        tool_err("--allow-unattested applies to client certificates: use it with --mutual");
        return VT_EXIT_USAGE;
    }
    if (server)
        return 0;
    if (o->ca_file && !o->allow_unattested) {
        tool_err("--ca-file applies to servers without evidence: use it with --allow-unattested");
        return VT_EXIT_USAGE;
    }
    if (o->peer_name && !o->ca_file) {
        tool_err("--peer-name names a CA-issued server certificate: use it with --ca-file");
        return VT_EXIT_USAGE;
    }
    if (o->ca_file && !o->peer_name) {
        /* The certificate must be for the host we connect to (as any TLS client checks). */
        struct vtp_hostport hp;
        vt_res hr = vtp_hostport_parse(o->addr, &hp);
        if (hr.err || !hp.host[0] || strlen(hp.host) >= sizeof(o->peer_host)) {
            tool_err("--connect: want HOST:PORT, got '%s' (%s)", o->addr,
                        vt_strerror(hr.err ? hr.err : VT_ERR_PROTO_ADDR));
            return VT_EXIT_USAGE;
        }
        snprintf(o->peer_host, sizeof(o->peer_host), "%s", hp.host);
        o->peer_name = o->peer_host;
    }
    return 0;
}

/* Both commands up to a ready context: --help, options, checks, vt_ctx_new. Returns
 * VT_TOOL_PARSED with *ctx set, or the exit status. */
static int tls_setup(int argc, char **argv, bool server, struct tls_opts *o, vt_ctx **ctx)
{
    const struct vt_cmd_spec *spec = server ? &server_spec : &client_spec;
    if (tool_wants_help(argc, argv)) {
        spec->usage(stdout);
        return VT_EXIT_OK;
    }
    memset(o, 0, sizeof(*o));
    o->max_parallel = 64;
    o->timeout = 30;
    int rc = tool_parse(spec, argc, argv, o);
    if (rc != VT_TOOL_PARSED)
        return rc;
    if ((rc = check_common(argc, argv, server, o)) != 0 || (rc = check_role(server, o)) != 0)
        return rc;
    if (!check_instance_options(spec->cmd, o))
        return VT_EXIT_USAGE;
    signal(SIGPIPE, SIG_IGN);
    struct vt_config cfg;
    fill_config(o, server ? VT_ROLE_SERVER : VT_ROLE_CLIENT, &cfg);
    bool attests = !o->cert && (!cfg.attester || strcmp(cfg.attester, "none") != 0);
    if (!attests)
        o->cert_lifetime = 0;
    int err = tun_ctx_new(&cfg, o->cert_lifetime > 0, ctx);
    if (err) {
        tool_err("cannot set up the attested TLS %s: %s (%s)", server ? "server" : "client",
                    vt_strerror(err), vt_errname(err));
        return ctx_error_exit(err);
    }
    return VT_TOOL_PARSED;
}

/* ---- server ------------------------------------------------------------------------------------ */

static void server_usage(FILE *f)
{
    fprintf(f,
        "usage: veritee tls-server --listen HOST:PORT [--tee NAME] [--sim-dir DIR]\n"
        "                          [--mutual --root-ca F...] [--cert F --key F]\n"
        "                          [--key-type p256|p384|rsa3072] [--tls NAME] [--crypto NAME]\n"
        "                          [--collateral F|DIR] [--at TIME] [--allow-unattested]\n"
        "                          [--ca-file F] [--max-conns N] [--max-parallel N]\n"
        "                          [--timeout SECS] [--cert-lifetime SECS] [--plugin-dir DIR]\n"
        "                          [--option N=V]...\n\n"
        "An attested TLS 1.3 echo service: its certificate carries evidence from the TEE\n"
        "(made once at start-up and reused for every connection); each connection is echoed\n"
        "back until the client closes. Many connections are served at once (one thread each,\n"
        "at most --max-parallel, default 64).\n\n"
        "Prints \"listening on HOST:PORT\" to stderr once ready (port 0 picks a free port and\n"
        "prints the real one), then one line per connection: the client's verified report\n"
        "as compact JSON when --mutual, or the precise reason the client was refused.\n\n"
        "  --tee NAME          attester: sgx, tdx, snp, sim, ...; default: the detected TEE\n"
        "                      (sim is never detected: name it); 'none' = ordinary certificate\n"
        "  --sim-dir DIR       the sim TEE's PKI (from 'veritee sim init DIR'); or $VERITEE_SIM_DIR\n"
        "  --mutual            require and verify the client's evidence\n"
        "  --root-ca F         extra trust anchor for client evidence, PEM (repeatable),\n"
        "                      e.g. DIR/root-ca.pem for sim clients\n"
        "  --cert F --key F    present this certificate and key (PEM) instead of attesting\n"
        "  --key-type T        key for the attested certificate (default p256)\n"
        "  --tls NAME          TLS backend (default: highest priority, see 'veritee instances')\n"
        "  --crypto NAME       crypto backend\n"
        "  --collateral P      endorsements for client evidence (file or directory)\n"
        "  --at TIME           verification time for client evidence (RFC 3339 / Unix seconds)\n"
        "  --allow-unattested  with --mutual: accept clients without evidence\n"
        "  --ca-file F         ... whose certificate then must chain to this CA (PEM)\n"
        "  --max-conns N       exit after N connections (exit 1 if any of them failed)\n"
        "  --timeout SECS      per-connection socket timeout (default 30, 0 = none)\n"
        "  --cert-lifetime SECS  a new certificate with fresh evidence for the first connection\n"
        "                      after SECS (default 0 = never); its claims then carry iat (the\n"
        "                      time made) for a peer's --max-evidence-age (veritee tunnel)\n"
        "  --option N=V        instance option, repeatable: attester options (sim.measurement=HEX,\n"
        "                      sim.debug=1, tdx.tsm_dir=DIR, ...) and verifier options\n"
        "                      (intel.pccs_url=URL, intel.cache_dir=DIR, snp.kds_url=URL, ...);\n"
        "                      a name no instance reads is refused (see 'veritee instances')\n"
        "\n"
        "exit status: 0 ok, 1 a connection failed (with --max-conns) or start-up failed,\n"
        "2 bad usage or unreadable input\n");
}

struct server {
    struct gen *cur; /* new connections use this certificate */
    const struct tls_opts *o;
    bool mutual;
    long timeout;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    long failures;
    /* Connection threads are joinable (joined before exit, so no thread is still running
     * while the process tears down the TLS library): one slot per possible thread. */
    struct slot {
        pthread_t t;
        bool used; /* a thread was started in this slot and not joined yet */
        bool done; /* ... and it has finished */
    } *slots;
    long nslots;
};

/* One certificate generation (--cert-lifetime): connections hold the one they started with. */
struct gen {
    vt_ctx *ctx;
    long refs;
    time_t made;
};

struct job {
    struct server *srv;
    struct gen *gen;
    long slot;
    int fd;
    long id;
    char peer[160];
};

static void log_line(struct server *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void log_line(struct server *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    pthread_mutex_lock(&s->lock);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    fflush(stderr);
    pthread_mutex_unlock(&s->lock);
    va_end(ap);
}

static bool serve_one(struct job *j)
{
    struct server *s = j->srv;
    vt_conn *c = NULL;
    bool ok = false;
    int err = vt_conn_new(j->gen->ctx, j->fd, &c);
    if (err) {
        log_line(s, "conn %ld from %s: failed: %s", j->id, j->peer, vt_strerror(err));
        return false;
    }
    err = vt_conn_handshake(c);
    if (err) {
        log_line(s, "conn %ld from %s: handshake failed: %s (%s)", j->id, j->peer, vt_conn_error_detail(c),
                 vt_errname(err));
        goto out;
    }
    const vt_report *rep = vt_conn_peer_report(c);
    if (rep) {
        char *line = report_line(rep);
        log_line(s, "conn %ld from %s: ok, client verified: %s", j->id, j->peer,
                 line ? line : "(report unavailable)");
        free(line);
    } else {
        log_line(s, "conn %ld from %s: ok, client %s", j->id, j->peer,
                 s->mutual ? "unattested (allowed)" : "not verified (not --mutual)");
    }
    uint8_t buf[IO_BUF];
    size_t total = 0;
    for (;;) {
        size_t got = 0;
        err = vt_conn_read(c, buf, sizeof(buf), &got);
        if (err || got == 0)
            break;
        err = vt_conn_write(c, buf, got);
        if (err)
            break;
        total += got;
    }
    if (err) {
        log_line(s, "conn %ld from %s: ended after %zu bytes: %s (%s)", j->id, j->peer, total,
                 vt_conn_error_detail(c), vt_errname(err));
        goto out;
    }
    (void)vt_conn_shutdown(c);
    ok = true;
out:
    vt_conn_free(c);
    return ok;
}

static void *conn_thread(void *arg)
{
    struct job *j = arg;
    struct server *s = j->srv;
    bool ok = serve_one(j);
    close(j->fd);
    long slot = j->slot;
    struct gen *g = j->gen;
    free(j);
    pthread_mutex_lock(&s->lock);
    if (--g->refs == 0 && g != s->cur) {
        vt_ctx_free(g->ctx);
        free(g);
    }
    if (!ok)
        s->failures++;
    s->slots[slot].done = true;
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

/* Join finished connection threads. With want_free: until a slot is free; with all: until
 * every thread has been joined. Returns a free slot index (or -1 with all). */
static long reap(struct server *s, bool all)
{
    for (;;) {
        long join = -1, free_slot = -1;
        bool busy = false;
        pthread_mutex_lock(&s->lock);
        for (;;) {
            busy = false;
            for (long i = 0; i < s->nslots; i++) {
                if (s->slots[i].used && s->slots[i].done && join < 0)
                    join = i;
                else if (!s->slots[i].used && free_slot < 0)
                    free_slot = i;
                if (s->slots[i].used && !s->slots[i].done)
                    busy = true;
            }
            if (join >= 0 || (!all && free_slot >= 0) || (all && !busy))
                break;
            pthread_cond_wait(&s->cond, &s->lock);
        }
        pthread_t t = join >= 0 ? s->slots[join].t : (pthread_t)0;
        pthread_mutex_unlock(&s->lock);
        if (join < 0)
            return all ? -1 : free_slot;
        pthread_join(t, NULL);
        pthread_mutex_lock(&s->lock);
        s->slots[join].used = false;
        s->slots[join].done = false;
        pthread_mutex_unlock(&s->lock);
        if (!all)
            return join;
    }
}

/* A listening (server) or connected socket on addr; -2 for a bad address (usage) or -1, with
 * the message printed. */
static int open_addr(bool server, const char *addr, long timeout, char *shown, size_t shownlen)
{
    const char *flag = server ? "--listen" : "--connect";
    char why[160] = "";
    int fd = -1;
    vt_res r = server ? vtp_tcp_listen(addr, &fd, shown, shownlen, why, sizeof(why))
                      : vtp_tcp_connect(addr, timeout, &fd, why, sizeof(why));
    if (!r.err)
        return fd;
    if (r.err == VT_ERR_PROTO_RESOLVE)
        tool_err("%s %s: %s", flag, addr, why);
    else if (r.err == VT_ERR_PROTO_LISTEN || r.err == VT_ERR_PROTO_CONNECT)
        tool_err("cannot %s %s: %s", server ? "listen on" : "connect to", addr, why);
    else
        tool_err("%s: want HOST:PORT, got '%s' (%s)", flag, addr, vt_strerror(r.err));
    return r.err == VT_ERR_PROTO_LISTEN || r.err == VT_ERR_PROTO_CONNECT ? -1 : -2;
}

/* The certificate for a new connection: first renewed when --cert-lifetime has passed (in the
 * accepting thread, so that connection waits for the fresh evidence). A failed renewal keeps
 * the previous certificate and is tried again at the next connection. */
static struct gen *take_gen(struct server *s)
{
    const struct tls_opts *o = s->o;
    time_t now = time(NULL);
    struct gen *fresh = NULL;
    if (o->cert_lifetime > 0 && now - s->cur->made >= o->cert_lifetime) {
        struct vt_config cfg;
        fill_config(o, VT_ROLE_SERVER, &cfg);
        fresh = calloc(1, sizeof(*fresh));
        int err = fresh ? tun_ctx_new(&cfg, true, &fresh->ctx) : VT_ERR_NOMEM;
        if (err) {
            log_line(s, "certificate renewal failed: %s (%s); keeping the previous one",
                     vt_strerror(err), vt_errname(err));
            free(fresh);
            fresh = NULL;
        } else {
            fresh->made = now;
        }
    }
    pthread_mutex_lock(&s->lock);
    if (fresh) {
        struct gen *old = s->cur;
        s->cur = fresh;
        if (old->refs == 0) {
            vt_ctx_free(old->ctx);
            free(old);
        }
    }
    struct gen *g = s->cur;
    g->refs++;
    pthread_mutex_unlock(&s->lock);
    if (fresh)
        log_line(s, "new certificate (--cert-lifetime %ld s)", o->cert_lifetime);
    return g;
}

/* Accept connections (one thread each, at most max_parallel at once) until max_conns. */
static void serve(struct server *s, int lfd, const struct tls_opts *o)
{
    long n = 0;
    while (o->max_conns == 0 || n < o->max_conns) {
        long slot = reap(s, false); /* waits while max_parallel connections are running */
        struct sockaddr_storage ss;
        socklen_t sl = sizeof(ss);
        int fd = accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED || errno == EMFILE || errno == ENFILE)
                continue;
            tool_err("accept: %s", strerror(errno));
            break;
        }
        struct job *j = calloc(1, sizeof(*j));
        if (!j) {
            close(fd);
            continue;
        }
        *j = (struct job){ .srv = s, .gen = take_gen(s), .slot = slot, .fd = fd, .id = ++n };
        char h[128] = "?", p[16] = "?";
        (void)getnameinfo((struct sockaddr *)&ss, sl, h, sizeof(h), p, sizeof(p),
                          NI_NUMERICHOST | NI_NUMERICSERV);
        snprintf(j->peer, sizeof(j->peer), "%s:%s", h, p);
        vtp_sock_timeouts(fd, o->timeout);
        pthread_mutex_lock(&s->lock);
        s->slots[slot].used = true;
        s->slots[slot].done = false;
        int cr = pthread_create(&s->slots[slot].t, NULL, conn_thread, j);
        if (cr != 0) {
            s->slots[slot].used = false;
            s->failures++;
        }
        pthread_mutex_unlock(&s->lock);
        if (cr != 0) {
            tool_err("cannot start a thread for connection %ld", j->id);
            pthread_mutex_lock(&s->lock);
            j->gen->refs--; /* s->cur: freed at exit */
            pthread_mutex_unlock(&s->lock);
            close(fd);
            free(j);
        }
    }
}

int cmd_tls_server(int argc, char **argv)
{
    struct tls_opts o;
    struct server s = { 0 };
    vt_ctx *ctx = NULL;
    int rc = tls_setup(argc, argv, true, &o, &ctx);
    if (rc != VT_TOOL_PARSED)
        return rc;
    s.o = &o;
    s.cur = calloc(1, sizeof(*s.cur));
    if (!s.cur) {
        tool_err("out of memory");
        vt_ctx_free(ctx);
        return VT_EXIT_REJECTED;
    }
    *s.cur = (struct gen){ .ctx = ctx, .made = time(NULL) };
    s.mutual = o.mutual;
    s.timeout = o.timeout;
    char shown[160];
    int lfd = open_addr(true, o.addr, 0, shown, sizeof(shown));
    if (lfd < 0) {
        vt_ctx_free(s.cur->ctx);
        free(s.cur);
        return lfd == -2 ? VT_EXIT_USAGE : VT_EXIT_REJECTED;
    }
    pthread_mutex_init(&s.lock, NULL);
    pthread_cond_init(&s.cond, NULL);
    fprintf(stderr, "listening on %s\n", shown);
    fflush(stderr);
    s.nslots = o.max_parallel;
    s.slots = calloc((size_t)s.nslots, sizeof(*s.slots));
    if (!s.slots) {
        tool_err("out of memory");
        rc = VT_EXIT_REJECTED;
    } else {
        serve(&s, lfd, &o);
        (void)reap(&s, true);
        rc = s.failures ? VT_EXIT_REJECTED : VT_EXIT_OK;
    }
    close(lfd);
    free(s.slots);
    vt_ctx_free(s.cur->ctx); /* every connection has ended: older generations are freed */
    free(s.cur);
    pthread_cond_destroy(&s.cond);
    pthread_mutex_destroy(&s.lock);
    return rc;
}


/* ---- client ------------------------------------------------------------------------------------ */

static void client_usage(FILE *f)
{
    fprintf(f,
        "usage: veritee tls-client --connect HOST:PORT [--root-ca F]... [--tee NAME]\n"
        "                          [--sim-dir DIR] [--collateral F|DIR] [--at TIME]\n"
        "                          [--allow-unattested [--ca-file F [--peer-name NAME]]]\n"
        "                          [--cert F --key F]\n"
        "                          [--key-type p256|p384|rsa3072] [--tls NAME] [--crypto NAME]\n"
        "                          [--timeout SECS] [--plugin-dir DIR] [--option N=V]...\n\n"
        "Connects with TLS 1.3, verifies the server's evidence (chain to the vendor root or a\n"
        "--root-ca, binding to the certificate key) and prints the server's verified report\n"
        "as one JSON object on stdout. Then sends stdin to the server until end of file,\n"
        "half-closes (close_notify) and prints what the server sends until it closes.\n"
        "A server without evidence is refused unless --allow-unattested; it is then printed\n"
        "as {\"attested\": false}.\n\n"
        "  --root-ca F         extra trust anchor, PEM (repeatable); sim evidence is trusted\n"
        "                      only with its root, e.g. DIR/root-ca.pem\n"
        "  --tee NAME          attest this client too (for --mutual servers): sim, tdx, ...\n"
        "  --sim-dir DIR       the sim TEE's PKI (with --tee sim); or $VERITEE_SIM_DIR\n"
        "  --collateral P      endorsements for the server's evidence (file or directory)\n"
        "  --at TIME           verification time (RFC 3339 or Unix seconds; default now)\n"
        "  --allow-unattested  accept a server certificate without evidence\n"
        "  --ca-file F         ... which then must chain to this CA (PEM) and be issued for\n"
        "                      the HOST of --connect (subjectAltName DNS name or IP address)\n"
        "  --peer-name NAME    with --ca-file: expect this DNS name or IP address instead\n"
        "  --cert F --key F    present this ordinary client certificate\n"
        "  --timeout SECS      socket timeout (default 30, 0 = none)\n"
        "  --option N=V        instance option, repeatable: attester options (sim.measurement=HEX,\n"
        "                      sim.debug=1, tdx.tsm_dir=DIR, ...) and verifier options\n"
        "                      (intel.pccs_url=URL, intel.cache_dir=DIR, snp.kds_url=URL, ...);\n"
        "                      a name no instance reads is refused (see 'veritee instances')\n"
        "\n"
        "exit status: 0 ok, 1 server refused (reason on stderr) or connection failed,\n"
        "2 bad usage or unreadable input\n");
}

static bool write_all(int fd, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        p += w;
        n -= (size_t)w;
    }
    return true;
}


/* The server's verified report (or {"attested": false}) as JSON on stdout. */
static bool print_peer(const vt_conn *c)
{
    const vt_report *rep = vt_conn_peer_report(c);
    if (rep) {
        char *js = vt_report_to_json(rep, false);
        if (!js) {
            tool_err("out of memory");
            return false;
        }
        printf("%s\n", js);
        free(js);
    } else {
        printf("{\"attested\": false}\n");
    }
    fflush(stdout);
    return true;
}

/* stdin to the server until end of file, then close_notify. 0 ok, 1 connection error (in
 * *err), -1 a local failure (said). */
static int send_stdin(vt_conn *c, int *err)
{
    uint8_t buf[IO_BUF];
    for (;;) {
        ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            tool_err("reading stdin: %s", strerror(errno));
            return -1;
        }
        if (n == 0)
            break;
        if ((*err = vt_conn_write(c, buf, (size_t)n)) != 0)
            return 1;
    }
    return (*err = vt_conn_shutdown(c)) != 0 ? 1 : 0;
}

/* What the server sends, to stdout, until it closes. Same results as send_stdin. */
static int print_replies(vt_conn *c, int *err)
{
    uint8_t buf[IO_BUF];
    for (;;) {
        size_t got = 0;
        *err = vt_conn_read(c, buf, sizeof(buf), &got);
        if (*err == VT_ERR_CLOSED)
            return 0; /* the server closed without close_notify: everything it sent is printed */
        if (*err)
            return 1;
        if (got == 0)
            return 0;
        if (!write_all(STDOUT_FILENO, buf, got)) {
            tool_err("writing stdout: %s", strerror(errno));
            return -1;
        }
    }
}

/* One connection: handshake, the server's report, stdin out, replies in. */
static int client_session(vt_ctx *ctx, int fd, const struct tls_opts *o)
{
    vt_conn *c = NULL;
    int err = vt_conn_new(ctx, fd, &c);
    if (err) {
        tool_err("%s", vt_strerror(err));
        return VT_EXIT_REJECTED;
    }
    int rc = VT_EXIT_REJECTED, st = -1;
    err = vt_conn_handshake(c);
    if (err)
        tool_err("server %s: %s (%s)", o->addr, vt_conn_error_detail(c), vt_errname(err));
    else if (print_peer(c) && (st = send_stdin(c, &err)) == 0 && (st = print_replies(c, &err)) == 0)
        rc = VT_EXIT_OK;
    if (st == 1)
        tool_err("connection to %s failed after the handshake: %s (%s)%s", o->addr,
                    vt_conn_error_detail(c), vt_errname(err),
                    strstr(vt_conn_error_detail(c), "alert") || err == VT_ERR_CLOSED
                        ? "; the server may have refused this client"
                        : "");
    vt_conn_free(c);
    return rc;
}

int cmd_tls_client(int argc, char **argv)
{
    struct tls_opts o;
    vt_ctx *ctx = NULL;
    int rc = tls_setup(argc, argv, false, &o, &ctx);
    if (rc != VT_TOOL_PARSED)
        return rc;
    int fd = open_addr(false, o.addr, o.timeout, NULL, 0);
    if (fd < 0) {
        vt_ctx_free(ctx);
        return fd == -2 ? VT_EXIT_USAGE : VT_EXIT_REJECTED;
    }
    rc = client_session(ctx, fd, &o);
    close(fd);
    vt_ctx_free(ctx);
    return rc;
}
