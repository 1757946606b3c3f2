/* SPDX-License-Identifier: Apache-2.0 */
/*
 * az_evidence_test.c - the Azure vTPM evidence JSON reader: each shape (v0 byte arrays, v1/v2
 * hex + base64url) and each refusal's code (not JSON, duplicate key, version, field types and
 * encodings, PCR count and size), plus the accepts() shape test; the reader's own caps and
 * strictness (yajl events, az_evidence.c), and a differential against jansson on mutations of
 * the real TDX evidence: what jansson refuses is refused, what it reads is read.
 */
#include <jansson.h>
#include <stdlib.h>
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

/* A v2 SNP evidence with `extra` spliced in as the first member. */
static int with(const char *extra)
{
    char js[12000];
    snprintf(js, sizeof(js), "{%s\"version\":2,\"tpm_quote\":{\"signature\":\"00ff\","
             "\"message\":\"00\",\"pcrs\":%s},\"hcl_report\":\"SENMQQ\",\"vcek\":\"AAEC\"}",
             extra, pcrs(H32, 24));
    return code(js);
}

static char *nested(int depth)
{
    static char b[256];
    size_t o = (size_t)snprintf(b, sizeof(b), "\"x\":");
    for (int i = 0; i < depth; i++)
        b[o++] = '[';
    for (int i = 0; i < depth; i++)
        b[o++] = ']';
    snprintf(b + o, sizeof(b) - o, ",");
    return b;
}

/* What jansson did for the reader and yajl does not: caps, duplicates at every depth; and the
 * strictness yajl keeps (UTF-8, reals, overflow, trailing data). */
static void test_reader(void)
{
    CHECK_OK(with(""));
    CHECK_OK(with("\"x\":{\"a\":[1,{\"b\":null}],\"c\":\"\\u00e9\"},"));
    CHECK_OK(with(nested(15)));                                  /* depth 16 with the document */
    CHECK_ERR(with(nested(16)), VT_ERR_AZ_EVIDENCE_JSON);        /* depth 17 */
    CHECK_ERR(with("\"x\":{\"a\":1,\"a\":1},"), VT_ERR_AZ_EVIDENCE_JSON);
    CHECK_ERR(with("\"x\":[{\"a\":1,\"\\u0061\":1}],"), VT_ERR_AZ_EVIDENCE_JSON);
    CHECK_ERR(with("\"version\":2,"), VT_ERR_AZ_EVIDENCE_JSON);
    CHECK_ERR(with("\"x\":\"\xff\","), VT_ERR_AZ_EVIDENCE_JSON);    /* not UTF-8 */
    CHECK_ERR(with("\"x\":99999999999999999999,"), VT_ERR_AZ_EVIDENCE_JSON);
    CHECK_ERR(with("\"x\":01,"), VT_ERR_AZ_EVIDENCE_JSON);
    CHECK_ERR(with("/* c */"), VT_ERR_AZ_EVIDENCE_JSON);
    char many[64 * 12 + 1];
    size_t o = 0;
    for (int i = 0; i < 60; i++)
        o += (size_t)snprintf(many + o, sizeof(many) - o, "\"k%02d\":0,", i);
    CHECK_OK(with(many));                                        /* 60 + 4 members */
    snprintf(many + o, sizeof(many) - o, "\"k60\":0,");
    CHECK_ERR(with(many), VT_ERR_AZ_EVIDENCE_JSON);              /* 65 */
    CHECK_ERR(code(""), VT_ERR_AZ_EVIDENCE_JSON);
    CHECK_ERR(code("1"), VT_ERR_AZ_EVIDENCE_JSON);
    CHECK_ERR(code("{} {}"), VT_ERR_AZ_EVIDENCE_JSON);
    CHECK_ERR(code("{\"version\":null}"), VT_ERR_AZ_EVIDENCE_VERSION);
    CHECK_ERR(code("{\"version\":2.0}"), VT_ERR_AZ_EVIDENCE_VERSION);
    CHECK_ERR(code("{\"version\":[2]}"), VT_ERR_AZ_EVIDENCE_VERSION);
    CHECK_ERR(code("{\"version\":2,\"tpm_quote\":[]}"), VT_ERR_AZ_EVIDENCE_JSON);
    v12(2, pcrs(H32, 24), "\"00\\u0000ff\"", ",\"vcek\":\"AAEC\"", VT_ERR_AZ_EVIDENCE_FIELD);
    v12(2, pcrs(H32, 24), "\"\\u0030\\u0030ff\"", ",\"vcek\":\"AAEC\"", VT_OK);
    v12(2, pcrs(H32, 24), "\"00ff\"", ",\"vcek\":\"AAEC\"} ", VT_ERR_AZ_EVIDENCE_JSON);
    v12(2, pcrs("[0]", 24), "\"00ff\"", ",\"vcek\":\"AAEC\"", VT_ERR_AZ_PCRS);
    v12(2, "{}", "\"00ff\"", ",\"vcek\":\"AAEC\"", VT_ERR_AZ_PCRS);
    v12(2, pcrs(H32, 24), "\"00ff\"", ",\"hcl_report\":\"SENMQQ\",\"vcek\":\"AAEC\"",
        VT_ERR_AZ_EVIDENCE_JSON);                                /* duplicate at the top */
}

