/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cbor_test.c - the bounded CBOR decoder: every major type, zero-copy string views, the
 * nesting cap (16 passes, 17 fails), the element-count cap (at and one past), indefinite
 * lengths, reserved values, truncation, and encoder/decoder round trips.
 */
#include "util/cbor.h"
#include "vt_test.h"

static void test_items(void)
{
    /* 0, 23, 24, 255, 256, 65536, 2^32, -1, "ab", h'0102', [], {}, tag(1)0, true, null, f16 */
    const uint8_t b[] = { 0x00, 0x17, 0x18, 0x18, 0x18, 0xff, 0x19, 0x01, 0x00, 0x1a, 0x00, 0x01,
                          0x00, 0x00, 0x1b, 0, 0, 0, 1, 0, 0, 0, 0, 0x20, 0x62, 'a', 'b',
                          0x42, 1, 2, 0x80, 0xa0, 0xc1, 0x00, 0xf5, 0xf6, 0xf9, 0x3c, 0x00 };
    struct vt_cur c = vti_cur_init(b, sizeof(b));
    uint64_t v;
    CHECK_OK(vti_cbor_uint(&c, &v));
    CHECK(v == 0);
    CHECK_OK(vti_cbor_uint(&c, &v));
    CHECK(v == 23);
    CHECK_OK(vti_cbor_uint(&c, &v));
    CHECK(v == 24);
    CHECK_OK(vti_cbor_uint(&c, &v));
    CHECK(v == 255);
    CHECK_OK(vti_cbor_uint(&c, &v));
    CHECK(v == 256);
    CHECK_OK(vti_cbor_uint(&c, &v));
    CHECK(v == 65536);
    CHECK_OK(vti_cbor_uint(&c, &v));
    CHECK(v == 4294967296ull);
    struct vti_cbor_item it;
    CHECK_OK(vti_cbor_head(&c, &it));
    CHECK(it.major == VTI_CBOR_NINT && it.val == 0);
    const uint8_t *p;
    size_t n;
    CHECK_ERR(vti_cbor_bstr(&c, &p, &n), VT_ERR_CBOR); /* a text string is not a byte string */
    CHECK_OK(vti_cbor_tstr(&c, &p, &n));
    CHECK(n == 2 && p == b + 25); /* zero-copy view into the input */
    CHECK_OK(vti_cbor_bstr(&c, &p, &n));
    CHECK(n == 2 && p[0] == 1 && p[1] == 2 && p == b + 28);
    CHECK_OK(vti_cbor_array(&c, &v));
    CHECK(v == 0);
    CHECK_OK(vti_cbor_map(&c, &v));
    CHECK(v == 0);
    CHECK_OK(vti_cbor_tag(&c, &v));
    CHECK(v == 1);
    CHECK_OK(vti_cbor_skip(&c, 0));
    CHECK_OK(vti_cbor_skip(&c, 0));
    CHECK_OK(vti_cbor_skip(&c, 0));
    CHECK_OK(vti_cbor_skip(&c, 0)); /* half float */
    CHECK_OK(vti_cur_done(&c));
}

/* n nested arrays around a 0 */
static size_t nested(uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        b[i] = 0x81;
    b[n] = 0x00;
    return n + 1;
}

static void test_depth(void)
{
    uint8_t b[64];
    size_t n = nested(b, VTI_CBOR_MAX_DEPTH);
    CHECK_OK(vti_cbor_check(b, n));
    n = nested(b, VTI_CBOR_MAX_DEPTH + 1);
    CHECK_ERR(vti_cbor_check(b, n), VT_ERR_CBOR_DEPTH);
    /* tags and maps count as levels too */
    for (int i = 0; i < 16; i++)
        b[i] = 0xc1;
    b[16] = 0x00;
    CHECK_OK(vti_cbor_check(b, 17));
    for (int i = 0; i < 17; i++)
        b[i] = 0xc1;
    b[17] = 0x00;
    CHECK_ERR(vti_cbor_check(b, 18), VT_ERR_CBOR_DEPTH);
    for (int i = 0; i < 17; i++) {
        b[2 * i] = 0xa1;
        b[2 * i + 1] = 0x00;
    }
    b[34] = 0x00;
    CHECK_ERR(vti_cbor_check(b, 35), VT_ERR_CBOR_DEPTH);
    CHECK_OK(vti_cbor_check(b + 2, 33)); /* 16 maps */
}

