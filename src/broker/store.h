/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store.h - the broker's storage interface (backend-neutral).
 *
 * A backend stores opaque, already-encrypted secret blobs plus the public tables (reference
 * values, policy, audit). It never sees plaintext secrets or the master key: encryption at
 * rest happens above it, in kms.c. Every mutating call is one atomic transaction: after a
 * crash a row is either fully there or absent. The SQLite backend (store_sqlite.c) is the
 * default; a PostgreSQL backend implements the same table of functions (later issue).
 *
 * Thread safety: a backend serialises calls internally; callers may share one handle.
 */
#ifndef VT_BROKER_STORE_H
#define VT_BROKER_STORE_H

#include "policy/policy.h" /* struct vtb_refval, VTB_MAC_LEN */
#include "util/buf.h"
#include "util/result.h"

#define VTB_KIND_RESOURCE "resource"
#define VTB_KIND_KEY "key"

struct vtb_secret_info {
    const char *path;
    const char *kind;
    int64_t version;  /* latest version */
    int64_t versions; /* number of stored versions */
    int64_t updated;
};

/* The authenticated "latest version" record of one secret path (kms.c tags it): the newest
 * version written through the broker, and whether the secret was deleted since. */
struct vtb_latest {
    int64_t version;
    bool deleted;
    bool present;             /* a record exists for the path */
    uint8_t mac[VTB_MAC_LEN];
    bool has_mac;
};

/* One tagged row handed to a vtb_retag_cb during master key rotation (reseal_retag): table
 * "policy" (doc, updated), "refvals" (rv) or "secret_latest" (path, lt); mac: its current
 * tag. */
struct vtb_tagged_row {
    const char *table;
    const char *doc;
    int64_t updated;
    const struct vtb_refval *rv;
    const char *path;
    const struct vtb_latest *lt;
    const uint8_t *mac; /* VTB_MAC_LEN bytes, or NULL: no tag */
};

struct vtb_audit {
    int64_t time;
    const char *rid, *peer, *tee, *op, *path, *decision, *reason;
    bool insecure;
};

/* An audit row queued for the group commit (audit_submit, then audit_wait): the caller keeps
 * it, and the row it points to, alive and unchanged until audit_wait has returned. */
struct vtb_audit_pending {
    const struct vtb_audit *a;
    vt_res r;                       /* the row's own result, set when done */
    bool done;
    struct vtb_audit_pending *next; /* the store's queue */
};

typedef void (*vtb_secret_cb)(const struct vtb_secret_info *s, void *arg);
typedef void (*vtb_refval_cb)(const struct vtb_refval *r, void *arg);
typedef void (*vtb_audit_cb)(int64_t seq, const struct vtb_audit *a, void *arg);

/* reseal_all callback: the new blob for one stored blob (kind "meta" for meta rows). */
typedef VT_RESULT (*vtb_reseal_cb)(const char *path, const char *kind, int64_t version,
                                   const uint8_t *blob, size_t n, struct vt_buf *out,
                                   void *arg);

/* The tag of the latest-version record (path, version, deleted), computed inside the
 * writing transaction (kms.c). */
typedef VT_RESULT (*vtb_latest_tag_cb)(const char *path, int64_t version, bool deleted,
                                       uint8_t *mac, void *arg);
/* reseal_retag: the new tag of one row into mac, *update true; *update false leaves the row
 * as it is (a row that does not authenticate under the old key is not laundered). */
typedef VT_RESULT (*vtb_retag_cb)(const struct vtb_tagged_row *row, uint8_t *mac, bool *update,
                                  void *arg);

struct vtb_store;

