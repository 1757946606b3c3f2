/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sim_intel.c - simulated Intel TEEs "sim-sgx" and "sim-tdx": real-format DCAP quotes (SGX
 * v3, TDX v4) signed by a test PKI shaped like Intel's. Insecure by construction: only used
 * when named (VT_INST_EXPLICIT); the sim root is trusted only when passed explicitly as a root
 * (DIR/root-ca.pem), which makes every result "insecure": true.
 *
 * `veritee sim init DIR` (sim_init of sim-sgx; sim-tdx shares the same PKI) creates DIR/intel/:
 *   root.pem/.key         "Veritee Sim Intel Root (INSECURE)", P-256, self-signed
 *   pck-ca.pem/.key       "Veritee Sim Intel SGX PCK Platform CA", signed by the root
 *   tcb-signing.pem/.key  "Veritee Sim Intel SGX TCB Signing", signed by the root
 *   pck.pem/.key          "Veritee Sim SGX PCK Certificate" with the SGX extension (FMSPC
 *                         00906ed50000, PCEID 0000, components 5,5,2,...; PCESVN 13) -> UpToDate
 *   pck-old.pem/.key      same platform at components 2,2,... PCESVN 10 -> the OutOfDate level
 *   pck-revoked.pem/.key  listed in the PCK CRL
 *   ak.key                the sim attestation key (P-256)
 *   collateral-sgx.json, collateral-tdx.json  sgx_ql_qve_collateral_t bundles (dcap-qvl layout:
 *                         TCB Info + QE Identity signed by the TCB signing key, root CA CRL,
 *                         PCK CRL, issuer chains), valid 2000-01-01 .. 2099-12-31
 * and returns the root PEM (appended to DIR/root-ca.pem by the tool).
 *
 * collect: option "sim.pck" = "current" (default) | "old" | "revoked" picks the PCK;
 * "sim.measurement" (hex, up to 32 bytes SGX / 48 TDX) overrides MRENCLAVE / MRTD;
 * "sim.debug" = 1 sets the debug bit (SGX ATTRIBUTES.DEBUG, bit 1 of the flags; TDX
 * TD_ATTRIBUTES.DEBUG, bit 0), which the verifier reports as claim "debug";
 * "sim.eventlog" = FILE (sim-tdx only) sets RTMR0..3 to the replay of that CCEL log (the
 * quote a TD booted with that log would carry: docs/eventlog.md). The QE
 * report (QE/TD_QE identity of the bundle) is signed by the PCK key; its report data binds
 * the attestation key and 32 bytes of QE auth data. Endorsements: the RA-TLS endorsements
 * CBOR of the matching bundle, so RA-TLS peers need no collateral argument.
 */
#include <jansson.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "attesters/sim_common.h"
#include "attesters/sim_intel_keys.h"
#include "core/instance.h"
#include "endorsements/intel_collateral.h"
#include "evidence/eventlog.h"
#include "evidence/intel_quote.h"
#include "util/codec.h"

#define T_FROM "2000-01-01T00:00:00Z"
#define T_TO "2099-12-31T23:59:59Z"
static const uint8_t FMSPC[6] = { 0x00, 0x90, 0x6e, 0xd5, 0x00, 0x00 };
static const uint8_t COMPS_NEW[16] = { 5, 5, 2, 2, 4, 1, 0, 3 };
static const uint8_t COMPS_OLD[16] = { 2, 2, 2, 2, 4, 1, 0, 3 };
#define PCESVN_NEW 13
#define PCESVN_OLD 10
#define QE_SVN 8
static const uint8_t TEE_TCB_SVN[16] = { 3, 1, 2, 0 };

/* --sim-dir (vti_attest_ctx.sim_dir) or $VERITEE_SIM_DIR, as for every sim TEE. */
static const char *sim_dir(const struct vti_attest_ctx *ctx)
{
    return vti_sim_dir(ctx);
}

static vt_res path_in(const char *dir, const char *name, char *out, size_t cap)
{
    return vti_sim_path(dir, "intel", name, out, cap);
}

static EVP_PKEY *keygen(void)
{
    return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
}

static int64_t tparse(const char *s)
{
    int64_t t = 0;
    if (!vti_is_ok(vti_time_parse(s, &t)))
        return 0;
    return t;
}

