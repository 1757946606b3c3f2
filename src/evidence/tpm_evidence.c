/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tpm_evidence.c - the plain TPM 2.0 evidence JSON (shape in tpm_evidence.h): parser (for the
 * "tpm" verifier) and writer (for the "tpm" attester).
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "util/codec.h"
#include "evidence/tpm_evidence.h"

#define MAX_FIELD (1u << 20)        /* a key, quote, signature or certificate */
#define MAX_LOG (16u << 20)         /* the event log (eventlog.h's cap) */

static vt_res b64_field(const json_t *o, const char *name, bool optional, size_t max,
                        struct vt_buf *out, bool *present)
{
    const json_t *v = json_object_get(o, name);
    if (present)
        *present = v != NULL;
    if (!v && optional)
        return vti_ok();
    ENSURE(json_is_string(v), v ? VT_ERR_TPM_EVIDENCE_FIELD : VT_ERR_TPM_EVIDENCE_JSON);
    size_t n = json_string_length(v);
    ENSURE(n > 0 && n / 4 * 3 <= max + 3, VT_ERR_TPM_EVIDENCE_FIELD);
    vt_res r = vti_b64_decode(json_string_value(v), n, false, out);
    ENSURE(vti_is_ok(r) && out->len > 0 && out->len <= max, VT_ERR_TPM_EVIDENCE_FIELD);
    return vti_ok();
}

static vt_res pcrs_field(const json_t *q, struct vti_tpm_ev *ev)
{
    const json_t *a = json_object_get(q, "pcrs");
    ENSURE(json_is_array(a), a ? VT_ERR_TPM_EVIDENCE_FIELD : VT_ERR_TPM_EVIDENCE_JSON);
    size_t n = json_array_size(a);
    ENSURE(n >= 1 && n <= VT_TPM_EV_MAX_PCRS, VT_ERR_TPM_EVIDENCE_PCRS);
    for (size_t i = 0; i < n; i++) {
        const json_t *s = json_array_get(a, i);
        ENSURE(json_is_string(s), VT_ERR_TPM_EVIDENCE_FIELD);
        size_t hl = json_string_length(s);
        size_t bl = hl / 2;
        ENSURE(hl % 2 == 0 && (bl == 20 || bl == 32 || bl == 48 || bl == 64),
               VT_ERR_TPM_EVIDENCE_PCRS);
        ENSURE(i == 0 || bl == ev->pcr_len, VT_ERR_TPM_EVIDENCE_PCRS);
        ev->pcr_len = bl;
        GUARD(vti_hex_decode_span(json_string_value(s), hl, ev->pcrs[i], bl).err
                  ? VT_FAIL(VT_ERR_TPM_EVIDENCE_FIELD) : vti_ok());
    }
    ev->n_pcrs = n;
    return vti_ok();
}

static vt_res parse_obj(const json_t *j, struct vti_tpm_ev *ev)
{
    ENSURE(json_is_object(j), VT_ERR_TPM_EVIDENCE_JSON);
    const json_t *q = json_object_get(j, "tpm_quote");
    ENSURE(json_is_object(q), VT_ERR_TPM_EVIDENCE_JSON);
    GUARD(b64_field(j, "ak_public", false, MAX_FIELD, &ev->ak_public, NULL));
    GUARD(b64_field(q, "message", false, MAX_FIELD, &ev->msg, NULL));
    GUARD(b64_field(q, "signature", false, MAX_FIELD, &ev->sig, NULL));
    GUARD(pcrs_field(q, ev));
    GUARD(b64_field(j, "ak_cert", true, MAX_FIELD, &ev->ak_cert, &ev->has_cert));
    vt_res r = b64_field(j, "event_log", true, MAX_LOG, &ev->event_log, &ev->has_log);
    ENSURE(vti_is_ok(r), VT_ERR_TPM_EVENT_LOG);
    return vti_ok();
}

