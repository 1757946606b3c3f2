/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nvidia_rim_test.c - NVIDIA RIMs (SWID + XML-DSig): the two nvtrust test RIMs load and verify
 * at 2024-06-01 against the pinned RIM root and are refused as expired today; every negative
 * (flipped Resource digest, second Signature, wrapped / moved / re-targeted Reference, wrong
 * root, broken chain, non-XML, DTD / entity / PI tricks, size limit, algorithms, malformed
 * Resources) is refused with its exact code; compare() against the measurements of the
 * "nvidia" case in cases.json names exactly the 20 mismatching indices.
 */
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "endorsements/nvidia_rim.h"
#include "util/codec.h"

#include "vt_test.h"

#define DRIVER_RIM "nvidia/nvtrust_Driver_RIM_test_no_gpu.swidtag"
#define VBIOS_RIM "nvidia/nvtrust_1010_0200_882_96005E0001_test_no_gpu.swidtag"

static int64_t AT; /* 2024-06-01T00:00:00Z */
static struct vt_buf drv_xml, vb_xml;

/* in with the first occurrence of `from` replaced by `to` (count a failure if absent). */
static struct vt_buf subst(const struct vt_buf *in, const char *from, const char *to)
{
    struct vt_buf o = VT_BUF_INIT;
    const uint8_t *at = memmem(in->p, in->len, from, strlen(from));
    CHECK(at != NULL);
    if (!at) {
        CHECK_OK(vti_buf_append(&o, in->p, in->len));
        return o;
    }
    size_t pre = (size_t)(at - in->p);
    CHECK_OK(vti_buf_append(&o, in->p, pre));
    CHECK_OK(vti_buf_append(&o, to, strlen(to)));
    CHECK_OK(vti_buf_append(&o, at + strlen(from), in->len - pre - strlen(from)));
    return o;
}

static int load(const struct vt_buf *b, const struct vti_nv_rim_trust *t, int64_t at)
{
    struct vti_nv_rim *r = (struct vti_nv_rim *)&r; /* must be reset to NULL on failure */
    int e = vti_nv_rim_load(b->p, b->len, t, at, &r).err;
    CHECK((e == 0) == (r != NULL));
    vti_nv_rim_free(r);
    return e;
}

static int load_subst(const struct vt_buf *b, const char *from, const char *to)
{
    struct vt_buf m = subst(b, from, to);
    int e = load(&m, NULL, AT);
    vti_buf_free(&m);
    return e;
}

static int extract_subst(const struct vt_buf *b, const char *from, const char *to)
{
    struct vt_buf m = subst(b, from, to);
    struct vti_nv_rim *r = NULL;
    int e = vti_nv_rim_extract_unsafe(m.p, m.len, &r).err;
    vti_nv_rim_free(r);
    vti_buf_free(&m);
    return e;
}

static void check_active(const struct vti_nv_rim *r, const uint32_t *want, size_t n_want)
{
    size_t n = 0;
    bool ok = true;
    for (size_t i = 0; i < vti_nv_rim_n_resources(r); i++) {
        const struct vti_nv_rim_resource *res = vti_nv_rim_resource(r, i);
        CHECK(res->index == i && res->n_alt >= 1);
        if (res->active)
            ok = ok && n < n_want && want[n++] == res->index;
    }
    CHECK(ok && n == n_want);
    CHECK(vti_nv_rim_resource(r, vti_nv_rim_n_resources(r)) == NULL);
}

static void test_load_real(void)
{
    static const uint32_t drv_active[] = { 7,  21, 22, 23, 24, 25, 26, 27, 28, 29, 30,
                                           31, 32, 33, 34, 35, 36, 37, 38, 39, 40 };
    static const uint32_t vb_active[] = { 0, 1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12 };
    struct vti_nv_rim *d = NULL, *v = NULL;
    CHECK_OK(vti_nv_rim_load(drv_xml.p, drv_xml.len, NULL, AT, &d));
    CHECK_OK(vti_nv_rim_load(vb_xml.p, vb_xml.len, NULL, AT, &v));
    if (!d || !v)
        goto out;
    CHECK(vti_nv_rim_kind(d) == VTI_NV_RIM_DRIVER && vti_nv_rim_kind(v) == VTI_NV_RIM_VBIOS);
    CHECK(strcmp(vti_nv_rim_kind_name(vti_nv_rim_kind(d)), "driver") == 0);
    CHECK(strcmp(vti_nv_rim_version(d), "545.00") == 0);
    CHECK(strcmp(vti_nv_rim_version(v), "96.00.5e.00.01") == 0);
    CHECK(strcmp(vti_nv_rim_product(d), "GH100") == 0);
    CHECK(strstr(vti_nv_rim_signer(d), "CN=HCC RIM L4 Signer") != NULL);
    CHECK(!vti_nv_rim_insecure_root(d));
    int64_t nb = 0, na = 0;
    vti_nv_rim_validity(d, &nb, &na);
    CHECK(nb == vti_timegm(2023, 6, 27, 6, 10, 12) && na == vti_timegm(2025, 6, 26, 6, 10, 12));
    CHECK(vti_nv_rim_n_resources(d) == 64 && vti_nv_rim_n_resources(v) == 64);
    check_active(d, drv_active, VT_ARRAY_LEN(drv_active));
    check_active(v, vb_active, VT_ARRAY_LEN(vb_active));
    const struct vti_nv_rim_resource *r12 = vti_nv_rim_resource(v, 12);
    CHECK(r12->n_alt == 4 && r12->alt[1][0] == 0x75 && r12->alt[1][47] == 0xd5);
out:
    vti_nv_rim_free(d);
    vti_nv_rim_free(v);
}