/* A v0 byte array keeps jansson's integer rule: 1.0, 1e0, true and nested arrays are no bytes. */
static void test_v0_items(void)
{
    static const char *bad[] = { "1.0", "1e0", "true", "null", "[1]", "{}", "\"1\"", "256" };
    char js[8192];
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(js, sizeof(js), "{\"tpm_quote\":{\"signature\":[1,%s],\"message\":[1],"
                 "\"pcrs\":[]},\"hcl_report\":[1],\"td_quote\":[1]}", bad[i]);
        CHECK_ERR(code(js), VT_ERR_AZ_EVIDENCE_FIELD);
    }
}

/* Every 7th byte of the real v1 TDX evidence set to each of a few JSON-significant values:
 * whenever jansson (duplicates refused) does not read the result as an object with a
 * "tpm_quote" object, the reader refuses it as not JSON of a known shape; whenever it does,
 * the reader gets past the JSON to the fields (another code, or none). */
static void test_differential(void)
{
    struct vt_buf ev = vt_testdata_read("azure/trustee_az_tdx_vtpm_evidence_v1.json");
    static const uint8_t vals[] = { '"', ',', '}', ']', '{', ':', '\\', 'A', '0', ' ', 0, 0xc3 };
    size_t n = 0, disagree = 0, refused = 0;
    for (size_t at = 0; at < ev.len; at += 7) {
        uint8_t was = ev.p[at];
        for (size_t v = 0; v < sizeof(vals); v++) {
            ev.p[at] = vals[v];
            json_t *j = json_loadb((const char *)ev.p, ev.len, JSON_REJECT_DUPLICATES, NULL);
            bool reads = j && json_is_object(j) && json_is_object(json_object_get(j, "tpm_quote"));
            json_decref(j);
            struct vti_az_ev e;
            int err = vti_az_evidence_parse(ev.p, ev.len, &e).err;
            if (!err)
                vti_az_evidence_free(&e);
            disagree += reads == (err == VT_ERR_AZ_EVIDENCE_JSON);
            refused += err != 0;
            n++;
        }
        ev.p[at] = was;
    }
    printf("# %zu mutations, %zu refused, %zu disagreements with jansson\n", n, refused, disagree);
    CHECK(n > 20000 && disagree == 0 && refused > n / 2);
    vti_buf_free_nowipe(&ev);
}

int main(void)
{
    test_v12();
    test_v0();
    test_reader();
    test_v0_items();
    test_differential();
    return vt_test_done();
}
