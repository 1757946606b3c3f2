/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tpm_quote.c - TPM 2.0 quote verification with a known attestation key (see tpm_quote.h).
 *
 * Trust boundary: message, signature and PCR values are untrusted; the AK is trusted by the
 * caller (Azure: bound to the hardware report through the HCL variable data). Order: the
 * signature first (nothing in the message counts before it verifies), then extraData, then
 * the PCR digest.
 */
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>
#include <string.h>

#include "util/codec.h"
#include "evidence/tpm.h"
#include "util/secmem.h"
#include "verifiers/tpm_quote.h"

static vt_res pkey_fromdata(const char *type, OSSL_PARAM_BLD *b, EVP_PKEY **out)
{
    vt_res r = VT_FAIL(VT_ERR_TPM_AK_KEY);
    OSSL_PARAM *ps = OSSL_PARAM_BLD_to_param(b);
    EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
    if (ps && pc && EVP_PKEY_fromdata_init(pc) == 1 &&
        EVP_PKEY_fromdata(pc, out, EVP_PKEY_PUBLIC_KEY, ps) == 1)
        r = vti_ok();
    EVP_PKEY_CTX_free(pc);
    OSSL_PARAM_free(ps);
    return r;
}

vt_res vti_rsa_pkey_from_ne(const uint8_t *n, size_t nlen, const uint8_t *e, size_t elen,
                            EVP_PKEY **out)
{
    *out = NULL;
    ENSURE(nlen >= 128 && nlen <= VT_TPM_MAX_RSA && elen >= 1 && elen <= 8, VT_ERR_TPM_AK_KEY);
    BIGNUM *bn = BN_bin2bn(n, (int)nlen, NULL), *be = BN_bin2bn(e, (int)elen, NULL);
    OSSL_PARAM_BLD *b = OSSL_PARAM_BLD_new();
    vt_res r = VT_FAIL(VT_ERR_NOMEM);
    if (bn && be && b && OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_RSA_N, bn) == 1 &&
        OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_RSA_E, be) == 1)
        r = pkey_fromdata("RSA", b, out);
    OSSL_PARAM_BLD_free(b);
    BN_free(bn);
    BN_free(be);
    return r;
}

static vt_res ec_pkey(const struct vt_tpmt_public *k, EVP_PKEY **out)
{
    const char *grp = k->curve == VT_TPM_ECC_NIST_P256 ? "prime256v1" :
                      k->curve == VT_TPM_ECC_NIST_P384 ? "secp384r1" : "secp521r1";
    size_t n = k->curve == VT_TPM_ECC_NIST_P256 ? 32 : k->curve == VT_TPM_ECC_NIST_P384 ? 48 : 66;
    uint8_t pt[1 + 2 * 66] = { 0x04 };
    ENSURE(k->x_len <= n && k->y_len <= n, VT_ERR_TPM_PUBLIC_ECC_POINT);
    memcpy(pt + 1 + (n - k->x_len), k->x, k->x_len); /* left-pad with zeros */
    memcpy(pt + 1 + n + (n - k->y_len), k->y, k->y_len);
    OSSL_PARAM_BLD *b = OSSL_PARAM_BLD_new();
    vt_res r = VT_FAIL(VT_ERR_NOMEM);
    if (b && OSSL_PARAM_BLD_push_utf8_string(b, OSSL_PKEY_PARAM_GROUP_NAME, grp, 0) == 1 &&
        OSSL_PARAM_BLD_push_octet_string(b, OSSL_PKEY_PARAM_PUB_KEY, pt, 1 + 2 * n) == 1)
        r = pkey_fromdata("EC", b, out);
    OSSL_PARAM_BLD_free(b);
    return r;
}

vt_res vti_tpm_public_to_pkey(const struct vt_tpmt_public *k, EVP_PKEY **out)
{
    *out = NULL;
    if (k->type == VT_TPM_ALG_ECC)
        return ec_pkey(k, out);
    uint8_t e[4] = { 0x00, 0x01, 0x00, 0x01 };
    if (k->exponent) {
        e[0] = (uint8_t)(k->exponent >> 24);
        e[1] = (uint8_t)(k->exponent >> 16);
        e[2] = (uint8_t)(k->exponent >> 8);
        e[3] = (uint8_t)k->exponent;
    }
    return vti_rsa_pkey_from_ne(k->n, k->n_len, e, 4, out);
}

/* ---- signature ------------------------------------------------------------------------- */

static vt_res ecdsa_der(const struct vt_tpmt_signature *s, unsigned char **der, int *dlen)
{
    ECDSA_SIG *sig = ECDSA_SIG_new();
    BIGNUM *br = BN_bin2bn(s->r, s->r_len, NULL), *bs = BN_bin2bn(s->s, s->s_len, NULL);
    if (!sig || !br || !bs || ECDSA_SIG_set0(sig, br, bs) != 1) {
        BN_free(br);
        BN_free(bs);
        ECDSA_SIG_free(sig);
        return VT_FAIL(VT_ERR_NOMEM);
    }
    *dlen = i2d_ECDSA_SIG(sig, der);
    ECDSA_SIG_free(sig);
    ENSURE(*dlen > 0, VT_ERR_CRYPTO);
    return vti_ok();
}

