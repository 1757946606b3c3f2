/* SPDX-License-Identifier: Apache-2.0 */
/*
 * handshake_bench.c - attested TLS 1.3 handshakes per second against plain TLS 1.3 with the
 * same key type (P-256) and the same library (OpenSSL), in one run, over socketpair().
 *
 * Modes (each: a fresh connection per handshake, one byte each way so both sides finish):
 *   plain            raw OpenSSL, server certificate verified against a trust store
 *   plain-mutual     raw OpenSSL, both certificates verified
 *   veritee-none     vt_ctx with an ordinary certificate (client: allow_unattested)
 *   attested         vt_ctx, server attests with the sim TEE, client verifies its evidence
 *   attested-mutual  vt_ctx, both attest with the sim TEE and verify each other
 * The attested certificate is built once per context (cached), so the difference from
 * plain is the verification of the peer's evidence (sim: ECDSA signatures and the AK chain).
 * Server and client run in two threads (the machine's two cores).
 *
 * Steady state vs first contact: the openssl crypto backend memoizes parsed certificates,
 * decoded keys and successful AK-chain checks by content (src/crypto/openssl.c), so a peer seen
 * before costs its evidence signature. "attested-cold" (informational, not in the target
 * ratios) empties those caches before every handshake: the cost of a never-seen peer.
 *
 * The modes are measured in ROUNDS interleaved rounds (plain, plain-mutual, ... then again),
 * so that load from other processes hits all modes alike; each mode's rate is the median over
 * the rounds and each ratio the median of the per-round ratios (attested_r / plain_r).
 *
 * Usage: handshake_bench [SECONDS_PER_MODE_PER_ROUND (default 2)] [ROUNDS (default 3)] [MODE]
 * MODE (for profiling, e.g. perf record): run only that mode, no ratios.
 */
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"
#include "cert/ratls.h"
#include "core/instance.h"
#include "crypto/openssl_memo.h"
#include "veritee/veritee.h"

/* One side of one connection: returns 0 on success. */
typedef int (*side_fn)(void *arg, int fd, bool server);

struct server_thread {
    side_fn fn;
    void *arg;
    int pipe_rd; /* fds to serve; -1 ends */
    int failures;
};

static void *server_loop(void *p)
{
    struct server_thread *st = p;
    int fd;
    while (read(st->pipe_rd, &fd, sizeof(fd)) == (ssize_t)sizeof(fd) && fd >= 0) {
        if (st->fn(st->arg, fd, true) != 0)
            st->failures++;
        close(fd);
    }
    return NULL;
}

/* Run handshakes for `secs` seconds; returns handshakes per second (0 on failure). */
static double measure(const char *name, side_fn sfn, void *sarg, side_fn cfn, void *carg,
                      double secs)
{
    int pp[2];
    if (pipe(pp) != 0)
        return 0;
    struct server_thread st = { sfn, sarg, pp[0], 0 };
    pthread_t t;
    if (pthread_create(&t, NULL, server_loop, &st) != 0)
        return 0;
    long n = 0, fails = 0;
    double t0 = bench_now(), t1 = t0;
    while (t1 - t0 < secs || n < 20) {
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
            break;
        if (write(pp[1], &sv[0], sizeof(int)) != (ssize_t)sizeof(int))
            break;
        if (cfn(carg, sv[1], false) != 0)
            fails++;
        close(sv[1]);
        n++;
        t1 = bench_now();
    }
    int end = -1;
    if (write(pp[1], &end, sizeof(end)) != (ssize_t)sizeof(end))
        fprintf(stderr, "pipe write failed\n");
    pthread_join(t, NULL);
    close(pp[0]);
    close(pp[1]);
    double rate = (double)n / (t1 - t0);
    printf("  %-16s %8.1f handshakes/s  (%ld in %.2f s%s)\n", name, rate, n, t1 - t0,
           fails || st.failures ? ", FAILURES" : "");
    fflush(stdout);
    if (fails || st.failures) {
        fprintf(stderr, "%s: %ld client and %d server failures\n", name, fails, st.failures);
        return 0;
    }
    return rate;
}

/* ---- veritee sides ---------------------------------------------------------------------- */

static int vt_side(void *arg, int fd, bool server)
{
    return bench_vt_side(arg, fd, server);
}

/* First contact: the client forgets every memoized certificate, key and chain first. */
static int vt_side_cold(void *arg, int fd, bool server)
{
    vti_ossl_memo_flush();
    return vt_side(arg, fd, server);
}

