/* SPDX-License-Identifier: Apache-2.0 */
/*
 * eventlog_test.c - the event log parser and replay (src/evidence/eventlog*.c) on synthetic
 * logs: the replay arithmetic (initial values, StartupLocality, EV_NO_ACTION, CCEL MR index
 * mapping, digests listed out of order), every refusal with its exact VT_ERR_EVLOG_* code, and
 * every cap at its limit and one past it (event count, event size, algorithm count, log size).
 */
#include <openssl/evp.h>
#include <string.h>

#include "evidence/eventlog.h"
#include "evidence/tpm.h"
#include "vt_test.h"

#define SHA1 VT_TPM_ALG_SHA1
#define SHA256 VT_TPM_ALG_SHA256
#define SHA384 VT_TPM_ALG_SHA384

struct alg {
    uint16_t id, size;
};
static const struct alg A_SHA1 = { SHA1, 20 }, A_SHA256 = { SHA256, 32 }, A_SHA384 = { SHA384, 48 };

/* TCG_PCR_EVENT header with a Spec ID Event03 listing algs (sizes as given). */
static void header(struct vt_buf *b, const struct alg *algs, uint32_t n)
{
    struct vt_buf d = VT_BUF_INIT;
    CHECK_OK(vti_buf_append(&d, "Spec ID Event03", 16));
    CHECK_OK(vti_buf_u32le(&d, 0));
    CHECK_OK(vti_buf_append(&d, "\x00\x02\x00\x02", 4));
    CHECK_OK(vti_buf_u32le(&d, n));
    for (uint32_t i = 0; i < n; i++) {
        CHECK_OK(vti_buf_u16le(&d, algs[i].id));
        CHECK_OK(vti_buf_u16le(&d, algs[i].size));
    }
    CHECK_OK(vti_buf_u8(&d, 0));
    CHECK_OK(vti_buf_u32le(b, 0));
    CHECK_OK(vti_buf_u32le(b, VT_EV_NO_ACTION));
    CHECK_OK(vti_buf_zeros(b, 20));
    CHECK_OK(vti_buf_u32le(b, (uint32_t)d.len));
    CHECK_OK(vti_buf_append(b, d.p, d.len));
    vti_buf_free(&d);
}

/* TCG_PCR_EVENT2 with one digest per alg (every byte = fill), then data. */
static void event2(struct vt_buf *b, uint32_t pcr, uint32_t type, const struct alg *algs,
                   uint32_t n, uint8_t fill, const void *data, uint32_t len)
{
    CHECK_OK(vti_buf_u32le(b, pcr));
    CHECK_OK(vti_buf_u32le(b, type));
    CHECK_OK(vti_buf_u32le(b, n));
    for (uint32_t i = 0; i < n; i++) {
        CHECK_OK(vti_buf_u16le(b, algs[i].id));
        uint8_t d[64];
        memset(d, fill, sizeof(d));
        CHECK_OK(vti_buf_append(b, d, algs[i].size));
    }
    CHECK_OK(vti_buf_u32le(b, len));
    CHECK_OK(vti_buf_append(b, data, len));
}

static void locality(struct vt_buf *b, const struct alg *algs, uint32_t n, uint32_t pcr,
                     uint8_t loc)
{
    uint8_t d[17];
    memcpy(d, "StartupLocality", 16);
    d[16] = loc;
    event2(b, pcr, VT_EV_NO_ACTION, algs, n, 0, d, sizeof(d));
}

/* H(init || fill^size) with init = 0..0 and its last byte = last. */
static void extend_once(const EVP_MD *md, size_t size, uint8_t last, uint8_t fill, uint8_t *out)
{
    uint8_t buf[128] = { 0 };
    buf[size - 1] = last;
    memset(buf + size, fill, size);
    unsigned int n;
    CHECK(EVP_Digest(buf, 2 * size, out, &n, md, NULL) == 1 && n == size);
}

static vt_res parse(const struct vt_buf *b, enum vt_evlog_format f, struct vt_evlog *log)
{
    return vti_evlog_parse(b->p, b->len, f, 0, log);
}