vt_res vti_tpm_evidence_parse(const uint8_t *p, size_t len, struct vti_tpm_ev *ev)
{
    memset(ev, 0, sizeof(*ev));
    ev->ak_public = ev->msg = ev->sig = ev->ak_cert = ev->event_log = (struct vt_buf)VT_BUF_INIT;
    ENSURE(p && len > 0 && len <= VT_TPM_EV_MAX, VT_ERR_TPM_EVIDENCE_JSON);
    json_error_t e;
    json_t *j = json_loadb((const char *)p, len, JSON_REJECT_DUPLICATES, &e);
    ENSURE(j, VT_ERR_TPM_EVIDENCE_JSON);
    vt_res r = parse_obj(j, ev);
    json_decref(j);
    if (!vti_is_ok(r))
        vti_tpm_evidence_free(ev);
    return r;
}

void vti_tpm_evidence_free(struct vti_tpm_ev *ev)
{
    vti_buf_free_nowipe(&ev->ak_public);
    vti_buf_free_nowipe(&ev->msg);
    vti_buf_free_nowipe(&ev->sig);
    vti_buf_free_nowipe(&ev->ak_cert);
    vti_buf_free_nowipe(&ev->event_log);
}

static bool has(const uint8_t *p, size_t len, const char *s)
{
    size_t n = strlen(s);
    for (size_t i = 0; len >= n && i <= len - n; i++)
        if (p[i] == (uint8_t)s[0] && memcmp(p + i, s, n) == 0) /* lint: public (evidence shape) */
            return true;
    return false;
}

bool vti_tpm_evidence_is(const uint8_t *p, size_t len)
{
    size_t i = 0;
    while (i < len && (p[i] == ' ' || p[i] == '\n' || p[i] == '\r' || p[i] == '\t'))
        i++;
    return i < len && p[i] == '{' && len <= VT_TPM_EV_MAX && has(p, len, "\"ak_public\"") &&
           has(p, len, "\"tpm_quote\"");
}

/* ---- writer ---------------------------------------------------------------------------- */

static json_t *b64_json(const uint8_t *p, size_t n)
{
    struct vt_buf b = VT_BUF_INIT;
    json_t *s = NULL;
    if (vti_is_ok(vti_b64_encode(p, n, false, &b)))
        s = json_stringn((const char *)b.p, b.len);
    vti_buf_free_nowipe(&b);
    return s;
}

static json_t *pcrs_json(const struct vti_tpm_ev_in *in)
{
    json_t *a = json_array();
    char h[2 * VT_TPM_EV_MAX_PCR_LEN + 1];
    for (size_t i = 0; a && i < in->n_pcrs; i++) {
        vti_hex_encode(in->pcrs[i], in->pcr_len, h);
        if (json_array_append_new(a, json_string(h)) != 0) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

vt_res vti_tpm_evidence_json(const struct vti_tpm_ev_in *in, struct vt_buf *out)
{
    ENSURE(in->n_pcrs <= VT_TPM_EV_MAX_PCRS && in->pcr_len <= VT_TPM_EV_MAX_PCR_LEN,
           VT_ERR_INVALID_ARG);
    json_t *j = json_pack("{s:o?, s:{s:o?, s:o?, s:o?}}", "ak_public",
                          b64_json(in->ak_public, in->ak_public_len), "tpm_quote", "message",
                          b64_json(in->msg, in->msg_len), "signature",
                          b64_json(in->sig, in->sig_len), "pcrs", pcrs_json(in));
    bool ok = j != NULL;
    if (ok && in->ak_cert_len)
        ok = json_object_set_new(j, "ak_cert", b64_json(in->ak_cert, in->ak_cert_len)) == 0;
    if (ok && in->event_log_len)
        ok = json_object_set_new(j, "event_log", b64_json(in->event_log, in->event_log_len)) == 0;
    char *s = ok ? json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    json_decref(j);
    ENSURE(s, VT_ERR_NOMEM);
    vt_res r = vti_buf_append(out, s, strlen(s));
    free(s);
    return r;
}
