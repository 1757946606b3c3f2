/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nvidia_rim.c - NVIDIA RIM loading: hardened libxml2 parse, the signature-structure checks
 * that rule out XML signature wrapping, and the load pipeline (certificates -> signature ->
 * chain -> extraction). See nvidia_rim.h for the rules.
 *
 * Parse: at most VTI_NV_RIM_MAX_SIZE bytes, XML_PARSE_NONET, no NOENT / DTDLOAD / DTDATTR /
 * XINCLUDE / HUGE; a DOCTYPE stops the parser from its SAX callback before any declaration is
 * read; the tree may not hold DTD, entity, entity-reference, processing-instruction or
 * XInclude nodes and is at most VTI_NV_RIM_MAX_DEPTH deep.
 * Structure: the root is swid:SoftwareIdentity; the document has exactly one ds:Signature
 * (a child of the root) and exactly one ds:Reference (in its SignedInfo), no ds:Object or
 * ds:Manifest; the Signature has SignedInfo, SignatureValue, KeyInfo/X509Data and nothing
 * else; the Reference has URI="" and the transforms enveloped-signature [+ one C14N]; the
 * algorithms are ECDSA-SHA384 and SHA-384.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <xmlsec/xmlsec.h>
#include <xmlsec/errors.h>
#include <xmlsec/io.h>
#include <xmlsec/openssl/app.h>
#include <xmlsec/openssl/crypto.h>

#include "endorsements/nvidia_rim_int.h"

#define ALG_ENVELOPED "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
#define ALG_ECDSA_SHA384 "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384"
#define ALG_SHA384 "http://www.w3.org/2001/04/xmldsig-more#sha384"

static const char *const c14n_algs[] = {
    "http://www.w3.org/2006/12/xml-c14n11",
    "http://www.w3.org/TR/2001/REC-xml-c14n-20010315",
    "http://www.w3.org/2001/10/xml-exc-c14n#",
};

static pthread_once_t xml_once = PTHREAD_ONCE_INIT;
static bool xml_ready;

static void xml_init_once(void)
{
    if (!vti_xml_load())
        return;
    xmlInitParser();
    if (xmlSecInit() < 0)
        return;
    /* No xmlsec I/O at all: the only Reference allowed is URI="" (this document). */
    xmlSecIOCleanupCallbacks();
    xmlSecErrorsDefaultCallbackEnableOutput(0);
    if (xmlSecCheckVersion() != 1 || xmlSecOpenSSLAppInit(NULL) < 0 || xmlSecOpenSSLInit() < 0)
        return;
    xml_ready = true;
}

bool vti_rim_xml_init(void)
{
    pthread_once(&xml_once, xml_init_once);
    return xml_ready;
}

bool vti_rim_is(xmlNodePtr n, const char *ns, const char *name)
{
    return n && n->type == XML_ELEMENT_NODE && n->ns && n->ns->href &&
           strcmp((const char *)n->ns->href, ns) == 0 && strcmp((const char *)n->name, name) == 0;
}

xmlNodePtr vti_rim_next_elem(xmlNodePtr n)
{
    for (n = n ? n->next : NULL; n; n = n->next)
        if (n->type == XML_ELEMENT_NODE)
            return n;
    return NULL;
}

xmlNodePtr vti_rim_first_elem(xmlNodePtr n)
{
    for (n = n ? n->children : NULL; n; n = n->next)
        if (n->type == XML_ELEMENT_NODE)
            return n;
    return NULL;
}

/* SAX: a DOCTYPE (with or without an internal subset) stops the parse before the subset. */
static void sax_doctype(void *ctx, const xmlChar *name, const xmlChar *ext_id, const xmlChar *sys_id)
{
    xmlParserCtxtPtr c = ctx;
    *(bool *)c->_private = true;
    xmlStopParser(c);
}

static void sax_entity_decl(void *ctx, const xmlChar *name, int type, const xmlChar *pub,
                            const xmlChar *sys, xmlChar *content)
{
    xmlParserCtxtPtr c = ctx;
    *(bool *)c->_private = true;
    xmlStopParser(c);
}

