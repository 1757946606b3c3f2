/* SPDX-License-Identifier: Apache-2.0 */
/*
 * eventlog_claims_test.c - replay against real quoted PCRs and claims from the events
 * (VERITEE_TESTDATA, default ../shared/testdata):
 *  - the "tpm" GCE case (go-tpm-tools, nonce 0x9009): its event log replays to the PCR values
 *    the quotes carry, in every bank, for exactly the PCRs the case lists
 *    (event_log_replay_matches_pcrs, 0..9); a changed quoted PCR is refused naming it; a
 *    changed event digest is refused;
 *  - claims after that match: Secure Boot state, PK/KEK/db/dbx digests, boot applications,
 *    separators, GRUB commands and kernel command line, GCE NonHostInfo; none from registers
 *    that did not match (an empty mask gives no claim);
 *  - a CCEL log (grub, with the case's RTMRs as the quote's): the same claims from MR indices.
 */
#include <jansson.h>
#include <string.h>

#include "evidence/eventlog.h"
#include "evidence/eventlog_claims.h"
#include "evidence/tpm.h"
#include "util/codec.h"
#include "vt_test.h"

#define GCE_LOG "tpm/gotpm_gce_cos85_nonce9009_eventlog.bin"

static json_t *gce_case(json_t *root)
{
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(root, "tpm"), i, c) {
        const char *id = json_string_value(json_object_get(c, "id"));
        if (id && strcmp(id, "gotpm_gce_cos85_nonce9009") == 0)
            return c;
    }
    return NULL;
}

/* The quoted PCR values of one bank ({"hash": .., "pcrs": {"0": hex, ...}}). */
static uint32_t quoted(const char *rel, uint8_t pcr[VT_EVLOG_NUM_PCRS][VT_EVLOG_MAX_DIGEST])
{
    json_error_t e;
    json_t *j = json_load_file(vt_testdata(rel), 0, &e);
    const char *k;
    json_t *v;
    uint32_t mask = 0;
    json_object_foreach(json_object_get(j, "pcrs"), k, v) {
        unsigned long i = strtoul(k, NULL, 10);
        const char *hex = json_string_value(v);
        if (i < VT_EVLOG_NUM_PCRS && hex &&
            vti_is_ok(vti_hex_decode_fixed(hex, pcr[i], strlen(hex) / 2)))
            mask |= 1u << i;
    }
    json_decref(j);
    return mask;
}

static uint32_t expected_mask(json_t *q)
{
    size_t i;
    json_t *v;
    uint32_t m = 0;
    json_array_foreach(json_object_get(json_object_get(q, "expect"), "event_log_replay_matches_pcrs"), i, v)
        m |= 1u << json_integer_value(v);
    return m;
}

static void gce_banks(json_t *c, const struct vt_evlog *log, const struct vt_evlog_replay *r)
{
    size_t i;
    json_t *q;
    int n = 0;
    json_array_foreach(json_object_get(c, "quotes"), i, q) {
        const char *bank = json_string_value(json_object_get(q, "bank"));
        uint16_t alg = !strcmp(bank, "sha1") ? VT_TPM_ALG_SHA1
                       : !strcmp(bank, "sha256") ? VT_TPM_ALG_SHA256 : VT_TPM_ALG_SHA384;
        uint8_t pcr[VT_EVLOG_NUM_PCRS][VT_EVLOG_MAX_DIGEST] = { { 0 } };
        uint32_t mask = quoted(json_string_value(json_object_get(json_object_get(q, "files"), "pcrs")), pcr);
        uint32_t verified = 0, bad = 99;
        const uint8_t(*pc)[VT_EVLOG_MAX_DIGEST] = (const uint8_t(*)[VT_EVLOG_MAX_DIGEST])pcr;
        CHECK(mask == 0xffffff);
        CHECK_OK(vti_evlog_check_pcrs(r, alg, pc, mask, &verified, &bad));
        CHECK(verified == expected_mask(q));
        pcr[7][3] ^= 0x80; /* a changed PCR7 */
        CHECK_ERR(vti_evlog_check_pcrs(r, alg, pc, mask, &verified, &bad),
                  VT_ERR_EVLOG_PCR_MISMATCH);
        CHECK(bad == 7);
        n++;
    }
    CHECK(n == 3);
    (void)log;
}

