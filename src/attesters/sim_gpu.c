/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sim_gpu.c - sim-gpu: test PKI shaped like NVIDIA's device identity PKI and an SPDM 1.1
 * GET_MEASUREMENTS / MEASUREMENTS writer (see sim_gpu.h). INSECURE by design; its root is
 * trusted only where it is given explicitly (--root-ca), never by default.
 */
#include <errno.h>
#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "attesters/sim_common.h"
#include "attesters/sim_gpu.h"
#include "endorsements/nvidia_rim.h"
#include "util/codec.h"
#include "util/secmem.h"

#define GPU_SUB "gpu"
#define SPDM_V11 0x11
#define SPDM_GET_MEASUREMENTS 0xE0
#define SPDM_MEASUREMENTS 0x60
#define SIG_LEN 96

/* ---- keys and certificates ----------------------------------------------------------- */

static EVP_PKEY *keygen(void)
{
    return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
}

/* DiceTcbInfo as NVIDIA's Hopper FMC leaf carries it: SEQUENCE { INTEGER 1, the key's
 * SubjectPublicKeyInfo, SEQUENCE { OID sha384, OCTET STRING fwid } }. */
static vt_res tcb_info(EVP_PKEY *key, const uint8_t fwid[48], struct vt_buf *out)
{
    static const uint8_t ver[] = { 0x02, 0x01, 0x01 };
    static const uint8_t sha384[] = { 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65,
                                      0x03, 0x04, 0x02, 0x02 };
    struct vt_buf body = VT_BUF_INIT, digest = VT_BUF_INIT;
    unsigned char *spki = NULL;
    int sl = i2d_PUBKEY(key, &spki);
    vt_res r = sl > 0 ? vti_buf_append(&body, ver, sizeof(ver)) : VT_FAIL(VT_ERR_CRYPTO);
    if (!r.err)
        r = vti_buf_append(&body, spki, (size_t)sl);
    if (!r.err)
        r = vti_buf_append(&digest, sha384, sizeof(sha384));
    if (!r.err)
        r = vti_sim_der(&digest, 0x04, fwid, 48);
    if (!r.err)
        r = vti_sim_der(&body, 0x30, digest.p, digest.len);
    if (!r.err)
        r = vti_sim_der(out, 0x30, body.p, body.len);
    OPENSSL_free(spki);
    vti_buf_free_nowipe(&body);
    vti_buf_free_nowipe(&digest);
    return r;
}

static bool add_ext(X509 *x, X509V3_CTX *v, int nid, const char *val)
{
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, v, nid, val);
    bool ok = e && X509_add_ext(x, e, -1) == 1;
    X509_EXTENSION_free(e);
    return ok;
}

static bool add_fwid_ext(X509 *x, EVP_PKEY *key, const uint8_t fwid[48])
{
    struct vt_buf b = VT_BUF_INIT;
    ASN1_OBJECT *o = OBJ_txt2obj("2.23.133.5.4.1", 1);
    ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
    bool ok = o && os && !tcb_info(key, fwid, &b).err &&
              ASN1_OCTET_STRING_set(os, b.p, (int)b.len) == 1;
    X509_EXTENSION *e = ok ? X509_EXTENSION_create_by_OBJ(NULL, o, 0, os) : NULL;
    ok = ok && e && X509_add_ext(x, e, -1) == 1;
    X509_EXTENSION_free(e);
    ASN1_OBJECT_free(o);
    ASN1_OCTET_STRING_free(os);
    vti_buf_free_nowipe(&b);
    return ok;
}

static bool set_names(X509 *x, const char *cn, X509 *issuer, long serial)
{
    X509_NAME *n = X509_NAME_new();
    bool ok = n && X509_set_version(x, 2) == 1 &&
              ASN1_INTEGER_set(X509_get_serialNumber(x), serial) == 1 &&
              X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1,
                                         -1, 0) == 1 &&
              X509_NAME_add_entry_by_txt(n, "O", MBSTRING_ASC,
                                         (const unsigned char *)"NVIDIA (sim, INSECURE)", -1, -1,
                                         0) == 1 &&
              X509_set_subject_name(x, n) == 1 &&
              X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : n) == 1 &&
              ASN1_TIME_set_string_X509(X509_getm_notBefore(x), "20200101000000Z") == 1 &&
              ASN1_TIME_set_string_X509(X509_getm_notAfter(x), "99991231235959Z") == 1;
    X509_NAME_free(n);
    return ok;
}

