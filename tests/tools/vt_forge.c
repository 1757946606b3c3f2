/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vt_forge.c - builds forged RA-TLS certificates for the end-to-end tests (never installed).
 *
 *   vt_forge swap-key CERT_IN NEWKEY_OUT CERT_OUT
 *       copies the evidence (and endorsements) extension of CERT_IN into a new self-signed
 *       certificate with a fresh P-256 key: a verifier must refuse it (pubkey-hash mismatch).
 *   vt_forge flip-evidence CERT KEY OFFSET CERT_OUT
 *       flips one byte (xor 0x01) at OFFSET inside the evidence bytes of CERT and re-signs the
 *       certificate with KEY (the certificate's own key): the self-signature and pubkey-hash
 *       hold, the evidence must not verify.
 * Certificates are read as PEM or DER and written as PEM; keys as PEM. Exit 0 ok, 2 error.
 */
#include <stdlib.h>

#include "cert/ratls_parse.h"
#include "crypto/crypto.h"
#include "vt_test.h"

static const struct vt_crypto_ops *cr;
/* everything main() allocates, so that every exit path frees it */
static struct vt_buf g_der = VT_BUF_INIT, g_key = VT_BUF_INIT, g_out = VT_BUF_INIT, g_kin = VT_BUF_INIT;
static struct vt_buf g_flipped = VT_BUF_INIT, g_ext = VT_BUF_INIT;
static struct vt_cert_info g_ci;

static int cleanup(int rc)
{
    vti_cert_info_free(&g_ci);
    vti_buf_free(&g_der);
    vti_buf_free(&g_key);
    vti_buf_free(&g_out);
    vti_buf_free(&g_kin);
    vti_buf_free(&g_flipped);
    vti_buf_free(&g_ext);
    return rc;
}

static int die(const char *what, vt_res r)
{
    fprintf(stderr, "vt_forge: %s: %s\n", what, vt_strerror(r.err));
    return cleanup(2);
}

static vt_res read_cert(const char *path, struct vt_buf *der)
{
    struct vt_buf in = VT_BUF_INIT;
    GUARD(vti_file_read(path, 1u << 22, &in));
    vt_res r;
    if (vti_pem_has(in.p, in.len, "CERTIFICATE")) {
        struct vt_pem_list pl = { 0 };
        r = vti_pem_decode(in.p, in.len, "CERTIFICATE", &pl);
        if (!r.err)
            r = vti_buf_append(der, pl.der[0].p, pl.der[0].len);
        vti_pem_list_free(&pl);
    } else {
        r = vti_buf_append(der, in.p, in.len);
    }
    vti_buf_free(&in);
    return r;
}

static vt_res write_pem(const char *path, const char *label, const struct vt_buf *der, unsigned mode)
{
    struct vt_buf pem = VT_BUF_INIT;
    vt_res r = vti_pem_encode(label, der->p, der->len, &pem);
    if (!r.err)
        r = vti_file_write(path, pem.p, pem.len, mode);
    vti_buf_free(&pem);
    return r;
}

/* New self-signed cert under key with the RA-TLS extensions of ci (evidence replaced if ev). */
static vt_res rebuild(const struct vt_cert_info *ci, const struct vt_buf *key, const struct vt_buf *ev_ext,
                      struct vt_buf *out)
{
    struct vt_x509_ext x[2];
    size_t n = 0;
    for (size_t i = 0; i < ci->n_exts && n < 2; i++) {
        const struct vt_cert_ext_info *e = &ci->exts[i];
        if (!strcmp(e->oid, VTI_OID_DICE_EVIDENCE))
            x[n++] = (struct vt_x509_ext){ VTI_OID_DICE_EVIDENCE, e->critical,
                                           ev_ext ? ev_ext->p : e->value.p, ev_ext ? ev_ext->len : e->value.len };
        else if (!strcmp(e->oid, VTI_OID_DICE_ENDORSEMENTS))
            x[n++] = (struct vt_x509_ext){ VTI_OID_DICE_ENDORSEMENTS, e->critical, e->value.p, e->value.len };
    }
    ENSURE(n > 0, VT_ERR_NO_EVIDENCE);
    struct vt_cert_params p = { .subject = "CN=Veritee RA-TLS,O=Veritee", .not_before = ci->not_before,
                                .not_after = ci->not_after, .key = { key->p, key->len },
                                .exts = x, .n_exts = n };
    return cr->cert_create(&p, out);
}

int main(int argc, char **argv)
{
    if (vti_registry_init(NULL).err || vti_crypto_get(NULL, &cr).err) {
        fprintf(stderr, "vt_forge: no crypto backend\n");
        return 2;
    }
    vt_res r;
    if (argc == 5 && !strcmp(argv[1], "swap-key")) {
        if ((r = read_cert(argv[2], &g_der)).err)
            return die(argv[2], r);
        if ((r = cr->cert_parse(g_der.p, g_der.len, 0, &g_ci)).err)
            return die("certificate", r);
        if ((r = cr->keygen(VT_KEY_P256, &g_key)).err || (r = rebuild(&g_ci, &g_key, NULL, &g_out)).err)
            return die("rebuild", r);
        if ((r = write_pem(argv[3], "PRIVATE KEY", &g_key, 0600)).err || (r = write_pem(argv[4], "CERTIFICATE", &g_out, 0644)).err)
            return die("write", r);
    } else if (argc == 6 && !strcmp(argv[1], "flip-evidence")) {
        char *end = NULL;
        unsigned long long off = strtoull(argv[4], &end, 0);
        if (!end || *end || argv[4][0] == '-') {
            fprintf(stderr, "vt_forge: bad OFFSET\n");
            return cleanup(2);
        }
        if ((r = read_cert(argv[2], &g_der)).err)
            return die(argv[2], r);
        if ((r = vti_file_read(argv[3], 1u << 20, &g_kin)).err || (r = cr->key_import(g_kin.p, g_kin.len, &g_key)).err)
            return die(argv[3], r);
        if ((r = cr->cert_parse(g_der.p, g_der.len, 0, &g_ci)).err)
            return die("certificate", r);
        const struct vt_cert_ext_info *e = NULL;
        for (size_t i = 0; i < g_ci.n_exts; i++)
            if (!strcmp(g_ci.exts[i].oid, VTI_OID_DICE_EVIDENCE))
                e = &g_ci.exts[i];
        struct vti_ratls_evidence ev;
        if (!e || (r = vti_ratls_ext_parse(e->value.p, e->value.len, &ev)).err)
            return die("evidence extension", e ? r : VT_FAIL(VT_ERR_NO_EVIDENCE));
        if (off >= ev.ev_len) {
            fprintf(stderr, "vt_forge: OFFSET %llu is past the %zu evidence bytes\n", off, ev.ev_len);
            return cleanup(2);
        }
        if ((r = vti_buf_append(&g_flipped, ev.ev, ev.ev_len)).err)
            return die("memory", r);
        g_flipped.p[off] ^= 0x01;
        if ((r = vti_ratls_ext_build(ev.tag, g_flipped.p, g_flipped.len, ev.claims, ev.claims_len, &g_ext)).err ||
            (r = rebuild(&g_ci, &g_key, &g_ext, &g_out)).err)
            return die("rebuild", r);
        if ((r = write_pem(argv[5], "CERTIFICATE", &g_out, 0644)).err)
            return die("write", r);
    } else {
        fprintf(stderr, "usage: vt_forge swap-key CERT_IN NEWKEY_OUT CERT_OUT\n"
                        "       vt_forge flip-evidence CERT KEY OFFSET CERT_OUT\n");
        return cleanup(2);
    }
    return cleanup(0);
}
