/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kms.h - the broker's key store: secrets and keys encrypted at rest under a master key.
 *
 * Envelope: each stored blob is 0x01 || iv(12) || AES-256-GCM(master, iv, aad, plaintext)
 * || tag(16), with aad = "veritee-store-v1\0" kind "\0" path "\0" version (decimal), so a
 * blob cannot be moved to another path, kind or version without failing authentication.
 * The master key (32 bytes) comes from a file that must not be group/world accessible, or
 * from $CREDENTIALS_DIRECTORY/master-key (systemd LoadCredential=). A check value sealed at
 * first use detects a wrong master key at start-up.
 *
 * Keys ("key" kind) are 32-byte AES keys generated here; rotation adds a version and keeps
 * the old ones so that data wrapped earlier still unwraps. Resources are opaque files;
 * putting one replaces every earlier version in the same transaction.
 */
#ifndef VT_BROKER_KMS_H
#define VT_BROKER_KMS_H

#include "proto/proto.h"
#include "broker/store.h"

#define VTB_MASTER_KEY_LEN 32
#define VTB_KEK_LEN 32

struct vtb_kms;

/* Read the master key file (path NULL: $CREDENTIALS_DIRECTORY/master-key). key must be
 * VTB_MASTER_KEY_LEN bytes (caller wipes). Symbolic links are followed and the file reached
 * is checked: not a regular file VT_ERR_BROKER_MASTER_KEY_NOT_FILE, owned by neither root
 * nor the effective uid VT_ERR_BROKER_MASTER_KEY_OWNER, any group/other permission bit
 * VT_ERR_BROKER_MASTER_KEY_PERMS, all bytes equal VT_ERR_BROKER_MASTER_KEY_WEAK. */
VT_RESULT vtb_master_key_load(const char *path, uint8_t *key);
/* Create a new random master key file (mode 0600, as 64 hex digits). Fails if it exists. */
VT_RESULT vtb_master_key_generate(const char *path);

/* Open the store (takes ownership of nothing; copies the key into locked memory). */
VT_RESULT vtb_kms_open(const struct vtb_store_ops *ops, const char *where,
                       const uint8_t *master_key, struct vtb_kms **ret);
void vtb_kms_close(struct vtb_kms *k);
/* Zero the master key in place (shutdown with threads still running: their later
 * decryptions fail instead of using it). The handle stays allocated. */
void vtb_kms_wipe(struct vtb_kms *k);
/* Master key rotation: re-encrypt every stored secret and the check value under new_master,
 * and re-tag every policy, reference-value and latest-version row that authenticates under
 * the old key, in one store transaction (crash-safe: the store, tags included, is under
 * exactly one of the two keys at any instant), then use new_master. *ret_count: blobs
 * re-encrypted. */
VT_RESULT vtb_kms_rekey(struct vtb_kms *k, const uint8_t *new_master, size_t *ret_count);
struct vtb_store *vtb_kms_store(struct vtb_kms *k);
const struct vtb_store_ops *vtb_kms_ops(struct vtb_kms *k);

VT_RESULT vtb_kms_put_resource(struct vtb_kms *k, const char *path, const uint8_t *p, size_t n,
                               int64_t now);
/* Create a fresh random key (version 1, or the next after the version a deleted key of that
 * path reached: numbers are never reused); VT_ERR_BROKER_EXISTS if path exists. */
VT_RESULT vtb_kms_key_create(struct vtb_kms *k, const char *path, int64_t now);
/* The same, with the version created. */
VT_RESULT vtb_kms_key_create_v(struct vtb_kms *k, const char *path, int64_t now,
                               int64_t *ret_version);
/* Add a new version of a key; returns it. */
VT_RESULT vtb_kms_key_rotate(struct vtb_kms *k, const char *path, int64_t now,
                             int64_t *ret_version);
