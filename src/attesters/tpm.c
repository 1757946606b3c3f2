/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tpm.c - the plain TPM 2.0 attester "tpm" (GCP Shielded/Confidential VMs' vTPM, bare-metal
 * TPMs, swtpm): evidence in the JSON shape of evidence/tpm_evidence.h (Trustee's "tpm"
 * evidence plus the AK certificate and the event log; docs/tpm.md).
 *
 * collect(report_data):
 *   1. the AK at persistent handle tpm.ak_handle (default 0x81010002), of the key type
 *      tpm.ak ("rsa", the default: a restricted RSA signing key with the RSASSA SHA-256
 *      scheme; "ecc": a restricted NIST P-256 signing key with the ECDSA SHA-256 scheme); its
 *      public key becomes "ak_public" (DER SubjectPublicKeyInfo);
 *   2. the AK certificate from NV (tpm.ak_cert_nv: "auto" = GCE's indices: for an RSA AK
 *      0x01c10000 (RSA AK) then 0x01c10002 (ECC AK), for an ECC AK 0x01c10002 only; an index
 *      in hex; "none"): the DER certificate (trailing NV padding cut at the DER length);
 *      absent under "auto" is not an error (the verifier then needs a pinned AK);
 *   3. TPM2_Quote of PCRs 0-23 (SHA-256) with the AK (tpm_dev.c), extraData = the nonce =
 *      report_data[0..n) where n = tpm.nonce_len if given (0..64), else the report data with
 *      its trailing zero bytes removed (as az-*-vtpm; the KBS client passes 64, as
 *      guest-components' TPM attester pads the runtime-data digest to 64 bytes); the
 *      signature goes out as a marshalled TPMT_SIGNATURE (RSASSA or ECDSA, SHA-256);
 *   4. the kernel's TCG event log, tpm.eventlog (default
 *      /sys/kernel/security/tpm0/binary_bios_measurements; "none" to leave it out): attached
 *      when the default file is absent or unreadable it is left out; a path given
 *      explicitly must be readable (VT_ERR_TPM_ATT_EVENTLOG).
 * detect(): the TCTI opens (device: TCTIs: the device node exists) and an AK is at
 * tpm.ak_handle. Priority 40: below the hardware TEEs and the Azure vTPM attesters.
 * Provisioning an AK and its certificate: docs/tpm.md (tpm2-tools commands).
 * RA-TLS: CBOR tag VTI_TAG_TPM (0x1a7512, private use). No endorsements.
 */
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attesters/tpm_dev.h"
#include "cert/ratls_parse.h"
#include "core/instance.h"
#include "evidence/tpm_evidence.h"
#include "util/secmem.h"

#define DEFAULT_AK_HANDLE 0x81010002u
#define GCE_NV_AK_CERT_RSA 0x01c10000u
#define GCE_NV_AK_CERT_ECC 0x01c10002u
#define DEFAULT_EVENTLOG "/sys/kernel/security/tpm0/binary_bios_measurements"
#define MAX_EVENTLOG (16u << 20)

static const char *const tpm_options[] = { "tpm.tcti", "tpm.ak_handle", "tpm.ak_cert_nv",
                                           "tpm.eventlog", "tpm.nonce_len", "tpm.ak", NULL };

struct params {
    const char *tcti;
    uint32_t ak;
    bool ecc; /* tpm.ak=ecc */
    uint32_t nv[2];
    size_t n_nv;
    bool nv_auto;
    const char *eventlog;
    bool eventlog_explicit;
    size_t nonce_len;
};

static bool parse_u32(const char *s, uint32_t *out)
{
    char *end = NULL;
    unsigned long v = strtoul(s, &end, 0);
    if (!s[0] || !end || *end || v > 0xffffffffUL || s[0] == '-')
        return false;
    *out = (uint32_t)v;
    return true;
}

static vt_res params_nv(const struct vti_attest_ctx *ctx, struct params *p)
{
    const char *nv = vti_option(ctx, "tpm.ak_cert_nv", "auto");
    p->nv_auto = strcmp(nv, "auto") == 0;
    if (p->nv_auto && p->ecc) {
        p->nv[0] = GCE_NV_AK_CERT_ECC;
        p->n_nv = 1;
    } else if (p->nv_auto) {
        p->nv[0] = GCE_NV_AK_CERT_RSA;
        p->nv[1] = GCE_NV_AK_CERT_ECC;
        p->n_nv = 2;
    } else if (strcmp(nv, "none") != 0) {
        ENSURE(parse_u32(nv, &p->nv[0]), VT_ERR_TPM_ATT_OPTION);
        p->n_nv = 1;
    }
    return vti_ok();
}

