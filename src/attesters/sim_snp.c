/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sim_snp.c - the simulated SEV-SNP TEE ("sim-snp"): real-format SNP reports signed by a test
 * PKI shaped like AMD's. Insecure by construction: only used when named (VT_INST_EXPLICIT),
 * and its ARK is trusted only when passed explicitly as a root (DIR/root-ca.pem), which makes
 * every result "insecure": true.
 *
 * `veritee sim init DIR` (sim_init) creates in DIR/snp/:
 *   ark.pem   "ARK-Milan" test root, RSA-3072 (AMD uses RSA-4096; 3072 keeps key generation
 *             fast), self-signed with RSASSA-PSS SHA-384 / MGF1 SHA-384 / salt 48 like AMD's
 *   ask.pem   "SEV-Milan", RSA-3072, signed by the ARK (same PSS parameters)
 *   vcek.der  "SEV-VCEK", ECDSA P-384, serial 0, with the AMD extensions (structVersion,
 *             productName "Milan-B0", bl/tee/snp/spl4-7/ucode SPLs, raw 64-byte hwID)
 *   vcek.key  its private key (PKCS#8 PEM, mode 0600)
 * and returns the ARK PEM (appended to DIR/root-ca.pem by the tool). `verify --collateral DIR`
 * finds ASK and VCEK by content. Validity: 2000-01-01 .. 2099-12-31 (fixed, so the sim does
 * not depend on the clock).
 *
 * collect: a version-3 report (CPUID family 0x19 model 0x01 = Milan), policy 0x30000 (with
 * "sim.debug" = 1 also DEBUG, bit 19: the verifier reports claim "debug"), VMPL 0,
 * TCBs equal to the VCEK's SPLs, CHIP_ID = the VCEK hwID, MEASUREMENT from option
 * "sim.measurement" (hex, at most 48 bytes, zero-padded) or SHA-384("veritee sim-snp
 * workload"); signed with the VCEK key (R, S little-endian). Endorsements: the
 * SNP_GET_EXT_REPORT certificate table (VCEK, ASK, ARK) wrapped in a CBOR byte string (the
 * RA-TLS endorsements extension must hold CBOR), so RA-TLS peers need no collateral.
 */
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <errno.h>
#include <stdlib.h>

#include "attesters/sim_common.h"
#include "core/instance.h"
#include "endorsements/amd_certs.h"
#include "evidence/snp_report.h"
#include "util/codec.h"
#include "util/secmem.h"

#define SIM_SNP_TAG 0x1a7504u
#define SIM_SNP_RSA_BITS 3072
#define SIM_SNP_SEED "veritee sim-snp workload"
/* the sim platform TCB: bl 4, tee 0, snp 24, ucode 219 (>= 128: exercises the 00 pad) */
#define SIM_BL 4
#define SIM_TEE 0
#define SIM_SNP 24
#define SIM_UCODE 219

static vt_res path_in(const char *dir, const char *name, char *out, size_t outlen)
{
    return vti_sim_path(dir, "snp", name, out, outlen);
}

/* ---- certificate building (OpenSSL) ----------------------------------------------------- */

static X509_NAME *amd_name(const char *cn)
{
    X509_NAME *n = X509_NAME_new();
    if (!n)
        return NULL;
    static const char *const k[] = { "OU", "C", "L", "ST", "O" };
    static const char *const v[] = { "Engineering", "US", "Santa Clara", "CA", "Veritee sim (not AMD)" };
    for (size_t i = 0; i < 5; i++)
        if (X509_NAME_add_entry_by_txt(n, k[i], MBSTRING_ASC, (const unsigned char *)v[i], -1, -1, 0) != 1)
            goto bad;
    if (X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0) != 1)
        goto bad;
    return n;
bad:
    X509_NAME_free(n);
    return NULL;
}

static bool add_raw_ext(X509 *x, const char *oid, const uint8_t *val, size_t len)
{
    ASN1_OBJECT *o = OBJ_txt2obj(oid, 1);
    ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
    X509_EXTENSION *e = NULL;
    bool ok = o && os && ASN1_OCTET_STRING_set(os, val, (int)len) == 1 &&
              (e = X509_EXTENSION_create_by_OBJ(NULL, o, 0, os)) != NULL && X509_add_ext(x, e, -1) == 1;
    X509_EXTENSION_free(e);
    ASN1_OCTET_STRING_free(os);
    ASN1_OBJECT_free(o);
    return ok;
}

static bool add_int_ext(X509 *x, const char *oid, unsigned v)
{
    uint8_t d[4] = { 0x02, 0x01, (uint8_t)v, 0 };
    size_t n = 3;
    if (v >= 0x80) { /* DER: positive with the high bit set needs a 00 pad */
        d[1] = 2;
        d[2] = 0;
        d[3] = (uint8_t)v;
        n = 4;
    }
    return add_raw_ext(x, oid, d, n);
}

static bool add_v3(X509 *x, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX c;
    X509V3_set_ctx(&c, issuer, x, NULL, NULL, 0);
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &c, nid, value);
    bool ok = e && X509_add_ext(x, e, -1) == 1;
    X509_EXTENSION_free(e);
    return ok;
}

