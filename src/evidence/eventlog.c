/* SPDX-License-Identifier: Apache-2.0 */
/*
 * eventlog.c - TCG PC Client (crypto-agile and legacy SHA-1) and CCEL event log parser (see
 * eventlog.h). Pure: no crypto, no policy, no allocation. Every record is read through the
 * bounded cursor; running out of bytes inside a record is VT_ERR_EVLOG_TRUNCATED.
 *
 * Spec: TCG PC Client Platform Firmware Profile Specification 1.05, section 10.2 (event
 * structures TCG_PCR_EVENT, TCG_PCR_EVENT2, TCG_EfiSpecIDEvent) and 10.4.5 (StartupLocality);
 * Intel TDX Virtual Firmware Design Guide, section 4.3 (CCEL and CC MR indices).
 */
#include <string.h>

#include "evidence/eventlog.h"
#include "evidence/tpm.h"

#define SPEC_ID_SIG "Spec ID Event03" /* 16 bytes with the NUL */
#define LOCALITY_SIG "StartupLocality" /* 16 bytes with the NUL, then the locality byte */
#define LEGACY_DIGEST 20u
#define CCEL_MAX_MR 4u

/* ---- cursor reads that turn "out of bytes" into the event log's truncation code --------- */

static vt_res rd_u16(struct vt_cur *c, uint16_t *v)
{
    ENSURE(vti_is_ok(vti_cur_u16le(c, v)), VT_ERR_EVLOG_TRUNCATED);
    return vti_ok();
}

static vt_res rd_u32(struct vt_cur *c, uint32_t *v)
{
    ENSURE(vti_is_ok(vti_cur_u32le(c, v)), VT_ERR_EVLOG_TRUNCATED);
    return vti_ok();
}

static vt_res rd_view(struct vt_cur *c, size_t n, const uint8_t **v)
{
    ENSURE(vti_is_ok(vti_cur_view(c, n, v)), VT_ERR_EVLOG_TRUNCATED);
    return vti_ok();
}

/* ---- header ---------------------------------------------------------------------------- */

/* TCG_PCR_EVENT {pcrIndex, eventType, SHA-1 digest[20], eventSize, event[eventSize]}. */
static vt_res read_legacy(struct vt_cur *c, struct vt_evlog_event *ev)
{
    GUARD(rd_u32(c, &ev->pcr));
    GUARD(rd_u32(c, &ev->type));
    GUARD(rd_view(c, LEGACY_DIGEST, &ev->digest[0]));
    GUARD(rd_u32(c, &ev->data_len));
    ENSURE(ev->data_len <= VT_EVLOG_MAX_EVENT_SIZE, VT_ERR_EVLOG_EVENT_SIZE);
    return rd_view(c, ev->data_len, &ev->data);
}

static bool has_prefix(const struct vt_evlog_event *ev, const char *sig, size_t n)
{
    return ev->data_len >= n && memcmp(ev->data, sig, n) == 0; /* lint: public format tag */
}

static vt_res spec_id_algs(struct vt_cur *c, struct vt_evlog *log)
{
    GUARD(vti_cur_u32le(c, &log->n_algs));
    ENSURE(log->n_algs >= 1 && log->n_algs <= VT_EVLOG_MAX_ALGS, VT_ERR_EVLOG_ALG_COUNT);
    for (uint32_t i = 0; i < log->n_algs; i++) {
        struct vt_evlog_alg *a = &log->algs[i];
        GUARD(vti_cur_u16le(c, &a->alg));
        GUARD(vti_cur_u16le(c, &a->size));
        size_t known = vti_tpm_hash_size(a->alg);
        ENSURE(a->size >= 1 && a->size <= VT_EVLOG_MAX_DIGEST, VT_ERR_EVLOG_ALG_SIZE);
        ENSURE(known == 0 || known == a->size, VT_ERR_EVLOG_ALG_SIZE);
        for (uint32_t j = 0; j < i; j++)
            ENSURE(log->algs[j].alg != a->alg, VT_ERR_EVLOG_ALG_SIZE);
    }
    return vti_ok();
}

/* TCG_EfiSpecIDEvent: signature[16], platformClass u32, specVersionMinor/Major, specErrata,
 * uintnSize (u8 each), numberOfAlgorithms u32, digestSizes[] {algorithmId u16, digestSize
 * u16}, vendorInfoSize u8, vendorInfo[]: exactly the event data. */
