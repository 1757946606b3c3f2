/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kbs_eventlog.h - the event log of KBS "tdx" evidence: guest-components' TDX attester sends
 * {"quote": base64, "cc_eventlog": base64 | null}, the CCEL (trimmed at its end marker) with
 * the attestation agent's AAEL entries appended (evidence/eventlog_aael.h). When cc_eventlog
 * is present and non-empty, it is replayed against the verified quote's RTMRs
 * (verifiers/eventlog_check.h) as Trustee's TDX verifier does, and its eventlog.* claims are
 * added to the report, so that the EAR token and the resource policy see them as they see the
 * quote's claims (arrays as their compact JSON text: the policy input is strings).
 * An older separate "aa_eventlog" member is not read (no claims come from it).
 */
#ifndef VT_KBS_KBS_EVENTLOG_H
#define VT_KBS_KBS_EVENTLOG_H

#include <jansson.h>
#include <stddef.h>

#include "veritee/veritee.h"

/* 0: no event log, or it matched (claims added to rep); otherwise VT_ERR_KBS_EVENTLOG
 * (not base64, does not parse, AAEL refusal, too many claims) or VT_ERR_KBS_EVENTLOG_MISMATCH
 * (a replayed RTMR differs: why names it), with the reason in why. rep: verified. */
int vtk_tdx_eventlog(const json_t *primary_evidence, vt_report *rep, char *why, size_t why_len);

#endif
