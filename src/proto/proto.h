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
#ifndef VT_PROTO_PROTO_H
#define VT_PROTO_PROTO_H

#include <jansson.h>

#include "util/buf.h"
#include "util/result.h"

#define VTP_FRAME_HDR 4
#define VTP_MAX_REQUEST ((size_t)64 * 1024)     /* agent requests */
#define VTP_MAX_ADMIN_REQUEST ((size_t)4 << 20) /* admin requests (carry secrets, policies) */
#define VTP_MAX_REPLY ((size_t)8 << 20)
#define VTP_MAX_SECRET ((size_t)1 << 20)
#define VTP_EAA_MAX_REQUEST 4096 /* Verdictd's receive buffer */
#define VTP_MAX_PATH 200
#define VTP_MAX_SEGMENT 64
#define VTP_MAX_ID 64
#define VTP_MAX_KIDS 16
#define VTP_JSON_MAX_DEPTH 8

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

/* A wrapped key (the annotation `veritee keyprovider` writes and the broker unwraps):
 * {"kid":"<repo>/<type>/<tag>","key_version":N,"iv":"<b64 12 bytes>",
 *  "wrapped_data":"<b64 ciphertext||tag>","wrap_type":"A256GCM"}. */
struct vtp_wrapped {
    char kid[VTP_MAX_PATH + 1];
    int64_t key_version;
    uint8_t iv[12];
    struct vt_buf ct; /* ciphertext followed by the 16-byte GCM tag */
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

/* Length of a frame from its header (no limit applied). */
uint32_t vtp_frame_len(const uint8_t hdr[VTP_FRAME_HDR]);
void vtp_frame_hdr(uint32_t len, uint8_t hdr[VTP_FRAME_HDR]);

/* A resource path: exactly three segments <repo>/<type>/<tag>, each 1..64 characters of
 * [A-Za-z0-9._-], not "." or "..". A "kbs:///" prefix or one leading '/' is accepted
 * and removed by vtp_path_normalize (out: VTP_MAX_PATH + 1 bytes). */
VT_RESULT vtp_path_check(const char *path);
VT_RESULT vtp_path_normalize(const char *in, char *out);
/* Glob over paths: '*' matches one whole segment or the rest of a segment ("key-*"). */
bool vtp_path_match(const char *pattern, const char *path);

/* Parse one request. why (at least 160 bytes) receives a precise reason on failure. */
VT_RESULT vtp_request_parse(const uint8_t *p, size_t n, bool legacy, struct vtp_request *out,
                            char *why, size_t why_len);
void vtp_request_free(struct vtp_request *r);

/* Parse the wrapped-key annotation (bytes of its JSON). */
VT_RESULT vtp_wrapped_parse(const uint8_t *p, size_t n, struct vtp_wrapped *out, char *why,
                            size_t why_len);
/* Serialise a wrapped key as annotation JSON bytes. */
VT_RESULT vtp_wrapped_json(const struct vtp_wrapped *w, struct vt_buf *out);
void vtp_wrapped_free(struct vtp_wrapped *w);

/* Bytes from JSON: a base64 string (standard alphabet, padding optional) or an array of
 * numbers 0..255 (ocicrypt-rs style). At most max bytes. */
VT_RESULT vtp_json_bytes(const json_t *v, size_t max, struct vt_buf *out);
/* Bytes as a JSON number array / base64 string (new references). */
json_t *vtp_json_byte_array(const uint8_t *p, size_t n);
json_t *vtp_json_b64(const uint8_t *p, size_t n);

/* Parse a JSON document with the protocol's limits (depth, no duplicate keys, no NUL). */
json_t *vtp_json_parse(const uint8_t *p, size_t n, char *why, size_t why_len);

/* Build replies (compact JSON, caller frees with free()). result may be NULL; it is
 * merged into the reply object (reference stolen). */
char *vtp_reply_ok(const json_t *id, const char *rid, json_t *result);
char *vtp_reply_err(const json_t *id, const char *rid, int code, const char *message);

/* Frame I/O on a plain socket (admin): read one frame of at most max bytes (NUL-terminated
 * in out); write one frame of at most VTP_MAX_REPLY bytes. */
VT_RESULT vtp_sock_read_frame(int fd, size_t max, struct vt_buf *out);
VT_RESULT vtp_sock_write_frame(int fd, const char *s);
#endif