static vt_res spec_id_body(struct vt_cur *c, struct vt_evlog *log)
{
    GUARD(vti_cur_skip(c, sizeof(SPEC_ID_SIG)));
    GUARD(vti_cur_u32le(c, &log->platform_class));
    GUARD(vti_cur_u8(c, &log->spec_minor));
    GUARD(vti_cur_u8(c, &log->spec_major));
    GUARD(vti_cur_u8(c, &log->spec_errata));
    GUARD(vti_cur_u8(c, &log->uintn_size));
    GUARD(spec_id_algs(c, log));
    GUARD(vti_cur_u8(c, &log->vendor_info_len));
    GUARD(vti_cur_view(c, log->vendor_info_len, &log->vendor_info));
    return vti_cur_done(c);
}

static vt_res spec_id(const struct vt_evlog_event *hdr, struct vt_evlog *log)
{
    struct vt_cur c = vti_cur_init(hdr->data, hdr->data_len);
    vt_res r = spec_id_body(&c, log);
    if (r.err == VT_ERR_TRUNCATED || r.err == VT_ERR_TRAILING_DATA)
        return VT_FAIL(VT_ERR_EVLOG_SPEC_ID);
    return r;
}

static bool find_alg(const struct vt_evlog *log, uint16_t alg)
{
    for (uint32_t i = 0; i < log->n_algs; i++)
        if (log->algs[i].alg == alg)
            return true;
    return false;
}

/* The first record: a Spec ID Event03 (crypto-agile) or, with ALLOW_SHA1, a legacy log. */
static vt_res header(struct vt_cur *c, enum vt_evlog_format fmt, uint32_t opts,
                     struct vt_evlog *log)
{
    struct vt_evlog_event hdr = { 0 };
    GUARD(read_legacy(c, &hdr));
    if (hdr.type == VT_EV_NO_ACTION && has_prefix(&hdr, SPEC_ID_SIG, sizeof(SPEC_ID_SIG))) {
        GUARD(spec_id(&hdr, log));
        ENSURE(fmt != VT_EVLOG_CCEL || find_alg(log, VT_TPM_ALG_SHA384), VT_ERR_EVLOG_CCEL_ALG);
        log->events_off = c->off;
        return vti_ok();
    }
    ENSURE(fmt == VT_EVLOG_TCG, VT_ERR_EVLOG_SPEC_ID);
    ENSURE(opts & VT_EVLOG_ALLOW_SHA1, VT_ERR_EVLOG_SHA1_LOG);
    log->legacy_sha1 = true;
    log->n_algs = 1;
    log->algs[0] = (struct vt_evlog_alg){ VT_TPM_ALG_SHA1, LEGACY_DIGEST };
    log->events_off = 0; /* every legacy record is an event, the first one included */
    c->off = 0;
    return vti_ok();
}

/* ---- events ---------------------------------------------------------------------------- */

/* TPML_DIGEST_VALUES {count u32, TPMT_HA {hashAlg u16, digest[size of hashAlg]}[count]}:
 * exactly one digest per header algorithm, stored in header order. */
static vt_res read_digests(struct vt_cur *c, const struct vt_evlog *log,
                           struct vt_evlog_event *ev)
{
    uint32_t count;
    GUARD(rd_u32(c, &count));
    ENSURE(count == log->n_algs, VT_ERR_EVLOG_DIGEST_COUNT);
    for (uint32_t i = 0; i < count; i++) {
        uint16_t alg;
        GUARD(rd_u16(c, &alg));
        uint32_t k = 0;
        while (k < log->n_algs && log->algs[k].alg != alg)
            k++;
        ENSURE(k < log->n_algs && ev->digest[k] == NULL, VT_ERR_EVLOG_DIGEST_ALG);
        GUARD(rd_view(c, log->algs[k].size, &ev->digest[k]));
    }
    return vti_ok();
}

/* TCG_PCR_EVENT2 {pcrIndex u32, eventType u32, TPML_DIGEST_VALUES, eventSize u32, event}. */
/* PCR index 0..23; CCEL: MR index 0..4. */
static vt_res check_index(const struct vt_evlog *log, uint32_t idx)
{
    if (log->format == VT_EVLOG_CCEL)
        ENSURE(idx <= CCEL_MAX_MR, VT_ERR_EVLOG_MR_INDEX);
    else
        ENSURE(idx < VT_EVLOG_NUM_PCRS, VT_ERR_EVLOG_PCR_INDEX);
    return vti_ok();
}

static vt_res read_event2(struct vt_cur *c, const struct vt_evlog *log, struct vt_evlog_event *ev)
{
    GUARD(rd_u32(c, &ev->pcr));
    GUARD(check_index(log, ev->pcr));
    GUARD(rd_u32(c, &ev->type));
    GUARD(read_digests(c, log, ev));
    GUARD(rd_u32(c, &ev->data_len));
    ENSURE(ev->data_len <= VT_EVLOG_MAX_EVENT_SIZE, VT_ERR_EVLOG_EVENT_SIZE);
    return rd_view(c, ev->data_len, &ev->data);
}

