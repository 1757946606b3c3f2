/* SPDX-License-Identifier: Apache-2.0 */
/*
 * memo_test.c - the memo caches of the openssl crypto backend (src/crypto/openssl.c) never
 * turn a failure into a success: after a chain, a certificate and a key are cached, a tampered
 * certificate, a different root (same name, other key), a time outside the cached window, an
 * off-curve key and sim evidence checked against another sim root (or a root file whose
 * content changed) are still refused with their own codes; hits are really taken (counters);
 * the peer-only flush keeps the trust-anchor stores and nothing else; a certificate's decoded
 * key is offered to the key memo only when it decoded; many threads share the caches (ASan
 * build).
 */
#include <openssl/x509.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "core/instance.h"
#include "core/report.h"
#include "crypto/crypto.h"
#include "crypto/openssl_memo.h"
#include "evidence/sim_evidence.h"
#include "vt_test.h"

static const struct vt_crypto_ops *cr;

struct pki {
    struct vt_buf rk, rc, other_rk, other_rc, lk, ls, leaf;
};

/* root "CN=memo root" valid 1600000000..1900000000; a second root with the SAME name and
 * another key; a leaf issued by the first valid 1700000000..1800000000. */
static void make_pki(struct pki *p)
{
    memset(p, 0, sizeof(*p));
    CHECK_OK(cr->keygen(VT_KEY_P256, &p->rk));
    CHECK_OK(cr->keygen(VT_KEY_P256, &p->other_rk));
    CHECK_OK(cr->keygen(VT_KEY_P256, &p->lk));
    CHECK_OK(cr->key_spki((struct vt_der){ p->lk.p, p->lk.len }, &p->ls));
    struct vt_cert_params rp = { .subject = "CN=memo root", .not_before = 1600000000,
                                 .not_after = 1900000000, .serial = 1, .is_ca = true,
                                 .key = { p->rk.p, p->rk.len } };
    CHECK_OK(cr->cert_create(&rp, &p->rc));
    rp.key = (struct vt_der){ p->other_rk.p, p->other_rk.len };
    CHECK_OK(cr->cert_create(&rp, &p->other_rc));
    struct vt_cert_params lp = { .subject = "CN=memo ak", .not_before = 1700000000,
                                 .not_after = 1800000000, .serial = 2,
                                 .subject_spki = { p->ls.p, p->ls.len },
                                 .issuer_key = { p->rk.p, p->rk.len },
                                 .issuer_cert = { p->rc.p, p->rc.len } };
    CHECK_OK(cr->cert_create(&lp, &p->leaf));
}

static void free_pki(struct pki *p)
{
    vti_buf_free(&p->rk);
    vti_buf_free(&p->other_rk);
    vti_buf_free(&p->lk);
    vti_buf_free(&p->rc);
    vti_buf_free(&p->other_rc);
    vti_buf_free(&p->ls);
    vti_buf_free(&p->leaf);
}

