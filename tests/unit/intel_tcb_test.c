/* SPDX-License-Identifier: Apache-2.0 */
/*
 * intel_tcb_test.c - the Intel TCB evaluation (src/verifiers/intel_tcb.c), table-driven:
 * one row per TCB status reached through the SGX level walk, the QE status merge, the TDX
 * module identity (tdxModule for major version 0, TDX_%02X otherwise), which TEE_TCB_SVN
 * components are compared (0-1 against tdxtcbcomponents only when the major version is 0;
 * otherwise the module identity's levels judge the module), the module status merge, TD 1.5
 * relaunch advice, and every error. Each row asserts error, statuses, module, advisories and
 * date exactly. Also the QE identity match (vti_intel_qe_eval).
 */
#include <string.h>

#include "verifiers/intel_tcb.h"
#include "vt_test.h"

#define UTD VT_ISTAT_UP_TO_DATE
#define SWH VT_ISTAT_SW_HARDENING_NEEDED
#define CFG VT_ISTAT_CONFIGURATION_NEEDED
#define CSW VT_ISTAT_CONFIGURATION_AND_SW_HARDENING_NEEDED
#define OOD VT_ISTAT_OUT_OF_DATE
#define OCF VT_ISTAT_OUT_OF_DATE_CONFIGURATION_NEEDED
#define REV VT_ISTAT_REVOKED
#define TRA VT_ISTAT_TD_RELAUNCH_ADVISED
#define TRC VT_ISTAT_TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED

static void level(struct vt_intel_level *l, enum vt_intel_status st, const char *date,
                  const char *adv1, const char *adv2)
{
    memset(l, 0, sizeof(*l));
    l->status = st;
    snprintf(l->date, sizeof(l->date), "%s", date);
    if (adv1)
        snprintf(l->adv[l->n_adv++], sizeof(l->adv[0]), "%s", adv1);
    if (adv2)
        snprintf(l->adv[l->n_adv++], sizeof(l->adv[0]), "%s", adv2);
}

/* SGX TCB Info: level i needs every SGX component >= 7 - i and PCESVN >= 2; one status
 * per level, newest first. */
static void sgx_info(struct vt_intel_tcb_info *t)
{
    static const enum vt_intel_status st[7] = { UTD, SWH, CFG, CSW, OOD, OCF, REV };
    static const char *const a1[7] = { NULL, "INTEL-SA-00001", "INTEL-SA-00002",
                                       "INTEL-SA-00001", "INTEL-SA-00004", "INTEL-SA-00004",
                                       "INTEL-SA-00006" };
    static const char *const a2[7] = { NULL, NULL, NULL, "INTEL-SA-00003", NULL,
                                       "INTEL-SA-00005", NULL };
    memset(t, 0, sizeof(*t));
    t->n_levels = 7;
    for (int i = 0; i < 7; i++) {
        char date[32];
        snprintf(date, sizeof(date), "2024-0%d-01T00:00:00Z", 7 - i);
        level(&t->levels[i], st[i], date, a1[i], a2[i]);
        memset(t->levels[i].sgx, 7 - i, 16);
        t->levels[i].pcesvn = 2;
    }
}

/* TDX TCB Info: every level needs SGX components >= 3 (T2: >= 1), PCESVN >= 2, and
 *   T0 UpToDate:  TEE_TCB_SVN[0] >= 3, [1] >= 0, [2..15] >= 5
 *   T1 OutOfDate: [0] >= 2, [2..15] >= 3          (INTEL-SA-00011)
 *   T2 Revoked:   [2..15] >= 1                    (INTEL-SA-00012)
 * tdxModule: MRSIGNER 00.., attributes 0; TDX_01 (MRSIGNER 00..) levels: ISVSVN 4 UpToDate,
 * 2 OutOfDate (INTEL-SA-09002), 1 Revoked; TDX_03 (id in lower case) ISVSVN 6 UpToDate. */
