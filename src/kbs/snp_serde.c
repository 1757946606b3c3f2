/* SPDX-License-Identifier: Apache-2.0 */
/*
 * snp_serde.c - SNP evidence as confidential-containers/guest-components sends it: the serde
 * JSON (serde_json, derived Serialize) of virtee/sev 6.x `AttestationReport` plus
 * `Option<Vec<CertTableEntry>>`, rebuilt into the raw report for the SNP verifier.
 *
 * Owns: the exact inverse of the crate's serialisation (facts from virtee/sev v6.3
 * src/firmware/guest/types/snp.rs, src/firmware/host/types/snp.rs, src/util/array.rs,
 * src/certs/snp/ecdsa/mod.rs), placed at the offsets of ../shared/FORMATS.md section 4:
 *   - u32/u64 fields and the bitfield newtypes GuestPolicy(u64), PlatformInfo(u64),
 *     KeyInfo(u32) are JSON numbers (little-endian in the report);
 *   - byte arrays (plain [u8; N] and Array<u8, N> with BigArray) are JSON arrays of exactly
 *     N numbers 0..255;
 *   - TcbVersion is {"fmc": u8|null, "bootloader", "tee", "snp", "microcode"}: fmc null =
 *     Milan/Genoa byte layout [bl, tee, 0,0,0,0, snp, ucode], fmc set = Turin layout
 *     [fmc, bl, tee, snp, 0,0,0, ucode] (all four TCBs agree; for v3+ reports the layout
 *     must match the product named by CPUID family/model);
 *   - Version is {"major","minor","build"} stored as bytes build, minor, major;
 *   - cpuid_fam_id/cpuid_mod_id/cpuid_step are null exactly for version 2,
 *     launch_mit_vector/current_mit_vector are set exactly for version 5;
 *   - Signature is {"r": [72], "s": [72]} (little-endian, as in the report); the 368 reserved
 *     bytes after them, and every reserved field, are not serialised and are rebuilt as zero;
 *   - CertTableEntry is {"cert_type": "ARK"|"ASK"|"VCEK"|"VLEK"|"CRL"|"Empty"|{"OTHER":
 *     "<uuid>"}, "data": [bytes]}; ARK/ASK/VCEK/VLEK become table entries with their GUIDs,
 *     the others are skipped (as the certificate-table parser skips unknown GUIDs).
 * Every object must have exactly the crate's keys (unknown or missing keys are refused).
 * Trust boundary: the whole input is untrusted; nothing here is trusted because it parsed,
 * the rebuilt bytes go through the normal SNP verifier (a changed field fails the signature).
 * Limits: jansson integers are signed 64-bit, so u64 fields above 2^63-1 cannot be sent.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "endorsements/amd_certs.h"
#include "evidence/snp_report.h"
#include "kbs/snp_serde.h"

enum kind { K_U32, K_U64, K_ARR, K_TCB, K_OPT_U8, K_OPT_U64, K_VER, K_SIG };

struct field {
    const char *name;
    enum kind kind;
    size_t off;
    size_t len; /* K_ARR */
};