static vt_res params(const struct vti_attest_ctx *ctx, const uint8_t rd[64], struct params *p)
{
    memset(p, 0, sizeof(*p));
    p->tcti = vti_option(ctx, "tpm.tcti", VTI_TPM_DEFAULT_TCTI);
    p->ak = DEFAULT_AK_HANDLE;
    const char *ak = vti_option(ctx, "tpm.ak_handle", NULL);
    ENSURE(!ak || parse_u32(ak, &p->ak), VT_ERR_TPM_ATT_OPTION);
    const char *kt = vti_option(ctx, "tpm.ak", "rsa");
    ENSURE(strcmp(kt, "rsa") == 0 || strcmp(kt, "ecc") == 0, VT_ERR_TPM_ATT_OPTION);
    p->ecc = strcmp(kt, "ecc") == 0;
    GUARD(params_nv(ctx, p));
    const char *ev = vti_option(ctx, "tpm.eventlog", NULL);
    p->eventlog_explicit = ev && strcmp(ev, "none") != 0;
    p->eventlog = ev ? (strcmp(ev, "none") == 0 ? NULL : ev) : DEFAULT_EVENTLOG;
    const char *nl = vti_option(ctx, "tpm.nonce_len", NULL);
    uint32_t n = 64;
    ENSURE(!nl || (nl[0] >= '0' && nl[0] <= '9' && parse_u32(nl, &n) && n <= 64),
           VT_ERR_TPM_ATT_OPTION);
    p->nonce_len = n;
    if (!nl)
        while (p->nonce_len > 0 && rd[p->nonce_len - 1] == 0)
            p->nonce_len--;
    return vti_ok();
}

/* ---- 1: AK public key ----------------------------------------------------------------- */

/* The public key built from the parameters pushed on b (pushed: all pushes succeeded), of
 * OpenSSL key type type, as a DER SubjectPublicKeyInfo appended to spki. Frees b. */
static vt_res spki_from_bld(const char *type, OSSL_PARAM_BLD *b, bool pushed, struct vt_buf *spki)
{
    OSSL_PARAM *ps = NULL;
    EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
    EVP_PKEY *k = NULL;
    unsigned char *der = NULL;
    int len = 0;
    if (pushed && pc && (ps = OSSL_PARAM_BLD_to_param(b)) != NULL &&
        EVP_PKEY_fromdata_init(pc) == 1 && EVP_PKEY_fromdata(pc, &k, EVP_PKEY_PUBLIC_KEY, ps) == 1)
        len = i2d_PUBKEY(k, &der);
    vt_res r = len > 0 ? vti_buf_append(spki, der, (size_t)len) : VT_FAIL(VT_ERR_CRYPTO);
    OPENSSL_free(der);
    EVP_PKEY_free(k);
    EVP_PKEY_CTX_free(pc);
    OSSL_PARAM_free(ps);
    OSSL_PARAM_BLD_free(b);
    return r;
}

static vt_res spki_from_ne(const struct vt_buf *n, uint32_t e, struct vt_buf *spki)
{
    BIGNUM *bn = BN_bin2bn(n->p, (int)n->len, NULL), *be = BN_new();
    OSSL_PARAM_BLD *b = OSSL_PARAM_BLD_new();
    bool pushed = bn && be && b && BN_set_word(be, e) == 1 &&
                  OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_RSA_N, bn) == 1 &&
                  OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_RSA_E, be) == 1;
    vt_res r = spki_from_bld("RSA", b, pushed, spki);
    BN_free(bn);
    BN_free(be);
    return r;
}

/* A P-256 point (x, y: up to 32 bytes each, left-padded) as a DER SubjectPublicKeyInfo. */
static vt_res spki_from_xy(const struct vt_buf *x, const struct vt_buf *y, struct vt_buf *spki)
{
    uint8_t pt[65] = { 0x04 };
    ENSURE(x->len <= 32 && y->len <= 32, VT_ERR_TPM_AK_NOT_ECDSA);
    memcpy(pt + 1 + (32 - x->len), x->p, x->len);
    memcpy(pt + 33 + (32 - y->len), y->p, y->len);
    OSSL_PARAM_BLD *b = OSSL_PARAM_BLD_new();
    bool pushed = b &&
                  OSSL_PARAM_BLD_push_utf8_string(b, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) == 1 &&
                  OSSL_PARAM_BLD_push_octet_string(b, OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof(pt)) == 1;
    return spki_from_bld("EC", b, pushed, spki);
}

