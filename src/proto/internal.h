/* SPDX-License-Identifier: Apache-2.0 */
/*
 * internal.h - helpers shared by the src/proto files (not for users of the library: include
 * proto/proto.h or one of the per-concern headers instead).
 */
#ifndef VT_PROTO_INTERNAL_H
#define VT_PROTO_INTERNAL_H

#include <jansson.h>
#include <stddef.h>

#include "util/buf.h"
#include "util/result.h"

/* Format a failure reason into why (ignored when why is NULL or why_len is 0). */
void vtp_why(char *why, size_t why_len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* A string member of at most max characters; NULL if absent, not a string or longer. */
const char *vtp_str_field(const json_t *o, const char *name, size_t max);
/* Exactly n bytes (base64 or number array) into out; VT_ERR_BROKER_BAD_FIELD otherwise. */
VT_RESULT vtp_json_bytes_fixed(const json_t *v, uint8_t *out, size_t n);

#endif
