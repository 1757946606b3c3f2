/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tls_test.c - the TLS-wrapper contract (src/tls/tls.h) on every registered TLS backend:
 * the verification hook sees exactly the peer's leaf certificate, once per handshake; a
 * refusal fails the handshake on both sides; no hook without verify_peer; a server that
 * verifies requires a client certificate; clean close; bad keys are refused.
 */
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cert/ratls.h"
#include "tls/tls.h"
#include "vt_test.h"

struct hook_state {
    int calls;
    int answer; /* what the hook returns */
    struct vt_buf seen;
};

static int hook(void *arg, const uint8_t *der, size_t len)
{
    struct hook_state *h = arg;
    h->calls++;
    h->seen.len = 0;
    if (vti_buf_append(&h->seen, der, len).err)
        return VT_ERR_NOMEM;
    return h->answer;
}

struct end {
    const struct vt_tls_ops *ops;
    struct vti_tls_ctx *ctx;
    int fd;
    bool server;
    struct hook_state hs;
    int hs_err, io_err;
    char detail[VTI_TLS_DETAIL_MAX];
    struct vt_buf peer;
    char got[32];
    size_t eof_got; /* bytes of the read after the peer's close_notify (expect 0) */
};

static void *run_end(void *arg)
{
    struct end *e = arg;
    struct vti_tls_conn *c = NULL;
    e->hs_err = e->ops->conn_new(e->ctx, e->fd, &e->hs, &c).err;
    if (e->hs_err)
        goto out;
    e->hs_err = e->ops->handshake(c, e->detail).err;
    if (e->hs_err)
        goto out;
    if (e->ops->peer_cert(c, &e->peer).err)
        e->peer.len = 0;
    size_t n = 0;
    if (e->server) {
        e->io_err = e->ops->read(c, e->got, 5, &n, e->detail).err;
        if (!e->io_err)
            e->io_err = e->ops->write(c, "world", 5, e->detail).err;
        if (!e->io_err) /* then the client's close_notify */
            e->io_err = e->ops->read(c, e->got + 8, 8, &e->eof_got, e->detail).err;
    } else {
        e->io_err = e->ops->write(c, "hello", 5, e->detail).err;
        if (!e->io_err)
            e->io_err = e->ops->read(c, e->got, 5, &n, e->detail).err;
        if (!e->io_err)
            e->io_err = e->ops->shutdown(c, e->detail).err;
    }
out:
    if (c)
        e->ops->conn_free(c);
    close(e->fd);
    return NULL;
}

static void pair(struct end *s, struct end *c)
{
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    s->fd = sv[0];
    c->fd = sv[1];
    s->server = true;
    pthread_t t;
    CHECK(pthread_create(&t, NULL, run_end, s) == 0);
    run_end(c);
    pthread_join(t, NULL);
}

static void reset(struct end *e)
{
    e->hs.calls = 0;
    e->hs_err = e->io_err = 0;
    e->detail[0] = '\0';
    e->peer.len = 0;
    memset(e->got, 0, sizeof(e->got));
    e->eof_got = 99;
}

static void plain_identity(struct vti_identity *id, enum vt_key_type t)
{
    struct vti_identity_params p = { .key_type = t };
    memset(id, 0, sizeof(*id));
    CHECK_OK(vti_identity_create(&p, id));
}

static vt_res mkctx(const struct vt_tls_ops *ops, enum vt_role role, bool verify,
                    const struct vti_identity *id, struct vti_tls_ctx **out)
{
    struct vti_tls_ctx_params p = {
        .role = role, .verify_peer = verify,
        .cert_der = id->cert_der.p, .cert_len = id->cert_der.len,
        .key_der = id->key_der.p, .key_len = id->key_der.len,
        .verify = hook,
    };
    return ops->ctx_new(&p, out);
}

