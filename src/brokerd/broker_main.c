/* SPDX-License-Identifier: Apache-2.0 */
/*
 * broker_main.c - veritee-broker: the key broker daemon's entry point.
 *
 * Start-up: config file (--config) then flags; master key (file with no group/other access,
 * or $CREDENTIALS_DIRECTORY/master-key); key store; policy + reference values snapshot;
 * attested-TLS context (ordinary certificate, or the broker's own evidence); listening
 * sockets; then READY=1 to systemd. Signals arrive through a signalfd (no handler code):
 * SIGTERM/SIGINT stop accepting, let connections in flight finish (bounded by --timeout),
 * send STOPPING=1, wipe the master key and close the store. SIGHUP reloads policy
 * and reference values. Core dumps are disabled (the process holds the master key).
 * Logs go to stderr, one line per decision with a request id.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>
#ifdef VT_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif
#include <openssl/rand.h>

#include "brokerd/daemon.h"
#include "broker/redact.h"
#include "kbs/kbs.h"
#include "util/secmem.h"
#include "vt_buildinfo.h"

static void notify(const char *state)
{
#ifdef VT_HAVE_SYSTEMD
    (void)sd_notify(0, state);
#else
    (void)state; /* without libsystemd: no readiness protocol */
#endif
}

/* ---- command line ------------------------------------------------------------------- */

static void usage(FILE *f)
{
    fprintf(f,
        "usage: veritee-broker [--config F] [--listen HOST:PORT] [--store PATH]\n"
        "                      [--master-key F] [--admin-socket PATH] [--allow-sim]\n"
        "                      [--root-ca F]... [--cert F --key F | --tee NAME [--sim-dir DIR]]\n"
        "                      [--collateral P] [--max-connections N] [--timeout SECS]\n"
        "                      [--max-connections-per-address N]\n"
        "                      [--kbs-listen HOST:PORT [--kbs-cert F --kbs-key F]\n"
        "                       [--token-lifetime SECS] [--kbs-session-lifetime SECS]\n"
        "                       [--kbs-max-connections N] [--kbs-max-connections-per-address N]\n"
        "                       [--kbs-request-timeout SECS] [--kbs-max-sessions-per-address N]]\n"
        "       veritee-broker --gen-master-key F\n"
        "       veritee-broker --store PATH --master-key OLD --rekey NEW   (broker stopped)\n\n"
        "The Veritee key broker: agents attest over attested TLS and receive the secrets the\n"
        "policy allows for their workload (see docs/broker.md). Flags override the config file.\n\n"
        "  --config F           settings file (name = value; see examples/broker.conf)\n"
        "  --listen HOST:PORT   address for agents (port 0 picks one; the log says which)\n"
        "  --store PATH         SQLite key store (created if missing, mode 0600), or\n"
        "                       postgresql://USER@HOST:PORT/DB (shared by several brokers)\n"
        "  --store-file F       the --store value read from file F (one line, no group/other\n"
        "                       access; keeps a password out of ps); default, with no\n"
        "                       store set: $CREDENTIALS_DIRECTORY/store-url (systemd)\n"
        "  --master-key F       32-byte master key (raw or hex), no group/other access;\n"
        "                       default $CREDENTIALS_DIRECTORY/master-key (systemd)\n"
        "  --admin-socket PATH  local admin socket for 'veritee admin' (root or our uid only)\n"
        "  --allow-sim          accept sim (INSECURE) evidence; every release is marked insecure\n"
        "  --root-ca F          extra trust anchor for agent evidence (repeatable)\n"
        "  --cert F --key F     the broker's ordinary certificate and key (PEM)\n"
        "  --tee NAME           or: attest the broker itself with this TEE\n"
        "  --sim-dir DIR        sim TEE directory (with --tee sim)\n"
        "  --collateral P       endorsements for agent evidence (file or directory)\n"
        "  --max-connections N  concurrent agent connections (default 256)\n"
        "  --max-connections-per-address N  concurrent agent connections from one source\n"
        "                       address, an IPv6 one counted by its /64 (default 8; loopback\n"
        "                       too); more are closed at once. Raise it when many agents\n"
        "                       share an address (NAT)\n"
        "  --timeout SECS       seconds an agent has for the TLS handshake, and then for each\n"
        "                       request (waiting for it, reading it, the reply); a connection\n"
        "                       still at it then is dropped (default 30)\n"
        "  --kbs-listen H:P     also serve the CoCo KBS protocol v0.4.0 there (docs/kbs.md)\n"
        "  --kbs-cert F --kbs-key F  HTTPS certificate and key for it (else plain HTTP)\n"
        "  --token-lifetime S   KBS EAR token lifetime in seconds (default 300)\n"
        "  --kbs-session-lifetime S  KBS auth session lifetime in seconds (default 300)\n"
        "  --kbs-max-connections N  KBS HTTP connections in all (default 512; at most what\n"
        "                       the open-file limit leaves after the agent connections)\n"
        "  --kbs-max-connections-per-address N  ... from one client address (default 16)\n"
        "  --kbs-request-timeout S  absolute deadline for a KBS request (TLS handshake,\n"
        "                       headers, body) from connect or the previous answer (default 10)\n"
        "  --kbs-max-sessions-per-address N  unexpired KBS auth sessions one client address\n"
        "                       may hold; POST /kbs/v0/auth past it is 429 (default 64)\n"
        "  --version            print the version and the git revision, then exit\n"
        "  --gen-master-key F   create a new random master key file (mode 0600) and exit\n"
        "  --rekey NEW          re-encrypt every stored secret under the master key in file\n"
        "                       NEW (one transaction), then exit; then install NEW as the\n"
        "                       master key. Run it with the broker stopped.\n");
}