static VT_RESULT parse_xml(const uint8_t *xml, size_t len, xmlDocPtr *out)
{
    *out = NULL;
    ENSURE(len <= VTI_NV_RIM_MAX_SIZE, VT_ERR_NV_RIM_TOO_LARGE);
    ENSURE(len > 0 && xml, VT_ERR_NV_RIM_XML);
    ENSURE(vti_rim_xml_init(), VT_ERR_NV_RIM_XMLSEC);
    xmlParserCtxtPtr c = xmlCreateMemoryParserCtxt((const char *)xml, (int)len);
    ENSURE(c, VT_ERR_NV_RIM_XMLSEC);
    bool dtd = false;
    c->_private = &dtd;
    c->sax->internalSubset = sax_doctype;
    c->sax->externalSubset = sax_doctype;
    c->sax->entityDecl = sax_entity_decl;
    xmlCtxtUseOptions(c, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    int rc = xmlParseDocument(c);
    xmlDocPtr doc = c->myDoc;
    bool ok = rc == 0 && c->wellFormed && !dtd && doc;
    c->myDoc = NULL;
    xmlFreeParserCtxt(c);
    if (!ok) {
        xmlFreeDoc(doc);
        return VT_FAIL(dtd ? VT_ERR_NV_RIM_DTD : VT_ERR_NV_RIM_XML);
    }
    *out = doc;
    return vti_ok();
}

static VT_RESULT check_node(xmlNodePtr n)
{
    switch (n->type) {
    case XML_ELEMENT_NODE:
    case XML_TEXT_NODE:
    case XML_CDATA_SECTION_NODE:
    case XML_COMMENT_NODE:
        return vti_ok();
    default:
        /* DTD, entity (declaration or reference), PI, XInclude, ... */
        return VT_FAIL(VT_ERR_NV_RIM_DTD);
    }
}

/* Walk the whole tree: node types, depth, and the XML-DSig elements (counted). */
static VT_RESULT walk_tree(xmlDocPtr doc, xmlNodePtr *sig_out, xmlNodePtr *ref_out)
{
    ENSURE(!doc->intSubset && !doc->extSubset, VT_ERR_NV_RIM_DTD);
    for (xmlNodePtr t = doc->children; t; t = t->next)
        ENSURE(t->type == XML_ELEMENT_NODE || t->type == XML_COMMENT_NODE, VT_ERR_NV_RIM_DTD);
    size_t n_sig = 0, n_ref = 0;
    int depth = 0;
    xmlNodePtr n = xmlDocGetRootElement(doc);
    for (;;) {
        GUARD(check_node(n));
        if (vti_rim_is(n, VTI_NS_DSIG, "Signature") && ++n_sig == 1)
            *sig_out = n;
        if (vti_rim_is(n, VTI_NS_DSIG, "Reference") && ++n_ref == 1)
            *ref_out = n;
        ENSURE(!vti_rim_is(n, VTI_NS_DSIG, "Object") && !vti_rim_is(n, VTI_NS_DSIG, "Manifest"),
               VT_ERR_NV_RIM_SIG_STRUCTURE);
        if (n->type == XML_ELEMENT_NODE && n->children) {
            ENSURE(++depth < VTI_NV_RIM_MAX_DEPTH, VT_ERR_NV_RIM_LIMIT);
            n = n->children;
            continue;
        }
        while (depth > 0 && !n->next) {
            n = n->parent;
            depth--;
        }
        if (depth == 0)
            break;
        n = n->next;
    }
    ENSURE(n_sig == 1 && n_ref == 1, VT_ERR_NV_RIM_SIG_STRUCTURE);
    return vti_ok();
}

static bool attr_is(xmlNodePtr n, const char *name, const char *want)
{
    xmlChar *v = xmlGetNoNsProp(n, (const xmlChar *)name);
    bool eq = v && strcmp((const char *)v, want) == 0;
    xmlFree(v);
    return eq;
}

static bool is_c14n(xmlNodePtr n)
{
    for (size_t i = 0; i < VT_ARRAY_LEN(c14n_algs); i++)
        if (attr_is(n, "Algorithm", c14n_algs[i]))
            return true;
    return false;
}

/* SignedInfo: CanonicalizationMethod, SignatureMethod, Reference (nothing else). */
static VT_RESULT check_signed_info(xmlNodePtr si, xmlNodePtr ref)
{
    xmlNodePtr cm = vti_rim_first_elem(si);
    ENSURE(vti_rim_is(cm, VTI_NS_DSIG, "CanonicalizationMethod"), VT_ERR_NV_RIM_SIG_STRUCTURE);
    ENSURE(is_c14n(cm) && !vti_rim_first_elem(cm), VT_ERR_NV_RIM_SIG_ALG);
    xmlNodePtr sm = vti_rim_next_elem(cm);
    ENSURE(vti_rim_is(sm, VTI_NS_DSIG, "SignatureMethod"), VT_ERR_NV_RIM_SIG_STRUCTURE);
    ENSURE(attr_is(sm, "Algorithm", ALG_ECDSA_SHA384) && !vti_rim_first_elem(sm),
           VT_ERR_NV_RIM_SIG_ALG);
    xmlNodePtr r = vti_rim_next_elem(sm);
    ENSURE(r == ref && !vti_rim_next_elem(r), VT_ERR_NV_RIM_SIG_STRUCTURE);
    return vti_ok();
}

/* Reference URI="": Transforms (enveloped [, c14n]), DigestMethod SHA-384, DigestValue. */
static VT_RESULT check_reference(xmlNodePtr ref)
{
    ENSURE(attr_is(ref, "URI", ""), VT_ERR_NV_RIM_SIG_STRUCTURE);
    xmlNodePtr tr = vti_rim_first_elem(ref);
    ENSURE(vti_rim_is(tr, VTI_NS_DSIG, "Transforms"), VT_ERR_NV_RIM_SIG_STRUCTURE);
    xmlNodePtr t1 = vti_rim_first_elem(tr);
    ENSURE(vti_rim_is(t1, VTI_NS_DSIG, "Transform") && attr_is(t1, "Algorithm", ALG_ENVELOPED) &&
           !vti_rim_first_elem(t1), VT_ERR_NV_RIM_SIG_STRUCTURE);
    xmlNodePtr t2 = vti_rim_next_elem(t1);
    if (t2) {
        ENSURE(vti_rim_is(t2, VTI_NS_DSIG, "Transform") && !vti_rim_next_elem(t2) &&
               !vti_rim_first_elem(t2), VT_ERR_NV_RIM_SIG_STRUCTURE);
        ENSURE(is_c14n(t2), VT_ERR_NV_RIM_SIG_ALG);
    }
    xmlNodePtr dm = vti_rim_next_elem(tr);
    ENSURE(vti_rim_is(dm, VTI_NS_DSIG, "DigestMethod"), VT_ERR_NV_RIM_SIG_STRUCTURE);
    ENSURE(attr_is(dm, "Algorithm", ALG_SHA384) && !vti_rim_first_elem(dm), VT_ERR_NV_RIM_SIG_ALG);
    xmlNodePtr dv = vti_rim_next_elem(dm);
    ENSURE(vti_rim_is(dv, VTI_NS_DSIG, "DigestValue") && !vti_rim_next_elem(dv),
           VT_ERR_NV_RIM_SIG_STRUCTURE);
    return vti_ok();
}

/* Signature (child of the root): SignedInfo, SignatureValue, KeyInfo/X509Data. */
static VT_RESULT check_signature(struct vti_rim_doc *d, xmlNodePtr ref)
{
    ENSURE(d->sig->parent == d->root, VT_ERR_NV_RIM_SIG_STRUCTURE);
    xmlNodePtr si = vti_rim_first_elem(d->sig);
    ENSURE(vti_rim_is(si, VTI_NS_DSIG, "SignedInfo") && ref->parent == si,
           VT_ERR_NV_RIM_SIG_STRUCTURE);
    GUARD(check_signed_info(si, ref));
    GUARD(check_reference(ref));
    xmlNodePtr sv = vti_rim_next_elem(si);
    ENSURE(vti_rim_is(sv, VTI_NS_DSIG, "SignatureValue"), VT_ERR_NV_RIM_SIG_STRUCTURE);
    xmlNodePtr ki = vti_rim_next_elem(sv);
    ENSURE(vti_rim_is(ki, VTI_NS_DSIG, "KeyInfo") && !vti_rim_next_elem(ki),
           VT_ERR_NV_RIM_SIG_STRUCTURE);
    xmlNodePtr xd = vti_rim_first_elem(ki);
    ENSURE(vti_rim_is(xd, VTI_NS_DSIG, "X509Data") && !vti_rim_next_elem(xd),
           VT_ERR_NV_RIM_SIG_STRUCTURE);
    d->x509data = xd;
    return vti_ok();
}

void vti_rim_doc_free(struct vti_rim_doc *d)
{
    if (d->doc)
        xmlFreeDoc(d->doc);
    memset(d, 0, sizeof(*d));
}

vt_res vti_rim_parse(const uint8_t *xml, size_t len, struct vti_rim_doc *d)
{
    memset(d, 0, sizeof(*d));
    GUARD(parse_xml(xml, len, &d->doc));
    xmlNodePtr ref = NULL;
    vt_res r;
    d->root = xmlDocGetRootElement(d->doc);
    ENSURE_GOTO(vti_rim_is(d->root, VTI_NS_SWID, "SoftwareIdentity"), VT_ERR_NV_RIM_ELEMENT, r,
                fail);
    GUARD_GOTO(walk_tree(d->doc, &d->sig, &ref), r, fail);
    GUARD_GOTO(check_signature(d, ref), r, fail);
    return vti_ok();
fail:
    vti_rim_doc_free(d);
    return r;
}

static struct vti_nv_rim *rim_new(void)
{
    return calloc(1, sizeof(struct vti_nv_rim));
}

vt_res vti_nv_rim_load(const uint8_t *xml, size_t len, const struct vti_nv_rim_trust *trust,
                       int64_t at, struct vti_nv_rim **out)
{
    ENSURE(out, VT_ERR_INVALID_ARG);
    *out = NULL;
    struct vti_rim_doc d;
    GUARD(vti_rim_parse(xml, len, &d));
    STACK_OF(X509) *certs = NULL;
    struct vti_nv_rim *rim = rim_new();
    vt_res r;
    ENSURE_GOTO(rim, VT_ERR_NOMEM, r, done);
    GUARD_GOTO(vti_rim_certs(d.x509data, &certs), r, done);
    GUARD_GOTO(vti_rim_verify_sig(&d, sk_X509_value(certs, 0)), r, done);
    GUARD_GOTO(vti_rim_chain(certs, trust, at, rim), r, done);
    GUARD_GOTO(vti_rim_extract(&d, rim), r, done);
    *out = rim;
    rim = NULL;
done:
    sk_X509_pop_free(certs, X509_free);
    vti_nv_rim_free(rim);
    vti_rim_doc_free(&d);
    return r;
}

vt_res vti_nv_rim_extract_unsafe(const uint8_t *xml, size_t len, struct vti_nv_rim **out)
{
    ENSURE(out, VT_ERR_INVALID_ARG);
    *out = NULL;
    struct vti_rim_doc d;
    GUARD(vti_rim_parse(xml, len, &d));
    struct vti_nv_rim *rim = rim_new();
    vt_res r = vti_ok();
    ENSURE_GOTO(rim, VT_ERR_NOMEM, r, done);
    GUARD_GOTO(vti_rim_extract(&d, rim), r, done);
    rim->insecure = true;
    *out = rim;
    rim = NULL;
done:
    vti_nv_rim_free(rim);
    vti_rim_doc_free(&d);
    return r;
}

void vti_nv_rim_free(struct vti_nv_rim *rim)
{
    if (!rim)
        return;
    free(rim->res);
    free(rim);
}

enum vti_nv_rim_kind vti_nv_rim_kind(const struct vti_nv_rim *rim)
{
    return rim->kind;
}

const char *vti_nv_rim_kind_name(enum vti_nv_rim_kind kind)
{
    return kind == VTI_NV_RIM_DRIVER ? "driver" : kind == VTI_NV_RIM_VBIOS ? "vbios" : "unknown";
}

const char *vti_nv_rim_version(const struct vti_nv_rim *rim)
{
    return rim->version;
}

const char *vti_nv_rim_product(const struct vti_nv_rim *rim)
{
    return rim->product;
}

const char *vti_nv_rim_signer(const struct vti_nv_rim *rim)
{
    return rim->signer;
}

bool vti_nv_rim_insecure_root(const struct vti_nv_rim *rim)
{
    return rim->insecure;
}

void vti_nv_rim_validity(const struct vti_nv_rim *rim, int64_t *not_before, int64_t *not_after)
{
    if (not_before)
        *not_before = rim->not_before;
    if (not_after)
        *not_after = rim->not_after;
}

size_t vti_nv_rim_n_resources(const struct vti_nv_rim *rim)
{
    return rim->n_res;
}

const struct vti_nv_rim_resource *vti_nv_rim_resource(const struct vti_nv_rim *rim, size_t i)
{
    return i < rim->n_res ? &rim->res[i] : NULL;
}
