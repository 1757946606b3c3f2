/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mem_load.c - the load driver of bench/memory_bench.sh: holds many broker clients open at
 * once and repeats requests, reading the broker's memory (/proc/PID/status) at given request
 * counts. Modes:
 *   mem_load hold HOST:PORT N SIM_DIR CA PATH
 *       N attested TLS connections (sim TEE, mutual) open at the same time, one get-resource
 *       release on each; prints "held N" once all N are open and served, then keeps them open
 *       until stdin reaches end of file; exit 0 only if all N were released.
 *   mem_load agents HOST:PORT CONNS COUNT PID SIM_DIR CA PATH MARK...
 *       COUNT get-resource releases over CONNS attested connections (threads), prints
 *       `at N: vmrss_kb X vmhwm_kb Y` of process PID once N releases are done, for each MARK.
 *   mem_load kbs-guests URL N ATTESTER SIM_DIR PATH SECONDS
 *       N guest threads, each running whole KBS protocol runs (auth -> attest -> resource)
 *       back to back for SECONDS: N guests with a session or a request in flight at once.
 *   mem_load kbs-fetch URL CONNS COUNT PID ATTESTER SIM_DIR PATH MARK...
 *       one protocol run for a token, then COUNT resource fetches with it (Bearer) over CONNS
 *       keep-alive connections, printing the broker's memory at each MARK as above.
 * Every mode exits 1 if any request failed. Uses libveritee's public API, the KBS client
 * library (src/kbs_client) and libcurl.
 */
#include <curl/curl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "kbs_client/client.h"
#include "veritee/veritee.h"

#define MAX_MARKS 16
#define MAX_CONNS 1024

static const char *host, *port, *simdir, *cafile, *path;
static long total;                 /* requests to make in all */
static atomic_long issued, done, failed;
static long marks[MAX_MARKS];
static int n_marks;
static long pid;
static pthread_mutex_t mark_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t mark_cond = PTHREAD_COND_INITIALIZER;
static int mark_next;              /* the next mark to pass (under mark_lock) */

/* ---- the broker's memory ------------------------------------------------------------------ */

static long status_kb(const char *field)
{
    char p[64], line[256];
    snprintf(p, sizeof(p), "/proc/%ld/status", pid);
    FILE *f = fopen(p, "r");
    long v = -1;
    size_t n = strlen(field);
    while (f && fgets(line, sizeof(line), f))
        if (strncmp(line, field, n) == 0 && line[n] == ':')
            v = strtol(line + n + 1, NULL, 10);
    if (f)
        fclose(f);
    return v;
}

/* Take one request number; false when all are taken. At a mark, the taker waits until every
 * request before it is answered, reads the memory, and lets the others go on. */
static bool take(void)
{
    long i = atomic_fetch_add(&issued, 1);
    if (i >= total)
        return false;
    pthread_mutex_lock(&mark_lock);
    while (mark_next < n_marks && i >= marks[mark_next]) {
        if (i == marks[mark_next]) {
            while (atomic_load(&done) + atomic_load(&failed) < i)
                pthread_cond_wait(&mark_cond, &mark_lock);
            printf("at %ld: vmrss_kb %ld vmhwm_kb %ld\n", i, status_kb("VmRSS"),
                   status_kb("VmHWM"));
            fflush(stdout);
            mark_next++;
            pthread_cond_broadcast(&mark_cond);
        } else {
            pthread_cond_wait(&mark_cond, &mark_lock);
        }
    }
    pthread_mutex_unlock(&mark_lock);
    return true;
}

static void finished(bool ok)
{
    pthread_mutex_lock(&mark_lock);
    atomic_fetch_add(ok ? &done : &failed, 1);
    pthread_cond_broadcast(&mark_cond);
    pthread_mutex_unlock(&mark_lock);
}

static int parse_marks(char **v, int n)
{
    if (n > MAX_MARKS)
        return -1;
    for (int i = 0; i < n; i++) {
        marks[i] = strtol(v[i], NULL, 10);
        if (marks[i] < 1 || marks[i] > total || (i && marks[i] <= marks[i - 1]))
            return -1;
    }
    n_marks = n;
    return 0;
}

/* ---- attested TLS agents ------------------------------------------------------------------ */

static vt_ctx *ctx;

static int connect_tcp(void)
{
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *ai = NULL;
    if (getaddrinfo(host, port, &hints, &ai) != 0)
        return -1;
    int fd = socket(ai->ai_family, SOCK_STREAM, 0), one = 1;
    if (fd >= 0)
        (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        close(fd);
        fd = -1;
    }
    freeaddrinfo(ai);
    return fd;
}

