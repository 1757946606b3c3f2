/* SPDX-License-Identifier: Apache-2.0 */
/*
 * eventlog_aael.c - AAEL entries inside TCG2 / CCEL tagged events (see eventlog_aael.h).
 * Spec: TCG PC Client PFP 1.05 section 10.4.2 (TCG_PCClientTaggedEvent); the AAEL entry
 * format of Trustee's confidential-containers-eventlog.md.
 */
#include <string.h>

#include "evidence/eventlog_aael.h"

bool vti_aael_is_tagged(const struct vt_evlog_event *ev)
{
    return ev->type == VT_EV_EVENT_TAG && ev->data_len >= 4 &&
           vti_le32_unsafe(ev->data) == VT_AAEL_TAG_ID;
}

static bool printable(uint8_t c)
{
    return c >= 0x20 && c <= 0x7e;
}

/* One space-free field of 1..cap printable characters ending at a single space. */
static vt_res field(struct vt_cur *c, size_t cap, const char **out, size_t *n)
{
    const uint8_t *p = vti_cur_pos(c);
    size_t left = vti_cur_left(c), i = 0;
    while (i < left && p[i] != ' ') {
        ENSURE(printable(p[i]) && i < cap, VT_ERR_EVLOG_AAEL_ENTRY);
        i++;
    }
    ENSURE(i >= 1 && i < left, VT_ERR_EVLOG_AAEL_ENTRY); /* non-empty, a space follows */
    *out = (const char *)p;
    *n = i;
    return vti_cur_skip(c, i + 1);
}

/* "<domain> <operation> <content>": the content is the rest, printable, spaces allowed (not
 * a leading one: the separator is a single space), no line feed. */
static vt_res entry_text(struct vt_cur *c, struct vt_aael_entry *e)
{
    GUARD(field(c, VT_AAEL_MAX_DOMAIN, &e->domain, &e->domain_len));
    GUARD(field(c, VT_AAEL_MAX_OPERATION, &e->operation, &e->operation_len));
    size_t n = vti_cur_left(c);
    const uint8_t *p = vti_cur_pos(c);
    ENSURE(n >= 1 && n <= VT_AAEL_MAX_CONTENT && p[0] != ' ', VT_ERR_EVLOG_AAEL_ENTRY);
    for (size_t i = 0; i < n; i++)
        ENSURE(printable(p[i]), VT_ERR_EVLOG_AAEL_ENTRY);
    e->content = (const char *)p;
    e->content_len = n;
    return vti_cur_skip(c, n);
}

static vt_res parse(const uint8_t *data, size_t len, struct vt_aael_entry *out)
{
    struct vt_cur c = vti_cur_init(data, len);
    uint32_t id = 0, size = 0;
    ENSURE(vti_is_ok(vti_cur_u32le(&c, &id)) && id == VT_AAEL_TAG_ID, VT_ERR_EVLOG_AAEL_TAG);
    ENSURE(vti_is_ok(vti_cur_u32le(&c, &size)) && size == vti_cur_left(&c),
           VT_ERR_EVLOG_AAEL_TAG);
    GUARD(entry_text(&c, out));
    return vti_cur_done(&c);
}

vt_res vti_aael_parse(const uint8_t *data, size_t len, struct vt_aael_entry *out)
{
    memset(out, 0, sizeof(*out));
    vt_res r = parse(data, len, out);
    if (!vti_is_ok(r))
        memset(out, 0, sizeof(*out));
    return r;
}
