/* SPDX-License-Identifier: Apache-2.0 */
/*
 * amd_certs.c - gathering and recognising AMD SEV-SNP endorsement certificates.
 *
 * Owns: reading certificate files/directories (DER or PEM, recognised by content), the
 * SNP_GET_EXT_REPORT certificate table (GUID table, see Linux Documentation/virt/coco/
 * sev-guest.rst and the SEV-SNP GHCB spec, "SNP Extended Guest Request"), the AMD X.509
 * extensions of VCEK/VLEK certificates (AMD "Versioned Chip Endorsement Key (VCEK)
 * Certificate and KDS Interface Specification", 57230) and the pinned AMD root keys.
 * Trust boundary: every byte here is untrusted (files from the user, the table from the
 * host); nothing is trusted until amd_chain.c has verified the chain to a pinned or given root.
 */
#include "endorsements/amd_certs.h"

#include <dirent.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/sha.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "util/codec.h"
#include "util/cursor.h"
#include "util/log.h"

const uint8_t vt_amd_guid_ark[16] = { 0xc0, 0xb4, 0x06, 0xa4, 0xa8, 0x03, 0x49, 0x52,
                                      0x97, 0x43, 0x3f, 0xb6, 0x01, 0x4c, 0xd0, 0xae };
const uint8_t vt_amd_guid_ask[16] = { 0x4a, 0xb7, 0xb3, 0x79, 0xbb, 0xac, 0x4f, 0xe4,
                                      0xa0, 0x2f, 0x05, 0xae, 0xf3, 0x27, 0xc7, 0x82 };
const uint8_t vt_amd_guid_vcek[16] = { 0x63, 0xda, 0x75, 0x8d, 0xe6, 0x64, 0x45, 0x64,
                                       0xad, 0xc5, 0xf4, 0xb9, 0x3b, 0xe8, 0xac, 0xcd };
const uint8_t vt_amd_guid_vlek[16] = { 0xa8, 0x07, 0x4b, 0xc2, 0xa2, 0x5a, 0x48, 0x3e,
                                       0xaa, 0xe6, 0x39, 0xc0, 0x45, 0xa0, 0xb8, 0xa1 };

/* SHA-256 of the SubjectPublicKeyInfo DER of the AMD root keys, from the public KDS
 * certificates https://kdsintf.amd.com/vcek/v1/{Milan,Genoa,Turin}/cert_chain (ARK-x). */
static const struct {
    enum vt_snp_product product;
    const char *spki_sha256;
} pinned_arks[] = {
    { VT_SNP_PRODUCT_MILAN, "9f056bee44377e29308cb5ffa895bdfb62d18881fa6bed8d6f075b0204089cb9" },
    { VT_SNP_PRODUCT_GENOA, "429a69c9422aa258ee4d8db5fcda9c6470ef15f8cd5a9cebd6cbc7d90b863831" },
    { VT_SNP_PRODUCT_TURIN, "4f125410563a2ab9a50356f9243f6fe0b6f73de98603f53f90339c70e9d7ad08" },
};

const char *vti_amd_role_name(enum vt_amd_role r)
{
    switch (r) {
    case VT_AMD_ARK: return "ARK";
    case VT_AMD_ASK: return "ASK";
    case VT_AMD_ASVK: return "ASVK";
    case VT_AMD_VCEK: return "VCEK";
    case VT_AMD_VLEK: return "VLEK";
    default: return "other";
    }
}

void vti_amd_blobs_free(struct vt_amd_blobs *b)
{
    if (!b)
        return;
    for (size_t i = 0; i < b->n; i++)
        vti_buf_free_nowipe(&b->der[i]);
    b->n = 0;
}

