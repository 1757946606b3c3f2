/* SPDX-License-Identifier: Apache-2.0 */
/*
 * json.h - JSON under the protocols' limits, and byte fields.
 *
 * Every JSON document a peer sends (broker requests, admin requests, wrapped-key annotations,
 * ocicrypt key-provider messages, KBS replies) is parsed here: nesting depth at most
 * VTP_JSON_MAX_DEPTH, duplicate object keys refused (no "last one wins"), no NUL character
 * in strings. Byte fields are a base64 string (standard alphabet, padding optional) or an
 * array of numbers 0..255 (ocicrypt-rs style); the length cap is checked before decoding.
 */
#ifndef VT_PROTO_JSON_H
#define VT_PROTO_JSON_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "util/result.h"

#define VTP_JSON_MAX_DEPTH 8

/* Parse p[0..n) under the limits into *ret (a new reference). *ret_pos (may be NULL) gets
 * the byte offset of a syntax error. Errors: VT_ERR_JSON (syntax), VT_ERR_PROTO_JSON_DUP_KEY,
 * VT_ERR_PROTO_JSON_NUL (\u0000 in a string), VT_ERR_PROTO_JSON_DEPTH. */
VT_RESULT vtp_json_load(const uint8_t *p, size_t n, json_t **ret, size_t *ret_pos);

/* The same, for the broker's protocol: NULL on failure with a reason in why
 * ("malformed request: invalid JSON at byte N" / "... nested deeper than 8"). */
json_t *vtp_json_parse(const uint8_t *p, size_t n, char *why, size_t why_len);

/* Bytes from JSON (base64 string or number array), at most max bytes, into out.
 * Errors: VT_ERR_TOO_LARGE (checked before decoding), VT_ERR_BAD_BASE64,
 * VT_ERR_BROKER_BAD_FIELD (neither a string nor an array; an element not an integer
 * 0..255). */
VT_RESULT vtp_json_bytes(const json_t *v, size_t max, struct vt_buf *out);
/* Bytes as a JSON number array / base64 string (new references; NULL on failure). */
json_t *vtp_json_byte_array(const uint8_t *p, size_t n);
json_t *vtp_json_b64(const uint8_t *p, size_t n);

#endif
