/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nvidia_test.c - the "nvidia" verifier through vt_verify: the cases.json "nvidia" case
 * (signature, chain to the pinned root, FWID, nonce at verify_at; every claim, the 64
 * measurements) and each listed negative with its own code; the evidence shapes (list object,
 * bare list, one device, hex or base64, PEM or base64 chain) and their refusals; the list
 * rules (same report / same chain twice, too many); the nonce length; validity at --at; a
 * chain without its root, with and without --root-ca. A synthetic PKI (P-384 root, CA, leaf
 * with a Blackwell DiceTcbInfo) signs built reports for the Blackwell FWID, a --root-ca
 * anchor (insecure) and the OCSP revocation files of --collateral: good, revoked, stale,
 * signed by a stranger, missing (not-checked).
 */
#include <jansson.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <string.h>
#include <sys/stat.h>

#include "util/codec.h"
#include "vt_test.h"

#define NONCE "931d8dd0add203ac3d8b4fbde75e115278eefcdceac5b87671a748f32364dfcb"
#define AT_2024 1717200000 /* 2024-06-01T00:00:00Z */

static struct vt_buf report_bytes, chain_pem;
static json_t *nvcase;

static void load(void)
{
    struct vt_buf t = vt_testdata_read("nvidia/trustee_hopperAttestationReport.txt");
    size_t n = t.len;
    while (n > 0 && (t.p[n - 1] == '\n' || t.p[n - 1] == '\r'))
        n--;
    CHECK_OK(vti_hex_decode((const char *)t.p, n, &report_bytes));
    vti_buf_free_nowipe(&t);
    chain_pem = vt_testdata_read("nvidia/trustee_hopper_cert_chain_case1.txt");
}

static char *b64(const uint8_t *p, size_t n)
{
    struct vt_buf b = VT_BUF_INIT;
    CHECK_OK(vti_b64_encode(p, n, false, &b));
    CHECK_OK(vti_buf_cstr(&b));
    return (char *)b.p;
}

static json_t *device(const char *arch, const uint8_t *rep, size_t rlen, const char *chain)
{
    char *e = b64(rep, rlen), *c = b64((const uint8_t *)chain, strlen(chain));
    json_t *d = json_pack("{s:s, s:s, s:s, s:s}", "arch", arch, "uuid", "GPU-test", "evidence",
                          e, "certificate", c);
    free(e);
    free(c);
    return d;
}

static char *real_chain(void)
{
    char *c = malloc(chain_pem.len + 1);
    memcpy(c, chain_pem.p, chain_pem.len);
    c[chain_pem.len] = '\0';
    return c;
}

/* The evidence JSON text of a device list. */
static char *list_json(json_t *devs)
{
    json_t *o = json_pack("{s:o}", "device_evidence_list", devs);
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return s;
}

struct vopt {
    const char *nonce_hex;  /* NULL: none */
    int64_t at;
    const char *root;       /* --root-ca */
    const char *collateral;
    const char *verifier;
};

static int verify(const char *ev, const struct vopt *v, vt_report **out)
{
    uint8_t n[64];
    size_t nlen = 0;
    if (v->nonce_hex) {
        nlen = strlen(v->nonce_hex) / 2;
        CHECK_OK(vti_hex_decode_fixed(v->nonce_hex, n, nlen));
    }
    const char *roots[1] = { v->root };
    struct vt_verify_opts o = {
        .at = v->at ? v->at : AT_2024, .verifier = v->verifier,
        .report_data = v->nonce_hex ? n : NULL, .report_data_len = nlen,
        .root_ca_files = roots, .n_root_ca_files = v->root ? 1 : 0,
        .collateral = v->collateral,
    };
    vt_report *rep = NULL;
    int rc = vt_verify(&o, (const uint8_t *)ev, strlen(ev), &rep);
    if (out)
        *out = rep;
    else
        vt_report_free(rep);
    return rc;
}

