/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ctx.c - the public attested-TLS API: vt_ctx (a configured endpoint: TLS backend, identity,
 * verification settings) and vt_conn (one TLS connection on a caller's socket).
 *
 * Trust boundary: the peer's certificate is untrusted. Every TLS backend hands the peer's leaf
 * certificate to the ONE hook here, verify_peer(), which decides:
 *   - certificate with evidence  -> vti_cert_verify() (evidence chain to a vendor or given
 *     root, key binding, report data) with options built once from the config, then the
 *     user's vt_verify_cb;
 *   - certificate without evidence (VT_ERR_NO_EVIDENCE) -> refused unless allow_unattested;
 *     then, if ca_file is set, the certificate must chain to it, and if peer_name is set it
 *     must name that host (subjectAltName DNS/IP, CN only without SANs: RFC 6125 legacy,
 *     OpenSSL X509_check_host / X509_check_ip_asc); the user's callback sees a NULL report.
 *     An attested peer's identity is its evidence and claims: peer_name is not applied.
 * The client always verifies the server; the server verifies the client only when mutual.
 *
 * The identity (key, evidence, certificate) is built once per context and reused by every
 * connection. The private key lives only in the TLS backend's context after creation: our
 * PKCS#8 copy is wiped as soon as the backend holds it. A context is immutable after
 * vt_ctx_new, so many threads may create and run connections on it at once.
 */
#include <arpa/inet.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cert/ratls.h"
#include "cert/ratls_parse.h"
#include "core/instance.h"
#include "core/report.h"
#include "crypto/crypto.h"
#include "tls/tls.h"
#include "util/codec.h"
#include "util/log.h"
#include "util/secmem.h"

#define VT_CONN_DETAIL_MAX 320
#define VT_CTX_MAX_ROOTS 64
#define VT_CTX_MAX_OPTIONS 64
#define VT_CA_FILE_MAX (1u << 20)
#define VT_PEER_NAME_MAX 253 /* longest DNS name; IP literals are shorter */

struct vt_ctx {
    enum vt_role role;
    bool verify_peer; /* client: always; server: mutual */
    bool allow_unattested;
    vt_verify_cb verify_cb;
    void *verify_cb_arg;
    const struct vt_tls_ops *tls;
    const struct vt_crypto_ops *crypto;
    struct vti_tls_ctx *tctx;
    struct vti_identity id;       /* key_der wiped once the TLS context holds the key */
    struct vt_verify_opts vopts;  /* points into the owned copies below */
    char **roots;
    size_t n_roots;
    char *collateral;
    char *verifier;
    char *plugin_dir;
    struct vt_option *options;
    size_t n_options;
    struct vt_pem_list ca;        /* ca_file certificates (DER) */
    bool has_ca;
    uint8_t *peer_nonce;          /* owned copy of cfg->peer_nonce */
    char *peer_name;              /* owned copy of cfg->peer_name: unattested peers only */
    bool peer_name_is_ip;
};

enum conn_state { CONN_NEW, CONN_OPEN, CONN_FAILED };

struct vt_conn {
    vt_ctx *ctx;
    struct vti_tls_conn *t;
    enum conn_state state;
    struct vt_report *peer;  /* verified peer report, or NULL */
    int verify_err;          /* set by verify_peer() when it refuses */
    char verify_detail[VT_CONN_DETAIL_MAX];
    char detail[VT_CONN_DETAIL_MAX];
    int want;                /* after VT_ERR_TLS_WANT_IO: VT_WANT_READ or VT_WANT_WRITE */
};

/* ---- the verification hook ------------------------------------------------------------------ */

static int refuse(struct vt_conn *c, int err, const char *why)
{
    c->verify_err = err;
    /* The reason may be cut to fit; the precise code is kept in verify_err. */
    int n = snprintf(c->verify_detail, sizeof(c->verify_detail), "peer refused: %.*s",
                     (int)(sizeof(c->verify_detail) - sizeof("peer refused: ")), why);
    (void)n;
    return err;
}

/* Does a certificate carry evidence (RA-TLS extension or a legacy quote extension)? Errors
 * count as "yes", so that the caller keeps the verifier's refusal. */
static bool cert_has_evidence(const vt_ctx *ctx, const uint8_t *der, size_t len)
{
    struct vti_ratls_cert rc;
    memset(&rc, 0, sizeof(rc));
    if (vti_ratls_cert_parse(ctx->crypto, der, len, &rc).err)
        return true;
    bool has = rc.has_evidence || rc.legacy != VTI_LEGACY_NONE;
    vti_ratls_cert_free(&rc);
    return has;
}

/* Is s an IPv4 or IPv6 literal (then it is matched against IP SANs only)? */
static bool is_ip_literal(const char *s)
{
    unsigned char a[16];
    return inet_pton(AF_INET, s, a) == 1 || inet_pton(AF_INET6, s, a) == 1;
}

/* Does the (unattested) peer certificate name ctx->peer_name? OpenSSL's matcher: DNS names
 * against DNS SANs (the subject CN only when the certificate has no DNS SAN, RFC 6125 6.4.4),
 * no partial-label wildcards; IP literals against IP SANs (the CN only when the certificate
 * has no subjectAltName at all). Only 1 means a match. */
static vt_res check_peer_name(const vt_ctx *ctx, const uint8_t *der, size_t len)
{
    ENSURE(len <= (size_t)INT32_MAX, VT_ERR_TOO_LARGE);
    const unsigned char *p = der;
    X509 *x = d2i_X509(NULL, &p, (long)len);
    ENSURE(x, VT_ERR_CERT_PARSE);
    int m;
    if (ctx->peer_name_is_ip) {
        m = X509_check_ip_asc(x, ctx->peer_name, 0);
        /* Legacy: a certificate without any subjectAltName naming the address in its CN
         * (the RFC 6125 CN fallback, applied to an IP literal; exact match, no wildcards). */
        if (m == 0 && X509_get_ext_by_NID(x, NID_subject_alt_name, -1) < 0)
            m = X509_check_host(x, ctx->peer_name, strlen(ctx->peer_name),
                                X509_CHECK_FLAG_NO_WILDCARDS, NULL);
    } else
        m = X509_check_host(x, ctx->peer_name, strlen(ctx->peer_name),
                            X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS, NULL);
    X509_free(x);
    ENSURE(m == 1, VT_ERR_PEER_NAME_MISMATCH);
    return vti_ok();
}

/*
 * The single place where a peer certificate is judged, whatever the TLS backend. Called by
 * the backend during the handshake with the peer's leaf certificate (DER).
 */
static int verify_peer(void *arg, const uint8_t *der, size_t len)
{
    struct vt_conn *c = arg;
    const vt_ctx *ctx = c->ctx;
    vt_report_free(c->peer);
    c->peer = NULL;

    struct vt_report *rep = NULL;
    vt_res r = vti_cert_verify(&ctx->vopts, der, len, &rep);
    if (r.err == VT_ERR_CERT_SELF_SIG && !cert_has_evidence(ctx, der, len))
        r.err = VT_ERR_NO_EVIDENCE; /* an ordinary CA-issued certificate is not self-signed */
    if (r.err == VT_ERR_NO_EVIDENCE) {
        vt_report_free(rep);
        if (!ctx->allow_unattested)
            return refuse(c, VT_ERR_NO_EVIDENCE,
                          "peer presented no evidence (an ordinary certificate; not allowed "
                          "unless unattested peers are allowed)");
        if (ctx->has_ca) {
            struct vt_der leaf = { der, len };
            struct vt_der roots[VT_PEM_MAX_BLOCKS];
            for (size_t i = 0; i < ctx->ca.n; i++)
                roots[i] = (struct vt_der){ ctx->ca.der[i].p, ctx->ca.der[i].len };
            int64_t at = ctx->vopts.at ? ctx->vopts.at : (int64_t)time(NULL);
            vt_res cr = ctx->crypto->chain_verify(&leaf, 1, roots, ctx->ca.n, at);
            if (cr.err)
                return refuse(c, cr.err == VT_ERR_NOT_TRUSTED ? VT_ERR_NOT_TRUSTED : cr.err,
                              "unattested peer certificate does not chain to the CA file");
        }
        if (ctx->peer_name) {
            vt_res nr = check_peer_name(ctx, der, len);
            if (nr.err) {
                char why[VT_PEER_NAME_MAX + 80];
                snprintf(why, sizeof(why), "unattested peer certificate is not for \"%s\"",
                         ctx->peer_name);
                return refuse(c, nr.err, why);
            }
        }
        if (ctx->verify_cb && ctx->verify_cb(NULL, ctx->verify_cb_arg) != 0)
            return refuse(c, VT_ERR_CALLBACK_REFUSED, vt_strerror(VT_ERR_CALLBACK_REFUSED));
        return VT_OK;
    }
    if (r.err || !rep || !vt_report_verified(rep)) {
        int err = r.err ? r.err : (rep && rep->err ? rep->err : VT_ERR_INTERNAL);
        char why[300];
        snprintf(why, sizeof(why), "%s",
                 rep && rep->err && rep->errmsg[0] ? rep->errmsg : vt_strerror(err));
        vt_report_free(rep);
        return refuse(c, err, why);
    }
    if (ctx->verify_cb && ctx->verify_cb(rep, ctx->verify_cb_arg) != 0) {
        vt_report_free(rep);
        return refuse(c, VT_ERR_CALLBACK_REFUSED, vt_strerror(VT_ERR_CALLBACK_REFUSED));
    }
    c->peer = rep;
    return VT_OK;
}

/* ---- contexts --------------------------------------------------------------------------------- */

static char *dup_opt(const char *s, bool *ok)
{
    if (!s)
        return NULL;
    char *d = strdup(s);
    if (!d)
        *ok = false;
    return d;
}

/* Copy what verification needs from the config, so the caller may free it afterwards. */
static vt_res copy_settings(vt_ctx *ctx, const struct vt_config *cfg)
{
    bool ok = true;
    ENSURE(cfg->n_root_ca_files <= VT_CTX_MAX_ROOTS, VT_ERR_INVALID_ARG);
    ENSURE(cfg->n_options <= VT_CTX_MAX_OPTIONS, VT_ERR_INVALID_ARG);
    ENSURE(cfg->n_root_ca_files == 0 || cfg->root_ca_files, VT_ERR_INVALID_ARG);
    ENSURE(cfg->n_options == 0 || cfg->options, VT_ERR_INVALID_ARG);
    if (cfg->n_root_ca_files) {
        ctx->roots = calloc(cfg->n_root_ca_files, sizeof(char *));
        ENSURE(ctx->roots, VT_ERR_NOMEM);
        ctx->n_roots = cfg->n_root_ca_files;
        for (size_t i = 0; i < cfg->n_root_ca_files; i++) {
            ENSURE(cfg->root_ca_files[i], VT_ERR_INVALID_ARG);
            ctx->roots[i] = dup_opt(cfg->root_ca_files[i], &ok);
        }
    }
    if (cfg->n_options) {
        ctx->options = calloc(cfg->n_options, sizeof(*ctx->options));
        ENSURE(ctx->options, VT_ERR_NOMEM);
        ctx->n_options = cfg->n_options;
        for (size_t i = 0; i < cfg->n_options; i++) {
            ENSURE(cfg->options[i].name && cfg->options[i].value, VT_ERR_INVALID_ARG);
            ctx->options[i].name = dup_opt(cfg->options[i].name, &ok);
            ctx->options[i].value = dup_opt(cfg->options[i].value, &ok);
        }
    }
    ctx->collateral = dup_opt(cfg->collateral, &ok);
    ctx->verifier = dup_opt(cfg->verifier, &ok);
    ctx->plugin_dir = dup_opt(cfg->plugin_dir, &ok);
    ENSURE(ok, VT_ERR_NOMEM);

    struct vt_verify_opts *o = &ctx->vopts;
    o->root_ca_files = (const char *const *)ctx->roots;
    o->n_root_ca_files = ctx->n_roots;
    o->collateral = ctx->collateral;
    o->verifier = ctx->verifier;
    o->plugin_dir = ctx->plugin_dir;
    o->options = ctx->options;
    o->n_options = ctx->n_options;
    o->allow_null = false;
    o->nonce = NULL;
    o->nonce_len = 0;
    if (cfg->peer_nonce && cfg->peer_nonce_len) {
        uint8_t *n = malloc(cfg->peer_nonce_len);
        ENSURE(n, VT_ERR_NOMEM);
        memcpy(n, cfg->peer_nonce, cfg->peer_nonce_len);
        ctx->peer_nonce = n;
        o->nonce = n;
        o->nonce_len = cfg->peer_nonce_len;
    }
    o->at = cfg->verify_at;
    /* Option "verify.at": pin the verification time (RFC 3339 or Unix seconds). */
    for (size_t i = 0; i < ctx->n_options; i++)
        if (strcmp(ctx->options[i].name, "verify.at") == 0)
            GUARD(vti_time_parse(ctx->options[i].value, &o->at));

    if (cfg->ca_file) {
        struct vt_buf pem = VT_BUF_INIT;
        GUARD(vti_file_read(cfg->ca_file, VT_CA_FILE_MAX, &pem));
        vt_res r = vti_pem_decode(pem.p, pem.len, "CERTIFICATE", &ctx->ca);
        vti_buf_free_nowipe(&pem);
        GUARD(r);
        ctx->has_ca = true;
    }
    if (cfg->peer_name) {
        /* A host name or IP literal: printable, no spaces, not empty, bounded. */
        size_t n = strnlen(cfg->peer_name, VT_PEER_NAME_MAX + 1);
        ENSURE(n > 0 && n <= VT_PEER_NAME_MAX, VT_ERR_INVALID_ARG);
        for (size_t i = 0; i < n; i++)
            ENSURE(cfg->peer_name[i] > ' ' && cfg->peer_name[i] < 0x7f, VT_ERR_INVALID_ARG);
        ctx->peer_name = strdup(cfg->peer_name);
        ENSURE(ctx->peer_name, VT_ERR_NOMEM);
        ctx->peer_name_is_ip = is_ip_literal(ctx->peer_name);
    }
    return vti_ok();
}

static vt_res build_identity(vt_ctx *ctx, const struct vt_config *cfg)
{
    bool named_none = cfg->attester && strcmp(cfg->attester, "none") == 0;
    if (cfg->cert_file || cfg->key_file) {
        /* An ordinary certificate from files: only without attestation. */
        ENSURE(cfg->cert_file && cfg->key_file, VT_ERR_INVALID_ARG);
        ENSURE(!cfg->attester || named_none, VT_ERR_INVALID_ARG);
        return vti_identity_load(cfg->cert_file, cfg->key_file, &ctx->id);
    }
    struct vti_attest_ctx actx = {
        .sim_dir = cfg->sim_dir ? cfg->sim_dir : secure_getenv("VERITEE_SIM_DIR"),
        .options = ctx->options,
        .n_options = ctx->n_options,
    };
    const struct vt_attester_ops *att = NULL;
    if (!cfg->attester) {
        GUARD(vti_attester_detect(&actx, &att));
    } else if (!named_none) {
        const struct vt_instance_hdr *h = NULL;
        GUARD(vti_instance_find(VT_KIND_ATTESTER, cfg->attester, &h));
        att = (const struct vt_attester_ops *)h;
    }
    struct vti_identity_params p = {
        .crypto = ctx->crypto,
        .key_type = cfg->key_type,
        .attester = att,
        .attest_ctx = &actx,
        .claims = cfg->claims,
        .n_claims = cfg->n_claims,
        .nonce = cfg->nonce,
        .nonce_len = cfg->nonce_len,
    };
    return vti_identity_create(&p, &ctx->id);
}

VTI_API void vt_ctx_free(vt_ctx *ctx)
{
    if (!ctx)
        return;
    if (ctx->tls && ctx->tctx)
        ctx->tls->ctx_free(ctx->tctx);
    vti_identity_free(&ctx->id);
    for (size_t i = 0; i < ctx->n_roots; i++)
        free(ctx->roots[i]);
    free(ctx->roots);
    for (size_t i = 0; i < ctx->n_options; i++) {
        free(vti_unconst(ctx->options[i].name));
        free(vti_unconst(ctx->options[i].value));
    }
    free(ctx->options);
    free(ctx->collateral);
    free(ctx->verifier);
    free(ctx->plugin_dir);
    free(ctx->peer_nonce);
    free(ctx->peer_name);
    vti_pem_list_free(&ctx->ca);
    vti_memzero(ctx, sizeof(*ctx));
    free(ctx);
}

VTI_API int vt_ctx_new(const struct vt_config *cfg, vt_ctx **ret_ctx)
{
    if (!cfg || !ret_ctx || (cfg->role != VT_ROLE_CLIENT && cfg->role != VT_ROLE_SERVER) ||
        (cfg->n_claims && !cfg->claims))
        return VT_FAIL(VT_ERR_INVALID_ARG).err;
    if (cfg->key_type != VT_KEY_P256 && cfg->key_type != VT_KEY_P384 &&
        cfg->key_type != VT_KEY_RSA3072)
        return VT_FAIL(VT_ERR_KEY_TYPE).err;
    vt_ctx *ctx = calloc(1, sizeof(*ctx));
    if (!ctx)
        return VT_FAIL(VT_ERR_NOMEM).err;
    ctx->role = cfg->role;
    ctx->verify_peer = cfg->role == VT_ROLE_CLIENT || cfg->mutual;
    ctx->allow_unattested = cfg->allow_unattested;
    ctx->verify_cb = cfg->verify_cb;
    ctx->verify_cb_arg = cfg->verify_cb_arg;

    vt_res r = vti_ok();
    GUARD_GOTO(vti_registry_init(cfg->plugin_dir), r, fail);
    GUARD_GOTO(vti_options_check(cfg->options, cfg->n_options, NULL), r, fail);
    GUARD_GOTO(vti_tls_get(cfg->tls, &ctx->tls), r, fail);
    GUARD_GOTO(vti_crypto_get(cfg->crypto, &ctx->crypto), r, fail);
    GUARD_GOTO(copy_settings(ctx, cfg), r, fail);
    GUARD_GOTO(build_identity(ctx, cfg), r, fail);

    struct vti_tls_ctx_params tp = {
        .role = cfg->role,
        .verify_peer = ctx->verify_peer,
        .cert_der = ctx->id.cert_der.p,
        .cert_len = ctx->id.cert_der.len,
        .key_der = ctx->id.key_der.p,
        .key_len = ctx->id.key_der.len,
        .verify = verify_peer,
    };
    GUARD_GOTO(ctx->tls->ctx_new(&tp, &ctx->tctx), r, fail);
    vti_buf_free(&ctx->id.key_der); /* the backend holds the key now; wipe our copy */
    VT_DEBUG("attested TLS context: %s, tls %s, crypto %s",
             cfg->role == VT_ROLE_CLIENT ? "client" : "server", ctx->tls->hdr.name,
             ctx->crypto->hdr.name);
    *ret_ctx = ctx;
    return VT_OK;
fail:
    vt_ctx_free(ctx);
    return r.err;
}

VTI_API const uint8_t *vt_ctx_cert(const vt_ctx *ctx, size_t *len)
{
    if (!ctx) {
        if (len)
            *len = 0;
        return NULL;
    }
    if (len)
        *len = ctx->id.cert_der.len;
    return ctx->id.cert_der.p;
}

/* ---- connections ------------------------------------------------------------------------------ */

/* Record a failure on the connection and return its code. */
static int conn_fail(vt_conn *c, vt_res r, const char *backend_detail, bool fatal)
{
    if (r.err == VT_ERR_TLS_WANT_IO)
        c->want = vti_tls_take_would_block() == 2 ? VT_WANT_WRITE : VT_WANT_READ;
    if (fatal)
        c->state = CONN_FAILED;
    if (backend_detail && backend_detail[0])
        snprintf(c->detail, sizeof(c->detail), "%s: %s", vt_strerror(r.err), backend_detail);
    else
        snprintf(c->detail, sizeof(c->detail), "%s", vt_strerror(r.err));
    return r.err;
}

VTI_API int vt_conn_new(vt_ctx *ctx, int fd, vt_conn **ret_conn)
{
    if (!ctx || fd < 0 || !ret_conn)
        return VT_FAIL(VT_ERR_INVALID_ARG).err;
    vt_conn *c = calloc(1, sizeof(*c));
    if (!c)
        return VT_FAIL(VT_ERR_NOMEM).err;
    c->ctx = ctx;
    vt_res r = ctx->tls->conn_new(ctx->tctx, fd, c, &c->t);
    if (r.err) {
        free(c);
        return r.err;
    }
    *ret_conn = c;
    return VT_OK;
}

VTI_API int vt_conn_handshake(vt_conn *c)
{
    if (!c)
        return VT_FAIL(VT_ERR_INVALID_ARG).err;
    if (c->state != CONN_NEW)
        return conn_fail(c, VT_FAIL(VT_ERR_STATE), "handshake already done or failed", false);
    char d[VTI_TLS_DETAIL_MAX] = "";
    (void)vti_tls_take_would_block();
    c->want = 0;
    vt_res r = c->ctx->tls->handshake(c->t, d);
    if (r.err == VT_ERR_TLS_WANT_IO)
        return conn_fail(c, r, d, false);
    if (r.err && c->verify_err) {
        /* Our verifier refused the peer: report its precise reason, not the TLS symptom. */
        c->state = CONN_FAILED;
        snprintf(c->detail, sizeof(c->detail), "%s", c->verify_detail);
        vt_report_free(c->peer);
        c->peer = NULL;
        return c->verify_err;
    }
    if (r.err) {
        vt_report_free(c->peer);
        c->peer = NULL;
        if (r.err == VT_ERR_TLS_NO_PEER_CERT)
            return conn_fail(c, r, "peer refused: it sent no certificate", true);
        return conn_fail(c, r, d, true);
    }
    c->state = CONN_OPEN;
    c->detail[0] = '\0';
    return VT_OK;
}

VTI_API int vt_conn_read(vt_conn *c, void *buf, size_t len, size_t *got)
{
    if (!c || (!buf && len) || !got)
        return VT_FAIL(VT_ERR_INVALID_ARG).err;
    if (c->state != CONN_OPEN)
        return conn_fail(c, VT_FAIL(VT_ERR_STATE), "no established connection", false);
    char d[VTI_TLS_DETAIL_MAX] = "";
    size_t n = 0;
    (void)vti_tls_take_would_block();
    c->want = 0;
    vt_res r = c->ctx->tls->read(c->t, buf, len, &n, d);
    if (r.err)
        return conn_fail(c, r, d, r.err != VT_ERR_TLS_WANT_IO);
    *got = n;
    return VT_OK;
}

VTI_API int vt_conn_write(vt_conn *c, const void *buf, size_t len)
{
    if (!c || (!buf && len))
        return VT_FAIL(VT_ERR_INVALID_ARG).err;
    if (c->state != CONN_OPEN)
        return conn_fail(c, VT_FAIL(VT_ERR_STATE), "no established connection", false);
    char d[VTI_TLS_DETAIL_MAX] = "";
    (void)vti_tls_take_would_block();
    c->want = 0;
    vt_res r = c->ctx->tls->write(c->t, buf, len, d);
    if (r.err)
        return conn_fail(c, r, d, r.err != VT_ERR_TLS_WANT_IO);
    return VT_OK;
}

VTI_API int vt_conn_shutdown(vt_conn *c)
{
    if (!c)
        return VT_FAIL(VT_ERR_INVALID_ARG).err;
    if (c->state != CONN_OPEN)
        return conn_fail(c, VT_FAIL(VT_ERR_STATE), "no established connection", false);
    char d[VTI_TLS_DETAIL_MAX] = "";
    (void)vti_tls_take_would_block();
    c->want = 0;
    vt_res r = c->ctx->tls->shutdown(c->t, d);
    if (r.err)
        return conn_fail(c, r, d, r.err != VT_ERR_TLS_WANT_IO);
    return VT_OK;
}

VTI_API void vt_conn_free(vt_conn *c)
{
    if (!c)
        return;
    if (c->t)
        c->ctx->tls->conn_free(c->t);
    vt_report_free(c->peer);
    free(c);
}

VTI_API const vt_report *vt_conn_peer_report(const vt_conn *c)
{
    return c ? c->peer : NULL; /* only ever set to a verified report */
}

VTI_API int vt_conn_want(const vt_conn *c)
{
    return c ? c->want : 0;
}

VTI_API const char *vt_conn_error_detail(const vt_conn *c)
{
    return c ? c->detail : "";
}