/* A certificate for key signed by ikey (self-signed without issuer): a CA without fwid, else
 * a signing leaf (with fwid: the FMC leaf and its DiceTcbInfo; NO_FWID: the RIM signer). */
static const uint8_t NO_FWID[1];

static X509 *mkcert(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *ikey, long serial,
                    const uint8_t *fwid)
{
    X509 *x = X509_new();
    bool ok = x && set_names(x, cn, issuer, serial) && X509_set_pubkey(x, key) == 1;
    X509V3_CTX v;
    X509V3_set_ctx(&v, issuer ? issuer : x, x, NULL, NULL, 0);
    if (ok && !fwid)
        ok = add_ext(x, &v, NID_basic_constraints, "critical,CA:TRUE") &&
             add_ext(x, &v, NID_key_usage, "critical,keyCertSign,cRLSign");
    else if (ok)
        ok = add_ext(x, &v, NID_key_usage, "critical,digitalSignature") &&
             (fwid == NO_FWID || add_fwid_ext(x, key, fwid));
    ok = ok && add_ext(x, &v, NID_subject_key_identifier, "hash") &&
         add_ext(x, &v, NID_authority_key_identifier, "keyid:always") &&
         X509_sign(x, ikey ? ikey : key, EVP_sha384()) > 0;
    if (!ok) {
        X509_free(x);
        return NULL;
    }
    return x;
}

/* ---- files in DIR/gpu ---------------------------------------------------------------- */

static vt_res save(const char *gdir, const char *name, X509 *x, EVP_PKEY *k)
{
    char path[4096];
    struct vt_buf b = VT_BUF_INIT;
    GUARD(vti_sim_x509_pem(x, &b));
    int n = snprintf(path, sizeof(path), "%s/%s.pem", gdir, name);
    vt_res r = n > 0 && (size_t)n < sizeof(path) ? vti_file_write(path, b.p, b.len, 0644)
                                                  : VT_FAIL(VT_ERR_INVALID_ARG);
    vti_buf_free_nowipe(&b);
    GUARD(r);
    BIO *bio = BIO_new(BIO_s_mem());
    char *p;
    ENSURE(bio && PEM_write_bio_PrivateKey(bio, k, NULL, NULL, 0, NULL, NULL) == 1,
           VT_ERR_CRYPTO);
    long kl = BIO_get_mem_data(bio, &p);
    n = snprintf(path, sizeof(path), "%s/%s.key", gdir, name);
    r = n > 0 && (size_t)n < sizeof(path) && kl > 0 ? vti_file_write(path, p, (size_t)kl, 0600)
                                                     : VT_FAIL(VT_ERR_INVALID_ARG);
    BIO_free(bio);
    return r;
}

/* Load gdir/name.{pem,key}; VT_ERR_NOT_FOUND when either is absent. */
static vt_res load(const char *gdir, const char *name, X509 **x, EVP_PKEY **k)
{
    char path[4096];
    int n = snprintf(path, sizeof(path), "%s/%s.pem", gdir, name);
    ENSURE(n > 0 && (size_t)n < sizeof(path), VT_ERR_INVALID_ARG);
    FILE *f = fopen(path, "r");
    ENSURE(f, VT_ERR_NOT_FOUND);
    *x = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    snprintf(path, sizeof(path), "%s/%s.key", gdir, name);
    f = fopen(path, "r");
    *k = f ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
    if (f)
        fclose(f);
    if (!*x || !*k) {
        X509_free(*x);
        EVP_PKEY_free(*k);
        *x = NULL;
        *k = NULL;
        return VT_FAIL(f ? VT_ERR_SIM_GPU_DIR : VT_ERR_NOT_FOUND);
    }
    return vti_ok();
}

