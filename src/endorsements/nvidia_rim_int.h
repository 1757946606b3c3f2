/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nvidia_rim_int.h - internals shared by the RIM module's files (nvidia_rim.c: hardened parse
 * and structure checks; nvidia_rim_extract.c: certificates, chain and extraction;
 * nvidia_rim_sim.c: signing sim RIMs). Only these files include libxml2/xmlsec headers, and
 * they call libxml2/xmlsec through nvidia_rim_xml.h (the libraries are loaded on first use).
 */
#ifndef VT_ENDORSEMENTS_NVIDIA_RIM_INT_H
#define VT_ENDORSEMENTS_NVIDIA_RIM_INT_H

#include <openssl/x509.h>

#include "endorsements/nvidia_rim.h"
#include "endorsements/nvidia_rim_xml.h" /* libxml2 / xmlsec, loaded on first use */

#define VTI_NS_SWID "http://standards.iso.org/iso/19770/-2/2015/schema.xsd"
#define VTI_NS_DSIG "http://www.w3.org/2000/09/xmldsig#"
#define VTI_NS_SHA384 "http://www.w3.org/2001/04/xmlenc#sha384"
#define VTI_NV_RIM_MAX_DEPTH 16
#define VTI_NV_RIM_SIGNER_MAX 256

struct vti_nv_rim {
    enum vti_nv_rim_kind kind;
    bool insecure;
    char version[VTI_NV_RIM_VERSION_MAX];
    char product[VTI_NV_RIM_NAME_MAX];
    char signer[VTI_NV_RIM_SIGNER_MAX];
    int64_t not_before, not_after;
    size_t n_res;
    struct vti_nv_rim_resource *res;
};

/* The parts of a structurally checked document (pointers into doc). */
struct vti_rim_doc {
    xmlDocPtr doc;
    xmlNodePtr root;          /* SoftwareIdentity */
    xmlNodePtr sig;           /* the one ds:Signature (a child of root) */
    xmlNodePtr x509data;      /* Signature/KeyInfo/X509Data */
};

/* libxml2 + xmlsec loading and initialisation (once per process); false if it failed. Every
 * entry point calls it before any libxml2 / xmlsec function. */
bool vti_rim_xml_init(void);
/* Hardened parse (size limit, no DTD/entities/PI, NONET, depth) + structure checks. */
VT_RESULT vti_rim_parse(const uint8_t *xml, size_t len, struct vti_rim_doc *d);
void vti_rim_doc_free(struct vti_rim_doc *d);
/* The first element child of n (or the next element sibling) in namespace ns named name. */
bool vti_rim_is(xmlNodePtr n, const char *ns, const char *name);
xmlNodePtr vti_rim_first_elem(xmlNodePtr n);
xmlNodePtr vti_rim_next_elem(xmlNodePtr n);

/* KeyInfo/X509Data -> certificates (leaf first); *n set. Caller frees with sk_X509_pop_free. */
VT_RESULT vti_rim_certs(xmlNodePtr x509data, STACK_OF(X509) **out);
/* Chain of certs (leaf first) to the trust anchors at time at; fills rim->insecure, signer,
 * not_before, not_after. */
VT_RESULT vti_rim_chain(STACK_OF(X509) *certs, const struct vti_nv_rim_trust *trust, int64_t at,
                        struct vti_nv_rim *rim);
/* The ds:Signature over the document, verified with the leaf's public key. */
VT_RESULT vti_rim_verify_sig(struct vti_rim_doc *d, X509 *leaf);
/* Meta, name and Payload/Resource into rim (kind derived from the version). */
VT_RESULT vti_rim_extract(const struct vti_rim_doc *d, struct vti_nv_rim *rim);
/* The kind of a colloquialVersion string (0 when neither shape). */
enum vti_nv_rim_kind vti_rim_kind_of(const char *version);

#endif
