/*
 * ctx_test.c - the public attested-TLS API (vt_ctx / vt_conn) end to end in one process:
 * client and server in two threads over socketpair(), with the sim TEE.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/instance.h"
#include "vt_test.h"

static char root_pem[512];
static const char *roots[1];

static void sim_setup(void)
{
    const char *dir = vt_test_tmpdir();
    const struct vt_instance_hdr *h = NULL;
    CHECK_OK(vti_instance_find(VT_KIND_ATTESTER, "sim", &h));
    if (!h)
        exit(1);
    const struct vt_attester_ops *a = (const struct vt_attester_ops *)h;
    struct vt_buf pem = VT_BUF_INIT;
    CHECK(a->sim_init != NULL);
    CHECK_OK(a->sim_init(dir, &pem));
    snprintf(root_pem, sizeof(root_pem), "%s/root-ca.pem", dir);
    CHECK_OK(vt_file_write(root_pem, pem.p, pem.len, 0600));
    vt_buf_free(&pem);
    roots[0] = root_pem;
}

static struct vt_config base(enum vt_role role, const char *attester)
{
    struct vt_config c;
    memset(&c, 0, sizeof(c));
    c.role = role;
    c.attester = attester;
    c.sim_dir = vt_test_tmpdir();
    c.root_ca_files = roots;
    c.n_root_ca_files = 1;
    return c;
}

/* One side of a connection. */
struct side {
    vt_ctx *ctx;
    int fd;
    bool server;
    int hs_err;       /* handshake result */
    int io_err;       /* first read/write error after the handshake */
    char detail[320];
    bool had_report;
    char tee[16];
    bool binding;
    char reply[64];
};

static void *run_side(void *arg)
{
    struct side *s = arg;
    vt_conn *c = NULL;
    s->hs_err = vt_conn_new(s->ctx, s->fd, &c);
    if (s->hs_err)
        goto out;
    s->hs_err = vt_conn_handshake(c);
    snprintf(s->detail, sizeof(s->detail), "%s", vt_conn_error_detail(c));
    if (s->hs_err)
        goto out;
    const vt_report *rep = vt_conn_peer_report(c);
    s->had_report = rep != NULL;
    if (rep) {
        snprintf(s->tee, sizeof(s->tee), "%s", vt_report_tee(rep));
        const struct vt_claim *b = vt_claims_get(vt_report_claims(rep), "ratls.binding");
        s->binding = b && b->type == VT_CLAIM_BOOL && b->b;
    }
    const char *msg = s->server ? "pong" : "ping";
    size_t got = 0;
    if (!s->server) {
        s->io_err = vt_conn_write(c, msg, 4);
        if (!s->io_err)
            s->io_err = vt_conn_read(c, s->reply, sizeof(s->reply) - 1, &got);
    } else {
        s->io_err = vt_conn_read(c, s->reply, sizeof(s->reply) - 1, &got);
        if (!s->io_err)
            s->io_err = vt_conn_write(c, msg, 4);
    }
    if (s->io_err)
        snprintf(s->detail, sizeof(s->detail), "%s", vt_conn_error_detail(c));
    else
        (void)vt_conn_shutdown(c);
out:
    vt_conn_free(c);
    close(s->fd); /* unblocks the other side if this one failed */
    return NULL;
}

static void run_pair(vt_ctx *server, vt_ctx *client, struct side *ss, struct side *cs)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) {
        perror("socketpair");
        exit(1);
    }
    memset(ss, 0, sizeof(*ss));
    memset(cs, 0, sizeof(*cs));
    *ss = (struct side){ .ctx = server, .fd = sv[0], .server = true };
    *cs = (struct side){ .ctx = client, .fd = sv[1], .server = false };
    pthread_t t;
    CHECK(pthread_create(&t, NULL, run_side, ss) == 0);
    run_side(cs);
    pthread_join(t, NULL);
}