static void test_backend(const struct vt_tls_ops *ops)
{
    fprintf(stderr, "tls backend %s\n", ops->hdr.name);
    struct vti_identity sid, cid;
    plain_identity(&sid, VT_KEY_P256);
    plain_identity(&cid, VT_KEY_P384);
    struct end s = { .ops = ops }, c = { .ops = ops };

    /* One-way: the client's hook sees exactly the server's certificate, once. */
    CHECK_OK(mkctx(ops, VT_ROLE_SERVER, false, &sid, &s.ctx));
    CHECK_OK(mkctx(ops, VT_ROLE_CLIENT, true, &cid, &c.ctx));
    reset(&s);
    reset(&c);
    pair(&s, &c);
    CHECK_OK(c.hs_err);
    CHECK_OK(s.hs_err);
    CHECK(c.hs.calls == 1 && s.hs.calls == 0);
    CHECK(c.hs.seen.len == sid.cert_der.len &&
          memcmp(c.hs.seen.p, sid.cert_der.p, sid.cert_der.len) == 0);
    CHECK(c.peer.len == sid.cert_der.len && memcmp(c.peer.p, sid.cert_der.p, c.peer.len) == 0);
    CHECK(memcmp(s.got, "hello", 5) == 0 && memcmp(c.got, "world", 5) == 0);
    CHECK_OK(s.io_err);
    CHECK(s.eof_got == 0); /* close_notify: success with 0 bytes */

    /* The hook refuses: the handshake fails on both sides. */
    reset(&s);
    reset(&c);
    c.hs.answer = VT_ERR_NO_EVIDENCE;
    pair(&s, &c);
    CHECK_ERR(c.hs_err, VT_ERR_TLS_HANDSHAKE);
    CHECK_ERR(s.hs_err, VT_ERR_TLS_HANDSHAKE);
    CHECK(strstr(s.detail, "alert") != NULL);
    c.hs.answer = 0;
    ops->ctx_free(s.ctx);

    /* Mutual: both hooks run once; each sees the other's certificate. */
    CHECK_OK(mkctx(ops, VT_ROLE_SERVER, true, &sid, &s.ctx));
    reset(&s);
    reset(&c);
    pair(&s, &c);
    CHECK_OK(s.hs_err);
    CHECK_OK(c.hs_err);
    CHECK(s.hs.calls == 1 && c.hs.calls == 1);
    CHECK(s.hs.seen.len == cid.cert_der.len &&
          memcmp(s.hs.seen.p, cid.cert_der.p, cid.cert_der.len) == 0);

    /* Server refuses the client: TLS 1.3 lets the client finish, its read then fails. */
    reset(&s);
    reset(&c);
    s.hs.answer = VT_ERR_NO_EVIDENCE;
    pair(&s, &c);
    CHECK_ERR(s.hs_err, VT_ERR_TLS_HANDSHAKE);
    CHECK(c.hs_err != VT_OK || c.io_err == VT_ERR_TLS_READ || c.io_err == VT_ERR_CLOSED);
    s.hs.answer = 0;
    ops->ctx_free(s.ctx);
    ops->ctx_free(c.ctx);

    /* Bad inputs: garbage certificate, key that does not match, trailing bytes. */
    struct vti_tls_ctx *x = NULL;
    struct vti_identity bad = sid;
    bad.key_der = cid.key_der;
    CHECK_ERR(mkctx(ops, VT_ROLE_SERVER, false, &bad, &x), VT_ERR_TLS_KEY);
    uint8_t junk[64] = { 0x30, 0x03, 1, 2, 3 };
    bad = sid;
    bad.cert_der.p = junk;
    bad.cert_der.len = sizeof(junk);
    CHECK_ERR(mkctx(ops, VT_ROLE_SERVER, false, &bad, &x), VT_ERR_TLS_KEY);
    struct vti_tls_ctx_params np = { .role = VT_ROLE_CLIENT, .verify_peer = true,
                                     .cert_der = sid.cert_der.p, .cert_len = sid.cert_der.len,
                                     .key_der = sid.key_der.p, .key_len = sid.key_der.len };
    CHECK_ERR(ops->ctx_new(&np, &x), VT_ERR_INVALID_ARG); /* verify_peer without a hook */

    vti_buf_free(&s.hs.seen);
    vti_buf_free(&c.hs.seen);
    vti_buf_free(&s.peer);
    vti_buf_free(&c.peer);
    vti_identity_free(&sid);
    vti_identity_free(&cid);
}

int main(void)
{
    vt_log_set(NULL, NULL, VT_LOG_OFF);
    CHECK_OK(vti_registry_init(NULL));
    const struct vt_instance_hdr *l[16];
    size_t n = vti_instance_list(VT_KIND_TLS, l, 16);
    CHECK(n >= 1);
    for (size_t i = 0; i < n && i < 16; i++)
        test_backend((const struct vt_tls_ops *)l[i]);
    const struct vt_tls_ops *best = NULL;
    CHECK_OK(vti_tls_get(NULL, &best));
    CHECK(best && strcmp(best->hdr.name, "openssl") == 0);
    CHECK_ERR(vti_tls_get("no-such-backend", &best), VT_ERR_NO_INSTANCE);
    return vt_test_done();
}
