/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tpm_test.c - TPM 2.0 parsers (TPMS_ATTEST, TPMT_SIGNATURE, TPMT_PUBLIC / TPM2B_PUBLIC) and
 * the quote verifier: real GCE quotes of the SHA-1, SHA-256 and SHA-384 banks (pcrDigest with
 * the signing scheme's SHA-256), Trustee's TPM evidence, Azure's orphan quote; then every
 * refusal's exact code at each cap and one past it, and RSASSA-PSS / ECDSA quotes signed here.
 */
#include <jansson.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <string.h>

#include "evidence/tpm.h"
#include "util/codec.h"
#include "verifiers/tpm_quote.h"
#include "vt_test.h"

static void be16(struct vt_buf *b, uint16_t v)
{
    CHECK_OK(vti_buf_u8(b, (uint8_t)(v >> 8)));
    CHECK_OK(vti_buf_u8(b, (uint8_t)v));
}
static void be32(struct vt_buf *b, uint32_t v)
{
    be16(b, (uint16_t)(v >> 16));
    be16(b, (uint16_t)v);
}
static void tpm2b(struct vt_buf *b, size_t n, uint8_t fill)
{
    be16(b, (uint16_t)n);
    for (size_t i = 0; i < n; i++)
        CHECK_OK(vti_buf_u8(b, fill));
}

/* ---- TPMS_ATTEST ---------------------------------------------------------------------- */

struct attest_spec {
    uint32_t magic;
    uint16_t type;
    size_t name, extra, digest;
    uint32_t banks;
    uint16_t hash;
    uint8_t select;
    const uint8_t *extra_bytes;
};

static struct attest_spec attest_default(void)
{
    return (struct attest_spec){ VT_TPM_GENERATED_VALUE, VT_TPM_ST_ATTEST_QUOTE, 34, 9, 32, 1,
                                 VT_TPM_ALG_SHA256, 3, NULL };
}

static struct vt_buf attest_build(const struct attest_spec *s, const uint8_t *digest)
{
    struct vt_buf b = VT_BUF_INIT;
    be32(&b, s->magic);
    be16(&b, s->type);
    tpm2b(&b, s->name, 0xaa);
    if (s->extra_bytes) {
        be16(&b, (uint16_t)s->extra);
        CHECK_OK(vti_buf_append(&b, s->extra_bytes, s->extra));
    } else {
        tpm2b(&b, s->extra, 0x63);
    }
    CHECK_OK(vti_buf_zeros(&b, 8 + 4 + 4));
    CHECK_OK(vti_buf_u8(&b, 1));
    CHECK_OK(vti_buf_zeros(&b, 8));
    be32(&b, s->banks);
    for (uint32_t i = 0; i < s->banks && i < 16; i++) {
        be16(&b, s->hash);
        CHECK_OK(vti_buf_u8(&b, s->select));
        for (unsigned j = 0; j < s->select; j++)
            CHECK_OK(vti_buf_u8(&b, j < 3 ? 0xff : 0));
    }
    if (digest) {
        be16(&b, (uint16_t)s->digest);
        CHECK_OK(vti_buf_append(&b, digest, s->digest));
    } else {
        tpm2b(&b, s->digest, 0x11);
    }
    return b;
}

static int attest_code(struct attest_spec s)
{
    struct vt_buf b = attest_build(&s, NULL);
    struct vt_tpms_attest a;
    int e = vti_tpms_attest_parse(b.p, b.len, &a).err;
    vti_buf_free(&b);
    return e;
}

static void test_attest_refusals(void)
{
    struct attest_spec s = attest_default();
    CHECK_OK(attest_code(s));
    s.magic ^= 1;
    CHECK_ERR(attest_code(s), VT_ERR_TPM_ATTEST_MAGIC);
    s = attest_default();
    s.type = 0x8017;
    CHECK_ERR(attest_code(s), VT_ERR_TPM_ATTEST_TYPE);
    s = attest_default();
    s.name = VT_TPM_MAX_NAME;
    CHECK_OK(attest_code(s));
    s.name++;
    CHECK_ERR(attest_code(s), VT_ERR_TPM_NAME_SIZE);
    s = attest_default();
    s.extra = VT_TPM_MAX_DATA;
    CHECK_OK(attest_code(s));
    s.extra++;
    CHECK_ERR(attest_code(s), VT_ERR_TPM_EXTRA_DATA_SIZE);
    s = attest_default();
    s.banks = VT_TPM_MAX_BANKS;
    CHECK_OK(attest_code(s));
    s.banks++;
    CHECK_ERR(attest_code(s), VT_ERR_TPM_PCR_SEL_COUNT);
    s.banks = 0;
    CHECK_ERR(attest_code(s), VT_ERR_TPM_PCR_SEL_COUNT);
    s = attest_default();
    s.select = VT_TPM_MAX_SELECT;
    CHECK_OK(attest_code(s));
    s.select++;
    CHECK_ERR(attest_code(s), VT_ERR_TPM_PCR_SEL_SIZE);
    s.select = 0;
    CHECK_ERR(attest_code(s), VT_ERR_TPM_PCR_SEL_SIZE);
    s = attest_default();
    s.hash = 0x0005;
    CHECK_ERR(attest_code(s), VT_ERR_TPM_PCR_SEL_HASH);
    s = attest_default();
    s.digest = 64;
    CHECK_OK(attest_code(s));
    s.digest++;
    CHECK_ERR(attest_code(s), VT_ERR_TPM_PCR_DIGEST_SIZE);
    /* every truncation, and one byte too many */
    s = attest_default();
    struct vt_buf b = attest_build(&s, NULL);
    struct vt_tpms_attest a;
    int bad = 0;
    for (size_t n = 0; n < b.len; n++)
        bad += vti_tpms_attest_parse(b.p, n, &a).err != VT_ERR_TRUNCATED;
    CHECK(bad == 0);
    CHECK_OK(vti_buf_u8(&b, 0));
    CHECK_ERR(vti_tpms_attest_parse(b.p, b.len, &a), VT_ERR_TRAILING_DATA);
    vti_buf_free(&b);
}

/* ---- TPMT_SIGNATURE ----------------------------------------------------------------- */

static int sig_code(uint16_t alg, uint16_t hash, size_t a, size_t b)
{
    struct vt_buf s = VT_BUF_INIT;
    struct vt_tpmt_signature t;
    be16(&s, alg);
    be16(&s, hash);
    tpm2b(&s, a, 1);
    if (alg == VT_TPM_ALG_ECDSA)
        tpm2b(&s, b, 2);
    int e = vti_tpmt_signature_parse(s.p, s.len, &t).err;
    vti_buf_free(&s);
    return e;
}

static void test_signature_refusals(void)
{
    CHECK_OK(sig_code(VT_TPM_ALG_RSASSA, VT_TPM_ALG_SHA256, 256, 0));
    CHECK_OK(sig_code(VT_TPM_ALG_RSAPSS, VT_TPM_ALG_SHA384, VT_TPM_MAX_RSA, 0));
    CHECK_ERR(sig_code(VT_TPM_ALG_RSAPSS, VT_TPM_ALG_SHA384, VT_TPM_MAX_RSA + 1, 0),
              VT_ERR_TPM_SIG_RSA_SIZE);
    CHECK_ERR(sig_code(VT_TPM_ALG_RSASSA, VT_TPM_ALG_SHA256, 0, 0), VT_ERR_TPM_SIG_RSA_SIZE);
    CHECK_OK(sig_code(VT_TPM_ALG_ECDSA, VT_TPM_ALG_SHA512, VT_TPM_MAX_ECC, VT_TPM_MAX_ECC));
    CHECK_ERR(sig_code(VT_TPM_ALG_ECDSA, VT_TPM_ALG_SHA512, VT_TPM_MAX_ECC + 1, 32),
              VT_ERR_TPM_SIG_ECC_SIZE);
    CHECK_ERR(sig_code(VT_TPM_ALG_ECDSA, VT_TPM_ALG_SHA256, 32, 0), VT_ERR_TPM_SIG_ECC_SIZE);
    CHECK_ERR(sig_code(VT_TPM_ALG_RSA, VT_TPM_ALG_SHA256, 32, 0), VT_ERR_TPM_SIG_ALG);
    CHECK_ERR(sig_code(VT_TPM_ALG_RSASSA, 0x0005, 256, 0), VT_ERR_TPM_SIG_HASH);
    struct vt_tpmt_signature t;
    const uint8_t trunc[] = { 0x00, 0x14, 0x00, 0x0b, 0x01, 0x00, 0xaa };
    CHECK_ERR(vti_tpmt_signature_parse(trunc, sizeof(trunc), &t), VT_ERR_TRUNCATED);
}

/* ---- TPMT_PUBLIC ---------------------------------------------------------------------- */

struct pub_spec {
    uint16_t type, name_alg;
    size_t policy;
    uint16_t sym, scheme, key_bits;
    size_t n_len;
    uint16_t curve, kdf;
    size_t x_len, y_len;
    const uint8_t *n, *x, *y; /* key material, or filled */
};

static struct pub_spec rsa_spec(void)
{
    return (struct pub_spec){ VT_TPM_ALG_RSA, VT_TPM_ALG_SHA256, 0, VT_TPM_ALG_NULL,
                              VT_TPM_ALG_RSASSA, 2048, 256, 0, 0, 0, 0, NULL, NULL, NULL };
}
static struct pub_spec ecc_spec(void)
{
    return (struct pub_spec){ VT_TPM_ALG_ECC, VT_TPM_ALG_SHA256, 32, VT_TPM_ALG_NULL,
                              VT_TPM_ALG_ECDSA, 0, 0, VT_TPM_ECC_NIST_P256, VT_TPM_ALG_NULL,
                              32, 32, NULL, NULL, NULL };
}

static void bytes_or_fill(struct vt_buf *b, const uint8_t *p, size_t n, uint8_t fill)
{
    if (!p) {
        tpm2b(b, n, fill);
        return;
    }
    be16(b, (uint16_t)n);
    CHECK_OK(vti_buf_append(b, p, n));
}

static struct vt_buf pub_build(const struct pub_spec *s)
{
    struct vt_buf b = VT_BUF_INIT;
    be16(&b, s->type);
    be16(&b, s->name_alg);
    be32(&b, 0x00050072);
    tpm2b(&b, s->policy, 0x83);
    be16(&b, s->sym);
    if (s->sym != VT_TPM_ALG_NULL) {
        be16(&b, 128);
        be16(&b, 0x0043);
    }
    be16(&b, s->scheme);
    if (s->scheme != VT_TPM_ALG_NULL && s->scheme != VT_TPM_ALG_RSAES)
        be16(&b, VT_TPM_ALG_SHA256);
    if (s->type == VT_TPM_ALG_ECC) {
        be16(&b, s->curve);
        be16(&b, s->kdf);
        if (s->kdf != VT_TPM_ALG_NULL)
            be16(&b, VT_TPM_ALG_SHA256);
        bytes_or_fill(&b, s->x, s->x_len, 0x42);
        bytes_or_fill(&b, s->y, s->y_len, 0x43);
    } else {
        be16(&b, s->key_bits);
        be32(&b, 0);
        bytes_or_fill(&b, s->n, s->n_len, 0xc5);
    }
    return b;
}

static int pub_code(struct pub_spec s)
{
    struct vt_buf b = pub_build(&s);
    struct vt_tpmt_public k;
    int e = vti_tpmt_public_parse(b.p, b.len, &k).err;
    vti_buf_free(&b);
    return e;
}

static void test_public_refusals(void)
{
    struct pub_spec s = rsa_spec();
    CHECK_OK(pub_code(s));
    s.type = 0x0008;
    CHECK_ERR(pub_code(s), VT_ERR_TPM_PUBLIC_TYPE);
    s = rsa_spec();
    s.name_alg = 0x0005;
    CHECK_ERR(pub_code(s), VT_ERR_TPM_PUBLIC_NAME_ALG);
    s = rsa_spec();
    s.policy = 64;
    CHECK_OK(pub_code(s));
    s.policy = 65;
    CHECK_ERR(pub_code(s), VT_ERR_TPM_PUBLIC_POLICY_SIZE);
    s = rsa_spec();
    s.sym = VT_TPM_ALG_AES;
    CHECK_OK(pub_code(s));
    s.sym = 0x0025;
    CHECK_ERR(pub_code(s), VT_ERR_TPM_PUBLIC_SYM);
    s = rsa_spec();
    s.scheme = VT_TPM_ALG_RSAES;
    CHECK_OK(pub_code(s));
    s.scheme = 0x0099;
    CHECK_ERR(pub_code(s), VT_ERR_TPM_PUBLIC_SCHEME);
    s = rsa_spec();
    s.key_bits = 4096;
    s.n_len = 512;
    CHECK_OK(pub_code(s));
    s.key_bits = 4104;
    s.n_len = 513;
    CHECK_ERR(pub_code(s), VT_ERR_TPM_PUBLIC_RSA_BITS);
    s = rsa_spec();
    s.n_len = 255;
    CHECK_ERR(pub_code(s), VT_ERR_TPM_PUBLIC_RSA_BITS);
    s = ecc_spec();
    CHECK_OK(pub_code(s));
    s.curve = 0x0010;
    CHECK_ERR(pub_code(s), VT_ERR_TPM_PUBLIC_ECC_CURVE);
    s = ecc_spec();
    s.kdf = VT_TPM_ALG_KDF2;
    CHECK_OK(pub_code(s));
    s.kdf = 0x0099;
    CHECK_ERR(pub_code(s), VT_ERR_TPM_PUBLIC_KDF);
    s = ecc_spec();
    s.x_len = 33;
    CHECK_ERR(pub_code(s), VT_ERR_TPM_PUBLIC_ECC_POINT);
    s = ecc_spec();
    s.y_len = 0;
    CHECK_ERR(pub_code(s), VT_ERR_TPM_PUBLIC_ECC_POINT);
    s = ecc_spec();
    s.curve = VT_TPM_ECC_NIST_P521;
    s.x_len = s.y_len = 66;
    CHECK_OK(pub_code(s));
    s.x_len = 67;
    CHECK_ERR(pub_code(s), VT_ERR_TPM_PUBLIC_ECC_POINT);
    /* TPM2B_PUBLIC: exact size, one less, one more */
    s = rsa_spec();
    struct vt_buf t = pub_build(&s), b2 = VT_BUF_INIT;
    struct vt_tpmt_public k;
    be16(&b2, (uint16_t)t.len);
    CHECK_OK(vti_buf_append(&b2, t.p, t.len));
    CHECK_OK(vti_tpm2b_public_parse(b2.p, b2.len, &k));
    CHECK(k.type == VT_TPM_ALG_RSA && k.key_bits == 2048 && k.n_len == 256);
    b2.p[1]--;
    CHECK_ERR(vti_tpm2b_public_parse(b2.p, b2.len, &k), VT_ERR_TPM_PUBLIC_SIZE);
    CHECK_ERR(vti_tpm2b_public_parse(b2.p, b2.len - 1, &k), VT_ERR_TPM_PUBLIC_SIZE);
    b2.p[1] += 2;
    CHECK_ERR(vti_tpm2b_public_parse(b2.p, b2.len, &k), VT_ERR_TPM_PUBLIC_SIZE);
    CHECK_OK(vti_buf_u8(&t, 0));
    CHECK_ERR(vti_tpmt_public_parse(t.p, t.len, &k), VT_ERR_TRAILING_DATA);
    vti_buf_free(&t);
    vti_buf_free(&b2);
}

/* ---- quote verification: real GCE quotes ----------------------------------------------- */

struct pcrs {
    uint8_t v[24][48];
    struct vti_tpm_pcr_bank bank;
};

static void load_pcrs(const char *file, uint16_t hash, struct pcrs *p)
{
    struct vt_buf b = vt_testdata_read(file);
    json_t *o = json_loadb((const char *)b.p, b.len, 0, NULL);
    json_t *m = json_object_get(o, "pcrs");
    size_t sz = vti_tpm_hash_size(hash);
    memset(p, 0, sizeof(*p));
    p->bank.hash = hash;
    for (int i = 0; i < 24; i++) {
        char k[8];
        snprintf(k, sizeof(k), "%d", i);
        json_t *v = json_object_get(m, k);
        if (v && vti_is_ok(vti_hex_decode_fixed(json_string_value(v), p->v[i], sz)))
            p->bank.v[i] = p->v[i];
    }
    CHECK(p->bank.v[23] != NULL);
    json_decref(o);
    vti_buf_free(&b);
}

static EVP_PKEY *gce_ak(void)
{
    struct vt_buf b = vt_testdata_read("tpm/gotpm_gce_cos85_nonce9009_ak_pub.tpmt");
    struct vt_tpmt_public k;
    EVP_PKEY *pk = NULL;
    CHECK_OK(vti_tpmt_public_parse(b.p, b.len, &k));
    CHECK(k.type == VT_TPM_ALG_RSA && k.key_bits == 2048 && k.scheme == VT_TPM_ALG_RSASSA &&
          k.scheme_hash == VT_TPM_ALG_SHA256);
    CHECK_OK(vti_tpm_public_to_pkey(&k, &pk));
    vti_buf_free(&b);
    return pk;
}

static void gce_bank(EVP_PKEY *ak, const char *bank, uint16_t hash)
{
    char f[128];
    static const uint8_t nonce[2] = { 0x90, 0x09 }, wrong[2] = { 0x90, 0x08 };
    snprintf(f, sizeof(f), "tpm/gotpm_gce_cos85_nonce9009_quote_%s.attest", bank);
    struct vt_buf msg = vt_testdata_read(f);
    snprintf(f, sizeof(f), "tpm/gotpm_gce_cos85_nonce9009_quote_%s.sig", bank);
    struct vt_buf sig = vt_testdata_read(f);
    snprintf(f, sizeof(f), "tpm/gotpm_gce_cos85_nonce9009_pcrs_%s.json", bank);
    struct pcrs p;
    load_pcrs(f, hash, &p);
    struct vti_tpm_quote_in in = { .ak = ak, .msg = msg.p, .msg_len = msg.len, .sig = sig.p,
                                   .sig_len = sig.len, .nonce = nonce, .nonce_len = 2,
                                   .banks = &p.bank, .n_banks = 1 };
    struct vt_tpms_attest a;
    struct vt_report *rep = vti_report_new();
    CHECK_OK(vti_tpm_quote_verify(&in, rep, &a));
    CHECK(a.n_sel == 1 && a.sel[0].hash == hash && a.sel[0].size == 3 && a.extra_data_len == 2);
    CHECK(rep->nsteps == 4);
    vt_report_free(rep);
    in.nonce = wrong;
    CHECK_ERR(vti_tpm_quote_verify(&in, NULL, &a), VT_ERR_TPM_NONCE_MISMATCH);
    in.nonce = nonce;
    p.v[7][0] ^= 1;
    CHECK_ERR(vti_tpm_quote_verify(&in, NULL, &a), VT_ERR_TPM_PCR_DIGEST_MISMATCH);
    p.v[7][0] ^= 1;
    p.bank.v[5] = NULL;
    CHECK_ERR(vti_tpm_quote_verify(&in, NULL, &a), VT_ERR_TPM_PCR_MISSING);
    p.bank.v[5] = p.v[5];
    p.bank.hash = hash == VT_TPM_ALG_SHA1 ? VT_TPM_ALG_SHA256 : VT_TPM_ALG_SHA1;
    CHECK_ERR(vti_tpm_quote_verify(&in, NULL, &a), VT_ERR_TPM_PCR_BANK);
    p.bank.hash = hash;
    msg.p[30] ^= 1;
    CHECK_ERR(vti_tpm_quote_verify(&in, NULL, &a), VT_ERR_TPM_QUOTE_SIGNATURE);
    msg.p[30] ^= 1;
    sig.p[11] ^= 1;
    CHECK_ERR(vti_tpm_quote_verify(&in, NULL, &a), VT_ERR_TPM_QUOTE_SIGNATURE);
    sig.p[11] ^= 1;
    in.sig_raw_rsa_sha256 = true; /* a TPMT_SIGNATURE is not a raw signature */
    CHECK_ERR(vti_tpm_quote_verify(&in, NULL, &a), VT_ERR_TPM_QUOTE_SIGNATURE);
    vti_buf_free(&msg);
    vti_buf_free(&sig);
}

static void test_gce(void)
{
    EVP_PKEY *ak = gce_ak();
    gce_bank(ak, "sha1", VT_TPM_ALG_SHA1);
    gce_bank(ak, "sha256", VT_TPM_ALG_SHA256);
    gce_bank(ak, "sha384", VT_TPM_ALG_SHA384);
    EVP_PKEY_free(ak);
}

static void b64_field(json_t *o, const char *k, struct vt_buf *out)
{
    json_t *v = json_object_get(o, k);
    CHECK_OK(vti_b64_decode(json_string_value(v), json_string_length(v), false, out));
}

static void test_trustee_tpm(void)
{
    struct vt_buf f = vt_testdata_read("tpm/trustee_tpm_evidence.json");
    json_t *o = json_loadb((const char *)f.p, f.len, 0, NULL), *q = json_object_get(o, "tpm_quote");
    struct vt_buf spki = VT_BUF_INIT, msg = VT_BUF_INIT, sig = VT_BUF_INIT;
    b64_field(o, "ak_public", &spki);
    b64_field(q, "message", &msg);
    b64_field(q, "signature", &sig);
    const unsigned char *sp = spki.p;
    EVP_PKEY *ak = d2i_PUBKEY(NULL, &sp, (long)spki.len);
    CHECK(ak != NULL);
    struct pcrs p = { .bank.hash = VT_TPM_ALG_SHA256 };
    for (size_t i = 0; i < 24; i++) {
        json_t *v = json_array_get(json_object_get(q, "pcrs"), i);
        CHECK_OK(vti_hex_decode_fixed(json_string_value(v), p.v[i], 32));
        p.bank.v[i] = p.v[i];
    }
    struct vt_tpms_attest a;
    CHECK_OK(vti_tpms_attest_parse(msg.p, msg.len, &a));
    struct vti_tpm_quote_in in = { .ak = ak, .msg = msg.p, .msg_len = msg.len, .sig = sig.p,
                                   .sig_len = sig.len, .nonce = a.extra_data,
                                   .nonce_len = a.extra_data_len, .banks = &p.bank, .n_banks = 1 };
    CHECK(a.extra_data_len == 64);
    CHECK_OK(vti_tpm_quote_verify(&in, NULL, &a));
    p.v[0][0] ^= 1;
    CHECK_ERR(vti_tpm_quote_verify(&in, NULL, &a), VT_ERR_TPM_PCR_DIGEST_MISMATCH);
    EVP_PKEY_free(ak);
    vti_buf_free(&spki);
    vti_buf_free(&msg);
    vti_buf_free(&sig);
    json_decref(o);
    vti_buf_free(&f);
}

/* The Azure orphan quote: 9 PCRs (0-7, 14), extraData "challenge". */
static void test_azure_orphan(void)
{
    struct vt_buf m = vt_testdata_read("azure/trustee_az_snp_vtpm_tpm-quote.msg");
    struct vt_tpms_attest a;
    CHECK_OK(vti_tpms_attest_parse(m.p, m.len, &a));
    CHECK(a.n_sel == 1 && a.sel[0].size == 3 && a.sel[0].bits[0] == 0xff &&
          a.sel[0].bits[1] == 0x40 && a.sel[0].bits[2] == 0);
    CHECK(a.extra_data_len == 9 && memcmp(a.extra_data, "challenge", 9) == 0);
    vti_buf_free(&m);
}

/* ---- quotes signed here: RSASSA-PSS and ECDSA, scheme hash != bank hash ---------------- */

static struct vt_buf sign(EVP_PKEY *k, const EVP_MD *md, bool pss, const struct vt_buf *m)
{
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pc = NULL;
    size_t n = 0;
    struct vt_buf s = VT_BUF_INIT;
    CHECK(EVP_DigestSignInit(c, &pc, md, NULL, k) == 1);
    if (pss)
        CHECK(EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PSS_PADDING) == 1);
    CHECK(EVP_DigestSign(c, NULL, &n, m->p, m->len) == 1);
    CHECK_OK(vti_buf_reserve(&s, n));
    CHECK(EVP_DigestSign(c, s.p, &n, m->p, m->len) == 1);
    s.len = n;
    EVP_MD_CTX_free(c);
    return s;
}

