/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nvidia_rim_sim.c - sim RIMs for the sim GPU: a SWID tag in the layout of NVIDIA's RIMs
 * (SoftwareIdentity / Entity / Meta colloquialVersion / Payload of Resources with
 * sha384:HashN alternatives) with an enveloped XML-DSig made by xmlsec: C14N 1.1,
 * ECDSA-SHA384, SHA-384 digest over URI="", the signer chain in KeyInfo/X509Data.
 * The template is parsed with the same hardened parser and structure checks as a loaded RIM.
 */
#include <ctype.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <xmlsec/xmlsec.h>
#include <xmlsec/xmldsig.h>
#include <xmlsec/openssl/evp.h>

#include "endorsements/nvidia_rim_int.h"
#include "util/codec.h"

#define C14N11 "http://www.w3.org/2006/12/xml-c14n11"

static bool safe_text(const char *s, size_t max)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n >= max)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && !strchr("._-", s[i]))
            return false;
    return true;
}

static VT_RESULT check_in(const struct vti_nv_rim_sim_in *in)
{
    ENSURE(in && in->key && in->chain && in->n_chain >= 1 && in->n_chain <= VTI_NV_RIM_MAX_CERTS,
           VT_ERR_INVALID_ARG);
    ENSURE(safe_text(in->product, VTI_NV_RIM_NAME_MAX) &&
           safe_text(in->version, VTI_NV_RIM_VERSION_MAX), VT_ERR_INVALID_ARG);
    ENSURE(vti_rim_kind_of(in->version) == in->kind, VT_ERR_NV_RIM_KIND);
    ENSURE(in->n_res >= 1 && in->n_res <= VTI_NV_RIM_MAX_RESOURCES && in->res, VT_ERR_INVALID_ARG);
    bool seen[256] = { false };
    for (size_t i = 0; i < in->n_res; i++) {
        const struct vti_nv_rim_resource *r = &in->res[i];
        ENSURE(r->index <= 254 && !seen[r->index], VT_ERR_INVALID_ARG);
        ENSURE(r->n_alt >= 1 && r->n_alt <= VTI_NV_RIM_MAX_ALTS, VT_ERR_INVALID_ARG);
        ENSURE(r->name[0] == 0 || safe_text(r->name, sizeof(r->name)), VT_ERR_INVALID_ARG);
        seen[r->index] = true;
    }
    return vti_ok();
}

static VT_RESULT put_resource(struct vt_buf *b, const struct vti_nv_rim_resource *r)
{
    GUARD(vti_buf_printf(b, "        <ns0:Resource type=\"Measurement\" index=\"%u\" active=\"%s\" "
                            "alternatives=\"%u\"", r->index, r->active ? "True" : "False", r->n_alt));
    for (uint32_t j = 0; j < r->n_alt; j++) {
        char hex[2 * VTI_NV_RIM_DIGEST_LEN + 1];
        vti_hex_encode(r->alt[j], VTI_NV_RIM_DIGEST_LEN, hex);
        GUARD(vti_buf_printf(b, " ns2:Hash%u=\"%s\"", j, hex));
    }
    if (r->name[0])
        GUARD(vti_buf_printf(b, " name=\"%s\" size=\"48\"/>\n", r->name));
    else
        GUARD(vti_buf_printf(b, " name=\"Measurement_%u\" size=\"48\"/>\n", r->index));
    return vti_ok();
}

/* One X509Certificate element: base64 in 64-column lines, as NVIDIA's tags have it. */
static VT_RESULT put_cert(struct vt_buf *b, const struct vti_nv_der *c)
{
    const unsigned char *q = c->p;
    X509 *x = c->p ? d2i_X509(NULL, &q, (long)c->len) : NULL;
    bool exact = x && q == c->p + c->len;
    X509_free(x);
    ENSURE(exact, VT_ERR_INVALID_ARG);
    struct vt_buf t = VT_BUF_INIT;
    vt_res r = vti_b64_encode(c->p, c->len, false, &t);
    if (vti_is_ok(r))
        r = vti_buf_printf(b, "<ds:X509Certificate>");
    for (size_t o = 0; vti_is_ok(r) && o < t.len; o += 64)
        r = vti_buf_printf(b, "%.*s\n", (int)(t.len - o < 64 ? t.len - o : 64), (const char *)t.p + o);
    if (vti_is_ok(r))
        r = vti_buf_printf(b, "</ds:X509Certificate>");
    vti_buf_free_nowipe(&t);
    return r;
}