/* The crate's field order and the report offsets (FORMATS.md section 4). */
static const struct field fields[] = {
    { "version", K_U32, 0x000, 0 },
    { "guest_svn", K_U32, 0x004, 0 },
    { "policy", K_U64, 0x008, 0 },
    { "family_id", K_ARR, 0x010, 16 },
    { "image_id", K_ARR, 0x020, 16 },
    { "vmpl", K_U32, 0x030, 0 },
    { "sig_algo", K_U32, 0x034, 0 },
    { "current_tcb", K_TCB, 0x038, 0 },
    { "plat_info", K_U64, 0x040, 0 },
    { "key_info", K_U32, 0x048, 0 },
    { "report_data", K_ARR, 0x050, 64 },
    { "measurement", K_ARR, 0x090, 48 },
    { "host_data", K_ARR, 0x0C0, 32 },
    { "id_key_digest", K_ARR, 0x0E0, 48 },
    { "author_key_digest", K_ARR, 0x110, 48 },
    { "report_id", K_ARR, 0x140, 32 },
    { "report_id_ma", K_ARR, 0x160, 32 },
    { "reported_tcb", K_TCB, 0x180, 0 },
    { "cpuid_fam_id", K_OPT_U8, 0x188, 0 },
    { "cpuid_mod_id", K_OPT_U8, 0x189, 0 },
    { "cpuid_step", K_OPT_U8, 0x18A, 0 },
    { "chip_id", K_ARR, 0x1A0, 64 },
    { "committed_tcb", K_TCB, 0x1E0, 0 },
    { "current", K_VER, 0x1E8, 0 },
    { "committed", K_VER, 0x1EC, 0 },
    { "launch_tcb", K_TCB, 0x1F0, 0 },
    { "launch_mit_vector", K_OPT_U64, 0x1F8, 0 },
    { "current_mit_vector", K_OPT_U64, 0x200, 0 },
    { "signature", K_SIG, 0x2A0, 0 },
};
#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

struct ctx {
    uint8_t *rep;
    char *why;
    size_t why_len;
    int turin; /* -1 not yet known, 0 legacy, 1 Turin (from the TCB objects) */
};

static bool refuse(struct ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool refuse(struct ctx *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->why, c->why_len, fmt, ap);
    va_end(ap);
    return false;
}

static bool get_uint(struct ctx *c, const char *what, const json_t *v, uint64_t max,
                     uint64_t *out)
{
    if (!json_is_integer(v))
        return refuse(c, "snp attestation_report.%s must be an integer", what);
    json_int_t i = json_integer_value(v);
    if (i < 0 || (uint64_t)i > max)
        return refuse(c, "snp attestation_report.%s out of range", what);
    *out = (uint64_t)i;
    return true;
}

