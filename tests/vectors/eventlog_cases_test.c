/* SPDX-License-Identifier: Apache-2.0 */
/*
 * eventlog_cases_test.c - every "eventlog" case of shared/testdata/cases.json
 * (VERITEE_TESTDATA, default ../shared/testdata):
 *  - TCG PC Client logs: parsed (format, algorithms, event count, StartupLocality), every bank
 *    replayed to the expected PCRs (exactly the PCRs the log touches), accepted against those
 *    values; a SHA-1-only log only with VT_EVLOG_ALLOW_SHA1; the listed negatives: a flipped
 *    digest byte of the first PCR4 measurement (the event number the case names) is refused
 *    with VT_ERR_EVLOG_PCR_MISMATCH naming PCR4, the file cut by one byte with
 *    VT_ERR_EVLOG_TRUNCATED;
 *  - CCEL logs: parsed up to the padding (log_bytes_used), RTMR0..3 replayed to the expected
 *    values, every event's MR index, type and SHA-384 digest equal to the *_out.json entry
 *    where one exists; negatives: a flipped digest byte of the first MR-index-2 event is
 *    VT_ERR_EVLOG_RTMR_MISMATCH naming RTMR1, a cut inside the last event VT_ERR_EVLOG_TRUNCATED.
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "evidence/eventlog.h"
#include "evidence/tpm.h"
#include "util/codec.h"
#include "vt_test.h"

static const struct {
    const char *name;
    uint16_t alg;
} BANKS[] = { { "sha1", VT_TPM_ALG_SHA1 }, { "sha256", VT_TPM_ALG_SHA256 },
              { "sha384", VT_TPM_ALG_SHA384 } };

static uint16_t bank_alg(const char *name)
{
    for (size_t i = 0; i < VT_ARRAY_LEN(BANKS); i++)
        if (strcmp(BANKS[i].name, name) == 0)
            return BANKS[i].alg;
    return 0;
}

/* Expected PCR values of one bank into pcr[] / *mask. */
static bool expected_bank(json_t *bank, uint8_t (*pcr)[VT_EVLOG_MAX_DIGEST], uint32_t *mask)
{
    const char *k;
    json_t *v;
    *mask = 0;
    memset(pcr, 0, VT_EVLOG_NUM_PCRS * VT_EVLOG_MAX_DIGEST);
    json_object_foreach(bank, k, v) {
        unsigned long i = strtoul(k, NULL, 10);
        const char *hex = json_string_value(v);
        if (i >= VT_EVLOG_NUM_PCRS || !hex ||
            !vti_is_ok(vti_hex_decode_fixed(hex, pcr[i], strlen(hex) / 2)))
            return false;
        *mask |= 1u << i;
    }
    return true;
}

static void check_bank(const char *id, const struct vt_evlog_replay *r, const char *name,
                       json_t *bank)
{
    uint8_t want[VT_EVLOG_NUM_PCRS][VT_EVLOG_MAX_DIGEST];
    uint32_t mask, verified = 0, bad = 99;
    uint16_t alg = bank_alg(name);
    const struct vt_evlog_bank *b = vti_evlog_bank(r, alg);
    CHECK(alg != 0 && b != NULL && expected_bank(bank, want, &mask));
    if (!b)
        return;
    CHECK(b->touched == mask);
    for (uint32_t i = 0; i < VT_EVLOG_NUM_PCRS; i++) {
        if ((mask & (1u << i)) && memcmp(b->v[i], want[i], b->size) != 0) {
            fprintf(stderr, "FAIL %s: %s PCR%u differs\n", id, name, i);
            vt_test_failed++;
        }
    }
    CHECK_OK(vti_evlog_check_pcrs(r, alg, (const uint8_t(*)[VT_EVLOG_MAX_DIGEST])want, mask,
                                  &verified, &bad));
    CHECK(verified == mask);
}

/* "... event #17 after the header" -> 17 */
static long event_number(const char *mutate)
{
    const char *h = mutate ? strstr(mutate, "event #") : NULL;
    return h ? strtol(h + 7, NULL, 10) : -1;
}

