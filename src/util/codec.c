/* SPDX-License-Identifier: Apache-2.0 */
/*
 * codec.c - hex, base64 and time conversions for untrusted text. All decoders are bounded by
 * the given length and reject anything outside their alphabet.
 */
#include <stdio.h>
#include <string.h>

#include "util/codec.h"

static const char hexd[] = "0123456789abcdef";

void vti_hex_encode(const uint8_t *p, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hexd[p[i] >> 4];
        out[2 * i + 1] = hexd[p[i] & 15];
    }
    out[2 * n] = 0;
}

vt_res vti_hex_append(struct vt_buf *b, const uint8_t *p, size_t n)
{
    ENSURE(n <= SIZE_MAX / 2 - 1, VT_ERR_OVERFLOW);
    GUARD(vti_buf_reserve(b, 2 * n));
    vti_hex_encode(p, n, (char *)b->p + b->len);
    b->len += 2 * n;
    return vti_ok();
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

vt_res vti_hex_decode(const char *s, size_t slen, struct vt_buf *out)
{
    ENSURE(slen % 2 == 0, VT_ERR_BAD_HEX);
    GUARD(vti_buf_reserve(out, slen / 2));
    for (size_t i = 0; i < slen; i += 2) {
        int hi = hexval(s[i]), lo = hexval(s[i + 1]);
        ENSURE(hi >= 0 && lo >= 0, VT_ERR_BAD_HEX);
        out->p[out->len++] = (uint8_t)(hi << 4 | lo);
    }
    out->p[out->len] = 0;
    return vti_ok();
}

vt_res vti_hex_decode_fixed(const char *s, uint8_t *out, size_t n)
{
    ENSURE(s, VT_ERR_BAD_HEX);
    return vti_hex_decode_span(s, strlen(s), out, n);
}

vt_res vti_hex_decode_span(const char *s, size_t slen, uint8_t *out, size_t n)
{
    ENSURE(s && n <= SIZE_MAX / 2 && slen == 2 * n, VT_ERR_BAD_HEX);
    for (size_t i = 0; i < n; i++) {
        int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
        ENSURE(hi >= 0 && lo >= 0, VT_ERR_BAD_HEX);
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return vti_ok();
}

static const char b64std[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

vt_res vti_b64_encode(const uint8_t *p, size_t n, bool url, struct vt_buf *out)
{
    const char *a = url ? b64url : b64std;
    ENSURE(n <= SIZE_MAX / 4 * 3 - 3, VT_ERR_OVERFLOW);
    GUARD(vti_buf_reserve(out, (n + 2) / 3 * 4));
    char *o = (char *)out->p + out->len;
    size_t k = 0, i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        o[k++] = a[v >> 18];
        o[k++] = a[(v >> 12) & 63];
        o[k++] = a[(v >> 6) & 63];
        o[k++] = a[v & 63];
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)p[i] << 16;
        o[k++] = a[v >> 18];
        o[k++] = a[(v >> 12) & 63];
        if (!url) {
            o[k++] = '=';
            o[k++] = '=';
        }
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
        o[k++] = a[v >> 18];
        o[k++] = a[(v >> 12) & 63];
        o[k++] = a[(v >> 6) & 63];
        if (!url)
            o[k++] = '=';
    }
    out->len += k;
    out->p[out->len] = 0;
    return vti_ok();
}

/* Decoding tables: value + 1 for each character of the alphabet, 0 for every other byte. */
#define B64_ALNUM \
    ['A'] = 1, ['B'] = 2, ['C'] = 3, ['D'] = 4, ['E'] = 5, ['F'] = 6, ['G'] = 7, ['H'] = 8, \
    ['I'] = 9, ['J'] = 10, ['K'] = 11, ['L'] = 12, ['M'] = 13, ['N'] = 14, ['O'] = 15, \
    ['P'] = 16, ['Q'] = 17, ['R'] = 18, ['S'] = 19, ['T'] = 20, ['U'] = 21, ['V'] = 22, \
    ['W'] = 23, ['X'] = 24, ['Y'] = 25, ['Z'] = 26, ['a'] = 27, ['b'] = 28, ['c'] = 29, \
    ['d'] = 30, ['e'] = 31, ['f'] = 32, ['g'] = 33, ['h'] = 34, ['i'] = 35, ['j'] = 36, \
    ['k'] = 37, ['l'] = 38, ['m'] = 39, ['n'] = 40, ['o'] = 41, ['p'] = 42, ['q'] = 43, \
    ['r'] = 44, ['s'] = 45, ['t'] = 46, ['u'] = 47, ['v'] = 48, ['w'] = 49, ['x'] = 50, \
    ['y'] = 51, ['z'] = 52, ['0'] = 53, ['1'] = 54, ['2'] = 55, ['3'] = 56, ['4'] = 57, \
    ['5'] = 58, ['6'] = 59, ['7'] = 60, ['8'] = 61, ['9'] = 62,
static const uint8_t b64dec_std[256] = { B64_ALNUM['+'] = 63, ['/'] = 64 };
static const uint8_t b64dec_url[256] = { B64_ALNUM['-'] = 63, ['_'] = 64 };

/* The value of c (0..63), or a byte with bit 6 or 7 set when c is not in the alphabet. */
static inline uint8_t b64val(const uint8_t *t, char c)
{
    return (uint8_t)(t[(unsigned char)c] - 1u);
}

/* Strict: the alphabet only (no whitespace), any number of trailing '=' ignored, a length of
 * 4k+1 refused, the unused low bits of the last character zero (canonical encoding). Whole
 * groups of four characters are decoded at once; the tail (2 or 3 characters) bit by bit. */
vt_res vti_b64_decode(const char *s, size_t slen, bool url, struct vt_buf *out)
{
    const uint8_t *t = url ? b64dec_url : b64dec_std;
    while (slen > 0 && s[slen - 1] == '=')
        slen--;
    ENSURE(slen % 4 != 1, VT_ERR_BAD_BASE64);
    GUARD(vti_buf_reserve(out, slen / 4 * 3 + 3));
    uint8_t *o = out->p + out->len;
    size_t i = 0;
    for (; i + 4 <= slen; i += 4) {
        uint8_t a = b64val(t, s[i]), b = b64val(t, s[i + 1]), c = b64val(t, s[i + 2]),
                d = b64val(t, s[i + 3]);
        ENSURE(((a | b | c | d) & 0xC0) == 0, VT_ERR_BAD_BASE64);
        uint32_t v = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6 | d;
        *o++ = (uint8_t)(v >> 16);
        *o++ = (uint8_t)(v >> 8);
        *o++ = (uint8_t)v;
    }
    uint32_t acc = 0;
    int bits = 0;
    for (; i < slen; i++) {
        uint8_t v = b64val(t, s[i]);
        ENSURE((v & 0xC0) == 0, VT_ERR_BAD_BASE64);
        acc = (acc << 6) | v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            *o++ = (uint8_t)(acc >> bits);
        }
    }
    /* The leftover bits must be zero (canonical encoding). */
    ENSURE((acc & ((1u << bits) - 1)) == 0, VT_ERR_BAD_BASE64);
    out->len = (size_t)(o - out->p);
    out->p[out->len] = 0;
    return vti_ok();
}

