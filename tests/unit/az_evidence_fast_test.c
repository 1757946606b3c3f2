/*
 * az_evidence_fast_test.c - the Azure evidence reader's fast path (az_evidence.c fast_*)
 * gives exactly jansson's result: plain documents are read the same way, and every document
 * outside its subset (escapes, non-ASCII, duplicate keys, fractions, leading zeros, negative
 * numbers, deep nesting, trailing bytes, truncation) falls back to json_loadb, keeping its
 * verdicts and error codes.
 */
#include <jansson.h>

#include "verifiers/az_evidence.h"
#include "vt_test.h"

static struct vt_buf base;

/* base with the first occurrence of from replaced by to. */
static int parse_with(const char *from, const char *to, struct vti_az_ev *out)
{
    struct vt_buf b = VT_BUF_INIT;
    const char *s = (const char *)base.p;
    const char *k = strstr(s, from);
    CHECK(k != NULL);
    if (!k)
        return -1;
    size_t at = (size_t)(k - s);
    CHECK_OK(vti_buf_append(&b, s, at));
    CHECK_OK(vti_buf_append(&b, to, strlen(to)));
    CHECK_OK(vti_buf_append(&b, k + strlen(from), base.len - at - strlen(from)));
    struct vti_az_ev ev;
    int rc = vti_az_evidence_parse(b.p, b.len, &ev).err;
    if (rc == VT_OK && out)
        *out = ev;
    else if (rc == VT_OK)
        vti_az_evidence_free(&ev);
    vti_buf_free(&b);
    return rc;
}

static void same(const struct vti_az_ev *a, const struct vti_az_ev *b)
{
    CHECK(a->version == b->version && a->tdx == b->tdx);
    CHECK(a->hcl.len == b->hcl.len && memcmp(a->hcl.p, b->hcl.p, a->hcl.len) == 0);
    CHECK(a->td_quote.len == b->td_quote.len &&
          memcmp(a->td_quote.p, b->td_quote.p, a->td_quote.len) == 0);
    CHECK(a->sig.len == b->sig.len && memcmp(a->sig.p, b->sig.p, a->sig.len) == 0);
    CHECK(a->msg.len == b->msg.len && memcmp(a->msg.p, b->msg.p, a->msg.len) == 0);
    CHECK(memcmp(a->pcrs, b->pcrs, sizeof(a->pcrs)) == 0);
}

int main(void)
{
    base = vt_testdata_read("azure/trustee_az_tdx_vtpm_evidence_v1.json");
    CHECK_OK(vti_buf_cstr(&base));
    struct vti_az_ev ref, ev;
    CHECK_OK(vti_az_evidence_parse(base.p, base.len, &ref));
    CHECK(ref.tdx && ref.version == 1 && ref.hcl.len > 0 && ref.td_quote.len > 0);
    /* the same document through jansson (an escaped character sends it there) */
    CHECK_OK(parse_with("\"version\"", "\"versio\\u006e\"", &ev));
    same(&ref, &ev);
    vti_az_evidence_free(&ev);
    /* an unknown member nested deeper than the fast path goes, with a non-ASCII string */
    CHECK_OK(parse_with("{", "{\"x\":[[[[[[[[[[[[[[[[[[\"\xc3\xa9\"]]]]]]]]]]]]]]]]]],", &ev));
    same(&ref, &ev);
    vti_az_evidence_free(&ev);
    CHECK_OK(parse_with("{", "{\"x\":[-1,true,false,null,{},[]] ,", NULL));
    /* jansson's refusals stay */
    CHECK_ERR(parse_with("{", "{\"version\":1,", NULL), VT_ERR_AZ_EVIDENCE_JSON); /* duplicate */
    CHECK_ERR(parse_with("\"version\": 1", "\"version\": 01", NULL), VT_ERR_AZ_EVIDENCE_JSON);
    CHECK_ERR(parse_with("\"version\": 1", "\"version\": 1.0", NULL), VT_ERR_AZ_EVIDENCE_VERSION);
    CHECK_ERR(parse_with("\"version\": 1", "\"version\": 1e0", NULL), VT_ERR_AZ_EVIDENCE_VERSION);
    CHECK_ERR(parse_with("\"version\": 1", "\"version\": -1", NULL), VT_ERR_AZ_EVIDENCE_VERSION);
    CHECK_ERR(parse_with("\"version\": 1", "\"version\": 12345678901234567890123", NULL),
              VT_ERR_AZ_EVIDENCE_JSON);
    CHECK_ERR(parse_with("\"version\": 1", "\"version\": tru", NULL), VT_ERR_AZ_EVIDENCE_JSON);
    CHECK_ERR(parse_with("{", "{\"a\":\"b\nc\",", NULL), VT_ERR_AZ_EVIDENCE_JSON); /* raw LF */
    CHECK_ERR(parse_with("{", "{\"a\":\"\\q\",", NULL), VT_ERR_AZ_EVIDENCE_JSON);  /* bad escape */
    CHECK_ERR(parse_with("{", "{\"a\" 1,", NULL), VT_ERR_AZ_EVIDENCE_JSON);
    CHECK_ERR(parse_with("{", "{\"a\":[1 2],", NULL), VT_ERR_AZ_EVIDENCE_JSON);
    struct vti_az_ev e;
    for (size_t n = 0; n < base.len; n += 97) /* truncated */
        CHECK_ERR(vti_az_evidence_parse(base.p, n, &e), VT_ERR_AZ_EVIDENCE_JSON);
    struct vt_buf t = VT_BUF_INIT;
    CHECK_OK(vti_buf_append(&t, base.p, base.len));
    CHECK_OK(vti_buf_append(&t, " x", 2)); /* trailing bytes */
    CHECK_ERR(vti_az_evidence_parse(t.p, t.len, &e), VT_ERR_AZ_EVIDENCE_JSON);
    t.len = base.len;
    CHECK_OK(vti_buf_append(&t, " \r\n\t", 4)); /* trailing whitespace */
    CHECK_OK(vti_az_evidence_parse(t.p, t.len, &e));
    vti_az_evidence_free(&e);
    vti_buf_free(&t);
    vti_az_evidence_free(&ref);
    vti_buf_free(&base);
    return vt_test_done();
}
