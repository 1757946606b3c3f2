/* SPDX-License-Identifier: Apache-2.0 */
/*
 * eventlog_claims.c - boot claims from the events of registers whose replay matched a quote
 * (see eventlog_claims.h). Register roles: TCG PC Client PFP 1.05 section 3.3.4 (PCR0 CRTM and
 * platform firmware, PCR4 boot manager code, PCR7 Secure Boot policy, PCR8/9 GRUB strings and
 * files by convention); TDX: RTMR0 = PCR1+7 (firmware configuration, Secure Boot), RTMR1 =
 * PCR2-6 (boot applications), RTMR2 = PCR8-15 (OS loader strings), i.e. CC MR index 1, 2, 3.
 *
 * Claims:
 *   eventlog.secure_boot                 bool: the SecureBoot variable measured as 1
 *   eventlog.pk / .kek / .db / .dbx      hex: the verified digest of that variable's event
 *   eventlog.efi_apps                    [hex]: EV_EFI_BOOT_SERVICES_APPLICATION digests in order
 *   eventlog.separators_valid            bool: every EV_SEPARATOR is 0x00000000 and bound
 *   eventlog.grub_cmds                   [text]: GRUB's "grub_cmd: " strings in order
 *   eventlog.kernel_cmdline              text: GRUB's "kernel_cmdline: " string (the last one)
 *   eventlog.gce_confidential_technology text: GCE NonHostInfo: none, amd-sev, amd-sev-es,
 *                                        intel-tdx, amd-sev-snp (go-tpm-tools' numbering)
 *   eventlog.aael.<domain>.<operation>   text (one entry) or [text] (several, in log order):
 *                                        the content of the CoCo attestation-agent entries
 *                                        (eventlog_aael.h) of that domain and operation
 *   eventlog.aael.count                  int (CCEL logs): the number of AAEL entries
 * An AAEL-tagged event on a matched register that is malformed or whose digest is not the
 * hash of its data refuses the whole log (VT_ERR_EVLOG_AAEL_*): it was measured, so it
 * cannot be skipped.
 */
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "evidence/eventlog_aael.h"
#include "evidence/eventlog_claims.h"
#include "evidence/eventlog_data.h"
#include "evidence/tpm.h"
#include "util/codec.h"
#include "util/secmem.h"

#define EV_IPL 0x0du
#define EV_NONHOST_INFO 0x11u
#define EV_EFI_VARIABLE_DRIVER_CONFIG 0x80000001u
#define EV_EFI_BOOT_SERVICES_APPLICATION 0x80000003u
#define GCE_NONHOST_SIG "GCE NonHostInfo" /* 16 bytes with the NUL */
#define GRUB_CMD "grub_cmd: "
#define GRUB_KERNEL "kernel_cmdline: "
#define MAX_TEXT 8192u
#define AAEL_MAX_NAMES 32u
#define AAEL_PREFIX "eventlog.aael."

static const uint8_t EFI_GLOBAL_VARIABLE[16] = { 0x61, 0xdf, 0xe4, 0x8b, 0xca, 0x93, 0xd2, 0x11,
                                                 0xaa, 0x0d, 0x00, 0xe0, 0x98, 0x03, 0x2b, 0x8c };
static const uint8_t EFI_IMAGE_SECURITY_DATABASE[16] = { 0xcb, 0xb2, 0x19, 0xd7, 0x3a, 0x3d,
                                                         0x96, 0x45, 0xa3, 0xbc, 0xda, 0xd0,
                                                         0x0e, 0x67, 0x65, 0x6f };

struct ctx {
    const struct vt_evlog *log;
    uint16_t alg;
    size_t size;
    uint32_t verified;
    json_t *out;
    json_t *apps, *grub;
    json_t *aael;   /* claim name -> [content] */
    uint32_t n_aael;
    bool separators_ok;
    vt_res err;     /* the first refusal (AAEL) */
};

/* Is the event's digest in the compared bank the hash of p[0..n)? */
static bool bound(const struct ctx *c, const struct vt_evlog_event *ev, const uint8_t *p,
                  size_t n)
{
    uint8_t h[EVP_MAX_MD_SIZE];
    unsigned int hl = 0;
    const uint8_t *d = vti_evlog_digest(c->log, ev, c->alg, NULL);
    return d && EVP_Digest(p, n, h, &hl, vti_tpm_alg_md(c->alg), NULL) == 1 && hl == c->size &&
           vti_ct_eq(h, d, c->size);
}