static void test_time(void)
{
    CHECK_ERR(load(&drv_xml, NULL, (int64_t)time(NULL)), VT_ERR_NV_RIM_EXPIRED);
    CHECK_ERR(load(&vb_xml, NULL, (int64_t)time(NULL)), VT_ERR_NV_RIM_EXPIRED);
    CHECK_ERR(load(&drv_xml, NULL, vti_timegm(2025, 6, 26, 6, 10, 13)), VT_ERR_NV_RIM_EXPIRED);
    CHECK_OK(load(&drv_xml, NULL, vti_timegm(2025, 6, 26, 6, 10, 11)));
    CHECK_ERR(load(&drv_xml, NULL, vti_timegm(2023, 1, 1, 0, 0, 0)), VT_ERR_NV_RIM_EXPIRED);
}

static void test_trust(void)
{
    struct vt_buf rim_root = vt_testdata_cert_der("nvidia/nvtrust_verifier_RIM_root.pem");
    struct vt_buf dev_root = vt_testdata_cert_der("nvidia/nvtrust_verifier_device_root.pem");
    struct vti_nv_der r1 = { rim_root.p, rim_root.len }, r2 = { dev_root.p, dev_root.len };
    struct vti_nv_rim_trust t_rim = { &r1, 1 }, t_dev = { &r2, 1 };
    CHECK_ERR(load(&drv_xml, &t_dev, AT), VT_ERR_NV_RIM_CHAIN);
    struct vti_nv_rim *r = NULL;
    CHECK_OK(vti_nv_rim_load(drv_xml.p, drv_xml.len, &t_rim, AT, &r));
    CHECK(r && vti_nv_rim_insecure_root(r));
    vti_nv_rim_free(r);
    struct vti_nv_rim_trust empty = { NULL, 0 };
    CHECK_OK(load(&drv_xml, &empty, AT)); /* no roots = the pinned one */
    struct vti_nv_der junk = { (const uint8_t *)"x", 1 };
    struct vti_nv_rim_trust t_junk = { &junk, 1 };
    CHECK_ERR(load(&drv_xml, &t_junk, AT), VT_ERR_INVALID_ARG);
    vti_buf_free(&rim_root);
    vti_buf_free(&dev_root);
}

/* The index-th <ds:X509Certificate>...</ds:X509Certificate> element removed. */
static struct vt_buf drop_cert(const struct vt_buf *in, int index)
{
    const char *open = "<ds:X509Certificate>", *close = "</ds:X509Certificate>";
    const uint8_t *s = in->p;
    for (int i = 0; i <= index && s; i++) {
        if (i)
            s += strlen(open);
        s = memmem(s, in->len - (size_t)(s - in->p), open, strlen(open));
    }
    const uint8_t *e = s ? memmem(s, in->len - (size_t)(s - in->p), close, strlen(close)) : NULL;
    CHECK(s && e);
    struct vt_buf o = VT_BUF_INIT;
    if (!s || !e)
        return o;
    e += strlen(close);
    CHECK_OK(vti_buf_append(&o, in->p, (size_t)(s - in->p)));
    CHECK_OK(vti_buf_append(&o, e, in->len - (size_t)(e - in->p)));
    return o;
}

static void test_chain(void)
{
    struct vt_buf m = drop_cert(&drv_xml, 3); /* the root: the pinned anchor is not there */
    CHECK_ERR(load(&m, NULL, AT), VT_ERR_NV_RIM_CHAIN);
    vti_buf_free(&m);
    m = drop_cert(&drv_xml, 1); /* the L3 CA: the leaf has no path */
    CHECK_ERR(load(&m, NULL, AT), VT_ERR_NV_RIM_CHAIN);
    vti_buf_free(&m);
    m = drop_cert(&drv_xml, 0); /* the leaf: the next cert's key does not verify */
    CHECK_ERR(load(&m, NULL, AT), VT_ERR_NV_RIM_SIG_INVALID);
    vti_buf_free(&m);
    CHECK_ERR(load_subst(&drv_xml, "<ds:X509Certificate>MIICkTCC", "<ds:X509Certificate>MIICkTCD"),
              VT_ERR_NV_RIM_CERT);
    CHECK_ERR(load_subst(&drv_xml, "<ds:X509Certificate>MIICkTCC", "<ds:X509Certificate>!IICkTCC"),
              VT_ERR_NV_RIM_CERT);
    CHECK_ERR(load_subst(&drv_xml, "<ds:X509Data>", "<ds:X509Data><ds:X509SubjectName>x</ds:X509SubjectName>"),
              VT_ERR_NV_RIM_SIG_STRUCTURE);
}

