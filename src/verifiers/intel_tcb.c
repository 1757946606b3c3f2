/* SPDX-License-Identifier: Apache-2.0 */
/*
 * intel_tcb.c - Intel TCB evaluation: QE identity match and TCB level, TDX module identity,
 * status convergence and TD relaunch advice (see intel_tcb.h). Pure.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "util/secmem.h"
#include "verifiers/intel_tcb.h"

vt_res vti_intel_qe_eval(const struct vt_intel_qe_identity *id, const struct vt_sgx_body *qe,
                         struct vti_intel_qe_eval *out)
{
    memset(out, 0, sizeof(*out));
    out->miscselect_ok = (qe->miscselect & id->miscselect_mask) == id->miscselect;
    out->attributes_ok = true;
    for (int i = 0; i < 16; i++)
        out->attributes_ok = out->attributes_ok &&
                             (qe->attributes[i] & id->attributes_mask[i]) == id->attributes[i];
    out->mrsigner_ok = vti_ct_eq(qe->mr_signer, id->mrsigner, 32);
    out->isvprodid_ok = qe->isv_prod_id == id->isvprodid;
    out->ok = out->miscselect_ok && out->attributes_ok && out->mrsigner_ok && out->isvprodid_ok;
    ENSURE(out->ok, VT_ERR_INTEL_QE_IDENTITY_MISMATCH);
    for (size_t i = 0; i < id->n_levels && !out->level; i++)
        if (id->levels[i].isvsvn <= qe->isv_svn)
            out->level = &id->levels[i];
    ENSURE(out->level, VT_ERR_INTEL_QE_TCB_NOT_SUPPORTED);
    return vti_ok();
}

static bool needs_config(enum vt_intel_status s)
{
    return s == VT_ISTAT_CONFIGURATION_NEEDED ||
           s == VT_ISTAT_CONFIGURATION_AND_SW_HARDENING_NEEDED ||
           s == VT_ISTAT_OUT_OF_DATE_CONFIGURATION_NEEDED;
}

enum vt_intel_status vti_intel_status_merge(enum vt_intel_status plat, enum vt_intel_status comp)
{
    if (comp == VT_ISTAT_REVOKED)
        return VT_ISTAT_REVOKED;
    if (comp == VT_ISTAT_OUT_OF_DATE) {
        if (plat == VT_ISTAT_UP_TO_DATE || plat == VT_ISTAT_SW_HARDENING_NEEDED)
            return VT_ISTAT_OUT_OF_DATE;
        if (plat == VT_ISTAT_CONFIGURATION_NEEDED ||
            plat == VT_ISTAT_CONFIGURATION_AND_SW_HARDENING_NEEDED)
            return VT_ISTAT_OUT_OF_DATE_CONFIGURATION_NEEDED;
    }
    return plat;
}

static const struct vt_intel_module_id *find_module(const struct vt_intel_tcb_info *t,
                                                    uint8_t major)
{
    char id[16];
    snprintf(id, sizeof(id), "TDX_%02X", major);
    for (size_t i = 0; i < t->n_modules; i++)
        if (strcasecmp(t->modules[i].id, id) == 0)
            return &t->modules[i];
    return NULL;
}

/* Step 6 and 12: the module identity and, for a major version > 0, its TCB level. */
static vt_res eval_module(const struct vti_intel_tcb_in *in, struct vti_intel_tcb_eval *out)
{
    const uint8_t *svn = in->tee_tcb_svn;
    const struct vt_intel_module_id *m;
    if (svn[1] > 0) {
        m = find_module(in->tcb, svn[1]);
        snprintf(out->module_name, sizeof(out->module_name), "TDX_%02X", svn[1]);
    } else {
        m = in->tcb->has_module ? &in->tcb->module : NULL;
        snprintf(out->module_name, sizeof(out->module_name), "tdxModule");
    }
    out->module = m;
    out->module_ok = m && vti_ct_eq(m->mrsigner, in->mr_signer_seam, 48) &&
                     in->seam_attributes == 0 &&
                     (in->seam_attributes & m->attributes_mask) ==
                         (m->attributes & m->attributes_mask);
    ENSURE(out->module_ok, VT_ERR_INTEL_TDX_MODULE_MISMATCH);
    if (svn[1] > 0) {
        for (size_t i = 0; i < m->n_levels && !out->module_level; i++)
            if (m->levels[i].isvsvn <= svn[0])
                out->module_level = &m->levels[i];
        ENSURE(out->module_level, VT_ERR_INTEL_TDX_MODULE_NOT_SUPPORTED);
    }
    return vti_ok();
}

