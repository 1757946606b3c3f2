/*
 * proto.h - the broker's wire protocol: framing, request parsing, replies, resource paths.
 *
 * Framed protocol (agents and the admin socket): each message is a 4-byte big-endian length
 * followed by that many bytes of UTF-8 JSON. Requests carry an "id" (string of 1..64
 * printable characters, or a non-negative integer) that the reply echoes; replies are
 *   {"id":..., "rid":"<broker request id>", "ok":true, ...result fields...}
 *   {"id":..., "rid":..., "ok":false, "error":{"code":"VT_ERR_...", "category":"policy",
 *                                               "message":"denied by policy: ..."}}
 * Legacy EAA protocol (Verdictd): one raw JSON object per TLS record with a "command" field
 * (notes/kbs-protocols.md section 1.3); recognised by its first byte '{'.
 *
 * This file is self-contained (jansson + util tier) so that the fuzz target and the
 * `veritee admin` client can compile it too. Trust boundary: every byte parsed here comes
 * from an unauthenticated or merely attested peer; the parser bounds sizes, depths and counts
 * and reports a precise reason (never the peer's bytes) on failure.
 */
#ifndef VT_BROKER_PROTO_H
#define VT_BROKER_PROTO_H

#include <jansson.h>

#include "util/buf.h"
#include "util/result.h"

#define VTB_FRAME_HDR 4
#define VTB_MAX_REQUEST ((size_t)64 * 1024)     /* agent requests */
#define VTB_MAX_ADMIN_REQUEST ((size_t)4 << 20) /* admin requests (carry secrets, policies) */
#define VTB_MAX_REPLY ((size_t)8 << 20)
#define VTB_MAX_SECRET ((size_t)1 << 20)
#define VTB_EAA_MAX_REQUEST 4096 /* Verdictd's receive buffer */
#define VTB_MAX_PATH 200
#define VTB_MAX_SEGMENT 64
#define VTB_MAX_ID 64
#define VTB_MAX_KIDS 16
#define VTB_JSON_MAX_DEPTH 8

enum vtb_op {
    VTB_OP_GET_RESOURCE = 1, /* "get-resource" {path} */
    VTB_OP_UNWRAP,           /* "unwrap" {annotation: bytes} */
    VTB_OP_VERSION,          /* "version" */
    VTB_OP_EAA_VERSION,      /* legacy "version" */
    VTB_OP_EAA_GET_KEK,      /* legacy "Get KEK" {kids:[...]} */
    VTB_OP_EAA_DECRYPT,      /* legacy "Decrypt" {blobs:[...]} */
    VTB_OP_EAA_GET_RESOURCE, /* legacy "Get Resource" {optional:{resource_path}} */
    VTB_OP_EAA_RESOURCE_INFO, /* legacy "Get Resource Info" {name} */
};

/* A wrapped key (the annotation `veritee keyprovider` writes and the broker unwraps):
 * {"kid":"<repo>/<type>/<tag>","key_version":N,"iv":"<b64 12 bytes>",
 *  "wrapped_data":"<b64 ciphertext||tag>","wrap_type":"A256GCM"}. */
struct vtb_wrapped {
    char kid[VTB_MAX_PATH + 1];
    int64_t key_version;
    uint8_t iv[12];
    struct vt_buf ct; /* ciphertext followed by the 16-byte GCM tag */
};

/* One legacy Decrypt blob. */
struct vtb_eaa_blob {
    char kid[VTB_MAX_PATH + 1];
    char *encrypted_b64; /* the key of the reply map, as the client sent it */
    uint8_t iv[12];
    struct vt_buf ct; /* ciphertext||tag */
};

struct vtb_request {
    enum vtb_op op;
    bool legacy;
    json_t *id;                   /* echoed; NULL for legacy */
    char path[VTB_MAX_PATH + 1];  /* get-resource, EAA Get Resource / Info */
    struct vtb_wrapped wrapped;   /* unwrap */
    char kids[VTB_MAX_KIDS][VTB_MAX_PATH + 1]; /* EAA Get KEK */
    size_t n_kids;
    struct vtb_eaa_blob blobs[VTB_MAX_KIDS];   /* EAA Decrypt */
    size_t n_blobs;
};

/* Length of a frame from its header (no limit applied). */
uint32_t vtb_frame_len(const uint8_t hdr[VTB_FRAME_HDR]);
void vtb_frame_hdr(uint32_t len, uint8_t hdr[VTB_FRAME_HDR]);

/* A resource path: exactly three segments <repo>/<type>/<tag>, each 1..64 characters of
 * [A-Za-z0-9._-], not "." or "..". A "kbs:///" prefix or one leading '/' is accepted
 * and removed by vtb_path_normalize (out: VTB_MAX_PATH + 1 bytes). */
VT_RESULT vtb_path_check(const char *path);
VT_RESULT vtb_path_normalize(const char *in, char *out);
/* Glob over paths: '*' matches one whole segment or the rest of a segment ("key-*"). */
bool vtb_path_match(const char *pattern, const char *path);

/* Parse one request. why (at least 160 bytes) receives a precise reason on failure. */
VT_RESULT vtb_request_parse(const uint8_t *p, size_t n, bool legacy, struct vtb_request *out,
                            char *why, size_t why_len);
void vtb_request_free(struct vtb_request *r);

/* Parse the wrapped-key annotation (bytes of its JSON). */
VT_RESULT vtb_wrapped_parse(const uint8_t *p, size_t n, struct vtb_wrapped *out, char *why,
                            size_t why_len);
/* Serialise a wrapped key as annotation JSON bytes. */
VT_RESULT vtb_wrapped_json(const struct vtb_wrapped *w, struct vt_buf *out);
void vtb_wrapped_free(struct vtb_wrapped *w);

/* Bytes from JSON: a base64 string (standard alphabet, padding optional) or an array of
 * numbers 0..255 (ocicrypt-rs style). At most max bytes. */
VT_RESULT vtb_json_bytes(const json_t *v, size_t max, struct vt_buf *out);
/* Bytes as a JSON number array / base64 string (new references). */
json_t *vtb_json_byte_array(const uint8_t *p, size_t n);
json_t *vtb_json_b64(const uint8_t *p, size_t n);

/* Parse a JSON document with the protocol's limits (depth, no duplicate keys, no NUL). */
json_t *vtb_json_parse(const uint8_t *p, size_t n, char *why, size_t why_len);

/* Build replies (compact JSON, caller frees with free()). result may be NULL; it is
 * merged into the reply object (reference stolen). */
char *vtb_reply_ok(const json_t *id, const char *rid, json_t *result);
char *vtb_reply_err(const json_t *id, const char *rid, int code, const char *message);

#endif
