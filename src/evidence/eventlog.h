/* SPDX-License-Identifier: Apache-2.0 */
/*
 * eventlog.h - measured-boot event logs: the TCG PC Client log behind a TPM's PCRs and the
 * Confidential Computing Event Log (CCEL) behind a TD's RTMRs.
 *
 * Formats (TCG PC Client Platform Firmware Profile, section 10 "Event Logging"):
 *  - crypto-agile: a TCG_PCR_EVENT header of type EV_NO_ACTION whose data is the
 *    TCG_EfiSpecIDEvent "Spec ID Event03" (the digest algorithms and sizes), then
 *    TCG_PCR_EVENT2 records {pcrIndex u32, eventType u32, TPML_DIGEST_VALUES, eventSize u32,
 *    event}, little-endian;
 *  - legacy (TCG 1.2, SHA-1 only): TCG_PCR_EVENT records {pcrIndex, eventType, SHA-1[20],
 *    eventSize, event}; only with VT_EVLOG_ALLOW_SHA1 (a SHA-1 log is weak evidence);
 *  - CCEL (Intel TDX): the crypto-agile format, the index being the CC measurement-register
 *    index (0 = MRTD, 1..4 = RTMR0..3); the log region is padded (0xff or 0x00): the log ends
 *    at the first record whose index is 0xffffffff or whose index and type are both 0.
 *
 * Trust boundary: the bytes are untrusted. vti_evlog_parse() validates the whole log (every
 * record, digest, size and cap) before it returns; iteration then only re-reads validated
 * bytes. Views point into the input, which must outlive the vt_evlog. No allocation.
 * Caps: 16 MiB of log, 16384 events, 1 MiB of event data, 8 digest algorithms of at most
 * 64 bytes. Errors: VT_ERR_EVLOG_* (include/veritee/errors/tpm.def, 6070-6099).
 *
 * Replay (eventlog_replay.c): PCR[i] = H(PCR[i] || digest) per bank from the initial value
 * (zeros; PCR0 = 00..0L after a StartupLocality event of locality L), EV_NO_ACTION never
 * extended; CCEL: SHA-384 into RTMR[index - 1] for index 1..4, index 0 (MRTD) not replayed.
 */
#ifndef VT_EVIDENCE_EVENTLOG_H
#define VT_EVIDENCE_EVENTLOG_H

#include "util/cursor.h"

#define VT_EVLOG_MAX_LEN (16u << 20)
#define VT_EVLOG_MAX_EVENTS 16384u
#define VT_EVLOG_MAX_EVENT_SIZE (1u << 20)
#define VT_EVLOG_MAX_ALGS 8u
#define VT_EVLOG_MAX_DIGEST 64u
#define VT_EVLOG_NUM_PCRS 24u
#define VT_EVLOG_NUM_RTMRS 4u

/* Event types (PC Client PFP, table "Event Types"). */
#define VT_EV_NO_ACTION 0x00000003u
#define VT_EV_SEPARATOR 0x00000004u
#define VT_EV_EFI_EVENT_BASE 0x80000000u

enum vt_evlog_format { VT_EVLOG_TCG = 1, VT_EVLOG_CCEL = 2 };
/* Options of vti_evlog_parse. */
#define VT_EVLOG_ALLOW_SHA1 0x1u

struct vt_evlog_alg {
    uint16_t alg;  /* TPM_ALG_ID */
    uint16_t size; /* digest size from the Spec ID event (checked for known algorithms) */
};

struct vt_evlog {
    enum vt_evlog_format format;
    bool legacy_sha1;      /* TCG 1.2 SHA-1-only records (no Spec ID Event03) */
    uint32_t n_algs;
    struct vt_evlog_alg algs[VT_EVLOG_MAX_ALGS];
    /* Spec ID Event03 fields (crypto-agile only) */
    uint32_t platform_class;
    uint8_t spec_major, spec_minor, spec_errata, uintn_size;
    const uint8_t *vendor_info;
    uint8_t vendor_info_len;
    /* StartupLocality (an EV_NO_ACTION event on PCR0 before any PCR0 measurement) */
    bool has_locality;
    uint8_t locality;
    /* validated region: events in [events_off, events_end) of p */
    const uint8_t *p;
    size_t len, events_off, events_end;
    uint32_t n_events; /* after the header (legacy: all records) */
};