static const struct option long_opts[] = {
    { "config", required_argument, NULL, 'c' },
    { "listen", required_argument, NULL, 1 },
    { "store", required_argument, NULL, 1 },
    { "store-file", required_argument, NULL, 1 },
    { "master-key", required_argument, NULL, 1 },
    { "admin-socket", required_argument, NULL, 1 },
    { "allow-sim", no_argument, NULL, 2 },
    { "root-ca", required_argument, NULL, 1 },
    { "cert", required_argument, NULL, 1 },
    { "key", required_argument, NULL, 1 },
    { "tee", required_argument, NULL, 1 },
    { "sim-dir", required_argument, NULL, 1 },
    { "collateral", required_argument, NULL, 1 },
    { "max-connections", required_argument, NULL, 1 },
    { "max-connections-per-address", required_argument, NULL, 1 },
    { "timeout", required_argument, NULL, 1 },
    { "kbs-listen", required_argument, NULL, 1 },
    { "kbs-cert", required_argument, NULL, 1 },
    { "kbs-key", required_argument, NULL, 1 },
    { "token-lifetime", required_argument, NULL, 1 },
    { "kbs-session-lifetime", required_argument, NULL, 1 },
    { "kbs-max-connections", required_argument, NULL, 1 },
    { "kbs-max-connections-per-address", required_argument, NULL, 1 },
    { "kbs-request-timeout", required_argument, NULL, 1 },
    { "kbs-max-sessions-per-address", required_argument, NULL, 1 },
    { "gen-master-key", required_argument, NULL, 'g' },
    { "rekey", required_argument, NULL, 'r' },
    { "help", no_argument, NULL, 'h' },
    { "version", no_argument, NULL, 'V' },
    { NULL, 0, NULL, 0 },
};

static const char *rekey_file; /* --rekey NEW: offline master key rotation */