static X509 *mkcert(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *ikey, bool ca,
                    long serial, const uint8_t *sgx_ext, size_t sgx_len)
{
    X509 *x = X509_new();
    X509_NAME *n = X509_NAME_new();
    bool ok = x && n && X509_set_version(x, 2) == 1 &&
              ASN1_INTEGER_set(X509_get_serialNumber(x), serial) == 1 &&
              X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0) == 1 &&
              X509_NAME_add_entry_by_txt(n, "O", MBSTRING_ASC, (const unsigned char *)"Veritee", -1, -1, 0) == 1 &&
              X509_NAME_add_entry_by_txt(n, "C", MBSTRING_ASC, (const unsigned char *)"US", -1, -1, 0) == 1 &&
              X509_set_subject_name(x, n) == 1 &&
              X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : n) == 1 &&
              X509_time_adj_ex(X509_getm_notBefore(x), 0, 0, &(time_t){ (time_t)tparse(T_FROM) }) &&
              X509_time_adj_ex(X509_getm_notAfter(x), 0, 0, &(time_t){ (time_t)tparse(T_TO) }) &&
              X509_set_pubkey(x, key) == 1;
    X509V3_CTX v;
    X509V3_set_ctx(&v, issuer ? issuer : x, x, NULL, NULL, 0);
    X509_EXTENSION *e;
    if (ok) {
        e = X509V3_EXT_conf_nid(NULL, &v, NID_basic_constraints, ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
        ok = e && X509_add_ext(x, e, -1) == 1;
        X509_EXTENSION_free(e);
        e = X509V3_EXT_conf_nid(NULL, &v, NID_key_usage,
                                ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature,nonRepudiation");
        ok = ok && e && X509_add_ext(x, e, -1) == 1;
        X509_EXTENSION_free(e);
    }
    if (ok && sgx_ext) {
        ASN1_OBJECT *o = OBJ_txt2obj("1.2.840.113741.1.13.1", 1);
        ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
        ok = o && os && ASN1_OCTET_STRING_set(os, sgx_ext, (int)sgx_len) == 1;
        e = ok ? X509_EXTENSION_create_by_OBJ(NULL, o, 0, os) : NULL;
        ok = ok && e && X509_add_ext(x, e, -1) == 1;
        X509_EXTENSION_free(e);
        ASN1_OBJECT_free(o);
        ASN1_OCTET_STRING_free(os);
    }
    ok = ok && X509_sign(x, ikey ? ikey : key, EVP_sha256()) > 0;
    X509_NAME_free(n);
    if (!ok) {
        X509_free(x);
        return NULL;
    }
    return x;
}

/* ---- DER for the SGX extension ------------------------------------------------------ */

static vt_res ext_item(struct vt_buf *out, const uint8_t *sub, size_t subn, uint8_t vtag,
                       const uint8_t *v, size_t vn)
{
    static const uint8_t base[9] = { 0x2a, 0x86, 0x48, 0x86, 0xf8, 0x4d, 0x01, 0x0d, 0x01 };
    struct vt_buf in = VT_BUF_INIT;
    uint8_t oid[12];
    memcpy(oid, base, 9);
    memcpy(oid + 9, sub, subn);
    vt_res r = vti_sim_der(&in, 0x06, oid, 9 + subn);
    if (vti_is_ok(r))
        r = vti_sim_der(&in, vtag, v, vn);
    if (vti_is_ok(r))
        r = vti_sim_der(out, 0x30, in.p, in.len);
    vti_buf_free(&in);
    return r;
}

static vt_res sgx_ext(const uint8_t comps[16], uint16_t pcesvn, struct vt_buf *out)
{
    struct vt_buf items = VT_BUF_INIT, tcb = VT_BUF_INIT;
    uint8_t ppid[16] = { 0x51, 0x51 };
    vt_res r = ext_item(&items, (const uint8_t[]){ 1 }, 1, 0x04, ppid, 16);
    for (int i = 0; i < 16 && vti_is_ok(r); i++)
        r = ext_item(&tcb, (const uint8_t[]){ 2, (uint8_t)(i + 1) }, 2, 0x02, &comps[i], 1);
    uint8_t pv[3] = { 0, (uint8_t)(pcesvn >> 8), (uint8_t)pcesvn };
    if (vti_is_ok(r))
        r = ext_item(&tcb, (const uint8_t[]){ 2, 17 }, 2, 0x02, pcesvn < 0x80 ? pv + 2 : pcesvn < 0x8000 ? pv + 1 : pv,
                     pcesvn < 0x80 ? 1 : pcesvn < 0x8000 ? 2 : 3);
    if (vti_is_ok(r))
        r = ext_item(&tcb, (const uint8_t[]){ 2, 18 }, 2, 0x04, comps, 16);
    struct vt_buf tseq = VT_BUF_INIT;
    if (vti_is_ok(r))
        r = vti_sim_der(&tseq, 0x30, tcb.p, tcb.len);
    if (vti_is_ok(r)) {
        /* item .2: SEQUENCE { OID, SEQUENCE {...} } */
        r = ext_item(&items, (const uint8_t[]){ 2 }, 1, 0x30, tseq.p + 2 + (tseq.p[1] & 0x80 ? (tseq.p[1] & 0x7f) : 0),
                     tseq.len - 2 - (tseq.p[1] & 0x80 ? (tseq.p[1] & 0x7f) : 0));
    }
    if (vti_is_ok(r))
        r = ext_item(&items, (const uint8_t[]){ 3 }, 1, 0x04, (const uint8_t[]){ 0, 0 }, 2);
    if (vti_is_ok(r))
        r = ext_item(&items, (const uint8_t[]){ 4 }, 1, 0x04, FMSPC, 6);
    if (vti_is_ok(r))
        r = ext_item(&items, (const uint8_t[]){ 5 }, 1, 0x0a, (const uint8_t[]){ 0 }, 1);
    if (vti_is_ok(r))
        r = vti_sim_der(out, 0x30, items.p, items.len);
    vti_buf_free(&items);
    vti_buf_free(&tcb);
    vti_buf_free(&tseq);
    return r;
}

/* ---- files -------------------------------------------------------------------------- */

static vt_res save(const char *dir, const char *name, X509 *x, EVP_PKEY *k)
{
    char path[4096];
    if (x) {
        struct vt_buf b = VT_BUF_INIT;
        GUARD(vti_sim_x509_pem(x, &b));
        vt_res r = path_in(dir, name, path, sizeof(path) - 8);
        if (vti_is_ok(r)) {
            size_t l = strlen(path);
            memcpy(path + l, ".pem", 5);
            r = vti_file_write(path, b.p, b.len, 0644);
        }
        vti_buf_free(&b);
        GUARD(r);
    }
    if (k) {
        BIO *b = BIO_new(BIO_s_mem());
        char *p;
        ENSURE(b && PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL) == 1, VT_ERR_CRYPTO);
        long n = BIO_get_mem_data(b, &p);
        vt_res r = path_in(dir, name, path, sizeof(path) - 8);
        if (vti_is_ok(r)) {
            size_t l = strlen(path);
            memcpy(path + l, ".key", 5);
            r = vti_file_write(path, p, (size_t)n, 0600);
        }
        BIO_free(b);
        GUARD(r);
    }
    return vti_ok();
}

