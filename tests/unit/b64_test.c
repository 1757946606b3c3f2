/* SPDX-License-Identifier: Apache-2.0 */
/*
 * b64_test.c - the table-driven base64 decoder (src/util/codec.c) is exactly as strict as the
 * character-at-a-time one it replaced: on every input of a large generated set (every length
 * 0..40 with alphabet, foreign and '=' characters in every position, both alphabets) it
 * accepts the same strings with the same bytes and refuses the others with
 * VT_ERR_BAD_BASE64; plus the named refusals (4k+1 length, whitespace, the other alphabet's
 * characters, non-canonical last character, '=' inside, high-bit bytes) and appending.
 */
#include "util/codec.h"
#include "vt_test.h"

/* The reference: the previous decoder, one character at a time. */
static int ref_val(char c, bool url)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == (url ? '-' : '+'))
        return 62;
    if (c == (url ? '_' : '/'))
        return 63;
    return -1;
}

/* Decoded length, or -1 when refused. */
static long ref_decode(const char *s, size_t slen, bool url, uint8_t *out)
{
    while (slen > 0 && s[slen - 1] == '=')
        slen--;
    if (slen % 4 == 1)
        return -1;
    uint32_t acc = 0;
    int bits = 0;
    long n = 0;
    for (size_t i = 0; i < slen; i++) {
        int v = ref_val(s[i], url);
        if (v < 0)
            return -1;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[n++] = (uint8_t)(acc >> bits);
        }
    }
    return (acc & ((1u << bits) - 1)) == 0 ? n : -1;
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint32_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 11);
}

static const char pool[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
                           "+/-_= \n\t.!\x80\xff";

static char pick(void)
{
    uint32_t r = rnd() % 100;
    if (r < 90) /* mostly valid, so that long strings sometimes decode */
        return pool[rnd() % 62];
    return pool[62 + rnd() % (sizeof(pool) - 63)];
}

static int mismatches, accepted, refused;

static void compare(const char *s, size_t n, bool url)
{
    uint8_t want[64];
    long wn = ref_decode(s, n, url, want);
    struct vt_buf b = VT_BUF_INIT;
    vt_res r = vti_b64_decode(s, n, url, &b);
    bool same = wn < 0 ? r.err == VT_ERR_BAD_BASE64
                       : vti_is_ok(r) && b.len == (size_t)wn && memcmp(b.p, want, b.len) == 0 &&
                             b.p[b.len] == 0;
    if (!same && mismatches++ < 5)
        fprintf(stderr, "mismatch on \"%.*s\" (url %d): ref %ld, got %d\n", (int)n, s, url, wn,
                r.err);
    if (wn < 0)
        refused++;
    else
        accepted++;
    vti_buf_free(&b);
}

static void test_equivalence(void)
{
    char s[48];
    for (int round = 0; round < 4000; round++)
        for (size_t n = 0; n <= 40; n++) {
            for (size_t i = 0; i < n; i++)
                s[i] = pick();
            if (round % 3 == 0 && n > 0) /* trailing padding, 1..3 of it */
                for (size_t k = 0; k < 1 + rnd() % 3 && k < n; k++)
                    s[n - 1 - k] = '=';
            compare(s, n, round & 1);
        }
    CHECK(mismatches == 0);
    CHECK(accepted > 10000 && refused > 10000); /* both sides really exercised */
}

static void test_named(void)
{
    struct vt_buf b = VT_BUF_INIT;
    CHECK_OK(vti_b64_decode("", 0, false, &b));
    CHECK(b.len == 0);
    CHECK_OK(vti_b64_decode("AAECAwQF", 8, false, &b));
    CHECK(b.len == 6 && memcmp(b.p, "\0\1\2\3\4\5", 6) == 0);
    /* appends to what the buffer holds */
    CHECK_OK(vti_b64_decode("-_8", 3, true, &b));
    CHECK(b.len == 8 && b.p[6] == 0xfb && b.p[7] == 0xff && b.p[8] == 0);
    vti_buf_free(&b);
    static const char *const bad_std[] = { "A", "AAAAA", "AA AA", "AAA\n", "-_8=", "QR==",
                                           "QUJ=", "AA=A", "=AAA", "AAAA\x80\x80\x80\x80" };
    for (size_t i = 0; i < VT_ARRAY_LEN(bad_std); i++) {
        CHECK_ERR(vti_b64_decode(bad_std[i], strlen(bad_std[i]), false, &b), VT_ERR_BAD_BASE64);
        CHECK(b.len == 0);
        vti_buf_free(&b);
    }
    CHECK_ERR(vti_b64_decode("+/8", 3, true, &b), VT_ERR_BAD_BASE64);
    vti_buf_free(&b);
    CHECK_OK(vti_b64_decode("QQ=====", 7, false, &b)); /* any number of '=' (as before) */
    CHECK(b.len == 1 && b.p[0] == 'A');
    vti_buf_free(&b);
    b.max = 4; /* the buffer's cap still holds */
    CHECK_ERR(vti_b64_decode("AAAAAAAA", 8, false, &b), VT_ERR_OVERFLOW);
    vti_buf_free(&b);
}

int main(void)
{
    test_equivalence();
    test_named();
    return vt_test_done();
}