static int parse_args(int argc, char **argv, struct vtb_config *cfg)
{
    /* pass 1: the config file, so that flags override it */
    opterr = 0;
    int ch, idx;
    while ((ch = getopt_long(argc, argv, "", long_opts, &idx)) != -1) {
        if (ch == 'h') {
            usage(stdout);
            exit(0);
        }
        if (ch == 'V') {
            printf("veritee-broker %s (git %s)\n", VT_VERSION_STRING, VT_BUILD_REV);
            exit(0);
        }
        if (ch == 'g') {
            vt_res r = vtb_master_key_generate(optarg);
            if (r.err) {
                fprintf(stderr, "veritee-broker: %s: %s\n", optarg, vt_strerror(r.err));
                exit(1);
            }
            fprintf(stderr, "veritee-broker: master key written to %s (mode 0600)\n", optarg);
            exit(0);
        }
        if (ch == '?') {
            fprintf(stderr, "veritee-broker: unknown option '%s' (see --help)\n",
                    argv[optind - 1]);
            return 2;
        }
        if (ch == 'c') {
            char why[512];
            if (vtb_config_load(optarg, cfg, why, sizeof(why)).err) {
                fprintf(stderr, "veritee-broker: %s\n", why);
                return 2;
            }
        }
    }
    optind = 1;
    while ((ch = getopt_long(argc, argv, "", long_opts, &idx)) != -1) {
        if (ch == 1 && vtb_config_set(cfg, long_opts[idx].name, optarg).err) {
            fprintf(stderr, "veritee-broker: bad value for --%s\n", long_opts[idx].name);
            return 2;
        }
        if (ch == 2)
            cfg->allow_sim = true;
        if (ch == 'r')
            rekey_file = optarg;
    }
    if (optind != argc) {
        fprintf(stderr, "veritee-broker: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if (vtb_config_store_default(cfg).err) { /* $CREDENTIALS_DIRECTORY/store-url */
        fprintf(stderr, "veritee-broker: bad $CREDENTIALS_DIRECTORY/store-url\n");
        return 2;
    }
    if (rekey_file) {
        if (!cfg->store) {
            fprintf(stderr, "veritee-broker: --rekey needs --store (or a --config with it)\n");
            return 2;
        }
        return 0;
    }
    if (!cfg->listen || !cfg->store) {
        fprintf(stderr, "veritee-broker: --listen and --store are required (or in --config)\n");
        return 2;
    }
    if ((cfg->cert != NULL) != (cfg->key != NULL)) {
        fprintf(stderr, "veritee-broker: --cert and --key go together\n");
        return 2;
    }
    if ((cfg->kbs_cert != NULL) != (cfg->kbs_key != NULL) ||
        (cfg->kbs_cert && !cfg->kbs_listen)) {
        fprintf(stderr, "veritee-broker: --kbs-cert and --kbs-key go together, with --kbs-listen\n");
        return 2;
    }
    if (!cfg->cert && !cfg->tee) {
        fprintf(stderr, "veritee-broker: the broker needs an identity: --cert/--key or --tee\n");
        return 2;
    }
    if (!cfg->max_conns)
        cfg->max_conns = 256;
    if (!cfg->max_per_addr)
        cfg->max_per_addr = 8;
    if (!cfg->timeout)
        cfg->timeout = 30;
    return 0;
}

/* ---- sockets ----------------------------------------------------------------------------- */

static int listen_tcp(const char *addr, char *shown, size_t shown_len)
{
    char host[256], port[32];
    const char *colon = strrchr(addr, ':');
    if (!colon || !colon[1] || (size_t)(colon - addr) >= sizeof(host) || strlen(colon + 1) >= sizeof(port))
        return -1;
    size_t hl = (size_t)(colon - addr);
    const char *h = addr;
    if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') {
        h++;
        hl -= 2;
    }
    memcpy(host, h, hl);
    host[hl] = 0;
    snprintf(port, sizeof(port), "%s", colon + 1);
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                              .ai_flags = AI_PASSIVE }, *ai = NULL;
    if (getaddrinfo(hl ? host : NULL, port, &hints, &ai) != 0)
        return -1;
    int fd = -1;
    for (struct addrinfo *p = ai; p; p = p->ai_next) {
        fd = socket(p->ai_family, p->ai_socktype | SOCK_CLOEXEC, p->ai_protocol);
        if (fd < 0)
            continue;
        int one = 1;
        (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(fd, p->ai_addr, p->ai_addrlen) == 0 && listen(fd, 128) == 0)
            break;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(ai);
    if (fd < 0)
        return -1;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    char hs[128] = "?", ps[16] = "?";
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
        (void)getnameinfo((struct sockaddr *)&ss, sl, hs, sizeof(hs), ps, sizeof(ps),
                          NI_NUMERICHOST | NI_NUMERICSERV);
    snprintf(shown, shown_len, "%s:%s", hs, ps);
    return fd;
}

