/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kbs_eventlog.c - cc_eventlog of KBS tdx evidence replayed against the quote (see
 * kbs_eventlog.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/report.h"
#include "evidence/eventlog.h"
#include "kbs/kbs_eventlog.h"
#include "proto/json.h"
#include "verifiers/eventlog_check.h"

/* One eventlog.* claim into the report: bool, int, string; an array as its compact JSON. */
static vt_res add_claim(vt_report *rep, const char *name, const json_t *v)
{
    if (json_is_boolean(v))
        return vti_claim_bool(rep, name, json_is_true(v));
    if (json_is_integer(v))
        return vti_claim_int(rep, name, json_integer_value(v));
    if (json_is_string(v))
        return vti_claim_str(rep, name, json_string_value(v));
    char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    ENSURE(s, VT_ERR_NOMEM);
    vt_res r = vti_claim_str(rep, name, s);
    free(s);
    return r;
}

static vt_res add_claims(vt_report *rep, const json_t *claims)
{
    const char *k;
    json_t *v;
    json_object_foreach(vti_unconst(claims), k, v) {
        GUARD(add_claim(rep, k, v));
    }
    return vti_ok();
}

/* The replay of the decoded log against rep; the claims into rep. */
static int check_log(const struct vt_buf *log, vt_report *rep, char *why, size_t wl)
{
    struct vt_evlog_check c;
    char reg[16];
    vt_res r = vti_evlog_check_report(rep, log->p, log->len, 0, &c);
    if (r.err == VT_ERR_EVLOG_RTMR_MISMATCH) {
        snprintf(why, wl, "cc_eventlog replay does not match the quote: %s (%s)",
                 vti_evlog_check_register(&c, reg), vt_errname(r.err));
        return VT_ERR_KBS_EVENTLOG_MISMATCH;
    }
    if (r.err) {
        snprintf(why, wl, "cc_eventlog refused: %s (%s)", vt_strerror(r.err), vt_errname(r.err));
        return VT_ERR_KBS_EVENTLOG;
    }
    if (c.format != VT_EVLOG_CCEL)
        r = VT_FAIL(VT_ERR_EVLOG_FORMAT);
    if (!r.err)
        r = add_claims(rep, c.claims);
    json_decref(c.claims);
    if (r.err)
        snprintf(why, wl, "cc_eventlog claims: %s (%s)", vt_strerror(r.err), vt_errname(r.err));
    return r.err ? VT_ERR_KBS_EVENTLOG : 0;
}

int vtk_tdx_eventlog(const json_t *ev, vt_report *rep, char *why, size_t wl)
{
    const json_t *el = json_object_get(ev, "cc_eventlog");
    if (!el || json_is_null(el) || (json_is_string(el) && json_string_length(el) == 0))
        return 0;
    struct vt_buf log = VT_BUF_INIT;
    if (!json_is_string(el) || vtp_json_bytes(el, VT_EVLOG_MAX_LEN, &log).err) {
        vti_buf_free(&log);
        snprintf(why, wl, "cc_eventlog must be base64 of at most 16 MiB");
        return VT_ERR_KBS_EVENTLOG;
    }
    int code = check_log(&log, rep, why, wl);
    vti_buf_free(&log);
    return code;
}
