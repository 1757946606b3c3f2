/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ctx_test.c - the public attested-TLS API (vt_ctx / vt_conn) end to end in one process:
 * client and server in two threads over socketpair(), with the sim TEE.
 */
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
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
    CHECK_OK(vti_file_write(root_pem, pem.p, pem.len, 0600));
    vti_buf_free(&pem);
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

/* ---- peer_name: a small CA and leaf certificates with chosen names (OpenSSL APIs) ---------- */

static EVP_PKEY *ec_key(void)
{
    EVP_PKEY *k = EVP_EC_gen("P-256");
    if (!k)
        exit(1);
    return k;
}

static void add_ext(X509 *issuer, X509 *x, int nid, const char *value)
{
    X509V3_CTX v;
    X509V3_set_ctx(&v, issuer, x, NULL, NULL, 0);
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &v, nid, value);
    if (!e || X509_add_ext(x, e, -1) != 1)
        exit(1);
    X509_EXTENSION_free(e);
}

/* A certificate for cn (and san when not NULL) signed by ca_key (self-signed when ca is NULL). */
static X509 *make_cert(X509 *ca, EVP_PKEY *ca_key, EVP_PKEY *key, const char *cn, const char *san,
                       long serial)
{
    X509 *x = X509_new();
    if (!x)
        exit(1);
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600L * 24);
    X509_NAME *n = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(x, ca ? X509_get_subject_name(ca) : n);
    X509_set_pubkey(x, key);
    X509 *issuer = ca ? ca : x;
    if (!ca) {
        add_ext(issuer, x, NID_basic_constraints, "critical,CA:TRUE");
        add_ext(issuer, x, NID_key_usage, "critical,keyCertSign,cRLSign");
    } else {
        add_ext(issuer, x, NID_basic_constraints, "critical,CA:FALSE");
        add_ext(issuer, x, NID_ext_key_usage, "serverAuth,clientAuth");
    }
    add_ext(issuer, x, NID_subject_key_identifier, "hash");
    if (san)
        add_ext(issuer, x, NID_subject_alt_name, san);
    if (X509_sign(x, ca_key, EVP_sha256()) <= 0)
        exit(1);
    return x;
}

static void write_pem(const char *path, X509 *x, EVP_PKEY *k)
{
    FILE *f = fopen(path, "w");
    if (!f)
        exit(1);
    if (x)
        PEM_write_X509(f, x);
    if (k)
        PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
    fclose(f);
}

/* A server context presenting a CA-issued certificate for cn / san. */
static vt_ctx *named_server(X509 *ca, EVP_PKEY *ca_key, const char *cn, const char *san, long serial)
{
    static int seq;
    char cert[600], key[600];
    snprintf(cert, sizeof(cert), "%s/named-%d.crt", vt_test_tmpdir(), seq);
    snprintf(key, sizeof(key), "%s/named-%d.key", vt_test_tmpdir(), seq++);
    EVP_PKEY *k = ec_key();
    X509 *x = make_cert(ca, ca_key, k, cn, san, serial);
    write_pem(cert, x, NULL);
    write_pem(key, NULL, k);
    X509_free(x);
    EVP_PKEY_free(k);
    struct vt_config sc = base(VT_ROLE_SERVER, "none");
    sc.cert_file = cert;
    sc.key_file = key;
    vt_ctx *srv = NULL;
    CHECK_OK(vt_ctx_new(&sc, &srv));
    return srv;
}

/* Handshake result of a client with allow_unattested + ca_file + peer_name against srv. */
static int named_client(vt_ctx *srv, const char *ca_file, const char *peer_name, char *detail,
                        size_t dl)
{
    struct vt_config cc = base(VT_ROLE_CLIENT, "none");
    cc.allow_unattested = true;
    cc.ca_file = ca_file;
    cc.peer_name = peer_name;
    vt_ctx *cli = NULL;
    int err = vt_ctx_new(&cc, &cli);
    CHECK_OK(err);
    if (err || !srv)
        return err ? err : VT_ERR_INTERNAL;
    struct side ss, cs;
    run_pair(srv, cli, &ss, &cs);
    if (detail)
        snprintf(detail, dl, "%s", cs.detail);
    if (!cs.hs_err)
        CHECK(strcmp(cs.reply, "pong") == 0);
    vt_ctx_free(cli);
    return cs.hs_err;
}