static void test_replay_basic(void)
{
    struct vt_buf b = VT_BUF_INIT;
    struct alg two[2] = { A_SHA1, A_SHA256 }, rev[2] = { A_SHA256, A_SHA1 };
    header(&b, two, 2);
    event2(&b, 0, 8, rev, 2, 0xaa, "crtm", 4); /* digests out of header order */
    event2(&b, 5, VT_EV_NO_ACTION, two, 2, 0xbb, NULL, 0);
    event2(&b, 23, VT_EV_SEPARATOR, two, 2, 0xcc, "\0\0\0\0", 4);
    struct vt_evlog log;
    struct vt_evlog_replay r;
    CHECK_OK(parse(&b, VT_EVLOG_TCG, &log));
    CHECK(log.n_events == 3 && log.n_algs == 2 && !log.legacy_sha1 && !log.has_locality);
    CHECK_OK(vti_evlog_replay(&log, &r));
    CHECK(r.n_banks == 2);
    const struct vt_evlog_bank *s1 = vti_evlog_bank(&r, SHA1), *s2 = vti_evlog_bank(&r, SHA256);
    CHECK(s1 && s2 && s1->touched == (1u | 1u << 23) && s2->touched == s1->touched);
    uint8_t want[64];
    extend_once(EVP_sha256(), 32, 0, 0xaa, want);
    CHECK(s2 && memcmp(s2->v[0], want, 32) == 0);
    extend_once(EVP_sha1(), 20, 0, 0xcc, want);
    CHECK(s1 && memcmp(s1->v[23], want, 20) == 0);
    /* EV_NO_ACTION on PCR5 extended nothing */
    uint8_t zero[64] = { 0 };
    CHECK(s1 && memcmp(s1->v[5], zero, 20) == 0);
    CHECK(vti_evlog_guess_format(b.p, b.len) == VT_EVLOG_TCG);
    vti_buf_free(&b);
}

static void test_locality(void)
{
    struct vt_evlog log;
    struct vt_evlog_replay r;
    uint8_t want[64];
    const uint8_t good[] = { 0, 3, 4 };
    for (size_t i = 0; i < sizeof(good); i++) {
        struct vt_buf b = VT_BUF_INIT;
        header(&b, &A_SHA256, 1);
        locality(&b, &A_SHA256, 1, 0, good[i]);
        event2(&b, 0, 8, &A_SHA256, 1, 0x11, NULL, 0);
        CHECK_OK(parse(&b, VT_EVLOG_TCG, &log));
        CHECK(log.has_locality && log.locality == good[i]);
        CHECK_OK(vti_evlog_replay(&log, &r));
        extend_once(EVP_sha256(), 32, good[i], 0x11, want);
        CHECK(memcmp(r.bank[0].v[0], want, 32) == 0);
        vti_buf_free(&b);
    }
    /* refusals: locality 1, 2; on PCR1; after a PCR0 measurement; twice; 18 bytes of data */
    for (int k = 0; k < 6; k++) {
        struct vt_buf b = VT_BUF_INIT;
        header(&b, &A_SHA256, 1);
        if (k == 3)
            event2(&b, 0, 8, &A_SHA256, 1, 0x11, NULL, 0);
        if (k == 5) {
            uint8_t d[18] = "StartupLocality";
            event2(&b, 0, VT_EV_NO_ACTION, &A_SHA256, 1, 0, d, sizeof(d));
        } else {
            locality(&b, &A_SHA256, 1, k == 2 ? 1 : 0, k == 0 ? 1 : k == 1 ? 2 : 3);
        }
        if (k == 4)
            locality(&b, &A_SHA256, 1, 0, 3);
        CHECK_ERR(parse(&b, VT_EVLOG_TCG, &log), VT_ERR_EVLOG_LOCALITY);
        vti_buf_free(&b);
    }
}

/* Every cut of a valid log is refused as truncated (or, for a cut inside the Spec ID data,
 * as a bad header), never accepted. */