static const char *claim_s(vt_report *r, const char *name)
{
    const struct vt_claim *c = vt_claims_get(vt_report_claims(r), name);
    return c && c->type == VT_CLAIM_STRING ? c->s : NULL;
}

static bool claim_hex(vt_report *r, const char *name, const char *hex)
{
    const struct vt_claim *c = vt_claims_get(vt_report_claims(r), name);
    char h[256];
    if (!c || c->type != VT_CLAIM_BYTES || 2 * c->n + 1 > sizeof(h) || !hex)
        return false;
    vti_hex_encode(c->p, c->n, h);
    return strcmp(h, hex) == 0;
}

static bool has_step(vt_report *r, const char *needle, int result)
{
    for (size_t i = 0; i < vt_report_step_count(r); i++) {
        const struct vt_step *s = vt_report_step(r, i);
        if (strstr(s->text, needle) && s->result == result)
            return true;
    }
    return false;
}

static char *one_real(const uint8_t *rep, size_t len, const char *chain)
{
    json_t *l = json_array();
    json_array_append_new(l, device("HOPPER", rep, len, chain));
    return list_json(l);
}

/* ---- the cases.json case --------------------------------------------------------------- */

static void test_case(void)
{
    json_t *expect = json_object_get(nvcase, "expect");
    const char *at_s = json_string_value(json_object_get(nvcase, "verify_at"));
    int64_t at = 0;
    CHECK_OK(vti_time_parse(at_s, &at));
    CHECK(strcmp(json_string_value(json_object_get(expect, "expected_nonce")), NONCE) == 0);
    char *chain = real_chain(), *ev = one_real(report_bytes.p, report_bytes.len, chain);
    vt_report *r = NULL;
    struct vopt v = { .nonce_hex = NONCE, .at = at };
    CHECK_OK(verify(ev, &v, &r));
    CHECK(vt_report_verified(r) && !vt_report_insecure(r) && strcmp(vt_report_tee(r), "nvidia") == 0);
    CHECK(claim_s(r, "gpu.0.arch") && strcmp(claim_s(r, "gpu.0.arch"), "HOPPER") == 0);
    CHECK(claim_s(r, "gpu.0.driver_version") && strcmp(claim_s(r, "gpu.0.driver_version"), "550.90.07") == 0);
    CHECK(claim_s(r, "gpu.0.vbios_version") && strcmp(claim_s(r, "gpu.0.vbios_version"), "96.00.9f.00.01") == 0);
    CHECK(claim_hex(r, "gpu.0.fwid", json_string_value(json_object_get(
              json_object_get(nvcase, "cert_chain"), "leaf_fwid_2.23.133.5.4.1"))));
    CHECK(claim_hex(r, "gpu.0.nonce", NONCE));
    CHECK(claim_s(r, "gpu.0.rim") && strcmp(claim_s(r, "gpu.0.rim"), "not-appraised") == 0);
    CHECK(claim_s(r, "gpu.0.revocation") && strcmp(claim_s(r, "gpu.0.revocation"), "not-checked") == 0);
    const char *k;
    json_t *m;
    int n = 0, ok = 0;
    json_object_foreach(json_object_get(json_object_get(nvcase, "report"), "measurements"), k, m) {
        char name[64];
        snprintf(name, sizeof(name), "gpu.0.measurement.%s", k);
        ok += claim_hex(r, name, json_string_value(m));
        n++;
    }
    CHECK(n == json_integer_value(json_object_get(expect, "measurement_count")) && ok == n);
    CHECK(has_step(r, "SPDM signature", 1) && has_step(r, "device chain (5 certificates", 1));
    CHECK(has_step(r, "FWID of the opaque data", 1) && has_step(r, "request nonce", 1));
    CHECK(has_step(r, "revocation not checked", -1));
    vt_report_free(r);
    /* named verifier, and no expected nonce: verified, the nonce listed as not compared */
    struct vopt named = { .verifier = "nvidia", .at = at };
    CHECK_OK(verify(ev, &named, &r));
    CHECK(has_step(r, "not compared", -1));
    vt_report_free(r);
    free(ev);
    free(chain);
}