static vt_res gpu_dir(const char *dir, char *out, size_t cap)
{
    return vti_sim_path(dir, GPU_SUB, NULL, out, cap);
}

/* One CA level: name signed by (issuer, ikey) (self-signed when issuer is NULL). */
static vt_res make_ca(const char *gdir, const char *name, const char *cn, X509 *issuer,
                      EVP_PKEY *ikey, long serial, X509 **x, EVP_PKEY **k)
{
    *k = keygen();
    *x = *k ? mkcert(cn, *k, issuer, ikey, serial, NULL) : NULL;
    ENSURE(*x, VT_ERR_CRYPTO);
    return save(gdir, name, *x, *k);
}

/* The sim RIM PKI: "sim NVIDIA RIM Root CA" (gdir/rim-root-ca.pem) -> "sim NVIDIA RIM Signer"
 * (P-384, digitalSignature), the signer of the sim RIMs. */
static vt_res rim_pki_init(const char *gdir)
{
    X509 *x[2] = { NULL, NULL };
    EVP_PKEY *k[2] = { NULL, NULL };
    struct vt_buf pem = VT_BUF_INIT;
    char path[4200];
    vt_res r = make_ca(gdir, "rim-root", "sim NVIDIA RIM Root CA", NULL, NULL, 10, &x[0], &k[0]);
    k[1] = r.err ? NULL : keygen();
    x[1] = k[1] ? mkcert("sim NVIDIA RIM Signer", k[1], x[0], k[0], 11, NO_FWID) : NULL;
    if (!r.err)
        r = x[1] ? save(gdir, "rim-signer", x[1], k[1]) : VT_FAIL(VT_ERR_CRYPTO);
    if (!r.err)
        r = vti_sim_x509_pem(x[0], &pem);
    snprintf(path, sizeof(path), "%s/rim-root-ca.pem", gdir);
    if (!r.err)
        r = vti_file_write(path, pem.p, pem.len, 0644);
    for (int i = 0; i < 2; i++) {
        X509_free(x[i]);
        EVP_PKEY_free(k[i]);
    }
    vti_buf_free_nowipe(&pem);
    return r;
}

vt_res vti_sim_gpu_init(const char *dir, struct vt_buf *roots_pem)
{
    char gdir[4096];
    GUARD(gpu_dir(dir, gdir, sizeof(gdir)));
    ENSURE(mkdir(gdir, 0700) == 0 || errno == EEXIST, VT_ERR_IO);
    X509 *x[3] = { NULL, NULL, NULL };
    EVP_PKEY *k[3] = { NULL, NULL, NULL };
    vt_res r = make_ca(gdir, "root", "sim NVIDIA Device Identity CA", NULL, NULL, 1, &x[0],
                       &k[0]);
    if (!r.err)
        r = make_ca(gdir, "identity", "sim NVIDIA GH100 Identity", x[0], k[0], 2, &x[1], &k[1]);
    if (!r.err)
        r = make_ca(gdir, "provisioner", "sim NVIDIA GH100 Provisioner ICA 1", x[1], k[1], 3,
                    &x[2], &k[2]);
    struct vt_buf pem = VT_BUF_INIT;
    if (!r.err)
        r = vti_sim_x509_pem(x[0], &pem);
    char path[4200];
    snprintf(path, sizeof(path), "%s/root-ca.pem", gdir);
    if (!r.err)
        r = vti_file_write(path, pem.p, pem.len, 0644);
    if (!r.err && roots_pem)
        r = vti_buf_append(roots_pem, pem.p, pem.len);
    for (int i = 0; i < 3; i++) {
        X509_free(x[i]);
        EVP_PKEY_free(k[i]);
    }
    vti_buf_free_nowipe(&pem);
    return r.err ? r : rim_pki_init(gdir);
}

/* ---- the SPDM writer ------------------------------------------------------------------ */

static void sha384_of(const char *label, unsigned n, uint8_t out[48])
{
    uint8_t b[64];
    size_t l = strlen(label);
    l = l < 60 ? l : 60;
    memcpy(b, label, l);
    b[l] = (uint8_t)n;
    unsigned int ol = 0;
    if (EVP_Digest(b, l + 1, out, &ol, EVP_sha384(), NULL) != 1)
        memset(out, 0, 48);
}