static vt_res ak_public_ecc(const struct vti_tpm_ops *ops, struct vti_tpm *t, uint32_t h,
                            struct vt_buf *spki)
{
    ENSURE(ops->ak_read_ecc, VT_ERR_UNSUPPORTED);
    struct vt_buf x = VT_BUF_INIT, y = VT_BUF_INIT;
    vt_res r = ops->ak_read_ecc(t, h, &x, &y);
    if (r.err == VT_ERR_NOT_FOUND)
        r = VT_FAIL(VT_ERR_TPM_ATT_NO_AK);
    if (!r.err)
        r = spki_from_xy(&x, &y, spki);
    vti_buf_free_nowipe(&x);
    vti_buf_free_nowipe(&y);
    return r;
}

static vt_res ak_public(const struct vti_tpm_ops *ops, struct vti_tpm *t, const struct params *p,
                        struct vt_buf *spki)
{
    if (p->ecc)
        return ak_public_ecc(ops, t, p->ak, spki);
    ENSURE(ops->ak_read, VT_ERR_UNSUPPORTED);
    struct vt_buf n = VT_BUF_INIT;
    uint32_t e = 0;
    vt_res r = ops->ak_read(t, p->ak, &n, &e);
    if (r.err == VT_ERR_NOT_FOUND)
        r = VT_FAIL(VT_ERR_TPM_ATT_NO_AK);
    if (!r.err)
        r = spki_from_ne(&n, e, spki);
    vti_buf_free_nowipe(&n);
    return r;
}

/* ---- 2: AK certificate ---------------------------------------------------------------- */

/* The length of the DER SEQUENCE at the start of p (NV indices may be padded), or 0. */
static size_t der_len(const uint8_t *p, size_t len)
{
    if (len < 2 || p[0] != 0x30)
        return 0;
    if (p[1] < 0x80)
        return 2u + p[1] <= len ? 2u + p[1] : 0;
    size_t nb = p[1] & 0x7fu, v = 0;
    if (nb == 0 || nb > 3 || len < 2 + nb)
        return 0;
    for (size_t i = 0; i < nb; i++)
        v = (v << 8) | p[2 + i];
    return 2 + nb + v <= len ? 2 + nb + v : 0;
}

static vt_res ak_cert(const struct vti_tpm_ops *ops, struct vti_tpm *t, const struct params *p,
                      struct vt_buf *cert)
{
    for (size_t i = 0; i < p->n_nv; i++) {
        vt_res r = ops->nv_read(t, p->nv[i], cert);
        if (r.err == VT_ERR_NOT_FOUND && p->nv_auto)
            continue;
        GUARD(r);
        size_t n = der_len(cert->p, cert->len);
        ENSURE(n > 0, VT_ERR_TPM_ATT_AK_CERT);
        cert->len = n;
        return vti_ok();
    }
    return vti_ok();
}

/* ---- 3, 4: quote, event log ----------------------------------------------------------- */

static vt_res put_u16(struct vt_buf *out, size_t v)
{
    const uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };
    return vti_buf_append(out, b, 2);
}

/* The quote's signature as a marshalled TPMT_SIGNATURE (big-endian): RSASSA SHA-256 {sig}, or
 * ECDSA SHA-256 {r, s}; it must be of the AK's type. */
static vt_res tpmt_signature(const struct params *p, const struct vti_tpm_quote *q,
                             struct vt_buf *out)
{
    const struct vt_buf *raw = &q->signature, *s = &q->ecdsa_s;
    ENSURE(q->ecdsa == p->ecc, VT_ERR_TPM_QUOTE_CHECK);
    ENSURE(raw->len > 0 && raw->len <= (q->ecdsa ? 66u : 512u), VT_ERR_TPM_QUOTE_CHECK);
    ENSURE(!q->ecdsa || (s->len > 0 && s->len <= 66), VT_ERR_TPM_QUOTE_CHECK);
    GUARD(put_u16(out, q->ecdsa ? 0x0018 : 0x0014)); /* TPM_ALG_ECDSA / TPM_ALG_RSASSA */
    GUARD(put_u16(out, 0x000b));                     /* TPM_ALG_SHA256 */
    GUARD(put_u16(out, raw->len));
    GUARD(vti_buf_append(out, raw->p, raw->len));
    if (!q->ecdsa)
        return vti_ok();
    GUARD(put_u16(out, s->len));
    return vti_buf_append(out, s->p, s->len);
}