/* Step 11: the first level whose SGX part (and, for TDX, TDX part) the platform reaches. */
static vt_res eval_level(const struct vti_intel_tcb_in *in, struct vti_intel_tcb_eval *out)
{
    const struct vt_intel_tcb_info *t = in->tcb;
    const uint8_t *svn = in->tee_tcb_svn;
    for (size_t i = 0; i < t->n_levels && !out->level; i++) {
        const struct vt_intel_level *l = &t->levels[i];
        bool ok = in->pcesvn >= l->pcesvn;
        for (int k = 0; k < 16 && ok; k++)
            ok = in->comps[k] >= l->sgx[k];
        if (!ok)
            continue;
        if (!out->sgx_level)
            out->sgx_level = l;
        if (in->tdx) {
            for (int k = 0; k < 16 && ok; k++) {
                if (k < 2 && svn[1] > 0)
                    continue; /* judged by the module identity */
                ok = svn[k] >= l->tdx[k];
            }
        }
        if (ok)
            out->level = l;
    }
    ENSURE(out->level, VT_ERR_INTEL_TCB_NOT_SUPPORTED);
    return vti_ok();
}

/* Step 13 (TD report 1.5): would a relaunch reach the newest TCB level? */
static bool relaunch_advised(const struct vti_intel_tcb_in *in,
                             const struct vti_intel_tcb_eval *out)
{
    const struct vt_intel_level *ml = out->module_level, *pl = out->level, *sl = out->sgx_level;
    const struct vt_intel_level *ql = in->qe;
    if (!(in->tdx && in->tee_tcb_svn2 && ml && ml->status == VT_ISTAT_OUT_OF_DATE &&
          (pl->status == VT_ISTAT_OUT_OF_DATE ||
           pl->status == VT_ISTAT_OUT_OF_DATE_CONFIGURATION_NEEDED) &&
          ql->status != VT_ISTAT_OUT_OF_DATE && ql->status != VT_ISTAT_REVOKED && sl &&
          (sl->status == VT_ISTAT_UP_TO_DATE || sl->status == VT_ISTAT_SW_HARDENING_NEEDED ||
           sl->status == VT_ISTAT_CONFIGURATION_NEEDED ||
           sl->status == VT_ISTAT_CONFIGURATION_AND_SW_HARDENING_NEEDED)))
        return false;
    const uint8_t *s2 = in->tee_tcb_svn2;
    const struct vt_intel_level *L = &in->tcb->levels[0];
    if (s2[1] == 0)
        return s2[0] >= L->tdx[0] && s2[2] >= L->tdx[2];
    const struct vt_intel_module_id *m2 = find_module(in->tcb, s2[1]);
    return m2 && m2->n_levels > 0 && s2[0] >= m2->levels[0].isvsvn && s2[2] >= L->tdx[2];
}

static void adv_add(struct vti_intel_tcb_eval *a, const struct vt_intel_level *l)
{
    for (size_t i = 0; l && i < l->n_adv; i++) {
        bool dup = false;
        for (size_t j = 0; j < a->n_adv; j++)
            dup = dup || strcmp(a->adv[j], l->adv[i]) == 0;
        if (!dup && a->n_adv < VT_ARRAY_LEN(a->adv))
            a->adv[a->n_adv++] = l->adv[i];
    }
}

vt_res vti_intel_tcb_eval(const struct vti_intel_tcb_in *in, struct vti_intel_tcb_eval *out)
{
    memset(out, 0, sizeof(*out));
    if (in->tdx)
        GUARD(eval_module(in, out));
    GUARD(eval_level(in, out));
    const struct vt_intel_level *pl = out->level, *sl = out->sgx_level;
    out->with_module = pl->status;
    if (out->module_level)
        out->with_module = vti_intel_status_merge(pl->status, out->module_level->status);
    out->before_qe = out->with_module;
    out->relaunch = relaunch_advised(in, out);
    if (out->relaunch)
        out->before_qe = (needs_config(sl->status) || needs_config(pl->status))
                             ? VT_ISTAT_TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED
                             : VT_ISTAT_TD_RELAUNCH_ADVISED;
    out->status = vti_intel_status_merge(out->before_qe, in->qe->status);
    adv_add(out, pl);
    adv_add(out, out->module_level);
    adv_add(out, in->qe);
    out->date = pl->date;
    return vti_ok();
}