static void tdx_info(struct vt_intel_tcb_info *t, enum vt_intel_status t0)
{
    memset(t, 0, sizeof(*t));
    t->is_tdx = true;
    t->n_levels = 3;
    level(&t->levels[0], t0, "2025-03-01T00:00:00Z", NULL, NULL);
    level(&t->levels[1], OOD, "2025-02-01T00:00:00Z", "INTEL-SA-00011", NULL);
    level(&t->levels[2], REV, "2025-01-01T00:00:00Z", "INTEL-SA-00012", NULL);
    static const uint8_t sgx[3] = { 3, 3, 1 }, t0v[3] = { 3, 2, 0 }, rest[3] = { 5, 3, 1 };
    for (int i = 0; i < 3; i++) {
        struct vt_intel_level *l = &t->levels[i];
        memset(l->sgx, sgx[i], 16);
        l->pcesvn = 2;
        l->has_tdx = true;
        memset(l->tdx, rest[i], 16);
        l->tdx[0] = t0v[i];
        l->tdx[1] = 0;
    }
    t->has_module = true;
    snprintf(t->module.id, sizeof(t->module.id), "tdxModule");
    t->module.attributes_mask = ~0ull;
    t->n_modules = 2;
    struct vt_intel_module_id *m = &t->modules[0];
    snprintf(m->id, sizeof(m->id), "TDX_01");
    m->attributes_mask = ~0ull;
    m->n_levels = 3;
    level(&m->levels[0], UTD, "2025-03-01T00:00:00Z", NULL, NULL);
    m->levels[0].isvsvn = 4;
    level(&m->levels[1], OOD, "2025-02-01T00:00:00Z", "INTEL-SA-09002", NULL);
    m->levels[1].isvsvn = 2;
    level(&m->levels[2], REV, "2025-01-01T00:00:00Z", NULL, NULL);
    m->levels[2].isvsvn = 1;
    m = &t->modules[1];
    snprintf(m->id, sizeof(m->id), "tdx_03");
    m->attributes_mask = ~0ull;
    m->n_levels = 1;
    level(&m->levels[0], UTD, "2025-03-01T00:00:00Z", NULL, NULL);
    m->levels[0].isvsvn = 6;
}

struct row {
    const char *name;
    bool tdx;
    uint8_t comp;                /* every SGX component of the PCK certificate */
    uint16_t pcesvn;
    uint8_t comp15;              /* 0: = comp; else component 15 (index) */
    enum vt_intel_status qe;     /* QE identity level status */
    const char *qe_adv;
    /* TDX */
    enum vt_intel_status t0;     /* status of T0 (0: UpToDate) */
    uint8_t svn[3];              /* TEE_TCB_SVN[0], [1], and [2..15] */
    bool has_svn2;
    uint8_t svn2[3];             /* TEE_TCB_SVN2[0], [1], and [2..15] */
    bool bad_mrsigner;
    uint64_t seam_attributes;
    /* expected */
    int err;
    enum vt_intel_status status, platform;
    const char *module;          /* module_name ("" for SGX) */
    const char *module_status;   /* NULL: no module level */
    bool relaunch;
    const char *adv;             /* comma-joined */
    const char *date;
    uint8_t t0_tdx1;             /* T0's tdxtcbcomponents[1] (else 0) */
};