static VT_RESULT put_head(struct vt_buf *b, const struct vti_nv_rim_sim_in *in, const char *tag_id)
{
    GUARD(vti_buf_printf(b,
        "<SoftwareIdentity xmlns=\"" VTI_NS_SWID "\" xmlns:ns0=\"" VTI_NS_SWID "\" "
        "xmlns:ns2=\"" VTI_NS_SHA384 "\" corpus=\"false\" name=\"%s\" patch=\"false\" "
        "supplemental=\"false\" tagId=\"%s\" version=\"1.0\" tagVersion=\"0\">\n"
        "    <ns0:Entity name=\"NVIDIA Corporation\" role=\"softwareCreator tagCreator\"/>\n",
        in->product, tag_id));
    return vti_buf_printf(b,
        "    <ns0:Meta xmlns:ns1=\"https://trustedcomputinggroup.org/resource/"
        "tcg-reference-integrity-manifest-rim-information-model/\" colloquialVersion=\"%s\" "
        "edition=\"GPU\" product=\"%s\" revision=\"r1\" PayloadType=\"direct\" "
        "ns1:BindingSpec=\"RIMIM\" ns1:BindingSpecVersion=\"1.01\" "
        "ns1:PlatformManufacturerId=\"5703\" ns1:PlatformManufacturerStr=\"NVIDIA Corporation\" "
        "ns1:PlatformModel=\"%s\" ns1:FirmwareManufacturer=\"NVIDIA Corporation\" "
        "ns1:FirmwareManufacturerId=\"5703\"/>\n", in->version, in->product, in->product);
}

static VT_RESULT put_signature(struct vt_buf *b, const struct vti_nv_rim_sim_in *in)
{
    GUARD(vti_buf_printf(b,
        "<ds:Signature xmlns:ds=\"" VTI_NS_DSIG "\"><ds:SignedInfo>"
        "<ds:CanonicalizationMethod Algorithm=\"" C14N11 "\"/>"
        "<ds:SignatureMethod Algorithm=\"http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384\"/>"
        "<ds:Reference URI=\"\"><ds:Transforms>"
        "<ds:Transform Algorithm=\"http://www.w3.org/2000/09/xmldsig#enveloped-signature\"/>"
        "<ds:Transform Algorithm=\"" C14N11 "\"/></ds:Transforms>"
        "<ds:DigestMethod Algorithm=\"http://www.w3.org/2001/04/xmldsig-more#sha384\"/>"
        "<ds:DigestValue></ds:DigestValue></ds:Reference></ds:SignedInfo>"
        "<ds:SignatureValue></ds:SignatureValue><ds:KeyInfo><ds:X509Data>"));
    for (size_t i = 0; i < in->n_chain; i++)
        GUARD(put_cert(b, &in->chain[i]));
    return vti_buf_printf(b, "</ds:X509Data></ds:KeyInfo></ds:Signature></SoftwareIdentity>\n");
}

/* The unsigned template; tagId = SHA-384 of the Payload text (NVIDIA's look: 96 hex). */
static VT_RESULT build_template(const struct vti_nv_rim_sim_in *in, struct vt_buf *out)
{
    struct vt_buf pl = VT_BUF_INIT;
    vt_res r = vti_buf_printf(&pl, "    <ns0:Payload xmlns:SHA384=\"" VTI_NS_SHA384 "\">\n");
    for (size_t i = 0; vti_is_ok(r) && i < in->n_res; i++)
        r = put_resource(&pl, &in->res[i]);
    if (vti_is_ok(r))
        r = vti_buf_printf(&pl, "    </ns0:Payload>\n");
    uint8_t md[48];
    char tag_id[97];
    unsigned int mdlen = 0;
    if (vti_is_ok(r) && EVP_Digest(pl.p, pl.len, md, &mdlen, EVP_sha384(), NULL) != 1)
        r = VT_FAIL(VT_ERR_NV_RIM_SIGN);
    if (vti_is_ok(r)) {
        vti_hex_encode(md, sizeof(md), tag_id);
        r = put_head(out, in, tag_id);
    }
    if (vti_is_ok(r))
        r = vti_buf_append(out, pl.p, pl.len);
    if (vti_is_ok(r))
        r = put_signature(out, in);
    vti_buf_free_nowipe(&pl);
    return r;
}