static void test_one_way(void)
{
    struct vt_config sc = base(VT_ROLE_SERVER, "sim");
    struct vt_config cc = base(VT_ROLE_CLIENT, "none");
    vt_ctx *srv = NULL, *cli = NULL;
    CHECK_OK(vt_ctx_new(&sc, &srv));
    CHECK_OK(vt_ctx_new(&cc, &cli));
    if (!srv || !cli)
        return;
    size_t len0 = 0;
    const uint8_t *cert0 = vt_ctx_cert(srv, &len0);
    CHECK(cert0 && len0 > 100);
    uint8_t *copy = malloc(len0);
    memcpy(copy, cert0, len0);

    for (int i = 0; i < 3; i++) {
        struct side ss, cs;
        run_pair(srv, cli, &ss, &cs);
        CHECK_OK(ss.hs_err);
        CHECK_OK(cs.hs_err);
        CHECK_OK(cs.io_err);
        CHECK(!ss.had_report);            /* not mutual: the server verifies nobody */
        CHECK(cs.had_report);
        CHECK(strcmp(cs.tee, "sim") == 0);
        CHECK(cs.binding);
        CHECK(strcmp(cs.reply, "pong") == 0);
        CHECK(strcmp(ss.reply, "ping") == 0);
    }
    /* The certificate is built once and reused: same bytes, same pointer. */
    size_t len1 = 0;
    const uint8_t *cert1 = vt_ctx_cert(srv, &len1);
    CHECK(cert1 == cert0 && len1 == len0 && memcmp(cert1, copy, len0) == 0);
    free(copy);
    vt_ctx_free(srv);
    vt_ctx_free(cli);
}

/* The client sees the same server key (pubkey-hash claim) on every connection. */
struct hash_cb_state {
    int calls;
    char first[200];
    bool same;
    bool refuse;
};

static int hash_cb(const vt_report *peer, void *arg)
{
    struct hash_cb_state *st = arg;
    st->calls++;
    if (!peer)
        return st->refuse;
    const struct vt_claim *h = vt_claims_get(vt_report_claims(peer), "ratls.pubkey_hash");
    char hex[200] = "";
    if (h && h->type == VT_CLAIM_BYTES && h->n < 90)
        for (size_t i = 0; i < h->n; i++)
            snprintf(hex + 2 * i, 3, "%02x", h->p[i]);
    if (st->calls == 1) {
        snprintf(st->first, sizeof(st->first), "%s", hex);
        st->same = hex[0] != '\0';
    } else if (strcmp(st->first, hex) != 0) {
        st->same = false;
    }
    return st->refuse;
}

static void test_cert_reuse_and_callback(void)
{
    struct vt_config sc = base(VT_ROLE_SERVER, "sim");
    struct vt_config cc = base(VT_ROLE_CLIENT, "none");
    struct hash_cb_state st = { 0 };
    cc.verify_cb = hash_cb;
    cc.verify_cb_arg = &st;
    vt_ctx *srv = NULL, *cli = NULL;
    CHECK_OK(vt_ctx_new(&sc, &srv));
    CHECK_OK(vt_ctx_new(&cc, &cli));
    if (!srv || !cli)
        return;
    for (int i = 0; i < 3; i++) {
        struct side ss, cs;
        run_pair(srv, cli, &ss, &cs);
        CHECK_OK(cs.hs_err);
    }
    CHECK(st.calls == 3);
    CHECK(st.same);
    vt_ctx_free(cli);

    /* A callback that refuses: VT_ERR_CALLBACK_REFUSED with a readable reason. */
    struct hash_cb_state st2 = { .refuse = true };
    cc.verify_cb_arg = &st2;
    CHECK_OK(vt_ctx_new(&cc, &cli));
    struct side ss, cs;
    run_pair(srv, cli, &ss, &cs);
    CHECK_ERR(cs.hs_err, VT_ERR_CALLBACK_REFUSED);
    CHECK(strstr(cs.detail, "peer refused: refused by the verification callback") != NULL);
    CHECK(!cs.had_report);
    CHECK(ss.hs_err != VT_OK); /* the server saw the client's alert */
    vt_ctx_free(cli);
    vt_ctx_free(srv);
}