static void test_peer_name(void)
{
    char ca_file[600];
    snprintf(ca_file, sizeof(ca_file), "%s/name-ca.pem", vt_test_tmpdir());
    EVP_PKEY *ca_key = ec_key();
    X509 *ca = make_cert(NULL, ca_key, ca_key, "peer-name test CA", NULL, 1);
    write_pem(ca_file, ca, NULL);

    /* SANs: DNS localhost + IP 127.0.0.1 and ::1; the CN says something else. */
    vt_ctx *srv = named_server(ca, ca_key, "cn.example",
                               "DNS:localhost,IP:127.0.0.1,IP:::1", 2);
    char d[320];
    CHECK_OK(named_client(srv, ca_file, "localhost", NULL, 0));
    CHECK_OK(named_client(srv, ca_file, "LOCALHOST", NULL, 0)); /* DNS names: no case */
    CHECK_OK(named_client(srv, ca_file, "127.0.0.1", NULL, 0));
    CHECK_OK(named_client(srv, ca_file, "::1", NULL, 0));
    CHECK_OK(named_client(srv, ca_file, NULL, NULL, 0));      /* no name: chain only */
    CHECK_ERR(named_client(srv, ca_file, "other.example", d, sizeof(d)),
              VT_ERR_PEER_NAME_MISMATCH);
    CHECK(strstr(d, "peer refused: ") == d && strstr(d, "\"other.example\"") != NULL);
    CHECK_ERR(named_client(srv, ca_file, "127.0.0.2", NULL, 0), VT_ERR_PEER_NAME_MISMATCH);
    CHECK_ERR(named_client(srv, ca_file, "cn.example", NULL, 0), VT_ERR_PEER_NAME_MISMATCH);
    CHECK_ERR(named_client(srv, ca_file, "sub.localhost", NULL, 0), VT_ERR_PEER_NAME_MISMATCH);
    vt_ctx_free(srv);

    /* No SAN at all: the CN is used (RFC 6125 legacy), for an IP literal too (exactly). */
    srv = named_server(ca, ca_key, "legacy.example", NULL, 3);
    CHECK_OK(named_client(srv, ca_file, "legacy.example", NULL, 0));
    CHECK_ERR(named_client(srv, ca_file, "other.example", NULL, 0), VT_ERR_PEER_NAME_MISMATCH);
    vt_ctx_free(srv);
    srv = named_server(ca, ca_key, "127.0.0.1", NULL, 4);
    CHECK_OK(named_client(srv, ca_file, "127.0.0.1", NULL, 0));
    CHECK_ERR(named_client(srv, ca_file, "127.0.0.2", NULL, 0), VT_ERR_PEER_NAME_MISMATCH);
    CHECK_ERR(named_client(srv, ca_file, "127.0.0.10", NULL, 0), VT_ERR_PEER_NAME_MISMATCH);
    vt_ctx_free(srv);
    /* With a SAN (here DNS only), a CN holding the address is not used. */
    srv = named_server(ca, ca_key, "127.0.0.1", "DNS:localhost", 7);
    CHECK_ERR(named_client(srv, ca_file, "127.0.0.1", NULL, 0), VT_ERR_PEER_NAME_MISMATCH);
    CHECK_OK(named_client(srv, ca_file, "localhost", NULL, 0));
    vt_ctx_free(srv);
    /* Wildcards never match an IP literal. */
    srv = named_server(ca, ca_key, "*.0.0.1", NULL, 8);
    CHECK_ERR(named_client(srv, ca_file, "127.0.0.1", NULL, 0), VT_ERR_PEER_NAME_MISMATCH);
    vt_ctx_free(srv);

    /* Wildcards match one whole left-most label only. */
    srv = named_server(ca, ca_key, "wild", "DNS:*.svc.example", 5);
    CHECK_OK(named_client(srv, ca_file, "api.svc.example", NULL, 0));
    CHECK_ERR(named_client(srv, ca_file, "a.b.svc.example", NULL, 0), VT_ERR_PEER_NAME_MISMATCH);
    CHECK_ERR(named_client(srv, ca_file, "svc.example", NULL, 0), VT_ERR_PEER_NAME_MISMATCH);
    vt_ctx_free(srv);

    /* The chain is still checked first: right name, other CA -> not trusted. */
    EVP_PKEY *other_key = ec_key();
    X509 *other = make_cert(NULL, other_key, other_key, "peer-name test CA", NULL, 1);
    srv = named_server(other, other_key, "localhost", "DNS:localhost", 6);
    CHECK_ERR(named_client(srv, ca_file, "localhost", NULL, 0), VT_ERR_NOT_TRUSTED);
    vt_ctx_free(srv);
    X509_free(other);
    EVP_PKEY_free(other_key);

    /* An attested peer: peer_name is ignored (its identity is its evidence). */
    struct vt_config sc = base(VT_ROLE_SERVER, "sim");
    struct vt_config cc = base(VT_ROLE_CLIENT, "none");
    cc.peer_name = "not-the-server.example";
    vt_ctx *asrv = NULL, *cli = NULL;
    CHECK_OK(vt_ctx_new(&sc, &asrv));
    CHECK_OK(vt_ctx_new(&cc, &cli));
    if (asrv && cli) {
        struct side ss, cs;
        run_pair(asrv, cli, &ss, &cs);
        CHECK_OK(cs.hs_err);
        CHECK(cs.had_report);
    }
    vt_ctx_free(asrv);
    vt_ctx_free(cli);

    /* Invalid names are refused when the context is made. */
    static const char *const bad[] = { "", "has space", "tab\there" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cc = base(VT_ROLE_CLIENT, "none");
        cc.peer_name = bad[i];
        cli = NULL;
        CHECK_ERR(vt_ctx_new(&cc, &cli), VT_ERR_INVALID_ARG);
        CHECK(cli == NULL);
    }
    char longname[300];
    memset(longname, 'a', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    cc.peer_name = longname;
    CHECK_ERR(vt_ctx_new(&cc, &cli), VT_ERR_INVALID_ARG);

    X509_free(ca);
    EVP_PKEY_free(ca_key);
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
    test_peer_name();
    test_threads();
    return vt_test_done();
}
