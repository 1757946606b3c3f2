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
#include <sys/socket.h>

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
};

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