/* The signing key as an xmlsec key: EC P-384, private, matching the leaf certificate. */
static VT_RESULT sign_key(const struct vti_nv_rim_sim_in *in, xmlSecKeyPtr *out)
{
    const unsigned char *q = in->chain[0].p;
    X509 *leaf = d2i_X509(NULL, &q, (long)in->chain[0].len);
    bool match = leaf && X509_check_private_key(leaf, in->key) == 1;
    X509_free(leaf);
    ENSURE(match, VT_ERR_NV_RIM_SIGN);
    char grp[32] = "";
    size_t glen = 0;
    ENSURE(EVP_PKEY_is_a(in->key, "EC") &&
           EVP_PKEY_get_utf8_string_param(in->key, OSSL_PKEY_PARAM_GROUP_NAME, grp, sizeof(grp),
                                          &glen) == 1 && strcmp(grp, "secp384r1") == 0,
           VT_ERR_NV_RIM_SIGN);
    ENSURE(EVP_PKEY_up_ref(in->key) == 1, VT_ERR_NV_RIM_SIGN);
    xmlSecKeyDataPtr data = xmlSecOpenSSLEvpKeyAdopt(in->key);
    if (!data) {
        EVP_PKEY_free(in->key);
        return VT_FAIL(VT_ERR_NV_RIM_SIGN);
    }
    xmlSecKeyPtr key = xmlSecKeyCreate();
    if (!key || xmlSecKeySetValue(key, data) < 0) {
        xmlSecKeyDataDestroy(data);
        if (key)
            xmlSecKeyDestroy(key);
        return VT_FAIL(VT_ERR_NV_RIM_SIGN);
    }
    *out = key;
    return vti_ok();
}

static VT_RESULT sign_doc(struct vti_rim_doc *d, xmlSecKeyPtr key, struct vt_buf *out)
{
    xmlSecDSigCtxPtr ctx = xmlSecDSigCtxCreate(NULL);
    if (!ctx) {
        xmlSecKeyDestroy(key);
        return VT_FAIL(VT_ERR_NV_RIM_XMLSEC);
    }
    ctx->signKey = key; /* owned by ctx */
    ctx->enabledReferenceUris = xmlSecTransformUriTypeEmpty;
    vt_res r = vti_ok();
    if (xmlSecDSigCtxSign(ctx, d->sig) < 0 || ctx->status != xmlSecDSigStatusSucceeded)
        r = VT_FAIL(VT_ERR_NV_RIM_SIGN);
    xmlSecDSigCtxDestroy(ctx);
    xmlChar *mem = NULL;
    int size = 0;
    if (vti_is_ok(r)) {
        xmlDocDumpMemory(d->doc, &mem, &size);
        r = mem && size > 0 ? vti_buf_append(out, mem, (size_t)size) : VT_FAIL(VT_ERR_NOMEM);
    }
    xmlFree(mem);
    return r;
}

vt_res vti_nv_rim_sign_sim(const struct vti_nv_rim_sim_in *in, struct vt_buf *out)
{
    GUARD(check_in(in));
    ENSURE(out, VT_ERR_INVALID_ARG);
    ENSURE(vti_rim_xml_init(), VT_ERR_NV_RIM_XMLSEC);
    struct vt_buf tmpl = VT_BUF_INIT;
    struct vti_rim_doc d = { 0 };
    xmlSecKeyPtr key = NULL;
    vt_res r;
    GUARD_GOTO(build_template(in, &tmpl), r, done);
    GUARD_GOTO(vti_rim_parse(tmpl.p, tmpl.len, &d), r, done);
    GUARD_GOTO(sign_key(in, &key), r, done);
    GUARD_GOTO(sign_doc(&d, key, out), r, done);
done:
    vti_rim_doc_free(&d);
    vti_buf_free_nowipe(&tmpl);
    return r;
}