/* Each negative of cases.json, with its own code. */
static void test_negatives(void)
{
    char *chain = real_chain();
    struct vopt v = { .nonce_hex = NONCE };
    struct vt_buf m = VT_BUF_INIT;
    CHECK_OK(vti_buf_append(&m, report_bytes.p, report_bytes.len));
    m.p[37 + 8 + 100] ^= 1; /* inside the measurement record */
    char *ev = one_real(m.p, m.len, chain);
    CHECK_ERR(verify(ev, &v, NULL), VT_ERR_NV_SIGNATURE);
    free(ev);
    m.p[37 + 8 + 100] ^= 1;
    m.p[4] ^= 1; /* request nonce[0]: signed, and no longer the expected nonce */
    ev = one_real(m.p, m.len, chain);
    vt_report *r = NULL;
    CHECK_ERR(verify(ev, &v, &r), VT_ERR_NV_SIGNATURE);
    CHECK(has_step(r, "SPDM signature", 0) && has_step(r, "request nonce", 0));
    vt_report_free(r);
    free(ev);
    m.p[4] ^= 1;
    ev = one_real(m.p, m.len, chain);
    struct vopt other = { .nonce_hex = "4cff7f5380ead8fad8ec2c531c110aca4302a88f603792801a8ca29ee151af2e" };
    CHECK_ERR(verify(ev, &other, NULL), VT_ERR_NV_NONCE_MISMATCH);
    free(ev);
    /* drop chain[2] (the Provisioner ICA) */
    char *a = strstr(chain, "-----BEGIN CERTIFICATE-----");
    for (int i = 0; i < 2 && a; i++)
        a = strstr(a + 1, "-----BEGIN CERTIFICATE-----");
    char *b = a ? strstr(a + 1, "-----BEGIN CERTIFICATE-----") : NULL;
    CHECK(a && b);
    if (a && b) {
        char *dropped = malloc(strlen(chain) + 1);
        memcpy(dropped, chain, (size_t)(a - chain));
        memcpy(dropped + (a - chain), b, strlen(b) + 1);
        ev = one_real(m.p, m.len, dropped);
        CHECK_ERR(verify(ev, &v, NULL), VT_ERR_NV_CHAIN);
        free(ev);
        free(dropped);
    }
    ev = one_real(m.p, m.len - 97, chain); /* signature incomplete */
    CHECK_ERR(verify(ev, &v, NULL), VT_ERR_SPDM_TRUNCATED);
    free(ev);
    vti_buf_free_nowipe(&m);
    free(chain);
}

static void test_time_and_roots(void)
{
    char *chain = real_chain(), *ev = one_real(report_bytes.p, report_bytes.len, chain);
    struct vopt early = { .at = 1577836800 }; /* 2020-01-01: before the leaf's notBefore */
    CHECK_ERR(verify(ev, &early, NULL), VT_ERR_NV_CERT_EXPIRED);
    struct vopt nonce16 = { .nonce_hex = "931d8dd0add203ac3d8b4fbde75e1152" };
    CHECK_ERR(verify(ev, &nonce16, NULL), VT_ERR_NV_NONCE_LEN);
    free(ev);
    /* without the root: not trusted; with the root file as --root-ca: the pinned root again */
    char *last = NULL, *p = chain;
    while ((p = strstr(p, "-----BEGIN CERTIFICATE-----")) != NULL)
        last = p++;
    *last = '\0';
    ev = one_real(report_bytes.p, report_bytes.len, chain);
    struct vopt none = { 0 };
    CHECK_ERR(verify(ev, &none, NULL), VT_ERR_NV_ROOT_NOT_TRUSTED);
    struct vopt given = { .root = vt_testdata("nvidia/nvtrust_verifier_device_root.pem") };
    vt_report *r = NULL;
    CHECK_OK(verify(ev, &given, &r));
    CHECK(!vt_report_insecure(r));
    vt_report_free(r);
    struct vopt wrong = { .root = vt_testdata("nvidia/nvtrust_verifier_RIM_root.pem") };
    CHECK_ERR(verify(ev, &wrong, NULL), VT_ERR_NV_CHAIN);
    struct vopt missing = { .root = "/nonexistent/root.pem" };
    CHECK_ERR(verify(ev, &missing, NULL), VT_ERR_NV_ROOT_FILE);
    free(ev);
    free(chain);
}