/* The measurement of block index of a sim GPU running driver `driver`. */
static void measurement_for(const char *driver, unsigned index, uint8_t out[48])
{
    char label[64];
    snprintf(label, sizeof(label), "veritee sim-gpu measurement %s", driver);
    sha384_of(label, index, out);
}

void vti_sim_gpu_measurement(unsigned index, uint8_t out[48])
{
    measurement_for(VTI_SIM_GPU_DRIVER, index, out);
}

void vti_sim_gpu_fwid(unsigned dev, uint8_t out[48])
{
    sha384_of("veritee sim-gpu fwid", dev, out);
}

/* GET_MEASUREMENTS: version, code, param1 bit 0 (signature requested), param2 0xFF (all
 * blocks), nonce, slot 0. */
static vt_res spdm_request(const uint8_t nonce[32], struct vt_buf *out)
{
    static const uint8_t hdr[] = { SPDM_V11, SPDM_GET_MEASUREMENTS, 0x01, 0xFF };
    GUARD(vti_buf_append(out, hdr, sizeof(hdr)));
    GUARD(vti_buf_append(out, nonce, 32));
    return vti_buf_u8(out, 0);
}

/* The measurement record: DMTF blocks (index, spec 0x01, size 51; value type, size 48,
 * SHA-384 digest), preceded by the block count and the 3-byte record length. */
static vt_res spdm_blocks(struct vt_buf *out)
{
    size_t rl = (size_t)VTI_SIM_GPU_BLOCKS * (4 + 3 + 48);
    GUARD(vti_buf_u8(out, VTI_SIM_GPU_BLOCKS));
    GUARD(vti_buf_u8(out, (uint8_t)rl));
    GUARD(vti_buf_u8(out, (uint8_t)(rl >> 8)));
    GUARD(vti_buf_u8(out, (uint8_t)(rl >> 16)));
    for (unsigned i = 1; i <= VTI_SIM_GPU_BLOCKS; i++) {
        uint8_t m[48];
        vti_sim_gpu_measurement(i, m);
        GUARD(vti_buf_u8(out, (uint8_t)i));
        GUARD(vti_buf_u8(out, 0x01));
        GUARD(vti_buf_u16le(out, 3 + 48));
        GUARD(vti_buf_u8(out, 0x01));
        GUARD(vti_buf_u16le(out, 48));
        GUARD(vti_buf_append(out, m, 48));
    }
    return vti_ok();
}

static vt_res tlv(struct vt_buf *out, uint16_t type, const void *p, size_t n)
{
    GUARD(vti_buf_u16le(out, type));
    GUARD(vti_buf_u16le(out, (uint16_t)n));
    return vti_buf_append(out, p, n);
}

/* Opaque data as NVIDIA's GSP writes it (type, length, value; little-endian): VBIOS version
 * (6), board id (14), chip SKU (15, 16), project (17, 18, 19), driver version (3), GPU info
 * (4), MSR counters (12), CPR info (13), NVDEC0 status (11), FWID (20), PCIe status (21). */