struct vt_evlog_event {
    uint32_t seq;  /* 0-based position after the header */
    uint32_t pcr;  /* PCR index, or CC MR index for CCEL */
    uint32_t type; /* eventType */
    /* digest[i] belongs to log->algs[i] (reordered from the record), log->algs[i].size bytes */
    const uint8_t *digest[VT_EVLOG_MAX_ALGS];
    const uint8_t *data;
    uint32_t data_len;
};

struct vt_evlog_iter {
    const struct vt_evlog *log;
    struct vt_cur c;
    uint32_t seq;
};

/* Parse and validate a whole log of the given format (opts: VT_EVLOG_ALLOW_SHA1; a CCEL log
 * is never legacy). On failure *out is zeroed. */
VT_RESULT vti_evlog_parse(const uint8_t *p, size_t len, enum vt_evlog_format fmt, uint32_t opts,
                          struct vt_evlog *out);
/* "tcg" or "ccel" from the log's header: CCEL when the Spec ID event lists SHA-384 alone. */
enum vt_evlog_format vti_evlog_guess_format(const uint8_t *p, size_t len);

/* Iterate the validated events in order. vti_evlog_next returns false at the end. */
void vti_evlog_iter_init(const struct vt_evlog *log, struct vt_evlog_iter *it);
bool vti_evlog_next(struct vt_evlog_iter *it, struct vt_evlog_event *ev);
/* The digest of ev for algorithm alg, or NULL if the log has no such bank. */
const uint8_t *vti_evlog_digest(const struct vt_evlog *log, const struct vt_evlog_event *ev,
                                uint16_t alg, size_t *size);

/* "EV_SEPARATOR", "EV_EFI_ACTION", ... or NULL for an unknown type. */
const char *vti_evlog_type_name(uint32_t type);
/* Is this EV_NO_ACTION event a StartupLocality event (and which locality)? */
bool vti_evlog_startup_locality(const struct vt_evlog_event *ev, uint8_t *locality);

/* ---- replay (eventlog_replay.c) -------------------------------------------------------- */

struct vt_evlog_bank {
    uint16_t alg;
    uint16_t size;
    uint32_t touched; /* bit i: an event extended PCR i (CCEL: RTMR i) */
    uint8_t v[VT_EVLOG_NUM_PCRS][VT_EVLOG_MAX_DIGEST];
};

struct vt_evlog_replay {
    enum vt_evlog_format format;
    uint32_t n_banks; /* TCG: every bank with a known hash; CCEL: one SHA-384 bank of RTMRs */
    struct vt_evlog_bank bank[VT_EVLOG_MAX_ALGS];
};

/* Replay every bank (TCG) or the RTMRs (CCEL) of a parsed log. */
VT_RESULT vti_evlog_replay(const struct vt_evlog *log, struct vt_evlog_replay *out);
/* The replayed bank of algorithm alg, or NULL. */
const struct vt_evlog_bank *vti_evlog_bank(const struct vt_evlog_replay *r, uint16_t alg);

/* Compare a replayed TCG bank with quoted PCR values: for every PCR i the log touches and the
 * quote carries (bit i of quoted_mask), pcr[i] must equal the replay. A difference is
 * VT_ERR_EVLOG_PCR_MISMATCH with *bad = i (the lowest); a log without this bank is
 * VT_ERR_EVLOG_BANK_MISSING. *verified gets the touched PCRs that matched (events on touched
 * but unquoted PCRs are not verified). */
VT_RESULT vti_evlog_check_pcrs(const struct vt_evlog_replay *r, uint16_t alg,
                               const uint8_t (*pcr)[VT_EVLOG_MAX_DIGEST], uint32_t quoted_mask,
                               uint32_t *verified, uint32_t *bad);
/* Compare replayed RTMRs with a TD quote's: all four must equal rtmr[i], an RTMR the log
 * does not touch replaying to zeros (as Trustee compares: a register extended outside the
 * log cannot be interpreted) (VT_ERR_EVLOG_RTMR_MISMATCH, *bad = i); *verified = 0xf. */
VT_RESULT vti_evlog_check_rtmrs(const struct vt_evlog_replay *r, const uint8_t rtmr[4][48],
                                uint32_t *verified, uint32_t *bad);

#endif
