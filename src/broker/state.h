/* SPDX-License-Identifier: Apache-2.0 */
/*
 * state.h - the broker core's shared state, used by both front ends (agents: server.c and
 * handler.c; KBS: src/kbs) and the admin socket: the KMS (store + master key), the policy and
 * reference-values snapshot with its reload and store-generation check, request ids, the
 * logger and the audit trail. Nothing here knows about sockets, threads or front ends.
 */
#ifndef VT_BROKER_STATE_H
#define VT_BROKER_STATE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "broker/kms.h"
#include "policy/policy.h"

/* At most this often (ms) a request reads the store's policy generation and reloads the
 * snapshot when another broker on the same store changed policy or reference values: the
 * bounded staleness of a change made elsewhere. */
#define VTB_GEN_CHECK_MS 200

/* Where log lines go: sink(arg, line) when set, else stderr as
 * "<UTC time> veritee-broker: <line>" (serialised). */
typedef void (*vtb_log_sink)(void *arg, const char *line);

struct vtb_state {
    struct vtb_kms *kms;
    pthread_mutex_t lock;        /* guards snap, snap_gen and log output */
    pthread_mutex_t reload_lock; /* serialises reloads (never an older snapshot swapped in) */
    struct vtb_snapshot *snap;
    int64_t snap_gen;            /* store policy generation the snapshot was built from */
    int64_t tried_gen;           /* generation of the last reload attempt that is final:
                                  * applied, or refused for integrity (not retried) */
    int64_t logged_gen;          /* generation whose integrity failure was logged */
    int integrity_err;           /* atomic: 0, or why the store's policy was refused */
    uint64_t integrity_failures; /* atomic: refused reloads (integrity) */
    int64_t gen_checked_ms;      /* CLOCK_MONOTONIC ms of the last generation check (atomic) */
    uint64_t rid_next;           /* atomic */
    uint32_t rid_prefix;
    vtb_log_sink sink;
    void *sink_arg;
};

/* Initialise st over kms (not owned) with an empty (deny-all) snapshot; then
 * vtb_state_reload() loads policy and reference values from the store. kms may be NULL and
 * set later (st->kms), as long as it is set before a reload, snapshot or audit: the daemon
 * logs through st before its store is open. */
VT_RESULT vtb_state_init(struct vtb_state *st, struct vtb_kms *kms);
/* Release the snapshot and the locks (not the KMS). */
void vtb_state_fini(struct vtb_state *st);

/* One log line (see vtb_log_sink). */
void vtb_state_log(struct vtb_state *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A new request id "<tag><prefix>-<n>" (tag "" for agents and admin, "k" for KBS); out: 32 bytes. */
void vtb_state_rid(struct vtb_state *st, const char *tag, char *out);
/* Append one audit record; a failure is logged and returned as VT_ERR_BROKER_AUDIT_FAILED:
 * a release whose record could not be written must not go out (callers refuse it). */
VT_RESULT vtb_state_audit(struct vtb_state *st, const struct vtb_audit *au);
/* vtb_state_audit in two halves, for a caller with work to do while its row is made durable
 * (the store's audit_submit / audit_wait; a store without them appends at the end): begin
 * queues au (au and p stay alive and unchanged until end returns), end waits for it and
 * returns what vtb_state_audit would have. Every begin needs its end. */
void vtb_state_audit_begin(struct vtb_state *st, const struct vtb_audit *au,
                           struct vtb_audit_pending *p);
VT_RESULT vtb_state_audit_end(struct vtb_state *st, struct vtb_audit_pending *p);

/* Rebuild the policy/refval snapshot from the store and swap it in. Every row must
 * authenticate (kms.c row tags): otherwise VT_ERR_BROKER_POLICY_TAMPERED or
 * VT_ERR_BROKER_POLICY_UNAUTHENTICATED, the current (last good) snapshot stays, the failure
 * is logged once per store generation and reported by vtb_state_integrity(). */
VT_RESULT vtb_state_reload(struct vtb_state *st);
/* 0 when the last reload authenticated, else its error code; *failures (may be NULL): the
 * number of reloads refused for integrity since start. */
int vtb_state_integrity(struct vtb_state *st, uint64_t *failures);
/* Take a reference to the current snapshot (release with vtb_snapshot_unref); first, at most
 * every VTB_GEN_CHECK_MS, reload it if the store's policy generation moved. */
struct vtb_snapshot *vtb_state_snapshot(struct vtb_state *st);

#endif