/* ---- shapes and list rules ------------------------------------------------------------- */

static void test_shapes(void)
{
    char *chain = real_chain(), hex[2 * 5000];
    vti_hex_encode(report_bytes.p, report_bytes.len, hex);
    struct vopt v = { .nonce_hex = NONCE };
    json_t *d = json_pack("{s:s, s:s, s:s}", "arch", "Hopper", "evidence", hex, "certificate", chain);
    char *s = json_dumps(d, JSON_COMPACT); /* one device, hex evidence, PEM text, no uuid */
    CHECK_OK(verify(s, &v, NULL));
    free(s);
    json_t *l = json_array();
    json_array_append(l, d);
    s = json_dumps(l, JSON_COMPACT); /* bare list */
    CHECK_OK(verify(s, &v, NULL));
    free(s);
    json_array_append(l, d); /* the same report twice */
    s = json_dumps(l, JSON_COMPACT);
    CHECK_ERR(verify(s, &v, NULL), VT_ERR_NV_DUPLICATE_REPORT);
    free(s);
    json_decref(l);
    /* another report, the same chain: one device listed twice */
    struct vt_buf m = VT_BUF_INIT;
    CHECK_OK(vti_buf_append(&m, report_bytes.p, report_bytes.len));
    m.p[37 + 8 + 100] ^= 1;
    l = json_array();
    json_array_append(l, d);
    json_array_append_new(l, device("HOPPER", m.p, m.len, chain));
    s = list_json(l);
    CHECK_ERR(verify(s, &v, NULL), VT_ERR_NV_DUPLICATE_DEVICE);
    free(s);
    vti_buf_free_nowipe(&m);
    l = json_array();
    for (int i = 0; i < 9; i++)
        json_array_append(l, d);
    s = list_json(l);
    CHECK_ERR(verify(s, &v, NULL), VT_ERR_NV_TOO_MANY_DEVICES);
    free(s);
    s = list_json(json_array());
    CHECK_ERR(verify(s, &v, NULL), VT_ERR_NV_NO_DEVICES);
    free(s);
    struct { const char *key, *val; int want; } bad[] = {
        { "arch", "AMPERE", VT_ERR_NV_ARCH },
        { "arch", "blackwell", VT_ERR_NV_DICE_EXT }, /* Hopper leaf has no DiceTcbInfo fwids */
        { "evidence", "!!", VT_ERR_NV_EVIDENCE_FIELD },
        { "evidence", "", VT_ERR_NV_EVIDENCE_FIELD },
        { "certificate", "%%%", VT_ERR_NV_EVIDENCE_FIELD },
        { "certificate", "AAAA", VT_ERR_NV_CERT_PARSE },
        { "uuid", "", VT_OK },
    };
    for (size_t i = 0; i < VT_ARRAY_LEN(bad); i++) {
        json_t *c = json_deep_copy(d);
        json_object_set_new(c, bad[i].key, json_string(bad[i].val));
        l = json_array();
        json_array_append_new(l, c);
        s = list_json(l);
        CHECK_ERR(verify(s, &v, NULL), bad[i].want);
        free(s);
    }
    json_t *c = json_deep_copy(d);
    json_object_set_new(c, "uuid", json_integer(1));
    s = json_dumps(c, JSON_COMPACT);
    CHECK_ERR(verify(s, &v, NULL), VT_ERR_NV_EVIDENCE_FIELD);
    free(s);
    json_decref(c);
    struct vopt named = { .verifier = "nvidia" };
    CHECK_ERR(verify("{\"device_evidence_list\": 3}", &named, NULL), VT_ERR_UNKNOWN_EVIDENCE);
    CHECK_ERR(verify("{\"device_evidence_list\": [{\"arch\": \"HOPPER\"}]}", &named, NULL),
              VT_ERR_NV_EVIDENCE_FIELD);
    CHECK_ERR(verify("{\"device_evidence_list\": [], \"device_evidence_list\": []}", &named, NULL),
              VT_ERR_UNKNOWN_EVIDENCE);
    json_decref(d);
    free(chain);
}