static void test_chain(struct pki *p)
{
    struct vti_ossl_memo_stats s0, s1;
    struct vt_der leaf = { p->leaf.p, p->leaf.len };
    struct vt_der root = { p->rc.p, p->rc.len }, other = { p->other_rc.p, p->other_rc.len };
    struct vt_der both[2] = { other, root };
    vti_ossl_memo_flush();
    vti_ossl_memo_stats(&s0);
    CHECK_OK(cr->chain_verify(&leaf, 1, &root, 1, 1750000000));
    CHECK_OK(cr->chain_verify(&leaf, 1, &root, 1, 1750000000));
    CHECK_OK(cr->chain_verify(&leaf, 1, &root, 1, 1710000000)); /* elsewhere in the window */
    vti_ossl_memo_stats(&s1);
    CHECK(s1.chain_misses - s0.chain_misses == 1 && s1.chain_hits - s0.chain_hits == 2);

    /* a different root with the same name: refused although the leaf's chain is cached */
    CHECK_ERR(cr->chain_verify(&leaf, 1, &other, 1, 1750000000), VT_ERR_NOT_TRUSTED);
    CHECK_OK(cr->chain_verify(&leaf, 1, both, 2, 1750000000));
    /* outside the cached window (leaf expired / not yet valid): recomputed and refused, with
     * the cached store of the same anchors */
    vti_ossl_memo_stats(&s0);
    CHECK_ERR(cr->chain_verify(&leaf, 1, &root, 1, 1850000000), VT_ERR_NOT_TRUSTED);
    CHECK_ERR(cr->chain_verify(&leaf, 1, &root, 1, 1650000000), VT_ERR_NOT_TRUSTED);
    vti_ossl_memo_stats(&s1);
    CHECK(s1.store_hits - s0.store_hits == 2 && s1.chain_hits == s0.chain_hits);
    /* the window's edges are never served from the cache */
    vti_ossl_memo_stats(&s0);
    CHECK_OK(cr->chain_verify(&leaf, 1, &root, 1, 1700000000));
    vti_ossl_memo_stats(&s1);
    CHECK(s1.chain_hits == s0.chain_hits);

    /* every single-byte change of the cached leaf is refused (parse error or untrusted) */
    size_t refused = 0;
    for (size_t i = 0; i < p->leaf.len; i++) {
        uint8_t *t = malloc(p->leaf.len);
        CHECK(t != NULL);
        if (!t)
            return;
        memcpy(t, p->leaf.p, p->leaf.len);
        t[i] ^= 0x01;
        struct vt_der tl = { t, p->leaf.len };
        int e = cr->chain_verify(&tl, 1, &root, 1, 1750000000).err;
        if (e == VT_ERR_NOT_TRUSTED || e == VT_ERR_CERT_PARSE)
            refused++;
        else
            fprintf(stderr, "flip at %zu: %s\n", i, vt_strerror(e));
        free(t);
    }
    CHECK(refused == p->leaf.len);
    /* and the cached original still verifies */
    CHECK_OK(cr->chain_verify(&leaf, 1, &root, 1, 1750000000));
}

/* The X509 object memo: a certificate parsed for its fields is not decoded again by the chain
 * check of the same bytes; a tampered copy that still parses (and so is kept as an object
 * itself) is refused by the chain check all the same. */
static void test_x509_memo(struct pki *p)
{
    struct vti_ossl_memo_stats s0, s1;
    struct vt_der leaf = { p->leaf.p, p->leaf.len }, root = { p->rc.p, p->rc.len };
    struct vt_cert_info ci;
    vti_ossl_memo_flush();
    vti_ossl_memo_stats(&s0);
    CHECK_OK(cr->cert_parse(p->leaf.p, p->leaf.len, 0, &ci));
    vti_cert_info_free(&ci);
    CHECK_OK(cr->chain_verify(&leaf, 1, &root, 1, 1750000000));
    vti_ossl_memo_stats(&s1);
    CHECK(s1.x509_hits - s0.x509_hits == 1); /* the leaf, parsed once */
    CHECK(s1.x509_misses - s0.x509_misses == 2); /* leaf and root */
    size_t refused = 0, parsed = 0;
    for (size_t i = 0; i < p->leaf.len; i++) {
        uint8_t *t = malloc(p->leaf.len);
        CHECK(t != NULL);
        if (!t)
            return;
        memcpy(t, p->leaf.p, p->leaf.len);
        t[i] ^= 0x01;
        if (cr->cert_parse(t, p->leaf.len, 0, &ci).err == 0) {
            parsed++;
            vti_cert_info_free(&ci);
        }
        struct vt_der tl = { t, p->leaf.len };
        int e = cr->chain_verify(&tl, 1, &root, 1, 1750000000).err;
        refused += e == VT_ERR_NOT_TRUSTED || e == VT_ERR_CERT_PARSE;
        free(t);
    }
    CHECK(refused == p->leaf.len);
    CHECK(parsed > 0); /* some tampered copies were kept as objects and still refused */
    CHECK_OK(cr->chain_verify(&leaf, 1, &root, 1, 1750000000));
}

/* cert_parse's outcome in comparable form. */
static void parse_sig(const uint8_t *d, size_t n, int *err, struct vt_buf *spki, bool *selfsig)
{
    struct vt_cert_info ci;
    *err = cr->cert_parse(d, n, VT_CERT_PARSE_SELF_SIG, &ci).err;
    *selfsig = !*err && ci.self_sig_ok;
    if (!*err) {
        CHECK_OK(vti_buf_append(spki, ci.spki.p, ci.spki.len));
        vti_cert_info_free(&ci);
    }
}

