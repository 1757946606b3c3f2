/*
 * broker.h - shared state of the veritee-broker daemon (config, store, policy snapshot,
 * logging) used by broker_main.c, server.c (agents) and admin.c (local admin socket).
 */
#ifndef VT_BROKER_BROKER_H
#define VT_BROKER_BROKER_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "broker/kms.h"
#include "broker/policy.h"
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
    long timeout;        /* seconds per socket operation */
    char *kbs_listen;    /* HOST:PORT of the KBS protocol front end (src/kbs); NULL = off */
    char *kbs_cert, *kbs_key; /* HTTPS for the KBS front end; plain HTTP without them */
    long token_lifetime; /* KBS EAR token lifetime, seconds (0: default 300) */
    long kbs_session_lifetime; /* KBS auth session lifetime, seconds (0: default 300) */
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
    struct vtb_kms *kms;
    vt_ctx *ctx;
    pthread_mutex_t lock; /* guards snap, active, log output */
    pthread_cond_t cond;
    struct vtb_snapshot *snap;
    long active;
    uint64_t rid_next;
    uint32_t rid_prefix;
    volatile int stopping;
    void *kbs;            /* struct vtk_server (src/kbs/kbs.h) when kbs_listen is set */
    int64_t snap_gen;     /* store policy generation the snapshot was built from (lock) */
    int64_t gen_checked_ms; /* CLOCK_MONOTONIC ms of the last generation check (atomic) */
};

/* At most this often (ms) a request reads the store's policy generation and reloads the
 * snapshot when another broker on the same store changed policy or reference values: the
 * bounded staleness of a change made elsewhere. */
#define VTB_GEN_CHECK_MS 200

/* One log line to stderr: "veritee-broker: <text>" (serialised). */
void vtb_log(struct vtb_broker *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A new request id ("<prefix>-<n>"); out: 32 bytes. */
void vtb_new_rid(struct vtb_broker *b, char *out);
/* Rebuild the policy/refval snapshot from the store and swap it in. */
VT_RESULT vtb_broker_reload(struct vtb_broker *b);
/* Take a reference to the current snapshot (release with vtb_snapshot_unref); first, at most
 * every VTB_GEN_CHECK_MS, reload it if the store's policy generation moved. */
struct vtb_snapshot *vtb_broker_snapshot(struct vtb_broker *b);

/* Serve one agent connection (runs in its own thread; closes fd). */
void vtb_serve_agent(struct vtb_broker *b, int fd, const char *peer);
/* Serve one admin connection (checks SO_PEERCRED; closes fd). */
void vtb_serve_admin(struct vtb_broker *b, int fd);

/* Frame I/O on a plain socket (admin): read one frame of at most max bytes. */
VT_RESULT vtb_sock_read_frame(int fd, size_t max, struct vt_buf *out);
VT_RESULT vtb_sock_write_frame(int fd, const char *s);

#endif