static vt_res spdm_opaque(const uint8_t fwid[48], struct vt_buf *out)
{
    static const uint8_t vbios[8] = { 0x00, 0x9F, 0x00, 0x96, 0x01, 0, 0, 0 };
    static const uint8_t board[4] = { 0xB1, 0x03, 0, 0 }, gpu[8] = { 0x80, 0x01 };
    static const uint8_t cpr[4] = { 0x00, 0xC0, 0x01, 0x00 }, on = 0x55, zero2[2] = { 0 };
    uint8_t msr[256] = { 0 };
    struct vt_buf t = VT_BUF_INIT;
    vt_res r = tlv(&t, 6, vbios, 8);
    r = r.err ? r : tlv(&t, 14, board, 4);
    r = r.err ? r : tlv(&t, 15, "882\0\0\0\0\0", 9);
    r = r.err ? r : tlv(&t, 16, "0\0\0\0", 5);
    r = r.err ? r : tlv(&t, 17, "1010", 5);
    r = r.err ? r : tlv(&t, 18, "0200", 5);
    r = r.err ? r : tlv(&t, 19, zero2, 2);
    r = r.err ? r : tlv(&t, 3, VTI_SIM_GPU_DRIVER, sizeof(VTI_SIM_GPU_DRIVER));
    r = r.err ? r : tlv(&t, 4, gpu, 8);
    r = r.err ? r : tlv(&t, 12, msr, sizeof(msr));
    r = r.err ? r : tlv(&t, 13, cpr, 4);
    r = r.err ? r : tlv(&t, 11, &on, 1);
    r = r.err ? r : tlv(&t, 20, fwid, 48);
    r = r.err ? r : tlv(&t, 21, &on, 1);
    r = r.err ? r : vti_buf_u16le(out, (uint16_t)t.len);
    r = r.err ? r : vti_buf_append(out, t.p, t.len);
    vti_buf_free_nowipe(&t);
    return r;
}

vt_res vti_sim_gpu_report(EVP_PKEY *leaf, const uint8_t nonce[32], const uint8_t fwid[48],
                          struct vt_buf *out)
{
    static const uint8_t hdr[] = { SPDM_V11, SPDM_MEASUREMENTS, 0x00, 0x00 };
    uint8_t rn[32], sig[SIG_LEN];
    ENSURE(RAND_bytes(rn, sizeof(rn)) == 1, VT_ERR_CRYPTO);
    GUARD(spdm_request(nonce, out));
    GUARD(vti_buf_append(out, hdr, sizeof(hdr)));
    GUARD(spdm_blocks(out));
    GUARD(vti_buf_append(out, rn, sizeof(rn)));
    GUARD(spdm_opaque(fwid, out));
    GUARD(vti_sim_sign_raw(leaf, EVP_sha384(), 48, out->p, out->len, sig));
    return vti_buf_append(out, sig, SIG_LEN);
}

/* ---- devices and the evidence JSON ---------------------------------------------------- */

struct gpu_ca {
    X509 *x[3];     /* root, identity, provisioner */
    EVP_PKEY *k[3];
};

static void ca_free(struct gpu_ca *ca)
{
    for (int i = 0; i < 3; i++) {
        X509_free(ca->x[i]);
        EVP_PKEY_free(ca->k[i]);
    }
}

static vt_res ca_load(const char *gdir, struct gpu_ca *ca)
{
    static const char *const names[] = { "root", "identity", "provisioner" };
    memset(ca, 0, sizeof(*ca));
    for (int i = 0; i < 3; i++) {
        vt_res r = load(gdir, names[i], &ca->x[i], &ca->k[i]);
        if (r.err) {
            ca_free(ca);
            return VT_FAIL(VT_ERR_SIM_GPU_DIR);
        }
    }
    return vti_ok();
}

/* Device dev's BROM CA and FMC leaf: loaded, or made (and kept) on first use. */
static vt_res device_certs(const char *gdir, const struct gpu_ca *ca, unsigned dev, X509 *x[2],
                           EVP_PKEY *k[2])
{
    char bn[32], ln[32];
    snprintf(bn, sizeof(bn), "dev%u-brom", dev);
    snprintf(ln, sizeof(ln), "dev%u-leaf", dev);
    vt_res r = load(gdir, bn, &x[0], &k[0]);
    if (!r.err)
        r = load(gdir, ln, &x[1], &k[1]);
    if (r.err != VT_ERR_NOT_FOUND)
        return r;
    X509_free(x[0]);
    EVP_PKEY_free(k[0]);
    x[0] = NULL;
    k[0] = NULL;
    uint8_t fwid[48];
    vti_sim_gpu_fwid(dev, fwid);
    GUARD(make_ca(gdir, bn, "sim GH100 A01 GSP BROM", ca->x[2], ca->k[2], 100 + dev, &x[0],
                  &k[0]));
    k[1] = keygen();
    x[1] = k[1] ? mkcert("sim GH100 A01 GSP FMC LF", k[1], x[0], k[0], 200 + dev, fwid) : NULL;
    ENSURE(x[1], VT_ERR_CRYPTO);
    return save(gdir, ln, x[1], k[1]);
}

