/* SPDX-License-Identifier: Apache-2.0 */
/*
 * eventlog_aael_test.c - the CoCo attestation-agent event log (AAEL) inside CCEL
 * (src/evidence/eventlog_aael.c, its claims in eventlog_claims.c, and the replay against a
 * report in src/verifiers/eventlog_check.c), on synthetic logs written as guest-components'
 * attestation agent writes them: EV_EVENT_TAG on CC MR 4 (RTMR3), SHA-384 of the tagged
 * event, tag "AAEL", text "<domain> <operation> <content>", appended to firmware events of
 * the same register. Every refusal with its exact VT_ERR_EVLOG_AAEL_* code; each cap at its
 * limit and one past it; the replay combines firmware and AAEL events of RTMR3.
 */
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "core/report.h"
#include "evidence/eventlog_aael.h"
#include "evidence/eventlog_data.h"
#include "evidence/tpm.h"
#include "verifiers/eventlog_check.h"
#include "vt_test.h"

#define COCO "github.com/confidential-containers"

/* The CCEL header: a TCG_PCR_EVENT with a Spec ID Event03 listing SHA-384 alone. */
static void header(struct vt_buf *b)
{
    struct vt_buf d = VT_BUF_INIT;
    CHECK_OK(vti_buf_append(&d, "Spec ID Event03", 16));
    CHECK_OK(vti_buf_u32le(&d, 0));
    CHECK_OK(vti_buf_append(&d, "\x00\x02\x00\x02", 4));
    CHECK_OK(vti_buf_u32le(&d, 1));
    CHECK_OK(vti_buf_u16le(&d, VT_TPM_ALG_SHA384));
    CHECK_OK(vti_buf_u16le(&d, 48));
    CHECK_OK(vti_buf_u8(&d, 0));
    CHECK_OK(vti_buf_u32le(b, 0));
    CHECK_OK(vti_buf_u32le(b, VT_EV_NO_ACTION));
    CHECK_OK(vti_buf_zeros(b, 20));
    CHECK_OK(vti_buf_u32le(b, (uint32_t)d.len));
    CHECK_OK(vti_buf_append(b, d.p, d.len));
    vti_buf_free(&d);
}

/* A CCEL event on MR mr with SHA-384(data) as its digest (xor_last flips the digest's last
 * byte: an event whose digest does not bind its data). */
static void event(struct vt_buf *b, uint32_t mr, uint32_t type, const void *data, size_t len,
                  uint8_t xor_last)
{
    uint8_t d[48];
    unsigned int n = 0;
    CHECK(EVP_Digest(data, len, d, &n, EVP_sha384(), NULL) == 1 && n == 48);
    d[47] ^= xor_last;
    CHECK_OK(vti_buf_u32le(b, mr));
    CHECK_OK(vti_buf_u32le(b, type));
    CHECK_OK(vti_buf_u32le(b, 1));
    CHECK_OK(vti_buf_u16le(b, VT_TPM_ALG_SHA384));
    CHECK_OK(vti_buf_append(b, d, 48));
    CHECK_OK(vti_buf_u32le(b, (uint32_t)len));
    CHECK_OK(vti_buf_append(b, data, len));
}

/* TCG_PCClientTaggedEvent {id, size, text}. */
static void tagged(struct vt_buf *t, uint32_t id, const char *text, size_t len)
{
    CHECK_OK(vti_buf_u32le(t, id));
    CHECK_OK(vti_buf_u32le(t, (uint32_t)len));
    CHECK_OK(vti_buf_append(t, text, len));
}

/* An AAEL entry on MR 4 as the attestation agent writes it. */
static void aael(struct vt_buf *b, const char *text, uint8_t xor_last)
{
    struct vt_buf t = VT_BUF_INIT;
    tagged(&t, VT_AAEL_TAG_ID, text, strlen(text));
    event(b, 4, VT_EV_EVENT_TAG, t.p, t.len, xor_last);
    vti_buf_free(&t);
}

/* The entry's views point into the last parsed buffer (kept until the next call). */
static struct vt_buf last = VT_BUF_INIT;

static vt_res parse_text(const char *text, struct vt_aael_entry *e)
{
    vti_buf_free(&last);
    tagged(&last, VT_AAEL_TAG_ID, text, strlen(text));
    return vti_aael_parse(last.p, last.len, e);
}

static bool field_is(const char *p, size_t n, const char *want)
{
    return n == strlen(want) && memcmp(p, want, n) == 0;
}