static vt_res crl_hex(X509 *issuer, EVP_PKEY *ikey, X509 *revoked, struct vt_buf *hex)
{
    X509_CRL *c = X509_CRL_new();
    ASN1_TIME *a = ASN1_TIME_set(NULL, (time_t)tparse(T_FROM));
    ASN1_TIME *b = ASN1_TIME_set(NULL, (time_t)tparse(T_TO));
    bool ok = c && a && b && X509_CRL_set_version(c, 1) == 1 &&
              X509_CRL_set_issuer_name(c, X509_get_subject_name(issuer)) == 1 &&
              X509_CRL_set1_lastUpdate(c, a) == 1 && X509_CRL_set1_nextUpdate(c, b) == 1;
    if (ok && revoked) {
        X509_REVOKED *rv = X509_REVOKED_new();
        ok = rv && X509_REVOKED_set_serialNumber(rv, X509_get_serialNumber(revoked)) == 1 &&
             X509_REVOKED_set_revocationDate(rv, a) == 1 && X509_CRL_add0_revoked(c, rv) == 1;
        if (!ok)
            X509_REVOKED_free(rv);
    }
    ok = ok && X509_CRL_sort(c) == 1 && X509_CRL_sign(c, ikey, EVP_sha256()) > 0;
    unsigned char *d = NULL;
    int dl = ok ? i2d_X509_CRL(c, &d) : 0;
    vt_res r = dl > 0 ? vti_hex_append(hex, d, (size_t)dl) : VT_FAIL(VT_ERR_CRYPTO);
    OPENSSL_free(d);
    ASN1_TIME_free(a);
    ASN1_TIME_free(b);
    X509_CRL_free(c);
    return r;
}

static vt_res levels_sgx(struct vt_buf *b, bool tdx)
{
    const uint8_t *cs[2] = { COMPS_NEW, COMPS_OLD };
    const int pce[2] = { PCESVN_NEW, PCESVN_OLD };
    const char *st[2] = { "UpToDate", "OutOfDate" };
    GUARD(vti_buf_printf(b, "\"tcbLevels\":["));
    for (int l = 0; l < 2; l++) {
        GUARD(vti_buf_printf(b, "%s{\"tcb\":{\"sgxtcbcomponents\":[", l ? "," : ""));
        for (int i = 0; i < 16; i++)
            GUARD(vti_buf_printf(b, "%s{\"svn\":%u}", i ? "," : "", cs[l][i]));
        GUARD(vti_buf_printf(b, "],\"pcesvn\":%d", pce[l]));
        if (tdx) {
            GUARD(vti_buf_printf(b, ",\"tdxtcbcomponents\":["));
            for (int i = 0; i < 16; i++)
                GUARD(vti_buf_printf(b, "%s{\"svn\":%u}", i ? "," : "", l ? 0 : TEE_TCB_SVN[i]));
            GUARD(vti_buf_printf(b, "]"));
        }
        GUARD(vti_buf_printf(b, "},\"tcbDate\":\"%s\",\"tcbStatus\":\"%s\"%s}",
                            l ? "2020-01-01T00:00:00Z" : "2024-01-01T00:00:00Z", st[l],
                            l ? ",\"advisoryIDs\":[\"INTEL-SA-SIM01\",\"INTEL-SA-SIM02\"]" : ""));
    }
    return vti_buf_printf(b, "]");
}