static vt_res read_event(struct vt_cur *c, const struct vt_evlog *log, struct vt_evlog_event *ev)
{
    uint32_t seq = ev->seq;
    *ev = (struct vt_evlog_event){ .seq = seq };
    if (!log->legacy_sha1)
        return read_event2(c, log, ev);
    GUARD(read_legacy(c, ev));
    return check_index(log, ev->pcr);
}

/* CCEL: the region after the log is padding; a record with index 0xffffffff, or index and type
 * both 0, ends the log, as does a tail of fewer than 8 bytes of 0xff or 0x00. */
static bool ccel_at_end(const struct vt_cur *c)
{
    size_t left = vti_cur_left(c);
    const uint8_t *p = vti_cur_pos(c);
    if (left >= 8) {
        uint32_t idx = vti_le32_unsafe(p), type = vti_le32_unsafe(p + 4);
        return idx == 0xffffffffu || (idx == 0 && type == 0);
    }
    for (size_t i = 0; i < left; i++)
        if (p[i] != p[0] || (p[0] != 0 && p[0] != 0xff))
            return false;
    return true;
}

static bool at_end(const struct vt_evlog *log, const struct vt_cur *c)
{
    if (log->format == VT_EVLOG_CCEL)
        return ccel_at_end(c);
    return vti_cur_left(c) == 0;
}

/* StartupLocality: an EV_NO_ACTION on PCR0 with data "StartupLocality\0" + locality u8. */
bool vti_evlog_startup_locality(const struct vt_evlog_event *ev, uint8_t *locality)
{
    if (ev->type != VT_EV_NO_ACTION || !has_prefix(ev, LOCALITY_SIG, sizeof(LOCALITY_SIG)))
        return false;
    if (locality)
        *locality = ev->data_len == sizeof(LOCALITY_SIG) + 1 ? ev->data[sizeof(LOCALITY_SIG)]
                                                              : 0xff;
    return true;
}

/* TCG logs: at most one StartupLocality, on PCR0, before any PCR0 measurement, locality 0, 3
 * or 4, and exactly 17 bytes of data. */
static vt_res check_locality(struct vt_evlog *log, const struct vt_evlog_event *ev,
                             bool *pcr0_extended)
{
    uint8_t loc;
    if (log->format != VT_EVLOG_TCG || log->legacy_sha1)
        return vti_ok();
    if (!vti_evlog_startup_locality(ev, &loc)) {
        if (ev->type != VT_EV_NO_ACTION && ev->pcr == 0)
            *pcr0_extended = true;
        return vti_ok();
    }
    ENSURE(ev->pcr == 0 && !log->has_locality && !*pcr0_extended, VT_ERR_EVLOG_LOCALITY);
    ENSURE(loc == 0 || loc == 3 || loc == 4, VT_ERR_EVLOG_LOCALITY);
    log->has_locality = true;
    log->locality = loc;
    return vti_ok();
}

static vt_res walk(struct vt_cur *c, struct vt_evlog *log)
{
    bool pcr0_extended = false;
    struct vt_evlog_event ev = { 0 };
    while (!at_end(log, c)) {
        ENSURE(log->n_events < VT_EVLOG_MAX_EVENTS, VT_ERR_EVLOG_TOO_MANY_EVENTS);
        GUARD(read_event(c, log, &ev));
        GUARD(check_locality(log, &ev, &pcr0_extended));
        log->n_events++;
    }
    log->events_end = c->off;
    return vti_ok();
}

vt_res vti_evlog_parse(const uint8_t *p, size_t len, enum vt_evlog_format fmt, uint32_t opts,
                       struct vt_evlog *out)
{
    memset(out, 0, sizeof(*out));
    ENSURE(fmt == VT_EVLOG_TCG || fmt == VT_EVLOG_CCEL, VT_ERR_EVLOG_FORMAT);
    ENSURE(p && len >= 1 && len <= VT_EVLOG_MAX_LEN, VT_ERR_EVLOG_TOO_LARGE);
    struct vt_evlog log = { .format = fmt, .p = p, .len = len };
    struct vt_cur c = vti_cur_init(p, len);
    GUARD(header(&c, fmt, opts, &log));
    GUARD(walk(&c, &log));
    *out = log;
    return vti_ok();
}

