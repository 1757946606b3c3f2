/* SPDX-License-Identifier: Apache-2.0 */
/*
 * eventlog_replay.c - replay of a parsed event log into PCR banks (TCG) or RTMRs (CCEL), and
 * the comparison with quoted values (see eventlog.h).
 *
 * The one computation over a validated vt_evlog: PCR[i] = H(PCR[i] || digest_H(event)) per
 * bank, from zeros (PCR0 from 00..0L when a StartupLocality event of locality L precedes its
 * first measurement; TCG PC Client PFP 1.05 section 10.4.5.3), never for EV_NO_ACTION. CCEL
 * (TDX Virtual Firmware Design Guide 4.3): SHA-384 into RTMR[index - 1], index 0 = MRTD is
 * the TDX module's and is not replayed. Digests are OpenSSL's (SHA-1 is not in vt_crypto_ops
 * and only the replay of legacy/sha1 banks needs it); the values are public, compared with
 * vti_ct_eq all the same.
 */
#include <openssl/evp.h>
#include <string.h>

#include "evidence/eventlog.h"
#include "evidence/tpm.h"
#include "util/secmem.h"

static vt_res extend(EVP_MD_CTX *ctx, struct vt_evlog_bank *b, uint32_t i, const uint8_t *d)
{
    unsigned int n = 0;
    ENSURE(EVP_DigestInit_ex(ctx, vti_tpm_alg_md(b->alg), NULL) == 1 &&
               EVP_DigestUpdate(ctx, b->v[i], b->size) == 1 &&
               EVP_DigestUpdate(ctx, d, b->size) == 1 &&
               EVP_DigestFinal_ex(ctx, b->v[i], &n) == 1 && n == b->size,
           VT_ERR_CRYPTO);
    b->touched |= 1u << i;
    return vti_ok();
}

/* The banks to replay and where each one's digest sits in the events (log->algs index). */
static void setup_banks(const struct vt_evlog *log, struct vt_evlog_replay *r,
                        uint32_t slot[VT_EVLOG_MAX_ALGS])
{
    for (uint32_t i = 0; i < log->n_algs; i++) {
        uint16_t alg = log->algs[i].alg;
        if (vti_tpm_alg_md(alg) == NULL || (log->format == VT_EVLOG_CCEL && alg != VT_TPM_ALG_SHA384))
            continue;
        struct vt_evlog_bank *b = &r->bank[r->n_banks];
        b->alg = alg;
        b->size = log->algs[i].size;
        if (log->format == VT_EVLOG_TCG && log->has_locality)
            b->v[0][b->size - 1] = log->locality;
        slot[r->n_banks++] = i;
    }
}

static vt_res replay_event(EVP_MD_CTX *ctx, const struct vt_evlog *log,
                           const struct vt_evlog_event *ev, struct vt_evlog_replay *r,
                           const uint32_t slot[VT_EVLOG_MAX_ALGS])
{
    if (ev->type == VT_EV_NO_ACTION)
        return vti_ok();
    uint32_t reg = ev->pcr;
    if (log->format == VT_EVLOG_CCEL) {
        if (reg == 0)
            return vti_ok(); /* MRTD: measured by the TDX module, not an RTMR */
        reg -= 1;
    }
    for (uint32_t b = 0; b < r->n_banks; b++)
        GUARD(extend(ctx, &r->bank[b], reg, ev->digest[slot[b]]));
    return vti_ok();
}

vt_res vti_evlog_replay(const struct vt_evlog *log, struct vt_evlog_replay *out)
{
    uint32_t slot[VT_EVLOG_MAX_ALGS] = { 0 };
    memset(out, 0, sizeof(*out));
    out->format = log->format;
    setup_banks(log, out, slot);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    ENSURE(ctx, VT_ERR_NOMEM);
    vt_res r = vti_ok();
    struct vt_evlog_iter it;
    struct vt_evlog_event ev;
    vti_evlog_iter_init(log, &it);
    while (vti_is_ok(r) && vti_evlog_next(&it, &ev))
        r = replay_event(ctx, log, &ev, out, slot);
    EVP_MD_CTX_free(ctx);
    if (!vti_is_ok(r))
        memset(out, 0, sizeof(*out));
    return r;
}

const struct vt_evlog_bank *vti_evlog_bank(const struct vt_evlog_replay *r, uint16_t alg)
{
    for (uint32_t i = 0; i < r->n_banks; i++)
        if (r->bank[i].alg == alg)
            return &r->bank[i];
    return NULL;
}

vt_res vti_evlog_check_pcrs(const struct vt_evlog_replay *r, uint16_t alg,
                            const uint8_t (*pcr)[VT_EVLOG_MAX_DIGEST], uint32_t quoted_mask,
                            uint32_t *verified, uint32_t *bad)
{
    *verified = 0;
    *bad = 0;
    const struct vt_evlog_bank *b = vti_evlog_bank(r, alg);
    ENSURE(r->format == VT_EVLOG_TCG && b, VT_ERR_EVLOG_BANK_MISSING);
    for (uint32_t i = 0; i < VT_EVLOG_NUM_PCRS; i++) {
        uint32_t bit = 1u << i;
        if (!(b->touched & bit) || !(quoted_mask & bit))
            continue;
        if (!vti_ct_eq(b->v[i], pcr[i], b->size)) {
            *verified = 0;
            *bad = i;
            return VT_FAIL(VT_ERR_EVLOG_PCR_MISMATCH);
        }
        *verified |= bit;
    }
    return vti_ok();
}

vt_res vti_evlog_check_rtmrs(const struct vt_evlog_replay *r, const uint8_t rtmr[4][48],
                             uint32_t *verified, uint32_t *bad)
{
    *verified = 0;
    *bad = 0;
    const struct vt_evlog_bank *b = vti_evlog_bank(r, VT_TPM_ALG_SHA384);
    ENSURE(r->format == VT_EVLOG_CCEL && b, VT_ERR_EVLOG_BANK_MISSING);
    for (uint32_t i = 0; i < VT_EVLOG_NUM_RTMRS; i++) { /* untouched: the quote's must be 0 */
        if (!vti_ct_eq(b->v[i], rtmr[i], 48)) {
            *verified = 0;
            *bad = i;
            return VT_FAIL(VT_ERR_EVLOG_RTMR_MISMATCH);
        }
        *verified |= 1u << i;
    }
    return vti_ok();
}
