/* SPDX-License-Identifier: Apache-2.0 */
/*
 * aael_fuzz.c - fuzz target for the CoCo attestation-agent event log (AAEL) entry parser
 * (src/evidence/eventlog_aael.c) and the AAEL part of the event-log claims:
 *   1. the input as one TCG_PCClientTaggedEvent (vti_aael_parse): an accepted entry is exactly
 *      "<domain> <operation> <content>" of the tagged data (fields adjacent, single spaces,
 *      printable, domain / operation without spaces, within their caps, the size field equal
 *      to the rest), and vti_aael_is_tagged agrees; a refused one leaves the entry zeroed;
 *   2. the input split at line feeds into up to 40 entry texts, each wrapped as an AAEL tagged
 *      event on CC MR 4 of a CCEL log (SHA-384; a text whose first byte is odd gets a digest
 *      that does not bind its data), parsed, replayed and turned into claims: any refusal is
 *      fine, an accepted log gives a JSON object.
 * eventlog_fuzz also feeds its inputs to vti_aael_parse, but as whole logs; this target
 * reaches the entry rules and the claims' AAEL checks directly.
 */
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "evidence/eventlog.h"
#include "evidence/eventlog_aael.h"
#include "evidence/eventlog_claims.h"
#include "evidence/tpm.h"
#include "util/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_LINES 40

static bool printable(char c)
{
    return c >= 0x20 && c <= 0x7e;
}

static bool field_ok(const char *p, size_t n, size_t cap, bool spaces)
{
    if (n == 0 || n > cap)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!printable(p[i]) || (!spaces && p[i] == ' '))
            return false;
    return true;
}

static void entry(const uint8_t *data, size_t size)
{
    struct vt_aael_entry e;
    struct vt_evlog_event ev = { .type = VT_EV_EVENT_TAG, .data = data,
                                 .data_len = (uint32_t)(size > UINT32_MAX ? 0 : size) };
    if (vti_aael_parse(data, size, &e).err != 0) {
        if (e.domain || e.operation || e.content || e.domain_len || e.operation_len ||
            e.content_len)
            abort();
        return;
    }
    const char *text = (const char *)data + 8;
    if (!vti_aael_is_tagged(&ev) || vti_le32_unsafe(data + 4) != size - 8 || e.domain != text ||
        e.operation != e.domain + e.domain_len + 1 ||
        e.content != e.operation + e.operation_len + 1 ||
        e.content + e.content_len != (const char *)data + size || e.domain[e.domain_len] != ' ' ||
        e.operation[e.operation_len] != ' ' || e.content[0] == ' ' ||
        !field_ok(e.domain, e.domain_len, VT_AAEL_MAX_DOMAIN, false) ||
        !field_ok(e.operation, e.operation_len, VT_AAEL_MAX_OPERATION, false) ||
        !field_ok(e.content, e.content_len, VT_AAEL_MAX_CONTENT, true))
        abort();
}

/* ---- 2: entries in a CCEL log ---------------------------------------------------------- */

static bool put32(struct vt_buf *b, uint32_t v)
{
    return vti_buf_u32le(b, v).err == 0;
}

/* The CCEL header: a TCG_PCR_EVENT with a Spec ID Event03 listing SHA-384 alone. */
static bool header(struct vt_buf *b)
{
    static const uint8_t spec[] = { 'S', 'p', 'e', 'c', ' ', 'I', 'D', ' ', 'E', 'v', 'e', 'n',
                                    't', '0', '3', 0, 0, 0, 0, 0, 0, 2, 0, 2, 1, 0, 0, 0,
                                    (uint8_t)VT_TPM_ALG_SHA384, 0, 48, 0, 0 };
    return put32(b, 0) && put32(b, VT_EV_NO_ACTION) && vti_buf_zeros(b, 20).err == 0 &&
           put32(b, sizeof(spec)) && vti_buf_append(b, spec, sizeof(spec)).err == 0;
}

/* An AAEL tagged event of text on MR 4, its digest SHA-384 of the tagged data (flipped:
 * unbound). */
static bool aael_event(struct vt_buf *b, const uint8_t *text, size_t n, bool unbound)
{
    struct vt_buf t = VT_BUF_INIT;
    uint8_t d[48];
    unsigned int dl = 0;
    bool ok = put32(&t, VT_AAEL_TAG_ID) && put32(&t, (uint32_t)n) &&
              vti_buf_append(&t, text, n).err == 0 &&
              EVP_Digest(t.p, t.len, d, &dl, EVP_sha384(), NULL) == 1 && dl == 48;
    if (ok && unbound)
        d[0] ^= 1;
    ok = ok && put32(b, 4) && put32(b, VT_EV_EVENT_TAG) && put32(b, 1) &&
         vti_buf_u16le(b, VT_TPM_ALG_SHA384).err == 0 && vti_buf_append(b, d, 48).err == 0 &&
         put32(b, (uint32_t)t.len) && vti_buf_append(b, t.p, t.len).err == 0;
    vti_buf_free_nowipe(&t);
    return ok;
}

static void in_log(const uint8_t *data, size_t size)
{
    struct vt_buf b = VT_BUF_INIT;
    bool ok = header(&b);
    size_t lines = 0, start = 0;
    for (size_t i = 0; ok && i <= size && lines < MAX_LINES; i++) {
        if (i < size && data[i] != '\n')
            continue;
        size_t n = i - start;
        bool unbound = n > 0 && (data[start] & 1);
        ok = aael_event(&b, data + start + (n > 0), n - (n > 0), unbound);
        lines++;
        start = i + 1;
    }
    struct vt_evlog log;
    struct vt_evlog_replay r;
    if (ok && vti_evlog_parse(b.p, b.len, VT_EVLOG_CCEL, 0, &log).err == 0) {
        if (log.n_events != lines || vti_evlog_replay(&log, &r).err != 0)
            abort();
        json_t *cl = NULL;
        if (vti_evlog_claims(&log, VT_TPM_ALG_SHA384, 0xffffffu, &cl).err == 0) {
            if (!json_is_object(cl))
                abort();
            json_decref(cl);
        }
    }
    vti_buf_free_nowipe(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    entry(data, size);
    in_log(data, size);
    return 0;
}