/* Verify sig over msg with hash md; pss selects RSASSA-PSS (salt length recovered). */
static vt_res pkey_verify(EVP_PKEY *k, const EVP_MD *md, bool pss, const uint8_t *sig,
                          size_t sig_len, const uint8_t *msg, size_t msg_len)
{
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pc = NULL;
    vt_res r = VT_FAIL(VT_ERR_TPM_QUOTE_SIGNATURE);
    ENSURE(c, VT_ERR_NOMEM);
    if (EVP_DigestVerifyInit(c, &pc, md, NULL, k) == 1 &&
        (!pss || (EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PSS_PADDING) == 1 &&
                  EVP_PKEY_CTX_set_rsa_pss_saltlen(pc, RSA_PSS_SALTLEN_AUTO) == 1)) &&
        EVP_DigestVerify(c, sig, sig_len, msg, msg_len) == 1)
        r = vti_ok();
    EVP_MD_CTX_free(c);
    return r;
}

/* ECDSA: r and s (big-endian) no longer than the AK's curve, to DER, verified with the
 * signature scheme's hash. */
static vt_res ecdsa_verify(const struct vti_tpm_quote_in *in, const struct vt_tpmt_signature *s,
                           struct vt_report *rep)
{
    size_t n = ((size_t)EVP_PKEY_get_bits(in->ak) + 7) / 8;
    if (s->r_len > n || s->s_len > n) {
        if (rep)
            vti_report_step(rep, 0, "TPMT_SIGNATURE ECDSA r (%u bytes) and s (%u bytes) fit the "
                            "AK's %zu-bit curve: no", s->r_len, s->s_len, 8 * n);
        return VT_FAIL(VT_ERR_TPM_SIG_ECC_CURVE);
    }
    unsigned char *der = NULL;
    int dlen = 0;
    GUARD(ecdsa_der(s, &der, &dlen));
    vt_res r = pkey_verify(in->ak, vti_tpm_alg_md(s->hash_alg), false, der, (size_t)dlen,
                           in->msg, in->msg_len);
    OPENSSL_free(der);
    return r;
}

/* The signature algorithm fits the AK's key type (ECDSA: EC, RSASSA / RSAPSS: RSA). */
static vt_res check_key_type(int kt, const struct vt_tpmt_signature *s, struct vt_report *rep)
{
    bool ec = s->sig_alg == VT_TPM_ALG_ECDSA;
    bool ok = ec ? kt == EVP_PKEY_EC : kt == EVP_PKEY_RSA;
    if (!ok && rep)
        vti_report_step(rep, 0, "TPM quote signature algorithm (%s) fits the %s AK: no",
                        ec ? "ECDSA" : "RSA", kt == EVP_PKEY_EC ? "EC" : "RSA");
    ENSURE(ok, VT_ERR_TPM_SIG_KEY_TYPE);
    return vti_ok();
}

/* Returns the scheme hash in *hash. */
static vt_res check_signature(const struct vti_tpm_quote_in *in, uint16_t *hash,
                              struct vt_report *rep)
{
    int kt = EVP_PKEY_get_base_id(in->ak);
    if (in->sig_raw_rsa_sha256) {
        *hash = VT_TPM_ALG_SHA256;
        ENSURE(kt == EVP_PKEY_RSA, VT_ERR_TPM_SIG_KEY_TYPE);
        vt_res r = pkey_verify(in->ak, EVP_sha256(), false, in->sig, in->sig_len, in->msg,
                               in->msg_len);
        if (rep)
            vti_report_step(rep, vti_is_ok(r), "TPM quote signature (raw RSASSA-PKCS1-v1_5 "
                            "SHA-256, %zu bytes) by the AK: %s", in->sig_len,
                            vti_is_ok(r) ? "ok" : "invalid");
        return r;
    }
    struct vt_tpmt_signature s;
    vt_res r = vti_tpmt_signature_parse(in->sig, in->sig_len, &s);
    if (!vti_is_ok(r)) {
        if (rep)
            vti_report_step(rep, 0, "parse TPMT_SIGNATURE: %s", vt_strerror(r.err));
        return r;
    }
    *hash = s.hash_alg;
    GUARD(check_key_type(kt, &s, rep));
    bool ec = s.sig_alg == VT_TPM_ALG_ECDSA;
    if (ec && (r = ecdsa_verify(in, &s, rep)).err == VT_ERR_TPM_SIG_ECC_CURVE)
        return r; /* recorded by ecdsa_verify */
    if (!ec)
        r = pkey_verify(in->ak, vti_tpm_alg_md(s.hash_alg), s.sig_alg == VT_TPM_ALG_RSAPSS, s.rsa,
                        s.rsa_len, in->msg, in->msg_len);
    if (rep)
        vti_report_step(rep, vti_is_ok(r), "TPM quote signature (%s %s) by the AK: %s",
                        ec ? "ECDSA" : s.sig_alg == VT_TPM_ALG_RSAPSS ? "RSASSA-PSS" : "RSASSA",
                        vti_tpm_hash_name(s.hash_alg), vti_is_ok(r) ? "ok" : "invalid");
    return r;
}

