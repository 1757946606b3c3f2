/* SPDX-License-Identifier: Apache-2.0 */
/*
 * az_evidence_test.c - the Azure vTPM evidence JSON reader: each shape (v0 byte arrays, v1/v2
 * hex + base64url) and each refusal's code (not JSON, duplicate key, version, field types and
 * encodings, PCR count and size), plus the accepts() shape test.
 */
#include <string.h>

#include "verifiers/az_evidence.h"
#include "vt_test.h"

static int code(const char *js)
{
    struct vti_az_ev ev;
    int e = vti_az_evidence_parse((const uint8_t *)js, strlen(js), &ev).err;
    if (!e)
        vti_az_evidence_free(&ev);
    return e;
}

/* 24 PCRs of the given JSON text each. */
static char *pcrs(const char *one, int n)
{
    static char b[8192];
    size_t o = 0;
    b[o++] = '[';
    for (int i = 0; i < n; i++)
        o += (size_t)snprintf(b + o, sizeof(b) - o, "%s%s", i ? "," : "", one);
    snprintf(b + o, sizeof(b) - o, "]");
    return b;
}

#define H32 "\"0000000000000000000000000000000000000000000000000000000000000000\""

static void v12(int version, const char *p, const char *sig, const char *tail, int want)
{
    char js[12000];
    snprintf(js, sizeof(js), "{\"version\":%d,\"tpm_quote\":{\"signature\":%s,\"message\":\"00\","
             "\"pcrs\":%s},\"hcl_report\":\"SENMQQ\"%s}", version, sig, p, tail);
    CHECK_ERR(code(js), want);
}

static void test_v12(void)
{
    v12(2, pcrs(H32, 24), "\"00ff\"", ",\"vcek\":\"AAEC\"", VT_OK);
    v12(1, pcrs(H32, 24), "\"00ff\"", ",\"td_quote\":\"AAEC\"", VT_OK);
    v12(3, pcrs(H32, 24), "\"00ff\"", ",\"vcek\":\"AAEC\"", VT_ERR_AZ_EVIDENCE_VERSION);
    v12(0, pcrs(H32, 24), "\"00ff\"", ",\"vcek\":\"AAEC\"", VT_ERR_AZ_EVIDENCE_VERSION);
    v12(2, pcrs(H32, 23), "\"00ff\"", ",\"vcek\":\"AAEC\"", VT_ERR_AZ_PCRS);
    v12(2, pcrs(H32, 25), "\"00ff\"", ",\"vcek\":\"AAEC\"", VT_ERR_AZ_PCRS);
    v12(2, pcrs("\"00\"", 24), "\"00ff\"", ",\"vcek\":\"AAEC\"", VT_ERR_AZ_PCRS);
    v12(2, pcrs(H32, 24), "\"0g\"", ",\"vcek\":\"AAEC\"", VT_ERR_AZ_EVIDENCE_FIELD);
    v12(2, pcrs(H32, 24), "[0]", ",\"vcek\":\"AAEC\"", VT_ERR_AZ_EVIDENCE_FIELD);
    v12(2, pcrs(H32, 24), "\"00ff\"", ",\"vcek\":\"A+EC\"", VT_ERR_AZ_EVIDENCE_FIELD);
    v12(2, pcrs(H32, 24), "\"00ff\"", "", VT_ERR_AZ_EVIDENCE_FIELD);
    v12(2, pcrs(H32, 24), "\"00ff\"", ",\"vcek\":\"AAEC\",\"vcek\":\"AAEC\"", VT_ERR_AZ_EVIDENCE_JSON);
}

static void test_v0(void)
{
    char js[12000], p32[200];
    size_t o = (size_t)snprintf(p32, sizeof(p32), "[0");
    for (int i = 1; i < 32; i++)
        o += (size_t)snprintf(p32 + o, sizeof(p32) - o, ",%d", i);
    snprintf(p32 + o, sizeof(p32) - o, "]");
    snprintf(js, sizeof(js), "{\"quote\":{\"signature\":[1,2],\"message\":[255],\"pcrs\":%s},"
             "\"report\":[72,67],\"vcek\":\"PEM\"}", pcrs(p32, 24));
    struct vti_az_ev ev;
    CHECK_OK(vti_az_evidence_parse((const uint8_t *)js, strlen(js), &ev));
    CHECK(ev.version == 0 && !ev.tdx && ev.vcek_pem && ev.sig.len == 2 && ev.msg.p[0] == 255 &&
          ev.pcrs[23][31] == 31 && ev.hcl.len == 2);
    vti_az_evidence_free(&ev);
    CHECK(vti_az_evidence_kind((const uint8_t *)js, strlen(js)) == 1);
    snprintf(js, sizeof(js), "{\"quote\":{\"signature\":[256],\"message\":[1],\"pcrs\":%s},"
             "\"report\":[1],\"vcek\":\"PEM\"}", pcrs(p32, 24));
    CHECK_ERR(code(js), VT_ERR_AZ_EVIDENCE_FIELD);
    snprintf(js, sizeof(js), "{\"quote\":{\"signature\":[-1],\"message\":[1],\"pcrs\":%s},"
             "\"report\":[1],\"vcek\":\"PEM\"}", pcrs(p32, 24));
    CHECK_ERR(code(js), VT_ERR_AZ_EVIDENCE_FIELD);
    snprintf(js, sizeof(js), "{\"tpm_quote\":{\"signature\":[1],\"message\":[1],\"pcrs\":%s},"
             "\"hcl_report\":[1],\"td_quote\":[1,2,3]}", pcrs(p32, 24));
    CHECK_OK(vti_az_evidence_parse((const uint8_t *)js, strlen(js), &ev));
    CHECK(ev.tdx && ev.td_quote.len == 3);
    vti_az_evidence_free(&ev);
    CHECK(vti_az_evidence_kind((const uint8_t *)js, strlen(js)) == 2);
    CHECK_ERR(code("{\"quote\":{}}"), VT_ERR_AZ_EVIDENCE_FIELD);
    CHECK_ERR(code("[]"), VT_ERR_AZ_EVIDENCE_JSON);
    CHECK_ERR(code("{"), VT_ERR_AZ_EVIDENCE_JSON);
    CHECK_ERR(code("\x30\x82"), VT_ERR_AZ_EVIDENCE_JSON);
    CHECK(vti_az_evidence_kind((const uint8_t *)"{\"a\":1}", 7) == 0);
    CHECK(vti_az_evidence_kind((const uint8_t *)"  {}", 4) == 0);
}

int main(void)
{
    test_v12();
    test_v0();
    return vt_test_done();
}
