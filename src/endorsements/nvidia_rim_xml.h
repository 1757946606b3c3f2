/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nvidia_rim_xml.h - libxml2 and xmlsec (OpenSSL), loaded the first time a RIM is parsed or
 * signed (dlopen), not at program start.
 *
 * Why: libxmlsec1-openssl, libxmlsec1, libxml2 and what they pull in (ICU, libxslt,
 * libstdc++, ...) cost about 2.7 MB of resident memory in every process that links them; only
 * a verifier of NVIDIA GPU evidence ever needs them, and the agent, which runs inside the
 * TEE, never does (issue 16: its peak RSS budget is 10 MB). The library loaded is the one
 * found at build time (VT_XMLSEC_SONAME, from pkg-config xmlsec1-openssl); its dependencies
 * (libxmlsec1, libxml2) come with it. Debian packages name it in Depends, since
 * dpkg-shlibdeps cannot see a dlopen.
 *
 * How: the RIM files (nvidia_rim*.c, through nvidia_rim_int.h) call libxml2/xmlsec by their
 * usual names; each name listed below is a macro for the same function in a table filled by
 * dlsym, so the code reads as plain libxml2/xmlsec. vti_rim_xml_init() loads the table and
 * must have returned true before any of these functions is called: every entry point does so
 * (vti_rim_parse, vti_nv_rim_sign_sim). A function added to the RIM code must be added to
 * VTI_XML_SYMS and to the macros below, or the library fails to link (it links no libxml2).
 */
#ifndef VT_ENDORSEMENTS_NVIDIA_RIM_XML_H
#define VT_ENDORSEMENTS_NVIDIA_RIM_XML_H

#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/tree.h>
#include <xmlsec/xmlsec.h> /* first: the others need its types */
#include <xmlsec/errors.h>
#include <xmlsec/io.h>
#include <xmlsec/keys.h>
#include <xmlsec/list.h>
#include <xmlsec/transforms.h>
#include <xmlsec/xmldsig.h>
#include <xmlsec/openssl/app.h>
#include <xmlsec/openssl/crypto.h>
#include <xmlsec/openssl/evp.h>

/* Every libxml2 / xmlsec symbol the RIM code uses (xmlFree is a variable: a function pointer). */
#define VTI_XML_SYMS(X) \
    X(xmlCreateMemoryParserCtxt) \
    X(xmlCtxtUseOptions) \
    X(xmlDocDumpMemory) \
    X(xmlDocGetRootElement) \
    X(xmlFree) \
    X(xmlFreeDoc) \
    X(xmlFreeParserCtxt) \
    X(xmlGetNoNsProp) \
    X(xmlGetNsProp) \
    X(xmlHasNsProp) \
    X(xmlInitParser) \
    X(xmlNodeGetContent) \
    X(xmlParseDocument) \
    X(xmlStopParser) \
    X(xmlSecCheckVersionExt) \
    X(xmlSecDSigCtxCreate) \
    X(xmlSecDSigCtxDestroy) \
    X(xmlSecDSigCtxEnableReferenceTransform) \
    X(xmlSecDSigCtxEnableSignatureTransform) \
    X(xmlSecDSigCtxSign) \
    X(xmlSecDSigCtxVerify) \
    X(xmlSecErrorsDefaultCallbackEnableOutput) \
    X(xmlSecIOCleanupCallbacks) \
    X(xmlSecInit) \
    X(xmlSecKeyCreate) \
    X(xmlSecKeyDataDestroy) \
    X(xmlSecKeyDestroy) \
    X(xmlSecKeySetValue) \
    X(xmlSecOpenSSLAppInit) \
    X(xmlSecOpenSSLEvpKeyAdopt) \
    X(xmlSecOpenSSLInit) \
    X(xmlSecOpenSSLTransformEcdsaSha384GetKlass) \
    X(xmlSecOpenSSLTransformSha384GetKlass) \
    X(xmlSecPtrListGetItem) \
    X(xmlSecPtrListGetSize) \
    X(xmlSecTransformEnvelopedGetKlass) \
    X(xmlSecTransformExclC14NGetKlass) \
    X(xmlSecTransformInclC14N11GetKlass) \
    X(xmlSecTransformInclC14NGetKlass)

#define VTI_XML_MEMBER(name) __typeof__(&name) name;
struct vti_xml_api {
    VTI_XML_SYMS(VTI_XML_MEMBER)
};
#undef VTI_XML_MEMBER