static void test_parse(void)
{
    struct vt_aael_entry e;
    CHECK_OK(parse_text(COCO " PullImage {\"image\":\"alpine\", \"digest\":\"sha256:00\"}", &e));
    CHECK(field_is(e.domain, e.domain_len, COCO) && field_is(e.operation, e.operation_len,
                                                             "PullImage"));
    CHECK(field_is(e.content, e.content_len, "{\"image\":\"alpine\", \"digest\":\"sha256:00\"}"));
    static const char *const bad[] = {
        "", "domain", "domain op", "domain op ", " domain op c", "domain  op c", "domain op  c",
        "dom\tain op c", "domain op c\n", "domain op c\r", "domain op c\x7f", "domain op\x01 c",
        "domain op caf\xc3\xa9",
    };
    for (size_t i = 0; i < VT_ARRAY_LEN(bad); i++) {
        CHECK_ERR(parse_text(bad[i], &e), VT_ERR_EVLOG_AAEL_ENTRY);
        CHECK(e.domain == NULL && e.content_len == 0);
    }
    /* the tag: another ID, a size short or past the data, fewer than 8 bytes */
    struct vt_buf t = VT_BUF_INIT;
    tagged(&t, 0x12345678u, "d o c", 5);
    CHECK_ERR(vti_aael_parse(t.p, t.len, &e), VT_ERR_EVLOG_AAEL_TAG);
    vti_buf_free(&t);
    tagged(&t, VT_AAEL_TAG_ID, "d o c", 5);
    t.p[4] = 4;
    CHECK_ERR(vti_aael_parse(t.p, t.len, &e), VT_ERR_EVLOG_AAEL_TAG);
    t.p[4] = 6;
    CHECK_ERR(vti_aael_parse(t.p, t.len, &e), VT_ERR_EVLOG_AAEL_TAG);
    t.p[4] = 5;
    CHECK_OK(vti_aael_parse(t.p, t.len, &e));
    for (size_t n = 0; n < 8; n++)
        CHECK_ERR(vti_aael_parse(t.p, n, &e), VT_ERR_EVLOG_AAEL_TAG);
    vti_buf_free(&t);
}

/* Each field at its cap and one past it. */
static void test_caps(void)
{
    static char text[VT_AAEL_MAX_CONTENT + 400];
    struct vt_aael_entry e;
    const size_t caps[3] = { VT_AAEL_MAX_DOMAIN, VT_AAEL_MAX_OPERATION, VT_AAEL_MAX_CONTENT };
    for (int f = 0; f < 3; f++) {
        for (size_t extra = 0; extra < 2; extra++) {
            size_t len[3] = { 1, 1, 1 }, off = 0;
            len[f] = caps[f] + extra;
            for (int k = 0; k < 3; k++) {
                memset(text + off, 'a' + k, len[k]);
                off += len[k];
                text[off++] = k < 2 ? ' ' : '\0';
            }
            CHECK_ERR(parse_text(text, &e), extra ? VT_ERR_EVLOG_AAEL_ENTRY : VT_OK);
        }
    }
}

/* A verified report carrying the replayed RTMRs (rtmr3 with its last byte xored). */
static struct vt_report *report_of(const struct vt_buf *b, uint8_t xor3)
{
    struct vt_evlog log;
    static struct vt_evlog_replay r;
    CHECK_OK(vti_evlog_parse(b->p, b->len, VT_EVLOG_CCEL, 0, &log));
    CHECK_OK(vti_evlog_replay(&log, &r));
    struct vt_report *rep = vti_report_new();
    char k[8];
    for (int i = 0; i < 4; i++) {
        uint8_t v[48];
        memcpy(v, r.bank[0].v[i], 48);
        if (i == 3)
            v[47] ^= xor3;
        snprintf(k, sizeof(k), "rtmr%d", i);
        CHECK_OK(vti_claim_bytes(rep, k, v, 48));
    }
    return rep;
}

static void firmware(struct vt_buf *b)
{
    header(b);
    event(b, 1, VT_EV_SEPARATOR, "\0\0\0\0", 4, 0);
    event(b, 4, VT_EV_SEPARATOR, "\0\0\0\0", 4, 0); /* a firmware event of RTMR3 */
}

static vt_res check(const struct vt_buf *b, uint8_t xor3, struct vt_evlog_check *c)
{
    struct vt_report *rep = report_of(b, xor3);
    vt_res r = vti_evlog_check_report(rep, b->p, b->len, 0, c);
    vt_report_free(rep);
    return r;
}

