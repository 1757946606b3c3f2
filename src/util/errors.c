/* SPDX-License-Identifier: Apache-2.0 */
/*
 * errors.c - the error table (built from include/veritee/errors/<module>.def) and vti_fail().
 */
#include <stdio.h>

#include "util/result.h"

struct err_row {
    int code;
    vt_category cat;
    const char *name;
    const char *msg;
};

static const struct err_row err_rows[] = {
    { VT_OK, VT_CAT_NONE, "VT_OK", "success" },
#define VT_E(name, cat, num, msg) { (num), (cat), "VT_ERR_" #name, (msg) },
#include "veritee/errors/core.def"
#include "veritee/errors/cert.def"
#include "veritee/errors/tls.def"
#include "veritee/errors/sim.def"
#include "veritee/errors/crypto.def"
#include "veritee/errors/attester.def"
#include "veritee/errors/intel.def"
#include "veritee/errors/snp.def"
#include "veritee/errors/broker.def"
#include "veritee/errors/proto.def"
#include "veritee/errors/tpm.def"
#include "veritee/errors/nvidia.def"
#undef VT_E
};

static const struct err_row *find(int code)
{
    for (size_t i = 0; i < VT_ARRAY_LEN(err_rows); i++)
        if (err_rows[i].code == code)
            return &err_rows[i];
    return NULL;
}

VTI_API const char *vt_strerror(int code)
{
    const struct err_row *r = find(code);
    return r ? r->msg : "unknown error";
}

VTI_API const char *vt_errname(int code)
{
    const struct err_row *r = find(code);
    return r ? r->name : "VT_ERR_UNKNOWN";
}

VTI_API vt_category vt_err_category(int code)
{
    const struct err_row *r = find(code);
    return r ? r->cat : VT_CAT_INTERNAL;
}

VTI_API const char *vt_category_name(vt_category cat)
{
    static const char *const names[] = { "none", "usage", "io", "parse", "crypto",
        "trust", "tcb", "policy", "tls", "internal" };
    if ((unsigned)cat < VT_ARRAY_LEN(names))
        return names[cat];
    return "unknown";
}

static _Thread_local char fail_site[128];

void vti_note_fail(const char *file, int line)
{
    snprintf(fail_site, sizeof(fail_site), "%s:%d", file, line);
}

vt_res vti_fail(int err, const char *file, int line)
{
    vti_note_fail(file, line);
    return (vt_res){ err ? err : VT_ERR_INTERNAL };
}

const char *vti_last_fail_site(void)
{
    return fail_site;
}
