/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nvidia_rim.h - NVIDIA reference integrity manifests (RIMs): ISO/IEC 19770-2 SWID tags with an
 * enveloped XML-DSig (ECDSA P-384 / SHA-384, signer chain in KeyInfo/X509Data), verified with
 * libxmlsec1 (OpenSSL backend), and the appraisal of GPU SPDM measurements against them.
 *
 * Loading (vti_nv_rim_load) is fail-closed and hardened against XML tricks:
 *   - at most VTI_NV_RIM_MAX_SIZE bytes; libxml2 with XML_PARSE_NONET, without NOENT/DTDLOAD;
 *     a DOCTYPE, entity declaration or processing instruction is refused (VT_ERR_NV_RIM_DTD;
 *     an entity reference, declared nowhere, is not well-formed: VT_ERR_NV_RIM_XML); nesting
 *     deeper than 16 elements: VT_ERR_NV_RIM_LIMIT;
 *   - exactly one ds:Signature, a direct child of the root SoftwareIdentity, with exactly one
 *     ds:Reference whose URI is "" and whose transforms are enveloped-signature [+ one C14N:
 *     1.0, 1.1 or exclusive]; no other Signature/Reference and no Object/Manifest anywhere
 *     (VT_ERR_NV_RIM_SIG_STRUCTURE): so the signed bytes are the whole document and the
 *     extraction reads the signed tree (no wrapping);
 *   - ECDSA-SHA384 with a P-384 key and a SHA-384 reference digest only (VT_ERR_NV_RIM_SIG_ALG);
 *   - the signer chain (KeyInfo/X509Data, leaf first) must chain to a trust anchor: by default
 *     the pinned NVIDIA RIM root (SHA-256 of its DER compiled in), or the DER roots given in
 *     `trust` (tests, sim); in the pinned case the root must be among the KeyInfo certificates
 *     (NVIDIA's RIMs carry it); every certificate valid at `at` (VT_ERR_NV_RIM_EXPIRED);
 *     OpenSSL X509_V_FLAG_X509_STRICT (RFC 5280 profile: a CA needs a subject key identifier,
 *     an issued certificate an authority key identifier: sim PKIs must include them); a leaf
 *     key usage, when present, must include digitalSignature;
 *   - the signature is verified with the leaf's key only (no xmlsec key manager: no key
 *     lookup by name, no KeyValue/RetrievalMethod, no I/O callbacks, no network).
 * Extraction (after the signature verified): Meta@colloquialVersion (version, lowercased as
 * nvtrust does; the kind is derived from it: "96.00.5e.00.01" = VBIOS (five dot-separated
 * 2-hex-digit groups), "545.00" / "550.90.07" = driver (2-4 decimal groups)), SoftwareIdentity@name
 * (product, e.g. GH100), and every Payload/Resource: index, active ("True"/"False"),
 * alternatives N with Hash0..Hash{N-1} in the SHA-384 namespace
 * (http://www.w3.org/2001/04/xmlenc#sha384), 96 hex digits each, size 48.
 *
 * Comparison (vti_nv_rim_compare) follows nvtrust's local_gpu_verifier: the golden set is the
 * union of the active Resources of the driver and the VBIOS RIM; an index active in both is an
 * error (VT_ERR_NV_RIM_INDEX_CONFLICT); an index active in neither is not compared. RIM
 * Resource index i is compared with SPDM measurement block i+1; any alternative equal to the
 * block's digest (same length) is a match; a missing block is a mismatch. With
 * VTI_NV_RIM_NVDEC0_DISABLED (opaque data NVDEC0 status = disabled) index 35 is skipped.
 * Result: ok when every compared index matches; VT_ERR_NV_RIM_MISMATCH with the list of
 * mismatching indices otherwise.
 *
 * Thread safety: vti_nv_rim_load initialises libxml2/xmlsec once (pthread_once); loads may run
 * concurrently. The loaded object is immutable.
 */
#ifndef VT_ENDORSEMENTS_NVIDIA_RIM_H
#define VT_ENDORSEMENTS_NVIDIA_RIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "util/buf.h"
#include "util/result.h"

#define VTI_NV_RIM_MAX_SIZE (1u << 20)      /* bytes of XML */
#define VTI_NV_RIM_MAX_RESOURCES 256
#define VTI_NV_RIM_MAX_ALTS 16
#define VTI_NV_RIM_MAX_CERTS 8
#define VTI_NV_RIM_DIGEST_LEN 48            /* SHA-384 */
#define VTI_NV_RIM_VERSION_MAX 64
#define VTI_NV_RIM_NAME_MAX 64

enum vti_nv_rim_kind {
    VTI_NV_RIM_DRIVER = 1,
    VTI_NV_RIM_VBIOS = 2,
};

/* A DER blob (certificate). */
struct vti_nv_der {
    const uint8_t *p;
    size_t len;
};

/* Trust anchors. NULL (or n_roots == 0) = the pinned NVIDIA RIM root only. */
struct vti_nv_rim_trust {
    const struct vti_nv_der *roots;     /* DER certificates, self-signed or not: taken as anchors */
    size_t n_roots;
};

struct vti_nv_rim_resource {
    uint32_t index;                     /* RIM index i <-> SPDM block i+1 */
    bool active;
    uint32_t n_alt;                     /* 1..VTI_NV_RIM_MAX_ALTS */
    uint8_t alt[VTI_NV_RIM_MAX_ALTS][VTI_NV_RIM_DIGEST_LEN];
    char name[VTI_NV_RIM_NAME_MAX];     /* Resource@name (informative; may be empty) */
};

struct vti_nv_rim;                      /* opaque, immutable after load */

/* Parse, verify (signature + chain at time `at`, seconds since the epoch) and extract one RIM.
 * On success *out is set (free with vti_nv_rim_free); on failure *out is NULL. */
VT_RESULT vti_nv_rim_load(const uint8_t *xml, size_t len, const struct vti_nv_rim_trust *trust,
                          int64_t at, struct vti_nv_rim **out);
void vti_nv_rim_free(struct vti_nv_rim *rim);
/* Fuzzing and tests only: the hardened parse, the signature-structure checks and the
 * extraction, WITHOUT verifying the signature or the chain (insecure_root is true). */
VT_RESULT vti_nv_rim_extract_unsafe(const uint8_t *xml, size_t len, struct vti_nv_rim **out);

enum vti_nv_rim_kind vti_nv_rim_kind(const struct vti_nv_rim *rim);
const char *vti_nv_rim_kind_name(enum vti_nv_rim_kind kind);      /* "driver" / "vbios" */
const char *vti_nv_rim_version(const struct vti_nv_rim *rim);     /* colloquialVersion, lower case */
const char *vti_nv_rim_product(const struct vti_nv_rim *rim);     /* SoftwareIdentity@name */
const char *vti_nv_rim_signer(const struct vti_nv_rim *rim);      /* leaf subject (one line) */
/* True when the chain ended in a caller-given root rather than the pinned NVIDIA RIM root. */
bool vti_nv_rim_insecure_root(const struct vti_nv_rim *rim);
/* Intersection of the chain's validity periods (seconds since the epoch). */
void vti_nv_rim_validity(const struct vti_nv_rim *rim, int64_t *not_before, int64_t *not_after);
size_t vti_nv_rim_n_resources(const struct vti_nv_rim *rim);
/* Resources in document order; NULL when i is out of range. */
const struct vti_nv_rim_resource *vti_nv_rim_resource(const struct vti_nv_rim *rim, size_t i);

/* One SPDM measurement block (from the MEASUREMENTS response). */
struct vti_nv_meas {
    uint32_t block;                     /* SPDM measurement block index (1-based) */
    const uint8_t *digest;
    size_t len;
};

enum vti_nv_mismatch_reason {
    VTI_NV_MISMATCH_VALUE = 1,          /* no alternative equals the block's digest */
    VTI_NV_MISMATCH_MISSING = 2,        /* the report has no block index+1 */
    VTI_NV_MISMATCH_SIZE = 3,           /* the block's digest is not 48 bytes */
};

struct vti_nv_mismatch {
    uint32_t index;                     /* RIM index (block index - 1) */
    enum vti_nv_rim_kind from;          /* which RIM has this index active */
    enum vti_nv_mismatch_reason reason;
};

#define VTI_NV_RIM_NVDEC0_DISABLED 0x1u /* skip index 35 (nvtrust: NVDEC0 status disabled) */

/* Compare measurements with the RIMs (rules above). `driver` must be of kind DRIVER and
 * `vbios` of kind VBIOS (VT_ERR_NV_RIM_KIND). Mismatches are written in increasing index
 * order to out[0..max) and their total count to *n_out (which may exceed max); returns
 * VT_ERR_NV_RIM_MISMATCH when *n_out > 0. A block index repeated in meas is refused
 * (VT_ERR_NV_RIM_DUP_INDEX). *n_compared (may be NULL) = number of indices compared. */
VT_RESULT vti_nv_rim_compare(const struct vti_nv_rim *driver, const struct vti_nv_rim *vbios,
                             const struct vti_nv_meas *meas, size_t n_meas, unsigned flags,
                             struct vti_nv_mismatch *out, size_t max, size_t *n_out,
                             size_t *n_compared);

/* --- sim RIMs (sim-gpu): write a SWID tag with the given resources and sign it. --- */
struct vti_nv_rim_sim_in {
    enum vti_nv_rim_kind kind;
    const char *product;                /* e.g. "GH100" */
    const char *version;                /* driver "550.90.07" / VBIOS "96.00.9f.00.01" (must
                                         * have the shape of its kind) */
    const struct vti_nv_rim_resource *res;
    size_t n_res;                       /* <= VTI_NV_RIM_MAX_RESOURCES, distinct indices */
    EVP_PKEY *key;                      /* EC P-384 signing key (not taken over) */
    const struct vti_nv_der *chain;     /* signer chain, leaf first (the leaf matches key) */
    size_t n_chain;                     /* 1..VTI_NV_RIM_MAX_CERTS */
};

/* Build the SWID tag (NVIDIA's layout) and sign it: enveloped XML-DSig, ECDSA-SHA384,
 * SHA-384 digest, C14N 1.1, chain in KeyInfo/X509Data. `out` receives the XML (appended; no
 * NUL counted). The result loads with vti_nv_rim_load(xml, len, &(trust with the sim root),
 * at, &rim). Errors: VT_ERR_INVALID_ARG (product/version/name outside [A-Za-z0-9._-], index
 * > 254 or repeated, n_alt outside 1..16, chain not DER), VT_ERR_NV_RIM_KIND (version shape
 * not of `kind`), VT_ERR_NV_RIM_SIGN (key not EC P-384 or not the leaf's, signing failed). */
VT_RESULT vti_nv_rim_sign_sim(const struct vti_nv_rim_sim_in *in, struct vt_buf *out);

#endif
