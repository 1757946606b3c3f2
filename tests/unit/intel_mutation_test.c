/* SPDX-License-Identifier: Apache-2.0 */
/*
 * intel_mutation_test.c - systematic mutations of real quotes and collateral must be refused
 * with the precise error: a flipped byte in each signed region (header, body, QE report,
 * QE auth data, attestation key, signatures, PCK certificate, TCB Info, QE Identity, signing
 * certificate), truncation at every field boundary (and every byte), length fields +-1 and
 * huge, header fields out of range, a wrong root. Quotes and collateral are read from
 * shared/testdata at run time (SGX v3 and TDX v4 from cases.json "sgx-dcapqvl-v3" /
 * "tdx-dcapqvl-v4-b0c06f").
 */
#include <openssl/x509.h>
#include <stdio.h>
#include <string.h>

#include "core/instance.h"
#include "core/report.h"
#include "crypto/crypto.h"
#include "endorsements/intel_collateral.h"
#include "evidence/intel_quote.h"
#include "util/codec.h"
#include "verifiers/intel_verify.h"
#include "vt_test.h"

static int64_t AT;

static int run_opts(const uint8_t *q, size_t n, const struct vt_intel_collateral *col,
                    const struct vt_option *o, size_t no)
{
    struct vt_verify_opts opts;
    memset(&opts, 0, sizeof(opts));
    opts.options = o;
    opts.n_options = no;
    struct vti_verify_ctx ctx = { .opts = &opts, .at = AT };
    struct vt_report *rep = vti_report_new();
    vt_res r = vti_intel_verify_with(&ctx, col, q, n, rep);
    vt_report_free(rep);
    return r.err;
}

static int run(const uint8_t *q, size_t n, const struct vt_intel_collateral *col)
{
    return run_opts(q, n, col, NULL, 0);
}

static int flip(const struct vt_buf *qb, size_t off, const struct vt_intel_collateral *col)
{
    uint8_t *m = malloc(qb->len);
    memcpy(m, qb->p, qb->len);
    m[off] ^= 0x01;
    int e = run(m, qb->len, col);
    free(m);
    return e;
}

static int with_u16(const struct vt_buf *qb, size_t off, uint16_t v, const struct vt_intel_collateral *col)
{
    uint8_t *m = malloc(qb->len);
    memcpy(m, qb->p, qb->len);
    m[off] = (uint8_t)v;
    m[off + 1] = (uint8_t)(v >> 8);
    int e = run(m, qb->len, col);
    free(m);
    return e;
}

static int with_u32(const struct vt_buf *qb, size_t off, uint32_t v, const struct vt_intel_collateral *col)
{
    uint8_t *m = malloc(qb->len);
    memcpy(m, qb->p, qb->len);
    for (int i = 0; i < 4; i++)
        m[off + i] = (uint8_t)(v >> (8 * i));
    int e = run(m, qb->len, col);
    free(m);
    return e;
}

static size_t find(const uint8_t *p, size_t n, const void *needle, size_t k)
{
    for (size_t i = 0; i + k <= n; i++)
        if (memcmp(p + i, needle, k) == 0)
            return i;
    return (size_t)-1;
}

/* Flip one DER byte (found after `marker`, at +delta) inside the first PEM certificate of
 * text, keeping the PEM the same length (64-column lines). */
static bool pem_flip(uint8_t *text, size_t len, const uint8_t *marker, size_t mlen, size_t delta)
{
    const char *b = "-----BEGIN CERTIFICATE-----\n";
    size_t s = find(text, len, b, strlen(b));
    if (s == (size_t)-1)
        return false;
    s += strlen(b);
    size_t e = find(text + s, len - s, "-----END", 8);
    if (e == (size_t)-1)
        return false;
    e += s;
    char *b64 = malloc(e - s);
    size_t nb = 0;
    for (size_t i = s; i < e; i++)
        if (text[i] != '\n' && text[i] != '\r')
            b64[nb++] = (char)text[i];
    struct vt_buf der = VT_BUF_INIT, enc = VT_BUF_INIT;
    bool ok = vti_is_ok(vti_b64_decode(b64, nb, false, &der));
    size_t at = ok ? find(der.p, der.len, marker, mlen) : (size_t)-1;
    ok = ok && at != (size_t)-1 && at + delta < der.len;
    if (ok) {
        der.p[at + delta] ^= 0x01;
        ok = vti_is_ok(vti_b64_encode(der.p, der.len, false, &enc)) && enc.len == nb;
    }
    for (size_t i = s, j = 0; ok && i < e; i++)
        if (text[i] != '\n' && text[i] != '\r')
            text[i] = enc.p[j++];
    free(b64);
    vti_buf_free(&der);
    vti_buf_free(&enc);
    return ok;
}

