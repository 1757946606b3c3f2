/* SPDX-License-Identifier: Apache-2.0 */
/*
 * broker_bench.c - secret releases per second from a real veritee-broker process on
 * 127.0.0.1, in one run:
 *   one-connection   one attested TLS connection (sim TEE, mutual), N get-resource requests
 *   conn-per-release a new attested TLS connection (handshake + evidence verification) per
 *                    release
 * Each release is fully appraised (policy + reference values) and audited (one SQLite
 * insert with synchronous=FULL), as in production. The broker and the setup (sim PKI, broker
 * certificate, master key, store, policy) are created in a temporary directory with the
 * project's own binaries (VERITEE_BIN or ../bin next to this program) and openssl.
 *
 * Usage: broker_bench [RELEASES (default 300)]
 * Uses only the public API (include/veritee/) and jansson.
 */
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "veritee/veritee.h"

static char dir[256], bin[1024];
static int port;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    int rc = system(cmd);
    if (rc != 0)
        fprintf(stderr, "broker_bench: failed: %s\n", cmd);
    return rc;
}

static int connect_broker(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    int one = 1;
    if (fd >= 0)
        (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
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

/* One get-resource; 0 if the secret was released. */
static int release(vt_conn *c)
{
    static const char req[] = "{\"id\":\"b\",\"op\":\"get-resource\",\"path\":\"bench/secret/k\"}";
    uint8_t msg[4 + sizeof(req)] = { 0, 0, 0, (uint8_t)(sizeof(req) - 1) };
    uint8_t hdr[4];
    memcpy(msg + 4, req, sizeof(req) - 1);
    if (vt_conn_write(c, msg, 4 + sizeof(req) - 1) != 0 || read_full(c, hdr, 4) != 0)
        return -1;
    size_t len = (size_t)hdr[0] << 24 | (size_t)hdr[1] << 16 | (size_t)hdr[2] << 8 | hdr[3];
    if (len == 0 || len > 65536)
        return -1;
    char *body = malloc(len + 1);
    int rc = -1;
    if (body && read_full(c, (uint8_t *)body, len) == 0) {
        body[len] = 0;
        rc = strstr(body, "\"ok\":true") ? 0 : -1;
    }
    free(body);
    return rc;
}

/* n releases, each over its own new attested connection; returns how many succeeded */
static long conn_per_release(vt_ctx *ctx, long n)
{
    long ok = 0;
    for (long i = 0; i < n; i++) {
        int fd = connect_broker();
        vt_conn *c = NULL;
        if (fd >= 0 && vt_conn_new(ctx, fd, &c) == 0 && vt_conn_handshake(c) == 0)
            ok += release(c) == 0;
        if (c)
            (void)vt_conn_shutdown(c);
        vt_conn_free(c);
        if (fd >= 0)
            close(fd);
    }
    return ok;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? strtol(argv[1], NULL, 10) : 300;
    if (n < 1)
        n = 300;
    const char *b = getenv("VERITEE_BIN");
    if (b) {
        snprintf(bin, sizeof(bin), "%s", b);
    } else {
        char self[900];
        ssize_t k = readlink("/proc/self/exe", self, sizeof(self) - 1);
        if (k <= 0)
            return 2;
        self[k] = 0;
        char *slash = strrchr(self, '/');
        *slash = 0;
        snprintf(bin, sizeof(bin), "%s/../bin", self);
    }
    snprintf(dir, sizeof(dir), "/tmp/vt-broker-bench.XXXXXX");
    if (!mkdtemp(dir))
        return 2;
    vt_log_set(NULL, NULL, VT_LOG_OFF);
    if (sh("cd %s && '%s/veritee' sim init sim >/dev/null 2>&1", dir, bin) ||
        sh("cd %s && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
           "-keyout ca.key -out ca.pem -days 1 -subj /CN=bench-ca 2>/dev/null && "
           "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout b.key "
           "-out b.csr -subj /CN=127.0.0.1 2>/dev/null && openssl x509 -req -in b.csr -CA "
           "ca.pem -CAkey ca.key -CAcreateserial -out b.pem -days 1 2>/dev/null && "
           "'%s/veritee-broker' --gen-master-key mk 2>/dev/null", dir, bin))
        return 2;
    pid_t pid = fork();
    if (pid == 0) {
        char log[300];
        snprintf(log, sizeof(log), "%s/broker.log", dir);
        if (!freopen(log, "w", stderr) || chdir(dir) != 0)
            _exit(127);
        char exe[1100];
        snprintf(exe, sizeof(exe), "%s/veritee-broker", bin);
        execl(exe, exe, "--listen", "127.0.0.1:0", "--store", "st.db", "--master-key", "mk",
              "--admin-socket", "adm.sock", "--allow-sim", "--root-ca", "sim/root-ca.pem",
              "--cert", "b.pem", "--key", "b.key", (char *)NULL);
        _exit(127);
    }
    char logp[300];
    snprintf(logp, sizeof(logp), "%s/broker.log", dir);
    for (int i = 0; i < 100 && !port; i++) {
        usleep(100000);
        FILE *f = fopen(logp, "r");
        char line[512];
        while (f && fgets(line, sizeof(line), f)) {
            const char *p = strstr(line, "listening on 127.0.0.1:");
            if (p)
                port = (int)strtol(p + strlen("listening on 127.0.0.1:"), NULL, 10);
        }
        if (f)
            fclose(f);
    }
    int rc = 1;
    if (!port)
        goto out;
    if (sh("cd %s && printf 'bench-secret-0123456789abcdef' > s && "
           "'%s/veritee' admin --socket adm.sock resource put bench/secret/k s >/dev/null && "
           "'%s/veritee' admin --socket adm.sock refval add measurement $(cat sim/measurement) "
           ">/dev/null && echo '{\"version\":1,\"rules\":[{\"name\":\"bench\",\"resources\":"
           "[\"bench/secret/*\"],\"reference\":[\"measurement\"]}]}' > p.json && "
           "'%s/veritee' admin --socket adm.sock policy set p.json >/dev/null", dir, bin, bin,
           bin))
        goto out;
    char simdir[300], cafile[300];
    snprintf(simdir, sizeof(simdir), "%s/sim", dir);
    snprintf(cafile, sizeof(cafile), "%s/ca.pem", dir);
    struct vt_config cfg = { .role = VT_ROLE_CLIENT, .attester = "sim", .sim_dir = simdir,
                             .allow_unattested = true, .ca_file = cafile };
    vt_ctx *ctx = NULL;
    if (vt_ctx_new(&cfg, &ctx) != 0)
        goto out;
    /* mode 1: one attested connection */
    int fd = connect_broker();
    vt_conn *c = NULL;
    if (fd < 0 || vt_conn_new(ctx, fd, &c) != 0 || vt_conn_handshake(c) != 0)
        goto out_ctx;
    long ok1 = 0;
    double t0 = now();
    for (long i = 0; i < n; i++)
        ok1 += release(c) == 0;
    double t1 = now() - t0;
    (void)vt_conn_shutdown(c);
    vt_conn_free(c);
    close(fd);
    /* mode 2: a new attested connection per release */
    t0 = now();
    long ok2 = conn_per_release(ctx, n);
    double t2 = now() - t0;
    printf("broker_bench: %ld releases per mode (sim TEE, P-256, mutual attested TLS 1.3, "
           "policy + reference values + audit insert per release)\n", n);
    printf("  one-connection     %8.1f releases/s  (%ld/%ld released, %.3f ms each)\n",
           (double)ok1 / t1, ok1, n, 1000.0 * t1 / (double)n);
    printf("  conn-per-release   %8.1f releases/s  (%ld/%ld released, %.3f ms each)\n",
           (double)ok2 / t2, ok2, n, 1000.0 * t2 / (double)n);
    printf("  ratio one-connection / conn-per-release: %.1fx\n",
           ((double)ok1 / t1) / ((double)ok2 / t2));
    rc = ok1 == n && ok2 == n ? 0 : 1;
out_ctx:
    vt_ctx_free(ctx);
out:
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    sh("rm -rf %s", dir);
    return rc;
}
