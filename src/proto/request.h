/* SPDX-License-Identifier: Apache-2.0 */
/*
 * request.h - the broker's agent protocol: request parsing and replies.
 *
 * Framed protocol (frame.h): requests carry an "id" (string of 1..64 printable characters,
 * or a non-negative integer) that the reply echoes; replies are
 *   {"id":..., "rid":"<broker request id>", "ok":true, ...result fields...}
 *   {"id":..., "rid":..., "ok":false, "error":{"code":"VT_ERR_...", "category":"policy",
 *                                               "message":"denied by policy: ..."}}
 * Legacy EAA protocol (Verdictd): one raw JSON object per TLS record with a "command" field
 * (notes/kbs-protocols.md section 1.3); recognised by its first byte '{'.
 */
#ifndef VT_PROTO_REQUEST_H
#define VT_PROTO_REQUEST_H

#include <jansson.h>
#include <stdbool.h>

#include "proto/frame.h"
#include "proto/path.h"
#include "proto/wrapped.h"
#include "util/buf.h"
#include "util/result.h"

#define VTP_EAA_MAX_REQUEST 4096 /* Verdictd's receive buffer */
#define VTP_MAX_ID 64
#define VTP_MAX_KIDS 16

enum vtp_op {
    VTP_OP_GET_RESOURCE = 1, /* "get-resource" {path} */
    VTP_OP_UNWRAP,           /* "unwrap" {annotation: bytes} */
    VTP_OP_VERSION,          /* "version" */
    VTP_OP_EAA_VERSION,      /* legacy "version" */
    VTP_OP_EAA_GET_KEK,      /* legacy "Get KEK" {kids:[...]} */
    VTP_OP_EAA_DECRYPT,      /* legacy "Decrypt" {blobs:[...]} */
    VTP_OP_EAA_GET_RESOURCE, /* legacy "Get Resource" {optional:{resource_path}} */
    VTP_OP_EAA_RESOURCE_INFO, /* legacy "Get Resource Info" {name} */
};

/* One legacy Decrypt blob. */
struct vtp_eaa_blob {
    char kid[VTP_MAX_PATH + 1];
    char *encrypted_b64; /* the key of the reply map, as the client sent it */
    uint8_t iv[12];
    struct vt_buf ct; /* ciphertext||tag */
};

struct vtp_request {
    enum vtp_op op;
    bool legacy;
    json_t *id;                   /* echoed; NULL for legacy */
    char path[VTP_MAX_PATH + 1];  /* get-resource, EAA Get Resource / Info */
    struct vtp_wrapped wrapped;   /* unwrap */
    char kids[VTP_MAX_KIDS][VTP_MAX_PATH + 1]; /* EAA Get KEK */
    size_t n_kids;
    struct vtp_eaa_blob blobs[VTP_MAX_KIDS];   /* EAA Decrypt */
    size_t n_blobs;
};

/* Parse one request. why (at least 160 bytes) receives a precise reason on failure. */
VT_RESULT vtp_request_parse(const uint8_t *p, size_t n, bool legacy, struct vtp_request *out,
                            char *why, size_t why_len);
void vtp_request_free(struct vtp_request *r);

/* Build replies (compact JSON, caller frees with free()). result may be NULL; it is
 * merged into the reply object (reference stolen). */
char *vtp_reply_ok(const json_t *id, const char *rid, json_t *result);
char *vtp_reply_err(const json_t *id, const char *rid, int code, const char *message);

#endif