static void test_claims(void)
{
    struct vt_buf b = VT_BUF_INIT;
    struct vt_evlog_check c;
    firmware(&b);
    aael(&b, COCO " PullImage {\"image\":\"a\"}", 0);
    aael(&b, "example.org Boot phase two", 0);
    aael(&b, COCO " PullImage {\"image\":\"b\"}", 0);
    CHECK_OK(vti_buf_append(&b, "\xff\xff\xff\xff\xff\xff\xff\xff", 8)); /* the end marker */
    CHECK_OK(check(&b, 0, &c));
    CHECK(c.format == VT_EVLOG_CCEL && c.verified == 0xfu);
    const json_t *pull = json_object_get(c.claims, "eventlog.aael." COCO ".PullImage");
    CHECK(json_is_array(pull) && json_array_size(pull) == 2 &&
          !strcmp(json_string_value(json_array_get(pull, 0)), "{\"image\":\"a\"}") &&
          !strcmp(json_string_value(json_array_get(pull, 1)), "{\"image\":\"b\"}"));
    CHECK(!strcmp(json_string_value(json_object_get(c.claims, "eventlog.aael.example.org.Boot")),
                  "phase two"));
    CHECK(json_integer_value(json_object_get(c.claims, "eventlog.aael.count")) == 3);
    CHECK(json_is_true(json_object_get(c.claims, "eventlog.separators_valid")));
    json_decref(c.claims);
    /* RTMR3 of the quote differs: refused naming RTMR3, no claims */
    CHECK_ERR(check(&b, 1, &c), VT_ERR_EVLOG_RTMR_MISMATCH);
    char reg[16];
    CHECK(c.bad == 3 && !strcmp(vti_evlog_check_register(&c, reg), "RTMR3") && !c.claims);
    vti_buf_free(&b);
    /* no AAEL entry: count 0 */
    firmware(&b);
    CHECK_OK(check(&b, 0, &c));
    CHECK(json_integer_value(json_object_get(c.claims, "eventlog.aael.count")) == 0);
    json_decref(c.claims);
    vti_buf_free(&b);
}

/* Measured (the replay matches) but malformed or unbound: the whole log is refused. */
static void test_refusals(void)
{
    struct vt_evlog_check c;
    struct { const char *text; uint8_t x; int err; } cases[] = {
        { "domain op  two-spaces", 0, VT_ERR_EVLOG_AAEL_ENTRY },
        { "domain op content", 1, VT_ERR_EVLOG_AAEL_UNBOUND },
    };
    for (size_t i = 0; i < VT_ARRAY_LEN(cases); i++) {
        struct vt_buf b = VT_BUF_INIT;
        firmware(&b);
        aael(&b, "domain op fine", 0);
        aael(&b, cases[i].text, cases[i].x);
        CHECK_ERR(check(&b, 0, &c), cases[i].err);
        CHECK(c.claims == NULL && c.verified == 0);
        vti_buf_free(&b);
    }
    /* 32 distinct names pass, 33 are refused */
    for (int n = 32; n <= 33; n++) {
        struct vt_buf b = VT_BUF_INIT;
        char text[64];
        firmware(&b);
        for (int i = 0; i < n; i++) {
            snprintf(text, sizeof(text), "d op%d c", i);
            aael(&b, text, 0);
        }
        CHECK_ERR(check(&b, 0, &c), n == 32 ? VT_OK : VT_ERR_EVLOG_AAEL_TOO_MANY);
        json_decref(c.claims);
        vti_buf_free(&b);
    }
}

/* The replay extends RTMR3 with the firmware event then each AAEL event, in log order. */
static void test_replay_order(void)
{
    struct vt_buf b = VT_BUF_INIT, t = VT_BUF_INIT;
    firmware(&b);
    aael(&b, "d op c", 0);
    struct vt_evlog log;
    struct vt_evlog_replay r;
    CHECK_OK(vti_evlog_parse(b.p, b.len, VT_EVLOG_CCEL, 0, &log));
    CHECK_OK(vti_evlog_replay(&log, &r));
    uint8_t m[48] = { 0 }, d[96];
    unsigned int n = 0;
    tagged(&t, VT_AAEL_TAG_ID, "d op c", 6);
    const struct { const void *p; size_t n; } ev[2] = { { "\0\0\0\0", 4 }, { t.p, t.len } };
    for (int i = 0; i < 2; i++) {
        memcpy(d, m, 48);
        CHECK(EVP_Digest(ev[i].p, ev[i].n, d + 48, &n, EVP_sha384(), NULL) == 1);
        CHECK(EVP_Digest(d, 96, m, &n, EVP_sha384(), NULL) == 1);
    }
    CHECK(memcmp(r.bank[0].v[3], m, 48) == 0);
    /* shown by eventlog show */
    struct vt_evlog_iter it;
    struct vt_evlog_event e;
    char desc[128];
    vti_evlog_iter_init(&log, &it);
    while (vti_evlog_next(&it, &e) && e.type != VT_EV_EVENT_TAG) {
    }
    CHECK(vti_aael_is_tagged(&e) && vti_evlog_describe(&e, desc, sizeof(desc)) &&
          !strcmp(desc, "AAEL d op c"));
    vti_buf_free(&b);
    vti_buf_free(&t);
}

int main(void)
{
    test_parse();
    test_caps();
    test_claims();
    test_refusals();
    test_replay_order();
    vti_buf_free(&last);
    return vt_test_done();
}