static const uint8_t QE_MRSIGNER[32] = { 0x5e, 0x51, 0x5e, 0x51 };

/* rcrl / pcrl: the CRLs (hex), made on the first call and shared by both bundles, so that a
 * directory holding both bundles has one CRL per issuer. */
static vt_res bundle(const char *dir, bool tdx, X509 *root, EVP_PKEY *rk, X509 *ca, EVP_PKEY *cak,
                     X509 *tcbc, EVP_PKEY *tk, X509 *revoked, struct vt_buf *rcrl,
                     struct vt_buf *pcrl)
{
    struct vt_buf ti = VT_BUF_INIT, qi = VT_BUF_INIT, out = VT_BUF_INIT, chain = VT_BUF_INIT;
    char fm[13], sh[129], ms[97];
    vti_hex_encode(FMSPC, 6, fm);
    vt_res r = vti_buf_printf(&ti, "{\"id\":\"%s\",\"version\":3,\"issueDate\":\"%s\",\"nextUpdate\":\"%s\","
                             "\"fmspc\":\"%s\",\"pceId\":\"0000\",\"tcbType\":0,\"tcbEvaluationDataNumber\":1,",
                             tdx ? "TDX" : "SGX", T_FROM, T_TO, fm);
    if (vti_is_ok(r) && tdx) {
        static const uint8_t z[48];
        vti_hex_encode(z, 48, ms);
        r = vti_buf_printf(&ti, "\"tdxModule\":{\"mrsigner\":\"%s\",\"attributes\":\"0000000000000000\","
                          "\"attributesMask\":\"FFFFFFFFFFFFFFFF\"},\"tdxModuleIdentities\":[{\"id\":\"TDX_01\","
                          "\"mrsigner\":\"%s\",\"attributes\":\"0000000000000000\",\"attributesMask\":"
                          "\"FFFFFFFFFFFFFFFF\",\"tcbLevels\":[{\"tcb\":{\"isvsvn\":3},\"tcbDate\":"
                          "\"2024-01-01T00:00:00Z\",\"tcbStatus\":\"UpToDate\"},{\"tcb\":{\"isvsvn\":1},"
                          "\"tcbDate\":\"2020-01-01T00:00:00Z\",\"tcbStatus\":\"OutOfDate\"}]}],", ms, ms);
    }
    if (vti_is_ok(r))
        r = levels_sgx(&ti, tdx);
    if (vti_is_ok(r))
        r = vti_buf_printf(&ti, "}");
    char mrs[65];
    vti_hex_encode(QE_MRSIGNER, 32, mrs);
    if (vti_is_ok(r))
        r = vti_buf_printf(&qi, "{\"id\":\"%s\",\"version\":2,\"issueDate\":\"%s\",\"nextUpdate\":\"%s\","
                          "\"tcbEvaluationDataNumber\":1,\"miscselect\":\"00000000\",\"miscselectMask\":"
                          "\"FFFFFFFF\",\"attributes\":\"11000000000000000000000000000000\","
                          "\"attributesMask\":\"FBFFFFFFFFFFFFFF0000000000000000\",\"mrsigner\":\"%s\","
                          "\"isvprodid\":%d,\"tcbLevels\":[{\"tcb\":{\"isvsvn\":%d},\"tcbDate\":"
                          "\"2024-01-01T00:00:00Z\",\"tcbStatus\":\"UpToDate\"}]}",
                          tdx ? "TD_QE" : "QE", T_FROM, T_TO, mrs, tdx ? 2 : 1, QE_SVN);
    uint8_t sig[64];
    if (vti_is_ok(r))
        r = vti_sim_x509_pem(tcbc, &chain);
    if (vti_is_ok(r))
        r = vti_sim_x509_pem(root, &chain);
    if (vti_is_ok(r) && rcrl->len == 0)
        r = crl_hex(root, rk, NULL, rcrl);
    if (vti_is_ok(r) && pcrl->len == 0)
        r = crl_hex(ca, cak, revoked, pcrl);
    json_t *j = json_object();
    if (vti_is_ok(r))
        r = vti_sim_sign_raw(tk, EVP_sha256(), 32, ti.p, ti.len, sig);
    if (vti_is_ok(r)) {
        vti_hex_encode(sig, 64, sh);
        json_object_set_new(j, "tcb_info", json_stringn((const char *)ti.p, ti.len));
        json_object_set_new(j, "tcb_info_signature", json_string(sh));
        r = vti_sim_sign_raw(tk, EVP_sha256(), 32, qi.p, qi.len, sig);
    }
    if (vti_is_ok(r)) {
        vti_hex_encode(sig, 64, sh);
        json_object_set_new(j, "qe_identity", json_stringn((const char *)qi.p, qi.len));
        json_object_set_new(j, "qe_identity_signature", json_string(sh));
        json_object_set_new(j, "tcb_info_issuer_chain", json_stringn((const char *)chain.p, chain.len));
        json_object_set_new(j, "qe_identity_issuer_chain", json_stringn((const char *)chain.p, chain.len));
        json_object_set_new(j, "root_ca_crl", json_stringn((const char *)rcrl->p, rcrl->len));
        json_object_set_new(j, "pck_crl", json_stringn((const char *)pcrl->p, pcrl->len));
        char *s = json_dumps(j, JSON_INDENT(2));
        char path[4096];
        r = s ? path_in(dir, tdx ? "collateral-tdx.json" : "collateral-sgx.json", path, sizeof(path))
              : VT_FAIL(VT_ERR_NOMEM);
        if (vti_is_ok(r))
            r = vti_file_write(path, s, strlen(s), 0644);
        free(s);
    }
    json_decref(j);
    vti_buf_free(&ti);
    vti_buf_free(&qi);
    vti_buf_free(&out);
    vti_buf_free(&chain);
    return r;
}