/* ---- synthetic PKI: Blackwell FWID, --root-ca, OCSP ------------------------------------- */

struct pki {
    EVP_PKEY *root_k, *ca_k, *leaf_k, *stranger_k;
    X509 *root, *ca, *leaf, *stranger;
    uint8_t fwid[48];
};

static EVP_PKEY *p384(void)
{
    return EVP_EC_gen("P-384");
}

static X509 *mk_cert(const char *cn, EVP_PKEY *k, X509 *issuer, EVP_PKEY *ik, bool ca,
                     const uint8_t *dice, size_t dlen, long serial)
{
    X509 *x = X509_new();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
    X509_NAME *nm = X509_NAME_new();
    X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_subject_name(x, nm);
    X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : nm);
    X509_NAME_free(nm);
    ASN1_TIME_set(X509_getm_notBefore(x), 1600000000);
    ASN1_TIME_set(X509_getm_notAfter(x), 2000000000);
    X509_set_pubkey(x, k);
    X509V3_CTX v3;
    X509V3_set_ctx(&v3, issuer ? issuer : x, x, NULL, NULL, 0);
    const char *bc = ca ? "critical,CA:TRUE" : "critical,CA:FALSE";
    const char *ku = ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature";
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &v3, NID_basic_constraints, bc);
    X509_add_ext(x, e, -1);
    X509_EXTENSION_free(e);
    e = X509V3_EXT_conf_nid(NULL, &v3, NID_key_usage, ku);
    X509_add_ext(x, e, -1);
    X509_EXTENSION_free(e);
    e = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_key_identifier, "hash");
    X509_add_ext(x, e, -1);
    X509_EXTENSION_free(e);
    if (issuer) {
        e = X509V3_EXT_conf_nid(NULL, &v3, NID_authority_key_identifier, "keyid");
        X509_add_ext(x, e, -1);
        X509_EXTENSION_free(e);
    }
    if (dice) {
        ASN1_OBJECT *oid = OBJ_txt2obj("2.23.133.5.4.1", 1);
        ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
        ASN1_OCTET_STRING_set(os, dice, (int)dlen);
        e = X509_EXTENSION_create_by_OBJ(NULL, oid, 0, os);
        X509_add_ext(x, e, -1);
        X509_EXTENSION_free(e);
        ASN1_OCTET_STRING_free(os);
        ASN1_OBJECT_free(oid);
    }
    X509_sign(x, issuer ? ik : k, EVP_sha384());
    return x;
}

/* DiceTcbInfo { [1] "GB100", [6] { FWID { sha384, fwid } } } */
static size_t dice_ext(const uint8_t fwid[48], uint8_t *o)
{
    static const uint8_t head[] = { 0x30, 0x48, 0x81, 0x05, 'G', 'B', '1', '0', '0', 0xa6, 0x3f,
                                    0x30, 0x3d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03,
                                    0x04, 0x02, 0x02, 0x04, 0x30 };
    memcpy(o, head, sizeof(head));
    memcpy(o + sizeof(head), fwid, 48);
    return sizeof(head) + 48;
}