static const struct row rows[] = {
    /* SGX: one row per status of the level walk, and no level */
    { "sgx UpToDate", false, 7, 2, 0, UTD, NULL, 0, {0}, false, {0}, false, 0,
      VT_OK, UTD, UTD, "", NULL, false, "", "2024-07-01T00:00:00Z", 0 },
    { "sgx SWHardeningNeeded", false, 6, 2, 0, UTD, NULL, 0, {0}, false, {0}, false, 0,
      VT_OK, SWH, SWH, "", NULL, false, "INTEL-SA-00001", "2024-06-01T00:00:00Z", 0 },
    { "sgx ConfigurationNeeded", false, 5, 9, 0, UTD, NULL, 0, {0}, false, {0}, false, 0,
      VT_OK, CFG, CFG, "", NULL, false, "INTEL-SA-00002", "2024-05-01T00:00:00Z", 0 },
    { "sgx ConfigurationAndSWHardeningNeeded", false, 4, 2, 0, UTD, NULL, 0, {0}, false, {0},
      false, 0, VT_OK, CSW, CSW, "", NULL, false, "INTEL-SA-00001,INTEL-SA-00003",
      "2024-04-01T00:00:00Z", 0 },
    { "sgx OutOfDate", false, 3, 2, 0, UTD, NULL, 0, {0}, false, {0}, false, 0,
      VT_OK, OOD, OOD, "", NULL, false, "INTEL-SA-00004", "2024-03-01T00:00:00Z", 0 },
    { "sgx OutOfDateConfigurationNeeded", false, 2, 2, 0, UTD, NULL, 0, {0}, false, {0}, false,
      0, VT_OK, OCF, OCF, "", NULL, false, "INTEL-SA-00004,INTEL-SA-00005",
      "2024-02-01T00:00:00Z", 0 },
    { "sgx Revoked", false, 1, 2, 0, UTD, NULL, 0, {0}, false, {0}, false, 0,
      VT_OK, REV, REV, "", NULL, false, "INTEL-SA-00006", "2024-01-01T00:00:00Z", 0 },
    { "sgx no level: components", false, 0, 2, 0, UTD, NULL, 0, {0}, false, {0}, false, 0,
      VT_ERR_INTEL_TCB_NOT_SUPPORTED, VT_ISTAT_NONE, VT_ISTAT_NONE, "", NULL, false, "", NULL, 0 },
    { "sgx no level: PCESVN", false, 7, 1, 0, UTD, NULL, 0, {0}, false, {0}, false, 0,
      VT_ERR_INTEL_TCB_NOT_SUPPORTED, VT_ISTAT_NONE, VT_ISTAT_NONE, "", NULL, false, "", NULL, 0 },
    { "sgx one component low -> next level", false, 7, 2, 6, UTD, NULL, 0, {0}, false, {0},
      false, 0, VT_OK, SWH, SWH, "", NULL, false, "INTEL-SA-00001", "2024-06-01T00:00:00Z", 0 },
    /* SGX: QE status merge, advisories of the QE level after the platform's, no duplicates */
    { "sgx QE OutOfDate on UpToDate", false, 7, 2, 0, OOD, "INTEL-SA-00100", 0, {0}, false,
      {0}, false, 0, VT_OK, OOD, UTD, "", NULL, false, "INTEL-SA-00100",
      "2024-07-01T00:00:00Z", 0 },
    { "sgx QE OutOfDate on SWHardeningNeeded", false, 6, 2, 0, OOD, "INTEL-SA-00001", 0, {0},
      false, {0}, false, 0, VT_OK, OOD, SWH, "", NULL, false, "INTEL-SA-00001",
      "2024-06-01T00:00:00Z", 0 },
    { "sgx QE OutOfDate on ConfigurationNeeded", false, 5, 2, 0, OOD, NULL, 0, {0}, false,
      {0}, false, 0, VT_OK, OCF, CFG, "", NULL, false, "INTEL-SA-00002",
      "2024-05-01T00:00:00Z", 0 },
    { "sgx QE OutOfDate on ConfigurationAndSWHardeningNeeded", false, 4, 2, 0, OOD, NULL, 0,
      {0}, false, {0}, false, 0, VT_OK, OCF, CSW, "", NULL, false,
      "INTEL-SA-00001,INTEL-SA-00003", "2024-04-01T00:00:00Z", 0 },
    { "sgx QE OutOfDate on OutOfDateConfigurationNeeded", false, 2, 2, 0, OOD, NULL, 0, {0},
      false, {0}, false, 0, VT_OK, OCF, OCF, "", NULL, false, "INTEL-SA-00004,INTEL-SA-00005",
      "2024-02-01T00:00:00Z", 0 },
    { "sgx QE Revoked", false, 7, 2, 0, REV, NULL, 0, {0}, false, {0}, false, 0,
      VT_OK, REV, UTD, "", NULL, false, "", "2024-07-01T00:00:00Z", 0 },
    { "sgx QE SWHardeningNeeded is not merged", false, 7, 2, 0, SWH, "INTEL-SA-00200", 0, {0},
      false, {0}, false, 0, VT_OK, UTD, UTD, "", NULL, false, "INTEL-SA-00200",
      "2024-07-01T00:00:00Z", 0 },

    /* TDX, major version 0: tdxModule, components 0-1 compared against tdxtcbcomponents */
    { "tdx tdxModule UpToDate", true, 3, 2, 0, UTD, NULL, 0, {3, 0, 5}, false, {0}, false, 0,
      VT_OK, UTD, UTD, "tdxModule", NULL, false, "", "2025-03-01T00:00:00Z", 0 },
    { "tdx tdxModule: [0] below T0 -> T1", true, 3, 2, 0, UTD, NULL, 0, {2, 0, 5}, false, {0},
      false, 0, VT_OK, OOD, OOD, "tdxModule", NULL, false, "INTEL-SA-00011",
      "2025-02-01T00:00:00Z", 0 },
    { "tdx tdxModule: [2..] below T0 -> T1", true, 3, 2, 0, UTD, NULL, 0, {3, 0, 4}, false,
      {0}, false, 0, VT_OK, OOD, OOD, "tdxModule", NULL, false, "INTEL-SA-00011",
      "2025-02-01T00:00:00Z", 0 },
    { "tdx SGX part low -> T2 Revoked", true, 2, 2, 0, UTD, NULL, 0, {3, 0, 5}, false, {0},
      false, 0, VT_OK, REV, REV, "tdxModule", NULL, false, "INTEL-SA-00012",
      "2025-01-01T00:00:00Z", 0 },
    { "tdx no level (TDX part)", true, 3, 2, 0, UTD, NULL, 0, {3, 0, 0}, false, {0}, false, 0,
      VT_ERR_INTEL_TCB_NOT_SUPPORTED, VT_ISTAT_NONE, VT_ISTAT_NONE, "tdxModule", NULL, false,
      "", NULL, 0 },
    { "tdx tdxModule MRSIGNERSEAM differs", true, 3, 2, 0, UTD, NULL, 0, {3, 0, 5}, false, {0},
      true, 0, VT_ERR_INTEL_TDX_MODULE_MISMATCH, VT_ISTAT_NONE, VT_ISTAT_NONE, "tdxModule",
      NULL, false, "", NULL, 0 },
    { "tdx SEAMATTRIBUTES not zero", true, 3, 2, 0, UTD, NULL, 0, {3, 0, 5}, false, {0}, false,
      1, VT_ERR_INTEL_TDX_MODULE_MISMATCH, VT_ISTAT_NONE, VT_ISTAT_NONE, "tdxModule", NULL,
      false, "", NULL, 0 },
    /* TDX, major version 1: TDX_01, components 0-1 not compared, module level merged */
    { "tdx TDX_01 UpToDate", true, 3, 2, 0, UTD, NULL, 0, {4, 1, 5}, false, {0}, false, 0,
      VT_OK, UTD, UTD, "TDX_01", "UpToDate", false, "", "2025-03-01T00:00:00Z", 0 },
    { "tdx TDX_01: [0] not compared with T0", true, 3, 2, 0, UTD, NULL, 0, {2, 1, 5}, false,
      {0}, false, 0, VT_OK, OOD, UTD, "TDX_01", "OutOfDate", false, "INTEL-SA-09002",
      "2025-03-01T00:00:00Z", 0 },
    { "tdx TDX_01 OutOfDate on ConfigurationNeeded", true, 3, 2, 0, UTD, NULL, CFG, {2, 1, 5},
      false, {0}, false, 0, VT_OK, OCF, CFG, "TDX_01", "OutOfDate", false, "INTEL-SA-09002",
      "2025-03-01T00:00:00Z", 0 },
    { "tdx TDX_01 Revoked", true, 3, 2, 0, UTD, NULL, 0, {1, 1, 5}, false, {0}, false, 0,
      VT_OK, REV, UTD, "TDX_01", "Revoked", false, "", "2025-03-01T00:00:00Z", 0 },
    { "tdx TDX_01 below every module level", true, 3, 2, 0, UTD, NULL, 0, {0, 1, 5}, false, {0},
      false, 0, VT_ERR_INTEL_TDX_MODULE_NOT_SUPPORTED, VT_ISTAT_NONE, VT_ISTAT_NONE, "TDX_01",
      NULL, false, "", NULL, 0 },
    { "tdx TDX_02 missing", true, 3, 2, 0, UTD, NULL, 0, {4, 2, 5}, false, {0}, false, 0,
      VT_ERR_INTEL_TDX_MODULE_MISMATCH, VT_ISTAT_NONE, VT_ISTAT_NONE, "TDX_02", NULL, false, "",
      NULL, 0 },
    { "tdx TDX_03 (id matched case-insensitively)", true, 3, 2, 0, UTD, NULL, 0, {6, 3, 5},
      false, {0}, false, 0, VT_OK, UTD, UTD, "TDX_03", "UpToDate", false, "",
      "2025-03-01T00:00:00Z", 0 },
    { "tdx TDX_01 MRSIGNERSEAM differs", true, 3, 2, 0, UTD, NULL, 0, {4, 1, 5}, false, {0},
      true, 0, VT_ERR_INTEL_TDX_MODULE_MISMATCH, VT_ISTAT_NONE, VT_ISTAT_NONE, "TDX_01", NULL,
      false, "", NULL, 0 },
    { "tdx module OutOfDate and QE OutOfDate", true, 3, 2, 0, OOD, "INTEL-SA-00100", 0,
      {2, 1, 5}, false, {0}, false, 0, VT_OK, OOD, UTD, "TDX_01", "OutOfDate", false,
      "INTEL-SA-09002,INTEL-SA-00100", "2025-03-01T00:00:00Z", 0 },

    /* component 1 against T0's tdxtcbcomponents[1] = 1: compared for major 0 only */
    { "tdx tdxModule: [1] below T0 -> T1", true, 3, 2, 0, UTD, NULL, 0, {3, 0, 5}, false, {0},
      false, 0, VT_OK, OOD, OOD, "tdxModule", NULL, false, "INTEL-SA-00011",
      "2025-02-01T00:00:00Z", 1 },
    { "tdx TDX_01: [1] not compared with T0", true, 3, 2, 0, UTD, NULL, 0, {4, 1, 5}, false,
      {0}, false, 0, VT_OK, UTD, UTD, "TDX_01", "UpToDate", false, "", "2025-03-01T00:00:00Z",
      5 },

    /* TD 1.5 relaunch advice: platform T1 OutOfDate, SGX level T0, module OutOfDate */
    { "tdx relaunch via TDX_01 (SVN2[1] = 1)", true, 3, 2, 0, UTD, NULL, 0, {2, 1, 4}, true,
      {4, 1, 5}, false, 0, VT_OK, TRA, OOD, "TDX_01", "OutOfDate", true,
      "INTEL-SA-00011,INTEL-SA-09002", "2025-02-01T00:00:00Z", 0 },
    { "tdx relaunch, configuration needed", true, 3, 2, 0, UTD, NULL, CFG, {2, 1, 4}, true,
      {4, 1, 5}, false, 0, VT_OK, TRC, OOD, "TDX_01", "OutOfDate", true,
      "INTEL-SA-00011,INTEL-SA-09002", "2025-02-01T00:00:00Z", 0 },
    { "tdx relaunch via T0 (SVN2[1] = 0)", true, 3, 2, 0, UTD, NULL, 0, {2, 1, 4}, true,
      {3, 0, 5}, false, 0, VT_OK, TRA, OOD, "TDX_01", "OutOfDate", true,
      "INTEL-SA-00011,INTEL-SA-09002", "2025-02-01T00:00:00Z", 0 },
    { "tdx no relaunch: SVN2 module below newest", true, 3, 2, 0, UTD, NULL, 0, {2, 1, 4},
      true, {3, 1, 5}, false, 0, VT_OK, OOD, OOD, "TDX_01", "OutOfDate", false,
      "INTEL-SA-00011,INTEL-SA-09002", "2025-02-01T00:00:00Z", 0 },
    { "tdx no relaunch: SVN2[2] below T0", true, 3, 2, 0, UTD, NULL, 0, {2, 1, 4}, true,
      {4, 1, 4}, false, 0, VT_OK, OOD, OOD, "TDX_01", "OutOfDate", false,
      "INTEL-SA-00011,INTEL-SA-09002", "2025-02-01T00:00:00Z", 0 },
    { "tdx no relaunch: TD report 1.0", true, 3, 2, 0, UTD, NULL, 0, {2, 1, 4}, false,
      {0}, false, 0, VT_OK, OOD, OOD, "TDX_01", "OutOfDate", false,
      "INTEL-SA-00011,INTEL-SA-09002", "2025-02-01T00:00:00Z", 0 },
    { "tdx no relaunch: QE OutOfDate", true, 3, 2, 0, OOD, NULL, 0, {2, 1, 4}, true,
      {4, 1, 5}, false, 0, VT_OK, OOD, OOD, "TDX_01", "OutOfDate", false,
      "INTEL-SA-00011,INTEL-SA-09002", "2025-02-01T00:00:00Z", 0 },
    { "tdx no relaunch: SGX level OutOfDate", true, 3, 2, 0, UTD, NULL, OOD, {2, 1, 4}, true,
      {4, 1, 5}, false, 0, VT_OK, OOD, OOD, "TDX_01", "OutOfDate", false,
      "INTEL-SA-00011,INTEL-SA-09002", "2025-02-01T00:00:00Z", 0 },
    { "tdx no relaunch: module UpToDate", true, 3, 2, 0, UTD, NULL, 0, {4, 1, 4}, true,
      {4, 1, 5}, false, 0, VT_OK, OOD, OOD, "TDX_01", "UpToDate", false, "INTEL-SA-00011",
      "2025-02-01T00:00:00Z", 0 },
};