static void test_mutual(void)
{
    struct vt_config sc = base(VT_ROLE_SERVER, "sim");
    sc.mutual = true;
    struct vt_config cc = base(VT_ROLE_CLIENT, "sim");
    vt_ctx *srv = NULL, *cli = NULL;
    CHECK_OK(vt_ctx_new(&sc, &srv));
    CHECK_OK(vt_ctx_new(&cc, &cli));
    if (!srv || !cli)
        return;
    struct side ss, cs;
    run_pair(srv, cli, &ss, &cs);
    CHECK_OK(ss.hs_err);
    CHECK_OK(cs.hs_err);
    CHECK(ss.had_report && strcmp(ss.tee, "sim") == 0 && ss.binding);
    CHECK(cs.had_report && strcmp(cs.tee, "sim") == 0 && cs.binding);
    CHECK(strcmp(cs.reply, "pong") == 0);
    vt_ctx_free(cli);

    /* A client without evidence is refused by a mutual server. */
    cc.attester = "none";
    CHECK_OK(vt_ctx_new(&cc, &cli));
    run_pair(srv, cli, &ss, &cs);
    CHECK_ERR(ss.hs_err, VT_ERR_NO_EVIDENCE);
    CHECK(strstr(ss.detail, "peer refused: peer presented no evidence") != NULL);
    CHECK(!ss.had_report);
    /* TLS 1.3: the client finishes first and learns of the refusal on its first read. */
    CHECK(cs.hs_err != VT_OK || cs.io_err != VT_OK);
    vt_ctx_free(srv);

    /* ... unless the server allows unattested clients: then the peer report is NULL. */
    sc.allow_unattested = true;
    CHECK_OK(vt_ctx_new(&sc, &srv));
    run_pair(srv, cli, &ss, &cs);
    CHECK_OK(ss.hs_err);
    CHECK_OK(cs.hs_err);
    CHECK_OK(cs.io_err);
    CHECK(!ss.had_report);
    CHECK(strcmp(cs.reply, "pong") == 0);
    vt_ctx_free(srv);
    vt_ctx_free(cli);
}

static void test_refusals(void)
{
    /* A client without the sim root refuses sim evidence. */
    struct vt_config sc = base(VT_ROLE_SERVER, "sim");
    struct vt_config cc = base(VT_ROLE_CLIENT, "none");
    cc.n_root_ca_files = 0;
    cc.root_ca_files = NULL;
    vt_ctx *srv = NULL, *cli = NULL;
    CHECK_OK(vt_ctx_new(&sc, &srv));
    CHECK_OK(vt_ctx_new(&cc, &cli));
    if (!srv || !cli)
        return;
    struct side ss, cs;
    run_pair(srv, cli, &ss, &cs);
    CHECK_ERR(cs.hs_err, VT_ERR_NO_ROOT);
    CHECK(strncmp(cs.detail, "peer refused: ", 14) == 0);
    CHECK_ERR(ss.hs_err, VT_ERR_TLS_HANDSHAKE);
    CHECK(strstr(ss.detail, "alert") != NULL);
    vt_ctx_free(cli);

    /* A server with an ordinary certificate is refused unless allow_unattested. */
    struct vt_config pc = base(VT_ROLE_SERVER, "none");
    vt_ctx *plain = NULL;
    CHECK_OK(vt_ctx_new(&pc, &plain));
    cc = base(VT_ROLE_CLIENT, "none");
    CHECK_OK(vt_ctx_new(&cc, &cli));
    run_pair(plain, cli, &ss, &cs);
    CHECK_ERR(cs.hs_err, VT_ERR_NO_EVIDENCE);
    vt_ctx_free(cli);
    cc.allow_unattested = true;
    CHECK_OK(vt_ctx_new(&cc, &cli));
    run_pair(plain, cli, &ss, &cs);
    CHECK_OK(cs.hs_err);
    CHECK(!cs.had_report);
    CHECK(strcmp(cs.reply, "pong") == 0);
    vt_ctx_free(cli);
    vt_ctx_free(plain);
    vt_ctx_free(srv);
}

/* Freshness: the client demands a nonce claim; the server's certificate carries it (or not). */
static void test_nonce(void)
{
    static const uint8_t nonce[16] = "fresh-nonce-0001";
    struct vt_config sc = base(VT_ROLE_SERVER, "sim");
    sc.nonce = nonce;
    sc.nonce_len = sizeof(nonce);
    struct vt_config cc = base(VT_ROLE_CLIENT, "none");
    cc.peer_nonce = nonce;
    cc.peer_nonce_len = sizeof(nonce);
    vt_ctx *srv = NULL, *cli = NULL, *stale = NULL;
    CHECK_OK(vt_ctx_new(&sc, &srv));
    CHECK_OK(vt_ctx_new(&cc, &cli));
    struct vt_config sc2 = base(VT_ROLE_SERVER, "sim"); /* no nonce in its certificate */
    CHECK_OK(vt_ctx_new(&sc2, &stale));
    if (!srv || !cli || !stale)
        return;
    struct side ss, cs;
    run_pair(srv, cli, &ss, &cs);
    CHECK_OK(cs.hs_err);
    CHECK(strcmp(cs.reply, "pong") == 0);
    run_pair(stale, cli, &ss, &cs);
    CHECK_ERR(cs.hs_err, VT_ERR_CERT_NONCE_MISMATCH);
    vt_ctx_free(srv);
    vt_ctx_free(stale);
    vt_ctx_free(cli);
}