static bool sign_pss(X509 *x, EVP_PKEY *issuer_key)
{
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pc = NULL;
    bool ok = m && EVP_DigestSignInit(m, &pc, EVP_sha384(), NULL, issuer_key) == 1 &&
              EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PSS_PADDING) == 1 &&
              EVP_PKEY_CTX_set_rsa_pss_saltlen(pc, 48) == 1 &&
              EVP_PKEY_CTX_set_rsa_mgf1_md(pc, EVP_sha384()) == 1 && X509_sign_ctx(x, m) > 0;
    EVP_MD_CTX_free(m);
    return ok;
}

/* A certificate for key (public part) named cn, issued by issuer (NULL: self-signed). */
static X509 *make_cert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *issuer_key,
                       long serial, bool ca, const char *pathlen)
{
    X509 *x = X509_new();
    X509_NAME *n = amd_name(cn);
    bool ok = x && n && X509_set_version(x, 2) == 1 &&
              ASN1_INTEGER_set(X509_get_serialNumber(x), serial) == 1 &&
              X509_set_subject_name(x, n) == 1 &&
              X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : n) == 1 &&
              ASN1_TIME_set_string(X509_getm_notBefore(x), "20000101000000Z") == 1 &&
              ASN1_TIME_set_string(X509_getm_notAfter(x), "20991231235959Z") == 1 &&
              X509_set_pubkey(x, key) == 1;
    if (ok && ca) {
        ok = add_v3(x, issuer ? issuer : x, NID_basic_constraints, pathlen) &&
             add_v3(x, issuer ? issuer : x, NID_key_usage, "critical,keyCertSign,cRLSign") &&
             add_v3(x, issuer ? issuer : x, NID_subject_key_identifier, "hash");
    }
    X509_NAME_free(n);
    if (!ok) {
        X509_free(x);
        return NULL;
    }
    return x;
}

static vt_res write_x509_pem(const char *path, X509 *x, struct vt_buf *also)
{
    struct vt_buf pem = VT_BUF_INIT;
    vt_res r = vti_sim_x509_pem(x, &pem);
    if (vti_is_ok(r))
        r = vti_file_write(path, pem.p, pem.len, 0644);
    if (vti_is_ok(r) && also)
        r = vti_buf_append(also, pem.p, pem.len);
    vti_buf_free_nowipe(&pem);
    return r;
}