static int listen_unix(const char *path)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof(sa.sun_path))
        return -1;
    memcpy(sa.sun_path, path, strlen(path) + 1);
    struct stat st;
    if (lstat(path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode))
            return -1; /* never remove something that is not a stale socket */
        unlink(path);
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    mode_t old = umask(077);
    int ok = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
    umask(old);
    if (!ok || chmod(path, 0600) != 0 || listen(fd, 16) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* ---- connection threads ------------------------------------------------------------------ */

/* Every connection (agent or admin) runs in its own detached thread, so that a slow or silent
 * peer never delays anyone else (in particular: an idle admin client does not stall agents).
 * Jobs are listed so that shutdown can cut connections that outlive the grace period: `kick`
 * is a dup of the socket, closed only after the thread is done, so shutdown(kick) can never hit
 * a reused descriptor.
 *
 * Slow peers: an agent connection gets at most --timeout seconds for its handshake and then
 * for each request (struct vtb_deadline, set by server.c). The run loop checks the deadlines
 * every DEADLINE_TICK_MS and shuts down the socket of a connection past its deadline; its
 * blocked read or write then returns and its thread unwinds. A watchdog outside the TLS code,
 * rather than poll-based reads inside it, works the same with any TLS backend (the library
 * owns the reads), and costs no thread: the accept loop wakes up for it anyway. Each source
 * address gets at most --max-connections-per-address agent connections, so one host cannot
 * take all --max-connections slots. Refusals and drops are logged, RATELOG_MAX a second. */
#define MAX_ADMIN_CONNS 8
#define DEADLINE_TICK_MS 250
#define RATELOG_MAX 10

struct job {
    struct vtb_broker *b;
    int fd, kick;
    bool admin;
    char peer[160];
    char addr[64];           /* what the per-address cap counts (addr_key) */
    struct vtb_deadline dl;  /* agents only */
    struct job *next, **prevp;
};

static struct job *jobs;  /* guarded by b->lock */
static long admin_active; /* guarded by b->lock */

/* At most RATELOG_MAX lines a second of one kind; the next one logged says how many were left
 * out. Guarded by b->lock. */
struct ratelog {
    int64_t sec;
    int n;
    long skipped;
};
static struct ratelog refusals, drops;

/* May one more line be logged now? *skipped: how many were left out before it. */
static bool ratelog_take(struct ratelog *r, long *skipped)
{
    int64_t sec = vtb_now_ms() / 1000;
    if (sec != r->sec) {
        r->sec = sec;
        r->n = 0;
    }
    if (r->n >= RATELOG_MAX) {
        r->skipped++;
        return false;
    }
    r->n++;
    *skipped = r->skipped;
    r->skipped = 0;
    return true;
}

static void *conn_thread(void *arg)
{
    struct job *j = arg;
    struct vtb_broker *b = j->b;
    if (j->admin)
        vtb_serve_admin(b, j->fd);
    else
        vtb_serve_agent(b, j->fd, j->peer, &j->dl);
    pthread_mutex_lock(&b->lock);
    *j->prevp = j->next;
    if (j->next)
        j->next->prevp = j->prevp;
    if (j->admin)
        admin_active--;
    else
        b->active--;
    close(j->kick);
    pthread_cond_broadcast(&b->cond);
    pthread_mutex_unlock(&b->lock);
    free(j);
    return NULL;
}

enum admit { ADMIT_OK, ADMIT_FULL, ADMIT_ADDR };

/* Agent connections from j's address (under b->lock). */
static long conns_from(const struct job *j)
{
    long n = 0;
    for (const struct job *o = jobs; o; o = o->next)
        if (!o->admin && strcmp(o->addr, j->addr) == 0)
            n++;
    return n;
}

/* Count and list j if the limits allow it; an agent's handshake deadline starts now. Under
 * b->lock. */
static enum admit admit(struct vtb_broker *b, struct job *j)
{
    long *count = j->admin ? &admin_active : &b->active;
    if (*count >= (j->admin ? MAX_ADMIN_CONNS : b->cfg.max_conns))
        return ADMIT_FULL;
    if (!j->admin && conns_from(j) >= b->cfg.max_per_addr)
        return ADMIT_ADDR;
    if (!j->admin)
        j->dl = (struct vtb_deadline){ .at_ms = vtb_now_ms() + b->cfg.timeout * 1000,
                                       .step = "TLS handshake" };
    (*count)++;
    j->next = jobs;
    j->prevp = &jobs;
    if (jobs)
        jobs->prevp = &j->next;
    jobs = j;
    return ADMIT_OK;
}

static void unlist(struct vtb_broker *b, struct job *j)
{
    pthread_mutex_lock(&b->lock);
    *j->prevp = j->next;
    if (j->next)
        j->next->prevp = j->prevp;
    (*(j->admin ? &admin_active : &b->active))--;
    pthread_mutex_unlock(&b->lock);
}

static void log_refusal(struct vtb_broker *b, const struct job *j, enum admit why, long skipped)
{
    char more[64] = "";
    if (skipped)
        snprintf(more, sizeof(more), " (and %ld more refusals not logged)", skipped);
    if (why == ADMIT_ADDR)
        vtb_state_log(&b->st, "peer=%s refused: too many connections from %s (limit %ld)%s",
                      j->peer, j->addr, b->cfg.max_per_addr, more);
    else
        vtb_state_log(&b->st, "peer=%s refused: too many %s connections (limit %ld)%s", j->peer,
                      j->admin ? "admin" : "agent",
                      j->admin ? (long)MAX_ADMIN_CONNS : b->cfg.max_conns, more);
}

static void start_conn(struct vtb_broker *b, int fd, bool admin, const char *peer,
                       const char *addr)
{
    struct job *j = calloc(1, sizeof(*j));
    int kick = fcntl(fd, F_DUPFD_CLOEXEC, 3);
    if (!j || kick < 0) {
        if (kick >= 0)
            close(kick);
        close(fd);
        free(j);
        return;
    }
    j->b = b;
    j->fd = fd;
    j->kick = kick;
    j->admin = admin;
    snprintf(j->peer, sizeof(j->peer), "%s", peer);
    snprintf(j->addr, sizeof(j->addr), "%s", addr);
    long skipped = 0;
    pthread_mutex_lock(&b->lock);
    enum admit why = admit(b, j);
    bool shown = why != ADMIT_OK && ratelog_take(&refusals, &skipped);
    pthread_mutex_unlock(&b->lock);
    if (why != ADMIT_OK) {
        if (shown)
            log_refusal(b, j, why, skipped);
        close(kick);
        close(fd);
        free(j);
        return;
    }
    pthread_t t;
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    int e = pthread_create(&t, &at, conn_thread, j);
    pthread_attr_destroy(&at);
    if (e != 0) {
        unlist(b, j);
        close(kick);
        close(fd);
        free(j);
    }
}

/* What the per-address cap counts: an IPv4 address (also IPv4-mapped IPv6) as it is, an IPv6
 * address by its /64 (one host usually has a whole /64 to pick source addresses from). */
static void addr_key(const struct sockaddr_storage *ss, char *key, size_t n)
{
    char s[INET6_ADDRSTRLEN] = "?";
    const char *len = "";
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)ss;
        (void)inet_ntop(AF_INET, &in->sin_addr, s, sizeof(s));
    } else if (ss->ss_family == AF_INET6) {
        struct in6_addr a = ((const struct sockaddr_in6 *)(const void *)ss)->sin6_addr;
        if (IN6_IS_ADDR_V4MAPPED(&a)) {
            (void)inet_ntop(AF_INET, &a.s6_addr[12], s, sizeof(s));
        } else {
            memset(&a.s6_addr[8], 0, 8);
            (void)inet_ntop(AF_INET6, &a, s, sizeof(s));
            len = "/64";
        }
    }
    snprintf(key, n, "%s%s", s, len);
}

