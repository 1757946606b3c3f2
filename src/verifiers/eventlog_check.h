/* SPDX-License-Identifier: Apache-2.0 */
/*
 * eventlog_check.h - an event log against a verified report: the one place that replays a
 * TCG or CCEL log (evidence/eventlog*.c) against the registers a verifier reported and
 * derives the eventlog.* claims, for `veritee verify --eventlog` and the KBS `cc_eventlog`.
 *
 * Registers from the report's claims: CCEL -> "rtmr0".."rtmr3" (48 bytes each, the TD quote's);
 * TCG -> "pcr.<i>" (one bank, its algorithm from the value size). Every register the log
 * touches and the report carries must equal the replay. Claims only after a match
 * (eventlog_claims.h). The log is untrusted bytes; the report must be verified.
 */
#ifndef VT_VERIFIERS_EVENTLOG_CHECK_H
#define VT_VERIFIERS_EVENTLOG_CHECK_H

#include <jansson.h>

#include "evidence/eventlog.h"
#include "veritee/veritee.h"

struct vt_evlog_check {
    enum vt_evlog_format format; /* as guessed from the header */
    uint16_t alg;                /* the bank compared (TPM_ALG_ID; 0 before a comparison) */
    uint32_t verified;           /* matched registers (PCR bits, CCEL: RTMR bits) */
    uint32_t bad;                /* the register of a *_MISMATCH */
    json_t *claims;              /* on success: {"eventlog.<name>": value} (caller decrefs) */
};

/* Parse log (format guessed: CCEL when the header lists SHA-384 alone; opts as for
 * vti_evlog_parse), replay it against rep's registers, derive the claims. Errors:
 * VT_ERR_EVLOG_* (parse; *_MISMATCH with out->bad; BANK_MISSING when the report carries
 * none of the log's registers; AAEL refusals), VT_ERR_NOMEM. */
VT_RESULT vti_evlog_check_report(const vt_report *rep, const uint8_t *log, size_t len,
                                 uint32_t opts, struct vt_evlog_check *out);
/* "RTMR2" / "PCR4": the register named by a mismatch (buf: 16 bytes). */
const char *vti_evlog_check_register(const struct vt_evlog_check *c, char buf[16]);

#endif
