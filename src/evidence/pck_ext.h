/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pck_ext.h - the SGX extension of an Intel PCK certificate (OID 1.2.840.113741.1.13.1):
 * pure, bounded DER parser.
 *
 * Input: the extension value, i.e. the contents of the certificate extension's OCTET STRING
 * (a SEQUENCE of SEQUENCE { OID, value }). Untrusted bytes (the certificate's signature is
 * checked by the verifier, not here). No crypto, no policy, no I/O.
 *
 * What is read (Intel "SGX PCK Certificate and CRL Profile"):
 *   .1.13.1.4  FMSPC          OCTET STRING (6)
 *   .1.13.1.3  PCE-ID         OCTET STRING (2)
 *   .1.13.1.2  TCB            SEQUENCE of { .2.1 .. .2.16 component SVN INTEGER 0..255,
 *                                           .2.17 PCESVN INTEGER 0..65535,
 *                                           .2.18 CPUSVN OCTET STRING (16) }
 * All three are required, and all 18 TCB entries. Other top-level entries (PPID .1, SGX type
 * .5, platform instance id .6, configuration .7, and unknown ones) are skipped without
 * looking inside them, as long as they are well-formed SEQUENCE { OID, value } items with
 * nothing after the value (inside the TCB sequence, elements after an entry's value are
 * ignored). A field that appears twice is taken from its last occurrence. Every failure is
 * VT_ERR_INTEL_PCK_EXT.
 */
#ifndef VT_EVIDENCE_PCK_EXT_H
#define VT_EVIDENCE_PCK_EXT_H

#include "util/result.h"

/* The extension's OID as dotted text and as DER content bytes. */
#define VT_PCK_EXT_OID "1.2.840.113741.1.13.1"
extern const uint8_t vt_pck_ext_oid_der[9];

struct vt_pck_ext {
    uint8_t fmspc[6], pceid[2];
    uint8_t comps[16];   /* SGX TCB component SVNs (.2.1 .. .2.16) */
    uint16_t pcesvn;
    uint8_t cpusvn[16];
};

/* Parse the extension value der[0..len). On failure *out may be partly written. */
VT_RESULT vti_pck_ext_parse(const uint8_t *der, size_t len, struct vt_pck_ext *out);

#endif
