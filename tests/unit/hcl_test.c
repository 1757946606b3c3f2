/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hcl_test.c - the Azure HCL report parser and its variable data JSON: the real SNP and TDX
 * HCL reports (fields and var data hash as cases.json lists them), the older 2048-byte NV
 * layout, then every refusal's exact code at each cap and one past it.
 */
#include <jansson.h>
#include <openssl/sha.h>
#include <string.h>

#include "evidence/hcl.h"
#include "util/codec.h"
#include "vt_test.h"

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void test_real(const char *file, uint32_t version, uint32_t type, uint32_t var_len,
                      const char *var_sha)
{
    struct vt_buf b = vt_testdata_read(file);
    struct vt_hcl_report h;
    CHECK_OK(vti_hcl_report_parse(b.p, b.len, &h));
    CHECK(h.version == version && h.report_type == type && h.var_data_len == var_len);
    CHECK(h.hw_report == b.p + 0x20 && h.var_data == b.p + 0x4D4 && h.hash_type == 1);
    CHECK(h.report_size == 0x4D4 + var_len && h.igvm_data_size == 20 + var_len);
    uint8_t d[32];
    char hex[65];
    SHA256(h.var_data, h.var_data_len, d);
    vti_hex_encode(d, 32, hex);
    CHECK(strcmp(hex, var_sha) == 0);
    struct vt_hcl_var_data v;
    CHECK_OK(vti_hcl_var_data_parse(h.var_data, h.var_data_len, &v));
    CHECK(v.ak_n.len == 256 && v.ak_e.len == 3 && v.ak_e.p[0] == 1 && v.ak_e.p[2] == 1);
    CHECK(v.user_data_len == 64 && v.vm_config && json_object_get(v.vm_config, "tpm-enabled"));
    vti_hcl_var_data_free(&v);
    vti_buf_free(&b);
}

static struct vt_buf base(void)
{
    return vt_testdata_read("azure/trustee_az_snp_vtpm_hcl-report.bin");
}

static int code_with(size_t off, uint32_t v)
{
    struct vt_buf b = base();
    struct vt_hcl_report h;
    put32(b.p + off, v);
    int e = vti_hcl_report_parse(b.p, b.len, &h).err;
    vti_buf_free(&b);
    return e;
}

/* var data of n bytes at 0x4D4 in a buffer of len bytes (sizes consistent). */
static int code_var(size_t len, uint32_t n)
{
    struct vt_buf b = VT_BUF_INIT, src = base();
    struct vt_hcl_report h;
    CHECK_OK(vti_buf_zeros(&b, len));
    memcpy(b.p, src.p, len < 0x4D4 ? len : 0x4D4);
    if (len >= 12 && len < 0x4D4)
        put32(b.p + 8, (uint32_t)len); /* a report_size that fits: truncation is what fails */
    if (len >= 0x4D4) {
        put32(b.p + 8, (uint32_t)(len < 0x4D4 + (size_t)n ? len : 0x4D4 + n));
        put32(b.p + 0x4C0, 20 + n);
        put32(b.p + 0x4D0, n);
    }
    int e = vti_hcl_report_parse(b.p, b.len, &h).err;
    vti_buf_free(&b);
    vti_buf_free(&src);
    return e;
}

