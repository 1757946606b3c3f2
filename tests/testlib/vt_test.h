/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vt_test.h - a small test harness. Every CHECK counts; a test binary ends with the line
 * "N passed, N failed" and exits non-zero on any failure. NDEBUG is never defined here.
 */
#ifndef VT_TEST_H
#define VT_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/result.h"
#include "veritee/veritee.h"

extern int vt_test_passed, vt_test_failed;

#define CHECK(cond)                                                                         \
    do {                                                                                    \
        if (cond) {                                                                         \
            vt_test_passed++;                                                               \
        } else {                                                                            \
            vt_test_failed++;                                                               \
            fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);                 \
        }                                                                                   \
    } while (0)

/* expr yields vt_res or an int error code; code is the expected VT_ERR_* (or VT_OK). */
#define CHECK_ERR(expr, code)                                                               \
    do {                                                                                    \
        int got_ = vt_test_code_(expr);                                                     \
        if (got_ == (int)(code)) {                                                          \
            vt_test_passed++;                                                               \
        } else {                                                                            \
            vt_test_failed++;                                                               \
            fprintf(stderr, "FAIL %s:%d: %s: got %s (%d), want %s (%d)\n", __FILE__,        \
                    __LINE__, #expr, vt_errname(got_), got_, vt_errname(code), (int)(code)); \
        }                                                                                   \
    } while (0)
#define CHECK_OK(expr) CHECK_ERR(expr, VT_OK)

static inline int vt_test_code_res(vt_res r) { return r.err; }
static inline int vt_test_code_int(int r) { return r; }
#define vt_test_code_(x) _Generic((x), vt_res: vt_test_code_res, default: vt_test_code_int)(x)

/* Path of a file in the shared test data ($VERITEE_TESTDATA or ../shared/testdata). */
const char *vt_testdata(const char *rel);
/* Read a test data file (aborts the test with a message if missing). */
struct vt_buf vt_testdata_read(const char *rel);
/* The DER of the first certificate (vt_testdata_cert_der) or of the public key
 * (vt_testdata_spki_der) in a PEM test data file; a failure is counted (CHECK) and the
 * buffer is then empty. */
struct vt_buf vt_testdata_cert_der(const char *rel);
struct vt_buf vt_testdata_spki_der(const char *rel);
/* Write b to path (aborts the test with a message on failure). */
void vt_test_write_file(const char *path, const struct vt_buf *b);
/* The parsed shared cases.json (json_decref it). NULL after counting a failure if it is missing
 * or malformed. */
struct json_t *vt_test_cases(void);
/* A fresh temporary directory for this test (removed by the OS; path static). */
const char *vt_test_tmpdir(void);
/* A sim TEE directory (`veritee sim init`) at vt_test_tmpdir()/NAME into dir, its root CA
 * written to dir/root-ca.pem into root (mode 0644). The sim attester, or NULL after a counted
 * failure. */
struct vt_attester_ops;
const struct vt_attester_ops *vt_test_sim_dir(const char *name, char *dir, size_t dir_len,
                                              char *root, size_t root_len);
/* Print the summary line and return the exit status. */
int vt_test_done(void);

#endif