enum vt_evlog_format vti_evlog_guess_format(const uint8_t *p, size_t len)
{
    struct vt_evlog log = { .format = VT_EVLOG_TCG };
    struct vt_cur c = vti_cur_init(p, len);
    if (len > VT_EVLOG_MAX_LEN || !vti_is_ok(header(&c, VT_EVLOG_TCG, 0, &log)))
        return VT_EVLOG_TCG;
    bool ccel = log.n_algs == 1 && log.algs[0].alg == VT_TPM_ALG_SHA384;
    return ccel ? VT_EVLOG_CCEL : VT_EVLOG_TCG;
}

/* ---- iteration over a validated log ---------------------------------------------------- */

void vti_evlog_iter_init(const struct vt_evlog *log, struct vt_evlog_iter *it)
{
    it->log = log;
    it->c = vti_cur_init(log->p, log->events_end);
    it->c.off = log->events_off;
    it->seq = 0;
}

bool vti_evlog_next(struct vt_evlog_iter *it, struct vt_evlog_event *ev)
{
    if (it->seq >= it->log->n_events)
        return false;
    ev->seq = it->seq;
    if (!vti_is_ok(read_event(&it->c, it->log, ev)))
        return false; /* not reached: the log was validated */
    it->seq++;
    return true;
}

const uint8_t *vti_evlog_digest(const struct vt_evlog *log, const struct vt_evlog_event *ev,
                                uint16_t alg, size_t *size)
{
    for (uint32_t i = 0; i < log->n_algs; i++) {
        if (log->algs[i].alg == alg) {
            if (size)
                *size = log->algs[i].size;
            return ev->digest[i];
        }
    }
    return NULL;
}

/* ---- names ----------------------------------------------------------------------------- */

struct type_name {
    uint32_t type;
    const char *name;
};

/* PC Client PFP, table "Event Types" (EV_*) and "UEFI event types" (EV_EFI_*). */
static const struct type_name TYPE_NAMES[] = {
    { 0x00, "EV_PREBOOT_CERT" }, { 0x01, "EV_POST_CODE" }, { 0x02, "EV_UNUSED" },
    { 0x03, "EV_NO_ACTION" }, { 0x04, "EV_SEPARATOR" }, { 0x05, "EV_ACTION" },
    { 0x06, "EV_EVENT_TAG" }, { 0x07, "EV_S_CRTM_CONTENTS" }, { 0x08, "EV_S_CRTM_VERSION" },
    { 0x09, "EV_CPU_MICROCODE" }, { 0x0a, "EV_PLATFORM_CONFIG_FLAGS" },
    { 0x0b, "EV_TABLE_OF_DEVICES" }, { 0x0c, "EV_COMPACT_HASH" }, { 0x0d, "EV_IPL" },
    { 0x0e, "EV_IPL_PARTITION_DATA" }, { 0x0f, "EV_NONHOST_CODE" },
    { 0x10, "EV_NONHOST_CONFIG" }, { 0x11, "EV_NONHOST_INFO" },
    { 0x12, "EV_OMIT_BOOT_DEVICE_EVENTS" }, { 0x13, "EV_POST_CODE2" },
    { 0x80000000, "EV_EFI_EVENT_BASE" }, { 0x80000001, "EV_EFI_VARIABLE_DRIVER_CONFIG" },
    { 0x80000002, "EV_EFI_VARIABLE_BOOT" }, { 0x80000003, "EV_EFI_BOOT_SERVICES_APPLICATION" },
    { 0x80000004, "EV_EFI_BOOT_SERVICES_DRIVER" },
    { 0x80000005, "EV_EFI_RUNTIME_SERVICES_DRIVER" }, { 0x80000006, "EV_EFI_GPT_EVENT" },
    { 0x80000007, "EV_EFI_ACTION" }, { 0x80000008, "EV_EFI_PLATFORM_FIRMWARE_BLOB" },
    { 0x80000009, "EV_EFI_HANDOFF_TABLES" }, { 0x8000000a, "EV_EFI_PLATFORM_FIRMWARE_BLOB2" },
    { 0x8000000b, "EV_EFI_HANDOFF_TABLES2" }, { 0x8000000c, "EV_EFI_VARIABLE_BOOT2" },
    { 0x8000000d, "EV_EFI_GPT_EVENT2" }, { 0x80000010, "EV_EFI_HCRTM_EVENT" },
    { 0x800000e0, "EV_EFI_VARIABLE_AUTHORITY" }, { 0x800000e1, "EV_EFI_SPDM_FIRMWARE_BLOB" },
    { 0x800000e2, "EV_EFI_SPDM_FIRMWARE_CONFIG" },
};

const char *vti_evlog_type_name(uint32_t type)
{
    for (size_t i = 0; i < VT_ARRAY_LEN(TYPE_NAMES); i++)
        if (TYPE_NAMES[i].type == type)
            return TYPE_NAMES[i].name;
    return NULL;
}
