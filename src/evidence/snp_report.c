/* SPDX-License-Identifier: Apache-2.0 */
/*
 * snp_report.c - parser of the AMD SEV-SNP ATTESTATION_REPORT (pure, bounded).
 *
 * Owns: the byte layout of the 1184-byte report and its strict validation.
 * Trust boundary: the input is attacker-controlled (it arrives from a peer or a file); every
 * byte is read through one vt_cur and the whole report must be consumed. Nothing here is
 * trusted until the verifier has checked the signature over signed_bytes, which are exactly
 * the bytes this parser read the fields from.
 * Spec: AMD SEV-SNP Firmware ABI Specification (56860), "ATTESTATION_REPORT Structure";
 * ../shared/FORMATS.md section 4. Versions: 2 (no CPUID fields), 3 and 4 (CPUID fields),
 * 5 (launch/current mitigation vectors). Fields a version does not define must be zero.
 */
#include "evidence/snp_report.h"

#include <string.h>
#include <strings.h>

#include "util/cursor.h"

const char *vti_snp_product_name(enum vt_snp_product p)
{
    switch (p) {
    case VT_SNP_PRODUCT_MILAN: return "Milan";
    case VT_SNP_PRODUCT_GENOA: return "Genoa";
    case VT_SNP_PRODUCT_TURIN: return "Turin";
    default: return "unknown";
    }
}

enum vt_snp_product vti_snp_product_from_name(const char *name, size_t len)
{
    static const struct { const char *n; enum vt_snp_product p; } tab[] = {
        { "Milan", VT_SNP_PRODUCT_MILAN }, { "Genoa", VT_SNP_PRODUCT_GENOA },
        { "Turin", VT_SNP_PRODUCT_TURIN },
    };
    for (size_t i = 0; i < VT_ARRAY_LEN(tab); i++) {
        size_t n = strlen(tab[i].n);
        /* exact name, or name followed by a stepping suffix ("Milan-B0") */
        if (len >= n && strncasecmp(name, tab[i].n, n) == 0 && (len == n || name[n] == '-'))
            return tab[i].p;
    }
    return VT_SNP_PRODUCT_UNKNOWN;
}

enum vt_snp_product vti_snp_product_from_cpuid(uint8_t family, uint8_t model)
{
    if (family == 0x19) {
        if (model <= 0x0f)
            return VT_SNP_PRODUCT_MILAN;
        if ((model >= 0x10 && model <= 0x1f) || (model >= 0xa0 && model <= 0xaf))
            return VT_SNP_PRODUCT_GENOA;
        return VT_SNP_PRODUCT_UNKNOWN;
    }
    if (family == 0x1a)
        return VT_SNP_PRODUCT_TURIN;
    return VT_SNP_PRODUCT_UNKNOWN;
}

struct vt_snp_tcb vti_snp_tcb_split(uint64_t raw, enum vt_snp_product product)
{
    struct vt_snp_tcb t = { .raw = raw };
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(raw >> (8 * i));
    if (product == VT_SNP_PRODUCT_TURIN) {
        /* Turin: [0] FMC, [1] BOOT_LOADER, [2] TEE, [3] SNP, [4..6] reserved, [7] MICROCODE */
        t.fmc = b[0];
        t.bl = b[1];
        t.tee = b[2];
        t.snp = b[3];
    } else {
        /* Milan/Genoa: [0] BOOT_LOADER, [1] TEE, [2..5] reserved, [6] SNP, [7] MICROCODE */
        t.bl = b[0];
        t.tee = b[1];
        t.snp = b[6];
    }
    t.ucode = b[7];
    return t;
}

bool vti_snp_report_plausible(const uint8_t *p, size_t len)
{
    if (!p || len != VT_SNP_REPORT_LEN)
        return false;
    uint32_t version = vti_le32_unsafe(p);
    uint32_t algo = vti_le32_unsafe(p + 0x34);
    return version >= VT_SNP_MIN_VERSION && version <= VT_SNP_MAX_VERSION &&
           algo == VT_SNP_SIG_ALGO_ECDSA_P384_SHA384;
}

/* A 72-byte little-endian signature component: the low 48 bytes hold the value (reversed into
 * big-endian out), the high 24 bytes must be zero. */
static vt_res read_sig_component(struct vt_cur *c, uint8_t out[48])
{
    const uint8_t *le;
    GUARD(vti_cur_view(c, 48, &le));
    for (size_t i = 0; i < 48; i++)
        out[i] = le[47 - i];
    return vti_cur_zeros(c, 24, VT_ERR_SNP_RESERVED);
}

