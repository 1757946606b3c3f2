/* SPDX-License-Identifier: Apache-2.0 */
/*
 * log.c - the log sink. Default: warnings and errors to stderr; VERITEE_LOG=debug|info|warn|
 * error|off changes the level. A library user may install its own sink or silence it.
 */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"
#include "util/result.h"

struct sink {
    vt_log_fn fn;
    void *arg;
};

static _Atomic int log_level = -1;
static _Atomic(struct sink *) log_sink;

VTI_API void vt_log_set(vt_log_fn fn, void *arg, enum vt_log_level min_level)
{
    static struct sink sinks[2];
    static _Atomic int which;
    int w = atomic_fetch_add(&which, 1) & 1;
    sinks[w].fn = fn;
    sinks[w].arg = arg;
    atomic_store(&log_sink, fn ? &sinks[w] : NULL);
    atomic_store(&log_level, (int)min_level);
}

static int default_level(void)
{
    const char *e = getenv("VERITEE_LOG");
    if (!e)
        return VT_LOG_WARN;
    if (!strcmp(e, "debug"))
        return VT_LOG_DEBUG;
    if (!strcmp(e, "info"))
        return VT_LOG_INFO;
    if (!strcmp(e, "error"))
        return VT_LOG_ERROR;
    if (!strcmp(e, "off"))
        return VT_LOG_OFF;
    return VT_LOG_WARN;
}

void vti_log(enum vt_log_level lvl, const char *fmt, ...)
{
    int min = atomic_load(&log_level);
    if (min < 0) {
        min = default_level();
        int expect = -1;
        atomic_compare_exchange_strong(&log_level, &expect, min);
    }
    if ((int)lvl < min || min >= VT_LOG_OFF)
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    struct sink *s = atomic_load(&log_sink);
    if (s && s->fn) {
        s->fn(lvl, msg, s->arg);
        return;
    }
    static const char *const names[] = { "debug", "info", "warn", "error" };
    fprintf(stderr, "veritee: %s: %s\n", names[lvl <= VT_LOG_ERROR ? lvl : VT_LOG_ERROR], msg);
}