/* The first measurement (not EV_NO_ACTION) on register `pcr`; its sequence number. */
static bool first_on(const struct vt_evlog *log, uint32_t pcr, struct vt_evlog_event *ev)
{
    struct vt_evlog_iter it;
    vti_evlog_iter_init(log, &it);
    while (vti_evlog_next(&it, ev))
        if (ev->pcr == pcr && ev->type != VT_EV_NO_ACTION)
            return true;
    return false;
}

/* Negative 1 (TCG): flip the first byte of the bank's digest of the first PCR4 event. */
static void tcg_flip_negative(const char *id, const struct vt_buf *f, uint32_t opts,
                              json_t *c, const char *mutate)
{
    const char *bank = strstr(mutate, "sha256") ? "sha256" : "sha1";
    uint16_t alg = bank_alg(bank);
    struct vt_evlog log;
    struct vt_evlog_event ev;
    CHECK_OK(vti_evlog_parse(f->p, f->len, VT_EVLOG_TCG, opts, &log));
    CHECK(first_on(&log, 4, &ev));
    /* the case counts records from 0 in the file: the Spec ID header is #0 */
    CHECK((long)ev.seq + (log.legacy_sha1 ? 0 : 1) == event_number(mutate));
    const uint8_t *d = vti_evlog_digest(&log, &ev, alg, NULL);
    CHECK(d != NULL);
    if (!d)
        return;
    struct vt_buf m = VT_BUF_INIT;
    CHECK_OK(vti_buf_append(&m, f->p, f->len));
    m.p[d - f->p] ^= 0x01;
    struct vt_evlog_replay r;
    uint8_t want[VT_EVLOG_NUM_PCRS][VT_EVLOG_MAX_DIGEST];
    uint32_t mask = 0, verified = 1, bad = 0;
    CHECK(expected_bank(json_object_get(json_object_get(json_object_get(c, "expect"),
                                                        "replayed_pcrs"), bank), want, &mask));
    CHECK_OK(vti_evlog_parse(m.p, m.len, VT_EVLOG_TCG, opts, &log));
    CHECK_OK(vti_evlog_replay(&log, &r));
    CHECK_ERR(vti_evlog_check_pcrs(&r, alg, (const uint8_t(*)[VT_EVLOG_MAX_DIGEST])want, mask,
                                   &verified, &bad), VT_ERR_EVLOG_PCR_MISMATCH);
    CHECK(bad == 4 && verified == 0);
    if (bad != 4)
        fprintf(stderr, "  (%s: mismatch named PCR%u)\n", id, bad);
    vti_buf_free(&m);
}

static void tcg_negatives(const char *id, const struct vt_buf *f, uint32_t opts, json_t *c)
{
    size_t i;
    json_t *n;
    int seen = 0;
    json_array_foreach(json_object_get(c, "negatives"), i, n) {
        const char *mutate = json_string_value(json_object_get(n, "mutate"));
        struct vt_evlog log;
        if (mutate && strstr(mutate, "xor 0x01")) {
            tcg_flip_negative(id, f, opts, c, mutate);
            seen |= 1;
        } else if (mutate && strstr(mutate, "truncate the file by 1 byte")) {
            CHECK_ERR(vti_evlog_parse(f->p, f->len - 1, VT_EVLOG_TCG, opts, &log),
                      VT_ERR_EVLOG_TRUNCATED);
            seen |= 2;
        } else {
            fprintf(stderr, "FAIL %s: unknown negative %s\n", id, mutate ? mutate : "?");
            vt_test_failed++;
        }
    }
    CHECK(seen == 3);
}

static void tcg_header_fields(const struct vt_evlog *log, json_t *c)
{
    json_t *algs = json_object_get(c, "algorithms"), *loc = json_object_get(c, "startup_locality");
    CHECK(log->n_events == json_integer_value(json_object_get(c, "events_after_header")));
    CHECK(log->n_algs == json_object_size(algs));
    for (uint32_t i = 0; i < log->n_algs; i++) {
        const char *name = vti_tpm_hash_name(log->algs[i].alg);
        CHECK(json_integer_value(json_object_get(algs, name)) == log->algs[i].size);
    }
    CHECK(json_is_null(loc) ? !log->has_locality
                            : log->has_locality && log->locality == json_integer_value(loc));
    CHECK(log->format == VT_EVLOG_TCG);
}

