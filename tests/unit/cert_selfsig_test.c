/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cert_selfsig_test.c - the cert_parse flag VT_CERT_PARSE_SELF_SIG, the same contract in every
 * crypto backend (openssl, wolfcrypt when built): self_sig_ok is computed only when asked for
 * (else false: "not checked" never reads as "valid"), a tampered self-signature is refused
 * where it is asked for, also after the same bytes were parsed without the check (the openssl
 * backend memoizes parses), and any other flag bit is VT_ERR_INVALID_ARG. The RA-TLS leaf
 * (vti_ratls_cert_parse asks for the check) with a flipped signature byte is refused by
 * vti_cert_verify with VT_ERR_CERT_SELF_SIG, cold or after its untampered twin verified; the
 * sim AK certificate (parsed without the check) with a flipped signature byte is refused by
 * its chain check, VT_ERR_SIM_CHAIN.
 */
#include <time.h>

#include "cert/ratls.h"
#include "cert/ratls_parse.h"
#include "core/report.h"
#include "crypto/crypto.h"
#include "crypto/openssl_memo.h"
#include "evidence/sim_evidence.h"
#include "vt_test.h"

static const struct vt_crypto_ops *os, *wc;
static const struct vt_attester_ops *att;
static struct vti_attest_ctx actx;
static char dir[512], root_file[600];
static const char *roots[1];

/* cert_parse with flags: the error, and self_sig_ok when it parsed. */
static int parse_ss(const struct vt_crypto_ops *cr, const struct vt_buf *c, unsigned flags,
                    bool *self_sig_ok)
{
    struct vt_cert_info ci;
    int e = cr->cert_parse(c->p, c->len, flags, &ci).err;
    *self_sig_ok = !e && ci.self_sig_ok;
    if (!e)
        vti_cert_info_free(&ci);
    return e;
}

/* A self-signed certificate: checked only when asked; a flipped signature byte parses, and
 * its check fails, whichever parse of the same bytes came first. */
static void test_flag(const struct vt_crypto_ops *cr)
{
    struct vt_buf key = VT_BUF_INIT, cert = VT_BUF_INIT;
    CHECK_OK(cr->keygen(VT_KEY_P256, &key));
    struct vt_cert_params p = { .subject = "CN=selfsig,O=Veritee", .not_before = 1700000000,
                                .not_after = 1900000000, .serial = 5,
                                .key = { key.p, key.len } };
    CHECK_OK(cr->cert_create(&p, &cert));
    bool ok = true;
    vti_ossl_memo_flush();
    CHECK_ERR(parse_ss(cr, &cert, 0, &ok), VT_OK);
    CHECK(!ok); /* not asked: not checked, reads false */
    CHECK_ERR(parse_ss(cr, &cert, VT_CERT_PARSE_SELF_SIG, &ok), VT_OK);
    CHECK(ok);
    CHECK_ERR(parse_ss(cr, &cert, 0, &ok), VT_OK);
    CHECK(!ok);

    struct vt_cert_info ci;
    CHECK_ERR(cr->cert_parse(cert.p, cert.len, 0x2u, &ci), VT_ERR_INVALID_ARG);
    CHECK_ERR(cr->cert_parse(cert.p, cert.len, VT_CERT_PARSE_SELF_SIG | 0x80000000u, &ci),
              VT_ERR_INVALID_ARG);

    /* the last byte of the DER is the last byte of the ECDSA signature's s */
    cert.p[cert.len - 1] ^= 0x01;
    for (int order = 0; order < 2; order++) {
        vti_ossl_memo_flush();
        if (order == 1) { /* the unchecked parse of the tampered bytes is cached first */
            CHECK_ERR(parse_ss(cr, &cert, 0, &ok), VT_OK);
            CHECK(!ok);
        }
        CHECK_ERR(parse_ss(cr, &cert, VT_CERT_PARSE_SELF_SIG, &ok), VT_OK);
        CHECK(!ok);
        CHECK_ERR(parse_ss(cr, &cert, VT_CERT_PARSE_SELF_SIG, &ok), VT_OK); /* memo hit */
        CHECK(!ok);
    }
    vti_buf_free(&key);
    vti_buf_free(&cert);
}

static int verify_der(const struct vt_buf *der)
{
    struct vt_verify_opts o = { .root_ca_files = roots, .n_root_ca_files = 1 };
    struct vt_report *rep = NULL;
    int e = vti_cert_verify(&o, der->p, der->len, &rep).err;
    vt_report_free(rep);
    return e;
}