/* A certificate offered by the TLS stack (vti_ossl_memo_offer_x509) is a hit for its own
 * bytes only: every one-bit change parses exactly as it does with the memo empty. */
static void test_offer(const struct vt_buf *cert)
{
    struct vti_ossl_memo_stats s0, s1;
    const unsigned char *q = cert->p;
    X509 *x = d2i_X509(NULL, &q, (long)cert->len);
    CHECK(x != NULL);
    vti_ossl_memo_flush();
    vti_ossl_memo_offer_x509(cert->p, cert->len, x);
    X509_free(x);
    vti_ossl_memo_stats(&s0);
    struct vt_cert_info ci;
    CHECK_OK(cr->cert_parse(cert->p, cert->len, VT_CERT_PARSE_SELF_SIG, &ci));
    vti_cert_info_free(&ci);
    vti_ossl_memo_stats(&s1);
    CHECK(s1.x509_hits - s0.x509_hits == 1 && s1.x509_misses == s0.x509_misses);
    size_t same = 0;
    uint8_t *t = malloc(cert->len);
    for (size_t i = 0; t && i < cert->len; i++) {
        memcpy(t, cert->p, cert->len);
        t[i] ^= 0x01;
        vti_ossl_memo_flush();
        x = d2i_X509(NULL, &(const unsigned char *){ cert->p }, (long)cert->len);
        vti_ossl_memo_offer_x509(cert->p, cert->len, x); /* the original is offered */
        X509_free(x);
        int e1, e2;
        bool ss1, ss2;
        struct vt_buf k1 = VT_BUF_INIT, k2 = VT_BUF_INIT;
        parse_sig(t, cert->len, &e1, &k1, &ss1);
        vti_ossl_memo_flush();
        parse_sig(t, cert->len, &e2, &k2, &ss2);
        same += e1 == e2 && ss1 == ss2 && k1.len == k2.len &&
                (k1.len == 0 || !memcmp(k1.p, k2.p, k1.len)) &&
                (e1 || !ss1); /* never a tampered certificate with a valid own signature */
        vti_buf_free(&k1);
        vti_buf_free(&k2);
    }
    free(t);
    CHECK(same == cert->len);
}

static void test_cert_and_key(struct pki *p)
{
    struct vti_ossl_memo_stats s0, s1;
    struct vt_buf cert = VT_BUF_INIT, sig = VT_BUF_INIT;
    struct vt_cert_params cp = { .subject = "CN=memo leaf", .not_before = 1700000000,
                                 .not_after = 1800000000, .serial = 3,
                                 .key = { p->lk.p, p->lk.len } };
    CHECK_OK(cr->cert_create(&cp, &cert));
    struct vt_cert_info a, b, c;
    vti_ossl_memo_stats(&s0);
    CHECK_OK(cr->cert_parse(cert.p, cert.len, VT_CERT_PARSE_SELF_SIG, &a));
    CHECK_OK(cr->cert_parse(cert.p, cert.len, VT_CERT_PARSE_SELF_SIG, &b));
    vti_ossl_memo_stats(&s1);
    CHECK(s1.cert_hits - s0.cert_hits >= 1);
    CHECK(a.self_sig_ok && b.self_sig_ok && !strcmp(a.subject, b.subject));
    CHECK(a.spki.len == b.spki.len && memcmp(a.spki.p, b.spki.p, a.spki.len) == 0);
    CHECK(a.spki.p != b.spki.p); /* deep copies: each caller owns and frees its own */
    /* the last byte of the signature changed: a different certificate, whose own
     * self-signature check fails, although the original's success is cached */
    cert.p[cert.len - 1] ^= 0x01;
    vt_res r = cr->cert_parse(cert.p, cert.len, VT_CERT_PARSE_SELF_SIG, &c);
    CHECK(r.err == VT_ERR_CERT_PARSE || (r.err == 0 && !c.self_sig_ok));
    if (!r.err)
        vti_cert_info_free(&c);
    vti_cert_info_free(&a);
    vti_cert_info_free(&b);

    /* keys: the cached SPKI verifies; a changed point is refused (off the curve) */
    const uint8_t msg[] = "memo";
    CHECK_OK(cr->sign((struct vt_der){ p->lk.p, p->lk.len }, msg, sizeof(msg), &sig));
    vti_ossl_memo_stats(&s0);
    CHECK_OK(cr->verify((struct vt_der){ p->ls.p, p->ls.len }, VT_HASH_SHA256, msg, sizeof(msg), sig.p, sig.len));
    CHECK_OK(cr->verify((struct vt_der){ p->ls.p, p->ls.len }, VT_HASH_SHA256, msg, sizeof(msg), sig.p, sig.len));
    vti_ossl_memo_stats(&s1);
    CHECK(s1.key_hits - s0.key_hits >= 1);
    CHECK_ERR(cr->verify((struct vt_der){ p->ls.p, p->ls.len }, VT_HASH_SHA256, msg, sizeof(msg) - 1, sig.p, sig.len),
              VT_ERR_SIGNATURE);
    struct vt_buf bad = VT_BUF_INIT;
    CHECK_OK(vti_buf_append(&bad, p->ls.p, p->ls.len));
    bad.p[bad.len - 1] ^= 0x01; /* y changed: (x, y') is not on P-256 */
    CHECK_ERR(cr->verify((struct vt_der){ bad.p, bad.len }, VT_HASH_SHA256, msg, sizeof(msg), sig.p, sig.len),
              VT_ERR_KEY_PARSE);
    bad.p[27] = 0x02; /* a compressed-point prefix: not the fast path's shape, still refused */
    CHECK(cr->verify((struct vt_der){ bad.p, bad.len }, VT_HASH_SHA256, msg, sizeof(msg), sig.p, sig.len).err != 0);
    vti_buf_free(&bad);
    vti_buf_free(&sig);
    vti_buf_free(&cert);
}