/* Certificates: 8 (the cap: the root repeated) load, 9 are refused. */
static void test_cert_cap(void)
{
    const char *root = "<ds:X509Certificate>MIICKTCC";
    const uint8_t *s = memmem(drv_xml.p, drv_xml.len, root, strlen(root));
    const uint8_t *e = s ? memmem(s, drv_xml.len - (size_t)(s - drv_xml.p), "</ds:X509Certificate>", 21) : NULL;
    CHECK(s && e);
    if (!s || !e)
        return;
    size_t n = (size_t)(e + 21 - s);
    struct vt_buf m = VT_BUF_INIT;
    CHECK_OK(vti_buf_append(&m, drv_xml.p, (size_t)(e + 21 - drv_xml.p)));
    for (int i = 0; i < 4; i++)
        CHECK_OK(vti_buf_append(&m, s, n));
    size_t cut = m.len;
    CHECK_OK(vti_buf_append(&m, e + 21, drv_xml.len - (size_t)(e + 21 - drv_xml.p)));
    CHECK_OK(load(&m, NULL, AT));
    struct vt_buf m9 = VT_BUF_INIT;
    CHECK_OK(vti_buf_append(&m9, m.p, cut));
    CHECK_OK(vti_buf_append(&m9, s, n));
    CHECK_OK(vti_buf_append(&m9, m.p + cut, m.len - cut));
    CHECK_ERR(load(&m9, NULL, AT), VT_ERR_NV_RIM_LIMIT);
    vti_buf_free(&m);
    vti_buf_free(&m9);
}

static void test_signature(void)
{
    /* nvtrust case negative: Hash0 of the first active Resource (driver index 7) changed. */
    CHECK_ERR(load_subst(&drv_xml, "ns2:Hash0=\"0e0ee161", "ns2:Hash0=\"1e0ee161"),
              VT_ERR_NV_RIM_SIG_INVALID);
    CHECK_ERR(load_subst(&vb_xml, "ns2:Hash0=\"0b42836f", "ns2:Hash0=\"0b42836e"),
              VT_ERR_NV_RIM_SIG_INVALID);
    CHECK_ERR(load_subst(&drv_xml, "active=\"False\"", "active=\"True\""), VT_ERR_NV_RIM_SIG_INVALID);
    CHECK_ERR(load_subst(&drv_xml, "<ds:SignatureValue>/", "<ds:SignatureValue>A"),
              VT_ERR_NV_RIM_SIG_INVALID);
    CHECK_ERR(load_subst(&drv_xml, "<ds:DigestValue>D", "<ds:DigestValue>E"),
              VT_ERR_NV_RIM_SIG_INVALID);
    /* A comment is not signed (C14N without comments) and changes nothing. */
    CHECK_OK(load_subst(&drv_xml, "<ns0:Payload", "<!-- c --><ns0:Payload"));
    /* Algorithms. */
    CHECK_ERR(load_subst(&drv_xml, "xmldsig-more#ecdsa-sha384", "xmldsig-more#ecdsa-sha256"),
              VT_ERR_NV_RIM_SIG_ALG);
    CHECK_ERR(load_subst(&drv_xml, "<ds:DigestMethod Algorithm=\"http://www.w3.org/2001/04/xmldsig-more#sha384\"",
                         "<ds:DigestMethod Algorithm=\"http://www.w3.org/2000/09/xmldsig#sha1\""),
              VT_ERR_NV_RIM_SIG_ALG);
    CHECK_ERR(load_subst(&drv_xml, "<ds:CanonicalizationMethod Algorithm=\"http://www.w3.org/2006/12/xml-c14n11\"",
                         "<ds:CanonicalizationMethod Algorithm=\"http://www.w3.org/TR/1999/REC-xslt-19991116\""),
              VT_ERR_NV_RIM_SIG_ALG);
}