static void test_truncation(void)
{
    struct vt_buf b = VT_BUF_INIT;
    struct vt_evlog log;
    header(&b, &A_SHA384, 1);
    size_t hdr = b.len;
    event2(&b, 1, 0x80000001u, &A_SHA384, 1, 0x22, "abcdef", 6);
    int bad = 0;
    for (size_t n = 1; n < b.len; n++) {
        int e = parse(&(struct vt_buf){ .p = b.p, .len = n }, VT_EVLOG_TCG, &log).err;
        if (n == hdr ? e != VT_OK : e != VT_ERR_EVLOG_TRUNCATED)
            bad++;
    }
    CHECK(bad == 0);
    CHECK_ERR(vti_evlog_parse(b.p, 0, VT_EVLOG_TCG, 0, &log), VT_ERR_EVLOG_TOO_LARGE);
    CHECK_ERR(vti_evlog_parse(NULL, 10, VT_EVLOG_TCG, 0, &log), VT_ERR_EVLOG_TOO_LARGE);
    /* the length is checked before any byte is read */
    CHECK_ERR(vti_evlog_parse(b.p, VT_EVLOG_MAX_LEN + 1, VT_EVLOG_TCG, 0, &log),
              VT_ERR_EVLOG_TOO_LARGE);
    CHECK_ERR(vti_evlog_parse(b.p, b.len, (enum vt_evlog_format)3, 0, &log), VT_ERR_EVLOG_FORMAT);
    vti_buf_free(&b);
}

static int spec_id_case(const struct alg *algs, uint32_t n)
{
    struct vt_buf b = VT_BUF_INIT;
    struct vt_evlog log;
    header(&b, algs, n);
    int e = parse(&b, VT_EVLOG_TCG, &log).err;
    vti_buf_free(&b);
    return e;
}

static void test_spec_id(void)
{
    struct alg eight[9] = { A_SHA1, A_SHA256, A_SHA384, { SHA1 + 0x100, 8 }, { 0x12, 32 },
                            { 0x0d, 64 }, { 0x27, 32 }, { 0x28, 48 }, { 0x29, 64 } };
    CHECK_ERR(spec_id_case(eight, 0), VT_ERR_EVLOG_ALG_COUNT);
    CHECK_ERR(spec_id_case(eight, 8), VT_OK);
    CHECK_ERR(spec_id_case(eight, 9), VT_ERR_EVLOG_ALG_COUNT);
    struct alg bad[][2] = { { A_SHA1, { SHA256, 20 } }, { A_SHA1, { 0x12, 0 } },
                            { A_SHA1, { 0x12, 65 } }, { A_SHA1, A_SHA1 } };
    for (size_t i = 0; i < VT_ARRAY_LEN(bad); i++)
        CHECK_ERR(spec_id_case(bad[i], 2), VT_ERR_EVLOG_ALG_SIZE);
    /* Spec ID data one byte short / one byte too long */
    struct vt_buf b = VT_BUF_INIT;
    struct vt_evlog log;
    header(&b, &A_SHA256, 1);
    b.p[28] -= 1; /* eventSize (the vendorInfoSize byte left outside: a stray byte) */
    b.len -= 1;
    CHECK_ERR(parse(&b, VT_EVLOG_TCG, &log), VT_ERR_EVLOG_SPEC_ID);
    b.p[28] += 2; /* one byte more than the Spec ID structure */
    b.len += 1;
    CHECK_OK(vti_buf_u8(&b, 0));
    CHECK_ERR(parse(&b, VT_EVLOG_TCG, &log), VT_ERR_EVLOG_SPEC_ID);
    vti_buf_free(&b);
    /* an unknown algorithm is carried but not replayed */
    struct alg unk[2] = { A_SHA256, { 0x12, 32 } };
    struct vt_evlog_replay r;
    header(&b, unk, 2);
    event2(&b, 7, 1, unk, 2, 0x33, NULL, 0);
    CHECK_OK(parse(&b, VT_EVLOG_TCG, &log));
    CHECK_OK(vti_evlog_replay(&log, &r));
    CHECK(r.n_banks == 1 && r.bank[0].alg == SHA256 && r.bank[0].touched == 1u << 7);
    vti_buf_free(&b);
}