static void put_le(uint8_t *p, uint64_t v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static bool get_bytes(struct ctx *c, const char *what, const json_t *v, uint8_t *out,
                      size_t n)
{
    if (!json_is_array(v) || json_array_size(v) != n)
        return refuse(c, "snp attestation_report.%s must be an array of %zu bytes", what, n);
    for (size_t i = 0; i < n; i++) {
        uint64_t b = 0;
        if (!get_uint(c, what, json_array_get(v, i), 0xff, &b))
            return false;
        out[i] = (uint8_t)b;
    }
    return true;
}

/* Exactly the keys in names[0..n). */
static bool exact_keys(struct ctx *c, const char *what, const json_t *o,
                       const char *const *names, size_t n)
{
    if (!json_is_object(o))
        return refuse(c, "snp %s must be an object", what);
    for (size_t i = 0; i < n; i++)
        if (!json_object_get(o, names[i]))
            return refuse(c, "snp %s lacks \"%s\"", what, names[i]);
    if (json_object_size(o) != n)
        return refuse(c, "snp %s has fields the sev crate does not serialise", what);
    return true;
}

static bool put_tcb(struct ctx *c, const char *what, const json_t *o, uint8_t *p)
{
    static const char *const k[] = { "fmc", "bootloader", "tee", "snp", "microcode" };
    uint64_t v[5] = { 0 };
    if (!exact_keys(c, what, o, k, 5))
        return false;
    const json_t *fmc = json_object_get(o, "fmc");
    int turin = !json_is_null(fmc);
    if (c->turin >= 0 && c->turin != turin)
        return refuse(c, "snp TCB versions mix the Turin and the Milan/Genoa layout");
    c->turin = turin;
    for (size_t i = turin ? 0 : 1; i < 5; i++)
        if (!get_uint(c, what, json_object_get(o, k[i]), 0xff, &v[i]))
            return false;
    memset(p, 0, 8);
    if (turin) {
        p[0] = (uint8_t)v[0];
        p[1] = (uint8_t)v[1];
        p[2] = (uint8_t)v[2];
        p[3] = (uint8_t)v[3];
    } else {
        p[0] = (uint8_t)v[1];
        p[1] = (uint8_t)v[2];
        p[6] = (uint8_t)v[3];
    }
    p[7] = (uint8_t)v[4];
    return true;
}

static bool put_field(struct ctx *c, const struct field *f, const json_t *v, uint32_t version)
{
    uint8_t *p = c->rep + f->off;
    uint64_t x = 0;
    switch (f->kind) {
    case K_U32:
        if (!get_uint(c, f->name, v, UINT32_MAX, &x))
            return false;
        put_le(p, x, 4);
        return true;
    case K_U64:
        if (!get_uint(c, f->name, v, UINT64_MAX, &x))
            return false;
        put_le(p, x, 8);
        return true;
    case K_ARR:
        return get_bytes(c, f->name, v, p, f->len);
    case K_TCB:
        return put_tcb(c, f->name, v, p);
    case K_OPT_U8:
    case K_OPT_U64: {
        bool want = f->kind == K_OPT_U8 ? version >= 3 : version >= 5;
        if (json_is_null(v)) {
            if (want)
                return refuse(c, "snp attestation_report.%s is null in a version %u report",
                              f->name, version);
            return true;
        }
        if (!want)
            return refuse(c, "snp attestation_report.%s is set in a version %u report", f->name,
                          version);
        size_t n = f->kind == K_OPT_U8 ? 1 : 8;
        if (!get_uint(c, f->name, v, n == 1 ? 0xff : UINT64_MAX, &x))
            return false;
        put_le(p, x, n);
        return true;
    }
    case K_VER: {
        static const char *const k[] = { "major", "minor", "build" };
        uint64_t mj = 0, mn = 0, bd = 0;
        if (!exact_keys(c, f->name, v, k, 3) ||
            !get_uint(c, f->name, json_object_get(v, "major"), 0xff, &mj) ||
            !get_uint(c, f->name, json_object_get(v, "minor"), 0xff, &mn) ||
            !get_uint(c, f->name, json_object_get(v, "build"), 0xff, &bd))
            return false;
        p[0] = (uint8_t)bd;
        p[1] = (uint8_t)mn;
        p[2] = (uint8_t)mj;
        return true;
    }
    case K_SIG: {
        static const char *const k[] = { "r", "s" };
        return exact_keys(c, "signature", v, k, 2) &&
               get_bytes(c, "signature.r", json_object_get(v, "r"), p, 72) &&
               get_bytes(c, "signature.s", json_object_get(v, "s"), p + 72, 72);
    }
    }
    return refuse(c, "internal: unknown field kind");
}

static bool parse_report(struct ctx *c, const json_t *o)
{
    const char *names[NFIELDS];
    for (size_t i = 0; i < NFIELDS; i++)
        names[i] = fields[i].name;
    if (!exact_keys(c, "attestation_report", o, names, NFIELDS))
        return false;
    uint64_t version = 0;
    if (!get_uint(c, "version", json_object_get(o, "version"), UINT32_MAX, &version))
        return false;
    if (version < 2 || version > 5)
        return refuse(c, "snp attestation_report.version %llu is not 2..5",
                      (unsigned long long)version);
    for (size_t i = 0; i < NFIELDS; i++)
        if (!put_field(c, &fields[i], json_object_get(o, fields[i].name), (uint32_t)version))
            return false;
    if (version >= 3) { /* the crate picks the TCB layout from CPUID family/model */
        enum vt_snp_product pr = vti_snp_product_from_cpuid(c->rep[0x188], c->rep[0x189]);
        if (pr == VT_SNP_PRODUCT_UNKNOWN)
            return refuse(c, "snp attestation_report cpuid family/model name no known product");
        if ((pr == VT_SNP_PRODUCT_TURIN) != (c->turin == 1))
            return refuse(c, "snp TCB layout (fmc %s) does not match the %s product",
                          c->turin == 1 ? "set" : "null", vti_snp_product_name(pr));
    }
    return true;
}

static bool parse_certs(struct ctx *c, const json_t *chain, struct vt_buf *table)
{
    if (json_is_null(chain))
        return true;
    if (!json_is_array(chain) || json_array_size(chain) > VT_AMD_MAX_CERTS)
        return refuse(c, "snp cert_chain must be null or an array of at most %d entries",
                      VT_AMD_MAX_CERTS);
    struct vt_buf der[VT_AMD_MAX_CERTS];
    struct vt_amd_table_entry e[VT_AMD_MAX_CERTS];
    size_t n = 0, nder = 0;
    bool ok = false;
    for (size_t i = 0; i < json_array_size(chain); i++) {
        static const char *const k[] = { "cert_type", "data" };
        const json_t *ent = json_array_get(chain, i);
        if (!exact_keys(c, "cert_chain entry", ent, k, 2))
            goto done;
        const json_t *t = json_object_get(ent, "cert_type");
        const uint8_t *guid = NULL;
        if (json_is_string(t)) {
            const char *s = json_string_value(t);
            if (!strcmp(s, "ARK"))
                guid = vt_amd_guid_ark;
            else if (!strcmp(s, "ASK"))
                guid = vt_amd_guid_ask;
            else if (!strcmp(s, "VCEK"))
                guid = vt_amd_guid_vcek;
            else if (!strcmp(s, "VLEK"))
                guid = vt_amd_guid_vlek;
            else if (strcmp(s, "CRL") != 0 && strcmp(s, "Empty") != 0) {
                refuse(c, "snp cert_chain entry has an unknown cert_type");
                goto done;
            }
        } else {
            const json_t *u = json_is_object(t) && json_object_size(t) == 1
                                  ? json_object_get(t, "OTHER") : NULL;
            if (!json_is_string(u) || json_string_length(u) != 36) {
                refuse(c, "snp cert_chain entry has an unknown cert_type");
                goto done;
            }
        }
        const json_t *d = json_object_get(ent, "data");
        size_t len = json_is_array(d) ? json_array_size(d) : 0;
        if (!json_is_array(d) || len > VT_AMD_MAX_CERT_LEN) {
            refuse(c, "snp cert_chain entry data must be an array of at most %u bytes",
                   VT_AMD_MAX_CERT_LEN);
            goto done;
        }
        if (!guid)
            continue;
        struct vt_buf *b = &der[nder];
        *b = (struct vt_buf)VT_BUF_INIT;
        nder++;
        if (vti_buf_zeros(b, len).err) {
            refuse(c, "out of memory");
            goto done;
        }
        if (!get_bytes(c, "cert_chain data", d, b->p, len))
            goto done;
        e[n++] = (struct vt_amd_table_entry){ .guid = guid, .der = b->p, .len = len };
    }
    if (n > 0 && vti_amd_cert_table_build(e, n, table).err) {
        refuse(c, "snp cert_chain cannot be turned into a certificate table");
        goto done;
    }
    ok = true;
done:
    for (size_t i = 0; i < nder; i++)
        vti_buf_free_nowipe(&der[i]);
    return ok;
}

bool vtk_snp_serde_parse(const json_t *ev, struct vt_buf *report, struct vt_buf *table,
                         char *why, size_t why_len)
{
    uint8_t rep[VTK_SNP_REPORT_LEN];
    memset(rep, 0, sizeof(rep));
    struct ctx c = { .rep = rep, .why = why, .why_len = why_len, .turin = -1 };
    static const char *const k[] = { "attestation_report", "cert_chain" };
    if (!exact_keys(&c, "primary_evidence", ev, k, 2) ||
        !parse_report(&c, json_object_get(ev, "attestation_report")) ||
        !parse_certs(&c, json_object_get(ev, "cert_chain"), table))
        return false;
    if (vti_buf_append(report, rep, sizeof(rep)).err)
        return refuse(&c, "out of memory");
    return true;
}
