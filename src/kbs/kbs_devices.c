/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kbs_devices.c - the GPUs of a KBS attestation's additional_evidence (see kbs_devices.h).
 *
 * Trust boundary: the device evidence is untrusted JSON; only what the "nvidia" verifier
 * verified (chain to the pinned root or a configured --root-ca, SPDM signature, FWID, nonce)
 * becomes a verified device. The whole list is verified once; only when that fails is each
 * device verified alone, to say which one failed (fail closed: if the list fails and no
 * device alone does, every device is failed with the list's reason).
 */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/input.h"
#include "kbs/kbs_devices.h"
#include "kbs_client/jose.h"
#include "util/codec.h"
#include "veritee/veritee.h"

#define ST_DEVICE_NONCE 3 /* a kbs_sessions row that only marks a device nonce as used */

vt_res vtk_device_nonce(const char *nonce, const json_t *jwk, uint8_t out[32])
{
    json_t *o = json_pack("{s:s, s:O}", "nonce", nonce, "tee-pubkey", jwk);
    ENSURE(o, VT_ERR_KBS_BAD_JSON);
    struct vt_buf c = VT_BUF_INIT;
    vt_res r = vtk_jcs(o, &c);
    json_decref(o);
    uint8_t h[48];
    unsigned int hl = 0;
    if (!r.err && EVP_Digest(c.p, c.len, h, &hl, EVP_sha384(), NULL) != 1)
        r = VT_FAIL(VT_ERR_CRYPTO);
    if (!r.err)
        memcpy(out, h, 32);
    vti_buf_free(&c);
    return r;
}

/* The device nonce is single-use in the shared store (a kbs_sessions row, swept with them). */
static vt_res nonce_consume(struct vtk_server *k, const uint8_t n[32], int64_t now)
{
    char id[80] = "gpu-nonce:";
    vti_hex_encode(n, 32, id + strlen(id));
    const struct vtb_store_ops *o = vtb_kms_ops(k->st->kms);
    vt_res r = o->session_put(vtb_kms_store(k->st->kms), id, ST_DEVICE_NONCE,
                              (const uint8_t *)"1", 1, now + k->cfg.session_lifetime);
    return r.err == VT_ERR_BROKER_EXISTS ? VT_FAIL(VT_ERR_KBS_DEVICE_NONCE_USED) : r;
}

/* The device entries of the nvidia evidence: {"device_evidence_list": [...]}, a bare list or
 * one device object (as the verifier reads them). */
static const json_t *device_list(const json_t *v, size_t *n)
{
    const json_t *l = json_object_get(v, "device_evidence_list");
    if (json_is_array(l) || json_is_array(v)) {
        l = json_is_array(l) ? l : v;
        *n = json_array_size(l);
        return l;
    }
    *n = json_is_object(v) ? 1 : 0;
    return v;
}

static const json_t *device_at(const json_t *l, size_t i)
{
    return json_is_array(l) ? json_array_get(l, i) : l;
}

/* vt_verify of one JSON value with the nvidia verifier, the broker's trust and the nonce. */
static int verify_json(struct vtk_server *k, const json_t *v, const uint8_t n[32], int64_t now,
                       vt_report **rep)
{
    char *s = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (!s)
        return VT_ERR_NOMEM;
    struct vt_verify_opts o = {
        .verifier = "nvidia", .root_ca_files = k->cfg.root_ca, .n_root_ca_files = k->cfg.n_root_ca,
        .collateral = k->cfg.collateral, .at = now, .report_data = n, .report_data_len = 32,
    };
    int err = vt_verify(&o, (const uint8_t *)s, strlen(s), rep);
    free(s);
    return err;
}

static void reason_of(int err, const vt_report *rep, char *out, size_t n)
{
    const char *m = rep ? vt_report_error_message(rep) : NULL;
    snprintf(out, n, "%s (%s)", m ? m : vt_strerror(err), vt_errname(err));
}

/* Claims "gpu.<i>.<x>" of a verified report into device i's claims (measurements left out). */
static vt_res take_claims(const vt_report *rep, struct vtk_devices *d, size_t first)
{
    struct vtb_report_input ri;
    GUARD(vtb_input_from_report(rep, &ri));
    for (size_t c = 0; c < ri.in.n_claims; c++) {
        const char *nm = ri.in.claims[c].name;
        char *end = NULL;
        if (strncmp(nm, "gpu.", 4) != 0)
            continue;
        unsigned long i = strtoul(nm + 4, &end, 10);
        if (end == nm + 4 || *end != '.' || !strncmp(end + 1, "measurement.", 12) ||
            first + i >= d->n)
            continue;
        json_t *dc = d->d[first + i].claims;
        if (!dc)
            dc = d->d[first + i].claims = json_object();
        if (dc)
            json_object_set_new(dc, end + 1, json_string(ri.in.claims[c].value));
    }
    vtb_input_free(&ri);
    return vti_ok();
}

/* Mark device i from a report: verified (sim only with allow_sim) or failed. */
static void settle(struct vtk_server *k, struct vtk_device *dv, int err, const vt_report *rep)
{
    dv->insecure = rep && vt_report_insecure(rep);
    if (err) {
        reason_of(err, rep, dv->reason, sizeof(dv->reason));
    } else if (dv->insecure && !k->cfg.allow_sim) {
        snprintf(dv->reason, sizeof(dv->reason), "sim device evidence (a --root-ca anchor) "
                 "refused: the broker was not started with --allow-sim");
    } else {
        dv->verified = true;
    }
}

/* The list failed as a whole (err): each device alone, to say which. */
static void each_device(struct vtk_server *k, const json_t *l, const uint8_t n[32], int64_t now,
                        int err, const vt_report *whole, struct vtk_devices *d)
{
    bool any_failed = false;
    for (size_t i = 0; i < d->n; i++) {
        vt_report *rep = NULL;
        int e = verify_json(k, device_at(l, i), n, now, &rep);
        settle(k, &d->d[i], e, rep);
        if (!e)
            take_claims(rep, d, i);
        any_failed = any_failed || e;
        vt_report_free(rep);
    }
    for (size_t i = 0; i < d->n && !any_failed; i++) { /* fail closed */
        d->d[i].verified = false;
        reason_of(err, whole, d->d[i].reason, sizeof(d->d[i].reason));
    }
}

static bool duplicate(int err)
{
    return err == VT_ERR_NV_DUPLICATE_REPORT || err == VT_ERR_NV_DUPLICATE_DEVICE;
}

vt_res vtk_devices_verify(struct vtk_server *k, const json_t *add, const char *nonce,
                          const json_t *jwk, int64_t now, struct vtk_devices *out, char *why,
                          size_t wl)
{
    memset(out, 0, sizeof(*out));
    const json_t *nv = json_object_get(add, "nvidia");
    if (!nv)
        return vti_ok();
    size_t n = 0;
    const json_t *l = device_list(nv, &n);
    if (n == 0 || n > VTK_MAX_DEVICES) {
        snprintf(why, wl, "additional_evidence.nvidia must list 1..%d devices", VTK_MAX_DEVICES);
        return VT_FAIL(VT_ERR_KBS_DEVICE_EVIDENCE);
    }
    uint8_t dn[32];
    GUARD(vtk_device_nonce(nonce, jwk, dn));
    vt_res r = nonce_consume(k, dn, now);
    if (r.err) {
        snprintf(why, wl, "%s", r.err == VT_ERR_KBS_DEVICE_NONCE_USED ? vt_strerror(r.err)
                                                                      : "store error");
        return r;
    }
    out->n = n;
    vt_report *rep = NULL;
    int err = verify_json(k, nv, dn, now, &rep);
    if (duplicate(err)) {
        reason_of(err, rep, why, wl);
        r = VT_FAIL(VT_ERR_KBS_DEVICE_EVIDENCE);
    } else if (!err) {
        for (size_t i = 0; i < n; i++)
            settle(k, &out->d[i], 0, rep);
        r = take_claims(rep, out, 0);
    } else {
        each_device(k, l, dn, now, err, rep, out);
    }
    vt_report_free(rep);
    return r;
}

void vtk_devices_free(struct vtk_devices *d)
{
    for (size_t i = 0; i < d->n; i++)
        json_decref(d->d[i].claims);
    memset(d, 0, sizeof(*d));
}

/* ---- the EAR ------------------------------------------------------------------------- */

/* AR4SI vector of one device: identity and hardware from the verification, executables from
 * the RIM appraisal (match 2, mismatch 33, not appraised: no claim). */
static void device_vector(const struct vtk_device *dv, int tv[VTK_TV_COUNT])
{
    memset(tv, 0, sizeof(int) * VTK_TV_COUNT);
    if (!dv->verified) {
        tv[VTK_TV_INSTANCE_IDENTITY] = 96; /* contraindicated: not a verified device */
        return;
    }
    tv[VTK_TV_INSTANCE_IDENTITY] = 2;
    tv[VTK_TV_HARDWARE] = dv->insecure ? 96 : 2;
    const char *rim = json_string_value(json_object_get(dv->claims, "rim"));
    if (rim && !strcmp(rim, "match"))
        tv[VTK_TV_EXECUTABLES] = 2;
    else if (rim && !strcmp(rim, "mismatch"))
        tv[VTK_TV_EXECUTABLES] = 33;
}

static json_t *device_submod(const struct vtk_device *dv, const char *policy_id)
{
    int tv[VTK_TV_COUNT];
    device_vector(dv, tv);
    json_t *vec = json_object();
    for (int i = 0; vec && i < VTK_TV_COUNT; i++)
        json_object_set_new(vec, vtk_tv_names[i], json_integer(tv[i]));
    json_t *ann = json_pack("{s:s, s:b, s:b, s:o}", "tee", "nvidia", "verified", dv->verified,
                            "insecure", dv->insecure, "nvidia",
                            dv->claims ? json_incref(dv->claims) : json_object());
    if (ann && !dv->verified)
        json_object_set_new(ann, "error", json_string(dv->reason));
    return vec && ann ? json_pack("{s:s, s:o, s:s, s:o}", "ear.status", vtk_ear_status(tv),
                                  "ear.trustworthiness-vector", vec, "ear.appraisal-policy-id",
                                  policy_id, "ear.veraison.annotated-evidence", ann)
                      : NULL;
}

json_t *vtk_devices_submods(const struct vtk_devices *d, const char *policy_id)
{
    json_t *s = json_object();
    for (size_t i = 0; s && i < d->n; i++) {
        char name[32];
        snprintf(name, sizeof(name), "gpu%zu", i);
        json_t *m = device_submod(&d->d[i], policy_id);
        if (!m || json_object_set_new(s, name, m) != 0) {
            json_decref(s);
            return NULL;
        }
    }
    return s;
}

/* ---- policy input from a token ------------------------------------------------------- */

/* Device i from its (signed) submod: verified only if its annotated evidence says so (the
 * status is informational: a sim device is contraindicated like sim CPU evidence, and sim
 * is governed by allow_sim through the token's "insecure"); its string claims. */
static vt_res input_device(const json_t *sm, struct vtb_device *dv, struct vtb_claim_str **cs)
{
    const json_t *ann = json_object_get(sm, "ear.veraison.annotated-evidence");
    const json_t *cl = json_object_get(ann, "nvidia");
    dv->verified = json_is_true(json_object_get(ann, "verified"));
    dv->reason = json_string_value(json_object_get(ann, "error"));
    *cs = calloc(json_object_size(cl) + 1, sizeof(**cs));
    ENSURE(*cs, VT_ERR_NOMEM);
    const char *name;
    json_t *val;
    json_object_foreach(vti_unconst(cl), name, val) {
        if (json_is_string(val)) {
            (*cs)[dv->n_claims].name = name;
            (*cs)[dv->n_claims++].value = json_string_value(val);
        }
    }
    dv->claims = *cs;
    return vti_ok();
}

vt_res vtk_device_input(const json_t *submods, struct vtk_device_input *out)
{
    memset(out, 0, sizeof(*out));
    for (size_t i = 0; i < VTK_MAX_DEVICES; i++) {
        char name[32];
        snprintf(name, sizeof(name), "gpu%zu", i);
        const json_t *sm = json_object_get(submods, name);
        if (!json_is_object(sm))
            break;
        vt_res r = input_device(sm, &out->dev[i], &out->cs[i]);
        if (r.err) {
            vtk_device_input_free(out);
            return r;
        }
        out->n = i + 1;
    }
    return vti_ok();
}

void vtk_device_input_free(struct vtk_device_input *in)
{
    for (size_t i = 0; i < VTK_MAX_DEVICES; i++)
        free(in->cs[i]);
    memset(in, 0, sizeof(*in));
}
