/* SPDX-License-Identifier: Apache-2.0 */
/*
 * az_attester_test.c - the Azure vTPM attester pieces without a TPM: the HCL report builder
 * and reader (exact bytes, real Azure HCL reports, refusals), the variable data JSON, the
 * TDREPORT built from a TD quote (against the real Azure TDREPORT of the same TD), the
 * evidence JSON (exact text), and collect() over a fake TPM (vti_tpm_set_ops): nonce length
 * rule, user-data binding (v2), report type and option refusals.
 */
#include <jansson.h>
#include <openssl/evp.h>

#include "attesters/az_vtpm.h"
#include "attesters/tpm_dev.h"
#include "core/instance.h"
#include "util/codec.h"
#include "util/cursor.h"
#include "vt_test.h"

static void test_hcl_build(void)
{
    uint8_t hw[1000], var[] = "{\"user-data\":\"00\"}";
    for (size_t i = 0; i < sizeof(hw); i++)
        hw[i] = (uint8_t)i;
    struct vt_buf b = VT_BUF_INIT;
    size_t vl = sizeof(var) - 1;
    CHECK_OK(vti_az_hcl_build(VTI_AZ_TYPE_SNP, hw, sizeof(hw), var, vl, &b));
    CHECK(b.len == 0x4D4 + vl);
    static const uint8_t head[20] = { 'H', 'C', 'L', 'A', 2, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0 };
    CHECK(memcmp(b.p, head, 8) == 0 && memcmp(b.p + 12, head + 12, 8) == 0);
    CHECK(vti_le32_unsafe(b.p + 8) == 0x4D4 + vl);
    bool zero = true;
    for (size_t i = 20; i < 32; i++)
        zero = zero && b.p[i] == 0;
    for (size_t i = 0x20 + sizeof(hw); i < 0x4C0; i++)
        zero = zero && b.p[i] == 0;
    CHECK(zero);
    CHECK(memcmp(b.p + 0x20, hw, sizeof(hw)) == 0);
    CHECK(vti_le32_unsafe(b.p + 0x4C0) == 20 + vl && vti_le32_unsafe(b.p + 0x4C4) == 1 &&
          vti_le32_unsafe(b.p + 0x4C8) == 2 && vti_le32_unsafe(b.p + 0x4CC) == 1 &&
          vti_le32_unsafe(b.p + 0x4D0) == vl);
    CHECK(memcmp(b.p + 0x4D4, var, vl) == 0);
    struct vti_az_hcl v;
    CHECK_OK(vti_az_hcl_view(b.p, b.len, &v));
    CHECK(v.version == 2 && v.report_type == 2 && v.var_len == vl && v.hw == b.p + 0x20 && v.var == b.p + 0x4D4);
    /* refusals: the type, the hardware report size */
    struct vt_buf x = VT_BUF_INIT;
    CHECK_ERR(vti_az_hcl_build(3, hw, sizeof(hw), var, vl, &x), VT_ERR_INVALID_ARG);
    uint8_t big[1185] = { 0 };
    CHECK_ERR(vti_az_hcl_build(VTI_AZ_TYPE_TDX, big, sizeof(big), var, vl, &x), VT_ERR_INVALID_ARG);
    /* the reader's refusals, each on a copy of the good report */
    static const struct { size_t off; uint8_t val; } bad[] = {
        { 0, 'X' },           /* magic */
        { 4, 3 },             /* version */
        { 0x4C4, 2 },         /* IGVM version */
        { 0x4C8, 3 },         /* report type 3 */
        { 0x4CC, 2 },         /* hash type 2 */
        { 0x4D1, 1 },         /* var data past the buffer */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint8_t c[2048];
        memcpy(c, b.p, b.len);
        c[bad[i].off] = bad[i].val;
        CHECK_ERR(vti_az_hcl_view(c, b.len, &v), VT_ERR_AZ_HCL);
    }
    CHECK_ERR(vti_az_hcl_view(b.p, 0x4D3, &v), VT_ERR_AZ_HCL);
    vti_buf_free(&b);
    vti_buf_free(&x);
}