static void accept_agent(struct vtb_broker *b, int lfd)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    int fd = accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_CLOEXEC);
    if (fd < 0)
        return;
    int one = 1; /* small request/reply frames: no Nagle delay */
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    char hs[128] = "?", ps[16] = "?", peer[160], addr[64];
    (void)getnameinfo((struct sockaddr *)&ss, sl, hs, sizeof(hs), ps, sizeof(ps),
                      NI_NUMERICHOST | NI_NUMERICSERV);
    snprintf(peer, sizeof(peer), "%s:%s", hs, ps);
    addr_key(&ss, addr, sizeof(addr));
    start_conn(b, fd, false, peer, addr);
}

/* Shut down the socket of every agent connection past its deadline (the run loop calls this
 * every DEADLINE_TICK_MS); log the drops, rate-limited. */
static void check_deadlines(struct vtb_broker *b)
{
    struct {
        char peer[160];
        const char *step;
    } shown[RATELOG_MAX];
    size_t n = 0;
    long skipped = 0, sk = 0;
    int64_t now = vtb_now_ms();
    pthread_mutex_lock(&b->lock);
    for (struct job *j = jobs; j; j = j->next) {
        if (j->admin || j->dl.fired || j->dl.at_ms == 0 || j->dl.at_ms > now)
            continue;
        (void)shutdown(j->kick, SHUT_RDWR);
        j->dl.fired = true;
        if (n < RATELOG_MAX && ratelog_take(&drops, &sk)) {
            snprintf(shown[n].peer, sizeof(shown[n].peer), "%s", j->peer);
            shown[n++].step = j->dl.step;
            skipped += sk;
        }
    }
    pthread_mutex_unlock(&b->lock);
    for (size_t i = 0; i < n; i++) {
        char more[64] = "";
        if (i == 0 && skipped)
            snprintf(more, sizeof(more), " (and %ld more drops not logged)", skipped);
        vtb_state_log(&b->st, "peer=%s dropped: %s not done within %lds%s", shown[i].peer,
                      shown[i].step, b->cfg.timeout, more);
    }
}