static struct vt_buf tpmt_sig(uint16_t alg, uint16_t hash, const struct vt_buf *raw)
{
    struct vt_buf t = VT_BUF_INIT;
    be16(&t, alg);
    be16(&t, hash);
    if (alg != VT_TPM_ALG_ECDSA) {
        be16(&t, (uint16_t)raw->len);
        CHECK_OK(vti_buf_append(&t, raw->p, raw->len));
        return t;
    }
    const unsigned char *p = raw->p;
    ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)raw->len);
    const BIGNUM *r, *s;
    ECDSA_SIG_get0(es, &r, &s);
    uint8_t b[48];
    CHECK(BN_bn2binpad(r, b, 48) == 48);
    be16(&t, 48);
    CHECK_OK(vti_buf_append(&t, b, 48));
    CHECK(BN_bn2binpad(s, b, 48) == 48);
    be16(&t, 48);
    CHECK_OK(vti_buf_append(&t, b, 48));
    ECDSA_SIG_free(es);
    return t;
}

static void signed_here(EVP_PKEY *k, uint16_t alg, uint16_t hash, const EVP_MD *md,
                        EVP_PKEY *other)
{
    struct pcrs p = { .bank.hash = VT_TPM_ALG_SHA256 };
    uint8_t d[64];
    unsigned dl = 0;
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    CHECK(EVP_DigestInit_ex(c, md, NULL) == 1);
    for (int i = 0; i < 24; i++) {
        memset(p.v[i], i, 32);
        p.bank.v[i] = p.v[i];
        CHECK(EVP_DigestUpdate(c, p.v[i], 32) == 1);
    }
    CHECK(EVP_DigestFinal_ex(c, d, &dl) == 1);
    EVP_MD_CTX_free(c);
    struct attest_spec s = attest_default();
    s.digest = dl;
    struct vt_buf m = attest_build(&s, d), raw = sign(k, md, alg == VT_TPM_ALG_RSAPSS, &m);
    struct vt_buf t = tpmt_sig(alg, hash, &raw);
    struct vti_tpm_quote_in in = { .ak = k, .msg = m.p, .msg_len = m.len, .sig = t.p,
                                   .sig_len = t.len, .banks = &p.bank, .n_banks = 1 };
    struct vt_tpms_attest a;
    CHECK_OK(vti_tpm_quote_verify(&in, NULL, &a));
    in.ak = other;
    CHECK_ERR(vti_tpm_quote_verify(&in, NULL, &a), VT_ERR_TPM_SIG_KEY_TYPE);
    in.ak = k;
    m.p[20] ^= 1;
    CHECK_ERR(vti_tpm_quote_verify(&in, NULL, &a), VT_ERR_TPM_QUOTE_SIGNATURE);
    vti_buf_free(&m);
    vti_buf_free(&raw);
    vti_buf_free(&t);
}