static vt_res event_log(const struct params *p, struct vt_buf *log)
{
    if (!p->eventlog)
        return vti_ok();
    vt_res r = vti_file_read(p->eventlog, MAX_EVENTLOG, log);
    if (r.err && !p->eventlog_explicit) {
        vti_buf_free_nowipe(log);
        return vti_ok();
    }
    ENSURE(!r.err, VT_ERR_TPM_ATT_EVENTLOG);
    return vti_ok();
}

struct parts {
    struct vt_buf spki, cert, sig, log;
    struct vti_tpm_quote q;
};

static vt_res from_tpm(const struct params *p, const uint8_t rd[64], struct parts *o)
{
    const struct vti_tpm_ops *ops = vti_tpm_ops();
    struct vti_tpm *t = NULL;
    GUARD(ops->open(p->tcti, &t));
    vt_res r = ak_public(ops, t, p, &o->spki);
    if (!r.err)
        r = ak_cert(ops, t, p, &o->cert);
    if (!r.err)
        r = ops->quote(t, p->ak, rd, p->nonce_len, &o->q);
    ops->close(t);
    return r;
}

static vt_res collect(const struct vti_attest_ctx *ctx, const uint8_t rd[64],
                      struct vt_buf *evidence, struct vt_buf *endorsements)
{
    (void)endorsements;
    struct params p;
    GUARD(params(ctx, rd, &p));
    struct parts o = { VT_BUF_INIT, VT_BUF_INIT, VT_BUF_INIT, VT_BUF_INIT,
                       { VT_BUF_INIT, VT_BUF_INIT, { { 0 } }, VT_BUF_INIT, false } };
    vt_res r = from_tpm(&p, rd, &o);
    if (!r.err)
        r = tpmt_signature(&p, &o.q, &o.sig);
    if (!r.err)
        r = event_log(&p, &o.log);
    if (!r.err) {
        uint8_t pcrs[VTI_TPM_NPCR][VT_TPM_EV_MAX_PCR_LEN] = { { 0 } };
        for (size_t i = 0; i < VTI_TPM_NPCR; i++)
            memcpy(pcrs[i], o.q.pcrs[i], 32);
        struct vti_tpm_ev_in in = {
            .ak_public = o.spki.p, .ak_public_len = o.spki.len, .msg = o.q.message.p,
            .msg_len = o.q.message.len, .sig = o.sig.p, .sig_len = o.sig.len,
            .ak_cert = o.cert.p, .ak_cert_len = o.cert.len, .event_log = o.log.p,
            .event_log_len = o.log.len, .pcrs = (const uint8_t(*)[VT_TPM_EV_MAX_PCR_LEN])pcrs,
            .n_pcrs = VTI_TPM_NPCR, .pcr_len = 32,
        };
        r = vti_tpm_evidence_json(&in, evidence);
    }
    vti_tpm_quote_free(&o.q);
    vti_buf_free_nowipe(&o.spki);
    vti_buf_free_nowipe(&o.cert);
    vti_buf_free_nowipe(&o.sig);
    vti_buf_free_nowipe(&o.log);
    return r;
}

static bool detect(const struct vti_attest_ctx *ctx)
{
    const char *tcti = vti_option(ctx, "tpm.tcti", VTI_TPM_DEFAULT_TCTI);
    if (strncmp(tcti, "device:", 7) == 0 && access(tcti + 7, R_OK | W_OK) != 0)
        return false;
    if (strcmp(tcti, "device") == 0 && access("/dev/tpmrm0", R_OK | W_OK) != 0)
        return false;
    uint8_t zero[64] = { 0 };
    struct params p;
    if (params(ctx, zero, &p).err)
        return false;
    const struct vti_tpm_ops *ops = vti_tpm_ops();
    struct vti_tpm *t = NULL;
    if (ops->open(tcti, &t).err)
        return false;
    struct vt_buf spki = VT_BUF_INIT;
    bool yes = !ak_public(ops, t, &p, &spki).err;
    ops->close(t);
    vti_buf_free_nowipe(&spki);
    return yes;
}

static const struct vt_attester_ops tpm_attester = {
    .hdr = { VT_INSTANCE_ABI, VT_KIND_ATTESTER, "tpm", 40, 0, tpm_options },
    .tee = "tpm",
    .cbor_tag = VTI_TAG_TPM,
    .detect = detect,
    .collect = collect,
    .sim_init = NULL,
};
const struct vt_instance_hdr *const vt_inst_tpm_attester = &tpm_attester.hdr;
