/* SPDX-License-Identifier: Apache-2.0 */
/*
 * eventlog_claims.h - boot claims from a replayed event log, named eventlog.<name>
 * (docs/eventlog.md, "Claims").
 *
 * Only after a matched replay: the caller passes the bank it compared with the quote and the
 * mask of registers that matched (vti_evlog_check_pcrs / vti_evlog_check_rtmrs); events on
 * other registers are ignored. A claim read from event data (a variable's name and value, a
 * command line, GCE's NonHostInfo) is made only when the event's digest in that bank is the
 * hash of that data, so the data is as trusted as the quote; digest claims (PK/KEK/db/dbx,
 * boot applications) are the verified digests themselves.
 */
#ifndef VT_EVIDENCE_EVENTLOG_CLAIMS_H
#define VT_EVIDENCE_EVENTLOG_CLAIMS_H

#include <jansson.h>

#include "evidence/eventlog.h"

/* A JSON object {"eventlog.secure_boot": true, ...} in *out (json_decref it). alg: the bank
 * compared with the quote (CCEL: SHA-384); verified: its matched registers (PCR / RTMR bits). */
VT_RESULT vti_evlog_claims(const struct vt_evlog *log, uint16_t alg, uint32_t verified,
                           json_t **out);

#endif