static void test_refusals(void)
{
    CHECK_ERR(code_with(0, 0x414C4349), VT_ERR_HCL_SIGNATURE);
    CHECK_ERR(code_with(4, 2), VT_OK);
    CHECK_ERR(code_with(4, 3), VT_ERR_HCL_VERSION);
    CHECK_ERR(code_with(4, 0), VT_ERR_HCL_VERSION);
    CHECK_ERR(code_with(8, 2601), VT_ERR_HCL_REPORT_SIZE);
    CHECK_ERR(code_with(8, 2600), VT_OK);
    CHECK_ERR(code_with(8, 0x4D4 + 1110 - 1), VT_ERR_HCL_REPORT_SIZE);
    CHECK_ERR(code_with(12, 1), VT_ERR_HCL_REQUEST_TYPE);
    CHECK_ERR(code_with(16, 1), VT_ERR_HCL_STATUS);
    CHECK_ERR(code_with(0x4C0, 1131), VT_ERR_HCL_IGVM_SIZE);
    CHECK_ERR(code_with(0x4C4, 2), VT_ERR_HCL_IGVM_VERSION);
    CHECK_ERR(code_with(0x4C8, 3), VT_ERR_HCL_REPORT_TYPE);
    CHECK_ERR(code_with(0x4C8, 1), VT_ERR_HCL_REPORT_TYPE);
    CHECK_ERR(code_with(0x4C8, 4), VT_OK);
    CHECK_ERR(code_with(0x4CC, 2), VT_ERR_HCL_HASH_TYPE);
    CHECK_ERR(code_with(0x4CC, 0), VT_ERR_HCL_HASH_TYPE);
    CHECK_ERR(code_with(0x4D0, 0), VT_ERR_HCL_VAR_DATA_SIZE);
    /* var data: exactly to the end of the buffer, one past; the 16 KiB cap and one past */
    CHECK_ERR(code_var(2600, 2600 - 0x4D4), VT_OK);
    CHECK_ERR(code_var(2600, 2600 - 0x4D4 + 1), VT_ERR_HCL_VAR_DATA_BOUNDS);
    CHECK_ERR(code_var(0x4D4 + VT_HCL_MAX_VAR_DATA, VT_HCL_MAX_VAR_DATA), VT_OK);
    CHECK_ERR(code_var(0x4D4 + VT_HCL_MAX_VAR_DATA + 1, VT_HCL_MAX_VAR_DATA + 1),
              VT_ERR_HCL_VAR_DATA_SIZE);
    CHECK_ERR(code_var(VT_HCL_MAX_LEN, 100), VT_OK);
    CHECK_ERR(code_var(VT_HCL_MAX_LEN + 1, 100), VT_ERR_HCL_TOO_LARGE);
    int bad = 0;
    for (size_t n = 0; n < 0x4D4; n++)
        bad += code_var(n, 10) != VT_ERR_TRUNCATED;
    CHECK(bad == 0);
}

/* The older 2048-byte NV index: the same layout, less room for the variable data. */
static void test_2048(void)
{
    static const char js[] = "{\"keys\":[{\"kid\":\"HCLAkPub\",\"kty\":\"RSA\",\"e\":\"AQAB\","
                             "\"n\":\"wQ\"}],\"vm-configuration\":{\"secure-boot\":true},"
                             "\"user-data\":\"00\"}";
    struct vt_buf src = base(), b = VT_BUF_INIT;
    CHECK_OK(vti_buf_zeros(&b, 2048));
    memcpy(b.p, src.p, 0x4D4);
    memcpy(b.p + 0x4D4, js, sizeof(js) - 1);
    put32(b.p + 8, 0x4D4 + sizeof(js) - 1);
    put32(b.p + 0x4C0, 20 + sizeof(js) - 1);
    put32(b.p + 0x4D0, sizeof(js) - 1);
    struct vt_hcl_report h;
    struct vt_hcl_var_data v;
    CHECK_OK(vti_hcl_report_parse(b.p, b.len, &h));
    CHECK_OK(vti_hcl_var_data_parse(h.var_data, h.var_data_len, &v));
    CHECK(v.ak_n.len == 1 && v.user_data_len == 1);
    vti_hcl_var_data_free(&v);
    vti_buf_free(&b);
    vti_buf_free(&src);
}

static int var_code(const char *js)
{
    struct vt_hcl_var_data v;
    int e = vti_hcl_var_data_parse((const uint8_t *)js, strlen(js), &v).err;
    if (!e)
        vti_hcl_var_data_free(&v);
    return e;
}

#define AK "{\"kid\":\"HCLAkPub\",\"kty\":\"RSA\",\"e\":\"AQAB\",\"n\":\"wQ\"}"

