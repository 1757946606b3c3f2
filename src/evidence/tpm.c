/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tpm.c - TPM 2.0 structure parsers (see tpm.h). One bounded reader; no crypto.
 */
#include "evidence/tpm.h"

size_t vti_tpm_hash_size(uint16_t alg)
{
    switch (alg) {
    case VT_TPM_ALG_SHA1:
        return 20;
    case VT_TPM_ALG_SHA256:
        return 32;
    case VT_TPM_ALG_SHA384:
        return 48;
    case VT_TPM_ALG_SHA512:
        return 64;
    default:
        return 0;
    }
}

const char *vti_tpm_hash_name(uint16_t alg)
{
    switch (alg) {
    case VT_TPM_ALG_SHA1:
        return "sha1";
    case VT_TPM_ALG_SHA256:
        return "sha256";
    case VT_TPM_ALG_SHA384:
        return "sha384";
    case VT_TPM_ALG_SHA512:
        return "sha512";
    default:
        return "unknown";
    }
}

/* TPM2B: u16 size (at most max, else err; empty refused with err when nonempty), then bytes. */
static vt_res tpm2b(struct vt_cur *c, size_t max, bool nonempty, int err, const uint8_t **p,
                    uint16_t *n)
{
    GUARD(vti_cur_u16be(c, n));
    ENSURE(*n <= max && (!nonempty || *n > 0), err);
    return vti_cur_view(c, *n, p);
}

static vt_res pcr_selection(struct vt_cur *c, struct vt_tpms_attest *a)
{
    GUARD(vti_cur_u32be(c, &a->n_sel));
    ENSURE(a->n_sel >= 1 && a->n_sel <= VT_TPM_MAX_BANKS, VT_ERR_TPM_PCR_SEL_COUNT);
    for (uint32_t i = 0; i < a->n_sel; i++) {
        struct vt_tpm_pcr_sel *s = &a->sel[i];
        GUARD(vti_cur_u16be(c, &s->hash));
        GUARD(vti_cur_u8(c, &s->size));
        ENSURE(vti_tpm_hash_size(s->hash) != 0, VT_ERR_TPM_PCR_SEL_HASH);
        ENSURE(s->size >= 1 && s->size <= VT_TPM_MAX_SELECT, VT_ERR_TPM_PCR_SEL_SIZE);
        GUARD(vti_cur_copy(c, s->bits, s->size));
    }
    return vti_ok();
}

vt_res vti_tpms_attest_parse(const uint8_t *p, size_t len, struct vt_tpms_attest *out)
{
    struct vt_cur c = vti_cur_init(p, len);
    struct vt_tpms_attest a = { 0 };
    GUARD(vti_cur_u32be(&c, &a.magic));
    ENSURE(a.magic == VT_TPM_GENERATED_VALUE, VT_ERR_TPM_ATTEST_MAGIC);
    GUARD(vti_cur_u16be(&c, &a.type));
    ENSURE(a.type == VT_TPM_ST_ATTEST_QUOTE, VT_ERR_TPM_ATTEST_TYPE);
    GUARD(tpm2b(&c, VT_TPM_MAX_NAME, false, VT_ERR_TPM_NAME_SIZE, &a.qualified_signer,
                &a.qualified_signer_len));
    GUARD(tpm2b(&c, VT_TPM_MAX_DATA, false, VT_ERR_TPM_EXTRA_DATA_SIZE, &a.extra_data,
                &a.extra_data_len));
    GUARD(vti_cur_u64be(&c, &a.clock));
    GUARD(vti_cur_u32be(&c, &a.reset_count));
    GUARD(vti_cur_u32be(&c, &a.restart_count));
    GUARD(vti_cur_u8(&c, &a.safe));
    GUARD(vti_cur_u64be(&c, &a.firmware_version));
    GUARD(pcr_selection(&c, &a));
    GUARD(tpm2b(&c, VT_TPM_MAX_DATA, false, VT_ERR_TPM_PCR_DIGEST_SIZE, &a.pcr_digest,
                &a.pcr_digest_len));
    GUARD(vti_cur_done(&c));
    *out = a;
    return vti_ok();
}