static void tcg_case(const char *id, json_t *c)
{
    const char *file = json_string_value(json_object_get(json_object_get(c, "files"), "event_log"));
    bool sha1 = strcmp(json_string_value(json_object_get(c, "format")), "sha1") == 0;
    uint32_t opts = sha1 ? VT_EVLOG_ALLOW_SHA1 : 0;
    struct vt_buf f = vt_testdata_read(file);
    struct vt_evlog log;
    struct vt_evlog_replay r;
    CHECK(f.len == (size_t)json_integer_value(json_object_get(c, "size")));
    CHECK_ERR(vti_evlog_parse(f.p, f.len, VT_EVLOG_TCG, 0, &log),
              sha1 ? VT_ERR_EVLOG_SHA1_LOG : VT_OK);
    CHECK_OK(vti_evlog_parse(f.p, f.len, VT_EVLOG_TCG, opts, &log));
    CHECK(log.legacy_sha1 == sha1);
    CHECK(vti_evlog_guess_format(f.p, f.len) == VT_EVLOG_TCG);
    tcg_header_fields(&log, c);
    CHECK_OK(vti_evlog_replay(&log, &r));
    const char *k;
    json_t *bank;
    json_t *banks = json_object_get(json_object_get(c, "expect"), "replayed_pcrs");
    CHECK(json_object_size(banks) == r.n_banks);
    json_object_foreach(banks, k, bank)
        check_bank(id, &r, k, bank);
    tcg_negatives(id, &f, opts, c);
    vti_buf_free(&f);
}

/* ---- CCEL -------------------------------------------------------------------------------- */

static bool expected_rtmrs(json_t *c, uint8_t rtmr[4][48])
{
    json_t *e = json_object_get(json_object_get(c, "expect"), "replayed_rtmr");
    for (int i = 0; i < 4; i++) {
        char key[8];
        snprintf(key, sizeof(key), "rtmr%d", i);
        const char *hex = json_string_value(json_object_get(e, key));
        if (!hex || !vti_is_ok(vti_hex_decode_fixed(hex, rtmr[i], 48)))
            return false;
    }
    return true;
}

/* Every event equals the trustee_parsed_out entry: MR index, type name, SHA-384 digest. */
static void ccel_out_json(const char *id, const struct vt_evlog *log, const char *rel)
{
    json_error_t jerr;
    json_t *o = json_load_file(vt_testdata(rel), 0, &jerr);
    json_t *evs = json_object_get(o, "uefi_event_logs");
    CHECK(json_array_size(evs) == log->n_events);
    struct vt_evlog_iter it;
    struct vt_evlog_event ev;
    int bad = 0;
    vti_evlog_iter_init(log, &it);
    while (vti_evlog_next(&it, &ev)) {
        json_t *e = json_array_get(evs, ev.seq);
        const char *tn = json_string_value(json_object_get(e, "type_name"));
        json_t *d0 = json_array_get(json_object_get(e, "digests"), 0);
        const char *hex = json_string_value(json_object_get(d0, "digest"));
        char mine[2 * 48 + 1];
        vti_hex_encode(vti_evlog_digest(log, &ev, VT_TPM_ALG_SHA384, NULL), 48, mine);
        const char *name = vti_evlog_type_name(ev.type);
        if (json_integer_value(json_object_get(e, "index")) != ev.pcr || !tn || !name ||
            strcmp(tn, name) != 0 || !hex || strcmp(hex, mine) != 0) {
            fprintf(stderr, "FAIL %s: event %u differs from %s\n", id, ev.seq, rel);
            bad++;
        }
    }
    CHECK(bad == 0);
    json_decref(o);
}