vt_res vti_amd_blobs_add(struct vt_amd_blobs *b, const uint8_t *der, size_t len)
{
    ENSURE(len > 0 && len <= VT_AMD_MAX_CERT_LEN, VT_ERR_SNP_CERT_PARSE);
    for (size_t i = 0; i < b->n; i++)
        if (b->der[i].len == len && memcmp(b->der[i].p, der, len) == 0) /* lint: public */
            return vti_ok();
    ENSURE(b->n < VT_AMD_MAX_CERTS, VT_ERR_SNP_TOO_MANY_CERTS);
    struct vt_buf nb = VT_BUF_INIT;
    GUARD(vti_buf_append(&nb, der, len));
    b->der[b->n++] = nb;
    return vti_ok();
}

/* Is p[0..len) exactly one DER SEQUENCE (a certificate candidate)? */
static bool der_one_sequence(const uint8_t *p, size_t len)
{
    struct vt_cur c = vti_cur_init(p, len);
    uint8_t tag, l0;
    if (!vti_is_ok(vti_cur_u8(&c, &tag)) || tag != 0x30 || !vti_is_ok(vti_cur_u8(&c, &l0)))
        return false;
    size_t n = l0;
    if (l0 & 0x80) {
        size_t k = l0 & 0x7f;
        if (k == 0 || k > 3)
            return false;
        n = 0;
        for (size_t i = 0; i < k; i++) {
            uint8_t d;
            if (!vti_is_ok(vti_cur_u8(&c, &d)))
                return false;
            n = (n << 8) | d;
        }
    }
    return n == vti_cur_left(&c);
}

static const char pem_begin[] = "-----BEGIN CERTIFICATE-----";
static const char pem_end[] = "-----END CERTIFICATE-----";

static const uint8_t *find_str(const uint8_t *p, size_t len, const char *s)
{
    size_t n = strlen(s);
    if (len < n)
        return NULL;
    return memmem(p, len, s, n);
}

vt_res vti_amd_blobs_add_content(struct vt_amd_blobs *b, const uint8_t *p, size_t len,
                                 size_t *added)
{
    *added = 0;
    if (der_one_sequence(p, len)) {
        /* recognised as a certificate only if OpenSSL parses it */
        const unsigned char *q = p;
        X509 *x = d2i_X509(NULL, &q, (long)len);
        if (x && q == p + len) {
            X509_free(x);
            size_t before = b->n;
            GUARD(vti_amd_blobs_add(b, p, len));
            *added = b->n - before; /* 0 when it was already there */
            return vti_ok();
        }
        X509_free(x);
        return vti_ok();
    }
    const uint8_t *cur = p;
    size_t left = len;
    for (;;) {
        const uint8_t *s = find_str(cur, left, pem_begin);
        if (!s)
            break;
        size_t body_off = (size_t)(s - cur) + strlen(pem_begin);
        const uint8_t *e = find_str(cur + body_off, left - body_off, pem_end);
        ENSURE(e != NULL, VT_ERR_SNP_CERT_PARSE);
        const uint8_t *body = cur + body_off;
        size_t blen = (size_t)(e - body);
        ENSURE(blen <= 2 * VT_AMD_MAX_CERT_LEN, VT_ERR_SNP_CERT_PARSE);
        struct vt_buf txt = VT_BUF_INIT, der = VT_BUF_INIT;
        vt_res r = vti_ok();
        for (size_t i = 0; i < blen && vti_is_ok(r); i++)
            if (body[i] != '\n' && body[i] != '\r' && body[i] != ' ' && body[i] != '\t')
                r = vti_buf_u8(&txt, body[i]);
        if (vti_is_ok(r))
            r = vti_b64_decode((const char *)txt.p, txt.len, false, &der);
        size_t before = b->n;
        if (vti_is_ok(r))
            r = vti_amd_blobs_add(b, der.p, der.len);
        vti_buf_free_nowipe(&txt);
        vti_buf_free_nowipe(&der);
        if (!vti_is_ok(r))
            return r.err == VT_ERR_SNP_TOO_MANY_CERTS ? r : VT_FAIL(VT_ERR_SNP_CERT_PARSE);
        *added += b->n - before; /* duplicates are not added twice */
        size_t adv = (size_t)(e - cur) + strlen(pem_end);
        cur += adv;
        left -= adv;
    }
    return vti_ok();
}