static void test_signed_here(void)
{
    EVP_PKEY *rsa = EVP_RSA_gen(2048), *ec = EVP_EC_gen("secp384r1");
    CHECK(rsa && ec);
    signed_here(rsa, VT_TPM_ALG_RSAPSS, VT_TPM_ALG_SHA384, EVP_sha384(), ec);
    signed_here(rsa, VT_TPM_ALG_RSASSA, VT_TPM_ALG_SHA512, EVP_sha512(), ec);
    signed_here(ec, VT_TPM_ALG_ECDSA, VT_TPM_ALG_SHA384, EVP_sha384(), rsa);
    EVP_PKEY_free(rsa);
    EVP_PKEY_free(ec);
}

/* A TPMT_PUBLIC made from an OpenSSL EC / RSA key converts back to the same key. */
static void test_public_to_pkey(void)
{
    EVP_PKEY *ec = EVP_EC_gen("P-384"), *rsa = EVP_RSA_gen(2048), *got = NULL;
    uint8_t pt[97], nb[256];
    size_t ptl = 0;
    CHECK(EVP_PKEY_get_octet_string_param(ec, OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof(pt), &ptl) == 1);
    CHECK(ptl == 97 && pt[0] == 4);
    struct pub_spec s = ecc_spec();
    s.curve = VT_TPM_ECC_NIST_P384;
    s.x = pt + 1;
    s.y = pt + 49;
    s.x_len = s.y_len = 48;
    struct vt_buf b = pub_build(&s);
    struct vt_tpmt_public k;
    CHECK_OK(vti_tpmt_public_parse(b.p, b.len, &k));
    CHECK_OK(vti_tpm_public_to_pkey(&k, &got));
    CHECK(got && EVP_PKEY_eq(got, ec) == 1);
    EVP_PKEY_free(got);
    got = NULL;
    vti_buf_free(&b);
    BIGNUM *n = NULL;
    CHECK(EVP_PKEY_get_bn_param(rsa, OSSL_PKEY_PARAM_RSA_N, &n) == 1 && BN_bn2binpad(n, nb, 256) == 256);
    BN_free(n);
    s = rsa_spec();
    s.n = nb;
    b = pub_build(&s);
    CHECK_OK(vti_tpmt_public_parse(b.p, b.len, &k));
    CHECK_OK(vti_tpm_public_to_pkey(&k, &got));
    CHECK(got && EVP_PKEY_eq(got, rsa) == 1);
    EVP_PKEY_free(got);
    vti_buf_free(&b);
    /* the point must lie on the curve */
    pt[20] ^= 1;
    s = ecc_spec();
    s.curve = VT_TPM_ECC_NIST_P384;
    s.x = pt + 1;
    s.y = pt + 49;
    s.x_len = s.y_len = 48;
    b = pub_build(&s);
    got = NULL;
    CHECK_OK(vti_tpmt_public_parse(b.p, b.len, &k));
    CHECK_ERR(vti_tpm_public_to_pkey(&k, &got), VT_ERR_TPM_AK_KEY);
    EVP_PKEY_free(got);
    vti_buf_free(&b);
    EVP_PKEY_free(ec);
    EVP_PKEY_free(rsa);
}

int main(void)
{
    test_attest_refusals();
    test_signature_refusals();
    test_public_refusals();
    test_gce();
    test_trustee_tpm();
    test_azure_orphan();
    test_signed_here();
    test_public_to_pkey();
    return vt_test_done();
}
