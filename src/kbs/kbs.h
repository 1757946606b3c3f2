/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kbs.h - the Confidential Containers KBS protocol v0.4.0 (RCAR over HTTP) in veritee-broker:
 * POST /kbs/v0/auth, POST /kbs/v0/attest, GET /kbs/v0/resource/<repo>/<type>/<tag>,
 * /.well-known/jwks.json, /healthz, /metrics. docs/kbs.md describes shapes and statuses.
 *
 * Layers: kbs.c is the whole protocol as one pure function on a parsed request, vtk_handle()
 * (unit-tested and fuzzed without sockets; time is a parameter), over the broker core's
 * shared state (broker/state.h: KMS, policy snapshot, request ids, log, audit) and its
 * appraisal (policy/input.h, policy/policy.h). http.c, the HTTP(S) listener on
 * libmicrohttpd, owns the sockets and calls vtk_handle(). Neither knows the daemon: the
 * daemon (src/brokerd/broker_main.c) wires them in.
 */
#ifndef VT_KBS_KBS_H
#define VT_KBS_KBS_H

#include <stdatomic.h>

#include "broker/state.h"
#include "kbs/ear.h"
#include "kbs/token_memo.h"

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
    int64_t max_sessions_per_address; /* unexpired auth sessions per peer; default 64 */
    unsigned threads;                 /* HTTP worker threads; default 8 */
    unsigned max_conns;               /* HTTP connections in all; default 512, clamped to the
                                       * fd budget (RLIMIT_NOFILE less fd_reserve) */
    unsigned max_conns_per_addr;      /* connections per client address; default 16 */
    unsigned request_timeout;         /* seconds from accept (or the previous response) to a
                                       * complete request, TLS handshake included; default 10 */
    unsigned fd_reserve;              /* descriptors the rest of the process needs; default 64 */
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
    /* unauthenticated failures (counted and logged rate-limited, never audited one by one) */
    atomic_ulong unauth[4];       /* by enum vtk_unauth */
    atomic_ulong unauth_quiet[4]; /* log lines suppressed since the last one */
    int64_t unauth_logged[4];     /* atomic: the second of the last log line */
};

/* Classes of unauthenticated KBS failures (the requester proved nothing to this broker). */
enum vtk_unauth {
    VTK_UNAUTH_PATH,   /* malformed resource path */
    VTK_UNAUTH_TOKEN,  /* no session cookie / bearer token, or an unattested session */
    VTK_UNAUTH_BADTOK, /* a token that does not verify (forged, expired, unusable) */
    VTK_UNAUTH_ATTEST, /* a refused attestation (its evidence did not verify) */
};

struct vtk_server {
    struct vtk_config cfg;
    struct vtb_state *st;       /* the broker core (not owned) */
    struct vtk_signer signer;
    struct vtk_token_memo *tokens; /* verified tokens (token_memo.h) */
    int64_t last_sweep;         /* atomic */
    struct vtk_metrics m;
};

/* A KBS front end over the core state st (policy and reference values: st's snapshot). */
VT_RESULT vtk_new(const struct vtk_config *cfg, struct vtb_state *st, int64_t now,
                  struct vtk_server **ret);
void vtk_free(struct vtk_server *k);
/* Answer one request at time now (resp->body freed by the caller with vti_buf_free). */
void vtk_handle(struct vtk_server *k, const struct vtk_request *rq, int64_t now,
                struct vtk_response *resp);

/* http.c: the HTTP(S) listener on cfg->listen (cert/key: HTTPS) for k; stop it before
 * vtk_free(k). */
struct vtk_http;
VT_RESULT vtk_http_start(struct vtk_server *k, struct vtk_http **ret);
int vtk_http_port(const struct vtk_http *h);
/* Stop listening and wait for the requests in flight (NULL: nothing). */
void vtk_http_stop(struct vtk_http *h);

/* A request's framing headers: how many Content-Length and Transfer-Encoding fields, and the
 * (last) Transfer-Encoding value. */
struct vtk_framing {
    size_t n_cl, n_te;
    const char *te;
};
/* RFC 9112 §6.3: VT_ERR_KBS_HTTP_FRAMING for Content-Length with Transfer-Encoding, either
 * repeated, or a transfer coding other than "chunked" (http.c answers it with 400). */
VT_RESULT vtk_http_framing(const struct vtk_framing *f);

#endif