static void test_usage(void)
{
    vt_ctx *ctx = NULL;
    CHECK_ERR(vt_ctx_new(NULL, &ctx), VT_ERR_INVALID_ARG);
    struct vt_config c = base(VT_ROLE_CLIENT, "none");
    CHECK_ERR(vt_ctx_new(&c, NULL), VT_ERR_INVALID_ARG);
    c.role = (enum vt_role)7;
    CHECK_ERR(vt_ctx_new(&c, &ctx), VT_ERR_INVALID_ARG);
    c = base(VT_ROLE_CLIENT, "none");
    c.tls = "no-such-tls";
    CHECK_ERR(vt_ctx_new(&c, &ctx), VT_ERR_NO_INSTANCE);
    c = base(VT_ROLE_CLIENT, "no-such-tee");
    CHECK_ERR(vt_ctx_new(&c, &ctx), VT_ERR_NO_INSTANCE);
    c = base(VT_ROLE_CLIENT, "none");
    c.cert_file = root_pem; /* without key_file */
    CHECK_ERR(vt_ctx_new(&c, &ctx), VT_ERR_INVALID_ARG);
    c = base(VT_ROLE_CLIENT, "none");
    c.key_type = (enum vt_key_type)9;
    CHECK_ERR(vt_ctx_new(&c, &ctx), VT_ERR_KEY_TYPE);
    c = base(VT_ROLE_CLIENT, "none");
    struct vt_option bad_at = { "verify.at", "yesterday" };
    c.options = &bad_at;
    c.n_options = 1;
    CHECK_ERR(vt_ctx_new(&c, &ctx), VT_ERR_BAD_TIME);
    CHECK(ctx == NULL);

    /* I/O before the handshake is a state error; free functions accept NULL. */
    c = base(VT_ROLE_CLIENT, "none");
    CHECK_OK(vt_ctx_new(&c, &ctx));
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    vt_conn *conn = NULL;
    CHECK_ERR(vt_conn_new(ctx, -1, &conn), VT_ERR_INVALID_ARG);
    CHECK_OK(vt_conn_new(ctx, sv[0], &conn));
    size_t got = 0;
    char b[4];
    CHECK_ERR(vt_conn_read(conn, b, sizeof(b), &got), VT_ERR_STATE);
    CHECK_ERR(vt_conn_write(conn, "x", 1), VT_ERR_STATE);
    CHECK(vt_conn_peer_report(conn) == NULL);
    /* The peer hangs up during the handshake. */
    close(sv[1]);
    CHECK_ERR(vt_conn_handshake(conn), VT_ERR_TLS_HANDSHAKE);
    CHECK(strlen(vt_conn_error_detail(conn)) > 0);
    CHECK_ERR(vt_conn_handshake(conn), VT_ERR_STATE);
    vt_conn_free(conn);
    close(sv[0]);
    vt_ctx_free(ctx);
    vt_ctx_free(NULL);
    vt_conn_free(NULL);
}

/* Many threads making connections on one pair of contexts at once. */
struct worker {
    vt_ctx *srv, *cli;
    int ok;
};

static void *worker(void *arg)
{
    struct worker *w = arg;
    for (int i = 0; i < 4; i++) {
        struct side ss, cs;
        run_pair(w->srv, w->cli, &ss, &cs);
        if (ss.hs_err == VT_OK && cs.hs_err == VT_OK && ss.had_report && cs.had_report &&
            strcmp(cs.reply, "pong") == 0)
            w->ok++;
    }
    return NULL;
}

static void test_threads(void)
{
    struct vt_config sc = base(VT_ROLE_SERVER, "sim");
    sc.mutual = true;
    struct vt_config cc = base(VT_ROLE_CLIENT, "sim");
    vt_ctx *srv = NULL, *cli = NULL;
    CHECK_OK(vt_ctx_new(&sc, &srv));
    CHECK_OK(vt_ctx_new(&cc, &cli));
    if (!srv || !cli)
        return;
    struct worker w[4];
    pthread_t t[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (struct worker){ srv, cli, 0 };
        CHECK(pthread_create(&t[i], NULL, worker, &w[i]) == 0);
    }
    int total = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        total += w[i].ok;
    }
    CHECK(total == 16);
    vt_ctx_free(srv);
    vt_ctx_free(cli);
}

int main(void)
{
    vt_log_set(NULL, NULL, VT_LOG_OFF);
    sim_setup();
    test_usage();
    test_one_way();
    test_cert_reuse_and_callback();
    test_mutual();
    test_refusals();
    test_nonce();
    test_threads();
    return vt_test_done();
}