static vt_res sim_intel_init(const char *dir, struct vt_buf *roots_pem)
{
    char sub[4096];
    ENSURE((size_t)snprintf(sub, sizeof(sub), "%s/intel", dir) < sizeof(sub), VT_ERR_INVALID_ARG);
    mkdir(sub, 0755);
    EVP_PKEY *rk = keygen(), *cak = keygen(), *tk = keygen(), *pk = keygen(), *ok2 = keygen(),
             *rvk = keygen(), *ak = keygen();
    X509 *root = NULL, *ca = NULL, *tcbc = NULL, *pck = NULL, *old = NULL, *rev = NULL;
    struct vt_buf e1 = VT_BUF_INIT, e2 = VT_BUF_INIT, rcrl = VT_BUF_INIT, pcrl = VT_BUF_INIT;
    vt_res r = vti_ok();
    ENSURE_GOTO(rk && cak && tk && pk && ok2 && rvk && ak, VT_ERR_CRYPTO, r, out);
    GUARD_GOTO(sgx_ext(COMPS_NEW, PCESVN_NEW, &e1), r, out);
    GUARD_GOTO(sgx_ext(COMPS_OLD, PCESVN_OLD, &e2), r, out);
    root = mkcert("Veritee Sim Intel Root (INSECURE)", rk, NULL, NULL, true, 1, NULL, 0);
    ca = root ? mkcert("Veritee Sim Intel SGX PCK Platform CA", cak, root, rk, true, 2, NULL, 0) : NULL;
    tcbc = root ? mkcert("Veritee Sim Intel SGX TCB Signing", tk, root, rk, false, 3, NULL, 0) : NULL;
    pck = ca ? mkcert("Veritee Sim SGX PCK Certificate", pk, ca, cak, false, 10, e1.p, e1.len) : NULL;
    old = ca ? mkcert("Veritee Sim SGX PCK Certificate", ok2, ca, cak, false, 11, e2.p, e2.len) : NULL;
    rev = ca ? mkcert("Veritee Sim SGX PCK Certificate", rvk, ca, cak, false, 12, e1.p, e1.len) : NULL;
    ENSURE_GOTO(root && ca && tcbc && pck && old && rev, VT_ERR_CRYPTO, r, out);
    GUARD_GOTO(save(dir, "root", root, rk), r, out);
    GUARD_GOTO(save(dir, "pck-ca", ca, cak), r, out);
    GUARD_GOTO(save(dir, "tcb-signing", tcbc, tk), r, out);
    GUARD_GOTO(save(dir, "pck", pck, pk), r, out);
    GUARD_GOTO(save(dir, "pck-old", old, ok2), r, out);
    GUARD_GOTO(save(dir, "pck-revoked", rev, rvk), r, out);
    GUARD_GOTO(save(dir, "ak", NULL, ak), r, out);
    GUARD_GOTO(bundle(dir, false, root, rk, ca, cak, tcbc, tk, rev, &rcrl, &pcrl), r, out);
    GUARD_GOTO(bundle(dir, true, root, rk, ca, cak, tcbc, tk, rev, &rcrl, &pcrl), r, out);
    {
        static const char readme[] =
            "Simulated Intel DCAP PKI (INSECURE test keys; see docs/intel.md). root.pem is the\n"
            "test root that replaces Intel's SGX Root CA (pass DIR/root-ca.pem or this file with\n"
            "--root-ca); pck-ca.pem issues pck.pem (current TCB), pck-old.pem (older TCB) and\n"
            "pck-revoked.pem (listed in the PCK CRL); tcb-signing.pem signs the TCB Info and QE\n"
            "Identity. collateral-sgx.json and collateral-tdx.json are dcap-qvl style bundles (one\n"
            "TCB Info + QE Identity each, same CRLs and signing chain); use one of them with\n"
            "--collateral FILE, or this whole directory with --collateral DIR: the verifier then\n"
            "picks the TCB Info (id, FMSPC) and QE Identity (QE / TD_QE) that fit the quote.\n";
        char rp[4096];
        GUARD_GOTO(path_in(dir, "README", rp, sizeof(rp)), r, out);
        GUARD_GOTO(vti_file_write(rp, readme, sizeof(readme) - 1, 0644), r, out);
    }
    if (roots_pem)
        GUARD_GOTO(vti_sim_x509_pem(root, roots_pem), r, out);
out:
    vti_buf_free(&rcrl);
    vti_buf_free(&pcrl);
    X509_free(root);
    X509_free(ca);
    X509_free(tcbc);
    X509_free(pck);
    X509_free(old);
    X509_free(rev);
    EVP_PKEY_free(rk);
    EVP_PKEY_free(cak);
    EVP_PKEY_free(tk);
    EVP_PKEY_free(pk);
    EVP_PKEY_free(ok2);
    EVP_PKEY_free(rvk);
    EVP_PKEY_free(ak);
    vti_buf_free(&e1);
    vti_buf_free(&e2);
    return r;
}