static vt_res sim_snp_init(const char *dir, struct vt_buf *roots_pem)
{
    char path[4096];
    vt_res r = vti_ok();
    EVP_PKEY *ark_k = NULL, *ask_k = NULL, *vcek_k = NULL;
    X509 *ark = NULL, *ask = NULL, *vcek = NULL;
    unsigned char *der = NULL;
    BIO *kb = NULL;
    uint8_t hwid[64];

    GUARD(path_in(dir, "", path, sizeof(path)));
    ENSURE(mkdir(path, 0700) == 0 || errno == EEXIST, VT_ERR_IO);
    ENSURE(RAND_bytes(hwid, sizeof(hwid)) == 1, VT_ERR_CRYPTO);

    ark_k = EVP_RSA_gen(SIM_SNP_RSA_BITS);
    ask_k = EVP_RSA_gen(SIM_SNP_RSA_BITS);
    vcek_k = EVP_EC_gen("secp384r1");
    ENSURE_GOTO(ark_k && ask_k && vcek_k, VT_ERR_CRYPTO, r, done);

    ark = make_cert(ark_k, "ARK-Milan", NULL, NULL, 0x10000, true, "critical,CA:TRUE");
    ENSURE_GOTO(ark && sign_pss(ark, ark_k), VT_ERR_CRYPTO, r, done);
    ask = make_cert(ask_k, "SEV-Milan", ark, ark_k, 0x10001, true, "critical,CA:TRUE,pathlen:0");
    ENSURE_GOTO(ask && sign_pss(ask, ark_k), VT_ERR_CRYPTO, r, done);
    vcek = make_cert(vcek_k, "SEV-VCEK", ask, ask_k, 0, false, NULL);
    ENSURE_GOTO(vcek, VT_ERR_CRYPTO, r, done);
    static const uint8_t product[] = { 0x16, 8, 'M', 'i', 'l', 'a', 'n', '-', 'B', '0' };
    bool ok = add_int_ext(vcek, "1.3.6.1.4.1.3704.1.1", 0) &&
              add_raw_ext(vcek, "1.3.6.1.4.1.3704.1.2", product, sizeof(product)) &&
              add_int_ext(vcek, "1.3.6.1.4.1.3704.1.3.1", SIM_BL) &&
              add_int_ext(vcek, "1.3.6.1.4.1.3704.1.3.2", SIM_TEE) &&
              add_int_ext(vcek, "1.3.6.1.4.1.3704.1.3.4", 0) &&
              add_int_ext(vcek, "1.3.6.1.4.1.3704.1.3.5", 0) &&
              add_int_ext(vcek, "1.3.6.1.4.1.3704.1.3.6", 0) &&
              add_int_ext(vcek, "1.3.6.1.4.1.3704.1.3.7", 0) &&
              add_int_ext(vcek, "1.3.6.1.4.1.3704.1.3.3", SIM_SNP) &&
              add_int_ext(vcek, "1.3.6.1.4.1.3704.1.3.8", SIM_UCODE) &&
              add_raw_ext(vcek, "1.3.6.1.4.1.3704.1.4", hwid, sizeof(hwid)) &&
              sign_pss(vcek, ask_k);
    ENSURE_GOTO(ok, VT_ERR_CRYPTO, r, done);

    GUARD_GOTO(path_in(dir, "ark.pem", path, sizeof(path)), r, done);
    GUARD_GOTO(write_x509_pem(path, ark, roots_pem), r, done);
    GUARD_GOTO(path_in(dir, "ask.pem", path, sizeof(path)), r, done);
    GUARD_GOTO(write_x509_pem(path, ask, NULL), r, done);
    int n = i2d_X509(vcek, &der);
    ENSURE_GOTO(n > 0, VT_ERR_CRYPTO, r, done);
    GUARD_GOTO(path_in(dir, "vcek.der", path, sizeof(path)), r, done);
    GUARD_GOTO(vti_file_write(path, der, (size_t)n, 0644), r, done);
    kb = BIO_new(BIO_s_secmem());
    ENSURE_GOTO(kb && PEM_write_bio_PrivateKey(kb, vcek_k, NULL, NULL, 0, NULL, NULL) == 1,
                VT_ERR_CRYPTO, r, done);
    char *kp;
    long kn = BIO_get_mem_data(kb, &kp);
    GUARD_GOTO(path_in(dir, "vcek.key", path, sizeof(path)), r, done);
    GUARD_GOTO(vti_file_write(path, kp, (size_t)kn, 0600), r, done);
done:
    BIO_free(kb);
    OPENSSL_free(der);
    X509_free(ark);
    X509_free(ask);
    X509_free(vcek);
    EVP_PKEY_free(ark_k);
    EVP_PKEY_free(ask_k);
    EVP_PKEY_free(vcek_k);
    return r;
}

/* ---- report building ------------------------------------------------------------------------ */

static vt_res measurement(const struct vti_attest_ctx *ctx, uint8_t m[48])
{
    const char *s = vti_option(ctx, "sim.measurement", NULL);
    if (!s) {
        unsigned int n = 0;
        ENSURE(EVP_Digest(SIM_SNP_SEED, strlen(SIM_SNP_SEED), m, &n, EVP_sha384(), NULL) == 1 &&
                   n == 48, VT_ERR_CRYPTO);
        return vti_ok();
    }
    return vti_sim_measurement_hex(s, strlen(s), 48, m);
}

static vt_res read_sim(const char *dir, const char *name, struct vt_buf *out)
{
    return vti_sim_read(dir, "snp", name, out);
}