static int read_full(vt_conn *c, uint8_t *p, size_t n)
{
    size_t off = 0;
    while (off < n) {
        size_t got = 0;
        if (vt_conn_read(c, p + off, n - off, &got) != 0 || got == 0)
            return -1;
        off += got;
    }
    return 0;
}

/* One framed get-resource of path; 0 if released. */
static int release(vt_conn *c)
{
    char req[600];
    int n = snprintf(req, sizeof(req), "....{\"id\":\"m\",\"op\":\"get-resource\",\"path\":\"%s\"}",
                     path);
    if (n < 0 || (size_t)n >= sizeof(req))
        return -1;
    uint32_t len = (uint32_t)n - 4;
    req[0] = 0, req[1] = (char)(len >> 16), req[2] = (char)(len >> 8), req[3] = (char)len;
    uint8_t hdr[4];
    if (vt_conn_write(c, req, (size_t)n) != 0 || read_full(c, hdr, 4) != 0)
        return -1;
    size_t rl = (size_t)hdr[0] << 24 | (size_t)hdr[1] << 16 | (size_t)hdr[2] << 8 | hdr[3];
    if (rl == 0 || rl > 65536)
        return -1;
    char *body = malloc(rl + 1);
    int rc = -1;
    if (body && read_full(c, (uint8_t *)body, rl) == 0) {
        body[rl] = 0;
        rc = strstr(body, "\"ok\":true") ? 0 : -1;
    }
    free(body);
    return rc;
}

struct agent {
    int fd;
    vt_conn *c;
};

static int agent_open(struct agent *a)
{
    a->c = NULL;
    a->fd = connect_tcp();
    if (a->fd < 0)
        return -1;
    if (vt_conn_new(ctx, a->fd, &a->c) != 0 || vt_conn_handshake(a->c) != 0)
        return -1;
    return 0;
}

static void agent_close(struct agent *a)
{
    if (a->c)
        (void)vt_conn_shutdown(a->c);
    vt_conn_free(a->c);
    if (a->fd >= 0)
        close(a->fd);
}

static int ctx_open(void)
{
    struct vt_config cfg = { .role = VT_ROLE_CLIENT, .attester = "sim", .sim_dir = simdir,
                             .allow_unattested = true, .ca_file = cafile };
    vt_log_set(NULL, NULL, VT_LOG_OFF);
    return vt_ctx_new(&cfg, &ctx);
}

static int mode_hold(long n)
{
    static struct agent a[MAX_CONNS];
    long ok = 0;
    for (long i = 0; i < n; i++)
        ok += agent_open(&a[i]) == 0 && release(a[i].c) == 0;
    printf("held %ld\n", ok);
    fflush(stdout);
    char buf[256];
    while (fread(buf, 1, sizeof(buf), stdin) > 0) {
    }
    for (long i = 0; i < n; i++)
        agent_close(&a[i]);
    return ok == n ? 0 : 1;
}

static void *agent_loop(void *arg)
{
    (void)arg;
    struct agent a;
    bool up = agent_open(&a) == 0;
    while (take())
        finished(up && release(a.c) == 0);
    agent_close(&a);
    return NULL;
}

/* ---- KBS guests --------------------------------------------------------------------------- */

static const char *url, *attester;
static char bearer[8192];
static volatile int running;

static void *guest(void *arg)
{
    (void)arg;
    struct vtk_client_opts o = { .url = url, .attester = attester, .sim_dir = simdir };
    while (running) {
        struct vt_buf out = VT_BUF_INIT;
        int st;
        char why[256];
        vt_res r = vtk_client_get_resource(&o, path, &out, NULL, &st, why, sizeof(why));
        vti_buf_free(&out);
        if (r.err && atomic_fetch_add(&failed, 1) < 5)
            fprintf(stderr, "mem_load: guest run failed (HTTP %d): %s\n", st, why);
        else if (!r.err)
            atomic_fetch_add(&done, 1);
    }
    return NULL;
}

static size_t sink(char *p, size_t s, size_t n, void *a)
{
    (void)p;
    (void)a;
    return s * n;
}

static void *fetcher(void *arg)
{
    (void)arg;
    CURL *c = curl_easy_init();
    char u[1024];
    snprintf(u, sizeof(u), "%s/kbs/v0/resource/%s", url, path);
    struct curl_slist *h = curl_slist_append(NULL, bearer);
    curl_easy_setopt(c, CURLOPT_URL, u);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    while (take()) {
        long code = 0;
        CURLcode rc = curl_easy_perform(c);
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
        finished(rc == CURLE_OK && code == 200);
    }
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return NULL;
}

