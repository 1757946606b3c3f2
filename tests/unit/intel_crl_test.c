/* SPDX-License-Identifier: Apache-2.0 */
/*
 * intel_crl_test.c - regression: a DER CRL whose last byte happens to look like white space or
 * NUL (its ECDSA signature is random) is still read as DER, whole. It used to be trimmed
 * first and then refused (VT_ERR_INTEL_CRL_PARSE), in about 1 of 13 sim quotes.
 */
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "endorsements/intel_collateral.h"
#include "vt_test.h"

/* A fresh CRL signed by a fresh P-256 key, as DER. */
static int make_crl(unsigned char **der)
{
    EVP_PKEY *k = EVP_EC_gen("P-256");
    X509_CRL *crl = X509_CRL_new();
    X509_NAME *n = X509_NAME_new();
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"Test CA", -1, -1, 0);
    X509_CRL_set_version(crl, 1);
    X509_CRL_set_issuer_name(crl, n);
    ASN1_TIME *t = ASN1_TIME_set(NULL, 1750000000);
    X509_CRL_set1_lastUpdate(crl, t);
    ASN1_TIME_set(t, 1760000000);
    X509_CRL_set1_nextUpdate(crl, t);
    X509_CRL_sign(crl, k, EVP_sha256());
    int len = i2d_X509_CRL(crl, der);
    ASN1_TIME_free(t);
    X509_NAME_free(n);
    X509_CRL_free(crl);
    EVP_PKEY_free(k);
    return len;
}

int main(void)
{
    int tested = 0;
    for (int i = 0; i < 5000 && tested < 3; i++) {
        unsigned char *der = NULL;
        int len = make_crl(&der);
        CHECK(len > 0);
        unsigned char last = der[len - 1];
        if (last == 0 || last == ' ' || last == '\n' || last == '\r' || last == '\t') {
            struct vt_intel_collateral c = { 0 };
            bool rec = false;
            CHECK_OK(vti_intel_collateral_add_piece(&c, der, (size_t)len, false, &rec));
            CHECK(rec);
            CHECK(c.n_crls == 1 && c.crls[0].len == (size_t)len);
            vti_intel_collateral_free(&c);
            tested++;
        }
        OPENSSL_free(der);
    }
    CHECK(tested == 3);
    return vt_test_done();
}
