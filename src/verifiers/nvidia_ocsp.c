/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nvidia_ocsp.c - OCSP responses from collateral files for NVIDIA device chains (see
 * nvidia_ocsp.h). Parsing and signature checks are OpenSSL's OCSP API; what is matched,
 * when a response is current and what "checked" means are decided here.
 */
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "util/buf.h"
#include "verifiers/nvidia_ocsp.h"

#define SKEW 300

static void add_file(const char *path, struct vti_nv_ocsp *o)
{
    struct vt_buf b = VT_BUF_INIT;
    if (o->n >= VT_NV_OCSP_MAX || !vti_is_ok(vti_file_read(path, VT_NV_OCSP_MAX_FILE, &b))) {
        vti_buf_free_nowipe(&b);
        return;
    }
    const unsigned char *q = b.p;
    OCSP_RESPONSE *resp = d2i_OCSP_RESPONSE(NULL, &q, (long)b.len);
    bool whole = resp && q == b.p + b.len;
    if (whole && OCSP_response_status(resp) == OCSP_RESPONSE_STATUS_SUCCESSFUL) {
        OCSP_BASICRESP *bs = OCSP_response_get1_basic(resp);
        if (bs)
            o->bs[o->n++] = bs;
    }
    OCSP_RESPONSE_free(resp);
    vti_buf_free_nowipe(&b);
}

vt_res vti_nv_ocsp_load(const char *path, struct vti_nv_ocsp *o, struct vt_report *rep)
{
    memset(o, 0, sizeof(*o));
    if (!path)
        return vti_ok();
    struct stat st;
    ENSURE(stat(path, &st) == 0, VT_ERR_NV_OCSP_DIR);
    if (S_ISREG(st.st_mode)) {
        add_file(path, o);
    } else {
        DIR *d = opendir(path);
        ENSURE(d, VT_ERR_NV_OCSP_DIR);
        struct dirent *e;
        char f[4096];
        while ((e = readdir(d)) != NULL && o->n < VT_NV_OCSP_MAX) {
            if (e->d_name[0] == '.' ||
                snprintf(f, sizeof(f), "%s/%s", path, e->d_name) >= (int)sizeof(f))
                continue;
            if (stat(f, &st) == 0 && S_ISREG(st.st_mode))
                add_file(f, o);
        }
        closedir(d);
    }
    vti_report_step(rep, -1, "OCSP responses in the collateral %s: %zu", path, o->n);
    return vti_ok();
}

void vti_nv_ocsp_free(struct vti_nv_ocsp *o)
{
    for (size_t i = 0; i < o->n; i++)
        OCSP_BASICRESP_free(o->bs[i]);
    o->n = 0;
}

/* The SingleResponse of bs about cert (issued by issuer), or -1. */
static int find_single(OCSP_BASICRESP *bs, X509 *cert, X509 *issuer)
{
    for (int i = 0; i < OCSP_resp_count(bs); i++) {
        const OCSP_CERTID *id = OCSP_SINGLERESP_get0_id(OCSP_resp_get0(bs, i));
        ASN1_OBJECT *md_oid = NULL;
        if (!id || OCSP_id_get0_info(NULL, &md_oid, NULL, NULL, vti_unconst(id)) != 1)
            continue;
        const EVP_MD *md = EVP_get_digestbyobj(md_oid);
        OCSP_CERTID *mine = md ? OCSP_cert_to_id(md, cert, issuer) : NULL;
        bool same = mine && OCSP_id_cmp(mine, id) == 0;
        OCSP_CERTID_free(mine);
        if (same)
            return i;
    }
    return -1;
}

static vt_res signature(OCSP_BASICRESP *bs, STACK_OF(X509) *chain, int64_t at)
{
    X509_STORE *st = X509_STORE_new();
    X509_VERIFY_PARAM *vp = X509_VERIFY_PARAM_new();
    vt_res r = VT_FAIL(VT_ERR_NOMEM);
    if (!st || !vp)
        goto out;
    X509_VERIFY_PARAM_set_time(vp, (time_t)at);
    if (X509_STORE_set1_param(st, vp) != 1 ||
        X509_STORE_add_cert(st, sk_X509_value(chain, sk_X509_num(chain) - 1)) != 1)
        goto out;
    r = OCSP_basic_verify(bs, chain, st, 0) == 1 ? vti_ok() : VT_FAIL(VT_ERR_NV_OCSP_SIGNATURE);
out:
    X509_VERIFY_PARAM_free(vp);
    X509_STORE_free(st);
    return r;
}

static vt_res status(OCSP_SINGLERESP *s, int64_t at)
{
    int reason;
    ASN1_GENERALIZEDTIME *rev, *thisupd, *nextupd;
    int st = OCSP_single_get0_status(s, &reason, &rev, &thisupd, &nextupd);
    ENSURE(thisupd && ASN1_TIME_cmp_time_t(thisupd, (time_t)(at + SKEW)) <= 0, VT_ERR_NV_OCSP_STALE);
    ENSURE(!nextupd || ASN1_TIME_cmp_time_t(nextupd, (time_t)(at - SKEW)) >= 0, VT_ERR_NV_OCSP_STALE);
    ENSURE(st != V_OCSP_CERTSTATUS_REVOKED, VT_ERR_NV_OCSP_REVOKED);
    ENSURE(st == V_OCSP_CERTSTATUS_GOOD, VT_ERR_NV_OCSP_STATUS);
    return vti_ok();
}

/* One certificate: 1 answered and good, 0 no response; an error otherwise. */
static vt_res one(const struct vti_nv_ocsp *o, STACK_OF(X509) *chain, int k, int64_t at,
                  int *answered)
{
    X509 *cert = sk_X509_value(chain, k), *issuer = sk_X509_value(chain, k + 1);
    *answered = 0;
    for (size_t i = 0; i < o->n; i++) {
        int s = find_single(o->bs[i], cert, issuer);
        if (s < 0)
            continue;
        *answered = 1;
        GUARD(signature(o->bs[i], chain, at));
        return status(OCSP_resp_get0(o->bs[i], s), at);
    }
    return vti_ok();
}

vt_res vti_nv_ocsp_check(const struct vti_nv_ocsp *o, STACK_OF(X509) *chain, int64_t at,
                         struct vt_report *rep, size_t dev, bool *checked)
{
    int n = sk_X509_num(chain), missing = 0, good = 0;
    char cn[128] = "";
    *checked = false;
    for (int k = 0; k + 1 < n; k++) {
        int answered;
        X509_NAME_get_text_by_NID(X509_get_subject_name(sk_X509_value(chain, k)),
                                  NID_commonName, cn, sizeof(cn));
        vt_res r = one(o, chain, k, at, &answered);
        if (!vti_is_ok(r)) {
            vti_report_step(rep, 0, "gpu.%zu: OCSP response for \"%s\": %s", dev, cn,
                            vt_strerror(r.err));
            return r;
        }
        good += answered;
        missing += !answered && k > 0; /* the device-generated leaf has no OCSP entry */
    }
    *checked = missing == 0 && n > 2;
    if (*checked)
        vti_report_step(rep, 1, "gpu.%zu: revocation (OCSP from the collateral): %d certificate(s) "
                        "answered, signed and current, all good", dev, good);
    else
        vti_report_step(rep, -1, "gpu.%zu: revocation not checked: %d of %d CA-issued "
                        "certificate(s) without an OCSP response in the collateral", dev,
                        missing, n > 2 ? n - 2 : 0);
    return vti_ok();
}
