/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kbs_initdata.c - init-data bound in PCR 8 of a TPM quote (see kbs_initdata.h): the
 * `algorithm` key of the TOML body (bounded scan) and the PCR 8 comparison.
 */
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "kbs/kbs_initdata.h"
#include "util/codec.h"
#include "util/cursor.h"
#include "util/secmem.h"

#define TOML_BAD VT_ERR_KBS_INIT_DATA_TOML

static bool is_ws(uint8_t b) { return b == ' ' || b == '\t'; }

static bool is_bare(uint8_t b)
{
    return (b >= 'A' && b <= 'Z') || (b >= 'a' && b <= 'z') || (b >= '0' && b <= '9') ||
           b == '_' || b == '-';
}

/* The next byte without consuming it (0 at the end). */
static uint8_t peek(const struct vt_cur *c)
{
    return vti_cur_left(c) ? *vti_cur_pos(c) : 0;
}

static void skip_ws(struct vt_cur *c)
{
    while (vti_cur_left(c) && is_ws(peek(c)) && vti_is_ok(vti_cur_skip(c, 1)))
        ;
}

/* A one-line string ("..." without escapes or control bytes, or '...'): its bytes. */
static vt_res quoted(struct vt_cur *c, const uint8_t **s, size_t *n)
{
    uint8_t q = 0;
    ENSURE(vti_is_ok(vti_cur_u8(c, &q)) && (q == '"' || q == '\''), TOML_BAD);
    *s = vti_cur_pos(c);
    *n = 0;
    for (;;) {
        uint8_t b;
        ENSURE(vti_is_ok(vti_cur_u8(c, &b)), TOML_BAD);
        if (b == q)
            return vti_ok();
        ENSURE(b != '\\' || q == '\'', TOML_BAD);
        ENSURE(b >= 0x20 || b == '\t', TOML_BAD);
        (*n)++;
    }
}

/* A key (bare or quoted): its bytes. */
static vt_res key(struct vt_cur *c, const uint8_t **s, size_t *n)
{
    if (peek(c) == '"' || peek(c) == '\'')
        return quoted(c, s, n);
    *s = vti_cur_pos(c);
    *n = 0;
    while (vti_cur_left(c) && is_bare(peek(c)) && vti_is_ok(vti_cur_skip(c, 1)))
        (*n)++;
    ENSURE(*n > 0, TOML_BAD);
    return vti_ok();
}

static enum vtk_initdata_alg alg_named(const uint8_t *s, size_t n)
{
    static const struct { const char *name; enum vtk_initdata_alg alg; } names[] = {
        { "sha256", VTK_INITDATA_ALG_SHA256 },
        { "sha384", VTK_INITDATA_ALG_SHA384 },
        { "sha512", VTK_INITDATA_ALG_SHA512 },
    };
    for (size_t i = 0; i < VT_ARRAY_LEN(names); i++)
        if (n == strlen(names[i].name) && !memcmp(s, names[i].name, n)) /* lint: public */
            return names[i].alg;
    return VTK_INITDATA_ALG_OTHER;
}

/* After `algorithm`: = "value", then blanks and maybe a comment (a trailing CR allowed). */
static vt_res alg_value(struct vt_cur *c, enum vtk_initdata_alg *alg)
{
    const uint8_t *s;
    size_t n;
    uint8_t eq = 0;
    skip_ws(c);
    ENSURE(vti_is_ok(vti_cur_u8(c, &eq)) && eq == '=', TOML_BAD);
    skip_ws(c);
    GUARD(quoted(c, &s, &n));
    skip_ws(c);
    ENSURE(!vti_cur_left(c) || peek(c) == '#' || (peek(c) == '\r' && vti_cur_left(c) == 1),
           TOML_BAD);
    *alg = alg_named(s, n);
    return vti_ok();
}

/* One line. *stop: a table header begins (no more top-level keys). */
static vt_res line(struct vt_cur *c, enum vtk_initdata_alg *alg, bool *seen, bool *stop)
{
    skip_ws(c);
    uint8_t b = peek(c);
    if (!vti_cur_left(c) || b == '#' || b == '\r')
        return vti_ok();
    if (b == '[') {
        *stop = true;
        return vti_ok();
    }
    const uint8_t *k;
    size_t kn;
    if (!vti_is_ok(key(c, &k, &kn)))
        return vti_ok(); /* not a key line this scan reads (e.g. a multi-line string's) */
    if (kn != strlen("algorithm") || memcmp(k, "algorithm", kn) != 0) /* lint: public */
        return vti_ok();
    ENSURE(!*seen, TOML_BAD);
    *seen = true;
    return alg_value(c, alg);
}

int vtk_initdata_alg(const char *body, size_t len, enum vtk_initdata_alg *alg)
{
    struct vt_cur c = vti_cur_init(body, len);
    bool seen = false, stop = false;
    *alg = VTK_INITDATA_ALG_NONE;
    while (vti_cur_left(&c) && !stop) {
        const uint8_t *nl = memchr(vti_cur_pos(&c), '\n', vti_cur_left(&c));
        size_t n = nl ? (size_t)(nl - vti_cur_pos(&c)) : vti_cur_left(&c);
        struct vt_cur l;
        vt_res r = vti_cur_sub(&c, n, &l);
        if (vti_is_ok(r) && nl)
            r = vti_cur_skip(&c, 1);
        if (vti_is_ok(r))
            r = line(&l, alg, &seen, &stop);
        if (!vti_is_ok(r)) {
            *alg = VTK_INITDATA_ALG_NONE;
            return r.err;
        }
    }
    return 0;
}

int vtk_initdata_pcr8(const uint8_t digest[32], uint8_t out[32])
{
    uint8_t m[64] = { 0 };
    unsigned int ol = 0;
    memcpy(m + 32, digest, 32);
    return EVP_Digest(m, sizeof(m), out, &ol, EVP_sha256(), NULL) == 1 && ol == 32
               ? 0
               : VT_ERR_CRYPTO;
}

int vtk_initdata_pcr8_check(const json_t *claims, const uint8_t digest[32], char *why,
                            size_t why_len)
{
    const json_t *bank = json_object_get(claims, "tpm.pcr_bank");
    const json_t *pcr = json_object_get(claims, "pcr.8");
    uint8_t have[32], want[32];
    if (bank && (!json_is_string(bank) || strcmp(json_string_value(bank), "sha256") != 0)) {
        snprintf(why, why_len, "the quote's PCR bank is not SHA-256");
        return VT_ERR_KBS_INIT_DATA_PCR8;
    }
    if (!json_is_string(pcr) || json_string_length(pcr) != 64 ||
        !vti_is_ok(vti_hex_decode_fixed(json_string_value(pcr), have, 32))) {
        snprintf(why, why_len, "PCR 8 (SHA-256) is not in the quote");
        return VT_ERR_KBS_INIT_DATA_PCR8;
    }
    if (vtk_initdata_pcr8(digest, want))
        return VT_ERR_CRYPTO;
    if (vti_ct_eq(have, want, 32))
        return 0;
    snprintf(why, why_len, "the quoted PCR 8 is not SHA-256(32 zero bytes || the init-data "
             "digest): init-data not bound in PCR 8");
    return VT_ERR_KBS_INIT_DATA_PCR8;
}