static void ccel_negatives(const struct vt_buf *f, const struct vt_evlog *log,
                           uint8_t rtmr[4][48])
{
    struct vt_evlog_event ev;
    struct vt_evlog m_log;
    struct vt_evlog_replay r;
    uint32_t verified = 1, bad = 0;
    CHECK(first_on(log, 2, &ev));
    struct vt_buf m = VT_BUF_INIT;
    CHECK_OK(vti_buf_append(&m, f->p, f->len));
    m.p[vti_evlog_digest(log, &ev, VT_TPM_ALG_SHA384, NULL) - f->p] ^= 0x01;
    CHECK_OK(vti_evlog_parse(m.p, m.len, VT_EVLOG_CCEL, 0, &m_log));
    CHECK_OK(vti_evlog_replay(&m_log, &r));
    CHECK_ERR(vti_evlog_check_rtmrs(&r, (const uint8_t(*)[48])rtmr, &verified, &bad),
              VT_ERR_EVLOG_RTMR_MISMATCH);
    CHECK(bad == 1 && verified == 0);
    /* cut inside the last event: the padding goes with it */
    CHECK_ERR(vti_evlog_parse(f->p, log->events_end - 1, VT_EVLOG_CCEL, 0, &m_log),
              VT_ERR_EVLOG_TRUNCATED);
    vti_buf_free(&m);
}

static void ccel_case(const char *id, json_t *c)
{
    json_t *files = json_object_get(c, "files");
    struct vt_buf f = vt_testdata_read(json_string_value(json_object_get(files, "ccel")));
    struct vt_evlog log;
    struct vt_evlog_replay r;
    uint8_t rtmr[4][48];
    uint32_t verified = 0, bad = 9;
    CHECK(vti_evlog_guess_format(f.p, f.len) == VT_EVLOG_CCEL);
    CHECK_OK(vti_evlog_parse(f.p, f.len, VT_EVLOG_CCEL, 0, &log));
    CHECK(log.n_events == json_integer_value(json_object_get(c, "events_after_header")));
    CHECK(log.events_end == (size_t)json_integer_value(json_object_get(c, "log_bytes_used")));
    CHECK_OK(vti_evlog_replay(&log, &r));
    CHECK(expected_rtmrs(c, rtmr));
    const struct vt_evlog_bank *b = vti_evlog_bank(&r, VT_TPM_ALG_SHA384);
    CHECK(b != NULL && r.n_banks == 1);
    for (int i = 0; b && i < 4; i++) {
        if (memcmp(b->v[i], rtmr[i], 48) != 0) {
            fprintf(stderr, "FAIL %s: RTMR%d differs\n", id, i);
            vt_test_failed++;
        }
    }
    CHECK_OK(vti_evlog_check_rtmrs(&r, (const uint8_t(*)[48])rtmr, &verified, &bad));
    CHECK(b && verified == 0xfu && b->touched != 0); /* all four RTMRs compared */
    const char *out = json_string_value(json_object_get(files, "trustee_parsed_out"));
    if (out)
        ccel_out_json(id, &log, out);
    ccel_negatives(&f, &log, rtmr);
    vti_buf_free(&f);
}

int main(void)
{
    json_t *root = vt_test_cases();
    size_t i, n_tcg = 0, n_ccel = 0;
    json_t *c;
    json_array_foreach(json_object_get(root, "eventlog"), i, c) {
        const char *id = json_string_value(json_object_get(c, "id"));
        const char *kind = json_string_value(json_object_get(c, "kind"));
        int before = vt_test_failed;
        if (kind && strcmp(kind, "tcg-pc-client-eventlog") == 0) {
            tcg_case(id, c);
            n_tcg++;
        } else if (kind && strcmp(kind, "tdx-ccel-eventlog") == 0) {
            ccel_case(id, c);
            n_ccel++;
        } else {
            fprintf(stderr, "FAIL unknown eventlog case kind %s\n", kind ? kind : "?");
            vt_test_failed++;
        }
        printf("%s %s\n", vt_test_failed == before ? "ok  " : "FAIL", id);
    }
    CHECK(n_tcg == 6 && n_ccel == 5);
    json_decref(root);
    return vt_test_done();
}