/* Serialise the report fields (0x000..0x29F) per the ATTESTATION_REPORT table. */
static vt_res build_body(struct vt_buf *b, const uint8_t rd[64], const uint8_t m[48],
                         const uint8_t chip[64], uint64_t tcb, bool debug)
{
    uint8_t rid[32];
    ENSURE(RAND_bytes(rid, sizeof(rid)) == 1, VT_ERR_CRYPTO);
    GUARD(vti_buf_u32le(b, 3));                 /* VERSION */
    GUARD(vti_buf_u32le(b, 0));                 /* GUEST_SVN */
    GUARD(vti_buf_u64le(b, 0x30000 | (debug ? VT_SNP_POLICY_DEBUG : 0))); /* POLICY: SMT, reserved-1 */
    GUARD(vti_buf_zeros(b, 32));                /* FAMILY_ID, IMAGE_ID */
    GUARD(vti_buf_u32le(b, 0));                 /* VMPL */
    GUARD(vti_buf_u32le(b, 1));                 /* SIGNATURE_ALGO */
    GUARD(vti_buf_u64le(b, tcb));               /* CURRENT_TCB */
    GUARD(vti_buf_u64le(b, 1));                 /* PLATFORM_INFO: SMT_EN */
    GUARD(vti_buf_u32le(b, 0));                 /* flags: VCEK */
    GUARD(vti_buf_zeros(b, 4));
    GUARD(vti_buf_append(b, rd, 64));           /* REPORT_DATA */
    GUARD(vti_buf_append(b, m, 48));            /* MEASUREMENT */
    GUARD(vti_buf_zeros(b, 32 + 48 + 48));      /* HOST_DATA, ID_KEY_DIGEST, AUTHOR_KEY_DIGEST */
    GUARD(vti_buf_append(b, rid, 32));          /* REPORT_ID */
    for (int i = 0; i < 32; i++)
        GUARD(vti_buf_u8(b, 0xff));             /* REPORT_ID_MA: none */
    GUARD(vti_buf_u64le(b, tcb));               /* REPORTED_TCB */
    GUARD(vti_buf_u8(b, 0x19));                 /* CPUID family, model, stepping: Milan */
    GUARD(vti_buf_u8(b, 0x01));
    GUARD(vti_buf_u8(b, 0x01));
    GUARD(vti_buf_zeros(b, 21));
    GUARD(vti_buf_append(b, chip, 64));         /* CHIP_ID */
    GUARD(vti_buf_u64le(b, tcb));               /* COMMITTED_TCB */
    static const uint8_t ver[8] = { 29, 55, 1, 0, 29, 55, 1, 0 }; /* 1.55.29 */
    GUARD(vti_buf_append(b, ver, 8));
    GUARD(vti_buf_u64le(b, tcb));               /* LAUNCH_TCB */
    GUARD(vti_buf_zeros(b, VT_SNP_SIGNED_LEN - 0x1f8));
    ENSURE(b->len == VT_SNP_SIGNED_LEN, VT_ERR_INTERNAL);
    return vti_ok();
}

static vt_res sign_report(EVP_PKEY *k, struct vt_buf *b)
{
    unsigned char sig[160];
    size_t slen = sizeof(sig);
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    bool ok = m && EVP_DigestSignInit(m, NULL, EVP_sha384(), NULL, k) == 1 &&
              EVP_DigestSign(m, sig, &slen, b->p, b->len) == 1;
    EVP_MD_CTX_free(m);
    ENSURE(ok, VT_ERR_CRYPTO);
    const unsigned char *q = sig;
    ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &q, (long)slen);
    ENSURE(es, VT_ERR_CRYPTO);
    uint8_t rs[144];
    ok = BN_bn2lebinpad(ECDSA_SIG_get0_r(es), rs, 72) == 72 &&
         BN_bn2lebinpad(ECDSA_SIG_get0_s(es), rs + 72, 72) == 72;
    ECDSA_SIG_free(es);
    ENSURE(ok, VT_ERR_CRYPTO);
    GUARD(vti_buf_append(b, rs, sizeof(rs)));
    return vti_buf_zeros(b, 512 - 144);
}