/* The RA-TLS leaf: its parser asks for the self-signature in every backend, and a flipped
 * signature byte is VT_ERR_CERT_SELF_SIG, cold and after the untampered certificate (and the
 * tampered one without the check) went through the caches. */
static void test_ratls_leaf(void)
{
    struct vti_identity_params p = { .key_type = VT_KEY_P256, .attester = att,
                                     .attest_ctx = &actx };
    struct vti_identity id = { VT_BUF_INIT, VT_BUF_INIT };
    CHECK_OK(vti_identity_create(&p, &id));
    const struct vt_crypto_ops *both[2] = { os, wc };
    struct vti_ratls_cert rc;
    for (int i = 0; i < 2 && both[i]; i++) {
        CHECK_OK(vti_ratls_cert_parse(both[i], id.cert_der.p, id.cert_der.len, &rc));
        CHECK(rc.info.self_sig_ok && rc.has_evidence);
        vti_ratls_cert_free(&rc);
    }
    vti_ossl_memo_flush();
    CHECK_ERR(verify_der(&id.cert_der), VT_OK);
    id.cert_der.p[id.cert_der.len - 1] ^= 0x01;
    bool ok = true;
    CHECK_ERR(parse_ss(os, &id.cert_der, 0, &ok), VT_OK);
    CHECK_ERR(verify_der(&id.cert_der), VT_ERR_CERT_SELF_SIG);
    vti_ossl_memo_flush_peer();
    CHECK_ERR(verify_der(&id.cert_der), VT_ERR_CERT_SELF_SIG);
    vti_ossl_memo_flush();
    CHECK_ERR(verify_der(&id.cert_der), VT_ERR_CERT_SELF_SIG);
    for (int i = 0; i < 2 && both[i]; i++) {
        CHECK_OK(vti_ratls_cert_parse(both[i], id.cert_der.p, id.cert_der.len, &rc));
        CHECK(!rc.info.self_sig_ok);
        vti_ratls_cert_free(&rc);
    }
    id.cert_der.p[id.cert_der.len - 1] ^= 0x01;
    CHECK_ERR(verify_der(&id.cert_der), VT_OK);
    vti_identity_free(&id);
}

/* The sim AK certificate is parsed without the self-signature check: its signature (by the
 * root) is the chain check's, which refuses a flipped byte of it, cold and warm. */
static void test_sim_ak_signature(void)
{
    const struct vt_instance_hdr *h;
    CHECK_OK(vti_instance_find(VT_KIND_VERIFIER, "sim", &h));
    const struct vt_verifier_ops *ver = (const struct vt_verifier_ops *)h;
    struct vt_buf ev = VT_BUF_INIT, en = VT_BUF_INIT;
    uint8_t rd[64] = { 7 };
    CHECK_OK(att->collect(&actx, rd, &ev, &en));
    struct vti_sim_evidence se;
    CHECK_OK(vti_sim_evidence_parse(ev.p, ev.len, &se));
    size_t last = (size_t)(se.ak_cert - ev.p) + se.ak_cert_len - 1; /* the AK's signature */
    struct vt_verify_opts o = { .root_ca_files = roots, .n_root_ca_files = 1 };
    struct vti_verify_ctx c = { .opts = &o, .at = (int64_t)time(NULL) };
    for (int warm = 0; warm < 2; warm++) {
        vti_ossl_memo_flush_peer();
        struct vt_report *rep = vti_report_new();
        if (warm)
            CHECK_ERR(ver->verify(&c, ev.p, ev.len, rep), VT_OK);
        vt_report_free(rep);
        ev.p[last] ^= 0x01;
        rep = vti_report_new();
        CHECK_ERR(ver->verify(&c, ev.p, ev.len, rep), VT_ERR_SIM_CHAIN);
        vt_report_free(rep);
        ev.p[last] ^= 0x01;
    }
    vti_buf_free(&ev);
    vti_buf_free(&en);
}

int main(void)
{
    CHECK_OK(vti_registry_init(NULL));
    CHECK_OK(vti_crypto_get("openssl", &os));
    if (vti_crypto_get("wolfcrypt", &wc).err)
        wc = NULL; /* not built in */
    att = vt_test_sim_dir("selfsig-sim", dir, sizeof(dir), root_file, sizeof(root_file));
    if (!att)
        return vt_test_done();
    actx.sim_dir = dir;
    roots[0] = root_file;

    test_flag(os);
    if (wc)
        test_flag(wc);
    test_ratls_leaf();
    test_sim_ak_signature();
    vti_ossl_memo_flush();
    return vt_test_done();
}