static void test_counts(void)
{
    struct vt_buf b = VT_BUF_INIT;
    CHECK_OK(vti_cbor_put_head(&b, VTI_CBOR_ARRAY, VTI_CBOR_MAX_COUNT));
    for (int i = 0; i < VTI_CBOR_MAX_COUNT; i++)
        CHECK_OK(vti_buf_u8(&b, 0));
    CHECK_OK(vti_cbor_check(b.p, b.len));
    vti_buf_free(&b);
    CHECK_OK(vti_cbor_put_head(&b, VTI_CBOR_ARRAY, VTI_CBOR_MAX_COUNT + 1));
    for (int i = 0; i < VTI_CBOR_MAX_COUNT + 1; i++)
        CHECK_OK(vti_buf_u8(&b, 0));
    CHECK_ERR(vti_cbor_check(b.p, b.len), VT_ERR_TOO_LARGE);
    vti_buf_free(&b);
    /* a huge declared count with no elements is refused before any allocation or loop */
    const uint8_t huge[] = { 0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    CHECK_ERR(vti_cbor_check(huge, sizeof(huge)), VT_ERR_TOO_LARGE);
    const uint8_t map_at_cap_short[] = { 0xb9, 0x10, 0x00 }; /* map(4096), no pairs */
    CHECK_ERR(vti_cbor_check(map_at_cap_short, sizeof(map_at_cap_short)), VT_ERR_TRUNCATED);
}

static void test_malformed(void)
{
    const uint8_t indef_bstr[] = { 0x5f, 0x41, 0x00, 0xff };
    CHECK_ERR(vti_cbor_check(indef_bstr, sizeof(indef_bstr)), VT_ERR_CBOR_INDEFINITE);
    const uint8_t indef_arr[] = { 0x9f, 0x00, 0xff };
    CHECK_ERR(vti_cbor_check(indef_arr, sizeof(indef_arr)), VT_ERR_CBOR_INDEFINITE);
    const uint8_t indef_map[] = { 0xbf, 0xff };
    CHECK_ERR(vti_cbor_check(indef_map, sizeof(indef_map)), VT_ERR_CBOR_INDEFINITE);
    const uint8_t indef_tstr[] = { 0x7f, 0xff };
    CHECK_ERR(vti_cbor_check(indef_tstr, sizeof(indef_tstr)), VT_ERR_CBOR_INDEFINITE);
    const uint8_t uint31[] = { 0x1f };
    CHECK_ERR(vti_cbor_check(uint31, 1), VT_ERR_CBOR);
    const uint8_t brk[] = { 0xff };
    CHECK_ERR(vti_cbor_check(brk, 1), VT_ERR_CBOR);
    const uint8_t reserved[] = { 0x1c };
    CHECK_ERR(vti_cbor_check(reserved, 1), VT_ERR_CBOR);
    const uint8_t simple_small[] = { 0xf8, 0x10 };
    CHECK_ERR(vti_cbor_check(simple_small, 2), VT_ERR_CBOR);
    const uint8_t simple_ok[] = { 0xf8, 0x20 };
    CHECK_OK(vti_cbor_check(simple_ok, 2));
    const uint8_t short_str[] = { 0x45, 1, 2, 3, 4 };
    CHECK_ERR(vti_cbor_check(short_str, sizeof(short_str)), VT_ERR_TRUNCATED);
    const uint8_t huge_str[] = { 0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0 };
    CHECK_ERR(vti_cbor_check(huge_str, sizeof(huge_str)), VT_ERR_TRUNCATED);
    const uint8_t short_head[] = { 0x19, 0x01 };
    CHECK_ERR(vti_cbor_check(short_head, sizeof(short_head)), VT_ERR_TRUNCATED);
    const uint8_t trailing[] = { 0x00, 0x00 };
    CHECK_ERR(vti_cbor_check(trailing, sizeof(trailing)), VT_ERR_TRAILING_DATA);
    CHECK_ERR(vti_cbor_check(NULL, 0), VT_ERR_TRUNCATED);
    /* a failed typed read does not move the cursor */
    struct vt_cur c = vti_cur_init(short_str, sizeof(short_str));
    const uint8_t *p;
    size_t n;
    CHECK_ERR(vti_cbor_bstr(&c, &p, &n), VT_ERR_TRUNCATED);
    CHECK(c.off == 0);
}

static void test_encode(void)
{
    struct vt_buf b = VT_BUF_INIT;
    const uint64_t vals[] = { 0, 23, 24, 255, 256, 65535, 65536, 0xffffffffu, 0x100000000ull, UINT64_MAX };
    const size_t lens[] = { 1, 1, 2, 2, 3, 3, 5, 5, 9, 9 };
    for (size_t i = 0; i < VT_ARRAY_LEN(vals); i++) {
        b.len = 0;
        CHECK_OK(vti_cbor_put_uint(&b, vals[i]));
        CHECK(b.len == lens[i]); /* shortest form */
        struct vt_cur c = vti_cur_init(b.p, b.len);
        uint64_t v = 1;
        CHECK_OK(vti_cbor_uint(&c, &v));
        CHECK(v == vals[i]);
    }
    b.len = 0;
    CHECK_OK(vti_cbor_put_head(&b, VTI_CBOR_TAG, 60000));
    CHECK_OK(vti_cbor_put_head(&b, VTI_CBOR_ARRAY, 2));
    CHECK_OK(vti_cbor_put_bstr(&b, (const uint8_t *)"xyz", 3));
    CHECK_OK(vti_cbor_put_tstr(&b, "hello"));
    const uint8_t want[] = { 0xd9, 0xea, 0x60, 0x82, 0x43, 'x', 'y', 'z', 0x65, 'h', 'e', 'l', 'l', 'o' };
    CHECK(b.len == sizeof(want) && memcmp(b.p, want, sizeof(want)) == 0);
    CHECK_OK(vti_cbor_check(b.p, b.len));
    vti_buf_free(&b);
}

int main(void)
{
    test_items();
    test_depth();
    test_counts();
    test_malformed();
    test_encode();
    return vt_test_done();
}
