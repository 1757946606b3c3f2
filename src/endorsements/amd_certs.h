/* SPDX-License-Identifier: Apache-2.0 */
/*
 * amd_certs.h - AMD SEV-SNP endorsement certificates: gathering and recognising them.
 *
 * Certificates arrive as raw bytes from three places: a collateral directory (DER or PEM files
 * of any name, recognised by content), the SNP_GET_EXT_REPORT certificate table (GUID table)
 * and, optionally, the AMD KDS. They are first collected as raw DER blobs (struct
 * vt_amd_blobs) so that the chain cache can be keyed on exact bytes before any parsing; on
 * a cache miss they are parsed and classified by subject CN (ARK-x, SEV-x, SEV-VLEK-x,
 * SEV-VCEK, SEV-VLEK).
 */
#ifndef VT_ENDORSEMENTS_AMD_CERTS_H
#define VT_ENDORSEMENTS_AMD_CERTS_H

#include <openssl/x509.h>

#include "evidence/snp_report.h"
#include "util/buf.h"

#define VT_AMD_MAX_CERTS 32
#define VT_AMD_MAX_CERT_LEN (64u * 1024u)
#define VT_AMD_MAX_FILE_LEN (1024u * 1024u)
#define VT_AMD_MAX_TABLE_LEN (256u * 1024u)

enum vt_amd_role { VT_AMD_OTHER = 0, VT_AMD_ARK, VT_AMD_ASK, VT_AMD_ASVK, VT_AMD_VCEK,
                   VT_AMD_VLEK };
const char *vti_amd_role_name(enum vt_amd_role r);

/* GUIDs of the SNP_GET_EXT_REPORT certificate table (RFC 4122 byte order). */
extern const uint8_t vt_amd_guid_ark[16], vt_amd_guid_ask[16], vt_amd_guid_vcek[16],
    vt_amd_guid_vlek[16];

/* Raw DER certificates (owned copies). */
struct vt_amd_blobs {
    size_t n;
    struct vt_buf der[VT_AMD_MAX_CERTS];
};
void vti_amd_blobs_free(struct vt_amd_blobs *b);
/* Add one DER certificate (copied). Duplicates (same bytes) are dropped. */
VT_RESULT vti_amd_blobs_add(struct vt_amd_blobs *b, const uint8_t *der, size_t len);
/* Add the certificates of one file's contents: DER (one certificate) or PEM (all CERTIFICATE
 * blocks). Contents that are neither are skipped (*added = 0), not an error. */
VT_RESULT vti_amd_blobs_add_content(struct vt_amd_blobs *b, const uint8_t *p, size_t len,
                                    size_t *added);
/* Load a file or a directory (its files and those of its direct subdirectories). */
VT_RESULT vti_amd_blobs_load_path(struct vt_amd_blobs *b, const char *path);
/* Parse an SNP_GET_EXT_REPORT certificate table: 24-byte entries {GUID, u32 offset, u32
 * length} terminated by an all-zero entry; offsets are from the table start. Entries with
 * known GUIDs are added; others (CRL, platform info) are skipped. */
VT_RESULT vti_amd_cert_table_parse(const uint8_t *p, size_t len, struct vt_amd_blobs *b);
/* Build a certificate table from (guid, der) pairs. */
struct vt_amd_table_entry {
    const uint8_t *guid;
    const uint8_t *der;
    size_t len;
};
VT_RESULT vti_amd_cert_table_build(const struct vt_amd_table_entry *e, size_t n,
                                   struct vt_buf *out);

/* Endorsements as carried in RA-TLS certificates: the certificate table wrapped in one CBOR
 * byte string (the endorsements extension must hold CBOR). unwrap accepts a wrapped or a raw
 * table: a CBOR byte-string header whose length covers exactly the rest is removed. */
VT_RESULT vti_amd_endorsements_wrap(const uint8_t *table, size_t len, struct vt_buf *out);
void vti_amd_endorsements_unwrap(const uint8_t *p, size_t len, const uint8_t **table,
                                 size_t *table_len);

/* The AMD VCEK/VLEK extensions (OID 1.3.6.1.4.1.3704.1.*). */
struct vt_amd_key_ext {
    int64_t struct_version;
    char product_name[32];
    enum vt_snp_product product;
    uint8_t bl, tee, snp, ucode, fmc;
    bool has_fmc;
    uint8_t hwid[64];
    size_t hwid_len;      /* 0: absent (VLEK) */
    char csp_id[128];     /* VLEK only */
};
VT_RESULT vti_amd_key_ext_parse(X509 *x, struct vt_amd_key_ext *out);

/* Role and product line of a parsed certificate, from its subject CN (and for VCEK/VLEK
 * the issuer CN). */
void vti_amd_classify(X509 *x, enum vt_amd_role *role, enum vt_snp_product *product);

/* Is this the pinned AMD ARK of product (compares the SubjectPublicKeyInfo SHA-256)? */
bool vti_amd_ark_pinned(X509 *x, enum vt_snp_product product);

/* Certificate validity at time at: 0, VT_ERR_SNP_CERT_EXPIRED or _NOT_YET_VALID. */
int vti_amd_cert_time_check(X509 *x, int64_t at, int64_t *nb, int64_t *na);

#endif