static void pki_new(struct pki *k)
{
    for (int i = 0; i < 48; i++)
        k->fwid[i] = (uint8_t)(0x10 + i);
    uint8_t ext[128];
    size_t n = dice_ext(k->fwid, ext);
    k->root_k = p384();
    k->ca_k = p384();
    k->leaf_k = p384();
    k->stranger_k = p384();
    k->root = mk_cert("Test GPU Root", k->root_k, NULL, NULL, true, NULL, 0, 1);
    k->ca = mk_cert("Test GPU CA", k->ca_k, k->root, k->root_k, true, NULL, 0, 2);
    k->leaf = mk_cert("Test GPU Leaf", k->leaf_k, k->ca, k->ca_k, false, ext, n, 3);
    k->stranger = mk_cert("Stranger", k->stranger_k, NULL, NULL, true, NULL, 0, 4);
}

static void pki_free(struct pki *k)
{
    X509_free(k->root);
    X509_free(k->ca);
    X509_free(k->leaf);
    X509_free(k->stranger);
    EVP_PKEY_free(k->root_k);
    EVP_PKEY_free(k->ca_k);
    EVP_PKEY_free(k->leaf_k);
    EVP_PKEY_free(k->stranger_k);
}

static void pem_append(X509 *x, struct vt_buf *out)
{
    BIO *b = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(b, x);
    char *p;
    long n = BIO_get_mem_data(b, &p);
    CHECK_OK(vti_buf_append(out, p, (size_t)n));
    BIO_free(b);
}

/* A small report (two blocks, driver version, FWID), signed by the leaf. */
static void sim_report(const struct pki *k, const uint8_t fwid[48], struct vt_buf *out)
{
    uint8_t nonce[32];
    CHECK_OK(vti_hex_decode_fixed(NONCE, nonce, 32));
    static const uint8_t req[4] = { 0x11, 0xe0, 0x01, 0xff };
    static const uint8_t rsp[8] = { 0x11, 0x60, 0, 0, 2, 2 * 55, 0, 0 };
    CHECK_OK(vti_buf_append(out, req, 4));
    CHECK_OK(vti_buf_append(out, nonce, 32));
    CHECK_OK(vti_buf_u8(out, 0));
    CHECK_OK(vti_buf_append(out, rsp, 8));
    for (uint8_t i = 1; i <= 2; i++) {
        uint8_t h[7] = { i, 1, 51, 0, 1, 48, 0 };
        CHECK_OK(vti_buf_append(out, h, 7));
        for (int j = 0; j < 48; j++)
            CHECK_OK(vti_buf_u8(out, (uint8_t)(i * j)));
    }
    for (int j = 0; j < 32; j++)
        CHECK_OK(vti_buf_u8(out, 0x77));
    CHECK_OK(vti_buf_u16le(out, 4 + 8 + 4 + 48));
    CHECK_OK(vti_buf_u16le(out, 3));
    CHECK_OK(vti_buf_u16le(out, 8));
    CHECK_OK(vti_buf_append(out, "570.1.2\0", 8));
    CHECK_OK(vti_buf_u16le(out, 20));
    CHECK_OK(vti_buf_u16le(out, 48));
    CHECK_OK(vti_buf_append(out, fwid, 48));
    unsigned char sig[160];
    size_t slen = sizeof(sig);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    CHECK(EVP_DigestSignInit(md, NULL, EVP_sha384(), NULL, k->leaf_k) == 1 &&
          EVP_DigestSign(md, sig, &slen, out->p, out->len) == 1);
    EVP_MD_CTX_free(md);
    const unsigned char *q = sig;
    ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &q, (long)slen);
    uint8_t rs[96];
    BN_bn2binpad(ECDSA_SIG_get0_r(es), rs, 48);
    BN_bn2binpad(ECDSA_SIG_get0_s(es), rs + 48, 48);
    ECDSA_SIG_free(es);
    CHECK_OK(vti_buf_append(out, rs, 96));
}