static void common(const char *quote, const char *bundle, const char *when, bool tdx)
{
    fprintf(stderr, "quote %s\n", quote);
    CHECK_OK(vti_time_parse(when, &AT));
    struct vt_buf qb = vt_testdata_read(quote);
    struct vt_intel_collateral col = { 0 };
    CHECK_OK(vti_intel_collateral_load_path(vt_testdata(bundle), &col));
    CHECK_OK(run(qb.p, qb.len, &col));
    struct vt_intel_quote q;
    CHECK_OK(vt_intel_quote_parse(qb.p, qb.len, &q));
    size_t body = 48, sd = q.signed_len + 4; /* start of signature data */
    size_t qe = sd + 128 + (tdx ? 6 : 0);     /* QE report */
    size_t auth = qe + 384 + 64 + 2;

    /* header and body: any flipped byte breaks the quote signature (or a header check) */
    CHECK_ERR(flip(&qb, 28, &col), VT_ERR_INTEL_QUOTE_SIGNATURE);   /* user data */
    CHECK_ERR(flip(&qb, 8, &col), VT_ERR_INTEL_QUOTE_SIGNATURE);    /* qe_svn / reserved */
    CHECK_ERR(flip(&qb, body + 100, &col), VT_ERR_INTEL_QUOTE_SIGNATURE);
    CHECK_ERR(flip(&qb, q.signed_len - 1, &col), VT_ERR_INTEL_QUOTE_SIGNATURE);
    CHECK_ERR(flip(&qb, sd, &col), VT_ERR_INTEL_QUOTE_SIGNATURE);   /* signature r */
    CHECK_ERR(flip(&qb, sd + 63, &col), VT_ERR_INTEL_QUOTE_SIGNATURE);
    CHECK_ERR(flip(&qb, sd + 64, &col), VT_ERR_INTEL_QE_REPORT_DATA); /* attestation key */
    CHECK_ERR(flip(&qb, qe + 64, &col), VT_ERR_INTEL_QE_REPORT_SIGNATURE); /* QE MRENCLAVE */
    CHECK_ERR(flip(&qb, qe + 320, &col), VT_ERR_INTEL_QE_REPORT_SIGNATURE); /* QE report data */
    CHECK_ERR(flip(&qb, qe + 384, &col), VT_ERR_INTEL_QE_REPORT_SIGNATURE); /* its signature */
    CHECK_ERR(flip(&qb, auth, &col), VT_ERR_INTEL_QE_REPORT_DATA);  /* QE auth data */
    /* header fields out of range */
    CHECK_ERR(with_u16(&qb, 0, 6, &col), VT_ERR_INTEL_QUOTE_VERSION);
    CHECK_ERR(with_u16(&qb, 0, 2, &col), VT_ERR_INTEL_QUOTE_VERSION);
    CHECK_ERR(with_u16(&qb, 2, 3, &col), VT_ERR_INTEL_KEY_TYPE);
    CHECK_ERR(with_u32(&qb, 4, 0x82, &col), VT_ERR_INTEL_TEE_TYPE);
    CHECK_ERR(flip(&qb, 12, &col), VT_ERR_INTEL_QE_VENDOR);
    if (tdx)
        CHECK_ERR(with_u32(&qb, 4, 0, &col), VT_ERR_INTEL_SIG_DATA_LEN); /* read as SGX */

    /* truncation at every field boundary, and at every byte of the signed region */
    size_t bounds[] = { 0, 1, 2, 4, 8, 10, 12, 28, 47, 48, body + 16, q.signed_len - 1,
                        q.signed_len, q.signed_len + 2, sd, sd + 64, sd + 128, qe, qe + 384,
                        qe + 448, auth - 2, auth, auth + 32, auth + 34, auth + 38,
                        qb.len - q.trailing_len - 1 };
    for (size_t i = 0; i < VT_ARRAY_LEN(bounds); i++) {
        int e = run(qb.p, bounds[i], &col);
        int want = bounds[i] < q.signed_len + 4 ? VT_ERR_INTEL_QUOTE_TRUNCATED
                                               : VT_ERR_INTEL_SIG_DATA_LEN;
        CHECK_ERR(e, want);
    }
    for (size_t n = 0; n < qb.len - q.trailing_len; n += 7)
        CHECK(run(qb.p, n, &col) != VT_OK);

    /* length fields: +-1 and huge */
    uint32_t sdl = q.sig_data_len;
    CHECK_ERR(with_u32(&qb, q.signed_len, 0xffffffffu, &col), VT_ERR_INTEL_SIG_DATA_LEN);
    CHECK_ERR(with_u32(&qb, q.signed_len, sdl - 1, &col), VT_ERR_INTEL_CERT_DATA_LEN);
    CHECK_ERR(with_u32(&qb, q.signed_len, sdl + 1, &col),
              q.trailing_len ? VT_ERR_INTEL_CERT_DATA_LEN : VT_ERR_INTEL_SIG_DATA_LEN);
    CHECK_ERR(with_u16(&qb, auth - 2, q.qe_auth_len + 1, &col), VT_ERR_INTEL_CERT_DATA_TYPE);
    CHECK_ERR(with_u16(&qb, auth - 2, q.qe_auth_len - 1, &col), VT_ERR_INTEL_CERT_DATA_TYPE);
    CHECK_ERR(with_u16(&qb, auth - 2, 0xffff, &col), VT_ERR_INTEL_QE_AUTH_LEN);
    size_t cd = auth + q.qe_auth_len + 2; /* certification data size */
    CHECK_ERR(with_u32(&qb, cd, q.pck_chain_len + 1, &col), VT_ERR_INTEL_CERT_DATA_LEN);
    CHECK_ERR(with_u32(&qb, cd, q.pck_chain_len - 1, &col), VT_ERR_INTEL_CERT_DATA_LEN);
    CHECK_ERR(with_u32(&qb, cd, 0xffffffffu, &col), VT_ERR_INTEL_CERT_DATA_LEN);
    CHECK_ERR(with_u16(&qb, cd - 2, 4, &col), VT_ERR_INTEL_CERT_DATA_TYPE);
    if (tdx) {
        uint32_t outer = (uint32_t)(q.sig_data_len - 134);
        CHECK_ERR(with_u32(&qb, sd + 130, outer + 1, &col), VT_ERR_INTEL_CERT_DATA_LEN);
        CHECK_ERR(with_u32(&qb, sd + 130, outer - 1, &col), VT_ERR_INTEL_CERT_DATA_LEN);
        CHECK_ERR(with_u32(&qb, sd + 130, 0xffffffffu, &col), VT_ERR_INTEL_CERT_DATA_LEN);
        CHECK_ERR(with_u16(&qb, sd + 128, 5, &col), VT_ERR_INTEL_CERT_DATA_TYPE);
    }

    /* the PCK certificate: a flipped byte in its PPID (signed by the PCK CA) */
    {
        uint8_t *m = malloc(qb.len);
        memcpy(m, qb.p, qb.len);
        static const uint8_t ppid[] = { 0x2a, 0x86, 0x48, 0x86, 0xf8, 0x4d, 0x01, 0x0d, 0x01,
                                        0x01, 0x04, 0x10 };
        size_t off = (size_t)(q.pck_chain - qb.p);
        CHECK(pem_flip(m + off, q.pck_chain_len, ppid, sizeof(ppid), 14));
        CHECK_ERR(run(m, qb.len, &col), VT_ERR_INTEL_PCK_SIGNATURE);
        free(m);
    }

    /* collateral: TCB Info, QE Identity, signing certificate, signatures */
    struct vt_intel_collateral c2 = { 0 };
    CHECK_OK(vti_intel_collateral_load_path(vt_testdata(bundle), &c2));
    size_t k = find(c2.tcb_info.body.p, c2.tcb_info.body.len, "\"pceId\"", 7);
    CHECK(k != (size_t)-1);
    c2.tcb_info.body.p[k + 10] ^= 0x01;
    CHECK_ERR(run(qb.p, qb.len, &c2), VT_ERR_INTEL_TCB_INFO_SIGNATURE);
    c2.tcb_info.body.p[k + 10] ^= 0x01;
    c2.tcb_info.sig[5] ^= 0x01;
    CHECK_ERR(run(qb.p, qb.len, &c2), VT_ERR_INTEL_TCB_INFO_SIGNATURE);
    c2.tcb_info.sig[5] ^= 0x01;
    k = find(c2.qe_identity.body.p, c2.qe_identity.body.len, "\"isvprodid\"", 11);
    CHECK(k != (size_t)-1);
    c2.qe_identity.body.p[k + 12] ^= 0x01;
    CHECK_ERR(run(qb.p, qb.len, &c2), VT_ERR_INTEL_QE_IDENTITY_SIGNATURE);
    c2.qe_identity.body.p[k + 12] ^= 0x01;
    CHECK_OK(run(qb.p, qb.len, &c2));
    CHECK(pem_flip(c2.tcb_chain.p, c2.tcb_chain.len, (const uint8_t *)"TCB Signing", 11, 2));
    CHECK_ERR(run(qb.p, qb.len, &c2), VT_ERR_INTEL_SIGNING_CERT_SIGNATURE);
    vti_intel_collateral_free(&c2);
    /* missing pieces */
    CHECK_OK(vti_intel_collateral_load_path(vt_testdata(bundle), &c2));
    vti_buf_free(&c2.crls[1]);
    c2.n_crls = 1; /* the first CRL in a bundle is the root CA CRL */
    CHECK_ERR(run(qb.p, qb.len, &c2), VT_ERR_INTEL_NO_PCK_CRL);
    vti_buf_free(&c2.qe_identity.body);
    c2.qe_identity.present = false;
    c2.n_crls = 0;
    vti_buf_free(&c2.crls[0]);
    CHECK_ERR(run(qb.p, qb.len, &c2), VT_ERR_INTEL_NO_ROOT_CRL);
    vti_intel_collateral_free(&c2);

    /* wrong root: a different pinned root (intel.root_ca) makes Intel's root untrusted */
    struct vt_option o = { "intel.root_ca", vt_testdata("intel-root/tcb_signing_chain_2025.pem") };
    CHECK_ERR(run_opts(qb.p, qb.len, &col, &o, 1), VT_ERR_INTEL_ROOT_NOT_TRUSTED);
    struct vt_option o2 = { "intel.root_ca", vt_testdata("intel-root/intel_sgx_root_ca.pem") };
    CHECK_OK(run_opts(qb.p, qb.len, &col, &o2, 1));

    vti_intel_collateral_free(&col);
    vti_buf_free(&qb);
}

