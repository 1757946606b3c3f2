/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dice_tcb.h - the FWID of a TCG DICE TcbInfo certificate extension (OID 2.23.133.5.4.1), as
 * NVIDIA GPU device certificates carry it: pure, bounded DER parser.
 *
 * Spec: TCG DICE Attestation Architecture, "DiceTcbInfo" (fwids [6] IMPLICIT SEQUENCE OF
 * FWID, FWID ::= SEQUENCE { hashAlg OID, digest OCTET STRING }). Two shapes:
 *   - HOPPER: the GH100 leaf's extension is an older layout whose last element is one FWID
 *     SEQUENCE; the FWID is its digest (the raw last 48 bytes of the value, checked to be
 *     exactly that DER OCTET STRING);
 *   - BLACKWELL: a DiceTcbInfo; the FWID is fwids[0].digest.
 * Either way the digest must be 48 bytes (SHA-384). No crypto, no policy, no I/O.
 */
#ifndef VT_EVIDENCE_DICE_TCB_H
#define VT_EVIDENCE_DICE_TCB_H

#include "util/result.h"

#define VT_DICE_FWID_LEN 48u

enum vt_dice_shape { VT_DICE_HOPPER = 0, VT_DICE_BLACKWELL = 1 };

/* The DiceTcbInfo OID content bytes (2.23.133.5.4.1). */
extern const uint8_t vt_dice_tcb_oid_der[6];

/* value[0..len): the extension's OCTET STRING contents. *fwid points into value (48 bytes).
 * VT_ERR_NV_DICE_EXT on any malformation. */
VT_RESULT vti_dice_fwid(const uint8_t *value, size_t len, enum vt_dice_shape shape,
                        const uint8_t **fwid);

#endif
