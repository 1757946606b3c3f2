/* SPDX-License-Identifier: Apache-2.0 */
/*
 * eventlog_fuzz.c - fuzz target for the event log parser and replay (vti_evlog_parse,
 * vti_evlog_next, vti_evlog_replay): the input as a crypto-agile TCG log, as a TCG log with
 * legacy SHA-1 allowed, and as a CCEL log. An accepted log must iterate to exactly its event
 * count with every view inside the input, replay, describe every event's data (a
 * NUL-terminated string within the buffer) and give claims for every register (AAEL
 * entries of CCEL logs included). The input is also parsed as one AAEL tagged event
 * (vti_aael_parse): an accepted entry's fields lie inside the input, within their caps, and
 * a refused one leaves the entry zeroed.
 */
#include <stdlib.h>
#include <string.h>

#include "evidence/eventlog.h"
#include "evidence/eventlog_aael.h"
#include "evidence/eventlog_claims.h"
#include "evidence/eventlog_data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool inside(const uint8_t *v, size_t n, const uint8_t *data, size_t size)
{
    return v >= data && n <= size && (size_t)(v - data) <= size - n;
}

static void check_events(const struct vt_evlog *log, const uint8_t *data, size_t size)
{
    struct vt_evlog_iter it;
    struct vt_evlog_event ev;
    uint32_t n = 0;
    vti_evlog_iter_init(log, &it);
    while (vti_evlog_next(&it, &ev)) {
        if (ev.seq != n++ || (ev.data_len && !inside(ev.data, ev.data_len, data, size)))
            abort();
        char desc[64];
        if (vti_evlog_describe(&ev, desc, sizeof(desc)) && memchr(desc, 0, sizeof(desc)) == NULL)
            abort();
        for (uint32_t i = 0; i < log->n_algs; i++)
            if (!ev.digest[i] || !inside(ev.digest[i], log->algs[i].size, data, size))
                abort();
    }
    if (n != log->n_events || log->events_end > size || log->n_events > VT_EVLOG_MAX_EVENTS)
        abort();
}

static void one(const uint8_t *data, size_t size, enum vt_evlog_format f, uint32_t opts)
{
    struct vt_evlog log;
    struct vt_evlog_replay r;
    if (vti_evlog_parse(data, size, f, opts, &log).err != 0)
        return;
    check_events(&log, data, size);
    if (vti_evlog_replay(&log, &r).err != 0 || r.n_banks > log.n_algs)
        abort();
    json_t *cl = NULL;
    if (r.n_banks > 0 && vti_evlog_claims(&log, r.bank[0].alg, 0xffffffu, &cl).err == 0) {
        if (!json_is_object(cl))
            abort();
        json_decref(cl);
    }
}

static void aael(const uint8_t *data, size_t size)
{
    struct vt_aael_entry e;
    if (vti_aael_parse(data, size, &e).err != 0) {
        if (e.domain || e.operation || e.content || e.content_len)
            abort();
        return;
    }
    if (!inside((const uint8_t *)e.domain, e.domain_len, data, size) ||
        !inside((const uint8_t *)e.operation, e.operation_len, data, size) ||
        !inside((const uint8_t *)e.content, e.content_len, data, size) ||
        e.domain_len == 0 || e.domain_len > VT_AAEL_MAX_DOMAIN || e.operation_len == 0 ||
        e.operation_len > VT_AAEL_MAX_OPERATION || e.content_len == 0 ||
        e.content_len > VT_AAEL_MAX_CONTENT || memchr(e.content, '\n', e.content_len))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    aael(data, size);
    one(data, size, VT_EVLOG_TCG, 0);
    one(data, size, VT_EVLOG_TCG, VT_EVLOG_ALLOW_SHA1);
    one(data, size, VT_EVLOG_CCEL, 0);
    (void)vti_evlog_guess_format(data, size);
    return 0;
}