static vt_res load_file(struct vt_amd_blobs *b, const char *path)
{
    struct vt_buf f = VT_BUF_INIT;
    vt_res r = vti_file_read(path, VT_AMD_MAX_FILE_LEN, &f);
    if (r.err == VT_ERR_TOO_LARGE) {
        VT_DEBUG("snp: skipping large file %s", path);
        return vti_ok();
    }
    GUARD(r);
    size_t added = 0;
    r = vti_amd_blobs_add_content(b, f.p, f.len, &added);
    vti_buf_free_nowipe(&f);
    return r;
}

static vt_res load_dir(struct vt_amd_blobs *b, const char *path, int depth)
{
    DIR *d = opendir(path);
    ENSURE(d != NULL, VT_ERR_NOT_FOUND);
    struct dirent *de;
    vt_res r = vti_ok();
    /* readdir order is arbitrary; content decides the role, and duplicates are dropped */
    while (vti_is_ok(r) && (de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        char sub[4096];
        int n = snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
        if (n < 0 || (size_t)n >= sizeof(sub))
            continue;
        struct stat st;
        if (stat(sub, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            if (depth < 1)
                r = load_dir(b, sub, depth + 1);
        } else if (S_ISREG(st.st_mode)) {
            r = load_file(b, sub);
            /* an unreadable or malformed file is skipped: the directory may hold other
             * collateral (Intel JSON, keys); only a full certificate list is fatal */
            if (r.err && r.err != VT_ERR_SNP_TOO_MANY_CERTS)
                r = vti_ok();
        }
    }
    closedir(d);
    return r;
}

vt_res vti_amd_blobs_load_path(struct vt_amd_blobs *b, const char *path)
{
    struct stat st;
    ENSURE(path != NULL, VT_ERR_INVALID_ARG);
    ENSURE(stat(path, &st) == 0, VT_ERR_NOT_FOUND);
    if (S_ISDIR(st.st_mode))
        return load_dir(b, path, 0);
    return load_file(b, path);
}

vt_res vti_amd_cert_table_parse(const uint8_t *p, size_t len, struct vt_amd_blobs *b)
{
    static const uint8_t zero[16];
    ENSURE(len <= VT_AMD_MAX_TABLE_LEN, VT_ERR_SNP_CERT_TABLE);
    struct vt_cur c = vti_cur_init(p, len);
    for (size_t i = 0;; i++) {
        ENSURE(i <= VT_AMD_MAX_CERTS, VT_ERR_SNP_CERT_TABLE);
        const uint8_t *guid;
        uint32_t off, n;
        vt_res r = vti_cur_view(&c, 16, &guid);
        ENSURE(vti_is_ok(r), VT_ERR_SNP_CERT_TABLE);
        r = vti_cur_u32le(&c, &off);
        ENSURE(vti_is_ok(r), VT_ERR_SNP_CERT_TABLE);
        r = vti_cur_u32le(&c, &n);
        ENSURE(vti_is_ok(r), VT_ERR_SNP_CERT_TABLE);
        if (memcmp(guid, zero, 16) == 0) { /* lint: public */
            ENSURE(off == 0 && n == 0, VT_ERR_SNP_CERT_TABLE);
            break;
        }
        /* the data must lie after the table header and inside the buffer */
        ENSURE(off <= len && n <= len - off, VT_ERR_SNP_CERT_TABLE);
        ENSURE(off >= (i + 2) * 24, VT_ERR_SNP_CERT_TABLE);
        if (memcmp(guid, vt_amd_guid_ark, 16) == 0 || memcmp(guid, vt_amd_guid_ask, 16) == 0 || /* lint: public */
            memcmp(guid, vt_amd_guid_vcek, 16) == 0 || memcmp(guid, vt_amd_guid_vlek, 16) == 0) { /* lint: public */
            ENSURE(n > 0, VT_ERR_SNP_CERT_TABLE);
            /* DER is only framed here (one SEQUENCE); it is parsed, and rejected if it is
             * not a certificate, when the chain is verified (not on a chain-cache hit) */
            if (der_one_sequence(p + off, n)) {
                GUARD(vti_amd_blobs_add(b, p + off, n));
            } else {
                size_t added = 0;
                GUARD(vti_amd_blobs_add_content(b, p + off, n, &added));
                ENSURE(added == 1, VT_ERR_SNP_CERT_TABLE);
            }
        }
    }
    return vti_ok();
}

vt_res vti_amd_cert_table_build(const struct vt_amd_table_entry *e, size_t n, struct vt_buf *out)
{
    ENSURE(n <= VT_AMD_MAX_CERTS, VT_ERR_INVALID_ARG);
    size_t off = (n + 1) * 24;
    for (size_t i = 0; i < n; i++) {
        ENSURE(e[i].len <= VT_AMD_MAX_CERT_LEN, VT_ERR_INVALID_ARG);
        GUARD(vti_buf_append(out, e[i].guid, 16));
        GUARD(vti_buf_u32le(out, (uint32_t)off));
        GUARD(vti_buf_u32le(out, (uint32_t)e[i].len));
        off += e[i].len;
    }
    GUARD(vti_buf_zeros(out, 24));
    for (size_t i = 0; i < n; i++)
        GUARD(vti_buf_append(out, e[i].der, e[i].len));
    return vti_ok();
}

vt_res vti_amd_endorsements_wrap(const uint8_t *table, size_t len, struct vt_buf *out)
{
    ENSURE(len <= VT_AMD_MAX_TABLE_LEN, VT_ERR_INVALID_ARG);
    GUARD(vti_buf_u8(out, 0x5a)); /* CBOR major type 2, 4-byte length */
    uint8_t l[4] = { (uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8), (uint8_t)len };
    GUARD(vti_buf_append(out, l, 4));
    return vti_buf_append(out, table, len);
}

void vti_amd_endorsements_unwrap(const uint8_t *p, size_t len, const uint8_t **table,
                                 size_t *table_len)
{
    struct vt_cur c = vti_cur_init(p, len);
    uint8_t ib;
    *table = p;
    *table_len = len;
    if (!vti_is_ok(vti_cur_u8(&c, &ib)) || (ib >> 5) != 2)
        return;
    uint64_t n = ib & 0x1f;
    if (n == 24) {
        uint8_t v;
        if (!vti_is_ok(vti_cur_u8(&c, &v)))
            return;
        n = v;
    } else if (n == 25) {
        uint16_t v;
        if (!vti_is_ok(vti_cur_u16be(&c, &v)))
            return;
        n = v;
    } else if (n == 26) {
        uint32_t v;
        if (!vti_is_ok(vti_cur_u32be(&c, &v)))
            return;
        n = v;
    } else if (n > 23) {
        return;
    }
    if (n != vti_cur_left(&c))
        return; /* not exactly one byte string: a raw table */
    *table = vti_cur_pos(&c);
    *table_len = (size_t)n;
}

/* ---- names ---------------------------------------------------------------------------- */

static bool get_cn(const X509_NAME *name, char *out, size_t outlen)
{
    int i = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
    if (i < 0)
        return false;
    const ASN1_STRING *s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));
    int n = ASN1_STRING_length(s);
    if (n <= 0 || (size_t)n >= outlen)
        return false;
    memcpy(out, ASN1_STRING_get0_data(s), (size_t)n);
    out[n] = 0;
    if (strlen(out) != (size_t)n)
        return false;
    return true;
}

