/* SPDX-License-Identifier: Apache-2.0 */
/*
 * eventlog_aael.h - the CoCo attestation-agent event log (AAEL) as the attestation agent of
 * confidential-containers/guest-components writes it into the TCG2 / CCEL format (Trustee
 * kbs/docs/confidential-containers-eventlog.md; guest-components attestation-agent
 * src/eventlog/tcg2.rs):
 *
 *   one TCG_PCR_EVENT2 per AAEL entry, type EV_EVENT_TAG (6), on the CC MR the agent maps its
 *   register to (TDX: PCR 17 -> CC MR 4 = RTMR3), one digest (the CCEL algorithm, SHA-384 on
 *   TDX) = H(event data); the event data is a TCG_PCClientTaggedEvent {taggedEventID u32 =
 *   0x4141454c ("LEAA" on the wire), taggedEventDataSize u32, taggedEventData[]} whose data
 *   is the AAEL entry text "<domain> <operation> <content>".
 *
 * The TDX attester sends the firmware's CCEL (trimmed at its end marker) with the agent's
 * entries appended, as one `cc_eventlog`; the replay (eventlog_replay.c) therefore extends
 * RTMR3 with the firmware's MR-4 events and the AAEL entries in log order, as the hardware did.
 *
 * Entry rules (the AAEL specification): domain and operation non-empty, without white space;
 * all three fields printable ASCII (0x20..0x7e); single spaces between the fields; content
 * without line feed (it may contain spaces). Caps: domain 128, operation 64, content 16 KiB.
 *
 * Trust boundary: the bytes are untrusted; bounded cursor reads; pure (no crypto; the binding
 * of the event digest to the data is checked by the claims, eventlog_claims.c).
 */
#ifndef VT_EVIDENCE_EVENTLOG_AAEL_H
#define VT_EVIDENCE_EVENTLOG_AAEL_H

#include "evidence/eventlog.h"

#define VT_EV_EVENT_TAG 0x00000006u
#define VT_AAEL_TAG_ID 0x4141454cu
#define VT_AAEL_MAX_DOMAIN 128u
#define VT_AAEL_MAX_OPERATION 64u
#define VT_AAEL_MAX_CONTENT 16384u

struct vt_aael_entry {
    const char *domain; /* views into the event data, not NUL-terminated */
    size_t domain_len;
    const char *operation;
    size_t operation_len;
    const char *content;
    size_t content_len;
};

/* Is ev an EV_EVENT_TAG event whose tagged-event ID is AAEL's? (Only the ID is looked at.) */
bool vti_aael_is_tagged(const struct vt_evlog_event *ev);
/* The AAEL entry of a tagged event's data (the whole TCG_PCClientTaggedEvent):
 * VT_ERR_EVLOG_AAEL_TAG (not AAEL's ID, or the size is not the rest of the data),
 * VT_ERR_EVLOG_AAEL_ENTRY (the text breaks the entry rules). On failure *out is zeroed. */
VT_RESULT vti_aael_parse(const uint8_t *data, size_t len, struct vt_aael_entry *out);

#endif
