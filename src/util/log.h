/* SPDX-License-Identifier: Apache-2.0 */
/*
 * log.h - library logging that a user can redirect or silence.
 *
 * The library logs nothing above debug by default; the sink is process-wide and set once
 * (vt_log_set in the public API). Never pass secrets or whole evidence to these functions.
 */
#ifndef VT_UTIL_LOG_H
#define VT_UTIL_LOG_H

#include "veritee/veritee.h"

void vti_log(enum vt_log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define VT_DEBUG(...) vti_log(VT_LOG_DEBUG, __VA_ARGS__)
#define VT_INFO(...) vti_log(VT_LOG_INFO, __VA_ARGS__)
#define VT_WARN(...) vti_log(VT_LOG_WARN, __VA_ARGS__)
#define VT_ERROR(...) vti_log(VT_LOG_ERROR, __VA_ARGS__)

#endif
