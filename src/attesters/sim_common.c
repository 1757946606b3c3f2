/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sim_common.c - helpers shared by the simulated TEEs (see sim_common.h). INSECURE: only the
 * sims use them.
 */
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attesters/sim_common.h"
#include "util/codec.h"

const char *vti_sim_dir(const struct vti_attest_ctx *ctx)
{
    if (ctx && ctx->sim_dir && *ctx->sim_dir)
        return ctx->sim_dir;
    const char *e = secure_getenv("VERITEE_SIM_DIR");
    return e && *e ? e : NULL;
}

vt_res vti_sim_path(const char *dir, const char *sub, const char *name, char *out, size_t cap)
{
    bool has_sub = sub && *sub, has_name = name && *name;
    int k = snprintf(out, cap, "%s%s%s%s%s", dir, has_sub ? "/" : "", has_sub ? sub : "",
                     has_name ? "/" : "", has_name ? name : "");
    ENSURE(k > 0 && (size_t)k < cap, VT_ERR_INVALID_ARG);
    return vti_ok();
}

vt_res vti_sim_read(const char *dir, const char *sub, const char *name, struct vt_buf *out)
{
    char path[4096];
    GUARD(vti_sim_path(dir, sub, name, path, sizeof(path)));
    vt_res r = vti_file_read(path, VTI_SIM_FILE_MAX, out);
    if (r.err == VT_ERR_NOT_FOUND)
        return VT_FAIL(VT_ERR_SIM_DIR_INVALID);
    return r;
}

vt_res vti_sim_debug(const struct vti_attest_ctx *ctx, bool *debug)
{
    const char *v = vti_option(ctx, "sim.debug", "0");
    ENSURE(strcmp(v, "0") == 0 || strcmp(v, "1") == 0, VT_ERR_SIM_DEBUG);
    *debug = v[0] == '1';
    return vti_ok();
}

vt_res vti_sim_measurement_hex(const char *s, size_t n, size_t max, uint8_t m[48])
{
    ENSURE(max <= 48, VT_ERR_INTERNAL);
    struct vt_buf b = VT_BUF_INIT;
    vt_res r = vti_hex_decode(s, n, &b);
    if (r.err || b.len == 0 || b.len > max) {
        vti_buf_free(&b);
        return VT_FAIL(VT_ERR_SIM_MEASUREMENT);
    }
    memset(m, 0, 48);
    memcpy(m, b.p, b.len);
    vti_buf_free(&b);
    return vti_ok();
}

vt_res vti_sim_x509_pem(X509 *x, struct vt_buf *out)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *p;
    if (!b || PEM_write_bio_X509(b, x) != 1) {
        BIO_free(b);
        return VT_FAIL(VT_ERR_CRYPTO);
    }
    long n = BIO_get_mem_data(b, &p);
    vt_res r = n > 0 ? vti_buf_append(out, p, (size_t)n) : VT_FAIL(VT_ERR_CRYPTO);
    BIO_free(b);
    return r;
}

vt_res vti_sim_sign_raw(EVP_PKEY *k, const EVP_MD *md, size_t half, const uint8_t *msg, size_t n,
                        uint8_t *out)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    uint8_t der[144];
    size_t dl = sizeof(der);
    ENSURE(half <= 66, VT_ERR_INVALID_ARG);
    bool ok = ctx && EVP_DigestSignInit(ctx, NULL, md, NULL, k) == 1 &&
              EVP_DigestSign(ctx, der, &dl, msg, n) == 1;
    EVP_MD_CTX_free(ctx);
    ENSURE(ok, VT_ERR_CRYPTO);
    const unsigned char *q = der;
    ECDSA_SIG *s = d2i_ECDSA_SIG(NULL, &q, (long)dl);
    ENSURE(s, VT_ERR_CRYPTO);
    ok = BN_bn2binpad(ECDSA_SIG_get0_r(s), out, (int)half) == (int)half &&
         BN_bn2binpad(ECDSA_SIG_get0_s(s), out + half, (int)half) == (int)half;
    ECDSA_SIG_free(s);
    ENSURE(ok, VT_ERR_CRYPTO);
    return vti_ok();
}

vt_res vti_sim_der(struct vt_buf *out, uint8_t tag, const uint8_t *p, size_t n)
{
    ENSURE(n < 65536, VT_ERR_INTERNAL);
    GUARD(vti_buf_u8(out, tag));
    if (n >= 0x100) {
        GUARD(vti_buf_u8(out, 0x82));
        GUARD(vti_buf_u8(out, (uint8_t)(n >> 8)));
    } else if (n >= 0x80) {
        GUARD(vti_buf_u8(out, 0x81));
    }
    GUARD(vti_buf_u8(out, (uint8_t)n));
    return vti_buf_append(out, p, n);
}
