/* SPDX-License-Identifier: Apache-2.0 */
/*
 * keyprovider.h - the ocicrypt key-provider "cmd" protocol (notes/kbs-protocols.md 3.3):
 * one JSON object on stdin, one on stdout. Spoken by `veritee keyprovider` (keywrap, the
 * image builder's side) and `veritee-agent keyprovider` (keyunwrap, inside the TEE).
 *
 *   {"op":"keywrap","keywrapparams":{"ec":{"Parameters":{"<provider>":[<bytes>]}},
 *                                    "optsdata":<bytes>}}
 *   {"op":"keyunwrap","keyunwrapparams":{"annotation":<bytes>}}
 * Byte fields are base64 strings or number arrays (json.h); replies carry number arrays
 * (what both Go ocicrypt and ocicrypt-rs read). The JSON is parsed under json.h's limits:
 * duplicate keys are refused (a request is never read as "last one wins").
 */
#ifndef VT_PROTO_KEYPROVIDER_H
#define VT_PROTO_KEYPROVIDER_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "util/result.h"

#define VTP_KP_MAX_REQUEST ((size_t)4 << 20)
#define VTP_KP_MAX_PARAM 255

enum vtp_kp_op { VTP_KP_KEYWRAP = 1, VTP_KP_KEYUNWRAP = 2 };

struct vtp_kp_request {
    enum vtp_kp_op op;
    struct vt_buf optsdata;   /* keywrap: 1..VTP_MAX_SECRET bytes (a wiping buffer) */
    struct vt_buf param;      /* keywrap: the provider's first parameter (0..255 bytes, no
                                 NUL); empty when absent or malformed (--key may name it) */
    struct vt_buf annotation; /* keyunwrap: 0..VTP_MAX_ANNOTATION bytes */
};

/* Parse one request whose op must be want; provider names the ec.Parameters entry (may be
 * NULL: none read).
 * Errors (why names the field): VT_ERR_TOO_LARGE (n > VTP_KP_MAX_REQUEST), VT_ERR_JSON,
 * VT_ERR_PROTO_JSON_DUP_KEY, VT_ERR_PROTO_JSON_NUL, VT_ERR_PROTO_JSON_DEPTH (json.h),
 * VT_ERR_BROKER_MALFORMED_REQUEST (not an object), VT_ERR_BROKER_UNKNOWN_OP (op missing or
 * not want), VT_ERR_BROKER_BAD_FIELD (optsdata / annotation missing or
 * malformed). out is emptied on failure. */
VT_RESULT vtp_kp_parse(const uint8_t *p, size_t n, enum vtp_kp_op want, const char *provider,
                       struct vtp_kp_request *out, char *why, size_t why_len);
void vtp_kp_free(struct vtp_kp_request *r);

/* The broker key named by a keywrap parameter: "provider:<provider>:" and "kid=" prefixes
 * removed (out: at least VTP_KP_MAX_PARAM + 1 bytes). */
void vtp_kp_param_kid(const struct vt_buf *param, const char *provider, char *out,
                      size_t out_len);

/* Replies (compact JSON; free() them, after wiping an unwrap reply: it holds the key):
 * {"keywrapresults":{"annotation":[...]}} and {"keyunwrapresults":{"optsdata":[...]}}. */
char *vtp_kp_reply_wrap(const uint8_t *annotation, size_t n);
char *vtp_kp_reply_unwrap(const uint8_t *optsdata, size_t n);

#endif
