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
 *   attested-cold    attested, the client's peer caches emptied before each handshake
 *   plain+fc-verify  plain, the client also runs a first contact's three verifications
 * The attested certificate is built once per context (cached), so the difference from
 * plain is the verification of the peer's evidence (sim: ECDSA signatures and the AK chain).
 * Server and client run in two threads (the machine's two cores).
 *
 * Steady state vs first contact: the openssl crypto backend memoizes parsed certificates,
 * decoded keys and successful AK-chain checks by content (src/crypto/openssl.c), so a peer seen
 * before costs its evidence signature. "attested-cold" (not in the target ratios above; its
 * own aim: ratio first_contact) is "attested" with vti_ossl_memo_flush_peer() called by the
 * client before every handshake (timed), the cost of a never-seen peer. That empties exactly
 * the caches that hold peer input: decoded public keys (SHA-256 of SPKI -> EVP_PKEY), parsed
 * certificates (vt_cert_info), parsed X509 objects (including the one the TLS stack offers
 * for the peer's leaf) and successful chain verifications. It keeps the trust-anchor stores
 * (one X509_STORE per set of root bytes, here the sim root-ca.pem the client is configured
 * with): configuration, loaded before any peer is seen. No TLS session is resumed in any
 * mode (tickets and session caches are off).
 *
 * The crypto bound of a first contact: the signatures attested-cold must verify beyond plain
 * TLS 1.3, counted on its code path (TLS hook -> vti_cert_verify -> sim_verify), all on the
 * client, all ECDSA P-256 / SHA-256:
 *   1. the RA-TLS leaf's self-signature (vti_ratls_cert_parse asks cert_parse for it);
 *   2. the attestation-key (AK) certificate's signature by the sim root (chain_verify; the
 *      root is a trust anchor, whose own signature OpenSSL does not check);
 *   3. the evidence signature by the AK (sim_verify).
 * Both modes verify the server's CertificateVerify; plain does not verify its self-signed
 * server certificate's signature (the certificate is itself the trust anchor). Each of the
 * three is timed with OpenSSL alone (keys decoded beforehand) on the bytes of a sim RA-TLS
 * certificate made from the bench's sim directory (same curve, same root and AK, same
 * lengths): X509_verify(leaf, leaf key), X509_verify(AK certificate, root key),
 * EVP_DigestVerify(evidence signed region, AK key). The client and server steps of a
 * handshake alternate, so the client's verifications add to the handshake's time:
 * bound rate = 1 / (1 / plain rate + t1 + t2 + t3), measured in every round.
 * ratio first_contact_bound = bound / plain (the best first_contact attainable);
 * ratio first_contact_vs_bound = attested-cold / bound.
 * The same bound is also measured as a handshake ("plain+fc-verify", informational: plain
 * TLS 1.3 whose client runs the same three verifications in its certificate check, where
 * attested-cold runs them). Work done inside a handshake can cost more than its time alone
 * (the waiting peer idles longer: wake-ups, colder caches; on this 2-vCPU VM, with no guest
 * halt-polling, markedly so under load), which the sum above does not see.
 * ratio first_contact_bound_in_handshake = plain+fc-verify / plain;
 * ratio first_contact_vs_bound_in_handshake = attested-cold / plain+fc-verify.
 * Two ceilings add what a first contact cannot avoid with Debian's OpenSSL 3.0 beyond those
 * signatures: t4, one d2i_X509 of the AK certificate (X509_verify_cert needs it as an X509,
 * and OpenSSL 3.0 builds a provider decoder chain for the key of every certificate it decodes),
 * and, for the second, the warm attested handshake (the same RA-TLS certificate sent,
 * received and checked against the caches: everything a first contact does besides its
 * first-contact work):
 * ratio first_contact_ceiling_decode = 1 / (1 / plain + t1 + t2 + t3 + t4) / plain;
 * ratio first_contact_ceiling_warm = 1 / (1 / attested + t1 + t2 + t3 + t4) / plain.
 *
 * The modes are measured in ROUNDS interleaved rounds (plain, plain-mutual, ... then again),
 * so that load from other processes hits all modes alike; each mode's rate is the median over
 * the rounds and each ratio the median of the per-round ratios (attested_r / plain_r).
 *
 * Usage: handshake_bench [SECONDS_PER_MODE_PER_ROUND (default 2)] [ROUNDS (default 3)] [MODE]
 * MODE (for profiling, e.g. perf record): run only that mode, no ratios.
 */
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
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
#include "cert/ratls_parse.h"
#include "core/instance.h"
#include "crypto/crypto.h"
#include "crypto/openssl_memo.h"
#include "evidence/sim_evidence.h"
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

/* First contact: the client forgets every memoized peer certificate, key and chain first
 * (the trust-anchor stores are configuration and stay). */