static void gce_changed_digest(const struct vt_buf *f, const struct vt_evlog *log)
{
    /* a changed digest of the first PCR9 event: replay differs, PCR9 named */
    struct vt_evlog_iter it;
    struct vt_evlog_event ev;
    struct vt_evlog_replay r, m_r;
    struct vt_evlog m_log;
    CHECK_OK(vti_evlog_replay(log, &r));
    vti_evlog_iter_init(log, &it);
    while (vti_evlog_next(&it, &ev) && ev.pcr != 9)
        ;
    CHECK(ev.pcr == 9);
    struct vt_buf m = VT_BUF_INIT;
    CHECK_OK(vti_buf_append(&m, f->p, f->len));
    m.p[vti_evlog_digest(log, &ev, VT_TPM_ALG_SHA256, NULL) - f->p + 5] ^= 0x10;
    CHECK_OK(vti_evlog_parse(m.p, m.len, VT_EVLOG_TCG, 0, &m_log));
    CHECK_OK(vti_evlog_replay(&m_log, &m_r));
    uint32_t verified, bad = 0;
    const struct vt_evlog_bank *b = vti_evlog_bank(&r, VT_TPM_ALG_SHA256);
    CHECK_ERR(vti_evlog_check_pcrs(&m_r, VT_TPM_ALG_SHA256,
                                   (const uint8_t(*)[VT_EVLOG_MAX_DIGEST])b->v, 0xffffff,
                                   &verified, &bad), VT_ERR_EVLOG_PCR_MISMATCH);
    CHECK(bad == 9);
    vti_buf_free(&m);
}

static const char *str(json_t *cl, const char *k)
{
    return json_string_value(json_object_get(cl, k));
}

static void gce_claims(const struct vt_evlog *log)
{
    json_t *cl = NULL;
    CHECK_OK(vti_evlog_claims(log, VT_TPM_ALG_SHA256, 0x3ff, &cl));
    CHECK(json_is_boolean(json_object_get(cl, "eventlog.secure_boot")));
    CHECK(str(cl, "eventlog.pk") && strlen(str(cl, "eventlog.pk")) == 64);
    CHECK(str(cl, "eventlog.kek") && str(cl, "eventlog.db") && str(cl, "eventlog.dbx"));
    CHECK(json_is_true(json_object_get(cl, "eventlog.separators_valid")));
    CHECK(json_array_size(json_object_get(cl, "eventlog.efi_apps")) == 3);
    CHECK(str(cl, "eventlog.kernel_cmdline") &&
          strncmp(str(cl, "eventlog.kernel_cmdline"), "/syslinux/vmlinuz.A init", 24) == 0);
    json_t *g = json_object_get(cl, "eventlog.grub_cmds");
    CHECK(json_array_size(g) == 14 &&
          strcmp(json_string_value(json_array_get(g, 0)), "defaultA=2") == 0);
    CHECK(str(cl, "eventlog.gce_confidential_technology") &&
          strcmp(str(cl, "eventlog.gce_confidential_technology"), "amd-sev") == 0);
    json_decref(cl);
    /* without PCR7 and PCR8 matched: no Secure Boot, key or GRUB claims */
    CHECK_OK(vti_evlog_claims(log, VT_TPM_ALG_SHA256, 0x3ff & ~(1u << 7 | 1u << 8), &cl));
    CHECK(!json_object_get(cl, "eventlog.secure_boot") && !json_object_get(cl, "eventlog.pk") &&
          !json_object_get(cl, "eventlog.grub_cmds") &&
          !json_object_get(cl, "eventlog.kernel_cmdline"));
    CHECK(json_object_get(cl, "eventlog.gce_confidential_technology") != NULL);
    json_decref(cl);
    CHECK_OK(vti_evlog_claims(log, VT_TPM_ALG_SHA256, 0, &cl));
    CHECK(json_object_size(cl) == 0);
    json_decref(cl);
    CHECK_ERR(vti_evlog_claims(log, 0x12, 0x3ff, &cl), VT_ERR_EVLOG_BANK_MISSING);
}

static void ccel_claims(void)
{
    struct vt_buf f = vt_testdata_read("eventlog/trustee_CCEL_data_grub");
    struct vt_evlog log;
    json_t *cl = NULL;
    CHECK_OK(vti_evlog_parse(f.p, f.len, VT_EVLOG_CCEL, 0, &log));
    CHECK_OK(vti_evlog_claims(&log, VT_TPM_ALG_SHA384, 0x7, &cl));
    CHECK(json_is_true(json_object_get(cl, "eventlog.secure_boot")));
    CHECK(str(cl, "eventlog.db") && strlen(str(cl, "eventlog.db")) == 96);
    CHECK(json_array_size(json_object_get(cl, "eventlog.efi_apps")) >= 1);
    CHECK(json_is_true(json_object_get(cl, "eventlog.separators_valid")));
    json_decref(cl);
    vti_buf_free(&f);
}

int main(void)
{
    json_t *root = vt_test_cases();
    json_t *c = gce_case(root);
    CHECK(c != NULL);
    if (c) {
        struct vt_buf f = vt_testdata_read(GCE_LOG);
        struct vt_evlog log;
        struct vt_evlog_replay r;
        CHECK_OK(vti_evlog_parse(f.p, f.len, VT_EVLOG_TCG, 0, &log));
        CHECK_OK(vti_evlog_replay(&log, &r));
        gce_banks(c, &log, &r);
        gce_changed_digest(&f, &log);
        gce_claims(&log);
        vti_buf_free(&f);
    }
    ccel_claims();
    json_decref(root);
    return vt_test_done();
}