/* vti_ossl_memo_flush_peer empties what peers bring (chains, certificates, X509 objects,
 * keys) and keeps the trust-anchor stores, which still only serve their exact root bytes;
 * vti_ossl_memo_flush_anchors empties the stores only; vti_ossl_memo_flush both. */
static void test_flush_peer(struct pki *p)
{
    struct vti_ossl_memo_stats s0, s1;
    struct vt_der leaf = { p->leaf.p, p->leaf.len };
    struct vt_der root = { p->rc.p, p->rc.len }, other = { p->other_rc.p, p->other_rc.len };
    vti_ossl_memo_flush();
    CHECK_OK(cr->chain_verify(&leaf, 1, &root, 1, 1750000000));
    vti_ossl_memo_flush_peer();
    vti_ossl_memo_stats(&s0);
    CHECK_OK(cr->chain_verify(&leaf, 1, &root, 1, 1750000000));
    vti_ossl_memo_stats(&s1);
    CHECK(s1.chain_misses - s0.chain_misses == 1 && s1.chain_hits == s0.chain_hits);
    CHECK(s1.store_hits - s0.store_hits == 1 && s1.store_misses == s0.store_misses);
    CHECK(s1.x509_misses - s0.x509_misses == 1); /* the leaf only: the root is in its store */
    /* a root with the same name and another key: its own store, and the leaf is refused */
    vti_ossl_memo_flush_peer();
    CHECK_ERR(cr->chain_verify(&leaf, 1, &other, 1, 1750000000), VT_ERR_NOT_TRUSTED);
    vti_ossl_memo_flush_peer();
    CHECK_ERR(cr->chain_verify(&leaf, 1, &other, 1, 1750000000), VT_ERR_NOT_TRUSTED);
    /* anchors only: the cached chain is still a hit, the store is rebuilt when needed */
    CHECK_OK(cr->chain_verify(&leaf, 1, &root, 1, 1750000000));
    vti_ossl_memo_flush_anchors();
    vti_ossl_memo_stats(&s0);
    CHECK_OK(cr->chain_verify(&leaf, 1, &root, 1, 1750000000));
    CHECK_ERR(cr->chain_verify(&leaf, 1, &root, 1, 1850000000), VT_ERR_NOT_TRUSTED);
    vti_ossl_memo_stats(&s1);
    CHECK(s1.chain_hits - s0.chain_hits == 1 && s1.store_misses - s0.store_misses == 1);
    /* everything */
    vti_ossl_memo_flush();
    vti_ossl_memo_stats(&s0);
    CHECK_OK(cr->chain_verify(&leaf, 1, &root, 1, 1750000000));
    vti_ossl_memo_stats(&s1);
    CHECK(s1.chain_misses - s0.chain_misses == 1 && s1.store_misses - s0.store_misses == 1);
}