static char *sim_evidence(const struct pki *k, const uint8_t fwid[48])
{
    struct vt_buf rep = VT_BUF_INIT, chain = VT_BUF_INIT;
    sim_report(k, fwid, &rep);
    pem_append(k->leaf, &chain);
    pem_append(k->ca, &chain);
    pem_append(k->root, &chain);
    CHECK_OK(vti_buf_cstr(&chain));
    json_t *l = json_array();
    json_array_append_new(l, device("BLACKWELL", rep.p, rep.len, (const char *)chain.p));
    vti_buf_free_nowipe(&rep);
    vti_buf_free_nowipe(&chain);
    return list_json(l);
}

/* An OCSP response about cert (issued by issuer), signed by signer/sk. */
static void ocsp_file(const char *path, X509 *cert, X509 *issuer, X509 *signer, EVP_PKEY *sk,
                      int status, long next_update)
{
    OCSP_BASICRESP *bs = OCSP_BASICRESP_new();
    OCSP_CERTID *id = OCSP_cert_to_id(EVP_sha1(), cert, issuer);
    ASN1_TIME *thisupd = ASN1_TIME_set(NULL, AT_2024 - 3600);
    ASN1_TIME *nextupd = ASN1_TIME_set(NULL, next_update);
    ASN1_TIME *rev = ASN1_TIME_set(NULL, AT_2024 - 7200);
    CHECK(OCSP_basic_add1_status(bs, id, status, OCSP_REVOKED_STATUS_KEYCOMPROMISE,
                                 status == V_OCSP_CERTSTATUS_REVOKED ? rev : NULL, thisupd,
                                 nextupd) != NULL);
    CHECK(OCSP_basic_sign(bs, signer, sk, EVP_sha384(), NULL, 0) == 1);
    OCSP_RESPONSE *resp = OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL, bs);
    unsigned char *der = NULL;
    int n = i2d_OCSP_RESPONSE(resp, &der);
    struct vt_buf b = { der, (size_t)n, (size_t)n, 0 };
    vt_test_write_file(path, &b);
    OPENSSL_free(der);
    OCSP_RESPONSE_free(resp);
    OCSP_CERTID_free(id);
    OCSP_BASICRESP_free(bs);
    ASN1_TIME_free(thisupd);
    ASN1_TIME_free(nextupd);
    ASN1_TIME_free(rev);
}

