/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nvidia_rims.c - RIMs from the collateral for the nvidia verifier (see nvidia_rims.h).
 */
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "util/buf.h"
#include "verifiers/nvidia_rims.h"

#define MAX_MISMATCH 64

static bool looks_like_rim(const struct vt_buf *b)
{
    return memmem(b->p, b->len, "SoftwareIdentity", 16) != NULL &&
           memmem(b->p, b->len, "<", 1) != NULL;
}

/* The pinned NVIDIA RIM root first; then, if given, the --root-ca anchors (insecure). */
static vt_res load_one(const struct vt_buf *b, STACK_OF(X509) *roots, int64_t at,
                       struct vti_nv_rim **out)
{
    vt_res r = vti_nv_rim_load(b->p, b->len, NULL, at, out);
    int n = roots ? sk_X509_num(roots) : 0;
    if (vti_is_ok(r) || n == 0 || r.err != VT_ERR_NV_RIM_CHAIN)
        return r;
    struct vti_nv_der der[16];
    unsigned char *buf[16] = { 0 };
    int k = 0;
    for (int i = 0; i < n && k < 16; i++) {
        int l = i2d_X509(sk_X509_value(roots, i), &buf[k]);
        if (l > 0) {
            der[k] = (struct vti_nv_der){ buf[k], (size_t)l };
            k++;
        }
    }
    struct vti_nv_rim_trust t = { der, (size_t)k };
    r = vti_nv_rim_load(b->p, b->len, &t, at, out);
    for (int i = 0; i < k; i++)
        OPENSSL_free(buf[i]);
    return r;
}

static vt_res add_file(const char *path, STACK_OF(X509) *roots, int64_t at,
                       struct vt_report *rep, struct vti_nv_rims *out)
{
    struct vt_buf b = VT_BUF_INIT;
    if (!vti_is_ok(vti_file_read(path, VTI_NV_RIM_MAX_SIZE, &b)) || !looks_like_rim(&b)) {
        vti_buf_free_nowipe(&b);
        return vti_ok(); /* not a RIM (or too large to be one): other collateral */
    }
    struct vti_nv_rim *rim = NULL;
    vt_res r = out->n < VT_NV_MAX_RIMS ? load_one(&b, roots, at, &rim) : VT_FAIL(VT_ERR_NV_RIM_LIMIT);
    vti_buf_free_nowipe(&b);
    if (!vti_is_ok(r)) {
        vti_report_step(rep, 0, "RIM %s: %s", path, vt_strerror(r.err));
        return r;
    }
    bool insecure = vti_nv_rim_insecure_root(rim);
    out->insecure |= insecure;
    vti_report_step(rep, 1, "RIM %s: %s %s (%s), XML-DSig by \"%s\" chained to %s at the "
                    "verification time", path, vti_nv_rim_kind_name(vti_nv_rim_kind(rim)),
                    vti_nv_rim_version(rim), vti_nv_rim_product(rim), vti_nv_rim_signer(rim),
                    insecure ? "a --root-ca root (INSECURE)" : "the pinned NVIDIA RIM root");
    out->rim[out->n++] = rim;
    return vti_ok();
}

vt_res vti_nv_rims_load(const char *path, STACK_OF(X509) *roots, int64_t at,
                        struct vt_report *rep, struct vti_nv_rims *out)
{
    memset(out, 0, sizeof(*out));
    struct stat st;
    if (!path || stat(path, &st) != 0)
        return vti_ok(); /* an unreadable collateral is reported by the OCSP loader */
    if (S_ISREG(st.st_mode))
        return add_file(path, roots, at, rep, out);
    DIR *d = opendir(path);
    if (!d)
        return vti_ok();
    struct dirent *e;
    char f[4096];
    vt_res r = vti_ok();
    while (vti_is_ok(r) && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || snprintf(f, sizeof(f), "%s/%s", path, e->d_name) >= (int)sizeof(f))
            continue;
        if (stat(f, &st) == 0 && S_ISREG(st.st_mode))
            r = add_file(f, roots, at, rep, out);
    }
    closedir(d);
    return r;
}

void vti_nv_rims_free(struct vti_nv_rims *r)
{
    for (size_t i = 0; i < r->n; i++)
        vti_nv_rim_free(r->rim[i]);
    r->n = 0;
}

/* The RIM of a kind for a version: the one with that version, else the only one of the kind. */
static const struct vti_nv_rim *pick(const struct vti_nv_rims *r, enum vti_nv_rim_kind kind,
                                     const char *version)
{
    const struct vti_nv_rim *only = NULL;
    size_t n = 0;
    for (size_t i = 0; i < r->n; i++) {
        if (vti_nv_rim_kind(r->rim[i]) != kind)
            continue;
        if (version[0] && strcasecmp(vti_nv_rim_version(r->rim[i]), version) == 0)
            return r->rim[i];
        only = r->rim[i];
        n++;
    }
    return n == 1 ? only : NULL;
}