/* ---- raw OpenSSL sides ------------------------------------------------------------------ */

static int ossl_side(void *arg, int fd, bool server)
{
    SSL_CTX *sc = arg;
    SSL *s = SSL_new(sc);
    int rc = 1;
    char b = 'x';
    if (!s || SSL_set_fd(s, fd) != 1)
        goto out;
    if ((server ? SSL_accept(s) : SSL_connect(s)) != 1)
        goto out;
    if (server) {
        if (SSL_read(s, &b, 1) != 1 || SSL_write(s, &b, 1) != 1)
            goto out;
    } else {
        if (SSL_write(s, &b, 1) != 1 || SSL_read(s, &b, 1) != 1)
            goto out;
    }
    rc = 0;
out:
    if (rc)
        ERR_print_errors_fp(stderr);
    SSL_free(s);
    return rc;
}

static SSL_CTX *ossl_ctx(bool server, const struct vti_identity *own,
                         const struct vti_identity *trusted, bool verify)
{
    SSL_CTX *sc = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
    const unsigned char *p = own->key_der.p;
    EVP_PKEY *k = d2i_AutoPrivateKey(NULL, &p, (long)own->key_der.len);
    p = own->cert_der.p;
    X509 *x = d2i_X509(NULL, &p, (long)own->cert_der.len);
    p = trusted->cert_der.p;
    X509 *tx = d2i_X509(NULL, &p, (long)trusted->cert_der.len);
    if (!sc || !k || !x || !tx || SSL_CTX_set_min_proto_version(sc, TLS1_3_VERSION) != 1 ||
        SSL_CTX_use_certificate(sc, x) != 1 || SSL_CTX_use_PrivateKey(sc, k) != 1 ||
        X509_STORE_add_cert(SSL_CTX_get_cert_store(sc), tx) != 1) {
        fprintf(stderr, "raw OpenSSL context setup failed\n");
        exit(1);
    }
    SSL_CTX_set_options(sc, SSL_OP_NO_TICKET);
    SSL_CTX_set_num_tickets(sc, 0);
    SSL_CTX_set_session_cache_mode(sc, SSL_SESS_CACHE_OFF);
    if (verify)
        SSL_CTX_set_verify(sc, SSL_VERIFY_PEER | (server ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0),
                           NULL);
    EVP_PKEY_free(k);
    X509_free(x);
    X509_free(tx);
    return sc;
}

/* ---- setup -------------------------------------------------------------------------------- */

static struct bench_sim sim;