static void test_legacy(void)
{
    struct vt_buf b = VT_BUF_INIT;
    struct vt_evlog log;
    struct vt_evlog_replay r;
    for (int i = 0; i < 2; i++) {
        CHECK_OK(vti_buf_u32le(&b, (uint32_t)i));
        CHECK_OK(vti_buf_u32le(&b, 8));
        uint8_t d[20];
        memset(d, 0x44, sizeof(d));
        CHECK_OK(vti_buf_append(&b, d, 20));
        CHECK_OK(vti_buf_u32le(&b, 2));
        CHECK_OK(vti_buf_append(&b, "ab", 2));
    }
    CHECK_ERR(parse(&b, VT_EVLOG_TCG, &log), VT_ERR_EVLOG_SHA1_LOG);
    CHECK_ERR(parse(&b, VT_EVLOG_CCEL, &log), VT_ERR_EVLOG_SPEC_ID);
    CHECK_OK(vti_evlog_parse(b.p, b.len, VT_EVLOG_TCG, VT_EVLOG_ALLOW_SHA1, &log));
    CHECK(log.legacy_sha1 && log.n_events == 2 && log.n_algs == 1);
    CHECK_OK(vti_evlog_replay(&log, &r));
    uint8_t want[20];
    extend_once(EVP_sha1(), 20, 0, 0x44, want);
    CHECK(r.n_banks == 1 && r.bank[0].touched == 3 && memcmp(r.bank[0].v[1], want, 20) == 0);
    CHECK_ERR(vti_evlog_parse(b.p, b.len - 1, VT_EVLOG_TCG, VT_EVLOG_ALLOW_SHA1, &log),
              VT_ERR_EVLOG_TRUNCATED);
    vti_buf_free(&b);
}

static int one_event(enum vt_evlog_format f, const struct alg *hdr_algs, uint32_t nh,
                     uint32_t pcr, const struct alg *ev_algs, uint32_t ne)
{
    struct vt_buf b = VT_BUF_INIT;
    struct vt_evlog log;
    header(&b, hdr_algs, nh);
    event2(&b, pcr, 1, ev_algs, ne, 0x55, NULL, 0);
    int e = parse(&b, f, &log).err;
    vti_buf_free(&b);
    return e;
}

static void test_event_fields(void)
{
    struct alg two[2] = { A_SHA1, A_SHA256 }, dup[2] = { A_SHA256, A_SHA256 };
    CHECK_ERR(one_event(VT_EVLOG_TCG, two, 2, 0, two, 1), VT_ERR_EVLOG_DIGEST_COUNT);
    CHECK_ERR(one_event(VT_EVLOG_TCG, &A_SHA256, 1, 0, two, 2), VT_ERR_EVLOG_DIGEST_COUNT);
    CHECK_ERR(one_event(VT_EVLOG_TCG, &A_SHA256, 1, 0, &A_SHA1, 1), VT_ERR_EVLOG_DIGEST_ALG);
    CHECK_ERR(one_event(VT_EVLOG_TCG, two, 2, 0, dup, 2), VT_ERR_EVLOG_DIGEST_ALG);
    CHECK_ERR(one_event(VT_EVLOG_TCG, two, 2, 23, two, 2), VT_OK);
    CHECK_ERR(one_event(VT_EVLOG_TCG, two, 2, 24, two, 2), VT_ERR_EVLOG_PCR_INDEX);
    CHECK_ERR(one_event(VT_EVLOG_TCG, two, 2, 0xffffffffu, two, 2), VT_ERR_EVLOG_PCR_INDEX);
    CHECK_ERR(one_event(VT_EVLOG_CCEL, &A_SHA384, 1, 4, &A_SHA384, 1), VT_OK);
    CHECK_ERR(one_event(VT_EVLOG_CCEL, &A_SHA384, 1, 5, &A_SHA384, 1), VT_ERR_EVLOG_MR_INDEX);
    CHECK_ERR(one_event(VT_EVLOG_CCEL, &A_SHA256, 1, 1, &A_SHA256, 1), VT_ERR_EVLOG_CCEL_ALG);
}