static void accept_admin(struct vtb_broker *b, int afd)
{
    int fd = accept4(afd, NULL, NULL, SOCK_CLOEXEC);
    if (fd >= 0)
        start_conn(b, fd, true, "admin", "");
}

/* Wait until no connection is left or `until` passes; returns how many are left. */
static long wait_conns(struct vtb_broker *b, const struct timespec *until)
{
    pthread_mutex_lock(&b->lock);
    while (b->active + admin_active > 0)
        if (pthread_cond_timedwait(&b->cond, &b->lock, until) != 0)
            break;
    long left = b->active + admin_active;
    pthread_mutex_unlock(&b->lock);
    return left;
}

/* ---- start-up steps -------------------------------------------------------------------- */

/* --rekey NEW: every secret re-encrypted under NEW in one transaction; the old key opens the
 * store until the commit, the new one from then on (never a mix). */
static int rekey(struct vtb_broker *b)
{
    uint8_t nk[VTB_MASTER_KEY_LEN];
    size_t n = 0;
    vt_res r = vtb_master_key_load(rekey_file, nk);
    if (!r.err)
        r = vtb_kms_rekey(b->st.kms, nk, &n);
    vti_memzero(nk, sizeof(nk));
    if (r.err)
        vtb_state_log(&b->st, "rekey with %s: %s (%s); the store is unchanged, still under the "
                      "old key", rekey_file, vt_strerror(r.err), vt_errname(r.err));
    else
        vtb_state_log(&b->st, "rekey: %zu blob(s) re-encrypted; the store is now under the "
                      "master key in %s: install it as the master key before starting the "
                      "broker", n, rekey_file);
    vtb_kms_close(b->st.kms);
    vtb_state_fini(&b->st);
    vtb_config_free(&b->cfg);
    return r.err ? 1 : 0;
}

/* The key store named by --store: PostgreSQL for a URL, else a SQLite file. */
static const struct vtb_store_ops *store_ops(const char *where)
{
    if (strncmp(where, "postgresql://", 13) == 0 || strncmp(where, "postgres://", 11) == 0)
        return &vtb_store_pg;
    return &vtb_store_sqlite;
}

/* The master key, then the key store under it (the key is wiped here either way). */
static int open_store(struct vtb_broker *b)
{
    uint8_t mk[VTB_MASTER_KEY_LEN];
    vt_res r = vtb_master_key_load(b->cfg.master_key, mk);
    if (r.err) {
        vtb_state_log(&b->st, "master key %s: %s",
                      b->cfg.master_key ? b->cfg.master_key : "$CREDENTIALS_DIRECTORY/master-key",
                      vt_strerror(r.err));
        return 1;
    }
    char shown[512]; /* the store location with any password replaced by *** */
    r = vtb_kms_open(store_ops(b->cfg.store), b->cfg.store, mk, &b->st.kms);
    vti_memzero(mk, sizeof(mk));
    if (r.err) {
        vtb_state_log(&b->st, "key store %s: %s",
                      vtb_redact(b->cfg.store, shown, sizeof(shown)), vt_strerror(r.err));
        return 1;
    }
    return 0;
}

static int verify_any(const vt_report *peer, void *arg)
{
    (void)peer;
    (void)arg;
    return 0; /* judged per request (policy), so that refusals carry a reason */
}

/* The attested-TLS context agents connect to: an ordinary certificate or our own evidence. */
static int open_tls(struct vtb_broker *b)
{
    struct vt_config vc = {
        .role = VT_ROLE_SERVER, .mutual = true,
        .attester = b->cfg.cert ? "none" : b->cfg.tee,
        .root_ca_files = (const char *const *)b->cfg.root_ca, .n_root_ca_files = b->cfg.n_root_ca,
        .collateral = b->cfg.collateral, .sim_dir = b->cfg.sim_dir,
        .cert_file = b->cfg.cert, .key_file = b->cfg.key,
        .verify_cb = verify_any,
    };
    int err = vt_ctx_new(&vc, &b->ctx);
    if (err) {
        vtb_state_log(&b->st, "attested TLS context: %s (%s)", vt_strerror(err), vt_errname(err));
        return 1;
    }
    return 0;
}

/* ---- KBS protocol front end (src/kbs): the same core state (KMS, snapshot, ids, log) ---- */