static void version_note(struct vt_report *rep, size_t dev, const struct vti_nv_rim *rim,
                         const char *kind, const char *have)
{
    bool same = strcasecmp(vti_nv_rim_version(rim), have) == 0;
    vti_report_step(rep, same ? 1 : -1, "gpu.%zu: %s RIM version %s %s the report's %s", dev,
                    kind, vti_nv_rim_version(rim), same ? "is" : "differs from", have[0] ? have : "(none)");
}

/* One step naming every differing index (a reason only where the value was not compared),
 * and the same list in detail (for the report's error message). */
static void list_mismatches(struct vt_report *rep, size_t dev, const struct vti_nv_mismatch *m,
                            size_t n, char *detail, size_t dlen)
{
    char line[400];
    size_t o = 0;
    line[0] = '\0';
    for (size_t i = 0; i < n && i < MAX_MISMATCH; i++) {
        const char *why = m[i].reason == VTI_NV_MISMATCH_MISSING ? "(no block)" :
                          m[i].reason == VTI_NV_MISMATCH_SIZE ? "(not SHA-384)" : "";
        int w = snprintf(line + o, sizeof(line) - o, "%s%u%s", i ? "," : "", m[i].index, why);
        if (w < 0 || (size_t)w >= sizeof(line) - o)
            break;
        o += (size_t)w;
    }
    vti_report_step(rep, 0, "gpu.%zu: measurements vs RIMs: %zu RIM index(es) differ (block = "
                    "index + 1): %s", dev, n, line);
    snprintf(detail, dlen, "gpu.%zu RIM index(es) %s", dev, line);
}

vt_res vti_nv_rims_appraise(const struct vti_nv_rims *r, const struct vt_spdm_report *s,
                            size_t dev, struct vt_report *rep, const char **claim, char *detail,
                            size_t dlen)
{
    char drv[64], vb[64];
    *claim = "not-appraised";
    if (r->n == 0)
        return vti_ok();
    (void)vti_spdm_driver_version(vti_spdm_opaque_find(s, VT_SPDM_OP_DRIVER_VERSION), drv);
    (void)vti_spdm_vbios_version(vti_spdm_opaque_find(s, VT_SPDM_OP_VBIOS_VERSION), vb);
    const struct vti_nv_rim *d = pick(r, VTI_NV_RIM_DRIVER, drv), *v = pick(r, VTI_NV_RIM_VBIOS, vb);
    if (!d || !v) {
        vti_report_step(rep, -1, "gpu.%zu: RIMs not appraised: no single %s RIM for this device",
                        dev, !d ? "driver" : "VBIOS");
        return vti_ok();
    }
    version_note(rep, dev, d, "driver", drv);
    version_note(rep, dev, v, "VBIOS", vb);
    struct vti_nv_meas m[VT_SPDM_MAX_BLOCKS];
    for (unsigned i = 0; i < s->n_blocks; i++)
        m[i] = (struct vti_nv_meas){ s->blocks[i].index, s->blocks[i].value, s->blocks[i].value_len };
    const struct vt_spdm_opaque_item *nvdec = vti_spdm_opaque_find(s, VT_SPDM_OP_NVDEC0_STATUS);
    unsigned flags = nvdec && nvdec->len >= 1 && nvdec->value[0] == 0x55 ? VTI_NV_RIM_NVDEC0_DISABLED : 0;
    struct vti_nv_mismatch mm[MAX_MISMATCH];
    size_t n_mm = 0, n_cmp = 0;
    vt_res res = vti_nv_rim_compare(d, v, m, s->n_blocks, flags, mm, MAX_MISMATCH, &n_mm, &n_cmp);
    if (res.err == VT_ERR_NV_RIM_MISMATCH) {
        *claim = "mismatch";
        list_mismatches(rep, dev, mm, n_mm, detail, dlen);
        return res;
    }
    if (!vti_is_ok(res)) {
        vti_report_step(rep, 0, "gpu.%zu: measurements vs RIMs: %s", dev, vt_strerror(res.err));
        return res;
    }
    *claim = "match";
    vti_report_step(rep, 1, "gpu.%zu: measurements vs RIMs: %zu active index(es) compared%s, all "
                    "match", dev, n_cmp, flags ? " (index 35 skipped: NVDEC0 disabled)" : "");
    return vti_ok();
}
