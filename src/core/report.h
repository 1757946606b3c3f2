/* SPDX-License-Identifier: Apache-2.0 */
/*
 * report.h - the verification report (claims + ordered checks) that verifiers fill in.
 */
#ifndef VT_CORE_REPORT_H
#define VT_CORE_REPORT_H

#include "util/buf.h"
#include "veritee/veritee.h"

#define VT_MAX_CLAIMS 1024 /* nvidia: ~72 claims per GPU, up to 8 GPUs */
#define VT_MAX_STEPS 256

struct vt_claims {
    size_t n;
    struct vt_claim c[VT_MAX_CLAIMS];
};

struct vt_report {
    bool verified;
    bool insecure;
    char tee[16];
    char tcb_status[64];         /* empty = none */
    int err;
    char errmsg[256];
    uint8_t report_data[64];     /* as found in the evidence */
    bool has_report_data;
    bool report_data_checked;    /* the verifier compared opts->report_data itself */
    struct vt_claims claims;
    size_t nsteps;
    struct vt_step steps[VT_MAX_STEPS];
};

struct vt_report *vti_report_new(void);
/* Record one check. ok: 1 ok, 0 failed, -1 info. The text is copied. */
void vti_report_step(struct vt_report *r, int ok, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void vti_report_set_tee(struct vt_report *r, const char *tee);
void vti_report_set_tcb_status(struct vt_report *r, const char *status);
/* Set the error (keeps the first) with an optional detail appended to vt_strerror(err). */
void vti_report_fail(struct vt_report *r, int err, const char *detail_fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Claims: name and values are copied. Adding an existing name replaces it. */
VT_RESULT vti_claim_bool(struct vt_report *r, const char *name, bool v);
VT_RESULT vti_claim_int(struct vt_report *r, const char *name, int64_t v);
VT_RESULT vti_claim_str(struct vt_report *r, const char *name, const char *v);
VT_RESULT vti_claim_bytes(struct vt_report *r, const char *name, const uint8_t *p, size_t n);
VT_RESULT vti_claim_strlist(struct vt_report *r, const char *name, const char *const *v, size_t n);

#endif