/* The device's PEM chain leaf..root, base64. */
static vt_res chain_b64(const struct gpu_ca *ca, X509 *const dx[2], struct vt_buf *out)
{
    struct vt_buf pem = VT_BUF_INIT;
    vt_res r = vti_sim_x509_pem(dx[1], &pem);
    r = r.err ? r : vti_sim_x509_pem(dx[0], &pem);
    for (int i = 2; i >= 0 && !r.err; i--)
        r = vti_sim_x509_pem(ca->x[i], &pem);
    r = r.err ? r : vti_b64_encode(pem.p, pem.len, false, out);
    r = r.err ? r : vti_buf_cstr(out);
    vti_buf_free_nowipe(&pem);
    return r;
}

/* One device_evidence_list entry. */
static vt_res device_entry(const char *gdir, const struct gpu_ca *ca, unsigned dev,
                           const uint8_t nonce[32], json_t *list)
{
    X509 *x[2] = { NULL, NULL };
    EVP_PKEY *k[2] = { NULL, NULL };
    struct vt_buf rep = VT_BUF_INIT, ev = VT_BUF_INIT, chain = VT_BUF_INIT;
    uint8_t fwid[48];
    vti_sim_gpu_fwid(dev, fwid);
    vt_res r = device_certs(gdir, ca, dev, x, k);
    r = r.err ? r : vti_sim_gpu_report(k[1], nonce, fwid, &rep);
    r = r.err ? r : vti_b64_encode(rep.p, rep.len, false, &ev);
    r = r.err ? r : vti_buf_cstr(&ev);
    r = r.err ? r : chain_b64(ca, x, &chain);
    char uuid[64];
    snprintf(uuid, sizeof(uuid), "GPU-5e1a0000-0000-4000-8000-%012u", dev);
    json_t *e = r.err ? NULL : json_pack("{s:s, s:s, s:s, s:s}", "arch", "HOPPER", "uuid", uuid,
                                         "evidence", (const char *)ev.p, "certificate",
                                         (const char *)chain.p);
    if (!r.err && (!e || json_array_append_new(list, e) != 0))
        r = VT_FAIL(VT_ERR_NOMEM);
    for (int i = 0; i < 2; i++) {
        X509_free(x[i]);
        EVP_PKEY_free(k[i]);
    }
    vti_buf_free_nowipe(&rep);
    vti_buf_free_nowipe(&ev);
    vti_buf_free_nowipe(&chain);
    return r;
}