static void test_event_size_cap(void)
{
    struct vt_evlog log;
    uint8_t *big = calloc(1, VT_EVLOG_MAX_EVENT_SIZE);
    CHECK(big != NULL);
    if (!big)
        return;
    for (uint32_t extra = 0; extra < 2; extra++) {
        struct vt_buf b = { .max = 4u << 20 };
        header(&b, &A_SHA256, 1);
        event2(&b, 1, 1, &A_SHA256, 1, 0, big, VT_EVLOG_MAX_EVENT_SIZE);
        if (extra) { /* eventSize one past the cap, the data to match */
            b.p[b.len - VT_EVLOG_MAX_EVENT_SIZE - 4] = 1;
            CHECK_OK(vti_buf_u8(&b, 0));
        }
        CHECK_ERR(parse(&b, VT_EVLOG_TCG, &log), extra ? VT_ERR_EVLOG_EVENT_SIZE : VT_OK);
        vti_buf_free(&b);
    }
    free(big);
}

static void test_event_count_cap(void)
{
    struct vt_buf b = { .max = 4u << 20 };
    struct vt_evlog log;
    header(&b, &A_SHA1, 1);
    for (uint32_t i = 0; i < VT_EVLOG_MAX_EVENTS; i++)
        event2(&b, i % 24, 1, &A_SHA1, 1, (uint8_t)i, NULL, 0);
    CHECK_OK(parse(&b, VT_EVLOG_TCG, &log));
    CHECK(log.n_events == VT_EVLOG_MAX_EVENTS);
    event2(&b, 0, 1, &A_SHA1, 1, 0, NULL, 0);
    CHECK_ERR(parse(&b, VT_EVLOG_TCG, &log), VT_ERR_EVLOG_TOO_MANY_EVENTS);
    vti_buf_free(&b);
}

static void test_ccel(void)
{
    struct vt_buf b = VT_BUF_INIT;
    struct vt_evlog log;
    struct vt_evlog_replay r;
    header(&b, &A_SHA384, 1);
    event2(&b, 0, 1, &A_SHA384, 1, 0x66, NULL, 0); /* MRTD: not replayed */
    event2(&b, 1, 1, &A_SHA384, 1, 0x77, NULL, 0);
    event2(&b, 4, 1, &A_SHA384, 1, 0x88, NULL, 0);
    size_t end = b.len;
    CHECK(vti_evlog_guess_format(b.p, b.len) == VT_EVLOG_CCEL);
    CHECK_OK(parse(&b, VT_EVLOG_CCEL, &log));
    CHECK(log.n_events == 3 && log.events_end == end);
    CHECK_OK(vti_evlog_replay(&log, &r));
    uint8_t want[4][48] = { { 0 } };
    extend_once(EVP_sha384(), 48, 0, 0x77, want[0]);
    extend_once(EVP_sha384(), 48, 0, 0x88, want[3]);
    CHECK(r.n_banks == 1 && r.bank[0].touched == 0x9);
    uint32_t verified = 0, bad = 9;
    CHECK_OK(vti_evlog_check_rtmrs(&r, (const uint8_t(*)[48])want, &verified, &bad));
    CHECK(verified == 0xf); /* all four compared, untouched RTMR1/2 as zeros */
    want[3][47] ^= 1;
    CHECK_ERR(vti_evlog_check_rtmrs(&r, (const uint8_t(*)[48])want, &verified, &bad),
              VT_ERR_EVLOG_RTMR_MISMATCH);
    CHECK(bad == 3 && verified == 0);
    want[3][47] ^= 1;
    want[2][0] = 1; /* an RTMR the log does not touch, not zero in the quote */
    CHECK_ERR(vti_evlog_check_rtmrs(&r, (const uint8_t(*)[48])want, &verified, &bad),
              VT_ERR_EVLOG_RTMR_MISMATCH);
    CHECK(bad == 2 && verified == 0);
    /* padding: 0xff, zeros, a 3-byte 0xff tail; a mixed 3-byte tail is truncated */
    CHECK_OK(vti_buf_append(&b, "\xff\xff\xff", 3));
    CHECK_OK(parse(&b, VT_EVLOG_CCEL, &log));
    CHECK(log.events_end == end);
    b.p[end + 1] = 0;
    CHECK_ERR(parse(&b, VT_EVLOG_CCEL, &log), VT_ERR_EVLOG_TRUNCATED);
    b.len = end;
    CHECK_OK(vti_buf_zeros(&b, 64));
    CHECK_OK(parse(&b, VT_EVLOG_CCEL, &log));
    CHECK(log.n_events == 3 && log.events_end == end);
    /* the same bytes as a TCG log: zero records are events of type 0 on PCR0, then truncated */
    CHECK_ERR(parse(&b, VT_EVLOG_TCG, &log), VT_ERR_EVLOG_DIGEST_COUNT);
    CHECK_ERR(vti_evlog_check_pcrs(&r, SHA384, NULL, 0, &verified, &bad),
              VT_ERR_EVLOG_BANK_MISSING);
    vti_buf_free(&b);
}