/* Plaintext of path (version 0 = latest) into out (a wiping buffer); kind: 16 bytes.
 * Rollback detection: every write, rotation and deletion of a secret also writes its
 * latest-version record (path, newest version, deleted flag, tagged like the policy rows,
 * purpose "secret-latest") in the same store transaction; a read whose record is missing,
 * does not authenticate, says deleted, or names another version than the newest stored row
 * (newest rows deleted by someone who can write the store) is refused with
 * VT_ERR_BROKER_SECRET_ROLLBACK and logged, whatever version was asked for. Stores written
 * before the records existed get them once, at open (the check value records that). */
VT_RESULT vtb_kms_get(struct vtb_kms *k, const char *path, int64_t version, char *kind,
                      int64_t *ret_version, struct vt_buf *out);
VT_RESULT vtb_kms_delete(struct vtb_kms *k, const char *path);
/* Wrap pt under the latest version of key `path` (fills w). */
VT_RESULT vtb_kms_wrap(struct vtb_kms *k, const char *path, const uint8_t *pt, size_t n,
                       struct vtp_wrapped *w);
/* Unwrap (the caller has already authorised w->kid). */
VT_RESULT vtb_kms_unwrap(struct vtb_kms *k, const struct vtp_wrapped *w, struct vt_buf *out);

/* Internal secrets (e.g. the KBS token signing key): name must start with '@' so that no
 * protocol path can ever name it. Sealed like any secret (kind in the AAD), version 1 only.
 * put: VT_ERR_BROKER_EXISTS if present (first writer wins, also across brokers). */
VT_RESULT vtb_kms_put_internal(struct vtb_kms *k, const char *name, const char *kind,
                               const uint8_t *p, size_t n, int64_t now);
VT_RESULT vtb_kms_get_internal(struct vtb_kms *k, const char *name, const char *kind,
                               struct vt_buf *out);

/* Row authentication of the policy and reference values (the store is not trusted with
 * them: a row changed by anyone who can write the store must not be applied).
 * vtb_kms_mac: HMAC-SHA256 of msg under HKDF-SHA256(master key, salt
 * "veritee-store-mac-v1", info "veritee-mac/" purpose); the key never leaves kms.c.
 * Row tags cover a canonical length-prefixed encoding of the table name, the row's key and
 * version and every field the broker trusts: policy ("policy", id 1, updated, doc);
 * reference value ("refvals", name, value, source, expires, added); latest-version record of
 * a secret ("secret_latest", path, version, deleted; purpose "secret-latest").
 * check_row: VT_ERR_BROKER_POLICY_UNAUTHENTICATED without a tag, VT_ERR_BROKER_POLICY_TAMPERED
 * when it does not match. The writers (set/add) are the only ways the admin socket and tests
 * store these rows. */
VT_RESULT vtb_kms_mac(struct vtb_kms *k, const char *purpose, const uint8_t *msg, size_t n,
                      uint8_t *out);
VT_RESULT vtb_kms_policy_mac(struct vtb_kms *k, const char *doc, int64_t updated, uint8_t *out);
VT_RESULT vtb_kms_refval_mac(struct vtb_kms *k, const struct vtb_refval *rv, uint8_t *out);
VT_RESULT vtb_kms_latest_mac(struct vtb_kms *k, const char *path, int64_t version,
                             bool deleted, uint8_t *out);
VT_RESULT vtb_kms_policy_check_row(struct vtb_kms *k, const char *doc, int64_t updated,
                                   const uint8_t *mac, bool has_mac);
VT_RESULT vtb_kms_refval_check_row(struct vtb_kms *k, const struct vtb_refval *rv);
VT_RESULT vtb_kms_policy_set(struct vtb_kms *k, const char *doc, int64_t now);
VT_RESULT vtb_kms_refval_add(struct vtb_kms *k, const struct vtb_refval *rv, int64_t *ret_id);

/* AES-256-GCM helpers (also used for legacy EAA Decrypt). out receives ct||tag / pt. */
VT_RESULT vtb_gcm_seal(const uint8_t key[32], const uint8_t iv[12], const uint8_t *aad,
                       size_t aad_len, const uint8_t *pt, size_t n, struct vt_buf *out);
VT_RESULT vtb_gcm_open(const uint8_t key[32], const uint8_t iv[12], const uint8_t *aad,
                       size_t aad_len, const uint8_t *ct, size_t n, struct vt_buf *out);

#endif