vt_res vti_sim_gpu_evidence(const char *dir, const uint8_t nonce[32], unsigned count,
                            struct vt_buf *out)
{
    ENSURE(dir && nonce && out, VT_ERR_INVALID_ARG);
    ENSURE(count >= 1 && count <= VTI_SIM_GPU_MAX, VT_ERR_SIM_GPU_COUNT);
    char gdir[4096];
    GUARD(gpu_dir(dir, gdir, sizeof(gdir)));
    struct gpu_ca ca;
    GUARD(ca_load(gdir, &ca));
    json_t *list = json_array();
    vt_res r = list ? vti_ok() : VT_FAIL(VT_ERR_NOMEM);
    for (unsigned i = 0; i < count && !r.err; i++)
        r = device_entry(gdir, &ca, i, nonce, list);
    json_t *top = r.err ? NULL : json_pack("{s:O}", "device_evidence_list", list);
    char *s = top ? json_dumps(top, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    if (!r.err)
        r = s ? vti_buf_append(out, s, strlen(s)) : VT_FAIL(VT_ERR_NOMEM);
    free(s);
    json_decref(top);
    json_decref(list);
    ca_free(&ca);
    return r;
}

/* ---- sim RIMs -------------------------------------------------------------------------- */

/* The active resources of one sim RIM: the VBIOS RIM indices [0, VTI_SIM_GPU_RIM_VBIOS_N),
 * the driver RIM the rest up to block VTI_SIM_GPU_BLOCKS; index i holds block i+1 of a sim
 * GPU running `driver` (the VBIOS part does not depend on the driver). */
static size_t rim_resources(enum vti_nv_rim_kind kind, const char *driver,
                            struct vti_nv_rim_resource *res)
{
    bool vb = kind == VTI_NV_RIM_VBIOS;
    unsigned lo = vb ? 0 : VTI_SIM_GPU_RIM_VBIOS_N, hi = vb ? VTI_SIM_GPU_RIM_VBIOS_N : VTI_SIM_GPU_BLOCKS;
    size_t n = 0;
    for (unsigned i = lo; i < hi; i++, n++) {
        res[n] = (struct vti_nv_rim_resource){ .index = i, .active = true, .n_alt = 1 };
        measurement_for(vb ? VTI_SIM_GPU_DRIVER : driver, i + 1, res[n].alt[0]);
    }
    return n;
}

static vt_res der_of(X509 *x, unsigned char **d, struct vti_nv_der *out)
{
    int n = i2d_X509(x, d);
    ENSURE(n > 0, VT_ERR_CRYPTO);
    *out = (struct vti_nv_der){ *d, (size_t)n };
    return vti_ok();
}

/* One signed sim RIM into path, signed by x[1]/k[1] (chain: signer, root x[0]). */
static vt_res rim_write(const char *path, enum vti_nv_rim_kind kind, const char *driver,
                        X509 *const x[2], EVP_PKEY *sk)
{
    struct vti_nv_rim_resource *res = calloc(VTI_SIM_GPU_BLOCKS, sizeof(*res));
    unsigned char *d[2] = { NULL, NULL };
    struct vti_nv_der chain[2];
    struct vt_buf xml = VT_BUF_INIT;
    vt_res r = res ? der_of(x[1], &d[0], &chain[0]) : VT_FAIL(VT_ERR_NOMEM);
    r = r.err ? r : der_of(x[0], &d[1], &chain[1]);
    if (!r.err) {
        bool vb = kind == VTI_NV_RIM_VBIOS;
        struct vti_nv_rim_sim_in in = {
            .kind = kind, .product = "GH100", .version = vb ? VTI_SIM_GPU_VBIOS : driver,
            .res = res, .n_res = rim_resources(kind, driver, res), .key = sk, .chain = chain,
            .n_chain = 2,
        };
        r = vti_nv_rim_sign_sim(&in, &xml);
    }
    r = r.err ? r : vti_file_write(path, xml.p, xml.len, 0644);
    OPENSSL_free(d[0]);
    OPENSSL_free(d[1]);
    free(res);
    vti_buf_free_nowipe(&xml);
    return r;
}

vt_res vti_sim_gpu_rims(const char *dir, const char *driver, const char *out_dir)
{
    ENSURE(dir && out_dir, VT_ERR_INVALID_ARG);
    driver = driver ? driver : VTI_SIM_GPU_DRIVER;
    ENSURE(strlen(driver) <= VTI_SIM_GPU_RIM_DRIVER_MAX, VT_ERR_INVALID_ARG);
    char gdir[4096], path[4200];
    GUARD(gpu_dir(dir, gdir, sizeof(gdir)));
    X509 *x[2] = { NULL, NULL };
    EVP_PKEY *k[2] = { NULL, NULL };
    vt_res r = load(gdir, "rim-root", &x[0], &k[0]);
    r = r.err ? r : load(gdir, "rim-signer", &x[1], &k[1]);
    if (r.err == VT_ERR_NOT_FOUND)
        r = VT_FAIL(VT_ERR_SIM_GPU_DIR);
    snprintf(path, sizeof(path), "%s/sim-gpu-driver-rim.xml", out_dir);
    r = r.err ? r : rim_write(path, VTI_NV_RIM_DRIVER, driver, x, k[1]);
    snprintf(path, sizeof(path), "%s/sim-gpu-vbios-rim.xml", out_dir);
    r = r.err ? r : rim_write(path, VTI_NV_RIM_VBIOS, driver, x, k[1]);
    for (int i = 0; i < 2; i++) {
        X509_free(x[i]);
        EVP_PKEY_free(k[i]);
    }
    return r;
}