static void test_wrapping(void)
{
    const uint8_t *s = memmem(drv_xml.p, drv_xml.len, "<ds:Signature", 13);
    const uint8_t *e = memmem(drv_xml.p, drv_xml.len, "</ds:Signature>", 15);
    CHECK(s && e);
    if (!s || !e)
        return;
    /* A second (copied) Signature. */
    struct vt_buf two = VT_BUF_INIT;
    CHECK_OK(vti_buf_append(&two, drv_xml.p, (size_t)(e + 15 - drv_xml.p)));
    CHECK_OK(vti_buf_append(&two, s, (size_t)(e + 15 - s)));
    CHECK_OK(vti_buf_append(&two, e + 15, drv_xml.len - (size_t)(e + 15 - drv_xml.p)));
    CHECK_ERR(load(&two, NULL, AT), VT_ERR_NV_RIM_SIG_STRUCTURE);
    vti_buf_free(&two);
    /* The Reference re-targeted, the Signature moved into another element, the signed
     * content carried in a ds:Object, a second Reference, a transform added or removed. */
    CHECK_ERR(load_subst(&drv_xml, "<ds:Reference URI=\"\">", "<ds:Reference URI=\"#x\">"),
              VT_ERR_NV_RIM_SIG_STRUCTURE);
    CHECK_ERR(load_subst(&drv_xml, "<ds:Reference URI=\"\">", "<ds:Reference>"),
              VT_ERR_NV_RIM_SIG_STRUCTURE);
    CHECK_ERR(load_subst(&drv_xml, "<ds:Signature ", "<ns0:Evidence><ds:Signature "),
              VT_ERR_NV_RIM_XML); /* unbalanced: not well-formed */
    struct vt_buf m = subst(&drv_xml, "<ds:Signature ", "<ns0:Evidence><ds:Signature ");
    CHECK_ERR(load_subst(&m, "</ds:Signature>", "</ds:Signature></ns0:Evidence>"),
              VT_ERR_NV_RIM_SIG_STRUCTURE);
    vti_buf_free(&m);
    CHECK_ERR(load_subst(&drv_xml, "</ds:KeyInfo>", "</ds:KeyInfo><ds:Object><x/></ds:Object>"),
              VT_ERR_NV_RIM_SIG_STRUCTURE);
    CHECK_ERR(load_subst(&drv_xml, "<ns0:Payload", "<ds:Object xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"/><ns0:Payload"),
              VT_ERR_NV_RIM_SIG_STRUCTURE);
    CHECK_ERR(load_subst(&drv_xml, "</ds:SignedInfo>", "<ds:Reference URI=\"\"/></ds:SignedInfo>"),
              VT_ERR_NV_RIM_SIG_STRUCTURE);
    CHECK_ERR(load_subst(&drv_xml, "<ds:Transform Algorithm=\"http://www.w3.org/2000/09/xmldsig#enveloped-signature\"/>", ""),
              VT_ERR_NV_RIM_SIG_STRUCTURE);
    CHECK_ERR(load_subst(&drv_xml, "</ds:Transforms>", "<ds:Transform Algorithm=\"http://www.w3.org/TR/1999/REC-xpath-19991116\"/></ds:Transforms>"),
              VT_ERR_NV_RIM_SIG_STRUCTURE);
    CHECK_ERR(load_subst(&drv_xml, "</ds:KeyInfo>", "</ds:KeyInfo><ds:SignatureValue/>"),
              VT_ERR_NV_RIM_SIG_STRUCTURE);
    CHECK_ERR(load_subst(&drv_xml, "<ds:KeyInfo>", "<ds:KeyInfo><ds:KeyName>k</ds:KeyName>"),
              VT_ERR_NV_RIM_SIG_STRUCTURE);
    /* No Signature at all. */
    CHECK_ERR(load_subst(&drv_xml, "<ds:Signature ", "<ds:Signaturx "), VT_ERR_NV_RIM_XML);
}

static void test_xml_tricks(void)
{
    struct vt_buf m = VT_BUF_INIT;
    CHECK_ERR(vti_nv_rim_load((const uint8_t *)"hello", 5, NULL, AT, &(struct vti_nv_rim *){ NULL }),
              VT_ERR_NV_RIM_XML);
    CHECK_ERR(vti_nv_rim_load((const uint8_t *)"", 0, NULL, AT, &(struct vti_nv_rim *){ NULL }),
              VT_ERR_NV_RIM_XML);
    CHECK_ERR(vti_nv_rim_load(drv_xml.p, drv_xml.len - 20, NULL, AT, &(struct vti_nv_rim *){ NULL }),
              VT_ERR_NV_RIM_XML);
    CHECK_ERR(vti_nv_rim_load((const uint8_t *)"<a/>", 4, NULL, AT, &(struct vti_nv_rim *){ NULL }),
              VT_ERR_NV_RIM_ELEMENT);
    CHECK_ERR(vti_nv_rim_load(drv_xml.p, VTI_NV_RIM_MAX_SIZE + 1u, NULL, AT,
                              &(struct vti_nv_rim *){ NULL }), VT_ERR_NV_RIM_TOO_LARGE);
    static const char *const pre[] = {
        "<!DOCTYPE SoftwareIdentity [<!ENTITY a \"b\">]>",
        "<!DOCTYPE SoftwareIdentity SYSTEM \"http://127.0.0.1:1/x.dtd\">",
        "<!DOCTYPE SoftwareIdentity [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>",
        "<!DOCTYPE lol [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;\">]>",
        "<?xml-stylesheet href=\"x.xsl\"?>",
    };
    for (size_t i = 0; i < VT_ARRAY_LEN(pre); i++) {
        vti_buf_free(&m);
        CHECK_OK(vti_buf_append(&m, pre[i], strlen(pre[i])));
        CHECK_OK(vti_buf_append(&m, drv_xml.p, drv_xml.len));
        CHECK_ERR(load(&m, NULL, AT), VT_ERR_NV_RIM_DTD);
    }
    vti_buf_free(&m);
    CHECK_ERR(load_subst(&drv_xml, "<ns0:Payload", "<?pi x?><ns0:Payload"), VT_ERR_NV_RIM_DTD);
    CHECK_ERR(load_subst(&drv_xml, "name=\"Measurement_0\"", "name=\"&xxe;\""), VT_ERR_NV_RIM_XML);
    CHECK_ERR(load_subst(&drv_xml, "<ns0:Entity ", "<xi:include xmlns:xi=\"http://www.w3.org/2001/XInclude\" href=\"file:///etc/passwd\"/><ns0:Entity "),
              VT_ERR_NV_RIM_SIG_INVALID); /* not processed: just an unsigned element */
    /* Depth limit. */
    struct vt_buf deep = VT_BUF_INIT;
    for (int i = 0; i < 16; i++)
        CHECK_OK(vti_buf_printf(&deep, "<ns0:d>"));
    for (int i = 0; i < 16; i++)
        CHECK_OK(vti_buf_printf(&deep, "</ns0:d>"));
    CHECK_OK(vti_buf_printf(&deep, "<ns0:Entity "));
    CHECK_ERR(load_subst(&drv_xml, "<ns0:Entity ", (const char *)deep.p), VT_ERR_NV_RIM_LIMIT);
    vti_buf_free(&deep);
    for (int i = 0; i < 15; i++) /* at the cap: parsed, then the (changed) document fails */
        CHECK_OK(vti_buf_printf(&deep, "<ns0:d>"));
    for (int i = 0; i < 15; i++)
        CHECK_OK(vti_buf_printf(&deep, "</ns0:d>"));
    CHECK_OK(vti_buf_printf(&deep, "<ns0:Entity "));
    CHECK_ERR(load_subst(&drv_xml, "<ns0:Entity ", (const char *)deep.p), VT_ERR_NV_RIM_SIG_INVALID);
    vti_buf_free(&deep);
}

static void test_extract(void)
{
    struct vti_nv_rim *r = NULL;
    CHECK_OK(vti_nv_rim_extract_unsafe(drv_xml.p, drv_xml.len, &r));
    CHECK(r && vti_nv_rim_insecure_root(r) && vti_nv_rim_n_resources(r) == 64);
    vti_nv_rim_free(r);
    const struct vt_buf *d = &drv_xml;
    CHECK_ERR(extract_subst(d, "index=\"1\" active=\"False\"", "index=\"1\" active=\"false\""),
              VT_ERR_NV_RIM_RESOURCE);
    CHECK_ERR(extract_subst(d, "index=\"1\"", "index=\"0\""), VT_ERR_NV_RIM_DUP_INDEX);
    CHECK_ERR(extract_subst(d, "index=\"1\"", "index=\"255\""), VT_ERR_NV_RIM_RESOURCE);
    CHECK_ERR(extract_subst(d, "index=\"1\"", "index=\"+1\""), VT_ERR_NV_RIM_RESOURCE);
    CHECK_ERR(extract_subst(d, "index=\"1\"", "index=\"\""), VT_ERR_NV_RIM_RESOURCE);
    CHECK_ERR(extract_subst(d, "alternatives=\"1\"", "alternatives=\"0\""), VT_ERR_NV_RIM_RESOURCE);
    CHECK_ERR(extract_subst(d, "alternatives=\"1\"", "alternatives=\"2\""), VT_ERR_NV_RIM_RESOURCE);
    CHECK_ERR(extract_subst(d, "alternatives=\"1\"", "alternatives=\"17\""), VT_ERR_NV_RIM_LIMIT);
    CHECK_ERR(extract_subst(d, "alternatives=\"2\"", "alternatives=\"1\""), VT_ERR_NV_RIM_RESOURCE);
    CHECK_ERR(extract_subst(d, "size=\"48\"", "size=\"32\""), VT_ERR_NV_RIM_RESOURCE);
    CHECK_ERR(extract_subst(d, "ns2:Hash0=\"0e0ee161", "ns2:Hash0=\"0e0ee16"), VT_ERR_NV_RIM_RESOURCE);
    CHECK_ERR(extract_subst(d, "ns2:Hash0=\"0e0ee161", "ns2:Hash0=\"0g0ee161"), VT_ERR_NV_RIM_RESOURCE);
    CHECK_ERR(extract_subst(d, "ns2:Hash0=\"0e0ee161", "Hash0=\"0e0ee161"), VT_ERR_NV_RIM_RESOURCE);
    CHECK_ERR(extract_subst(d, "<ns0:Resource ", "<ns0:Other/><ns0:Resource "), VT_ERR_NV_RIM_ELEMENT);
    CHECK_ERR(extract_subst(d, "<ns0:Meta ", "<ns0:Metax "), VT_ERR_NV_RIM_ELEMENT);
    CHECK_ERR(extract_subst(d, "colloquialVersion=\"545.00\"", "colloquialVersion=\"v545\""),
              VT_ERR_NV_RIM_KIND);
    CHECK_ERR(extract_subst(d, "colloquialVersion=\"545.00\"", "colloquialVersion=\"\""),
              VT_ERR_NV_RIM_ELEMENT);
    CHECK_ERR(extract_subst(d, "<ns0:Meta ", "<ns0:Meta colloquialVersion=\"1.0\"/><ns0:Meta "),
              VT_ERR_NV_RIM_ELEMENT);
    CHECK_ERR(extract_subst(d, " name=\"GH100\"", ""), VT_ERR_NV_RIM_ELEMENT);
    CHECK_OK(extract_subst(d, "colloquialVersion=\"545.00\"", "colloquialVersion=\"550.90.07\""));
    CHECK_ERR(extract_subst(d, "colloquialVersion=\"545.00\"", "colloquialVersion=\"1.2.3.4.5.6\""),
              VT_ERR_NV_RIM_KIND);
    CHECK_ERR(extract_subst(&vb_xml, "colloquialVersion=\"96.00.5E.00.01\"", "colloquialVersion=\"96.00.5E.00.1\""),
              VT_ERR_NV_RIM_KIND);
}

/* The measurements of the "nvidia" case (block -> 48 bytes) and its expected mismatches. */
static size_t case_meas(json_t *c, uint8_t dig[64][48], struct vti_nv_meas *meas)
{
    json_t *m = json_object_get(json_object_get(c, "report"), "measurements");
    size_t n = 0;
    const char *k;
    json_t *v;
    json_object_foreach(m, k, v) {
        if (n >= 64)
            break;
        CHECK_OK(vti_hex_decode_fixed(json_string_value(v), dig[n], 48));
        meas[n] = (struct vti_nv_meas){ (uint32_t)strtoul(k, NULL, 10), dig[n], 48 };
        n++;
    }
    return n;
}

static void test_compare_case(const struct vti_nv_rim *d, const struct vti_nv_rim *v)
{
    json_t *root = vt_test_cases();
    json_t *c = root ? json_array_get(json_object_get(root, "nvidia"), 0) : NULL;
    CHECK(c != NULL);
    if (!c) {
        json_decref(root);
        return;
    }
    static uint8_t dig[64][48];
    struct vti_nv_meas meas[64];
    size_t n = case_meas(c, dig, meas);
    CHECK(n == 64);
    json_t *want = json_object_get(json_object_get(c, "rim"), "mismatched_indices");
    CHECK(json_array_size(want) == 20);
    struct vti_nv_mismatch mm[64];
    size_t n_mm = 0, n_cmp = 0;
    CHECK_ERR(vti_nv_rim_compare(d, v, meas, n, 0, mm, 64, &n_mm, &n_cmp), VT_ERR_NV_RIM_MISMATCH);
    CHECK(n_mm == json_array_size(want) && n_cmp == 33);
    for (size_t i = 0; i < n_mm && i < json_array_size(want); i++) {
        CHECK(mm[i].index == (uint32_t)json_integer_value(json_array_get(want, i)));
        CHECK(mm[i].reason == VTI_NV_MISMATCH_VALUE);
        CHECK(mm[i].from == (mm[i].index >= 21 || mm[i].index == 7 ? VTI_NV_RIM_DRIVER : VTI_NV_RIM_VBIOS));
    }
    /* Fewer slots than mismatches: the count is still the total. */
    CHECK_ERR(vti_nv_rim_compare(d, v, meas, n, 0, mm, 3, &n_mm, NULL), VT_ERR_NV_RIM_MISMATCH);
    CHECK(n_mm == 20 && mm[2].index == 3);
    /* NVDEC0 disabled: index 35 is not compared (it matches here, so only the count moves). */
    CHECK_ERR(vti_nv_rim_compare(d, v, meas, n, VTI_NV_RIM_NVDEC0_DISABLED, mm, 64, &n_mm, &n_cmp),
              VT_ERR_NV_RIM_MISMATCH);
    CHECK(n_mm == 20 && n_cmp == 32);
    json_decref(root);
}

/* Measurements made from the RIMs themselves (alternative alt where it exists) match. */
static void test_compare_synthetic(const struct vti_nv_rim *d, const struct vti_nv_rim *v)
{
    static uint8_t dig[64][48];
    struct vti_nv_meas meas[64];
    for (uint32_t i = 0; i < 64; i++) {
        const struct vti_nv_rim_resource *rd = vti_nv_rim_resource(d, i), *rv = vti_nv_rim_resource(v, i);
        const struct vti_nv_rim_resource *r = rd->active ? rd : rv;
        memcpy(dig[i], r->alt[r->n_alt - 1], 48);
        meas[i] = (struct vti_nv_meas){ i + 1, dig[i], 48 };
    }
    struct vti_nv_mismatch mm[64];
    size_t n_mm = 1, n_cmp = 0;
    CHECK_OK(vti_nv_rim_compare(d, v, meas, 64, 0, mm, 64, &n_mm, &n_cmp));
    CHECK(n_mm == 0 && n_cmp == 33);
    /* An inactive index may hold anything. */
    dig[50][0] ^= 1;
    CHECK_OK(vti_nv_rim_compare(d, v, meas, 64, 0, mm, 64, &n_mm, NULL));
    /* A missing block, a short digest, a changed value. */
    meas[7].len = 32;
    dig[3][47] ^= 1;
    CHECK_ERR(vti_nv_rim_compare(d, v, meas, 63, 0, mm, 64, &n_mm, NULL), VT_ERR_NV_RIM_MISMATCH);
    CHECK(n_mm == 2 && mm[0].index == 3 && mm[0].reason == VTI_NV_MISMATCH_VALUE &&
          mm[1].index == 7 && mm[1].reason == VTI_NV_MISMATCH_SIZE);
    CHECK_ERR(vti_nv_rim_compare(d, v, meas, 30, 0, mm, 64, &n_mm, NULL), VT_ERR_NV_RIM_MISMATCH);
    CHECK(n_mm == 2 + 11 && mm[2].index == 30 && mm[2].reason == VTI_NV_MISMATCH_MISSING);
    meas[7].len = 48;
    dig[3][47] ^= 1;
    /* Usage errors: a block twice, the RIMs swapped, a block out of range. */
    meas[1].block = 1;
    CHECK_ERR(vti_nv_rim_compare(d, v, meas, 64, 0, mm, 64, &n_mm, NULL), VT_ERR_NV_RIM_DUP_INDEX);
    meas[1].block = 2;
    CHECK_ERR(vti_nv_rim_compare(v, d, meas, 64, 0, mm, 64, &n_mm, NULL), VT_ERR_NV_RIM_KIND);
    CHECK_ERR(vti_nv_rim_compare(d, d, meas, 64, 0, mm, 64, &n_mm, NULL), VT_ERR_NV_RIM_KIND);
    meas[0].block = 256;
    CHECK_ERR(vti_nv_rim_compare(d, v, meas, 64, 0, mm, 64, &n_mm, NULL), VT_ERR_INVALID_ARG);
    meas[0].block = 1;
}

static void test_compare(void)
{
    struct vti_nv_rim *d = NULL, *v = NULL, *v7 = NULL;
    CHECK_OK(vti_nv_rim_load(drv_xml.p, drv_xml.len, NULL, AT, &d));
    CHECK_OK(vti_nv_rim_load(vb_xml.p, vb_xml.len, NULL, AT, &v));
    if (d && v) {
        test_compare_case(d, v);
        test_compare_synthetic(d, v);
    }
    /* A VBIOS RIM also active at index 7 (the driver's): conflict (nvtrust refuses it). */
    struct vt_buf m = subst(&vb_xml, "index=\"7\" active=\"False\"", "index=\"7\" active=\"True\"");
    CHECK_OK(vti_nv_rim_extract_unsafe(m.p, m.len, &v7));
    size_t n_mm = 0;
    if (d && v7)
        CHECK_ERR(vti_nv_rim_compare(d, v7, NULL, 0, 0, NULL, 0, &n_mm, NULL),
                  VT_ERR_NV_RIM_INDEX_CONFLICT);
    vti_buf_free(&m);
    vti_nv_rim_free(d);
    vti_nv_rim_free(v);
    vti_nv_rim_free(v7);
}

/* --- sim RIMs ------------------------------------------------------------------------- */

static X509 *mk_cert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *ikey, bool ca)
{
    X509 *x = X509_new();
    X509_NAME *n = X509_NAME_new();
    bool ok = x && n &&
              X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0) == 1 &&
              X509_set_version(x, 2) == 1 && ASN1_INTEGER_set(X509_get_serialNumber(x), ca ? 1 : 2) == 1 &&
              X509_set_subject_name(x, n) == 1 &&
              X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : n) == 1 &&
              ASN1_TIME_set_string(X509_getm_notBefore(x), "20240101000000Z") == 1 &&
              ASN1_TIME_set_string(X509_getm_notAfter(x), "20300101000000Z") == 1 &&
              X509_set_pubkey(x, key) == 1;
    X509V3_CTX c;
    X509V3_set_ctx(&c, issuer ? issuer : x, x, NULL, NULL, 0);
    /* X509_V_FLAG_X509_STRICT: CAs need a subject key id, issued certificates an AKID. */
    static const int nids[4] = { NID_basic_constraints, NID_key_usage, NID_subject_key_identifier,
                                 NID_authority_key_identifier };
    const char *vals[4] = { ca ? "critical,CA:TRUE" : "critical,CA:FALSE",
                            ca ? "critical,keyCertSign" : "critical,digitalSignature", "hash",
                            "keyid:always" };
    for (int i = 0; i < 4 && ok; i++) {
        if (i == 3 && !issuer)
            break;
        X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &c, nids[i], vals[i]);
        ok = e && X509_add_ext(x, e, -1) == 1;
        X509_EXTENSION_free(e);
    }
    ok = ok && X509_sign(x, ikey, EVP_sha384()) > 0;
    X509_NAME_free(n);
    if (!ok) {
        X509_free(x);
        return NULL;
    }
    return x;
}