static vt_ctx *mkctx(enum vt_role role, const char *attester, bool mutual, bool allow)
{
    return bench_mkctx(&sim, NULL, role, attester, mutual, allow);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

enum { M_PLAIN, M_PLAIN_MUTUAL, M_NONE, M_ATT, M_ATT_MUTUAL, M_ATT_COLD, M__COUNT };
#define MAX_ROUNDS 20

int main(int argc, char **argv)
{
    double secs = argc > 1 ? strtod(argv[1], NULL) : 2.0;
    if (!(secs > 0 && secs < 3600))
        secs = 2.0;
    long rounds = argc > 2 ? strtol(argv[2], NULL, 10) : 3;
    if (rounds < 1 || rounds > MAX_ROUNDS)
        rounds = 3;
    vt_log_set(NULL, NULL, VT_LOG_OFF);
    bench_sim_setup(&sim, "vt-hsbench");

    struct vti_identity sid = { 0 }, cid = { 0 };
    struct vti_identity_params pp = { .key_type = VT_KEY_P256 };
    if (vti_identity_create(&pp, &sid).err || vti_identity_create(&pp, &cid).err) {
        fprintf(stderr, "identity creation failed\n");
        return 1;
    }
    printf("handshake_bench: TLS 1.3, P-256 keys, %s, one fresh connection per handshake over "
           "socketpair(), client and server in two threads, %.1f s per mode, %ld interleaved "
           "round%s\n",
           OpenSSL_version(OPENSSL_VERSION), secs, rounds, rounds == 1 ? "" : "s");

    SSL_CTX *ps = ossl_ctx(true, &sid, &cid, false), *pc = ossl_ctx(false, &cid, &sid, true);
    SSL_CTX *psm = ossl_ctx(true, &sid, &cid, true);
    vt_ctx *ns = mkctx(VT_ROLE_SERVER, "none", false, false);
    vt_ctx *nc = mkctx(VT_ROLE_CLIENT, "none", false, true);
    vt_ctx *as = mkctx(VT_ROLE_SERVER, "sim", false, false);
    vt_ctx *ac = mkctx(VT_ROLE_CLIENT, "none", false, false);
    vt_ctx *ms = mkctx(VT_ROLE_SERVER, "sim", true, false);
    vt_ctx *mc = mkctx(VT_ROLE_CLIENT, "sim", false, false);

    static const char *names[M__COUNT] = { "plain", "plain-mutual", "veritee-none", "attested",
                                           "attested-mutual", "attested-cold" };
    double rate[M__COUNT][MAX_ROUNDS];
    bool ok = true;
    const char *only = argc > 3 ? argv[3] : NULL;
    for (int m = 0; only && m < M__COUNT; m++) {
        if (strcmp(only, names[m]) != 0)
            continue;
        side_fn sf[M__COUNT] = { ossl_side, ossl_side, vt_side, vt_side, vt_side, vt_side };
        side_fn cf[M__COUNT] = { ossl_side, ossl_side, vt_side, vt_side, vt_side, vt_side_cold };
        void *sa[M__COUNT] = { ps, psm, ns, as, ms, as }, *ca[M__COUNT] = { pc, pc, nc, ac, mc, ac };
        for (long r = 0; r < rounds; r++)
            ok = ok && measure(names[m], sf[m], sa[m], cf[m], ca[m], secs) > 0;
        rounds = 0; /* no interleaved rounds, no ratios */
    }
    for (long r = 0; r < rounds; r++) {
        printf("round %ld\n", r + 1);
        rate[M_PLAIN][r] = measure(names[M_PLAIN], ossl_side, ps, ossl_side, pc, secs);
        rate[M_PLAIN_MUTUAL][r] = measure(names[M_PLAIN_MUTUAL], ossl_side, psm, ossl_side, pc, secs);
        rate[M_NONE][r] = measure(names[M_NONE], vt_side, ns, vt_side, nc, secs);
        rate[M_ATT][r] = measure(names[M_ATT], vt_side, as, vt_side, ac, secs);
        rate[M_ATT_MUTUAL][r] = measure(names[M_ATT_MUTUAL], vt_side, ms, vt_side, mc, secs);
        rate[M_ATT_COLD][r] = measure(names[M_ATT_COLD], vt_side, as, vt_side_cold, ac, secs);
        for (int m = 0; m < M__COUNT; m++)
            ok = ok && rate[m][r] > 0;
    }
    if (ok && rounds > 0) {
        double q[M__COUNT][MAX_ROUNDS], med[M__COUNT];
        for (int m = 0; m < M__COUNT; m++) {
            for (long r = 0; r < rounds; r++) {
                int ref = m == M_ATT_MUTUAL ? M_PLAIN_MUTUAL : M_PLAIN;
                q[m][r] = rate[m][r] / rate[ref][r];
            }
            med[m] = median(rate[m], (int)rounds);
        }
        printf("median over %ld round%s:\n", rounds, rounds == 1 ? "" : "s");
        for (int m = 0; m < M__COUNT; m++)
            printf("  %-16s %8.1f handshakes/s\n", names[m], med[m]);
        printf("ratio attested/plain (server-only attestation): %.2f  (target >= 0.80)\n",
               median(q[M_ATT], (int)rounds));
        printf("ratio attested-mutual/plain-mutual:            %.2f  (target >= 0.80)\n",
               median(q[M_ATT_MUTUAL], (int)rounds));
        printf("ratio veritee-none/plain (API overhead):        %.2f\n",
               median(q[M_NONE], (int)rounds));
        printf("ratio attested-cold/plain (first contact, caches emptied): %.2f\n",
               median(q[M_ATT_COLD], (int)rounds));
        printf("ratio first_contact: %.2f  (attested-cold / plain, target >= 0.80)\n",
               median(q[M_ATT_COLD], (int)rounds));
    }
    SSL_CTX_free(ps);
    SSL_CTX_free(psm);
    SSL_CTX_free(pc);
    vt_ctx_free(ns);
    vt_ctx_free(nc);
    vt_ctx_free(as);
    vt_ctx_free(ac);
    vt_ctx_free(ms);
    vt_ctx_free(mc);
    vti_identity_free(&sid);
    vti_identity_free(&cid);
    bench_sim_cleanup(&sim);
    return ok ? 0 : 1;
}