static void test_sim(void)
{
    struct pki k;
    pki_new(&k);
    char root[512], dir[512], f[600];
    snprintf(root, sizeof(root), "%s/gpu-root.pem", vt_test_tmpdir());
    struct vt_buf rp = VT_BUF_INIT;
    pem_append(k.root, &rp);
    vt_test_write_file(root, &rp);
    vti_buf_free_nowipe(&rp);
    char *ev = sim_evidence(&k, k.fwid);
    struct vopt none = { .nonce_hex = NONCE };
    CHECK_ERR(verify(ev, &none, NULL), VT_ERR_NV_ROOT_NOT_TRUSTED);
    struct vopt v = { .nonce_hex = NONCE, .root = root };
    vt_report *r = NULL;
    CHECK_OK(verify(ev, &v, &r));
    CHECK(vt_report_insecure(r) && claim_s(r, "gpu.0.arch") && strcmp(claim_s(r, "gpu.0.arch"), "BLACKWELL") == 0);
    CHECK(claim_s(r, "gpu.0.driver_version") && strcmp(claim_s(r, "gpu.0.driver_version"), "570.1.2") == 0);
    CHECK(claim_s(r, "gpu.0.vbios_version") == NULL && has_step(r, "fwids[0]", 1));
    vt_report_free(r);
    uint8_t other[48];
    memcpy(other, k.fwid, 48);
    other[47] ^= 1;
    char *bad = sim_evidence(&k, other);
    CHECK_ERR(verify(bad, &v, NULL), VT_ERR_NV_FWID_MISMATCH);
    free(bad);

    /* OCSP in the collateral directory (with an unrelated file) */
    snprintf(dir, sizeof(dir), "%s/collateral", vt_test_tmpdir());
    CHECK(mkdir(dir, 0700) == 0);
    snprintf(f, sizeof(f), "%s/readme.txt", dir);
    static uint8_t txt[] = "not an OCSP response";
    struct vt_buf junk = { txt, 20, 20, 0 };
    vt_test_write_file(f, &junk);
    v.collateral = dir;
    CHECK_OK(verify(ev, &v, &r));
    CHECK(claim_s(r, "gpu.0.revocation") && strcmp(claim_s(r, "gpu.0.revocation"), "not-checked") == 0);
    vt_report_free(r);
    snprintf(f, sizeof(f), "%s/ca.ocsp", dir);
    ocsp_file(f, k.ca, k.root, k.root, k.root_k, V_OCSP_CERTSTATUS_GOOD, AT_2024 + 86400);
    CHECK_OK(verify(ev, &v, &r));
    CHECK(claim_s(r, "gpu.0.revocation") && strcmp(claim_s(r, "gpu.0.revocation"), "checked") == 0);
    vt_report_free(r);
    ocsp_file(f, k.ca, k.root, k.root, k.root_k, V_OCSP_CERTSTATUS_REVOKED, AT_2024 + 86400);
    CHECK_ERR(verify(ev, &v, NULL), VT_ERR_NV_OCSP_REVOKED);
    ocsp_file(f, k.ca, k.root, k.root, k.root_k, V_OCSP_CERTSTATUS_UNKNOWN, AT_2024 + 86400);
    CHECK_ERR(verify(ev, &v, NULL), VT_ERR_NV_OCSP_STATUS);
    ocsp_file(f, k.ca, k.root, k.root, k.root_k, V_OCSP_CERTSTATUS_GOOD, AT_2024 - 1800);
    CHECK_ERR(verify(ev, &v, NULL), VT_ERR_NV_OCSP_STALE);
    ocsp_file(f, k.ca, k.root, k.stranger, k.stranger_k, V_OCSP_CERTSTATUS_GOOD, AT_2024 + 86400);
    CHECK_ERR(verify(ev, &v, NULL), VT_ERR_NV_OCSP_SIGNATURE);
    /* a good response for the leaf too is checked; for the CA still required */
    ocsp_file(f, k.leaf, k.ca, k.ca, k.ca_k, V_OCSP_CERTSTATUS_GOOD, AT_2024 + 86400);
    CHECK_OK(verify(ev, &v, &r));
    CHECK(claim_s(r, "gpu.0.revocation") && strcmp(claim_s(r, "gpu.0.revocation"), "not-checked") == 0);
    vt_report_free(r);
    ocsp_file(f, k.leaf, k.ca, k.ca, k.ca_k, V_OCSP_CERTSTATUS_REVOKED, AT_2024 + 86400);
    CHECK_ERR(verify(ev, &v, NULL), VT_ERR_NV_OCSP_REVOKED);
    v.collateral = "/nonexistent/dir";
    CHECK_ERR(verify(ev, &v, NULL), VT_ERR_NV_OCSP_DIR);
    free(ev);
    pki_free(&k);
}

int main(void)
{
    load();
    json_t *root = vt_test_cases();
    nvcase = json_array_get(json_object_get(root, "nvidia"), 0);
    CHECK(nvcase != NULL);
    if (nvcase) {
        test_case();
        test_negatives();
    }
    test_time_and_roots();
    test_shapes();
    test_sim();
    json_decref(root);
    vti_buf_free_nowipe(&report_bytes);
    vti_buf_free_nowipe(&chain_pem);
    return vt_test_done();
}
