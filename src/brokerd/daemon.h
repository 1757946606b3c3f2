/* SPDX-License-Identifier: Apache-2.0 */
/*
 * daemon.h - the veritee-broker daemon (on top of the broker core, state.h): its config and
 * the daemon object that broker_main.c owns and hands to server.c (agent connections) and
 * admin.c (the local admin socket). These three call the core, never each other, except
 * that broker_main.c starts the connection threads of the other two.
 */
#ifndef VT_BROKERD_DAEMON_H
#define VT_BROKERD_DAEMON_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "broker/state.h"
#include "proto/proto.h"
#include "veritee/veritee.h"

#define VTB_MAX_ROOTS 16

struct vtb_config {
    char *listen;        /* HOST:PORT for agents */
    char *store;         /* SQLite file */
    char *master_key;    /* file; NULL = $CREDENTIALS_DIRECTORY/master-key */
    char *admin_socket;  /* Unix socket path; NULL = no admin socket */
    char *cert, *key;    /* ordinary certificate for the broker */
    char *tee;           /* or: attest the broker itself with this attester */
    char *sim_dir;
    char *collateral;
    char *root_ca[VTB_MAX_ROOTS];
    size_t n_root_ca;
    bool allow_sim;
    long max_conns;      /* concurrent agent connections */
    long max_per_addr;   /* concurrent agent connections from one address (IPv6: one /64) */
    long timeout;        /* seconds for an agent's handshake, and for each request */
    char *kbs_listen;    /* HOST:PORT of the KBS protocol front end (src/kbs); NULL = off */
    char *kbs_cert, *kbs_key; /* HTTPS for the KBS front end; plain HTTP without them */
    long token_lifetime; /* KBS EAR token lifetime, seconds (0: default 300) */
    long kbs_session_lifetime; /* KBS auth session lifetime, seconds (0: default 300) */
    long kbs_max_conns;  /* KBS HTTP connections in all (0: default 512) */
    long kbs_max_conns_per_addr; /* ... per client address (0: default 16) */
    long kbs_request_timeout; /* KBS absolute request deadline, seconds (0: default 10) */
    long kbs_max_sessions; /* unexpired KBS auth sessions per client address (0: default 64) */
};

/* Parse a config file (key = value lines, '#' comments; see examples/broker.conf) into cfg.
 * why receives "FILE:LINE: reason" on failure. */
VT_RESULT vtb_config_load(const char *path, struct vtb_config *cfg, char *why, size_t why_len);
/* Set one setting by name (used by the file parser and the command line). */
VT_RESULT vtb_config_set(struct vtb_config *cfg, const char *name, const char *value);
void vtb_config_free(struct vtb_config *cfg);
/* No store set: take $CREDENTIALS_DIRECTORY/store-url (systemd LoadCredential=) if present. */
VT_RESULT vtb_config_store_default(struct vtb_config *cfg);
/* Wipe and free cfg->store (it may hold a password). */
void vtb_config_wipe_store(struct vtb_config *cfg);

struct vtb_broker {
    struct vtb_config cfg;
    struct vtb_state st;  /* the core: KMS, snapshot, request ids, log, audit (state.h) */
    vt_ctx *ctx;
    pthread_mutex_t lock; /* guards active, the connection list of broker_main.c and every
                           * connection's struct vtb_deadline */
    pthread_cond_t cond;
    long active;
    volatile int stopping;
    void *kbs;            /* the KBS front end (struct vtk_server, src/kbs) or NULL */
    void *kbs_http;       /* its HTTP listener (struct vtk_http), wired in by broker_main.c */
};

/* An agent connection's deadline: server.c sets it (under b->lock) for the handshake and then
 * for each request; broker_main.c's run loop shuts the socket down once it has passed, which
 * ends any blocked read or write, whatever the TLS backend does inside. */
struct vtb_deadline {
    int64_t at_ms;    /* CLOCK_MONOTONIC milliseconds; 0: none */
    const char *step; /* what must be done by then, for the log ("TLS handshake", "request") */
    bool fired;       /* the run loop has shut the socket down (and logged it) */
};

/* Now, in CLOCK_MONOTONIC milliseconds (the clock of struct vtb_deadline). */
int64_t vtb_now_ms(void);

/* Serve one agent connection (server.c; runs in its own thread; closes fd). dl: the
 * connection's deadline, set here step by step (the caller set the handshake's at accept). */
void vtb_serve_agent(struct vtb_broker *b, int fd, const char *peer, struct vtb_deadline *dl);
/* Serve one admin connection (admin.c; checks SO_PEERCRED; closes fd). */
void vtb_serve_admin(struct vtb_broker *b, int fd);

#endif