static void run_row(const struct row *w)
{
    struct vt_intel_tcb_info *t = calloc(1, sizeof(*t));
    if (!t)
        abort();
    if (w->tdx)
        tdx_info(t, w->t0 ? w->t0 : UTD);
    if (w->tdx)
        t->levels[0].tdx[1] = w->t0_tdx1;
    else
        sgx_info(t);
    uint8_t comps[16], svn[16], svn2[16], mrsigner[48] = { 0 };
    memset(comps, w->comp, 16);
    if (w->comp15)
        comps[15] = w->comp15;
    memset(svn, w->svn[2], 16);
    svn[0] = w->svn[0];
    svn[1] = w->svn[1];
    memset(svn2, w->svn2[2], 16);
    svn2[0] = w->svn2[0];
    svn2[1] = w->svn2[1];
    if (w->bad_mrsigner)
        mrsigner[47] = 1;
    struct vt_intel_level ql;
    level(&ql, w->qe, "2024-01-01T00:00:00Z", w->qe_adv, NULL);
    struct vti_intel_tcb_in in = {
        .tcb = t, .comps = comps, .pcesvn = w->pcesvn, .qe = &ql, .tdx = w->tdx,
        .tee_tcb_svn = w->tdx ? svn : NULL, .mr_signer_seam = w->tdx ? mrsigner : NULL,
        .seam_attributes = w->seam_attributes, .tee_tcb_svn2 = w->has_svn2 ? svn2 : NULL,
    };
    struct vti_intel_tcb_eval e;
    vt_res r = vti_intel_tcb_eval(&in, &e);
    int before = vt_test_failed;
    CHECK_ERR(r, w->err);
    CHECK(strcmp(e.module_name, w->module) == 0);
    CHECK(w->module_status ? (e.module_level &&
                              strcmp(vti_intel_status_name(e.module_level->status),
                                     w->module_status) == 0)
                           : e.module_level == NULL);
    if (w->err == VT_OK) {
        CHECK(e.status == w->status);
        CHECK(e.level && e.level->status == w->platform);
        CHECK(e.relaunch == w->relaunch);
        CHECK(e.date && w->date && strcmp(e.date, w->date) == 0);
        char adv[256] = "";
        size_t n = 0;
        for (size_t i = 0; i < e.n_adv && n < sizeof(adv); i++)
            n += (size_t)snprintf(adv + n, sizeof(adv) - n, "%s%s", i ? "," : "", e.adv[i]);
        CHECK(strcmp(adv, w->adv) == 0);
        if (strcmp(adv, w->adv) != 0)
            fprintf(stderr, "  advisories: %s\n", adv);
    } else {
        CHECK(w->err != VT_ERR_INTEL_TCB_NOT_SUPPORTED || e.level == NULL);
        CHECK(w->err != VT_ERR_INTEL_TDX_MODULE_MISMATCH || !e.module_ok);
    }
    if (vt_test_failed != before)
        fprintf(stderr, "  (row \"%s\": status %s)\n", w->name, vti_intel_status_name(e.status));
    free(t);
}

