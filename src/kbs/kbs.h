/*
 * kbs.h - the Confidential Containers KBS protocol v0.4.0 (RCAR over HTTP) in veritee-broker:
 * POST /kbs/v0/auth, POST /kbs/v0/attest, GET /kbs/v0/resource/<repo>/<type>/<tag>,
 * /.well-known/jwks.json, /healthz, /metrics. docs/kbs.md describes shapes and statuses.
 *
 * vtk_handle() is the whole protocol on one parsed request (unit-tested and fuzzed without
 * sockets; time is a parameter); http.c puts it behind libmicrohttpd (HTTP or HTTPS).
 */
#ifndef VT_KBS_KBS_H
#define VT_KBS_KBS_H

#include <stdatomic.h>

#include "broker/kms.h"
#include "broker/policy.h"
#include "kbs/ear.h"

#define VTK_PROTOCOL_VERSION "0.4.0"
#define VTK_MAX_ROOTS 16
#define VTK_MAX_BODY ((size_t)4 << 20)

struct vtk_config {
    const char *listen;               /* HOST:PORT (port 0: any) */
    const char *cert, *key;           /* PEM files: HTTPS with an ordinary certificate */
    bool allow_sim;                   /* accept sim evidence (INSECURE, audited) */
    const char *root_ca[VTK_MAX_ROOTS]; /* extra trust anchors for evidence (sim roots) */
    size_t n_root_ca;
    const char *collateral;
    int64_t token_lifetime;           /* seconds; default 300 */
    int64_t session_lifetime;         /* seconds; default 300 */
    unsigned threads;                 /* HTTP worker threads; default 8 */
};

struct vtk_env {
    struct vtb_kms *kms;
    /* Current policy snapshot (a reference the caller releases); NULL: kbs.c rebuilds one
     * from the store at most every 2 s (so several brokers converge on policy changes). */
    struct vtb_snapshot *(*snapshot)(void *arg);
    void *arg;
    void (*log)(void *arg, const char *line); /* NULL: stderr */
};

struct vtk_request {
    const char *method, *path;  /* path without query */
    const char *cookie_session; /* kbs-session-id cookie value or NULL */
    const char *authorization;  /* Authorization header or NULL */
    const uint8_t *body;
    size_t body_len;
    const char *peer;
};

struct vtk_response {
    int status;
    const char *content_type;
    struct vt_buf body;     /* wiping buffer (may hold a JWE) */
    char set_cookie[192];   /* Set-Cookie value or "" */
};

struct vtk_metrics {
    atomic_ulong auth, attest_ok, attest_fail, resource_ok, resource_fail, other;
    atomic_ulong status[6]; /* by class: 1xx..5xx at index 1..5 */
};

struct vtk_server {
    struct vtk_config cfg;
    struct vtk_env env;
    struct vtk_signer signer;
    pthread_mutex_t lock;       /* guards snap, snap_time */
    struct vtb_snapshot *snap;
    int64_t snap_time;
    atomic_ulong rid_next;
    uint32_t rid_prefix;
    int64_t last_sweep;
    struct vtk_metrics m;
    void *http;                 /* struct MHD_Daemon */
    int port;
};

VT_RESULT vtk_new(const struct vtk_config *cfg, const struct vtk_env *env, int64_t now,
                  struct vtk_server **ret);
void vtk_free(struct vtk_server *k);
/* Answer one request at time now (resp->body freed by the caller with vt_buf_free). */
void vtk_handle(struct vtk_server *k, const struct vtk_request *rq, int64_t now,
                struct vtk_response *resp);

/* http.c: start/stop the HTTP(S) listener; k->port is set. */
VT_RESULT vtk_http_start(struct vtk_server *k);
void vtk_http_stop(struct vtk_server *k);

/* SHA-384 over JCS({"additional-evidence":A,"nonce":N,"tee-pubkey":K}), zero-padded to 64. */
VT_RESULT vtk_runtime_digest(const char *additional, const char *nonce, const json_t *jwk,
                             uint8_t out[64]);

#endif
