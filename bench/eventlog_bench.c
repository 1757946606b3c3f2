/* SPDX-License-Identifier: Apache-2.0 */
/*
 * eventlog_bench.c - event log replay throughput (events/s) against its bound: the digest
 * computations alone.
 *
 * Subject: vti_evlog_parse (the whole log validated) + vti_evlog_replay (every bank) of a real
 * log, counted in events per second. Bound, measured in the same run: the same number of
 * EVP_Digest calls over 2 * digest-size bytes per event and bank (what an extend costs with
 * no parsing and no context reuse). Logs: the Ubuntu 24.04 SEV-SNP GCE log (116 events, SHA-1 /
 * SHA-256 / SHA-384) and the GRUB CCEL log (37 events, SHA-384), from shared/testdata
 * ($VERITEE_TESTDATA, default ../shared/testdata), and that CCEL log with 256 CoCo
 * attestation-agent (AAEL) image-pull entries appended on RTMR3 as guest-components writes them.
 * For the CCEL + AAEL log also the whole appraisal of verify --eventlog and the KBS
 * (vti_evlog_check_report: parse, replay, compare with a report's RTMRs, claims with every AAEL
 * entry bound and parsed) against the same bound.
 * Prints per log `figure NAME: replay R events/s, digests alone D events/s` and
 * `ratio NAME: R/D` (and `ratio ccel+aael check: ...`). Usage: eventlog_bench [seconds, def. 3].
 */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>

#include <string.h>

#include "bench_util.h"
#include "core/report.h"
#include "evidence/eventlog.h"
#include "evidence/eventlog_aael.h"
#include "evidence/tpm.h"
#include "verifiers/eventlog_check.h"

#define AAEL_ENTRIES 256

static const EVP_MD *md_of(uint16_t alg)
{
    return alg == VT_TPM_ALG_SHA1 ? EVP_sha1() : alg == VT_TPM_ALG_SHA256 ? EVP_sha256()
           : alg == VT_TPM_ALG_SHA384 ? EVP_sha384() : EVP_sha512();
}

static double replay_rate(const struct vt_buf *b, enum vt_evlog_format f, double secs,
                          uint32_t *events)
{
    struct vt_evlog log;
    static struct vt_evlog_replay r;
    uint64_t n = 0;
    double t0 = bench_now(), t;
    do {
        if (vti_evlog_parse(b->p, b->len, f, 0, &log).err || vti_evlog_replay(&log, &r).err) {
            fprintf(stderr, "eventlog_bench: replay failed\n");
            exit(1);
        }
        n++;
    } while ((t = bench_now() - t0) < secs);
    *events = log.n_events;
    return (double)n * log.n_events / t;
}

/* The bound: EVP_Digest of 2 * size bytes for each event and bank of the log. */
static double digest_rate(const struct vt_buf *b, enum vt_evlog_format f, double secs)
{
    struct vt_evlog log;
    uint8_t in[128] = { 0 }, out[64];
    unsigned int ol;
    if (vti_evlog_parse(b->p, b->len, f, 0, &log).err)
        exit(1);
    uint32_t banks = f == VT_EVLOG_CCEL ? 1 : log.n_algs;
    uint64_t n = 0;
    double t0 = bench_now(), t;
    do {
        for (uint32_t e = 0; e < log.n_events; e++)
            for (uint32_t k = 0; k < banks; k++) {
                uint16_t alg = f == VT_EVLOG_CCEL ? VT_TPM_ALG_SHA384 : log.algs[k].alg;
                EVP_Digest(in, 2 * vti_tpm_hash_size(alg), out, &ol, md_of(alg), NULL);
            }
        n++;
    } while ((t = bench_now() - t0) < secs);
    return (double)n * log.n_events / t;
}

static void one(const char *name, const struct vt_buf *b, enum vt_evlog_format f, double secs)
{
    uint32_t events = 0;
    double r = replay_rate(b, f, secs, &events);
    double d = digest_rate(b, f, secs);
    printf("figure %s: %u events, replay %.0f events/s, digests alone %.0f events/s\n", name,
           events, r, d);
    printf("ratio %s: %.2f\n", name, r / d);
}