static void qe_rows(void)
{
    struct vt_intel_qe_identity *id = calloc(1, sizeof(*id));
    if (!id)
        abort();
    id->miscselect = 0;
    id->miscselect_mask = 0xffffffff;
    memset(id->attributes_mask, 0xff, 16);
    id->attributes_mask[0] = 0xfb;   /* bit 2 ignored */
    id->attributes[0] = 0x11;
    memset(id->mrsigner, 0x8c, 32);
    id->isvprodid = 2;
    id->n_levels = 2;
    level(&id->levels[0], UTD, "2024-03-13T00:00:00Z", NULL, NULL);
    id->levels[0].isvsvn = 8;
    level(&id->levels[1], OOD, "2023-02-15T00:00:00Z", "INTEL-SA-00615", NULL);
    id->levels[1].isvsvn = 6;

    struct vt_sgx_body qe;
    memset(&qe, 0, sizeof(qe));
    qe.attributes[0] = 0x15;         /* bit 2 set: masked out */
    memset(qe.mr_signer, 0x8c, 32);
    qe.isv_prod_id = 2;
    qe.isv_svn = 8;
    struct vti_intel_qe_eval e;
    CHECK_OK(vti_intel_qe_eval(id, &qe, &e));
    CHECK(e.ok && e.level == &id->levels[0]);
    qe.isv_svn = 7;
    CHECK_OK(vti_intel_qe_eval(id, &qe, &e));
    CHECK(e.level == &id->levels[1]);
    qe.isv_svn = 5;
    CHECK_ERR(vti_intel_qe_eval(id, &qe, &e), VT_ERR_INTEL_QE_TCB_NOT_SUPPORTED);
    CHECK(e.ok && e.level == NULL);
    qe.isv_svn = 8;

    struct vt_sgx_body b = qe;
    b.miscselect = 1;
    CHECK_ERR(vti_intel_qe_eval(id, &b, &e), VT_ERR_INTEL_QE_IDENTITY_MISMATCH);
    CHECK(!e.miscselect_ok && e.attributes_ok && e.mrsigner_ok && e.isvprodid_ok);
    b = qe;
    b.attributes[0] = 0x10;
    CHECK_ERR(vti_intel_qe_eval(id, &b, &e), VT_ERR_INTEL_QE_IDENTITY_MISMATCH);
    CHECK(e.miscselect_ok && !e.attributes_ok && e.mrsigner_ok && e.isvprodid_ok);
    b = qe;
    b.mr_signer[31] ^= 1;
    CHECK_ERR(vti_intel_qe_eval(id, &b, &e), VT_ERR_INTEL_QE_IDENTITY_MISMATCH);
    CHECK(e.miscselect_ok && e.attributes_ok && !e.mrsigner_ok && e.isvprodid_ok);
    b = qe;
    b.isv_prod_id = 1;
    CHECK_ERR(vti_intel_qe_eval(id, &b, &e), VT_ERR_INTEL_QE_IDENTITY_MISMATCH);
    CHECK(e.miscselect_ok && e.attributes_ok && e.mrsigner_ok && !e.isvprodid_ok);
    CHECK(!e.ok && e.level == NULL);
    free(id);
}

int main(void)
{
    for (size_t i = 0; i < VT_ARRAY_LEN(rows); i++)
        run_row(&rows[i]);
    qe_rows();
    /* the merge rule alone */
    CHECK(vti_intel_status_merge(UTD, OOD) == OOD && vti_intel_status_merge(SWH, OOD) == OOD);
    CHECK(vti_intel_status_merge(CFG, OOD) == OCF && vti_intel_status_merge(CSW, OOD) == OCF);
    CHECK(vti_intel_status_merge(OCF, OOD) == OCF && vti_intel_status_merge(TRA, OOD) == TRA);
    CHECK(vti_intel_status_merge(CSW, REV) == REV && vti_intel_status_merge(CSW, UTD) == CSW);
    CHECK(vti_intel_status_merge(UTD, SWH) == UTD);
    return vt_test_done();
}
