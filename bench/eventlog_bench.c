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
 * ($VERITEE_TESTDATA, default ../shared/testdata). Usage: eventlog_bench [seconds, default 3].
 */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench_util.h"
#include "evidence/eventlog.h"
#include "evidence/tpm.h"

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

static void one(const char *name, const char *rel, enum vt_evlog_format f, double secs)
{
    struct vt_buf b = bench_testdata("eventlog_bench", rel);
    uint32_t events = 0;
    double r = replay_rate(&b, f, secs, &events);
    double d = digest_rate(&b, f, secs);
    printf("%-28s %4u events  replay %10.0f events/s  digests alone %10.0f events/s  ratio %.2f\n",
           name, events, r, d, r / d);
    vti_buf_free(&b);
}

int main(int argc, char **argv)
{
    double secs = argc > 1 ? strtod(argv[1], NULL) : 3.0;
    if (secs <= 0)
        secs = 3.0;
    one("tcg ubuntu-2404 (3 banks)", "eventlog/gotpm_ubuntu-2404-amd-sevsnp.bin", VT_EVLOG_TCG, secs);
    one("ccel grub (sha384)", "eventlog/trustee_CCEL_data_grub", VT_EVLOG_CCEL, secs);
    return 0;
}
