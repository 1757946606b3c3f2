/* SPDX-License-Identifier: Apache-2.0 */
/*
 * result.h - the internal result type and guard macros.
 *
 * vt_res is a one-field struct so that it cannot be mixed up with an int, and every function
 * returning it is warn_unused_result: a dropped error in a verifier is an accepted quote.
 * vti_fail() records file:line in a thread-local slot for debugging (never shown to peers).
 */
#ifndef VT_UTIL_RESULT_H
#define VT_UTIL_RESULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "veritee/errors.h"

typedef struct { int err; } vt_res;

#define VT_RESULT __attribute__((warn_unused_result)) vt_res
#define VTI_API __attribute__((visibility("default")))

vt_res vti_fail(int err, const char *file, int line);
static inline vt_res vti_ok(void) { return (vt_res){0}; }
static inline bool vti_is_ok(vt_res r) { return r.err == 0; }

/* Where the most recent vti_fail() of this thread happened (for --explain and debugging). */
const char *vti_last_fail_site(void);

/* Records the failure site; the error value itself is built inline below so that the
 * compiler sees a non-zero constant on every failure path (no false "maybe uninitialized"). */
void vti_note_fail(const char *file, int line);
static inline int vti_errval_(int e) { return e ? e : (int)VT_ERR_INTERNAL; }
#define VT_ERRVAL_(e) vti_errval_((int)(e))
#define VT_FAIL(e) (vti_note_fail(__FILE__, __LINE__), (vt_res){ VT_ERRVAL_(e) })
#define ENSURE(c, e) do { if (!(c)) return VT_FAIL(e); } while (0)
#define GUARD(x) do { vt_res r_ = (x); if (r_.err) return r_; } while (0)
/* OpenSSL: only 1 means success. */
#define GUARD_OSSL(x, e) ENSURE((x) == 1, (e))
/* Jump forward to a cleanup label, keeping the error. */
#define GUARD_GOTO(x, res, label) do { (res) = (x); if ((res).err) goto label; } while (0)
#define ENSURE_GOTO(c, e, res, label) \
    do { if (!(c)) { (res) = VT_FAIL(e); goto label; } } while (0)

#define VT_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* The one sanctioned way to drop const (-Wcast-qual is on): for free() of memory we own but
 * hold through a const pointer, and for C APIs (OpenSSL, jansson, libmicrohttpd) that take a
 * non-const pointer to data they only read. Never to write through. */
static inline void *vti_unconst(const void *p)
{
    return (void *)(uintptr_t)p;
}

#endif