vt_res vti_tpmt_signature_parse(const uint8_t *p, size_t len, struct vt_tpmt_signature *out)
{
    struct vt_cur c = vti_cur_init(p, len);
    struct vt_tpmt_signature s = { 0 };
    GUARD(vti_cur_u16be(&c, &s.sig_alg));
    ENSURE(s.sig_alg == VT_TPM_ALG_RSASSA || s.sig_alg == VT_TPM_ALG_RSAPSS ||
           s.sig_alg == VT_TPM_ALG_ECDSA, VT_ERR_TPM_SIG_ALG);
    GUARD(vti_cur_u16be(&c, &s.hash_alg));
    ENSURE(vti_tpm_hash_size(s.hash_alg) != 0, VT_ERR_TPM_SIG_HASH);
    if (s.sig_alg == VT_TPM_ALG_ECDSA) {
        GUARD(tpm2b(&c, VT_TPM_MAX_ECC, true, VT_ERR_TPM_SIG_ECC_SIZE, &s.r, &s.r_len));
        GUARD(tpm2b(&c, VT_TPM_MAX_ECC, true, VT_ERR_TPM_SIG_ECC_SIZE, &s.s, &s.s_len));
    } else {
        GUARD(tpm2b(&c, VT_TPM_MAX_RSA, true, VT_ERR_TPM_SIG_RSA_SIZE, &s.rsa, &s.rsa_len));
    }
    GUARD(vti_cur_done(&c));
    *out = s;
    return vti_ok();
}

/* TPMT_SYM_DEF_OBJECT: NULL, or AES with keyBits and mode. */
static vt_res sym_def(struct vt_cur *c)
{
    uint16_t alg, bits, mode;
    GUARD(vti_cur_u16be(c, &alg));
    if (alg == VT_TPM_ALG_NULL)
        return vti_ok();
    ENSURE(alg == VT_TPM_ALG_AES, VT_ERR_TPM_PUBLIC_SYM);
    GUARD(vti_cur_u16be(c, &bits));
    return vti_cur_u16be(c, &mode);
}

/* A scheme: NULL, one without details, or one with a hash algorithm. */
static vt_res scheme_read(struct vt_cur *c, const uint16_t *with_hash, size_t nh,
                          uint16_t no_details, int err, uint16_t *scheme, uint16_t *hash)
{
    GUARD(vti_cur_u16be(c, scheme));
    *hash = 0;
    if (*scheme == VT_TPM_ALG_NULL || (no_details && *scheme == no_details))
        return vti_ok();
    for (size_t i = 0; i < nh; i++) {
        if (*scheme == with_hash[i]) {
            GUARD(vti_cur_u16be(c, hash));
            ENSURE(vti_tpm_hash_size(*hash) != 0, err);
            return vti_ok();
        }
    }
    return VT_FAIL(err);
}

static vt_res rsa_parms_unique(struct vt_cur *c, struct vt_tpmt_public *k)
{
    static const uint16_t hs[] = { VT_TPM_ALG_RSASSA, VT_TPM_ALG_RSAPSS, VT_TPM_ALG_OAEP };
    GUARD(sym_def(c));
    GUARD(scheme_read(c, hs, VT_ARRAY_LEN(hs), VT_TPM_ALG_RSAES, VT_ERR_TPM_PUBLIC_SCHEME,
                      &k->scheme, &k->scheme_hash));
    GUARD(vti_cur_u16be(c, &k->key_bits));
    GUARD(vti_cur_u32be(c, &k->exponent));
    ENSURE(k->key_bits >= 1024 && k->key_bits <= 4096 && k->key_bits % 8 == 0,
           VT_ERR_TPM_PUBLIC_RSA_BITS);
    GUARD(tpm2b(c, VT_TPM_MAX_RSA, true, VT_ERR_TPM_PUBLIC_RSA_BITS, &k->n, &k->n_len));
    ENSURE(k->n_len == k->key_bits / 8, VT_ERR_TPM_PUBLIC_RSA_BITS);
    return vti_ok();
}

static size_t curve_coord(uint16_t curve)
{
    return curve == VT_TPM_ECC_NIST_P256 ? 32 : curve == VT_TPM_ECC_NIST_P384 ? 48 :
           curve == VT_TPM_ECC_NIST_P521 ? 66 : 0;
}