static void test_real_hcl(void)
{
    struct vt_buf s = vt_testdata_read("azure/trustee_az_snp_vtpm_hcl-report.bin");
    struct vt_buf t = vt_testdata_read("azure/trustee_az_tdx_vtpm_hcl-report.bin");
    struct vti_az_hcl v;
    CHECK_OK(vti_az_hcl_view(s.p, s.len, &v));
    CHECK(v.version == 1 && v.report_type == VTI_AZ_TYPE_SNP && v.var_len == 1110);
    uint8_t zeros[64] = { 0 };
    bool eq = true;
    CHECK_OK(vti_az_user_data_eq(v.var, v.var_len, zeros, &eq));
    CHECK(eq);
    zeros[63] = 1;
    CHECK_OK(vti_az_user_data_eq(v.var, v.var_len, zeros, &eq));
    CHECK(!eq);
    CHECK_OK(vti_az_hcl_view(t.p, t.len, &v));
    CHECK(v.version == 2 && v.report_type == VTI_AZ_TYPE_TDX && v.var_len == 1201);
    /* the TDREPORT we build from the TD quote equals Azure's, but for CPUSVN and the MAC */
    struct vt_buf q = vt_testdata_read("tdx/trustee_azure_tdx_quote_v4_00806f050000.bin");
    uint8_t tdr[VTI_AZ_TDREPORT_LEN];
    CHECK_OK(vti_az_tdreport_from_quote(q.p, q.len, tdr));
    CHECK(memcmp(tdr, v.hw, 16) == 0);
    CHECK(memcmp(tdr + 32, v.hw + 32, 224 - 32) == 0);
    CHECK(memcmp(tdr + 256, v.hw + 256, 1024 - 256) == 0);
    struct vt_buf sgx = vt_testdata_read("sgx/dcapqvl_sgx_quote_v3.bin");
    CHECK_ERR(vti_az_tdreport_from_quote(sgx.p, sgx.len, tdr), VT_ERR_INVALID_ARG);
    vti_buf_free(&s);
    vti_buf_free(&t);
    vti_buf_free(&q);
    vti_buf_free(&sgx);
}

static void test_var_data(void)
{
    uint8_t n[4] = { 0xfb, 0xff, 0x01, 0x02 }, ud[64];
    for (int i = 0; i < 64; i++)
        ud[i] = (uint8_t)(0xa0 + (i & 15));
    struct vt_buf b = VT_BUF_INIT;
    CHECK_OK(vti_az_var_data(n, sizeof(n), 65537, "vm-1", ud, &b));
    CHECK_OK(vti_buf_cstr(&b));
    const char *want =
        "{\"keys\":[{\"kid\":\"HCLAkPub\",\"key_ops\":[\"sign\"],\"kty\":\"RSA\",\"e\":\"AQAB\",\"n\":\"-_8BAg\"}],"
        "\"vm-configuration\":{\"console-enabled\":false,\"secure-boot\":true,\"tpm-enabled\":true,"
        "\"vmUniqueId\":\"vm-1\"},\"user-data\":\"";
    CHECK(strncmp((const char *)b.p, want, strlen(want)) == 0);
    CHECK(strncmp((const char *)b.p + strlen(want), "A0A1A2A3A4A5A6A7A8A9AAABACADAEAF", 32) == 0);
    CHECK(b.len == strlen(want) + 128 + 2);
    bool eq = false;
    CHECK_OK(vti_az_user_data_eq(b.p, b.len, ud, &eq));
    CHECK(eq);
    struct vt_buf x = VT_BUF_INIT;
    CHECK_ERR(vti_az_var_data(n, sizeof(n), 65537, "a\"b", ud, &x), VT_ERR_INVALID_ARG);
    CHECK_ERR(vti_az_user_data_eq((const uint8_t *)"{\"user-data\":\"00\"}", 18, ud, &eq), VT_ERR_AZ_HCL);
    CHECK_ERR(vti_az_user_data_eq((const uint8_t *)"[1]", 3, ud, &eq), VT_ERR_AZ_HCL);
    vti_buf_free(&b);
    vti_buf_free(&x);
}

static void test_evidence_json(void)
{
    uint8_t sig[2] = { 0xab, 0x01 }, msg[3] = { 0xff, 0x54, 0x43 }, pcrs[24][32] = { { 0 } };
    uint8_t hcl[4] = { 'H', 'C', 'L', 'A' }, vcek[2] = { 0xfb, 0xff };
    pcrs[23][31] = 0xee;
    struct vti_az_evidence e = { 2, sig, msg, 2, 3, (const uint8_t(*)[32])pcrs, hcl, 4, "vcek", vcek, 2 };
    struct vt_buf b = VT_BUF_INIT;
    CHECK_OK(vti_az_evidence_json(&e, &b));
    struct vt_buf want = VT_BUF_INIT;
    CHECK_OK(vti_buf_printf(&want, "{\"version\":2,\"tpm_quote\":{\"signature\":\"ab01\",\"message\":\"ff5443\",\"pcrs\":["));
    for (int i = 0; i < 24; i++) {
        CHECK_OK(vti_buf_printf(&want, "%s\"", i ? "," : ""));
        CHECK_OK(vti_hex_append(&want, pcrs[i], 32));
        CHECK_OK(vti_buf_u8(&want, '"'));
    }
    CHECK_OK(vti_buf_printf(&want, "]},\"hcl_report\":\"SENMQQ==\",\"vcek\":\"-_8=\"}"));
    CHECK(b.len == want.len && memcmp(b.p, want.p, b.len) == 0);
    json_error_t je;
    json_t *j = json_loadb((const char *)b.p, b.len, 0, &je);
    CHECK(j && json_integer_value(json_object_get(j, "version")) == 2);
    json_decref(j);
    e.version = 3;
    CHECK_ERR(vti_az_evidence_json(&e, &b), VT_ERR_INVALID_ARG);
    vti_buf_free(&b);
    vti_buf_free(&want);
}