/* A certificate parse offers the public key OpenSSL decoded with it to the key memo: the
 * verification with the same SPKI then decodes nothing. A certificate whose key does not
 * decode (a point off the curve) is refused and offers nothing: a verification with that
 * SPKI is refused too. */
static void test_key_offer(struct pki *p)
{
    struct vti_ossl_memo_stats s0, s1;
    struct vt_buf sig = VT_BUF_INIT, bad = VT_BUF_INIT;
    const uint8_t msg[] = "offered";
    CHECK_OK(cr->sign((struct vt_der){ p->lk.p, p->lk.len }, msg, sizeof(msg), &sig));
    struct vt_cert_info ci;
    vti_ossl_memo_flush_peer();
    CHECK_OK(cr->cert_parse(p->leaf.p, p->leaf.len, 0, &ci));
    CHECK(ci.spki.len == p->ls.len && !memcmp(ci.spki.p, p->ls.p, p->ls.len));
    vti_cert_info_free(&ci);
    vti_ossl_memo_stats(&s0);
    CHECK_OK(cr->verify((struct vt_der){ p->ls.p, p->ls.len }, VT_HASH_SHA256, msg, sizeof(msg),
                        sig.p, sig.len));
    vti_ossl_memo_stats(&s1);
    CHECK(s1.key_hits - s0.key_hits == 1 && s1.key_misses == s0.key_misses);

    /* the leaf with y of its key changed (no longer on P-256): the certificate still decodes
     * as an X509 (OpenSSL decodes keys opportunistically), cert_parse refuses it */
    CHECK_OK(vti_buf_append(&bad, p->leaf.p, p->leaf.len));
    uint8_t *at = memmem(bad.p, bad.len, p->ls.p, p->ls.len);
    CHECK(at != NULL);
    if (at) {
        at[p->ls.len - 1] ^= 0x01;
        vti_ossl_memo_flush_peer();
        CHECK_ERR(cr->cert_parse(bad.p, bad.len, 0, &ci), VT_ERR_KEY_PARSE);
        CHECK_ERR(cr->cert_parse(bad.p, bad.len, VT_CERT_PARSE_SELF_SIG, &ci), VT_ERR_KEY_PARSE);
        CHECK_ERR(cr->verify((struct vt_der){ at, p->ls.len }, VT_HASH_SHA256, msg, sizeof(msg),
                             sig.p, sig.len), VT_ERR_KEY_PARSE);
    }
    vti_buf_free(&bad);
    vti_buf_free(&sig);
}

/* sim evidence: verified against its own root (cached), then refused against another sim
 * root, and refused when its AK certificate is changed. */