static struct vt_buf der_of(X509 *x)
{
    struct vt_buf b = VT_BUF_INIT;
    unsigned char *p = NULL;
    int n = x ? i2d_X509(x, &p) : 0;
    CHECK(n > 0);
    if (n > 0)
        CHECK_OK(vti_buf_append(&b, p, (size_t)n));
    OPENSSL_free(p);
    return b;
}

static void sim_resources(struct vti_nv_rim_resource *res, size_t n, bool vbios)
{
    memset(res, 0, n * sizeof(*res));
    for (size_t i = 0; i < n; i++) {
        res[i].index = (uint32_t)i;
        res[i].active = vbios ? i < 8 : (i >= 8 && i < 12);
        res[i].n_alt = i == 9 ? 2 : 1;
        memset(res[i].alt[0], (int)(0x10 + i), 48);
        memset(res[i].alt[1], 0xee, 48);
    }
}

static void test_sim(void)
{
    EVP_PKEY *rk = EVP_EC_gen("P-384"), *lk = EVP_EC_gen("P-384"), *other = EVP_EC_gen("P-384");
    X509 *root = mk_cert(rk, "Sim RIM Root", NULL, rk, true);
    X509 *leaf = mk_cert(lk, "Sim RIM Signer", root, rk, false);
    struct vt_buf rder = der_of(root), lder = der_of(leaf), xml = VT_BUF_INIT, vxml = VT_BUF_INIT;
    struct vti_nv_der chain[2] = { { lder.p, lder.len }, { rder.p, rder.len } };
    struct vti_nv_rim_resource res[16];
    struct vti_nv_rim_sim_in in = { VTI_NV_RIM_DRIVER, "GH100", "550.90.07", res, 16, lk, chain, 2 };
    sim_resources(res, 16, false);
    CHECK_OK(vti_nv_rim_sign_sim(&in, &xml));
    struct vti_nv_rim_trust t = { &chain[1], 1 };
    struct vti_nv_rim *d = NULL, *v = NULL;
    int64_t at = vti_timegm(2026, 1, 1, 0, 0, 0);
    CHECK_OK(vti_nv_rim_load(xml.p, xml.len, &t, at, &d));
    CHECK(d && vti_nv_rim_insecure_root(d) && vti_nv_rim_kind(d) == VTI_NV_RIM_DRIVER &&
          strcmp(vti_nv_rim_version(d), "550.90.07") == 0 && vti_nv_rim_n_resources(d) == 16);
    CHECK(d && vti_nv_rim_resource(d, 9)->n_alt == 2 && vti_nv_rim_resource(d, 9)->alt[1][0] == 0xee);
    CHECK_ERR(load(&xml, NULL, at), VT_ERR_NV_RIM_CHAIN);            /* not NVIDIA's root */
    CHECK_ERR(load(&xml, &t, vti_timegm(2031, 1, 1, 0, 0, 0)), VT_ERR_NV_RIM_EXPIRED);
    CHECK_ERR(load_subst(&xml, "index=\"8\" active=\"True\"", "index=\"8\" active=\"False\""),
              VT_ERR_NV_RIM_SIG_INVALID);
    /* The VBIOS RIM (upper-case hex version as NVIDIA writes it), then a full compare. */
    sim_resources(res, 16, true);
    in.kind = VTI_NV_RIM_VBIOS;
    in.version = "96.00.9F.00.01";
    CHECK_OK(vti_nv_rim_sign_sim(&in, &vxml));
    CHECK_OK(vti_nv_rim_load(vxml.p, vxml.len, &t, at, &v));
    CHECK(v && strcmp(vti_nv_rim_version(v), "96.00.9f.00.01") == 0);
    uint8_t dig[16][48];
    struct vti_nv_meas meas[16];
    for (uint32_t i = 0; i < 16; i++) {
        memset(dig[i], i == 9 ? 0xee : (int)(0x10 + i), 48);
        meas[i] = (struct vti_nv_meas){ i + 1, dig[i], 48 };
    }
    size_t n_mm = 1, n_cmp = 0;
    struct vti_nv_mismatch mm[4];
    if (d && v) {
        CHECK_OK(vti_nv_rim_compare(d, v, meas, 16, 0, mm, 4, &n_mm, &n_cmp));
        CHECK(n_mm == 0 && n_cmp == 12);
    }
    /* At the caps: 255 Resources (every index) with 16 alternatives each; 257 elements are
     * refused before their content, 256 (the cap) reach the duplicate-index check. */
    static struct vti_nv_rim_resource big[255];
    for (uint32_t i = 0; i < 255; i++) {
        memset(&big[i], 0, sizeof(big[i]));
        big[i].index = i;
        big[i].n_alt = VTI_NV_RIM_MAX_ALTS;
        memset(big[i].alt[15], (int)i, 48);
    }
    struct vt_buf bxml = VT_BUF_INIT;
    struct vti_nv_rim_sim_in bin = { VTI_NV_RIM_DRIVER, "GH100", "550.90.07", big, 255, lk, chain, 2 };
    CHECK_OK(vti_nv_rim_sign_sim(&bin, &bxml));
    struct vti_nv_rim *b = NULL;
    CHECK_OK(vti_nv_rim_load(bxml.p, bxml.len, &t, at, &b));
    CHECK(b && vti_nv_rim_n_resources(b) == 255 && vti_nv_rim_resource(b, 254)->n_alt == 16 &&
          vti_nv_rim_resource(b, 254)->alt[15][0] == 254);
    vti_nv_rim_free(b);
    const char *one = "<ns0:Resource type=\"Measurement\" index=\"0\" active=\"False\" alternatives=\"1\" "
                      "ns2:Hash0=\"000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000\" size=\"48\"/>";
    char two[1024];
    snprintf(two, sizeof(two), "%s%s</ns0:Payload>", one, one);
    CHECK_ERR(extract_subst(&bxml, "</ns0:Payload>", two), VT_ERR_NV_RIM_LIMIT);
    snprintf(two, sizeof(two), "%s</ns0:Payload>", one);
    CHECK_ERR(extract_subst(&bxml, "</ns0:Payload>", two), VT_ERR_NV_RIM_DUP_INDEX);
    vti_buf_free(&bxml);
    big[0].n_alt = VTI_NV_RIM_MAX_ALTS + 1;
    CHECK_ERR(vti_nv_rim_sign_sim(&bin, &bxml), VT_ERR_INVALID_ARG);
    /* Refusals: wrong kind for the version, a key that is not the leaf's, bad arguments. */
    struct vt_buf junk = VT_BUF_INIT;
    in.kind = VTI_NV_RIM_DRIVER;
    CHECK_ERR(vti_nv_rim_sign_sim(&in, &junk), VT_ERR_NV_RIM_KIND);
    in.kind = VTI_NV_RIM_VBIOS;
    in.key = other;
    CHECK_ERR(vti_nv_rim_sign_sim(&in, &junk), VT_ERR_NV_RIM_SIGN);
    in.key = lk;
    in.product = "GH<100";
    CHECK_ERR(vti_nv_rim_sign_sim(&in, &junk), VT_ERR_INVALID_ARG);
    in.product = "GH100";
    res[1].index = 0;
    CHECK_ERR(vti_nv_rim_sign_sim(&in, &junk), VT_ERR_INVALID_ARG);
    CHECK(junk.len == 0);
    vti_nv_rim_free(d);
    vti_nv_rim_free(v);
    vti_buf_free(&xml);
    vti_buf_free(&vxml);
    vti_buf_free(&rder);
    vti_buf_free(&lder);
    X509_free(root);
    X509_free(leaf);
    EVP_PKEY_free(rk);
    EVP_PKEY_free(lk);
    EVP_PKEY_free(other);
}

int main(void)
{
    AT = vti_timegm(2024, 6, 1, 0, 0, 0);
    drv_xml = vt_testdata_read(DRIVER_RIM);
    vb_xml = vt_testdata_read(VBIOS_RIM);
    test_load_real();
    test_time();
    test_trust();
    test_chain();
    test_signature();
    test_cert_cap();
    test_wrapping();
    test_xml_tricks();
    test_extract();
    test_compare();
    test_sim();
    vti_buf_free(&drv_xml);
    vti_buf_free(&vb_xml);
    return vt_test_done();
}