/* One AAEL record (EV_EVENT_TAG on CC MR 4, SHA-384 of the tagged event) appended to b. */
static void aael(struct vt_buf *b, int i)
{
    char text[256];
    uint8_t data[8 + sizeof(text)], d[48];
    unsigned int dl = 0;
    int n = snprintf(text, sizeof(text), "github.com/confidential-containers PullImage "
                     "{\"image\":\"registry.example/app%d:1.0\",\"digest\":\"sha256:%064d\"}", i, i);
    if (n <= 0 || (size_t)n >= sizeof(text))
        exit(1);
    for (int k = 0; k < 4; k++) {
        data[k] = (uint8_t)(VT_AAEL_TAG_ID >> (8 * k));
        data[4 + k] = (uint8_t)((uint32_t)n >> (8 * k));
    }
    memcpy(data + 8, text, (size_t)n);
    if (EVP_Digest(data, (size_t)n + 8, d, &dl, EVP_sha384(), NULL) != 1 ||
        vti_buf_u32le(b, 4).err || vti_buf_u32le(b, VT_EV_EVENT_TAG).err ||
        vti_buf_u32le(b, 1).err || vti_buf_u16le(b, VT_TPM_ALG_SHA384).err ||
        vti_buf_append(b, d, 48).err || vti_buf_u32le(b, (uint32_t)n + 8).err ||
        vti_buf_append(b, data, (size_t)n + 8).err)
        exit(1);
}

/* The CCEL log cut at its end (as guest-components trims it), AAEL_ENTRIES entries, 0xff x 8. */
static struct vt_buf with_aael(const struct vt_buf *ccel)
{
    struct vt_evlog log;
    struct vt_buf b = VT_BUF_INIT;
    if (vti_evlog_parse(ccel->p, ccel->len, VT_EVLOG_CCEL, 0, &log).err ||
        vti_buf_append(&b, ccel->p, log.events_end).err)
        exit(1);
    for (int i = 0; i < AAEL_ENTRIES; i++)
        aael(&b, i);
    if (vti_buf_append(&b, "\xff\xff\xff\xff\xff\xff\xff\xff", 8).err)
        exit(1);
    return b;
}

/* vti_evlog_check_report (parse, replay, compare, claims) against a report with the RTMRs. */
static void check_rate(const struct vt_buf *b, double secs)
{
    struct vt_evlog log;
    static struct vt_evlog_replay r;
    struct vt_report *rep = vti_report_new();
    char k[8];
    if (!rep || vti_evlog_parse(b->p, b->len, VT_EVLOG_CCEL, 0, &log).err ||
        vti_evlog_replay(&log, &r).err)
        exit(1);
    for (int i = 0; i < 4; i++) {
        snprintf(k, sizeof(k), "rtmr%d", i);
        if (vti_claim_bytes(rep, k, r.bank[0].v[i], 48).err)
            exit(1);
    }
    uint64_t n = 0;
    double t0 = bench_now(), t;
    do {
        struct vt_evlog_check c;
        if (vti_evlog_check_report(rep, b->p, b->len, 0, &c).err) {
            fprintf(stderr, "eventlog_bench: check failed\n");
            exit(1);
        }
        json_decref(c.claims);
        n++;
    } while ((t = bench_now() - t0) < secs);
    double cr = (double)n * log.n_events / t, d = digest_rate(b, VT_EVLOG_CCEL, secs);
    printf("figure ccel+aael check: %u events, replay+compare+claims %.0f events/s, digests alone "
           "%.0f events/s\n", log.n_events, cr, d);
    printf("ratio ccel+aael check: %.2f\n", cr / d);
    vt_report_free(rep);
}

int main(int argc, char **argv)
{
    double secs = argc > 1 ? strtod(argv[1], NULL) : 3.0;
    if (secs <= 0)
        secs = 3.0;
    struct vt_buf tcg = bench_testdata("eventlog_bench", "eventlog/gotpm_ubuntu-2404-amd-sevsnp.bin");
    struct vt_buf ccel = bench_testdata("eventlog_bench", "eventlog/trustee_CCEL_data_grub");
    struct vt_buf aa = with_aael(&ccel);
    one("tcg ubuntu-2404 (3 banks)", &tcg, VT_EVLOG_TCG, secs);
    one("ccel grub (sha384)", &ccel, VT_EVLOG_CCEL, secs);
    one("ccel grub + 256 aael", &aa, VT_EVLOG_CCEL, secs);
    check_rate(&aa, secs);
    vti_buf_free(&tcg);
    vti_buf_free(&ccel);
    vti_buf_free(&aa);
    return 0;
}