static int vt_side_cold(void *arg, int fd, bool server)
{
    vti_ossl_memo_flush_peer();
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

/* ---- the crypto bound of a first contact (see the top of the file) ------------------------- */

static struct bench_sim sim;

/* A sim RA-TLS certificate from the bench's sim directory, and OpenSSL objects of its leaf,
 * AK certificate and root with their keys decoded once (not part of what is timed). */
static struct {
    struct vti_identity id;
    struct vti_ratls_cert rc;   /* owns the evidence bytes se points into */
    struct vti_sim_evidence se;
    X509 *leaf, *ak, *root;
} fc;

static X509 *x509_of(const uint8_t *p, size_t len)
{
    const unsigned char *q = p;
    return d2i_X509(NULL, &q, (long)len);
}

static int fc_leaf_sig(void)
{
    return X509_verify(fc.leaf, X509_get0_pubkey(fc.leaf));
}

static int fc_ak_sig(void)
{
    return X509_verify(fc.ak, X509_get0_pubkey(fc.root));
}

static int fc_evidence_sig(void)
{
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    int ok = c && EVP_DigestVerifyInit(c, NULL, EVP_sha256(), NULL, X509_get0_pubkey(fc.ak)) == 1 &&
             EVP_DigestVerify(c, fc.se.sig, fc.se.sig_len, fc.se.signed_p, fc.se.signed_len) == 1;
    EVP_MD_CTX_free(c);
    return ok;
}

static void fc_setup(void)
{
    const struct vt_instance_hdr *h = NULL;
    const struct vt_crypto_ops *cr = NULL;
    struct vti_attest_ctx actx = { .sim_dir = sim.dir };
    bool ok = vti_instance_find(VT_KIND_ATTESTER, "sim", &h).err == 0 &&
              vti_crypto_get(NULL, &cr).err == 0;
    struct vti_identity_params p = { .key_type = VT_KEY_P256, .attest_ctx = &actx,
                                     .attester = ok ? (const struct vt_attester_ops *)h : NULL };
    ok = ok && vti_identity_create(&p, &fc.id).err == 0 &&
         vti_ratls_cert_parse(cr, fc.id.cert_der.p, fc.id.cert_der.len, &fc.rc).err == 0 &&
         fc.rc.has_evidence &&
         vti_sim_evidence_parse(fc.rc.ev.ev, fc.rc.ev.ev_len, &fc.se).err == 0;
    BIO *b = ok ? BIO_new_file(sim.root_pem, "r") : NULL;
    fc.root = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
    BIO_free(b);
    fc.leaf = ok ? x509_of(fc.id.cert_der.p, fc.id.cert_der.len) : NULL;
    fc.ak = ok ? x509_of(fc.se.ak_cert, fc.se.ak_cert_len) : NULL;
    /* what is timed must succeed, as it does in the handshake */
    if (!fc.root || !fc.leaf || !fc.ak || fc_leaf_sig() != 1 || fc_ak_sig() != 1 ||
        fc_evidence_sig() != 1) {
        fprintf(stderr, "first-contact bound setup failed\n");
        exit(1);
    }
    vti_ossl_memo_flush(); /* what the setup parsed is not left in the caches */
}

static void fc_cleanup(void)
{
    X509_free(fc.leaf);
    X509_free(fc.ak);
    X509_free(fc.root);
    vti_ratls_cert_free(&fc.rc);
    vti_identity_free(&fc.id);
}

/* Seconds per call of fn, timed for `secs` (at least 20 calls). */
static double per_call(const char *name, int (*fn)(void), double secs)
{
    long n = 0;
    double t0 = bench_now(), t1 = t0;
    while (t1 - t0 < secs || n < 20) {
        if (fn() != 1) {
            fprintf(stderr, "%s failed\n", name);
            exit(1);
        }
        n++;
        t1 = bench_now();
    }
    printf("  %-16s %8.1f us/verify  (%ld in %.2f s)\n", name, (t1 - t0) / (double)n * 1e6, n,
           t1 - t0);
    return (t1 - t0) / (double)n;
}

/* One decode of the AK certificate, as chain_verify needs it (X509 object, key decoded). */
static int fc_ak_decode(void)
{
    const unsigned char *q = fc.se.ak_cert;
    X509 *x = d2i_X509(NULL, &q, (long)fc.se.ak_cert_len);
    int ok = x && X509_get0_pubkey(x) ? 1 : 0;
    X509_free(x);
    return ok;
}

/* The three verifications a first contact adds to plain TLS, in seconds. */
static double fc_mandatory(double secs)
{
    return per_call("leaf self-sig", fc_leaf_sig, secs / 3) +
           per_call("AK chain sig", fc_ak_sig, secs / 3) +
           per_call("evidence sig", fc_evidence_sig, secs / 3);
}

/* plain's certificate check, then the three verifications of a first contact (the
 * "plain+fc-verify" mode). */
static int fc_verify_cb(X509_STORE_CTX *sc, void *arg)
{
    (void)arg;
    return X509_verify_cert(sc) == 1 && fc_leaf_sig() == 1 && fc_ak_sig() == 1 &&
           fc_evidence_sig() == 1;
}

/* ---- setup -------------------------------------------------------------------------------- */

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

enum { M_PLAIN, M_PLAIN_MUTUAL, M_NONE, M_ATT, M_ATT_MUTUAL, M_ATT_COLD, M_PLAIN_FC, M__COUNT };
#define MAX_ROUNDS 20

static const char *names[M__COUNT] = { "plain", "plain-mutual", "veritee-none", "attested",
                                       "attested-mutual", "attested-cold", "plain+fc-verify" };

/* Every mode's sides and their arguments. */
struct modes {
    side_fn sf[M__COUNT], cf[M__COUNT];
    void *sa[M__COUNT], *ca[M__COUNT];
};

/* Measured rates per mode and round; bound: plain + the first contact's verifications. */
struct results {
    long rounds;
    double rate[M__COUNT][MAX_ROUNDS];
    double bound[MAX_ROUNDS];
    double fc_secs[MAX_ROUNDS]; /* t1 + t2 + t3 + t4 (see the top of the file) */
};

static bool run_rounds(const struct modes *md, double secs, struct results *res)
{
    bool ok = true;
    for (long r = 0; r < res->rounds; r++) {
        printf("round %ld\n", r + 1);
        for (int m = 0; m < M__COUNT; m++) {
            res->rate[m][r] = measure(names[m], md->sf[m], md->sa[m], md->cf[m], md->ca[m], secs);
            ok = ok && res->rate[m][r] > 0;
            if (m != M_PLAIN || !ok)
                continue;
            /* right after plain, so that both see the same load */
            double t = fc_mandatory(secs);
            res->bound[r] = 1.0 / (1.0 / res->rate[M_PLAIN][r] + t);
            printf("  %-16s %8.1f handshakes/s  (plain + the 3 verifications above)\n",
                   "bound", res->bound[r]);
            res->fc_secs[r] = t + per_call("AK decode", fc_ak_decode, secs / 3);
        }
    }
    return ok;
}

static void print_ratios(struct results *res)
{
    int n = (int)res->rounds;
    double q[M__COUNT][MAX_ROUNDS], qb[MAX_ROUNDS], qvb[MAX_ROUNDS], qvh[MAX_ROUNDS];
    double qcd[MAX_ROUNDS], qcw[MAX_ROUNDS];
    double med[M__COUNT];
    for (int m = 0; m < M__COUNT; m++) {
        for (int r = 0; r < n; r++) {
            int ref = m == M_ATT_MUTUAL ? M_PLAIN_MUTUAL : M_PLAIN;
            q[m][r] = res->rate[m][r] / res->rate[ref][r];
        }
    }
    for (int r = 0; r < n; r++) {
        qb[r] = res->bound[r] / res->rate[M_PLAIN][r];
        qvb[r] = res->rate[M_ATT_COLD][r] / res->bound[r];
        qvh[r] = res->rate[M_ATT_COLD][r] / res->rate[M_PLAIN_FC][r];
        qcd[r] = 1.0 / (1.0 / res->rate[M_PLAIN][r] + res->fc_secs[r]) / res->rate[M_PLAIN][r];
        qcw[r] = 1.0 / (1.0 / res->rate[M_ATT][r] + res->fc_secs[r]) / res->rate[M_PLAIN][r];
    }
    for (int m = 0; m < M__COUNT; m++)
        med[m] = median(res->rate[m], n);
    printf("median over %d round%s:\n", n, n == 1 ? "" : "s");
    for (int m = 0; m < M__COUNT; m++)
        printf("  %-16s %8.1f handshakes/s\n", names[m], med[m]);
    printf("  %-16s %8.1f handshakes/s  (plain + first-contact verifications)\n", "bound",
           median(res->bound, n));
    printf("ratio attested/plain (server-only attestation): %.2f  (target >= 0.80)\n",
           median(q[M_ATT], n));
    printf("ratio attested-mutual/plain-mutual:            %.2f  (target >= 0.80)\n",
           median(q[M_ATT_MUTUAL], n));
    printf("ratio veritee-none/plain (API overhead):        %.2f\n", median(q[M_NONE], n));
    printf("ratio attested-cold/plain (first contact, peer caches emptied): %.2f\n",
           median(q[M_ATT_COLD], n));
    printf("ratio first_contact: %.2f  (attested-cold / plain, target >= 0.80)\n",
           median(q[M_ATT_COLD], n));
    printf("ratio first_contact_bound: %.3f  (plain + the 3 mandatory verifications, / plain: "
           "the best first_contact attainable)\n", median(qb, n));
    printf("ratio first_contact_vs_bound: %.3f  (attested-cold / that bound)\n", median(qvb, n));
    printf("ratio first_contact_bound_in_handshake: %.3f  (plain+fc-verify / plain)\n",
           median(q[M_PLAIN_FC], n));
    printf("ratio first_contact_vs_bound_in_handshake: %.3f  (attested-cold / plain+fc-verify)\n",
           median(qvh, n));
    printf("ratio first_contact_ceiling_decode: %.3f  (plain + the 3 verifications + the AK "
           "certificate's d2i_X509, / plain)\n", median(qcd, n));
    printf("ratio first_contact_ceiling_warm: %.3f  (warm attested + the same, / plain)\n",
           median(qcw, n));
}

int main(int argc, char **argv)
{
    double secs = argc > 1 ? strtod(argv[1], NULL) : 2.0;
    if (!(secs > 0 && secs < 3600))
        secs = 2.0;
    struct results res = { .rounds = argc > 2 ? strtol(argv[2], NULL, 10) : 3 };
    if (res.rounds < 1 || res.rounds > MAX_ROUNDS)
        res.rounds = 3;
    vt_log_set(NULL, NULL, VT_LOG_OFF);
    bench_sim_setup(&sim, "vt-hsbench");

    struct vti_identity sid = { 0 }, cid = { 0 };
    struct vti_identity_params pp = { .key_type = VT_KEY_P256 };
    if (vti_identity_create(&pp, &sid).err || vti_identity_create(&pp, &cid).err) {
        fprintf(stderr, "identity creation failed\n");
        return 1;
    }
    fc_setup();
    printf("handshake_bench: TLS 1.3, P-256 keys, %s, one fresh connection per handshake over "
           "socketpair(), client and server in two threads, %.1f s per mode, %ld interleaved "
           "round%s\n",
           OpenSSL_version(OPENSSL_VERSION), secs, res.rounds, res.rounds == 1 ? "" : "s");

    SSL_CTX *ps = ossl_ctx(true, &sid, &cid, false), *pc = ossl_ctx(false, &cid, &sid, true);
    SSL_CTX *psm = ossl_ctx(true, &sid, &cid, true);
    SSL_CTX *pcf = ossl_ctx(false, &cid, &sid, true);
    SSL_CTX_set_cert_verify_callback(pcf, fc_verify_cb, NULL);
    vt_ctx *ns = mkctx(VT_ROLE_SERVER, "none", false, false);
    vt_ctx *nc = mkctx(VT_ROLE_CLIENT, "none", false, true);
    vt_ctx *as = mkctx(VT_ROLE_SERVER, "sim", false, false);
    vt_ctx *ac = mkctx(VT_ROLE_CLIENT, "none", false, false);
    vt_ctx *ms = mkctx(VT_ROLE_SERVER, "sim", true, false);
    vt_ctx *mc = mkctx(VT_ROLE_CLIENT, "sim", false, false);
    const struct modes md = {
        .sf = { ossl_side, ossl_side, vt_side, vt_side, vt_side, vt_side, ossl_side },
        .cf = { ossl_side, ossl_side, vt_side, vt_side, vt_side, vt_side_cold, ossl_side },
        .sa = { ps, psm, ns, as, ms, as, ps },
        .ca = { pc, pc, nc, ac, mc, ac, pcf },
    };

    const char *only = argc > 3 ? argv[3] : NULL;
    bool ok = !only; /* a MODE must name one of the modes */
    for (int m = 0; only && m < M__COUNT; m++) {
        if (strcmp(only, names[m]) != 0)
            continue;
        ok = true;
        for (long r = 0; r < res.rounds; r++)
            ok = ok && measure(names[m], md.sf[m], md.sa[m], md.cf[m], md.ca[m], secs) > 0;
    }
    if (only && !ok)
        fprintf(stderr, "handshake_bench: %s failed (modes: plain, plain-mutual, veritee-none, "
                        "attested, attested-mutual, attested-cold, plain+fc-verify)\n", only);
    if (!only && run_rounds(&md, secs, &res))
        print_ratios(&res);
    else if (!only)
        ok = false;
    SSL_CTX_free(ps);
    SSL_CTX_free(psm);
    SSL_CTX_free(pc);
    SSL_CTX_free(pcf);
    vt_ctx_free(ns);
    vt_ctx_free(nc);
    vt_ctx_free(as);
    vt_ctx_free(ac);
    vt_ctx_free(ms);
    vt_ctx_free(mc);
    fc_cleanup();
    vti_identity_free(&sid);
    vti_identity_free(&cid);
    bench_sim_cleanup(&sim);
    return ok ? 0 : 1;
}