static int start_kbs(struct vtb_broker *b)
{
    struct vtk_config kc = {
        .listen = b->cfg.kbs_listen, .cert = b->cfg.kbs_cert, .key = b->cfg.kbs_key,
        .allow_sim = b->cfg.allow_sim, .collateral = b->cfg.collateral,
        .token_lifetime = b->cfg.token_lifetime,
        .session_lifetime = b->cfg.kbs_session_lifetime,
        .max_conns = (unsigned)b->cfg.kbs_max_conns,
        .max_conns_per_addr = (unsigned)b->cfg.kbs_max_conns_per_addr,
        .request_timeout = (unsigned)b->cfg.kbs_request_timeout,
        .fd_reserve = (unsigned)b->cfg.max_conns + 64, /* agent connections, store, files */
        .max_sessions_per_address = b->cfg.kbs_max_sessions,
    };
    for (size_t i = 0; i < b->cfg.n_root_ca && i < VTK_MAX_ROOTS; i++)
        kc.root_ca[kc.n_root_ca++] = b->cfg.root_ca[i];
    struct vtk_server *k = NULL;
    struct vtk_http *h = NULL;
    vt_res r = vtk_new(&kc, &b->st, (int64_t)time(NULL), &k);
    if (!r.err)
        r = vtk_http_start(k, &h);
    if (r.err) {
        vtb_state_log(&b->st, "KBS front end on %s: %s (%s)", b->cfg.kbs_listen,
                      vt_strerror(r.err), vt_errname(r.err));
        vtk_free(k);
        return 1;
    }
    b->kbs = k;
    b->kbs_http = h;
    if (!b->cfg.kbs_cert)
        vtb_state_log(&b->st, "WARNING: the KBS front end speaks plain HTTP (no --kbs-cert/"
                      "--kbs-key): use it only behind a TLS-terminating proxy or on a trusted "
                      "network");
    vtb_state_log(&b->st, "KBS listening on %s://%.*s:%d", b->cfg.kbs_cert ? "https" : "http",
                  (int)(strrchr(b->cfg.kbs_listen, ':') - b->cfg.kbs_listen), b->cfg.kbs_listen,
                  vtk_http_port(h));
    return 0;
}

struct listeners {
    int agent, admin, sig;
};

/* The agent and admin sockets and the KBS front end; then READY=1. */
static int start_listeners(struct vtb_broker *b, struct listeners *l)
{
    char shown[200], shown_store[512];
    l->agent = listen_tcp(b->cfg.listen, shown, sizeof(shown));
    if (l->agent < 0) {
        vtb_state_log(&b->st, "cannot listen on %s: %s", b->cfg.listen, strerror(errno));
        return 1;
    }
    l->admin = -1;
    if (b->cfg.admin_socket) {
        l->admin = listen_unix(b->cfg.admin_socket);
        if (l->admin < 0) {
            vtb_state_log(&b->st, "cannot create admin socket %s: %s", b->cfg.admin_socket,
                          strerror(errno));
            return 1;
        }
    }
    if (b->cfg.kbs_listen && start_kbs(b))
        return 1;
    if (b->cfg.allow_sim)
        vtb_state_log(&b->st, "WARNING: --allow-sim: sim (INSECURE) evidence is accepted; "
                      "every such release is marked insecure");
    vtb_state_log(&b->st, "listening on %s (agents)%s%s; store %s", shown,
                  l->admin >= 0 ? ", admin socket " : "", l->admin >= 0 ? b->cfg.admin_socket : "",
                  vtb_redact(b->cfg.store, shown_store, sizeof(shown_store)));
    notify("READY=1\nSTATUS=serving");
    return 0;
}

/* ---- running and stopping ------------------------------------------------------------ */

/* Signals: blocked everywhere, read through a signalfd (returned). */
static int block_signals(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    return signalfd(-1, &set, SFD_CLOEXEC);
}

static void on_signal(struct vtb_broker *b, int sfd)
{
    struct signalfd_siginfo si;
    if (read(sfd, &si, sizeof(si)) != (ssize_t)sizeof(si))
        return;
    if (si.ssi_signo == SIGHUP) {
        notify("RELOADING=1");
        vt_res r = vtb_state_reload(&b->st);
        vtb_state_log(&b->st, "SIGHUP: policy and reference values %s",
                      r.err ? "reload failed (keeping the old ones)" : "reloaded");
        notify("READY=1");
    } else if (si.ssi_signo != SIGPIPE) {
        vtb_state_log(&b->st, "signal %u: shutting down", si.ssi_signo);
        b->stopping = 1;
        notify("STOPPING=1");
    }
}