static void test_sim(void)
{
    const struct vt_instance_hdr *h;
    CHECK_OK(vti_instance_find(VT_KIND_ATTESTER, "sim", &h));
    const struct vt_attester_ops *att = (const struct vt_attester_ops *)h;
    CHECK_OK(vti_instance_find(VT_KIND_VERIFIER, "sim", &h));
    const struct vt_verifier_ops *ver = (const struct vt_verifier_ops *)h;
    char d1[512], d2[512], r1[600], r2[600];
    snprintf(d1, sizeof(d1), "%s/memo-sim1", vt_test_tmpdir());
    snprintf(d2, sizeof(d2), "%s/memo-sim2", vt_test_tmpdir());
    struct vt_buf pem1 = VT_BUF_INIT, pem2 = VT_BUF_INIT, ev = VT_BUF_INIT, en = VT_BUF_INIT;
    CHECK_OK(att->sim_init(d1, &pem1));
    CHECK_OK(att->sim_init(d2, &pem2));
    snprintf(r1, sizeof(r1), "%s/root-ca.pem", d1);
    snprintf(r2, sizeof(r2), "%s/root-ca.pem", d2);
    CHECK_OK(vti_file_write(r1, pem1.p, pem1.len, 0644));
    CHECK_OK(vti_file_write(r2, pem2.p, pem2.len, 0644));
    uint8_t rd[64] = { 1, 2, 3 };
    CHECK_OK(att->collect(&(struct vti_attest_ctx){ .sim_dir = d1 }, rd, &ev, &en));

    int64_t now = (int64_t)time(NULL);
    const char *roots1[1] = { r1 }, *roots2[1] = { r2 };
    struct vt_verify_opts o1 = { .root_ca_files = roots1, .n_root_ca_files = 1 };
    struct vt_verify_opts o2 = { .root_ca_files = roots2, .n_root_ca_files = 1 };
    struct vti_verify_ctx c1 = { .opts = &o1, .at = now }, c2 = { .opts = &o2, .at = now };
    for (int i = 0; i < 3; i++) {
        struct vt_report *rep = vti_report_new();
        CHECK_ERR(ver->verify(&c1, ev.p, ev.len, rep), VT_OK);
        vt_report_free(rep);
        rep = vti_report_new();
        CHECK_ERR(ver->verify(&c2, ev.p, ev.len, rep), VT_ERR_SIM_CHAIN);
        vt_report_free(rep);
    }
    /* a byte of the AK certificate's subject public key changed (the signed region changes
     * too, so both the chain and the evidence signature must refuse it) */
    struct vti_sim_evidence se;
    CHECK_OK(vti_sim_evidence_parse(ev.p, ev.len, &se));
    size_t off = (size_t)(se.ak_cert - ev.p) + se.ak_cert_len / 2;
    ev.p[off] ^= 0x40;
    struct vt_report *rep = vti_report_new();
    int e = ver->verify(&c1, ev.p, ev.len, rep).err;
    CHECK(e == VT_ERR_SIM_CHAIN || e == VT_ERR_SIM_AK_CERT);
    vt_report_free(rep);
    ev.p[off] ^= 0x40;
    rep = vti_report_new();
    CHECK_ERR(ver->verify(&c1, ev.p, ev.len, rep), VT_OK);
    vt_report_free(rep);
    /* the root file replaced by another root: the content changed, so no stale success */
    CHECK_OK(vti_file_write(r1, pem2.p, pem2.len, 0644));
    rep = vti_report_new();
    CHECK_ERR(ver->verify(&c1, ev.p, ev.len, rep), VT_ERR_SIM_CHAIN);
    vt_report_free(rep);
    vti_buf_free(&pem1);
    vti_buf_free(&pem2);
    vti_buf_free(&ev);
    vti_buf_free(&en);
}

/* Many threads hit, miss, insert and flush at once (races show under ASan/TSan). */
static struct pki *shared;
static int thread_failures;
static pthread_mutex_t tf_lock = PTHREAD_MUTEX_INITIALIZER;

static void *worker(void *arg)
{
    long id = (long)arg;
    struct vt_der leaf = { shared->leaf.p, shared->leaf.len };
    struct vt_der root = { shared->rc.p, shared->rc.len }, other = { shared->other_rc.p, shared->other_rc.len };
    int bad = 0;
    for (int i = 0; i < 40; i++) {
        struct vt_cert_info ci;
        if (cr->chain_verify(&leaf, 1, &root, 1, 1750000000 + i).err)
            bad++;
        if (cr->chain_verify(&leaf, 1, &other, 1, 1750000000).err != VT_ERR_NOT_TRUSTED)
            bad++;
        if (cr->cert_parse(shared->rc.p, shared->rc.len, VT_CERT_PARSE_SELF_SIG, &ci).err ||
            !ci.self_sig_ok)
            bad++;
        else
            vti_cert_info_free(&ci);
        if (id == 0 && i % 10 == 0)
            vti_ossl_memo_flush();
    }
    pthread_mutex_lock(&tf_lock);
    thread_failures += bad;
    pthread_mutex_unlock(&tf_lock);
    return NULL;
}

static void test_threads(struct pki *p)
{
    shared = p;
    pthread_t t[4];
    for (long i = 0; i < 4; i++)
        CHECK(pthread_create(&t[i], NULL, worker, (void *)i) == 0);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    CHECK(thread_failures == 0);
}

int main(void)
{
    CHECK_OK(vti_registry_init(NULL));
    CHECK_OK(vti_crypto_get("openssl", &cr));
    struct pki p;
    make_pki(&p);
    test_chain(&p);
    test_x509_memo(&p);
    test_offer(&p.leaf);
    test_offer(&p.rc); /* self-signed: no changed copy keeps a valid own signature */
    test_cert_and_key(&p);
    test_flush_peer(&p);
    test_key_offer(&p);
    test_sim();
    test_threads(&p);
    free_pki(&p);
    vti_ossl_memo_flush();
    return vt_test_done();
}