static enum vt_snp_product prod_of(const char *s)
{
    return vti_snp_product_from_name(s, strlen(s));
}

void vti_amd_classify(X509 *x, enum vt_amd_role *role, enum vt_snp_product *product)
{
    char cn[64], icn[64];
    *role = VT_AMD_OTHER;
    *product = VT_SNP_PRODUCT_UNKNOWN;
    if (!get_cn(X509_get_subject_name(x), cn, sizeof(cn)))
        return;
    if (strcmp(cn, "SEV-VCEK") == 0 || strcmp(cn, "SEV-VLEK") == 0) {
        *role = cn[5] == 'C' ? VT_AMD_VCEK : VT_AMD_VLEK;
        /* product: the issuer (SEV-x / SEV-VLEK-x) */
        if (get_cn(X509_get_issuer_name(x), icn, sizeof(icn))) {
            if (strncmp(icn, "SEV-VLEK-", 9) == 0)
                *product = prod_of(icn + 9);
            else if (strncmp(icn, "SEV-", 4) == 0)
                *product = prod_of(icn + 4);
        }
    } else if (strncmp(cn, "ARK-", 4) == 0) {
        *role = VT_AMD_ARK;
        *product = prod_of(cn + 4);
    } else if (strncmp(cn, "SEV-VLEK-", 9) == 0) {
        *role = VT_AMD_ASVK;
        *product = prod_of(cn + 9);
    } else if (strncmp(cn, "SEV-", 4) == 0) {
        *role = VT_AMD_ASK;
        *product = prod_of(cn + 4);
    }
    if (*role != VT_AMD_OTHER && *product == VT_SNP_PRODUCT_UNKNOWN)
        *role = VT_AMD_OTHER;
}