/* The register an event extends in the verified mask terms (CCEL: MR index 1..4 -> bit 0..3). */
static bool on_verified(const struct ctx *c, const struct vt_evlog_event *ev)
{
    if (ev->type == VT_EV_NO_ACTION)
        return false;
    if (c->log->format == VT_EVLOG_CCEL)
        return ev->pcr >= 1 && (c->verified & (1u << (ev->pcr - 1))) != 0;
    return (c->verified & (1u << ev->pcr)) != 0;
}

static json_t *digest_hex(const struct ctx *c, const struct vt_evlog_event *ev)
{
    char h[2 * VT_EVLOG_MAX_DIGEST + 1];
    vti_hex_encode(vti_evlog_digest(c->log, ev, c->alg, NULL), c->size, h);
    return json_string(h);
}

static void variable(struct ctx *c, const struct vt_evlog_event *ev)
{
    struct vt_efi_var v;
    if (!vti_is_ok(vti_efi_var_parse(ev->data, ev->data_len, &v)) ||
        !bound(c, ev, ev->data, ev->data_len))
        return;
    bool global = vti_ct_eq(v.guid, EFI_GLOBAL_VARIABLE, 16);
    bool secdb = vti_ct_eq(v.guid, EFI_IMAGE_SECURITY_DATABASE, 16);
    if (global && strcmp(v.name, "SecureBoot") == 0)
        json_object_set_new(c->out, "eventlog.secure_boot",
                            json_boolean(v.data_len == 1 && v.data[0] == 1));
    else if (global && strcmp(v.name, "PK") == 0)
        json_object_set_new(c->out, "eventlog.pk", digest_hex(c, ev));
    else if (global && strcmp(v.name, "KEK") == 0)
        json_object_set_new(c->out, "eventlog.kek", digest_hex(c, ev));
    else if (secdb && strcmp(v.name, "db") == 0)
        json_object_set_new(c->out, "eventlog.db", digest_hex(c, ev));
    else if (secdb && strcmp(v.name, "dbx") == 0)
        json_object_set_new(c->out, "eventlog.dbx", digest_hex(c, ev));
}

/* GRUB measures the string after its prefix, without the NUL, and logs prefix + string. */
static void grub_string(struct ctx *c, const struct vt_evlog_event *ev)
{
    char text[MAX_TEXT]; /* not static: claims may be made on several threads */
    size_t n = ev->data_len;
    while (n > 0 && ev->data[n - 1] == 0)
        n--;
    size_t pl;
    bool kernel = false;
    if (n >= (pl = strlen(GRUB_CMD)) && memcmp(ev->data, GRUB_CMD, pl) == 0) /* lint: public */
        kernel = false;
    else if (n >= (pl = strlen(GRUB_KERNEL)) && memcmp(ev->data, GRUB_KERNEL, pl) == 0) /* lint: public */
        kernel = true;
    else
        return;
    const uint8_t *s = ev->data + pl;
    size_t sl = n - pl;
    if (!bound(c, ev, s, sl) || !vti_evlog_data_string(s, sl, text, sizeof(text)))
        return;
    if (!kernel)
        json_array_append_new(c->grub, json_string(text));
    else
        json_object_set_new(c->out, "eventlog.kernel_cmdline", json_string(text));
}

static void nonhost_info(struct ctx *c, const struct vt_evlog_event *ev)
{
    static const char *const tech[] = { "none", "amd-sev", "amd-sev-es", "intel-tdx",
                                        "amd-sev-snp" };
    if (ev->pcr != 0 || ev->data_len < 17 ||
        memcmp(ev->data, GCE_NONHOST_SIG, sizeof(GCE_NONHOST_SIG)) != 0 || /* lint: public */
        !bound(c, ev, ev->data, ev->data_len))
        return;
    uint8_t t = ev->data[sizeof(GCE_NONHOST_SIG)];
    json_object_set_new(c->out, "eventlog.gce_confidential_technology",
                        t < VT_ARRAY_LEN(tech) ? json_string(tech[t]) : json_sprintf("unknown-%u", t));
}