vt_res vti_snp_report_parse(const uint8_t *p, size_t len, struct vt_snp_report *out)
{
    struct vt_snp_report r;
    memset(&r, 0, sizeof(r));
    ENSURE(p != NULL && out != NULL, VT_ERR_INVALID_ARG);
    ENSURE(len == VT_SNP_REPORT_LEN, VT_ERR_SNP_REPORT_SIZE);
    struct vt_cur c = vti_cur_init(p, len);
    uint8_t u8;

    /* 0x000 VERSION */
    GUARD(vti_cur_u32le(&c, &r.version));
    ENSURE(r.version >= VT_SNP_MIN_VERSION && r.version <= VT_SNP_MAX_VERSION, VT_ERR_SNP_VERSION);
    /* 0x004 GUEST_SVN, 0x008 POLICY */
    GUARD(vti_cur_u32le(&c, &r.guest_svn));
    GUARD(vti_cur_u64le(&c, &r.policy));
    ENSURE((r.policy & VT_SNP_POLICY_RESERVED_ONE) != 0, VT_ERR_SNP_POLICY);
    ENSURE((r.policy & ~VT_SNP_POLICY_KNOWN_MASK) == 0, VT_ERR_SNP_POLICY);
    /* 0x010 FAMILY_ID, 0x020 IMAGE_ID */
    GUARD(vti_cur_view(&c, 16, &r.family_id));
    GUARD(vti_cur_view(&c, 16, &r.image_id));
    /* 0x030 VMPL, 0x034 SIGNATURE_ALGO */
    GUARD(vti_cur_u32le(&c, &r.vmpl));
    GUARD(vti_cur_u32le(&c, &r.signature_algo));
    ENSURE(r.signature_algo == VT_SNP_SIG_ALGO_ECDSA_P384_SHA384, VT_ERR_SNP_SIG_ALGO);
    /* 0x038 CURRENT_TCB, 0x040 PLATFORM_INFO */
    GUARD(vti_cur_u64le(&c, &r.current_tcb));
    GUARD(vti_cur_u64le(&c, &r.platform_info));
    /* 0x048 flags: bit0 AUTHOR_KEY_EN, bit1 MASK_CHIP_KEY, bits 4:2 SIGNING_KEY, rest reserved */
    GUARD(vti_cur_u32le(&c, &r.flags));
    ENSURE((r.flags & ~(uint32_t)0x1f) == 0, VT_ERR_SNP_RESERVED);
    r.author_key_en = (r.flags & 1u) != 0;
    r.mask_chip_key = (r.flags & 2u) != 0;
    uint32_t signer = (r.flags >> 2) & 7u;
    ENSURE(signer == VT_SNP_SIGNER_VCEK || signer == VT_SNP_SIGNER_VLEK, VT_ERR_SNP_SIGNING_KEY);
    r.signer = (enum vt_snp_signer)signer;
    /* 0x04C reserved */
    GUARD(vti_cur_zeros(&c, 4, VT_ERR_SNP_RESERVED));
    /* 0x050 REPORT_DATA .. 0x160 REPORT_ID_MA */
    GUARD(vti_cur_view(&c, 64, &r.report_data));
    GUARD(vti_cur_view(&c, 48, &r.measurement));
    GUARD(vti_cur_view(&c, 32, &r.host_data));
    GUARD(vti_cur_view(&c, 48, &r.id_key_digest));
    GUARD(vti_cur_view(&c, 48, &r.author_key_digest));
    GUARD(vti_cur_view(&c, 32, &r.report_id));
    GUARD(vti_cur_view(&c, 32, &r.report_id_ma));
    /* 0x180 REPORTED_TCB */
    GUARD(vti_cur_u64le(&c, &r.reported_tcb));
    /* 0x188 CPUID_FAM_ID, CPUID_MOD_ID, CPUID_STEP (v3+; reserved zero in v2) */
    if (r.version >= 3) {
        GUARD(vti_cur_u8(&c, &r.cpuid_fam_id));
        GUARD(vti_cur_u8(&c, &r.cpuid_mod_id));
        GUARD(vti_cur_u8(&c, &r.cpuid_step));
        r.product = vti_snp_product_from_cpuid(r.cpuid_fam_id, r.cpuid_mod_id);
    } else {
        GUARD(vti_cur_zeros(&c, 3, VT_ERR_SNP_RESERVED));
    }
    /* 0x18B reserved (21) */
    GUARD(vti_cur_zeros(&c, 21, VT_ERR_SNP_RESERVED));
    /* 0x1A0 CHIP_ID */
    GUARD(vti_cur_view(&c, 64, &r.chip_id));
    /* 0x1E0 COMMITTED_TCB, 0x1E8 CURRENT_{BUILD,MINOR,MAJOR}, rsvd, 0x1EC COMMITTED_..., rsvd */
    GUARD(vti_cur_u64le(&c, &r.committed_tcb));
    GUARD(vti_cur_u8(&c, &r.current_build));
    GUARD(vti_cur_u8(&c, &r.current_minor));
    GUARD(vti_cur_u8(&c, &r.current_major));
    GUARD(vti_cur_u8(&c, &u8));
    ENSURE(u8 == 0, VT_ERR_SNP_RESERVED);
    GUARD(vti_cur_u8(&c, &r.committed_build));
    GUARD(vti_cur_u8(&c, &r.committed_minor));
    GUARD(vti_cur_u8(&c, &r.committed_major));
    GUARD(vti_cur_u8(&c, &u8));
    ENSURE(u8 == 0, VT_ERR_SNP_RESERVED);
    /* 0x1F0 LAUNCH_TCB */
    GUARD(vti_cur_u64le(&c, &r.launch_tcb));
    /* 0x1F8 LAUNCH_MIT_VECTOR, 0x200 CURRENT_MIT_VECTOR (v5; reserved zero before) */
    if (r.version >= 5) {
        GUARD(vti_cur_u64le(&c, &r.launch_mit_vector));
        GUARD(vti_cur_u64le(&c, &r.current_mit_vector));
    } else {
        GUARD(vti_cur_zeros(&c, 16, VT_ERR_SNP_RESERVED));
    }
    /* 0x208 reserved up to the signature */
    GUARD(vti_cur_zeros(&c, VT_SNP_SIGNED_LEN - 0x208, VT_ERR_SNP_RESERVED));
    ENSURE(c.off == VT_SNP_SIGNED_LEN, VT_ERR_INTERNAL);
    r.signed_bytes = p;
    r.signed_len = VT_SNP_SIGNED_LEN;
    /* 0x2A0 SIGNATURE: R (72 LE), S (72 LE), 368 reserved */
    GUARD(read_sig_component(&c, r.sig_r));
    GUARD(read_sig_component(&c, r.sig_s));
    GUARD(vti_cur_zeros(&c, 512 - 144, VT_ERR_SNP_RESERVED));
    GUARD(vti_cur_done(&c));
    *out = r;
    return vti_ok();
}
