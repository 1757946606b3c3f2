/* SPDX-License-Identifier: Apache-2.0 */
/*
 * example_client.c - a complete attested TLS client on the libveritee public API.
 *
 * Connects to HOST:PORT, runs the TLS 1.3 handshake (the library verifies the server's
 * evidence: chain to a vendor root or to ROOT_CA, binding to the certificate key), prints the
 * verified report's TEE, TCB status and every claim, sends one line and prints the echo.
 *
 *   example_client HOST PORT [ROOT_CA.pem]
 *
 * Try it against `veritee tls-server --listen 127.0.0.1:4433 --tee sim --sim-dir DIR`
 * with ROOT_CA = DIR/root-ca.pem (sim evidence is trusted only with its root).
 *
 * Build against an installed libveritee:
 *   cc example_client.c $(pkg-config --cflags --libs veritee) -o example_client
 * (static linking: add --static to pkg-config).
 */
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <veritee/veritee.h>

/* A TCP connection to host:port, or -1. */
static int tcp_connect(const char *host, const char *port)
{
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
    struct addrinfo *res = NULL;
    if (getaddrinfo(host, port, &hints, &res) != 0)
        return -1;
    int fd = -1;
    for (struct addrinfo *a = res; a; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
        if (fd < 0)
            continue;
        if (connect(fd, a->ai_addr, a->ai_addrlen) == 0)
            break;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    return fd;
}

/* One claim as "name = value" (bytes as lower-case hex). */
static void print_claim(const struct vt_claim *c)
{
    printf("  %s = ", c->name);
    switch (c->type) {
    case VT_CLAIM_BOOL: printf("%s", c->b ? "true" : "false"); break;
    case VT_CLAIM_INT: printf("%lld", (long long)c->i); break;
    case VT_CLAIM_STRING: printf("%s", c->s); break;
    case VT_CLAIM_BYTES:
        for (size_t i = 0; i < c->n; i++)
            printf("%02x", c->p[i]);
        break;
    case VT_CLAIM_STRLIST:
        for (size_t i = 0; i < c->n; i++)
            printf("%s%s", i ? "," : "", c->list[i]);
        break;
    }
    printf("\n");
}

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: %s HOST PORT [ROOT_CA.pem]\n", argv[0]);
        return 2;
    }
    const char *roots[1] = { argc == 4 ? argv[3] : NULL };
    struct vt_config cfg = {
        .role = VT_ROLE_CLIENT,
        .attester = "none", /* this client does not attest itself */
        .root_ca_files = roots,
        .n_root_ca_files = argc == 4 ? 1 : 0,
    };
    vt_ctx *ctx = NULL;
    int err = vt_ctx_new(&cfg, &ctx);
    if (err != VT_OK) {
        fprintf(stderr, "vt_ctx_new: %s (%s)\n", vt_strerror(err), vt_errname(err));
        return 1;
    }

    int rc = 1;
    vt_conn *conn = NULL;
    int fd = tcp_connect(argv[1], argv[2]);
    if (fd < 0) {
        fprintf(stderr, "cannot connect to %s:%s\n", argv[1], argv[2]);
        goto out;
    }
    err = vt_conn_new(ctx, fd, &conn);
    if (err == VT_OK)
        err = vt_conn_handshake(conn);
    if (err != VT_OK) {
        /* The precise reason the server was refused (or the TLS failure), and its category. */
        fprintf(stderr, "handshake: %s (%s, category %s)\n",
                conn ? vt_conn_error_detail(conn) : vt_strerror(err), vt_errname(err),
                vt_category_name(vt_err_category(err)));
        goto out;
    }

    /* Only a verified report is ever returned; NULL would mean an unattested server, which
     * this client does not allow (no allow_unattested). */
    const vt_report *rep = vt_conn_peer_report(conn);
    if (!rep) {
        fprintf(stderr, "no verified report\n");
        goto out;
    }
    const char *tcb = vt_report_tcb_status(rep);
    printf("verified: %s\n", vt_report_verified(rep) ? "yes" : "no");
    printf("tee: %s%s\n", vt_report_tee(rep),
           vt_report_insecure(rep) ? " (insecure: no hardware protection)" : "");
    printf("tcb status: %s\n", tcb ? tcb : "(none)");
    const vt_claims *claims = vt_report_claims(rep);
    printf("claims:\n");
    for (size_t i = 0; i < vt_claims_count(claims); i++)
        print_claim(vt_claims_at(claims, i));

    /* Application data: one line, half-close, then read the answer until the server closes. */
    static const char msg[] = "hello from example_client\n";
    err = vt_conn_write(conn, msg, sizeof(msg) - 1);
    if (err == VT_OK)
        err = vt_conn_shutdown(conn);
    char buf[512];
    size_t got = 0;
    while (err == VT_OK && (err = vt_conn_read(conn, buf, sizeof(buf), &got)) == VT_OK && got)
        printf("echo: %.*s", (int)got, buf);
    if (err != VT_OK && err != VT_ERR_CLOSED) {
        fprintf(stderr, "connection: %s (%s)\n", vt_conn_error_detail(conn), vt_errname(err));
        goto out;
    }
    rc = 0;
out:
    vt_conn_free(conn);
    if (fd >= 0)
        close(fd);
    vt_ctx_free(ctx);
    return rc;
}
