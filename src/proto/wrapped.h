/* SPDX-License-Identifier: Apache-2.0 */
/*
 * wrapped.h - the wrapped-key annotation: what `veritee keyprovider` (through the broker's
 * admin socket) writes into an encrypted image and the broker unwraps after attestation:
 * {"kid":"<repo>/<type>/<tag>","key_version":N,"iv":"<b64 12 bytes>",
 *  "wrapped_data":"<b64 ciphertext||tag>","wrap_type":"A256GCM"}.
 */
#ifndef VT_PROTO_WRAPPED_H
#define VT_PROTO_WRAPPED_H

#include <stddef.h>
#include <stdint.h>

#include "proto/path.h"
#include "util/buf.h"
#include "util/result.h"

#define VTP_MAX_ANNOTATION ((size_t)64 * 1024)

struct vtp_wrapped {
    char kid[VTP_MAX_PATH + 1];
    int64_t key_version;
    uint8_t iv[12];
    struct vt_buf ct; /* ciphertext followed by the 16-byte GCM tag */
};

/* Parse the annotation (bytes of its JSON). Every refusal is VT_ERR_BROKER_BAD_ANNOTATION,
 * with the field named in why. */
VT_RESULT vtp_wrapped_parse(const uint8_t *p, size_t n, struct vtp_wrapped *out, char *why,
                            size_t why_len);
/* Serialise a wrapped key as annotation JSON bytes (appended to out). */
VT_RESULT vtp_wrapped_json(const struct vtp_wrapped *w, struct vt_buf *out);
void vtp_wrapped_free(struct vtp_wrapped *w);

#endif