struct vtb_store_ops {
    const char *name;
    VT_RESULT (*open)(const char *where, struct vtb_store **ret);
    void (*close)(struct vtb_store *s);
    /* metadata (e.g. the master-key check value) */
    VT_RESULT (*meta_get)(struct vtb_store *s, const char *key, struct vt_buf *out);
    /* insert only: VT_ERR_BROKER_EXISTS if key is present (concurrent first writers: one
     * wins, the others see EXISTS and read the winner's value) */
    VT_RESULT (*meta_put)(struct vtb_store *s, const char *key, const uint8_t *p, size_t n);
    /* Store blob as version `version` of path. replace: delete every other version in the
     * same transaction. VT_ERR_BROKER_EXISTS if that version exists. (kms.c writes through
     * secret_put_latest / secret_delete_latest: a secret written with these plain ops alone
     * has no latest-version record and is refused on release.) */
    VT_RESULT (*secret_put)(struct vtb_store *s, const char *path, const char *kind,
                            int64_t version, const uint8_t *blob, size_t n, bool replace,
                            int64_t now);
    /* version 0 = latest. kind: at least 16 bytes. VT_ERR_BROKER_UNKNOWN_RESOURCE if absent. */
    VT_RESULT (*secret_get)(struct vtb_store *s, const char *path, int64_t version,
                            char *kind, int64_t *ret_version, struct vt_buf *blob);
    VT_RESULT (*secret_delete)(struct vtb_store *s, const char *path);
    VT_RESULT (*secret_list)(struct vtb_store *s, vtb_secret_cb cb, void *arg);
    VT_RESULT (*refval_add)(struct vtb_store *s, const struct vtb_refval *r, int64_t *ret_id);
    VT_RESULT (*refval_delete)(struct vtb_store *s, int64_t id);
    VT_RESULT (*refval_list)(struct vtb_store *s, vtb_refval_cb cb, void *arg);
    VT_RESULT (*policy_set)(struct vtb_store *s, const char *doc, int64_t now);
    /* VT_ERR_NOT_FOUND when no policy was ever set. */
    VT_RESULT (*policy_get)(struct vtb_store *s, struct vt_buf *out);
    /* The policy row with its authentication tag (kms.c computes and checks it): put
     * replaces it; read: VT_ERR_NOT_FOUND when none, *has_mac false for an untagged row. */
    VT_RESULT (*policy_put)(struct vtb_store *s, const char *doc, int64_t now,
                            const uint8_t *mac);
    VT_RESULT (*policy_read)(struct vtb_store *s, struct vt_buf *out, int64_t *updated,
                             uint8_t *mac, bool *has_mac);
    /* Replace the tag of reference value id (unused by kms.c since master key rotation
     * re-tags inside reseal_retag's transaction). */
    VT_RESULT (*refval_set_mac)(struct vtb_store *s, int64_t id, const uint8_t *mac);
    VT_RESULT (*audit_append)(struct vtb_store *s, const struct vtb_audit *a);
    /* Optional (both or neither; NULL: the caller appends at the wait): audit_append in two
     * halves, so that a caller can work while its row is being made durable. audit_submit
     * queues p (p->a set by the caller) and returns at once; audit_wait returns once that row
     * is durable, with its own result, exactly as audit_append would have. Every submitted
     * row must be waited for. */
    void (*audit_submit)(struct vtb_store *s, struct vtb_audit_pending *p);
    VT_RESULT (*audit_wait)(struct vtb_store *s, struct vtb_audit_pending *p);
    /* the last `limit` rows, oldest first */
    VT_RESULT (*audit_list)(struct vtb_store *s, int64_t limit, vtb_audit_cb cb, void *arg);
    /* KBS protocol sessions (src/kbs): an opaque blob with a small state number and an
     * expiry (Unix seconds). Expired rows are invisible (VT_ERR_NOT_FOUND) and swept.
     * session_put: new row; VT_ERR_BROKER_EXISTS if the id is taken. session_advance:
     * atomically replace the blob and state of an unexpired row whose state is `from`
     * (VT_ERR_NOT_FOUND otherwise: this is what makes a challenge single-use across brokers
     * sharing one store). */
    VT_RESULT (*session_put)(struct vtb_store *s, const char *id, int state, const uint8_t *p,
                             size_t n, int64_t expires);
    VT_RESULT (*session_get)(struct vtb_store *s, const char *id, int64_t now, int *state,
                             struct vt_buf *out);
    VT_RESULT (*session_advance)(struct vtb_store *s, const char *id, int from, int to,
                                 const uint8_t *p, size_t n, int64_t now);
    VT_RESULT (*session_sweep)(struct vtb_store *s, int64_t now);
    /* Master key rotation: replace EVERY secret blob and the meta rows named in meta_keys
     * by cb's output in ONE transaction (any failure rolls all of it back), so that after a
     * crash the store is entirely under the old key or entirely under the new one.
     * NULL in a backend = rotation not supported (VT_ERR_UNSUPPORTED from the caller). */
    VT_RESULT (*reseal_all)(struct vtb_store *s, const char *const *meta_keys, vtb_reseal_cb cb,
                            void *arg);
    /* The policy/reference-value generation: a number that grows (by triggers, in the same
     * transaction) with every change of the policy or refvals tables, so that brokers sharing
     * one store notice another broker's change with one cheap read (broker_main.c). */
    VT_RESULT (*policy_generation)(struct vtb_store *s, int64_t *gen);
    /* Optional (NULL: use meta_get): is the store answering? Bounded by timeout_ms in all
     * its steps (a free connection, reconnecting, the query), whatever the server does. */
    VT_RESULT (*health)(struct vtb_store *s, int timeout_ms);
    /* Audit paging: up to `limit` rows with seq > after, oldest first. */
    VT_RESULT (*audit_after)(struct vtb_store *s, int64_t after, int64_t limit, vtb_audit_cb cb,
                             void *arg);
    /* Retention: delete every audit row with time < before and append rec (its reason
     * followed by " deleted=N") in ONE transaction; *deleted = N. The append-only triggers
     * let a DELETE through only while the one-row audit_prune_gate is open, which this op
     * does (and undoes) inside that transaction: no other statement ever sees it open.
     * VT_ERR_INVALID_ARG: before < 1. */
    VT_RESULT (*audit_prune)(struct vtb_store *s, int64_t before, const struct vtb_audit *rec,
                             int64_t *deleted);
    /* session_put with the client's address, capped: the row is written only while that
     * address holds fewer than max unexpired sessions (expires > now; the count and the
     * INSERT are one statement), else VT_ERR_BROKER_KBS_SESSION_LIMIT and nothing written.
     * NULL in a backend: session_put without a cap. */
    VT_RESULT (*session_put_capped)(struct vtb_store *s, const char *id, int state,
                                    const uint8_t *p, size_t n, int64_t expires,
                                    const char *peer, int64_t now, int64_t max);
    /* ---- secret rollback detection (kms.c): the per-path latest-version record ---------
     * secret_put / secret_delete that also write path's latest-version record in the SAME
     * transaction: put -> (newest stored version after the insert, not deleted); delete ->
     * (newest version before the delete, deleted). Writers of one path are serialised (the
     * newest version is read inside the transaction). Same return codes as the plain ones. */
    VT_RESULT (*secret_put_latest)(struct vtb_store *s, const char *path, const char *kind,
                                   int64_t version, const uint8_t *blob, size_t n, bool replace,
                                   int64_t now, vtb_latest_tag_cb tag, void *arg);
    VT_RESULT (*secret_delete_latest)(struct vtb_store *s, const char *path,
                                      vtb_latest_tag_cb tag, void *arg);
    /* secret_get plus, read in the same statement (one snapshot), the newest stored version
     * of path (*newest) and its latest-version record (rec, also filled when no row exists:
     * then VT_ERR_BROKER_UNKNOWN_RESOURCE). */
    VT_RESULT (*secret_get_latest)(struct vtb_store *s, const char *path, int64_t version,
                                   char *kind, int64_t *ret_version, struct vt_buf *blob,
                                   int64_t *newest, struct vtb_latest *rec);
    /* Adoption of a store written before latest-version records existed, in ONE transaction:
     * a record (newest version, not deleted, tag from cb) for every path that has rows and no
     * record, and meta row meta_key replaced by (p, n) (kms.c: the sealed check value that
     * says "adopted", so that this runs once). */
    VT_RESULT (*latest_adopt)(struct vtb_store *s, vtb_latest_tag_cb tag, void *arg,
                              const char *meta_key, const uint8_t *p, size_t n);
    /* Master key rotation as reseal_all and, in the same transaction, every tagged row
     * (policy, refvals, secret_latest) re-tagged through tcb: a rotation killed at any
     * point leaves the secrets and every tag under one and the same key. */
    VT_RESULT (*reseal_retag)(struct vtb_store *s, const char *const *meta_keys,
                              vtb_reseal_cb cb, vtb_retag_cb tcb, void *arg);
};

extern const struct vtb_store_ops vtb_store_sqlite;
extern const struct vtb_store_ops vtb_store_pg; /* store_pg.c: "postgresql://..." */

#endif
