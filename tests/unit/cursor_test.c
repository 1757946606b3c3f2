/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cursor_test.c - the bounded reader and writer: reads at the bound and one past it, sub-
 * cursors, reserved-zero checks, buffer ceilings, hex/base64/time codecs.
 */
#include "util/codec.h"
#include "util/cursor.h"
#include "util/secmem.h"
#include "vt_test.h"

static void test_reads(void)
{
    const uint8_t b[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
    struct vt_cur c = vti_cur_init(b, sizeof(b));
    uint16_t u16;
    uint32_t u32;
    uint64_t u64;
    CHECK_OK(vti_cur_u16le(&c, &u16));
    CHECK(u16 == 0x0201);
    CHECK_OK(vti_cur_u32be(&c, &u32));
    CHECK(u32 == 0x03040506);
    CHECK(vti_cur_left(&c) == 2);
    /* one past the bound fails and does not move the cursor */
    CHECK_ERR(vti_cur_u32le(&c, &u32), VT_ERR_TRUNCATED);
    CHECK(c.off == 6);
    /* exactly at the bound succeeds */
    CHECK_OK(vti_cur_u16be(&c, &u16));
    CHECK(u16 == 0x0708);
    CHECK_OK(vti_cur_done(&c));
    CHECK_ERR(vti_cur_u8(&c, (uint8_t *)&u16), VT_ERR_TRUNCATED);

    c = vti_cur_init(b, sizeof(b));
    CHECK_OK(vti_cur_u64le(&c, &u64));
    CHECK(u64 == 0x0807060504030201ull);

    c = vti_cur_init(b, sizeof(b));
    CHECK_ERR(vti_cur_skip(&c, 9), VT_ERR_TRUNCATED);
    CHECK_ERR(vti_cur_skip(&c, SIZE_MAX), VT_ERR_TRUNCATED);
    CHECK_OK(vti_cur_skip(&c, 8));
    CHECK_OK(vti_cur_skip(&c, 0));
}

static void test_sub(void)
{
    const uint8_t b[6] = { 1, 2, 3, 0, 0, 9 };
    struct vt_cur c = vti_cur_init(b, sizeof(b)), s;
    CHECK_ERR(vti_cur_sub(&c, 7, &s), VT_ERR_TRUNCATED);
    CHECK_OK(vti_cur_sub(&c, 3, &s));
    CHECK(vti_cur_left(&s) == 3 && vti_cur_left(&c) == 3);
    CHECK_ERR(vti_cur_done(&s), VT_ERR_TRAILING_DATA);
    CHECK_OK(vti_cur_skip(&s, 3));
    CHECK_OK(vti_cur_done(&s));
    CHECK_OK(vti_cur_zeros(&c, 2, VT_ERR_INTERNAL));
    CHECK_ERR(vti_cur_zeros(&c, 1, VT_ERR_TRAILING_DATA), VT_ERR_TRAILING_DATA);
    struct vt_cur z = vti_cur_init(NULL, 5);
    CHECK(vti_cur_left(&z) == 0);
}

static void test_buf(void)
{
    struct vt_buf b = VT_BUF_INIT;
    b.max = 4;
    CHECK_OK(vti_buf_append(&b, "abcd", 4));
    CHECK_ERR(vti_buf_append(&b, "e", 1), VT_ERR_OVERFLOW);
    CHECK(b.len == 4);
    vti_buf_free(&b);
    CHECK(b.p == NULL);
    CHECK_OK(vti_buf_printf(&b, "%d-%s", 42, "x"));
    CHECK(strcmp((char *)b.p, "42-x") == 0);
    vti_buf_free(&b);
}

static void test_codecs(void)
{
    struct vt_buf b = VT_BUF_INIT;
    CHECK_OK(vti_hex_decode("00ffA0", 6, &b));
    CHECK(b.len == 3 && b.p[1] == 0xff && b.p[2] == 0xa0);
    vti_buf_free(&b);
    CHECK_ERR(vti_hex_decode("0g", 2, &b), VT_ERR_BAD_HEX);
    vti_buf_free(&b);
    CHECK_ERR(vti_hex_decode("abc", 3, &b), VT_ERR_BAD_HEX);
    vti_buf_free(&b);

    CHECK_OK(vti_b64_encode((const uint8_t *)"hello", 5, false, &b));
    CHECK(strcmp((char *)b.p, "aGVsbG8=") == 0);
    vti_buf_free(&b);
    CHECK_OK(vti_b64_encode((const uint8_t *)"\xfb\xff", 2, true, &b));
    CHECK(strcmp((char *)b.p, "-_8") == 0);
    vti_buf_free(&b);
    CHECK_OK(vti_b64_decode("aGVsbG8=", 8, false, &b));
    CHECK(b.len == 5 && memcmp(b.p, "hello", 5) == 0);
    vti_buf_free(&b);
    CHECK_ERR(vti_b64_decode("a", 1, false, &b), VT_ERR_BAD_BASE64);
    vti_buf_free(&b);
    CHECK_ERR(vti_b64_decode("aG!s", 4, false, &b), VT_ERR_BAD_BASE64);
    vti_buf_free(&b);

    int64_t t;
    CHECK_OK(vti_time_parse("2025-06-19T12:00:00Z", &t));
    CHECK(t == 1750334400);
    CHECK_OK(vti_time_parse("1750334400", &t));
    CHECK(t == 1750334400);
    CHECK_OK(vti_time_parse("2025-06-19T14:00:00.5+02:00", &t));
    CHECK(t == 1750334400);
    CHECK_ERR(vti_time_parse("2025-13-19T12:00:00Z", &t), VT_ERR_BAD_TIME);
    CHECK_ERR(vti_time_parse("yesterday", &t), VT_ERR_BAD_TIME);
    char s[32];
    vti_time_format(1750334400, s);
    CHECK(strcmp(s, "2025-06-19T12:00:00Z") == 0);
    vti_time_format(0, s);
    CHECK(strcmp(s, "1970-01-01T00:00:00Z") == 0);
}

static void test_secmem(void)
{
    uint8_t a[4] = { 1, 2, 3, 4 }, b2[4] = { 1, 2, 3, 4 };
    CHECK(vti_ct_eq(a, b2, 4));
    b2[3] = 5;
    CHECK(!vti_ct_eq(a, b2, 4));
    vti_memzero(a, 4);
    CHECK(a[0] == 0 && a[3] == 0);
    CHECK(strcmp(vt_errname(VT_ERR_TRUNCATED), "VT_ERR_TRUNCATED") == 0);
    CHECK(vt_err_category(VT_ERR_TRUNCATED) == VT_CAT_PARSE);
    CHECK(strcmp(vt_strerror(123456), "unknown error") == 0);
}

static void test_file_read(void)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/f.bin", vt_test_tmpdir());
    uint8_t data[5000];
    memset(data, 0xab, sizeof(data));
    CHECK_OK(vti_file_write(path, data, sizeof(data), 0600));
    struct vt_buf b = VT_BUF_INIT;
    CHECK_OK(vti_file_read(path, 5000, &b)); /* exactly at the limit */
    CHECK(b.len == 5000 && b.p[4999] == 0xab);
    vti_buf_free(&b);
    CHECK_ERR(vti_file_read(path, 4999, &b), VT_ERR_TOO_LARGE); /* one past it */
    vti_buf_free(&b);
    CHECK_ERR(vti_file_read(path, 100, &b), VT_ERR_TOO_LARGE);
    vti_buf_free(&b);
    CHECK_ERR(vti_file_read("/nonexistent/x", 100, &b), VT_ERR_NOT_FOUND);
    vti_buf_free(&b);
}

int main(void)
{
    test_file_read();
    test_reads();
    test_sub();
    test_buf();
    test_codecs();
    test_secmem();
    return vt_test_done();
}