/* ---- collect() over a fake TPM -------------------------------------------------------- */

static struct {
    struct vt_buf hcl;
    uint8_t user[64];
    bool user_written;
    uint8_t nonce[64];
    size_t nonce_len;
    bool quoted;
} fake;

static vt_res f_open(const char *tcti, struct vti_tpm **out)
{
    *out = (struct vti_tpm *)&fake;
    return strcmp(tcti, "fake") == 0 ? vti_ok() : VT_FAIL(VT_ERR_TPM_TCTI);
}
static void f_close(struct vti_tpm *t) { (void)t; }
static vt_res f_nv_read(struct vti_tpm *t, uint32_t index, struct vt_buf *out)
{
    (void)t;
    ENSURE(index == VTI_AZ_NV_HCL && fake.hcl.len, VT_ERR_NOT_FOUND);
    return vti_buf_append(out, fake.hcl.p, fake.hcl.len);
}
static vt_res f_nv_write(struct vti_tpm *t, uint32_t index, const uint8_t *p, size_t n)
{
    (void)t;
    ENSURE(index == VTI_AZ_NV_USER_DATA && n == 64, VT_ERR_TPM);
    memcpy(fake.user, p, 64);
    fake.user_written = true;
    return vti_ok();
}
static vt_res f_quote(struct vti_tpm *t, uint32_t ak, const uint8_t *nonce, size_t n, struct vti_tpm_quote *q)
{
    (void)t;
    ENSURE(ak == VTI_AZ_AK_HANDLE, VT_ERR_TPM);
    memcpy(fake.nonce, nonce, n);
    fake.nonce_len = n;
    fake.quoted = true;
    GUARD(vti_buf_append(&q->message, "msg", 3));
    return vti_buf_append(&q->signature, "sig", 3);
}
static vt_res f_ak(struct vti_tpm *t, uint32_t h, struct vt_buf *m, uint32_t *e)
{
    (void)t; (void)h; (void)m; (void)e;
    return VT_FAIL(VT_ERR_TPM);
}
static const struct vti_tpm_ops fake_ops = { f_open, f_close, f_nv_read, f_nv_write, f_quote, f_ak, NULL,
                                             NULL };

static void fake_hcl(uint32_t type, const uint8_t user[64])
{
    uint8_t n[8] = { 1, 2, 3, 4, 5, 6, 7, 8 }, hw[16] = { 0 };
    struct vt_buf var = VT_BUF_INIT;
    vti_buf_free(&fake.hcl);
    CHECK_OK(vti_az_var_data(n, sizeof(n), 65537, "fake", user, &var));
    CHECK_OK(vti_az_hcl_build(type, hw, sizeof(hw), var.p, var.len, &fake.hcl));
    vti_buf_free(&var);
}

static int run(const char *tee, const uint8_t rd[64], const char *const *names, const char *const *vals, size_t n)
{
    const struct vt_instance_hdr *h;
    if (vti_instance_find(VT_KIND_ATTESTER, tee, &h).err)
        return -1;
    struct vt_option o[8];
    for (size_t i = 0; i < n; i++) {
        o[i].name = names[i];
        o[i].value = vals[i];
    }
    o[n].name = "tpm.tcti";
    o[n].value = "fake";
    o[n + 1].name = strcmp(tee, "az-snp-vtpm") == 0 ? "az.vcek_url" : "az.quote_url";
    o[n + 1].value = "http://127.0.0.1:1/none";
    struct vti_attest_ctx ctx = { .options = o, .n_options = n + 2 };
    struct vt_buf ev = VT_BUF_INIT;
    fake.quoted = fake.user_written = false;
    vt_res r = ((const struct vt_attester_ops *)h)->collect(&ctx, rd, &ev, NULL);
    vti_buf_free(&ev);
    return r.err;
}