static vt_res ecc_parms_unique(struct vt_cur *c, struct vt_tpmt_public *k)
{
    static const uint16_t hs[] = { VT_TPM_ALG_ECDSA, VT_TPM_ALG_ECDH, VT_TPM_ALG_ECSCHNORR };
    static const uint16_t kdfs[] = { VT_TPM_ALG_MGF1, VT_TPM_ALG_KDF1_56A, VT_TPM_ALG_KDF2,
                                     VT_TPM_ALG_KDF1_108 };
    uint16_t kdf, kdf_hash;
    GUARD(sym_def(c));
    GUARD(scheme_read(c, hs, VT_ARRAY_LEN(hs), 0, VT_ERR_TPM_PUBLIC_SCHEME, &k->scheme,
                      &k->scheme_hash));
    GUARD(vti_cur_u16be(c, &k->curve));
    size_t n = curve_coord(k->curve);
    ENSURE(n != 0, VT_ERR_TPM_PUBLIC_ECC_CURVE);
    GUARD(scheme_read(c, kdfs, VT_ARRAY_LEN(kdfs), 0, VT_ERR_TPM_PUBLIC_KDF, &kdf, &kdf_hash));
    GUARD(tpm2b(c, n, true, VT_ERR_TPM_PUBLIC_ECC_POINT, &k->x, &k->x_len));
    GUARD(tpm2b(c, n, true, VT_ERR_TPM_PUBLIC_ECC_POINT, &k->y, &k->y_len));
    return vti_ok();
}

vt_res vti_tpmt_public_read(struct vt_cur *c, struct vt_tpmt_public *out)
{
    struct vt_tpmt_public k = { 0 };
    const uint8_t *pol;
    uint16_t pol_len;
    GUARD(vti_cur_u16be(c, &k.type));
    ENSURE(k.type == VT_TPM_ALG_RSA || k.type == VT_TPM_ALG_ECC, VT_ERR_TPM_PUBLIC_TYPE);
    GUARD(vti_cur_u16be(c, &k.name_alg));
    ENSURE(vti_tpm_hash_size(k.name_alg) != 0, VT_ERR_TPM_PUBLIC_NAME_ALG);
    GUARD(vti_cur_u32be(c, &k.attributes));
    GUARD(tpm2b(c, VT_TPM_MAX_DATA, false, VT_ERR_TPM_PUBLIC_POLICY_SIZE, &pol, &pol_len));
    if (k.type == VT_TPM_ALG_RSA)
        GUARD(rsa_parms_unique(c, &k));
    else
        GUARD(ecc_parms_unique(c, &k));
    *out = k;
    return vti_ok();
}

vt_res vti_tpmt_public_parse(const uint8_t *p, size_t len, struct vt_tpmt_public *out)
{
    struct vt_cur c = vti_cur_init(p, len);
    struct vt_tpmt_public k;
    GUARD(vti_tpmt_public_read(&c, &k));
    GUARD(vti_cur_done(&c));
    *out = k;
    return vti_ok();
}

vt_res vti_tpm2b_public_parse(const uint8_t *p, size_t len, struct vt_tpmt_public *out)
{
    struct vt_cur c = vti_cur_init(p, len), sub;
    uint16_t n;
    struct vt_tpmt_public k;
    GUARD(vti_cur_u16be(&c, &n));
    ENSURE(n == vti_cur_left(&c), VT_ERR_TPM_PUBLIC_SIZE);
    GUARD(vti_cur_sub(&c, n, &sub));
    vt_res r = vti_tpmt_public_read(&sub, &k);
    if (r.err == VT_ERR_TRUNCATED)
        return VT_FAIL(VT_ERR_TPM_PUBLIC_SIZE);
    GUARD(r);
    ENSURE(vti_cur_left(&sub) == 0, VT_ERR_TPM_PUBLIC_SIZE);
    *out = k;
    return vti_ok();
}

const EVP_MD *vti_tpm_alg_md(uint16_t alg)
{
    switch (alg) {
    case VT_TPM_ALG_SHA1:
        return EVP_sha1();
    case VT_TPM_ALG_SHA256:
        return EVP_sha256();
    case VT_TPM_ALG_SHA384:
        return EVP_sha384();
    case VT_TPM_ALG_SHA512:
        return EVP_sha512();
    default:
        return NULL;
    }
}
