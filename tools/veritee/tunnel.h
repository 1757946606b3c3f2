/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tunnel.h - the event loop of `veritee tunnel ingress|egress` (tunnel.c).
 *
 * One thread, one poll() over every socket; all sockets non-blocking (TLS through the public
 * vt_conn API with vt_conn_want). Each accepted connection goes: (ingress) dial the egress,
 * attested TLS handshake as client, appraisal, relay; (egress) attested TLS handshake as
 * server, appraisal of the client when mutual, dial the application, relay. Nothing is read
 * from the plaintext side before the peer is verified and appraised, so a refused peer never
 * gets or gives a byte. The relay is full duplex with half-close (EOF <-> close_notify) and
 * backpressure (a full buffer stops reading its source).
 */
#ifndef VT_TOOL_TUNNEL_H
#define VT_TOOL_TUNNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>

#include "policy/policy.h"
#include "proto/tunnel.h"
#include "veritee/veritee.h"

enum tun_side { TUN_INGRESS, TUN_EGRESS };
/* Ingress modes: port mapping (--to), or the client names the egress to dial in an HTTP proxy
 * request (CONNECT HOST:PORT, or an absolute-form http:// request, re-sent in origin form) or
 * a SOCKS5 CONNECT (no authentication). */
enum tun_proxy { TUN_PROXY_NONE, TUN_PROXY_HTTP, TUN_PROXY_SOCKS5 };

struct tun_cfg {
    enum tun_side side;
    int lfd;                      /* listening socket */
    enum tun_proxy proxy;         /* ingress only */
    struct sockaddr_storage to;   /* the address to dial (--to, resolved; not with a proxy) */
    socklen_t to_len;
    const char *to_text;          /* --to as given, for the log */
    vt_ctx *ctx;                  /* the first context (tun_ctx_new); tun_run owns it */
    const struct vt_config *vc;   /* ... and what the next ones are made from */
    long cert_lifetime;           /* seconds until a new certificate (fresh evidence); 0 never */
    long max_evidence_age;        /* peer's claim iat at most this old (0 = not checked) */
    const struct vtp_expect *expect;
    size_t n_expect;
    bool appraise;                /* check the peer's report (ingress; egress with --mutual) */
    long max_parallel;            /* connections open at once; more are refused */
    long max_conns;               /* exit after this many connections (0 = never) */
    long timeout;                 /* seconds to dial + handshake + appraise */
    long idle_timeout;            /* seconds without a byte either way (0 = none) */
    const struct vtb_snapshot *policy; /* --policy: also appraise the peer with it (or NULL) */
    const char *claims_header;    /* egress --claims-header NAME (HTTP/1.x), or NULL */
    int metrics_fd;               /* --metrics: listening socket of /metrics, or -1 */
};

/* --metrics: counters since the start (tunnel_metrics.c prints them). */
#define TUN_REASONS 48
struct tun_metrics {
    unsigned long long accepted, verified, failed, c2s, s2c;
    struct {
        int code;
        unsigned long long n;
    } refused[TUN_REASONS]; /* by VT_ERR_* code; the last slot also takes any overflow */
    size_t n_reasons;
};

/* The /metrics listener and its few connections (each: one request, one response, closed). */
#define TUN_MCONNS 8
struct tun_mconn {
    int fd;
    char req[1024];
    size_t len;
    time_t deadline;
    bool ready;     /* a whole request head is in req */
};
struct tun_mserver {
    int lfd; /* -1: no --metrics */
    struct tun_mconn c[TUN_MCONNS];
};
/* The poll set: [0] the listener, [1..] the listener's conns (p has 1 + TUN_MCONNS entries). */
#define TUN_MFDS (1 + TUN_MCONNS)
void tun_metrics_init(struct tun_mserver *s, int lfd);
void tun_metrics_poll(const struct tun_mserver *s, struct pollfd *p);
/* After poll: accept, read requests, expire; true when a request waits for tun_metrics_respond. */
bool tun_metrics_step(struct tun_mserver *s, const struct pollfd *p, time_t now);
/* Answer every waiting request (GET /metrics: 200 and the Prometheus text; else 404). */
void tun_metrics_respond(struct tun_mserver *s, const char *side, const struct tun_metrics *m,
                         size_t open);
void tun_metrics_end(struct tun_mserver *s);

/* ---- name lookups off the loop (tunnel_resolve.c) ---- */
#define TUN_RESOLVE_THREADS 4
struct tun_lookup {
    char host[VTP_MAX_HOST + 1];
    char port[8];
    int gai;                       /* getaddrinfo's result */
    struct sockaddr_storage addr;  /* its first address */
    socklen_t addr_len;
    void *owner;                   /* the connection waiting; NULL once it went away (loop only) */
    struct tun_lookup *next;
};
struct tun_resolver;
/* Start the threads; 0 or an errno value. */
int tun_resolver_start(struct tun_resolver **ret);
/* The pipe the loop polls for finished lookups. */
int tun_resolver_fd(const struct tun_resolver *r);
/* Queue q (the pool owns it until tun_resolver_done returns it); false when the queue is full. */
bool tun_resolver_submit(struct tun_resolver *r, struct tun_lookup *q);
/* One finished lookup, or NULL when none is ready. */
struct tun_lookup *tun_resolver_done(struct tun_resolver *r);
void tun_resolver_stop(struct tun_resolver *r);

/* A context from vc; with iat, its certificate's evidence-bound claims carry the claim iat
 * (now, decimal), which a peer's --max-evidence-age checks. VT_OK or the vt_ctx_new code. */
int tun_ctx_new(const struct vt_config *vc, bool iat, vt_ctx **ret);

/* Serve until SIGINT/SIGTERM or max_conns connections; frees every context, cfg->ctx too. Returns the exit status: 0, or 1 when
 * max_conns was given and a connection failed or was refused. */
int tun_run(const struct tun_cfg *cfg);

/* --config FILE (tunnel_config.c): argv with the file's options ("name = value" or "name"
 * lines, '#' comments) inserted before the command line's own, --config itself removed.
 * 0, or the exit status after a message. Free with tun_argv_free (also after a failure). */
#include "util/buf.h"
struct tun_argv {
    char **argv;
    int argc;
    char **owned;
    size_t n_owned;
    struct vt_buf text;
};
int tun_config_argv(const char *cmd, int argc, char **argv, struct tun_argv *a);
void tun_argv_free(struct tun_argv *a);

#endif
