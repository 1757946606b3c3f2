/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tls_matrix_bench.c - attested TLS 1.3 handshakes per second for every server/client pair
 * of TLS libraries ({openssl, wolfssl} x {openssl, wolfssl}), beside plain TLS 1.3 through
 * the same vt_ctx API and the same libraries, in one run, over TCP on 127.0.0.1.
 *
 * Per pair, three modes (each a fresh TCP connection per handshake, one byte each way so
 * both sides finish; P-256 keys; contexts built once, so certificates are cached):
 *   plain            ordinary self-signed certificate (attester "none"), client allows it
 *   attested         server attests with the sim TEE, the client verifies its evidence
 *   attested-mutual  both attest with the sim TEE and verify each other
 * The ratio attested/plain is the cost of evidence verification on that pair. Crypto for
 * identities and verification is the default backend (openssl) in every row, so the rows
 * differ only in the TLS library. Server and client run in two threads (2 cores).
 *
 * Usage: tls_matrix_bench [SECONDS_PER_CELL (default 1.5)] [ROUNDS (default 3)]
 * Every pair is measured ROUNDS times, rounds interleaved over all pairs; the table shows
 * medians, and `ratio wolfssl_SERVER-CLIENT: X` lines the attested/plain ratio of every pair
 * with a wolfSSL side (median of the per-round ratios).
 * Without a wolfssl instance in the build only the openssl/openssl row is measured.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"
#include "core/instance.h"
#include "util/buf.h"
#include "veritee/veritee.h"

struct server {
    vt_ctx *ctx;
    int lfd;
    volatile int stop;
    int failures;
};

static void *server_loop(void *p)
{
    struct server *s = p;
    for (;;) {
        int fd = accept(s->lfd, NULL, NULL);
        if (fd < 0)
            break;
        if (s->stop) {
            close(fd);
            break;
        }
        int one = 1;
        (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        if (bench_vt_side(s->ctx, fd, true) != 0)
            s->failures++;
        close(fd);
    }
    return NULL;
}

static int connect_to(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        perror("connect");
        exit(1);
    }
    int one = 1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fd;
}

/* Handshakes per second between two contexts for `secs` seconds (0 on any failure). */
static double measure(vt_ctx *sctx, vt_ctx *cctx, double secs)
{
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET };
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    socklen_t sl = sizeof(sa);
    int one = 1;
    (void)setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(lfd, 64) != 0 ||
        getsockname(lfd, (struct sockaddr *)&sa, &sl) != 0) {
        perror("listen");
        exit(1);
    }
    int port = ntohs(sa.sin_port);
    struct server s = { sctx, lfd, 0, 0 };
    pthread_t t;
    if (pthread_create(&t, NULL, server_loop, &s) != 0)
        exit(1);
    long n = 0, fails = 0;
    double t0 = bench_now(), t1 = t0;
    while (t1 - t0 < secs || n < 20) {
        int fd = connect_to(port);
        if (bench_vt_side(cctx, fd, false) != 0)
            fails++;
        close(fd);
        n++;
        t1 = bench_now();
    }
    s.stop = 1;
    close(connect_to(port)); /* wake the accept loop */
    pthread_join(t, NULL);
    close(lfd);
    if (fails || s.failures) {
        fprintf(stderr, "%ld client and %d server failures\n", fails, s.failures);
        return 0;
    }
    return (double)n / (t1 - t0);
}

static struct bench_sim sim;

static vt_ctx *mkctx(const char *tls, enum vt_role role, const char *attester, bool mutual,
                     bool allow)
{
    return bench_mkctx(&sim, tls, role, attester, mutual, allow);
}

#define MAX_ROUNDS 16
enum { PLAIN, ATT, MUT, NMODES };

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(const double *v, int n)
{
    double t[MAX_ROUNDS];
    memcpy(t, v, (size_t)n * sizeof(*v));
    qsort(t, (size_t)n, sizeof(*t), cmp_d);
    return n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
}