static void run_loop(struct vtb_broker *b, const struct listeners *l)
{
    struct pollfd pf[3] = { { .fd = l->agent, .events = POLLIN },
                            { .fd = l->sig, .events = POLLIN },
                            { .fd = l->admin, .events = POLLIN } };
    int64_t checked = vtb_now_ms();
    while (!b->stopping) {
        int n = poll(pf, l->admin >= 0 ? 3 : 2, DEADLINE_TICK_MS);
        int perr = errno;
        if (vtb_now_ms() - checked >= DEADLINE_TICK_MS) {
            check_deadlines(b);
            checked = vtb_now_ms();
        }
        if (n < 0 && perr == EINTR)
            continue;
        if (n < 0)
            break;
        if (pf[1].revents & POLLIN)
            on_signal(b, l->sig);
        if (!b->stopping && (pf[0].revents & POLLIN))
            accept_agent(b, l->agent);
        if (!b->stopping && l->admin >= 0 && (pf[2].revents & POLLIN))
            accept_admin(b, l->admin);
    }
}

/* Stop listening; let connections in flight finish (each step is bounded by --timeout);
 * then cut the ones still open and give their threads a moment to unwind and wipe what they
 * hold. Returns how many are still running. */
static long drain(struct vtb_broker *b, const struct listeners *l)
{
    close(l->agent);
    vtk_http_stop(b->kbs_http); /* stops the KBS listener; waits for its requests in flight */
    b->kbs_http = NULL;
    vtk_free(b->kbs);
    b->kbs = NULL;
    if (l->admin >= 0) {
        close(l->admin);
        unlink(b->cfg.admin_socket);
    }
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += b->cfg.timeout + 1;
    long left = wait_conns(b, &until);
    if (left) {
        vtb_state_log(&b->st, "closing %ld connection(s) still open after %lds", left,
                      b->cfg.timeout + 1);
        pthread_mutex_lock(&b->lock);
        for (struct job *j = jobs; j; j = j->next)
            (void)shutdown(j->kick, SHUT_RDWR);
        pthread_mutex_unlock(&b->lock);
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += 5;
        left = wait_conns(b, &until);
    }
    return left;
}

static int shut_down(struct vtb_broker *b, const struct listeners *l)
{
    long left = drain(b, l);
    if (left) {
        /* a thread is stuck inside the store or a verifier: do not free under it, but the
         * master key must not outlive us in memory (its later decryptions simply fail) */
        vtb_kms_wipe(b->st.kms);
        vtb_state_log(&b->st, "exiting with %ld connection(s) still running; master key wiped",
                      left);
        return 0;
    }
    vt_ctx_free(b->ctx);
    vtb_kms_close(b->st.kms); /* wipes and unmaps the master key */
    vtb_state_log(&b->st, "stopped");
    vtb_state_fini(&b->st);
    vtb_config_free(&b->cfg);
    close(l->sig);
    return 0;
}

int main(int argc, char **argv)
{
    static struct vtb_broker b;
    pthread_mutex_init(&b.lock, NULL);
    pthread_cond_init(&b.cond, NULL);
    if (vtb_state_init(&b.st, NULL).err) /* the store is opened below */
        return 1;
    struct rlimit nocore = { 0, 0 };
    (void)setrlimit(RLIMIT_CORE, &nocore);
    (void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    int rc = parse_args(argc, argv, &b.cfg);
    if (rc)
        return rc;
    struct listeners l = { .agent = -1, .admin = -1, .sig = block_signals() };
    if (open_store(&b))
        return 1;
    if (rekey_file)
        return rekey(&b);
    vt_res r = vtb_state_reload(&b.st);
    if (r.err == VT_ERR_BROKER_POLICY_TAMPERED || r.err == VT_ERR_BROKER_POLICY_UNAUTHENTICATED) {
        /* fail closed but stay reachable: deny everything until an operator sets the policy
         * (and reference values) again through the admin socket */
        vtb_state_log(&b.st, "starting with an empty deny-all policy: the stored one does not "
                      "authenticate (set it again with 'veritee admin policy set')");
    } else if (r.err) {
        vtb_state_log(&b.st, "loading policy and reference values: %s", vt_strerror(r.err));
        return 1;
    }
    if (open_tls(&b) || start_listeners(&b, &l))
        return 1;
    run_loop(&b, &l);
    return shut_down(&b, &l);
}