static void test_check_pcrs(void)
{
    struct vt_buf b = VT_BUF_INIT;
    struct vt_evlog log;
    struct vt_evlog_replay r;
    header(&b, &A_SHA256, 1);
    event2(&b, 2, 1, &A_SHA256, 1, 0x01, NULL, 0);
    event2(&b, 9, 1, &A_SHA256, 1, 0x02, NULL, 0);
    CHECK_OK(parse(&b, VT_EVLOG_TCG, &log));
    CHECK_OK(vti_evlog_replay(&log, &r));
    uint8_t q[VT_EVLOG_NUM_PCRS][VT_EVLOG_MAX_DIGEST] = { { 0 } };
    extend_once(EVP_sha256(), 32, 0, 0x01, q[2]);
    extend_once(EVP_sha256(), 32, 0, 0x02, q[9]);
    uint32_t verified = 0, bad = 0;
    const uint8_t(*qc)[VT_EVLOG_MAX_DIGEST] = (const uint8_t(*)[VT_EVLOG_MAX_DIGEST])q;
    CHECK_OK(vti_evlog_check_pcrs(&r, SHA256, qc, 0xffffff, &verified, &bad));
    CHECK(verified == (1u << 2 | 1u << 9));
    /* PCR9 not quoted: not verified, not refused */
    CHECK_OK(vti_evlog_check_pcrs(&r, SHA256, qc, 0xff, &verified, &bad));
    CHECK(verified == 1u << 2);
    q[9][0] ^= 1;
    CHECK_ERR(vti_evlog_check_pcrs(&r, SHA256, qc, 0xffffff, &verified, &bad),
              VT_ERR_EVLOG_PCR_MISMATCH);
    CHECK(bad == 9 && verified == 0);
    CHECK_ERR(vti_evlog_check_pcrs(&r, SHA1, qc, 0xffffff, &verified, &bad),
              VT_ERR_EVLOG_BANK_MISSING);
    CHECK_ERR(vti_evlog_check_rtmrs(&r, NULL, &verified, &bad), VT_ERR_EVLOG_BANK_MISSING);
    vti_buf_free(&b);
}

static void test_names(void)
{
    CHECK(strcmp(vti_evlog_type_name(VT_EV_SEPARATOR), "EV_SEPARATOR") == 0);
    CHECK(strcmp(vti_evlog_type_name(0x800000e0u), "EV_EFI_VARIABLE_AUTHORITY") == 0);
    CHECK(vti_evlog_type_name(0x7fffffffu) == NULL);
}

int main(void)
{
    test_replay_basic();
    test_locality();
    test_truncation();
    test_spec_id();
    test_legacy();
    test_event_fields();
    test_event_size_cap();
    test_event_count_cap();
    test_ccel();
    test_check_pcrs();
    test_names();
    return vt_test_done();
}