/* An AAEL entry: bound to its digest, parsed, its content appended under its claim name. */
static vt_res aael_entry(struct ctx *c, const struct vt_evlog_event *ev)
{
    struct vt_aael_entry e;
    char name[sizeof(AAEL_PREFIX) + VT_AAEL_MAX_DOMAIN + 1 + VT_AAEL_MAX_OPERATION];
    ENSURE(bound(c, ev, ev->data, ev->data_len), VT_ERR_EVLOG_AAEL_UNBOUND);
    GUARD(vti_aael_parse(ev->data, ev->data_len, &e));
    snprintf(name, sizeof(name), AAEL_PREFIX "%.*s.%.*s", (int)e.domain_len, e.domain,
             (int)e.operation_len, e.operation);
    json_t *list = json_object_get(c->aael, name);
    if (!list) {
        ENSURE(json_object_size(c->aael) < AAEL_MAX_NAMES, VT_ERR_EVLOG_AAEL_TOO_MANY);
        list = json_array();
        ENSURE(list && json_object_set_new(c->aael, name, list) == 0, VT_ERR_NOMEM);
    }
    ENSURE(json_array_append_new(list, json_stringn(e.content, e.content_len)) == 0,
           VT_ERR_NOMEM);
    c->n_aael++;
    return vti_ok();
}

/* eventlog.aael.*: one content as a string, several as an array in log order. */
static void aael_claims(struct ctx *c)
{
    const char *k;
    json_t *v;
    json_object_foreach(c->aael, k, v) {
        json_object_set(c->out, k, json_array_size(v) == 1 ? json_array_get(v, 0) : v);
    }
    if (c->log->format == VT_EVLOG_CCEL)
        json_object_set_new(c->out, "eventlog.aael.count", json_integer(c->n_aael));
}

static void one(struct ctx *c, const struct vt_evlog_event *ev)
{
    if (vti_aael_is_tagged(ev)) {
        if (vti_is_ok(c->err))
            c->err = aael_entry(c, ev);
        return;
    }
    switch (ev->type) {
    case EV_EFI_VARIABLE_DRIVER_CONFIG:
        variable(c, ev);
        break;
    case EV_EFI_BOOT_SERVICES_APPLICATION:
        json_array_append_new(c->apps, digest_hex(c, ev));
        break;
    case VT_EV_SEPARATOR:
        if (ev->data_len != 4 || vti_le32_unsafe(ev->data) != 0 ||
            !bound(c, ev, ev->data, ev->data_len))
            c->separators_ok = false;
        break;
    case EV_IPL:
        grub_string(c, ev);
        break;
    case EV_NONHOST_INFO:
        nonhost_info(c, ev);
        break;
    default:
        break;
    }
}

vt_res vti_evlog_claims(const struct vt_evlog *log, uint16_t alg, uint32_t verified, json_t **out)
{
    *out = NULL;
    size_t size = 0;
    struct vt_evlog_event ev;
    struct vt_evlog_iter it;
    for (uint32_t i = 0; i < log->n_algs; i++)
        if (log->algs[i].alg == alg)
            size = log->algs[i].size;
    ENSURE(vti_tpm_alg_md(alg) && size > 0, VT_ERR_EVLOG_BANK_MISSING);
    struct ctx c = { .log = log, .alg = alg, .size = size, .verified = verified,
                     .out = json_object(), .apps = json_array(), .grub = json_array(),
                     .aael = json_object(), .separators_ok = true, .err = vti_ok() };
    bool any_sep = false;
    vti_evlog_iter_init(log, &it);
    while (vti_evlog_next(&it, &ev)) {
        if (!on_verified(&c, &ev))
            continue;
        any_sep |= ev.type == VT_EV_SEPARATOR;
        one(&c, &ev);
    }
    if (any_sep)
        json_object_set_new(c.out, "eventlog.separators_valid", json_boolean(c.separators_ok));
    if (json_array_size(c.apps))
        json_object_set(c.out, "eventlog.efi_apps", c.apps);
    if (json_array_size(c.grub))
        json_object_set(c.out, "eventlog.grub_cmds", c.grub);
    aael_claims(&c);
    json_decref(c.apps);
    json_decref(c.grub);
    json_decref(c.aael);
    if (!vti_is_ok(c.err) || !c.out) {
        json_decref(c.out);
        return vti_is_ok(c.err) ? VT_FAIL(VT_ERR_NOMEM) : c.err;
    }
    *out = c.out;
    return vti_ok();
}