static vt_res measurement(const struct vti_attest_ctx *ctx, bool tdx, uint8_t m[48])
{
    size_t n = tdx ? 48 : 32;
    const char *s = vti_option(ctx, "sim.measurement", NULL);
    memset(m, 0, 48);
    if (!s) {
        const char *seed = tdx ? "veritee sim-tdx workload" : "veritee sim-sgx workload";
        unsigned int l = 0;
        ENSURE(EVP_Digest(seed, strlen(seed), m, &l, tdx ? EVP_sha384() : EVP_sha256(), NULL) == 1,
               VT_ERR_CRYPTO);
        return vti_ok();
    }
    return vti_sim_measurement_hex(s, strlen(s), n, m);
}

/* sim.eventlog (sim-tdx): RTMR0..3 = the replay of that CCEL log; zeros without it. */
static vt_res rtmrs(const struct vti_attest_ctx *ctx, bool tdx, uint8_t out[4][48])
{
    const char *path = vti_option(ctx, "sim.eventlog", NULL);
    memset(out, 0, 4 * 48);
    if (!path)
        return vti_ok();
    ENSURE(tdx, VT_ERR_INVALID_ARG);
    struct vt_buf b = VT_BUF_INIT;
    struct vt_evlog log;
    struct vt_evlog_replay *r = calloc(1, sizeof(*r));
    vt_res res = r ? vti_file_read(path, VT_EVLOG_MAX_LEN, &b) : VT_FAIL(VT_ERR_NOMEM);
    if (vti_is_ok(res))
        res = vti_evlog_parse(b.p, b.len, VT_EVLOG_CCEL, 0, &log);
    if (vti_is_ok(res))
        res = vti_evlog_replay(&log, r);
    for (int i = 0; vti_is_ok(res) && i < 4; i++)
        memcpy(out[i], r->bank[0].v[i], 48);
    free(r);
    vti_buf_free(&b);
    return res;
}

/* The 384-byte SGX report body layout (enclave body and QE report). */
static vt_res put_sgx_body(struct vt_buf *q, const uint8_t cpusvn[16], uint64_t flags,
                           uint64_t xfrm, const uint8_t mre[32], const uint8_t mrs[32],
                           uint16_t prod, uint16_t svn, const uint8_t rd[64])
{
    GUARD(vti_buf_append(q, cpusvn, 16));
    GUARD(vti_buf_zeros(q, 4 + 12 + 16));
    GUARD(vti_buf_u64le(q, flags));
    GUARD(vti_buf_u64le(q, xfrm));
    GUARD(vti_buf_append(q, mre, 32));
    GUARD(vti_buf_zeros(q, 32));
    GUARD(vti_buf_append(q, mrs, 32));
    GUARD(vti_buf_zeros(q, 32 + 64));
    GUARD(vti_buf_u16le(q, prod));
    GUARD(vti_buf_u16le(q, svn));
    GUARD(vti_buf_zeros(q, 2 + 42 + 16));
    return vti_buf_append(q, rd, 64);
}

