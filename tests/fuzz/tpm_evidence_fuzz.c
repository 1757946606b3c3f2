/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tpm_evidence_fuzz.c - fuzz target for the plain TPM evidence JSON parser
 * (vti_tpm_evidence_parse, vti_tpm_evidence_is). A successful parse must respect the caps,
 * and writing it out again (vti_tpm_evidence_json) must parse back to the same fields.
 */
#include <stdlib.h>
#include <string.h>

#include "evidence/tpm_evidence.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool same(const struct vt_buf *a, const struct vt_buf *b)
{
    return a->len == b->len && (a->len == 0 || memcmp(a->p, b->p, a->len) == 0);
}

static void round_trip(const struct vti_tpm_ev *ev)
{
    struct vti_tpm_ev_in in = {
        .ak_public = ev->ak_public.p, .ak_public_len = ev->ak_public.len, .msg = ev->msg.p,
        .msg_len = ev->msg.len, .sig = ev->sig.p, .sig_len = ev->sig.len,
        .ak_cert = ev->ak_cert.p, .ak_cert_len = ev->ak_cert.len, .event_log = ev->event_log.p,
        .event_log_len = ev->event_log.len,
        .pcrs = (const uint8_t(*)[VT_TPM_EV_MAX_PCR_LEN])ev->pcrs, .n_pcrs = ev->n_pcrs,
        .pcr_len = ev->pcr_len,
    };
    struct vt_buf out = VT_BUF_INIT;
    struct vti_tpm_ev back;
    if (vti_tpm_evidence_json(&in, &out).err != 0)
        abort();
    if (vti_tpm_evidence_parse(out.p, out.len, &back).err != 0)
        abort();
    if (!same(&ev->ak_public, &back.ak_public) || !same(&ev->msg, &back.msg) ||
        !same(&ev->sig, &back.sig) || !same(&ev->ak_cert, &back.ak_cert) ||
        !same(&ev->event_log, &back.event_log) || ev->n_pcrs != back.n_pcrs ||
        ev->pcr_len != back.pcr_len ||
        memcmp(ev->pcrs, back.pcrs, sizeof(ev->pcrs)) != 0)
        abort();
    vti_tpm_evidence_free(&back);
    vti_buf_free_nowipe(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    (void)vti_tpm_evidence_is(data, size);
    struct vti_tpm_ev ev;
    if (vti_tpm_evidence_parse(data, size, &ev).err != 0)
        return 0;
    if (ev.n_pcrs < 1 || ev.n_pcrs > VT_TPM_EV_MAX_PCRS || ev.pcr_len > VT_TPM_EV_MAX_PCR_LEN ||
        ev.ak_public.len == 0 || ev.msg.len == 0 || ev.sig.len == 0 ||
        ev.has_cert != (ev.ak_cert.len > 0) || ev.has_log != (ev.event_log.len > 0))
        abort();
    round_trip(&ev);
    vti_tpm_evidence_free(&ev);
    return 0;
}