static void test_collect_fake_tpm(void)
{
    CHECK_OK(vti_registry_init(NULL));
    vti_tpm_set_ops(&fake_ops);
    uint8_t rd[64] = { 0 };
    memset(rd, 0x5a, 20);
    rd[40] = 0x07; /* nonce = 41 bytes: trailing zeros removed */
    fake_hcl(VTI_AZ_TYPE_SNP, rd);
    /* the TPM part succeeds; the endpoint (nothing listens) fails afterwards */
    CHECK_ERR(run("az-snp-vtpm", rd, NULL, NULL, 0), VT_ERR_AZ_ENDPOINT);
    CHECK(fake.user_written && memcmp(fake.user, rd, 64) == 0);
    CHECK(fake.quoted && fake.nonce_len == 41 && memcmp(fake.nonce, rd, 41) == 0);
    const char *nl[] = { "az.nonce_len" }, *v64[] = { "64" }, *v0[] = { "0" }, *v65[] = { "65" }, *vx[] = { "1x" };
    CHECK_ERR(run("az-snp-vtpm", rd, nl, v64, 1), VT_ERR_AZ_ENDPOINT);
    CHECK(fake.nonce_len == 64);
    CHECK_ERR(run("az-snp-vtpm", rd, nl, v0, 1), VT_ERR_AZ_ENDPOINT);
    CHECK(fake.nonce_len == 0);
    CHECK_ERR(run("az-snp-vtpm", rd, nl, v65, 1), VT_ERR_AZ_OPTION);
    CHECK_ERR(run("az-snp-vtpm", rd, nl, vx, 1), VT_ERR_AZ_OPTION);
    /* v2: a report data the HCL's user-data does not carry is refused before any quote */
    uint8_t other[64] = { 1 };
    CHECK_ERR(run("az-snp-vtpm", other, NULL, NULL, 0), VT_ERR_AZ_USER_DATA);
    CHECK(!fake.quoted);
    /* v1: no user-data write, no check */
    const char *ver[] = { "az.evidence_version" }, *v1[] = { "1" }, *v3[] = { "3" };
    CHECK_ERR(run("az-snp-vtpm", other, ver, v1, 1), VT_ERR_AZ_ENDPOINT);
    CHECK(!fake.user_written && fake.quoted && fake.nonce_len == 1);
    CHECK_ERR(run("az-snp-vtpm", rd, ver, v3, 1), VT_ERR_AZ_OPTION);
    /* the other TEE's HCL report, a missing or broken one */
    CHECK_ERR(run("az-tdx-vtpm", rd, NULL, NULL, 0), VT_ERR_AZ_HCL_TYPE);
    fake.hcl.p[0] = 'X';
    CHECK_ERR(run("az-snp-vtpm", rd, NULL, NULL, 0), VT_ERR_AZ_HCL);
    fake.hcl.len = 0;
    CHECK_ERR(run("az-snp-vtpm", rd, NULL, NULL, 0), VT_ERR_AZ_HCL);
    /* unknown tpm.* / az.* options; other instances' options pass */
    const char *bad[] = { "az.bogus" }, *tc[] = { "tpm.nope" }, *any[] = { "x" }, *sim[] = { "sim.measurement" };
    CHECK_ERR(run("az-snp-vtpm", rd, bad, any, 1), VT_ERR_AZ_OPTION);
    CHECK_ERR(run("az-tdx-vtpm", rd, tc, any, 1), VT_ERR_AZ_OPTION);
    fake_hcl(VTI_AZ_TYPE_TDX, rd);
    CHECK_ERR(run("az-tdx-vtpm", rd, sim, any, 1), VT_ERR_AZ_ENDPOINT);
    CHECK(fake.quoted);
    /* detect(): by the HCL report type */
    const struct vt_instance_hdr *hs, *ht;
    CHECK_OK(vti_instance_find(VT_KIND_ATTESTER, "az-snp-vtpm", &hs));
    CHECK_OK(vti_instance_find(VT_KIND_ATTESTER, "az-tdx-vtpm", &ht));
    struct vt_option o = { "tpm.tcti", "fake" };
    struct vti_attest_ctx ctx = { .options = &o, .n_options = 1 };
    CHECK(((const struct vt_attester_ops *)ht)->detect(&ctx));
    CHECK(!((const struct vt_attester_ops *)hs)->detect(&ctx));
    fake.hcl.len = 0;
    CHECK(!((const struct vt_attester_ops *)ht)->detect(&ctx));
    o.value = "device:/nonexistent/tpmrm0";
    CHECK(!((const struct vt_attester_ops *)ht)->detect(&ctx));
    vti_tpm_set_ops(NULL);
    vti_buf_free(&fake.hcl);
}

int main(void)
{
    test_hcl_build();
    test_real_hcl();
    test_var_data();
    test_evidence_json();
    test_collect_fake_tpm();
    return vt_test_done();
}
