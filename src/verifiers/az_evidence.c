/* SPDX-License-Identifier: Apache-2.0 */
/*
 * az_evidence.c - Azure vTPM evidence JSON (see az_evidence.h).
 */
#include <jansson.h>
#include <string.h>

#include "util/codec.h"
#include "verifiers/az_evidence.h"
#include "verifiers/az_memo.h"

enum enc { ENC_ARRAY, ENC_HEX, ENC_B64URL };

static vt_res bytes_array(json_t *a, size_t max, struct vt_buf *out)
{
    size_t i;
    json_t *e;
    ENSURE(json_is_array(a) && json_array_size(a) <= max, VT_ERR_AZ_EVIDENCE_FIELD);
    GUARD(vti_buf_reserve(out, json_array_size(a)));
    json_array_foreach(a, i, e) {
        ENSURE(json_is_integer(e) && json_integer_value(e) >= 0 && json_integer_value(e) <= 255,
               VT_ERR_AZ_EVIDENCE_FIELD);
        GUARD(vti_buf_u8(out, (uint8_t)json_integer_value(e)));
    }
    return vti_ok();
}

static vt_res field(json_t *v, enum enc enc, size_t max, struct vt_buf *out)
{
    out->len = 0;
    out->max = max;
    if (enc == ENC_ARRAY)
        return bytes_array(v, max, out);
    ENSURE(json_is_string(v), VT_ERR_AZ_EVIDENCE_FIELD);
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    vt_res r = enc == ENC_HEX ? vti_hex_decode(s, n, out) : vti_b64_decode(s, n, true, out);
    ENSURE(vti_is_ok(r), VT_ERR_AZ_EVIDENCE_FIELD);
    return vti_ok();
}

static vt_res tpm_quote(json_t *q, enum enc enc, struct vti_az_ev *ev)
{
    ENSURE(json_is_object(q), VT_ERR_AZ_EVIDENCE_JSON);
    GUARD(field(json_object_get(q, "signature"), enc, 1024, &ev->sig));
    GUARD(field(json_object_get(q, "message"), enc, 1024, &ev->msg));
    json_t *pcrs = json_object_get(q, "pcrs"), *e;
    size_t i;
    ENSURE(json_is_array(pcrs) && json_array_size(pcrs) == VT_AZ_NPCRS, VT_ERR_AZ_PCRS);
    json_array_foreach(pcrs, i, e) {
        struct vt_buf b = VT_BUF_INIT;
        vt_res r = field(e, enc, 32, &b);
        bool ok = vti_is_ok(r) && b.len == 32;
        if (ok)
            memcpy(ev->pcrs[i], b.p, 32);
        vti_buf_free_nowipe(&b);
        ENSURE(ok, VT_ERR_AZ_PCRS);
    }
    return vti_ok();
}

static vt_res shape_v0(json_t *o, struct vti_az_ev *ev)
{
    ev->version = 0;
    if (json_object_get(o, "td_quote")) {
        ev->tdx = true;
        GUARD(tpm_quote(json_object_get(o, "tpm_quote"), ENC_ARRAY, ev));
        GUARD(field(json_object_get(o, "hcl_report"), ENC_ARRAY, 64 * 1024, &ev->hcl));
        return field(json_object_get(o, "td_quote"), ENC_ARRAY, 64 * 1024, &ev->td_quote);
    }
    GUARD(tpm_quote(json_object_get(o, "quote"), ENC_ARRAY, ev));
    GUARD(field(json_object_get(o, "report"), ENC_ARRAY, 64 * 1024, &ev->hcl));
    json_t *v = json_object_get(o, "vcek");
    ENSURE(json_is_string(v) && json_string_length(v) <= 64 * 1024, VT_ERR_AZ_EVIDENCE_FIELD);
    ev->vcek_pem = true;
    return vti_buf_append(&ev->vcek, json_string_value(v), json_string_length(v));
}

static vt_res shape_v12(json_t *o, struct vti_az_ev *ev)
{
    json_t *ver = json_object_get(o, "version");
    ENSURE(json_is_integer(ver) && (json_integer_value(ver) == 1 || json_integer_value(ver) == 2),
           VT_ERR_AZ_EVIDENCE_VERSION);
    ev->version = (int)json_integer_value(ver);
    GUARD(tpm_quote(json_object_get(o, "tpm_quote"), ENC_HEX, ev));
    GUARD(field(json_object_get(o, "hcl_report"), ENC_B64URL, 64 * 1024, &ev->hcl));
    if (json_object_get(o, "td_quote")) {
        ev->tdx = true;
        return field(json_object_get(o, "td_quote"), ENC_B64URL, 64 * 1024, &ev->td_quote);
    }
    return field(json_object_get(o, "vcek"), ENC_B64URL, 64 * 1024, &ev->vcek);
}

static json_t *load(const uint8_t *p, size_t len)
{
    size_t i = 0;
    while (i < len && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
        i++;
    if (i == len || p[i] != '{' || len > VT_AZ_MAX_EVIDENCE)
        return NULL;
    json_t *o = json_loadb((const char *)p, len, JSON_REJECT_DUPLICATES, NULL);
    if (o && !json_is_object(o)) {
        json_decref(o);
        o = NULL;
    }
    return o;
}

/* The shapes, from a loaded document. */
static vt_res from_json(json_t *o, struct vti_az_ev *ev)
{
    memset(ev, 0, sizeof(*ev));
    vt_res r = json_object_get(o, "version") ? shape_v12(o, ev) : shape_v0(o, ev);
    if (!vti_is_ok(r))
        vti_az_evidence_free(ev);
    return r;
}

vt_res vti_az_evidence_parse(const uint8_t *p, size_t len, struct vti_az_ev *ev)
{
    memset(ev, 0, sizeof(*ev));
    json_t *o = load(p, len);
    ENSURE(o, VT_ERR_AZ_EVIDENCE_JSON);
    vt_res r = from_json(o, ev);
    json_decref(o);
    return r;
}

void vti_az_evidence_free(struct vti_az_ev *ev)
{
    vti_buf_free_nowipe(&ev->sig);
    vti_buf_free_nowipe(&ev->msg);
    vti_buf_free_nowipe(&ev->hcl);
    vti_buf_free_nowipe(&ev->vcek);
    vti_buf_free_nowipe(&ev->td_quote);
}

/* The shape test of accepts(): the kind of a memoized parse (az_memo.c); else the document is
 * parsed and, when it parses, kept for the verify() that follows (input detection asks every
 * verifier, so this saves two parses of a new evidence); else the keys present decide (an
 * evidence that names its parts but fails to parse goes to its verifier for its own error). */
int vti_az_evidence_kind(const uint8_t *p, size_t len)
{
    int kind = vti_az_memo_kind(p, len);
    if (kind)
        return kind;
    json_t *o = load(p, len);
    if (!o)
        return 0;
    struct vti_az_ev ev;
    if (len <= VT_AZ_MEMO_MAX_EVIDENCE && vti_is_ok(from_json(o, &ev))) {
        kind = ev.tdx ? 2 : 1;
        vti_az_memo_put_evidence(p, len, &ev);
        vti_az_evidence_free(&ev);
        json_decref(o);
        return kind;
    }
    bool hcl = json_object_get(o, "hcl_report") || json_object_get(o, "report");
    bool tpm = json_object_get(o, "tpm_quote") || json_object_get(o, "quote");
    kind = !hcl || !tpm ? 0 : json_object_get(o, "td_quote") ? 2 :
           json_object_get(o, "vcek") ? 1 : 0;
    json_decref(o);
    return kind;
}