static void test_var_data(void)
{
    CHECK_OK(var_code("{\"keys\":[" AK "]}"));
    CHECK_ERR(var_code("{\"keys\":[" AK "],\"keys\":[]}"), VT_ERR_HCL_JSON_DUP_KEY);
    CHECK_ERR(var_code("[1]"), VT_ERR_HCL_JSON);
    CHECK_ERR(var_code("{\"keys\":"), VT_ERR_HCL_JSON);
    /* depth: root 1 .. 8 allowed, 9 refused */
    CHECK_OK(var_code("{\"keys\":[" AK "],\"x\":[[[[[[1]]]]]]}"));
    CHECK_ERR(var_code("{\"keys\":[" AK "],\"x\":[[[[[[[1]]]]]]]}"), VT_ERR_HCL_JSON_DEPTH);
    CHECK_ERR(var_code("{}"), VT_ERR_HCL_NO_AK);
    CHECK_ERR(var_code("{\"keys\":[{\"kid\":\"HCLEkPub\",\"kty\":\"RSA\",\"e\":\"AQAB\",\"n\":\"wQ\"}]}"),
              VT_ERR_HCL_NO_AK);
    CHECK_ERR(var_code("{\"keys\":[{\"kid\":\"HCLAkPub\",\"kty\":\"EC\",\"e\":\"AQAB\",\"n\":\"wQ\"}]}"),
              VT_ERR_HCL_AK_JWK);
    CHECK_ERR(var_code("{\"keys\":[{\"kid\":\"HCLAkPub\",\"kty\":\"RSA\",\"e\":\"AQAB\",\"n\":\"w+\"}]}"),
              VT_ERR_HCL_AK_JWK);
    CHECK_ERR(var_code("{\"keys\":[{\"kid\":\"HCLAkPub\",\"kty\":\"RSA\",\"n\":\"wQ\"}]}"),
              VT_ERR_HCL_AK_JWK);
    CHECK_ERR(var_code("{\"keys\":[" AK "],\"user-data\":\"abc\"}"), VT_ERR_HCL_USER_DATA);
    CHECK_ERR(var_code("{\"keys\":[" AK "],\"user-data\":\"zz\"}"), VT_ERR_HCL_USER_DATA);
    CHECK_ERR(var_code("{\"keys\":[" AK "],\"user-data\":7}"), VT_ERR_HCL_USER_DATA);
    char js[512];
    char ud[131];
    memset(ud, 'a', 128);
    ud[128] = 0;
    snprintf(js, sizeof(js), "{\"keys\":[" AK "],\"user-data\":\"%s\"}", ud);
    CHECK_OK(var_code(js));
    memset(ud, 'a', 130);
    ud[130] = 0;
    snprintf(js, sizeof(js), "{\"keys\":[" AK "],\"user-data\":\"%s\"}", ud);
    CHECK_ERR(var_code(js), VT_ERR_HCL_USER_DATA);
    CHECK_ERR(var_code("{\"keys\":[" AK "],\"vm-configuration\":[]}"), VT_ERR_HCL_VM_CONFIG);
    CHECK_ERR(var_code("{\"keys\":[" AK "],\"vm-configuration\":{\"a\":{}}}"), VT_ERR_HCL_VM_CONFIG);
    struct vt_hcl_var_data v;
    CHECK_ERR(vti_hcl_var_data_parse((const uint8_t *)"{}", 0, &v), VT_ERR_HCL_VAR_DATA_SIZE);
    CHECK_ERR(vti_hcl_var_data_parse((const uint8_t *)"{}", VT_HCL_MAX_VAR_DATA + 1, &v),
              VT_ERR_HCL_VAR_DATA_SIZE);
}

int main(void)
{
    test_real("azure/trustee_az_snp_vtpm_hcl-report.bin", 1, 2, 1110,
              "b3fbad6514c83caeb0380882145e49f794229ef37c421b91fc47ff93556bafac");
    test_real("azure/trustee_az_tdx_vtpm_hcl-report.bin", 2, 4, 1201,
              "9734504f161d104c74e3165c15f779b06a9bb40dfa71937817d7eee68e593839");
    test_refusals();
    test_2048();
    test_var_data();
    return vt_test_done();
}