bool vti_amd_ark_pinned(X509 *x, enum vt_snp_product product)
{
    unsigned char *spki = NULL;
    int n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &spki);
    if (n <= 0)
        return false;
    uint8_t h[32];
    char hex[65];
    SHA256(spki, (size_t)n, h);
    OPENSSL_free(spki);
    vti_hex_encode(h, 32, hex);
    for (size_t i = 0; i < VT_ARRAY_LEN(pinned_arks); i++)
        if (pinned_arks[i].product == product && strcmp(hex, pinned_arks[i].spki_sha256) == 0)
            return true;
    return false;
}

static int64_t asn1_time_unix(const ASN1_TIME *t, bool *ok)
{
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    if (!t || ASN1_TIME_to_tm(t, &tm) != 1) {
        *ok = false;
        return 0;
    }
    return vti_timegm(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                     tm.tm_sec);
}

int vti_amd_cert_time_check(X509 *x, int64_t at, int64_t *nb, int64_t *na)
{
    bool ok = true;
    *nb = asn1_time_unix(X509_get0_notBefore(x), &ok);
    *na = asn1_time_unix(X509_get0_notAfter(x), &ok);
    if (!ok)
        return VT_ERR_SNP_CERT_PARSE;
    if (at < *nb)
        return VT_ERR_SNP_CERT_NOT_YET_VALID;
    if (at > *na)
        return VT_ERR_SNP_CERT_EXPIRED;
    return 0;
}

/* ---- VCEK / VLEK extensions ------------------------------------------------------------ */

#define AMD_OID "1.3.6.1.4.1.3704.1."

static const ASN1_OCTET_STRING *find_ext(X509 *x, const char *oid)
{
    ASN1_OBJECT *o = OBJ_txt2obj(oid, 1);
    if (!o)
        return NULL;
    int i = X509_get_ext_by_OBJ(x, o, -1);
    ASN1_OBJECT_free(o);
    if (i < 0)
        return NULL;
    return X509_EXTENSION_get_data(X509_get_ext(x, i));
}