static int get_token(void)
{
    struct vtk_client_opts o = { .url = url, .attester = attester, .sim_dir = simdir };
    struct vt_buf out = VT_BUF_INIT, tok = VT_BUF_INIT;
    int st;
    char why[256];
    vt_res r = vtk_client_get_resource(&o, path, &out, &tok, &st, why, sizeof(why));
    vti_buf_free(&out);
    if (r.err) {
        fprintf(stderr, "mem_load: no token: %s\n", why);
        return -1;
    }
    snprintf(bearer, sizeof(bearer), "Authorization: Bearer %s", (char *)tok.p);
    vti_buf_free(&tok);
    return 0;
}

/* ---- threads ------------------------------------------------------------------------------ */

static int run_threads(void *(*fn)(void *), long n, double secs)
{
    static pthread_t t[MAX_CONNS];
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setstacksize(&at, 1u << 20);
    running = 1;
    long started = 0;
    for (; started < n; started++)
        if (pthread_create(&t[started], &at, fn, NULL) != 0)
            break;
    pthread_attr_destroy(&at);
    if (secs > 0) {
        struct timespec ts = { (time_t)secs, (long)((secs - (time_t)secs) * 1e9) };
        nanosleep(&ts, NULL);
        running = 0;
    }
    for (long i = 0; i < started; i++)
        pthread_join(t[i], NULL);
    if (mark_next < n_marks && marks[mark_next] == total) /* the last mark: after all */
        printf("at %ld: vmrss_kb %ld vmhwm_kb %ld\n", total, status_kb("VmRSS"),
               status_kb("VmHWM"));
    printf("requests: %ld ok, %ld failed\n", atomic_load(&done), atomic_load(&failed));
    return started == n && atomic_load(&failed) == 0 && atomic_load(&done) > 0 ? 0 : 1;
}

static int split_addr(char *hp)
{
    char *colon = strrchr(hp, ':');
    if (!colon)
        return -1;
    *colon = 0;
    host = hp;
    port = colon + 1;
    return 0;
}

static int usage(void)
{
    fprintf(stderr, "usage: mem_load hold HOST:PORT N SIM_DIR CA PATH\n"
                    "       mem_load agents HOST:PORT CONNS COUNT PID SIM_DIR CA PATH MARK...\n"
                    "       mem_load kbs-guests URL N ATTESTER SIM_DIR PATH SECONDS\n"
                    "       mem_load kbs-fetch URL CONNS COUNT PID ATTESTER SIM_DIR PATH "
                    "MARK...\n");
    return 2;
}

static int main_agents(int argc, char **argv)
{
    bool hold = strcmp(argv[1], "hold") == 0;
    if ((hold && argc != 7) || (!hold && argc < 9) || split_addr(argv[2]) != 0)
        return usage();
    long n = strtol(argv[3], NULL, 10);
    if (n < 1 || n > MAX_CONNS)
        return usage();
    if (hold) {
        simdir = argv[4], cafile = argv[5], path = argv[6];
        return ctx_open() != 0 ? 1 : mode_hold(n);
    }
    total = strtol(argv[4], NULL, 10), pid = strtol(argv[5], NULL, 10);
    simdir = argv[6], cafile = argv[7], path = argv[8];
    if (total < 1 || parse_marks(argv + 9, argc - 9) != 0 || ctx_open() != 0)
        return usage();
    int rc = run_threads(agent_loop, n, 0);
    vt_ctx_free(ctx);
    return rc;
}

static int main_kbs(int argc, char **argv)
{
    bool guests = strcmp(argv[1], "kbs-guests") == 0;
    if ((guests && argc != 8) || (!guests && argc < 9))
        return usage();
    url = argv[2];
    long n = strtol(argv[3], NULL, 10);
    if (n < 1 || n > MAX_CONNS)
        return usage();
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int rc;
    if (guests) {
        attester = argv[4], simdir = argv[5], path = argv[6];
        rc = run_threads(guest, n, strtod(argv[7], NULL));
    } else {
        total = strtol(argv[4], NULL, 10), pid = strtol(argv[5], NULL, 10);
        attester = argv[6], simdir = argv[7], path = argv[8];
        if (total < 1 || parse_marks(argv + 9, argc - 9) != 0)
            return usage();
        rc = get_token() != 0 ? 1 : run_threads(fetcher, n, 0);
    }
    curl_global_cleanup();
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage();
    if (strcmp(argv[1], "hold") == 0 || strcmp(argv[1], "agents") == 0)
        return main_agents(argc, argv);
    if (strcmp(argv[1], "kbs-guests") == 0 || strcmp(argv[1], "kbs-fetch") == 0)
        return main_kbs(argc, argv);
    return usage();
}