int64_t vti_timegm(int y, int mon, int d, int h, int mi, int s)
{
    /* Howard Hinnant's days_from_civil. */
    y -= mon <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (mon + (mon > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    int64_t days = era * 146097 + doe - 719468;
    return days * 86400 + h * 3600 + mi * 60 + s;
}

static bool digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

vt_res vti_time_parse(const char *s, int64_t *out)
{
    ENSURE(s && *s, VT_ERR_BAD_TIME);
    size_t n = strlen(s);
    bool alldig = true;
    for (size_t i = 0; i < n; i++)
        if ((s[i] < '0' || s[i] > '9') && !(i == 0 && s[i] == '-'))
            alldig = false;
    if (alldig) {
        ENSURE(n <= 12, VT_ERR_BAD_TIME);
        int64_t v = 0;
        bool neg = s[0] == '-';
        for (size_t i = neg; i < n; i++)
            v = v * 10 + (s[i] - '0');
        ENSURE(n > (size_t)neg, VT_ERR_BAD_TIME);
        *out = neg ? -v : v;
        return vti_ok();
    }
    int y, mo, d, h, mi, sec;
    ENSURE(n >= 20, VT_ERR_BAD_TIME);
    ENSURE(digits(s, 4, &y) && s[4] == '-' && digits(s + 5, 2, &mo) && s[7] == '-' &&
               digits(s + 8, 2, &d) && (s[10] == 'T' || s[10] == 't' || s[10] == ' ') &&
               digits(s + 11, 2, &h) && s[13] == ':' && digits(s + 14, 2, &mi) &&
               s[16] == ':' && digits(s + 17, 2, &sec),
           VT_ERR_BAD_TIME);
    ENSURE(mo >= 1 && mo <= 12 && d >= 1 && d <= 31 && h <= 23 && mi <= 59 && sec <= 60,
           VT_ERR_BAD_TIME);
    const char *p = s + 19;
    if (*p == '.') {
        p++;
        ENSURE(*p >= '0' && *p <= '9', VT_ERR_BAD_TIME);
        while (*p >= '0' && *p <= '9')
            p++;
    }
    int64_t off = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh, om;
        ENSURE(digits(p + 1, 2, &oh) && p[3] == ':' && digits(p + 4, 2, &om) && oh <= 23 &&
                   om <= 59,
               VT_ERR_BAD_TIME);
        off = (int64_t)(oh * 3600 + om * 60) * (*p == '+' ? 1 : -1);
        p += 6;
    } else {
        return VT_FAIL(VT_ERR_BAD_TIME);
    }
    ENSURE(*p == 0, VT_ERR_BAD_TIME);
    *out = vti_timegm(y, mo, d, h, mi, sec > 59 ? 59 : sec) - off;
    return vti_ok();
}

void vti_time_format(int64_t t, char out[32])
{
    int64_t days = t >= 0 ? t / 86400 : (t - 86399) / 86400;
    int64_t rem = t - days * 86400;
    /* civil_from_days */
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = yoe + era * 400;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t d = doy - (153 * mp + 2) / 5 + 1;
    int64_t m = mp + (mp < 10 ? 3 : -9);
    y += m <= 2;
    snprintf(out, 32, "%04d-%02d-%02dT%02d:%02d:%02dZ", (int)y, (int)m, (int)d,
             (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60));
}