/* One round of the three modes of pair (s, c) into rate[mode]; false on a failure. */
static bool pair_round(const char *s, const char *c, double secs, double rate[NMODES])
{
    vt_ctx *sp = mkctx(s, VT_ROLE_SERVER, "none", false, false);
    vt_ctx *cp = mkctx(c, VT_ROLE_CLIENT, "none", false, true);
    vt_ctx *sa = mkctx(s, VT_ROLE_SERVER, "sim", false, false);
    vt_ctx *ca = mkctx(c, VT_ROLE_CLIENT, "none", false, false);
    vt_ctx *sm = mkctx(s, VT_ROLE_SERVER, "sim", true, false);
    vt_ctx *cm = mkctx(c, VT_ROLE_CLIENT, "sim", false, false);
    rate[PLAIN] = measure(sp, cp, secs);
    rate[ATT] = measure(sa, ca, secs);
    rate[MUT] = measure(sm, cm, secs);
    vt_ctx_free(sp);
    vt_ctx_free(cp);
    vt_ctx_free(sa);
    vt_ctx_free(ca);
    vt_ctx_free(sm);
    vt_ctx_free(cm);
    return rate[PLAIN] > 0 && rate[ATT] > 0 && rate[MUT] > 0;
}

int main(int argc, char **argv)
{
    double secs = argc > 1 ? strtod(argv[1], NULL) : 1.5;
    if (!(secs > 0 && secs < 3600))
        secs = 1.5;
    long rounds = argc > 2 ? strtol(argv[2], NULL, 10) : 3;
    if (rounds < 1 || rounds > MAX_ROUNDS)
        rounds = 3;
    vt_log_set(NULL, NULL, VT_LOG_OFF);
    bench_sim_setup(&sim, "vt-matrixbench");
    const char *libs[2] = { "openssl", "wolfssl" };
    const struct vt_instance_hdr *h;
    size_t nlibs = vti_instance_find(VT_KIND_TLS, "wolfssl", &h).err ? 1 : 2;

    printf("attested TLS 1.3 handshakes/s over TCP 127.0.0.1, P-256, sim TEE, %.1f s per cell, "
           "%ld interleaved round%s (medians; ratios: median of the per-round ratios)\n",
           secs, rounds, rounds == 1 ? "" : "s");
    int rc = 0;
    static double rate[2][2][NMODES][MAX_ROUNDS], q[2][2][2][MAX_ROUNDS];
    for (long r = 0; r < rounds; r++) {
        for (size_t si = 0; si < nlibs; si++) {
            for (size_t ci = 0; ci < nlibs; ci++) {
                double one[NMODES];
                if (!pair_round(libs[si], libs[ci], secs, one))
                    rc = 1;
                for (int m = 0; m < NMODES; m++)
                    rate[si][ci][m][r] = one[m];
                q[si][ci][0][r] = one[PLAIN] > 0 ? one[ATT] / one[PLAIN] : 0;
                q[si][ci][1][r] = one[PLAIN] > 0 ? one[MUT] / one[PLAIN] : 0;
            }
        }
    }
    printf("%-8s %-8s %10s %10s %10s %9s %9s\n", "server", "client", "plain", "attested",
           "att-mutual", "att/plain", "mut/plain");
    for (size_t si = 0; si < nlibs; si++)
        for (size_t ci = 0; ci < nlibs; ci++)
            printf("%-8s %-8s %10.1f %10.1f %10.1f %9.3f %9.3f\n", libs[si], libs[ci],
                   median(rate[si][ci][PLAIN], (int)rounds), median(rate[si][ci][ATT], (int)rounds),
                   median(rate[si][ci][MUT], (int)rounds), median(q[si][ci][0], (int)rounds),
                   median(q[si][ci][1], (int)rounds));
    /* the pairs with a wolfSSL side, attested / plain (issue 16: aim >= 0.85) */
    for (size_t si = 0; si < nlibs; si++)
        for (size_t ci = 0; ci < nlibs; ci++)
            if (si || ci)
                printf("ratio wolfssl_%s-%s: %.3f\n", libs[si], libs[ci],
                       median(q[si][ci][0], (int)rounds));
    bench_sim_cleanup(&sim);
    return rc;
}
