/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tpm_dev.c - TPM 2.0 access through tpm2-tss ESYS (the contract in tpm_dev.h).
 *
 * Owns: loading the TCTI named by a configuration string (Tss2_TctiLdr), ESYS sessions with
 * password (empty) authorisation, NV read/write in chunks of NV_CHUNK bytes (below every
 * TPM's NV_BUFFER_MAX), TPM2_Quote of PCRs 0..23 SHA-256 and TPM2_PCR_Read of the same, and
 * the creation of an Azure-like AK, reading an AK's public key. Without libtss2 (no VT_HAVE_TSS2) every call fails with
 * VT_ERR_UNSUPPORTED.
 */
#include "attesters/tpm_dev.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "util/secmem.h"

void vti_tpm_quote_free(struct vti_tpm_quote *q)
{
    if (!q)
        return;
    vti_buf_free_nowipe(&q->message);
    vti_buf_free_nowipe(&q->signature);
    vti_buf_free_nowipe(&q->ecdsa_s);
    q->ecdsa = false;
    memset(q->pcrs, 0, sizeof(q->pcrs));
}

vt_res vti_tpm_pcr_digest(const uint8_t pcrs[VTI_TPM_NPCR][32], uint8_t out[32])
{
    unsigned int n = 0;
    ENSURE(EVP_Digest(pcrs, (size_t)VTI_TPM_NPCR * 32, out, &n, EVP_sha256(), NULL) == 1 && n == 32,
           VT_ERR_CRYPTO);
    return vti_ok();
}

#ifdef VT_HAVE_TSS2

#include <tss2/tss2_esys.h>
#include <tss2/tss2_mu.h>
#include <tss2/tss2_tctildr.h>

#include "util/log.h"

#define NV_CHUNK 512u
#define QUOTE_TRIES 3

struct vti_tpm {
    TSS2_TCTI_CONTEXT *tcti;
    ESYS_CONTEXT *esys;
};

static vt_res tss_fail(TSS2_RC rc, const char *what, int err)
{
    VT_DEBUG("TPM %s: TSS rc 0x%x", what, (unsigned)rc);
    return VT_FAIL(err);
}
#define TSS(call, what) do { TSS2_RC rc_ = (call); if (rc_ != TSS2_RC_SUCCESS) return tss_fail(rc_, what, VT_ERR_TPM); } while (0)

static void esys_close(struct vti_tpm *t)
{
    if (!t)
        return;
    if (t->esys)
        Esys_Finalize(&t->esys);
    if (t->tcti)
        Tss2_TctiLdr_Finalize(&t->tcti);
    free(t);
}

static vt_res esys_open(const char *tcti, struct vti_tpm **out)
{
    *out = NULL;
    struct vti_tpm *t = calloc(1, sizeof(*t));
    ENSURE(t, VT_ERR_NOMEM);
    TSS2_RC rc = Tss2_TctiLdr_Initialize(tcti ? tcti : VTI_TPM_DEFAULT_TCTI, &t->tcti);
    if (rc == TSS2_RC_SUCCESS)
        rc = Esys_Initialize(&t->esys, t->tcti, NULL);
    if (rc != TSS2_RC_SUCCESS) {
        esys_close(t);
        return tss_fail(rc, "open", VT_ERR_TPM_TCTI);
    }
    *out = t;
    return vti_ok();
}

/* Is handle (an NV index or a persistent object) defined? Asked with GetCapability, so that
 * an absent one is not an error the TSS logs. */
static vt_res handle_exists(struct vti_tpm *t, uint32_t handle, bool *yes)
{
    TPMI_YES_NO more;
    TPMS_CAPABILITY_DATA *cap = NULL;
    TSS(Esys_GetCapability(t->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, TPM2_CAP_HANDLES,
                           handle, 1, &more, &cap), "GetCapability");
    *yes = cap->capability == TPM2_CAP_HANDLES && cap->data.handles.count >= 1 &&
           cap->data.handles.handle[0] == handle;
    Esys_Free(cap);
    return vti_ok();
}

/* The ESYS object of a TPM handle; VT_ERR_NOT_FOUND when nothing is there. */
static vt_res tr_from(struct vti_tpm *t, uint32_t handle, ESYS_TR *tr)
{
    bool yes = false;
    GUARD(handle_exists(t, handle, &yes));
    if (!yes)
        return VT_FAIL(VT_ERR_NOT_FOUND);
    TSS(Esys_TR_FromTPMPublic(t->esys, handle, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, tr), "handle");
    return vti_ok();
}

static vt_res nv_size(struct vti_tpm *t, ESYS_TR nv, size_t *size)
{
    TPM2B_NV_PUBLIC *pub = NULL;
    TSS(Esys_NV_ReadPublic(t->esys, nv, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &pub, NULL), "NV_ReadPublic");
    *size = pub->nvPublic.dataSize;
    Esys_Free(pub);
    return vti_ok();
}

static vt_res esys_nv_read(struct vti_tpm *t, uint32_t index, struct vt_buf *out)
{
    ESYS_TR nv;
    size_t size = 0;
    GUARD(tr_from(t, index, &nv));
    GUARD(nv_size(t, nv, &size));
    ENSURE(size <= VTI_TPM_NV_MAX, VT_ERR_TOO_LARGE);
    for (size_t off = 0; off < size;) {
        UINT16 n = (UINT16)(size - off < NV_CHUNK ? size - off : NV_CHUNK);
        TPM2B_MAX_NV_BUFFER *d = NULL;
        TSS(Esys_NV_Read(t->esys, ESYS_TR_RH_OWNER, nv, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
                         n, (UINT16)off, &d), "NV_Read");
        vt_res r = d->size == n ? vti_buf_append(out, d->buffer, n) : VT_FAIL(VT_ERR_TPM);
        Esys_Free(d);
        GUARD(r);
        off += n;
    }
    return vti_ok();
}

static vt_res nv_define(struct vti_tpm *t, uint32_t index, size_t n, ESYS_TR *nv)
{
    TPM2B_AUTH auth = { 0 };
    TPM2B_NV_PUBLIC pub = { 0 };
    pub.nvPublic.nvIndex = index;
    pub.nvPublic.nameAlg = TPM2_ALG_SHA256;
    pub.nvPublic.attributes = TPMA_NV_OWNERWRITE | TPMA_NV_OWNERREAD | TPMA_NV_AUTHWRITE |
                              TPMA_NV_AUTHREAD | TPMA_NV_NO_DA;
    pub.nvPublic.dataSize = (UINT16)n;
    TSS(Esys_NV_DefineSpace(t->esys, ESYS_TR_RH_OWNER, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
                            &auth, &pub, nv), "NV_DefineSpace");
    return vti_ok();
}

static vt_res esys_nv_write(struct vti_tpm *t, uint32_t index, const uint8_t *p, size_t n)
{
    ENSURE(n > 0 && n <= VTI_TPM_NV_MAX, VT_ERR_INVALID_ARG);
    ESYS_TR nv;
    vt_res r = tr_from(t, index, &nv);
    if (r.err == VT_ERR_NOT_FOUND) {
        GUARD(nv_define(t, index, n, &nv));
    } else {
        GUARD(r);
        size_t have = 0;
        GUARD(nv_size(t, nv, &have));
        if (have != n) {
            TSS(Esys_NV_UndefineSpace(t->esys, ESYS_TR_RH_OWNER, nv, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                                      ESYS_TR_NONE), "NV_UndefineSpace");
            GUARD(nv_define(t, index, n, &nv));
        }
    }
    for (size_t off = 0; off < n;) {
        TPM2B_MAX_NV_BUFFER d = { 0 };
        d.size = (UINT16)(n - off < NV_CHUNK ? n - off : NV_CHUNK);
        memcpy(d.buffer, p + off, d.size);
        TSS(Esys_NV_Write(t->esys, ESYS_TR_RH_OWNER, nv, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
                          &d, (UINT16)off), "NV_Write");
        off += d.size;
    }
    return vti_ok();
}

static TPML_PCR_SELECTION all_pcrs(void)
{
    TPML_PCR_SELECTION s = { 0 };
    s.count = 1;
    s.pcrSelections[0].hash = TPM2_ALG_SHA256;
    s.pcrSelections[0].sizeofSelect = 3;
    s.pcrSelections[0].pcrSelect[0] = s.pcrSelections[0].pcrSelect[1] = s.pcrSelections[0].pcrSelect[2] = 0xff;
    return s;
}

/* PCR_Read returns at most 8 values per call: ask again for what is still missing. */
static vt_res read_pcrs(struct vti_tpm *t, uint8_t pcrs[VTI_TPM_NPCR][32])
{
    TPML_PCR_SELECTION want = all_pcrs();
    for (int round = 0; round < VTI_TPM_NPCR; round++) {
        TPMS_PCR_SELECTION *w = &want.pcrSelections[0];
        if (!(w->pcrSelect[0] | w->pcrSelect[1] | w->pcrSelect[2]))
            return vti_ok();
        UINT32 upd;
        TPML_PCR_SELECTION *got = NULL;
        TPML_DIGEST *vals = NULL;
        TSS(Esys_PCR_Read(t->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &want, &upd, &got, &vals), "PCR_Read");
        vt_res r = vti_ok();
        UINT32 k = 0;
        for (UINT32 b = 0; b < got->count && !r.err; b++) {
            const TPMS_PCR_SELECTION *g = &got->pcrSelections[b];
            for (unsigned i = 0; i < VTI_TPM_NPCR && i / 8 < g->sizeofSelect && !r.err; i++) {
                if (g->hash != TPM2_ALG_SHA256 || !(g->pcrSelect[i / 8] & (1u << (i % 8))))
                    continue;
                if (k >= vals->count || vals->digests[k].size != 32) {
                    r = VT_FAIL(VT_ERR_TPM);
                    break;
                }
                memcpy(pcrs[i], vals->digests[k++].buffer, 32);
                w->pcrSelect[i / 8] &= (uint8_t)~(1u << (i % 8));
            }
        }
        bool progress = k > 0;
        Esys_Free(got);
        Esys_Free(vals);
        GUARD(r);
        ENSURE(progress, VT_ERR_TPM);
    }
    return VT_FAIL(VT_ERR_TPM);
}

/* The quote is the one we asked for, and the PCR values we read hash to its pcrDigest. */
static vt_res quote_matches(const struct vti_tpm_quote *q, const uint8_t *nonce, size_t n, bool *same_pcrs)
{
    TPMS_ATTEST a;
    size_t off = 0;
    TSS(Tss2_MU_TPMS_ATTEST_Unmarshal(q->message.p, q->message.len, &off, &a), "TPMS_ATTEST");
    ENSURE(off == q->message.len && a.magic == TPM2_GENERATED_VALUE && a.type == TPM2_ST_ATTEST_QUOTE,
           VT_ERR_TPM_QUOTE_CHECK);
    ENSURE(a.extraData.size == n && (n == 0 || vti_ct_eq(a.extraData.buffer, nonce, n)),
           VT_ERR_TPM_QUOTE_CHECK);
    const TPMS_QUOTE_INFO *qi = &a.attested.quote;
    TPML_PCR_SELECTION s = all_pcrs();
    ENSURE(qi->pcrSelect.count == 1 && qi->pcrSelect.pcrSelections[0].hash == TPM2_ALG_SHA256 &&
               qi->pcrSelect.pcrSelections[0].sizeofSelect == 3 &&
               vti_ct_eq(qi->pcrSelect.pcrSelections[0].pcrSelect, s.pcrSelections[0].pcrSelect, 3) &&
               qi->pcrDigest.size == 32, VT_ERR_TPM_QUOTE_CHECK);
    uint8_t d[32];
    GUARD(vti_tpm_pcr_digest(q->pcrs, d));
    *same_pcrs = vti_ct_eq(d, qi->pcrDigest.buffer, 32);
    return vti_ok();
}

/* The quote's signature: RSASSA SHA-256 (raw) or ECDSA SHA-256 (r, s). */
static vt_res quote_sig(const TPMT_SIGNATURE *sig, struct vti_tpm_quote *q)
{
    if (sig->sigAlg == TPM2_ALG_RSASSA && sig->signature.rsassa.hash == TPM2_ALG_SHA256)
        return vti_buf_append(&q->signature, sig->signature.rsassa.sig.buffer,
                              sig->signature.rsassa.sig.size);
    ENSURE(sig->sigAlg == TPM2_ALG_ECDSA && sig->signature.ecdsa.hash == TPM2_ALG_SHA256,
           VT_ERR_TPM_QUOTE_CHECK);
    const TPMS_SIGNATURE_ECC *e = &sig->signature.ecdsa;
    ENSURE(e->signatureR.size > 0 && e->signatureS.size > 0, VT_ERR_TPM_QUOTE_CHECK);
    q->ecdsa = true;
    GUARD(vti_buf_append(&q->signature, e->signatureR.buffer, e->signatureR.size));
    return vti_buf_append(&q->ecdsa_s, e->signatureS.buffer, e->signatureS.size);
}

static vt_res quote_once(struct vti_tpm *t, ESYS_TR key, const TPM2B_DATA *qd, struct vti_tpm_quote *q)
{
    TPMT_SIG_SCHEME scheme = { .scheme = TPM2_ALG_NULL };
    TPML_PCR_SELECTION sel = all_pcrs();
    TPM2B_ATTEST *att = NULL;
    TPMT_SIGNATURE *sig = NULL;
    TSS(Esys_Quote(t->esys, key, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, qd, &scheme, &sel, &att, &sig), "Quote");
    vt_res r = quote_sig(sig, q);
    if (!r.err)
        r = vti_buf_append(&q->message, att->attestationData, att->size);
    Esys_Free(att);
    Esys_Free(sig);
    GUARD(r);
    return read_pcrs(t, q->pcrs);
}

static vt_res esys_quote(struct vti_tpm *t, uint32_t ak, const uint8_t *nonce, size_t n,
                         struct vti_tpm_quote *q)
{
    ENSURE(n <= 64, VT_ERR_TPM_NONCE_SIZE);
    ENSURE(n == 0 || nonce, VT_ERR_INVALID_ARG);
    ESYS_TR key;
    GUARD(tr_from(t, ak, &key));
    TPM2B_DATA qd = { .size = (UINT16)n };
    if (n)
        memcpy(qd.buffer, nonce, n);
    for (int i = 0; i < QUOTE_TRIES; i++) {
        vti_tpm_quote_free(q);
        bool same = false;
        GUARD(quote_once(t, key, &qd, q));
        GUARD(quote_matches(q, nonce, n, &same));
        if (same)
            return vti_ok();
        VT_DEBUG("a PCR changed between the quote and the read; quoting again");
    }
    vti_tpm_quote_free(q);
    return VT_FAIL(VT_ERR_TPM_QUOTE_CHECK);
}

static TPM2B_PUBLIC ak_template(void)
{
    TPM2B_PUBLIC p = { 0 };
    TPMT_PUBLIC *a = &p.publicArea;
    a->type = TPM2_ALG_RSA;
    a->nameAlg = TPM2_ALG_SHA256;
    a->objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_SENSITIVEDATAORIGIN |
                          TPMA_OBJECT_USERWITHAUTH | TPMA_OBJECT_NODA | TPMA_OBJECT_RESTRICTED |
                          TPMA_OBJECT_SIGN_ENCRYPT;
    a->parameters.rsaDetail.symmetric.algorithm = TPM2_ALG_NULL;
    a->parameters.rsaDetail.scheme.scheme = TPM2_ALG_RSASSA;
    a->parameters.rsaDetail.scheme.details.rsassa.hashAlg = TPM2_ALG_SHA256;
    a->parameters.rsaDetail.keyBits = 2048;
    a->parameters.rsaDetail.exponent = 0;
    return p;
}

static vt_res esys_ak_create(struct vti_tpm *t, uint32_t handle, struct vt_buf *modulus, uint32_t *exponent)
{
    ESYS_TR old, key, persistent;
    vt_res r = tr_from(t, handle, &old);
    if (!r.err)
        TSS(Esys_EvictControl(t->esys, ESYS_TR_RH_OWNER, old, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                              ESYS_TR_NONE, handle, &persistent), "EvictControl (remove)");
    else if (r.err != VT_ERR_NOT_FOUND)
        return r;
    TPM2B_SENSITIVE_CREATE sens = { 0 };
    TPM2B_PUBLIC in = ak_template();
    TPM2B_DATA outside = { 0 };
    TPML_PCR_SELECTION none = { 0 };
    TPM2B_PUBLIC *out = NULL;
    TSS(Esys_CreatePrimary(t->esys, ESYS_TR_RH_OWNER, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
                           &sens, &in, &outside, &none, &key, &out, NULL, NULL, NULL), "CreatePrimary");
    TSS2_RC rc = Esys_EvictControl(t->esys, ESYS_TR_RH_OWNER, key, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                                   ESYS_TR_NONE, handle, &persistent);
    Esys_FlushContext(t->esys, key);
    r = rc == TSS2_RC_SUCCESS ? vti_ok() : tss_fail(rc, "EvictControl", VT_ERR_TPM);
    if (!r.err) {
        const TPM2B_PUBLIC_KEY_RSA *n = &out->publicArea.unique.rsa;
        uint32_t e = out->publicArea.parameters.rsaDetail.exponent;
        *exponent = e ? e : 65537;
        r = n->size == 256 ? vti_buf_append(modulus, n->buffer, n->size) : VT_FAIL(VT_ERR_TPM);
    }
    Esys_Free(out);
    return r;
}

static vt_res esys_ak_read(struct vti_tpm *t, uint32_t handle, struct vt_buf *modulus, uint32_t *exponent)
{
    ESYS_TR key;
    GUARD(tr_from(t, handle, &key));
    TPM2B_PUBLIC *out = NULL;
    TSS(Esys_ReadPublic(t->esys, key, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &out, NULL, NULL),
        "ReadPublic");
    const TPMT_PUBLIC *a = &out->publicArea;
    vt_res r = VT_FAIL(VT_ERR_TPM_AK_NOT_RSASSA);
    if (a->type == TPM2_ALG_RSA && a->parameters.rsaDetail.scheme.scheme == TPM2_ALG_RSASSA &&
        a->parameters.rsaDetail.scheme.details.rsassa.hashAlg == TPM2_ALG_SHA256 &&
        (a->objectAttributes & TPMA_OBJECT_RESTRICTED) && (a->objectAttributes & TPMA_OBJECT_SIGN_ENCRYPT)) {
        uint32_t e = a->parameters.rsaDetail.exponent;
        *exponent = e ? e : 65537;
        r = vti_buf_append(modulus, a->unique.rsa.buffer, a->unique.rsa.size);
    }
    Esys_Free(out);
    return r;
}

static vt_res esys_ak_read_ecc(struct vti_tpm *t, uint32_t handle, struct vt_buf *x, struct vt_buf *y)
{
    ESYS_TR key;
    GUARD(tr_from(t, handle, &key));
    TPM2B_PUBLIC *out = NULL;
    TSS(Esys_ReadPublic(t->esys, key, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &out, NULL, NULL),
        "ReadPublic");
    const TPMT_PUBLIC *a = &out->publicArea;
    const TPMS_ECC_PARMS *e = &a->parameters.eccDetail;
    vt_res r = VT_FAIL(VT_ERR_TPM_AK_NOT_ECDSA);
    if (a->type == TPM2_ALG_ECC && e->curveID == TPM2_ECC_NIST_P256 &&
        e->scheme.scheme == TPM2_ALG_ECDSA && e->scheme.details.ecdsa.hashAlg == TPM2_ALG_SHA256 &&
        (a->objectAttributes & TPMA_OBJECT_RESTRICTED) && (a->objectAttributes & TPMA_OBJECT_SIGN_ENCRYPT) &&
        a->unique.ecc.x.size <= 32 && a->unique.ecc.y.size <= 32) {
        r = vti_buf_append(x, a->unique.ecc.x.buffer, a->unique.ecc.x.size);
        if (!r.err)
            r = vti_buf_append(y, a->unique.ecc.y.buffer, a->unique.ecc.y.size);
    }
    Esys_Free(out);
    return r;
}

static const struct vti_tpm_ops esys_ops = {
    esys_open, esys_close, esys_nv_read, esys_nv_write, esys_quote, esys_ak_create, esys_ak_read,
    esys_ak_read_ecc,
};

#else /* no libtss2 */

static vt_res none_open(const char *tcti, struct vti_tpm **out)
{
    (void)tcti;
    *out = NULL;
    return VT_FAIL(VT_ERR_UNSUPPORTED);
}
static void none_close(struct vti_tpm *t) { (void)t; }
static vt_res none_nv_read(struct vti_tpm *t, uint32_t i, struct vt_buf *o) { (void)t; (void)i; (void)o; return VT_FAIL(VT_ERR_UNSUPPORTED); }
static vt_res none_nv_write(struct vti_tpm *t, uint32_t i, const uint8_t *p, size_t n) { (void)t; (void)i; (void)p; (void)n; return VT_FAIL(VT_ERR_UNSUPPORTED); }
static vt_res none_quote(struct vti_tpm *t, uint32_t ak, const uint8_t *nonce, size_t n, struct vti_tpm_quote *q) { (void)t; (void)ak; (void)nonce; (void)n; (void)q; return VT_FAIL(VT_ERR_UNSUPPORTED); }
static vt_res none_ak(struct vti_tpm *t, uint32_t h, struct vt_buf *m, uint32_t *e) { (void)t; (void)h; (void)m; (void)e; return VT_FAIL(VT_ERR_UNSUPPORTED); }
static vt_res none_ak_ecc(struct vti_tpm *t, uint32_t h, struct vt_buf *x, struct vt_buf *y) { (void)t; (void)h; (void)x; (void)y; return VT_FAIL(VT_ERR_UNSUPPORTED); }
static const struct vti_tpm_ops esys_ops = {
    none_open, none_close, none_nv_read, none_nv_write, none_quote, none_ak, none_ak, none_ak_ecc,
};

#endif

static const struct vti_tpm_ops *cur_ops = &esys_ops;

const struct vti_tpm_ops *vti_tpm_ops(void)
{
    return cur_ops;
}

void vti_tpm_set_ops(const struct vti_tpm_ops *ops)
{
    cur_ops = ops ? ops : &esys_ops;
}