/* The loaded table (NULL until vti_rim_xml_init() has succeeded). */
extern const struct vti_xml_api *vti_xml_api;

/* Load libxmlsec1-openssl and fill the table (once; nvidia_rim_xml.c); false if it cannot be
 * loaded or lacks a symbol (logged). Called by vti_rim_xml_init(). */
bool vti_xml_load(void);

#ifndef VTI_XML_LOADER
#define xmlCreateMemoryParserCtxt (vti_xml_api->xmlCreateMemoryParserCtxt)
#define xmlCtxtUseOptions (vti_xml_api->xmlCtxtUseOptions)
#define xmlDocDumpMemory (vti_xml_api->xmlDocDumpMemory)
#define xmlDocGetRootElement (vti_xml_api->xmlDocGetRootElement)
#define xmlFree (*vti_xml_api->xmlFree)
#define xmlFreeDoc (vti_xml_api->xmlFreeDoc)
#define xmlFreeParserCtxt (vti_xml_api->xmlFreeParserCtxt)
#define xmlGetNoNsProp (vti_xml_api->xmlGetNoNsProp)
#define xmlGetNsProp (vti_xml_api->xmlGetNsProp)
#define xmlHasNsProp (vti_xml_api->xmlHasNsProp)
#define xmlInitParser (vti_xml_api->xmlInitParser)
#define xmlNodeGetContent (vti_xml_api->xmlNodeGetContent)
#define xmlParseDocument (vti_xml_api->xmlParseDocument)
#define xmlStopParser (vti_xml_api->xmlStopParser)
#define xmlSecCheckVersionExt (vti_xml_api->xmlSecCheckVersionExt)
#define xmlSecDSigCtxCreate (vti_xml_api->xmlSecDSigCtxCreate)
#define xmlSecDSigCtxDestroy (vti_xml_api->xmlSecDSigCtxDestroy)
#define xmlSecDSigCtxEnableReferenceTransform (vti_xml_api->xmlSecDSigCtxEnableReferenceTransform)
#define xmlSecDSigCtxEnableSignatureTransform (vti_xml_api->xmlSecDSigCtxEnableSignatureTransform)
#define xmlSecDSigCtxSign (vti_xml_api->xmlSecDSigCtxSign)
#define xmlSecDSigCtxVerify (vti_xml_api->xmlSecDSigCtxVerify)
#define xmlSecErrorsDefaultCallbackEnableOutput (vti_xml_api->xmlSecErrorsDefaultCallbackEnableOutput)
#define xmlSecIOCleanupCallbacks (vti_xml_api->xmlSecIOCleanupCallbacks)
#define xmlSecInit (vti_xml_api->xmlSecInit)
#define xmlSecKeyCreate (vti_xml_api->xmlSecKeyCreate)
#define xmlSecKeyDataDestroy (vti_xml_api->xmlSecKeyDataDestroy)
#define xmlSecKeyDestroy (vti_xml_api->xmlSecKeyDestroy)
#define xmlSecKeySetValue (vti_xml_api->xmlSecKeySetValue)
#define xmlSecOpenSSLAppInit (vti_xml_api->xmlSecOpenSSLAppInit)
#define xmlSecOpenSSLEvpKeyAdopt (vti_xml_api->xmlSecOpenSSLEvpKeyAdopt)
#define xmlSecOpenSSLInit (vti_xml_api->xmlSecOpenSSLInit)
#define xmlSecOpenSSLTransformEcdsaSha384GetKlass (vti_xml_api->xmlSecOpenSSLTransformEcdsaSha384GetKlass)
#define xmlSecOpenSSLTransformSha384GetKlass (vti_xml_api->xmlSecOpenSSLTransformSha384GetKlass)
#define xmlSecPtrListGetItem (vti_xml_api->xmlSecPtrListGetItem)
#define xmlSecPtrListGetSize (vti_xml_api->xmlSecPtrListGetSize)
#define xmlSecTransformEnvelopedGetKlass (vti_xml_api->xmlSecTransformEnvelopedGetKlass)
#define xmlSecTransformExclC14NGetKlass (vti_xml_api->xmlSecTransformExclC14NGetKlass)
#define xmlSecTransformInclC14N11GetKlass (vti_xml_api->xmlSecTransformInclC14N11GetKlass)
#define xmlSecTransformInclC14NGetKlass (vti_xml_api->xmlSecTransformInclC14NGetKlass)
#endif

#endif