int main(void)
{
    CHECK_OK(vti_registry_init(NULL));
    common("sgx/dcapqvl_sgx_quote_v3.bin", "sgx/dcapqvl_sgx_quote_v3_collateral.json",
           "2025-06-19T12:00:00Z", false);
    common("tdx/dcapqvl_tdx_quote_v4_b0c06f.bin", "tdx/dcapqvl_tdx_quote_v4_b0c06f_collateral.json",
           "2025-06-19T12:00:00Z", true);
    /* the pcs-files directory form of the same: duplicates of different content refused */
    struct vt_intel_collateral c = { 0 };
    bool rec = false;
    struct vt_buf a = vt_testdata_read("tdx/automata_0725_tcbinfo_tdx_00806f050000.json");
    struct vt_buf b = vt_testdata_read("tdx/automata_1025_tcbinfo_tdx_00806f050000.json");
    CHECK_OK(vti_intel_collateral_add_piece(&c, a.p, a.len, false, &rec));
    CHECK(rec);
    CHECK_OK(vti_intel_collateral_add_piece(&c, a.p, a.len, false, &rec));
    CHECK_ERR(vti_intel_collateral_add_piece(&c, b.p, b.len, false, &rec),
              VT_ERR_INTEL_COLLATERAL_DUP);
    vti_intel_collateral_free(&c);
    vti_buf_free(&a);
    vti_buf_free(&b);
    return vt_test_done();
}