/* A DER INTEGER (non-negative, at most 8 content bytes) as the whole extension value. */
static vt_res ext_int(X509 *x, const char *oid, bool required, int64_t *out, bool *present)
{
    const ASN1_OCTET_STRING *os = find_ext(x, oid);
    *out = 0;
    if (present)
        *present = os != NULL;
    if (!os) {
        ENSURE(!required, VT_ERR_SNP_CERT_EXT);
        return vti_ok();
    }
    struct vt_cur c = vti_cur_init(ASN1_STRING_get0_data(os), (size_t)ASN1_STRING_length(os));
    uint8_t tag, n;
    ENSURE(vti_is_ok(vti_cur_u8(&c, &tag)) && tag == 0x02, VT_ERR_SNP_CERT_EXT);
    ENSURE(vti_is_ok(vti_cur_u8(&c, &n)) && n >= 1 && n <= 8 && n == vti_cur_left(&c),
           VT_ERR_SNP_CERT_EXT);
    const uint8_t *v;
    GUARD(vti_cur_view(&c, n, &v));
    ENSURE((v[0] & 0x80) == 0, VT_ERR_SNP_CERT_EXT);
    uint64_t acc = 0;
    for (size_t i = 0; i < n; i++)
        acc = (acc << 8) | v[i];
    ENSURE(acc <= INT64_MAX, VT_ERR_SNP_CERT_EXT);
    *out = (int64_t)acc;
    return vti_ok();
}

static vt_res ext_spl(X509 *x, const char *oid, bool required, uint8_t *out, bool *present)
{
    int64_t v;
    GUARD(ext_int(x, oid, required, &v, present));
    ENSURE(v >= 0 && v <= 255, VT_ERR_SNP_CERT_EXT);
    *out = (uint8_t)v;
    return vti_ok();
}

static vt_res ext_ia5(X509 *x, const char *oid, bool required, char *out, size_t outlen)
{
    const ASN1_OCTET_STRING *os = find_ext(x, oid);
    out[0] = 0;
    if (!os) {
        ENSURE(!required, VT_ERR_SNP_CERT_EXT);
        return vti_ok();
    }
    struct vt_cur c = vti_cur_init(ASN1_STRING_get0_data(os), (size_t)ASN1_STRING_length(os));
    uint8_t tag, n;
    ENSURE(vti_is_ok(vti_cur_u8(&c, &tag)) && tag == 0x16, VT_ERR_SNP_CERT_EXT);
    ENSURE(vti_is_ok(vti_cur_u8(&c, &n)) && n < 0x80 && n == vti_cur_left(&c) && n < outlen,
           VT_ERR_SNP_CERT_EXT);
    GUARD(vti_cur_copy(&c, out, n));
    out[n] = 0;
    for (size_t i = 0; i < n; i++)
        ENSURE(out[i] >= 0x20 && out[i] < 0x7f, VT_ERR_SNP_CERT_EXT);
    return vti_ok();
}

vt_res vti_amd_key_ext_parse(X509 *x, struct vt_amd_key_ext *out)
{
    struct vt_amd_key_ext e;
    memset(&e, 0, sizeof(e));
    GUARD(ext_int(x, AMD_OID "1", false, &e.struct_version, NULL));
    GUARD(ext_ia5(x, AMD_OID "2", true, e.product_name, sizeof(e.product_name)));
    e.product = vti_snp_product_from_name(e.product_name, strlen(e.product_name));
    GUARD(ext_spl(x, AMD_OID "3.1", true, &e.bl, NULL));
    GUARD(ext_spl(x, AMD_OID "3.2", true, &e.tee, NULL));
    GUARD(ext_spl(x, AMD_OID "3.3", true, &e.snp, NULL));
    GUARD(ext_spl(x, AMD_OID "3.8", true, &e.ucode, NULL));
    GUARD(ext_spl(x, AMD_OID "3.9", false, &e.fmc, &e.has_fmc));
    const ASN1_OCTET_STRING *hw = find_ext(x, AMD_OID "4");
    if (hw) {
        /* raw chip id octets (64 bytes; Turin 8), not a nested OCTET STRING */
        int n = ASN1_STRING_length(hw);
        ENSURE(n == 64 || n == 8, VT_ERR_SNP_CERT_EXT);
        memcpy(e.hwid, ASN1_STRING_get0_data(hw), (size_t)n);
        e.hwid_len = (size_t)n;
    }
    GUARD(ext_ia5(x, AMD_OID "5", false, e.csp_id, sizeof(e.csp_id)));
    *out = e;
    return vti_ok();
}