/* The quote body: the enclave's SGX report body, or the TD report body (TDX v4). */
static vt_res put_body(struct vt_buf *ev, bool tdx, bool debug, const uint8_t *comps,
                       const uint8_t m[48], const uint8_t rt[4][48], const uint8_t rd[64])
{
    uint8_t mrs[48];
    unsigned int l = 0;
    ENSURE(EVP_Digest("veritee sim signer", 18, mrs, &l, EVP_sha384(), NULL) == 1, VT_ERR_CRYPTO);
    if (!tdx) /* ATTRIBUTES.FLAGS: INIT | MODE64BIT, | DEBUG (bit 1) with sim.debug */
        return put_sgx_body(ev, comps, debug ? 0x07 : 0x05, 0x03, m, mrs, 0, 0, rd);
    GUARD(vti_buf_append(ev, TEE_TCB_SVN, 16));
    GUARD(vti_buf_append(ev, mrs, 48));                          /* MRSEAM */
    GUARD(vti_buf_zeros(ev, 48 + 8));                            /* MRSIGNERSEAM, SEAMATTRIBUTES */
    GUARD(vti_buf_u64le(ev, 0x10000000 | (debug ? 1u : 0u)));    /* TDATTRIBUTES: SEPT_VE_DISABLE,
                                                                 * | DEBUG (bit 0) with sim.debug */
    GUARD(vti_buf_u64le(ev, 0x000000000006e7ULL));
    GUARD(vti_buf_append(ev, m, 48));                            /* MRTD */
    GUARD(vti_buf_zeros(ev, 48 * 3));                            /* MRCONFIGID, MROWNER(CONFIG) */
    GUARD(vti_buf_append(ev, rt, 48 * 4));                       /* RTMR0..3 */
    return vti_buf_append(ev, rd, 64);
}

static vt_res collect(const struct vti_attest_ctx *ctx, bool tdx, const uint8_t rd[64],
                      struct vt_buf *ev, struct vt_buf *endo)
{
    const char *dir = sim_dir(ctx);
    ENSURE(dir, VT_ERR_SIM_NO_DIR);
    const char *which = vti_option(ctx, "sim.pck", "current");
    const char *pname = strcmp(which, "old") == 0 ? "pck-old" :
                        strcmp(which, "revoked") == 0 ? "pck-revoked" : "pck";
    ENSURE(strcmp(which, "current") == 0 || strcmp(pname, "pck") != 0, VT_ERR_INVALID_ARG);
    struct vti_sim_intel_keys keys = { NULL, NULL, VT_BUF_INIT };
    struct vt_buf qe = VT_BUF_INIT, sd = VT_BUF_INIT, cd = VT_BUF_INIT, coll = VT_BUF_INIT;
    struct vt_intel_collateral col = { 0 };
    vt_res r = vti_ok();
    uint8_t m[48], rt[4][48];
    bool debug = false;
    GUARD_GOTO(measurement(ctx, tdx, m), r, out);
    GUARD_GOTO(rtmrs(ctx, tdx, rt), r, out);
    GUARD_GOTO(vti_sim_debug(ctx, &debug), r, out);
    GUARD_GOTO(vti_sim_intel_keys_load(dir, pname, &keys), r, out);
    EVP_PKEY *pk = keys.pck_key, *ak = keys.ak;
    const struct vt_buf chain = keys.chain;
    const uint8_t *comps = strcmp(pname, "pck-old") == 0 ? COMPS_OLD : COMPS_NEW;
    uint16_t pcesvn = strcmp(pname, "pck-old") == 0 ? PCESVN_OLD : PCESVN_NEW;