static vt_res sim_snp_collect(const struct vti_attest_ctx *ctx, const uint8_t report_data[64],
                              struct vt_buf *evidence, struct vt_buf *endorsements)
{
    const char *dir = vti_sim_dir(ctx);
    ENSURE(dir, VT_ERR_SIM_NO_DIR);
    uint8_t m[48];
    bool debug = false;
    GUARD(measurement(ctx, m));
    GUARD(vti_sim_debug(ctx, &debug));
    vt_res r = vti_ok();
    struct vt_buf keypem = VT_BUF_INIT, vcek = VT_BUF_INIT, askf = VT_BUF_INIT, arkf = VT_BUF_INIT;
    struct vt_buf body = VT_BUF_INIT;
    struct vt_amd_blobs ask = { 0 }, ark = { 0 };
    EVP_PKEY *k = NULL;
    X509 *x = NULL;
    GUARD_GOTO(read_sim(dir, "vcek.key", &keypem), r, done);
    GUARD_GOTO(read_sim(dir, "vcek.der", &vcek), r, done);
    GUARD_GOTO(read_sim(dir, "ask.pem", &askf), r, done);
    GUARD_GOTO(read_sim(dir, "ark.pem", &arkf), r, done);
    BIO *kb = BIO_new_mem_buf(keypem.p, (int)keypem.len);
    k = kb ? PEM_read_bio_PrivateKey(kb, NULL, NULL, NULL) : NULL;
    BIO_free(kb);
    ENSURE_GOTO(k, VT_ERR_SIM_DIR_INVALID, r, done);
    const unsigned char *q = vcek.p;
    x = d2i_X509(NULL, &q, (long)vcek.len);
    ENSURE_GOTO(x, VT_ERR_SIM_DIR_INVALID, r, done);
    struct vt_amd_key_ext e;
    GUARD_GOTO(vti_amd_key_ext_parse(x, &e), r, done);
    ENSURE_GOTO(e.hwid_len == 64, VT_ERR_SIM_DIR_INVALID, r, done);
    uint64_t tcb = (uint64_t)e.bl | ((uint64_t)e.tee << 8) | ((uint64_t)e.snp << 48) |
                   ((uint64_t)e.ucode << 56);
    GUARD_GOTO(build_body(&body, report_data, m, e.hwid, tcb, debug), r, done);
    GUARD_GOTO(sign_report(k, &body), r, done);
    ENSURE_GOTO(body.len == VT_SNP_REPORT_LEN, VT_ERR_INTERNAL, r, done);
    size_t added;
    GUARD_GOTO(vti_amd_blobs_add_content(&ask, askf.p, askf.len, &added), r, done);
    GUARD_GOTO(vti_amd_blobs_add_content(&ark, arkf.p, arkf.len, &added), r, done);
    ENSURE_GOTO(ask.n == 1 && ark.n == 1, VT_ERR_SIM_DIR_INVALID, r, done);
    GUARD_GOTO(vti_buf_append(evidence, body.p, body.len), r, done);
    if (endorsements) {
        struct vt_amd_table_entry t[3] = {
            { vt_amd_guid_vcek, vcek.p, vcek.len },
            { vt_amd_guid_ask, ask.der[0].p, ask.der[0].len },
            { vt_amd_guid_ark, ark.der[0].p, ark.der[0].len },
        };
        struct vt_buf tab = VT_BUF_INIT;
        r = vti_amd_cert_table_build(t, 3, &tab);
        if (vti_is_ok(r))
            r = vti_amd_endorsements_wrap(tab.p, tab.len, endorsements);
        vti_buf_free_nowipe(&tab);
        GUARD_GOTO(r, r, done);
    }
done:
    X509_free(x);
    EVP_PKEY_free(k);
    vti_buf_free(&keypem);
    vti_buf_free_nowipe(&vcek);
    vti_buf_free_nowipe(&askf);
    vti_buf_free_nowipe(&arkf);
    vti_buf_free_nowipe(&body);
    vti_amd_blobs_free(&ask);
    vti_amd_blobs_free(&ark);
    return r;
}

static const char *const sim_snp_options[] = { "sim.measurement", "sim.debug", NULL };
static const struct vt_attester_ops sim_snp_attester = {
    .hdr = { VT_INSTANCE_ABI, VT_KIND_ATTESTER, "sim-snp", 0, VT_INST_EXPLICIT, sim_snp_options },
    .tee = "snp",
    .cbor_tag = SIM_SNP_TAG,
    .detect = NULL,
    .collect = sim_snp_collect,
    .sim_init = sim_snp_init,
};
const struct vt_instance_hdr *const vt_inst_sim_snp_attester = &sim_snp_attester.hdr;
