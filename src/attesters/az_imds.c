/* SPDX-License-Identifier: Apache-2.0 */
/*
 * az_imds.c - the Azure CVM guest's local endpoints (link-local, plain HTTP), libcurl:
 *   VCEK:     GET  http://169.254.169.254/metadata/THIM/amd/certification, header
 *             "Metadata: true" -> {"vcekCert": PEM, "certificateChain": PEM, ...}
 *   TD quote: POST http://169.254.169.254/acc/tdquote, body {"report": base64url(TDREPORT)}
 *             -> {"quote": base64url(TD quote)}
 * (request/response shapes as kinvolk/azure-cvm-tooling's imds.rs uses them). URLs are options
 * of the attesters; tests point them at a loopback fake. No redirects, 5 s connect / 30 s
 * total, response at most 256 KiB. Responses are untrusted: parsed by jansson with a size cap
 * and decoded strictly; the quote and certificate are verified by the verifier.
 */
#include <jansson.h>
#include <string.h>

#include "attesters/az_vtpm.h"
#include "util/codec.h"
#include "util/log.h"

#define RESP_MAX (256u << 10)

#ifdef VT_HAVE_CURL
#include "util/dlcurl.h"

static size_t on_body(char *p, size_t sz, size_t nm, void *u)
{
    struct vt_buf *b = u;
    size_t n = sz * nm;
    if (n > RESP_MAX - b->len)
        return 0;
    return vti_is_ok(vti_buf_append(b, p, n)) ? n : 0;
}

/* GET (post == NULL) or POST a JSON body; 200 with a body of at most RESP_MAX bytes. */
static vt_res http(const char *url, const char *header, const char *post, struct vt_buf *body)
{
    ENSURE(url && (strncmp(url, "http://", 7) == 0 || strncmp(url, "https://", 8) == 0), VT_ERR_AZ_OPTION);
    const struct vti_curl *C = vti_curl();
    ENSURE(C, VT_ERR_UNSUPPORTED);
    CURL *h = C->easy_init();
    ENSURE(h, VT_ERR_NOMEM);
    struct curl_slist *hd = C->slist_append(NULL, header);
    bool ok = hd && C->easy_setopt(h, CURLOPT_URL, url) == CURLE_OK &&
              C->easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https") == CURLE_OK &&
              C->easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L) == CURLE_OK &&
              C->easy_setopt(h, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
              C->easy_setopt(h, CURLOPT_NOPROXY, "*") == CURLE_OK &&
              C->easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 5000L) == CURLE_OK &&
              C->easy_setopt(h, CURLOPT_TIMEOUT_MS, 30000L) == CURLE_OK &&
              C->easy_setopt(h, CURLOPT_HTTPHEADER, hd) == CURLE_OK &&
              C->easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body) == CURLE_OK &&
              C->easy_setopt(h, CURLOPT_WRITEDATA, body) == CURLE_OK &&
              (!post || C->easy_setopt(h, CURLOPT_POSTFIELDS, post) == CURLE_OK);
    vt_res r = ok ? vti_ok() : VT_FAIL(VT_ERR_INTERNAL);
    if (!r.err) {
        CURLcode rc = C->easy_perform(h);
        long status = 0;
        C->easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        if (rc != CURLE_OK || status != 200) {
            VT_DEBUG("%s %s: %s, HTTP %ld", post ? "POST" : "GET", url, C->easy_strerror(rc), status);
            r = VT_FAIL(VT_ERR_AZ_ENDPOINT);
        }
    }
    C->slist_free_all(hd);
    C->easy_cleanup(h);
    return r;
}

#else

static vt_res http(const char *url, const char *header, const char *post, struct vt_buf *body)
{
    (void)url;
    (void)header;
    (void)post;
    (void)body;
    return VT_FAIL(VT_ERR_UNSUPPORTED);
}

#endif

/* The string member name of the JSON object in body. */
static vt_res json_str(const struct vt_buf *body, const char *name, json_t **root, const char **s, size_t *n)
{
    json_error_t je;
    *root = json_loadb((const char *)body->p, body->len, JSON_REJECT_DUPLICATES, &je);
    ENSURE(*root, VT_ERR_AZ_ENDPOINT);
    json_t *v = json_object_get(*root, name);
    if (!json_is_string(v)) {
        json_decref(*root);
        *root = NULL;
        return VT_FAIL(VT_ERR_AZ_ENDPOINT);
    }
    *s = json_string_value(v);
    *n = json_string_length(v);
    return vti_ok();
}

/* The first PEM CERTIFICATE block of s as DER. */
static vt_res pem_cert_der(const char *s, size_t n, struct vt_buf *der)
{
    static const char begin[] = "-----BEGIN CERTIFICATE-----", end[] = "-----END CERTIFICATE-----";
    const char *b = memmem(s, n, begin, sizeof(begin) - 1);
    ENSURE(b, VT_ERR_AZ_ENDPOINT);
    b += sizeof(begin) - 1;
    const char *e = memmem(b, n - (size_t)(b - s), end, sizeof(end) - 1);
    ENSURE(e, VT_ERR_AZ_ENDPOINT);
    struct vt_buf b64 = VT_BUF_INIT;
    vt_res r = vti_ok();
    for (const char *c = b; c < e && !r.err; c++)
        if (*c != '\n' && *c != '\r' && *c != ' ' && *c != '\t')
            r = vti_buf_u8(&b64, (uint8_t)*c);
    if (!r.err)
        r = vti_b64_decode((const char *)b64.p, b64.len, false, der);
    vti_buf_free_nowipe(&b64);
    return r.err ? VT_FAIL(VT_ERR_AZ_ENDPOINT) : r;
}

vt_res vti_az_fetch_vcek(const char *url, struct vt_buf *der)
{
    struct vt_buf body = VT_BUF_INIT;
    json_t *root = NULL;
    const char *s;
    size_t n;
    vt_res r = http(url, "Metadata: true", NULL, &body);
    if (!r.err)
        r = json_str(&body, "vcekCert", &root, &s, &n);
    if (!r.err)
        r = pem_cert_der(s, n, der);
    json_decref(root);
    vti_buf_free_nowipe(&body);
    return r;
}

vt_res vti_az_fetch_td_quote(const char *url, const uint8_t tdreport[VTI_AZ_TDREPORT_LEN],
                             struct vt_buf *quote)
{
    struct vt_buf req = VT_BUF_INIT, body = VT_BUF_INIT;
    json_t *root = NULL;
    const char *s;
    size_t n;
    vt_res r = vti_buf_printf(&req, "{\"report\":\"");
    if (!r.err)
        r = vti_b64_encode(tdreport, VTI_AZ_TDREPORT_LEN, true, &req);
    if (!r.err)
        r = vti_buf_printf(&req, "\"}");
    if (!r.err)
        r = vti_buf_cstr(&req);
    if (!r.err)
        r = http(url, "Content-Type: application/json", (const char *)req.p, &body);
    if (!r.err)
        r = json_str(&body, "quote", &root, &s, &n);
    if (!r.err && vti_b64_decode(s, n, true, quote).err)
        r = VT_FAIL(VT_ERR_AZ_ENDPOINT);
    json_decref(root);
    vti_buf_free_nowipe(&req);
    vti_buf_free_nowipe(&body);
    return r;
}