    /* header */
    GUARD_GOTO(vti_buf_u16le(ev, tdx ? 4 : 3), r, out);
    GUARD_GOTO(vti_buf_u16le(ev, VT_INTEL_KEY_ECDSA_P256), r, out);
    GUARD_GOTO(vti_buf_u32le(ev, tdx ? VT_INTEL_TEE_TDX : VT_INTEL_TEE_SGX), r, out);
    GUARD_GOTO(vti_buf_u16le(ev, tdx ? 0 : QE_SVN), r, out);
    GUARD_GOTO(vti_buf_u16le(ev, tdx ? 0 : pcesvn), r, out);
    GUARD_GOTO(vti_buf_append(ev, vt_intel_qe_vendor_id, 16), r, out);
    GUARD_GOTO(vti_buf_zeros(ev, 20), r, out);
    GUARD_GOTO(put_body(ev, tdx, debug, comps, m, (const uint8_t(*)[48])rt, rd), r, out);
    size_t signed_len = ev->len;
    uint8_t qsig[64], akxy[65], qrd[64] = { 0 }, auth[32], qesig[64];
    size_t akl = sizeof(akxy);
    ENSURE_GOTO(EVP_PKEY_get_octet_string_param(ak, "encoded-pub-key", akxy, sizeof(akxy), &akl) == 1 &&
                akl == 65, VT_ERR_CRYPTO, r, out);
    GUARD_GOTO(vti_sim_sign_raw(ak, EVP_sha256(), 32, ev->p, signed_len, qsig), r, out);
    for (int i = 0; i < 32; i++)
        auth[i] = (uint8_t)i;
    {
        EVP_MD_CTX *h = EVP_MD_CTX_new();
        unsigned int hl = 32;
        bool ok = h && EVP_DigestInit_ex(h, EVP_sha256(), NULL) == 1 &&
                  EVP_DigestUpdate(h, akxy + 1, 64) == 1 && EVP_DigestUpdate(h, auth, 32) == 1 &&
                  EVP_DigestFinal_ex(h, qrd, &hl) == 1;
        EVP_MD_CTX_free(h);
        ENSURE_GOTO(ok, VT_ERR_CRYPTO, r, out);
    }
    uint8_t qe_mre[32] = { 0x9e };
    GUARD_GOTO(put_sgx_body(&qe, comps, 0x11, 0xe7, qe_mre, QE_MRSIGNER, tdx ? 2 : 1, QE_SVN, qrd),
               r, out);
    GUARD_GOTO(vti_sim_sign_raw(pk, EVP_sha256(), 32, qe.p, qe.len, qesig), r, out);
    /* QE report part: report, signature, auth data, type 5 chain */
    GUARD_GOTO(vti_buf_append(&cd, qe.p, qe.len), r, out);
    GUARD_GOTO(vti_buf_append(&cd, qesig, 64), r, out);
    GUARD_GOTO(vti_buf_u16le(&cd, 32), r, out);
    GUARD_GOTO(vti_buf_append(&cd, auth, 32), r, out);
    GUARD_GOTO(vti_buf_u16le(&cd, 5), r, out);
    GUARD_GOTO(vti_buf_u32le(&cd, (uint32_t)chain.len), r, out);
    GUARD_GOTO(vti_buf_append(&cd, chain.p, chain.len), r, out);
    GUARD_GOTO(vti_buf_append(&sd, qsig, 64), r, out);
    GUARD_GOTO(vti_buf_append(&sd, akxy + 1, 64), r, out);
    if (tdx) {
        GUARD_GOTO(vti_buf_u16le(&sd, 6), r, out);
        GUARD_GOTO(vti_buf_u32le(&sd, (uint32_t)cd.len), r, out);
    }
    GUARD_GOTO(vti_buf_append(&sd, cd.p, cd.len), r, out);
    GUARD_GOTO(vti_buf_u32le(ev, (uint32_t)sd.len), r, out);
    GUARD_GOTO(vti_buf_append(ev, sd.p, sd.len), r, out);
    /* endorsements: the bundle as RA-TLS endorsements CBOR */
    if (endo) {
        char path[4096];
        GUARD_GOTO(path_in(dir, tdx ? "collateral-tdx.json" : "collateral-sgx.json", path,
                           sizeof(path)), r, out);
        GUARD_GOTO(vti_file_read(path, 1 << 20, &coll), r, out);
        GUARD_GOTO(vti_intel_collateral_from_bundle(coll.p, coll.len, &col), r, out);
        GUARD_GOTO(vti_intel_collateral_to_endorsements(&col, endo), r, out);
    }
out:
    vti_sim_intel_keys_free(&keys);
    vti_buf_free(&qe);
    vti_buf_free(&sd);
    vti_buf_free(&cd);
    vti_buf_free(&coll);
    vti_intel_collateral_free(&col);
    return r;
}

static vt_res collect_sgx(const struct vti_attest_ctx *ctx, const uint8_t rd[64],
                          struct vt_buf *ev, struct vt_buf *endo)
{
    return collect(ctx, false, rd, ev, endo);
}

static vt_res collect_tdx(const struct vti_attest_ctx *ctx, const uint8_t rd[64],
                          struct vt_buf *ev, struct vt_buf *endo)
{
    return collect(ctx, true, rd, ev, endo);
}

static const char *const sim_intel_options[] = { "sim.measurement", "sim.pck", "sim.debug",
                                                 "sim.eventlog", NULL };
static const struct vt_attester_ops sim_sgx = {
    .hdr = { VT_INSTANCE_ABI, VT_KIND_ATTESTER, "sim-sgx", 1, VT_INST_EXPLICIT, sim_intel_options },
    .tee = "sgx",
    .cbor_tag = 60000,
    .detect = NULL,
    .collect = collect_sgx,
    .sim_init = sim_intel_init,
};
const struct vt_instance_hdr *const vt_inst_sim_sgx_attester = &sim_sgx.hdr;

/* sim-tdx shares the PKI created by sim-sgx's sim_init (no second root). */
static const struct vt_attester_ops sim_tdx = {
    .hdr = { VT_INSTANCE_ABI, VT_KIND_ATTESTER, "sim-tdx", 1, VT_INST_EXPLICIT, sim_intel_options },
    .tee = "tdx",
    .cbor_tag = 60000,
    .detect = NULL,
    .collect = collect_tdx,
    .sim_init = NULL,
};
const struct vt_instance_hdr *const vt_inst_sim_tdx_attester = &sim_tdx.hdr;
