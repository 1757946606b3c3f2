/* SPDX-License-Identifier: Apache-2.0 */
/*
 * eventlog_check.c - an event log replayed against a verified report (see eventlog_check.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evidence/eventlog_claims.h"
#include "evidence/tpm.h"
#include "verifiers/eventlog_check.h"

/* The TD quote's RTMRs from the claims "rtmr0".."rtmr3". */
static bool quoted_rtmrs(const vt_claims *cl, uint8_t rtmr[4][48])
{
    char k[8];
    for (int i = 0; i < 4; i++) {
        snprintf(k, sizeof(k), "rtmr%d", i);
        const struct vt_claim *c = vt_claims_get(cl, k);
        if (!c || c->type != VT_CLAIM_BYTES || c->n != 48)
            return false;
        memcpy(rtmr[i], c->p, 48);
    }
    return true;
}

/* The quoted PCRs "pcr.<i>" of one bank (its size from the first value); their mask. */
static uint32_t quoted_pcrs(const vt_claims *cl, uint8_t (*pcr)[VT_EVLOG_MAX_DIGEST],
                            uint16_t *alg)
{
    uint32_t mask = 0;
    size_t size = 0;
    char k[16];
    for (uint32_t i = 0; i < VT_EVLOG_NUM_PCRS; i++) {
        snprintf(k, sizeof(k), "pcr.%u", i);
        const struct vt_claim *c = vt_claims_get(cl, k);
        if (!c || c->type != VT_CLAIM_BYTES || c->n == 0 || c->n > VT_EVLOG_MAX_DIGEST ||
            (size && c->n != size))
            continue;
        size = c->n;
        memcpy(pcr[i], c->p, c->n);
        mask |= 1u << i;
    }
    *alg = size == 20 ? VT_TPM_ALG_SHA1 : size == 32 ? VT_TPM_ALG_SHA256
           : size == 48 ? VT_TPM_ALG_SHA384 : size == 64 ? VT_TPM_ALG_SHA512 : 0;
    return *alg ? mask : 0;
}

/* The replay against the report's registers: VT_OK with alg / verified, or the error. */
static vt_res against(const vt_report *rep, const struct vt_evlog *log,
                      const struct vt_evlog_replay *r, struct vt_evlog_check *out)
{
    const vt_claims *cl = vt_report_claims(rep);
    if (log->format == VT_EVLOG_CCEL) {
        uint8_t rtmr[4][48];
        out->alg = VT_TPM_ALG_SHA384;
        ENSURE(cl && quoted_rtmrs(cl, rtmr), VT_ERR_EVLOG_BANK_MISSING);
        return vti_evlog_check_rtmrs(r, (const uint8_t(*)[48])rtmr, &out->verified, &out->bad);
    }
    uint8_t pcr[VT_EVLOG_NUM_PCRS][VT_EVLOG_MAX_DIGEST] = { { 0 } };
    uint32_t mask = cl ? quoted_pcrs(cl, pcr, &out->alg) : 0;
    ENSURE(mask != 0, VT_ERR_EVLOG_BANK_MISSING);
    return vti_evlog_check_pcrs(r, out->alg, (const uint8_t(*)[VT_EVLOG_MAX_DIGEST])pcr, mask,
                                &out->verified, &out->bad);
}

static vt_res check(const vt_report *rep, const struct vt_evlog *log, struct vt_evlog_check *out)
{
    struct vt_evlog_replay *r = calloc(1, sizeof(*r)); /* ~12 KiB: not on the stack */
    ENSURE(r, VT_ERR_NOMEM);
    vt_res res = vti_evlog_replay(log, r);
    if (vti_is_ok(res))
        res = against(rep, log, r, out);
    free(r);
    GUARD(res);
    return vti_evlog_claims(log, out->alg, out->verified, &out->claims);
}

vt_res vti_evlog_check_report(const vt_report *rep, const uint8_t *p, size_t len, uint32_t opts,
                              struct vt_evlog_check *out)
{
    memset(out, 0, sizeof(*out));
    struct vt_evlog log;
    out->format = vti_evlog_guess_format(p, len);
    GUARD(vti_evlog_parse(p, len, out->format, opts, &log));
    vt_res r = check(rep, &log, out);
    if (!vti_is_ok(r)) {
        out->verified = 0;
        json_decref(out->claims);
        out->claims = NULL;
    }
    return r;
}

const char *vti_evlog_check_register(const struct vt_evlog_check *c, char buf[16])
{
    snprintf(buf, 16, "%s%u", c->format == VT_EVLOG_CCEL ? "RTMR" : "PCR", c->bad);
    return buf;
}