/* ---- nonce and PCRs -------------------------------------------------------------------- */

static vt_res check_nonce(const struct vti_tpm_quote_in *in, const struct vt_tpms_attest *a,
                          struct vt_report *rep)
{
    char hex[2 * VT_TPM_MAX_DATA + 1];
    vti_hex_encode(a->extra_data, a->extra_data_len, hex);
    if (!in->nonce) {
        if (rep)
            vti_report_step(rep, -1, "TPM quote extraData %s: no expected nonce given, not "
                            "compared", hex);
        return vti_ok();
    }
    bool ok = in->nonce_len == a->extra_data_len &&
              vti_ct_eq(in->nonce, a->extra_data, a->extra_data_len);
    if (rep)
        vti_report_step(rep, ok, "TPM quote extraData %s equals the expected nonce (%zu bytes): %s",
                        hex, in->nonce_len, ok ? "ok" : "no");
    ENSURE(ok, VT_ERR_TPM_NONCE_MISMATCH);
    return vti_ok();
}

static const struct vti_tpm_pcr_bank *find_bank(const struct vti_tpm_quote_in *in, uint16_t h)
{
    for (size_t i = 0; i < in->n_banks; i++)
        if (in->banks[i].hash == h)
            return &in->banks[i];
    return NULL;
}

static vt_res check_pcrs(const struct vti_tpm_quote_in *in, const struct vt_tpms_attest *a,
                         uint16_t hash, struct vt_report *rep)
{
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    uint8_t d[EVP_MAX_MD_SIZE];
    unsigned dl = 0;
    size_t npcr = 0;
    vt_res r = vti_ok();
    ENSURE(c, VT_ERR_NOMEM);
    ENSURE_GOTO(EVP_DigestInit_ex(c, vti_tpm_alg_md(hash), NULL) == 1, VT_ERR_CRYPTO, r, out);
    for (uint32_t i = 0; i < a->n_sel; i++) {
        const struct vt_tpm_pcr_sel *s = &a->sel[i];
        const struct vti_tpm_pcr_bank *b = find_bank(in, s->hash);
        size_t sz = vti_tpm_hash_size(s->hash);
        for (unsigned pcr = 0; pcr < 8u * s->size; pcr++) {
            if (!(s->bits[pcr / 8] & (1u << (pcr % 8))))
                continue;
            ENSURE_GOTO(b, VT_ERR_TPM_PCR_BANK, r, out);
            ENSURE_GOTO(pcr < VT_TPM_MAX_PCRS && b->v[pcr], VT_ERR_TPM_PCR_MISSING, r, out);
            ENSURE_GOTO(EVP_DigestUpdate(c, b->v[pcr], sz) == 1, VT_ERR_CRYPTO, r, out);
            npcr++;
        }
    }
    ENSURE_GOTO(EVP_DigestFinal_ex(c, d, &dl) == 1, VT_ERR_CRYPTO, r, out);
    bool ok = dl == a->pcr_digest_len && vti_ct_eq(d, a->pcr_digest, dl);
    if (rep)
        vti_report_step(rep, ok, "TPM quote pcrDigest = %s over the %zu selected PCR values "
                        "(the signing scheme's hash): %s", vti_tpm_hash_name(hash), npcr,
                        ok ? "ok" : "no");
    ENSURE_GOTO(ok, VT_ERR_TPM_PCR_DIGEST_MISMATCH, r, out);
out:
    if (!vti_is_ok(r) && r.err != VT_ERR_TPM_PCR_DIGEST_MISMATCH && rep)
        vti_report_step(rep, 0, "TPM quote PCR values: %s", vt_strerror(r.err));
    EVP_MD_CTX_free(c);
    return r;
}

vt_res vti_tpm_quote_verify(const struct vti_tpm_quote_in *in, struct vt_report *rep,
                            struct vt_tpms_attest *att)
{
    uint16_t hash = 0;
    GUARD(check_signature(in, &hash, rep));
    vt_res r = vti_tpms_attest_parse(in->msg, in->msg_len, att);
    if (rep)
        vti_report_step(rep, vti_is_ok(r), "parse TPMS_ATTEST (%zu bytes, QUOTE, %u PCR bank(s))%s%s",
                        in->msg_len, vti_is_ok(r) ? att->n_sel : 0, vti_is_ok(r) ? "" : ": ",
                        vti_is_ok(r) ? "" : vt_strerror(r.err));
    GUARD(r);
    GUARD(check_nonce(in, att, rep));
    return check_pcrs(in, att, hash, rep);
}
